-- The delivery worker's claim finds each endpoint's earliest pending delivery through
-- webhook_deliveries_pending (db::webhooks::DELIVERIES), then reads those rows by their key:
-- no query reads pending deliveries in the order of their next attempt any more, and an
-- index no query uses costs every delivery queued.
DROP INDEX webhook_deliveries_due;
