//! Auth, the directory and error handling over HTTP, on both databases.

mod common;

use common::{Db, TestApp, ADMIN_EMAIL, JWT_SECRET, PASSWORD};
use serde_json::json;

both_dbs!(
    health_and_readiness,
    login_and_tokens,
    bad_tokens_are_401,
    deactivated_user_token_stops_at_once,
    roles_are_enforced,
    organisations_and_users,
    validation_lists_every_bad_field,
    malformed_requests_get_problem_json,
    interests_and_unavailability,
    bootstrap_is_idempotent,
);

fn health_and_readiness(db: Db) {
    let Some(app) = TestApp::spawn(db) else {
        return;
    };
    assert_eq!(app.get("/healthz", None).status, 200);
    assert_eq!(app.get("/readyz", None).expect(200)["status"], "ready");
    let r = app.get("/healthz", None);
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
}

fn login_and_tokens(db: Db) {
    let Some(app) = TestApp::spawn(db) else {
        return;
    };
    let r = app.post(
        "/api/v1/auth/login",
        None,
        &json!({"email": ADMIN_EMAIL, "password": common::ADMIN_PASSWORD}),
    );
    let j = r.expect(200);
    assert_eq!(j["token_type"], "Bearer");
    assert_eq!(j["expires_in"], 3600);
    let token = j["access_token"].as_str().unwrap();
    // The claims: sub, org, roles, exp; HS256.
    let data = jsonwebtoken::decode::<serde_json::Value>(
        token,
        &jsonwebtoken::DecodingKey::from_secret(JWT_SECRET.as_bytes()),
        &jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256),
    )
    .expect("valid HS256 token");
    assert_eq!(data.header.alg, jsonwebtoken::Algorithm::HS256);
    let c = data.claims;
    assert!(
        c["sub"].is_string() && c["org"].is_string() && c["exp"].is_number(),
        "{c}"
    );
    assert_eq!(c["roles"], json!(["admin"]));
    // Wrong password, unknown e-mail: the same 401.
    let wrong = app.post(
        "/api/v1/auth/login",
        None,
        &json!({"email": ADMIN_EMAIL, "password": "nope-nope-nope"}),
    );
    let unknown = app.post(
        "/api/v1/auth/login",
        None,
        &json!({"email": "who@x.test", "password": "nope-nope-nope"}),
    );
    let a = wrong.expect_problem(401, "unauthorized");
    let b = unknown.expect_problem(401, "unauthorized");
    assert_eq!(a["detail"], b["detail"]);
    // No token.
    app.get("/api/v1/organisations", None)
        .expect_problem(401, "unauthorized");
    app.get("/api/v1/organisations", Some(token)).expect(200);
}

fn forge(alg: jsonwebtoken::Algorithm, secret: &[u8], claims: serde_json::Value) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(alg),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret),
    )
    .unwrap()
}

fn bad_tokens_are_401(db: Db) {
    let Some(app) = TestApp::spawn(db) else {
        return;
    };
    let admin = app.admin();
    let c = jsonwebtoken::decode::<serde_json::Value>(
        &admin,
        &jsonwebtoken::DecodingKey::from_secret(JWT_SECRET.as_bytes()),
        &jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256),
    )
    .unwrap()
    .claims;
    let now = chrono::Utc::now().timestamp();
    let mut expired = c.clone();
    expired["exp"] = json!(now - 10);
    let mut no_exp = c.clone();
    no_exp.as_object_mut().unwrap().remove("exp");
    // alg "none": header {"alg":"none"} and no signature.
    use base64_like::encode as b64;
    let none_token = format!(
        "{}.{}.",
        b64(br#"{"alg":"none","typ":"JWT"}"#),
        b64(c.to_string().as_bytes())
    );
    let tokens = vec![
        "garbage".to_string(),
        forge(
            jsonwebtoken::Algorithm::HS256,
            b"another-secret-another-secret-0123456789",
            c.clone(),
        ),
        forge(
            jsonwebtoken::Algorithm::HS512,
            JWT_SECRET.as_bytes(),
            c.clone(),
        ),
        forge(
            jsonwebtoken::Algorithm::HS256,
            JWT_SECRET.as_bytes(),
            expired,
        ),
        forge(
            jsonwebtoken::Algorithm::HS256,
            JWT_SECRET.as_bytes(),
            no_exp,
        ),
        none_token,
    ];
    for t in tokens {
        app.get("/api/v1/organisations", Some(&t))
            .expect_problem(401, "unauthorized");
    }
    // Not "Bearer".
    let r = app.send_raw(
        "GET",
        "/api/v1/organisations",
        None,
        "application/json",
        b"",
        &[("Authorization", "Basic abc")],
    );
    r.expect_problem(401, "unauthorized");
    // A token for a user id that does not exist.
    let mut ghost = c.clone();
    ghost["sub"] = json!(uuid::Uuid::new_v4().to_string());
    let t = forge(jsonwebtoken::Algorithm::HS256, JWT_SECRET.as_bytes(), ghost);
    app.get("/api/v1/organisations", Some(&t))
        .expect_problem(401, "unauthorized");
}

