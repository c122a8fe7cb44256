//! The Jetstream listener: a long-running websocket consumer of Bluesky's public firehose that
//! keeps the posts linking arXiv and counts their likes, reposts, quotes and replies.
//!
//! Jetstream (`wss://jetstream{1,2}.us-{east,west}.bsky.network/subscribe`) needs no key. We
//! subscribe to posts, likes and reposts; the writes an event calls for are buffered (at most
//! [`FLUSH_WRITES`] of them, so memory stays flat however busy the firehose is) and applied to
//! the [`Store`] in one transaction per batch:
//! - a post whose facets or embeds link arXiv is stored with its papers;
//! - a like or repost whose subject is a stored post is counted, and so is a post that quotes
//!   a stored post or replies to one;
//! - a delete removes the post, or the like/repost/quote/reply, keyed on
//!   did + collection + rkey, which is also what makes replays (delivery is at-least-once)
//!   change nothing.
//!
//! Nearly all of the firehose is dropped in memory; what is left was written a transaction per
//! event, and those transactions (round trips to SQLite's thread, a WAL commit each) were most
//! of the listener's CPU. Batches are flushed when [`FLUSH_WRITES`] writes are waiting, when
//! the connection has been quiet for [`FLUSH_IDLE`], before the cursor is saved, before the
//! stored posts are reloaded or pruned, and when a connection ends.
//!
//! The cursor (`time_us` of the last applied event) is saved in the store every
//! `cursor_save_events` events or `cursor_save_interval`, and on shutdown, always after the
//! buffered writes are stored: the saved cursor is never ahead of the store, so a crash loses
//! only writes that the replay from the cursor brings back. A (re)connection
//! resumes `replay_overlap` before it; Jetstream replays up to about 36 hours. After a dropped
//! connection the listener waits (1 s, doubling up to `reconnect_max_delay`, through the
//! [`Clock`]) and reconnects from the cursor.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::http::header::USER_AGENT;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{self, Message};

use super::records::{self, Event, EventKind, Operation, POST, Record, WANTED_COLLECTIONS};
use crate::clock::{Clock, saturating_sub};
use crate::config::BlueskyConfig;
use crate::http::sanitize_url;
use crate::sources::SourceError;
use crate::store::{
    BlueskyInteraction, BlueskyInteractionKind, BlueskyOutcome, BlueskyPost, BlueskyWrite, Store,
    StoreError,
};

/// Most writes buffered before they are flushed: large enough that a transaction's cost is
/// spread thin (at firehose speed 256 writes are a few thousand events), small enough that a
/// batch holds SQLite's write lock for a few milliseconds only.
pub const FLUSH_WRITES: usize = 256;

/// How long a connection may be quiet before buffered writes are flushed, so that on a slow
/// stream what was seen is stored (and visible to commands) within this delay rather than at
/// the next cursor save.
pub const FLUSH_IDLE: Duration = Duration::from_millis(50);

/// How often stored posts past `retention` are pruned.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// First reconnection wait; it doubles per failed attempt up to `reconnect_max_delay`.
const RECONNECT_BASE_DELAY: Duration = Duration::from_secs(1);

/// Largest websocket message accepted. Jetstream events are one record each (records are
/// capped far below this), so anything larger is garbage, not data.
const MAX_MESSAGE_BYTES: usize = 4 << 20;

/// What the consumer has done since it was created; for logs and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConsumerStats {
    /// Events applied (every kind).
    pub events: u64,
    /// Lines that were not valid events (skipped).
    pub malformed: u64,
    /// Posts linking arXiv stored or updated. This and the other counts of writes (all but
    /// `events`, `malformed` and `interactions_ignored`) move when buffered writes are
    /// flushed, from what the store answered.
    pub posts_stored: u64,
    /// Stored posts removed by a delete (or an update that dropped their links).
    pub posts_deleted: u64,
    /// Likes, reposts, quotes and replies whose subject is a stored post (replays included).
    pub interactions: u64,
    /// Counted interactions removed by deletes.
    pub interactions_deleted: u64,
    /// Likes, reposts, quotes and replies of posts that are not stored, dropped in memory
    /// without asking the store (nearly all of them).
    pub interactions_ignored: u64,
}

