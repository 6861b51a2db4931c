-- ODS codes are unique, as `POST /organisations`, `PATCH /organisations/{id}` and `ldr
-- import-organisations` already check before they write; the index holds it when two of them
-- run at once, and finds an organisation by its code for the pages' organisation fields. An
-- empty code is no code. (If two organisations already share a code, this fails naming it:
-- correct one of them, then start again.)
CREATE UNIQUE INDEX organisations_ods_code ON organisations(ods_code)
    WHERE ods_code IS NOT NULL AND ods_code <> '';
