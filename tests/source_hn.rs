//! The real `HnSource` against a loopback fake of Algolia's HN Search API.
//!
//! The recorded payloads (`hn_algolia_search_story.json`, current shape, an Ask HN hit without
//! `url`; `hn_algolia_search_url_numericfilters_legacy.json`, the older shape) are served
//! verbatim. No capture of a hit linking arXiv exists, so the other pages are BUILT: each hit is
//! the real current hit with `objectID`, `url`, `points`, `num_comments` and `created_at_i`
//! replaced, and the envelope follows the documented fields (`hits`, `nbHits`, `nbPages`,
//! `hitsPerPage`, `page`). `FakeAlgolia` answers like the real service: `query` words matched
//! against the words of the story URL (the last one as a prefix, so `arxiv.org` also finds
//! `doi.org/10.48550/arXiv.…` and `2107.00641` also finds `2107.006410`), `numericFilters` on
//! `created_at_i`, newest first, `page`/`hitsPerPage` paging and the 1000-hit cap per query. All waits go through a `FakeClock`.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use hotpapers::arxiv::ArxivId;
use hotpapers::clock::FakeClock;
use hotpapers::config::HnConfig;
use hotpapers::http::{HttpClient, HttpOptions, RetryPolicy, user_agent};
use hotpapers::sources::hn::HnSource;
use hotpapers::sources::{Source, SourceError, Window};
use hotpapers::store::Signal;
use serde_json::{Value, json};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const CURRENT: &str = include_str!("fixtures/hn_algolia_search_story.json");
const LEGACY: &str = include_str!("fixtures/hn_algolia_search_url_numericfilters_legacy.json");

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 12, 0, 0).unwrap()
}

/// The window of a typical daily sweep: the 24 hours before `t0`.
fn day() -> Window {
    Window {
        since: t0() - chrono::Duration::days(1),
        until: t0(),
    }
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
                max_retries: 3,
                base_delay: Duration::from_secs(1),
                max_delay: Duration::from_secs(30),
            },
        },
        Arc::new(clock.clone()),
    )
    .unwrap()
    .with_jitter_seed(7)
}

fn config(server: &MockServer) -> HnConfig {
    HnConfig {
        api_url: format!("{}/api/v1/", server.uri()),
        ..HnConfig::default()
    }
}

struct Harness {
    server: MockServer,
    clock: FakeClock,
    source: HnSource,
}

