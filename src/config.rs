//! Configuration: built-in defaults, then a TOML file, then environment variables.
//!
//! Every setting has a default, so hotpapers runs with no file at all. Layers, lowest first:
//!
//! 1. built-in defaults ([`Config::default`]);
//! 2. a TOML file: the path given on the command line (which must exist), else `./config.toml`
//!    when present;
//! 3. `DISCORD_TOKEN`, which sets `discord.token` (the name every Discord tool uses);
//! 4. `HOTPAPERS_<SECTION>__<KEY>` variables, e.g. `HOTPAPERS_ARXIV__API_URL`,
//!    `HOTPAPERS_SOURCES__X__ENABLED=true`, `HOTPAPERS_STORE__PATH`. Sections and keys are
//!    separated by a double underscore; names without one (such as a future `HOTPAPERS_LOG`)
//!    are not configuration and are ignored. Values are plain text: `true`/`false` and numbers
//!    are converted when the key expects them, and list keys (`arxiv.categories`,
//!    `arxiv.holidays`) take either `a,b,c` or a bracketed `[a, b, c]`.
//!
//! The key names are a public contract (see `config.toml.example`). Unknown keys and values
//! of the wrong type are errors naming the key and where it came from, because a silently
//! ignored typo in a bot's configuration is a bug that surfaces days later. Values are then
//! validated (URL schemes, batch sizes, non-zero durations) so that a bad setting fails at
//! start-up rather than on the first request.
//!
//! Secrets are held in [`Secret`], whose `Debug`, `Display` and `Serialize` print
//! `[redacted]`, so `hotpapers config show` and logs cannot leak them.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::NaiveDate;
use figment::providers::{Format, Serialized, Toml};
use figment::value::{Dict, Map, Value};
use figment::{Figment, Metadata, Profile, Provider, Source};
use serde::{Deserialize, Serialize, Serializer};

use crate::arxiv::calendar::{MailingCalendar, default_holidays};

/// The file read when no path is given, relative to the working directory.
pub const DEFAULT_CONFIG_FILE: &str = "config.toml";

/// Prefix of the environment variables that override configuration keys.
pub const ENV_PREFIX: &str = "HOTPAPERS_";

/// Environment variable that sets `discord.token`, as Discord tooling conventionally names it.
pub const DISCORD_TOKEN_ENV: &str = "DISCORD_TOKEN";

/// Keys whose environment value is a list rather than a single value.
const LIST_KEYS: &[&str] = &[
    "arxiv.categories",
    "arxiv.holidays",
    "sources.hn.hosts",
    "sources.x.url_patterns",
    "sources.bluesky.bot_accounts",
];

/// Keys holding a humantime duration, for friendlier error messages.
const DURATION_KEYS: &[&str] = &[
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
];

/// Everything hotpapers can be configured with. See the module docs for the layering.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Where the database lives.
    pub store: StoreConfig,
    /// Settings shared by every upstream HTTP client.
    pub http: HttpConfig,
    /// The arXiv API, RSS feeds and mailing calendar.
    pub arxiv: ArxivConfig,
    /// How digests are built.
    pub digest: DigestConfig,
    /// How attention becomes a score.
    pub ranking: RankingConfig,
    /// The attention sources that rank papers.
    pub sources: SourcesConfig,
    /// The Discord front end.
    pub discord: DiscordConfig,
}

/// `[store]`: persistence.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreConfig {
    /// SQLite database file, relative to the working directory unless absolute.
    pub path: PathBuf,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            path: PathBuf::from("hotpapers.db"),
        }
    }
}

/// `[http]`: limits and retry policy applied to every upstream, so one slow or hostile server
/// cannot stall or exhaust the bot.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    /// Whole-request timeout.
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    /// Largest response body accepted, in bytes.
    pub max_response_bytes: u64,
    /// Retries after the first attempt for transient failures.
    pub max_retries: u32,
    /// First retry delay; doubles on each retry, with jitter.
    #[serde(with = "humantime_serde")]
    pub retry_base_delay: Duration,
    /// Upper bound for any single retry delay.
    #[serde(with = "humantime_serde")]
    pub retry_max_delay: Duration,
    /// Optional e-mail address or URL put in the User-Agent, as arXiv asks API users to do.
    pub contact: String,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            timeout: Duration::from_secs(30),
            max_response_bytes: 32 * 1024 * 1024,
            max_retries: 4,
            retry_base_delay: Duration::from_secs(1),
            retry_max_delay: Duration::from_secs(120),
            contact: String::new(),
        }
    }
}

/// `[arxiv]`: where papers come from and arXiv's schedule.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ArxivConfig {
    /// arXiv API query endpoint (Atom).
    pub api_url: String,
    /// arXiv RSS base URL; the category list is appended.
    pub rss_url: String,
    /// Followed categories: ids, archives or groups (e.g. `cs.LG`, `math`); empty = all of
    /// arXiv. Checked against the taxonomy by the caller, not here.
    pub categories: Vec<String>,
    /// Listing dates with no mailing (see [`crate::arxiv::calendar`]).
    pub holidays: Vec<NaiveDate>,
    /// Minimum spacing between requests to arXiv (its terms ask for one every 3 seconds).
    /// `0s` is only for local mirrors and tests.
    #[serde(with = "humantime_serde")]
    pub request_spacing: Duration,
    /// Results per API page (arXiv allows at most 2000).
    pub page_size: usize,
    /// Identifiers per `id_list` lookup.
    pub id_batch_size: usize,
}

impl Default for ArxivConfig {
    fn default() -> Self {
        ArxivConfig {
            api_url: "https://export.arxiv.org/api/query".into(),
            rss_url: "https://rss.arxiv.org/rss".into(),
            categories: Vec::new(),
            holidays: default_holidays(),
            request_spacing: Duration::from_secs(3),
            page_size: 1000,
            id_batch_size: 200,
        }
    }
}

