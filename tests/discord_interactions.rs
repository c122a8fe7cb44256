//! Interaction handling end to end: real-shaped interaction payloads
//! (`tests/fixtures/discord/`) deserialized into serenity's `Interaction`, answered by
//! `Interactions::dispatch` over an app with the seeded 2021-07-02 mailing, against a fake
//! Discord REST API on loopback that records every callback, edit and follow-up.

mod common;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use common::{FakeArxiv, seed_entries};
use futures_util::FutureExt as _;
use hotpapers::app::App;
use hotpapers::arxiv::ArxivId;
use hotpapers::clock::FakeClock;
use hotpapers::config::Config;
use hotpapers::discord::interaction::Interactions;
use hotpapers::discord::limits::violations;
use hotpapers::discord::post::http_client;
use hotpapers::progress::NoProgress;
use hotpapers::store::{MentionStore, Signal, SignalStore, SqliteStore, Store, SubscriptionStore};
use serde_json::{Value, json};
use serenity::http::Http;
use serenity::model::application::Interaction;
use serenity::model::id::ApplicationId;
use tokio::sync::Notify;
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

const APP: u64 = 1_100_000_000_000_000_002;
const GUILD: u64 = 1_100_000_000_000_000_004;
const CHANNEL: u64 = 1_100_000_000_000_000_003;

fn t(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
}

struct Env {
    app: Arc<App>,
    store: SqliteStore,
    waker: Arc<Notify>,
    discord: MockServer,
    http: Http,
    _arxiv: MockServer,
}

fn message_json() -> Value {
    json!({
        "id": "1300000000000000009", "channel_id": CHANNEL.to_string(), "content": "",
        "timestamp": "2021-07-03T12:00:00+00:00", "edited_timestamp": null, "tts": false,
        "mention_everyone": false, "mentions": [], "mention_roles": [], "attachments": [],
        "embeds": [], "pinned": false, "type": 20,
        "author": {"id": APP.to_string(), "username": "hotpapers", "discriminator": "0", "avatar": null, "bot": true}
    })
}

