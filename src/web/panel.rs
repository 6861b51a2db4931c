//! The panel secretary's forms (SPEC "Web pages", panel secretary): appointing the panel
//! (with a "Check the panel" button that runs the same composition and conflict rules as the
//! submit, writing nothing), scheduling or moving the hearing — from the hearing calendar,
//! `/disputes/{id}/hearing-calendar`, a month of days each offered or explained —,
//! distributing the bundle by ticking the case's documents, recording the hearing and the
//! decision (one vote per voting member), and sending the decision.
//!
//! The forms are drawn and sent by [`super::actions`] like every other event's; this module
//! gives each its fields, completes them for the case (the eligible people, the documents,
//! the members' names, the date rules with the days they fall on) and turns what was ticked
//! into the API's body (the chair's seat into `chair_id`, the votes into `votes`).

use super::actions::{case_crumbs, uuid, EventForm};
use super::forms::{self, Extras, Field, Input, Problem, Sent};
use super::session::SignedIn;
use super::{page, words, PageResult};
use crate::app::AppState;
use crate::db::{directory, disputes as store};
use crate::domain::deadlines;
use crate::domain::dispute::{Dispute, DocumentKind};
use crate::domain::hearing_days::{self, Why};
use crate::domain::roles;
use crate::domain::workflow::{self, EventType};
use crate::render::templates::long_date;
use crate::service::visibility;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{Datelike, Months, NaiveDate};
use serde_json::{json, Map, Value};
use std::collections::HashMap;

/// The three voting seats: the form's field, the API's id field, the seat's name.
const SEATS: [(&str, &str, &str); 3] = [
    ("clinical", "clinical_member_id", "clinical member"),
    ("gp", "gp_conciliator_id", "GP conciliator"),
    ("lmc", "lmc_representative_id", "LMC representative"),
];

/// The vote fields, seat by seat (see [`SEATS`]).
const VOTES: [&str; 3] = ["vote_clinical", "vote_gp", "vote_lmc"];

fn override_field(hint: &'static str) -> Field {
    Field::new(
        forms::OVERRIDE_REASON,
        "Reason for going ahead anyway (only if a date rule is broken)",
        hint,
        Input::Textarea,
    )
    .called("The reason for the override")
}

fn sides() -> Input {
    Input::Radios(vec![
        (
            "appellant".into(),
            "For the appellant".into(),
            String::new(),
        ),
        (
            "respondent".into(),
            "For the respondent".into(),
            String::new(),
        ),
    ])
}

