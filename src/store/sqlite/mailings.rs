//! [`MailingStore`] on SQLite: the `mailings` and `mailing_papers` tables.

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use chrono::NaiveDate;

use rusqlite::OptionalExtension;

use super::papers::PaperRow;
use super::{
    ID_CHUNK, SqliteStore, corrupt, decode_id, decode_timestamp, encode_date, encode_timestamp,
    query_error, query_in, read_error, tuples,
};
use crate::arxiv::ArxivId;
use crate::arxiv::paper::AnnounceType;
use crate::store::{
    MailingMember, MailingPaper, MailingRecord, MailingSource, MailingStore, StoreError,
};

#[async_trait]
impl MailingStore for SqliteStore {
    /// `record.paper_count` is ignored: the stored count is the number of distinct members. A
    /// paper listed twice (e.g. `new` in one category feed and `cross` in another) is kept once
    /// with the first announce type in [`AnnounceType`]'s order (new, cross, replace,
    /// replace-cross, absonly), whatever the input order. Unknown members are an error naming
    /// one of them, and nothing is written.
    async fn record_mailing(
        &self,
        record: &MailingRecord,
        members: &[(ArxivId, AnnounceType)],
    ) -> Result<(), StoreError> {
        let date = encode_date(record.date)?;
        let window_start = encode_timestamp(&record.window_start)?;
        let window_end = encode_timestamp(&record.window_end)?;
        let ingested_at = encode_timestamp(&record.ingested_at)?;
        let source = record.source.as_str().to_string();

        let mut wanted: BTreeMap<String, AnnounceType> = BTreeMap::new();
        for (id, kind) in members {
            wanted
                .entry(id.key().to_string())
                .and_modify(|k| *k = (*k).min(*kind))
                .or_insert(*kind);
        }
        let row = NewMailing {
            date,
            window_start,
            window_end,
            source,
            ingested_at,
        };
        // One transaction on the rusqlite writer connection, on a blocking thread: a
        // mailing of a few thousand members is a few statements, none handed to another
        // thread one by one.
        self.write_batch(move |c| record_mailing_in(c, &row, &wanted))
            .await
    }

    async fn mailing_members(
        &self,
        date: NaiveDate,
    ) -> Result<Vec<(ArxivId, AnnounceType)>, StoreError> {
        let day = encode_date(date)?;
        let rows: Vec<(String, String)> = self.read(|c| {
            c.prepare_cached(
                "SELECT paper_id, announce_type FROM mailing_papers WHERE mailing_date = ?1 \
                 ORDER BY paper_id",
            )
            .and_then(|mut q| {
                q.query_map([&day], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect()
            })
            .map_err(read_error)
        })?;
        rows.into_iter()
            .map(|(id, kind)| {
                let what = || format!("mailing {date}, paper {id}");
                let announce = kind
                    .parse::<AnnounceType>()
                    .map_err(|e| corrupt(what(), e.as_str()))?;
                Ok((decode_id(&id)?, announce))
            })
            .collect()
    }

    async fn mailing_categories(&self, date: NaiveDate) -> Result<Vec<MailingMember>, StoreError> {
        let day = encode_date(date)?;
        let rows: Vec<(String, String, String, String)> = self.read(|c| {
            c.prepare_cached(
                "SELECT p.id, m.announce_type, p.primary_category, p.categories \
                 FROM mailing_papers AS m \
                 JOIN papers AS p INDEXED BY papers_for_ranking ON p.id = m.paper_id \
                 WHERE m.mailing_date = ?1 ORDER BY m.paper_id",
            )
            .and_then(|mut q| {
                q.query_map([&day], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
                    .collect()
            })
            .map_err(read_error)
        })?;
        rows.into_iter()
            .map(|(id, kind, primary_category, categories)| {
                let what = || format!("mailing {date}, paper {id}");
                let announce_type = kind
                    .parse::<AnnounceType>()
                    .map_err(|e| corrupt(what(), e.as_str()))?;
                let categories: Vec<String> = serde_json::from_str(&categories)
                    .map_err(|e| corrupt(what(), &format!("categories: {e}")))?;
                Ok(MailingMember {
                    id: decode_id(&id)?,
                    announce_type,
                    primary_category,
                    categories,
                })
            })
            .collect()
    }

    async fn record_empty_mailing(&self, record: &MailingRecord) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO mailings (date, window_start, window_end, source, ingested_at, paper_count) \
             VALUES (?1, ?2, ?3, ?4, ?5, 0) \
             ON CONFLICT (date) DO UPDATE SET window_start = excluded.window_start, \
             window_end = excluded.window_end, source = excluded.source, \
             ingested_at = excluded.ingested_at \
             WHERE mailings.paper_count = 0 \
             AND NOT EXISTS (SELECT 1 FROM mailing_papers WHERE mailing_date = mailings.date)",
        )
        .bind(encode_date(record.date)?)
        .bind(encode_timestamp(&record.window_start)?)
        .bind(encode_timestamp(&record.window_end)?)
        .bind(record.source.as_str())
        .bind(encode_timestamp(&record.ingested_at)?)
        .execute(&self.pool)
        .await
        .map_err(query_error)?;
        Ok(done.rows_affected() > 0)
    }

