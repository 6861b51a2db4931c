//! The HTTP API: thin actix handlers over the domain and the database.

pub mod auth;
pub mod calendar;
pub mod directory;
pub mod disputes;
pub mod error;
pub mod limits;
pub mod middleware;
pub mod openapi;
pub mod procedure;
pub mod referral_pack;
pub mod visibility;

use crate::clock::Clock;
use crate::config::Config;
use crate::db::{DbConn, DbPool};
use crate::domain::calendar::Calendar;
use actix_web::{web, HttpResponse};
use error::{ApiError, ApiResult};
use std::sync::Arc;

/// How much of a transition to try, and so where it may run ([`AppState::transition`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attempts {
    /// PostgreSQL: only the first unlocked attempt (on the HTTP worker's own thread).
    FirstOnly,
    /// Every attempt the transition needs, the last under the dispute's row lock.
    All,
}

/// Everything a handler needs; cheap to clone.
pub struct AppState {
    pub pool: DbPool,
    /// On PostgreSQL, the mail worker's and the deadline sweep's own connections (two), so that
    /// neither waits behind the requests for one of `pool`'s: under a burst of requests,
    /// notices still go out while it lasts rather than after. On SQLite, `pool` itself.
    pub background_pool: DbPool,
    pub cfg: Arc<Config>,
    pub clock: Clock,
    pub calendar: Calendar,
    pub templates: Arc<crate::notify::templates::Templates>,
    pub jwt: Arc<auth::JwtKeys>,
    pub limits: limits::Limits,
    /// An argon2 hash of a random password, verified against for unknown e-mails so that a
    /// refused login takes as long whether or not the account exists.
    pub dummy_hash: String,
    /// Woken when a transaction queued notices, so the mail worker sends them at once.
    pub mail_wakeup: Arc<tokio::sync::Notify>,
}

impl AppState {
    /// Runs blocking diesel work on actix's thread pool with a pooled connection.
    pub async fn db<T, F>(&self, f: F) -> ApiResult<T>
    where
        F: FnOnce(&mut DbConn) -> ApiResult<T> + Send + 'static,
        T: Send + 'static,
    {
        run_pooled(self.pool.clone(), f).await
    }

    /// As [`AppState::db`], with a connection of [`AppState::background_pool`]: for the mail
    /// worker and the deadline sweep.
    pub async fn background_db<T, F>(&self, f: F) -> ApiResult<T>
    where
        F: FnOnce(&mut DbConn) -> ApiResult<T> + Send + 'static,
        T: Send + 'static,
    {
        run_pooled(self.background_pool.clone(), f).await
    }

    /// For a short read (a prepared statement or two, which takes no lock and waits for none):
    /// run it on the HTTP worker's own thread when the pool has a connection at hand that
    /// answered within the last second. That saves the hand-off to the blocking pool and back,
    /// two of the six thread wake-ups a `GET` costs on PostgreSQL. When no connection is idle
    /// (or the idle one must be pinged first), it goes the way of [`AppState::db`], so the
    /// worker never waits for the pool. A panic is answered as on the blocking pool: 500.
    pub async fn read<T, F>(&self, f: F) -> ApiResult<T>
    where
        F: FnOnce(&mut DbConn) -> ApiResult<T> + Send + 'static,
        T: Send + 'static,
    {
        match crate::db::warm_connection(&self.pool) {
            Some(mut conn) => run_in_place(&mut conn, f),
            None => self.db(f).await,
        }
    }

    /// For a transition (`POST /disputes/{id}/events`, see `disputes::transition`). On
    /// PostgreSQL its first attempt, `f(c, Attempts::FirstOnly)`, runs on the HTTP worker's own
    /// thread when the pool has a warm connection at hand, as [`AppState::read`] does. That
    /// attempt reads without a lock and writes in one statement, which writes nothing when the
    /// dispute moved meanwhile (`Ok(None)`). It waits for nothing but the database's work, and
    /// for the dispute's row only while another write of the same dispute holds it (the
    /// service's own writes hold it for milliseconds; `lock_timeout` bounds any wait at 10 s).
    /// When the attempt missed, or no connection was at hand, or on SQLite (whose write lock is
    /// waited for in a sleep), the whole transition runs on the blocking pool as
    /// [`AppState::db`] does, with [`Attempts::All`], which always ends in `Some` or an error.
    /// Skipping the hand-off to the blocking pool and back saves two thread wake-ups per
    /// transition, and leaves the blocking pool to the mail worker (BENCHMARKS.md, twelfth
    /// round). A panic is answered as on the blocking pool: 500.
    pub async fn transition<T, F>(&self, f: F) -> ApiResult<T>
    where
        F: Fn(&mut DbConn, Attempts) -> ApiResult<Option<T>> + Send + 'static,
        T: Send + 'static,
    {
        let warm = crate::db::warm_connection(&self.pool).filter(|c| matches!(***c, DbConn::Pg(_)));
        if let Some(mut conn) = warm {
            // `None`: the dispute moved between the read and the write, and nothing was written.
            if let Some(done) = run_in_place(&mut conn, |c| f(c, Attempts::FirstOnly))? {
                return Ok(done);
            }
        }
        self.db(move |c| {
            f(c, Attempts::All)?.ok_or_else(|| {
                ApiError::Internal("a transition ended without writing or refusing".into())
            })
        })
        .await
    }

