ALTER TABLE notices DROP COLUMN attachment, DROP COLUMN attachment_name;
