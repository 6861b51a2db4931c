//! `/webhooks`: an organisation's endpoints for signed event deliveries (SPEC "Webhooks").
//! Thin handlers over `service::webhooks`; the request and answer types here are both what
//! serde reads or writes and what the OpenAPI document shows.

use super::auth::Caller;
use super::body::Body;
use super::error::ApiResult;
use crate::app::AppState;
use crate::db::webhooks::{AttemptView, WebhookRow};
use crate::service::webhooks as service;
use actix_web::{web, HttpResponse};
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/webhooks")
            .route(web::post().to(create_webhook))
            .route(web::get().to(list_webhooks)),
    )
    .service(web::resource("/webhooks/{id}").route(web::delete().to(delete_webhook)))
    .service(web::resource("/webhooks/{id}/rotate-secret").route(web::post().to(rotate_secret)))
    .service(web::resource("/webhooks/{id}/deliveries").route(web::get().to(list_deliveries)));
}

fn ts(t: &NaiveDateTime) -> String {
    super::directory::timestamp(t)
}

/// The body of `POST /webhooks`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    /// Where deliveries are posted: `https://…` whose host resolves to public addresses only
    /// (`http` and private addresses only when the service runs with
    /// `LDR_WEBHOOKS_ALLOW_PRIVATE=true`). No user, password or fragment.
    #[schema(
        max_length = 2000,
        example = "https://integration.example-practice.nhs.uk/ldr-events"
    )]
    pub url: String,
    /// A note for the organisation's own use (one line).
    #[schema(max_length = 500)]
    pub description: Option<String>,
    /// The organisation the endpoint belongs to: the caller's own when left out (an admin may
    /// name any).
    pub organisation_id: Option<String>,
}

/// An endpoint as listed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Webhook {
    pub id: String,
    pub organisation_id: String,
    pub url: String,
    pub description: String,
    /// False once disabled after failing for 3 days (or more) on end.
    pub active: bool,
    #[schema(format = DateTime)]
    pub created_at: String,
    /// When the current spell of failed deliveries began; null while deliveries succeed.
    #[schema(format = DateTime)]
    pub failing_since: Option<String>,
    #[schema(format = DateTime)]
    pub disabled_at: Option<String>,
    pub disabled_reason: Option<String>,
    /// Until when the secret replaced by the last rotation still signs alongside the new one;
    /// null when only one secret signs.
    #[schema(format = DateTime)]
    pub previous_secret_expires_at: Option<String>,
    /// Deliveries queued and not yet delivered.
    pub pending_deliveries: i64,
}

/// `POST /webhooks` (201) and `POST /webhooks/{id}/rotate-secret` (200): the endpoint and
/// its secret, shown only in this answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WebhookWithSecret {
    pub id: String,
    pub organisation_id: String,
    pub url: String,
    pub description: String,
    /// `whsec_` + base64 of 32 random bytes: the Standard Webhooks signing secret. Keep it;
    /// it is not shown again.
    #[schema(example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwQdYc2vk1Bx0=")]
    pub secret: String,
    #[schema(format = DateTime)]
    pub previous_secret_expires_at: Option<String>,
}

/// One attempt at a delivery.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeliveryAttempt {
    /// The delivery's `webhook-id` (the same on every attempt at it).
    pub delivery_id: String,
    /// 1 for the first attempt at this delivery.
    pub attempt: i32,
    pub dispute_id: String,
    /// The event's `seq` in the dispute's history (`event_id` in the payload).
    pub event_id: i64,
    pub event_type: String,
    /// The delivery's status now: `pending` (to be retried), `delivered` or `abandoned`
    /// (its endpoint was disabled).
    pub delivery_status: String,
    #[schema(format = DateTime)]
    pub at: String,
    /// The receiver's HTTP status; null when there was no answer.
    pub response_code: Option<i32>,
    /// A 2xx answer.
    pub ok: bool,
    /// Why it failed, when it did (timeout, refused address, status).
    pub error: Option<String>,
    /// The first 1 KiB of the answer's body.
    pub response: String,
    pub duration_ms: i32,
}

/// `GET /webhooks/{id}/deliveries`
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Deliveries {
    pub webhook: Webhook,
    /// The last 100 attempts, newest first.
    pub attempts: Vec<DeliveryAttempt>,
}

fn view(w: &WebhookRow, pending: i64) -> Webhook {
    let now = crate::db::now();
    Webhook {
        id: w.id.clone(),
        organisation_id: w.organisation_id.clone(),
        url: w.url.clone(),
        description: w.description.clone(),
        active: w.active,
        created_at: ts(&w.created_at),
        failing_since: w.failing_since.as_ref().map(ts),
        disabled_at: w.disabled_at.as_ref().map(ts),
        disabled_reason: w.disabled_reason.clone(),
        previous_secret_expires_at: w
            .previous_secret_until
            .filter(|u| *u > now)
            .as_ref()
            .map(ts),
        pending_deliveries: pending,
    }
}

