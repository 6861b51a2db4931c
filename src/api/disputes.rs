//! Disputes over HTTP: filing, listing, the dispute, its events, actions, documents, notices,
//! hearing options, and the timeliness report. Filing and events go through the service
//! (`service::filing`, `service::events`); the handlers here read requests and write answers.

use super::auth::{Bearer, Caller};
use super::directory::timestamp as ts;
use super::documents as docs;
use super::error::{ApiError, ApiResult, FieldError};
use crate::app::AppState;
use crate::db::directory;
use crate::db::disputes::{self as store, DisputeRow};
use crate::db::schema::{disputes, documents};
use crate::db::{now, write_tx, DbConn};
use crate::domain::dispute::{
    Category, Dispute, DocumentKind, FhsuDetermination, FhsuReferral, HearingRecord, MediatorMode,
    Screening, Side, Vote,
};
use crate::domain::fields::Choice;
use crate::domain::filing::Filing;
use crate::domain::notices::CalendarMethod;
use crate::domain::workflow::{self, EventType, State};
use crate::domain::{deadlines, hearing_days};
use crate::service::limits::Action;
use crate::service::notices::Parties;
use crate::service::{self, events, filing, visibility};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;

/// The categories a dispute may have (as the OpenAPI document lists them).
pub const CATEGORIES: &[&str] = <Category as Choice>::NAMES;
/// The kinds a document may have (as the OpenAPI document lists them).
pub const DOCUMENT_KINDS: &[&str] = <DocumentKind as Choice>::NAMES;
pub use super::documents::MAX_DOCUMENT_BYTES;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/disputes")
            .route(web::post().to(create_dispute))
            .route(web::get().to(list_disputes)),
    )
    .service(web::resource("/disputes/{id}").route(web::get().to(get_dispute)))
    .service(
        web::resource("/disputes/{id}/events")
            .route(web::post().to(post_event))
            .route(web::get().to(list_events)),
    )
    .service(web::resource("/disputes/{id}/actions").route(web::get().to(list_actions)))
    .service(
        web::resource("/disputes/{id}/documents")
            .route(web::post().to(upload_document))
            .route(web::get().to(list_documents)),
    )
    .service(web::resource("/disputes/{id}/notices").route(web::get().to(list_notices)))
    .service(web::resource("/disputes/{id}/hearing-options").route(web::get().to(hearing_options)))
    .service(web::resource("/disputes/{id}/hearing.ics").route(web::get().to(hearing_ics)))
    .service(web::resource("/documents/{id}").route(web::get().to(download_document)))
    .service(web::resource("/reports/timeliness").route(web::get().to(timeliness)));
}

// ------------------------------------------------------------------ representation

// The representation of a dispute, serialised straight from the dispute it was read into
// (borrowing its text, never copying it). Each struct is the answer's one type: it derives the
// schema of the OpenAPI document too, under the component name in its `#[schema(as = …)]`.
// Fields are in alphabetical order, the order the answers have always had.

/// A dispute as the caller may see it.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Dispute)]
pub struct DisputeOut<'a> {
    appellant: PartyOut<'a>,
    breaches: Vec<BreachOut>,
    case_ref: String,
    category: Category,
    contract_related: bool,
    #[schema(format = DateTime)]
    created_at: String,
    deadlines: DeadlinesOut,
    decision: Option<DecisionOut<'a>>,
    fhsu_determination: Option<&'a FhsuDetermination>,
    #[schema(value_type = Option<Object>)]
    fhsu_referral: Option<&'a FhsuReferral>,
    formal_request: Option<FormalRequestOut<'a>>,
    hearing: Option<HearingOut<'a>>,
    id: &'a str,
    inter_practice: bool,
    lmc_id: Option<&'a str>,
    matter_arose_on: NaiveDate,
    mediator: Option<MediatorOut<'a>>,
    panel: Option<PanelOut<'a>>,
    respondent: PartyOut<'a>,
    screening_organisation_id: &'a str,
    /// 1, 2 or 3; null when closed or withdrawn.
    stage: Option<u8>,
    state: State,
    summary: &'a str,
    title: &'a str,
    #[schema(format = DateTime)]
    updated_at: String,
    version: i64,
}

/// An organisation as a dispute names it.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = OrgRef)]
pub struct PartyOut<'a> {
    address: &'a str,
    id: &'a str,
    kind: &'a str,
    name: &'a str,
}

/// A user as a dispute names it.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = UserRef)]
pub struct UserOut<'a> {
    id: &'a str,
    name: Option<&'a str>,
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Mediator)]
pub struct MediatorOut<'a> {
    id: &'a str,
    mode: MediatorMode,
    name: Option<&'a str>,
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Panel)]
pub struct PanelOut<'a> {
    chair_id: &'a str,
    clinical_member: UserOut<'a>,
    gp_conciliator: UserOut<'a>,
    lmc_representative: UserOut<'a>,
    secretary: UserOut<'a>,
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Hearing)]
pub struct HearingOut<'a> {
    bundle_distributed_on: Option<NaiveDate>,
    date: NaiveDate,
    held_on: Option<NaiveDate>,
    notice_sent_on: NaiveDate,
    /// The panel's record of the hearing: only for the panel (absent for others, `null` for
    /// the panel before it is recorded).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    record: Option<Option<&'a HearingRecord>>,
    sequence: i32,
    /// HH:MM
    time: String,
    venue: &'a str,
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Deadlines)]
pub struct DeadlinesOut {
    bundle_by: Option<NaiveDate>,
    decision_by: Option<NaiveDate>,
    fhsu_by: Option<NaiveDate>,
    hearing_by: Option<NaiveDate>,
    notice_by: Option<NaiveDate>,
}

