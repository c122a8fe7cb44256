//! The arXiv mailing calendar: which listing dates have a mailing, which submissions each one
//! holds, and when it is announced.
//!
//! # The model
//!
//! A digest is for one arXiv *mailing*, named by arXiv's listing date D ("New submissions for
//! Fri, 2 Jul 21" is D = 2021-07-02). arXiv freezes submissions at 14:00 America/New_York on
//! working days and announces at 20:00 the same evening (a Friday freeze is announced on
//! Sunday); the listing carries the next calendar date. In terms of D:
//!
//! * `window_end(D)` is 14:00 ET on the last weekday (Mon–Fri) strictly before D;
//! * `window_start(D)` is `window_end(P)`, where P is the previous actual mailing (skipping
//!   weekends and holidays), so the submissions of a skipped mailing roll into the next one;
//! * `announced_at(D)` is 20:00 ET on the calendar day before D.
//!
//! So Friday's mailing holds Wed 14:00 → Thu 14:00 ET, Monday's Thu → Fri, Tuesday's
//! Fri → Mon, Wednesday's Mon → Tue and Thursday's Tue → Wed. All instants are computed with
//! the `America/New_York` rules of chrono-tz, so 14:00 ET is 18:00 UTC in summer and 19:00 UTC
//! in winter, and windows that straddle a DST change are 71 or 73 hours long, not 72.
//!
//! # Holidays are listing dates
//!
//! [`MailingCalendar`] takes holidays as *listing dates with no mailing*. arXiv publishes its
//! holidays as a different kind of date; [`listing_date_for_arxiv_holiday`] converts, and
//! [`default_holidays`] documents the evidence and holds the converted 2025–2026 schedule.
//!
//! # Robustness
//!
//! Every search over dates is bounded by [`SEARCH_LIMIT_DAYS`]: a configuration in which every
//! weekday is a holiday cannot hang a caller. Arithmetic at the ends of chrono's date range
//! saturates instead of panicking. No function in this module can panic or loop forever.

use std::collections::BTreeSet;
use std::fmt;

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, Offset, TimeZone, Utc, Weekday};
use chrono_tz::America::New_York;

/// How many days a search for the previous or next mailing walks before giving up.
///
/// arXiv's longest real gap between mailings is a few days (a long weekend plus a winter
/// break); 60 days is far beyond any sane holiday schedule. When every weekday within this
/// horizon is a holiday, the calendar treats the configuration as broken and answers as if
/// there were no holidays, rather than failing or searching further: see
/// [`MailingCalendar::previous_mailing_date`].
pub const SEARCH_LIMIT_DAYS: u32 = 60;

/// arXiv's daily submission deadline ("freeze"), America/New_York local time.
const CUTOFF: NaiveTime = match NaiveTime::from_hms_opt(14, 0, 0) {
    Some(t) => t,
    None => panic!("14:00 is a valid time"),
};

/// arXiv's announcement time, America/New_York local time.
const ANNOUNCEMENT: NaiveTime = match NaiveTime::from_hms_opt(20, 0, 0) {
    Some(t) => t,
    None => panic!("20:00 is a valid time"),
};

/// arXiv's first listing date: hep-th's first mailing, Wednesday 14 August 1991. No mailing,
/// and no digest, is older.
pub const FIRST_LISTING_DATE: NaiveDate = match NaiveDate::from_ymd_opt(1991, 8, 14) {
    Some(d) => d,
    None => panic!("1991-08-14 is a valid date"),
};

/// A listing date outside what arXiv can have: before its first mailing, or after tomorrow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DateOutOfRange {
    /// Before [`FIRST_LISTING_DATE`].
    #[error("{0} is before arXiv's first mailing (1991-08-14)")]
    TooEarly(NaiveDate),
    /// After tomorrow (UTC): no mailing that far ahead is announced.
    #[error("the mailing of {date} is not out yet: listing dates go up to {latest} (tomorrow)")]
    TooLate {
        /// The date asked for.
        date: NaiveDate,
        /// Tomorrow's date (UTC), the latest accepted.
        latest: NaiveDate,
    },
}

/// Checks that `date` can be an arXiv listing date as of `now`: from [`FIRST_LISTING_DATE`]
/// to tomorrow (UTC). Whether it has a mailing, and whether that is announced yet, are
/// [`MailingCalendar::mailing`]'s and the caller's questions.
pub fn check_listing_date(date: NaiveDate, now: DateTime<Utc>) -> Result<(), DateOutOfRange> {
    if date < FIRST_LISTING_DATE {
        return Err(DateOutOfRange::TooEarly(date));
    }
    let today = now.date_naive();
    let latest = today.succ_opt().unwrap_or(today);
    if date > latest {
        return Err(DateOutOfRange::TooLate { date, latest });
    }
    Ok(())
}

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

impl Mailing {
    /// Whether a v1 submitted at `submitted` belongs to this mailing
    /// (`window_start <= submitted < window_end`).
    ///
    /// Used to decide which digest a paper found through the API belongs to: the API reports
    /// the submission instant, not the listing date.
    pub fn contains(&self, submitted: DateTime<Utc>) -> bool {
        self.window_start <= submitted && submitted < self.window_end
    }
}

