//! X (Twitter): tweets that link arXiv papers, counted per paper.
//!
//! The seed post ranked a mailing by "retweets + favorites", so X is the source that reproduces
//! it. The API is paid per post read (see `shared/notes/sources.md` §2.5), hence:
//!
//! - the source is off by default and needs an app bearer token (`sources.x.bearer_token`);
//! - one search sweep covers every paper of a window: `GET /2/tweets/search/recent` (or
//!   `/2/tweets/search/all` with `full_archive = true`) for tweets linking any arXiv URL form,
//!   100 tweets a page, following `meta.next_token`, so the request count grows with pages of
//!   tweets, never with the number of papers;
//! - every request is first charged to a **daily request budget** kept in the store per UTC day
//!   ([`CursorStore::x_requests_used`]). When it is used up the sweep stops and returns what it
//!   has with a note; when not even one request was possible it fails with
//!   [`SourceError::Budget`]. A user can therefore never get a surprise bill.
//!
//! Links come from `entities.urls[].expanded_url` (and `unwound_url`) and are mapped with
//! [`ArxivId::from_url`], so abs/pdf/html/versioned/alphaXiv/Hugging Face/DOI/export links all
//! count for the same paper. Only a tweet without any entity URL falls back to
//! [`ArxivId::find_all`] on its text (X's text holds `t.co` links, so entities are the truth).
//! A tweet counts once per paper however many links to it it has, and for every paper it links.
//! Retweet objects are excluded from the query (`-is:retweet`) and skipped if they still come.
//!
//! **Payload shapes.** No X capture exists (the API is paid): the shapes here follow X's API v2
//! reference for the search endpoints: `{"data":[{id,text,created_at,author_id,public_metrics
//! {retweet_count,reply_count,like_count,quote_count},entities{urls[{url,expanded_url,
//! display_url,unwound_url?}]},referenced_tweets?[{type,id}]}],"meta":{result_count,newest_id,
//! oldest_id,next_token?}}`; an empty page is `{"meta":{"result_count":0}}` with no `data`;
//! errors are problem documents `{"errors":[…],"title":…,"detail":…,"type":…}` (partial errors
//! can accompany `data` on a 200).

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Duration, NaiveDate, SecondsFormat, Utc};
use serde::Deserialize;

use super::{Collection, Source, SourceError, Tally, Window};
use crate::arxiv::ArxivId;
use crate::clock::Clock;
pub use crate::config::x_query::{
    DEFAULT_URL_PATTERNS, MAX_QUERY_CHARS, check_url_patterns, search_query,
};
use crate::config::{Secret, XConfig, metric, source_name};
use crate::http::{HttpClient, HttpError, Response, Verdict};
use crate::store::{CursorStore, Mention, MentionCounts, StoreError};

/// The source's name in config (`[sources.x]`) and signal keys (`x.retweets`, …).
pub const NAME: &str = source_name::X;

/// Tweets asked for per page: the most both search endpoints serve with these fields.
pub const PAGE_SIZE: u32 = 100;

/// Most pages one [`Source::lookup`] reads, so that looking up a single viral paper cannot
/// spend a whole day's budget.
pub const LOOKUP_MAX_PAGES: u32 = 5;

/// The tweet fields the counting and "who is talking" need.
pub const TWEET_FIELDS: &str = "public_metrics,entities,created_at,referenced_tweets,author_id";

/// Asks X to include each tweet's author in `includes.users`…
pub const EXPANSIONS: &str = "author_id";

/// …with the handle and display name a mention shows.
pub const USER_FIELDS: &str = "username,name";

/// How far back recent search reaches.
const RECENT_REACH: Duration = Duration::days(7);

/// Kept inside the 7-day reach so that a request in flight does not fall out of it.
const REACH_MARGIN: Duration = Duration::minutes(1);

/// X requires `end_time` to be at least 10 s before the request; its own default is 30 s.
const END_TIME_LAG: Duration = Duration::seconds(30);

/// Metrics written per paper (`x.<metric>`).
const POSTS: &str = metric::POSTS;
const RETWEETS: &str = metric::RETWEETS;
const LIKES: &str = metric::LIKES;
const QUOTES: &str = metric::QUOTES;
const REPLIES: &str = metric::REPLIES;

/// The X search source. See the module docs.
#[derive(Debug)]
pub struct XSource {
    http: HttpClient,
    /// Only the request budget is kept in the store.
    store: Arc<dyn CursorStore>,
    clock: Arc<dyn Clock>,
    token: Secret,
    search_url: String,
    full_archive: bool,
    budget: u32,
    patterns: Vec<String>,
    query: String,
    /// Requests charged today by this process; serializes budget updates and keeps the budget
    /// enforced for this process should the store fail.
    spent: tokio::sync::Mutex<Spent>,
}

