-- The indexes on columns that most disputes leave empty hold only the rows that have a value:
-- the people a dispute names (mediator, secretary, panel) and the dates that come with stage 2.
-- Every query that uses them asks for a value (`= $1`, `<= $1`, a range), which implies
-- `IS NOT NULL`, so both PostgreSQL and SQLite still use them. A row whose columns are empty is
-- not entered in them at all: a filing writes 6 index entries fewer, and so does an update that
-- cannot be HOT (assigning the mediator changes an indexed column, so PostgreSQL writes an
-- entry in every index whose predicate the new row meets).
DROP INDEX disputes_mediator;
DROP INDEX disputes_secretary;
DROP INDEX disputes_clinical;
DROP INDEX disputes_gp;
DROP INDEX disputes_lmcrep;
DROP INDEX disputes_lodged;
DROP INDEX disputes_next_sweep;
CREATE INDEX disputes_mediator ON disputes(mediator_id, created_at) WHERE mediator_id IS NOT NULL;
CREATE INDEX disputes_secretary ON disputes(secretary_id) WHERE secretary_id IS NOT NULL;
CREATE INDEX disputes_clinical ON disputes(clinical_member_id) WHERE clinical_member_id IS NOT NULL;
CREATE INDEX disputes_gp ON disputes(gp_conciliator_id) WHERE gp_conciliator_id IS NOT NULL;
CREATE INDEX disputes_lmcrep ON disputes(lmc_representative_id) WHERE lmc_representative_id IS NOT NULL;
CREATE INDEX disputes_lodged ON disputes(lodged_on) WHERE lodged_on IS NOT NULL;
CREATE INDEX disputes_next_sweep ON disputes(next_sweep_on) WHERE next_sweep_on IS NOT NULL;
