//! Hacker News attention, through Algolia's HN Search API.
//!
//! Stories that link a paper are found by URL: `search_by_date` with
//! `restrictSearchableAttributes=url` and `query=<host>` (one sweep per configured host:
//! `arxiv.org`, `alphaxiv.org`, `huggingface.co/papers`), restricted to the window with
//! `numericFilters=created_at_i>=…,created_at_i<…`. Each story's `url` is mapped to a paper with
//! [`ArxivId::from_url`], so abs/pdf/html/versioned/alphaXiv/Hugging Face links all count for
//! the same paper and a story that merely mentions `arxiv.org` in another kind of link counts for
//! nothing. Per paper: `points` and `comments`, summed over the stories linking it.
//!
//! Algolia never returns more than 1000 hits for one query, whatever the page
//! (`paginationLimitedTo`), so a time range with more matching stories is halved and each half
//! searched on its own, down to [`HnConfig::max_split_depth`] levels; what is still over the cap
//! at that depth is counted as far as Algolia serves it, with a note. A typical day is one request
//! per host (a day has a few dozen arXiv stories), so a sweep costs about 3 requests.
//!
//! Both response shapes seen in practice parse: the current one (alphabetical keys,
//! `created_at` without milliseconds, `story_id` set) and the older one (`.000Z`,
//! `story_id: null`). Hits without a `url` (Ask HN, text posts) are skipped; a hit that is not a
//! story object is skipped with a warning, never failing the sweep.

use std::collections::{BTreeSet, HashSet};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::{Collection, Source, SourceError, Tally, Window};
use crate::arxiv::ArxivId;
use crate::config::{HnConfig, metric, source_name};
use crate::http::{HttpClient, accept_all, base_url};
use crate::store::{Mention, MentionCounts};

/// The source name in config and signal keys.
pub const NAME: &str = source_name::HN;

/// Σ points of the stories linking a paper.
pub const METRIC_POINTS: &str = metric::POINTS;
/// Σ comments of the stories linking a paper.
pub const METRIC_COMMENTS: &str = metric::COMMENTS;

/// Algolia serves at most this many hits per query, whatever the page (`paginationLimitedTo`).
pub const ALGOLIA_HIT_CAP: u64 = 1000;

/// Hacker News via Algolia: see the module docs.
#[derive(Debug, Clone)]
pub struct HnSource {
    http: HttpClient,
    endpoint: String,
    hosts: Vec<String>,
    hits_per_page: u32,
    max_split_depth: u32,
}

/// A story as far as counting goes.
#[derive(Debug, Clone, PartialEq)]
struct Story {
    object_id: String,
    url: Option<String>,
    points: f64,
    comments: f64,
    /// The story's title (empty when Algolia sent none).
    title: String,
    /// The submitter's user name.
    author: Option<String>,
    /// When it was submitted (`created_at_i`, else `created_at`).
    created_at: Option<DateTime<Utc>>,
}

/// One parsed result page.
#[derive(Debug, Clone, PartialEq)]
struct Page {
    stories: Vec<Story>,
    /// Hits that were not story objects (skipped, with a warning).
    skipped: usize,
    /// Matching stories in the whole query (not only this page); Algolia may estimate it.
    nb_hits: u64,
    /// Pages the query has at this `hitsPerPage`.
    nb_pages: u64,
}

#[derive(Deserialize)]
struct RawPage {
    hits: Vec<serde_json::Value>,
    #[serde(rename = "nbHits", default)]
    nb_hits: Option<u64>,
    #[serde(rename = "nbPages", default)]
    nb_pages: Option<u64>,
}

#[derive(Deserialize)]
struct RawHit {
    #[serde(rename = "objectID")]
    object_id: String,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    points: Option<f64>,
    #[serde(default)]
    num_comments: Option<f64>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    author: Option<String>,
    #[serde(default)]
    created_at_i: Option<i64>,
    #[serde(default)]
    created_at: Option<String>,
}

