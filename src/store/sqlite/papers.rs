//! [`PaperStore`] on SQLite: the `papers`, `paper_versions`, `paper_categories`, `paper_extras`
//! tables and the `papers_fts` index.

use std::collections::{BTreeSet, HashMap, HashSet};

use async_trait::async_trait;
use rusqlite::{OptionalExtension, params_from_iter};
use serde::{Deserialize, Serialize};
use sqlx::{AssertSqlSafe, Sqlite, SqliteConnection, Transaction};

use super::{
    SqliteStore, corrupt, decode_id, decode_timestamp, encode_timestamp, placeholders, query_error,
    read_error, tuples,
};
use crate::arxiv::ArxivId;
use crate::arxiv::paper::{Author, Link, Paper};
use crate::store::{
    Extra, PaperStore, SEARCH_RANK_WINDOW, SearchHits, SearchQuery, StoreError, UpsertStats,
};

#[async_trait]
impl PaperStore for SqliteStore {
    /// Each input paper counts once in the stats, in input order: a paper whose stored version
    /// is newer counts as unchanged (its metadata stays; its version is still recorded), and a
    /// paper listed twice is handled twice.
    async fn upsert_papers(&self, papers: &[Paper]) -> Result<UpsertStats, StoreError> {
        let mut stats = UpsertStats::default();
        if papers.is_empty() {
            return Ok(stats);
        }
        // Encode (and validate) everything before touching the database.
        let rows = papers
            .iter()
            .map(|p| PaperRow::encode(p).map(|row| (row, p)))
            .collect::<Result<Vec<_>, _>>()?;
        let mut tx = self.begin_write().await?;
        // A batch is a few statements per few hundred papers, not several per paper: every
        // statement is a round trip to sqlx's SQLite thread. Decisions are made in order
        // against what is stored (and what this batch wrote before), as one-by-one upserts
        // would.
        let ids: Vec<&str> = rows.iter().map(|(r, _)| r.id.as_str()).collect();
        let mut stored = stored_rows(&mut tx, &ids).await?;
        let mut writes: Vec<&PaperRow> = Vec::new();
        let mut written: HashMap<&str, usize> = HashMap::new();
        let mut categories: HashMap<&str, &[String]> = HashMap::new();
        let mut clear_categories: HashSet<&str> = HashSet::new();
        for (row, paper) in &rows {
            let before = stored.get(row.id.as_str());
            let write = match before {
                None => {
                    stats.inserted += 1;
                    true
                }
                Some(old) if row.version >= old.version && *row != *old => {
                    stats.updated += 1;
                    true
                }
                Some(_) => {
                    stats.unchanged += 1;
                    false
                }
            };
            if !write {
                continue;
            }
            let categories_changed = before.is_none_or(|old| old.categories != row.categories);
            if categories_changed {
                if before.is_some() {
                    clear_categories.insert(row.id.as_str());
                }
                categories.insert(row.id.as_str(), &paper.categories);
            }
            match written.get(row.id.as_str()) {
                Some(&i) => writes[i] = row,
                None => {
                    written.insert(row.id.as_str(), writes.len());
                    writes.push(row);
                }
            }
            stored.insert(row.id.clone(), row.clone());
        }
        for chunk in writes.chunks(PAPERS_PER_STATEMENT) {
            write_papers(&mut tx, chunk).await?;
        }
        let clear: Vec<&str> = clear_categories.into_iter().collect();
        for chunk in clear.chunks(IDS_PER_STATEMENT) {
            let sql = format!(
                "DELETE FROM paper_categories WHERE paper_id IN ({})",
                placeholders(chunk.len())
            );
            // Only placeholders are interpolated: the values are bound.
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for id in chunk {
                q = q.bind(*id);
            }
            q.execute(&mut *tx).await.map_err(query_error)?;
        }
        let mut category_rows: Vec<(&str, &str, i64)> = Vec::new();
        for row in &writes {
            if let Some(cats) = categories.get(row.id.as_str()) {
                for (position, c) in cats.iter().enumerate() {
                    category_rows.push((
                        row.id.as_str(),
                        c.as_str(),
                        i64::try_from(position).unwrap_or(i64::MAX),
                    ));
                }
            }
        }
        for chunk in category_rows.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "INSERT INTO paper_categories (paper_id, category, position) VALUES {} \
                 ON CONFLICT (paper_id, category) DO NOTHING",
                tuples(chunk.len(), 3)
            );
            // Only placeholders are interpolated: the values are bound.
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for (id, c, pos) in chunk {
                q = q.bind(*id).bind(*c).bind(*pos);
            }
            q.execute(&mut *tx).await.map_err(query_error)?;
        }
        for chunk in rows.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "INSERT INTO paper_versions (paper_id, version, updated) VALUES {} \
                 ON CONFLICT (paper_id, version) DO NOTHING",
                tuples(chunk.len(), 3)
            );
            // Only placeholders are interpolated: the values are bound.
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for (row, _) in chunk {
                q = q.bind(&row.id).bind(row.version).bind(&row.updated);
            }
            q.execute(&mut *tx).await.map_err(query_error)?;
        }
        tx.commit().await.map_err(query_error)?;
        Ok(stats)
    }

    async fn paper(&self, id: &ArxivId) -> Result<Option<Paper>, StoreError> {
        let row = self.read(|c| {
            c.prepare_cached(SELECT_PAPER_BY_ID)
                .and_then(|mut q| q.query_row([id.key()], PaperRow::read).optional())
                .map_err(read_error)
        })?;
        row.map(PaperRow::decode).transpose()
    }

    async fn papers(&self, ids: &[ArxivId]) -> Result<Vec<Paper>, StoreError> {
        let mut keys: Vec<&str> = Vec::with_capacity(ids.len());
        let mut seen: HashSet<&str> = HashSet::with_capacity(ids.len());
        for id in ids {
            if seen.insert(id.key()) {
                keys.push(id.key());
            }
        }
        let mut found = self.read_snapshot(|c| read_rows(c, &keys))?;
        keys.iter()
            .filter_map(|k| found.remove(*k))
            .map(PaperRow::decode)
            .collect()
    }

    async fn versions(&self, id: &ArxivId) -> Result<Vec<u32>, StoreError> {
        let versions: Vec<i64> = self.read(|c| {
            let mut q = c
                .prepare_cached(
                    "SELECT version FROM paper_versions WHERE paper_id = ?1 ORDER BY version",
                )
                .map_err(read_error)?;
            q.query_map([id.key()], |r| r.get(0))
                .and_then(Iterator::collect)
                .map_err(read_error)
        })?;
        versions
            .into_iter()
            .map(|v| {
                u32::try_from(v).map_err(|_| corrupt(format!("paper {id}"), "version out of range"))
            })
            .collect()
    }

    /// `source` and `key` must be non-empty; otherwise nothing is written. The whole batch is
    /// one transaction. When the batch names the same (paper, source, key) twice, the newer
    /// observation wins (the later one on a tie).
    async fn record_extras(&self, extras: &[Extra]) -> Result<(), StoreError> {
        if extras.is_empty() {
            return Ok(());
        }
        let mut rows = Vec::with_capacity(extras.len());
        for e in extras {
            if e.source.is_empty() || e.key.is_empty() {
                return Err(StoreError::Query(format!(
                    "extra for {} has an empty source or key name",
                    e.paper
                )));
            }
            rows.push((e, encode_timestamp(&e.observed_at)?));
        }
        let mut tx = self.begin_write().await?;
        for (e, observed_at) in &rows {
            sqlx::query(
                "INSERT INTO paper_extras (paper_id, source, key, value, observed_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5) \
                 ON CONFLICT (paper_id, source, key) \
                 DO UPDATE SET value = excluded.value, observed_at = excluded.observed_at \
                 WHERE excluded.observed_at >= observed_at \
                 AND (value IS NOT excluded.value OR observed_at IS NOT excluded.observed_at)",
            )
            .bind(e.paper.key())
            .bind(&e.source)
            .bind(&e.key)
            .bind(&e.value)
            .bind(observed_at)
            .execute(&mut *tx)
            .await
            .map_err(query_error)?;
        }
        tx.commit().await.map_err(query_error)
    }

    async fn extras_of(&self, papers: &[ArxivId]) -> Result<Vec<Extra>, StoreError> {
        let keys: BTreeSet<&str> = papers.iter().map(ArxivId::key).collect();
        let keys: Vec<&str> = keys.into_iter().collect();
        type Row = (String, String, String, String, String);
        let rows: Vec<Row> = self.read_snapshot(|c| {
            let mut rows = Vec::new();
            for chunk in keys.chunks(IDS_PER_STATEMENT) {
                let sql = format!(
                    "SELECT paper_id, source, key, value, observed_at FROM paper_extras \
                     WHERE paper_id IN ({}) ORDER BY paper_id, source, key",
                    placeholders(chunk.len())
                );
                let mut q = c.prepare_cached(&sql).map_err(read_error)?;
                let found = q
                    .query_map(params_from_iter(chunk), |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                    })
                    .map_err(read_error)?;
                for row in found {
                    rows.push(row.map_err(read_error)?);
                }
            }
            Ok(rows)
        })?;
        let mut out = Vec::with_capacity(rows.len());
        for (paper, source, key, value, observed_at) in rows {
            let observed_at = decode_timestamp(&observed_at)
                .map_err(|e| corrupt(format!("extra {source}.{key} of {paper}"), &e.to_string()))?;
            out.push(Extra {
                paper: decode_id(&paper)?,
                source,
                key,
                value,
                observed_at,
            });
        }
        Ok(out)
    }

    /// Full-text search over title, abstract and author names; the ids of the best matches,
    /// best first (FTS5 bm25 with title matches weighted 3x and author matches 2x abstract
    /// matches; ties by id), and the number of matches, counted in the index alone. When more
    /// than [`SEARCH_RANK_WINDOW`] papers match, the best are chosen among the most recently
    /// stored that many.
    ///
    /// The query is written as an FTS5 expression by `fts_expression`: every word and phrase
    /// a quoted string, every operator's operands in parentheses, so no user text can be FTS5
    /// syntax of its own (column filters, `NEAR`, `^`).
    async fn search(&self, query: &SearchQuery, limit: usize) -> Result<SearchHits, StoreError> {
        let expr = fts_expression(query);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let window = i64::try_from(SEARCH_RANK_WINDOW).unwrap_or(i64::MAX);
        let (total, keys) = self.read_snapshot(|c| {
            let total: i64 = c
                .prepare_cached("SELECT count(*) FROM papers_fts WHERE papers_fts MATCH ?1")
                .and_then(|mut q| q.query_row([&expr], |r| r.get(0)))
                .map_err(read_error)?;
            if limit == 0 || total == 0 {
                return Ok((total, Vec::new()));
            }
            // Inside the FTS index: the newest `window` matches (rowid order, which FTS5
            // walks without sorting), the best `limit` of those by bm25, and only those
            // joined to `papers`. Ranking every match instead costs bm25 and a sort per
            // match: 137 ms for a word in every abstract of a year of papers, against 7 ms
            // for this.
            let mut q = c
                .prepare_cached(
                    "SELECT papers.id FROM ( \
                       SELECT rowid, score FROM ( \
                         SELECT rowid, bm25(papers_fts, 3.0, 1.0, 2.0) AS score FROM papers_fts \
                         WHERE papers_fts MATCH ?1 ORDER BY rowid DESC LIMIT ?2 \
                       ) ORDER BY score, rowid LIMIT ?3 \
                     ) AS hits JOIN papers ON papers.rowid = hits.rowid \
                     ORDER BY hits.score, hits.rowid",
                )
                .map_err(read_error)?;
            let keys: Vec<String> = q
                .query_map(rusqlite::params![expr, window, limit], |r| r.get(0))
                .and_then(Iterator::collect)
                .map_err(read_error)?;
            Ok((total, keys))
        })?;
        let ids = keys
            .iter()
            .map(|k| decode_id(k))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(SearchHits {
            total: usize::try_from(total).unwrap_or(0).max(ids.len()),
            ids,
        })
    }
}

