//! One polite HTTP client for every upstream (arXiv, Hacker News, Hugging Face, Bluesky, X,
//! Semantic Scholar, LLM endpoints).
//!
//! Every upstream we read is free and rate-limited, and several of them fail in mundane ways
//! (503 during deploys, 429 under load, arXiv's 200 "Rate exceeded" body). Putting timeouts, the
//! body-size cap, retries with jittered exponential backoff, `Retry-After` handling and secret
//! scrubbing in one place means each source client only decides what a good answer looks like
//! (its [`Verdict`]).
//!
//! All waiting goes through [`Clock`], so tests drive retries and pacing with
//! [`crate::clock::FakeClock`] in no time and can assert the exact waits.

use std::borrow::Cow;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use chrono::{DateTime, NaiveDateTime, Utc};
use reqwest::header::{HeaderMap, RETRY_AFTER};

use crate::clock::{Clock, saturating_add};

/// Longest body excerpt carried in an error, in characters.
pub const SNIPPET_CHARS: usize = 200;

/// Upper bound of the connect timeout; the overall `timeout` still applies when it is shorter.
const MAX_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How [`HttpClient::send`] retries transient failures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt; `0` sends once.
    pub max_retries: u32,
    /// Backoff ceiling of the first retry; it doubles per retry (before jitter).
    pub base_delay: Duration,
    /// No wait is ever longer, whether it comes from backoff or from a server's `Retry-After`,
    /// so a hostile or confused server cannot park us for hours.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// Four retries, 2 s base, 60 s cap: rides out a deploy blip without hammering anyone.
    fn default() -> Self {
        RetryPolicy {
            max_retries: 4,
            base_delay: Duration::from_secs(2),
            max_delay: Duration::from_secs(60),
        }
    }
}

/// Settings of an [`HttpClient`], shared by every upstream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpOptions {
    /// Deadline for one whole attempt, headers and body included; the connect timeout is
    /// derived from it (at most 10 s).
    pub timeout: Duration,
    /// Largest body accepted, enforced while streaming so a runaway response cannot eat memory.
    pub max_body_bytes: usize,
    /// Sent on every request; upstreams ask for a contact (see [`user_agent`]).
    pub user_agent: String,
    /// Retry behaviour of [`HttpClient::send`].
    pub retry: RetryPolicy,
}

impl Default for HttpOptions {
    /// 30 s per attempt, 32 MiB bodies (a 2000-entry arXiv page is about 5 MiB), no contact.
    fn default() -> Self {
        HttpOptions {
            timeout: Duration::from_secs(30),
            max_body_bytes: 32 * 1024 * 1024,
            user_agent: user_agent(""),
            retry: RetryPolicy::default(),
        }
    }
}

/// Builds the User-Agent every upstream sees, e.g.
/// `hotpapers/0.1.0 (+https://github.com/hotpapers/hotpapers; mailto:ops@example.org)`.
///
/// arXiv and Semantic Scholar ask API users to identify themselves with a way to reach them; a
/// contact that contains an `@` becomes a `mailto:`, anything else (a URL) is kept as given.
/// Characters that are not allowed in a header value, and the `()`/`;` that would break the
/// comment syntax, are dropped; an empty contact leaves only the project URL.
pub fn user_agent(contact: &str) -> String {
    let clean: String = contact
        .trim()
        .chars()
        .filter(|c| c.is_ascii_graphic() && !matches!(c, '(' | ')' | ';'))
        .collect();
    let project = concat!(
        "hotpapers/",
        env!("CARGO_PKG_VERSION"),
        " (+https://github.com/hotpapers/hotpapers"
    );
    if clean.is_empty() {
        format!("{project})")
    } else if clean.contains('@') && !clean.to_ascii_lowercase().starts_with("mailto:") {
        format!("{project}; mailto:{clean})")
    } else {
        format!("{project}; {clean})")
    }
}

/// A fully read response.
#[derive(Debug, Clone)]
pub struct Response {
    /// HTTP status code.
    pub status: u16,
    /// Response headers.
    pub headers: HeaderMap,
    /// The whole body (at most `max_body_bytes`).
    pub body: Bytes,
    /// Final URL after redirects, with secrets scrubbed by [`sanitize_url`] so that it is safe to
    /// log or put into an error.
    pub url: String,
    /// The client's secrets, scrubbed from [`Response::snippet`].
    secrets: Arc<Vec<String>>,
}

impl Response {
    /// A response with no secrets to scrub (parsers' tests build their inputs with it).
    pub fn new(status: u16, headers: HeaderMap, body: Bytes, url: String) -> Response {
        Response {
            status,
            headers,
            body,
            url,
            secrets: Arc::new(Vec::new()),
        }
    }

    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body as text, with invalid UTF-8 replaced (upstream bodies are untrusted).
    pub fn text(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.body)
    }

    /// A header value as text, if present and visible ASCII.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// A short, single-line, control-character-free excerpt of the body for errors and logs,
    /// with every secret of the client (see [`HttpClient::with_secrets`]) replaced by
    /// `[redacted]`: an upstream may echo the request that carried it.
    pub fn snippet(&self) -> String {
        if self.secrets.is_empty() {
            return snippet(&self.body);
        }
        // Scrub before cutting, so a secret across the cut cannot leave a visible half.
        let longest = self.secrets.iter().map(|s| s.len() * 3).max().unwrap_or(0);
        let head = &self.body[..self.body.len().min(SNIPPET_CHARS * 8 + longest)];
        let clean = scrub(&String::from_utf8_lossy(head), &self.secrets);
        snippet(clean.as_bytes())
    }
}

/// What a caller thinks of a response that is not a 429 or 5xx (those are always retried).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The response is the answer. A non-2xx status still becomes [`HttpError::Status`].
    Accept,
    /// A transient failure disguised as success (e.g. arXiv's 200 "Rate exceeded" body or a
    /// truncated document): retry with backoff, with this reason in logs and errors.
    Retry(String),
    /// The upstream said no and asking again will not help: fail with [`HttpError::Rejected`].
    Fail(String),
}

/// A `classify` function for callers that take any 2xx as is.
pub fn accept_all(_: &Response) -> Verdict {
    Verdict::Accept
}

/// Why an upstream request failed. URLs in it are scrubbed of secrets.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The attempt (connect, headers and body) took longer than the configured timeout.
    #[error("{url} did not answer within the timeout")]
    Timeout { url: String },
    /// Connecting or transferring failed (DNS, refused, reset, TLS, broken body).
    #[error("could not talk to {url}: {message}")]
    Connect { url: String, message: String },
    /// The body is larger than `max_body_bytes`.
    #[error("response from {url} is larger than the {limit}-byte limit")]
    TooLarge { url: String, limit: usize },
    /// An HTTP error status (4xx, or a 429/5xx on the last attempt inside `Exhausted`).
    #[error("{url} answered HTTP {status}: {snippet}")]
    Status {
        url: String,
        status: u16,
        snippet: String,
    },
    /// The caller's `classify` judged the response unusable.
    #[error("unusable response from {url}: {reason}")]
    Rejected { url: String, reason: String },
    /// Every attempt failed with a retryable error; `last` is the final one.
    #[error("gave up on {url} after {attempts} attempts; last error: {last}")]
    Exhausted {
        url: String,
        attempts: u32,
        last: Box<HttpError>,
    },
    /// The client or request could not be built (bad URL, bad header, bad options).
    #[error("invalid HTTP request: {0}")]
    Build(String),
}

