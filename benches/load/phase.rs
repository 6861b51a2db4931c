//! One timed phase: `conns` keep-alive connections doing one operation for `LOAD_SECONDS`.

use crate::seed::{file_body, World, MEDIATOR_CASES};
use crate::support::http::RawConn;
use crate::support::machine::{cpu_ticks, machine_ticks, percentile, postgres_ticks};
use crate::support::server::Server;
use rand::Rng;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Barrier, Mutex};
use std::time::{Duration, Instant};

#[derive(Clone)]
pub struct Row {
    pub db: &'static str,
    pub op: String,
    pub conns: usize,
    pub rps: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub errors: u64,
    pub peak_rss_kib: u64,
    pub server_cpu: f64,
    pub client_cpu: f64,
    /// PostgreSQL processes (on SQLite runs: other users' PostgreSQL work, if any).
    pub pg_cpu: f64,
    /// Everything else on the machine: a sign of a disturbed measurement.
    pub other_cpu: f64,
    /// Notices the mail worker delivered from the phase's start (warm-up included) to its end,
    /// and how many were still queued at the end (the outbox is drained before each phase).
    pub notices_sent: i64,
    pub notices_left: i64,
    /// For a phase that queues notices: the notices it queued over the phase's time plus the
    /// time the worker took afterwards to deliver those still queued.
    pub with_delivery_rps: Option<f64>,
}

pub struct Load<'a> {
    pub base: &'a str,
    pub w: &'a World,
    pub seconds: u64,
    /// The next bulk dispute for `assign` (each can be assigned once).
    pub next_unassigned: AtomicU64,
}

