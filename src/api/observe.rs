//! The outermost middleware: a request id for every request, one access log line per request,
//! the request metrics; and on the metrics listener (`LDR_METRICS_BIND`) `GET /metrics`,
//! nothing else.

use super::error::ApiError;
use crate::app::AppState;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, HttpResponse, ResponseError};
use std::net::SocketAddr;
use std::time::Instant;
use tracing::Instrument;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The address of the metrics listener (app data); requests that came through it get
/// `/metrics` and nothing else.
#[derive(Debug, Clone, Copy)]
pub struct MetricsListener(pub SocketAddr);

/// The request's id, in its extensions.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// A client's `X-Request-Id` is kept when it is 1 to 128 characters of `A-Z a-z 0-9 . _ -`.
pub fn acceptable_request_id(v: &str) -> bool {
    (1..=128).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if let Some(m) = req.app_data::<MetricsListener>() {
        if req.app_config().local_addr() == m.0 {
            return Ok(metrics_endpoint(req).await);
        }
    }
    let started = Instant::now();
    let id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| acceptable_request_id(v))
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    req.extensions_mut().insert(RequestId(id.clone()));
    let method = req.method().clone();
    let route = req
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_string());
    let path = loggable_path(req.path());
    let peer = req
        .peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_default();
    let span = tracing::info_span!("request", request_id = %id, method = %method, route = %route);
    let res = match next.call(req).instrument(span).await {
        Ok(mut r) => {
            if let Ok(v) = HeaderValue::from_str(&id) {
                r.headers_mut().insert(REQUEST_ID, v);
            }
            Ok(r.map_into_boxed_body())
        }
        // An error a middleware returned (e.g. `reject_nul`): actix answers it, with the id.
        Err(e) => Err(WithRequestId {
            inner: e,
            id: id.clone(),
        }),
    };
    let status = match &res {
        Ok(r) => r.status().as_u16(),
        Err(e) => e.inner.as_response_error().status_code().as_u16(),
    };
    let elapsed = started.elapsed();
    crate::metrics::http_request(method.as_str(), &route, status, elapsed);
    // Health probes that succeed are not logged: they come every few seconds.
    let probe = (path == "/healthz" || path == "/readyz") && status < 300;
    if !probe {
        let latency_ms = (elapsed.as_secs_f64() * 1e6).round() / 1e3;
        if status >= 500 {
            // The cause, when the service knows it, is logged as an error where it arose.
            tracing::warn!(target: "ldr::access", request_id = %id, method = %method,
                route = %route, path = %path, status, latency_ms, peer = %peer, "request failed");
        } else {
            tracing::info!(target: "ldr::access", request_id = %id, method = %method,
                route = %route, path = %path, status, latency_ms, peer = %peer, "request");
        }
    }
    res.map_err(actix_web::Error::from)
}

/// The path as the access log keeps it: a calendar feed's secret token is not written down.
pub fn loggable_path(path: &str) -> String {
    match path.strip_prefix("/calendar/") {
        Some(rest) if rest.ends_with(".ics") => "/calendar/[token].ics".to_string(),
        _ => path.to_string(),
    }
}

/// An error on its way out, answered with the request's id.
#[derive(Debug)]
struct WithRequestId {
    inner: actix_web::Error,
    id: String,
}

impl std::fmt::Display for WithRequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.inner.fmt(f)
    }
}

impl ResponseError for WithRequestId {
    fn status_code(&self) -> actix_web::http::StatusCode {
        self.inner.as_response_error().status_code()
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = self.inner.error_response();
        if let Ok(v) = HeaderValue::from_str(&self.id) {
            res.headers_mut().insert(REQUEST_ID, v);
        }
        res
    }
}

async fn metrics_endpoint(req: ServiceRequest) -> ServiceResponse<BoxBody> {
    let (req, _) = req.into_parts();
    let res = if req.path() != "/metrics" {
        ApiError::NotFound.error_response()
    } else if !matches!(req.method().as_str(), "GET" | "HEAD") {
        HttpResponse::MethodNotAllowed()
            .content_type("application/problem+json")
            .insert_header((header::ALLOW, "GET, HEAD"))
            .json(super::error::Problem {
                type_: "https://ldr.example/problems/method-not-allowed".into(),
                title: "Method not allowed".into(),
                status: 405,
                detail: "The metrics are read with GET.".into(),
                code: "method_not_allowed".into(),
                errors: None,
                violations: None,
            })
    } else {
        match req.app_data::<web::Data<AppState>>() {
            Some(state) => HttpResponse::Ok()
                .content_type("text/plain; version=0.0.4; charset=utf-8")
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .body(crate::metrics::render(&snapshot(state).await)),
            None => ApiError::NotFound.error_response(),
        }
    };
    ServiceResponse::new(req, res)
}

/// The gauges read at scrape time.
async fn snapshot(state: &web::Data<AppState>) -> crate::metrics::Snapshot {
    let pool = |name: &'static str, p: &crate::db::DbPool| {
        let s = p.state();
        crate::metrics::PoolState {
            pool: name,
            in_use: s.connections.saturating_sub(s.idle_connections),
            idle: s.idle_connections,
            max: p.max_size(),
        }
    };
    // Before the count takes a connection of its own.
    let mut pools = vec![pool("requests", &state.pool)];
    if matches!(state.cfg.database, crate::db::DbTarget::Postgres(_)) {
        pools.push(pool("background", &state.background_pool));
    }
    let now = crate::db::now();
    let counts = state
        .db(move |c| {
            Ok((
                crate::db::stats::notice_counts(c, now)?,
                crate::db::stats::delivery_counts(c, now)?,
            ))
        })
        .await;
    let (notices, webhooks) = match counts {
        Ok((n, w)) => (Some(n), Some(w)),
        Err(e) => {
            tracing::warn!(error = %e, "metrics: the notices and webhook deliveries could not be counted");
            (None, None)
        }
    };
    crate::metrics::Snapshot {
        notices,
        webhooks,
        pools,
    }
}