/// Every column of `papers`, in [`PaperRow`]'s order (a macro, so `concat!` can extend it).
macro_rules! select_papers {
    () => {
        "SELECT id, version, title, abstract, authors, primary_category, categories, published, \
         updated, comment, journal_ref, doi, links FROM papers"
    };
}
const SELECT_PAPERS: &str = select_papers!();
const SELECT_PAPER_BY_ID: &str = concat!(select_papers!(), " WHERE id = ?1");

/// Papers per multi-row upsert (13 values each; SQLite allows 32,766 variables).
const PAPERS_PER_STATEMENT: usize = 500;
/// Ids per `IN (…)` list.
const IDS_PER_STATEMENT: usize = 900;
/// Rows per multi-row insert of three values.
const ROWS_PER_STATEMENT: usize = 900;

/// The stored rows of `ids` (distinct), by id, in a few `IN (…)` queries on a read
/// connection.
fn read_rows(
    conn: &rusqlite::Connection,
    ids: &[&str],
) -> Result<HashMap<String, PaperRow>, StoreError> {
    let mut out = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(IDS_PER_STATEMENT) {
        let sql = format!(
            "{SELECT_PAPERS} WHERE id IN ({})",
            placeholders(chunk.len())
        );
        let mut q = conn.prepare_cached(&sql).map_err(read_error)?;
        let rows = q
            .query_map(params_from_iter(chunk), PaperRow::read)
            .map_err(read_error)?;
        for row in rows {
            let row = row.map_err(read_error)?;
            out.insert(row.id.clone(), row);
        }
    }
    Ok(out)
}

