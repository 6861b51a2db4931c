//! The FHSU referral pack of a case with 20 documents totalling 50 MiB: how long it takes to
//! build, and how much memory building it takes (the ZIP is written to a file one document at
//! a time, so the peak should stay far below the pack's size).
//!
//! `cargo bench --bench referral_pack` — SQLite always; PostgreSQL too when
//! LDR_BENCH_POSTGRES_URL names a database it may fill (e.g.
//! postgres://postgres@127.0.0.1:5432/ldr_bench). Memory is the process's peak resident set
//! (`VmHWM` in /proc/self/status), reset before each build through /proc/self/clear_refs, less
//! the resident set just before it. Prints one line per build and a summary; figures go to
//! docs/performance.md.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
#[path = "support/mod.rs"]
mod support;

use ldr::db::disputes::{DisputeRow, EventRow};
use ldr::db::schema::documents;
use ldr::db::{self, DbConn, DbTarget};
use ldr::domain::dispute::FhsuReferral;
use ldr::domain::workflow::State;
use ldr::pack::{self, Reader};
use std::time::Instant;
use support::machine::{reset_peak, status_kib};
use support::rows::{filed, Parties};

const DOCS: usize = 20;
const TOTAL: usize = 50 * 1024 * 1024;
const RUNS: usize = 5;

fn seed(c: &mut DbConn) -> DisputeRow {
    db::migrate(c).unwrap();
    c.batch_execute(
        "DELETE FROM notices; DELETE FROM documents; DELETE FROM events; DELETE FROM disputes;
         DELETE FROM users; DELETE FROM organisations;",
    )
    .ok();
    let ts = "'2026-03-02 09:00:00'";
    c.batch_execute(&format!(
        "INSERT INTO organisations (id,name,kind,area,region,email,address,ods_code,commissioner_id,created_at) VALUES ('ccg','North CCG','commissioner','A','R','ccg@x.test','1 Road, Northtown NT1 1AA',NULL,NULL,{ts});
         INSERT INTO organisations (id,name,kind,area,region,email,address,ods_code,commissioner_id,created_at) VALUES ('prac','Elm Practice','practice','A','R','p@x.test','2 Road, Northtown NT1 2BB','F81001','ccg',{ts});
         INSERT INTO users VALUES ('u','Pat Practice','u@x.test','h','prac','practice_user','',true,{ts},{ts});"
    ))
    .unwrap();
    let t =
        chrono::NaiveDateTime::parse_from_str("2026-03-02 09:00:00", "%Y-%m-%d %H:%M:%S").unwrap();
    let day = |s: &str| s.parse::<chrono::NaiveDate>().unwrap();
    let parties = Parties {
        appellant: "prac",
        respondent: "ccg",
        lmc: None,
        filed_by: "u",
    };
    let mut dispute = filed(
        "5f0c9a1e-2b7d-4c1e-9a53-7d2f61e0b8aa".into(),
        "Prescribing budget 2025/26".into(),
        &parties,
        t,
        &ldr::domain::calendar::Calendar::computed(),
    );
    dispute.state = State::ReferredToFhsu;
    dispute.version = 3;
    dispute.lodged_on = Some(day("2026-02-12"));
    dispute.referred_on = Some(day("2026-03-12"));
    dispute.next_sweep_on = None;
    dispute.detail.fhsu_referral = Some(FhsuReferral {
        statement: "We ask the FHSU to determine the dispute.".into(),
        contract_document_id: "doc-00".into(),
        referred_on: day("2026-03-12"),
        referred_by_org: "prac".into(),
    });
    let d = DisputeRow::of(&dispute);
    ldr::db::disputes::insert(c, &d).unwrap();
    for (seq, ty) in [(1, "file"), (2, "request_formal"), (3, "refer_to_fhsu")] {
        ldr::db::disputes::append_event(
            c,
            &EventRow {
                dispute_id: d.id.clone(),
                seq,
                event_type: ty.into(),
                actor_id: "u".into(),
                at: t,
                data: "{}".into(),
            },
        )
        .unwrap();
    }
    // 20 documents of 2.5 MiB of bytes that do not compress (xorshift): the worst case.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut buf = vec![0u8; TOTAL / DOCS];
    for i in 0..DOCS {
        for b in buf.iter_mut() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *b = (x >> 24) as u8;
        }
        let sha = {
            use sha2::Digest;
            hex::encode(sha2::Sha256::digest(&buf))
        };
        diesel::insert_into(documents::table)
            .values((
                documents::id.eq(format!("doc-{i:02}")),
                documents::dispute_id.eq(&d.id),
                documents::name.eq(format!("Evidence bundle part {i}.pdf")),
                documents::kind.eq(if i == 0 { "contract" } else { "evidence" }),
                documents::content_type.eq("application/pdf"),
                documents::size.eq(buf.len() as i64),
                documents::sha256.eq(sha),
                documents::uploaded_by.eq("u"),
                documents::created_at.eq(t + chrono::Duration::seconds(i as i64)),
            ))
            .execute(c)
            .unwrap();
        // Stored in chunks, as an upload stores it.
        for (seq, chunk) in buf.chunks(ldr::api::documents::CHUNK_BYTES).enumerate() {
            ldr::db::disputes::insert_document_chunk(c, &format!("doc-{i:02}"), seq as i32, chunk)
                .unwrap();
        }
    }
    d
}

