//! What makes a request valid: who sent it, the value parsers every command shares, and the
//! one error type for bad input.
//!
//! Every front end (Discord options, console text) reaches these through a command's `parse`,
//! so a bad time, zone, category or count is rejected with the same clear message everywhere,
//! before anything runs. A request that exists is valid: the commands never re-check its
//! fields.

use chrono::{NaiveDate, NaiveTime};
use chrono_tz::Tz;

use crate::arxiv::id::IdError;
use crate::arxiv::taxonomy::{CategoryFilter, Group, UnknownCategory};

/// The most papers one `/hot` or daily post lists: Discord shows at most 25 choices and fields,
/// and more than that is no longer a "hot" list.
pub const MAX_COUNT: u8 = 25;

/// The most category filters one subscription may have.
pub const MAX_SUBSCRIPTION_CATEGORIES: usize = 20;

/// The largest Discord id (snowflake): Discord's API takes ids as signed 64-bit integers.
pub const MAX_SNOWFLAKE: u64 = i64::MAX as u64;

/// Whether `id` can be a Discord id (channel, server, webhook): a snowflake from 1 to
/// [`MAX_SNOWFLAKE`]. 0 is never an id.
pub fn is_snowflake(id: u64) -> bool {
    (1..=MAX_SNOWFLAKE).contains(&id)
}

/// How much of a rejected value an error message echoes (characters).
const ECHO_CHARS: usize = 40;

/// Who sent a request, as the front end knows it.
///
/// The console is user 0, an admin of the pseudo-server 0 ([`Invoker::console`]): whoever can
/// run the binary can already edit the database.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Invoker {
    /// The Discord user (0 for the console); recorded as a subscription's author.
    pub user_id: u64,
    /// The server the command was sent in; `None` in direct messages.
    pub guild_id: Option<u64>,
    /// Whether the user has Manage Server there. Checked by the handlers for admin commands:
    /// Discord's `default_member_permissions` only hides commands and admins can change it.
    pub can_manage_guild: bool,
}

impl Invoker {
    /// The console user: user 0, admin of the pseudo-server 0.
    pub fn console() -> Invoker {
        Invoker {
            user_id: 0,
            guild_id: Some(0),
            can_manage_guild: true,
        }
    }
}

