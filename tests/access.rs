//! Who may do what and see what, over HTTP on both databases: the role × event matrix,
//! visibility for each role, documents, and walking a case through time by restarting.

mod common;

use common::world::*;
use common::{Db, TestApp};
use serde_json::{json, Value};

both_dbs!(
    role_event_matrix,
    visibility_for_each_role,
    documents_upload_download_and_limits,
    restart_with_later_today_walks_the_case,
    listing_filters_and_pagination,
);

const MONDAY: &str = "2026-03-02";

fn app(db: Db) -> Option<(TestApp, World)> {
    let app = TestApp::spawn_with(db, &[("LDR_TODAY", MONDAY)])?;
    let w = World::new(&app);
    Some((app, w))
}

/// For each event type: the state to try it in, a valid body, and who may send it.
fn matrix(w: &World, app: &TestApp) -> Vec<(&'static str, &'static str, Vec<&'static str>)> {
    let _ = (w, app);
    vec![
        ("assign_mediator", "informal", vec![MEDIATOR]),
        (
            "add_note",
            "informal",
            vec![PRACTICE, COMMISSIONER, OFFICER, MEDIATOR],
        ),
        ("withdraw", "informal", vec![PRACTICE]),
        ("resolve_informally", "informal_mediation", vec![MEDIATOR]),
        ("exhaust_informal", "informal_mediation", vec![MEDIATOR]),
        (
            "request_formal",
            "informal_exhausted",
            vec![PRACTICE, COMMISSIONER],
        ),
        ("record_lmc_consultation", "formal_requested", vec![OFFICER]),
        ("screen", "formal_requested+lmc", vec![OFFICER]),
        ("appoint_panel", "panel_forming", vec![SECRETARY]),
        ("schedule_hearing", "panel_appointed", vec![SECRETARY]),
        ("distribute_bundle", "hearing_scheduled", vec![SECRETARY]),
        ("record_hearing", "hearing_scheduled", vec![SECRETARY]),
        ("record_decision", "hearing_held", vec![SECRETARY]),
        ("notify_decision", "decided", vec![SECRETARY, GP]),
        (
            "refer_to_fhsu",
            "decision_notified",
            vec![PRACTICE, COMMISSIONER],
        ),
        ("close", "decision_notified", vec![SECRETARY, "admin"]),
        (
            "record_fhsu_determination",
            "referred_to_fhsu",
            vec![SECRETARY, "admin"],
        ),
    ]
}

fn body_for(w: &World, app: &TestApp, id: &str, event: &str) -> Value {
    let today = app.state.clock.today();
    let plus8 = app.state.calendar.add_working_days(today, 8).unwrap();
    match event {
        "assign_mediator" => json!({"mediator_id": w.id(MEDIATOR), "mode": "advisory"}),
        "add_note" => json!({"text": "note"}),
        "withdraw" | "close" | "exhaust_informal" => json!({"reason": "r"}),
        "resolve_informally" => json!({"summary": "s"}),
        "request_formal" => json!({"grounds": "g", "lodged_on": today.to_string()}),
        "record_lmc_consultation" => json!({"consulted_on": today.to_string(), "summary": "s"}),
        "screen" => json!({"outcome": "proceed", "reason": "r"}),
        "appoint_panel" => w.panel_body(),
        "schedule_hearing" => json!({"date": plus8.to_string(), "time": "09:30", "venue": "V"}),
        "distribute_bundle" => {
            let doc = w
                .upload(app, SECRETARY, id, "evidence", "b.pdf", b"b")
                .expect(201);
            json!({"document_ids": [doc["id"]]})
        }
        "record_hearing" => {
            // On the day it was scheduled for, as held that day.
            let d = app
                .get(&format!("/api/v1/disputes/{id}"), Some(&w.admin))
                .expect(200);
            let day = d["hearing"]["date"].as_str().unwrap().to_string();
            app.state.clock.set_today(Some(day.parse().unwrap()));
            json!({"held_on": day, "appellant_presented": true, "respondent_presented": false, "record": "r"})
        }
        "record_decision" => json!({"votes": [{"member_id": w.id(CLINICAL), "vote": "appellant"},
            {"member_id": w.id(GP), "vote": "appellant"}, {"member_id": w.id(LMC_REP), "vote": "appellant"}]}),
        "notify_decision" => json!({}),
        "refer_to_fhsu" => {
            let doc = w
                .upload(app, PRACTICE, id, "contract", "c.pdf", b"c")
                .expect(201);
            json!({"statement": "s", "contract_document_id": doc["id"], "referred_on": today.to_string()})
        }
        "record_fhsu_determination" => {
            json!({"determined_on": today.to_string(), "outcome": "partly", "summary": "s"})
        }
        other => panic!("no body for {other}"),
    }
}