/// The form of one of the panel's events (its options are completed by [`complete`]).
pub fn event_form(event: EventType) -> Option<EventForm> {
    use EventType::*;
    let select = |name, label, hint| Field::new(name, label, hint, Input::Select(Vec::new()));
    let (heading, intro, button, fields) = match event {
        AppointPanel => (
            "Appoint the panel",
            "Choose the three voting members, the chair among them, and the secretary. Check the \
             panel to see every composition or conflict problem before you appoint it.",
            "Appoint the panel",
            vec![
                select(
                    "clinical_member_id",
                    "Clinical member",
                    "A clinical board member of a commissioning group that is neither a party \
                     nor the commissioning group of a party practice.",
                ),
                select(
                    "gp_conciliator_id",
                    "GP conciliator",
                    "Nobody from a party, with an interest in a party, or who mediated the case.",
                ),
                select(
                    "lmc_representative_id",
                    "LMC representative",
                    "From an LMC of another area than both parties (another region too, for a \
                     dispute between practices).",
                ),
                Field::new(
                    "chair_id",
                    "Who chairs the panel?",
                    "",
                    Input::Radios(
                        SEATS
                            .iter()
                            .map(|(v, _, seat)| {
                                (v.to_string(), format!("The {seat}"), String::new())
                            })
                            .collect(),
                    ),
                )
                .called("The chair"),
                select(
                    "secretary_id",
                    "Panel secretary",
                    "Does not vote, and is none of the three members.",
                ),
            ],
        ),
        ScheduleHearing => (
            "Schedule the hearing",
            "Everyone is sent the notice of the hearing, with a calendar invitation. Moving a \
             hearing sends the new date to everyone.",
            "Schedule the hearing",
            vec![
                Field::new(
                    "date",
                    "Date of the hearing",
                    "Choose a date in the hearing calendar, or enter one, for example 12 3 2026",
                    Input::Date,
                ),
                Field::new(
                    "time",
                    "Time",
                    "24-hour clock, for example 10:00",
                    Input::Text,
                ),
                Field::new(
                    "venue",
                    "Venue",
                    "For example, Room 1, County Hall, Chelmsford",
                    Input::Text,
                ),
                override_field(
                    "Only the panel secretary may go ahead on a date after the hearing deadline, \
                     with less than 7 working days' notice, or when a member is unavailable. It \
                     is recorded as a breach and counted in the timeliness report.",
                ),
            ],
        ),
        DistributeBundle => (
            "Distribute the bundle",
            "The documents you tick are sent to both parties and every panel member.",
            "Distribute the bundle",
            vec![
                Field::new(
                    "document_ids",
                    "Documents in the bundle",
                    "Tick every document the parties and the panel are to receive.",
                    Input::Checkboxes(Vec::new()),
                )
                .called("The documents"),
                override_field(
                    "Only if the bundle is late: it is recorded as a breach and counted in the \
                     timeliness report.",
                ),
            ],
        ),
        RecordHearing => (
            "Record the hearing",
            "The record is seen only by the panel and its secretary.",
            "Record the hearing",
            vec![
                Field::new(
                    "held_on",
                    "The day the hearing was held",
                    "For example, 12 3 2026",
                    Input::Date,
                ),
                Field::new(
                    "appellant_presented",
                    "Did the appellant present their case?",
                    "",
                    Input::YesNo,
                )
                .called("Whether the appellant presented"),
                Field::new(
                    "respondent_presented",
                    "Did the respondent present their case?",
                    "",
                    Input::YesNo,
                )
                .called("Whether the respondent presented"),
                Field::new("record", "The hearing record", "", Input::Textarea),
                override_field(
                    "Only for a hearing held after the deadline or on another day than \
                     scheduled: it is recorded as a breach.",
                ),
            ],
        ),
        RecordDecision => (
            "Record the panel's decision",
            "One vote for each voting member; the majority of the three decides. The parties \
             see the decision and the recommendations once it is sent.",
            "Record the decision",
            vec![
                Field::new(VOTES[0], "Vote of the clinical member", "", sides()),
                Field::new(VOTES[1], "Vote of the GP conciliator", "", sides()),
                Field::new(VOTES[2], "Vote of the LMC representative", "", sides()),
                Field::new("outcome", "The panel's decision", "", sides()).called("The decision"),
                Field::new(
                    "recommendations",
                    "Recommendations (optional)",
                    "",
                    Input::Textarea,
                ),
            ],
        ),
        NotifyDecision => (
            "Send the decision to the parties",
            "Both parties are sent the written decision and the recommendations.",
            "Send the decision",
            vec![override_field(
                "Only if the decision is late: it is recorded as a breach and counted in the \
                 timeliness report.",
            )],
        ),
        _ => return None,
    };
    Some(EventForm {
        heading,
        intro,
        button,
        warning: false,
        fields,
    })
}

/// Whether the event's form has a "check" button (appointing a panel).
pub fn checks(event: EventType) -> bool {
    event == EventType::AppointPanel
}

/// The form's extras: its rules in inset text, and the check button where there is one.
pub fn extras(event: EventType, rules: Vec<String>) -> Extras {
    Extras {
        rules,
        check: checks(event).then_some("Check the panel"),
        checked: None,
    }
}

/// Whether a check was sent by the page's script as the choices changed (`check=live`): it is
/// answered with the `check_result` partial alone, not the whole page.
pub fn live(sent: &Sent) -> bool {
    sent.get("check").map(String::as_str) == Some("live")
}

