//! Semantic Scholar enrichment: citation counts and the TL;DR of known papers.
//!
//! Semantic Scholar cannot be swept for "everything that links arXiv", and day-old papers have
//! no citations anyway, so this source only enriches the papers it is given: `collect` sends
//! `POST {api_url}/paper/batch?fields=citationCount,influentialCitationCount,tldr,externalIds`
//! with `{"ids":["ARXIV:2107.00641",…]}`, at most [`SemanticScholarConfig::batch_size`] (≤ 500)
//! ids per request, so requests = ⌈papers / 500⌉ (3 for a 1,100-paper mailing). `lookup` is the
//! same request with one id.
//!
//! The answer is **positional**: entry *i* answers id *i*, and an id Semantic Scholar does not
//! know comes back as `null` (`semantic_scholar_batch_with_null.json`). A length mismatch makes
//! the whole answer untrustworthy and is an error; an entry whose `externalIds.ArXiv` names
//! another paper is skipped with a warning. A single-paper 404 carries `{"error":"…"}`
//! (`semantic_scholar_error_404.json`) and means "unknown paper".
//!
//! Metrics: `citations`, `influential_citations`; extra: [`EXTRA_TLDR`]. The signal name is
//! `s2`, the config section `[sources.semantic_scholar]`. The optional key goes in the
//! `x-api-key` header only; request starts are spaced by `request_spacing` (a key grants one
//! request per second, and the anonymous pool is shared and quick to answer 429).

use std::collections::BTreeSet;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::{Collection, Source, SourceError, Tally, Window};
use crate::arxiv::ArxivId;
use crate::config::{Secret, SemanticScholarConfig, metric, source_name};
use crate::http::{HttpClient, HttpError, Pacer, accept_all, base_url};
use crate::store::Extra;

/// The source name in signal keys (the config section is `semantic_scholar`).
pub const NAME: &str = source_name::S2;

/// Citation count.
pub const METRIC_CITATIONS: &str = metric::CITATIONS;
/// Influential citation count (Semantic Scholar's classifier).
pub const METRIC_INFLUENTIAL_CITATIONS: &str = metric::INFLUENTIAL_CITATIONS;

/// Extra key: Semantic Scholar's one-sentence TL;DR.
pub const EXTRA_TLDR: &str = "tldr";

/// Fields asked of the batch endpoint.
const FIELDS: &str = "citationCount,influentialCitationCount,tldr,externalIds";

/// The API's ceiling on ids per batch request.
pub const MAX_BATCH: usize = 500;

/// Semantic Scholar: see the module docs.
#[derive(Debug)]
pub struct S2Source {
    http: HttpClient,
    endpoint: String,
    api_key: Option<Secret>,
    batch_size: usize,
    pacer: Pacer,
}

#[derive(Debug, Deserialize)]
struct RawPaper {
    #[serde(rename = "citationCount", default)]
    citation_count: Option<f64>,
    #[serde(rename = "influentialCitationCount", default)]
    influential_citation_count: Option<f64>,
    #[serde(default)]
    tldr: Option<RawTldr>,
    #[serde(rename = "externalIds", default)]
    external_ids: Option<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Debug, Deserialize)]
struct RawTldr {
    #[serde(default)]
    text: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ErrorBody {
    error: String,
}

/// What one batch answer says about its papers.
#[derive(Debug, Default, PartialEq)]
struct Batch {
    /// (paper, citations, influential citations, tldr) for every known paper.
    found: Vec<Found>,
    /// Entries that could not be read or contradicted their slot.
    skipped: usize,
}

#[derive(Debug, PartialEq)]
struct Found {
    paper: ArxivId,
    citations: Option<f64>,
    influential: Option<f64>,
    tldr: Option<String>,
}

/// Reads a batch answer for `ids` (in request order).
fn parse_batch(body: &[u8], ids: &[ArxivId]) -> Result<Batch, String> {
    let entries: Vec<serde_json::Value> =
        serde_json::from_slice(body).map_err(|e| format!("not a batch answer: {e}"))?;
    if entries.len() != ids.len() {
        return Err(format!(
            "asked for {} papers, got {} answers; positions cannot be trusted",
            ids.len(),
            entries.len()
        ));
    }
    let mut batch = Batch::default();
    for (id, entry) in ids.iter().zip(entries) {
        if entry.is_null() {
            continue; // unknown to Semantic Scholar
        }
        let raw = match serde_json::from_value::<RawPaper>(entry) {
            Ok(raw) => raw,
            Err(e) => {
                tracing::warn!(source = NAME, paper = %id, error = %e, "skipping a malformed Semantic Scholar entry");
                batch.skipped += 1;
                continue;
            }
        };
        let claimed = raw
            .external_ids
            .as_ref()
            .and_then(|m| m.get("ArXiv"))
            .and_then(serde_json::Value::as_str)
            .map(|s| ArxivId::parse(s).map(|a| a.versionless()));
        if let Some(claimed) = claimed
            && claimed.as_ref().ok() != Some(id)
        {
            tracing::warn!(source = NAME, paper = %id, claimed = ?claimed.ok(), "Semantic Scholar answered for another paper; skipped");
            batch.skipped += 1;
            continue;
        }
        batch.found.push(Found {
            paper: id.clone(),
            citations: raw.citation_count.map(|c| c.max(0.0)),
            influential: raw.influential_citation_count.map(|c| c.max(0.0)),
            tldr: raw
                .tldr
                .and_then(|t| t.text)
                .map(|t| t.trim().to_string())
                .filter(|t| !t.is_empty()),
        });
    }
    Ok(batch)
}

impl S2Source {
    /// A source asking `cfg.api_url`, with `cfg.api_key` if set. The pacer uses the HTTP
    /// client's clock.
    ///
    /// Fails when `api_url` is not an http(s) URL (config validation normally catches that).
    pub fn new(cfg: &SemanticScholarConfig, http: HttpClient) -> Result<Self, SourceError> {
        let base = base_url(&cfg.api_url, "sources.semantic_scholar.api_url")?;
        let pacer = Pacer::new(cfg.request_spacing, http.clock().clone());
        Ok(S2Source {
            http,
            endpoint: format!("{base}/paper/batch"),
            api_key: cfg.api_key.clone(),
            batch_size: usize::try_from(cfg.batch_size)
                .unwrap_or(MAX_BATCH)
                .clamp(1, MAX_BATCH),
            pacer,
        })
    }