/// Requests charged on one UTC day by this process.
#[derive(Debug, Default)]
struct Spent {
    day: Option<NaiveDate>,
    count: u32,
}

impl XSource {
    /// Builds the source from `[sources.x]`.
    ///
    /// `store` keeps the daily request count (so the budget holds across runs and between the
    /// bot and the CLI); `clock` decides which UTC day a request is charged to.
    ///
    /// # Errors
    ///
    /// [`SourceError::Auth`] without a bearer token (naming the key to set);
    /// [`SourceError::Http`] with [`HttpError::Build`] when `url_patterns` cannot form a valid
    /// query (configuration validation normally catches this first).
    pub fn new(
        cfg: &XConfig,
        http: HttpClient,
        store: Arc<dyn CursorStore>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, SourceError> {
        let token = cfg
            .bearer_token
            .clone()
            .filter(|t| !t.expose().trim().is_empty())
            .ok_or_else(|| SourceError::Auth {
                source_name: NAME,
                message: "no bearer token configured: set sources.x.bearer_token \
                          (or HOTPAPERS_SOURCES__X__BEARER_TOKEN)"
                    .into(),
            })?;
        check_url_patterns(&cfg.url_patterns).map_err(|reason| {
            SourceError::Http(HttpError::Build(format!(
                "sources.x.url_patterns: {reason}"
            )))
        })?;
        let endpoint = if cfg.full_archive { "all" } else { "recent" };
        Ok(XSource {
            http,
            store,
            clock,
            token,
            search_url: format!(
                "{}/2/tweets/search/{endpoint}",
                cfg.api_url.trim_end_matches('/')
            ),
            full_archive: cfg.full_archive,
            budget: cfg.daily_request_budget,
            query: search_query(&cfg.url_patterns, None),
            patterns: cfg.url_patterns.clone(),
            spent: tokio::sync::Mutex::default(),
        })
    }

    /// The query a sweep sends, for `config show`-style transparency and logs.
    pub fn query(&self) -> &str {
        &self.query
    }

    /// The search endpoint in use (recent or full-archive).
    pub fn search_url(&self) -> &str {
        &self.search_url
    }

    /// Requests charged to today's (UTC) budget so far, as stored; for status displays. An
    /// unreadable stored count reads as the whole budget, since sweeps treat it as used up.
    ///
    /// # Errors
    ///
    /// The store's error when the count cannot be read.
    pub async fn requests_today(&self) -> Result<u32, StoreError> {
        match self
            .store
            .x_requests_used(self.clock.now().date_naive())
            .await
        {
            Err(StoreError::Corrupt { .. }) => Ok(self.budget),
            used => used,
        }
    }

    /// Charges one request to today's budget. `false` when the budget is used up.
    ///
    /// Store trouble never lets spending run away: an unreadable count is treated as a
    /// used-up budget, and when the store cannot be reached the in-process count still applies.
    async fn charge(&self, sweep: &mut Sweep) -> bool {
        let mut spent = self.spent.lock().await;
        let day = self.clock.now().date_naive();
        if spent.day != Some(day) {
            *spent = Spent {
                day: Some(day),
                count: 0,
            };
        }
        let stored = match self.store.x_requests_used(day).await {
            Ok(used) => used,
            Err(e @ StoreError::Corrupt { .. }) => {
                tracing::warn!(%day, error = %e, "unreadable X request count in the store");
                sweep.note(format!(
                    "the stored X request count is unreadable ({e}); today's budget is \
                     treated as used up"
                ));
                u32::MAX
            }
            Err(e) => {
                tracing::warn!(%day, error = %e, "cannot read the X request count");
                sweep.note(format!(
                    "cannot read today's X request count from the store ({e}); the budget \
                     is enforced for this process only"
                ));
                0
            }
        };
        let used = stored.max(spent.count);
        if used >= self.budget {
            return false;
        }
        let now_used = used.saturating_add(1);
        spent.count = now_used;
        if let Err(e) = self.store.set_x_requests_used(day, now_used).await {
            tracing::warn!(%day, error = %e, "cannot record the X request count");
            sweep.note(format!(
                "cannot record today's X request count in the store ({e}); the budget is \
                 enforced for this process only"
            ));
        }
        true
    }

    /// Runs one search to its last page (or the budget's or `max_pages`' end), counting tweets
    /// into `sweep`.
    async fn run(
        &self,
        search: &Search<'_>,
        wanted: &BTreeSet<ArxivId>,
        sweep: &mut Sweep,
    ) -> Result<(), SourceError> {
        let mut next: Option<String> = None;
        let mut tokens = HashSet::new();
        let mut pages = 0u32;
        loop {
            if search.max_pages.is_some_and(|max| pages >= max) {
                sweep.note(format!(
                    "stopped after {pages} pages of tweets; counts may be partial"
                ));
                return Ok(());
            }
            if !self.charge(sweep).await {
                if sweep.requests == 0 {
                    return Err(SourceError::Budget {
                        source_name: NAME,
                        budget: self.budget,
                    });
                }
                sweep.note(format!(
                    "daily request budget of {} used up after {} requests; counts are partial",
                    self.budget, sweep.requests
                ));
                return Ok(());
            }
            sweep.requests += 1;
            pages += 1;
            let page = self.fetch(search, next.as_deref()).await?;
            if page.skipped > 0 {
                sweep.skipped += page.skipped;
            }
            for tweet in page.tweets {
                sweep.count(tweet, wanted);
            }
            match page.next_token {
                Some(token) if !tokens.insert(token.clone()) => {
                    return Err(SourceError::Malformed {
                        source_name: NAME,
                        message: format!("next_token {token:?} was returned twice"),
                    });
                }
                Some(token) => next = Some(token),
                None => return Ok(()),
            }
        }
    }

    /// Fetches one page of search results.
    async fn fetch(&self, search: &Search<'_>, next: Option<&str>) -> Result<Page, SourceError> {
        let mut params: Vec<(&str, String)> = vec![
            ("query", search.query.to_string()),
            ("max_results", PAGE_SIZE.to_string()),
            ("tweet.fields", TWEET_FIELDS.to_string()),
            ("expansions", EXPANSIONS.to_string()),
            ("user.fields", USER_FIELDS.to_string()),
        ];
        if let Some(start) = search.start {
            params.push(("start_time", rfc3339(start)));
        }
        if let Some(end) = search.end {
            params.push(("end_time", rfc3339(end)));
        }
        if let Some(token) = next {
            params.push(("next_token", token.to_string()));
        }
        let response = self
            .http
            .send(
                || {
                    self.http
                        .reqwest()
                        .get(&self.search_url)
                        .query(&params)
                        .bearer_auth(self.token.expose())
                },
                classify,
            )
            .await
            .map_err(|e| self.http_error(e))?;
        parse_page(&response.body).map_err(|message| SourceError::Malformed {
            source_name: NAME,
            message,
        })
    }

    /// Rejected credentials become [`SourceError::Auth`] naming the key to check.
    fn http_error(&self, err: HttpError) -> SourceError {
        let status = err.status();
        let detail = match err.last() {
            HttpError::Status { snippet, .. } => {
                problem_text(snippet.as_bytes()).unwrap_or_else(|| snippet.clone())
            }
            _ => String::new(),
        };
        match status {
            Some(401) => SourceError::Auth {
                source_name: NAME,
                message: format!(
                    "X rejected the bearer token (HTTP 401: {detail}); check \
                     sources.x.bearer_token"
                ),
            },
            Some(403) => SourceError::Auth {
                source_name: NAME,
                message: format!(
                    "X refused the request (HTTP 403: {detail}); check that \
                     sources.x.bearer_token belongs to a project whose plan includes {}",
                    self.search_url
                        .rsplit_once("/2/")
                        .map_or("search", |(_, path)| path)
                ),
            },
            _ => SourceError::Http(err),
        }
    }

    /// Where a sweep over `window` may start and end, with a note when recent search's 7-day
    /// reach cut the window's start.
    fn clamp(
        &self,
        window: Window,
        now: DateTime<Utc>,
    ) -> (DateTime<Utc>, DateTime<Utc>, Option<String>) {
        let earliest = if self.full_archive {
            first_tweet()
        } else {
            now - RECENT_REACH + REACH_MARGIN
        };
        let start = window.since.max(earliest);
        let end = window.until.min(now - END_TIME_LAG);
        let note = (start > window.since && !self.full_archive).then(|| {
            format!(
                "X recent search reaches back 7 days only: counted tweets from {} instead of \
                 {}; set sources.x.full_archive = true to search the whole archive",
                rfc3339(start),
                rfc3339(window.since)
            )
        });
        (start, end, note)
    }
}

#[async_trait]
impl Source for XSource {
    fn name(&self) -> &'static str {
        NAME
    }

