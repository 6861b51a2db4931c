DROP TABLE backfills;
ALTER TABLE disputes DROP COLUMN next_deadline_on;
