//! Start-up: configuration → pool → migrations → bootstrap → HTTP server + background work.

use crate::api::{self, auth};
use crate::app::AppState;
use crate::clock::Clock;
use crate::config::Config;
use crate::db::{self, write_tx};
use crate::domain::calendar::Calendar;
use actix_web::{web, App, HttpServer};
use diesel::prelude::*;
use std::net::TcpListener;
use std::sync::Arc;

/// Connects, migrates, loads the calendar and the JWT secret, creates the bootstrap admin.
/// Every failure is a message naming its cause.
pub fn prepare(cfg: Config) -> Result<web::Data<AppState>, String> {
    let pool = db::connect(&cfg.database, cfg.db_pool_size)?;
    // On PostgreSQL the background work has connections of its own. On SQLite it shares the
    // requests' pool: writers queue for the one write lock there, and a connection of its own
    // waiting on `busy_timeout` (which wakes a long waiter last) delivered less under load, not
    // more (in git history: BENCHMARKS.md, fourth round).
    let background_pool = match &cfg.database {
        // Three: the mail worker, the webhook worker and the deadline sweep.
        db::DbTarget::Postgres(_) => db::connect(&cfg.database, 3)?,
        db::DbTarget::Sqlite(_) => pool.clone(),
    };
    {
        let mut conn = pool
            .get()
            .map_err(|e| format!("cannot get a database connection: {e}"))?;
        db::migrate(&mut conn)?;
    }
    let calendar = match &cfg.bank_holidays_file {
        Some(path) => {
            Calendar::from_govuk_file(path).map_err(|e| format!("LDR_BANK_HOLIDAYS_FILE: {e}"))?
        }
        None => Calendar::computed(),
    };
    let (secret, source) = auth::load_or_create_secret(&cfg)?;
    tracing::info!("JWT signing secret: {source}");
    if let Some(today) = cfg.today {
        tracing::warn!(%today, "LDR_TODAY pins today's date: for training and test environments only");
    }
    if cfg.metrics_bind.is_some() && crate::metrics::install().is_none() {
        return Err("LDR_METRICS_BIND: the metrics recorder could not be installed".into());
    }
    let webhook_box = crate::webhooks::sign::SecretBox::derive(match &cfg.webhook_key {
        Some(k) => k.as_bytes(),
        None => &secret,
    })?;
    let dummy_hash = auth::hash_password(&uuid::Uuid::new_v4().to_string())?;
    let state = AppState {
        pool,
        background_pool,
        clock: Clock::new(cfg.today),
        calendar,
        templates: Arc::new(crate::render::templates::Templates::embedded()),
        jwt: Arc::new(auth::JwtKeys::new(&secret, cfg.jwt_ttl_seconds)),
        limits: crate::service::limits::Limits::new(10, 120, cfg.hourly_limits),
        dummy_hash,
        mail_wakeup: Arc::new(tokio::sync::Notify::new()),
        uploads: Arc::new(tokio::sync::Semaphore::new(cfg.upload_concurrency)),
        webhook_box: Arc::new(webhook_box),
        access_log: Arc::new(crate::service::access_log::AccessLog::new()),
        oidc: cfg
            .oidc
            .clone()
            .map(|o| Arc::new(crate::service::oidc::Provider::new(o))),
        cfg: Arc::new(cfg),
    };
    bootstrap_admin(&state)?;
    warn_when_nobody_can_sign_in(&state)?;
    Ok(web::Data::new(state))
}

/// Creates the admin of `LDR_BOOTSTRAP_ADMIN_*` when no admin exists. Safe when two processes
/// start at once: the e-mail is unique, so the second insert fails and is ignored.
fn bootstrap_admin(state: &AppState) -> Result<(), String> {
    use crate::db::schema::{organisations, users};
    let Some((email, password)) = state.cfg.bootstrap_admin.clone() else {
        return Ok(());
    };
    let mut pooled = state.pool.get().map_err(|e| e.to_string())?;
    let conn: &mut db::DbConn = &mut pooled;
    let existing: i64 = users::table
        .filter(users::roles.like("%admin%"))
        .count()
        .get_result(conn)
        .map_err(|e| format!("bootstrap: {e}"))?;
    if existing > 0 {
        return Ok(());
    }
    let hash = auth::hash_password(&password)?;
    let service_email = state
        .cfg
        .mail_from
        .parse::<lettre::message::Mailbox>()
        .map(|m| m.email.to_string())
        .unwrap_or_else(|_| "ldr@localhost".into());
    let res = write_tx(conn, |c| {
        let org_id = uuid::Uuid::new_v4().to_string();
        diesel::insert_into(organisations::table)
            .values((
                organisations::id.eq(&org_id),
                organisations::name.eq("Local dispute resolution service"),
                organisations::kind.eq(api::directory::SERVICE_KIND),
                organisations::area.eq("national"),
                organisations::region.eq("national"),
                // The service's own sender address, not the admin's personal one.
                organisations::email.eq(&service_email),
                organisations::address.eq("-"),
                organisations::created_at.eq(db::now()),
            ))
            .execute(c)?;
        api::directory::insert_user(c, "Administrator", &email, &hash, &org_id, "admin", "")
    });
    match res {
        Ok(u) => {
            tracing::info!(user_id = %u.id, "bootstrap admin created");
            Ok(())
        }
        Err(api::error::ApiError::Conflict { .. }) => {
            tracing::info!("bootstrap admin already created by another process");
            Ok(())
        }
        Err(e) => Err(format!("bootstrap admin: {e}")),
    }
}

