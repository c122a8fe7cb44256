//! Hugging Face Papers attention: upvotes and comments of the papers featured on HF's Daily
//! Papers, plus the text HF adds about them (AI summary and keywords, code and project links).
//!
//! `collect` reads `GET {api_url}/api/daily_papers?date=YYYY-MM-DD&limit=100&p=N` for every UTC
//! date the window touches, never a date after today in UTC (HF errors on those; a weekend date
//! simply answers `[]`), paging while a page comes back full. That is one request per day of
//! window: a mailing's one-day window costs 1–2 requests, whatever the number of papers.
//!
//! Item shape (`hf_daily_papers.json`): **`upvotes` is inside `paper`, `numComments` is outside
//! it**; `paper.id` is the version-less arXiv id. A paper listed on several dates is counted once
//! (its counters are totals, not per-day increments), with the largest value seen. Metrics:
//! `upvotes`, `comments`, and `github_stars` when HF knows the code repository (informational).
//! Extras: [`EXTRA_AI_SUMMARY`], [`EXTRA_AI_KEYWORDS`] (a JSON array of strings),
//! [`EXTRA_GITHUB_REPO`], [`EXTRA_PROJECT_PAGE`]; absent or empty values are left out (HF has no
//! AI summary for the freshest papers).
//!
//! HF announces its quota in a `RateLimit: "api";r=<remaining>;t=<seconds to reset>` header
//! (500 requests per 5 minutes anonymously). When a response says nothing remains, the next
//! request waits for the reset (through the [`crate::clock::Clock`], capped at the HTTP retry
//! policy's `max_delay`) instead of earning a 429; a 429 itself is retried by [`HttpClient`]
//! honouring `Retry-After`. The optional token goes in an `Authorization: Bearer` header only.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;

use super::{Collection, Source, SourceError, Tally, Window};
use crate::arxiv::ArxivId;
use crate::config::{HfConfig, Secret, metric, source_name};
use crate::http::{HttpClient, HttpError, Response, accept_all, base_url};
use crate::store::Extra;

/// The source name in config and signal keys.
pub const NAME: &str = source_name::HF;

/// The paper's upvotes on Hugging Face.
pub const METRIC_UPVOTES: &str = metric::UPVOTES;
/// Comments in the paper's HF discussion.
pub const METRIC_COMMENTS: &str = metric::COMMENTS;
/// Stars of the paper's GitHub repository, as HF last saw them (informational).
pub const METRIC_GITHUB_STARS: &str = metric::GITHUB_STARS;

/// Extra key: HF's one-paragraph AI summary.
pub const EXTRA_AI_SUMMARY: &str = "ai_summary";
/// Extra key: HF's AI keywords, as a JSON array of strings.
pub const EXTRA_AI_KEYWORDS: &str = "ai_keywords";
/// Extra key: the paper's code repository URL.
pub const EXTRA_GITHUB_REPO: &str = "github_repo";
/// Extra key: the paper's project page URL.
pub const EXTRA_PROJECT_PAGE: &str = "project_page";

/// At most this many dates are read per sweep (the most recent ones), so a mistaken window of
/// years cannot cost thousands of requests.
pub const MAX_DAYS: usize = 62;

/// At most this many pages are read per date: HF features a few dozen papers a day, so a date
/// that keeps returning full pages is a server ignoring `p`, not a busy day.
const MAX_PAGES_PER_DAY: u32 = 20;

/// Hugging Face Daily Papers: see the module docs.
#[derive(Debug)]
pub struct HfSource {
    http: HttpClient,
    base: String,
    token: Option<Secret>,
    page_size: u32,
}

