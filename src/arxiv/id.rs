//! arXiv identifiers: parsing every form people and posts use, and normalizing them.
//!
//! SKELETON: minimal implementation, to be replaced by the full parser.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A parsed arXiv identifier, optionally with a version.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ArxivId {
    key: String,
    version: Option<u32>,
}

/// Why a string is not an arXiv identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{input}' is not an arXiv identifier: {reason}")]
pub struct IdError {
    pub input: String,
    pub reason: String,
}

impl ArxivId {
    /// Parses any supported form: bare ids, `arXiv:` prefix, arxiv.org URLs, DOIs, ...
    pub fn parse(input: &str) -> Result<ArxivId, IdError> {
        let s = input.trim();
        let (key, version) = match s.rsplit_once('v') {
            Some((k, v)) if v.chars().all(|c| c.is_ascii_digit()) && !v.is_empty() => {
                (k, v.parse().ok())
            }
            _ => (s, None),
        };
        if key.len() >= 9 && key.as_bytes()[4] == b'.' {
            Ok(ArxivId {
                key: key.to_string(),
                version,
            })
        } else {
            Err(IdError {
                input: input.to_string(),
                reason: "unrecognized".into(),
            })
        }
    }

    /// The canonical version-less key, e.g. `2107.00641` or `hep-th/9901001`.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The version, if the input named one.
    pub fn version(&self) -> Option<u32> {
        self.version
    }

    /// The same paper with another version (or none).
    pub fn with_version(&self, version: Option<u32>) -> ArxivId {
        ArxivId {
            key: self.key.clone(),
            version,
        }
    }

    /// The same paper without a version.
    pub fn versionless(&self) -> ArxivId {
        self.with_version(None)
    }

    /// `https://arxiv.org/abs/ID[vN]`.
    pub fn abs_url(&self) -> String {
        format!("https://arxiv.org/abs/{self}")
    }

    /// `https://arxiv.org/pdf/ID[vN]`.
    pub fn pdf_url(&self) -> String {
        format!("https://arxiv.org/pdf/{self}")
    }
}

impl fmt::Display for ArxivId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.version {
            Some(v) => write!(f, "{}v{}", self.key, v),
            None => f.write_str(&self.key),
        }
    }
}

impl FromStr for ArxivId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ArxivId::parse(s)
    }
}

impl Serialize for ArxivId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ArxivId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        ArxivId::parse(&s).map_err(serde::de::Error::custom)
    }
}
