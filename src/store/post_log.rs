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

/// What [`PostLog::claim_post`] found.
#[derive(Clone, Debug, PartialEq)]
pub enum Claim {
    /// The caller now holds the post's lease. `fresh`: the row was created (or reset by a
    /// forced post) by this claim, so nothing of it was sent before; otherwise `record` is an
    /// interrupted or failed post to resume.
    Claimed {
        /// Whether this claim began the post.
        fresh: bool,
        /// The row as it stands after the claim.
        record: PostRecord,
    },
    /// The post is already `sent` (and the claim was not forced).
    Sent(PostRecord),
    /// Another delivery holds the lease until `until`: it is posting this digest now.
    Busy {
        /// When its lease runs out if it is not renewed.
        until: DateTime<Utc>,
    },
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

    /// Takes the exclusive claim to post (channel, mailing) for `owner` until `until`, in one
    /// atomic statement, so of several processes racing for one post exactly one wins.
    ///
    /// It succeeds when there is no row (a `sending` row with `nonce` and `started_at = now`
    /// is created), or when the row is not `sent` (or `force`) and its lease is free, expired
    /// at `now`, or already `owner`'s. `force` resets the row to a new post. Otherwise it
    /// answers [`Claim::Sent`] or [`Claim::Busy`] and changes nothing.
    #[allow(clippy::too_many_arguments)]
    async fn claim_post(
        &self,
        channel_id: u64,
        mailing: NaiveDate,
        owner: &str,
        nonce: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        force: bool,
    ) -> Result<Claim, StoreError>;

    /// Extends `owner`'s lease on (channel, mailing) to `until`. Returns `false` when
    /// `owner` no longer holds it (it expired and another delivery took it): the caller must
    /// stop sending.
    async fn renew_post_lease(
        &self,
        channel_id: u64,
        mailing: NaiveDate,
        owner: &str,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Marks (channel, mailing) as `sent` with the created message ids (and frees its
    /// lease).
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

    /// Marks (channel, mailing) `failed` with a one-line `error` at `at` and frees its lease;
    /// a later attempt may resume it. Returns whether the row exists.
    async fn fail_post(
        &self,
        channel_id: u64,
        mailing: NaiveDate,
        error: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
}
