-- counts_fold() of migration count_changes, without its two costs that grow with the tables.
--
-- Before: each fold ended with `DELETE FROM tag_counts WHERE articles = 0` and the same for
-- author_counts. No index serves that predicate, so every fold read both tables whole: 70 ms
-- a fold at a million authors, once a second on every instance and after each write. And a
-- fold waited for its advisory lock while another instance folded.
--
-- Now one MERGE a table adds the summed changes and deletes, among the rows it changes, those
-- that reach 0: a fold touches only the keys that changed. An instance that finds the lock held
-- returns at once: the holder folds, and whatever it does not take the next fold will
-- (crates/persistence/src/live.rs `fold`). Readers add the changes not yet folded, so neither
-- way changes an answer.
CREATE OR REPLACE FUNCTION counts_fold() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF NOT pg_try_advisory_xact_lock(1668183155) THEN
        RETURN;
    END IF;

    WITH taken AS (
        DELETE FROM tag_count_changes RETURNING tag, delta
    )
    MERGE INTO tag_counts c
    USING (SELECT tag, SUM(delta) AS delta FROM taken GROUP BY tag HAVING SUM(delta) <> 0) s
    ON c.tag = s.tag
    WHEN MATCHED AND c.articles + s.delta <= 0 THEN DELETE
    WHEN MATCHED THEN UPDATE SET articles = c.articles + s.delta
    WHEN NOT MATCHED AND s.delta > 0 THEN INSERT (tag, articles) VALUES (s.tag, s.delta);

    WITH taken AS (
        DELETE FROM author_count_changes RETURNING author_id, delta
    )
    MERGE INTO author_counts c
    USING (
        SELECT author_id, SUM(delta) AS delta FROM taken GROUP BY author_id HAVING SUM(delta) <> 0
    ) s
    ON c.author_id = s.author_id
    WHEN MATCHED AND c.articles + s.delta <= 0 THEN DELETE
    WHEN MATCHED THEN UPDATE SET articles = c.articles + s.delta
    WHEN NOT MATCHED AND s.delta > 0 THEN INSERT (author_id, articles) VALUES (s.author_id, s.delta);
END
$$;
