//! The post log: one row per (channel or webhook, mailing) saying whether its digest is being
//! sent, was sent (with the message ids) or failed.
//!
//! It is what makes posting exactly-once: the row is written before sending, so a crash
//! mid-post is found on the next run and resumed instead of posted twice.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};

use super::StoreError;

/// The state of a post in the post log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PostState {
    /// Recorded before sending; left so by a crash or shutdown mid-post.
    Sending,
    /// Every part was accepted by Discord.
    Sent,
    /// The last attempt failed; a later attempt may resume it.
    Failed,
}

impl PostState {
    /// The stored name (`sending`, `sent`, `failed`).
    pub fn as_str(self) -> &'static str {
        match self {
            PostState::Sending => "sending",
            PostState::Sent => "sent",
            PostState::Failed => "failed",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<PostState> {
        match s {
            "sending" => Some(PostState::Sending),
            "sent" => Some(PostState::Sent),
            "failed" => Some(PostState::Failed),
            _ => None,
        }
    }
}

/// One post log row: a digest posted (or being posted) to one channel or webhook.
#[derive(Clone, Debug, PartialEq)]
pub struct PostRecord {
    /// Where the post stands.
    pub state: PostState,
    /// The nonce of the first part, as recorded by `begin_post`.
    pub nonce: String,
    /// When the (first) attempt began; a resume looks for parts sent after it.
    pub started_at: DateTime<Utc>,
    /// When it was sent, or when the last attempt failed.
    pub finished_at: Option<DateTime<Utc>>,
    /// Message ids per part, in part order; `None` where a part is not known to be sent.
    pub message_ids: Vec<Option<u64>>,
    /// The error of the last failed attempt.
    pub error: Option<String>,
}

/// The post log of digests posted to channels and webhooks.
#[async_trait]
pub trait PostLog: Send + Sync + std::fmt::Debug {
    /// The post log state of (channel, mailing): `"sending"`, `"sent"` or `"failed"`, or
    /// `None` when nothing was posted. `hotpapers post` reads it to post exactly once.
    async fn post_state(
        &self,
        channel_id: u64,
        mailing: NaiveDate,
    ) -> Result<Option<String>, StoreError>;

    /// Records that a post of (channel, mailing) is about to be sent with `nonce`, BEFORE
    /// sending, so a crash between send and record is detected (state `sending`) on rerun.
    async fn begin_post(
        &self,
        channel_id: u64,
        mailing: NaiveDate,
        nonce: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// Marks (channel, mailing) as `sent` with the created message ids.
    async fn finish_post(
        &self,
        channel_id: u64,
        mailing: NaiveDate,
        message_ids: &[u64],
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// The whole post log row of (channel, mailing), or `None` when nothing was posted: what
    /// a delivery needs to resume a post interrupted mid-way (its nonce, when it started,
    /// which parts' message ids are known) or to report a failure.
    async fn post_record(
        &self,
        channel_id: u64,
        mailing: NaiveDate,
    ) -> Result<Option<PostRecord>, StoreError>;

    /// Records the message ids of the parts sent so far while the row stays `sending` (one
    /// entry per part in order; `None` for a part not known to be sent), so a crash loses at
    /// most the part being sent. Returns whether the row exists.
    async fn post_progress(
        &self,
        channel_id: u64,
        mailing: NaiveDate,
        message_ids: &[Option<u64>],
    ) -> Result<bool, StoreError>;

    /// Puts a `failed` or interrupted row back to `sending` for a resumed attempt, keeping its
    /// nonce, `started_at` and known message ids (the resume looks for parts sent since
    /// `started_at`). Returns whether the row exists.
    async fn resume_post(&self, channel_id: u64, mailing: NaiveDate) -> Result<bool, StoreError>;

    /// Marks (channel, mailing) `failed` with a one-line `error` at `at`; a later attempt may
    /// resume it. Returns whether the row exists.
    async fn fail_post(
        &self,
        channel_id: u64,
        mailing: NaiveDate,
        error: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
}