impl ArxivConfig {
    /// The mailing calendar with the configured holidays.
    pub fn calendar(&self) -> MailingCalendar {
        MailingCalendar::new(self.holidays.iter().copied())
    }
}

/// `[digest]`: what a digest shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DigestConfig {
    /// How many papers a digest lists.
    pub top: usize,
    /// A digest re-collects attention from a source whose last sweep of that mailing is older
    /// than this.
    #[serde(with = "humantime_serde")]
    pub max_signal_age: Duration,
    /// Attention is swept from a mailing's submission window up to this long after its
    /// announcement (posts about older papers keep trickling in, but rarely change a ranking).
    #[serde(with = "humantime_serde")]
    pub attention_window: Duration,
}

impl Default for DigestConfig {
    fn default() -> Self {
        DigestConfig {
            top: 10,
            max_signal_age: Duration::from_secs(6 * 3600),
            attention_window: Duration::from_secs(7 * 24 * 3600),
        }
    }
}

/// `[ranking]`: how attention becomes a score (see `crate::ranking`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RankingConfig {
    /// Source priority: the first source with data breaks ties between equal scores.
    pub order: Vec<String>,
    /// Per source, the multiplier of `ln(1 + engagement)`.
    pub weights: std::collections::BTreeMap<String, f64>,
    /// Per source, metric → weight in the engagement sum (metrics not listed count 0).
    pub metrics: std::collections::BTreeMap<String, std::collections::BTreeMap<String, f64>>,
    /// Trending view: how many days of mailings it looks back over.
    pub trending_days: u32,
    /// Trending view: score / (age in hours + 2) ^ gravity, as Hacker News ranks stories.
    pub gravity: f64,
}

impl Default for RankingConfig {
    fn default() -> Self {
        let rule = crate::ranking::RankingRule::default();
        RankingConfig {
            order: rule.sources.iter().map(|s| s.source.clone()).collect(),
            weights: rule
                .sources
                .iter()
                .map(|s| (s.source.clone(), s.weight))
                .collect(),
            metrics: rule
                .sources
                .iter()
                .map(|s| (s.source.clone(), s.metrics.clone()))
                .collect(),
            trending_days: 7,
            gravity: 1.8,
        }
    }
}

/// `[sources.*]`: attention sources. Each can be switched off independently.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SourcesConfig {
    /// Hacker News via the Algolia search API.
    pub hn: HnConfig,
    /// Hugging Face daily papers.
    pub hf: HfConfig,
    /// Bluesky.
    pub bluesky: BlueskyConfig,
    /// X (Twitter); paid API, hence off by default.
    pub x: XConfig,
    /// Semantic Scholar citations.
    pub semantic_scholar: SemanticScholarConfig,
}

/// `[sources.hn]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HnConfig {
    /// Whether the source is queried.
    pub enabled: bool,
    /// HN Algolia API base URL.
    pub api_url: String,
    /// What story URLs are searched for, one sweep each: every place a story can link an arXiv
    /// paper. Links are still mapped to papers by the id parser, so a broad entry costs requests,
    /// never wrong counts.
    pub hosts: Vec<String>,
    /// Stories per result page (Algolia allows at most 1000, which also caps one query).
    pub hits_per_page: u32,
    /// How many times a time range with more than 1000 matching stories (Algolia's cap) is
    /// halved before the rest is given up with a note: bounds the requests a busy range costs.
    pub max_split_depth: u32,
}

impl Default for HnConfig {
    fn default() -> Self {
        HnConfig {
            enabled: true,
            api_url: "https://hn.algolia.com/api/v1".into(),
            hosts: vec![
                "arxiv.org".into(),
                "alphaxiv.org".into(),
                "huggingface.co/papers".into(),
            ],
            hits_per_page: 1000,
            max_split_depth: 6,
        }
    }
}

impl HnConfig {
    /// Checks the keys that deserialize fine but would fail at the first sweep.
    fn validate(&self) -> Result<(), (String, String)> {
        if let Some(bad) = self
            .hosts
            .iter()
            .find(|h| h.is_empty() || h.chars().any(|c| c.is_whitespace() || c.is_control()))
        {
            return Err((
                "sources.hn.hosts".into(),
                format!("entries must be non-empty and without spaces, got {bad:?}"),
            ));
        }
        if !(1..=1000).contains(&self.hits_per_page) {
            return Err((
                "sources.hn.hits_per_page".into(),
                format!("must be between 1 and 1000, got {}", self.hits_per_page),
            ));
        }
        if self.max_split_depth > 16 {
            return Err((
                "sources.hn.max_split_depth".into(),
                format!("must be at most 16, got {}", self.max_split_depth),
            ));
        }
        Ok(())
    }
}

/// `[sources.hf]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HfConfig {
    /// Whether the source is queried.
    pub enabled: bool,
    /// Hugging Face base URL.
    pub api_url: String,
    /// Optional access token (raises rate limits).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<Secret>,
    /// Papers per `daily_papers` page (`limit`; the API serves at most 100). A day rarely has
    /// more than 100, so one request per day is the norm.
    pub page_size: u32,
}

impl Default for HfConfig {
    fn default() -> Self {
        HfConfig {
            enabled: true,
            api_url: "https://huggingface.co".into(),
            token: None,
            page_size: 100,
        }
    }
}

impl HfConfig {
    /// Checks the keys that deserialize fine but would fail at the first sweep.
    fn validate(&self) -> Result<(), (String, String)> {
        if !(1..=100).contains(&self.page_size) {
            return Err((
                "sources.hf.page_size".into(),
                format!("must be between 1 and 100, got {}", self.page_size),
            ));
        }
        Ok(())
    }
}

