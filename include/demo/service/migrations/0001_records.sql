-- The records table as release 1.0.0 writes it. Expand: a new table breaks no running code.
-- phase: expand
CREATE TABLE IF NOT EXISTS records (
    id BIGSERIAL PRIMARY KEY,
    key TEXT UNIQUE NOT NULL,
    body TEXT NOT NULL,
    colour TEXT NOT NULL,
    release TEXT NOT NULL,
    created DOUBLE PRECISION NOT NULL
);
-- down
DROP TABLE IF EXISTS records;
