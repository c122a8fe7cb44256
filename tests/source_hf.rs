//! The real `HfSource` against a loopback fake of the Hugging Face Papers API.
//!
//! `hf_daily_papers.json` (one real item of `GET /api/daily_papers`) is served verbatim. Other
//! daily items are BUILT from that real item with `paper.id`, `paper.upvotes`, `numComments`
//! (and sometimes the text fields) replaced. No capture of `GET /api/papers/{id}` exists; per
//! `huggingface_hub` and the fixture README it returns the `paper` object alone, so the lookup
//! answer served here is the real item's `paper` object. All waits go through a `FakeClock`.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use hotpapers::arxiv::ArxivId;
use hotpapers::clock::FakeClock;
use hotpapers::config::{HfConfig, Secret};
use hotpapers::http::{HttpClient, HttpOptions, RetryPolicy, user_agent};
use hotpapers::sources::hf::HfSource;
use hotpapers::sources::{Source, SourceError, Window};
use hotpapers::store::{Extra, PaperStore, Signal, SqliteStore};
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const DAILY: &str = include_str!("fixtures/hf_daily_papers.json");
const TOKEN: &str = "hf_SECRETtoken123";

/// Friday 2026-03-06 12:00 UTC: the recorded item was on Daily Papers that day.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 6, 12, 0, 0).unwrap()
}

fn at(d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, d, h, 0, 0).unwrap()
}

fn id(s: &str) -> ArxivId {
    ArxivId::parse(s).unwrap()
}

fn http(clock: &FakeClock) -> HttpClient {
    HttpClient::new(
        HttpOptions {
            timeout: Duration::from_secs(5),
            max_body_bytes: 4 << 20,
            user_agent: user_agent("tests@example.org"),
            retry: RetryPolicy {
                max_retries: 2,
                base_delay: Duration::from_secs(1),
                max_delay: Duration::from_secs(60),
            },
        },
        Arc::new(clock.clone()),
    )
    .unwrap()
    .with_jitter_seed(11)
}

struct Harness {
    server: MockServer,
    clock: FakeClock,
    source: HfSource,
}

async fn harness_with(edit: impl FnOnce(&mut HfConfig)) -> Harness {
    let server = MockServer::start().await;
    let clock = FakeClock::new(now());
    let mut cfg = HfConfig {
        api_url: server.uri(),
        ..HfConfig::default()
    };
    edit(&mut cfg);
    let source = HfSource::new(&cfg, http(&clock)).unwrap();
    Harness {
        server,
        clock,
        source,
    }
}

async fn harness() -> Harness {
    harness_with(|_| {}).await
}