/// Parses one `search` / `search_by_date` answer. Fails only when the page itself is not a
/// search answer; a bad hit is skipped and counted in [`Page::skipped`].
fn parse_page(body: &[u8]) -> Result<Page, String> {
    let raw: RawPage =
        serde_json::from_slice(body).map_err(|e| format!("not a search page: {e}"))?;
    let mut stories = Vec::with_capacity(raw.hits.len());
    let mut skipped = 0;
    for hit in raw.hits {
        match serde_json::from_value::<RawHit>(hit) {
            Ok(h) => stories.push(Story {
                object_id: h.object_id,
                url: h.url.filter(|u| !u.trim().is_empty()),
                // Old stories carry `null` counters; negative ones do not exist on HN.
                points: h.points.unwrap_or(0.0).max(0.0),
                comments: h.num_comments.unwrap_or(0.0).max(0.0),
                title: h.title.unwrap_or_default(),
                author: h.author.filter(|a| !a.trim().is_empty()),
                created_at: h
                    .created_at_i
                    .and_then(|secs| DateTime::from_timestamp(secs, 0))
                    .or_else(|| {
                        h.created_at
                            .as_deref()
                            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                            .map(|t| t.with_timezone(&Utc))
                    }),
            }),
            Err(e) => {
                tracing::warn!(source = NAME, error = %e, "skipping a malformed Hacker News hit");
                skipped += 1;
            }
        }
    }
    let nb_hits = raw.nb_hits.unwrap_or(stories.len() as u64);
    Ok(Page {
        stories,
        skipped,
        nb_hits,
        nb_pages: raw.nb_pages.unwrap_or(1),
    })
}

/// Whole Unix seconds at or after `t`: `created_at_i` is whole seconds, so `>= ceil(since)` and
/// `< ceil(until)` select exactly the stories in `[since, until)`.
fn ceil_secs(t: DateTime<Utc>) -> i64 {
    let s = t.timestamp();
    if t.timestamp_subsec_nanos() > 0 {
        s.saturating_add(1)
    } else {
        s
    }
}

/// A search in progress: what is counted, deduplicated by story.
struct Sweep<'a> {
    papers: &'a BTreeSet<ArxivId>,
    only: Option<ArxivId>,
    seen: HashSet<String>,
    tally: Tally,
    requests: u32,
    mentions: usize,
    notes: Vec<String>,
    /// The stories counted, as mentions stamped with `now`.
    posts: Vec<Mention>,
    now: DateTime<Utc>,
}

impl<'a> Sweep<'a> {
    fn new(papers: &'a BTreeSet<ArxivId>, only: Option<ArxivId>, now: DateTime<Utc>) -> Self {
        Sweep {
            papers,
            only,
            seen: HashSet::new(),
            tally: Tally::default(),
            requests: 0,
            mentions: 0,
            notes: Vec::new(),
            posts: Vec::new(),
            now,
        }
    }

    /// Counts the stories of one page that link a wanted paper, each story once per sweep
    /// (hosts and time slices can return the same story twice).
    fn absorb(&mut self, page: &Page) {
        for story in &page.stories {
            let Some(url) = &story.url else {
                continue; // Ask HN and text posts link nothing
            };
            if !self.seen.insert(story.object_id.clone()) {
                continue;
            }
            let Some(paper) = ArxivId::from_url(url).map(|id| id.versionless()) else {
                tracing::debug!(source = NAME, url = %url, "story link is not an arXiv paper");
                continue;
            };
            let wanted = match &self.only {
                Some(only) => *only == paper,
                None => self.papers.is_empty() || self.papers.contains(&paper),
            };
            if !wanted {
                continue;
            }
            self.tally.add(&paper, METRIC_POINTS, story.points);
            self.tally.add(&paper, METRIC_COMMENTS, story.comments);
            self.mentions += 1;
            self.posts.extend(mention(story, paper, self.now));
        }
    }
}

impl HnSource {
    /// A source searching `cfg.api_url` for stories linking `cfg.hosts`.
    ///
    /// Fails when `api_url` is not an http(s) URL (config validation normally catches that).
    pub fn new(cfg: &HnConfig, http: HttpClient) -> Result<Self, SourceError> {
        let base = base_url(&cfg.api_url, "sources.hn.api_url")?;
        Ok(HnSource {
            http,
            endpoint: format!("{base}/search_by_date"),
            hosts: cfg.hosts.clone(),
            hits_per_page: cfg.hits_per_page.clamp(1, ALGOLIA_HIT_CAP as u32),
            max_split_depth: cfg.max_split_depth,
        })
    }

