//! Papers: their metadata and every version seen, the text sources publish about them
//! ([`Extra`]), and full-text search over them.
//!
//! One trait because these are the paper's own data, keyed by the version-less id; what a
//! mailing lists and what attention a paper gets are [`super::MailingStore`] and
//! [`super::SignalStore`].

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{SearchQuery, StoreError};
use crate::arxiv::ArxivId;
use crate::arxiv::paper::Paper;

/// A piece of text a source publishes about a paper: Hugging Face's AI summary and keywords,
/// its code and project links, Semantic Scholar's TL;DR.
///
/// Kept apart from [`Signal`](super::Signal) because it is text, not a number to rank by: the Summaries issue
/// shows it next to a paper, and only the latest value per (paper, source, key) matters, so it
/// is stored by upsert instead of as a time series.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extra {
    /// Version-less paper id.
    pub paper: ArxivId,
    /// Source name as in the config, e.g. `hf`, `s2`.
    pub source: String,
    /// What the text is, within the source, e.g. `ai_summary`, `tldr`, `github_repo`.
    pub key: String,
    /// The text itself (lists are JSON arrays, see the source's docs).
    pub value: String,
    /// When the source was asked.
    pub observed_at: DateTime<Utc>,
}

/// What an upsert changed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UpsertStats {
    /// Papers not seen before.
    pub inserted: usize,
    /// Papers whose stored metadata changed (e.g. a newer version).
    pub updated: usize,
    /// Papers already stored exactly as given.
    pub unchanged: usize,
}

/// Papers, their versions and extras, and search over them. Every write is idempotent.
#[async_trait]
pub trait PaperStore: Send + Sync + std::fmt::Debug {
    /// Inserts papers or updates their metadata. A paper is only updated when the incoming
    /// data differs; an older version never overwrites a newer one. Every version seen is
    /// remembered.
    async fn upsert_papers(&self, papers: &[Paper]) -> Result<UpsertStats, StoreError>;

    /// One paper by id (the version, if any, is ignored).
    async fn paper(&self, id: &ArxivId) -> Result<Option<Paper>, StoreError>;

    /// Versions of a paper seen so far, ascending.
    async fn versions(&self, id: &ArxivId) -> Result<Vec<u32>, StoreError>;

    /// Stores text about papers, one value per (paper, source, key). Idempotent: an identical
    /// extra changes nothing, a newer observation replaces the value and its time, and an
    /// observation older than the stored one is ignored (a late, slow sweep cannot roll a
    /// summary back). Papers need not be stored.
    async fn record_extras(&self, extras: &[Extra]) -> Result<(), StoreError>;

    /// Every stored extra of `paper` (the version, if any, is ignored), ordered by source and
    /// key.
    async fn extras(&self, paper: &ArxivId) -> Result<Vec<Extra>, StoreError>;

    /// Full-text search over title, abstract and author names (`/search`): the ids of the
    /// best `limit` matches, best first, and how many papers match in all.
    ///
    /// `query` is parsed and checked already ([`SearchQuery::parse`]), so it cannot be a
    /// syntax error here: words, phrases and prefixes match in any field, joined by AND, OR
    /// and NOT; words are stemmed, case and diacritics ignored. `limit == 0` lists nothing
    /// (and still counts).
    async fn search(&self, query: &SearchQuery, limit: usize) -> Result<SearchHits, StoreError>;
}

/// What a search found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SearchHits {
    /// The best matches, best first (at most the limit asked for).
    pub ids: Vec<ArxivId>,
    /// How many papers match in all (at least `ids.len()`).
    pub total: usize,
}
