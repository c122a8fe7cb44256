//! The optional LLM summary provider: one OpenAI-compatible chat-completions request per paper,
//! its answer checked, cached and counted against a daily budget.
//!
//! Why each piece:
//!
//! - **Grounded prompt** ([`system_prompt`], [`user_prompt`]): only the title and abstract are
//!   sent, and the model is asked for what the paper did and found, so a summary cannot claim
//!   more than the abstract does.
//! - **Checks** ([`check_reply`]): models add preambles, labels, markdown, LaTeX, refusals and
//!   reasoning blocks. A reply is cleaned of what is harmless (whitespace, quotes, a
//!   `Summary:` label, a `<think>` block) and rejected for the rest, so nothing the reader
//!   would find odd reaches a digest; a rejected paper falls through to the next provider.
//! - **One attempt, no retries**: a summary is optional and a digest must not wait, so a
//!   timeout, 429 or 5xx is reported at once ([`LlmError`]) and the caller moves on. Each call
//!   is one unit of the daily budget.
//! - **Cache** (`crate::store::SummaryStore`): keyed by paper, version, model and
//!   [`PROMPT_VERSION`], so each paper is paid for once; failures are not cached.
//! - **Budget**: the store counts calls per UTC day and reserves one atomically before each
//!   request, so `[summaries.llm] daily_budget` holds across restarts and concurrent tasks.
//! - **Concurrency**: a semaphore bounds requests in flight to `max_concurrency`.
//! - **Secrets**: the key goes only into the `Authorization` header; [`LlmError`]'s messages
//!   hold no key, no URL and no response body (bodies can echo keys), and neither do the logs.

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::RETRY_AFTER;
use serde::Deserialize;
use tokio::sync::Semaphore;

use crate::arxiv::paper::Paper;
use crate::clock::Clock;
use crate::config::{LlmConfig, Secret};
use crate::http::{HttpClient, HttpError, base_url, parse_retry_after, sanitize_url};
use crate::store::{LlmSummaryKey, StoreError, SummaryStore};

use super::MAX_CHARS;

/// The version of [`system_prompt`] and [`user_prompt`]. Part of the cache key: bump it when
/// the prompt changes, so papers are summarized afresh with the new one.
pub const PROMPT_VERSION: u32 = 1;

/// The instructions sent as the system message.
pub fn system_prompt() -> String {
    format!(
        "You write one-line summaries of new research papers for a list of today's arXiv \
         papers. Using only the title and abstract you are given, write one or two plain \
         sentences, at most {MAX_CHARS} characters in total, saying what the paper did and \
         what it found. Do not repeat the title. No preamble, no labels, no markdown, no \
         LaTeX: write math in words. Reply with the summary only."
    )
}

/// The user message: the paper's title and abstract, and nothing else about it.
pub fn user_prompt(paper: &Paper) -> String {
    format!(
        "Title: {}\n\nAbstract: {}",
        paper.title.trim(),
        paper.abstract_text.trim()
    )
}

/// Why a reply was not used as a summary.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// Nothing left after cleaning (or only a reasoning block).
    #[error("the reply is empty")]
    Empty,
    /// Longer than [`MAX_CHARS`] characters after cleaning.
    #[error("the reply has {chars} characters, more than {MAX_CHARS}")]
    TooLong {
        /// Its length in characters.
        chars: usize,
    },
    /// A refusal or chat boilerplate ("I'm sorry", "Here is", "As an AI", …).
    #[error("the reply is a refusal or boilerplate")]
    Boilerplate,
    /// Markdown: a list, a heading, emphasis, code or more than one paragraph.
    #[error("the reply is formatted as markdown")]
    Markdown,
    /// LaTeX math or commands, which no front end renders.
    #[error("the reply contains LaTeX")]
    Latex,
    /// The title repeated verbatim: the reader sees it right above.
    #[error("the reply repeats the title")]
    RepeatsTitle,
    /// The reply does not end a sentence, or the model stopped at `max_tokens`.
    #[error("the reply is cut off")]
    Unfinished,
}