/// What a check found, as the `check_result` partial draws it: "No problems found" and its
/// sentence, or how many problems and each (linked to its field, as in the error summary).
pub fn check_result(_event: EventType, fields: &[Field], problems: &[Problem]) -> Value {
    match problems.len() {
        0 => json!({
            "heading": "No problems found",
            "text": "This panel meets every composition and conflict rule. Appoint it when you \
                     are ready.",
            "problems": [],
        }),
        n => json!({
            "heading": if n == 1 { "1 problem found".to_string() } else { format!("{n} problems found") },
            "text": null,
            "problems": forms::summary(fields, problems),
        }),
    }
}

/// The answer to a live check: the `check_result` partial alone (the full page draws the same
/// partial in its `aria-live` region).
pub fn check_fragment(event: EventType, fields: &[Field], problems: &[Problem]) -> HttpResponse {
    page(
        StatusCode::OK,
        "check_result",
        &json!({"checked": check_result(event, fields, problems)}),
    )
}

fn set_options(form: &mut EventForm, name: &str, input: Input) {
    if let Some(f) = form.fields.iter_mut().find(|f| f.name == name) {
        f.input = input;
    }
}

/// Completes `form` for the case `d`: the people, documents and names it offers, and the
/// rules it shows with the days they fall on.
pub async fn complete(
    state: &AppState,
    who: &SignedIn,
    d: &Dispute,
    event: EventType,
    mut form: EventForm,
) -> PageResult<(EventForm, Vec<String>)> {
    let today = state.clock.today();
    let cal = &state.calendar;
    let mut rules = Vec::new();
    match event {
        EventType::Screen => {
            rules.push(match d.lmc_consulted_on {
                Some(on) => format!(
                    "Rule 1: a request may be screened out as frivolous or vexatious only after \
                     the LMC has been consulted. The LMC was consulted on {}.",
                    long_date(on)
                ),
                None => "Rule 1: a request may be screened out as frivolous or vexatious only \
                         after the LMC has been consulted. The LMC has not been consulted on \
                         this case yet: record the consultation first if you mean to screen \
                         the request out."
                    .into(),
            });
        }
        EventType::AppointPanel => {
            let people = state.db(|c| Ok(directory::appointable(c)?)).await?;
            let of = |pred: &dyn Fn(&[String], &[String]) -> bool| -> Input {
                Input::Select(
                    people
                        .iter()
                        .filter(|(_, _, r, p, _)| pred(&roles::split(r), &roles::split(p)))
                        .map(|(id, name, _, _, org)| (id.clone(), format!("{name} ({org})")))
                        .collect(),
                )
            };
            let panel_role =
                |role: &'static str| move |_: &[String], p: &[String]| p.iter().any(|x| x == role);
            set_options(
                &mut form,
                "clinical_member_id",
                of(&panel_role("clinical_board_member")),
            );
            set_options(
                &mut form,
                "gp_conciliator_id",
                of(&panel_role("gp_conciliator")),
            );
            set_options(
                &mut form,
                "lmc_representative_id",
                of(&panel_role("lmc_representative")),
            );
            set_options(
                &mut form,
                "secretary_id",
                of(&|r: &[String], _: &[String]| r.iter().any(|x| x == "panel_secretary")),
            );
            rules.push(
                "Rule 2: three different voting members and a secretary who is none of them; \
                 nobody who belongs to a party, has declared an interest in a party, or was the \
                 case's mediator; the chair is one of the three."
                    .into(),
            );
            if let Some(by) = d.deadlines.hearing_by {
                rules.push(format!(
                    "The hearing must be held by {} ({}).",
                    long_date(by),
                    words::days_left(cal, today, by).to_lowercase()
                ));
            }
        }
        EventType::ScheduleHearing => {
            if let Some(by) = d.deadlines.hearing_by {
                rules.push(format!(
                    "Rule 3: the hearing must be held by {} ({} working days after the request \
                     was lodged).",
                    long_date(by),
                    deadlines::HEARING_WORKING_DAYS
                ));
            }
            if let Some(earliest) = deadlines::earliest_hearing_after_notice(cal, today) {
                rules.push(format!(
                    "Rule 4: at least {} clear working days' notice. With the notice sent today, \
                     the earliest date is {}.",
                    deadlines::NOTICE_WORKING_DAYS,
                    long_date(earliest)
                ));
            }
            if let Some(h) = d.hearing.as_ref().filter(|h| h.date > today) {
                rules.push(format!(
                    "A new time or venue on {}, the hearing's day now, keeps the notice \
                     already given.",
                    long_date(h.date)
                ));
            }
        }
        EventType::ReferToFhsu => {
            let id = d.id.clone();
            let docs = state.db(move |c| Ok(store::documents_of(c, &id)?)).await?;
            let sees = visibility::can_see_document(&who.caller, d, DocumentKind::Contract);
            let contracts = docs
                .iter()
                .filter(|m| sees && m.kind == DocumentKind::Contract.as_str())
                .map(|m| {
                    let added = super::case::timestamp(&m.created_at);
                    (m.id.clone(), format!("{}, added {added}", m.name))
                })
                .collect();
            set_options(&mut form, "contract_document_id", Input::Select(contracts));
            let mut rule = "Rule 7: only a dispute about a contract matter, and not one between \
                            two practices, can be referred, with your statement and the contract."
                .to_string();
            if let Some(by) = d.deadlines.fhsu_by {
                rule.push_str(&format!(
                    " The last day to refer it is {} (the day before the third anniversary of \
                     the matter).",
                    long_date(by)
                ));
            }
            rules.push(rule);
        }
        EventType::DistributeBundle => {
            let (id, caller) = (d.id.clone(), who.caller.clone());
            let docs = state.db(move |c| Ok(store::documents_of(c, &id)?)).await?;
            let options = docs
                .iter()
                .filter_map(|m| {
                    let kind: DocumentKind = m.kind.parse().ok()?;
                    let fits =
                        !d.panel_only(kind) && visibility::can_see_document(&caller, d, kind);
                    fits.then(|| {
                        (
                            m.id.clone(),
                            m.name.clone(),
                            format!(
                                "{}, added {}",
                                words::document_kind(&m.kind),
                                super::case::timestamp(&m.created_at)
                            ),
                        )
                    })
                })
                .collect();
            set_options(&mut form, "document_ids", Input::Checkboxes(options));
            if let Some(h) = &d.hearing {
                let last = deadlines::latest_bundle_day(cal, h.date);
                let mut rule = format!(
                    "Rule 5: the bundle must reach everyone at least {} clear working days \
                     before the hearing on {}",
                    deadlines::BUNDLE_WORKING_DAYS,
                    long_date(h.date)
                );
                if let Some(last) = last {
                    rule.push_str(&format!(
                        ": distribute it on or before {}.",
                        long_date(last)
                    ));
                    if today > last {
                        rule.push_str(
                            " That day has passed: the bundle can go now only with a reason for \
                             the override, recorded as a breach.",
                        );
                    }
                } else {
                    rule.push('.');
                }
                rules.push(rule);
            }
        }
        EventType::RecordHearing => {
            let names = party_names(state, d).await?;
            for (field, party) in [
                ("appellant_presented", &names.0),
                ("respondent_presented", &names.1),
            ] {
                if let Some(f) = form.fields.iter_mut().find(|f| f.name == field) {
                    f.hint = party.clone().into();
                }
            }
            if let Some(h) = &d.hearing {
                rules.push(format!(
                    "The hearing was scheduled for {}.",
                    long_date(h.date)
                ));
            }
        }
        EventType::RecordDecision => {
            let (appellant, respondent) = party_names(state, d).await?;
            let ids: Vec<String> = d.voting_members().iter().map(|s| s.to_string()).collect();
            let names = state
                .db(move |c| Ok(store::user_names(c, ids.iter())?))
                .await?;
            let sides = Input::Radios(vec![
                (
                    "appellant".into(),
                    format!("For the appellant, {appellant}"),
                    String::new(),
                ),
                (
                    "respondent".into(),
                    format!("For the respondent, {respondent}"),
                    String::new(),
                ),
            ]);
            let members = d.voting_members();
            for (i, field) in VOTES.iter().enumerate() {
                let seat = SEATS[i].2;
                let name = members
                    .get(i)
                    .and_then(|id| names.get(*id))
                    .cloned()
                    .unwrap_or_default();
                if let Some(f) = form.fields.iter_mut().find(|f| f.name == *field) {
                    f.label = format!("Vote of {name}, the {seat}").into();
                    f.noun = format!("The vote of {name}").into();
                    f.input = sides.clone();
                }
            }
            set_options(&mut form, "outcome", sides);
        }
        EventType::NotifyDecision => {
            if let (Some(held), Some(by)) = (d.held_on, d.deadlines.decision_by) {
                let mut rule = format!(
                    "Rule 6: the written decision must be sent within {} days after the hearing \
                     on {}: by {}.",
                    deadlines::DECISION_DAYS,
                    long_date(held),
                    long_date(by)
                );
                if today > by {
                    rule.push_str(
                        " That day has passed: it can go now only with a reason for the \
                         override, recorded as a breach.",
                    );
                }
                rules.push(rule);
            }
        }
        _ => {}
    }
    Ok((form, rules))
}

