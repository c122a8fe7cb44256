//! Plain-text and JSON renderings of command results for the terminal. The paper card's text
//! is shared with the console: `hotpapers::console::paper_card`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use hotpapers::app::{CollectReport, ImportReport, IngestReport, PaperCard};
use serde::Serialize;

#[derive(Serialize)]
struct JsonCard<'a> {
    #[serde(flatten)]
    paper: &'a hotpapers::arxiv::paper::Paper,
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

/// "1 paper", "6 papers".
fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

pub fn import_report(r: &ImportReport) -> String {
    let dates: Vec<String> = r.mailings.iter().map(ToString::to_string).collect();
    let mut out = format!(
        "imported {} from {}; {} newly stored, {} updated; mailings: {}",
        count(r.papers, "paper"),
        count(r.files, "file"),
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
