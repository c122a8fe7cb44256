//! The real `ArxivClient` against a loopback wiremock arXiv: fixtures, paging, retries, errors,
//! batching, submission windows and RSS. All waits go through a `FakeClock`, so nothing sleeps.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use hotpapers::arxiv::ArxivId;
use hotpapers::arxiv::client::{ArxivClient, ArxivError, ArxivOptions, Sort};
use hotpapers::clock::FakeClock;
use hotpapers::http::{HttpClient, HttpOptions, RetryPolicy, user_agent};
use hotpapers::progress::{NoProgress, Progress};
use url::Url;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const CURRENT: &str = include_str!("fixtures/arxiv_api_query_current_format.xml");
const LEGACY: &str = include_str!("fixtures/arxiv_api_query_legacy_format_docs.xml");
const ERROR_FEED: &str = include_str!("fixtures/arxiv_api_error_malformed_id.xml");
const RSS: &str = include_str!("fixtures/arxiv_rss_math_OC_RECONSTRUCTED_from_spec.xml");

const MAX_RETRIES: u32 = 2;

struct Harness {
    server: MockServer,
    client: ArxivClient,
    clock: FakeClock,
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 12, 0, 0).unwrap()
}

async fn harness_with(spacing: Duration, page_size: u32, batch: usize) -> Harness {
    let server = MockServer::start().await;
    let clock = FakeClock::new(t0());
    let http = HttpClient::new(
        HttpOptions {
            timeout: Duration::from_secs(5),
            max_body_bytes: 1 << 20,
            user_agent: user_agent("tests@example.org"),
            retry: RetryPolicy {
                max_retries: MAX_RETRIES,
                base_delay: Duration::from_secs(1),
                max_delay: Duration::from_secs(60),
            },
        },
        Arc::new(clock.clone()),
    )
    .unwrap()
    .with_jitter_seed(3);
    let opts = ArxivOptions {
        api_url: Url::parse(&format!("{}/api/query", server.uri())).unwrap(),
        rss_url: Url::parse(&format!("{}/rss", server.uri())).unwrap(),
        request_spacing: spacing,
        page_size,
        id_batch_size: batch,
        max_empty_page_retries: 2,
    };
    let client = ArxivClient::new(opts, http, Arc::new(clock.clone()));
    Harness {
        server,
        client,
        clock,
    }
}

async fn harness() -> Harness {
    harness_with(Duration::ZERO, 2, 200).await
}

fn ids(list: &[&str]) -> Vec<ArxivId> {
    list.iter().map(|s| ArxivId::parse(s).unwrap()).collect()
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

/// A minimal current-layout entry.
fn entry(id_with_version: &str, published: &str) -> String {
    format!(
        r#"<entry><id>http://arxiv.org/abs/{id_with_version}</id><title>Paper {id_with_version}</title><updated>{published}</updated><link href="https://arxiv.org/abs/{id_with_version}" rel="alternate" type="text/html"/><summary>About {id_with_version}.</summary><category term="cs.LG" scheme="http://arxiv.org/schemas/atom"/><published>{published}</published><arxiv:primary_category term="cs.LG"/><author><name>A. Author</name></author></entry>"#
    )
}

/// A current-layout result page.
fn page(total: u64, start: u64, entries: &[String]) -> String {
    format!(
        r#"<?xml version='1.0' encoding='UTF-8'?>
<feed xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns="http://www.w3.org/2005/Atom"><id>https://arxiv.org/api/test</id><title>arXiv Query: test</title><updated>2026-03-02T12:00:00Z</updated><opensearch:itemsPerPage>{}</opensearch:itemsPerPage><opensearch:totalResults>{total}</opensearch:totalResults><opensearch:startIndex>{start}</opensearch:startIndex>{}</feed>"#,
        entries.len(),
        entries.concat()
    )
}

fn xml(body: impl Into<String>) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .insert_header("content-type", "application/atom+xml; charset=utf-8")
        .set_body_string(body.into())
}

fn keys(papers: &[hotpapers::arxiv::paper::Paper]) -> Vec<String> {
    papers.iter().map(|p| p.id.key().to_string()).collect()
}

/// Records progress calls to check totals and advances.
#[derive(Default)]
struct Recorder(Mutex<Vec<String>>);