fn param(req: &Request, name: &str) -> Option<String> {
    req.url
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

async fn requests(server: &MockServer) -> Vec<Request> {
    server.received_requests().await.unwrap()
}

fn real_item() -> Value {
    let items: Value = serde_json::from_str(DAILY).unwrap();
    items[0].clone()
}

/// A daily item BUILT from the real one (see the module docs), without text extras.
fn item(paper: &str, upvotes: u64, comments: u64) -> Value {
    let mut it = real_item();
    it["paper"]["id"] = json!(paper);
    it["paper"]["upvotes"] = json!(upvotes);
    it["numComments"] = json!(comments);
    for field in [
        "ai_summary",
        "ai_keywords",
        "githubRepo",
        "githubStars",
        "projectPage",
    ] {
        it["paper"].as_object_mut().unwrap().remove(field);
    }
    it
}

async fn serve_date(server: &MockServer, date: &str, page: u32, body: Value) {
    Mock::given(method("GET"))
        .and(path("/api/daily_papers"))
        .and(query_param("date", date))
        .and(query_param("p", page.to_string()))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .expect(1)
        .mount(server)
        .await;
}

fn values(signals: &[Signal]) -> Vec<(String, &str, f64)> {
    signals
        .iter()
        .map(|s| (s.paper.key().to_string(), s.metric.as_str(), s.value))
        .collect()
}

fn mailing_window() -> Window {
    Window {
        since: at(5, 18),
        until: at(6, 18),
    }
}

#[tokio::test]
async fn recorded_item_gives_upvotes_comments_stars_and_extras() {
    let h = harness().await;
    // Thursday has nothing (HF answers an empty list), Friday has the recorded item. The
    // window reaches 18:00 but "today" is the 6th, so no later date is asked for.
    serve_date(&h.server, "2026-03-05", 0, json!([])).await;
    Mock::given(method("GET"))
        .and(path("/api/daily_papers"))
        .and(query_param("date", "2026-03-06"))
        .and(query_param("limit", "100"))
        .and(query_param("p", "0"))
        .respond_with(ResponseTemplate::new(200).set_body_string(DAILY))
        .expect(1)
        .mount(&h.server)
        .await;
    let got = h
        .source
        .collect(mailing_window(), &BTreeSet::new(), now())
        .await
        .unwrap();
    assert_eq!(
        values(&got.signals),
        vec![
            ("2602.23229".into(), "comments", 1.0),
            ("2602.23229".into(), "github_stars", 9.0),
            ("2602.23229".into(), "upvotes", 10.0),
        ]
    );
    assert!(
        got.signals
            .iter()
            .all(|s| s.source == "hf" && s.observed_at == now())
    );
    assert_eq!((got.requests, got.mentions), (2, 1));
    assert!(got.notes.is_empty(), "{:?}", got.notes);

    let extras: Vec<(&str, &str)> = got
        .extras
        .iter()
        .map(|e| (e.key.as_str(), e.value.as_str()))
        .collect();
    assert_eq!(extras.len(), 4);
    assert_eq!(extras[0].0, "ai_summary");
    assert!(
        extras[0]
            .1
            .starts_with("Large Multimodal Models demonstrate")
    );
    assert_eq!(extras[1].0, "ai_keywords");
    assert!(
        extras[1]
            .1
            .starts_with(r#"["Vision-Language Models","Large Multimodal Models""#)
    );
    assert_eq!(
        extras[2],
        ("github_repo", "https://github.com/marco-garosi/CIRCLE")
    );
    assert_eq!(extras[3], ("project_page", "https://circle-lmm.github.io/"));
    assert!(
        got.extras
            .iter()
            .all(|e| e.source == "hf" && e.observed_at == now() && e.paper.key() == "2602.23229")
    );

    // The extras go straight into the store, idempotently.
    let store = SqliteStore::in_memory().await.unwrap();
    store.record_extras(&got.extras).await.unwrap();
    store.record_extras(&got.extras).await.unwrap();
    let stored: Vec<Extra> = store.extras(&id("2602.23229")).await.unwrap();
    assert_eq!(stored.len(), 4);
    assert!(stored.iter().all(|e| got.extras.contains(e)));
}

#[tokio::test]
async fn weekend_and_future_dates() {
    let h = harness().await;
    // Saturday and Sunday answer `[]`; Monday 9th is after "today" (the 6th): never asked.
    serve_date(
        &h.server,
        "2026-03-06",
        0,
        json!([item("2603.00001", 3, 0)]),
    )
    .await;
    serve_date(&h.server, "2026-03-07", 0, json!([])).await;
    serve_date(&h.server, "2026-03-08", 0, json!([])).await;
    let window = Window {
        since: at(6, 0),
        until: at(10, 0),
    };
    // "now" is Sunday evening, so Friday to Sunday are past or today.
    let sunday = at(8, 20);
    let got = h
        .source
        .collect(window, &BTreeSet::new(), sunday)
        .await
        .unwrap();
    assert_eq!(got.requests, 3);
    assert_eq!(
        values(&got.signals),
        vec![
            ("2603.00001".into(), "comments", 0.0),
            ("2603.00001".into(), "upvotes", 3.0)
        ]
    );
    assert!(
        requests(&h.server)
            .await
            .iter()
            .all(|r| param(r, "date").unwrap().as_str() <= "2026-03-08")
    );

    // A window entirely after today, an empty window and an inverted one: no request.
    let before = requests(&h.server).await.len();
    for window in [
        Window {
            since: at(9, 0),
            until: at(10, 0),
        },
        Window {
            since: at(6, 0),
            until: at(6, 0),
        },
        Window {
            since: at(6, 1),
            until: at(6, 0),
        },
    ] {
        let got = h
            .source
            .collect(window, &BTreeSet::new(), sunday)
            .await
            .unwrap();
        assert_eq!(got.requests, 0);
        assert!(got.signals.is_empty() && got.extras.is_empty());
    }
    assert_eq!(requests(&h.server).await.len(), before);
}

#[tokio::test]
async fn full_pages_are_followed() {
    let h = harness_with(|c| c.page_size = 2).await;
    let window = Window {
        since: at(6, 0),
        until: at(7, 0),
    };
    // Five papers: pages of 2, 2, 1.
    let p: Vec<Value> = (1..=5)
        .map(|i| item(&format!("2603.0000{i}"), i, 1))
        .collect();
    serve_date(&h.server, "2026-03-06", 0, json!([p[0], p[1]])).await;
    serve_date(&h.server, "2026-03-06", 1, json!([p[2], p[3]])).await;
    serve_date(&h.server, "2026-03-06", 2, json!([p[4]])).await;
    let got = h
        .source
        .collect(window, &BTreeSet::new(), now())
        .await
        .unwrap();
    assert_eq!(got.requests, 3);
    assert_eq!(got.mentions, 5);
    let upvotes: f64 = got
        .signals
        .iter()
        .filter(|s| s.metric == "upvotes")
        .map(|s| s.value)
        .sum();
    assert_eq!(upvotes, 15.0);
    assert!(
        requests(&h.server)
            .await
            .iter()
            .all(|r| param(r, "limit").as_deref() == Some("2"))
    );
}

#[tokio::test]
async fn an_exactly_full_last_page_costs_one_empty_page() {
    let h = harness_with(|c| c.page_size = 2).await;
    let window = Window {
        since: at(6, 0),
        until: at(7, 0),
    };
    serve_date(
        &h.server,
        "2026-03-06",
        0,
        json!([item("2603.00001", 1, 0), item("2603.00002", 1, 0)]),
    )
    .await;
    serve_date(&h.server, "2026-03-06", 1, json!([])).await;
    let got = h
        .source
        .collect(window, &BTreeSet::new(), now())
        .await
        .unwrap();
    assert_eq!((got.requests, got.mentions), (2, 2));
}

#[tokio::test]
async fn a_paper_on_two_dates_counts_once_with_its_latest_totals() {
    let h = harness().await;
    serve_date(
        &h.server,
        "2026-03-05",
        0,
        json!([item("2603.00001", 4, 1)]),
    )
    .await;
    serve_date(
        &h.server,
        "2026-03-06",
        0,
        json!([item("2603.00001", 9, 3), item("2603.00002", 1, 0)]),
    )
    .await;
    let got = h
        .source
        .collect(mailing_window(), &BTreeSet::new(), now())
        .await
        .unwrap();
    assert_eq!(
        values(&got.signals),
        vec![
            ("2603.00001".into(), "comments", 3.0),
            ("2603.00001".into(), "upvotes", 9.0),
            ("2603.00002".into(), "comments", 0.0),
            ("2603.00002".into(), "upvotes", 1.0),
        ]
    );
    assert_eq!(got.mentions, 2);
}

#[tokio::test]
async fn only_requested_papers_are_returned_with_their_extras() {
    let h = harness().await;
    let mut other = item("2603.00001", 50, 5);
    other["paper"]["ai_summary"] = json!("Not asked for.");
    serve_date(&h.server, "2026-03-05", 0, json!([other])).await;
    Mock::given(query_param("date", "2026-03-06"))
        .respond_with(ResponseTemplate::new(200).set_body_string(DAILY))
        .mount(&h.server)
        .await;
    let wanted: BTreeSet<ArxivId> = [id("2602.23229v1")].into();
    let got = h
        .source
        .collect(mailing_window(), &wanted, now())
        .await
        .unwrap();
    assert!(got.signals.iter().all(|s| s.paper.key() == "2602.23229"));
    assert_eq!(got.signals.len(), 3);
    assert_eq!(got.extras.len(), 4);
    assert!(got.extras.iter().all(|e| e.paper.key() == "2602.23229"));
    assert_eq!(got.mentions, 1);
}

#[tokio::test]
async fn token_goes_in_the_authorization_header_only() {
    let h = harness_with(|c| c.token = Some(Secret::new(TOKEN))).await;
    Mock::given(path("/api/daily_papers"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .expect(2)
        .mount(&h.server)
        .await;
    h.source
        .collect(mailing_window(), &BTreeSet::new(), now())
        .await
        .unwrap();
    for r in requests(&h.server).await {
        assert!(!r.url.as_str().contains(TOKEN));
    }
    assert!(!format!("{:?}", h.source).contains(TOKEN));
}

#[tokio::test]
async fn a_rejected_token_is_an_auth_error_that_does_not_show_it() {
    let h = harness_with(|c| c.token = Some(Secret::new(TOKEN))).await;
    Mock::given(path("/api/daily_papers"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(json!({"error": "Invalid credentials in Authorization header"})),
        )
        .expect(1)
        .mount(&h.server)
        .await;
    let err = h
        .source
        .collect(mailing_window(), &BTreeSet::new(), now())
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            SourceError::Auth {
                source_name: "hf",
                ..
            }
        ),
        "{err:?}"
    );
    let text = format!("{err} {err:?}");
    assert!(text.contains("sources.hf.token"), "{text}");
    assert!(!text.contains(TOKEN), "{text}");

    // Without a token the message says how to fix it.
    let h = harness().await;
    Mock::given(path("/api/papers/2602.23229"))
        .respond_with(ResponseTemplate::new(403))
        .mount(&h.server)
        .await;
    let err = h.source.lookup(&id("2602.23229"), now()).await.unwrap_err();
    assert!(err.to_string().contains("set sources.hf.token"), "{err}");
}

#[tokio::test]
async fn rate_limits_are_retried_honouring_retry_after() {
    let h = harness().await;
    let window = Window {
        since: at(6, 0),
        until: at(7, 0),
    };
    Mock::given(path("/api/daily_papers"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "5")
                .insert_header("ratelimit", "\"api\";r=0;t=5")
                .insert_header("ratelimit-policy", "\"fixed window\";\"api\";q=500;w=300"),
        )
        .up_to_n_times(1)
        .expect(1)
        .mount(&h.server)
        .await;
    Mock::given(path("/api/daily_papers"))
        .respond_with(ResponseTemplate::new(503).insert_header("retry-after", "2"))
        .up_to_n_times(1)
        .expect(1)
        .mount(&h.server)
        .await;
    serve_date(
        &h.server,
        "2026-03-06",
        0,
        json!([item("2603.00001", 2, 0)]),
    )
    .await;
    let got = h
        .source
        .collect(window, &BTreeSet::new(), now())
        .await
        .unwrap();
    assert_eq!(got.signals.len(), 2);
    assert_eq!(got.requests, 1);
    assert_eq!(
        h.clock.sleeps(),
        vec![Duration::from_secs(5), Duration::from_secs(2)]
    );
}

#[tokio::test]
async fn an_exhausted_quota_delays_the_next_request_until_reset() {
    let h = harness().await;
    let empty_with = |limit: &str| {
        ResponseTemplate::new(200)
            .set_body_json(json!([]))
            .insert_header("ratelimit", limit)
    };
    Mock::given(query_param("date", "2026-03-04"))
        .respond_with(empty_with("\"api\";r=1;t=200"))
        .expect(1)
        .mount(&h.server)
        .await;
    Mock::given(query_param("date", "2026-03-05"))
        .respond_with(empty_with("\"api\";r=0;t=42"))
        .expect(1)
        .mount(&h.server)
        .await;
    Mock::given(query_param("date", "2026-03-06"))
        .respond_with(empty_with("\"api\";r=0;t=3600"))
        .expect(1)
        .mount(&h.server)
        .await;
    let window = Window {
        since: at(4, 0),
        until: at(7, 0),
    };
    let got = h
        .source
        .collect(window, &BTreeSet::new(), now())
        .await
        .unwrap();
    assert_eq!(got.requests, 3);
    // Nothing left after the 5th: wait 42 s before the 6th. The 6th is the last request, so
    // its exhausted quota (capped at the 60 s max delay otherwise) costs no wait.
    assert_eq!(h.clock.sleeps(), vec![Duration::from_secs(42)]);
}

#[tokio::test]
async fn malformed_pages_are_errors_and_malformed_items_are_skipped() {
    for body in [
        "<html>Service Unavailable</html>",
        "",
        r#"{"error":"Invalid date"}"#,
        "[{\"paper\":",
    ] {
        let h = harness().await;
        Mock::given(path("/api/daily_papers"))
            .respond_with(ResponseTemplate::new(200).set_body_string(body))
            .mount(&h.server)
            .await;
        let err = h
            .source
            .collect(mailing_window(), &BTreeSet::new(), now())
            .await
            .unwrap_err();
        assert!(
            matches!(
                &err,
                SourceError::Malformed {
                    source_name: "hf",
                    ..
                }
            ),
            "{body}: {err:?}"
        );
        assert!(err.to_string().contains("daily_papers"), "{err}");
    }

    let h = harness().await;
    let window = Window {
        since: at(6, 0),
        until: at(7, 0),
    };
    serve_date(
        &h.server,
        "2026-03-06",
        0,
        json!([
            item("2603.00001", 2, 1),
            {"paper": {"id": "2603.00002"}, "numComments": 4},
            {"paper": {"id": "not-an-id", "upvotes": 4}},
            {"title": "no paper"},
        ]),
    )
    .await;
    let got = h
        .source
        .collect(window, &BTreeSet::new(), now())
        .await
        .unwrap();
    assert_eq!(
        values(&got.signals),
        vec![
            ("2603.00001".into(), "comments", 1.0),
            ("2603.00001".into(), "upvotes", 2.0),
        ]
    );
    assert_eq!(got.notes.len(), 1);
    assert!(got.notes[0].contains("skipped 3"), "{:?}", got.notes);
}

#[tokio::test]
async fn server_errors_after_retries_and_client_errors_fail_the_sweep() {
    let h = harness().await;
    Mock::given(path("/api/daily_papers"))
        .respond_with(ResponseTemplate::new(500))
        .expect(3)
        .mount(&h.server)
        .await;
    let err = h
        .source
        .collect(mailing_window(), &BTreeSet::new(), now())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, SourceError::Http(e) if e.status() == Some(500)),
        "{err:?}"
    );

    let h = harness().await;
    Mock::given(path("/api/daily_papers"))
        .respond_with(ResponseTemplate::new(400).set_body_string("bad date"))
        .expect(1)
        .mount(&h.server)
        .await;
    let err = h
        .source
        .collect(mailing_window(), &BTreeSet::new(), now())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, SourceError::Http(e) if e.status() == Some(400)),
        "{err:?}"
    );
}

