//! The layers above the defaults: a TOML file, `DISCORD_TOKEN`, then
//! `HOTPAPERS_<SECTION>__<KEY>` environment variables (see the [module docs](super)).

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use figment::providers::{Format, Serialized, Toml};
use figment::value::{Dict, Map, Value};
use figment::{Figment, Metadata, Profile, Provider, Source};

use super::validate::{convert_error, normalize, one_line_toml_error, origin_of, validate};
use super::{Config, ConfigError};

/// Prefix of the environment variables that override configuration keys.
pub const ENV_PREFIX: &str = "HOTPAPERS_";

/// Environment variable that sets `discord.token`, as Discord tooling conventionally names it.
pub const DISCORD_TOKEN_ENV: &str = "DISCORD_TOKEN";

/// Keys whose environment value is a list rather than a single value.
const LIST_KEYS: &[&str] = &[
    "arxiv.categories",
    "ranking.order",
    "arxiv.holidays",
    "sources.hn.hosts",
    "sources.x.url_patterns",
    "sources.bluesky.bot_accounts",
    "summaries.order",
];

/// A TOML document and where it came from.
pub(super) struct TomlText {
    pub(super) origin: String,
    pub(super) path: Option<PathBuf>,
    pub(super) text: String,
}

/// Reads the configuration file at `path`; a missing file is [`ConfigError::NotFound`].
pub(super) fn read_file(path: &Path) -> Result<TomlText, ConfigError> {
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
pub(super) fn process_env() -> Result<Vec<(String, String)>, ConfigError> {
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

/// The configuration from the defaults, `file` and `env`, layered as the module docs say, then
/// normalized and validated.
pub(super) fn assemble(
    file: Option<&TomlText>,
    env: &[(String, String)],
) -> Result<Config, ConfigError> {
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
                suggestion: None,
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

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::time::Duration;

    use super::*;
    use crate::config::Secret;
    use crate::config::test_util::{date, env, load};

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
    fn hn_hosts_take_a_list_from_the_environment() {
        let c = load(
            "",
            &[("HOTPAPERS_SOURCES__HN__HOSTS", "arxiv.org, alphaxiv.org")],
        )
        .expect("env list");
        assert_eq!(c.sources.hn.hosts, ["arxiv.org", "alphaxiv.org"]);
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
}
