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

#[path = "../tests/common/process.rs"]
mod process;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use ldr::db::disputes::{DisputeRow, EventRow};
use ldr::db::schema::{disputes, events};
use process::{free_port, ldr_command};
use rand::Rng;
use serde_json::{json, Value};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

const ADMIN: &str = "admin@load.test";
const ADMIN_PW: &str = "load-admin-password-1";
const PW: &str = "load-user-password-1";
const SECRET: &str = "load-test-secret-load-test-secret-0123456789";
const TODAY: &str = "2026-03-02";
const MEDIATOR_CASES: usize = 500;

struct Opts {
    seconds: u64,
    disputes: usize,
    dbs: Vec<&'static str>,
    conns: Vec<usize>,
    ops: Vec<String>,
    pg_url: String,
    server_env: Vec<(String, String)>,
    keep: bool,
    vacuum: bool,
    /// Where the service's `.eml` files go (a fresh folder under it per database), or `None`
    /// for the work folder.
    mail_base: Option<std::path::PathBuf>,
}

fn opts() -> Opts {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
    let dbs = match env("LOAD_DB").as_deref().unwrap_or("both") {
        "sqlite" => vec!["sqlite"],
        "postgres" => vec!["postgres"],
        "both" => vec!["sqlite", "postgres"],
        other => panic!("LOAD_DB={other}: sqlite, postgres or both"),
    };
    Opts {
        seconds: env("LOAD_SECONDS").map_or(10, |s| s.parse().expect("LOAD_SECONDS")),
        disputes: env("LOAD_DISPUTES").map_or(100_000, |s| s.parse().expect("LOAD_DISPUTES")),
        dbs,
        conns: env("LOAD_CONNECTIONS")
            .unwrap_or_else(|| "1,16,64".into())
            .split(',')
            .map(|s| s.trim().parse().expect("LOAD_CONNECTIONS"))
            .collect(),
        ops: env("LOAD_OPS")
            .unwrap_or_else(|| "file,note,assign,get,mine".into())
            .split(',')
            .map(|s| s.trim().to_string())
            .collect(),
        pg_url: env("LOAD_PG_URL")
            .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".into()),
        server_env: env("LOAD_SERVER_ENV")
            .map(|s| {
                s.split(',')
                    .filter_map(|kv| kv.split_once('='))
                    .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                    .collect()
            })
            .unwrap_or_default(),
        keep: env("LOAD_KEEP").as_deref() == Some("1"),
        vacuum: env("LOAD_VACUUM").as_deref() == Some("1"),
        mail_base: match env("LOAD_MAIL_DIR").as_deref() {
            Some("work") => None,
            Some(d) => Some(d.into()),
            None => Some(std::path::PathBuf::from("/dev/shm")).filter(|d| d.is_dir()),
        },
    }
}

// ------------------------------------------------------------------ the service process

struct Server {
    child: Child,
    base: String,
    started_in: Duration,
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .max_idle_connections_per_host(1)
        .build()
        .into()
}

