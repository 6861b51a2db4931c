//! The security review's findings (issue #29), each at the HTTP level on both databases:
//! overrides after a recorded breach, abuse limits, NUL in compressed bodies, roles that must
//! fit the organisation, login throttling by account and address, what parties see of other
//! people, the timeliness report on large ranges, and what is logged and allowed to run.

mod common;

use common::world::*;
use common::{Db, TestApp, ADMIN_EMAIL};
use serde_json::{json, Value};

both_dbs!(
    an_override_after_the_sweep_recorded_the_breach_is_recorded_and_counted,
    filing_is_throttled_per_user_and_organisation,
    uploads_are_throttled,
    notices_quote_long_text_shortened,
    nul_in_a_compressed_body_is_refused_and_changes_nothing,
    a_mediator_of_another_lmc_cannot_be_assigned,
    roles_must_fit_the_organisation_on_every_write,
    login_throttling_locks_out_no_one_elsewhere,
    parties_see_no_personal_addresses_or_delivery_errors,
    the_service_organisation_is_hidden_from_non_admins,
    timeliness_report_counts_beyond_sqlite_bound_values,
);

const MONDAY: &str = "2026-03-02";

fn app_with(db: Db, extra: &[(&str, &str)]) -> Option<(TestApp, World)> {
    let mut env = vec![("LDR_TODAY", MONDAY)];
    env.extend_from_slice(extra);
    let app = TestApp::spawn_with(db, &env)?;
    let w = World::new(&app);
    Some((app, w))
}

fn report(app: &TestApp, w: &World) -> Value {
    app.get(
        "/api/v1/reports/timeliness?from=2026-03-01&to=2026-03-31",
        Some(w.t(SECRETARY)),
    )
    .expect(200)
}

