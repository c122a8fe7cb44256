//! The arXiv mailing calendar. SKELETON.

use chrono::{DateTime, NaiveDate, Utc};

/// One arXiv mailing, named by its listing date.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mailing {
    /// arXiv's listing date D ("New submissions for Fri, 2 Jul 21" is 2021-07-02).
    pub date: NaiveDate,
    /// First instant of the submission window (inclusive).
    pub window_start: DateTime<Utc>,
    /// End of the submission window (exclusive): the 14:00 America/New_York cutoff.
    pub window_end: DateTime<Utc>,
    /// When arXiv announces it: 20:00 America/New_York on the evening before `date`.
    pub announced_at: DateTime<Utc>,
}

/// Which dates have mailings.
#[derive(Clone, Debug, Default)]
pub struct MailingCalendar {}
