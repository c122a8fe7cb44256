//! Behaviour of the SQLite store through its public interface: the `Store` trait semantics
//! (idempotency, version ordering, atomicity), search, and opening real files (WAL sharing,
//! garbage, foreign and newer-version databases).

use std::path::Path;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use hotpapers::arxiv::ArxivId;
use hotpapers::arxiv::paper::{AnnounceType, Author, Link, Paper};
use hotpapers::store::{
    MailingRecord, MailingSource, MailingStore, PaperStore, PostLog, SearchQuery, Signal,
    SignalStore, SqliteStore, StoreError, UpsertStats,
};
use sqlx::{AssertSqlSafe, Connection};

fn t(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
}

fn id(s: &str) -> ArxivId {
    ArxivId::parse(s).unwrap()
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// A plain paper: one author, no optional fields.
fn paper(key: &str, version: u32, title: &str) -> Paper {
    Paper {
        id: id(key),
        version,
        title: title.to_string(),
        abstract_text: format!("We study {title}."),
        authors: vec![Author {
            name: "Ada Lovelace".into(),
            affiliations: vec![],
        }],
        primary_category: "cs.LG".into(),
        categories: vec!["cs.LG".into(), "stat.ML".into()],
        published: t(2021, 7, 1, 17, 59, 58),
        updated: t(2021, 7, 1, 17, 59, 58) + chrono::Duration::days(i64::from(version) - 1),
        comment: None,
        journal_ref: None,
        doi: None,
        links: vec![Link {
            href: format!("https://arxiv.org/abs/{key}v{version}"),
            rel: Some("alternate".into()),
            title: None,
            mime: Some("text/html".into()),
        }],
    }
}

/// A paper using every field: Unicode everywhere, many authors with affiliations, all
/// optional metadata, several links.
fn rich_paper(key: &str) -> Paper {
    let authors = (0..250)
        .map(|i| Author {
            name: format!("Zoë Ångström-Łukasiewicz {i}"),
            affiliations: if i % 3 == 0 {
                vec![]
            } else {
                vec!["Université Paris-Saclay".into(), "東京大学".into()]
            },
        })
        .collect();
    Paper {
        id: id(key),
        version: 5,
        title: "Schrödinger bridges for Ω-limits: a “quoted” title with 'apostrophes' 🚀".into(),
        abstract_text: "We prove $\\int_0^1 f(x)\\,dx \\le 1$ — ünïcödé, 中文, العربية; \"quotes\" \\ backslash.".into(),
        authors,
        primary_category: "math-ph".into(),
        categories: vec!["math-ph".into(), "math.MP".into(), "quant-ph".into()],
        published: t(2003, 7, 7, 13, 46, 39),
        updated: t(2024, 1, 9, 8, 0, 0) + chrono::Duration::nanoseconds(123_456_789),
        comment: Some("23 pages, 5 figures; v5: typos fixed ✓".into()),
        journal_ref: Some("Phys. Rev. Lett. 91 (2003) 261801".into()),
        doi: Some("10.1103/PhysRevLett.91.261801".into()),
        links: vec![
            Link {
                href: format!("https://arxiv.org/abs/{key}v5"),
                rel: Some("alternate".into()),
                title: None,
                mime: Some("text/html".into()),
            },
            Link {
                href: format!("https://arxiv.org/pdf/{key}v5"),
                rel: Some("related".into()),
                title: Some("pdf".into()),
                mime: Some("application/pdf".into()),
            },
            Link {
                href: "https://doi.org/10.1103/PhysRevLett.91.261801".into(),
                rel: Some("related".into()),
                title: Some("doi".into()),
                mime: None,
            },
        ],
    }
}

fn mailing(d: NaiveDate, ingested_at: DateTime<Utc>) -> MailingRecord {
    MailingRecord {
        date: d,
        window_start: t(2021, 6, 30, 18, 0, 0),
        window_end: t(2021, 7, 1, 18, 0, 0),
        source: MailingSource::Api,
        ingested_at,
        paper_count: 0,
    }
}

fn signal(key: &str, source: &str, metric: &str, value: f64, at: DateTime<Utc>) -> Signal {
    Signal {
        paper: id(key),
        source: source.into(),
        metric: metric.into(),
        value,
        observed_at: at,
    }
}

/// Every row of every table (including FTS5's shadow tables and sqlx's bookkeeping), one line
/// per row with SQL-quoted values, sorted: equal dumps mean byte-for-byte equal content.
async fn dump(store: &SqliteStore) -> String {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_schema WHERE type = 'table' \
         AND sql NOT LIKE 'CREATE VIRTUAL TABLE%' ORDER BY name",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    assert!(tables.iter().any(|t| t == "papers_fts_data"), "{tables:?}");
    let mut lines = Vec::new();
    for table in tables {
        let cols: Vec<String> =
            sqlx::query_scalar("SELECT name FROM pragma_table_info(?1) ORDER BY cid")
                .bind(&table)
                .fetch_all(store.pool())
                .await
                .unwrap();
        let expr = cols
            .iter()
            .map(|c| format!("quote(\"{c}\")"))
            .collect::<Vec<_>>()
            .join(" || '|' || ");
        let rows: Vec<String> =
            sqlx::query_scalar(AssertSqlSafe(format!("SELECT {expr} FROM \"{table}\"")))
                .fetch_all(store.pool())
                .await
                .unwrap();
        lines.extend(rows.into_iter().map(|r| format!("{table}: {r}")));
    }
    lines.sort();
    lines.join("\n")
}

/// The search index holds exactly one entry per paper (same rowids) and FTS5's own
/// structural check passes.
async fn assert_fts_consistent(store: &SqliteStore) {
    sqlx::query("INSERT INTO papers_fts (papers_fts) VALUES ('integrity-check')")
        .execute(store.pool())
        .await
        .expect("FTS index is damaged");
    let (orphans, missing): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM (SELECT rowid FROM papers_fts EXCEPT SELECT rowid FROM papers)), \
                (SELECT count(*) FROM (SELECT rowid FROM papers EXCEPT SELECT rowid FROM papers_fts))",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert_eq!(
        (orphans, missing),
        (0, 0),
        "FTS index out of sync with papers"
    );
}

