//! The arXiv client: the export API (id lookups, searches, submission windows) and the
//! new-submission RSS feeds, all through one process-wide [`Pacer`].
//!
//! arXiv asks for at most one request every 3 seconds over a single connection, counted across
//! the API and RSS together, and it misbehaves under load in ways that look like success: a 200
//! with a plain-text "Rate exceeded" body, truncated XML, empty pages before the end of a result
//! set. This client turns those into retries and clear errors, so callers get either complete
//! results or an [`ArxivError`] that says what to do.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use url::Url;

use crate::arxiv::ArxivId;
use crate::arxiv::atom::{AtomError, AtomFeed, parse_feed};
use crate::arxiv::paper::Paper;
use crate::arxiv::rss::{RssError, RssFeed, parse_rss};
use crate::clock::Clock;
use crate::http::{HttpClient, HttpError, Pacer, Response, Verdict};
use crate::progress::Progress;

/// The API's cap on `max_results` per request.
pub const MAX_PAGE_SIZE: u32 = 2000;
/// arXiv's advice for `id_list` batches (longer lists make very long URLs and slow answers).
pub const MAX_ID_BATCH: usize = 200;
/// The API serves at most this many results of one query, whatever `totalResults` says.
pub const MAX_QUERY_RESULTS: u64 = 30_000;

/// The reason used for arXiv's plain-text "Rate exceeded" answers, so errors can say so.
const RATE_LIMITED: &str = "arXiv answered \"Rate exceeded\"";

/// Where and how politely to talk to arXiv.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArxivOptions {
    /// The export API query endpoint, `https://export.arxiv.org/api/query`.
    pub api_url: Url,
    /// The RSS base, `https://rss.arxiv.org/rss`; feeds are `{rss_url}/{feed}`.
    pub rss_url: Url,
    /// Minimum gap between request starts (arXiv asks for 3 s).
    pub request_spacing: Duration,
    /// `max_results` per search page, 1..=2000 (larger pages fail more often upstream).
    pub page_size: u32,
    /// Ids per `id_list` request, 1..=200.
    pub id_batch_size: usize,
    /// How often an empty page before `totalResults` is re-requested before giving up.
    pub max_empty_page_retries: u32,
}

impl Default for ArxivOptions {
    /// arXiv's production endpoints and published etiquette: 3 s spacing, 200-result pages,
    /// 200-id batches, 3 retries of empty pages.
    fn default() -> Self {
        ArxivOptions {
            api_url: Url::parse("https://export.arxiv.org/api/query")
                .unwrap_or_else(|_| unreachable!("constant URL parses")),
            rss_url: Url::parse("https://rss.arxiv.org/rss")
                .unwrap_or_else(|_| unreachable!("constant URL parses")),
            request_spacing: Duration::from_secs(3),
            page_size: 200,
            id_batch_size: MAX_ID_BATCH,
            max_empty_page_retries: 3,
        }
    }
}

/// The API's `sortBy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SortBy {
    /// Best match first (the API default).
    Relevance,
    /// By the time of the latest version.
    LastUpdatedDate,
    /// By the time of v1.
    SubmittedDate,
}

impl SortBy {
    /// The API's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            SortBy::Relevance => "relevance",
            SortBy::LastUpdatedDate => "lastUpdatedDate",
            SortBy::SubmittedDate => "submittedDate",
        }
    }
}

/// The API's `sortOrder`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SortOrder {
    /// Oldest (or least relevant) first.
    Ascending,
    /// Newest (or most relevant) first.
    Descending,
}

impl SortOrder {
    /// The API's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            SortOrder::Ascending => "ascending",
            SortOrder::Descending => "descending",
        }
    }
}

/// How search results are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sort {
    /// The sort key.
    pub by: SortBy,
    /// The direction.
    pub order: SortOrder,
}

impl Sort {
    /// Most relevant first.
    pub const RELEVANCE: Sort = Sort {
        by: SortBy::Relevance,
        order: SortOrder::Descending,
    };
    /// Newest submissions first.
    pub const NEWEST: Sort = Sort {
        by: SortBy::SubmittedDate,
        order: SortOrder::Descending,
    };
    /// Oldest submissions first: stable paging through a submission window.
    pub const OLDEST: Sort = Sort {
        by: SortBy::SubmittedDate,
        order: SortOrder::Ascending,
    };
    /// Most recently revised first.
    pub const RECENTLY_UPDATED: Sort = Sort {
        by: SortBy::LastUpdatedDate,
        order: SortOrder::Descending,
    };
}