/// Openings of a reply that is talking to us rather than summarizing (apostrophes normalized,
/// lower case).
const BOILERPLATE_OPENINGS: &[&str] = &[
    "i'm sorry",
    "i am sorry",
    "sorry",
    "i cannot",
    "i can't",
    "i'm unable",
    "i am unable",
    "as an ai",
    "here is",
    "here's",
    "here are",
    "sure,",
    "sure!",
    "sure.",
    "certainly",
    "of course",
    "okay,",
    "ok,",
    "this summary",
];

/// Phrases that make a reply boilerplate wherever they appear.
const BOILERPLATE_ANYWHERE: &[&str] = &[
    "as an ai",
    "as a language model",
    "i'm sorry",
    "i am sorry",
    "i cannot",
    "i can't",
    "abstract does not",
    "abstract doesn't",
    "abstract provided",
    "provided abstract",
];

/// Labels a model puts before the summary itself (lower case, without the colon).
const LABELS: &[&str] = &[
    "summary",
    "one-line summary",
    "one-sentence summary",
    "tl;dr",
    "tldr",
    "tl dr",
    "answer",
];

/// Quote characters stripped when they wrap the whole reply.
const QUOTES: &[char] = &[
    '"', '\'', '`', '\u{201c}', '\u{201d}', '\u{2018}', '\u{2019}',
];

/// Titles of fewer words than this are not checked for verbatim repetition: a one- or
/// two-word title (a system's name) is legitimately the subject of its summary.
const MIN_TITLE_WORDS_CHECKED: usize = 3;

/// Cleans a model's reply and decides whether it can be shown as the summary of the paper
/// titled `title`; returns the cleaned text (whitespace collapsed) or why not.
///
/// Cleaned away: `<think>…</think>` blocks (reasoning models served by Ollama), surrounding
/// whitespace and quotes, and leading labels such as `Summary:` or `TL;DR:`. Rejected: an
/// empty reply, more than [`MAX_CHARS`] characters, refusals and boilerplate, markdown (lists,
/// headings, emphasis, code, several paragraphs), LaTeX, the title repeated verbatim (ignoring
/// case and spacing), and a reply that does not end a sentence.
///
/// # Errors
///
/// The [`Rejection`] that applies first, in the order above.
pub fn check_reply(reply: &str, title: &str) -> Result<String, Rejection> {
    let text = clean(&strip_think(reply));
    if text.is_empty() {
        return Err(Rejection::Empty);
    }
    let lower = text.to_lowercase().replace(['\u{2019}', '\u{2018}'], "'");
    if BOILERPLATE_OPENINGS.iter().any(|p| lower.starts_with(p))
        || BOILERPLATE_ANYWHERE.iter().any(|p| lower.contains(p))
    {
        return Err(Rejection::Boilerplate);
    }
    if is_markdown(&text) {
        return Err(Rejection::Markdown);
    }
    if has_latex(&text) {
        return Err(Rejection::Latex);
    }
    let text = collapse(&text);
    let chars = text.chars().count();
    if chars > MAX_CHARS {
        return Err(Rejection::TooLong { chars });
    }
    let title = collapse(title).to_lowercase();
    if title.split(' ').count() >= MIN_TITLE_WORDS_CHECKED
        && text
            .to_lowercase()
            .contains(title.trim_end_matches(['.', '!', '?']))
    {
        return Err(Rejection::RepeatsTitle);
    }
    if !ends_a_sentence(&text) {
        return Err(Rejection::Unfinished);
    }
    Ok(text)
}

/// `reply` without `<think>…</think>` blocks. An unclosed `<think>` swallows the rest (the
/// model ran out of tokens while reasoning); a lone `</think>` (the opening tag was in the
/// chat template) drops everything before it.
fn strip_think(reply: &str) -> String {
    let mut rest = reply;
    if let Some(at) = rest.rfind("</think>")
        && !rest[..at].contains("<think>")
    {
        rest = &rest[at + "</think>".len()..];
    }
    let mut out = String::with_capacity(rest.len());
    while let Some(start) = rest.find("<think>") {
        out.push_str(&rest[..start]);
        match rest[start..].find("</think>") {
            Some(end) => rest = &rest[start + end + "</think>".len()..],
            None => return out,
        }
    }
    out.push_str(rest);
    out
}