/// Why user input is not a valid request. Every message is one line that names the offending
/// value and shows a valid example.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RequestError {
    /// A number outside its range (or not a whole number).
    #[error("{option} must be a whole number from {min} to {max}, not '{value}'")]
    OutOfRange {
        /// The option's name (`count`, `limit`).
        option: &'static str,
        /// What was given (shortened).
        value: String,
        /// The smallest accepted value.
        min: i64,
        /// The largest accepted value.
        max: i64,
    },
    /// Not a `YYYY-MM-DD` date (four-digit year, two-digit month and day).
    #[error("'{0}' is not a date; use YYYY-MM-DD, e.g. 2021-07-02")]
    BadDate(String),
    /// A date before arXiv's first mailing.
    #[error(transparent)]
    DateOutOfRange(#[from] crate::arxiv::DateOutOfRange),
    /// Not a 24-hour `HH:MM` time.
    #[error("'{0}' is not a time of day; use 24-hour HH:MM, e.g. 08:00 or 17:30")]
    BadTime(String),
    /// Not an IANA zone name; carries close names.
    #[error("unknown time zone '{value}'; {}", zone_hint(.suggestions))]
    BadTimezone {
        /// What was given (shortened).
        value: String,
        /// Up to three zone names probably meant.
        suggestions: Vec<&'static str>,
    },
    /// Not a category, archive or group; carries taxonomy suggestions.
    #[error(transparent)]
    UnknownCategory(#[from] UnknownCategory),
    /// Not one of arXiv's eight groups.
    #[error("unknown group '{0}'; groups are {groups}", groups = group_list())]
    UnknownGroup(String),
    /// A Discord option of another type than the command declares (a stale registration).
    #[error(
        "option {option} has an unexpected type; the bot's commands were probably just updated, try again in a minute"
    )]
    WrongType {
        /// The option's name.
        option: &'static str,
    },
    /// A required option was not sent.
    #[error("the {option} option is required")]
    Missing {
        /// The option's name.
        option: &'static str,
    },
    /// Text where a decimal number was expected.
    #[error("{option} must be a number, e.g. 2.5, not '{value}'")]
    NotANumber {
        /// The option's name.
        option: &'static str,
        /// What was given (shortened).
        value: String,
    },
    /// Neither `mailing` nor `trending`.
    #[error("view must be mailing or trending, not '{0}'")]
    BadView(String),
    /// Not an arXiv id or URL.
    #[error(transparent)]
    BadId(#[from] IdError),
    /// Nothing searchable (only punctuation or spaces).
    #[error("the search query needs at least one word with a letter or digit")]
    EmptyQuery,
    /// Not a valid search query (an unclosed quote, `OR` without a side, …).
    #[error(transparent)]
    BadQuery(#[from] crate::store::QueryError),
    /// Over [`MAX_QUERY_CHARS`](crate::commands::search::MAX_QUERY_CHARS) characters.
    #[error("the search query is too long ({0} characters; at most 300)")]
    QueryTooLong(usize),
    /// Not a channel id (a Discord snowflake, 1 to 2^63 - 1) or `<#id>` mention.
    #[error("'{0}' is not a channel; give its id (e.g. 123456789012345678) or <#id> mention")]
    BadChannel(String),
    /// Negative or not a finite number.
    #[error("min_score must be a number of at least 0, e.g. 2.5, not '{0}'")]
    BadMinScore(String),
    /// More than [`MAX_SUBSCRIPTION_CATEGORIES`] filters.
    #[error("a subscription takes at most 20 categories, not {0}")]
    TooManyCategories(usize),
}

fn zone_hint(suggestions: &[&str]) -> String {
    if suggestions.is_empty() {
        "use an IANA name such as Europe/Berlin, America/New_York or UTC".to_string()
    } else {
        format!("did you mean {}?", suggestions.join(", "))
    }
}

fn group_list() -> String {
    Group::ALL
        .iter()
        .map(|g| g.id())
        .collect::<Vec<_>>()
        .join(", ")
}

/// `s` trimmed, control characters blanked, shortened for an error message.
pub(crate) fn echo(s: &str) -> String {
    let t = s.trim();
    let mut out: String = t
        .chars()
        .take(ECHO_CHARS)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if t.chars().nth(ECHO_CHARS).is_some() {
        out.push('…');
    }
    out
}

/// A paper count, 1..=25.
pub fn parse_count(option: &'static str, value: i64) -> Result<u8, RequestError> {
    parse_bounded(option, value, 1, MAX_COUNT)
}

pub(crate) fn parse_bounded(
    option: &'static str,
    value: i64,
    min: u8,
    max: u8,
) -> Result<u8, RequestError> {
    u8::try_from(value)
        .ok()
        .filter(|v| (min..=max).contains(v))
        .ok_or(RequestError::OutOfRange {
            option,
            value: value.to_string(),
            min: i64::from(min),
            max: i64::from(max),
        })
}

/// A listing date, exactly `YYYY-MM-DD` (a four-digit year: `21-07-02` is not the year 21),
/// not before arXiv's first mailing (1991-08-14). Whether it is after tomorrow depends on
/// the clock, which the app checks (`DateOutOfRange::TooLate`).
pub fn parse_date(s: &str) -> Result<NaiveDate, RequestError> {
    let t = s.trim();
    let shaped = t.len() == 10
        && t.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            _ => b.is_ascii_digit(),
        });
    if !shaped {
        return Err(RequestError::BadDate(echo(s)));
    }
    let date =
        NaiveDate::parse_from_str(t, "%Y-%m-%d").map_err(|_| RequestError::BadDate(echo(s)))?;
    if date < crate::arxiv::calendar::FIRST_LISTING_DATE {
        return Err(crate::arxiv::DateOutOfRange::TooEarly(date).into());
    }
    Ok(date)
}

/// A 24-hour time of day, `H:MM` or `HH:MM`.
pub fn parse_time(s: &str) -> Result<NaiveTime, RequestError> {
    let bad = || RequestError::BadTime(echo(s));
    let (h, m) = s.trim().split_once(':').ok_or_else(bad)?;
    let digits = |p: &str, max_len: usize| {
        !p.is_empty() && p.len() <= max_len && p.bytes().all(|b| b.is_ascii_digit())
    };
    if !digits(h, 2) || !digits(m, 2) || m.len() != 2 {
        return Err(bad());
    }
    let hour: u32 = h.parse().map_err(|_| bad())?;
    let minute: u32 = m.parse().map_err(|_| bad())?;
    NaiveTime::from_hms_opt(hour, minute, 0).ok_or_else(bad)
}

/// An IANA time zone name. Case does not matter (`europe/berlin`); close names are suggested
/// for anything else (`Berlin` → `Europe/Berlin`).
pub fn parse_timezone(s: &str) -> Result<Tz, RequestError> {
    let t = s.trim();
    if let Ok(tz) = t.parse::<Tz>() {
        return Ok(tz);
    }
    if let Some(tz) = chrono_tz::TZ_VARIANTS
        .iter()
        .find(|z| z.name().eq_ignore_ascii_case(t))
    {
        return Ok(*tz);
    }
    Err(RequestError::BadTimezone {
        value: echo(s),
        suggestions: suggest_zones(t),
    })
}

