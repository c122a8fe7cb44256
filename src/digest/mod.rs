//! The ranked digest of one mailing, built once and rendered per front end.
//!
//! [`build`] is pure: it takes a mailing's papers and their latest signals and returns a
//! [`Digest`]. Renderers turn it into Markdown (the blog format of the seed post), plain text
//! or JSON; the Discord front end renders the same model into embeds.

pub mod embeds;
pub mod json;
pub mod markdown;
pub mod text;

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::arxiv::ArxivId;
use crate::arxiv::paper::{AnnounceType, Paper};
use crate::arxiv::taxonomy::{self, Category};
use crate::attention::{Growth, SourceAttention};
use crate::ranking::{RankingRule, Score};
use crate::store::{MailingMember, MailingPaper, Mention, PaperSignals, Signal};
use crate::summary::Summary;

/// What a source contributed to this digest, so readers know when one is missing.
///
/// Why it is missing is for the logs and for admins: it may hold an upstream URL, an OS error
/// or an upstream body. Public output (Discord messages, Markdown, JSON) says only that the
/// source is unavailable ([`SourceStatus::public_note`]); JSON writes `"missing":
/// "unavailable"`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SourceStatus {
    /// Source name (`x`, `bluesky`, `hn`, `hf`).
    pub name: String,
    /// `None` when the source delivered; otherwise why its data is missing (internal).
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "unavailable"
    )]
    pub missing: Option<String>,
}

impl SourceStatus {
    /// "Hacker News: unavailable" when the source's data is missing: all public output says.
    pub fn public_note(&self) -> Option<String> {
        self.missing
            .as_ref()
            .map(|_| format!("{}: unavailable", crate::attention::label(&self.name)))
    }
}

/// Serializes a missing source's reason as just `"unavailable"`.
fn unavailable<S: serde::Serializer>(_: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str("unavailable")
}

/// Which ranking a digest shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase", tag = "view")]
pub enum View {
    /// The papers of one mailing, ranked by the attention measured so far.
    Mailing,
    /// Papers announced in the last `days` days, scores decayed by age.
    Trending { days: u32 },
}

/// Trending-view inputs: when each paper was announced, and the decay's gravity.
#[derive(Clone, Debug)]
pub struct Trending<'a> {
    pub gravity: f64,
    /// The instant ages are counted to: now for the latest view, the end of the requested
    /// listing day for a dated one (never the wall clock for an old date).
    pub now: DateTime<Utc>,
    /// Paper key → when its mailing was announced.
    pub announced_at: &'a BTreeMap<String, DateTime<Utc>>,
    pub days: u32,
}

/// One ranked paper.
#[derive(Clone, Debug, PartialEq)]
pub struct DigestEntry {
    /// 1-based rank.
    pub rank: usize,
    pub paper: Paper,
    pub announce_type: AnnounceType,
    /// Total score and, per source, what it contributed (why the paper ranks where it does).
    pub score: Score,
    /// Latest value of each `source.metric`.
    pub signals: BTreeMap<String, f64>,
    /// When each source's values were measured (the latest observation of that source).
    pub measured_at: BTreeMap<String, DateTime<Utc>>,
    /// What the paper did and found, in one or two sentences, and where that came from
    /// (filled by the app after ranking; `None` only when no provider had anything to say).
    pub summary: Option<Summary>,
    /// Trending view: hours since the paper was announced (its score is decayed by it).
    pub age_hours: Option<f64>,
    /// Who is talking: the posts that shared the paper, most engagement first (filled by the
    /// app after ranking; at most `max(embed_posts, 1)`).
    pub mentions: Vec<Mention>,
    /// Per source, how its engagement changed since the snapshot before the latest (filled
    /// by the app after ranking; empty for a source measured once).
    pub growth: BTreeMap<String, Growth>,
}

impl DigestEntry {
    /// Its attention per source in people's words, with measurement times and growth.
    pub fn attention(&self) -> Vec<SourceAttention> {
        crate::attention::by_source(&self.signals, &self.measured_at, &self.growth)
    }
}

/// The ranked digest of one mailing.
#[derive(Clone, Debug, PartialEq)]
pub struct Digest {
    /// The mailing's listing date (trending view: the newest mailing covered).
    pub date: NaiveDate,
    pub view: View,
    pub generated_at: DateTime<Utc>,
    /// Category filters applied, as typed canonical names (empty: all categories).
    pub categories: Vec<String>,
    /// Papers in the mailing that passed the filters (before `top`).
    pub candidates: usize,
    pub entries: Vec<DigestEntry>,
    pub sources: Vec<SourceStatus>,
    /// How many of each paper's mentions the Markdown export embeds (`[digest] embed_posts`).
    pub embed_posts: usize,
    /// What the candidates are about, whatever `top` keeps: the Markdown export's tags.
    pub topics: Topics,
}