    /// One sweep over every tweet linking arXiv in `window` (clamped to what the endpoint can
    /// reach), grouped by paper: `x.posts`, `x.retweets`, `x.likes`, `x.quotes`, `x.replies`.
    /// `Collection::mentions` counts the tweets that linked a paper of `papers` (any paper when
    /// `papers` is empty).
    async fn collect(
        &self,
        window: Window,
        papers: &BTreeSet<ArxivId>,
        now: DateTime<Utc>,
    ) -> Result<Collection, SourceError> {
        let mut collection = Collection::default();
        let (start, end, clamp_note) = self.clamp(window, now);
        if start >= end {
            collection.notes.push(if window.since >= window.until {
                format!(
                    "empty window {} .. {}: nothing to search",
                    rfc3339(window.since),
                    rfc3339(window.until)
                )
            } else {
                format!(
                    "the window {} .. {} is out of reach of X {} search; nothing was searched{}",
                    rfc3339(window.since),
                    rfc3339(window.until),
                    if self.full_archive {
                        "full-archive"
                    } else {
                        "recent (7-day)"
                    },
                    if self.full_archive {
                        ""
                    } else {
                        " (set sources.x.full_archive = true to search older tweets)"
                    }
                )
            });
            return Ok(collection);
        }
        let mut sweep = Sweep::at(now);
        if let Some(note) = clamp_note {
            sweep.note(note);
        }
        let search = Search {
            query: &self.query,
            start: Some(start),
            end: Some(end),
            max_pages: None,
        };
        self.run(&search, papers, &mut sweep).await?;
        Ok(sweep.finish(papers, now, collection))
    }

