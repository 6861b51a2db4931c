//! Refusals change nothing; calendar endpoints; hearing options; login throttling.

mod common;

use common::world::*;
use common::{Db, TestApp, ADMIN_EMAIL};
use serde_json::{json, Value};

both_dbs!(
    invalid_events_of_every_type_change_nothing,
    calendar_endpoints,
    hearing_options_honour_unavailability,
    login_is_throttled,
    nul_characters_are_refused_and_change_nothing,
);

const MONDAY: &str = "2026-03-02";

fn app(db: Db) -> Option<(TestApp, World)> {
    let app = TestApp::spawn_with(db, &[("LDR_TODAY", MONDAY)])?;
    let w = World::new(&app);
    Some((app, w))
}

/// The dispute, its history and its notices: what a refusal must not touch.
fn snapshot(app: &TestApp, w: &World, id: &str) -> (Value, Value, Value, Value) {
    (
        app.get(&format!("/api/v1/disputes/{id}"), Some(&w.admin))
            .expect(200),
        app.get(&format!("/api/v1/disputes/{id}/events"), Some(&w.admin))
            .expect(200),
        // Which notices exist (their delivery status moves on in the background).
        json!(app
            .get(&format!("/api/v1/disputes/{id}/notices"), Some(&w.admin))
            .expect(200)
            .as_array()
            .unwrap()
            .iter()
            .map(|n| (n["id"].clone(), n["template"].clone()))
            .collect::<Vec<_>>()),
        app.get(&format!("/api/v1/disputes/{id}/documents"), Some(&w.admin))
            .expect(200),
    )
}

fn invalid_events_of_every_type_change_nothing(db: Db) {
    let Some((app, w)) = app(db) else { return };
    // Each event type, in a state where it is allowed, sent by the right person with bad fields.
    let cases: Vec<(&str, &str, &str, Vec<Value>)> = vec![
        (
            "informal",
            MEDIATOR,
            "assign_mediator",
            vec![
                json!({}),
                json!({"mediator_id": w.id(PRACTICE), "mode": "advisory"}),
                json!({"mediator_id": w.id(MEDIATOR), "mode": "x"}),
                json!({"mediator_id": "no-such-user", "mode": "advisory"}),
                json!({"mediator_id": 7, "mode": "advisory"}),
                json!({"mediator_id": "m".repeat(65), "mode": "advisory"}),
            ],
        ),
        (
            "informal",
            PRACTICE,
            "add_note",
            vec![
                json!({}),
                json!({"text": 5}),
                json!({"text": "x".repeat(10_001)}),
            ],
        ),
        (
            "informal",
            PRACTICE,
            "withdraw",
            vec![json!({}), json!({"reason": ["a"]})],
        ),
        (
            "informal_mediation",
            MEDIATOR,
            "resolve_informally",
            vec![json!({}), json!({"summary": "  "})],
        ),
        (
            "informal_mediation",
            MEDIATOR,
            "exhaust_informal",
            vec![json!({"reason": null})],
        ),
        (
            "informal_exhausted",
            PRACTICE,
            "request_formal",
            vec![
                json!({"grounds": "g"}),
                json!({"grounds": "g", "lodged_on": "2026-03-03"}),
                json!({"grounds": "g", "lodged_on": "03/02/2026"}),
            ],
        ),
        (
            "formal_requested",
            OFFICER,
            "record_lmc_consultation",
            vec![
                json!({"summary": "s"}),
                json!({"consulted_on": "2027-01-01", "summary": "s"}),
            ],
        ),
        (
            "formal_requested",
            OFFICER,
            "screen",
            vec![
                json!({"outcome": "maybe", "reason": "r"}),
                json!({"outcome": "frivolous", "reason": "r"}),
            ],
        ),
        (
            "panel_forming",
            SECRETARY,
            "appoint_panel",
            vec![
                json!({}),
                json!({"clinical_member_id": "x", "gp_conciliator_id": "y", "lmc_representative_id": "z", "secretary_id": "s", "chair_id": "c"}),
            ],
        ),
        (
            "panel_appointed",
            SECRETARY,
            "schedule_hearing",
            vec![
                json!({"date": "2026-03-12", "time": "25:00", "venue": "V"}),
                json!({"date": "2026-03-11", "time": "10:00", "venue": "V"}),
                json!({"date": "2026-04-30", "time": "10:00", "venue": "V"}),
            ],
        ),
        (
            "hearing_scheduled",
            SECRETARY,
            "distribute_bundle",
            vec![
                json!({"document_ids": []}),
                json!({"document_ids": "x"}),
                json!({"document_ids": ["nope"]}),
            ],
        ),
        (
            "hearing_scheduled",
            SECRETARY,
            "record_hearing",
            vec![
                json!({"held_on": "2026-03-12", "record": "r"}),
                json!({"held_on": "2027-01-01", "appellant_presented": true, "respondent_presented": true, "record": "r"}),
            ],
        ),
        (
            "hearing_held",
            SECRETARY,
            "record_decision",
            vec![
                json!({"votes": []}),
                json!({"votes": [{"member_id": w.id(CLINICAL), "vote": "appellant"}, {"member_id": w.id(GP), "vote": "respondent"}, {"member_id": w.id(LMC_REP), "vote": "abstain"}]}),
            ],
        ),
        (
            "decision_notified",
            PRACTICE,
            "refer_to_fhsu",
            vec![
                json!({"statement": "s"}),
                json!({"statement": "s", "referred_on": "2026-03-12", "contract_document_id": "nope"}),
            ],
        ),
        ("decision_notified", SECRETARY, "close", vec![json!({})]),
        (
            "referred_to_fhsu",
            SECRETARY,
            "record_fhsu_determination",
            vec![
                json!({"outcome": "partly", "summary": "s"}),
                json!({"determined_on": "x", "outcome": "partly", "summary": "s"}),
                json!({"determined_on": "2026-03-02", "outcome": "upheld", "summary": "s"}),
            ],
        ),
    ];
    for (state, who, event, bodies) in cases {
        app.state.clock.set_today(Some(MONDAY.parse().unwrap()));
        let id = w.case_at(&app, state);
        let before = snapshot(&app, &w, &id);
        for mut body in bodies {
            body["type"] = json!(event);
            let r = w.event(&app, who, &id, body.clone());
            assert_eq!(r.status, 422, "{event} {body}: {}", r.text());
            r.expect(422);
            assert_eq!(
                snapshot(&app, &w, &id),
                before,
                "{event} {body} changed something"
            );
        }
    }
    // decided → notify_decision too late (needs a later clock).
    app.state.clock.set_today(Some(MONDAY.parse().unwrap()));
    let id = w.case_at(&app, "decided");
    app.state
        .clock
        .set_today(Some("2026-04-30".parse().unwrap()));
    let before = snapshot(&app, &w, &id);
    w.event(&app, SECRETARY, &id, json!({"type": "notify_decision"}))
        .expect_problem(422, "decision_late");
    assert_eq!(snapshot(&app, &w, &id), before);
}