/// Why an arXiv call failed. Messages are one line and say what to do when that helps.
#[derive(Debug, thiserror::Error)]
pub enum ArxivError {
    /// The request did not get a usable answer (network, timeout, HTTP status, rate limiting).
    #[error("{}", describe_http(.0))]
    Http(#[from] HttpError),
    /// arXiv kept sending bodies that are not a readable feed (truncated or not XML).
    #[error("arXiv sent an unreadable response ({0}); try again later")]
    Parse(String),
    /// arXiv's error feed: the request itself is wrong (bad id, bad parameter). Not retried.
    #[error("arXiv rejected the request: {message}")]
    Api { message: String },
    /// The RSS service's feed error, e.g. an unknown category.
    #[error("arXiv RSS feed error: {0}; check the category names")]
    Feed(String),
    /// Paging stopped early: arXiv kept returning empty pages before `totalResults`.
    #[error(
        "arXiv returned only {got} of {expected} results (it kept sending empty pages); try again later"
    )]
    Incomplete { expected: u64, got: u64 },
    /// The caller's input cannot be sent to arXiv (empty query, malformed category or feed).
    #[error("invalid arXiv request: {0}")]
    Invalid(String),
}

impl ArxivError {
    /// Whether trying the same call later may succeed (as opposed to a request that is wrong).
    pub fn is_transient(&self) -> bool {
        match self {
            ArxivError::Http(e) => matches!(e, HttpError::Exhausted { .. }) || e.is_transient(),
            ArxivError::Parse(_) | ArxivError::Incomplete { .. } => true,
            ArxivError::Api { .. } | ArxivError::Feed(_) | ArxivError::Invalid(_) => false,
        }
    }
}

fn describe_http(e: &HttpError) -> String {
    let last = e.last();
    let rate_limited = e.status() == Some(429)
        || matches!(last, HttpError::Rejected { reason, .. } if reason == RATE_LIMITED);
    // One line for people, without the URL (it may be long, or a configured mirror's): the
    // source of this error, `HttpError`, has it, and `-v` shows it.
    if rate_limited {
        "arXiv is rate-limiting; try again later".to_string()
    } else if let HttpError::Timeout { .. } = last {
        "arXiv could not be reached: it did not answer in time; check the network connection, \
         or try again later"
            .to_string()
    } else if let HttpError::Connect { message, .. } = last {
        let m = message.to_ascii_lowercase();
        let why = if m.contains("dns") || m.contains("lookup") || m.contains("resolve") {
            "its name did not resolve (DNS)"
        } else if m.contains("refused") {
            "the connection was refused"
        } else if m.contains("certificate") || m.contains("tls") {
            "the secure connection failed (TLS)"
        } else {
            "the connection failed"
        };
        format!(
            "arXiv could not be reached: {why}; check the network connection (and [arxiv] \
             api_url if you changed it)"
        )
    } else if let Some(status) = e.status().filter(|s| *s >= 500) {
        format!("arXiv is unavailable (HTTP {status}); try again later")
    } else if let Some(status) = e.status() {
        format!("arXiv refused the request (HTTP {status})")
    } else {
        "arXiv request failed".to_string()
    }
}

/// The client. Clones share the HTTP connection pool and, crucially, the pacer: create one per
/// process and clone it, so that all arXiv traffic is spaced as arXiv asks.
#[derive(Debug, Clone)]
pub struct ArxivClient {
    opts: Arc<ArxivOptions>,
    http: HttpClient,
    clock: Arc<dyn Clock>,
    pacer: Pacer,
}

/// What `classify` learned about the last response, read back after `send` returns.
#[derive(Debug)]
struct Slot<T> {
    parsed: Option<T>,
    problem: Option<Problem>,
}

impl<T> Default for Slot<T> {
    fn default() -> Self {
        Slot {
            parsed: None,
            problem: None,
        }
    }
}

