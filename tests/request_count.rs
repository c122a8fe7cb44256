//! How many upstream requests one daily digest costs with every source on, counted against
//! local fakes: the target is under 30 for a 1,100-paper mailing, arXiv included.

mod common;

use std::sync::Arc;

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use common::{Entry, FakeArxiv};
use hotpapers::app::{App, DigestRequest};
use hotpapers::arxiv::ArxivId;
use hotpapers::clock::FakeClock;
use hotpapers::config::Config;
use hotpapers::progress::NoProgress;
use hotpapers::store::BlueskyPost;
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// Semantic Scholar's batch endpoint: a positional answer, `null` for every unknown id.
struct S2Batch;

impl Respond for S2Batch {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let body: serde_json::Value = serde_json::from_slice(&req.body).unwrap_or_default();
        let n = body["ids"].as_array().map_or(0, Vec::len);
        ResponseTemplate::new(200).set_body_json(vec![serde_json::Value::Null; n])
    }
}

fn mailing(n: usize) -> Vec<Entry> {
    let start = Utc.with_ymd_and_hms(2021, 6, 30, 18, 0, 30).unwrap();
    (0..n)
        .map(|i| {
            Entry::simple(
                &format!("2107.{:05}", i + 1),
                start + Duration::seconds(75 * i as i64),
                if i % 3 == 0 { "cs.LG" } else { "cs.CV" },
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_daily_digest_with_every_source_costs_under_30_requests() {
    let server = MockServer::start().await;
    let papers = mailing(1100);
    let arxiv = FakeArxiv::new(papers.clone());
    Mock::given(method("GET"))
        .and(path("/arxiv/api/query"))
        .respond_with(arxiv.clone())
        .mount(&server)
        .await;
    // The latest mailing comes from the new-submission feeds; the first feed announces it all.
    Mock::given(method("GET"))
        .and(path_regex(r"^/arxiv/rss/astro-ph\+"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_string(common::rss_feed(&papers, "Fri, 02 Jul 2021 00:00:00 -0400")),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path_regex(r"^/arxiv/rss/"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_string(common::rss_feed(&[], "Fri, 02 Jul 2021 00:00:00 -0400")),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/hn/search_by_date"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "hits": [], "nbHits": 0, "nbPages": 0, "page": 0, "hitsPerPage": 1000,
            "exhaustiveNbHits": true, "query": "arxiv.org", "params": ""
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/hf/api/daily_papers"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!([])))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/s2/paper/batch"))
        .respond_with(S2Batch)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path_regex(r"^/x/2/tweets/search/(recent|all)$"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"meta": {"result_count": 0}})),
        )
        .mount(&server)
        .await;

    // Bluesky: the listener has stored 120 posts linking the mailing's papers; their counts are
    // refreshed with getPosts (25 per call). The AppView no longer has them: the listener's own
    // counts stand.
    Mock::given(method("GET"))
        .and(path("/bsky/xrpc/app.bsky.feed.getPosts"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"posts": []})))
        .mount(&server)
        .await;

    let dir = tempfile::tempdir().unwrap();
    let uri = server.uri();
    let toml = format!(
        r#"
[store]
path = "{db}"
[http]
retry_base_delay = "1ms"
retry_max_delay = "5ms"
[arxiv]
api_url = "{uri}/arxiv/api/query"
rss_url = "{uri}/arxiv/rss"
request_spacing = "0s"
[sources.hn]
api_url = "{uri}/hn"
[sources.hf]
api_url = "{uri}/hf"
[sources.semantic_scholar]
api_url = "{uri}/s2"
request_spacing = "0s"
[sources.x]
enabled = true
full_archive = true
api_url = "{uri}/x"
bearer_token = "test-token"
[sources.bluesky]
api_url = "{uri}/bsky"
"#,
        db = dir.path().join("hp.db").display()
    );
    let config = Config::from_toml_str(&toml).expect("config");
    // The morning after the mailing, as a daily job would run.
    let clock = FakeClock::new(Utc.with_ymd_and_hms(2021, 7, 2, 9, 0, 0).unwrap());
    let app = App::open(config, Arc::new(clock)).await.expect("app");
    for i in 0..120 {
        let post = BlueskyPost {
            uri: format!("at://did:plc:author{i}/app.bsky.feed.post/3k{i:05}"),
            author_did: format!("did:plc:author{i}"),
            created_at: Utc.with_ymd_and_hms(2021, 7, 1, 12, 0, 0).unwrap() + Duration::minutes(i),
            papers: vec![ArxivId::parse(&format!("2107.{:05}", i + 1)).unwrap()],
        };
        app.store()
            .bluesky_upsert_post(&post)
            .await
            .expect("store post");
    }

    // The daily job: the latest announced mailing (2021-07-02), no date given.
    let digest = app
        .digest(&DigestRequest::default(), &NoProgress)
        .await
        .expect("digest");
    assert_eq!(digest.candidates, 1100);
    assert!(
        digest.sources.iter().all(|s| s.missing.is_none()),
        "{:?}",
        digest.sources
    );

    let requests = server.received_requests().await.unwrap();
    let count = |prefix: &str| {
        requests
            .iter()
            .filter(|r| r.url.path().starts_with(prefix))
            .count()
    };
    let (arxiv_n, hn, hf, s2, x, bsky) = (
        count("/arxiv"),
        count("/hn"),
        count("/hf"),
        count("/s2"),
        count("/x"),
        count("/bsky"),
    );
    println!(
        "requests: arxiv {arxiv_n}, bluesky {bsky}, hn {hn}, hf {hf}, s2 {s2}, x {x}, total {}",
        requests.len()
    );
    assert_eq!(bsky, 5, "120 stored posts, 25 per getPosts call");
    let feeds = requests
        .iter()
        .filter(|r| r.url.path().starts_with("/arxiv/rss/"))
        .count();
    assert_eq!(
        arxiv_n,
        feeds + 6,
        "the feeds, then 1,100 ids in id_list batches of 200"
    );
    assert_eq!(hn, 3, "one sweep per linked host");
    assert_eq!(s2, 3, "batches of 500");
    assert_eq!(x, 1, "one empty result page");
    assert_eq!(
        hf, 3,
        "one request per UTC day of the window (06-30, 07-01, 07-02)"
    );
    assert!(requests.len() < 30, "{} requests", requests.len());

    // A second digest within max_signal_age asks nobody.
    let before = requests.len();
    app.digest(
        &DigestRequest {
            date: NaiveDate::from_ymd_opt(2021, 7, 2),
            ..DigestRequest::default()
        },
        &NoProgress,
    )
    .await
    .expect("digest");
    assert_eq!(digest.date, NaiveDate::from_ymd_opt(2021, 7, 2).unwrap());
    assert_eq!(server.received_requests().await.unwrap().len(), before);
}