    async fn mailing(&self, date: NaiveDate) -> Result<Option<MailingRecord>, StoreError> {
        let day = encode_date(date)?;
        self.read(|c| {
            c.prepare_cached(SELECT_MAILING_BY_DATE)
                .and_then(|mut q| q.query_row([&day], MailingRow::read).optional())
                .map_err(read_error)
        })?
        .map(MailingRow::decode)
        .transpose()
    }

    async fn latest_mailing(&self) -> Result<Option<MailingRecord>, StoreError> {
        self.read(|c| {
            c.prepare_cached(SELECT_LATEST_MAILING)
                .and_then(|mut q| q.query_row([], MailingRow::read).optional())
                .map_err(read_error)
        })?
        .map(MailingRow::decode)
        .transpose()
    }

    /// Ordered by id in byte order of the key, the same order as [`ArxivId`]'s `Ord`.
    async fn mailing_papers(&self, date: NaiveDate) -> Result<Vec<MailingPaper>, StoreError> {
        let day = encode_date(date)?;
        let rows: Vec<(PaperRow, String)> = self.read(|c| {
            c.prepare_cached(
                "SELECT p.id, p.version, p.title, p.abstract, p.authors, p.primary_category, \
                 p.categories, p.published, p.updated, p.comment, p.journal_ref, p.doi, p.links, \
                 m.announce_type \
                 FROM mailing_papers AS m JOIN papers AS p ON p.id = m.paper_id \
                 WHERE m.mailing_date = ?1 ORDER BY m.paper_id",
            )
            .and_then(|mut q| {
                q.query_map([&day], |r| Ok((PaperRow::read(r)?, r.get(13)?)))?
                    .collect()
            })
            .map_err(read_error)
        })?;
        rows.into_iter()
            .map(|(paper, announce_type)| {
                let announce_type = announce_type.parse::<AnnounceType>().map_err(|e| {
                    corrupt(format!("mailing {date}, paper {}", paper.id), e.as_str())
                })?;
                Ok(MailingPaper {
                    paper: paper.decode()?,
                    announce_type,
                })
            })
            .collect()
    }

