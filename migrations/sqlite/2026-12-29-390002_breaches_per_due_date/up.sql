-- A rule can be breached again on a new date (a hearing moved and again not held, a bundle late
-- for the moved hearing): each deadline of each rule is recorded once, not each rule once
-- (db::disputes::record_breach). SQLite cannot change a primary key: the table is rebuilt.
CREATE TABLE breaches_new (
    dispute_id TEXT NOT NULL REFERENCES disputes(id),
    kind TEXT NOT NULL,
    due_on DATE NOT NULL,
    detected_on DATE NOT NULL,
    overridden BOOLEAN NOT NULL,
    detail TEXT NOT NULL,
    PRIMARY KEY (dispute_id, kind, due_on)
);
INSERT INTO breaches_new (dispute_id, kind, due_on, detected_on, overridden, detail)
    SELECT dispute_id, kind, due_on, detected_on, overridden, detail FROM breaches;
DROP TABLE breaches;
ALTER TABLE breaches_new RENAME TO breaches;
