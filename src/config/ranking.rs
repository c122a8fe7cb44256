//! `[ranking]`: the weights that turn attention into a score, with their defaults.

use serde::{Deserialize, Serialize};

/// `[ranking]`: how attention becomes a score (see `crate::ranking`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RankingConfig {
    /// Source priority: the first source with data breaks ties between equal scores.
    pub order: Vec<String>,
    /// Per source, the multiplier of `ln(1 + engagement)`.
    pub weights: std::collections::BTreeMap<String, f64>,
    /// Per source, metric → weight in the engagement sum (metrics not listed count 0).
    pub metrics: std::collections::BTreeMap<String, std::collections::BTreeMap<String, f64>>,
    /// Trending view: how many days of mailings it looks back over.
    pub trending_days: u32,
    /// Trending view: score / (age in hours + 2) ^ gravity, as Hacker News ranks stories.
    pub gravity: f64,
}

impl Default for RankingConfig {
    fn default() -> Self {
        let rule = crate::ranking::RankingRule::default();
        RankingConfig {
            order: rule.sources.iter().map(|s| s.source.clone()).collect(),
            weights: rule
                .sources
                .iter()
                .map(|s| (s.source.clone(), s.weight))
                .collect(),
            metrics: rule
                .sources
                .iter()
                .map(|s| (s.source.clone(), s.metrics.clone()))
                .collect(),
            trending_days: 7,
            gravity: 1.8,
        }
    }
}
