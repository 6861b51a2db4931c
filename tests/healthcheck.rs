//! `ldr healthcheck` against the real binary, and the container files that use it.

#[path = "common/process.rs"]
mod process;

use process::{free_port, ldr_command};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Whether `GET /readyz` on `127.0.0.1:port` answers 200 within 30 s.
fn becomes_ready(port: u16) -> bool {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(30) {
        let url = format!("http://127.0.0.1:{port}/readyz");
        if agent.get(&url).call().is_ok_and(|r| r.status() == 200) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// Starts the service on `bind` with an SQLite file under `dir`, its log in `dir/ldr.log`, and
/// waits until it is ready on `127.0.0.1:port`.
fn start_service(dir: &Path, bind: &str, port: u16) -> Child {
    let log = std::fs::File::create(dir.join("ldr.log")).unwrap();
    let mut child = ldr_command()
        .current_dir(dir)
        .env("LDR_BIND", bind)
        .stdout(Stdio::from(log.try_clone().unwrap()))
        .stderr(Stdio::from(log))
        .spawn()
        .unwrap();
    if !becomes_ready(port) {
        let _ = child.kill();
        let _ = child.wait();
        panic!(
            "service on {bind} not ready: {}",
            std::fs::read_to_string(dir.join("ldr.log")).unwrap_or_default()
        );
    }
    child
}

fn stop_service(child: Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
}

/// Runs `ldr healthcheck ARGS` with `LDR_BIND` (unless `None`) in an empty folder, and with the
/// rest of the configuration wrong on purpose: the check must read `LDR_BIND` only. Returns the
/// exit code, stdout + stderr, and how long it took.
fn healthcheck(bind: Option<&str>, args: &[&str]) -> (i32, String, Duration) {
    let cwd = tempfile::tempdir().unwrap();
    let mut c = ldr_command();
    c.current_dir(cwd.path())
        .arg("healthcheck")
        .args(args)
        .env("LDR_JWT_SECRET", "short")
        .env("LDR_DATABASE_URL", "mysql://root@127.0.0.1/nothing")
        .env("LDR_SMTP_URL", "ftp://x")
        .env("LDR_TODAY", "2026-02-30");
    if let Some(b) = bind {
        c.env("LDR_BIND", b);
    }
    let start = Instant::now();
    let out = c.output().unwrap();
    let took = start.elapsed();
    assert_eq!(
        std::fs::read_dir(cwd.path()).unwrap().count(),
        0,
        "the health check wrote into its working folder"
    );
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text, took)
}

#[test]
fn healthcheck_follows_the_real_service_up_down_and_on_every_interface() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let bind = format!("127.0.0.1:{port}");
    let service = start_service(dir.path(), &bind, port);
    assert!(dir.path().join("data/ldr.sqlite3").exists());
    let (code, out, _) = healthcheck(Some(&bind), &[]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(&format!("http://127.0.0.1:{port}/readyz answered 200")),
        "{out}"
    );

    stop_service(service);
    let (code, out, _) = healthcheck(Some(&bind), &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("not ready"), "{out}");
    assert!(out.contains("connection refused"), "{out}");
    assert!(out.contains(&bind), "{out}");

    // Listening on every interface: the check asks on loopback.
    let port = free_port();
    let any = format!("0.0.0.0:{port}");
    let service = start_service(dir.path(), &any, port);
    let (code, out, _) = healthcheck(Some(&any), &[]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(&format!("http://127.0.0.1:{port}/readyz answered 200")),
        "{out}"
    );
    stop_service(service);
    let (code, out, _) = healthcheck(Some(&any), &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("connection refused"), "{out}");
}

/// A real HTTP receiver on `listener` that reads one request and answers `answer` to it (or
/// holds the connection open and silent for `hold`), then hands back what it was asked.
fn receiver(
    listener: TcpListener,
    answer: &'static [u8],
    hold: Duration,
) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut req = Vec::new();
        let mut buf = [0u8; 1024];
        while !req.windows(4).any(|w| w == b"\r\n\r\n") {
            match s.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => req.extend_from_slice(&buf[..n]),
            }
        }
        std::thread::sleep(hold);
        let _ = s.write_all(answer);
        String::from_utf8_lossy(&req).into_owned()
    })
}

