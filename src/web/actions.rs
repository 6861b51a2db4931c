//! The case page's action forms: `GET /disputes/{id}/actions/{event}` draws the form of one
//! event the viewer may send now, `POST` to the same address sends it through the same code as
//! the API (`service::events::apply_throttled`: the same throttle, then `apply`), and
//! answers `303` to the case page with a banner saying what was done, or the form again with
//! the error summary, each message beside its field and what was typed kept.
//!
//! Every form carries the session's CSRF token and the dispute's version as the form was
//! drawn; the version goes to the service as `expected_version`, so a form left open while
//! someone else acted changes nothing and says what that person did ([`stale`]).
//!
//! Also here: the upload page (`/disputes/{id}/documents/new`, posted to
//! `/disputes/{id}/documents` through the API's upload code) and the referral pack's download
//! (`/disputes/{id}/referral-pack`).

use super::forms::{self, Field, Input, Problem, Sent};
use super::session::SignedIn;
use super::{words, PageError, PageResult};
use crate::api::disputes::{receive_upload, store_upload};
use crate::api::error::ApiError;
use crate::app::AppState;
use crate::db::disputes as store;
use crate::domain::dispute::Dispute;
use crate::domain::workflow::{self, EventType};
use crate::service::events::apply_throttled;
use crate::service::visibility;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

/// One event's form: its words and its fields (the API's fields of that event).
pub struct EventForm {
    pub heading: &'static str,
    pub intro: &'static str,
    pub button: &'static str,
    pub warning: bool,
    pub fields: Vec<Field>,
}

