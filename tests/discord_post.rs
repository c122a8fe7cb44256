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
        .filter(|r| r.url.path() == format!("/api/v10/channels/{CHANNEL}/messages"))
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

    // Again: nothing is sent.
    let out = hotpapers(dir.path(), &arxiv.uri(), &discord.uri(), &args).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(posted(&discord).await.len(), first.len());

    // A crash between sending and recording leaves the log at `sending`: the rerun sends the
    // same messages with the same nonces, so Discord keeps exactly one digest.
    let db = dir.path().join("test.db");
    let conn = sqlx_mark_sending(&db).await;
    assert_eq!(conn, 1);
    let out = hotpapers(dir.path(), &arxiv.uri(), &discord.uri(), &args).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
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
        sqlx::query("UPDATE post_log SET state = 'sending' WHERE channel_id = ?1").bind(CHANNEL),
    )
    .await
    .expect("update")
    .rows_affected()
}
