-- Documents are stored in chunks of at most 256 KiB (issue #29): an upload is written chunk by
-- chunk and a download streams them, so no request holds a whole file in memory. Documents
-- stored before this version are split into chunks here, and the whole-file column goes.
CREATE TABLE document_chunks (
    document_id TEXT NOT NULL REFERENCES documents(id),
    seq INTEGER NOT NULL,
    bytes BYTEA NOT NULL,
    PRIMARY KEY (document_id, seq)
);

INSERT INTO document_chunks (document_id, seq, bytes)
SELECT d.id, s.seq, substring(d.content FROM s.seq * 262144 + 1 FOR 262144)
FROM documents d
CROSS JOIN LATERAL generate_series(0, (length(d.content) - 1) / 262144) AS s(seq)
WHERE length(d.content) > 0;

ALTER TABLE documents DROP COLUMN content;