/// Applies Jetstream events to the store, in batches, and keeps the cursor.
///
/// Separate from the websocket so that it can be driven (and tested) with any sequence of
/// lines. What an event writes is buffered until the next [`JetstreamConsumer::flush`] (which
/// [`JetstreamConsumer::save_cursor`] does first, and which happens by itself every
/// [`FLUSH_WRITES`] writes); nothing else about an event is kept.
#[derive(Debug)]
pub struct JetstreamConsumer {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    save_every: u32,
    save_interval: Duration,
    overlap_us: i64,
    retention: Duration,
    /// `time_us` of the newest applied event.
    cursor: Option<i64>,
    /// What the store holds.
    saved: Option<i64>,
    unsaved_events: u32,
    last_save: DateTime<Utc>,
    last_prune: Option<DateTime<Utc>>,
    stats: ConsumerStats,
    /// The URIs of the stored posts (loaded on the first event, kept in step with this
    /// consumer's stores and deletes, and reloaded every [`KNOWN_POSTS_REFRESH`] for the
    /// posts the `bluesky` source's search stores): an interaction whose subject is not here
    /// is dropped in memory.
    known_posts: Option<std::collections::HashSet<String>>,
    /// When `known_posts` was loaded.
    known_loaded: Option<DateTime<Utc>>,
    /// Writes not yet flushed, in event order.
    pending: Vec<BlueskyWrite>,
    /// For each of `pending`, what its outcome adds to `stats`.
    tallies: Vec<Tally>,
}

/// What a buffered write's outcome adds to [`ConsumerStats`].
#[derive(Debug, Clone, Copy)]
enum Tally {
    /// `interactions_deleted` += removed.
    InteractionsDeleted,
    /// `posts_deleted` += 1 when it was stored.
    PostDeleted,
    /// `posts_stored` += 1.
    PostStored,
    /// `interactions` += 1 when counted; when not, `interactions_ignored` += 1 if
    /// `fallback_ignored` (a reply whose root was dropped in memory: that counts as ignored
    /// only once the store says its parent is not stored either).
    Interaction { fallback_ignored: bool },
}

/// How often the listener reloads the stored posts' URIs (see `known_posts`).
pub const KNOWN_POSTS_REFRESH: Duration = Duration::from_secs(60);

impl JetstreamConsumer {
    /// A consumer with no cursor yet; call [`JetstreamConsumer::load_cursor`] to resume.
    pub fn new(cfg: &BlueskyConfig, store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        let last_save = clock.now();
        JetstreamConsumer {
            store,
            clock,
            save_every: cfg.cursor_save_events.max(1),
            save_interval: cfg.cursor_save_interval,
            overlap_us: i64::try_from(cfg.replay_overlap.as_micros()).unwrap_or(i64::MAX),
            retention: cfg.retention,
            cursor: None,
            saved: None,
            unsaved_events: 0,
            last_save,
            last_prune: None,
            known_posts: None,
            known_loaded: None,
            pending: Vec::new(),
            tallies: Vec::new(),
            stats: ConsumerStats::default(),
        }
    }

    /// Reads the saved cursor. A value that is not a number is reported and ignored (the
    /// listener then starts live rather than failing forever).
    pub async fn load_cursor(&mut self) -> Result<Option<i64>, SourceError> {
        let parsed = match self.store.jetstream_cursor().await {
            Ok(Some(c)) if c >= 0 => Some(c),
            Ok(None) => None,
            Ok(Some(c)) => {
                tracing::warn!(value = c, "ignoring an invalid saved Jetstream cursor");
                None
            }
            Err(e @ StoreError::Corrupt { .. }) => {
                tracing::warn!(error = %e, "ignoring an invalid saved Jetstream cursor");
                None
            }
            Err(e) => return Err(e.into()),
        };
        self.cursor = parsed;
        self.saved = parsed;
        Ok(parsed)
    }

