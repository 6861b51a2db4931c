//! A panelist's pages: "My hearings" (`/my/hearings`: the cases of my panels, each hearing's
//! date, time and venue, and the bundle's documents to download), "My unavailability"
//! (`/my/unavailability`: the days I cannot sit, added and removed) and "My register of
//! interests" (`/my/interests`). Each change goes through the API's own function
//! (`api::directory::record_entry`, `remove_entry`), so the pages refuse what the API refuses,
//! in its words; the dates a panelist cannot sit leave `GET /disputes/{id}/hearing-options` at
//! once.

use super::choose;
use super::forms::{Field, Input, Problem, Sent};
use super::register::{self, cell, row, AddForm, Register};
use super::session::SignedIn;
use super::{page, PageError, PageResult};
use crate::api::directory::{self as dir, Entry, NewEntry};
use crate::app::AppState;
use crate::db::directory::Choosable;
use crate::db::disputes as store;
use crate::domain::dispute::Dispute;
use crate::domain::roles::{Role, ORG_KINDS};
use crate::render::templates::{clock_time, long_date};
use crate::service::{directory, hearings, visibility};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use diesel::prelude::*;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use std::collections::HashMap;

/// Panelists' pages: a panelist (or, for the hearings, a panel secretary) only.
fn panelist(who: &SignedIn) -> PageResult<()> {
    if who.caller.has(Role::Panelist) {
        Ok(())
    } else {
        Err(PageError::NotFound)
    }
}

fn crumbs() -> Value {
    json!([{"href": "/", "text": "Your cases"}])
}

/// Where `user_id` sits on the panel of `d`, in words.
fn seat(d: &Dispute, user_id: &str) -> String {
    let Some(p) = &d.panel else {
        return String::new();
    };
    let mut seats = Vec::new();
    if p.chair_id == user_id {
        seats.push("Chair");
    }
    for (id, words) in [
        (&p.clinical_member_id, "Clinical member"),
        (&p.gp_conciliator_id, "GP conciliator"),
        (&p.lmc_representative_id, "LMC representative"),
        (&p.secretary_id, "Secretary (not voting)"),
    ] {
        if id == user_id {
            seats.push(words);
        }
    }
    seats.join(", ")
}

/// `GET /my/hearings`: the cases of my panels (a panelist's, or a panel secretary's).
pub async fn my_hearings(state: web::Data<AppState>, who: SignedIn) -> PageResult<HttpResponse> {
    if !hearings::may_have_feed(&who.caller.roles) {
        return Err(PageError::NotFound);
    }
    let caller = who.caller.clone();
    let cases = state
        .db(move |c| {
            let mut out = Vec::new();
            for d in hearings::panel_cases_of(c, &caller.user_id)? {
                let bundle_ids = d.detail.bundle_document_ids.clone().unwrap_or_default();
                let mut bundle = Vec::new();
                for m in store::documents_of(c, &d.id)? {
                    let kind = crate::service::document_kind(&m.kind)?;
                    if bundle_ids.contains(&m.id) && visibility::can_see_document(&caller, &d, kind)
                    {
                        bundle.push(json!({"href": format!("/documents/{}", m.id),
                                           "name": m.name}));
                    }
                }
                out.push((d, bundle));
            }
            Ok(out)
        })
        .await?;
    let me = who.caller.user_id.as_str();
    let cases: Vec<Value> = cases
        .into_iter()
        .map(|(d, bundle)| {
            let (state_text, colour) = super::words::state(d.state);
            json!({
                "id": d.id,
                "case_ref": d.case_ref(),
                "title": d.title,
                "seat": seat(&d, me),
                "state": {"text": state_text, "colour": colour},
                "hearing": d.hearing.as_ref().map(|h| json!({
                    "date": long_date(h.date), "time": clock_time(h.time), "venue": h.venue})),
                "bundle": bundle,
                "bundle_sent": d.bundle_distributed_on.map(long_date),
            })
        })
        .collect();
    let data = json!({
        "title": "My hearings",
        "user": who.layout(),
        "csrf": who.csrf,
        "breadcrumbs": crumbs(),
        "cases": cases,
    });
    Ok(page(StatusCode::OK, "hearings", &data))
}

// ------------------------------------------------------------------ my lists

/// What tells a panelist's two lists (`/my/unavailability`, `/my/interests`) apart on their
/// pages.
struct List {
    /// Its address under `/my/`.
    slug: &'static str,
    title: &'static str,
    intro: &'static str,
    caption: &'static str,
    head: &'static [&'static str],
    empty: &'static str,
    /// The form's heading and button.
    heading: &'static str,
    button: &'static str,
    /// The banner after an entry is added, and after one is removed.
    done: (&'static str, &'static str),
}

