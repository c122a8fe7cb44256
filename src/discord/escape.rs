//! Making upstream text (titles, author names, summaries) inert in Discord messages.
//!
//! arXiv titles and abstracts contain `*`, `_`, backticks, LaTeX and occasionally `@everyone`;
//! rendered raw they would turn into formatting, broken code blocks or pings. [`escape`] makes
//! every character show as itself, and [`truncate_chars`] shortens escaped text without
//! splitting an escape (a lone trailing `\` would escape whatever follows it).

/// Characters Discord's Markdown gives a meaning to anywhere in a line; each is shown
/// literally when prefixed with a backslash. `[` and `]` cover masked links (`[text](url)`
/// needs both brackets), so the common parentheses of titles stay unescaped; `<` covers
/// `<#channel>`, `<t:…>` and custom emoji syntax.
const MARKDOWN: &[char] = &['\\', '*', '_', '~', '`', '|', '[', ']', '<'];

/// Characters that start a block (heading, quote, list, `-#` subtext) only at the start of a
/// line. [`escape`] output is always one line, so only its first character can be there:
/// `astro-ph.IM` and `O(n) -> O(1)` keep their hyphens and `>` as typed.
const LINE_START: &[char] = &['>', '#', '-', '+'];

/// Zero-width space: inserted after `@` so that `@everyone`, `@here` and `<@id>` never form
/// a mention, even if a message were sent without `allowed_mentions`.
const ZWSP: char = '\u{200B}';

/// Escapes Discord Markdown, defuses mentions and strips hidden characters
/// ([`crate::sanitize::is_hidden`]: terminal controls, bidirectional overrides, zero-width
/// characters).
///
/// Line breaks and tabs become spaces, so one upstream field stays on one line of the rendered
/// message.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    // Until the first visible non-space character: where block Markdown could start.
    let mut at_start = true;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if crate::sanitize::is_hidden(c) {
            continue;
        }
        if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') {
            out.push(' ');
            continue;
        }
        if MARKDOWN.contains(&c) || (at_start && LINE_START.contains(&c)) {
            out.push('\\');
            out.push(c);
        } else if c == '@' {
            out.push('@');
            out.push(ZWSP);
        } else if at_start && c.is_ascii_digit() {
            // "2021. A year of …" would start a numbered list: escape the dot after the digits.
            out.push(c);
            while let Some(d) = chars.next_if(char::is_ascii_digit) {
                out.push(d);
            }
            if chars.next_if_eq(&'.').is_some() {
                out.push_str("\\.");
            }
        } else {
            out.push(c);
        }
        if !c.is_whitespace() {
            at_start = false;
        }
    }
    out
}

