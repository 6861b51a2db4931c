//! API keys (issue #38): an organisation's integration files and acts with a key of its own,
//! shown once and stored as a hash; revoked or expired keys are refused at once; another
//! organisation neither sees nor revokes it; the history names the integration.

mod common;

use common::world::*;
use common::{Db, TestApp};
use serde_json::{json, Value};

both_dbs!(
    a_practice_key_files_and_the_history_names_the_integration,
    a_key_cannot_act_as_a_mediator_or_make_keys,
    revoked_and_expired_keys_are_refused_at_once,
    the_database_holds_the_hash_not_the_key,
    another_organisation_cannot_see_or_revoke_a_key,
    bad_requests_are_refused_with_reasons,
);

fn app(db: Db) -> Option<(TestApp, World)> {
    let app = TestApp::spawn_with(db, &[("LDR_TODAY", "2026-03-02")])?;
    let w = World::new(&app);
    Some((app, w))
}

/// Creates a key for the practice user's organisation (Elm Practice); (key, its record).
fn practice_key(app: &TestApp, w: &World, name: &str) -> (String, Value) {
    let r = app
        .post(
            "/api/v1/api-keys",
            Some(w.t(PRACTICE)),
            &json!({"name": name}),
        )
        .expect(201);
    let key = r["key"].as_str().unwrap().to_string();
    (key, r["api_key"].clone())
}

fn file_with(app: &TestApp, w: &World, token: &str) -> common::Resp {
    app.post(
        "/api/v1/disputes",
        Some(token),
        &json!({"title": "Prescribing budget 2025/26", "category": "prescribing",
                "appellant_id": w.elm, "respondent_id": w.north_ccg,
                "summary": "The CCG reduced our prescribing budget without consultation.",
                "matter_arose_on": "2025-06-01", "contract_related": false}),
    )
}

fn a_practice_key_files_and_the_history_names_the_integration(db: Db) {
    let Some((app, w)) = app(db) else { return };
    let (key, rec) = practice_key(&app, &w, "EMIS connector");
    assert!(key.starts_with("ldr_") && key.len() == 4 + 64, "{key}");
    assert_eq!(
        rec["acts_as"],
        "Elm Practice's integration 'EMIS connector'"
    );
    assert_eq!(rec["last_used_at"], Value::Null);
    let filed = file_with(&app, &w, &key).expect(201);
    let id = filed["id"].as_str().unwrap();
    // The key reads what its organisation may read.
    app.get(&format!("/api/v1/disputes/{id}"), Some(&key))
        .expect(200);
    let events = app
        .get(&format!("/api/v1/disputes/{id}/events"), Some(&key))
        .expect(200);
    let first = &events.as_array().unwrap()[0];
    assert_eq!(first["actor_id"], rec["user_id"], "{first}");
    assert_eq!(
        first["actor_name"], "Elm Practice's integration 'EMIS connector'",
        "{first}"
    );
    // People see the same name.
    let seen = app
        .get(
            &format!("/api/v1/disputes/{id}/events"),
            Some(w.t(COMMISSIONER)),
        )
        .expect(200);
    assert_eq!(
        seen[0]["actor_name"],
        "Elm Practice's integration 'EMIS connector'"
    );
    // Its last use is shown, never the key.
    let list = app.get("/api/v1/api-keys", Some(w.t(PRACTICE))).expect(200);
    let listed = &list.as_array().unwrap()[0];
    assert_eq!(listed["name"], "EMIS connector");
    assert!(listed["last_used_at"].is_string(), "{listed}");
    assert!(!list.to_string().contains(&key[4..]), "{list}");
    // The key's own password sign-in does not exist.
    let email = format!("api-key-{}@api-keys.invalid", rec["id"].as_str().unwrap());
    app.post(
        "/api/v1/auth/login",
        None,
        &json!({"email": email, "password": "!api-key"}),
    )
    .expect_problem(401, "unauthorized");
}

