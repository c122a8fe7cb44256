//! Attention sources: where hotpapers measures how much a paper is talked about.
//!
//! Every source answers two questions through [`Source`]:
//! - [`Source::collect`]: one sweep over everything that links arXiv in a time window, grouped
//!   by paper. Its request count grows with pages of results, never with the number of papers.
//! - [`Source::lookup`]: the same for one paper, for `paper` / `/paper`.
//!
//! Both answer a [`Collection`]: the signals (numbers to rank by), the extras (text about
//! papers: an AI summary, a TL;DR, a code link) and the posts that shared the papers (who is
//! talking). One answer carries all three, so no source is asked twice for one measurement.
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
use crate::store::{Extra, Mention, Signal};

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
    /// How many upstream items (posts, stories, tweets) linked a paper.
    pub mentions: usize,
    /// Non-fatal problems worth showing (a budget cut the sweep short, a page was skipped).
    pub notes: Vec<String>,
    /// Text about papers that came with the sweep (an AI summary, a TL;DR, a code link), stamped
    /// with the same `now` as the signals; stored with [`crate::store::PaperStore::record_extras`].
    /// Sources without text leave it empty.
    pub extras: Vec<Extra>,
    /// The posts that shared the papers (who is talking), one per (post, paper), stamped with
    /// the same `now`; stored with [`crate::store::MentionStore::record_mentions`]. Sources
    /// without posts (Hugging Face, Semantic Scholar) leave it empty.
    pub posts: Vec<Mention>,
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

    /// What the source knows about one paper now: its signals, extras and posts.
    /// `Collection::requests` and `notes` are filled as for a sweep.
    async fn lookup(&self, paper: &ArxivId, now: DateTime<Utc>) -> Result<Collection, SourceError>;
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
    ///
    /// Every metric must be one `[ranking]` accepts for `source`
    /// ([`crate::config::SOURCE_METRICS`]); debug builds check it, so a source test fails
    /// when a source records a metric the configuration would reject as unknown.
    pub fn into_signals(
        self,
        source: &str,
        papers: &BTreeSet<ArxivId>,
        now: DateTime<Utc>,
    ) -> Vec<Signal> {
        debug_assert!(
            self.sums
                .values()
                .flat_map(BTreeMap::keys)
                .all(|m| crate::config::is_known_metric(source, m)),
            "{source} records a metric missing from config::SOURCE_METRICS"
        );
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{SOURCE_METRICS, is_known_metric, source_metrics};

    /// `[ranking]` validation accepts exactly the sources and metrics the sources record: the
    /// table lives in the config layer (below this one), and this is where the two meet.
    #[test]
    fn every_source_and_metric_is_one_ranking_knows() {
        let names = [
            x::NAME,
            bluesky::NAME,
            hn::NAME,
            hf::NAME,
            semantic_scholar::NAME,
        ];
        assert_eq!(
            SOURCE_METRICS.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
            names
        );
        for name in names {
            assert!(source_metrics(name).is_some(), "{name}");
        }
        let published = [
            (hn::NAME, hn::METRIC_POINTS),
            (hn::NAME, hn::METRIC_COMMENTS),
            (hf::NAME, hf::METRIC_UPVOTES),
            (hf::NAME, hf::METRIC_COMMENTS),
            (hf::NAME, hf::METRIC_GITHUB_STARS),
            (semantic_scholar::NAME, semantic_scholar::METRIC_CITATIONS),
            (
                semantic_scholar::NAME,
                semantic_scholar::METRIC_INFLUENTIAL_CITATIONS,
            ),
        ];
        for (source, metric) in published {
            assert!(is_known_metric(source, metric), "{source}.{metric}");
        }
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "missing from config::SOURCE_METRICS")]
    fn a_metric_ranking_does_not_know_is_caught_in_debug_builds() {
        let mut tally = Tally::default();
        let paper = ArxivId::parse("2107.00641").expect("an id");
        tally.add(&paper, "retweet", 1.0);
        let _ = tally.into_signals(x::NAME, &BTreeSet::new(), DateTime::UNIX_EPOCH);
    }
}
