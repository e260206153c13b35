-- counts_fold() of migration count_fold_merge, a bounded piece at a time.
--
-- Before: one fold took every change there was, in one statement. A backlog that took longer
-- than the statement timeout to fold (a bulk import, a restore, a fold blocked for minutes
-- under load) was cancelled on every instance, every time, and never shrank: 2,000,000 changes
-- took 26 s to fold against a 10 s timeout, and each instance spent those 10 s of database work
-- again every 10 s.
--
-- Now counts_fold(batch) takes at most `batch` changes of each table, whichever they are, and
-- says how many it took of the table it took more of; the instances call it again while it
-- takes a whole batch (crates/persistence/src/live.rs `fold`). A batch may take a change that
-- removes an article before the one that added it, so a total may be below 0 until the other
-- is folded: the totals lose their CHECK (articles >= 0), a total is deleted when it reaches 0
-- exactly, and a key first met with a negative sum gets a row. A total plus the changes not yet
-- folded is the count, as before; readers already add the two and list only tags above 0.
--
-- NULL: another instance holds the lock and is folding.
ALTER TABLE tag_counts DROP CONSTRAINT tag_counts_articles_check;
ALTER TABLE author_counts DROP CONSTRAINT author_counts_articles_check;

CREATE FUNCTION counts_fold(batch BIGINT) RETURNS BIGINT LANGUAGE plpgsql AS $$
DECLARE
    tags_taken    BIGINT;
    authors_taken BIGINT;
    tags          TEXT[];
    authors       BIGINT[];
    deltas        BIGINT[];
BEGIN
    IF NOT pg_try_advisory_xact_lock(1668183155) THEN
        RETURN NULL;
    END IF;

    -- The changes by their physical address (a TID scan): a batch reads `batch` rows, not the
    -- whole table. Only this function deletes changes, under the lock.
    WITH taken AS (
        DELETE FROM tag_count_changes
        WHERE ctid = ANY (ARRAY(SELECT ctid FROM tag_count_changes LIMIT batch))
        RETURNING tag, delta
    ), sums AS (
        SELECT tag, SUM(delta)::BIGINT AS delta, COUNT(*) AS changes FROM taken GROUP BY tag
    )
    SELECT COALESCE(SUM(changes), 0), array_agg(tag) FILTER (WHERE delta <> 0),
        array_agg(delta) FILTER (WHERE delta <> 0)
    INTO tags_taken, tags, deltas FROM sums;
    MERGE INTO tag_counts c
    USING unnest(tags, deltas) AS s (tag, delta)
    ON c.tag = s.tag
    WHEN MATCHED AND c.articles + s.delta = 0 THEN DELETE
    WHEN MATCHED THEN UPDATE SET articles = c.articles + s.delta
    WHEN NOT MATCHED THEN INSERT (tag, articles) VALUES (s.tag, s.delta);

    WITH taken AS (
        DELETE FROM author_count_changes
        WHERE ctid = ANY (ARRAY(SELECT ctid FROM author_count_changes LIMIT batch))
        RETURNING author_id, delta
    ), sums AS (
        SELECT author_id, SUM(delta)::BIGINT AS delta, COUNT(*) AS changes
        FROM taken GROUP BY author_id
    )
    SELECT COALESCE(SUM(changes), 0), array_agg(author_id) FILTER (WHERE delta <> 0),
        array_agg(delta) FILTER (WHERE delta <> 0)
    INTO authors_taken, authors, deltas FROM sums;
    MERGE INTO author_counts c
    USING unnest(authors, deltas) AS s (author_id, delta)
    ON c.author_id = s.author_id
    WHEN MATCHED AND c.articles + s.delta = 0 THEN DELETE
    WHEN MATCHED THEN UPDATE SET articles = c.articles + s.delta
    WHEN NOT MATCHED THEN INSERT (author_id, articles) VALUES (s.author_id, s.delta);

    RETURN GREATEST(tags_taken, authors_taken);
END
$$;

-- What every build before this one calls: one batch, as large as a fold stays well within any
-- statement timeout (about 50 ms here).
CREATE OR REPLACE FUNCTION counts_fold() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM counts_fold(10000);
END
$$;
