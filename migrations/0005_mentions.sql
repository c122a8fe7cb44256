-- hotpapers schema: mentions, the posts that shared a paper (migration 5).
--
-- Never edit this file once it has shipped (see 0001_init.sql); conventions are those of 0001:
-- timestamps are fixed-width RFC 3339 UTC text.
--
-- One row per (source, post, paper): a tweet that links two papers is a mention of each. Only
-- the latest observation is kept (counts grow, text can be edited); `observed_at` decides which
-- is latest, so a late sweep cannot roll counts back. No foreign key to `papers`: attention may
-- be seen before the paper is ingested. `engagement` (reposts + likes + points) is stored so
-- that the top mentions of a paper come from the index, not a sort of all of them.
CREATE TABLE mentions (
    paper_id      TEXT    NOT NULL,                    -- version-less key: 2107.00641
    source        TEXT    NOT NULL CHECK (source <> ''),
    post_id       TEXT    NOT NULL CHECK (post_id <> ''),
    author_handle TEXT,
    author_name   TEXT,
    text          TEXT    NOT NULL,
    url           TEXT    NOT NULL CHECK (url <> ''),
    posted_at     TEXT    NOT NULL,
    reposts       INTEGER NOT NULL CHECK (reposts >= 0),
    likes         INTEGER NOT NULL CHECK (likes >= 0),
    replies       INTEGER NOT NULL CHECK (replies >= 0),
    quotes        INTEGER NOT NULL CHECK (quotes >= 0),
    points        INTEGER NOT NULL CHECK (points >= 0),
    engagement    INTEGER NOT NULL CHECK (engagement >= 0),
    observed_at   TEXT    NOT NULL,
    PRIMARY KEY (paper_id, source, post_id)
) WITHOUT ROWID;

CREATE INDEX mentions_by_engagement ON mentions (paper_id, engagement DESC, posted_at);
