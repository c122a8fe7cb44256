//! The Bluesky source end to end on loopback: the Jetstream listener against a websocket fake
//! (tokio-tungstenite server) replaying the real `bluesky_jetstream_v1_events.jsonl` lines and
//! events built in the same shape, and `BlueskySource` against a wiremock AppView/PDS serving
//! postViews in the shape of the real `bluesky_getPostThread_postview.json`.
//!
//! No capture of `searchPosts` or `createSession` exists; their envelopes are built from the
//! lexicons (`app.bsky.feed.searchPosts`: `{posts, cursor?, hitsTotal?}`;
//! `com.atproto.server.createSession`: `{accessJwt, refreshJwt, handle, did, …}`).
//!
//! All waits go through a `FakeClock` (asserted); tests synchronize on channel messages, never
//! on sleeps.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use futures_util::{SinkExt, StreamExt};
use hotpapers::arxiv::ArxivId;
use hotpapers::clock::FakeClock;
use hotpapers::config::{BlueskyConfig, Secret};
use hotpapers::http::{HttpClient, HttpOptions, RetryPolicy, user_agent};
use hotpapers::sources::bluesky::records::{self, EventKind, Record};
use hotpapers::sources::bluesky::{BlueskySource, JetstreamConsumer, listen};
use hotpapers::sources::{Source, SourceError, Window};
use hotpapers::store::{BlueskyCounts, BlueskyPost, Signal, SqliteStore, Store};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{
    Request as WsRequest, Response as WsResponse,
};
use wiremock::matchers::{body_json, header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const EVENTS: &str = include_str!("fixtures/bluesky_jetstream_v1_events.jsonl");
const POSTVIEW: &str = include_str!("fixtures/bluesky_getPostThread_postview.json");

/// 2026-07-04T14:40:00Z in Jetstream microseconds (the fixture's events are at 14:38:08).
const T: i64 = 1_783_176_000_000_000;
const SEC: i64 = 1_000_000;

const PAPER: &str = "2107.00641";
const OTHER: &str = "2401.04670";

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 7, 4, 15, 0, 0).unwrap()
}

fn day() -> Window {
    Window {
        since: Utc.with_ymd_and_hms(2026, 7, 4, 0, 0, 0).unwrap(),
        until: Utc.with_ymd_and_hms(2026, 7, 5, 0, 0, 0).unwrap(),
    }
}

fn id(s: &str) -> ArxivId {
    ArxivId::parse(s).unwrap()
}

fn at(t_us: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(t_us).unwrap()
}