async fn categories_of(store: &SqliteStore, key: &str) -> Vec<(String, i64)> {
    sqlx::query_as(
        "SELECT category, position FROM paper_categories WHERE paper_id = ?1 ORDER BY position",
    )
    .bind(key)
    .fetch_all(store.pool())
    .await
    .unwrap()
}

fn assert_one_line(e: &StoreError) {
    let s = e.to_string();
    assert!(
        !s.contains('\n') && !s.contains('\r') && !s.is_empty(),
        "{s:?}"
    );
}

// ---------------------------------------------------------------- papers

#[tokio::test]
async fn paper_with_every_field_round_trips() {
    let store = SqliteStore::in_memory().await.unwrap();
    let rich = rich_paper("2107.00641");
    let bare = Paper {
        authors: vec![],
        categories: vec![],
        links: vec![],
        title: String::new(),
        abstract_text: String::new(),
        ..paper("2107.00642", 1, "")
    };
    let stats = store
        .upsert_papers(&[rich.clone(), bare.clone()])
        .await
        .unwrap();
    assert_eq!(
        stats,
        UpsertStats {
            inserted: 2,
            updated: 0,
            unchanged: 0
        }
    );
    assert_eq!(store.paper(&id("2107.00641")).await.unwrap(), Some(rich));
    assert_eq!(store.paper(&id("2107.00642")).await.unwrap(), Some(bare));
    // Lookup ignores a version in the id.
    assert!(store.paper(&id("2107.00641v2")).await.unwrap().is_some());
    assert_eq!(store.paper(&id("2107.99999")).await.unwrap(), None);
    assert_eq!(store.versions(&id("2107.00641")).await.unwrap(), vec![5]);
    assert_eq!(
        store.versions(&id("2107.99999")).await.unwrap(),
        Vec::<u32>::new()
    );
    assert_fts_consistent(&store).await;
}

#[tokio::test]
async fn old_style_id_round_trips() {
    let store = SqliteStore::in_memory().await.unwrap();
    let p = rich_paper("hep-ex/0307015");
    store.upsert_papers(std::slice::from_ref(&p)).await.unwrap();
    let back = store.paper(&id("hep-ex/0307015")).await.unwrap().unwrap();
    assert_eq!(back, p);
    assert_eq!(back.id.key(), "hep-ex/0307015");
    let stored_key: String = sqlx::query_scalar("SELECT id FROM papers")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(stored_key, "hep-ex/0307015");
}

#[tokio::test]
async fn ids_are_stored_without_version() {
    let store = SqliteStore::in_memory().await.unwrap();
    let mut p = paper("2107.00641", 3, "Versioned id");
    p.id = id("2107.00641v3");
    store.upsert_papers(&[p]).await.unwrap();
    let back = store.paper(&id("2107.00641")).await.unwrap().unwrap();
    assert_eq!(back.id, id("2107.00641"));
    assert_eq!(back.id.version(), None);
    assert_eq!(back.version, 3);
}

#[tokio::test]
async fn upserting_the_same_papers_twice_changes_nothing() {
    let store = SqliteStore::in_memory().await.unwrap();
    let papers = vec![
        rich_paper("2107.00641"),
        paper("2107.00642", 1, "Graph neural networks"),
        paper("2107.00643", 2, "Diffusion models"),
    ];
    let first = store.upsert_papers(&papers).await.unwrap();
    assert_eq!((first.inserted, first.updated, first.unchanged), (3, 0, 0));
    let before = dump(&store).await;
    let second = store.upsert_papers(&papers).await.unwrap();
    assert_eq!(
        (second.inserted, second.updated, second.unchanged),
        (0, 0, 3)
    );
    assert_eq!(dump(&store).await, before);
    // Also when the batch comes in another order.
    let reversed: Vec<Paper> = papers.iter().rev().cloned().collect();
    store.upsert_papers(&reversed).await.unwrap();
    assert_eq!(dump(&store).await, before);
}