#[test]
fn healthcheck_reports_a_refusal_silence_and_bad_input_with_exit_one() {
    // 503 with a problem document, in chunks: the status and the detail are printed.
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let bind = l.local_addr().unwrap().to_string();
    let r = receiver(
        l,
        b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/problem+json\r\n\
          transfer-encoding: chunked\r\n\r\n\
          1f\r\n{\"title\":\"Service unavailable\",\r\n\
          28\r\n\"detail\":\"database: connection refused\"}\r\n0\r\n\r\n",
        Duration::ZERO,
    );
    let (code, out, _) = healthcheck(Some(&bind), &[]);
    let req = r.join().unwrap();
    assert!(req.starts_with("GET /readyz HTTP/1.1\r\n"), "{req}");
    assert!(req.contains(&format!("Host: {bind}\r\n")), "{req}");
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("answered 503 Service Unavailable: database: connection refused"),
        "{out}"
    );

    // Accepts, then says nothing: given up after 2 s, with the reason.
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let bind = l.local_addr().unwrap().to_string();
    let r = receiver(
        l,
        b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n",
        Duration::from_secs(4),
    );
    let (code, out, took) = healthcheck(Some(&bind), &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("did not answer within 2 s"), "{out}");
    assert!(
        took >= Duration::from_millis(1900) && took < Duration::from_secs(4),
        "took {took:?}"
    );
    r.join().unwrap();

    // Not HTTP at all.
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let bind = l.local_addr().unwrap().to_string();
    let r = receiver(l, b"SSH-2.0-OpenSSH_9.2\r\n", Duration::ZERO);
    let (code, out, _) = healthcheck(Some(&bind), &[]);
    r.join().unwrap();
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("did not answer with HTTP"), "{out}");

    // `[::]` is asked on `[::1]` (where this machine has IPv6 loopback).
    if let Ok(l) = TcpListener::bind("[::1]:0") {
        let port = l.local_addr().unwrap().port();
        let r = receiver(
            l,
            b"HTTP/1.1 200 OK\r\ncontent-length: 18\r\n\r\n{\"status\":\"ready\"}",
            Duration::ZERO,
        );
        let (code, out, _) = healthcheck(Some(&format!("[::]:{port}")), &[]);
        let req = r.join().unwrap();
        assert_eq!(code, 0, "{out}");
        assert!(req.contains(&format!("Host: [::1]:{port}\r\n")), "{req}");
    }

    // LDR_BIND unset: the service's default address (nothing of ours listens there in a test
    // run unless something else does, so only the address named is checked).
    let (code, out, _) = healthcheck(None, &[]);
    assert!(out.contains("127.0.0.1:8080"), "{out}");
    assert!(code == 0 || code == 1, "{out}");

    // Bad input: a clear message, exit 1, never a panic.
    let (code, out, _) = healthcheck(Some("nowhere"), &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("LDR_BIND") && out.contains("nowhere"), "{out}");
    let (code, out, _) = healthcheck(Some("127.0.0.1:1"), &["--verbose"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("unexpected argument \"--verbose\""), "{out}");
}

#[test]
fn unknown_arguments_are_refused_with_the_subcommands_listed() {
    let out = ldr_command().arg("frobnicate").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unexpected argument \"frobnicate\""), "{err}");
    assert!(err.contains("ldr healthcheck"), "{err}");
    assert!(err.contains("ldr --version"), "{err}");
    let out = ldr_command().arg("--help").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("ldr healthcheck"));
    let out = ldr_command().arg("--version").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("ldr {}", env!("CARGO_PKG_VERSION"))
    );
}

// ---- the container files (no Docker engine here: they are read and checked) ----