    /// One search for `paper`'s links in every configured URL form (at most
    /// [`LOOKUP_MAX_PAGES`] pages). Recent search covers the last 7 days; full-archive search
    /// starts at the month the paper's id was assigned.
    async fn lookup(&self, paper: &ArxivId, now: DateTime<Utc>) -> Result<Collection, SourceError> {
        let id = paper.versionless();
        let query = search_query(&self.patterns, Some(id.key()));
        let start = self.full_archive.then(|| {
            let (year, month) = id.year_month();
            NaiveDate::from_ymd_opt(i32::from(year), u32::from(month), 1)
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map_or_else(first_tweet, |d| d.and_utc())
                .max(first_tweet())
        });
        let search = Search {
            query: &query,
            start,
            end: None,
            max_pages: Some(LOOKUP_MAX_PAGES),
        };
        let wanted = BTreeSet::from([id]);
        let mut sweep = Sweep::at(now);
        self.run(&search, &wanted, &mut sweep).await?;
        for note in &sweep.notes {
            tracing::info!(paper = %paper, note, "X lookup");
        }
        Ok(sweep.finish(&wanted, now, Collection::default()))
    }
}

/// One search: its query, time bounds and page cap.
#[derive(Debug)]
struct Search<'a> {
    query: &'a str,
    start: Option<DateTime<Utc>>,
    end: Option<DateTime<Utc>>,
    max_pages: Option<u32>,
}

/// What a search has gathered so far.
#[derive(Debug, Default)]
struct Sweep {
    tally: Tally,
    requests: u32,
    mentions: usize,
    skipped: usize,
    notes: Vec<String>,
    /// Tweet ids already counted: a tweet served twice (pages overlap while new tweets
    /// arrive) counts once.
    seen: HashSet<String>,
    /// The counted tweets, as mentions of the wanted papers they link.
    posts: Vec<Mention>,
    /// When the sweep asked (stamps the mentions).
    now: DateTime<Utc>,
}

impl Sweep {
    fn at(now: DateTime<Utc>) -> Sweep {
        Sweep {
            now,
            ..Sweep::default()
        }
    }

    /// Adds a note unless it is already there.
    fn note(&mut self, note: String) {
        if !self.notes.contains(&note) {
            self.notes.push(note);
        }
    }

    /// Counts one tweet for every paper it links.
    fn count(&mut self, tweet: Tweet, wanted: &BTreeSet<ArxivId>) {
        if tweet.is_retweet() {
            tracing::debug!(id = tweet.id, "skipping a retweet object");
            return;
        }
        if !self.seen.insert(tweet.id.clone()) {
            return;
        }
        let papers = tweet.papers();
        let m = &tweet.public_metrics;
        let mut relevant = false;
        for paper in &papers {
            let is_wanted = wanted.is_empty() || wanted.contains(paper);
            relevant |= is_wanted;
            if is_wanted {
                self.posts.extend(tweet.mention(paper, self.now));
            }
            self.tally.add(paper, POSTS, 1.0);
            self.tally.add(paper, RETWEETS, m.retweet_count as f64);
            self.tally.add(paper, LIKES, m.like_count as f64);
            self.tally.add(paper, QUOTES, m.quote_count as f64);
            self.tally.add(paper, REPLIES, m.reply_count as f64);
        }
        if relevant {
            self.mentions += 1;
        }
    }