#[tokio::test]
async fn newer_versions_update_and_older_ones_never_overwrite() {
    let store = SqliteStore::in_memory().await.unwrap();
    let key = "2107.00641";
    store
        .upsert_papers(&[paper(key, 1, "Old title")])
        .await
        .unwrap();

    let v2 = Paper {
        categories: vec!["cs.CL".into(), "cs.LG".into()],
        primary_category: "cs.CL".into(),
        ..paper(key, 2, "New title")
    };
    let stats = store
        .upsert_papers(std::slice::from_ref(&v2))
        .await
        .unwrap();
    assert_eq!((stats.inserted, stats.updated, stats.unchanged), (0, 1, 0));
    assert_eq!(store.paper(&id(key)).await.unwrap(), Some(v2.clone()));
    assert_eq!(store.versions(&id(key)).await.unwrap(), vec![1, 2]);
    assert_eq!(
        categories_of(&store, key).await,
        vec![("cs.CL".into(), 0), ("cs.LG".into(), 1)]
    );
    assert_eq!(search_ids(&store, "new title", 10).await, vec![id(key)]);
    assert!(search_ids(&store, "old", 10).await.is_empty());
    assert_fts_consistent(&store).await;

    // A stale v1 arriving late (e.g. from a cached API page) leaves v2's metadata alone.
    let before = dump(&store).await;
    let stats = store
        .upsert_papers(&[paper(key, 1, "Old title")])
        .await
        .unwrap();
    assert_eq!((stats.inserted, stats.updated, stats.unchanged), (0, 0, 1));
    assert_eq!(store.paper(&id(key)).await.unwrap(), Some(v2.clone()));
    assert_eq!(dump(&store).await, before);

    // An old version never seen before is remembered, still without touching metadata.
    let mut v0 = paper(key, 1, "Ancient title");
    v0.version = 0;
    let stats = store.upsert_papers(&[v0]).await.unwrap();
    assert_eq!(stats.unchanged, 1);
    assert_eq!(store.versions(&id(key)).await.unwrap(), vec![0, 1, 2]);
    assert_eq!(store.paper(&id(key)).await.unwrap(), Some(v2.clone()));

    // Same version, changed metadata (arXiv adds a journal ref without a new version).
    let mut v2_jref = v2.clone();
    v2_jref.journal_ref = Some("Nature 1 (2021) 1".into());
    let stats = store.upsert_papers(&[v2_jref.clone()]).await.unwrap();
    assert_eq!((stats.inserted, stats.updated, stats.unchanged), (0, 1, 0));
    assert_eq!(store.paper(&id(key)).await.unwrap(), Some(v2_jref));
    assert_eq!(store.versions(&id(key)).await.unwrap(), vec![0, 1, 2]);
}

#[tokio::test]
async fn a_batch_with_several_versions_of_one_paper_ends_at_the_newest() {
    let store = SqliteStore::in_memory().await.unwrap();
    let key = "2107.00641";
    let batch = [
        paper(key, 3, "Third"),
        paper(key, 1, "First"),
        paper(key, 2, "Second"),
        paper("2107.00642", 1, "Other"),
    ];
    let stats = store.upsert_papers(&batch).await.unwrap();
    assert_eq!((stats.inserted, stats.updated, stats.unchanged), (2, 0, 2));
    let stored = store.paper(&id(key)).await.unwrap().unwrap();
    assert_eq!((stored.version, stored.title.as_str()), (3, "Third"));
    assert_eq!(store.versions(&id(key)).await.unwrap(), vec![1, 2, 3]);
}

#[tokio::test]
async fn categories_table_follows_the_category_list() {
    let store = SqliteStore::in_memory().await.unwrap();
    let key = "2107.00641";
    let mut p = paper(key, 1, "Cats");
    p.categories = vec![
        "cs.LG".into(),
        "stat.ML".into(),
        "cs.LG".into(),
        "math.OC".into(),
    ];
    store.upsert_papers(std::slice::from_ref(&p)).await.unwrap();
    assert_eq!(
        categories_of(&store, key).await,
        vec![
            ("cs.LG".into(), 0),
            ("stat.ML".into(), 1),
            ("math.OC".into(), 3)
        ]
    );
    // The stored list keeps arXiv's exact order, duplicates included.
    assert_eq!(
        store.paper(&id(key)).await.unwrap().unwrap().categories,
        p.categories
    );

    p.categories = vec!["math.OC".into()];
    p.version = 2;
    store.upsert_papers(&[p]).await.unwrap();
    assert_eq!(
        categories_of(&store, key).await,
        vec![("math.OC".into(), 0)]
    );
}

#[tokio::test]
async fn invalid_papers_abort_the_whole_batch() {
    let store = SqliteStore::in_memory().await.unwrap();
    store
        .upsert_papers(&[paper("2107.00641", 1, "Kept")])
        .await
        .unwrap();
    let before = dump(&store).await;
    let mut bad = paper("2107.00643", 1, "Far future");
    bad.updated = t(10000, 1, 1, 0, 0, 0);
    let err = store
        .upsert_papers(&[paper("2107.00642", 1, "Would be new"), bad])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Query(_)), "{err}");
    assert_one_line(&err);
    assert_eq!(dump(&store).await, before);
    assert_eq!(
        store.upsert_papers(&[]).await.unwrap(),
        UpsertStats::default()
    );
}

// ---------------------------------------------------------------- mailings