    /// One batch request. `Ok(None)` when Semantic Scholar answers 404 with its error document
    /// (none of the ids is known).
    async fn batch(&self, ids: &[ArxivId]) -> Result<Option<Batch>, SourceError> {
        let body = serde_json::json!({
            "ids": ids.iter().map(|id| format!("ARXIV:{}", id.key())).collect::<Vec<_>>(),
        });
        let result = self
            .http
            .send_paced(
                Some(&self.pacer),
                || {
                    let req = self
                        .http
                        .reqwest()
                        .post(&self.endpoint)
                        .query(&[("fields", FIELDS)])
                        .json(&body);
                    match &self.api_key {
                        Some(key) => req.header("x-api-key", key.expose()),
                        None => req,
                    }
                },
                accept_all,
            )
            .await;
        let resp = match result {
            Ok(resp) => resp,
            Err(e) => return self.not_found_or_error(e),
        };
        parse_batch(&resp.body, ids)
            .map(Some)
            .map_err(|message| SourceError::Malformed {
                source_name: NAME,
                message: format!("{message} (from {})", resp.url),
            })
    }

    /// A 404 carrying `{"error": …}` is "not found"; 401/403 are credentials; the rest stays
    /// an HTTP error.
    fn not_found_or_error(&self, e: HttpError) -> Result<Option<Batch>, SourceError> {
        if let HttpError::Status {
            status: 404,
            snippet,
            ..
        } = &e
            && let Ok(err) = serde_json::from_str::<ErrorBody>(snippet)
        {
            tracing::debug!(source = NAME, error = %err.error, "Semantic Scholar: not found");
            return Ok(None);
        }
        match e.status() {
            Some(status @ (401 | 403)) => Err(SourceError::Auth {
                source_name: NAME,
                message: if self.api_key.is_some() {
                    format!(
                        "Semantic Scholar rejected the key in sources.semantic_scholar.api_key \
                         (HTTP {status})"
                    )
                } else {
                    format!(
                        "Semantic Scholar refused anonymous access (HTTP {status}); set \
                         sources.semantic_scholar.api_key"
                    )
                },
            }),
            _ => Err(SourceError::Http(e)),
        }
    }
}

/// Adds a batch's findings to `out` (signals are appended: batches never share a paper).
fn absorb(out: &mut Collection, batch: Batch, now: DateTime<Utc>) {
    let mut tally = Tally::default();
    for f in batch.found {
        if let Some(c) = f.citations {
            tally.add(&f.paper, METRIC_CITATIONS, c);
        }
        if let Some(c) = f.influential {
            tally.add(&f.paper, METRIC_INFLUENTIAL_CITATIONS, c);
        }
        if let Some(text) = f.tldr {
            out.extras.push(Extra {
                paper: f.paper.clone(),
                source: NAME.to_string(),
                key: EXTRA_TLDR.to_string(),
                value: text,
                observed_at: now,
            });
        }
        out.mentions += 1;
    }
    if batch.skipped > 0 {
        out.notes.push(format!(
            "s2: skipped {} unreadable or mismatched answer(s)",
            batch.skipped
        ));
    }
    out.signals
        .extend(tally.into_signals(NAME, &BTreeSet::new(), now));
}

#[async_trait]
impl Source for S2Source {
    fn name(&self) -> &'static str {
        NAME
    }

