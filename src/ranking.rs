//! Turning attention signals into one transparent score.
//!
//! Per source, *engagement* is a weighted linear sum of that source's metrics (for X, the
//! seed post's rule: retweets + likes). The score adds, over sources,
//! `source_weight × ln(1 + engagement)`: the logarithm keeps one source with a huge audience
//! from drowning the others, and with a single source the order is exactly its engagement
//! order. Every score carries its [`Contribution`]s so front ends can explain a rank.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::arxiv::ArxivId;
use crate::config::RankingConfig;
pub use crate::config::{SourceWeights, default_source_weights};

/// The ranking rule: sources in priority order (the first breaks ties).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RankingRule {
    pub sources: Vec<SourceWeights>,
}

impl Default for RankingRule {
    /// The rule of the default `[ranking]`: [`default_source_weights`], whose docs say why.
    fn default() -> Self {
        RankingRule {
            sources: default_source_weights(),
        }
    }
}

impl RankingRule {
    /// The rule described by `[ranking]`: sources in `order` first, then any other source
    /// that has weights or metrics, alphabetically. A source without a weight weighs 1.
    pub fn from_config(cfg: &RankingConfig) -> RankingRule {
        let mut names: Vec<String> = cfg.order.clone();
        for name in cfg.metrics.keys().chain(cfg.weights.keys()) {
            if !names.contains(name) {
                names.push(name.clone());
            }
        }
        RankingRule {
            sources: names
                .into_iter()
                .map(|name| SourceWeights {
                    weight: cfg.weights.get(&name).copied().unwrap_or(1.0),
                    metrics: cfg.metrics.get(&name).cloned().unwrap_or_default(),
                    source: name,
                })
                .collect(),
        }
    }
}

/// Hacker News-style decay for the trending view: `score / (age_hours + 2) ^ gravity`.
/// Negative ages (clock skew) count as 0.
pub fn decayed(score: f64, age_hours: f64, gravity: f64) -> f64 {
    score / (age_hours.max(0.0) + 2.0).powf(gravity)
}

/// What one source added to a paper's score.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Contribution {
    pub source: String,
    /// Weighted sum of the source's metrics.
    #[serde(serialize_with = "crate::number::serialize_json")]
    pub engagement: f64,
    /// `weight × ln(1 + engagement)`.
    #[serde(serialize_with = "crate::number::serialize_json")]
    pub points: f64,
}

/// A paper's score with its explanation.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Score {
    pub total: f64,
    /// One entry per configured source that has at least one metric for the paper, in rule order.
    pub contributions: Vec<Contribution>,
}

impl RankingRule {
    /// Scores one paper from its signals, keyed `source.metric` (e.g. `x.retweets`).
    /// Negative or non-finite values (a broken upstream) count as 0.
    pub fn score(&self, signals: &BTreeMap<String, f64>) -> Score {
        let mut score = Score::default();
        // Most of a mailing has no attention at all: nothing to look up.
        if signals.is_empty() {
            return score;
        }
        // One buffer for every `source.metric` key, not an allocation per lookup.
        let mut key = String::new();
        for sw in &self.sources {
            let mut seen = false;
            let mut engagement = 0.0;
            for (metric, w) in &sw.metrics {
                key.clear();
                key.push_str(&sw.source);
                key.push('.');
                key.push_str(metric);
                if let Some(v) = signals.get(key.as_str()) {
                    seen = true;
                    let v = if v.is_finite() && *v > 0.0 { *v } else { 0.0 };
                    engagement += w * v;
                }
            }
            if seen {
                let points = sw.weight * engagement.max(0.0).ln_1p();
                score.total += points;
                score.contributions.push(Contribution {
                    source: sw.source.clone(),
                    engagement,
                    points,
                });
            }
        }
        score
    }

    /// Engagement of the first configured source (the tie-breaker), 0 when absent.
    fn first_engagement(&self, score: &Score) -> f64 {
        self.sources
            .first()
            .and_then(|first| {
                score
                    .contributions
                    .iter()
                    .find(|c| c.source == first.source)
            })
            .map_or(0.0, |c| c.engagement)
    }

