//! The X source against a fake X API v2 on loopback.
//!
//! No X capture exists (the API is paid), so every payload here is built from X's API v2
//! reference for `GET /2/tweets/search/recent|all`: `{"data":[{id,text,created_at,author_id,
//! public_metrics{retweet_count,reply_count,like_count,quote_count},entities{urls[{url,
//! expanded_url,display_url}]},referenced_tweets?[{type,id}]}],"meta":{result_count,newest_id,
//! oldest_id,next_token?}}`, an empty page `{"meta":{"result_count":0}}`, and problem documents
//! `{"errors":[…],"title":…,"detail":…,"type":…}` for errors.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use hotpapers::arxiv::ArxivId;
use hotpapers::clock::FakeClock;
use hotpapers::config::{Secret, XConfig};
use hotpapers::http::{HttpClient, HttpError, HttpOptions, RetryPolicy};
use hotpapers::sources::x::{DEFAULT_URL_PATTERNS, LOOKUP_MAX_PAGES, TWEET_FIELDS, XSource};
use hotpapers::sources::{Collection, Source, SourceError, Window};
use hotpapers::store::{CursorStore, Signal, SqliteStore};
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const TOKEN: &str = "AAAA-test-bearer-SECRET";
const RECENT: &str = "/2/tweets/search/recent";
const ALL: &str = "/2/tweets/search/all";

/// 2026-03-02 12:00:00Z: "now" for every test.
fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 12, 0, 0).unwrap()
}

fn hours(h: i64) -> chrono::Duration {
    chrono::Duration::hours(h)
}

/// Yesterday-ish: well inside recent search's reach.
fn window() -> Window {
    Window {
        since: t0() - hours(48),
        until: t0() - hours(24),
    }
}

fn id(s: &str) -> ArxivId {
    ArxivId::parse(s).unwrap()
}

fn papers(ids: &[&str]) -> BTreeSet<ArxivId> {
    ids.iter().map(|s| id(s)).collect()
}

struct Harness {
    server: MockServer,
    clock: FakeClock,
    store: Arc<SqliteStore>,
}

impl Harness {
    async fn new() -> Harness {
        Harness {
            server: MockServer::start().await,
            clock: FakeClock::new(t0()),
            store: Arc::new(SqliteStore::in_memory().await.unwrap()),
        }
    }

    fn config(&self) -> XConfig {
        XConfig {
            enabled: true,
            api_url: self.server.uri(),
            bearer_token: Some(Secret::new(TOKEN)),
            daily_request_budget: 50,
            full_archive: false,
            url_patterns: DEFAULT_URL_PATTERNS.iter().map(|p| p.to_string()).collect(),
        }
    }

    fn http(&self) -> HttpClient {
        let opts = HttpOptions {
            timeout: Duration::from_secs(5),
            max_body_bytes: 1024 * 1024,
            user_agent: "hotpapers-test".into(),
            retry: RetryPolicy {
                max_retries: 3,
                base_delay: Duration::from_secs(1),
                max_delay: Duration::from_secs(60),
            },
        };
        HttpClient::new(opts, Arc::new(self.clock.clone()))
            .unwrap()
            .with_jitter_seed(1)
    }

    fn source_with(&self, cfg: &XConfig) -> XSource {
        XSource::new(
            cfg,
            self.http(),
            self.store.clone(),
            Arc::new(self.clock.clone()),
        )
        .unwrap()
    }

    fn source(&self) -> XSource {
        self.source_with(&self.config())
    }

    async fn served(&self) -> Vec<Request> {
        self.server.received_requests().await.unwrap_or_default()
    }

    /// The X requests charged to UTC day 2026-03-`day`, as stored.
    async fn requests_used(&self, day: u32) -> u32 {
        let day = NaiveDate::from_ymd_opt(2026, 3, day).unwrap();
        self.store.x_requests_used(day).await.unwrap()
    }

