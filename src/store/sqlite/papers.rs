//! [`PaperStore`] on SQLite: the `papers`, `paper_versions`, `paper_categories`, `paper_extras`
//! tables and the `papers_fts` index.

use std::collections::{BTreeSet, HashMap, HashSet};

use async_trait::async_trait;
use rusqlite::{OptionalExtension, ToSql, params_from_iter};
use serde::{Deserialize, Serialize};

use super::{
    SqliteStore, corrupt, decode_id, decode_timestamp, encode_timestamp, placeholders, query_error,
    query_in, read_error, tuples,
};
use crate::arxiv::ArxivId;
use crate::arxiv::paper::{Author, Link, Paper};
use crate::store::{
    Extra, PaperStore, PreparedPapers, SEARCH_RANK_WINDOW, SearchHits, SearchQuery, StoreError,
    UpsertStats,
};

#[async_trait]
impl PaperStore for SqliteStore {
    /// Each input paper counts once in the stats, in input order: a paper whose stored version
    /// is newer counts as unchanged (its metadata stays; its version is still recorded), and a
    /// paper listed twice is handled twice.
    async fn upsert_papers(&self, papers: &[Paper]) -> Result<UpsertStats, StoreError> {
        if papers.is_empty() {
            return Ok(UpsertStats::default());
        }
        let batch = self.prepare_papers(papers.to_vec())?;
        self.upsert_prepared(batch).await
    }

    /// Encodes (and validates) every paper into its `papers` row, so that the writer thread
    /// only runs SQL.
    fn prepare_papers(&self, papers: Vec<Paper>) -> Result<PreparedPapers, StoreError> {
        let rows = encode_rows(&papers)?;
        Ok(PreparedPapers::encoded(papers, Box::new(rows)))
    }

    /// One batch end to end on the rusqlite writer connection, on a blocking thread (see
    /// `reader.rs`), with no hand-off per statement.
    async fn upsert_prepared(&self, batch: PreparedPapers) -> Result<UpsertStats, StoreError> {
        let (papers, encoded) = batch.into_parts();
        if papers.is_empty() {
            return Ok(UpsertStats::default());
        }
        // Rows are used only when they are this backend's and of these papers (the count and
        // every id match); anything else is encoded again.
        let rows = match encoded.map(|e| e.downcast::<Vec<PaperRow>>()) {
            Some(Ok(rows))
                if rows.len() == papers.len()
                    && rows.iter().zip(&papers).all(|(r, p)| r.id == p.id.key()) =>
            {
                *rows
            }
            _ => encode_rows(&papers)?,
        };
        self.write_batch(move |c| upsert_in(c, &rows, &papers))
            .await
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

/// The rows of `papers`, in order; the first paper that cannot be encoded fails them all.
fn encode_rows(papers: &[Paper]) -> Result<Vec<PaperRow>, StoreError> {
    papers.iter().map(PaperRow::encode).collect()
}

/// [`PaperStore::upsert_papers`] of `papers`, encoded as `rows` (same order), inside the
/// write transaction on `conn`.
fn upsert_in(
    conn: &rusqlite::Connection,
    rows: &[PaperRow],
    papers: &[Paper],
) -> Result<UpsertStats, StoreError> {
    let mut stats = UpsertStats::default();
    let rows: Vec<(&PaperRow, &Paper)> = rows.iter().zip(papers).collect();
    // A batch is a few statements per few hundred papers, not several per paper. Decisions are made in order
    // against what is stored (and what this batch wrote before), as one-by-one upserts
    // would.
    let ids: Vec<&str> = rows
        .iter()
        .map(|(r, _)| r.id.as_str())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    // What the database holds; this batch's own writes are looked up in `writes` first,
    // so no row is copied.
    let stored = read_rows(conn, &ids)?;
    let mut writes: Vec<(&PaperRow, &Paper)> = Vec::new();
    let mut written: HashMap<&str, usize> = HashMap::new();
    let mut categories: HashMap<&str, &[String]> = HashMap::new();
    let mut clear_categories: HashSet<&str> = HashSet::new();
    for &(row, paper) in &rows {
        let earlier = written.get(row.id.as_str()).copied();
        let before = match earlier {
            Some(i) => Some(writes[i].0),
            None => stored.get(row.id.as_str()),
        };
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
        match earlier {
            Some(i) => writes[i] = (row, paper),
            None => {
                written.insert(row.id.as_str(), writes.len());
                writes.push((row, paper));
            }
        }
    }
    let write_rows: Vec<&PaperRow> = writes.iter().map(|(row, _)| *row).collect();
    for chunk in write_rows.chunks(PAPERS_PER_STATEMENT) {
        write_papers(conn, chunk)?;
    }
    fill_search_index(conn, &writes, &stored)?;
    let clear: Vec<&str> = clear_categories.into_iter().collect();
    for chunk in clear.chunks(IDS_PER_STATEMENT) {
        let sql = format!(
            "DELETE FROM paper_categories WHERE paper_id IN ({})",
            placeholders(chunk.len())
        );
        // Only placeholders are interpolated: the values are bound.
        execute(conn, &sql, params_from_iter(chunk))?;
    }
    let mut category_rows: Vec<(&str, &str, i64)> = Vec::new();
    for (row, _) in &writes {
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
        let mut values: Vec<&dyn ToSql> = Vec::with_capacity(chunk.len() * 3);
        for (id, c, pos) in chunk {
            values.extend([id as &dyn ToSql, c, pos]);
        }
        // Only placeholders are interpolated: the values are bound.
        execute(conn, &sql, values.as_slice())?;
    }
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO paper_versions (paper_id, version, updated) VALUES {} \
                 ON CONFLICT (paper_id, version) DO NOTHING",
            tuples(chunk.len(), 3)
        );
        let mut values: Vec<&dyn ToSql> = Vec::with_capacity(chunk.len() * 3);
        for (row, _) in chunk {
            values.extend([&row.id as &dyn ToSql, &row.version, &row.updated]);
        }
        // Only placeholders are interpolated: the values are bound.
        execute(conn, &sql, values.as_slice())?;
    }
    Ok(stats)
}