/// Says in the log, at start, how to create the first admin when there is none: without one
/// nobody can sign in (admins create every organisation and user).
fn warn_when_nobody_can_sign_in(state: &AppState) -> Result<(), String> {
    use crate::db::schema::users;
    let mut pooled = state.pool.get().map_err(|e| e.to_string())?;
    let conn: &mut db::DbConn = &mut pooled;
    let admins: i64 = users::table
        .filter(users::roles.like("%admin%"))
        .filter(users::active.eq(true))
        .count()
        .get_result(conn)
        .map_err(|e| format!("counting admins: {e}"))?;
    if admins == 0 {
        tracing::warn!(
            "no active admin exists, so nobody can sign in yet. Stop the service and start it once \
             with LDR_BOOTSTRAP_ADMIN_EMAIL=you@example.nhs.uk and \
             LDR_BOOTSTRAP_ADMIN_PASSWORD='at least 12 characters' to create the first admin, then \
             sign in with POST /api/v1/auth/login (see README.md, Quick start)"
        );
    }
    Ok(())
}

/// Serves until stopped. With `signals`, SIGTERM/SIGINT finish in-flight requests and return.
pub async fn serve(
    state: web::Data<AppState>,
    listener: TcpListener,
    signals: bool,
) -> std::io::Result<()> {
    serve_with_handle(state.clone(), listener, signals)?.await?;
    // The reads recorded in the last second are still queued: write them before exiting.
    if !state
        .access_log
        .flush(std::time::Duration::from_secs(10))
        .await
    {
        tracing::warn!("the access log could not be flushed at shutdown");
    }
    Ok(())
}

/// Builds the server (to be awaited inside an actix system) and starts the background work
/// (mail worker, deadline sweep). Tests keep the server's handle to stop it. With
/// `LDR_METRICS_BIND`, the same server also listens there, and answers only `GET /metrics` on
/// it (`api::observe`); the public listener has no `/metrics`.
pub fn serve_with_handle(
    state: web::Data<AppState>,
    listener: TcpListener,
    signals: bool,
) -> std::io::Result<actix_web::dev::Server> {
    let workers = state.cfg.workers;
    let metrics_listener = match state.cfg.metrics_bind {
        Some(addr) => Some(TcpListener::bind(addr).map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!("cannot listen on LDR_METRICS_BIND {addr}: {e}"),
            )
        })?),
        None => None,
    };
    let metrics_addr = match &metrics_listener {
        Some(l) => Some(api::observe::MetricsListener(l.local_addr()?)),
        None => None,
    };
    let st = state.clone();
    let mut server = HttpServer::new(move || {
        let mut app = App::new().app_data(st.clone());
        if let Some(m) = metrics_addr {
            app = app.app_data(m);
        }
        app.wrap(actix_web::middleware::from_fn(crate::web::error_pages))
            .wrap(actix_web::middleware::from_fn(
                crate::web::reject_nul_in_forms,
            ))
            .wrap(actix_web::middleware::from_fn(api::middleware::reject_nul))
            .wrap(api::middleware::problem_for_bare_errors())
            .wrap(api::middleware::security_headers())
            .wrap(actix_web::middleware::from_fn(
                api::middleware::content_security_policy,
            ))
            .wrap(actix_web::middleware::from_fn(api::observe::observe))
            // The pages first: the API's routes are all under /api/v1, /docs, /healthz and
            // /readyz, and its default answer (404 problem+json) is replaced by one that gives
            // a browser the 404 page.
            .configure(crate::web::routes)
            .configure(api::configure)
            .default_service(actix_web::web::to(crate::web::fallback))
    })
    .workers(workers)
    // Slow clients may not hold a worker: headers within 10 s, a second to close.
    .client_request_timeout(std::time::Duration::from_secs(10))
    .client_disconnect_timeout(std::time::Duration::from_secs(1))
    .keep_alive(std::time::Duration::from_secs(30))
    .shutdown_timeout(30)
    .listen(listener)?;
    if let Some(l) = metrics_listener {
        tracing::info!("metrics on http://{}/metrics", l.local_addr()?);
        server = server.listen(l)?;
    }
    if !signals {
        server = server.disable_signals();
    }
    let server = server.run();
    crate::notify::start_background(state.jobs());
    state
        .access_log
        .start(state.pool.clone(), state.cfg.access_log_days);
    Ok(server)
}
