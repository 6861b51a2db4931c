-- A notice's text and HTML parts (about 1.3 and 3.2 KB) are compressed when the row is stored,
-- and decompressed when the mail worker claims it. lz4 does both in a fraction of pglz's time
-- (PostgreSQL's default); with it, pgbench ran the transition that queues a real notice, with
-- the notice's claim and "sent", 7-9% faster (BENCHMARKS.md, eleventh round). Only new values
-- are compressed with lz4; rows already stored keep pglz and read as before. A server built
-- without lz4 keeps pglz: nothing else depends on it.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_settings
               WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)) THEN
        ALTER TABLE notices
            ALTER COLUMN body_text SET COMPRESSION lz4,
            ALTER COLUMN body_html SET COMPRESSION lz4,
            ALTER COLUMN ics SET COMPRESSION lz4;
    END IF;
END
$$;