/// A tiny unpadded base64url encoder for the forged `none` token.
mod base64_like {
    pub fn encode(input: &[u8]) -> String {
        const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut out = String::new();
        for chunk in input.chunks(3) {
            let b = [
                chunk[0],
                *chunk.get(1).unwrap_or(&0),
                *chunk.get(2).unwrap_or(&0),
            ];
            let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
            for i in 0..(chunk.len() + 1) {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            }
        }
        out
    }
}

fn deactivated_user_token_stops_at_once(db: Db) {
    let Some(app) = TestApp::spawn(db) else {
        return;
    };
    let admin = app.admin();
    let ccg = app.org(
        &admin,
        "North CCG",
        "commissioner",
        "North Essex",
        "East",
        None,
    );
    let uid = app.user(&admin, "Carol Commissioner", &ccg, &["commissioner"], &[]);
    let t = app.login_as("Carol Commissioner");
    app.get("/api/v1/organisations", Some(&t)).expect(200);
    app.patch(
        &format!("/api/v1/users/{uid}"),
        Some(&admin),
        &json!({"active": false}),
    )
    .expect(200);
    app.get("/api/v1/organisations", Some(&t))
        .expect_problem(401, "unauthorized");
    // And cannot log in again.
    app.post(
        "/api/v1/auth/login",
        None,
        &json!({"email": "carol.commissioner@ldr.test", "password": PASSWORD}),
    )
    .expect_problem(401, "unauthorized");
    // Reactivated: works again.
    app.patch(
        &format!("/api/v1/users/{uid}"),
        Some(&admin),
        &json!({"active": true}),
    )
    .expect(200);
    app.get("/api/v1/organisations", Some(&t)).expect(200);
}

fn roles_are_enforced(db: Db) {
    let Some(app) = TestApp::spawn(db) else {
        return;
    };
    let admin = app.admin();
    let (_, prac) = app.north_essex_practice(&admin);
    let uid = app.user(&admin, "Pat Practice", &prac, &["practice_user"], &[]);
    let t = app.login_as("Pat Practice");
    let org_body = json!({"name": "X", "kind": "lmc", "area": "A", "region": "R", "email": "x@x.test", "address": "1 St"});
    app.post("/api/v1/organisations", Some(&t), &org_body)
        .expect_problem(403, "forbidden");
    app.post("/api/v1/users", Some(&t), &json!({}))
        .expect_problem(403, "forbidden");
    app.patch(
        &format!("/api/v1/users/{uid}"),
        Some(&t),
        &json!({"active": false}),
    )
    .expect_problem(403, "forbidden");
    // A user sees themself, not others.
    app.get(&format!("/api/v1/users/{uid}"), Some(&t))
        .expect(200);
    let other = app.user(&admin, "Other Person", &prac, &["practice_user"], &[]);
    app.get(&format!("/api/v1/users/{other}"), Some(&t))
        .expect_problem(404, "not_found");
    // Refused requests changed nothing.
    let orgs = app.get("/api/v1/organisations", Some(&admin)).expect(200);
    assert_eq!(orgs.as_array().unwrap().len(), 4, "{orgs}"); // service org, CCG, LMC, practice
}