impl Progress for Recorder {
    fn start(&self, label: &str, total: Option<u64>) {
        self.0
            .lock()
            .unwrap()
            .push(format!("start {label} {total:?}"));
    }
    fn set_total(&self, total: u64) {
        self.0.lock().unwrap().push(format!("total {total}"));
    }
    fn advance(&self, n: u64) {
        self.0.lock().unwrap().push(format!("advance {n}"));
    }
    fn finish(&self) {
        self.0.lock().unwrap().push("finish".into());
    }
}

#[tokio::test]
async fn fetch_ids_reads_current_fixture_in_input_order() {
    let h = harness().await;
    let wanted = ids(&[
        "2401.04670",
        "2403.17411",
        "2412.00001", // not in the answer: simply absent
        "2507.20198",
        "2403.17411", // duplicate: asked once
        "2306.14152",
        "2409.17625",
        "2609.08574",
    ]);
    Mock::given(method("GET"))
        .and(path("/api/query"))
        .and(query_param(
            "id_list",
            "2401.04670,2403.17411,2412.00001,2507.20198,2306.14152,2409.17625,2609.08574",
        ))
        .and(query_param("max_results", "7"))
        .respond_with(xml(CURRENT))
        .expect(1)
        .mount(&h.server)
        .await;
    let rec = Recorder::default();
    let papers = h.client.fetch_ids(&wanted, &rec).await.unwrap();
    assert_eq!(
        keys(&papers),
        [
            "2401.04670",
            "2403.17411",
            "2507.20198",
            "2306.14152",
            "2409.17625",
            "2609.08574"
        ]
    );
    let versions: Vec<u32> = papers.iter().map(|p| p.version).collect();
    assert_eq!(versions, [1, 1, 5, 1, 3, 1]);
    assert_eq!(
        papers[0].doi.as_deref(),
        Some("10.1109/DCC58796.2024.00080")
    );
    let events = rec.0.lock().unwrap().clone();
    assert_eq!(
        events.first().map(String::as_str),
        Some("start Fetching papers from arXiv Some(7)")
    );
    assert!(events.contains(&"advance 7".to_string()), "{events:?}");
    assert_eq!(events.last().map(String::as_str), Some("finish"));
}

#[tokio::test]
async fn fetch_ids_reads_legacy_fixture_with_old_style_id() {
    let h = harness().await;
    Mock::given(path("/api/query"))
        .and(query_param("id_list", "hep-ex/0307015"))
        .and(query_param("max_results", "1"))
        .respond_with(xml(LEGACY))
        .expect(1)
        .mount(&h.server)
        .await;
    let papers = h
        .client
        .fetch_ids(&ids(&["hep-ex/0307015"]), &NoProgress)
        .await
        .unwrap();
    assert_eq!(keys(&papers), ["hep-ex/0307015"]);
    assert_eq!(papers[0].version, 1);
    assert_eq!(
        papers[0].title,
        "Multi-Electron Production at High Transverse Momenta in ep Collisions at HERA"
    );
    // The slash travels percent-encoded; arXiv decodes it.
    let reqs = requests(&h.server).await;
    assert!(
        reqs[0]
            .url
            .query()
            .unwrap()
            .contains("id_list=hep-ex%2F0307015"),
        "{}",
        reqs[0].url
    );
}

#[tokio::test]
async fn fetch_ids_sends_old_style_and_versioned_ids_as_given() {
    let h = harness().await;
    Mock::given(path("/api/query"))
        .respond_with(xml(page(0, 0, &[])))
        .expect(1)
        .mount(&h.server)
        .await;
    let wanted = ids(&[
        "hep-th/9901001",
        "math.GT/0309136",
        "2107.00641v2",
        "2107.00641",
    ]);
    let papers = h.client.fetch_ids(&wanted, &NoProgress).await.unwrap();
    assert!(papers.is_empty());
    let reqs = requests(&h.server).await;
    let expected: Vec<String> = wanted.iter().map(ToString::to_string).collect();
    assert_eq!(param(&reqs[0], "id_list"), Some(expected.join(",")));
    let list = param(&reqs[0], "id_list").unwrap();
    assert!(list.starts_with("hep-th/9901001,"), "{list}");
    assert!(list.contains("2107.00641v2,2107.00641"), "{list}");
    assert_eq!(param(&reqs[0], "max_results").as_deref(), Some("4"));
}

