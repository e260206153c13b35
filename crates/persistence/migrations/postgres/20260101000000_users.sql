-- Users. Uniqueness is decided on the canonical (lower-case) username, computed by the domain so
-- that every store folds case the same way, and on the e-mail, which the domain keeps in lower case.
CREATE TABLE users (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username      TEXT        NOT NULL,
    username_key  TEXT        NOT NULL CONSTRAINT users_username_key UNIQUE,
    email         TEXT        NOT NULL CONSTRAINT users_email_key UNIQUE,
    bio           TEXT,
    image         TEXT,
    password_hash TEXT        NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);
