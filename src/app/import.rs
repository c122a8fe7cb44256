//! `import`: arXiv API Atom files (offline backfill) into the store, streamed.
//!
//! A file is parsed on a blocking thread that hands batches of papers through a channel of one
//! batch to the async side, which stores each batch while the next one is parsed: both cores
//! work, and memory holds the file's bytes and at most three batches, whatever the number of
//! entries and files.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::NaiveDate;
use tracing::warn;

use crate::arxiv::ArxivId;
use crate::arxiv::atom::{self, AtomError};
use crate::arxiv::paper::{AnnounceType, Paper};
use crate::store::{MailingRecord, MailingSource, PreparedPapers, StoreError};

use super::{App, AppError, ImportReport};

impl App {
    /// Loads arXiv API Atom files (offline backfill). Each paper joins the mailing its v1
    /// submission time falls in, so imported files can feed digests.
    ///
    /// A file that turns out malformed part-way (truncated, mismatched tags) fails the import
    /// with an error naming the file, the byte and how many of its entries were stored: those,
    /// every entry completed before the problem, stay stored and join their mailings, as do
    /// the files before it, since importing again is idempotent and nothing good is thrown
    /// away.
    pub async fn import(&self, files: &[PathBuf]) -> Result<ImportReport, AppError> {
        self.import_in_batches(files, IMPORT_BATCH).await
    }

    /// [`App::import`], storing `batch_size` entries at a time (tests use tiny batches).
    async fn import_in_batches(
        &self,
        files: &[PathBuf],
        batch_size: usize,
    ) -> Result<ImportReport, AppError> {
        let mut report = ImportReport::default();
        // File by file, batch by batch: memory holds one file's bytes and a few batches of
        // papers whatever the number of files and entries. What the mailings need is kept
        // per paper (its newest version's mailing and announce type), a few bytes each.
        let mut members_of: BTreeMap<ArxivId, (u32, NaiveDate, AnnounceType)> = BTreeMap::new();
        let mut seen: BTreeSet<ArxivId> = BTreeSet::new();
        for path in files {
            let imported = self
                .import_file(path, batch_size, &mut report, &mut members_of, &mut seen)
                .await;
            if let Err(e) = imported {
                // What was stored stays: give it its mailings, so that the store is as if the
                // files had ended where the problem began.
                if !members_of.is_empty() {
                    let recorded = match self.record_import_mailings(members_of, &mut report).await
                    {
                        Ok(()) => self.store.checkpoint().await.map_err(AppError::from),
                        Err(e) => Err(e),
                    };
                    if let Err(also) = recorded {
                        warn!(
                            error = %also,
                            "could not record the mailings of the papers imported before the error"
                        );
                    }
                }
                return Err(e);
            }
            report.files += 1;
        }
        report.papers = seen.len();
        self.record_import_mailings(members_of, &mut report).await?;
        self.store.checkpoint().await?;
        Ok(report)
    }