impl HttpError {
    /// The error that ended the final attempt (looks through [`HttpError::Exhausted`]).
    pub fn last(&self) -> &HttpError {
        match self {
            HttpError::Exhausted { last, .. } => last.last(),
            other => other,
        }
    }

    /// Why the final attempt failed, in a few fixed words with no URL, host or upstream text
    /// ("HTTP 404", "its host name does not resolve"): safe to show to anyone.
    pub fn public_reason(&self) -> String {
        match self.last() {
            HttpError::Timeout { .. } => "it did not answer in time".to_string(),
            HttpError::Connect { message, .. } if is_dns_failure(message) => {
                "its host name does not resolve".to_string()
            }
            HttpError::Connect { .. } => "the connection failed".to_string(),
            HttpError::TooLarge { .. } => "its answer was too large".to_string(),
            HttpError::Status { status, .. } => format!("HTTP {status}"),
            HttpError::Rejected { .. } => "its answer was unusable".to_string(),
            HttpError::Exhausted { .. } | HttpError::Build(_) => {
                "the request could not be made".to_string()
            }
        }
    }

    /// The HTTP status of the final attempt, if it got that far.
    pub fn status(&self) -> Option<u16> {
        match self.last() {
            HttpError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Whether another attempt could succeed (transport trouble, timeouts, 408/429/5xx). A
    /// host name that does not resolve is not: without a network (or with a typo in a URL)
    /// retrying only makes the user wait; the next run or pass tries again.
    pub fn is_transient(&self) -> bool {
        match self {
            HttpError::Connect { message, .. } => !is_dns_failure(message),
            HttpError::Timeout { .. } => true,
            HttpError::Status { status, .. } => is_retryable_status(*status),
            _ => false,
        }
    }
}

/// Statuses that mean "not now" rather than "no": 408, 429 and every 5xx.
fn is_retryable_status(status: u16) -> bool {
    status == 408 || status == 429 || (500..=599).contains(&status)
}

/// Query parameter names (lower-cased substrings) whose values are secrets.
const SECRET_PARAM_PARTS: &[&str] = &[
    "token",
    "key",
    "password",
    "passwd",
    "secret",
    "signature",
    "authorization",
    "credential",
];

fn is_secret_param(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower == "sig" || SECRET_PARAM_PARTS.iter().any(|p| lower.contains(p))
}

/// Makes a URL safe for logs and errors: the values of query parameters named like secrets
/// (`token`, `key`, `api_key`, `access_token`, `password`, …) become `REDACTED`, and user
/// info and fragments are dropped. A string that does not parse as a URL loses its whole query.
///
/// URLs without secrets keep their exact encoding, so logs show what was really sent.
pub fn sanitize_url(raw: &str) -> String {
    let Ok(mut url) = url::Url::parse(raw) else {
        let base = raw.split(['?', '#']).next().unwrap_or_default();
        return if base.len() < raw.len() {
            format!("{base}?…")
        } else {
            base.to_string()
        };
    };
    // Setting these can only fail for URLs that cannot have credentials; then there are none.
    let _ = url.set_username("");
    let _ = url.set_password(None);
    url.set_fragment(None);
    let has_secret = url.query_pairs().any(|(k, _)| is_secret_param(&k));
    if has_secret {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let v = if is_secret_param(&k) {
                    "REDACTED".to_string()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    url.to_string()
}

/// `api_url` without trailing slashes, after checking it is an http(s) URL: the base every
/// JSON API source appends its endpoint paths to. `key` names the setting in the error, whose
/// URL is passed through [`sanitize_url`] so a token in a query cannot leak.
///
/// # Errors
///
/// [`HttpError::Build`] when `api_url` does not parse or is not http(s).
pub(crate) fn base_url(api_url: &str, key: &str) -> Result<String, HttpError> {
    match url::Url::parse(api_url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => {
            Ok(api_url.trim_end_matches('/').to_string())
        }
        _ => Err(HttpError::Build(format!(
            "{key} is not an http(s) URL: {}",
            sanitize_url(api_url)
        ))),
    }
}

/// Whether a connection error is a failed name lookup (no network, no DNS, a mistyped host).
fn is_dns_failure(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("dns error") || m.contains("failed to lookup address")
}

/// `text` with every secret (and its URL-encoded form) replaced by `[redacted]`.
pub fn scrub(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_string();
    for secret in secrets {
        out = out.replace(secret.as_str(), "[redacted]");
        let encoded: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
        if encoded != *secret {
            out = out.replace(&encoded, "[redacted]");
        }
    }
    out
}

/// A short excerpt of a body for errors: lossy UTF-8, control characters dropped, whitespace
/// collapsed, at most [`SNIPPET_CHARS`] characters (with `…` when cut).
pub fn snippet(body: &[u8]) -> String {
    // Only the head matters; never collapse a multi-megabyte body for a 200-char excerpt.
    let head_len = body.len().min(SNIPPET_CHARS * 8);
    let head = body.get(..head_len).unwrap_or(body);
    let text = String::from_utf8_lossy(head);
    let mut collapsed = String::with_capacity(text.len().min(SNIPPET_CHARS * 4));
    for word in text
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
    {
        if !collapsed.is_empty() {
            collapsed.push(' ');
        }
        collapsed.push_str(word);
    }
    let cut = head_len < body.len();
    if !cut && collapsed.chars().count() <= SNIPPET_CHARS {
        return collapsed;
    }
    let mut out: String = collapsed.chars().take(SNIPPET_CHARS - 1).collect();
    out.push('…');
    out
}

/// Full-jitter exponential backoff: a uniformly random wait in
/// `[0, min(max_delay, base_delay * 2^retry)]`, where `retry` counts from 0.
///
/// Full jitter spreads clients that failed together (e.g. every bot hitting arXiv at the
/// 20:00 ET announcement) so they do not retry in lockstep.
pub fn backoff_delay(policy: &RetryPolicy, retry: u32, rng: &mut fastrand::Rng) -> Duration {
    let factor = 1u32.checked_shl(retry).unwrap_or(u32::MAX);
    let ceiling = policy
        .base_delay
        .saturating_mul(factor)
        .min(policy.max_delay);
    let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
    Duration::from_nanos(rng.u64(0..=nanos))
}

/// Reads a `Retry-After` value: delay-seconds or an HTTP date (IMF-fixdate, RFC 850 or
/// asctime), relative to `now`. A date in the past means "now"; garbage means "not given".
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    if value.bytes().all(|b| b.is_ascii_digit()) {
        // All digits but too long for u64: an absurd wait, capped by the caller.
        return Some(Duration::from_secs(value.parse().unwrap_or(u64::MAX)));
    }
    let at = DateTime::parse_from_rfc2822(value)
        .map(|d| d.with_timezone(&Utc))
        .or_else(|_| {
            NaiveDateTime::parse_from_str(value, "%A, %d-%b-%y %H:%M:%S GMT").map(|d| d.and_utc())
        })
        .or_else(|_| {
            NaiveDateTime::parse_from_str(value, "%a %b %e %H:%M:%S %Y").map(|d| d.and_utc())
        })
        .ok()?;
    Some((at - now).to_std().unwrap_or(Duration::ZERO))
}

/// Header in which X (Twitter) announces, as epoch seconds, when its rate-limit window resets.
pub const X_RATE_LIMIT_RESET: &str = "x-rate-limit-reset";

/// Reads an `x-rate-limit-reset` value (Unix epoch seconds at which the window resets) as a
/// wait from `now`, so that a 429 from an upstream that sends no `Retry-After` (X) is retried
/// when it can succeed instead of after a blind backoff. A reset in the past means "now";
/// anything but plain digits means "not given".
pub fn parse_rate_limit_reset(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let at = value
        .parse::<i64>()
        .ok()
        .and_then(|secs| DateTime::from_timestamp(secs, 0));
    match at {
        Some(at) => Some((at - now).to_std().unwrap_or(Duration::ZERO)),
        // Beyond chrono's range: an absurd wait, capped by the caller.
        None => Some(Duration::MAX),
    }
}

/// Serializes requests to one upstream and spaces their starts, measured on the [`Clock`].
///
/// arXiv allows one request every 3 seconds over a single connection, across the API, RSS and
/// OAI-PMH; a process-wide `Pacer` (cloned into every user) holds a tokio mutex for the whole
/// request, so concurrent tasks queue in FIFO order instead of bursting. Retries go through it
/// too, and a server's `Retry-After` is recorded with [`PacerGuard::hold_off`] so that the
/// other queued tasks wait as well.
#[derive(Debug, Clone)]
pub struct Pacer {
    spacing: Duration,
    clock: Arc<dyn Clock>,
    state: Arc<tokio::sync::Mutex<PacerState>>,
}

#[derive(Debug, Default)]
struct PacerState {
    last_start: Option<DateTime<Utc>>,
    not_before: Option<DateTime<Utc>>,
    hold: Duration,
}

/// The right to send one request; the next request cannot start until it is dropped.
#[derive(Debug)]
pub struct PacerGuard<'a> {
    state: tokio::sync::MutexGuard<'a, PacerState>,
    clock: &'a dyn Clock,
}

impl Pacer {
    /// A pacer whose request starts are at least `spacing` apart.
    pub fn new(spacing: Duration, clock: Arc<dyn Clock>) -> Self {
        Pacer {
            spacing,
            clock,
            state: Arc::new(tokio::sync::Mutex::new(PacerState::default())),
        }
    }

    /// The configured minimum gap between request starts.
    pub fn spacing(&self) -> Duration {
        self.spacing
    }

    /// Waits for our turn (queueing behind other holders, then sleeping out the spacing and any
    /// hold-off), records the start and returns the guard to hold during the request.
    pub async fn acquire(&self) -> PacerGuard<'_> {
        let mut state = self.state.lock().await;
        let now = self.clock.now();
        let mut earliest = now;
        if let Some(last) = state.last_start {
            earliest = earliest.max(saturating_add(last, self.spacing));
        }
        if let Some(nb) = state.not_before {
            earliest = earliest.max(nb);
        }
        // Bounded so a wall clock that jumps backwards cannot stall us for long.
        let wait = (earliest - now)
            .to_std()
            .unwrap_or(Duration::ZERO)
            .min(self.spacing.max(state.hold));
        if !wait.is_zero() {
            self.clock.sleep(wait).await;
        }
        state.last_start = Some(self.clock.now());
        state.not_before = None;
        state.hold = Duration::ZERO;
        PacerGuard {
            state,
            clock: self.clock.as_ref(),
        }
    }
}

impl PacerGuard<'_> {
    /// No request (from anyone) may start until `d` from now, e.g. after a `Retry-After`.
    pub fn hold_off(&mut self, d: Duration) {
        let until = saturating_add(self.clock.now(), d);
        self.state.not_before = Some(self.state.not_before.map_or(until, |nb| nb.max(until)));
        self.state.hold = self.state.hold.max(d);
    }
}

