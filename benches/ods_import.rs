//! `ldr import-organisations` at the size of England: 7,000 GP practices (3% closed) of 40
//! commissioners, read from an epraccur-layout file and written to a fresh SQLite file, then
//! the same file again (every line unchanged, nothing written). The timings include reading
//! and checking the file.
//!
//! `cargo bench --bench ods_import` — SQLite always; PostgreSQL too when LDR_BENCH_POSTGRES_URL
//! names a database it may write to (its `BX…` organisations are replaced).

use diesel::connection::SimpleConnection;
use ldr::db::{self, DbTarget};
use ldr::domain::ods::{self, commissioner_line, practice_line};
use std::time::Instant;

const PRACTICES: usize = 7_000;
const COMMISSIONERS: usize = 40;

fn files() -> (Vec<u8>, Vec<u8>) {
    let ccg = |i: usize| format!("BXC{:02}", i % COMMISSIONERS);
    let icb = |i: usize| format!("QX{}", (i % COMMISSIONERS) / 4);
    let commissioners: Vec<String> = (0..COMMISSIONERS)
        .map(|i| commissioner_line(&ccg(i), &format!("NHS BENCH {i} ICB"), &icb(i), ""))
        .collect();
    let practices: Vec<String> = (0..PRACTICES)
        .map(|i| {
            let status = if i % 33 == 0 { "C" } else { "A" };
            practice_line(
                &format!("BX{i:04}"),
                &format!("BENCH SURGERY {i}"),
                &ccg(i),
                &icb(i),
                status,
            )
        })
        .collect();
    let join = |v: Vec<String>| (v.join("\r\n") + "\r\n").into_bytes();
    (join(commissioners), join(practices))
}

fn run(label: &str, target: DbTarget) {
    let (commissioners, practices) = files();
    let today = chrono::NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
    let pool = db::connect(&target, 1).expect("database");
    let mut c = db::checkout(&pool).expect("connection");
    db::migrate(&mut c).expect("migrate");
    if let db::DbConn::Pg(_) = &**c {
        c.batch_execute(
            "DELETE FROM organisations WHERE kind = 'practice' AND ods_code LIKE 'BX%';
             DELETE FROM organisations WHERE ods_code LIKE 'BX%';",
        )
        .expect("clear the bench's organisations");
    }
    let ccgs = ods::parse(&commissioners, None, today).unwrap();
    db::ods::import(&mut c, ccgs.layout, &ccgs.records).unwrap();
    for pass in ["first import", "same file again"] {
        let t = Instant::now();
        let p = ods::parse(&practices, None, today).unwrap();
        let parsed = t.elapsed();
        let out = db::ods::import(&mut c, p.layout, &p.records).unwrap();
        let total = t.elapsed();
        assert!(out.skipped.is_empty(), "{:?}", out.skipped);
        println!(
            "{label}: {pass}: {PRACTICES} practices in {:.2} s (file read and checked in {:.3} s): \
             created {}, updated {}, unchanged {}",
            total.as_secs_f64(),
            parsed.as_secs_f64(),
            out.created,
            out.updated,
            out.unchanged
        );
    }
}

fn main() {
    // `cargo test --benches` runs benches with `--bench` absent: do nothing then.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bench.sqlite3");
    run("SQLite", DbTarget::Sqlite(path.display().to_string()));
    if let Ok(url) = std::env::var("LDR_BENCH_POSTGRES_URL") {
        run(
            "PostgreSQL",
            DbTarget::parse(&url).expect("LDR_BENCH_POSTGRES_URL"),
        );
    }
}