fn calendar_endpoints(db: Db) {
    let Some(app) = TestApp::spawn(db) else {
        return;
    };
    let t = app.admin();
    let h = app
        .get("/api/v1/calendar/bank-holidays?year=2026", Some(&t))
        .expect(200);
    let dates: Vec<&str> = h
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["date"].as_str().unwrap())
        .collect();
    assert_eq!(
        dates,
        [
            "2026-01-01",
            "2026-04-03",
            "2026-04-06",
            "2026-05-04",
            "2026-05-25",
            "2026-08-31",
            "2026-12-25",
            "2026-12-28"
        ]
    );
    assert_eq!(h[0]["title"], "New Year’s Day");
    let d = app
        .get(
            "/api/v1/calendar/working-days/add?from=2026-03-02&days=7",
            Some(&t),
        )
        .expect(200);
    assert_eq!(d["date"], "2026-03-11");
    // Across Christmas 2026 and New Year 2027, and backwards.
    let d = app
        .get(
            "/api/v1/calendar/working-days/add?from=2026-12-23&days=3",
            Some(&t),
        )
        .expect(200);
    assert_eq!(d["date"], "2026-12-30");
    // Before Monday 4 January 2027: Thursday 31 (1), Wednesday 30 (2), Tuesday 29 December (3).
    let d = app
        .get(
            "/api/v1/calendar/working-days/add?from=2027-01-04&days=-3",
            Some(&t),
        )
        .expect(200);
    assert_eq!(d["date"], "2026-12-29");
    for bad in ["year=abc", "year=1800", "year=", ""] {
        app.get(&format!("/api/v1/calendar/bank-holidays?{bad}"), Some(&t))
            .expect_problem(422, "validation_failed");
    }
    for bad in [
        "from=2026-02-30&days=1",
        "from=2026-03-02",
        "from=2026-03-02&days=x",
        "from=2200-12-30&days=10",
        "from=2026-03-02&days=99999999999999999999",
    ] {
        app.get(
            &format!("/api/v1/calendar/working-days/add?{bad}"),
            Some(&t),
        )
        .expect_problem(422, "validation_failed");
    }
    app.get("/api/v1/calendar/bank-holidays?year=2026", None)
        .expect_problem(401, "unauthorized");
}

