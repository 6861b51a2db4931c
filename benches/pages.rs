//! Page performance (issue #32): the real release binary on an SQLite file (or PostgreSQL with
//! `PAGES_PG_URL`), seeded through the API, then measured as a browser uses it:
//!
//! - `caseload`: `GET /` as an LMC mediator whose LMC has `PAGES_CASES` (200) open cases;
//! - `case`: `GET /disputes/{id}` of a case with 50 events (filed, taken, 48 notes);
//! - `deadlines`: `GET /deadlines` (a panel secretary's first page) with `PAGES_OPEN` (500)
//!   open stage-2 cases, their deadlines spread over six weeks (breaches among them);
//! - `calendar`: `GET /disputes/{id}/hearing-calendar` of a case whose panel is appointed;
//!
//! each at `PAGES_CLIENTS` (16) concurrent clients, each on its own keep-alive connection with
//! the mediator's session cookie, for `PAGES_SECONDS` (10): requests a second, p50, p99, max.
//! Then a first visit: the sign-in page and every asset it loads, asked for with
//! `Accept-Encoding: gzip` as a browser does, and the bytes transferred (bodies as sent); every
//! URL the page loads must be on this host. Every answer must be 200, or the run fails.
//!
//! ```sh
//! cargo bench --bench pages
//! PAGES_SECONDS=3 PAGES_CLIENTS=4 cargo bench --bench pages     # a quick look
//! ```
//! The target (issue #32): p99 ≤ 20 ms for each page, a first visit ≤ 250 KB compressed.

#[path = "support/mod.rs"]
mod support;

use diesel::prelude::*;
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};
use support::server::{Server, ADMIN, ADMIN_PW};

const PW: &str = "pages-user-password-1";

fn env_or<T: std::str::FromStr>(k: &str, default: T) -> T {
    std::env::var(k)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into()
}

#[track_caller]
fn api(a: &ureq::Agent, s: &Server, path: &str, token: Option<&str>, body: Value) -> Value {
    let mut req = a.post(format!("{}/api/v1{path}", s.base));
    if let Some(t) = token {
        req = req.header("Authorization", format!("Bearer {t}"));
    }
    let mut r = req.send_json(&body).expect("request");
    let status = r.status().as_u16();
    let v: Value = r.body_mut().read_json().unwrap_or(Value::Null);
    assert!((200..300).contains(&status), "{path}: {status} {v}");
    v
}

