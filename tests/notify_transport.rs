//! Notices through GOV.UK Notify (`LDR_NOTIFY_API_KEY`), against a stand-in of Notify's HTTP API
//! run in the test process: it checks each request as Notify does (the token's signature with
//! the key's secret, its `iss` and `iat`, the body's shape and template), records it, and
//! answers 201, 400, 403, 429 or 500 as the test tells it.

mod common;

use common::http::read_request;
use common::world::{World, OUTSIDER, PRACTICE};
use common::{Db, TestApp};
use serde_json::{json, Value};
use std::collections::{BTreeMap, VecDeque};
use std::io::{BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

const SERVICE: &str = "7f3c1a52-5a8e-4a4c-9d62-2d2c0f6f1b11";
const SECRET: &str = "c0ffee00-1234-4abc-8def-0123456789ab";
const TEMPLATE: &str = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d";
const PUBLIC_URL: &str = "https://ldr.example.nhs.test";

// ------------------------------------------------------------------ the stand-in

/// One request the stand-in received, and what it answered.
#[derive(Debug, Clone)]
struct Request {
    email: String,
    reference: String,
    subject: String,
    body: String,
    status: u16,
}

#[derive(Default)]
struct Inner {
    /// Answers for the next requests, in order; then `default`.
    script: VecDeque<u16>,
    default: u16,
    /// How long each answer takes.
    delay: Duration,
    received: Vec<Request>,
    /// What was wrong with a request (Notify would have refused it).
    violations: Vec<String>,
}

struct NotifyStandIn {
    url: String,
    inner: Arc<Mutex<Inner>>,
}

impl NotifyStandIn {
    /// Listens on a loopback port, answering `default` unless scripted otherwise.
    fn start(default: u16) -> NotifyStandIn {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let inner = Arc::new(Mutex::new(Inner {
            default,
            ..Inner::default()
        }));
        let shared = inner.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let shared = shared.clone();
                std::thread::spawn(move || serve(conn, &shared));
            }
        });
        NotifyStandIn { url, inner }
    }

    fn script(&self, answers: &[u16]) {
        self.inner.lock().unwrap().script.extend(answers);
    }

    fn slow(&self, delay: Duration) {
        self.inner.lock().unwrap().delay = delay;
    }

    fn received(&self) -> Vec<Request> {
        self.inner.lock().unwrap().received.clone()
    }

    #[track_caller]
    fn assert_no_violation(&self) {
        let v = self.inner.lock().unwrap().violations.clone();
        assert!(v.is_empty(), "requests Notify would refuse: {v:#?}");
    }
}

/// Reads one HTTP request (head and `Content-Length` body), checks it, answers, and closes.
fn serve(conn: TcpStream, inner: &Mutex<Inner>) {
    conn.set_read_timeout(Some(Duration::from_secs(10))).ok();
    let Some(request) = read_request(&mut BufReader::new(conn.try_clone().unwrap())) else {
        return;
    };
    let (status, answer) = handle(&request.line, &request.headers, &request.body, inner);
    let delay = inner.lock().unwrap().delay;
    std::thread::sleep(delay);
    let text = answer.to_string();
    let mut conn = conn;
    let _ = write!(
        conn,
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
        text.len()
    );
}

fn notify_error(status: u16, error: &str, message: &str) -> Value {
    json!({"status_code": status, "errors": [{"error": error, "message": message}]})
}

