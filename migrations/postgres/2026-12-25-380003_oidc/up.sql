-- OpenID Connect sign-in (issue #38).
--
-- `oidc_identities`: a person's identity at the provider (`issuer`, `sub`) linked to one user.
-- The link is made the first time the person signs in with a verified e-mail claim that is an
-- active user's e-mail; from then on `sub` alone finds the user, whatever the e-mail becomes.
-- Roles stay with the service's users: the provider only says who someone is.
CREATE TABLE oidc_identities (
    issuer TEXT NOT NULL,
    subject TEXT NOT NULL,
    user_id TEXT NOT NULL UNIQUE REFERENCES users(id),
    linked_at TIMESTAMP NOT NULL,
    PRIMARY KEY (issuer, subject)
);

-- A sign-in under way: one row per `state` sent to the provider (only its sha256 kept), with
-- the nonce and PKCE verifier that go with it and the sha256 of the random value in the
-- browser's own cookie. The callback deletes the row it uses, so a `state` works once; rows
-- older than ten minutes are refused and deleted.
CREATE TABLE oidc_logins (
    state_hash TEXT PRIMARY KEY NOT NULL,
    browser_hash TEXT NOT NULL,
    nonce TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE INDEX oidc_logins_created_at ON oidc_logins (created_at);
