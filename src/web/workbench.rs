//! The first page of two people who keep stage 2 moving (SPEC "Web pages"):
//!
//! - the panel secretary's **Deadlines** (`/deadlines`, and their `/`): every open case of
//!   their panels and every case awaiting a panel, the one whose next deadline comes first at
//!   the top, with the working days left, and breaches and deadlines two working days away or
//!   less marked in words and in colour; filtered by state and stage with a plain `GET` form;
//! - the accountable officer's **Disputes to screen** (`/screening`, and their `/`): the
//!   requests for formal resolution they must screen, with the LMC consultation's standing,
//!   then the other disputes of their commissioning group.
//!
//! Both read what `GET /api/v1/disputes` gives the same person (`visibility::visible_condition`).

use super::forms::{self, Field, Input, Problem, Sent};
use super::list::{CaseCells, Paging, Tag, PAGE_SIZE};
use super::session::SignedIn;
use super::{page, words, PageResult};
use crate::api::error::ApiError;
use crate::app::AppState;
use crate::db::disputes::{self as store, DisputeRow, ListRow, ListedCase};
use crate::db::schema::disputes;
use crate::db::DbConn;
use crate::domain::calendar::Calendar;
use crate::domain::dispute::Dispute;
use crate::domain::roles::Role;
use crate::domain::workflow::{self, EventType, State};
use crate::render::templates::long_date;
use crate::service::visibility;
use crate::service::Caller;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use diesel::prelude::*;
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::HashMap;

/// The most open cases the accountable officer's screening list reads (the oldest).
pub const MAX_CASES: i64 = 1000;

/// A deadline this many working days away, or fewer, is near.
pub const NEAR_WORKING_DAYS: i64 = 2;

/// Whether the deadlines page is the person's first page (a panel secretary who is not also
/// an admin or a mediator, whose own first pages come first).
pub fn secretary_home(c: &Caller) -> bool {
    c.has(Role::PanelSecretary) && !c.has(Role::Admin) && !c.has(Role::LmcMediator)
}

/// Whether the disputes to screen are the person's first page (an accountable officer with no
/// other role that has a first page of its own).
pub fn officer_home(c: &Caller) -> bool {
    c.has(Role::AccountableOfficer)
        && ![
            Role::Admin,
            Role::LmcMediator,
            Role::PanelSecretary,
            Role::PracticeUser,
            Role::Commissioner,
        ]
        .iter()
        .any(|r| c.has(*r))
}

/// The disputes `caller` may see whose state is one of `states`, oldest first, with the
/// names of their parties.
fn load(
    c: &mut DbConn,
    caller: &Caller,
    states: Vec<&'static str>,
) -> Result<(Vec<Dispute>, HashMap<String, String>), ApiError> {
    let stored: Vec<DisputeRow> = disputes::table
        .select(DisputeRow::as_select())
        .filter(visibility::visible_condition(caller))
        .filter(disputes::state.eq_any(states))
        .order((disputes::created_at.asc(), disputes::id.asc()))
        .limit(MAX_CASES)
        .load(c)?;
    let rows: Vec<Dispute> = stored
        .into_iter()
        .map(|r| Ok(crate::service::decode(r)?))
        .collect::<Result<_, ApiError>>()?;
    let names = store::org_names(
        c,
        rows.iter()
            .flat_map(|d| [&d.appellant_id, &d.respondent_id]),
    )?;
    Ok((rows, names))
}

/// A case as a row of a list ([`CaseCells`]), as a JSON object to add to.
pub fn case_row(d: &Dispute, names: &HashMap<String, String>) -> Value {
    // A struct of strings always serializes.
    serde_json::to_value(CaseCells::of(d, names)).unwrap_or_default()
}

/// The case's next deadline to meet (label, date, time left), or null.
pub fn next_deadline(cal: &Calendar, today: NaiveDate, d: &Dispute) -> Value {
    json!(d.deadline_facts().next_step().map(|n| {
        json!({"label": words::deadline_label(n.kind), "date": n.date.to_string(),
               "left": words::days_left(cal, today, n.date)})
    }))
}