    /// The sweep's result, filled into `collection`.
    fn finish(
        mut self,
        papers: &BTreeSet<ArxivId>,
        now: DateTime<Utc>,
        mut collection: Collection,
    ) -> Collection {
        if self.skipped > 0 {
            self.note(format!(
                "skipped {} malformed tweet(s) in X's answers",
                self.skipped
            ));
        }
        collection.signals = self.tally.into_signals(NAME, papers, now);
        collection.requests = self.requests;
        collection.mentions = self.mentions;
        collection.notes.extend(self.notes);
        collection.posts = self.posts;
        collection
    }
}

/// Accepts successes and the 401/403 that become [`SourceError::Auth`]; other 4xx fail with
/// X's problem document spelled out (the status snippet alone would cut it off).
fn classify(response: &Response) -> Verdict {
    match response.status {
        200..=299 | 401 | 403 => Verdict::Accept,
        status => Verdict::Fail(match problem_text(&response.body) {
            Some(problem) => format!("HTTP {status}: {problem}"),
            None => format!("HTTP {status}: {}", response.snippet()),
        }),
    }
}

/// X's problem document (`title`, `detail`, first `errors[].message`) as one short line.
fn problem_text(body: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct Problem {
        title: Option<String>,
        detail: Option<String>,
        #[serde(default)]
        errors: Vec<ProblemItem>,
    }
    #[derive(Deserialize)]
    struct ProblemItem {
        message: Option<String>,
        detail: Option<String>,
    }
    let p: Problem = serde_json::from_slice(body).ok()?;
    let first = p
        .errors
        .into_iter()
        .find_map(|e| e.message.or(e.detail))
        .filter(|m| !m.trim().is_empty());
    let mut parts: Vec<String> = [p.title, p.detail]
        .into_iter()
        .flatten()
        .filter(|s| !s.trim().is_empty())
        .collect();
    parts.dedup();
    let mut text = parts.join(": ");
    if let Some(first) = first {
        if text.is_empty() {
            text = first;
        } else if !text.contains(&first) {
            text = format!("{text} ({first})");
        }
    }
    (!text.is_empty()).then(|| crate::http::snippet(text.as_bytes()))
}

/// One page of search results.
#[derive(Debug, Default)]
struct Page {
    tweets: Vec<Tweet>,
    next_token: Option<String>,
    /// Items of `data` that were not tweets of the documented shape.
    skipped: usize,
}

/// The envelope, with `data` items kept raw so that one bad item skips only itself.
#[derive(Deserialize)]
struct RawPage {
    data: Option<Vec<serde_json::Value>>,
    meta: Option<RawMeta>,
    #[serde(default)]
    errors: Vec<serde_json::Value>,
    title: Option<String>,
    includes: Option<RawIncludes>,
}

/// `includes`: the objects `expansions` asked for. Users are kept raw so that one bad user
/// object costs only its tweets' author names.
#[derive(Deserialize)]
struct RawIncludes {
    #[serde(default)]
    users: Vec<serde_json::Value>,
}

/// A tweet's author, from `includes.users`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
struct User {
    id: String,
    /// The handle, without `@`.
    username: Option<String>,
    /// The display name.
    name: Option<String>,
}

#[derive(Deserialize)]
struct RawMeta {
    next_token: Option<String>,
}

/// Parses a search page; `Err` carries a one-line reason for [`SourceError::Malformed`].
fn parse_page(body: &[u8]) -> Result<Page, String> {
    let raw: RawPage = serde_json::from_slice(body)
        .map_err(|e| format!("not a search page ({e}): {}", crate::http::snippet(body)))?;
    if raw.data.is_none() && raw.meta.is_none() {
        return Err(match problem_text(body) {
            Some(problem) if !raw.errors.is_empty() || raw.title.is_some() => {
                format!("an error instead of tweets: {problem}")
            }
            _ => format!(
                "neither data nor meta in the page: {}",
                crate::http::snippet(body)
            ),
        });
    }
    if !raw.errors.is_empty() {
        tracing::warn!(
            count = raw.errors.len(),
            "X returned partial errors with the page"
        );
    }
    let mut page = Page {
        next_token: raw
            .meta
            .and_then(|m| m.next_token)
            .filter(|t| !t.trim().is_empty()),
        ..Page::default()
    };
    let users: std::collections::HashMap<String, User> = raw
        .includes
        .map(|i| i.users)
        .unwrap_or_default()
        .iter()
        .filter_map(|u| User::deserialize(u).ok())
        .map(|u| (u.id.clone(), u))
        .collect();
    for item in raw.data.unwrap_or_default() {
        match Tweet::deserialize(&item) {
            Ok(mut tweet) => {
                tweet.author = tweet
                    .author_id
                    .as_ref()
                    .and_then(|id| users.get(id))
                    .cloned();
                page.tweets.push(tweet);
            }
            Err(e) => {
                let id = item.get("id").and_then(serde_json::Value::as_str);
                tracing::warn!(id, error = %e, "skipping a malformed tweet");
                page.skipped += 1;
            }
        }
    }
    Ok(page)
}