fn an_override_after_the_sweep_recorded_the_breach_is_recorded_and_counted(db: Db) {
    let Some((app, w)) = app_with(db, &[]) else {
        return;
    };
    let id = w.case_at(&app, "decided");
    let d = app
        .get(&format!("/api/v1/disputes/{id}"), Some(w.t(SECRETARY)))
        .expect(200);
    let decision_by: chrono::NaiveDate = d["deadlines"]["decision_by"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    // The decision deadline passes; the sweep records the breach first.
    let late = decision_by + chrono::Duration::days(3);
    app.state.clock.set_today(Some(late));
    {
        let mut pooled = ldr::db::checkout(&app.state.pool).unwrap();
        ldr::notify::sweep::run(
            &mut pooled,
            &app.state.calendar,
            &app.state.templates,
            &app.state.cfg.public_url,
            late,
            1000,
        )
        .unwrap();
    }
    let d = app
        .get(&format!("/api/v1/disputes/{id}"), Some(w.t(SECRETARY)))
        .expect(200);
    let breach = |d: &Value| {
        d["breaches"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["kind"] == "decision_late")
            .cloned()
            .expect("decision_late breach")
    };
    assert_eq!(breach(&d)["overridden"], false);
    assert_eq!(report(&app, &w)["overrides"], 0);
    // Then the secretary sends the decision late, with a reason.
    let d = w.ok(
        &app,
        SECRETARY,
        &id,
        json!({"type": "notify_decision", "override_reason": "The chair was in hospital"}),
    );
    let b = breach(&d);
    assert_eq!(b["overridden"], true, "{b}");
    assert!(
        b["detail"]
            .as_str()
            .unwrap()
            .contains("The chair was in hospital"),
        "{b}"
    );
    let events = app
        .get(
            &format!("/api/v1/disputes/{id}/events"),
            Some(w.t(SECRETARY)),
        )
        .expect(200);
    let last = events.as_array().unwrap().last().unwrap();
    assert_eq!(last["data"]["override"]["rules"], json!(["decision_late"]));
    assert_eq!(last["actor_id"], w.id(SECRETARY));
    assert_eq!(report(&app, &w)["overrides"], 1);
}

fn filing_body(w: &World, title: &str) -> Value {
    json!({"title": title, "category": "prescribing", "appellant_id": w.elm,
        "respondent_id": w.north_ccg, "summary": "s", "matter_arose_on": "2025-06-01",
        "contract_related": false})
}

fn count_disputes(app: &TestApp, w: &World) -> usize {
    app.get("/api/v1/disputes?limit=100", Some(&w.admin))
        .expect(200)["items"]
        .as_array()
        .unwrap()
        .len()
}

fn filing_is_throttled_per_user_and_organisation(db: Db) {
    // The default limits ("" = unset): 10 filings an hour per user, 30 per organisation.
    let Some((app, w)) = app_with(db, &[("LDR_FILINGS_PER_HOUR", "")]) else {
        return;
    };
    // Filings refused for their fields do not count: a form sent back with mistakes a dozen
    // times leaves the hour's ten filings whole.
    for _ in 0..12 {
        let mut bad = filing_body(&w, "Missing its date");
        bad.as_object_mut().unwrap().remove("matter_arose_on");
        app.post("/api/v1/disputes", Some(w.t(PRACTICE)), &bad)
            .expect(422);
    }
    for i in 0..9 {
        app.post(
            "/api/v1/disputes",
            Some(w.t(PRACTICE)),
            &filing_body(&w, &format!("Dispute {i}")),
        )
        .expect(201);
    }
    let tenth = filing_body(&w, "Dispute 9").to_string();
    let keyed = || {
        app.send_raw(
            "POST",
            "/api/v1/disputes",
            Some(w.t(PRACTICE)),
            "application/json",
            tenth.as_bytes(),
            &[("Idempotency-Key", "the-tenth")],
        )
    };
    let first = keyed().expect(201);
    let r = app.post(
        "/api/v1/disputes",
        Some(w.t(PRACTICE)),
        &filing_body(&w, "One too many"),
    );
    let p = r.expect_problem(429, "rate_limited");
    // Sending the tenth again (a double click, a retry) files nothing and is not refused: the
    // answer is the dispute it filed.
    assert_eq!(keyed().expect(201)["id"], first["id"]);
    assert!(
        p["detail"].as_str().unwrap().contains("disputes filed"),
        "{p}"
    );
    let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!(retry >= 1, "{retry}");
    assert_eq!(
        count_disputes(&app, &w),
        10,
        "the refused filing created nothing"
    );
    // Another practice's user is not held back by this one.
    app.post(
        "/api/v1/disputes",
        Some(w.t(OTHER_PRACTICE)),
        &json!({"title": "Oak's own", "category": "other", "appellant_id": w.oak,
            "respondent_id": w.north_ccg, "summary": "s", "matter_arose_on": "2025-06-01",
            "contract_related": false}),
    )
    .expect(201);
    // The organisation's limit (3 × 10) holds across its users.
    let admin = w.admin.clone();
    let mut tokens = Vec::new();
    for i in 0..3 {
        let name = format!("Colleague {i}");
        app.user(&admin, &name, &w.elm, &["practice_user"], &[]);
        tokens.push(app.login_as(&name));
    }
    let mut created = 0;
    let mut refused = 0;
    for t in &tokens {
        for i in 0..10 {
            let r = app.post(
                "/api/v1/disputes",
                Some(t),
                &filing_body(&w, &format!("C {i}")),
            );
            match r.status {
                201 => created += 1,
                429 => refused += 1,
                s => panic!("unexpected {s}"),
            }
        }
    }
    assert_eq!(created, 20, "30 per organisation, 10 already filed");
    assert_eq!(refused, 10);
}

fn uploads_are_throttled(db: Db) {
    let Some((app, w)) = app_with(db, &[("LDR_UPLOADS_PER_HOUR", "2")]) else {
        return;
    };
    let id = w.file(&app, false);
    for _ in 0..2 {
        w.upload(&app, PRACTICE, &id, "evidence", "e.pdf", b"%PDF e")
            .expect(201);
    }
    w.upload(&app, PRACTICE, &id, "evidence", "e.pdf", b"%PDF e")
        .expect_problem(429, "rate_limited");
    let docs = app
        .get(&format!("/api/v1/disputes/{id}/documents"), Some(&w.admin))
        .expect(200);
    assert_eq!(docs.as_array().unwrap().len(), 2);
    // Events that send notices are limited too.
    let Some((app, w)) = app_with(db, &[("LDR_NOTICE_EVENTS_PER_HOUR", "1")]) else {
        return;
    };
    let id = w.file(&app, false);
    w.ok(
        &app,
        MEDIATOR,
        &id,
        json!({"type": "assign_mediator", "mediator_id": w.id(MEDIATOR), "mode": "advisory"}),
    );
    // A note sends nothing and is not limited.
    w.ok(
        &app,
        MEDIATOR,
        &id,
        json!({"type": "add_note", "text": "met"}),
    );
    w.event(
        &app,
        MEDIATOR,
        &id,
        json!({"type": "exhaust_informal", "reason": "no agreement"}),
    )
    .expect_problem(429, "rate_limited");
    let d = app
        .get(&format!("/api/v1/disputes/{id}"), Some(&w.admin))
        .expect(200);
    assert_eq!(d["state"], "informal_mediation");
}

fn notices_quote_long_text_shortened(db: Db) {
    let Some((app, w)) = app_with(db, &[]) else {
        return;
    };
    let summary = "The budget was cut. ".repeat(1_000); // 20,000 characters
    let mut body = filing_body(&w, "Long summary");
    body["summary"] = json!(summary);
    let id = app
        .post("/api/v1/disputes", Some(w.t(PRACTICE)), &body)
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    // The dispute keeps the whole summary ...
    let d = app
        .get(&format!("/api/v1/disputes/{id}"), Some(w.t(PRACTICE)))
        .expect(200);
    assert_eq!(
        d["summary"].as_str().map(str::len),
        Some(summary.trim().len())
    );
    // ... the e-mail quotes 2,000 characters of it and says where the rest is.
    let mail_dir = app.dir.path().join("mail");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let eml = loop {
        let found = std::fs::read_dir(&mail_dir).ok().and_then(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| std::fs::read(e.path()).unwrap_or_default())
                .find(|b| String::from_utf8_lossy(b).contains("Long summary"))
        });
        if let Some(b) = found {
            break b;
        }
        assert!(std::time::Instant::now() < deadline, "no notice written");
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    let msg = mail_parser::MessageParser::default().parse(&eml).unwrap();
    let text = msg.body_text(0).unwrap();
    assert!(text.contains("shortened"), "{text}");
    assert!(text.len() < 5_000, "{} characters", text.len());
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn deflate(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn nul_in_a_compressed_body_is_refused_and_changes_nothing(db: Db) {
    let Some((app, w)) = app_with(db, &[]) else {
        return;
    };
    let id = w.file(&app, false);
    let events = |app: &TestApp| {
        app.get(&format!("/api/v1/disputes/{id}/events"), Some(&w.admin))
            .expect(200)
            .as_array()
            .unwrap()
            .len()
    };
    let before = events(&app);
    let note = br#"{"type": "add_note", "text": "before\u0000after"}"#;
    for (encoding, body) in [("gzip", gzip(note)), ("deflate", deflate(note))] {
        app.send_raw(
            "POST",
            &format!("/api/v1/disputes/{id}/events"),
            Some(w.t(PRACTICE)),
            "application/json",
            &body,
            &[("Content-Encoding", encoding)],
        )
        .expect_problem(400, "malformed_request");
    }
    let login = br#"{"email": "a\u0000@x.nhs.test", "password": "a-long-password-1"}"#;
    app.send_raw(
        "POST",
        "/api/v1/auth/login",
        None,
        "application/json",
        &gzip(login),
        &[("Content-Encoding", "gzip")],
    )
    .expect_problem(400, "malformed_request");
    assert_eq!(events(&app), before);
    // A compressed body without a NUL is read as usual.
    let ok = br#"{"type": "add_note", "text": "compressed"}"#;
    app.send_raw(
        "POST",
        &format!("/api/v1/disputes/{id}/events"),
        Some(w.t(PRACTICE)),
        "application/json",
        &gzip(ok),
        &[("Content-Encoding", "gzip")],
    )
    .expect(200);
    assert_eq!(events(&app), before + 1);
    // A body that is not what its encoding says is a 400, not a 500.
    let r = app.send_raw(
        "POST",
        &format!("/api/v1/disputes/{id}/events"),
        Some(w.t(PRACTICE)),
        "application/json",
        b"not gzip at all",
        &[("Content-Encoding", "gzip")],
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(events(&app), before + 1);
}

fn a_mediator_of_another_lmc_cannot_be_assigned(db: Db) {
    let Some((app, w)) = app_with(db, &[]) else {
        return;
    };
    let id = w.file(&app, false);
    let p = w
        .event(
            &app,
            MEDIATOR,
            &id,
            json!({"type": "assign_mediator", "mediator_id": w.id(KENT_MEDIATOR), "mode": "advisory"}),
        )
        .expect_problem(422, "validation_failed");
    assert_eq!(p["errors"][0]["field"], "mediator_id", "{p}");
    // Nothing changed, and the other LMC's mediator still cannot see the case.
    let d = app
        .get(&format!("/api/v1/disputes/{id}"), Some(&w.admin))
        .expect(200);
    assert_eq!(d["state"], "informal");
    app.get(&format!("/api/v1/disputes/{id}"), Some(w.t(KENT_MEDIATOR)))
        .expect_problem(404, "not_found");
}

fn roles_must_fit_the_organisation_on_every_write(db: Db) {
    let Some((app, w)) = app_with(db, &[]) else {
        return;
    };
    let pat = w.id(PRACTICE);
    let path = format!("/api/v1/users/{pat}");
    let p = app
        .patch(&path, Some(&w.admin), &json!({"roles": ["lmc_mediator"]}))
        .expect_problem(422, "validation_failed");
    assert_eq!(p["errors"][0]["field"], "roles", "{p}");
    let p = app
        .patch(
            &path,
            Some(&w.admin),
            &json!({"panel_roles": ["gp_conciliator"]}),
        )
        .expect_problem(422, "validation_failed");
    assert_eq!(p["errors"][0]["field"], "panel_roles", "{p}");
    let u = app.get(&path, Some(&w.admin)).expect(200);
    assert_eq!(u["roles"], json!(["practice_user"]));
    assert_eq!(u["panel_roles"], json!([]));
    // What fits is accepted.
    let u = app
        .patch(
            &path,
            Some(&w.admin),
            &json!({"roles": ["practice_user", "panelist"], "panel_roles": ["gp_conciliator"]}),
        )
        .expect(200);
    assert_eq!(u["panel_roles"], json!(["gp_conciliator"]));
}

fn login_throttling_locks_out_no_one_elsewhere(db: Db) {
    let Some(app) = TestApp::spawn_with(db, &[("LDR_TRUSTED_PROXIES", "127.0.0.1/32")]) else {
        return;
    };
    let login = |password: &str, client: &str| {
        app.send_raw(
            "POST",
            "/api/v1/auth/login",
            None,
            "application/json",
            json!({"email": ADMIN_EMAIL, "password": password})
                .to_string()
                .as_bytes(),
            &[("X-Forwarded-For", client)],
        )
    };
    // An attacker behind the trusted proxy guesses until locked out ...
    let mut locked = false;
    for _ in 0..12 {
        let r = login("wrong-password-x", "203.0.113.66");
        if r.status == 429 {
            locked = true;
            break;
        }
        r.expect_problem(401, "unauthorized");
    }
    assert!(locked, "no 429 after 12 attempts");
    login(common::ADMIN_PASSWORD, "203.0.113.66").expect_problem(429, "rate_limited");
    // ... and the account's owner, elsewhere, still signs in.
    login(common::ADMIN_PASSWORD, "198.51.100.7").expect(200);
    // A client that is not a trusted proxy cannot choose its address with the header.
    let Some(app) = TestApp::spawn(db) else {
        return;
    };
    let mut locked = false;
    for i in 0..12 {
        let r = app.send_raw(
            "POST",
            "/api/v1/auth/login",
            None,
            "application/json",
            json!({"email": ADMIN_EMAIL, "password": "wrong-password-x"})
                .to_string()
                .as_bytes(),
            &[("X-Forwarded-For", &format!("192.0.2.{i}"))],
        );
        if r.status == 429 {
            locked = true;
            break;
        }
    }
    assert!(
        locked,
        "the header must be ignored without LDR_TRUSTED_PROXIES"
    );
}

fn parties_see_no_personal_addresses_or_delivery_errors(db: Db) {
    // Mail to an SMTP server that is not there: every notice records a delivery error.
    let Some((app, w)) = app_with(
        db,
        &[
            ("LDR_SMTP_URL", "smtp://127.0.0.1:9?tls=none"),
            ("LDR_MAIL_RETRY_BASE_SECONDS", "1"),
        ],
    ) else {
        return;
    };
    let id = w.case_at(&app, "panel_appointed");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let notices = |who: &str| {
        app.get(&format!("/api/v1/disputes/{id}/notices"), Some(w.t(who)))
            .expect(200)
    };
    while notices(SECRETARY)
        .as_array()
        .unwrap()
        .iter()
        .all(|n| n["last_error"].is_null())
    {
        assert!(std::time::Instant::now() < deadline, "no delivery failed");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    // The case's secretary sees addresses and errors.
    let email = |name: &str| format!("{}@ldr.test", name.to_lowercase().replace(' ', "."));
    let all = notices(SECRETARY).to_string();
    assert!(all.contains(&email(CLINICAL)), "{all}");
    // A party sees organisations' addresses and people's names, never their addresses or
    // the delivery errors.
    let party = notices(PRACTICE);
    let text = party.to_string();
    for person in [CLINICAL, GP, LMC_REP, OFFICER, SECRETARY, MEDIATOR] {
        assert!(
            !text.contains(&email(person)),
            "{person}'s address in {text}"
        );
    }
    assert!(text.contains(CLINICAL), "{text}");
    assert!(
        party
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n["last_error"].is_null()),
        "{text}"
    );
}

fn the_service_organisation_is_hidden_from_non_admins(db: Db) {
    let Some((app, w)) = app_with(db, &[]) else {
        return;
    };
    let orgs = app
        .get("/api/v1/organisations", Some(w.t(PRACTICE)))
        .expect(200);
    let text = orgs.to_string();
    assert!(!text.contains(ADMIN_EMAIL), "{text}");
    assert!(!text.contains("\"service\""), "{text}");
    let all = app.get("/api/v1/organisations", Some(&w.admin)).expect(200);
    let service = all
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["kind"] == "service")
        .expect("the admin sees the service organisation")
        .clone();
    // Its address is the service's sender, not the bootstrap admin's own.
    assert_ne!(service["email"], ADMIN_EMAIL);
    let sid = service["id"].as_str().unwrap();
    app.get(&format!("/api/v1/organisations/{sid}"), Some(w.t(PRACTICE)))
        .expect_problem(404, "not_found");
}

fn timeliness_report_counts_beyond_sqlite_bound_values(db: Db) {
    let Some((app, w)) = app_with(db, &[]) else {
        return;
    };
    // One real case with a formal request, then 33,000 more rows of formal requests written
    // straight into the database (a large region over several years).
    let id = w.case_at(&app, "formal_requested");
    {
        use diesel::connection::SimpleConnection;
        let mut pooled = ldr::db::checkout(&app.state.pool).unwrap();
        let conn: &mut ldr::db::DbConn = &mut pooled;
        let copy = match db {
            Db::Sqlite => {
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 33000) \
                 INSERT INTO disputes SELECT"
            }
            Db::Postgres => "INSERT INTO disputes SELECT",
        };
        let cols = ldr_dispute_columns(conn);
        let select: Vec<String> = cols
            .iter()
            .map(|c| match c.as_str() {
                "id" => match db {
                    Db::Sqlite => "d.id || '-' || n.i".to_string(),
                    Db::Postgres => "d.id || '-' || n.i::text".to_string(),
                },
                other => format!("d.{other}"),
            })
            .collect();
        let from = match db {
            Db::Sqlite => format!("FROM disputes d, n WHERE d.id = '{id}'"),
            Db::Postgres => {
                format!("FROM disputes d, generate_series(1, 33000) AS n(i) WHERE d.id = '{id}'")
            }
        };
        conn.batch_execute(&format!("{copy} {} {from}", select.join(", ")))
            .unwrap();
    }
    let r = report(&app, &w);
    assert_eq!(r["formal_requests"], 33_001, "{r}");
}

/// The `disputes` table's columns in their order (for copying rows in SQL).
fn ldr_dispute_columns(conn: &mut ldr::db::DbConn) -> Vec<String> {
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct Col {
        #[diesel(sql_type = diesel::sql_types::Text)]
        name: String,
    }
    let q = match conn {
        ldr::db::DbConn::Sqlite(_) => "SELECT name FROM pragma_table_info('disputes') ORDER BY cid",
        ldr::db::DbConn::Pg(_) => {
            "SELECT column_name AS name FROM information_schema.columns \
             WHERE table_name = 'disputes' ORDER BY ordinal_position"
        }
    };
    diesel::sql_query(q)
        .load::<Col>(conn)
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect()
}
