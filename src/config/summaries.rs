//! `[summaries]`: which providers write a paper's one-line summary, in what order, and the
//! optional LLM endpoint (`[summaries.llm]`).
//!
//! [`SummarySource`] lives here rather than in `crate::summary` because `[summaries] order` is
//! a list of them and this layer sits below `summary`; `crate::summary` re-exports it.

use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize};

use super::Secret;
use super::validate::{MAX_DAILY_REQUESTS, check_range, closest};

/// Where a summary came from; also the names of `[summaries] order`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SummarySource {
    /// Hugging Face's `ai_summary` of the paper page.
    #[serde(rename = "hf")]
    HuggingFace,
    /// Semantic Scholar's `tldr`.
    SemanticScholar,
    /// The configured LLM endpoint (`[summaries.llm]`).
    Llm,
    /// Sentences of the abstract picked by the built-in extractive summarizer.
    Extractive,
}

impl SummarySource {
    /// The name used in `[summaries] order`, in JSON (`summary_source`) and in logs.
    pub fn name(self) -> &'static str {
        match self {
            SummarySource::HuggingFace => "hf",
            SummarySource::SemanticScholar => "semantic_scholar",
            SummarySource::Llm => "llm",
            SummarySource::Extractive => "extractive",
        }
    }

    /// How front ends credit the source ("TL;DR (Hugging Face)").
    pub fn label(self) -> &'static str {
        match self {
            SummarySource::HuggingFace => "Hugging Face",
            SummarySource::SemanticScholar => "Semantic Scholar",
            SummarySource::Llm => "LLM",
            SummarySource::Extractive => "extractive",
        }
    }

    /// Every source, in the default preference order.
    pub const ALL: [SummarySource; 4] = [
        SummarySource::HuggingFace,
        SummarySource::SemanticScholar,
        SummarySource::Llm,
        SummarySource::Extractive,
    ];

    /// Parses a name of `[summaries] order`.
    pub fn from_name(name: &str) -> Option<SummarySource> {
        SummarySource::ALL.into_iter().find(|s| s.name() == name)
    }

    /// The valid names, comma-separated, for error messages.
    fn names() -> String {
        SummarySource::ALL.map(SummarySource::name).join(", ")
    }
}

impl std::fmt::Display for SummarySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Other names people give the providers of `[summaries] order`.
const SUMMARY_ALIASES: &[(&str, SummarySource)] = &[
    ("huggingface", SummarySource::HuggingFace),
    ("hugging_face", SummarySource::HuggingFace),
    ("s2", SummarySource::SemanticScholar),
    ("semanticscholar", SummarySource::SemanticScholar),
    ("tldr", SummarySource::SemanticScholar),
];

/// By [`SummarySource::name`], by hand so that an unknown name is reported with the valid ones
/// (serde's derived message quotes them in backticks, nested in figment's own).
impl<'de> Deserialize<'de> for SummarySource {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        SummarySource::from_name(name.trim()).ok_or_else(|| {
            let names = SummarySource::ALL.map(SummarySource::name);
            let hint = SUMMARY_ALIASES
                .iter()
                .find(|(alias, _)| alias.eq_ignore_ascii_case(name.trim()))
                .map(|(_, s)| s.name())
                .or_else(|| closest(name.trim(), &names))
                .map_or_else(String::new, |s| format!(" did you mean {s:?}?"));
            serde::de::Error::custom(format!(
                "unknown summary provider {name:?};{hint} expected one of: {}",
                SummarySource::names()
            ))
        })
    }
}

/// `[summaries]`: how every hot paper gets its summary of at most 280 characters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SummariesConfig {
    /// Providers, most preferred first; the first that has an acceptable summary wins. `llm` is
    /// skipped while `[summaries.llm] enabled` is false. Must include `extractive`, last: it is
    /// the only provider that always answers, so anything after it would never be asked.
    pub order: Vec<SummarySource>,
    /// The optional OpenAI-compatible endpoint.
    pub llm: LlmConfig,
}

impl Default for SummariesConfig {
    fn default() -> Self {
        SummariesConfig {
            order: SummarySource::ALL.to_vec(),
            llm: LlmConfig::default(),
        }
    }
}