    /// Pages Algolia can serve for one query at our page size.
    fn max_pages(&self) -> u64 {
        ALGOLIA_HIT_CAP.div_ceil(u64::from(self.hits_per_page))
    }

    /// One `search_by_date` request.
    async fn search(
        &self,
        query: &str,
        range: Option<(i64, i64)>,
        page: u64,
    ) -> Result<Page, SourceError> {
        let mut params: Vec<(&str, String)> = vec![
            ("query", query.to_string()),
            ("restrictSearchableAttributes", "url".into()),
            ("tags", "story".into()),
            ("hitsPerPage", self.hits_per_page.to_string()),
            ("page", page.to_string()),
        ];
        if let Some((since, until)) = range {
            params.push((
                "numericFilters",
                format!("created_at_i>={since},created_at_i<{until}"),
            ));
        }
        let resp = self
            .http
            .send(
                || self.http.reqwest().get(&self.endpoint).query(&params),
                accept_all,
            )
            .await?;
        parse_page(&resp.body).map_err(|message| SourceError::Malformed {
            source_name: NAME,
            message: format!("{message} (from {})", resp.url),
        })
    }

    /// Pages through one query whose first page is `first`, absorbing every page.
    async fn page_through(
        &self,
        sweep: &mut Sweep<'_>,
        query: &str,
        range: Option<(i64, i64)>,
        first: Page,
    ) -> Result<(), SourceError> {
        let pages = first.nb_pages.min(self.max_pages());
        sweep.absorb(&first);
        let mut page = 1;
        while page < pages {
            let next = self.search(query, range, page).await?;
            sweep.requests += 1;
            sweep.absorb(&next);
            if next.stories.is_empty() && next.skipped == 0 {
                break; // the estimate of nbPages was generous
            }
            page += 1;
        }
        Ok(())
    }

    /// Every story linking `host` in `[since, until)`, halving ranges over Algolia's cap.
    async fn sweep_host(
        &self,
        sweep: &mut Sweep<'_>,
        host: &str,
        since: i64,
        until: i64,
    ) -> Result<(), SourceError> {
        let mut ranges = vec![(since, until, 0u32)];
        while let Some((a, b, depth)) = ranges.pop() {
            let first = self.search(host, Some((a, b)), 0).await?;
            sweep.requests += 1;
            if first.nb_hits > ALGOLIA_HIT_CAP {
                if depth < self.max_split_depth && b - a >= 2 {
                    let mid = a + (b - a) / 2;
                    // Newest half last so it is searched first, like search_by_date's order.
                    ranges.push((a, mid, depth + 1));
                    ranges.push((mid, b, depth + 1));
                    continue;
                }
                sweep.notes.push(format!(
                    "hn: {} stories linking {host} between {} and {} exceed Algolia's {} results \
                     per query; only the newest {} were counted",
                    first.nb_hits,
                    format_unix(a),
                    format_unix(b),
                    ALGOLIA_HIT_CAP,
                    ALGOLIA_HIT_CAP
                ));
            }
            self.page_through(sweep, host, Some((a, b)), first).await?;
        }
        Ok(())
    }
}

#[async_trait]
impl Source for HnSource {
    fn name(&self) -> &'static str {
        NAME
    }

    /// One sweep per host over the window (ranges over Algolia's cap are split); stories are
    /// counted once even when several hosts or slices return them. Requests: about one per host
    /// on a normal day. An empty window makes no request.
    async fn collect(
        &self,
        window: Window,
        papers: &BTreeSet<ArxivId>,
        now: DateTime<Utc>,
    ) -> Result<Collection, SourceError> {
        let papers: BTreeSet<ArxivId> = papers.iter().map(ArxivId::versionless).collect();
        let (since, until) = (ceil_secs(window.since), ceil_secs(window.until));
        let mut sweep = Sweep::new(&papers, None, now);
        if since < until {
            for host in &self.hosts {
                self.sweep_host(&mut sweep, host, since, until).await?;
            }
        }
        let Sweep {
            tally,
            requests,
            mentions,
            notes,
            posts,
            ..
        } = sweep;
        Ok(Collection {
            signals: tally.into_signals(NAME, &papers, now),
            requests,
            mentions,
            notes,
            extras: Vec::new(),
            posts,
        })
    }

    /// Stories whose URL matches the paper's id (`query=<id>`, all time), counted when their
    /// link maps to this paper. No story: no signals.
    async fn lookup(&self, paper: &ArxivId, now: DateTime<Utc>) -> Result<Collection, SourceError> {
        let paper = paper.versionless();
        let none = BTreeSet::new();
        let mut sweep = Sweep::new(&none, Some(paper.clone()), now);
        let first = self.search(paper.key(), None, 0).await?;
        sweep.requests += 1;
        self.page_through(&mut sweep, paper.key(), None, first)
            .await?;
        Ok(Collection {
            signals: sweep.tally.into_signals(NAME, &none, now),
            requests: sweep.requests,
            mentions: sweep.mentions,
            notes: sweep.notes,
            extras: Vec::new(),
            posts: sweep.posts,
        })
    }
}