/// The form of `event` (every event has one; the panel's own come from `web::panel`).
pub fn event_form(event: EventType) -> Option<EventForm> {
    use EventType::*;
    let text = |name, label, hint| Field::new(name, label, hint, Input::Textarea);
    let date = |name, label| Field::new(name, label, "For example, 2 3 2026", Input::Date);
    let (heading, intro, button, warning, fields) = match event {
        AssignMediator => (
            "Take the case",
            "You take the case for the LMC. Both parties and the LMC are told who has it.",
            "Take the case",
            false,
            vec![Field::new(
                "mode",
                "How will you work on this case?",
                "",
                Input::Radios(vec![
                    (
                        "advisory".into(),
                        "As adviser".into(),
                        "You advise the parties, who settle the dispute between themselves.".into(),
                    ),
                    (
                        "mediation".into(),
                        "As mediator".into(),
                        "You bring the parties together to reach an agreement.".into(),
                    ),
                ]),
            )
            .called("How you will work on the case")],
        ),
        AddNote => (
            "Add a note",
            "The note joins the case's history. Everyone who may see the case can read it.",
            "Add the note",
            false,
            vec![text("text", "Note", "")],
        ),
        ResolveInformally => (
            "Record that the dispute was resolved informally",
            "The case ends at stage 1. Both parties are told.",
            "Record the resolution",
            false,
            vec![text(
                "summary",
                "What was agreed",
                "Both parties will read this.",
            )],
        ),
        ExhaustInformal => (
            "Record that the informal stage is exhausted",
            "Either party may then request formal resolution by a panel. Both parties are told.",
            "Record it",
            false,
            vec![text(
                "reason",
                "Why the informal stage is exhausted",
                "Both parties will read this.",
            )],
        ),
        RequestFormal => (
            "Request formal resolution by a panel",
            "Your written request goes to the commissioning group's accountable officer, who \
             screens it. A hearing must be held within 20 working days of the day it was lodged.",
            "Send the request",
            false,
            vec![
                text(
                    "grounds",
                    "Your grounds",
                    "What the dispute is about and what you ask the panel to decide.",
                ),
                date(
                    "lodged_on",
                    "The day the request was lodged with the accountable officer",
                ),
            ],
        ),
        RecordLmcConsultation => (
            "Record the consultation with the LMC",
            "The LMC must be consulted before a request is screened out as frivolous or vexatious.",
            "Record the consultation",
            false,
            vec![
                date("consulted_on", "The day the LMC was consulted"),
                text("summary", "What the LMC said", ""),
            ],
        ),
        Screen => (
            "Screen the request for formal resolution",
            "Decide whether the request goes to a panel. Both parties and the LMC are told the \
             outcome and your reasons.",
            "Record the screening",
            false,
            vec![
                Field::new(
                    "outcome",
                    "What is the outcome?",
                    "",
                    Input::Radios(vec![
                        (
                            "proceed".into(),
                            "It goes to a panel".into(),
                            "The request is substantive: a panel is appointed to hear it.".into(),
                        ),
                        (
                            "frivolous".into(),
                            "Screened out as frivolous".into(),
                            "Only after the LMC has been consulted (rule 1).".into(),
                        ),
                        (
                            "vexatious".into(),
                            "Screened out as vexatious".into(),
                            "Only after the LMC has been consulted (rule 1).".into(),
                        ),
                    ]),
                )
                .called("The outcome"),
                text("reason", "Your reasons", "Both parties will read this."),
            ],
        ),
        AppointPanel | ScheduleHearing | DistributeBundle | RecordHearing | RecordDecision
        | NotifyDecision => return super::panel::event_form(event),
        Withdraw => (
            "Withdraw the dispute",
            "The dispute ends and cannot be taken up again. Everyone involved is told.",
            "Withdraw the dispute",
            true,
            vec![text(
                "reason",
                "Why you are withdrawing the dispute",
                "Everyone involved will read this.",
            )],
        ),
        ReferToFhsu => (
            "Refer the dispute to NHS Resolution",
            "The Family Health Services Unit of NHS Resolution (FHSU) determines the dispute. \
             Everyone involved is told, and the referral pack can then be downloaded from the \
             case page.",
            "Refer the dispute",
            false,
            vec![
                text(
                    "statement",
                    "Your statement for the FHSU",
                    "What the dispute is about, what happened at each stage and what you ask the \
                     FHSU to determine.",
                ),
                Field::new(
                    "contract_document_id",
                    "The contract",
                    "A document of the case added as a contract. Add it to the case first if it \
                     is not listed.",
                    Input::Select(Vec::new()),
                ),
                date("referred_on", "The day of the referral"),
            ],
        ),
        RecordFhsuDetermination => (
            "Record the FHSU's determination",
            "The determination closes the case. Everyone involved is told.",
            "Record the determination",
            true,
            vec![
                date("determined_on", "The day the FHSU determined the dispute"),
                Field::new(
                    "outcome",
                    "Whom did the FHSU find for?",
                    "",
                    Input::Radios(vec![
                        (
                            "appellant".into(),
                            "The appellant".into(),
                            "The party that filed the dispute.".into(),
                        ),
                        (
                            "respondent".into(),
                            "The respondent".into(),
                            "The other party.".into(),
                        ),
                        ("partly".into(), "Partly for each".into(), "".into()),
                    ]),
                )
                .called("The outcome"),
                text(
                    "summary",
                    "What the FHSU determined",
                    "In a few words. Everyone involved will read this.",
                ),
            ],
        ),
        Close => (
            "Close the case",
            "The case ends. Everyone involved is told.",
            "Close the case",
            true,
            vec![text("reason", "Why the case is closed", "")],
        ),
    };
    Some(EventForm {
        heading,
        intro,
        button,
        warning,
        fields,
    })
}

/// What the banner on the case page says after `done` (an event's name, `upload`, `file`).
pub fn done_banner(done: &str) -> Option<&'static str> {
    Some(match done {
        "file" => "Dispute filed",
        "upload" => "Document added",
        "assign_mediator" => "You have taken the case",
        "add_note" => "Note added",
        "resolve_informally" => "Recorded as resolved informally",
        "exhaust_informal" => "Recorded: the informal stage is exhausted",
        "request_formal" => "Formal resolution requested",
        "record_lmc_consultation" => "Consultation with the LMC recorded",
        "screen" => "Screening recorded",
        "appoint_panel" => "Panel appointed",
        "schedule_hearing" => "Hearing scheduled: everyone has been sent the notice",
        "distribute_bundle" => "Bundle distributed",
        "record_hearing" => "Hearing recorded",
        "record_decision" => "Decision recorded",
        "notify_decision" => "Decision sent to the parties",
        "refer_to_fhsu" => "Dispute referred to NHS Resolution (FHSU)",
        "record_fhsu_determination" => "Determination recorded: the case is closed",
        "withdraw" => "Dispute withdrawn",
        "close" => "Case closed",
        _ => return None,
    })
}

