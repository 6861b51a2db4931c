//! One diesel code base over PostgreSQL and SQLite.
//!
//! The backend is chosen from the URL scheme by our own `r2d2::ManageConnection`: diesel's
//! derived `MultiConnection::establish` tries PostgreSQL and then silently falls back to
//! SQLite (a `host=… dbname=…` string would create an SQLite file of that name), which must
//! never happen here.

pub mod access_log;
pub mod directory;
pub mod disputes;
pub mod ods;
pub mod outbox;
pub mod schema;
pub mod stats;
pub mod transition;
pub mod webhooks;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{self, Pool, PooledConnection, R2D2Connection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use std::time::{Duration, Instant};

#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Pg(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

pub const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");
pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

/// Where the database is, parsed from `LDR_DATABASE_URL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbTarget {
    Postgres(String),
    /// Path of the SQLite file.
    Sqlite(String),
}

impl DbTarget {
    /// `postgres://…` / `postgresql://…` → PostgreSQL; `sqlite://PATH` or `sqlite:PATH` → SQLite.
    /// Anything else is refused with a message naming the scheme.
    pub fn parse(url: &str) -> Result<DbTarget, String> {
        let url = url.trim();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            // Without a connect timeout libpq waits for ever on an unreachable host.
            let mut url = url.to_string();
            if !url.contains("connect_timeout=") {
                url.push(if url.contains('?') { '&' } else { '?' });
                url.push_str("connect_timeout=10");
            }
            return Ok(DbTarget::Postgres(url));
        }
        if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            if path.is_empty() {
                return Err("LDR_DATABASE_URL: an sqlite:// URL needs a file path".into());
            }
            return Ok(DbTarget::Sqlite(path.to_string()));
        }
        let scheme = url.split_once(':').map(|(s, _)| s).unwrap_or("");
        Err(format!(
            "LDR_DATABASE_URL: unsupported database URL scheme {:?}: use postgres://… or sqlite://PATH",
            scheme
        ))
    }

    pub fn backend(&self) -> Backend {
        match self {
            DbTarget::Postgres(_) => Backend::Postgres,
            DbTarget::Sqlite(_) => Backend::Sqlite,
        }
    }
}

/// A connection of the pool, with what the pool needs to know of it. It dereferences to the
/// [`DbConn`] that queries run on.
pub struct Conn {
    db: DbConn,
    /// When it last answered. One idle for longer than [`IDLE_CHECK`] is pinged before it is
    /// handed out (see [`checkout`]); one in steady use is not.
    last_used: Instant,
    /// Set when a statement failed because the connection is gone: the pool then drops it.
    lost: bool,
}

impl std::ops::Deref for Conn {
    type Target = DbConn;
    fn deref(&self) -> &DbConn {
        &self.db
    }
}

impl std::ops::DerefMut for Conn {
    fn deref_mut(&mut self) -> &mut DbConn {
        &mut self.db
    }
}

impl Conn {
    /// Records the outcome of a unit of work on this connection: it answered now, or it was
    /// lost (`lost`), in which case the pool closes it instead of handing it out again.
    pub fn used(&mut self, lost: bool) {
        self.last_used = Instant::now();
        self.lost |= lost;
    }
}

/// A connection idle for longer than this is checked with `SELECT 1` before use, so that one
/// the server closed meanwhile (a restart, an idle timeout) is replaced instead of failing a
/// request. Connections in steady use are not checked: a round trip per request is what r2d2's
/// default `test_on_check_out` cost.
pub const IDLE_CHECK: Duration = Duration::from_secs(1);

/// Opens connections of the backend named by the URL, and nothing else.
#[derive(Debug, Clone)]
pub struct Manager {
    target: DbTarget,
}

impl Manager {
    fn open(&self) -> Result<DbConn, r2d2::Error> {
        match &self.target {
            DbTarget::Postgres(url) => {
                let mut c =
                    diesel::PgConnection::establish(url).map_err(r2d2::Error::ConnectionError)?;
                // A statement that runs away must not hold a connection for ever.
                c.batch_execute("SET statement_timeout = '30s'; SET lock_timeout = '10s'")
                    .map_err(r2d2::Error::QueryError)?;
                Ok(DbConn::Pg(c))
            }
            DbTarget::Sqlite(path) => {
                let mut c = diesel::SqliteConnection::establish(path)
                    .map_err(r2d2::Error::ConnectionError)?;
                // WAL for concurrent readers; synchronous=FULL so an acknowledged commit survives
                // a crash or power loss; foreign keys enforced; writers wait instead of failing.
                c.batch_execute(
                    "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;",
                )
                .map_err(r2d2::Error::QueryError)?;
                Ok(DbConn::Sqlite(c))
            }
        }
    }
}

impl r2d2::ManageConnection for Manager {
    type Connection = Conn;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<Conn, r2d2::Error> {
        Ok(Conn {
            db: self.open()?,
            last_used: Instant::now(),
            lost: false,
        })
    }

