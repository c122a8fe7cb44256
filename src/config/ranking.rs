//! `[ranking]`: the weights that turn attention into a score, with their defaults, and the
//! names of the sources and metrics it can weigh ([`source_name`], [`metric`],
//! [`SOURCE_METRICS`]). The sources (a higher layer) name their signals with these constants,
//! so the names validation accepts are the names the sources record.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::validate::{Check, check_range, closest};

/// The source part of a signal key (`<source>.<metric>`), as `[ranking]` names sources.
pub mod source_name {
    /// X (Twitter).
    pub const X: &str = "x";
    /// Bluesky.
    pub const BLUESKY: &str = "bluesky";
    /// Hacker News.
    pub const HN: &str = "hn";
    /// Hugging Face Papers.
    pub const HF: &str = "hf";
    /// Semantic Scholar (configured as `[sources.semantic_scholar]`).
    pub const S2: &str = "s2";
}

/// The metric part of a signal key (`<source>.<metric>`).
pub mod metric {
    /// Posts that link the paper (X, Bluesky).
    pub const POSTS: &str = "posts";
    /// Retweets of those posts (X).
    pub const RETWEETS: &str = "retweets";
    /// Reposts of those posts (Bluesky).
    pub const REPOSTS: &str = "reposts";
    /// Likes of those posts (X, Bluesky).
    pub const LIKES: &str = "likes";
    /// Quotes of those posts (X, Bluesky).
    pub const QUOTES: &str = "quotes";
    /// Replies to those posts (X, Bluesky).
    pub const REPLIES: &str = "replies";
    /// Story points (Hacker News).
    pub const POINTS: &str = "points";
    /// Comments (Hacker News stories, Hugging Face paper pages).
    pub const COMMENTS: &str = "comments";
    /// Upvotes (Hugging Face Papers).
    pub const UPVOTES: &str = "upvotes";
    /// Stars of the paper's code repository (Hugging Face Papers).
    pub const GITHUB_STARS: &str = "github_stars";
    /// Citations (Semantic Scholar).
    pub const CITATIONS: &str = "citations";
    /// Influential citations (Semantic Scholar).
    pub const INFLUENTIAL_CITATIONS: &str = "influential_citations";
}

/// Every source `[ranking]` can weigh, with every metric it records, in the order error
/// messages list them. `[ranking]` keys naming anything else are errors.
pub const SOURCE_METRICS: &[(&str, &[&str])] = {
    use metric::*;
    &[
        (source_name::X, &[POSTS, RETWEETS, LIKES, QUOTES, REPLIES]),
        (
            source_name::BLUESKY,
            &[POSTS, REPOSTS, LIKES, QUOTES, REPLIES],
        ),
        (source_name::HN, &[POINTS, COMMENTS]),
        (source_name::HF, &[UPVOTES, COMMENTS, GITHUB_STARS]),
        (source_name::S2, &[CITATIONS, INFLUENTIAL_CITATIONS]),
    ]
};

/// Other names people give the sources, suggested when edit distance cannot find them.
const SOURCE_ALIASES: &[(&str, &str)] = &[
    ("twitter", source_name::X),
    ("tweets", source_name::X),
    ("bsky", source_name::BLUESKY),
    ("hackernews", source_name::HN),
    ("hacker_news", source_name::HN),
    ("huggingface", source_name::HF),
    ("hugging_face", source_name::HF),
    ("semantic_scholar", source_name::S2),
    ("semanticscholar", source_name::S2),
];

/// Other names of metrics, per source (the other network's word for the same thing).
const METRIC_ALIASES: &[(&str, &str, &str)] = &[
    (source_name::X, "reposts", metric::RETWEETS),
    (source_name::X, "favorites", metric::LIKES),
    (source_name::X, "favourites", metric::LIKES),
    (source_name::X, "tweets", metric::POSTS),
    (source_name::BLUESKY, "retweets", metric::REPOSTS),
    (source_name::HN, "votes", metric::POINTS),
    (source_name::HN, "upvotes", metric::POINTS),
    (source_name::HF, "likes", metric::UPVOTES),
    (source_name::HF, "stars", metric::GITHUB_STARS),
];

