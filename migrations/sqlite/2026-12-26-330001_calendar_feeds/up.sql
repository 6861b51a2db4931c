-- Personal calendar feeds (issue #33): a panelist's or panel secretary's hearings as an
-- iCalendar feed at /calendar/{token}.ics, which Outlook and Google Calendar subscribe to. The
-- token is shown once; only its sha256 is kept (`token_hash`), so a copy of the database gives
-- no working address. Revoking sets `revoked_at` (the address then answers 404); a person has
-- at most one feed that is not revoked (creating a new one revokes the old one).
CREATE TABLE calendar_feeds (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id),
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    revoked_at TIMESTAMP
);

CREATE INDEX calendar_feeds_user_id ON calendar_feeds (user_id);