    fn is_valid(&self, conn: &mut Conn) -> Result<(), r2d2::Error> {
        conn.db
            .batch_execute("SELECT 1")
            .map_err(r2d2::Error::QueryError)
    }

    /// Lost, or left inside a transaction or with a failed one (diesel's own check).
    fn has_broken(&self, conn: &mut Conn) -> bool {
        conn.lost
            || match &mut conn.db {
                DbConn::Pg(c) => c.is_broken(),
                DbConn::Sqlite(c) => c.is_broken(),
            }
    }
}

pub type DbPool = Pool<Manager>;
pub type PooledConn = PooledConnection<Manager>;

/// A connection from the pool that answers: one idle for longer than [`IDLE_CHECK`] is pinged
/// first, and a dead one is dropped and the next taken (the pool opens new ones as needed).
pub fn checkout(pool: &DbPool) -> Result<PooledConn, r2d2::PoolError> {
    for _ in 0..=pool.max_size() {
        let mut c = pool.get()?;
        if c.last_used.elapsed() < IDLE_CHECK {
            return Ok(c);
        }
        let alive = c.db.batch_execute("SELECT 1").is_ok();
        c.used(!alive);
        if alive {
            return Ok(c);
        }
        tracing::warn!("a pooled database connection was lost; opening another");
    }
    pool.get()
}

/// Builds the pool and checks the database answers; for SQLite the parent folder is created.
/// Errors name the cause (unreachable server, bad path) and never fall back to another backend.
pub fn connect(target: &DbTarget, max_size: u32) -> Result<DbPool, String> {
    if let DbTarget::Sqlite(path) = target {
        if let Some(parent) = std::path::Path::new(path).parent() {
            if !parent.as_os_str().is_empty() {
                std::fs::create_dir_all(parent).map_err(|e| {
                    format!(
                        "cannot create the SQLite directory {}: {e}",
                        parent.display()
                    )
                })?;
            }
        }
    }
    let manager = Manager {
        target: target.clone(),
    };
    // Try one connection first so that the real cause (DNS, refused, auth) is reported.
    manager.open().map_err(|e| match target {
        DbTarget::Postgres(url) => {
            format!("cannot connect to PostgreSQL at {}: {e}", redact_url(url))
        }
        DbTarget::Sqlite(path) => format!("cannot open the SQLite database {path}: {e}"),
    })?;
    let size = match target {
        DbTarget::Postgres(_) => max_size,
        DbTarget::Sqlite(_) => max_size.min(8),
    };
    Pool::builder()
        .max_size(size)
        .min_idle(Some(1))
        // `checkout` pings only connections that have been idle (see IDLE_CHECK).
        .test_on_check_out(false)
        .connection_timeout(Duration::from_secs(10))
        .build(manager)
        .map_err(|e| format!("cannot build the database pool: {e}"))
}

/// Runs the embedded migrations of the connection's backend.
pub fn migrate(conn: &mut DbConn) -> Result<(), String> {
    let res = match conn {
        DbConn::Pg(c) => c.run_pending_migrations(PG_MIGRATIONS).map(|_| ()),
        DbConn::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|_| ()),
    };
    res.map_err(|e| format!("database migration failed: {e}"))?;
    let filled = disputes::backfill_next_deadlines(conn)
        .map_err(|e| format!("filling disputes.next_deadline_on failed: {e}"))?;
    if filled > 0 {
        tracing::info!(
            disputes = filled,
            "next deadlines of the disputes stored before them filled"
        );
    }
    Ok(())
}

pub fn backend_of(conn: &DbConn) -> Backend {
    match conn {
        DbConn::Pg(_) => Backend::Postgres,
        DbConn::Sqlite(_) => Backend::Sqlite,
    }
}

/// A write transaction. On SQLite it is `BEGIN IMMEDIATE`, so the write lock is taken up
/// front and a concurrent writer waits (busy_timeout) instead of failing with
/// SQLITE_BUSY_SNAPSHOT half-way; on PostgreSQL an ordinary transaction.
pub fn write_tx<T, E>(
    conn: &mut DbConn,
    f: impl FnOnce(&mut DbConn) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    match conn {
        DbConn::Pg(_) => conn.transaction(f),
        DbConn::Sqlite(_) => {
            conn.batch_execute("BEGIN IMMEDIATE")?;
            match f(conn) {
                Ok(v) => match conn.batch_execute("COMMIT") {
                    Ok(()) => Ok(v),
                    Err(e) => {
                        let _ = conn.batch_execute("ROLLBACK");
                        Err(e.into())
                    }
                },
                Err(e) => {
                    let _ = conn.batch_execute("ROLLBACK");
                    Err(e)
                }
            }
        }
    }
}

