//! Every `LDR_*` variable, read in one place and validated at start. A bad value is an error
//! naming the variable; the caller prints it and exits non-zero. Secrets are never logged:
//! `Config` implements `Debug` by hand and `summary()` gives the loggable view.

use crate::db::DbTarget;
use chrono::NaiveDate;
use std::net::SocketAddr;
use std::path::PathBuf;

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/ldr.sqlite3";
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";

/// `LDR_LOG_FORMAT`: how log lines are written (see `logging::init`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

impl LogFormat {
    /// `text` or `json` (any case); empty is the default, text.
    pub fn parse(v: &str) -> Result<LogFormat, String> {
        match v.trim().to_ascii_lowercase().as_str() {
            "" | "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            _ => Err(format!("LDR_LOG_FORMAT: {v:?} is not json or text")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            LogFormat::Text => "text",
            LogFormat::Json => "json",
        }
    }
}

#[derive(Clone)]
pub struct Config {
    pub database: DbTarget,
    pub bind: SocketAddr,
    /// `None`: generate one and keep it in `data_dir/jwt-secret`.
    pub jwt_secret: Option<String>,
    pub jwt_ttl_seconds: i64,
    pub smtp_url: Option<url::Url>,
    pub mail_from: String,
    pub mail_dir: PathBuf,
    pub data_dir: PathBuf,
    pub bank_holidays_file: Option<PathBuf>,
    pub bootstrap_admin: Option<(String, String)>,
    pub today: Option<NaiveDate>,
    pub mail_retry_base_seconds: u64,
    pub mail_max_attempts: u32,
    /// Upper bound on one whole SMTP delivery (`LDR_MAIL_SEND_TIMEOUT_SECONDS`).
    pub mail_send_timeout_seconds: u64,
    /// How long a claim leases its notices to the worker (`LDR_MAIL_LEASE_SECONDS`).
    pub mail_lease_seconds: u64,
    pub sweep_interval_seconds: u64,
    pub db_pool_size: u32,
    pub workers: usize,
    /// `LDR_METRICS_BIND`: where `GET /metrics` is served; `None`: nowhere (the default).
    pub metrics_bind: Option<SocketAddr>,
    pub log_format: LogFormat,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.summary())
    }
}