fn list_of(which: Entry) -> List {
    match which {
        Entry::Unavailability => List {
            slug: "unavailability",
            title: "My unavailability",
            intro: "The days you cannot sit on a panel. A hearing is not offered on them to the \
                    secretary of any panel you sit on.",
            caption: "Days you cannot sit",
            head: &["Days"],
            empty: "You have not recorded any days you cannot sit.",
            heading: "Add days you cannot sit",
            button: "Add these days",
            done: ("Days added", "Days removed"),
        },
        Entry::Interest => List {
            slug: "interests",
            title: "My register of interests",
            intro: "Your interests in practices, commissioning groups and LMCs. You cannot sit on \
                    the panel of a dispute in which a party is an organisation you have declared \
                    an interest in.",
            caption: "Interests you have declared",
            head: &["Organisation", "Interest", "Declared on"],
            empty: "You have not declared any interests.",
            heading: "Declare an interest",
            button: "Declare the interest",
            done: ("Interest declared", "Interest removed"),
        },
    }
}

/// The fields of a period of unavailability.
fn unavailability_fields() -> Vec<Field> {
    vec![
        Field::new(
            "from",
            "The first day you cannot sit",
            "For example, 16 3 2026",
            Input::Date,
        ),
        Field::new(
            "to",
            "The last day you cannot sit (if more than one day)",
            "For example, 20 3 2026. Leave it empty for a single day",
            Input::Date,
        ),
    ]
}

/// My entries of the list `which` as the table's rows, and the form's fields.
async fn rows_and_fields(
    state: &AppState,
    me: String,
    which: Entry,
) -> PageResult<(Vec<Value>, Vec<Field>)> {
    Ok(match which {
        Entry::Unavailability => {
            let periods = state
                .db(move |c| Ok(directory::unavailability_of(c, &me)?))
                .await?;
            let rows = periods
                .iter()
                .map(|p| {
                    let when = if p.from == p.to {
                        long_date(p.from)
                    } else {
                        format!("{} to {}", long_date(p.from), long_date(p.to))
                    };
                    row(
                        vec![cell(when.clone())],
                        Some((format!("/my/unavailability/{}/remove", p.id), when)),
                    )
                })
                .collect();
            (rows, unavailability_fields())
        }
        Entry::Interest => {
            let (entries, names, fields) = state
                .db(move |c| {
                    let entries = directory::interests_of(c, &me)?;
                    let names = interest_names(c, &entries)?;
                    Ok((entries, names, interest_fields(c)?))
                })
                .await?;
            let rows = interest_rows(
                &entries,
                &names,
                |e| format!("/my/interests/{e}/remove"),
                "your",
            );
            (rows, fields)
        }
    })
}

/// My list `which`, with the form to add to it (showing `sent` and its `problems`).
async fn list_page(
    state: &AppState,
    who: &SignedIn,
    which: Entry,
    banner: Option<&str>,
    sent: &Sent,
    problems: &[Problem],
    status: StatusCode,
) -> PageResult<HttpResponse> {
    let list = list_of(which);
    let (rows, fields) = rows_and_fields(state, who.caller.user_id.clone(), which).await?;
    let action = format!("/my/{}", list.slug);
    Ok(Register {
        intro: vec![list.intro.into()],
        banner,
        caption: list.caption,
        head: list.head.to_vec(),
        rows,
        empty: list.empty,
        form: Some(AddForm {
            heading: list.heading,
            action: &action,
            button: list.button,
            fields: &fields,
            sent,
            problems,
        }),
        ..Register::new(who, list.title, crumbs())
    }
    .render(status))
}

/// `GET /my/unavailability`, `GET /my/interests`: my list of `B`s.
pub async fn list<B: NewEntry>(
    state: web::Data<AppState>,
    who: SignedIn,
    req: HttpRequest,
) -> PageResult<HttpResponse> {
    panelist(&who)?;
    let banner = match register::done(&req).as_deref() {
        Some("added") => Some(list_of(B::ENTRY).done.0),
        Some("removed") => Some(list_of(B::ENTRY).done.1),
        _ => None,
    };
    list_page(
        &state,
        &who,
        B::ENTRY,
        banner,
        &Sent::new(),
        &[],
        StatusCode::OK,
    )
    .await
}

/// A period of unavailability whose last day is left empty is the first day alone (the
/// person is not asked to type the same date twice, WCAG 3.3.7): the first day, when it is a
/// real date, is sent as the last too. Returns whether the last day was left empty.
fn single_day(sent: &mut Sent) -> bool {
    let empty = matches!(super::forms::date_of(sent, "to"), Ok(None));
    if empty && matches!(super::forms::date_of(sent, "from"), Ok(Some(_))) {
        for part in ["day", "month", "year"] {
            if let Some(v) = sent.get(&format!("from-{part}")).cloned() {
                sent.insert(format!("to-{part}"), v);
            }
        }
    }
    empty
}