/// The API's fields an event's form does not show, named for its messages.
const HIDDEN_LABELS: [(&str, &str); 3] = [
    ("mediator_id", "The mediator"),
    ("expected_version", "The form"),
    ("votes", "The votes"),
];

fn parse_event(name: &str) -> PageResult<(EventType, EventForm)> {
    let event = EventType::parse(name).ok_or(PageError::NotFound)?;
    let form = event_form(event).ok_or(PageError::NotFound)?;
    Ok((event, form))
}

/// A path id that is no UUID names nothing.
pub fn uuid(id: &str) -> PageResult<String> {
    uuid::Uuid::parse_str(id)
        .map(|u| u.hyphenated().to_string())
        .map_err(|_| PageError::NotFound)
}

/// The form page of an action on the case `d`.
#[allow(clippy::too_many_arguments)]
fn case_form(
    who: &SignedIn,
    d: &Dispute,
    form: &EventForm,
    event: EventType,
    intro: Vec<String>,
    allowed: bool,
    sent: &Sent,
    problems: &[Problem],
    status: StatusCode,
    extras: forms::Extras,
) -> HttpResponse {
    forms::render_form_with(
        forms::FormPage {
            who,
            heading: form.heading,
            caption: Some(d.case_ref()),
            breadcrumbs: case_crumbs(d),
            back: (format!("/disputes/{}", d.id), "Back to the case".into()),
            intro,
            action: format!("/disputes/{}/actions/{}", d.id, event.as_str()),
            button: form.button,
            warning: form.warning,
            multipart: false,
            allowed,
            hidden: vec![("version", d.version.to_string())],
        },
        &form.fields,
        sent,
        problems,
        status,
        extras,
    )
}

/// Where the case page's link for `event` leads: the hearing calendar for scheduling, the
/// event's form otherwise.
pub fn action_href(id: &str, event: EventType) -> String {
    match event {
        EventType::ScheduleHearing => format!("/disputes/{id}/hearing-calendar"),
        _ => format!("/disputes/{id}/actions/{}", event.as_str()),
    }
}

/// The breadcrumbs of a page under a case.
pub fn case_crumbs(d: &Dispute) -> Value {
    json!([{"href": "/", "text": "Your cases"},
           {"href": format!("/disputes/{}", d.id), "text": d.title}])
}

/// The dispute `id` as `who` may see it, and whether they may send `event` now.
async fn read(
    state: &AppState,
    who: &SignedIn,
    id: &str,
    event: EventType,
) -> PageResult<(Dispute, bool)> {
    let (caller, id) = (who.caller.clone(), id.to_string());
    let d = state
        .db(move |c| Ok(crate::service::visible(c, &caller, &id)?))
        .await?;
    let allowed =
        workflow::allowed(d.state, &visibility::relations(&who.caller, &d)).contains(&event);
    Ok((d, allowed))
}

/// `GET /disputes/{id}/actions/{event}`; the query may fill fields in (the hearing calendar
/// sends `?date=YYYY-MM-DD`).
pub async fn form(
    state: web::Data<AppState>,
    who: SignedIn,
    path: web::Path<(String, String)>,
    req: HttpRequest,
) -> PageResult<HttpResponse> {
    let (id, event) = path.into_inner();
    let id = uuid(&id)?;
    let (event, form) = parse_event(&event)?;
    let (d, allowed) = read(&state, &who, &id, event).await?;
    let (form, rules) = completed(&state, &who, &d, event, form, allowed).await?;
    let mut intro = vec![form.intro.to_string()];
    if !allowed {
        intro = vec![format!(
            "You cannot do this now: the case is “{}”. Go back to the case to see what you can do.",
            words::state(d.state).0
        )];
    }
    let status = if allowed {
        StatusCode::OK
    } else {
        StatusCode::CONFLICT
    };
    let query = web::Query::<Sent>::from_query(req.query_string())
        .map(|q| q.into_inner())
        .unwrap_or_default();
    let sent = super::panel::prefill(&who, &d, event, &query);
    Ok(case_form(
        &who,
        &d,
        &form,
        event,
        intro,
        allowed,
        &sent,
        &[],
        status,
        super::panel::extras(event, rules),
    ))
}

