//! Discord webhooks for `hotpapers post --webhook URL`: posting a digest with no bot at all.
//!
//! A webhook URL carries its own secret (the token after the id), so this module keeps it out
//! of every `Debug`, error and log line: [`WebhookUrl`] prints as `webhook {id}`, and errors
//! are written here from status codes rather than taken from serenity (whose messages can
//! contain the request URL).

use std::fmt;

use serenity::builder::CreateAllowedMentions;
use serenity::http::{Http, HttpBuilder};

use super::post::PostError;

/// Hosts that serve Discord's REST API; any other origin in a webhook URL is used as the REST
/// base itself (a proxy, or a mock server in tests).
const DISCORD_HOSTS: &[&str] = &[
    "discord.com",
    "discordapp.com",
    "ptb.discord.com",
    "canary.discord.com",
    "ptb.discordapp.com",
    "canary.discordapp.com",
];

/// The one-line error for a URL that is not a webhook URL. It never repeats the input, which
/// may hold a token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "not a Discord webhook URL ({0}); expected https://discord.com/api/webhooks/ID/TOKEN, as \
     copied from the channel's Integrations > Webhooks settings"
)]
pub struct WebhookUrlError(&'static str);

/// A parsed webhook URL: its id, its secret token, and the REST base to use when it is not
/// Discord's own.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookUrl {
    id: u64,
    token: String,
    base: Option<String>,
}

impl fmt::Debug for WebhookUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookUrl")
            .field("id", &self.id)
            .field("token", &"[redacted]")
            .field("base", &self.base)
            .finish()
    }
}

impl WebhookUrl {
    /// Parses `https://discord.com/api/webhooks/ID/TOKEN` (also `discordapp.com`, the `ptb.`
    /// and `canary.` hosts, and versioned paths like `/api/v10/webhooks/...`). Any other
    /// `http`/`https` origin with the same path is accepted too and becomes the REST base.
    pub fn parse(input: &str) -> Result<WebhookUrl, WebhookUrlError> {
        let url = url::Url::parse(input.trim()).map_err(|_| WebhookUrlError("not a URL"))?;
        let host = url.host_str().ok_or(WebhookUrlError("no host"))?;
        let discord = DISCORD_HOSTS.contains(&host.to_ascii_lowercase().as_str());
        match url.scheme() {
            "https" => {}
            "http" if !discord => {}
            _ => return Err(WebhookUrlError("the scheme must be https")),
        }
        let segments: Vec<&str> = url
            .path_segments()
            .map(|s| s.filter(|p| !p.is_empty()).collect())
            .unwrap_or_default();
        let rest = match segments.as_slice() {
            ["api", "webhooks", rest @ ..] => rest,
            ["api", version, "webhooks", rest @ ..]
                if version
                    .strip_prefix('v')
                    .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())) =>
            {
                rest
            }
            _ => return Err(WebhookUrlError("the path must be /api/webhooks/ID/TOKEN")),
        };
        let [id, token] = rest else {
            return Err(WebhookUrlError("the path must be /api/webhooks/ID/TOKEN"));
        };
        let id: u64 = id
            .parse()
            .ok()
            .filter(|i| crate::commands::request::is_snowflake(*i))
            .ok_or(WebhookUrlError(
                "the webhook id must be a Discord id (a number from 1 to 2^63 - 1)",
            ))?;
        if !token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(WebhookUrlError(
                "the token may only contain letters, digits, '-' and '_'",
            ));
        }
        let base = (!discord).then(|| url.origin().ascii_serialization());
        Ok(WebhookUrl {
            id,
            token: (*token).to_string(),
            base,
        })
    }

    /// The webhook id (also the post log key of its posts).
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The secret token, for the one call that sends it.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The REST base when the URL is not Discord's (a proxy or a mock), else `None`.
    pub fn base(&self) -> Option<&str> {
        self.base.as_deref()
    }

    /// Removes the token from `text` (defence in depth for any message that might quote it).
    pub fn redact(&self, text: &str) -> String {
        if self.token.is_empty() {
            text.to_string()
        } else {
            text.replace(&self.token, "[redacted]")
        }
    }
}