    /// [`AppState::transition`], or with `blocking`, always on the blocking pool with every
    /// attempt ([`Attempts::All`]): for a transition that does heavy work besides its reads and
    /// writes (the FHSU referral builds the referral pack for its notice), which must not hold
    /// an HTTP worker's thread.
    pub async fn transition_with<T, F>(&self, blocking: bool, f: F) -> ApiResult<T>
    where
        F: Fn(&mut DbConn, Attempts) -> ApiResult<Option<T>> + Send + 'static,
        T: Send + 'static,
    {
        if !blocking {
            return self.transition(f).await;
        }
        self.db(move |c| {
            f(c, Attempts::All)?.ok_or_else(|| {
                ApiError::Internal("a transition ended without writing or refusing".into())
            })
        })
        .await
    }

    /// Like [`AppState::db`] for a request that carries a [`auth::Bearer`]: on the same
    /// connection, first loads the caller fresh from the database (refused with 401 when the
    /// user no longer exists or is deactivated), then runs `f` as that caller.
    pub async fn db_as<T, F>(&self, who: auth::Bearer, f: F) -> ApiResult<T>
    where
        F: FnOnce(&mut DbConn, &auth::Caller) -> ApiResult<T> + Send + 'static,
        T: Send + 'static,
    {
        self.db(move |c| {
            let caller = auth::load_caller(c, &who.user_id)?.ok_or_else(auth::user_gone)?;
            f(c, &caller)
        })
        .await
    }

    pub async fn active_caller(&self, user_id: &str) -> ApiResult<Option<auth::Caller>> {
        let id = user_id.to_string();
        self.db(move |c| auth::load_caller(c, &id)).await
    }
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, description = "up", body = openapi::Status)))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "ok"}))
}

/// The database answers.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, description = "ready", body = openapi::Status), (status = 503, body = error::Problem)))]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let ok = state
        .db(|c| {
            use diesel::connection::SimpleConnection;
            c.batch_execute("SELECT 1").map_err(ApiError::from)
        })
        .await;
    match ok {
        Ok(()) => HttpResponse::Ok().json(serde_json::json!({"status": "ready"})),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            HttpResponse::ServiceUnavailable()
                .content_type("application/problem+json")
                .json(ApiError::Unavailable("database".into()).problem())
        }
    }
}

async fn not_found() -> ApiResult<HttpResponse> {
    Err(ApiError::NotFound)
}

/// Mounts every route. Used by the binary and by the tests.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(
        web::JsonConfig::default()
            .limit(middleware::JSON_LIMIT)
            .error_handler(error::json_error),
    )
    .app_data(web::QueryConfig::default().error_handler(error::query_error))
    .app_data(web::PathConfig::default().error_handler(error::path_error))
    .service(web::resource("/healthz").route(web::get().to(healthz)))
    .service(
        utoipa_swagger_ui::SwaggerUi::new("/docs/{_:.*}")
            .url("/api/v1/openapi.json", openapi::document()),
    )
    .service(web::resource("/readyz").route(web::get().to(readyz)))
    .service(
        web::scope("/api/v1")
            .service(web::resource("/auth/login").route(web::post().to(auth::login)))
            .configure(directory::routes)
            .configure(calendar::routes)
            .configure(disputes::routes)
            .configure(referral_pack::routes),
    )
    .default_service(web::to(not_found));
}

/// Runs `f` on actix's blocking pool with a connection of `pool` (checked as [`crate::db::checkout`]
/// does); a connection that was lost is dropped rather than returned to the pool.
async fn run_pooled<T, F>(pool: DbPool, f: F) -> ApiResult<T>
where
    F: FnOnce(&mut DbConn) -> ApiResult<T> + Send + 'static,
    T: Send + 'static,
{
    web::block(move || run_on(&mut crate::db::checkout(&pool)?, f)).await?
}

/// Runs `f` on `conn` on the calling thread (an HTTP worker's), as [`run_on`] does; a panic is
/// answered as on the blocking pool (500), and the connection, whatever it was in the middle
/// of, is dropped by the pool.
fn run_in_place<T>(
    conn: &mut crate::db::PooledConn,
    f: impl FnOnce(&mut DbConn) -> ApiResult<T>,
) -> ApiResult<T> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run_on(conn, f))) {
        Ok(out) => out,
        Err(_) => {
            conn.used(true);
            Err(ApiError::Internal("a request handler panicked".into()))
        }
    }
}

/// Runs `f` on `conn` and records the use: a connection lost on the way is marked so, and the
/// pool drops it instead of handing it out again.
fn run_on<T>(
    conn: &mut crate::db::PooledConn,
    f: impl FnOnce(&mut DbConn) -> ApiResult<T>,
) -> ApiResult<T> {
    let out = f(conn);
    conn.used(out.as_ref().is_err_and(ApiError::is_connection_lost));
    out
}
