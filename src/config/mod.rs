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
//!    separated by a double underscore; names without one (such as `HOTPAPERS_LOG`) are not
//!    configuration and are ignored. Values are plain text: `true`/`false` and numbers are
//!    converted when the key expects them, and list keys (`arxiv.categories`,
//!    `arxiv.holidays`, `ranking.order`, `sources.hn.hosts`, `sources.x.url_patterns`,
//!    `sources.bluesky.bot_accounts`, `summaries.order`) take either `a,b,c` or a bracketed
//!    `[a, b, c]`. The LLM's key is `HOTPAPERS_SUMMARIES__LLM__API_KEY`; an ambient
//!    `OPENAI_API_KEY` is deliberately not read (it would go to whatever `base_url` says).
//!
//! The key names are a public contract (see `config.toml.example`). Unknown keys and values
//! of the wrong type are errors naming the key and where it came from, because a silently
//! ignored typo in a bot's configuration is a bug that surfaces days later; so are unknown
//! source and metric names in `[ranking]` (with a "did you mean" suggestion). The
//! `[ranking]` weight tables are merged with the defaults key by key, so setting one metric
//! keeps the others. Values are then validated (URL schemes, and a range for every number and
//! duration) so that a bad setting fails at start-up rather than on the first request.
//!
//! Secrets are held in [`Secret`], whose `Debug`, `Display` and `Serialize` print
//! `[redacted]`, so `hotpapers config show` and logs cannot leak them.
//!
//! The pieces, one file each: the sections (`sections`: `[store]`, `[http]`, `[arxiv]`,
//! `[digest]`; `ranking`; `sources`; `discord`; `summaries`, which also holds
//! [`SummarySource`], the provider names `crate::summary` re-exports), the file and
//! environment layering (`env`), normalization, validation and error reporting (`validate`), and [`Secret`] (`secrets`).
//! Everything public is re-exported here, so callers name `crate::config::DiscordConfig` and
//! never the file it lives in; only [`x_query`] is a module of its own.
//!
//! This layer uses only [`crate::arxiv`] (the mailing calendar and its default holidays). What
//! validation and the defaults need from higher layers lives here instead, and those layers
//! build on it: the default ranking weights ([`SourceWeights`], [`default_source_weights`]),
//! used by `crate::ranking`, and X's URL prefixes and query rules ([`x_query`]), used by
//! `crate::sources::x`.

use std::path::Path;

use serde::{Deserialize, Serialize};

mod discord;
pub mod duration;
mod env;
mod ranking;
mod secrets;
mod sections;
mod sources;
mod summaries;
#[cfg(test)]
mod test_util;
mod validate;
pub mod x_query;

pub use discord::{DiscordConfig, MAX_GRACE_PERIOD, MAX_MIN_AGE, MAX_PARALLEL_POSTS};
pub use env::{DISCORD_TOKEN_ENV, ENV_PREFIX};
pub use ranking::{
    MAX_TRENDING_DAYS, RankingConfig, SOURCE_METRICS, SourceWeights, default_source_weights,
    is_known_metric, metric, source_metrics, source_name,
};
pub use secrets::Secret;
pub use sections::{ArxivConfig, DigestConfig, HttpConfig, StoreConfig, WebConfig};
pub use sources::{
    BlueskyConfig, HfConfig, HnConfig, SemanticScholarConfig, SourcesConfig, XConfig,
};
pub use summaries::{
    LlmConfig, MAX_LLM_CONCURRENCY, MAX_LLM_TIMEOUT, MAX_LLM_TOKENS, MAX_LLM_TOP, SummariesConfig,
    SummarySource,
};
pub use validate::ConfigError;

use env::{TomlText, assemble, process_env, read_file};

/// The file read when no path is given, relative to the working directory.
pub const DEFAULT_CONFIG_FILE: &str = "config.toml";

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
    /// Who writes each hot paper's one-line summary, and the optional LLM.
    pub summaries: SummariesConfig,
    /// The health and metrics server of `hotpapers run`.
    pub web: WebConfig,
}

impl Config {
    /// Every configured secret's value (tokens, the Bluesky app password, API keys): what
    /// the HTTP client scrubs from any upstream text it puts into an error, since an upstream
    /// may echo a request (its `Authorization` header, a login body) back in an error page.
    pub fn secrets(&self) -> Vec<String> {
        [
            self.discord.token.as_ref(),
            self.sources.hf.token.as_ref(),
            self.sources.bluesky.app_password.as_ref(),
            self.sources.x.bearer_token.as_ref(),
            self.sources.semantic_scholar.api_key.as_ref(),
            self.summaries.llm.api_key.as_ref(),
        ]
        .into_iter()
        .flatten()
        .map(|s| s.expose().to_string())
        .filter(|s| !s.trim().is_empty())
        .collect()
    }

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

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::time::Duration;

    use super::*;
    use crate::arxiv::calendar::default_holidays;
    use crate::config::test_util::date;
    use crate::config::validate::validate;

    const EXAMPLE: &str = include_str!("../../config.toml.example");

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
        assert_eq!(c.arxiv.max_import_bytes, 268_435_456);
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
        assert_eq!(c.summaries, SummariesConfig::default());
        assert!(!c.summaries.llm.enabled);
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
            "max_import_bytes",
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
            "order",
            "base_url",
            "model",
            "max_concurrency",
            "daily_budget",
            "max_tokens",
            "temperature",
        ] {
            assert!(
                EXAMPLE
                    .lines()
                    .any(|l| l.trim_start_matches(['#', ' ']).starts_with(key)),
                "{key} is not documented in config.toml.example"
            );
        }
    }
}
