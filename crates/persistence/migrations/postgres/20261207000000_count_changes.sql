-- The counts of migration list_counts without a row that every writer waits for.
--
-- Before: each article's insert upserted its tags' rows of tag_counts and its author's row of
-- author_counts, and held those rows' locks until it committed. Articles sharing a tag then
-- committed one at a time, and every update of a hot row left a version behind that the next
-- one had to step over: under 32 writers of the same two tags, the upsert took most of
-- POST /api/articles' database time (docs/performance.md).
--
-- Now the triggers only insert a change (+n or -n) into tag_count_changes or
-- author_count_changes: writers touch no shared row. counts_fold() adds the committed changes
-- into tag_counts and author_counts and deletes them, in one transaction, so that a reader
-- sees each change either in the totals or among the changes, never both and never neither.
-- Every reader adds the changes not yet folded (crates/persistence/src/list_query.rs,
-- articles.rs `tags_sql`): counts stay exact at every instant, on every instance. The instances
-- fold after their writes (crates/persistence/src/live.rs `settle`), so few changes wait.

-- GET /api/tags reads the top of this index, and orders ties by the tag's bytes, as SQLite does
-- and as the server sorts what it reads (articles.rs `most_used`).
DROP INDEX tag_counts_most_used;
CREATE INDEX tag_counts_most_used ON tag_counts (articles DESC, tag COLLATE "C");

CREATE TABLE tag_count_changes (
    tag   TEXT   NOT NULL,
    delta BIGINT NOT NULL
);

CREATE TABLE author_count_changes (
    author_id BIGINT NOT NULL,
    delta     BIGINT NOT NULL
);

CREATE OR REPLACE FUNCTION tag_counts_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO tag_count_changes (tag, delta) SELECT tag, COUNT(*) FROM added GROUP BY tag;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION tag_counts_remove() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO tag_count_changes (tag, delta) SELECT tag, -COUNT(*) FROM removed GROUP BY tag;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION author_counts_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO author_count_changes (author_id, delta)
    SELECT author_id, COUNT(*) FROM added GROUP BY author_id;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION author_counts_remove() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO author_count_changes (author_id, delta)
    SELECT author_id, -COUNT(*) FROM removed GROUP BY author_id;
    RETURN NULL;
END
$$;

-- Adds every committed change into the totals and deletes it; a total that reaches 0 is
-- deleted. One call at a time: 0x636e7473 is "cnts", a transaction-scoped advisory lock that
-- only this function takes, so that two instances never insert the same new total. A change
-- is only ever folded after the one that added what it removes (that one committed first), so
-- no total goes below 0. Every change is folded in one go: a bulk import of 100,000 tagged
-- articles folds in well under a second.
CREATE FUNCTION counts_fold() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(1668183155);
    WITH taken AS (
        DELETE FROM tag_count_changes RETURNING tag, delta
    ), sums AS (
        SELECT tag, SUM(delta) AS delta FROM taken GROUP BY tag
    ), updated AS (
        UPDATE tag_counts c SET articles = c.articles + s.delta
        FROM sums s WHERE c.tag = s.tag AND s.delta <> 0
        RETURNING c.tag
    )
    INSERT INTO tag_counts (tag, articles)
    SELECT tag, delta FROM sums
    WHERE delta > 0 AND NOT EXISTS (SELECT 1 FROM tag_counts t WHERE t.tag = sums.tag);
    DELETE FROM tag_counts WHERE articles = 0;

    WITH taken AS (
        DELETE FROM author_count_changes RETURNING author_id, delta
    ), sums AS (
        SELECT author_id, SUM(delta) AS delta FROM taken GROUP BY author_id
    ), updated AS (
        UPDATE author_counts c SET articles = c.articles + s.delta
        FROM sums s WHERE c.author_id = s.author_id AND s.delta <> 0
        RETURNING c.author_id
    )
    INSERT INTO author_counts (author_id, articles)
    SELECT author_id, delta FROM sums
    WHERE delta > 0 AND NOT EXISTS (SELECT 1 FROM author_counts a WHERE a.author_id = sums.author_id);
    DELETE FROM author_counts WHERE articles = 0;
END
$$;