impl DeadlinesOut {
    fn of(d: &Dispute) -> DeadlinesOut {
        let dl = &d.deadlines;
        DeadlinesOut {
            bundle_by: dl.bundle_by,
            decision_by: dl.decision_by,
            fhsu_by: dl.fhsu_by,
            hearing_by: dl.hearing_by,
            notice_by: dl.notice_by,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = FormalRequest)]
pub struct FormalRequestOut<'a> {
    grounds: Option<&'a str>,
    lmc_consulted_on: Option<NaiveDate>,
    lodged_on: NaiveDate,
    requested_by: Option<&'a str>,
    #[schema(value_type = Option<Object>)]
    screening: Option<&'a Screening>,
}

/// The decision: outcome and recommendations for the parties once notified; votes and the
/// recording date for the panel only (absent for others).
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Decision)]
pub struct DecisionOut<'a> {
    notified_on: Option<NaiveDate>,
    outcome: Side,
    recommendations: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    recorded_on: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Vote>>)]
    votes: Option<&'a [Vote]>,
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Breach)]
pub struct BreachOut {
    detail: String,
    detected_on: NaiveDate,
    due_on: NaiveDate,
    kind: String,
    overridden: bool,
}

fn party(o: &directory::OrgRow) -> PartyOut<'_> {
    PartyOut {
        address: &o.address,
        id: &o.id,
        kind: &o.kind,
        name: &o.name,
    }
}

fn user<'a>(names: &'a HashMap<String, directory::Contact>, id: &'a str) -> UserOut<'a> {
    UserOut {
        id,
        name: names.get(id).map(|u| u.name.as_str()),
    }
}

/// The dispute `d` as the caller may see it, as the JSON text of the answer; `parties` as
/// read for it. Reads the names of the people it names, and its breaches when `has_breaches`
/// (a new dispute has none; `GET` knows from its one read).
pub fn represent(
    c: &mut DbConn,
    caller: &Caller,
    d: &Dispute,
    parties: &Parties,
    has_breaches: bool,
) -> ApiResult<Vec<u8>> {
    let panel_sees = visibility::panel_view(caller, d);
    let mut named: Vec<&str> = d.mediator_id().into_iter().collect();
    if let Some(p) = &d.panel {
        named.extend(p.everyone());
    }
    let names = directory::contacts(c, &named)?;
    let stored = match has_breaches {
        true => store::breaches_of(c, &d.id)?,
        false => Vec::new(),
    };
    let breaches = stored
        .into_iter()
        .map(|b| BreachOut {
            detail: b.detail,
            detected_on: b.detected_on,
            due_on: b.due_on,
            kind: b.kind,
            overridden: b.overridden,
        })
        .collect();
    let detail = &d.detail;
    let out = DisputeOut {
        appellant: party(&parties.appellant),
        breaches,
        case_ref: d.case_ref(),
        category: d.category,
        contract_related: d.contract_related,
        created_at: ts(&d.created_at),
        deadlines: DeadlinesOut::of(d),
        decision: detail.decision.as_ref().and_then(|dec| {
            (panel_sees || d.decision_notified_on.is_some()).then(|| DecisionOut {
                notified_on: d.decision_notified_on,
                outcome: dec.outcome,
                recommendations: &dec.recommendations,
                recorded_on: panel_sees.then_some(dec.recorded_on),
                votes: panel_sees.then_some(dec.votes.as_slice()),
            })
        }),
        fhsu_determination: detail.fhsu_determination.as_ref(),
        fhsu_referral: detail.fhsu_referral.as_ref(),
        formal_request: d.lodged_on.map(|lodged_on| FormalRequestOut {
            grounds: detail.grounds.as_deref(),
            lmc_consulted_on: d.lmc_consulted_on,
            lodged_on,
            requested_by: detail.requested_by_org.as_deref(),
            screening: detail.screening.as_ref(),
        }),
        hearing: d.hearing.as_ref().map(|h| HearingOut {
            bundle_distributed_on: d.bundle_distributed_on,
            date: h.date,
            held_on: d.held_on,
            notice_sent_on: h.notice_sent_on,
            record: panel_sees.then_some(detail.hearing_record.as_ref()),
            sequence: h.sequence,
            time: h.time_text(),
            venue: &h.venue,
        }),
        id: &d.id,
        inter_practice: d.inter_practice,
        lmc_id: d.lmc_id.as_deref(),
        matter_arose_on: d.matter_arose_on,
        mediator: d.mediator.as_ref().map(|m| MediatorOut {
            id: &m.id,
            mode: m.mode,
            name: names.get(&m.id).map(|u| u.name.as_str()),
        }),
        panel: d.panel.as_ref().map(|p| PanelOut {
            chair_id: &p.chair_id,
            clinical_member: user(&names, &p.clinical_member_id),
            gp_conciliator: user(&names, &p.gp_conciliator_id),
            lmc_representative: user(&names, &p.lmc_representative_id),
            secretary: user(&names, &p.secretary_id),
        }),
        respondent: party(&parties.respondent),
        screening_organisation_id: &d.screening_org_id,
        stage: d.state.stage(),
        state: d.state,
        summary: &d.summary,
        title: &d.title,
        updated_at: ts(&d.updated_at),
        version: d.version,
    };
    serde_json::to_vec(&out).map_err(|e| ApiError::Internal(format!("representation: {e}")))
}