/// The stored rows of `ids`, by id, in a few `IN (…)` queries, in the write transaction
/// `conn` (what an upsert compares its papers with).
async fn stored_rows(
    conn: &mut SqliteConnection,
    ids: &[&str],
) -> Result<HashMap<String, PaperRow>, StoreError> {
    let mut out = HashMap::with_capacity(ids.len());
    let unique: Vec<&str> = ids
        .iter()
        .copied()
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    for chunk in unique.chunks(IDS_PER_STATEMENT) {
        let sql = format!(
            "{SELECT_PAPERS} WHERE id IN ({})",
            placeholders(chunk.len())
        );
        let mut q = sqlx::query_as::<_, PaperRow>(AssertSqlSafe(sql));
        for id in chunk {
            q = q.bind(*id);
        }
        for row in q.fetch_all(&mut *conn).await.map_err(query_error)? {
            out.insert(row.id.clone(), row);
        }
    }
    Ok(out)
}

/// Writes papers' rows in one multi-row upsert: new rows, or new metadata for existing ones
/// (the caller has decided that the incoming data should win). `rowid` is kept on update,
/// which the FTS index relies on.
async fn write_papers(
    tx: &mut Transaction<'static, Sqlite>,
    rows: &[&PaperRow],
) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "INSERT INTO papers (id, version, title, abstract, authors, primary_category, categories, \
         published, updated, comment, journal_ref, doi, links) VALUES {} \
         ON CONFLICT (id) DO UPDATE SET version = excluded.version, title = excluded.title, \
         abstract = excluded.abstract, authors = excluded.authors, \
         primary_category = excluded.primary_category, categories = excluded.categories, \
         published = excluded.published, updated = excluded.updated, \
         comment = excluded.comment, journal_ref = excluded.journal_ref, doi = excluded.doi, \
         links = excluded.links",
        tuples(rows.len(), 13)
    );
    // Only placeholders are interpolated: the values are bound.
    let mut q = sqlx::query(AssertSqlSafe(sql));
    for row in rows {
        q = q
            .bind(&row.id)
            .bind(row.version)
            .bind(&row.title)
            .bind(&row.abstract_text)
            .bind(&row.authors)
            .bind(&row.primary_category)
            .bind(&row.categories)
            .bind(&row.published)
            .bind(&row.updated)
            .bind(&row.comment)
            .bind(&row.journal_ref)
            .bind(&row.doi)
            .bind(&row.links);
    }
    q.execute(&mut **tx).await.map_err(query_error)?;
    Ok(())
}

