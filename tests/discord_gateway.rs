//! `hotpapers run` end to end: the real binary against a fake Discord on loopback — REST
//! through `[discord] proxy_url` (wiremock) and a minimal gateway (tokio-tungstenite) doing
//! HELLO → IDENTIFY → READY → INTERACTION_CREATE — then SIGTERM and a clean exit.
//!
//! No sleeps: every wait is on a channel, with a timeout only as a failure guard.

mod common;

use serde_json::{Value, json};
use wiremock::{Mock, MockServer, ResponseTemplate};

use common::discord::*;
use hotpapers::discord::limits::violations;

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