    /// Imports one file: parses it on a blocking thread, which hands batches of papers through
    /// a channel of one batch to this task, which stores each batch while the next is parsed
    /// (both cores busy; in memory, the file's bytes and at most three batches).
    async fn import_file(
        &self,
        path: &Path,
        batch_size: usize,
        report: &mut ImportReport,
        members_of: &mut BTreeMap<ArxivId, (u32, NaiveDate, AnnounceType)>,
        seen: &mut BTreeSet<ArxivId>,
    ) -> Result<(), AppError> {
        let bytes = read_capped(path, self.config.arxiv.max_import_bytes).await?;
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<PreparedPapers, StoreError>>(1);
        let store = Arc::clone(&self.store);
        let parser = tokio::task::spawn_blocking(move || {
            atom::parse_feed_batches(&bytes, batch_size, |batch| {
                // Encoded here, on the parser's core, while the previous batch is written.
                let prepared = store.prepare_papers(batch);
                let failed = prepared.is_err();
                // Sending fails only once the receiver is gone (a store error): stop parsing.
                match tx.blocking_send(prepared) {
                    Ok(()) if !failed => ControlFlow::Continue(()),
                    _ => ControlFlow::Break(()),
                }
            })
        });
        // Entries of this file stored so far.
        let mut stored: usize = 0;
        while let Some(prepared) = rx.recv().await {
            // No deduplication here: the store takes papers in order and keeps the newest
            // version of each (an older one never overwrites a newer one, it is only recorded
            // as a version), within a batch as across batches and files. So what is stored
            // does not depend on where batches happen to end.
            let written = match prepared {
                Ok(batch) => {
                    // What the mailings need of each paper, applied once the batch is stored.
                    let joined = self.members_to_join(batch.papers());
                    self.store
                        .upsert_prepared(batch)
                        .await
                        .map(|stats| (stats, joined))
                }
                Err(e) => Err(e),
            };
            let (stats, joined) = match written {
                Ok(written) => written,
                Err(e) => {
                    // Stops the parser at its next batch.
                    drop(rx);
                    let _ = parser.await;
                    return Err(e.into());
                }
            };
            report.inserted += stats.inserted;
            report.updated += stats.updated;
            stored += joined.ids.len();
            seen.extend(joined.ids);
            for (id, member) in joined.members {
                let newer = members_of.get(&id).is_none_or(|(v, _, _)| member.0 >= *v);
                if newer {
                    members_of.insert(id, member);
                }
            }
        }
        let feed = match parser.await {
            Ok(parsed) => parsed.map_err(|e| import_error_after(path, &e, stored))?,
            Err(e) => {
                return Err(AppError::Import {
                    path: path.to_path_buf(),
                    message: format!("the parser stopped unexpectedly ({e})"),
                });
            }
        };
        for bad in &feed.invalid_utf8 {
            report.warnings.push(format!("{}: {bad}", path.display()));
        }
        for r in &feed.rejected {
            report.warnings.push(format!(
                "{}: skipped entry {}: {}",
                path.display(),
                r.id.as_deref().unwrap_or("(no id)"),
                r.reason
            ));
        }
        Ok(())
    }

    /// What storing `papers` adds to an import's bookkeeping, worked out while they are written.
    fn members_to_join(&self, papers: &[Paper]) -> Joined {
        let mut members = Vec::with_capacity(papers.len());
        for p in papers.iter().filter(|p| self.in_scope(p)) {
            let date = self.calendar.mailing_for_submission(p.published).date;
            members.push((
                p.id.versionless(),
                (p.version, date, self.announce_type_of(p)),
            ));
        }
        Joined {
            ids: papers.iter().map(|p| p.id.versionless()).collect(),
            members,
        }
    }

    /// Adds the imported papers to the membership of their mailings.
    async fn record_import_mailings(
        &self,
        members_of: BTreeMap<ArxivId, (u32, NaiveDate, AnnounceType)>,
        report: &mut ImportReport,
    ) -> Result<(), AppError> {
        let mut by_mailing: BTreeMap<NaiveDate, Vec<(ArxivId, AnnounceType)>> = BTreeMap::new();
        for (id, (_, date, announce)) in members_of {
            by_mailing.entry(date).or_default().push((id, announce));
        }
        for (date, members) in by_mailing {
            let mailing = self.calendar.mailing(date)?;
            let mut all: BTreeMap<ArxivId, AnnounceType> = self
                .store
                .mailing_members(date)
                .await?
                .into_iter()
                .collect();
            for (id, announce) in members {
                all.entry(id).or_insert(announce);
            }
            // A mailing recorded empty was never ingested: the import is its first source.
            let existing = self
                .store
                .mailing(date)
                .await?
                .filter(|m| m.paper_count > 0);
            let record = MailingRecord {
                date,
                window_start: mailing.window_start,
                window_end: mailing.window_end,
                source: existing
                    .as_ref()
                    .map_or(MailingSource::Import, |m| m.source),
                ingested_at: existing.map_or(self.clock.now(), |m| m.ingested_at),
                paper_count: u32::try_from(all.len()).unwrap_or(u32::MAX),
            };
            let members: Vec<(ArxivId, AnnounceType)> = all.into_iter().collect();
            self.store.record_mailing(&record, &members).await?;
            report.mailings.push(date);
        }
        Ok(())
    }
}

/// A stored batch's share of an import's bookkeeping ([`App::members_to_join`]).
struct Joined {
    /// Every paper's version-less id, one per entry of the batch.
    ids: Vec<ArxivId>,
    /// The papers in scope: each one's version, mailing and announce type, in batch order.
    members: Vec<(ArxivId, (u32, NaiveDate, AnnounceType))>,
}

