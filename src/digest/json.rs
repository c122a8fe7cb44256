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
//! Fields are only ever added, never renamed or removed. Integral numbers (counts) are written
//! as integers, never `259.0` ([`crate::number::JsonNumber`]).

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::{Digest, SourceStatus};
use crate::arxiv::paper::Paper;
use crate::ranking::{Contribution, Score};
use crate::summary::Summary;

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
    #[serde(flatten)]
    paper: JsonPaperFields<'a>,
    announce_type: &'a str,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::number::serialize_json_option"
    )]
    age_hours: Option<f64>,
}

/// The fields of a paper object in every JSON output: the digest's papers and `hotpapers
/// paper --format json` (which adds `versions`) write them through this one struct, so the
/// two keep the same names and shapes: authors as a list of names, `links` as an object.
#[derive(Serialize)]
pub struct JsonPaperFields<'a> {
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
    #[serde(serialize_with = "crate::number::serialize_json")]
    score: f64,
    #[serde(serialize_with = "crate::number::serialize_json_map")]
    signals: &'a BTreeMap<String, f64>,
    measured_at: &'a BTreeMap<String, DateTime<Utc>>,
    contributions: &'a [Contribution],
    links: BTreeMap<&'static str, String>,
}

impl<'a> JsonPaperFields<'a> {
    /// The fields of `paper` with its summary and its attention as ranked.
    pub fn new(
        paper: &'a Paper,
        summary: Option<&'a Summary>,
        score: &'a Score,
        signals: &'a BTreeMap<String, f64>,
        measured_at: &'a BTreeMap<String, DateTime<Utc>>,
    ) -> JsonPaperFields<'a> {
        JsonPaperFields {
            id: paper.id.to_string(),
            version: paper.version,
            title: &paper.title,
            authors: paper.author_names().collect(),
            primary_category: &paper.primary_category,
            categories: &paper.categories,
            published: paper.published,
            updated: paper.updated,
            abstract_text: &paper.abstract_text,
            summary: summary.map(|s| s.text.as_str()),
            summary_source: summary.map(|s| s.source.name()),
            comment: paper.comment.as_deref(),
            journal_ref: paper.journal_ref.as_deref(),
            doi: paper.doi.as_deref(),
            score: score.total,
            signals,
            measured_at,
            contributions: &score.contributions,
            links: links(paper),
        }
    }
}

/// A paper's `links` object: `abs`, `pdf`, `html` and, with a publisher DOI, `doi`. The same
/// in the digest's papers and in `hotpapers paper --format json`.
pub fn links(p: &Paper) -> BTreeMap<&'static str, String> {
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
            .map(|e| JsonPaper {
                rank: e.rank,
                paper: JsonPaperFields::new(
                    &e.paper,
                    e.summary.as_ref(),
                    &e.score,
                    &e.signals,
                    &e.measured_at,
                ),
                announce_type: e.announce_type.as_str(),
                age_hours: e.age_hours,
            })
            .collect(),
    };
    // Serializing plain structs of strings and finite numbers cannot fail; fall back to an
    // error object rather than panicking if it ever does.
    serde_json::to_string_pretty(&doc)
        .unwrap_or_else(|e| format!("{{\"error\":\"cannot serialize digest: {e}\"}}"))
        + "\n"
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::arxiv::paper::{AnnounceType, Author, Paper};
    use crate::digest::{DigestEntry, View};
    use crate::ranking::Score;

    #[test]
    fn counts_are_integers_and_authors_names() {
        let t = Utc.with_ymd_and_hms(2021, 7, 1, 17, 59, 59).unwrap();
        let entry = DigestEntry {
            rank: 1,
            paper: Paper {
                title: "Focal Self-attention".into(),
                abstract_text: "A.".into(),
                authors: vec![Author {
                    name: "Jianwei Yang".into(),
                    affiliations: vec!["Microsoft".into()],
                }],
                published: t,
                updated: t,
                ..Paper::sample("2107.00641", &["cs.CV"])
            },
            announce_type: AnnounceType::New,
            score: Score {
                total: 7.94,
                contributions: vec![Contribution {
                    source: "x".into(),
                    engagement: 2805.0,
                    points: 7.94,
                }],
            },
            signals: [("x.retweets".into(), 2546.0), ("x.likes".into(), 259.0)]
                .into_iter()
                .collect(),
            measured_at: BTreeMap::new(),
            summary: None,
            age_hours: Some(36.0),
            mentions: vec![],
            growth: BTreeMap::new(),
        };
        let d = Digest {
            date: NaiveDate::from_ymd_opt(2021, 7, 2).unwrap(),
            view: View::Trending { days: 7 },
            generated_at: t,
            categories: vec![],
            candidates: 1,
            entries: vec![entry],
            sources: vec![],
            embed_posts: 3,
            topics: Default::default(),
        };
        let json = render(&d);
        for want in [
            "\"x.likes\": 259,",
            "\"x.retweets\": 2546\n",
            "\"engagement\": 2805,",
            "\"points\": 7.94",
            "\"score\": 7.94,",
            "\"age_hours\": 36\n",
            "\"authors\": [\n        \"Jianwei Yang\"\n      ],",
        ] {
            assert!(json.contains(want), "{want:?} not in {json}");
        }
        assert!(!json.contains(".0,") && !json.contains(".0\n"), "{json}");
    }
}