fn iso(t_us: i64) -> String {
    at(t_us).to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn uri(did: &str, rkey: &str) -> String {
    format!("at://{did}/app.bsky.feed.post/{rkey}")
}

async fn store() -> Arc<dyn Store> {
    Arc::new(SqliteStore::in_memory().await.unwrap())
}

fn cfg() -> BlueskyConfig {
    BlueskyConfig {
        replay_overlap: Duration::from_secs(2),
        ..BlueskyConfig::default()
    }
}

// ---------------------------------------------------------------------------------------------
// Events in the shape of the real Jetstream v1 lines.

fn commit(
    did: &str,
    t: i64,
    op: &str,
    collection: &str,
    rkey: &str,
    record: Option<Value>,
) -> String {
    let mut commit =
        json!({"rev": "3mptbypluud2a", "operation": op, "collection": collection, "rkey": rkey});
    if let Some(record) = record {
        commit["record"] = record;
        commit["cid"] = json!("bafyreiguce4jh7kcbmof3pmcvasifqtw24b6isakj5ve5ga2b4z4alpc4i");
    }
    json!({"did": did, "time_us": t, "kind": "commit", "commit": commit}).to_string()
}

fn post(did: &str, rkey: &str, t: i64, record: Value) -> String {
    commit(did, t, "create", "app.bsky.feed.post", rkey, Some(record))
}

/// A post linking `url` through a link facet, with the text shortened as clients do.
fn facet_post(url: &str, t: i64) -> Value {
    json!({
        "$type": "app.bsky.feed.post",
        "createdAt": iso(t),
        "facets": [{"features": [{"$type": "app.bsky.richtext.facet#link", "uri": url}],
                    "index": {"byteEnd": 24, "byteStart": 0}}],
        "langs": ["en"],
        "text": "arxiv.org/abs/2107.0... worth a read"
    })
}

/// A post linking `url` through an external embed only.
fn embed_post(url: &str, t: i64) -> Value {
    json!({
        "$type": "app.bsky.feed.post",
        "createdAt": iso(t),
        "embed": {"$type": "app.bsky.embed.external",
                  "external": {"description": "", "title": "paper", "uri": url}},
        "text": "new paper"
    })
}

fn like(did: &str, rkey: &str, t: i64, subject: &str) -> String {
    let record = json!({"$type": "app.bsky.feed.like", "createdAt": iso(t),
                        "subject": {"cid": "bafy", "uri": subject}});
    commit(did, t, "create", "app.bsky.feed.like", rkey, Some(record))
}

fn repost(did: &str, rkey: &str, t: i64, subject: &str) -> String {
    let record = json!({"$type": "app.bsky.feed.repost", "createdAt": iso(t),
                        "subject": {"cid": "bafy", "uri": subject}});
    commit(did, t, "create", "app.bsky.feed.repost", rkey, Some(record))
}

fn delete(did: &str, collection: &str, rkey: &str, t: i64) -> String {
    commit(did, t, "delete", collection, rkey, None)
}

// ---------------------------------------------------------------------------------------------
// The consumer, driven line by line.

async fn consumer(
    store: &Arc<dyn Store>,
    clock: &FakeClock,
    cfg: &BlueskyConfig,
) -> JetstreamConsumer {
    let mut c = JetstreamConsumer::new(cfg, store.clone(), Arc::new(clock.clone()));
    c.load_cursor().await.unwrap();
    c
}

/// Stores `value` as the saved Jetstream cursor behind the store's interface, as a hand edit or
/// a damaged file could leave it.
async fn write_raw_cursor(store: &SqliteStore, value: &str) {
    sqlx::query(
        "INSERT INTO kv (key, value) VALUES ('bluesky.jetstream.cursor', ?1) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    .bind(value)
    .execute(store.pool())
    .await
    .unwrap();
}

/// Applies `lines`, then flushes the buffered writes (as the listener does when the stream goes
/// quiet), so that the store and the stats show them.
async fn apply_all(c: &mut JetstreamConsumer, lines: &[String]) {
    for line in lines {
        c.apply_text(line).await.unwrap();
    }
    c.flush().await.unwrap();
}

async fn counts_of(store: &Arc<dyn Store>, paper: &str) -> Vec<(String, BlueskyCounts)> {
    store
        .bluesky_posts_of_paper(&id(paper))
        .await
        .unwrap()
        .into_iter()
        .map(|p| (p.post.uri, p.counts))
        .collect()
}

/// A retention beyond chrono's range (an unvalidated `BlueskyConfig`) prunes nothing; it used
/// to panic with "`DateTime - TimeDelta` overflowed" at the first prune.
#[tokio::test]
async fn a_retention_beyond_the_calendar_neither_panics_nor_fails() {
    let store = store().await;
    let clock = FakeClock::new(now());
    let cfg = BlueskyConfig {
        retention: Duration::MAX,
        ..cfg()
    };
    let mut c = consumer(&store, &clock, &cfg).await;
    let lines: Vec<String> = EVENTS.lines().map(str::to_string).collect();
    apply_all(&mut c, &lines).await;
    assert_eq!(c.stats().events, 9);
}

#[tokio::test]
async fn real_jetstream_lines_link_no_paper_and_store_nothing() {
    let store = store().await;
    let clock = FakeClock::new(now());
    let mut c = consumer(&store, &clock, &cfg()).await;
    let lines: Vec<String> = EVENTS.lines().map(str::to_string).collect();
    assert_eq!(lines.len(), 9);
    apply_all(&mut c, &lines).await;

    let stats = c.stats();
    assert_eq!(stats.events, 9);
    assert_eq!(stats.malformed, 0);
    assert_eq!(stats.posts_stored, 0);
    assert_eq!(stats.interactions, 0);
    assert!(
        store
            .bluesky_posts_in_window(at(0), now())
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        c.cursor(),
        Some(1_783_175_888_390_226),
        "the last line's time_us"
    );

    // The YouTube post's text is shortened; its link comes whole from the facet (and embed).
    let line = lines.get(1).unwrap();
    let raw: Value = serde_json::from_str(line).unwrap();
    assert_eq!(
        raw["commit"]["record"]["text"],
        "www.youtube.com/watch?v=V5lD..."
    );
    let event = records::parse_event(line).unwrap();
    let EventKind::Commit(commit) = event.kind else {
        panic!("commit expected")
    };
    let Some(Record::Post(post)) = commit.record else {
        panic!("post expected")
    };
    assert_eq!(
        post.links,
        vec![
            "https://www.youtube.com/watch?v=V5lDo-jw8mA",
            "https://www.youtube.com/watch?v=V5lDo-jw8mA"
        ]
    );
    assert!(post.papers().is_empty());
    // The Czech post has only a link facet.
    let event = records::parse_event(lines.get(5).unwrap()).unwrap();
    let EventKind::Commit(commit) = event.kind else {
        panic!("commit expected")
    };
    let Some(Record::Post(post)) = commit.record else {
        panic!("post expected")
    };
    assert_eq!(post.links, vec!["https://denikn.cz/2113523"]);
}

/// Every URL form of one paper, in facets and embeds, by different authors.
fn url_form_posts() -> Vec<(String, String)> {
    let forms: [(&str, Value); 9] = [
        ("abs", facet_post("https://arxiv.org/abs/2107.00641", T)),
        (
            "pdf",
            facet_post("https://arxiv.org/pdf/2107.00641v2.pdf", T + SEC),
        ),
        (
            "html",
            embed_post("https://arxiv.org/html/2107.00641v1", T + 2 * SEC),
        ),
        (
            "alphaxiv",
            facet_post("https://www.alphaxiv.org/abs/2107.00641", T + 3 * SEC),
        ),
        (
            "doi",
            facet_post("https://doi.org/10.48550/arXiv.2107.00641", T + 4 * SEC),
        ),
        (
            "export",
            facet_post("https://export.arxiv.org/abs/2107.00641v3", T + 5 * SEC),
        ),
        (
            "query",
            facet_post("http://arxiv.org/abs/2107.00641?context=cs", T + 6 * SEC),
        ),
        (
            "hf",
            // recordWithMedia: the link is in media.external; it also quotes the abs post.
            json!({
                "$type": "app.bsky.feed.post",
                "createdAt": iso(T + 7 * SEC),
                "embed": {
                    "$type": "app.bsky.embed.recordWithMedia",
                    "media": {"$type": "app.bsky.embed.external",
                              "external": {"uri": "https://huggingface.co/papers/2107.00641", "title": "", "description": ""}},
                    "record": {"$type": "app.bsky.embed.record",
                               "record": {"cid": "bafy", "uri": uri("did:plc:abs", "p")}}
                },
                "text": "see also"
            }),
        ),
        ("other", {
            // Links another paper; mentions ours only in text, which never counts.
            let mut r = facet_post("https://arxiv.org/abs/2401.04670", T + 8 * SEC);
            r["text"] = json!("arXiv:2107.00641 vs arxiv.org/abs/2401.0...");
            r
        }),
    ];
    forms
        .into_iter()
        .enumerate()
        .map(|(i, (name, record))| {
            let did = format!("did:plc:{name}");
            (
                did.clone(),
                post(&did, "p", T + i64::try_from(i).unwrap() * SEC, record),
            )
        })
        .collect()
}

#[tokio::test]
async fn url_forms_interactions_deletes_and_replays() {
    let store = store().await;
    let clock = FakeClock::new(now());
    let mut c = consumer(&store, &clock, &cfg()).await;
    let abs = uri("did:plc:abs", "p");
    let pdf = uri("did:plc:pdf", "p");
    let doi = uri("did:plc:doi", "p");
    let mut lines: Vec<String> = url_form_posts().into_iter().map(|(_, l)| l).collect();
    let t = T + 20 * SEC;
    lines.extend([
        like("did:plc:l1", "l1", t, &abs),
        like("did:plc:l2", "l2", t + 1, &abs),
        like("did:plc:l3", "l3", t + 2, &abs),
        like("did:plc:l1", "l4", t + 3, &pdf),
        like("did:plc:l1", "l5", t + 4, &uri("did:plc:nobody", "zz")), // not a stored post
        repost("did:plc:r1", "r1", t + 5, &abs),
        repost("did:plc:r2", "r2", t + 6, &abs),
        // A quote of the abs post (no link of its own).
        post("did:plc:q", "q", t + 7, json!({"$type": "app.bsky.feed.post", "createdAt": iso(t + 7),
            "embed": {"$type": "app.bsky.embed.record", "record": {"cid": "bafy", "uri": abs}}, "text": "this"})),
        // A direct reply, and a reply deeper in the thread (its parent is not stored).
        post("did:plc:x", "r1", t + 8, json!({"$type": "app.bsky.feed.post", "createdAt": iso(t + 8), "text": "nice",
            "reply": {"parent": {"cid": "b", "uri": abs}, "root": {"cid": "b", "uri": abs}}})),
        post("did:plc:y", "r2", t + 9, json!({"$type": "app.bsky.feed.post", "createdAt": iso(t + 9), "text": "agreed",
            "reply": {"parent": {"cid": "b", "uri": uri("did:plc:x", "r1")}, "root": {"cid": "b", "uri": abs}}})),
        // Deletes: one like of the abs post, and the whole doi post.
        delete("did:plc:l3", "app.bsky.feed.like", "l3", t + 10),
        delete("did:plc:doi", "app.bsky.feed.post", "p", t + 11),
    ]);
    apply_all(&mut c, &lines).await;

    let expected = |stored: &[(String, BlueskyCounts)]| {
        let uris: BTreeSet<&str> = stored.iter().map(|(u, _)| u.as_str()).collect();
        let forms = ["abs", "pdf", "html", "alphaxiv", "export", "query", "hf"];
        let want: BTreeSet<String> = forms
            .iter()
            .map(|f| uri(&format!("did:plc:{f}"), "p"))
            .collect();
        assert_eq!(
            uris,
            want.iter().map(String::as_str).collect(),
            "every URL form but the deleted doi post"
        );
        let get = |u: &str| {
            stored
                .iter()
                .find(|(x, _)| x == u)
                .map(|(_, c)| *c)
                .unwrap()
        };
        assert_eq!(
            get(&abs),
            BlueskyCounts {
                likes: 2,
                reposts: 2,
                quotes: 2,
                replies: 2
            },
            "quoted by the q post and by the hf post; a direct and a thread reply"
        );
        assert_eq!(
            get(&pdf),
            BlueskyCounts {
                likes: 1,
                ..BlueskyCounts::default()
            }
        );
    };
    let first = counts_of(&store, PAPER).await;
    expected(&first);
    assert!(!first.iter().any(|(u, _)| *u == doi));
    let other = counts_of(&store, OTHER).await;
    assert_eq!(
        other.len(),
        1,
        "the post linking 2401.04670 counts for it only"
    );

    // At-least-once delivery: replaying everything (deletes included) changes nothing.
    apply_all(&mut c, &lines).await;
    assert_eq!(counts_of(&store, PAPER).await, first);
    // Deleting the quote post removes its quote.
    apply_all(
        &mut c,
        &[delete("did:plc:q", "app.bsky.feed.post", "q", t + 30)],
    )
    .await;
    let quotes = counts_of(&store, PAPER)
        .await
        .into_iter()
        .find(|(u, _)| *u == abs)
        .unwrap()
        .1
        .quotes;
    assert_eq!(quotes, 1);
    // Deleting the abs post removes it with everything counted for it.
    c.apply_text(&delete("did:plc:abs", "app.bsky.feed.post", "p", t + 31))
        .await
        .unwrap();
    c.apply_text(&like("did:plc:l9", "l9", t + 32, &abs))
        .await
        .unwrap();
    c.flush().await.unwrap();
    assert!(
        !counts_of(&store, PAPER)
            .await
            .iter()
            .any(|(u, _)| *u == abs)
    );
    assert_eq!(c.cursor(), Some(t + 32));
}

#[tokio::test]
async fn malformed_lines_are_skipped_not_fatal() {
    let store = store().await;
    let clock = FakeClock::new(now());
    let mut c = consumer(&store, &clock, &cfg()).await;
    let abs = uri("did:plc:abs", "p");
    let lines = vec![
        "{".to_string(),
        "null".into(),
        "\u{0}\u{1}binary".into(),
        r#"{"did":"did:plc:a","time_us":1,"kind":"commit","commit":{"operation":"create","collection":"app.bsky.feed.like","rkey":"k"}}"#.into(),
        post("did:plc:abs", "p", T, facet_post("https://arxiv.org/abs/2107.00641", T)),
        r#"{"did":"did:plc:a","time_us":2,"kind":"commit","commit":{"operation":"create","collection":"app.bsky.feed.like","rkey":"k","record":{"subject":{"uri":42}}}}"#.into(),
        like("did:plc:l", "l", T + 1, &abs),
    ];
    apply_all(&mut c, &lines).await;
    assert_eq!(c.stats().malformed, 5);
    assert_eq!(c.stats().events, 2);
    assert_eq!(counts_of(&store, PAPER).await[0].1.likes, 1);
    assert_eq!(
        c.cursor(),
        Some(T + 1),
        "malformed lines never move the cursor"
    );
}

#[tokio::test]
async fn cursor_is_saved_every_n_events_or_interval_and_resumed_with_overlap() {
    let sqlite = SqliteStore::in_memory().await.unwrap();
    let store: Arc<dyn Store> = Arc::new(sqlite.clone());
    let clock = FakeClock::new(now());
    let cfg = BlueskyConfig {
        cursor_save_events: 3,
        cursor_save_interval: Duration::from_secs(10),
        replay_overlap: Duration::from_secs(5),
        ..BlueskyConfig::default()
    };
    let mut c = consumer(&store, &clock, &cfg).await;
    assert_eq!(c.resume_from(), None, "no cursor: start live");
    let abs = uri("did:plc:abs", "p");
    c.apply_text(&like("did:plc:l", "1", T, &abs))
        .await
        .unwrap();
    c.apply_text(&like("did:plc:l", "2", T + 1, &abs))
        .await
        .unwrap();
    assert_eq!(store.jetstream_cursor().await.unwrap(), None);
    c.apply_text(&like("did:plc:l", "3", T + 2, &abs))
        .await
        .unwrap();
    assert_eq!(
        store.jetstream_cursor().await.unwrap(),
        Some(T + 2),
        "every 3 events"
    );
    c.apply_text(&like("did:plc:l", "4", T + 3, &abs))
        .await
        .unwrap();
    assert_eq!(store.jetstream_cursor().await.unwrap(), Some(T + 2));
    clock.advance(Duration::from_secs(10));
    c.apply_text(&like("did:plc:l", "5", T + 4, &abs))
        .await
        .unwrap();
    assert_eq!(
        store.jetstream_cursor().await.unwrap(),
        Some(T + 4),
        "after 10 s"
    );
    // An older event (Jetstream replays) never moves the cursor back.
    c.apply_text(&like("did:plc:l", "1", T, &abs))
        .await
        .unwrap();
    assert_eq!(c.cursor(), Some(T + 4));

    let mut restarted = consumer(&store, &clock, &cfg).await;
    assert_eq!(restarted.cursor(), Some(T + 4));
    assert_eq!(restarted.resume_from(), Some(T + 4 - 5 * SEC));
    // A corrupt saved cursor is ignored (start live) rather than fatal.
    write_raw_cursor(&sqlite, "yesterday").await;
    assert_eq!(restarted.load_cursor().await.unwrap(), None);
}

// ---------------------------------------------------------------------------------------------
// The websocket fake.

/// How a fake connection ends after sending its lines.
enum End {
    /// A close frame.
    Close,
    /// The TCP connection is dropped without a close frame.
    Drop,
    /// Left open (silent) until the client goes away.
    Hold,
    /// Accept TCP, then drop before the websocket handshake.
    Refuse,
}

struct Conn {
    lines: Vec<String>,
    end: End,
}

/// A Jetstream fake on loopback: serves `conns` in order (then holds further connections
/// open), reporting each connection's request path+query (or `refused`) on the channel.
async fn fake_jetstream(conns: Vec<Conn>) -> (String, mpsc::UnboundedReceiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/subscribe", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut conns = conns.into_iter();
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let conn = conns.next().unwrap_or(Conn {
                lines: Vec::new(),
                end: End::Hold,
            });
            if matches!(conn.end, End::Refuse) {
                drop(tcp);
                let _ = tx.send("refused".to_string());
                continue;
            }
            let mut seen = String::new();
            // The signature is tungstenite's `Callback`; its error type is not ours to shrink.
            #[allow(clippy::result_large_err)]
            let callback = |req: &WsRequest, resp: WsResponse| {
                seen = req.uri().to_string();
                Ok(resp)
            };
            let Ok(mut ws) = tokio_tungstenite::accept_hdr_async(tcp, callback).await else {
                continue;
            };
            let _ = tx.send(seen);
            for line in conn.lines {
                if ws.send(Message::Text(line)).await.is_err() {
                    break;
                }
            }
            match conn.end {
                End::Close => {
                    let _ = ws.close(None).await;
                    while let Some(Ok(_)) = ws.next().await {}
                }
                End::Drop => drop(ws),
                End::Hold | End::Refuse => {
                    tokio::spawn(async move { while let Some(Ok(_)) = ws.next().await {} });
                }
            }
        }
    });
    (url, rx)
}