#[tokio::test]
async fn mailing_round_trip_and_idempotent_re_recording() {
    let store = SqliteStore::in_memory().await.unwrap();
    store
        .upsert_papers(&[
            paper("2107.00643", 1, "C"),
            paper("2107.00641", 1, "A"),
            rich_paper("2107.00642"),
        ])
        .await
        .unwrap();
    let d = date(2021, 7, 2);
    let members = [
        (id("2107.00643"), AnnounceType::Replace),
        (id("2107.00641v1"), AnnounceType::Cross),
        (id("2107.00642"), AnnounceType::New),
        // Listed again by another category's feed: kept once, as `new`.
        (id("2107.00641"), AnnounceType::New),
    ];
    let mut record = mailing(d, t(2021, 7, 2, 0, 30, 0));
    record.paper_count = 99; // ignored: the store counts members
    store.record_mailing(&record, &members).await.unwrap();

    let stored = store.mailing(d).await.unwrap().unwrap();
    assert_eq!(
        stored,
        MailingRecord {
            paper_count: 3,
            ..record.clone()
        }
    );
    let listed = store.mailing_papers(d).await.unwrap();
    let summary: Vec<(String, AnnounceType)> = listed
        .iter()
        .map(|m| (m.paper.id.to_string(), m.announce_type))
        .collect();
    assert_eq!(
        summary,
        vec![
            ("2107.00641".into(), AnnounceType::New),
            ("2107.00642".into(), AnnounceType::New),
            ("2107.00643".into(), AnnounceType::Replace),
        ]
    );
    assert_eq!(listed[1].paper, rich_paper("2107.00642"));

    // Same data re-ingested later, members in another order: nothing changes, not even
    // ingested_at.
    let before = dump(&store).await;
    let mut again = record.clone();
    again.ingested_at = t(2021, 7, 3, 9, 0, 0);
    let reordered = [
        members[3].clone(),
        members[2].clone(),
        members[1].clone(),
        members[0].clone(),
    ];
    store.record_mailing(&again, &reordered).await.unwrap();
    assert_eq!(dump(&store).await, before);
    assert_eq!(
        store.mailing(d).await.unwrap().unwrap().ingested_at,
        record.ingested_at
    );

    // Changed membership replaces the old one and takes the new ingested_at.
    store
        .record_mailing(&again, &[(id("2107.00642"), AnnounceType::Cross)])
        .await
        .unwrap();
    let stored = store.mailing(d).await.unwrap().unwrap();
    assert_eq!(
        (stored.paper_count, stored.ingested_at),
        (1, again.ingested_at)
    );
    let listed = store.mailing_papers(d).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].announce_type, AnnounceType::Cross);

    // A changed window with the same members is a change too.
    let mut moved = again.clone();
    moved.window_end = t(2021, 7, 1, 18, 0, 1);
    moved.ingested_at = t(2021, 7, 4, 0, 0, 0);
    moved.source = MailingSource::Rss;
    store
        .record_mailing(&moved, &[(id("2107.00642"), AnnounceType::Cross)])
        .await
        .unwrap();
    assert_eq!(
        store.mailing(d).await.unwrap().unwrap(),
        MailingRecord {
            paper_count: 1,
            ..moved
        }
    );
}

#[tokio::test]
async fn mailing_with_unknown_members_is_refused_atomically() {
    let store = SqliteStore::in_memory().await.unwrap();
    store
        .upsert_papers(&[paper("2107.00641", 1, "A")])
        .await
        .unwrap();
    let d = date(2021, 7, 2);
    store
        .record_mailing(
            &mailing(d, t(2021, 7, 2, 0, 30, 0)),
            &[(id("2107.00641"), AnnounceType::New)],
        )
        .await
        .unwrap();
    let before = dump(&store).await;
    let err = store
        .record_mailing(
            &mailing(d, t(2021, 7, 3, 0, 0, 0)),
            &[
                (id("2107.00641"), AnnounceType::New),
                (id("2107.09999"), AnnounceType::New),
            ],
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("2107.09999"), "{err}");
    assert_one_line(&err);
    assert_eq!(dump(&store).await, before);
}

#[tokio::test]
async fn latest_mailing_is_by_date_not_insertion_order() {
    let store = SqliteStore::in_memory().await.unwrap();
    assert_eq!(store.latest_mailing().await.unwrap(), None);
    store
        .upsert_papers(&[paper("2107.00641", 1, "Focal")])
        .await
        .unwrap();
    let ingested = t(2021, 7, 10, 0, 0, 0);
    for d in [date(2021, 7, 2), date(2021, 7, 6), date(2021, 7, 5)] {
        store
            .record_mailing(
                &mailing(d, ingested),
                &[(id("2107.00641"), AnnounceType::New)],
            )
            .await
            .unwrap();
    }
    // A later mailing without papers is not the latest mailing.
    store
        .record_mailing(&mailing(date(2021, 7, 7), ingested), &[])
        .await
        .unwrap();
    let latest = store.latest_mailing().await.unwrap().unwrap();
    assert_eq!((latest.date, latest.paper_count), (date(2021, 7, 6), 1));
    assert_eq!(store.mailing(date(2021, 7, 3)).await.unwrap(), None);
    assert!(
        store
            .mailing_papers(date(2021, 7, 3))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store.mailing_papers(date(2021, 7, 5)).await.unwrap().len(),
        1
    );
}

// ---------------------------------------------------------------- signals