/// An answer of `status` whose body is a JSON text already serialised (a dispute by
/// [`represent`], or a page of the list).
fn json_answer(status: StatusCode, body: Vec<u8>) -> HttpResponse {
    HttpResponse::build(status)
        .content_type(actix_web::http::header::ContentType::json())
        .body(body)
}

// ------------------------------------------------------------------ filing

/// File a dispute (practice user or commissioner of the appellant organisation).
#[utoipa::path(post, path = "/api/v1/disputes", tag = "disputes", request_body = Filing,
    params(("Idempotency-Key" = Option<String>, Header, description = "same key and body → the same dispute")),
    security(("bearer" = [])),
    responses((status = 201, description = "the dispute, in state informal", body = DisputeOut), (status = 400),
        (status = 403), (status = 409), (status = 422), (status = 429)))]
pub async fn create_dispute(
    state: web::Data<AppState>,
    who: Bearer,
    req: HttpRequest,
    body: web::Json<Value>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let key = req.headers().get("Idempotency-Key").cloned();
    let parts = state.ctx_parts();
    let limits = state.clone();
    let (out, filed) = state
        .db_as(who, move |c, caller| {
            let key = key.as_ref().map(|k| k.as_bytes());
            let f = filing::file_throttled(&limits.limits, c, &parts.ctx(), caller, key, &body)?;
            let out = represent(c, caller, &f.dispute, &f.parties, false)?;
            Ok((
                out,
                f.created.then(|| (f.dispute.id, caller.user_id.clone())),
            ))
        })
        .await?;
    if let Some((id, actor)) = filed {
        state.mail_wakeup.notify_one();
        tracing::info!(dispute_id = %id, actor = %actor, "dispute filed");
    }
    Ok(json_answer(StatusCode::CREATED, out))
}

// ------------------------------------------------------------------ listing

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ListQuery {
    #[param(required = false, value_type = State)]
    pub state: Option<String>,
    #[param(required = false, value_type = u8, minimum = 1, maximum = 3)]
    pub stage: Option<String>,
    /// Only the disputes the caller takes part in.
    #[param(required = false, value_type = bool)]
    pub mine: Option<String>,
    /// Open disputes with a deadline still to be met on or before this date.
    #[param(required = false, value_type = String, format = Date)]
    pub due_before: Option<String>,
    /// Default 50.
    #[param(required = false, value_type = i64, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    /// `next_cursor` of the previous page.
    #[param(required = false, value_type = String)]
    pub cursor: Option<String>,
}

fn decode_cursor(s: &str) -> Option<(NaiveDateTime, String)> {
    let raw = hex::decode(s).ok()?;
    let s = String::from_utf8(raw).ok()?;
    let (t, id) = s.split_once('|')?;
    let micros: i64 = t.parse().ok()?;
    let t = chrono::DateTime::from_timestamp_micros(micros)?.naive_utc();
    // A time no dispute was filed at, outside what PostgreSQL's timestamps hold, is no cursor.
    if !(1900..=2200).contains(&chrono::Datelike::year(&t)) {
        return None;
    }
    // Ids are UUIDs: anything else (a NUL, say, which PostgreSQL text cannot hold) is no cursor.
    let id = uuid::Uuid::parse_str(id).ok()?;
    Some((t, id.hyphenated().to_string()))
}

fn encode_cursor(t: &NaiveDateTime, id: &str) -> String {
    hex::encode(format!("{}|{}", t.and_utc().timestamp_micros(), id))
}

/// The disputes the caller may see, oldest first, with filters and cursor pagination.
#[utoipa::path(get, path = "/api/v1/disputes", tag = "disputes", params(ListQuery), security(("bearer" = [])),
    responses((status = 200, body = PageOut), (status = 422)))]
