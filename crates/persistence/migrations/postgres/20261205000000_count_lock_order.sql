-- The count triggers of migration list_counts take their rows' locks in one order on every path,
-- so that an article written and another deleted at once, sharing tags, cannot deadlock: adding
-- already upserts in key order; removing now locks the rows in key order before it updates them.

CREATE OR REPLACE FUNCTION tag_counts_remove() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM tag_counts WHERE tag IN (SELECT tag FROM removed) ORDER BY tag FOR UPDATE;
    WITH removed_counts AS (
        SELECT tag, COUNT(*) AS articles FROM removed GROUP BY tag
    )
    UPDATE tag_counts c SET articles = c.articles - r.articles
    FROM removed_counts r WHERE c.tag = r.tag;
    DELETE FROM tag_counts WHERE articles = 0 AND tag IN (SELECT tag FROM removed);
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION author_counts_remove() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM author_counts WHERE author_id IN (SELECT author_id FROM removed)
    ORDER BY author_id FOR UPDATE;
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