#[tokio::test]
async fn fetch_ids_picks_the_requested_version() {
    let h = harness().await;
    let body = page(
        2,
        0,
        &[
            entry("2107.00641v1", "2021-07-01T17:00:00Z"),
            entry("2107.00641v3", "2021-07-01T17:00:00Z"),
        ],
    );
    Mock::given(path("/api/query"))
        .respond_with(xml(body))
        .mount(&h.server)
        .await;
    let got = h
        .client
        .fetch_ids(&ids(&["2107.00641", "2107.00641v1"]), &NoProgress)
        .await
        .unwrap();
    let versions: Vec<u32> = got.iter().map(|p| p.version).collect();
    assert_eq!(versions, [3, 1]);
}

#[tokio::test]
async fn fetch_ids_450_ids_go_in_three_batches() {
    let h = harness().await;
    Mock::given(path("/api/query"))
        .respond_with(xml(page(0, 0, &[])))
        .expect(3)
        .mount(&h.server)
        .await;
    let all: Vec<String> = (1..=450).map(|n| format!("2101.{n:05}")).collect();
    let wanted: Vec<ArxivId> = all.iter().map(|s| ArxivId::parse(s).unwrap()).collect();
    h.client.fetch_ids(&wanted, &NoProgress).await.unwrap();
    let reqs = requests(&h.server).await;
    let sizes: Vec<(usize, String)> = reqs
        .iter()
        .map(|r| {
            let list = param(r, "id_list").unwrap();
            (list.split(',').count(), param(r, "max_results").unwrap())
        })
        .collect();
    assert_eq!(
        sizes,
        [
            (200, "200".to_string()),
            (200, "200".to_string()),
            (50, "50".to_string())
        ]
    );
    // Every id asked exactly once, in order.
    let sent: Vec<String> = reqs
        .iter()
        .flat_map(|r| {
            param(r, "id_list")
                .unwrap()
                .split(',')
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(sent, all);
}

#[tokio::test]
async fn fetch_ids_with_nothing_asked_sends_nothing() {
    let h = harness().await;
    assert!(
        h.client
            .fetch_ids(&[], &NoProgress)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(requests(&h.server).await.is_empty());
}

/// Mounts a 5-result search served in pages of 2.
async fn mount_five(h: &Harness, pages: [&[String]; 3]) {
    for (i, entries) in pages.iter().enumerate() {
        let start = (i * 2) as u64;
        Mock::given(path("/api/query"))
            .and(query_param("start", start.to_string()))
            .respond_with(xml(page(5, start, entries)))
            .mount(&h.server)
            .await;
    }
}

fn e(n: u32) -> String {
    entry(&format!("2603.{n:05}v1"), "2026-03-01T10:00:00Z")
}

#[tokio::test]
async fn search_pages_until_total_results() {
    let h = harness().await;
    mount_five(&h, [&[e(1), e(2)], &[e(3), e(4)], &[e(5)]]).await;
    let rec = Recorder::default();
    let papers = h
        .client
        .search("cat:cs.LG AND ti:diffusion", Sort::NEWEST, &rec)
        .await
        .unwrap();
    assert_eq!(
        keys(&papers),
        [
            "2603.00001",
            "2603.00002",
            "2603.00003",
            "2603.00004",
            "2603.00005"
        ]
    );
    let reqs = requests(&h.server).await;
    let params: Vec<(String, String)> = reqs
        .iter()
        .map(|r| (param(r, "start").unwrap(), param(r, "max_results").unwrap()))
        .collect();
    assert_eq!(
        params,
        [
            ("0".into(), "2".into()),
            ("2".into(), "2".into()),
            ("4".into(), "2".into())
        ]
    );
    for r in &reqs {
        assert_eq!(
            param(r, "search_query").as_deref(),
            Some("cat:cs.LG AND ti:diffusion")
        );
        assert_eq!(param(r, "sortBy").as_deref(), Some("submittedDate"));
        assert_eq!(param(r, "sortOrder").as_deref(), Some("descending"));
    }
    let events = rec.0.lock().unwrap().clone();
    assert!(events.contains(&"total 5".to_string()), "{events:?}");
    let advanced: u64 = events
        .iter()
        .filter_map(|e| e.strip_prefix("advance "))
        .map(|n| n.parse::<u64>().unwrap())
        .sum();
    assert_eq!(advanced, 5);
    assert_eq!(events.last().map(String::as_str), Some("finish"));
}

#[tokio::test]
async fn search_dedups_overlapping_pages() {
    let h = harness().await;
    // arXiv inserted a paper between requests: page 2 repeats the end of page 1.
    mount_five(&h, [&[e(1), e(2)], &[e(2), e(3)], &[e(4)]]).await;
    let papers = h
        .client
        .search("cat:cs.LG", Sort::OLDEST, &NoProgress)
        .await
        .unwrap();
    assert_eq!(
        keys(&papers),
        ["2603.00001", "2603.00002", "2603.00003", "2603.00004"]
    );
}

#[tokio::test]
async fn search_limited_asks_only_for_what_it_needs() {
    let h = harness_with(Duration::ZERO, 10, 200).await;
    Mock::given(path("/api/query"))
        .and(query_param("max_results", "3"))
        .respond_with(xml(page(1_435_012, 0, &[e(1), e(2), e(3)])))
        .expect(1)
        .mount(&h.server)
        .await;
    let papers = h
        .client
        .search_limited("all:attention", Sort::RELEVANCE, Some(3), &NoProgress)
        .await
        .unwrap();
    assert_eq!(papers.len(), 3);
}

#[tokio::test]
async fn search_rereads_total_on_every_page() {
    let h = harness().await;
    // First page says 5, second says 3 (papers withdrawn from the index): stop at 3.
    Mock::given(path("/api/query"))
        .and(query_param("start", "0"))
        .respond_with(xml(page(5, 0, &[e(1), e(2)])))
        .mount(&h.server)
        .await;
    Mock::given(path("/api/query"))
        .and(query_param("start", "2"))
        .respond_with(xml(page(3, 2, &[e(3)])))
        .mount(&h.server)
        .await;
    let papers = h
        .client
        .search("cat:cs.LG", Sort::OLDEST, &NoProgress)
        .await
        .unwrap();
    assert_eq!(papers.len(), 3);
    assert_eq!(requests(&h.server).await.len(), 2);
}

#[tokio::test]
async fn empty_page_before_total_is_retried() {
    let h = harness().await;
    Mock::given(path("/api/query"))
        .and(query_param("start", "2"))
        .respond_with(xml(page(5, 2, &[])))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&h.server)
        .await;
    mount_five(&h, [&[e(1), e(2)], &[e(3), e(4)], &[e(5)]]).await;
    let papers = h
        .client
        .search("cat:cs.LG", Sort::OLDEST, &NoProgress)
        .await
        .unwrap();
    assert_eq!(papers.len(), 5);
    let starts: Vec<String> = requests(&h.server)
        .await
        .iter()
        .map(|r| param(r, "start").unwrap())
        .collect();
    assert_eq!(starts, ["0", "2", "2", "4"]);
}

#[tokio::test]
async fn empty_pages_forever_give_incomplete() {
    let h = harness().await;
    Mock::given(path("/api/query"))
        .and(query_param("start", "0"))
        .respond_with(xml(page(5, 0, &[e(1), e(2)])))
        .expect(1)
        .mount(&h.server)
        .await;
    Mock::given(path("/api/query"))
        .and(query_param("start", "2"))
        .respond_with(xml(page(5, 2, &[])))
        .expect(3) // first try + max_empty_page_retries (2)
        .mount(&h.server)
        .await;
    let err = h
        .client
        .search("cat:cs.LG", Sort::OLDEST, &NoProgress)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            ArxivError::Incomplete {
                expected: 5,
                got: 2
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("try again later"), "{err}");
}

#[tokio::test]
async fn empty_result_is_ok() {
    let h = harness().await;
    Mock::given(path("/api/query"))
        .respond_with(xml(page(0, 0, &[])))
        .expect(1)
        .mount(&h.server)
        .await;
    let papers = h
        .client
        .search("ti:zzzzqqq", Sort::RELEVANCE, &NoProgress)
        .await
        .unwrap();
    assert!(papers.is_empty());
}

#[tokio::test]
async fn rejected_entries_are_skipped_but_count_as_positions() {
    let h = harness().await;
    let broken =
        r#"<entry><id>http://arxiv.org/abs/2603.00009v1</id><title>No dates</title></entry>"#;
    Mock::given(path("/api/query"))
        .respond_with(xml(page(2, 0, &[e(1), broken.to_string()])))
        .expect(1)
        .mount(&h.server)
        .await;
    let papers = h
        .client
        .search("cat:cs.LG", Sort::OLDEST, &NoProgress)
        .await
        .unwrap();
    assert_eq!(keys(&papers), ["2603.00001"]);
}

#[tokio::test]
async fn server_error_then_success() {
    let h = harness().await;
    Mock::given(path("/api/query"))
        .respond_with(ResponseTemplate::new(503).set_body_string("<html>down</html>"))
        .up_to_n_times(1)
        .with_priority(1)
        .expect(1)
        .mount(&h.server)
        .await;
    Mock::given(path("/api/query"))
        .respond_with(xml(page(1, 0, &[e(1)])))
        .expect(1)
        .mount(&h.server)
        .await;
    let papers = h
        .client
        .search("cat:cs.LG", Sort::OLDEST, &NoProgress)
        .await
        .unwrap();
    assert_eq!(papers.len(), 1);
}

#[tokio::test]
async fn too_many_requests_waits_retry_after_then_succeeds() {
    let h = harness().await;
    Mock::given(path("/api/query"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "7"))
        .up_to_n_times(1)
        .with_priority(1)
        .expect(1)
        .mount(&h.server)
        .await;
    Mock::given(path("/api/query"))
        .respond_with(xml(page(1, 0, &[e(1)])))
        .expect(1)
        .mount(&h.server)
        .await;
    let papers = h
        .client
        .fetch_ids(&ids(&["2603.00001"]), &NoProgress)
        .await
        .unwrap();
    assert_eq!(papers.len(), 1);
    assert_eq!(h.clock.sleeps(), [Duration::from_secs(7)]);
}

#[tokio::test]
async fn rate_exceeded_text_is_retried() {
    let h = harness().await;
    Mock::given(path("/api/query"))
        .respond_with(ResponseTemplate::new(200).set_body_string("Rate exceeded."))
        .up_to_n_times(1)
        .with_priority(1)
        .expect(1)
        .mount(&h.server)
        .await;
    Mock::given(path("/api/query"))
        .respond_with(xml(CURRENT))
        .expect(1)
        .mount(&h.server)
        .await;
    let papers = h
        .client
        .fetch_ids(&ids(&["2403.17411"]), &NoProgress)
        .await
        .unwrap();
    assert_eq!(keys(&papers), ["2403.17411"]);
}

#[tokio::test]
async fn rate_exceeded_forever_says_so() {
    let h = harness().await;
    Mock::given(path("/api/query"))
        .respond_with(ResponseTemplate::new(200).set_body_string("Rate exceeded."))
        .expect(u64::from(MAX_RETRIES) + 1)
        .mount(&h.server)
        .await;
    let err = h
        .client
        .fetch_ids(&ids(&["2403.17411"]), &NoProgress)
        .await
        .unwrap_err();
    assert!(matches!(err, ArxivError::Http(_)), "{err:?}");
    assert!(
        err.to_string()
            .starts_with("arXiv is rate-limiting; try again later"),
        "{err}"
    );
}

#[tokio::test]
async fn truncated_xml_forever_is_a_parse_error_after_bounded_attempts() {
    let h = harness().await;
    let truncated = &CURRENT[..CURRENT.len() / 2];
    Mock::given(path("/api/query"))
        .respond_with(xml(truncated))
        .expect(u64::from(MAX_RETRIES) + 1)
        .mount(&h.server)
        .await;
    let err = h
        .client
        .search("cat:cs.LG", Sort::OLDEST, &NoProgress)
        .await
        .unwrap_err();
    match &err {
        ArxivError::Parse(msg) => assert!(msg.contains("3 attempts"), "{msg}"),
        other => panic!("expected Parse, got {other:?}"),
    }
}

#[tokio::test]
async fn truncated_then_complete_succeeds() {
    let h = harness().await;
    Mock::given(path("/api/query"))
        .respond_with(xml(&CURRENT[..CURRENT.len() - 40]))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&h.server)
        .await;
    Mock::given(path("/api/query"))
        .respond_with(xml(CURRENT))
        .expect(1)
        .mount(&h.server)
        .await;
    let papers = h
        .client
        .fetch_ids(&ids(&["2401.04670"]), &NoProgress)
        .await
        .unwrap();
    assert_eq!(keys(&papers), ["2401.04670"]);
}

#[tokio::test]
async fn error_feed_is_an_api_error_and_not_retried() {
    for status in [200, 400] {
        let h = harness().await;
        Mock::given(path("/api/query"))
            .respond_with(ResponseTemplate::new(status).set_body_string(ERROR_FEED))
            .expect(1)
            .mount(&h.server)
            .await;
        let err = h
            .client
            .fetch_ids(&ids(&["2107.00641"]), &NoProgress)
            .await
            .unwrap_err();
        match &err {
            ArxivError::Api { message } => {
                assert_eq!(message, "incorrect id format for 1234.12345");
            }
            other => panic!("status {status}: expected Api, got {other:?}"),
        }
        assert!(!err.is_transient());
    }
}

#[tokio::test]
async fn not_found_status_is_not_retried() {
    let h = harness().await;
    Mock::given(path("/api/query"))
        .respond_with(ResponseTemplate::new(404).set_body_string("Not Found"))
        .expect(1)
        .mount(&h.server)
        .await;
    let err = h
        .client
        .search("cat:cs.LG", Sort::OLDEST, &NoProgress)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ArxivError::Http(e) if e.status() == Some(404)),
        "{err:?}"
    );
}