    /// Stores `value` as the request count of UTC day 2026-03-`day` behind the store's
    /// interface, as a hand edit or a damaged file could leave it.
    async fn write_raw_requests(&self, day: u32, value: &str) {
        sqlx::query(
            "INSERT INTO kv (key, value) VALUES (?1, ?2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(format!("x.requests.2026-03-{day:02}"))
        .bind(value)
        .execute(self.store.pool())
        .await
        .unwrap();
    }
}

/// A tweet in X's v2 shape linking `urls` (as t.co entities with these expanded URLs).
fn tweet(tid: &str, urls: &[&str], retweets: u64, likes: u64) -> Value {
    let entities: Vec<Value> = urls
        .iter()
        .enumerate()
        .map(|(i, u)| {
            json!({
                "start": 10 * i, "end": 10 * i + 23,
                "url": format!("https://t.co/{tid}{i}"),
                "expanded_url": u,
                "display_url": u.trim_start_matches("https://").trim_start_matches("http://"),
            })
        })
        .collect();
    let text: Vec<String> = (0..urls.len())
        .map(|i| format!("https://t.co/{tid}{i}"))
        .collect();
    json!({
        "id": tid,
        "text": format!("Interesting paper {}", text.join(" ")),
        "created_at": "2026-03-01T08:00:00.000Z",
        "author_id": "2244994945",
        "edit_history_tweet_ids": [tid],
        "public_metrics": {
            "retweet_count": retweets, "reply_count": 2, "like_count": likes,
            "quote_count": 1, "bookmark_count": 0, "impression_count": 1000
        },
        "entities": {"urls": entities},
    })
}

/// A retweet object: X gives it the original's retweet count and its own text "RT @…".
fn retweet_of(tid: &str, original: &str, url: &str) -> Value {
    let mut t = tweet(tid, &[url], 999, 0);
    t["text"] = json!(format!(
        "RT @someone: Interesting paper https://t.co/{tid}0"
    ));
    t["referenced_tweets"] = json!([{"type": "retweeted", "id": original}]);
    t
}

fn page(tweets: Vec<Value>, next: Option<&str>) -> Value {
    let mut meta = json!({
        "result_count": tweets.len(),
        "newest_id": tweets.first().map_or(json!(null), |t| t["id"].clone()),
        "oldest_id": tweets.last().map_or(json!(null), |t| t["id"].clone()),
    });
    if let Some(n) = next {
        meta["next_token"] = json!(n);
    }
    json!({"data": tweets, "meta": meta})
}

fn ok(body: &Value) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .insert_header("content-type", "application/json; charset=utf-8")
        .set_body_json(body)
}

/// Serves `pages` in order, chained with next_tokens `p2`, `p3`, ….
async fn mount_pages(server: &MockServer, endpoint: &str, pages: Vec<Value>) {
    for (i, body) in pages.iter().enumerate() {
        let mock = Mock::given(method("GET"))
            .and(path(endpoint))
            .and(header("authorization", format!("Bearer {TOKEN}").as_str()));
        let mock = if i == 0 {
            mock.and(query_param_is_missing("next_token"))
        } else {
            mock.and(query_param("next_token", format!("p{}", i + 1).as_str()))
        };
        mock.respond_with(ok(body)).mount(server).await;
    }
}

const A: &str = "2107.00641";
const B: &str = "2107.00652";
const C: &str = "2107.00999";

