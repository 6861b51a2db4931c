//! The deadline sweep over 100,000 open disputes (criterion). Each iteration makes 100 of them
//! due (next_sweep_on <= today) and runs one sweep: the sweep finds them through the
//! `next_sweep_on` index and handles each (reminders, breaches, next date).
//!
//! `cargo bench --bench sweep` — SQLite always; PostgreSQL when LDR_BENCH_POSTGRES_URL is set
//! to a database it may fill (e.g. postgres://postgres@127.0.0.1:5432/ldr_bench).

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use diesel::connection::SimpleConnection;
use ldr::db::{self, DbConn, DbTarget};
use ldr::domain::calendar::Calendar;
use ldr::render::templates::Templates;
use std::time::Duration;

const OPEN: usize = 100_000;
const DUE: usize = 100;

fn seed(c: &mut DbConn) {
    db::migrate(c).unwrap();
    c.batch_execute("DELETE FROM notices; DELETE FROM reminders; DELETE FROM breaches;")
        .unwrap();
    let have: i64 = {
        use diesel::prelude::*;
        ldr::db::schema::disputes::table
            .count()
            .get_result(c)
            .unwrap()
    };
    if have >= OPEN as i64 {
        return;
    }
    let ts = "'2026-03-02 09:00:00'";
    c.batch_execute(&format!(
        "INSERT INTO organisations (id,name,kind,area,region,email,address,ods_code,commissioner_id,created_at) VALUES ('ccg','CCG','commissioner','A','R','ccg@x.test','1 Road',NULL,NULL,{ts});
         INSERT INTO organisations (id,name,kind,area,region,email,address,ods_code,commissioner_id,created_at) VALUES ('prac','Practice','practice','A','R','p@x.test','2 Road',NULL,'ccg',{ts});
         INSERT INTO organisations (id,name,kind,area,region,email,address,ods_code,commissioner_id,created_at) VALUES ('lmc','LMC','lmc','A','R','lmc@x.test','3 Road',NULL,NULL,{ts});
         INSERT INTO users VALUES ('u','U','u@x.test','h','prac','practice_user','',true,{ts},{ts});"
    ))
    .unwrap();
    // 100,000 disputes waiting for a panel, hearing deadlines spread over two years.
    let series = match c {
        DbConn::Pg(_) => "SELECT g AS n FROM generate_series(1, 100000) g".to_string(),
        DbConn::Sqlite(_) => "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n+1 FROM s WHERE n < 100000) SELECT n FROM s".to_string(),
    };
    let date = |expr: &str| match c {
        DbConn::Pg(_) => format!("(DATE '2026-04-01' + ({expr})::int)"),
        DbConn::Sqlite(_) => format!("date('2026-04-01', '+' || ({expr}) || ' days')"),
    };
    let (hb, ns) = (date("n % 700"), date("n % 700 - 14"));
    let sql = format!(
        "INSERT INTO disputes (id,title,category,appellant_id,respondent_id,summary,matter_arose_on,contract_related,
            inter_practice,screening_org_id,lmc_id,state,version,hearing_sequence,lodged_on,hearing_by,notice_by,
            bundle_by,next_sweep_on,detail,created_by,created_at,updated_at)
         SELECT 'd' || n, 't', 'other', 'prac', 'ccg', 's', '2026-01-01', false, false, 'ccg', 'lmc',
            'panel_forming', 1, 0, '2026-03-02', {hb}, {hb}, {hb}, {ns}, '{{}}', 'u', {ts}, {ts} FROM ({series}) q"
    );
    c.batch_execute(&sql).unwrap();
    c.batch_execute("ANALYZE").ok();
}

fn bench_backend(crit: &mut Criterion, name: &str, target: DbTarget) {
    let pool = db::connect(&target, 2).unwrap();
    let conn = std::cell::RefCell::new(pool.get().unwrap());
    seed(&mut conn.borrow_mut());
    let cal = Calendar::computed();
    let templates = Templates::embedded();
    let today: chrono::NaiveDate = "2026-03-10".parse().unwrap();
    let mut group = crit.benchmark_group(format!("sweep_{name}"));
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    group.bench_function(format!("100k_open_{DUE}_due"), |b| {
        b.iter_batched(
            || {
                // Make DUE disputes due today; the other 99,900 are not.
                conn.borrow_mut().batch_execute(&format!(
                    "DELETE FROM notices; DELETE FROM reminders; DELETE FROM breaches;
                     UPDATE disputes SET next_sweep_on = '2026-03-09' WHERE id IN (SELECT id FROM disputes ORDER BY id LIMIT {DUE});
                     UPDATE disputes SET hearing_by = '2026-03-20', notice_by = '2026-03-10', bundle_by = '2026-03-12'
                       WHERE id IN (SELECT id FROM disputes ORDER BY id LIMIT {DUE});"
                ))
                .unwrap();
            },
            |_| {
                let (visited, queued) = ldr::notify::sweep::run(&mut conn.borrow_mut(), &cal, &templates, "http://127.0.0.1:8080", today, 1000).unwrap();
                assert_eq!(visited, DUE);
                assert!(queued >= DUE, "{queued}");
            },
            BatchSize::PerIteration,
        )
    });
    group.bench_function("100k_open_none_due", |b| {
        conn.borrow_mut().batch_execute("UPDATE disputes SET next_sweep_on = '2026-04-01' WHERE next_sweep_on <= '2026-03-10'").unwrap();
        b.iter(|| {
            let (visited, _) = ldr::notify::sweep::run(&mut conn.borrow_mut(), &cal, &templates, "http://127.0.0.1:8080", today, 1000).unwrap();
            assert_eq!(visited, 0);
        })
    });
    group.finish();
}

fn sweep(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    bench_backend(
        c,
        "sqlite",
        DbTarget::Sqlite(dir.path().join("bench.sqlite3").display().to_string()),
    );
    if let Ok(url) = std::env::var("LDR_BENCH_POSTGRES_URL") {
        bench_backend(c, "postgres", DbTarget::parse(&url).unwrap());
    }
}

criterion_group!(benches, sweep);
criterion_main!(benches);