fn organisations_and_users(db: Db) {
    let Some(app) = TestApp::spawn(db) else {
        return;
    };
    let admin = app.admin();
    let (ccg, prac) = app.north_essex_practice(&admin);
    let o = app
        .get(&format!("/api/v1/organisations/{prac}"), Some(&admin))
        .expect(200);
    assert_eq!(o["kind"], "practice");
    assert_eq!(o["commissioner_id"], ccg.as_str());
    let list = app
        .get("/api/v1/organisations?kind=commissioner", Some(&admin))
        .expect(200);
    assert_eq!(list.as_array().unwrap().len(), 1);
    app.get("/api/v1/organisations/does-not-exist", Some(&admin))
        .expect_problem(404, "not_found");
    let u = app.post(
        "/api/v1/users",
        Some(&admin),
        &json!({"name": "Dr Ann Panel", "email": "Ann@Panel.test", "password": PASSWORD,
                "organisation_id": ccg, "roles": ["panelist"], "panel_roles": ["clinical_board_member"]}),
    );
    let j = u.expect(201);
    assert_eq!(j["email"], "ann@panel.test");
    assert_eq!(j["panel_roles"], json!(["clinical_board_member"]));
    assert!(
        j.get("password").is_none() && j.get("password_hash").is_none(),
        "{j}"
    );
    assert!(!u.text().contains("argon2"), "hash leaked: {}", u.text());
    let id = j["id"].as_str().unwrap();
    let g = app.get(&format!("/api/v1/users/{id}"), Some(&admin));
    assert!(!g.text().contains("argon2"));
    // The same e-mail twice → 409.
    app.post(
        "/api/v1/users",
        Some(&admin),
        &json!({"name": "Dup", "email": "ann@panel.test", "password": PASSWORD,
                "organisation_id": ccg, "roles": ["panelist"]}),
    )
    .expect_problem(409, "email_taken");
    // A practice without its commissioning group, or naming a non-commissioner.
    let r = app.post("/api/v1/organisations", Some(&admin),
        &json!({"name": "P", "kind": "practice", "area": "A", "region": "R", "email": "p@p.test", "address": "1 St"}));
    r.expect_problem(422, "validation_failed");
    let r = app.post("/api/v1/organisations", Some(&admin),
        &json!({"name": "P", "kind": "practice", "area": "A", "region": "R", "email": "p@p.test", "address": "1 St", "commissioner_id": prac}));
    assert_eq!(
        r.expect_problem(422, "validation_failed")["errors"][0]["field"],
        "commissioner_id"
    );
}

fn validation_lists_every_bad_field(db: Db) {
    let Some(app) = TestApp::spawn(db) else {
        return;
    };
    let admin = app.admin();
    let r = app.post(
        "/api/v1/organisations",
        Some(&admin),
        &json!({"name": "", "kind": "hospital", "email": "not-an-email", "address": "x"}),
    );
    let j = r.expect_problem(422, "validation_failed");
    let fields: Vec<&str> = j["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    for f in ["name", "kind", "area", "region", "email"] {
        assert!(fields.contains(&f), "{f} missing in {j}");
    }
    let r = app.post(
        "/api/v1/users",
        Some(&admin),
        &json!({"name": "x", "email": "bad", "password": "short", "organisation_id": "x",
                "roles": ["wizard"], "panel_roles": ["jester"]}),
    );
    let j = r.expect_problem(422, "validation_failed");
    let fields: Vec<&str> = j["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    for f in ["email", "password", "roles", "panel_roles"] {
        assert!(fields.contains(&f), "{f} missing in {j}");
    }
    // Unknown organisation.
    let r = app.post(
        "/api/v1/users",
        Some(&admin),
        &json!({"name": "x", "email": "ok@x.test", "password": PASSWORD, "organisation_id": "nope", "roles": ["admin"]}),
    );
    assert_eq!(
        r.expect_problem(422, "validation_failed")["errors"][0]["field"],
        "organisation_id"
    );
}

fn malformed_requests_get_problem_json(db: Db) {
    let Some(app) = TestApp::spawn(db) else {
        return;
    };
    let admin = app.admin();
    let cases: Vec<(&str, &str, &str, Vec<u8>, u16)> = vec![
        (
            "POST",
            "/api/v1/organisations",
            "application/json",
            b"{not json".to_vec(),
            400,
        ),
        (
            "POST",
            "/api/v1/organisations",
            "application/json",
            b"[1,2,3]".to_vec(),
            400,
        ),
        (
            "POST",
            "/api/v1/organisations",
            "application/json",
            b"{\"name\": 5}".to_vec(),
            400,
        ),
        (
            "POST",
            "/api/v1/organisations",
            "text/plain",
            b"{}".to_vec(),
            415,
        ),
        (
            "POST",
            "/api/v1/organisations",
            "application/json",
            vec![b' '; 2 * 1024 * 1024],
            413,
        ),
        (
            "DELETE",
            "/api/v1/organisations",
            "application/json",
            b"".to_vec(),
            405,
        ),
        (
            "GET",
            "/api/v1/nothing-here",
            "application/json",
            b"".to_vec(),
            404,
        ),
        (
            "POST",
            "/api/v1/auth/login",
            "application/json",
            b"\xff\xfe".to_vec(),
            400,
        ),
    ];
    for (m, p, ct, body, status) in cases {
        let r = app.send_raw(m, p, Some(&admin), ct, &body, &[]);
        r.expect(status);
    }
    let r = app.get("/api/v1/organisations?limit=abc", Some(&admin));
    r.expect(422);
    // Nothing was created by any of this.
    let orgs = app.get("/api/v1/organisations", Some(&admin)).expect(200);
    assert_eq!(orgs.as_array().unwrap().len(), 1);
}