/// The appellant's and the respondent's names.
async fn party_names(state: &AppState, d: &Dispute) -> PageResult<(String, String)> {
    let ids = [d.appellant_id.clone(), d.respondent_id.clone()];
    let names = state
        .db(move |c| Ok(store::org_names(c, ids.iter())?))
        .await?;
    let name = |id: &str| names.get(id).cloned().unwrap_or_default();
    Ok((name(&d.appellant_id), name(&d.respondent_id)))
}

/// What a form starts with: the date the calendar chose (`?date=`), the scheduled hearing's
/// day as the day it was held, the signed-in secretary as the panel's secretary.
pub fn prefill(who: &SignedIn, d: &Dispute, event: EventType, query: &Sent) -> Sent {
    let mut sent = Sent::new();
    match event {
        EventType::ScheduleHearing => {
            if let Some(day) = query
                .get("date")
                .and_then(|q| NaiveDate::parse_from_str(q, "%Y-%m-%d").ok())
            {
                put_date(&mut sent, "date", day);
            }
            if let Some(h) = &d.hearing {
                sent.insert("time".into(), h.time_text());
                sent.insert("venue".into(), h.venue.clone());
            }
        }
        EventType::RecordHearing => {
            if let Some(h) = &d.hearing {
                put_date(&mut sent, "held_on", h.date);
            }
        }
        EventType::AppointPanel => {
            sent.insert("secretary_id".into(), who.caller.user_id.clone());
        }
        _ => {}
    }
    sent
}

