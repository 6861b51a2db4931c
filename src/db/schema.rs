//! Table definitions shared by both backends. Written by hand: both migration folders
//! must produce exactly these tables and columns (checked by `tests/migrations.rs`).
//! Ids are UUID strings, timestamps UTC without zone, dates `YYYY-MM-DD`.

diesel::table! {
    organisations (id) {
        id -> Text,
        name -> Text,
        kind -> Text,
        area -> Text,
        region -> Text,
        email -> Text,
        address -> Text,
        ods_code -> Nullable<Text>,
        commissioner_id -> Nullable<Text>,
        created_at -> Timestamp,
        /// False once closed (e.g. an ODS practice of status `C`); never deleted.
        active -> Bool,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        name -> Text,
        email -> Text,
        password_hash -> Text,
        organisation_id -> Text,
        roles -> Text,
        panel_roles -> Text,
        active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    interests (id) {
        id -> Text,
        user_id -> Text,
        organisation_id -> Text,
        nature -> Text,
        declared_on -> Date,
        created_at -> Timestamp,
    }
}

diesel::table! {
    unavailability (id) {
        id -> Text,
        user_id -> Text,
        from_date -> Date,
        to_date -> Date,
        created_at -> Timestamp,
    }
}

diesel::table! {
    disputes (id) {
        id -> Text,
        title -> Text,
        category -> Text,
        appellant_id -> Text,
        respondent_id -> Text,
        summary -> Text,
        matter_arose_on -> Date,
        contract_related -> Bool,
        inter_practice -> Bool,
        screening_org_id -> Text,
        lmc_id -> Nullable<Text>,
        state -> Text,
        version -> BigInt,
        mediator_id -> Nullable<Text>,
        mediator_mode -> Nullable<Text>,
        lodged_on -> Nullable<Date>,
        lmc_consulted_on -> Nullable<Date>,
        clinical_member_id -> Nullable<Text>,
        gp_conciliator_id -> Nullable<Text>,
        lmc_representative_id -> Nullable<Text>,
        secretary_id -> Nullable<Text>,
        chair_id -> Nullable<Text>,
        hearing_date -> Nullable<Date>,
        hearing_time -> Nullable<Text>,
        hearing_venue -> Nullable<Text>,
        hearing_sequence -> Integer,
        notice_sent_on -> Nullable<Date>,
        bundle_distributed_on -> Nullable<Date>,
        held_on -> Nullable<Date>,
        decided_on -> Nullable<Date>,
        decision_notified_on -> Nullable<Date>,
        referred_on -> Nullable<Date>,
        hearing_by -> Nullable<Date>,
        notice_by -> Nullable<Date>,
        bundle_by -> Nullable<Date>,
        decision_by -> Nullable<Date>,
        fhsu_by -> Nullable<Date>,
        next_sweep_on -> Nullable<Date>,
        next_deadline_on -> Nullable<Date>,
        detail -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    idempotency_keys (user_id, key) {
        user_id -> Text,
        key -> Text,
        request_hash -> Text,
        dispute_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    events (dispute_id, seq) {
        dispute_id -> Text,
        seq -> BigInt,
        event_type -> Text,
        actor_id -> Text,
        at -> Timestamp,
        data -> Text,
    }
}

diesel::table! {
    breaches (dispute_id, kind, due_on) {
        dispute_id -> Text,
        kind -> Text,
        due_on -> Date,
        detected_on -> Date,
        overridden -> Bool,
        detail -> Text,
    }
}

diesel::table! {
    reminders (dispute_id, kind, due_on) {
        dispute_id -> Text,
        kind -> Text,
        due_on -> Date,
        sent_at -> Timestamp,
    }
}

diesel::table! {
    documents (id) {
        id -> Text,
        dispute_id -> Text,
        name -> Text,
        kind -> Text,
        content_type -> Text,
        size -> BigInt,
        sha256 -> Text,
        uploaded_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    /// A document's bytes, in chunks of at most 256 KiB numbered from 0.
    document_chunks (document_id, seq) {
        document_id -> Text,
        seq -> Integer,
        bytes -> Binary,
    }
}

diesel::table! {
    notices (id) {
        id -> Text,
        dispute_id -> Nullable<Text>,
        template -> Text,
        recipients -> Text,
        subject -> Text,
        body_text -> Text,
        body_html -> Text,
        ics -> Nullable<Text>,
        ics_method -> Nullable<Text>,
        status -> Text,
        attempts -> Integer,
        queued_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
        next_attempt_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
        locked_by -> Nullable<Text>,
        last_error -> Nullable<Text>,
        sent_to -> Nullable<Text>,
        attachment_name -> Nullable<Text>,
        attachment -> Nullable<Binary>,
    }
}

diesel::table! {
    sessions (id_hash) {
        id_hash -> Text,
        user_id -> Text,
        csrf_token -> Text,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
    }
}

diesel::table! {
    /// An organisation's webhook endpoint (issue #35). `secret`, `previous_secret`: sealed.
    webhooks (id) {
        id -> Text,
        organisation_id -> Text,
        url -> Text,
        description -> Text,
        secret -> Text,
        previous_secret -> Nullable<Text>,
        previous_secret_until -> Nullable<Timestamp>,
        active -> Bool,
        failing_since -> Nullable<Timestamp>,
        disabled_at -> Nullable<Timestamp>,
        disabled_reason -> Nullable<Text>,
        created_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    /// One event for one endpoint: the webhook outbox.
    webhook_deliveries (seq) {
        seq -> BigInt,
        id -> Text,
        webhook_id -> Text,
        dispute_id -> Text,
        event_seq -> BigInt,
        event_type -> Text,
        payload -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
        locked_by -> Nullable<Text>,
        created_at -> Timestamp,
        delivered_at -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
    }
}

diesel::table! {
    /// Every attempt at a delivery: the answer's status and its first 1 KiB.
    webhook_attempts (delivery_id, attempt) {
        delivery_id -> Text,
        attempt -> Integer,
        webhook_id -> Text,
        at -> Timestamp,
        status_code -> Nullable<Integer>,
        error -> Nullable<Text>,
        response -> Text,
        duration_ms -> Integer,
    }
}

diesel::joinable!(sessions -> users (user_id));

diesel::table! {
    /// An organisation's integration key (issue #38): only its sha256 is kept.
    api_keys (id) {
        id -> Text,
        organisation_id -> Text,
        user_id -> Text,
        name -> Text,
        key_hash -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        expires_on -> Nullable<Date>,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// Who read which dispute, when, from where (issue #38).
    access_log (id) {
        id -> Text,
        at -> Timestamp,
        user_id -> Text,
        dispute_id -> Text,
        kind -> Text,
        document_id -> Nullable<Text>,
        client_address -> Nullable<Text>,
    }
}

diesel::table! {
    /// A person's identity at the OpenID provider, linked to one user (issue #38).
    oidc_identities (issuer, subject) {
        issuer -> Text,
        subject -> Text,
        user_id -> Text,
        linked_at -> Timestamp,
    }
}

diesel::table! {
    /// An OpenID Connect sign-in under way: its `state`'s sha256, nonce and PKCE verifier.
    oidc_logins (state_hash) {
        state_hash -> Text,
        browser_hash -> Text,
        nonce -> Text,
        pkce_verifier -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(oidc_identities -> users (user_id));

diesel::table! {
    /// A person's calendar feed of their hearings (issue #33): only the token's sha256 is kept.
    calendar_feeds (id) {
        id -> Text,
        user_id -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    backfills (name) {
        name -> Text,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    organisations,
    users,
    interests,
    unavailability,
    disputes,
    idempotency_keys,
    events,
    breaches,
    reminders,
    documents,
    document_chunks,
    notices,
    sessions,
    webhooks,
    webhook_deliveries,
    webhook_attempts,
    api_keys,
    access_log,
    oidc_identities,
    oidc_logins,
    calendar_feeds,
);
