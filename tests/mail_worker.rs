//! The mail worker delivers queued notices on both databases (without SMTP: `.eml` files in
//! LDR_MAIL_DIR). On SQLite its claim query used to fail on every poll ("datatype mismatch"),
//! so no notice was ever sent; found in the server log of scripts/fuzz.sh.

mod common;

use common::world::World;
use common::{Db, TestApp};
use std::time::{Duration, Instant};

fn filing_notice_is_delivered(db: Db) {
    let Some(app) = TestApp::spawn_with(db, &[("LDR_TODAY", "2026-03-02")]) else {
        return;
    };
    let w = World::new(&app);
    let id = w.file(&app, true);
    let mail = app.dir.path().join("mail");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let notices = app
            .get(
                &format!("/api/v1/disputes/{id}/notices"),
                Some(w.t(common::world::PRACTICE)),
            )
            .expect(200);
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
            return;
        }
        assert!(
            Instant::now() < deadline,
            "no notice sent within 30 s: {notices}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
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
    let notices = |app: &TestApp| {
        app.get(
            &format!("/api/v1/disputes/{id}/notices"),
            Some(w.t(common::world::PRACTICE)),
        )
        .expect(200)
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let all = notices(&app);
        let n = &all.as_array().unwrap()[0];
        if n["attempts"].as_i64().unwrap_or(0) >= 1 {
            assert_eq!(n["status"], "queued", "{n}");
            assert!(
                n["last_error"]
                    .as_str()
                    .is_some_and(|e| e.contains("writing .eml")),
                "{n}"
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no failed attempt within 30 s: {all}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    std::fs::remove_file(&mail).unwrap();
    std::fs::create_dir(&mail).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let all = notices(&app);
        let n = &all.as_array().unwrap()[0];
        if n["status"] == "sent" {
            assert!(n["attempts"].as_i64().unwrap() >= 2, "{n}");
            let file = mail.join(format!("{}.eml", n["id"].as_str().unwrap()));
            assert!(file.exists(), "{n}: no {}", file.display());
            return;
        }
        assert!(
            Instant::now() < deadline,
            "not delivered within 30 s: {all}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

both_dbs!(
    filing_notice_is_delivered,
    a_failed_write_is_retried_and_then_delivered
);