impl SummariesConfig {
    /// The providers to ask, in order: `order` without `llm` when the LLM is not enabled.
    pub fn effective_order(&self) -> Vec<SummarySource> {
        self.order
            .iter()
            .copied()
            .filter(|s| *s != SummarySource::Llm || self.llm.enabled)
            .collect()
    }

    /// Checks the keys that deserialize fine but could not work; (key, reason) as in
    /// `validate`. `summaries.llm.base_url` is checked there, with the other URLs.
    pub(super) fn validate(&self) -> Result<(), (String, String)> {
        let order = |reason: String| Err(("summaries.order".to_owned(), reason));
        for (i, s) in self.order.iter().enumerate() {
            if self.order.get(..i).is_some_and(|before| before.contains(s)) {
                return order(format!("lists {s} twice"));
            }
        }
        match self.order.last() {
            Some(SummarySource::Extractive) => {}
            _ if !self.order.contains(&SummarySource::Extractive) => {
                return order(
                    "must include extractive, the only provider that always answers".into(),
                );
            }
            _ => {
                return order(
                    "must end with extractive: it always answers, so providers after it would \
                     never be asked"
                        .into(),
                );
            }
        }
        self.llm.validate()
    }
}

/// Longest `[summaries.llm] timeout`: an LLM that needs more than two minutes for two
/// sentences is not going to make a digest on time.
pub const MAX_LLM_TIMEOUT: Duration = Duration::from_secs(120);
/// Most `[summaries.llm] max_concurrency`: a self-hosted model serves a few requests at once.
pub const MAX_LLM_CONCURRENCY: usize = 16;
/// Most `[summaries.llm] top`.
pub const MAX_LLM_TOP: usize = 100;
/// Most `[summaries.llm] max_tokens`: two sentences need about 80 tokens, and a reasoning
/// model's `<think>` block a few thousand.
pub const MAX_LLM_TOKENS: u32 = 4096;

/// `[summaries.llm]`: an OpenAI-compatible chat-completions endpoint (OpenAI, Ollama, vLLM,
/// llama.cpp's server, …). Off by default: it costs money or a GPU, and the other providers
/// cover most papers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LlmConfig {
    /// Whether the LLM is asked at all.
    pub enabled: bool,
    /// The API base; requests go to `{base_url}/chat/completions`. The default is a local
    /// Ollama, so enabling the LLM never sends papers (or a key) anywhere by surprise.
    pub base_url: String,
    /// The model name the endpoint knows (`gpt-4o-mini`, `llama3.1:8b`); required when
    /// enabled. Part of the cache key, so changing it summarizes papers afresh.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Optional API key, sent as `Authorization: Bearer`; prefer
    /// `HOTPAPERS_SUMMARIES__LLM__API_KEY`. There is deliberately no `OPENAI_API_KEY`
    /// fallback: an ambient key for one vendor would be sent to whatever `base_url` says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_key: Option<Secret>,
    /// Deadline for one whole request; a slower answer is given up and the next provider
    /// asked.
    #[serde(with = "crate::config::duration")]
    pub timeout: Duration,
    /// Most requests in flight at once.
    pub max_concurrency: usize,
    /// Most requests per UTC day, counted in the store (so restarts do not reset it); `0`
    /// makes no requests at all.
    pub daily_budget: u32,
    /// How many of a digest's top papers get an LLM summary (the rest use the other
    /// providers): the budget goes where readers look.
    pub top: usize,
    /// `max_tokens` of each request: bounds cost and runaway answers.
    pub max_tokens: u32,
    /// Sampling temperature (0 to 2); low, because a summary should be faithful, not creative.
    pub temperature: f64,
}

impl Default for LlmConfig {
    fn default() -> Self {
        LlmConfig {
            enabled: false,
            base_url: "http://localhost:11434/v1".into(),
            model: None,
            api_key: None,
            timeout: Duration::from_secs(20),
            max_concurrency: 2,
            daily_budget: 200,
            top: 10,
            max_tokens: 160,
            temperature: 0.2,
        }
    }
}