fn handle(
    request_line: &str,
    headers: &BTreeMap<String, String>,
    body: &[u8],
    inner: &Mutex<Inner>,
) -> (u16, Value) {
    let mut g = inner.lock().unwrap();
    let refuse = |g: &mut Inner, status: u16, error: &str, why: String| {
        g.violations.push(why.clone());
        (status, notify_error(status, error, &why))
    };
    if request_line != "POST /v2/notifications/email HTTP/1.1" {
        return refuse(
            &mut g,
            404,
            "NotFound",
            format!("request line {request_line:?}"),
        );
    }
    // The token, as Notify checks it.
    let Some(token) = headers
        .get("authorization")
        .and_then(|a| a.strip_prefix("Bearer "))
    else {
        return refuse(&mut g, 401, "AuthError", "no bearer token".into());
    };
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    v.required_spec_claims.clear();
    v.validate_exp = false;
    let decoded = jsonwebtoken::decode::<Value>(
        token,
        &jsonwebtoken::DecodingKey::from_secret(SECRET.as_bytes()),
        &v,
    );
    let claims = match decoded {
        Ok(d) if d.header.typ.as_deref() == Some("JWT") => d.claims,
        Ok(d) => return refuse(&mut g, 403, "AuthError", format!("header {:?}", d.header)),
        Err(e) => return refuse(&mut g, 403, "AuthError", format!("Invalid token: {e}")),
    };
    if claims["iss"] != SERVICE {
        return refuse(&mut g, 403, "AuthError", format!("iss {}", claims["iss"]));
    }
    let now = chrono::Utc::now().timestamp();
    match claims["iat"].as_i64() {
        Some(iat) if (now - iat).abs() <= 30 => {}
        _ => {
            return refuse(
                &mut g,
                403,
                "AuthError",
                format!("iat {} (now {now})", claims["iat"]),
            )
        }
    }
    // The body's shape.
    if !headers
        .get("content-type")
        .is_some_and(|c| c.starts_with("application/json"))
    {
        return refuse(
            &mut g,
            400,
            "BadRequestError",
            format!("content type {headers:?}"),
        );
    }
    let j: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let keys: Vec<&str> = j
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    let p = &j["personalisation"];
    let shape_ok =
        keys == [
            "email_address",
            "personalisation",
            "reference",
            "template_id",
        ] && j["email_address"].as_str().is_some_and(|e| e.contains('@'))
            && j["template_id"] == TEMPLATE
            && j["reference"]
                .as_str()
                .is_some_and(|r| uuid::Uuid::try_parse(r).is_ok())
            && p.as_object().is_some_and(|o| o.len() == 2)
            && p["subject"].as_str().is_some_and(|s| !s.is_empty())
            && p["body"].as_str().is_some_and(|s| !s.is_empty());
    if !shape_ok {
        return refuse(&mut g, 400, "ValidationError", format!("body {j}"));
    }
    let status = g.script.pop_front().unwrap_or(g.default);
    g.received.push(Request {
        email: j["email_address"].as_str().unwrap().to_string(),
        reference: j["reference"].as_str().unwrap().to_string(),
        subject: p["subject"].as_str().unwrap().to_string(),
        body: p["body"].as_str().unwrap().to_string(),
        status,
    });
    let answer = match status {
        201 => json!({"id": uuid::Uuid::new_v4().to_string(), "reference": j["reference"],
            "content": {"subject": p["subject"], "body": p["body"], "from_email": "ldr@notifications.service.gov.uk"},
            "uri": "https://api.notifications.service.gov.uk/v2/notifications/x",
            "template": {"id": TEMPLATE, "version": 1, "uri": "https://api.notifications.service.gov.uk/v2/template/x"}}),
        400 => notify_error(
            400,
            "BadRequestError",
            "Can't send to this recipient using a team-only API key",
        ),
        403 => notify_error(403, "AuthError", "Invalid token: API key not found"),
        TEMPLATE_NOT_FOUND => notify_error(400, "BadRequestError", "Template not found"),
        429 => notify_error(
            429,
            "RateLimitError",
            "Exceeded rate limit for key type LIVE of 3000 requests per 60 seconds",
        ),
        _ => notify_error(status, "Exception", "Internal server error"),
    };
    (
        if status == TEMPLATE_NOT_FOUND {
            400
        } else {
            status
        },
        answer,
    )
}

/// A scripted answer: 400 `Template not found` (a refusal of the template, not the recipient).
const TEMPLATE_NOT_FOUND: u16 = 4001;

// ------------------------------------------------------------------ the log

