//! Webhook load (issue #35): the release binary, on each database, applies `WH_TRANSITIONS`
//! (1,000) `assign_mediator` transitions from `WH_CONNECTIONS` (8) clients, first with no
//! webhook registered, then with 3 endpoints that each event goes to (two of the appellant
//! practice's, one of the respondent commissioner's), all on a plain HTTP receiver on
//! 127.0.0.1 run here (so `LDR_WEBHOOKS_ALLOW_PRIVATE=true`). It reports:
//!
//! - the transitions' throughput without and with webhooks, and how much it fell (the issue's
//!   bound: at most 15%);
//! - how long after the first transition every one of the 3,000 deliveries had arrived, and
//!   how long after the last; every delivery must arrive, once, within `WH_BOUND_SECONDS`
//!   (120), or the run fails.
//!
//! ```sh
//! cargo bench --bench webhooks                          # both databases
//! WH_DB=sqlite WH_TRANSITIONS=200 cargo bench --bench webhooks   # a quick look
//! ```
//! Knobs: `WH_DB` (`both`|`sqlite`|`postgres`), `WH_TRANSITIONS`, `WH_CONNECTIONS`,
//! `WH_BOUND_SECONDS`, `WH_PG_URL` (`postgres://postgres@127.0.0.1:5432/postgres`, a role that
//! may create databases).

#[path = "support/mod.rs"]
mod support;

use diesel::connection::SimpleConnection;
use diesel::Connection;
use serde_json::{json, Value};
use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::server::{agent, Server, ADMIN, ADMIN_PW};

const PW: &str = "webhook-user-password-1";

fn env_or<T: std::str::FromStr>(k: &str, default: T) -> T {
    std::env::var(k)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

// ------------------------------------------------------------------ the receiver

#[derive(Default)]
struct Got {
    /// (path, webhook-id, when)
    requests: Vec<(String, String, Instant)>,
}

fn receive(listener: TcpListener, got: Arc<Mutex<Got>>) {
    for conn in listener.incoming() {
        let Ok(conn) = conn else { continue };
        let got = got.clone();
        std::thread::spawn(move || handle(conn, &got));
    }
}

fn handle(conn: TcpStream, got: &Mutex<Got>) {
    let mut r = BufReader::new(conn.try_clone().unwrap());
    let mut line = String::new();
    if r.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let path = line.split(' ').nth(1).unwrap_or("").to_string();
    let (mut len, mut id) = (0usize, String::new());
    loop {
        let mut h = String::new();
        if r.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
            break;
        }
        if let Some((k, v)) = h.trim_end().split_once(':') {
            match k.trim().to_ascii_lowercase().as_str() {
                "content-length" => len = v.trim().parse().unwrap_or(0),
                "webhook-id" => id = v.trim().to_string(),
                _ => {}
            }
        }
    }
    let mut body = vec![0u8; len];
    let _ = r.read_exact(&mut body);
    got.lock()
        .unwrap()
        .requests
        .push((path, id, Instant::now()));
    let mut conn = conn;
    let _ = conn.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok");
}

// ------------------------------------------------------------------ the service

fn call(
    a: &ureq::Agent,
    method: &str,
    url: &str,
    token: Option<&str>,
    body: &Value,
) -> (u16, Value) {
    let req = ureq::http::Request::builder()
        .method(method)
        .uri(url)
        .header("content-type", "application/json");
    let req = match token {
        Some(t) => req.header("authorization", format!("Bearer {t}")),
        None => req,
    };
    let mut res = a
        .run(req.body(body.to_string().into_bytes()).unwrap())
        .expect("request");
    let status = res.status().as_u16();
    let v = res.body_mut().read_json().unwrap_or(Value::Null);
    (status, v)
}

fn ok(a: &ureq::Agent, method: &str, url: &str, token: Option<&str>, body: &Value) -> Value {
    let (s, v) = call(a, method, url, token, body);
    assert!((200..300).contains(&s), "{method} {url}: {s} {v}");
    v
}