/// The form completed for the case (its people, documents and rules) when the viewer may
/// send it now; otherwise as it is, since it is not shown.
async fn completed(
    state: &AppState,
    who: &SignedIn,
    d: &Dispute,
    event: EventType,
    form: EventForm,
    allowed: bool,
) -> PageResult<(EventForm, Vec<String>)> {
    if allowed {
        super::panel::complete(state, who, d, event, form).await
    } else {
        Ok((form, Vec::new()))
    }
}

/// The version a form was drawn at (its hidden field), if it carries one that reads.
fn form_version(sent: &Sent) -> Option<i64> {
    sent.get("version").and_then(|v| v.trim().parse().ok())
}

/// The sentence for a form drawn at `version` of a dispute now at a later one: who did what,
/// when, since (read from the history).
async fn what_changed(
    state: &AppState,
    who: &SignedIn,
    id: &str,
    version: i64,
) -> PageResult<Option<(Dispute, Problem)>> {
    let (caller, id) = (who.caller.clone(), id.to_string());
    let read = state
        .db(move |c| {
            let d = crate::service::visible(c, &caller, &id)?;
            if d.version <= version {
                return Ok(None);
            }
            let events = store::events_of(c, &id)?;
            let Some(first) = events.into_iter().find(|e| e.seq > version) else {
                return Ok(None);
            };
            let names = store::user_names(c, [&first.actor_id])?;
            let actor = names
                .get(&first.actor_id)
                .cloned()
                .unwrap_or_else(|| "The service".into());
            let data = visibility::event_data(&caller, &d, &first)?;
            let sentence = words::event(&first.event_type, &actor, &data);
            let when = super::case::timestamp(&first.at);
            Ok(Some((d, sentence, when)))
        })
        .await?;
    Ok(read.map(|(d, sentence, when)| {
        let text = format!(
            "Someone else acted on this case first: on {when}, {sentence} Nothing you entered \
             has been saved. Check the case and try again."
        );
        (d, Problem { field: None, text })
    }))
}

