//! Every `LDR_*` variable, read in one place and validated at start. A bad value is an error
//! naming the variable; the caller prints it and exits non-zero. Secrets are never logged:
//! `Config` implements `Debug` by hand and `summary()` gives the loggable view.

use crate::db::DbTarget;
use chrono::NaiveDate;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Per hour, for one user; an organisation may do three times as much among its users.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hourly {
    pub filings: u32,
    pub uploads: u32,
    pub notices: u32,
}

impl Default for Hourly {
    /// A practice files a handful of disputes a year and a case has a few dozen documents;
    /// nobody working a real case meets these.
    fn default() -> Self {
        Hourly {
            filings: 10,
            uploads: 120,
            notices: 120,
        }
    }
}

/// How long a claim leases its notices to the worker, unless `LDR_MAIL_LEASE_SECONDS` says.
pub const LEASE_SECONDS: i64 = 120;
/// Upper bound on one whole SMTP delivery (connect, TLS, AUTH, MAIL, RCPT, DATA, QUIT), unless
/// `LDR_MAIL_SEND_TIMEOUT_SECONDS` says; under the lease, so a claimed notice is recorded before
/// another worker may take it over (see `notify::worker::lease_allows_send`).
pub const SEND_TIMEOUT_SECONDS: u64 = 90;
/// What a send must leave of the lease, after its own bound, for its outcome to be recorded.
pub const RECORD_MARGIN_SECONDS: u64 = 5;

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
    /// Peers whose `X-Forwarded-For` is believed (`LDR_TRUSTED_PROXIES`).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Filings, uploads and notice-sending events per user per hour (`LDR_*_PER_HOUR`).
    pub hourly_limits: Hourly,
    /// `LDR_NOTIFY_*`: notices go through GOV.UK Notify instead of SMTP or files.
    pub notify: Option<NotifyConfig>,
    /// `LDR_PUBLIC_URL`: the service's public base URL, no trailing slash (links in notices).
    pub public_url: String,
    /// The most a document upload's whole body may take to arrive (`LDR_UPLOAD_TIMEOUT_SECONDS`).
    pub upload_timeout_seconds: u64,
    /// Uploads received at once by this process (`LDR_UPLOAD_CONCURRENCY`).
    pub upload_concurrency: usize,
    /// `LDR_ACCESS_LOG_DAYS`: how long the access log keeps an entry (default 2,555 ≈ 7 years).
    pub access_log_days: u32,
    /// `LDR_METRICS_BIND`: where `GET /metrics` is served; `None`: nowhere (the default).
    pub metrics_bind: Option<SocketAddr>,
    pub log_format: LogFormat,
    /// `LDR_INSECURE_COOKIES=true`: the pages' cookies without `Secure`, for plain-http local use.
    pub insecure_cookies: bool,
    /// `LDR_WEBHOOKS_ALLOW_PRIVATE=true`: webhooks may go to `http` URLs and to private,
    /// loopback and link-local addresses (tests, intranets).
    pub webhooks_allow_private: bool,
    /// `LDR_WEBHOOK_KEY`: the key material the webhook secrets are sealed with at rest; `None`:
    /// the JWT secret's. Never logged.
    pub webhook_key: Option<String>,
    /// `LDR_WEBHOOK_TIMEOUT_SECONDS`: the bound on one delivery attempt (connect to answer).
    pub webhook_timeout_seconds: u64,
    /// `LDR_WEBHOOK_RETRY_BASE_SECONDS`: the first retry's delay (doubling, with jitter).
    pub webhook_retry_base_seconds: u64,
    /// `LDR_WEBHOOK_DISABLE_AFTER_SECONDS`: how long an endpoint may keep failing before it is
    /// disabled (3 days).
    pub webhook_disable_after_seconds: u64,
    /// `LDR_OIDC_*`: people sign in with their identity provider (OpenID Connect).
    pub oidc: Option<OidcConfig>,
    /// `LDR_PASSWORD_LOGIN=false`: no sign-in with an e-mail and password, on the pages or
    /// through `POST /auth/login` (API keys still work).
    pub password_login: bool,
}