/// `POST /my/unavailability`, `POST /my/interests`: `api::directory::record_entry` for myself.
pub async fn add<B: NewEntry + DeserializeOwned>(
    state: web::Data<AppState>,
    who: SignedIn,
    form: web::Form<Vec<(String, String)>>,
) -> PageResult<HttpResponse> {
    let mut sent = register::checked(&who, form.into_inner())?;
    panelist(&who)?;
    let no_last_day = B::ENTRY == Entry::Unavailability && single_day(&mut sent);
    let (fields, to_send, found) = match B::ENTRY {
        Entry::Unavailability => (unavailability_fields(), sent.clone(), None),
        Entry::Interest => {
            let sent = sent.clone();
            let (fields, looked) = state.db(move |c| Ok(interest_form(c, &sent)?)).await?;
            (fields, looked.sent, looked.problem)
        }
    };
    let me = who.caller.user_id.clone();
    let outcome = register::through_api(&fields, &to_send, found, &[], |b: B| {
        dir::record_entry(&state, &who.caller, me, b)
    })
    .await?;
    match outcome {
        Ok(_) => Ok(super::signin::see_other(&format!(
            "/my/{}?done=added",
            list_of(B::ENTRY).slug
        ))),
        Err((status, mut problems)) => {
            // An empty last day is allowed; what is wrong is the first day, said already.
            if no_last_day {
                problems.retain(|p| p.field.as_deref() != Some("to"));
            }
            list_page(&state, &who, B::ENTRY, None, &sent, &problems, status).await
        }
    }
}

/// `POST /my/{list}/{entry}/remove`: removes an entry of my unavailability or my interests.
pub async fn remove(
    state: web::Data<AppState>,
    who: SignedIn,
    path: web::Path<(String, String)>,
    form: web::Form<Vec<(String, String)>>,
) -> PageResult<HttpResponse> {
    register::checked(&who, form.into_inner())?;
    panelist(&who)?;
    let (list, entry) = path.into_inner();
    let which = [Entry::Unavailability, Entry::Interest]
        .into_iter()
        .find(|w| list_of(*w).slug == list)
        .ok_or(PageError::NotFound)?;
    let entry = super::actions::uuid(&entry)?;
    dir::remove_entry(
        &state,
        &who.caller,
        who.caller.user_id.clone(),
        entry,
        which,
    )
    .await?;
    Ok(super::signin::see_other(&format!(
        "/my/{list}?done=removed"
    )))
}

// ------------------------------------------------------------------ interests

/// The organisations one may declare an interest in: every one but the service's own.
fn interest_organisations() -> Choosable {
    Choosable {
        kinds: ORG_KINDS.to_vec(),
        except: None,
        active_only: false,
    }
}

/// The fields of an entry of the register of interests.
pub fn interest_fields(c: &mut crate::db::DbConn) -> QueryResult<Vec<Field>> {
    let organisation = Field::new(
        "organisation_id",
        "The organisation",
        "The practice, commissioning group or LMC the interest is in.",
        Input::Text,
    );
    let organisation = choose::field(c, &interest_organisations(), organisation, |o| {
        match o.ods_code.as_deref().filter(|code| !code.is_empty()) {
            Some(code) => format!("{} ({code})", o.name),
            None => o.name.clone(),
        }
    })?;
    Ok(vec![
        organisation,
        Field::new(
            "nature",
            "The interest",
            "For example, partner at the practice until 2024, or a family member works there.",
            Input::Textarea,
        ),
        Field::new(
            "declared_on",
            "The day it was declared",
            "For example, 2 3 2026",
            Input::Date,
        ),
    ])
}

/// An interest's form as sent: its fields, and its organisation looked up
/// (`web::choose::look_up`).
pub fn interest_form(
    c: &mut crate::db::DbConn,
    sent: &Sent,
) -> QueryResult<(Vec<Field>, choose::LookedUp)> {
    let fields = interest_fields(c)?;
    let looked = choose::look_up(
        c,
        &interest_organisations(),
        &fields,
        "organisation_id",
        sent,
    )?;
    Ok((fields, looked))
}

/// The names of the organisations of `entries`, with their ODS codes.
pub fn interest_names(
    c: &mut crate::db::DbConn,
    entries: &[directory::Interest],
) -> QueryResult<HashMap<String, String>> {
    let ids: Vec<&str> = entries.iter().map(|e| e.organisation_id.as_str()).collect();
    crate::db::directory::labels(c, &ids)
}

/// The register's rows of `entries` (organisations named from `names`), each with its remove
/// button: posted to `remove_href(entry id)`, labelled "`whose` interest in ORGANISATION".
pub fn interest_rows(
    entries: &[directory::Interest],
    names: &HashMap<String, String>,
    remove_href: impl Fn(&str) -> String,
    whose: &str,
) -> Vec<Value> {
    entries
        .iter()
        .map(|i| {
            let org = names
                .get(&i.organisation_id)
                .map_or_else(|| "(unknown)".to_string(), Clone::clone);
            row(
                vec![
                    cell(org.clone()),
                    cell(i.nature.clone()),
                    cell(long_date(i.declared_on)),
                ],
                Some((remove_href(&i.id), format!("{whose} interest in {org}"))),
            )
        })
        .collect()
}
