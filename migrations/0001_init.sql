-- hotpapers schema, version 1.
--
-- Never edit this file once it has shipped: sqlx stores a checksum of every applied migration
-- and refuses to open a database whose migrations differ. Add `0002_<what>.sql` instead.
--
-- Conventions (shared with the Rust side, `src/store/sqlite.rs`):
-- * Timestamps are RFC 3339 UTC text with exactly nine fractional digits and a `Z`
--   (`2021-07-01T18:00:00.000000000Z`): lossless for chrono and sortable as plain text, so
--   `MAX(observed_at)` and range filters work on the column directly.
-- * Dates are `YYYY-MM-DD` text.
-- * JSON columns hold documents written by the Rust side and are checked with `json_valid`.
-- * Enumerations (`source`, `announce_type`, `state`) are plain text without CHECK lists, so a
--   later migration can add a value without rebuilding the table; the Rust side validates them.

-- One row per paper: the metadata of the newest version seen.
CREATE TABLE papers (
    id               TEXT PRIMARY KEY NOT NULL,           -- version-less key: 2107.00641, hep-ex/0307015
    version          INTEGER NOT NULL CHECK (version >= 0),
    title            TEXT NOT NULL,
    abstract         TEXT NOT NULL,
    authors          TEXT NOT NULL CHECK (json_valid(authors)),     -- [{"name", "affiliations": [..]}]
    primary_category TEXT NOT NULL,
    categories       TEXT NOT NULL CHECK (json_valid(categories)),  -- ["cs.LG", ...] in arXiv order
    published        TEXT NOT NULL,                       -- v1 submission time
    updated          TEXT NOT NULL,                       -- submission time of `version`
    comment          TEXT,
    journal_ref      TEXT,
    doi              TEXT,
    links            TEXT NOT NULL CHECK (json_valid(links))        -- [{"href", "rel", "title", "mime"}]
);

CREATE INDEX papers_by_published ON papers (published);

-- Every version of a paper seen so far (its metadata is only kept for the newest, in `papers`).
CREATE TABLE paper_versions (
    paper_id TEXT NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
    version  INTEGER NOT NULL CHECK (version >= 0),
    updated  TEXT NOT NULL,                               -- when this version was submitted
    PRIMARY KEY (paper_id, version)
) WITHOUT ROWID;

-- `papers.categories` unnested, for category filters and counts. `position` is the 0-based index
-- of the category in arXiv's order (0 is usually the primary).
CREATE TABLE paper_categories (
    paper_id TEXT NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
    category TEXT NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (paper_id, category)
) WITHOUT ROWID;

CREATE INDEX paper_categories_by_category ON paper_categories (category, paper_id);

-- One row per arXiv mailing (listing date).
CREATE TABLE mailings (
    date         TEXT PRIMARY KEY NOT NULL,               -- YYYY-MM-DD
    window_start TEXT NOT NULL,
    window_end   TEXT NOT NULL,
    source       TEXT NOT NULL,                           -- api | rss | import
    ingested_at  TEXT NOT NULL,
    paper_count  INTEGER NOT NULL CHECK (paper_count >= 0)
);

-- The papers announced in a mailing.
CREATE TABLE mailing_papers (
    mailing_date  TEXT NOT NULL REFERENCES mailings (date) ON DELETE CASCADE,
    paper_id      TEXT NOT NULL REFERENCES papers (id),
    announce_type TEXT NOT NULL,                          -- new | cross | replace | replace-cross | absonly
    PRIMARY KEY (mailing_date, paper_id)
) WITHOUT ROWID;

-- Which mailings listed a paper; also keeps foreign-key checks on `papers` deletes cheap.
CREATE INDEX mailing_papers_by_paper ON mailing_papers (paper_id);

-- Attention observations. No foreign key to `papers`: a source may mention a paper before (or
-- without) its metadata being ingested.
--
-- The table is WITHOUT ROWID, so its primary key is the clustered index that serves "latest
-- snapshot per (paper, source, metric)": rows of one (paper, source, metric) are stored next to
-- each other in `observed_at` order and `GROUP BY ... MAX(observed_at)` is a range scan of that
-- index with no temporary B-tree (checked by a query-plan test). A separate index would only
-- duplicate it.
CREATE TABLE attention_snapshots (
    paper_id    TEXT NOT NULL,
    source      TEXT NOT NULL,
    metric      TEXT NOT NULL,
    value       REAL NOT NULL,
    observed_at TEXT NOT NULL,
    PRIMARY KEY (paper_id, source, metric, observed_at)
) WITHOUT ROWID;

