//! `/disputes/new`: filing a dispute, for practice users and commissioners, through the same
//! code as the API (`service::filing::file_throttled`: the same throttle, then `file`).
//! The other party is chosen by name from the organisations that can be one (among thousands,
//! typed as its ODS code or name: `web::choose`); the matter's date is the NHS.UK date input.
//! "Continue" shows the answers to check, with who will be told, and only "File the
//! dispute" there files. The form carries an idempotency key drawn with it, so that sending it
//! twice (a double click, a reload) files one dispute.

use super::choose;
use super::forms::{self, Field, Input, Problem, Sent};
use super::register;
use super::session::SignedIn;
use super::{words, PageResult};
use crate::app::AppState;
use crate::db::directory::{Choosable, OrgChoice};
use crate::db::schema::organisations;
use crate::domain::dispute::Category;
use crate::domain::fields::Choice;
use crate::domain::filing::Filing;
use crate::domain::roles::Role;
use crate::render::templates::long_date;
use crate::service::filing;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use diesel::prelude::*;
use serde_json::{json, Value};

/// The API's fields the form does not show, named for their messages.
const HIDDEN_LABELS: [(&str, &str); 1] = [("appellant_id", "Your organisation")];

/// Whether `who` may file (the service's own rule: a practice user or a commissioner).
fn may_file(who: &SignedIn) -> bool {
    who.caller.has(Role::PracticeUser) || who.caller.has(Role::Commissioner)
}

/// The organisations that can be the other party of a dispute filed by the organisation `own`:
/// active practices and commissioning groups (a commissioner's dispute is with a practice),
/// never their own.
fn other_parties(c: &mut crate::db::DbConn, own: &str) -> QueryResult<Choosable> {
    let own = own.to_string();
    let own_kind: Option<String> = organisations::table
        .find(&own)
        .select(organisations::kind)
        .first(c)
        .optional()?;
    Ok(Choosable {
        kinds: match own_kind.as_deref() {
            Some("commissioner") => vec!["practice"],
            _ => vec!["commissioner", "practice"],
        },
        except: Some(own),
        active_only: true,
    })
}

/// What an other party of the kind `kind` is, in a word or two.
fn party_kind(kind: &str) -> &'static str {
    if kind == "practice" {
        "practice"
    } else {
        "commissioning group"
    }
}

/// A party as the select names it: "Riverside Surgery (practice)".
fn party_label(o: &OrgChoice) -> String {
    format!("{} ({})", o.name, party_kind(&o.kind))
}

/// The form's fields, its other party chosen among `which`.
fn fields_for(c: &mut crate::db::DbConn, which: &Choosable) -> QueryResult<Vec<Field>> {
    let party = choose::field(
        c,
        which,
        Field::new(
            "respondent_id",
            "The other party",
            "The commissioning group or practice your organisation is in dispute with.",
            Input::Text,
        ),
        party_label,
    )?;
    Ok(fields(party))
}

fn fields(party: Field) -> Vec<Field> {
    let categories = <Category as Choice>::NAMES
        .iter()
        .map(|c| (c.to_string(), words::category(c).to_string()))
        .collect();
    vec![
        Field::new(
            "title",
            "Title",
            "A few words that name the dispute, for example “Prescribing budget 2025/26”.",
            Input::Text,
        ),
        party,
        Field::new("category", "What is it about?", "", Input::Select(categories))
            .called("What the dispute is about"),
        Field::new(
            "summary",
            "Describe the dispute",
            "What happened, and what you want to happen. The other party and the LMC will read this.",
            Input::Textarea,
        )
        .called("The description"),
        Field::new(
            "matter_arose_on",
            "The date the matter arose",
            "For example, 1 6 2025. The time limit for referring the dispute to NHS Resolution runs from it.",
            Input::Date,
        ),
        Field::new(
            "contract_related",
            "Does the dispute relate directly to your GMS, PMS or APMS contract?",
            "",
            Input::Radios(vec![
                ("true".into(), "Yes".into(), String::new()),
                ("false".into(), "No".into(), String::new()),
            ]),
        )
        .called("Whether the dispute relates to your contract"),
    ]
}

