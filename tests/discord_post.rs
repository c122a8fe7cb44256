//! `hotpapers post` end to end: the real binary, a fake arXiv and a fake Discord REST API on
//! loopback (reached through `[discord] proxy_url`).

mod common;

use std::path::Path;
use std::process::Output;

use common::{FakeArxiv, seed_entries, seed_papers};
use hotpapers::discord::limits::violations;
use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const CHANNEL: &str = "123456789012345678";

async fn hotpapers(dir: &Path, arxiv: &str, discord: &str, args: &[&str]) -> Output {
    common::hotpapers_command(dir, arxiv)
        .args(args)
        .env("HOTPAPERS_DISCORD__PROXY_URL", discord)
        .env("DISCORD_TOKEN", "test-token")
        .output()
        .await
        .expect("run hotpapers")
}

fn message_json(id: u64) -> Value {
    serde_json::json!({
        "id": id.to_string(), "channel_id": CHANNEL, "content": "", "timestamp": "2021-07-03T08:00:00+00:00",
        "edited_timestamp": null, "tts": false, "mention_everyone": false, "mentions": [],
        "mention_roles": [], "attachments": [], "embeds": [], "pinned": false, "type": 0,
        "author": {"id": "7", "username": "hotpapers", "discriminator": "0", "avatar": null, "bot": true}
    })
}

