//! The rules every summary obeys, whichever provider wrote it: plain text, at most
//! [`MAX_CHARS`] characters of whole sentences, at least a few words, never the title.
//!
//! Upstream summaries (Hugging Face, Semantic Scholar, an LLM) pass through [`tidy`] before
//! they are shown, so a paragraph-long AI summary or one with LaTeX in it is cut and cleaned
//! the same way an extracted sentence is.

use super::{MAX_CHARS, latex, sentences};

/// The fewest words a summary needs (shorter ones are headings or fragments such as
/// "Code is available.").
pub const MIN_WORDS: usize = 4;

/// `text` as a summary of the paper titled `title`: LaTeX turned into text, whitespace
/// collapsed, cut to the whole sentences that fit in [`MAX_CHARS`] (or the first one cut at a
/// clause boundary). `None` when nothing usable is left: empty, too short, or containing the
/// title.
pub fn tidy(text: &str, title: &str) -> Option<String> {
    // Control characters (terminal escapes in upstream text) become spaces.
    let text: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let text = latex::to_text(&text);
    let mut out = String::new();
    for sentence in sentences::split(&text) {
        let joined = if out.is_empty() {
            sentence.to_string()
        } else {
            format!("{out} {sentence}")
        };
        if joined.chars().count() > MAX_CHARS {
            break;
        }
        out = joined;
    }
    if out.is_empty() {
        out = fit(&text, MAX_CHARS);
    }
    let usable = out.split_whitespace().count() >= MIN_WORDS
        && !contains_title(&out, &latex::to_text(title));
    usable.then_some(out)
}

/// Whether `text` repeats `title`, ignoring case, punctuation and spacing. An empty title is
/// never repeated.
pub fn contains_title(text: &str, title: &str) -> bool {
    let title = normalized(title);
    // Whole words: a title "T" is not repeated by "first".
    !title.is_empty() && format!(" {} ", normalized(text)).contains(&format!(" {title} "))
}

/// Lowercase letters and digits only, single-spaced.
fn normalized(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(word.chars().flat_map(char::to_lowercase));
    }
    out
}

/// `s` cut to at most `max` characters: at the last clause boundary (comma, semicolon, colon)
/// in the second half, else at the last space, with an ellipsis.
pub fn fit(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let head: String = s.chars().take(max.saturating_sub(1)).collect();
    let clause = head
        .rfind([',', ';', ':'])
        .filter(|&i| head[..i].chars().count() >= max / 2);
    let cut = clause.or_else(|| head.rfind(' ')).unwrap_or(head.len());
    let mut out = head[..cut].trim_end().to_string();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_whole_sentences_that_fit() {
        let long = format!("First sentence is here. {} Third.", "Word ".repeat(60));
        assert_eq!(tidy(&long, "T").as_deref(), Some("First sentence is here."));
        let two = "We build a thing. It works well on all tests.";
        assert_eq!(tidy(two, "T").as_deref(), Some(two));
    }

    #[test]
    fn cuts_one_long_sentence_at_a_clause() {
        let s = format!(
            "We show that {}, and more words follow here",
            "x ".repeat(150)
        );
        let t = tidy(&s, "T").expect("summary");
        assert!(t.chars().count() <= MAX_CHARS, "{}", t.chars().count());
        assert!(t.ends_with('…'));
    }

    #[test]
    fn refuses_empty_short_and_title_repeats() {
        assert_eq!(tidy("  ", "T"), None);
        assert_eq!(tidy("Too short.", "T"), None);
        assert_eq!(
            tidy(
                "Attention Is All You Need: we show attention suffices.",
                "Attention is all you need"
            ),
            None
        );
        assert!(contains_title(
            "see ATTENTION, is all-you need!",
            "Attention is all you need"
        ));
        assert!(!contains_title("anything", "  "));
    }

    #[test]
    fn cleans_latex() {
        let t = tidy(
            "We reach $\\sim$90\\% accuracy with \\emph{one} model.",
            "T",
        )
        .expect("summary");
        assert!(!t.contains('$') && !t.contains('\\'), "{t}");
    }

    #[test]
    fn fit_prefers_a_clause_boundary() {
        assert_eq!(fit("aaaa bbbb, cccc dddd eeee", 20), "aaaa bbbb, cccc…");
        assert_eq!(fit("short", 20), "short");
    }
}
