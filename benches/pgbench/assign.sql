-- transition.sql with a real notice, for pgbench (benches/load/ runs it right after each
-- `assign` phase, against the same copy of the database): the same lock, event, update and
-- commit, but the notice is one the service rendered (a `mediator_assigned` notice read from
-- the seeded database, passed in with -D: recipients, subject, body_text about 1.3 KB,
-- body_html about 3.2 KB), and it is delivered as the service's mail worker does it: client 0,
-- after each of its transactions, claims up to 20 due notices with a lease (the worker's
-- statement, which returns their bodies) and then marks them sent by id. So this is what
-- PostgreSQL itself can do of the work an `assign_mediator` asks of it, with nothing for
-- rendering, MIME or the file, which is the service's own work.
-- :ndisputes, :recipients, :subject, :body_text and :body_html are passed with -D.
\set n random(1, :ndisputes)
BEGIN;
SELECT d.* FROM disputes d
    WHERE d.id = (SELECT dispute_id FROM bench_ids WHERE n = :n) FOR UPDATE \gset
INSERT INTO events (dispute_id, seq, event_type, actor_id, at, data)
    VALUES (:id, :version + 1, 'assign_mediator', :created_by, now(),
        '{"mediator_id":"pgbench","mode":"mediation"}');
UPDATE disputes SET version = version + 1, updated_at = now() WHERE id = :id;
INSERT INTO notices (id, dispute_id, template, recipients, subject, body_text, body_html, status,
        attempts, queued_at, next_attempt_at)
    VALUES (gen_random_uuid()::text, :id, 'mediator_assigned', :recipients, :subject, :body_text,
        :body_html, 'queued', 0, now(), now());
COMMIT;
\if :client_id = 0
WITH c AS (UPDATE notices SET locked_until = now() + interval '120 seconds', locked_by = 'pgbench'
        WHERE id IN (SELECT id FROM notices WHERE status = 'queued' AND next_attempt_at <= now()
            AND (locked_until IS NULL OR locked_until < now())
            ORDER BY next_attempt_at, id LIMIT 20 FOR UPDATE SKIP LOCKED)
        RETURNING id, recipients, subject, body_text, body_html, ics, ics_method, attempts)
    SELECT coalesce(array_agg(id), '{}') AS claimed, sum(length(body_text) + length(body_html)) AS bytes
    FROM c \gset
UPDATE notices SET status = 'sent', sent_at = now(), attempts = attempts + 1, locked_until = NULL,
        last_error = NULL
    WHERE locked_by = 'pgbench' AND id = ANY (:claimed::text[]);
\endif