/// A `papers` row exactly as stored: comparing two rows compares the stored bytes.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub(super) struct PaperRow {
    pub(super) id: String,
    version: i64,
    title: String,
    #[sqlx(rename = "abstract")]
    abstract_text: String,
    authors: String,
    primary_category: String,
    categories: String,
    published: String,
    updated: String,
    comment: Option<String>,
    journal_ref: Option<String>,
    doi: Option<String>,
    links: String,
}

/// An author as stored in `papers.authors`: always both keys, so SQL (`json_extract`) and
/// older readers see one shape, independent of [`Author`]'s serde attributes.
#[derive(Serialize, Deserialize)]
struct StoredAuthor {
    name: String,
    #[serde(default)]
    affiliations: Vec<String>,
}

/// A link as stored in `papers.links`: every key present, absent values as `null`.
#[derive(Serialize, Deserialize)]
struct StoredLink {
    href: String,
    #[serde(default)]
    rel: Option<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    mime: Option<String>,
}

impl PaperRow {
    /// The row of a read connection's result with [`SELECT_PAPERS`]'s columns, by position.
    pub(super) fn read(r: &rusqlite::Row<'_>) -> rusqlite::Result<PaperRow> {
        Ok(PaperRow {
            id: r.get(0)?,
            version: r.get(1)?,
            title: r.get(2)?,
            abstract_text: r.get(3)?,
            authors: r.get(4)?,
            primary_category: r.get(5)?,
            categories: r.get(6)?,
            published: r.get(7)?,
            updated: r.get(8)?,
            comment: r.get(9)?,
            journal_ref: r.get(10)?,
            doi: r.get(11)?,
            links: r.get(12)?,
        })
    }