/// The metrics `source` records, `None` for an unknown source.
pub fn source_metrics(source: &str) -> Option<&'static [&'static str]> {
    SOURCE_METRICS
        .iter()
        .find(|(name, _)| *name == source)
        .map(|(_, metrics)| *metrics)
}

/// Whether `source.metric` is a signal some source records.
pub fn is_known_metric(source: &str, metric: &str) -> bool {
    source_metrics(source).is_some_and(|m| m.contains(&metric))
}

/// Why `source` is not a source `[ranking]` knows, with a suggestion; `None` when it is one.
fn unknown_source(source: &str) -> Option<String> {
    if source_metrics(source).is_some() {
        return None;
    }
    let names: Vec<&str> = SOURCE_METRICS.iter().map(|(name, _)| *name).collect();
    let alias = SOURCE_ALIASES
        .iter()
        .find(|(alias, _)| alias.eq_ignore_ascii_case(source))
        .map(|(_, name)| *name);
    Some(format!(
        "unknown source `{source}`;{} known: {}",
        did_you_mean(alias.or_else(|| closest(source, &names))),
        names.join(", ")
    ))
}

/// Why `metric` is not a metric of the known `source`, with a suggestion.
fn unknown_metric(source: &str, metric: &str) -> Option<String> {
    let known = source_metrics(source)?;
    if known.contains(&metric) {
        return None;
    }
    let alias = METRIC_ALIASES
        .iter()
        .find(|(s, alias, _)| *s == source && alias.eq_ignore_ascii_case(metric))
        .map(|(_, _, name)| *name);
    Some(format!(
        "unknown metric `{metric}` for source `{source}`;{} known: {}",
        did_you_mean(alias.or_else(|| closest(metric, known))),
        known.join(", ")
    ))
}

/// " did you mean `x`?" or nothing.
fn did_you_mean(suggestion: Option<&str>) -> String {
    suggestion.map_or_else(String::new, |s| format!(" did you mean `{s}`?"))
}

/// `[ranking]`: how attention becomes a score (see `crate::ranking`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RankingConfig {
    /// Source priority: the first source with data breaks ties between equal scores. Names
    /// from [`SOURCE_METRICS`], each at most once.
    pub order: Vec<String>,
    /// Per source, the multiplier of `ln(1 + engagement)`; merged with the defaults key by
    /// key.
    pub weights: BTreeMap<String, f64>,
    /// Per source, metric → weight in the engagement sum; merged with the defaults key by key
    /// (metrics neither set nor defaulted count 0). Names from [`SOURCE_METRICS`].
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

/// Fills in the default weight and metrics of every built-in source that `r` leaves out, key
/// by key: setting one metric (`HOTPAPERS_RANKING__METRICS__X__LIKES=2`, or a
/// `[ranking.metrics.x]` table with only `likes`) keeps the others. A metric is left out of
/// the score by setting it to 0.
pub(super) fn fill_defaults(r: &mut RankingConfig) {
    for sw in default_source_weights() {
        r.weights.entry(sw.source.clone()).or_insert(sw.weight);
        let metrics = r.metrics.entry(sw.source).or_default();
        for (metric, w) in sw.metrics {
            metrics.entry(metric).or_insert(w);
        }
    }
}