fn role_event_matrix(db: Db) {
    let Some((app, w)) = app(db) else { return };
    let mut everyone: Vec<&str> = EVERYONE.to_vec();
    everyone.push("admin");
    for (event, state, allowed) in matrix(&w, &app) {
        app.state.clock.set_today(Some(MONDAY.parse().unwrap()));
        let id = w.case_at(&app, state);
        let mut body = body_for(&w, &app, &id, event);
        body["type"] = json!(event);
        let before = app
            .get(&format!("/api/v1/disputes/{id}"), Some(&w.admin))
            .expect(200);
        for who in &everyone {
            if allowed.contains(who) {
                let actions = app
                    .get(&format!("/api/v1/disputes/{id}/actions"), Some(w.t(who)))
                    .expect(200);
                assert!(
                    actions.as_array().unwrap().contains(&json!(event)),
                    "{who} should be offered {event}: {actions}"
                );
                continue;
            }
            let sees = app
                .get(&format!("/api/v1/disputes/{id}"), Some(w.t(who)))
                .status
                == 200;
            let r = w.event(&app, who, &id, body.clone());
            if sees {
                r.expect_problem(403, "forbidden");
                let actions = app
                    .get(&format!("/api/v1/disputes/{id}/actions"), Some(w.t(who)))
                    .expect(200);
                assert!(
                    !actions.as_array().unwrap().contains(&json!(event)),
                    "{who} offered {event}"
                );
            } else {
                r.expect_problem(404, "not_found");
            }
        }
        // Every refusal changed nothing.
        assert_eq!(
            app.get(&format!("/api/v1/disputes/{id}"), Some(&w.admin))
                .expect(200),
            before,
            "{event}"
        );
        let d = w.ok(&app, allowed[0], &id, body);
        assert_eq!(
            d["version"].as_i64().unwrap(),
            before["version"].as_i64().unwrap() + 1,
            "{event}"
        );
    }
}

