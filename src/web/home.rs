//! `/`: the signed-in person's cases: what `GET /api/v1/disputes` gives them (the same
//! visibility condition), under a heading for their role.

use super::session::SignedIn;
use super::{page, words, PageResult};
use crate::api::auth::Caller;
use crate::api::AppState;
use crate::db::disputes::{self as store, DisputeRow};
use crate::db::schema::disputes;
use crate::domain::roles::Role;
use crate::service::visibility;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use diesel::prelude::*;
use serde_json::{json, Value};

/// The most cases the page lists (the oldest first); more are counted, not shown.
pub const MAX_CASES: i64 = 500;

/// The heading and the sentence under it, by the first of the person's roles that names
/// a caseload (an admin sees everything).
fn heading(c: &Caller) -> (&'static str, &'static str) {
    if c.has(Role::Admin) {
        ("All cases", "Every dispute filed with the service.")
    } else if c.has(Role::LmcMediator) {
        (
            "Stage 1 cases",
            "Your cases, and your LMC's cases that nobody has taken yet.",
        )
    } else if c.has(Role::PanelSecretary) {
        (
            "Cases awaiting a panel and my panels' cases",
            "Every case waiting for a panel to be appointed, and the cases of the panels you are secretary of.",
        )
    } else if c.has(Role::PracticeUser) || c.has(Role::Commissioner) {
        (
            "Our disputes",
            "The disputes your organisation is a party to.",
        )
    } else if c.has(Role::AccountableOfficer) {
        (
            "Disputes to screen and our disputes",
            "The disputes your commissioning group must screen or is a party to.",
        )
    } else {
        ("My panels' cases", "The cases of the panels you sit on.")
    }
}

/// `GET /`; `?sort=newest` lists the newest cases first (the default is the oldest first,
/// the ones open longest at the top).
pub async fn home(
    state: web::Data<AppState>,
    who: SignedIn,
    req: actix_web::HttpRequest,
) -> PageResult<HttpResponse> {
    if super::workbench::secretary_home(&who.caller) {
        return super::workbench::deadlines(&state, &who, &req).await;
    }
    if super::workbench::officer_home(&who.caller) {
        return super::workbench::screening(&state, &who).await;
    }
    let newest =
        web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string())
            .ok()
            .and_then(|q| q.get("sort").cloned())
            .is_some_and(|s| s == "newest");
    let caller = who.caller.clone();
    let (rows, names, total) = state
        .db(move |c| {
            let query = disputes::table
                .select(DisputeRow::as_select())
                .filter(visibility::visible_condition(&caller))
                .limit(MAX_CASES);
            let stored: Vec<DisputeRow> = if newest {
                query
                    .order((disputes::created_at.desc(), disputes::id.desc()))
                    .load(c)?
            } else {
                query
                    .order((disputes::created_at.asc(), disputes::id.asc()))
                    .load(c)?
            };
            // A stored dispute that does not read is an error, never a default.
            let rows = stored
                .into_iter()
                .map(|r| {
                    let id = r.id.clone();
                    r.decode().map_err(|cause| {
                        crate::api::error::ApiError::Internal(format!(
                            "dispute {id} does not read: {cause}"
                        ))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            let total: i64 = if rows.len() as i64 == MAX_CASES {
                disputes::table
                    .filter(visibility::visible_condition(&caller))
                    .count()
                    .get_result(c)?
            } else {
                rows.len() as i64
            };
            let names = store::org_names(
                c,
                rows.iter()
                    .flat_map(|d| [&d.appellant_id, &d.respondent_id]),
            )?;
            Ok((rows, names, total))
        })
        .await?;
    let today = state.clock.today();
    let cal = &state.calendar;
    let mediator = who.caller.has(Role::LmcMediator) && !who.caller.has(Role::Admin);
    let cases: Vec<Value> = rows
        .iter()
        .map(|d| {
            let mut case = super::workbench::case_row(d, &names);
            case["mode"] = json!(words::mediator_mode(
                d.mediator.as_ref().map(|m| m.mode.as_str())
            ));
            case["days_open"] = json!(words::days_open(cal, today, d.created_at.date()));
            case["deadline"] = super::workbench::next_deadline(cal, today, d);
            case
        })
        .collect();
    let (title, intro) = heading(&who.caller);
    let data = json!({
        "title": title,
        "user": who.layout(),
        "csrf": who.csrf,
        "heading": title,
        "intro": intro,
        "mediator": mediator,
        "may_file": who.caller.has(Role::PracticeUser) || who.caller.has(Role::Commissioner),
        "sort": if newest {
            json!({"aria": "ascending", "href": "/?sort=oldest", "now": "newest first",
                   "other": "Show the oldest first"})
        } else {
            json!({"aria": "descending", "href": "/?sort=newest", "now": "oldest first",
                   "other": "Show the newest first"})
        },
        "cases": cases,
        "more": (total > rows.len() as i64).then(|| format!(
            "Showing the {} {} of {total} cases.", if newest { "newest" } else { "oldest" }, rows.len()
        )),
    });
    Ok(page(StatusCode::OK, "home", &data))
}
