//! `GET /api/v1/access-log`: who read which dispute, when, from where (admins only; issue #38).

use super::auth::Caller;
use super::error::{ApiError, ApiResult};
use crate::app::AppState;
use crate::db::access_log::{self as store, Filter};
use crate::domain::roles::Role;
use actix_web::{web, HttpResponse};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// The most entries one page holds.
pub const MAX_PER_PAGE: i64 = 500;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/access-log").route(web::get().to(list)));
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AccessQuery {
    /// Only reads of this dispute.
    pub dispute_id: Option<String>,
    /// Only reads by this user (a person, or an API key's `user_id`).
    pub user_id: Option<String>,
    /// From this day (UTC, inclusive).
    pub from: Option<NaiveDate>,
    /// To this day (UTC, inclusive).
    pub to: Option<NaiveDate>,
    /// 1, 2, …: pages of `per_page` entries, newest first.
    pub page: Option<i64>,
    /// 1–500, default 100.
    pub per_page: Option<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(example = json!({"at": "2026-03-02T09:15:00.000000Z", "user_id": "9a2d…", "user_name": "Cara Commissioner",
    "dispute_id": "3c5e…", "kind": "document", "document_id": "77b0…", "client_address": "10.0.0.7"}))]
pub struct AccessEntry {
    #[serde(serialize_with = "super::directory::rfc3339")]
    pub at: chrono::NaiveDateTime,
    pub user_id: String,
    pub user_name: String,
    pub dispute_id: String,
    /// `dispute`, `events`, `documents`, `document`, `notices`, `hearing_ics`,
    /// `hearing_options` (API), `case_page`, or `referral_pack` (API or page).
    pub kind: String,
    pub document_id: Option<String>,
    pub client_address: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AccessPage {
    pub items: Vec<AccessEntry>,
    pub page: i64,
    pub per_page: i64,
    /// The next page's number; `null` on the last.
    pub next_page: Option<i64>,
}

/// Reads of disputes, newest first (admins). Entries are written within about a second of the
/// read (see SECURITY.md, "Access log").
#[utoipa::path(get, path = "/api/v1/access-log", tag = "reports", params(AccessQuery),
    security(("bearer" = [])),
    responses((status = 200, body = AccessPage), (status = 401, body = super::error::Problem),
        (status = 403, body = super::error::Problem), (status = 422, body = super::error::Problem)))]
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<AccessQuery>,
) -> ApiResult<HttpResponse> {
    caller.require(&[Role::Admin])?;
    let q = q.into_inner();
    let page = q.page.unwrap_or(1);
    if page < 1 {
        return Err(ApiError::field("page", "must be 1 or more"));
    }
    let per_page = q.per_page.unwrap_or(100);
    if !(1..=MAX_PER_PAGE).contains(&per_page) {
        return Err(ApiError::field("per_page", "must be from 1 to 500"));
    }
    use chrono::Datelike;
    for (field, day) in [("from", q.from), ("to", q.to)] {
        if day.is_some_and(|d| !(1900..=2200).contains(&d.year())) {
            return Err(ApiError::field(
                field,
                "must be a date YYYY-MM-DD between 1900 and 2200",
            ));
        }
    }
    if let (Some(f), Some(t)) = (q.from, q.to) {
        if t < f {
            return Err(ApiError::field("to", "must be on or after from"));
        }
    }
    let filter = Filter {
        dispute_id: q.dispute_id,
        user_id: q.user_id,
        from: q.from.and_then(|d| d.and_hms_opt(0, 0, 0)),
        to: q
            .to
            .and_then(|d| d.succ_opt())
            .and_then(|d| d.and_hms_opt(0, 0, 0)),
    };
    let offset = (page - 1).saturating_mul(per_page);
    let (rows, names) = state
        .db(move |c| {
            let rows = store::find(c, &filter, offset, per_page + 1)?;
            let names = crate::db::disputes::user_names(c, rows.iter().map(|e| &e.user_id))?;
            Ok((rows, names))
        })
        .await?;
    let more = rows.len() as i64 > per_page;
    let items = rows
        .into_iter()
        .take(per_page as usize)
        .map(|e| AccessEntry {
            user_name: names.get(&e.user_id).cloned().unwrap_or_default(),
            at: e.at,
            user_id: e.user_id,
            dispute_id: e.dispute_id,
            kind: e.kind,
            document_id: e.document_id,
            client_address: e.client_address,
        })
        .collect();
    Ok(HttpResponse::Ok().json(AccessPage {
        items,
        page,
        per_page,
        next_page: page.checked_add(1).filter(|_| more),
    }))
}
