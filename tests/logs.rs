//! The real binary's log output: `LDR_LOG_FORMAT=json` writes one JSON object per line, the
//! access line of each request with its id, route, status and latency; the text format has no
//! colour codes when standard output is a pipe; every response carries an `X-Request-Id`, the
//! client's when well-formed, a generated one otherwise.

#[path = "common/process.rs"]
mod process;

use process::{free_port, ldr_command};
use serde_json::Value;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// (status, X-Request-Id of the answer)
fn request(
    agent: &ureq::Agent,
    port: u16,
    method: &str,
    path: &str,
    id: Option<&str>,
    body: &str,
) -> (u16, String) {
    let mut req = ureq::http::Request::builder()
        .method(method)
        .uri(format!("http://127.0.0.1:{port}{path}"))
        .header("Content-Type", "application/json");
    if let Some(id) = id {
        req = req.header("X-Request-Id", id);
    }
    let res = agent
        .run(req.body(body.as_bytes().to_vec()).unwrap())
        .expect("request");
    let id = res
        .headers()
        .get("x-request-id")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (res.status().as_u16(), id)
}

fn is_uuid(s: &str) -> bool {
    uuid::Uuid::parse_str(s).is_ok()
}

/// Starts the service with `extra`, runs `requests` against its port, stops it (SIGTERM) and
/// returns its standard output.
fn serve(extra: &[(&str, &str)], requests: impl FnOnce(&ureq::Agent, u16)) -> String {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut c = ldr_command();
    c.current_dir(dir.path())
        .env("LDR_BIND", format!("127.0.0.1:{port}"))
        .env("LDR_JWT_SECRET", "a-test-secret-a-test-secret-0123456789")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in extra {
        c.env(k, v);
    }
    let child = c.spawn().unwrap();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let start = Instant::now();
    loop {
        let ok = agent
            .get(&format!("http://127.0.0.1:{port}/readyz"))
            .call()
            .is_ok_and(|r| r.status() == 200);
        if ok {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    requests(&agent, port);
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    String::from_utf8(out.stdout).expect("UTF-8 log")
}

/// The requests both tests make; returns the ids the answers carried.
struct Ids {
    kept: String,
    generated_for_bad: String,
    generated_for_long: String,
    generated_for_none: String,
    refused_body: String,
}

const CLIENT_ID: &str = "client-id.42_A";

fn make_requests(agent: &ureq::Agent, port: u16) -> Ids {
    let (s, kept) = request(
        agent,
        port,
        "GET",
        "/api/v1/organisations",
        Some(CLIENT_ID),
        "",
    );
    assert_eq!((s, kept.as_str()), (401, CLIENT_ID));
    let (s, bad) = request(agent, port, "GET", "/nowhere", Some("bad id!"), "");
    assert_eq!(s, 404);
    assert!(is_uuid(&bad), "{bad}");
    let long = "a".repeat(129);
    let (_, generated_for_long) = request(agent, port, "GET", "/nowhere", Some(&long), "");
    assert!(is_uuid(&generated_for_long), "{generated_for_long}");
    let (_, none) = request(agent, port, "GET", "/nowhere", None, "");
    assert!(is_uuid(&none), "{none}");
    // A login refused: logged inside the request, with its id.
    let (s, id) = request(
        agent,
        port,
        "POST",
        "/api/v1/auth/login",
        Some("login-1"),
        r#"{"email":"nobody@example.nhs.uk","password":"wrong password 123"}"#,
    );
    assert_eq!((s, id.as_str()), (401, "login-1"));
    // Refused by a middleware before any handler (a NUL in the body): the id still comes back.
    let (s, refused_body) = request(
        agent,
        port,
        "POST",
        "/api/v1/auth/login",
        Some("nul-1"),
        r#"{"email":"a\u0000","password":"x"}"#,
    );
    assert_eq!((s, refused_body.as_str()), (400, "nul-1"));
    Ids {
        kept,
        generated_for_bad: bad,
        generated_for_long,
        generated_for_none: none,
        refused_body,
    }
}

#[test]
fn json_logs_one_object_per_line_with_the_request_id() {
    let mut ids = None;
    let out = serve(&[("LDR_LOG_FORMAT", "json")], |a, p| {
        ids = Some(make_requests(a, p))
    });
    let ids = ids.unwrap();
    let lines: Vec<Value> = out
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(lines.len() > 5, "{out}");
    for l in &lines {
        for k in ["timestamp", "level", "target", "message"] {
            assert!(l[k].is_string(), "{k} missing: {l}");
        }
    }
    let access = |id: &str| -> &Value {
        lines
            .iter()
            .find(|l| l["target"] == "ldr::access" && l["request_id"] == id)
            .unwrap_or_else(|| panic!("no access line for {id}:\n{out}"))
    };
    let a = access(&ids.kept);
    assert_eq!(a["method"], "GET");
    assert_eq!(a["route"], "/api/v1/organisations");
    assert_eq!(a["status"], 401);
    assert_eq!(a["level"], "INFO");
    assert!(a["latency_ms"].is_number(), "{a}");
    let b = access(&ids.generated_for_bad);
    assert_eq!(
        (b["route"].as_str(), b["status"].as_u64()),
        (Some("unmatched"), Some(404))
    );
    access(&ids.generated_for_long);
    access(&ids.generated_for_none);
    assert_eq!(access(&ids.refused_body)["status"], 400);
    assert!(!out.contains("bad id!"), "a malformed id is not logged");
    // What a handler logs carries the request's fields.
    let refused = lines
        .iter()
        .find(|l| l["message"] == "login refused")
        .unwrap_or_else(|| panic!("no login line:\n{out}"));
    assert_eq!(refused["span"]["request_id"], "login-1", "{refused}");
    assert_eq!(refused["span"]["route"], "/api/v1/auth/login", "{refused}");
    // Anonymous malformed requests are no errors.
    assert!(
        !lines.iter().any(|l| l["level"] == "ERROR"),
        "an error logged:\n{out}"
    );
}

#[test]
fn text_logs_to_a_pipe_have_no_colour_codes() {
    let mut ids = None;
    let out = serve(&[], |a, p| ids = Some(make_requests(a, p)));
    let ids = ids.unwrap();
    assert!(!out.contains("\x1b["), "colour codes in:\n{out}");
    let line = out
        .lines()
        .find(|l| l.contains(&format!("request_id={}", ids.kept)))
        .unwrap_or_else(|| panic!("no access line:\n{out}"));
    assert!(
        line.contains("INFO")
            && line.contains("route=/api/v1/organisations")
            && line.contains("status=401")
            && line.contains("latency_ms="),
        "{line}"
    );
    assert!(out.contains(&format!("request_id={}", ids.generated_for_bad)));
}
