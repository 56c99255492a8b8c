-- Release 1.2.0: nothing writes or reads "release" any more (1.1.0 wrote origin too).
-- Contract: 1.1.0 still writes "release", so this runs only once 1.1.0 is retired, after the
-- handover; no down step: the values are gone, a rollback onto 1.1.0 is no longer possible.
-- phase: contract
-- completes: 0002
ALTER TABLE records DROP COLUMN IF EXISTS release;
