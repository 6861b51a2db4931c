-- real_notice.sql, then what the mail worker did before the third round for each notice: claim
-- one (its own transaction, FOR UPDATE SKIP LOCKED) and mark it sent (another). Every pgbench
-- client claims, where the service has one worker: it overstates the contention on the queue's
-- head, not the statements' own cost. See BENCHMARKS.md.
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
WITH c AS (UPDATE notices SET locked_until = now() + interval '2 minutes', locked_by = 'w' WHERE id IN (SELECT id FROM notices WHERE status = 'queued' AND next_attempt_at <= now() AND (locked_until IS NULL OR locked_until < now()) ORDER BY next_attempt_at, id LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING id, recipients, subject, body_text, body_html, ics, ics_method, attempts) SELECT coalesce(max(id), '') AS nid, max(length(body_html)) AS len FROM c \gset
COMMIT;
UPDATE notices SET status = 'sent', sent_at = now(), attempts = 1, locked_until = NULL, last_error = NULL WHERE id = :nid AND locked_by = 'w';
