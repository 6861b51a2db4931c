//! One database's run: seed, restart, every phase at every connection count, and pgbench.

use crate::opts::Opts;
use crate::outbox::*;
use crate::phase::{Load, Row};
use crate::seed::{seed_api, seed_bulk, MEDIATOR_CASES};
use crate::support::pg::{pg_admin, pg_url_for, PgDbs};
use crate::support::server::Server;
use diesel::connection::SimpleConnection;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

pub struct DbReport {
    pub db: &'static str,
    pub start_ms: f64,
    pub idle_rss_kib: u64,
    pub rows: Vec<Row>,
    pub pgbench: Vec<(usize, f64)>,
    /// `assign.sql` after each `assign` phase.
    pub pgbench_notice: Vec<PgbenchNotice>,
}

/// One run of `assign.sql`.
pub struct PgbenchNotice {
    pub conns: usize,
    pub tps: f64,
    /// Notices its client 0 had not claimed by the end of the run.
    pub left: i64,
    /// The notices it queued over the run's time plus the time their claims and "sent" then
    /// took (as `Row::with_delivery_rps` is for the service).
    pub with_delivery: f64,
}

pub fn run_db(db: &'static str, o: &Opts) -> DbReport {
    let dir = tempfile::tempdir().unwrap();
    // The `.eml` sink stands in for an SMTP relay on another machine: by default it is on
    // tmpfs, so that what a run measures is the service and its database, not this VM's disk
    // allocating an inode per message (see in git history: BENCHMARKS.md, fourth round).
    let mail_tmp = o.mail_base.as_ref().map(|b| {
        tempfile::Builder::new()
            .prefix("ldr-load-mail-")
            .tempdir_in(b)
            .unwrap_or_else(|e| panic!("LOAD_MAIL_DIR {}: {e}", b.display()))
    });
    let mail = mail_tmp
        .as_ref()
        .map_or_else(|| dir.path().join("mail"), |m| m.path().to_path_buf());
    eprintln!("   mail: .eml files in {}", mail.display());
    let mut pg = None;
    let url = match db {
        "sqlite" => format!("sqlite://{}", dir.path().join("ldr.sqlite3").display()),
        _ => {
            let name = format!("ldr_load_{}", uuid::Uuid::new_v4().simple());
            pg_admin(&o.pg_url)
                .batch_execute(&format!("CREATE DATABASE {name}"))
                .unwrap();
            pg = Some(PgDbs {
                admin_url: o.pg_url.clone(),
                names: vec![name.clone()],
            });
            pg_url_for(&o.pg_url, &name)
        }
    };
    eprintln!("== {db}: seeding (API: organisations, users, {MEDIATOR_CASES} assigned cases; diesel: {} disputes)", o.disputes);
    let t = Instant::now();
    let first = Server::start(&url, dir.path(), &mail, &o.server_env);
    let mut w = seed_api(&first.base);
    // Its notices delivered first: a stopped server's claims would hold them for a lease.
    let _ = drain_outbox(&url);
    first.stop();
    seed_bulk(&url, &mut w, o.disputes);
    eprintln!("   seeded in {:.1} s", t.elapsed().as_secs_f64());
    // pgbench's copy of the seeded database, with a numeric lookup of the dispute ids.
    let pgb_url = pg.as_mut().map(|p| {
        let copy = format!("{}_pgb", p.names[0]);
        pg_admin(&o.pg_url)
            .batch_execute(&format!("CREATE DATABASE {copy} TEMPLATE {}", p.names[0]))
            .unwrap();
        p.names.push(copy.clone());
        let u = pg_url_for(&o.pg_url, &copy);
        let mut c = pg_admin(&u);
        c.batch_execute(
            "CREATE TABLE bench_ids (n INTEGER PRIMARY KEY, dispute_id TEXT NOT NULL);
             INSERT INTO bench_ids SELECT row_number() OVER (ORDER BY id), id FROM disputes;
             ANALYZE;",
        )
        .unwrap();
        u
    });
    let server = Server::start(&url, dir.path(), &mail, &o.server_env);
    let start_ms = server.started_in.as_secs_f64() * 1000.0;
    std::thread::sleep(Duration::from_secs(2));
    let idle_rss_kib = server.rss().0;
    eprintln!(
        "   start to first answer {start_ms:.0} ms, idle RSS {:.1} MiB",
        idle_rss_kib as f64 / 1024.0
    );
    let load = Load {
        base: &server.base,
        w: &w,
        seconds: o.seconds,
        next_unassigned: AtomicU64::new(MEDIATOR_CASES as u64),
    };
    let mut rows = Vec::new();
    let mut pgb = Vec::new();
    let mut pgb_notice = Vec::new();
    for op in &o.ops {
        for &c in &o.conns {
            // The notices the previous phase queued are delivered first (the mail worker
            // shares the machine), so that each phase measures its own work only.
            let _ = drain_outbox(&url);
            if o.vacuum && (op == "get" || op == "mine") {
                vacuum(&url);
            }
            checkpoint(&url);
            let (sent0, _) = notice_counts(&url);
            let t = Instant::now();
            let mut row = load.run(&server, db, op, c);
            let phase = t.elapsed();
            let (sent1, left) = notice_counts(&url);
            let delivered = sent1 - sent0;
            (row.notices_sent, row.notices_left) = (delivered, left);
            if delivered + left > 0 {
                // Every request of the phase (warm-up included) queued one notice; the rate
                // the service sustains with their delivery is those notices over the phase
                // plus the time the worker then takes to deliver what is left.
                let rate = (delivered + left) as f64 / (phase + drain_outbox(&url)).as_secs_f64();
                row.with_delivery_rps = Some(rate);
                eprintln!(
                    "   notices: {delivered} delivered during the phase, {left} still queued at its end; {rate:.1} req/s with their delivery"
                );
            }
            rows.push(row);
            if op == "note" {
                if let Some(u) = &pgb_url {
                    checkpoint(u);
                    let tps = pgbench(u, "transition.sql", &[], c, o.seconds, w.ids.len());
                    eprintln!("   pgbench  c={c:<3} {tps:>9.1} tps");
                    pgb.push((c, tps));
                }
            }
            if op == "assign" {
                if let Some(u) = &pgb_url {
                    // transition.sql's notices are never delivered: not this run's work.
                    pg_admin(u)
                        .batch_execute(
                            "UPDATE notices SET status = 'sent', sent_at = now() \
                             WHERE status = 'queued'",
                        )
                        .unwrap();
                    checkpoint(u);
                    let notice = real_notice(u);
                    let before = notices_total(u);
                    let t = Instant::now();
                    let tps = pgbench(u, "assign.sql", &notice, c, o.seconds, w.ids.len());
                    let run = t.elapsed();
                    let queued = notices_total(u) - before;
                    // Client 0's claims fall behind, as the service's worker may: what is left
                    // is claimed and marked sent afterwards, timed, as the service's are.
                    let (left, drain) = deliver_rest(u);
                    let with_delivery = queued as f64 / (run + drain).as_secs_f64();
                    eprintln!("   pgbench with a real notice  c={c:<3} {tps:>9.1} tps; {left} of its notices left queued, claimed and sent in {:.1} s after: {with_delivery:.1} tps with their delivery", drain.as_secs_f64());
                    pgb_notice.push(PgbenchNotice {
                        conns: c,
                        tps,
                        left,
                        with_delivery,
                    });
                }
            }
        }
    }
    server.stop();
    if o.keep {
        eprintln!("   kept {}", dir.keep().display());
        if let Some(m) = mail_tmp {
            eprintln!("   kept {}", m.keep().display());
        }
        if let Some(mut p) = pg {
            eprintln!("   kept PostgreSQL databases {:?}", p.names);
            p.names.clear();
        }
    } else {
        drop(pg);
    }
    DbReport {
        db,
        start_ms,
        idle_rss_kib,
        rows,
        pgbench: pgb,
        pgbench_notice: pgb_notice,
    }
}
