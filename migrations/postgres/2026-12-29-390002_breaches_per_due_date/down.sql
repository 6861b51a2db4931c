-- Back to one breach of each rule: the first recorded of each is kept.
DELETE FROM breaches b USING breaches e
 WHERE b.dispute_id = e.dispute_id AND b.kind = e.kind
   AND (e.detected_on, e.due_on) < (b.detected_on, b.due_on);
ALTER TABLE breaches DROP CONSTRAINT breaches_pkey;
ALTER TABLE breaches ADD PRIMARY KEY (dispute_id, kind);