    /// The row for `paper`. The id is stored version-less; `paper.version` is authoritative.
    fn encode(paper: &Paper) -> Result<PaperRow, StoreError> {
        let id = paper.id.key().to_string();
        let json_error =
            |e: serde_json::Error| StoreError::Query(format!("cannot encode paper {id}: {e}"));
        let authors: Vec<StoredAuthor> = paper
            .authors
            .iter()
            .map(|a| StoredAuthor {
                name: a.name.clone(),
                affiliations: a.affiliations.clone(),
            })
            .collect();
        let links: Vec<StoredLink> = paper
            .links
            .iter()
            .map(|l| StoredLink {
                href: l.href.clone(),
                rel: l.rel.clone(),
                title: l.title.clone(),
                mime: l.mime.clone(),
            })
            .collect();
        Ok(PaperRow {
            version: i64::from(paper.version),
            title: paper.title.clone(),
            abstract_text: paper.abstract_text.clone(),
            authors: serde_json::to_string(&authors).map_err(json_error)?,
            primary_category: paper.primary_category.clone(),
            categories: serde_json::to_string(&paper.categories).map_err(json_error)?,
            published: encode_timestamp(&paper.published)?,
            updated: encode_timestamp(&paper.updated)?,
            comment: paper.comment.clone(),
            journal_ref: paper.journal_ref.clone(),
            doi: paper.doi.clone(),
            links: serde_json::to_string(&links).map_err(json_error)?,
            id,
        })
    }

    /// The paper stored in this row; any undecodable column is [`StoreError::Corrupt`].
    pub(super) fn decode(self) -> Result<Paper, StoreError> {
        let what = || format!("paper {}", self.id);
        let id = decode_id(&self.id)?;
        let version = u32::try_from(self.version)
            .map_err(|_| corrupt(what(), &format!("version {} out of range", self.version)))?;
        let authors: Vec<StoredAuthor> = serde_json::from_str(&self.authors)
            .map_err(|e| corrupt(what(), &format!("authors: {e}")))?;
        let categories: Vec<String> = serde_json::from_str(&self.categories)
            .map_err(|e| corrupt(what(), &format!("categories: {e}")))?;
        let links: Vec<StoredLink> = serde_json::from_str(&self.links)
            .map_err(|e| corrupt(what(), &format!("links: {e}")))?;
        let published = decode_timestamp(&self.published)
            .map_err(|e| corrupt(what(), &format!("published: {e}")))?;
        let updated = decode_timestamp(&self.updated)
            .map_err(|e| corrupt(what(), &format!("updated: {e}")))?;
        Ok(Paper {
            id,
            version,
            title: self.title,
            abstract_text: self.abstract_text,
            authors: authors
                .into_iter()
                .map(|a| Author {
                    name: a.name,
                    affiliations: a.affiliations,
                })
                .collect(),
            primary_category: self.primary_category,
            categories,
            published,
            updated,
            comment: self.comment,
            journal_ref: self.journal_ref,
            doi: self.doi,
            links: links
                .into_iter()
                .map(|l| Link {
                    href: l.href,
                    rel: l.rel,
                    title: l.title,
                    mime: l.mime,
                })
                .collect(),
        })
    }
}

