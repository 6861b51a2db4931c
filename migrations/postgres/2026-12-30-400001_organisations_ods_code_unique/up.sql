-- ODS codes are unique, as `POST /organisations`, `PATCH /organisations/{id}` and `ldr
-- import-organisations` already check before they write; the index holds it when two of them
-- run at once, and finds an organisation by its code for the pages' organisation fields. Codes
-- are kept in capitals, as ODS writes them (the import always did; the API now does too), so
-- that `b82001` and `B82001` are one code. An empty code is no code. (If two organisations
-- already share a code, this fails naming it: correct one of them, then start again.)
UPDATE organisations SET ods_code = upper(trim(ods_code))
    WHERE ods_code IS NOT NULL AND ods_code <> upper(trim(ods_code));
CREATE UNIQUE INDEX organisations_ods_code ON organisations(ods_code)
    WHERE ods_code IS NOT NULL AND ods_code <> '';
