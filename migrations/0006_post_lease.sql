-- hotpapers schema: an exclusive, expiring claim on a post (migration 6).
--
-- Never edit this file once it has shipped (see 0001_init.sql).
--
-- Two processes posting the same (target, mailing) at once (the `run` scheduler and a cron
-- `post`, or two bots on one store) must not both send it. A delivery first takes the row's
-- lease in one conditional upsert; it holds it while it sends and renews it as it goes, and
-- clears it when the post is sent or fails. A holder that dies leaves a lease that expires,
-- after which the next delivery resumes the post.
ALTER TABLE post_log ADD COLUMN lease_owner TEXT;            -- NULL: nobody is posting it
ALTER TABLE post_log ADD COLUMN lease_until INTEGER;         -- Unix milliseconds, UTC
ALTER TABLE post_log ADD COLUMN claims INTEGER NOT NULL DEFAULT 0; -- claims taken so far
