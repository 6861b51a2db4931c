//! The connection pool without r2d2's per-checkout `SELECT 1`: connections the server closed
//! are found and replaced, and a request that meets one gets a 503 problem, never a 500.
//! PostgreSQL only: its backends can be terminated from outside (an SQLite file cannot be lost).

mod common;

use common::{Db, TestApp};
use diesel::prelude::*;

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
