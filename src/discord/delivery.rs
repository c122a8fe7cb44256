//! Posting one digest to one channel (or webhook) exactly once: the post log around the send,
//! nonces, and resuming a post a crash left half-done.
//!
//! `hotpapers post` and the daily scheduler both go through [`Deliverer::deliver`], so the
//! guarantees are the same for both:
//!
//! * the post log row of (channel, mailing) is written `sending` **before** the first part is
//!   sent, updated with each part's message id as it is accepted, and set `sent` at the end
//!   (or `failed`, with the error, when Discord keeps refusing);
//! * a row found `sent` means nothing is sent (unless forced);
//! * a row found `sending` (a crash or a shutdown mid-post) or `failed` is **resumed**: the
//!   parts already in the channel are found (message ids recorded so far, then the channel's
//!   recent messages written by the bot and carrying this mailing's marker), and only the
//!   missing parts are sent, with their original part numbers and nonces. Discord honours
//!   `enforce_nonce` only for a few minutes, which is why the channel is looked at; when it
//!   cannot be (no Read Message History), the nonces are the fallback and a log line says so.
//!
//! Webhooks cannot read a channel and ignore nonces: a webhook post resumes from the message
//! ids recorded so far, so at most the one part in flight at a crash can appear twice.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use serenity::builder::{CreateAllowedMentions, CreateMessage};
use serenity::http::{Http, MessagePagination};
use serenity::model::channel::Message;
use serenity::model::id::{ChannelId, MessageId};
use tracing::{info, warn};

use super::post::{PostError, classify, nonce, with_nonce};
use super::render::{marker, render};
use super::rest::{Rest, RestError};
use super::webhook::WebhookUrl;
use crate::clock::Clock;
use crate::digest::Digest;
use crate::store::{Claim, PostRecord, Store, StoreError};

/// How many times a part is tried when Discord answers 5xx or the network fails.
pub const ATTEMPTS: u32 = 3;

/// Pause between two tries of a part (through the injected clock, so tests do not wait).
pub const BACKOFF: std::time::Duration = std::time::Duration::from_secs(2);

/// How long a delivery's claim on a post lasts without renewal. It is renewed before every
/// part and every retry, so it only runs out when its holder died (or hung): then another
/// delivery may resume the post this long after the last sign of life.
pub const LEASE: std::time::Duration = std::time::Duration::from_secs(120);

/// Where a digest goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A channel, posted to with the bot token.
    Channel(u64),
    /// A webhook (no bot needed); the post log is keyed by the webhook id.
    Webhook(WebhookUrl),
}

impl Target {
    /// The post log key: the channel id, or the webhook id (snowflakes never collide).
    pub fn key(&self) -> u64 {
        match self {
            Target::Channel(c) => *c,
            Target::Webhook(w) => w.id(),
        }
    }

    /// How messages and logs name it ("channel 42", "webhook 42"), never with a token.
    pub fn describe(&self) -> String {
        match self {
            Target::Channel(c) => format!("channel {c}"),
            Target::Webhook(w) => format!("webhook {}", w.id()),
        }
    }
}

/// What a delivery did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// Another delivery (this process's scheduler, a cron `post`, a second bot on the same
    /// store) is posting this digest now: nothing was sent, and it will finish the post.
    InProgress {
        /// When its claim runs out if it is not renewed.
        until: DateTime<Utc>,
    },
    /// The post log already says `sent`: nothing was sent.
    AlreadySent {
        /// The message ids recorded then.
        message_ids: Vec<u64>,
    },
    /// Every part was sent now.
    Sent {
        /// The created messages, one per part in order.
        message_ids: Vec<u64>,
    },
    /// An interrupted or failed post was completed: `present` parts were already there and
    /// the rest were sent now.
    Resumed {
        /// Parts found already posted (not sent again).
        present: usize,
        /// Parts sent now.
        sent: usize,
        /// Every part's message, in order.
        message_ids: Vec<u64>,
    },
}

impl Delivery {
    /// Every part's message id, in order.
    pub fn message_ids(&self) -> &[u64] {
        match self {
            Delivery::AlreadySent { message_ids }
            | Delivery::Sent { message_ids }
            | Delivery::Resumed { message_ids, .. } => message_ids,
            Delivery::InProgress { .. } => &[],
        }
    }

