//! Small pieces of progress state that let work resume or be skipped: where the Jetstream
//! listener stopped, how many X requests a day has used, and when a source last swept a mailing
//! or looked up a paper.
//!
//! Each piece has a typed getter and setter instead of a string key, so the key scheme (and the
//! text form of the values) stays inside the backend. Reads of a value that was never written
//! say so (`None`, or zero for a count). A stored value that cannot be read is reported where a
//! caller has to choose how to react (the cursor, the request count: see each method), and
//! reads as "never" where that is the only safe answer (the sweep and look-up times: asking
//! again is what a missing time means anyway).

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};

use super::StoreError;
use crate::arxiv::ArxivId;

/// Progress state of the listener and the attention sources. Setters overwrite; writing the
/// stored value again changes nothing.
#[async_trait]
pub trait CursorStore: Send + Sync + std::fmt::Debug {
    /// The Jetstream `time_us` the listener last saved, or `None` when it never saved one.
    ///
    /// A stored value that is not an integer is [`StoreError::Corrupt`], so each caller
    /// decides: the listener logs it and starts live, the `bluesky` source treats it as a
    /// listener that has not run. The value is returned as stored, negative or not.
    async fn jetstream_cursor(&self) -> Result<Option<i64>, StoreError>;

    /// Saves the listener's position (Jetstream `time_us` of the last applied event).
    async fn set_jetstream_cursor(&self, time_us: i64) -> Result<(), StoreError>;

    /// Proves the store takes writes now (`/healthz`): writes `at` under a health-check key.
    /// Fails when the store is read-only, full, locked or gone.
    async fn check_writable(&self, at: DateTime<Utc>) -> Result<(), StoreError>;

    /// After bulk work (an import, an ingest): moves the write-ahead log into the database
    /// and truncates it, so a large import does not leave a log of its size behind.
    async fn checkpoint(&self) -> Result<(), StoreError>;

    /// How many X requests were charged to UTC day `day`; zero when none were.
    ///
    /// A stored count that is not a number is [`StoreError::Corrupt`] (naming the day), so the
    /// X source can fail closed: it treats that day's budget as used up, since the count is
    /// money.
    async fn x_requests_used(&self, day: NaiveDate) -> Result<u32, StoreError>;

    /// Records that `used` X requests have been charged to UTC day `day`.
    async fn set_x_requests_used(&self, day: NaiveDate, used: u32) -> Result<(), StoreError>;

    /// When `source` last swept mailing `mailing` successfully, or `None` when it never did.
    /// An unreadable stored time reads as `None`: the mailing is swept again.
    async fn collected_at(
        &self,
        source: &str,
        mailing: NaiveDate,
    ) -> Result<Option<DateTime<Utc>>, StoreError>;

    /// Records that `source` swept mailing `mailing` successfully at `at`.
    async fn set_collected_at(
        &self,
        source: &str,
        mailing: NaiveDate,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// When `source` was last asked about `paper` (any version) successfully, or `None` when
    /// it never was. An unreadable stored time reads as `None`: the source is asked again.
    async fn looked_up_at(
        &self,
        source: &str,
        paper: &ArxivId,
    ) -> Result<Option<DateTime<Utc>>, StoreError>;

    /// Records that `source` answered about `paper` (any version) at `at`.
    async fn set_looked_up_at(
        &self,
        source: &str,
        paper: &ArxivId,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
}