/// Three pages: paper A in every URL form, B twice, C (not asked for) once, a retweet object,
/// a malformed item, a tweet found only through its text and a tweet served twice.
fn three_pages() -> Vec<Value> {
    let mut no_entities = tweet("t8", &[], 2, 2);
    no_entities["text"] = json!("Read arXiv:2107.00641 today");
    no_entities.as_object_mut().unwrap().remove("entities");
    vec![
        page(
            vec![
                tweet("t1", &["https://arxiv.org/abs/2107.00641"], 10, 100),
                // The same paper twice in one tweet (versioned pdf + export mirror): counts once.
                tweet(
                    "t2",
                    &[
                        "https://arxiv.org/pdf/2107.00641v1",
                        "http://export.arxiv.org/abs/2107.00641",
                    ],
                    5,
                    50,
                ),
                retweet_of("t3", "t1", "https://arxiv.org/abs/2107.00641"),
            ],
            Some("p2"),
        ),
        page(
            vec![
                // Two papers in one tweet: counts for both.
                tweet(
                    "t4",
                    &[
                        "https://www.alphaxiv.org/abs/2107.00641",
                        "https://huggingface.co/papers/2107.00652",
                    ],
                    1,
                    2,
                ),
                tweet("t5", &["https://doi.org/10.48550/arXiv.2107.00641"], 0, 3),
                tweet("t6", &["https://arxiv.org/html/2107.00652v2"], 7, 8),
                json!({"id": "t7", "text": "no public_metrics", "entities": {"urls": []}}),
            ],
            Some("p3"),
        ),
        page(
            vec![
                no_entities,
                tweet("t9", &["https://arxiv.org/abs/2107.00999"], 40, 40),
                // Pages overlap while new tweets arrive: t1 again counts once.
                tweet("t1", &["https://arxiv.org/abs/2107.00641"], 10, 100),
            ],
            None,
        ),
    ]
}

fn value(signals: &[Signal], paper: &str, metric: &str) -> Option<f64> {
    signals
        .iter()
        .find(|s| s.paper.key() == paper && s.metric == metric)
        .map(|s| s.value)
}

fn metrics(signals: &[Signal], paper: &str) -> [Option<f64>; 5] {
    ["posts", "retweets", "likes", "quotes", "replies"].map(|m| value(signals, paper, m))
}

