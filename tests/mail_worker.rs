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

both_dbs!(filing_notice_is_delivered);
