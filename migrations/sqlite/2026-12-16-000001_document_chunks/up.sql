-- Documents are stored in chunks of at most 256 KiB (issue #29): an upload is written chunk by
-- chunk and a download streams them, so no request holds a whole file in memory. Documents
-- stored before this version are split into chunks here (substr counts bytes in a BLOB), and
-- the whole-file column goes (DROP COLUMN: SQLite 3.35 or later; the bundled one is newer).
CREATE TABLE document_chunks (
    document_id TEXT NOT NULL REFERENCES documents(id),
    seq INTEGER NOT NULL,
    bytes BLOB NOT NULL,
    PRIMARY KEY (document_id, seq)
);

WITH RECURSIVE s(id, seq, len) AS (
    SELECT id, 0, length(CAST(content AS BLOB)) FROM documents WHERE length(CAST(content AS BLOB)) > 0
    UNION ALL
    SELECT id, seq + 1, len FROM s WHERE (seq + 1) * 262144 < len
)
INSERT INTO document_chunks (document_id, seq, bytes)
SELECT s.id, s.seq, substr(CAST(d.content AS BLOB), s.seq * 262144 + 1, 262144)
FROM s JOIN documents d ON d.id = s.id;

ALTER TABLE documents DROP COLUMN content;