/// Shortens `s` to at most `max` characters (Discord counts characters, not bytes), ending
/// with `…` when something was cut. Never splits a `\x` escape or an `@`+zero-width pair
/// produced by [`escape`], so truncated text stays inert.
pub fn truncate_chars(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let budget = max - 1; // room for the ellipsis
    let mut out = String::new();
    let mut used = 0;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        // An escape or a defused mention is one unit of two characters.
        let pair = match c {
            '\\' | '@' => chars.peek().copied().filter(|n| c == '\\' || *n == ZWSP),
            _ => None,
        };
        let width = if pair.is_some() { 2 } else { 1 };
        if used + width > budget {
            break;
        }
        out.push(c);
        if let Some(n) = pair {
            out.push(n);
            chars.next();
        }
        used += width;
    }
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn markdown_is_escaped() {
        assert_eq!(escape("*bold* _it_ `c`"), r"\*bold\* \_it\_ \`c\`");
        assert_eq!(
            escape("a|b>c#d-e[f](g)~h\\<#1>"),
            r"a\|b>c#d-e\[f\](g)\~h\\\<#1>"
        );
        assert_eq!(escape("$O(n^2)$"), "$O(n^2)$");
        assert_eq!(escape("astro-ph.IM"), "astro-ph.IM");
    }

    #[test]
    fn block_markdown_is_escaped_only_where_a_line_starts() {
        assert_eq!(escape("# Title"), r"\# Title");
        assert_eq!(escape("  > quote"), r"  \> quote");
        assert_eq!(escape("-# small"), r"\-# small");
        assert_eq!(escape("- item"), r"\- item");
        assert_eq!(escape("+ item"), r"\+ item");
        assert_eq!(escape("2021. A year"), r"2021\. A year");
        assert_eq!(escape("3.14 is pi"), r"3\.14 is pi");
        assert_eq!(escape("x - y > z # 1. 2."), "x - y > z # 1. 2.");
    }

    #[test]
    fn mentions_are_defused() {
        let e = escape("hi @everyone and @here <@123456>");
        assert!(!e.contains("@everyone"));
        assert!(!e.contains("@here"));
        assert!(!e.contains("<@1"));
        assert!(e.contains("@\u{200B}everyone"));
    }

    #[test]
    fn invisible_and_control_characters_are_removed() {
        assert_eq!(escape("a\u{202E}b\u{200B}c\u{FEFF}"), "abc");
        assert_eq!(escape("line\nbreak\ttab"), "line break tab");
    }

    #[test]
    fn truncation_counts_chars_and_keeps_escapes_whole() {
        assert_eq!(truncate_chars("héllo", 5), "héllo");
        assert_eq!(truncate_chars("héllo wörld", 5), "héll…");
        // "ab\*" cut at 4: the pair "\*" does not fit with the ellipsis, so it is dropped whole.
        assert_eq!(truncate_chars(r"ab\*cd", 4), "ab…");
        assert_eq!(truncate_chars("abc", 0), "");
        assert_eq!(truncate_chars("abc", 1), "…");
    }

    /// Whether escaped text ends in an odd run of backslashes (an escape cut in half).
    fn dangling_backslash(s: &str) -> bool {
        let trimmed = s.trim_end_matches('…');
        trimmed.chars().rev().take_while(|c| *c == '\\').count() % 2 == 1
    }

    proptest! {
        #[test]
        fn escaped_text_has_no_live_markdown_or_mentions(s in "\\PC{0,200}") {
            let e = escape(&s);
            prop_assert!(!e.contains("@everyone") && !e.contains("@here"));
            prop_assert!(!e.chars().any(is_invisible_but_zwsp));
            // Every inline Markdown character is preceded by an escaping backslash, and so is
            // a block marker at the start.
            let cs: Vec<char> = e.chars().collect();
            let mut i = 0;
            while i < cs.len() {
                if cs[i] == '\\' {
                    prop_assert!(
                        i + 1 < cs.len()
                            && (MARKDOWN.contains(&cs[i + 1])
                                || LINE_START.contains(&cs[i + 1])
                                || cs[i + 1] == '.')
                    );
                    i += 2;
                } else {
                    prop_assert!(!MARKDOWN.contains(&cs[i]), "bare {:?} in {:?}", cs[i], e);
                    i += 1;
                }
            }
            let first = e.trim_start().chars().next();
            prop_assert!(first.is_none_or(|c| !LINE_START.contains(&c)), "{:?}", e);
        }

        #[test]
        fn truncation_respects_limit_and_escapes(s in "[a-c*_@\\\\ é]{0,80}", n in 0usize..60) {
            let t = truncate_chars(&escape(&s), n);
            prop_assert!(t.chars().count() <= n);
            prop_assert!(!dangling_backslash(&t), "{:?}", t);
            prop_assert!(!t.contains("@everyone"));
        }

        #[test]
        fn truncation_is_identity_when_it_fits(s in "\\PC{0,50}") {
            let e = escape(&s);
            prop_assert_eq!(truncate_chars(&e, e.chars().count()), e);
        }
    }

    fn is_invisible_but_zwsp(c: char) -> bool {
        c != ZWSP && crate::sanitize::is_hidden(c)
    }
}
