//! A paper's attention as people read it: per source, its counts in the source's own words
//! ("2,546 reposts · 259 likes on X"), when they were measured, how much they grew since the
//! snapshot before ("▲ 340 in 24 h"), and its engagement over time (the attention chart).
//!
//! Written once here so that Discord cards, the text digest and the console say the same
//! thing the same way. Only the Markdown export keeps the seed post's own wording
//! (`retweets: N, favorites: M`), because it is a continuation of that blog.
//!
//! "Engagement" is what the ranking counts (`[ranking.metrics]`, for X retweets + likes, see
//! [`crate::ranking`]): growth and the chart show the quantity the score is made of, so a
//! paper that climbs in the chart climbs in the ranking.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};

use crate::number::grouped;
use crate::ranking::RankingRule;
use crate::store::Signal;

/// Sources in the order people read them: X first (the seed post ranked by it), then
/// Bluesky, Hacker News, Hugging Face; any other source follows, alphabetically.
pub const SOURCE_ORDER: &[&str] = &["x", "bluesky", "hn", "hf", "s2"];

/// A source's name for people: "X", "Bluesky", "Hacker News", "Hugging Face", "Semantic
/// Scholar"; a source this version does not know keeps its config id.
pub fn label(source: &str) -> &str {
    match source {
        "x" => "X",
        "bluesky" => "Bluesky",
        "hn" => "Hacker News",
        "hf" => "Hugging Face",
        "s2" => "Semantic Scholar",
        other => other,
    }
}

/// Metric ids with their words (singular, plural), in reading order: the seed's order,
/// reposts before likes. X calls them retweets; people now say reposts on both networks.
const METRIC_WORDS: &[(&str, &str, &str)] = &[
    ("posts", "post", "posts"),
    ("retweets", "repost", "reposts"),
    ("reposts", "repost", "reposts"),
    ("likes", "like", "likes"),
    ("points", "point", "points"),
    ("upvotes", "upvote", "upvotes"),
    ("comments", "comment", "comments"),
    ("replies", "reply", "replies"),
    ("quotes", "quote", "quotes"),
    ("citations", "citation", "citations"),
];

/// Where a metric goes in reading order: known metrics by [`METRIC_WORDS`], others after them.
fn metric_rank(metric: &str) -> usize {
    METRIC_WORDS
        .iter()
        .position(|(m, _, _)| *m == metric)
        .unwrap_or(METRIC_WORDS.len())
}

/// "2,546 reposts", "1 like", "3.50 weighted posts" (a metric without words of its own is
/// named by its id, underscores as spaces).
pub fn count_words(metric: &str, value: f64) -> String {
    let n = grouped(value);
    match METRIC_WORDS.iter().find(|(m, _, _)| *m == metric) {
        Some((_, one, _)) if n == "1" => format!("1 {one}"),
        Some((_, _, many)) => format!("{n} {many}"),
        None => format!("{n} {}", metric.replace('_', " ")),
    }
}

/// How much a source's engagement changed between its last two snapshots.
#[derive(Clone, Debug, PartialEq)]
pub struct Growth {
    /// Engagement at the latest snapshot minus engagement at the one before (may be
    /// negative: posts get deleted, likes withdrawn).
    pub delta: f64,
    /// When the snapshot before the latest was taken.
    pub since: DateTime<Utc>,
    /// When the latest snapshot was taken.
    pub until: DateTime<Utc>,
}

impl Growth {
    /// "▲ 340 in 24 h", "▼ 3 in 2 d", "no change in 45 min".
    pub fn describe(&self) -> String {
        let span = span(self.until - self.since);
        if self.delta > 0.0 {
            format!("▲ {} in {span}", grouped(self.delta))
        } else if self.delta < 0.0 {
            format!("▼ {} in {span}", grouped(-self.delta))
        } else {
            format!("no change in {span}")
        }
    }
}

/// A time span as people round it: minutes below an hour, hours below two days, then days.
fn span(d: TimeDelta) -> String {
    let minutes = d.num_minutes().max(1);
    if minutes < 60 {
        format!("{minutes} min")
    } else if minutes < 48 * 60 {
        format!("{} h", (minutes + 30) / 60)
    } else {
        format!("{} d", (minutes + 12 * 60) / (24 * 60))
    }
}

/// One source's attention for one paper, ready to be said.
#[derive(Clone, Debug, PartialEq)]
pub struct SourceAttention {
    /// The source's config id (`x`, `hn`…).
    pub source: String,
    /// Its name for people ([`label`]).
    pub label: String,
    /// Its latest counts, metric id → value, in reading order (reposts before likes); zeros
    /// are left out unless every count is zero (then only the first is kept).
    pub counts: Vec<(String, f64)>,
    /// When the latest counts were measured.
    pub measured_at: Option<DateTime<Utc>>,
    /// The change since the snapshot before, when there is one.
    pub growth: Option<Growth>,
}