#[tokio::test]
async fn lookup_reads_the_paper_page_api_once_for_signals_and_extras_per_measurement() {
    let h = harness().await;
    Mock::given(method("GET"))
        .and(path("/api/papers/2602.23229"))
        .respond_with(ResponseTemplate::new(200).set_body_json(real_item()["paper"].clone()))
        .expect(2)
        .mount(&h.server)
        .await;
    let paper = id("https://huggingface.co/papers/2602.23229v2");
    let got = h.source.lookup(&paper, now()).await.unwrap();
    assert_eq!(
        values(&got.signals),
        vec![
            ("2602.23229".into(), "github_stars", 9.0),
            ("2602.23229".into(), "upvotes", 10.0),
        ]
    );
    // The same answer carries the extras.
    assert_eq!(got.extras.len(), 4);
    assert_eq!(got.extras[0].key, "ai_summary");
    assert_eq!(requests(&h.server).await.len(), 1);
    // A later measurement asks again.
    let later = now() + chrono::Duration::minutes(5);
    let again = h.source.lookup(&paper, later).await.unwrap();
    assert!(again.signals.iter().all(|s| s.observed_at == later));
    assert_eq!(requests(&h.server).await.len(), 2);
}

#[tokio::test]
async fn lookup_of_a_paper_hf_does_not_have_is_empty() {
    let h = harness().await;
    Mock::given(path("/api/papers/2107.00641"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"error": "Paper not found"})))
        .expect(1)
        .mount(&h.server)
        .await;
    let paper = id("2107.00641");
    let got = h.source.lookup(&paper, now()).await.unwrap();
    assert!(got.signals.is_empty() && got.extras.is_empty() && got.posts.is_empty());
}

#[tokio::test]
async fn lookup_rejects_answers_about_another_paper_or_without_upvotes() {
    let h = harness().await;
    Mock::given(path("/api/papers/2107.00641"))
        .respond_with(ResponseTemplate::new(200).set_body_json(real_item()["paper"].clone()))
        .mount(&h.server)
        .await;
    Mock::given(path("/api/papers/2107.00642"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "2107.00642"})))
        .mount(&h.server)
        .await;
    Mock::given(path("/api/papers/2107.00643"))
        .respond_with(ResponseTemplate::new(200).set_body_string("<html>"))
        .mount(&h.server)
        .await;
    for key in ["2107.00641", "2107.00642", "2107.00643"] {
        let err = h.source.lookup(&id(key), now()).await.unwrap_err();
        assert!(
            matches!(
                &err,
                SourceError::Malformed {
                    source_name: "hf",
                    ..
                }
            ),
            "{key}: {err:?}"
        );
    }
    assert_eq!(h.source.name(), "hf");
}