/// `[sources.bluesky]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BlueskyConfig {
    /// Whether the source is queried.
    pub enabled: bool,
    /// Public AppView API base URL.
    pub api_url: String,
    /// Jetstream firehose endpoint (`ws://` or `wss://`).
    pub jetstream_url: String,
    /// PDS used to log in when credentials are set (search needs authentication).
    pub pds_url: String,
    /// Optional handle or DID to log in with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identifier: Option<String>,
    /// Optional app password for `identifier`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_password: Option<Secret>,
    /// Accounts that post papers automatically (arXiv feed bots, mirrors), as DIDs
    /// (`did:plc:…`, preferred: Jetstream events carry DIDs and DIDs never change) or handles
    /// (`name.bsky.social`, matched when the AppView reports the post's author). Their posts,
    /// and the bot's own (`identifier`), count with `bot_weight`.
    pub bot_accounts: Vec<String>,
    /// Weight, from 0 to 1, of a post by a bot account and of the likes, reposts, quotes and
    /// replies it got; 0 (the default) leaves them out, so a bot that posts every paper (or
    /// our own digest) cannot rank papers.
    pub bot_weight: f64,
    /// The listener saves its Jetstream cursor after this many events…
    pub cursor_save_events: u32,
    /// …or after this long, whichever comes first (and always on shutdown).
    #[serde(with = "humantime_serde")]
    pub cursor_save_interval: Duration,
    /// On restart the listener resumes this far before its saved cursor, so events around a
    /// crash are replayed (replays are idempotent) rather than lost.
    #[serde(with = "humantime_serde")]
    pub replay_overlap: Duration,
    /// A connection that delivers nothing for this long is considered dead and reopened.
    #[serde(with = "humantime_serde")]
    pub idle_timeout: Duration,
    /// Longest wait between reconnection attempts (the wait doubles from 1 s up to it).
    #[serde(with = "humantime_serde")]
    pub reconnect_max_delay: Duration,
    /// Stored posts (and their counts) older than this are deleted by the listener.
    #[serde(with = "humantime_serde")]
    pub retention: Duration,
    /// Most `searchPosts` pages (of 100 posts) read per sweep when credentials are set.
    pub max_search_pages: u32,
}

impl Default for BlueskyConfig {
    fn default() -> Self {
        BlueskyConfig {
            enabled: true,
            api_url: "https://public.api.bsky.app".into(),
            jetstream_url: "wss://jetstream2.us-east.bsky.network/subscribe".into(),
            pds_url: "https://bsky.social".into(),
            identifier: None,
            app_password: None,
            bot_accounts: Vec::new(),
            bot_weight: 0.0,
            cursor_save_events: 1000,
            cursor_save_interval: Duration::from_secs(10),
            replay_overlap: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            reconnect_max_delay: Duration::from_secs(60),
            retention: Duration::from_secs(30 * 24 * 3600),
            max_search_pages: 10,
        }
    }
}

/// `[sources.x]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct XConfig {
    /// Whether the source is queried (off by default: the API is paid).
    pub enabled: bool,
    /// X API base URL.
    pub api_url: String,
    /// App-only bearer token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bearer_token: Option<Secret>,
    /// Most requests spent per day, to bound cost.
    pub daily_request_budget: u32,
    /// Use full-archive search instead of the recent (7-day) endpoint.
    pub full_archive: bool,
    /// URL prefixes searched with X's `url:` operator (e.g. `arxiv.org/abs`). Configurable
    /// because people link papers through mirrors and aggregators that come and go; the
    /// resulting query must fit X's 512-character limit, which validation checks.
    pub url_patterns: Vec<String>,
}

impl Default for XConfig {
    fn default() -> Self {
        XConfig {
            enabled: false,
            api_url: "https://api.x.com".into(),
            bearer_token: None,
            daily_request_budget: 50,
            full_archive: false,
            url_patterns: crate::sources::x::DEFAULT_URL_PATTERNS
                .iter()
                .map(|p| (*p).to_string())
                .collect(),
        }
    }
}

/// `[sources.semantic_scholar]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SemanticScholarConfig {
    /// Whether the source is queried.
    pub enabled: bool,
    /// Graph API base URL.
    pub api_url: String,
    /// Optional API key (raises rate limits).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_key: Option<Secret>,
    /// Paper ids per `paper/batch` request (the API takes at most 500).
    pub batch_size: u32,
    /// Minimum spacing between request starts: a key is granted 1 request per second, and the
    /// anonymous pool is shared, so bursts only earn 429s.
    #[serde(with = "humantime_serde")]
    pub request_spacing: Duration,
}

impl Default for SemanticScholarConfig {
    fn default() -> Self {
        SemanticScholarConfig {
            enabled: true,
            api_url: "https://api.semanticscholar.org/graph/v1".into(),
            api_key: None,
            batch_size: 500,
            request_spacing: Duration::from_secs(1),
        }
    }
}

impl SemanticScholarConfig {
    /// Checks the keys that deserialize fine but would fail at the first request.
    fn validate(&self) -> Result<(), (String, String)> {
        if !(1..=500).contains(&self.batch_size) {
            return Err((
                "sources.semantic_scholar.batch_size".into(),
                format!("must be between 1 and 500, got {}", self.batch_size),
            ));
        }
        Ok(())
    }
}

/// `[discord]`: the bot front end.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DiscordConfig {
    /// Bot token (usually from `DISCORD_TOKEN`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<Secret>,
    /// Base URL that receives every Discord REST call instead of discord.com (a proxy, or a
    /// mock server in tests).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proxy_url: Option<String>,
    /// Application id, needed to register slash commands.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub application_id: Option<u64>,
    /// How late a daily post may still go out after its time (the bot was down, the network
    /// was out); a post missed by more is skipped with a log line, so a channel never gets
    /// yesterday's digest in the middle of the night.
    #[serde(with = "humantime_serde")]
    pub grace_period: Duration,
    /// How old a mailing must be before a daily post (and `/preview`) shows it, so attention
    /// has time to build.
    #[serde(with = "humantime_serde")]
    pub min_age: Duration,
    /// Most daily posts sent at once when many subscriptions fire together.
    pub parallel_posts: usize,
}

