//! Webhook load (issue #35): the release binary, on each database, applies `assign_mediator`
//! transitions from `WH_CONNECTIONS` (8) clients in `WH_ROUNDS` (3) rounds. Each round has an
//! "off" phase of `WH_TRANSITIONS` (1,000) transitions on disputes of organisations with no
//! webhook, and an "on" phase of as many on disputes whose every event goes to 3 endpoints
//! (two of the appellant practice's, one of the respondent commissioner's); the phases
//! alternate (off, on; on, off; …) so that neither always runs second, on the larger database.
//! The endpoints are on a plain HTTP/1.1 receiver on 127.0.0.1 run here (so
//! `LDR_WEBHOOKS_ALLOW_PRIVATE=true`), which keeps connections open as a real one does. It
//! reports, per round and over all of them:
//!
//! - the transitions' throughput without and with webhooks, and how much it fell (the issue's
//!   bound: at most 15%);
//! - how long after the first transition of an "on" phase every one of its 3,000 deliveries
//!   had arrived, and how long after the last; every delivery must arrive, once, within
//!   `WH_BOUND_SECONDS` (120) of its phase's start, or the run fails; and how many connections
//!   the service opened for them all.
//!
//! ```sh
//! cargo bench --bench webhooks                          # both databases
//! WH_DB=sqlite WH_TRANSITIONS=200 WH_ROUNDS=1 cargo bench --bench webhooks   # a quick look
//! ```
//! Knobs: `WH_DB` (`both`|`sqlite`|`postgres`), `WH_TRANSITIONS`, `WH_ROUNDS`,
//! `WH_CONNECTIONS`, `WH_BOUND_SECONDS`, `WH_PG_URL`
//! (`postgres://postgres@127.0.0.1:5432/postgres`, a role that may create databases).

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
    /// How many connections the service opened.
    connections: usize,
}

fn receive(listener: TcpListener, got: Arc<Mutex<Got>>) {
    for conn in listener.incoming() {
        let Ok(conn) = conn else { continue };
        got.lock().unwrap().connections += 1;
        let got = got.clone();
        std::thread::spawn(move || handle(conn, &got));
    }
}