-- Full-text search over title, abstract and author names (affiliations are not indexed).
--
-- A contentless FTS5 index (the text lives once, in `papers`) whose rowid is `papers.rowid`;
-- `contentless_delete` lets the triggers remove a paper's entry by rowid alone. An
-- external-content table would need a content view joining author names with `json_each`,
-- which FTS5 cannot read (it prepares its statements without table-valued functions).
-- `papers` has an index (its primary key), so VACUUM keeps its rowids (checked by a test).
-- To rebuild the index from scratch:
--   INSERT INTO papers_fts (papers_fts) VALUES ('delete-all');
--   INSERT INTO papers_fts (rowid, title, abstract, authors) SELECT rowid, title, abstract,
--     (SELECT group_concat(...) ...) FROM papers;   -- the expression of the insert trigger
CREATE VIRTUAL TABLE papers_fts USING fts5 (
    title,
    abstract,
    authors,
    content = '',
    contentless_delete = 1,
    tokenize = 'porter unicode61 remove_diacritics 2'
);

CREATE TRIGGER papers_fts_after_insert AFTER INSERT ON papers BEGIN
    INSERT INTO papers_fts (rowid, title, abstract, authors)
    VALUES (
        new.rowid,
        new.title,
        new.abstract,
        (SELECT group_concat(json_extract(a.value, '$.name'), ' ')
         FROM json_each(new.authors) AS a WHERE a.type = 'object')
    );
END;

CREATE TRIGGER papers_fts_after_delete AFTER DELETE ON papers BEGIN
    DELETE FROM papers_fts WHERE rowid = old.rowid;
END;

CREATE TRIGGER papers_fts_after_update AFTER UPDATE OF title, abstract, authors ON papers BEGIN
    DELETE FROM papers_fts WHERE rowid = old.rowid;
    INSERT INTO papers_fts (rowid, title, abstract, authors)
    VALUES (
        new.rowid,
        new.title,
        new.abstract,
        (SELECT group_concat(json_extract(a.value, '$.name'), ' ')
         FROM json_each(new.authors) AS a WHERE a.type = 'object')
    );
END;

-- Discord: a channel subscribed to a daily digest.
CREATE TABLE subscriptions (
    id              INTEGER PRIMARY KEY,
    guild_id        TEXT NOT NULL,
    channel_id      TEXT NOT NULL,
    local_time      TEXT NOT NULL,                        -- HH:MM in `timezone`
    timezone        TEXT NOT NULL,                        -- IANA name, e.g. Europe/Berlin
    categories      TEXT NOT NULL CHECK (json_valid(categories)),  -- ["cs.LG", ...]
    count           INTEGER NOT NULL CHECK (count >= 0),
    min_score       REAL NOT NULL DEFAULT 0,
    created_by      TEXT NOT NULL,                        -- Discord user id
    created_at      TEXT NOT NULL,
    disabled_reason TEXT,                                 -- NULL while active
    UNIQUE (guild_id, channel_id)
);

-- Discord: one digest post per (channel, mailing), so restarts never post twice.
CREATE TABLE post_log (
    channel_id   TEXT NOT NULL,
    mailing_date TEXT NOT NULL,
    state        TEXT NOT NULL,                           -- sending | sent | failed
    nonce        TEXT NOT NULL,
    message_ids  TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(message_ids)),
    started_at   TEXT NOT NULL,
    finished_at  TEXT,
    error        TEXT,
    PRIMARY KEY (channel_id, mailing_date)
);

-- Precomputed digests, so commands and pagination answer from the store.
CREATE TABLE digests (
    mailing_date TEXT NOT NULL REFERENCES mailings (date) ON DELETE CASCADE,
    variant      TEXT NOT NULL,
    generated_at TEXT NOT NULL,
    body         TEXT NOT NULL CHECK (json_valid(body)),
    PRIMARY KEY (mailing_date, variant)
);

-- Small state: cursors, last-run markers.
CREATE TABLE kv (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