async fn next_query(rx: &mut mpsc::UnboundedReceiver<String>) -> String {
    tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("the listener did not connect within 10 s")
        .expect("fake server stopped")
}

struct Running {
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<(), SourceError>>,
}

fn start(cfg: BlueskyConfig, store: &Arc<dyn Store>, clock: &FakeClock) -> Running {
    let (stop, stopped) = oneshot::channel::<()>();
    let store = store.clone();
    let clock = Arc::new(clock.clone());
    let task = tokio::spawn(async move {
        listen(&cfg, store, clock, async {
            let _ = stopped.await;
        })
        .await
    });
    Running { stop, task }
}

impl Running {
    async fn stop(self) {
        self.stop.send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(10), self.task)
            .await
            .expect("the listener did not stop")
            .unwrap()
            .unwrap();
    }
}

const WANTED: &str = "wantedCollections=app.bsky.feed.post&wantedCollections=app.bsky.feed.like\
                      &wantedCollections=app.bsky.feed.repost";

#[tokio::test]
async fn listener_survives_a_dropped_connection_and_resumes_with_its_cursor() {
    let abs = uri("did:plc:abs", "p");
    let mut first: Vec<String> = EVENTS.lines().map(str::to_string).collect();
    first.push(post(
        "did:plc:abs",
        "p",
        T,
        facet_post("https://arxiv.org/abs/2107.00641v1", T),
    ));
    first.push(like("did:plc:l1", "1", T + SEC, &abs));
    let second = vec![
        like("did:plc:l1", "1", T + SEC, &abs), // replayed by the overlap
        "{\"truncated".to_string(),
        like("did:plc:l2", "2", T + 2 * SEC, &abs),
        repost("did:plc:r1", "1", T + 3 * SEC, &abs),
    ];
    let (url, mut queries) = fake_jetstream(vec![
        Conn {
            lines: first,
            end: End::Drop,
        },
        Conn {
            lines: second,
            end: End::Close,
        },
    ])
    .await;
    let store = store().await;
    let clock = FakeClock::new(now());
    let cfg = BlueskyConfig {
        jetstream_url: url,
        ..cfg()
    };
    let running = start(cfg, &store, &clock);

    let q0 = next_query(&mut queries).await;
    assert_eq!(
        q0,
        format!("/subscribe?{WANTED}"),
        "a fresh store starts live"
    );
    let q1 = next_query(&mut queries).await;
    assert_eq!(
        q1,
        format!("/subscribe?{WANTED}&cursor={}", T + SEC - 2 * SEC),
        "cursor minus the overlap"
    );
    // The cursor was saved when the connection dropped.
    assert_eq!(store.jetstream_cursor().await.unwrap(), Some(T + SEC));
    let q2 = next_query(&mut queries).await;
    assert_eq!(
        q2,
        format!("/subscribe?{WANTED}&cursor={}", T + 3 * SEC - 2 * SEC)
    );
    running.stop().await;

    assert_eq!(store.jetstream_cursor().await.unwrap(), Some(T + 3 * SEC));
    let counts = counts_of(&store, PAPER).await;
    assert_eq!(
        counts,
        vec![(
            abs,
            BlueskyCounts {
                likes: 2,
                reposts: 1,
                quotes: 0,
                replies: 0
            }
        )]
    );
    // Both connections delivered events, so each reconnection waited the base delay.
    assert_eq!(
        clock.sleeps(),
        vec![Duration::from_secs(1), Duration::from_secs(1)]
    );
}

#[tokio::test]
async fn listener_backs_off_on_failed_connections_and_resumes_a_saved_cursor() {
    let abs = uri("did:plc:abs", "p");
    let (url, mut queries) = fake_jetstream(vec![
        Conn {
            lines: Vec::new(),
            end: End::Refuse,
        },
        Conn {
            lines: Vec::new(),
            end: End::Refuse,
        },
        Conn {
            lines: Vec::new(),
            end: End::Refuse,
        },
        Conn {
            lines: vec![like("did:plc:l", "1", T + 9 * SEC, &abs)],
            end: End::Close,
        },
    ])
    .await;
    let store = store().await;
    store
        .bluesky_upsert_post(&BlueskyPost {
            uri: abs.clone(),
            author_did: "did:plc:abs".into(),
            created_at: at(T),
            papers: vec![id(PAPER)],
        })
        .await
        .unwrap();
    store.set_jetstream_cursor(T + 5 * SEC).await.unwrap();
    let clock = FakeClock::new(now());
    let cfg = BlueskyConfig {
        jetstream_url: url,
        reconnect_max_delay: Duration::from_secs(3),
        ..cfg()
    };
    let running = start(cfg, &store, &clock);
    for _ in 0..3 {
        assert_eq!(next_query(&mut queries).await, "refused");
    }
    let resumed = next_query(&mut queries).await;
    assert_eq!(
        resumed,
        format!("/subscribe?{WANTED}&cursor={}", T + 3 * SEC),
        "restart resumes the saved cursor"
    );
    let after = next_query(&mut queries).await;
    assert_eq!(after, format!("/subscribe?{WANTED}&cursor={}", T + 7 * SEC));
    running.stop().await;
    assert_eq!(
        clock.sleeps(),
        [1, 2, 3, 1].map(Duration::from_secs).to_vec(),
        "doubling, capped at reconnect_max_delay, reset after a connection that delivered"
    );
    assert_eq!(counts_of(&store, PAPER).await[0].1.likes, 1);
}

#[tokio::test]
async fn a_silent_connection_is_reopened_after_the_idle_timeout() {
    let abs = uri("did:plc:abs", "p");
    let (url, mut queries) = fake_jetstream(vec![Conn {
        lines: vec![like("did:plc:l", "1", T, &abs)],
        end: End::Hold,
    }])
    .await;
    let store = store().await;
    let clock = FakeClock::new(now());
    let cfg = BlueskyConfig {
        jetstream_url: url,
        idle_timeout: Duration::from_millis(200),
        ..cfg()
    };
    let running = start(cfg, &store, &clock);
    assert_eq!(
        next_query(&mut queries).await,
        format!("/subscribe?{WANTED}")
    );
    // No sleep here: the listener's own idle timeout ends the silent connection.
    assert_eq!(
        next_query(&mut queries).await,
        format!("/subscribe?{WANTED}&cursor={}", T - 2 * SEC)
    );
    running.stop().await;
    assert_eq!(clock.sleeps(), vec![Duration::from_secs(1)]);
}

