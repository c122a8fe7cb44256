//! Normalization and validation of a loaded [`Config`], and [`ConfigError`]: every failure as
//! one line naming the key and where its value came from (a file, a variable, the defaults).

use std::fmt::Display;
use std::path::PathBuf;
use std::time::Duration;

use figment::{Figment, Metadata, Source};

use super::x_query::check_url_patterns;
use super::{BlueskyConfig, Config, Secret};
use crate::arxiv::taxonomy::edit_distance;

/// Most posts the Markdown export embeds under one paper: more is a wall of embeds, and
/// each costs the reader's browser a widget.
pub const MAX_EMBED_POSTS: usize = 20;

/// Longest timeout, request spacing, retry delay or save interval: a wait of more than an
/// hour is a typo, not a policy (and an unbounded one overflows date arithmetic).
pub const MAX_WAIT: Duration = Duration::from_secs(3600);
/// Longest `[digest] attention_window` and `max_signal_age`: a year (humantime's `1year`,
/// 365.25 days). Attention after a year no longer changes a ranking.
pub const MAX_WINDOW: Duration = Duration::from_secs(31_557_600);
/// Longest `[sources.bluesky] retention`: ten years.
pub const MAX_RETENTION: Duration = Duration::from_secs(10 * 31_557_600);
/// Longest `[sources.bluesky] replay_overlap`: a day (a restart replays at most that much).
pub const MAX_REPLAY_OVERLAP: Duration = Duration::from_secs(86_400);
/// Largest `[http] max_response_bytes`: 1 GiB (every body is held in memory).
pub const MAX_RESPONSE_BYTES: u64 = 1 << 30;
/// Largest `[arxiv] max_import_bytes`: 4 GiB (a file is parsed in memory).
pub const MAX_IMPORT_BYTES: u64 = 4 << 30;
/// Most `[http] max_retries`: with backoff capped at an hour, more would retry for half a day.
pub const MAX_RETRIES: u32 = 10;
/// Most papers in a digest (`[digest] top`).
pub const MAX_DIGEST_TOP: usize = 1000;
/// Most `[sources.bluesky] cursor_save_events`.
pub const MAX_CURSOR_SAVE_EVENTS: u32 = 1_000_000;
/// Most `[sources.bluesky] max_search_pages` (100 posts each).
pub const MAX_SEARCH_PAGES: u32 = 1000;
/// Most `[sources.x] daily_request_budget` and `[summaries.llm] daily_budget`: requests per day.
pub const MAX_DAILY_REQUESTS: u32 = 100_000;

/// Keys holding a humantime duration, for friendlier error messages.
const DURATION_KEYS: &[&str] = &[
    "store.busy_timeout",
    "http.timeout",
    "http.retry_base_delay",
    "http.retry_max_delay",
    "arxiv.request_spacing",
    "digest.max_signal_age",
    "digest.attention_window",
    "sources.semantic_scholar.request_spacing",
    "sources.bluesky.cursor_save_interval",
    "sources.bluesky.replay_overlap",
    "sources.bluesky.idle_timeout",
    "sources.bluesky.reconnect_max_delay",
    "sources.bluesky.retention",
    "discord.grace_period",
    "discord.min_age",
    "summaries.llm.timeout",
];

/// Why the configuration could not be loaded. Every variant displays as one line that names
/// the offending key and where its value came from.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// An explicitly given configuration file does not exist.
    #[error("configuration file {} does not exist", .path.display())]
    NotFound {
        /// The path as given.
        path: PathBuf,
    },
    /// The configuration file exists but could not be read.
    #[error("cannot read configuration file {}: {cause}", .path.display())]
    Read {
        /// The path as given.
        path: PathBuf,
        /// The I/O error.
        cause: std::io::Error,
    },
    /// The TOML is malformed.
    #[error("invalid TOML in {origin}: {message}")]
    Syntax {
        /// Where the TOML came from (a path or "inline TOML").
        origin: String,
        /// The parser's message, reduced to one line with its position.
        message: String,
    },
    /// A key that hotpapers does not know (usually a typo).
    #[error(
        "unknown configuration key '{key}' in {origin}{}",
        expected_suffix(.expected, .suggestion.as_deref())
    )]
    UnknownKey {
        /// Full dotted key, e.g. `arxiv.api_ulr`.
        key: String,
        /// Where it came from: a file path or an environment variable.
        origin: String,
        /// The keys valid at that level.
        expected: Vec<String>,
        /// The valid key the typo most likely meant (`api_url`; `x` for `twitter`).
        suggestion: Option<String>,
    },
    /// A key with a value of the wrong type or out of range.
    #[error("invalid value for '{key}' in {origin}: {reason}")]
    InvalidValue {
        /// Full dotted key, e.g. `arxiv.page_size`.
        key: String,
        /// Where the value came from.
        origin: String,
        /// What was expected.
        reason: String,
    },
    /// An environment variable hotpapers reads is not valid UTF-8.
    #[error("environment variable {name} is not valid UTF-8")]
    NonUnicodeEnv {
        /// The variable's name.
        name: String,
    },
    /// Any other problem reported by the configuration layer.
    #[error("invalid configuration in {origin}: {message}")]
    Other {
        /// Where the problem was found.
        origin: String,
        /// What went wrong, on one line.
        message: String,
    },
}