/// Trims whitespace, wrapping quotes and leading labels until nothing changes.
fn clean(reply: &str) -> String {
    let mut text = reply.trim().to_owned();
    loop {
        let before = text.len();
        text = strip_label(&text).trim().to_owned();
        let mut chars = text.chars();
        if let (Some(first), Some(last)) = (chars.next(), chars.next_back())
            && QUOTES.contains(&first)
            && QUOTES.contains(&last)
        {
            let inner: String = text.chars().skip(1).collect();
            let mut inner = inner;
            inner.pop();
            text = inner.trim().to_owned();
        }
        if text.len() == before {
            return text;
        }
    }
}

/// `text` without a leading `Label:` (also `**Label:**` and `Label - `).
fn strip_label(text: &str) -> &str {
    let unbold = text.trim_start_matches(['*', '_', '#', ' ']);
    let lower = unbold.to_lowercase();
    for label in LABELS {
        if !lower.starts_with(label) {
            continue;
        }
        let Some(after) = unbold.get(label.len()..) else {
            continue;
        };
        // A dash only with space around it: "Summary-based methods" is no label.
        if let Some(rest) = after
            .strip_prefix(" - ")
            .or_else(|| after.strip_prefix(" \u{2014} "))
        {
            return rest;
        }
        if let Some(rest) = after.trim_start_matches(['*', '_', ' ']).strip_prefix(':') {
            return rest.trim_start_matches(['*', '_', ' ']);
        }
    }
    text
}

/// Whether `text` is formatted: a blank line (paragraphs), a list item or heading line,
/// emphasis or code.
fn is_markdown(text: &str) -> bool {
    if text.contains("**") || text.contains("__") || text.contains("```") {
        return true;
    }
    let mut lines = text.lines().map(str::trim);
    let multiple_paragraphs = text.lines().count() > 1 && text.lines().any(|l| l.trim().is_empty());
    multiple_paragraphs
        || lines.any(|l| {
            l.starts_with('#')
                || ["- ", "* ", "+ ", "\u{2022}"]
                    .iter()
                    .any(|m| l.starts_with(m))
                || is_numbered_item(l)
        })
}

/// `1. item` or `2) item`.
fn is_numbered_item(line: &str) -> bool {
    let digits = line.chars().take_while(char::is_ascii_digit).count();
    (1..=3).contains(&digits)
        && line
            .get(digits..)
            .is_some_and(|rest| rest.starts_with(". ") || rest.starts_with(") "))
}

/// Whether `text` has LaTeX: a `$` (math) or a backslash command (`\alpha`, `\cite`).
fn has_latex(text: &str) -> bool {
    text.contains('$')
        || text
            .as_bytes()
            .windows(2)
            .any(|w| w[0] == b'\\' && w[1].is_ascii_alphabetic())
}

/// Every run of whitespace as one space, trimmed.
fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Whether `text` ends with `.`, `!` or `?`, possibly followed by closing quotes or brackets.
fn ends_a_sentence(text: &str) -> bool {
    text.trim_end_matches(['"', '\'', ')', ']', '\u{201d}', '\u{2019}'])
        .ends_with(['.', '!', '?'])
}