/// Up to three zone names whose city part matches what was typed (`new york`, `Berlin`), or
/// that contain it.
fn suggest_zones(input: &str) -> Vec<&'static str> {
    let wanted = input
        .rsplit('/')
        .next()
        .unwrap_or(input)
        .trim()
        .replace(' ', "_")
        .to_ascii_lowercase();
    if wanted.chars().count() < 3 || wanted.len() > 64 {
        return Vec::new();
    }
    let names = || chrono_tz::TZ_VARIANTS.iter().map(|z| z.name());
    let city = |n: &str| n.rsplit('/').next().unwrap_or(n).to_ascii_lowercase();
    let mut out: Vec<&'static str> = names().filter(|n| city(n) == wanted).collect();
    if out.is_empty() {
        out = names()
            .filter(|n| n.to_ascii_lowercase().contains(&wanted))
            .collect();
    }
    // Prefer the canonical Area/City names over legacy aliases (US/Eastern, Etc/...).
    out.sort_by_key(|n| {
        (
            !n.contains('/') || n.starts_with("Etc/") || n.starts_with("US/"),
            *n,
        )
    });
    out.truncate(3);
    out
}

/// One category filter (a category, archive or group), in canonical spelling.
pub fn parse_category(s: &str) -> Result<String, RequestError> {
    Ok(CategoryFilter::parse(s)?.to_string())
}

/// A comma- or space-separated list of category filters, canonical and deduplicated.
pub fn parse_categories(s: &str) -> Result<Vec<String>, RequestError> {
    let mut out: Vec<String> = Vec::new();
    let items: Vec<&str> = s
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|p| !p.is_empty())
        .collect();
    if items.len() > MAX_SUBSCRIPTION_CATEGORIES {
        return Err(RequestError::TooManyCategories(items.len()));
    }
    for item in items {
        let c = parse_category(item)?;
        if !out.contains(&c) {
            out.push(c);
        }
    }
    Ok(out)
}

/// A top-level group id (`cs`, `physics`, `q-bio`, ...), case-insensitively.
pub fn parse_group(s: &str) -> Result<Group, RequestError> {
    Group::from_id(s.trim()).ok_or_else(|| RequestError::UnknownGroup(echo(s)))
}

/// A channel as typed in text: its id, or Discord's `<#id>` mention form; a valid snowflake
/// ([`is_snowflake`]: not 0, not over 2^63 - 1).
pub fn parse_channel(s: &str) -> Result<u64, RequestError> {
    let t = s.trim();
    let inner = t
        .strip_prefix("<#")
        .and_then(|r| r.strip_suffix('>'))
        .or_else(|| t.strip_prefix('#'))
        .unwrap_or(t);
    if inner.is_empty() || !inner.bytes().all(|b| b.is_ascii_digit()) {
        return Err(RequestError::BadChannel(echo(s)));
    }
    inner
        .parse::<u64>()
        .ok()
        .filter(|id| is_snowflake(*id))
        .ok_or_else(|| RequestError::BadChannel(echo(s)))
}

/// A channel Discord's client picked (an id already): refused unless a valid snowflake.
pub fn check_channel(id: u64) -> Result<u64, RequestError> {
    if is_snowflake(id) {
        Ok(id)
    } else {
        Err(RequestError::BadChannel(id.to_string()))
    }
}

