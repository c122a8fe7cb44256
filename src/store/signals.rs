//! Attention signals: time-stamped numbers the sources measured for papers, stored as snapshots
//! so that ranking can use the latest value and history is kept.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::StoreError;
use crate::arxiv::ArxivId;

/// One observed attention value: `value` of `source.metric` for `paper` at `observed_at`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Signal {
    /// Version-less paper id.
    pub paper: ArxivId,
    /// Source name as in the config, e.g. `x`, `hn`, `bluesky`.
    pub source: String,
    /// Metric name within the source, e.g. `retweets`, `points`.
    pub metric: String,
    /// The measured value (finite).
    pub value: f64,
    /// When the source was asked.
    pub observed_at: DateTime<Utc>,
}

/// A paper's latest signals as front ends show them: `source.metric` → value, and per source
/// when it was measured.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PaperSignals {
    /// Latest value per `source.metric`.
    pub values: std::collections::BTreeMap<String, f64>,
    /// Per source, when its latest values were measured.
    pub measured_at: std::collections::BTreeMap<String, DateTime<Utc>>,
}

impl PaperSignals {
    /// Groups snapshots by paper key; for each source the latest observation time wins.
    pub fn group(signals: &[Signal]) -> std::collections::BTreeMap<String, PaperSignals> {
        let mut out: std::collections::BTreeMap<String, PaperSignals> = Default::default();
        for s in signals {
            let entry = out.entry(s.paper.key().to_string()).or_default();
            entry
                .values
                .insert(format!("{}.{}", s.source, s.metric), s.value);
            let t = entry
                .measured_at
                .entry(s.source.clone())
                .or_insert(s.observed_at);
            if s.observed_at > *t {
                *t = s.observed_at;
            }
        }
        out
    }
}

/// Attention snapshots. Every write is idempotent.
#[async_trait]
pub trait SignalStore: Send + Sync + std::fmt::Debug {
    /// Stores attention snapshots. A snapshot with the same (paper, source, metric,
    /// observed_at) as a stored one replaces its value.
    async fn record_signals(&self, signals: &[Signal]) -> Result<(), StoreError>;

    /// For each of `papers`, the latest snapshot of every (source, metric).
    async fn latest_signals(&self, papers: &[ArxivId]) -> Result<Vec<Signal>, StoreError>;

    /// For each member of mailing `date`, the latest snapshot of every (source, metric),
    /// ordered by paper, source and metric: [`SignalStore::latest_signals`] of the whole
    /// membership without sending its ~1,200 ids to the store.
    async fn mailing_latest_signals(&self, date: NaiveDate) -> Result<Vec<Signal>, StoreError>;

    /// Every stored snapshot of `papers`, ordered by paper, source, metric and time: how their
    /// attention grew (growth on cards, attention charts).
    async fn signal_history(&self, papers: &[ArxivId]) -> Result<Vec<Signal>, StoreError>;
}
