//! Completions offered while a user types an option: categories and time zones.
//!
//! Platform-neutral: an option's spec names its [`Completion`], and a front end asks
//! [`choices`] for what to offer (Discord's autocomplete today). Every value offered parses
//! with the option's own validator, so picking a completion never yields an error.

use chrono::{DateTime, Utc};

use crate::arxiv::taxonomy::{self, CategoryFilter, Group};

use super::request;
use super::spec::Completion;

/// The most completions offered at once (Discord's limit).
pub const MAX_CHOICES: usize = 25;

/// The longest completion label or value (Discord's limit).
pub const CHOICE_TEXT: usize = 100;

/// `(label, value)` completions of `input` for an option completed as `kind`.
pub fn choices(kind: Completion, input: &str, now: DateTime<Utc>) -> Vec<(String, String)> {
    match kind {
        Completion::Category => category_choices(input),
        Completion::CategoryList => categories_choices(input),
        Completion::Timezone => timezone_choices(input, now),
    }
}

/// Time zones most users want, offered first by the timezone autocomplete.
const COMMON_ZONES: &[&str] = &[
    "UTC",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Toronto",
    "America/Sao_Paulo",
    "Europe/London",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Amsterdam",
    "Europe/Zurich",
    "Europe/Madrid",
    "Europe/Rome",
    "Europe/Stockholm",
    "Europe/Moscow",
    "Asia/Jerusalem",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Shanghai",
    "Asia/Hong_Kong",
    "Asia/Seoul",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Pacific/Auckland",
];

/// A choice `(name, value)` with the name cut to [`CHOICE_TEXT`] characters.
fn choice(name: String, value: String) -> (String, String) {
    if name.chars().count() <= CHOICE_TEXT {
        return (name, value);
    }
    let mut cut: String = name.chars().take(CHOICE_TEXT - 1).collect();
    cut.push('…');
    (cut, value)
}

/// Category autocomplete: groups and archives whose id starts with the input (`cs`, `math.*`),
/// then categories by [`taxonomy::search`] (id prefix, subject class, name words). Every value
/// parses with [`request::parse_category`].
pub fn category_choices(input: &str) -> Vec<(String, String)> {
    let q = input.trim();
    if q.chars().count() > 64 {
        return Vec::new();
    }
    let lower = q.to_ascii_lowercase();
    let mut out: Vec<(String, String)> = Vec::new();
    let push = |out: &mut Vec<(String, String)>, name: String, value: String| {
        if out.len() < MAX_CHOICES
            && value.chars().count() <= CHOICE_TEXT
            && !out.iter().any(|(_, v)| *v == value)
        {
            out.push(choice(name, value));
        }
    };
    if !lower.contains('.') || lower.ends_with(".*") || lower.ends_with('.') {
        let stem = lower.trim_end_matches('*').trim_end_matches('.');
        for g in Group::ALL {
            if g.id().starts_with(stem) {
                push(
                    &mut out,
                    format!("{} — all of {}", g.id(), g.name()),
                    g.id().to_string(),
                );
            }
        }
        for a in taxonomy::archives() {
            if !a.starts_with(stem) {
                continue;
            }
            let Ok(filter) = CategoryFilter::parse(&format!("{a}.*")) else {
                continue;
            };
            let value = filter.to_string();
            push(&mut out, format!("{value} — every {a} category"), value);
        }
    }
    for c in taxonomy::search(q, MAX_CHOICES) {
        let Ok(value) = request::parse_category(c.id) else {
            continue;
        };
        let note = if c.active { "" } else { " (inactive)" };
        push(&mut out, format!("{} — {}{note}", c.id, c.name), value);
    }
    out
}

/// `categories` autocomplete: completes the last comma- or space-separated item, keeping the
/// ones before it (values longer than 100 characters cannot be offered).
pub fn categories_choices(input: &str) -> Vec<(String, String)> {
    let split = input
        .rfind(|c: char| c == ',' || c.is_whitespace())
        .map_or(0, |i| i + 1);
    let (head, last) = input.split_at(split);
    let kept: Vec<&str> = head
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .collect();
    let prefix = if kept.is_empty() {
        String::new()
    } else {
        format!("{}, ", kept.join(", "))
    };
    category_choices(last)
        .into_iter()
        .filter(|(_, v)| !kept.iter().any(|k| k.eq_ignore_ascii_case(v)))
        .map(|(name, v)| {
            let value = format!("{prefix}{v}");
            let shown = if prefix.is_empty() {
                name
            } else {
                format!("{prefix}{name}")
            };
            choice(shown, value)
        })
        .filter(|(_, v)| v.chars().count() <= CHOICE_TEXT)
        .collect()
}

