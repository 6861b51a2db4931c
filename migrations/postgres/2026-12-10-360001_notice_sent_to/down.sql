ALTER TABLE notices DROP COLUMN sent_to;
