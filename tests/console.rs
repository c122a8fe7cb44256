//! The command layer end to end: every command through `handle` against an in-memory store, a
//! fake arXiv on loopback and a `FakeClock`; the console loop over in-memory input; and the
//! real `hotpapers console` binary fed through a pipe.

mod common;

use std::path::Path;
use std::process::{Output, Stdio};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use common::{Entry, FakeArxiv, seed_entries};
use hotpapers::app::App;
use hotpapers::arxiv::ArxivId;
use hotpapers::arxiv::taxonomy::Group;
use hotpapers::clock::FakeClock;
use hotpapers::commands::categories::Categories;
use hotpapers::commands::hot::Hot;
use hotpapers::commands::paper::Paper;
use hotpapers::commands::preview::Preview;
use hotpapers::commands::reply::{HOT_PAGE_SIZE, Reply};
use hotpapers::commands::search::Search;
use hotpapers::commands::subscribe::{Subscribe, SubscribeArgs};
use hotpapers::commands::subscriptions::Subscriptions;
use hotpapers::commands::unsubscribe::Unsubscribe;
use hotpapers::commands::{Invoker, Request, handle};
use hotpapers::config::Config;
use hotpapers::console;
use hotpapers::digest::View;
use hotpapers::progress::NoProgress;
use hotpapers::store::{PaperStore, Signal, SignalStore, SqliteStore, Store, SubscriptionStore};
use tokio::io::AsyncWriteExt as _;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn t(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// Saturday 2021-07-03, noon UTC: the latest announced mailing is Friday 2021-07-02's.
fn saturday_noon() -> DateTime<Utc> {
    t(2021, 7, 3, 12, 0)
}

const ADMIN: Invoker = Invoker {
    user_id: 7,
    guild_id: Some(1000),
    can_manage_guild: true,
};

const MEMBER: Invoker = Invoker {
    user_id: 8,
    guild_id: Some(1000),
    can_manage_guild: false,
};

/// An app over an in-memory store, with arXiv at `api` (nothing else reaches the network).
fn app_at(api: &str, store: &SqliteStore, clock: &FakeClock) -> App {
    let mut config = Config::default();
    config.arxiv.api_url = format!("{api}/api/query");
    config.arxiv.rss_url = format!("{api}/rss");
    config.arxiv.request_spacing = Duration::ZERO;
    config.http.max_retries = 1;
    config.http.retry_base_delay = Duration::from_millis(1);
    config.http.retry_max_delay = Duration::from_millis(2);
    let store: Arc<dyn Store> = Arc::new(store.clone());
    App::with_store(config, store, Arc::new(clock.clone())).unwrap()
}

struct Fixture {
    app: App,
    store: SqliteStore,
    clock: FakeClock,
    _server: MockServer,
}

/// The seed mailing of 2021-07-02 ingested through a fake arXiv, with Hacker News points on
/// three papers so the ranking is not a tie: 2107.00630 > 2107.00641 > 2107.00652.
async fn fixture() -> Fixture {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/query"))
        .respond_with(FakeArxiv::new(seed_entries()))
        .mount(&server)
        .await;
    let store = SqliteStore::in_memory().await.unwrap();
    let clock = FakeClock::new(saturday_noon());
    let app = app_at(&server.uri(), &store, &clock);
    let report = app
        .ingest(Some(date(2021, 7, 2)), &NoProgress)
        .await
        .unwrap();
    assert_eq!(report.papers, 14);
    let points = [
        ("2107.00630", 300.0),
        ("2107.00641", 100.0),
        ("2107.00652", 20.0),
    ];
    let signals: Vec<Signal> = points
        .iter()
        .map(|(id, v)| Signal {
            paper: ArxivId::parse(id).unwrap(),
            source: "hn".into(),
            metric: "points".into(),
            value: *v,
            observed_at: t(2021, 7, 3, 10, 0),
        })
        .collect();
    store.record_signals(&signals).await.unwrap();
    Fixture {
        app,
        store,
        clock,
        _server: server,
    }
}

fn error_message(reply: &Reply) -> &str {
    match reply {
        Reply::Error { message, ephemeral } => {
            assert!(*ephemeral, "errors are ephemeral");
            assert!(!message.contains('\n'), "{message}");
            message
        }
        other => panic!("expected an error, got {other:?}"),
    }
}

fn ids(digest: &hotpapers::digest::Digest) -> Vec<String> {
    digest
        .entries
        .iter()
        .map(|e| e.paper.id.to_string())
        .collect()
}

// ------------------------------------------------------------------------------ /hot

#[tokio::test]
async fn hot_ranks_the_mailing_and_pages() {
    let f = fixture().await;
    let req = Request::from(Hot::new(None, Some(3), Some("2021-07-02"), None).unwrap());
    let Reply::Digest {
        digest,
        page,
        per_page,
    } = handle(&f.app, req, &MEMBER).await
    else {
        panic!("not a digest")
    };
    assert_eq!(ids(&digest), ["2107.00630", "2107.00641", "2107.00652"]);
    assert_eq!((page, per_page), (0, HOT_PAGE_SIZE));
    assert_eq!(digest.candidates, 14);
    assert_eq!(digest.view, View::Mailing);

    // Without a date: the latest announced mailing (already stored, so no fetch).
    let mut req = Request::from(Hot::new(None, Some(12), None, None).unwrap());
    if let Request::Hot(Hot { page, .. }) = &mut req {
        *page = 99;
    }
    let Reply::Digest { digest, page, .. } = handle(&f.app, req, &MEMBER).await else {
        panic!("not a digest")
    };
    assert_eq!(digest.date, date(2021, 7, 2));
    assert_eq!(digest.entries.len(), 12);
    // A page past the end is clamped to the last one (12 entries, 5 per page).
    assert_eq!(page, 2);
}

#[tokio::test]
async fn hot_filters_by_category_and_shows_trending() {
    let f = fixture().await;
    let req = Request::from(Hot::new(Some("cs.cv"), Some(25), Some("2021-07-02"), None).unwrap());
    let Reply::Digest { digest, .. } = handle(&f.app, req, &MEMBER).await else {
        panic!("not a digest")
    };
    assert_eq!(digest.categories, ["cs.CV"]);
    assert!(!digest.entries.is_empty());
    assert!(digest.entries.len() < 14);
    for e in &digest.entries {
        assert!(e.paper.categories.iter().any(|c| c == "cs.CV"), "{e:?}");
    }

    let req = Request::from(Hot::new(None, Some(2), Some("2021-07-02"), Some("trending")).unwrap());
    let Reply::Digest { digest, .. } = handle(&f.app, req, &MEMBER).await else {
        panic!("not a digest")
    };
    assert!(
        matches!(digest.view, View::Trending { .. }),
        "{:?}",
        digest.view
    );
}

/// A trending request over more days than the calendar holds is cut to
/// `MAX_TRENDING_DAYS` (it panicked with "`NaiveDate - TimeDelta` overflowed").
#[tokio::test]
async fn trending_over_absurdly_many_days_is_bounded_not_a_panic() {
    let f = fixture().await;
    let req = hotpapers::app::DigestRequest {
        date: Some(date(2021, 7, 2)),
        trending_days: Some(u32::MAX),
        ..Default::default()
    };
    let digest = f.app.digest(&req, &NoProgress).await.expect("a digest");
    let View::Trending { days } = digest.view else {
        panic!("{:?}", digest.view)
    };
    assert!(days <= hotpapers::config::MAX_TRENDING_DAYS, "{days}");
}

/// An attention window past chrono's range (an `App` built from an unvalidated `Config`)
/// sweeps up to now; `collect` panicked with "`DateTime + TimeDelta` overflowed".
#[tokio::test]
async fn collect_with_an_attention_window_beyond_the_calendar_does_not_panic() {
    let f = fixture().await;
    let mut config = f.app.config().clone();
    config.digest.attention_window = Duration::from_secs(300_000 * 31_557_600);
    let store: Arc<dyn Store> = Arc::new(f.store.clone());
    let app = App::with_store(config, store, Arc::new(f.clock.clone())).unwrap();
    let report = app
        .collect(Some(date(2021, 7, 2)), &NoProgress)
        .await
        .expect("collects");
    assert_eq!(report.date, date(2021, 7, 2));
}

#[tokio::test]
async fn trending_of_a_date_decays_from_that_date_not_from_today() {
    let f = fixture().await;
    async fn trending(f: &Fixture) -> Vec<(String, f64, Option<f64>)> {
        let req =
            Request::from(Hot::new(None, Some(3), Some("2021-07-02"), Some("trending")).unwrap());
        let Reply::Digest { digest, .. } = handle(&f.app, req, &MEMBER).await else {
            panic!("not a digest")
        };
        digest
            .entries
            .iter()
            .map(|e| (e.paper.id.to_string(), e.score.total, e.age_hours))
            .collect()
    }
    // Saturday noon: Friday's listing day (ET) is over; its papers are 28 h old at its end
    // (announced Thu 20:00 ET, the day ends Sat 00:00 ET).
    let saturday = trending(&f).await;
    assert_eq!(saturday[0].0, "2107.00630");
    assert_eq!(saturday[0].2, Some(28.0));
    assert!(saturday[0].1 >= 0.005, "shows as 0.00: {saturday:?}");
    // Years later, the same date is the same view, not every score 0.00.
    f.clock.set(t(2026, 3, 6, 12, 0));
    assert_eq!(trending(&f).await, saturday);
}

#[tokio::test]
async fn hot_explains_dates_without_a_mailing() {
    let f = fixture().await;
    // Saturday: names Friday's mailing.
    let req = Request::from(Hot::new(None, None, Some("2021-07-03"), None).unwrap());
    let reply = handle(&f.app, req, &MEMBER).await;
    let msg = error_message(&reply);
    assert!(
        msg.contains("2021-07-02") && msg.contains("weekend"),
        "{msg}"
    );
    // A mailing not announced yet (the clock is Saturday).
    let req = Request::from(Hot::new(None, None, Some("2021-07-07"), None).unwrap());
    let reply = handle(&f.app, req, &MEMBER).await;
    assert!(error_message(&reply).contains("not out yet"), "{reply:?}");
    // Two-digit years and dates before arXiv are refused as typed, on every front end.
    let e = Hot::new(None, None, Some("21-07-02"), None).unwrap_err();
    assert!(e.to_string().contains("'21-07-02' is not a date"), "{e}");
    let e = Hot::new(None, None, Some("1000-01-01"), None).unwrap_err();
    assert!(e.to_string().contains("1991-08-14"), "{e}");
    let outcome = console::answer(&f.app, "/hot date:21-07-02").await;
    assert!(
        matches!(&outcome, console::Outcome::Reply { text, failed: true }
            if text.contains("'21-07-02' is not a date")),
        "{outcome:?}"
    );
}

// ------------------------------------------------------------------------------ /paper

#[tokio::test]
async fn paper_says_when_arxiv_lacks_the_version_asked_for() {
    let f = fixture().await;
    // The store and the fake arXiv have v1 only.
    for asked in ["2107.00630v2", "https://arxiv.org/abs/2107.00630v3"] {
        let reply = handle(&f.app, Request::from(Paper::new(asked).unwrap()), &MEMBER).await;
        let msg = error_message(&reply);
        let v = &asked[asked.len() - 2..];
        assert!(
            msg.contains(&format!("no version {v} of 2107.00630"))
                && msg.contains("latest version is v1"),
            "{asked}: {msg}"
        );
    }
    // v1 and no version are the paper.
    for asked in ["2107.00630v1", "2107.00630"] {
        let reply = handle(&f.app, Request::from(Paper::new(asked).unwrap()), &MEMBER).await;
        assert!(matches!(reply, Reply::Paper(_)), "{asked}: {reply:?}");
    }
}

#[tokio::test]
async fn paper_answers_from_the_store_and_says_when_arxiv_has_none() {
    let f = fixture().await;
    let reply = handle(
        &f.app,
        Request::from(Paper::new("https://arxiv.org/abs/2107.00630").unwrap()),
        &MEMBER,
    )
    .await;
    let Reply::Paper(card) = reply else {
        panic!("not a paper: {reply:?}")
    };
    assert_eq!(card.paper.title, "Variational Diffusion Models");
    assert!(!card.fetched);
    assert!(card.signals.contains_key("hn.points"));

    // Not stored, and the fake arXiv does not know it either.
    let reply = handle(
        &f.app,
        Request::from(Paper::new("2107.99999").unwrap()),
        &MEMBER,
    )
    .await;
    assert_eq!(error_message(&reply), "arXiv has no paper 2107.99999");
}

#[tokio::test]
async fn arxiv_outages_get_a_short_generic_answer() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(503).set_body_string("<html>down for maintenance</html>"),
        )
        .mount(&server)
        .await;
    let store = SqliteStore::in_memory().await.unwrap();
    let clock = FakeClock::new(saturday_noon());
    let app = app_at(&server.uri(), &store, &clock);
    for req in [
        Request::from(Paper::new("2107.00630").unwrap()),
        Request::from(Hot::new(None, None, Some("2021-07-02"), None).unwrap()),
    ] {
        let reply = handle(&app, req, &MEMBER).await;
        let msg = error_message(&reply);
        assert_eq!(
            msg,
            "arXiv is not answering right now; try again in a few minutes"
        );
        assert!(!msg.contains("127.0.0.1"), "no internal URLs leak: {msg}");
    }
}

