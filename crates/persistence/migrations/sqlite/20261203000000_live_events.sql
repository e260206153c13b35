-- Live updates: the outbox; see the PostgreSQL migration of the same name. SQLite has one writer
-- at a time, so ids grow in commit order by themselves. AUTOINCREMENT: an id is never reused,
-- even once its row is pruned.

CREATE TABLE live_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    kind       TEXT    NOT NULL CHECK (kind IN
                   ('article.created', 'comment.created', 'article.favorited', 'session.ended')),
    at         TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    actor_id   INTEGER,
    article_id INTEGER,
    comment_id INTEGER,
    session_id INTEGER
) STRICT;

CREATE TABLE live_events_pruned (
    only_row INTEGER PRIMARY KEY DEFAULT 1 CHECK (only_row = 1),
    through  INTEGER NOT NULL
) STRICT;
INSERT INTO live_events_pruned (through) VALUES (0);

CREATE TRIGGER live_article_created AFTER INSERT ON articles
BEGIN
    INSERT INTO live_events (kind, actor_id, article_id)
    VALUES ('article.created', NEW.author_id, NEW.id);
END;

CREATE TRIGGER live_comment_created AFTER INSERT ON comments
BEGIN
    INSERT INTO live_events (kind, actor_id, article_id, comment_id)
    VALUES ('comment.created', NEW.author_id, NEW.article_id, NEW.id);
END;

CREATE TRIGGER live_article_favorited AFTER INSERT ON favorites
BEGIN
    INSERT INTO live_events (kind, actor_id, article_id)
    VALUES ('article.favorited', NEW.user_id, NEW.article_id);
END;

CREATE TRIGGER live_session_ended AFTER UPDATE OF revoked_at ON sessions
WHEN OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL
BEGIN
    INSERT INTO live_events (kind, actor_id, session_id)
    VALUES ('session.ended', NEW.user_id, NEW.id);
END;
