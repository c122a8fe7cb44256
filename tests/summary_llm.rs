//! The LLM summary provider (`summary::llm`) against a loopback fake of an OpenAI-compatible
//! chat-completions endpoint.
//!
//! Answers are BUILT in the shape OpenAI documents and Ollama's `/v1` serves
//! (`{"id":"chatcmpl-…","object":"chat.completion","created":…,"model":…,"choices":[…],
//! "usage":{…}}`). The store is a real in-memory SQLite store; the UTC day comes from a
//! `FakeClock`. The timeout test uses the fake's response delay, not a sleep of our own.

use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use hotpapers::arxiv::ArxivId;
use hotpapers::arxiv::paper::Paper;
use hotpapers::clock::{Clock, FakeClock};
use hotpapers::config::{LlmConfig, Secret};
use hotpapers::http::{HttpClient, HttpOptions, RetryPolicy, user_agent};
use hotpapers::store::{SqliteStore, SummaryStore};
use hotpapers::summary::llm::{LlmError, LlmSummarizer, PROMPT_VERSION, Rejection};
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const KEY: &str = "sk-test-SECRET-0123456789";
const MODEL: &str = "llama3.1:8b";
const ENDPOINT: &str = "/v1/chat/completions";
const SUMMARY: &str = "The authors replace recurrence with self-attention and reach 28.4 BLEU \
                       on WMT 2014 English-German at a fraction of the training cost.";

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 6, 23, 58, 0).unwrap()
}

fn paper(id: &str, version: u32) -> Paper {
    Paper {
        id: ArxivId::parse(id).unwrap(),
        version,
        title: "Attention Is All You Need".into(),
        abstract_text: "The dominant sequence transduction models are based on complex \
                        recurrent networks. We propose the Transformer, based solely on \
                        attention mechanisms."
            .into(),
        authors: Vec::new(),
        primary_category: "cs.CL".into(),
        categories: vec!["cs.CL".into()],
        published: now(),
        updated: now(),
        comment: None,
        journal_ref: None,
        doi: None,
        links: Vec::new(),
    }
}

/// A chat completion whose one choice says `content`.
fn completion(content: &str, finish_reason: &str) -> Value {
    json!({
        "id": "chatcmpl-9xYz123",
        "object": "chat.completion",
        "created": 1_772_841_480,
        "model": MODEL,
        "system_fingerprint": "fp_ollama",
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": content},
            "finish_reason": finish_reason
        }],
        "usage": {"prompt_tokens": 112, "completion_tokens": 38, "total_tokens": 150}
    })
}

fn answer(content: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(completion(content, "stop"))
}

struct Harness {
    server: MockServer,
    clock: FakeClock,
    store: Arc<SqliteStore>,
    llm: LlmSummarizer,
}

fn config(server: &MockServer) -> LlmConfig {
    LlmConfig {
        enabled: true,
        base_url: format!("{}/v1/", server.uri()),
        model: Some(MODEL.into()),
        api_key: Some(Secret::new(KEY)),
        ..LlmConfig::default()
    }
}

fn http(clock: &FakeClock) -> HttpClient {
    HttpClient::new(
        HttpOptions {
            timeout: Duration::from_secs(30),
            max_body_bytes: 1 << 20,
            user_agent: user_agent("tests@example.org"),
            // Retries would hide what the provider does with a 429 or 5xx: it makes one attempt.
            retry: RetryPolicy {
                max_retries: 3,
                base_delay: Duration::from_secs(1),
                max_delay: Duration::from_secs(60),
            },
        },
        Arc::new(clock.clone()),
    )
    .unwrap()
}

async fn harness_with(edit: impl FnOnce(&mut LlmConfig)) -> Harness {
    let server = MockServer::start().await;
    let clock = FakeClock::new(now());
    let store = Arc::new(SqliteStore::in_memory().await.unwrap());
    let mut cfg = config(&server);
    edit(&mut cfg);
    let llm = LlmSummarizer::new(&cfg, http(&clock), store.clone()).unwrap();
    Harness {
        server,
        clock,
        store,
        llm,
    }
}

