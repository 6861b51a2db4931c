-- Webhooks (issue #35): endpoints an organisation registers, the outbox of deliveries written
-- in the transaction of the event they announce, and every attempt at one.
--
-- `secret` and `previous_secret` are sealed with ChaCha20-Poly1305 under a key derived from
-- LDR_WEBHOOK_KEY (or the JWT secret), so a copy of the database alone does not reveal them.
-- After a rotation the previous secret signs alongside until `previous_secret_until`.
CREATE TABLE webhooks (
    id TEXT PRIMARY KEY NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations(id),
    url TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    secret TEXT NOT NULL,
    previous_secret TEXT,
    previous_secret_until TIMESTAMP,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    failing_since TIMESTAMP,
    disabled_at TIMESTAMP,
    disabled_reason TEXT,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE INDEX webhooks_organisation ON webhooks (organisation_id);

-- One row per (event, endpoint). `seq` orders an endpoint's deliveries; `id` is the
-- `webhook-id` header, the same on every retry. `payload` is the exact body sent.
CREATE TABLE webhook_deliveries (
    seq BIGSERIAL PRIMARY KEY NOT NULL,
    id TEXT NOT NULL UNIQUE,
    webhook_id TEXT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    dispute_id TEXT NOT NULL,
    event_seq BIGINT NOT NULL,
    event_type TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    locked_until TIMESTAMP,
    locked_by TEXT,
    created_at TIMESTAMP NOT NULL,
    delivered_at TIMESTAMP,
    last_error TEXT
);

-- The worker's claim: due pending rows, and the earlier pending row of the same endpoint.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at, seq) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (webhook_id, seq) WHERE status = 'pending';

CREATE TABLE webhook_attempts (
    delivery_id TEXT NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
    attempt INTEGER NOT NULL,
    webhook_id TEXT NOT NULL,
    at TIMESTAMP NOT NULL,
    status_code INTEGER,
    error TEXT,
    response TEXT NOT NULL DEFAULT '',
    duration_ms INTEGER NOT NULL,
    PRIMARY KEY (delivery_id, attempt)
);

CREATE INDEX webhook_attempts_recent ON webhook_attempts (webhook_id, at);