impl SourceAttention {
    /// "2,546 reposts · 259 likes".
    pub fn counts_text(&self) -> String {
        let parts: Vec<String> = self
            .counts
            .iter()
            .map(|(m, v)| count_words(m, *v))
            .collect();
        parts.join(" · ")
    }

    /// "2,546 reposts · 259 likes on X".
    pub fn describe(&self) -> String {
        format!("{} on {}", self.counts_text(), self.label)
    }

    /// [`SourceAttention::describe`] with the growth, when there is one: "2,546 reposts ·
    /// 259 likes on X · ▲ 340 in 24 h". Front ends add when it was measured, each in its
    /// own form.
    pub fn describe_with_growth(&self) -> String {
        match &self.growth {
            Some(g) => format!("{} · {}", self.describe(), g.describe()),
            None => self.describe(),
        }
    }
}

/// A paper's latest signals (`source.metric` → value), when each source measured them and
/// each source's growth, as one [`SourceAttention`] per source with data, in
/// [`SOURCE_ORDER`].
pub fn by_source(
    signals: &BTreeMap<String, f64>,
    measured_at: &BTreeMap<String, DateTime<Utc>>,
    growth: &BTreeMap<String, Growth>,
) -> Vec<SourceAttention> {
    let mut grouped: BTreeMap<&str, Vec<(String, f64)>> = BTreeMap::new();
    for (key, value) in signals {
        if let Some((source, metric)) = key.split_once('.') {
            grouped
                .entry(source)
                .or_default()
                .push((metric.to_string(), *value));
        }
    }
    let mut out: Vec<SourceAttention> = grouped
        .into_iter()
        .map(|(source, mut counts)| {
            counts.sort_by(|a, b| {
                metric_rank(&a.0)
                    .cmp(&metric_rank(&b.0))
                    .then(a.0.cmp(&b.0))
            });
            // "290 points on Hacker News", not "290 points · 0 comments": a zero is said only
            // when nothing else is.
            if counts.iter().any(|(_, v)| *v != 0.0) {
                counts.retain(|(_, v)| *v != 0.0);
            } else {
                counts.truncate(1);
            }
            SourceAttention {
                source: source.to_string(),
                label: label(source).to_string(),
                counts,
                measured_at: measured_at.get(source).copied(),
                growth: growth.get(source).cloned(),
            }
        })
        .collect();
    out.sort_by(|a, b| {
        source_rank(&a.source)
            .cmp(&source_rank(&b.source))
            .then(a.source.cmp(&b.source))
    });
    out
}

/// Where a source goes in reading order: known sources by [`SOURCE_ORDER`], others after.
fn source_rank(source: &str) -> usize {
    SOURCE_ORDER
        .iter()
        .position(|s| *s == source)
        .unwrap_or(SOURCE_ORDER.len())
}

/// One source's engagement for one paper at each of its snapshots, oldest first.
#[derive(Clone, Debug, PartialEq)]
pub struct Timeline {
    /// The source's config id.
    pub source: String,
    /// (snapshot time, engagement at that time), oldest first, one per distinct time.
    pub points: Vec<(DateTime<Utc>, f64)>,
}

impl Timeline {
    /// The change between the last two snapshots; `None` with fewer than two.
    pub fn growth(&self) -> Option<Growth> {
        let [.., (since, before), (until, after)] = self.points.as_slice() else {
            return None;
        };
        Some(Growth {
            delta: after - before,
            since: *since,
            until: *until,
        })
    }
}

/// Every paper's timelines (paper key → one per source, in [`SOURCE_ORDER`]) from its stored
/// snapshots, in any order.
///
/// At each time a source was measured, a metric's value is its latest one at or before that
/// time, so a source whose metrics are stored at slightly different times still gets a
/// steady line. Engagement is the ranking's (`rule`); a source the rule does not weigh adds
/// up its metrics unweighted.
pub fn timelines(history: &[Signal], rule: &RankingRule) -> BTreeMap<String, Vec<Timeline>> {
    // paper → source → time → metric → value
    type Snapshots = BTreeMap<DateTime<Utc>, BTreeMap<String, f64>>;
    let mut by: BTreeMap<&str, BTreeMap<&str, Snapshots>> = BTreeMap::new();
    for s in history {
        by.entry(s.paper.key())
            .or_default()
            .entry(s.source.as_str())
            .or_default()
            .entry(s.observed_at)
            .or_default()
            .insert(s.metric.clone(), s.value);
    }
    by.into_iter()
        .map(|(paper, sources)| {
            let mut lines: Vec<Timeline> = sources
                .into_iter()
                .map(|(source, snapshots)| Timeline {
                    source: source.to_string(),
                    points: engagement_over_time(source, snapshots, rule),
                })
                .collect();
            lines.sort_by(|a, b| {
                source_rank(&a.source)
                    .cmp(&source_rank(&b.source))
                    .then(a.source.cmp(&b.source))
            });
            (paper.to_string(), lines)
        })
        .collect()
}

