//! The mail worker delivers queued notices on both databases (without SMTP: `.eml` files in
//! LDR_MAIL_DIR). On SQLite its claim query used to fail on every poll ("datatype mismatch"),
//! so no notice was ever sent; found in the server log of scripts/fuzz.sh.

mod common;

use common::world::World;
use common::{Db, TestApp};
use std::time::{Duration, Instant};

/// The notices of dispute `id`, as its appellant practice sees them.
/// The case's notices as an admin sees them (delivery errors included: parties do not see
/// them).
fn notices_of(app: &TestApp, w: &World, id: &str) -> serde_json::Value {
    app.get(&format!("/api/v1/disputes/{id}/notices"), Some(&w.admin))
        .expect(200)
}

/// Polls `probe` until it gives `Ok`, and returns that; fails after 30 s with `what` and the
/// last `Err` (what was seen instead).
#[track_caller]
fn within_30s<T>(what: &str, mut probe: impl FnMut() -> Result<T, String>) -> T {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match probe() {
            Ok(v) => return v,
            Err(seen) => assert!(Instant::now() < deadline, "{what} within 30 s: {seen}"),
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// How many `.eml` files the folder `mail` holds (none while it does not exist yet).
fn eml_files(mail: &std::path::Path) -> usize {
    std::fs::read_dir(mail)
        .map(|d| {
            d.filter_map(Result::ok)
                .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
                .count()
        })
        .unwrap_or(0)
}

fn filing_notice_is_delivered(db: Db) {
    let Some(app) = TestApp::spawn_with(db, &[("LDR_TODAY", "2026-03-02")]) else {
        return;
    };
    let w = World::new(&app);
    let id = w.file(&app, true);
    let mail = app.dir.path().join("mail");
    within_30s("no notice sent", || {
        let notices = notices_of(&app, &w, &id);
        let sent = notices
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["status"] == "sent");
        let files = eml_files(&mail);
        if sent && files > 0 {
            Ok(())
        } else {
            Err(notices.to_string())
        }
    });
}

/// A notice whose `.eml` cannot be written is recorded as a failed attempt (with the error)
/// and stays queued; once the folder can be written again, the retry delivers it. (The folder
/// is replaced by a plain file: the tests may run as root, whom permissions do not stop.)
fn a_failed_write_is_retried_and_then_delivered(db: Db) {
    let Some(app) = TestApp::spawn_with(
        db,
        &[
            ("LDR_TODAY", "2026-03-02"),
            ("LDR_MAIL_RETRY_BASE_SECONDS", "1"),
        ],
    ) else {
        return;
    };
    let w = World::new(&app);
    let mail = app.dir.path().join("mail");
    std::fs::remove_dir_all(&mail).unwrap();
    std::fs::write(&mail, b"not a folder").unwrap();
    let id = w.file(&app, true);
    // The first notice of the dispute once `done` holds of it.
    let first_notice = |what: &str, done: fn(&serde_json::Value) -> bool| {
        within_30s(what, || {
            let all = notices_of(&app, &w, &id);
            let n = all.as_array().unwrap()[0].clone();
            if done(&n) {
                Ok(n)
            } else {
                Err(all.to_string())
            }
        })
    };
    let n = first_notice("no failed attempt", |n| {
        n["attempts"].as_i64().unwrap_or(0) >= 1
    });
    assert_eq!(n["status"], "queued", "{n}");
    assert!(
        n["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("writing .eml")),
        "{n}"
    );
    std::fs::remove_file(&mail).unwrap();
    std::fs::create_dir(&mail).unwrap();
    let n = first_notice("not delivered", |n| n["status"] == "sent");
    assert!(n["attempts"].as_i64().unwrap() >= 2, "{n}");
    let file = mail.join(format!("{}.eml", n["id"].as_str().unwrap()));
    assert!(file.exists(), "{n}: no {}", file.display());
}

/// A worker that fell behind (here: 300 notices due when it starts) claims more than
/// [`BATCH`](ldr::notify::worker::BATCH) at a time once its claims come back full and are
/// quickly delivered. Each batch's sends are recorded together, with one `sent_at`, so the rows
/// sent at one instant are at least one claim's.
fn a_worker_behind_claims_more_than_a_batch_at_a_time(db: Db) {
    use diesel::prelude::*;
    use ldr::db::schema::notices::dsl as no;
    let Some(mut app) = TestApp::spawn_with(db, &[("LDR_TODAY", "2026-03-02")]) else {
        return;
    };
    app.stop();
    let n = 300;
    for i in 0..n {
        let id = uuid::Uuid::new_v4().to_string();
        let subject = format!("Backlog notice {i}");
        app.queue_notice(
            &id,
            "backlog",
            r#"["someone@backlog.test"]"#,
            &subject,
            "A notice of the backlog.",
        );
    }
    let app = app.restart_with(&[("LDR_TODAY", "2026-03-02")]);
    let sent_at = within_30s("the backlog sent", || {
        let mut c = app.state.pool.get().unwrap();
        let rows: Vec<(String, Option<chrono::NaiveDateTime>)> = no::notices
            .select((no::status, no::sent_at))
            .load(&mut **c)
            .map_err(|e| e.to_string())?;
        let sent: Vec<_> = rows.iter().filter(|r| r.0 == "sent").collect();
        if sent.len() == n {
            Ok(sent
                .iter()
                .map(|r| r.1.expect("sent_at"))
                .collect::<Vec<_>>())
        } else {
            Err(format!("{} of {n} sent", sent.len()))
        }
    });
    assert_eq!(
        eml_files(&app.dir.path().join("mail")),
        n,
        "one .eml per notice"
    );
    let mut per_instant: std::collections::HashMap<chrono::NaiveDateTime, usize> =
        Default::default();
    for t in sent_at {
        *per_instant.entry(t).or_default() += 1;
    }
    let biggest = per_instant.values().copied().max().unwrap_or(0);
    assert!(
        biggest > ldr::notify::worker::BATCH as usize,
        "a worker behind claims more than {} at a time; recorded together: {:?}",
        ldr::notify::worker::BATCH,
        per_instant.values().collect::<Vec<_>>()
    );
}

/// A notice whose stored recipients, or whose stored list of whom it was sent to, do not read
/// is failed at once with the reason (for an admin to fix in the data), and nothing is sent:
/// it is neither read as "nobody" (lost without a word) nor as "sent to nobody yet" (sent to
/// everyone again). The stored lists are left as they were, and a good notice beside them is
/// delivered.
fn a_notice_whose_lists_do_not_read_is_failed_with_the_reason(db: Db) {
    use diesel::prelude::*;
    use ldr::db::schema::notices::dsl as no;
    let Some(mut app) = TestApp::spawn_with(db, &[("LDR_TODAY", "2026-03-02")]) else {
        return;
    };
    app.stop();
    let good = uuid::Uuid::new_v4().to_string();
    let bad_recipients = uuid::Uuid::new_v4().to_string();
    let bad_sent_to = uuid::Uuid::new_v4().to_string();
    for (id, recipients) in [
        (&good, r#"["good@notices.test"]"#),
        (&bad_recipients, "good@notices.test"),
        (&bad_sent_to, r#"["a@notices.test", "b@notices.test"]"#),
    ] {
        app.queue_notice(id, "lists", recipients, "A notice", "A notice.");
    }
    {
        let mut c = app.state.pool.get().unwrap();
        diesel::update(no::notices.find(&bad_sent_to))
            .set(no::sent_to.eq(Some("a@notices.test")))
            .execute(&mut **c)
            .unwrap();
    }
    let app = app.restart_with(&[("LDR_TODAY", "2026-03-02")]);
    type Row = (String, String, Option<String>, Option<String>);
    let rows = within_30s("all three settled", || {
        let mut c = app.state.pool.get().unwrap();
        let rows: Vec<(String, Row)> = no::notices
            .select((
                no::id,
                (no::status, no::recipients, no::sent_to, no::last_error),
            ))
            .load(&mut **c)
            .map_err(|e| e.to_string())?;
        if rows.iter().all(|r| r.1 .0 != "queued") {
            Ok(rows
                .into_iter()
                .collect::<std::collections::HashMap<_, _>>())
        } else {
            Err(format!("{rows:?}"))
        }
    });
    assert_eq!(rows[&good].0, "sent", "{rows:?}");
    let (status, recipients, _, error) = &rows[&bad_recipients];
    assert_eq!(status, "failed", "{rows:?}");
    assert_eq!(recipients, "good@notices.test", "left as it was");
    assert!(
        error
            .as_deref()
            .is_some_and(|e| e.contains("recipients (notices.recipients) do not read")),
        "{rows:?}"
    );
    let (status, _, sent_to, error) = &rows[&bad_sent_to];
    assert_eq!(status, "failed", "{rows:?}");
    assert_eq!(sent_to.as_deref(), Some("a@notices.test"), "left as it was");
    assert!(
        error
            .as_deref()
            .is_some_and(|e| e.contains("sent to (notices.sent_to) does not read")),
        "{rows:?}"
    );
    let mail = app.dir.path().join("mail");
    assert_eq!(eml_files(&mail), 1, "only the good notice is written");
    assert!(mail.join(format!("{good}.eml")).exists());
}

both_dbs!(
    filing_notice_is_delivered,
    a_failed_write_is_retried_and_then_delivered,
    a_worker_behind_claims_more_than_a_batch_at_a_time,
    a_notice_whose_lists_do_not_read_is_failed_with_the_reason
);
