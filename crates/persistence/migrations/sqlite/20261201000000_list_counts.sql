-- Counts that lists and GET /api/tags read instead of counting rows, kept by triggers; see the
-- PostgreSQL migration of the same name. Foreign-key cascades fire these triggers too.

CREATE TABLE tag_counts (
    tag      TEXT    PRIMARY KEY,
    articles INTEGER NOT NULL CHECK (articles >= 0)
) STRICT;
CREATE INDEX tag_counts_most_used ON tag_counts (articles DESC, tag);

INSERT INTO tag_counts (tag, articles) SELECT tag, COUNT(*) FROM article_tags GROUP BY tag;

CREATE TRIGGER article_tags_counted_in AFTER INSERT ON article_tags
BEGIN
    INSERT INTO tag_counts (tag, articles) VALUES (NEW.tag, 1)
    ON CONFLICT (tag) DO UPDATE SET articles = articles + 1;
END;

CREATE TRIGGER article_tags_counted_out AFTER DELETE ON article_tags
BEGIN
    UPDATE tag_counts SET articles = articles - 1 WHERE tag = OLD.tag;
    DELETE FROM tag_counts WHERE tag = OLD.tag AND articles = 0;
END;

CREATE TABLE author_counts (
    author_id INTEGER PRIMARY KEY,
    articles  INTEGER NOT NULL CHECK (articles >= 0)
) STRICT;

INSERT INTO author_counts (author_id, articles)
SELECT author_id, COUNT(*) FROM articles GROUP BY author_id;

CREATE TRIGGER articles_counted_in AFTER INSERT ON articles
BEGIN
    INSERT INTO author_counts (author_id, articles) VALUES (NEW.author_id, 1)
    ON CONFLICT (author_id) DO UPDATE SET articles = articles + 1;
END;

CREATE TRIGGER articles_counted_out AFTER DELETE ON articles
BEGIN
    UPDATE author_counts SET articles = articles - 1 WHERE author_id = OLD.author_id;
    DELETE FROM author_counts WHERE author_id = OLD.author_id AND articles = 0;
END;
