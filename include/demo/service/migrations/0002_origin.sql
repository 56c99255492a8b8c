-- Release 1.1.0: "origin" (release/colour of the writer) replaces "release". Expand: the new
-- column is nullable and "release" stops being required, so 1.0.0, which writes colour and
-- release only, keeps working beside 1.1.0 on this schema.
-- phase: expand
ALTER TABLE records ADD COLUMN IF NOT EXISTS origin TEXT;
ALTER TABLE records ALTER COLUMN release DROP NOT NULL;
-- down
ALTER TABLE records ALTER COLUMN release SET NOT NULL;
ALTER TABLE records DROP COLUMN IF EXISTS origin;