pub async fn list_disputes(
    state: web::Data<AppState>,
    who: Bearer,
    q: web::Query<ListQuery>,
) -> ApiResult<HttpResponse> {
    let q = q.into_inner();
    let mut errs = Vec::new();
    let mut bad = |f: &str, m: &str| {
        errs.push(FieldError {
            field: f.into(),
            message: m.into(),
        })
    };
    let st = q.state.as_deref().map(|s| State::parse(s).ok_or(()));
    if matches!(st, Some(Err(()))) {
        bad("state", "unknown state");
    }
    let stage = q.stage.as_deref().map(|s| {
        s.parse::<u8>()
            .ok()
            .filter(|n| (1..=3).contains(n))
            .ok_or(())
    });
    if matches!(stage, Some(Err(()))) {
        bad("stage", "must be 1, 2 or 3");
    }
    let mine = match q.mine.as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => {
            bad("mine", "must be true or false");
            false
        }
    };
    let due_before = q
        .due_before
        .as_deref()
        .map(|s| super::directory::parse_date("due_before", s));
    if let Some(Err(e)) = &due_before {
        errs.push(e.clone());
    }
    let limit = match q.limit.as_deref().map(|s| s.parse::<i64>()) {
        None => 50,
        Some(Ok(n)) if (1..=200).contains(&n) => n,
        _ => {
            errs.push(FieldError {
                field: "limit".into(),
                message: "must be from 1 to 200".into(),
            });
            50
        }
    };
    let cursor = match q.cursor.as_deref() {
        None => None,
        Some(s) => match decode_cursor(s) {
            Some(c) => Some(c),
            None => {
                errs.push(FieldError {
                    field: "cursor".into(),
                    message: "is not a cursor from this API".into(),
                });
                None
            }
        },
    };
    if !errs.is_empty() {
        return Err(ApiError::Validation(errs));
    }
    let st = st.and_then(Result::ok);
    let stage = stage.and_then(Result::ok);
    let due_before = due_before.and_then(Result::ok);
    let page = state
        .db_as(who, move |c, caller| {
            let mut query = disputes::table
                .select(DisputeRow::as_select())
                .filter(visibility::visible_condition(caller))
                .order((disputes::created_at.asc(), disputes::id.asc()))
                .limit(limit + 1)
                .into_boxed();
            if let Some(s) = st {
                query = query.filter(disputes::state.eq(s.as_str()));
            }
            if let Some(n) = stage {
                let states: Vec<&str> = State::ALL
                    .iter()
                    .filter(|s| s.stage() == Some(n))
                    .map(|s| s.as_str())
                    .collect();
                query = query.filter(disputes::state.eq_any(states));
            }
            if mine {
                query = query.filter(visibility::mine_condition(caller));
            }
            if let Some(d) = due_before {
                let open: Vec<&str> = State::ALL
                    .iter()
                    .filter(|s| !s.is_terminal())
                    .map(|s| s.as_str())
                    .collect();
                // The first deadline still to be met (kept with every write): a deadline met
                // already, or one that no longer applies, does not make a case due.
                query = query
                    .filter(disputes::state.eq_any(open))
                    .filter(disputes::next_deadline_on.le(d));
            }
            if let Some((t, id)) = cursor {
                query = query.filter(
                    disputes::created_at
                        .gt(t)
                        .or(disputes::created_at.eq(t).and(disputes::id.gt(id))),
                );
            }
            let mut rows: Vec<DisputeRow> = query.load(c)?;
            let next = if rows.len() as i64 > limit {
                rows.truncate(limit as usize);
                rows.last().map(|r| encode_cursor(&r.created_at, &r.id))
            } else {
                None
            };
            let rows: Vec<Dispute> = rows
                .into_iter()
                .map(service::decode)
                .collect::<Result<_, _>>()?;
            // Every party's name on the page in one query (not two per dispute).
            let names = store::org_names(
                c,
                rows.iter()
                    .flat_map(|d| [&d.appellant_id, &d.respondent_id]),
            )?;
            let page = PageOut {
                items: rows.iter().map(|d| summary(&names, d)).collect(),
                next_cursor: next,
            };
            serde_json::to_vec(&page).map_err(|e| ApiError::Internal(format!("page: {e}")))
        })
        .await?;
    Ok(json_answer(StatusCode::OK, page))
}

// Serialised as [`DisputeOut`] is (fields in alphabetical order).
/// A page of the list.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = DisputePage)]
pub struct PageOut<'a> {
    items: Vec<SummaryOut<'a>>,
    /// Pass as `cursor` for the next page; null on the last one.
    next_cursor: Option<String>,
}

/// A dispute in the list.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = DisputeSummary)]
pub struct SummaryOut<'a> {
    appellant: OrgNameOut<'a>,
    case_ref: String,
    category: Category,
    contract_related: bool,
    #[schema(format = DateTime)]
    created_at: String,
    deadlines: DeadlinesOut,
    hearing_date: Option<NaiveDate>,
    id: &'a str,
    inter_practice: bool,
    mediator_id: Option<&'a str>,
    respondent: OrgNameOut<'a>,
    secretary_id: Option<&'a str>,
    stage: Option<u8>,
    state: State,
    title: &'a str,
    #[schema(format = DateTime)]
    updated_at: String,
    version: i64,
}

/// An organisation as the dispute list names it.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = OrgName)]
pub struct OrgNameOut<'a> {
    id: &'a str,
    name: Option<&'a str>,
}

/// The list view: the dispute without its history-heavy parts.
fn summary<'a>(names: &'a HashMap<String, String>, d: &'a Dispute) -> SummaryOut<'a> {
    let org = |id: &'a str| OrgNameOut {
        id,
        name: names.get(id).map(String::as_str),
    };
    SummaryOut {
        appellant: org(&d.appellant_id),
        case_ref: d.case_ref(),
        category: d.category,
        contract_related: d.contract_related,
        created_at: ts(&d.created_at),
        deadlines: DeadlinesOut::of(d),
        hearing_date: d.hearing.as_ref().map(|h| h.date),
        id: &d.id,
        inter_practice: d.inter_practice,
        mediator_id: d.mediator_id(),
        respondent: org(&d.respondent_id),
        secretary_id: d.secretary_id(),
        stage: d.state.stage(),
        state: d.state,
        title: &d.title,
        updated_at: ts(&d.updated_at),
        version: d.version,
    }
}