    /// Where a (re)connection should start: the cursor minus the replay overlap, or live when
    /// there is no cursor.
    pub fn resume_from(&self) -> Option<i64> {
        self.cursor
            .map(|c| c.saturating_sub(self.overlap_us).max(0))
    }

    /// `time_us` of the newest applied event.
    pub fn cursor(&self) -> Option<i64> {
        self.cursor
    }

    /// What has been applied so far (writes count once flushed; see [`ConsumerStats`]).
    pub fn stats(&self) -> ConsumerStats {
        self.stats
    }

    /// How many writes are buffered, waiting for [`JetstreamConsumer::flush`].
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Stores the buffered writes, in order, in one store call (one transaction on SQLite),
    /// and counts their outcomes in [`JetstreamConsumer::stats`].
    ///
    /// On an error nothing is counted and the writes stay buffered (the store rolled them back;
    /// a later flush tries them again, which is harmless as writes are idempotent), and the
    /// stored posts are reloaded before the next event: they were kept in step with writes that
    /// may never land.
    pub async fn flush(&mut self) -> Result<(), SourceError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let outcomes = match self.store.bluesky_apply(&self.pending).await {
            Ok(outcomes) => outcomes,
            Err(e) => {
                self.known_posts = None;
                return Err(e.into());
            }
        };
        if outcomes.len() != self.tallies.len() {
            self.known_posts = None;
            return Err(StoreError::Query(format!(
                "the store answered {} outcomes for {} Bluesky writes",
                outcomes.len(),
                self.tallies.len()
            ))
            .into());
        }
        for (tally, outcome) in self.tallies.iter().zip(&outcomes) {
            let stats = &mut self.stats;
            match (tally, outcome) {
                (Tally::InteractionsDeleted, BlueskyOutcome::InteractionsDeleted(n)) => {
                    stats.interactions_deleted += n;
                }
                (Tally::PostDeleted, BlueskyOutcome::PostDeleted(removed)) => {
                    stats.posts_deleted += u64::from(*removed);
                }
                (Tally::PostStored, BlueskyOutcome::PostUpserted(_)) => stats.posts_stored += 1,
                (
                    Tally::Interaction { fallback_ignored },
                    BlueskyOutcome::InteractionRecorded(counted),
                ) => {
                    if *counted {
                        stats.interactions += 1;
                    } else if *fallback_ignored {
                        stats.interactions_ignored += 1;
                    }
                }
                (tally, outcome) => {
                    tracing::warn!(
                        ?tally,
                        ?outcome,
                        "the store answered a Bluesky write out of order"
                    );
                }
            }
        }
        self.pending.clear();
        self.tallies.clear();
        Ok(())
    }

    /// Buffers `write`, flushing when [`FLUSH_WRITES`] are waiting.
    async fn write(&mut self, write: BlueskyWrite, tally: Tally) -> Result<(), SourceError> {
        self.pending.push(write);
        self.tallies.push(tally);
        if self.pending.len() >= FLUSH_WRITES {
            self.flush().await?;
        }
        Ok(())
    }

    /// Applies one websocket text message. A malformed line is skipped with a warning; only
    /// store failures are errors. Saves the cursor when it is due and prunes old posts hourly.
    pub async fn apply_text(&mut self, text: &str) -> Result<(), SourceError> {
        match records::parse_event(text) {
            Ok(event) => self.apply(&event).await?,
            Err(e) => {
                self.stats.malformed += 1;
                tracing::warn!(error = %e, "skipping a Jetstream message");
            }
        }
        self.maybe_prune().await?;
        if self.unsaved_events >= self.save_every
            || self.clock.now() - self.last_save >= to_chrono(self.save_interval)
        {
            self.save_cursor().await?;
        }
        Ok(())
    }

    /// Loads the stored posts' URIs on first use (see `known_posts`).
    async fn known_posts(&mut self) -> Result<(), SourceError> {
        let now = self.clock.now();
        let stale = self
            .known_loaded
            .is_none_or(|t| now - t >= to_chrono(KNOWN_POSTS_REFRESH));
        if self.known_posts.is_none() || stale {
            // The set is kept in step with the buffered writes; the store only has them after
            // a flush.
            self.flush().await?;
            let uris = self.store.bluesky_post_uris().await?;
            self.known_posts = Some(uris.into_iter().collect());
            self.known_loaded = Some(now);
        }
        Ok(())
    }

    /// Applies one parsed event and advances the cursor past it.
    pub async fn apply(&mut self, event: &Event) -> Result<(), SourceError> {
        self.known_posts().await?;
        if let EventKind::Commit(commit) = &event.kind
            && WANTED_COLLECTIONS.contains(&commit.collection.as_str())
        {
            let seen = event.time().unwrap_or_else(|| self.clock.now());
            let (did, collection, rkey) = (&event.did, &commit.collection, &commit.rkey);
            if commit.operation != Operation::Create {
                // A delete undoes everything the record did; an update is applied as "undo,
                // then apply the new version", minus the post itself, whose counts must survive.
                let write = BlueskyWrite::DeleteInteractions {
                    did: did.clone(),
                    collection: collection.clone(),
                    rkey: rkey.clone(),
                };
                self.write(write, Tally::InteractionsDeleted).await?;
            }
            let uri = records::record_uri(did, collection, rkey);
            match (&commit.operation, &commit.record) {
                (Operation::Delete, _) => {
                    if collection == POST {
                        self.delete_post(uri).await?;
                    }
                }
                (_, Some(Record::Post(post))) => {
                    let papers = post.papers();
                    if !papers.is_empty() {
                        let stored = BlueskyPost {
                            uri: uri.clone(),
                            author_did: did.clone(),
                            created_at: records::effective_created_at(post.created_at, seen),
                            papers,
                        };
                        if let Some(known) = self.known_posts.as_mut() {
                            known.insert(uri);
                        }
                        self.write(BlueskyWrite::UpsertPost(stored), Tally::PostStored)
                            .await?;
                    } else if commit.operation == Operation::Update {
                        self.delete_post(uri).await?;
                    }
                    if let Some(quoted) = &post.quoted_uri {
                        self.interact(event, BlueskyInteractionKind::Quote, quoted, None)
                            .await?;
                    }
                    // A reply counts once: for its parent when that is stored, else for the
                    // thread's root (a reply deep under a link post still discusses it).
                    if let Some(parent) = &post.reply_parent {
                        let root = post.reply_root.as_deref().filter(|r| *r != parent);
                        self.interact(event, BlueskyInteractionKind::Reply, parent, root)
                            .await?;
                    }
                }
                (_, Some(Record::Like { subject_uri })) => {
                    self.interact(event, BlueskyInteractionKind::Like, subject_uri, None)
                        .await?;
                }
                (_, Some(Record::Repost { subject_uri })) => {
                    self.interact(event, BlueskyInteractionKind::Repost, subject_uri, None)
                        .await?;
                }
                (_, None) => {}
            }
        }
        self.stats.events += 1;
        let lag = event.time().map_or(0.0, |t| {
            (self.clock.now() - t).num_milliseconds() as f64 / 1000.0
        });
        crate::metrics::metrics().jetstream_event(lag);
        self.unsaved_events = self.unsaved_events.saturating_add(1);
        self.cursor = Some(self.cursor.map_or(event.time_us, |c| c.max(event.time_us)));
        Ok(())
    }

    /// Buffers the delete of the post `uri` (the store tells whether it was stored).
    async fn delete_post(&mut self, uri: String) -> Result<(), SourceError> {
        if let Some(known) = self.known_posts.as_mut() {
            known.remove(&uri);
        }
        self.write(BlueskyWrite::DeletePost(uri), Tally::PostDeleted)
            .await
    }

    /// Counts `event`'s record as a `kind` of `subject` or, when that is not stored, of
    /// `or_subject`: buffers the write when one of them is a stored post, else drops the
    /// interaction in memory.
    async fn interact(
        &mut self,
        event: &Event,
        kind: BlueskyInteractionKind,
        subject: &str,
        or_subject: Option<&str>,
    ) -> Result<(), SourceError> {
        let EventKind::Commit(commit) = &event.kind else {
            return Ok(());
        };
        // Nearly every like and repost is of a post that links no paper: dropped here, in
        // memory, without a query.
        let known = |uri: &str| {
            self.known_posts
                .as_ref()
                .is_none_or(|known| known.contains(uri))
        };
        let subject_known = known(subject);
        let or_known = or_subject.filter(|s| known(s));
        let fallback_ignored = or_subject.is_some() && or_known.is_none();
        let (first, or_subject) = match (subject_known, or_known) {
            (true, or) => (subject, or),
            (false, Some(or)) => {
                self.stats.interactions_ignored += 1;
                (or, None)
            }
            (false, None) => {
                self.stats.interactions_ignored += 1 + u64::from(fallback_ignored);
                return Ok(());
            }
        };
        let interaction = BlueskyInteraction {
            did: event.did.clone(),
            collection: commit.collection.clone(),
            rkey: commit.rkey.clone(),
            kind,
            subject_uri: first.to_string(),
        };
        let write = BlueskyWrite::RecordInteraction {
            interaction,
            or_subject: or_subject.map(str::to_string),
        };
        let fallback_ignored = subject_known && fallback_ignored;
        self.write(write, Tally::Interaction { fallback_ignored })
            .await
    }

    /// Flushes the buffered writes, then writes the cursor to the store if it moved since the
    /// last save: the saved cursor never passes an event whose writes are not stored. When the
    /// flush fails the cursor is not saved.
    pub async fn save_cursor(&mut self) -> Result<(), SourceError> {
        self.flush().await?;
        if let Some(cursor) = self.cursor
            && self.saved != Some(cursor)
        {
            self.store.set_jetstream_cursor(cursor).await?;
            self.saved = Some(cursor);
        }
        self.unsaved_events = 0;
        self.last_save = self.clock.now();
        Ok(())
    }

    async fn maybe_prune(&mut self) -> Result<(), SourceError> {
        let now = self.clock.now();
        if self
            .last_prune
            .is_some_and(|t| now - t < to_chrono(PRUNE_EVERY))
        {
            return Ok(());
        }
        self.last_prune = Some(now);
        // In event order: a buffered post older than the cutoff is pruned too.
        self.flush().await?;
        // Saturating, and never before 1970 (no Bluesky post is older; the store holds years
        // 0000-9999 only): a huge retention prunes nothing instead of panicking or failing.
        let cutoff = saturating_sub(now, self.retention).max(DateTime::UNIX_EPOCH);
        let removed = self.store.bluesky_prune(cutoff).await?;
        if removed > 0 {
            // Reloaded on the next event.
            self.known_posts = None;
            tracing::info!(removed, "pruned Bluesky posts past the retention period");
        }
        Ok(())
    }
}