/// Time zone autocomplete: IANA names containing the input (case-insensitive, spaces as
/// `_`), common zones first, then names whose city starts with it, canonical `Area/City`
/// names before legacy aliases; each with its current UTC offset.
pub fn timezone_choices(input: &str, now: chrono::DateTime<chrono::Utc>) -> Vec<(String, String)> {
    use chrono::Offset as _;
    let q = input.trim().replace(' ', "_").to_ascii_lowercase();
    if q.len() > 64 {
        return Vec::new();
    }
    let mut hits: Vec<(u8, bool, &'static str)> = chrono_tz::TZ_VARIANTS
        .iter()
        .map(|z| z.name())
        .filter(|n| n.to_ascii_lowercase().contains(&q))
        .map(|n| {
            let lower = n.to_ascii_lowercase();
            let city = lower.rsplit('/').next().unwrap_or(&lower).to_string();
            let tier = if COMMON_ZONES.contains(&n) {
                0
            } else if city.starts_with(&q) || lower.starts_with(&q) {
                1
            } else {
                2
            };
            let legacy = !n.contains('/') || n.starts_with("Etc/") || n.starts_with("US/");
            (tier, legacy && n != "UTC", n)
        })
        .collect();
    hits.sort_by_key(|(tier, legacy, n)| {
        let common = COMMON_ZONES
            .iter()
            .position(|c| c == n)
            .unwrap_or(usize::MAX);
        (*tier, *legacy, common, *n)
    });
    hits.into_iter()
        .take(MAX_CHOICES)
        .map(|(_, _, n)| {
            let offset = n
                .parse::<chrono_tz::Tz>()
                .map(|tz| now.with_timezone(&tz).offset().fix().to_string())
                .unwrap_or_default();
            choice(format!("{n} (now UTC{offset})"), n.to_string())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone as _;

    #[test]
    fn category_autocomplete_offers_groups_archives_and_categories() {
        let cs_l = category_choices("cs.l");
        let values: Vec<&str> = cs_l.iter().map(|(_, v)| v.as_str()).collect();
        assert!(
            values.contains(&"cs.LG") && values.contains(&"cs.LO"),
            "{values:?}"
        );
        let math = category_choices("math");
        assert_eq!(math[0].1, "math");
        assert!(math.iter().any(|(_, v)| v.starts_with("math.")), "{math:?}");
        let empty = category_choices("");
        assert_eq!(empty.len(), MAX_CHOICES);
        assert_eq!(empty[0].1, "physics");
        for input in [
            "",
            "c",
            "machine learn",
            "astro",
            "x",
            &"z".repeat(200),
            "cs.*",
        ] {
            let got = category_choices(input);
            assert!(got.len() <= MAX_CHOICES);
            for (name, value) in &got {
                assert!(!name.is_empty() && name.chars().count() <= 100, "{name}");
                assert_eq!(
                    request::parse_category(value).as_deref(),
                    Ok(value.as_str())
                );
            }
        }
    }

    #[test]
    fn categories_autocomplete_completes_the_last_item() {
        let got = categories_choices("cs.LG, cs.C");
        assert!(got.iter().any(|(_, v)| v == "cs.LG, cs.CV"), "{got:?}");
        assert!(got.iter().all(|(_, v)| v.starts_with("cs.LG, ")));
        assert!(
            !categories_choices("cs.LG, cs.L")
                .iter()
                .any(|(_, v)| v == "cs.LG, cs.LG")
        );
        let long = ["cond-mat.stat-mech"; 6].join(", ");
        assert!(categories_choices(&format!("{long}, cs.")).is_empty());
        assert!(!categories_choices("").is_empty());
    }

    #[test]
    fn timezone_autocomplete_common_first_with_offsets() {
        let now = chrono::Utc.with_ymd_and_hms(2021, 7, 3, 12, 0, 0).unwrap();
        let empty = timezone_choices("", now);
        assert_eq!(empty.len(), MAX_CHOICES);
        assert_eq!(empty[0].1, "UTC");
        let berlin = timezone_choices("berl", now);
        assert_eq!(
            berlin[0],
            (
                "Europe/Berlin (now UTC+02:00)".into(),
                "Europe/Berlin".into()
            )
        );
        let ny = timezone_choices("new york", now);
        assert_eq!(ny[0].1, "America/New_York");
        let europe = timezone_choices("Europe/", now);
        assert!(europe.len() == MAX_CHOICES && europe[0].1 == "Europe/London");
        assert!(timezone_choices("Mars", now).is_empty());
        assert!(timezone_choices(&"a".repeat(500), now).is_empty());
    }
}
