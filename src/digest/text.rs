//! Plain-text rendering for terminals and pipes.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};

use super::Digest;
use crate::attention::SourceAttention;
use crate::store::Mention;

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
    let _ = writeln!(out, "{}{filter}: {}", d.title(), d.shown_of());
    for note in d
        .sources
        .iter()
        .filter_map(super::SourceStatus::public_note)
    {
        let _ = writeln!(out, "  ({note})");
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
        for a in e.attention() {
            let _ = writeln!(out, "     {}", attention_line(&a));
        }
        if let Some(m) = e.mentions.first() {
            let _ = writeln!(out, "     {}", shared_by(m));
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

/// One source's attention in words, with its growth and when it was measured:
/// "2,546 reposts · 259 likes on X · ▲ 340 in 24 h · measured 2021-07-02 12:00 UTC".
pub fn attention_line(a: &SourceAttention) -> String {
    let mut line = one_line(&a.describe_with_growth());
    if let Some(t) = a.measured_at {
        line.push_str(" · measured ");
        line.push_str(&utc(t));
    }
    line
}

/// "shared by @ak92501 <https://twitter.com/ak92501/status/…>", or "shared on Hacker News
/// <…>" for a post without a handle. The URL is left out unless it is a plain web link.
pub fn shared_by(m: &Mention) -> String {
    let who = match m.author_handle.as_deref().filter(|h| !h.trim().is_empty()) {
        Some(h) => format!("shared by @{}", one_line(h.trim_start_matches('@'))),
        None => format!("shared on {}", crate::attention::label(&m.source)),
    };
    let web = url::Url::parse(&m.url).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
        && !m.url.chars().any(|c| c.is_whitespace() || c.is_control());
    if web {
        format!("{who} <{}>", m.url)
    } else {
        who
    }
}

/// A time in UTC, ISO order (never `MM/DD/YYYY`): "2021-07-02 12:00 UTC".
pub fn utc(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// Upstream text on one line: hidden characters (terminal escape sequences, C1 controls,
/// bidirectional overrides, zero-width characters) dropped and line breaks made spaces
/// ([`crate::sanitize::clean_line`]).
pub fn one_line(s: &str) -> String {
    crate::sanitize::clean_line(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_cannot_reach_the_terminal() {
        assert_eq!(one_line("evil\u{1b}[2Jtitle\nnext"), "evil[2Jtitle next");
        assert_eq!(one_line("a\u{9b}b\u{202e}c\u{7}d"), "abcd");
    }
}
