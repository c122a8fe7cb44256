//! The real `S2Source` against a loopback fake of Semantic Scholar's Graph API.
//!
//! Served verbatim: `semantic_scholar_batch_with_null.json` (a real 4-id batch answer with
//! `null` for the unknown id), `semantic_scholar_error_404.json` (the real 404 body) and
//! `semantic_scholar_paper_full_fields.json` (a real paper object with a `tldr`, used as the
//! one entry of a batch answer: the batch endpoint returns the same objects). Large batches
//! are answered by a BUILT responder that returns one entry per requested id, in order, as the
//! API reference describes. All waits go through a `FakeClock`.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use hotpapers::arxiv::ArxivId;
use hotpapers::clock::FakeClock;
use hotpapers::config::{Secret, SemanticScholarConfig};
use hotpapers::http::{HttpClient, HttpOptions, RetryPolicy, user_agent};
use hotpapers::sources::semantic_scholar::S2Source;
use hotpapers::sources::{Source, SourceError, Window};
use hotpapers::store::Signal;
use serde_json::{Value, json};
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const BATCH: &str = include_str!("fixtures/semantic_scholar_batch_with_null.json");
const NOT_FOUND: &str = include_str!("fixtures/semantic_scholar_error_404.json");
const FULL: &str = include_str!("fixtures/semantic_scholar_paper_full_fields.json");
const FIELDS: &str = "citationCount,influentialCitationCount,tldr,externalIds";
const KEY: &str = "s2-SECRET-key-42";

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 6, 12, 0, 0).unwrap()
}

/// S2 ignores the window; any will do.
fn window() -> Window {
    Window {
        since: now() - chrono::Duration::days(1),
        until: now(),
    }
}

fn id(s: &str) -> ArxivId {
    ArxivId::parse(s).unwrap()
}

fn set(keys: &[&str]) -> BTreeSet<ArxivId> {
    keys.iter().map(|k| id(k)).collect()
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
    .with_jitter_seed(5)
}

struct Harness {
    server: MockServer,
    clock: FakeClock,
    source: S2Source,
}

async fn harness_with(edit: impl FnOnce(&mut SemanticScholarConfig)) -> Harness {
    let server = MockServer::start().await;
    let clock = FakeClock::new(now());
    let mut cfg = SemanticScholarConfig {
        api_url: format!("{}/graph/v1", server.uri()),
        request_spacing: Duration::ZERO,
        ..SemanticScholarConfig::default()
    };
    edit(&mut cfg);
    let source = S2Source::new(&cfg, http(&clock)).unwrap();
    Harness {
        server,
        clock,
        source,
    }
}

async fn harness() -> Harness {
    harness_with(|_| {}).await
}

async fn requests(server: &MockServer) -> Vec<Request> {
    server.received_requests().await.unwrap()
}