/// A trending view covers a week of mailings. Those arXiv has no papers for (here every day
/// but 2021-07-02) are asked for once and remembered, not on every view: each such query used
/// to cost seconds of arXiv's pacing per `/hot view:trending`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_mailings_are_asked_once_not_on_every_trending_view() {
    let server = MockServer::start().await;
    let arxiv = FakeArxiv::new(common::seed_entries());
    Mock::given(method("GET"))
        .and(path("/api/query"))
        .respond_with(arxiv.clone())
        .mount(&server)
        .await;
    let mut config = Config::default();
    config.arxiv.api_url = format!("{}/api/query", server.uri());
    config.arxiv.rss_url = format!("{}/rss", server.uri());
    config.arxiv.request_spacing = std::time::Duration::ZERO;
    let store: Arc<dyn hotpapers::store::Store> =
        Arc::new(hotpapers::store::SqliteStore::in_memory().await.unwrap());
    // Monday noon: 2021-07-02 and the week before it are all older than a day.
    let clock = FakeClock::new(Utc.with_ymd_and_hms(2021, 7, 5, 12, 0, 0).unwrap());
    let app = App::with_store(config, store, Arc::new(clock.clone())).unwrap();
    let req = DigestRequest {
        date: NaiveDate::from_ymd_opt(2021, 7, 2),
        top: Some(3),
        trending_days: Some(7),
        ..DigestRequest::default()
    };
    let digest = app.digest(&req, &NoProgress).await.expect("digest");
    assert_eq!(digest.candidates, 14);
    // 2021-07-02 and the four empty mailings before it (07-01, 06-30, 06-29, 06-28).
    let first = arxiv.requests();
    assert_eq!(first.len(), 5, "{first:#?}");
    for later in [Duration::minutes(1), Duration::hours(3), Duration::days(2)] {
        clock.advance(later.to_std().unwrap());
        let digest = app.digest(&req, &NoProgress).await.expect("digest");
        assert_eq!(digest.candidates, 14);
        assert_eq!(arxiv.requests().len(), first.len(), "after {later}");
    }
    // An empty mailing's record is no "latest mailing" (`/categories`).
    let latest = app.store().latest_mailing().await.unwrap().map(|m| m.date);
    assert_eq!(latest, NaiveDate::from_ymd_opt(2021, 7, 2));
}