/// On a connection that goes quiet, the buffered writes are stored after `FLUSH_IDLE`, while it
/// is still open: neither the next cursor save nor the end of the connection is waited for.
#[tokio::test]
async fn buffered_writes_are_stored_when_the_connection_goes_quiet() {
    let abs = uri("did:plc:abs", "p");
    let (url, mut queries) = fake_jetstream(vec![Conn {
        lines: vec![
            post(
                "did:plc:abs",
                "p",
                T,
                facet_post("https://arxiv.org/abs/2107.00641", T),
            ),
            like("did:plc:l", "1", T + 1, &abs),
            like("did:plc:m", "1", T + 2, &abs),
        ],
        end: End::Hold,
    }])
    .await;
    let store = store().await;
    let clock = FakeClock::new(now());
    let cfg = BlueskyConfig {
        jetstream_url: url,
        ..cfg()
    };
    let running = start(cfg, &store, &clock);
    assert_eq!(
        next_query(&mut queries).await,
        format!("/subscribe?{WANTED}")
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let counts = counts_of(&store, PAPER).await;
        if counts.first().is_some_and(|(_, c)| c.likes == 2) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not stored within 10 s: {counts:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        store.jetstream_cursor().await.unwrap(),
        None,
        "stored before any cursor save (every 1000 events or 10 s)"
    );
    assert!(queries.try_recv().is_err(), "still on the first connection");
    running.stop().await;
    assert_eq!(store.jetstream_cursor().await.unwrap(), Some(T + 2));
}

#[tokio::test]
async fn listen_fails_cleanly_when_the_store_is_unusable() {
    let (url, _queries) = fake_jetstream(Vec::new()).await;
    let sqlite = SqliteStore::in_memory().await.unwrap();
    sqlite.close().await;
    let store: Arc<dyn Store> = Arc::new(sqlite);
    let clock = FakeClock::new(now());
    let cfg = BlueskyConfig {
        jetstream_url: url,
        ..cfg()
    };
    let err = listen(&cfg, store, Arc::new(clock), std::future::pending())
        .await
        .unwrap_err();
    assert!(matches!(err, SourceError::Store(_)), "{err:?}");
}

// ---------------------------------------------------------------------------------------------
// A connection lost in the middle of a burst.

/// What an event of a burst leaves in the store.
#[derive(Clone, Debug)]
enum Trace {
    /// Nothing: a real firehose line that links no paper.
    Nothing,
    /// A post linking a paper: its URI in `bluesky_posts`.
    Post(String),
    /// A like or repost of a stored post: its record (did, collection, rkey) in
    /// `bluesky_interactions`.
    Interaction(String, &'static str, String),
}

struct BurstEvent {
    t: i64,
    line: String,
    trace: Trace,
}

const BURST_POSTS: usize = 10;
const LIKES_PER_POST: usize = 3;
/// Between two events of the burst: 100 ms, so the 2 s replay overlap reaches 20 events back.
const STEP: i64 = SEC / 10;

/// Paper `i` of the burst.
fn burst_paper(i: usize) -> String {
    format!("2107.{:05}", 600 + i)
}

/// Ten posts each linking a paper, each followed by three likes and a repost, among the real
/// firehose lines (their `time_us` rewritten so that the stream stays in time order), one event
/// every 100 ms from `T`.
fn burst() -> Vec<BurstEvent> {
    let mut real = EVENTS.lines().cycle();
    let mut events = Vec::new();
    let mut t = T;
    let mut push = |line: String, trace: Trace, t: &mut i64| {
        events.push(BurstEvent { t: *t, line, trace });
        *t += STEP;
    };
    for i in 0..BURST_POSTS {
        let author = format!("did:plc:author{i}");
        let rkey = format!("p{i}");
        let subject = uri(&author, &rkey);
        let url = format!("https://arxiv.org/abs/{}", burst_paper(i));
        let line = post(&author, &rkey, t, facet_post(&url, t));
        push(line, Trace::Post(subject.clone()), &mut t);
        for j in 0..LIKES_PER_POST {
            let mut raw: Value = serde_json::from_str(real.next().unwrap()).unwrap();
            raw["time_us"] = json!(t);
            push(raw.to_string(), Trace::Nothing, &mut t);
            let (fan, rkey) = (format!("did:plc:fan{j}"), format!("l{i}"));
            let line = like(&fan, &rkey, t, &subject);
            push(
                line,
                Trace::Interaction(fan, "app.bsky.feed.like", rkey),
                &mut t,
            );
        }
        let (fan, rkey) = ("did:plc:reposter".to_string(), format!("r{i}"));
        let line = repost(&fan, &rkey, t, &subject);
        push(
            line,
            Trace::Interaction(fan, "app.bsky.feed.repost", rkey),
            &mut t,
        );
    }
    events
}

/// Every post of the burst is stored once, with all its likes and its repost counted once.
async fn assert_burst_stored_once(sqlite: &SqliteStore, store: &Arc<dyn Store>) {
    let rows: (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM bluesky_posts), (SELECT count(*) FROM bluesky_interactions)",
    )
    .fetch_one(sqlite.pool())
    .await
    .unwrap();
    assert_eq!(
        rows,
        (
            BURST_POSTS as i64,
            (BURST_POSTS * (LIKES_PER_POST + 1)) as i64
        )
    );
    for i in 0..BURST_POSTS {
        let counts = counts_of(store, &burst_paper(i)).await;
        assert_eq!(
            counts,
            vec![(
                uri(&format!("did:plc:author{i}"), &format!("p{i}")),
                BlueskyCounts {
                    likes: LIKES_PER_POST as u64,
                    reposts: 1,
                    quotes: 0,
                    replies: 0
                }
            )],
            "paper {i}"
        );
    }
}

/// Whether the store holds what `trace` says an applied event leaves.
async fn is_stored(store: &SqliteStore, trace: &Trace) -> bool {
    let n: i64 = match trace {
        Trace::Nothing => return true,
        Trace::Post(uri) => sqlx::query_scalar("SELECT count(*) FROM bluesky_posts WHERE uri = ?")
            .bind(uri)
            .fetch_one(store.pool())
            .await
            .unwrap(),
        Trace::Interaction(did, collection, rkey) => sqlx::query_scalar(
            "SELECT count(*) FROM bluesky_interactions WHERE did = ? AND collection = ? AND rkey = ?",
        )
        .bind(did)
        .bind(*collection)
        .bind(rkey)
        .fetch_one(store.pool())
        .await
        .unwrap(),
    };
    n == 1
}

/// How a connection of the burst server ends.
enum Cut {
    /// After `n` events: the first half of the next one's frame, then the TCP connection is
    /// closed (FIN) with no close frame: every complete message reaches the client.
    MidFrame(usize),
    /// After `n` events, the connection is reset (RST, `SO_LINGER` 0): what the client had not
    /// read yet is lost with it, so how many of the `n` it applies is up to the scheduler.
    Reset(usize),
    /// Everything, then a close frame.
    Close,
}

/// The `cursor` query parameter of a subscription path.
fn cursor_of(path: &str) -> Option<i64> {
    url::Url::parse(&format!("ws://fake{path}"))
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "cursor")
        .map(|(_, v)| v.parse().unwrap())
}

/// A Jetstream fake that behaves like the real one around a burst of `events`: a connection
/// with a `cursor` gets every event with `time_us` at or after it (Jetstream's replay); one
/// without gets what happens from now on, i.e. only events it has not yet streamed to anyone
/// (the firehose moves on while a client is away). Connection `i` ends as `cuts[i]` says;
/// later ones are held open and silent. Each handshake's path is reported on the channel, and
/// nothing is sent until the test answers on `go`, so the test sees the store as the client
/// left it when it reconnected.
async fn burst_server(
    events: Vec<(i64, String)>,
    cuts: Vec<Cut>,
) -> (
    String,
    mpsc::UnboundedReceiver<String>,
    mpsc::UnboundedSender<()>,
) {
    use tokio::io::AsyncWriteExt as _;

    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/subscribe", listener.local_addr().unwrap());
    let (seen_tx, seen_rx) = mpsc::unbounded_channel();
    let (go_tx, mut go_rx) = mpsc::unbounded_channel::<()>();
    tokio::spawn(async move {
        let mut cuts = cuts.into_iter();
        // Index of the first event no connection has been sent yet ("now" on the firehose).
        let mut live = 0;
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let mut seen = String::new();
            #[allow(clippy::result_large_err)]
            let callback = |req: &WsRequest, resp: WsResponse| {
                seen = req.uri().to_string();
                Ok(resp)
            };
            let Ok(mut ws) = tokio_tungstenite::accept_hdr_async(tcp, callback).await else {
                continue;
            };
            let from = match cursor_of(&seen) {
                Some(cursor) => events.partition_point(|(t, _)| *t < cursor),
                None => live,
            };
            let _ = seen_tx.send(seen);
            if go_rx.recv().await.is_none() {
                return;
            }
            let Some(cut) = cuts.next() else {
                tokio::spawn(async move { while let Some(Ok(_)) = ws.next().await {} });
                continue;
            };
            let replay = &events[from..];
            let n = match cut {
                Cut::MidFrame(n) | Cut::Reset(n) => n.min(replay.len()),
                Cut::Close => replay.len(),
            };
            for (_, line) in &replay[..n] {
                ws.send(Message::Text(line.clone())).await.unwrap();
            }
            live = live.max(from + n);
            match cut {
                Cut::MidFrame(_) => {
                    // A server-to-client text frame (FIN, unmasked) announcing the whole next
                    // line, of which only half follows.
                    let next = replay[n].1.as_bytes();
                    let mut frame = vec![0x81];
                    match u8::try_from(next.len()) {
                        Ok(len) if len < 126 => frame.push(len),
                        _ => {
                            frame.push(126);
                            let len = u16::try_from(next.len()).unwrap();
                            frame.extend_from_slice(&len.to_be_bytes());
                        }
                    }
                    frame.extend_from_slice(&next[..next.len() / 2]);
                    let tcp = ws.get_mut();
                    tcp.write_all(&frame).await.unwrap();
                    tcp.flush().await.unwrap();
                    live += 1;
                    drop(ws);
                }
                Cut::Reset(_) => {
                    ws.get_ref().set_zero_linger().unwrap();
                    drop(ws);
                }
                Cut::Close => {
                    let _ = ws.close(None).await;
                    while let Some(Ok(_)) = ws.next().await {}
                }
            }
        }
    });
    (url, seen_rx, go_tx)
}

