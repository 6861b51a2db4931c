//! The `ldr` release binary as a process: started on a database, answered, measured, stopped.

use super::process::{free_port, ldr_command};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const ADMIN: &str = "admin@load.test";
pub const ADMIN_PW: &str = "load-admin-password-1";
pub const SECRET: &str = "load-test-secret-load-test-secret-0123456789";
pub const TODAY: &str = "2026-03-02";

pub struct Server {
    child: Child,
    pub base: String,
    /// From spawning the process to its first answer on `/healthz`.
    pub started_in: Duration,
}

/// A blocking HTTP client for seeding and checks (not for the timed phases: see
/// [`crate::support::http::RawConn`]).
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .max_idle_connections_per_host(1)
        .build()
        .into()
}

impl Server {
    /// Starts the release binary on `db_url` with its data in `dir`, `.eml` files in `mail`, a
    /// bootstrap admin ([`ADMIN`]), "today" pinned to [`TODAY`], abuse limits out of the way
    /// (the load is one user acting thousands of times a second) and `extra_env` on top; waits
    /// for its first answer.
    pub fn start(
        db_url: &str,
        dir: &std::path::Path,
        mail: &std::path::Path,
        extra_env: &[(String, String)],
    ) -> Server {
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
            .env("LDR_FILINGS_PER_HOUR", "1000000")
            .env("LDR_UPLOADS_PER_HOUR", "1000000")
            .env("LDR_NOTICE_EVENTS_PER_HOUR", "1000000");
        for (k, v) in extra_env {
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

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// VmRSS and VmHWM (peak) in KiB.
    pub fn rss(&self) -> (u64, u64) {
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

    pub fn cpu_ticks(&self) -> u64 {
        crate::support::machine::cpu_ticks(&format!("/proc/{}/stat", self.pid()))
    }

    pub fn stop(mut self) {
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
