//! A fake Discord on loopback for `hotpapers run`: the REST API (wiremock, through
//! `[discord] proxy_url`) and a minimal gateway (tokio-tungstenite) doing HELLO → IDENTIFY →
//! READY → INTERACTION_CREATE. Used by `tests/discord_gateway.rs` and `benches/idle_rss.rs`.

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

use super::{FakeArxiv, seed_entries};

pub const TOKEN: &str = "dummy-bot-token-f00d";
pub const APP_ID: &str = "1100000000000000002";
pub const GUILD: &str = "1100000000000000004";
pub const INTERACTION_ID: &str = "1100000000000000001";
pub const INTERACTION_TOKEN: &str = "interaction-token-abc";
/// Failure guard for each wait (the whole exchange takes well under a second).
pub const GUARD: Duration = Duration::from_secs(30);

/// One request the fake REST API received.
#[derive(Debug)]
pub struct Hit {
    pub method: String,
    pub path: String,
    pub body: Value,
}

/// The fake Discord REST API: answers the routes the bot uses and reports every request.
pub struct FakeRest {
    hits: mpsc::UnboundedSender<Hit>,
    gateway_url: String,
}

pub fn bot_user() -> Value {
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

pub fn ready(ws_url: &str) -> Value {
    json!({"op": 0, "s": 1, "t": "READY", "d": {
        "v": 10, "user": bot_user(),
        "guilds": [{"id": GUILD, "unavailable": true}],
        "session_id": "s", "resume_gateway_url": ws_url, "shard": [0, 1],
        "application": {"id": APP_ID, "flags": 0}
    }})
}

pub fn interaction_create() -> Value {
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
pub async fn fake_gateway(
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
pub async fn next_hit(hits: &mut mpsc::UnboundedReceiver<Hit>, want: impl Fn(&Hit) -> bool) -> Hit {
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

pub fn run_command(dir: &Path, arxiv: &str) -> tokio::process::Command {
    let mut cmd = super::hotpapers_command(dir, arxiv);
    cmd.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    cmd
}

/// The fake arXiv, REST API and gateway of one test.
pub struct Fakes {
    pub arxiv: MockServer,
    pub discord: MockServer,
    pub hits: mpsc::UnboundedReceiver<Hit>,
    pub identified: mpsc::UnboundedReceiver<Value>,
    pub gateway: tokio::task::JoinHandle<()>,
}

impl Fakes {
    pub async fn start(close_with: Option<u16>) -> Fakes {
        Fakes::start_with(close_with, 1).await
    }

    /// As [`Fakes::start`], the gateway sending `interactions` slash commands after READY.
    pub async fn start_with(close_with: Option<u16>, interactions: usize) -> Fakes {
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
    pub fn run(&self, dir: &Path, args: &[&str]) -> tokio::process::Child {
        run_command(dir, &self.arxiv.uri())
            .arg("run")
            .args(args)
            .env("HOTPAPERS_DISCORD__PROXY_URL", self.discord.uri())
            .env("DISCORD_TOKEN", TOKEN)
            .spawn()
            .expect("start hotpapers run")
    }

    /// The `d` of the bot's IDENTIFY.
    pub async fn identify(&mut self) -> Value {
        tokio::time::timeout(GUARD, self.identified.recv())
            .await
            .expect("IDENTIFY within the guard time")
            .expect("gateway alive")
    }
}