// ------------------------------------------------------------------------------ /categories

#[tokio::test]
async fn categories_count_the_latest_mailing() {
    let f = fixture().await;
    let Reply::Categories {
        rows,
        date: d,
        group,
    } = handle(
        &f.app,
        Request::from(Categories::new(None).unwrap()),
        &MEMBER,
    )
    .await
    else {
        panic!("not categories")
    };
    assert_eq!(d, Some(date(2021, 7, 2)));
    assert_eq!(group, None);
    // Expected counts straight from the seed data.
    let seed = seed_entries();
    let count = |cat: &str| {
        seed.iter()
            .filter(|e| e.categories.iter().any(|c| c == cat))
            .count() as u32
    };
    let row = |id: &str| rows.iter().find(|r| r.id == id).unwrap();
    for cat in ["cs.LG", "cs.CV", "stat.ML", "cs.CL"] {
        assert_eq!(row(cat).papers, count(cat), "{cat}");
    }
    assert!(count("cs.LG") > 0);
    assert_eq!(row("cs.LG").name, "Machine Learning");
    // Only the categories the mailing has papers in (not ~155 rows of zeros), each once.
    let mut listed: Vec<&str> = seed
        .iter()
        .flat_map(|e| e.categories.iter().map(String::as_str))
        .collect();
    listed.sort_unstable();
    listed.dedup();
    let mut got: Vec<&str> = rows.iter().map(|r| r.id).collect();
    got.sort_unstable();
    assert_eq!(got, listed);
    assert!(rows.iter().all(|r| r.papers > 0), "{rows:?}");
    assert!(!rows.iter().any(|r| r.id == "math.AG"));
    // Groups come in front-page order.
    let groups: Vec<Group> = rows.iter().map(|r| r.group).collect();
    let mut sorted = groups.clone();
    sorted.sort_by_key(|g| Group::ALL.iter().position(|x| x == g));
    assert_eq!(groups, sorted);

    let Reply::Categories { rows, .. } = handle(
        &f.app,
        Request::from(Categories::new(Some("CS")).unwrap()),
        &MEMBER,
    )
    .await
    else {
        panic!("not categories")
    };
    assert!(!rows.is_empty() && rows.iter().all(|r| r.group == Group::Cs));
}

