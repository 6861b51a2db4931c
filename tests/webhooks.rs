//! Webhooks (issue #35) end to end on both databases, against real HTTP receivers on
//! 127.0.0.1 started here (so the app runs with LDR_WEBHOOKS_ALLOW_PRIVATE=true, except where
//! the refusal of private addresses is the point).
//!
//! Signatures are checked by an HMAC-SHA256 written here from RFC 2104 and the Standard
//! Webhooks specification (on `sha2`, not the service's signer), and by the reference Python
//! package `standardwebhooks` from PyPI when it is installed (`.ci/run` installs it; missing,
//! that check is skipped loudly, or fails with LDR_REQUIRE_STANDARDWEBHOOKS=1).

mod common;

use base64::Engine;
use common::http::read_request;
use common::world::{World, COMMISSIONER, MEDIATOR, OFFICER, OTHER_PRACTICE, PRACTICE};
use common::{Db, TestApp};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::{BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

// ------------------------------------------------------------------ a receiver

/// One request a receiver got.
#[derive(Debug, Clone)]
struct Received {
    path: String,
    headers: HashMap<String, String>,
    body: String,
}

impl Received {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("a JSON body")
    }
    fn h(&self, name: &str) -> &str {
        self.headers.get(name).map(String::as_str).unwrap_or("")
    }
}

#[derive(Default)]
struct Log {
    got: Mutex<Vec<Received>>,
    /// Requests being answered now, by `webhook-id` and by path.
    in_flight: Mutex<HashMap<String, usize>>,
    /// The most requests ever in flight at once for one `webhook-id` or one path.
    worst_overlap: AtomicUsize,
}