/// The contents of `path`, refused when longer than `cap` bytes. At most `cap + 1` bytes are
/// read whatever the file is (a pipe, `/dev/zero`, a file still growing): its metadata only
/// sizes the buffer.
async fn read_capped(path: &Path, cap: u64) -> Result<Vec<u8>, AppError> {
    use tokio::io::AsyncReadExt as _;
    let fail = |message: String| AppError::Import {
        path: path.to_path_buf(),
        message,
    };
    let file = tokio::fs::File::open(path)
        .await
        .map_err(|e| fail(e.to_string()))?;
    let hint = file
        .metadata()
        .await
        .ok()
        .filter(std::fs::Metadata::is_file)
        .map_or(0, |m| m.len());
    let mut bytes = Vec::with_capacity(usize::try_from(hint.min(cap)).unwrap_or(0));
    file.take(cap.saturating_add(1))
        .read_to_end(&mut bytes)
        .await
        .map_err(|e| fail(e.to_string()))?;
    if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > cap {
        return Err(fail(format!(
            "larger than {cap} bytes, the most import reads from one file ([arxiv] \
             max_import_bytes); nothing imported"
        )));
    }
    Ok(bytes)
}

/// Papers per batch of `import`: large enough that a batch is a few multi-row statements and
/// one transaction (per-transaction costs vanish), small enough that three batches in memory
/// are a couple of megabytes.
const IMPORT_BATCH: usize = 500;