/// The `paper` object of a daily item, and the whole answer of `/api/papers/{id}`.
#[derive(Debug, Deserialize)]
struct RawPaper {
    id: String,
    #[serde(default)]
    upvotes: Option<f64>,
    /// Present on `/api/papers/{id}` answers when HF counts comments there.
    #[serde(rename = "numComments", default)]
    num_comments: Option<f64>,
    #[serde(rename = "githubStars", default)]
    github_stars: Option<f64>,
    #[serde(rename = "githubRepo", default)]
    github_repo: Option<String>,
    #[serde(rename = "projectPage", default)]
    project_page: Option<String>,
    #[serde(default)]
    ai_summary: Option<String>,
    #[serde(default)]
    ai_keywords: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
struct RawItem {
    paper: RawPaper,
    #[serde(rename = "numComments", default)]
    num_comments: Option<f64>,
}

/// What HF says about one paper.
#[derive(Debug, Clone, PartialEq)]
struct Observation {
    paper: ArxivId,
    upvotes: f64,
    comments: Option<f64>,
    github_stars: Option<f64>,
    /// (key, value) pairs, non-empty values only.
    texts: Vec<(&'static str, String)>,
}

impl Observation {
    /// Reads a paper object; `comments` is the item's `numComments` when it comes from a daily
    /// item. Fails (with a reason) when the object has no usable id or upvotes.
    fn from_raw(raw: RawPaper, comments: Option<f64>) -> Result<Observation, String> {
        let paper = ArxivId::parse(&raw.id)
            .map_err(|e| format!("paper id: {e}"))?
            .versionless();
        let upvotes = raw
            .upvotes
            .ok_or_else(|| format!("paper {paper} has no upvotes"))?
            .max(0.0);
        let mut texts = Vec::new();
        let mut text = |key: &'static str, value: Option<String>| {
            if let Some(v) = value
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
            {
                texts.push((key, v));
            }
        };
        text(EXTRA_AI_SUMMARY, raw.ai_summary);
        text(EXTRA_AI_KEYWORDS, keywords_json(raw.ai_keywords));
        text(EXTRA_GITHUB_REPO, raw.github_repo);
        text(EXTRA_PROJECT_PAGE, raw.project_page);
        Ok(Observation {
            paper,
            upvotes,
            comments: comments.or(raw.num_comments).map(|c| c.max(0.0)),
            github_stars: raw.github_stars.map(|s| s.max(0.0)),
            texts,
        })
    }

    /// Folds a second sighting of the same paper in: counters keep their largest value (they
    /// are totals), text its first value.
    fn merge(&mut self, other: Observation) {
        self.upvotes = self.upvotes.max(other.upvotes);
        self.comments = max_opt(self.comments, other.comments);
        self.github_stars = max_opt(self.github_stars, other.github_stars);
        for (key, value) in other.texts {
            if !self.texts.iter().any(|(k, _)| *k == key) {
                self.texts.push((key, value));
            }
        }
    }

    fn add_to(&self, tally: &mut Tally) {
        tally.add(&self.paper, METRIC_UPVOTES, self.upvotes);
        if let Some(c) = self.comments {
            tally.add(&self.paper, METRIC_COMMENTS, c);
        }
        if let Some(s) = self.github_stars {
            tally.add(&self.paper, METRIC_GITHUB_STARS, s);
        }
    }

    fn extras(&self, now: DateTime<Utc>) -> impl Iterator<Item = Extra> + '_ {
        self.texts.iter().map(move |(key, value)| Extra {
            paper: self.paper.clone(),
            source: NAME.to_string(),
            key: (*key).to_string(),
            value: value.clone(),
            observed_at: now,
        })
    }
}

fn max_opt(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, y) => x.or(y),
    }
}

/// The string keywords as a JSON array, or `None` when there are none.
fn keywords_json(value: Option<serde_json::Value>) -> Option<String> {
    let serde_json::Value::Array(items) = value? else {
        return None;
    };
    let words: Vec<serde_json::Value> = items
        .into_iter()
        .filter_map(|v| match v {
            serde_json::Value::String(s) if !s.trim().is_empty() => {
                Some(serde_json::Value::String(s.trim().to_string()))
            }
            _ => None,
        })
        .collect();
    (!words.is_empty()).then(|| serde_json::Value::Array(words).to_string())
}

