//! Attention sources: where hotpapers measures how much a paper is talked about.
//!
//! Every source answers two questions through [`Source`]:
//! - [`Source::collect`]: one sweep over everything that links arXiv in a time window, grouped
//!   by paper. Its request count grows with pages of results, never with the number of papers.
//! - [`Source::lookup`]: the signals of one paper, for `paper` / `/paper`.
//! - [`Source::lookup_extras`]: text about one paper (an AI summary, a TL;DR, a code link) for
//!   the Summaries issue; most sources have none and keep the default.
//!
//! Links are mapped to papers with [`ArxivId::from_url`], so abs/pdf/html/versioned/alphaXiv/
//! Hugging Face/DOI forms all count for the same paper. A failing source degrades a digest (it
//! is reported as missing); it never aborts it.
//!
//! This module holds the trait and what the implementations share ([`Window`], [`Collection`],
//! [`SourceError`], [`Tally`]); the implementations live in the submodules and import only it.
//! Building the enabled sources from the configuration is the application's job
//! (`app::sources`), so no source depends on the list of all of them.

pub mod bluesky;
pub mod hf;
pub mod hn;
pub mod semantic_scholar;
pub mod x;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::arxiv::ArxivId;
use crate::http::HttpError;
use crate::store::{Extra, Signal};

/// The time span a sweep covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
}

/// What one sweep found.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Collection {
    /// Aggregated per (paper, metric), stamped with the time of measurement.
    pub signals: Vec<Signal>,
    /// Upstream requests made (for budgets and the request-count target).
    pub requests: u32,
    /// Upstream items (posts, stories, tweets) that linked a paper.
    pub mentions: usize,
    /// Non-fatal problems worth showing (a budget cut the sweep short, a page was skipped).
    pub notes: Vec<String>,
    /// Text about papers that came with the sweep (an AI summary, a TL;DR, a code link), stamped
    /// with the same `now` as the signals; stored with [`crate::store::PaperStore::record_extras`].
    /// Sources without text leave it empty.
    pub extras: Vec<Extra>,
}

/// Why a source could not deliver.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error(transparent)]
    Http(#[from] HttpError),
    /// The upstream answered something that is not what its API documents.
    #[error("unexpected {source_name} response: {message}")]
    Malformed {
        source_name: &'static str,
        message: String,
    },
    /// Credentials are required but missing or rejected.
    #[error("{source_name}: {message}")]
    Auth {
        source_name: &'static str,
        message: String,
    },
    /// The source is enabled but could not be set up (missing credentials, bad settings).
    #[error("{message}")]
    Unavailable {
        source_name: &'static str,
        message: String,
    },
    /// The local store failed (sources that keep state: the Bluesky listener's posts, cursors,
    /// request budgets).
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// The configured request budget is used up.
    #[error("{source_name}: daily request budget of {budget} used up")]
    Budget {
        source_name: &'static str,
        budget: u32,
    },
}

/// One attention source.
#[async_trait]
pub trait Source: Send + Sync + fmt::Debug {
    /// Name used in config (`[sources.<name>]`) and signal keys (`<name>.<metric>`).
    fn name(&self) -> &'static str;

    /// Signals for the papers in `papers` from everything posted in `window`.
    /// `now` stamps the snapshots.
    async fn collect(
        &self,
        window: Window,
        papers: &BTreeSet<ArxivId>,
        now: DateTime<Utc>,
    ) -> Result<Collection, SourceError>;

    /// Signals of one paper.
    async fn lookup(&self, paper: &ArxivId, now: DateTime<Utc>)
    -> Result<Vec<Signal>, SourceError>;

    /// Text about one paper (see [`Collection::extras`]), for `paper` / `/paper` and summaries.
    ///
    /// The default has none, so sources without text need no code. Sources whose lookup
    /// answer carries both signals and text (Hugging Face, Semantic Scholar) remember that
    /// answer: calling `lookup` and then `lookup_extras` with the same `paper` and `now` costs
    /// one upstream request, not two.
    async fn lookup_extras(
        &self,
        _paper: &ArxivId,
        _now: DateTime<Utc>,
    ) -> Result<Vec<Extra>, SourceError> {
        Ok(Vec::new())
    }
}

