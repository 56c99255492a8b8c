-- The bad release (1.1.0-bad-expand): it renames "colour" and declares the step an expand,
-- but release 1.0.0 still inserts into "colour": every write of the old colour fails on this
-- schema. Only the old colour's smoke journeys, run again after the expand, catch it.
-- phase: expand
ALTER TABLE records RENAME COLUMN colour TO written_colour;
-- down
ALTER TABLE records RENAME COLUMN written_colour TO colour;