/// One write statement on its own: on PostgreSQL without `BEGIN`/`COMMIT` (a statement is
/// atomic by itself), on SQLite inside [`write_tx`]'s `BEGIN IMMEDIATE` for the reason given
/// there.
pub fn write_one<T>(
    conn: &mut DbConn,
    f: impl FnOnce(&mut DbConn) -> QueryResult<T>,
) -> QueryResult<T> {
    match conn {
        DbConn::Pg(_) => f(conn),
        DbConn::Sqlite(_) => write_tx(conn, f),
    }
}

/// Whether a statement failed because the database connection is gone (a restart, a
/// terminated backend): the pool must drop that connection rather than hand it out again.
pub fn connection_lost(e: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind as K, Error as E};
    matches!(
        e,
        E::DatabaseError(K::ClosedConnection | K::UnableToSendCommand, _)
    )
}

/// Whether a statement failed because a wait the service bounds on purpose ran out:
/// PostgreSQL's `lock_timeout` or `statement_timeout` (set on every connection, see
/// [`connect`]), or SQLite's `busy_timeout` for the write lock. The statement was cancelled
/// and its transaction rolled back, so nothing was written: worth retrying. diesel passes
/// neither PostgreSQL's SQLSTATE (55P03, 57014) nor SQLite's result code (SQLITE_BUSY), only
/// the message; these are the servers' own texts (PostgreSQL with `lc_messages` English or C,
/// as the Debian package and the official image set it).
pub fn bounded_wait(e: &diesel::result::Error) -> bool {
    const WAITS: [&str; 4] = [
        "canceling statement due to lock timeout",
        "canceling statement due to statement timeout",
        "database is locked",
        "database table is locked",
    ];
    match e {
        diesel::result::Error::DatabaseError(_, info) => {
            WAITS.iter().any(|w| info.message().starts_with(w))
        }
        _ => false,
    }
}

/// An error of work done on a pooled connection that can say whether the connection was lost
/// ([`run`] then has the pool drop it).
pub trait Failure: From<r2d2::PoolError> {
    fn connection_lost(&self) -> bool;
}

/// Runs `f` on a connection of `pool` (checked out as [`checkout`] does) on the calling
/// thread, which must be one that may block (actix's blocking pool, via `web::block`), and
/// records the use: a connection lost on the way is dropped by the pool.
pub fn run<T, E: Failure>(
    pool: &DbPool,
    f: impl FnOnce(&mut DbConn) -> Result<T, E>,
) -> Result<T, E> {
    let mut conn = checkout(pool)?;
    let out = f(&mut conn);
    conn.used(out.as_ref().is_err_and(E::connection_lost));
    out
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db` for messages and logs.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            if u.password().is_some() {
                let _ = u.set_password(Some("***"));
            }
            u.to_string()
        }
        Err(_) => "<unparseable URL>".to_string(),
    }
}

/// Current UTC time truncated to microseconds (PostgreSQL's precision), so the same value
/// round-trips on both backends.
pub fn now() -> chrono::NaiveDateTime {
    use chrono::{SubsecRound, Utc};
    Utc::now().naive_utc().trunc_subsecs(6)
}

/// A stored time as the API and webhooks write it: RFC 3339 in UTC, to the microsecond.
pub fn timestamp(t: &chrono::NaiveDateTime) -> String {
    t.and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// Serialises a stored UTC time as [`timestamp`] writes it (`#[serde(serialize_with = …)]`).
pub fn rfc3339<S: serde::Serializer>(t: &chrono::NaiveDateTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&timestamp(t))
}

/// [`rfc3339`] for a time that may be missing (`null`).
pub fn rfc3339_opt<S: serde::Serializer>(
    t: &Option<chrono::NaiveDateTime>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => rfc3339(t, s),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `.cargo/config.toml` builds the bundled SQLite with the query planner stability
    /// guarantee; without it every statement with a bound `LIMIT` is re-prepared on each run.
    #[test]
    fn sqlite_plans_do_not_depend_on_bound_values() {
        let mut c = diesel::SqliteConnection::establish(":memory:").unwrap();
        let on: i64 = diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
            "(SELECT count(*) FROM pragma_compile_options WHERE compile_options = 'ENABLE_QPSG')",
        ))
        .get_result(&mut c)
        .unwrap();
        assert_eq!(
            on, 1,
            "SQLite was built without SQLITE_ENABLE_QPSG (.cargo/config.toml)"
        );
    }

    #[test]
    fn parses_schemes() {
        assert_eq!(
            DbTarget::parse("postgres://u@h/d").unwrap().backend(),
            Backend::Postgres
        );
        assert_eq!(
            DbTarget::parse("sqlite://data/x.db").unwrap(),
            DbTarget::Sqlite("data/x.db".into())
        );
        assert!(DbTarget::parse("mysql://x")
            .unwrap_err()
            .contains("\"mysql\""));
        assert!(DbTarget::parse("host=localhost dbname=x").is_err());
        assert!(DbTarget::parse("sqlite://").is_err());
    }

    #[test]
    fn redacts_password() {
        assert_eq!(
            redact_url("postgres://u:pw@h:5432/d"),
            "postgres://u:***@h:5432/d"
        );
    }
}