async fn harness_with(edit: impl FnOnce(&mut HnConfig)) -> Harness {
    let server = MockServer::start().await;
    let clock = FakeClock::new(t0());
    let mut cfg = config(&server);
    edit(&mut cfg);
    let source = HnSource::new(&cfg, http(&clock)).unwrap();
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

/// A story hit BUILT from the real current hit (see the module docs), with the text of the
/// recorded Ask HN post replaced by the `url` a link story has.
fn hit(object_id: u64, url: &str, points: u64, comments: u64, created_at_i: i64) -> Value {
    let real: Value = serde_json::from_str(CURRENT).unwrap();
    let mut h = real["hits"][0].clone();
    h["objectID"] = json!(object_id.to_string());
    h["story_id"] = json!(object_id);
    h["url"] = json!(url);
    h["points"] = json!(points);
    h["num_comments"] = json!(comments);
    h["created_at_i"] = json!(created_at_i);
    h["title"] = json!(format!("Story {object_id}"));
    // A link story has no text (the recorded hit is an Ask HN post with a long one).
    h["story_text"] = Value::Null;
    h["_highlightResult"]["story_text"] = Value::Null;
    h["_highlightResult"]["url"] = json!({"matchLevel": "full", "matchedWords": [], "value": url});
    h
}

/// A fake Algolia over a fixed set of hits; see the module docs. Records every request.
#[derive(Clone)]
struct FakeAlgolia {
    hits: Arc<Vec<Value>>,
    seen: Arc<Mutex<Vec<Request>>>,
}

impl FakeAlgolia {
    fn new(hits: Vec<Value>) -> Self {
        FakeAlgolia {
            hits: Arc::new(hits),
            seen: Arc::default(),
        }
    }

    fn requests(&self) -> Vec<Request> {
        self.seen.lock().unwrap().clone()
    }

    async fn mount(&self, server: &MockServer) {
        Mock::given(method("GET"))
            .and(path("/api/v1/search_by_date"))
            .respond_with(self.clone())
            .mount(server)
            .await;
    }
}

/// `created_at_i>=A,created_at_i<B` → (A, B).
fn numeric_range(filters: &str) -> (i64, i64) {
    let mut lo = i64::MIN;
    let mut hi = i64::MAX;
    for f in filters.split(',') {
        if let Some(v) = f.strip_prefix("created_at_i>=") {
            lo = v.parse().unwrap();
        } else if let Some(v) = f.strip_prefix("created_at_i<") {
            hi = v.parse().unwrap();
        } else {
            panic!("unexpected numeric filter {f}");
        }
    }
    (lo, hi)
}

fn words(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Algolia-like matching: every query word is a word of the URL, the last one as a prefix.
fn url_matches(url: &str, query: &str) -> bool {
    let url_words = words(url);
    let query_words = words(query);
    query_words.iter().enumerate().all(|(i, q)| {
        url_words.iter().any(|w| {
            if i + 1 == query_words.len() {
                w.starts_with(q.as_str())
            } else {
                w == q
            }
        })
    })
}

impl Respond for FakeAlgolia {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        self.seen.lock().unwrap().push(req.clone());
        assert_eq!(
            param(req, "restrictSearchableAttributes").as_deref(),
            Some("url")
        );
        assert_eq!(param(req, "tags").as_deref(), Some("story"));
        let query = param(req, "query").unwrap();
        let (lo, hi) = param(req, "numericFilters")
            .map(|f| numeric_range(&f))
            .unwrap_or((i64::MIN, i64::MAX));
        let per_page: usize = param(req, "hitsPerPage").unwrap().parse().unwrap();
        let page: usize = param(req, "page").unwrap().parse().unwrap();
        let mut matching: Vec<&Value> = self
            .hits
            .iter()
            .filter(|h| h["url"].as_str().is_some_and(|u| url_matches(u, &query)))
            .filter(|h| {
                let t = h["created_at_i"].as_i64().unwrap();
                lo <= t && t < hi
            })
            .collect();
        matching.sort_by_key(|h| std::cmp::Reverse(h["created_at_i"].as_i64().unwrap()));
        let nb_hits = matching.len();
        let servable = nb_hits.min(1000);
        let nb_pages = servable.div_ceil(per_page);
        let start = (page * per_page).min(servable);
        let end = (start + per_page).min(servable);
        let body = json!({
            "exhaustive": {"nbHits": true, "typo": true},
            "exhaustiveNbHits": true,
            "hits": matching[start..end],
            "hitsPerPage": per_page,
            "nbHits": nb_hits,
            "nbPages": nb_pages,
            "page": page,
            "params": req.url.query().unwrap_or_default(),
            "query": query,
        });
        ResponseTemplate::new(200).set_body_json(body)
    }
}

fn values(signals: &[Signal]) -> Vec<(String, &str, f64)> {
    signals
        .iter()
        .map(|s| (s.paper.key().to_string(), s.metric.as_str(), s.value))
        .collect()
}

fn in_day(minutes_before_t0: i64) -> i64 {
    (t0() - chrono::Duration::minutes(minutes_before_t0)).timestamp()
}

#[tokio::test]
async fn every_url_form_counts_for_the_same_paper_once_per_story() {
    let h = harness().await;
    let hits = vec![
        hit(1, "https://arxiv.org/abs/2107.00641", 100, 40, in_day(10)),
        hit(
            2,
            "http://arxiv.org/pdf/2107.00641v2.pdf",
            10,
            4,
            in_day(20),
        ),
        hit(3, "https://arxiv.org/html/2107.00641v1", 1, 1, in_day(30)),
        hit(
            4,
            "https://export.arxiv.org/abs/2107.00641?context=cs",
            2,
            0,
            in_day(40),
        ),
        hit(
            5,
            "https://doi.org/10.48550/arXiv.2107.00641",
            3,
            0,
            in_day(50),
        ),
        hit(
            6,
            "https://www.alphaxiv.org/abs/2107.00641",
            5,
            2,
            in_day(60),
        ),
        hit(
            7,
            "https://huggingface.co/papers/2107.00641",
            7,
            3,
            in_day(70),
        ),
        // Matches both "arxiv.org" and "alphaxiv.org" queries: counted once.
        hit(
            8,
            "https://alphaxiv.org/abs/2107.00641#arxiv.org",
            1000,
            0,
            in_day(80),
        ),
        // Another paper, a non-paper arXiv page and a story outside the window.
        hit(9, "https://arxiv.org/abs/2107.00642", 8, 8, in_day(90)),
        hit(
            10,
            "https://arxiv.org/list/cs.LG/recent",
            99,
            99,
            in_day(100),
        ),
        hit(
            11,
            "https://arxiv.org/abs/2107.00641",
            500,
            500,
            in_day(60 * 25),
        ),
    ];
    let fake = FakeAlgolia::new(hits);
    fake.mount(&h.server).await;

    let got = h
        .source
        .collect(day(), &BTreeSet::new(), t0())
        .await
        .unwrap();
    assert_eq!(
        values(&got.signals),
        vec![
            ("2107.00641".into(), "comments", 50.0),
            ("2107.00641".into(), "points", 1128.0),
            ("2107.00642".into(), "comments", 8.0),
            ("2107.00642".into(), "points", 8.0),
        ]
    );
    assert!(
        got.signals
            .iter()
            .all(|s| s.source == "hn" && s.observed_at == t0() && s.paper.version().is_none())
    );
    assert_eq!(got.mentions, 9);
    // One request per host on an ordinary day.
    assert_eq!(got.requests, 3);
    let reqs = fake.requests();
    assert_eq!(reqs.len(), 3);
    let queries: Vec<String> = reqs.iter().map(|r| param(r, "query").unwrap()).collect();
    assert_eq!(
        queries,
        ["arxiv.org", "alphaxiv.org", "huggingface.co/papers"]
    );
    let expected_filter = format!(
        "created_at_i>={},created_at_i<{}",
        day().since.timestamp(),
        day().until.timestamp()
    );
    for r in &reqs {
        assert_eq!(r.url.path(), "/api/v1/search_by_date");
        assert_eq!(param(r, "numericFilters"), Some(expected_filter.clone()));
        assert_eq!(param(r, "hitsPerPage").as_deref(), Some("1000"));
        assert_eq!(param(r, "page").as_deref(), Some("0"));
    }
    assert!(h.clock.sleeps().is_empty());
}

#[tokio::test]
async fn only_requested_papers_are_returned() {
    let h = harness().await;
    let fake = FakeAlgolia::new(vec![
        hit(1, "https://arxiv.org/abs/2107.00641", 10, 1, in_day(1)),
        hit(2, "https://arxiv.org/abs/2107.00642", 20, 2, in_day(2)),
        hit(
            3,
            "https://arxiv.org/abs/hep-th/9901001v2",
            30,
            3,
            in_day(3),
        ),
    ]);
    fake.mount(&h.server).await;
    let wanted: BTreeSet<ArxivId> = [id("2107.00642"), id("hep-th/9901001")].into();
    let got = h.source.collect(day(), &wanted, t0()).await.unwrap();
    assert_eq!(
        values(&got.signals),
        vec![
            ("hep-th/9901001".into(), "comments", 3.0),
            ("hep-th/9901001".into(), "points", 30.0),
            ("2107.00642".into(), "comments", 2.0),
            ("2107.00642".into(), "points", 20.0),
        ]
    );
    assert_eq!(got.mentions, 2);
}

#[tokio::test]
async fn recorded_payloads_parse_and_link_no_paper() {
    // Both real shapes: the current Ask HN hit (no `url`) and the old-shape GitHub story.
    let h = harness().await;
    Mock::given(query_param("query", "arxiv.org"))
        .respond_with(ResponseTemplate::new(200).set_body_string(CURRENT))
        .expect(1)
        .mount(&h.server)
        .await;
    Mock::given(query_param("query", "alphaxiv.org"))
        .respond_with(ResponseTemplate::new(200).set_body_string(LEGACY))
        .expect(1)
        .mount(&h.server)
        .await;
    Mock::given(query_param("query", "huggingface.co/papers"))
        .respond_with(ResponseTemplate::new(200).set_body_string(CURRENT))
        .expect(1)
        .mount(&h.server)
        .await;
    let got = h
        .source
        .collect(day(), &BTreeSet::new(), t0())
        .await
        .unwrap();
    assert!(got.signals.is_empty());
    assert_eq!(got.mentions, 0);
    // The legacy page claims 139 pages of 1 hit and 139 hits: under the cap, so no split, and
    // at 1000 hits per page Algolia serves one page, so no paging either.
    assert_eq!(got.requests, 3);
    assert!(got.notes.is_empty(), "{:?}", got.notes);
}

#[tokio::test]
async fn pages_are_followed_until_nb_pages() {
    let h = harness_with(|c| {
        c.hosts = vec!["arxiv.org".into()];
        c.hits_per_page = 2;
    })
    .await;
    let hits: Vec<Value> = (0..5)
        .map(|i| {
            hit(
                100 + i,
                "https://arxiv.org/abs/2107.00641",
                i + 1,
                1,
                in_day(i as i64 + 1),
            )
        })
        .collect();
    let fake = FakeAlgolia::new(hits);
    fake.mount(&h.server).await;
    let got = h
        .source
        .collect(day(), &BTreeSet::new(), t0())
        .await
        .unwrap();
    assert_eq!(
        values(&got.signals),
        vec![
            ("2107.00641".into(), "comments", 5.0),
            ("2107.00641".into(), "points", 15.0),
        ]
    );
    assert_eq!(got.requests, 3);
    let pages: Vec<String> = fake
        .requests()
        .iter()
        .map(|r| param(r, "page").unwrap())
        .collect();
    assert_eq!(pages, ["0", "1", "2"]);
}

/// 1500 stories in one day, each linking its own paper, 1 point each.
fn busy_day() -> Vec<Value> {
    (0..1500u64)
        .map(|i| {
            hit(
                i + 1,
                &format!("https://arxiv.org/abs/2107.{:05}", i + 1),
                1,
                0,
                day().since.timestamp() + (i as i64) * 57,
            )
        })
        .collect()
}

#[tokio::test]
async fn ranges_over_algolias_cap_are_halved() {
    let h = harness_with(|c| c.hosts = vec!["arxiv.org".into()]).await;
    let fake = FakeAlgolia::new(busy_day());
    fake.mount(&h.server).await;
    let got = h
        .source
        .collect(day(), &BTreeSet::new(), t0())
        .await
        .unwrap();
    let points: f64 = got
        .signals
        .iter()
        .filter(|s| s.metric == "points")
        .map(|s| s.value)
        .sum();
    assert_eq!(points, 1500.0, "every story counted once");
    assert_eq!(got.mentions, 1500);
    assert!(got.notes.is_empty(), "{:?}", got.notes);
    // The whole day (1500 > 1000), then its two halves (about 750 each).
    assert_eq!(got.requests, 3);
    let since = day().since.timestamp();
    let until = day().until.timestamp();
    let mid = since + (until - since) / 2;
    let filters: Vec<String> = fake
        .requests()
        .iter()
        .map(|r| param(r, "numericFilters").unwrap())
        .collect();
    assert_eq!(
        filters,
        [
            format!("created_at_i>={since},created_at_i<{until}"),
            format!("created_at_i>={mid},created_at_i<{until}"),
            format!("created_at_i>={since},created_at_i<{mid}"),
        ]
    );
}

#[tokio::test]
async fn splitting_stops_at_the_configured_depth_with_a_note() {
    let h = harness_with(|c| {
        c.hosts = vec!["arxiv.org".into()];
        c.max_split_depth = 0;
    })
    .await;
    let fake = FakeAlgolia::new(busy_day());
    fake.mount(&h.server).await;
    let got = h
        .source
        .collect(day(), &BTreeSet::new(), t0())
        .await
        .unwrap();
    assert_eq!(got.mentions, 1000, "Algolia serves the newest 1000");
    assert_eq!(got.requests, 1);
    assert_eq!(got.notes.len(), 1);
    assert!(got.notes[0].contains("1500 stories"), "{:?}", got.notes);
    assert!(got.notes[0].contains("arxiv.org"), "{:?}", got.notes);
}

#[tokio::test]
async fn a_window_without_stories_is_empty_and_an_empty_window_asks_nothing() {
    let h = harness().await;
    let fake = FakeAlgolia::new(vec![hit(
        1,
        "https://arxiv.org/abs/2107.00641",
        5,
        5,
        in_day(60 * 48),
    )]);
    fake.mount(&h.server).await;
    let got = h
        .source
        .collect(day(), &BTreeSet::new(), t0())
        .await
        .unwrap();
    assert!(got.signals.is_empty());
    assert_eq!((got.requests, got.mentions), (3, 0));

    for window in [
        Window {
            since: t0(),
            until: t0(),
        },
        Window {
            since: t0(),
            until: t0() - chrono::Duration::hours(1),
        },
    ] {
        let got = h
            .source
            .collect(window, &BTreeSet::new(), t0())
            .await
            .unwrap();
        assert_eq!(got.requests, 0);
        assert!(got.signals.is_empty());
    }
    assert_eq!(fake.requests().len(), 3);
}

#[tokio::test]
async fn fractional_window_bounds_round_up_to_whole_seconds() {
    let h = harness_with(|c| c.hosts = vec!["arxiv.org".into()]).await;
    let fake = FakeAlgolia::new(vec![]);
    fake.mount(&h.server).await;
    let since = day().since + chrono::Duration::milliseconds(250);
    let until = day().until + chrono::Duration::milliseconds(1);
    h.source
        .collect(Window { since, until }, &BTreeSet::new(), t0())
        .await
        .unwrap();
    assert_eq!(
        param(&fake.requests()[0], "numericFilters").unwrap(),
        format!(
            "created_at_i>={},created_at_i<{}",
            since.timestamp() + 1,
            until.timestamp() + 1
        )
    );
}

#[tokio::test]
async fn rate_limits_and_server_errors_are_retried_honouring_retry_after() {
    let h = harness_with(|c| c.hosts = vec!["arxiv.org".into()]).await;
    Mock::given(path("/api/v1/search_by_date"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "7"))
        .up_to_n_times(1)
        .expect(1)
        .mount(&h.server)
        .await;
    Mock::given(path("/api/v1/search_by_date"))
        .respond_with(ResponseTemplate::new(503).insert_header("retry-after", "3"))
        .up_to_n_times(1)
        .expect(1)
        .mount(&h.server)
        .await;
    FakeAlgolia::new(vec![hit(
        1,
        "https://arxiv.org/abs/2107.00641",
        5,
        1,
        in_day(5),
    )])
    .mount(&h.server)
    .await;
    let got = h
        .source
        .collect(day(), &BTreeSet::new(), t0())
        .await
        .unwrap();
    assert_eq!(got.signals.len(), 2);
    // Requests count logical requests; HttpClient's retries are its own.
    assert_eq!(got.requests, 1);
    assert_eq!(
        h.clock.sleeps(),
        vec![Duration::from_secs(7), Duration::from_secs(3)]
    );
}

#[tokio::test]
async fn persistent_5xx_is_an_http_error_after_the_retries() {
    let h = harness().await;
    Mock::given(path("/api/v1/search_by_date"))
        .respond_with(ResponseTemplate::new(502).insert_header("retry-after", "1"))
        .expect(4)
        .mount(&h.server)
        .await;
    let err = h
        .source
        .collect(day(), &BTreeSet::new(), t0())
        .await
        .unwrap_err();
    match &err {
        SourceError::Http(e) => assert_eq!(e.status(), Some(502)),
        other => panic!("expected an HTTP error, got {other:?}"),
    }
    assert_eq!(h.clock.sleeps(), vec![Duration::from_secs(1); 3]);
    assert!(!err.to_string().contains('\n'));
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    let h = harness().await;
    Mock::given(path("/api/v1/search_by_date"))
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_string(r#"{"message":"invalid numericFilters","status":400}"#),
        )
        .expect(1)
        .mount(&h.server)
        .await;
    let err = h
        .source
        .collect(day(), &BTreeSet::new(), t0())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, SourceError::Http(e) if e.status() == Some(400)),
        "{err:?}"
    );
    assert!(err.to_string().contains("invalid numericFilters"), "{err}");
}

