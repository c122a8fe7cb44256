//! `hotpapers run` end to end: the real binary against a fake Discord on loopback — REST
//! through `[discord] proxy_url` (wiremock) and a minimal gateway (tokio-tungstenite) doing
//! HELLO → IDENTIFY → READY → INTERACTION_CREATE — then SIGTERM and a clean exit.
//!
//! No sleeps: every wait is on a channel, with a timeout only as a failure guard.

mod common;

use std::path::Path;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use common::{FakeArxiv, seed_entries};
use hotpapers::discord::limits::violations;

const TOKEN: &str = "dummy-bot-token-f00d";
const APP_ID: &str = "1100000000000000002";
const GUILD: &str = "1100000000000000004";
const INTERACTION_ID: &str = "1100000000000000001";
const INTERACTION_TOKEN: &str = "interaction-token-abc";
/// Failure guard for each wait (the whole exchange takes well under a second).
const GUARD: Duration = Duration::from_secs(30);

/// What the bot must answer to the `/hot date:2021-07-02 count:3` interaction: `answer` is the
/// message (the callback's `data` when answered at once, or the body of the edit of
/// `@original` after a deferral). It lists the mailing's top three papers, pings nobody and
/// stays within Discord's limits.
fn assert_answer(answer: &Value) {
    assert_eq!(
        answer["allowed_mentions"]["parse"],
        json!([]),
        "no pings: {answer}"
    );
    assert_eq!(violations(answer), vec![], "{answer}");
    // No attention sources: ties are broken by arXiv id, so the top three are the lowest ids.
    let mut ids: Vec<String> = common::seed_papers().into_iter().map(|p| p.id).collect();
    ids.sort();
    let expected: Vec<String> = ids
        .iter()
        .take(3)
        .map(|id| format!("https://arxiv.org/abs/{id}"))
        .collect();
    let urls: Vec<&str> = answer["embeds"]
        .as_array()
        .map(|e| e.iter().filter_map(|e| e["url"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        urls, expected,
        "the top three papers in rank order: {answer}"
    );
}

/// One request the fake REST API received.
#[derive(Debug)]
struct Hit {
    method: String,
    path: String,
    body: Value,
}

/// The fake Discord REST API: answers the routes the bot uses and reports every request.
struct FakeRest {
    hits: mpsc::UnboundedSender<Hit>,
    gateway_url: String,
}

fn bot_user() -> Value {
    json!({"id": "1100000000000000009", "username": "hotpapers", "discriminator": "0000",
           "avatar": null, "bot": true, "global_name": null, "flags": 0})
}

impl Respond for FakeRest {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let body = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
        let path = req.url.path().to_string();
        let method = req.method.to_string();
        let resp = match (method.as_str(), path.as_str()) {
            ("GET", "/api/v10/users/@me") => ResponseTemplate::new(200).set_body_json(bot_user()),
            ("GET", "/api/v10/gateway") => {
                ResponseTemplate::new(200).set_body_json(json!({"url": self.gateway_url}))
            }
            ("GET", "/api/v10/gateway/bot") => ResponseTemplate::new(200).set_body_json(json!({
                "url": self.gateway_url, "shards": 1,
                "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}
            })),
            ("PUT", p) if p.ends_with("/commands") => {
                let registered: Vec<Value> = body
                    .as_array()
                    .into_iter()
                    .flatten()
                    .enumerate()
                    .map(|(i, c)| {
                        let mut c = c.clone();
                        c["id"] = json!(format!("12000000000000000{i:02}"));
                        c["application_id"] = json!(APP_ID);
                        c["version"] = json!("1");
                        if c.get("type").is_none() {
                            c["type"] = json!(1);
                        }
                        c
                    })
                    .collect();
                ResponseTemplate::new(200).set_body_json(registered)
            }
            ("POST", p) if p.ends_with("/callback") => ResponseTemplate::new(204),
            ("POST" | "PATCH", p) if p.starts_with("/api/v10/webhooks/") => {
                ResponseTemplate::new(200).set_body_json(json!({
                    "id": "1300000000000000001", "channel_id": "1100000000000000003", "content": "",
                    "timestamp": "2021-07-03T08:00:00+00:00", "edited_timestamp": null, "tts": false,
                    "mention_everyone": false, "mentions": [], "mention_roles": [], "attachments": [],
                    "embeds": [], "pinned": false, "type": 0, "author": bot_user()
                }))
            }
            _ => ResponseTemplate::new(404).set_body_json(json!({"message": "Unknown", "code": 0})),
        };
        let _ = self.hits.send(Hit { method, path, body });
        resp
    }
}

fn ready(ws_url: &str) -> Value {
    json!({"op": 0, "s": 1, "t": "READY", "d": {
        "v": 10, "user": bot_user(),
        "guilds": [{"id": GUILD, "unavailable": true}],
        "session_id": "s", "resume_gateway_url": ws_url, "shard": [0, 1],
        "application": {"id": APP_ID, "flags": 0}
    }})
}

fn interaction_create() -> Value {
    json!({"op": 0, "s": 2, "t": "INTERACTION_CREATE", "d": {
        "type": 2, "id": INTERACTION_ID, "application_id": APP_ID, "token": INTERACTION_TOKEN,
        "version": 1, "locale": "en-US", "guild_locale": "en-US", "entitlements": [],
        "attachment_size_limit": 10485760, "app_permissions": "2248473465835073",
        "authorizing_integration_owners": {"0": GUILD}, "context": 0,
        "channel_id": "1100000000000000003", "guild_id": GUILD,
        "channel": {"id": "1100000000000000003", "type": 0, "name": "papers"},
        "member": {
            "user": {"id": "1100000000000000005", "username": "alice", "discriminator": "0",
                     "global_name": "Alice", "avatar": null},
            "roles": [], "deaf": false, "mute": false, "flags": 0, "permissions": "2248473465835073",
            "joined_at": "2021-01-01T00:00:00+00:00", "pending": false
        },
        "data": {"id": "1100000000000000006", "name": "hot", "type": 1, "options": [
            {"name": "date", "type": 3, "value": "2021-07-02"},
            {"name": "count", "type": 4, "value": 3}
        ]}
    }})
}

/// A one-connection-at-a-time gateway: HELLO, then READY and the interaction once IDENTIFY
/// arrives (whose `d` goes to `identified`); heartbeats are acknowledged. With `close_with`,
/// IDENTIFY is answered by closing the connection with that code instead (Discord's 4004
/// "Authentication failed", 4014 "Disallowed intent(s)").
async fn fake_gateway(
    listener: TcpListener,
    ws_url: String,
    identified: mpsc::UnboundedSender<Value>,
    close_with: Option<u16>,
    interactions: usize,
) {
    while let Ok((tcp, _)) = listener.accept().await {
        let Ok(mut ws) = tokio_tungstenite::accept_async(tcp).await else {
            continue;
        };
        let hello = json!({"op": 10, "s": null, "t": null, "d": {"heartbeat_interval": 3_600_000}});
        if ws.send(Message::Text(hello.to_string())).await.is_err() {
            continue;
        }
        while let Some(Ok(msg)) = ws.next().await {
            // A close frame is answered by tungstenite on the next read, which then ends the loop.
            let Message::Text(text) = msg else {
                continue;
            };
            let Ok(frame) = serde_json::from_str::<Value>(&text) else {
                continue;
            };
            let sent = match frame["op"].as_u64() {
                Some(1) => ws.send(Message::Text(json!({"op": 11}).to_string())).await,
                Some(2) if close_with.is_some() => {
                    let _ = identified.send(frame["d"].clone());
                    let code = close_with.unwrap_or(4000);
                    ws.close(Some(CloseFrame {
                        code: CloseCode::from(code),
                        reason: "test".into(),
                    }))
                    .await
                }
                Some(2) => {
                    let _ = identified.send(frame["d"].clone());
                    let mut r = ws.send(Message::Text(ready(&ws_url).to_string())).await;
                    for i in 0..interactions {
                        if r.is_err() {
                            break;
                        }
                        let mut event = interaction_create();
                        event["s"] = json!(2 + i);
                        r = ws.send(Message::Text(event.to_string())).await;
                    }
                    r
                }
                _ => Ok(()),
            };
            if sent.is_err() {
                break;
            }
        }
    }
}

/// The next request matching `want`, skipping others; panics after [`GUARD`].
async fn next_hit(hits: &mut mpsc::UnboundedReceiver<Hit>, want: impl Fn(&Hit) -> bool) -> Hit {
    tokio::time::timeout(GUARD, async {
        loop {
            let hit = hits.recv().await.expect("fake REST API alive");
            if want(&hit) {
                return hit;
            }
        }
    })
    .await
    .expect("expected request within the guard time")
}

fn run_command(dir: &Path, arxiv: &str) -> tokio::process::Command {
    let mut cmd = common::hotpapers_command(dir, arxiv);
    cmd.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    cmd
}

/// The fake arXiv, REST API and gateway of one test.
struct Fakes {
    arxiv: MockServer,
    discord: MockServer,
    hits: mpsc::UnboundedReceiver<Hit>,
    identified: mpsc::UnboundedReceiver<Value>,
    gateway: tokio::task::JoinHandle<()>,
}

impl Fakes {
    async fn start(close_with: Option<u16>) -> Fakes {
        Fakes::start_with(close_with, 1).await
    }

    /// As [`Fakes::start`], the gateway sending `interactions` slash commands after READY.
    async fn start_with(close_with: Option<u16>, interactions: usize) -> Fakes {
        let arxiv = MockServer::start().await;
        Mock::given(wiremock::matchers::method("GET"))
            .and(wiremock::matchers::path("/api/query"))
            .respond_with(FakeArxiv::new(seed_entries()))
            .mount(&arxiv)
            .await;
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let ws_url = format!("ws://{}", listener.local_addr().unwrap());
        let (identified_tx, identified) = mpsc::unbounded_channel();
        let gateway = tokio::spawn(fake_gateway(
            listener,
            ws_url.clone(),
            identified_tx,
            close_with,
            interactions,
        ));
        let discord = MockServer::start().await;
        let (hits_tx, hits) = mpsc::unbounded_channel();
        Mock::given(wiremock::matchers::any())
            .respond_with(FakeRest {
                hits: hits_tx,
                gateway_url: ws_url,
            })
            .mount(&discord)
            .await;
        Fakes {
            arxiv,
            discord,
            hits,
            identified,
            gateway,
        }
    }

    /// `hotpapers run ARGS` against the fakes with the dummy token.
    fn run(&self, dir: &Path, args: &[&str]) -> tokio::process::Child {
        run_command(dir, &self.arxiv.uri())
            .arg("run")
            .args(args)
            .env("HOTPAPERS_DISCORD__PROXY_URL", self.discord.uri())
            .env("DISCORD_TOKEN", TOKEN)
            .spawn()
            .expect("start hotpapers run")
    }

    /// The `d` of the bot's IDENTIFY.
    async fn identify(&mut self) -> Value {
        tokio::time::timeout(GUARD, self.identified.recv())
            .await
            .expect("IDENTIFY within the guard time")
            .expect("gateway alive")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connects_registers_on_the_guild_answers_an_interaction_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut fakes = Fakes::start(None).await;
    let child = fakes.run(dir.path(), &["--guild", GUILD]);
    let pid = child.id().expect("pid");

    // IDENTIFY: no intents at all, and the configured token.
    let identify = fakes.identify().await;
    assert_eq!(identify["intents"], json!(0), "{identify}");
    assert_eq!(identify["token"], json!(format!("Bot {TOKEN}")));

    // Registration (application id learned from READY) and the interaction's answer, in
    // whichever order the concurrent handlers finish.
    let guild_route = format!("/api/v10/applications/{APP_ID}/guilds/{GUILD}/commands");
    let callback_route =
        format!("/api/v10/interactions/{INTERACTION_ID}/{INTERACTION_TOKEN}/callback");
    let mut registered = None;
    let mut callback = None;
    while registered.is_none() || callback.is_none() {
        let hit = next_hit(&mut fakes.hits, |h| {
            (h.method == "PUT" && h.path.ends_with("/commands"))
                || (h.method == "POST" && h.path.ends_with("/callback"))
        })
        .await;
        if hit.method == "PUT" {
            assert_eq!(
                hit.path, guild_route,
                "--guild registers on that server only"
            );
            registered = Some(hit.body);
        } else {
            assert_eq!(hit.path, callback_route);
            callback = Some(hit.body);
        }
    }
    let registered = registered.unwrap_or_default();
    let names: Vec<&str> = registered
        .as_array()
        .expect("PUT body is the command list")
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert!(names.contains(&"hot"), "registered: {names:?}");
    let callback = callback.unwrap_or_default();
    match callback["type"].as_u64() {
        Some(4) => assert_answer(&callback["data"]),
        Some(5) => {
            // Deferred (arXiv was slow): the answer is the edit of the original response.
            let edit_route =
                format!("/api/v10/webhooks/{APP_ID}/{INTERACTION_TOKEN}/messages/@original");
            let edit = next_hit(&mut fakes.hits, |h| h.method == "PATCH").await;
            assert_eq!(edit.path, edit_route);
            assert_answer(&edit.body);
        }
        other => panic!("callback type 4 or 5, got {other:?}: {callback}"),
    }

    // SIGTERM: a clean stop with status 0 and a shutdown line, the token never logged.
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(killed.success());
    let out = tokio::time::timeout(GUARD, child.wait_with_output())
        .await
        .expect("exits within the guard time")
        .expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "status {:?}: {stderr}", out.status);
    assert!(
        stderr.contains("connected to Discord as hotpapers"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("slash commands on server {GUILD}")),
        "{stderr}"
    );
    assert!(stderr.contains("shutting down"), "{stderr}");
    assert!(stderr.contains("the bot stopped"), "{stderr}");
    assert!(!stderr.contains(TOKEN), "token leaked: {stderr}");
    assert!(
        !stderr.contains(INTERACTION_TOKEN),
        "interaction token leaked: {stderr}"
    );
    fakes.gateway.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_that_refuses_the_session_ends_the_bot_with_a_clear_error() {
    for (code, want) in [
        (4004, "rejected the bot token"),
        (4014, "Discord gateway failed"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let mut fakes = Fakes::start(Some(code)).await;
        let child = fakes.run(dir.path(), &["--no-register"]);
        fakes.identify().await;
        let out = tokio::time::timeout(GUARD, child.wait_with_output())
            .await
            .expect("exits within the guard time")
            .expect("wait");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{code}: {stderr}");
        let last = stderr.trim().lines().last().unwrap_or_default();
        assert!(
            last.starts_with("error: ") && last.contains(want),
            "{code}: {stderr}"
        );
        assert!(!stderr.contains(TOKEN), "token leaked: {stderr}");
        fakes.gateway.abort();
    }
}

#[tokio::test]
async fn without_a_token_it_says_where_to_put_one_and_offers_the_console() {
    let dir = tempfile::tempdir().unwrap();
    // Nothing listens on port 9 of loopback; the command must fail before any network use.
    let out = run_command(dir.path(), "http://127.0.0.1:9")
        .arg("run")
        .output()
        .await
        .expect("run hotpapers");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("DISCORD_TOKEN"), "{stderr}");
    assert!(stderr.contains("hotpapers console"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");

    let help = run_command(dir.path(), "http://127.0.0.1:9")
        .args(["run", "--help"])
        .output()
        .await
        .expect("run hotpapers");
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(help.status.success());
    for needle in [
        "DISCORD_TOKEN",
        "hotpapers console",
        "--guild",
        "--no-register",
        "Example",
    ] {
        assert!(text.contains(needle), "{needle} missing from help: {text}");
    }
}

#[tokio::test]
async fn a_rejected_token_fails_before_the_gateway_without_showing_it() {
    let dir = tempfile::tempdir().unwrap();
    let discord = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(json!({"message": "401: Unauthorized", "code": 0})),
        )
        .mount(&discord)
        .await;
    let out = run_command(dir.path(), "http://127.0.0.1:9")
        .arg("run")
        .env("HOTPAPERS_DISCORD__PROXY_URL", discord.uri())
        .env("DISCORD_TOKEN", TOKEN)
        .output()
        .await
        .expect("run hotpapers");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("rejected the bot token"), "{stderr}");
    assert!(!stderr.contains(TOKEN), "token leaked: {stderr}");
    let paths: Vec<String> = discord
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| r.url.path().to_string())
        .collect();
    assert_eq!(paths, ["/api/v10/users/@me"], "no gateway attempt");
}

/// With `[web] listen`, `run` serves /healthz (healthy once the gateway is connected) and
/// /metrics, which counts the slash commands answered; `hotpapers health` says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_metrics_are_served_and_count_three_commands() {
    let dir = tempfile::tempdir().unwrap();
    let mut fakes = Fakes::start_with(None, 3).await;
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let addr = format!("127.0.0.1:{port}");
    let child = run_command(dir.path(), &fakes.arxiv.uri())
        .args(["run", "--no-register"])
        .env("HOTPAPERS_DISCORD__PROXY_URL", fakes.discord.uri())
        .env("DISCORD_TOKEN", TOKEN)
        .env("HOTPAPERS_WEB__LISTEN", &addr)
        .spawn()
        .expect("start hotpapers run");
    let pid = child.id().expect("pid");
    fakes.identify().await;
    // Three answers (direct, or deferred then edited).
    let mut answered = 0;
    while answered < 3 {
        let hit = next_hit(&mut fakes.hits, |h| {
            (h.method == "POST" && h.path.ends_with("/callback")) || h.method == "PATCH"
        })
        .await;
        if hit.method == "PATCH" || hit.body["type"] == 4 {
            answered += 1;
        }
    }
    let client = reqwest::Client::new();
    let metrics = client
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(r#"hotpapers_commands_total{command="hot",outcome="ok"} 3"#),
        "{metrics}"
    );
    assert!(
        metrics.contains("hotpapers_gateway_connected 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"hotpapers_command_duration_seconds_count{command="hot"} 3"#),
        "{metrics}"
    );
    let health = client
        .get(format!("http://{addr}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status().as_u16(), 200);
    let body: Value = health.json().await.unwrap();
    assert_eq!(body["gateway_connected"], true, "{body}");
    assert_eq!(body["store_writable"], true, "{body}");
    // `hotpapers health`, as a container's HEALTHCHECK runs it.
    let out = run_command(dir.path(), &fakes.arxiv.uri())
        .args(["health", "--addr", &addr])
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("healthy"));

    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(killed.success());
    let out = tokio::time::timeout(GUARD, child.wait_with_output())
        .await
        .expect("exits within the guard time")
        .expect("wait");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Nobody answers now: `hotpapers health` fails with one line.
    let out = run_command(dir.path(), &fakes.arxiv.uri())
        .args(["health", "--addr", &addr])
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not answer"));
    fakes.gateway.abort();
}
