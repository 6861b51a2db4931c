CREATE TABLE organisations (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('practice','commissioner','lmc','fhsu','service')),
    area TEXT NOT NULL,
    region TEXT NOT NULL,
    email TEXT NOT NULL,
    address TEXT NOT NULL,
    ods_code TEXT,
    commissioner_id TEXT REFERENCES organisations(id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX organisations_kind_area ON organisations(kind, area);

CREATE TABLE users (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations(id),
    roles TEXT NOT NULL,
    panel_roles TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX users_organisation ON users(organisation_id);

CREATE TABLE interests (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id),
    organisation_id TEXT NOT NULL REFERENCES organisations(id),
    nature TEXT NOT NULL,
    declared_on DATE NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX interests_user ON interests(user_id);

CREATE TABLE unavailability (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id),
    from_date DATE NOT NULL,
    to_date DATE NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX unavailability_user ON unavailability(user_id);

CREATE TABLE disputes (
    id TEXT PRIMARY KEY NOT NULL,
    title TEXT NOT NULL,
    category TEXT NOT NULL,
    appellant_id TEXT NOT NULL REFERENCES organisations(id),
    respondent_id TEXT NOT NULL REFERENCES organisations(id),
    summary TEXT NOT NULL,
    matter_arose_on DATE NOT NULL,
    contract_related BOOLEAN NOT NULL,
    inter_practice BOOLEAN NOT NULL,
    screening_org_id TEXT NOT NULL REFERENCES organisations(id),
    lmc_id TEXT REFERENCES organisations(id),
    state TEXT NOT NULL,
    version BIGINT NOT NULL,
    mediator_id TEXT REFERENCES users(id),
    mediator_mode TEXT,
    lodged_on DATE,
    lmc_consulted_on DATE,
    clinical_member_id TEXT REFERENCES users(id),
    gp_conciliator_id TEXT REFERENCES users(id),
    lmc_representative_id TEXT REFERENCES users(id),
    secretary_id TEXT REFERENCES users(id),
    chair_id TEXT REFERENCES users(id),
    hearing_date DATE,
    hearing_time TEXT,
    hearing_venue TEXT,
    hearing_sequence INTEGER NOT NULL,
    notice_sent_on DATE,
    bundle_distributed_on DATE,
    held_on DATE,
    decided_on DATE,
    decision_notified_on DATE,
    referred_on DATE,
    hearing_by DATE,
    notice_by DATE,
    bundle_by DATE,
    decision_by DATE,
    fhsu_by DATE,
    next_sweep_on DATE,
    detail TEXT NOT NULL,
    created_by TEXT NOT NULL REFERENCES users(id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX disputes_appellant ON disputes(appellant_id, created_at);
CREATE INDEX disputes_respondent ON disputes(respondent_id, created_at);
CREATE INDEX disputes_screening ON disputes(screening_org_id);
CREATE INDEX disputes_state ON disputes(state, created_at);
CREATE INDEX disputes_mediator ON disputes(mediator_id, created_at);
CREATE INDEX disputes_secretary ON disputes(secretary_id);
CREATE INDEX disputes_clinical ON disputes(clinical_member_id);
CREATE INDEX disputes_gp ON disputes(gp_conciliator_id);
CREATE INDEX disputes_lmcrep ON disputes(lmc_representative_id);
CREATE INDEX disputes_lodged ON disputes(lodged_on);
CREATE INDEX disputes_next_sweep ON disputes(next_sweep_on);

CREATE TABLE idempotency_keys (
    user_id TEXT NOT NULL REFERENCES users(id),
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    dispute_id TEXT NOT NULL REFERENCES disputes(id),
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, key)
);

CREATE TABLE events (
    dispute_id TEXT NOT NULL REFERENCES disputes(id),
    seq BIGINT NOT NULL,
    event_type TEXT NOT NULL,
    actor_id TEXT NOT NULL REFERENCES users(id),
    at TIMESTAMP NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (dispute_id, seq)
);

CREATE TABLE breaches (
    dispute_id TEXT NOT NULL REFERENCES disputes(id),
    kind TEXT NOT NULL,
    due_on DATE NOT NULL,
    detected_on DATE NOT NULL,
    overridden BOOLEAN NOT NULL,
    detail TEXT NOT NULL,
    PRIMARY KEY (dispute_id, kind)
);

CREATE TABLE reminders (
    dispute_id TEXT NOT NULL REFERENCES disputes(id),
    kind TEXT NOT NULL,
    due_on DATE NOT NULL,
    sent_at TIMESTAMP NOT NULL,
    PRIMARY KEY (dispute_id, kind, due_on)
);

CREATE TABLE documents (
    id TEXT PRIMARY KEY NOT NULL,
    dispute_id TEXT NOT NULL REFERENCES disputes(id),
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    content BYTEA NOT NULL,
    uploaded_by TEXT NOT NULL REFERENCES users(id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX documents_dispute ON documents(dispute_id);

CREATE TABLE notices (
    id TEXT PRIMARY KEY NOT NULL,
    dispute_id TEXT REFERENCES disputes(id),
    template TEXT NOT NULL,
    recipients TEXT NOT NULL,
    subject TEXT NOT NULL,
    body_text TEXT NOT NULL,
    body_html TEXT NOT NULL,
    ics TEXT,
    ics_method TEXT,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    queued_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP,
    next_attempt_at TIMESTAMP NOT NULL,
    locked_until TIMESTAMP,
    locked_by TEXT,
    last_error TEXT
);
CREATE INDEX notices_dispute ON notices(dispute_id, queued_at);
CREATE INDEX notices_due ON notices(status, next_attempt_at);

-- The event history is append-only in fact: the database itself refuses to change or delete it.
CREATE FUNCTION events_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the event history is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER events_no_update_delete BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_append_only();