fn expected_suffix(expected: &[String], suggestion: Option<&str>) -> String {
    let hint = suggestion.map_or_else(String::new, |s| format!("; did you mean '{s}'?"));
    if expected.is_empty() {
        hint
    } else {
        format!(" (expected one of: {}{hint})", expected.join(", "))
    }
}

/// Other names of configuration keys, by the table they are in: `[sources.twitter]` is
/// `[sources.x]`.
const KEY_ALIASES: &[(&str, &str, &str)] = &[
    ("sources", "twitter", "x"),
    ("sources", "s2", "semantic_scholar"),
    ("sources", "semanticscholar", "semantic_scholar"),
    ("sources", "huggingface", "hf"),
    ("sources", "hackernews", "hn"),
    ("sources", "bsky", "bluesky"),
];

/// The valid key an unknown `key` most likely meant: an alias, else the nearest of `expected`.
fn suggest_key(key: &str, expected: &[&str]) -> Option<String> {
    let (table, field) = key.rsplit_once('.').unwrap_or(("", key));
    KEY_ALIASES
        .iter()
        .find(|(t, alias, _)| *t == table && alias.eq_ignore_ascii_case(field))
        .map(|(_, _, name)| *name)
        .or_else(|| closest(field, expected))
        .map(str::to_owned)
}

/// Treats blank optional settings as unset and trims pasted secrets (a trailing newline from
/// `cat token.txt` would otherwise be sent in an `Authorization` header); fills in the
/// `[ranking]` weights and metrics a file or variable left out, key by key.
pub(super) fn normalize(config: &mut Config) {
    fn secret(s: &mut Option<Secret>) {
        *s = s
            .take()
            .map(|v| v.expose().trim().to_owned())
            .filter(|v| !v.is_empty())
            .map(Secret::new);
    }
    fn text(s: &mut Option<String>) {
        *s = s
            .take()
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty());
    }
    secret(&mut config.sources.hf.token);
    secret(&mut config.sources.bluesky.app_password);
    secret(&mut config.sources.x.bearer_token);
    secret(&mut config.sources.semantic_scholar.api_key);
    secret(&mut config.discord.token);
    secret(&mut config.summaries.llm.api_key);
    text(&mut config.sources.bluesky.identifier);
    text(&mut config.summaries.llm.model);
    // figment reads a short decimal from the environment as an f32 ("0.7" becomes
    // 0.699999988…); a temperature has no meaningful digits past the sixth.
    let t = &mut config.summaries.llm.temperature;
    if t.is_finite() {
        *t = (*t * 1e6).round() / 1e6;
    }
    for account in &mut config.sources.bluesky.bot_accounts {
        *account = account.trim().trim_start_matches('@').to_owned();
    }
    text(&mut config.discord.proxy_url);
    config.http.contact = config.http.contact.trim().to_owned();
    super::ranking::fill_defaults(&mut config.ranking);
}

/// The result of one check: the key at fault and why.
pub(super) type Check = Result<(), (String, String)>;

/// `value` is at most `max`, and greater than zero when `positive`; the reason gives the
/// allowed range the way it is written in the configuration (`1h`, `1year`).
pub(super) fn check_duration(key: &str, value: Duration, positive: bool, max: Duration) -> Check {
    if value <= max && !(positive && value.is_zero()) {
        return Ok(());
    }
    let range = if positive {
        "greater than zero and at most"
    } else {
        "at most"
    };
    Err((
        key.to_owned(),
        format!(
            "must be {range} {}, got {}",
            humantime::format_duration(max),
            humantime::format_duration(value)
        ),
    ))
}

/// `value` lies in `min..=max` (for numbers: NaN and the infinities never do).
pub(super) fn check_range<T: PartialOrd + Display>(key: &str, value: T, min: T, max: T) -> Check {
    if min <= value && value <= max {
        return Ok(());
    }
    Err((
        key.to_owned(),
        format!("must be between {min} and {max}, got {value}"),
    ))
}

