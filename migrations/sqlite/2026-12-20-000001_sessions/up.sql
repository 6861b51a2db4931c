-- Web page sessions (issue #32): a browser holds a random id in a cookie; only its sha256 is
-- kept here, so a copy of the database cannot be replayed as anyone's session. `csrf_token` is
-- the synchronizer token every form of the session carries. A session ends at sign-out, after
-- `last_seen_at` is idle too long or `created_at` too old (checked on each request), and when
-- its user is deactivated.
CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id),
    csrf_token TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL
);

CREATE INDEX sessions_user_id ON sessions (user_id);
