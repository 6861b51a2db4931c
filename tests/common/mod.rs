//! Test harness: the real app on port 0 with its own database per test — a temporary SQLite
//! file, or a fresh PostgreSQL database at `LDR_TEST_POSTGRES_URL` — driven over HTTP.
#![allow(dead_code)]

pub mod browser;
pub mod http;
pub mod journey;
pub mod process;
pub mod smtp;
pub mod world;

use serde_json::{json, Value};
use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::OnceLock;

pub const ADMIN_EMAIL: &str = "admin@ldr.test";
pub const ADMIN_PASSWORD: &str = "admin-password-123";
pub const PASSWORD: &str = "a-long-password-1";
pub const JWT_SECRET: &str = "test-secret-test-secret-test-secret-0123456789";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// Declares each listed test `fn name(db: Db)` twice: `sqlite::name` and `postgres::name`.
#[macro_export]
macro_rules! both_dbs {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[test] fn $name() { super::$name($crate::common::Db::Sqlite) } )*
        }
        mod postgres {
            $( #[test] fn $name() { super::$name($crate::common::Db::Postgres) } )*
        }
    };
}

/// An HTTP agent that answers every status as it is and follows no redirect: what a test
/// needs to see a page's `303` and its `Location`.
pub fn no_redirects() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into()
}