fn visibility_for_each_role(db: Db) {
    let Some((app, w)) = app(db) else { return };
    let sees = |id: &str, who: &str| {
        app.get(&format!("/api/v1/disputes/{id}"), Some(w.t(who)))
            .status
    };
    let check = |id: &str, visible: &[&str]| {
        for who in EVERYONE {
            let expected = if visible.contains(&who) { 200 } else { 404 };
            assert_eq!(
                sees(id, who),
                expected,
                "{who} on a case in {:?}",
                app.get(&format!("/api/v1/disputes/{id}"), Some(&w.admin))
                    .json()["state"]
            );
            let listed = app.get("/api/v1/disputes", Some(w.t(who))).expect(200)["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|d| d["id"] == id);
            assert_eq!(listed, expected == 200, "{who} listing");
        }
        assert_eq!(sees(id, "admin"), 200);
    };
    let informal = w.case_at(&app, "informal");
    check(&informal, &[PRACTICE, COMMISSIONER, OFFICER, MEDIATOR]);
    let mediation = w.case_at(&app, "informal_mediation");
    check(&mediation, &[PRACTICE, COMMISSIONER, OFFICER, MEDIATOR]);
    let forming = w.case_at(&app, "panel_forming");
    check(
        &forming,
        &[PRACTICE, COMMISSIONER, OFFICER, MEDIATOR, SECRETARY],
    );
    let appointed = w.case_at(&app, "panel_appointed");
    check(
        &appointed,
        &[
            PRACTICE,
            COMMISSIONER,
            OFFICER,
            MEDIATOR,
            SECRETARY,
            CLINICAL,
            GP,
            LMC_REP,
        ],
    );
    // An inter-practice dispute: both practices and the appellant's commissioning group's officer.
    let ip = w.file_inter_practice(&app, false);
    check(&ip, &[PRACTICE, OTHER_PRACTICE, OFFICER, MEDIATOR]);
    // mine=true: the mediator's own cases only.
    let mine = app
        .get("/api/v1/disputes?mine=true", Some(w.t(MEDIATOR)))
        .expect(200);
    let ids: Vec<&str> = mine["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&mediation.as_str())
            && !ids.contains(&informal.as_str())
            && !ids.contains(&ip.as_str()),
        "{ids:?}"
    );
    // Documents and notices of an invisible dispute are 404 too.
    let doc = w
        .upload(&app, PRACTICE, &informal, "evidence", "e.pdf", b"e")
        .expect(201);
    let doc_id = doc["id"].as_str().unwrap();
    app.get(&format!("/api/v1/documents/{doc_id}"), Some(w.t(OUTSIDER)))
        .expect_problem(404, "not_found");
    app.get(
        &format!("/api/v1/disputes/{informal}/notices"),
        Some(w.t(OUTSIDER)),
    )
    .expect_problem(404, "not_found");
    w.upload(&app, OUTSIDER, &informal, "evidence", "x.pdf", b"x")
        .expect_problem(404, "not_found");
    app.get(
        &format!("/api/v1/documents/{doc_id}"),
        Some(w.t(COMMISSIONER)),
    )
    .expect(200);
}

fn documents_upload_download_and_limits(db: Db) {
    let Some((app, w)) = app(db) else { return };
    let id = w.file(&app, true);
    let content: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let r = w
        .upload(
            &app,
            PRACTICE,
            &id,
            "grounds",
            "../../etc/Grounds v2.pdf",
            &content,
        )
        .expect(201);
    assert_eq!(r["size"], content.len());
    assert_eq!(r["kind"], "grounds");
    assert_eq!(r["name"], "Grounds v2.pdf");
    use sha2::Digest;
    assert_eq!(r["sha256"], hex::encode(sha2::Sha256::digest(&content)));
    let got = app.get(
        &format!("/api/v1/documents/{}", r["id"].as_str().unwrap()),
        Some(w.t(COMMISSIONER)),
    );
    assert_eq!(got.status, 200);
    assert_eq!(got.bytes, content);
    assert_eq!(got.header("content-type"), Some("application/pdf"));
    assert!(got
        .header("content-disposition")
        .unwrap()
        .starts_with("attachment;"));
    assert_eq!(got.header("x-content-type-options"), Some("nosniff"));
    // Bad kind, missing file → 422; over 20 MiB → 413; not multipart → 415.
    w.upload(&app, PRACTICE, &id, "poem", "p.pdf", b"p")
        .expect_problem(422, "validation_failed");
    let big = vec![b'a'; 20 * 1024 * 1024 + 1];
    w.upload(&app, PRACTICE, &id, "evidence", "big.pdf", &big)
        .expect_problem(413, "payload_too_large");
    app.post(
        &format!("/api/v1/disputes/{id}/documents"),
        Some(w.t(PRACTICE)),
        &json!({}),
    )
    .expect_problem(415, "unsupported_media_type");
    let list = app
        .get(
            &format!("/api/v1/disputes/{id}/documents"),
            Some(w.t(PRACTICE)),
        )
        .expect(200);
    assert_eq!(list.as_array().unwrap().len(), 1);
    // An HTML upload is served as an opaque download.
    let boundary = "b0undary";
    let body = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\nother\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.html\"\r\nContent-Type: text/html\r\n\r\n<script>alert(1)</script>\r\n--{boundary}--\r\n");
    let r = app
        .send_raw(
            "POST",
            &format!("/api/v1/disputes/{id}/documents"),
            Some(w.t(PRACTICE)),
            &format!("multipart/form-data; boundary={boundary}"),
            body.as_bytes(),
            &[],
        )
        .expect(201);
    let got = app.get(
        &format!("/api/v1/documents/{}", r["id"].as_str().unwrap()),
        Some(w.t(PRACTICE)),
    );
    assert_eq!(got.header("content-type"), Some("application/octet-stream"));
}