#[tokio::test]
async fn latest_signals_picks_the_newest_snapshot_per_metric() {
    let store = SqliteStore::in_memory().await.unwrap();
    let (t0, t1, t2) = (
        t(2021, 7, 2, 0, 0, 0),
        t(2021, 7, 2, 6, 0, 0),
        t(2021, 7, 2, 12, 0, 0),
    );
    store
        .record_signals(&[
            signal("2107.00641", "hn", "points", 10.0, t0),
            signal("2107.00641", "hn", "points", 42.0, t2),
            signal("2107.00641", "hn", "points", 30.0, t1),
            signal("2107.00641", "hn", "comments", 3.0, t0),
            signal("2107.00641", "bluesky", "reposts", 7.0, t1),
            signal("2107.00642", "hn", "points", 1.5, t0),
            // Not stored as a paper: attention may come first.
            signal("2107.00699", "hf", "upvotes", 5.0, t0),
        ])
        .await
        .unwrap();
    let latest = store
        .latest_signals(&[id("2107.00641v2"), id("2107.00642"), id("2107.00641")])
        .await
        .unwrap();
    assert_eq!(
        latest,
        vec![
            signal("2107.00641", "bluesky", "reposts", 7.0, t1),
            signal("2107.00641", "hn", "comments", 3.0, t0),
            signal("2107.00641", "hn", "points", 42.0, t2),
            signal("2107.00642", "hn", "points", 1.5, t0),
        ]
    );
    assert!(store.latest_signals(&[]).await.unwrap().is_empty());
    assert!(
        store
            .latest_signals(&[id("2107.12345")])
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn recording_signals_is_idempotent_and_replaces_values() {
    let store = SqliteStore::in_memory().await.unwrap();
    let at = t(2021, 7, 2, 0, 0, 0) + chrono::Duration::nanoseconds(1);
    let batch = [
        signal("2107.00641", "hn", "points", 10.0, at),
        signal("2107.00641", "x", "retweets", 2.0, at),
    ];
    store.record_signals(&batch).await.unwrap();
    let before = dump(&store).await;
    store.record_signals(&batch).await.unwrap();
    assert_eq!(dump(&store).await, before);

    store
        .record_signals(&[signal("2107.00641", "hn", "points", 11.0, at)])
        .await
        .unwrap();
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM attention_snapshots")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(count, 2);
    let latest = store.latest_signals(&[id("2107.00641")]).await.unwrap();
    assert_eq!(latest[0], signal("2107.00641", "hn", "points", 11.0, at));
}

#[tokio::test]
async fn invalid_signals_are_refused_without_writing() {
    let store = SqliteStore::in_memory().await.unwrap();
    let at = t(2021, 7, 2, 0, 0, 0);
    for bad in [
        signal("2107.00641", "hn", "points", f64::NAN, at),
        signal("2107.00641", "hn", "points", f64::INFINITY, at),
        signal("2107.00641", "", "points", 1.0, at),
        signal("2107.00641", "hn", "", 1.0, at),
        signal("2107.00641", "hn", "points", 1.0, t(10000, 1, 1, 0, 0, 0)),
    ] {
        let err = store
            .record_signals(&[signal("2107.00642", "hn", "points", 1.0, at), bad])
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Query(_)), "{err}");
        assert_one_line(&err);
    }
    assert!(
        store
            .latest_signals(&[id("2107.00642")])
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn latest_signals_handles_thousands_of_ids() {
    let store = SqliteStore::in_memory().await.unwrap();
    let (t0, t1) = (t(2021, 7, 2, 0, 0, 0), t(2021, 7, 2, 6, 0, 0));
    let keys: Vec<String> = (1..=2345).map(|i| format!("2107.{i:05}")).collect();
    let mut batch = Vec::new();
    for (i, k) in keys.iter().enumerate() {
        batch.push(signal(k, "hn", "points", i as f64, t0));
        batch.push(signal(k, "hn", "points", i as f64 + 0.5, t1));
    }
    store.record_signals(&batch).await.unwrap();
    // Far more ids than SQLite's bound-variable limit in older builds (999), plus unknown ones.
    let mut ids: Vec<ArxivId> = keys.iter().map(|k| id(k)).collect();
    ids.extend((60_000..61_000).map(|i| id(&format!("2107.{i:05}"))));
    let latest = store.latest_signals(&ids).await.unwrap();
    assert_eq!(latest.len(), keys.len());
    for (i, s) in latest.iter().enumerate() {
        assert_eq!(s.paper.key(), keys[i]);
        assert_eq!((s.value, s.observed_at), (i as f64 + 0.5, t1));
    }
}

// ---------------------------------------------------------------- search

async fn search_fixture() -> SqliteStore {
    let store = SqliteStore::in_memory().await.unwrap();
    let mut a = paper("2107.00001", 1, "Transformers for protein folding");
    a.abstract_text = "Attention is applied to biology.".into();
    let mut b = paper("2107.00002", 1, "A survey of graph methods");
    b.abstract_text = "We mention transformers once, among protein models.".into();
    let mut c = paper("2107.00003", 1, "Quantum chaos");
    c.authors = vec![Author {
        name: "Erwin Schrödinger".into(),
        affiliations: vec!["Dublin".into()],
    }];
    store.upsert_papers(&[a, b, c]).await.unwrap();
    store
}

/// The ids `query` finds, best first (the query must be valid).
async fn search_ids(store: &SqliteStore, query: &str, limit: usize) -> Vec<ArxivId> {
    let q = SearchQuery::parse(query).unwrap_or_else(|e| panic!("{query:?}: {e}"));
    store.search(&q, limit).await.unwrap().ids
}

#[tokio::test]
async fn search_counts_every_match_and_speaks_fts5() {
    let store = search_fixture().await;
    let q = |s: &str| SearchQuery::parse(s).unwrap();
    // Two papers mention proteins: the best one listed, both counted.
    let hits = store.search(&q("protein"), 1).await.unwrap();
    assert_eq!((hits.ids, hits.total), (vec![id("2107.00001")], 2));
    let hits = store.search(&q("protein"), 0).await.unwrap();
    assert_eq!((hits.ids.len(), hits.total), (0, 2));
    let sorted = |mut v: Vec<ArxivId>| {
        v.sort();
        v
    };
    // OR is an operator, not a word.
    assert_eq!(
        sorted(search_ids(&store, "chaos OR folding", 10).await),
        vec![id("2107.00001"), id("2107.00003")]
    );
    // A prefix.
    assert_eq!(
        search_ids(&store, "surv*", 10).await,
        vec![id("2107.00002")]
    );
    assert!(search_ids(&store, "surv", 10).await.is_empty());
    // A phrase: its words next to each other, in order.
    assert_eq!(
        search_ids(&store, "\"protein folding\"", 10).await,
        vec![id("2107.00001")]
    );
    assert!(
        search_ids(&store, "\"folding protein\"", 10)
            .await
            .is_empty()
    );
    // NOT, and grouping.
    assert_eq!(
        search_ids(&store, "protein NOT biology", 10).await,
        vec![id("2107.00002")]
    );
    assert_eq!(
        sorted(search_ids(&store, "(chaos OR graph) (schrodinger OR survey)", 10).await),
        vec![id("2107.00002"), id("2107.00003")]
    );
    let hits = store.search(&q("zebra OR unicorn"), 10).await.unwrap();
    assert_eq!((hits.ids.len(), hits.total), (0, 0));
}

#[tokio::test]
async fn search_ranks_title_matches_first_and_matches_all_words() {
    let store = search_fixture().await;
    assert_eq!(
        search_ids(&store, "protein transformer", 10).await,
        vec![id("2107.00001"), id("2107.00002")]
    );
    // Every word must match.
    assert_eq!(
        search_ids(&store, "protein chaos", 10).await,
        Vec::<ArxivId>::new()
    );
    assert_eq!(
        search_ids(&store, "PROTEIN", 1).await,
        vec![id("2107.00001")]
    );
    assert!(search_ids(&store, "protein", 0).await.is_empty());
    // Author names, case and diacritics folded.
    assert_eq!(
        search_ids(&store, "schrodinger", 10).await,
        vec![id("2107.00003")]
    );
    assert_eq!(
        search_ids(&store, "erwin", 10).await,
        vec![id("2107.00003")]
    );
    // Affiliations are not indexed.
    assert!(search_ids(&store, "dublin", 10).await.is_empty());
}

#[tokio::test]
async fn search_treats_fts_syntax_in_user_text_literally() {
    let store = search_fixture().await;
    let hostile = [
        "\"",
        "\"protein",
        "protein\"",
        "protein AND",
        "OR",
        "NOT protein",
        "protein NEAR(",
        "title:protein",
        "{title abstract}: protein",
        "prot*",
        "*",
        "^protein",
        "(protein",
        "protein)",
        "'; DROP TABLE papers; --",
        "-",
        "+",
        "\u{0}",
        "protein\u{0}folding",
        "🚀",
        "   ",
        "",
        "a\"\"b",
        "NEAR/2",
    ];
    for q in hostile {
        // Either a clear query error before the store, or a search that runs: never a
        // store (SQL) error.
        if let Ok(parsed) = SearchQuery::parse(q) {
            let r = store.search(&parsed, 10).await;
            assert!(r.is_ok(), "{q:?}: {r:?}");
        }
    }
    assert_eq!(
        search_ids(&store, "title:protein", 10).await,
        Vec::<ArxivId>::new(),
        "column filters must not be interpreted"
    );
    assert_eq!(
        SearchQuery::parse("protein)"),
        Err(hotpapers::store::QueryError::Unbalanced)
    );
    assert_eq!(
        search_ids(&store, "protein -", 10).await,
        vec![id("2107.00001"), id("2107.00002")]
    );
    let papers: i64 = sqlx::query_scalar("SELECT count(*) FROM papers")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(papers, 3);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..proptest::prelude::ProptestConfig::default()
    })]
    #[test]
    fn search_never_fails_in_the_store_on_arbitrary_text(q in "\\PC{0,40}|[\"*():^+\\-{} a-zA-Z]{0,30}") {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        if let Ok(parsed) = SearchQuery::parse(&q) {
            let r = rt.block_on(async { search_fixture().await.search(&parsed, 5).await });
            proptest::prop_assert!(r.is_ok(), "{:?}: {:?}", q, r);
        }
    }
}