/// What a digest's candidates (every paper that passed the filters, before `top`) are about:
/// how many list each category and how many are in each arXiv group. Counted before `top`
/// so that a digest's description does not change with how much of it is shown.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Topics {
    /// Canonical category id (aliases folded: `math.IT` counts as `cs.IT`) → candidates
    /// listing it, primary or cross-listed (each paper once per category).
    pub categories: BTreeMap<&'static str, usize>,
    /// Group name (`Computer Science`) → candidates whose primary category is in it.
    pub groups: BTreeMap<&'static str, usize>,
    /// Canonical category id → the summed score of the candidates listing it (ties between
    /// equally frequent categories go to the one with more attention).
    pub scores: BTreeMap<&'static str, f64>,
}

impl Topics {
    /// Counts the topics of papers given as (primary category, categories, score). Categories
    /// unknown to the taxonomy are left out (they have no name to show).
    pub fn of<'a>(papers: impl IntoIterator<Item = (&'a str, &'a [String], f64)>) -> Topics {
        let mut t = Topics::default();
        // A mailing's 3,000 category mentions use a few dozen distinct ids: each is looked up
        // in the taxonomy once.
        let mut known: HashMap<&str, Option<&'static Category>> = HashMap::new();
        let mut lookup = |c: &'a str| *known.entry(c).or_insert_with(|| taxonomy::get(c));
        for (primary, categories, score) in papers {
            let mut seen: Vec<&'static str> = Vec::new();
            for c in categories {
                let Some(cat) = lookup(c) else {
                    continue;
                };
                let id = cat.canonical_id();
                if !seen.contains(&id) {
                    seen.push(id);
                    *t.categories.entry(id).or_default() += 1;
                    *t.scores.entry(id).or_default() += if score.is_finite() { score } else { 0.0 };
                }
            }
            if let Some(cat) = lookup(primary) {
                *t.groups.entry(cat.group.name()).or_default() += 1;
            }
        }
        t
    }

    /// The category listed by most candidates; ties go to the higher summed score, then to
    /// the lower id, so the answer is deterministic.
    pub fn top_category(&self) -> Option<&'static str> {
        self.categories
            .iter()
            .max_by(|a, b| {
                let score = |id: &str| self.scores.get(id).copied().unwrap_or(0.0);
                a.1.cmp(b.1)
                    .then(score(a.0).total_cmp(&score(b.0)))
                    .then(b.0.cmp(a.0))
            })
            .map(|(id, _)| *id)
    }

    /// The group most candidates' primary category is in; ties go to the lower name.
    pub fn top_group(&self) -> Option<&'static str> {
        self.groups
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
            .map(|(name, _)| *name)
    }
}

/// Inputs of [`build`] besides the papers.
#[derive(Clone, Debug)]
pub struct BuildOptions<'a> {
    pub date: NaiveDate,
    pub generated_at: DateTime<Utc>,
    /// How many papers to keep (0 keeps all).
    pub top: usize,
    pub categories: Vec<String>,
    pub rule: &'a RankingRule,
    pub sources: Vec<SourceStatus>,
    /// Include cross-listed papers (announce type `cross`).
    pub include_cross_lists: bool,
    /// Rank as the trending view instead of one mailing.
    pub trending: Option<Trending<'a>>,
}

/// A candidate ranked before its paper's metadata is loaded: what the ranking needs and
/// what the entry will show of it.
#[derive(Clone, Debug, PartialEq)]
pub struct Ranked {
    pub id: ArxivId,
    pub announce_type: AnnounceType,
    pub score: Score,
    pub signals: BTreeMap<String, f64>,
    pub measured_at: BTreeMap<String, DateTime<Utc>>,
    pub age_hours: Option<f64>,
}

/// The ranking of a digest's candidates: the kept top, best first, and what all of them are
/// about. [`Ranking::into_digest`] turns it into a [`Digest`] once the kept papers are loaded.
#[derive(Clone, Debug, PartialEq)]
pub struct Ranking {
    /// Best first, at most `top` of them (all when `top` is 0).
    pub entries: Vec<Ranked>,
    /// Members that passed the filters (before `top`).
    pub candidates: usize,
    pub topics: Topics,
}