/// The OpenID provider people sign in with (`LDR_OIDC_*`). `Debug` leaves the secret out.
#[derive(Clone)]
pub struct OidcConfig {
    /// `LDR_OIDC_ISSUER`: the provider's issuer URL, as its discovery document and ID tokens
    /// give it (`/.well-known/openid-configuration` is read below it).
    pub issuer: String,
    /// `LDR_OIDC_CLIENT_ID`: the service's client id at the provider (the ID tokens' audience).
    pub client_id: String,
    /// `LDR_OIDC_CLIENT_SECRET`: the client secret, when the provider gave one.
    client_secret: Option<String>,
    /// `LDR_OIDC_LABEL`: the sign-in button's words, e.g. "Sign in with NHSmail".
    pub label: String,
    /// Where the provider sends the browser back: `LDR_PUBLIC_URL` + [`OIDC_CALLBACK`].
    pub redirect_url: String,
}

/// The path the provider redirects to after sign-in (register `LDR_PUBLIC_URL` + this).
pub const OIDC_CALLBACK: &str = "/sign-in/oidc/callback";

impl OidcConfig {
    pub fn client_secret(&self) -> Option<&str> {
        self.client_secret.as_deref()
    }
}

impl std::fmt::Debug for OidcConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "OpenID provider {} (client {}, secret {}, label {:?})",
            self.issuer,
            self.client_id,
            if self.client_secret.is_some() {
                "(set)"
            } else {
                "(none)"
            },
            self.label
        )
    }
}

/// `LDR_OIDC_*` (none set: no OpenID Connect sign-in).
fn oidc_config(
    get: &impl Fn(&str) -> Option<String>,
    public_url: Option<&str>,
) -> Result<Option<OidcConfig>, String> {
    let Some(issuer) = get("LDR_OIDC_ISSUER") else {
        for k in [
            "LDR_OIDC_CLIENT_ID",
            "LDR_OIDC_CLIENT_SECRET",
            "LDR_OIDC_LABEL",
        ] {
            if get(k).is_some() {
                return Err(format!(
                    "{k} is set but LDR_OIDC_ISSUER is not: set the provider's issuer URL to let \
                     people sign in with it, or unset {k}"
                ));
            }
        }
        return Ok(None);
    };
    let issuer = issuer.trim().to_string();
    let u = url::Url::parse(&issuer)
        .map_err(|e| format!("LDR_OIDC_ISSUER: {issuer:?} is not a URL ({e})"))?;
    if u.scheme() != "https" && !(u.scheme() == "http" && loopback(&u)) {
        return Err(
            "LDR_OIDC_ISSUER: must be https:// (http:// only for a loopback host, in tests)".into(),
        );
    }
    let client_id = get("LDR_OIDC_CLIENT_ID").ok_or(
        "LDR_OIDC_CLIENT_ID: required with LDR_OIDC_ISSUER (the service's client id, from its \
         registration at the provider)",
    )?;
    let Some(public_url) = public_url else {
        return Err(format!(
            "LDR_OIDC_ISSUER needs LDR_PUBLIC_URL: the provider sends people back to \
             LDR_PUBLIC_URL{OIDC_CALLBACK}, which must be registered with it as a redirect URI"
        ));
    };
    Ok(Some(OidcConfig {
        issuer,
        client_id: client_id.trim().to_string(),
        client_secret: get("LDR_OIDC_CLIENT_SECRET").map(|s| s.trim().to_string()),
        label: get("LDR_OIDC_LABEL")
            .map(|s| s.trim().to_string())
            .unwrap_or_else(|| "Sign in with your NHS account".into()),
        redirect_url: format!("{public_url}{OIDC_CALLBACK}"),
    }))
}

/// The default of `LDR_NOTIFY_BASE_URL`.
pub const NOTIFY_BASE_URL: &str = "https://api.notifications.service.gov.uk";

/// GOV.UK Notify's settings. `Debug` leaves the secret out.
#[derive(Clone)]
pub struct NotifyConfig {
    /// The name given to the key in Notify (may contain dashes).
    pub key_name: String,
    /// The service id (a UUID), as written in the key: the `iss` of each request's token.
    pub service_id: String,
    /// The key's secret (a UUID), as written in the key: signs each request's token.
    secret: String,
    /// The API's base URL, without a trailing slash.
    pub base_url: String,
    /// The e-mail template whose subject is `((subject))` and body `((body))`.
    pub template_id: uuid::Uuid,
}