/// Constructs that dash (Debian's `/bin/sh`) does not have, or reads differently.
const BASH_ONLY: [(&str, &str); 10] = [
    ("/dev/tcp", "/dev/tcp redirection"),
    ("/dev/udp", "/dev/udp redirection"),
    ("[[", "[[ test ]]"),
    ("<<<", "here-string"),
    ("<(", "process substitution"),
    ("$'", "$'...' quoting"),
    ("&>", "&> redirection"),
    ("=(", "array assignment"),
    ("function ", "function keyword"),
    ("${!", "indirect expansion"),
];

fn bash_only(script: &str) -> Vec<&'static str> {
    let mut found: Vec<&str> = BASH_ONLY
        .iter()
        .filter(|(p, _)| script.contains(p))
        .map(|(_, what)| *what)
        .collect();
    let words: Vec<&str> = script
        .split(|c: char| c.is_whitespace() || c == ';' || c == '&' || c == '|')
        .collect();
    if words.contains(&"source") {
        found.push("source (dash has only `.`)");
    }
    if script.contains("${") && script.contains("[@]") {
        found.push("array expansion");
    }
    found
}

/// The Dockerfile as instructions: continuation lines joined, comments dropped.
fn dockerfile_instructions(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with('#') || (t.is_empty() && current.is_empty()) {
            continue;
        }
        match t.strip_suffix('\\') {
            Some(part) => {
                current.push_str(part);
                current.push(' ');
            }
            None => {
                current.push_str(t);
                let (kw, rest) = current
                    .split_once(char::is_whitespace)
                    .unwrap_or((&current, ""));
                out.push((kw.to_ascii_uppercase(), rest.trim().to_string()));
                current.clear();
            }
        }
    }
    assert!(current.is_empty(), "Dockerfile ends in a continuation");
    out
}

/// A command in exec form (a JSON array) or shell form. Exec form that only runs a shell's
/// `-c` is checked as the script it is.
enum Form {
    Exec(Vec<String>),
    Shell(String),
}

fn command_form(rest: &str) -> Form {
    if rest.starts_with('[') {
        let argv: Vec<String> = serde_json::from_str(rest)
            .unwrap_or_else(|e| panic!("exec form {rest:?} is not a JSON array of strings: {e}"));
        let shell = ["sh", "/bin/sh", "bash", "/bin/bash", "/usr/bin/env"];
        if argv.len() >= 3 && shell.contains(&argv[0].as_str()) && argv[1] == "-c" {
            return Form::Shell(argv[2].clone());
        }
        Form::Exec(argv)
    } else {
        Form::Shell(rest.to_string())
    }
}

/// Instruction options (`--interval=10s`) taken off the front.
fn options(rest: &str) -> (Vec<(String, String)>, &str) {
    let mut opts = Vec::new();
    let mut rest = rest.trim_start();
    while let Some(after) = rest.strip_prefix("--") {
        let end = after.find(char::is_whitespace).unwrap_or(after.len());
        let (k, v) = after[..end].split_once('=').unwrap_or((&after[..end], ""));
        opts.push((k.to_string(), v.to_string()));
        rest = after[end..].trim_start();
    }
    (opts, rest)
}

fn seconds(v: &str) -> f64 {
    let n = v.trim_end_matches('s');
    n.parse()
        .unwrap_or_else(|_| panic!("duration {v:?} not in whole seconds"))
}