fn interests_and_unavailability(db: Db) {
    let Some(app) = TestApp::spawn(db) else {
        return;
    };
    let admin = app.admin();
    let ccg = app.org(
        &admin,
        "North CCG",
        "commissioner",
        "North Essex",
        "East",
        None,
    );
    let uid = app.user(&admin, "Dr Gp", &ccg, &["panelist"], &["gp_conciliator"]);
    let r = app.post(
        &format!("/api/v1/users/{uid}/interests"),
        Some(&admin),
        &json!({"organisation_id": ccg, "nature": "Former partner", "declared_on": "2025-01-10"}),
    );
    r.expect(201);
    let list = app
        .get(&format!("/api/v1/users/{uid}/interests"), Some(&admin))
        .expect(200);
    assert_eq!(list[0]["nature"], "Former partner");
    app.post(
        &format!("/api/v1/users/{uid}/interests"),
        Some(&admin),
        &json!({"organisation_id": ccg, "nature": "x", "declared_on": "2025-02-30"}),
    )
    .expect_problem(422, "validation_failed");
    app.post(
        &format!("/api/v1/users/{uid}/unavailability"),
        Some(&admin),
        &json!({"from": "2026-03-02", "to": "2026-03-06"}),
    )
    .expect(201);
    let r = app.post(
        &format!("/api/v1/users/{uid}/unavailability"),
        Some(&admin),
        &json!({"from": "2026-03-06", "to": "2026-03-02"}),
    );
    assert_eq!(
        r.expect_problem(422, "validation_failed")["errors"][0]["field"],
        "to"
    );
    // The panelist records their own dates.
    let t = app.login_as("Dr Gp");
    app.post(
        &format!("/api/v1/users/{uid}/unavailability"),
        Some(&t),
        &json!({"from": "2026-04-01", "to": "2026-04-01"}),
    )
    .expect(201);
    let list = app
        .get(&format!("/api/v1/users/{uid}/unavailability"), Some(&t))
        .expect(200);
    assert_eq!(list.as_array().unwrap().len(), 2);
    app.post(
        "/api/v1/users/nope/unavailability",
        Some(&admin),
        &json!({"from": "2026-04-01", "to": "2026-04-01"}),
    )
    .expect_problem(404, "not_found");
}

fn bootstrap_is_idempotent(db: Db) {
    let Some(app) = TestApp::spawn(db) else {
        return;
    };
    // A second process on the same database at the same time, then a restart: still one admin.
    let env_db = app.db_url.clone();
    let dir = tempfile::tempdir().unwrap();
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let env_db = env_db.clone();
            let d = dir.path().to_path_buf();
            std::thread::spawn(move || {
                let env = [
                    ("LDR_DATABASE_URL", env_db),
                    ("LDR_JWT_SECRET", JWT_SECRET.to_string()),
                    ("LDR_DATA_DIR", d.display().to_string()),
                    ("LDR_BOOTSTRAP_ADMIN_EMAIL", "second@ldr.test".to_string()),
                    (
                        "LDR_BOOTSTRAP_ADMIN_PASSWORD",
                        "second-admin-password".to_string(),
                    ),
                ];
                let cfg = ldr::config::Config::from_lookup(|k| {
                    env.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone())
                })
                .unwrap();
                ldr::server::prepare(cfg).map(|_| ())
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap().expect("prepare");
    }
    // An admin already existed: the second bootstrap admin was not created.
    app.post(
        "/api/v1/auth/login",
        None,
        &json!({"email": "second@ldr.test", "password": "second-admin-password"}),
    )
    .expect_problem(401, "unauthorized");
    app.admin();
}
