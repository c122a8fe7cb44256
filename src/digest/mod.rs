//! The ranked digest of one mailing, built once and rendered per front end.
//!
//! [`build`] is pure: it takes a mailing's papers and their latest signals and returns a
//! [`Digest`]. Renderers turn it into Markdown (the blog format of the seed post), plain text
//! or JSON; the Discord front end renders the same model into embeds.

pub mod json;
pub mod markdown;
pub mod text;

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::paper::{AnnounceType, Paper};
use crate::ranking::{RankingRule, Score};
use crate::store::{MailingPaper, PaperSignals, Signal};

/// Output formats of the `digest` command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Markdown,
    Text,
    Json,
}

/// What a source contributed to this digest, so readers know when one is missing.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SourceStatus {
    /// Source name (`x`, `bluesky`, `hn`, `hf`).
    pub name: String,
    /// `None` when the source delivered; otherwise why its data is missing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missing: Option<String>,
}

/// One ranked paper.
#[derive(Clone, Debug, PartialEq)]
pub struct DigestEntry {
    /// 1-based rank.
    pub rank: usize,
    pub paper: Paper,
    pub announce_type: AnnounceType,
    /// Total score and, per source, what it contributed (why the paper ranks where it does).
    pub score: Score,
    /// Latest value of each `source.metric`.
    pub signals: BTreeMap<String, f64>,
    /// When each source's values were measured (the latest observation of that source).
    pub measured_at: BTreeMap<String, DateTime<Utc>>,
    /// A short summary, when one exists.
    pub summary: Option<String>,
}

/// The ranked digest of one mailing.
#[derive(Clone, Debug, PartialEq)]
pub struct Digest {
    /// The mailing's listing date.
    pub date: NaiveDate,
    pub generated_at: DateTime<Utc>,
    /// Category filters applied, as typed canonical names (empty: all categories).
    pub categories: Vec<String>,
    /// Papers in the mailing that passed the filters (before `top`).
    pub candidates: usize,
    pub entries: Vec<DigestEntry>,
    pub sources: Vec<SourceStatus>,
}

/// Inputs of [`build`] besides the papers.
#[derive(Clone, Debug)]
pub struct BuildOptions<'a> {
    pub date: NaiveDate,
    pub generated_at: DateTime<Utc>,
    /// How many papers to keep (0 keeps all).
    pub top: usize,
    pub categories: Vec<String>,
    pub rule: &'a RankingRule,
    pub sources: Vec<SourceStatus>,
    /// Include cross-listed papers (announce type `cross`).
    pub include_cross_lists: bool,
}

/// Ranks the new papers of a mailing that pass `keep`, using their latest `signals`.
pub fn build(
    papers: Vec<MailingPaper>,
    signals: &[Signal],
    keep: impl Fn(&Paper) -> bool,
    opts: BuildOptions<'_>,
) -> Digest {
    let mut by_paper = PaperSignals::group(signals);

    let mut scored: Vec<DigestEntry> = papers
        .into_iter()
        .filter(|mp| {
            mp.announce_type == AnnounceType::New
                || (opts.include_cross_lists && mp.announce_type == AnnounceType::Cross)
        })
        .filter(|mp| keep(&mp.paper))
        .map(|mp| {
            let PaperSignals {
                values,
                measured_at,
            } = by_paper.remove(mp.paper.id.key()).unwrap_or_default();
            let score = opts.rule.score(&values);
            DigestEntry {
                rank: 0,
                paper: mp.paper,
                announce_type: mp.announce_type,
                score,
                signals: values,
                measured_at,
                summary: None,
            }
        })
        .collect();
    let candidates = scored.len();
    scored.sort_by(|a, b| {
        opts.rule
            .compare((&a.paper.id, &a.score), (&b.paper.id, &b.score))
    });
    if opts.top > 0 {
        scored.truncate(opts.top);
    }
    for (i, e) in scored.iter_mut().enumerate() {
        e.rank = i + 1;
    }
    Digest {
        date: opts.date,
        generated_at: opts.generated_at,
        categories: opts.categories,
        candidates,
        entries: scored,
        sources: opts.sources,
    }
}

impl Format {
    /// Renders a digest in this format.
    pub fn render(self, digest: &Digest) -> String {
        match self {
            Format::Markdown => markdown::render(digest),
            Format::Text => text::render(digest),
            Format::Json => json::render(digest),
        }
    }
}