/// The candidate nearest to `name` by edit distance, when it is near enough to be a typo
/// (at most 2 edits, and fewer than `name` has characters), for "did you mean" hints.
pub(super) fn closest<'a>(name: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (edit_distance(name, c), *c))
        .filter(|(d, _)| *d <= 2 && *d < name.chars().count())
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Checks values that deserialize fine but would fail later; returns (key, reason).
pub(super) fn validate(c: &Config) -> Check {
    let err = |key: &str, reason: String| Err((key.to_owned(), reason));
    super::ranking::validate(&c.ranking)?;
    let http = ["http", "https"];
    let urls: [(&str, &str, &[&str]); 10] = [
        ("arxiv.api_url", &c.arxiv.api_url, &http),
        ("arxiv.rss_url", &c.arxiv.rss_url, &http),
        ("sources.hn.api_url", &c.sources.hn.api_url, &http),
        ("sources.hf.api_url", &c.sources.hf.api_url, &http),
        ("sources.bluesky.api_url", &c.sources.bluesky.api_url, &http),
        (
            "sources.bluesky.jetstream_url",
            &c.sources.bluesky.jetstream_url,
            &["ws", "wss"],
        ),
        ("sources.bluesky.pds_url", &c.sources.bluesky.pds_url, &http),
        ("sources.x.api_url", &c.sources.x.api_url, &http),
        (
            "sources.semantic_scholar.api_url",
            &c.sources.semantic_scholar.api_url,
            &http,
        ),
        ("summaries.llm.base_url", &c.summaries.llm.base_url, &http),
    ];
    for (key, value, schemes) in urls {
        check_url(value, schemes).or_else(|reason| err(key, reason))?;
    }
    if let Some(proxy) = &c.discord.proxy_url {
        check_url(proxy, &http).or_else(|reason| err("discord.proxy_url", reason))?;
    }

    if c.store.path.as_os_str().is_empty() {
        return err("store.path", "must not be empty".into());
    }
    let durations = [
        ("store.busy_timeout", c.store.busy_timeout, true, MAX_WAIT),
        ("http.timeout", c.http.timeout, true, MAX_WAIT),
        (
            "http.retry_base_delay",
            c.http.retry_base_delay,
            true,
            MAX_WAIT,
        ),
        (
            "http.retry_max_delay",
            c.http.retry_max_delay,
            true,
            MAX_WAIT,
        ),
        (
            "arxiv.request_spacing",
            c.arxiv.request_spacing,
            false,
            MAX_WAIT,
        ),
        (
            "digest.max_signal_age",
            c.digest.max_signal_age,
            false,
            MAX_WINDOW,
        ),
        (
            "digest.attention_window",
            c.digest.attention_window,
            false,
            MAX_WINDOW,
        ),
        (
            "sources.semantic_scholar.request_spacing",
            c.sources.semantic_scholar.request_spacing,
            false,
            MAX_WAIT,
        ),
    ];
    for (key, value, positive, max) in durations {
        check_duration(key, value, positive, max)?;
    }
    check_range(
        "http.max_response_bytes",
        c.http.max_response_bytes,
        1,
        MAX_RESPONSE_BYTES,
    )?;
    check_range("http.max_retries", c.http.max_retries, 0, MAX_RETRIES)?;
    check_range(
        "arxiv.max_import_bytes",
        c.arxiv.max_import_bytes,
        1,
        MAX_IMPORT_BYTES,
    )?;
    if c.http.retry_max_delay < c.http.retry_base_delay {
        return err(
            "http.retry_max_delay",
            format!(
                "must be at least http.retry_base_delay ({})",
                humantime::format_duration(c.http.retry_base_delay)
            ),
        );
    }
    if c.http.contact.chars().any(char::is_control) {
        return err(
            "http.contact",
            "must not contain control characters (it is sent in the User-Agent header)".into(),
        );
    }
    if !(1..=2000).contains(&c.arxiv.page_size) {
        return err(
            "arxiv.page_size",
            format!("must be between 1 and 2000, got {}", c.arxiv.page_size),
        );
    }
    if !(1..=200).contains(&c.arxiv.id_batch_size) {
        return err(
            "arxiv.id_batch_size",
            format!("must be between 1 and 200, got {}", c.arxiv.id_batch_size),
        );
    }
    if let Some(bad) = c
        .arxiv
        .categories
        .iter()
        .find(|cat| cat.trim().is_empty() || cat.trim() != cat.as_str())
    {
        return err(
            "arxiv.categories",
            format!("entries must be non-empty and without surrounding spaces, got {bad:?}"),
        );
    }
    check_range("digest.top", c.digest.top, 1, MAX_DIGEST_TOP)?;
    if c.digest.embed_posts > MAX_EMBED_POSTS {
        return err(
            "digest.embed_posts",
            format!(
                "must be at most {MAX_EMBED_POSTS} (posts embedded under each paper), got {}",
                c.digest.embed_posts
            ),
        );
    }
    c.sources.hn.validate()?;
    c.sources.hf.validate()?;
    c.sources.semantic_scholar.validate()?;
    check_range(
        "sources.x.daily_request_budget",
        c.sources.x.daily_request_budget,
        0,
        MAX_DAILY_REQUESTS,
    )?;
    c.discord.validate()?;
    c.summaries.validate()?;
    if let Err(reason) = c.web.listen_addr() {
        return err("web.listen", reason);
    }
    check_url_patterns(&c.sources.x.url_patterns)
        .or_else(|reason| err("sources.x.url_patterns", reason))?;
    validate_bluesky(&c.sources.bluesky)?;
    let secrets = [
        ("sources.hf.token", &c.sources.hf.token),
        (
            "sources.bluesky.app_password",
            &c.sources.bluesky.app_password,
        ),
        ("sources.x.bearer_token", &c.sources.x.bearer_token),
        (
            "sources.semantic_scholar.api_key",
            &c.sources.semantic_scholar.api_key,
        ),
        ("discord.token", &c.discord.token),
        ("summaries.llm.api_key", &c.summaries.llm.api_key),
    ];
    for (key, secret) in secrets {
        if secret
            .as_ref()
            .is_some_and(|s| s.expose().chars().any(char::is_control))
        {
            return err(
                key,
                "must not contain control characters (it is sent in an HTTP header)".into(),
            );
        }
    }
    Ok(())
}