#[tokio::test]
async fn categories_take_a_date_and_skip_mailings_without_papers() {
    let f = fixture().await;
    let categories = |group: Option<&str>, day: Option<&str>| {
        let req = Request::from(Categories::with_date(group, day).unwrap());
        let app = &f.app;
        async move { handle(app, req, &MEMBER).await }
    };
    let ids = |reply: &Reply| match reply {
        Reply::Categories { rows, date, .. } => (
            rows.iter().map(|r| (r.id, r.papers)).collect::<Vec<_>>(),
            *date,
        ),
        other => panic!("not categories: {other:?}"),
    };
    let latest = ids(&categories(None, None).await);
    assert_eq!(latest.1, Some(date(2021, 7, 2)));
    assert_eq!(ids(&categories(None, Some("2021-07-02")).await), latest);
    // Tuesday: Monday's mailing (2021-07-05) is fetched for the date asked, and arXiv has no
    // papers for it.
    f.clock.set(t(2021, 7, 6, 12, 0));
    let monday = categories(Some("cs"), Some("2021-07-05")).await;
    assert_eq!(ids(&monday), (vec![], Some(date(2021, 7, 5))));
    assert!(
        console::render(&monday).contains("(no papers in cs in this mailing)"),
        "{}",
        console::render(&monday)
    );
    // Without a date: the latest mailing with papers, not the later empty one.
    assert_eq!(ids(&categories(None, None).await), latest);
    // A weekend date names the mailing before it.
    let reply = categories(None, Some("2021-07-04")).await;
    assert!(error_message(&reply).contains("2021-07-02"), "{reply:?}");
}