/// The seed mailing ingested through a fake arXiv at Saturday 2021-07-03 noon UTC, with
/// Hacker News points so the ranking is 2107.00630 > 2107.00641 > 2107.00652 > the rest.
async fn env() -> Env {
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
    let store = SqliteStore::in_memory().await.unwrap();
    let clock = FakeClock::new(t(2021, 7, 3, 12, 0));
    let dyn_store: Arc<dyn Store> = Arc::new(store.clone());
    let app = App::with_store(config, dyn_store, Arc::new(clock)).unwrap();
    let report = app
        .ingest(NaiveDate::from_ymd_opt(2021, 7, 2), &NoProgress)
        .await
        .unwrap();
    assert_eq!(report.papers, 14);
    let signals: Vec<Signal> = [
        ("2107.00630", 300.0),
        ("2107.00641", 100.0),
        ("2107.00652", 20.0),
    ]
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

    let discord = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path_regex(r"^/api/v10/interactions/\d+/[^/]+/callback$"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&discord)
        .await;
    Mock::given(method("PATCH"))
        .and(path_regex(
            r"^/api/v10/webhooks/\d+/[^/]+/messages/(@|%40)original$",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(message_json()))
        .mount(&discord)
        .await;
    Mock::given(method("DELETE"))
        .and(path_regex(
            r"^/api/v10/webhooks/\d+/[^/]+/messages/(@|%40)original$",
        ))
        .respond_with(ResponseTemplate::new(204))
        .mount(&discord)
        .await;
    Mock::given(method("POST"))
        .and(path_regex(r"^/api/v10/webhooks/\d+/[^/]+$"))
        .respond_with(ResponseTemplate::new(200).set_body_json(message_json()))
        .mount(&discord)
        .await;
    let http = http_client(Some("test-token"), Some(&discord.uri())).unwrap();
    http.set_application_id(ApplicationId::new(APP));
    Env {
        app: Arc::new(app),
        store,
        waker: Arc::new(Notify::new()),
        discord,
        http,
        _arxiv: arxiv,
    }
}

impl Env {
    /// Interactions that never defer in practice (answers are deterministic type 4/7).
    fn quick(&self) -> Interactions {
        Interactions::new(Arc::clone(&self.app), Arc::clone(&self.waker))
            .defer_after(Duration::from_secs(60))
    }

    /// Interactions that always defer first.
    fn deferring(&self) -> Interactions {
        Interactions::new(Arc::clone(&self.app), Arc::clone(&self.waker))
            .defer_after(Duration::ZERO)
    }

    /// Every request Discord received so far: (method, path, JSON body or Null). A
    /// multipart request (a message with files) gives its `payload_json` part.
    async fn requests(&self) -> Vec<(String, String, Value)> {
        self.discord
            .received_requests()
            .await
            .unwrap()
            .iter()
            .map(|r| {
                let body = match multipart(r) {
                    Some(parts) => parts
                        .iter()
                        .find(|(name, _, _)| name == "payload_json")
                        .and_then(|(_, _, bytes)| serde_json::from_slice(bytes).ok())
                        .unwrap_or(Value::Null),
                    None => serde_json::from_slice(&r.body).unwrap_or(Value::Null),
                };
                (r.method.to_string(), r.url.path().to_string(), body)
            })
            .collect()
    }

    /// The files of every request so far: (path, filename, bytes).
    async fn files(&self) -> Vec<(String, String, Vec<u8>)> {
        let mut out = Vec::new();
        for r in self.discord.received_requests().await.unwrap() {
            for (_, filename, bytes) in multipart(&r).unwrap_or_default() {
                if let Some(f) = filename {
                    out.push((r.url.path().to_string(), f, bytes));
                }
            }
        }
        out
    }

    /// Dispatches and returns the requests it caused, each checked against Discord's limits.
    async fn dispatch(
        &self,
        with: &Interactions,
        interaction: Interaction,
    ) -> Vec<(String, String, Value)> {
        let before = self.requests().await.len();
        with.dispatch(&self.http, interaction).await;
        let all = self.requests().await;
        let new = all[before..].to_vec();
        for (m, p, body) in &new {
            check_limits(m, p, body);
        }
        new
    }

    fn waker_was_notified(&self) -> bool {
        self.waker.notified().now_or_never().is_some()
    }
}

/// One part of a multipart body: (name, filename, bytes).
type Part = (String, Option<String>, Vec<u8>);

/// The parts of a `multipart/form-data` request; `None` for any other body.
fn multipart(r: &wiremock::Request) -> Option<Vec<Part>> {
    let ct = r.headers.get("content-type")?.to_str().ok()?;
    let boundary = ct.split("boundary=").nth(1)?.trim_matches('"');
    let delimiter = format!("--{boundary}");
    let body = &r.body;
    let find = |hay: &[u8], needle: &[u8], from: usize| {
        hay.get(from..)?
            .windows(needle.len())
            .position(|w| w == needle)
            .map(|i| i + from)
    };
    let mut parts = Vec::new();
    let mut at = find(body, delimiter.as_bytes(), 0)? + delimiter.len();
    while let Some(next) = find(body, delimiter.as_bytes(), at) {
        let part = &body[at..next];
        let part = part.strip_prefix(b"\r\n").unwrap_or(part);
        let part = part.strip_suffix(b"\r\n").unwrap_or(part);
        if let Some(split) = find(part, b"\r\n\r\n", 0) {
            let head = String::from_utf8_lossy(&part[..split]).to_string();
            let attr = |key: &str| {
                head.split(&format!("{key}=\""))
                    .nth(1)
                    .and_then(|rest| rest.split('"').next())
                    .map(str::to_string)
            };
            parts.push((
                attr("name").unwrap_or_default(),
                attr("filename"),
                part[split + 4..].to_vec(),
            ));
        }
        at = next + delimiter.len();
    }
    Some(parts)
}

/// A PNG's size from its IHDR chunk, checking the signature.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "a PNG signature");
    assert_eq!(&bytes[12..16], b"IHDR");
    let be = |i: usize| u32::from_be_bytes(bytes[i..i + 4].try_into().unwrap());
    (be(16), be(20))
}