/// A file that failed after `stored` of its entries were stored, saying so.
fn import_error_after(path: &Path, e: &AtomError, stored: usize) -> AppError {
    let kept = match stored {
        0 => "nothing from this file was stored".to_string(),
        1 => "the 1 entry before it was stored, with its mailing (importing the file again \
              is safe)"
            .to_string(),
        n => format!(
            "the {n} entries before it were stored, with their mailings (importing the file \
             again is safe)"
        ),
    };
    AppError::Import {
        path: path.to_path_buf(),
        message: format!("{e}; {kept}"),
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::sync::Arc;

    use chrono::TimeZone;

    use super::{App, AppError};
    use crate::arxiv::ArxivId;
    use crate::clock::FakeClock;
    use crate::config::Config;
    use crate::store::{MailingStore, PaperStore, SqliteStore, Store};

    async fn app() -> (App, SqliteStore) {
        let store = SqliteStore::in_memory().await.unwrap();
        let shared: Arc<dyn Store> = Arc::new(store.clone());
        let clock = FakeClock::new(chrono::Utc.with_ymd_and_hms(2024, 2, 1, 0, 0, 0).unwrap());
        let mut config = Config::default();
        config.arxiv.api_url = "http://127.0.0.1:9/api/query".into();
        let app = App::with_store(config, shared, Arc::new(clock)).unwrap();
        (app, store)
    }

    fn entry(id: &str, title: &str) -> String {
        format!(
            r#"<entry><id>http://arxiv.org/abs/{id}</id><title>{title}</title>
<updated>2024-01-02T00:00:00Z</updated><published>2024-01-01T20:00:00Z</published>
<summary>Abstract of {id}.</summary><category term="cs.LG"/><arxiv:primary_category term="cs.LG"/>
<author><name>A. Author</name></author></entry>
"#
        )
    }

    fn feed(entries: &[String]) -> String {
        format!(
            r#"<?xml version='1.0' encoding='UTF-8'?>
<feed xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns="http://www.w3.org/2005/Atom">
{}</feed>
"#,
            entries.concat()
        )
    }

    fn id(s: &str) -> ArxivId {
        ArxivId::parse(s).unwrap()
    }

    /// A batch is stored before the next is parsed, so the newest version of a paper listed
    /// twice in one file may arrive first or last: either way it is the one kept.
    #[tokio::test]
    async fn a_file_keeps_the_newest_version_whichever_batch_brings_it() {
        let dir = tempfile::tempdir().unwrap();
        let newest_first = dir.path().join("a.xml");
        std::fs::write(
            &newest_first,
            feed(&[
                entry("2401.00001v2", "New one"),
                entry("2401.00002v1", "Two"),
                entry("2401.00001v1", "Old one"),
            ]),
        )
        .unwrap();
        let newest_last = dir.path().join("b.xml");
        std::fs::write(
            &newest_last,
            feed(&[
                entry("2401.00003v1", "Old three"),
                entry("2401.00002v1", "Two"),
                entry("2401.00003v3", "New three"),
            ]),
        )
        .unwrap();
        for batch in [1, 2, 500] {
            let (app, store) = app().await;
            let report = app
                .import_in_batches(&[newest_first.clone(), newest_last.clone()], batch)
                .await
                .unwrap();
            assert_eq!(report.papers, 3, "batch {batch}");
            // 1v2 inserted, 1v1 unchanged; 3v1 inserted, 3v3 updated; 2 inserted, unchanged.
            assert_eq!((report.inserted, report.updated), (3, 1), "batch {batch}");
            for (key, version, title) in [
                ("2401.00001", 2, "New one"),
                ("2401.00002", 1, "Two"),
                ("2401.00003", 3, "New three"),
            ] {
                let p = store.paper(&id(key)).await.unwrap().unwrap();
                assert_eq!(
                    (p.version, p.title.as_str()),
                    (version, title),
                    "batch {batch}"
                );
            }
            assert_eq!(store.versions(&id("2401.00001")).await.unwrap(), vec![1, 2]);
            assert_eq!(store.versions(&id("2401.00003")).await.unwrap(), vec![1, 3]);
            assert_eq!(report.mailings.len(), 1, "batch {batch}");
            let members = store.mailing_members(report.mailings[0]).await.unwrap();
            assert_eq!(members.len(), 3, "batch {batch}");
        }
    }

    /// A file malformed after some entries: those are stored and join their mailing, like the
    /// file before it, and the error names the file, the byte and how many were stored.
    #[tokio::test]
    async fn a_file_malformed_part_way_keeps_what_came_before_and_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.xml");
        std::fs::write(&good, feed(&[entry("2401.00001v1", "One")])).unwrap();
        let bad = dir.path().join("bad.xml");
        let body = feed(&[
            entry("2401.00002v1", "Two"),
            entry("2401.00003v1", "Three"),
            entry("2401.00004v1", "Four"),
            "<entry><id>http://arxiv.org/abs/2401.00005v1</title></entry>".to_string(),
            entry("2401.00006v1", "Six"),
        ]);
        std::fs::write(&bad, &body).unwrap();
        let files: Vec<PathBuf> = vec![good.clone(), bad.clone()];
        for batch in [1, 2, 500] {
            let (app, store) = app().await;
            let err = app.import_in_batches(&files, batch).await.unwrap_err();
            let AppError::Import { path, message } = &err else {
                panic!("expected an import error, got {err}");
            };
            assert_eq!(path, &bad);
            let at = body.find("</title></entry>").unwrap();
            assert!(
                message.starts_with(&format!("malformed Atom XML at byte {at}")),
                "{message}"
            );
            assert!(
                message.ends_with(
                    "; the 3 entries before it were stored, with their mailings (importing \
                     the file again is safe)"
                ),
                "{message}"
            );
            let stored = ["2401.00001", "2401.00002", "2401.00003", "2401.00004"];
            for key in stored {
                assert!(store.paper(&id(key)).await.unwrap().is_some(), "{key}");
            }
            for key in ["2401.00005", "2401.00006"] {
                assert!(store.paper(&id(key)).await.unwrap().is_none(), "{key}");
            }
            let one = store.paper(&id("2401.00001")).await.unwrap().unwrap();
            let date = app.calendar.mailing_for_submission(one.published).date;
            let members: Vec<String> = store
                .mailing_members(date)
                .await
                .unwrap()
                .into_iter()
                .map(|(id, _)| id.to_string())
                .collect();
            assert_eq!(members, stored, "batch {batch}");

            // Importing again once fixed is safe: everything is there once.
            let fixed = body.replace(
                "2401.00005v1</title></entry>",
                "2401.00005v1</id><title>Five</title><published>2024-01-01T20:00:00Z</published>\
                 <summary>Five.</summary><category term=\"cs.LG\"/></entry>",
            );
            std::fs::write(dir.path().join("fixed.xml"), fixed).unwrap();
            let report = app
                .import_in_batches(&[good.clone(), dir.path().join("fixed.xml")], batch)
                .await
                .unwrap();
            assert_eq!(report.papers, 6, "{report:?}");
            assert_eq!(report.inserted, 2, "{report:?}");
            assert_eq!(store.mailing_members(date).await.unwrap().len(), 6);
        }
    }
}