#[tokio::test]
async fn categories_without_any_mailing_have_no_counts() {
    let store = SqliteStore::in_memory().await.unwrap();
    let clock = FakeClock::new(saturday_noon());
    let app = app_at("http://127.0.0.1:9", &store, &clock);
    let reply = handle(
        &app,
        Request::from(Categories::new(Some("econ")).unwrap()),
        &MEMBER,
    )
    .await;
    let Reply::Categories { rows, date, .. } = &reply else {
        panic!("not categories")
    };
    assert_eq!(*date, None);
    assert!(rows.iter().all(|r| r.papers == 0 && r.group == Group::Econ));
    let text = console::render(&reply);
    assert!(
        text.contains("no mailing recorded yet") && text.contains("econ.GN"),
        "{text}"
    );
}

// ------------------------------------------------------------------------------ /search

#[tokio::test]
async fn search_finds_stored_papers_ranked() {
    let f = fixture().await;
    let Reply::Search { query, hits, .. } = handle(
        &f.app,
        Request::from(Search::new("diffusion models", None).unwrap()),
        &MEMBER,
    )
    .await
    else {
        panic!("not a search")
    };
    assert_eq!(query, "diffusion models");
    assert_eq!(
        hits.first().map(|p| p.id.to_string()).as_deref(),
        Some("2107.00630")
    );
    let Reply::Search { hits, .. } = handle(
        &f.app,
        Request::from(Search::new("kingma", Some(1)).unwrap()),
        &MEMBER,
    )
    .await
    else {
        panic!("not a search")
    };
    assert_eq!(hits.len(), 1);
    let reply = handle(
        &f.app,
        Request::from(Search::new("zzzqqq nothing", None).unwrap()),
        &MEMBER,
    )
    .await;
    let Reply::Search { hits, .. } = &reply else {
        panic!("not a search")
    };
    assert!(hits.is_empty());
    assert!(console::render(&reply).contains("No stored paper matches \"zzzqqq nothing\""));
}

