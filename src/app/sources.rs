//! Building the attention sources the configuration enables.
//!
//! This is the one place that knows every source implementation, so it sits above
//! [`crate::sources`] (which holds only the [`Source`] trait, the shared types and the
//! implementations): the sources never import the list that builds them.

use std::collections::BTreeSet;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::arxiv::ArxivId;
use crate::clock::Clock;
use crate::config::Config;
use crate::http::HttpClient;
use crate::sources::{
    Collection, Source, SourceError, Window, bluesky, hf, hn, semantic_scholar, x,
};
use crate::store::Store;

/// The sources enabled in the configuration, in ranking order.
///
/// A source that cannot be built (e.g. X enabled without a bearer token) is still listed, as an
/// [`Unavailable`] source that reports why on every use: a misconfigured source degrades
/// digests, it never stops them.
pub(crate) fn enabled(
    config: &Config,
    http: &HttpClient,
    store: &Arc<dyn Store>,
    clock: &Arc<dyn Clock>,
) -> Vec<Arc<dyn Source>> {
    let s = &config.sources;
    let mut out: Vec<Arc<dyn Source>> = Vec::new();
    let mut add = |name: &'static str, built: Result<Arc<dyn Source>, SourceError>| match built {
        Ok(source) => out.push(source),
        Err(e) => {
            tracing::warn!(source = name, error = %e, "attention source unavailable");
            out.push(Arc::new(Unavailable {
                name,
                reason: e.to_string(),
            }));
        }
    };
    if s.x.enabled {
        add(
            x::NAME,
            x::XSource::new(&s.x, http.clone(), store.clone(), clock.clone())
                .map(|x| Arc::new(x) as Arc<dyn Source>),
        );
    }
    if s.bluesky.enabled {
        add(
            bluesky::NAME,
            bluesky::BlueskySource::new(&s.bluesky, http.clone(), store.clone())
                .map(|x| Arc::new(x) as Arc<dyn Source>),
        );
    }
    if s.hn.enabled {
        add(
            hn::NAME,
            hn::HnSource::new(&s.hn, http.clone()).map(|x| Arc::new(x) as Arc<dyn Source>),
        );
    }
    if s.hf.enabled {
        add(
            hf::NAME,
            hf::HfSource::new(&s.hf, http.clone()).map(|x| Arc::new(x) as Arc<dyn Source>),
        );
    }
    if s.semantic_scholar.enabled {
        add(
            semantic_scholar::NAME,
            semantic_scholar::S2Source::new(&s.semantic_scholar, http.clone())
                .map(|x| Arc::new(x) as Arc<dyn Source>),
        );
    }
    out
}

/// A configured source that could not be built; every use reports why.
#[derive(Debug)]
struct Unavailable {
    name: &'static str,
    reason: String,
}

#[async_trait]
impl Source for Unavailable {
    fn name(&self) -> &'static str {
        self.name
    }

    async fn collect(
        &self,
        _window: Window,
        _papers: &BTreeSet<ArxivId>,
        _now: DateTime<Utc>,
    ) -> Result<Collection, SourceError> {
        Err(SourceError::Unavailable {
            source_name: self.name,
            message: self.reason.clone(),
        })
    }

    async fn lookup(
        &self,
        _paper: &ArxivId,
        _now: DateTime<Utc>,
    ) -> Result<Collection, SourceError> {
        Err(SourceError::Unavailable {
            source_name: self.name,
            message: self.reason.clone(),
        })
    }
}
