//! Plain-text rendering for terminals and pipes.

use std::fmt::Write as _;

use super::Digest;
use super::markdown::number;

/// How many authors to name before "et al.".
const MAX_AUTHORS: usize = 6;

/// Renders the digest as readable plain text.
pub fn render(d: &Digest) -> String {
    let mut out = String::new();
    let filter = if d.categories.is_empty() {
        String::new()
    } else {
        format!(" in {}", d.categories.join(", "))
    };
    let heading = match d.view {
        super::View::Mailing => format!(
            "Hot papers of the arXiv mailing of {}",
            d.date.format("%a %Y-%m-%d")
        ),
        super::View::Trending { days } => format!(
            "Trending arXiv papers of the {days} days up to {}",
            d.date.format("%a %Y-%m-%d")
        ),
    };
    let _ = writeln!(
        out,
        "{heading}{filter}: top {} of {}",
        d.entries.len(),
        d.candidates
    );
    for s in &d.sources {
        if let Some(why) = &s.missing {
            let _ = writeln!(out, "  (no {} data: {why})", s.name);
        }
    }
    for e in &d.entries {
        let p = &e.paper;
        let _ = writeln!(out);
        let _ = writeln!(out, "{:>3}. {}", e.rank, one_line(&p.title));
        let mut authors: Vec<&str> = p.author_names().take(MAX_AUTHORS).collect();
        if p.authors.len() > MAX_AUTHORS {
            authors.push("et al.");
        }
        let _ = writeln!(out, "     {}", one_line(&authors.join(", ")));
        let _ = writeln!(
            out,
            "     {}  [{}]  score {:.2}",
            p.id.abs_url(),
            p.categories.join(", "),
            e.score.total
        );
        if !e.signals.is_empty() {
            let parts: Vec<String> = e
                .signals
                .iter()
                .map(|(k, v)| format!("{k} {}", number(*v)))
                .collect();
            let _ = writeln!(out, "     {}", parts.join(", "));
        }
        if let Some(s) = &e.summary {
            let _ = writeln!(out, "     TL;DR: {}", one_line(&s.text));
        }
    }
    if d.entries.is_empty() {
        let _ = writeln!(out, "\nNo papers in this mailing matched.");
    }
    out
}

/// Strips control characters (terminal escape sequences from upstream text) and line breaks.
pub fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_cannot_reach_the_terminal() {
        assert_eq!(one_line("evil\u{1b}[2Jtitle\nnext"), "evil [2Jtitle next");
    }
}