/// Sums metrics per paper and turns them into snapshots: the common tail of every source.
#[derive(Debug, Default)]
pub struct Tally {
    sums: BTreeMap<ArxivId, BTreeMap<&'static str, f64>>,
}

impl Tally {
    /// Adds `value` to `metric` of `paper` (version-less).
    pub fn add(&mut self, paper: &ArxivId, metric: &'static str, value: f64) {
        *self
            .sums
            .entry(paper.versionless())
            .or_default()
            .entry(metric)
            .or_default() += value;
    }

    /// Papers seen so far.
    pub fn len(&self) -> usize {
        self.sums.len()
    }

    /// Whether nothing was counted.
    pub fn is_empty(&self) -> bool {
        self.sums.is_empty()
    }

    /// Snapshots of `source`, restricted to `papers` when it is not empty.
    pub fn into_signals(
        self,
        source: &str,
        papers: &BTreeSet<ArxivId>,
        now: DateTime<Utc>,
    ) -> Vec<Signal> {
        self.sums
            .into_iter()
            .filter(|(id, _)| papers.is_empty() || papers.contains(id))
            .flat_map(|(id, metrics)| {
                metrics.into_iter().map(move |(metric, value)| Signal {
                    paper: id.clone(),
                    source: source.to_string(),
                    metric: metric.to_string(),
                    value,
                    observed_at: now,
                })
            })
            .collect()
    }
}

/// The last lookup answer of a source whose one response yields both signals and extras, keyed
/// by (paper, `now`), so [`Source::lookup`] followed by [`Source::lookup_extras`] for the same
/// measurement makes one request. A later `now` or another paper is a miss: the memo never
/// serves a stale measurement under a new timestamp.
#[derive(Debug, Default)]
pub(crate) struct LookupMemo {
    slot: std::sync::Mutex<Option<MemoEntry>>,
}

#[derive(Debug)]
struct MemoEntry {
    paper: ArxivId,
    now: DateTime<Utc>,
    signals: Vec<Signal>,
    extras: Vec<Extra>,
}

impl LookupMemo {
    /// The remembered answer for exactly this (paper, `now`), if any.
    pub(crate) fn get(
        &self,
        paper: &ArxivId,
        now: DateTime<Utc>,
    ) -> Option<(Vec<Signal>, Vec<Extra>)> {
        let slot = self
            .slot
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        slot.as_ref()
            .filter(|e| e.now == now && e.paper.key() == paper.key())
            .map(|e| (e.signals.clone(), e.extras.clone()))
    }

    /// Remembers one answer, replacing the previous one.
    pub(crate) fn put(
        &self,
        paper: &ArxivId,
        now: DateTime<Utc>,
        signals: &[Signal],
        extras: &[Extra],
    ) {
        let mut slot = self
            .slot
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *slot = Some(MemoEntry {
            paper: paper.versionless(),
            now,
            signals: signals.to_vec(),
            extras: extras.to_vec(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn signal(paper: &ArxivId, now: DateTime<Utc>) -> Signal {
        Signal {
            paper: paper.clone(),
            source: "hf".into(),
            metric: "upvotes".into(),
            value: 3.0,
            observed_at: now,
        }
    }

    #[test]
    fn lookup_memo_serves_only_the_same_paper_and_instant() {
        let memo = LookupMemo::default();
        let t = Utc.with_ymd_and_hms(2026, 3, 6, 12, 0, 0).unwrap();
        let paper = ArxivId::parse("2602.23229").unwrap();
        assert_eq!(memo.get(&paper, t), None);
        memo.put(&paper, t, &[signal(&paper, t)], &[]);
        // Any version of the paper, at the same instant: a hit.
        let v2 = ArxivId::parse("2602.23229v2").unwrap();
        assert_eq!(memo.get(&v2, t), Some((vec![signal(&paper, t)], vec![])));
        // Another instant or another paper: a miss.
        assert_eq!(memo.get(&paper, t + chrono::Duration::seconds(1)), None);
        assert_eq!(memo.get(&ArxivId::parse("2602.23230").unwrap(), t), None);
        // A new answer replaces the old one.
        let other = ArxivId::parse("2602.23230").unwrap();
        memo.put(&other, t, &[], &[]);
        assert_eq!(memo.get(&paper, t), None);
        assert_eq!(memo.get(&other, t), Some((vec![], vec![])));
    }
}