/// How a deadline due on `due` stands today: (words, tag colour).
pub fn urgency(cal: &Calendar, today: NaiveDate, due: NaiveDate) -> (&'static str, &'static str) {
    if due < today {
        ("Breached", "red")
    } else if cal.working_days_between(today, due) <= NEAR_WORKING_DAYS {
        ("Due soon", "orange")
    } else {
        ("On track", "green")
    }
}

/// The filters of the deadlines page, as its form draws them.
fn filter_fields() -> Vec<Field> {
    let states = State::ALL
        .iter()
        .filter(|s| !s.is_terminal())
        .map(|s| (s.as_str().to_string(), words::state(*s).0.to_string()))
        .collect();
    vec![
        Field::new("state", "State", "", Input::Select(states)),
        Field::new(
            "stage",
            "Stage",
            "",
            Input::Select(vec![
                ("1".into(), "Stage 1: informal".into()),
                ("2".into(), "Stage 2: panel".into()),
                ("3".into(), "Stage 3: NHS Resolution".into()),
            ]),
        ),
    ]
}

/// The open states the filters leave, the filters as a query string for the pagination's
/// links (the ones that read, so a link never carries a mistake), and the problems with them.
fn filtered_states(q: &Sent) -> (Vec<&'static str>, String, Vec<Problem>) {
    let mut problems = Vec::new();
    let mut query = String::new();
    let state = q.get("state").map(|s| s.trim()).filter(|s| !s.is_empty());
    let state = match state.map(State::parse) {
        Some(Some(s)) if !s.is_terminal() => {
            query.push_str(&format!("state={}&", s.as_str()));
            Some(s)
        }
        Some(_) => {
            problems.push(Problem {
                field: Some("state".into()),
                text: "Choose a state from the list".into(),
            });
            None
        }
        None => None,
    };
    let stage = q.get("stage").map(|s| s.trim()).filter(|s| !s.is_empty());
    let stage = match stage.map(|s| s.parse::<u8>()) {
        Some(Ok(n @ 1..=3)) => {
            query.push_str(&format!("stage={n}&"));
            Some(n)
        }
        Some(_) => {
            problems.push(Problem {
                field: Some("stage".into()),
                text: "Choose a stage from the list".into(),
            });
            None
        }
        None => None,
    };
    let states = State::ALL
        .iter()
        .filter(|s| !s.is_terminal())
        .filter(|s| state.is_none_or(|x| x == **s))
        .filter(|s| stage.is_none_or(|n| s.stage() == Some(n)))
        .map(|s| s.as_str())
        .collect();
    (states, query, problems)
}

/// A case as a row of the deadlines page.
#[derive(Serialize)]
struct DeadlineCase<'a> {
    #[serde(flatten)]
    case: CaseCells<'a>,
    deadlines: Vec<DeadlineCell>,
}

/// A deadline still to be met, with how it stands today.
#[derive(Serialize)]
struct DeadlineCell {
    label: &'static str,
    /// In words ("Thursday 12 March 2026").
    date: String,
    left: String,
    tag: Tag,
}

#[derive(Serialize)]
struct DeadlinesPage<'a> {
    title: &'static str,
    user: Value,
    csrf: &'a str,
    heading: &'static str,
    intro: &'static str,
    today: String,
    errors: Vec<Value>,
    fields: Vec<Value>,
    filtered: bool,
    counts: String,
    cases: Vec<DeadlineCase<'a>>,
    paging: Paging,
}

/// What the deadlines page shows of the open cases.
struct DeadlineList {
    /// The page's cases, the next deadline first.
    rows: Vec<ListedCase>,
    /// Their parties' names, by id.
    names: HashMap<String, String>,
    paging: Paging,
    /// Of all the cases: how many have a deadline breached, how many one due soon.
    breached: i64,
    soon: i64,
    all: i64,
}