/// Ranks the new (and, if asked, cross-listed) members of a mailing that pass `keep`, using
/// their latest `signals`, from their ids and categories alone: a digest shows ten of a
/// mailing's 1,200 papers, so only those ten need their title, abstract and authors.
pub fn rank(
    members: Vec<MailingMember>,
    signals: &[Signal],
    keep: impl Fn(&MailingMember) -> bool,
    opts: &BuildOptions<'_>,
) -> Ranking {
    let mut by_paper = PaperSignals::group(signals);
    let kept: Vec<MailingMember> = members
        .into_iter()
        .filter(|m| {
            m.announce_type == AnnounceType::New
                || (opts.include_cross_lists && m.announce_type == AnnounceType::Cross)
        })
        .filter(|m| keep(m))
        .collect();
    let mut scored: Vec<Ranked> = kept
        .iter()
        .map(|m| {
            let PaperSignals {
                values,
                measured_at,
            } = by_paper.remove(m.id.key()).unwrap_or_default();
            let mut score = opts.rule.score(&values);
            let age_hours = opts.trending.as_ref().map(|t| {
                let announced = t.announced_at.get(m.id.key()).copied().unwrap_or(t.now);
                let age = (t.now - announced).num_seconds() as f64 / 3600.0;
                score.total = crate::ranking::decayed(score.total, age, t.gravity);
                age.max(0.0)
            });
            Ranked {
                id: m.id.clone(),
                announce_type: m.announce_type,
                score,
                signals: values,
                measured_at,
                age_hours,
            }
        })
        .collect();
    let topics = Topics::of(kept.iter().zip(&scored).map(|(m, r)| {
        (
            m.primary_category.as_str(),
            m.categories.as_slice(),
            r.score.total,
        )
    }));
    let candidates = scored.len();
    scored.sort_by(|a, b| opts.rule.compare((&a.id, &a.score), (&b.id, &b.score)));
    if opts.top > 0 {
        scored.truncate(opts.top);
    }
    Ranking {
        entries: scored,
        candidates,
        topics,
    }
}

impl Ranking {
    /// The ids of the kept entries, best first: the papers [`Ranking::into_digest`] needs.
    pub fn ids(&self) -> Vec<ArxivId> {
        self.entries.iter().map(|e| e.id.clone()).collect()
    }

    /// The digest of this ranking with the kept entries' `papers` (in any order). An entry
    /// whose paper is not among them is left out and the ranks close up, so a paper deleted
    /// between the two reads cannot leave a hole.
    pub fn into_digest(self, papers: Vec<Paper>, opts: BuildOptions<'_>) -> Digest {
        let mut by_key: BTreeMap<String, Paper> = papers
            .into_iter()
            .map(|p| (p.id.key().to_string(), p))
            .collect();
        let entries: Vec<DigestEntry> = self
            .entries
            .into_iter()
            .filter_map(|r| {
                let paper = by_key.remove(r.id.key())?;
                Some(DigestEntry {
                    rank: 0,
                    paper,
                    announce_type: r.announce_type,
                    score: r.score,
                    signals: r.signals,
                    measured_at: r.measured_at,
                    summary: None,
                    age_hours: r.age_hours,
                    mentions: Vec::new(),
                    growth: BTreeMap::new(),
                })
            })
            .enumerate()
            .map(|(i, mut e)| {
                e.rank = i + 1;
                e
            })
            .collect();
        Digest {
            date: opts.date,
            view: opts
                .trending
                .as_ref()
                .map_or(View::Mailing, |t| View::Trending { days: t.days }),
            generated_at: opts.generated_at,
            categories: opts.categories,
            candidates: self.candidates,
            entries,
            sources: opts.sources,
            embed_posts: 0,
            topics: self.topics,
        }
    }
}

/// Ranks the new papers of a mailing that pass `keep`, using their latest `signals`: [`rank`]
/// and [`Ranking::into_digest`] in one step, for callers that hold the papers already.
pub fn build(
    papers: Vec<MailingPaper>,
    signals: &[Signal],
    keep: impl Fn(&Paper) -> bool,
    opts: BuildOptions<'_>,
) -> Digest {
    let (members, papers): (Vec<MailingMember>, Vec<Paper>) = papers
        .into_iter()
        .filter(|mp| keep(&mp.paper))
        .map(|mp| {
            let member = MailingMember {
                id: mp.paper.id.clone(),
                announce_type: mp.announce_type,
                primary_category: mp.paper.primary_category.clone(),
                categories: mp.paper.categories.clone(),
            };
            (member, mp.paper)
        })
        .unzip();
    rank(members, signals, |_| true, &opts).into_digest(papers, opts)
}