fn login(a: &ureq::Agent, s: &Server, email: &str, pw: &str) -> String {
    api(
        a,
        s,
        "/auth/login",
        None,
        json!({"email": email, "password": pw}),
    )["access_token"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Seeds an LMC, a CCG, a practice, a mediator and a practice user; files `cases` disputes
/// and gives one of them 50 events. Returns that case's id.
fn seed(s: &Server, cases: usize) -> String {
    let a = agent();
    let admin = login(&a, s, ADMIN, ADMIN_PW);
    let org = |name: &str, kind: &str, ccg: Option<&str>| {
        let mut b = json!({"name": name, "kind": kind, "area": "North Essex", "region": "East",
                           "email": format!("{}@pages.test", kind), "address": "1 High Street"});
        if let Some(c) = ccg {
            b["commissioner_id"] = json!(c);
        }
        api(&a, s, "/organisations", Some(&admin), b)["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let lmc = org("North Essex LMC", "lmc", None);
    let ccg = org("North CCG", "commissioner", None);
    let elm = org("Elm Practice", "practice", Some(&ccg));
    let mut ids = Vec::new();
    for (name, email, o, role) in [
        ("Mia Mediator", "mia@pages.test", &lmc, "lmc_mediator"),
        ("Pat Practice", "pat@pages.test", &elm, "practice_user"),
    ] {
        let u = api(
            &a,
            s,
            "/users",
            Some(&admin),
            json!({"name": name, "email": email, "password": PW, "organisation_id": o,
                   "roles": [role]}),
        );
        ids.push(u["id"].as_str().unwrap().to_string());
    }
    let me = ids[0].clone();
    let pat = login(&a, s, "pat@pages.test", PW);
    let mia = login(&a, s, "mia@pages.test", PW);
    let mut first = String::new();
    for i in 0..cases {
        let d = api(
            &a,
            s,
            "/disputes",
            Some(&pat),
            json!({"title": format!("Prescribing budget {i}"), "category": "prescribing",
                   "appellant_id": elm, "respondent_id": ccg,
                   "summary": "The CCG reduced our prescribing budget without consultation.",
                   "matter_arose_on": "2025-06-01", "contract_related": true}),
        );
        if i == 0 {
            first = d["id"].as_str().unwrap().to_string();
        }
    }
    let ev = |body: Value| {
        api(
            &a,
            s,
            &format!("/disputes/{first}/events"),
            Some(&mia),
            body,
        )
    };
    ev(json!({"type": "assign_mediator", "mediator_id": me, "mode": "mediation"}));
    for n in 0..48 {
        ev(json!({"type": "add_note", "text": format!("Note {n}: both sides spoke to the LMC.")}));
    }
    first
}

/// A panel secretary, `open` cases awaiting a panel (stored as the service stores them, lodged
/// over the last six weeks so that some deadlines are breached and some near), and one case
/// of the secretary's own panel for the hearing calendar, which is returned.
fn seed_workbench(s: &Server, db_url: &str, open: usize) -> String {
    use ldr::domain::dispute::Panel;
    use ldr::domain::workflow::State;
    let a = agent();
    let admin = login(&a, s, ADMIN, ADMIN_PW);
    let ccg = api(
        &a,
        s,
        "/organisations",
        Some(&admin),
        json!({"name": "South CCG", "kind": "commissioner", "area": "South Essex",
               "region": "East", "email": "south@pages.test", "address": "2 High Street"}),
    )["id"]
        .as_str()
        .unwrap()
        .to_string();
    let sec = api(
        &a,
        s,
        "/users",
        Some(&admin),
        json!({"name": "Sam Secretary", "email": "sam@pages.test", "password": PW,
               "organisation_id": ccg, "roles": ["panel_secretary"]}),
    )["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut conn = support::pg::open(db_url);
    let c: &mut ldr::db::DbConn = &mut conn;
    // The parties of the cases seeded by `seed`.
    let (elm, north, pat): (String, String, String) = {
        use ldr::db::schema::{organisations as o, users as u};
        let mut org = |name: &str| -> String {
            o::table
                .filter(o::name.eq(name))
                .select(o::id)
                .first(c)
                .unwrap()
        };
        let elm = org("Elm Practice");
        let north = org("North CCG");
        let pat = u::table
            .filter(u::email.eq("pat@pages.test"))
            .select(u::id)
            .first(c)
            .unwrap();
        (elm, north, pat)
    };
    let parties = support::rows::Parties {
        appellant: &elm,
        respondent: &north,
        lmc: None,
        filed_by: &pat,
    };
    let cal = ldr::domain::calendar::Calendar::computed();
    let today: chrono::NaiveDate = support::server::TODAY.parse().unwrap();
    let at = today.and_hms_opt(9, 0, 0).unwrap() - chrono::Duration::days(60);
    let mut calendar_case = String::new();
    for i in 0..open {
        let id = uuid::Uuid::new_v4().to_string();
        let mut d = support::rows::filed(id.clone(), format!("Panel case {i}"), &parties, at, &cal);
        let lodged = cal.add_working_days(today, -((i % 30) as i64)).unwrap();
        d.state = State::PanelForming;
        d.lodged_on = Some(lodged);
        d.next_sweep_on = None;
        let by = ldr::domain::deadlines::hearing_by(&cal, lodged);
        d.deadlines.hearing_by = by;
        d.deadlines.notice_by = by.and_then(|b| ldr::domain::deadlines::latest_notice_day(&cal, b));
        d.deadlines.bundle_by = by.and_then(|b| ldr::domain::deadlines::latest_bundle_day(&cal, b));
        if i == 0 {
            // The secretary's own panel (the members' names do not matter to the calendar).
            d.state = State::PanelAppointed;
            d.panel = Some(Panel {
                clinical_member_id: pat.clone(),
                gp_conciliator_id: pat.clone(),
                lmc_representative_id: pat.clone(),
                secretary_id: sec.clone(),
                chair_id: pat.clone(),
            });
            calendar_case = id;
        }
        ldr::db::disputes::insert(c, &ldr::db::disputes::DisputeRow::of(&d)).unwrap();
    }
    calendar_case
}

/// Signs in through the sign-in page as a browser does; returns the session cookie.
fn page_session(s: &Server, email: &str, pw: &str) -> String {
    let a = agent();
    let mut r = a.get(format!("{}/sign-in", s.base)).call().unwrap();
    let signin = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("ldr_signin="))
        .and_then(|c| c.split(';').next())
        .expect("the sign-in cookie")
        .to_string();
    let html = r.body_mut().read_to_string().unwrap();
    let token = html
        .split("name=\"csrf_token\" value=\"")
        .nth(1)
        .and_then(|t| t.split('"').next())
        .expect("the form's token")
        .to_string();
    let r = a
        .post(format!("{}/sign-in", s.base))
        .header("Cookie", &signin)
        .send_form([("email", email), ("password", pw), ("csrf_token", &token)])
        .unwrap();
    assert_eq!(r.status().as_u16(), 303, "signed in");
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("ldr_session="))
        .and_then(|c| c.split(';').next())
        .expect("the session cookie")
        .to_string()
}

/// `GET path` on a fresh connection with `headers`: status, head, body as sent.
fn raw_get(addr: std::net::SocketAddr, path: &str, headers: &str) -> (u16, String, Vec<u8>) {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{headers}\r\n"
    )
    .unwrap();
    let mut all = Vec::new();
    s.read_to_end(&mut all).unwrap();
    let end = all
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a head");
    let head = String::from_utf8_lossy(&all[..end]).into_owned();
    let status = head.get(9..12).and_then(|v| v.parse().ok()).unwrap_or(0);
    (status, head, all[end + 4..].to_vec())
}

/// `clients` threads asking for `path` with `cookie` for `seconds`: latencies, sorted.
fn measure(s: &Server, path: &str, cookie: &str, clients: usize, seconds: u64) -> Vec<Duration> {
    let barrier = Arc::new(Barrier::new(clients));
    let handles: Vec<_> = (0..clients)
        .map(|_| {
            let (url, cookie, barrier) = (
                format!("{}{path}", s.base),
                cookie.to_string(),
                barrier.clone(),
            );
            std::thread::spawn(move || {
                let a = agent();
                let mut times = Vec::new();
                barrier.wait();
                let end = Instant::now() + Duration::from_secs(seconds);
                while Instant::now() < end {
                    let t = Instant::now();
                    let mut r = a
                        .get(&url)
                        .header("Cookie", &cookie)
                        .header("Accept", "text/html")
                        .call()
                        .expect("GET");
                    let status = r.status().as_u16();
                    let body = r.body_mut().read_to_vec().unwrap_or_default();
                    times.push(t.elapsed());
                    assert_eq!(status, 200, "{url}: {}", String::from_utf8_lossy(&body));
                }
                times
            })
        })
        .collect();
    let mut all: Vec<Duration> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    all.sort();
    all
}

fn report(name: &str, times: &[Duration], seconds: u64) {
    let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
    println!(
        "{name:10} {:>8.0} req/s  p50 {:>7.2} ms  p99 {:>7.2} ms  max {:>7.2} ms  ({} requests)",
        times.len() as f64 / seconds as f64,
        at(0.50).as_secs_f64() * 1e3,
        at(0.99).as_secs_f64() * 1e3,
        times.last().unwrap().as_secs_f64() * 1e3,
        times.len()
    );
}

fn main() {
    let cases: usize = env_or("PAGES_CASES", 200);
    let clients: usize = env_or("PAGES_CLIENTS", 16);
    let seconds: u64 = env_or("PAGES_SECONDS", 10);
    let work = tempfile::tempdir().unwrap();
    let db_url = std::env::var("PAGES_PG_URL")
        .unwrap_or_else(|_| format!("sqlite://{}", work.path().join("ldr.sqlite3").display()));
    let s = Server::start(
        &db_url,
        work.path(),
        &work.path().join("mail"),
        &[("LDR_INSECURE_COOKIES".into(), "true".into())],
    );
    let addr: std::net::SocketAddr = s.base.trim_start_matches("http://").parse().unwrap();
    let t0 = Instant::now();
    let case = seed(&s, cases);
    println!(
        "seeded {cases} cases and a case of 50 events in {:.1} s",
        t0.elapsed().as_secs_f64()
    );
    let cookie = page_session(&s, "mia@pages.test", PW);

    // Warm up, then measure.
    measure(&s, "/", &cookie, 1, 1);
    let caseload = measure(&s, "/", &cookie, clients, seconds);
    report("caseload", &caseload, seconds);
    let page = measure(&s, &format!("/disputes/{case}"), &cookie, clients, seconds);
    report("case", &page, seconds);

    // The panel secretary's workbench.
    let open: usize = env_or("PAGES_OPEN", 500);
    let calendar_case = seed_workbench(&s, &db_url, open);
    let secretary = page_session(&s, "sam@pages.test", PW);
    measure(&s, "/deadlines", &secretary, 1, 1);
    let deadlines = measure(&s, "/deadlines", &secretary, clients, seconds);
    report("deadlines", &deadlines, seconds);
    let calendar = measure(
        &s,
        &format!("/disputes/{calendar_case}/hearing-calendar"),
        &secretary,
        clients,
        seconds,
    );
    report("calendar", &calendar, seconds);

    // A first visit: the sign-in page and everything it loads, compressed as a browser asks.
    let gzip = "Accept-Encoding: gzip, deflate, br\r\nAccept: text/html\r\n";
    let (status, _, html) = raw_get(addr, "/sign-in", gzip);
    assert_eq!(status, 200);
    let mut total = html.len();
    let text = String::from_utf8_lossy(&html).into_owned();
    let mut urls: Vec<String> = Vec::new();
    for attr in ["href=\"", "src=\""] {
        for part in text.split(attr).skip(1) {
            let url = part.split('"').next().unwrap_or("");
            if url.starts_with("/assets/") {
                urls.push(url.to_string());
            } else {
                assert!(
                    url.starts_with('/') || url.starts_with('#') || url.is_empty(),
                    "the sign-in page loads {url} from another host"
                );
            }
        }
    }
    println!("first visit: /sign-in {} bytes", html.len());
    for u in &urls {
        let (status, head, body) = raw_get(addr, u, gzip);
        assert_eq!(status, 200, "{u}");
        let enc = head
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("content-encoding:"))
            .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
            .unwrap_or_else(|| "identity".into());
        println!("  {u} {} bytes ({enc})", body.len());
        total += body.len();
    }
    println!(
        "first visit: {} requests, {:.1} KB transferred (target ≤ 250 KB)",
        urls.len() + 1,
        total as f64 / 1024.0
    );
}
