//! The real `ldr` binary: default SQLite start-up, refusals at start, graceful SIGTERM.

#[path = "common/process.rs"]
mod process;

use process::{free_port, ldr_command};
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn ldr() -> Command {
    let mut c = ldr_command();
    c.stdout(Stdio::piped()).stderr(Stdio::piped());
    c
}

fn wait_http(port: u16, path: &str) -> Option<u16> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(30) {
        if let Ok(r) = agent.get(&format!("http://127.0.0.1:{port}{path}")).call() {
            return Some(r.status().as_u16());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

fn run_to_exit(mut c: Command) -> (i32, String) {
    let mut child = c.spawn().unwrap();
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut err)
                .unwrap();
            let mut out = String::new();
            child
                .stdout
                .take()
                .unwrap()
                .read_to_string(&mut out)
                .unwrap();
            return (status.code().unwrap_or(-1), format!("{out}{err}"));
        }
        if start.elapsed() > Duration::from_secs(40) {
            let _ = child.kill();
            panic!("ldr did not exit");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn default_start_creates_sqlite_under_data_and_sigterm_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut c = ldr();
    c.current_dir(dir.path())
        .env("LDR_BIND", format!("127.0.0.1:{port}"));
    let child = c.spawn().unwrap();
    assert_eq!(wait_http(port, "/readyz"), Some(200));
    assert!(dir.path().join("data/ldr.sqlite3").exists());
    assert!(
        dir.path().join("data/jwt-secret").exists(),
        "generated JWT secret kept"
    );
    let pid = child.id();
    let status = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(log.contains("JWT signing secret: generated"), "{log}");
    assert!(
        !log.contains(&std::fs::read_to_string(dir.path().join("data/jwt-secret")).unwrap()),
        "secret logged"
    );
}

#[test]
fn refuses_unknown_scheme_and_unreachable_postgres() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = ldr();
    c.current_dir(dir.path())
        .env("LDR_DATABASE_URL", "mysql://root@127.0.0.1/x");
    let (code, log) = run_to_exit(c);
    assert_ne!(code, 0);
    assert!(
        log.contains("unsupported database URL scheme \"mysql\""),
        "{log}"
    );
    // Nothing listens on this port: a clear message, non-zero, and no SQLite file created.
    let port = free_port();
    let mut c = ldr();
    c.current_dir(dir.path()).env(
        "LDR_DATABASE_URL",
        format!("postgres://postgres:hunter2secret@127.0.0.1:{port}/ldr"),
    );
    let (code, log) = run_to_exit(c);
    assert_ne!(code, 0);
    assert!(log.contains("cannot connect to PostgreSQL"), "{log}");
    assert!(!log.contains("hunter2secret"), "password logged: {log}");
    assert!(!dir.path().join("data").exists(), "fell back to SQLite");
    // A libpq keyword string is not a URL of either kind.
    let mut c = ldr();
    c.current_dir(dir.path())
        .env("LDR_DATABASE_URL", "host=localhost dbname=ldr");
    let (code, _) = run_to_exit(c);
    assert_ne!(code, 0);
    assert!(!dir.path().join("host=localhost dbname=ldr").exists());
}

#[test]
fn bad_configuration_stops_start_up() {
    let dir = tempfile::tempdir().unwrap();
    for (k, v) in [
        ("LDR_BIND", "nowhere"),
        ("LDR_TODAY", "2026-02-30"),
        ("LDR_SMTP_URL", "ftp://x"),
        ("LDR_MAIL_MAX_ATTEMPTS", "0"),
        ("LDR_JWT_SECRET", "short"),
    ] {
        let mut c = ldr();
        c.current_dir(dir.path()).env(k, v);
        let (code, log) = run_to_exit(c);
        assert_eq!(code, 2, "{k}={v}: {log}");
        assert!(log.contains(k), "{k}: {log}");
    }
    let bad = dir.path().join("holidays.json");
    std::fs::write(&bad, "{\"england-and-wales\": {\"division\": \"england-and-wales\", \"events\": [{\"title\": \"x\", \"date\": \"2026-13-01\"}]}}").unwrap();
    let mut c = ldr();
    c.current_dir(dir.path())
        .env("LDR_BANK_HOLIDAYS_FILE", &bad)
        .env("LDR_BIND", format!("127.0.0.1:{}", free_port()));
    let (code, log) = run_to_exit(c);
    assert_ne!(code, 0);
    assert!(
        log.contains("LDR_BANK_HOLIDAYS_FILE") && log.contains("2026-13-01"),
        "{log}"
    );
}

/// Kills the child with SIGTERM and returns everything it logged.
fn stop_and_log(child: std::process::Child) -> String {
    let pid = child.id();
    Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Malformed requests any anonymous client can send are answered 400 and not logged as
/// errors (a log flood an attacker controls); inline script is allowed only on `/docs/`.
#[test]
fn malformed_requests_log_no_errors_and_only_docs_allow_inline_script() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut c = ldr();
    c.current_dir(dir.path())
        .env("LDR_BIND", format!("127.0.0.1:{port}"))
        .env("NO_COLOR", "1");
    let child = c.spawn().unwrap();
    assert_eq!(wait_http(port, "/readyz"), Some(200));
    for raw in [
        &b"GARBAGE\r\n\r\n"[..],
        b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
        b"GET /\x01 HTTP/1.1\r\n\r\n",
        b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\nZZ\r\nabc\r\n",
    ] {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        s.write_all(raw).unwrap();
        let mut answer = [0u8; 64];
        let n = s.read(&mut answer).unwrap_or(0);
        assert!(
            String::from_utf8_lossy(&answer[..n]).starts_with("HTTP/1.1 400"),
            "{:?}",
            String::from_utf8_lossy(&answer[..n])
        );
    }
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let csp = |path: &str| {
        agent
            .get(&format!("http://127.0.0.1:{port}{path}"))
            .call()
            .unwrap()
            .headers()
            .get("content-security-policy")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    };
    for path in [
        "/healthz",
        "/api/v1/openapi.json",
        "/api/v1/disputes",
        "/nowhere",
    ] {
        let p = csp(path);
        assert!(p.contains("script-src 'self'"), "{path}: {p}");
        assert!(!p.contains("unsafe-inline"), "{path}: {p}");
    }
    assert!(csp("/docs/").contains("'unsafe-inline'"));
    let log = stop_and_log(child);
    assert!(!log.contains("ERROR"), "{log}");
}

/// `LDR_DATA_DIR` moves the default SQLite file with the rest of the data.
#[test]
fn ldr_data_dir_moves_the_default_sqlite_file() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut c = ldr();
    c.current_dir(dir.path())
        .env("LDR_BIND", format!("127.0.0.1:{port}"))
        .env("LDR_DATA_DIR", "elsewhere");
    let child = c.spawn().unwrap();
    assert_eq!(wait_http(port, "/readyz"), Some(200));
    let log = stop_and_log(child);
    assert!(dir.path().join("elsewhere/ldr.sqlite3").exists(), "{log}");
    assert!(!dir.path().join("data").exists(), "{log}");
}