/// The subscription URL: `jetstream_url` with the wanted collections and, when resuming, the
/// cursor.
pub fn subscribe_url(jetstream_url: &str, cursor: Option<i64>) -> Result<String, SourceError> {
    let mut url = url::Url::parse(jetstream_url).map_err(|e| {
        SourceError::Http(crate::http::HttpError::Build(format!(
            "invalid Jetstream URL {}: {e}",
            sanitize_url(jetstream_url)
        )))
    })?;
    {
        let mut query = url.query_pairs_mut();
        for collection in WANTED_COLLECTIONS {
            query.append_pair("wantedCollections", collection);
        }
        if let Some(cursor) = cursor {
            query.append_pair("cursor", &cursor.to_string());
        }
    }
    Ok(url.to_string())
}

/// Runs the Jetstream listener until `shutdown` completes: see the module docs.
///
/// Returns `Ok` after a clean shutdown (cursor saved). Fails only when the store fails or the
/// URL is invalid; network trouble is retried forever with backoff.
pub async fn listen(
    cfg: &BlueskyConfig,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    shutdown: impl Future<Output = ()>,
) -> Result<(), SourceError> {
    Listener::new(cfg, store, clock).run(shutdown).await
}

/// The websocket side of the listener; [`listen`] with a custom User-Agent.
#[derive(Debug)]
pub struct Listener {
    cfg: BlueskyConfig,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    user_agent: String,
}