fn param(req: &Request, name: &str) -> Option<String> {
    req.url
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

#[tokio::test]
async fn sweep_pages_counts_every_url_form_once_and_skips_retweets() {
    let h = Harness::new().await;
    mount_pages(&h.server, RECENT, three_pages()).await;
    let source = h.source();
    assert_eq!(source.name(), "x");

    let c = source
        .collect(window(), &papers(&[A, B, "2107.00001"]), t0())
        .await
        .unwrap();

    // A: t1, t2, t4, t5, t8 (not the retweet t3, not t1's repeat).
    assert_eq!(
        metrics(&c.signals, A),
        [Some(5.0), Some(18.0), Some(157.0), Some(5.0), Some(10.0)]
    );
    // B: t4, t6.
    assert_eq!(
        metrics(&c.signals, B),
        [Some(2.0), Some(8.0), Some(10.0), Some(2.0), Some(4.0)]
    );
    // C was not asked for; 2107.00001 had no tweets: no signals for either.
    assert!(c.signals.iter().all(|s| [A, B].contains(&s.paper.key())));
    assert_eq!(c.signals.len(), 10);
    assert!(
        c.signals
            .iter()
            .all(|s| s.source == "x" && s.observed_at == t0() && s.paper.version().is_none())
    );
    assert_eq!(c.requests, 3);
    assert_eq!(c.mentions, 6); // t1 t2 t4 t5 t6 t8
    assert_eq!(
        c.notes,
        ["skipped 1 malformed tweet(s) in X's answers".to_string()]
    );

    let served = h.served().await;
    assert_eq!(served.len(), 3);
    let first = &served[0];
    assert_eq!(
        param(first, "query").as_deref(),
        Some(
            "(url:\"arxiv.org/abs\" OR url:\"arxiv.org/pdf\" OR url:\"arxiv.org/html\" OR \
             url:\"alphaxiv.org/abs\" OR url:\"huggingface.co/papers\") -is:retweet"
        )
    );
    assert_eq!(param(first, "query").as_deref(), Some(source.query()));
    assert_eq!(param(first, "max_results").as_deref(), Some("100"));
    assert_eq!(param(first, "tweet.fields").as_deref(), Some(TWEET_FIELDS));
    assert_eq!(
        param(first, "start_time").as_deref(),
        Some("2026-02-28T12:00:00Z")
    );
    assert_eq!(
        param(first, "end_time").as_deref(),
        Some("2026-03-01T12:00:00Z")
    );
    // The token travels in the header only.
    for req in &served {
        assert!(!req.url.as_str().contains(TOKEN), "{}", req.url);
        assert_eq!(param(req, "start_time"), param(first, "start_time"));
    }
    // Every request was charged to today's budget.
    assert_eq!(h.requests_used(2).await, 3);
    assert!(h.clock.sleeps().is_empty());
}

#[tokio::test]
async fn all_papers_are_returned_when_none_are_named() {
    let h = Harness::new().await;
    mount_pages(&h.server, RECENT, three_pages()).await;
    let c = h
        .source()
        .collect(window(), &BTreeSet::new(), t0())
        .await
        .unwrap();
    assert_eq!(
        metrics(&c.signals, C),
        [Some(1.0), Some(40.0), Some(40.0), Some(1.0), Some(2.0)]
    );
    assert_eq!(c.mentions, 7);
}

#[tokio::test]
async fn every_url_form_counts_for_the_same_paper() {
    let h = Harness::new().await;
    let forms = [
        "https://arxiv.org/abs/2107.00641",
        "https://arxiv.org/pdf/2107.00641",
        "https://arxiv.org/pdf/2107.00641v2.pdf",
        "https://arxiv.org/abs/2107.00641v3",
        "https://arxiv.org/html/2107.00641v1",
        "https://www.alphaxiv.org/abs/2107.00641",
        "https://huggingface.co/papers/2107.00641",
        "https://export.arxiv.org/abs/2107.00641",
        "https://doi.org/10.48550/arXiv.2107.00641",
    ];
    let tweets: Vec<Value> = forms
        .iter()
        .enumerate()
        .map(|(i, u)| tweet(&format!("f{i}"), &[u], 1, 2))
        .collect();
    mount_pages(&h.server, RECENT, vec![page(tweets, None)]).await;
    let c = h
        .source()
        .collect(window(), &papers(&[A]), t0())
        .await
        .unwrap();
    let n = forms.len() as f64;
    assert_eq!(
        metrics(&c.signals, A),
        [Some(n), Some(n), Some(2.0 * n), Some(n), Some(2.0 * n)]
    );
    assert_eq!(c.signals.len(), 5);
}

#[tokio::test]
async fn empty_result_window_is_an_empty_collection() {
    let h = Harness::new().await;
    Mock::given(path(RECENT))
        .respond_with(ok(&json!({"meta": {"result_count": 0}})))
        .expect(1)
        .mount(&h.server)
        .await;
    let c = h
        .source()
        .collect(window(), &papers(&[A]), t0())
        .await
        .unwrap();
    assert_eq!(
        c,
        Collection {
            requests: 1,
            ..Collection::default()
        }
    );
}

#[tokio::test]
async fn recent_search_clamps_to_seven_days_and_the_end_to_the_past() {
    let h = Harness::new().await;
    Mock::given(path(RECENT))
        .respond_with(ok(&json!({"meta": {"result_count": 0}})))
        .mount(&h.server)
        .await;
    let w = Window {
        since: t0() - hours(24 * 10),
        until: t0() + hours(1),
    };
    let c = h.source().collect(w, &papers(&[A]), t0()).await.unwrap();
    let served = h.served().await;
    assert_eq!(served.len(), 1);
    assert_eq!(
        param(&served[0], "start_time").as_deref(),
        Some("2026-02-23T12:01:00Z")
    );
    assert_eq!(
        param(&served[0], "end_time").as_deref(),
        Some("2026-03-02T11:59:30Z")
    );
    assert_eq!(c.notes.len(), 1, "{:?}", c.notes);
    assert!(c.notes[0].contains("7 days"), "{:?}", c.notes);
    assert!(
        c.notes[0].contains("sources.x.full_archive"),
        "{:?}",
        c.notes
    );
}

#[tokio::test]
async fn windows_out_of_reach_or_empty_send_nothing() {
    let h = Harness::new().await;
    let source = h.source();
    let old = Window {
        since: Utc.with_ymd_and_hms(2021, 7, 1, 18, 0, 0).unwrap(),
        until: Utc.with_ymd_and_hms(2021, 7, 3, 7, 45, 53).unwrap(),
    };
    let c = source.collect(old, &papers(&[A]), t0()).await.unwrap();
    assert_eq!(c.requests, 0);
    assert!(c.signals.is_empty());
    assert!(c.notes[0].contains("out of reach"), "{:?}", c.notes);
    let backwards = Window {
        since: window().until,
        until: window().since,
    };
    let c = source
        .collect(backwards, &papers(&[A]), t0())
        .await
        .unwrap();
    assert_eq!(c.requests, 0);
    assert!(c.notes[0].contains("empty window"), "{:?}", c.notes);
    assert!(h.served().await.is_empty());
    assert_eq!(h.requests_used(2).await, 0);
}

#[tokio::test]
async fn full_archive_uses_search_all_and_keeps_old_windows() {
    let h = Harness::new().await;
    mount_pages(&h.server, ALL, three_pages()).await;
    let cfg = XConfig {
        full_archive: true,
        ..h.config()
    };
    let source = h.source_with(&cfg);
    assert!(source.search_url().ends_with(ALL));
    let old = Window {
        since: Utc.with_ymd_and_hms(2021, 7, 1, 18, 0, 0).unwrap(),
        until: Utc.with_ymd_and_hms(2021, 7, 3, 7, 45, 53).unwrap(),
    };
    let c = source.collect(old, &papers(&[A]), t0()).await.unwrap();
    assert_eq!(c.requests, 3);
    assert_eq!(value(&c.signals, A, "retweets"), Some(18.0));
    assert_eq!(c.notes, ["skipped 1 malformed tweet(s) in X's answers"]);
    let served = h.served().await;
    assert_eq!(
        param(&served[0], "start_time").as_deref(),
        Some("2021-07-01T18:00:00Z")
    );
    assert_eq!(
        param(&served[0], "end_time").as_deref(),
        Some("2021-07-03T07:45:53Z")
    );
}

#[tokio::test]
async fn budget_stops_paging_persists_and_resets_the_next_utc_day() {
    let h = Harness::new().await;
    mount_pages(&h.server, RECENT, three_pages()).await;
    let cfg = XConfig {
        daily_request_budget: 2,
        ..h.config()
    };
    let source = h.source_with(&cfg);

    // Two of three pages: partial counts and a note.
    let c = source.collect(window(), &papers(&[A]), t0()).await.unwrap();
    assert_eq!(c.requests, 2);
    assert_eq!(value(&c.signals, A, "posts"), Some(4.0)); // t1 t2 t4 t5
    assert!(
        c.notes
            .iter()
            .any(|n| n == "daily request budget of 2 used up after 2 requests; counts are partial"),
        "{:?}",
        c.notes
    );
    assert_eq!(h.requests_used(2).await, 2);

    // Nothing left today, in this process or another one sharing the store.
    for s in [&source, &h.source_with(&cfg)] {
        let err = s.collect(window(), &papers(&[A]), t0()).await.unwrap_err();
        assert!(
            matches!(
                err,
                SourceError::Budget {
                    source_name: "x",
                    budget: 2
                }
            ),
            "{err:?}"
        );
        assert_eq!(err.to_string(), "x: daily request budget of 2 used up");
        let err = s.lookup(&id(A), t0()).await.unwrap_err();
        assert!(matches!(err, SourceError::Budget { .. }), "{err:?}");
    }
    assert_eq!(h.served().await.len(), 2);
    assert_eq!(source.requests_today().await.unwrap(), 2);

    // A new UTC day has a new budget.
    h.clock
        .set(Utc.with_ymd_and_hms(2026, 3, 3, 0, 0, 1).unwrap());
    let c = source.collect(window(), &papers(&[A]), t0()).await.unwrap();
    assert_eq!(c.requests, 2);
    assert_eq!(h.requests_used(3).await, 2);
    assert_eq!(h.requests_used(2).await, 2);
    assert_eq!(h.served().await.len(), 4);
}

#[tokio::test]
async fn a_zero_or_unreadable_budget_spends_nothing() {
    let h = Harness::new().await;
    mount_pages(&h.server, RECENT, three_pages()).await;
    let zero = XConfig {
        daily_request_budget: 0,
        ..h.config()
    };
    let err = h
        .source_with(&zero)
        .collect(window(), &papers(&[A]), t0())
        .await
        .unwrap_err();
    assert!(
        matches!(err, SourceError::Budget { budget: 0, .. }),
        "{err:?}"
    );
    // A count that does not parse is treated as a used-up budget (fail closed: money).
    h.write_raw_requests(2, "garbage").await;
    let err = h
        .source()
        .collect(window(), &papers(&[A]), t0())
        .await
        .unwrap_err();
    assert!(
        matches!(err, SourceError::Budget { budget: 50, .. }),
        "{err:?}"
    );
    assert_eq!(h.source().requests_today().await.unwrap(), 50);
    assert!(h.served().await.is_empty());
}

#[tokio::test]
async fn missing_or_blank_token_is_an_auth_error_naming_the_key() {
    let h = Harness::new().await;
    for token in [None, Some(Secret::new("   "))] {
        let cfg = XConfig {
            bearer_token: token,
            ..h.config()
        };
        let err =
            XSource::new(&cfg, h.http(), h.store.clone(), Arc::new(h.clock.clone())).unwrap_err();
        assert!(
            matches!(
                err,
                SourceError::Auth {
                    source_name: "x",
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains("sources.x.bearer_token"), "{err}");
    }
    let bad_patterns = XConfig {
        url_patterns: vec![],
        ..h.config()
    };
    let err = XSource::new(
        &bad_patterns,
        h.http(),
        h.store.clone(),
        Arc::new(h.clock.clone()),
    )
    .unwrap_err();
    assert!(err.to_string().contains("sources.x.url_patterns"), "{err}");
}

#[tokio::test]
async fn rejected_tokens_are_auth_errors_without_the_secret() {
    for (status, body, want) in [
        (
            401,
            json!({"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}),
            "X rejected the bearer token (HTTP 401: Unauthorized); check sources.x.bearer_token",
        ),
        (
            403,
            json!({"title": "Forbidden", "type": "about:blank", "status": 403, "detail": "Forbidden"}),
            "X refused the request (HTTP 403: Forbidden); check that sources.x.bearer_token \
             belongs to a project whose plan includes tweets/search/recent",
        ),
    ] {
        let h = Harness::new().await;
        Mock::given(path(RECENT))
            .respond_with(ResponseTemplate::new(status).set_body_json(&body))
            .expect(1)
            .mount(&h.server)
            .await;
        let err = h
            .source()
            .collect(window(), &papers(&[A]), t0())
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                SourceError::Auth {
                    source_name: "x",
                    ..
                }
            ),
            "{err:?}"
        );
        let shown = format!("{err} {err:?}");
        assert!(shown.contains(want), "{shown}");
        assert!(!shown.contains(TOKEN), "{shown}");
        assert!(h.clock.sleeps().is_empty(), "not retried");
    }
}

#[tokio::test]
async fn rate_limited_429_waits_for_x_rate_limit_reset() {
    let h = Harness::new().await;
    let reset = (t0().timestamp() + 12).to_string();
    Mock::given(path(RECENT))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("x-rate-limit-limit", "450")
                .insert_header("x-rate-limit-remaining", "0")
                .insert_header("x-rate-limit-reset", reset.as_str())
                .set_body_json(json!({"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank", "status": 429})),
        )
        .up_to_n_times(1)
        .mount(&h.server)
        .await;
    mount_pages(&h.server, RECENT, three_pages()).await;
    let c = h
        .source()
        .collect(window(), &papers(&[A]), t0())
        .await
        .unwrap();
    assert_eq!(h.clock.sleeps(), vec![Duration::from_secs(12)]);
    assert_eq!(value(&c.signals, A, "posts"), Some(5.0));
    // Three logical requests (charged to the budget), four served.
    assert_eq!(c.requests, 3);
    assert_eq!(h.served().await.len(), 4);
    assert_eq!(h.requests_used(2).await, 3);
}

#[tokio::test]
async fn server_errors_honour_retry_after_then_give_up() {
    let h = Harness::new().await;
    Mock::given(path(RECENT))
        .respond_with(ResponseTemplate::new(503).insert_header("retry-after", "7"))
        .up_to_n_times(1)
        .mount(&h.server)
        .await;
    mount_pages(
        &h.server,
        RECENT,
        vec![page(
            vec![tweet("t1", &["https://arxiv.org/abs/2107.00641"], 1, 1)],
            None,
        )],
    )
    .await;
    let c = h
        .source()
        .collect(window(), &papers(&[A]), t0())
        .await
        .unwrap();
    assert_eq!(h.clock.sleeps(), vec![Duration::from_secs(7)]);
    assert_eq!(c.requests, 1);
    assert_eq!(value(&c.signals, A, "posts"), Some(1.0));

    let h = Harness::new().await;
    Mock::given(path(RECENT))
        .respond_with(ResponseTemplate::new(500).insert_header("retry-after", "2"))
        .expect(4)
        .mount(&h.server)
        .await;
    let err = h
        .source()
        .collect(window(), &papers(&[A]), t0())
        .await
        .unwrap_err();
    match &err {
        SourceError::Http(HttpError::Exhausted { attempts: 4, .. }) => {}
        other => panic!("expected Exhausted, got {other:?}"),
    }
    assert_eq!(h.clock.sleeps(), vec![Duration::from_secs(2); 3]);
}

#[tokio::test]
async fn malformed_answers_are_clear_errors() {
    for (body, want) in [
        ("{\"data\": [", "unexpected x response: not a search page"),
        (
            "<html>Over capacity</html>",
            "unexpected x response: not a search page",
        ),
        (
            "{\"data\": {\"id\": \"1\"}, \"meta\": {}}",
            "not a search page (invalid type: map",
        ),
        ("{\"includes\": {}}", "neither data nor meta"),
        (
            r#"{"errors":[{"message":"Request exceeds account's current package request limits."}],"title":"Usage capped exceeded","detail":"Monthly product cap","type":"https://api.twitter.com/2/problems/usage-capped"}"#,
            "an error instead of tweets: Usage capped exceeded: Monthly product cap (Request exceeds",
        ),
    ] {
        let h = Harness::new().await;
        Mock::given(path(RECENT))
            .respond_with(ResponseTemplate::new(200).set_body_string(body))
            .expect(1)
            .mount(&h.server)
            .await;
        let err = h
            .source()
            .collect(window(), &papers(&[A]), t0())
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                SourceError::Malformed {
                    source_name: "x",
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains(want), "{err}");
        assert!(!err.to_string().contains('\n'), "{err}");
    }
}

#[tokio::test]
async fn bad_requests_are_spelled_out() {
    let h = Harness::new().await;
    Mock::given(path(RECENT))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "errors": [{
                "parameters": {"start_time": ["2026-02-20T12:00Z"]},
                "message": "Invalid 'start_time':'2026-02-20T12:00Z'. 'start_time' must be on or after 2026-02-23T12:00Z"
            }],
            "title": "Invalid Request",
            "detail": "One or more parameters to your request was invalid.",
            "type": "https://api.twitter.com/2/problems/invalid-request"
        })))
        .expect(1)
        .mount(&h.server)
        .await;
    let err = h
        .source()
        .collect(window(), &papers(&[A]), t0())
        .await
        .unwrap_err();
    assert!(
        matches!(err, SourceError::Http(HttpError::Rejected { .. })),
        "{err:?}"
    );
    let shown = err.to_string();
    assert!(
        shown.contains("HTTP 400: Invalid Request: One or more parameters to your request was invalid. (Invalid 'start_time'"),
        "{shown}"
    );
    assert!(!format!("{err:?}").contains(TOKEN));
}

