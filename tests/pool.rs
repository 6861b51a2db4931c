//! The connection pool without r2d2's per-checkout `SELECT 1`: connections the server closed
//! are found and replaced, and a request that meets one gets a 503 problem, never a 500.
//! PostgreSQL only: its backends can be terminated from outside (an SQLite file cannot be lost).
//! Also where a transition's attempts run with the pool's connections (both databases).

mod common;

use common::{Db, TestApp};
use diesel::prelude::*;
use ldr::api::Attempts;
use std::sync::{Arc, Mutex};

/// Terminates every backend of the app's database (the pool's connections); returns how many.
fn terminate_backends(app: &TestApp) -> i64 {
    let name = url::Url::parse(&app.db_url)
        .expect("database URL")
        .path()
        .trim_start_matches('/')
        .to_string();
    let mut admin = diesel::PgConnection::establish(&common::pg_admin_url()).expect("admin");
    diesel::sql_query(
        "SELECT pg_terminate_backend(pid) AS t FROM pg_stat_activity \
         WHERE datname = $1 AND pid <> pg_backend_pid()",
    )
    .bind::<diesel::sql_types::Text, _>(&name)
    .load::<Terminated>(&mut admin)
    .expect("terminate")
    .len() as i64
}

#[derive(QueryableByName)]
struct Terminated {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    #[allow(dead_code)]
    t: bool,
}

#[test]
fn lost_connections_are_replaced() {
    let Some(app) = TestApp::spawn(Db::Postgres) else {
        return;
    };
    let admin = app.admin();
    // Several connections in the pool: concurrent requests open them.
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..5 {
                    app.get("/api/v1/organisations", Some(&admin)).expect(200);
                }
            });
        }
    });

    // Right after the server closed them: each request succeeds or is a 503 problem (to
    // retry), never a 500, and the pool recovers within as many requests as it had
    // connections.
    let killed = terminate_backends(&app);
    assert!(killed >= 1, "no backend was terminated");
    std::thread::sleep(std::time::Duration::from_millis(200));
    let mut refused = 0;
    for _ in 0..(killed + 5) {
        let r = app.get("/api/v1/organisations", Some(&admin));
        match r.status {
            200 => {}
            503 => {
                r.expect_problem(503, "service_unavailable");
                refused += 1;
            }
            other => panic!("after the connections were lost: {other} {}", r.text()),
        }
    }
    assert!(
        refused <= killed,
        "{refused} refusals for {killed} lost connections"
    );
    for _ in 0..5 {
        app.get("/api/v1/organisations", Some(&admin)).expect(200);
    }

    // Lost while idle: a connection unused for longer than the idle check is pinged before
    // use, so no request fails at all.
    let killed = terminate_backends(&app);
    assert!(killed >= 1, "no backend was terminated");
    std::thread::sleep(ldr::db::IDLE_CHECK + std::time::Duration::from_millis(300));
    for _ in 0..(killed + 5) {
        app.get("/api/v1/organisations", Some(&admin)).expect(200);
        app.get("/readyz", None).expect(200);
    }
}

/// `AppState::transition` on `app`'s state, with `first` as what the first unlocked attempt
/// returns: the attempts made, each with whether it ran on the calling (HTTP worker's) thread,
/// and the result.
fn attempts_made(
    app: &TestApp,
    first: Result<Option<&'static str>, ldr::api::error::ApiError>,
) -> (Vec<(Attempts, bool)>, Result<&'static str, String>) {
    let state = app.state.clone();
    let first = std::sync::Mutex::new(Some(first));
    actix_web::rt::System::new().block_on(async move {
        // A connection used just now, so that the pool has a warm one at hand.
        state.db(|_| Ok(())).await.expect("a connection");
        let here = std::thread::current().id();
        let log = Arc::new(Mutex::new(Vec::new()));
        let l = log.clone();
        let out = state
            .transition(move |_c, attempts| {
                l.lock()
                    .unwrap()
                    .push((attempts, std::thread::current().id() == here));
                match attempts {
                    Attempts::FirstOnly => first.lock().unwrap().take().expect("tried once"),
                    Attempts::All => Ok(Some("in full")),
                }
            })
            .await
            .map_err(|e| e.to_string());
        let made = log.lock().unwrap().clone();
        (made, out)
    })
}

#[test]
fn a_transition_is_tried_once_in_place_then_in_full_on_the_blocking_pool() {
    use ldr::api::error::ApiError;
    if let Some(app) = TestApp::spawn(Db::Postgres) {
        // Written by its first attempt, on the worker's own thread: nothing else runs.
        assert_eq!(
            attempts_made(&app, Ok(Some("first"))),
            (vec![(Attempts::FirstOnly, true)], Ok("first"))
        );
        // The dispute moved under the first attempt (it wrote nothing): the whole transition
        // runs again on the blocking pool.
        assert_eq!(
            attempts_made(&app, Ok(None)),
            (
                vec![(Attempts::FirstOnly, true), (Attempts::All, false)],
                Ok("in full")
            )
        );
        // A refusal is the answer; it is not tried again.
        assert_eq!(
            attempts_made(&app, Err(ApiError::VersionConflict("moved".into()))),
            (vec![(Attempts::FirstOnly, true)], Err("moved".into()))
        );
    }
    // SQLite: always in full on the blocking pool (its write lock is waited for in a sleep).
    let app = TestApp::spawn(Db::Sqlite).expect("SQLite");
    assert_eq!(
        attempts_made(&app, Ok(Some("first"))),
        (vec![(Attempts::All, false)], Ok("in full"))
    );
}
