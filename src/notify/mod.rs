//! The background jobs: the ones that send notices (`worker`: SMTP through `message`'s MIME
//! messages, GOV.UK Notify through `govuk`, or .eml files, with retries), that deliver signed
//! webhooks (`webhooks`), and that send reminders and breach alerts (`sweep`). Notices are rendered before they get here,
//! by the service with `crate::render`. The jobs take a [`Jobs`] context, not the HTTP layer's state.

pub mod govuk;
pub mod message;
pub mod sweep;
pub mod webhooks;
pub mod worker;

use crate::clock::Clock;
use crate::config::Config;
use crate::db::{self, DbConn, DbPool};
use crate::domain::calendar::Calendar;
use crate::render::templates::Templates;
use crate::service::ServiceError;
use std::sync::Arc;
use std::time::Duration;

/// What the mail worker and the deadline sweep need: their own connections, the clock, the
/// calendar, the templates, the configuration, and the wake-up the service's writers ring
/// when they queued notices.
#[derive(Clone)]
pub struct Jobs {
    /// On PostgreSQL, connections of their own (three: mail, webhooks, sweep), so that no job
    /// waits behind the
    /// requests for a connection; on SQLite, the requests' pool.
    pub pool: DbPool,
    pub cfg: Arc<Config>,
    pub clock: Clock,
    pub calendar: Calendar,
    pub templates: Arc<Templates>,
    pub mail_wakeup: Arc<tokio::sync::Notify>,
    /// Opens the webhook secrets for signing (`crate::webhooks`).
    pub webhook_box: Arc<crate::webhooks::sign::SecretBox>,
}

impl Jobs {
    /// Runs blocking database work on actix's blocking pool with a connection of `pool`.
    pub async fn db<T, F>(&self, f: F) -> Result<T, ServiceError>
    where
        F: FnOnce(&mut DbConn) -> Result<T, ServiceError> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        actix_web::web::block(move || db::run(&pool, f))
            .await
            .map_err(|e| ServiceError::Internal(format!("blocking task: {e}")))?
    }
}

/// Starts the webhook deliveries' worker, the mail worker and the deadline sweep on the
/// current actix system.
pub fn start_background(jobs: Jobs) {
    actix_web::rt::spawn(webhooks::run(jobs.clone()));
    let transport = match worker::Transport::from_config(&jobs.cfg) {
        Ok(t) => t,
        Err(e) => {
            tracing::error!("mail transport: {e}; notices stay queued until this is fixed");
            return;
        }
    };
    actix_web::rt::spawn(worker::run(jobs.clone(), transport));
    actix_web::rt::spawn(sweep_loop(jobs));
}

async fn sweep_loop(jobs: Jobs) {
    let every = Duration::from_secs(jobs.cfg.sweep_interval_seconds);
    loop {
        sweep_now(&jobs).await;
        actix_web::rt::time::sleep(every).await;
    }
}

/// One full sweep for today (in batches of 1,000 disputes); wakes the mail worker when it queued.
pub async fn sweep_now(jobs: &Jobs) {
    let today = jobs.clock.today();
    loop {
        let cal = jobs.calendar.clone();
        let templates = jobs.templates.clone();
        let cfg = jobs.cfg.clone();
        let res = jobs
            .db(move |c| {
                sweep::run(c, &cal, &templates, &cfg.public_url, today, 1000)
                    .map_err(ServiceError::Internal)
            })
            .await;
        match res {
            Ok((visited, queued)) => {
                if queued > 0 {
                    tracing::info!(visited, queued, %today, "deadline sweep queued notices");
                    jobs.mail_wakeup.notify_one();
                }
                if visited < 1000 {
                    break;
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "deadline sweep failed; will retry");
                break;
            }
        }
    }
}
