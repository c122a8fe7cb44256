//! What upstream text (arXiv metadata, posts, names, error messages) may carry to a reader.
//!
//! Titles, abstracts, author names and posts come from people we do not control. Some of
//! their characters do nothing visible and are only ever a nuisance or an attack when shown:
//! terminal escape sequences (ESC, BEL, the C1 controls such as U+009B CSI) that recolour or
//! clear a terminal, bidirectional overrides and isolates that make text read backwards
//! ("Trojan source"), and zero-width or invisible format characters that hide text or split a
//! word. Every renderer (Markdown, plain text, embeds, Discord) drops them through this one
//! definition, so they cannot disagree about what is safe.
//!
//! Line breaks are kept by [`clean`] (as `\n`) for renderers whose format keeps them, and
//! turned into spaces by [`clean_line`] for one-line fields.

/// Whether `c` must never reach a reader: a control character other than a line break or tab
/// (C0, DEL, C1), or an invisible format character — zero-width space, non-joiner and joiner,
/// the directional marks and embeddings, overrides and isolates (U+200B–U+200F,
/// U+202A–U+202E, U+2066–U+2069), the word joiner and invisible operators
/// (U+2060–U+206F), the Arabic letter mark (U+061C), the Mongolian vowel separator
/// (U+180E), the byte-order mark (U+FEFF), interlinear annotation controls (U+FFF9–U+FFFB)
/// and tag characters (U+E0000–U+E007F).
pub fn is_hidden(c: char) -> bool {
    (c.is_control() && !is_break(c))
        || matches!(
            c,
            '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{206F}'
                | '\u{061C}'
                | '\u{180E}'
                | '\u{FEFF}'
                | '\u{FFF9}'..='\u{FFFB}'
                | '\u{E0000}'..='\u{E007F}'
        )
}

/// Whether `c` breaks a line or separates like a space: `\n`, `\r`, tab, vertical tab, form
/// feed, NEL (U+0085) and the Unicode line and paragraph separators (U+2028, U+2029).
fn is_break(c: char) -> bool {
    matches!(
        c,
        '\n' | '\r' | '\t' | '\u{0B}' | '\u{0C}' | '\u{85}' | '\u{2028}' | '\u{2029}'
    )
}

/// `s` without hidden characters ([`is_hidden`]), its line breaks kept: every line break
/// (`\r\n`, `\r`, NEL, U+2028, U+2029, vertical tab, form feed) becomes `\n`, a tab a space.
pub fn clean(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                chars.next_if_eq(&'\n');
                out.push('\n');
            }
            '\t' => out.push(' '),
            c if is_break(c) => out.push('\n'),
            c if is_hidden(c) => {}
            c => out.push(c),
        }
    }
    out
}

/// `s` on one line: [`clean`], with every line break and tab as a space.
pub fn clean_line(s: &str) -> String {
    s.chars()
        .filter(|&c| !is_hidden(c))
        .map(|c| if is_break(c) { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_and_bidi_controls_are_dropped() {
        let hostile =
            "a\u{1b}[31mred\u{7}\u{9b}2J\u{202e}evil\u{2066}x\u{2069}\u{200b}y\u{feff}z\u{e0041}";
        assert_eq!(clean(hostile), "a[31mred2Jevilxyz");
        assert_eq!(clean_line(hostile), "a[31mred2Jevilxyz");
        assert!(!clean(hostile).chars().any(is_hidden));
    }

    #[test]
    fn line_breaks_are_kept_or_flattened() {
        let s = "one\r\ntwo\rthree\u{2028}four\u{85}five\ttab";
        assert_eq!(clean(s), "one\ntwo\nthree\nfour\nfive tab");
        assert_eq!(clean_line(s), "one  two three four five tab");
    }

    #[test]
    fn ordinary_text_is_unchanged() {
        for s in [
            "Schrödinger's cat — 10⁻³, $\\sim 15\\%$",
            "日本語のタイトル",
            "émoji 🚀 and variation selector ❤️",
            "",
        ] {
            assert_eq!(clean(s), s);
            assert_eq!(clean_line(s), s);
        }
    }
}