/// The cases of the deadlines page, sorted and counted in the database by each case's stored
/// next deadline (`disputes.next_deadline_on`): how many there are, how many breached and
/// due soon, and the page's cases, the next deadline first, cases with none at the end, the
/// oldest first among equals.
fn load_deadlines(
    c: &mut DbConn,
    caller: &Caller,
    states: Vec<&'static str>,
    cal: &Calendar,
    today: NaiveDate,
    asked: Option<String>,
    href: impl Fn(i64) -> String,
) -> Result<DeadlineList, ApiError> {
    let open = || {
        disputes::table
            .filter(visibility::visible_condition(caller))
            .filter(disputes::state.eq_any(states.clone()))
    };
    use diesel::dsl::{case_when, count, count_star};
    let next = disputes::next_deadline_on;
    let soon = next.ge(today).and(next.lt(soon_before(cal, today)));
    let (all, breached, soon): (i64, i64, i64) = open()
        .select((
            count_star(),
            count(case_when(next.lt(today), disputes::id)),
            count(case_when(soon, disputes::id)),
        ))
        .get_result(c)?;
    let paging = Paging::of(asked.as_deref(), all, href);
    let rows = open()
        .select(ListRow::as_select())
        .order((
            next.is_null(),
            next.asc(),
            disputes::created_at.asc(),
            disputes::id.asc(),
        ))
        .offset(paging.offset())
        .limit(PAGE_SIZE)
        .load::<ListRow>(c)?
        .into_iter()
        .map(|r| Ok(crate::service::decode_listed(r)?))
        .collect::<Result<Vec<ListedCase>, ApiError>>()?;
    let names = store::org_names(
        c,
        rows.iter()
            .flat_map(|d| [&d.appellant_id, &d.respondent_id]),
    )?;
    Ok(DeadlineList {
        rows,
        names,
        paging,
        breached,
        soon,
        all,
    })
}

/// The first date that is not "due soon" seen from `today` ([`urgency`]): a deadline from
/// `today` up to the day before it is at most [`NEAR_WORKING_DAYS`] working days away. Past
/// the calendar's range, nothing counts as due soon.
pub fn soon_before(cal: &Calendar, today: NaiveDate) -> NaiveDate {
    cal.add_working_days(today, NEAR_WORKING_DAYS + 1)
        .unwrap_or(today)
}

/// `GET /deadlines?state=&stage=&page=`.
pub async fn deadlines_page(
    state: web::Data<AppState>,
    who: SignedIn,
    req: HttpRequest,
) -> PageResult<HttpResponse> {
    deadlines(&state, &who, &req).await
}

/// The deadlines page (also the panel secretary's `/`), [`PAGE_SIZE`] cases a page.
pub async fn deadlines(
    state: &AppState,
    who: &SignedIn,
    req: &HttpRequest,
) -> PageResult<HttpResponse> {
    let q = web::Query::<Sent>::from_query(req.query_string())
        .map(|q| q.into_inner())
        .unwrap_or_default();
    let (states, query, problems) = filtered_states(&q);
    let caller = who.caller.clone();
    let today = state.clock.today();
    let cal = state.calendar.clone();
    let asked = q.get("page").cloned();
    let DeadlineList {
        rows,
        names,
        paging,
        breached,
        soon,
        all,
    } = state
        .db(move |c| {
            let href = |n: i64| format!("/deadlines?{query}page={n}");
            load_deadlines(c, &caller, states, &cal, today, asked, href)
        })
        .await?;
    let cal = &state.calendar;
    let cases = rows
        .iter()
        .map(|d| DeadlineCase {
            case: CaseCells::listed(d, &names),
            deadlines: d
                .facts
                .steps()
                .into_iter()
                .filter(|x| x.pending)
                .map(|x| {
                    let (text, colour) = urgency(cal, today, x.date);
                    DeadlineCell {
                        label: words::deadline_label(x.kind),
                        date: long_date(x.date),
                        left: words::days_left(cal, today, x.date),
                        tag: Tag { text, colour },
                    }
                })
                .collect(),
        })
        .collect();
    let fields = filter_fields();
    let filtered = ["state", "stage"]
        .iter()
        .any(|k| q.get(*k).is_some_and(|v| !v.trim().is_empty()));
    let data = DeadlinesPage {
        title: "Deadlines",
        user: who.layout(),
        csrf: &who.csrf,
        heading: "Deadlines",
        intro: "Every open case of the panels you are secretary of and every case waiting for a \
                panel, the next deadline first. Working days leave out weekends and bank holidays.",
        today: long_date(today),
        errors: forms::summary(&fields, &problems),
        fields: forms::render_fields(&fields, &q, &problems),
        filtered,
        counts: format!(
            "{all} {}: {breached} with a deadline breached, {soon} due within {NEAR_WORKING_DAYS} working days.",
            if all == 1 { "case" } else { "cases" }
        ),
        cases,
        paging,
    };
    Ok(page(StatusCode::OK, "deadlines", &data))
}

