//! Plain-text and JSON renderings of command results for the terminal. The paper card's text
//! is shared with the console: `hotpapers::console::paper_card`.

use std::fmt::Write as _;

use hotpapers::app::{CollectReport, ImportReport, IngestReport, PaperCard};
use hotpapers::digest::json::JsonPaperFields;
use serde::Serialize;

/// `hotpapers paper --format json`: a digest's paper object (the same fields, names and
/// shapes) plus `versions`. Each key once: the stored `Paper`'s own list of arXiv links is not
/// written (it would be a second `links`).
#[derive(Serialize)]
struct JsonCard<'a> {
    #[serde(flatten)]
    paper: JsonPaperFields<'a>,
    versions: &'a [u32],
}

/// The paper card as JSON (see [`JsonCard`]).
pub fn paper_json(card: &PaperCard) -> String {
    let doc = JsonCard {
        paper: JsonPaperFields::new(
            &card.paper,
            card.extras.summary.as_ref(),
            &card.score,
            &card.signals,
            &card.measured_at,
        ),
        versions: &card.versions,
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

/// "1 paper", "6 papers": every count the CLI reports.
pub fn plural(n: usize, noun: &str) -> String {
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
        plural(r.papers, "paper"),
        plural(r.files, "file"),
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