/// Parses a `daily_papers` page: the items that could be read, and how many could not.
fn parse_daily(body: &[u8]) -> Result<(Vec<Observation>, usize, usize), String> {
    let items: Vec<serde_json::Value> =
        serde_json::from_slice(body).map_err(|e| format!("not a list of daily papers: {e}"))?;
    let total = items.len();
    let mut out = Vec::with_capacity(total);
    let mut skipped = 0;
    for item in items {
        let parsed = serde_json::from_value::<RawItem>(item)
            .map_err(|e| e.to_string())
            .and_then(|raw| Observation::from_raw(raw.paper, raw.num_comments));
        match parsed {
            Ok(obs) => out.push(obs),
            Err(e) => {
                tracing::warn!(source = NAME, error = %e, "skipping a malformed daily paper");
                skipped += 1;
            }
        }
    }
    Ok((out, skipped, total))
}

/// Remaining requests and seconds until the quota resets, from `RateLimit: "api";r=0;t=42`
/// (the IETF structured form HF sends) or the older `RateLimit-Remaining` / `RateLimit-Reset`
/// pair.
fn rate_limit(resp: &Response) -> Option<(u64, u64)> {
    if let Some(value) = resp.header("ratelimit") {
        let mut remaining = None;
        let mut reset = None;
        for param in value.split([';', ',']) {
            let Some((k, v)) = param.trim().split_once('=') else {
                continue;
            };
            let v = v.trim().trim_matches('"').parse::<u64>().ok();
            match k.trim() {
                "r" | "remaining" => remaining = remaining.or(v),
                "t" | "reset" => reset = reset.or(v),
                _ => {}
            }
        }
        if let (Some(r), Some(t)) = (remaining, reset) {
            return Some((r, t));
        }
    }
    let remaining = resp.header("ratelimit-remaining")?.trim().parse().ok()?;
    let reset = resp.header("ratelimit-reset")?.trim().parse().ok()?;
    Some((remaining, reset))
}

/// Every UTC date `window` touches, up to `today`, the most recent [`MAX_DAYS`] of them.
/// Returns the dates and whether some were cut.
fn dates_in(window: Window, today: NaiveDate) -> (Vec<NaiveDate>, bool) {
    if window.since >= window.until {
        return (Vec::new(), false);
    }
    let first = window.since.date_naive();
    let last_in_window = (window.until - chrono::Duration::nanoseconds(1)).date_naive();
    let last = last_in_window.min(today);
    let mut dates: Vec<NaiveDate> = first.iter_days().take_while(|d| *d <= last).collect();
    let cut = dates.len() > MAX_DAYS;
    if cut {
        dates.drain(..dates.len() - MAX_DAYS);
    }
    (dates, cut)
}

impl HfSource {
    /// A source reading `cfg.api_url`, with `cfg.token` if set.
    ///
    /// Fails when `api_url` is not an http(s) URL (config validation normally catches that).
    pub fn new(cfg: &HfConfig, http: HttpClient) -> Result<Self, SourceError> {
        Ok(HfSource {
            base: base_url(&cfg.api_url, "sources.hf.api_url")?,
            http,
            token: cfg.token.clone(),
            page_size: cfg.page_size.clamp(1, 100),
        })
    }

    /// One GET with the token (if any); 401/403 become [`SourceError::Auth`].
    async fn get(&self, url: &str, query: &[(&str, String)]) -> Result<Response, HttpError> {
        self.http
            .send(
                || {
                    let req = self.http.reqwest().get(url).query(query);
                    match &self.token {
                        Some(t) => req.bearer_auth(t.expose()),
                        None => req,
                    }
                },
                accept_all,
            )
            .await
    }

    fn auth_or_http(&self, e: HttpError) -> SourceError {
        match e.status() {
            Some(status @ (401 | 403)) => SourceError::Auth {
                source_name: NAME,
                message: if self.token.is_some() {
                    format!("Hugging Face rejected the token in sources.hf.token (HTTP {status})")
                } else {
                    format!(
                        "Hugging Face refused anonymous access (HTTP {status}); set sources.hf.token"
                    )
                },
            },
            _ => SourceError::Http(e),
        }
    }