/// Runs `sql` with `params` on `conn`.
fn execute(
    conn: &rusqlite::Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<usize, StoreError> {
    conn.prepare_cached(sql)
        .and_then(|mut q| q.execute(params))
        .map_err(read_error)
}

/// Every column of `papers`, in [`PaperRow`]'s order (a macro, so `concat!` can extend it).
macro_rules! select_papers {
    () => {
        "SELECT id, version, title, abstract, authors, primary_category, categories, published, \
         updated, comment, journal_ref, doi, links FROM papers"
    };
}
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
    let rows = query_in(
        conn,
        concat!(select_papers!(), " WHERE id IN ({})"),
        ids,
        IDS_PER_STATEMENT,
        PaperRow::read,
    )?;
    Ok(rows.into_iter().map(|row| (row.id.clone(), row)).collect())
}

/// Writes papers' rows in one multi-row upsert: new rows, or new metadata for existing ones
/// (the caller has decided that the incoming data should win). `rowid` is kept on update,
/// which the FTS index relies on.
fn write_papers(conn: &rusqlite::Connection, rows: &[&PaperRow]) -> Result<(), StoreError> {
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
    let mut values: Vec<&dyn ToSql> = Vec::with_capacity(rows.len() * 13);
    for row in rows {
        values.extend([
            &row.id as &dyn ToSql,
            &row.version,
            &row.title,
            &row.abstract_text,
            &row.authors,
            &row.primary_category,
            &row.categories,
            &row.published,
            &row.updated,
            &row.comment,
            &row.journal_ref,
            &row.doi,
            &row.links,
        ]);
    }
    // Only placeholders are interpolated: the values are bound.
    execute(conn, &sql, values.as_slice())?;
    Ok(())
}