/// Why an LLM summary could not be had. The messages never contain the API key, the
/// endpoint URL or a response body (an error body can echo the key), so they are safe to log
/// and show.
#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    /// No answer within `[summaries.llm] timeout`.
    #[error("the LLM did not answer within {}", humantime::format_duration(*.0))]
    Timeout(Duration),
    /// HTTP 429: the endpoint's rate limit or quota.
    #[error("the LLM endpoint is rate limiting us (HTTP 429){}", retry_after_suffix(*.retry_after))]
    RateLimited {
        /// The endpoint's `Retry-After`, when it sent a readable one.
        retry_after: Option<Duration>,
    },
    /// Any other non-2xx status (401 bad key, 404 unknown model, 5xx, …).
    #[error("the LLM endpoint answered HTTP {0}")]
    Status(u16),
    /// A 2xx answer that is not a chat completion: not JSON, no choices, no content.
    #[error("the LLM endpoint's answer is unusable: {0}")]
    Malformed(&'static str),
    /// The reply failed [`check_reply`].
    #[error("the LLM's reply was rejected: {0}")]
    Rejected(Rejection),
    /// Today's `[summaries.llm] daily_budget` is spent; no request was made.
    #[error("the LLM's daily budget of {0} calls is spent")]
    BudgetExhausted(u32),
    /// The cache or the call counter could not be read or written.
    #[error("the LLM summary store failed: {0}")]
    Store(#[from] StoreError),
    /// The request could not be sent or its answer read (connection refused, reset, too large).
    #[error("could not talk to the LLM endpoint: {0}")]
    Transport(String),
    /// The configuration cannot make requests (no model, a base URL that is not http(s)).
    #[error("the LLM is misconfigured: {0}")]
    Config(String),
}

fn retry_after_suffix(retry_after: Option<Duration>) -> String {
    retry_after.map_or_else(String::new, |d| {
        format!(", retry after {}", humantime::format_duration(d))
    })
}

impl LlmError {
    /// An http-layer failure of one attempt. URLs and transport details are dropped: the
    /// http layer logs the (scrubbed) URL itself, and a message with neither cannot leak.
    fn from_http(e: HttpError, timeout: Duration) -> LlmError {
        match e {
            HttpError::Timeout { .. } => LlmError::Timeout(timeout),
            HttpError::Status { status: 429, .. } => LlmError::RateLimited { retry_after: None },
            HttpError::Status { status, .. } => LlmError::Status(status),
            HttpError::Exhausted { last, .. } => LlmError::from_http(*last, timeout),
            HttpError::TooLarge { limit, .. } => {
                LlmError::Transport(format!("the answer is larger than {limit} bytes"))
            }
            HttpError::Connect { .. } => {
                LlmError::Transport("the connection failed or was cut".into())
            }
            HttpError::Rejected { .. } => LlmError::Transport("the request was redirected".into()),
            HttpError::Build(_) => LlmError::Transport("the request could not be built".into()),
        }
    }

    /// A short name for logs and metrics (`timeout`, `rate_limited`, …).
    pub fn kind(&self) -> &'static str {
        match self {
            LlmError::Timeout(_) => "timeout",
            LlmError::RateLimited { .. } => "rate_limited",
            LlmError::Status(_) => "status",
            LlmError::Malformed(_) => "malformed",
            LlmError::Rejected(_) => "rejected",
            LlmError::BudgetExhausted(_) => "budget_exhausted",
            LlmError::Store(_) => "store",
            LlmError::Transport(_) => "transport",
            LlmError::Config(_) => "config",
        }
    }
}

/// The parts of a chat completion we read; everything else is ignored.
#[derive(Debug, Deserialize)]
struct ChatCompletion {
    #[serde(default)]
    choices: Vec<Choice>,
}

#[derive(Debug, Deserialize)]
struct Choice {
    #[serde(default)]
    message: Option<Message>,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Message {
    #[serde(default)]
    content: Option<String>,
}

/// An OpenAI-compatible chat-completions client for summaries: one request per call, no
/// retries, no cache (see [`LlmSummarizer`] for those).
#[derive(Clone)]
pub struct LlmClient {
    http: HttpClient,
    endpoint: String,
    model: String,
    api_key: Option<Secret>,
    timeout: Duration,
    max_tokens: u32,
    temperature: f64,
}

/// By hand: the endpoint is shown scrubbed (a `base_url` may carry credentials) and the key
/// not at all.
impl std::fmt::Debug for LlmClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmClient")
            .field("endpoint", &sanitize_url(&self.endpoint))
            .field("model", &self.model)
            .field("api_key", &self.api_key)
            .field("timeout", &self.timeout)
            .field("max_tokens", &self.max_tokens)
            .field("temperature", &self.temperature)
            .finish_non_exhaustive()
    }
}