    /// Waits out an exhausted quota announced by the previous response.
    async fn respect_quota(&self, pending: &mut Option<Duration>) {
        if let Some(wait) = pending.take() {
            let wait = wait.min(self.http.options().retry.max_delay);
            tracing::info!(
                source = NAME,
                wait_s = wait.as_secs(),
                "Hugging Face quota used up; waiting for it to reset"
            );
            self.http.clock().sleep(wait).await;
        }
    }

    /// The paper as HF's paper page API knows it; `None` when HF does not have it (404).
    async fn fetch_paper(&self, paper: &ArxivId) -> Result<Option<Observation>, SourceError> {
        let url = format!("{}/api/papers/{}", self.base, paper.key());
        let resp = match self.get(&url, &[]).await {
            Ok(resp) => resp,
            Err(e) if e.status() == Some(404) => return Ok(None),
            Err(e) => return Err(self.auth_or_http(e)),
        };
        let malformed = |message: String| SourceError::Malformed {
            source_name: NAME,
            message: format!("{message} (from {})", resp.url),
        };
        let raw: RawPaper = serde_json::from_slice(&resp.body)
            .map_err(|e| malformed(format!("not a paper: {e}")))?;
        let obs = Observation::from_raw(raw, None).map_err(malformed)?;
        if obs.paper != *paper {
            return Err(malformed(format!(
                "asked for paper {paper}, got paper {}",
                obs.paper
            )));
        }
        Ok(Some(obs))
    }
}