fn with_secret(w: &WebhookRow, secret: String) -> WebhookWithSecret {
    WebhookWithSecret {
        id: w.id.clone(),
        organisation_id: w.organisation_id.clone(),
        url: w.url.clone(),
        description: w.description.clone(),
        secret,
        previous_secret_expires_at: w.previous_secret_until.as_ref().map(ts),
    }
}

fn attempt_view(a: &AttemptView) -> DeliveryAttempt {
    DeliveryAttempt {
        delivery_id: a.delivery_id.clone(),
        attempt: a.attempt,
        dispute_id: a.dispute_id.clone(),
        event_id: a.event_seq,
        event_type: a.event_type.clone(),
        delivery_status: a.delivery_status.clone(),
        at: ts(&a.at),
        response_code: a.status_code,
        ok: a.error.is_none() && a.status_code.is_some_and(|s| (200..300).contains(&s)),
        error: a.error.clone(),
        response: a.response.clone(),
        duration_ms: a.duration_ms,
    }
}

/// Registers an endpoint for the caller's organisation (an admin: any, with
/// `organisation_id`). Every event on a dispute the organisation is party to (or screens, for
/// a commissioner) is then posted to it, signed per Standard Webhooks 1.0.
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "webhooks", request_body = NewWebhook,
    security(("bearer" = [])),
    responses((status = 201, body = WebhookWithSecret), (status = 400, body = super::error::Problem),
        (status = 401, body = super::error::Problem), (status = 403, body = super::error::Problem),
        (status = 409, description = "the organisation has 10 endpoints already", body = super::error::Problem),
        (status = 422, description = "the URL is not https, does not resolve, or resolves to a private address", body = super::error::Problem)))]
pub async fn create_webhook(
    state: web::Data<AppState>,
    caller: Caller,
    body: Body<NewWebhook>,
) -> ApiResult<HttpResponse> {
    let b = body.into_inner();
    let allow_private = state.cfg.webhooks_allow_private;
    let raw = b.url.clone();
    // The host is resolved here, off the database's connections.
    let url = web::block(move || service::check_target(&raw, allow_private)).await??;
    let sealer = state.webhook_box.clone();
    let (w, secret) = state
        .db(move |c| {
            Ok(service::register(
                c,
                &sealer,
                &caller,
                b.organisation_id.as_deref(),
                &url,
                b.description.as_deref(),
            )?)
        })
        .await?;
    tracing::info!(webhook_id = %w.id, organisation_id = %w.organisation_id, "webhook registered");
    Ok(HttpResponse::Created().json(with_secret(&w, secret)))
}

/// The caller's organisation's endpoints (an admin: every organisation's).
#[utoipa::path(get, path = "/api/v1/webhooks", tag = "webhooks", security(("bearer" = [])),
    responses((status = 200, body = [Webhook]), (status = 401, body = super::error::Problem)))]
pub async fn list_webhooks(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    let rows = state.db(move |c| Ok(service::list(c, &caller)?)).await?;
    let out: Vec<Webhook> = rows.iter().map(|(w, p)| view(w, *p)).collect();
    Ok(HttpResponse::Ok().json(out))
}

/// Deletes an endpoint; its pending deliveries are not sent.
#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", tag = "webhooks", params(("id" = String, Path)),
    security(("bearer" = [])),
    responses((status = 204, description = "deleted"), (status = 401, body = super::error::Problem),
        (status = 404, body = super::error::Problem)))]
pub async fn delete_webhook(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let id2 = id.clone();
    state
        .db(move |c| Ok(service::delete(c, &caller, &id2)?))
        .await?;
    tracing::info!(webhook_id = %id, "webhook deleted");
    Ok(HttpResponse::NoContent().finish())
}

/// A new secret; the old one keeps signing alongside for 24 hours (two signatures in
/// `webhook-signature`), so receivers can switch without losing a delivery.
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/rotate-secret", tag = "webhooks", params(("id" = String, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = WebhookWithSecret), (status = 401, body = super::error::Problem),
        (status = 404, body = super::error::Problem)))]
pub async fn rotate_secret(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let sealer = state.webhook_box.clone();
    let (w, secret) = state
        .db(move |c| Ok(service::rotate(c, &sealer, &caller, &id)?))
        .await?;
    tracing::info!(webhook_id = %w.id, "webhook secret rotated");
    Ok(HttpResponse::Ok().json(with_secret(&w, secret)))
}

/// The endpoint and the last 100 attempts at its deliveries, newest first: status, response
/// code, time, the first 1 KiB of the answer.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries", tag = "webhooks", params(("id" = String, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = Deliveries), (status = 401, body = super::error::Problem),
        (status = 404, body = super::error::Problem)))]
pub async fn list_deliveries(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let (w, attempts, pending) = state
        .db(move |c| {
            let (w, attempts) = service::deliveries(c, &caller, &id)?;
            let pending = crate::db::webhooks::pending_count(c, &w.id)?;
            Ok((w, attempts, pending))
        })
        .await?;
    Ok(HttpResponse::Ok().json(Deliveries {
        webhook: view(&w, pending),
        attempts: attempts.iter().map(attempt_view).collect(),
    }))
}