#[test]
fn the_dockerfile_checks_health_with_ldr_and_uses_no_bash() {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Dockerfile")).unwrap();
    assert!(!text.contains("/dev/tcp"), "Dockerfile uses /dev/tcp");
    let all = dockerfile_instructions(&text);
    let last_from = all.iter().rposition(|(k, _)| k == "FROM").unwrap();
    let runtime = &all[last_from..];

    let mut healthchecks = 0;
    for (kw, rest) in &all {
        let (opts, cmd) = options(rest);
        let form = match kw.as_str() {
            "RUN" | "CMD" | "ENTRYPOINT" => command_form(cmd),
            "HEALTHCHECK" => {
                healthchecks += 1;
                let cmd = cmd
                    .strip_prefix("CMD")
                    .unwrap_or_else(|| panic!("HEALTHCHECK {rest:?} has no CMD"));
                let form = command_form(cmd.trim());
                match &form {
                    Form::Exec(argv) => assert_eq!(argv, &["ldr", "healthcheck"], "{rest}"),
                    Form::Shell(s) => panic!("HEALTHCHECK in shell form: {s:?}"),
                }
                let timeout = opts.iter().find(|(k, _)| k == "timeout").map(|(_, v)| v);
                let timeout = seconds(timeout.expect("HEALTHCHECK without --timeout"));
                assert!(
                    timeout > 2.0,
                    "Docker's --timeout must outlast the check's own 2 s, so its reason is logged"
                );
                form
            }
            _ => continue,
        };
        if let Form::Shell(script) = form {
            let found = bash_only(&script);
            assert!(
                found.is_empty(),
                "{kw} {script:?} uses {found:?} under /bin/sh"
            );
        }
    }
    assert_eq!(healthchecks, 1);

    // The build stage copies every folder the binary compiles in (no Node in the image: the
    // pages' assets are committed built).
    for folder in [
        "src",
        "migrations",
        "email_templates",
        "page_templates",
        "assets",
    ] {
        assert!(
            all[..last_from]
                .iter()
                .any(|(k, rest)| k == "COPY" && rest.split_whitespace().next() == Some(folder)),
            "the build stage does not copy {folder}/"
        );
    }

    // The runtime stage: the binary and nothing of the source tree, as a non-root user.
    for (kw, rest) in runtime {
        assert!(
            !rest.contains("email_templates"),
            "the runtime image copies the templates, which are compiled in: {kw} {rest}"
        );
        if kw == "COPY" {
            assert!(
                rest.contains("--from="),
                "runtime copies from the context: {rest}"
            );
        }
    }
    let user = runtime
        .iter()
        .rev()
        .find(|(k, _)| k == "USER")
        .map(|(_, v)| v.as_str())
        .expect("runtime stage has no USER");
    assert!(!["root", "0", "0:0"].contains(&user), "runs as {user}");
    match command_form(&runtime.iter().rev().find(|(k, _)| k == "CMD").unwrap().1) {
        Form::Exec(argv) => assert_eq!(argv, ["ldr"]),
        Form::Shell(s) => panic!("CMD in shell form: {s:?}"),
    }
}

fn yaml_str(v: &yaml_rust2::Yaml) -> Vec<String> {
    match v {
        yaml_rust2::Yaml::Array(a) => a
            .iter()
            .filter_map(|x| x.as_str().map(String::from))
            .collect(),
        yaml_rust2::Yaml::String(s) => vec![s.clone()],
        _ => vec![],
    }
}