async fn harness() -> Harness {
    harness_with(|_| {}).await
}

async fn requests(server: &MockServer) -> Vec<Request> {
    server.received_requests().await.unwrap()
}

async fn serve(server: &MockServer, response: ResponseTemplate) {
    Mock::given(method("POST"))
        .and(path(ENDPOINT))
        .respond_with(response)
        .mount(server)
        .await;
}

#[tokio::test]
async fn a_summary_is_asked_for_with_the_title_abstract_and_limits() {
    let h = harness().await;
    Mock::given(method("POST"))
        .and(path(ENDPOINT))
        .and(header("authorization", format!("Bearer {KEY}").as_str()))
        .respond_with(answer(&format!("  Summary: {SUMMARY}\n")))
        .expect(1)
        .mount(&h.server)
        .await;
    let p = paper("1706.03762", 5);
    assert_eq!(h.llm.summarize(&p).await.unwrap(), SUMMARY);
    assert_eq!(h.llm.client().model(), MODEL);

    let reqs = requests(&h.server).await;
    let body: Value = serde_json::from_slice(&reqs[0].body).unwrap();
    assert_eq!(body["model"], MODEL);
    assert_eq!(body["max_tokens"], 160);
    assert_eq!(body["temperature"], 0.2);
    assert_eq!(body["stream"], false);
    let messages = body["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0]["role"], "system");
    assert!(
        messages[0]["content"]
            .as_str()
            .unwrap()
            .contains("at most 280 characters")
    );
    assert_eq!(messages[1]["role"], "user");
    let user = messages[1]["content"].as_str().unwrap();
    assert!(user.contains(&p.title), "{user}");
    assert!(user.contains(&p.abstract_text), "{user}");
    assert_eq!(
        reqs[0]
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/json")
    );
    // Cached under the paper, its version, the model and the prompt version.
    let day = now().date_naive();
    assert_eq!(h.store.llm_calls(day).await.unwrap(), 1);
    assert_eq!(h.llm.cached(&p).await.unwrap().as_deref(), Some(SUMMARY));
    assert_eq!(h.llm.cached(&paper("1706.03762", 4)).await.unwrap(), None);
    assert_eq!(PROMPT_VERSION, 1);
}

#[tokio::test]
async fn without_a_key_no_authorization_header_is_sent() {
    let h = harness_with(|c| {
        c.api_key = None;
        c.max_tokens = 64;
        c.temperature = 0.0;
    })
    .await;
    serve(&h.server, answer(SUMMARY)).await;
    h.llm.summarize(&paper("1706.03762", 1)).await.unwrap();
    let reqs = requests(&h.server).await;
    assert_eq!(reqs.len(), 1);
    assert!(reqs[0].headers.get("authorization").is_none());
    let body: Value = serde_json::from_slice(&reqs[0].body).unwrap();
    assert_eq!(body["max_tokens"], 64);
    assert_eq!(body["temperature"], 0.0);
}

#[tokio::test]
async fn a_slow_endpoint_times_out() {
    let h = harness_with(|c| c.timeout = Duration::from_millis(200)).await;
    serve(&h.server, answer(SUMMARY).set_delay(Duration::from_secs(5))).await;
    let started = Instant::now();
    let err = h.llm.summarize(&paper("1706.03762", 1)).await.unwrap_err();
    assert!(
        matches!(err, LlmError::Timeout(d) if d == Duration::from_millis(200)),
        "{err:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(requests(&h.server).await.len(), 1);
}

#[tokio::test]
async fn rate_limits_and_server_errors_are_reported_after_one_attempt() {
    let h = harness().await;
    Mock::given(method("POST"))
        .and(path(ENDPOINT))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "30")
                .set_body_json(
                    json!({"error": {"message": "Rate limit reached", "type": "requests"}}),
                ),
        )
        .up_to_n_times(1)
        .mount(&h.server)
        .await;
    let err = h.llm.summarize(&paper("2101.00001", 1)).await.unwrap_err();
    assert!(
        matches!(err, LlmError::RateLimited { retry_after: Some(d) } if d == Duration::from_secs(30)),
        "{err:?}"
    );
    for status in [500, 503, 401, 404] {
        h.server.reset().await;
        serve(
            &h.server,
            ResponseTemplate::new(status).set_body_string("oops"),
        )
        .await;
        let err = h.llm.summarize(&paper("2101.00002", 1)).await.unwrap_err();
        assert!(
            matches!(err, LlmError::Status(s) if s == status),
            "{status}: {err:?}"
        );
        assert_eq!(requests(&h.server).await.len(), 1, "{status}: retried");
    }
    // No retries, no backoff sleeps: the provider gives up at once.
    assert!(h.clock.sleeps().is_empty(), "{:?}", h.clock.sleeps());
}

