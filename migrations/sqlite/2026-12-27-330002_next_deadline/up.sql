-- The first deadline still to be met of each dispute (issue #33): the deadlines page sorts and
-- counts by it in the database instead of reading every open case. Every write of a dispute
-- sets it (db::disputes::DisputeRow::of); the rows stored before this column are filled once,
-- in Rust, by db::backfill_next_deadlines at start-up, which deletes the marker below when done
-- (the rule of which deadline is still pending lives in one place: domain::dispute).
ALTER TABLE disputes ADD COLUMN next_deadline_on DATE;

-- Work a migration leaves to the service's first start, one row a job.
CREATE TABLE backfills (name TEXT PRIMARY KEY NOT NULL);
INSERT INTO backfills (name) VALUES ('next_deadline_on');
