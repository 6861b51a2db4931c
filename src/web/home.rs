//! `/`: the signed-in person's cases: what `GET /api/v1/disputes` gives them (the same
//! visibility condition), under a heading for their role.

use super::list::{CaseCells, Paging, PAGE_SIZE};
use super::session::SignedIn;
use super::{page, words, PageResult};
use crate::app::AppState;
use crate::db::disputes::{self as store, ListRow};
use crate::db::schema::disputes;
use crate::domain::roles::Role;
use crate::service::visibility;
use crate::service::Caller;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;

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

/// One row of the list, as the template reads it: borrowed from the loaded disputes and their
/// parties' names, so the page's data is built once and not copied into `serde_json` values.
#[derive(Serialize)]
struct CaseRow<'a> {
    #[serde(flatten)]
    case: CaseCells<'a>,
    mode: &'static str,
    days_open: String,
    deadline: Option<NextDeadline>,
}

#[derive(Serialize)]
struct NextDeadline {
    label: &'static str,
    date: String,
    left: String,
}

/// The order links: which order the list is in and the link to the other one.
#[derive(Serialize)]
struct Sort {
    aria: &'static str,
    href: &'static str,
    now: &'static str,
    other: &'static str,
}

#[derive(Serialize)]
struct HomePage<'a> {
    title: &'static str,
    user: Value,
    csrf: &'a str,
    heading: &'static str,
    intro: &'static str,
    mediator: bool,
    may_file: bool,
    sort: Sort,
    cases: Vec<CaseRow<'a>>,
    paging: Paging,
}

/// The query of `/`: `sort=newest|oldest` and `page=N` (from 1). Anything else, or nothing,
/// is the first page oldest first; a page past the last is the last.
#[derive(Deserialize, Default)]
struct ListQuery {
    sort: Option<String>,
    page: Option<String>,
}

/// `GET /`: the person's cases, oldest first (the ones open longest at the top) or with
/// `?sort=newest` the newest first, [`PAGE_SIZE`] a page (`?page=2`).
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
    let q = web::Query::<ListQuery>::from_query(req.query_string())
        .map(|q| q.into_inner())
        .unwrap_or_default();
    let newest = q.sort.as_deref() == Some("newest");
    let order = if newest { "newest" } else { "oldest" };
    let caller = who.caller.clone();
    let (rows, names, paging) = state
        .db(move |c| {
            let total: i64 = disputes::table
                .filter(visibility::visible_condition(&caller))
                .count()
                .get_result(c)?;
            let paging = Paging::of(q.page.as_deref(), total, |n| {
                format!("/?sort={order}&page={n}")
            });
            let query = disputes::table
                .select(ListRow::as_select())
                .filter(visibility::visible_condition(&caller))
                .limit(PAGE_SIZE)
                .offset(paging.offset());
            let stored: Vec<ListRow> = if newest {
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
                .map(crate::service::decode_listed)
                .collect::<Result<Vec<_>, _>>()?;
            let names = store::org_names(
                c,
                rows.iter()
                    .flat_map(|d| [&d.appellant_id, &d.respondent_id]),
            )?;
            Ok((rows, names, paging))
        })
        .await?;
    let today = state.clock.today();
    let cal = &state.calendar;
    let mediator = who.caller.has(Role::LmcMediator) && !who.caller.has(Role::Admin);
    let cases = rows
        .iter()
        .map(|d| CaseRow {
            case: CaseCells::listed(d, &names),
            mode: words::mediator_mode(d.mediator_mode.as_deref()),
            days_open: words::days_open(cal, today, crate::clock::london_date(d.created_at)),
            deadline: d.facts.next_step().map(|n| NextDeadline {
                label: words::deadline_label(n.kind),
                date: n.date.to_string(),
                left: words::days_left(cal, today, n.date),
            }),
        })
        .collect();
    let (title, intro) = heading(&who.caller);
    let data = HomePage {
        title,
        user: who.layout(),
        csrf: &who.csrf,
        heading: title,
        intro,
        mediator,
        may_file: who.caller.has(Role::PracticeUser) || who.caller.has(Role::Commissioner),
        sort: if newest {
            Sort {
                aria: "ascending",
                href: "/?sort=oldest",
                now: "newest first",
                other: "Show the oldest first",
            }
        } else {
            Sort {
                aria: "descending",
                href: "/?sort=newest",
                now: "oldest first",
                other: "Show the newest first",
            }
        },
        cases,
        paging,
    };
    Ok(page(StatusCode::OK, "home", &data))
}