fn a_key_cannot_act_as_a_mediator_or_make_keys(db: Db) {
    let Some((app, w)) = app(db) else { return };
    let (key, rec) = practice_key(&app, &w, "EMIS connector");
    let id = file_with(&app, &w, &key).expect(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let p = app
        .post(
            &format!("/api/v1/disputes/{id}/events"),
            Some(&key),
            &json!({"type": "assign_mediator", "mediator_id": w.id(MEDIATOR), "mode": "mediation"}),
        )
        .expect(403);
    assert_eq!(p["status"], 403, "{p}");
    // Admin-only directory work is refused too.
    app.post(
        "/api/v1/organisations",
        Some(&key),
        &json!({"name": "X", "kind": "fhsu", "area": "X", "region": "X",
                "email": "x@x.test", "address": "X"}),
    )
    .expect(403);
    // A key does not mint keys.
    app.post("/api/v1/api-keys", Some(&key), &json!({"name": "Another"}))
        .expect(403);
    // Nor can an admin turn its service user into anything else.
    app.patch(
        &format!("/api/v1/users/{}", rec["user_id"].as_str().unwrap()),
        Some(&w.admin),
        &json!({"roles": ["panelist"]}),
    )
    .expect_problem(422, "api_key_user");
    app.post(
        &format!("/api/v1/disputes/{id}/events"),
        Some(&key),
        &json!({"type": "assign_mediator", "mediator_id": w.id(MEDIATOR), "mode": "mediation"}),
    )
    .expect(403);
    // An LMC cannot have keys (its people mediate).
    let p = app
        .post(
            "/api/v1/api-keys",
            Some(w.t(MEDIATOR)),
            &json!({"name": "LMC tool"}),
        )
        .expect_problem(422, "validation_failed");
    assert_eq!(p["errors"][0]["field"], "organisation_id", "{p}");
}

fn revoked_and_expired_keys_are_refused_at_once(db: Db) {
    let Some((app, w)) = app(db) else { return };
    let (key, rec) = practice_key(&app, &w, "EMIS connector");
    app.get("/api/v1/me", Some(&key)).expect(200);
    let revoked = app
        .send(
            "DELETE",
            &format!("/api/v1/api-keys/{}", rec["id"].as_str().unwrap()),
            Some(w.t(PRACTICE)),
            &json!({}),
        )
        .expect(200);
    assert!(revoked["revoked_at"].is_string(), "{revoked}");
    let p = app
        .get("/api/v1/me", Some(&key))
        .expect_problem(401, "unauthorized");
    assert!(p["detail"].as_str().unwrap().contains("revoked"), "{p}");
    file_with(&app, &w, &key).expect_problem(401, "unauthorized");

    // Valid through its last day, refused the day after.
    let r = app
        .post(
            "/api/v1/api-keys",
            Some(w.t(PRACTICE)),
            &json!({"name": "Nightly export", "expires_on": "2026-03-02"}),
        )
        .expect(201);
    let key2 = r["key"].as_str().unwrap().to_string();
    app.get("/api/v1/me", Some(&key2)).expect(200);
    {
        use diesel::prelude::*;
        use ldr::db::schema::api_keys;
        let mut c = app.state.pool.get().unwrap();
        diesel::update(api_keys::table.find(r["api_key"]["id"].as_str().unwrap()))
            .set(api_keys::expires_on.eq(chrono::NaiveDate::from_ymd_opt(2026, 3, 1)))
            .execute(&mut **c)
            .unwrap();
    }
    let p = app
        .get("/api/v1/me", Some(&key2))
        .expect_problem(401, "unauthorized");
    assert!(p["detail"].as_str().unwrap().contains("expired"), "{p}");
    // A made-up key is refused the same way.
    let fake = format!("ldr_{}", "0".repeat(64));
    app.get("/api/v1/me", Some(&fake))
        .expect_problem(401, "unauthorized");
}

fn the_database_holds_the_hash_not_the_key(db: Db) {
    let Some((app, w)) = app(db) else { return };
    let (key, rec) = practice_key(&app, &w, "EMIS connector");
    use diesel::prelude::*;
    use ldr::db::schema::api_keys;
    let mut c = app.state.pool.get().unwrap();
    let stored: String = api_keys::table
        .find(rec["id"].as_str().unwrap())
        .select(api_keys::key_hash)
        .first(&mut **c)
        .unwrap();
    assert_eq!(stored, ldr::service::tokens::sha256_hex(&key));
    assert_ne!(stored, key);
    assert!(!stored.contains(&key[4..]));
    let hits: i64 = api_keys::table
        .filter(api_keys::key_hash.like(format!("%{}%", &key[4..20])))
        .count()
        .get_result(&mut **c)
        .unwrap();
    assert_eq!(hits, 0);
}

fn another_organisation_cannot_see_or_revoke_a_key(db: Db) {
    let Some((app, w)) = app(db) else { return };
    let (key, rec) = practice_key(&app, &w, "EMIS connector");
    let id = rec["id"].as_str().unwrap();
    // Oak Practice lists only its own (none).
    let theirs = app
        .get("/api/v1/api-keys", Some(w.t(OTHER_PRACTICE)))
        .expect(200);
    assert_eq!(theirs, json!([]));
    app.get(
        &format!("/api/v1/api-keys?organisation_id={}", w.elm),
        Some(w.t(OTHER_PRACTICE)),
    )
    .expect(403);
    app.send(
        "DELETE",
        &format!("/api/v1/api-keys/{id}"),
        Some(w.t(OTHER_PRACTICE)),
        &json!({}),
    )
    .expect_problem(404, "not_found");
    app.get("/api/v1/me", Some(&key)).expect(200);
    // An admin sees and may revoke any.
    let all = app
        .get(
            &format!("/api/v1/api-keys?organisation_id={}", w.elm),
            Some(&w.admin),
        )
        .expect(200);
    assert_eq!(all[0]["id"], id);
    app.send(
        "DELETE",
        &format!("/api/v1/api-keys/{id}"),
        Some(&w.admin),
        &json!({}),
    )
    .expect(200);
    app.get("/api/v1/me", Some(&key))
        .expect_problem(401, "unauthorized");
}

fn bad_requests_are_refused_with_reasons(db: Db) {
    let Some((app, w)) = app(db) else { return };
    for (body, field) in [
        (json!({"name": "  "}), "name"),
        (json!({"name": "x".repeat(81)}), "name"),
        (
            json!({"name": "Old", "expires_on": "2026-03-01"}),
            "expires_on",
        ),
    ] {
        let p = app
            .post("/api/v1/api-keys", Some(w.t(PRACTICE)), &body)
            .expect_problem(422, "validation_failed");
        assert_eq!(p["errors"][0]["field"], field, "{p}");
    }
    app.post(
        "/api/v1/api-keys",
        Some(w.t(PRACTICE)),
        &json!({"name": "X", "colour": "red"}),
    )
    .expect_problem(422, "validation_failed");
    app.post(
        "/api/v1/api-keys",
        Some(w.t(PRACTICE)),
        &json!({"name": "X", "organisation_id": w.oak}),
    )
    .expect(403);
    app.send(
        "DELETE",
        "/api/v1/api-keys/no-such-key",
        Some(w.t(PRACTICE)),
        &json!({}),
    )
    .expect_problem(404, "not_found");
    // Nothing was created by any of these.
    let list = app.get("/api/v1/api-keys", Some(w.t(PRACTICE))).expect(200);
    assert_eq!(list, json!([]));
}
