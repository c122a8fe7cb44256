//! `[ranking]`: the weights that turn attention into a score, with their defaults.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::validate::{Check, check_range};

/// `[ranking]`: how attention becomes a score (see `crate::ranking`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RankingConfig {
    /// Source priority: the first source with data breaks ties between equal scores.
    pub order: Vec<String>,
    /// Per source, the multiplier of `ln(1 + engagement)`.
    pub weights: BTreeMap<String, f64>,
    /// Per source, metric → weight in the engagement sum (metrics not listed count 0).
    pub metrics: BTreeMap<String, BTreeMap<String, f64>>,
    /// Trending view: how many days of mailings it looks back over.
    pub trending_days: u32,
    /// Trending view: score / (age in hours + 2) ^ gravity, as Hacker News ranks stories.
    pub gravity: f64,
}

impl Default for RankingConfig {
    fn default() -> Self {
        let sources = default_source_weights();
        RankingConfig {
            order: sources.iter().map(|s| s.source.clone()).collect(),
            weights: sources
                .iter()
                .map(|s| (s.source.clone(), s.weight))
                .collect(),
            metrics: sources
                .iter()
                .map(|s| (s.source.clone(), s.metrics.clone()))
                .collect(),
            trending_days: 7,
            gravity: 1.8,
        }
    }
}

/// Most `[ranking] trending_days` (and `digest --days`): the trending view fetches every
/// mailing of that many days, and with the decay a paper older than that weighs nothing.
pub const MAX_TRENDING_DAYS: u32 = 60;
/// Largest `[ranking] gravity`: at 10 a day-old paper already weighs 10^-14 of a new one.
pub const MAX_GRAVITY: f64 = 10.0;
/// Largest `[ranking.weights]` value.
pub const MAX_SOURCE_WEIGHT: f64 = 1000.0;
/// Largest magnitude of a `[ranking.metrics]` weight (negative weights subtract).
pub const MAX_METRIC_WEIGHT: f64 = 1000.0;

/// The `[ranking]` checks of `validate`: (key, reason) of the first bad value.
pub(super) fn validate(r: &RankingConfig) -> Check {
    for (source, w) in &r.weights {
        check_range(
            &format!("ranking.weights.{source}"),
            *w,
            0.0,
            MAX_SOURCE_WEIGHT,
        )?;
    }
    for (source, metrics) in &r.metrics {
        for (metric, w) in metrics {
            check_range(
                &format!("ranking.metrics.{source}.{metric}"),
                *w,
                -MAX_METRIC_WEIGHT,
                MAX_METRIC_WEIGHT,
            )?;
        }
    }
    check_range("ranking.gravity", r.gravity, 0.0, MAX_GRAVITY)?;
    check_range(
        "ranking.trending_days",
        r.trending_days,
        1,
        MAX_TRENDING_DAYS,
    )
}

/// How one source's metrics become engagement, and how much that source weighs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SourceWeights {
    /// Source name, as in signal keys (`x`, `bluesky`, `hn`, `hf`).
    pub source: String,
    /// Multiplier of `ln(1 + engagement)`.
    pub weight: f64,
    /// Metric name → weight in the engagement sum. Metrics not listed count 0.
    pub metrics: BTreeMap<String, f64>,
}

/// One source's weights from plain pairs.
fn weights(source: &str, weight: f64, metrics: &[(&str, f64)]) -> SourceWeights {
    SourceWeights {
        source: source.to_string(),
        weight,
        metrics: metrics.iter().map(|(m, w)| (m.to_string(), *w)).collect(),
    }
}

/// The built-in weights, sources in priority order: the default `[ranking]` (and so the default
/// rule of `crate::ranking`). Defaults, and why:
/// - `x`: retweets + likes, the seed post's rule ("ranked by retweets + favorites").
/// - `bluesky`: reposts + likes + quotes, the same rule on the network that replaced
///   academic Twitter, plus 3 per post that shares the paper (a share is a stronger
///   signal than a like).
/// - `hn`: points + comments: both are deliberate acts on a high-bar forum.
/// - `hf`: upvotes + comments on Hugging Face Papers (a curated, ML-heavy audience).
///
/// All sources weigh 1: with the logarithm, a 10× difference in engagement is worth
/// about 2.3 points whichever the source.
pub fn default_source_weights() -> Vec<SourceWeights> {
    vec![
        weights("x", 1.0, &[("retweets", 1.0), ("likes", 1.0)]),
        weights(
            "bluesky",
            1.0,
            &[
                ("posts", 3.0),
                ("reposts", 1.0),
                ("likes", 1.0),
                ("quotes", 1.0),
            ],
        ),
        weights("hn", 1.0, &[("points", 1.0), ("comments", 1.0)]),
        weights("hf", 1.0, &[("upvotes", 1.0), ("comments", 1.0)]),
    ]
}
