-- deliver_each.sql with the worker's two transactions committed asynchronously
-- (SET LOCAL synchronous_commit = off): does the WAL flush, or the CPU, make delivery dear? See BENCHMARKS.md.
\set n random(1, :ndisputes)
BEGIN;
SELECT d.* FROM disputes d
    WHERE d.id = (SELECT dispute_id FROM bench_ids WHERE n = :n) FOR UPDATE \gset
INSERT INTO events (dispute_id, seq, event_type, actor_id, at, data)
    VALUES (:id, :version + 1, 'add_note', :created_by, now(), '{"text":"Load test note"}');
UPDATE disputes SET version = version + 1, updated_at = now() WHERE id = :id;
INSERT INTO notices (id, dispute_id, template, recipients, subject, body_text, body_html, status,
        attempts, queued_at, next_attempt_at)
    SELECT gen_random_uuid()::text, :id, template, recipients, subject, body_text, body_html, 'queued', 0, now(), now() FROM notice_sample;
COMMIT;
BEGIN;
SET LOCAL synchronous_commit = off;
WITH c AS (UPDATE notices SET locked_until = now() + interval '2 minutes', locked_by = 'w' WHERE id IN (SELECT id FROM notices WHERE status = 'queued' AND next_attempt_at <= now() AND (locked_until IS NULL OR locked_until < now()) ORDER BY next_attempt_at, id LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING id, recipients, subject, body_text, body_html, ics, ics_method, attempts) SELECT coalesce(max(id), '') AS nid, max(length(body_html)) AS len FROM c \gset
COMMIT;
BEGIN;
SET LOCAL synchronous_commit = off;
UPDATE notices SET status = 'sent', sent_at = now(), attempts = 1, locked_until = NULL, last_error = NULL WHERE id = :nid AND locked_by = 'w';
COMMIT;

