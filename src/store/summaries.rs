//! What the LLM summary provider keeps: the summaries it was paid for, and how many calls each
//! UTC day has used.
//!
//! A summary is cached per (paper, version, model, prompt version): a new version may change
//! the abstract, and a new model or prompt writes a different summary, so each of those asks
//! again while everything else is answered from the cache for free. Failures are never stored
//! (the caller only stores what passed its checks), so a paper that failed today is asked
//! again tomorrow.
//!
//! The daily counter is what makes `[summaries.llm] daily_budget` hold across restarts and
//! concurrent tasks: [`SummaryStore::try_reserve_llm_call`] checks and counts in one atomic
//! step, so two tasks can never both take the last call.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};

use super::StoreError;
use crate::arxiv::ArxivId;

/// What an LLM summary is cached under.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LlmSummaryKey {
    /// The paper (its version-less key is stored).
    pub paper: ArxivId,
    /// The paper version whose abstract was summarized.
    pub version: u32,
    /// The model that wrote it, as configured.
    pub model: String,
    /// The prompt's version (`crate::summary::llm::PROMPT_VERSION`).
    pub prompt_version: u32,
}

/// A cached LLM summary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CachedSummary {
    /// The checked summary text.
    pub text: String,
    /// When it was stored.
    pub created_at: DateTime<Utc>,
}

/// The LLM summary cache and the daily call counter.
#[async_trait]
pub trait SummaryStore: Send + Sync + std::fmt::Debug {
    /// The summary cached under `key`, or `None` when there is none (any other version, model
    /// or prompt version does not count).
    async fn llm_summary(&self, key: &LlmSummaryKey) -> Result<Option<CachedSummary>, StoreError>;

    /// Caches `text` under `key`, replacing what was there; storing the same text again
    /// changes nothing (not even `created_at`).
    async fn put_llm_summary(
        &self,
        key: &LlmSummaryKey,
        text: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// Counts one LLM call against UTC day `day` if fewer than `budget` were counted, and says
    /// whether it did. Atomic: of any number of concurrent callers, at most `budget` per day
    /// get `true`. A `budget` of 0 never reserves.
    async fn try_reserve_llm_call(&self, day: NaiveDate, budget: u32) -> Result<bool, StoreError>;

    /// How many LLM calls were counted against UTC day `day`; zero when none were.
    async fn llm_calls(&self, day: NaiveDate) -> Result<u32, StoreError>;
}