/// The `[sources.bluesky]` checks of [`validate`].
fn validate_bluesky(b: &BlueskyConfig) -> Check {
    let err = |key: &str, reason: String| Err((format!("sources.bluesky.{key}"), reason));
    if let Some(bad) = b
        .bot_accounts
        .iter()
        .find(|a| a.is_empty() || a.chars().any(|c| c.is_whitespace() || c.is_control()))
    {
        return err(
            "bot_accounts",
            format!("entries must be DIDs or handles without spaces, got {bad:?}"),
        );
    }
    if !(b.bot_weight.is_finite() && (0.0..=1.0).contains(&b.bot_weight)) {
        return err(
            "bot_weight",
            format!("must be between 0 and 1, got {}", b.bot_weight),
        );
    }
    check_range(
        "sources.bluesky.cursor_save_events",
        b.cursor_save_events,
        1,
        MAX_CURSOR_SAVE_EVENTS,
    )?;
    let durations = [
        (
            "cursor_save_interval",
            b.cursor_save_interval,
            true,
            MAX_WAIT,
        ),
        (
            "replay_overlap",
            b.replay_overlap,
            false,
            MAX_REPLAY_OVERLAP,
        ),
        ("idle_timeout", b.idle_timeout, true, MAX_WAIT),
        ("reconnect_max_delay", b.reconnect_max_delay, true, MAX_WAIT),
        ("retention", b.retention, true, MAX_RETENTION),
    ];
    for (key, value, positive, max) in durations {
        check_duration(&format!("sources.bluesky.{key}"), value, positive, max)?;
    }
    check_range(
        "sources.bluesky.max_search_pages",
        b.max_search_pages,
        1,
        MAX_SEARCH_PAGES,
    )
}

