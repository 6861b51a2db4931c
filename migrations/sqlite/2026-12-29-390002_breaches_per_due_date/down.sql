-- Back to one breach of each rule: the first recorded of each is kept.
CREATE TABLE breaches_old (
    dispute_id TEXT NOT NULL REFERENCES disputes(id),
    kind TEXT NOT NULL,
    due_on DATE NOT NULL,
    detected_on DATE NOT NULL,
    overridden BOOLEAN NOT NULL,
    detail TEXT NOT NULL,
    PRIMARY KEY (dispute_id, kind)
);
INSERT INTO breaches_old (dispute_id, kind, due_on, detected_on, overridden, detail)
    SELECT dispute_id, kind, due_on, detected_on, overridden, detail FROM breaches b
     WHERE NOT EXISTS (SELECT 1 FROM breaches e
                        WHERE e.dispute_id = b.dispute_id AND e.kind = b.kind
                          AND (e.detected_on < b.detected_on
                               OR (e.detected_on = b.detected_on AND e.due_on < b.due_on)));
DROP TABLE breaches;
ALTER TABLE breaches_old RENAME TO breaches;
