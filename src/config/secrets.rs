//! [`Secret`]: credentials that print, log and serialize as `[redacted]`.

use std::fmt;

use serde::{Deserialize, Serialize, Serializer};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

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
            [summaries.llm]
            api_key = "SECRET7"
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
        assert_eq!(
            c.summaries.llm.api_key.as_ref().map(Secret::expose),
            Some("SECRET7")
        );
    }
}