/// `POST /disputes/{id}/actions/{event}`.
pub async fn submit(
    state: web::Data<AppState>,
    who: SignedIn,
    path: web::Path<(String, String)>,
    sent: web::Form<Sent>,
) -> PageResult<HttpResponse> {
    let sent = sent.into_inner();
    who.check_csrf(sent.get("csrf_token").map_or("", String::as_str))?;
    let (id, event_name) = path.into_inner();
    let id = uuid(&id)?;
    let (event, form) = parse_event(&event_name)?;
    let (d, allowed) = read(&state, &who, &id, event).await?;
    let (form, rules) = completed(&state, &who, &d, event, form, allowed).await?;
    let (mut body, own) = forms::body_of(&form.fields, &sent);
    body.insert("type".into(), json!(event.as_str()));
    let version = form_version(&sent);
    if let Some(v) = version {
        body.insert("expected_version".into(), json!(v));
    }
    if event == EventType::AssignMediator {
        // Taking a case: the mediator is the person taking it.
        body.insert("mediator_id".into(), json!(who.caller.user_id));
    }
    super::panel::adapt(event, &d, &mut body);
    for p in &own {
        // A date that is no date is sent as one the service refuses, so nothing applies
        // and the service still lists every other problem.
        if let Some(f) = &p.field {
            body.insert(f.clone(), json!("not a date"));
        }
    }
    let checking = sent.contains_key("check") && super::panel::checks(event);
    let body = Value::Object(body);
    let (caller, parts, limits, key) = (
        who.caller.clone(),
        state.ctx_parts(),
        state.clone(),
        id.clone(),
    );
    let result = state
        .db(move |c| {
            if checking {
                crate::service::events::check(c, &parts.ctx(), &caller, &key, &body)?;
                return Ok(0);
            }
            let applied = apply_throttled(&limits.limits, c, &parts.ctx(), &caller, &key, &body)?;
            Ok(applied.notices)
        })
        .await;
    if checking {
        return checked(&state, &who, (&d, &form, event, rules), &sent, own, result).await;
    }
    match result {
        Ok(notices) => {
            if notices > 0 {
                state.mail_wakeup.notify_one();
            }
            tracing::info!(dispute_id = %id, event = event.as_str(), actor = %who.caller.user_id, "event applied (web)");
            Ok(super::signin::see_other(&format!(
                "/disputes/{id}?done={}",
                event.as_str()
            )))
        }
        Err(e) => {
            // A form drawn before someone else acted: say what they did, change nothing.
            let changed = match version {
                Some(v) if !matches!(e, ApiError::NotFound) => {
                    what_changed(&state, &who, &id, v).await?
                }
                _ => None,
            };
            let (d, allowed, problems, status) = match changed {
                Some((d, problem)) => {
                    let allowed =
                        workflow::allowed(d.state, &visibility::relations(&who.caller, &d))
                            .contains(&event);
                    (d, allowed, vec![problem], StatusCode::CONFLICT)
                }
                None => {
                    let status = actix_web::ResponseError::status_code(&e);
                    let api = forms::problems_of(e, &form.fields, &HIDDEN_LABELS)?;
                    let problems = forms::merge(&form.fields, own, api);
                    let (d, allowed) = read(&state, &who, &id, event).await?;
                    (d, allowed, problems, status)
                }
            };
            Ok(case_form(
                &who,
                &d,
                &form,
                event,
                vec![form.intro.to_string()],
                allowed,
                &sent,
                &problems,
                status,
                super::panel::extras(event, rules),
            ))
        }
    }
}

/// The form again after its "check" button: every problem the service finds, or that there
/// is none; nothing is written either way. A live check (the page's script, `check=live`) is
/// answered with the result alone.
async fn checked(
    state: &AppState,
    who: &SignedIn,
    (d, form, event, rules): (&Dispute, &EventForm, EventType, Vec<String>),
    sent: &Sent,
    own: Vec<Problem>,
    result: Result<usize, ApiError>,
) -> PageResult<HttpResponse> {
    let (passed, problems) = match result {
        Ok(_) => (own.is_empty(), own),
        Err(e) => {
            let api = forms::problems_of(e, &form.fields, &HIDDEN_LABELS)?;
            (false, forms::merge(&form.fields, own, api))
        }
    };
    if super::panel::live(sent) {
        return Ok(super::panel::check_fragment(event, &form.fields, &problems));
    }
    let (d, allowed) = read(state, who, &d.id, event).await?;
    let mut extras = super::panel::extras(event, rules);
    if passed {
        extras.checked = Some(super::panel::check_result(event, &form.fields, &[]));
    }
    Ok(case_form(
        who,
        &d,
        form,
        event,
        vec![form.intro.to_string()],
        allowed,
        sent,
        &problems,
        StatusCode::OK,
        extras,
    ))
}

// ------------------------------------------------------------------ documents

/// The upload form's fields: the kinds the viewer may add (as the API allows them) and the file.
fn upload_fields(who: &SignedIn, d: &Dispute) -> Vec<Field> {
    use crate::domain::dispute::DocumentKind;
    use crate::domain::fields::Choice;
    let kinds: Vec<(String, String)> = <DocumentKind as Choice>::NAMES
        .iter()
        .filter_map(|k| DocumentKind::parse(k).map(|kind| (k, kind)))
        .filter(|(_, kind)| visibility::can_see_document(&who.caller, d, *kind))
        .map(|(k, _)| (k.to_string(), words::document_kind(k).to_string()))
        .collect();
    vec![
        Field::new(
            "kind",
            "What kind of document is it?",
            "",
            Input::Select(kinds),
        )
        .called("The kind of document"),
        Field::new(
            "file",
            "The file",
            "At most 20 MB. Its SHA-256 checksum is shown once it is added.",
            Input::File,
        ),
    ]
}

