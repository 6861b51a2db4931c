//! The access log (issue #38): every read of a dispute, its documents, notices and history is
//! recorded with who, what, when and from where; only admins see it; old entries are pruned.

mod common;

use common::world::*;
use common::{Db, TestApp};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

both_dbs!(
    reads_by_three_roles_appear_with_who_and_when,
    only_admins_see_the_access_log,
    pruning_removes_entries_past_the_limit,
    a_batch_is_held_and_retried_while_the_database_refuses_it,
    the_queue_is_written_when_the_binary_stops_on_sigterm,
    a_referral_packs_download_is_a_read,
    the_hearings_invitation_and_options_are_reads,
);

/// The hearing's invitation and options tell of the case: each is a read.
fn the_hearings_invitation_and_options_are_reads(db: Db) {
    let Some((app, w)) = app(db) else { return };
    let id = w.case_at(&app, "hearing_scheduled");
    let r = app.get(
        &format!("/api/v1/disputes/{id}/hearing.ics"),
        Some(w.t(PRACTICE)),
    );
    assert_eq!(r.status, 200);
    app.get(
        &format!("/api/v1/disputes/{id}/hearing-options"),
        Some(w.t(SECRETARY)),
    )
    .expect(200);
    let items = log_with(&app, &w, &format!("dispute_id={id}"), 2);
    let kind_by = |kind: &str, who: &str| {
        items
            .iter()
            .any(|e| e["kind"] == kind && e["user_id"] == json!(w.id(who)))
    };
    assert!(kind_by("hearing_ics", PRACTICE), "{items:?}");
    assert!(kind_by("hearing_options", SECRETARY), "{items:?}");
}

/// The FHSU referral pack holds the case's history and documents: downloading it is recorded.
fn a_referral_packs_download_is_a_read(db: Db) {
    let Some((app, w)) = app(db) else { return };
    let id = w.case_at(&app, "referred_to_fhsu");
    let r = app.get(
        &format!("/api/v1/disputes/{id}/referral-pack"),
        Some(w.t(PRACTICE)),
    );
    assert_eq!(r.status, 200);
    let items = log_with(&app, &w, &format!("dispute_id={id}"), 1);
    let pack: Vec<&Value> = items
        .iter()
        .filter(|e| e["kind"] == "referral_pack")
        .collect();
    assert_eq!(pack.len(), 1, "{items:?}");
    assert_eq!(pack[0]["user_id"], json!(w.id(PRACTICE)));
}

fn app(db: Db) -> Option<(TestApp, World)> {
    let app = TestApp::spawn_with(db, &[("LDR_TODAY", "2026-03-02")])?;
    let w = World::new(&app);
    Some((app, w))
}