/// Answers the requests of one connection in turn, keeping it open between them as an
/// HTTP/1.1 server does (a practice's receiver is on another machine; here its work shares
/// the two cores with the service, so it should cost no more than a real one's would).
fn handle(conn: TcpStream, got: &Mutex<Got>) {
    let mut r = BufReader::new(conn.try_clone().unwrap());
    let mut conn = conn;
    loop {
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
        if r.read_exact(&mut body).is_err() {
            return;
        }
        got.lock()
            .unwrap()
            .requests
            .push((path, id, Instant::now()));
        if conn
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
            .is_err()
        {
            return;
        }
    }
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

/// Two practices of one area, each in dispute with its own commissioner: Elm Practice and
/// North CCG register the endpoints ("hooked"), Ash Practice and South CCG none ("quiet").
struct World {
    mediator: String,
    mediator_id: String,
    hooked: Pair,
    quiet: Pair,
}

struct Pair {
    practice: String,
    commissioner: String,
    appellant: String,
    respondent: String,
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
    let lmc = org("North LMC", "lmc", None);
    let (mediator_id, mediator) = user("Mia Mediator", &lmc, "lmc_mediator");
    let pair = |practice: &str, ccg: &str| {
        let respondent = org(ccg, "commissioner", None);
        let appellant = org(practice, "practice", Some(&respondent));
        Pair {
            practice: user(&format!("Pat {practice}"), &appellant, "practice_user").1,
            commissioner: user(&format!("Cara {ccg}"), &respondent, "commissioner").1,
            appellant,
            respondent,
        }
    };
    let hooked = pair("Elm Practice", "North CCG");
    let quiet = pair("Ash Practice", "South CCG");
    World {
        mediator,
        mediator_id,
        hooked,
        quiet,
    }
}

/// Files `n` disputes of `p` (setup, not measured); returns their ids.
fn file(base: &str, p: &Pair, n: usize, clients: usize) -> Vec<String> {
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
                        Some(&p.practice),
                        &json!({"title": "Budget", "category": "other", "appellant_id": p.appellant,
                            "respondent_id": p.respondent, "summary": "s", "matter_arose_on": "2026-01-05",
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

/// One round: `n` transitions of quiet disputes and `n` of hooked ones, in the round's order.
struct Round {
    off: f64,
    on: f64,
    /// From the first hooked transition to the last of its 3n deliveries.
    all_in: Duration,
    after_last: Duration,
}

struct Report {
    db: &'static str,
    rounds: Vec<Round>,
    delivered: usize,
    connections: usize,
}

fn run(
    db: &'static str,
    db_url: &str,
    n: usize,
    rounds: usize,
    clients: usize,
    bound: Duration,
) -> Report {
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
    // Filed before any endpoint exists, so filing queues no deliveries.
    let quiet = file(&server.base, &w.quiet, rounds * n, clients);
    let hooked = file(&server.base, &w.hooked, rounds * n, clients);
    let a = agent();
    for (token, path) in [
        (&w.hooked.practice, "/elm-1"),
        (&w.hooked.practice, "/elm-2"),
        (&w.hooked.commissioner, "/ccg"),
    ] {
        ok(
            &a,
            "POST",
            &format!("{}/api/v1/webhooks", server.base),
            Some(token),
            &json!({"url": format!("http://127.0.0.1:{port}{path}")}),
        );
    }
    let mut out = Vec::new();
    for r in 0..rounds {
        let off_phase = || {
            let (t, _) = transitions(&server.base, &w, &quiet[r * n..(r + 1) * n], clients);
            n as f64 / t.as_secs_f64()
        };
        // Every delivery of the round arrives before the next phase starts.
        let on_phase = || {
            let (t, started) = transitions(&server.base, &w, &hooked[r * n..(r + 1) * n], clients);
            let want = 3 * n * (r + 1);
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
            let done = got
                .lock()
                .unwrap()
                .requests
                .iter()
                .map(|(_, _, t)| *t)
                .max()
                .unwrap();
            (
                n as f64 / t.as_secs_f64(),
                done - started,
                done.saturating_duration_since(started + t),
            )
        };
        // Off then on in even rounds, on then off in odd ones, so that neither side always
        // runs on the larger database.
        let (off, (on, all_in, after_last)) = if r % 2 == 0 {
            let off = off_phase();
            (off, on_phase())
        } else {
            let on = on_phase();
            (off_phase(), on)
        };
        out.push(Round {
            off,
            on,
            all_in,
            after_last,
        });
    }
    std::thread::sleep(Duration::from_millis(500));
    let g = got.lock().unwrap();
    let want = 3 * n * rounds;
    let unique: HashSet<&str> = g.requests.iter().map(|(_, id, _)| id.as_str()).collect();
    assert_eq!(g.requests.len(), want, "{db}: a delivery arrived twice");
    assert_eq!(unique.len(), want, "{db}: a webhook-id arrived twice");
    Report {
        db,
        rounds: out,
        delivered: g.requests.len(),
        connections: g.connections,
    }
}

fn main() {
    // `cargo bench` passes --bench; nothing else is taken.
    let n: usize = env_or("WH_TRANSITIONS", 1000);
    let rounds: usize = env_or("WH_ROUNDS", 3);
    let clients: usize = env_or("WH_CONNECTIONS", 8);
    let bound = Duration::from_secs(env_or("WH_BOUND_SECONDS", 120));
    let which = std::env::var("WH_DB").unwrap_or_else(|_| "both".into());
    let pg_admin = std::env::var("WH_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let mut reports = Vec::new();
    if which == "both" || which == "sqlite" {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("wh.sqlite3").display());
        reports.push(run("sqlite", &url, n, rounds, clients, bound));
    }
    if which == "both" || which == "postgres" {
        let name = format!("ldr_wh_{}", uuid::Uuid::new_v4().simple());
        let mut admin = diesel::PgConnection::establish(&pg_admin).expect("PostgreSQL (WH_PG_URL)");
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap();
        let mut u = url::Url::parse(&pg_admin).unwrap();
        u.set_path(&name);
        let r = std::panic::catch_unwind(|| run("postgres", u.as_str(), n, rounds, clients, bound));
        let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        reports.push(r.unwrap_or_else(|e| std::panic::resume_unwind(e)));
    }
    println!(
        "\n{rounds} rounds of {n} assign_mediator transitions from {clients} clients without \
         webhooks (off) and {n} with 3 endpoints each (on), alternated\n"
    );
    println!("| database | round | transitions/s, off | on | change | all {} deliveries in (from the first transition) | after the last transition |", 3 * n);
    println!("|---|---|---|---|---|---|---|");
    for r in &reports {
        let mut changes = Vec::new();
        for (i, x) in r.rounds.iter().enumerate() {
            let change = (x.on / x.off - 1.0) * 100.0;
            changes.push(change);
            println!(
                "| {} | {} | {:.0} | {:.0} | {:+.1}% | {:.1} s | {:.1} s |",
                r.db,
                i + 1,
                x.off,
                x.on,
                change,
                x.all_in.as_secs_f64(),
                x.after_last.as_secs_f64()
            );
        }
        let off: f64 = r.rounds.iter().map(|x| x.off).sum();
        let on: f64 = r.rounds.iter().map(|x| x.on).sum();
        let change = (on / off - 1.0) * 100.0;
        changes.sort_by(f64::total_cmp);
        println!(
            "| {} | all | {:.0} | {:.0} | {:+.1}% {} (median round {:+.1}%) | {} delivered over {} connections | |",
            r.db,
            off / r.rounds.len() as f64,
            on / r.rounds.len() as f64,
            change,
            if change >= -15.0 { "(within 15%)" } else { "(MORE THAN 15% slower)" },
            changes[changes.len() / 2],
            r.delivered,
            r.connections
        );
    }
}
