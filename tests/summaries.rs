//! Summaries as the app gives them: every paper of a digest gets one, from the first provider
//! of `[summaries] order` with something usable, and the LLM path falls back on every kind
//! of failure, is cached, budgeted, and never waited for by a scheduled post.
//!
//! The mailing is the seed's (2021-07-02) through a fake arXiv; the LLM is a loopback fake of
//! an OpenAI-compatible chat-completions endpoint answering in the documented shape.

mod common;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use common::{FakeArxiv, seed_entries};
use hotpapers::app::{App, DigestRequest, LlmUse};
use hotpapers::arxiv::ArxivId;
use hotpapers::clock::FakeClock;
use hotpapers::config::{Config, Secret, SummarySource};
use hotpapers::digest::{Digest, json};
use hotpapers::progress::NoProgress;
use hotpapers::store::{Extra, PaperStore, SqliteStore, Store, SummaryStore};
use hotpapers::subscription::Subscription;
use hotpapers::summary::tidy::contains_title;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "sk-test-SECRET-0123456789";
const LLM_TEXT: &str = "The authors propose a new mechanism and show that it beats strong \
                        baselines on standard benchmarks at lower cost.";

fn t(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
}

fn mailing() -> NaiveDate {
    NaiveDate::from_ymd_opt(2021, 7, 2).unwrap()
}

/// A chat completion whose one choice says `content`.
fn completion(content: &str) -> Value {
    json!({
        "id": "chatcmpl-9xYz123",
        "object": "chat.completion",
        "created": 1_772_841_600,
        "model": "llama3.1:8b",
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": content},
            "finish_reason": "stop"
        }],
        "usage": {"prompt_tokens": 312, "completion_tokens": 41, "total_tokens": 353}
    })
}

struct Fixture {
    app: App,
    store: SqliteStore,
    _arxiv: MockServer,
}

/// The seed mailing in a fresh store; `llm` is the fake endpoint's URL, when the LLM is on.
async fn fixture(llm: Option<(&str, u32, usize, Duration)>) -> Fixture {
    let arxiv = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/query"))
        .respond_with(FakeArxiv::new(seed_entries()))
        .mount(&arxiv)
        .await;
    let mut config = Config::default();
    config.arxiv.api_url = format!("{}/api/query", arxiv.uri());
    config.arxiv.rss_url = format!("{}/rss", arxiv.uri());
    config.arxiv.request_spacing = Duration::ZERO;
    config.http.max_retries = 1;
    config.http.retry_base_delay = Duration::from_millis(1);
    config.http.retry_max_delay = Duration::from_millis(2);
    if let Some((base_url, budget, top, timeout)) = llm {
        config.summaries.llm.enabled = true;
        config.summaries.llm.base_url = format!("{base_url}/v1");
        config.summaries.llm.model = Some("llama3.1:8b".into());
        config.summaries.llm.api_key = Some(Secret::new(KEY.to_string()));
        config.summaries.llm.daily_budget = budget;
        config.summaries.llm.top = top;
        config.summaries.llm.timeout = timeout;
    }
    let store = SqliteStore::in_memory().await.unwrap();
    let clock = FakeClock::new(t(2021, 7, 3, 12, 0));
    let shared: Arc<dyn Store> = Arc::new(store.clone());
    let app = App::with_store(config, shared, Arc::new(clock)).unwrap();
    let report = app.ingest(Some(mailing()), &NoProgress).await.unwrap();
    assert_eq!(report.papers, 14);
    Fixture {
        app,
        store,
        _arxiv: arxiv,
    }
}

async fn digest(app: &App, llm: LlmUse) -> Digest {
    app.digest(
        &DigestRequest {
            date: Some(mailing()),
            top: Some(0),
            llm,
            ..DigestRequest::default()
        },
        &NoProgress,
    )
    .await
    .unwrap()
}

fn sources(d: &Digest) -> Vec<SummarySource> {
    d.entries
        .iter()
        .map(|e| {
            e.summary
                .as_ref()
                .expect("every paper has a summary")
                .source
        })
        .collect()
}

/// The Done rules of a summary, for every paper of `d`.
fn assert_good_summaries(d: &Digest) {
    assert_eq!(d.entries.len(), 14);
    for e in &d.entries {
        let s = e.summary.as_ref().expect("summary");
        let ctx = format!("{} ({}): {:?}", e.paper.id, s.source, s.text);
        assert!(!s.text.trim().is_empty(), "{ctx}");
        assert!(s.text.chars().count() <= 280, "{ctx}");
        assert!(!s.text.contains('$') && !s.text.contains('\\'), "{ctx}");
        assert!(!contains_title(&s.text, &e.paper.title), "{ctx}");
    }
}