/// Why a date has no mailing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NoMailingReason {
    /// arXiv never lists on Saturdays or Sundays.
    Weekend,
    /// The date is a configured holiday (a listing date arXiv skips).
    Holiday,
}

impl fmt::Display for NoMailingReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NoMailingReason::Weekend => "weekend",
            NoMailingReason::Holiday => "holiday",
        })
    }
}

/// A digest was requested for a date on which arXiv has no mailing.
///
/// Carries the nearest earlier mailing so that front ends can offer it instead of a bare
/// refusal ("no mailing on Saturday; did you mean Friday's?").
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "no arXiv mailing on {} ({reason}); the nearest earlier mailing is {nearest_earlier}",
    .date.format("%a %Y-%m-%d")
)]
pub struct NoMailing {
    /// The date that was asked for.
    pub date: NaiveDate,
    /// Why it has no mailing.
    pub reason: NoMailingReason,
    /// The closest listing date before `date` that does have a mailing.
    pub nearest_earlier: NaiveDate,
}

/// Which dates have mailings, and the submission window and announcement time of each.
///
/// Cheap to clone; holds only the configured holidays (listing dates with no mailing). The
/// [`Default`] calendar has no holidays.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MailingCalendar {
    holidays: BTreeSet<NaiveDate>,
}

impl MailingCalendar {
    /// A calendar with the given holidays, which are *listing* dates with no mailing (see
    /// [`listing_date_for_arxiv_holiday`] to convert arXiv's published dates).
    ///
    /// Duplicates are harmless, and holidays on a Saturday or Sunday change nothing.
    pub fn new(holidays: impl IntoIterator<Item = NaiveDate>) -> Self {
        MailingCalendar {
            holidays: holidays.into_iter().collect(),
        }
    }

    /// The configured holidays in ascending order (for display and diagnostics).
    pub fn holidays(&self) -> impl Iterator<Item = NaiveDate> + '_ {
        self.holidays.iter().copied()
    }

    /// Whether arXiv has a mailing listed on `date`: a weekday that is not a holiday.
    pub fn is_mailing(&self, date: NaiveDate) -> bool {
        is_weekday(date) && !self.holidays.contains(&date)
    }

    /// The mailing listed on `date`, or why there is none.
    ///
    /// # Errors
    ///
    /// [`NoMailing`] when `date` is a weekend day or a holiday; it names the nearest earlier
    /// mailing.
    pub fn mailing(&self, date: NaiveDate) -> Result<Mailing, NoMailing> {
        if self.is_mailing(date) {
            return Ok(self.build(date));
        }
        let reason = if is_weekday(date) {
            NoMailingReason::Holiday
        } else {
            NoMailingReason::Weekend
        };
        Err(NoMailing {
            date,
            reason,
            nearest_earlier: self.previous_mailing_date(date),
        })
    }

    /// The latest mailing date strictly before `date`.
    ///
    /// The search is bounded by [`SEARCH_LIMIT_DAYS`]. If every weekday within that horizon
    /// is a holiday (a broken configuration), the answer is the latest weekday before `date`,
    /// as if there were no holidays, so callers always make progress. At the very start of
    /// chrono's date range, where no earlier date exists, `date` itself is returned.
    pub fn previous_mailing_date(&self, date: NaiveDate) -> NaiveDate {
        self.find(date, Direction::Back)
            .unwrap_or_else(|| previous_weekday(date))
    }

    /// The earliest mailing date strictly after `date`.
    ///
    /// Bounded like [`previous_mailing_date`](Self::previous_mailing_date): with a broken
    /// all-holiday configuration it answers with the next weekday, and at the very end of
    /// chrono's date range it returns `date` itself.
    pub fn next_mailing_date(&self, date: NaiveDate) -> NaiveDate {
        self.find(date, Direction::Forward)
            .unwrap_or_else(|| next_weekday(date))
    }

    /// The newest mailing whose announcement (`announced_at`) is at or before `now`: what
    /// arXiv's "new" listings show at that instant, and therefore the digest to build "today".
    ///
    /// With a broken all-holiday configuration (see [`SEARCH_LIMIT_DAYS`]) the answer is the
    /// one a calendar without holidays would give.
    pub fn latest_announced(&self, now: DateTime<Utc>) -> Mailing {
        let date = self
            .latest_announced_date(now)
            .or_else(|| MailingCalendar::default().latest_announced_date(now))
            .unwrap_or_else(|| et_date(now));
        self.build(date)
    }

    /// The end of listing day `date` in America/New_York (midnight after it), as a UTC
    /// instant: "as of `date`" for views that age papers (the trending view).
    pub fn end_of_listing_day(&self, date: NaiveDate) -> DateTime<Utc> {
        et_instant(date.succ_opt().unwrap_or(date), NaiveTime::MIN)
    }

    /// The mailing in which a v1 submitted at `submitted` is listed: the first mailing whose
    /// window ends after that instant. A submission made during a skipped mailing's window
    /// lands in the next actual mailing.
    ///
    /// With a broken all-holiday configuration (see [`SEARCH_LIMIT_DAYS`]) the answer is the
    /// one a calendar without holidays would give; its window still contains `submitted`.
    pub fn mailing_for_submission(&self, submitted: DateTime<Utc>) -> Mailing {
        // The first cutoff strictly after `submitted` falls on weekday `freeze`; the listing
        // fed by that cutoff is the next weekday.
        let day = et_date(submitted);
        let freeze = if is_weekday(day) && submitted < et_instant(day, CUTOFF) {
            day
        } else {
            next_weekday(day)
        };
        let listing = next_weekday(freeze);
        let date = if self.is_mailing(listing) {
            listing
        } else {
            self.find(listing, Direction::Forward).unwrap_or(listing)
        };
        self.build(date)
    }

    fn latest_announced_date(&self, now: DateTime<Utc>) -> Option<NaiveDate> {
        // The mailing announced this evening (ET) is listed tomorrow; every earlier mailing
        // was announced on an earlier evening, which is necessarily before `now`.
        let today = et_date(now);
        match today.succ_opt() {
            Some(tomorrow) if self.is_mailing(tomorrow) && announced_at(tomorrow) <= now => {
                Some(tomorrow)
            }
            Some(tomorrow) => self.find(tomorrow, Direction::Back),
            None if self.is_mailing(today) => Some(today),
            None => self.find(today, Direction::Back),
        }
    }

    /// Builds the mailing listed on `date` without checking that it is a mailing date.
    fn build(&self, date: NaiveDate) -> Mailing {
        Mailing {
            date,
            window_start: window_end(self.previous_mailing_date(date)),
            window_end: window_end(date),
            announced_at: announced_at(date),
        }
    }

    /// The nearest mailing date strictly before or after `from`, if one lies within
    /// [`SEARCH_LIMIT_DAYS`] (and within chrono's date range).
    fn find(&self, from: NaiveDate, direction: Direction) -> Option<NaiveDate> {
        let mut day = from;
        for _ in 0..SEARCH_LIMIT_DAYS {
            day = direction.step(day)?;
            if self.is_mailing(day) {
                return Some(day);
            }
        }
        None
    }
}