fn upload_form(
    who: &SignedIn,
    d: &Dispute,
    sent: &Sent,
    problems: &[Problem],
    status: StatusCode,
) -> HttpResponse {
    let fields = upload_fields(who, d);
    let open = !d.state.is_terminal();
    let intro = if open {
        "Everyone who may see the case can download the document, except a hearing record, which \
         stays with the panel."
            .to_string()
    } else {
        format!(
            "No documents can be added now: the case is “{}”.",
            words::state(d.state).0
        )
    };
    forms::render_form(
        forms::FormPage {
            who,
            heading: "Add a document",
            caption: Some(d.case_ref()),
            breadcrumbs: case_crumbs(d),
            back: (format!("/disputes/{}", d.id), "Back to the case".into()),
            intro: vec![intro],
            action: format!("/disputes/{}/documents", d.id),
            button: "Add the document",
            warning: false,
            multipart: true,
            allowed: open,
            hidden: vec![],
        },
        &fields,
        sent,
        problems,
        status,
    )
}

/// `GET /disputes/{id}/documents/new`.
pub async fn upload_page(
    state: web::Data<AppState>,
    who: SignedIn,
    id: web::Path<String>,
) -> PageResult<HttpResponse> {
    let id = uuid(&id)?;
    let caller = who.caller.clone();
    let d = state
        .db(move |c| Ok(crate::service::visible(c, &caller, &id)?))
        .await?;
    Ok(upload_form(&who, &d, &Sent::new(), &[], StatusCode::OK))
}

/// `POST /disputes/{id}/documents`: the API's upload code (`receive_upload`, then
/// `store_upload`), with the form's CSRF token checked once the body has been read and before
/// anything is stored.
pub async fn upload(
    state: web::Data<AppState>,
    who: SignedIn,
    id: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
) -> PageResult<HttpResponse> {
    let id = uuid(&id)?;
    let received = match receive_upload(&state, &who.caller, id.clone(), &req, payload).await {
        Ok(r) => r,
        Err(e) => return upload_refused(&state, &who, &id, Sent::new(), e).await,
    };
    who.check_csrf(received.upload.field("csrf_token").unwrap_or(""))?;
    let mut sent = Sent::new();
    if let Some(k) = &received.upload.kind {
        sent.insert("kind".into(), k.clone());
    }
    match store_upload(&state, &who.caller, received).await {
        Ok(stored) => Ok(super::signin::see_other(&format!(
            "/disputes/{id}?done=upload&document={}",
            stored.id
        ))),
        Err(e) => upload_refused(&state, &who, &id, sent, e).await,
    }
}

async fn upload_refused(
    state: &AppState,
    who: &SignedIn,
    id: &str,
    sent: Sent,
    e: ApiError,
) -> PageResult<HttpResponse> {
    let status = actix_web::ResponseError::status_code(&e);
    let (caller, key) = (who.caller.clone(), id.to_string());
    let d = state
        .db(move |c| Ok(crate::service::visible(c, &caller, &key)?))
        .await?;
    let fields = upload_fields(who, &d);
    let problems = forms::problems_of(e, &fields, &[])?;
    Ok(upload_form(who, &d, &sent, &problems, status))
}

// ------------------------------------------------------------------ the referral pack

/// `GET /disputes/{id}/referral-pack`: the pack, as `GET /api/v1/disputes/{id}/referral-pack`
/// builds it for the same person (the case page links to it for those who may have it).
pub async fn referral_pack(
    state: web::Data<AppState>,
    who: SignedIn,
    id: web::Path<String>,
    req: HttpRequest,
) -> PageResult<HttpResponse> {
    let id = uuid(&id)?;
    let built = crate::api::referral_pack::build(&state, who.caller.clone(), id.clone()).await?;
    state.record_read(&req, &who.caller.user_id, &id, "referral_pack", None);
    Ok(built.respond(&req)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_has_a_form_and_a_banner() {
        for e in EventType::ALL {
            assert!(event_form(*e).is_some(), "{e:?} has no form");
            assert!(done_banner(e.as_str()).is_some(), "{e:?} has no banner");
        }
    }
}
