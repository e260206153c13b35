-- Live updates: the outbox (crates/domain/src/live.rs). Triggers append an event in the same
-- transaction as the article, comment, favourite or session revocation that causes it, so there
-- is never an event without its change nor a change without its event, whoever writes.
--
-- Ids grow in commit order. Each append takes one transaction-scoped advisory lock and is
-- deferred to the commit, so the lock is held only while the transaction commits: of two
-- writers, the one that takes the next id commits first. A reader that has seen id N has
-- therefore seen every id below N, and "the events after N" never skips one committed late.
--
-- After the append, NOTIFY conduit_live carries the id to every instance that LISTENs; the
-- notification is sent when (and only if) the transaction commits.
--
-- No foreign keys: an event outlives a deleted article (it is then skipped when read) so that
-- ids never move backwards; pruning removes events after LIVE_RETENTION.

CREATE TABLE live_events (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind       TEXT        NOT NULL CHECK (kind IN
                   ('article.created', 'comment.created', 'article.favorited', 'session.ended')),
    at         TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    actor_id   BIGINT,
    article_id BIGINT,
    comment_id BIGINT,
    session_id BIGINT
);

-- The newest id pruning removed: a client resuming from an older one is told to reload.
CREATE TABLE live_events_pruned (
    only_row BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (only_row),
    through  BIGINT  NOT NULL
);
INSERT INTO live_events_pruned (through) VALUES (0);

CREATE FUNCTION live_event_append(
    event_kind TEXT, actor BIGINT, article BIGINT, comment BIGINT, session BIGINT
) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    appended BIGINT;
BEGIN
    -- 0x6c697665 is "live": the one lock every appender takes until its commit.
    PERFORM pg_advisory_xact_lock(1818850917);
    INSERT INTO live_events (kind, actor_id, article_id, comment_id, session_id)
    VALUES (event_kind, actor, article, comment, session)
    RETURNING id INTO appended;
    PERFORM pg_notify('conduit_live', appended::text);
END;
$$;

CREATE FUNCTION live_article_created() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM live_event_append('article.created', NEW.author_id, NEW.id, NULL, NULL);
    RETURN NULL;
END;
$$;
CREATE CONSTRAINT TRIGGER live_article_created AFTER INSERT ON articles
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION live_article_created();

CREATE FUNCTION live_comment_created() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM live_event_append('comment.created', NEW.author_id, NEW.article_id, NEW.id, NULL);
    RETURN NULL;
END;
$$;
CREATE CONSTRAINT TRIGGER live_comment_created AFTER INSERT ON comments
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION live_comment_created();

-- A favourite that was already there inserts no row (ON CONFLICT DO NOTHING): no event.
CREATE FUNCTION live_article_favorited() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM live_event_append('article.favorited', NEW.user_id, NEW.article_id, NULL, NULL);
    RETURN NULL;
END;
$$;
CREATE CONSTRAINT TRIGGER live_article_favorited AFTER INSERT ON favorites
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION live_article_favorited();

CREATE FUNCTION live_session_ended() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL THEN
        PERFORM live_event_append('session.ended', NEW.user_id, NULL, NULL, NEW.id);
    END IF;
    RETURN NULL;
END;
$$;
CREATE CONSTRAINT TRIGGER live_session_ended AFTER UPDATE OF revoked_at ON sessions
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION live_session_ended();