    /// One batch sweep over `papers` (the window is not used: citations are not tied to when
    /// something was posted). No papers, no request: Semantic Scholar cannot be swept.
    async fn collect(
        &self,
        _window: Window,
        papers: &BTreeSet<ArxivId>,
        now: DateTime<Utc>,
    ) -> Result<Collection, SourceError> {
        let ids: Vec<ArxivId> = papers
            .iter()
            .map(ArxivId::versionless)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut out = Collection::default();
        for chunk in ids.chunks(self.batch_size) {
            let answer = self.batch(chunk).await?;
            out.requests += 1;
            match answer {
                Some(batch) => absorb(&mut out, batch, now),
                None => out.notes.push(format!(
                    "s2: none of {} paper(s) is known to Semantic Scholar (HTTP 404)",
                    chunk.len()
                )),
            }
        }
        Ok(out)
    }

    /// The batch endpoint with one id: the paper's citation counts and TL;DR; a paper
    /// Semantic Scholar does not know has none.
    async fn lookup(&self, paper: &ArxivId, now: DateTime<Utc>) -> Result<Collection, SourceError> {
        let paper = paper.versionless();
        let mut out = Collection::default();
        if let Some(batch) = self.batch(std::slice::from_ref(&paper)).await? {
            absorb(&mut out, batch, now);
        }
        out.requests = 1;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BATCH: &str = include_str!("../../tests/fixtures/semantic_scholar_batch_with_null.json");
    const FULL: &str = include_str!("../../tests/fixtures/semantic_scholar_paper_full_fields.json");

    fn ids(keys: &[&str]) -> Vec<ArxivId> {
        keys.iter().map(|k| ArxivId::parse(k).unwrap()).collect()
    }

    #[test]
    fn real_batch_answer_is_positional_with_null() {
        let asked = ids(&["2107.00641", "2107.00642", "2107.00643", "2107.00644"]);
        let batch = parse_batch(BATCH.as_bytes(), &asked).unwrap();
        assert_eq!(batch.skipped, 0);
        let got: Vec<(&str, Option<f64>, Option<f64>)> = batch
            .found
            .iter()
            .map(|f| (f.paper.key(), f.citations, f.influential))
            .collect();
        assert_eq!(
            got,
            vec![
                ("2107.00642", Some(10670.0), Some(578.0)),
                ("2107.00643", Some(2185.0), Some(245.0)),
                ("2107.00644", Some(0.0), Some(0.0)),
            ]
        );
        assert!(batch.found.iter().all(|f| f.tldr.is_none()));
    }

    #[test]
    fn full_paper_object_yields_tldr_and_checks_its_arxiv_id() {
        let mut full: serde_json::Value = serde_json::from_str(FULL).unwrap();
        let asked = ids(&["2107.00641"]);
        let body = serde_json::Value::Array(vec![full.clone()]).to_string();
        let batch = parse_batch(body.as_bytes(), &asked).unwrap();
        assert_eq!(
            batch.found,
            vec![Found {
                paper: asked[0].clone(),
                citations: Some(10059.0),
                influential: Some(530.0),
                tldr: full["tldr"]["text"].as_str().map(str::to_string),
            }]
        );
        assert!(
            batch.found[0]
                .tldr
                .as_deref()
                .unwrap()
                .starts_with("If the meaning")
        );

        // The same object claiming an arXiv id: accepted in its own slot (any version), refused
        // in another paper's slot.
        full["externalIds"]["ArXiv"] = serde_json::json!("2107.00641v2");
        let body = serde_json::Value::Array(vec![full]).to_string();
        assert_eq!(parse_batch(body.as_bytes(), &asked).unwrap().found.len(), 1);
        let batch = parse_batch(body.as_bytes(), &ids(&["2001.00001"])).unwrap();
        assert_eq!((batch.found.len(), batch.skipped), (0, 1));
    }

    #[test]
    fn bad_answers_are_errors_and_bad_entries_skipped() {
        let two = ids(&["2107.00641", "2107.00642"]);
        for bad in [
            &b"[null]"[..],
            b"[null,null,null]",
            b"{\"error\":\"x\"}",
            b"<html>",
            b"",
            b"[null,",
        ] {
            assert!(
                parse_batch(bad, &two).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        let body = br#"[{"citationCount":"many"},{"citationCount":null,"tldr":null,"externalIds":{"ArXiv":"2107.00642v3"}}]"#;
        let batch = parse_batch(body, &two).unwrap();
        assert_eq!(batch.skipped, 1);
        assert_eq!(
            batch.found,
            vec![Found {
                paper: two[1].clone(),
                citations: None,
                influential: None,
                tldr: None,
            }]
        );
    }
}
