ALTER TABLE notices
    ALTER COLUMN body_text SET COMPRESSION default,
    ALTER COLUMN body_html SET COMPRESSION default,
    ALTER COLUMN ics SET COMPRESSION default;
