//! The daily post scheduler in-process: an `App` over an in-memory SQLite store seeded with the
//! 2021-07-02 mailing (through a fake arXiv; attention sources off), a `FakeClock`, and a fake
//! Discord REST API on loopback (through the proxy base) capturing every request.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use common::{Entry, FakeArxiv, seed_entries};
use hotpapers::app::App;
use hotpapers::arxiv::ArxivId;
use hotpapers::clock::FakeClock;
use hotpapers::commands::preview::Preview;
use hotpapers::commands::reply::Reply;
use hotpapers::commands::subscriptions::Subscriptions;
use hotpapers::commands::{Invoker, Request, handle};
use hotpapers::config::Config;
use hotpapers::discord::delivery::{Deliverer, Delivery, Target, snowflake_at};
use hotpapers::discord::limits::violations;
use hotpapers::discord::post::{http_client, nonce};
use hotpapers::discord::rest::Rest;
use hotpapers::discord::scheduler::{
    FireOutcome, FireResult, MAX_SLEEP, Scheduler, SchedulerOptions,
};
use hotpapers::progress::NoProgress;
use hotpapers::store::{
    Mention, MentionCounts, MentionStore, PostLog, PostState, Signal, SignalStore, SqliteStore,
    Store, SubscriptionStore,
};
use hotpapers::subscription::Subscription;
use serde_json::Value;
use tracing::instrument::WithSubscriber as _;
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request as WireRequest, Respond, ResponseTemplate};

const GUILD: u64 = 1000;
const BOT_ID: u64 = 7;