/// How one connection ended.
enum SessionEnd {
    /// `shutdown` completed.
    Shutdown,
    /// The connection could not be opened or was lost; `events` were applied on it.
    Lost { events: u64, reason: String },
}

impl Listener {
    /// A listener with hotpapers' default User-Agent.
    pub fn new(cfg: &BlueskyConfig, store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Listener {
            cfg: cfg.clone(),
            store,
            clock,
            user_agent: crate::http::user_agent(""),
        }
    }

    /// Sends `user_agent` (e.g. [`crate::http::user_agent`] with the configured contact).
    pub fn with_user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// Runs until `shutdown` completes; see [`listen`].
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Result<(), SourceError> {
        let mut shutdown = std::pin::pin!(shutdown);
        let mut consumer =
            JetstreamConsumer::new(&self.cfg, self.store.clone(), self.clock.clone());
        if let Some(cursor) = consumer.load_cursor().await? {
            tracing::info!(
                cursor,
                "resuming the Jetstream listener from its saved cursor"
            );
        }
        let mut failures: u32 = 0;
        loop {
            let url = subscribe_url(&self.cfg.jetstream_url, consumer.resume_from())?;
            let end = match self.session(&url, &mut consumer, shutdown.as_mut()).await {
                Ok(end) => end,
                Err(e) => {
                    // The store failed; saving will likely fail too, and must not hide why.
                    let _ = consumer.save_cursor().await;
                    return Err(e);
                }
            };
            consumer.save_cursor().await?;
            let (events, reason) = match end {
                SessionEnd::Shutdown => break,
                SessionEnd::Lost { events, reason } => (events, reason),
            };
            if events > 0 {
                failures = 0;
            }
            let delay = reconnect_delay(failures, self.cfg.reconnect_max_delay);
            failures = failures.saturating_add(1);
            tracing::warn!(
                url = %sanitize_url(&url),
                reason = %reason,
                delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                "Jetstream connection lost; reconnecting"
            );
            tokio::select! {
                biased;
                () = shutdown.as_mut() => break,
                () = self.clock.sleep(delay) => {}
            }
        }
        consumer.save_cursor().await?;
        let stats = consumer.stats();
        tracing::info!(
            events = stats.events,
            posts = stats.posts_stored,
            interactions = stats.interactions,
            "Jetstream listener stopped"
        );
        Ok(())
    }

