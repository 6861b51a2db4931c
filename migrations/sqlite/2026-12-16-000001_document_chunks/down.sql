ALTER TABLE documents ADD COLUMN content BLOB NOT NULL DEFAULT x'';
UPDATE documents SET content = coalesce(
    (SELECT unhex(group_concat(hex(bytes), '' ORDER BY seq)) FROM document_chunks
     WHERE document_id = documents.id), x'');
DROP TABLE document_chunks;