/// A plain HTTP/1.1 server on 127.0.0.1 that records every request and answers 200 `ok`
/// (after `delay`), closing each connection. `down()` closes the port (connections are
/// refused); `up()` listens on the same port again.
struct Receiver {
    port: u16,
    log: Arc<Log>,
    delay: Duration,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Receiver {
    fn start(delay: Duration) -> Receiver {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let mut r = Receiver {
            port,
            log: Arc::new(Log::default()),
            delay,
            stop: Arc::new(AtomicBool::new(false)),
            thread: None,
        };
        r.serve(l);
        r
    }

    fn serve(&mut self, l: TcpListener) {
        let (log, stop, delay) = (self.log.clone(), self.stop.clone(), self.delay);
        stop.store(false, Ordering::SeqCst);
        self.thread = Some(std::thread::spawn(move || {
            for conn in l.incoming() {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let log = log.clone();
                std::thread::spawn(move || handle(conn, &log, delay));
            }
        }));
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn down(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
        // Refused from now on.
        assert!(TcpStream::connect(("127.0.0.1", self.port)).is_err());
    }

    fn up(&mut self) {
        let l = TcpListener::bind(("127.0.0.1", self.port)).expect("the same port again");
        self.serve(l);
    }

    fn got(&self) -> Vec<Received> {
        self.log.got.lock().unwrap().clone()
    }

    fn on(&self, path: &str) -> Vec<Received> {
        self.got().into_iter().filter(|r| r.path == path).collect()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        if self.thread.is_some() {
            self.down();
        }
    }
}

fn handle(conn: TcpStream, log: &Log, delay: Duration) {
    conn.set_read_timeout(Some(Duration::from_secs(10))).ok();
    let Some(request) = read_request(&mut BufReader::new(conn.try_clone().unwrap())) else {
        return;
    };
    let path = request.target().to_string();
    let headers: HashMap<String, String> = request.headers.into_iter().collect();
    let body = request.body;
    let keys = [
        headers.get("webhook-id").cloned().unwrap_or_default(),
        format!("path {path}"),
    ];
    {
        let mut f = log.in_flight.lock().unwrap();
        for k in &keys {
            let n = f.entry(k.clone()).or_default();
            *n += 1;
            log.worst_overlap.fetch_max(*n, Ordering::SeqCst);
        }
    }
    std::thread::sleep(delay);
    log.got.lock().unwrap().push(Received {
        path,
        headers,
        body: String::from_utf8(body).unwrap(),
    });
    {
        let mut f = log.in_flight.lock().unwrap();
        for k in &keys {
            *f.get_mut(k).unwrap() -= 1;
        }
    }
    let mut conn = conn;
    let _ = conn.write_all(
        b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
    );
}

// ------------------------------------------------------------------ verifying signatures

/// HMAC-SHA256 (RFC 2104) on `sha2`.
fn hmac_sha256(key: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut k = if key.len() > 64 {
        Sha256::digest(key).to_vec()
    } else {
        key.to_vec()
    };
    k.resize(64, 0);
    let pad = |b: u8| k.iter().map(|x| x ^ b).collect::<Vec<u8>>();
    let mut inner = Sha256::new();
    inner.update(pad(0x36));
    inner.update(msg);
    let mut outer = Sha256::new();
    outer.update(pad(0x5c));
    outer.update(inner.finalize());
    outer.finalize().to_vec()
}

/// Whether one of the request's `v1,` signatures is the Standard Webhooks signature of it
/// with `secret` (`whsec_` + base64 key), and its timestamp is within five minutes of now.
fn signed_with(r: &Received, secret: &str) -> bool {
    let b64 = base64::engine::general_purpose::STANDARD;
    let key = b64
        .decode(secret.strip_prefix("whsec_").expect("whsec_ prefix"))
        .expect("base64 secret");
    let (id, ts) = (r.h("webhook-id"), r.h("webhook-timestamp"));
    let t: i64 = ts.parse().expect("a numeric webhook-timestamp");
    if (chrono::Utc::now().timestamp() - t).abs() > 300 {
        return false;
    }
    let want = format!(
        "v1,{}",
        b64.encode(hmac_sha256(
            &key,
            format!("{id}.{ts}.{}", r.body).as_bytes()
        ))
    );
    r.h("webhook-signature").split(' ').any(|s| s == want)
}

/// The README's two Python verifiers (the `standardwebhooks` package's, and the one by hand),
/// as a practice's developer would copy them.
fn readme_verifiers() -> Vec<String> {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let blocks: Vec<String> = readme
        .split("```python\n")
        .skip(1)
        .map(|b| b.split("```").next().unwrap().to_string())
        .collect();
    assert_eq!(
        blocks.len(),
        2,
        "the README's guide has two Python verifiers"
    );
    blocks
}

/// Whether the README's Python verifiers accept `r` with `secret`: `Some(true)` when both do,
/// `Some(false)` when either refuses, `None` when the `standardwebhooks` package is not
/// installed (said loudly; a failure with LDR_REQUIRE_STANDARDWEBHOOKS=1). Each snippet runs
/// with `secret`, `headers` and `body` (the bytes as received) defined; the one by hand
/// defines `verify`, which is then called as the README shows.
fn python_verifies(r: &Received, secret: &str) -> Option<bool> {
    let dir = tempfile::tempdir().unwrap();
    let body = dir.path().join("body");
    std::fs::write(&body, &r.body).unwrap();
    let headers = json!({"webhook-id": r.h("webhook-id"), "webhook-timestamp": r.h("webhook-timestamp"),
        "webhook-signature": r.h("webhook-signature")});
    let script = "import sys, json\n\
        try:\n    import standardwebhooks\n\
        except ImportError:\n    sys.exit(3)\n\
        body = open(sys.argv[1], 'rb').read()\n\
        secret, headers = sys.argv[2], json.loads(sys.argv[3])\n\
        try:\n    exec(sys.argv[4])\n    \
        if 'verify' in globals():\n        verify(secret, headers, body)\n\
        except Exception as e:\n    print(repr(e))\n    sys.exit(1)\n";
    let mut all = true;
    for snippet in readme_verifiers() {
        let out = std::process::Command::new("python3")
            .args(["-c", script])
            .arg(&body)
            .arg(secret)
            .arg(headers.to_string())
            .arg(&snippet)
            .output();
        match out.as_ref().ok().and_then(|o| o.status.code()) {
            Some(0) => {}
            Some(1) => all = false,
            _ => {
                let msg =
                    "python3 with the standardwebhooks package (pip install standardwebhooks) \
                           is missing: the README's verifiers are NOT RUN";
                if std::env::var("LDR_REQUIRE_STANDARDWEBHOOKS").as_deref() == Ok("1") {
                    panic!("{msg} (LDR_REQUIRE_STANDARDWEBHOOKS=1): {out:?}");
                }
                eprintln!("\n!!!!!!!! {msg} !!!!!!!!\n");
                return None;
            }
        }
    }
    Some(all)
}

/// Both verifiers accept `r` with `secret`.
#[track_caller]
fn assert_signed(r: &Received, secret: &str) {
    assert!(signed_with(r, secret), "signature does not verify: {r:?}");
    if let Some(ok) = python_verifies(r, secret) {
        assert!(
            ok,
            "a README verifier (standardwebhooks, or by hand) refuses {r:?}"
        );
    }
}

// ------------------------------------------------------------------ helpers

const FAST: [(&str, &str); 4] = [
    ("LDR_TODAY", "2026-03-02"),
    ("LDR_WEBHOOKS_ALLOW_PRIVATE", "true"),
    ("LDR_WEBHOOK_RETRY_BASE_SECONDS", "1"),
    ("LDR_WEBHOOK_TIMEOUT_SECONDS", "5"),
];

/// Polls `probe` until it gives `Some`; fails after `secs` seconds with `what`.
#[track_caller]
fn within<T>(secs: u64, what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = probe() {
            return v;
        }
        assert!(Instant::now() < deadline, "{what} within {secs} s");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Registers `url` as `who`; returns (id, secret).
fn register(app: &TestApp, w: &World, who: &str, url: &str) -> (String, String) {
    let j = app
        .post(
            "/api/v1/webhooks",
            Some(w.t(who)),
            &json!({"url": url, "description": format!("{who}'s integration")}),
        )
        .expect(201);
    let secret = j["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"), "{j}");
    (j["id"].as_str().unwrap().to_string(), secret)
}

/// (dispute id, event id) of each request, in the order received.
fn events(got: &[Received]) -> Vec<(String, i64)> {
    got.iter()
        .map(|r| {
            let j = r.json();
            (
                j["data"]["dispute_id"].as_str().unwrap().to_string(),
                j["data"]["event_id"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn assign(w: &World) -> Value {
    json!({"type": "assign_mediator", "mediator_id": w.id(MEDIATOR), "mode": "mediation"})
}

// ------------------------------------------------------------------ the tests

fn parties_endpoints_get_signed_thin_events_and_no_one_else(db: Db) {
    let Some(app) = TestApp::spawn_with(db, &FAST) else {
        return;
    };
    let w = World::new(&app);
    let rx = Receiver::start(Duration::ZERO);
    let (practice_hook, practice_secret) = register(&app, &w, PRACTICE, &rx.url("/elm"));
    let (_, ccg_secret) = register(&app, &w, COMMISSIONER, &rx.url("/north-ccg"));
    let (oak_hook, _) = register(&app, &w, OTHER_PRACTICE, &rx.url("/oak"));

    let id = w.file(&app, true);
    w.ok(&app, MEDIATOR, &id, assign(&w));
    let elm = within(30, "two deliveries to the practice", || {
        Some(rx.on("/elm")).filter(|g| g.len() >= 2)
    });
    let ccg = within(30, "two deliveries to the commissioner", || {
        Some(rx.on("/north-ccg")).filter(|g| g.len() >= 2)
    });
    assert_eq!(events(&elm), [(id.clone(), 1), (id.clone(), 2)]);
    assert_eq!(events(&ccg), [(id.clone(), 1), (id.clone(), 2)]);
    for r in &elm {
        assert_signed(r, &practice_secret);
        assert!(
            !signed_with(r, &ccg_secret),
            "signed with another endpoint's secret"
        );
        // The README's verifiers refuse another secret and a body changed on the way.
        assert_ne!(python_verifies(r, &ccg_secret), Some(true), "{r:?}");
        let altered = Received {
            body: r.body.replace("\"version\"", "\"version\" "),
            ..r.clone()
        };
        assert_ne!(altered.body, r.body);
        assert_ne!(python_verifies(&altered, &practice_secret), Some(true));
        assert!(r.h("webhook-id").starts_with("msg_"), "{r:?}");
        assert_eq!(r.h("content-type"), "application/json");
    }
    for r in &ccg {
        assert_signed(r, &ccg_secret);
    }
    // Thin: ids, event type, state and version, nothing of the case.
    let first = elm[0].json();
    assert_eq!(first["type"], "dispute.event");
    assert!(
        first["timestamp"].as_str().unwrap().ends_with('Z'),
        "{first}"
    );
    assert_eq!(
        first["data"],
        json!({"dispute_id": id, "event_id": 1, "event_type": "file", "state": "informal", "version": 1})
    );
    assert_eq!(
        elm[1].json()["data"],
        json!({"dispute_id": id, "event_id": 2, "event_type": "assign_mediator", "state": "informal_mediation", "version": 2})
    );
    for r in rx.got() {
        assert!(
            !r.body.contains("Prescribing") && !r.body.contains("consultation"),
            "{}",
            r.body
        );
    }
    // One delivery per endpoint: the same event has its own webhook-id at each.
    assert_ne!(elm[0].h("webhook-id"), ccg[0].h("webhook-id"));

    // Another organisation's endpoint got nothing, even after the others were served.
    std::thread::sleep(Duration::from_millis(1500));
    assert!(rx.on("/oak").is_empty(), "{:?}", rx.on("/oak"));

    // The attempts, as the practice sees them; nobody else's.
    let d = app
        .get(
            &format!("/api/v1/webhooks/{practice_hook}/deliveries"),
            Some(w.t(PRACTICE)),
        )
        .expect(200);
    let attempts = d["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 2, "{d}");
    for a in attempts {
        assert_eq!(a["response_code"], 200, "{a}");
        assert_eq!(a["ok"], true);
        assert_eq!(a["response"], "ok");
        assert_eq!(a["delivery_status"], "delivered");
        assert_eq!(a["attempt"], 1);
    }
    assert_eq!(attempts[0]["event_id"], 2, "newest first: {d}");
    assert_eq!(d["webhook"]["pending_deliveries"], 0);
    for who in [OTHER_PRACTICE, COMMISSIONER, OFFICER] {
        app.get(
            &format!("/api/v1/webhooks/{practice_hook}/deliveries"),
            Some(w.t(who)),
        )
        .expect_problem(404, "not_found");
        app.post(
            &format!("/api/v1/webhooks/{practice_hook}/rotate-secret"),
            Some(w.t(who)),
            &json!({}),
        )
        .expect_problem(404, "not_found");
        app.send(
            "DELETE",
            &format!("/api/v1/webhooks/{practice_hook}"),
            Some(w.t(who)),
            &json!({}),
        )
        .expect_problem(404, "not_found");
    }
    let mine = app
        .get("/api/v1/webhooks", Some(w.t(OTHER_PRACTICE)))
        .expect(200);
    assert_eq!(mine.as_array().unwrap().len(), 1, "{mine}");
    assert_eq!(mine[0]["id"], oak_hook);
    assert!(
        mine[0].get("secret").is_none(),
        "the secret is shown only once: {mine}"
    );
    let all = app.get("/api/v1/webhooks", Some(&w.admin)).expect(200);
    assert_eq!(
        all.as_array().unwrap().len(),
        3,
        "an admin sees every one: {all}"
    );
    // An admin reads any organisation's deliveries.
    app.get(
        &format!("/api/v1/webhooks/{practice_hook}/deliveries"),
        Some(&w.admin),
    )
    .expect(200);

    // Refusals say what to put right and change nothing.
    let r = app.post(
        "/api/v1/webhooks",
        Some(w.t(PRACTICE)),
        &json!({"url": rx.url("/x"), "secret": "mine"}),
    );
    assert_eq!(
        r.expect_problem(422, "validation_failed")["errors"][0]["field"],
        "secret"
    );
    let r = app.post(
        "/api/v1/webhooks",
        Some(w.t(PRACTICE)),
        &json!({"url": "ftp://example.org/x"}),
    );
    assert!(
        r.expect_problem(422, "validation_failed")["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("https")
    );
    app.post(
        "/api/v1/webhooks",
        Some(w.t(PRACTICE)),
        &json!({"url": rx.url("/x"), "organisation_id": w.oak}),
    )
    .expect_problem(403, "forbidden");
    app.post("/api/v1/webhooks", None, &json!({"url": rx.url("/x")}))
        .expect(401);
    let listed = app.get("/api/v1/webhooks", Some(w.t(PRACTICE))).expect(200);
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");

    // Deleted: no more deliveries to it.
    app.send(
        "DELETE",
        &format!("/api/v1/webhooks/{practice_hook}"),
        Some(w.t(PRACTICE)),
        &json!({}),
    )
    .expect(204);
    w.ok(
        &app,
        MEDIATOR,
        &id,
        json!({"type": "exhaust_informal", "reason": "No agreement"}),
    );
    within(30, "the third event at the commissioner", || {
        Some(rx.on("/north-ccg")).filter(|g| g.len() >= 3)
    });
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(rx.on("/elm").len(), 2);
}

fn receiver_down_then_up_gets_every_delivery_in_order(db: Db) {
    let Some(app) = TestApp::spawn_with(db, &FAST) else {
        return;
    };
    let w = World::new(&app);
    let mut rx = Receiver::start(Duration::ZERO);
    let (hook, secret) = register(&app, &w, PRACTICE, &rx.url("/elm"));
    rx.down();
    let a = w.file(&app, true);
    let b = w.file(&app, false);
    w.ok(&app, MEDIATOR, &a, assign(&w));
    w.ok(
        &app,
        MEDIATOR,
        &a,
        json!({"type": "exhaust_informal", "reason": "No agreement"}),
    );
    w.ok(&app, MEDIATOR, &b, assign(&w));
    // Refused connections are recorded, and the first delivery is retried (not the later ones).
    let d = within(30, "two failed attempts recorded", || {
        let d = app
            .get(
                &format!("/api/v1/webhooks/{hook}/deliveries"),
                Some(w.t(PRACTICE)),
            )
            .expect(200);
        (d["attempts"].as_array().unwrap().len() >= 2).then_some(d)
    });
    for a in d["attempts"].as_array().unwrap() {
        assert_eq!(a["ok"], false, "{a}");
        assert!(a["response_code"].is_null(), "{a}");
        assert!(!a["error"].as_str().unwrap().is_empty(), "{a}");
        assert_eq!(a["delivery_status"], "pending");
        assert_eq!(
            a["event_id"], 1,
            "only the first is tried while it fails: {d}"
        );
    }
    assert_eq!(d["webhook"]["pending_deliveries"], 5, "{d}");
    assert!(d["webhook"]["failing_since"].is_string(), "{d}");
    rx.up();
    let got = within(
        60,
        "all five deliveries after the receiver came back",
        || Some(rx.on("/elm")).filter(|g| g.len() >= 5),
    );
    let want = vec![
        (a.clone(), 1),
        (b.clone(), 1),
        (a.clone(), 2),
        (a.clone(), 3),
        (b.clone(), 2),
    ];
    assert_eq!(events(&got), want, "in the order they were queued");
    for r in &got {
        assert_signed(r, &secret);
    }
    let ids: std::collections::HashSet<&str> = got.iter().map(|r| r.h("webhook-id")).collect();
    assert_eq!(ids.len(), 5);
    let d = within(10, "the endpoint healthy again", || {
        let d = app
            .get(
                &format!("/api/v1/webhooks/{hook}/deliveries"),
                Some(w.t(PRACTICE)),
            )
            .expect(200);
        d["webhook"]["failing_since"].is_null().then_some(d)
    });
    assert_eq!(d["webhook"]["pending_deliveries"], 0);
    // The first delivery: several attempts under one webhook-id, the last one delivered.
    let first_id = got[0].h("webhook-id");
    let tries: Vec<&Value> = d["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["delivery_id"] == first_id)
        .collect();
    assert!(tries.len() >= 3, "{d}");
    assert_eq!(tries[0]["ok"], true);
    assert_eq!(tries[0]["attempt"].as_i64().unwrap(), tries.len() as i64);
}

fn two_replicas_deliver_each_once_in_order_and_lose_none(db: Db) {
    let Some(app) = TestApp::spawn_with(db, &FAST) else {
        return;
    };
    let replica = app.replica(&FAST);
    let w = World::new(&app);
    // A slow receiver widens the window in which a second replica could post the same one;
    // 20 endpoints (more than one claim takes) keep both replicas' workers busy at once.
    let rx = Receiver::start(Duration::from_millis(20));
    let paths: Vec<String> = (0..20).map(|i| format!("/e{i}")).collect();
    for (i, p) in paths.iter().enumerate() {
        let who = if i < 10 { PRACTICE } else { COMMISSIONER };
        register(&app, &w, who, &rx.url(p));
    }
    let mut disputes = Vec::new();
    for i in 0..4 {
        let id = w.file(&app, true);
        let on = if i % 2 == 0 { &app } else { &replica };
        w.ok(on, MEDIATOR, &id, assign(&w));
        w.ok(
            on,
            MEDIATOR,
            &id,
            json!({"type": "exhaust_informal", "reason": "No agreement"}),
        );
        disputes.push(id);
    }
    within(120, "every delivery at every endpoint", || {
        (rx.got().len() >= 20 * 12).then_some(())
    });
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(rx.got().len(), 240, "none twice");
    for path in &paths {
        let got = rx.on(path);
        assert_eq!(got.len(), 12, "{path}");
        let ids: std::collections::HashSet<&str> = got.iter().map(|r| r.h("webhook-id")).collect();
        assert_eq!(ids.len(), 12, "{path}: a webhook-id twice");
        let evs = events(&got);
        for d in &disputes {
            let mine: Vec<i64> = evs
                .iter()
                .filter(|(x, _)| x == d)
                .map(|(_, s)| *s)
                .collect();
            assert_eq!(mine, [1, 2, 3], "{path}: in order for dispute {d}");
        }
    }
    assert_eq!(
        rx.log.worst_overlap.load(Ordering::SeqCst),
        1,
        "two posts at once to one endpoint, or of one delivery"
    );
    // Both replicas' workers took part (the last claim of each delivery names its worker).
    let workers: Vec<String> = {
        use diesel::prelude::*;
        use ldr::db::schema::webhook_deliveries as d;
        let mut pooled = ldr::db::checkout(&app.state.pool).unwrap();
        let c: &mut ldr::db::DbConn = &mut pooled;
        d::table
            .filter(d::status.eq("delivered"))
            .select(d::locked_by.assume_not_null())
            .distinct()
            .load(c)
            .unwrap()
    };
    assert_eq!(workers.len(), 2, "{workers:?}");
    drop(replica);
}

fn rotation_signs_with_both_secrets_then_with_the_new_one(db: Db) {
    let Some(app) = TestApp::spawn_with(db, &FAST) else {
        return;
    };
    let w = World::new(&app);
    let rx = Receiver::start(Duration::ZERO);
    let (hook, old) = register(&app, &w, PRACTICE, &rx.url("/elm"));
    let id = w.file(&app, true);
    let r = within(30, "the filing delivered", || {
        rx.on("/elm").first().cloned()
    });
    assert_eq!(r.h("webhook-signature").split(' ').count(), 1);
    assert_signed(&r, &old);

    let j = app
        .post(
            &format!("/api/v1/webhooks/{hook}/rotate-secret"),
            Some(w.t(PRACTICE)),
            &json!({}),
        )
        .expect(200);
    let new = j["secret"].as_str().unwrap().to_string();
    assert!(new.starts_with("whsec_") && new != old);
    let until =
        chrono::DateTime::parse_from_rfc3339(j["previous_secret_expires_at"].as_str().unwrap())
            .unwrap()
            .with_timezone(&chrono::Utc);
    let in_24h = chrono::Utc::now() + chrono::Duration::hours(24);
    assert!((until - in_24h).num_seconds().abs() < 60, "{j}");

    w.ok(&app, MEDIATOR, &id, assign(&w));
    let r = within(30, "the event after the rotation", || {
        rx.on("/elm").get(1).cloned()
    });
    let sigs: Vec<&str> = r.h("webhook-signature").split(' ').collect();
    assert_eq!(sigs.len(), 2, "{r:?}");
    assert_signed(&r, &new);
    assert_signed(&r, &old);
    // The new secret's signature comes first.
    let only_new = Received {
        headers: HashMap::from([
            ("webhook-id".into(), r.h("webhook-id").into()),
            ("webhook-timestamp".into(), r.h("webhook-timestamp").into()),
            ("webhook-signature".into(), sigs[0].into()),
        ]),
        ..r.clone()
    };
    assert!(signed_with(&only_new, &new));

    // 24 hours later (the overlap's end moved into the past in the database): one signature.
    {
        use diesel::prelude::*;
        let mut pooled = ldr::db::checkout(&app.state.pool).unwrap();
        let c: &mut ldr::db::DbConn = &mut pooled;
        let past = ldr::db::now() - chrono::Duration::seconds(1);
        diesel::update(ldr::db::schema::webhooks::table.find(&hook))
            .set(ldr::db::schema::webhooks::previous_secret_until.eq(Some(past)))
            .execute(c)
            .unwrap();
    }
    w.ok(
        &app,
        MEDIATOR,
        &id,
        json!({"type": "exhaust_informal", "reason": "No agreement"}),
    );
    let r = within(30, "the event after the overlap", || {
        rx.on("/elm").get(2).cloned()
    });
    assert_eq!(r.h("webhook-signature").split(' ').count(), 1, "{r:?}");
    assert_signed(&r, &new);
    assert!(!signed_with(&r, &old));
    let listed = app.get("/api/v1/webhooks", Some(w.t(PRACTICE))).expect(200);
    assert!(
        listed[0]["previous_secret_expires_at"].is_null(),
        "{listed}"
    );
}

fn private_addresses_are_refused_at_registration_and_at_delivery(db: Db) {
    let Some(app) = TestApp::spawn_with(
        db,
        &[
            ("LDR_TODAY", "2026-03-02"),
            ("LDR_WEBHOOK_RETRY_BASE_SECONDS", "1"),
        ],
    ) else {
        return;
    };
    let w = World::new(&app);
    let rx = Receiver::start(Duration::ZERO);
    let refused = |url: String, words: &str| {
        let j = app
            .post(
                "/api/v1/webhooks",
                Some(w.t(PRACTICE)),
                &json!({"url": url}),
            )
            .expect_problem(422, "validation_failed");
        assert_eq!(j["errors"][0]["field"], "url", "{j}");
        let m = j["errors"][0]["message"].as_str().unwrap();
        assert!(m.contains(words), "{url}: {m}");
    };
    refused(rx.url("/elm"), "https");
    for url in [
        format!("https://127.0.0.1:{}/elm", rx.port),
        "https://localhost/elm".into(),
        "https://[::1]/elm".into(),
        "https://10.0.0.7/elm".into(),
        "https://169.254.169.254/latest".into(),
        "https://[fe80::1]/x".into(),
        "https://0.0.0.0/x".into(),
        "https://[::ffff:192.168.0.1]/x".into(),
    ] {
        refused(url, "non-public address");
    }
    assert_eq!(
        app.get("/api/v1/webhooks", Some(w.t(PRACTICE))).expect(200),
        json!([])
    );

    // Registered while private addresses were allowed, then the service restarted without:
    // the delivery is refused when its host is resolved, before any connection.
    let mut flag = FAST.to_vec();
    let app = app.restart_with(&flag);
    let hook = app
        .post(
            "/api/v1/webhooks",
            Some(w.t(PRACTICE)),
            &json!({"url": format!("https://127.0.0.1:{}/elm", rx.port)}),
        )
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    flag.retain(|(k, _)| *k != "LDR_WEBHOOKS_ALLOW_PRIVATE");
    let app = app.restart_with(&flag);
    w.file(&app, true);
    let d = within(30, "a refused attempt recorded", || {
        let d = app
            .get(
                &format!("/api/v1/webhooks/{hook}/deliveries"),
                Some(w.t(PRACTICE)),
            )
            .expect(200);
        d["attempts"].as_array().unwrap().first().cloned()
    });
    assert_eq!(d["ok"], false);
    assert!(d["response_code"].is_null(), "{d}");
    let e = d["error"].as_str().unwrap();
    assert!(
        e.contains("refused") && e.contains("127.0.0.1") && e.contains("non-public"),
        "{e}"
    );
    assert!(rx.got().is_empty(), "nothing reached the private address");
}

fn an_endpoint_failing_for_too_long_is_disabled_and_its_organisation_told(db: Db) {
    let mut env = FAST.to_vec();
    env.push(("LDR_WEBHOOK_DISABLE_AFTER_SECONDS", "2"));
    let Some(app) = TestApp::spawn_with(db, &env) else {
        return;
    };
    let w = World::new(&app);
    let mut rx = Receiver::start(Duration::ZERO);
    let (hook, _) = register(&app, &w, PRACTICE, &rx.url("/elm"));
    rx.down();
    w.file(&app, true);
    let listed = within(30, "the endpoint disabled", || {
        let l = app.get("/api/v1/webhooks", Some(w.t(PRACTICE))).expect(200);
        (l[0]["active"] == false).then_some(l)
    });
    let reason = listed[0]["disabled_reason"].as_str().unwrap();
    assert!(reason.contains("Every delivery failed"), "{reason}");
    assert!(listed[0]["disabled_at"].is_string());
    assert_eq!(listed[0]["pending_deliveries"], 0, "{listed}");
    let d = app
        .get(
            &format!("/api/v1/webhooks/{hook}/deliveries"),
            Some(w.t(PRACTICE)),
        )
        .expect(200);
    assert_eq!(d["attempts"][0]["delivery_status"], "abandoned", "{d}");
    // The organisation is told by e-mail, through the notices' outbox (.eml files here).
    let mail = app.dir.path().join("mail");
    let msg = within(30, "the notice about the disabled endpoint", || {
        std::fs::read_dir(&mail)
            .ok()?
            .filter_map(Result::ok)
            .find_map(|e| {
                let s = std::fs::read_to_string(e.path()).ok()?;
                s.contains("Your webhook endpoint was disabled")
                    .then_some(s)
            })
    });
    assert!(msg.contains("elm.practice@practice.nhs.test"), "{msg}");
    assert!(msg.contains(&hook), "{msg}");
    // A disabled endpoint is queued nothing more.
    rx.up();
    let id = w.file(&app, true);
    w.ok(&app, MEDIATOR, &id, assign(&w));
    std::thread::sleep(Duration::from_millis(1500));
    assert!(rx.got().is_empty());
}

both_dbs!(
    parties_endpoints_get_signed_thin_events_and_no_one_else,
    receiver_down_then_up_gets_every_delivery_in_order,
    two_replicas_deliver_each_once_in_order_and_lose_none,
    rotation_signs_with_both_secrets_then_with_the_new_one,
    private_addresses_are_refused_at_registration_and_at_delivery,
    an_endpoint_failing_for_too_long_is_disabled_and_its_organisation_told,
);