#[tokio::test]
async fn answers_that_are_not_chat_completions_are_malformed() {
    let h = harness().await;
    let mut no_content = completion("x", "stop");
    no_content["choices"][0]["message"]["content"] = Value::Null;
    for (body, why) in [
        (
            ResponseTemplate::new(200).set_body_string("<html>502 Bad Gateway</html>"),
            "JSON",
        ),
        (
            ResponseTemplate::new(200).set_body_json(json!({"id": "chatcmpl-1", "choices": []})),
            "no choices",
        ),
        (
            ResponseTemplate::new(200)
                .set_body_json(json!({"object": "error", "message": "model not loaded"})),
            "no choices",
        ),
        (
            ResponseTemplate::new(200).set_body_json(no_content),
            "empty content",
        ),
        (answer("   "), "empty content"),
        (
            ResponseTemplate::new(200).set_body_json(json!([1, 2])),
            "JSON",
        ),
    ] {
        h.server.reset().await;
        serve(&h.server, body).await;
        match h.llm.summarize(&paper("2101.00003", 1)).await {
            Err(LlmError::Malformed(reason)) => assert!(reason.contains(why), "{reason}"),
            other => panic!("{why}: expected Malformed, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn replies_that_fail_the_checks_are_rejected_and_not_cached() {
    let h = harness().await;
    let long = format!(
        "{} It works.",
        "The model is tested again and again.".repeat(9)
    );
    for (reply, finish, want) in [
        (
            long.as_str(),
            "stop",
            Rejection::TooLong {
                chars: long.chars().count(),
            },
        ),
        (
            "I'm sorry, but I cannot summarize this paper.",
            "stop",
            Rejection::Boilerplate,
        ),
        (
            "Here is a summary of the paper: it works.",
            "stop",
            Rejection::Boilerplate,
        ),
        ("- It works.\n- It is fast.", "stop", Rejection::Markdown),
        (
            "Attention Is All You Need shows that attention suffices.",
            "stop",
            Rejection::RepeatsTitle,
        ),
        (
            "The authors propose a model that",
            "stop",
            Rejection::Unfinished,
        ),
        ("It works.", "length", Rejection::Unfinished),
        (
            "<think>Let me think about it.</think>",
            "stop",
            Rejection::Empty,
        ),
    ] {
        h.server.reset().await;
        serve(
            &h.server,
            ResponseTemplate::new(200).set_body_json(completion(reply, finish)),
        )
        .await;
        match h.llm.summarize(&paper("2101.00004", 1)).await {
            Err(LlmError::Rejected(r)) => assert_eq!(r, want, "{reply:?}"),
            other => panic!("{reply:?}: expected Rejected({want:?}), got {other:?}"),
        }
    }
    assert_eq!(h.llm.cached(&paper("2101.00004", 1)).await.unwrap(), None);
    // A reasoning model's think block is dropped and the rest used.
    h.server.reset().await;
    serve(
        &h.server,
        answer(&format!("<think>\nShort, no title.\n</think>\n\n{SUMMARY}")),
    )
    .await;
    assert_eq!(
        h.llm.summarize(&paper("2101.00004", 1)).await.unwrap(),
        SUMMARY
    );
}

#[tokio::test]
async fn a_cached_summary_makes_no_request_but_a_new_version_or_model_does() {
    let h = harness().await;
    Mock::given(method("POST"))
        .and(path(ENDPOINT))
        .respond_with(answer(SUMMARY))
        .expect(3)
        .mount(&h.server)
        .await;
    let v1 = paper("1706.03762", 1);
    assert_eq!(h.llm.summarize(&v1).await.unwrap(), SUMMARY);
    assert_eq!(h.llm.summarize(&v1).await.unwrap(), SUMMARY);
    assert_eq!(
        requests(&h.server).await.len(),
        1,
        "the second came from the cache"
    );
    h.llm.summarize(&paper("1706.03762", 2)).await.unwrap();
    assert_eq!(
        requests(&h.server).await.len(),
        2,
        "a new version asks again"
    );

    let mut cfg = config(&h.server);
    cfg.model = Some("gpt-4o-mini".into());
    let other = LlmSummarizer::new(&cfg, http(&h.clock), h.store.clone()).unwrap();
    assert_eq!(other.cached(&v1).await.unwrap(), None);
    other.summarize(&v1).await.unwrap();
    let reqs = requests(&h.server).await;
    assert_eq!(reqs.len(), 3, "another model asks again");
    let body: Value = serde_json::from_slice(&reqs[2].body).unwrap();
    assert_eq!(body["model"], "gpt-4o-mini");
    // Both models' summaries stay cached side by side.
    assert!(h.llm.cached(&v1).await.unwrap().is_some());
    assert_eq!(h.store.llm_calls(now().date_naive()).await.unwrap(), 3);
}

#[tokio::test]
async fn a_failure_is_not_cached_and_is_asked_again() {
    let h = harness().await;
    Mock::given(method("POST"))
        .and(path(ENDPOINT))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&h.server)
        .await;
    serve(&h.server, answer(SUMMARY)).await;
    let p = paper("1706.03762", 1);
    assert!(matches!(
        h.llm.summarize(&p).await,
        Err(LlmError::Status(503))
    ));
    assert_eq!(h.llm.summarize(&p).await.unwrap(), SUMMARY);
    assert_eq!(requests(&h.server).await.len(), 2);
    // Both calls count: the failed one was made.
    assert_eq!(h.store.llm_calls(now().date_naive()).await.unwrap(), 2);
}

#[tokio::test]
async fn the_daily_budget_stops_requests_until_the_next_utc_day() {
    let h = harness_with(|c| c.daily_budget = 1).await;
    Mock::given(method("POST"))
        .and(path(ENDPOINT))
        .respond_with(answer(SUMMARY))
        .expect(2)
        .mount(&h.server)
        .await;
    let (a, b) = (paper("2101.00010", 1), paper("2101.00011", 1));
    h.llm.summarize(&a).await.unwrap();
    let err = h.llm.summarize(&b).await.unwrap_err();
    assert!(matches!(err, LlmError::BudgetExhausted(1)), "{err:?}");
    assert_eq!(
        requests(&h.server).await.len(),
        1,
        "no request over the budget"
    );
    // A cached paper is still answered: the cache costs nothing.
    assert_eq!(h.llm.summarize(&a).await.unwrap(), SUMMARY);
    assert_eq!(h.store.llm_calls(now().date_naive()).await.unwrap(), 1);

    // 23:58 + 3 min is the next UTC day: a fresh budget.
    h.clock.advance(Duration::from_secs(180));
    assert_eq!(h.llm.summarize(&b).await.unwrap(), SUMMARY);
    assert_eq!(requests(&h.server).await.len(), 2);
    let next = h.clock.now().date_naive();
    assert_eq!(next, now().date_naive().succ_opt().unwrap());
    assert_eq!(h.store.llm_calls(next).await.unwrap(), 1);
}

#[tokio::test]
async fn a_zero_budget_makes_no_requests() {
    let h = harness_with(|c| c.daily_budget = 0).await;
    Mock::given(method("POST"))
        .respond_with(answer(SUMMARY))
        .expect(0)
        .mount(&h.server)
        .await;
    let err = h.llm.summarize(&paper("2101.00012", 1)).await.unwrap_err();
    assert!(matches!(err, LlmError::BudgetExhausted(0)), "{err:?}");
}

#[tokio::test]
async fn requests_in_flight_are_bounded_by_max_concurrency() {
    let h = harness_with(|c| c.max_concurrency = 1).await;
    serve(
        &h.server,
        answer(SUMMARY).set_delay(Duration::from_millis(150)),
    )
    .await;
    let papers: Vec<Paper> = (0..3).map(|i| paper(&format!("2101.0002{i}"), 1)).collect();
    let started = Instant::now();
    let results = futures_util::future::join_all(papers.iter().map(|p| h.llm.summarize(p))).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    // One at a time: three delays end to end.
    assert!(
        started.elapsed() >= Duration::from_millis(450),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(requests(&h.server).await.len(), 3);
}

/// A writer for a tracing subscriber that keeps everything it is given.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(PoisonError::into_inner)).into_owned()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Bodies that echo the key, a base URL with credentials, every failure kind: the key and the
/// password appear in no error (Display or Debug) and in no log line at any level.
#[tokio::test]
async fn the_key_never_appears_in_errors_or_logs() {
    let logs = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(logs.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = MockServer::start().await;
    let clock = FakeClock::new(now());
    let store = Arc::new(SqliteStore::in_memory().await.unwrap());
    let mut cfg = config(&server);
    let authority = server
        .uri()
        .replace("http://", "http://user:PASSWORD-SECRET@");
    cfg.base_url = format!("{authority}/v1");
    cfg.timeout = Duration::from_millis(200);
    let llm = LlmSummarizer::new(&cfg, http(&clock), store).unwrap();
    let echo = json!({"error": {"message": format!("Incorrect API key provided: {KEY}"),
                                "type": "invalid_request_error", "code": "invalid_api_key"}});
    let mut shown = Vec::new();
    for (i, response) in [
        ResponseTemplate::new(401).set_body_json(echo.clone()),
        ResponseTemplate::new(429).set_body_json(echo.clone()),
        ResponseTemplate::new(500).set_body_string(format!("upstream said {KEY}")),
        ResponseTemplate::new(200).set_body_string(format!("not json {KEY}")),
        ResponseTemplate::new(200).set_body_json(json!({"error": echo, "key": KEY})),
        answer(&format!("Your key is {KEY}, I'm sorry.")),
        answer(SUMMARY).set_delay(Duration::from_secs(3)),
        answer(SUMMARY),
    ]
    .into_iter()
    .enumerate()
    {
        server.reset().await;
        serve(&server, response).await;
        match llm.summarize(&paper(&format!("2101.0003{i}"), 1)).await {
            Err(e) => shown.push(format!("{e} {e:?}")),
            Ok(text) => assert_eq!(text, SUMMARY),
        }
        let reqs = requests(&server).await;
        let bearer = format!("Bearer {KEY}");
        assert!(
            reqs[0]
                .headers
                .get_all("authorization")
                .iter()
                .any(|v| v.to_str().ok() == Some(bearer.as_str())),
            "the key was in play"
        );
    }
    assert_eq!(shown.len(), 7, "{shown:?}");
    let logged = logs.text();
    assert!(
        logged.contains("no LLM summary"),
        "nothing captured: {logged}"
    );
    for text in shown.iter().chain([&logged]) {
        assert!(!text.contains("SECRET"), "{text}");
        assert!(!text.contains("Incorrect API key"), "a body leaked: {text}");
    }
    let debug = format!("{llm:?}");
    assert!(
        !debug.contains("SECRET") && debug.contains("[redacted]"),
        "{debug}"
    );
}
