-- The minimal SQL of one dispute transition, for pgbench (benches/load/ runs it against a
-- copy of the database the service was load-tested on): lock the dispute row, append the
-- event, update the dispute (version, timestamps), queue a notice, commit.
-- `bench_ids(n, dispute_id)` maps 1..:ndisputes to the seeded disputes (the load tool creates it
-- in the copy only). The id is looked up once, by the locking read of the whole row, whose
-- columns \gset keeps in variables (the service has the id from the request's path).
-- :ndisputes is passed with -D.
\set n random(1, :ndisputes)
BEGIN;
SELECT d.* FROM disputes d
    WHERE d.id = (SELECT dispute_id FROM bench_ids WHERE n = :n) FOR UPDATE \gset
INSERT INTO events (dispute_id, seq, event_type, actor_id, at, data)
    VALUES (:id, :version + 1, 'add_note', :created_by, now(), '{"text":"Load test note"}');
UPDATE disputes SET version = version + 1, updated_at = now() WHERE id = :id;
INSERT INTO notices (id, dispute_id, template, recipients, subject, body_text, body_html, status,
        attempts, queued_at, next_attempt_at)
    VALUES (gen_random_uuid()::text, :id, 'note_added',
        '["practice@elm.nhs.test","mediator@ldr.test"]', 'A note was added to your dispute',
        'A note was added to your dispute. Sign in to read it.',
        '<p>A note was added to your dispute. Sign in to read it.</p>', 'queued', 0, now(), now());
COMMIT;