#[tokio::test]
async fn search_says_how_many_match_and_speaks_fts5() {
    let f = fixture().await;
    let search = |q: &str, limit: Option<i64>| {
        let req = Request::from(Search::new(q, limit).unwrap());
        let app = &f.app;
        async move { handle(app, req, &MEMBER).await }
    };
    let reply = search("transformer", Some(3)).await;
    let Reply::Search { hits, total, .. } = &reply else {
        panic!("not a search: {reply:?}")
    };
    assert_eq!(hits.len(), 3);
    assert!(*total > 3, "{total}");
    let text = console::render(&reply);
    assert!(
        text.starts_with(&format!("3 of {total} papers matching \"transformer\":")),
        "{text}"
    );
    // All of them: no "of".
    let reply = search("transformer", Some(25)).await;
    assert!(
        console::render(&reply).starts_with(&format!("{total} papers matching")),
        "{reply:?}"
    );
    // OR is an operator, a trailing * a prefix.
    let count = |reply: &Reply| match reply {
        Reply::Search { total, .. } => *total,
        other => panic!("not a search: {other:?}"),
    };
    let kingma = count(&search("kingma", None).await);
    let narasimhan = count(&search("narasimhan", None).await);
    assert!(kingma > 0 && narasimhan > 0);
    assert_eq!(
        count(&search("kingma OR narasimhan", None).await),
        kingma + narasimhan
    );
    assert!(count(&search("vis*", None).await) > count(&search("vision", None).await));
    // Broken syntax is a clear error before anything runs.
    let e = Search::new("transformer OR", None).unwrap_err().to_string();
    assert!(e.contains("OR needs a word on each side"), "{e}");
}

// ------------------------------------------------------------------------------ channels

#[tokio::test]
async fn every_command_taking_a_channel_refuses_channel_zero() {
    let f = fixture().await;
    for line in [
        "/subscribe channel:0 time:08:00 timezone:UTC",
        "/subscribe channel:<#0> time:08:00 timezone:UTC",
        "/subscribe channel:9223372036854775808 time:08:00 timezone:UTC",
        "/unsubscribe 0",
        "/preview <#0>",
    ] {
        let outcome = console::answer(&f.app, line).await;
        assert!(
            matches!(&outcome, console::Outcome::Reply { text, failed: true }
                if text.contains("is not a channel")),
            "{line}: {outcome:?}"
        );
    }
    assert!(f.store.guild_subscriptions(0).await.unwrap().is_empty());
}

// ------------------------------------------------------------------------------ subscriptions

fn subscribe(channel: u64, time: &str, zone: &str, count: Option<i64>) -> Request {
    Request::from(
        Subscribe::new(SubscribeArgs {
            channel,
            time,
            timezone: zone,
            categories: Some("cs.LG, cs.CV"),
            count,
            min_score: None,
        })
        .unwrap(),
    )
}

#[tokio::test]
async fn admin_commands_need_manage_server_and_a_server() {
    let f = fixture().await;
    let dm = Invoker {
        user_id: 7,
        guild_id: None,
        can_manage_guild: true,
    };
    for req in [
        subscribe(1, "08:00", "UTC", None),
        Request::Unsubscribe(Unsubscribe { channel: 1 }),
        Request::Subscriptions(Subscriptions),
        Request::Preview(Preview { channel: 1 }),
    ] {
        let name = req.name();
        let reply = handle(&f.app, req.clone(), &MEMBER).await;
        assert_eq!(
            error_message(&reply),
            format!("only members with the Manage Server permission can use /{name}")
        );
        let reply = handle(&f.app, req, &dm).await;
        assert!(
            error_message(&reply).contains("not in direct messages"),
            "{reply:?}"
        );
    }
    // Nothing was stored by the refused requests.
    assert!(f.store.guild_subscriptions(1000).await.unwrap().is_empty());
}