impl Default for DiscordConfig {
    fn default() -> Self {
        DiscordConfig {
            token: None,
            proxy_url: None,
            application_id: None,
            grace_period: Duration::from_secs(6 * 3600),
            min_age: Duration::from_secs(24 * 3600),
            parallel_posts: 4,
        }
    }
}

/// Longest `[discord] grace_period`: a day, or a post could show up at any hour.
pub const MAX_GRACE_PERIOD: Duration = Duration::from_secs(24 * 3600);
/// Longest `[discord] min_age`: a week (arXiv mailings are daily; more would post old news).
pub const MAX_MIN_AGE: Duration = Duration::from_secs(7 * 24 * 3600);
/// Most `[discord] parallel_posts` (Discord's global limit is 50 requests per second).
pub const MAX_PARALLEL_POSTS: usize = 32;

impl DiscordConfig {
    /// Checks the scheduler keys; returns (key, reason) like [`validate`].
    fn validate(&self) -> Result<(), (String, String)> {
        let err = |key: &str, reason: String| Err((format!("discord.{key}"), reason));
        if self.grace_period.is_zero() || self.grace_period > MAX_GRACE_PERIOD {
            return err(
                "grace_period",
                format!(
                    "must be greater than zero and at most 24h, got {}",
                    humantime::format_duration(self.grace_period)
                ),
            );
        }
        if self.min_age > MAX_MIN_AGE {
            return err(
                "min_age",
                format!(
                    "must be at most 7days, got {}",
                    humantime::format_duration(self.min_age)
                ),
            );
        }
        if !(1..=MAX_PARALLEL_POSTS).contains(&self.parallel_posts) {
            return err(
                "parallel_posts",
                format!(
                    "must be between 1 and {MAX_PARALLEL_POSTS}, got {}",
                    self.parallel_posts
                ),
            );
        }
        Ok(())
    }
}

/// A credential. Prints and serializes as `[redacted]` so it cannot leak through logs,
/// `Debug` output or `hotpapers config show`; the value is only reachable via
/// [`Secret::expose`].
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a credential.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The credential itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str("[redacted]")
    }
}

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
    #[error("unknown configuration key '{key}' in {origin}{}", expected_suffix(.expected))]
    UnknownKey {
        /// Full dotted key, e.g. `arxiv.api_ulr`.
        key: String,
        /// Where it came from: a file path or an environment variable.
        origin: String,
        /// The keys valid at that level.
        expected: Vec<String>,
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

fn expected_suffix(expected: &[String]) -> String {
    if expected.is_empty() {
        String::new()
    } else {
        format!(" (expected one of: {})", expected.join(", "))
    }
}

impl Config {
    /// Loads the configuration from defaults, the file and the process environment.
    ///
    /// `path` must exist when given; without it `./config.toml` is read when present.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] naming the file, key and environment variable at fault.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        Config::load_with_env(path, process_env()?)
    }

    /// As [`Config::load`], but with an explicit environment instead of the process's, so
    /// tests and embedders need not touch global state. Only `DISCORD_TOKEN` and
    /// `HOTPAPERS_<SECTION>__<KEY>` entries are used; the rest are ignored.
    ///
    /// # Errors
    ///
    /// As [`Config::load`].
    pub fn load_with_env<I, K, V>(path: Option<&Path>, env: I) -> Result<Config, ConfigError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let file = match path {
            Some(path) => Some(read_file(path)?),
            None => {
                let default = Path::new(DEFAULT_CONFIG_FILE);
                if default.is_file() {
                    Some(read_file(default)?)
                } else {
                    None
                }
            }
        };
        let env: Vec<(String, String)> =
            env.into_iter().map(|(k, v)| (k.into(), v.into())).collect();
        assemble(file.as_ref(), &env)
    }

    /// Parses a TOML document over the defaults, without reading the environment (for tests
    /// and for validating a file before installing it).
    ///
    /// # Errors
    ///
    /// As [`Config::load`]; the origin is reported as "inline TOML".
    pub fn from_toml_str(toml: &str) -> Result<Config, ConfigError> {
        let text = TomlText {
            origin: "inline TOML".into(),
            path: None,
            text: toml.to_owned(),
        };
        assemble(Some(&text), &[])
    }
}

/// A TOML document and where it came from.
struct TomlText {
    origin: String,
    path: Option<PathBuf>,
    text: String,
}

fn read_file(path: &Path) -> Result<TomlText, ConfigError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(TomlText {
            origin: path.display().to_string(),
            path: Some(path.to_path_buf()),
            text,
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(ConfigError::NotFound {
            path: path.to_path_buf(),
        }),
        Err(cause) => Err(ConfigError::Read {
            path: path.to_path_buf(),
            cause,
        }),
    }
}

/// The process environment, keeping only the variables this module reads.
fn process_env() -> Result<Vec<(String, String)>, ConfigError> {
    let mut out = Vec::new();
    for (name, value) in std::env::vars_os() {
        let Some(name) = name.to_str().map(str::to_owned) else {
            continue; // a non-UTF-8 name cannot be one of ours
        };
        if env_key_path(&name).is_none() {
            continue;
        }
        let value = value
            .into_string()
            .map_err(|_: OsString| ConfigError::NonUnicodeEnv { name: name.clone() })?;
        out.push((name, value));
    }
    Ok(out)
}

/// The dotted key an environment variable overrides, or `None` when the variable is not
/// configuration. A name with an empty segment yields a key that will be reported unknown.
fn env_key_path(name: &str) -> Option<String> {
    if name == DISCORD_TOKEN_ENV {
        return Some("discord.token".into());
    }
    let prefix = name.get(..ENV_PREFIX.len())?;
    if !prefix.eq_ignore_ascii_case(ENV_PREFIX) {
        return None;
    }
    let rest = name.get(ENV_PREFIX.len()..)?;
    if !rest.contains("__") {
        return None;
    }
    Some(
        rest.to_ascii_lowercase()
            .split("__")
            .collect::<Vec<_>>()
            .join("."),
    )
}

