//! `[sources.*]`: one section per attention source, with defaults and the checks that only
//! concern that source.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::Secret;
use super::x_query::DEFAULT_URL_PATTERNS;

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
    pub(super) fn validate(&self) -> Result<(), (String, String)> {
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
    pub(super) fn validate(&self) -> Result<(), (String, String)> {
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
    #[serde(with = "crate::config::duration")]
    pub cursor_save_interval: Duration,
    /// On restart the listener resumes this far before its saved cursor, so events around a
    /// crash are replayed (replays are idempotent) rather than lost.
    #[serde(with = "crate::config::duration")]
    pub replay_overlap: Duration,
    /// A connection that delivers nothing for this long is considered dead and reopened.
    #[serde(with = "crate::config::duration")]
    pub idle_timeout: Duration,
    /// Longest wait between reconnection attempts (the wait doubles from 1 s up to it).
    #[serde(with = "crate::config::duration")]
    pub reconnect_max_delay: Duration,
    /// Stored posts (and their counts) older than this are deleted by the listener.
    #[serde(with = "crate::config::duration")]
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
            url_patterns: DEFAULT_URL_PATTERNS
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
    #[serde(with = "crate::config::duration")]
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
    pub(super) fn validate(&self) -> Result<(), (String, String)> {
        if !(1..=500).contains(&self.batch_size) {
            return Err((
                "sources.semantic_scholar.batch_size".into(),
                format!("must be between 1 and 500, got {}", self.batch_size),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::config::test_util::load;
    use crate::config::{Config, ConfigError};

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
            crate::config::x_query::DEFAULT_URL_PATTERNS
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
}