/// The REST client for a webhook: no bot token; every call to the URL's own origin when it is
/// not Discord's, else to `proxy_url` when set (serenity's rate limiter is then off: the proxy
/// owns rate limits).
pub fn http_client(hook: &WebhookUrl, proxy_url: Option<&str>) -> Http {
    // Webhook calls authenticate with the token in the path; serenity's documented way to
    // use them without a bot is an empty bot token.
    let mut b = super::post::with_rest_client(HttpBuilder::new(""))
        .default_allowed_mentions(CreateAllowedMentions::new());
    let proxy = hook
        .base()
        .or(proxy_url.map(str::trim).filter(|u| !u.is_empty()));
    if let Some(base) = proxy {
        b = b.proxy(base).ratelimiter_disabled(true);
    }
    b.build()
}

/// Maps a failed webhook execution to a token-free [`PostError`]; the bool says whether
/// retrying may help (5xx, network, rate limit).
pub fn classify(err: &super::rest::RestError, hook: &WebhookUrl) -> (PostError, bool) {
    use super::rest::RestError;
    let id = hook.id();
    let retry = err.retryable();
    let e = match err {
        RestError::Status {
            status: code @ (401 | 403 | 404),
            ..
        } => PostError::Discord(format!(
            "Discord does not know webhook {id} or its token ({code}): the webhook was deleted \
             or the URL is incomplete; copy it again from the channel's Integrations settings"
        )),
        RestError::RateLimited { waits } => PostError::RateLimited { waits: *waits },
        RestError::Transport(_) => {
            PostError::Discord(format!("cannot reach Discord to post through webhook {id}"))
        }
        other => PostError::Discord(hook.redact(&other.to_string())),
    };
    (e, retry)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discord_urls_of_every_form_parse() {
        for url in [
            "https://discord.com/api/webhooks/123456789012345678/AbC-_09",
            "https://discordapp.com/api/webhooks/123456789012345678/AbC-_09",
            "https://ptb.discord.com/api/webhooks/123456789012345678/AbC-_09/",
            "https://canary.discord.com/api/v10/webhooks/123456789012345678/AbC-_09",
            "  https://DISCORD.com/api/v9/webhooks/123456789012345678/AbC-_09?wait=true  ",
        ] {
            let h = WebhookUrl::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"));
            assert_eq!(h.id(), 123_456_789_012_345_678, "{url}");
            assert_eq!(h.token(), "AbC-_09");
            assert_eq!(h.base(), None, "{url}");
        }
    }

    #[test]
    fn other_origins_become_the_rest_base() {
        let h = WebhookUrl::parse("http://127.0.0.1:8080/api/webhooks/5/tok").unwrap();
        assert_eq!(h.base(), Some("http://127.0.0.1:8080"));
        assert_eq!(h.id(), 5);
    }

    #[test]
    fn bad_urls_are_one_line_errors_without_the_token() {
        for url in [
            "",
            "discord.com/api/webhooks/1/sekrit",
            "ftp://discord.com/api/webhooks/1/sekrit",
            "http://discord.com/api/webhooks/1/sekrit",
            "https://discord.com/api/webhooks/1",
            "https://discord.com/api/webhooks/abc/sekrit",
            "https://discord.com/api/webhooks/0/sekrit",
            "https://discord.com/api/webhooks/9223372036854775808/sekrit",
            "https://discord.com/api/webhooks/1/sekrit/extra",
            "https://discord.com/api/vx/webhooks/1/sekrit",
            "https://discord.com/channels/1/sekrit",
            "https://discord.com/api/webhooks/1/sek%20rit",
        ] {
            let e = WebhookUrl::parse(url).expect_err(url).to_string();
            assert!(e.starts_with("not a Discord webhook URL"), "{url}: {e}");
            assert!(!e.contains("sekrit") && !e.contains('\n'), "{url}: {e}");
        }
    }

    #[test]
    fn the_token_never_prints() {
        let h = WebhookUrl::parse("https://discord.com/api/webhooks/9/sekrit").unwrap();
        assert!(!format!("{h:?}").contains("sekrit"));
        assert_eq!(h.redact("x sekrit y"), "x [redacted] y");
    }
}