/// The public page of a Hacker News item.
pub fn item_url(object_id: &str) -> String {
    format!("https://news.ycombinator.com/item?id={object_id}")
}

/// A counted story as a mention of `paper`: its title is what it says, its points and
/// comments are its counts. A story without a time is dated when it was seen. HN item ids are
/// numbers; a hit with any other id is counted but not shown (its link would be made up).
fn mention(story: &Story, paper: ArxivId, now: DateTime<Utc>) -> Option<Mention> {
    let id = &story.object_id;
    if id.is_empty() || id.len() > 20 || !id.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(Mention {
        paper,
        source: NAME.to_string(),
        post_id: story.object_id.clone(),
        author_handle: story.author.clone(),
        author_name: None,
        text: story.title.clone(),
        url: item_url(&story.object_id),
        posted_at: story.created_at.unwrap_or(now),
        counts: MentionCounts {
            points: as_count(story.points),
            replies: as_count(story.comments),
            ..MentionCounts::default()
        },
        observed_at: now,
    })
}

/// A counter parsed as a float (Algolia's `points` can be null or fractional in old records)
/// as a whole count; NaN and negatives are 0.
fn as_count(v: f64) -> u64 {
    if v.is_finite() && v > 0.0 {
        v.round().min(u64::MAX as f64) as u64
    } else {
        0
    }
}