/// The figment value for an environment variable's text.
fn env_value(key: &str, raw: &str) -> Value {
    if !LIST_KEYS.contains(&key) {
        return Value::from(raw.to_owned());
    }
    let trimmed = raw.trim();
    if trimmed.starts_with('[') {
        // Not an array (say "[a, b" without its bracket): keep the text, so that extraction
        // reports "expected a sequence" for this key instead of guessing.
        let Ok(value) = trimmed.parse::<Value>();
        return value;
    }
    let items: Vec<Value> = trimmed
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| Value::from(item.to_owned()))
        .collect();
    Value::from(items)
}

/// A provider with our own metadata, so errors name the file or variable.
struct Named<P> {
    inner: P,
    metadata: Metadata,
}

impl<P: Provider> Provider for Named<P> {
    fn metadata(&self) -> Metadata {
        self.metadata.clone()
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        self.inner.data()
    }
}

fn assemble(file: Option<&TomlText>, env: &[(String, String)]) -> Result<Config, ConfigError> {
    let mut figment = Figment::new();
    if let Some(file) = file {
        // Parse once up front so syntax errors are reported as such, with their position.
        if let Err(e) = Toml::string(&file.text).data() {
            return Err(ConfigError::Syntax {
                origin: file.origin.clone(),
                message: one_line_toml_error(&e.to_string()),
            });
        }
        let metadata = match &file.path {
            Some(path) => Metadata::from("TOML file", Source::File(path.clone())),
            None => Metadata::named(file.origin.clone()),
        };
        figment = figment.merge(Named {
            inner: Toml::string(&file.text),
            metadata,
        });
        // The file alone must be strictly typed: `enabled = "yes"` in TOML is a mistake.
        figment
            .extract::<Config>()
            .map_err(|e| convert_error(&figment, e))?;
    }

    // DISCORD_TOKEN first so that HOTPAPERS_DISCORD__TOKEN, the more specific name, wins.
    let mut vars: Vec<(&str, String)> = env
        .iter()
        .filter_map(|(name, _)| env_key_path(name).map(|key| (name.as_str(), key)))
        .collect();
    vars.sort_by_key(|(name, _)| *name != DISCORD_TOKEN_ENV);
    let values: BTreeMap<&str, &str> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    for (name, key) in vars {
        if key.split('.').any(str::is_empty) {
            return Err(ConfigError::UnknownKey {
                key,
                origin: format!("environment variable {name}"),
                expected: Vec::new(),
            });
        }
        let raw = values.get(name).copied().unwrap_or_default();
        figment = figment.merge(Named {
            inner: Serialized::default(&key, env_value(&key, raw)),
            metadata: Metadata::named(format!("environment variable {name}")),
        });
    }

    // Environment values are text; let "true" and "42" fill booleans and numbers.
    let mut config: Config = figment
        .extract_lossy()
        .map_err(|e| convert_error(&figment, e))?;
    normalize(&mut config);
    validate(&config).map_err(|(key, reason)| ConfigError::InvalidValue {
        origin: origin_of(&figment, &key),
        key,
        reason,
    })?;
    Ok(config)
}