/// A minimum score: finite and at least 0.
pub fn parse_min_score(value: f64) -> Result<f64, RequestError> {
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(RequestError::BadMinScore(value.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_bounded() {
        assert_eq!(parse_count("count", 1), Ok(1));
        assert_eq!(parse_count("count", 25), Ok(25));
        for bad in [0, 26, -1, i64::MAX, i64::MIN, 256] {
            let e = parse_count("count", bad).unwrap_err().to_string();
            assert!(
                e.contains("from 1 to 25") && e.contains(&bad.to_string()),
                "{e}"
            );
        }
    }

    #[test]
    fn times_are_24_hour_minutes() {
        let t = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap();
        assert_eq!(parse_time("08:00"), Ok(t(8, 0)));
        assert_eq!(parse_time("8:05"), Ok(t(8, 5)));
        assert_eq!(parse_time(" 23:59 "), Ok(t(23, 59)));
        assert_eq!(parse_time("00:00"), Ok(t(0, 0)));
        for bad in [
            "25:00",
            "24:00",
            "12:60",
            "8",
            "8:5",
            "08:00:00",
            "-1:00",
            "+8:00",
            "8am",
            "",
            ":",
            "08:",
            "١٢:٠٠",
            "0800",
        ] {
            let e = parse_time(bad).unwrap_err().to_string();
            assert!(
                e.contains(bad.trim()) && e.contains("e.g. 08:00"),
                "{bad}: {e}"
            );
        }
    }

    #[test]
    fn time_zones_are_iana_names_with_suggestions() {
        assert_eq!(
            parse_timezone("Europe/Berlin"),
            Ok(chrono_tz::Europe::Berlin)
        );
        assert_eq!(
            parse_timezone("europe/berlin"),
            Ok(chrono_tz::Europe::Berlin)
        );
        assert_eq!(parse_timezone(" UTC "), Ok(chrono_tz::UTC));
        let e = parse_timezone("Mars/Olympus").unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("'Mars/Olympus'") && msg.contains("Europe/Berlin"),
            "{msg}"
        );
        let e = parse_timezone("Berlin").unwrap_err();
        assert_eq!(
            e,
            RequestError::BadTimezone {
                value: "Berlin".into(),
                suggestions: vec!["Europe/Berlin"]
            }
        );
        assert!(e.to_string().contains("did you mean Europe/Berlin?"), "{e}");
        let e = parse_timezone("new york").unwrap_err();
        assert!(e.to_string().contains("America/New_York"), "{e}");
        // Hostile input stays one short line.
        let long = format!("{}\n{}", "x".repeat(500), "y");
        let msg = parse_timezone(&long).unwrap_err().to_string();
        assert!(!msg.contains('\n') && msg.len() < 200, "{msg}");
    }

    #[test]
    fn categories_are_canonical_with_suggestions() {
        assert_eq!(parse_category("cs.lg"), Ok("cs.LG".into()));
        assert_eq!(parse_category("cs.SY"), Ok("cs.SY".into()));
        assert_eq!(
            parse_categories("cs.LG, cs.CV cs.lg,,"),
            Ok(vec!["cs.LG".into(), "cs.CV".into()])
        );
        assert_eq!(parse_categories(""), Ok(vec![]));
        let e = parse_category("cs.LGG").unwrap_err().to_string();
        assert!(e.contains("cs.LGG") && e.contains("cs.LG"), "{e}");
        let many = vec!["cs.LG"; 21].join(",");
        assert_eq!(
            parse_categories(&many),
            Err(RequestError::TooManyCategories(21))
        );
    }

    #[test]
    fn dates_views_groups_channels_scores() {
        assert_eq!(
            parse_date("2021-07-02"),
            Ok(NaiveDate::from_ymd_opt(2021, 7, 2).unwrap())
        );
        assert!(
            parse_date("2021-02-30")
                .unwrap_err()
                .to_string()
                .contains("YYYY-MM-DD")
        );
        assert_eq!(
            parse_date(" 1991-08-14 "),
            Ok(NaiveDate::from_ymd_opt(1991, 8, 14).unwrap())
        );
        // Four-digit years, two-digit months and days: "21-07-02" is not the year 21.
        for bad in [
            "21-07-02",
            "021-07-02",
            "2021-7-2",
            "+2021-07-02",
            "20210702",
            "2021-07-02x",
        ] {
            assert_eq!(
                parse_date(bad),
                Err(RequestError::BadDate(bad.into())),
                "{bad}"
            );
        }
        for early in ["1000-01-01", "0021-07-02", "1991-08-13"] {
            let e = parse_date(early).unwrap_err().to_string();
            assert!(e.contains(early) && e.contains("1991-08-14"), "{e}");
        }
        assert_eq!(parse_group("q-bio"), Ok(Group::QBio));
        let e = parse_group("biology").unwrap_err().to_string();
        assert!(
            e.contains("biology") && e.contains("physics, math, cs"),
            "{e}"
        );
        assert_eq!(
            parse_channel("123456789012345678"),
            Ok(123_456_789_012_345_678)
        );
        assert_eq!(parse_channel("<#42>"), Ok(42));
        assert_eq!(parse_channel("#42"), Ok(42));
        assert_eq!(
            parse_channel("9223372036854775807"),
            Ok(9_223_372_036_854_775_807)
        );
        for bad in [
            "",
            "general",
            "<#>",
            "-5",
            "99999999999999999999",
            "<@42>",
            "0",
            "<#0>",
            "#000",
            "9223372036854775808",
        ] {
            assert!(
                matches!(parse_channel(bad), Err(RequestError::BadChannel(_))),
                "{bad}"
            );
        }
        assert_eq!(check_channel(42), Ok(42));
        for bad in [0, 9_223_372_036_854_775_808, u64::MAX] {
            assert_eq!(
                check_channel(bad),
                Err(RequestError::BadChannel(bad.to_string()))
            );
        }
        assert_eq!(parse_min_score(2.5), Ok(2.5));
        for bad in [-0.1, f64::NAN, f64::INFINITY] {
            assert!(parse_min_score(bad).is_err());
        }
    }
}