/// Brings `papers_fts` up to date with the papers `upsert_papers` just wrote, in its
/// transaction, in a few multi-row statements (migration 0008 replaced the per-row triggers
/// of 0001, which computed the authors column with `json_each` for every row).
///
/// `writes` are the rows written, once each, with the papers they encode; `stored` holds the
/// rows the database had before this batch (by id). A new paper gets an entry; an existing one
/// whose title, abstract or author names changed has its entry replaced (deleted by rowid,
/// which `contentless_delete` allows, then inserted again); any other update leaves the index
/// alone. The entry is what the triggers wrote: rowid `papers.rowid`, title,
/// abstract, and the author names joined by spaces (NULL without authors).
///
/// Entries are inserted in rowid order: FTS5 flushes its pending terms into a new segment
/// whenever a write's rowid is lower than the previous one.
fn fill_search_index(
    conn: &rusqlite::Connection,
    writes: &[(&PaperRow, &Paper)],
    stored: &HashMap<String, PaperRow>,
) -> Result<(), StoreError> {
    let mut replaced: Vec<&str> = Vec::new();
    let mut entries: Vec<(&str, Option<String>)> = Vec::with_capacity(writes.len());
    for (row, paper) in writes {
        let authors = author_names(paper.authors.iter().map(|a| a.name.as_str()));
        if let Some(old) = stored.get(row.id.as_str()) {
            let unchanged = old.title == row.title
                && old.abstract_text == row.abstract_text
                && (old.authors == row.authors
                    || stored_author_names(&old.authors).as_ref() == Some(&authors));
            if unchanged {
                continue;
            }
            replaced.push(row.id.as_str());
        }
        entries.push((row.id.as_str(), authors));
    }
    for chunk in replaced.chunks(IDS_PER_STATEMENT) {
        let sql = format!(
            "DELETE FROM papers_fts WHERE rowid IN (SELECT rowid FROM papers WHERE id IN ({}))",
            placeholders(chunk.len())
        );
        // Only placeholders are interpolated: the values are bound.
        execute(conn, &sql, params_from_iter(chunk))?;
    }
    for chunk in entries.chunks(IDS_PER_STATEMENT) {
        // Title and abstract are read back from the rows just written rather than bound a
        // second time; the authors column is not in `papers` as text.
        let sql = format!(
            "INSERT INTO papers_fts (rowid, title, abstract, authors) \
             SELECT p.rowid, p.title, p.abstract, v.column2 FROM (VALUES {}) AS v \
             CROSS JOIN papers AS p ON p.id = v.column1 ORDER BY p.rowid",
            tuples(chunk.len(), 2)
        );
        let mut values: Vec<&dyn ToSql> = Vec::with_capacity(chunk.len() * 2);
        for (id, authors) in chunk {
            values.extend([id as &dyn ToSql, authors]);
        }
        // Only placeholders are interpolated: the values are bound.
        execute(conn, &sql, values.as_slice())?;
    }
    Ok(())
}

/// The authors column of a paper's search entry: the names joined by single spaces, `None`
/// (NULL) when there are none, as 0001's trigger computed it with `group_concat`.
fn author_names<'a>(names: impl Iterator<Item = &'a str>) -> Option<String> {
    let mut out: Option<String> = None;
    for name in names {
        match &mut out {
            None => out = Some(name.to_string()),
            Some(s) => {
                s.push(' ');
                s.push_str(name);
            }
        }
    }
    out
}

/// [`author_names`] of a stored `papers.authors` document; `None` inside when it has no
/// authors, outer `None` when it cannot be read (the entry is then rewritten).
fn stored_author_names(authors: &str) -> Option<Option<String>> {
    let authors: Vec<StoredAuthor> = serde_json::from_str(authors).ok()?;
    Some(author_names(authors.iter().map(|a| a.name.as_str())))
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

/// [`StoredAuthor`] as written: the same keys in the same order, borrowing the paper's text.
#[derive(Serialize)]
struct StoredAuthorRef<'a> {
    name: &'a str,
    affiliations: &'a [String],
}

/// [`StoredLink`] as written: the same keys in the same order, borrowing the paper's text.
#[derive(Serialize)]
struct StoredLinkRef<'a> {
    href: &'a str,
    rel: Option<&'a str>,
    title: Option<&'a str>,
    mime: Option<&'a str>,
}

