//! Plain-text and JSON renderings of command results for the terminal. The paper card's text
//! is shared with the console: `hotpapers::console::paper_card`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use hotpapers::app::{CollectReport, ImportReport, IngestReport, PaperCard};
use serde::Serialize;

/// `hotpapers paper --format json`: the fields of a digest's paper objects, with the same
/// names and shapes (authors as a list of names, `links` as an object), plus `versions`.
/// Each key once: the stored `Paper`'s own list of arXiv links is not written (it would be a
/// second `links`).
#[derive(Serialize)]
struct JsonCard<'a> {
    id: String,
    version: u32,
    title: &'a str,
    authors: Vec<&'a str>,
    primary_category: &'a str,
    categories: &'a [String],
    published: DateTime<Utc>,
    updated: DateTime<Utc>,
    #[serde(rename = "abstract")]
    abstract_text: &'a str,
    summary: Option<&'a str>,
    /// Where `summary` came from: `hf`, `semantic_scholar`, `llm` or `extractive`.
    summary_source: Option<&'static str>,
    comment: Option<&'a str>,
    journal_ref: Option<&'a str>,
    doi: Option<&'a str>,
    versions: &'a [u32],
    #[serde(serialize_with = "hotpapers::number::serialize_json")]
    score: f64,
    #[serde(serialize_with = "hotpapers::number::serialize_json_map")]
    signals: &'a BTreeMap<String, f64>,
    measured_at: &'a BTreeMap<String, DateTime<Utc>>,
    contributions: &'a [hotpapers::ranking::Contribution],
    links: BTreeMap<&'static str, String>,
}

/// The paper card as JSON (see [`JsonCard`]).
pub fn paper_json(card: &PaperCard) -> String {
    let p = &card.paper;
    let summary = card.extras.summary.as_ref();
    let doc = JsonCard {
        id: p.id.to_string(),
        version: p.version,
        title: &p.title,
        authors: p.author_names().collect(),
        primary_category: &p.primary_category,
        categories: &p.categories,
        published: p.published,
        updated: p.updated,
        abstract_text: &p.abstract_text,
        summary: summary.map(|s| s.text.as_str()),
        summary_source: summary.map(|s| s.source.name()),
        comment: p.comment.as_deref(),
        journal_ref: p.journal_ref.as_deref(),
        doi: p.doi.as_deref(),
        versions: &card.versions,
        score: card.score.total,
        signals: &card.signals,
        measured_at: &card.measured_at,
        contributions: &card.score.contributions,
        links: hotpapers::digest::json::links(p),
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