fn t(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn message_json(id: u64, channel: u64) -> Value {
    serde_json::json!({
        "id": id.to_string(), "channel_id": channel.to_string(), "content": "",
        "timestamp": "2021-07-03T08:00:00+00:00", "edited_timestamp": null, "tts": false,
        "mention_everyone": false, "mentions": [], "mention_roles": [], "attachments": [],
        "embeds": [], "pinned": false, "type": 0,
        "author": {"id": BOT_ID.to_string(), "username": "hotpapers", "discriminator": "0",
                   "avatar": null, "bot": true}
    })
}

/// Answers message posts with a fresh id, and measures how many requests overlap: each
/// response is held back `hold`, so requests that overlap are in flight together.
#[derive(Clone)]
struct FakeChannel {
    next_id: Arc<AtomicUsize>,
    arrivals: Arc<Mutex<Vec<Instant>>>,
    hold: StdDuration,
}

impl FakeChannel {
    fn new(hold: StdDuration) -> FakeChannel {
        FakeChannel {
            next_id: Arc::new(AtomicUsize::new(1000)),
            arrivals: Arc::new(Mutex::new(Vec::new())),
            hold,
        }
    }

    /// The most requests that arrived within one `hold` of each other (an upper bound of
    /// what was in flight at once: a sender's next request comes after its response).
    fn max_in_flight(&self) -> usize {
        let mut a = self.arrivals.lock().unwrap().clone();
        a.sort();
        (0..a.len())
            .map(|i| a[..=i].iter().filter(|x| a[i] - **x < self.hold).count())
            .max()
            .unwrap_or(0)
    }
}

impl Respond for FakeChannel {
    fn respond(&self, req: &WireRequest) -> ResponseTemplate {
        self.arrivals.lock().unwrap().push(Instant::now());
        let id = self.next_id.fetch_add(1, Ordering::SeqCst) as u64;
        let channel = req
            .url
            .path()
            .split('/')
            .nth(4)
            .and_then(|c| c.parse().ok())
            .unwrap_or(1);
        let mut r = ResponseTemplate::new(200).set_body_json(message_json(id, channel));
        if !self.hold.is_zero() {
            r = r.set_delay(self.hold);
        }
        r
    }
}

struct Env {
    app: Arc<App>,
    store: SqliteStore,
    clock: FakeClock,
    discord: MockServer,
    _arxiv: MockServer,
}

/// Papers of two more mailings, so DST-day posts have something to show: Fri 2021-03-26 and
/// Fri 2021-11-05 (each submitted inside its window).
fn extra_entries() -> Vec<Entry> {
    vec![
        Entry::simple("2103.14000", t(2021, 3, 25, 12, 0), "cs.LG"),
        Entry::simple("2111.02000", t(2021, 11, 4, 12, 0), "cs.LG"),
    ]
}

/// The 2021-07-02 mailing ingested, the clock at `now`, Discord answering posts with `channel`.
async fn env_with(now: DateTime<Utc>, channel: Option<FakeChannel>) -> Env {
    let arxiv = MockServer::start().await;
    let mut entries = seed_entries();
    entries.extend(extra_entries());
    Mock::given(method("GET"))
        .and(path("/api/query"))
        .respond_with(FakeArxiv::new(entries))
        .mount(&arxiv)
        .await;
    let discord = MockServer::start().await;
    if let Some(channel) = channel {
        Mock::given(method("POST"))
            .and(path_regex(r"^/api/v10/channels/\d+/messages$"))
            .respond_with(channel)
            .mount(&discord)
            .await;
    }
    let mut config = Config::default();
    config.discord.proxy_url = Some(discord.uri());
    config.arxiv.api_url = format!("{}/api/query", arxiv.uri());
    config.arxiv.rss_url = format!("{}/rss", arxiv.uri());
    config.arxiv.request_spacing = StdDuration::ZERO;
    config.http.max_retries = 1;
    config.http.retry_base_delay = StdDuration::from_millis(1);
    config.http.retry_max_delay = StdDuration::from_millis(2);
    let store = SqliteStore::in_memory().await.unwrap();
    let clock = FakeClock::new(t(2021, 7, 3, 12, 0));
    let dyn_store: Arc<dyn Store> = Arc::new(store.clone());
    let app = App::with_store(config, dyn_store, Arc::new(clock.clone())).unwrap();
    app.ingest(Some(date(2021, 7, 2)), &NoProgress)
        .await
        .unwrap();
    // The DST-day mailings, ingested as of later (a post's digest would otherwise fetch the
    // day's mailing from the RSS feed, which the fake does not serve).
    clock.set(t(2021, 12, 1, 0, 0));
    for d in [date(2021, 3, 26), date(2021, 11, 5)] {
        app.ingest(Some(d), &NoProgress).await.unwrap();
    }
    clock.set(now);
    Env {
        app: Arc::new(app),
        store,
        clock,
        discord,
        _arxiv: arxiv,
    }
}

async fn env(now: DateTime<Utc>) -> Env {
    env_with(now, Some(FakeChannel::new(StdDuration::ZERO))).await
}

impl Env {
    fn scheduler(&self, options: SchedulerOptions) -> Scheduler {
        let http = http_client(Some("test-token"), Some(&self.discord.uri())).unwrap();
        Scheduler::new(self.app.clone(), Arc::new(http), options)
    }

    async fn subscribe(
        &self,
        channel: u64,
        time: &str,
        zone: &str,
        count: u8,
        created_at: DateTime<Utc>,
    ) -> Subscription {
        let sub = Subscription {
            id: 0,
            guild_id: GUILD,
            channel_id: channel,
            time: NaiveTime::parse_from_str(time, "%H:%M").unwrap(),
            timezone: zone.parse().unwrap(),
            categories: vec![],
            count,
            min_score: 0.0,
            created_by: 1,
            created_at,
            disabled_reason: None,
        };
        self.store.upsert_subscription(&sub).await.unwrap().stored
    }

    /// Bodies of every message post so far, after checking each is within Discord's limits
    /// and pings nobody.
    async fn posts(&self) -> Vec<(u64, Value)> {
        let posts: Vec<(u64, Value)> = self
            .discord
            .received_requests()
            .await
            .unwrap()
            .iter()
            .filter(|r| r.method == wiremock::http::Method::POST)
            .map(|r| {
                let channel = r.url.path().split('/').nth(4).unwrap().parse().unwrap();
                (channel, serde_json::from_slice(&r.body).expect("json body"))
            })
            .collect();
        for (_, body) in &posts {
            assert_eq!(violations(body), vec![], "{body}");
            // No kind of mention may ping: nothing parsed, no user or role listed.
            let mentions = &body["allowed_mentions"];
            assert_eq!(mentions["parse"], serde_json::json!([]), "{body}");
            for listed in ["users", "roles"] {
                assert!(
                    mentions
                        .get(listed)
                        .is_none_or(|v| v == &serde_json::json!([])),
                    "{body}"
                );
            }
            assert_eq!(body["enforce_nonce"], true);
        }
        posts
    }

    async fn tick_at(&self, scheduler: &Scheduler, now: DateTime<Utc>) -> Vec<FireOutcome> {
        self.clock.set(now);
        scheduler.tick().await
    }
}

fn posted(outcomes: &[FireOutcome]) -> Vec<&FireOutcome> {
    outcomes
        .iter()
        .filter(|o| matches!(o.result, FireResult::Posted(_)))
        .collect()
}

/// Nothing before `fire`, one digest of `mailing` at it, nothing more a minute later.
async fn fires_once_at(zone: &str, time: &str, fire: DateTime<Utc>, mailing: NaiveDate) {
    let e = env(fire - Duration::hours(1)).await;
    let s = e.scheduler(SchedulerOptions::default());
    e.subscribe(42, time, zone, 14, fire - Duration::days(3))
        .await;
    for before in [fire - Duration::minutes(30), fire - Duration::seconds(1)] {
        let out = e.tick_at(&s, before).await;
        assert!(posted(&out).is_empty(), "{zone} {before}: {out:?}");
        assert!(e.posts().await.is_empty(), "{zone} {before}");
    }
    let out = e.tick_at(&s, fire).await;
    assert_eq!(posted(&out).len(), 1, "{zone}: {out:?}");
    assert_eq!(out[0].fire_at, fire);
    assert_eq!(out[0].mailing, mailing);
    let parts = e.posts().await;
    assert!(!parts.is_empty());
    let first = parts[0].1["content"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        first.contains(&mailing.format("%Y-%m-%d").to_string()),
        "{first}"
    );
    let out = e.tick_at(&s, fire + Duration::minutes(1)).await;
    assert!(out.is_empty(), "{out:?}");
    assert_eq!(e.posts().await.len(), parts.len());
    let record = e.store.post_record(42, mailing).await.unwrap().unwrap();
    assert_eq!(record.state, PostState::Sent);
}

#[tokio::test]
async fn fires_at_local_time_in_berlin_and_new_york() {
    // Saturday after the 2021-07-02 mailing: 08:00 CEST is 06:00Z, 08:00 EDT is 12:00Z.
    fires_once_at(
        "Europe/Berlin",
        "08:00",
        t(2021, 7, 3, 6, 0),
        date(2021, 7, 2),
    )
    .await;
    fires_once_at(
        "America/New_York",
        "08:00",
        t(2021, 7, 3, 12, 0),
        date(2021, 7, 2),
    )
    .await;
}

#[tokio::test]
async fn fires_at_local_time_on_dst_change_days() {
    // Berlin springs forward on Sun 2021-03-28: 08:00 is 06:00Z (07:00Z the day before).
    fires_once_at(
        "Europe/Berlin",
        "08:00",
        t(2021, 3, 28, 6, 0),
        date(2021, 3, 26),
    )
    .await;
    // New York falls back on Sun 2021-11-07: 09:00 is 14:00Z (13:00Z the day before, which
    // the "30 minutes before" tick is after).
    fires_once_at(
        "America/New_York",
        "09:00",
        t(2021, 11, 7, 14, 0),
        date(2021, 11, 5),
    )
    .await;
}

#[tokio::test]
async fn weekend_and_monday_ticks_post_nothing_new() {
    let e = env(t(2021, 7, 3, 6, 0)).await;
    let s = e.scheduler(SchedulerOptions::default());
    e.subscribe(42, "08:00", "Europe/Berlin", 5, t(2021, 6, 30, 0, 0))
        .await;
    assert_eq!(posted(&e.tick_at(&s, t(2021, 7, 3, 6, 0)).await).len(), 1);
    let n = e.posts().await.len();
    // Sunday and Monday morning, the latest mailing at least a day old is still Friday's.
    for now in [
        t(2021, 7, 4, 6, 0),
        t(2021, 7, 5, 6, 0),
        t(2021, 7, 5, 7, 0),
    ] {
        let out = e.tick_at(&s, now).await;
        assert!(out.is_empty(), "{now}: {out:?}");
    }
    assert_eq!(e.posts().await.len(), n);
}

/// Log lines written while `f` runs (only the scheduler's own task is captured).
#[derive(Clone, Default)]
struct LogBuf(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogBuf {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn after_downtime_posts_within_the_grace_period_and_skips_beyond_it() {
    // Three hours late: posted.
    let e = env(t(2021, 7, 3, 9, 0)).await;
    let s = e.scheduler(SchedulerOptions::default());
    e.subscribe(42, "08:00", "Europe/Berlin", 5, t(2021, 6, 30, 0, 0))
        .await;
    let out = e.tick_at(&s, t(2021, 7, 3, 9, 0)).await;
    assert_eq!(posted(&out).len(), 1, "{out:?}");

    // Ten hours late: skipped with one log line however many ticks notice it, nothing posted.
    let e = env(t(2021, 7, 3, 16, 0)).await;
    let s = e.scheduler(SchedulerOptions::default());
    e.subscribe(42, "08:00", "Europe/Berlin", 5, t(2021, 6, 30, 0, 0))
        .await;
    let logs = LogBuf::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let dispatch = tracing::Dispatch::new(subscriber);
    let first = e
        .tick_at(&s, t(2021, 7, 3, 16, 0))
        .with_subscriber(dispatch.clone())
        .await;
    let second = e
        .tick_at(&s, t(2021, 7, 3, 16, 5))
        .with_subscriber(dispatch)
        .await;
    assert!(
        matches!(first.as_slice(), [FireOutcome { result: FireResult::Skipped { late_by }, .. }]
            if *late_by == Duration::hours(10)),
        "{first:?}"
    );
    assert!(second.is_empty(), "{second:?}");
    assert!(e.posts().await.is_empty());
    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert_eq!(
        text.matches("skipping a daily post missed by more than the grace period")
            .count(),
        1,
        "{text}"
    );
    assert_eq!(
        e.store.post_record(42, date(2021, 7, 2)).await.unwrap(),
        None
    );
}

#[tokio::test]
async fn a_subscription_created_after_todays_time_waits_for_tomorrow() {
    let e = env(t(2021, 7, 3, 8, 0)).await;
    let s = e.scheduler(SchedulerOptions::default());
    // Subscribed at 10:00 CEST for 08:00: today's 08:00 has passed.
    e.subscribe(42, "08:00", "Europe/Berlin", 5, t(2021, 7, 3, 8, 0))
        .await;
    for now in [
        t(2021, 7, 3, 8, 0),
        t(2021, 7, 3, 12, 0),
        t(2021, 7, 4, 5, 59),
    ] {
        assert!(e.tick_at(&s, now).await.is_empty(), "{now}");
    }
    assert!(e.posts().await.is_empty());
    let out = e.tick_at(&s, t(2021, 7, 4, 6, 0)).await;
    assert_eq!(posted(&out).len(), 1, "{out:?}");
    assert_eq!(out[0].mailing, date(2021, 7, 2));
}

#[tokio::test]
async fn a_restart_mid_post_sends_only_the_missing_part_with_its_nonce() {
    let e = env(t(2021, 7, 3, 6, 1)).await;
    let channel = 42;
    let mailing = date(2021, 7, 2);
    let started = t(2021, 7, 3, 6, 0);
    // The bot's own id, and part 1 of 2 already in the channel (plus noise: another user's
    // message with the same marker, and the bot's post of another mailing).
    Mock::given(method("GET"))
        .and(path("/api/v10/users/@me"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "id": BOT_ID.to_string(), "username": "hotpapers", "discriminator": "0",
            "avatar": null, "bot": true
        })))
        .expect(1)
        .mount(&e.discord)
        .await;
    let part = |id: u64, author: u64, footer: &str| {
        let mut m = message_json(id, channel);
        m["author"]["id"] = Value::String(author.to_string());
        m["embeds"] =
            serde_json::json!([{"type": "rich", "title": "1. x", "footer": {"text": footer}}]);
        m
    };
    Mock::given(method("GET"))
        .and(path(format!("/api/v10/channels/{channel}/messages")))
        .and(wiremock::matchers::query_param(
            "after",
            snowflake_at(started - Duration::minutes(1)).to_string(),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!([
            part(
                556,
                99,
                "hotpapers · arXiv mailing of 2021-07-02 · part 2/2"
            ),
            part(
                555,
                BOT_ID,
                "hotpapers · arXiv mailing of 2021-07-02 · part 1/2"
            ),
            part(
                554,
                BOT_ID,
                "hotpapers · arXiv mailing of 2021-07-01 · part 2/2"
            ),
        ])))
        .mount(&e.discord)
        .await;
    e.subscribe(channel, "08:00", "Europe/Berlin", 14, t(2021, 6, 30, 0, 0))
        .await;
    e.store
        .begin_post(channel, mailing, &nonce(channel, mailing, 0), started)
        .await
        .unwrap();

    let s = e.scheduler(SchedulerOptions::default());
    let out = e.tick_at(&s, t(2021, 7, 3, 6, 1)).await;
    let [o] = out.as_slice() else {
        panic!("{out:?}")
    };
    let FireResult::Posted(Delivery::Resumed {
        present,
        sent,
        message_ids,
    }) = &o.result
    else {
        panic!("{o:?}")
    };
    assert_eq!((*present, *sent), (1, 1));
    assert_eq!(message_ids.len(), 2);
    assert_eq!(message_ids[0], 555);
    let posts = e.posts().await;
    assert_eq!(posts.len(), 1, "only part 2 is sent");
    assert_eq!(posts[0].1["nonce"], nonce(channel, mailing, 1));
    assert!(
        posts[0].1["content"]
            .as_str()
            .unwrap()
            .starts_with("(continued · part 2/2)")
    );
    let record = e
        .store
        .post_record(channel, mailing)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.state, PostState::Sent);
    assert_eq!(
        record.started_at, started,
        "the resume keeps the original start"
    );
    // Nothing more on the next tick; /users/@me was asked once (checked on drop).
    assert!(e.tick_at(&s, t(2021, 7, 3, 6, 2)).await.is_empty());
}