impl Server {
    fn start(db_url: &str, dir: &std::path::Path, mail: &std::path::Path, opts: &Opts) -> Server {
        let port = free_port();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("ldr.log"))
            .unwrap();
        let mut c = ldr_command();
        c.env("LDR_DATABASE_URL", db_url)
            .env("LDR_BIND", format!("127.0.0.1:{port}"))
            .env("LDR_DATA_DIR", dir)
            .env("LDR_MAIL_DIR", mail)
            .env("LDR_JWT_SECRET", SECRET)
            .env("LDR_BOOTSTRAP_ADMIN_EMAIL", ADMIN)
            .env("LDR_BOOTSTRAP_ADMIN_PASSWORD", ADMIN_PW)
            .env("LDR_TODAY", TODAY)
            // The load is one user filing and acting thousands of times a second.
            .env("LDR_FILINGS_PER_HOUR", "1000000")
            .env("LDR_UPLOADS_PER_HOUR", "1000000")
            .env("LDR_NOTICE_EVENTS_PER_HOUR", "1000000");
        for (k, v) in &opts.server_env {
            c.env(k, v);
        }
        c.stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log));
        let t0 = Instant::now();
        let mut child = c.spawn().expect("start ldr");
        let base = format!("http://127.0.0.1:{port}");
        let a = agent();
        loop {
            if let Ok(r) = a.get(format!("{base}/healthz")).call() {
                if r.status() == 200 {
                    break;
                }
            }
            if let Ok(Some(st)) = child.try_wait() {
                panic!(
                    "ldr exited at start ({st}); see {}",
                    dir.join("ldr.log").display()
                );
            }
            assert!(t0.elapsed() < Duration::from_secs(60), "ldr did not answer");
            std::thread::sleep(Duration::from_millis(2));
        }
        Server {
            started_in: t0.elapsed(),
            child,
            base,
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// VmRSS and VmHWM (peak) in KiB.
    fn rss(&self) -> (u64, u64) {
        let s = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap_or_default();
        let field = |name: &str| {
            s.lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        (field("VmRSS:"), field("VmHWM:"))
    }

    fn cpu_ticks(&self) -> u64 {
        cpu_ticks(&format!("/proc/{}/stat", self.pid()))
    }

    fn stop(mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.pid().to_string())
            .status();
        let t0 = Instant::now();
        while t0.elapsed() < Duration::from_secs(20) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Busy and total clock ticks of the whole machine, from /proc/stat.
fn machine_ticks() -> (u64, u64) {
    let s = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let v: Vec<u64> = s
        .lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    let total: u64 = v.iter().take(8).sum();
    let idle = v.get(3).copied().unwrap_or(0) + v.get(4).copied().unwrap_or(0);
    (total - idle, total)
}

/// CPU ticks of every PostgreSQL process (the server's backends included).
fn postgres_ticks() -> u64 {
    let mut sum = 0;
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let p = e.path();
        if std::fs::read_to_string(p.join("comm")).is_ok_and(|c| c.trim() == "postgres") {
            sum += cpu_ticks(&p.join("stat").display().to_string());
        }
    }
    sum
}

/// utime + stime of a process (clock ticks) from /proc/…/stat.
fn cpu_ticks(path: &str) -> u64 {
    let s = std::fs::read_to_string(path).unwrap_or_default();
    let after = s.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    // Fields after the comm: state is index 0, utime 11, stime 12.
    let n = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    n(11) + n(12)
}

// ------------------------------------------------------------------ HTTP helpers

/// The load phases' client: one keep-alive HTTP/1.1 connection with nothing but `std`. The
/// request goes out in one write and the answer is read by its `Content-Length`. The client
/// shares the machine's two cores with the service and PostgreSQL, so it must cost little, as
/// pgbench's own C client does (ureq's request building and parsing took 0.2–0.4 of a core).
struct RawConn {
    addr: std::net::SocketAddr,
    stream: Option<std::net::TcpStream>,
    req: Vec<u8>,
    buf: Vec<u8>,
}

impl RawConn {
    fn new(base: &str) -> RawConn {
        let hostport = base.strip_prefix("http://").expect("http:// base");
        RawConn {
            addr: hostport.parse().expect("host:port"),
            stream: None,
            req: Vec::with_capacity(1024),
            buf: Vec::with_capacity(64 * 1024),
        }
    }

    /// Status and body; status 0 with the cause as the body when the exchange failed.
    fn call(&mut self, method: &str, path: &str, token: &str, body: Option<&[u8]>) -> (u16, &[u8]) {
        use std::io::Write;
        self.req.clear();
        let _ = write!(
            self.req,
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\n",
            self.addr
        );
        if let Some(b) = body {
            let _ = write!(
                self.req,
                "Content-Type: application/json\r\nContent-Length: {}\r\n",
                b.len()
            );
        }
        self.req.extend_from_slice(b"\r\n");
        if let Some(b) = body {
            self.req.extend_from_slice(b);
        }
        match self.exchange() {
            Ok((status, start, close)) => {
                if close {
                    self.stream = None;
                }
                (status, &self.buf[start..])
            }
            Err(e) => {
                self.stream = None;
                self.buf.clear();
                self.buf.extend_from_slice(e.to_string().as_bytes());
                (0, &self.buf)
            }
        }
    }

    /// Sends `self.req`, reads one answer into `self.buf`: (status, body offset, server closes).
    fn exchange(&mut self) -> std::io::Result<(u16, usize, bool)> {
        use std::io::{Error, Read, Write};
        if self.stream.is_none() {
            let s = std::net::TcpStream::connect(self.addr)?;
            s.set_nodelay(true)?;
            s.set_read_timeout(Some(Duration::from_secs(60)))?;
            self.stream = Some(s);
        }
        let s = self.stream.as_mut().expect("connected");
        s.write_all(&self.req)?;
        self.buf.clear();
        let mut chunk = [0u8; 16 * 1024];
        let mut head: Option<(u16, usize, usize, bool)> = None;
        loop {
            if let Some((status, start, len, close)) = head {
                if self.buf.len() >= start + len {
                    self.buf.truncate(start + len);
                    return Ok((status, start, close));
                }
            }
            let n = s.read(&mut chunk)?;
            if n == 0 {
                return Err(Error::other("connection closed by the server"));
            }
            self.buf.extend_from_slice(&chunk[..n]);
            if head.is_none() {
                if let Some(end) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    let text = std::str::from_utf8(&self.buf[..end])
                        .map_err(|_| Error::other("answer head is not UTF-8"))?;
                    let status = text
                        .get(9..12)
                        .and_then(|s| s.parse().ok())
                        .ok_or_else(|| Error::other(format!("bad status line: {text:.80}")))?;
                    let mut len = None;
                    let mut close = false;
                    for line in text.lines().skip(1) {
                        let (k, v) = line.split_once(':').unwrap_or((line, ""));
                        if k.eq_ignore_ascii_case("content-length") {
                            len = v.trim().parse::<usize>().ok();
                        } else if k.eq_ignore_ascii_case("connection") {
                            close = v.trim().eq_ignore_ascii_case("close");
                        }
                    }
                    let len = len.ok_or_else(|| {
                        Error::other(format!("answer without Content-Length: {text:.200}"))
                    })?;
                    head = Some((status, end + 4, len, close));
                }
            }
        }
    }
}