/// The `[ranking]` checks of `validate`: (key, reason) of the first bad value.
pub(super) fn validate(r: &RankingConfig) -> Check {
    let err = |key: String, reason: String| Err((key, reason));
    for (i, source) in r.order.iter().enumerate() {
        if let Some(reason) = unknown_source(source) {
            return err("ranking.order".into(), reason);
        }
        if r.order
            .get(..i)
            .is_some_and(|before| before.contains(source))
        {
            return err("ranking.order".into(), format!("lists `{source}` twice"));
        }
    }
    for source in r.weights.keys() {
        if let Some(reason) = unknown_source(source) {
            return err(format!("ranking.weights.{source}"), reason);
        }
    }
    for (source, metrics) in &r.metrics {
        if let Some(reason) = unknown_source(source) {
            return err(format!("ranking.metrics.{source}"), reason);
        }
        for metric in metrics.keys() {
            if let Some(reason) = unknown_metric(source, metric) {
                return err(format!("ranking.metrics.{source}.{metric}"), reason);
            }
        }
    }
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
    use metric::*;
    vec![
        weights(source_name::X, 1.0, &[(RETWEETS, 1.0), (LIKES, 1.0)]),
        weights(
            source_name::BLUESKY,
            1.0,
            &[(POSTS, 3.0), (REPOSTS, 1.0), (LIKES, 1.0), (QUOTES, 1.0)],
        ),
        weights(source_name::HN, 1.0, &[(POINTS, 1.0), (COMMENTS, 1.0)]),
        weights(source_name::HF, 1.0, &[(UPVOTES, 1.0), (COMMENTS, 1.0)]),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::test_util::load;
    use crate::config::{Config, ConfigError};

    /// The (key, reason) of an `InvalidValue`, or a panic naming what came instead.
    fn invalid(result: Result<Config, ConfigError>) -> (String, String, String) {
        match result {
            Err(ConfigError::InvalidValue {
                key,
                origin,
                reason,
            }) => (key, origin, reason),
            other => panic!("expected InvalidValue, got {other:?}"),
        }
    }

    /// Defect 7 of the hardening issue: `retweet = 1.0` passed `config check` and silently
    /// dropped retweets from the score.
    #[test]
    fn unknown_metrics_are_errors_that_suggest_the_right_one() {
        let (key, origin, reason) = invalid(Config::from_toml_str(
            "[ranking.metrics.x]\nretweet = 1.0\n",
        ));
        assert_eq!(key, "ranking.metrics.x.retweet");
        assert_eq!(origin, "inline TOML");
        assert_eq!(
            reason,
            "unknown metric `retweet` for source `x`; did you mean `retweets`? known: posts, \
             retweets, likes, quotes, replies"
        );
        let (_, _, reason) = invalid(Config::from_toml_str(
            "[ranking.metrics.x]\nfavorites = 1.0\n",
        ));
        assert!(reason.contains("did you mean `likes`?"), "{reason}");
        let (_, _, reason) = invalid(Config::from_toml_str(
            "[ranking.metrics.bluesky]\nretweets = 1.0\n",
        ));
        assert!(reason.contains("did you mean `reposts`?"), "{reason}");
        let (_, _, reason) = invalid(Config::from_toml_str("[ranking.metrics.hn]\nkarma = 1.0\n"));
        assert_eq!(
            reason,
            "unknown metric `karma` for source `hn`; known: points, comments"
        );
        let (key, origin, _) =
            invalid(load("", &[("HOTPAPERS_RANKING__METRICS__HF__UPVOTE", "2")]));
        assert_eq!(key, "ranking.metrics.hf.upvote");
        assert_eq!(
            origin,
            "environment variable HOTPAPERS_RANKING__METRICS__HF__UPVOTE"
        );
        // Every metric a source records can be weighed, including those without a default.
        let c = Config::from_toml_str(
            "[ranking.metrics.x]\nposts = 0.5\nquotes = 1\nreplies = 1\n\
             [ranking.metrics.hf]\ngithub_stars = 0.1\n\
             [ranking.metrics.s2]\ncitations = 1\ninfluential_citations = 2\n\
             [ranking.weights]\ns2 = 0.5\n",
        )
        .expect("known metrics");
        assert_eq!(c.ranking.metrics["s2"]["influential_citations"], 2.0);
    }

    #[test]
    fn unknown_sources_are_errors_that_suggest_the_right_one() {
        let known = "known: x, bluesky, hn, hf, s2";
        for (toml, key) in [
            (
                "[ranking.weights]\ntwitter = 1.0\n",
                "ranking.weights.twitter",
            ),
            (
                "[ranking.metrics.twitter]\nlikes = 1.0\n",
                "ranking.metrics.twitter",
            ),
            ("[ranking]\norder = [\"x\", \"twitter\"]\n", "ranking.order"),
        ] {
            let (k, _, reason) = invalid(Config::from_toml_str(toml));
            assert_eq!(k, key, "{toml}");
            assert_eq!(
                reason,
                format!("unknown source `twitter`; did you mean `x`? {known}"),
                "{toml}"
            );
        }
        for (name, meant) in [
            ("blueksy", "bluesky"),
            ("semantic_scholar", "s2"),
            ("huggingface", "hf"),
            ("HN", "hn"),
        ] {
            let (_, _, reason) = invalid(Config::from_toml_str(&format!(
                "[ranking.weights]\n{name} = 1\n"
            )));
            assert!(
                reason.contains(&format!("did you mean `{meant}`?")),
                "{name}: {reason}"
            );
        }
        let (_, _, reason) = invalid(Config::from_toml_str("[ranking.weights]\nmastodon = 1\n"));
        assert_eq!(reason, format!("unknown source `mastodon`; {known}"));
        let (_, _, reason) = invalid(Config::from_toml_str(
            "[ranking]\norder = [\"x\", \"hn\", \"x\"]\n",
        ));
        assert_eq!(reason, "lists `x` twice");
        // The order comes from the environment as a list, and is checked the same way.
        let c = load("", &[("HOTPAPERS_RANKING__ORDER", "hn, x")]).expect("env list");
        assert_eq!(c.ranking.order, ["hn", "x"]);
        let (key, origin, reason) =
            invalid(load("", &[("HOTPAPERS_RANKING__ORDER", "hn,twitter")]));
        assert_eq!(key, "ranking.order");
        assert_eq!(origin, "environment variable HOTPAPERS_RANKING__ORDER");
        assert!(reason.contains("did you mean `x`?"), "{reason}");
    }

    /// Defect 7: `HOTPAPERS_RANKING__METRICS__X__LIKES=2` replaced the whole default metrics
    /// table, so retweets (and every other source's metrics) counted 0.
    #[test]
    fn overriding_one_metric_or_weight_keeps_the_others() {
        let defaults = RankingConfig::default();
        let from_env = load("", &[("HOTPAPERS_RANKING__METRICS__X__LIKES", "2")]).expect("env");
        let from_file = Config::from_toml_str("[ranking.metrics.x]\nlikes = 2\n").expect("file");
        for c in [from_env, from_file] {
            let r = &c.ranking;
            assert_eq!(r.metrics["x"]["likes"], 2.0);
            assert_eq!(r.metrics["x"]["retweets"], 1.0);
            for source in ["bluesky", "hn", "hf"] {
                assert_eq!(r.metrics[source], defaults.metrics[source], "{source}");
            }
            assert_eq!(r.weights, defaults.weights);
        }
        let c = load("", &[("HOTPAPERS_RANKING__WEIGHTS__HN", "2")]).expect("env weight");
        assert_eq!(c.ranking.weights["hn"], 2.0);
        assert_eq!(c.ranking.weights["x"], 1.0);
        assert_eq!(c.ranking.metrics, defaults.metrics);
        // A metric is left out by weighing it 0; a new one is added beside the defaults.
        let c =
            Config::from_toml_str("[ranking.metrics.x]\nretweets = 0\nposts = 1\n").expect("valid");
        assert_eq!(c.ranking.metrics["x"]["retweets"], 0.0);
        assert_eq!(c.ranking.metrics["x"]["likes"], 1.0);
        assert_eq!(c.ranking.metrics["x"]["posts"], 1.0);
    }

    #[test]
    fn the_defaults_name_only_known_sources_and_metrics() {
        for sw in default_source_weights() {
            for m in sw.metrics.keys() {
                assert!(is_known_metric(&sw.source, m), "{}.{m}", sw.source);
            }
        }
        assert!(!is_known_metric("x", "retweet"));
        assert!(!is_known_metric("twitter", "likes"));
    }
}
