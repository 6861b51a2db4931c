//! Load test: the real `ldr` binary against its database's own limit (issue #7).
//!
//! For each database (SQLite file, fresh PostgreSQL database) it starts the release binary,
//! seeds organisations and users through the API, files 500 disputes and assigns them to one
//! mediator (real cases), bulk-inserts `LOAD_DISPUTES` more through diesel, restarts the
//! service on the seeded database (start-to-first-answer, idle RSS), and then drives, at each
//! of `LOAD_CONNECTIONS` keep-alive connections for `LOAD_SECONDS` each:
//!
//! - `file`: `POST /disputes` (queues a notice);
//! - `note`: `POST /disputes/{id}/events` `add_note` on a random dispute (the lightest
//!   transition: it notifies nobody);
//! - `assign`: `POST /disputes/{id}/events` `assign_mediator` on the next unassigned bulk
//!   dispute, by a second mediator (a full transition: it renders and queues a notice to the
//!   parties, the mediator and the LMC, as the pgbench script inserts one);
//! - `get`:  `GET /disputes/{id}` of a random dispute;
//! - `mine`: `GET /disputes?mine=true` as the mediator with 500 cases;
//!
//! and on PostgreSQL, right after each `note` phase, `pgbench` with
//! `benches/pgbench/transition.sql` (lock, insert event, update dispute, insert notice, commit)
//! at the same number of connections against a copy of the seeded database, for the ratio;
//! and right after each `assign` phase, `pgbench` with `benches/pgbench/assign.sql`: the same
//! transition with a notice the service rendered, claimed and marked sent as its mail worker
//! does, which is what PostgreSQL alone can do of an `assign_mediator`'s work.
//! Every request must succeed: any non-2xx answer is counted, printed and fails the run.
//!
//! ```sh
//! cargo bench --bench load                       # both databases, 10 s per phase
//! LOAD_SECONDS=3 LOAD_DB=sqlite cargo bench --bench load   # a quick look
//! ```
//! Knobs: `LOAD_SECONDS` (10), `LOAD_DISPUTES` (100000), `LOAD_DB` (`both`|`sqlite`|`postgres`),
//! `LOAD_CONNECTIONS` (`1,16,64`), `LOAD_OPS` (`file,note,assign,get,mine`), `LOAD_PG_URL`
//! (`postgres://postgres@127.0.0.1:5432/postgres`, a role that may create databases),
//! `LOAD_SERVER_ENV` (extra `K=V,K=V` for the service, e.g. `LDR_DB_POOL_SIZE=8`),
//! `LOAD_KEEP=1` keeps the work folder (service log) and the PostgreSQL databases,
//! `LOAD_MAIL_DIR` (where the `.eml` files go: `/dev/shm` by default when it exists, `work` for
//! the work folder on disk), `LOAD_VACUUM=1` runs `VACUUM (ANALYZE)` on PostgreSQL before the `get` and `mine` phases.
//! Each phase also reports how many notices the mail worker delivered during it and how many
//! were still queued at its end.

#[path = "../support/mod.rs"]
mod support;

mod opts;
mod outbox;
mod phase;
mod run;
mod seed;

use seed::MEDIATOR_CASES;
use support::machine::{loadavg, machine};

/// Two table cells: the service's rate `rps` and its share of pgbench's `tps`; dashes for an
/// operation that was not run (`LOAD_OPS`).
fn rate_and_ratio(rps: Option<f64>, tps: f64) -> String {
    match rps {
        Some(rps) => format!("{rps:.0} | {:.0}%", rps / tps * 100.0),
        None => "— | —".to_string(),
    }
}