fn at(d: u32, h: u32, m: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2021, 7, d, h, m, s).unwrap()
}

#[tokio::test]
async fn submitted_between_filters_boundaries_and_sends_the_exact_query() {
    let h = harness_with(Duration::ZERO, 50, 200).await;
    let entries = [
        entry("2107.00001v1", "2021-07-01T17:59:59Z"), // 1 s before start: out
        entry("2107.00002v1", "2021-07-01T18:00:00Z"), // exactly start: in
        entry("2107.00003v2", "2021-07-02T03:12:45Z"), // middle: in
        entry("2107.00004v1", "2021-07-02T17:59:59Z"), // 1 s before end: in
        entry("2107.00005v1", "2021-07-02T18:00:00Z"), // exactly end: out
        entry("2107.00006v1", "2021-07-02T18:00:01Z"), // after end: out
    ];
    Mock::given(path("/api/query"))
        .respond_with(xml(page(6, 0, &entries)))
        .expect(1)
        .mount(&h.server)
        .await;
    let start = at(1, 18, 0, 0);
    let end = at(2, 18, 0, 0);
    let papers = h
        .client
        .submitted_between(&["cs.LG".into(), "stat.ML".into()], start, end, &NoProgress)
        .await
        .unwrap();
    assert_eq!(keys(&papers), ["2107.00002", "2107.00003", "2107.00004"]);
    let reqs = requests(&h.server).await;
    let r = &reqs[0];
    assert_eq!(
        param(r, "search_query").as_deref(),
        Some("submittedDate:[202107011800 TO 202107021800] AND (cat:cs.LG OR cat:stat.ML)")
    );
    // What goes over the wire: `+` between terms, reserved characters percent-encoded.
    let raw = r.url.query().unwrap();
    assert!(
        raw.contains(
            "search_query=submittedDate%3A%5B202107011800+TO+202107021800%5D+AND+%28cat%3Acs.LG+OR+cat%3Astat.ML%29"
        ),
        "{raw}"
    );
    assert!(!raw.contains(' '), "{raw}");
    assert_eq!(param(r, "sortBy").as_deref(), Some("submittedDate"));
    assert_eq!(param(r, "sortOrder").as_deref(), Some("ascending"));
    assert_eq!(param(r, "start").as_deref(), Some("0"));
    assert_eq!(param(r, "max_results").as_deref(), Some("50"));
}