#[tokio::test]
async fn search_index_survives_vacuum_and_deletes() {
    let store = search_fixture().await;
    sqlx::query("DELETE FROM papers WHERE id = '2107.00002'")
        .execute(store.pool())
        .await
        .unwrap();
    sqlx::query("VACUUM").execute(store.pool()).await.unwrap();
    assert_fts_consistent(&store).await;
    let mut a = paper("2107.00001", 2, "Renamed entirely");
    a.abstract_text = "Nothing.".into();
    store
        .upsert_papers(&[a, paper("2107.00004", 1, "Protein design")])
        .await
        .unwrap();
    assert_fts_consistent(&store).await;
    assert_eq!(
        search_ids(&store, "protein", 10).await,
        vec![id("2107.00004")]
    );
    assert_eq!(
        search_ids(&store, "renamed", 10).await,
        vec![id("2107.00001")]
    );
}

// ---------------------------------------------------------------- files

#[tokio::test]
async fn open_creates_the_file_and_its_directory_with_the_right_settings() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/deeper/hotpapers.sqlite");
    let store = SqliteStore::open(&path).await.unwrap();
    assert!(path.is_file());
    let mut conn = store.pool().acquire().await.unwrap();
    let journal: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    let sync: i64 = sqlx::query_scalar("PRAGMA synchronous")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    let busy: i64 = sqlx::query_scalar("PRAGMA busy_timeout")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!((journal.as_str(), fk, sync, busy), ("wal", 1, 1, 5000));
    drop(conn);
    store.close().await;
}

