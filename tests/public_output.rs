//! No public output (Markdown, JSON, the text digest, a Discord post) carries an upstream URL,
//! an OS error or any part of an upstream body, and no error anywhere carries a configured
//! secret: a failing source is only "unavailable" there; the reason goes to the log.
//!
//! Hacker News is pointed at a closed port (connection refused), Hugging Face at a fake that
//! answers 401 echoing the request's token back, as some upstreams do.

mod common;

use common::{FakeArxiv, seed_entries};
use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const HF_TOKEN: &str = "hf_SECRET_token_1234";
const CHANNEL: &str = "123456789012345678";

/// Answers 401 with the request's Authorization header in the body.
struct Echo;

impl Respond for Echo {
    fn respond(&self, r: &Request) -> ResponseTemplate {
        let auth = r
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        ResponseTemplate::new(401).set_body_string(format!("bad token: {auth}"))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_sources_are_only_unavailable_in_public_output() {
    let dir = tempfile::tempdir().unwrap();
    let arxiv = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/query"))
        .respond_with(FakeArxiv::new(seed_entries()))
        .mount(&arxiv)
        .await;
    let hf = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(Echo)
        .mount(&hf)
        .await;
    let discord = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/api/v10/channels/{CHANNEL}/messages")))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "id": "1", "channel_id": CHANNEL, "content": "", "timestamp": "2021-07-03T08:00:00+00:00",
            "edited_timestamp": null, "tts": false, "mention_everyone": false, "mentions": [],
            "mention_roles": [], "attachments": [], "embeds": [], "pinned": false, "type": 0,
            "author": {"id": "7", "username": "hotpapers", "discriminator": "0", "avatar": null, "bot": true}
        })))
        .mount(&discord)
        .await;
    let run = |args: &'static [&'static str]| {
        let mut cmd = common::hotpapers_command(dir.path(), &arxiv.uri());
        cmd.env("HOTPAPERS_SOURCES__HN__ENABLED", "true")
            .env(
                "HOTPAPERS_SOURCES__HN__API_URL",
                "http://127.0.0.1:1/api/v1/",
            )
            .env("HOTPAPERS_SOURCES__HF__ENABLED", "true")
            .env(
                "HOTPAPERS_SOURCES__HF__API_URL",
                format!("{}/api", hf.uri()),
            )
            .env("HOTPAPERS_SOURCES__HF__TOKEN", HF_TOKEN)
            .env("HOTPAPERS_HTTP__MAX_RETRIES", "0")
            .env("HOTPAPERS_DISCORD__PROXY_URL", discord.uri())
            .env("DISCORD_TOKEN", "test-token")
            .args(args);
        async move { cmd.output().await.expect("run hotpapers") }
    };
    let forbidden = |text: &str, what: &str| {
        for bad in [
            "127.0.0.1",
            "os error",
            "refused",
            "gave up",
            "bad token",
            "Bearer",
            "SECRET",
            "http://",
            "answered HTTP",
        ] {
            assert!(!text.contains(bad), "{what} contains {bad:?}:\n{text}");
        }
    };
    for (args, what) in [
        (
            &["digest", "--date", "2021-07-02", "--format", "markdown"][..],
            "markdown",
        ),
        (
            &["digest", "--date", "2021-07-02", "--format", "json"][..],
            "json",
        ),
        (
            &["digest", "--date", "2021-07-02", "--format", "text"][..],
            "text",
        ),
    ] {
        // Fresh signals are never stale on the second run, so every run starts clean.
        let _ = std::fs::remove_file(dir.path().join("test.db"));
        let out = run(Box::leak(args.to_vec().into_boxed_slice())).await;
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(out.status.success(), "{what}: {stderr}");
        forbidden(&stdout, what);
        assert!(
            stdout.contains("Hacker News: unavailable")
                || stdout.contains("\"missing\": \"unavailable\""),
            "{what} says the source is unavailable:\n{stdout}"
        );
        // The log keeps the detail, without the secret.
        assert!(stderr.contains("attention source failed"), "{stderr}");
        assert!(!stderr.contains("SECRET"), "{stderr}");
        if what == "json" {
            let v: Value = serde_json::from_str(&stdout).unwrap();
            let missing: Vec<&Value> = v["sources"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|s| s.get("missing"))
                .collect();
            assert!(!missing.is_empty());
            assert!(missing.iter().all(|m| *m == "unavailable"), "{missing:?}");
        }
    }
    let _ = std::fs::remove_file(dir.path().join("test.db"));
    let out = run(&[
        "post",
        "--channel",
        CHANNEL,
        "--date",
        "2021-07-02",
        "--top",
        "14",
    ])
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for r in discord.received_requests().await.unwrap() {
        let body = String::from_utf8_lossy(&r.body).to_string();
        forbidden(&body.replace("https://", ""), "a Discord message");
        assert!(
            !body.contains("127.0.0.1") && !body.contains(HF_TOKEN),
            "{body}"
        );
    }
}
