-- A notice may carry one file besides its calendar part (see migrations/postgres).
ALTER TABLE notices ADD COLUMN attachment_name TEXT;
ALTER TABLE notices ADD COLUMN attachment BLOB;