/// The admin's view of `query` once it holds at least `n` entries (written within a second or
/// so of the reads).
fn log_with(app: &TestApp, w: &World, query: &str, n: usize) -> Vec<Value> {
    let start = Instant::now();
    loop {
        let page = app
            .get(&format!("/api/v1/access-log?{query}"), Some(&w.admin))
            .expect(200);
        let items = page["items"].as_array().unwrap().clone();
        if items.len() >= n || start.elapsed() > Duration::from_secs(15) {
            return items;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn reads_by_three_roles_appear_with_who_and_when(db: Db) {
    let Some((app, w)) = app(db) else { return };
    let id = w.file(&app, false);
    let doc = w
        .upload(&app, PRACTICE, &id, "evidence", "e.pdf", b"%PDF-1.4 e")
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let before = ldr::db::now();
    app.get(&format!("/api/v1/disputes/{id}"), Some(w.t(PRACTICE)))
        .expect(200);
    app.get(
        &format!("/api/v1/disputes/{id}/events"),
        Some(w.t(COMMISSIONER)),
    )
    .expect(200);
    app.get(&format!("/api/v1/documents/{doc}"), Some(w.t(COMMISSIONER)))
        .expect(200);
    app.get(
        &format!("/api/v1/disputes/{id}/documents"),
        Some(w.t(MEDIATOR)),
    )
    .expect(200);
    app.get(
        &format!("/api/v1/disputes/{id}/notices"),
        Some(w.t(MEDIATOR)),
    )
    .expect(200);
    // A refused read is not a read.
    app.get(&format!("/api/v1/disputes/{id}"), Some(w.t(OUTSIDER)))
        .expect(404);
    let items = log_with(&app, &w, &format!("dispute_id={id}"), 5);
    let after = ldr::db::now();
    let seen: Vec<(String, String, Option<String>)> = items
        .iter()
        .map(|e| {
            (
                e["user_name"].as_str().unwrap().to_string(),
                e["kind"].as_str().unwrap().to_string(),
                e["document_id"].as_str().map(str::to_string),
            )
        })
        .collect();
    for expected in [
        (PRACTICE, "dispute", None),
        (COMMISSIONER, "events", None),
        (COMMISSIONER, "document", Some(doc.clone())),
        (MEDIATOR, "documents", None),
        (MEDIATOR, "notices", None),
    ] {
        let e = (expected.0.to_string(), expected.1.to_string(), expected.2);
        assert!(seen.contains(&e), "{e:?} not in {seen:?}");
    }
    assert_eq!(items.len(), 5, "{items:?}");
    for e in &items {
        assert!(!seen.iter().any(|s| s.0 == OUTSIDER));
        assert_eq!(e["dispute_id"], id.as_str());
        assert_eq!(e["client_address"], "127.0.0.1", "{e}");
        // RFC 3339 with its `Z`, as every time the API answers with.
        let at = chrono::DateTime::parse_from_rfc3339(e["at"].as_str().unwrap())
            .unwrap()
            .naive_utc();
        assert!(
            at >= before - chrono::Duration::seconds(1) && at <= after,
            "{e}"
        );
    }
    // Filters: by user, by day, and pages.
    let mine = log_with(
        &app,
        &w,
        &format!("dispute_id={id}&user_id={}", w.id(MEDIATOR)),
        2,
    );
    assert_eq!(mine.len(), 2, "{mine:?}");
    let today = before.date();
    let day = log_with(
        &app,
        &w,
        &format!("dispute_id={id}&from={today}&to={today}"),
        5,
    );
    assert_eq!(day.len(), 5);
    let none = app
        .get(
            &format!(
                "/api/v1/access-log?dispute_id={id}&to={}",
                today.pred_opt().unwrap()
            ),
            Some(&w.admin),
        )
        .expect(200);
    assert_eq!(none["items"], json!([]));
    let p1 = app
        .get(
            &format!("/api/v1/access-log?dispute_id={id}&per_page=2"),
            Some(&w.admin),
        )
        .expect(200);
    assert_eq!(p1["items"].as_array().unwrap().len(), 2);
    assert_eq!(p1["next_page"], 2);
    let p3 = app
        .get(
            &format!("/api/v1/access-log?dispute_id={id}&per_page=2&page=3"),
            Some(&w.admin),
        )
        .expect(200);
    assert_eq!(p3["items"].as_array().unwrap().len(), 1);
    assert_eq!(p3["next_page"], Value::Null);
    // The last page there could be: empty, and no next one (it once overflowed to a panic).
    let last = app
        .get(
            &format!("/api/v1/access-log?dispute_id={id}&page={}", i64::MAX),
            Some(&w.admin),
        )
        .expect(200);
    assert_eq!(last["items"], json!([]));
    assert_eq!(last["next_page"], Value::Null);
    for bad in [
        "per_page=0",
        "per_page=501",
        "page=0",
        "from=2026-03-02&to=2026-03-01",
        "colour=red",
    ] {
        app.get(&format!("/api/v1/access-log?{bad}"), Some(&w.admin))
            .expect_problem(422, "validation_failed");
    }
}

fn only_admins_see_the_access_log(db: Db) {
    let Some((app, w)) = app(db) else { return };
    let id = w.file(&app, false);
    app.get(&format!("/api/v1/disputes/{id}"), Some(w.t(PRACTICE)))
        .expect(200);
    for who in [PRACTICE, COMMISSIONER, MEDIATOR, SECRETARY, OFFICER] {
        app.get(
            &format!("/api/v1/access-log?dispute_id={id}"),
            Some(w.t(who)),
        )
        .expect_problem(403, "forbidden");
    }
    app.get("/api/v1/access-log", None)
        .expect_problem(401, "unauthorized");
    assert_eq!(log_with(&app, &w, &format!("dispute_id={id}"), 1).len(), 1);
}

fn pruning_removes_entries_past_the_limit(db: Db) {
    let Some((app, w)) = app(db) else { return };
    let id = w.file(&app, false);
    let old = ldr::db::now() - chrono::Duration::days(40);
    let recent = ldr::db::now() - chrono::Duration::days(20);
    {
        let mut c = app.state.pool.get().unwrap();
        let entry = |at, n: &str| ldr::db::access_log::Entry {
            id: format!("test-{n}"),
            at,
            user_id: w.id(PRACTICE),
            dispute_id: id.clone(),
            kind: "dispute".into(),
            document_id: None,
            client_address: Some("192.0.2.1".into()),
        };
        let batch = [entry(old, "old"), entry(recent, "recent")];
        ldr::db::access_log::insert_batch(&mut c, &batch).unwrap();
        // A batch written again (its commit's answer lost, the writer retrying) adds nothing.
        ldr::db::access_log::insert_batch(&mut c, &batch).unwrap();
    }
    assert_eq!(log_with(&app, &w, &format!("dispute_id={id}"), 2).len(), 2);
    // An instance keeping 30 days prunes when it starts (and daily after).
    let pruning = app.replica(&[("LDR_TODAY", "2026-03-02"), ("LDR_ACCESS_LOG_DAYS", "30")]);
    let start = Instant::now();
    let left = loop {
        let items = app
            .get(
                &format!("/api/v1/access-log?dispute_id={id}"),
                Some(&w.admin),
            )
            .expect(200)["items"]
            .as_array()
            .unwrap()
            .clone();
        if items.len() == 1 || start.elapsed() > Duration::from_secs(15) {
            break items;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    drop(pruning);
    assert_eq!(left.len(), 1, "{left:?}");
    assert!(left[0]["at"]
        .as_str()
        .unwrap()
        .starts_with(&recent.date().to_string()));
}

fn a_batch_is_held_and_retried_while_the_database_refuses_it(db: Db) {
    let Some((app, w)) = app(db) else { return };
    let id = w.file(&app, false);
    let sql = |q: &str| {
        use diesel::connection::SimpleConnection;
        let mut c = app.state.pool.get().unwrap();
        c.batch_execute(q).unwrap();
    };
    // The log's table goes away: reads are still served, their entries wait.
    sql("ALTER TABLE access_log RENAME TO access_log_away");
    for _ in 0..3 {
        app.get(&format!("/api/v1/disputes/{id}"), Some(w.t(PRACTICE)))
            .expect(200);
    }
    std::thread::sleep(Duration::from_millis(2_500));
    sql("ALTER TABLE access_log_away RENAME TO access_log");
    let items = log_with(&app, &w, &format!("dispute_id={id}"), 3);
    assert_eq!(items.len(), 3, "{items:?}");
    assert_eq!(app.state.access_log.dropped(), 0);
}

/// The real binary, on the same database, serves reads and is stopped with SIGTERM at once,
/// well within the writer's one-second wait for a batch: the reads still queued are written
/// before the process exits (`server::serve` flushes the log after the server stops).
fn the_queue_is_written_when_the_binary_stops_on_sigterm(db: Db) {
    let Some((app, w)) = app(db) else { return };
    let id = w.file(&app, false);
    let port = common::process::free_port();
    let data = tempfile::tempdir().unwrap();
    let mut child = common::process::ldr_command()
        .env("LDR_DATABASE_URL", &app.db_url)
        .env("LDR_JWT_SECRET", common::JWT_SECRET)
        .env("LDR_DATA_DIR", data.path())
        .env("LDR_BIND", format!("127.0.0.1:{port}"))
        .env("LDR_TODAY", "2026-03-02")
        .env("LDR_WORKERS", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let base = format!("http://127.0.0.1:{port}");
    let start = Instant::now();
    while agent.get(&format!("{base}/readyz")).call().is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the binary did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let reads = 5;
    for _ in 0..reads {
        let r = agent
            .get(&format!("{base}/api/v1/disputes/{id}"))
            .header("Authorization", &format!("Bearer {}", w.t(COMMISSIONER)))
            .call()
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
    }
    let term = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            started.elapsed() < Duration::from_secs(40),
            "no exit after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = child.wait_with_output().unwrap();
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(status.code(), Some(0), "{log}");
    assert!(!log.contains("could not be flushed"), "{log}");
    // Written by the binary before it exited: the admin sees them through this instance.
    let query = format!("dispute_id={id}&user_id={}", w.id(COMMISSIONER));
    let items = log_with(&app, &w, &query, reads);
    assert_eq!(items.len(), reads, "{items:?}");
}