/// Every message body sent (callback `data`, edits, follow-ups) is within Discord's limits and
/// pings nobody; autocomplete choices are within theirs.
fn check_limits(method: &str, path: &str, body: &Value) {
    if method == "DELETE" {
        return;
    }
    let message = if path.ends_with("/callback") {
        match body["type"].as_i64() {
            Some(6) => return,
            Some(8) => {
                let v: Vec<_> = violations(&body["data"])
                    .into_iter()
                    .filter(|v| v.what != "allowed_mentions")
                    .collect();
                assert_eq!(v, vec![], "{body}");
                return;
            }
            _ => &body["data"],
        }
    } else {
        body
    };
    assert_eq!(violations(message), vec![], "{path}: {message}");
    assert_eq!(
        message["allowed_mentions"]["parse"],
        json!([]),
        "{path}: {message}"
    );
}

fn fixture(name: &str) -> Value {
    let text = std::fs::read_to_string(common::fixture(&format!("discord/{name}"))).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The Hacker News story that shared `id`, by `pg`, with 300 points.
fn hn_story(id: &ArxivId) -> hotpapers::store::Mention {
    hotpapers::store::Mention {
        paper: id.clone(),
        source: "hn".into(),
        post_id: "27700000".into(),
        author_handle: Some("pg".into()),
        author_name: None,
        text: "A paper".into(),
        url: "https://news.ycombinator.com/item?id=27700000".into(),
        posted_at: t(2021, 7, 1, 21, 0),
        counts: hotpapers::store::MentionCounts {
            points: 300,
            ..Default::default()
        },
        observed_at: t(2021, 7, 3, 10, 0),
    }
}

fn interaction(v: Value) -> Interaction {
    serde_json::from_value(v).expect("fixture deserializes into serenity's Interaction")
}

/// A fixture with one option's value replaced (the payload shape stays Discord's).
fn with_option(name: &str, option: &str, value: Value) -> Interaction {
    let mut v = fixture(name);
    let options = v["data"]["options"].as_array_mut().unwrap();
    match options.iter_mut().find(|o| o["name"] == option) {
        Some(o) => o["value"] = value,
        None => options.push(json!({"name": option, "type": 3, "value": value})),
    }
    interaction(v)
}

fn press(custom_id: &str) -> Interaction {
    let mut v = fixture("component_hot_next.json");
    v["data"]["custom_id"] = json!(custom_id);
    interaction(v)
}

fn one_callback(reqs: &[(String, String, Value)]) -> Value {
    assert_eq!(reqs.len(), 1, "{reqs:?}");
    let (m, p, body) = &reqs[0];
    assert_eq!(m, "POST");
    assert!(p.ends_with("/callback"), "{p}");
    body.clone()
}

fn embed_urls(data: &Value) -> Vec<String> {
    data["embeds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["url"].as_str().unwrap().to_string())
        .collect()
}

fn ephemeral_error(body: &Value) -> String {
    assert_eq!(body["type"], 4, "{body}");
    assert_eq!(body["data"]["flags"], 64, "{body}");
    body["data"]["content"].as_str().unwrap().to_string()
}

/// The seed mailing's ranking: the three papers with HN points, then the rest by id.
fn ranked_ids() -> Vec<String> {
    let mut rest: Vec<String> = seed_entries()
        .into_iter()
        .map(|e| e.id)
        .filter(|id| !["2107.00630", "2107.00641", "2107.00652"].contains(&id.as_str()))
        .collect();
    rest.sort();
    let mut ids: Vec<String> = ["2107.00630", "2107.00641", "2107.00652"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    ids.extend(rest);
    ids
}

fn abs(ids: &[String]) -> Vec<String> {
    ids.iter()
        .map(|id| format!("https://arxiv.org/abs/{id}"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hot_answers_page_one_and_the_next_button_gives_page_two() {
    let env = env().await;
    let top = ArxivId::parse("2107.00630").unwrap();
    env.store.record_mentions(&[hn_story(&top)]).await.unwrap();
    let quick = env.quick();
    let body = one_callback(
        &env.dispatch(&quick, interaction(fixture("command_hot.json")))
            .await,
    );
    assert_eq!(body["type"], 4);
    let data = &body["data"];
    assert!(data.get("flags").is_none_or(|f| f == 0), "public: {data}");
    let ranked = ranked_ids();
    assert_eq!(embed_urls(data), abs(&ranked[0..5]));
    let titles: Vec<&str> = data["embeds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["title"].as_str().unwrap())
        .collect();
    for (i, t) in titles.iter().enumerate() {
        assert!(t.starts_with(&format!("{}. ", i + 1)), "{t}");
    }
    // Coloured cards (all cs here), attention in words with a Discord timestamp, the top
    // post as a link, PDF and HTML links.
    let first = &data["embeds"][0];
    assert_eq!(first["color"], 0xB31B1B, "{first}");
    let description = first["description"].as_str().unwrap();
    let measured = t(2021, 7, 3, 10, 0).timestamp();
    assert!(
        description.contains(&format!(
            "300 points on Hacker News · measured <t:{measured}:R>"
        )),
        "{description}"
    );
    assert!(
        description
            .contains("shared by [@\u{200B}pg](https://news.ycombinator.com/item?id=27700000)"),
        "{description}"
    );
    assert!(description.contains("[PDF](https://arxiv.org/pdf/2107.00630)"));
    assert!(
        !description.contains("/2021"),
        "no MM/DD/YYYY: {description}"
    );
    assert!(
        data["content"].as_str().unwrap().contains("2021-07-02"),
        "{data}"
    );
    assert!(
        data["content"].as_str().unwrap().contains("top 12 of 14"),
        "{data}"
    );
    assert!(
        data["embeds"][4]["footer"]["text"]
            .as_str()
            .unwrap()
            .contains("page 1/3")
    );
    let buttons = data["components"][0]["components"].as_array().unwrap();
    assert_eq!(buttons.len(), 2);
    assert_eq!(buttons[0]["disabled"], true, "Prev is disabled on page 1");
    assert_eq!(buttons[1]["disabled"], false);
    let next = buttons[1]["custom_id"].as_str().unwrap();
    assert_eq!(next, "hot:v1:m:-:12:20210702:1");

    // The Next button, pressed: the same message shows page 2 (type 7).
    let body = one_callback(&env.dispatch(&quick, press(next)).await);
    assert_eq!(body["type"], 7, "{body}");
    let data = &body["data"];
    assert_eq!(embed_urls(data), abs(&ranked[5..10]));
    assert!(
        data["embeds"][0]["title"]
            .as_str()
            .unwrap()
            .starts_with("6. ")
    );
    assert!(
        data["embeds"][4]["footer"]["text"]
            .as_str()
            .unwrap()
            .contains("page 2/3")
    );
    let buttons = data["components"][0]["components"].as_array().unwrap();
    assert_eq!(buttons[0]["custom_id"], "hot:v1:m:-:12:20210702:0");
    assert_eq!(buttons[1]["custom_id"], "hot:v1:m:-:12:20210702:2");

    // The last page: two papers, Next disabled.
    let body = one_callback(
        &env.dispatch(&quick, press("hot:v1:m:-:12:20210702:2"))
            .await,
    );
    assert_eq!(embed_urls(&body["data"]), abs(&ranked[10..12]));
    assert_eq!(
        body["data"]["components"][0]["components"][1]["disabled"],
        true
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hot_in_a_direct_message_works_without_a_member() {
    let env = env().await;
    let body = one_callback(
        &env.dispatch(&env.quick(), interaction(fixture("command_hot_dm.json")))
            .await,
    );
    assert_eq!(body["type"], 4);
    assert_eq!(embed_urls(&body["data"]), abs(&ranked_ids()[0..3]));
    assert_eq!(
        body["data"]["components"],
        json!([]),
        "one page: no buttons"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paper_card_has_links_and_an_abstract_button() {
    let env = env().await;
    // Two earlier Hacker News snapshots (the env has 300 points at 07-03 10:00) and the
    // story that shared it: the card shows growth, who is talking and a chart of all three.
    let id = ArxivId::parse("2107.00630").unwrap();
    let hn = |value: f64, at: DateTime<Utc>| Signal {
        paper: id.clone(),
        source: "hn".into(),
        metric: "points".into(),
        value,
        observed_at: at,
    };
    env.store
        .record_signals(&[
            hn(20.0, t(2021, 7, 1, 22, 0)),
            hn(100.0, t(2021, 7, 2, 10, 0)),
        ])
        .await
        .unwrap();
    env.store.record_mentions(&[hn_story(&id)]).await.unwrap();
    let quick = env.quick();
    let body = one_callback(
        &env.dispatch(&quick, interaction(fixture("command_paper.json")))
            .await,
    );
    assert_eq!(body["type"], 4);
    let embed = &body["data"]["embeds"][0];
    assert_eq!(embed["url"], "https://arxiv.org/abs/2107.00630");
    assert!(embed["color"].as_u64().is_some_and(|c| c != 0), "{embed}");
    let seed = common::seed_papers()
        .into_iter()
        .find(|p| p.id == "2107.00630")
        .unwrap();
    assert!(
        embed["description"]
            .as_str()
            .unwrap()
            .contains(seed.authors[0].as_str()),
        "{embed}"
    );
    let fields: Vec<&str> = embed["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    for want in [
        "Categories",
        "Dates and versions",
        "Score",
        "Hacker News",
        "Who is talking",
    ] {
        assert!(fields.contains(&want), "{want} not in {fields:?}");
    }
    let field = |name: &str| {
        embed["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == name)
            .unwrap()["value"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(
        field("Hacker News"),
        format!(
            "300 points\n▲ 200 in 24 h\nmeasured <t:{}:R>",
            t(2021, 7, 3, 10, 0).timestamp()
        )
    );
    assert_eq!(
        field("Who is talking"),
        "shared by [@\u{200B}pg](https://news.ycombinator.com/item?id=27700000)"
    );
    assert!(
        !embed.to_string().contains("/2021"),
        "no MM/DD/YYYY: {embed}"
    );
    // The chart is attached and shown in the embed.
    assert_eq!(embed["image"]["url"], "attachment://attention.png");
    let files = env.files().await;
    assert_eq!(files.len(), 1, "one chart");
    assert_eq!(files[0].1, "attention.png");
    let (w, h) = png_size(&files[0].2);
    assert!(w >= 600 && h >= 300, "{w}×{h}");
    // A deferred answer edits the original response with the chart as its attachment.
    let deferring = env.deferring();
    let reqs = env
        .dispatch(&deferring, interaction(fixture("command_paper.json")))
        .await;
    let (m, p, edit) = reqs.last().unwrap();
    assert_eq!(m, "PATCH", "{reqs:?}");
    assert_eq!(
        edit["embeds"][0]["image"]["url"],
        "attachment://attention.png"
    );
    assert_eq!(
        edit["attachments"][0]["filename"], "attention.png",
        "{edit}"
    );
    let files = env.files().await;
    assert_eq!(files.len(), 2);
    assert_eq!(&files[1].0, p);
    let links: Vec<(&str, &str)> = body["data"]["components"][0]["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["label"].as_str().unwrap(), b["url"].as_str().unwrap()))
        .collect();
    assert_eq!(
        links,
        [
            ("abs", "https://arxiv.org/abs/2107.00630"),
            ("PDF", "https://arxiv.org/pdf/2107.00630"),
            ("HTML", "https://arxiv.org/html/2107.00630v1"),
        ]
    );
    let show = &body["data"]["components"][1]["components"][0];
    assert_eq!(show["label"], "Show abstract");
    assert_eq!(show["custom_id"], "abs:v1:2107.00630");

    // Pressing it shows the escaped abstract, only to the presser.
    let body = one_callback(&env.dispatch(&quick, press("abs:v1:2107.00630")).await);
    assert_eq!(body["type"], 4);
    assert_eq!(body["data"]["flags"], 64);
    let shown = body["data"]["embeds"][0]["description"].as_str().unwrap();
    let first_words: String = seed
        .abstract_text
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        shown.starts_with(&hotpapers::discord::escape::escape(&first_words)),
        "{shown}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_an_ephemeral_error_at_once() {
    let env = env().await;
    let quick = env.quick();
    let msg = ephemeral_error(&one_callback(
        &env.dispatch(
            &quick,
            with_option("command_hot.json", "date", json!("2021-13-40")),
        )
        .await,
    ));
    assert!(msg.contains("YYYY") && msg.contains("2021"), "{msg}");
    let msg = ephemeral_error(&one_callback(
        &env.dispatch(
            &quick,
            with_option("command_hot.json", "category", json!("cs.XX")),
        )
        .await,
    ));
    assert!(msg.contains("cs.XX"), "{msg}");
    let msg = ephemeral_error(&one_callback(
        &env.dispatch(
            &quick,
            with_option("command_hot.json", "date", json!("2021-07-04")),
        )
        .await,
    ));
    assert!(msg.contains("2021"), "a Sunday has no mailing: {msg}");
    let msg = ephemeral_error(&one_callback(
        &env.dispatch(
            &quick,
            with_option("command_paper.json", "id", json!("2107.99999")),
        )
        .await,
    ));
    assert!(msg.contains("2107.99999"), "{msg}");
    let msg = ephemeral_error(&one_callback(
        &env.dispatch(&quick, press("hot:v0:m:-:12:20210702:1"))
            .await,
    ));
    assert!(
        msg.contains("older version") && msg.contains("/hot"),
        "{msg}"
    );
    let msg = ephemeral_error(&one_callback(&env.dispatch(&quick, press("garbage")).await));
    assert!(msg.contains("run /hot again"), "{msg}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribe_is_refused_to_members_and_stored_for_admins() {
    let env = env().await;
    let quick = env.quick();
    let msg = ephemeral_error(&one_callback(
        &env.dispatch(
            &quick,
            interaction(fixture("command_subscribe_member.json")),
        )
        .await,
    ));
    assert!(msg.contains("Manage Server"), "{msg}");
    assert!(
        env.store
            .guild_subscriptions(GUILD)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(!env.waker_was_notified());

    let body = one_callback(
        &env.dispatch(&quick, interaction(fixture("command_subscribe_admin.json")))
            .await,
    );
    assert_eq!(body["type"], 4);
    assert_eq!(body["data"]["flags"], 64, "admin answers are ephemeral");
    let content = body["data"]["content"].as_str().unwrap();
    assert!(
        content.starts_with(&format!(
            "Subscribed <#{CHANNEL}>: daily at 08:30 Europe/Berlin"
        )),
        "{content}"
    );
    let subs = env.store.guild_subscriptions(GUILD).await.unwrap();
    assert_eq!(subs.len(), 1);
    assert_eq!(subs[0].channel_id, CHANNEL);
    assert_eq!(subs[0].categories, ["cs.LG", "cs.CV"]);
    assert_eq!(subs[0].count, 5);
    assert_eq!(subs[0].min_score, 0.5);
    assert!(env.waker_was_notified());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn category_autocomplete_offers_cs_lg() {
    let env = env().await;
    let body = one_callback(
        &env.dispatch(
            &env.quick(),
            interaction(fixture("autocomplete_category.json")),
        )
        .await,
    );
    assert_eq!(body["type"], 8);
    let choices = body["data"]["choices"].as_array().unwrap();
    assert!(!choices.is_empty() && choices.len() <= 25);
    assert!(choices.iter().any(|c| c["value"] == "cs.LG"), "{choices:?}");
    // Empty input is answered too.
    let body = one_callback(
        &env.dispatch(
            &env.quick(),
            with_option("autocomplete_category.json", "category", json!("")),
        )
        .await,
    );
    assert_eq!(body["data"]["choices"].as_array().unwrap().len(), 25);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deferred_commands_edit_the_original_response() {
    let env = env().await;
    let deferring = env.deferring();
    let reqs = env
        .dispatch(&deferring, interaction(fixture("command_hot.json")))
        .await;
    assert_eq!(reqs.len(), 2, "{reqs:?}");
    assert_eq!(reqs[0].0, "POST");
    assert!(reqs[0].1.ends_with("/callback"));
    assert_eq!(reqs[0].2["type"], 5);
    assert!(
        reqs[0].2["data"].get("flags").is_none_or(|f| f == 0),
        "public defer"
    );
    assert_eq!(reqs[1].0, "PATCH");
    assert!(
        reqs[1].1.starts_with(&format!("/api/v10/webhooks/{APP}/"))
            && reqs[1].1.contains("original"),
        "{}",
        reqs[1].1
    );
    assert_eq!(embed_urls(&reqs[1].2), abs(&ranked_ids()[0..5]));
    assert_eq!(
        reqs[1].2["components"][0]["components"][1]["custom_id"],
        "hot:v1:m:-:12:20210702:1"
    );

    // Admin commands defer ephemerally.
    let reqs = env
        .dispatch(
            &deferring,
            interaction(fixture("command_subscribe_admin.json")),
        )
        .await;
    assert_eq!(reqs.len(), 2, "{reqs:?}");
    assert_eq!(
        (
            reqs[0].2["type"].as_i64(),
            reqs[0].2["data"]["flags"].as_i64()
        ),
        (Some(5), Some(64))
    );
    assert_eq!(reqs[1].0, "PATCH");
    assert!(
        reqs[1].2["content"]
            .as_str()
            .unwrap()
            .starts_with("Subscribed")
    );

    // A button press defers its update with type 6, then edits the message.
    let reqs = env
        .dispatch(&deferring, press("hot:v1:m:-:12:20210702:1"))
        .await;
    assert_eq!(reqs.len(), 2, "{reqs:?}");
    assert_eq!(reqs[0].2["type"], 6);
    assert_eq!(reqs[1].0, "PATCH");
    assert_eq!(embed_urls(&reqs[1].2), abs(&ranked_ids()[5..10]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_after_a_public_defer_stays_private() {
    let env = env().await;
    let reqs = env
        .dispatch(
            &env.deferring(),
            with_option("command_paper.json", "id", json!("2107.99999")),
        )
        .await;
    let summary: Vec<(&str, bool)> = reqs
        .iter()
        .map(|(m, p, _)| (m.as_str(), p.ends_with("/callback")))
        .collect();
    assert_eq!(
        summary,
        [("POST", true), ("DELETE", false), ("POST", false)],
        "{reqs:?}"
    );
    assert_eq!(reqs[0].2["type"], 5);
    assert!(reqs[1].1.contains("original"));
    assert_eq!(reqs[2].2["flags"], 64, "the follow-up is ephemeral");
    assert!(
        reqs[2].2["content"]
            .as_str()
            .unwrap()
            .contains("2107.99999")
    );
}

/// A fixture's command renamed, with new options (same payload shape).
fn command(fixture_name: &str, name: &str, options: Value) -> Interaction {
    let mut v = fixture(fixture_name);
    v["data"]["name"] = json!(name);
    v["data"]["options"] = options;
    interaction(v)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_other_command_answers_within_limits() {
    let env = env().await;
    let quick = env.quick();
    // The categories with papers in the mailing, with counts; a group adds the names.
    let body = one_callback(
        &env.dispatch(&quick, command("command_hot.json", "categories", json!([])))
            .await,
    );
    assert_eq!(body["type"], 4);
    let all = body["data"].to_string();
    assert!(
        all.contains("`cs.LG` ") && all.contains("`astro-ph.IM` ") && !all.contains("`hep-th`"),
        "{all}"
    );
    let body = one_callback(
        &env.dispatch(
            &quick,
            command(
                "command_hot.json",
                "categories",
                json!([{"name": "group", "type": 3, "value": "physics"}]),
            ),
        )
        .await,
    );
    let physics = body["data"].to_string();
    assert!(
        physics.contains("`astro-ph.IM` 1 Instrumentation") && !physics.contains("`cs.LG`"),
        "{physics}"
    );
    let body = one_callback(
        &env.dispatch(
            &quick,
            command(
                "command_hot.json",
                "search",
                json!([{"name": "query", "type": 3, "value": "diffusion"}]),
            ),
        )
        .await,
    );
    assert!(
        body["data"]["embeds"][0]["description"]
            .as_str()
            .unwrap()
            .contains("https://arxiv.org/abs/2107.00630"),
        "{body}"
    );
    let body = one_callback(
        &env.dispatch(
            &quick,
            command(
                "command_hot.json",
                "search",
                json!([{"name": "query", "type": 3, "value": "zzyzx"}]),
            ),
        )
        .await,
    );
    assert!(
        body["data"]["content"]
            .as_str()
            .unwrap()
            .starts_with("No stored paper"),
        "{body}"
    );

    // Admin: subscribe, list, preview, unsubscribe; all ephemeral.
    env.dispatch(&quick, interaction(fixture("command_subscribe_admin.json")))
        .await;
    let channel = json!([{"name": "channel", "type": 7, "value": CHANNEL.to_string()}]);
    let body = one_callback(
        &env.dispatch(
            &quick,
            command("command_subscribe_admin.json", "subscriptions", json!([])),
        )
        .await,
    );
    assert_eq!(body["data"]["flags"], 64);
    assert!(
        body["data"]["content"]
            .as_str()
            .unwrap()
            .contains(&format!("<#{CHANNEL}>: daily at 08:30")),
        "{body}"
    );
    let body = one_callback(
        &env.dispatch(
            &quick,
            command("command_subscribe_admin.json", "preview", channel.clone()),
        )
        .await,
    );
    assert_eq!(body["data"]["flags"], 64);
    let content = body["data"]["content"].as_str().unwrap();
    assert!(
        content.starts_with(&format!("Preview of <#{CHANNEL}>"))
            && content.contains("message(s); the first one:"),
        "{content}"
    );
    assert!(
        content.contains("Hot papers of the arXiv mailing of Fri 2021-07-02 in cs.LG, cs.CV"),
        "{content}"
    );
    assert!(env.waker_was_notified());
    let body = one_callback(
        &env.dispatch(
            &quick,
            command(
                "command_subscribe_admin.json",
                "unsubscribe",
                channel.clone(),
            ),
        )
        .await,
    );
    assert!(
        body["data"]["content"]
            .as_str()
            .unwrap()
            .starts_with(&format!("Unsubscribed <#{CHANNEL}>")),
        "{body}"
    );
    assert!(env.waker_was_notified());
    assert!(
        env.store
            .guild_subscriptions(GUILD)
            .await
            .unwrap()
            .is_empty()
    );
    // In a DM, admin commands are refused (no server).
    let mut dm = fixture("command_hot_dm.json");
    dm["data"]["name"] = json!("subscriptions");
    dm["data"]["options"] = json!([]);
    let msg = ephemeral_error(&one_callback(&env.dispatch(&quick, interaction(dm)).await));
    assert!(msg.contains("direct messages"), "{msg}");
}

#[derive(Clone, Default)]
struct LogBuf(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for LogBuf {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Every log line of this test binary, from a global subscriber set once. (A subscriber
/// scoped to one future misses events when other tests hit the same callsites first.)
fn global_logs() -> LogBuf {
    static LOGS: std::sync::OnceLock<LogBuf> = std::sync::OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = LogBuf::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("one global subscriber");
        logs
    })
    .clone()
}

/// `run` logs one line per interaction, with the command, its outcome and its latency.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_interaction_is_one_log_line_with_command_outcome_and_latency() {
    let logs = global_logs();
    let env = env().await;
    let quick = env.quick();
    // Ids of their own, to find these two interactions' lines among every test's.
    let mut hot = fixture("command_hot.json");
    hot["id"] = json!("1300000000000000771");
    env.dispatch(&quick, interaction(hot)).await;
    let mut paper = fixture("command_paper.json");
    paper["id"] = json!("1300000000000000772");
    paper["data"]["options"][0]["value"] = json!("2107.99999");
    env.dispatch(&quick, interaction(paper)).await;
    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    let line = |id: &str| -> Vec<String> {
        text.lines()
            .filter(|l| l.contains("interaction answered") && l.contains(id))
            .map(str::to_string)
            .collect()
    };
    let (hot, paper) = (line("1300000000000000771"), line("1300000000000000772"));
    assert_eq!((hot.len(), paper.len()), (1, 1), "{text}");
    assert!(
        hot[0].contains("command=\"hot\"") && hot[0].contains("outcome=\"ok\""),
        "{}",
        hot[0]
    );
    assert!(
        paper[0].contains("command=\"paper\"") && paper[0].contains("outcome=\"error\""),
        "{}",
        paper[0]
    );
    assert!(hot[0].contains("latency_ms=") && paper[0].contains("latency_ms="));
}

/// A 429 on the interaction callback (Discord's body, without a `code`) is waited out and the
/// answer goes through once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limited_answer_is_retried_and_delivered_once() {
    let env = env().await;
    Mock::given(method("POST"))
        .and(path_regex(r"^/api/v10/interactions/\d+/[^/]+/callback$"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "0.2")
                .set_body_json(json!({"message": "You are being rate limited.", "retry_after": 0.2, "global": false})),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&env.discord)
        .await;
    let quick = env.quick();
    let reqs = env
        .dispatch(&quick, interaction(fixture("command_hot.json")))
        .await;
    assert_eq!(reqs.len(), 2, "the 429 and the retry: {reqs:?}");
    assert!(
        reqs.iter()
            .all(|(m, p, _)| m == "POST" && p.ends_with("/callback"))
    );
    assert_eq!(reqs[0].2, reqs[1].2, "the same answer again");
    assert_eq!(reqs[1].2["type"], 4);
}