impl LlmClient {
    /// A client for `cfg` on the shared `http` client (its User-Agent and body-size cap apply;
    /// its timeout is replaced by `cfg.timeout` and its retries are not used).
    ///
    /// # Errors
    ///
    /// [`LlmError::Config`] when `cfg.model` is unset or `cfg.base_url` is not an http(s) URL
    /// (config validation normally catches both). `cfg.enabled` is not looked at: whether to
    /// ask the LLM at all is the caller's decision.
    pub fn new(cfg: &LlmConfig, http: HttpClient) -> Result<Self, LlmError> {
        let base = base_url(&cfg.base_url, "summaries.llm.base_url")
            .map_err(|_| LlmError::Config("summaries.llm.base_url is not an http(s) URL".into()))?;
        let model = cfg
            .model
            .as_deref()
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .ok_or_else(|| LlmError::Config("summaries.llm.model is not set".into()))?;
        Ok(LlmClient {
            http,
            endpoint: format!("{base}/chat/completions"),
            model: model.to_owned(),
            api_key: cfg.api_key.clone(),
            timeout: cfg.timeout,
            max_tokens: cfg.max_tokens,
            temperature: cfg.temperature,
        })
    }

    /// The configured model name (part of the cache key).
    pub fn model(&self) -> &str {
        &self.model
    }

    /// The JSON body of the request for `paper`.
    fn request_body(&self, paper: &Paper) -> serde_json::Value {
        serde_json::json!({
            "model": self.model,
            "messages": [
                {"role": "system", "content": system_prompt()},
                {"role": "user", "content": user_prompt(paper)},
            ],
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
            "stream": false,
        })
    }

    /// Asks for `paper`'s summary once and checks the reply; no cache, no budget, no retry.
    ///
    /// # Errors
    ///
    /// Every [`LlmError`] but `BudgetExhausted` and `Store`.
    pub async fn summarize_once(&self, paper: &Paper) -> Result<String, LlmError> {
        let body = self.request_body(paper);
        let mut req = self
            .http
            .reqwest()
            .post(&self.endpoint)
            .timeout(self.timeout)
            .json(&body);
        if let Some(key) = &self.api_key {
            req = req.bearer_auth(key.expose());
        }
        let resp = self
            .http
            .send_once(req)
            .await
            .map_err(|e| LlmError::from_http(e, self.timeout))?;
        match resp.status {
            200..=299 => {}
            429 => {
                let now = self.http.clock().now();
                let retry_after = resp
                    .header(RETRY_AFTER.as_str())
                    .and_then(|v| parse_retry_after(v, now));
                return Err(LlmError::RateLimited { retry_after });
            }
            status => return Err(LlmError::Status(status)),
        }
        let completion: ChatCompletion = serde_json::from_slice(&resp.body).map_err(|e| {
            // Only where and what kind: serde's message can quote the body.
            tracing::debug!(line = e.line(), column = e.column(), category = ?e.classify(), "LLM answer is not a chat completion");
            LlmError::Malformed("not a chat completion (JSON)")
        })?;
        let choice = completion
            .choices
            .into_iter()
            .next()
            .ok_or(LlmError::Malformed("no choices"))?;
        let content = choice
            .message
            .and_then(|m| m.content)
            .filter(|c| !c.trim().is_empty())
            .ok_or(LlmError::Malformed("empty content"))?;
        if choice.finish_reason.as_deref() == Some("length") {
            return Err(LlmError::Rejected(Rejection::Unfinished));
        }
        check_reply(&content, &paper.title).map_err(LlmError::Rejected)
    }
}

/// The LLM provider as the app uses it: [`LlmClient`] behind the cache, the daily budget and
/// a bound on requests in flight. One per process (the semaphore is the bound), shared by
/// reference or `Arc`.
#[derive(Debug)]
pub struct LlmSummarizer {
    client: LlmClient,
    store: Arc<dyn SummaryStore>,
    clock: Arc<dyn Clock>,
    permits: Semaphore,
    daily_budget: u32,
}

