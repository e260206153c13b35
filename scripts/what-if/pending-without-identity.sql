-- A pending-event queue without its identity column and primary key: the sequencer takes the
-- rows by their physical address, as counts_fold(batch) takes the count changes. A measurement
-- only, never a schema to run: within a batch the events are then ordered by their `at`.
--
--   python3 scripts/bench.py --stores postgres --duration 10 --skip-large --skip-memory \
--       --endpoints POST --sql scripts/what-if/pending-without-identity.sql
--
-- docs/performance.md, "The floor of an article's write", has the figures: no gain.
ALTER TABLE live_events_pending DROP CONSTRAINT live_events_pending_pkey;
ALTER TABLE live_events_pending ALTER COLUMN id DROP IDENTITY;
ALTER TABLE live_events_pending DROP COLUMN id;
CREATE OR REPLACE FUNCTION live_events_sequence(batch BIGINT, OUT moved BIGINT)
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(1818850917);
    WITH ready AS (
        DELETE FROM live_events_pending
        WHERE ctid = ANY (ARRAY(SELECT ctid FROM live_events_pending LIMIT batch))
        RETURNING *
    )
    INSERT INTO live_events (kind, at, actor_id, article_id, comment_id, session_id)
    SELECT kind, at, actor_id, article_id, comment_id, session_id FROM ready ORDER BY at;
    GET DIAGNOSTICS moved = ROW_COUNT;
    IF moved > 0 THEN
        PERFORM pg_notify('conduit_live', '');
    END IF;
END;
$$;
