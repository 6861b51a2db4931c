//! The authorisation matrix: every route × every role (and anonymous, and an outsider), the
//! expected status, from the SPEC's tables. Routes come from the OpenAPI document, so a new
//! route without an entry here fails the test.

mod common;

use common::world::*;
use common::{Db, TestApp};
use serde_json::{json, Value};
use std::collections::BTreeSet;

both_dbs!(every_route_every_role);

/// Columns: anonymous, practice user (appellant), commissioner (respondent), accountable
/// officer, LMC mediator (the case's), panel secretary (the case's), panelist (the case's
/// chair), admin, outsider (another practice's user).
const WHO: [&str; 9] = [
    "anonymous",
    PRACTICE,
    COMMISSIONER,
    OFFICER,
    MEDIATOR,
    SECRETARY,
    GP,
    "admin",
    OUTSIDER,
];

#[rustfmt::skip]
const MATRIX: &[(&str, &str, [u16; 9])] = &[
    //                                               anon prac comm offi medi secr pane admn outs
    ("get",   "/healthz",                              [200, 200, 200, 200, 200, 200, 200, 200, 200]),
    ("get",   "/readyz",                               [200, 200, 200, 200, 200, 200, 200, 200, 200]),
    ("post",  "/api/v1/auth/login",                    [401, 401, 401, 401, 401, 401, 401, 401, 401]),
    ("post",  "/api/v1/organisations",                 [401, 403, 403, 403, 403, 403, 403, 201, 403]),
    ("get",   "/api/v1/organisations",                 [401, 200, 200, 200, 200, 200, 200, 200, 200]),
    ("get",   "/api/v1/organisations/{id}",            [401, 200, 200, 200, 200, 200, 200, 200, 200]),
    ("post",  "/api/v1/users",                         [401, 403, 403, 403, 403, 403, 403, 201, 403]),
    ("get",   "/api/v1/users/{id}",                    [401, 404, 404, 404, 404, 404, 200, 200, 404]),
    ("patch", "/api/v1/users/{id}",                    [401, 403, 403, 403, 403, 403, 403, 200, 403]),
    ("post",  "/api/v1/users/{id}/interests",          [401, 403, 403, 403, 403, 403, 201, 201, 403]),
    ("get",   "/api/v1/users/{id}/interests",          [401, 404, 404, 404, 404, 404, 200, 200, 404]),
    ("post",  "/api/v1/users/{id}/unavailability",     [401, 403, 403, 403, 403, 403, 201, 201, 403]),
    ("get",   "/api/v1/users/{id}/unavailability",     [401, 404, 404, 404, 404, 404, 200, 200, 404]),
    // {entry_id} names no entry: the panelist's own and an admin find nothing to remove.
    ("delete", "/api/v1/users/{id}/interests/{entry_id}",      [401, 403, 403, 403, 403, 403, 404, 404, 403]),
    ("delete", "/api/v1/users/{id}/unavailability/{entry_id}", [401, 403, 403, 403, 403, 403, 404, 404, 403]),
    ("get",   "/api/v1/calendar/bank-holidays",        [401, 200, 200, 200, 200, 200, 200, 200, 200]),
    ("get",   "/api/v1/calendar/working-days/add",     [401, 200, 200, 200, 200, 200, 200, 200, 200]),
    ("post",  "/api/v1/disputes",                      [401, 201, 422, 403, 403, 403, 403, 403, 422]),
    ("get",   "/api/v1/disputes",                      [401, 200, 200, 200, 200, 200, 200, 200, 200]),
    ("get",   "/api/v1/disputes/{id}",                 [401, 200, 200, 200, 200, 200, 200, 200, 404]),
    ("post",  "/api/v1/disputes/{id}/events",          [401, 200, 200, 200, 200, 200, 200, 403, 404]),
    ("get",   "/api/v1/disputes/{id}/events",          [401, 200, 200, 200, 200, 200, 200, 200, 404]),
    ("get",   "/api/v1/disputes/{id}/actions",         [401, 200, 200, 200, 200, 200, 200, 200, 404]),
    ("post",  "/api/v1/disputes/{id}/documents",       [401, 201, 201, 201, 201, 201, 201, 201, 404]),
    ("get",   "/api/v1/disputes/{id}/documents",       [401, 200, 200, 200, 200, 200, 200, 200, 404]),
    ("get",   "/api/v1/disputes/{id}/notices",         [401, 200, 200, 200, 200, 200, 200, 200, 404]),
    ("get",   "/api/v1/disputes/{id}/hearing-options", [401, 200, 200, 200, 200, 200, 200, 200, 404]),
    ("get",   "/api/v1/documents/{id}",                [401, 200, 200, 200, 200, 200, 200, 200, 404]),
    ("get",   "/api/v1/reports/timeliness",            [401, 403, 403, 403, 403, 200, 403, 200, 403]),
    ("get",   "/api/v1/disputes/{id}/hearing.ics",     [401, 409, 409, 409, 409, 409, 409, 409, 404]),
    ("get",   "/api/v1/disputes/{id}/referral-pack",   [401, 409, 409, 409, 403, 409, 403, 409, 404]),
    ("get",   "/api/v1/me",                            [401, 200, 200, 200, 200, 200, 200, 200, 200]),
    ("get",   "/api/v1/users",                         [401, 403, 403, 403, 403, 200, 403, 200, 403]),
    ("patch", "/api/v1/organisations/{id}",            [401, 403, 403, 403, 403, 403, 403, 200, 403]),
    // Webhooks: {id} is an endpoint of the practice (Elm); every user may have their own
    // organisation's (the body `{}` lacks `url`: 422). Deleted by its practice user, so the
    // later columns find nothing.
    ("post",  "/api/v1/webhooks",                      [401, 422, 422, 422, 422, 422, 422, 422, 422]),
    ("get",   "/api/v1/webhooks",                      [401, 200, 200, 200, 200, 200, 200, 200, 200]),
    ("post",  "/api/v1/webhooks/{id}/rotate-secret",   [401, 200, 404, 404, 404, 404, 404, 200, 404]),
    ("get",   "/api/v1/webhooks/{id}/deliveries",      [401, 200, 404, 404, 404, 404, 404, 200, 404]),
    ("delete", "/api/v1/webhooks/{id}",                [401, 204, 404, 404, 404, 404, 404, 404, 404]),
    // Keys are for practices and commissioners; the LMC's and the service's own are refused.
    ("post",  "/api/v1/api-keys",                      [401, 201, 201, 201, 422, 201, 201, 422, 201]),
    ("get",   "/api/v1/api-keys",                      [401, 200, 200, 200, 200, 200, 200, 200, 200]),
    // {id} is the case's id here: no such key for anyone.
    ("delete", "/api/v1/api-keys/{id}",                [401, 404, 404, 404, 404, 404, 404, 404, 404]),
    ("get",   "/api/v1/access-log",                    [401, 403, 403, 403, 403, 403, 403, 200, 403]),
];

