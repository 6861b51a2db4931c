//! The notice outbox between phases (drained, counted), and PostgreSQL's own figure: pgbench
//! with the same transition, for the ratio.

use crate::support::pg::{open, pg_admin};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use std::process::Command;
use std::time::{Duration, Instant};

/// How many notices have `status`.
pub fn notices_with(conn: &mut ldr::db::DbConn, status: &str) -> i64 {
    use ldr::db::schema::notices;
    notices::table
        .filter(notices::status.eq(status))
        .count()
        .get_result(conn)
        .unwrap()
}

/// How many notices are `sent`, and how many `queued`.
pub fn notice_counts(db_url: &str) -> (i64, i64) {
    let mut conn = open(db_url);
    (
        notices_with(&mut conn, "sent"),
        notices_with(&mut conn, "queued"),
    )
}

/// `LOAD_VACUUM=1`: on PostgreSQL, `VACUUM (ANALYZE)` before each read phase, so that it reads
/// the tables as autovacuum leaves them rather than with the write phases' dead row versions.
pub fn vacuum(db_url: &str) {
    if !db_url.starts_with("postgres") {
        return;
    }
    let t0 = Instant::now();
    match pg_admin(db_url).batch_execute("VACUUM (ANALYZE)") {
        Ok(()) => eprintln!(
            "   (VACUUM (ANALYZE) took {:.1} s)",
            t0.elapsed().as_secs_f64()
        ),
        Err(e) => eprintln!("   (VACUUM refused: {e})"),
    }
}

/// Waits until the service has delivered every queued notice (at most two minutes); returns
/// how long that took.
pub fn drain_outbox(db_url: &str) -> Duration {
    let mut conn = open(db_url);
    let t0 = Instant::now();
    loop {
        let queued = notices_with(&mut conn, "queued");
        if queued == 0 {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(120),
            "{queued} notices still queued after 2 minutes"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    if t0.elapsed() > Duration::from_millis(500) {
        eprintln!(
            "   (waited {:.1} s for the outbox to drain)",
            t0.elapsed().as_secs_f64()
        );
    }
    t0.elapsed()
}

// ------------------------------------------------------------------ PostgreSQL databases

/// How many notices there are.
pub fn notices_total(db_url: &str) -> i64 {
    use ldr::db::schema::notices;
    let mut conn = open(db_url);
    let c: &mut ldr::db::DbConn = &mut conn;
    notices::table.count().get_result(c).unwrap()
}

/// pgbench's copy: claims the queued notices 20 at a time and marks them sent with the mail
/// worker's own functions (`assign.sql` repeats their statements), until none is left; returns
/// how many there were and how long it took. "Now" is the database's `LOCALTIMESTAMP`, the
/// clock pgbench's `now()` queued them by.
pub fn deliver_rest(pgb_url: &str) -> (i64, Duration) {
    use ldr::notify::worker::{claim, record_sent, BATCH, LEASE_SECONDS};
    let mut conn = open(pgb_url);
    let c: &mut ldr::db::DbConn = &mut conn;
    let now: chrono::NaiveDateTime = diesel::select(
        diesel::dsl::sql::<diesel::sql_types::Timestamp>("LOCALTIMESTAMP"),
    )
    .get_result(c)
    .unwrap();
    let t = Instant::now();
    let mut n = 0;
    loop {
        let claimed = claim(
            c,
            "pgbench",
            now,
            BATCH,
            Duration::from_secs(LEASE_SECONDS as u64),
        )
        .unwrap();
        if claimed.is_empty() {
            break;
        }
        n += claimed.len() as i64;
        let ids: Vec<String> = claimed.into_iter().map(|x| x.id).collect();
        record_sent(c, "pgbench", &ids, now).unwrap();
    }
    (n, t.elapsed())
}

/// A `mediator_assigned` notice as the service rendered it during seeding, as pgbench
/// variables for `assign.sql`: recipients, subject, body_text, body_html.
pub fn real_notice(pgb_url: &str) -> Vec<(&'static str, String)> {
    use ldr::db::schema::notices;
    let (recipients, subject, text, html): (String, String, String, String) = notices::table
        .filter(notices::template.eq("mediator_assigned"))
        .select((
            notices::recipients,
            notices::subject,
            notices::body_text,
            notices::body_html,
        ))
        .first(&mut pg_admin(pgb_url))
        .expect("a mediator_assigned notice in the seeded database");
    vec![
        ("recipients", recipients),
        ("subject", subject),
        ("body_text", text),
        ("body_html", html),
    ]
}

/// On PostgreSQL, a `CHECKPOINT` before each phase and each pgbench run: each then starts with
/// the same state of the WAL (every page's first change after a checkpoint writes the whole
/// page to it), and the next timed checkpoint (`checkpoint_timeout`, 5 minutes) cannot fall in
/// one phase and not in another. Without it, the same phase varied by a third from run to run.
pub fn checkpoint(db_url: &str) {
    if !db_url.starts_with("postgres") {
        return;
    }
    if let Err(e) = pg_admin(db_url).batch_execute("CHECKPOINT") {
        eprintln!("   (CHECKPOINT refused, phases may vary more: {e})");
    }
}

/// pgbench with `benches/pgbench/<script>` and the variables `defines` (`-D`, besides
/// `ndisputes`); returns tps (without initial connection time).
pub fn pgbench(
    url: &str,
    script: &str,
    defines: &[(&str, String)],
    conns: usize,
    seconds: u64,
    n: usize,
) -> f64 {
    let u = url::Url::parse(url).unwrap();
    let script = format!("{}/benches/pgbench/{script}", env!("CARGO_MANIFEST_DIR"));
    let mut cmd = Command::new("pgbench");
    for (k, v) in defines {
        cmd.args(["-D", &format!("{k}={v}")]);
    }
    let out = cmd
        .args(["-n", "-M", "prepared", "-f", &script])
        .args(["-c", &conns.to_string(), "-j", &conns.min(2).to_string()])
        .args(["-T", &seconds.to_string(), "-D", &format!("ndisputes={n}")])
        .args([
            "-h",
            u.host_str().unwrap_or("127.0.0.1"),
            "-p",
            &u.port().unwrap_or(5432).to_string(),
        ])
        .args([
            "-U",
            if u.username().is_empty() {
                "postgres"
            } else {
                u.username()
            },
        ])
        .arg(u.path().trim_start_matches('/'))
        .env("PGPASSWORD", u.password().unwrap_or(""))
        // As the service connects: its libpq is built without TLS (`pq-sys`'s
        // `bundled_without_openssl`), while pgbench's would take TLS wherever the server offers
        // it (`sslmode=prefer`) and pay for encrypting every round trip on both sides.
        .env("PGSSLMODE", "disable")
        .output()
        .expect("run pgbench (apt-get install postgresql-client)");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "pgbench failed: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let failed = text
        .lines()
        .find(|l| l.starts_with("number of failed transactions"))
        .and_then(|l| l.split(':').nth(1))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0);
    assert_eq!(failed, 0, "pgbench had failed transactions:\n{text}");
    text.lines()
        .find(|l| l.starts_with("tps = "))
        .and_then(|l| l.split_whitespace().nth(2))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no tps in pgbench output:\n{text}"))
}