    /// Whether anything was sent by this delivery.
    pub fn sent_anything(&self) -> bool {
        match self {
            Delivery::AlreadySent { .. } | Delivery::InProgress { .. } => false,
            Delivery::Sent { .. } => true,
            Delivery::Resumed { sent, .. } => *sent > 0,
        }
    }
}

/// Why a delivery failed.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// Discord refused or could not be reached (after retries); the post log says `failed`.
    #[error(transparent)]
    Post(#[from] PostError),
    /// The post log could not be read or written; nothing more was sent.
    #[error("cannot record the post: {0}")]
    Store(#[from] StoreError),
    /// This delivery's claim ran out (it stalled past [`LEASE`]) and another delivery took
    /// the post over; this one stopped sending.
    #[error("another delivery took over this post after this one stalled; it stopped sending")]
    LostClaim,
}

/// Delivers digests over one REST client; remembers the bot's own user id (fetched once) to
/// recognise its earlier messages when resuming.
#[derive(Debug)]
pub struct Deliverer {
    http: Arc<Http>,
    rest: Rest,
    bot_id: tokio::sync::OnceCell<u64>,
    attempts: u32,
    backoff: std::time::Duration,
    /// Who this deliverer is in post log claims: unique per process and deliverer.
    owner: String,
}

impl Deliverer {
    /// A deliverer posting through `rest` (messages and webhook executions, with Discord's
    /// rate limits honoured) and reading channels through `http` (the bot's client, or a
    /// token-less one for webhooks) to resume interrupted posts.
    pub fn new(http: Arc<Http>, rest: Rest) -> Deliverer {
        Deliverer {
            http,
            rest,
            bot_id: tokio::sync::OnceCell::new(),
            attempts: ATTEMPTS,
            backoff: BACKOFF,
            owner: format!("{}:{:016x}", std::process::id(), fastrand::u64(..)),
        }
    }

    /// Changes how often a part is tried and the pause between tries (default [`ATTEMPTS`],
    /// [`BACKOFF`]).
    pub fn retries(mut self, attempts: u32, backoff: std::time::Duration) -> Deliverer {
        self.attempts = attempts.max(1);
        self.backoff = backoff;
        self
    }

    /// Posts `digest` to `target` exactly once per (target, mailing), resuming an interrupted
    /// or failed post; `force` posts it again from scratch even if it was sent.
    ///
    /// On a Discord error the row is marked `failed` with the error text and the error is
    /// returned; a later call resumes it.
    pub async fn deliver(
        &self,
        store: &dyn Store,
        clock: &dyn Clock,
        target: &Target,
        digest: &Digest,
        force: bool,
    ) -> Result<Delivery, DeliveryError> {
        let result = self.deliver_once(store, clock, target, digest, force).await;
        crate::metrics::metrics().post(match &result {
            Ok(d) if d.sent_anything() => "sent",
            Ok(_) => "skipped",
            Err(_) => "failed",
        });
        result
    }

    /// [`Deliverer::deliver`] without the metrics.
    async fn deliver_once(
        &self,
        store: &dyn Store,
        clock: &dyn Clock,
        target: &Target,
        digest: &Digest,
        force: bool,
    ) -> Result<Delivery, DeliveryError> {
        let key = target.key();
        let mailing = digest.date;
        let now = clock.now();
        let claim = store
            .claim_post(
                key,
                mailing,
                &self.owner,
                &nonce(key, mailing, 0),
                now,
                lease_end(now),
                force,
            )
            .await?;
        let messages = render(digest);
        let (mut ids, resumed) = match claim {
            Claim::Sent(r) => {
                return Ok(Delivery::AlreadySent {
                    message_ids: r.message_ids.into_iter().flatten().collect(),
                });
            }
            Claim::Busy { until } => {
                info!(target = %target.describe(), %mailing, %until, "another delivery is posting this digest now");
                return Ok(Delivery::InProgress { until });
            }
            Claim::Claimed { fresh: true, .. } => {
                let ids = vec![None; messages.len()];
                store.post_progress(key, mailing, &ids).await?;
                (ids, false)
            }
            Claim::Claimed {
                fresh: false,
                record,
            } => {
                store.resume_post(key, mailing).await?;
                let ids = self
                    .present_parts(target, mailing, messages.len(), &record)
                    .await;
                (ids, true)
            }
        };
        let present = ids.iter().flatten().count();
        let mut sent = 0;
        for (part, msg) in messages.into_iter().enumerate() {
            if ids.get(part).is_some_and(Option::is_some) {
                continue;
            }
            self.renew(store, clock, key, mailing).await?;
            match self
                .send_part(store, clock, target, mailing, part, msg)
                .await
            {
                Ok(id) => {
                    if let Some(slot) = ids.get_mut(part) {
                        *slot = Some(id);
                    }
                    sent += 1;
                    store.post_progress(key, mailing, &ids).await?;
                }
                Err(PartError::Post(e)) => {
                    store
                        .fail_post(key, mailing, &e.to_string(), clock.now())
                        .await?;
                    return Err(e.into());
                }
                Err(PartError::Delivery(e)) => return Err(e),
            }
        }
        let message_ids: Vec<u64> = ids.into_iter().flatten().collect();
        store
            .finish_post(key, mailing, &message_ids, clock.now())
            .await?;
        Ok(if resumed {
            Delivery::Resumed {
                present,
                sent,
                message_ids,
            }
        } else {
            Delivery::Sent { message_ids }
        })
    }

    /// For each of the `parts` parts of an interrupted post, its message id if it is known to
    /// be posted: recorded in the log, or (channels only) found among the bot's messages in
    /// the channel since the post began.
    async fn present_parts(
        &self,
        target: &Target,
        mailing: NaiveDate,
        parts: usize,
        record: &PostRecord,
    ) -> Vec<Option<u64>> {
        let mut ids: Vec<Option<u64>> = (0..parts)
            .map(|i| record.message_ids.get(i).copied().flatten())
            .collect();
        let Target::Channel(channel) = target else {
            return ids;
        };
        match self
            .channel_parts(*channel, mailing, record.started_at)
            .await
        {
            Ok(found) => {
                for (part, id) in found {
                    if let Some(slot) = ids.get_mut(part)
                        && slot.is_none()
                    {
                        *slot = Some(id);
                    }
                }
                info!(
                    channel,
                    %mailing,
                    present = ids.iter().flatten().count(),
                    parts,
                    "resuming an interrupted post"
                );
            }
            Err(why) => warn!(
                channel,
                %mailing,
                reason = %why,
                "cannot read the channel to resume an interrupted post; re-sending the missing \
                 parts with their original nonces (Discord drops duplicates only for a few minutes)"
            ),
        }
        ids
    }

    /// This mailing's parts among the bot's messages in `channel` since a minute before
    /// `since`, as (part index, message id).
    async fn channel_parts(
        &self,
        channel: u64,
        mailing: NaiveDate,
        since: DateTime<Utc>,
    ) -> Result<Vec<(usize, u64)>, String> {
        let me = self
            .bot_id
            .get_or_try_init(|| async {
                self.http
                    .get_current_user()
                    .await
                    .map(|u| u.id.get())
                    .map_err(|e| format!("GET /users/@me: {}", classify(&e, channel).0))
            })
            .await?;
        let after = snowflake_at(since - chrono::Duration::minutes(1));
        let messages = self
            .http
            .get_messages(
                ChannelId::new(channel.max(1)),
                Some(MessagePagination::After(MessageId::new(after.max(1)))),
                Some(100),
            )
            .await
            .map_err(|e| classify(&e, channel).0.to_string())?;
        Ok(messages
            .iter()
            .filter(|m| m.author.id.get() == *me)
            .filter_map(|m| part_of(m, mailing).map(|part| (part, m.id.get())))
            .collect())
    }

    /// Extends this deliverer's claim on the post; fails when another delivery took it over.
    async fn renew(
        &self,
        store: &dyn Store,
        clock: &dyn Clock,
        key: u64,
        mailing: NaiveDate,
    ) -> Result<(), DeliveryError> {
        let held = store
            .renew_post_lease(key, mailing, &self.owner, lease_end(clock.now()))
            .await?;
        if held {
            Ok(())
        } else {
            warn!(%mailing, key, "lost the claim on a post to another delivery; stopping");
            Err(DeliveryError::LostClaim)
        }
    }

    /// Sends one part, retrying 5xx and network failures (renewing the claim before each
    /// retry); returns the message id.
    async fn send_part(
        &self,
        store: &dyn Store,
        clock: &dyn Clock,
        target: &Target,
        mailing: NaiveDate,
        part: usize,
        msg: CreateMessage,
    ) -> Result<u64, PartError> {
        let mut tries = 0;
        loop {
            tries += 1;
            let result = match target {
                Target::Channel(channel) => {
                    let msg = with_nonce(msg.clone(), *channel, mailing, part)
                        .allowed_mentions(CreateAllowedMentions::new());
                    post_message(&self.rest, clock, *channel, &msg).await
                }
                Target::Webhook(hook) => execute_webhook(&self.rest, clock, hook, &msg).await,
            };
            match result {
                Ok(id) => return Ok(id),
                Err((err, retry)) => {
                    if !retry || tries >= self.attempts {
                        return Err(PartError::Post(err));
                    }
                    warn!(target = %target.describe(), %mailing, part, error = %err, "retrying a part");
                    clock.sleep(self.backoff).await;
                    self.renew(store, clock, target.key(), mailing)
                        .await
                        .map_err(PartError::Delivery)?;
                }
            }
        }
    }
}

/// Why one part was not sent: Discord's answer (the post is marked failed), or the claim or
/// the store (the post is left to its new holder, or to a later run).
#[derive(Debug)]
enum PartError {
    Post(PostError),
    Delivery(DeliveryError),
}

/// When a claim taken or renewed at `now` runs out.
fn lease_end(now: DateTime<Utc>) -> DateTime<Utc> {
    now.checked_add_signed(chrono::Duration::from_std(LEASE).unwrap_or(chrono::Duration::MAX))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// The message id in Discord's answer (a message object, ids as decimal strings).
fn message_id(v: &serde_json::Value) -> Option<u64> {
    v.get("id")?.as_str()?.parse().ok()
}

/// Posts one message to a channel; returns its id, or the error and whether to retry.
async fn post_message(
    rest: &Rest,
    clock: &dyn Clock,
    channel: u64,
    msg: &CreateMessage,
) -> Result<u64, (PostError, bool)> {
    let body = serde_json::to_value(msg).map_err(|e| {
        (
            PostError::Discord(format!("cannot encode the message: {e}")),
            false,
        )
    })?;
    let answer = rest
        .post_json(
            clock,
            &format!("/channels/{channel}/messages"),
            None,
            true,
            &body,
        )
        .await
        .map_err(|e| {
            let retry = e.retryable();
            let err = match e {
                RestError::Status { status: 403, .. } => PostError::Forbidden { channel },
                RestError::Status { status: 404, .. } => PostError::UnknownChannel { channel },
                RestError::RateLimited { waits } => PostError::RateLimited { waits },
                other => PostError::Discord(other.to_string()),
            };
            (err, retry)
        })?;
    message_id(&answer).ok_or((
        PostError::Discord("Discord accepted the message but returned no id".into()),
        false,
    ))
}

/// Posts one message through a webhook (`?wait=true`, so Discord returns it), without the bot
/// token: the webhook's own token is in the path, and never in an error.
async fn execute_webhook(
    rest: &Rest,
    clock: &dyn Clock,
    hook: &WebhookUrl,
    msg: &CreateMessage,
) -> Result<u64, (PostError, bool)> {
    // Webhooks take content, embeds and allowed_mentions like a message, but no nonce.
    let full = serde_json::to_value(msg).map_err(|e| {
        (
            PostError::Discord(format!("cannot encode the message: {e}")),
            false,
        )
    })?;
    let mut body = serde_json::Map::new();
    for key in ["content", "embeds"] {
        if let Some(v) = full.get(key) {
            body.insert(key.to_string(), v.clone());
        }
    }
    body.insert(
        "allowed_mentions".into(),
        serde_json::json!({ "parse": [] }),
    );
    let path = format!("/webhooks/{}/{}", hook.id(), hook.token());
    let answer = rest
        .post_json(clock, &path, Some("wait=true"), false, &body.into())
        .await
        .map_err(|e| super::webhook::classify(&e, hook))?;
    message_id(&answer).ok_or((
        PostError::Discord(format!(
            "webhook {} accepted the message but returned none",
            hook.id()
        )),
        false,
    ))
}

/// The Discord snowflake of instant `t` (ids sort by creation time): listing messages
/// "after" it gives those created since `t`.
pub fn snowflake_at(t: DateTime<Utc>) -> u64 {
    const DISCORD_EPOCH_MS: i64 = 1_420_070_400_000;
    let ms = t.timestamp_millis().saturating_sub(DISCORD_EPOCH_MS).max(0);
    u64::try_from(ms).unwrap_or(0).min(u64::MAX >> 22) << 22
}

/// Which part (0-based) of mailing `mailing`'s digest `m` is, by the marker in its last
/// embed's footer or in its content; `None` for any other message.
pub fn part_of(m: &Message, mailing: NaiveDate) -> Option<usize> {
    let footer = m
        .embeds
        .last()
        .and_then(|e| e.footer.as_ref())
        .map(|f| f.text.as_str());
    footer
        .and_then(|t| part_in(t, mailing))
        .or_else(|| part_in(&m.content, mailing))
}

/// The part number in a marker text: `marker` alone is part 0 of 1; `marker · part i/n` is
/// part i-1.
fn part_in(text: &str, mailing: NaiveDate) -> Option<usize> {
    let mark = marker(mailing);
    let at = text.find(&mark)?;
    let rest = &text[at + mark.len()..];
    let Some(numbers) = rest.strip_prefix(" · part ") else {
        // Another date that merely starts the same way ("2021-07-02" in "2021-07-021") cannot
        // happen: dates are fixed-width. A single-part digest has no part suffix.
        return Some(0);
    };
    let (i, _) = numbers.split_once('/')?;
    let i: usize = i.trim().parse().ok()?;
    i.checked_sub(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn message(author: u64, content: &str, footer: Option<&str>) -> Message {
        let embeds = match footer {
            Some(f) => {
                serde_json::json!([{"type": "rich", "title": "1. x", "footer": {"text": f}}])
            }
            None => serde_json::json!([]),
        };
        serde_json::from_value(serde_json::json!({
            "id": "900", "channel_id": "42", "content": content,
            "timestamp": "2021-07-03T08:00:00+00:00", "edited_timestamp": null, "tts": false,
            "mention_everyone": false, "mentions": [], "mention_roles": [], "attachments": [],
            "embeds": embeds, "pinned": false, "type": 0,
            "author": {"id": author.to_string(), "username": "hotpapers", "discriminator": "0",
                       "avatar": null, "bot": true}
        }))
        .unwrap()
    }

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn message_json(id: u64) -> serde_json::Value {
        serde_json::json!({
            "id": id.to_string(), "channel_id": "42", "content": "", "timestamp": "2021-07-03T08:00:00+00:00",
            "edited_timestamp": null, "tts": false, "mention_everyone": false, "mentions": [],
            "mention_roles": [], "attachments": [], "embeds": [], "pinned": false, "type": 0,
            "author": {"id": "7", "username": "hotpapers", "discriminator": "0", "avatar": null, "bot": true}
        })
    }

    fn deliverer(server: &wiremock::MockServer) -> Deliverer {
        let http = super::super::post::http_client(Some("Bot t"), Some(&server.uri())).unwrap();
        let rest = Rest::new(Some(&server.uri()), Some("Bot t"));
        Deliverer::new(Arc::new(http), rest).retries(3, std::time::Duration::ZERO)
    }

    #[tokio::test]
    async fn parts_go_through_the_proxy_in_order_with_nonces_and_5xx_is_retried() {
        use wiremock::matchers::{method, path};
        use wiremock::{Mock, MockServer, ResponseTemplate};
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/api/v10/channels/42/messages"))
            .respond_with(ResponseTemplate::new(502))
            .up_to_n_times(1)
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/api/v10/channels/42/messages"))
            .respond_with(ResponseTemplate::new(200).set_body_json(message_json(9)))
            .mount(&server)
            .await;
        let deliverer = deliverer(&server);
        let clock =
            crate::clock::FakeClock::new(Utc.with_ymd_and_hms(2021, 7, 3, 6, 0, 0).unwrap());
        let day = d(2021, 7, 2);
        // A retry renews the claim, so the deliverer holds one.
        use crate::store::PostLog as _;
        let store = crate::store::SqliteStore::in_memory().await.unwrap();
        let now = clock.now();
        store
            .claim_post(42, day, &deliverer.owner, "n", now, lease_end(now), false)
            .await
            .unwrap();
        let mut ids = Vec::new();
        for (part, text) in ["a", "b"].into_iter().enumerate() {
            let msg = CreateMessage::new().content(text);
            ids.push(
                deliverer
                    .send_part(&store, &clock, &Target::Channel(42), day, part, msg)
                    .await
                    .unwrap(),
            );
        }
        assert_eq!(ids, vec![9, 9]);
        let reqs = server.received_requests().await.unwrap();
        let bodies: Vec<serde_json::Value> = reqs
            .iter()
            .map(|r| serde_json::from_slice(&r.body).unwrap())
            .collect();
        let nonces: Vec<&str> = bodies
            .iter()
            .map(|b| b["nonce"].as_str().unwrap())
            .collect();
        assert_eq!(
            nonces,
            vec![nonce(42, day, 0), nonce(42, day, 0), nonce(42, day, 1)]
        );
        assert!(
            bodies
                .iter()
                .all(|b| b["allowed_mentions"]["parse"] == serde_json::json!([]))
        );
    }

    #[tokio::test]
    async fn forbidden_and_unknown_channel_are_clear_errors_without_retry() {
        use wiremock::matchers::method;
        use wiremock::{Mock, MockServer, ResponseTemplate};
        for (status, word) in [(403u16, "403"), (404, "unknown Discord channel")] {
            let server = MockServer::start().await;
            Mock::given(method("POST"))
                .respond_with(ResponseTemplate::new(status).set_body_json(
                    serde_json::json!({"code": 50013, "message": "Missing Permissions"}),
                ))
                .mount(&server)
                .await;
            let clock =
                crate::clock::FakeClock::new(Utc.with_ymd_and_hms(2021, 7, 3, 6, 0, 0).unwrap());
            let store = crate::store::SqliteStore::in_memory().await.unwrap();
            let err = deliverer(&server)
                .send_part(
                    &store,
                    &clock,
                    &Target::Channel(42),
                    d(2021, 7, 2),
                    0,
                    CreateMessage::new(),
                )
                .await
                .unwrap_err();
            let PartError::Post(err) = err else {
                panic!("{err:?}")
            };
            assert!(err.to_string().contains(word), "{err}");
            assert_eq!(server.received_requests().await.unwrap().len(), 1);
        }
    }

    #[test]
    fn parts_are_recognised_by_their_marker() {
        let day = d(2021, 7, 2);
        let cases: [(Option<&str>, &str, Option<usize>); 7] = [
            (
                Some("hotpapers · arXiv mailing of 2021-07-02 · part 2/3"),
                "",
                Some(1),
            ),
            (Some("hotpapers · arXiv mailing of 2021-07-02"), "", Some(0)),
            (
                None,
                "**Hot papers**\nhotpapers · arXiv mailing of 2021-07-02",
                Some(0),
            ),
            (
                Some("hotpapers · arXiv mailing of 2021-07-01 · part 1/2"),
                "",
                None,
            ),
            (Some("something else"), "hello", None),
            (
                Some("hotpapers · arXiv mailing of 2021-07-02 · part 0/3"),
                "",
                None,
            ),
            (
                Some("hotpapers · arXiv mailing of 2021-07-02 · part x/3"),
                "",
                None,
            ),
        ];
        for (footer, content, want) in cases {
            assert_eq!(
                part_of(&message(7, content, footer), day),
                want,
                "{footer:?}"
            );
        }
    }

    #[test]
    fn snowflakes_follow_discord_time() {
        // Discord's own example: 175928847299117063 was created 2016-04-30 11:18:25.796 UTC.
        let t = Utc.with_ymd_and_hms(2016, 4, 30, 11, 18, 25).unwrap()
            + chrono::Duration::milliseconds(796);
        assert_eq!(snowflake_at(t) >> 22, 175_928_847_299_117_063 >> 22);
        assert_eq!(
            snowflake_at(Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0).unwrap()),
            0
        );
        assert!(snowflake_at(DateTime::<Utc>::MAX_UTC) > 0);
    }

    #[test]
    fn targets_name_themselves_without_tokens() {
        let hook = WebhookUrl::parse("https://discord.com/api/webhooks/55/secret-token").unwrap();
        let t = Target::Webhook(hook);
        assert_eq!(t.key(), 55);
        assert_eq!(t.describe(), "webhook 55");
        assert!(!format!("{t:?}").contains("secret-token"));
        assert_eq!(Target::Channel(42).describe(), "channel 42");
    }
}
