ALTER TABLE notices DROP COLUMN attachment;
ALTER TABLE notices DROP COLUMN attachment_name;
