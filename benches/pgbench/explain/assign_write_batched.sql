-- assign_mediator's own SQL (assign_write.sql) with the writes of eight transitions combined
-- into one statement, as a service that gathered concurrent requests' writes and sent them
-- together would do. Fourteenth round, BENCHMARKS.md. Each transition's read stays its own
-- round trip (the wide read of assign_write.sql, kept with \gset r<i>_); then one statement
-- updates the eight disputes whose version has not moved (the input sorted by id), and inserts an
-- event and the real mediator_assigned notice (copied from notice_sample) for each one it
-- updated. No BEGIN/COMMIT, as the service. One pgbench transaction is eight transitions.
-- Run on the copy a LOAD_KEEP=1 load run leaves (the `_pgb` database, with bench_ids), after
-- CREATE TABLE notice_sample AS SELECT template, recipients, subject, body_text, body_html
--     FROM notices WHERE template = 'mediator_assigned' LIMIT 1;
-- PGSSLMODE=disable pgbench -n -M prepared -c 16 -j 2 -T 8 --max-tries=20 -D ndisputes=N
--     -D m1=<a mediator's id> -D m2=<another's> -f assign_write_batched.sql <database>
\set n1 random(1, :ndisputes)
\set n2 random(1, :ndisputes)
\set n3 random(1, :ndisputes)
\set n4 random(1, :ndisputes)
\set n5 random(1, :ndisputes)
\set n6 random(1, :ndisputes)
\set n7 random(1, :ndisputes)
\set n8 random(1, :ndisputes)
SELECT d.* FROM disputes d WHERE d.id = (SELECT dispute_id FROM bench_ids WHERE n = :n1) \gset r1_
SELECT d.* FROM disputes d WHERE d.id = (SELECT dispute_id FROM bench_ids WHERE n = :n2) \gset r2_
SELECT d.* FROM disputes d WHERE d.id = (SELECT dispute_id FROM bench_ids WHERE n = :n3) \gset r3_
SELECT d.* FROM disputes d WHERE d.id = (SELECT dispute_id FROM bench_ids WHERE n = :n4) \gset r4_
SELECT d.* FROM disputes d WHERE d.id = (SELECT dispute_id FROM bench_ids WHERE n = :n5) \gset r5_
SELECT d.* FROM disputes d WHERE d.id = (SELECT dispute_id FROM bench_ids WHERE n = :n6) \gset r6_
SELECT d.* FROM disputes d WHERE d.id = (SELECT dispute_id FROM bench_ids WHERE n = :n7) \gset r7_
SELECT d.* FROM disputes d WHERE d.id = (SELECT dispute_id FROM bench_ids WHERE n = :n8) \gset r8_
WITH i AS (SELECT * FROM (VALUES (:r1_id::text, :r1_version::bigint), (:r2_id::text, :r2_version::bigint), (:r3_id::text, :r3_version::bigint), (:r4_id::text, :r4_version::bigint), (:r5_id::text, :r5_version::bigint), (:r6_id::text, :r6_version::bigint), (:r7_id::text, :r7_version::bigint), (:r8_id::text, :r8_version::bigint)) v(id, version) ORDER BY id), u AS (UPDATE disputes d SET mediator_id = CASE WHEN d.mediator_id = :m1 THEN :m2 ELSE :m1 END, mediator_mode = 'mediation', version = d.version + 1, updated_at = now() FROM i WHERE d.id = i.id AND d.version = i.version RETURNING d.id, d.version), e AS (INSERT INTO events (dispute_id, seq, event_type, actor_id, at, data) SELECT u.id, u.version, 'assign_mediator', :m2, now(), '{"mode":"mediation","mediator_id":"m1"}' FROM u), n0 AS (INSERT INTO notices (id, dispute_id, template, recipients, subject, body_text, body_html, status, attempts, queued_at, next_attempt_at) SELECT gen_random_uuid()::text, u.id, s.template, s.recipients, s.subject, s.body_text, s.body_html, 'queued', 0, now(), now() FROM u, notice_sample s) SELECT (SELECT count(*) FROM u);