fn format_unix(secs: i64) -> String {
    DateTime::<Utc>::from_timestamp(secs, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M:%SZ").to_string())
        .unwrap_or_else(|| secs.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const CURRENT: &str = include_str!("../../tests/fixtures/hn_algolia_search_story.json");
    const LEGACY: &str =
        include_str!("../../tests/fixtures/hn_algolia_search_url_numericfilters_legacy.json");

    #[test]
    fn current_shape_parses_and_ask_hn_has_no_url() {
        let page = parse_page(CURRENT.as_bytes()).unwrap();
        assert_eq!(page.nb_hits, 1);
        assert_eq!(page.nb_pages, 1);
        assert_eq!(page.skipped, 0);
        assert_eq!(
            page.stories,
            vec![Story {
                object_id: "13133437".into(),
                url: None,
                points: 1.0,
                comments: 0.0,
                title: "Ask HN: How would I visualize URL propagation in the blogosphere?".into(),
                author: Some("anigbrowl".into()),
                created_at: Some(Utc.with_ymd_and_hms(2016, 12, 8, 19, 39, 7).unwrap()),
            }]
        );
    }

    #[test]
    fn legacy_shape_parses() {
        let page = parse_page(LEGACY.as_bytes()).unwrap();
        assert_eq!((page.nb_hits, page.nb_pages), (139, 139));
        assert_eq!(page.stories.len(), 1);
        let s = &page.stories[0];
        assert_eq!(s.object_id, "12422420");
        assert_eq!(
            s.url.as_deref(),
            Some("http://atom-morgan.github.io/in-defense-of-douglas-crockford")
        );
        assert_eq!((s.points, s.comments), (611.0, 381.0));
        assert_eq!(s.title, "In defence of Douglas Crockford");
        assert_eq!(s.author.as_deref(), Some("ramblerman"));
        assert_eq!(
            s.created_at,
            Some(Utc.with_ymd_and_hms(2016, 9, 4, 2, 50, 35).unwrap())
        );
    }

    #[test]
    fn a_story_time_falls_back_to_created_at_and_odd_ids_are_not_shown() {
        let body = br#"{"hits":[
            {"objectID":"7","url":"https://arxiv.org/abs/2107.00641","created_at":"2021-07-02T10:00:00Z","points":3.6},
            {"objectID":"x\"><script>","url":"https://arxiv.org/abs/2107.00641","points":9}
        ]}"#;
        let page = parse_page(body).unwrap();
        let t = Utc.with_ymd_and_hms(2021, 7, 2, 10, 0, 0).unwrap();
        assert_eq!(page.stories[0].created_at, Some(t));
        let none = BTreeSet::new();
        let mut sweep = Sweep::new(&none, None, t);
        sweep.absorb(&page);
        assert_eq!(sweep.mentions, 2, "both stories count");
        assert_eq!(sweep.posts.len(), 1, "only the real item id is shown");
        let m = &sweep.posts[0];
        assert_eq!(m.url, "https://news.ycombinator.com/item?id=7");
        assert_eq!((m.counts.points, m.engagement()), (4, 4));
        assert_eq!(m.author_handle, None);
    }

    #[test]
    fn bad_hits_are_skipped_and_bad_pages_rejected() {
        let body = br#"{"hits":[
            {"objectID":"1","url":"https://arxiv.org/abs/2107.00641","points":5,"num_comments":null},
            {"url":"https://arxiv.org/abs/2107.00642"},
            {"objectID":"3","points":"many"},
            42
        ],"nbHits":4,"nbPages":1}"#;
        let page = parse_page(body).unwrap();
        assert_eq!(page.skipped, 3);
        assert_eq!(page.stories.len(), 1);
        assert_eq!(page.stories[0].comments, 0.0);

        for bad in [
            &b"<html>oops</html>"[..],
            b"",
            b"[]",
            b"{\"nbHits\":1}",
            b"{\"hits\":{}}",
            b"{\"hits\":[],\"nbHits\":-1}",
            b"{\"hits\":[",
        ] {
            assert!(parse_page(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn missing_totals_default_to_the_page() {
        let page = parse_page(br#"{"hits":[{"objectID":"1"}]}"#).unwrap();
        assert_eq!((page.nb_hits, page.nb_pages), (1, 1));
    }

    #[test]
    fn ceil_secs_rounds_fractions_up() {
        let t = Utc.with_ymd_and_hms(2021, 7, 1, 18, 0, 0).unwrap();
        assert_eq!(ceil_secs(t), t.timestamp());
        assert_eq!(
            ceil_secs(t + chrono::Duration::milliseconds(1)),
            t.timestamp() + 1
        );
        assert_eq!(
            ceil_secs(t - chrono::Duration::milliseconds(1)),
            t.timestamp()
        );
    }

    #[test]
    fn sweep_counts_each_story_once_and_filters_papers() {
        let wanted: BTreeSet<ArxivId> = [ArxivId::parse("2107.00641").unwrap()].into();
        let mut sweep = Sweep::new(&wanted, None, Utc::now());
        let story = |id: &str, url: &str, points: f64| Story {
            object_id: id.into(),
            url: Some(url.into()),
            points,
            comments: 1.0,
            title: format!("Story {id}"),
            author: Some("pg".into()),
            created_at: None,
        };
        let page = Page {
            stories: vec![
                story("1", "https://arxiv.org/abs/2107.00641v2", 10.0),
                story("1", "https://arxiv.org/abs/2107.00641v2", 10.0), // duplicate
                story("2", "https://www.alphaxiv.org/abs/2107.00641", 5.0),
                story("3", "https://arxiv.org/abs/2107.00642", 100.0), // not wanted
                story("4", "https://arxiv.org/list/cs.LG/recent", 7.0), // not a paper
                story("5", "https://example.org/2107.00641", 7.0),     // not an arXiv link
            ],
            skipped: 0,
            nb_hits: 6,
            nb_pages: 1,
        };
        sweep.absorb(&page);
        assert_eq!(sweep.mentions, 2);
        let now = Utc.with_ymd_and_hms(2021, 7, 2, 0, 0, 0).unwrap();
        let signals = sweep.tally.into_signals(NAME, &wanted, now);
        let values: Vec<(&str, f64)> = signals
            .iter()
            .map(|s| (s.metric.as_str(), s.value))
            .collect();
        assert_eq!(values, vec![("comments", 2.0), ("points", 15.0)]);
        assert!(signals.iter().all(|s| s.paper.key() == "2107.00641"));
    }
}
