//! Finding and correcting the directory (issue #31): `GET /me`, `GET /users`,
//! `PATCH /organisations/{id}`, moving users, practices whose area has no LMC, unique ODS codes,
//! and unknown or missing fields refused the same way everywhere.

mod common;

use common::world::*;
use common::{Db, TestApp};
use serde_json::{json, Value};

both_dbs!(
    a_practice_must_be_in_an_lmcs_area,
    organisations_can_be_corrected,
    users_can_be_moved_and_keep_fitting_roles,
    everyone_can_learn_who_they_are,
    admins_and_secretaries_can_find_people,
    bodies_are_refused_the_same_way_everywhere,
    history_and_documents_name_people,
);

fn app(db: Db) -> Option<(TestApp, World)> {
    let app = TestApp::spawn_with(db, &[("LDR_TODAY", "2026-03-02")])?;
    let w = World::new(&app);
    Some((app, w))
}

fn practice_body(w: &World, area: &str) -> Value {
    json!({"name": "Yew Practice", "kind": "practice", "area": area, "region": "North East",
        "email": "office@yew.nhs.test", "address": "1 Yew Street", "commissioner_id": w.north_ccg})
}

fn a_practice_must_be_in_an_lmcs_area(db: Db) {
    let Some((app, w)) = app(db) else { return };
    app.org(
        &w.admin,
        "North Yorkshire LMC",
        "lmc",
        "North Yorkshire",
        "North East",
        None,
    );
    let p = app
        .post(
            "/api/v1/organisations",
            Some(&w.admin),
            &practice_body(&w, "North Yorks"),
        )
        .expect_problem(422, "validation_failed");
    assert_eq!(p["errors"][0]["field"], "area", "{p}");
    let m = p["errors"][0]["message"].as_str().unwrap();
    assert!(
        m.contains("North Yorkshire") && m.contains("North Yorks"),
        "{m}"
    );
    let ok = app
        .post(
            "/api/v1/organisations",
            Some(&w.admin),
            &practice_body(&w, "North Yorkshire"),
        )
        .expect(201);
    // Editing it into an area without an LMC is refused the same way.
    let id = ok["id"].as_str().unwrap();
    app.patch(
        &format!("/api/v1/organisations/{id}"),
        Some(&w.admin),
        &json!({"area": "North Yorks"}),
    )
    .expect_problem(422, "validation_failed");
    // An LMC may not leave its practices without one.
    let lmcs = app
        .get("/api/v1/organisations?kind=lmc", Some(&w.admin))
        .expect(200);
    let north_yorks_lmc = lmcs
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["area"] == "North Yorkshire")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let p = app
        .patch(
            &format!("/api/v1/organisations/{north_yorks_lmc}"),
            Some(&w.admin),
            &json!({"area": "Yorkshire"}),
        )
        .expect_problem(422, "validation_failed");
    assert!(p.to_string().contains("Yew Practice"), "{p}");
    // A database from before this rule may still hold such a practice: filing against it is
    // refused with a message an admin can act on, and nothing is created.
    {
        use diesel::prelude::*;
        let mut pooled = ldr::db::checkout(&app.state.pool).unwrap();
        let conn: &mut ldr::db::DbConn = &mut pooled;
        diesel::sql_query(format!(
            "UPDATE organisations SET area = 'North Yorks' WHERE id = '{id}'"
        ))
        .execute(conn)
        .unwrap();
    }
    let yew_user = app.user(&w.admin, "Yves Yew", id, &["practice_user"], &[]);
    let _ = yew_user;
    let t = app.login_as("Yves Yew");
    let p = app
        .post(
            "/api/v1/disputes",
            Some(&t),
            &json!({"title": "T", "category": "other", "appellant_id": id,
                "respondent_id": w.north_ccg, "summary": "s", "matter_arose_on": "2025-06-01",
                "contract_related": false}),
        )
        .expect_problem(422, "no_lmc");
    assert!(p["detail"].as_str().unwrap().contains("North Yorks"), "{p}");
    let mine = app.get("/api/v1/disputes", Some(&t)).expect(200);
    assert_eq!(mine["items"].as_array().unwrap().len(), 0);
}