fn main() {
    let o = opts::opts();
    eprintln!(
        "ldr load test: {} s per phase, {} bulk disputes + {MEDIATOR_CASES} assigned, connections {:?}; {}; load average {}",
        o.seconds, o.disputes, o.conns, machine(), loadavg()
    );
    let mut reports = Vec::new();
    for db in &o.dbs {
        reports.push(run::run_db(db, &o));
    }
    println!();
    println!(
        "machine: {}; load average at the end: {}",
        machine(),
        loadavg()
    );
    println!(
        "{} s per phase after a {} ms warm-up; {} + {MEDIATOR_CASES} disputes",
        o.seconds,
        (o.seconds * 1000 / 5).min(1000),
        o.disputes
    );
    println!();
    println!(
        "CPU columns: % of one core during the phase ({} cores); \"other\" is everything else on the machine",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!();
    println!("| db | op | conns | req/s | p50 ms | p99 ms | errors | CPU server | CPU client | CPU postgres | CPU other | peak RSS MiB | notices delivered · left queued | req/s with delivery |");
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut errors = 0;
    for r in reports.iter().flat_map(|r| &r.rows) {
        errors += r.errors;
        println!(
            "| {} | {} | {} | {:.0} | {:.2} | {:.2} | {} | {:.0} | {:.0} | {:.0} | {:.0} | {:.1} | {} | {} |",
            r.db,
            r.op,
            r.conns,
            r.rps,
            r.p50_ms,
            r.p99_ms,
            r.errors,
            r.server_cpu,
            r.client_cpu,
            r.pg_cpu,
            r.other_cpu,
            r.peak_rss_kib as f64 / 1024.0,
            if r.notices_sent + r.notices_left > 0 {
                format!("{} · {}", r.notices_sent, r.notices_left)
            } else {
                "—".into()
            },
            r.with_delivery_rps
                .map_or_else(|| "—".into(), |x| format!("{x:.0}"))
        );
    }
    println!();
    println!("| db | start to first answer ms | idle RSS MiB |");
    println!("|---|---:|---:|");
    for r in &reports {
        println!(
            "| {} | {:.0} | {:.1} |",
            r.db,
            r.start_ms,
            r.idle_rss_kib as f64 / 1024.0
        );
    }
    for r in reports.iter().filter(|r| !r.pgbench.is_empty()) {
        println!();
        println!("| conns | pgbench tps | API add_note req/s | add_note / pgbench | API assign_mediator req/s | assign_mediator / pgbench | assign_mediator with delivery | with delivery / pgbench | API file req/s | file / pgbench |");
        println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        for (c, tps) in &r.pgbench {
            let row = |op: &str| r.rows.iter().find(|x| x.op == op && x.conns == *c);
            let cell = |rps: Option<f64>| rate_and_ratio(rps, *tps);
            println!(
                "| {c} | {tps:.0} | {} | {} | {} | {} |",
                cell(row("note").map(|x| x.rps)),
                cell(row("assign").map(|x| x.rps)),
                cell(row("assign").and_then(|x| x.with_delivery_rps)),
                cell(row("file").map(|x| x.rps))
            );
        }
    }
    for r in reports.iter().filter(|r| !r.pgbench_notice.is_empty()) {
        println!();
        println!("pgbench with a real notice (benches/pgbench/assign.sql: the same transition, the notice the service renders, its claim and \"sent\"):");
        println!();
        println!("| conns | pgbench real notice tps | / minimal pgbench | notices left queued | pgbench with their delivery | API assign_mediator req/s | / pgbench real notice | API with delivery req/s | / pgbench with delivery |");
        println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        for p in &r.pgbench_notice {
            let c = p.conns;
            let minimal = r.pgbench.iter().find(|(k, _)| *k == c).map(|(_, t)| *t);
            let assign = r.rows.iter().find(|x| x.op == "assign" && x.conns == c);
            println!(
                "| {c} | {:.0} | {} | {} | {:.0} | {} | {} |",
                p.tps,
                minimal.map_or("—".to_string(), |m| format!("{:.0}%", p.tps / m * 100.0)),
                p.left,
                p.with_delivery,
                rate_and_ratio(assign.map(|x| x.rps), p.tps),
                rate_and_ratio(assign.and_then(|x| x.with_delivery_rps), p.with_delivery),
            );
        }
    }
    if errors > 0 {
        eprintln!("FAILED: {errors} requests did not succeed");
        std::process::exit(1);
    }
}
