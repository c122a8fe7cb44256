//! The general sections: `[store]`, `[http]`, `[arxiv]` and `[digest]`, with their defaults.

use std::path::PathBuf;
use std::time::Duration;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::arxiv::calendar::{MailingCalendar, default_holidays};

/// `[store]`: persistence.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreConfig {
    /// SQLite database file, relative to the working directory unless absolute.
    pub path: PathBuf,
    /// How long a write waits for another process's lock on the file (e.g. a `run` bot's
    /// ingest while `import` writes) before failing with "the database is busy". Long enough
    /// to ride out another writer's commit, short enough that a stuck process is reported.
    #[serde(with = "crate::config::duration")]
    pub busy_timeout: Duration,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            path: PathBuf::from("hotpapers.db"),
            busy_timeout: Duration::from_secs(5),
        }
    }
}

/// `[web]`: the HTTP server `hotpapers run` starts for health checks and metrics.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebConfig {
    /// `host:port` to serve `/healthz` and `/metrics` on (e.g. `127.0.0.1:8088`); unset (the
    /// default): no server. `hotpapers health` asks this address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
}

impl WebConfig {
    /// The listen address, parsed; `Ok(None)` when unset.
    pub fn listen_addr(&self) -> Result<Option<std::net::SocketAddr>, String> {
        match self.listen.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(a) => a.parse().map(Some).map_err(|_| {
                format!(
                    "must be an address and port such as 127.0.0.1:8088 or [::1]:8088, got {a:?}"
                )
            }),
        }
    }
}

/// `[http]`: limits and retry policy applied to every upstream, so one slow or hostile server
/// cannot stall or exhaust the bot.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    /// Whole-request timeout.
    #[serde(with = "crate::config::duration")]
    pub timeout: Duration,
    /// Largest response body accepted, in bytes.
    pub max_response_bytes: u64,
    /// Retries after the first attempt for transient failures.
    pub max_retries: u32,
    /// First retry delay; doubles on each retry, with jitter.
    #[serde(with = "crate::config::duration")]
    pub retry_base_delay: Duration,
    /// Upper bound for any single retry delay.
    #[serde(with = "crate::config::duration")]
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
    #[serde(with = "crate::config::duration")]
    pub request_spacing: Duration,
    /// Results per API page (arXiv allows at most 2000).
    pub page_size: usize,
    /// Identifiers per `id_list` lookup.
    pub id_batch_size: usize,
    /// Largest file `hotpapers import` reads, in bytes: a bigger one (or an endless stream such
    /// as `/dev/zero`) is refused instead of filling memory.
    pub max_import_bytes: u64,
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
            max_import_bytes: 256 * 1024 * 1024,
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
    #[serde(with = "crate::config::duration")]
    pub max_signal_age: Duration,
    /// Attention is swept from a mailing's submission window up to this long after its
    /// announcement (posts about older papers keep trickling in, but rarely change a ranking).
    #[serde(with = "crate::config::duration")]
    pub attention_window: Duration,
    /// How many of a paper's top posts the Markdown export embeds under it, the way the seed
    /// post does (0: none). Cards always link the top one.
    pub embed_posts: usize,
}

impl Default for DigestConfig {
    fn default() -> Self {
        DigestConfig {
            top: 10,
            max_signal_age: Duration::from_secs(6 * 3600),
            attention_window: Duration::from_secs(7 * 24 * 3600),
            embed_posts: 3,
        }
    }
}