struct World {
    practice: String,
    commissioner: String,
    mediator: String,
    mediator_id: String,
    elm: String,
    ccg: String,
}

fn seed(base: &str) -> World {
    let a = agent();
    let url = |p: &str| format!("{base}/api/v1{p}");
    let admin = ok(
        &a,
        "POST",
        &url("/auth/login"),
        None,
        &json!({"email": ADMIN, "password": ADMIN_PW}),
    )["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let org = |name: &str, kind: &str, commissioner: Option<&str>| {
        let mut b = json!({"name": name, "kind": kind, "area": "North", "region": "East",
            "email": format!("{}@wh.test", name.replace(' ', ".")), "address": "1 Road"});
        if let Some(c) = commissioner {
            b["commissioner_id"] = json!(c);
        }
        ok(&a, "POST", &url("/organisations"), Some(&admin), &b)["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let ccg = org("North CCG", "commissioner", None);
    let lmc = org("North LMC", "lmc", None);
    let elm = org("Elm Practice", "practice", Some(&ccg));
    let user = |name: &str, org: &str, role: &str| {
        let email = format!("{}@wh.test", name.replace(' ', "."));
        let id = ok(
            &a,
            "POST",
            &url("/users"),
            Some(&admin),
            &json!({"name": name, "email": email,
            "password": PW, "organisation_id": org, "roles": [role], "panel_roles": []}),
        )["id"]
            .as_str()
            .unwrap()
            .to_string();
        let t = ok(
            &a,
            "POST",
            &url("/auth/login"),
            None,
            &json!({"email": email, "password": PW}),
        )["access_token"]
            .as_str()
            .unwrap()
            .to_string();
        (id, t)
    };
    let (_, practice) = user("Pat Practice", &elm, "practice_user");
    let (_, commissioner) = user("Cara Commissioner", &ccg, "commissioner");
    let (mediator_id, mediator) = user("Mia Mediator", &lmc, "lmc_mediator");
    World {
        practice,
        commissioner,
        mediator,
        mediator_id,
        elm,
        ccg,
    }
}

/// Files `n` disputes (setup, not measured); returns their ids.
fn file(base: &str, w: &World, n: usize, clients: usize) -> Vec<String> {
    let out = Arc::new(Mutex::new(Vec::new()));
    std::thread::scope(|s| {
        for _ in 0..clients {
            let out = out.clone();
            s.spawn(move || {
                let a = agent();
                for _ in 0..n / clients {
                    let v = ok(
                        &a,
                        "POST",
                        &format!("{base}/api/v1/disputes"),
                        Some(&w.practice),
                        &json!({"title": "Budget", "category": "other", "appellant_id": w.elm,
                            "respondent_id": w.ccg, "summary": "s", "matter_arose_on": "2026-01-05",
                            "contract_related": false}),
                    );
                    out.lock()
                        .unwrap()
                        .push(v["id"].as_str().unwrap().to_string());
                }
            });
        }
    });
    Arc::try_unwrap(out).unwrap().into_inner().unwrap()
}

/// Applies `assign_mediator` to each dispute from `clients` clients; returns (elapsed, when it
/// started).
fn transitions(base: &str, w: &World, ids: &[String], clients: usize) -> (Duration, Instant) {
    let t0 = Instant::now();
    std::thread::scope(|s| {
        for chunk in ids.chunks(ids.len().div_ceil(clients)) {
            s.spawn(move || {
                let a = agent();
                for id in chunk {
                    ok(&a, "POST", &format!("{base}/api/v1/disputes/{id}/events"), Some(&w.mediator),
                        &json!({"type": "assign_mediator", "mediator_id": w.mediator_id, "mode": "mediation"}));
                }
            });
        }
    });
    (t0.elapsed(), t0)
}

struct Report {
    db: &'static str,
    off: f64,
    on: f64,
    all_in: Duration,
    after_last: Duration,
    delivered: usize,
}

fn run(db: &'static str, db_url: &str, n: usize, clients: usize, bound: Duration) -> Report {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        db_url,
        dir.path(),
        &dir.path().join("mail"),
        &[
            ("LDR_WEBHOOKS_ALLOW_PRIVATE".into(), "true".into()),
            ("LDR_LOG".into(), "warn".into()),
        ],
    );
    let w = seed(&server.base);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let got = Arc::new(Mutex::new(Got::default()));
    {
        let got = got.clone();
        std::thread::spawn(move || receive(listener, got));
    }
    let n = n - n % clients;
    let ids = file(&server.base, &w, 2 * n, clients);
    // Filing queued no deliveries (no endpoint yet).
    let (off, _) = transitions(&server.base, &w, &ids[..n], clients);
    let a = agent();
    for (token, path) in [
        (&w.practice, "/elm-1"),
        (&w.practice, "/elm-2"),
        (&w.commissioner, "/ccg"),
    ] {
        ok(
            &a,
            "POST",
            &format!("{}/api/v1/webhooks", server.base),
            Some(token),
            &json!({"url": format!("http://127.0.0.1:{port}{path}")}),
        );
    }
    let (on, started) = transitions(&server.base, &w, &ids[n..], clients);
    let last = started + on;
    let want = 3 * n;
    loop {
        let count = got.lock().unwrap().requests.len();
        if count >= want {
            break;
        }
        assert!(
            started.elapsed() < bound,
            "{db}: only {count} of {want} deliveries within {} s",
            bound.as_secs()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(500));
    let g = got.lock().unwrap();
    let unique: HashSet<&str> = g.requests.iter().map(|(_, id, _)| id.as_str()).collect();
    assert_eq!(g.requests.len(), want, "{db}: a delivery arrived twice");
    assert_eq!(unique.len(), want, "{db}: a webhook-id arrived twice");
    let done = g.requests.iter().map(|(_, _, t)| *t).max().unwrap();
    Report {
        db,
        off: n as f64 / off.as_secs_f64(),
        on: n as f64 / on.as_secs_f64(),
        all_in: done - started,
        after_last: done.saturating_duration_since(last),
        delivered: g.requests.len(),
    }
}

fn main() {
    // `cargo bench` passes --bench; nothing else is taken.
    let n: usize = env_or("WH_TRANSITIONS", 1000);
    let clients: usize = env_or("WH_CONNECTIONS", 8);
    let bound = Duration::from_secs(env_or("WH_BOUND_SECONDS", 120));
    let which = std::env::var("WH_DB").unwrap_or_else(|_| "both".into());
    let pg_admin = std::env::var("WH_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let mut reports = Vec::new();
    if which == "both" || which == "sqlite" {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("wh.sqlite3").display());
        reports.push(run("sqlite", &url, n, clients, bound));
    }
    if which == "both" || which == "postgres" {
        let name = format!("ldr_wh_{}", uuid::Uuid::new_v4().simple());
        let mut admin = diesel::PgConnection::establish(&pg_admin).expect("PostgreSQL (WH_PG_URL)");
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap();
        let mut u = url::Url::parse(&pg_admin).unwrap();
        u.set_path(&name);
        let r = std::panic::catch_unwind(|| run("postgres", u.as_str(), n, clients, bound));
        let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        reports.push(r.unwrap_or_else(|e| std::panic::resume_unwind(e)));
    }
    println!("\n{n} assign_mediator transitions from {clients} clients; 3 endpoints each with webhooks on\n");
    println!("| database | transitions/s, webhooks off | on | change | all {} deliveries in (from the first transition) | after the last transition |", 3 * n);
    println!("|---|---|---|---|---|---|");
    for r in &reports {
        let change = (r.on / r.off - 1.0) * 100.0;
        println!(
            "| {} | {:.0} | {:.0} | {:+.1}% {} | {:.1} s ({} delivered) | {:.1} s |",
            r.db,
            r.off,
            r.on,
            change,
            if change >= -15.0 {
                "(within 15%)"
            } else {
                "(MORE THAN 15% slower)"
            },
            r.all_in.as_secs_f64(),
            r.delivered,
            r.after_last.as_secs_f64()
        );
    }
}