fn every_route_every_role(db: Db) {
    let Some(app) = TestApp::spawn_with(
        db,
        &[
            ("LDR_TODAY", "2026-03-02"),
            ("LDR_WEBHOOKS_ALLOW_PRIVATE", "true"),
        ],
    ) else {
        return;
    };
    let w = World::new(&app);
    let hook = app
        .post(
            "/api/v1/webhooks",
            Some(w.t(PRACTICE)),
            &json!({"url": "http://127.0.0.1:9/hook"}),
        )
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let case = w.case_at(&app, "panel_appointed");
    let doc = w
        .upload(&app, PRACTICE, &case, "evidence", "e.pdf", b"e")
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    // Every documented route has an entry.
    let spec = app.get("/api/v1/openapi.json", None).expect(200);
    let documented: BTreeSet<(String, String)> = spec["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(p, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .map(move |m| (m.clone(), p.clone()))
        })
        .collect();
    let table: BTreeSet<(String, String)> = MATRIX
        .iter()
        .map(|(m, p, _)| (m.to_string(), p.to_string()))
        .collect();
    assert_eq!(documented, table, "routes and matrix differ");
    let mut n = 0;
    for (method, path, expected) in MATRIX {
        for (col, who) in WHO.iter().enumerate() {
            n += 1;
            let token = match *who {
                "anonymous" => None,
                other => Some(w.t(other).to_string()),
            };
            let id = match *path {
                p if p.starts_with("/api/v1/organisations/") => w.elm.clone(),
                p if p.starts_with("/api/v1/users/") => w.id(GP),
                p if p.starts_with("/api/v1/documents/") => doc.clone(),
                p if p.starts_with("/api/v1/webhooks/") => hook.clone(),
                _ => case.clone(),
            };
            let mut url = path
                .replace("{id}", &id)
                .replace("{entry_id}", "00000000-0000-4000-8000-000000000000");
            let body: Value = match (*method, *path) {
                ("post", "/api/v1/auth/login") => {
                    json!({"email": "nobody@ldr.test", "password": "wrong-password"})
                }
                ("post", "/api/v1/organisations") => {
                    json!({"name": format!("Org {n}"), "kind": "lmc", "area": "X", "region": "Y",
                    "email": format!("org{n}@x.test"), "address": "1 Road"})
                }
                ("post", "/api/v1/users") => {
                    json!({"name": "New", "email": format!("new{n}@ldr.test"), "password": "long-password-123",
                    "organisation_id": w.elm, "roles": ["practice_user"]})
                }
                ("patch", _) => json!({"name": "Dr Conciliator"}),
                ("post", "/api/v1/users/{id}/interests") => {
                    json!({"organisation_id": w.birch, "nature": "n", "declared_on": "2025-01-01"})
                }
                ("post", "/api/v1/users/{id}/unavailability") => {
                    json!({"from": "2026-06-01", "to": "2026-06-02"})
                }
                ("post", "/api/v1/disputes") => {
                    json!({"title": "t", "category": "other", "appellant_id": w.elm, "respondent_id": w.north_ccg,
                    "summary": "s", "matter_arose_on": "2026-01-05", "contract_related": false})
                }
                ("post", "/api/v1/disputes/{id}/events") => {
                    json!({"type": "add_note", "text": "n"})
                }
                ("post", "/api/v1/api-keys") => json!({"name": format!("Integration {n}")}),
                _ => json!({}),
            };
            match *path {
                "/api/v1/calendar/bank-holidays" => url.push_str("?year=2026"),
                "/api/v1/calendar/working-days/add" => url.push_str("?from=2026-03-02&days=1"),
                "/api/v1/reports/timeliness" => url.push_str("?from=2026-01-01&to=2026-12-31"),
                _ => {}
            }
            let r = if *path == "/api/v1/disputes/{id}/documents" && *method == "post" {
                match &token {
                    Some(_) => w.upload(&app, who, &id, "other", "o.pdf", b"o"),
                    None => app.send_raw(
                        "POST",
                        &url,
                        None,
                        "multipart/form-data; boundary=x",
                        b"--x--\r\n",
                        &[],
                    ),
                }
            } else if *method == "get" {
                app.get(&url, token.as_deref())
            } else {
                app.send(&method.to_uppercase(), &url, token.as_deref(), &body)
            };
            assert_eq!(
                r.status,
                expected[col],
                "{method} {path} as {who}: {}",
                r.text()
            );
            assert_eq!(
                r.header("x-content-type-options"),
                Some("nosniff"),
                "{method} {path}"
            );
            if r.status >= 400 {
                r.expect(r.status);
            }
        }
    }
}
