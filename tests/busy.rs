//! A request whose write waits longer than the service allows for a lock held by someone else
//! (PostgreSQL's `lock_timeout`, SQLite's `busy_timeout`, both 10 s) is answered with a 503
//! problem to retry, never a 500, and writes nothing; once the lock is released the same
//! request succeeds. The lock is held by a real second client of the same database.

mod common;

use common::world::{World, MEDIATOR, PRACTICE};
use common::{Db, Resp, TestApp};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use serde_json::json;
use std::time::{Duration, Instant};

/// A second client of the app's database holding what a transition of `dispute_id` needs:
/// on PostgreSQL the dispute's row lock, on SQLite the database's write lock.
enum Holder {
    Pg(PgConnection),
    Sqlite(SqliteConnection),
}

impl Holder {
    fn take(app: &TestApp, dispute_id: &str) -> Holder {
        match app.db {
            Db::Postgres => {
                let mut c = PgConnection::establish(&app.db_url).expect("second client");
                c.batch_execute(&format!(
                    "BEGIN; SELECT 1 FROM disputes WHERE id = '{dispute_id}' FOR UPDATE"
                ))
                .expect("row lock");
                Holder::Pg(c)
            }
            Db::Sqlite => {
                let path = app.db_url.trim_start_matches("sqlite://");
                let mut c = SqliteConnection::establish(path).expect("second client");
                c.batch_execute("BEGIN IMMEDIATE").expect("write lock");
                Holder::Sqlite(c)
            }
        }
    }

    /// What queueing a notice needs: on PostgreSQL a `SHARE` lock on `notices` (it lets reads
    /// through and holds back every insert), on SQLite the database's write lock.
    fn take_notices(app: &TestApp) -> Holder {
        match app.db {
            Db::Postgres => {
                let mut c = PgConnection::establish(&app.db_url).expect("second client");
                c.batch_execute("BEGIN; LOCK TABLE notices IN SHARE MODE")
                    .expect("table lock");
                Holder::Pg(c)
            }
            Db::Sqlite => Holder::take(app, ""),
        }
    }

    fn release(self) {
        match self {
            Holder::Pg(mut c) => c.batch_execute("ROLLBACK").expect("rollback"),
            Holder::Sqlite(mut c) => c.batch_execute("ROLLBACK").expect("rollback"),
        }
    }
}

/// Sends the request while the lock is held: it must be refused with a 503 that says when to
/// retry, and only once the service's 10 s wait has run out.
#[track_caller]
fn refused_after_the_wait(send: impl FnOnce() -> Resp) {
    let started = Instant::now();
    let r = send();
    let waited = started.elapsed();
    r.expect_problem(503, "service_unavailable");
    assert_eq!(
        r.header("retry-after"),
        Some("2"),
        "a 503 says when to retry"
    );
    assert!(
        waited >= Duration::from_secs(9),
        "refused after {waited:?}, before the lock wait ran out"
    );
}

fn a_write_that_waits_too_long_for_a_lock_is_a_503_and_writes_nothing(db: Db) {
    let Some(app) = TestApp::spawn(db) else {
        return;
    };
    let w = World::new(&app);
    let id = w.file(&app, false);
    let dispute = |app: &TestApp| {
        app.get(&format!("/api/v1/disputes/{id}"), Some(w.t(PRACTICE)))
            .expect(200)
    };
    let notices = |app: &TestApp| {
        app.get(
            &format!("/api/v1/disputes/{id}/notices"),
            Some(w.t(PRACTICE)),
        )
        .expect(200)
        .as_array()
        .expect("notices")
        .len()
    };
    let before = dispute(&app);
    let notices_before = notices(&app);
    let assign =
        json!({"type": "assign_mediator", "mediator_id": w.id(MEDIATOR), "mode": "mediation"});

    let holder = Holder::take(&app, &id);
    refused_after_the_wait(|| w.event(&app, MEDIATOR, &id, assign.clone()));
    // Reads do not wait for the lock, and see nothing of the refused transition.
    let during = dispute(&app);
    assert_eq!(during["version"], before["version"]);
    assert_eq!(during["mediator"], before["mediator"]);
    holder.release();

    let after = dispute(&app);
    assert_eq!(
        after["version"], before["version"],
        "the refused write left a trace"
    );
    assert_eq!(
        notices(&app),
        notices_before,
        "the refused write queued a notice"
    );

    // The same request, once the lock is free, goes through.
    let d = w.ok(&app, MEDIATOR, &id, assign);
    assert_eq!(d["version"], before["version"].as_i64().unwrap() + 1);
    assert_eq!(d["mediator"]["id"], w.id(MEDIATOR));
    assert_eq!(notices(&app), notices_before + 1);
}

/// Filing queues its notices last, in the same transaction. On PostgreSQL the second client
/// holds back only that insert (the dispute and its event are written first, then rolled back
/// with it); on SQLite it holds the write lock, so the filing waits at its start.
fn a_filing_whose_notice_cannot_be_queued_in_time_is_a_503_and_files_nothing(db: Db) {
    let Some(app) = TestApp::spawn(db) else {
        return;
    };
    let w = World::new(&app);
    let listed = |app: &TestApp| {
        app.get("/api/v1/disputes", Some(w.t(PRACTICE))).expect(200)["items"]
            .as_array()
            .expect("items")
            .len()
    };
    let body = json!({"title": "Premises costs 2025/26", "category": "other",
                      "appellant_id": w.elm, "respondent_id": w.north_ccg,
                      "summary": "The rent review was not applied.",
                      "matter_arose_on": "2025-06-01", "contract_related": false});
    let before = listed(&app);

    let holder = Holder::take_notices(&app);
    refused_after_the_wait(|| app.post("/api/v1/disputes", Some(w.t(PRACTICE)), &body));
    holder.release();
    assert_eq!(listed(&app), before, "the refused filing left a dispute");

    let d = app
        .post("/api/v1/disputes", Some(w.t(PRACTICE)), &body)
        .expect(201);
    assert_eq!(listed(&app), before + 1);
    let notices = app
        .get(
            &format!("/api/v1/disputes/{}/notices", d["id"].as_str().unwrap()),
            Some(w.t(PRACTICE)),
        )
        .expect(200);
    // The respondent's and the LMC's notice, and the filing party's acknowledgement.
    let templates: Vec<&str> = notices
        .as_array()
        .expect("notices")
        .iter()
        .map(|n| n["template"].as_str().unwrap())
        .collect();
    assert_eq!(
        templates,
        ["dispute_filed", "dispute_acknowledged"],
        "{notices}"
    );
}

both_dbs!(
    a_write_that_waits_too_long_for_a_lock_is_a_503_and_writes_nothing,
    a_filing_whose_notice_cannot_be_queued_in_time_is_a_503_and_files_nothing,
);