/// `day` in the three boxes of the date input `name`.
fn put_date(sent: &mut Sent, name: &str, day: NaiveDate) {
    sent.insert(format!("{name}-day"), day.day().to_string());
    sent.insert(format!("{name}-month"), day.month().to_string());
    sent.insert(format!("{name}-year"), day.year().to_string());
}

/// The form's values as the API takes them: the chair's seat as the member chosen for it,
/// the votes as `votes`.
pub fn adapt(event: EventType, d: &Dispute, body: &mut Map<String, Value>) {
    match event {
        EventType::AppointPanel => {
            let seat = body
                .get("chair_id")
                .and_then(Value::as_str)
                .map(String::from);
            if let Some(seat) = seat {
                let chosen = SEATS
                    .iter()
                    .find(|(v, ..)| *v == seat)
                    .and_then(|(_, field, _)| body.get(*field).cloned());
                match chosen {
                    Some(id) => body.insert("chair_id".into(), id),
                    None => body.remove("chair_id"),
                };
            }
        }
        EventType::RecordDecision => {
            let members = d.voting_members();
            let votes: Vec<Value> = VOTES
                .iter()
                .zip(members)
                .filter_map(|(field, member)| {
                    let vote = body.remove(*field)?;
                    Some(json!({"member_id": member, "vote": vote}))
                })
                .collect();
            body.insert("votes".into(), json!(votes));
        }
        _ => {}
    }
}

// ------------------------------------------------------------------ the hearing calendar

