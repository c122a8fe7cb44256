-- hotpapers schema: text extras about papers (migration 3).
--
-- Never edit this file once it has shipped (see 0001_init.sql); conventions are those of 0001:
-- timestamps are fixed-width RFC 3339 UTC text, so `observed_at` compares as time.
--
-- What sources publish about a paper besides numbers: Hugging Face's `ai_summary`,
-- `ai_keywords` (a JSON array), `github_repo` and `project_page`, Semantic Scholar's `tldr`.
-- Only the latest value matters, so one row per (paper, source, key), upserted; no foreign key
-- to `papers`, because a source may describe a paper before (or without) its ingestion.
CREATE TABLE paper_extras (
    paper_id    TEXT NOT NULL,                            -- version-less key: 2107.00641
    source      TEXT NOT NULL,                            -- hf | s2 | ...
    key         TEXT NOT NULL,                            -- ai_summary | tldr | ...
    value       TEXT NOT NULL,
    observed_at TEXT NOT NULL,
    PRIMARY KEY (paper_id, source, key)
) WITHOUT ROWID;