fn bench_backend(name: &str, target: DbTarget, dir: &std::path::Path) {
    let pool = db::connect(&target, 2).unwrap();
    let mut conn = pool.get().unwrap();
    let d = seed(&mut conn);
    let mut times = Vec::new();
    let mut deltas = Vec::new();
    let mut size = 0;
    for run in 1..=RUNS {
        let reset = reset_peak();
        let before = status_kib("VmRSS:").unwrap_or(0);
        let started = Instant::now();
        let dispute = d.clone().decode().unwrap();
        let see = |k| !dispute.panel_only(k);
        let case = pack::gather(&mut conn, dispute.clone(), None, Reader::Party, &see).unwrap();
        let file = tempfile::tempfile_in(dir).unwrap();
        let (mut file, manifest) = pack::write(&mut conn, &case, file).unwrap();
        let took = started.elapsed();
        let peak = status_kib("VmHWM:").unwrap_or(0);
        use std::io::Seek;
        size = file.stream_position().unwrap();
        assert_eq!(manifest.files.len(), DOCS + 1);
        let delta = peak.saturating_sub(before);
        println!(
            "referral_pack {name} run {run}: {DOCS} documents, {:.1} MiB pack in {:.3} s; RSS before {:.1} MiB, peak {:.1} MiB, peak growth {:.1} MiB{}",
            size as f64 / 1048576.0,
            took.as_secs_f64(),
            before as f64 / 1024.0,
            peak as f64 / 1024.0,
            delta as f64 / 1024.0,
            if reset { "" } else { " (VmHWM could not be reset: growth is since start)" }
        );
        times.push(took.as_secs_f64());
        deltas.push(delta);
    }
    times.sort_by(f64::total_cmp);
    deltas.sort_unstable();
    println!(
        "referral_pack {name} summary: {DOCS} documents of {:.1} MiB in all, pack {:.1} MiB; \
         median {:.3} s (min {:.3} s); peak RSS growth median {:.1} MiB, max {:.1} MiB",
        TOTAL as f64 / 1048576.0,
        size as f64 / 1048576.0,
        times[times.len() / 2],
        times[0],
        deltas[deltas.len() / 2] as f64 / 1024.0,
        deltas[deltas.len() - 1] as f64 / 1024.0,
    );
}

fn main() {
    // `cargo test --benches` runs this with `--bench`-less arguments; building it is the test.
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    bench_backend(
        "sqlite",
        DbTarget::Sqlite(dir.path().join("bench.sqlite3").display().to_string()),
        dir.path(),
    );
    if let Ok(url) = std::env::var("LDR_BENCH_POSTGRES_URL") {
        bench_backend("postgres", DbTarget::parse(&url).unwrap(), dir.path());
    }
}