/// The shared upstream client: a `reqwest::Client` with our timeouts and User-Agent, the
/// options, the clock and the jitter source. Cheap to clone; clones share the connection pool.
#[derive(Debug, Clone)]
pub struct HttpClient {
    inner: reqwest::Client,
    opts: Arc<HttpOptions>,
    clock: Arc<dyn Clock>,
    rng: Arc<Mutex<fastrand::Rng>>,
    secrets: Arc<Vec<String>>,
    /// (host, source name) pairs naming upstreams in metrics.
    source_names: Arc<Vec<(String, String)>>,
}

/// How one attempt ended.
enum Outcome {
    Done(Result<Response, HttpError>),
    Retry {
        error: HttpError,
        retry_after: Option<Duration>,
    },
}

impl HttpClient {
    /// Builds the client; fails on a zero timeout or a User-Agent that is not a valid header.
    pub fn new(opts: HttpOptions, clock: Arc<dyn Clock>) -> Result<Self, HttpError> {
        if opts.timeout.is_zero() {
            return Err(HttpError::Build("timeout must be greater than zero".into()));
        }
        let inner = reqwest::Client::builder()
            .timeout(opts.timeout)
            .connect_timeout(opts.timeout.min(MAX_CONNECT_TIMEOUT))
            .user_agent(opts.user_agent.as_str())
            .build()
            .map_err(|e| HttpError::Build(error_chain(&e.without_url())))?;
        Ok(HttpClient {
            inner,
            opts: Arc::new(opts),
            clock,
            rng: Arc::new(Mutex::new(fastrand::Rng::new())),
            secrets: Arc::new(Vec::new()),
            source_names: Arc::new(Vec::new()),
        })
    }

    /// Names upstreams by host in the `/metrics` request counts (`export.arxiv.org` →
    /// `arxiv`); a host not named here is counted under its own name.
    pub fn with_source_names(self, names: impl IntoIterator<Item = (String, String)>) -> Self {
        HttpClient {
            source_names: Arc::new(names.into_iter().collect()),
            ..self
        }
    }

