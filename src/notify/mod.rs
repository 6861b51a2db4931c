//! Notices: outbox rows written with the event that causes them, delivered by a background
//! worker (SMTP or .eml files), reminders and breach alerts from a deadline sweep.

use crate::api::AppState;
use actix_web::web;

pub fn start_background(_state: web::Data<AppState>) {}
