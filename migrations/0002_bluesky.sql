-- hotpapers schema, version 2: Bluesky posts that link arXiv and the interactions with them.
--
-- Written by the Jetstream listener (and by the search backfill), read by the `bluesky` source
-- before a digest. Only posts that link an arXiv paper are kept, and only interactions whose
-- subject is such a post, so the tables grow with arXiv attention, not with the firehose.
-- Conventions as in 0001_init.sql (RFC 3339 UTC text with nine fractional digits).

-- One row per post that links at least one arXiv paper.
CREATE TABLE bluesky_posts (
    uri        TEXT PRIMARY KEY NOT NULL,                 -- at://{did}/app.bsky.feed.post/{rkey}
    author_did TEXT NOT NULL,
    created_at TEXT NOT NULL                              -- the record's createdAt (see the Rust side)
) WITHOUT ROWID;

-- Window sweeps ("posts created since ...") and retention pruning.
CREATE INDEX bluesky_posts_by_created ON bluesky_posts (created_at);

-- The papers a post links (version-less keys). No foreign key to `papers`: a post may link a
-- paper before (or without) its metadata being ingested.
CREATE TABLE bluesky_post_papers (
    post_uri TEXT NOT NULL REFERENCES bluesky_posts (uri) ON DELETE CASCADE,
    paper_id TEXT NOT NULL,
    PRIMARY KEY (post_uri, paper_id)
) WITHOUT ROWID;

-- `lookup` of one paper.
CREATE INDEX bluesky_post_papers_by_paper ON bluesky_post_papers (paper_id, post_uri);

-- Likes, reposts, quotes and replies of stored posts, keyed on the record that made them
-- (did + collection + rkey), so a replayed event changes nothing and a delete event removes
-- exactly what its create added. One record can play two roles (a post that quotes one stored
-- post and replies to another), hence `kind` in the key.
CREATE TABLE bluesky_interactions (
    did         TEXT NOT NULL,
    collection  TEXT NOT NULL,                            -- app.bsky.feed.like | .repost | .post
    rkey        TEXT NOT NULL,
    kind        TEXT NOT NULL,                            -- like | repost | quote | reply
    subject_uri TEXT NOT NULL REFERENCES bluesky_posts (uri) ON DELETE CASCADE,
    PRIMARY KEY (did, collection, rkey, kind)
) WITHOUT ROWID;

-- Counting per post.
CREATE INDEX bluesky_interactions_by_subject ON bluesky_interactions (subject_uri, kind);
