//! The REST calls that post a digest (a channel message, a webhook execution), made directly
//! so that Discord's rate limits are honoured exactly and testably.
//!
//! serenity's own limiter cannot be used here: it is bypassed when requests go to
//! `[discord] proxy_url`, and once it gives up, a 429 without Discord's `code` field fails to
//! decode and its `Retry-After` is lost. This client:
//!
//! * waits out a 429 for as long as `Retry-After` (header) or `retry_after` (body) says, on the
//!   injected clock, then tries again; a global limit (`X-RateLimit-Global`, `"global": true`)
//!   holds every later request of this client too, a per-route one holds that route;
//! * waits before a request when the route's last answer said `X-RateLimit-Remaining: 0`,
//!   for `X-RateLimit-Reset-After`;
//! * bounds everything: a timeout per request ([`super::post::REST_TIMEOUT`]), at most
//!   [`MAX_RATE_LIMITED`] rate-limited answers per call, at most [`MAX_WAIT`] per wait, and a
//!   response body of at most [`MAX_BODY`] bytes;
//! * never puts a URL, a token or a response body into an error: only the status and
//!   Discord's own one-line `message`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;
use tracing::warn;

use crate::clock::Clock;

/// The most rate-limited answers one call waits out before it gives up.
pub const MAX_RATE_LIMITED: u32 = 5;
/// The longest single wait a 429 may impose; a longer one is waited this long, then retried.
pub const MAX_WAIT: Duration = Duration::from_secs(60);
/// The largest response body read (Discord's message objects are a few KB).
pub const MAX_BODY: usize = 1 << 20;
/// Discord's public REST origin.
pub const DISCORD_ORIGIN: &str = "https://discord.com";

/// Why a REST call failed, without a URL, token or body in it.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RestError {
    /// Discord answered with an error status; `message` is its one-line reason, if any.
    #[error("HTTP {status}{}", message.as_ref().map(|m| format!(": {m}")).unwrap_or_default())]
    Status {
        /// The HTTP status.
        status: u16,
        /// Discord's `message`, cleaned to one bounded line.
        message: Option<String>,
    },
    /// Still rate-limited after [`MAX_RATE_LIMITED`] waits.
    #[error("Discord kept rate-limiting the bot (429) after {waits} waits")]
    RateLimited {
        /// How many 429s were waited out.
        waits: u32,
    },
    /// The request did not complete (connection, timeout).
    #[error("cannot reach Discord ({0})")]
    Transport(&'static str),
    /// A success whose body is not the JSON object Discord sends.
    #[error("Discord's answer could not be read")]
    Decode,
}

impl RestError {
    /// Whether trying again later may help: 5xx, a transport failure, a rate limit.
    pub fn retryable(&self) -> bool {
        match self {
            RestError::Status { status, .. } => *status >= 500,
            RestError::RateLimited { .. } | RestError::Transport(_) => true,
            RestError::Decode => false,
        }
    }
}

/// The posting client: an HTTP client, the REST origin and the bot token (none for webhooks,
/// which authenticate with the token in their path).
pub struct Rest {
    client: reqwest::Client,
    origin: String,
    authorization: Option<String>,
    /// Until when every request waits (a global 429).
    global_until: Mutex<Option<DateTime<Utc>>>,
    /// Per route (path without ids' values changing the bucket is not attempted: a route
    /// here is its full path), until when it waits.
    route_until: Mutex<HashMap<String, DateTime<Utc>>>,
}

impl std::fmt::Debug for Rest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rest")
            .field("origin", &self.origin)
            .field(
                "authorization",
                &self.authorization.as_ref().map(|_| "[redacted]"),
            )
            .finish_non_exhaustive()
    }
}