/// One day of the calendar as the template draws it.
fn day_cell(
    id: &str,
    day: NaiveDate,
    month: u32,
    why: &[Why],
    hearing: Option<NaiveDate>,
) -> Value {
    if day.month() != month {
        return json!({"blank": true});
    }
    let reasons: Vec<String> = why.iter().map(Why::words).collect();
    let weekend = why.contains(&Why::Weekend);
    json!({
        "blank": false,
        "day": day.day(),
        "iso": day.to_string(),
        "long": long_date(day),
        "offered": why.is_empty(),
        "href": format!("/disputes/{id}/actions/schedule_hearing?date={day}"),
        "reasons": if weekend { "weekend".to_string() } else { reasons.join("; ") },
        "weekend": weekend,
        "current": hearing == Some(day),
    })
}

/// `GET /disputes/{id}/hearing-calendar?month=YYYY-MM`: the month's days, each either
/// offered (a link to the scheduling form with that date) or with the reasons it is not, from
/// the same rules as `GET /api/v1/disputes/{id}/hearing-options`.
pub async fn calendar(
    state: web::Data<AppState>,
    who: SignedIn,
    id: web::Path<String>,
    req: HttpRequest,
) -> PageResult<HttpResponse> {
    let query = web::Query::<HashMap<String, String>>::from_query(req.query_string())
        .map(|q| q.into_inner())
        .unwrap_or_default();
    let id = uuid(&id)?;
    let today = state.clock.today();
    let cal = state.calendar.clone();
    let caller = who.caller.clone();
    // A month the calendar does not cover (or no month) shows the first one with a day.
    let asked = query
        .get("month")
        .and_then(|m| NaiveDate::parse_from_str(&format!("{m}-01"), "%Y-%m-%d").ok())
        .filter(|m| cal.in_range(*m) && cal.in_range(*m + Months::new(2)));
    let (d, names, away, first) = state
        .db(move |c| {
            let d = crate::service::visible(c, &caller, &id)?;
            let by = d.deadlines.hearing_by;
            let earliest = deadlines::earliest_hearing_after_notice(&cal, today);
            let first = asked
                .or(earliest.map(|e| e.with_day(1).unwrap_or(e)))
                .unwrap_or(today);
            let first = first.with_day(1).unwrap_or(first);
            let last = first + Months::new(1);
            let away = crate::service::hearings::unavailability(
                c,
                &d,
                today,
                Some(last.max(by.unwrap_or(last))),
            )?;
            let members: Vec<String> = d
                .panel
                .as_ref()
                .map(|p| p.everyone().iter().map(|s| s.to_string()).collect())
                .unwrap_or_default();
            let names = store::user_names(c, members.iter())?;
            Ok((d, names, away, first))
        })
        .await?;
    let allowed = workflow::allowed(d.state, &visibility::relations(&who.caller, &d))
        .contains(&EventType::ScheduleHearing);
    let cal = &state.calendar;
    let by = d.deadlines.hearing_by;
    let hearing = d.hearing.as_ref().map(|h| h.date);
    // Weeks from the Monday on or before the 1st to the Sunday on or after the month's end.
    let start = first - chrono::Days::new(u64::from(first.weekday().num_days_from_monday()));
    let end = first + Months::new(1) - chrono::Days::new(1);
    let mut weeks = Vec::new();
    let mut day = start;
    while day <= end {
        let week: Vec<Value> = (0..7)
            .map(|i| {
                let date = day + chrono::Days::new(i);
                let why = hearing_days::judge(cal, today, by, &away, date);
                day_cell(&d.id, date, first.month(), &why, hearing)
            })
            .collect();
        weeks.push(json!({"days": week}));
        day = day + chrono::Days::new(7);
    }
    let offered = hearing_days::offered(cal, today, by, &away, 60);
    let in_month: Vec<Value> = offered
        .iter()
        .filter(|o| o.month() == first.month() && o.year() == first.year())
        .map(|o| {
            json!({"long": long_date(*o),
            "href": format!("/disputes/{}/actions/schedule_hearing?date={o}", d.id)})
        })
        .collect();
    let month_link = |m: NaiveDate| {
        json!({"href": format!("/disputes/{}/hearing-calendar?month={}", d.id, m.format("%Y-%m")),
               "text": m.format("%B %Y").to_string()})
    };
    let members: Vec<String> = d
        .panel
        .as_ref()
        .map(|p| {
            p.everyone()
                .iter()
                .filter_map(|i| names.get(*i).cloned())
                .collect()
        })
        .unwrap_or_default();
    let mut rules = Vec::new();
    if let Some(by) = by {
        rules.push(format!(
            "The hearing must be held by {} ({} working days after the request was lodged).",
            long_date(by),
            deadlines::HEARING_WORKING_DAYS
        ));
    }
    if let Some(earliest) = deadlines::earliest_hearing_after_notice(cal, today) {
        rules.push(format!(
            "With the notice sent today, {} clear working days' notice makes {} the \
             earliest date.",
            deadlines::NOTICE_WORKING_DAYS,
            long_date(earliest)
        ));
    }
    if !members.is_empty() {
        rules.push(format!(
            "Days when any of {} cannot sit are left out.",
            members.join(", ")
        ));
    }
    let heading = if hearing.is_some() {
        "Move the hearing"
    } else {
        "Choose the hearing date"
    };
    let data = json!({
        "title": format!("{heading}: {}", first.format("%B %Y")),
        "user": who.layout(),
        "csrf": who.csrf,
        "breadcrumbs": case_crumbs(&d),
        "caption": d.case_ref(),
        "heading": heading,
        "allowed": allowed,
        "not_allowed": format!(
            "You cannot schedule the hearing now: the case is “{}”.",
            words::state(d.state).0
        ),
        "current": d.hearing.as_ref().map(|h| format!("The hearing is now on {} at {}, {}.",
            long_date(h.date), crate::render::templates::clock_time(h.time), h.venue)),
        // A new time or venue on the same day needs no new notice (rule 4 is of the date).
        "same_day": d.hearing.as_ref().filter(|h| h.date > today).map(|h|
            format!("/disputes/{}/actions/schedule_hearing?date={}", d.id, h.date)),
        "rules": rules,
        "month": first.format("%B %Y").to_string(),
        "weeks": weeks,
        "offered": in_month,
        "offered_total": offered.len(),
        "previous": month_link(first - Months::new(1)),
        "next": month_link(first + Months::new(1)),
        "form": format!("/disputes/{}/actions/schedule_hearing", d.id),
        "case": format!("/disputes/{}", d.id),
    });
    Ok(page(StatusCode::OK, "hearing_calendar", &data))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::templates::templates;

    fn drawn(checked: Value) -> String {
        templates()
            .render("check_result", &json!({ "checked": checked }))
            .unwrap()
    }

    #[test]
    fn a_check_is_drawn_by_one_partial_for_the_page_and_the_live_region() {
        let fields = event_form(EventType::AppointPanel).unwrap().fields;
        let problems = [
            Problem {
                field: Some("gp_conciliator_id".into()),
                text: "GP conciliator is required".into(),
            },
            Problem {
                field: None,
                text: "Dr <Grey>, proposed as the GP conciliator, has an interest".into(),
            },
        ];
        let html = drawn(check_result(EventType::AppointPanel, &fields, &problems));
        assert!(html.contains("app-check-result"), "{html}");
        assert!(html.contains("2 problems found"), "{html}");
        assert!(
            html.contains(r##"<a href="#gp_conciliator_id">GP conciliator is required</a>"##),
            "each problem links to its field, as in the error summary: {html}"
        );
        assert!(html.contains("<li>Dr &lt;Grey&gt;, proposed"), "{html}");
        let one = drawn(check_result(
            EventType::AppointPanel,
            &fields,
            &problems[1..],
        ));
        assert!(one.contains("1 problem found"), "{one}");
        let passed = drawn(check_result(EventType::AppointPanel, &fields, &[]));
        assert!(passed.contains("No problems found"), "{passed}");
        assert!(passed.contains("meets every composition and conflict rule"));
        assert!(!passed.contains("<ul"), "{passed}");
        assert_eq!(
            drawn(Value::Null).trim(),
            "",
            "nothing checked: nothing drawn"
        );
    }

    #[test]
    fn only_check_live_is_a_live_check() {
        let sent = |v: &str| Sent::from([("check".to_string(), v.to_string())]);
        assert!(live(&sent("live")));
        assert!(!live(&sent("1")));
        assert!(!live(&Sent::new()));
    }
}