fn organisations_can_be_corrected(db: Db) {
    let Some((app, w)) = app(db) else { return };
    let elm = format!("/api/v1/organisations/{}", w.elm);
    let o = app
        .patch(
            &elm,
            Some(&w.admin),
            &json!({"name": "Elm Medical Practice", "address": "2 Elm Road, Chelmsford CM1 1AA", "ods_code": "F81001"}),
        )
        .expect(200);
    assert_eq!(o["name"], "Elm Medical Practice");
    assert_eq!(o["kind"], "practice");
    assert_eq!(
        app.get(&elm, Some(w.t(PRACTICE))).expect(200)["ods_code"],
        "F81001"
    );
    // ODS codes are unique, on create and on change.
    let mut body = practice_body(&w, "North Essex");
    body["ods_code"] = json!("F81001");
    let p = app
        .post("/api/v1/organisations", Some(&w.admin), &body)
        .expect_problem(409, "ods_code_taken");
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("Elm Medical Practice"),
        "{p}"
    );
    app.patch(
        &format!("/api/v1/organisations/{}", w.oak),
        Some(&w.admin),
        &json!({"ods_code": "F81001"}),
    )
    .expect_problem(409, "ods_code_taken");
    // A code is kept in capitals, as ODS writes it: typed in small letters it is the same code.
    body["ods_code"] = json!(" f81001 ");
    app.post("/api/v1/organisations", Some(&w.admin), &body)
        .expect_problem(409, "ods_code_taken");
    let o = app
        .patch(
            &format!("/api/v1/organisations/{}", w.oak),
            Some(&w.admin),
            &json!({"ods_code": "f81002"}),
        )
        .expect(200);
    assert_eq!(o["ods_code"], "F81002");
    // The kind cannot change; unknown fields are refused; only admins correct.
    let p = app
        .patch(&elm, Some(&w.admin), &json!({"kind": "commissioner"}))
        .expect_problem(422, "validation_failed");
    assert_eq!(p["errors"][0]["field"], "kind");
    let p = app
        .patch(&elm, Some(&w.admin), &json!({"nmae": "x"}))
        .expect_problem(422, "validation_failed");
    assert_eq!(p["errors"][0]["field"], "nmae");
    app.patch(&elm, Some(w.t(PRACTICE)), &json!({"name": "x"}))
        .expect_problem(403, "forbidden");
    app.patch(
        "/api/v1/organisations/nope",
        Some(&w.admin),
        &json!({"name": "x"}),
    )
    .expect_problem(404, "not_found");
    assert_eq!(
        app.get(&elm, Some(&w.admin)).expect(200)["name"],
        "Elm Medical Practice"
    );
}

fn users_can_be_moved_and_keep_fitting_roles(db: Db) {
    let Some((app, w)) = app(db) else { return };
    let path = format!("/api/v1/users/{}", w.id(PRACTICE));
    // A practice user cannot move to an LMC as one.
    let p = app
        .patch(
            &path,
            Some(&w.admin),
            &json!({"organisation_id": w.lmc_north}),
        )
        .expect_problem(422, "validation_failed");
    assert_eq!(p["errors"][0]["field"], "roles");
    // Moving to another practice keeps the same account, e-mail and password.
    let u = app
        .patch(&path, Some(&w.admin), &json!({"organisation_id": w.oak}))
        .expect(200);
    assert_eq!(u["organisation_id"], w.oak.as_str());
    let t = app.login_as(PRACTICE);
    let me = app.get("/api/v1/me", Some(&t)).expect(200);
    assert_eq!(me["organisation"]["id"], w.oak.as_str());
    // Moving with new roles that fit.
    app.patch(
        &path,
        Some(&w.admin),
        &json!({"organisation_id": w.lmc_north, "roles": ["lmc_mediator"]}),
    )
    .expect(200);
    app.patch(&path, Some(&w.admin), &json!({"organisation_id": "nope"}))
        .expect_problem(422, "validation_failed");
}

fn everyone_can_learn_who_they_are(db: Db) {
    let Some((app, w)) = app(db) else { return };
    let me = app.get("/api/v1/me", Some(w.t(PRACTICE))).expect(200);
    assert_eq!(me["id"], w.id(PRACTICE).as_str());
    assert_eq!(me["organisation"]["id"], w.elm.as_str());
    assert_eq!(me["organisation"]["kind"], "practice");
    assert_eq!(me["roles"], json!(["practice_user"]));
    assert!(me["email"].as_str().unwrap().contains('@'));
    let gp = app.get("/api/v1/me", Some(w.t(GP))).expect(200);
    assert_eq!(gp["panel_roles"], json!(["gp_conciliator"]));
    app.get("/api/v1/me", None)
        .expect_problem(401, "unauthorized");
}

