-- Live events without a global lock (crates/persistence/src/live.rs, `sequence`).
--
-- Before: every append took one advisory lock until its commit, and sent a NOTIFY, so that ids
-- grew in commit order. That made every article, comment, favourite and logout of the whole
-- cluster commit one at a time.
--
-- Now a writing transaction only inserts its event into live_events_pending: no lock, no
-- NOTIFY, so writers never wait for one another. live_events_sequence() moves the committed
-- pending events into live_events, which gives them their ids. One call runs at a time (a
-- transaction-scoped advisory lock, which only the sequencer takes) and commits its ids
-- together, and each call sees everything committed before it began: the ids of live_events
-- are committed in the order of the ids, and an event committed while one call runs gets its
-- id in the next call, above every id given so far. So a reader that has seen id N has seen
-- every id below N, and "the events after N" never skips one committed late. A call that moved
-- events sends one NOTIFY.

CREATE TABLE live_events_pending (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind       TEXT        NOT NULL CHECK (kind IN
                   ('article.created', 'comment.created', 'article.favorited', 'session.ended')),
    at         TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    actor_id   BIGINT,
    article_id BIGINT,
    comment_id BIGINT,
    session_id BIGINT
);

-- The move must never fail on a row's content, or one row would stop every event after it: the
-- kinds are checked where events are written, and readers skip a kind they do not know.
ALTER TABLE live_events DROP CONSTRAINT live_events_kind_check;

-- Each trigger inserts its event itself, with no call in between, and need no longer wait for
-- the commit: the append is an insert like the change's.
DROP FUNCTION live_event_append(TEXT, BIGINT, BIGINT, BIGINT, BIGINT);

CREATE OR REPLACE FUNCTION live_article_created() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO live_events_pending (kind, actor_id, article_id)
    VALUES ('article.created', NEW.author_id, NEW.id);
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION live_comment_created() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO live_events_pending (kind, actor_id, article_id, comment_id)
    VALUES ('comment.created', NEW.author_id, NEW.article_id, NEW.id);
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION live_article_favorited() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO live_events_pending (kind, actor_id, article_id)
    VALUES ('article.favorited', NEW.user_id, NEW.article_id);
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION live_session_ended() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL THEN
        INSERT INTO live_events_pending (kind, actor_id, session_id)
        VALUES ('session.ended', NEW.user_id, NEW.id);
    END IF;
    RETURN NULL;
END;
$$;

DROP TRIGGER live_article_created ON articles;
CREATE TRIGGER live_article_created AFTER INSERT ON articles
    FOR EACH ROW EXECUTE FUNCTION live_article_created();
DROP TRIGGER live_comment_created ON comments;
CREATE TRIGGER live_comment_created AFTER INSERT ON comments
    FOR EACH ROW EXECUTE FUNCTION live_comment_created();
DROP TRIGGER live_article_favorited ON favorites;
CREATE TRIGGER live_article_favorited AFTER INSERT ON favorites
    FOR EACH ROW EXECUTE FUNCTION live_article_favorited();
DROP TRIGGER live_session_ended ON sessions;
CREATE TRIGGER live_session_ended AFTER UPDATE OF revoked_at ON sessions
    FOR EACH ROW EXECUTE FUNCTION live_session_ended();

-- Moves the committed pending events into live_events, in the order they were appended, at most
-- `batch` of them, so that a backlog (a bulk import) is moved a bounded piece at a time, each
-- well within the statement timeout: how many it moved. Called in a transaction of its own.
CREATE FUNCTION live_events_sequence(batch BIGINT, OUT moved BIGINT)
LANGUAGE plpgsql AS $$
BEGIN
    -- 0x6c697665 is "live". Held until this call's transaction commits, so that the next
    -- call's ids come after these, and are committed after them. A call waits for the one
    -- before it rather than skipping it: the events committed after that one's snapshot are
    -- then this one's to move.
    PERFORM pg_advisory_xact_lock(1818850917);
    -- A statement of its own, so its snapshot sees what the previous holder committed.
    WITH ready AS (
        DELETE FROM live_events_pending
        WHERE id IN (SELECT id FROM live_events_pending ORDER BY id LIMIT batch)
        RETURNING *
    )
    INSERT INTO live_events (kind, at, actor_id, article_id, comment_id, session_id)
    SELECT kind, at, actor_id, article_id, comment_id, session_id FROM ready ORDER BY id;
    GET DIAGNOSTICS moved = ROW_COUNT;
    IF moved > 0 THEN
        PERFORM pg_notify('conduit_live', '');
    END IF;
END;
$$;