/// A tweet as far as counting needs it.
#[derive(Debug, Deserialize)]
struct Tweet {
    id: String,
    #[serde(default)]
    text: String,
    public_metrics: Metrics,
    entities: Option<Entities>,
    #[serde(default)]
    referenced_tweets: Vec<Reference>,
    author_id: Option<String>,
    created_at: Option<String>,
    /// Filled from `includes.users` by [`parse_page`].
    #[serde(skip)]
    author: Option<User>,
}

#[derive(Debug, Deserialize)]
struct Metrics {
    #[serde(default)]
    retweet_count: u64,
    #[serde(default)]
    reply_count: u64,
    #[serde(default)]
    like_count: u64,
    #[serde(default)]
    quote_count: u64,
}

#[derive(Debug, Deserialize)]
struct Entities {
    #[serde(default)]
    urls: Vec<UrlEntity>,
}

#[derive(Debug, Deserialize)]
struct UrlEntity {
    url: Option<String>,
    expanded_url: Option<String>,
    unwound_url: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Reference {
    #[serde(rename = "type")]
    kind: String,
}

impl Tweet {
    /// A retweet object carries the original's counts; it is never a tweet of its own.
    fn is_retweet(&self) -> bool {
        self.referenced_tweets.iter().any(|r| r.kind == "retweeted")
    }

    /// The papers this tweet links, version-less and deduplicated.
    fn papers(&self) -> BTreeSet<ArxivId> {
        let urls = self
            .entities
            .as_ref()
            .map_or(&[][..], |e| e.urls.as_slice());
        if urls.is_empty() {
            return ArxivId::find_all(&self.text)
                .iter()
                .map(ArxivId::versionless)
                .collect();
        }
        urls.iter()
            .flat_map(|u| [u.expanded_url.as_deref(), u.unwound_url.as_deref()])
            .flatten()
            .filter_map(ArxivId::from_url)
            .map(|id| id.versionless())
            .collect()
    }

    /// The tweet as a mention of `paper`; `None` when its id is not a tweet id (a link to it
    /// would be made up).
    fn mention(&self, paper: &ArxivId, now: DateTime<Utc>) -> Option<Mention> {
        if self.id.is_empty() || self.id.len() > 20 || !self.id.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let user = self.author.as_ref();
        let handle = user
            .and_then(|u| u.username.as_deref())
            .filter(|h| is_handle(h))
            .map(str::to_string);
        let url = match &handle {
            Some(h) => format!("https://twitter.com/{h}/status/{}", self.id),
            None => format!("https://twitter.com/i/web/status/{}", self.id),
        };
        let m = &self.public_metrics;
        Some(Mention {
            paper: paper.clone(),
            source: NAME.to_string(),
            post_id: self.id.clone(),
            author_handle: handle,
            author_name: user
                .and_then(|u| u.name.as_deref())
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(|n| n.chars().take(MAX_NAME_CHARS).collect()),
            text: self.readable_text(),
            url,
            posted_at: self
                .created_at
                .as_deref()
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                .map_or(now, |t| t.with_timezone(&Utc)),
            counts: MentionCounts {
                reposts: m.retweet_count,
                likes: m.like_count,
                replies: m.reply_count,
                quotes: m.quote_count,
                points: 0,
            },
            observed_at: now,
        })
    }