#[tokio::test]
async fn without_an_llm_every_paper_gets_an_extractive_summary_and_upstream_ones_win() {
    let f = fixture(None).await;
    let extra = |id: &str, source: &str, key: &str, value: &str| Extra {
        paper: ArxivId::parse(id).unwrap(),
        source: source.into(),
        key: key.into(),
        value: value.into(),
        observed_at: t(2021, 7, 3, 10, 0),
    };
    f.store
        .record_extras(&[
            extra(
                "2107.00630",
                "hf",
                "ai_summary",
                "Diffusion models with a learned noise schedule reach state-of-the-art likelihoods with $\\sim$ fewer steps.",
            ),
            extra("2107.00630", "s2", "tldr", "The S2 TL;DR of this paper is here."),
            extra("2107.00641", "s2", "tldr", "A new attention mechanism mixes local and global context."),
            // Unusable upstream text falls through: too short, and the title itself.
            extra("2107.00652", "hf", "ai_summary", "Too short."),
            extra("2107.00650", "s2", "tldr", "CLIP-It! Language-Guided Video Summarization"),
        ])
        .await
        .unwrap();
    let d = digest(&f.app, LlmUse::Ask).await;
    assert_good_summaries(&d);
    let by_id = |id: &str| {
        d.entries
            .iter()
            .find(|e| e.paper.id.to_string() == id)
            .and_then(|e| e.summary.clone())
            .unwrap()
    };
    let hf = by_id("2107.00630");
    assert_eq!(hf.source, SummarySource::HuggingFace);
    assert!(hf.text.contains("~ fewer steps"), "{}", hf.text);
    assert_eq!(by_id("2107.00641").source, SummarySource::SemanticScholar);
    assert_eq!(by_id("2107.00652").source, SummarySource::Extractive);
    assert_eq!(by_id("2107.00650").source, SummarySource::Extractive);
    let focal = by_id("2107.00641");
    assert_eq!(
        focal.text,
        "A new attention mechanism mixes local and global context."
    );

    // JSON carries both the text and where it came from.
    let doc: Value = serde_json::from_str(&json::render(&d)).unwrap();
    for p in doc["papers"].as_array().unwrap() {
        assert!(p["summary"].as_str().is_some_and(|s| !s.is_empty()), "{p}");
        assert!(
            ["hf", "semantic_scholar", "extractive"]
                .contains(&p["summary_source"].as_str().unwrap()),
            "{p}"
        );
    }
}

#[tokio::test]
async fn the_order_is_configurable() {
    let f = fixture(None).await;
    f.store
        .record_extras(&[Extra {
            paper: ArxivId::parse("2107.00630").unwrap(),
            source: "hf".into(),
            key: "ai_summary".into(),
            value: "An upstream summary that is long enough to use.".into(),
            observed_at: t(2021, 7, 3, 10, 0),
        }])
        .await
        .unwrap();
    let mut config = f.app.config().clone();
    config.summaries.order = vec![SummarySource::Extractive];
    let shared: Arc<dyn Store> = Arc::new(f.store.clone());
    let app = App::with_store(
        config,
        shared,
        Arc::new(FakeClock::new(t(2021, 7, 3, 12, 0))),
    )
    .unwrap();
    let d = digest(&app, LlmUse::Ask).await;
    assert!(sources(&d).iter().all(|s| *s == SummarySource::Extractive));
}

#[tokio::test]
async fn the_llm_summarizes_the_top_papers_once_ever() {
    let llm = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(completion(LLM_TEXT)))
        .expect(3)
        .mount(&llm)
        .await;
    let f = fixture(Some((&llm.uri(), 100, 3, Duration::from_secs(10)))).await;
    let d = digest(&f.app, LlmUse::Ask).await;
    assert_good_summaries(&d);
    let got = sources(&d);
    assert_eq!(&got[..3], &[SummarySource::Llm; 3], "{got:?}");
    assert!(
        got[3..].iter().all(|s| *s == SummarySource::Extractive),
        "{got:?}"
    );
    assert_eq!(d.entries[0].summary.as_ref().unwrap().text, LLM_TEXT);
    // A second digest, and a scheduled post, are served from the cache: still 3 calls.
    let again = digest(&f.app, LlmUse::Ask).await;
    assert_eq!(sources(&again), got);
    let cached = digest(&f.app, LlmUse::CacheOnly).await;
    assert_eq!(sources(&cached), got);
    assert_eq!(
        f.store
            .llm_calls(NaiveDate::from_ymd_opt(2021, 7, 3).unwrap())
            .await
            .unwrap(),
        3
    );
}

