-- The access log (issue #38): every read of a dispute, its documents, notices and history, by
-- whom (a user id: a person, or an API key's service user), of what (`kind`: dispute, events,
-- documents, document, notices, case_page), when and from where (the client address as the
-- throttles compute it). Written in batches by a background task; pruned after
-- LDR_ACCESS_LOG_DAYS. No foreign keys: an entry is a record of what happened, written without
-- waiting on anything else.
CREATE TABLE access_log (
    id TEXT PRIMARY KEY NOT NULL,
    at TIMESTAMP NOT NULL,
    user_id TEXT NOT NULL,
    dispute_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    document_id TEXT,
    client_address TEXT
);

CREATE INDEX access_log_dispute_at ON access_log (dispute_id, at);
CREATE INDEX access_log_user_at ON access_log (user_id, at);
CREATE INDEX access_log_at ON access_log (at);
