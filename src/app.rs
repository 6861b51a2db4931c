//! The application's state and what every front end (the API, the pages) and the jobs take
//! from it: the pools, the configuration, the clock and calendar, the templates, the keys and
//! limits, the mail and webhook workers' wake-ups, the access log. `server.rs` builds it and
//! wires the routes (`web::routes`, `api::configure`).

use crate::api::auth;
use crate::api::error::ApiResult;
use crate::clock::Clock;
use crate::config::Config;
use crate::db::{DbConn, DbPool};
use crate::domain::calendar::Calendar;
use crate::service;
use crate::service::limits;
use actix_web::web;
use std::sync::Arc;

/// [`service::Ctx`]'s parts, owned, to move into a blocking task.
pub struct CtxParts {
    pub today: chrono::NaiveDate,
    pub calendar: Calendar,
    pub templates: Arc<crate::render::templates::Templates>,
    pub mail_from: String,
    pub public_url: String,
}

impl CtxParts {
    pub fn ctx(&self) -> service::Ctx<'_> {
        service::Ctx {
            today: self.today,
            calendar: &self.calendar,
            templates: &self.templates,
            mail_from: &self.mail_from,
            public_url: &self.public_url,
        }
    }
}

/// Everything a handler needs; cheap to clone.
pub struct AppState {
    pub pool: DbPool,
    /// On PostgreSQL, the mail worker's, the webhook worker's and the deadline sweep's own
    /// connections (three), so that
    /// neither waits behind the requests for one of `pool`'s: under a burst of requests,
    /// notices still go out while it lasts rather than after. On SQLite, `pool` itself.
    pub background_pool: DbPool,
    pub cfg: Arc<Config>,
    pub clock: Clock,
    pub calendar: Calendar,
    pub templates: Arc<crate::render::templates::Templates>,
    pub jwt: Arc<auth::JwtKeys>,
    pub limits: limits::Limits,
    /// An argon2 hash of a random password, verified against for unknown e-mails so that a
    /// refused login takes as long whether or not the account exists.
    pub dummy_hash: String,
    /// Woken when a transaction queued notices, so the mail worker sends them at once.
    pub mail_wakeup: Arc<tokio::sync::Notify>,
    /// One permit per upload being received (`LDR_UPLOAD_CONCURRENCY`), see `api::documents`.
    pub uploads: Arc<tokio::sync::Semaphore>,
    /// Seals and opens the webhook secrets (`LDR_WEBHOOK_KEY`, or the JWT secret's).
    pub webhook_box: Arc<crate::webhooks::sign::SecretBox>,
    /// The access log's queue of reads (issue #38), see `service::access_log`.
    pub access_log: Arc<service::access_log::AccessLog>,
    /// The OpenID provider people sign in with (`LDR_OIDC_*`), see `service::oidc`.
    pub oidc: Option<Arc<service::oidc::Provider>>,
}

impl AppState {
    /// The timeliness report from `from` to `to` (`YYYY-MM-DD`, as sent) for `caller`
    /// (`service::reports::timeliness_for`): the API's answer, the page's table and its CSV.
    pub async fn timeliness_report(
        &self,
        caller: &service::Caller,
        from: &str,
        to: &str,
    ) -> ApiResult<service::reports::Timeliness> {
        let (cal, today, caller) = (self.calendar.clone(), self.clock.today(), caller.clone());
        let (from, to) = (from.to_string(), to.to_string());
        self.db(move |c| {
            Ok(service::reports::timeliness_for(
                c, &cal, today, &caller, &from, &to,
            )?)
        })
        .await
    }

    /// Runs blocking diesel work on actix's blocking pool with a pooled connection: every
    /// request's database work goes this way, so a lock wait never stalls an HTTP worker.
    pub async fn db<T, F>(&self, f: F) -> ApiResult<T>
    where
        F: FnOnce(&mut DbConn) -> ApiResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        web::block(move || crate::db::run(&pool, f)).await?
    }

    /// What the service needs to apply an event today, for [`service::Ctx`].
    pub fn ctx_parts(&self) -> CtxParts {
        CtxParts {
            today: self.clock.today(),
            calendar: self.calendar.clone(),
            templates: self.templates.clone(),
            mail_from: self.cfg.mail_from.clone(),
            public_url: self.cfg.public_url.clone(),
        }
    }

    /// The mail worker's and the deadline sweep's context.
    pub fn jobs(&self) -> crate::notify::Jobs {
        crate::notify::Jobs {
            pool: self.background_pool.clone(),
            cfg: self.cfg.clone(),
            clock: self.clock.clone(),
            calendar: self.calendar.clone(),
            templates: self.templates.clone(),
            mail_wakeup: self.mail_wakeup.clone(),
            webhook_box: self.webhook_box.clone(),
        }
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

    /// Records that `user_id` read `kind` of dispute `dispute_id` (queued, never waits).
    pub fn record_read(
        &self,
        req: &actix_web::HttpRequest,
        user_id: &str,
        dispute_id: &str,
        kind: &str,
        document_id: Option<&str>,
    ) {
        let forwarded = req
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok());
        let ip = limits::client_address(
            req.peer_addr().map(|a| a.ip()),
            forwarded,
            &self.cfg.trusted_proxies,
        );
        self.access_log.record(
            user_id,
            dispute_id,
            kind,
            document_id,
            ip.map(|a| a.to_string()),
        );
    }

    pub async fn active_caller(&self, user_id: &str) -> ApiResult<Option<auth::Caller>> {
        let id = user_id.to_string();
        self.db(move |c| auth::load_caller(c, &id)).await
    }
}