/// `${NAME:-default}` → `default`, as compose does with `NAME` unset.
fn compose_default(v: &str) -> String {
    let mut out = String::new();
    let mut rest = v;
    while let Some(i) = rest.find("${") {
        out.push_str(&rest[..i]);
        let end = rest[i..].find('}').expect("unclosed ${") + i;
        let inner = &rest[i + 2..end];
        out.push_str(inner.split_once(":-").map(|(_, d)| d).unwrap_or(""));
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

#[test]
fn the_compose_file_checks_health_runs_read_only_and_reaches_mailpit_without_tls() {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docker-compose.yml"))
            .unwrap();
    assert!(
        !text.contains("/dev/tcp"),
        "docker-compose.yml uses /dev/tcp"
    );
    let docs = yaml_rust2::YamlLoader::load_from_str(&text).unwrap();
    let services = &docs[0]["services"];
    let app = &services["app"];

    // Every service's health check: exec form, or a shell form without bash.
    for (name, svc) in services.as_hash().unwrap() {
        let test = yaml_str(&svc["healthcheck"]["test"]);
        match test.first().map(String::as_str) {
            None | Some("NONE") => {}
            Some("CMD") => {}
            Some("CMD-SHELL") => {
                let found = bash_only(&test[1..].join(" "));
                assert!(found.is_empty(), "{name:?}: {test:?} uses {found:?}");
            }
            Some(_) if test.len() == 1 => {
                let found = bash_only(&test[0]);
                assert!(found.is_empty(), "{name:?}: {test:?} uses {found:?}");
            }
            Some(other) => panic!("{name:?}: health check test starts with {other:?}"),
        }
    }
    assert_eq!(
        yaml_str(&app["healthcheck"]["test"]),
        ["CMD", "ldr", "healthcheck"]
    );
    let timeout = app["healthcheck"]["timeout"]
        .as_str()
        .expect("app health check timeout");
    assert!(
        seconds(timeout) > 2.0,
        "timeout {timeout} within the check's own 2 s"
    );

    // Read-only root file system; the data folder a volume, /tmp a tmpfs.
    assert_eq!(app["read_only"].as_bool(), Some(true));
    assert!(yaml_str(&app["tmpfs"]).iter().any(|t| t == "/tmp"));
    assert!(
        yaml_str(&app["volumes"])
            .iter()
            .any(|v| v.ends_with(":/app/data")),
        "no volume for /app/data"
    );

    // Mailpit: a released version, and a URL the service accepts with TLS off.
    let image = services["mail"]["image"].as_str().unwrap();
    let (name, tag) = image.split_once(':').expect("mail image has no tag");
    assert_eq!(name, "axllent/mailpit");
    let numbers: Vec<&str> = tag.strip_prefix('v').unwrap_or("").split('.').collect();
    assert!(
        numbers.len() == 3 && numbers.iter().all(|n| n.parse::<u32>().is_ok()),
        "mail image not pinned to a vX.Y.Z release: {image}"
    );
    let env: std::collections::HashMap<String, String> = app["environment"]
        .as_hash()
        .unwrap()
        .iter()
        .map(|(k, v)| {
            let v = match v {
                yaml_rust2::Yaml::String(s) => s.clone(),
                other => format!("{other:?}"),
            };
            (k.as_str().unwrap().to_string(), compose_default(&v))
        })
        .collect();
    let cfg = ldr::config::Config::from_lookup(|k| env.get(k).cloned())
        .unwrap_or_else(|e| panic!("the compose file's configuration is refused: {e}"));
    let smtp = cfg.smtp_url.clone().expect("compose sets no LDR_SMTP_URL");
    assert_eq!((smtp.scheme(), smtp.host_str()), ("smtp", Some("mail")));
    assert!(
        smtp.query_pairs().any(|(k, v)| k == "tls" && v == "none"),
        "{smtp}"
    );
    let transport = ldr::notify::worker::Transport::from_config(&cfg)
        .unwrap_or_else(|e| panic!("the mail worker refuses {smtp}: {e}"));
    assert_eq!(transport.describe(), "SMTP");
    assert_eq!(cfg.bind.to_string(), "0.0.0.0:8080");

    // No secret with a default a reader of this file would know: the JWT secret is generated,
    // and no admin is created with a known password.
    for secret in [
        "LDR_JWT_SECRET",
        "LDR_BOOTSTRAP_ADMIN_PASSWORD",
        "LDR_WEBHOOK_KEY",
    ] {
        assert!(
            env.get(secret).is_none_or(|v| v.is_empty()),
            "{secret} has a default in docker-compose.yml: {:?}",
            env.get(secret)
        );
    }
    assert!(cfg.jwt_secret.is_none() && cfg.bootstrap_admin.is_none());
    // Every published port on the host's loopback only (Mailpit's UI shows every notice).
    for (name, svc) in services.as_hash().unwrap() {
        for port in yaml_str(&svc["ports"]) {
            assert!(
                port.starts_with("127.0.0.1:"),
                "{name:?} publishes {port:?} on every interface"
            );
        }
    }
    // PostgreSQL is healthy only when it answers over TCP (its first-run setup server listens
    // on the socket only), and the service is started again if it exits at start.
    let db_check = yaml_str(&services["db"]["healthcheck"]["test"]).join(" ");
    assert!(db_check.contains("-h 127.0.0.1"), "{db_check}");
    assert_eq!(app["restart"].as_str(), Some("unless-stopped"));
}