fn render(
    who: &SignedIn,
    fields: &[Field],
    sent: &Sent,
    problems: &[Problem],
    status: StatusCode,
) -> HttpResponse {
    let allowed = may_file(who);
    let intro = if allowed {
        vec![
            "The dispute starts at stage 1: the LMC of the practice's area is told, and one of its \
             mediators takes the case to help the parties agree."
                .to_string(),
        ]
    } else {
        vec!["Only practice users and commissioners file disputes.".to_string()]
    };
    let key = sent
        .get("idempotency_key")
        .filter(|k| !k.is_empty() && k.len() <= 200)
        .cloned()
        .unwrap_or_else(crate::service::tokens::random);
    forms::render_form(
        forms::FormPage {
            intro,
            allowed,
            hidden: vec![("idempotency_key", key)],
            ..forms::FormPage::new(who, "File a dispute", "/disputes/new".into(), "Continue")
        },
        fields,
        sent,
        problems,
        status,
    )
}

/// `GET /disputes/new`.
pub async fn form(state: web::Data<AppState>, who: SignedIn) -> PageResult<HttpResponse> {
    let own = who.caller.org_id.clone();
    let fields = state
        .db(move |c| {
            let which = other_parties(c, &own)?;
            Ok(fields_for(c, &which)?)
        })
        .await?;
    let status = if may_file(&who) {
        StatusCode::OK
    } else {
        StatusCode::FORBIDDEN
    };
    Ok(render(&who, &fields, &Sent::new(), &[], status))
}

/// Which step of filing a `POST /disputes/new` is: the form sent, its answers shown to check
/// (the default); the answers filed (`step=file`, the check page's button); or the form drawn
/// again with them (`step=change`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Step {
    Check,
    File,
    Change,
}

/// `POST /disputes/new`: the form's answers are checked as filing checks them and shown on a
/// "Check your answers" page (the other party by its name, whatever was typed), and filed
/// only from there: a dispute e-mails the other party and the LMC, so a wrong organisation or
/// date is caught before anyone is told.
pub async fn submit(
    state: web::Data<AppState>,
    who: SignedIn,
    sent: web::Form<Sent>,
) -> PageResult<HttpResponse> {
    let sent = register::csrf_checked(&who, sent.into_inner())?;
    let step = match sent.get("step").map(String::as_str) {
        Some("file") => Step::File,
        Some("change") => Step::Change,
        _ => Step::Check,
    };
    let (own, sent2) = (who.caller.org_id.clone(), sent.clone());
    let (fields, looked) = state
        .db(move |c| {
            let which = other_parties(c, &own)?;
            let fields = fields_for(c, &which)?;
            let looked = choose::look_up(c, &which, &fields, "respondent_id", &sent2)?;
            Ok((fields, looked))
        })
        .await?;
    let choose::LookedUp {
        sent: looked_up,
        problem: party,
        shown: typed,
    } = looked;
    if step == Step::Change {
        return Ok(render(&who, &fields, &typed, &[], StatusCode::OK));
    }
    let (mut body, mut own) = register::request_of(&fields, &looked_up);
    own.extend(party);
    body.insert("appellant_id".into(), json!(who.caller.org_id));
    // The radios' "true"/"false" are the API's booleans; anything else is sent as it is,
    // and refused as the API refuses it.
    if let Some(v) = body.get("contract_related").and_then(Value::as_str) {
        let b = match v {
            "true" => json!(true),
            "false" => json!(false),
            other => json!(other),
        };
        body.insert("contract_related".into(), b);
    }
    let body = Value::Object(body);
    let key = sent
        .get("idempotency_key")
        .map(|k| k.as_bytes().to_vec())
        .filter(|k| !k.is_empty());
    let (caller, parts, limits) = (who.caller.clone(), state.ctx_parts(), state.clone());
    if step == Step::Check {
        let checked = state
            .db(move |c| {
                let admitted = filing::admissible(&parts.ctx(), &caller, key.as_deref(), &body)?;
                let checked = filing::check(c, &admitted)?;
                Ok((admitted.filing().clone(), checked))
            })
            .await;
        return match checked {
            Ok((answers, checked)) => Ok(check_page(&who, &answers, &checked, &fields, &looked_up)),
            Err(e) => {
                let (status, problems) = register::refused(e, &fields, &HIDDEN_LABELS, own)?;
                Ok(render(&who, &fields, &typed, &problems, status))
            }
        };
    }
    let filed = state
        .db(move |c| {
            let f = filing::file_throttled(
                &limits.limits,
                c,
                &parts.ctx(),
                &caller,
                key.as_deref(),
                &body,
            )?;
            Ok((f.dispute.id, f.created))
        })
        .await;
    match filed {
        Ok((id, created)) => {
            if created {
                state.mail_wakeup.notify_one();
                tracing::info!(dispute_id = %id, actor = %who.caller.user_id, "dispute filed (web)");
            }
            Ok(super::signin::see_other(&format!(
                "/disputes/{id}?done=file"
            )))
        }
        Err(e) => {
            let (status, problems) = register::refused(e, &fields, &HIDDEN_LABELS, own)?;
            Ok(render(&who, &fields, &typed, &problems, status))
        }
    }
}