#[tokio::test]
async fn submitted_between_without_categories_covers_all_of_arxiv() {
    let h = harness_with(Duration::ZERO, 50, 200).await;
    Mock::given(path("/api/query"))
        .respond_with(xml(page(0, 0, &[])))
        .expect(1)
        .mount(&h.server)
        .await;
    // Seconds in the window: minutes are widened outwards.
    h.client
        .submitted_between(&[], at(1, 17, 59, 30), at(2, 18, 0, 1), &NoProgress)
        .await
        .unwrap();
    let reqs = requests(&h.server).await;
    assert_eq!(
        param(&reqs[0], "search_query").as_deref(),
        Some("submittedDate:[202107011759 TO 202107021801]")
    );
}

#[tokio::test]
async fn submitted_between_empty_window_or_bad_category_sends_nothing() {
    let h = harness().await;
    let papers = h
        .client
        .submitted_between(&[], at(2, 0, 0, 0), at(2, 0, 0, 0), &NoProgress)
        .await
        .unwrap();
    assert!(papers.is_empty());
    let err = h
        .client
        .submitted_between(
            &["cs.LG) OR all:(x".into()],
            at(1, 0, 0, 0),
            at(2, 0, 0, 0),
            &NoProgress,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, ArxivError::Invalid(_)), "{err:?}");
    assert!(requests(&h.server).await.is_empty());
}