/// One dispute.
#[utoipa::path(get, path = "/api/v1/disputes/{id}", tag = "disputes", params(("id" = String, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = DisputeOut), (status = 404)))]
pub async fn get_dispute(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Bearer,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let user_id = who.user_id.clone();
    let read = id.clone();
    let out = state
        .db(move |c| {
            // The caller, the dispute and its parties in one statement.
            let v = service::view(c, &who.user_id, &read)?;
            let caller = v.caller.ok_or_else(super::auth::user_gone)?;
            let (d, parties, has_breaches) = v.case.ok_or(ApiError::NotFound)?;
            represent(c, &caller, &d, &parties, has_breaches)
        })
        .await?;
    state.record_read(&req, &user_id, &id, "dispute", None);
    Ok(json_answer(StatusCode::OK, out))
}

// ------------------------------------------------------------------ events

/// Apply one event (see the `type` enum and each event type's schema); returns the updated
/// dispute.
#[utoipa::path(post, path = "/api/v1/disputes/{id}/events", tag = "disputes", params(("id" = String, Path)),
    request_body(content = Object, description = "The event: `type`, optionally the `expected_version` \
        the sender read, and the event type's own fields (one schema per event type)."),
    security(("bearer" = [])),
    responses((status = 200, description = "the updated dispute", body = DisputeOut), (status = 400),
        (status = 403), (status = 404), (status = 409), (status = 422), (status = 429)))]
pub async fn post_event(
    state: web::Data<AppState>,
    who: Bearer,
    id: web::Path<String>,
    body: web::Json<Value>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let body = body.into_inner();
    let parts = state.ctx_parts();
    let throttle = state.clone();
    let (out, applied) = state
        .db_as(who, move |c, caller| {
            let event = body
                .get("type")
                .and_then(Value::as_str)
                .and_then(EventType::parse);
            let applied =
                events::apply_throttled(&throttle.limits, c, &parts.ctx(), caller, &id, &body)?;
            let out = represent(c, caller, &applied.dispute, &applied.parties, true)?;
            Ok((out, (applied, event, caller.user_id.clone())))
        })
        .await?;
    let (applied, event, actor) = applied;
    if applied.notices > 0 {
        state.mail_wakeup.notify_one();
    }
    let event = event.map_or("", EventType::as_str);
    tracing::info!(dispute_id = %applied.dispute.id, event, actor = %actor, "event applied");
    Ok(json_answer(StatusCode::OK, out))
}
/// One event of the history.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Event)]
pub struct EventOut {
    actor_id: String,
    /// Who did it, by name (a deleted user's name is empty).
    actor_name: String,
    #[schema(format = DateTime)]
    at: String,
    /// The event's fields (what the caller may see of them).
    #[schema(value_type = Object)]
    data: Value,
    seq: i64,
    /// An event type, or `file` for the filing.
    #[serde(rename = "type")]
    type_: String,
}

/// Reads, on the blocking pool, what `read` makes of the dispute `id` if the caller may see it
/// (404 otherwise, never saying that it exists), and answers with it as JSON: every `GET` of
/// a dispute's parts.
async fn about_visible<T, F>(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    logged: Option<(HttpRequest, &'static str)>,
    read: F,
) -> ApiResult<HttpResponse>
where
    T: Serialize + Send + 'static,
    F: FnOnce(&mut DbConn, &Caller, Dispute) -> ApiResult<T> + Send + 'static,
{
    let id = id.into_inner();
    let (user_id, dispute_id) = (caller.user_id.clone(), id.clone());
    let out = state
        .db(move |c| {
            let d = service::visible(c, &caller, &id)?;
            read(c, &caller, d)
        })
        .await?;
    if let Some((req, kind)) = logged {
        state.record_read(&req, &user_id, &dispute_id, kind, None);
    }
    Ok(HttpResponse::Ok().json(out))
}

/// The dispute's history, oldest first. Append-only.
#[utoipa::path(get, path = "/api/v1/disputes/{id}/events", tag = "disputes", params(("id" = String, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = [EventOut]), (status = 404)))]
pub async fn list_events(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    about_visible(state, caller, id, Some((req, "events")), |c, caller, d| {
        let events = store::events_of(c, &d.id)?;
        let names = store::user_names(c, events.iter().map(|e| &e.actor_id))?;
        events
            .into_iter()
            .map(|e| {
                Ok(EventOut {
                    data: visibility::event_data(caller, &d, &e)?,
                    actor_name: names.get(&e.actor_id).cloned().unwrap_or_default(),
                    actor_id: e.actor_id,
                    at: ts(&e.at),
                    seq: e.seq,
                    type_: e.event_type,
                })
            })
            .collect::<ApiResult<Vec<_>>>()
    })
    .await
}

/// The event types the caller may apply now.
#[utoipa::path(get, path = "/api/v1/disputes/{id}/actions", tag = "disputes", params(("id" = String, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = [EventType]), (status = 404)))]
pub async fn list_actions(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    about_visible(state, caller, id, None, |_, caller, d| {
        Ok(workflow::allowed(
            d.state,
            &visibility::relations(caller, &d),
        ))
    })
    .await
}

// ------------------------------------------------------------------ documents

/// Refuses a document for a dispute that has ended.
fn open_for_documents(d: &Dispute) -> ApiResult<()> {
    if d.state.is_terminal() {
        return Err(ApiError::InvalidTransition(format!(
            "No documents can be added while the dispute is {}.",
            d.state
        )));
    }
    Ok(())
}

/// The `kind` field's refusal for a caller who could not see a document of that kind.
fn panel_kind_refused(kind: DocumentKind) -> ApiError {
    ApiError::field(
        "kind",
        format!(
            "a document of kind {kind} is for the panel until the decision is notified (a record always): \
             only the panel's members, its secretary and admins may add one; use evidence or other"
        ),
    )
}

// Read part by part as it arrives (`api::documents::read_upload`); this type documents it.
/// The multipart body of `POST /disputes/{id}/documents`.
#[derive(Debug, utoipa::ToSchema)]
pub struct DocumentUpload {
    /// The file, at most 20 MiB.
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
    pub kind: DocumentKind,
}

/// Upload a document (multipart: one `file` part and `kind`), at most 20 MiB. Received as it
/// arrives (a few at a time per process, each within `LDR_UPLOAD_TIMEOUT_SECONDS`) and stored
/// in chunks; a `record`, and a `decision` until it is notified, only by the panel, its
/// secretary and admins.
#[utoipa::path(post, path = "/api/v1/disputes/{id}/documents", tag = "documents", params(("id" = String, Path)),
    request_body(content = DocumentUpload, content_type = "multipart/form-data"), security(("bearer" = [])),
    responses((status = 201, body = UploadedDocument), (status = 400), (status = 404), (status = 408),
        (status = 409), (status = 413), (status = 415), (status = 422), (status = 429)))]