#[derive(Debug, Clone)]
enum Problem {
    /// Unreadable body (retried; `Parse` when retries run out).
    Malformed(String),
    /// arXiv's error feed (`Api`).
    Api(String),
    /// RSS feed error (`Feed`).
    Feed(String),
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Whether a body that failed to parse is arXiv's plain-text rate-limit answer.
fn says_rate_exceeded(body: &[u8]) -> bool {
    let head = body.get(..body.len().min(1024)).unwrap_or(body);
    String::from_utf8_lossy(head)
        .to_ascii_lowercase()
        .contains("rate exceeded")
}

/// Judges an API response: parsed feeds are kept in `slot`; error feeds fail at once; bodies
/// that do not parse (rate-limit text, truncation, HTML) are retried when the status was 2xx.
fn judge_atom(resp: &Response, slot: &Mutex<Slot<AtomFeed>>, need_total: bool) -> Verdict {
    let mut slot = lock(slot);
    slot.parsed = None;
    slot.problem = None;
    match parse_feed(&resp.body) {
        // A well-formed feed with an error status: let the status speak.
        Ok(_) if !resp.is_success() => Verdict::Accept,
        Ok(feed) if need_total && feed.total_results.is_none() => {
            let reason = "the feed has no opensearch:totalResults".to_string();
            slot.problem = Some(Problem::Malformed(reason.clone()));
            Verdict::Retry(reason)
        }
        Ok(feed) => {
            slot.parsed = Some(feed);
            Verdict::Accept
        }
        Err(AtomError::Api { code, message }) => {
            let message = if message.trim().is_empty() {
                code
            } else {
                message
            };
            slot.problem = Some(Problem::Api(message.clone()));
            Verdict::Fail(message)
        }
        Err(_) if !resp.is_success() => Verdict::Accept,
        Err(_) if says_rate_exceeded(&resp.body) => Verdict::Retry(RATE_LIMITED.to_string()),
        Err(e) => {
            let reason = e.to_string();
            slot.problem = Some(Problem::Malformed(reason.clone()));
            Verdict::Retry(reason)
        }
    }
}

/// Judges an RSS response like [`judge_atom`]; the feed-error channel (served with HTTP 400)
/// fails at once with its message.
fn judge_rss(resp: &Response, slot: &Mutex<Slot<RssFeed>>) -> Verdict {
    let mut slot = lock(slot);
    slot.parsed = None;
    slot.problem = None;
    match parse_rss(&resp.body) {
        Ok(feed) if feed.title.trim_start().starts_with("Feed error") => {
            let message = feed.title.trim().to_string();
            slot.problem = Some(Problem::Feed(message.clone()));
            Verdict::Fail(message)
        }
        Ok(_) if !resp.is_success() => Verdict::Accept,
        Ok(feed) => {
            slot.parsed = Some(feed);
            Verdict::Accept
        }
        Err(RssError::Feed(message)) => {
            slot.problem = Some(Problem::Feed(message.clone()));
            Verdict::Fail(message)
        }
        Err(_) if !resp.is_success() => Verdict::Accept,
        Err(_) if says_rate_exceeded(&resp.body) => Verdict::Retry(RATE_LIMITED.to_string()),
        Err(e) => {
            let reason = e.to_string();
            slot.problem = Some(Problem::Malformed(reason.clone()));
            Verdict::Retry(reason)
        }
    }
}

/// Turns a failed send into the most useful [`ArxivError`], using what `classify` saw when the
/// failure came from it.
fn map_failure(err: HttpError, problem: Option<Problem>) -> ArxivError {
    if !matches!(err.last(), HttpError::Rejected { .. }) {
        return ArxivError::Http(err);
    }
    match problem {
        Some(Problem::Api(message)) => ArxivError::Api { message },
        Some(Problem::Feed(message)) => ArxivError::Feed(message),
        Some(Problem::Malformed(reason)) => match &err {
            HttpError::Exhausted { attempts, .. } => {
                ArxivError::Parse(format!("{reason}; {attempts} attempts"))
            }
            _ => ArxivError::Parse(reason),
        },
        None => ArxivError::Http(err),
    }
}

/// Drops to `finish()` on every exit path, errors included, so a progress bar never dangles.
struct Phase<'a>(&'a dyn Progress);

impl Drop for Phase<'_> {
    fn drop(&mut self) {
        self.0.finish();
    }
}

fn to_u64(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// Whether a category name is safe to put into a query (`cs.LG`, `hep-th`, `math-ph`).
fn valid_category(c: &str) -> bool {
    !c.is_empty()
        && c.len() <= 32
        && c.chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ch == '.' || ch == '-')
}

/// `YYYYMMDDHHMM` of the minute at or before `t`.
fn floor_minute(t: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let secs = t.timestamp();
    DateTime::from_timestamp(secs - secs.rem_euclid(60), 0)
}

