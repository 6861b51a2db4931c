//! The real binary under SIGKILL while clients post events: every acknowledged event survives
//! and no dispute is half-updated. And a full run's logs hold no secret.

mod common;

use common::process::free_port;

use serde_json::{json, Value};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const ADMIN: &str = "root@ldr.test";
const ADMIN_PW: &str = "bootstrap-password-42";
const SECRET: &str = "crash-test-secret-crash-test-secret-0123456789";
const USER_PW: &str = "practice-password-77";

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into()
}

fn start(db_url: &str, dir: &std::path::Path, port: u16, log: &std::path::Path) -> Child {
    let out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    let err = out.try_clone().unwrap();
    let mut c = common::process::ldr_command();
    c.env("LDR_DATABASE_URL", db_url)
        .env("LDR_BIND", format!("127.0.0.1:{port}"))
        .env("LDR_DATA_DIR", dir)
        .env("LDR_JWT_SECRET", SECRET)
        .env("LDR_BOOTSTRAP_ADMIN_EMAIL", ADMIN)
        .env("LDR_BOOTSTRAP_ADMIN_PASSWORD", ADMIN_PW)
        .env("LDR_LOG", "debug,h2=info,hyper=info,rustls=info")
        .stdout(Stdio::from(out))
        .stderr(Stdio::from(err));
    let mut child = c.spawn().unwrap();
    let a = agent();
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(30) {
        if let Ok(r) = a.get(&format!("http://127.0.0.1:{port}/readyz")).call() {
            if r.status() == 200 {
                return child;
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("ldr did not become ready");
}

fn call(
    a: &ureq::Agent,
    method: &str,
    url: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> (u16, Value) {
    let req = ureq::http::Request::builder()
        .method(method)
        .uri(url)
        .header("Content-Type", "application/json");
    let req = match token {
        Some(t) => req.header("Authorization", format!("Bearer {t}")),
        None => req,
    };
    let req = req
        .body(body.map(|b| b.to_string()).unwrap_or_default().into_bytes())
        .unwrap();
    match a.run(req) {
        Ok(mut r) => {
            let s = r.status().as_u16();
            let v = r.body_mut().read_json::<Value>().unwrap_or(Value::Null);
            (s, v)
        }
        Err(_) => (0, Value::Null),
    }
}

fn login(a: &ureq::Agent, base: &str, email: &str, pw: &str) -> String {
    let (s, v) = call(
        a,
        "POST",
        &format!("{base}/api/v1/auth/login"),
        None,
        Some(&json!({"email": email, "password": pw})),
    );
    assert_eq!(s, 200, "{v}");
    v["access_token"].as_str().unwrap().to_string()
}

fn crash_run(db_url: &str) {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("ldr.log");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut child = start(db_url, dir.path(), port, &log);
    let a = agent();
    let admin = login(&a, &base, ADMIN, ADMIN_PW);
    let (_, ccg) = call(
        &a,
        "POST",
        &format!("{base}/api/v1/organisations"),
        Some(&admin),
        Some(&json!({
        "name": "CCG", "kind": "commissioner", "area": "A", "region": "R", "email": "ccg@x.test", "address": "1 Road"})),
    );
    call(
        &a,
        "POST",
        &format!("{base}/api/v1/organisations"),
        Some(&admin),
        Some(&json!({
        "name": "LMC", "kind": "lmc", "area": "A", "region": "R", "email": "lmc@x.test", "address": "3 Road"})),
    );
    let (_, prac) = call(
        &a,
        "POST",
        &format!("{base}/api/v1/organisations"),
        Some(&admin),
        Some(&json!({
        "name": "Practice", "kind": "practice", "area": "A", "region": "R", "email": "p@x.test", "address": "2 Road", "commissioner_id": ccg["id"]})),
    );
    let (s, _) = call(
        &a,
        "POST",
        &format!("{base}/api/v1/users"),
        Some(&admin),
        Some(&json!({
        "name": "P", "email": "p@ldr.test", "password": USER_PW, "organisation_id": prac["id"], "roles": ["practice_user"]})),
    );
    assert_eq!(s, 201);
    let token = login(&a, &base, "p@ldr.test", USER_PW);
    let mut disputes = Vec::new();
    for i in 0..4 {
        let (s, d) = call(
            &a,
            "POST",
            &format!("{base}/api/v1/disputes"),
            Some(&token),
            Some(&json!({
            "title": format!("t{i}"), "category": "other", "appellant_id": prac["id"], "respondent_id": ccg["id"],
            "summary": "s", "matter_arose_on": "2025-01-01", "contract_related": false})),
        );
        assert_eq!(s, 201, "{d}");
        disputes.push(d["id"].as_str().unwrap().to_string());
    }
    // Clients post notes as fast as they can; we keep every acknowledged one.
    let acked: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..4)
        .map(|c| {
            let (acked, stop, base, token, ids) = (
                acked.clone(),
                stop.clone(),
                base.clone(),
                token.clone(),
                disputes.clone(),
            );
            std::thread::spawn(move || {
                let a = agent();
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) && n < 2000 {
                    let id = &ids[n % ids.len()];
                    let text = format!("c{c}-n{n}");
                    let (s, _) = call(
                        &a,
                        "POST",
                        &format!("{base}/api/v1/disputes/{id}/events"),
                        Some(&token),
                        Some(&json!({"type": "add_note", "text": text})),
                    );
                    if s == 200 {
                        acked.lock().unwrap().push((id.clone(), text));
                    }
                    n += 1;
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.join().unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() > 10,
        "too few events acknowledged before the kill: {}",
        acked.len()
    );
    let mut child = start(db_url, dir.path(), port, &log);
    let token = login(&a, &base, "p@ldr.test", USER_PW);
    for id in &disputes {
        let (_, d) = call(
            &a,
            "GET",
            &format!("{base}/api/v1/disputes/{id}"),
            Some(&token),
            None,
        );
        let (_, hist) = call(
            &a,
            "GET",
            &format!("{base}/api/v1/disputes/{id}/events"),
            Some(&token),
            None,
        );
        let hist = hist.as_array().unwrap();
        // Not half-updated: the version is exactly the number of events in the history.
        assert_eq!(
            d["version"].as_u64().unwrap() as usize,
            hist.len(),
            "dispute {id}"
        );
        let texts: Vec<&str> = hist
            .iter()
            .filter_map(|e| e["data"]["text"].as_str())
            .collect();
        for (_, t) in acked.iter().filter(|(i, _)| i == id) {
            assert!(texts.contains(&t.as_str()), "acknowledged event {t} lost");
        }
    }
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
    // Nothing secret in the logs of the whole run.
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("event applied"), "log is empty?");
    for secret in [
        ADMIN_PW,
        USER_PW,
        SECRET,
        "$argon2",
        &token[..40],
        &admin[..40],
    ] {
        assert!(
            !text.contains(secret),
            "log contains a secret ({})",
            &secret[..6.min(secret.len())]
        );
    }
}

#[test]
fn sigkill_loses_no_acknowledged_event_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    crash_run(&format!(
        "sqlite://{}",
        dir.path().join("crash.sqlite3").display()
    ));
}

#[test]
fn sigkill_loses_no_acknowledged_event_postgres() {
    let Some(pg) = common::PgDatabase::create() else {
        return;
    };
    crash_run(&pg.url);
}
