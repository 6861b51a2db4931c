-- The mail worker since the third round, run by one pgbench client beside real_notice.sql:
-- claim a batch of up to 20 and mark the batch sent in one statement. See BENCHMARKS.md.
WITH c AS (UPDATE notices SET locked_until = now() + interval '2 minutes', locked_by = 'w' WHERE id IN (SELECT id FROM notices WHERE status = 'queued' AND next_attempt_at <= now() AND (locked_until IS NULL OR locked_until < now()) ORDER BY next_attempt_at, id LIMIT 20 FOR UPDATE SKIP LOCKED) RETURNING id, recipients, subject, body_text, body_html, ics, ics_method, attempts) SELECT coalesce(array_agg(id), '{}') AS ids FROM c \gset
UPDATE notices SET status = 'sent', sent_at = now(), attempts = attempts + 1, locked_until = NULL, last_error = NULL WHERE locked_by = 'w' AND id = ANY(CAST(:ids AS text[]));
