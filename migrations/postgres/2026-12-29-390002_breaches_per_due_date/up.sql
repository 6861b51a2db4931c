-- A rule can be breached again on a new date (a hearing moved and again not held, a bundle late
-- for the moved hearing): each deadline of each rule is recorded once, not each rule once
-- (db::disputes::record_breach).
ALTER TABLE breaches DROP CONSTRAINT breaches_pkey;
ALTER TABLE breaches ADD PRIMARY KEY (dispute_id, kind, due_on);
