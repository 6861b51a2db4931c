-- transition.sql with a real notice: the rendered subject, text and HTML of a mediator_assigned
-- notice (about 4.5 KB), copied from a one-row table notice_sample (see BENCHMARKS.md, third round).
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