    /// One connection: connect, then apply messages until it drops or `shutdown` completes.
    /// Messages are only awaited in the `select!`, never the store writes, so shutdown never
    /// interrupts an event half-applied.
    async fn session(
        &self,
        url: &str,
        consumer: &mut JetstreamConsumer,
        mut shutdown: Pin<&mut impl Future<Output = ()>>,
    ) -> Result<SessionEnd, SourceError> {
        let lost = |events: u64, reason: String| Ok(SessionEnd::Lost { events, reason });
        let request = match self.request(url) {
            Ok(r) => r,
            Err(e) => return lost(0, e),
        };
        let config = WebSocketConfig {
            max_message_size: Some(MAX_MESSAGE_BYTES),
            max_frame_size: Some(MAX_MESSAGE_BYTES),
            ..WebSocketConfig::default()
        };
        let connect = tokio::time::timeout(
            self.cfg.idle_timeout,
            tokio_tungstenite::connect_async_with_config(request, Some(config), true),
        );
        let mut ws = tokio::select! {
            biased;
            () = shutdown.as_mut() => return Ok(SessionEnd::Shutdown),
            r = connect => match r {
                Ok(Ok((ws, _))) => ws,
                Ok(Err(e)) => return lost(0, one_line(&e)),
                Err(_) => return lost(0, "connecting timed out".into()),
            },
        };
        tracing::info!(url = %sanitize_url(url), "connected to Jetstream");
        let mut events = 0u64;
        let mut last_message = tokio::time::Instant::now();
        loop {
            // Measured from the last message, so that flushing on the way does not stretch it.
            let idle_left = self.cfg.idle_timeout.saturating_sub(last_message.elapsed());
            let next = tokio::time::timeout(idle_left, ws.next());
            // Buffered writes wait for a quiet moment (or a full batch, or the cursor's save).
            let quiet = consumer.pending() > 0;
            let message = tokio::select! {
                biased;
                () = shutdown.as_mut() => {
                    // Best effort: the server may already be gone. The caller flushes.
                    let _ = tokio::time::timeout(Duration::from_secs(2), ws.close(None)).await;
                    return Ok(SessionEnd::Shutdown);
                }
                m = next => m,
                () = tokio::time::sleep(FLUSH_IDLE.min(idle_left)), if quiet => {
                    consumer.flush().await?;
                    continue;
                }
            };
            last_message = tokio::time::Instant::now();
            match message {
                Err(_) => {
                    let silent = humantime::format_duration(self.cfg.idle_timeout);
                    return lost(events, format!("no message for {silent}"));
                }
                Ok(None) => return lost(events, "the server closed the connection".into()),
                Ok(Some(Err(e))) => return lost(events, one_line(&e)),
                Ok(Some(Ok(Message::Text(text)))) => {
                    consumer.apply_text(&text).await?;
                    events += 1;
                }
                Ok(Some(Ok(Message::Close(frame)))) => {
                    let why = frame.map(|f| f.reason.into_owned()).unwrap_or_default();
                    return lost(events, format!("the server closed the connection {why}"));
                }
                Ok(Some(Ok(Message::Binary(_)))) => {
                    // Only sent when compression is requested, which we never do.
                    tracing::warn!("skipping an unexpected binary Jetstream message");
                }
                Ok(Some(Ok(_))) => {} // ping/pong (answered by tungstenite) and raw frames
            }
        }
    }