fn admins_and_secretaries_can_find_people(db: Db) {
    let Some((app, w)) = app(db) else { return };
    app.post(
        &format!("/api/v1/users/{}/interests", w.id(GP)),
        Some(&w.admin),
        &json!({"organisation_id": w.oak, "nature": "Locum sessions", "declared_on": "2026-01-05"}),
    )
    .expect(201);
    let page = app
        .get(
            "/api/v1/users?role=panelist&panel_role=gp_conciliator",
            Some(w.t(SECRETARY)),
        )
        .expect(200);
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{page}");
    assert_eq!(items[0]["name"], GP);
    assert_eq!(items[0]["organisation"]["name"], "Birch Practice");
    assert_eq!(
        items[0]["interests"][0]["organisation_name"],
        "Oak Practice"
    );
    // A secretary sees names and roles, not e-mail addresses; an admin sees them.
    assert!(items[0].get("email").is_none(), "{page}");
    let admin_view = app
        .get("/api/v1/users?q=conciliator", Some(&w.admin))
        .expect(200);
    assert!(
        admin_view["items"][0]["email"].as_str().is_some(),
        "{admin_view}"
    );
    // Pages follow each other without repeating anyone.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/users?limit=5&cursor={c}"),
            None => "/api/v1/users?limit=5".to_string(),
        };
        let page = app.get(&path, Some(&w.admin)).expect(200);
        for p in page["items"].as_array().unwrap() {
            seen.push(p["id"].as_str().unwrap().to_string());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    let unique: std::collections::HashSet<_> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len());
    assert_eq!(seen.len(), 13, "the world's 12 people and the admin");
    // Only admins and panel secretaries; bad filters are named.
    app.get("/api/v1/users", Some(w.t(PRACTICE)))
        .expect_problem(403, "forbidden");
    let p = app
        .get("/api/v1/users?role=wizard&cursor=zz", Some(&w.admin))
        .expect_problem(422, "validation_failed");
    assert_eq!(p["errors"].as_array().unwrap().len(), 2, "{p}");
}

fn bodies_are_refused_the_same_way_everywhere(db: Db) {
    let Some((app, w)) = app(db) else { return };
    let p = app
        .post(
            "/api/v1/auth/login",
            None,
            &json!({"email": "a@b.test", "password": "x", "remember": true}),
        )
        .expect_problem(422, "validation_failed");
    assert_eq!(p["errors"][0]["field"], "remember");
    assert!(
        p["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("email"),
        "{p}"
    );
    let p = app
        .post("/api/v1/auth/login", None, &json!({"password": "x"}))
        .expect_problem(422, "validation_failed");
    assert_eq!(p["errors"][0]["field"], "email");
    assert_eq!(p["errors"][0]["message"], "is required");
    assert!(!p.to_string().contains("line 1"), "{p}");
    let mut filing = json!({"title": "T", "category": "other", "appellant_id": w.elm,
        "respondent_id": w.north_ccg, "summary": "s", "matter_arose_on": "2025-06-01",
        "contract_related": false});
    filing["priority"] = json!("high");
    let p = app
        .post("/api/v1/disputes", Some(w.t(PRACTICE)), &filing)
        .expect_problem(422, "validation_failed");
    assert_eq!(p["errors"][0]["field"], "priority");
    // /docs without its slash leads to the documentation.
    // (the test client follows the redirect)
    let r = app.get("/docs", None);
    assert_eq!(r.status, 200);
    assert!(r.text().to_lowercase().contains("swagger"), "{}", r.text());
}

fn history_and_documents_name_people(db: Db) {
    let Some((app, w)) = app(db) else { return };
    let id = w.case_at(&app, "informal_mediation");
    w.upload(&app, PRACTICE, &id, "evidence", "e.pdf", b"%PDF e")
        .expect(201);
    let events = app
        .get(
            &format!("/api/v1/disputes/{id}/events"),
            Some(w.t(PRACTICE)),
        )
        .expect(200);
    let names: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["actor_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec![PRACTICE, MEDIATOR], "{events}");
    let docs = app
        .get(
            &format!("/api/v1/disputes/{id}/documents"),
            Some(w.t(MEDIATOR)),
        )
        .expect(200);
    assert_eq!(docs[0]["uploaded_by_name"], PRACTICE, "{docs}");
}