impl Rest {
    /// A client for `origin` (`[discord] proxy_url`, or [`DISCORD_ORIGIN`]) with the bot
    /// `token`, if any (`Bot ` is added when missing).
    pub fn new(origin: Option<&str>, token: Option<&str>) -> Rest {
        let origin = origin
            .map(str::trim)
            .filter(|o| !o.is_empty())
            .unwrap_or(DISCORD_ORIGIN)
            .trim_end_matches('/')
            .to_string();
        let authorization = token.map(str::trim).filter(|t| !t.is_empty()).map(|t| {
            if t.starts_with("Bot ") {
                t.to_string()
            } else {
                format!("Bot {t}")
            }
        });
        Rest {
            client: super::post::rest_client().unwrap_or_default(),
            origin,
            authorization,
            global_until: Mutex::new(None),
            route_until: Mutex::new(HashMap::new()),
        }
    }

    /// POSTs `body` to `{origin}/api/v10{path}` (with `?query` when given) and returns the
    /// JSON object Discord answers, waiting out rate limits as the module docs say.
    /// `authorize`: send the bot token (not for webhooks).
    pub async fn post_json(
        &self,
        clock: &dyn Clock,
        path: &str,
        query: Option<&str>,
        authorize: bool,
        body: &Value,
    ) -> Result<Value, RestError> {
        let url = match query {
            Some(q) => format!("{}/api/v10{path}?{q}", self.origin),
            None => format!("{}/api/v10{path}", self.origin),
        };
        let mut waits = 0;
        loop {
            self.wait_for_limits(clock, path).await;
            let mut req = self.client.post(&url).json(body);
            if authorize && let Some(a) = &self.authorization {
                req = req.header(reqwest::header::AUTHORIZATION, a);
            }
            let response = req.send().await.map_err(|e| {
                RestError::Transport(if e.is_timeout() {
                    "timed out"
                } else {
                    "connection failed"
                })
            })?;
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let bytes = read_capped(response).await?;
            let json: Option<Value> = serde_json::from_slice(&bytes).ok();
            self.note_bucket(clock.now(), path, &headers);
            if status == 429 {
                waits += 1;
                if waits > MAX_RATE_LIMITED {
                    return Err(RestError::RateLimited { waits: waits - 1 });
                }
                let wait = retry_after(&headers, json.as_ref());
                let global = header(&headers, "x-ratelimit-global")
                    .is_some_and(|v| v.eq_ignore_ascii_case("true"))
                    || header(&headers, "x-ratelimit-scope").is_some_and(|v| v == "global")
                    || json
                        .as_ref()
                        .and_then(|j| j.get("global"))
                        .and_then(Value::as_bool)
                        .unwrap_or(false);
                warn!(
                    wait_ms = wait.as_millis() as u64,
                    global, "Discord rate limit (429); waiting"
                );
                let until = clock.now()
                    + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::zero());
                if global {
                    *self
                        .global_until
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(until);
                } else {
                    self.route_until
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .insert(path.to_string(), until);
                }
                continue;
            }
            if !(200..300).contains(&status) {
                return Err(RestError::Status {
                    status,
                    message: json.as_ref().and_then(discord_message),
                });
            }
            return json.filter(Value::is_object).ok_or(RestError::Decode);
        }
    }

    /// Sleeps (on `clock`) until neither a global limit nor `path`'s own limit holds.
    async fn wait_for_limits(&self, clock: &dyn Clock, path: &str) {
        let global = *self
            .global_until
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let route = self
            .route_until
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(path)
            .copied();
        let until = global.max(route);
        if let Some(until) = until {
            let now = clock.now();
            if until > now {
                let wait = (until - now).to_std().unwrap_or_default().min(MAX_WAIT);
                clock.sleep(wait).await;
            }
        }
    }

    /// Remembers a route's exhausted bucket (`X-RateLimit-Remaining: 0` with
    /// `X-RateLimit-Reset-After`), so the next request on it waits for the reset.
    fn note_bucket(&self, now: DateTime<Utc>, path: &str, headers: &reqwest::header::HeaderMap) {
        let remaining =
            header(headers, "x-ratelimit-remaining").and_then(|v| v.parse::<f64>().ok());
        let reset_after = header(headers, "x-ratelimit-reset-after").and_then(seconds);
        if remaining == Some(0.0)
            && let Some(after) = reset_after
        {
            let until = now + chrono::Duration::from_std(after).unwrap_or(chrono::Duration::zero());
            self.route_until
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .insert(path.to_string(), until);
        }
    }
}