impl PaperRow {
    /// The row of a read connection's result with `select_papers!`'s columns, by position.
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
        // Borrowed, not cloned: the same JSON as `StoredAuthor` and `StoredLink` write.
        let authors: Vec<StoredAuthorRef<'_>> = paper
            .authors
            .iter()
            .map(|a| StoredAuthorRef {
                name: &a.name,
                affiliations: &a.affiliations,
            })
            .collect();
        let links: Vec<StoredLinkRef<'_>> = paper
            .links
            .iter()
            .map(|l| StoredLinkRef {
                href: &l.href,
                rel: l.rel.as_deref(),
                title: l.title.as_deref(),
                mime: l.mime.as_deref(),
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

    /// A batch prepared here is written as `upsert_papers` would write it; one prepared
    /// elsewhere (nothing encoded) or with an encoding that is not this backend's rows is
    /// encoded again, never trusted.
    #[tokio::test]
    async fn prepared_batches_store_what_upsert_papers_would() {
        let store = SqliteStore::in_memory().await.unwrap();
        let one = paper("2107.00001", "One");
        let prepared = store.prepare_papers(vec![one.clone()]).unwrap();
        assert_eq!(prepared.papers(), std::slice::from_ref(&one));
        let stats = store.upsert_prepared(prepared).await.unwrap();
        assert_eq!(stats.inserted, 1);
        assert_eq!(store.paper(&one.id).await.unwrap(), Some(one.clone()));

        let two = paper("2107.00002", "Two");
        let stats = store
            .upsert_prepared(PreparedPapers::unencoded(vec![two.clone()]))
            .await
            .unwrap();
        assert_eq!(stats.inserted, 1);
        assert_eq!(store.paper(&two.id).await.unwrap(), Some(two));

        let mut renamed = one.clone();
        renamed.title = "One, renamed".into();
        let foreign = PreparedPapers::encoded(vec![renamed.clone()], Box::new("not rows"));
        let stats = store.upsert_prepared(foreign).await.unwrap();
        assert_eq!(stats.updated, 1);
        // Rows of other papers (a stale encoding) are not used either.
        let mut again = renamed.clone();
        again.title = "One, renamed again".into();
        let (_, stale) = store
            .prepare_papers(vec![one.clone()])
            .unwrap()
            .into_parts();
        let miscounted =
            PreparedPapers::encoded(vec![again.clone(), again.clone()], stale.unwrap());
        store.upsert_prepared(miscounted).await.unwrap();
        assert_eq!(store.paper(&one.id).await.unwrap(), Some(again));
        let (_, other) = store
            .prepare_papers(vec![paper("2107.00003", "Three")])
            .unwrap()
            .into_parts();
        let foreign_ids = PreparedPapers::encoded(vec![renamed.clone()], other.unwrap());
        store.upsert_prepared(foreign_ids).await.unwrap();
        assert_eq!(store.paper(&one.id).await.unwrap(), Some(renamed));
        assert_eq!(
            store
                .paper(&ArxivId::parse("2107.00003").unwrap())
                .await
                .unwrap(),
            None
        );
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

    /// The ids `q` finds, best first.
    async fn found(store: &SqliteStore, q: &str) -> Vec<String> {
        let hits = store
            .search(&SearchQuery::parse(q).unwrap(), 50)
            .await
            .unwrap();
        let mut ids: Vec<String> = hits.ids.iter().map(|id| id.key().to_string()).collect();
        ids.sort();
        ids
    }

    /// (entries in `papers_fts`, papers), after FTS5's own structural check.
    async fn index_counts(store: &SqliteStore) -> (i64, i64) {
        sqlx::query("INSERT INTO papers_fts (papers_fts) VALUES ('integrity-check')")
            .execute(store.pool())
            .await
            .expect("FTS index is damaged");
        sqlx::query_as("SELECT (SELECT count(*) FROM papers_fts), (SELECT count(*) FROM papers)")
            .fetch_one(store.pool())
            .await
            .unwrap()
    }

    /// Every byte of the FTS index (its segments and their index), to tell whether a write
    /// touched it.
    async fn index_bytes(store: &SqliteStore) -> String {
        sqlx::query_scalar(
            "SELECT (SELECT group_concat(id || ':' || hex(block), ',') FROM \
             (SELECT * FROM papers_fts_data ORDER BY id)) || '|' || \
             (SELECT coalesce(group_concat(segid || ':' || hex(term) || ':' || pgno, ','), '') FROM \
             (SELECT * FROM papers_fts_idx ORDER BY segid, term))",
        )
        .fetch_one(store.pool())
        .await
        .unwrap()
    }

    fn authored(key: &str, title: &str, abstract_text: &str, authors: &[&str]) -> Paper {
        let mut p = paper(key, title);
        p.abstract_text = abstract_text.into();
        p.authors = authors
            .iter()
            .map(|name| Author {
                name: (*name).into(),
                affiliations: vec!["Nowhere".into()],
            })
            .collect();
        p
    }

    #[tokio::test]
    async fn batch_inserted_papers_are_found_by_title_abstract_and_author_names() {
        let store = SqliteStore::in_memory().await.unwrap();
        let batch = [
            authored(
                "2107.00001",
                "Graph networks",
                "Sparse attention kernels.",
                &["Ada Lovelace", "Émile Borel"],
            ),
            authored(
                "2107.00002",
                "Protein folding",
                "Diffusion over residues.",
                &["Alan Turing"],
            ),
            authored("2107.00003", "Quiet paper", "No authors at all.", &[]),
        ];
        let stats = store.upsert_papers(&batch).await.unwrap();
        assert_eq!(stats.inserted, 3);
        assert_eq!(found(&store, "graph").await, ["2107.00001"]);
        assert_eq!(found(&store, "kernels").await, ["2107.00001"]);
        // Every author, not only the first; diacritics and stemming as the tokenizer does them.
        assert_eq!(found(&store, "lovelace").await, ["2107.00001"]);
        assert_eq!(found(&store, "emile borel").await, ["2107.00001"]);
        assert_eq!(found(&store, "\"ada lovelace\"").await, ["2107.00001"]);
        assert_eq!(found(&store, "turing").await, ["2107.00002"]);
        assert_eq!(found(&store, "folded").await, ["2107.00002"]);
        assert_eq!(found(&store, "resid*").await, ["2107.00002"]);
        assert_eq!(found(&store, "quiet").await, ["2107.00003"]);
        // Affiliations are not indexed.
        assert!(found(&store, "nowhere").await.is_empty());
        assert_eq!(index_counts(&store).await, (3, 3));
        // The entry is the one 0001's trigger wrote: the names joined by spaces, NULL without.
        let authors: Vec<Option<String>> = sqlx::query_scalar(
            "SELECT (SELECT group_concat(json_extract(a.value, '$.name'), ' ') \
             FROM json_each(papers.authors) AS a WHERE a.type = 'object') FROM papers ORDER BY id",
        )
        .fetch_all(store.pool())
        .await
        .unwrap();
        let ours: Vec<Option<String>> = batch
            .iter()
            .map(|p| author_names(p.authors.iter().map(|a| a.name.as_str())))
            .collect();
        assert_eq!(authors, ours);
    }

    #[tokio::test]
    async fn an_updated_paper_loses_its_old_words_and_is_found_by_the_new_ones() {
        let store = SqliteStore::in_memory().await.unwrap();
        let old = authored(
            "2107.00001",
            "Graph networks",
            "Sparse kernels.",
            &["Ada Lovelace"],
        );
        let other = authored("2107.00002", "Graph sampling", "Walks.", &["Alan Turing"]);
        store.upsert_papers(&[old.clone(), other]).await.unwrap();
        let mut new = authored(
            "2107.00001",
            "Protein folding",
            "Dense kernels.",
            &["Grace Hopper"],
        );
        new.version = 3;
        // In one batch with a new paper, after it (a lower rowid written after a higher one).
        let third = authored("2107.00003", "Graph theory", "Trees.", &["Emmy Noether"]);
        let stats = store.upsert_papers(&[third, new]).await.unwrap();
        assert_eq!((stats.inserted, stats.updated), (1, 1));
        assert_eq!(found(&store, "graph").await, ["2107.00002", "2107.00003"]);
        assert!(found(&store, "sparse").await.is_empty());
        assert!(found(&store, "lovelace").await.is_empty());
        assert_eq!(found(&store, "protein").await, ["2107.00001"]);
        assert_eq!(found(&store, "dense").await, ["2107.00001"]);
        assert_eq!(found(&store, "hopper").await, ["2107.00001"]);
        assert_eq!(found(&store, "kernels").await, ["2107.00001"]);
        assert_eq!(index_counts(&store).await, (3, 3));
        // Only an author's name changes: the old name goes.
        let mut renamed = authored(
            "2107.00001",
            "Protein folding",
            "Dense kernels.",
            &["Grace Murray"],
        );
        renamed.version = 3;
        assert_eq!(store.upsert_papers(&[renamed]).await.unwrap().updated, 1);
        assert!(found(&store, "hopper").await.is_empty());
        assert_eq!(found(&store, "murray").await, ["2107.00001"]);
        assert_eq!(index_counts(&store).await, (3, 3));
        // Changed twice within one batch: the last text is indexed, once.
        let mut a = authored("2107.00002", "First rewrite", "Walks.", &["Alan Turing"]);
        let mut b = authored("2107.00002", "Second rewrite", "Walks.", &["Alan Turing"]);
        (a.version, b.version) = (4, 5);
        store.upsert_papers(&[a, b]).await.unwrap();
        assert!(found(&store, "first").await.is_empty());
        assert_eq!(found(&store, "second").await, ["2107.00002"]);
        assert_eq!(index_counts(&store).await, (3, 3));
    }

    #[tokio::test]
    async fn importing_the_same_papers_twice_leaves_one_entry_per_paper() {
        let store = SqliteStore::in_memory().await.unwrap();
        let batch: Vec<Paper> = (1..=20)
            .map(|i| {
                authored(
                    &format!("2107.{i:05}"),
                    &format!("Paper number {i}"),
                    "Words.",
                    &["Ada Lovelace"],
                )
            })
            .collect();
        // A paper listed twice in its first batch is indexed once.
        let mut first = batch.clone();
        first.push(batch[3].clone());
        store.upsert_papers(&first).await.unwrap();
        assert_eq!(index_counts(&store).await, (20, 20));
        let stats = store.upsert_papers(&batch).await.unwrap();
        assert_eq!(stats.unchanged, 20);
        assert_eq!(index_counts(&store).await, (20, 20));
        assert_eq!(found(&store, "lovelace").await.len(), 20);
    }

    #[tokio::test]
    async fn a_deleted_paper_is_no_longer_found() {
        let store = SqliteStore::in_memory().await.unwrap();
        let a = authored(
            "2107.00001",
            "Graph networks",
            "Kernels.",
            &["Ada Lovelace"],
        );
        let b = authored("2107.00002", "Graph sampling", "Walks.", &["Alan Turing"]);
        store.upsert_papers(&[a, b]).await.unwrap();
        sqlx::query("DELETE FROM papers WHERE id = '2107.00001'")
            .execute(store.pool())
            .await
            .unwrap();
        assert_eq!(found(&store, "graph").await, ["2107.00002"]);
        assert!(found(&store, "lovelace").await.is_empty());
        assert_eq!(index_counts(&store).await, (1, 1));
    }

    #[tokio::test]
    async fn a_rewrite_that_leaves_the_indexed_text_alone_does_not_touch_the_index() {
        let store = SqliteStore::in_memory().await.unwrap();
        let a = authored(
            "2107.00001",
            "Graph networks",
            "Kernels.",
            &["Ada Lovelace"],
        );
        store.upsert_papers(std::slice::from_ref(&a)).await.unwrap();
        let before = index_bytes(&store).await;
        assert_eq!(
            store
                .upsert_papers(std::slice::from_ref(&a))
                .await
                .unwrap()
                .unchanged,
            1
        );
        assert_eq!(index_bytes(&store).await, before);
        // A new version with the same title, abstract and names (other comment, affiliations).
        let mut b = a.clone();
        b.version = 5;
        b.comment = Some("camera-ready".into());
        b.authors[0].affiliations = vec!["Elsewhere".into()];
        assert_eq!(store.upsert_papers(&[b]).await.unwrap().updated, 1);
        assert_eq!(index_bytes(&store).await, before);
        assert_eq!(found(&store, "graph").await, ["2107.00001"]);
    }

    #[test]
    fn borrowed_authors_and_links_are_written_as_the_stored_shapes() {
        let mut p = paper("2107.00641", "T");
        p.links.push(Link {
            href: "https://arxiv.org/pdf/2107.00641v2".into(),
            rel: None,
            title: Some("pdf".into()),
            mime: None,
        });
        let row = PaperRow::encode(&p).unwrap();
        let authors: Vec<StoredAuthor> = p
            .authors
            .iter()
            .map(|a| StoredAuthor {
                name: a.name.clone(),
                affiliations: a.affiliations.clone(),
            })
            .collect();
        let links: Vec<StoredLink> = p
            .links
            .iter()
            .map(|l| StoredLink {
                href: l.href.clone(),
                rel: l.rel.clone(),
                title: l.title.clone(),
                mime: l.mime.clone(),
            })
            .collect();
        assert_eq!(row.authors, serde_json::to_string(&authors).unwrap());
        assert_eq!(row.links, serde_json::to_string(&links).unwrap());
    }
}
