//! Helpers shared by the configuration unit tests.

use std::io::Write;

use chrono::NaiveDate;

use super::{Config, ConfigError};

/// An explicit environment from `(name, value)` pairs.
pub(super) fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// A temporary `.toml` file holding `contents`.
pub(super) fn toml_file(contents: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::Builder::new()
        .suffix(".toml")
        .tempfile()
        .expect("temp file");
    file.write_all(contents.as_bytes())
        .expect("write temp file");
    file
}

/// Loads `contents` as the configuration file with `vars` as the environment.
pub(super) fn load(contents: &str, vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let file = toml_file(contents);
    Config::load_with_env(Some(file.path()), env(vars))
}

/// A calendar date.
pub(super) fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}