    /// The text as people read it: X's v2 text escapes `&`, `<` and `>` as HTML entities, and
    /// its links are `t.co` redirects; the entities give where each one really goes.
    fn readable_text(&self) -> String {
        let mut text = self
            .text
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&");
        for entity in self.entities.iter().flat_map(|e| &e.urls) {
            if let (Some(short), Some(long)) = (&entity.url, &entity.expanded_url)
                && !short.is_empty()
            {
                text = text.replace(short.as_str(), long);
            }
        }
        text.chars().take(MAX_TEXT_CHARS).collect()
    }
}

/// The longest tweet text kept (X allows 280 characters; long posts up to 25,000, which a
/// card or embed could not show anyway).
const MAX_TEXT_CHARS: usize = 1_000;

/// The longest display name kept (X allows 50).
const MAX_NAME_CHARS: usize = 128;

/// Whether `h` is an X handle: 1 to 15 ASCII letters, digits and underscores.
fn is_handle(h: &str) -> bool {
    (1..=15).contains(&h.len()) && h.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// `YYYY-MM-DDTHH:MM:SSZ`, the form X's `start_time`/`end_time` take.
fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The earliest `start_time` full-archive search accepts.
fn first_tweet() -> DateTime<Utc> {
    NaiveDate::from_ymd_opt(2006, 3, 21)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map_or(DateTime::UNIX_EPOCH, |d| d.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> ArxivId {
        ArxivId::parse(s).expect("valid id")
    }

    fn keys(set: &BTreeSet<ArxivId>) -> Vec<&str> {
        set.iter().map(ArxivId::key).collect()
    }

    fn tweet(json: serde_json::Value) -> Tweet {
        Tweet::deserialize(&json).expect("tweet")
    }

    #[test]
    fn links_map_to_papers_once_each() {
        let t = tweet(serde_json::json!({
            "id": "1",
            "text": "two papers https://t.co/a https://t.co/b https://t.co/c",
            "public_metrics": {"retweet_count": 1, "reply_count": 0, "like_count": 2, "quote_count": 0},
            "entities": {"urls": [
                {"url": "https://t.co/a", "expanded_url": "https://arxiv.org/abs/2107.00641v2"},
                {"url": "https://t.co/b", "expanded_url": "https://arxiv.org/pdf/2107.00641.pdf"},
                {"url": "https://t.co/c", "expanded_url": "https://bit.ly/x",
                 "unwound_url": "https://huggingface.co/papers/2107.00652"},
                {"url": "https://t.co/d", "expanded_url": "https://github.com/a/b"},
                {"url": "https://t.co/e"}
            ]}
        }));
        assert_eq!(keys(&t.papers()), ["2107.00641", "2107.00652"]);
        assert!(!t.is_retweet());
    }

    #[test]
    fn text_is_read_only_without_entity_urls() {
        let text = "see arxiv.org/abs/2107.00641 and arXiv:2107.00652";
        let no_entities = tweet(serde_json::json!({
            "id": "1", "text": text, "public_metrics": {}
        }));
        assert_eq!(keys(&no_entities.papers()), ["2107.00641", "2107.00652"]);
        let empty_urls = tweet(serde_json::json!({
            "id": "2", "text": text, "public_metrics": {}, "entities": {"urls": []}
        }));
        assert_eq!(empty_urls.papers().len(), 2);
        // Entity URLs exist (none to arXiv): they are the truth, the text is not read.
        let other = tweet(serde_json::json!({
            "id": "3", "text": text, "public_metrics": {},
            "entities": {"urls": [{"expanded_url": "https://example.org/"}]}
        }));
        assert!(other.papers().is_empty());
    }

    #[test]
    fn retweet_objects_are_recognized() {
        let rt = tweet(serde_json::json!({
            "id": "1", "text": "RT @a: x", "public_metrics": {},
            "referenced_tweets": [{"type": "retweeted", "id": "0"}]
        }));
        assert!(rt.is_retweet());
        let quote = tweet(serde_json::json!({
            "id": "2", "text": "x", "public_metrics": {},
            "referenced_tweets": [{"type": "quoted", "id": "0"}, {"type": "replied_to", "id": "9"}]
        }));
        assert!(!quote.is_retweet());
    }

    #[test]
    fn sweep_counts_each_tweet_once_and_skips_retweets() {
        let mut sweep = Sweep::default();
        let wanted = BTreeSet::from([id("2107.00641")]);
        let linking = |tid: &str, rts: u64, likes: u64, extra: serde_json::Value| {
            let mut v = serde_json::json!({
                "id": tid, "text": "", "public_metrics":
                    {"retweet_count": rts, "like_count": likes, "quote_count": 1, "reply_count": 2},
                "entities": {"urls": [
                    {"expanded_url": "https://arxiv.org/abs/2107.00641"},
                    {"expanded_url": "https://arxiv.org/abs/2107.00652v1"}
                ]}
            });
            if let (Some(obj), Some(more)) = (v.as_object_mut(), extra.as_object()) {
                obj.extend(more.clone());
            }
            tweet(v)
        };
        sweep.count(linking("1", 10, 20, serde_json::json!({})), &wanted);
        sweep.count(linking("1", 10, 20, serde_json::json!({})), &wanted); // served twice
        sweep.count(
            linking(
                "2",
                1000,
                1000,
                serde_json::json!({"referenced_tweets": [{"type": "retweeted", "id": "1"}]}),
            ),
            &wanted,
        );
        sweep.count(linking("3", 5, 6, serde_json::json!({})), &wanted);
        assert_eq!(sweep.mentions, 2);
        let now = DateTime::UNIX_EPOCH;
        let signals = sweep.tally.into_signals(NAME, &BTreeSet::new(), now);
        let get = |paper: &str, metric: &str| {
            signals
                .iter()
                .find(|s| s.paper.key() == paper && s.metric == metric)
                .map(|s| s.value)
        };
        for paper in ["2107.00641", "2107.00652"] {
            assert_eq!(get(paper, POSTS), Some(2.0));
            assert_eq!(get(paper, RETWEETS), Some(15.0));
            assert_eq!(get(paper, LIKES), Some(26.0));
            assert_eq!(get(paper, QUOTES), Some(2.0));
            assert_eq!(get(paper, REPLIES), Some(4.0));
        }
        assert!(
            signals
                .iter()
                .all(|s| s.source == "x" && s.observed_at == now)
        );
    }

    #[test]
    fn pages_parse_with_and_without_data() {
        let empty = parse_page(br#"{"meta":{"result_count":0}}"#).expect("empty page");
        assert!(empty.tweets.is_empty() && empty.next_token.is_none());
        let page = parse_page(
            br#"{"data":[{"id":"1","text":"t","public_metrics":{"retweet_count":3,"reply_count":0,"like_count":4,"quote_count":0,"bookmark_count":1,"impression_count":99}}],
                "meta":{"result_count":1,"newest_id":"1","oldest_id":"1","next_token":"b26v89c19zqg8o3f"}}"#,
        )
        .expect("page");
        assert_eq!(page.tweets.len(), 1);
        assert_eq!(page.next_token.as_deref(), Some("b26v89c19zqg8o3f"));
        // A blank next_token ends paging rather than looping on "".
        let blank =
            parse_page(br#"{"data":[],"meta":{"result_count":0,"next_token":" "}}"#).expect("page");
        assert!(blank.next_token.is_none());
    }

    #[test]
    fn one_bad_item_is_skipped_not_the_page() {
        let page = parse_page(
            br#"{"data":[
                {"id":"1","text":"ok","public_metrics":{"like_count":1}},
                {"id":"2","text":"no metrics"},
                {"id":"3","text":"negative","public_metrics":{"like_count":-1}},
                {"id":"4","text":"bad urls","public_metrics":{},"entities":{"urls":"x"}},
                "not an object",
                {"id":"6","text":"ok","public_metrics":{}}
            ],"meta":{"result_count":6},"errors":[{"title":"Not Found Error"}]}"#,
        )
        .expect("page");
        let ids: Vec<&str> = page.tweets.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(ids, ["1", "6"]);
        assert_eq!(page.skipped, 4);
    }

    #[test]
    fn malformed_pages_are_errors_with_reasons() {
        for (body, want) in [
            (&b"<html>502 Bad Gateway</html>"[..], "not a search page"),
            (b"", "not a search page"),
            (b"[1,2]", "not a search page"),
            (br#"{"data":{"id":"1"},"meta":{}}"#, "not a search page"),
            (br#"{"meta":{"next_token":5}}"#, "not a search page"),
            (b"{}", "neither data nor meta"),
            (
                br#"{"errors":[{"message":"Invalid 'next_token'"}],"title":"Invalid Request","detail":"One or more parameters to your request was invalid.","type":"https://api.twitter.com/2/problems/invalid-request"}"#,
                "an error instead of tweets: Invalid Request: One or more parameters to your request was invalid. (Invalid 'next_token')",
            ),
        ] {
            let err = parse_page(body).expect_err("malformed");
            assert!(err.contains(want), "{err}");
            assert!(!err.contains('\n'), "{err}");
        }
    }

    #[test]
    fn problem_documents_become_one_line() {
        assert_eq!(
            problem_text(
                br#"{"title":"Unauthorized","type":"about:blank","status":401,"detail":"Unauthorized"}"#
            )
            .as_deref(),
            Some("Unauthorized")
        );
        assert_eq!(
            problem_text(br#"{"errors":[{"message":"Rate limit exceeded\nnow"}]}"#).as_deref(),
            Some("Rate limit exceeded now")
        );
        assert_eq!(problem_text(b"{}"), None);
        assert_eq!(problem_text(b"oops"), None);
    }
}