pub async fn upload_document(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let received = receive_upload(&state, &caller, id.into_inner(), &req, payload).await?;
    let stored = store_upload(&state, &caller, received).await?;
    Ok(HttpResponse::Created().json(stored))
}

/// An upload received and spooled, not yet checked or stored (see [`receive_upload`]).
pub struct Received {
    pub dispute: Dispute,
    pub upload: docs::Upload,
    /// Held until the document is stored: uploads at once are bounded.
    _permit: tokio::sync::OwnedSemaphorePermit,
}

/// A document stored: the answer to an upload (the API's and the upload page's).
#[derive(Serialize, utoipa::ToSchema)]
pub struct UploadedDocument {
    pub id: String,
    pub kind: DocumentKind,
    pub name: String,
    pub sha256: String,
    pub size: i64,
}

/// The first half of an upload (the API's and the upload page's): throttled, the dispute
/// visible and open for documents before a byte is read, then the multipart body spooled
/// within `LDR_UPLOAD_TIMEOUT_SECONDS` under one of the upload permits.
pub async fn receive_upload(
    state: &AppState,
    caller: &Caller,
    id: String,
    req: &HttpRequest,
    payload: web::Payload,
) -> ApiResult<Received> {
    state
        .limits
        .check(Action::Upload, &caller.user_id, &caller.org_id)?;
    // Check visibility before reading a byte of the upload.
    let (c1, i1) = (caller.clone(), id.clone());
    let d = state
        .db(move |c| Ok(service::visible(c, &c1, &i1)?))
        .await?;
    open_for_documents(&d)?;
    let ct = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !ct.starts_with("multipart/form-data") {
        return Err(ApiError::UnsupportedMediaType(
            "Send the document as multipart/form-data with fields file and kind.".into(),
        ));
    }
    let declared = req
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_DOCUMENT_BYTES as u64 + docs::MAX_UPLOAD_OVERHEAD) {
        return Err(ApiError::PayloadTooLarge(
            "A document may be at most 20 MiB.".into(),
        ));
    }
    let permit = docs::upload_permit(state).await?;
    let secs = state.cfg.upload_timeout_seconds;
    let dir = state.cfg.data_dir.join("uploads");
    let upload = match tokio::time::timeout(
        std::time::Duration::from_secs(secs),
        docs::read_upload(dir, req.headers(), payload),
    )
    .await
    {
        Ok(read) => read?,
        Err(_) => {
            tracing::info!(dispute_id = %d.id, secs, "an upload did not arrive in time");
            return Err(ApiError::RequestTimeout(format!(
                "The upload did not arrive within {secs} s. Try again on a faster connection, or send a smaller file."
            )));
        }
    };
    Ok(Received {
        dispute: d,
        upload,
        _permit: permit,
    })
}

