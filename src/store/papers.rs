//! Papers: their metadata and every version seen, the text sources publish about them
//! ([`Extra`]), and full-text search over them.
//!
//! One trait because these are the paper's own data, keyed by the version-less id; what a
//! mailing lists and what attention a paper gets are [`super::MailingStore`] and
//! [`super::SignalStore`].

use std::any::Any;

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

    /// The first half of [`PaperStore::upsert_papers`], without the database: validates and
    /// encodes `papers` into the backend's rows on the calling thread. Bulk loaders call it
    /// away from the writer, so that encoding batch n+1 overlaps writing batch n (`import`
    /// prepares on its parser thread). Fails as `upsert_papers` would on a paper that cannot
    /// be stored, before anything is written.
    fn prepare_papers(&self, papers: Vec<Paper>) -> Result<PreparedPapers, StoreError> {
        Ok(PreparedPapers::unencoded(papers))
    }

    /// The second half: [`PaperStore::upsert_papers`] of papers made ready by
    /// [`PaperStore::prepare_papers`] (of this store or another; what this backend cannot use
    /// is encoded again).
    async fn upsert_prepared(&self, batch: PreparedPapers) -> Result<UpsertStats, StoreError> {
        self.upsert_papers(batch.papers()).await
    }

    /// One paper by id (the version, if any, is ignored).
    async fn paper(&self, id: &ArxivId) -> Result<Option<Paper>, StoreError>;

    /// The stored papers among `ids` (any version form), in the order of `ids`; ids not stored
    /// are left out and an id listed twice is given once. One query per few hundred ids, so a
    /// digest loads the papers it shows in one round trip.
    async fn papers(&self, ids: &[ArxivId]) -> Result<Vec<Paper>, StoreError>;

    /// Versions of a paper seen so far, ascending.
    async fn versions(&self, id: &ArxivId) -> Result<Vec<u32>, StoreError>;

    /// Stores text about papers, one value per (paper, source, key). Idempotent: an identical
    /// extra changes nothing, a newer observation replaces the value and its time, and an
    /// observation older than the stored one is ignored (a late, slow sweep cannot roll a
    /// summary back). Papers need not be stored.
    async fn record_extras(&self, extras: &[Extra]) -> Result<(), StoreError>;

    /// Every stored extra of `paper` (the version, if any, is ignored), ordered by source and
    /// key.
    async fn extras(&self, paper: &ArxivId) -> Result<Vec<Extra>, StoreError> {
        self.extras_of(std::slice::from_ref(paper)).await
    }

    /// Every stored extra of each of `papers` (versions ignored, duplicates looked up once),
    /// ordered by paper, source and key: a digest's summaries in one query, not one per entry.
    async fn extras_of(&self, papers: &[ArxivId]) -> Result<Vec<Extra>, StoreError>;

    /// Full-text search over title, abstract and author names (`/search`): the ids of the
    /// best `limit` matches, best first, and how many papers match in all.
    ///
    /// `query` is parsed and checked already ([`SearchQuery::parse`]), so it cannot be a
    /// syntax error here: words, phrases and prefixes match in any field, joined by AND, OR
    /// and NOT; words are stemmed, case and diacritics ignored. `limit == 0` lists nothing
    /// (and still counts). When more than [`SEARCH_RANK_WINDOW`] papers match, the best
    /// are chosen among the most recently stored [`SEARCH_RANK_WINDOW`] of them (the count
    /// stays exact): ranking every match of a word found in every abstract costs a sort of the
    /// whole store, and a reader of such a search wants recent papers anyway.
    async fn search(&self, query: &SearchQuery, limit: usize) -> Result<SearchHits, StoreError>;
}

/// Papers made ready to store by [`PaperStore::prepare_papers`]: the papers, and what the
/// backend encoded them into (opaque here; a backend reads back only its own encoding).
pub struct PreparedPapers {
    papers: Vec<Paper>,
    encoded: Option<Box<dyn Any + Send + Sync>>,
}

impl PreparedPapers {
    /// `papers` with nothing encoded: the backend encodes them when it writes them.
    pub fn unencoded(papers: Vec<Paper>) -> PreparedPapers {
        PreparedPapers {
            papers,
            encoded: None,
        }
    }

    /// `papers` with the backend's encoding of them (a backend uses it only when it is its
    /// own and of these papers, and encodes them again otherwise).
    pub fn encoded(papers: Vec<Paper>, encoded: Box<dyn Any + Send + Sync>) -> PreparedPapers {
        PreparedPapers {
            papers,
            encoded: Some(encoded),
        }
    }

    /// The papers, in the order given.
    pub fn papers(&self) -> &[Paper] {
        &self.papers
    }

    /// The papers and the encoding, if any, for the backend that writes them.
    pub fn into_parts(self) -> (Vec<Paper>, Option<Box<dyn Any + Send + Sync>>) {
        (self.papers, self.encoded)
    }
}

impl std::fmt::Debug for PreparedPapers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreparedPapers")
            .field("papers", &self.papers.len())
            .field("encoded", &self.encoded.is_some())
            .finish()
    }
}

/// How many of the most recently stored matches a search ranks when more match (see
/// [`PaperStore::search`]).
pub const SEARCH_RANK_WINDOW: usize = 5_000;

/// What a search found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SearchHits {
    /// The best matches, best first (at most the limit asked for).
    pub ids: Vec<ArxivId>,
    /// How many papers match in all (at least `ids.len()`).
    pub total: usize,
}