#[tokio::test]
async fn malformed_pages_are_errors_and_malformed_hits_are_skipped() {
    for body in [
        "<html>Bad gateway</html>",
        "",
        "[]",
        r#"{"hits":"none"}"#,
        r#"{"hits":["#,
    ] {
        let h = harness().await;
        Mock::given(path("/api/v1/search_by_date"))
            .respond_with(ResponseTemplate::new(200).set_body_string(body))
            .mount(&h.server)
            .await;
        let err = h
            .source
            .collect(day(), &BTreeSet::new(), t0())
            .await
            .unwrap_err();
        assert!(
            matches!(
                &err,
                SourceError::Malformed {
                    source_name: "hn",
                    ..
                }
            ),
            "{body}: {err:?}"
        );
        assert!(err.to_string().contains("search_by_date"), "{err}");
    }

    let h = harness_with(|c| c.hosts = vec!["arxiv.org".into()]).await;
    let body = json!({
        "hits": [
            hit(1, "https://arxiv.org/abs/2107.00641", 5, 1, in_day(1)),
            {"url": "https://arxiv.org/abs/2107.00642", "points": 9},
            {"objectID": "3", "url": ["https://arxiv.org/abs/2107.00643"]},
            "garbage",
            hit(4, "https://arxiv.org/abs/2107.00641", 2, 0, in_day(2)),
        ],
        "nbHits": 5, "nbPages": 1, "page": 0, "hitsPerPage": 1000
    });
    Mock::given(path("/api/v1/search_by_date"))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(&h.server)
        .await;
    let got = h
        .source
        .collect(day(), &BTreeSet::new(), t0())
        .await
        .unwrap();
    assert_eq!(
        values(&got.signals),
        vec![
            ("2107.00641".into(), "comments", 1.0),
            ("2107.00641".into(), "points", 7.0),
        ]
    );
}

