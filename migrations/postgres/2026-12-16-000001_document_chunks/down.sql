ALTER TABLE documents ADD COLUMN content BYTEA NOT NULL DEFAULT ''::bytea;
UPDATE documents SET content = c.whole
FROM (SELECT document_id, string_agg(bytes, ''::bytea ORDER BY seq) AS whole
      FROM document_chunks GROUP BY document_id) c
WHERE c.document_id = documents.id;
ALTER TABLE documents ALTER COLUMN content DROP DEFAULT;
DROP TABLE document_chunks;