impl NotifyConfig {
    pub fn secret(&self) -> &str {
        &self.secret
    }

    /// Splits `{key_name}-{service_id}-{secret}` from the end (the name may contain dashes).
    /// The error never repeats the key.
    pub fn parse_key(key: &str) -> Result<(String, String, String), String> {
        let bad = || {
            "LDR_NOTIFY_API_KEY: not a GOV.UK Notify API key (expected \
             {key_name}-{service_id}-{secret}, the last two being UUIDs); copy the whole key \
             from Notify's API integration page"
                .to_string()
        };
        let key = key.trim();
        if !key.is_ascii() || key.len() < 73 {
            return Err(bad());
        }
        let uuid = |s: &str| s.len() == 36 && uuid::Uuid::try_parse(s).is_ok();
        let (rest, secret) = key.split_at(key.len() - 36);
        let Some(rest) = rest.strip_suffix('-') else {
            return Err(bad());
        };
        let (name, service) = rest.split_at(rest.len() - 36);
        let name = match name {
            "" => "",
            n => n
                .strip_suffix('-')
                .filter(|n| !n.is_empty())
                .ok_or_else(bad)?,
        };
        if !uuid(secret) || !uuid(service) {
            return Err(bad());
        }
        Ok((name.to_string(), service.to_string(), secret.to_string()))
    }
}

impl std::fmt::Debug for NotifyConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "GOV.UK Notify at {} (service {}, key {:?}, template {})",
            self.base_url, self.service_id, self.key_name, self.template_id
        )
    }
}