#[tokio::test]
async fn every_llm_failure_falls_back_to_the_next_provider() {
    let long = "word ".repeat(120) + ".";
    let failures: Vec<(&str, ResponseTemplate)> = vec![
        (
            "500",
            ResponseTemplate::new(500).set_body_string("internal error"),
        ),
        ("503", ResponseTemplate::new(503)),
        (
            "429",
            ResponseTemplate::new(429).insert_header("retry-after", "30"),
        ),
        (
            "garbage",
            ResponseTemplate::new(200).set_body_string("<html>not json</html>"),
        ),
        (
            "no choices",
            ResponseTemplate::new(200).set_body_json(json!({"id": "x", "choices": []})),
        ),
        (
            "over-long",
            ResponseTemplate::new(200).set_body_json(completion(&long)),
        ),
        (
            "refusal",
            ResponseTemplate::new(200).set_body_json(completion(
                "I'm sorry, but I cannot help with that request.",
            )),
        ),
        (
            "timeout",
            ResponseTemplate::new(200)
                .set_body_json(completion(LLM_TEXT))
                .set_delay(Duration::from_secs(5)),
        ),
    ];
    for (name, response) in failures {
        let llm = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/v1/chat/completions"))
            .respond_with(response)
            .mount(&llm)
            .await;
        let f = fixture(Some((&llm.uri(), 100, 2, Duration::from_millis(300)))).await;
        let d = digest(&f.app, LlmUse::Ask).await;
        assert_good_summaries(&d);
        assert!(
            sources(&d).iter().all(|s| *s == SummarySource::Extractive),
            "{name}: {:?}",
            sources(&d)
        );
        let asked = llm.received_requests().await.unwrap_or_default().len();
        assert_eq!(
            asked, 2,
            "{name}: the top 2 are asked once each, no retries"
        );
        // Failures are not cached: nothing for the scheduled post to read.
        let cached = digest(&f.app, LlmUse::CacheOnly).await;
        assert!(
            sources(&cached)
                .iter()
                .all(|s| *s == SummarySource::Extractive),
            "{name}"
        );
    }
}

#[tokio::test]
async fn the_daily_budget_stops_calls() {
    let llm = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(completion(LLM_TEXT)))
        .expect(2)
        .mount(&llm)
        .await;
    let f = fixture(Some((&llm.uri(), 2, 5, Duration::from_secs(10)))).await;
    let d = digest(&f.app, LlmUse::Ask).await;
    let got = sources(&d);
    assert_eq!(
        got.iter().filter(|s| **s == SummarySource::Llm).count(),
        2,
        "{got:?}"
    );
    assert_eq!(
        got.iter()
            .filter(|s| **s == SummarySource::Extractive)
            .count(),
        12
    );
}

#[tokio::test]
async fn a_scheduled_post_never_calls_the_llm_but_reads_what_was_prepared() {
    let llm = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(completion(LLM_TEXT)))
        .mount(&llm)
        .await;
    let f = fixture(Some((&llm.uri(), 100, 4, Duration::from_secs(10)))).await;
    let sub = Subscription {
        id: 1,
        guild_id: 7,
        channel_id: 42,
        time: NaiveTime::from_hms_opt(8, 0, 0).unwrap(),
        timezone: chrono_tz::UTC,
        categories: vec![],
        count: 5,
        min_score: 0.0,
        created_by: 1,
        created_at: t(2021, 7, 1, 0, 0),
        disabled_reason: None,
    };
    let post = f.app.subscription_digest(&sub, mailing()).await.unwrap();
    assert!(
        sources(&post)
            .iter()
            .all(|s| *s == SummarySource::Extractive)
    );
    assert!(
        llm.received_requests().await.unwrap_or_default().is_empty(),
        "a post must not wait for the LLM"
    );

    // The scheduler prepares ahead of post time; the post then shows the LLM's summaries.
    assert_eq!(f.app.prepare_summaries(&post.entries).await.unwrap(), 4);
    let post = f.app.subscription_digest(&sub, mailing()).await.unwrap();
    let got = sources(&post);
    assert_eq!(&got[..4], &[SummarySource::Llm; 4], "{got:?}");
    assert_eq!(got[4], SummarySource::Extractive);
    assert_eq!(llm.received_requests().await.unwrap_or_default().len(), 4);
}
