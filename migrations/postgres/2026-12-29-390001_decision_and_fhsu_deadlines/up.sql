-- The written decision's deadline (rule 6: sent within 7 days of the hearing) is met when the
-- decision is sent (notify_decision), not when the votes are recorded: a dispute in `decided`
-- still has it to meet (domain::dispute::DeadlineFacts). Its stored next deadline is worked out
-- again, in Rust, at the next start (db::disputes::backfill_next_deadlines).
INSERT INTO backfills (name) VALUES ('next_deadline_on') ON CONFLICT DO NOTHING;

-- A contract dispute screened out may still go to the FHSU, and its parties are now reminded
-- of the time limit as after a decision (domain::notices::schedule): the sweep visits those
-- stored before, which had nothing to sweep, and works out their next day itself.
UPDATE disputes SET next_sweep_on = CURRENT_DATE
 WHERE state = 'rejected' AND next_sweep_on IS NULL AND fhsu_by IS NOT NULL;
