//! `Config::load` against the real process environment and working directory.
//!
//! These are the only tests that touch global state, so they run inside `figment::Jail`,
//! which serialises them, starts each in an empty temporary directory with a cleared
//! environment, and restores both afterwards.

#![allow(
    clippy::result_large_err,
    reason = "figment::Jail fixes the closure's error type to figment::Error"
)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Jail;
use hotpapers::config::{Config, ConfigError, Secret};

#[test]
fn without_a_path_reads_config_toml_from_the_working_directory() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.create_file(
            "config.toml",
            "[digest]\ntop = 3\n[http]\ntimeout = \"10s\"\n",
        )?;
        jail.set_env("DISCORD_TOKEN", "bot-token");
        jail.set_env("HOTPAPERS_SOURCES__X__ENABLED", "true");
        jail.set_env("HOTPAPERS_ARXIV__CATEGORIES", "cs.LG,stat.ML");
        jail.set_env("HOTPAPERS_LOG", "debug"); // not configuration, ignored

        let c = Config::load(None).map_err(|e| e.to_string())?;
        assert_eq!(c.digest.top, 3);
        assert_eq!(c.http.timeout, Duration::from_secs(10));
        assert_eq!(
            c.discord.token.as_ref().map(Secret::expose),
            Some("bot-token")
        );
        assert!(c.sources.x.enabled);
        assert_eq!(c.arxiv.categories, ["cs.LG", "stat.ML"]);
        Ok(())
    });
}

#[test]
fn without_a_path_or_file_uses_the_defaults() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        assert!(!Path::new("config.toml").exists());
        let c = Config::load(None).map_err(|e| e.to_string())?;
        assert_eq!(c, Config::default());
        Ok(())
    });
}

#[test]
fn an_explicit_path_must_exist_and_wins_over_config_toml() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.create_file("config.toml", "[digest]\ntop = 3\n")?;
        jail.create_file("other.toml", "[digest]\ntop = 7\n")?;

        let c = Config::load(Some(Path::new("other.toml"))).map_err(|e| e.to_string())?;
        assert_eq!(c.digest.top, 7);

        let missing = PathBuf::from("missing.toml");
        match Config::load(Some(&missing)) {
            Err(err @ ConfigError::NotFound { .. }) => {
                assert_eq!(
                    err.to_string(),
                    "configuration file missing.toml does not exist"
                );
            }
            other => panic!("expected NotFound, got {other:?}"),
        }
        Ok(())
    });
}

#[test]
fn errors_in_the_default_file_and_environment_name_their_origin() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.create_file("config.toml", "[arxiv]\napi_ulr = \"https://x.example\"\n")?;
        let err = Config::load(None).expect_err("typo in file");
        assert!(
            err.to_string()
                .starts_with("unknown configuration key 'arxiv.api_ulr' in config.toml"),
            "{err}"
        );

        jail.create_file("config.toml", "")?;
        jail.set_env("HOTPAPERS_ARXIV__PAGE_SIZE", "5000");
        let err = Config::load(None).expect_err("out of range in env");
        assert_eq!(
            err.to_string(),
            "invalid value for 'arxiv.page_size' in environment variable \
             HOTPAPERS_ARXIV__PAGE_SIZE: must be between 1 and 2000, got 5000"
        );
        Ok(())
    });
}
