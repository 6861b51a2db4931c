-- An organisation that closed (an ODS practice of status `C`, a commissioner with a close date)
-- stays in the directory, with its disputes and history, marked inactive: `ldr
-- import-organisations` never deletes one. Every organisation so far is active.
ALTER TABLE organisations ADD COLUMN active BOOLEAN NOT NULL DEFAULT TRUE;