/// The connection drops in the middle of a burst of relevant events, first half-way through a
/// frame (FIN), then, on the replay, by a reset that can take unread events with it. Each
/// reconnection asks for a `cursor` no later than the last event the store holds (the cursor
/// saved in the store is that event's `time_us`, and every event up to it is stored, so
/// nothing lies between what is stored and where the replay starts), and the fake replays from
/// it as Jetstream does. At the end every post, like and repost of the burst is stored exactly
/// once and counted once. Backoff waits go through the `FakeClock`: no real sleep.
///
/// Fails if a reconnection resumes live or from a cursor past what was applied (events are
/// lost: a post or like missing at the end, or stored events missing below the cursor), or if
/// replayed events are applied twice (counts above 3 likes and 1 repost).
#[tokio::test]
async fn a_connection_lost_mid_burst_resumes_at_a_stored_event_and_stores_each_once() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = SqliteStore::open(&dir.path().join("hp.sqlite"))
        .await
        .unwrap();
    let store: Arc<dyn Store> = Arc::new(sqlite.clone());
    let burst = burst();
    let times: Vec<(i64, String)> = burst.iter().map(|e| (e.t, e.line.clone())).collect();
    let (url, mut seen, go) =
        burst_server(times, vec![Cut::MidFrame(25), Cut::Reset(35), Cut::Close]).await;
    let clock = FakeClock::new(now());
    let cfg = BlueskyConfig {
        jetstream_url: url,
        ..cfg()
    };
    let overlap = i64::try_from(cfg.replay_overlap.as_micros()).unwrap();
    let running = start(cfg, &store, &clock);

    assert_eq!(
        next_query(&mut seen).await,
        format!("/subscribe?{WANTED}"),
        "a fresh store starts live"
    );
    go.send(()).unwrap();
    for reconnection in 1..=3 {
        let path = next_query(&mut seen).await;
        let cursor = cursor_of(&path).unwrap_or_else(|| panic!("no cursor in {path}"));
        // No gap: every event before the replay's start is stored already.
        for e in burst.iter().filter(|e| e.t < cursor) {
            assert!(
                is_stored(&sqlite, &e.trace).await,
                "reconnection {reconnection}: {:?} at {} is not stored, yet the replay starts \
                 at {cursor}",
                e.trace,
                e.t
            );
        }
        // The cursor saved in the store is an event's time, that event and every one before it
        // are stored, and the replay starts at or before it.
        let saved = store
            .jetstream_cursor()
            .await
            .unwrap()
            .expect("a saved cursor");
        assert!(
            cursor <= saved,
            "{path} resumes after the saved cursor {saved}"
        );
        let last = burst
            .iter()
            .position(|e| e.t == saved)
            .unwrap_or_else(|| panic!("saved cursor {saved} is no event's time"));
        for e in &burst[..=last] {
            assert!(
                is_stored(&sqlite, &e.trace).await,
                "reconnection {reconnection}: {:?} at {} is not stored, yet the saved cursor is \
                 {saved}",
                e.trace,
                e.t
            );
        }
        if reconnection == 1 {
            // Every complete message before the half frame was applied, and the replay starts
            // the configured overlap before the last.
            assert_eq!(last, 24, "{path}");
            assert_eq!(cursor, saved - overlap, "{path}");
        }
        go.send(()).unwrap();
    }
    // The fourth connection was opened after the third ended with its close frame: everything
    // it replayed is applied.
    running.stop().await;

    assert_eq!(
        store.jetstream_cursor().await.unwrap(),
        Some(burst.last().unwrap().t)
    );
    for e in &burst {
        assert!(is_stored(&sqlite, &e.trace).await, "{:?} lost", e.trace);
    }
    assert_burst_stored_once(&sqlite, &store).await;
    assert_eq!(clock.sleeps().len(), 3, "one backoff per lost connection");
}

// ---------------------------------------------------------------------------------------------
// Buffered writes.

/// Every row of the Bluesky tables, in a fixed order.
async fn bluesky_rows(store: &SqliteStore) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT 'post ' || uri || ' ' || author_did || ' ' || created_at FROM bluesky_posts \
         UNION ALL SELECT 'paper ' || post_uri || ' ' || paper_id FROM bluesky_post_papers \
         UNION ALL SELECT 'interaction ' || did || ' ' || collection || ' ' || rkey || ' ' || kind \
         || ' ' || subject_uri FROM bluesky_interactions ORDER BY 1",
    )
    .fetch_all(store.pool())
    .await
    .unwrap()
}

/// A post, its likes, a reply to it and one deep in its thread, a replayed like, the delete of
/// one like, an update of the post (papers changed: counts kept) and of the reply (now to
/// another post: undo, then apply), and a second post updated to link nothing (deleted) and then
/// liked (dropped).
fn mixed_batch() -> Vec<String> {
    let abs = uri("did:plc:abs", "p");
    let other = uri("did:plc:other", "o");
    let t = T;
    let reply = |rkey: &str, t: i64, parent: &str, root: &str, op: &str| {
        let record = json!({"$type": "app.bsky.feed.post", "createdAt": iso(t), "text": "yes",
            "reply": {"parent": {"cid": "b", "uri": parent}, "root": {"cid": "b", "uri": root}}});
        commit("did:plc:x", t, op, "app.bsky.feed.post", rkey, Some(record))
    };
    vec![
        post(
            "did:plc:abs",
            "p",
            t,
            facet_post("https://arxiv.org/abs/2107.00641", t),
        ),
        like("did:plc:l1", "l1", t + 1, &abs),
        like("did:plc:l2", "l2", t + 2, &abs),
        like("did:plc:l3", "l3", t + 3, &abs),
        like("did:plc:l1", "l1", t + 4, &abs), // replayed
        repost("did:plc:r1", "r1", t + 5, &abs),
        reply("x1", t + 6, &abs, &abs, "create"),
        reply("x2", t + 7, &uri("did:plc:x", "x1"), &abs, "create"),
        delete("did:plc:l2", "app.bsky.feed.like", "l2", t + 8),
        commit(
            "did:plc:abs",
            t + 9,
            "update",
            "app.bsky.feed.post",
            "p",
            Some(facet_post("https://arxiv.org/abs/2401.04670", t)),
        ),
        post(
            "did:plc:other",
            "o",
            t + 10,
            facet_post("https://arxiv.org/abs/2107.00641", t + 10),
        ),
        like("did:plc:l4", "l4", t + 11, &other),
        reply("x1", t + 12, &other, &other, "update"),
        commit(
            "did:plc:other",
            t + 13,
            "update",
            "app.bsky.feed.post",
            "o",
            Some(json!({"$type": "app.bsky.feed.post", "createdAt": iso(t + 10), "text": "gone"})),
        ),
        like("did:plc:l5", "l5", t + 14, &other),
        like("did:plc:l6", "l6", t + 15, &abs),
    ]
}

/// One batch stores the same rows and counts the same stats as the writes one event at a time
/// (a flush after every event, which is what the listener did before it batched).
#[tokio::test]
async fn a_batch_stores_and_counts_what_the_writes_one_by_one_do() {
    let lines = mixed_batch();
    let one_by_one = SqliteStore::in_memory().await.unwrap();
    let batched = SqliteStore::in_memory().await.unwrap();
    let clock = FakeClock::new(now());
    let mut a = consumer(&(Arc::new(one_by_one.clone()) as _), &clock, &cfg()).await;
    for line in &lines {
        a.apply_text(line).await.unwrap();
        a.flush().await.unwrap();
    }
    let mut b = consumer(&(Arc::new(batched.clone()) as _), &clock, &cfg()).await;
    for line in &lines {
        b.apply_text(line).await.unwrap();
    }
    assert!(b.pending() > 10, "{} writes buffered", b.pending());
    assert_eq!(
        bluesky_rows(&batched).await.len(),
        2,
        "only the first post and its paper, flushed before the prune that follows the first \
         event; the rest waits for the flush"
    );
    b.flush().await.unwrap();
    assert_eq!(b.pending(), 0);

    assert_eq!(
        bluesky_rows(&batched).await,
        bluesky_rows(&one_by_one).await
    );
    assert_eq!(b.stats(), a.stats());
    let stats = b.stats();
    assert_eq!(
        (
            stats.posts_stored,
            stats.posts_deleted,
            stats.interactions,
            stats.interactions_deleted
        ),
        (3, 1, 10, 2),
        "{stats:?}"
    );
    let store: Arc<dyn Store> = Arc::new(batched);
    let abs = uri("did:plc:abs", "p");
    assert_eq!(
        counts_of(&store, OTHER).await,
        vec![(
            abs,
            BlueskyCounts {
                likes: 3,
                reposts: 1,
                quotes: 0,
                replies: 1
            }
        )],
        "l1, l3, l6 (l2 deleted); the x2 reply (x1 moved to the deleted post)"
    );
    assert!(counts_of(&store, PAPER).await.is_empty());
}

/// The listener stops (crashes) with writes buffered after its last cursor save: the saved
/// cursor is behind them, so the restart's replay brings them back, and nothing the replay
/// repeats is counted twice. A clean stop (`save_cursor`, as `listen` does on shutdown) stores
/// what is buffered and saves the last event's time.
#[tokio::test]
async fn stopping_mid_buffer_then_resuming_from_the_saved_cursor_loses_and_doubles_nothing() {
    let sqlite = SqliteStore::in_memory().await.unwrap();
    let store: Arc<dyn Store> = Arc::new(sqlite.clone());
    let clock = FakeClock::new(now());
    let cfg = BlueskyConfig {
        cursor_save_events: 7,
        ..cfg()
    };
    let burst = burst();
    let cut = 31;
    let mut crashed = consumer(&store, &clock, &cfg).await;
    for e in &burst[..cut] {
        crashed.apply_text(&e.line).await.unwrap();
    }
    assert!(crashed.pending() > 0, "writes buffered at the crash");
    drop(crashed);
    let saved = store.jetstream_cursor().await.unwrap().expect("saved");
    assert_eq!(saved, burst[27].t, "saved after every 7 events");
    for e in burst.iter().filter(|e| e.t <= saved) {
        assert!(
            is_stored(&sqlite, &e.trace).await,
            "{:?} below the cursor",
            e.trace
        );
    }
    assert!(
        !is_stored(&sqlite, &burst[30].trace).await,
        "{:?} was only buffered",
        burst[30].trace
    );

    let mut resumed = consumer(&store, &clock, &cfg).await;
    let from = resumed.resume_from().expect("a cursor");
    assert!(from <= saved);
    // Jetstream replays from the cursor; stop cleanly half-way, then resume again.
    let replay: Vec<&BurstEvent> = burst.iter().filter(|e| e.t >= from).collect();
    let half = replay.len() / 2;
    for e in &replay[..half] {
        resumed.apply_text(&e.line).await.unwrap();
    }
    resumed.save_cursor().await.unwrap();
    assert_eq!(resumed.pending(), 0);
    assert_eq!(
        store.jetstream_cursor().await.unwrap(),
        Some(replay[half - 1].t)
    );
    let mut last = consumer(&store, &clock, &cfg).await;
    let from = last.resume_from().expect("a cursor");
    for e in burst.iter().filter(|e| e.t >= from) {
        last.apply_text(&e.line).await.unwrap();
    }
    last.save_cursor().await.unwrap();

    assert_eq!(
        store.jetstream_cursor().await.unwrap(),
        Some(burst.last().unwrap().t)
    );
    assert_burst_stored_once(&sqlite, &store).await;
}