#[tokio::test]
async fn a_server_claiming_endless_pages_is_bounded_by_the_cap() {
    let h = harness_with(|c| {
        c.hosts = vec!["arxiv.org".into()];
        c.hits_per_page = 400;
    })
    .await;
    // Always the same full page and a huge nbPages (but nbHits under the cap).
    let hits: Vec<Value> = (0..400)
        .map(|i| hit(i, "https://arxiv.org/abs/2107.00641", 1, 0, in_day(1)))
        .collect();
    Mock::given(path("/api/v1/search_by_date"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(
                json!({"hits": hits, "nbHits": 999, "nbPages": 1_000_000, "page": 0}),
            ),
        )
        .mount(&h.server)
        .await;
    let got = h
        .source
        .collect(day(), &BTreeSet::new(), t0())
        .await
        .unwrap();
    // ⌈1000 / 400⌉ = 3 pages at most; the repeated stories count once.
    assert_eq!(got.requests, 3);
    assert_eq!(got.mentions, 400);
}

#[tokio::test]
async fn lookup_searches_the_id_without_a_time_filter() {
    let h = harness().await;
    let fake = FakeAlgolia::new(vec![
        hit(
            1,
            "https://arxiv.org/abs/2107.00641v3",
            10,
            2,
            in_day(60 * 24 * 30),
        ),
        hit(
            2,
            "https://huggingface.co/papers/2107.00641",
            4,
            1,
            in_day(5),
        ),
        // Algolia's word matching can return neighbours: they do not count.
        hit(3, "https://arxiv.org/abs/2107.006410", 50, 50, in_day(5)),
        hit(4, "https://example.org/blog/2107.00641", 50, 50, in_day(5)),
    ]);
    fake.mount(&h.server).await;
    let got = h
        .source
        .lookup(&id("arXiv:2107.00641v2"), t0())
        .await
        .unwrap();
    assert_eq!(
        values(&got.signals),
        vec![
            ("2107.00641".into(), "comments", 3.0),
            ("2107.00641".into(), "points", 14.0),
        ]
    );
    // Each counted story is a mention: its title, points and comments, linking its HN page.
    assert_eq!(got.posts.len(), got.mentions);
    assert!(got.posts.iter().all(|m| m.paper.key() == "2107.00641"
        && m.source == "hn"
        && m.url == format!("https://news.ycombinator.com/item?id={}", m.post_id)));
    let reqs = fake.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(param(&reqs[0], "query").as_deref(), Some("2107.00641"));
    assert_eq!(param(&reqs[0], "numericFilters"), None);

    // A paper nobody posted: no signals, no error.
    let nobody = h.source.lookup(&id("2107.09999"), t0()).await.unwrap();
    assert!(nobody.signals.is_empty() && nobody.posts.is_empty());
    // Hacker News has no text extras.
    assert!(got.extras.is_empty());
    assert_eq!(h.source.name(), "hn");
}