    /// Counts one attempt in the process's metrics, by upstream and status.
    fn count(&self, url: &str, result: &Result<Response, HttpError>) {
        let host = url::Url::parse(url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
            .unwrap_or_default();
        let source = self
            .source_names
            .iter()
            .find(|(h, _)| *h == host)
            .map_or(host.as_str(), |(_, name)| name.as_str());
        crate::metrics::metrics().upstream(source, result.as_ref().ok().map(|r| r.status));
    }

    /// The secrets (tokens, passwords, keys) that must never appear in an error or a log:
    /// they are scrubbed from every body excerpt this client makes.
    pub fn with_secrets(self, secrets: impl IntoIterator<Item = String>) -> Self {
        let mut all: Vec<String> = secrets
            .into_iter()
            .filter(|s| s.trim().chars().count() >= 4)
            .collect();
        // Longest first, so a secret containing another is replaced whole.
        all.sort_by_key(|s| std::cmp::Reverse(s.len()));
        HttpClient {
            secrets: Arc::new(all),
            ..self
        }
    }

    /// Makes the backoff jitter reproducible (tests, debugging).
    pub fn with_jitter_seed(self, seed: u64) -> Self {
        HttpClient {
            rng: Arc::new(Mutex::new(fastrand::Rng::with_seed(seed))),
            ..self
        }
    }

    /// The underlying client, to build requests for [`HttpClient::send`].
    pub fn reqwest(&self) -> &reqwest::Client {
        &self.inner
    }

    /// The options this client was built with.
    pub fn options(&self) -> &HttpOptions {
        &self.opts
    }

    /// The clock used for waits.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// A jittered backoff wait for the given retry (0-based), per this client's policy; for
    /// callers that retry on their own terms (e.g. arXiv's empty pages).
    pub fn backoff(&self, retry: u32) -> Duration {
        let mut rng = self.rng.lock().unwrap_or_else(PoisonError::into_inner);
        backoff_delay(&self.opts.retry, retry, &mut rng)
    }

    /// Sends once; reads the body with the size cap enforced while streaming (and early from
    /// Content-Length). Any HTTP status is `Ok`: only transport failures, the timeout and the
    /// cap are errors.
    pub async fn send_once(&self, req: reqwest::RequestBuilder) -> Result<Response, HttpError> {
        let (_, req) = req.build_split();
        let req = req.map_err(|e| HttpError::Build(error_chain(&e.without_url())))?;
        let method = req.method().clone();
        let url = sanitize_url(req.url().as_str());
        let started = Instant::now();
        let result = self.execute(req, &url).await;
        log_attempt(&method, &url, &result, started);
        self.count(&url, &result);
        result
    }

    /// Sends with retries: transport errors and timeouts, 408/429/5xx, and whatever `classify`
    /// calls retryable (e.g. arXiv's 200 "Rate exceeded" body) are retried with exponential
    /// backoff and full jitter, honouring `Retry-After` (seconds or HTTP date, capped at
    /// `max_delay`), at most `max_retries` times; then [`HttpError::Exhausted`].
    ///
    /// `classify` sees every response that is not a 408/429/5xx. Other 4xx fail at once with
    /// [`HttpError::Status`] unless `classify` fails them first with a better reason (so a
    /// caller can read an error document served with 400). `build` is called per attempt.
    pub async fn send(
        &self,
        build: impl Fn() -> reqwest::RequestBuilder,
        classify: impl Fn(&Response) -> Verdict,
    ) -> Result<Response, HttpError> {
        self.send_paced(None, build, classify).await
    }

    /// [`HttpClient::send`] with every attempt (retries included) taken through `pacer`.
    /// Backoff waits become pacer hold-offs, so every user of the pacer waits them out.
    pub async fn send_paced(
        &self,
        pacer: Option<&Pacer>,
        build: impl Fn() -> reqwest::RequestBuilder,
        classify: impl Fn(&Response) -> Verdict,
    ) -> Result<Response, HttpError> {
        let max_retries = self.opts.retry.max_retries;
        let mut attempt: u32 = 0;
        loop {
            let mut guard = match pacer {
                Some(p) => Some(p.acquire().await),
                None => None,
            };
            let (url, outcome) = self.attempt(&build, &classify).await;
            let (error, retry_after) = match outcome {
                Outcome::Done(result) => return result,
                Outcome::Retry { error, retry_after } => (error, retry_after),
            };
            attempt += 1;
            if attempt > max_retries {
                return Err(HttpError::Exhausted {
                    url,
                    attempts: attempt,
                    last: Box::new(error),
                });
            }
            let delay = match retry_after {
                Some(d) => d.min(self.opts.retry.max_delay),
                None => self.backoff(attempt - 1),
            };
            // A retry is routine; if they all fail, the caller reports the error once.
            tracing::info!(
                url = %url,
                attempt,
                max_retries,
                delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                error = %error,
                "retrying upstream request"
            );
            match guard.as_mut() {
                Some(g) => g.hold_off(delay),
                None if !delay.is_zero() => self.clock.sleep(delay).await,
                None => {}
            }
            drop(guard);
        }
    }

    /// One attempt: build, send, read, judge. Returns the sanitized URL for errors.
    async fn attempt(
        &self,
        build: &impl Fn() -> reqwest::RequestBuilder,
        classify: &impl Fn(&Response) -> Verdict,
    ) -> (String, Outcome) {
        let (_, req) = build().build_split();
        let req = match req {
            Ok(r) => r,
            Err(e) => {
                let url = e
                    .url()
                    .map(|u| sanitize_url(u.as_str()))
                    .unwrap_or_default();
                let err = HttpError::Build(error_chain(&e.without_url()));
                return (url, Outcome::Done(Err(err)));
            }
        };
        let method = req.method().clone();
        let url = sanitize_url(req.url().as_str());
        let started = Instant::now();
        let result = self.execute(req, &url).await;
        log_attempt(&method, &url, &result, started);
        self.count(&url, &result);
        let resp = match result {
            Ok(r) => r,
            Err(e) if e.is_transient() => {
                return (
                    url,
                    Outcome::Retry {
                        error: e,
                        retry_after: None,
                    },
                );
            }
            Err(e) => return (url, Outcome::Done(Err(e))),
        };
        let now = self.clock.now();
        let retry_after = resp
            .header(RETRY_AFTER.as_str())
            .and_then(|v| parse_retry_after(v, now))
            .or_else(|| {
                // X answers 429 without Retry-After; its window reset is the only hint.
                (resp.status == 429)
                    .then(|| resp.header(X_RATE_LIMIT_RESET))
                    .flatten()
                    .and_then(|v| parse_rate_limit_reset(v, now))
            });
        if is_retryable_status(resp.status) {
            let error = HttpError::Status {
                url: url.clone(),
                status: resp.status,
                snippet: resp.snippet(),
            };
            return (url, Outcome::Retry { error, retry_after });
        }
        let outcome = match classify(&resp) {
            Verdict::Accept if resp.is_success() => Outcome::Done(Ok(resp)),
            Verdict::Accept => Outcome::Done(Err(HttpError::Status {
                url: url.clone(),
                status: resp.status,
                snippet: resp.snippet(),
            })),
            Verdict::Retry(reason) => Outcome::Retry {
                error: HttpError::Rejected {
                    url: url.clone(),
                    reason,
                },
                retry_after,
            },
            Verdict::Fail(reason) => Outcome::Done(Err(HttpError::Rejected {
                url: url.clone(),
                reason,
            })),
        };
        (url, outcome)
    }

    /// Sends a built request and reads the capped body.
    async fn execute(&self, req: reqwest::Request, url: &str) -> Result<Response, HttpError> {
        let limit = self.opts.max_body_bytes;
        let mut resp = self
            .inner
            .execute(req)
            .await
            .map_err(|e| transport_error(e, url))?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let final_url = sanitize_url(resp.url().as_str());
        let declared = resp.content_length();
        if declared.is_some_and(|len| len > u64::try_from(limit).unwrap_or(u64::MAX)) {
            return Err(HttpError::TooLarge {
                url: url.to_string(),
                limit,
            });
        }
        let initial = declared
            .map_or(8 * 1024, |len| usize::try_from(len).unwrap_or(limit))
            .min(limit);
        let mut buf = BytesMut::with_capacity(initial);
        while let Some(chunk) = resp.chunk().await.map_err(|e| transport_error(e, url))? {
            if buf.len().saturating_add(chunk.len()) > limit {
                return Err(HttpError::TooLarge {
                    url: url.to_string(),
                    limit,
                });
            }
            buf.extend_from_slice(&chunk);
        }
        Ok(Response {
            status,
            headers,
            body: buf.freeze(),
            url: final_url,
            secrets: self.secrets.clone(),
        })
    }
}

/// Maps a reqwest failure, keeping its URL (which may hold secrets) out of the message.
fn transport_error(e: reqwest::Error, url: &str) -> HttpError {
    let url = url.to_string();
    if e.is_timeout() {
        HttpError::Timeout { url }
    } else if e.is_builder() {
        HttpError::Build(error_chain(&e.without_url()))
    } else if e.is_redirect() {
        HttpError::Rejected {
            url,
            reason: error_chain(&e.without_url()),
        }
    } else {
        HttpError::Connect {
            url,
            message: error_chain(&e.without_url()),
        }
    }
}

/// `error: cause: cause`, one line, for transport errors whose top level says little.
/// Callers strip URLs first (`reqwest::Error::without_url`) where they may hold secrets.
pub(crate) fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut msg = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !msg.contains(&text) {
            msg.push_str(": ");
            msg.push_str(&text);
        }
        source = s.source();
    }
    msg
}

