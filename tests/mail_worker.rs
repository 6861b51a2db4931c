//! The mail worker delivers queued notices on both databases (without SMTP: `.eml` files in
//! LDR_MAIL_DIR). On SQLite its claim query used to fail on every poll ("datatype mismatch"),
//! so no notice was ever sent; found in the server log of scripts/fuzz.sh.

mod common;

use common::world::World;
use common::{Db, TestApp};
use std::time::{Duration, Instant};

/// The notices of dispute `id`, as its appellant practice sees them.
fn notices_of(app: &TestApp, w: &World, id: &str) -> serde_json::Value {
    app.get(
        &format!("/api/v1/disputes/{id}/notices"),
        Some(w.t(common::world::PRACTICE)),
    )
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
        let files = std::fs::read_dir(&mail)
            .map(|d| {
                d.filter_map(Result::ok)
                    .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
                    .count()
            })
            .unwrap_or(0);
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

both_dbs!(
    filing_notice_is_delivered,
    a_failed_write_is_retried_and_then_delivered
);