/// `GET /screening`.
pub async fn screening_page(state: web::Data<AppState>, who: SignedIn) -> PageResult<HttpResponse> {
    screening(&state, &who).await
}

/// The accountable officer's disputes to screen (also their `/`).
pub async fn screening(state: &AppState, who: &SignedIn) -> PageResult<HttpResponse> {
    let caller = who.caller.clone();
    let open: Vec<&'static str> = State::ALL
        .iter()
        .filter(|s| !s.is_terminal())
        .map(|s| s.as_str())
        .collect();
    let (rows, names) = state.db(move |c| load(c, &caller, open)).await?;
    let today = state.clock.today();
    let cal = &state.calendar;
    let mut to_screen = Vec::new();
    let mut others = Vec::new();
    for d in &rows {
        let allowed = workflow::allowed(d.state, &visibility::relations(&who.caller, d));
        let mut case = case_row(d, &names);
        if allowed.contains(&EventType::Screen) {
            case["lodged"] = json!(d.lodged_on.map(long_date));
            case["hearing_by"] = json!(d.deadlines.hearing_by.map(|by| format!(
                "{} ({})",
                long_date(by),
                words::days_left(cal, today, by).to_lowercase()
            )));
            case["consulted"] = json!(match d.lmc_consulted_on {
                Some(on) => format!("Consulted on {}", long_date(on)),
                None => "Not consulted yet".into(),
            });
            let link = |e: EventType| {
                allowed.contains(&e).then(|| {
                    json!({"href": super::actions::action_href(&d.id, e), "text": words::action(e)})
                })
            };
            case["actions"] = json!([
                link(EventType::RecordLmcConsultation),
                link(EventType::Screen)
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>());
            to_screen.push(case);
        } else {
            case["deadline"] = next_deadline(cal, today, d);
            others.push(case);
        }
    }
    let data = json!({
        "title": "Disputes to screen",
        "user": who.layout(),
        "csrf": who.csrf,
        "heading": "Disputes to screen",
        "intro": "Requests for formal resolution your commissioning group must screen: each goes \
                  to a panel, or is screened out as frivolous or vexatious.",
        "rule": "Rule 1: a request may be screened out as frivolous or vexatious only after the \
                 LMC has been consulted. Record the consultation first.",
        "to_screen": to_screen,
        "others": others,
    });
    Ok(page(StatusCode::OK, "screening", &data))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The deadlines page counts "due soon" in the database as `today <= due < soon_before`;
    /// the tags say it with [`urgency`]. They agree for every pair of days over two years,
    /// bank holidays, weekends and year ends included.
    #[test]
    fn the_count_of_deadlines_due_soon_agrees_with_their_tags() {
        let cal = Calendar::computed();
        let start = NaiveDate::from_ymd_opt(2025, 12, 1).unwrap();
        for t in 0..730 {
            let today = start + chrono::Duration::days(t);
            let before = soon_before(&cal, today);
            for ahead in 0..20 {
                let due = today + chrono::Duration::days(ahead);
                assert_eq!(
                    urgency(&cal, today, due).0 == "Due soon",
                    due < before,
                    "today {today}, due {due}"
                );
            }
        }
    }
}