/// The second half of an upload: its `kind` and `file` checked (every problem listed), then
/// the document written, decided again under the dispute's row.
pub async fn store_upload(
    state: &AppState,
    caller: &Caller,
    received: Received,
) -> ApiResult<UploadedDocument> {
    let Received {
        dispute: d,
        upload,
        _permit,
    } = received;
    let id = d.id.clone();
    let mut errs = Vec::new();
    match &upload.kind {
        Some(k) if DOCUMENT_KINDS.contains(&k.as_str()) => {}
        Some(_) => errs.push(FieldError {
            field: "kind".into(),
            message: format!("must be one of: {}", DOCUMENT_KINDS.join(", ")),
        }),
        None => errs.push(FieldError {
            field: "kind".into(),
            message: "is required".into(),
        }),
    }
    if upload.file.is_none() {
        errs.push(FieldError {
            field: "file".into(),
            message: "is required".into(),
        });
    }
    if !errs.is_empty() {
        return Err(ApiError::Validation(errs));
    }
    let (Some(kind), Some(mut file)) = (
        upload.kind.as_deref().and_then(DocumentKind::parse),
        upload.file,
    ) else {
        return Err(ApiError::Internal(
            "an upload passed validation without its parts".into(),
        ));
    };
    if !visibility::can_see_document(caller, &d, kind) {
        return Err(panel_kind_refused(kind));
    }
    let doc_id = uuid::Uuid::new_v4().to_string();
    let (did, dkind, uid) = (doc_id.clone(), kind, caller.user_id.clone());
    let (name, sha, size) = (file.name.clone(), file.sha256.clone(), file.size as i64);
    let (dname, dsha) = (name.clone(), sha.clone());
    state
        .db(move |c| {
            write_tx(c, |c| {
                // The body took its time: whether the dispute still takes documents from this
                // uploader is decided now, under the dispute's row, as the document is written.
                store::hold_dispute(c, &id)?;
                let caller =
                    super::auth::load_caller(c, &uid)?.ok_or_else(super::auth::user_gone)?;
                let d = service::visible(c, &caller, &id)?;
                open_for_documents(&d)?;
                if !visibility::can_see_document(&caller, &d, dkind) {
                    return Err(panel_kind_refused(dkind));
                }
                diesel::insert_into(documents::table)
                    .values((
                        documents::id.eq(&did),
                        documents::dispute_id.eq(&id),
                        documents::name.eq(&dname),
                        documents::kind.eq(dkind.as_str()),
                        documents::content_type.eq(&file.content_type),
                        documents::size.eq(size),
                        documents::sha256.eq(&dsha),
                        documents::uploaded_by.eq(&uid),
                        documents::created_at.eq(now()),
                    ))
                    .execute(c)?;
                let copied = docs::copy_into_chunks(c, &did, &mut file.file)?;
                if copied != size as u64 {
                    return Err(ApiError::Internal(format!(
                        "an upload's spool file held {copied} bytes, not the {size} received"
                    )));
                }
                Ok(())
            })
        })
        .await?;
    tracing::info!(document_id = %doc_id, dispute_id = %d.id, size, "document uploaded");
    Ok(UploadedDocument {
        id: doc_id,
        kind,
        name,
        sha256: sha,
        size,
    })
}

/// A stored document (metadata).
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = DocumentMeta)]
pub struct DocumentOut {
    /// As served: the uploaded type when it is on the allow-list (PDF, images, text, CSV, office
    /// formats, `message/rfc822`), otherwise `application/octet-stream`
    content_type: &'static str,
    #[schema(format = DateTime)]
    created_at: String,
    id: String,
    kind: DocumentKind,
    name: String,
    sha256: String,
    size: i64,
    uploaded_by: String,
    /// Who uploaded it, by name.
    uploaded_by_name: String,
}

/// The dispute's documents (metadata) that the caller may see: a `record` only the panel, its
/// secretary and admins; a `decision` the parties too once it is notified.
#[utoipa::path(get, path = "/api/v1/disputes/{id}/documents", tag = "documents", params(("id" = String, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = [DocumentOut]), (status = 404)))]
pub async fn list_documents(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    about_visible(
        state,
        caller,
        id,
        Some((req, "documents")),
        |c, caller, d| {
            let docs_meta = store::documents_of(c, &d.id)?;
            let names = store::user_names(c, docs_meta.iter().map(|m| &m.uploaded_by))?;
            let mut out = Vec::new();
            for m in docs_meta {
                let kind = service::document_kind(&m.kind)?;
                if visibility::can_see_document(caller, &d, kind) {
                    out.push(DocumentOut {
                        content_type: docs::served_type(&m.content_type),
                        created_at: ts(&m.created_at),
                        id: m.id,
                        kind,
                        name: docs::clean_name(&m.name),
                        sha256: m.sha256,
                        size: m.size,
                        uploaded_by_name: names.get(&m.uploaded_by).cloned().unwrap_or_default(),
                        uploaded_by: m.uploaded_by,
                    });
                }
            }
            Ok(out)
        },
    )
    .await
}

/// Download a document (as an attachment, streamed). A document the caller may not see is 404.
#[utoipa::path(get, path = "/api/v1/documents/{id}", tag = "documents", params(("id" = String, Path)),
    security(("bearer" = [])),
    responses((status = 200, description = "the file"), (status = 404)))]
pub async fn download_document(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let user_id = caller.user_id.clone();
    let meta = state
        .db(move |c| Ok(visibility::document_for(c, &caller, &id)?))
        .await?;
    state.record_read(&req, &user_id, &meta.dispute_id, "document", Some(&meta.id));
    Ok(document_answer(state, meta))
}

/// `text` with every character that is not `kept` replaced by `_` (a file name for a
/// `Content-Disposition` header).
fn replace_unless(text: &str, kept: impl Fn(char) -> bool) -> String {
    text.chars()
        .map(|c| if kept(c) { c } else { '_' })
        .collect()
}

/// A document's bytes as an attachment, streamed from its chunks (the API's download and the
/// pages' alike).
pub fn document_answer(state: web::Data<AppState>, meta: store::DocumentMeta) -> HttpResponse {
    let ascii = replace_unless(&docs::clean_name(&meta.name), |c| {
        c.is_ascii_graphic() || c == ' '
    });
    let size = u64::try_from(meta.size).unwrap_or(0);
    HttpResponse::Ok()
        .insert_header((
            actix_web::http::header::CONTENT_TYPE,
            docs::served_type(&meta.content_type),
        ))
        .insert_header((
            actix_web::http::header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{}\"", ascii.replace('\\', "_")),
        ))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("X-Checksum-Sha256", meta.sha256.clone()))
        .body(docs::chunk_body(state, meta.id, size))
}

// ------------------------------------------------------------------ notices

