-- The tables of changes not yet folded into the counts, as the PostgreSQL migration of the same
-- name has them, so that one SQL text reads the counts on both. SQLite has one writer at a
-- time, so its triggers keep adding into tag_counts and author_counts, and these stay empty.

CREATE TABLE tag_count_changes (
    tag   TEXT    NOT NULL,
    delta INTEGER NOT NULL
) STRICT;

CREATE TABLE author_count_changes (
    author_id INTEGER NOT NULL,
    delta     INTEGER NOT NULL
) STRICT;