    /// Deterministic order: higher score, then higher engagement of the first configured
    /// source, then arXiv id ascending.
    pub fn compare(&self, a: (&ArxivId, &Score), b: (&ArxivId, &Score)) -> Ordering {
        b.1.total
            .total_cmp(&a.1.total)
            .then_with(|| {
                self.first_engagement(b.1)
                    .total_cmp(&self.first_engagement(a.1))
            })
            .then_with(|| a.0.cmp(b.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sig(pairs: &[(&str, f64)]) -> BTreeMap<String, f64> {
        pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }

    fn id(s: &str) -> ArxivId {
        ArxivId::parse(s).expect("valid id")
    }

    #[test]
    fn x_engagement_is_retweets_plus_likes() {
        let s = RankingRule::default().score(&sig(&[("x.retweets", 2546.0), ("x.likes", 259.0)]));
        assert_eq!(s.contributions.len(), 1);
        assert_eq!(s.contributions[0].engagement, 2805.0);
        assert!((s.total - 2806f64.ln()).abs() < 1e-12);
    }

    #[test]
    fn default_config_gives_the_default_rule() {
        let rule = RankingRule::from_config(&RankingConfig::default());
        assert_eq!(rule, RankingRule::default());
    }

    #[test]
    fn decay_prefers_fresh_papers_with_equal_score() {
        assert!(decayed(10.0, 1.0, 1.8) > decayed(10.0, 30.0, 1.8));
        assert_eq!(decayed(10.0, -5.0, 1.8), decayed(10.0, 0.0, 1.8));
        assert_eq!(decayed(10.0, 100.0, 0.0), 10.0);
    }

    #[test]
    fn no_signals_scores_zero_without_contributions() {
        let s = RankingRule::default().score(&BTreeMap::new());
        assert_eq!(s, Score::default());
    }

    #[test]
    fn broken_values_count_as_zero() {
        let s = RankingRule::default().score(&sig(&[("x.retweets", f64::NAN), ("x.likes", -5.0)]));
        assert_eq!(s.total, 0.0);
        assert_eq!(s.contributions[0].engagement, 0.0);
    }

    #[test]
    fn single_source_order_is_engagement_order_with_id_tiebreak() {
        let rule = RankingRule::default();
        // Ranks 13 and 14 of the seed post tie at 65 (29+36 and 30+35): lower id first.
        let mut items = [
            (
                id("2107.00231"),
                rule.score(&sig(&[("x.retweets", 30.0), ("x.likes", 35.0)])),
            ),
            (
                id("2107.00048"),
                rule.score(&sig(&[("x.retweets", 29.0), ("x.likes", 36.0)])),
            ),
            (
                id("2107.00061"),
                rule.score(&sig(&[("x.retweets", 36.0), ("x.likes", 33.0)])),
            ),
        ];
        items.sort_by(|a, b| rule.compare((&a.0, &a.1), (&b.0, &b.1)));
        let order: Vec<String> = items.iter().map(|(i, _)| i.to_string()).collect();
        assert_eq!(order, ["2107.00061", "2107.00048", "2107.00231"]);
    }

    #[test]
    fn log_keeps_one_huge_source_from_drowning_others() {
        let rule = RankingRule::default();
        let viral_on_x = rule.score(&sig(&[("x.likes", 10_000.0)]));
        let broad = rule.score(&sig(&[
            ("x.likes", 300.0),
            ("hn.points", 300.0),
            ("hf.upvotes", 50.0),
        ]));
        assert!(broad.total > viral_on_x.total);
    }

    #[test]
    fn equal_score_ties_break_on_first_source_engagement() {
        let rule = RankingRule::default();
        // Same total (ln 101 each) from different sources: the one with X engagement wins.
        let a = rule.score(&sig(&[("hn.points", 100.0)]));
        let b = rule.score(&sig(&[("x.likes", 100.0)]));
        assert_eq!(a.total, b.total);
        let ord = rule.compare((&id("2107.00001"), &a), (&id("2107.00002"), &b));
        assert_eq!(ord, Ordering::Greater);
    }
}