#[tokio::test]
async fn a_repeated_next_token_ends_with_an_error() {
    let h = Harness::new().await;
    Mock::given(path(RECENT))
        .respond_with(ok(&page(
            vec![tweet("t1", &["https://arxiv.org/abs/2107.00641"], 1, 1)],
            Some("again"),
        )))
        .expect(2)
        .mount(&h.server)
        .await;
    let err = h
        .source()
        .collect(window(), &papers(&[A]), t0())
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("next_token \"again\" was returned twice"),
        "{err}"
    );
}

#[tokio::test]
async fn lookup_searches_one_papers_url_forms() {
    let h = Harness::new().await;
    mount_pages(
        &h.server,
        RECENT,
        vec![
            page(
                vec![
                    tweet("t1", &["https://arxiv.org/abs/2107.00641v2"], 3, 4),
                    // Also links B: only A is returned.
                    tweet(
                        "t2",
                        &[
                            "https://huggingface.co/papers/2107.00641",
                            "https://arxiv.org/abs/2107.00652",
                        ],
                        1,
                        1,
                    ),
                ],
                Some("p2"),
            ),
            page(vec![], None),
        ],
    )
    .await;
    let signals = h
        .source()
        .lookup(&id("2107.00641v3"), t0())
        .await
        .unwrap()
        .signals;
    assert_eq!(
        metrics(&signals, A),
        [Some(2.0), Some(4.0), Some(5.0), Some(2.0), Some(4.0)]
    );
    assert_eq!(signals.len(), 5);
    let served = h.served().await;
    assert_eq!(served.len(), 2);
    let q = param(&served[0], "query").unwrap();
    for form in [
        "url:\"arxiv.org/abs/2107.00641\"",
        "url:\"arxiv.org/pdf/2107.00641\"",
        "url:\"arxiv.org/html/2107.00641\"",
        "url:\"alphaxiv.org/abs/2107.00641\"",
        "url:\"huggingface.co/papers/2107.00641\"",
    ] {
        assert!(q.contains(form), "{q}");
    }
    assert!(q.ends_with(" -is:retweet") && !q.contains("v3"), "{q}");
    // Recent search's default reach: no time bounds sent.
    assert_eq!(param(&served[0], "start_time"), None);
    assert_eq!(param(&served[0], "end_time"), None);
}

