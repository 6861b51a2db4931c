//! Notices: outbox rows written with the event that causes them, delivered by a background
//! worker (SMTP, GOV.UK Notify or .eml files) with retries, plus reminders and breach alerts from a deadline
//! sweep.

pub mod govuk;
pub mod ics;
pub mod message;
pub mod outbox;
pub mod sweep;
pub mod templates;
pub mod worker;

use crate::api::AppState;
use actix_web::web;
use std::time::Duration;

/// Starts the mail worker and the deadline sweep on the current actix system.
pub fn start_background(state: web::Data<AppState>) {
    let transport = match worker::Transport::from_config(&state.cfg) {
        Ok(t) => t,
        Err(e) => {
            tracing::error!("mail transport: {e}; notices stay queued until this is fixed");
            return;
        }
    };
    actix_web::rt::spawn(worker::run(state.clone(), transport));
    actix_web::rt::spawn(sweep_loop(state));
}

async fn sweep_loop(state: web::Data<AppState>) {
    let every = Duration::from_secs(state.cfg.sweep_interval_seconds);
    loop {
        sweep_now(&state).await;
        actix_web::rt::time::sleep(every).await;
    }
}

/// One full sweep for today (in batches of 1,000 disputes); wakes the mail worker when it queued.
pub async fn sweep_now(state: &web::Data<AppState>) {
    let today = state.clock.today();
    loop {
        let cal = state.calendar.clone();
        let templates = state.templates.clone();
        let res = state
            .background_db(move |c| {
                sweep::run(c, &cal, &templates, today, 1000)
                    .map_err(crate::api::error::ApiError::Internal)
            })
            .await;
        match res {
            Ok((visited, queued)) => {
                if queued > 0 {
                    tracing::info!(visited, queued, %today, "deadline sweep queued notices");
                    state.mail_wakeup.notify_one();
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