#[tokio::test]
async fn subscribe_list_resubscribe_unsubscribe() {
    let f = fixture().await;
    let reply = handle(
        &f.app,
        subscribe(42, "08:00", "Europe/Berlin", None),
        &ADMIN,
    )
    .await;
    let Reply::Subscribed { status, replaced } = &reply else {
        panic!("not subscribed: {reply:?}")
    };
    assert!(!replaced);
    let sub = &status.subscription;
    assert_eq!(
        (sub.guild_id, sub.channel_id, sub.created_by),
        (1000, 42, 7)
    );
    assert_eq!(sub.categories, ["cs.LG", "cs.CV"]);
    assert_eq!(sub.count, 10, "[digest] top");
    assert_eq!(sub.created_at, saturday_noon());
    // Saturday 12:00Z is 14:00 in Berlin: the next 08:00 CEST is Sunday 06:00Z.
    assert_eq!(status.next_post, Some(t(2021, 7, 4, 6, 0)));
    let text = console::render(&reply);
    assert!(
        text.contains(
            "Subscribed channel 42: daily at 08:00 Europe/Berlin, top 10 of cs.LG, cs.CV."
        ) && text.contains("Next post: Sun 2021-07-04 08:00 CEST (06:00 UTC)."),
        "{text}"
    );
    assert!(reply.is_ephemeral());

    // Re-subscribing replaces the settings and keeps the id.
    f.clock.advance(Duration::from_secs(3600));
    let reply = handle(
        &f.app,
        subscribe(42, "7:30", "America/New_York", Some(3)),
        &ADMIN,
    )
    .await;
    let Reply::Subscribed { status, replaced } = &reply else {
        panic!("not subscribed: {reply:?}")
    };
    assert!(replaced);
    assert_eq!(status.subscription.id, sub.id);
    assert_eq!(status.subscription.count, 3);
    assert_eq!(
        status.subscription.time,
        NaiveTime::from_hms_opt(7, 30, 0).unwrap()
    );
    assert_eq!(status.next_post, Some(t(2021, 7, 4, 11, 30)));

    // Another server's subscription is not listed here and cannot be removed from here.
    let other = Invoker {
        guild_id: Some(2000),
        ..ADMIN
    };
    handle(&f.app, subscribe(43, "09:00", "UTC", None), &other).await;
    let reply = handle(&f.app, Request::Subscriptions(Subscriptions), &ADMIN).await;
    let Reply::Subscriptions(list) = &reply else {
        panic!("not a list: {reply:?}")
    };
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].subscription.channel_id, 42);
    let reply = handle(
        &f.app,
        Request::Unsubscribe(Unsubscribe { channel: 43 }),
        &ADMIN,
    )
    .await;
    assert_eq!(
        error_message(&reply),
        "channel 43 has no subscription in this server; /subscriptions lists them"
    );

    let reply = handle(
        &f.app,
        Request::Unsubscribe(Unsubscribe { channel: 42 }),
        &ADMIN,
    )
    .await;
    let Reply::Unsubscribed(gone) = &reply else {
        panic!("not unsubscribed: {reply:?}")
    };
    assert_eq!(gone.channel_id, 42);
    let reply = handle(&f.app, Request::Subscriptions(Subscriptions), &ADMIN).await;
    assert_eq!(reply, Reply::Subscriptions(vec![]));
    assert!(console::render(&reply).contains("No channel of this server is subscribed"));
    let reply = handle(
        &f.app,
        Request::Unsubscribe(Unsubscribe { channel: 42 }),
        &ADMIN,
    )
    .await;
    assert!(error_message(&reply).contains("has no subscription"));
}

#[tokio::test]
async fn disabled_subscriptions_show_why_and_have_no_next_post() {
    let f = fixture().await;
    let Reply::Subscribed { status, .. } =
        handle(&f.app, subscribe(42, "08:00", "UTC", None), &ADMIN).await
    else {
        panic!("not subscribed")
    };
    assert!(
        f.store
            .disable_subscription(status.subscription.id, "missing permission: Send Messages")
            .await
            .unwrap()
    );
    let reply = handle(&f.app, Request::Subscriptions(Subscriptions), &ADMIN).await;
    let Reply::Subscriptions(list) = &reply else {
        panic!("not a list")
    };
    assert_eq!(list[0].next_post, None);
    assert!(
        console::render(&reply).contains("DISABLED: missing permission: Send Messages"),
        "{}",
        console::render(&reply)
    );
    // Re-subscribing re-enables it.
    let Reply::Subscribed { status, .. } =
        handle(&f.app, subscribe(42, "08:00", "UTC", None), &ADMIN).await
    else {
        panic!("not subscribed")
    };
    assert!(status.subscription.is_active() && status.next_post.is_some());
}

#[tokio::test]
async fn preview_shows_the_next_post() {
    let f = fixture().await;
    let req = Subscribe::new(SubscribeArgs {
        channel: 42,
        time: "08:00",
        timezone: "Europe/Berlin",
        categories: None,
        count: Some(5),
        // ln(1 + 20) ≈ 3.04 (2107.00652) is left out; ln(1 + 100) ≈ 4.6 stays.
        min_score: Some(4.0),
    })
    .unwrap();
    handle(&f.app, req, &ADMIN).await;
    let reply = handle(&f.app, Request::Preview(Preview { channel: 42 }), &ADMIN).await;
    let Reply::Preview {
        status,
        mailing,
        digest,
    } = &reply
    else {
        panic!("not a preview: {reply:?}")
    };
    assert_eq!(status.next_post, Some(t(2021, 7, 4, 6, 0)));
    assert_eq!(*mailing, date(2021, 7, 2));
    assert_eq!(ids(digest), ["2107.00630", "2107.00641"]);
    let text = console::render(&reply);
    assert!(
        text.contains(
            "Next post: Sun 2021-07-04 08:00 CEST (06:00 UTC), with the mailing of Fri 2021-07-02, \
             unless this channel already had it:"
        ),
        "{text}"
    );
    let reply = handle(&f.app, Request::Preview(Preview { channel: 43 }), &ADMIN).await;
    assert!(error_message(&reply).contains("channel 43 has no subscription"));
}

#[tokio::test]
async fn corrupt_store_data_gets_a_generic_answer() {
    let f = fixture().await;
    sqlx::query(
        "INSERT INTO subscriptions (guild_id, channel_id, local_time, timezone, categories, count, \
         created_by, created_at) VALUES ('1000', '5', '08:00', 'Mars/Olympus', '[]', 3, '7', \
         '2021-07-03T00:00:00Z')",
    )
    .execute(f.store.pool())
    .await
    .unwrap();
    let reply = handle(&f.app, Request::Subscriptions(Subscriptions), &ADMIN).await;
    assert_eq!(
        error_message(&reply),
        "something went wrong on the bot's side; the details are in its log"
    );
}