fn check_url(value: &str, schemes: &[&str]) -> Result<(), String> {
    let url = url::Url::parse(value).map_err(|e| format!("not a valid URL ({e}): {value:?}"))?;
    if !schemes.contains(&url.scheme()) {
        return Err(format!(
            "URL scheme must be {}, got {:?}",
            schemes.join(" or "),
            url.scheme()
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("URL has no host: {value:?}"));
    }
    Ok(())
}

/// Where the value at `key` came from, for error messages.
pub(super) fn origin_of(figment: &Figment, key: &str) -> String {
    figment
        .find_metadata(key)
        .map_or_else(|| "the built-in defaults".to_owned(), describe)
}

fn describe(metadata: &Metadata) -> String {
    match &metadata.source {
        Some(Source::File(path)) => path.display().to_string(),
        _ => metadata.name.to_string(),
    }
}

/// Turns figment's error into a one-line [`ConfigError`] naming the key.
pub(super) fn convert_error(figment: &Figment, error: figment::Error) -> ConfigError {
    use figment::error::Kind;

    let origin_from_error = error
        .metadata
        .as_ref()
        .map_or_else(|| "the configuration".to_owned(), describe);
    let path = error.path.join(".");
    match &error.kind {
        Kind::UnknownField(field, expected) => {
            // figment usually reports the unknown field as the last path element already.
            let key = if error.path.last() == Some(field) {
                path.clone()
            } else if path.is_empty() {
                field.clone()
            } else {
                format!("{path}.{field}")
            };
            let origin = figment
                .find_metadata(&key)
                .map_or(origin_from_error, describe);
            ConfigError::UnknownKey {
                suggestion: suggest_key(&key, expected),
                key,
                origin,
                expected: expected.iter().map(|s| (*s).to_owned()).collect(),
            }
        }
        kind if path.is_empty() => ConfigError::Other {
            origin: origin_from_error,
            message: one_line(&kind.to_string()),
        },
        kind => {
            let leaf_key = key_without_index(&error.path);
            let reason = match kind {
                Kind::InvalidType(actual, expected) => {
                    format!("expected {}, found {actual}", describe_expected(expected))
                }
                Kind::InvalidValue(actual, expected) => {
                    format!(
                        "expected {}, found {actual}",
                        describe_expected_range(expected)
                    )
                }
                Kind::Message(message) if DURATION_KEYS.contains(&leaf_key.as_str()) => {
                    format!("expected a duration such as \"30s\" or \"2m\" ({message})")
                }
                Kind::Message(message) if leaf_key == "arxiv.holidays" => {
                    format!("expected dates as \"YYYY-MM-DD\" ({message})")
                }
                other => one_line(&other.to_string()),
            };
            ConfigError::InvalidValue {
                key: display_key(&error.path),
                origin: origin_from_error,
                reason,
            }
        }
    }
}

/// The dotted key, with list indices shown as `[n]` (`arxiv.holidays[2]`).
fn display_key(path: &[String]) -> String {
    let mut key = String::new();
    for part in path {
        if !part.is_empty() && part.chars().all(|c| c.is_ascii_digit()) {
            key.push('[');
            key.push_str(part);
            key.push(']');
        } else {
            if !key.is_empty() {
                key.push('.');
            }
            key.push_str(part);
        }
    }
    key
}

/// The dotted key with any trailing list index removed (`arxiv.holidays.2` → `arxiv.holidays`).
fn key_without_index(path: &[String]) -> String {
    let end = path
        .iter()
        .rposition(|p| !p.chars().all(|c| c.is_ascii_digit()))
        .map_or(0, |i| i + 1);
    path.get(..end).unwrap_or_default().join(".")
}

/// serde's "expected" strings in plain words.
fn describe_expected(expected: &str) -> String {
    match expected {
        "u8" | "u16" | "u32" | "u64" | "u128" | "usize" | "i8" | "i16" | "i32" | "i64" | "i128"
        | "isize" => "an integer".into(),
        "f32" | "f64" => "a number".into(),
        "a boolean" | "bool" => "a boolean (true or false)".into(),
        "a duration" => "a duration such as \"30s\" or \"2m\"".into(),
        e if e.starts_with("struct ") => "a table".into(),
        e => e.to_owned(),
    }
}

/// As [`describe_expected`], for values of the right type but out of range.
fn describe_expected_range(expected: &str) -> String {
    match expected {
        "u8" => "an integer from 0 to 255".into(),
        "u16" => "an integer from 0 to 65535".into(),
        "u32" => format!("an integer from 0 to {}", u32::MAX),
        "u64" | "u128" | "usize" => "a non-negative integer".into(),
        e => describe_expected(e),
    }
}

/// Collapses a multi-line message to one line.
fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The toml crate prints a position line, a source snippet with a caret, then the reason.
/// Keep "line L, column C: reason".
pub(super) fn one_line_toml_error(message: &str) -> String {
    let mut lines = message.lines();
    let head = lines.next().unwrap_or_default().trim();
    let Some(position) = head.strip_prefix("TOML parse error at ") else {
        return one_line(message);
    };
    let reason: Vec<&str> = lines
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.contains('|'))
        .collect();
    if reason.is_empty() {
        one_line(message)
    } else {
        one_line(&format!("{position}: {}", reason.join(" ")))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::config::test_util::{env, load, toml_file};

    #[test]
    fn unknown_keys_are_named_with_their_origin() {
        let file = toml_file("[arxiv]\napi_ulr = \"https://x.example\"\n");
        let err = Config::load_with_env(Some(file.path()), env(&[])).expect_err("typo");
        let shown = err.to_string();
        assert!(
            shown.starts_with(&format!(
                "unknown configuration key 'arxiv.api_ulr' in {}",
                file.path().display()
            )),
            "{shown}"
        );
        assert!(shown.contains("api_url"), "lists valid keys: {shown}");
        assert!(!shown.contains('\n'));

        let err = Config::from_toml_str("colour = \"blue\"\n").expect_err("top level");
        assert!(
            err.to_string()
                .starts_with("unknown configuration key 'colour' in inline TOML"),
            "{err}"
        );

        let err = Config::from_toml_str("[sources.x]\nenabld = true\n").expect_err("nested");
        assert!(matches!(&err, ConfigError::UnknownKey { key, .. } if key == "sources.x.enabld"));

        let err = Config::from_toml_str("[sources.mastodon]\nenabled = true\n").expect_err("x");
        assert!(matches!(&err, ConfigError::UnknownKey { key, .. } if key == "sources.mastodon"));
        assert!(!err.to_string().contains("did you mean"), "{err}");

        // Near misses and other names of a source get a suggestion.
        let err = Config::from_toml_str("[sources.twitter]\nenabled = true\n").expect_err("x");
        assert_eq!(
            err.to_string(),
            "unknown configuration key 'sources.twitter' in inline TOML (expected one of: hn, \
             hf, bluesky, x, semantic_scholar; did you mean 'x'?)"
        );
        let err =
            Config::from_toml_str("[arxiv]\napi_ulr = \"https://x.example\"\n").expect_err("typo");
        assert!(
            err.to_string().ends_with("; did you mean 'api_url'?)"),
            "{err}"
        );

        let err = load(
            "[arxiv]\npage_size = 10\n",
            &[("HOTPAPERS_ARXIV__API_ULR", "https://x.example")],
        )
        .expect_err("env typo");
        assert_eq!(
            err.to_string().split(" (expected").next(),
            Some(
                "unknown configuration key 'arxiv.api_ulr' in environment variable \
                 HOTPAPERS_ARXIV__API_ULR"
            )
        );

        let err = load("", &[("HOTPAPERS_ARXIV__", "x")]).expect_err("empty segment");
        assert!(matches!(err, ConfigError::UnknownKey { .. }), "{err}");
    }

    #[test]
    fn wrong_types_name_the_key() {
        let err = Config::from_toml_str("[arxiv]\npage_size = \"lots\"\n").expect_err("type");
        assert_eq!(
            err.to_string(),
            "invalid value for 'arxiv.page_size' in inline TOML: expected an integer, \
             found string \"lots\""
        );
        let err = Config::from_toml_str("[sources.hn]\nenabled = \"yes\"\n").expect_err("bool");
        assert!(
            matches!(&err, ConfigError::InvalidValue { key, .. } if key == "sources.hn.enabled"),
            "{err}"
        );
        let err = Config::from_toml_str("[arxiv]\npage_size = -1\n").expect_err("negative");
        assert!(
            err.to_string().contains("'arxiv.page_size'") && err.to_string().contains("-1"),
            "{err}"
        );
        let err = Config::from_toml_str("[http]\ntimeout = \"soon\"\n").expect_err("duration");
        assert!(
            err.to_string().starts_with(
                "invalid value for 'http.timeout' in inline TOML: expected a duration"
            ),
            "{err}"
        );
        let err =
            Config::from_toml_str("[arxiv]\nholidays = [\"2026-13-01\"]\n").expect_err("date");
        assert!(
            err.to_string().starts_with(
                "invalid value for 'arxiv.holidays[0]' in inline TOML: expected dates as \"YYYY-MM-DD\""
            ),
            "{err}"
        );
        let err = load("", &[("HOTPAPERS_ARXIV__HOLIDAYS", "2026-01-02,tomorrow")])
            .expect_err("env date");
        assert!(err.to_string().contains("'arxiv.holidays[1]'"), "{err}");
        let err = load("", &[("HOTPAPERS_ARXIV__CATEGORIES", "[cs.LG, stat")])
            .expect_err("unbalanced list");
        assert!(err.to_string().contains("expected a sequence"), "{err}");
        let err = Config::from_toml_str("[sources.x]\ndaily_request_budget = 5000000000\n")
            .expect_err("too large");
        assert!(err.to_string().contains("from 0 to 4294967295"), "{err}");
        let err = Config::from_toml_str("arxiv = 3\n").expect_err("section type");
        assert!(err.to_string().contains("'arxiv'"), "{err}");
        let err = load("", &[("HOTPAPERS_DIGEST__TOP", "ten")]).expect_err("env type");
        assert_eq!(
            err.to_string(),
            "invalid value for 'digest.top' in environment variable HOTPAPERS_DIGEST__TOP: \
             expected an integer, found string \"ten\""
        );
    }

    #[test]
    fn syntax_errors_are_one_line_with_position() {
        let err = Config::from_toml_str("[arxiv\npage_size = 1\n").expect_err("syntax");
        let shown = err.to_string();
        assert!(
            shown.starts_with("invalid TOML in inline TOML: line 1"),
            "{shown}"
        );
        assert!(!shown.contains('\n'), "{shown}");
    }

    #[test]
    fn invalid_urls_and_ranges_are_rejected() {
        let cases: &[(&str, &str)] = &[
            ("[arxiv]\napi_url = \"not a url\"\n", "arxiv.api_url"),
            (
                "[arxiv]\nrss_url = \"ftp://rss.arxiv.org\"\n",
                "arxiv.rss_url",
            ),
            (
                "[sources.bluesky]\njetstream_url = \"https://jetstream.example\"\n",
                "sources.bluesky.jetstream_url",
            ),
            (
                "[sources.hn]\napi_url = \"wss://hn.example\"\n",
                "sources.hn.api_url",
            ),
            (
                "[discord]\nproxy_url = \"localhost:8080\"\n",
                "discord.proxy_url",
            ),
            ("[arxiv]\npage_size = 0\n", "arxiv.page_size"),
            ("[arxiv]\npage_size = 2001\n", "arxiv.page_size"),
            ("[arxiv]\nid_batch_size = 201\n", "arxiv.id_batch_size"),
            (
                "[arxiv]\ncategories = [\"cs.LG\", \"\"]\n",
                "arxiv.categories",
            ),
            ("[http]\ntimeout = \"0s\"\n", "http.timeout"),
            (
                "[http]\nmax_response_bytes = 0\n",
                "http.max_response_bytes",
            ),
            (
                "[http]\nretry_base_delay = \"0s\"\n",
                "http.retry_base_delay",
            ),
            (
                "[http]\nretry_max_delay = \"500ms\"\n",
                "http.retry_max_delay",
            ),
            ("[http]\ncontact = \"a\\r\\nX-Evil: 1\"\n", "http.contact"),
            ("[digest]\ntop = 0\n", "digest.top"),
            ("[digest]\nembed_posts = 21\n", "digest.embed_posts"),
            ("[store]\npath = \"\"\n", "store.path"),
            ("[sources.hf]\ntoken = \"ab\\ncd\"\n", "sources.hf.token"),
        ];
        for (toml, key) in cases {
            match Config::from_toml_str(toml) {
                Err(ConfigError::InvalidValue { key: k, origin, .. }) => {
                    assert_eq!(&k, key, "{toml}");
                    assert_eq!(origin, "inline TOML", "{toml}");
                }
                other => panic!("{toml}: expected InvalidValue for {key}, got {other:?}"),
            }
        }
        // Valid edge values pass.
        Config::from_toml_str(
            "[arxiv]\npage_size = 2000\nid_batch_size = 1\n\
             [sources.bluesky]\njetstream_url = \"ws://127.0.0.1:6008/subscribe\"\n",
        )
        .expect("edge values are valid");
        let err =
            load("", &[("HOTPAPERS_ARXIV__API_URL", "mailto:x@example.org")]).expect_err("env url");
        assert!(
            err.to_string().starts_with(
                "invalid value for 'arxiv.api_url' in environment variable HOTPAPERS_ARXIV__API_URL"
            ),
            "{err}"
        );
    }

    /// A TOML document setting the dotted `key` to the TOML `value`.
    fn setting(key: &str, value: &str) -> String {
        let (table, leaf) = key.rsplit_once('.').expect("a dotted key");
        format!("[{table}]\n{leaf} = {value}\n")
    }

    /// Every number key, with its allowed range (as TOML literals) and a value just outside.
    const NUMBER_BOUNDS: &[(&str, &str, &str, &str)] = &[
        ("http.max_response_bytes", "1", "1073741824", "1073741825"),
        ("http.max_retries", "0", "10", "11"),
        ("arxiv.page_size", "1", "2000", "2001"),
        ("arxiv.id_batch_size", "1", "200", "201"),
        ("arxiv.max_import_bytes", "1", "4294967296", "4294967297"),
        ("digest.top", "1", "1000", "1001"),
        ("digest.embed_posts", "0", "20", "21"),
        ("ranking.trending_days", "1", "60", "61"),
        ("ranking.gravity", "0.0", "10.0", "10.5"),
        ("ranking.weights.x", "0.0", "1000.0", "1000.5"),
        ("ranking.metrics.x.likes", "-1000.0", "1000.0", "1e9"),
        ("sources.hn.hits_per_page", "1", "1000", "1001"),
        ("sources.hn.max_split_depth", "0", "16", "17"),
        ("sources.hf.page_size", "1", "100", "101"),
        ("sources.bluesky.bot_weight", "0.0", "1.0", "1.5"),
        (
            "sources.bluesky.cursor_save_events",
            "1",
            "1000000",
            "1000001",
        ),
        ("sources.bluesky.max_search_pages", "1", "1000", "1001"),
        ("sources.x.daily_request_budget", "0", "100000", "100001"),
        ("sources.semantic_scholar.batch_size", "1", "500", "501"),
        ("discord.parallel_posts", "1", "32", "33"),
        ("summaries.llm.max_concurrency", "1", "16", "17"),
        ("summaries.llm.daily_budget", "0", "100000", "100001"),
        ("summaries.llm.top", "1", "100", "101"),
        ("summaries.llm.max_tokens", "1", "4096", "4097"),
        ("summaries.llm.temperature", "0.0", "2.0", "2.5"),
    ];

    /// The dotted keys of every number and every duration (a string humantime reads) of
    /// `value`, e.g. the defaults.
    fn number_and_duration_keys(
        prefix: &str,
        value: &toml::Value,
        numbers: &mut Vec<String>,
        durations: &mut Vec<String>,
    ) {
        match value {
            toml::Value::Table(t) => {
                for (k, v) in t {
                    let key = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    number_and_duration_keys(&key, v, numbers, durations);
                }
            }
            toml::Value::Integer(_) | toml::Value::Float(_) => numbers.push(prefix.to_owned()),
            toml::Value::String(s) if humantime::parse_duration(s).is_ok() => {
                durations.push(prefix.to_owned());
            }
            _ => {}
        }
    }

    /// Defect 4 of the hardening issue: `attention_window = "300000years"` passed `config
    /// check` and panicked in `collect`. Every number and duration has a range now; this
    /// walks the whole configuration so that a new key without one fails here.
    #[test]
    fn every_number_and_duration_is_bounded() {
        let defaults = toml::Value::try_from(Config::default()).expect("serializes");
        let (mut numbers, mut durations) = (Vec::new(), Vec::new());
        number_and_duration_keys("", &defaults, &mut numbers, &mut durations);
        for key in &numbers {
            let known = NUMBER_BOUNDS.iter().any(|(k, ..)| {
                k == key
                    || (k.starts_with("ranking.weights.") && key.starts_with("ranking.weights."))
                    || (k.starts_with("ranking.metrics.") && key.starts_with("ranking.metrics."))
            });
            assert!(known, "{key} has no bound in NUMBER_BOUNDS");
        }
        for key in &durations {
            assert!(
                DURATION_KEYS.contains(&key.as_str()),
                "{key} is not in DURATION_KEYS"
            );
        }
        assert_eq!(durations.len(), DURATION_KEYS.len(), "{durations:?}");

        for key in DURATION_KEYS {
            match Config::from_toml_str(&setting(key, "\"300000years\"")) {
                Err(ConfigError::InvalidValue { key: k, reason, .. }) => {
                    assert_eq!(&k, key);
                    assert!(reason.contains("at most"), "{key}: {reason}");
                }
                other => panic!("{key} = 300000years: expected InvalidValue, got {other:?}"),
            }
        }
        for (key, min, max, outside) in NUMBER_BOUNDS {
            for ok in [min, max] {
                Config::from_toml_str(&setting(key, ok))
                    .unwrap_or_else(|e| panic!("{key} = {ok} is valid: {e}"));
            }
            match Config::from_toml_str(&setting(key, outside)) {
                Err(ConfigError::InvalidValue { key: k, reason, .. }) => {
                    assert_eq!(&k, key);
                    assert!(
                        reason.contains("between") || reason.contains("at most"),
                        "{key}: {reason}"
                    );
                }
                other => panic!("{key} = {outside}: expected InvalidValue, got {other:?}"),
            }
        }
    }

    #[test]
    fn out_of_range_durations_name_the_key_and_the_range() {
        let err = load("", &[("HOTPAPERS_DIGEST__ATTENTION_WINDOW", "300000years")])
            .expect_err("out of range");
        assert_eq!(
            err.to_string(),
            "invalid value for 'digest.attention_window' in environment variable \
             HOTPAPERS_DIGEST__ATTENTION_WINDOW: must be at most 1year, got 300000years"
        );
        let err = Config::from_toml_str("[http]\ntimeout = \"61m\"\n").expect_err("timeout");
        assert_eq!(
            err.to_string(),
            "invalid value for 'http.timeout' in inline TOML: must be greater than zero and \
             at most 1h, got 1h 1m"
        );
        for (toml, key) in [
            ("[http]\ntimeout = \"0s\"\n", "http.timeout"),
            (
                "[sources.bluesky]\nretention = \"11years\"\n",
                "sources.bluesky.retention",
            ),
            (
                "[sources.bluesky]\nreplay_overlap = \"25h\"\n",
                "sources.bluesky.replay_overlap",
            ),
            (
                "[arxiv]\nrequest_spacing = \"2h\"\n",
                "arxiv.request_spacing",
            ),
        ] {
            match Config::from_toml_str(toml) {
                Err(ConfigError::InvalidValue { key: k, .. }) => assert_eq!(k, key, "{toml}"),
                other => panic!("{toml}: expected InvalidValue, got {other:?}"),
            }
        }
        // The largest values pass.
        Config::from_toml_str(
            "[digest]\nattention_window = \"1year\"\nmax_signal_age = \"1year\"\n\
             [http]\ntimeout = \"1h\"\nretry_max_delay = \"1h\"\n\
             [sources.bluesky]\nretention = \"10years\"\nreplay_overlap = \"1day\"\n",
        )
        .expect("edge values are valid");
    }

    #[test]
    fn toml_error_reduction() {
        let raw = "TOML parse error at line 1, column 7\n  |\n1 | [arxiv\n  |       ^\n\
                   invalid table header\nexpected `.`, `]`\n";
        assert_eq!(
            one_line_toml_error(raw),
            "line 1, column 7: invalid table header expected `.`, `]`"
        );
        assert_eq!(one_line_toml_error("plain\nmessage"), "plain message");
    }

    #[test]
    fn bluesky_listener_keys_parse_validate_and_come_from_env() {
        let c = load(
            "[sources.bluesky]\nbot_accounts = [\" @ArxivBot.bsky.social \", \"did:plc:abc\"]\n\
             bot_weight = 0.25\ncursor_save_interval = \"2s\"\nretention = \"7days\"\n",
            &[
                ("HOTPAPERS_SOURCES__BLUESKY__CURSOR_SAVE_EVENTS", "50"),
                ("HOTPAPERS_SOURCES__BLUESKY__MAX_SEARCH_PAGES", "3"),
            ],
        )
        .expect("valid");
        let b = &c.sources.bluesky;
        assert_eq!(b.bot_accounts, vec!["ArxivBot.bsky.social", "did:plc:abc"]);
        assert!((b.bot_weight - 0.25).abs() < f64::EPSILON);
        assert_eq!(b.cursor_save_interval, Duration::from_secs(2));
        assert_eq!(b.retention, Duration::from_secs(7 * 86_400));
        assert_eq!(b.cursor_save_events, 50);
        assert_eq!(b.max_search_pages, 3);

        let env_list = load(
            "",
            &[(
                "HOTPAPERS_SOURCES__BLUESKY__BOT_ACCOUNTS",
                "did:plc:a, b.example.org",
            )],
        )
        .expect("list from env");
        assert_eq!(
            env_list.sources.bluesky.bot_accounts,
            vec!["did:plc:a", "b.example.org"]
        );

        for (toml, key) in [
            ("bot_weight = 1.5", "sources.bluesky.bot_weight"),
            ("bot_weight = -0.1", "sources.bluesky.bot_weight"),
            ("bot_weight = nan", "sources.bluesky.bot_weight"),
            ("bot_accounts = [\"\"]", "sources.bluesky.bot_accounts"),
            ("bot_accounts = [\"a b\"]", "sources.bluesky.bot_accounts"),
            (
                "cursor_save_events = 0",
                "sources.bluesky.cursor_save_events",
            ),
            (
                "cursor_save_interval = \"0s\"",
                "sources.bluesky.cursor_save_interval",
            ),
            ("idle_timeout = \"0s\"", "sources.bluesky.idle_timeout"),
            (
                "reconnect_max_delay = \"0s\"",
                "sources.bluesky.reconnect_max_delay",
            ),
            ("retention = \"0s\"", "sources.bluesky.retention"),
            ("max_search_pages = 0", "sources.bluesky.max_search_pages"),
        ] {
            match Config::from_toml_str(&format!("[sources.bluesky]\n{toml}\n")) {
                Err(ConfigError::InvalidValue { key: k, .. }) => assert_eq!(k, key, "{toml}"),
                other => panic!("{toml}: expected InvalidValue for {key}, got {other:?}"),
            }
        }
        let err = Config::from_toml_str("[sources.bluesky]\nretention = \"soon\"\n")
            .expect_err("bad duration");
        assert!(err.to_string().contains("a duration such as"), "{err}");
    }
}