#[tokio::test]
async fn requests_are_spaced_by_the_pacer() {
    let h = harness_with(Duration::from_secs(3), 2, 200).await;
    Mock::given(path("/api/query"))
        .respond_with(xml(page(0, 0, &[])))
        .expect(3)
        .mount(&h.server)
        .await;
    let one = ids(&["2603.00001"]);
    h.client.fetch_ids(&one, &NoProgress).await.unwrap();
    h.clock.advance(Duration::from_secs(1)); // one second passes between calls
    h.client.fetch_ids(&one, &NoProgress).await.unwrap();
    // A clone shares the pacer.
    h.client.clone().fetch_ids(&one, &NoProgress).await.unwrap();
    assert_eq!(
        h.clock.sleeps(),
        [Duration::from_secs(2), Duration::from_secs(3)]
    );
}

#[tokio::test]
async fn concurrent_calls_are_serialized() {
    let h = harness_with(Duration::from_secs(3), 2, 200).await;
    Mock::given(path("/api/query"))
        .respond_with(xml(page(0, 0, &[])).set_delay(Duration::from_millis(20)))
        .expect(2)
        .mount(&h.server)
        .await;
    let a = ids(&["2603.00001"]);
    let b = ids(&["2603.00002"]);
    let (ra, rb) = tokio::join!(
        h.client.fetch_ids(&a, &NoProgress),
        h.client.fetch_ids(&b, &NoProgress)
    );
    ra.unwrap();
    rb.unwrap();
    // The second waited its full spacing: the first held the pacer during its request.
    assert_eq!(h.clock.sleeps(), [Duration::from_secs(3)]);
}

