-- A notice may carry one file besides its calendar part: the FHSU's `fhsu_referral` notice
-- carries the referral pack (a ZIP of at most 10 MiB), stored with the notice when it is
-- queued, so that what was sent is what was recorded. Stored as it is: a ZIP is compressed.
ALTER TABLE notices ADD COLUMN attachment_name TEXT, ADD COLUMN attachment BYTEA;
ALTER TABLE notices ALTER COLUMN attachment SET STORAGE EXTERNAL;