impl LlmConfig {
    /// The `[summaries.llm]` checks of [`SummariesConfig::validate`].
    fn validate(&self) -> Result<(), (String, String)> {
        let err = |key: &str, reason: String| Err((format!("summaries.llm.{key}"), reason));
        match &self.model {
            None if self.enabled => {
                return err(
                    "model",
                    "must be set when summaries.llm.enabled is true".into(),
                );
            }
            Some(m) if m.chars().any(|c| c.is_whitespace() || c.is_control()) => {
                return err(
                    "model",
                    format!("must be a model name without spaces, got {m:?}"),
                );
            }
            _ => {}
        }
        if self.timeout.is_zero() || self.timeout > MAX_LLM_TIMEOUT {
            return err(
                "timeout",
                format!(
                    "must be greater than zero and at most 2m, got {}",
                    humantime::format_duration(self.timeout)
                ),
            );
        }
        if !(1..=MAX_LLM_CONCURRENCY).contains(&self.max_concurrency) {
            return err(
                "max_concurrency",
                format!(
                    "must be between 1 and {MAX_LLM_CONCURRENCY}, got {}",
                    self.max_concurrency
                ),
            );
        }
        if !(1..=MAX_LLM_TOP).contains(&self.top) {
            return err(
                "top",
                format!(
                    "must be between 1 and {MAX_LLM_TOP}, got {} (to ask for no LLM summaries, \
                     set enabled = false or daily_budget = 0)",
                    self.top
                ),
            );
        }
        if !(1..=MAX_LLM_TOKENS).contains(&self.max_tokens) {
            return err(
                "max_tokens",
                format!(
                    "must be between 1 and {MAX_LLM_TOKENS}, got {}",
                    self.max_tokens
                ),
            );
        }
        check_range(
            "summaries.llm.daily_budget",
            self.daily_budget,
            0,
            MAX_DAILY_REQUESTS,
        )?;
        if !(self.temperature.is_finite() && (0.0..=2.0).contains(&self.temperature)) {
            return err(
                "temperature",
                format!("must be between 0 and 2, got {}", self.temperature),
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
    fn defaults() {
        let s = Config::default().summaries;
        assert_eq!(
            s.order,
            [
                SummarySource::HuggingFace,
                SummarySource::SemanticScholar,
                SummarySource::Llm,
                SummarySource::Extractive
            ]
        );
        let l = &s.llm;
        assert!(!l.enabled);
        assert_eq!(l.base_url, "http://localhost:11434/v1");
        assert_eq!(l.model, None);
        assert!(l.api_key.is_none());
        assert_eq!(l.timeout, Duration::from_secs(20));
        assert_eq!(l.max_concurrency, 2);
        assert_eq!(l.daily_budget, 200);
        assert_eq!(l.top, 10);
        assert_eq!(l.max_tokens, 160);
        assert!((l.temperature - 0.2).abs() < f64::EPSILON);
        // Disabled, the LLM is skipped.
        assert_eq!(
            s.effective_order(),
            [
                SummarySource::HuggingFace,
                SummarySource::SemanticScholar,
                SummarySource::Extractive
            ]
        );
    }

    /// `hotpapers config show` prints the section as TOML that loads back, key hidden.
    #[test]
    fn the_section_prints_as_toml_that_loads_back() {
        let c = Config::from_toml_str(
            "[summaries]\norder = [\"llm\", \"extractive\"]\n[summaries.llm]\nenabled = true\n\
             model = \"m\"\n",
        )
        .expect("valid");
        let shown = toml::to_string_pretty(&c).expect("prints");
        assert!(
            shown.contains("order = [\n    \"llm\",") || shown.contains("order = [\"llm\""),
            "{shown}"
        );
        let back = Config::from_toml_str(&shown).expect("loads back");
        assert_eq!(back.summaries, c.summaries);
        let mut keyed = c.clone();
        keyed.summaries.llm.api_key = Some(Secret::new("sk-SECRET"));
        let shown = toml::to_string_pretty(&keyed).expect("prints");
        assert!(
            !shown.contains("SECRET") && shown.contains("[redacted]"),
            "{shown}"
        );
    }

    #[test]
    fn names_round_trip_through_serde_and_from_name() {
        for s in SummarySource::ALL {
            let json = serde_json::to_string(&s).expect("serializes");
            assert_eq!(json, format!("\"{}\"", s.name()));
            let back: SummarySource = serde_json::from_str(&json).expect("deserializes");
            assert_eq!(back, s);
            assert_eq!(SummarySource::from_name(s.name()), Some(s));
            assert_eq!(s.to_string(), s.name());
        }
        assert_eq!(SummarySource::from_name("huggingface"), None);
    }

    #[test]
    fn toml_sets_every_key() {
        let c = Config::from_toml_str(
            "[summaries]\norder = [\"llm\", \"semantic_scholar\", \"extractive\"]\n\
             [summaries.llm]\nenabled = true\nbase_url = \"https://api.openai.com/v1\"\n\
             model = \" gpt-4o-mini \"\napi_key = \"sk-SECRET\\n\"\ntimeout = \"5s\"\n\
             max_concurrency = 16\ndaily_budget = 0\ntop = 3\nmax_tokens = 4096\n\
             temperature = 0.0\n",
        )
        .expect("valid");
        let s = &c.summaries;
        assert_eq!(
            s.effective_order(),
            [
                SummarySource::Llm,
                SummarySource::SemanticScholar,
                SummarySource::Extractive
            ]
        );
        let l = &s.llm;
        assert!(l.enabled);
        assert_eq!(l.base_url, "https://api.openai.com/v1");
        assert_eq!(l.model.as_deref(), Some("gpt-4o-mini"));
        assert_eq!(l.api_key.as_ref().map(Secret::expose), Some("sk-SECRET"));
        assert_eq!(l.timeout, Duration::from_secs(5));
        assert_eq!(
            (l.max_concurrency, l.daily_budget, l.top, l.max_tokens),
            (16, 0, 3, 4096)
        );
        assert_eq!(l.temperature, 0.0);
        let shown = format!("{c:?}");
        assert!(!shown.contains("SECRET"), "{shown}");
    }

    #[test]
    fn environment_overrides_including_the_order_list_and_the_key() {
        let c = load(
            "[summaries.llm]\nmodel = \"from-file\"\n",
            &[
                ("HOTPAPERS_SUMMARIES__ORDER", "hf, extractive"),
                ("HOTPAPERS_SUMMARIES__LLM__ENABLED", "true"),
                ("HOTPAPERS_SUMMARIES__LLM__MODEL", "llama3.1:8b"),
                ("HOTPAPERS_SUMMARIES__LLM__API_KEY", "sk-from-env"),
                ("HOTPAPERS_SUMMARIES__LLM__TIMEOUT", "90s"),
                ("HOTPAPERS_SUMMARIES__LLM__DAILY_BUDGET", "7"),
                ("HOTPAPERS_SUMMARIES__LLM__TEMPERATURE", "0.7"),
                // Not read: an ambient key for another vendor is never picked up.
                ("OPENAI_API_KEY", "sk-ambient"),
            ],
        )
        .expect("valid");
        let s = &c.summaries;
        assert_eq!(
            s.order,
            [SummarySource::HuggingFace, SummarySource::Extractive]
        );
        assert!(s.llm.enabled);
        assert_eq!(s.llm.model.as_deref(), Some("llama3.1:8b"));
        assert_eq!(
            s.llm.api_key.as_ref().map(Secret::expose),
            Some("sk-from-env")
        );
        assert_eq!(s.llm.timeout, Duration::from_secs(90));
        assert_eq!(s.llm.daily_budget, 7);
        assert!((s.llm.temperature - 0.7).abs() < f64::EPSILON);
        let c = load("", &[("HOTPAPERS_SUMMARIES__ORDER", "[llm, extractive]")]).expect("list");
        assert_eq!(
            c.summaries.order,
            [SummarySource::Llm, SummarySource::Extractive]
        );
        let c = load("", &[("OPENAI_API_KEY", "sk-ambient")]).expect("ignored");
        assert!(c.summaries.llm.api_key.is_none());
    }

    #[test]
    fn order_errors_name_the_key_and_say_why() {
        for (toml, why) in [
            ("order = [\"hf\", \"chatgpt\", \"extractive\"]", "chatgpt"),
            (
                "order = [\"hf\", \"chatgpt\", \"extractive\"]",
                "expected one of: hf, semantic_scholar, llm, extractive",
            ),
            ("order = [\"hf\", \"hf\", \"extractive\"]", "lists hf twice"),
            ("order = [\"hf\", \"llm\"]", "must include extractive"),
            ("order = []", "must include extractive"),
            (
                "order = [\"extractive\", \"hf\"]",
                "must end with extractive",
            ),
        ] {
            match Config::from_toml_str(&format!("[summaries]\n{toml}\n")) {
                Err(ConfigError::InvalidValue { key, reason, .. }) => {
                    assert!(key.starts_with("summaries.order"), "{toml}: {key}");
                    assert!(reason.contains(why), "{toml}: {reason}");
                }
                other => panic!("{toml}: expected InvalidValue, got {other:?}"),
            }
        }
        let err = load("", &[("HOTPAPERS_SUMMARIES__ORDER", "hf,gpt")]).expect_err("env");
        assert!(
            err.to_string().starts_with(
                "invalid value for 'summaries.order[1]' in environment variable \
                 HOTPAPERS_SUMMARIES__ORDER: unknown summary provider \"gpt\""
            ),
            "{err}"
        );
        for (name, meant) in [
            ("huggingface", "hf"),
            ("s2", "semantic_scholar"),
            ("extractiv", "extractive"),
        ] {
            let err = Config::from_toml_str(&format!(
                "[summaries]\norder = [\"{name}\", \"extractive\"]\n"
            ))
            .expect_err(name);
            assert!(
                err.to_string().contains(&format!(
                    "\"{name}\"; did you mean \"{meant}\"? expected one of"
                )),
                "{err}"
            );
        }
        Config::from_toml_str("[summaries]\norder = [\"extractive\"]\n").expect("alone is fine");
    }

    #[test]
    fn llm_errors_name_the_key() {
        for (toml, key, why) in [
            ("enabled = true", "summaries.llm.model", "must be set"),
            (
                "enabled = true\nmodel = \"  \"",
                "summaries.llm.model",
                "must be set",
            ),
            ("model = \"gpt 4\"", "summaries.llm.model", "without spaces"),
            (
                "base_url = \"localhost:11434\"",
                "summaries.llm.base_url",
                "scheme",
            ),
            ("base_url = \"not a url\"", "summaries.llm.base_url", "URL"),
            (
                "timeout = \"0s\"",
                "summaries.llm.timeout",
                "greater than zero",
            ),
            ("timeout = \"121s\"", "summaries.llm.timeout", "at most 2m"),
            (
                "timeout = \"soon\"",
                "summaries.llm.timeout",
                "a duration such as",
            ),
            (
                "max_concurrency = 0",
                "summaries.llm.max_concurrency",
                "between 1 and 16",
            ),
            (
                "max_concurrency = 17",
                "summaries.llm.max_concurrency",
                "between 1 and 16",
            ),
            ("top = 0", "summaries.llm.top", "between 1 and 100"),
            (
                "max_tokens = 0",
                "summaries.llm.max_tokens",
                "between 1 and 4096",
            ),
            (
                "temperature = 2.5",
                "summaries.llm.temperature",
                "between 0 and 2",
            ),
            (
                "temperature = -0.1",
                "summaries.llm.temperature",
                "between 0 and 2",
            ),
            (
                "temperature = nan",
                "summaries.llm.temperature",
                "between 0 and 2",
            ),
            (
                "api_key = \"sk\\r\\nX: 1\"",
                "summaries.llm.api_key",
                "control characters",
            ),
            ("daily_budget = -1", "summaries.llm.daily_budget", "-1"),
        ] {
            match Config::from_toml_str(&format!("[summaries.llm]\n{toml}\n")) {
                Err(ConfigError::InvalidValue { key: k, reason, .. }) => {
                    assert_eq!(k, key, "{toml}");
                    assert!(reason.contains(why), "{toml}: {reason}");
                }
                other => panic!("{toml}: expected InvalidValue for {key}, got {other:?}"),
            }
        }
        let err = Config::from_toml_str("[summaries.llm]\nmodle = \"x\"\n").expect_err("typo");
        assert!(matches!(err, ConfigError::UnknownKey { .. }), "{err}");
        // Edge values pass; a disabled LLM needs no model.
        Config::from_toml_str(
            "[summaries.llm]\ntimeout = \"2m\"\nmax_concurrency = 1\ntop = 100\nmax_tokens = 1\n\
             temperature = 2.0\nbase_url = \"http://127.0.0.1:8080/v1/\"\n",
        )
        .expect("edge values are valid");
    }
}
