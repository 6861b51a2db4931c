-- The mail worker looks notices up only while they are queued (`status = 'queued' AND
-- next_attempt_at <= $1 ORDER BY next_attempt_at, id`), so the index holds only those: it stays
-- as small as the outbox instead of growing with every notice ever sent, it is already in the
-- claim's order, and marking a notice sent enters nothing in it (PostgreSQL enters a new row
-- version only in the indexes whose predicate it meets).
DROP INDEX notices_due;
CREATE INDEX notices_due ON notices(next_attempt_at, id) WHERE status = 'queued';