impl Digest {
    /// "Hot papers of the arXiv mailing of Fri 2021-07-02" (or "Trending arXiv papers of the
    /// 7 days up to …"): what every front end heads a digest with, before its filter.
    pub fn title(&self) -> String {
        let date = self.date.format("%a %Y-%m-%d");
        match self.view {
            View::Mailing => format!("Hot papers of the arXiv mailing of {date}"),
            View::Trending { days } => {
                format!("Trending arXiv papers of the {days} days up to {date}")
            }
        }
    }

    /// "top 10 of 1,200": how many papers are shown out of how many were ranked.
    pub fn shown_of(&self) -> String {
        format!(
            "top {} of {}",
            self.entries.len(),
            crate::number::grouped(self.candidates as f64)
        )
    }

    /// Drops the entries scoring below `min_score` (a subscription's `min_score`). Entries are
    /// sorted by score, so this removes a tail and the remaining ranks stay 1..n.
    pub fn retain_min_score(&mut self, min_score: f64) {
        if min_score > 0.0 {
            self.entries.retain(|e| e.score.total >= min_score);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn paper(key: &str, categories: &[&str]) -> Paper {
        Paper::sample(key, categories)
    }

    fn member(p: &Paper, announce_type: AnnounceType) -> MailingMember {
        MailingMember {
            id: p.id.clone(),
            announce_type,
            primary_category: p.primary_category.clone(),
            categories: p.categories.clone(),
        }
    }

    #[test]
    fn ranking_from_categories_then_loading_the_kept_papers_is_build() {
        let t = Utc.with_ymd_and_hms(2021, 7, 1, 17, 0, 0).unwrap();
        let papers = [
            paper("2107.00001", &["cs.LG"]),
            paper("2107.00002", &["cs.CV", "cs.LG"]),
            paper("2107.00003", &["math.AG"]),
            paper("2107.00004", &["cs.LG"]),
        ];
        let kinds = [
            AnnounceType::New,
            AnnounceType::Cross,
            AnnounceType::New,
            AnnounceType::Replace,
        ];
        let signals: Vec<Signal> = [
            ("2107.00001", 5.0),
            ("2107.00002", 50.0),
            ("2107.00004", 99.0),
        ]
        .into_iter()
        .map(|(id, value)| Signal {
            paper: ArxivId::parse(id).unwrap(),
            source: "x".into(),
            metric: "likes".into(),
            value,
            observed_at: t,
        })
        .collect();
        let rule = RankingRule::default();
        let opts = || BuildOptions {
            date: t.date_naive(),
            generated_at: t,
            top: 2,
            categories: vec![],
            rule: &rule,
            sources: vec![],
            include_cross_lists: true,
            trending: None,
        };
        let members: Vec<MailingMember> = papers
            .iter()
            .zip(kinds)
            .map(|(p, k)| member(p, k))
            .collect();
        let ranking = rank(members.clone(), &signals, |_| true, &opts());
        // The replacement is not a candidate; the cross-list is and ranks first.
        assert_eq!(ranking.candidates, 3);
        let ids: Vec<&str> = ranking.entries.iter().map(|e| e.id.key()).collect();
        assert_eq!(ids, ["2107.00002", "2107.00001"]);
        assert_eq!(ranking.topics.categories.get("cs.LG"), Some(&2));

        let built = build(
            papers
                .iter()
                .zip(kinds)
                .map(|(p, k)| MailingPaper {
                    paper: p.clone(),
                    announce_type: k,
                })
                .collect(),
            &signals,
            |_| true,
            opts(),
        );
        let two_step = ranking.clone().into_digest(papers.to_vec(), opts());
        assert_eq!(two_step, built);
        assert_eq!(built.entries[0].rank, 1);

        // A kept paper that cannot be loaded is left out and the ranks close up.
        let digest = ranking.into_digest(vec![papers[0].clone()], opts());
        assert_eq!(digest.entries.len(), 1);
        assert_eq!(digest.entries[0].paper.id.key(), "2107.00001");
        assert_eq!(digest.entries[0].rank, 1);
        assert_eq!(digest.candidates, 3);

        // `keep` sees categories.
        let math = rank(members, &signals, |m| m.categories[0] == "math.AG", &opts());
        assert_eq!(math.candidates, 1);
        assert_eq!(math.entries[0].id.key(), "2107.00003");
    }
}