// ---------------------------------------------------------------------------------------------
// BlueskySource against a wiremock AppView / PDS.

fn http(clock: &FakeClock) -> HttpClient {
    HttpClient::new(
        HttpOptions {
            timeout: Duration::from_secs(5),
            max_body_bytes: 1 << 20,
            user_agent: user_agent("tests@example.org"),
            retry: RetryPolicy {
                max_retries: 2,
                base_delay: Duration::from_secs(1),
                max_delay: Duration::from_secs(30),
            },
        },
        Arc::new(clock.clone()),
    )
    .unwrap()
    .with_jitter_seed(5)
}

fn source_cfg(server: &MockServer) -> BlueskyConfig {
    BlueskyConfig {
        api_url: server.uri(),
        pds_url: format!("{}/pds", server.uri()),
        ..BlueskyConfig::default()
    }
}

/// The real postView, with another URI, author, record and counters.
fn postview(uri: &str, handle: &str, record: Option<Value>, counts: [u64; 4]) -> Value {
    let fixture: Value = serde_json::from_str(POSTVIEW).unwrap();
    let mut view = fixture["thread"]["post"].clone();
    let did = uri
        .trim_start_matches("at://")
        .split('/')
        .next()
        .unwrap()
        .to_string();
    view["uri"] = json!(uri);
    view["author"]["did"] = json!(did);
    view["author"]["handle"] = json!(handle);
    if let Some(record) = record {
        view["record"] = record;
    }
    view["likeCount"] = json!(counts[0]);
    view["repostCount"] = json!(counts[1]);
    view["quoteCount"] = json!(counts[2]);
    view["replyCount"] = json!(counts[3]);
    view
}

/// Answers getPosts from the requested URIs: 10 likes, 3 reposts, 2 quotes, 1 reply each,
/// except for `missing` URIs (deleted posts), and records each call's batch size.
#[derive(Clone)]
struct AppView {
    missing: BTreeSet<String>,
    batches: Arc<Mutex<Vec<usize>>>,
}

impl Respond for AppView {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let uris: Vec<String> = request
            .url
            .query_pairs()
            .filter(|(k, _)| k == "uris")
            .map(|(_, v)| v.into_owned())
            .collect();
        self.batches.lock().unwrap().push(uris.len());
        let posts: Vec<Value> = uris
            .iter()
            .filter(|u| !self.missing.contains(*u))
            .map(|u| postview(u, "someone.bsky.social", None, [10, 3, 2, 1]))
            .collect();
        ResponseTemplate::new(200).set_body_json(json!({ "posts": posts }))
    }
}

async fn store_post(store: &Arc<dyn Store>, uri: &str, t: i64, papers: &[&str]) {
    let did = uri
        .trim_start_matches("at://")
        .split('/')
        .next()
        .unwrap()
        .to_string();
    store
        .bluesky_upsert_post(&BlueskyPost {
            uri: uri.to_string(),
            author_did: did,
            created_at: at(t),
            papers: papers.iter().map(|p| id(p)).collect(),
        })
        .await
        .unwrap();
}

fn value(signals: &[Signal], paper: &str, metric: &str) -> Option<f64> {
    signals
        .iter()
        .find(|s| s.paper.key() == paper && s.metric == metric)
        .map(|s| {
            assert_eq!(s.source, "bluesky");
            assert_eq!(s.observed_at, now());
            s.value
        })
}

#[tokio::test]
async fn collect_refreshes_60_posts_in_3_get_posts_calls_with_fallback_for_deleted_ones() {
    let server = MockServer::start().await;
    let store = store().await;
    let clock = FakeClock::new(now());
    // 60 posts of PAPER, 1 of OTHER, 1 outside the window; the listener counted 1 like each.
    let mut uris = Vec::new();
    for i in 0..60 {
        let u = uri(&format!("did:plc:a{i}"), "p");
        store_post(&store, &u, T + i * SEC, &[PAPER]).await;
        store
            .bluesky_record_interaction(&hotpapers::store::BlueskyInteraction {
                did: "did:plc:fan".into(),
                collection: "app.bsky.feed.like".into(),
                rkey: format!("l{i}"),
                kind: hotpapers::store::BlueskyInteractionKind::Like,
                subject_uri: u.clone(),
            })
            .await
            .unwrap();
        uris.push(u);
    }
    store_post(&store, &uri("did:plc:o", "p"), T, &[OTHER]).await;
    store_post(&store, &uri("did:plc:old", "p"), T - 86_400 * SEC, &[PAPER]).await;
    store
        .set_jetstream_cursor(now().timestamp_micros())
        .await
        .unwrap();
    let app = AppView {
        missing: uris.iter().take(2).cloned().collect(),
        batches: Arc::default(),
    };
    Mock::given(method("GET"))
        .and(path("/xrpc/app.bsky.feed.getPosts"))
        .respond_with(app.clone())
        .expect(3)
        .mount(&server)
        .await;
    Mock::given(path("/pds/xrpc/app.bsky.feed.searchPosts"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let source = BlueskySource::new(&source_cfg(&server), http(&clock), store.clone()).unwrap();
    assert_eq!(source.name(), "bluesky");
    let papers = BTreeSet::from([id(PAPER)]);
    let got = source.collect(day(), &papers, now()).await.unwrap();

    assert_eq!(got.requests, 3);
    assert_eq!(*app.batches.lock().unwrap(), vec![25, 25, 10]);
    assert_eq!(got.mentions, 60);
    assert!(got.notes.is_empty(), "{:?}", got.notes);
    // 58 refreshed posts at (10, 3, 2, 1); 2 deleted ones keep the listener's 1 like.
    assert_eq!(value(&got.signals, PAPER, "posts"), Some(60.0));
    assert_eq!(value(&got.signals, PAPER, "likes"), Some(58.0 * 10.0 + 2.0));
    assert_eq!(value(&got.signals, PAPER, "reposts"), Some(58.0 * 3.0));
    assert_eq!(value(&got.signals, PAPER, "quotes"), Some(58.0 * 2.0));
    assert_eq!(value(&got.signals, PAPER, "replies"), Some(58.0));
    assert_eq!(got.signals.len(), 5, "only the requested paper");
    assert!(clock.sleeps().is_empty());
}

#[tokio::test]
async fn get_posts_429_waits_for_retry_after() {
    let server = MockServer::start().await;
    let store = store().await;
    let clock = FakeClock::new(now());
    store_post(&store, &uri("did:plc:a", "p"), T, &[PAPER]).await;
    Mock::given(path("/xrpc/app.bsky.feed.getPosts"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "7")
                .set_body_json(
                    json!({"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"}),
                ),
        )
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/xrpc/app.bsky.feed.getPosts"))
        .and(query_param("uris", uri("did:plc:a", "p")))
        .respond_with(AppView {
            missing: BTreeSet::new(),
            batches: Arc::default(),
        })
        .expect(1)
        .mount(&server)
        .await;
    let source = BlueskySource::new(&source_cfg(&server), http(&clock), store.clone()).unwrap();
    let got = source
        .collect(day(), &BTreeSet::new(), now())
        .await
        .unwrap();
    assert_eq!(clock.sleeps(), vec![Duration::from_secs(7)]);
    assert_eq!(got.requests, 2, "both attempts count");
    assert_eq!(value(&got.signals, PAPER, "likes"), Some(10.0));
}

#[tokio::test]
async fn broken_get_posts_falls_back_to_the_listener_counts_with_a_note() {
    for (name, expected, response) in [
        (
            "malformed JSON",
            "getPosts answered with invalid JSON",
            ResponseTemplate::new(200).set_body_string("{\"posts\": ["),
        ),
        (
            "wrong shape",
            "getPosts answer has no \"posts\" array",
            ResponseTemplate::new(200).set_body_json(json!({"feed": []})),
        ),
        (
            "server error",
            "HTTP 503",
            ResponseTemplate::new(503).insert_header("retry-after", "1"),
        ),
        (
            "client error",
            "HTTP 400: {\"error\":\"InvalidRequest\"}",
            ResponseTemplate::new(400).set_body_json(json!({"error": "InvalidRequest"})),
        ),
    ] {
        let server = MockServer::start().await;
        let store = store().await;
        let clock = FakeClock::new(now());
        let u = uri("did:plc:a", "p");
        store_post(&store, &u, T, &[PAPER]).await;
        store
            .bluesky_record_interaction(&hotpapers::store::BlueskyInteraction {
                did: "did:plc:fan".into(),
                collection: "app.bsky.feed.repost".into(),
                rkey: "r".into(),
                kind: hotpapers::store::BlueskyInteractionKind::Repost,
                subject_uri: u,
            })
            .await
            .unwrap();
        Mock::given(path("/xrpc/app.bsky.feed.getPosts"))
            .respond_with(response)
            .mount(&server)
            .await;
        let source = BlueskySource::new(&source_cfg(&server), http(&clock), store.clone()).unwrap();
        let got = source
            .collect(day(), &BTreeSet::new(), now())
            .await
            .unwrap();
        assert_eq!(value(&got.signals, PAPER, "posts"), Some(1.0), "{name}");
        assert_eq!(value(&got.signals, PAPER, "reposts"), Some(1.0), "{name}");
        assert_eq!(value(&got.signals, PAPER, "likes"), Some(0.0), "{name}");
        let note = got
            .notes
            .iter()
            .find(|n| n.contains("listener's own (getPosts failed"))
            .unwrap_or_else(|| panic!("{name}: {:?}", got.notes));
        assert!(
            !note.contains("uris="),
            "{name}: no URL in the note: {note}"
        );
        assert!(note.contains(expected), "{name}: {note}");
    }
}

#[tokio::test]
async fn empty_windows_make_no_requests() {
    let server = MockServer::start().await;
    Mock::given(path("/xrpc/app.bsky.feed.getPosts"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"posts": []})))
        .expect(0)
        .mount(&server)
        .await;
    let store = store().await;
    let clock = FakeClock::new(now());
    store_post(&store, &uri("did:plc:a", "p"), T, &[PAPER]).await;
    let source = BlueskySource::new(&source_cfg(&server), http(&clock), store.clone()).unwrap();
    let before = Window {
        since: Utc.with_ymd_and_hms(2026, 7, 1, 0, 0, 0).unwrap(),
        until: Utc.with_ymd_and_hms(2026, 7, 2, 0, 0, 0).unwrap(),
    };
    let got = source
        .collect(before, &BTreeSet::new(), now())
        .await
        .unwrap();
    assert!(got.signals.is_empty());
    assert_eq!(got.requests, 0);
    assert_eq!(got.mentions, 0);
    assert!(
        got.notes
            .iter()
            .any(|n| n.contains("listener has not run yet")),
        "{:?}",
        got.notes
    );
    let inverted = Window {
        since: day().until,
        until: day().since,
    };
    assert_eq!(
        source
            .collect(inverted, &BTreeSet::new(), now())
            .await
            .unwrap()
            .requests,
        0
    );
    // A paper nobody linked: no request either.
    let got = source
        .collect(day(), &BTreeSet::from([id(OTHER)]), now())
        .await
        .unwrap();
    assert_eq!((got.requests, got.signals.len()), (0, 0));
}