impl LlmSummarizer {
    /// The provider for `cfg`, asking through `http`, caching and counting in `store`, and
    /// reading the UTC day from the HTTP client's clock (the one the app injects everywhere,
    /// so tests move days with a `FakeClock`).
    ///
    /// # Errors
    ///
    /// As [`LlmClient::new`].
    pub fn new(
        cfg: &LlmConfig,
        http: HttpClient,
        store: Arc<dyn SummaryStore>,
    ) -> Result<Self, LlmError> {
        let clock = http.clock().clone();
        Ok(LlmSummarizer {
            client: LlmClient::new(cfg, http)?,
            store,
            clock,
            permits: Semaphore::new(cfg.max_concurrency.max(1)),
            daily_budget: cfg.daily_budget,
        })
    }

    /// The client, for its model name or a one-off uncached request.
    pub fn client(&self) -> &LlmClient {
        &self.client
    }

    /// What `paper` is cached under.
    fn key(&self, paper: &Paper) -> LlmSummaryKey {
        LlmSummaryKey {
            paper: paper.id.clone(),
            version: paper.version,
            model: self.client.model.clone(),
            prompt_version: PROMPT_VERSION,
        }
    }

    /// The cached summary of `paper`'s current version by the configured model and prompt,
    /// without asking the LLM: for callers that must not wait (a scheduled post).
    ///
    /// # Errors
    ///
    /// [`LlmError::Store`].
    pub async fn cached(&self, paper: &Paper) -> Result<Option<String>, LlmError> {
        Ok(self
            .store
            .llm_summary(&self.key(paper))
            .await?
            .map(|c| c.text))
    }

