//! One-shot REST posting of a digest (`hotpapers post`): the building blocks.
//!
//! Posting is made exactly-once per (channel, mailing) by a post log written around the send
//! plus Discord's message `nonce` with `enforce_nonce`: a rerun after a crash re-sends the
//! same nonces, so Discord returns the already-created message instead of a duplicate.
//! This module holds the pieces that do not need the store: nonces, the REST client and how
//! Discord's error statuses map to user-facing errors.

use chrono::NaiveDate;
use serenity::builder::{CreateAllowedMentions, CreateMessage};
use serenity::http::{Http, HttpBuilder};
use serenity::model::channel::Nonce;

/// Why posting failed, one line each, meant for the user running `hotpapers post`.
#[derive(Debug, thiserror::Error)]
pub enum PostError {
    /// No bot token configured.
    #[error(
        "no Discord bot token: set DISCORD_TOKEN or `token` under [discord] in the config file"
    )]
    MissingToken,
    /// 403: the bot cannot post there.
    #[error(
        "Discord refused to post in channel {channel} (403): the bot needs View Channel, Send Messages and Embed Links there"
    )]
    Forbidden { channel: u64 },
    /// 404: the channel does not exist or the bot cannot see it.
    #[error(
        "unknown Discord channel {channel} (404): check the channel id and that the bot is on that server"
    )]
    UnknownChannel { channel: u64 },
    /// Still rate-limited (429) after waiting out every limit Discord set.
    #[error(
        "Discord kept rate-limiting the bot (429) after {waits} waits; the next run resumes the post"
    )]
    RateLimited {
        /// How many 429s were waited out.
        waits: u32,
    },
    /// Anything else from Discord or the network, after bounded retries of 5xx.
    #[error("posting to Discord failed: {0}")]
    Discord(String),
}

/// Discord's nonce limit (characters).
pub const NONCE_MAX: usize = 25;

/// The nonce of one part of one digest post: `hp{yyyymmdd}{part:02}{channel % 10^12:012}`,
/// 24 characters. Derived only from (channel, mailing, part) so a rerun reproduces it exactly.
pub fn nonce(channel: u64, mailing: NaiveDate, part: usize) -> String {
    format!(
        "hp{}{:02}{:012}",
        mailing.format("%Y%m%d"),
        part % 100,
        channel % 1_000_000_000_000
    )
}

/// Adds the part's nonce and asks Discord to enforce it (deduplicate re-sends).
pub fn with_nonce(
    msg: CreateMessage,
    channel: u64,
    mailing: NaiveDate,
    part: usize,
) -> CreateMessage {
    msg.nonce(Nonce::String(nonce(channel, mailing, part)))
        .enforce_nonce(true)
}

/// The REST client: every mention disabled by default; with a proxy (`[discord] proxy_url`),
/// all calls go there and serenity's own rate limiter is off (the proxy owns rate limits).
pub fn http_client(token: Option<&str>, proxy_url: Option<&str>) -> Result<Http, PostError> {
    let token = token
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or(PostError::MissingToken)?;
    let mut b = with_rest_client(HttpBuilder::new(token))
        .default_allowed_mentions(CreateAllowedMentions::new());
    if let Some(url) = proxy_url.map(str::trim).filter(|u| !u.is_empty()) {
        b = b.proxy(url).ratelimiter_disabled(true);
    }
    Ok(b.build())
}

/// The longest a Discord REST call may take, connection included. serenity's own client has
/// no timeout at all, so a stalled connection would hang a post or a command forever.
pub const REST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// The reqwest client every Discord REST call goes through: rustls (as serenity's default),
/// a [`REST_TIMEOUT`] per request and a 10-second connect timeout. Discord's answers are small
/// JSON objects; serenity reads them whole, so the timeout is also what bounds their size.
/// `None` only when the TLS backend cannot initialise (serenity's own client would fail the
/// same way).
pub fn rest_client() -> Option<reqwest::Client> {
    reqwest::Client::builder()
        .use_rustls_tls()
        .timeout(REST_TIMEOUT)
        .connect_timeout(std::time::Duration::from_secs(10))
        .build()
        .ok()
}

/// Applies [`rest_client`] to a serenity HTTP builder.
pub fn with_rest_client(b: HttpBuilder) -> HttpBuilder {
    match rest_client() {
        Some(client) => b.client(client),
        None => b,
    }
}

/// Maps a serenity error to [`PostError`]; `retry` is true for 5xx and transport errors.
pub fn classify(err: &serenity::Error, channel: u64) -> (PostError, bool) {
    use serenity::http::HttpError;
    if let serenity::Error::Http(HttpError::UnsuccessfulRequest(r)) = err {
        let code = r.status_code.as_u16();
        return match code {
            403 => (PostError::Forbidden { channel }, false),
            404 => (PostError::UnknownChannel { channel }, false),
            500..=599 => (PostError::Discord(format!("HTTP {code}")), true),
            _ => (
                PostError::Discord(format!("HTTP {code}: {}", r.error.message)),
                false,
            ),
        };
    }
    (
        PostError::Discord(err.to_string()),
        matches!(err, serenity::Error::Http(HttpError::Request(_))),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonce_is_stable_short_and_distinct_per_part() {
        let d = NaiveDate::from_ymd_opt(2021, 7, 2).unwrap();
        let a = nonce(123_456_789_012_345_678, d, 0);
        assert_eq!(a, "hp2021070200789012345678");
        assert!(a.chars().count() <= NONCE_MAX);
        assert_eq!(a, nonce(123_456_789_012_345_678, d, 0));
        assert_ne!(a, nonce(123_456_789_012_345_678, d, 1));
        assert_eq!(nonce(u64::MAX, d, 99).chars().count(), 24);
    }

    #[test]
    fn nonce_is_serialized_with_enforcement() {
        let d = NaiveDate::from_ymd_opt(2021, 7, 2).unwrap();
        let v = serde_json::to_value(with_nonce(CreateMessage::new(), 42, d, 1)).unwrap();
        assert_eq!(v["nonce"], "hp2021070201000000000042");
        assert_eq!(v["enforce_nonce"], true);
    }

    #[test]
    fn missing_or_blank_token_is_a_clear_error() {
        for t in [None, Some(""), Some("  ")] {
            let e = http_client(t, None).err().map(|e| e.to_string());
            assert!(e.is_some_and(|m| m.contains("DISCORD_TOKEN") && m.contains("[discord]")));
        }
        assert!(http_client(Some("abc"), Some("http://127.0.0.1:1")).is_ok());
    }
}