async fn posted(discord: &MockServer) -> Vec<Value> {
    discord
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| {
            r.method == wiremock::http::Method::POST
                && r.url.path() == format!("/api/v10/channels/{CHANNEL}/messages")
        })
        .map(|r| serde_json::from_slice(&r.body).expect("json body"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn posts_the_digest_once_within_limits_and_resends_identically_after_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let arxiv = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/query"))
        .respond_with(FakeArxiv::new(seed_entries()))
        .mount(&arxiv)
        .await;
    let discord = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/api/v10/channels/{CHANNEL}/messages")))
        .respond_with(ResponseTemplate::new(200).set_body_json(message_json(1)))
        .mount(&discord)
        .await;
    let args = [
        "post",
        "--channel",
        CHANNEL,
        "--date",
        "2021-07-02",
        "--top",
        "14",
    ];

    let out = hotpapers(dir.path(), &arxiv.uri(), &discord.uri(), &args).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let first = posted(&discord).await;
    assert!(!first.is_empty());
    // Every message is within Discord's limits and pings nobody.
    for body in &first {
        assert_eq!(violations(body), vec![], "{body}");
        assert_eq!(body["allowed_mentions"]["parse"], serde_json::json!([]));
        assert_eq!(body["enforce_nonce"], true);
    }
    // The 14 papers, in rank order (no attention: ties broken by arXiv id).
    let titles: Vec<String> = first
        .iter()
        .flat_map(|b| b["embeds"].as_array().cloned().unwrap_or_default())
        .map(|e| e["url"].as_str().unwrap_or_default().to_string())
        .collect();
    let mut ids: Vec<String> = seed_papers().into_iter().map(|p| p.id).collect();
    ids.sort();
    let expected: Vec<String> = ids
        .iter()
        .map(|id| format!("https://arxiv.org/abs/{id}"))
        .collect();
    assert_eq!(titles, expected);
    // Each embed shows the paper's summary, not the abstract's background opener: the seed's
    // Focal Transformer paper leads with its contribution.
    let focal = first
        .iter()
        .flat_map(|b| b["embeds"].as_array().cloned().unwrap_or_default())
        .find(|e| e["url"] == "https://arxiv.org/abs/2107.00641")
        .expect("the Focal Transformer embed");
    let description = focal["description"].as_str().unwrap_or_default();
    assert!(
        description.contains("We present focal self") && !description.contains("Recently, Vision"),
        "{description}"
    );

    // Again: nothing is sent.
    let out = hotpapers(dir.path(), &arxiv.uri(), &discord.uri(), &args).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(posted(&discord).await.len(), first.len());

    // A crash between sending and recording leaves the log at `sending` with no message id
    // recorded. The fake channel cannot be read (no GET route: 404), so the rerun says so and
    // falls back to sending the same messages with the same nonces, which Discord
    // deduplicates: exactly one digest.
    let db = dir.path().join("test.db");
    let conn = sqlx_mark_sending(&db).await;
    assert_eq!(conn, 1);
    let out = hotpapers(dir.path(), &arxiv.uri(), &discord.uri(), &args).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot read the channel"), "{stderr}");
    let all = posted(&discord).await;
    assert_eq!(all.len(), 2 * first.len());
    let nonces =
        |bodies: &[Value]| -> Vec<Value> { bodies.iter().map(|b| b["nonce"].clone()).collect() };
    assert_eq!(nonces(&all[first.len()..]), nonces(&first));
}

/// Simulates a crash after sending: the post log row goes back to `sending`.
async fn sqlx_mark_sending(db: &Path) -> u64 {
    use sqlx::sqlite::SqliteConnectOptions;
    use sqlx::{ConnectOptions, Executor};
    let mut conn = SqliteConnectOptions::new()
        .filename(db)
        .connect()
        .await
        .expect("open db");
    conn.execute(
        sqlx::query(
            "UPDATE post_log SET state = 'sending', message_ids = '[]' WHERE channel_id = ?1",
        )
        .bind(CHANNEL),
    )
    .await
    .expect("update")
    .rows_affected()
}

const WEBHOOK_ID: &str = "223456789012345678";
const WEBHOOK_TOKEN: &str = "sEcReT-webhook_T0ken";

/// `hotpapers post --webhook` against the fake (its origin is the REST base), no bot token.
async fn hotpapers_webhook(dir: &Path, arxiv: &str, url: &str, extra: &[&str]) -> Output {
    common::hotpapers_command(dir, arxiv)
        .args([
            "post",
            "--webhook",
            url,
            "--date",
            "2021-07-02",
            "--top",
            "14",
        ])
        .args(extra)
        .env("RUST_LOG", "trace")
        .output()
        .await
        .expect("run hotpapers")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_posts_in_rank_order_once_and_never_shows_its_token() {
    let dir = tempfile::tempdir().unwrap();
    let arxiv = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/query"))
        .respond_with(FakeArxiv::new(seed_entries()))
        .mount(&arxiv)
        .await;
    let discord = MockServer::start().await;
    let hook_path = format!("/api/v10/webhooks/{WEBHOOK_ID}/{WEBHOOK_TOKEN}");
    Mock::given(method("POST"))
        .and(path(hook_path.as_str()))
        .and(wiremock::matchers::query_param("wait", "true"))
        .respond_with(ResponseTemplate::new(200).set_body_json(message_json(11)))
        .mount(&discord)
        .await;
    let url = format!(
        "{}/api/webhooks/{WEBHOOK_ID}/{WEBHOOK_TOKEN}",
        discord.uri()
    );

    let out = hotpapers_webhook(dir.path(), &arxiv.uri(), &url, &[]).await;
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    );
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout.contains(&format!("to webhook {WEBHOOK_ID}")),
        "{stdout}"
    );
    let requests = discord.received_requests().await.unwrap();
    for r in &requests {
        assert_eq!(r.url.query(), Some("wait=true"), "{}", r.url.path());
        assert!(
            r.headers.get("authorization").is_none(),
            "a webhook needs no bot token header"
        );
    }
    let bodies: Vec<Value> = requests
        .iter()
        .map(|r| serde_json::from_slice(&r.body).expect("json body"))
        .collect();
    assert!(!bodies.is_empty());
    for body in &bodies {
        assert_eq!(violations(body), vec![], "{body}");
        assert_eq!(body["allowed_mentions"], serde_json::json!({"parse": []}));
        assert!(
            body.get("nonce").is_none(),
            "webhooks take no nonce: {body}"
        );
    }
    let urls: Vec<String> = bodies
        .iter()
        .flat_map(|b| b["embeds"].as_array().cloned().unwrap_or_default())
        .map(|e| e["url"].as_str().unwrap_or_default().to_string())
        .collect();
    let mut ids: Vec<String> = seed_papers().into_iter().map(|p| p.id).collect();
    ids.sort();
    let expected: Vec<String> = ids
        .iter()
        .map(|id| format!("https://arxiv.org/abs/{id}"))
        .collect();
    assert_eq!(urls, expected);

    // Again: nothing is sent, and the output says so.
    let again = hotpapers_webhook(dir.path(), &arxiv.uri(), &url, &[]).await;
    assert!(again.status.success());
    assert!(String::from_utf8_lossy(&again.stdout).contains("nothing sent"));
    assert_eq!(
        discord.received_requests().await.unwrap().len(),
        bodies.len()
    );

    // A failing webhook (deleted: 404) is one clear line, without the token, even at trace
    // level logging.
    let gone = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(404)
                .set_body_json(serde_json::json!({"code": 10015, "message": "Unknown Webhook"})),
        )
        .mount(&gone)
        .await;
    let gone_url = format!("{}/api/webhooks/{WEBHOOK_ID}/{WEBHOOK_TOKEN}", gone.uri());
    let failed = hotpapers_webhook(dir.path(), &arxiv.uri(), &gone_url, &["--force"]).await;
    assert!(!failed.status.success());
    let failed_err = String::from_utf8_lossy(&failed.stderr).to_string();
    assert!(
        failed_err.contains("does not know webhook") && failed_err.contains("404"),
        "{failed_err}"
    );
    for text in [
        &stdout,
        &stderr,
        &String::from_utf8_lossy(&again.stdout).to_string(),
        &String::from_utf8_lossy(&again.stderr).to_string(),
        &String::from_utf8_lossy(&failed.stdout).to_string(),
        &failed_err,
    ] {
        assert!(!text.contains(WEBHOOK_TOKEN), "token leaked: {text}");
    }
}