/// Each source's growth, by source id, from one paper's timelines.
pub fn growth_of(timelines: &[Timeline]) -> BTreeMap<String, Growth> {
    timelines
        .iter()
        .filter_map(|t| t.growth().map(|g| (t.source.clone(), g)))
        .collect()
}

/// A source's engagement at each snapshot time, carrying every metric's last value forward.
fn engagement_over_time(
    source: &str,
    snapshots: BTreeMap<DateTime<Utc>, BTreeMap<String, f64>>,
    rule: &RankingRule,
) -> Vec<(DateTime<Utc>, f64)> {
    let weighed = rule.sources.iter().any(|s| s.source == source);
    let mut state: BTreeMap<String, f64> = BTreeMap::new();
    let mut points = Vec::with_capacity(snapshots.len());
    for (at, metrics) in snapshots {
        state.extend(metrics);
        let engagement = if weighed {
            let keyed: BTreeMap<String, f64> = state
                .iter()
                .map(|(m, v)| (format!("{source}.{m}"), *v))
                .collect();
            rule.score(&keyed)
                .contributions
                .iter()
                .find(|c| c.source == source)
                .map_or(0.0, |c| c.engagement)
        } else {
            state.values().filter(|v| v.is_finite() && **v > 0.0).sum()
        };
        points.push((at, engagement));
    }
    points
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::arxiv::ArxivId;

    fn t(d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2021, 7, d, h, 0, 0).unwrap()
    }

    fn sig(paper: &str, source: &str, metric: &str, value: f64, at: DateTime<Utc>) -> Signal {
        Signal {
            paper: ArxivId::parse(paper).unwrap(),
            source: source.into(),
            metric: metric.into(),
            value,
            observed_at: at,
        }
    }

    #[test]
    fn counts_are_said_in_the_sources_words_reposts_before_likes() {
        let signals: BTreeMap<String, f64> = [
            ("x.likes", 259.0),
            ("x.retweets", 2546.0),
            ("hn.points", 1.0),
            ("hn.comments", 12.0),
            ("zz.odd_metric", 2.5),
            ("bluesky.likes", 3.0),
            ("bluesky.reposts", 1.0),
            ("bluesky.posts", 0.0),
            ("hf.upvotes", 0.0),
            ("hf.comments", 0.0),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), *v))
        .collect();
        let said: Vec<String> = by_source(&signals, &BTreeMap::new(), &BTreeMap::new())
            .iter()
            .map(SourceAttention::describe)
            .collect();
        assert_eq!(
            said,
            [
                "2,546 reposts · 259 likes on X",
                "1 repost · 3 likes on Bluesky",
                "1 point · 12 comments on Hacker News",
                "0 upvotes on Hugging Face",
                "2.50 odd metric on zz",
            ]
        );
    }

    #[test]
    fn growth_compares_the_last_two_snapshots_of_the_ranked_engagement() {
        let rule = RankingRule::default();
        let history = vec![
            sig("2107.00641", "x", "retweets", 10.0, t(1, 12)),
            sig("2107.00641", "x", "likes", 2.0, t(1, 12)),
            sig("2107.00641", "x", "posts", 1.0, t(1, 12)),
            sig("2107.00641", "x", "retweets", 300.0, t(2, 12)),
            sig("2107.00641", "x", "likes", 52.0, t(2, 12)),
            // Only likes measured at the third time: retweets carry over.
            sig("2107.00641", "x", "likes", 392.0, t(3, 12)),
            sig("2107.00641", "hn", "points", 5.0, t(2, 0)),
        ];
        let all = timelines(&history, &rule);
        let lines = &all["2107.00641"];
        assert_eq!(lines[0].source, "x");
        assert_eq!(
            lines[0].points,
            vec![(t(1, 12), 12.0), (t(2, 12), 352.0), (t(3, 12), 692.0)]
        );
        let growth = growth_of(lines);
        assert_eq!(growth["x"].describe(), "▲ 340 in 24 h");
        assert!(!growth.contains_key("hn"), "one snapshot has no growth");
    }

    #[test]
    fn growth_says_drops_and_standstills_and_rounds_spans() {
        let g = |delta: f64, minutes: i64| Growth {
            delta,
            since: t(1, 0),
            until: t(1, 0) + TimeDelta::minutes(minutes),
        };
        assert_eq!(g(-3.0, 90).describe(), "▼ 3 in 2 h");
        assert_eq!(g(0.0, 45).describe(), "no change in 45 min");
        assert_eq!(g(1500.0, 3 * 24 * 60).describe(), "▲ 1,500 in 3 d");
        assert_eq!(g(1.0, 0).describe(), "▲ 1 in 1 min");
    }
}