// ------------------------------------------------------------------------------ console loop

async fn run_console(
    app: &App,
    input: &str,
    interactive: bool,
) -> (String, String, console::Summary) {
    let mut out = Vec::new();
    let mut err = Vec::new();
    let summary = console::run(app, input.as_bytes(), &mut out, &mut err, interactive)
        .await
        .unwrap();
    (
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
        summary,
    )
}

#[tokio::test]
async fn console_loop_answers_in_order_and_separates_errors() {
    let f = fixture().await;
    let input = "# a comment\n\n/hot date:2021-07-02 count:2\n/hot count:0\n/bogus\nsearch diffusion\nquit\n/paper 2107.00630\n";
    let (out, err, summary) = run_console(&f.app, input, false).await;
    assert_eq!(
        summary,
        console::Summary {
            commands: 4,
            failed: 2
        }
    );
    let digest = console::render(
        &handle(
            &f.app,
            Request::from(Hot::new(None, Some(2), Some("2021-07-02"), None).unwrap()),
            &MEMBER,
        )
        .await,
    );
    let search = console::render(
        &handle(
            &f.app,
            Request::from(Search::new("diffusion", None).unwrap()),
            &MEMBER,
        )
        .await,
    );
    // Answers separated by one blank line; nothing after `quit`; no prompt when piped.
    assert_eq!(out, format!("{digest}\n{search}"));
    assert_eq!(
        err,
        "error: count must be a whole number from 1 to 25, not '0'\n\
         error: unknown command '/bogus'; commands: /hot, /paper, /categories, /search, /subscribe, /unsubscribe, /subscriptions, /preview, help, quit\n"
    );
}

#[tokio::test]
async fn console_prompts_only_when_interactive() {
    let f = fixture().await;
    let (out, _, summary) = run_console(&f.app, "help\n", true).await;
    assert!(out.starts_with("hotpapers> Commands"), "{out}");
    assert_eq!(out.matches("hotpapers> ").count(), 2, "{out}");
    assert_eq!(summary.commands, 0);
    let (out, _, _) = run_console(&f.app, "help\n", false).await;
    assert!(!out.contains("hotpapers>"), "{out}");
    assert!(
        out.contains("/subscribe") && out.contains("pseudo-server 0"),
        "{out}"
    );
}

#[tokio::test]
async fn console_subscribes_as_admin_of_pseudo_server_zero() {
    let f = fixture().await;
    let input = "/subscribe channel:123 time:08:00 timezone:Europe/Berlin categories:cs.LG,cs.CV\n/subscriptions\n";
    let (out, err, _) = run_console(&f.app, input, false).await;
    assert_eq!(err, "");
    assert!(out.contains("Subscribed channel 123"), "{out}");
    assert!(
        out.contains("1 subscribed channel(s):\n  channel 123: daily at 08:00 Europe/Berlin"),
        "{out}"
    );
    let subs = f.store.guild_subscriptions(0).await.unwrap();
    assert_eq!(subs.len(), 1);
    assert_eq!((subs[0].guild_id, subs[0].created_by), (0, 0));
}

// ------------------------------------------------------------------------------ the binary

/// The seed mailing plus one paper submitted after its window (it must not show).
fn mailing_2021_07_02() -> Vec<Entry> {
    let mut papers = seed_entries();
    papers.push(Entry::simple("2107.00701", t(2021, 7, 1, 18, 1), "cs.LG"));
    papers
}

async fn fake_arxiv_server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/query"))
        .respond_with(FakeArxiv::new(mailing_2021_07_02()))
        .mount(&server)
        .await;
    server
}

async fn run_piped(dir: &Path, api: &str, stdin: &str) -> Output {
    let mut child = common::hotpapers_command(dir, api)
        .arg("console")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn hotpapers console");
    let mut input = child.stdin.take().expect("stdin");
    input.write_all(stdin.as_bytes()).await.unwrap();
    drop(input);
    child
        .wait_with_output()
        .await
        .expect("run hotpapers console")
}