#[tokio::test]
async fn rss_fixture_is_fetched_and_parsed() {
    let h = harness().await;
    Mock::given(method("GET"))
        .and(path("/rss/math.OC"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "application/rss+xml")
                .set_body_string(RSS),
        )
        .expect(1)
        .mount(&h.server)
        .await;
    let feed = h.client.fetch_rss("math.OC").await.unwrap();
    assert_eq!(feed.title, "math.OC updates on arXiv.org");
    assert_eq!(feed.items.len(), 1);
    assert_eq!(feed.items[0].id.to_string(), "2203.01250v3");
}

const EMPTY_CHANNEL: &str = r#"<?xml version='1.0' encoding='UTF-8'?>
<rss xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom" xmlns:content="http://purl.org/rss/1.0/modules/content/" version="2.0">
  <channel>
    <title>cs.LG, stat.ML updates on arXiv.org</title>
    <link>http://rss.arxiv.org/rss/cs+stat.ML</link>
    <description>cs.LG, stat.ML updates on the arXiv.org e-print archive.</description>
    <atom:link href="http://rss.arxiv.org/rss/cs+stat.ML" rel="self" type="application/rss+xml"/>
    <docs>http://www.rssboard.org/rss-specification</docs>
    <language>en-us</language>
    <lastBuildDate>Sat, 21 Sep 2025 04:00:01 +0000</lastBuildDate>
    <managingEditor>rss-help@arxiv.org</managingEditor>
    <pubDate>Sat, 21 Sep 2025 00:00:00 -0400</pubDate>
    <skipDays>
      <day>Saturday</day>
      <day>Sunday</day>
    </skipDays>
  </channel>
</rss>"#;

#[tokio::test]
async fn rss_empty_channel_is_ok_and_multi_category_path_is_kept() {
    let h = harness().await;
    Mock::given(path("/rss/cs+stat.ML"))
        .respond_with(ResponseTemplate::new(200).set_body_string(EMPTY_CHANNEL))
        .expect(1)
        .mount(&h.server)
        .await;
    let feed = h.client.fetch_rss("cs+stat.ML").await.unwrap();
    assert!(feed.items.is_empty());
    assert_eq!(feed.title, "cs.LG, stat.ML updates on arXiv.org");
}

