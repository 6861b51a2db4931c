-- API keys (issue #38): an organisation's integration signs its requests with
-- `Authorization: Bearer ldr_…`. Only the key's sha256 is kept (`key_hash`), so a copy of the
-- database cannot be replayed. Each key acts through a service user of its own (`user_id`,
-- named "<organisation>'s integration '<name>'", no usable password): the history's actor is
-- that user, so every existing reference to users keeps working. Revoking sets `revoked_at`
-- and deactivates the service user; nothing is deleted.
CREATE TABLE api_keys (
    id TEXT PRIMARY KEY NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations(id),
    user_id TEXT NOT NULL REFERENCES users(id),
    name TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    created_by TEXT NOT NULL REFERENCES users(id),
    created_at TIMESTAMP NOT NULL,
    expires_on DATE,
    last_used_at TIMESTAMP,
    revoked_at TIMESTAMP
);

CREATE INDEX api_keys_organisation_id ON api_keys (organisation_id);
