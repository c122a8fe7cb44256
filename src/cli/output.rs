//! Plain-text and JSON renderings of command results for the terminal.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use hotpapers::app::{CollectReport, ImportReport, IngestReport, PaperCard};
use hotpapers::digest::markdown::number;
use hotpapers::digest::text::one_line;
use serde::Serialize;

/// Wraps text at `width` columns with an indent.
fn wrap(text: &str, width: usize, indent: &str) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            let _ = writeln!(out, "{indent}{line}");
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        let _ = writeln!(out, "{indent}{line}");
    }
    out
}

fn when(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// The paper card as text.
pub fn paper_text(card: &PaperCard) -> String {
    let p = &card.paper;
    let mut out = String::new();
    let _ = writeln!(out, "{}v{}  {}", p.id, p.version, one_line(&p.title));
    let authors: Vec<String> = p
        .authors
        .iter()
        .map(|a| {
            if a.affiliations.is_empty() {
                one_line(&a.name)
            } else {
                format!(
                    "{} ({})",
                    one_line(&a.name),
                    one_line(&a.affiliations.join("; "))
                )
            }
        })
        .collect();
    let _ = writeln!(out, "Authors:    {}", authors.join(", "));
    let others: Vec<&str> = p
        .categories
        .iter()
        .map(String::as_str)
        .filter(|c| *c != p.primary_category)
        .collect();
    let cats = if others.is_empty() {
        format!("{} (primary)", p.primary_category)
    } else {
        format!("{} (primary), {}", p.primary_category, others.join(", "))
    };
    let _ = writeln!(out, "Categories: {cats}");
    let versions: Vec<String> = card.versions.iter().map(|v| format!("v{v}")).collect();
    let _ = writeln!(
        out,
        "Submitted:  {} (v1); this version {}; versions seen: {}",
        when(&p.published),
        when(&p.updated),
        if versions.is_empty() {
            format!("v{}", p.version)
        } else {
            versions.join(", ")
        }
    );
    if let Some(c) = &p.comment {
        let _ = writeln!(out, "Comment:    {}", one_line(c));
    }
    if let Some(j) = &p.journal_ref {
        let _ = writeln!(out, "Journal:    {}", one_line(j));
    }
    if let Some(d) = &p.doi {
        let _ = writeln!(out, "DOI:        https://doi.org/{}", one_line(d));
    }
    let _ = writeln!(
        out,
        "Links:      {}  {}  {}",
        p.abs_url(),
        p.pdf_url(),
        p.html_url()
    );
    if card.signals.is_empty() {
        let _ = writeln!(out, "Attention:  none measured yet");
    } else {
        let _ = writeln!(out, "Attention:  score {:.2}", card.score.total);
        let mut by_source: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for (k, v) in &card.signals {
            if let Some((s, m)) = k.split_once('.') {
                by_source
                    .entry(s)
                    .or_default()
                    .push(format!("{m} {}", number(*v)));
            }
        }
        for (s, metrics) in by_source {
            let measured = card
                .measured_at
                .get(s)
                .map(|t| format!(" (measured {})", when(t)))
                .unwrap_or_default();
            let _ = writeln!(out, "  {s}: {}{measured}", metrics.join(", "));
        }
    }
    for m in &card.missing {
        if let Some(why) = &m.missing {
            let _ = writeln!(out, "  ({} unavailable: {})", m.name, one_line(why));
        }
    }
    let _ = writeln!(out, "Abstract:");
    out.push_str(&wrap(&one_line(&p.abstract_text), 96, "  "));
    out
}

#[derive(Serialize)]
struct JsonCard<'a> {
    #[serde(flatten)]
    paper: &'a hotpapers::paper::Paper,
    versions: &'a [u32],
    score: f64,
    signals: &'a BTreeMap<String, f64>,
    measured_at: &'a BTreeMap<String, DateTime<Utc>>,
    links: BTreeMap<&'static str, String>,
}

/// The paper card as JSON (the stored paper fields plus versions, signals and links).
pub fn paper_json(card: &PaperCard) -> String {
    let p = &card.paper;
    let links = BTreeMap::from([
        ("abs", p.abs_url()),
        ("pdf", p.pdf_url()),
        ("html", p.html_url()),
    ]);
    let doc = JsonCard {
        paper: p,
        versions: &card.versions,
        score: card.score.total,
        signals: &card.signals,
        measured_at: &card.measured_at,
        links,
    };
    serde_json::to_string_pretty(&doc)
        .unwrap_or_else(|e| format!("{{\"error\":\"cannot serialize paper: {e}\"}}"))
        + "\n"
}

pub fn ingest_report(r: &IngestReport) -> String {
    let mut out = format!(
        "mailing {}: {} papers ({} new, {} cross-listed) from {}; {} newly stored, {} updated",
        r.date,
        r.papers,
        r.new,
        r.cross,
        r.source.as_str(),
        r.inserted,
        r.updated
    );
    for w in &r.warnings {
        let _ = write!(out, "\nwarning: {w}");
    }
    out
}

pub fn collect_report(r: &CollectReport) -> String {
    if r.sources.is_empty() {
        return format!(
            "mailing {}: no attention source is enabled (see [sources.*] in the configuration)",
            r.date
        );
    }
    let mut out = format!("mailing {}:", r.date);
    for s in &r.sources {
        match &s.error {
            None => {
                let _ = write!(
                    out,
                    "\n  {}: {} papers with attention, {} values, {} requests",
                    s.name, s.papers, s.signals, s.requests
                );
            }
            Some(e) => {
                let _ = write!(out, "\n  {}: failed: {e}", s.name);
            }
        }
        for n in &s.notes {
            let _ = write!(out, "\n    note: {n}");
        }
    }
    out
}

pub fn import_report(r: &ImportReport) -> String {
    let dates: Vec<String> = r.mailings.iter().map(ToString::to_string).collect();
    let mut out = format!(
        "imported {} papers from {} file(s); {} newly stored, {} updated; mailings: {}",
        r.papers,
        r.files,
        r.inserted,
        r.updated,
        if dates.is_empty() {
            "none".to_string()
        } else {
            dates.join(", ")
        }
    );
    for w in &r.warnings {
        let _ = write!(out, "\nwarning: {w}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_at_width() {
        let w = wrap("aaa bbb ccc ddd", 7, "> ");
        assert_eq!(w, "> aaa bbb\n> ccc ddd\n");
    }
}