fn call(
    a: &ureq::Agent,
    method: &str,
    url: &str,
    token: Option<&str>,
    body: Option<&[u8]>,
) -> (u16, Vec<u8>) {
    let req = ureq::http::Request::builder()
        .method(method)
        .uri(url)
        .header("Content-Type", "application/json");
    let req = match token {
        Some(t) => req.header("Authorization", format!("Bearer {t}")),
        None => req,
    };
    let req = req.body(body.unwrap_or_default().to_vec()).unwrap();
    match a.run(req) {
        Ok(mut r) => {
            let s = r.status().as_u16();
            let b = r
                .body_mut()
                .with_config()
                .limit(64 * 1024 * 1024)
                .read_to_vec()
                .unwrap_or_default();
            (s, b)
        }
        Err(e) => (0, e.to_string().into_bytes()),
    }
}

#[track_caller]
fn ok_json(
    a: &ureq::Agent,
    method: &str,
    url: &str,
    token: Option<&str>,
    body: &Value,
    want: u16,
) -> Value {
    let (s, b) = call(a, method, url, token, Some(body.to_string().as_bytes()));
    assert_eq!(s, want, "{method} {url}: {}", String::from_utf8_lossy(&b));
    serde_json::from_slice(&b).unwrap_or(Value::Null)
}

fn login(a: &ureq::Agent, base: &str, email: &str, pw: &str) -> String {
    ok_json(
        a,
        "POST",
        &format!("{base}/api/v1/auth/login"),
        None,
        &json!({"email": email, "password": pw}),
        200,
    )["access_token"]
        .as_str()
        .unwrap()
        .to_string()
}

// ------------------------------------------------------------------ seeding

struct World {
    ccg: String,
    elm: String,
    lmc: String,
    practice_user: String,
    practice_token: String,
    mediator_token: String,
    /// A second mediator of the same LMC, who takes on bulk disputes in the `assign` phases
    /// (so the first one keeps exactly its 500 cases for `mine`).
    assigner_id: String,
    assigner_token: String,
    /// Every dispute: the mediator's 500 first, then the bulk ones.
    ids: Vec<String>,
}

fn file_body(w_elm: &str, w_ccg: &str) -> Value {
    json!({"title": "Prescribing budget 2025/26", "category": "prescribing",
           "appellant_id": w_elm, "respondent_id": w_ccg,
           "summary": "The CCG reduced our prescribing budget without consultation.",
           "matter_arose_on": "2025-06-01", "contract_related": true})
}