#[tokio::test]
async fn rss_feed_error_is_reported_and_not_retried() {
    let h = harness().await;
    let body = r#"<?xml version='1.0' encoding='UTF-8'?>
<rss xmlns:atom="http://www.w3.org/2005/Atom" xmlns:content="http://purl.org/rss/1.0/modules/content/" version="2.0">
  <channel>
    <title>Feed error for query: https://rss.arxiv.org/rss/cs.XX</title>
    <link>https://rss.arxiv.org/rss/cs.XX</link>
    <description>Bad subject class 'XX'. Valid subject classes for the archive 'cs' are: AI, AR, CC</description>
    <atom:link href="https://rss.arxiv.org/rss/cs.XX" rel="self" type="application/rss+xml"/>
    <docs>http://www.rssboard.org/rss-specification</docs>
    <language>en-us</language>
    <managingEditor>rss-help.arxiv.org</managingEditor>
    <pubDate>Mon, 02 Mar 2026 00:00:00 -0500</pubDate>
  </channel>
</rss>"#;
    Mock::given(path("/rss/cs.XX"))
        .respond_with(ResponseTemplate::new(400).set_body_string(body))
        .expect(1)
        .mount(&h.server)
        .await;
    let err = h.client.fetch_rss("cs.XX").await.unwrap_err();
    match &err {
        ArxivError::Feed(msg) => assert!(msg.starts_with("Bad subject class 'XX'"), "{msg}"),
        other => panic!("expected Feed, got {other:?}"),
    }
    assert!(
        err.to_string().contains("check the category names"),
        "{err}"
    );
}

#[tokio::test]
async fn rss_rate_exceeded_then_success() {
    let h = harness().await;
    Mock::given(path("/rss/math.OC"))
        .respond_with(ResponseTemplate::new(200).set_body_string("Rate exceeded."))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&h.server)
        .await;
    Mock::given(path("/rss/math.OC"))
        .respond_with(ResponseTemplate::new(200).set_body_string(RSS))
        .expect(1)
        .mount(&h.server)
        .await;
    let feed = h.client.fetch_rss("math.OC").await.unwrap();
    assert_eq!(feed.items.len(), 1);
}

#[tokio::test]
async fn rss_bad_feed_names_send_nothing() {
    let h = harness().await;
    for bad in ["", "../admin", "cs LG", "cs+", "cs/../x", "cs?x=1"] {
        let err = h.client.fetch_rss(bad).await.unwrap_err();
        assert!(matches!(err, ArxivError::Invalid(_)), "{bad}: {err:?}");
    }
    assert!(requests(&h.server).await.is_empty());
}

/// Defect 6: one invalid UTF-8 byte in one title failed the fetch after every retry ("at byte
/// 0"). It is read as U+FFFD on the first answer: all papers, one request.
#[tokio::test]
async fn an_invalid_byte_is_read_as_u_fffd_and_never_retried() {
    let h = harness().await;
    let needle = b"<title>A Survey";
    let at = CURRENT
        .as_bytes()
        .windows(needle.len())
        .position(|w| w == needle)
        .unwrap()
        + needle.len();
    let mut body = CURRENT.as_bytes().to_vec();
    body.insert(at, 0xFF);
    Mock::given(path("/api/query"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "application/atom+xml; charset=utf-8")
                .set_body_bytes(body),
        )
        .expect(1)
        .mount(&h.server)
        .await;
    let wanted: Vec<ArxivId> = hotpapers::arxiv::atom::parse_feed(CURRENT.as_bytes())
        .unwrap()
        .entries
        .into_iter()
        .map(|p| p.id.versionless())
        .collect();
    assert_eq!(wanted.len(), 6);
    let papers = h.client.fetch_ids(&wanted, &NoProgress).await.unwrap();
    assert_eq!(papers.len(), 6);
    let damaged: Vec<&str> = papers
        .iter()
        .map(|p| p.title.as_str())
        .filter(|t| t.contains('\u{FFFD}'))
        .collect();
    assert_eq!(damaged.len(), 1, "{damaged:?}");
    assert!(damaged[0].starts_with("A Survey\u{FFFD} of"), "{damaged:?}");
}