#[tokio::test]
async fn malformed_webhook_urls_are_one_clear_line_without_the_token() {
    let dir = tempfile::tempdir().unwrap();
    // arXiv is never reached: the URL is checked first.
    for url in [
        "https://discord.com/api/webhooks/notanumber/sEcReT-webhook_T0ken",
        "discord.com/api/webhooks/1/sEcReT-webhook_T0ken",
        "https://discord.com/channels/1/sEcReT-webhook_T0ken",
    ] {
        let out = common::hotpapers_command(dir.path(), "http://127.0.0.1:9")
            .args(["post", "--webhook", url])
            .output()
            .await
            .expect("run hotpapers");
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.starts_with("error: not a Discord webhook URL"), "{err}");
        assert!(!err.contains(WEBHOOK_TOKEN), "{err}");
    }
    // --channel and --webhook together, or neither, is a usage error.
    let out = common::hotpapers_command(dir.path(), "http://127.0.0.1:9")
        .args([
            "post",
            "--channel",
            "1",
            "--webhook",
            "https://discord.com/api/webhooks/1/t",
        ])
        .output()
        .await
        .expect("run hotpapers");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot be used with"));
    let out = common::hotpapers_command(dir.path(), "http://127.0.0.1:9")
        .args(["post"])
        .output()
        .await
        .expect("run hotpapers");
    assert!(!out.status.success());
}

#[tokio::test]
async fn a_mailing_without_papers_is_not_posted_as_an_empty_digest() {
    let dir = tempfile::tempdir().unwrap();
    let arxiv = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/query"))
        .respond_with(FakeArxiv::new(seed_entries()))
        .mount(&arxiv)
        .await;
    let discord = MockServer::start().await;
    // Mon 2021-07-05: the fake arXiv has no papers in its window.
    let args = ["post", "--channel", CHANNEL, "--date", "2021-07-05"];
    let out = hotpapers(dir.path(), &arxiv.uri(), &discord.uri(), &args).await;
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.lines().last().is_some_and(
            |l| l.starts_with("error: arXiv has no papers for the mailing of 2021-07-05")
        ),
        "{stderr}"
    );
    assert!(discord.received_requests().await.unwrap().is_empty());
}