/// A source that finds attention for one paper of 2021-07-02 and one of another mailing,
/// whatever it is asked (a real source answers for any paper when asked about none), and
/// counts its sweeps.
#[derive(Debug, Default)]
struct EveryPaperSource {
    sweeps: std::sync::atomic::AtomicUsize,
}

#[async_trait::async_trait]
impl hotpapers::sources::Source for EveryPaperSource {
    fn name(&self) -> &'static str {
        "hn"
    }

    async fn collect(
        &self,
        _window: hotpapers::sources::Window,
        _papers: &std::collections::BTreeSet<ArxivId>,
        now: chrono::DateTime<Utc>,
    ) -> Result<hotpapers::sources::Collection, hotpapers::sources::SourceError> {
        self.sweeps
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let signals = ["2107.00641", "2106.99999"]
            .into_iter()
            .map(|k| ArxivId::parse(k).unwrap())
            .map(|paper| hotpapers::store::Signal {
                paper,
                source: "hn".into(),
                metric: "points".into(),
                value: 100.0,
                observed_at: now,
            })
            .collect();
        Ok(hotpapers::sources::Collection {
            signals,
            requests: 1,
            ..Default::default()
        })
    }

    async fn lookup(
        &self,
        _paper: &ArxivId,
        _now: chrono::DateTime<Utc>,
    ) -> Result<hotpapers::sources::Collection, hotpapers::sources::SourceError> {
        Ok(hotpapers::sources::Collection::default())
    }
}

/// `collect --date D` reports D's papers only: none (and no sweep) for a mailing with no
/// papers, and not the other mailings' papers a sweep also finds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn collect_reports_only_the_mailings_papers() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/query"))
        .respond_with(FakeArxiv::new(common::seed_entries()))
        .mount(&server)
        .await;
    let mut config = Config::default();
    config.arxiv.api_url = format!("{}/api/query", server.uri());
    config.arxiv.rss_url = format!("{}/rss", server.uri());
    config.arxiv.request_spacing = std::time::Duration::ZERO;
    let store: Arc<dyn hotpapers::store::Store> =
        Arc::new(hotpapers::store::SqliteStore::in_memory().await.unwrap());
    let clock = FakeClock::new(Utc.with_ymd_and_hms(2021, 7, 5, 12, 0, 0).unwrap());
    let source = Arc::new(EveryPaperSource::default());
    let app = App::with_store(config, store, Arc::new(clock))
        .unwrap()
        .with_sources(vec![source.clone()]);

    // 2021-07-01: arXiv has no papers for it.
    let report = app
        .collect(NaiveDate::from_ymd_opt(2021, 7, 1), &NoProgress)
        .await
        .unwrap();
    assert_eq!(report.sources.len(), 1);
    let hn = &report.sources[0];
    assert_eq!((hn.papers, hn.signals, hn.requests), (0, 0, 0), "{hn:?}");
    assert_eq!(hn.error, None);
    assert_eq!(
        source.sweeps.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "no sweep for no papers"
    );

    // 2021-07-02: one of its papers, not the other mailing's paper the sweep also found.
    let report = app
        .collect(NaiveDate::from_ymd_opt(2021, 7, 2), &NoProgress)
        .await
        .unwrap();
    let hn = &report.sources[0];
    assert_eq!((hn.papers, hn.signals, hn.requests), (1, 1, 1), "{hn:?}");
}