/// A header's value as text.
fn header<'a>(headers: &'a reqwest::header::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

/// Seconds as Discord writes them ("1", "0.25"), bounded to [0, MAX_WAIT].
fn seconds(s: &str) -> Option<Duration> {
    let v: f64 = s.trim().parse().ok()?;
    v.is_finite()
        .then(|| Duration::from_secs_f64(v.clamp(0.0, MAX_WAIT.as_secs_f64())))
}

/// How long a 429 asks to wait: the `Retry-After` header, else the body's `retry_after`,
/// else one second; at most [`MAX_WAIT`].
fn retry_after(headers: &reqwest::header::HeaderMap, body: Option<&Value>) -> Duration {
    header(headers, "retry-after")
        .and_then(seconds)
        .or_else(|| {
            body.and_then(|b| b.get("retry_after"))
                .and_then(Value::as_f64)
                .and_then(|v| seconds(&v.to_string()))
        })
        .unwrap_or(Duration::from_secs(1))
}

/// Discord's `message` field, as one line of at most 200 characters.
fn discord_message(body: &Value) -> Option<String> {
    let m = body.get("message")?.as_str()?;
    let line: String = m
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(200)
        .collect();
    (!line.trim().is_empty()).then_some(line)
}

/// The body, at most [`MAX_BODY`] bytes (more is a decode error, not a crash).
async fn read_capped(mut response: reqwest::Response) -> Result<Vec<u8>, RestError> {
    let mut out = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|_| RestError::Transport("the answer was cut off"))?
    {
        if out.len() + chunk.len() > MAX_BODY {
            return Err(RestError::Decode);
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// How many times a serenity call answered 429 is tried in all ([`retry_rate_limited`]).
pub const SERENITY_ATTEMPTS: u32 = 4;

/// Whether a serenity error is Discord's 429.
pub fn is_rate_limited(e: &serenity::Error) -> bool {
    matches!(
        e,
        serenity::Error::Http(serenity::http::HttpError::UnsuccessfulRequest(r))
            if r.status_code.as_u16() == 429
    )
}

/// Runs a serenity REST call (an interaction answer, a follow-up, command registration),
/// trying again after a 429 that reached it: when talking to Discord directly serenity's
/// limiter has already waited out the `Retry-After`; behind `[discord] proxy_url` it is off,
/// and serenity drops the `retry_after` it could not decode, so this waits 1 s, 2 s, 3 s on
/// `clock` ([`SERENITY_ATTEMPTS`] tries in all).
pub async fn retry_rate_limited<T, F, Fut>(
    clock: &dyn Clock,
    what: &str,
    mut call: F,
) -> Result<T, serenity::Error>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, serenity::Error>>,
{
    let mut attempt = 1;
    loop {
        match call().await {
            Err(e) if is_rate_limited(&e) && attempt < SERENITY_ATTEMPTS => {
                warn!(
                    what,
                    attempt, "Discord rate limit (429); waiting before trying again"
                );
                clock.sleep(Duration::from_secs(u64::from(attempt))).await;
                attempt += 1;
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    fn clock() -> crate::clock::FakeClock {
        crate::clock::FakeClock::new(Utc.with_ymd_and_hms(2021, 7, 3, 6, 0, 0).unwrap())
    }

    async fn server_with(first: ResponseTemplate) -> MockServer {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/api/v10/channels/1/messages"))
            .respond_with(first)
            .up_to_n_times(1)
            .with_priority(1)
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/api/v10/channels/1/messages"))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"id": "9"})))
            .with_priority(2)
            .mount(&server)
            .await;
        server
    }

    #[tokio::test]
    async fn a_429_is_waited_out_as_header_or_body_says_on_the_clock() {
        for (first, waited) in [
            // Header and body: the header wins.
            (
                ResponseTemplate::new(429)
                    .insert_header("Retry-After", "2.5")
                    .set_body_json(serde_json::json!({"message": "You are being rate limited.", "retry_after": 9.0, "global": false})),
                2500,
            ),
            // Body only, without a `code`.
            (
                ResponseTemplate::new(429).set_body_json(
                    serde_json::json!({"message": "You are being rate limited.", "retry_after": 0.75, "global": true}),
                ),
                750,
            ),
            // Neither: one second. An absurd wait is capped.
            (ResponseTemplate::new(429), 1000),
            (ResponseTemplate::new(429).insert_header("Retry-After", "99999"), 60_000),
        ] {
            let server = server_with(first).await;
            let clock = clock();
            let rest = Rest::new(Some(&server.uri()), Some("tok"));
            let start = clock.now();
            let v = rest
                .post_json(&clock, "/channels/1/messages", None, true, &serde_json::json!({}))
                .await
                .unwrap();
            assert_eq!(v["id"], "9");
            assert_eq!((clock.now() - start).num_milliseconds(), waited);
            let reqs = server.received_requests().await.unwrap();
            assert_eq!(reqs.len(), 2);
            assert_eq!(reqs[1].headers.get("authorization").unwrap(), "Bot tok");
        }
    }

    #[tokio::test]
    async fn a_global_limit_holds_other_routes_and_an_exhausted_bucket_waits() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/api/v10/channels/1/messages"))
            .respond_with(
                ResponseTemplate::new(429)
                    .insert_header("Retry-After", "3")
                    .insert_header("X-RateLimit-Global", "true")
                    .set_body_json(serde_json::json!({"message": "global", "retry_after": 3.0, "global": true})),
            )
            .up_to_n_times(1)
            .with_priority(1)
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .respond_with(
                ResponseTemplate::new(200)
                    .insert_header("X-RateLimit-Remaining", "0")
                    .insert_header("X-RateLimit-Reset-After", "4")
                    .set_body_json(serde_json::json!({"id": "1"})),
            )
            .with_priority(2)
            .mount(&server)
            .await;
        let clock = clock();
        let rest = Rest::new(Some(&server.uri()), None);
        let t0 = clock.now();
        rest.post_json(
            &clock,
            "/channels/1/messages",
            None,
            false,
            &serde_json::json!({}),
        )
        .await
        .unwrap();
        assert_eq!((clock.now() - t0).num_seconds(), 3);
        // The route's bucket is empty for 4 s: the next call on it waits; another route not.
        let t1 = clock.now();
        rest.post_json(
            &clock,
            "/channels/2/messages",
            None,
            false,
            &serde_json::json!({}),
        )
        .await
        .unwrap();
        assert_eq!(clock.now(), t1);
        rest.post_json(
            &clock,
            "/channels/1/messages",
            None,
            false,
            &serde_json::json!({}),
        )
        .await
        .unwrap();
        assert_eq!((clock.now() - t1).num_seconds(), 4);
        let reqs = server.received_requests().await.unwrap();
        assert!(
            reqs.iter()
                .all(|r| r.headers.get("authorization").is_none())
        );
    }

    #[tokio::test]
    async fn endless_429s_give_up_and_errors_carry_no_body_or_url() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "1"))
            .mount(&server)
            .await;
        let clock = clock();
        let rest = Rest::new(Some(&server.uri()), Some("sekrit"));
        let err = rest
            .post_json(
                &clock,
                "/channels/1/messages",
                None,
                true,
                &serde_json::json!({}),
            )
            .await
            .unwrap_err();
        assert_eq!(
            err,
            RestError::RateLimited {
                waits: MAX_RATE_LIMITED
            }
        );
        assert_eq!(
            server.received_requests().await.unwrap().len(),
            MAX_RATE_LIMITED as usize + 1
        );
        let echo = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(401).set_body_json(
                serde_json::json!({"message": "401: Unauthorized", "code": 0, "echo": "Bot sekrit"}),
            ))
            .mount(&echo)
            .await;
        let rest = Rest::new(Some(&echo.uri()), Some("sekrit"));
        let err = rest
            .post_json(
                &clock,
                "/channels/1/messages",
                None,
                true,
                &serde_json::json!({}),
            )
            .await
            .unwrap_err();
        assert_eq!(err.to_string(), "HTTP 401: 401: Unauthorized");
        assert!(!format!("{rest:?}").contains("sekrit"));
    }
}