    /// Counts distinct papers per category with one indexed join (`paper_categories` has one
    /// row per paper and category).
    async fn category_counts(&self, date: NaiveDate) -> Result<BTreeMap<String, u32>, StoreError> {
        let day = encode_date(date)?;
        let rows: Vec<(String, i64)> = self.read(|c| {
            c.prepare_cached(
                "SELECT c.category, count(*) FROM mailing_papers AS m \
                 JOIN paper_categories AS c ON c.paper_id = m.paper_id \
                 WHERE m.mailing_date = ?1 AND m.announce_type IN ('new', 'cross') \
                 GROUP BY c.category",
            )
            .and_then(|mut q| {
                q.query_map([&day], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect()
            })
            .map_err(read_error)
        })?;
        rows.into_iter()
            .map(|(category, n)| {
                let n = u32::try_from(n).map_err(|_| {
                    corrupt(
                        format!("mailing {date}"),
                        &format!("count {n} for {category}"),
                    )
                })?;
                Ok((category, n))
            })
            .collect()
    }
}

/// Members per multi-row insert (3 values each; SQLite allows 32,766 variables).
const MEMBERS_PER_STATEMENT: usize = 900;

/// A mailing's own columns, encoded, as [`record_mailing_in`] writes them.
struct NewMailing {
    date: String,
    window_start: String,
    window_end: String,
    source: String,
    ingested_at: String,
}

/// [`MailingStore::record_mailing`] of `mailing` with the members `wanted` (version-less keys,
/// each with the announce type kept), inside the write transaction on `conn`.
fn record_mailing_in(
    conn: &rusqlite::Connection,
    mailing: &NewMailing,
    wanted: &BTreeMap<String, AnnounceType>,
) -> Result<(), StoreError> {
    let date = &mailing.date;
    let paper_count = i64::try_from(wanted.len())
        .map_err(|_| StoreError::Query(format!("mailing {date} has too many members")))?;

    // Every member must be stored; report one missing id rather than a bare FK failure.
    let keys: Vec<&str> = wanted.keys().map(String::as_str).collect();
    let found: BTreeSet<String> = query_in(
        conn,
        "SELECT id FROM papers WHERE id IN ({})",
        &keys,
        ID_CHUNK,
        |r| r.get(0),
    )?
    .into_iter()
    .collect();
    let missing: Vec<&str> = keys
        .iter()
        .copied()
        .filter(|k| !found.contains(*k))
        .collect();
    if let Some(first) = missing.first() {
        return Err(StoreError::Query(format!(
            "cannot record mailing {date}: {} of its papers are not stored (e.g. {first}); \
             upsert them first",
            missing.len()
        )));
    }

    let existing: Option<(String, String, String, i64)> = conn
        .prepare_cached(
            "SELECT window_start, window_end, source, paper_count FROM mailings WHERE date = ?1",
        )
        .and_then(|mut q| {
            q.query_row([date], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
                .optional()
        })
        .map_err(read_error)?;
    if let Some((ws, we, src, count)) = existing
        && ws == mailing.window_start
        && we == mailing.window_end
        && src == mailing.source
        && count == paper_count
    {
        let stored: Vec<(String, String)> = conn
            .prepare_cached(
                "SELECT paper_id, announce_type FROM mailing_papers WHERE mailing_date = ?1 \
                 ORDER BY paper_id",
            )
            .and_then(|mut q| {
                q.query_map([date], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect()
            })
            .map_err(read_error)?;
        let same_members = stored.len() == wanted.len()
            && stored
                .iter()
                .zip(wanted)
                .all(|((sid, skind), (wid, wkind))| sid == wid && skind == wkind.as_str());
        if same_members {
            // Identical data: change nothing, not even `ingested_at`.
            return Ok(());
        }
    }

    // Upsert, never REPLACE: a REPLACE deletes the row and would cascade to its digests.
    conn.prepare_cached(
        "INSERT INTO mailings (date, window_start, window_end, source, ingested_at, paper_count) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
         ON CONFLICT (date) DO UPDATE SET window_start = excluded.window_start, \
         window_end = excluded.window_end, source = excluded.source, \
         ingested_at = excluded.ingested_at, paper_count = excluded.paper_count",
    )
    .and_then(|mut q| {
        q.execute(rusqlite::params![
            date,
            mailing.window_start,
            mailing.window_end,
            mailing.source,
            mailing.ingested_at,
            paper_count
        ])
    })
    .map_err(read_error)?;
    conn.prepare_cached("DELETE FROM mailing_papers WHERE mailing_date = ?1")
        .and_then(|mut q| q.execute([date]))
        .map_err(read_error)?;
    // A few multi-row inserts, not one statement per member.
    let members: Vec<(&str, &str)> = wanted
        .iter()
        .map(|(key, kind)| (key.as_str(), kind.as_str()))
        .collect();
    for chunk in members.chunks(MEMBERS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO mailing_papers (mailing_date, paper_id, announce_type) VALUES {}",
            tuples(chunk.len(), 3)
        );
        let mut values: Vec<&dyn rusqlite::ToSql> = Vec::with_capacity(chunk.len() * 3);
        for (key, kind) in chunk {
            values.extend([date as &dyn rusqlite::ToSql, key, kind]);
        }
        // Only placeholders are interpolated: the values are bound.
        conn.prepare_cached(&sql)
            .and_then(|mut q| q.execute(values.as_slice()))
            .map_err(read_error)?;
    }
    Ok(())
}

/// Every column of `mailings`, in [`MailingRow`]'s order.
macro_rules! select_mailings {
    () => {
        "SELECT date, window_start, window_end, source, ingested_at, paper_count FROM mailings"
    };
}
const SELECT_MAILING_BY_DATE: &str = concat!(select_mailings!(), " WHERE date = ?1");
const SELECT_LATEST_MAILING: &str = concat!(
    select_mailings!(),
    " WHERE paper_count > 0 ORDER BY date DESC LIMIT 1"
);

struct MailingRow {
    date: String,
    window_start: String,
    window_end: String,
    source: String,
    ingested_at: String,
    paper_count: i64,
}

impl MailingRow {
    /// The row of `select_mailings!`'s columns, by position.
    fn read(r: &rusqlite::Row<'_>) -> rusqlite::Result<MailingRow> {
        Ok(MailingRow {
            date: r.get(0)?,
            window_start: r.get(1)?,
            window_end: r.get(2)?,
            source: r.get(3)?,
            ingested_at: r.get(4)?,
            paper_count: r.get(5)?,
        })
    }

    fn decode(self) -> Result<MailingRecord, StoreError> {
        let what = || format!("mailing {}", self.date);
        let date = NaiveDate::parse_from_str(&self.date, "%Y-%m-%d")
            .map_err(|e| corrupt(what(), &format!("date: {e}")))?;
        let ts = |field: &str, s: &str| {
            decode_timestamp(s).map_err(|e| corrupt(what(), &format!("{field}: {e}")))
        };
        let source = match self.source.as_str() {
            "api" => MailingSource::Api,
            "rss" => MailingSource::Rss,
            "import" => MailingSource::Import,
            other => return Err(corrupt(what(), &format!("unknown source '{other}'"))),
        };
        Ok(MailingRecord {
            date,
            window_start: ts("window_start", &self.window_start)?,
            window_end: ts("window_end", &self.window_end)?,
            source,
            ingested_at: ts("ingested_at", &self.ingested_at)?,
            paper_count: u32::try_from(self.paper_count)
                .map_err(|_| corrupt(what(), "paper_count out of range"))?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arxiv::paper::{Author, Paper};
    use crate::store::PaperStore;
    use chrono::{TimeZone, Utc};

    #[tokio::test]
    async fn corrupt_mailing_rows_are_reported_not_panicked() {
        let store = SqliteStore::in_memory().await.unwrap();
        sqlx::query(
            "INSERT INTO mailings VALUES ('2021-07-02', '2021-07-01T00:00:00Z', \
             '2021-07-01T00:00:00Z', 'carrier-pigeon', '2021-07-01T00:00:00Z', 1)",
        )
        .execute(store.pool())
        .await
        .unwrap();
        let err = store.latest_mailing().await.unwrap_err();
        assert!(err.to_string().contains("carrier-pigeon"), "{err}");
    }

    /// The 2021-07-02 mailing's record, stamped at midnight, claiming `paper_count` papers.
    fn july_2nd(paper_count: u32) -> MailingRecord {
        let at = Utc.with_ymd_and_hms(2021, 7, 2, 0, 0, 0).unwrap();
        MailingRecord {
            date: NaiveDate::from_ymd_opt(2021, 7, 2).unwrap(),
            window_start: at,
            window_end: at,
            source: MailingSource::Api,
            ingested_at: at,
            paper_count,
        }
    }

    fn test_paper(key: &str, categories: &[&str]) -> Paper {
        Paper {
            authors: vec![Author {
                name: "Ada Lovelace".into(),
                affiliations: vec![],
            }],
            ..Paper::sample(key, categories)
        }
    }

    #[tokio::test]
    async fn an_empty_mailing_is_remembered_and_never_wipes_members() {
        let store = SqliteStore::in_memory().await.unwrap();
        let d = NaiveDate::from_ymd_opt(2021, 7, 2).unwrap();
        let at = |h| Utc.with_ymd_and_hms(2021, 7, 2, h, 0, 0).unwrap();
        let record = |h| MailingRecord {
            date: d,
            window_start: at(0),
            window_end: at(1),
            source: MailingSource::Api,
            ingested_at: at(h),
            paper_count: 7,
        };
        assert!(store.record_empty_mailing(&record(2)).await.unwrap());
        let got = store.mailing(d).await.unwrap().unwrap();
        assert_eq!((got.paper_count, got.ingested_at), (0, at(2)));
        // A later check moves the time; an empty mailing is not "the latest mailing".
        assert!(store.record_empty_mailing(&record(5)).await.unwrap());
        assert_eq!(store.mailing(d).await.unwrap().unwrap().ingested_at, at(5));
        assert_eq!(store.latest_mailing().await.unwrap(), None);
        assert!(store.mailing_papers(d).await.unwrap().is_empty());
        // Once it has papers, an empty answer changes nothing.
        store
            .upsert_papers(&[test_paper("2107.00001", &["cs.LG"])])
            .await
            .unwrap();
        let id = ArxivId::parse("2107.00001").unwrap();
        store
            .record_mailing(&record(6), &[(id, AnnounceType::New)])
            .await
            .unwrap();
        assert!(!store.record_empty_mailing(&record(9)).await.unwrap());
        let got = store.mailing(d).await.unwrap().unwrap();
        assert_eq!((got.paper_count, got.ingested_at), (1, at(6)));
        assert_eq!(store.mailing_papers(d).await.unwrap().len(), 1);
        assert_eq!(
            store.latest_mailing().await.unwrap().map(|m| m.date),
            Some(d)
        );
    }

    #[tokio::test]
    async fn a_membership_larger_than_one_statement_is_stored_whole() {
        let store = SqliteStore::in_memory().await.unwrap();
        let n = MEMBERS_PER_STATEMENT * 2 + 7;
        let papers: Vec<Paper> = (0..n)
            .map(|i| test_paper(&format!("2107.{:05}", i + 1), &["cs.LG"]))
            .collect();
        store.upsert_papers(&papers).await.unwrap();
        let record = july_2nd(0);
        let d = record.date;
        // Reversed, with one paper listed twice (cross, then new: new wins).
        let mut members: Vec<(ArxivId, AnnounceType)> = papers
            .iter()
            .rev()
            .map(|p| (p.id.clone(), AnnounceType::Cross))
            .collect();
        members.push((papers[3].id.clone(), AnnounceType::New));
        store.record_mailing(&record, &members).await.unwrap();
        assert_eq!(
            store.mailing(d).await.unwrap().unwrap().paper_count as usize,
            n
        );
        let got = store.mailing_members(d).await.unwrap();
        assert_eq!(got.len(), n);
        assert!(got.windows(2).all(|w| w[0].0 < w[1].0), "ordered by id");
        assert_eq!(got[3], (papers[3].id.clone(), AnnounceType::New));
        assert_eq!(got[4], (papers[4].id.clone(), AnnounceType::Cross));
        let full = store.mailing_papers(d).await.unwrap();
        let ids: Vec<_> = full
            .iter()
            .map(|m| (m.paper.id.clone(), m.announce_type))
            .collect();
        assert_eq!(ids, got);
        assert!(
            store
                .mailing_members(NaiveDate::from_ymd_opt(2021, 7, 5).unwrap())
                .await
                .unwrap()
                .is_empty()
        );
    }

    #[tokio::test]
    async fn mailing_categories_agree_with_the_full_rows() {
        let store = SqliteStore::in_memory().await.unwrap();
        let mut odd = test_paper("2107.00002", &["stat.ML", "cs.LG", "hep-th"]);
        odd.primary_category = "cs.LG".into();
        let papers = vec![
            test_paper("2107.00003", &["cs.CV"]),
            odd,
            test_paper("hep-th/9901001", &["hep-th"]),
        ];
        store.upsert_papers(&papers).await.unwrap();
        let record = july_2nd(0);
        let members: Vec<(ArxivId, AnnounceType)> = vec![
            (papers[0].id.clone(), AnnounceType::Cross),
            (papers[1].id.clone(), AnnounceType::New),
            (papers[2].id.clone(), AnnounceType::Replace),
        ];
        store.record_mailing(&record, &members).await.unwrap();
        let light = store.mailing_categories(record.date).await.unwrap();
        let full = store.mailing_papers(record.date).await.unwrap();
        assert_eq!(light.len(), 3);
        for (l, f) in light.iter().zip(&full) {
            assert_eq!(l.id, f.paper.id);
            assert_eq!(l.announce_type, f.announce_type);
            assert_eq!(l.primary_category, f.paper.primary_category);
            assert_eq!(l.categories, f.paper.categories);
        }
        assert_eq!(light[0].categories, ["stat.ML", "cs.LG", "hep-th"]);
        assert_eq!(light[0].primary_category, "cs.LG");
        let none = NaiveDate::from_ymd_opt(2021, 7, 5).unwrap();
        assert!(store.mailing_categories(none).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn category_counts_count_new_and_cross_papers_per_category() {
        let store = SqliteStore::in_memory().await.unwrap();
        let papers = [
            test_paper("2107.00001", &["cs.LG", "stat.ML"]),
            test_paper("2107.00002", &["cs.LG"]),
            test_paper("2107.00003", &["stat.ML", "cs.LG"]),
            test_paper("2107.00004", &["cs.LG", "cs.CV"]),
            test_paper("2107.00005", &["math.AG"]),
        ];
        store.upsert_papers(&papers).await.unwrap();
        let record = july_2nd(5);
        let d = record.date;
        let id = |k: &str| ArxivId::parse(k).unwrap();
        store
            .record_mailing(
                &record,
                &[
                    (id("2107.00001"), AnnounceType::New),
                    (id("2107.00002"), AnnounceType::New),
                    (id("2107.00003"), AnnounceType::Cross),
                    // Revisions are not part of a digest, so not counted.
                    (id("2107.00004"), AnnounceType::Replace),
                ],
            )
            .await
            .unwrap();
        let counts = store.category_counts(d).await.unwrap();
        let want: BTreeMap<String, u32> =
            [("cs.LG".to_string(), 3), ("stat.ML".to_string(), 2)].into();
        assert_eq!(counts, want);
        let other = NaiveDate::from_ymd_opt(2021, 7, 5).unwrap();
        assert!(store.category_counts(other).await.unwrap().is_empty());
    }
}
