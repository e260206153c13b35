-- Counts that lists and GET /api/tags read instead of counting rows, kept by triggers in the
-- transaction that changes the rows they count, so every instance sees the same exact answer:
--
-- - `tag_counts`: how many articles carry each tag. GET /api/tags reads the top of an index
--   instead of grouping every tag row, and a list filtered by one tag reads its count.
-- - `author_counts`: how many articles each user has written. The feed's total is the sum over
--   the followed authors, and the unfiltered total the sum over all authors: their cost follows
--   the number of authors, not of articles.
--
-- The triggers run once per statement, over its transition table: a bulk insert updates each
-- count once, not once per row (which would also chain one row version per update). A count's
-- row is locked from the change to the commit; the counts are upserted in key order, so two
-- writers sharing tags take those locks in one order and cannot deadlock.

CREATE TABLE tag_counts (
    tag      TEXT   PRIMARY KEY,
    articles BIGINT NOT NULL CHECK (articles >= 0)
);
CREATE INDEX tag_counts_most_used ON tag_counts (articles DESC, tag);

CREATE TABLE author_counts (
    author_id BIGINT PRIMARY KEY,
    articles  BIGINT NOT NULL CHECK (articles >= 0)
);

INSERT INTO tag_counts (tag, articles) SELECT tag, COUNT(*) FROM article_tags GROUP BY tag;
INSERT INTO author_counts (author_id, articles)
SELECT author_id, COUNT(*) FROM articles GROUP BY author_id;

CREATE FUNCTION tag_counts_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO tag_counts AS c (tag, articles)
    SELECT tag, COUNT(*) FROM added GROUP BY tag ORDER BY tag
    ON CONFLICT (tag) DO UPDATE SET articles = c.articles + EXCLUDED.articles;
    RETURN NULL;
END
$$;

CREATE FUNCTION tag_counts_remove() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    WITH removed_counts AS (
        SELECT tag, COUNT(*) AS articles FROM removed GROUP BY tag ORDER BY tag
    )
    UPDATE tag_counts c SET articles = c.articles - r.articles
    FROM removed_counts r WHERE c.tag = r.tag;
    DELETE FROM tag_counts WHERE articles = 0 AND tag IN (SELECT tag FROM removed);
    RETURN NULL;
END
$$;

CREATE FUNCTION author_counts_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO author_counts AS c (author_id, articles)
    SELECT author_id, COUNT(*) FROM added GROUP BY author_id ORDER BY author_id
    ON CONFLICT (author_id) DO UPDATE SET articles = c.articles + EXCLUDED.articles;
    RETURN NULL;
END
$$;

CREATE FUNCTION author_counts_remove() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    WITH removed_counts AS (
        SELECT author_id, COUNT(*) AS articles FROM removed GROUP BY author_id
    )
    UPDATE author_counts c SET articles = c.articles - r.articles
    FROM removed_counts r WHERE c.author_id = r.author_id;
    DELETE FROM author_counts
    WHERE articles = 0 AND author_id IN (SELECT author_id FROM removed);
    RETURN NULL;
END
$$;

CREATE TRIGGER article_tags_counted_in AFTER INSERT ON article_tags
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION tag_counts_add();
CREATE TRIGGER article_tags_counted_out AFTER DELETE ON article_tags
    REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION tag_counts_remove();
CREATE TRIGGER articles_counted_in AFTER INSERT ON articles
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION author_counts_add();
CREATE TRIGGER articles_counted_out AFTER DELETE ON articles
    REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION author_counts_remove();