fn asked_ids(req: &Request) -> Vec<String> {
    let body: Value = serde_json::from_slice(&req.body).unwrap();
    body["ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

fn values(signals: &[Signal]) -> Vec<(String, &str, f64)> {
    signals
        .iter()
        .map(|s| (s.paper.key().to_string(), s.metric.as_str(), s.value))
        .collect()
}

/// Answers every batch with one entry per id, in order: `citationCount` = the id's position
/// in the whole run (from its number), `null` for ids ending in 7.
struct Positional;

impl Respond for Positional {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let entries: Vec<Value> = asked_ids(req)
            .iter()
            .map(|full| {
                let n: u32 = full.rsplit('.').next().unwrap().parse().unwrap();
                if n % 10 == 7 {
                    Value::Null
                } else {
                    json!({"paperId": format!("p{n}"), "citationCount": n,
                           "influentialCitationCount": 0, "tldr": null})
                }
            })
            .collect();
        ResponseTemplate::new(200).set_body_json(entries)
    }
}

#[tokio::test]
async fn recorded_batch_answer_maps_positionally_and_skips_null() {
    let h = harness().await;
    Mock::given(method("POST"))
        .and(path("/graph/v1/paper/batch"))
        .and(query_param("fields", FIELDS))
        .and(body_json(json!({"ids": [
            "ARXIV:hep-th/9901001", "ARXIV:2107.00641", "ARXIV:2107.00642", "ARXIV:2107.00643"
        ]})))
        .respond_with(ResponseTemplate::new(200).set_body_string(BATCH))
        .expect(1)
        .mount(&h.server)
        .await;
    // Ids go out in the set's (chronological) order, versions dropped.
    let papers = set(&["2107.00643", "2107.00641v2", "hep-th/9901001", "2107.00642"]);
    let got = h.source.collect(window(), &papers, now()).await.unwrap();
    assert_eq!(
        values(&got.signals),
        vec![
            ("2107.00641".into(), "citations", 10670.0),
            ("2107.00641".into(), "influential_citations", 578.0),
            ("2107.00642".into(), "citations", 2185.0),
            ("2107.00642".into(), "influential_citations", 245.0),
            ("2107.00643".into(), "citations", 0.0),
            ("2107.00643".into(), "influential_citations", 0.0),
        ]
    );
    assert!(
        got.signals
            .iter()
            .all(|s| s.source == "s2" && s.observed_at == now())
    );
    assert_eq!((got.requests, got.mentions), (1, 3));
    assert!(got.extras.is_empty(), "the recorded answer has no tldr");
    assert!(got.notes.is_empty(), "{:?}", got.notes);
}

#[tokio::test]
async fn a_mailing_of_1100_papers_costs_three_paced_requests() {
    let h = harness_with(|c| c.request_spacing = Duration::from_secs(1)).await;
    Mock::given(method("POST"))
        .and(path("/graph/v1/paper/batch"))
        .respond_with(Positional)
        .expect(3)
        .mount(&h.server)
        .await;
    let papers: BTreeSet<ArxivId> = (1..=1100).map(|n| id(&format!("2603.{n:05}"))).collect();
    let got = h.source.collect(window(), &papers, now()).await.unwrap();
    assert_eq!(got.requests, 3);
    let sizes: Vec<usize> = requests(&h.server)
        .await
        .iter()
        .map(|r| asked_ids(r).len())
        .collect();
    assert_eq!(sizes, [500, 500, 100]);
    // 110 ids end in 7 and are unknown.
    assert_eq!(got.mentions, 990);
    let citations: Vec<&Signal> = got
        .signals
        .iter()
        .filter(|s| s.metric == "citations")
        .collect();
    assert_eq!(citations.len(), 990);
    assert!(
        citations
            .iter()
            .all(|s| s.value == f64::from(s.paper.key()[5..].parse::<u32>().unwrap()))
    );
    // Request starts are spaced by request_spacing, measured on the fake clock.
    assert_eq!(
        h.clock.sleeps(),
        vec![Duration::from_secs(1), Duration::from_secs(1)]
    );
}

#[tokio::test]
async fn batch_size_is_configurable() {
    let h = harness_with(|c| c.batch_size = 2).await;
    Mock::given(path("/graph/v1/paper/batch"))
        .respond_with(Positional)
        .expect(3)
        .mount(&h.server)
        .await;
    let papers = set(&[
        "2603.00001",
        "2603.00002",
        "2603.00003",
        "2603.00004",
        "2603.00005",
    ]);
    let got = h.source.collect(window(), &papers, now()).await.unwrap();
    assert_eq!((got.requests, got.mentions), (3, 5));
}

#[tokio::test]
async fn no_papers_no_request() {
    let h = harness().await;
    let got = h
        .source
        .collect(window(), &BTreeSet::new(), now())
        .await
        .unwrap();
    assert_eq!(got, Default::default());
    assert!(requests(&h.server).await.is_empty());
}

#[tokio::test]
async fn the_key_goes_in_the_x_api_key_header_only() {
    let h = harness_with(|c| c.api_key = Some(Secret::new(KEY))).await;
    Mock::given(path("/graph/v1/paper/batch"))
        .and(header("x-api-key", KEY))
        .respond_with(Positional)
        .expect(1)
        .mount(&h.server)
        .await;
    h.source
        .collect(window(), &set(&["2603.00001"]), now())
        .await
        .unwrap();
    let reqs = requests(&h.server).await;
    assert!(!reqs[0].url.as_str().contains(KEY));
    assert!(!String::from_utf8_lossy(&reqs[0].body).contains(KEY));
    assert!(!format!("{:?}", h.source).contains(KEY));
}

#[tokio::test]
async fn a_rejected_key_is_an_auth_error_that_does_not_show_it() {
    let h = harness_with(|c| c.api_key = Some(Secret::new(KEY))).await;
    Mock::given(path("/graph/v1/paper/batch"))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({"message": "Forbidden"})))
        .expect(1)
        .mount(&h.server)
        .await;
    let err = h
        .source
        .collect(window(), &set(&["2603.00001"]), now())
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            SourceError::Auth {
                source_name: "s2",
                ..
            }
        ),
        "{err:?}"
    );
    let text = format!("{err} {err:?}");
    assert!(text.contains("sources.semantic_scholar.api_key"), "{text}");
    assert!(!text.contains(KEY), "{text}");
}

#[tokio::test]
async fn rate_limits_are_retried_honouring_retry_after() {
    let h = harness().await;
    Mock::given(path("/graph/v1/paper/batch"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "7")
                .set_body_json(json!({"message": "Too Many Requests. Please wait and try again or apply for a key for higher rate limits."})),
        )
        .up_to_n_times(1)
        .expect(1)
        .mount(&h.server)
        .await;
    Mock::given(path("/graph/v1/paper/batch"))
        .respond_with(ResponseTemplate::new(504).insert_header("retry-after", "4"))
        .up_to_n_times(1)
        .expect(1)
        .mount(&h.server)
        .await;
    Mock::given(path("/graph/v1/paper/batch"))
        .respond_with(Positional)
        .expect(1)
        .mount(&h.server)
        .await;
    let got = h
        .source
        .collect(window(), &set(&["2603.00001"]), now())
        .await
        .unwrap();
    assert_eq!((got.requests, got.mentions), (1, 1));
    assert_eq!(
        h.clock.sleeps(),
        vec![Duration::from_secs(7), Duration::from_secs(4)]
    );
}