impl Load<'_> {
    pub fn run(&self, server: &Server, db: &'static str, op: &str, conns: usize) -> Row {
        let warmup = Duration::from_millis((self.seconds * 1000 / 5).min(1000));
        let measure = Duration::from_secs(self.seconds);
        let barrier = Barrier::new(conns + 1);
        let errors = AtomicU64::new(0);
        let first_error = Mutex::new(None::<String>);
        let lat = Mutex::new(Vec::<u32>::new());
        let (start, cpu0, self0, pg0, m0) = {
            let barrier = &barrier;
            let (errors, first_error, lat) = (&errors, &first_error, &lat);
            std::thread::scope(|s| {
                for _ in 0..conns {
                    s.spawn(move || {
                        let mut conn = RawConn::new(self.base);
                        let mut rng = rand::thread_rng();
                        let mut local = Vec::with_capacity(100_000);
                        let file = file_body(&self.w.elm, &self.w.ccg).to_string().into_bytes();
                        let note = json!({"type": "add_note", "text": "Load test note"})
                            .to_string()
                            .into_bytes();
                        let assign = json!({"type": "assign_mediator", "mode": "advisory",
                            "mediator_id": self.w.assigner_id})
                        .to_string()
                        .into_bytes();
                        let (pt, mt, at) = (
                            self.w.practice_token.as_str(),
                            self.w.mediator_token.as_str(),
                            self.w.assigner_token.as_str(),
                        );
                        let mut path = String::with_capacity(128);
                        barrier.wait();
                        let t0 = Instant::now();
                        loop {
                            let started = Instant::now();
                            let since = started - t0;
                            if since >= warmup + measure {
                                break;
                            }
                            let id = &self.w.ids[rng.gen_range(0..self.w.ids.len())];
                            path.clear();
                            let (status, body) = match op {
                                "file" => conn.call("POST", "/api/v1/disputes", pt, Some(&file)),
                                "note" => {
                                    path.push_str("/api/v1/disputes/");
                                    path.push_str(id);
                                    path.push_str("/events");
                                    conn.call("POST", &path, pt, Some(&note))
                                }
                                "assign" => {
                                    let i = self.next_unassigned.fetch_add(1, Ordering::Relaxed);
                                    let Some(id) = self.w.ids.get(i as usize) else {
                                        panic!("assign: all {} bulk disputes are assigned; lower LOAD_SECONDS or raise LOAD_DISPUTES", self.w.ids.len() - MEDIATOR_CASES);
                                    };
                                    path.push_str("/api/v1/disputes/");
                                    path.push_str(id);
                                    path.push_str("/events");
                                    conn.call("POST", &path, at, Some(&assign))
                                }
                                "get" => {
                                    path.push_str("/api/v1/disputes/");
                                    path.push_str(id);
                                    conn.call("GET", &path, pt, None)
                                }
                                "mine" => conn.call("GET", "/api/v1/disputes?mine=true", mt, None),
                                other => panic!("unknown op {other}"),
                            };
                            let us = started.elapsed().as_micros().min(u32::MAX as u128) as u32;
                            let good = match (op, status) {
                                ("file", 201) => true,
                                ("mine", 200) => {
                                    // The mediator's page must be full of its own cases.
                                    serde_json::from_slice::<Value>(body)
                                        .ok()
                                        .and_then(|v| v["items"].as_array().map(|i| i.len() == 50))
                                        .unwrap_or(false)
                                }
                                (_, 200) => op != "file",
                                _ => false,
                            };
                            if !good {
                                errors.fetch_add(1, Ordering::Relaxed);
                                let mut f = first_error.lock().unwrap();
                                if f.is_none() {
                                    *f = Some(format!(
                                        "{op} → {status}: {}",
                                        String::from_utf8_lossy(body)
                                            .chars()
                                            .take(400)
                                            .collect::<String>()
                                    ));
                                }
                            }
                            if since >= warmup {
                                local.push(us);
                            }
                        }
                        lat.lock().unwrap().extend(local);
                    });
                }
                barrier.wait();
                std::thread::sleep(warmup);
                (
                    Instant::now(),
                    server.cpu_ticks(),
                    cpu_ticks("/proc/self/stat"),
                    postgres_ticks(),
                    machine_ticks(),
                )
            })
        };
        let wall = start
            .elapsed()
            .as_secs_f64()
            .min(measure.as_secs_f64() + 5.0);
        let cpu = |t: u64| t as f64 / 100.0 / wall * 100.0;
        let server_cpu = cpu(server.cpu_ticks() - cpu0);
        let client_cpu = cpu(cpu_ticks("/proc/self/stat") - self0);
        let pg_cpu = cpu(postgres_ticks().saturating_sub(pg0));
        let m1 = machine_ticks();
        // Busy share of all cores, in "% of one core" like the others.
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
        let machine_cpu = (m1.0 - m0.0) as f64 / ((m1.1 - m0.1).max(1)) as f64 * 100.0 * cores;
        let other_cpu = (machine_cpu - server_cpu - client_cpu - pg_cpu).max(0.0);
        let mut lat = lat.into_inner().unwrap();
        lat.sort_unstable();
        let errors = errors.into_inner();
        if let Some(e) = first_error.into_inner().unwrap() {
            eprintln!("!! {db} {op} c={conns}: {errors} errors, first: {e}");
        }
        let row = Row {
            db,
            op: op.to_string(),
            conns,
            rps: lat.len() as f64 / measure.as_secs_f64(),
            p50_ms: percentile(&lat, 0.50),
            p99_ms: percentile(&lat, 0.99),
            errors,
            peak_rss_kib: server.rss().1,
            server_cpu,
            client_cpu,
            pg_cpu,
            other_cpu,
            notices_sent: 0,
            notices_left: 0,
            with_delivery_rps: None,
        };
        eprintln!(
            "   {:8} {:5} c={:<3} {:>9.1} req/s  p50 {:>7.2} ms  p99 {:>7.2} ms  errors {}  CPU % server {:>3.0} client {:>3.0} postgres {:>3.0} other {:>3.0}",
            db, op, conns, row.rps, row.p50_ms, row.p99_ms, errors, server_cpu, client_cpu, row.pg_cpu, row.other_cpu
        );
        row
    }
}