/// What the check page says will happen: who is told by email (an organisation loaded from
/// ODS may have no address yet, and is then told nothing until an admin adds one).
fn who_is_told(checked: &filing::Checked) -> Vec<String> {
    let orgs = [&checked.respondent, &checked.lmc];
    let told: Vec<&str> = orgs
        .iter()
        .filter(|o| !o.email.trim().is_empty())
        .map(|o| o.name.as_str())
        .collect();
    let then = "the dispute starts at stage 1: a mediator of the LMC takes the case to help the \
                parties agree.";
    let mut said = vec![match told.as_slice() {
        [] => format!("When you file it, {then}"),
        [one] => format!("When you file it, {one} is told by email, and {then}"),
        many => format!(
            "When you file it, {} are told by email, and {then}",
            many.join(" and ")
        ),
    }];
    for o in orgs.iter().filter(|o| o.email.trim().is_empty()) {
        said.push(format!(
            "{} has no email address in this service yet, so it is not told until an admin \
             adds one.",
            o.name
        ));
    }
    said
}

/// "Check your answers before filing": the answers as filing read them, who will be told, and
/// the values of the form's `fields` (the other party as its id) sent on by "File the dispute"
/// or "Change your answers".
fn check_page(
    who: &SignedIn,
    answers: &Filing,
    checked: &filing::Checked,
    fields: &[Field],
    looked_up: &Sent,
) -> HttpResponse {
    let rows = [
        ("Title", answers.title.clone()),
        (
            "The other party",
            format!(
                "{} ({})",
                checked.respondent.name,
                party_kind(&checked.respondent.kind)
            ),
        ),
        (
            "What it is about",
            words::category(answers.category.as_str()).to_string(),
        ),
        ("Description", answers.summary.clone()),
        (
            "The date the matter arose",
            long_date(answers.matter_arose_on),
        ),
        (
            "Relates directly to your contract",
            if answers.contract_related {
                "Yes"
            } else {
                "No"
            }
            .to_string(),
        ),
    ];
    // The form's own values (a date's three boxes included) and its idempotency key, nothing
    // else that came with it.
    let of_the_form = |k: &str| {
        k == "idempotency_key"
            || fields.iter().any(|f| {
                k == f.name
                    || k.strip_prefix(f.name)
                        .is_some_and(|rest| rest.starts_with('-'))
            })
    };
    let mut hidden: Vec<(&String, &String)> =
        looked_up.iter().filter(|(k, _)| of_the_form(k)).collect();
    hidden.sort();
    let heading = "Check your answers before filing the dispute";
    let data = json!({
        "title": heading,
        "user": who.layout(),
        "csrf": who.csrf,
        "breadcrumbs": [{"href": "/", "text": "Your cases"}],
        "heading": heading,
        "rows": rows.iter().map(|(key, value)| json!({"key": key, "value": value}))
            .collect::<Vec<_>>(),
        "intro": who_is_told(checked),
        "action": "/disputes/new",
        "hidden": hidden.iter().map(|(name, value)| json!({"name": name, "value": value}))
            .collect::<Vec<_>>(),
        "button": "File the dispute",
        "back": {"href": "/", "text": "Back to your cases"},
    });
    super::page(StatusCode::OK, "check_answers", &data)
}