async fn run_args(dir: &Path, api: &str, args: &[&str]) -> Output {
    common::hotpapers_command(dir, api)
        .args(args)
        .output()
        .await
        .expect("run hotpapers")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn piped_console_prints_exactly_the_top_three_then_the_paper_card() {
    let dir = tempfile::tempdir().unwrap();
    let server = fake_arxiv_server().await;
    let out = run_piped(
        dir.path(),
        &server.uri(),
        "/hot date:2021-07-02 count:3\n/paper 2107.00630\n",
    )
    .await;
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    let console_out = text(&out.stdout);

    // The same answers from the one-shot commands (same store, now filled).
    let digest = run_args(
        dir.path(),
        &server.uri(),
        &[
            "digest",
            "--date",
            "2021-07-02",
            "--top",
            "3",
            "--format",
            "text",
        ],
    )
    .await;
    assert!(digest.status.success(), "{}", text(&digest.stderr));
    let card = run_args(dir.path(), &server.uri(), &["paper", "2107.00630"]).await;
    assert!(card.status.success(), "{}", text(&card.stderr));
    assert_eq!(
        console_out,
        format!("{}\n{}", text(&digest.stdout), text(&card.stdout))
    );

    // Exactly three ranked papers, then the card.
    let (top, card) = console_out
        .split_once("\n\n2107.00630v1  Variational Diffusion Models\n")
        .expect("card follows the digest");
    assert!(
        top.starts_with("Hot papers of the arXiv mailing of Fri 2021-07-02: top 3 of 14\n"),
        "{top}"
    );
    for rank in ["  1. ", "  2. ", "  3. "] {
        assert_eq!(top.matches(rank).count(), 1, "{top}");
    }
    assert!(!top.contains("  4. "), "{top}");
    assert!(card.starts_with("Authors:    Diederik P. Kingma"), "{card}");
    assert!(card.contains("Abstract:\n"), "{card}");
    assert!(!console_out.contains("hotpapers>"), "no prompt when piped");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn piped_console_errors_go_to_stderr_and_fail_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let server = fake_arxiv_server().await;
    let out = run_piped(
        dir.path(),
        &server.uri(),
        "/hot count:99\n/subscribe channel:1 time:25:00 timezone:UTC\n/paper 2107.00630\n",
    )
    .await;
    assert!(!out.status.success());
    let err = text(&out.stderr);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(
        lines,
        [
            "error: count must be a whole number from 1 to 25, not '99'",
            "error: '25:00' is not a time of day; use 24-hour HH:MM, e.g. 08:00 or 17:30",
            "error: 2 of 3 console command(s) failed",
        ],
        "{err}"
    );
    assert!(text(&out.stdout).starts_with("2107.00630v1  Variational Diffusion Models\n"));
}

/// `App::paper` fills the card's summary and links, so the console shows what Discord shows:
/// Hugging Face's AI summary before Semantic Scholar's TL;DR, and web links only.
#[tokio::test]
async fn paper_card_shows_the_sources_summary_and_links() {
    let f = fixture().await;
    let extra = |paper: &str, source: &str, key: &str, value: &str| hotpapers::store::Extra {
        paper: ArxivId::parse(paper).unwrap(),
        source: source.into(),
        key: key.into(),
        value: value.into(),
        observed_at: t(2021, 7, 3, 10, 0),
    };
    f.store
        .record_extras(&[
            extra("2107.00630", "s2", "tldr", "The S2 TL;DR."),
            extra(
                "2107.00630",
                "hf",
                "ai_summary",
                "The HF summary of it\u{1b}[31m.",
            ),
            extra("2107.00630", "hf", "github_repo", "https://github.com/a/b"),
            extra("2107.00630", "hf", "project_page", "javascript:alert(1)"),
            extra("2107.00641", "s2", "tldr", "Only a TL;DR here."),
        ])
        .await
        .unwrap();
    let (out, err, _) = run_console(&f.app, "/paper 2107.00630\n/paper 2107.00641\n", false).await;
    assert_eq!(err, "");
    let (first, second) = out.split_once("\n\n").unwrap();
    assert!(
        first.contains("\nTL;DR:      The HF summary of it [31m. (Hugging Face)\n"),
        "{first}"
    );
    assert!(
        !first.contains("S2 TL;DR") && !first.contains('\u{1b}'),
        "{first}"
    );
    assert!(
        first.contains("\nCode:       https://github.com/a/b\n"),
        "{first}"
    );
    assert!(
        !first.contains("javascript") && !first.contains("Project:"),
        "{first}"
    );
    assert!(
        second.contains("\nTL;DR:      Only a TL;DR here. (Semantic Scholar)\n"),
        "{second}"
    );
    assert!(!second.contains("Code:"), "{second}");
}

/// `/hot` shows each paper's summary on a `TL;DR:` line, and `/paper` shows the same summary
/// with where it came from: here the extractive summarizer (no source has one).
#[tokio::test]
async fn hot_and_paper_show_the_summary() {
    let f = fixture().await;
    let (out, err, _) = run_console(
        &f.app,
        "/hot date:2021-07-02 count:3\n/paper 2107.00641\n",
        false,
    )
    .await;
    assert_eq!(err, "");
    let tldrs: Vec<&str> = out.lines().filter(|l| l.contains("TL;DR:")).collect();
    assert_eq!(tldrs.len(), 4, "{out}");
    assert!(
        out.contains("TL;DR:      We present focal self-attention"),
        "{out}"
    );
    assert!(out.contains("(extractive)\n"), "{out}");
}

#[tokio::test]
async fn an_over_long_line_counts_as_one_failed_command() {
    let f = fixture().await;
    let input = format!("/hot {}\n", "x".repeat(20 * 1024));
    let (_, err, summary) = run_console(&f.app, &input, false).await;
    assert!(err.contains("error:"), "{err}");
    assert_eq!((summary.failed, summary.commands), (1, 1));
}