/// The minute at or after `t`.
fn ceil_minute(t: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let floor = floor_minute(t)?;
    if floor == t {
        Some(floor)
    } else {
        DateTime::from_timestamp(floor.timestamp().checked_add(60)?, 0)
    }
}

/// The `search_query` for papers first submitted in `[start, end)` in `categories` (any when
/// empty). arXiv's `submittedDate` range is minute-granular and inclusive, so the minutes are
/// widened outwards (start floored, end ceiled) to a superset that callers filter exactly.
pub fn submitted_query(
    categories: &[String],
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<String, ArxivError> {
    let (Some(from), Some(to)) = (floor_minute(start), ceil_minute(end)) else {
        return Err(ArxivError::Invalid(format!(
            "submission window {start} to {end} is out of range"
        )));
    };
    let mut q = format!(
        "submittedDate:[{} TO {}]",
        from.format("%Y%m%d%H%M"),
        to.format("%Y%m%d%H%M")
    );
    let mut seen = HashSet::new();
    let mut cats = Vec::new();
    for c in categories {
        let c = c.trim();
        if !valid_category(c) {
            return Err(ArxivError::Invalid(format!(
                "'{c}' is not an arXiv category name"
            )));
        }
        if seen.insert(c) {
            cats.push(format!("cat:{c}"));
        }
    }
    match cats.len() {
        0 => {}
        1 => {
            q.push_str(" AND ");
            q.push_str(&cats.concat());
        }
        _ => {
            q.push_str(" AND (");
            q.push_str(&cats.join(" OR "));
            q.push(')');
        }
    }
    Ok(q)
}

impl ArxivClient {
    /// Builds the client. `page_size` is clamped to 1..=2000 and `id_batch_size` to 1..=200,
    /// the limits arXiv documents, so a bad config cannot produce requests arXiv rejects.
    pub fn new(opts: ArxivOptions, http: HttpClient, clock: Arc<dyn Clock>) -> Self {
        let mut opts = opts;
        let page_size = opts.page_size.clamp(1, MAX_PAGE_SIZE);
        let batch = opts.id_batch_size.clamp(1, MAX_ID_BATCH);
        if page_size != opts.page_size || batch != opts.id_batch_size {
            tracing::warn!(
                page_size = opts.page_size,
                id_batch_size = opts.id_batch_size,
                "arXiv page size or id batch size out of range; clamped"
            );
        }
        opts.page_size = page_size;
        opts.id_batch_size = batch;
        let pacer = Pacer::new(opts.request_spacing, clock.clone());
        ArxivClient {
            opts: Arc::new(opts),
            http,
            clock,
            pacer,
        }
    }

    /// The effective options (after clamping).
    pub fn options(&self) -> &ArxivOptions {
        &self.opts
    }

    /// Fetches papers by id, in batches of at most `id_batch_size`, returned in input order.
    ///
    /// Duplicate ids are asked once. A versioned id (`2107.00641v1`) returns that version; a
    /// version-less one returns the latest. Ids arXiv does not know are simply absent from the
    /// result (the caller reports them); a malformed id makes arXiv reject the whole batch
    /// ([`ArxivError::Api`]).
    pub async fn fetch_ids(
        &self,
        ids: &[ArxivId],
        progress: &dyn Progress,
    ) -> Result<Vec<Paper>, ArxivError> {
        let mut seen = HashSet::new();
        let wanted: Vec<&ArxivId> = ids.iter().filter(|id| seen.insert(*id)).collect();
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        progress.start("Fetching papers from arXiv", Some(to_u64(wanted.len())));
        let _phase = Phase(progress);
        let mut found: HashMap<String, Vec<Paper>> = HashMap::new();
        for batch in wanted.chunks(self.opts.id_batch_size) {
            let list = batch
                .iter()
                .map(|id| id.to_string())
                .collect::<Vec<_>>()
                .join(",");
            let params = [("id_list", list), ("max_results", batch.len().to_string())];
            let feed = self.query(&params, false).await?;
            for paper in feed.entries {
                found
                    .entry(paper.id.key().to_string())
                    .or_default()
                    .push(paper);
            }
            progress.advance(to_u64(batch.len()));
        }
        let mut out = Vec::with_capacity(wanted.len());
        for id in wanted {
            let Some(candidates) = found.get(id.key()) else {
                continue;
            };
            let pick = match id.version() {
                Some(v) => candidates.iter().find(|p| p.version == v),
                None => candidates.iter().max_by_key(|p| p.version),
            };
            if let Some(p) = pick {
                out.push(p.clone());
            }
        }
        Ok(out)
    }

    /// Runs an API search (arXiv query syntax, e.g. `cat:cs.LG AND ti:diffusion`) and pages
    /// through every result, up to arXiv's 30 000-result cap.
    ///
    /// `totalResults` is re-read on every page; pages that overlap (arXiv inserted papers
    /// meanwhile) are deduplicated by id. An empty page before the end is re-requested up to
    /// `max_empty_page_retries` times, then [`ArxivError::Incomplete`].
    pub async fn search(
        &self,
        query: &str,
        sort: Sort,
        progress: &dyn Progress,
    ) -> Result<Vec<Paper>, ArxivError> {
        self.search_limited(query, sort, None, progress).await
    }

    /// [`ArxivClient::search`] that stops after `limit` papers (e.g. the 10 most relevant),
    /// asking for no more results than needed.
    pub async fn search_limited(
        &self,
        query: &str,
        sort: Sort,
        limit: Option<u64>,
        progress: &dyn Progress,
    ) -> Result<Vec<Paper>, ArxivError> {
        let query = query.trim();
        if query.is_empty() {
            return Err(ArxivError::Invalid("the search query is empty".into()));
        }
        if limit == Some(0) {
            return Ok(Vec::new());
        }
        progress.start("Searching arXiv", None);
        let _phase = Phase(progress);
        let page_size = u64::from(self.opts.page_size);
        let mut papers: Vec<Paper> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut start: u64 = 0;
        let mut empty_pages: u32 = 0;
        let mut known_total: Option<u64> = None;
        loop {
            let want = limit.map_or(page_size, |l| page_size.min(l.saturating_sub(start)));
            let params = [
                ("search_query", query.to_string()),
                ("start", start.to_string()),
                ("max_results", want.to_string()),
                ("sortBy", sort.by.as_str().to_string()),
                ("sortOrder", sort.order.as_str().to_string()),
            ];
            let feed = self.query(&params, true).await?;
            let reported = feed.total_results.unwrap_or_default();
            if known_total != Some(reported) {
                if reported > MAX_QUERY_RESULTS {
                    tracing::warn!(
                        total = reported,
                        cap = MAX_QUERY_RESULTS,
                        "arXiv search has more results than the API serves; truncating"
                    );
                }
                known_total = Some(reported);
            }
            let mut total = reported.min(MAX_QUERY_RESULTS);
            if let Some(l) = limit {
                total = total.min(l);
            }
            progress.set_total(total);
            let positions = to_u64(feed.entries.len() + feed.rejected.len());
            if positions == 0 {
                if start >= total {
                    break;
                }
                empty_pages += 1;
                if empty_pages > self.opts.max_empty_page_retries {
                    return Err(ArxivError::Incomplete {
                        expected: total,
                        got: to_u64(papers.len()),
                    });
                }
                let wait = self.http.backoff(empty_pages - 1);
                tracing::warn!(
                    start,
                    total,
                    attempt = empty_pages,
                    wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                    "arXiv returned an empty page before the end; retrying"
                );
                if !wait.is_zero() {
                    self.clock.sleep(wait).await;
                }
                continue;
            }
            empty_pages = 0;
            for paper in feed.entries {
                match index.get(paper.id.key()) {
                    Some(&i) => {
                        if let Some(existing) = papers.get_mut(i)
                            && paper.version > existing.version
                        {
                            *existing = paper;
                        }
                    }
                    None => {
                        index.insert(paper.id.key().to_string(), papers.len());
                        papers.push(paper);
                    }
                }
            }
            let advanced = positions.min(total.saturating_sub(start));
            start += positions;
            progress.advance(advanced);
            if start >= total {
                break;
            }
        }
        if let Some(l) = limit {
            papers.truncate(usize::try_from(l).unwrap_or(usize::MAX));
        }
        Ok(papers)
    }

    /// Papers first submitted (v1 `published`) in `[start, end)`, in `categories` (all of arXiv
    /// when empty), oldest first.
    ///
    /// The API query covers a minute-widened superset (see [`submitted_query`]); results are
    /// then filtered here to exactly `start <= published < end`.
    pub async fn submitted_between(
        &self,
        categories: &[String],
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        progress: &dyn Progress,
    ) -> Result<Vec<Paper>, ArxivError> {
        let query = submitted_query(categories, start, end)?;
        if end <= start {
            return Ok(Vec::new());
        }
        let papers = self.search(&query, Sort::OLDEST, progress).await?;
        Ok(papers
            .into_iter()
            .filter(|p| p.published >= start && p.published < end)
            .collect())
    }

    /// Fetches one RSS feed, e.g. `cs.LG` or `cs+stat.ML` (archives or categories joined with
    /// `+`). An empty channel (weekend, holiday) is a normal `Ok`; an unknown category gives
    /// [`ArxivError::Feed`] with arXiv's explanation.
    pub async fn fetch_rss(&self, feed: &str) -> Result<RssFeed, ArxivError> {
        let feed = feed.trim();
        let valid = !feed.is_empty() && feed.len() <= 1024 && feed.split('+').all(valid_category);
        if !valid {
            return Err(ArxivError::Invalid(format!(
                "'{feed}' is not an arXiv feed name (categories joined with '+')"
            )));
        }
        let mut url = self.opts.rss_url.clone();
        url.path_segments_mut()
            .map_err(|()| {
                ArxivError::Invalid(format!("RSS base URL {} has no path", self.opts.rss_url))
            })?
            .pop_if_empty()
            .push(feed);
        let slot = Mutex::new(Slot::<RssFeed>::default());
        let result = self
            .http
            .send_paced(
                Some(&self.pacer),
                || self.http.reqwest().get(url.clone()),
                |resp| judge_rss(resp, &slot),
            )
            .await;
        let mut slot = lock(&slot);
        let rss = match result {
            Ok(_) => slot.parsed.take().ok_or_else(|| {
                ArxivError::Parse("the RSS feed was accepted but not kept".into())
            })?,
            Err(e) => return Err(map_failure(e, slot.problem.take())),
        };
        for bad in &rss.invalid_utf8 {
            tracing::warn!(feed, "arXiv RSS feed: {bad}");
        }
        Ok(rss)
    }

    /// One paced, retried API request; logs the entries the parser skipped and the invalid
    /// UTF-8 it read as U+FFFD.
    async fn query(
        &self,
        params: &[(&str, String)],
        need_total: bool,
    ) -> Result<AtomFeed, ArxivError> {
        let slot = Mutex::new(Slot::<AtomFeed>::default());
        let url = &self.opts.api_url;
        let result = self
            .http
            .send_paced(
                Some(&self.pacer),
                || self.http.reqwest().get(url.clone()).query(params),
                |resp| judge_atom(resp, &slot, need_total),
            )
            .await;
        let mut slot = lock(&slot);
        let feed = match result {
            Ok(_) => slot.parsed.take().ok_or_else(|| {
                ArxivError::Parse("the API feed was accepted but not kept".into())
            })?,
            Err(e) => return Err(map_failure(e, slot.problem.take())),
        };
        for r in &feed.rejected {
            tracing::warn!(
                id = r.id.as_deref().unwrap_or("(none)"),
                reason = %r.reason,
                "skipped an arXiv entry that could not be read"
            );
        }
        for bad in &feed.invalid_utf8 {
            tracing::warn!("arXiv API feed: {bad}");
        }
        Ok(feed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
    }

    #[test]
    fn submitted_query_widens_to_whole_minutes() {
        let q = submitted_query(
            &["cs.LG".into(), "stat.ML".into()],
            at(2021, 7, 1, 18, 0, 0),
            at(2021, 7, 2, 18, 0, 0),
        )
        .unwrap();
        assert_eq!(
            q,
            "submittedDate:[202107011800 TO 202107021800] AND (cat:cs.LG OR cat:stat.ML)"
        );
        let q = submitted_query(&[], at(2021, 7, 1, 17, 59, 59), at(2021, 7, 2, 18, 0, 1)).unwrap();
        assert_eq!(q, "submittedDate:[202107011759 TO 202107021801]");
        let q = submitted_query(
            &["hep-th".into(), " hep-th ".into()],
            at(2021, 7, 1, 0, 0, 0),
            at(2021, 7, 1, 0, 0, 0) + chrono::Duration::milliseconds(1),
        )
        .unwrap();
        assert_eq!(
            q,
            "submittedDate:[202107010000 TO 202107010001] AND cat:hep-th"
        );
    }

    #[test]
    fn submitted_query_rejects_injection() {
        for bad in ["cs.LG) OR (all:x", "", "cs LG", "cat:cs.LG", "a&b"] {
            let err = submitted_query(
                &[bad.into()],
                at(2021, 7, 1, 0, 0, 0),
                at(2021, 7, 2, 0, 0, 0),
            )
            .unwrap_err();
            assert!(matches!(err, ArxivError::Invalid(_)), "{bad}: {err:?}");
        }
    }

    #[test]
    fn minute_rounding_handles_negative_timestamps() {
        let t = at(1969, 12, 31, 23, 59, 30);
        assert_eq!(floor_minute(t), Some(at(1969, 12, 31, 23, 59, 0)));
        assert_eq!(ceil_minute(t), Some(at(1970, 1, 1, 0, 0, 0)));
    }

    #[test]
    fn sort_spellings_match_the_api() {
        assert_eq!(Sort::OLDEST.by.as_str(), "submittedDate");
        assert_eq!(Sort::OLDEST.order.as_str(), "ascending");
        assert_eq!(Sort::RECENTLY_UPDATED.by.as_str(), "lastUpdatedDate");
        assert_eq!(Sort::RELEVANCE.by.as_str(), "relevance");
        assert_eq!(Sort::NEWEST.order.as_str(), "descending");
    }

    #[test]
    fn rate_exceeded_detection_reads_only_the_head() {
        assert!(says_rate_exceeded(b"Rate exceeded."));
        assert!(says_rate_exceeded(b"  rate EXCEEDED\n"));
        assert!(!says_rate_exceeded(b"<html>Service Unavailable</html>"));
        let mut late = vec![b' '; 2000];
        late.extend_from_slice(b"Rate exceeded");
        assert!(!says_rate_exceeded(&late));
    }

    #[test]
    fn error_messages_say_what_to_do() {
        let rate = ArxivError::Http(HttpError::Exhausted {
            url: "u".into(),
            attempts: 3,
            last: Box::new(HttpError::Status {
                url: "u".into(),
                status: 429,
                snippet: String::new(),
            }),
        });
        assert!(
            rate.to_string()
                .starts_with("arXiv is rate-limiting; try again later")
        );
        assert!(rate.is_transient());
        let text = ArxivError::Http(HttpError::Rejected {
            url: "u".into(),
            reason: RATE_LIMITED.into(),
        });
        assert!(text.to_string().starts_with("arXiv is rate-limiting"));
        let down = ArxivError::Http(HttpError::Status {
            url: "u".into(),
            status: 503,
            snippet: String::new(),
        });
        assert!(down.to_string().starts_with("arXiv is unavailable"));
        let api = ArxivError::Api {
            message: "incorrect id format for 1234.12345".into(),
        };
        assert!(!api.is_transient());
        assert_eq!(
            api.to_string(),
            "arXiv rejected the request: incorrect id format for 1234.12345"
        );
        let inc = ArxivError::Incomplete {
            expected: 5,
            got: 2,
        };
        assert!(inc.to_string().contains("only 2 of 5"));
        for e in [rate, down, api, inc] {
            assert!(!e.to_string().contains('\n'));
        }
    }

    #[test]
    fn new_clamps_sizes() {
        let clock: Arc<dyn Clock> = Arc::new(crate::clock::FakeClock::new(at(2026, 1, 1, 0, 0, 0)));
        let http = HttpClient::new(crate::http::HttpOptions::default(), clock.clone()).unwrap();
        let c = ArxivClient::new(
            ArxivOptions {
                page_size: 50_000,
                id_batch_size: 0,
                ..ArxivOptions::default()
            },
            http,
            clock,
        );
        assert_eq!(c.options().page_size, MAX_PAGE_SIZE);
        assert_eq!(c.options().id_batch_size, 1);
    }

    #[test]
    fn futures_are_send() {
        fn assert_send<T: Send>(_: &T) {}
        let clock: Arc<dyn Clock> = Arc::new(crate::clock::FakeClock::new(at(2026, 1, 1, 0, 0, 0)));
        let http = HttpClient::new(crate::http::HttpOptions::default(), clock.clone()).unwrap();
        let c = ArxivClient::new(ArxivOptions::default(), http, clock);
        let p = crate::progress::NoProgress;
        assert_send(&c.fetch_ids(&[], &p));
        assert_send(&c.search("x", Sort::NEWEST, &p));
        assert_send(&c.fetch_rss("cs"));
    }
}
