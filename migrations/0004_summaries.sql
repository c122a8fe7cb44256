-- hotpapers schema: the LLM summary cache and daily call counter (migration 4).
--
-- Never edit this file once it has shipped (see 0001_init.sql); conventions are those of 0001:
-- timestamps are fixed-width RFC 3339 UTC text, dates are YYYY-MM-DD.
--
-- One row per (paper, version, model, prompt version): a new version, model or prompt asks the
-- LLM again, everything else is answered from here. Only summaries that passed the checks are
-- stored. No foreign key to `papers`: a summary is about the text that was sent, and a paper
-- may be summarized before (or without) its ingestion.
CREATE TABLE llm_summaries (
    paper_id       TEXT    NOT NULL,                    -- version-less key: 2107.00641
    version        INTEGER NOT NULL CHECK (version >= 1),
    model          TEXT    NOT NULL,
    prompt_version INTEGER NOT NULL,
    text           TEXT    NOT NULL,
    created_at     TEXT    NOT NULL,
    PRIMARY KEY (paper_id, version, model, prompt_version)
) WITHOUT ROWID;

-- LLM calls counted per UTC day, for [summaries.llm] daily_budget. Incremented by one
-- conditional upsert, so concurrent callers cannot overrun the budget.
CREATE TABLE llm_calls (
    day   TEXT    PRIMARY KEY,                          -- YYYY-MM-DD (UTC)
    calls INTEGER NOT NULL CHECK (calls >= 0)
) WITHOUT ROWID;
