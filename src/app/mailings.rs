//! Whether a mailing must be fetched: what the store knows, including that arXiv had no
//! papers for it.
//!
//! A mailing arXiv answers with no papers (a holiday missing from `[arxiv] holidays`, a
//! category filter with nothing that day, the API lagging the announcement) is recorded empty
//! ([`MailingStore::record_empty_mailing`](crate::store::MailingStore::record_empty_mailing)),
//! so a digest does not ask again on every call: the trending view covers a week of
//! mailings, and each empty one used to cost a paced arXiv query (seconds) per `/hot`.

use chrono::{DateTime, Duration, NaiveDate, Utc};

use crate::store::{MailingRecord, MailingSource};

use super::{App, AppError};

/// An empty answer given this long after the mailing's announcement is final: arXiv's API has
/// caught up by then, so the mailing has no papers (for the configured categories).
pub(super) const EMPTY_IS_FINAL_AFTER: Duration = Duration::hours(24);

/// An earlier empty answer (the API may still be catching up) is asked again after this long.
pub(super) const EMPTY_RECHECK: Duration = Duration::hours(1);

impl App {
    /// Whether mailing `date` needs fetching: not recorded, or recorded empty by an answer
    /// that may not be final yet and is older than [`EMPTY_RECHECK`].
    pub(super) async fn mailing_needs_fetch(&self, date: NaiveDate) -> Result<bool, AppError> {
        let Some(known) = self.store.mailing(date).await? else {
            return Ok(true);
        };
        if known.paper_count > 0 {
            return Ok(false);
        }
        let announced = self.calendar.mailing(date)?.announced_at;
        Ok(empty_needs_recheck(&known, announced, self.clock.now()))
    }

    /// Records that arXiv's API had no papers for mailing `date` (its window) just now.
    pub(super) async fn record_empty(
        &self,
        date: NaiveDate,
        window_start: DateTime<Utc>,
        window_end: DateTime<Utc>,
    ) -> Result<(), AppError> {
        let record = MailingRecord {
            date,
            window_start,
            window_end,
            source: MailingSource::Api,
            ingested_at: self.clock.now(),
            paper_count: 0,
        };
        self.store.record_empty_mailing(&record).await?;
        Ok(())
    }
}

/// Whether a mailing recorded empty (its last check at `known.ingested_at`) should be asked
/// again at `now`.
fn empty_needs_recheck(
    known: &MailingRecord,
    announced_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> bool {
    let checked = known.ingested_at;
    let is_final = checked >= announced_at + EMPTY_IS_FINAL_AFTER;
    !is_final && now - checked >= EMPTY_RECHECK
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn empty_answers_are_rechecked_hourly_until_a_day_after_announcement() {
        let announced = Utc.with_ymd_and_hms(2021, 7, 2, 0, 0, 0).unwrap();
        let h = |n: i64| announced + Duration::hours(n);
        let at = |checked| MailingRecord {
            date: NaiveDate::from_ymd_opt(2021, 7, 2).unwrap(),
            window_start: h(-30),
            window_end: h(-6),
            source: MailingSource::Api,
            ingested_at: checked,
            paper_count: 0,
        };
        assert!(!empty_needs_recheck(
            &at(h(1)),
            announced,
            h(1) + Duration::minutes(59)
        ));
        assert!(empty_needs_recheck(&at(h(1)), announced, h(2)));
        assert!(empty_needs_recheck(&at(h(23)), announced, h(30)));
        assert!(!empty_needs_recheck(&at(h(24)), announced, h(24 * 365)));
    }
}
