//! The working-day calendar over HTTP (any authenticated user).

use super::auth::Caller;
use super::error::{ApiError, ApiResult};
use crate::app::AppState;
use crate::domain::calendar::{MAX_YEAR, MIN_YEAR};
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};

pub fn routes(cfg: &mut web::ServiceConfig) {
    // Resources, not `cfg.route`: another method on these paths is then 405, not 404.
    cfg.service(web::resource("/calendar/bank-holidays").route(web::get().to(bank_holidays)))
        .service(
            web::resource("/calendar/working-days/add").route(web::get().to(add_working_days)),
        );
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct YearQuery {
    /// 1900–2200
    #[param(required = true, value_type = i32, minimum = 1900, maximum = 2200)]
    pub year: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Holiday {
    #[schema(example = "2026-12-25")]
    pub date: String,
    pub title: String,
}

/// England and Wales bank holidays of a year.
#[utoipa::path(get, path = "/api/v1/calendar/bank-holidays", tag = "calendar", params(YearQuery),
    security(("bearer" = [])),
    responses((status = 200, body = [Holiday]), (status = 422)))]
pub async fn bank_holidays(
    state: web::Data<AppState>,
    _caller: Caller,
    q: web::Query<YearQuery>,
) -> ApiResult<HttpResponse> {
    let bad = || {
        ApiError::field(
            "year",
            format!("must be a year from {MIN_YEAR} to {MAX_YEAR}"),
        )
    };
    let year: i32 = q
        .year
        .as_deref()
        .ok_or_else(bad)?
        .trim()
        .parse()
        .map_err(|_| bad())?;
    let list = state.calendar.bank_holidays(year).ok_or_else(bad)?;
    Ok(HttpResponse::Ok().json(
        list.iter()
            .map(|h| Holiday {
                date: h.date.to_string(),
                title: h.title.clone(),
            })
            .collect::<Vec<_>>(),
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct AddQuery {
    /// YYYY-MM-DD, 1900–2200
    #[param(required = true, value_type = String, format = Date)]
    pub from: Option<String>,
    /// working days to add; may be negative
    #[param(required = true, value_type = i64, minimum = -50000, maximum = 50000)]
    pub days: Option<String>,
}

/// The Nth working day after `from` (before it when N is negative; `from` itself when 0).
#[utoipa::path(get, path = "/api/v1/calendar/working-days/add", tag = "calendar", params(AddQuery),
    security(("bearer" = [])),
    responses((status = 200, body = WorkingDay), (status = 422)))]
pub async fn add_working_days(
    state: web::Data<AppState>,
    _caller: Caller,
    q: web::Query<AddQuery>,
) -> ApiResult<HttpResponse> {
    let mut errs = Vec::new();
    let from = match super::directory::parse_date("from", q.from.as_deref().unwrap_or("")) {
        Ok(d) => Some(d),
        Err(e) => {
            errs.push(e);
            None
        }
    };
    let days = match q.days.as_deref().map(|s| s.trim().parse::<i64>()) {
        Some(Ok(n)) if (-50_000..=50_000).contains(&n) => Some(n),
        _ => {
            errs.push(super::error::FieldError {
                field: "days".into(),
                message: "must be a whole number from -50000 to 50000".into(),
            });
            None
        }
    };
    if !errs.is_empty() {
        return Err(ApiError::Validation(errs));
    }
    let (from, days) = (from.unwrap_or_default(), days.unwrap_or_default());
    let date = state.calendar.add_working_days(from, days).ok_or_else(|| {
        ApiError::field(
            "days",
            format!("the result falls outside the supported years {MIN_YEAR}–{MAX_YEAR}"),
        )
    })?;
    Ok(HttpResponse::Ok().json(WorkingDay { date }))
}

/// The result of `GET /calendar/working-days/add`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WorkingDay {
    pub date: chrono::NaiveDate,
}