#[tokio::test]
async fn reopening_keeps_data_and_migrations_apply_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hp.sqlite");
    let store = SqliteStore::open(&path).await.unwrap();
    store
        .upsert_papers(&[rich_paper("2107.00641")])
        .await
        .unwrap();
    store.close().await;

    let store = SqliteStore::open(&path).await.unwrap();
    assert_eq!(
        store.paper(&id("2107.00641")).await.unwrap(),
        Some(rich_paper("2107.00641"))
    );
    let applied: Vec<i64> = sqlx::query_scalar("SELECT version FROM _sqlx_migrations")
        .fetch_all(store.pool())
        .await
        .unwrap();
    assert_eq!(applied.first(), Some(&1));
    assert!(applied.windows(2).all(|w| w[0] < w[1]));
}

#[tokio::test]
async fn two_stores_share_one_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hp.sqlite");
    let a = SqliteStore::open(&path).await.unwrap();
    let b = SqliteStore::open(&path).await.unwrap();
    a.upsert_papers(&[paper("2107.00641", 1, "Shared")])
        .await
        .unwrap();
    assert_eq!(
        b.paper(&id("2107.00641")).await.unwrap().unwrap().title,
        "Shared"
    );
    // Concurrent writers wait for each other instead of failing.
    let pa: Vec<Paper> = (0..200)
        .map(|i| paper(&format!("2107.1{i:04}"), 1, "A"))
        .collect();
    let pb: Vec<Paper> = (0..200)
        .map(|i| paper(&format!("2107.2{i:04}"), 1, "B"))
        .collect();
    let (ra, rb) = tokio::join!(a.upsert_papers(&pa), b.upsert_papers(&pb));
    assert_eq!(ra.unwrap().inserted, 200);
    assert_eq!(rb.unwrap().inserted, 200);
    b.record_signals(&[signal(
        "2107.00641",
        "hn",
        "points",
        1.0,
        t(2021, 7, 2, 0, 0, 0),
    )])
    .await
    .unwrap();
    assert_eq!(
        a.latest_signals(&[id("2107.00641")]).await.unwrap().len(),
        1
    );
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM papers")
        .fetch_one(a.pool())
        .await
        .unwrap();
    assert_eq!(n, 401);
}

#[tokio::test]
async fn opening_a_new_file_from_two_stores_at_once_works() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hp.sqlite");
    let (a, b) = tokio::join!(SqliteStore::open(&path), SqliteStore::open(&path));
    let (a, b) = (a.unwrap(), b.unwrap());
    a.upsert_papers(&[paper("2107.00641", 1, "Race")])
        .await
        .unwrap();
    assert!(b.paper(&id("2107.00641")).await.unwrap().is_some());
}

async fn assert_untouched_after_failed_open(path: &Path, original: &[u8]) {
    // Compared without printing: the files are kilobytes of bytes.
    assert!(
        std::fs::read(path).unwrap() == original,
        "file was modified"
    );
}

#[tokio::test]
async fn garbage_file_is_a_clean_open_error_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hp.sqlite");
    let garbage: Vec<u8> = b"this is a shopping list, not a database\n"
        .iter()
        .copied()
        .cycle()
        .take(8192)
        .collect();
    std::fs::write(&path, &garbage).unwrap();
    let err = SqliteStore::open(&path).await.unwrap_err();
    assert!(matches!(err, StoreError::Open { .. }), "{err}");
    assert!(err.to_string().contains("not a SQLite database"), "{err}");
    assert!(err.to_string().contains("hp.sqlite"), "{err}");
    assert_one_line(&err);
    assert_untouched_after_failed_open(&path, &garbage).await;
}

#[tokio::test]
async fn a_directory_is_a_clean_open_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = SqliteStore::open(dir.path()).await.unwrap_err();
    assert!(matches!(err, StoreError::Open { .. }), "{err}");
    assert_one_line(&err);
    // A parent that is a file cannot be created.
    let file = dir.path().join("file");
    std::fs::write(&file, b"x").unwrap();
    let err = SqliteStore::open(&file.join("hp.sqlite"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("cannot create directory"), "{err}");
    assert_one_line(&err);
}

#[tokio::test]
async fn database_from_a_newer_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hp.sqlite");
    let store = SqliteStore::open(&path).await.unwrap();
    store
        .upsert_papers(&[paper("2107.00641", 1, "Kept")])
        .await
        .unwrap();
    // What a future hotpapers leaves behind: a migration this build does not know.
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (20990101, 'from the future', 1, X'00', 0)",
    )
    .execute(store.pool())
    .await
    .unwrap();
    store.close().await;

    let err = SqliteStore::open(&path).await.unwrap_err();
    assert!(matches!(err, StoreError::Migrate(_)), "{err}");
    assert!(err.to_string().contains("20990101"), "{err}");
    assert!(err.to_string().contains("newer"), "{err}");
    assert_one_line(&err);
}

#[tokio::test]
async fn another_applications_database_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.sqlite");
    {
        let opts = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true);
        let mut conn = sqlx::SqliteConnection::connect_with(&opts).await.unwrap();
        sqlx::query("CREATE TABLE papers (x INTEGER)")
            .execute(&mut conn)
            .await
            .unwrap();
        sqlx::query("INSERT INTO papers VALUES (42)")
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
    }
    let original = std::fs::read(&path).unwrap();
    let err = SqliteStore::open(&path).await.unwrap_err();
    assert!(matches!(err, StoreError::Migrate(_)), "{err}");
    assert!(err.to_string().contains("another application"), "{err}");
    assert_one_line(&err);
    assert_untouched_after_failed_open(&path, &original).await;
}