/// Everything the service logs in this test binary (one subscriber for all its tests).
fn log() -> &'static Mutex<Vec<u8>> {
    static LOG: OnceLock<&'static Mutex<Vec<u8>>> = OnceLock::new();
    LOG.get_or_init(|| {
        let buf: &'static Mutex<Vec<u8>> = Box::leak(Box::new(Mutex::new(Vec::new())));
        struct W(&'static Mutex<Vec<u8>>);
        impl Write for W {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let _ = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_max_level(tracing::Level::INFO)
            .with_writer(move || W(buf))
            .try_init();
        buf
    })
}

fn log_text() -> String {
    String::from_utf8_lossy(&log().lock().unwrap()).into_owned()
}

// ------------------------------------------------------------------ helpers

fn spawn(db: Db, notify: &NotifyStandIn, extra: &[(&str, &str)]) -> Option<TestApp> {
    log();
    let key = format!("ldr-test-key-{SERVICE}-{SECRET}");
    let mut env = vec![
        ("LDR_TODAY", "2026-03-02"),
        ("LDR_NOTIFY_API_KEY", key.as_str()),
        ("LDR_NOTIFY_BASE_URL", notify.url.as_str()),
        ("LDR_NOTIFY_TEMPLATE_ID", TEMPLATE),
        ("LDR_PUBLIC_URL", PUBLIC_URL),
    ];
    env.extend_from_slice(extra);
    TestApp::spawn_with(db, &env)
}

/// The notices of dispute `id`, as an admin sees them.
fn notices(app: &TestApp, w: &World, id: &str) -> Vec<Value> {
    app.get(&format!("/api/v1/disputes/{id}/notices"), Some(&w.admin))
        .expect(200)
        .as_array()
        .unwrap()
        .clone()
}

/// Polls until every notice of `id` has left `queued` (and there is at least one); fails after
/// 30 s with what was seen.
#[track_caller]
fn settled(app: &TestApp, w: &World, id: &str) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let all = notices(app, w, id);
        if !all.is_empty() && all.iter().all(|n| n["status"] != "queued") {
            return all;
        }
        assert!(
            Instant::now() < deadline,
            "notices still queued after 30 s: {all:#?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn recipients(n: &Value) -> Vec<String> {
    let mut v: Vec<String> = n["to"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

/// The requests the stand-in received for notice `n`.
fn requests_for(notify: &NotifyStandIn, n: &Value) -> Vec<Request> {
    notify
        .received()
        .into_iter()
        .filter(|r| r.reference == n["id"].as_str().unwrap())
        .collect()
}

fn no_eml_written(app: &TestApp) {
    let eml = std::fs::read_dir(app.dir.path().join("mail"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(eml, 0, "a notice went to LDR_MAIL_DIR as well");
}

// ------------------------------------------------------------------ tests

/// A filed dispute's notice reaches Notify as one request per recipient, with the notice's id
/// as the reference and its subject and text, and is marked sent.
fn filed_notices_go_through_notify_one_request_per_recipient(db: Db) {
    let notify = NotifyStandIn::start(201);
    let Some(app) = spawn(db, &notify, &[]) else {
        return;
    };
    let w = World::new(&app);
    let id = w.file(&app, true);
    let all = settled(&app, &w, &id);
    for n in &all {
        assert_eq!(n["status"], "sent", "{n}");
        assert_eq!(n["attempts"], 1, "{n}");
        let reqs = requests_for(&notify, n);
        let mut to: Vec<String> = reqs.iter().map(|r| r.email.clone()).collect();
        to.sort();
        assert_eq!(to, recipients(n), "one request per recipient: {reqs:#?}");
        // The filing notice goes to the commissioner and the LMC; the filing party's
        // acknowledgement to the practice.
        let least = if n["template"] == "dispute_filed" {
            2
        } else {
            1
        };
        assert!(to.len() >= least, "{n}");
        for r in &reqs {
            assert_eq!(r.status, 201);
            assert_eq!(r.subject, n["subject"].as_str().unwrap());
            assert!(r.body.contains("Prescribing budget 2025/26"), "{}", r.body);
            assert!(
                !r.body.contains('\r') && !r.body.contains("hearing.ics"),
                "{}",
                r.body
            );
        }
    }
    notify.assert_no_violation();
    no_eml_written(&app);
}

/// A 400 fails the notice for good at its first attempt, with Notify's message recorded; the
/// other recipient is still tried.
fn a_bad_request_fails_the_notice_with_notifys_message(db: Db) {
    let notify = NotifyStandIn::start(400);
    let Some(app) = spawn(db, &notify, &[("LDR_MAIL_RETRY_BASE_SECONDS", "1")]) else {
        return;
    };
    let w = World::new(&app);
    let id = w.file(&app, true);
    let all = settled(&app, &w, &id);
    // Long enough for a retry, had there been one.
    std::thread::sleep(Duration::from_millis(1500));
    for n in notices(&app, &w, &id) {
        assert_eq!(n["status"], "failed", "{n}");
        assert_eq!(n["attempts"], 1, "not retried: {n}");
        let err = n["last_error"].as_str().unwrap();
        assert!(
            err.contains("BadRequestError: Can't send to this recipient using a team-only API key"),
            "{err}"
        );
        assert_eq!(requests_for(&notify, &n).len(), recipients(&n).len(), "{n}");
    }
    assert!(!all.is_empty());
    notify.assert_no_violation();
}

/// A refused key (403), then a refused template (a 400 about it): every notice would meet
/// them, so none is failed. Each time, the notice goes back queued with the refusal as its last
/// error and no attempt counted, the worker waits, and an ALERT is logged (without the key);
/// once Notify accepts again every notice is sent, to each recipient once.
fn a_refused_key_or_template_keeps_every_notice_queued_until_it_is_fixed(db: Db) {
    let notify = NotifyStandIn::start(201);
    notify.script(&[403, TEMPLATE_NOT_FOUND]);
    let Some(app) = spawn(db, &notify, &[("LDR_MAIL_RETRY_BASE_SECONDS", "2")]) else {
        return;
    };
    let w = World::new(&app);
    let id = w.file(&app, true);
    // While the worker waits after each refusal, the notice that met it is queued, with no
    // attempt counted and the refusal as its last error.
    for refusal in [
        "GOV.UK Notify refused the API key (403): AuthError: Invalid token: API key not found",
        "GOV.UK Notify refused the template (400): BadRequestError: Template not found",
    ] {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let all = notices(&app, &w, &id);
            let held = all.iter().find(|n| {
                n["last_error"]
                    .as_str()
                    .is_some_and(|e| e.contains(refusal))
            });
            if let Some(n) = held {
                assert_eq!(n["status"], "queued", "{n}");
                assert_eq!(n["attempts"], 0, "{n}");
                break;
            }
            assert!(
                all.iter().all(|n| n["status"] != "failed"),
                "a notice failed: {all:#?}"
            );
            assert!(
                Instant::now() < deadline,
                "never held for {refusal:?}: {all:#?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    let all = settled(&app, &w, &id);
    for n in &all {
        assert_eq!(n["status"], "sent", "{n}");
        assert_eq!(n["attempts"], 1, "{n}");
        for r in recipients(n) {
            let accepted = requests_for(&notify, n)
                .iter()
                .filter(|q| q.email == r && q.status == 201)
                .count();
            assert_eq!(accepted, 1, "{r} got {n} {accepted} times");
        }
    }
    let statuses: Vec<u16> = notify.received().iter().map(|r| r.status).collect();
    assert_eq!(statuses[..2], [403, TEMPLATE_NOT_FOUND], "{statuses:?}");
    assert!(statuses[2..].iter().all(|s| *s == 201), "{statuses:?}");
    let log = log_text();
    for refused in ["refused the API key", "refused the template"] {
        let line = log
            .lines()
            .find(|l| l.contains("ALERT") && l.contains(refused))
            .unwrap_or_else(|| panic!("no ALERT for {refused:?} in:\n{log}"));
        assert!(line.contains("ERROR"), "{line}");
    }
    assert!(!log.contains(SECRET), "the key's secret was logged");
    notify.assert_no_violation();
}

/// Whom a notice was sent to is recorded after each recipient Notify accepts, while the
/// notice is still being sent: a crash before it is recorded as sent would not send it to
/// them again.
fn whom_a_notice_was_sent_to_is_kept_after_each_recipient(db: Db) {
    use diesel::prelude::*;
    use ldr::db::schema::notices::dsl as n;
    let notify = NotifyStandIn::start(201);
    notify.slow(Duration::from_millis(1500));
    let Some(app) = spawn(db, &notify, &[]) else {
        return;
    };
    let w = World::new(&app);
    let id = w.file(&app, true);
    let deadline = Instant::now() + Duration::from_secs(30);
    // (notice id, recipients, whom it was sent to so far) of a notice still being sent.
    let (notice, to, kept) = loop {
        let rows: Vec<(String, String, String, Option<String>)> = {
            let mut c = ldr::db::checkout(&app.state.pool).unwrap();
            n::notices
                .filter(n::dispute_id.eq(&id))
                .select((n::id, n::status, n::recipients, n::sent_to))
                .load(&mut **c)
                .unwrap()
        };
        let part = rows.into_iter().find_map(|(nid, status, to, sent)| {
            let to: Vec<String> = serde_json::from_str(&to).unwrap();
            let sent: Vec<String> = serde_json::from_str(sent.as_deref()?).unwrap();
            (status == "queued" && !sent.is_empty() && sent.len() < to.len())
                .then_some((nid, to, sent))
        });
        if let Some(p) = part {
            break p;
        }
        assert!(
            Instant::now() < deadline,
            "no notice was seen part-sent with whom it was sent to"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let accepted: Vec<String> = notify
        .received()
        .into_iter()
        .filter(|q| q.reference == notice && q.status == 201)
        .map(|q| q.email)
        .collect();
    for k in &kept {
        assert!(to.contains(k), "{k} is not a recipient of {notice}");
        assert!(accepted.contains(k), "{k} kept before Notify accepted it");
    }
    settled(&app, &w, &id);
    notify.assert_no_violation();
}

/// 429 on the second recipient, after the first was accepted: the service's rate limit, so no
/// attempt is counted, and the next try sends to the second only; then 500 on it, an attempt
/// counted and retried, the same. Each recipient gets the notice once.
fn a_temporary_refusal_is_retried_without_sending_twice(db: Db) {
    let notify = NotifyStandIn::start(201);
    // Request 1 (first recipient) accepted, 2 (second) rate limited, 3 (second, retried) a
    // server error, then accepted.
    notify.script(&[201, 429, 500]);
    let Some(app) = spawn(db, &notify, &[("LDR_MAIL_RETRY_BASE_SECONDS", "1")]) else {
        return;
    };
    let w = World::new(&app);
    // Only the filing notice, to two recipients, meets the script: the practice has no address
    // yet (as one imported from ODS data), so its acknowledgement is not queued.
    {
        use diesel::prelude::*;
        use ldr::db::schema::organisations::dsl as o;
        let mut c = ldr::db::checkout(&app.state.pool).unwrap();
        diesel::update(o::organisations.find(&w.elm))
            .set(o::email.eq(""))
            .execute(&mut **c)
            .unwrap();
    }
    let id = w.file(&app, true);
    let all = settled(&app, &w, &id);
    assert_eq!(all.len(), 1, "{all:#?}");
    let n = &all[0];
    assert_eq!(n["status"], "sent", "{n}");
    assert_eq!(n["attempts"], 2, "the 500 and the success: {n}");
    let to = recipients(n);
    assert_eq!(to.len(), 2, "{n}");
    let reqs = requests_for(&notify, n);
    let statuses: Vec<u16> = reqs.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [201, 429, 500, 201], "{reqs:#?}");
    assert_eq!(reqs[1].email, reqs[2].email);
    assert_eq!(reqs[2].email, reqs[3].email);
    assert_ne!(reqs[0].email, reqs[1].email);
    for r in &to {
        let accepted = reqs
            .iter()
            .filter(|q| &q.email == r && q.status == 201)
            .count();
        assert_eq!(accepted, 1, "{r} got the notice {accepted} times");
        let sent_to_first = reqs[0].email == *r;
        let asked = reqs.iter().filter(|q| &q.email == r).count();
        assert_eq!(asked, if sent_to_first { 1 } else { 3 }, "{r}");
    }
    notify.assert_no_violation();
}

/// A notice whose recipients take longer than the claim's lease allows: the worker stops
/// between two recipients, gives the notice back with whom it was sent to (no attempt counted),
/// and the next claim sends to the rest only.
fn a_lease_running_out_between_recipients_sends_each_once(db: Db) {
    let notify = NotifyStandIn::start(201);
    notify.slow(Duration::from_millis(3000));
    // A request may start only while the claim is at most 14 - 4 - 5 = 5 s old: the first two
    // (at 0 and 3 s) start, the third (at 6 s) waits for the next claim.
    let limits = [
        ("LDR_MAIL_SEND_TIMEOUT_SECONDS", "4"),
        ("LDR_MAIL_LEASE_SECONDS", "14"),
    ];
    let Some(mut app) = spawn(db, &notify, &limits) else {
        return;
    };
    app.stop();
    let id = uuid::Uuid::new_v4().to_string();
    let to = ["a@lease.test", "b@lease.test", "c@lease.test"];
    app.queue_notice(
        &id,
        "lease",
        &serde_json::to_string(&to).unwrap(),
        "Three recipients",
        "A notice for three.",
    );
    let key = format!("ldr-test-key-{SERVICE}-{SECRET}");
    let app = app.restart_with(&[
        ("LDR_TODAY", "2026-03-02"),
        ("LDR_NOTIFY_API_KEY", &key),
        ("LDR_NOTIFY_BASE_URL", &notify.url),
        ("LDR_NOTIFY_TEMPLATE_ID", TEMPLATE),
        limits[0],
        limits[1],
    ]);
    let deadline = Instant::now() + Duration::from_secs(40);
    let (status, attempts) = loop {
        use diesel::prelude::*;
        use ldr::db::schema::notices::dsl as no;
        let mut c = app.state.pool.get().unwrap();
        let row: (String, i32) = no::notices
            .find(&id)
            .select((no::status, no::attempts))
            .first(&mut **c)
            .unwrap();
        if row.0 != "queued" {
            break row;
        }
        assert!(
            Instant::now() < deadline,
            "still queued after 40 s: {:?}",
            notify.received()
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!((status.as_str(), attempts), ("sent", 1));
    let reqs: Vec<String> = notify
        .received()
        .into_iter()
        .filter(|r| r.reference == id)
        .map(|r| r.email)
        .collect();
    assert_eq!(reqs, to, "each recipient once, in order");
    assert!(
        log_text().contains("it was given back, with whom it was sent to"),
        "the give-back is logged"
    );
    notify.assert_no_violation();
}

/// The hearing invitation's notice carries a link to the invitation instead of an attachment,
/// and the link downloads it (for whoever may see the dispute).
fn the_hearing_notice_links_to_a_downloadable_invitation(db: Db) {
    use icalendar::{Component, EventLike};
    let notify = NotifyStandIn::start(201);
    let Some(app) = spawn(db, &notify, &[]) else {
        return;
    };
    let w = World::new(&app);
    let informal = w.file(&app, true);
    let id = w.case_at(&app, "hearing_scheduled");
    let all = settled(&app, &w, &id);
    let n = all
        .iter()
        .find(|n| n["template"] == "hearing_scheduled")
        .expect("the hearing notice");
    assert_eq!(n["status"], "sent", "{n}");
    assert_eq!(n["calendar"], "REQUEST", "{n}");
    let link = format!("{PUBLIC_URL}/api/v1/disputes/{id}/hearing.ics");
    let reqs = requests_for(&notify, n);
    assert_eq!(reqs.len(), recipients(n).len());
    for r in &reqs {
        assert!(
            r.body
                .contains(&format!("Add the hearing to your calendar: {link}")),
            "{}",
            r.body
        );
    }
    // The link, on this service.
    let path = link.strip_prefix(PUBLIC_URL).unwrap();
    let r = app.get(path, Some(w.t(PRACTICE)));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.header("content-type"),
        Some("text/calendar; charset=utf-8")
    );
    assert!(r
        .header("content-disposition")
        .is_some_and(|d| d.starts_with("attachment; filename=\"hearing-LDR-")));
    let cal: icalendar::Calendar = r.text().parse().expect("the invitation parses");
    assert_eq!(
        cal.property_value("METHOD"),
        Some("REQUEST"),
        "{}",
        r.text()
    );
    let events: Vec<&icalendar::Event> =
        cal.components.iter().filter_map(|c| c.as_event()).collect();
    assert_eq!(events.len(), 1);
    let e = events[0];
    assert_eq!(e.get_uid(), Some(format!("hearing-{id}@ldr").as_str()));
    assert_eq!(e.get_sequence(), Some(0));
    assert_eq!(
        e.get_location().map(|l| l.replace("\\,", ",")),
        Some("Room 1, County Hall".to_string())
    );
    let hearing = app
        .state
        .calendar
        .add_working_days(chrono::NaiveDate::from_ymd_opt(2026, 3, 2).unwrap(), 8)
        .unwrap();
    assert!(
        r.text().contains(&format!(
            "DTSTART;TZID=Europe/London:{}T100000",
            hearing.format("%Y%m%d")
        )),
        "{}",
        r.text()
    );
    // Only for those who may see the dispute, and only while a hearing is scheduled.
    app.get(path, Some(w.t(OUTSIDER)))
        .expect_problem(404, "not_found");
    app.get(path, None).expect(401);
    app.get(
        &format!("/api/v1/disputes/{informal}/hearing.ics"),
        Some(w.t(PRACTICE)),
    )
    .expect_problem(409, "no_hearing_scheduled");
    notify.assert_no_violation();
    no_eml_written(&app);
}

/// Notify reads a body as its own Markdown: text a party typed reaches it as written, so a
/// title cannot become a link whose words hide where it goes, nor a line a heading.
fn what_people_typed_reaches_notify_as_written_not_as_markdown(db: Db) {
    let notify = NotifyStandIn::start(201);
    let Some(app) = spawn(db, &notify, &[]) else {
        return;
    };
    let w = World::new(&app);
    let id = w.file_as(
        &app,
        w.t(PRACTICE),
        "# Budget [see the letter](https://evil.example)",
        true,
    );
    let all = settled(&app, &w, &id);
    let filed = all
        .iter()
        .find(|n| n["template"] == "dispute_filed")
        .expect("the filing notice");
    let reqs = requests_for(&notify, filed);
    assert!(!reqs.is_empty());
    for r in &reqs {
        assert!(
            r.body
                .contains(r"# Budget \[see the letter\](https://evil.example)"),
            "{}",
            r.body
        );
        assert!(
            !r.body.contains("[see the letter]("),
            "no link Notify would draw: {}",
            r.body
        );
        for line in r.body.lines() {
            assert!(
                !line.trim_start().starts_with(['#', '-', '*']),
                "a line Notify would make a heading or a list: {line:?}"
            );
        }
    }
    notify.assert_no_violation();
}

both_dbs!(
    filed_notices_go_through_notify_one_request_per_recipient,
    what_people_typed_reaches_notify_as_written_not_as_markdown,
    a_bad_request_fails_the_notice_with_notifys_message,
    a_refused_key_or_template_keeps_every_notice_queued_until_it_is_fixed,
    whom_a_notice_was_sent_to_is_kept_after_each_recipient,
    a_temporary_refusal_is_retried_without_sending_twice,
    a_lease_running_out_between_recipients_sends_each_once,
    the_hearing_notice_links_to_a_downloadable_invitation,
);