#[tokio::test]
async fn bot_accounts_and_our_own_posts_are_weighted() {
    let server = MockServer::start().await;
    let store = store().await;
    let clock = FakeClock::new(now());
    store_post(&store, &uri("did:plc:human", "p"), T, &[PAPER]).await;
    store_post(&store, &uri("did:plc:feedbot", "p"), T, &[PAPER]).await;
    store_post(&store, &uri("did:plc:renamed", "p"), T, &[PAPER]).await;
    Mock::given(path("/xrpc/app.bsky.feed.getPosts"))
        .respond_with(move |req: &Request| {
            let posts: Vec<Value> = req
                .url
                .query_pairs()
                .filter(|(k, _)| k == "uris")
                .map(|(_, u)| {
                    let handle = if u.contains("renamed") {
                        "Arxiv-CS.bsky.social"
                    } else {
                        "x.bsky.social"
                    };
                    postview(&u, handle, None, [4, 0, 0, 0])
                })
                .collect();
            ResponseTemplate::new(200).set_body_json(json!({ "posts": posts }))
        })
        .mount(&server)
        .await;
    for (weight, posts, likes) in [(0.0, 1.0, 4.0), (0.5, 2.0, 8.0)] {
        let cfg = BlueskyConfig {
            bot_accounts: vec!["did:plc:feedbot".into(), "arxiv-cs.bsky.social".into()],
            bot_weight: weight,
            ..source_cfg(&server)
        };
        let source = BlueskySource::new(&cfg, http(&clock), store.clone()).unwrap();
        let got = source
            .collect(day(), &BTreeSet::new(), now())
            .await
            .unwrap();
        assert_eq!(
            value(&got.signals, PAPER, "posts"),
            Some(posts),
            "weight {weight}"
        );
        assert_eq!(
            value(&got.signals, PAPER, "likes"),
            Some(likes),
            "weight {weight}"
        );
    }
    // Our own account (identifier as a DID) counts like a bot.
    let cfg = BlueskyConfig {
        identifier: Some("did:plc:human".into()),
        ..source_cfg(&server)
    };
    let source = BlueskySource::new(&cfg, http(&clock), store.clone()).unwrap();
    let got = source
        .collect(day(), &BTreeSet::new(), now())
        .await
        .unwrap();
    assert_eq!(value(&got.signals, PAPER, "posts"), Some(2.0));
}

/// A searchPosts result linking `url` (shape per the lexicon; postViews like the fixture's).
fn search_hit(uri: &str, url: &str, t: i64, counts: [u64; 4]) -> Value {
    let mut view = postview(uri, "poster.bsky.social", Some(facet_post(url, t)), counts);
    view["indexedAt"] = json!(iso(t + SEC));
    view
}

async fn mount_session(server: &MockServer, expect: u64) {
    Mock::given(method("POST"))
        .and(path("/pds/xrpc/com.atproto.server.createSession"))
        .and(body_json(
            json!({"identifier": "hotpapers.example.org", "password": "app-pass-1234"}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "accessJwt": "jwt-access-1", "refreshJwt": "jwt-refresh-1",
            "handle": "hotpapers.example.org", "did": "did:plc:hotpapers", "active": true
        })))
        .expect(expect)
        .mount(server)
        .await;
}

fn with_credentials(server: &MockServer) -> BlueskyConfig {
    BlueskyConfig {
        identifier: Some("hotpapers.example.org".into()),
        app_password: Some(Secret::new("app-pass-1234")),
        ..source_cfg(server)
    }
}

#[tokio::test]
async fn search_backfill_logs_in_pages_and_stores_what_it_finds() {
    let server = MockServer::start().await;
    let store = store().await;
    let clock = FakeClock::new(now());
    mount_session(&server, 1).await;
    let search = || {
        Mock::given(method("GET"))
            .and(path("/pds/xrpc/app.bsky.feed.searchPosts"))
            .and(header("authorization", "Bearer jwt-access-1"))
            .and(query_param("q", "*"))
            .and(query_param("domain", "arxiv.org"))
            .and(query_param("sort", "latest"))
            .and(query_param("limit", "100"))
            .and(query_param("since", "2026-07-04T00:00:00.000Z"))
            .and(query_param("until", "2026-07-05T00:00:00.000Z"))
    };
    search()
        .and(query_param_is_missing("cursor"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "posts": [
                search_hit(&uri("did:plc:s1", "p"), "https://arxiv.org/abs/2107.00641v2", T, [5, 1, 0, 0]),
                search_hit(&uri("did:plc:s2", "p"), "https://example.org/blog", T, [99, 0, 0, 0]),
            ],
            "cursor": "page-2", "hitsTotal": 3
        })))
        .expect(2)
        .mount(&server)
        .await;
    search()
        .and(query_param("cursor", "page-2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "posts": [search_hit(&uri("did:plc:s3", "p"), "https://arxiv.org/pdf/2107.00641", T + SEC, [1, 0, 1, 2])]
        })))
        .expect(2)
        .mount(&server)
        .await;
    // Posts found by search already have fresh counts: getPosts is not asked for them.
    Mock::given(path("/xrpc/app.bsky.feed.getPosts"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let source =
        BlueskySource::new(&with_credentials(&server), http(&clock), store.clone()).unwrap();
    assert!(source.can_search());
    let got = source
        .collect(day(), &BTreeSet::new(), now())
        .await
        .unwrap();
    assert_eq!(got.requests, 3, "login + 2 pages");
    assert_eq!(value(&got.signals, PAPER, "posts"), Some(2.0));
    assert_eq!(value(&got.signals, PAPER, "likes"), Some(6.0));
    assert_eq!(value(&got.signals, PAPER, "replies"), Some(2.0));
    // Stored for the listener; the non-arXiv hit is not.
    assert_eq!(counts_of(&store, PAPER).await.len(), 2);
    assert_eq!(
        store
            .bluesky_posts_in_window(day().since, day().until)
            .await
            .unwrap()
            .len(),
        2
    );
    // The session is reused by the next sweep.
    let again = source
        .collect(day(), &BTreeSet::new(), now())
        .await
        .unwrap();
    assert_eq!(again.requests, 2);
    assert!(
        !format!("{source:?}").contains("jwt-access-1"),
        "the token never prints"
    );
    assert!(!format!("{source:?}").contains("app-pass-1234"));
}

#[tokio::test]
async fn an_expired_session_is_renewed_once() {
    let server = MockServer::start().await;
    let store = store().await;
    let clock = FakeClock::new(now());
    mount_session(&server, 2).await;
    Mock::given(path("/pds/xrpc/app.bsky.feed.searchPosts"))
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_json(json!({"error": "ExpiredToken", "message": "Token has expired"})),
        )
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/pds/xrpc/app.bsky.feed.searchPosts"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"posts": []})))
        .expect(1)
        .mount(&server)
        .await;
    let source =
        BlueskySource::new(&with_credentials(&server), http(&clock), store.clone()).unwrap();
    let got = source
        .collect(day(), &BTreeSet::new(), now())
        .await
        .unwrap();
    assert_eq!(got.requests, 4, "login, expired search, login, search");
    assert!(
        !got.notes.iter().any(|n| n.contains("search skipped")),
        "{:?}",
        got.notes
    );
}

