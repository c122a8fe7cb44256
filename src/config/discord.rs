//! `[discord]`: the bot front end's settings, their defaults and limits.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{Secret, duration};

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
    #[serde(with = "crate::config::duration")]
    pub grace_period: Duration,
    /// How old a mailing must be before a daily post (and `/preview`) shows it, so attention
    /// has time to build.
    #[serde(with = "crate::config::duration")]
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
    /// Checks the scheduler keys; returns (key, reason) like the other checks of `validate`.
    pub(super) fn validate(&self) -> Result<(), (String, String)> {
        let err = |key: &str, reason: String| Err((format!("discord.{key}"), reason));
        if self.grace_period.is_zero() || self.grace_period > MAX_GRACE_PERIOD {
            return err(
                "grace_period",
                format!(
                    "must be greater than zero and at most 24h, got {}",
                    duration::display(self.grace_period)
                ),
            );
        }
        if self.min_age > MAX_MIN_AGE {
            return err(
                "min_age",
                format!(
                    "must be at most 7days, got {}",
                    duration::display(self.min_age)
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::config::test_util::load;
    use crate::config::{Config, ConfigError};

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