/// The FTS5 expression of a parsed query: each word or phrase a string with inner quotes
/// doubled (`"a""b"`), `*` after it for a prefix, and every operator's operands in
/// parentheses (`("a" OR "b")`), so the expression means exactly the tree and is always
/// valid FTS5.
fn fts_expression(q: &SearchQuery) -> String {
    match q {
        SearchQuery::Text { text, prefix } => {
            let quoted = format!("\"{}\"", text.replace('"', "\"\""));
            if *prefix { quoted + "*" } else { quoted }
        }
        SearchQuery::And(parts) => join(parts, " AND "),
        SearchQuery::Or(parts) => join(parts, " OR "),
        SearchQuery::Not(a, b) => format!("({} NOT {})", fts_expression(a), fts_expression(b)),
    }
}

fn join(parts: &[SearchQuery], op: &str) -> String {
    let inner: Vec<String> = parts.iter().map(fts_expression).collect();
    format!("({})", inner.join(op))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, TimeZone, Utc};

    #[test]
    fn fts_expressions_quote_every_term_and_group_every_operator() {
        let e = |s: &str| fts_expression(&SearchQuery::parse(s).unwrap());
        assert_eq!(e("graph neural"), "(\"graph\" AND \"neural\")");
        assert_eq!(e("vis* OR \"a b\"*"), "(\"vis\"* OR \"a b\"*)");
        assert_eq!(e("a NOT b"), "(\"a\" NOT \"b\")");
        assert_eq!(
            e("title:foo NEAR x"),
            "(\"title:foo\" AND \"NEAR\" AND \"x\")"
        );
        assert_eq!(e("a\"\"b"), "(\"a\" AND \"b\")");
    }

    #[tokio::test]
    async fn corrupt_paper_rows_are_reported_not_panicked() {
        let store = SqliteStore::in_memory().await.unwrap();
        sqlx::query(
            "INSERT INTO papers (id, version, title, abstract, authors, primary_category, \
             categories, published, updated, links) VALUES \
             ('2107.00641', 1, 't', 'a', '{\"not\":\"a list\"}', 'cs.LG', '[]', \
              '2021-07-01T00:00:00.000000000Z', 'not a time', '[]')",
        )
        .execute(store.pool())
        .await
        .unwrap();
        let err = store
            .paper(&ArxivId::parse("2107.00641").unwrap())
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
        assert!(err.to_string().contains("2107.00641"), "{err}");
    }

    fn extra(key: &str, value: &str, at: DateTime<Utc>) -> Extra {
        Extra {
            paper: ArxivId::parse("2602.23229").unwrap(),
            source: "hf".into(),
            key: key.into(),
            value: value.into(),
            observed_at: at,
        }
    }

    fn at(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 6, h, 0, 0).unwrap()
    }

    #[tokio::test]
    async fn extras_upsert_keeps_the_newest_observation() {
        let store = SqliteStore::in_memory().await.unwrap();
        let id = ArxivId::parse("2602.23229v2").unwrap();
        assert!(store.extras(&id).await.unwrap().is_empty());

        let first = [extra("ai_summary", "old", at(1)), extra("tldr", "t", at(1))];
        store.record_extras(&first).await.unwrap();
        store.record_extras(&first).await.unwrap(); // idempotent
        // A newer observation replaces value and time; an older one is ignored.
        store
            .record_extras(&[extra("ai_summary", "new", at(3))])
            .await
            .unwrap();
        store
            .record_extras(&[extra("ai_summary", "stale", at(2))])
            .await
            .unwrap();
        let got = store.extras(&id).await.unwrap();
        assert_eq!(
            got,
            vec![extra("ai_summary", "new", at(3)), extra("tldr", "t", at(1))]
        );
        // Returned ids carry no version even when asked with one.
        assert_eq!(got[0].paper.version(), None);
    }

    #[tokio::test]
    async fn extras_same_value_newer_time_refreshes_the_time_only() {
        let store = SqliteStore::in_memory().await.unwrap();
        let id = ArxivId::parse("2602.23229").unwrap();
        store
            .record_extras(&[extra("k", "v", at(1))])
            .await
            .unwrap();
        store
            .record_extras(&[extra("k", "v", at(5))])
            .await
            .unwrap();
        assert_eq!(
            store.extras(&id).await.unwrap(),
            vec![extra("k", "v", at(5))]
        );
    }

    #[tokio::test]
    async fn invalid_extras_are_refused_without_writing() {
        let store = SqliteStore::in_memory().await.unwrap();
        let id = ArxivId::parse("2602.23229").unwrap();
        let mut bad = extra("", "v", at(1));
        let err = store
            .record_extras(&[extra("ok", "v", at(1)), bad.clone()])
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Query(_)), "{err}");
        bad.key = "k".into();
        bad.source = String::new();
        assert!(store.record_extras(&[bad]).await.is_err());
        let far = extra("k", "v", at(1) + chrono::Duration::days(365 * 9000));
        assert!(store.record_extras(&[far]).await.is_err());
        assert!(store.extras(&id).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn corrupt_extra_timestamps_are_reported_not_panicked() {
        let store = SqliteStore::in_memory().await.unwrap();
        sqlx::query(
            "INSERT INTO paper_extras (paper_id, source, key, value, observed_at) \
             VALUES ('2602.23229', 'hf', 'ai_summary', 'x', 'yesterday')",
        )
        .execute(store.pool())
        .await
        .unwrap();
        let err = store
            .extras(&ArxivId::parse("2602.23229").unwrap())
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
        assert!(err.to_string().contains("hf.ai_summary"), "{err}");
    }

    fn paper(key: &str, title: &str) -> Paper {
        let t = Utc.with_ymd_and_hms(2021, 7, 1, 12, 0, 0).unwrap();
        Paper {
            id: ArxivId::parse(key).unwrap(),
            version: 2,
            title: title.into(),
            abstract_text: "An abstract \"quoted\", with a\nnewline and \u{1F600}.".into(),
            authors: vec![Author {
                name: "Émile \"E\" Borel".into(),
                affiliations: vec!["Paris".into()],
            }],
            primary_category: "cs.LG".into(),
            categories: vec!["cs.LG".into(), "stat.ML".into()],
            published: t,
            updated: t,
            comment: Some("10 pages".into()),
            journal_ref: None,
            doi: None,
            links: vec![Link {
                href: "https://arxiv.org/abs/2107.00641v2".into(),
                rel: Some("alternate".into()),
                title: None,
                mime: Some("text/html".into()),
            }],
        }
    }

    #[tokio::test]
    async fn papers_come_back_in_the_order_asked_once_each_without_the_unknown() {
        let store = SqliteStore::in_memory().await.unwrap();
        let stored: Vec<Paper> = (1..=3)
            .map(|i| paper(&format!("2107.0000{i}"), &format!("Paper {i}")))
            .collect();
        store.upsert_papers(&stored).await.unwrap();
        let id = |k: &str| ArxivId::parse(k).unwrap();
        let asked = [
            id("2107.00003"),
            id("2107.09999"),
            id("2107.00001v1"),
            id("2107.00003"),
        ];
        let got = store.papers(&asked).await.unwrap();
        assert_eq!(got, vec![stored[2].clone(), stored[0].clone()]);
        for p in &stored {
            assert_eq!(store.paper(&p.id).await.unwrap().as_ref(), Some(p));
        }
        assert!(store.papers(&[]).await.unwrap().is_empty());
        // More ids than one statement takes.
        let many: Vec<ArxivId> = (0..IDS_PER_STATEMENT * 2 + 1)
            .map(|i| id(&format!("2108.{:05}", i + 1)))
            .chain([id("2107.00002")])
            .collect();
        assert_eq!(store.papers(&many).await.unwrap(), vec![stored[1].clone()]);
    }

    #[tokio::test]
    async fn extras_of_many_papers_are_grouped_by_paper_and_keep_their_text() {
        let store = SqliteStore::in_memory().await.unwrap();
        let hostile = "say \"hi\"\n\t<b>\\ \u{0}\u{1F600} ]}";
        let mut other = extra("tldr", hostile, at(2));
        other.paper = ArxivId::parse("2107.00641").unwrap();
        store
            .record_extras(&[
                extra("tldr", "b", at(1)),
                other.clone(),
                extra("ai_summary", "a", at(1)),
            ])
            .await
            .unwrap();
        let ids = [
            ArxivId::parse("2602.23229v3").unwrap(),
            ArxivId::parse("2107.00641").unwrap(),
            ArxivId::parse("2602.23229").unwrap(),
        ];
        let got = store.extras_of(&ids).await.unwrap();
        assert_eq!(
            got,
            vec![
                other,
                extra("ai_summary", "a", at(1)),
                extra("tldr", "b", at(1)),
            ]
        );
        assert_eq!(got[0].value, hostile);
        assert!(store.extras_of(&[]).await.unwrap().is_empty());
    }
}