    fn request(&self, url: &str) -> Result<tungstenite::handshake::client::Request, String> {
        let mut request = url.into_client_request().map_err(|e| one_line(&e))?;
        if let Ok(value) = HeaderValue::from_str(&self.user_agent) {
            request.headers_mut().insert(USER_AGENT, value);
        }
        Ok(request)
    }
}

/// The wait before reconnection attempt `failures` (0-based): 1 s doubling, capped at `max`.
pub fn reconnect_delay(failures: u32, max: Duration) -> Duration {
    let factor = 1u32.checked_shl(failures).unwrap_or(u32::MAX);
    RECONNECT_BASE_DELAY.saturating_mul(factor).min(max)
}

fn to_chrono(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

/// An error's text on one line, with any URL in it left as the library printed it (the
/// Jetstream URL carries no secrets).
fn one_line(e: &impl std::fmt::Display) -> String {
    e.to_string()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscribe_url_lists_collections_and_cursor() {
        assert_eq!(
            subscribe_url("wss://jetstream2.us-east.bsky.network/subscribe", None).unwrap(),
            "wss://jetstream2.us-east.bsky.network/subscribe?wantedCollections=app.bsky.feed.post\
             &wantedCollections=app.bsky.feed.like&wantedCollections=app.bsky.feed.repost"
        );
        let with_cursor = subscribe_url(
            "ws://127.0.0.1:6008/subscribe?compress=false",
            Some(1_725_911_162_329_308),
        )
        .unwrap();
        assert!(
            with_cursor
                .starts_with("ws://127.0.0.1:6008/subscribe?compress=false&wantedCollections="),
            "{with_cursor}"
        );
        assert!(
            with_cursor.ends_with("&cursor=1725911162329308"),
            "{with_cursor}"
        );
        assert!(subscribe_url("not a url", None).is_err());
    }

    #[test]
    fn reconnect_delays_double_up_to_the_cap() {
        let max = Duration::from_secs(60);
        let delays: Vec<u64> = (0..8).map(|n| reconnect_delay(n, max).as_secs()).collect();
        assert_eq!(delays, vec![1, 2, 4, 8, 16, 32, 60, 60]);
        assert_eq!(reconnect_delay(u32::MAX, max), max);
    }
}