#[tokio::test]
async fn answers_that_break_positions_are_errors() {
    for body in [
        "[null]",
        "[null, null, null]",
        "{\"data\": []}",
        "<html>",
        "",
        "[null,",
    ] {
        let h = harness().await;
        Mock::given(path("/graph/v1/paper/batch"))
            .respond_with(ResponseTemplate::new(200).set_body_string(body))
            .mount(&h.server)
            .await;
        let err = h
            .source
            .collect(window(), &set(&["2603.00001", "2603.00002"]), now())
            .await
            .unwrap_err();
        assert!(
            matches!(
                &err,
                SourceError::Malformed {
                    source_name: "s2",
                    ..
                }
            ),
            "{body}: {err:?}"
        );
        assert!(err.to_string().contains("paper/batch"), "{err}");
    }
}

#[tokio::test]
async fn a_bad_entry_is_skipped_with_a_note() {
    let h = harness().await;
    Mock::given(path("/graph/v1/paper/batch"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"citationCount": "lots"},
            {"citationCount": 3, "influentialCitationCount": 1,
             "externalIds": {"ArXiv": "2603.00009"}},
            {"citationCount": 5, "influentialCitationCount": 2,
             "externalIds": {"ArXiv": "2603.00003"}, "tldr": {"model": "tldr@v2.0.0", "text": " Short. "}},
        ])))
        .mount(&h.server)
        .await;
    let got = h
        .source
        .collect(
            window(),
            &set(&["2603.00001", "2603.00002", "2603.00003"]),
            now(),
        )
        .await
        .unwrap();
    assert_eq!(
        values(&got.signals),
        vec![
            ("2603.00003".into(), "citations", 5.0),
            ("2603.00003".into(), "influential_citations", 2.0),
        ]
    );
    assert_eq!(got.extras.len(), 1);
    assert_eq!(got.extras[0].value, "Short.");
    assert_eq!(got.notes.len(), 1, "{:?}", got.notes);
    assert!(got.notes[0].contains("skipped 2"), "{:?}", got.notes);
}

#[tokio::test]
async fn not_found_404_means_no_signals_but_other_404s_are_errors() {
    let h = harness().await;
    Mock::given(path("/graph/v1/paper/batch"))
        .respond_with(ResponseTemplate::new(404).set_body_string(NOT_FOUND))
        .expect(2)
        .mount(&h.server)
        .await;
    let paper = id("2603.00001");
    assert!(
        h.source
            .lookup(&paper, now())
            .await
            .unwrap()
            .signals
            .is_empty()
    );
    let got = h
        .source
        .collect(window(), &set(&["2603.00001"]), now())
        .await
        .unwrap();
    assert!(got.signals.is_empty());
    assert_eq!(got.requests, 1);
    assert_eq!(got.notes.len(), 1, "{:?}", got.notes);

    // A 404 that is not Semantic Scholar's error document: a wrong api_url, say.
    let h = harness().await;
    Mock::given(path("/graph/v1/paper/batch"))
        .respond_with(ResponseTemplate::new(404).set_body_string("<html>Not Found</html>"))
        .mount(&h.server)
        .await;
    let err = h.source.lookup(&paper, now()).await.unwrap_err();
    assert!(
        matches!(&err, SourceError::Http(e) if e.status() == Some(404)),
        "{err:?}"
    );
}

#[tokio::test]
async fn lookup_asks_the_batch_endpoint_once_for_signals_and_tldr() {
    let h = harness().await;
    let full: Value = serde_json::from_str(FULL).unwrap();
    Mock::given(method("POST"))
        .and(path("/graph/v1/paper/batch"))
        .and(query_param("fields", FIELDS))
        .and(body_json(json!({"ids": ["ARXIV:2107.00641"]})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([full])))
        .expect(1)
        .mount(&h.server)
        .await;
    let paper = id("arXiv:2107.00641v3");
    let got = h.source.lookup(&paper, now()).await.unwrap();
    assert_eq!(
        values(&got.signals),
        vec![
            ("2107.00641".into(), "citations", 10059.0),
            ("2107.00641".into(), "influential_citations", 530.0),
        ]
    );
    let extras = &got.extras;
    assert_eq!(extras.len(), 1);
    assert_eq!(extras[0].source, "s2");
    assert_eq!(extras[0].key, "tldr");
    assert_eq!(extras[0].paper.key(), "2107.00641");
    assert!(extras[0].value.starts_with("If the meaning of the words"));
    assert_eq!(requests(&h.server).await.len(), 1);
    assert_eq!(h.source.name(), "s2");
}

#[tokio::test]
async fn lookup_of_an_unknown_paper_is_empty() {
    let h = harness().await;
    Mock::given(path("/graph/v1/paper/batch"))
        .respond_with(ResponseTemplate::new(200).set_body_string("[null]"))
        .expect(1)
        .mount(&h.server)
        .await;
    let paper = id("2603.99999");
    let got = h.source.lookup(&paper, now()).await.unwrap();
    assert!(got.signals.is_empty() && got.extras.is_empty());
}