/// Organisations and users through the API, and the mediator's 500 real, assigned cases.
fn seed_api(base: &str) -> World {
    let a = agent();
    let admin = login(&a, base, ADMIN, ADMIN_PW);
    let org = |name: &str, kind: &str, area: &str, ccg: Option<&str>| {
        let mut b = json!({"name": name, "kind": kind, "area": area, "region": "East",
            "email": format!("{}@{kind}.nhs.test", name.to_lowercase().replace(' ', ".")),
            "address": format!("1 {name} Street, {area}")});
        if let Some(c) = ccg {
            b["commissioner_id"] = json!(c);
        }
        ok_json(
            &a,
            "POST",
            &format!("{base}/api/v1/organisations"),
            Some(&admin),
            &b,
            201,
        )["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let ccg = org("North CCG", "commissioner", "North Essex", None);
    let lmc = org("North Essex LMC", "lmc", "North Essex", None);
    let elm = org("Elm Practice", "practice", "North Essex", Some(&ccg));
    let user = |name: &str, email: &str, org: &str, role: &str| {
        ok_json(&a, "POST", &format!("{base}/api/v1/users"), Some(&admin),
            &json!({"name": name, "email": email, "password": PW, "organisation_id": org, "roles": [role]}), 201)["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let practice_user = user("Pat Practice", "practice@load.test", &elm, "practice_user");
    let mediator = user("Mia Mediator", "mediator@load.test", &lmc, "lmc_mediator");
    let assigner_id = user("Max Mediator", "assigner@load.test", &lmc, "lmc_mediator");
    let practice_token = login(&a, base, "practice@load.test", PW);
    let mediator_token = login(&a, base, "mediator@load.test", PW);
    let assigner_token = login(&a, base, "assigner@load.test", PW);
    // 500 real cases, filed and assigned through the API, 8 at a time.
    let ids = Arc::new(Mutex::new(Vec::new()));
    let next = Arc::new(AtomicU64::new(0));
    std::thread::scope(|s| {
        for _ in 0..8 {
            let (ids, next) = (ids.clone(), next.clone());
            let (pt, mt, elm, ccg, mediator) =
                (&practice_token, &mediator_token, &elm, &ccg, &mediator);
            s.spawn(move || {
                let a = agent();
                while next.fetch_add(1, Ordering::Relaxed) < MEDIATOR_CASES as u64 {
                    let d = ok_json(&a, "POST", &format!("{base}/api/v1/disputes"), Some(pt), &file_body(elm, ccg), 201);
                    let id = d["id"].as_str().unwrap().to_string();
                    ok_json(&a, "POST", &format!("{base}/api/v1/disputes/{id}/events"), Some(mt),
                        &json!({"type": "assign_mediator", "mediator_id": mediator, "mode": "mediation"}), 200);
                    ids.lock().unwrap().push(id);
                }
            });
        }
    });
    let ids = std::mem::take(&mut *ids.lock().unwrap());
    assert_eq!(ids.len(), MEDIATOR_CASES);
    World {
        ccg,
        elm,
        lmc,
        practice_user,
        practice_token,
        mediator_token,
        assigner_id,
        assigner_token,
        ids,
    }
}

/// `n` more disputes straight into the database (the API would take too long), each with its
/// `file` event: informal, unassigned, Elm Practice v North CCG.
fn seed_bulk(db_url: &str, w: &mut World, n: usize) {
    let mut pooled = open(db_url);
    let conn: &mut ldr::db::DbConn = &mut pooled;
    let base_t = chrono::NaiveDate::from_ymd_opt(2026, 1, 5)
        .unwrap()
        .and_hms_opt(9, 0, 0)
        .unwrap();
    let mut new_ids = Vec::with_capacity(n);
    let chunk = match conn {
        ldr::db::DbConn::Pg(_) => 1000,
        ldr::db::DbConn::Sqlite(_) => 400,
    };
    let mut rows = Vec::with_capacity(chunk);
    let mut evs = Vec::with_capacity(chunk);
    conn.transaction::<_, diesel::result::Error, _>(|conn| {
        for i in 0..n {
            let id = uuid::Uuid::new_v4().to_string();
            let t = base_t + chrono::Duration::seconds(i as i64 * 60);
            rows.push(DisputeRow {
                id: id.clone(),
                title: format!("Bulk dispute {i}"),
                category: "prescribing".into(),
                appellant_id: w.elm.clone(),
                respondent_id: w.ccg.clone(),
                summary: "The CCG reduced our prescribing budget without consultation.".into(),
                matter_arose_on: chrono::NaiveDate::from_ymd_opt(2025, 6, 1).unwrap(),
                contract_related: true,
                inter_practice: false,
                screening_org_id: w.ccg.clone(),
                lmc_id: Some(w.lmc.clone()),
                state: "informal".into(),
                version: 1,
                mediator_id: None,
                mediator_mode: None,
                lodged_on: None,
                lmc_consulted_on: None,
                clinical_member_id: None,
                gp_conciliator_id: None,
                lmc_representative_id: None,
                secretary_id: None,
                chair_id: None,
                hearing_date: None,
                hearing_time: None,
                hearing_venue: None,
                hearing_sequence: 0,
                notice_sent_on: None,
                bundle_distributed_on: None,
                held_on: None,
                decided_on: None,
                decision_notified_on: None,
                referred_on: None,
                hearing_by: None,
                notice_by: None,
                bundle_by: None,
                decision_by: None,
                fhsu_by: Some(chrono::NaiveDate::from_ymd_opt(2028, 5, 31).unwrap()),
                next_sweep_on: None,
                detail: "{}".into(),
                created_by: w.practice_user.clone(),
                created_at: t,
                updated_at: t,
            });
            evs.push(EventRow {
                dispute_id: id.clone(),
                seq: 1,
                event_type: "file".into(),
                actor_id: w.practice_user.clone(),
                at: t,
                data: "{}".into(),
            });
            new_ids.push(id);
            if rows.len() == chunk || i + 1 == n {
                match conn {
                    ldr::db::DbConn::Pg(c) => {
                        diesel::insert_into(disputes::table)
                            .values(&rows)
                            .execute(c)?;
                        diesel::insert_into(events::table).values(&evs).execute(c)?;
                    }
                    ldr::db::DbConn::Sqlite(c) => {
                        diesel::insert_into(disputes::table)
                            .values(&rows)
                            .execute(c)?;
                        diesel::insert_into(events::table).values(&evs).execute(c)?;
                    }
                }
                rows.clear();
                evs.clear();
            }
        }
        Ok(())
    })
    .expect("bulk insert");
    if let ldr::db::DbConn::Pg(_) = conn {
        // What autovacuum would do shortly after a bulk load anyway.
        conn.batch_execute("ANALYZE").unwrap();
    }
    w.ids.extend(new_ids);
}

/// A connection to the database at `db_url`, as the service opens them.
fn open(db_url: &str) -> ldr::db::PooledConn {
    let target = ldr::db::DbTarget::parse(db_url).unwrap();
    ldr::db::connect(&target, 1).unwrap().get().unwrap()
}

/// How many notices have `status`.
fn notices_with(conn: &mut ldr::db::DbConn, status: &str) -> i64 {
    use ldr::db::schema::notices;
    notices::table
        .filter(notices::status.eq(status))
        .count()
        .get_result(conn)
        .unwrap()
}

/// How many notices are `sent`, and how many `queued`.
fn notice_counts(db_url: &str) -> (i64, i64) {
    let mut conn = open(db_url);
    (
        notices_with(&mut conn, "sent"),
        notices_with(&mut conn, "queued"),
    )
}

/// `LOAD_VACUUM=1`: on PostgreSQL, `VACUUM (ANALYZE)` before each read phase, so that it reads
/// the tables as autovacuum leaves them rather than with the write phases' dead row versions.
fn vacuum(db_url: &str) {
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
fn drain_outbox(db_url: &str) -> Duration {
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
fn notices_total(db_url: &str) -> i64 {
    use ldr::db::schema::notices;
    let mut conn = open(db_url);
    let c: &mut ldr::db::DbConn = &mut conn;
    notices::table.count().get_result(c).unwrap()
}

/// pgbench's copy: claims the queued notices 20 at a time and marks them sent with the mail
/// worker's own functions (`assign.sql` repeats their statements), until none is left; returns
/// how many there were and how long it took. "Now" is the database's `LOCALTIMESTAMP`, the
/// clock pgbench's `now()` queued them by.
fn deliver_rest(pgb_url: &str) -> (i64, Duration) {
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
fn real_notice(pgb_url: &str) -> Vec<(&'static str, String)> {
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
fn checkpoint(db_url: &str) {
    if !db_url.starts_with("postgres") {
        return;
    }
    if let Err(e) = pg_admin(db_url).batch_execute("CHECKPOINT") {
        eprintln!("   (CHECKPOINT refused, phases may vary more: {e})");
    }
}

fn pg_admin(url: &str) -> diesel::PgConnection {
    diesel::PgConnection::establish(url).expect("PostgreSQL at LOAD_PG_URL")
}

fn pg_url_for(admin_url: &str, name: &str) -> String {
    let mut u = url::Url::parse(admin_url).expect("LOAD_PG_URL");
    u.set_path(name);
    u.to_string()
}

struct PgDbs {
    admin_url: String,
    names: Vec<String>,
}

impl Drop for PgDbs {
    fn drop(&mut self) {
        if let Ok(mut c) = diesel::PgConnection::establish(&self.admin_url) {
            for n in &self.names {
                let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {n} WITH (FORCE)"));
            }
        }
    }
}

// ------------------------------------------------------------------ load phases

#[derive(Clone)]
struct Row {
    db: &'static str,
    op: String,
    conns: usize,
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    errors: u64,
    peak_rss_kib: u64,
    server_cpu: f64,
    client_cpu: f64,
    /// PostgreSQL processes (on SQLite runs: other users' PostgreSQL work, if any).
    pg_cpu: f64,
    /// Everything else on the machine: a sign of a disturbed measurement.
    other_cpu: f64,
    /// Notices the mail worker delivered from the phase's start (warm-up included) to its end,
    /// and how many were still queued at the end (the outbox is drained before each phase).
    notices_sent: i64,
    notices_left: i64,
    /// For a phase that queues notices: the notices it queued over the phase's time plus the
    /// time the worker took afterwards to deliver those still queued.
    with_delivery_rps: Option<f64>,
}

struct Load<'a> {
    base: &'a str,
    w: &'a World,
    seconds: u64,
    /// The next bulk dispute for `assign` (each can be assigned once).
    next_unassigned: AtomicU64,
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i] as f64 / 1000.0
}

impl Load<'_> {
    fn run(&self, server: &Server, db: &'static str, op: &str, conns: usize) -> Row {
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

/// Two table cells: the service's rate `rps` and its share of pgbench's `tps`; dashes for an
/// operation that was not run (`LOAD_OPS`).
fn rate_and_ratio(rps: Option<f64>, tps: f64) -> String {
    match rps {
        Some(rps) => format!("{rps:.0} | {:.0}%", rps / tps * 100.0),
        None => "— | —".to_string(),
    }
}

/// pgbench with `benches/pgbench/<script>` and the variables `defines` (`-D`, besides
/// `ndisputes`); returns tps (without initial connection time).
fn pgbench(
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

struct DbReport {
    db: &'static str,
    start_ms: f64,
    idle_rss_kib: u64,
    rows: Vec<Row>,
    pgbench: Vec<(usize, f64)>,
    /// `assign.sql` after each `assign` phase.
    pgbench_notice: Vec<PgbenchNotice>,
}

/// One run of `assign.sql`.
struct PgbenchNotice {
    conns: usize,
    tps: f64,
    /// Notices its client 0 had not claimed by the end of the run.
    left: i64,
    /// The notices it queued over the run's time plus the time their claims and "sent" then
    /// took (as `Row::with_delivery_rps` is for the service).
    with_delivery: f64,
}

fn run_db(db: &'static str, o: &Opts) -> DbReport {
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
    let first = Server::start(&url, dir.path(), &mail, o);
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
    let server = Server::start(&url, dir.path(), &mail, o);
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

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_default();
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines().next().map(|l| {
                l.split_whitespace()
                    .nth(1)
                    .unwrap_or("0")
                    .parse::<u64>()
                    .unwrap_or(0)
            })
        })
        .unwrap_or(0);
    format!(
        "{cores} × {cpu}, {:.1} GiB RAM",
        mem as f64 / 1024.0 / 1024.0
    )
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn main() {
    let o = opts();
    eprintln!(
        "ldr load test: {} s per phase, {} bulk disputes + {MEDIATOR_CASES} assigned, connections {:?}; {}; load average {}",
        o.seconds, o.disputes, o.conns, machine(), loadavg()
    );
    let mut reports = Vec::new();
    for db in &o.dbs {
        reports.push(run_db(db, &o));
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
