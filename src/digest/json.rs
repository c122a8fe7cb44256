//! The stable JSON format of `hotpapers digest --format json`.
//!
//! ```json
//! {"date":"2021-07-02","view":"mailing","generated_at":"2021-07-03T07:45:53Z","categories":[],"candidates":1234,
//!  "sources":[{"name":"x"}],
//!  "papers":[{"rank":1,"id":"2107.00641","version":1,"title":"…","authors":["…"],
//!             "primary_category":"cs.CV","categories":["cs.CV","cs.AI"],"published":"…",
//!             "abstract":"…","summary":null,"score":7.94,"signals":{"x.retweets":2546},
//!             "links":{"abs":"…","pdf":"…","html":"…"}}]}
//! ```
//! Fields are only ever added, never renamed or removed.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::{Digest, SourceStatus};
use crate::ranking::Contribution;

#[derive(Serialize)]
struct JsonDigest<'a> {
    date: NaiveDate,
    #[serde(flatten)]
    view: super::View,
    generated_at: DateTime<Utc>,
    categories: &'a [String],
    candidates: usize,
    sources: &'a [SourceStatus],
    papers: Vec<JsonPaper<'a>>,
}

#[derive(Serialize)]
struct JsonPaper<'a> {
    rank: usize,
    id: String,
    version: u32,
    title: &'a str,
    authors: Vec<&'a str>,
    primary_category: &'a str,
    categories: &'a [String],
    announce_type: &'a str,
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
    score: f64,
    signals: &'a BTreeMap<String, f64>,
    measured_at: &'a BTreeMap<String, DateTime<Utc>>,
    contributions: &'a [Contribution],
    #[serde(skip_serializing_if = "Option::is_none")]
    age_hours: Option<f64>,
    links: BTreeMap<&'static str, String>,
}

/// A paper's `links` object: `abs`, `pdf`, `html` and, with a publisher DOI, `doi`. The same
/// in the digest's papers and in `hotpapers paper --format json`.
pub fn links(p: &crate::arxiv::paper::Paper) -> BTreeMap<&'static str, String> {
    let mut links = BTreeMap::new();
    links.insert("abs", p.abs_url());
    links.insert("pdf", p.pdf_url());
    links.insert("html", p.html_url());
    if let Some(doi) = &p.doi {
        links.insert("doi", format!("https://doi.org/{doi}"));
    }
    links
}

/// Renders the digest as pretty-printed JSON.
pub fn render(d: &Digest) -> String {
    let doc = JsonDigest {
        date: d.date,
        view: d.view,
        generated_at: d.generated_at,
        categories: &d.categories,
        candidates: d.candidates,
        sources: &d.sources,
        papers: d
            .entries
            .iter()
            .map(|e| {
                let p = &e.paper;
                let links = links(p);
                JsonPaper {
                    rank: e.rank,
                    id: p.id.to_string(),
                    version: p.version,
                    title: &p.title,
                    authors: p.author_names().collect(),
                    primary_category: &p.primary_category,
                    categories: &p.categories,
                    announce_type: e.announce_type.as_str(),
                    published: p.published,
                    updated: p.updated,
                    abstract_text: &p.abstract_text,
                    summary: e.summary.as_ref().map(|s| s.text.as_str()),
                    summary_source: e.summary.as_ref().map(|s| s.source.name()),
                    comment: p.comment.as_deref(),
                    journal_ref: p.journal_ref.as_deref(),
                    doi: p.doi.as_deref(),
                    score: e.score.total,
                    signals: &e.signals,
                    measured_at: &e.measured_at,
                    contributions: &e.score.contributions,
                    age_hours: e.age_hours,
                    links,
                }
            })
            .collect(),
    };
    // Serializing plain structs of strings and finite numbers cannot fail; fall back to an
    // error object rather than panicking if it ever does.
    serde_json::to_string_pretty(&doc)
        .unwrap_or_else(|e| format!("{{\"error\":\"cannot serialize digest: {e}\"}}"))
        + "\n"
}