fn hearing_options_honour_unavailability(db: Db) {
    let Some((app, w)) = app(db) else { return };
    let id = w.case_at(&app, "panel_appointed");
    app.post(
        &format!("/api/v1/users/{}/unavailability", w.id(LMC_REP)),
        Some(&w.admin),
        &json!({"from": "2026-03-16", "to": "2026-03-18"}),
    )
    .expect(201);
    let opts = app
        .get(
            &format!("/api/v1/disputes/{id}/hearing-options"),
            Some(w.t(SECRETARY)),
        )
        .expect(200);
    let dates: Vec<&str> = opts["dates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap())
        .collect();
    assert_eq!(
        dates,
        [
            "2026-03-12",
            "2026-03-13",
            "2026-03-19",
            "2026-03-20",
            "2026-03-23",
            "2026-03-24",
            "2026-03-25",
            "2026-03-26",
            "2026-03-27",
            "2026-03-30"
        ]
    );
    let r = w.event(
        &app,
        SECRETARY,
        &id,
        json!({"type": "schedule_hearing", "date": "2026-03-17", "time": "10:00", "venue": "V"}),
    );
    r.expect_problem(422, "panel_member_unavailable");
    w.ok(
        &app,
        SECRETARY,
        &id,
        json!({"type": "schedule_hearing", "date": "2026-03-19", "time": "10:00", "venue": "V"}),
    );
}

fn login_is_throttled(db: Db) {
    let Some(app) = TestApp::spawn(db) else {
        return;
    };
    let mut last = None;
    for _ in 0..12 {
        let r = app.post(
            "/api/v1/auth/login",
            None,
            &json!({"email": ADMIN_EMAIL, "password": "wrong-password-x"}),
        );
        if r.status == 429 {
            last = Some(r);
            break;
        }
        r.expect_problem(401, "unauthorized");
    }
    let r = last.expect("no 429 after 12 attempts");
    r.expect_problem(429, "rate_limited");
    let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    // Another account from the same address is not locked out.
    app.post(
        "/api/v1/auth/login",
        None,
        &json!({"email": "someone@else.test", "password": "x"}),
    )
    .expect_problem(401, "unauthorized");
}

/// U+0000 in a JSON body or a query is a 400 problem, in a path a 404, on both databases
/// (PostgreSQL text cannot hold it: login with one was a 500, found by scripts/fuzz.sh; a
/// search for one was a 500 too).
fn nul_characters_are_refused_and_change_nothing(db: Db) {
    let Some((app, w)) = app(db) else { return };
    let id = w.file(&app, false);
    let before = snapshot(&app, &w, &id);
    let login = br#"{"email": "a\u0000@x.nhs.test", "password": "a-long-password-1"}"#;
    app.send_raw(
        "POST",
        "/api/v1/auth/login",
        None,
        "application/json",
        login,
        &[],
    )
    .expect_problem(400, "malformed_request");
    let note = br#"{"type": "add_note", "text": "before\u0000after"}"#;
    app.send_raw(
        "POST",
        &format!("/api/v1/disputes/{id}/events"),
        Some(w.t(PRACTICE)),
        "application/json",
        note,
        &[],
    )
    .expect_problem(400, "malformed_request");
    let filing = json!({"title": "T\u{0}", "category": "prescribing", "appellant_id": w.elm,
        "respondent_id": w.north_ccg, "summary": "s", "matter_arose_on": "2025-06-01"});
    app.post("/api/v1/disputes", Some(w.t(PRACTICE)), &filing)
        .expect_problem(400, "malformed_request");
    app.get(&format!("/api/v1/disputes/{id}%00"), Some(w.t(PRACTICE)))
        .expect_problem(404, "not_found");
    app.get("/api/v1/disputes?state=%00", Some(w.t(PRACTICE)))
        .expect_problem(400, "malformed_request");
    for q in [
        "/api/v1/users?q=%00",
        "/api/v1/users?organisation_id=a%00",
        "/api/v1/access-log?dispute_id=%00",
        "/api/v1/api-keys?organisation_id=%00",
    ] {
        let p = app
            .get(q, Some(&w.admin))
            .expect_problem(400, "malformed_request");
        assert!(
            p["detail"].as_str().unwrap().contains("remove it"),
            "{q}: {p}"
        );
    }
    // A cursor is hex of "micros|id": one whose id holds a NUL is refused like any bad cursor.
    let cursor: String = "1700000000000000|\0x"
        .bytes()
        .map(|b| format!("{b:02x}"))
        .collect();
    app.get(
        &format!("/api/v1/disputes?cursor={cursor}"),
        Some(w.t(PRACTICE)),
    )
    .expect(422);
    // The text "\u0000" (an escaped backslash) is not a NUL and is kept as written.
    let literal = br#"{"type": "add_note", "text": "path C:\\u0000"}"#;
    app.send_raw(
        "POST",
        &format!("/api/v1/disputes/{id}/events"),
        Some(w.t(PRACTICE)),
        "application/json",
        literal,
        &[],
    )
    .expect(200);
    let events = app
        .get(&format!("/api/v1/disputes/{id}/events"), Some(&w.admin))
        .expect(200);
    assert!(events.to_string().contains(r"C:\\u0000"), "{events}");
    // Nothing else changed.
    let after = snapshot(&app, &w, &id);
    assert_eq!(before.2, after.2);
    assert_eq!(
        before.1.as_array().unwrap().len() + 1,
        after.1.as_array().unwrap().len()
    );
}