/// Treats blank optional settings as unset and trims pasted secrets (a trailing newline from
/// `cat token.txt` would otherwise be sent in an `Authorization` header).
fn normalize(config: &mut Config) {
    fn secret(s: &mut Option<Secret>) {
        *s = s
            .take()
            .map(|v| v.0.trim().to_owned())
            .filter(|v| !v.is_empty())
            .map(Secret);
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
    text(&mut config.sources.bluesky.identifier);
    for account in &mut config.sources.bluesky.bot_accounts {
        *account = account.trim().trim_start_matches('@').to_owned();
    }
    text(&mut config.discord.proxy_url);
    config.http.contact = config.http.contact.trim().to_owned();
}

/// Checks values that deserialize fine but would fail later; returns (key, reason).
fn validate(c: &Config) -> Result<(), (String, String)> {
    let err = |key: &str, reason: String| Err((key.to_owned(), reason));
    for (source, w) in &c.ranking.weights {
        if !w.is_finite() || *w < 0.0 {
            return err(
                &format!("ranking.weights.{source}"),
                "must be a number >= 0".into(),
            );
        }
    }
    for (source, metrics) in &c.ranking.metrics {
        for (metric, w) in metrics {
            if !w.is_finite() {
                return err(
                    &format!("ranking.metrics.{source}.{metric}"),
                    "must be a finite number".into(),
                );
            }
        }
    }
    if !c.ranking.gravity.is_finite() || c.ranking.gravity < 0.0 {
        return err("ranking.gravity", "must be a number >= 0".into());
    }
    if c.ranking.trending_days == 0 {
        return err("ranking.trending_days", "must be at least 1".into());
    }
    let http = ["http", "https"];
    let urls: [(&str, &str, &[&str]); 9] = [
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
    if c.http.timeout.is_zero() {
        return err("http.timeout", "must be greater than zero".into());
    }
    if c.http.max_response_bytes == 0 {
        return err(
            "http.max_response_bytes",
            "must be greater than zero".into(),
        );
    }
    if c.http.retry_base_delay.is_zero() {
        return err("http.retry_base_delay", "must be greater than zero".into());
    }
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
    if c.digest.top == 0 {
        return err("digest.top", "must be at least 1".into());
    }
    c.sources.hn.validate()?;
    c.sources.hf.validate()?;
    c.sources.semantic_scholar.validate()?;
    c.discord.validate()?;
    crate::sources::x::check_url_patterns(&c.sources.x.url_patterns)
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
fn validate_bluesky(b: &BlueskyConfig) -> Result<(), (String, String)> {
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
    if b.cursor_save_events == 0 {
        return err("cursor_save_events", "must be at least 1".into());
    }
    let positive = [
        ("cursor_save_interval", b.cursor_save_interval),
        ("idle_timeout", b.idle_timeout),
        ("reconnect_max_delay", b.reconnect_max_delay),
        ("retention", b.retention),
    ];
    for (key, value) in positive {
        if value.is_zero() {
            return err(key, "must be greater than zero".into());
        }
    }
    if b.max_search_pages == 0 {
        return err("max_search_pages", "must be at least 1".into());
    }
    Ok(())
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
fn origin_of(figment: &Figment, key: &str) -> String {
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
fn convert_error(figment: &Figment, error: figment::Error) -> ConfigError {
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
fn one_line_toml_error(message: &str) -> String {
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
    use super::*;
    use std::io::Write;

    const EXAMPLE: &str = include_str!("../config.toml.example");

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn toml_file(contents: &str) -> tempfile::NamedTempFile {
        let mut file = tempfile::Builder::new()
            .suffix(".toml")
            .tempfile()
            .expect("temp file");
        file.write_all(contents.as_bytes())
            .expect("write temp file");
        file
    }

    fn load(contents: &str, vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let file = toml_file(contents);
        Config::load_with_env(Some(file.path()), env(vars))
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
    }

    #[test]
    fn defaults_match_the_documented_contract() {
        let c = Config::from_toml_str("").expect("empty TOML is valid");
        assert_eq!(c, Config::default());
        assert_eq!(c.store.path, PathBuf::from("hotpapers.db"));
        assert_eq!(c.http.timeout, Duration::from_secs(30));
        assert_eq!(c.http.max_response_bytes, 33_554_432);
        assert_eq!(c.http.max_retries, 4);
        assert_eq!(c.http.retry_base_delay, Duration::from_secs(1));
        assert_eq!(c.http.retry_max_delay, Duration::from_secs(120));
        assert_eq!(c.http.contact, "");
        assert_eq!(c.arxiv.api_url, "https://export.arxiv.org/api/query");
        assert_eq!(c.arxiv.rss_url, "https://rss.arxiv.org/rss");
        assert!(c.arxiv.categories.is_empty());
        assert_eq!(c.arxiv.holidays, default_holidays());
        assert_eq!(c.arxiv.request_spacing, Duration::from_secs(3));
        assert_eq!(c.arxiv.page_size, 1000);
        assert_eq!(c.arxiv.id_batch_size, 200);
        assert_eq!(c.digest.top, 10);
        assert!(c.sources.hn.enabled && c.sources.hf.enabled && c.sources.bluesky.enabled);
        assert!(c.sources.semantic_scholar.enabled);
        assert!(!c.sources.x.enabled && !c.sources.x.full_archive);
        assert_eq!(c.sources.x.daily_request_budget, 50);
        assert_eq!(
            c.sources.bluesky.jetstream_url,
            "wss://jetstream2.us-east.bsky.network/subscribe"
        );
        assert_eq!(c.discord, DiscordConfig::default());
        assert!(validate(&Config::default()).is_ok());
    }

    #[test]
    fn toml_overrides_defaults_and_keeps_the_rest() {
        let c = Config::from_toml_str(
            r#"
            [http]
            timeout = "45s"
            retry_max_delay = "5m"
            contact = "mailto:ops@example.org"
            [arxiv]
            categories = ["cs.LG", "stat.ML"]
            holidays = ["2027-01-01"]
            page_size = 500
            [digest]
            top = 5
            [sources.x]
            enabled = true
            bearer_token = "xyz"
            [discord]
            application_id = 123456789012345678
            proxy_url = "http://127.0.0.1:9000"
            "#,
        )
        .expect("valid TOML");
        assert_eq!(c.http.timeout, Duration::from_secs(45));
        assert_eq!(c.http.retry_max_delay, Duration::from_secs(300));
        assert_eq!(c.http.max_retries, 4);
        assert_eq!(c.http.contact, "mailto:ops@example.org");
        assert_eq!(c.arxiv.categories, ["cs.LG", "stat.ML"]);
        assert_eq!(c.arxiv.holidays, [date(2027, 1, 1)]);
        assert_eq!(c.arxiv.page_size, 500);
        assert_eq!(c.arxiv.id_batch_size, 200);
        assert_eq!(c.digest.top, 5);
        assert!(c.sources.x.enabled);
        assert_eq!(
            c.sources.x.bearer_token.as_ref().map(Secret::expose),
            Some("xyz")
        );
        assert_eq!(c.sources.x.daily_request_budget, 50);
        assert_eq!(c.discord.application_id, Some(123_456_789_012_345_678));
        assert_eq!(
            c.discord.proxy_url.as_deref(),
            Some("http://127.0.0.1:9000")
        );
        assert!(c.arxiv.calendar().holidays().eq([date(2027, 1, 1)]));
    }

    #[test]
    fn environment_overrides_file_including_nested_sources() {
        let c = load(
            "[arxiv]\napi_url = \"https://file.example/api\"\n[sources.x]\nenabled = false\n",
            &[
                ("HOTPAPERS_ARXIV__API_URL", "https://env.example/api"),
                ("HOTPAPERS_SOURCES__X__ENABLED", "true"),
                ("HOTPAPERS_SOURCES__X__DAILY_REQUEST_BUDGET", "7"),
                ("HOTPAPERS_STORE__PATH", "/var/lib/hotpapers/db.sqlite"),
                ("HOTPAPERS_HTTP__RETRY_BASE_DELAY", "250ms"),
                ("HOTPAPERS_ARXIV__CATEGORIES", "cs.LG, stat.ML"),
                ("HOTPAPERS_ARXIV__HOLIDAYS", "[2027-01-01, 2027-01-19]"),
                ("HOTPAPERS_DISCORD__APPLICATION_ID", "42"),
                ("HOTPAPERS_LOG", "debug"), // not configuration: no "__"
                ("PATH", "/usr/bin"),
            ],
        )
        .expect("valid configuration");
        assert_eq!(c.arxiv.api_url, "https://env.example/api");
        assert!(c.sources.x.enabled);
        assert_eq!(c.sources.x.daily_request_budget, 7);
        assert_eq!(c.store.path, PathBuf::from("/var/lib/hotpapers/db.sqlite"));
        assert_eq!(c.http.retry_base_delay, Duration::from_millis(250));
        assert_eq!(c.arxiv.categories, ["cs.LG", "stat.ML"]);
        assert_eq!(c.arxiv.holidays, [date(2027, 1, 1), date(2027, 1, 19)]);
        assert_eq!(c.discord.application_id, Some(42));
    }

    #[test]
    fn x_url_patterns_from_env_list_and_validated() {
        let c = load(
            "",
            &[(
                "HOTPAPERS_SOURCES__X__URL_PATTERNS",
                "arxiv.org/abs, alphaxiv.org/abs",
            )],
        )
        .expect("valid");
        assert_eq!(
            c.sources.x.url_patterns,
            ["arxiv.org/abs", "alphaxiv.org/abs"]
        );
        assert_eq!(
            Config::default().sources.x.url_patterns,
            crate::sources::x::DEFAULT_URL_PATTERNS
        );
        let many: Vec<String> = (0..40)
            .map(|i| format!("\"mirror{i}.example/abs\""))
            .collect();
        let long = format!("url_patterns = [{}]", many.join(", "));
        for (toml, why) in [
            ("url_patterns = []", "at least one"),
            ("url_patterns = [\"arxiv.org/abs\", \"\"]", "empty"),
            ("url_patterns = [\"arxiv.org/ abs\"]", "spaces"),
            ("url_patterns = [\"arxiv.org/\\\"abs\"]", "quotes"),
            (long.as_str(), "512"),
        ] {
            match Config::from_toml_str(&format!("[sources.x]\n{toml}\n")) {
                Err(ConfigError::InvalidValue { key, reason, .. }) => {
                    assert_eq!(key, "sources.x.url_patterns", "{toml}");
                    assert!(reason.contains(why), "{toml}: {reason}");
                }
                other => panic!("{toml}: expected InvalidValue, got {other:?}"),
            }
        }
    }

    #[test]
    fn discord_token_env_and_specific_name_precedence() {
        let c = load("", &[("DISCORD_TOKEN", "  tok-123\n")]).expect("valid");
        assert_eq!(
            c.discord.token.as_ref().map(Secret::expose),
            Some("tok-123")
        );
        let c = load(
            "[discord]\ntoken = \"from-file\"\n",
            &[
                ("HOTPAPERS_DISCORD__TOKEN", "specific"),
                ("DISCORD_TOKEN", "generic"),
            ],
        )
        .expect("valid");
        assert_eq!(
            c.discord.token.as_ref().map(Secret::expose),
            Some("specific")
        );
        // A numeric-looking secret stays text.
        let c = load("", &[("DISCORD_TOKEN", "0123456789")]).expect("valid");
        assert_eq!(
            c.discord.token.as_ref().map(Secret::expose),
            Some("0123456789")
        );
        // Blank means unset.
        let c = load("", &[("DISCORD_TOKEN", "   ")]).expect("valid");
        assert!(c.discord.token.is_none());
    }

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
    fn missing_explicit_file_is_named() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("nope.toml");
        let err = Config::load_with_env(Some(&path), env(&[])).expect_err("missing");
        assert!(matches!(err, ConfigError::NotFound { .. }));
        assert_eq!(
            err.to_string(),
            format!("configuration file {} does not exist", path.display())
        );
        let err = Config::load_with_env(Some(dir.path()), env(&[])).expect_err("directory");
        assert!(matches!(err, ConfigError::Read { .. }), "{err}");
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

    #[test]
    fn secrets_never_leak() {
        let c = Config::from_toml_str(
            r#"
            [sources.hf]
            token = "hf_SECRET1"
            [sources.bluesky]
            identifier = "bot.example.org"
            app_password = "SECRET2"
            [sources.x]
            bearer_token = "SECRET3"
            [sources.semantic_scholar]
            api_key = "SECRET4"
            [discord]
            token = "SECRET5"
            "#,
        )
        .expect("valid");
        let debug = format!("{c:?} {c:#?}");
        let json = serde_json::to_string(&c).expect("serializes");
        for shown in [&debug, &json] {
            assert!(!shown.contains("SECRET"), "{shown}");
            assert!(shown.contains("[redacted]"));
        }
        assert!(json.contains("bot.example.org"));
        let secret = Secret::new("SECRET6");
        assert_eq!(secret.to_string(), "[redacted]");
        assert_eq!(format!("{secret:?}"), "[redacted]");
        assert_eq!(
            serde_json::to_string(&secret).ok().as_deref(),
            Some("\"[redacted]\"")
        );
        assert_eq!(secret.expose(), "SECRET6");
        assert_eq!(
            c.discord.token.as_ref().map(Secret::expose),
            Some("SECRET5")
        );
    }

    #[test]
    fn example_file_loads_and_restates_the_defaults() {
        let c = Config::from_toml_str(EXAMPLE).expect("config.toml.example is valid");
        assert_eq!(c, Config::default());
        // Every key of the contract is documented in the example.
        for key in [
            "path",
            "timeout",
            "max_response_bytes",
            "max_retries",
            "retry_base_delay",
            "retry_max_delay",
            "contact",
            "api_url",
            "rss_url",
            "categories",
            "holidays",
            "request_spacing",
            "page_size",
            "id_batch_size",
            "top",
            "enabled",
            "token",
            "jetstream_url",
            "pds_url",
            "identifier",
            "app_password",
            "bearer_token",
            "daily_request_budget",
            "full_archive",
            "url_patterns",
            "api_key",
            "proxy_url",
            "application_id",
            "hosts",
            "hits_per_page",
            "max_split_depth",
            "batch_size",
            "bot_accounts",
            "bot_weight",
            "cursor_save_events",
            "cursor_save_interval",
            "replay_overlap",
            "idle_timeout",
            "reconnect_max_delay",
            "retention",
            "max_search_pages",
        ] {
            assert!(
                EXAMPLE
                    .lines()
                    .any(|l| l.trim_start_matches(['#', ' ']).starts_with(key)),
                "{key} is not documented in config.toml.example"
            );
        }
    }

    #[test]
    fn social_source_keys_are_validated() {
        for (toml, key) in [
            (
                "[sources.hn]\nhosts = [\"arxiv.org\", \"\"]\n",
                "sources.hn.hosts",
            ),
            (
                "[sources.hn]\nhosts = [\"arxiv .org\"]\n",
                "sources.hn.hosts",
            ),
            (
                "[sources.hn]\nhits_per_page = 0\n",
                "sources.hn.hits_per_page",
            ),
            (
                "[sources.hn]\nhits_per_page = 1001\n",
                "sources.hn.hits_per_page",
            ),
            (
                "[sources.hn]\nmax_split_depth = 17\n",
                "sources.hn.max_split_depth",
            ),
            ("[sources.hf]\npage_size = 101\n", "sources.hf.page_size"),
            ("[sources.hf]\npage_size = 0\n", "sources.hf.page_size"),
            (
                "[sources.semantic_scholar]\nbatch_size = 501\n",
                "sources.semantic_scholar.batch_size",
            ),
            (
                "[sources.semantic_scholar]\nrequest_spacing = \"soon\"\n",
                "sources.semantic_scholar.request_spacing",
            ),
        ] {
            let err = Config::from_toml_str(toml).expect_err(toml);
            assert!(
                matches!(&err, ConfigError::InvalidValue { key: k, .. } if k == key),
                "{toml}: {err}"
            );
        }
        let c = Config::from_toml_str(
            "[sources.hn]\nhosts = [\"arxiv.org\"]\nhits_per_page = 1\nmax_split_depth = 0\n\
             [sources.semantic_scholar]\nrequest_spacing = \"0s\"\nbatch_size = 1\n",
        )
        .expect("edge values are valid");
        assert_eq!(c.sources.hn.hosts, ["arxiv.org"]);
        assert_eq!(c.sources.semantic_scholar.request_spacing, Duration::ZERO);
    }

    #[test]
    fn hn_hosts_take_a_list_from_the_environment() {
        let c = load(
            "",
            &[("HOTPAPERS_SOURCES__HN__HOSTS", "arxiv.org, alphaxiv.org")],
        )
        .expect("env list");
        assert_eq!(c.sources.hn.hosts, ["arxiv.org", "alphaxiv.org"]);
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

    #[test]
    fn env_key_mapping() {
        assert_eq!(
            env_key_path("DISCORD_TOKEN").as_deref(),
            Some("discord.token")
        );
        assert_eq!(
            env_key_path("HOTPAPERS_SOURCES__SEMANTIC_SCHOLAR__API_KEY").as_deref(),
            Some("sources.semantic_scholar.api_key")
        );
        assert_eq!(env_key_path("HOTPAPERS_LOG"), None);
        assert_eq!(env_key_path("HOTPAPERS"), None);
        assert_eq!(env_key_path("OTHER_ARXIV__API_URL"), None);
        assert_eq!(env_key_path("HOTPAPERS_ARXIV__").as_deref(), Some("arxiv."));
        assert_eq!(
            env_key_path("hotpapers_arxiv__page_size").as_deref(),
            Some("arxiv.page_size")
        );
        assert_eq!(env_key_path("HOTPAPERSÉ__X"), None);
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
    fn discord_scheduler_keys_default_parse_and_validate() {
        let d = DiscordConfig::default();
        assert_eq!(d.grace_period, Duration::from_secs(6 * 3600));
        assert_eq!(d.min_age, Duration::from_secs(24 * 3600));
        assert_eq!(d.parallel_posts, 4);
        let c = Config::from_toml_str(
            "[discord]\ngrace_period = \"90m\"\nmin_age = \"0s\"\nparallel_posts = 32\n",
        )
        .expect("valid");
        assert_eq!(c.discord.grace_period, Duration::from_secs(90 * 60));
        assert_eq!(c.discord.min_age, Duration::ZERO);
        assert_eq!(c.discord.parallel_posts, 32);
        let c = load("", &[("HOTPAPERS_DISCORD__GRACE_PERIOD", "2h")]).expect("env");
        assert_eq!(c.discord.grace_period, Duration::from_secs(7200));
        for (toml, key, why) in [
            (
                "grace_period = \"0s\"",
                "discord.grace_period",
                "greater than zero",
            ),
            (
                "grace_period = \"25h\"",
                "discord.grace_period",
                "at most 24h",
            ),
            (
                "grace_period = \"soon\"",
                "discord.grace_period",
                "duration",
            ),
            ("min_age = \"8days\"", "discord.min_age", "at most 7days"),
            (
                "parallel_posts = 0",
                "discord.parallel_posts",
                "between 1 and 32",
            ),
            (
                "parallel_posts = 33",
                "discord.parallel_posts",
                "between 1 and 32",
            ),
        ] {
            match Config::from_toml_str(&format!("[discord]\n{toml}\n")) {
                Err(ConfigError::InvalidValue { key: k, reason, .. }) => {
                    assert_eq!(k, key, "{toml}");
                    assert!(reason.contains(why), "{toml}: {reason}");
                    assert!(!reason.contains('\n'), "{reason}");
                }
                other => panic!("{toml}: expected InvalidValue, got {other:?}"),
            }
        }
    }
}