    /// `paper`'s summary: from the cache when there is one (no request); otherwise, once a
    /// request slot is free, one call is reserved against today's budget (UTC, by the clock)
    /// and made, and a reply that passes [`check_reply`] is cached and returned. Failures are
    /// not cached, so the paper is asked again next time.
    ///
    /// Waiting for a slot has no deadline of its own; the request has `[summaries.llm]
    /// timeout`. A caller with a deadline wraps this in `tokio::time::timeout` (dropping the
    /// future after the reservation costs that call, never more).
    ///
    /// # Errors
    ///
    /// [`LlmError::BudgetExhausted`] (no request made), [`LlmError::Store`], and whatever the
    /// request ended with ([`LlmClient::summarize_once`]).
    pub async fn summarize(&self, paper: &Paper) -> Result<String, LlmError> {
        let key = self.key(paper);
        if let Some(hit) = self.store.llm_summary(&key).await? {
            tracing::debug!(paper = %paper.id, version = paper.version, "LLM summary from the cache");
            return Ok(hit.text);
        }
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| LlmError::Config("the request limiter was closed".into()))?;
        // Another task may have summarized it while this one waited for the slot.
        if let Some(hit) = self.store.llm_summary(&key).await? {
            return Ok(hit.text);
        }
        let day = self.clock.now().date_naive();
        if !self
            .store
            .try_reserve_llm_call(day, self.daily_budget)
            .await?
        {
            tracing::debug!(paper = %paper.id, %day, budget = self.daily_budget, "LLM daily budget spent");
            return Err(LlmError::BudgetExhausted(self.daily_budget));
        }
        match self.client.summarize_once(paper).await {
            Ok(text) => {
                if let Err(e) = self
                    .store
                    .put_llm_summary(&key, &text, self.clock.now())
                    .await
                {
                    // The call is paid for: use the summary even if it cannot be kept.
                    tracing::warn!(paper = %paper.id, error = %e, "could not cache an LLM summary");
                }
                Ok(text)
            }
            Err(e) => {
                tracing::warn!(paper = %paper.id, model = %self.client.model, kind = e.kind(), error = %e, "no LLM summary");
                Err(e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TITLE: &str = "Attention Is All You Need";

    fn ok(reply: &str) -> String {
        check_reply(reply, TITLE).unwrap_or_else(|e| panic!("{reply:?}: {e}"))
    }

    fn rejected(reply: &str) -> Rejection {
        match check_reply(reply, TITLE) {
            Err(e) => e,
            Ok(text) => panic!("{reply:?} was accepted as {text:?}"),
        }
    }

    #[test]
    fn a_plain_summary_passes_with_whitespace_collapsed() {
        let s = "The authors replace recurrence with self-attention and reach 28.4 BLEU on \
                 WMT 2014 English-German while training in a fraction of the time.";
        assert_eq!(ok(s), s);
        assert_eq!(ok("  It  works.\nReally well!  "), "It works. Really well!");
        assert_eq!(
            ok("It asks (and answers) why?"),
            "It asks (and answers) why?"
        );
        assert_eq!(
            ok("It ends in a quote \"done.\""),
            "It ends in a quote \"done.\""
        );
    }

    #[test]
    fn quotes_labels_and_think_blocks_are_cleaned() {
        for (reply, want) in [
            ("\"It works.\"", "It works."),
            ("\u{201c}It works.\u{201d}", "It works."),
            ("Summary: It works.", "It works."),
            ("summary : It works.", "It works."),
            ("TL;DR: It works.", "It works."),
            ("**TL;DR:** It works.", "It works."),
            ("TLDR - It works.", "It works."),
            ("Summary: \"It works.\"", "It works."),
            (
                "<think>\nThe user wants a summary.\n</think>\n\nIt works.",
                "It works.",
            ),
            ("<think>a</think>It <think>b</think>works.", "It works."),
            (
                "reasoning without an opening tag</think>It works.",
                "It works.",
            ),
        ] {
            assert_eq!(ok(reply), want, "{reply:?}");
        }
        // A label-looking word that is not a label stays.
        assert_eq!(ok("Summarization improves."), "Summarization improves.");
        assert_eq!(
            ok("Summary-based metrics fail."),
            "Summary-based metrics fail."
        );
        assert_eq!(
            ok("They train a language model on code."),
            "They train a language model on code."
        );
        assert_eq!(
            ok("2021 was the year it worked."),
            "2021 was the year it worked."
        );
    }

    #[test]
    fn empty_replies_are_rejected() {
        for reply in [
            "",
            "   \n",
            "\"\"",
            "Summary:",
            "<think>only thinking</think>",
            "<think>cut off",
        ] {
            assert_eq!(rejected(reply), Rejection::Empty, "{reply:?}");
        }
    }

    #[test]
    fn too_long_replies_are_rejected_by_characters_not_bytes() {
        let at_limit = format!("{}.", "é".repeat(MAX_CHARS - 1));
        assert_eq!(ok(&at_limit).chars().count(), MAX_CHARS);
        let over = format!("{}.", "a".repeat(MAX_CHARS));
        assert_eq!(
            rejected(&over),
            Rejection::TooLong {
                chars: MAX_CHARS + 1
            }
        );
    }

    #[test]
    fn refusals_and_boilerplate_are_rejected() {
        for reply in [
            "I'm sorry, but I can't help with that.",
            "I\u{2019}m sorry, I cannot do that.",
            "I cannot summarize this paper.",
            "As an AI language model, I think it works.",
            "Here is a summary: it works.",
            "Here's the summary: it works.",
            "Sure, the paper shows it works.",
            "Sure! It works.",
            "Certainly. It works.",
            "The abstract does not say what was found.",
            "Based on the provided abstract, it works.",
        ] {
            assert_eq!(rejected(reply), Rejection::Boilerplate, "{reply:?}");
        }
        // "There is" is not "Here is".
        assert_eq!(
            ok("There is a gap, and this closes it."),
            "There is a gap, and this closes it."
        );
    }

    #[test]
    fn markdown_is_rejected() {
        for reply in [
            "- It works.\n- It is fast.",
            "* It works.",
            "1. It works.",
            "2) It works.",
            "# Result\nIt works.",
            "It works.\n\nIt is fast.",
            "It **works**.",
            "It uses `code`... ```rust```.",
            "\u{2022} It works.",
        ] {
            assert_eq!(rejected(reply), Rejection::Markdown, "{reply:?}");
        }
        assert_eq!(
            ok("It cuts error by 3-5 points."),
            "It cuts error by 3-5 points."
        );
        assert_eq!(ok("In 2021. It works."), "In 2021. It works.");
    }

    #[test]
    fn latex_is_rejected() {
        for reply in [
            "It bounds $\\epsilon$ tightly.",
            "It bounds \\epsilon tightly.",
            "It costs $5.",
        ] {
            assert_eq!(rejected(reply), Rejection::Latex, "{reply:?}");
        }
    }

    #[test]
    fn the_title_verbatim_is_rejected_unless_it_is_a_name() {
        for reply in [
            "Attention Is All You Need shows that attention suffices.",
            "In attention  is all you NEED, the authors drop recurrence.",
        ] {
            assert_eq!(rejected(reply), Rejection::RepeatsTitle, "{reply:?}");
        }
        assert_eq!(
            check_reply(
                "Attention, the authors find, is all a translator needs.",
                TITLE
            )
            .ok()
            .as_deref(),
            Some("Attention, the authors find, is all a translator needs.")
        );
        // A title ending in a period still matches without it.
        assert_eq!(
            check_reply(
                "We show scaling laws hold. Models grow.",
                "Scaling laws hold."
            ),
            Err(Rejection::RepeatsTitle)
        );
        // A one- or two-word title is a name the summary may use.
        assert!(check_reply("Mamba matches transformers at half the cost.", "Mamba").is_ok());
        assert!(check_reply("GPT-4 Technical Report is here.", "GPT-4").is_ok());
    }

    #[test]
    fn a_reply_that_does_not_end_a_sentence_is_rejected() {
        for reply in [
            "It works",
            "It works and then the model",
            "It works,",
            "It works\u{2026}",
        ] {
            assert_eq!(rejected(reply), Rejection::Unfinished, "{reply:?}");
        }
    }

    #[test]
    fn the_prompt_is_grounded_and_versioned() {
        let system = system_prompt();
        for must in [
            "only the title and abstract",
            "at most 280 characters",
            "Do not repeat the title",
            "no markdown",
            "LaTeX",
            "did",
            "found",
        ] {
            assert!(system.contains(must), "{must}: {system}");
        }
        assert_eq!(PROMPT_VERSION, 1);
    }

    #[test]
    fn errors_say_what_happened_without_details_that_could_leak() {
        assert_eq!(
            LlmError::Timeout(Duration::from_secs(20)).to_string(),
            "the LLM did not answer within 20s"
        );
        assert_eq!(
            LlmError::RateLimited {
                retry_after: Some(Duration::from_secs(30))
            }
            .to_string(),
            "the LLM endpoint is rate limiting us (HTTP 429), retry after 30s"
        );
        assert_eq!(
            LlmError::Status(503).to_string(),
            "the LLM endpoint answered HTTP 503"
        );
        assert_eq!(
            LlmError::Rejected(Rejection::TooLong { chars: 300 }).to_string(),
            "the LLM's reply was rejected: the reply has 300 characters, more than 280"
        );
        assert_eq!(
            LlmError::BudgetExhausted(200).to_string(),
            "the LLM's daily budget of 200 calls is spent"
        );
        let secret_url = "https://user:sk-SECRET@llm.example/v1/chat/completions?api_key=sk-SECRET";
        for e in [
            HttpError::Connect {
                url: secret_url.into(),
                message: "sk-SECRET".into(),
            },
            HttpError::Status {
                url: secret_url.into(),
                status: 401,
                snippet: "bad key sk-SECRET".into(),
            },
            HttpError::Rejected {
                url: secret_url.into(),
                reason: "sk-SECRET".into(),
            },
            HttpError::Build("sk-SECRET".into()),
            HttpError::TooLarge {
                url: secret_url.into(),
                limit: 10,
            },
        ] {
            let llm = LlmError::from_http(e, Duration::from_secs(1));
            let shown = format!("{llm} {llm:?}");
            assert!(
                !shown.contains("SECRET") && !shown.contains("llm.example"),
                "{shown}"
            );
        }
    }
}
