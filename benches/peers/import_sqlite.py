"""The Python peer of `hotpapers import`: feedparser parses an arXiv Atom file and Python's
sqlite3 stores the same rows in the same schema (hotpapers' own migrations), in one
transaction with `executemany`: papers, their full-text index entries (filled by the importer,
as hotpapers does since migration 0008 dropped the schema's insert trigger), versions and
categories. No mailing bookkeeping, no validation beyond what feedparser does:
a lower bound on what a straightforward Python importer costs.

    python3 benches/peers/import_sqlite.py FEED.xml STORE.db

The schema's FTS5 table uses `contentless_delete` (SQLite 3.43+); when the interpreter's
SQLite is older, `pysqlite3` (`pip install pysqlite3-binary`) is used if installed, and
otherwise the script exits with status 2 saying so.
"""

import glob
import json
import os
import sys

import feedparser

try:
    import sqlite3

    if sqlite3.sqlite_version_info < (3, 43, 0):
        raise ImportError
except ImportError:
    try:
        import pysqlite3 as sqlite3  # type: ignore
    except ImportError:
        sys.exit("sqlite3 is older than 3.43 and pysqlite3 is missing: pip install pysqlite3-binary")


def main(feed_path: str, db_path: str) -> None:
    migrations = sorted(
        glob.glob(os.path.join(os.path.dirname(__file__), "..", "..", "migrations", "*.sql"))
    )
    db = sqlite3.connect(db_path)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")
    for path in migrations:
        with open(path, encoding="utf-8") as f:
            db.executescript(f.read())

    d = feedparser.parse(feed_path)
    papers, versions, categories, entries = [], [], [], []
    for e in d.entries:
        url = e.id
        key, _, version = url.rsplit("/abs/", 1)[-1].rpartition("v")
        tags = [t["term"] for t in e.get("tags", [])]
        primary = e.get("arxiv_primary_category", {}).get("term", tags[0] if tags else "")
        authors = [{"name": a.get("name", ""), "affiliations": []} for a in e.get("authors", [])]
        links = [
            {"href": l.get("href"), "rel": l.get("rel"), "title": l.get("title"), "mime": l.get("type")}
            for l in e.get("links", [])
        ]
        papers.append(
            (
                key,
                int(version or 1),
                e.title,
                e.summary,
                json.dumps(authors),
                primary,
                json.dumps(tags),
                e.published,
                e.updated,
                e.get("arxiv_comment"),
                e.get("arxiv_journal_ref"),
                e.get("arxiv_doi"),
                json.dumps(links),
            )
        )
        names = " ".join(a["name"] for a in authors) or None
        entries.append((names, key))
        versions.append((key, int(version or 1), e.updated))
        categories.extend((key, c, i) for i, c in enumerate(tags))

    with db:
        db.executemany(
            "INSERT INTO papers (id, version, title, abstract, authors, primary_category, "
            "categories, published, updated, comment, journal_ref, doi, links) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
            "version = excluded.version, title = excluded.title, abstract = excluded.abstract, "
            "authors = excluded.authors, primary_category = excluded.primary_category, "
            "categories = excluded.categories, updated = excluded.updated",
            papers,
        )
        db.executemany(
            "INSERT INTO papers_fts (rowid, title, abstract, authors) "
            "SELECT rowid, title, abstract, ? FROM papers WHERE id = ?",
            entries,
        )
        db.executemany(
            "INSERT OR IGNORE INTO paper_versions (paper_id, version, updated) VALUES (?, ?, ?)",
            versions,
        )
        db.executemany(
            "INSERT OR IGNORE INTO paper_categories (paper_id, category, position) VALUES (?, ?, ?)",
            categories,
        )
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    stored = db.execute("SELECT count(*) FROM papers").fetchone()[0]
    assert stored > 0, "nothing stored"
    db.close()


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