/// arXiv's published holiday schedule for 2025 and 2026, converted to listing dates with no
/// mailing. This is the default of the `arxiv.holidays` configuration key.
///
/// # What arXiv's dates mean (evidence)
///
/// arXiv publishes holidays on <https://info.arxiv.org/help/availability.html> ("On Deferred
/// Mailings"). Those dates are neither listing days nor, strictly, announcement days: they are
/// **days with no 14:00 freeze and no 20:00 announcement run** in America/New_York.
///
/// * arXiv's own scheduling code, `arXiv/arxiv-base` `arxiv/schedule/holidays.py` and
///   `arxiv/submission/arxiv_localtime.py` (2026, ports of the Perl `arXiv::Config::Holidays`):
///   each row of the `arXiv_holidays` table, column `freeze_skip_date`, is "a date in
///   America/New_York on which no freeze and no announcement run". `is_publish_day` says
///   Mon–Thu publish unless they are a holiday, Fri/Sat never publish, and "Sun: a publish day
///   only if the preceding Friday was not a holiday".
/// * The table's seed, `arxiv_holidays_seed.sql` (copied from Perl `@HOLIDAYS`, 2026-05),
///   lists 2025-01-01, 01-20, 06-19, 07-04, 07-06, 09-01, 11-27, 12-25, 12-30 and 2026-01-01,
///   01-19, 06-19, 07-03, 09-07, 11-26, 12-25, 12-29, 12-31. The 2026 dates match the help
///   page and `notes/sources.md` §1.4 exactly; the help page's 2025 list showed "Sun 6 July",
///   which can only be an announcement day, never a listing day.
/// * Cross-check, Labor Day 2025 (freeze skipped Mon 2025-09-01): DataCite shows 2,566 arXiv
///   DOIs created on 2025-09-03 UTC, including papers submitted up to Tue 13:44 ET, i.e. one
///   merged Fri 14:00 → Tue 14:00 mailing listed Wed 2025-09-03 and none listed Tue 09-02.
///
/// # Conversion
///
/// A freeze-skip date H removes the mailing fed by H's freeze, which is listed on the next
/// weekday: H + 1 for Mon–Thu, the following Monday for a Friday (arXiv skips that Sunday's
/// announcement). A weekend H changes nothing. See [`listing_date_for_arxiv_holiday`].
pub fn default_holidays() -> Vec<NaiveDate> {
    /// arXiv's freeze-skip dates, verbatim from `arxiv_holidays_seed.sql`.
    const ARXIV_FREEZE_SKIP_DATES: [(i32, u32, u32); 18] = [
        (2025, 1, 1),
        (2025, 1, 20),
        (2025, 6, 19),
        (2025, 7, 4),
        (2025, 7, 6),
        (2025, 9, 1),
        (2025, 11, 27),
        (2025, 12, 25),
        (2025, 12, 30),
        (2026, 1, 1),
        (2026, 1, 19),
        (2026, 6, 19),
        (2026, 7, 3),
        (2026, 9, 7),
        (2026, 11, 26),
        (2026, 12, 25),
        (2026, 12, 29),
        (2026, 12, 31),
    ];
    let listing: BTreeSet<NaiveDate> = ARXIV_FREEZE_SKIP_DATES
        .iter()
        .filter_map(|&(y, m, d)| NaiveDate::from_ymd_opt(y, m, d))
        .filter_map(listing_date_for_arxiv_holiday)
        .collect();
    listing.into_iter().collect()
}