fn restart_with_later_today_walks_the_case(db: Db) {
    let Some((app, w)) = app(db) else { return };
    let id = w.case_at(&app, "panel_appointed");
    w.ok(
        &app,
        SECRETARY,
        &id,
        json!({"type": "schedule_hearing", "date": "2026-03-12", "time": "10:00", "venue": "V"}),
    );
    // Restart on the same database with the hearing day pinned.
    let app = app.restart_with(&[("LDR_TODAY", "2026-03-12")]);
    assert_eq!(app.state.clock.today().to_string(), "2026-03-12");
    let secretary = app.login_as(SECRETARY);
    let r = app.post(&format!("/api/v1/disputes/{id}/events"), Some(&secretary), &json!({"type": "record_hearing",
        "held_on": "2026-03-12", "appellant_presented": true, "respondent_presented": true, "record": "r"}));
    assert_eq!(r.expect(200)["state"], "hearing_held");
    // The bundle was never distributed: the sweep at start recorded the breach.
    let d = app
        .get(&format!("/api/v1/disputes/{id}"), Some(&secretary))
        .expect(200);
    let kinds: Vec<&str> = d["breaches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"bundle_too_late"), "{d}");
}

fn listing_filters_and_pagination(db: Db) {
    let Some((app, w)) = app(db) else { return };
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(w.file(&app, false));
    }
    let formal = w.case_at(&app, "formal_requested");
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("/api/v1/disputes?limit=2&cursor={c}"),
            None => "/api/v1/disputes?limit=2".to_string(),
        };
        let page = app.get(&url, Some(w.t(PRACTICE))).expect(200);
        for d in page["items"].as_array().unwrap() {
            seen.push(d["id"].as_str().unwrap().to_string());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 6);
    let stage2 = app
        .get("/api/v1/disputes?stage=2", Some(w.t(PRACTICE)))
        .expect(200);
    assert_eq!(stage2["items"].as_array().unwrap().len(), 1);
    assert_eq!(stage2["items"][0]["id"], formal.as_str());
    let informal = app
        .get("/api/v1/disputes?state=informal", Some(w.t(PRACTICE)))
        .expect(200);
    assert_eq!(informal["items"].as_array().unwrap().len(), 5);
    let due = app
        .get(
            "/api/v1/disputes?due_before=2026-03-30",
            Some(w.t(PRACTICE)),
        )
        .expect(200);
    assert_eq!(due["items"].as_array().unwrap().len(), 1);
    let due = app
        .get(
            "/api/v1/disputes?due_before=2026-03-29",
            Some(w.t(PRACTICE)),
        )
        .expect(200);
    assert!(due["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|d| d["deadlines"]["notice_by"].as_str().unwrap_or("9") <= "2026-03-29"));
    for bad in [
        "state=nope",
        "stage=4",
        "limit=0",
        "limit=500",
        "cursor=zz",
        "due_before=2026-13-01",
        "mine=maybe",
    ] {
        app.get(&format!("/api/v1/disputes?{bad}"), Some(w.t(PRACTICE)))
            .expect_problem(422, "validation_failed");
    }
    // A deadline met already makes no case due: the decision sent, its hearing deadline has
    // passed but is not "due"; its next is the FHSU's, years away.
    let done = w.case_at(&app, "decision_notified");
    let d = app
        .get(&format!("/api/v1/disputes/{done}"), Some(w.t(PRACTICE)))
        .expect(200);
    // Whether the case is listed as due by its deadline `which`.
    let due_by = |which: &str| -> bool {
        let day = d["deadlines"][which].as_str().unwrap();
        let due = app
            .get(
                &format!("/api/v1/disputes?due_before={day}"),
                Some(w.t(PRACTICE)),
            )
            .expect(200);
        due["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["id"] == done.as_str())
    };
    assert!(!due_by("hearing_by"), "due by a deadline met already");
    assert!(due_by("fhsu_by"), "due by the deadline still to be met");
}