#[tokio::test]
async fn full_archive_lookup_starts_at_the_papers_month_and_is_capped() {
    let h = Harness::new().await;
    // An endless stream of pages, each with a fresh next_token.
    Mock::given(path(ALL))
        .respond_with(|req: &Request| {
            let n: u32 = param(req, "next_token")
                .and_then(|t| t.trim_start_matches('p').parse().ok())
                .unwrap_or(1);
            ok(&page(
                vec![tweet(
                    &format!("t{n}"),
                    &["https://arxiv.org/abs/2107.00641"],
                    1,
                    1,
                )],
                Some(&format!("p{}", n + 1)),
            ))
        })
        .mount(&h.server)
        .await;
    let cfg = XConfig {
        full_archive: true,
        ..h.config()
    };
    let signals = h
        .source_with(&cfg)
        .lookup(&id(A), t0())
        .await
        .unwrap()
        .signals;
    assert_eq!(
        value(&signals, A, "posts"),
        Some(f64::from(LOOKUP_MAX_PAGES))
    );
    let served = h.served().await;
    assert_eq!(served.len(), LOOKUP_MAX_PAGES as usize);
    assert_eq!(
        param(&served[0], "start_time").as_deref(),
        Some("2021-07-01T00:00:00Z")
    );
    // Old-style ids: searched by their canonical key, never before X existed.
    let old = h
        .source_with(&cfg)
        .lookup(&id("hep-th/9901001"), t0())
        .await
        .unwrap();
    assert!(old.signals.is_empty());
    let served = h.served().await;
    let last_first_page = &served[LOOKUP_MAX_PAGES as usize];
    assert_eq!(
        param(last_first_page, "start_time").as_deref(),
        Some("2006-03-21T00:00:00Z")
    );
    assert!(
        param(last_first_page, "query")
            .unwrap()
            .contains("url:\"arxiv.org/abs/hep-th/9901001\"")
    );
}
