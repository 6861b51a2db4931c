//! The HTTP API: thin actix handlers over the domain and the database.

pub mod access_log;
pub mod api_keys;
pub mod auth;
pub mod body;
pub mod calendar;
pub mod directory;
pub mod disputes;
pub mod documents;
pub mod error;
pub mod middleware;
pub mod observe;
pub mod openapi;
pub mod people;
pub mod referral_pack;
pub mod webhooks;

use crate::app::AppState;
use actix_web::{web, HttpResponse};
use error::{ApiError, ApiResult};

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, description = "up", body = Status)))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Status { status: "ok" })
}

/// `{"status": "ok"}` / `{"status": "ready"}`
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Status {
    pub status: &'static str,
}

/// The database answers.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, description = "ready", body = Status), (status = 503)))]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let ok = state
        .db(|c| {
            use diesel::connection::SimpleConnection;
            c.batch_execute("SELECT 1").map_err(ApiError::from)
        })
        .await;
    match ok {
        Ok(()) => HttpResponse::Ok().json(Status { status: "ready" }),
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
    .service(web::resource("/docs").route(web::get().to(|| async {
        HttpResponse::PermanentRedirect()
            .insert_header((actix_web::http::header::LOCATION, "/docs/"))
            .finish()
    })))
    .service(
        utoipa_swagger_ui::SwaggerUi::new("/docs/{_:.*}")
            .url("/api/v1/openapi.json", openapi::document()),
    )
    .service(web::resource("/readyz").route(web::get().to(readyz)))
    .service(
        web::scope("/api/v1")
            .service(web::resource("/auth/login").route(web::post().to(auth::login)))
            .configure(api_keys::routes)
            .configure(access_log::routes)
            .configure(directory::routes)
            .configure(calendar::routes)
            .configure(disputes::routes)
            .configure(referral_pack::routes)
            .configure(webhooks::routes),
    )
    .default_service(web::to(not_found));
}