/// Whether `u` names this machine (an `http://` Notify base URL is allowed only then: tests).
fn loopback(u: &url::Url) -> bool {
    match u.host() {
        Some(url::Host::Ipv4(a)) => a.is_loopback(),
        Some(url::Host::Ipv6(a)) => a.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// A base URL: `http(s)://host[:port][/path]` with no user, query or fragment; returned
/// without its trailing slash.
fn base_url(name: &str, v: &str) -> Result<url::Url, String> {
    let u = url::Url::parse(v.trim()).map_err(|e| format!("{name}: not a URL ({e})"))?;
    if !matches!(u.scheme(), "http" | "https") || u.host().is_none() {
        return Err(format!(
            "{name}: {v:?} is not an http:// or https:// URL with a host"
        ));
    }
    if !u.username().is_empty()
        || u.password().is_some()
        || u.query().is_some()
        || u.fragment().is_some()
    {
        return Err(format!(
            "{name}: must be a base URL, without user, query or fragment"
        ));
    }
    Ok(u)
}

fn notify_config(get: &impl Fn(&str) -> Option<String>) -> Result<Option<NotifyConfig>, String> {
    let Some(key) = get("LDR_NOTIFY_API_KEY") else {
        for k in ["LDR_NOTIFY_BASE_URL", "LDR_NOTIFY_TEMPLATE_ID"] {
            if get(k).is_some() {
                return Err(format!(
                    "{k} is set but LDR_NOTIFY_API_KEY is not: set the key to send through GOV.UK \
                     Notify, or unset {k}"
                ));
            }
        }
        return Ok(None);
    };
    let (key_name, service_id, secret) = NotifyConfig::parse_key(&key)?;
    let base = match get("LDR_NOTIFY_BASE_URL") {
        Some(v) => base_url("LDR_NOTIFY_BASE_URL", &v)?,
        None => url::Url::parse(NOTIFY_BASE_URL).map_err(|e| e.to_string())?,
    };
    if base.scheme() != "https" && !loopback(&base) {
        return Err(
            "LDR_NOTIFY_BASE_URL: must be https:// (http:// only for a loopback host, in tests)"
                .into(),
        );
    }
    let template_id = match get("LDR_NOTIFY_TEMPLATE_ID") {
        Some(v) => uuid::Uuid::try_parse(v.trim()).map_err(|_| {
            format!("LDR_NOTIFY_TEMPLATE_ID: {v:?} is not a template id (a UUID, from the template's page in Notify)")
        })?,
        None => {
            return Err("LDR_NOTIFY_TEMPLATE_ID: required with LDR_NOTIFY_API_KEY (the id of the \
                        e-mail template whose subject is ((subject)) and body ((body)))"
                .into())
        }
    };
    Ok(Some(NotifyConfig {
        key_name,
        service_id,
        secret,
        base_url: base.as_str().trim_end_matches('/').to_string(),
        template_id,
    }))
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

/// The log filter: `LDR_LOG` (tracing's `EnvFilter` syntax), default `info`. Unless it names
/// `actix_http` itself, the HTTP parser's own lines are left out: it logs every malformed
/// request at ERROR, a flood any anonymous client could cause (the client gets a 400).
pub fn log_filter(ldr_log: Option<&str>) -> tracing_subscriber::EnvFilter {
    let spec = ldr_log
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or("info");
    let filter = tracing_subscriber::EnvFilter::try_new(spec)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    if spec.contains("actix_http") {
        return filter;
    }
    match "actix_http::h1::dispatcher=off".parse() {
        Ok(directive) => filter.add_directive(directive),
        Err(_) => filter,
    }
}

/// `LDR_BIND`'s value (`None` or blank: [`DEFAULT_BIND`]) as the address to listen on. Shared
/// by the service and by `ldr healthcheck`, which reads this one variable and nothing else.
pub fn parse_bind(v: Option<&str>) -> Result<SocketAddr, String> {
    let v = v
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .unwrap_or(DEFAULT_BIND);
    v.parse()
        .map_err(|_| format!("LDR_BIND: {v:?} is not an address:port such as 127.0.0.1:8080"))
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
        // Without LDR_DATABASE_URL, the SQLite file lives in the data folder.
        let database =
            DbTarget::parse(&get("LDR_DATABASE_URL").unwrap_or_else(|| {
                format!("sqlite://{}", data_dir.join("ldr.sqlite3").display())
            }))?;
        let bind = parse_bind(get("LDR_BIND").as_deref())?;
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
            None => SEND_TIMEOUT_SECONDS,
        };
        let mail_lease_seconds = match get("LDR_MAIL_LEASE_SECONDS") {
            Some(v) => parse_num("LDR_MAIL_LEASE_SECONDS", &v, 1, 86_400)?,
            None => LEASE_SECONDS as u64,
        };
        // A send starts only while the lease has the send's bound and the margin for recording
        // it left (`notify::worker::lease_allows_send`); keep at least that again to start in.
        let least = mail_send_timeout_seconds + 2 * RECORD_MARGIN_SECONDS;
        if mail_lease_seconds < least {
            return Err(format!(
                "LDR_MAIL_LEASE_SECONDS: {mail_lease_seconds} is too short; it must be at least \
                 LDR_MAIL_SEND_TIMEOUT_SECONDS ({mail_send_timeout_seconds}) + {}",
                2 * RECORD_MARGIN_SECONDS
            ));
        }
        let sweep_interval_seconds = match get("LDR_SWEEP_INTERVAL_SECONDS") {
            Some(v) => parse_num("LDR_SWEEP_INTERVAL_SECONDS", &v, 1, 86_400)?,
            None => 60,
        };
        // The CPUs this process may use (a container's limit included).
        let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
        let db_pool_size = match get("LDR_DB_POOL_SIZE") {
            Some(v) => parse_num("LDR_DB_POOL_SIZE", &v, 1, 256)?,
            // Two per CPU, at least 4. Each connection busy is a thread of ours and a backend
            // of PostgreSQL's wanting a core; more of them than the cores can serve only makes
            // requests wait their turn in the kernel, in no order, instead of in the pool: on
            // 2 cores shared with PostgreSQL, 8 (the earlier default) gave a `GET` p99 of 14 ms
            // where 4 gave 8.4 ms, for the same requests per second (docs/performance.md).
            None => (2 * cpus).max(4) as u32,
        };
        let workers = match get("LDR_WORKERS") {
            Some(v) => parse_num("LDR_WORKERS", &v, 1, 256)?,
            // One per CPU: the database work runs on actix's blocking pool, so a worker only
            // reads requests, routes them and writes answers.
            None => cpus,
        };
        let trusted_proxies = match get("LDR_TRUSTED_PROXIES") {
            Some(v) => v
                .split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(|p| {
                    p.parse::<ipnet::IpNet>()
                        .or_else(|_| p.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                        .map_err(|_| {
                            format!(
                                "LDR_TRUSTED_PROXIES: {p:?} is not an IP address or a network \
                                 such as 10.0.0.0/8"
                            )
                        })
                })
                .collect::<Result<Vec<_>, _>>()?,
            None => Vec::new(),
        };
        let defaults = Hourly::default();
        let hourly = |name: &str, default: u32| match get(name) {
            Some(v) => parse_num(name, &v, 1, 1_000_000),
            None => Ok(default),
        };
        let hourly_limits = Hourly {
            filings: hourly("LDR_FILINGS_PER_HOUR", defaults.filings)?,
            uploads: hourly("LDR_UPLOADS_PER_HOUR", defaults.uploads)?,
            notices: hourly("LDR_NOTICE_EVENTS_PER_HOUR", defaults.notices)?,
        };
        let notify = notify_config(&get)?;
        if notify.is_some() && smtp_url.is_some() {
            return Err(
                "LDR_NOTIFY_API_KEY and LDR_SMTP_URL are both set: notices go by one \
                        transport; unset LDR_SMTP_URL to send through GOV.UK Notify, or \
                        LDR_NOTIFY_API_KEY to send by SMTP"
                    .into(),
            );
        }
        let public_url = match get("LDR_PUBLIC_URL") {
            Some(v) => base_url("LDR_PUBLIC_URL", &v)?
                .as_str()
                .trim_end_matches('/')
                .to_string(),
            None => format!("http://{bind}"),
        };
        let upload_timeout_seconds = match get("LDR_UPLOAD_TIMEOUT_SECONDS") {
            Some(v) => parse_num("LDR_UPLOAD_TIMEOUT_SECONDS", &v, 1, 3_600)?,
            None => 120,
        };
        let upload_concurrency = match get("LDR_UPLOAD_CONCURRENCY") {
            Some(v) => parse_num("LDR_UPLOAD_CONCURRENCY", &v, 1, 256)?,
            None => 4,
        };
        let access_log_days = match get("LDR_ACCESS_LOG_DAYS") {
            Some(v) => parse_num("LDR_ACCESS_LOG_DAYS", &v, 1, 36_500)?,
            None => 2_555,
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
        // Read again by `logging::init` before the rest; checked here so that a filter that
        // does not parse stops the start, as every other bad value does.
        if let Some(v) = get("LDR_LOG") {
            tracing_subscriber::EnvFilter::try_new(v.trim()).map_err(|e| {
                format!("LDR_LOG: {v:?} is not a log filter such as info or ldr=debug,info: {e}")
            })?;
        }
        let insecure_cookies = match get("LDR_INSECURE_COOKIES").as_deref() {
            None | Some("false") => false,
            Some("true") => true,
            Some(v) => {
                return Err(format!(
                    "LDR_INSECURE_COOKIES must be true or false, not {v:?}"
                ))
            }
        };
        let webhooks_allow_private = match get("LDR_WEBHOOKS_ALLOW_PRIVATE").as_deref() {
            None | Some("false") => false,
            Some("true") => true,
            Some(v) => {
                return Err(format!(
                    "LDR_WEBHOOKS_ALLOW_PRIVATE must be true or false, not {v:?}"
                ))
            }
        };
        let webhook_key = match get("LDR_WEBHOOK_KEY") {
            Some(k) if k.trim().len() < 32 => {
                return Err("LDR_WEBHOOK_KEY: must be at least 32 characters".into())
            }
            Some(k) => Some(k.trim().to_string()),
            None => None,
        };
        let webhook_timeout_seconds = match get("LDR_WEBHOOK_TIMEOUT_SECONDS") {
            Some(v) => parse_num("LDR_WEBHOOK_TIMEOUT_SECONDS", &v, 1, 120)?,
            None => 10,
        };
        let webhook_retry_base_seconds = match get("LDR_WEBHOOK_RETRY_BASE_SECONDS") {
            Some(v) => parse_num("LDR_WEBHOOK_RETRY_BASE_SECONDS", &v, 1, 3_600)?,
            None => 10,
        };
        let webhook_disable_after_seconds = match get("LDR_WEBHOOK_DISABLE_AFTER_SECONDS") {
            Some(v) => parse_num("LDR_WEBHOOK_DISABLE_AFTER_SECONDS", &v, 1, 30 * 86_400)?,
            None => 3 * 86_400,
        };
        let oidc = oidc_config(
            &get,
            get("LDR_PUBLIC_URL")
                .is_some()
                .then_some(public_url.as_str()),
        )?;
        let password_login = match get("LDR_PASSWORD_LOGIN").as_deref() {
            None | Some("true") => true,
            Some("false") => false,
            Some(v) => {
                return Err(format!(
                    "LDR_PASSWORD_LOGIN must be true or false, not {v:?}"
                ))
            }
        };
        if !password_login && oidc.is_none() {
            return Err(
                "LDR_PASSWORD_LOGIN=false needs LDR_OIDC_ISSUER (and LDR_OIDC_CLIENT_ID): \
                        without password sign-in, people sign in with the OpenID provider, and \
                        without one nobody could"
                    .into(),
            );
        }
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
            trusted_proxies,
            hourly_limits,
            notify,
            public_url,
            upload_timeout_seconds,
            upload_concurrency,
            access_log_days,
            metrics_bind,
            log_format,
            insecure_cookies,
            webhooks_allow_private,
            webhook_key,
            webhook_timeout_seconds,
            webhook_retry_base_seconds,
            webhook_disable_after_seconds,
            oidc,
            password_login,
        })
    }

    /// What may be logged: no secret, no password, SMTP and database passwords masked.
    pub fn summary(&self) -> String {
        let db = match &self.database {
            DbTarget::Postgres(u) => crate::db::redact_url(u),
            DbTarget::Sqlite(p) => format!("sqlite://{p}"),
        };
        let smtp = match (&self.notify, &self.smtp_url) {
            (Some(n), _) => format!("{n:?}"),
            (None, Some(u)) => crate::db::redact_url(u.as_str()),
            (None, None) => format!("files in {}", self.mail_dir.display()),
        };
        format!(
            "database={db} bind={} public_url={} mail={smtp} mail_from={} bank_holidays_file={} \
             today={} jwt_secret={} bootstrap_admin={} workers={} pool={} metrics={} log_format={} \
             webhooks_allow_private={} webhook_key={} oidc={} password_login={}",
            self.bind,
            self.public_url,
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
            self.webhooks_allow_private,
            if self.webhook_key.is_some() {
                "(set)"
            } else {
                "(the JWT secret's)"
            },
            self.oidc
                .as_ref()
                .map(|o| format!("{o:?}"))
                .unwrap_or_else(|| "(off)".into()),
            self.password_login,
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
        assert_eq!((c.upload_timeout_seconds, c.upload_concurrency), (120, 4));
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
            ("LDR_UPLOAD_TIMEOUT_SECONDS", "0"),
            ("LDR_UPLOAD_CONCURRENCY", "0"),
            ("LDR_BOOTSTRAP_ADMIN_EMAIL", "admin@example.org"),
            ("LDR_METRICS_BIND", "9090"),
            ("LDR_METRICS_BIND", "127.0.0.1:8080"),
            ("LDR_LOG_FORMAT", "xml"),
            ("LDR_LOG", "ldr=loudest"),
        ] {
            let e = cfg(&[(k, v)]).unwrap_err();
            assert!(e.contains(k), "{k}={v} gave {e}");
        }
    }

    #[test]
    fn openid_connect_and_password_sign_in() {
        let ok = [
            ("LDR_OIDC_ISSUER", "https://login.example.test/tenant/v2.0"),
            ("LDR_OIDC_CLIENT_ID", "client-1"),
            ("LDR_OIDC_CLIENT_SECRET", "very-secret-value"),
            ("LDR_PUBLIC_URL", "https://ldr.example.nhs.uk/"),
            ("LDR_PASSWORD_LOGIN", "false"),
        ];
        let c = cfg(&ok).unwrap();
        let o = c.oidc.as_ref().unwrap();
        assert_eq!(
            o.redirect_url,
            "https://ldr.example.nhs.uk/sign-in/oidc/callback"
        );
        assert_eq!(o.label, "Sign in with your NHS account");
        assert_eq!(o.client_secret(), Some("very-secret-value"));
        assert!(!c.password_login);
        assert!(
            !c.summary().contains("very-secret-value"),
            "{}",
            c.summary()
        );
        assert!(cfg(&[]).unwrap().password_login && cfg(&[]).unwrap().oidc.is_none());
        let without = |k: &str| -> Vec<(&str, &str)> {
            ok.iter().copied().filter(|(n, _)| *n != k).collect()
        };
        for (pairs, named) in [
            (without("LDR_OIDC_CLIENT_ID"), "LDR_OIDC_CLIENT_ID"),
            (without("LDR_PUBLIC_URL"), "LDR_PUBLIC_URL"),
            (without("LDR_OIDC_ISSUER"), "LDR_OIDC_ISSUER"),
            (
                vec![("LDR_OIDC_LABEL", "Sign in with NHSmail")],
                "LDR_OIDC_ISSUER",
            ),
            (vec![("LDR_PASSWORD_LOGIN", "no")], "LDR_PASSWORD_LOGIN"),
        ] {
            let e = cfg(&pairs).unwrap_err();
            assert!(e.contains(named), "{pairs:?}: {e}");
        }
        let mut plain = without("LDR_OIDC_ISSUER");
        plain.push(("LDR_OIDC_ISSUER", "http://login.example.test"));
        assert!(cfg(&plain).unwrap_err().contains("https://"));
        let mut local = without("LDR_OIDC_ISSUER");
        local.push(("LDR_OIDC_ISSUER", "http://127.0.0.1:9999"));
        assert!(cfg(&local).is_ok());
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

    const SERVICE: &str = "26785a09-ab16-4eb0-8407-a37497a57506";
    const SECRET: &str = "3d844edf-8d35-48ac-975b-e847b4f122b0";
    const TEMPLATE: &str = "f33517ff-2a88-4f6e-b855-c550268ce08a";

    fn key(name: &str) -> String {
        format!("{name}-{SERVICE}-{SECRET}")
    }

    fn notify(extra: &[(&str, &str)]) -> Result<Config, String> {
        let k = key("my-live-key");
        let mut pairs = vec![
            ("LDR_NOTIFY_API_KEY", k.as_str()),
            ("LDR_NOTIFY_TEMPLATE_ID", TEMPLATE),
        ];
        pairs.extend_from_slice(extra);
        cfg(&pairs)
    }

    #[test]
    fn a_notify_key_is_split_from_its_end() {
        let c = notify(&[]).unwrap();
        let n = c.notify.expect("Notify configured");
        assert_eq!(n.key_name, "my-live-key");
        assert_eq!(n.service_id, SERVICE);
        assert_eq!(n.secret(), SECRET);
        assert_eq!(n.base_url, NOTIFY_BASE_URL);
        assert_eq!(n.template_id.to_string(), TEMPLATE);
        assert_eq!(
            NotifyConfig::parse_key(&format!("  {}\n", key("k"))).unwrap(),
            ("k".to_string(), SERVICE.to_string(), SECRET.to_string())
        );
        // Without a name (as Notify's own clients accept it).
        assert_eq!(
            NotifyConfig::parse_key(&format!("{SERVICE}-{SECRET}"))
                .unwrap()
                .0,
            ""
        );
    }

    #[test]
    fn a_malformed_notify_key_is_refused_without_being_echoed() {
        let secretish = "f00dfeed-8d35-48ac-975b-e847b4f122b0";
        for k in [
            "short".to_string(),
            format!("name-{SERVICE}"),
            format!("name-{SERVICE}{secretish}"),
            format!("name_{SERVICE}-{secretish}"),
            format!("-{SERVICE}-{secretish}"),
            format!("name-{SERVICE}-{}", &secretish[..35]),
            format!("name-{}-{secretish}", SERVICE.replace('-', "x")),
            format!("name-{SERVICE}-{}", secretish.replace('e', "z")),
            format!("näme-{SERVICE}-{secretish}"),
            format!("name-{SERVICE}-{secretish}x"),
        ] {
            let e = cfg(&[
                ("LDR_NOTIFY_API_KEY", k.as_str()),
                ("LDR_NOTIFY_TEMPLATE_ID", TEMPLATE),
            ])
            .unwrap_err();
            assert!(e.starts_with("LDR_NOTIFY_API_KEY"), "{k}: {e}");
            for part in [k.as_str(), secretish, &secretish[..35], SERVICE] {
                assert!(!e.contains(part), "{k}: the error repeats the key: {e}");
            }
        }
    }

    #[test]
    fn notify_settings_are_checked_at_start() {
        let k = key("k");
        // The template is required with the key.
        let e = cfg(&[("LDR_NOTIFY_API_KEY", &k)]).unwrap_err();
        assert!(e.starts_with("LDR_NOTIFY_TEMPLATE_ID"), "{e}");
        let e = cfg(&[
            ("LDR_NOTIFY_API_KEY", &k),
            ("LDR_NOTIFY_TEMPLATE_ID", "nope"),
        ]);
        assert!(e.unwrap_err().starts_with("LDR_NOTIFY_TEMPLATE_ID"));
        // Notify's other variables without the key: a forgotten key, not files.
        for v in ["LDR_NOTIFY_TEMPLATE_ID", "LDR_NOTIFY_BASE_URL"] {
            let e = cfg(&[(v, "https://x.example")]).unwrap_err();
            assert!(e.starts_with(v) && e.contains("LDR_NOTIFY_API_KEY"), "{e}");
        }
        // Both transports: refused, naming both.
        let e = notify(&[("LDR_SMTP_URL", "smtp://mail.example:587")]).unwrap_err();
        assert!(
            e.contains("LDR_NOTIFY_API_KEY") && e.contains("LDR_SMTP_URL"),
            "{e}"
        );
        // http:// only for this machine.
        for ok in [
            "http://127.0.0.1:9999",
            "http://localhost:1/",
            "http://[::1]:2",
            "https://notify.example/api/",
        ] {
            let c = notify(&[("LDR_NOTIFY_BASE_URL", ok)]).unwrap();
            assert!(!c.notify.unwrap().base_url.ends_with('/'), "{ok}");
        }
        for bad in [
            "http://notify.example",
            "ftp://127.0.0.1",
            "https://u:p@notify.example",
            "https://notify.example/?q=1",
            "x",
        ] {
            let e = notify(&[("LDR_NOTIFY_BASE_URL", bad)]).unwrap_err();
            assert!(e.starts_with("LDR_NOTIFY_BASE_URL"), "{bad}: {e}");
        }
    }

    #[test]
    fn the_public_url_defaults_to_the_bind_address() {
        let c = cfg(&[("LDR_BIND", "0.0.0.0:9000")]).unwrap();
        assert_eq!(c.public_url, "http://0.0.0.0:9000");
        let c = cfg(&[("LDR_PUBLIC_URL", "https://ldr.example.nhs.uk/")]).unwrap();
        assert_eq!(c.public_url, "https://ldr.example.nhs.uk");
        let e = cfg(&[("LDR_PUBLIC_URL", "ldr.example.nhs.uk")]).unwrap_err();
        assert!(e.starts_with("LDR_PUBLIC_URL"), "{e}");
    }

    #[test]
    fn summary_hides_the_notify_secret() {
        let c = notify(&[]).unwrap();
        let s = c.summary();
        assert!(s.contains("GOV.UK Notify") && s.contains(SERVICE), "{s}");
        assert!(!s.contains(SECRET) && !s.contains(&SECRET[..8]), "{s}");
        let d = format!("{:?}", c.notify.unwrap());
        assert!(!d.contains(SECRET), "{d}");
    }
}