#[async_trait]
impl Source for HfSource {
    fn name(&self) -> &'static str {
        NAME
    }

    /// One request per date touched by the window (more only for a date with more papers than
    /// a page holds). Dates after `now`'s UTC date are never asked for; an empty window or one
    /// entirely in the future makes no request.
    async fn collect(
        &self,
        window: Window,
        papers: &BTreeSet<ArxivId>,
        now: DateTime<Utc>,
    ) -> Result<Collection, SourceError> {
        let papers: BTreeSet<ArxivId> = papers.iter().map(ArxivId::versionless).collect();
        let (dates, cut) = dates_in(window, now.date_naive());
        let mut out = Collection::default();
        if cut {
            out.notes.push(format!(
                "hf: the window spans more than {MAX_DAYS} days; only the last {MAX_DAYS} were read"
            ));
        }
        let url = format!("{}/api/daily_papers", self.base);
        let mut seen: BTreeMap<ArxivId, Observation> = BTreeMap::new();
        let mut quota_wait = None;
        for date in dates {
            let mut page = 0u32;
            loop {
                self.respect_quota(&mut quota_wait).await;
                let query = [
                    ("date", date.format("%Y-%m-%d").to_string()),
                    ("limit", self.page_size.to_string()),
                    ("p", page.to_string()),
                ];
                let resp = self
                    .get(&url, &query)
                    .await
                    .map_err(|e| self.auth_or_http(e))?;
                out.requests += 1;
                if let Some((0, reset)) = rate_limit(&resp) {
                    quota_wait = Some(Duration::from_secs(reset));
                }
                let (observations, skipped, total) =
                    parse_daily(&resp.body).map_err(|message| SourceError::Malformed {
                        source_name: NAME,
                        message: format!("{message} (from {})", resp.url),
                    })?;
                if skipped > 0 {
                    out.notes.push(format!(
                        "hf: skipped {skipped} unreadable item(s) of {date} page {page}"
                    ));
                }
                for obs in observations {
                    if !papers.is_empty() && !papers.contains(&obs.paper) {
                        continue;
                    }
                    match seen.get_mut(&obs.paper) {
                        Some(prev) => prev.merge(obs),
                        None => {
                            seen.insert(obs.paper.clone(), obs);
                        }
                    }
                }
                if total < self.page_size as usize {
                    break;
                }
                page += 1;
                if page >= MAX_PAGES_PER_DAY {
                    out.notes.push(format!(
                        "hf: {date} still had full pages after {MAX_PAGES_PER_DAY}; stopped there"
                    ));
                    break;
                }
            }
        }
        let mut tally = Tally::default();
        for obs in seen.values() {
            obs.add_to(&mut tally);
            out.extras.extend(obs.extras(now));
        }
        out.mentions = seen.len();
        out.signals = tally.into_signals(NAME, &papers, now);
        Ok(out)
    }

    /// `GET {api_url}/api/papers/{id}`: the paper's counters, AI summary, keywords and links
    /// now; a paper HF does not have (404) has none.
    async fn lookup(&self, paper: &ArxivId, now: DateTime<Utc>) -> Result<Collection, SourceError> {
        let paper = paper.versionless();
        let mut out = Collection {
            requests: 1,
            ..Collection::default()
        };
        if let Some(obs) = self.fetch_paper(&paper).await? {
            let mut tally = Tally::default();
            obs.add_to(&mut tally);
            out.mentions = 1;
            out.signals = tally.into_signals(NAME, &BTreeSet::new(), now);
            out.extras = obs.extras(now).collect();
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const DAILY: &str = include_str!("../../tests/fixtures/hf_daily_papers.json");

    fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap()
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn real_item_parses_with_upvotes_inside_and_comments_outside() {
        let (obs, skipped, total) = parse_daily(DAILY.as_bytes()).unwrap();
        assert_eq!((skipped, total), (0, 1));
        let o = &obs[0];
        assert_eq!(o.paper.key(), "2602.23229");
        assert_eq!(o.upvotes, 10.0);
        assert_eq!(o.comments, Some(1.0));
        assert_eq!(o.github_stars, Some(9.0));
        let keys: Vec<&str> = o.texts.iter().map(|(k, _)| *k).collect();
        assert_eq!(
            keys,
            [
                EXTRA_AI_SUMMARY,
                EXTRA_AI_KEYWORDS,
                EXTRA_GITHUB_REPO,
                EXTRA_PROJECT_PAGE
            ]
        );
        let keywords: Vec<String> = serde_json::from_str(&o.texts[1].1).unwrap();
        assert_eq!(keywords.len(), 9);
        assert_eq!(keywords[0], "Vision-Language Models");
        assert_eq!(o.texts[2].1, "https://github.com/marco-garosi/CIRCLE");
        assert!(
            o.texts[0]
                .1
                .starts_with("Large Multimodal Models demonstrate")
        );
    }

    #[test]
    fn bad_items_are_skipped_and_bad_pages_rejected() {
        let body = br#"[
            {"paper":{"id":"2107.00641","upvotes":3},"numComments":2},
            {"paper":{"id":"not an id","upvotes":3}},
            {"paper":{"id":"2107.00642"}},
            {"numComments":1},
            {"paper":{"id":"2107.00643","upvotes":"x"}},
            {"paper":{"id":"2107.00644","upvotes":1,"ai_summary":"  ","ai_keywords":[1,"",null],"githubRepo":null}},
            7
        ]"#;
        let (obs, skipped, total) = parse_daily(body).unwrap();
        assert_eq!((obs.len(), skipped, total), (2, 5, 7));
        assert_eq!(obs[0].comments, Some(2.0));
        assert_eq!(obs[1].comments, None);
        assert!(obs[1].texts.is_empty(), "{:?}", obs[1].texts);
        for bad in [
            &b"{}"[..],
            b"",
            b"<html>",
            b"[{\"paper\":",
            b"{\"error\":\"x\"}",
        ] {
            assert!(
                parse_daily(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        assert_eq!(parse_daily(b"[]").unwrap(), (Vec::new(), 0, 0));
    }

    #[test]
    fn merge_keeps_largest_counters_and_first_texts() {
        let (mut a, ..) = parse_daily(DAILY.as_bytes()).unwrap();
        let mut first = a.remove(0);
        let second = Observation {
            paper: first.paper.clone(),
            upvotes: 25.0,
            comments: None,
            github_stars: Some(3.0),
            texts: vec![(EXTRA_AI_SUMMARY, "other".into())],
        };
        first.merge(second);
        assert_eq!(first.upvotes, 25.0);
        assert_eq!(first.comments, Some(1.0));
        assert_eq!(first.github_stars, Some(9.0));
        assert!(first.texts[0].1.starts_with("Large Multimodal"));
    }

    #[test]
    fn dates_cover_the_window_up_to_today() {
        let w = |a, b| Window { since: a, until: b };
        // A mailing window: 18:00 to 18:00 touches two dates.
        let (d, cut) = dates_in(w(at(2021, 6, 30, 18), at(2021, 7, 1, 18)), date(2021, 7, 2));
        assert_eq!(d, vec![date(2021, 6, 30), date(2021, 7, 1)]);
        assert!(!cut);
        // Ending exactly at midnight does not touch the next date.
        let (d, _) = dates_in(w(at(2021, 7, 1, 0), at(2021, 7, 2, 0)), date(2021, 7, 9));
        assert_eq!(d, vec![date(2021, 7, 1)]);
        // Never after today.
        let (d, _) = dates_in(w(at(2021, 7, 1, 0), at(2021, 7, 5, 0)), date(2021, 7, 2));
        assert_eq!(d, vec![date(2021, 7, 1), date(2021, 7, 2)]);
        // Entirely in the future, empty, inverted: nothing.
        assert!(
            dates_in(w(at(2021, 7, 3, 0), at(2021, 7, 5, 0)), date(2021, 7, 2))
                .0
                .is_empty()
        );
        assert!(
            dates_in(w(at(2021, 7, 3, 0), at(2021, 7, 3, 0)), date(2021, 7, 9))
                .0
                .is_empty()
        );
        assert!(
            dates_in(w(at(2021, 7, 4, 0), at(2021, 7, 3, 0)), date(2021, 7, 9))
                .0
                .is_empty()
        );
        // A huge window keeps the most recent days.
        let (d, cut) = dates_in(w(at(2020, 1, 1, 0), at(2021, 7, 2, 0)), date(2021, 7, 9));
        assert!(cut);
        assert_eq!(d.len(), MAX_DAYS);
        assert_eq!(d.last(), Some(&date(2021, 7, 1)));
    }

    fn response_with(headers: &[(&str, &str)]) -> Response {
        let mut map = reqwest::header::HeaderMap::new();
        for (k, v) in headers {
            map.insert(
                reqwest::header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                reqwest::header::HeaderValue::from_str(v).unwrap(),
            );
        }
        Response::new(
            200,
            map,
            bytes::Bytes::new(),
            "http://hf.test/api/daily_papers".into(),
        )
    }

    #[test]
    fn rate_limit_headers_in_both_forms() {
        let r = |h: &[(&str, &str)]| rate_limit(&response_with(h));
        assert_eq!(r(&[("ratelimit", "\"api\";r=0;t=42")]), Some((0, 42)));
        assert_eq!(r(&[("ratelimit", "\"api\";r=499;t=300")]), Some((499, 300)));
        assert_eq!(
            r(&[("ratelimit", "limit=500, remaining=3, reset=9")]),
            Some((3, 9))
        );
        assert_eq!(
            r(&[("ratelimit-remaining", "0"), ("ratelimit-reset", " 17 ")]),
            Some((0, 17))
        );
        // Unusable values mean "not announced".
        assert_eq!(r(&[("ratelimit", "\"api\";r=0")]), None);
        assert_eq!(r(&[("ratelimit", "\"api\";r=-1;t=x")]), None);
        assert_eq!(r(&[("ratelimit-remaining", "0")]), None);
        assert_eq!(r(&[]), None);
    }

    #[test]
    fn keywords_keep_strings_only() {
        assert_eq!(
            keywords_json(Some(serde_json::json!(["a", " b ", 3, "", "c\"d"]))),
            Some(r#"["a","b","c\"d"]"#.to_string())
        );
        assert_eq!(keywords_json(Some(serde_json::json!("a"))), None);
        assert_eq!(keywords_json(Some(serde_json::json!([]))), None);
        assert_eq!(keywords_json(None), None);
    }
}