/// Three `post` runs started at once for one target, against a Discord that answers slowly
/// and does not de-duplicate nonces: the post log's claim lets exactly one of them send, so
/// the channel (or webhook) gets one digest; the others say another run is posting.
async fn three_at_once(webhook: bool) {
    let dir = tempfile::tempdir().unwrap();
    let arxiv = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/query"))
        .respond_with(FakeArxiv::new(seed_entries()))
        .mount(&arxiv)
        .await;
    let discord = MockServer::start().await;
    let hook_path = format!("/api/v10/webhooks/{WEBHOOK_ID}/{WEBHOOK_TOKEN}");
    let route = if webhook {
        hook_path.clone()
    } else {
        format!("/api/v10/channels/{CHANNEL}/messages")
    };
    Mock::given(method("POST"))
        .and(path(route.as_str()))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(message_json(11))
                .set_delay(std::time::Duration::from_millis(300)),
        )
        .mount(&discord)
        .await;
    // The mailing is stored first, so the three runs race only for the post.
    let out = hotpapers(
        dir.path(),
        &arxiv.uri(),
        &discord.uri(),
        &["ingest", "--date", "2021-07-02"],
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let url = format!(
        "{}/api/webhooks/{WEBHOOK_ID}/{WEBHOOK_TOKEN}",
        discord.uri()
    );
    let run = || async {
        if webhook {
            hotpapers_webhook(dir.path(), &arxiv.uri(), &url, &[]).await
        } else {
            hotpapers(
                dir.path(),
                &arxiv.uri(),
                &discord.uri(),
                &[
                    "post",
                    "--channel",
                    CHANNEL,
                    "--date",
                    "2021-07-02",
                    "--top",
                    "14",
                ],
            )
            .await
        }
    };
    let outs = futures_util::future::join3(run(), run(), run()).await;
    let outs = [outs.0, outs.1, outs.2];
    let stdouts: Vec<String> = outs
        .iter()
        .map(|o| {
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            String::from_utf8_lossy(&o.stdout).to_string()
        })
        .collect();
    let posted_runs = stdouts.iter().filter(|s| s.starts_with("Posted")).count();
    assert_eq!(posted_runs, 1, "{stdouts:?}");
    for s in &stdouts {
        assert!(
            s.starts_with("Posted")
                || s.contains("is posting the mailing of 2021-07-02")
                || s.starts_with("Already posted"),
            "{s}"
        );
        assert!(!s.contains("interrupted"), "nothing was interrupted: {s}");
    }
    // Exactly one digest: every part once.
    let bodies: Vec<Value> = discord
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == route)
        .map(|r| serde_json::from_slice(&r.body).expect("json body"))
        .collect();
    let footers: Vec<String> = bodies
        .iter()
        .filter_map(|b| {
            b["embeds"].as_array()?.last()?["footer"]["text"]
                .as_str()
                .map(str::to_string)
        })
        .collect();
    let distinct: std::collections::BTreeSet<&String> = footers.iter().collect();
    assert!(!bodies.is_empty());
    assert_eq!(
        distinct.len(),
        bodies.len(),
        "a part was sent twice: {footers:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_posts_at_once_to_one_channel_leave_one_digest() {
    three_at_once(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_posts_at_once_to_one_webhook_leave_one_digest() {
    three_at_once(true).await;
}

/// A 429 from Discord, per route or global, with or without a `code` in its body, is waited
/// out as its `Retry-After` says, and the post completes once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_are_waited_out_and_the_post_completes_once() {
    let limited = |global: bool, code: bool| {
        let mut body = serde_json::json!({
            "message": "You are being rate limited.",
            "retry_after": 0.05,
            "global": global,
        });
        if code {
            body["code"] = 0.into();
        }
        let mut r = ResponseTemplate::new(429)
            .insert_header("Retry-After", "0.05")
            .insert_header("X-RateLimit-Scope", if global { "global" } else { "user" })
            .set_body_json(body);
        if global {
            r = r.insert_header("X-RateLimit-Global", "true");
        }
        r
    };
    for (global, code) in [(false, false), (true, false), (false, true), (true, true)] {
        let dir = tempfile::tempdir().unwrap();
        let arxiv = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/api/query"))
            .respond_with(FakeArxiv::new(seed_entries()))
            .mount(&arxiv)
            .await;
        let discord = MockServer::start().await;
        let route = format!("/api/v10/channels/{CHANNEL}/messages");
        // The second message is rate-limited once, then accepted.
        Mock::given(method("POST"))
            .and(path(route.as_str()))
            .respond_with(ResponseTemplate::new(200).set_body_json(message_json(1)))
            .up_to_n_times(1)
            .with_priority(1)
            .mount(&discord)
            .await;
        Mock::given(method("POST"))
            .and(path(route.as_str()))
            .respond_with(limited(global, code))
            .up_to_n_times(1)
            .with_priority(2)
            .mount(&discord)
            .await;
        Mock::given(method("POST"))
            .and(path(route.as_str()))
            .respond_with(ResponseTemplate::new(200).set_body_json(message_json(2)))
            .with_priority(3)
            .mount(&discord)
            .await;
        let out = hotpapers(
            dir.path(),
            &arxiv.uri(),
            &discord.uri(),
            &[
                "post",
                "--channel",
                CHANNEL,
                "--date",
                "2021-07-02",
                "--top",
                "14",
            ],
        )
        .await;
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "global={global} code={code}: {stderr}"
        );
        assert!(!stderr.contains("missing field"), "{stderr}");
        let bodies = posted(&discord).await;
        let footers: Vec<String> = bodies
            .iter()
            .filter_map(|b| {
                b["embeds"].as_array()?.last()?["footer"]["text"]
                    .as_str()
                    .map(str::to_string)
            })
            .collect();
        // One request more than parts (the limited one), and every part accepted once.
        let distinct: std::collections::BTreeSet<&String> = footers.iter().collect();
        assert!(distinct.len() >= 2, "{footers:?}");
        assert_eq!(bodies.len(), distinct.len() + 1, "{footers:?}");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.starts_with("Posted"), "{stdout}");
    }
}