/// Every e-mail notice of the case.
#[utoipa::path(get, path = "/api/v1/disputes/{id}/notices", tag = "notices", params(("id" = String, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = [Notice]), (status = 404)))]
pub async fn list_notices(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    about_visible(state, caller, id, Some((req, "notices")), |c, caller, d| {
        Ok(visibility::notices_seen(c, caller, &d)?)
    })
    .await
}

/// An e-mail notice of the case (its own module, shared with the pages).
pub use crate::service::visibility::Notice;

// ------------------------------------------------------------------ hearing invitation

/// The scheduled hearing's calendar invitation (iCalendar, `METHOD:REQUEST`), as its notice
/// carried it: the same event (UID and sequence), so that a calendar updates rather than
/// duplicates it. Notices sent through GOV.UK Notify, which carries no attachment, link here.
#[utoipa::path(get, path = "/api/v1/disputes/{id}/hearing.ics", tag = "disputes", params(("id" = String, Path)),
    security(("bearer" = [])),
    responses((status = 200, description = "the invitation", content_type = "text/calendar", body = String),
        (status = 404), (status = 409, description = "no hearing is scheduled")))]
pub async fn hearing_ics(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let (user_id, read) = (caller.user_id.clone(), id.clone());
    let mail_from = state.cfg.mail_from.clone();
    let (ics, case_ref) = state
        .db(move |c| {
            let d = service::visible(c, &caller, &read)?;
            if d.state != State::HearingScheduled {
                return Err(ApiError::Conflict {
                    code: "no_hearing_scheduled",
                    detail: format!(
                        "No hearing is scheduled for this dispute (it is {}): an invitation exists \
                         only while one is; the dispute's events say when it was held, moved or \
                         cancelled.",
                        d.state.as_str()
                    ),
                });
            }
            let parties = Parties::of(c, &d)?;
            let ics = service::notices::hearing_ics(
                c,
                &mail_from,
                &d,
                &parties,
                CalendarMethod::Request,
            )?;
            Ok((ics, d.case_ref()))
        })
        .await?;
    state.record_read(&req, &user_id, &id, "hearing_ics", None);
    let name = replace_unless(&case_ref, |c| c.is_ascii_alphanumeric() || c == '-');
    Ok(HttpResponse::Ok()
        .content_type("text/calendar; charset=utf-8")
        .insert_header((
            actix_web::http::header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"hearing-{name}.ics\""),
        ))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .body(ics))
}

// ------------------------------------------------------------------ hearing options

/// Dates that satisfy the hearing deadline, the notice rule (notice sent today) and every panel
/// member's availability: working days only.
#[utoipa::path(get, path = "/api/v1/disputes/{id}/hearing-options", tag = "disputes", params(("id" = String, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = HearingOptions), (status = 404)))]
pub async fn hearing_options(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let today = state.clock.today();
    let cal = state.calendar.clone();
    let logged = Some((req, "hearing_options"));
    about_visible(state, caller, id, logged, move |c, _, d| {
        let earliest = deadlines::earliest_hearing_after_notice(&cal, today);
        let hearing_by = d.deadlines.hearing_by;
        let away = service::hearings::unavailability(c, &d, today, hearing_by)?;
        let dates = hearing_days::offered(&cal, today, hearing_by, &away, 60);
        Ok(HearingOptions {
            dates,
            earliest,
            hearing_by,
            notice_on: today,
        })
    })
    .await
}

/// The days a hearing may be scheduled on.
#[derive(Serialize, utoipa::ToSchema)]
pub struct HearingOptions {
    /// Working days that satisfy every rule, at most 60.
    dates: Vec<NaiveDate>,
    /// The first working day a hearing may be on with its notice sent today.
    earliest: Option<NaiveDate>,
    /// The dispute's hearing deadline, if it has one.
    hearing_by: Option<NaiveDate>,
    /// Today: the day the notice is taken to be sent.
    notice_on: NaiveDate,
}

// ------------------------------------------------------------------ report

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct RangeQuery {
    #[param(required = true, value_type = String, format = Date)]
    pub from: Option<String>,
    /// Not before `from`.
    #[param(required = true, value_type = String, format = Date)]
    pub to: Option<String>,
}

/// Timeliness over the formal requests lodged in [from, to] (admin, panel secretary).
#[utoipa::path(get, path = "/api/v1/reports/timeliness", tag = "reports", params(RangeQuery), security(("bearer" = [])),
    responses((status = 200, body = Timeliness), (status = 403), (status = 422)))]
pub async fn timeliness(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<RangeQuery>,
) -> ApiResult<HttpResponse> {
    let out = state
        .timeliness_report(
            &caller,
            q.from.as_deref().unwrap_or(""),
            q.to.as_deref().unwrap_or(""),
        )
        .await?;
    Ok(HttpResponse::Ok().json(out))
}

/// The report's answer (its own module, shared with the pages).
pub use crate::service::reports::Timeliness;

#[cfg(test)]
mod tests {
    use super::replace_unless;

    #[test]
    fn attachment_names_keep_only_what_each_header_allows() {
        let document = |c: char| c.is_ascii_graphic() || c == ' ';
        assert_eq!(replace_unless("Résumé v2.pdf", document), "R_sum_ v2.pdf");
        let calendar = |c: char| c.is_ascii_alphanumeric() || c == '-';
        assert_eq!(replace_unless("LDR/2026 0001", calendar), "LDR_2026_0001");
    }
}