fn log_attempt(
    method: &reqwest::Method,
    url: &str,
    result: &Result<Response, HttpError>,
    started: Instant,
) {
    let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    match result {
        Ok(r) => tracing::debug!(
            %method, url, status = r.status, bytes = r.body.len(), elapsed_ms, "upstream response"
        ),
        Err(e) => tracing::debug!(%method, url, error = %e, elapsed_ms, "upstream request failed"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::FakeClock;
    use chrono::TimeZone;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use wiremock::matchers::{header, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, 12, 0, 0).unwrap()
    }

    fn opts(max_retries: u32) -> HttpOptions {
        HttpOptions {
            timeout: Duration::from_secs(5),
            max_body_bytes: 1024,
            user_agent: user_agent("ops@example.org"),
            retry: RetryPolicy {
                max_retries,
                base_delay: Duration::from_secs(1),
                max_delay: Duration::from_secs(30),
            },
        }
    }

    fn client(o: HttpOptions) -> (HttpClient, FakeClock) {
        let clock = FakeClock::new(t0());
        let c = HttpClient::new(o, Arc::new(clock.clone()))
            .unwrap()
            .with_jitter_seed(7);
        (c, clock)
    }

    async fn get(c: &HttpClient, url: &str) -> Result<Response, HttpError> {
        c.send(|| c.reqwest().get(url), accept_all).await
    }

    #[test]
    fn user_agent_names_project_version_and_contact() {
        let v = env!("CARGO_PKG_VERSION");
        assert_eq!(
            user_agent("ops@example.org"),
            format!(
                "hotpapers/{v} (+https://github.com/hotpapers/hotpapers; mailto:ops@example.org)"
            )
        );
        assert_eq!(
            user_agent(""),
            format!("hotpapers/{v} (+https://github.com/hotpapers/hotpapers)")
        );
        assert_eq!(
            user_agent("mailto:a@b.c"),
            format!("hotpapers/{v} (+https://github.com/hotpapers/hotpapers; mailto:a@b.c)")
        );
        // Header-breaking characters are dropped, so the client always builds.
        let ua = user_agent(" evil\r\nX-Injected: 1 (a;b) é@x.org ");
        assert!(!ua.contains('\r') && !ua.contains('\n') && !ua.contains('é'));
        assert!(ua.ends_with("; mailto:evilX-Injected:1ab@x.org)"), "{ua}");
        assert!(
            HttpClient::new(
                HttpOptions {
                    user_agent: ua,
                    ..HttpOptions::default()
                },
                Arc::new(FakeClock::new(t0()))
            )
            .is_ok()
        );
    }

    #[test]
    fn new_rejects_zero_timeout_and_bad_user_agent() {
        let clock: Arc<dyn Clock> = Arc::new(FakeClock::new(t0()));
        let zero = HttpOptions {
            timeout: Duration::ZERO,
            ..HttpOptions::default()
        };
        assert!(matches!(
            HttpClient::new(zero, clock.clone()),
            Err(HttpError::Build(_))
        ));
        let bad = HttpOptions {
            user_agent: "bad\nagent".into(),
            ..HttpOptions::default()
        };
        assert!(matches!(
            HttpClient::new(bad, clock),
            Err(HttpError::Build(_))
        ));
    }

    #[test]
    fn base_url_trims_and_checks() {
        assert_eq!(
            base_url("https://hn.algolia.com/api/v1/", "k").unwrap(),
            "https://hn.algolia.com/api/v1"
        );
        let err = base_url("ftp://x?token=hunter2", "sources.hn.api_url").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("sources.hn.api_url"), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
        assert!(base_url("not a url", "k").is_err());
    }

    #[test]
    fn sanitize_url_redacts_secret_params_only() {
        assert_eq!(
            sanitize_url("https://api.x.com/2/tweets?query=arxiv&api_key=s3cr3t&token=abc"),
            "https://api.x.com/2/tweets?query=arxiv&api_key=REDACTED&token=REDACTED"
        );
        assert_eq!(
            sanitize_url("https://h/p?Access_Token=t&KEY=k&password=p&client_secret=c&x=1"),
            "https://h/p?Access_Token=REDACTED&KEY=REDACTED&password=REDACTED&client_secret=REDACTED&x=1"
        );
        // No secret: the URL is untouched, encoding included.
        let plain =
            "https://export.arxiv.org/api/query?search_query=cat%3Acs.LG+AND+ti%3Ax&start=0";
        assert_eq!(sanitize_url(plain), plain);
        // Credentials in user info and fragments are dropped.
        assert_eq!(
            sanitize_url("https://user:pw@example.org/a?b=1#frag"),
            "https://example.org/a?b=1"
        );
        // Unparseable input loses its query entirely.
        assert_eq!(sanitize_url("not a url?token=abc"), "not a url?…");
        assert_eq!(sanitize_url("plain"), "plain");
        assert!(!sanitize_url("http://[::1/x?key=1").contains("key=1"));
    }

    #[test]
    fn snippet_is_short_single_line_and_char_safe() {
        assert_eq!(snippet(b"  Rate\r\n exceeded.\t"), "Rate exceeded.");
        assert_eq!(snippet(b""), "");
        let long = "é".repeat(500);
        let s = snippet(long.as_bytes());
        assert_eq!(s.chars().count(), SNIPPET_CHARS);
        assert!(s.ends_with('…'));
        let words = "word ".repeat(100);
        let s = snippet(words.as_bytes());
        assert!(s.chars().count() <= SNIPPET_CHARS, "{}", s.chars().count());
        assert!(s.ends_with('…'));
        // Invalid UTF-8 and control characters do not leak through.
        let s = snippet(b"ok\xff\x00\x1bdone");
        assert!(!s.chars().any(|c| c.is_control()), "{s:?}");
        assert!(s.starts_with("ok"));
    }

    #[test]
    fn backoff_jitter_stays_within_bounds() {
        let policy = RetryPolicy {
            max_retries: 10,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(20),
        };
        let mut rng = fastrand::Rng::with_seed(42);
        for retry in 0..40u32 {
            let ceiling = Duration::from_millis(500)
                .saturating_mul(1u32.checked_shl(retry).unwrap_or(u32::MAX))
                .min(Duration::from_secs(20));
            let samples: Vec<Duration> = (0..200)
                .map(|_| backoff_delay(&policy, retry, &mut rng))
                .collect();
            assert!(samples.iter().all(|d| *d <= ceiling), "retry {retry}");
            // Jitter really varies, and spans most of the range.
            let max = samples.iter().max().copied().unwrap_or_default();
            let min = samples.iter().min().copied().unwrap_or_default();
            assert!(max > ceiling / 2 && min < ceiling / 2, "retry {retry}");
        }
        // Same seed, same waits.
        let a: Vec<_> = (0..5)
            .map(|r| backoff_delay(&policy, r, &mut fastrand::Rng::with_seed(1)))
            .collect();
        let b: Vec<_> = (0..5)
            .map(|r| backoff_delay(&policy, r, &mut fastrand::Rng::with_seed(1)))
            .collect();
        assert_eq!(a, b);
        let zero = RetryPolicy {
            base_delay: Duration::ZERO,
            ..policy
        };
        assert_eq!(backoff_delay(&zero, 3, &mut rng), Duration::ZERO);
    }

    #[test]
    fn retry_after_parses_seconds_and_http_dates() {
        let now = t0();
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("99999999999999999999999", now),
            Some(Duration::from_secs(u64::MAX))
        );
        assert_eq!(
            parse_retry_after("Mon, 02 Mar 2026 12:00:42 GMT", now),
            Some(Duration::from_secs(42))
        );
        assert_eq!(
            parse_retry_after("Monday, 02-Mar-26 12:01:00 GMT", now),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            parse_retry_after("Mon Mar  2 12:00:05 2026", now),
            Some(Duration::from_secs(5))
        );
        // In the past: go now.
        assert_eq!(
            parse_retry_after("Sun, 01 Mar 2026 12:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        for bad in ["", "-5", "soon", "1.5", "Mon, 99 Foo 2026"] {
            assert_eq!(parse_retry_after(bad, now), None, "{bad}");
        }
    }

    #[tokio::test]
    async fn pacer_spaces_request_starts() {
        let clock = FakeClock::new(t0());
        let pacer = Pacer::new(Duration::from_secs(3), Arc::new(clock.clone()));
        drop(pacer.acquire().await); // first request: no wait
        clock.advance(Duration::from_secs(1)); // the request took 1 s
        drop(pacer.acquire().await); // waits the remaining 2 s
        drop(pacer.acquire().await); // back to back: full 3 s
        clock.advance(Duration::from_secs(10));
        drop(pacer.acquire().await); // long idle: no wait
        assert_eq!(
            clock.sleeps(),
            vec![Duration::from_secs(2), Duration::from_secs(3)]
        );
        assert_eq!(clock.now(), t0() + chrono::Duration::seconds(16));
    }

    #[tokio::test]
    async fn pacer_hold_off_delays_the_next_holder() {
        let clock = FakeClock::new(t0());
        let pacer = Pacer::new(Duration::from_secs(3), Arc::new(clock.clone()));
        {
            let mut g = pacer.acquire().await;
            g.hold_off(Duration::from_secs(10));
        }
        drop(pacer.acquire().await);
        assert_eq!(clock.sleeps(), vec![Duration::from_secs(10)]);
    }

    /// A spacing or hold-off beyond chrono's range (an unchecked `Retry-After`, a huge
    /// configured spacing) waits, saturated, instead of panicking on `DateTime + TimeDelta`.
    #[tokio::test]
    async fn pacer_survives_durations_beyond_the_calendar() {
        let clock = FakeClock::new(t0());
        let huge = Duration::from_secs(300_000 * 31_557_600);
        let pacer = Pacer::new(huge, Arc::new(clock.clone()));
        drop(pacer.acquire().await);
        drop(pacer.acquire().await);
        assert_eq!(clock.sleeps().len(), 1);
        let clock = FakeClock::new(t0());
        let pacer = Pacer::new(Duration::from_secs(3), Arc::new(clock.clone()));
        {
            let mut g = pacer.acquire().await;
            g.hold_off(Duration::MAX);
        }
        drop(pacer.acquire().await);
        // It waits until the end of chrono's calendar, about 260,000 years from now.
        let sleeps = clock.sleeps();
        assert_eq!(sleeps.len(), 1);
        assert!(
            sleeps[0] > Duration::from_secs(200_000 * 31_557_600),
            "{sleeps:?}"
        );
    }

    #[tokio::test]
    async fn pacer_serializes_concurrent_holders() {
        let clock = FakeClock::new(t0());
        let pacer = Pacer::new(Duration::ZERO, Arc::new(clock));
        let g = pacer.acquire().await;
        let p2 = pacer.clone();
        let waiter = tokio::spawn(async move {
            drop(p2.acquire().await);
        });
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished(), "second holder must wait");
        drop(g);
        waiter.await.unwrap();
    }

    #[tokio::test]
    async fn sends_user_agent_and_returns_body() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/ok"))
            .and(header("user-agent", user_agent("ops@example.org").as_str()))
            .respond_with(ResponseTemplate::new(200).set_body_string("hello"))
            .expect(1)
            .mount(&server)
            .await;
        let (c, clock) = client(opts(3));
        let r = get(&c, &format!("{}/ok", server.uri())).await.unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(&r.body[..], b"hello");
        assert_eq!(r.text(), "hello");
        assert!(clock.sleeps().is_empty());
    }

    #[tokio::test]
    async fn retries_503_then_succeeds() {
        let server = MockServer::start().await;
        Mock::given(path("/x"))
            .respond_with(ResponseTemplate::new(503))
            .up_to_n_times(1)
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(path("/x"))
            .respond_with(ResponseTemplate::new(200).set_body_string("fine"))
            .expect(1)
            .mount(&server)
            .await;
        let (c, clock) = client(opts(3));
        let r = get(&c, &format!("{}/x", server.uri())).await.unwrap();
        assert_eq!(r.text(), "fine");
        // One backoff wait, within the first retry's ceiling (base 1 s).
        let sleeps = clock.sleeps();
        assert!(sleeps.len() <= 1 && sleeps.iter().all(|d| *d <= Duration::from_secs(1)));
    }

    #[tokio::test]
    async fn honours_retry_after_seconds_exactly() {
        let server = MockServer::start().await;
        Mock::given(path("/r"))
            .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "7"))
            .up_to_n_times(1)
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(path("/r"))
            .respond_with(ResponseTemplate::new(200))
            .expect(1)
            .mount(&server)
            .await;
        let (c, clock) = client(opts(3));
        get(&c, &format!("{}/r", server.uri())).await.unwrap();
        assert_eq!(clock.sleeps(), vec![Duration::from_secs(7)]);
    }

    #[tokio::test]
    async fn honours_retry_after_http_date_and_caps_it() {
        let server = MockServer::start().await;
        Mock::given(path("/d"))
            .respond_with(
                ResponseTemplate::new(503)
                    .insert_header("retry-after", "Mon, 02 Mar 2026 12:00:12 GMT"),
            )
            .up_to_n_times(1)
            .mount(&server)
            .await;
        Mock::given(path("/d"))
            .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "3600"))
            .up_to_n_times(1)
            .mount(&server)
            .await;
        Mock::given(path("/d"))
            .respond_with(ResponseTemplate::new(200))
            .expect(1)
            .mount(&server)
            .await;
        let (c, clock) = client(opts(3));
        get(&c, &format!("{}/d", server.uri())).await.unwrap();
        // 12 s until the date, then an hour capped at max_delay (30 s).
        assert_eq!(
            clock.sleeps(),
            vec![Duration::from_secs(12), Duration::from_secs(30)]
        );
    }

    #[test]
    fn rate_limit_reset_is_epoch_seconds_from_now() {
        let now = t0();
        let at = |secs: i64| (now.timestamp() + secs).to_string();
        assert_eq!(
            parse_rate_limit_reset(&at(9), now),
            Some(Duration::from_secs(9))
        );
        assert_eq!(
            parse_rate_limit_reset(&format!(" {} ", at(1)), now),
            Some(Duration::from_secs(1))
        );
        assert_eq!(parse_rate_limit_reset(&at(-5), now), Some(Duration::ZERO));
        assert_eq!(
            parse_rate_limit_reset("99999999999999999999", now),
            Some(Duration::MAX)
        );
        for bad in [
            "",
            " ",
            "-5",
            "1.5",
            "soon",
            "Mon, 02 Mar 2026 12:00:12 GMT",
        ] {
            assert_eq!(parse_rate_limit_reset(bad, now), None, "{bad:?}");
        }
    }

    #[tokio::test]
    async fn honours_x_rate_limit_reset_on_429_only_without_retry_after() {
        let server = MockServer::start().await;
        let reset = (t0().timestamp() + 9).to_string();
        // 429 with only the reset header: wait until the reset.
        Mock::given(path("/x"))
            .respond_with(
                ResponseTemplate::new(429).insert_header("x-rate-limit-reset", reset.as_str()),
            )
            .up_to_n_times(1)
            .mount(&server)
            .await;
        // 429 with both: Retry-After wins.
        Mock::given(path("/x"))
            .respond_with(
                ResponseTemplate::new(429)
                    .insert_header("x-rate-limit-reset", "4102444800")
                    .insert_header("retry-after", "2"),
            )
            .up_to_n_times(1)
            .mount(&server)
            .await;
        Mock::given(path("/x"))
            .respond_with(ResponseTemplate::new(200))
            .expect(1)
            .mount(&server)
            .await;
        let (c, clock) = client(opts(3));
        get(&c, &format!("{}/x", server.uri())).await.unwrap();
        assert_eq!(
            clock.sleeps(),
            vec![Duration::from_secs(9), Duration::from_secs(2)]
        );
    }

    #[tokio::test]
    async fn x_rate_limit_reset_is_capped_and_ignored_on_5xx() {
        let server = MockServer::start().await;
        // A reset an hour away is capped at max_delay (30 s).
        Mock::given(path("/x"))
            .respond_with(ResponseTemplate::new(429).insert_header(
                "x-rate-limit-reset",
                (t0().timestamp() + 3600).to_string().as_str(),
            ))
            .up_to_n_times(1)
            .mount(&server)
            .await;
        // On a 503 the header means nothing: plain backoff (at most 2 s for the second retry).
        Mock::given(path("/x"))
            .respond_with(ResponseTemplate::new(503).insert_header(
                "x-rate-limit-reset",
                (t0().timestamp() + 3600).to_string().as_str(),
            ))
            .up_to_n_times(1)
            .mount(&server)
            .await;
        Mock::given(path("/x"))
            .respond_with(ResponseTemplate::new(200))
            .expect(1)
            .mount(&server)
            .await;
        let (c, clock) = client(opts(3));
        get(&c, &format!("{}/x", server.uri())).await.unwrap();
        let sleeps = clock.sleeps();
        assert_eq!(sleeps.first(), Some(&Duration::from_secs(30)), "{sleeps:?}");
        assert!(
            sleeps.len() <= 2 && sleeps.iter().skip(1).all(|d| *d <= Duration::from_secs(2)),
            "{sleeps:?}"
        );
    }

    #[tokio::test]
    async fn exhausts_after_max_retries_plus_one_attempts() {
        let server = MockServer::start().await;
        Mock::given(path("/down"))
            .respond_with(ResponseTemplate::new(502).set_body_string("<html>Bad gateway</html>"))
            .expect(4)
            .mount(&server)
            .await;
        let (c, clock) = client(opts(3));
        let err = get(&c, &format!("{}/down", server.uri()))
            .await
            .unwrap_err();
        match &err {
            HttpError::Exhausted { attempts, last, .. } => {
                assert_eq!(*attempts, 4);
                assert!(matches!(**last, HttpError::Status { status: 502, .. }));
            }
            other => panic!("expected Exhausted, got {other:?}"),
        }
        assert_eq!(err.status(), Some(502));
        // Three backoff waits, each within its ceiling: 1 s, 2 s, 4 s.
        let sleeps = clock.sleeps();
        assert!(sleeps.len() <= 3);
        assert!(err.to_string().contains("after 4 attempts"), "{err}");
    }

    #[tokio::test]
    async fn echoed_secrets_are_scrubbed_from_error_excerpts() {
        let server = MockServer::start().await;
        // An upstream that echoes the request: the bearer token and a login body with an
        // app password (plain and form-encoded).
        Mock::given(path("/echo"))
            .respond_with(ResponseTemplate::new(401).set_body_string(format!(
                "bad token: Bearer sk-TOKEN-123; body identifier=me&password={}; raw {}",
                "app%2Fpass+word", "app/pass word"
            )))
            .mount(&server)
            .await;
        let (c, _clock) = client(opts(0));
        let c = c.with_secrets(["sk-TOKEN-123".to_string(), "app/pass word".to_string()]);
        let err = get(&c, &format!("{}/echo", server.uri()))
            .await
            .unwrap_err();
        let text = err.to_string();
        assert!(
            !text.contains("sk-TOKEN")
                && !text.contains("app/pass")
                && !text.contains("app%2Fpass"),
            "{text}"
        );
        assert!(text.contains("[redacted]"), "{text}");
        assert_eq!(
            scrub("a sk-TOKEN-123 b", &["sk-TOKEN-123".to_string()]),
            "a [redacted] b"
        );
    }

    #[tokio::test]
    async fn client_error_is_not_retried() {
        let server = MockServer::start().await;
        Mock::given(path("/missing"))
            .respond_with(
                ResponseTemplate::new(404)
                    .set_body_string("{\"error\":\"Paper with id 0 not found\"}"),
            )
            .expect(1)
            .mount(&server)
            .await;
        let (c, clock) = client(opts(3));
        let err = get(&c, &format!("{}/missing", server.uri()))
            .await
            .unwrap_err();
        match err {
            HttpError::Status {
                status, snippet, ..
            } => {
                assert_eq!(status, 404);
                assert_eq!(snippet, "{\"error\":\"Paper with id 0 not found\"}");
            }
            other => panic!("expected Status, got {other:?}"),
        }
        assert!(clock.sleeps().is_empty());
    }

    #[tokio::test]
    async fn body_over_cap_with_content_length_is_too_large() {
        let server = MockServer::start().await;
        Mock::given(path("/big"))
            .respond_with(ResponseTemplate::new(200).set_body_bytes(vec![b'a'; 1025]))
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(path("/edge"))
            .respond_with(ResponseTemplate::new(200).set_body_bytes(vec![b'a'; 1024]))
            .mount(&server)
            .await;
        let (c, _) = client(opts(3));
        let err = get(&c, &format!("{}/big", server.uri())).await.unwrap_err();
        assert!(
            matches!(err, HttpError::TooLarge { limit: 1024, .. }),
            "{err:?}"
        );
        // Exactly at the cap is fine.
        let ok = get(&c, &format!("{}/edge", server.uri())).await.unwrap();
        assert_eq!(ok.body.len(), 1024);
    }

    /// A one-connection loopback server answering with a chunked body (no Content-Length) of
    /// `chunks` chunks of `chunk_len` bytes.
    async fn chunked_server(
        chunks: usize,
        chunk_len: usize,
    ) -> (String, tokio::task::JoinHandle<()>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let mut req = [0u8; 4096];
            let _ = sock.read(&mut req).await;
            let head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
            if sock.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            let data = vec![b'z'; chunk_len];
            for _ in 0..chunks {
                let frame = format!("{chunk_len:x}\r\n");
                if sock.write_all(frame.as_bytes()).await.is_err()
                    || sock.write_all(&data).await.is_err()
                    || sock.write_all(b"\r\n").await.is_err()
                {
                    return; // the client hung up: that is the point
                }
            }
            let _ = sock.write_all(b"0\r\n\r\n").await;
        });
        (format!("http://{addr}/stream"), task)
    }

    #[tokio::test]
    async fn chunked_body_over_cap_is_too_large_while_streaming() {
        let (url, task) = chunked_server(1024, 256).await; // 256 KiB offered, 1 KiB allowed
        let (c, _) = client(opts(0));
        let err = c.send_once(c.reqwest().get(&url)).await.unwrap_err();
        assert!(
            matches!(err, HttpError::TooLarge { limit: 1024, .. }),
            "{err:?}"
        );
        task.await.unwrap();
    }

    #[tokio::test]
    async fn chunked_body_under_cap_is_read_whole() {
        let (url, task) = chunked_server(4, 200).await;
        let (c, _) = client(opts(0));
        let r = c.send_once(c.reqwest().get(&url)).await.unwrap();
        assert_eq!(r.body.len(), 800);
        task.await.unwrap();
    }

    #[tokio::test]
    async fn timeout_is_retried_then_exhausted() {
        let server = MockServer::start().await;
        Mock::given(path("/slow"))
            .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_millis(1500)))
            .expect(2)
            .mount(&server)
            .await;
        let o = HttpOptions {
            timeout: Duration::from_millis(100),
            ..opts(1)
        };
        let (c, clock) = client(o);
        let err = get(&c, &format!("{}/slow", server.uri()))
            .await
            .unwrap_err();
        match &err {
            HttpError::Exhausted { attempts, last, .. } => {
                assert_eq!(*attempts, 2);
                assert!(matches!(**last, HttpError::Timeout { .. }), "{last:?}");
            }
            other => panic!("expected Exhausted(Timeout), got {other:?}"),
        }
        assert!(clock.sleeps().len() <= 1);
    }

    #[tokio::test]
    async fn connection_refused_is_a_connect_error() {
        // Bind then drop a listener to get a loopback port nobody listens on.
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let (c, _) = client(opts(1));
        let err = get(&c, &format!("http://127.0.0.1:{port}/x?api_key=hunter2"))
            .await
            .unwrap_err();
        assert!(matches!(err.last(), HttpError::Connect { .. }), "{err:?}");
        let text = format!("{err} {err:?}");
        assert!(!text.contains("hunter2"), "secret leaked: {text}");
        assert!(text.contains("api_key=REDACTED"), "{text}");
    }

    #[tokio::test]
    async fn classify_can_retry_a_200_body() {
        let server = MockServer::start().await;
        Mock::given(path("/api"))
            .respond_with(ResponseTemplate::new(200).set_body_string("Rate exceeded."))
            .up_to_n_times(2)
            .expect(2)
            .mount(&server)
            .await;
        Mock::given(path("/api"))
            .respond_with(ResponseTemplate::new(200).set_body_string("<feed/>"))
            .expect(1)
            .mount(&server)
            .await;
        let (c, _) = client(opts(3));
        let url = format!("{}/api", server.uri());
        let r = c
            .send(
                || c.reqwest().get(&url),
                |r| {
                    if r.text().contains("Rate exceeded") {
                        Verdict::Retry("rate exceeded".into())
                    } else {
                        Verdict::Accept
                    }
                },
            )
            .await
            .unwrap();
        assert_eq!(r.text(), "<feed/>");
    }

    #[tokio::test]
    async fn classify_retry_exhausts_with_rejected_and_fail_stops_at_once() {
        let server = MockServer::start().await;
        Mock::given(path("/junk"))
            .respond_with(ResponseTemplate::new(200).set_body_string("<feed"))
            .expect(3)
            .mount(&server)
            .await;
        Mock::given(path("/bad"))
            .respond_with(ResponseTemplate::new(400).set_body_string("explained"))
            .expect(1)
            .mount(&server)
            .await;
        let (c, _) = client(opts(2));
        let junk = format!("{}/junk", server.uri());
        let err = c
            .send(
                || c.reqwest().get(&junk),
                |_| Verdict::Retry("truncated".into()),
            )
            .await
            .unwrap_err();
        assert!(
            matches!(&err, HttpError::Exhausted { attempts: 3, last, .. }
                if matches!(&**last, HttpError::Rejected { reason, .. } if reason == "truncated")),
            "{err:?}"
        );
        let bad = format!("{}/bad", server.uri());
        let err = c
            .send(
                || c.reqwest().get(&bad),
                |r| Verdict::Fail(r.text().into_owned()),
            )
            .await
            .unwrap_err();
        assert!(
            matches!(&err, HttpError::Rejected { reason, .. } if reason == "explained"),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn retries_through_a_pacer_wait_as_hold_offs() {
        let server = MockServer::start().await;
        Mock::given(path("/p"))
            .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "7"))
            .up_to_n_times(1)
            .mount(&server)
            .await;
        Mock::given(path("/p"))
            .respond_with(ResponseTemplate::new(200))
            .expect(2)
            .mount(&server)
            .await;
        let (c, clock) = client(opts(3));
        let pacer = Pacer::new(Duration::from_secs(3), c.clock().clone());
        let url = format!("{}/p", server.uri());
        c.send_paced(Some(&pacer), || c.reqwest().get(&url), accept_all)
            .await
            .unwrap();
        c.send_paced(Some(&pacer), || c.reqwest().get(&url), accept_all)
            .await
            .unwrap();
        // 7 s Retry-After (longer than the spacing), then the 3 s spacing before the next call.
        assert_eq!(
            clock.sleeps(),
            vec![Duration::from_secs(7), Duration::from_secs(3)]
        );
    }

    #[tokio::test]
    async fn bad_url_is_a_build_error() {
        let (c, _) = client(opts(3));
        let err = get(&c, "not a url").await.unwrap_err();
        assert!(matches!(err, HttpError::Build(_)), "{err:?}");
    }
}