#[tokio::test]
async fn rejected_credentials_are_a_note_that_never_shows_the_password() {
    let server = MockServer::start().await;
    let store = store().await;
    let clock = FakeClock::new(now());
    store_post(&store, &uri("did:plc:a", "p"), T, &[PAPER]).await;
    Mock::given(path("/pds/xrpc/com.atproto.server.createSession"))
        .respond_with(ResponseTemplate::new(401).set_body_json(
            json!({"error": "AuthenticationRequired", "message": "Invalid identifier or password"}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/xrpc/app.bsky.feed.getPosts"))
        .respond_with(AppView {
            missing: BTreeSet::new(),
            batches: Arc::default(),
        })
        .expect(1)
        .mount(&server)
        .await;
    let source =
        BlueskySource::new(&with_credentials(&server), http(&clock), store.clone()).unwrap();
    let got = source
        .collect(day(), &BTreeSet::new(), now())
        .await
        .unwrap();
    let note = got
        .notes
        .iter()
        .find(|n| n.contains("search skipped"))
        .expect("a search note");
    assert!(
        note.contains("rejected the login as hotpapers.example.org"),
        "{note}"
    );
    assert!(note.contains("Invalid identifier or password"), "{note}");
    assert!(!note.contains("app-pass-1234"), "{note}");
    assert_eq!(
        value(&got.signals, PAPER, "likes"),
        Some(10.0),
        "stored posts still count"
    );
}

#[tokio::test]
async fn without_credentials_search_is_skipped_silently() {
    let server = MockServer::start().await;
    Mock::given(path("/pds/xrpc/com.atproto.server.createSession"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let store = store().await;
    let clock = FakeClock::new(now());
    store
        .set_jetstream_cursor(now().timestamp_micros())
        .await
        .unwrap();
    // Only an identifier: not enough to log in.
    let cfg = BlueskyConfig {
        identifier: Some("someone.bsky.social".into()),
        ..source_cfg(&server)
    };
    let source = BlueskySource::new(&cfg, http(&clock), store.clone()).unwrap();
    assert!(!source.can_search());
    let got = source
        .collect(day(), &BTreeSet::new(), now())
        .await
        .unwrap();
    assert_eq!(got.requests, 0);
    assert!(got.notes.is_empty(), "{:?}", got.notes);
}

#[tokio::test]
async fn a_stale_listener_is_reported() {
    let server = MockServer::start().await;
    let store = store().await;
    let clock = FakeClock::new(now());
    store.set_jetstream_cursor(T).await.unwrap(); // 14:40, now is 15:00
    let source = BlueskySource::new(&source_cfg(&server), http(&clock), store.clone()).unwrap();
    let got = source
        .collect(day(), &BTreeSet::new(), now())
        .await
        .unwrap();
    assert_eq!(
        got.notes,
        vec![
            "the Bluesky listener last saved its position at 2026-07-04 14:40 UTC; later posts and likes are missing"
        ]
    );
}

#[tokio::test]
async fn lookup_refreshes_the_stored_posts_of_one_paper() {
    let server = MockServer::start().await;
    let store = store().await;
    let clock = FakeClock::new(now());
    store_post(&store, &uri("did:plc:a", "p"), T, &[PAPER, OTHER]).await;
    store_post(
        &store,
        &uri("did:plc:b", "p"),
        T - 40 * 86_400 * SEC,
        &[PAPER],
    )
    .await;
    store_post(&store, &uri("did:plc:c", "p"), T, &[OTHER]).await;
    let app = AppView {
        missing: BTreeSet::new(),
        batches: Arc::default(),
    };
    Mock::given(path("/xrpc/app.bsky.feed.getPosts"))
        .respond_with(app.clone())
        .expect(1)
        .mount(&server)
        .await;
    let source = BlueskySource::new(&source_cfg(&server), http(&clock), store.clone()).unwrap();
    let signals = source
        .lookup(&id("2107.00641v3"), now())
        .await
        .unwrap()
        .signals;
    assert_eq!(
        *app.batches.lock().unwrap(),
        vec![2],
        "both posts of the paper, any age"
    );
    assert_eq!(value(&signals, PAPER, "posts"), Some(2.0));
    assert_eq!(value(&signals, PAPER, "likes"), Some(20.0));
    assert!(
        signals
            .iter()
            .all(|s| s.paper.key() == PAPER && s.paper.version().is_none())
    );
    assert!(
        source
            .lookup(&id("2501.00001"), now())
            .await
            .unwrap()
            .signals
            .is_empty()
    );
}

#[tokio::test]
async fn lookup_with_credentials_searches_the_abs_url() {
    let server = MockServer::start().await;
    let store = store().await;
    let clock = FakeClock::new(now());
    mount_session(&server, 1).await;
    Mock::given(path("/pds/xrpc/app.bsky.feed.searchPosts"))
        .and(query_param("url", "https://arxiv.org/abs/2107.00641"))
        .and(query_param_is_missing("domain"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "posts": [search_hit(&uri("did:plc:s1", "p"), "https://arxiv.org/abs/2107.00641", T, [3, 1, 0, 0])],
            "cursor": "next"
        })))
        .expect(1)
        .mount(&server)
        .await;
    let source =
        BlueskySource::new(&with_credentials(&server), http(&clock), store.clone()).unwrap();
    let signals = source.lookup(&id(PAPER), now()).await.unwrap().signals;
    assert_eq!(value(&signals, PAPER, "likes"), Some(3.0));
    assert_eq!(
        counts_of(&store, PAPER).await.len(),
        1,
        "the hit is stored for the listener"
    );
}

#[tokio::test]
async fn bad_urls_are_rejected_at_construction() {
    let store = store().await;
    let clock = FakeClock::new(now());
    for cfg in [
        BlueskyConfig {
            api_url: "ftp://example.org".into(),
            ..BlueskyConfig::default()
        },
        BlueskyConfig {
            pds_url: "not a url".into(),
            ..BlueskyConfig::default()
        },
    ] {
        let err = BlueskySource::new(&cfg, http(&clock), store.clone()).unwrap_err();
        assert!(err.to_string().contains("is not an http(s) URL"), "{err}");
    }
}

#[tokio::test]
async fn search_is_cut_by_max_search_pages_and_keeps_pages_before_a_failure() {
    let server = MockServer::start().await;
    let store = store().await;
    let clock = FakeClock::new(now());
    mount_session(&server, 2).await;
    Mock::given(path("/pds/xrpc/app.bsky.feed.searchPosts"))
        .and(query_param_is_missing("cursor"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "posts": [search_hit(&uri("did:plc:s1", "p"), "https://arxiv.org/abs/2107.00641", T, [2, 0, 0, 0])],
            "cursor": "page-2"
        })))
        .mount(&server)
        .await;
    Mock::given(path("/pds/xrpc/app.bsky.feed.searchPosts"))
        .and(query_param("cursor", "page-2"))
        .respond_with(ResponseTemplate::new(502).set_body_string("<html>Bad gateway</html>"))
        .mount(&server)
        .await;

    let capped = BlueskyConfig {
        max_search_pages: 1,
        ..with_credentials(&server)
    };
    let source = BlueskySource::new(&capped, http(&clock), store.clone()).unwrap();
    let got = source
        .collect(day(), &BTreeSet::new(), now())
        .await
        .unwrap();
    assert_eq!(got.requests, 2, "login + 1 page");
    assert!(
        got.notes
            .iter()
            .any(|n| n.contains("stopped after 1 pages (max_search_pages)")),
        "{:?}",
        got.notes
    );

    let source =
        BlueskySource::new(&with_credentials(&server), http(&clock), store.clone()).unwrap();
    let got = source
        .collect(day(), &BTreeSet::new(), now())
        .await
        .unwrap();
    assert_eq!(
        got.requests,
        1 + 1 + 3,
        "login, page 1, page 2 tried three times"
    );
    let note = got
        .notes
        .iter()
        .find(|n| n.contains("search stopped"))
        .expect("a note");
    assert_eq!(
        note,
        "Bluesky search stopped after 1 pages: HTTP 502: <html>Bad gateway</html> (3 attempts)"
    );
    assert_eq!(
        value(&got.signals, PAPER, "likes"),
        Some(2.0),
        "page 1 still counts"
    );
}

/// Likes of posts that link no paper (nearly all of Bluesky) are dropped in memory; a post
/// stored by the search path is known to the listener after its next refresh.
#[tokio::test]
async fn likes_of_unknown_posts_never_reach_the_store_and_search_posts_are_picked_up() {
    let store = store().await;
    let clock = FakeClock::new(now());
    let mut c = consumer(&store, &clock, &cfg()).await;
    let t0 = now().timestamp_micros();
    let link = uri("did:plc:alice", "3kpost1");
    apply_all(
        &mut c,
        &[
            post(
                "did:plc:alice",
                "3kpost1",
                t0,
                facet_post("https://arxiv.org/abs/2107.00641", t0),
            ),
            like("did:plc:bob", "3klike1", t0 + 1, &link),
            like(
                "did:plc:bob",
                "3klike2",
                t0 + 2,
                &uri("did:plc:carol", "3kother"),
            ),
            like(
                "did:plc:dan",
                "3klike3",
                t0 + 3,
                &uri("did:plc:carol", "3kother"),
            ),
        ],
    )
    .await;
    let stats = c.stats();
    assert_eq!(stats.interactions, 1, "{stats:?}");
    assert_eq!(stats.interactions_ignored, 2, "{stats:?}");
    // The search path stores a post behind the listener's back; after the refresh its likes
    // count.
    let searched = uri("did:plc:erin", "3ksearch");
    store
        .bluesky_upsert_post(&BlueskyPost {
            uri: searched.clone(),
            author_did: "did:plc:erin".into(),
            created_at: now(),
            papers: vec![id("2107.00641")],
        })
        .await
        .unwrap();
    clock.advance(hotpapers::sources::bluesky::jetstream::KNOWN_POSTS_REFRESH);
    apply_all(&mut c, &[like("did:plc:fay", "3klike4", t0 + 4, &searched)]).await;
    assert_eq!(c.stats().interactions, 2, "{:?}", c.stats());
}