fn parse_num<T>(name: &str, v: &str, min: T, max: T) -> Result<T, String>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
{
    let n: T = v
        .trim()
        .parse()
        .map_err(|_| format!("{name}: {v:?} is not a number"))?;
    if n < min || n > max {
        return Err(format!("{name}: {n} is out of range ({min}..={max})"));
    }
    Ok(n)
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Config, String> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads variables through `get` (tests pass a map). Empty values count as unset.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, String> {
        let get = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        let data_dir = PathBuf::from(get("LDR_DATA_DIR").unwrap_or_else(|| "data".into()));
        let database = DbTarget::parse(
            &get("LDR_DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.to_string()),
        )?;
        let bind_s = get("LDR_BIND").unwrap_or_else(|| DEFAULT_BIND.into());
        let bind: SocketAddr = bind_s.trim().parse().map_err(|_| {
            format!("LDR_BIND: {bind_s:?} is not an address:port such as 127.0.0.1:8080")
        })?;
        let jwt_secret = get("LDR_JWT_SECRET");
        if let Some(s) = &jwt_secret {
            if s.len() < 32 {
                return Err("LDR_JWT_SECRET: must be at least 32 characters".into());
            }
        }
        let jwt_ttl_seconds = match get("LDR_JWT_TTL_SECONDS") {
            Some(v) => parse_num("LDR_JWT_TTL_SECONDS", &v, 60, 86_400)?,
            None => 3600,
        };
        let smtp_url = match get("LDR_SMTP_URL") {
            Some(v) => {
                let u = url::Url::parse(v.trim())
                    .map_err(|e| format!("LDR_SMTP_URL: not a URL ({e})"))?;
                if !matches!(u.scheme(), "smtp" | "smtps") {
                    return Err(format!(
                        "LDR_SMTP_URL: scheme {:?} is not smtp:// or smtps://",
                        u.scheme()
                    ));
                }
                if u.host_str().is_none() {
                    return Err("LDR_SMTP_URL: no host".into());
                }
                Some(u)
            }
            None => None,
        };
        let mail_from = get("LDR_MAIL_FROM")
            .unwrap_or_else(|| "Local Dispute Resolution <ldr@localhost>".into());
        if mail_from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(format!(
                "LDR_MAIL_FROM: {mail_from:?} is not an e-mail address (e.g. \"LDR <ldr@example.nhs.uk>\")"
            ));
        }
        let mail_dir = get("LDR_MAIL_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| data_dir.join("mail"));
        let bank_holidays_file = get("LDR_BANK_HOLIDAYS_FILE").map(PathBuf::from);
        let bootstrap_admin = match (
            get("LDR_BOOTSTRAP_ADMIN_EMAIL"),
            get("LDR_BOOTSTRAP_ADMIN_PASSWORD"),
        ) {
            (Some(e), Some(p)) => {
                if !validator::ValidateEmail::validate_email(&e) {
                    return Err(format!(
                        "LDR_BOOTSTRAP_ADMIN_EMAIL: {e:?} is not an e-mail address"
                    ));
                }
                if p.chars().count() < 12 {
                    return Err(
                        "LDR_BOOTSTRAP_ADMIN_PASSWORD: must be at least 12 characters".into(),
                    );
                }
                Some((e.trim().to_lowercase(), p))
            }
            (None, None) => None,
            _ => return Err(
                "LDR_BOOTSTRAP_ADMIN_EMAIL and LDR_BOOTSTRAP_ADMIN_PASSWORD must be set together"
                    .into(),
            ),
        };
        let today = match get("LDR_TODAY") {
            Some(v) => Some(
                NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d")
                    .map_err(|_| format!("LDR_TODAY: {v:?} is not a YYYY-MM-DD date"))?,
            ),
            None => None,
        };
        let mail_retry_base_seconds = match get("LDR_MAIL_RETRY_BASE_SECONDS") {
            Some(v) => parse_num("LDR_MAIL_RETRY_BASE_SECONDS", &v, 1, 86_400)?,
            None => 30,
        };
        let mail_max_attempts = match get("LDR_MAIL_MAX_ATTEMPTS") {
            Some(v) => parse_num("LDR_MAIL_MAX_ATTEMPTS", &v, 1, 100)?,
            None => 12,
        };
        let mail_send_timeout_seconds = match get("LDR_MAIL_SEND_TIMEOUT_SECONDS") {
            Some(v) => parse_num("LDR_MAIL_SEND_TIMEOUT_SECONDS", &v, 1, 3_600)?,
            None => crate::notify::worker::SEND_TIMEOUT_SECONDS,
        };
        let mail_lease_seconds = match get("LDR_MAIL_LEASE_SECONDS") {
            Some(v) => parse_num("LDR_MAIL_LEASE_SECONDS", &v, 1, 86_400)?,
            None => crate::notify::worker::LEASE_SECONDS as u64,
        };
        // A send starts only while the lease has the send's bound and the margin for recording
        // it left (`notify::worker::lease_allows_send`); keep at least that again to start in.
        let least = mail_send_timeout_seconds + 2 * crate::notify::worker::RECORD_MARGIN_SECONDS;
        if mail_lease_seconds < least {
            return Err(format!(
                "LDR_MAIL_LEASE_SECONDS: {mail_lease_seconds} is too short; it must be at least \
                 LDR_MAIL_SEND_TIMEOUT_SECONDS ({mail_send_timeout_seconds}) + {}",
                2 * crate::notify::worker::RECORD_MARGIN_SECONDS
            ));
        }
        let sweep_interval_seconds = match get("LDR_SWEEP_INTERVAL_SECONDS") {
            Some(v) => parse_num("LDR_SWEEP_INTERVAL_SECONDS", &v, 1, 86_400)?,
            None => 60,
        };
        let db_pool_size = match get("LDR_DB_POOL_SIZE") {
            Some(v) => parse_num("LDR_DB_POOL_SIZE", &v, 1, 256)?,
            // 8: on the 2-core machine of BENCHMARKS.md (eighth round), 16 gave no more
            // requests per second than 8, and left the mail worker's own connection so far
            // behind in a burst that thousands of notices waited; with 8 it kept up.
            None => 8,
        };
        let workers = match get("LDR_WORKERS") {
            Some(v) => parse_num("LDR_WORKERS", &v, 1, 256)?,
            // Two per CPU: a worker that runs a short read itself (`AppState::read`) waits for
            // the database meanwhile, and another keeps the CPU busy.
            None => std::thread::available_parallelism()
                .map(|n| n.get() * 2)
                .unwrap_or(4),
        };
        let metrics_bind = match get("LDR_METRICS_BIND") {
            Some(v) => {
                let a: SocketAddr = v.trim().parse().map_err(|_| {
                    format!("LDR_METRICS_BIND: {v:?} is not an address:port such as 127.0.0.1:9090")
                })?;
                if a.port() != 0 && a.port() == bind.port() {
                    return Err(format!(
                        "LDR_METRICS_BIND: {a} uses the port of LDR_BIND ({bind}); the metrics \
                         are served on a port of their own, never on the public one"
                    ));
                }
                Some(a)
            }
            None => None,
        };
        let log_format = LogFormat::parse(&get("LDR_LOG_FORMAT").unwrap_or_default())?;
        Ok(Config {
            database,
            bind,
            jwt_secret,
            jwt_ttl_seconds,
            smtp_url,
            mail_from,
            mail_dir,
            data_dir,
            bank_holidays_file,
            bootstrap_admin,
            today,
            mail_retry_base_seconds,
            mail_max_attempts,
            mail_send_timeout_seconds,
            mail_lease_seconds,
            sweep_interval_seconds,
            db_pool_size,
            workers,
            metrics_bind,
            log_format,
        })
    }

    /// What may be logged: no secret, no password, SMTP and database passwords masked.
    pub fn summary(&self) -> String {
        let db = match &self.database {
            DbTarget::Postgres(u) => crate::db::redact_url(u),
            DbTarget::Sqlite(p) => format!("sqlite://{p}"),
        };
        let smtp = match &self.smtp_url {
            Some(u) => crate::db::redact_url(u.as_str()),
            None => format!("files in {}", self.mail_dir.display()),
        };
        format!(
            "database={db} bind={} mail={smtp} mail_from={} bank_holidays_file={} today={} \
             jwt_secret={} bootstrap_admin={} workers={} pool={} metrics={} log_format={}",
            self.bind,
            self.mail_from,
            self.bank_holidays_file
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "(computed)".into()),
            self.today
                .map(|d| d.to_string())
                .unwrap_or_else(|| "(real)".into()),
            if self.jwt_secret.is_some() {
                "(set)"
            } else {
                "(generated)"
            },
            self.bootstrap_admin
                .as_ref()
                .map(|(e, _)| e.as_str())
                .unwrap_or("(none)"),
            self.workers,
            self.db_pool_size,
            self.metrics_bind
                .map(|a| a.to_string())
                .unwrap_or_else(|| "(off)".into()),
            self.log_format.as_str(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn cfg(pairs: &[(&str, &str)]) -> Result<Config, String> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| m.get(k).cloned())
    }

    #[test]
    fn defaults() {
        let c = cfg(&[]).unwrap();
        assert_eq!(c.database, DbTarget::Sqlite("data/ldr.sqlite3".into()));
        assert_eq!(c.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(c.mail_retry_base_seconds, 30);
        assert_eq!(c.mail_max_attempts, 12);
        assert_eq!(c.mail_send_timeout_seconds, 90);
        assert_eq!(c.mail_lease_seconds, 120);
        assert_eq!(c.sweep_interval_seconds, 60);
        assert!(c.today.is_none());
        assert_eq!(c.metrics_bind, None);
        assert_eq!(c.log_format, LogFormat::Text);
    }

    #[test]
    fn bad_values_name_the_variable() {
        for (k, v) in [
            ("LDR_DATABASE_URL", "mysql://x"),
            ("LDR_BIND", "nonsense"),
            ("LDR_JWT_SECRET", "short"),
            ("LDR_SMTP_URL", "http://x"),
            ("LDR_MAIL_FROM", "not an address"),
            ("LDR_TODAY", "2026-02-30"),
            ("LDR_MAIL_MAX_ATTEMPTS", "0"),
            ("LDR_MAIL_SEND_TIMEOUT_SECONDS", "0"),
            ("LDR_MAIL_LEASE_SECONDS", "99"),
            ("LDR_SWEEP_INTERVAL_SECONDS", "x"),
            ("LDR_BOOTSTRAP_ADMIN_EMAIL", "admin@example.org"),
            ("LDR_METRICS_BIND", "9090"),
            ("LDR_METRICS_BIND", "127.0.0.1:8080"),
            ("LDR_LOG_FORMAT", "xml"),
        ] {
            let e = cfg(&[(k, v)]).unwrap_err();
            assert!(e.contains(k), "{k}={v} gave {e}");
        }
    }

    #[test]
    fn metrics_and_log_format() {
        let c = cfg(&[
            ("LDR_METRICS_BIND", "0.0.0.0:9090"),
            ("LDR_LOG_FORMAT", "JSON"),
        ])
        .unwrap();
        assert_eq!(c.metrics_bind.unwrap().to_string(), "0.0.0.0:9090");
        assert_eq!(c.log_format, LogFormat::Json);
        assert!(c.summary().contains("metrics=0.0.0.0:9090"));
    }

    #[test]
    fn the_lease_must_outlast_a_send_and_its_record() {
        let c = cfg(&[("LDR_MAIL_LEASE_SECONDS", "100")]).unwrap();
        assert_eq!(
            (c.mail_send_timeout_seconds, c.mail_lease_seconds),
            (90, 100)
        );
        let pair = |send: &str, lease: &str| {
            cfg(&[
                ("LDR_MAIL_SEND_TIMEOUT_SECONDS", send),
                ("LDR_MAIL_LEASE_SECONDS", lease),
            ])
        };
        let c = pair("2", "12").unwrap();
        assert_eq!((c.mail_send_timeout_seconds, c.mail_lease_seconds), (2, 12));
        let e = pair("2", "11").unwrap_err();
        assert!(
            e.contains("LDR_MAIL_LEASE_SECONDS") && e.contains("(2) + 10"),
            "{e}"
        );
    }

    #[test]
    fn summary_hides_secrets() {
        let c = cfg(&[
            ("LDR_DATABASE_URL", "postgres://u:dbpass@h/d"),
            ("LDR_SMTP_URL", "smtp://mailer:smtppass@mail.example:587"),
            ("LDR_JWT_SECRET", "0123456789abcdef0123456789abcdefXYZ"),
            ("LDR_BOOTSTRAP_ADMIN_EMAIL", "admin@example.org"),
            ("LDR_BOOTSTRAP_ADMIN_PASSWORD", "correct horse battery"),
        ])
        .unwrap();
        let s = format!("{c:?}");
        for secret in ["dbpass", "smtppass", "0123456789abcdef", "correct horse"] {
            assert!(!s.contains(secret), "{s}");
        }
    }
}