/// Converts one of arXiv's published holiday dates (a day with no 14:00 freeze and no 20:00
/// announcement, see [`default_holidays`]) to the listing date that has no mailing because of
/// it: the next weekday. Returns `None` for a Saturday or Sunday, which affects no mailing,
/// and at the end of chrono's date range.
///
/// Lets operators copy arXiv's list into the configuration without converting by hand.
pub fn listing_date_for_arxiv_holiday(freeze_skip: NaiveDate) -> Option<NaiveDate> {
    if !is_weekday(freeze_skip) {
        return None;
    }
    let next = next_weekday(freeze_skip);
    (next > freeze_skip).then_some(next)
}

#[derive(Clone, Copy)]
enum Direction {
    Back,
    Forward,
}

impl Direction {
    fn step(self, day: NaiveDate) -> Option<NaiveDate> {
        match self {
            Direction::Back => day.pred_opt(),
            Direction::Forward => day.succ_opt(),
        }
    }
}

fn is_weekday(date: NaiveDate) -> bool {
    !matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

/// The last weekday strictly before `date` (saturating at chrono's minimum date).
fn previous_weekday(date: NaiveDate) -> NaiveDate {
    let mut day = date;
    for _ in 0..3 {
        match day.pred_opt() {
            Some(prev) => day = prev,
            None => return day,
        }
        if is_weekday(day) {
            return day;
        }
    }
    day
}

/// The first weekday strictly after `date` (saturating at chrono's maximum date).
fn next_weekday(date: NaiveDate) -> NaiveDate {
    let mut day = date;
    for _ in 0..3 {
        match day.succ_opt() {
            Some(next) => day = next,
            None => return day,
        }
        if is_weekday(day) {
            return day;
        }
    }
    day
}

/// End of the submission window of the mailing listed on `date`.
fn window_end(date: NaiveDate) -> DateTime<Utc> {
    et_instant(previous_weekday(date), CUTOFF)
}

/// Announcement instant of the mailing listed on `date`.
fn announced_at(date: NaiveDate) -> DateTime<Utc> {
    et_instant(date.pred_opt().unwrap_or(date), ANNOUNCEMENT)
}

/// `time` on `date` in America/New_York, as a UTC instant.
///
/// 14:00 and 20:00 are never inside a New York DST gap or fold (those are at 02:00), so the
/// conversion is unambiguous; it can only fail by overflowing chrono's range, where the result
/// saturates.
fn et_instant(date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    let local = date.and_time(time);
    match New_York.from_local_datetime(&local).earliest() {
        Some(instant) => instant.with_timezone(&Utc),
        None if date.year() < 0 => DateTime::<Utc>::MIN_UTC,
        None => DateTime::<Utc>::MAX_UTC,
    }
}

/// The America/New_York calendar date of `instant` (the UTC date where the local date would
/// fall outside chrono's range, so this never panics).
fn et_date(instant: DateTime<Utc>) -> NaiveDate {
    let utc = instant.naive_utc();
    let offset = New_York.offset_from_utc_datetime(&utc).fix();
    utc.checked_add_offset(offset)
        .map_or(utc.date(), |local| local.date())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listing_dates_run_from_arxivs_first_mailing_to_tomorrow() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        let now = Utc.with_ymd_and_hms(2021, 7, 3, 23, 59, 0).unwrap();
        assert_eq!(check_listing_date(d(1991, 8, 14), now), Ok(()));
        assert_eq!(check_listing_date(d(2021, 7, 4), now), Ok(()));
        assert_eq!(
            check_listing_date(d(1991, 8, 13), now),
            Err(DateOutOfRange::TooEarly(d(1991, 8, 13)))
        );
        assert_eq!(
            check_listing_date(d(21, 7, 2), now),
            Err(DateOutOfRange::TooEarly(d(21, 7, 2)))
        );
        let late = check_listing_date(d(2021, 7, 5), now).unwrap_err();
        assert_eq!(
            late.to_string(),
            "the mailing of 2021-07-05 is not out yet: listing dates go up to 2021-07-04 (tomorrow)"
        );
    }
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("valid test date")
    }

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("valid RFC 3339 test instant")
            .with_timezone(&Utc)
    }

    fn plain() -> MailingCalendar {
        MailingCalendar::default()
    }

    /// (listing date, window start, window end, announced at)
    type Row = ((i32, u32, u32), &'static str, &'static str, &'static str);

    fn check_rows(cal: &MailingCalendar, rows: &[Row]) {
        for &((y, m, day), start, end, announced) in rows {
            let date = d(y, m, day);
            let mailing = cal
                .mailing(date)
                .unwrap_or_else(|e| panic!("{date} should be a mailing: {e}"));
            assert_eq!(mailing.date, date);
            assert_eq!(mailing.window_start, t(start), "window_start of {date}");
            assert_eq!(mailing.window_end, t(end), "window_end of {date}");
            assert_eq!(mailing.announced_at, t(announced), "announced_at of {date}");
        }
    }

    #[test]
    fn summer_week_windows_and_announcements() {
        check_rows(
            &plain(),
            &[
                // Fri 2021-07-02: Wed 14:00 EDT -> Thu 14:00 EDT, announced Thu 20:00 EDT.
                (
                    (2021, 7, 2),
                    "2021-06-30T18:00:00Z",
                    "2021-07-01T18:00:00Z",
                    "2021-07-02T00:00:00Z",
                ),
                // Mon 2021-07-05: Thu -> Fri, announced Sunday evening.
                (
                    (2021, 7, 5),
                    "2021-07-01T18:00:00Z",
                    "2021-07-02T18:00:00Z",
                    "2021-07-05T00:00:00Z",
                ),
                // Tue 2021-07-06: Fri -> Mon (the weekend rolls in).
                (
                    (2021, 7, 6),
                    "2021-07-02T18:00:00Z",
                    "2021-07-05T18:00:00Z",
                    "2021-07-06T00:00:00Z",
                ),
                // Wed 2021-07-07: Mon -> Tue.
                (
                    (2021, 7, 7),
                    "2021-07-05T18:00:00Z",
                    "2021-07-06T18:00:00Z",
                    "2021-07-07T00:00:00Z",
                ),
                // Thu 2021-07-08: Tue -> Wed.
                (
                    (2021, 7, 8),
                    "2021-07-06T18:00:00Z",
                    "2021-07-07T18:00:00Z",
                    "2021-07-08T00:00:00Z",
                ),
            ],
        );
    }

    #[test]
    fn winter_cutoff_is_19_utc_and_announcement_01_utc() {
        check_rows(
            &plain(),
            &[(
                (2021, 1, 14),
                "2021-01-12T19:00:00Z",
                "2021-01-13T19:00:00Z",
                "2021-01-14T01:00:00Z",
            )],
        );
    }

    #[test]
    fn spring_forward_week() {
        // DST starts Sun 2021-03-14 02:00 ET.
        check_rows(
            &plain(),
            &[
                // Mon 03-15: both cutoffs in EST; announced Sunday 20:00 EDT (first EDT evening).
                (
                    (2021, 3, 15),
                    "2021-03-11T19:00:00Z",
                    "2021-03-12T19:00:00Z",
                    "2021-03-15T00:00:00Z",
                ),
                // Tue 03-16: window crosses the change, Fri 19:00Z -> Mon 18:00Z (71 hours).
                (
                    (2021, 3, 16),
                    "2021-03-12T19:00:00Z",
                    "2021-03-15T18:00:00Z",
                    "2021-03-16T00:00:00Z",
                ),
                (
                    (2021, 3, 17),
                    "2021-03-15T18:00:00Z",
                    "2021-03-16T18:00:00Z",
                    "2021-03-17T00:00:00Z",
                ),
            ],
        );
        let m = plain().mailing(d(2021, 3, 16)).expect("Tuesday mailing");
        assert_eq!(m.window_end - m.window_start, chrono::Duration::hours(71));
    }

    #[test]
    fn fall_back_week() {
        // DST ends Sun 2021-11-07 02:00 ET.
        check_rows(
            &plain(),
            &[
                // Mon 11-08: cutoffs in EDT; announced Sunday 20:00 EST (first EST evening).
                (
                    (2021, 11, 8),
                    "2021-11-04T18:00:00Z",
                    "2021-11-05T18:00:00Z",
                    "2021-11-08T01:00:00Z",
                ),
                // Tue 11-09: Fri 18:00Z (EDT) -> Mon 19:00Z (EST), 73 hours.
                (
                    (2021, 11, 9),
                    "2021-11-05T18:00:00Z",
                    "2021-11-08T19:00:00Z",
                    "2021-11-09T01:00:00Z",
                ),
            ],
        );
        let m = plain().mailing(d(2021, 11, 9)).expect("Tuesday mailing");
        assert_eq!(m.window_end - m.window_start, chrono::Duration::hours(73));
    }

    #[test]
    fn weekend_errors_name_the_nearest_earlier_mailing() {
        let err = plain().mailing(d(2021, 7, 3)).expect_err("Saturday");
        assert_eq!(
            err,
            NoMailing {
                date: d(2021, 7, 3),
                reason: NoMailingReason::Weekend,
                nearest_earlier: d(2021, 7, 2),
            }
        );
        assert_eq!(
            err.to_string(),
            "no arXiv mailing on Sat 2021-07-03 (weekend); the nearest earlier mailing is 2021-07-02"
        );
        let sunday = plain().mailing(d(2021, 7, 4)).expect_err("Sunday");
        assert_eq!(sunday.nearest_earlier, d(2021, 7, 2));
        assert_eq!(sunday.reason, NoMailingReason::Weekend);
    }

    #[test]
    fn holiday_error_and_rollover_into_next_mailing() {
        // Thanksgiving 2025: arXiv skips the Thursday freeze, so Fri 11-28 has no listing.
        let cal = MailingCalendar::new([d(2025, 11, 28)]);
        assert!(!cal.is_mailing(d(2025, 11, 28)));
        let err = cal.mailing(d(2025, 11, 28)).expect_err("holiday");
        assert_eq!(err.reason, NoMailingReason::Holiday);
        assert_eq!(err.nearest_earlier, d(2025, 11, 27));
        assert_eq!(
            err.to_string(),
            "no arXiv mailing on Fri 2025-11-28 (holiday); the nearest earlier mailing is 2025-11-27"
        );
        check_rows(
            &cal,
            &[
                (
                    (2025, 11, 27),
                    "2025-11-25T19:00:00Z",
                    "2025-11-26T19:00:00Z",
                    "2025-11-27T01:00:00Z",
                ),
                // Monday's mailing absorbs the skipped Friday window: Wed 14:00 -> Fri 14:00.
                (
                    (2025, 12, 1),
                    "2025-11-26T19:00:00Z",
                    "2025-11-28T19:00:00Z",
                    "2025-12-01T01:00:00Z",
                ),
            ],
        );
    }

    #[test]
    fn monday_holiday_rolls_into_tuesday() {
        // Juneteenth 2026 is a Friday: arXiv skips that freeze and Sunday's announcement.
        let cal = MailingCalendar::new([d(2026, 6, 22)]);
        assert_eq!(cal.previous_mailing_date(d(2026, 6, 23)), d(2026, 6, 19));
        assert_eq!(cal.next_mailing_date(d(2026, 6, 19)), d(2026, 6, 23));
        check_rows(
            &cal,
            &[(
                (2026, 6, 23),
                "2026-06-18T18:00:00Z",
                "2026-06-22T18:00:00Z",
                "2026-06-23T00:00:00Z",
            )],
        );
    }

    #[test]
    fn consecutive_holidays_in_winter_break_2026() {
        let cal = MailingCalendar::new(default_holidays());
        for skipped in [d(2026, 12, 28), d(2026, 12, 30), d(2027, 1, 1)] {
            assert!(!cal.is_mailing(skipped), "{skipped}");
        }
        check_rows(
            &cal,
            &[
                // Tue 12-29: Thu 12-24 14:00 -> Mon 12-28 14:00 (Friday's freeze skipped).
                (
                    (2026, 12, 29),
                    "2026-12-24T19:00:00Z",
                    "2026-12-28T19:00:00Z",
                    "2026-12-29T01:00:00Z",
                ),
                // Thu 12-31: Mon -> Wed (Tuesday's freeze skipped).
                (
                    (2026, 12, 31),
                    "2026-12-28T19:00:00Z",
                    "2026-12-30T19:00:00Z",
                    "2026-12-31T01:00:00Z",
                ),
                // Mon 2027-01-04: Wed 12-30 -> Fri 01-01 (Thursday's freeze skipped).
                (
                    (2027, 1, 4),
                    "2026-12-30T19:00:00Z",
                    "2027-01-01T19:00:00Z",
                    "2027-01-04T01:00:00Z",
                ),
            ],
        );
    }

    #[test]
    fn previous_and_next_skip_weekends_and_holidays() {
        let cal = MailingCalendar::new([d(2021, 7, 5)]);
        assert_eq!(cal.previous_mailing_date(d(2021, 7, 6)), d(2021, 7, 2));
        assert_eq!(cal.next_mailing_date(d(2021, 7, 2)), d(2021, 7, 6));
        // Strictly before/after even when the input is itself a mailing.
        assert_eq!(cal.previous_mailing_date(d(2021, 7, 8)), d(2021, 7, 7));
        assert_eq!(cal.next_mailing_date(d(2021, 7, 7)), d(2021, 7, 8));
        // From a weekend day.
        assert_eq!(plain().previous_mailing_date(d(2021, 7, 4)), d(2021, 7, 2));
        assert_eq!(plain().next_mailing_date(d(2021, 7, 3)), d(2021, 7, 5));
    }

    #[test]
    fn weekend_holidays_change_nothing() {
        let cal = MailingCalendar::new([d(2021, 7, 3), d(2021, 7, 4), d(2021, 7, 3)]);
        assert_eq!(cal.mailing(d(2021, 7, 6)), plain().mailing(d(2021, 7, 6)));
        assert_eq!(
            cal.mailing(d(2021, 7, 3)).map_err(|e| e.reason),
            Err(NoMailingReason::Weekend)
        );
        assert_eq!(cal.holidays().count(), 2);
    }

    #[test]
    fn latest_announced_around_sunday_evening() {
        let cal = plain();
        // Summer: Sunday 2021-07-04 20:00 EDT = 2021-07-05T00:00Z.
        let before = cal.latest_announced(t("2021-07-04T23:59:59Z"));
        assert_eq!(before.date, d(2021, 7, 2));
        let at = cal.latest_announced(t("2021-07-05T00:00:00Z"));
        assert_eq!(at.date, d(2021, 7, 5));
        assert_eq!(at.announced_at, t("2021-07-05T00:00:00Z"));
        // Winter, on the fall-back Sunday itself: 20:00 EST = 01:00Z.
        assert_eq!(
            cal.latest_announced(t("2021-11-08T00:59:59Z")).date,
            d(2021, 11, 5)
        );
        assert_eq!(
            cal.latest_announced(t("2021-11-08T01:00:00Z")).date,
            d(2021, 11, 8)
        );
        // Friday and Saturday show Friday's listing.
        assert_eq!(
            cal.latest_announced(t("2021-07-02T12:00:00Z")).date,
            d(2021, 7, 2)
        );
        assert_eq!(
            cal.latest_announced(t("2021-07-03T23:00:00Z")).date,
            d(2021, 7, 2)
        );
        // Just after a weekday announcement.
        assert_eq!(
            cal.latest_announced(t("2021-07-07T00:00:01Z")).date,
            d(2021, 7, 7)
        );
    }

    #[test]
    fn latest_announced_skips_holidays() {
        let cal = MailingCalendar::new([d(2025, 11, 28)]);
        // Thursday 20:00 EST passes with no announcement: still Thursday's listing.
        for now in [
            "2025-11-28T01:00:00Z",
            "2025-11-28T12:00:00Z",
            "2025-12-01T00:59:59Z",
        ] {
            assert_eq!(cal.latest_announced(t(now)).date, d(2025, 11, 27), "{now}");
        }
        assert_eq!(
            cal.latest_announced(t("2025-12-01T01:00:00Z")).date,
            d(2025, 12, 1)
        );
    }

    #[test]
    fn mailing_for_submission_around_cutoffs() {
        let cal = plain();
        let cases = [
            // Thursday cutoff 2021-07-01 14:00 EDT.
            ("2021-07-01T17:59:59Z", d(2021, 7, 2)),
            ("2021-07-01T18:00:00Z", d(2021, 7, 5)),
            // Friday cutoff goes to Monday, after it to Tuesday.
            ("2021-07-02T17:59:59Z", d(2021, 7, 5)),
            ("2021-07-02T18:00:00Z", d(2021, 7, 6)),
            // Weekend submissions land on Tuesday.
            ("2021-07-03T12:00:00Z", d(2021, 7, 6)),
            ("2021-07-05T03:59:59Z", d(2021, 7, 6)), // Sunday 23:59:59 EDT
            // Winter Monday cutoff is 19:00Z.
            ("2021-11-08T18:59:59Z", d(2021, 11, 9)),
            ("2021-11-08T19:00:00Z", d(2021, 11, 10)),
            // Before midnight ET but after midnight UTC still counts as the ET day.
            ("2021-07-08T03:00:00Z", d(2021, 7, 9)), // Wed 23:00 EDT
        ];
        for (instant, expected) in cases {
            let m = cal.mailing_for_submission(t(instant));
            assert_eq!(m.date, expected, "submitted {instant}");
            assert!(m.contains(t(instant)), "{instant} in {m:?}");
        }
    }

    #[test]
    fn mailing_for_submission_rolls_over_holidays() {
        let cal = MailingCalendar::new([d(2025, 11, 28)]);
        for instant in ["2025-11-26T19:00:00Z", "2025-11-28T18:59:59Z"] {
            assert_eq!(
                cal.mailing_for_submission(t(instant)).date,
                d(2025, 12, 1),
                "{instant}"
            );
        }
        assert_eq!(
            cal.mailing_for_submission(t("2025-11-26T18:59:59Z")).date,
            d(2025, 11, 27)
        );
    }

    #[test]
    fn contains_is_half_open() {
        let m = plain().mailing(d(2021, 7, 2)).expect("Friday mailing");
        assert!(m.contains(m.window_start));
        assert!(!m.contains(m.window_start - chrono::Duration::seconds(1)));
        assert!(m.contains(m.window_end - chrono::Duration::seconds(1)));
        assert!(!m.contains(m.window_end));
    }

    #[test]
    fn default_holidays_are_the_converted_2025_2026_schedule() {
        let expected = [
            d(2025, 1, 2),
            d(2025, 1, 21),
            d(2025, 6, 20),
            d(2025, 7, 7),
            d(2025, 9, 2),
            d(2025, 11, 28),
            d(2025, 12, 26),
            d(2025, 12, 31),
            d(2026, 1, 2),
            d(2026, 1, 20),
            d(2026, 6, 22),
            d(2026, 7, 6),
            d(2026, 9, 8),
            d(2026, 11, 27),
            d(2026, 12, 28),
            d(2026, 12, 30),
            d(2027, 1, 1),
        ];
        assert_eq!(default_holidays(), expected);
        assert!(default_holidays().iter().all(|&h| is_weekday(h)));
    }

    #[test]
    fn arxiv_holiday_conversion() {
        assert_eq!(
            listing_date_for_arxiv_holiday(d(2025, 9, 1)),
            Some(d(2025, 9, 2))
        ); // Mon -> Tue
        assert_eq!(
            listing_date_for_arxiv_holiday(d(2025, 11, 27)),
            Some(d(2025, 11, 28))
        ); // Thu -> Fri
        assert_eq!(
            listing_date_for_arxiv_holiday(d(2026, 6, 19)),
            Some(d(2026, 6, 22))
        ); // Fri -> Mon
        assert_eq!(listing_date_for_arxiv_holiday(d(2025, 7, 6)), None); // Sunday
        assert_eq!(listing_date_for_arxiv_holiday(d(2025, 7, 5)), None); // Saturday
        assert_eq!(listing_date_for_arxiv_holiday(NaiveDate::MAX), None);
    }

    #[test]
    fn all_holiday_configuration_terminates_with_weekday_fallback() {
        let start = d(2020, 1, 1);
        let every_day: Vec<NaiveDate> = start.iter_days().take(400).collect();
        let cal = MailingCalendar::new(every_day);
        let mid = d(2020, 6, 10); // Wednesday
        assert_eq!(cal.previous_mailing_date(mid), d(2020, 6, 9));
        assert_eq!(cal.next_mailing_date(mid), d(2020, 6, 11));
        assert_eq!(
            cal.mailing(mid).map_err(|e| e.reason),
            Err(NoMailingReason::Holiday)
        );
        // Beyond the horizon the calendar answers as if there were no holidays.
        let now = t("2020-06-10T12:00:00Z");
        let latest = cal.latest_announced(now);
        assert_eq!(latest, plain().latest_announced(now));
        let s = cal.mailing_for_submission(now);
        assert_eq!(s, plain().mailing_for_submission(now));
        assert!(s.contains(now));
    }

    #[test]
    fn extremes_do_not_panic() {
        let cal = MailingCalendar::new([NaiveDate::MIN, NaiveDate::MAX]);
        for date in [
            NaiveDate::MIN,
            NaiveDate::MAX,
            NaiveDate::MIN.succ_opt().unwrap_or(NaiveDate::MIN),
            NaiveDate::MAX.pred_opt().unwrap_or(NaiveDate::MAX),
        ] {
            let _ = cal.is_mailing(date);
            let _ = cal.mailing(date);
            let _ = cal.previous_mailing_date(date);
            let _ = cal.next_mailing_date(date);
            let _ = plain().mailing(date);
            let _ = listing_date_for_arxiv_holiday(date);
        }
        for instant in [DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC] {
            let _ = cal.latest_announced(instant);
            let _ = cal.mailing_for_submission(instant);
            let _ = plain().latest_announced(instant);
            let _ = plain().mailing_for_submission(instant);
        }
        assert!(plain().previous_mailing_date(NaiveDate::MIN) <= NaiveDate::MIN);
        assert!(plain().next_mailing_date(NaiveDate::MAX) >= NaiveDate::MAX);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Any instant between 1995 and 2060 lands in a mailing whose window contains it, and
        /// that mailing's window meets its neighbours' exactly (no gap, no overlap), with or
        /// without random holidays nearby.
        #[test]
        fn submissions_land_in_tiling_windows(
            secs in 788_918_400i64..2_871_763_200i64,
            holiday_offsets in proptest::collection::vec(-12i64..12, 0..8),
        ) {
            let instant = DateTime::<Utc>::from_timestamp(secs, 0).expect("in range");
            let base = instant.date_naive();
            let holidays = holiday_offsets
                .iter()
                .filter_map(|&o| base.checked_add_signed(chrono::Duration::days(o)));
            let cal = MailingCalendar::new(holidays);

            let m = cal.mailing_for_submission(instant);
            prop_assert!(m.contains(instant), "{instant} not in {m:?}");
            prop_assert!(cal.is_mailing(m.date));
            prop_assert_eq!(cal.mailing(m.date), Ok(m));
            prop_assert!(m.window_start < m.window_end);
            prop_assert!(m.window_end < m.announced_at);

            let prev = cal.mailing(cal.previous_mailing_date(m.date));
            let next = cal.mailing(cal.next_mailing_date(m.date));
            prop_assert!(prev.is_ok() && next.is_ok());
            if let (Ok(prev), Ok(next)) = (prev, next) {
                prop_assert_eq!(prev.window_end, m.window_start);
                prop_assert_eq!(m.window_end, next.window_start);
                prop_assert!(!prev.contains(instant) && !next.contains(instant));
                prop_assert!(prev.announced_at < m.announced_at);
            }

            let latest = cal.latest_announced(instant);
            prop_assert!(latest.announced_at <= instant);
            prop_assert!(cal.is_mailing(latest.date));
            let after = cal.mailing(cal.next_mailing_date(latest.date));
            prop_assert!(after.map(|a| a.announced_at > instant).unwrap_or(false));
        }
    }
}
