-- assign_write.sql without the mediator's change: the dispute's update is HOT.
-- Seventh round, BENCHMARKS.md. Two round trips, no BEGIN/COMMIT, as the service. Run on the copy a
-- LOAD_KEEP=1 load run leaves (with bench_ids), after CREATE TABLE notice_sample AS one real
-- mediator_assigned row of notices: pgbench -n -M prepared -c 16 -j 2 -T 8 -D ndisputes=N
-- -D m1=<a mediator's id> -D m2=<another's> (m2 is also the actor).
\set n random(1, :ndisputes)
SELECT d.* FROM disputes d WHERE d.id = (SELECT dispute_id FROM bench_ids WHERE n = :n) \gset
WITH u AS (UPDATE disputes SET  mediator_mode = 'mediation', version = version + 1, updated_at = now() WHERE id = :id AND version = :version RETURNING id), e AS (INSERT INTO events (dispute_id, seq, event_type, actor_id, at, data) SELECT :id, :version + 1, 'assign_mediator', :m2, now(), '{"mode":"mediation","mediator_id":"m1"}' FROM u), n0 AS (INSERT INTO notices (id, dispute_id, template, recipients, subject, body_text, body_html, status, attempts, queued_at, next_attempt_at) SELECT gen_random_uuid()::text, :id, s.template, s.recipients, s.subject, s.body_text, s.body_html, 'queued', 0, now(), now() FROM u, notice_sample s) SELECT (SELECT count(*) FROM u);