#[tokio::test]
async fn forbidden_disables_the_subscription_with_a_reason_admins_see() {
    let e = env_with(t(2021, 7, 3, 6, 0), None).await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(403).set_body_json(
                serde_json::json!({"code": 50013, "message": "Missing Permissions"}),
            ),
        )
        .mount(&e.discord)
        .await;
    let s = e.scheduler(SchedulerOptions::default());
    e.subscribe(42, "08:00", "Europe/Berlin", 5, t(2021, 6, 30, 0, 0))
        .await;
    let out = e.tick_at(&s, t(2021, 7, 3, 6, 0)).await;
    assert!(
        matches!(&out[0].result, FireResult::Disabled { reason } if reason.contains("(403)")),
        "{out:?}"
    );
    let admin = Invoker {
        user_id: 1,
        guild_id: Some(GUILD),
        can_manage_guild: true,
    };
    let reply = handle(&e.app, Request::Subscriptions(Subscriptions), &admin).await;
    let Reply::Subscriptions(list) = &reply else {
        panic!("{reply:?}")
    };
    assert_eq!(
        list[0].subscription.disabled_reason.as_deref(),
        Some(
            "missing permission to post in <#42> (403) on 2021-07-03: give the bot View Channel, \
             Send Messages and Embed Links there, then re-run /subscribe"
        )
    );
    assert_eq!(list[0].next_post, None);
    let record = e
        .store
        .post_record(42, date(2021, 7, 2))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.state, PostState::Failed);
    assert!(record.error.unwrap().contains("403"));
    // Disabled: later ticks do not try again.
    assert!(e.tick_at(&s, t(2021, 7, 3, 6, 5)).await.is_empty());
    assert_eq!(e.discord.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn server_errors_are_retried_and_post_once() {
    let e = env_with(t(2021, 7, 3, 6, 0), None).await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(2)
        .mount(&e.discord)
        .await;
    Mock::given(method("POST"))
        .respond_with(FakeChannel::new(StdDuration::ZERO))
        .mount(&e.discord)
        .await;
    let s = e.scheduler(SchedulerOptions::default());
    e.subscribe(42, "08:00", "Europe/Berlin", 3, t(2021, 6, 30, 0, 0))
        .await;
    let out = e.tick_at(&s, t(2021, 7, 3, 6, 0)).await;
    assert_eq!(posted(&out).len(), 1, "{out:?}");
    let posts = e.posts().await;
    assert_eq!(posts.len(), 3, "500, 500, 200");
    assert!(posts.iter().all(|(_, b)| b["nonce"] == posts[0].1["nonce"]));
    // The pauses between tries went through the injected clock.
    assert_eq!(e.clock.sleeps().len(), 2);
    assert!(e.tick_at(&s, t(2021, 7, 3, 6, 1)).await.is_empty());
}

#[tokio::test]
async fn a_failure_is_retried_on_a_later_tick_within_the_grace_period() {
    let e = env_with(t(2021, 7, 3, 6, 0), None).await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(3)
        .mount(&e.discord)
        .await;
    Mock::given(method("POST"))
        .respond_with(FakeChannel::new(StdDuration::ZERO))
        .mount(&e.discord)
        .await;
    let s = e.scheduler(SchedulerOptions::default());
    e.subscribe(42, "08:00", "Europe/Berlin", 3, t(2021, 6, 30, 0, 0))
        .await;
    let out = e.tick_at(&s, t(2021, 7, 3, 6, 0)).await;
    assert!(
        matches!(out[0].result, FireResult::Failed { .. }),
        "{out:?}"
    );
    let record = e
        .store
        .post_record(42, date(2021, 7, 2))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.state, PostState::Failed);
    let out = e.tick_at(&s, t(2021, 7, 3, 6, 5)).await;
    assert_eq!(posted(&out).len(), 1, "{out:?}");
    assert!(matches!(
        out[0].result,
        FireResult::Posted(Delivery::Resumed {
            present: 0,
            sent: 1,
            ..
        })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_due_subscriptions_all_post_with_bounded_parallelism() {
    let channel = FakeChannel::new(StdDuration::from_millis(40));
    let e = env_with(t(2021, 7, 3, 6, 0), Some(channel.clone())).await;
    let options = SchedulerOptions {
        parallel: 4,
        ..SchedulerOptions::default()
    };
    let s = e.scheduler(options);
    for c in 0..12u64 {
        e.subscribe(500 + c, "08:00", "Europe/Berlin", 3, t(2021, 6, 30, 0, 0))
            .await;
    }
    let out = e.tick_at(&s, t(2021, 7, 3, 6, 0)).await;
    assert_eq!(posted(&out).len(), 12, "{out:?}");
    let mut channels: Vec<u64> = e.posts().await.iter().map(|(c, _)| *c).collect();
    channels.sort();
    assert_eq!(channels, (500..512).collect::<Vec<_>>());
    let peak = channel.max_in_flight();
    assert!((2..=4).contains(&peak), "peak in flight: {peak}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_sleeps_until_the_next_fire_posts_and_stops_promptly_on_shutdown() {
    let e = env(t(2021, 7, 3, 5, 50)).await;
    e.subscribe(42, "08:00", "Europe/Berlin", 5, t(2021, 6, 30, 0, 0))
        .await;
    let s = Arc::new(e.scheduler(SchedulerOptions::default()));
    let (tx, rx) = tokio::sync::watch::channel(false);
    let runner = tokio::spawn({
        let s = s.clone();
        async move { s.run(rx).await }
    });
    let guard = tokio::time::timeout(StdDuration::from_secs(20), async {
        while e.clock.sleeps().len() < 3 {
            tokio::task::yield_now().await;
        }
    })
    .await;
    assert!(guard.is_ok(), "the loop did not go round");
    tx.send(true).unwrap();
    let stopped = tokio::time::timeout(StdDuration::from_secs(10), runner).await;
    assert!(stopped.is_ok(), "run did not return after shutdown");
    let sleeps = e.clock.sleeps();
    // 08:00 CEST is 10 minutes away: two capped sleeps reach it, then it posted.
    assert_eq!(sleeps[..2], [MAX_SLEEP, MAX_SLEEP]);
    assert!(sleeps.iter().all(|d| *d <= MAX_SLEEP && !d.is_zero()));
    let record = e
        .store
        .post_record(42, date(2021, 7, 2))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.state, PostState::Sent);
    assert_eq!(e.posts().await.len(), record.message_ids.len());
}

#[tokio::test]
async fn run_returns_at_once_when_shutdown_is_already_set_or_its_sender_is_gone() {
    let e = env(t(2021, 7, 3, 5, 50)).await;
    let s = e.scheduler(SchedulerOptions::default());
    let (tx, rx) = tokio::sync::watch::channel(true);
    s.run(rx).await;
    drop(tx);
    let (tx, rx) = tokio::sync::watch::channel(false);
    drop(tx);
    s.run(rx).await;
    assert!(e.posts().await.is_empty());
}

#[tokio::test]
async fn the_scheduler_posts_exactly_what_preview_shows() {
    let e = env(t(2021, 7, 3, 5, 0)).await;
    // X snapshots of one paper at two times and the tweet that shared it: the post's first
    // card shows them.
    let id = ArxivId::parse("2107.00641").unwrap();
    let x = |metric: &str, value: f64, at: DateTime<Utc>| Signal {
        paper: id.clone(),
        source: "x".into(),
        metric: metric.into(),
        value,
        observed_at: at,
    };
    e.store
        .record_signals(&[
            x("retweets", 100.0, t(2021, 7, 2, 4, 0)),
            x("likes", 20.0, t(2021, 7, 2, 4, 0)),
            x("retweets", 2546.0, t(2021, 7, 3, 4, 0)),
            x("likes", 259.0, t(2021, 7, 3, 4, 0)),
        ])
        .await
        .unwrap();
    e.store
        .record_mentions(&[Mention {
            paper: id.clone(),
            source: "x".into(),
            post_id: "1410".into(),
            author_handle: Some("ak92501".into()),
            author_name: Some("AK".into()),
            text: "Focal Transformers".into(),
            url: "https://twitter.com/ak92501/status/1410".into(),
            posted_at: t(2021, 7, 2, 3, 0),
            counts: MentionCounts {
                reposts: 2000,
                likes: 200,
                ..Default::default()
            },
            observed_at: t(2021, 7, 3, 4, 0),
        }])
        .await
        .unwrap();
    e.subscribe(42, "08:00", "Europe/Berlin", 4, t(2021, 6, 30, 0, 0))
        .await;
    let admin = Invoker {
        user_id: 1,
        guild_id: Some(GUILD),
        can_manage_guild: true,
    };
    let reply = handle(&e.app, Request::Preview(Preview { channel: 42 }), &admin).await;
    let Reply::Preview {
        mailing, digest, ..
    } = reply
    else {
        panic!("{reply:?}")
    };
    let s = e.scheduler(SchedulerOptions::default());
    let out = e.tick_at(&s, t(2021, 7, 3, 6, 0)).await;
    assert_eq!(out[0].mailing, mailing);
    let urls: Vec<String> = e
        .posts()
        .await
        .iter()
        .flat_map(|(_, b)| b["embeds"].as_array().cloned().unwrap_or_default())
        .map(|e| e["url"].as_str().unwrap_or_default().to_string())
        .collect();
    let preview: Vec<String> = digest.entries.iter().map(|e| e.paper.abs_url()).collect();
    assert_eq!(urls, preview);
    let posts = e.posts().await;
    let embeds: Vec<&Value> = posts
        .iter()
        .flat_map(|(_, b)| b["embeds"].as_array().unwrap().iter())
        .collect();
    assert!(
        embeds.iter().all(|e| e["color"].as_u64().is_some()),
        "a colour per group"
    );
    let first = embeds[0]["description"].as_str().unwrap();
    assert_eq!(embeds[0]["url"], "https://arxiv.org/abs/2107.00641");
    let measured = t(2021, 7, 3, 4, 0).timestamp();
    assert!(
        first.contains(&format!(
            "2,546 reposts · 259 likes on X · ▲ 2,685 in 24 h · measured <t:{measured}:R>"
        )),
        "{first}"
    );
    assert!(
        first.contains("shared by [@\u{200B}ak92501](https://twitter.com/ak92501/status/1410)"),
        "{first}"
    );
    for (_, body) in &posts {
        assert_eq!(violations(body), vec![], "{body}");
    }
}

#[tokio::test]
async fn deliverer_force_posts_again_from_scratch() {
    let e = env(t(2021, 7, 3, 6, 0)).await;
    let http = http_client(Some("test-token"), Some(&e.discord.uri())).unwrap();
    let rest = Rest::new(Some(&e.discord.uri()), Some("test-token"));
    let d = Deliverer::new(Arc::new(http), rest);
    let digest = e
        .app
        .digest(
            &hotpapers::app::DigestRequest {
                date: Some(date(2021, 7, 2)),
                top: Some(3),
                categories: vec![],
                trending_days: None,
                llm: hotpapers::app::LlmUse::Ask,
            },
            &NoProgress,
        )
        .await
        .unwrap();
    let target = hotpapers::discord::delivery::Target::Channel(42);
    let store = e.app.store().as_ref();
    let clock = e.app.clock().as_ref();
    let first = d
        .deliver(store, clock, &target, &digest, false)
        .await
        .unwrap();
    assert!(matches!(first, Delivery::Sent { .. }));
    let again = d
        .deliver(store, clock, &target, &digest, false)
        .await
        .unwrap();
    assert_eq!(
        again,
        Delivery::AlreadySent {
            message_ids: first.message_ids().to_vec()
        }
    );
    assert!(!again.sent_anything());
    let forced = d
        .deliver(store, clock, &target, &digest, true)
        .await
        .unwrap();
    assert!(matches!(forced, Delivery::Sent { .. }));
    assert_ne!(forced.message_ids(), first.message_ids());
    assert_eq!(e.posts().await.len(), 2);
}

#[tokio::test]
async fn a_quiet_day_posts_nothing_and_is_not_retried() {
    let e = env(t(2021, 7, 3, 5, 0)).await;
    let s = e.scheduler(SchedulerOptions::default());
    let mut sub = e
        .subscribe(42, "08:00", "Europe/Berlin", 5, t(2021, 6, 30, 0, 0))
        .await;
    // No paper has attention, so none reaches this score.
    sub.min_score = 1000.0;
    e.store.upsert_subscription(&sub).await.unwrap();
    let out = e.tick_at(&s, t(2021, 7, 3, 6, 0)).await;
    assert!(
        matches!(
            out.as_slice(),
            [FireOutcome {
                result: FireResult::Quiet,
                ..
            }]
        ),
        "{out:?}"
    );
    assert!(e.posts().await.is_empty(), "a quiet day sends no message");
    let record = e
        .store
        .post_record(42, date(2021, 7, 2))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.state, PostState::Sent);
    assert!(e.tick_at(&s, t(2021, 7, 3, 6, 5)).await.is_empty());
}

#[tokio::test]
async fn a_mailing_arxiv_has_no_papers_for_yet_is_retried_not_posted_empty() {
    // Wed 2021-07-07 08:00 Berlin shows the mailing of Tue 2021-07-06, which the fake arXiv
    // has no papers for (its API lagging the announcement looks the same).
    let e = env(t(2021, 7, 7, 5, 0)).await;
    let s = e.scheduler(SchedulerOptions::default());
    e.subscribe(42, "08:00", "Europe/Berlin", 5, t(2021, 6, 30, 0, 0))
        .await;
    let out = e.tick_at(&s, t(2021, 7, 7, 6, 0)).await;
    assert!(
        matches!(out.as_slice(), [FireOutcome { result: FireResult::Failed { error }, .. }]
            if error.contains("no papers")),
        "{out:?}"
    );
    assert!(e.posts().await.is_empty(), "no 'top 0 of 0' post");
    // Still due on the next pass (within the grace period).
    let out = e.tick_at(&s, t(2021, 7, 7, 6, 5)).await;
    assert!(
        matches!(
            out.as_slice(),
            [FireOutcome {
                result: FireResult::Failed { .. },
                ..
            }]
        ),
        "{out:?}"
    );
    assert!(e.posts().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheduler_and_a_post_racing_for_one_channel_leave_one_digest() {
    // A slow channel (each message takes 200 ms) that does not de-duplicate nonces.
    let e = env_with(
        t(2021, 7, 3, 5, 0),
        Some(FakeChannel::new(StdDuration::from_millis(200))),
    )
    .await;
    e.subscribe(42, "08:00", "Europe/Berlin", 14, t(2021, 6, 30, 0, 0))
        .await;
    let admin = Invoker {
        user_id: 1,
        guild_id: Some(GUILD),
        can_manage_guild: true,
    };
    let reply = handle(&e.app, Request::Preview(Preview { channel: 42 }), &admin).await;
    let Reply::Preview { digest, .. } = reply else {
        panic!("{reply:?}")
    };
    let s = e.scheduler(SchedulerOptions::default());
    // A cron `post` in another process: another deliverer, so another claim owner.
    let http = http_client(Some("test-token"), Some(&e.discord.uri())).unwrap();
    let rest = Rest::new(Some(&e.discord.uri()), Some("test-token"));
    let cron = Deliverer::new(Arc::new(http), rest);
    e.clock.set(t(2021, 7, 3, 6, 0));
    let (outcomes, by_cron) = tokio::join!(
        s.tick(),
        cron.deliver(
            e.app.store().as_ref(),
            e.app.clock().as_ref(),
            &Target::Channel(42),
            &digest,
            false,
        )
    );
    let by_cron = by_cron.unwrap();
    let by_scheduler = match &outcomes[..] {
        [o] => match &o.result {
            FireResult::Posted(d) => d.clone(),
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    };
    let senders = [&by_cron, &by_scheduler]
        .iter()
        .filter(|d| d.sent_anything())
        .count();
    assert_eq!(senders, 1, "{by_cron:?} {by_scheduler:?}");
    assert!(
        [&by_cron, &by_scheduler].iter().any(|d| matches!(
            d,
            Delivery::InProgress { .. } | Delivery::AlreadySent { .. }
        )),
        "{by_cron:?} {by_scheduler:?}"
    );
    let posts = e.posts().await;
    let parts: std::collections::BTreeSet<String> = posts
        .iter()
        .map(|(_, b)| b["nonce"].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(!posts.is_empty());
    assert_eq!(parts.len(), posts.len(), "a part was sent twice");
    // The post log says sent, with the one digest's messages.
    let record = e.store.post_record(42, digest.date).await.unwrap().unwrap();
    assert_eq!(record.state, PostState::Sent);
    assert_eq!(record.message_ids.len(), posts.len());
}