#[tokio::test]
async fn in_memory_stores_are_independent() {
    let a = SqliteStore::in_memory().await.unwrap();
    let b = SqliteStore::in_memory().await.unwrap();
    a.upsert_papers(&[paper("2107.00641", 1, "Only in a")])
        .await
        .unwrap();
    assert!(b.paper(&id("2107.00641")).await.unwrap().is_none());
    assert!(a.paper(&id("2107.00641")).await.unwrap().is_some());
}

#[tokio::test]
async fn post_log_records_progress_failure_resume_and_completion() {
    use hotpapers::store::{PostRecord, PostState};
    let store = SqliteStore::in_memory().await.unwrap();
    let day = date(2021, 7, 2);
    let start = t(2021, 7, 3, 6, 0, 0);
    assert_eq!(store.post_record(42, day).await.unwrap(), None);
    // Updating a row that does not exist changes nothing and says so.
    assert!(!store.post_progress(42, day, &[Some(1)]).await.unwrap());
    assert!(!store.resume_post(42, day).await.unwrap());
    assert!(!store.fail_post(42, day, "x", start).await.unwrap());

    store.begin_post(42, day, "hp-nonce", start).await.unwrap();
    assert!(
        store
            .post_progress(42, day, &[Some(555), None])
            .await
            .unwrap()
    );
    let r = store.post_record(42, day).await.unwrap().unwrap();
    assert_eq!(
        r,
        PostRecord {
            state: PostState::Sending,
            nonce: "hp-nonce".into(),
            started_at: start,
            finished_at: None,
            message_ids: vec![Some(555), None],
            error: None,
        }
    );
    // A failure keeps what was sent and the start; its error is one line.
    let failed_at = t(2021, 7, 3, 6, 1, 0);
    assert!(
        store
            .fail_post(42, day, "Discord refused (403)\nsecond line", failed_at)
            .await
            .unwrap()
    );
    let r = store.post_record(42, day).await.unwrap().unwrap();
    assert_eq!(r.state, PostState::Failed);
    assert_eq!(
        r.error.as_deref(),
        Some("Discord refused (403) second line")
    );
    assert_eq!(r.finished_at, Some(failed_at));
    assert_eq!(r.message_ids, vec![Some(555), None]);
    assert_eq!(
        store.post_state(42, day).await.unwrap().as_deref(),
        Some("failed")
    );
    // Resuming goes back to `sending` with the same start, nonce and ids.
    assert!(store.resume_post(42, day).await.unwrap());
    let r = store.post_record(42, day).await.unwrap().unwrap();
    assert_eq!(
        (r.state, r.started_at, r.error),
        (PostState::Sending, start, None)
    );
    assert_eq!(r.nonce, "hp-nonce");
    assert_eq!(r.message_ids, vec![Some(555), None]);
    store
        .finish_post(42, day, &[555, u64::MAX], t(2021, 7, 3, 6, 2, 0))
        .await
        .unwrap();
    let r = store.post_record(42, day).await.unwrap().unwrap();
    assert_eq!(r.state, PostState::Sent);
    assert_eq!(r.message_ids, vec![Some(555), Some(u64::MAX)]);
    // Other channels and mailings are separate rows.
    assert_eq!(store.post_record(43, day).await.unwrap(), None);
    assert_eq!(store.post_record(42, date(2021, 7, 1)).await.unwrap(), None);
}

#[tokio::test]
async fn corrupt_post_log_rows_are_reported_not_panicked_on() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.sqlite");
    let store = SqliteStore::open(&path).await.unwrap();
    let day = date(2021, 7, 2);
    store
        .begin_post(42, day, "n", t(2021, 7, 3, 6, 0, 0))
        .await
        .unwrap();
    for (set, what) in [
        ("state = 'exploded'", "unknown state"),
        ("state = 'sending', message_ids = '[\"x\"]'", "not a number"),
        ("message_ids = '[]', started_at = 'yesterday'", "RFC 3339"),
    ] {
        sqlx::query(AssertSqlSafe(format!("UPDATE post_log SET {set}")))
            .execute(store.pool())
            .await
            .unwrap();
        let e = store.post_record(42, day).await.unwrap_err();
        assert!(matches!(e, StoreError::Corrupt { .. }), "{e}");
        assert!(e.to_string().contains(what), "{e}");
        assert_one_line(&e);
    }
}

/// After bulk writes, `checkpoint` leaves no write-ahead log behind (a 1,000-paper batch grows
/// it by megabytes).
#[tokio::test]
async fn a_checkpoint_truncates_the_write_ahead_log() {
    use hotpapers::store::CursorStore;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hp.db");
    let store = SqliteStore::open(&db).await.unwrap();
    let papers: Vec<Paper> = (1..=1000)
        .map(|i| {
            paper(
                &format!("2107.{i:05}"),
                1,
                &format!("Paper {i} about transformers"),
            )
        })
        .collect();
    store.upsert_papers(&papers).await.unwrap();
    let wal = dir.path().join("hp.db-wal");
    let before = std::fs::metadata(&wal).map_or(0, |m| m.len());
    assert!(before > 0, "the batch went through the log");
    store.checkpoint().await.unwrap();
    assert_eq!(std::fs::metadata(&wal).map_or(0, |m| m.len()), 0);
    // Everything is still there.
    assert_eq!(
        store
            .search(&SearchQuery::parse("transformers").unwrap(), 5)
            .await
            .unwrap()
            .total,
        1000
    );
}