pub fn pg_admin_url() -> String {
    std::env::var("LDR_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// Whether PostgreSQL answers; loud when it does not, a failure with LDR_REQUIRE_POSTGRES=1.
pub fn postgres_available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    let ok = *AVAILABLE.get_or_init(|| {
        use diesel::Connection;
        diesel::PgConnection::establish(&pg_admin_url()).is_ok()
    });
    if !ok {
        let msg = format!(
            "PostgreSQL at {} does not answer: PostgreSQL tests are NOT RUN",
            pg_admin_url()
        );
        if std::env::var("LDR_REQUIRE_POSTGRES").as_deref() == Ok("1") {
            panic!("{msg} (LDR_REQUIRE_POSTGRES=1)");
        }
        eprintln!("\n!!!!!!!! {msg} !!!!!!!!\n");
    }
    ok
}

/// A fresh, empty PostgreSQL database; dropped with the guard.
pub struct PgDatabase {
    pub url: String,
    name: String,
}

impl PgDatabase {
    pub fn create() -> Option<PgDatabase> {
        use diesel::connection::SimpleConnection;
        use diesel::Connection;
        if !postgres_available() {
            return None;
        }
        let name = format!("ldr_t_{}", uuid::Uuid::new_v4().simple());
        let mut admin = diesel::PgConnection::establish(&pg_admin_url()).expect("postgres admin");
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create test database");
        let mut u = url::Url::parse(&pg_admin_url()).expect("LDR_TEST_POSTGRES_URL");
        u.set_path(&name);
        Some(PgDatabase {
            url: u.to_string(),
            name,
        })
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        use diesel::connection::SimpleConnection;
        use diesel::Connection;
        if let Ok(mut admin) = diesel::PgConnection::establish(&pg_admin_url()) {
            let _ = admin.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

pub struct TestApp {
    pub base: String,
    pub db: Db,
    pub db_url: String,
    pub state: actix_web::web::Data<ldr::app::AppState>,
    pub dir: tempfile::TempDir,
    handle: Option<actix_web::dev::ServerHandle>,
    thread: Option<std::thread::JoinHandle<()>>,
    pg: Option<PgDatabase>,
    agent: ureq::Agent,
}

pub struct Resp {
    pub status: u16,
    pub headers: HashMap<String, String>,
    pub bytes: Vec<u8>,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.bytes).unwrap_or(Value::Null)
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }
    /// Asserts the status, and for errors that the body is problem+json; returns the JSON.
    #[track_caller]
    pub fn expect(&self, status: u16) -> Value {
        assert_eq!(
            self.status,
            status,
            "unexpected status; body: {}",
            self.text()
        );
        if status >= 400 {
            assert_eq!(
                self.header("content-type"),
                Some("application/problem+json"),
                "error without problem+json: {}",
                self.text()
            );
            let j = self.json();
            assert_eq!(j["status"], status, "{j}");
            assert!(
                j["code"].is_string() && j["title"].is_string() && j["type"].is_string(),
                "{j}"
            );
        }
        self.json()
    }
    /// Asserts a problem with this status and code.
    #[track_caller]
    pub fn expect_problem(&self, status: u16, code: &str) -> Value {
        let j = self.expect(status);
        assert_eq!(j["code"], code, "{j}");
        j
    }
}

impl TestApp {
    pub fn spawn(db: Db) -> Option<TestApp> {
        Self::spawn_with(db, &[])
    }

    /// Starts the app with extra `LDR_*` variables (e.g. `("LDR_TODAY", "2026-03-02")`).
    pub fn spawn_with(db: Db, extra: &[(&str, &str)]) -> Option<TestApp> {
        let dir = tempfile::tempdir().expect("tempdir");
        let (db_url, pg) = match db {
            Db::Sqlite => (
                format!("sqlite://{}", dir.path().join("ldr.sqlite3").display()),
                None,
            ),
            Db::Postgres => {
                let pg = PgDatabase::create()?;
                (pg.url.clone(), Some(pg))
            }
        };
        let app = Self::start(db, db_url, dir, pg, extra);
        Some(app)
    }

    /// Starts another instance on the same database and folder (restart, replicas).
    pub fn restart_with(mut self, extra: &[(&str, &str)]) -> TestApp {
        self.stop();
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().expect("tempdir"));
        let pg = self.pg.take();
        let (db, url) = (self.db, self.db_url.clone());
        drop(self);
        Self::start(db, url, dir, pg, extra)
    }

    /// Another instance on the same database (a replica), with its own folder; `extra` as for
    /// `spawn_with`. The database stays owned by `self`: drop the replica first.
    pub fn replica(&self, extra: &[(&str, &str)]) -> TestApp {
        let dir = tempfile::tempdir().expect("tempdir");
        Self::start(self.db, self.db_url.clone(), dir, None, extra)
    }

    fn env(db_url: &str, dir: &std::path::Path, extra: &[(&str, &str)]) -> HashMap<String, String> {
        let mut env: HashMap<String, String> = [
            ("LDR_DATABASE_URL", db_url.to_string()),
            ("LDR_JWT_SECRET", JWT_SECRET.to_string()),
            ("LDR_DATA_DIR", dir.display().to_string()),
            ("LDR_MAIL_DIR", dir.join("mail").display().to_string()),
            ("LDR_BOOTSTRAP_ADMIN_EMAIL", ADMIN_EMAIL.to_string()),
            ("LDR_BOOTSTRAP_ADMIN_PASSWORD", ADMIN_PASSWORD.to_string()),
            ("LDR_WORKERS", "1".to_string()),
            ("LDR_DB_POOL_SIZE", "4".to_string()),
            ("LDR_BIND", "127.0.0.1:0".to_string()),
            // Tests walk many cases as one user within seconds; the abuse limits' defaults are
            // tested on their own (tests/hardening.rs passes "" to get them back).
            ("LDR_FILINGS_PER_HOUR", "100000".to_string()),
            ("LDR_UPLOADS_PER_HOUR", "100000".to_string()),
            ("LDR_NOTICE_EVENTS_PER_HOUR", "100000".to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        for (k, v) in extra {
            env.insert(k.to_string(), v.to_string());
        }
        env
    }

    fn start(
        db: Db,
        db_url: String,
        dir: tempfile::TempDir,
        pg: Option<PgDatabase>,
        extra: &[(&str, &str)],
    ) -> TestApp {
        let env = Self::env(&db_url, dir.path(), extra);
        let cfg = ldr::config::Config::from_lookup(|k| env.get(k).cloned()).expect("test config");
        let state = ldr::server::prepare(cfg).expect("prepare app");
        // LDR_BIND is 127.0.0.1:0 unless the test names a port (one it must know before start,
        // e.g. for LDR_PUBLIC_URL).
        let listener = TcpListener::bind(env["LDR_BIND"].as_str()).expect("bind");
        let port = listener.local_addr().unwrap().port();
        let (tx, rx) = std::sync::mpsc::channel();
        let st = state.clone();
        let thread = std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let srv = ldr::server::serve_with_handle(st, listener, false).expect("serve");
                tx.send(srv.handle()).unwrap();
                let _ = srv.await;
            })
        });
        let handle = rx.recv().expect("server handle");
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(std::time::Duration::from_secs(60)))
            .build()
            .into();
        TestApp {
            base: format!("http://127.0.0.1:{port}"),
            db,
            db_url,
            state,
            dir,
            handle: Some(handle),
            thread: Some(thread),
            pg,
            agent,
        }
    }

    pub fn stop(&mut self) {
        if let Some(h) = self.handle.take() {
            actix_web::rt::System::new().block_on(h.stop(true));
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Queues a notice of no dispute, due now, straight into the database: `recipients` is
    /// stored as given (a JSON array, or anything else to see it refused), `text` is its body.
    pub fn queue_notice(
        &self,
        id: &str,
        template: &str,
        recipients: &str,
        subject: &str,
        text: &str,
    ) {
        let mut c = self.state.pool.get().unwrap();
        ldr::db::outbox::insert_notice(
            &mut c,
            &ldr::db::outbox::NewNotice {
                id,
                dispute_id: None,
                template,
                recipients,
                subject,
                body_text: &format!("{text}\r\n"),
                body_html: &format!("<p>{text}</p>\r\n"),
                ics: None,
                ics_method: None,
                attachment_name: None,
                attachment: None,
                queued_at: ldr::db::now(),
            },
        )
        .unwrap();
    }

    fn finish(res: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Resp {
        let mut res = res.expect("HTTP request failed");
        let status = res.status().as_u16();
        let headers = res
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_ascii_lowercase(),
                    v.to_str().unwrap_or("").to_string(),
                )
            })
            .collect();
        let bytes = res
            .body_mut()
            .with_config()
            .limit(64 * 1024 * 1024)
            .read_to_vec()
            .unwrap_or_default();
        Resp {
            status,
            headers,
            bytes,
        }
    }

    pub fn get(&self, path: &str, token: Option<&str>) -> Resp {
        let mut r = self.agent.get(&self.url(path));
        if let Some(t) = token {
            r = r.header("Authorization", &format!("Bearer {t}"));
        }
        Self::finish(r.call())
    }

    pub fn send(&self, method: &str, path: &str, token: Option<&str>, body: &Value) -> Resp {
        self.send_raw(
            method,
            path,
            token,
            "application/json",
            body.to_string().as_bytes(),
            &[],
        )
    }

    pub fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Resp {
        self.send("POST", path, token, body)
    }

    pub fn patch(&self, path: &str, token: Option<&str>, body: &Value) -> Resp {
        self.send("PATCH", path, token, body)
    }

    pub fn send_raw(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        content_type: &str,
        body: &[u8],
        headers: &[(&str, &str)],
    ) -> Resp {
        let req = ureq::http::Request::builder()
            .method(method)
            .uri(self.url(path))
            .header("Content-Type", content_type);
        let mut req = match token {
            Some(t) => req.header("Authorization", format!("Bearer {t}")),
            None => req,
        };
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = req.body(body.to_vec()).expect("request");
        Self::finish(self.agent.run(req))
    }

    pub fn login(&self, email: &str, password: &str) -> String {
        let r = self.post(
            "/api/v1/auth/login",
            None,
            &json!({"email": email, "password": password}),
        );
        let j = r.expect(200);
        j["access_token"].as_str().expect("token").to_string()
    }

    pub fn admin(&self) -> String {
        self.login(ADMIN_EMAIL, ADMIN_PASSWORD)
    }

    /// Creates an organisation as admin; returns its id.
    pub fn org(
        &self,
        admin: &str,
        name: &str,
        kind: &str,
        area: &str,
        region: &str,
        commissioner: Option<&str>,
    ) -> String {
        let mut body = json!({
            "name": name, "kind": kind, "area": area, "region": region,
            "email": format!("{}@{}.nhs.test", name.to_lowercase().replace(' ', "."), kind),
            "address": format!("1 {name} Street, {area}"),
        });
        if let Some(c) = commissioner {
            body["commissioner_id"] = json!(c);
        }
        self.post("/api/v1/organisations", Some(admin), &body)
            .expect(201)["id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// North CCG, North Essex LMC and Elm Practice (of that CCG, in the LMC's area): the
    /// least a practice needs to file. Returns the CCG's id and the practice's.
    pub fn north_essex_practice(&self, admin: &str) -> (String, String) {
        let ccg = self.org(
            admin,
            "North CCG",
            "commissioner",
            "North Essex",
            "East",
            None,
        );
        self.org(admin, "North Essex LMC", "lmc", "North Essex", "East", None);
        let elm = self.org(
            admin,
            "Elm Practice",
            "practice",
            "North Essex",
            "East",
            Some(&ccg),
        );
        (ccg, elm)
    }

    /// Creates a user as admin with the common test password; returns its id.
    pub fn user(
        &self,
        admin: &str,
        name: &str,
        org: &str,
        roles: &[&str],
        panel_roles: &[&str],
    ) -> String {
        let email = format!("{}@ldr.test", name.to_lowercase().replace(' ', "."));
        self.post(
            "/api/v1/users",
            Some(admin),
            &json!({"name": name, "email": email, "password": PASSWORD, "organisation_id": org,
                    "roles": roles, "panel_roles": panel_roles}),
        )
        .expect(201)["id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    pub fn login_as(&self, name: &str) -> String {
        self.login(
            &format!("{}@ldr.test", name.to_lowercase().replace(' ', ".")),
            PASSWORD,
        )
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.stop();
    }
}
