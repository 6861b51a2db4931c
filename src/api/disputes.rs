//! Disputes over HTTP: filing, listing, the dispute, its events, actions, documents, notices,
//! hearing options, and the timeliness report.

use super::auth::{self, Bearer, Caller};
use super::error::{ApiError, ApiResult, FieldError};
use super::limits::Action;
use super::procedure::{self, Ctx, Fields};
use super::visibility::{self, can_see, panel_view};
use super::{AppState, Attempts};
use crate::db::disputes::{self as store, DisputeRow, EventRow};
use crate::db::schema::{
    breaches, disputes, documents, events, idempotency_keys, notices, organisations, users,
};
use crate::db::{now, write_tx, DbConn};
use crate::domain::deadlines;
use crate::domain::roles::Role;
use crate::domain::workflow::{self, EventType, State};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

pub const CATEGORIES: [&str; 6] = [
    "referral_management",
    "prescribing",
    "objectives",
    "quality_premium",
    "contract",
    "other",
];
pub const DOCUMENT_KINDS: [&str; 6] = [
    "grounds", "evidence", "contract", "record", "decision", "other",
];
pub const MAX_DOCUMENT_BYTES: usize = 20 * 1024 * 1024;

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
    .service(web::resource("/documents/{id}").route(web::get().to(download_document)))
    .service(web::resource("/reports/timeliness").route(web::get().to(timeliness)));
}

fn ctx(state: &AppState) -> Ctx {
    Ctx {
        today: state.clock.today(),
        calendar: state.calendar.clone(),
        templates: state.templates.clone(),
        mail_from: state.cfg.mail_from.clone(),
    }
}

fn ts(t: &NaiveDateTime) -> String {
    t.and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// Loads a dispute the caller may see; otherwise 404 (never revealing that it exists).
pub(super) fn visible(c: &mut DbConn, caller: &Caller, id: &str) -> ApiResult<DisputeRow> {
    match store::find(c, id)? {
        Some(d) if can_see(caller, &d) => Ok(d),
        _ => Err(ApiError::NotFound),
    }
}

// ------------------------------------------------------------------ representation

/// The names of the people a dispute's representation names (mediator, panel).
struct Names {
    /// id, name
    users: Vec<(String, String)>,
}

impl Names {
    /// The names of the people `d` names: those in `known`, the others (someone a transition
    /// has just named) read in one query, only when there are any.
    fn of(c: &mut DbConn, d: &DisputeRow, mut known: Vec<(String, String)>) -> ApiResult<Names> {
        let missing: Vec<&String> = [
            &d.mediator_id,
            &d.clinical_member_id,
            &d.gp_conciliator_id,
            &d.lmc_representative_id,
            &d.secretary_id,
        ]
        .into_iter()
        .flatten()
        .filter(|id| !known.iter().any(|k| &k.0 == *id))
        .collect();
        if !missing.is_empty() {
            known.extend(
                users::table
                    .filter(users::id.eq_any(missing))
                    .select((users::id, users::name))
                    .load::<(String, String)>(c)?,
            );
        }
        Ok(Names { users: known })
    }

    fn user<'a>(&'a self, id: Option<&'a str>) -> Option<UserOut<'a>> {
        let id = id?;
        let name = self.users.iter().find(|u| u.0 == id).map(|u| u.1.as_str());
        Some(UserOut { id, name })
    }
}

// The representation of a dispute, serialised straight from the row it was read into (no
// `serde_json::Value` tree built, sorted and dropped for each answer: a third of a `GET`'s
// instructions). The fields of each struct are in alphabetical order, the order in which a
// `Value`'s keys are written, so the answer is the same text as before, byte for byte. Each
// struct's schema for the OpenAPI document is its twin in `super::openapi`.

#[derive(Serialize)]
struct DisputeOut<'a> {
    appellant: PartyOut<'a>,
    breaches: Vec<BreachOut>,
    case_ref: String,
    category: &'a str,
    contract_related: bool,
    created_at: String,
    deadlines: DeadlinesOut,
    decision: Option<DecisionOut<'a>>,
    fhsu_determination: &'a Option<Value>,
    fhsu_referral: &'a Option<Value>,
    formal_request: Option<FormalRequestOut<'a>>,
    hearing: Option<HearingOut<'a>>,
    id: &'a str,
    inter_practice: bool,
    lmc_id: &'a Option<String>,
    matter_arose_on: NaiveDate,
    mediator: Option<MediatorOut<'a>>,
    panel: Option<PanelOut<'a>>,
    respondent: PartyOut<'a>,
    screening_organisation_id: &'a str,
    stage: Option<u8>,
    state: State,
    summary: &'a str,
    title: &'a str,
    updated_at: String,
    version: i64,
}

#[derive(Serialize)]
struct PartyOut<'a> {
    address: &'a str,
    id: &'a str,
    kind: &'a str,
    name: &'a str,
}

#[derive(Serialize)]
struct UserOut<'a> {
    id: &'a str,
    name: Option<&'a str>,
}

#[derive(Serialize)]
struct MediatorOut<'a> {
    id: &'a str,
    mode: &'a Option<String>,
    name: Option<&'a str>,
}

#[derive(Serialize)]
struct PanelOut<'a> {
    chair_id: &'a Option<String>,
    clinical_member: Option<UserOut<'a>>,
    gp_conciliator: Option<UserOut<'a>>,
    lmc_representative: Option<UserOut<'a>>,
    secretary: Option<UserOut<'a>>,
}

#[derive(Serialize)]
struct HearingOut<'a> {
    bundle_distributed_on: Option<NaiveDate>,
    date: Option<NaiveDate>,
    held_on: Option<NaiveDate>,
    notice_sent_on: Option<NaiveDate>,
    /// For the panel only: absent for others, `null` for the panel before it is recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    record: Option<Option<&'a Value>>,
    sequence: i32,
    time: &'a Option<String>,
    venue: &'a Option<String>,
}

#[derive(Serialize)]
struct DeadlinesOut {
    bundle_by: Option<NaiveDate>,
    decision_by: Option<NaiveDate>,
    fhsu_by: Option<NaiveDate>,
    hearing_by: Option<NaiveDate>,
    notice_by: Option<NaiveDate>,
}

impl DeadlinesOut {
    fn of(d: &DisputeRow) -> DeadlinesOut {
        DeadlinesOut {
            bundle_by: d.bundle_by,
            decision_by: d.decision_by,
            fhsu_by: d.fhsu_by,
            hearing_by: d.hearing_by,
            notice_by: d.notice_by,
        }
    }
}

#[derive(Serialize)]
struct FormalRequestOut<'a> {
    grounds: &'a Option<String>,
    lmc_consulted_on: Option<NaiveDate>,
    lodged_on: NaiveDate,
    requested_by: &'a Option<String>,
    screening: &'a Option<Value>,
}

/// The parties see the outcome and recommendations once notified; the votes and the recording
/// date are the panel's alone (absent for others).
#[derive(Serialize)]
struct DecisionOut<'a> {
    notified_on: Option<NaiveDate>,
    outcome: &'a str,
    recommendations: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    recorded_on: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    votes: Option<&'a [store::Vote]>,
}

#[derive(Serialize)]
struct BreachOut {
    detail: String,
    detected_on: NaiveDate,
    due_on: NaiveDate,
    kind: String,
    overridden: bool,
}

fn party<'a>(id: &'a str, p: &'a store::Party) -> PartyOut<'a> {
    PartyOut {
        address: &p.address,
        id,
        kind: &p.kind,
        name: &p.name,
    }
}

/// The dispute as the caller may see it, as the JSON text of the answer.
pub fn represent(c: &mut DbConn, caller: &Caller, d: &DisputeRow) -> ApiResult<Vec<u8>> {
    let v = store::view(c, &d.id, &caller.user_id, false, None)?.ok_or(ApiError::NotFound)?;
    represent_with(c, caller, d, &v.parties, v.people, v.breaches)
}

/// [`represent`] from what [`store::view`] read: the parties, the names of the people it knew
/// (any others are read) and the number of breaches (their rows are read only when there are
/// any).
fn represent_with(
    c: &mut DbConn,
    caller: &Caller,
    d: &DisputeRow,
    parties: &store::Parties,
    people: Vec<(String, String)>,
    breach_count: i64,
) -> ApiResult<Vec<u8>> {
    let detail = d.detail();
    let panel_sees = panel_view(caller, d);
    let state = d.state();
    let names = Names::of(c, d, people)?;
    let breaches = if breach_count == 0 {
        Vec::new()
    } else {
        store::breaches_of(c, &d.id)?
            .into_iter()
            .map(|b| BreachOut {
                detail: b.detail,
                detected_on: b.detected_on,
                due_on: b.due_on,
                kind: b.kind,
                overridden: b.overridden,
            })
            .collect()
    };
    let out = DisputeOut {
        appellant: party(&d.appellant_id, &parties.appellant),
        breaches,
        case_ref: d.case_ref(),
        category: &d.category,
        contract_related: d.contract_related,
        created_at: ts(&d.created_at),
        deadlines: DeadlinesOut::of(d),
        decision: detail.decision.as_ref().and_then(|dec| {
            (panel_sees || d.decision_notified_on.is_some()).then(|| DecisionOut {
                notified_on: d.decision_notified_on,
                outcome: &dec.outcome,
                recommendations: &dec.recommendations,
                recorded_on: panel_sees.then_some(dec.recorded_on),
                votes: panel_sees.then_some(dec.votes.as_slice()),
            })
        }),
        fhsu_determination: &detail.fhsu_determination,
        fhsu_referral: &detail.fhsu_referral,
        formal_request: d.lodged_on.map(|lodged_on| FormalRequestOut {
            grounds: &detail.grounds,
            lmc_consulted_on: d.lmc_consulted_on,
            lodged_on,
            requested_by: &detail.requested_by_org,
            screening: &detail.screening,
        }),
        hearing: d.hearing_date.is_some().then(|| HearingOut {
            bundle_distributed_on: d.bundle_distributed_on,
            date: d.hearing_date,
            held_on: d.held_on,
            notice_sent_on: d.notice_sent_on,
            record: panel_sees.then_some(detail.hearing_record.as_ref()),
            sequence: d.hearing_sequence,
            time: &d.hearing_time,
            venue: &d.hearing_venue,
        }),
        id: &d.id,
        inter_practice: d.inter_practice,
        lmc_id: &d.lmc_id,
        matter_arose_on: d.matter_arose_on,
        mediator: d.mediator_id.as_deref().map(|id| MediatorOut {
            id,
            mode: &d.mediator_mode,
            name: names.user(Some(id)).and_then(|u| u.name),
        }),
        panel: d.secretary_id.is_some().then(|| PanelOut {
            chair_id: &d.chair_id,
            clinical_member: names.user(d.clinical_member_id.as_deref()),
            gp_conciliator: names.user(d.gp_conciliator_id.as_deref()),
            lmc_representative: names.user(d.lmc_representative_id.as_deref()),
            secretary: names.user(d.secretary_id.as_deref()),
        }),
        respondent: party(&d.respondent_id, &parties.respondent),
        screening_organisation_id: &d.screening_org_id,
        stage: state.stage(),
        state,
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
#[utoipa::path(post, path = "/api/v1/disputes", tag = "disputes", request_body = super::openapi::NewDispute,
    params(("Idempotency-Key" = Option<String>, Header, description = "same key and body → the same dispute")),
    security(("bearer" = [])),
    responses((status = 201, description = "the dispute, in state informal", body = super::openapi::Dispute), (status = 400, body = super::error::Problem),
        (status = 401, body = super::error::Problem), (status = 403, body = super::error::Problem),
        (status = 409, body = super::error::Problem), (status = 422, body = super::error::Problem), (status = 429, body = super::error::Problem)))]
pub async fn create_dispute(
    state: web::Data<AppState>,
    who: Bearer,
    req: HttpRequest,
    body: web::Json<Value>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let key_header = req.headers().get("Idempotency-Key").cloned();
    let today = state.clock.today();
    let calendar = state.calendar.clone();
    let ctx = ctx(&state);
    let limits = state.clone();
    // One trip to the blocking pool: the caller, the checks, the filing and its
    // representation on one connection.
    let (out, id, actor, created) = state
        .db_as(who, move |c, caller| {
            // Each filing e-mails the respondent and the LMC: throttled per user and
            // organisation, before anything is read or written.
            limits
                .limits
                .check(Action::File, &caller.user_id, &caller.org_id)?;
            file_dispute(c, caller, key_header, body, today, calendar, ctx)
        })
        .await?;
    if created {
        state.mail_wakeup.notify_one();
        tracing::info!(dispute_id = %id, actor = %actor, "dispute filed");
    }
    Ok(json_answer(StatusCode::CREATED, out))
}

/// The body of `create_dispute`, on one connection: returns the representation, the dispute
/// id, the caller's id and whether it was created now (not an idempotent replay).
fn file_dispute(
    c: &mut DbConn,
    caller: &Caller,
    key_header: Option<actix_web::http::header::HeaderValue>,
    body: Value,
    today: NaiveDate,
    calendar: crate::domain::calendar::Calendar,
    ctx: Ctx,
) -> ApiResult<(Vec<u8>, String, String, bool)> {
    caller.require(&[Role::PracticeUser, Role::Commissioner])?;
    let key = match key_header.as_ref() {
        Some(v) => {
            let k = v
                .to_str()
                .map_err(|_| ApiError::field("Idempotency-Key", "must be visible ASCII"))?
                .trim()
                .to_string();
            if k.is_empty() || k.len() > 200 {
                return Err(ApiError::field(
                    "Idempotency-Key",
                    "must be 1 to 200 characters",
                ));
            }
            Some(k)
        }
        None => None,
    };
    let obj = body
        .as_object()
        .ok_or_else(|| ApiError::BadRequest("The body must be a JSON object.".into()))?
        .clone();
    let mut f = Fields::new(&obj);
    let title = f.text("title", 200);
    let category = f.one_of("category", &CATEGORIES);
    let appellant_id = f.id("appellant_id");
    let respondent_id = f.id("respondent_id");
    let summary = f.text("summary", 20_000);
    let matter_arose_on = f.date("matter_arose_on");
    let contract_related = f.boolean("contract_related");
    let mut extra = Vec::new();
    if matter_arose_on.is_some_and(|m| m > today) {
        extra.push(FieldError {
            field: "matter_arose_on".into(),
            message: "must not be in the future".into(),
        });
    }
    if !appellant_id.is_empty() && appellant_id != caller.org_id {
        extra.push(FieldError {
            field: "appellant_id".into(),
            message: "must be your own organisation".into(),
        });
    }
    if !appellant_id.is_empty() && appellant_id == respondent_id {
        extra.push(FieldError {
            field: "respondent_id".into(),
            message: "must differ from the appellant".into(),
        });
    }
    f.errors.extend(extra);
    f.finish()?;
    let matter_arose_on = matter_arose_on.unwrap_or(today);
    let hash = hex::encode(Sha256::digest(body.to_string().as_bytes()));
    let (row, parties) = write_tx(c, |c| {
                if let Some(k) = &key {
                    let prior: Option<(String, String)> = idempotency_keys::table
                        .filter(idempotency_keys::user_id.eq(&caller.user_id))
                        .filter(idempotency_keys::key.eq(k))
                        .select((idempotency_keys::request_hash, idempotency_keys::dispute_id))
                        .first(c)
                        .optional()?;
                    if let Some((h, id)) = prior {
                        if h != hash {
                            return Err(ApiError::Conflict {
                                code: "idempotency_key_reused",
                                detail: "This Idempotency-Key was used with a different body.".into(),
                            });
                        }
                        let d = store::find(c, &id)?.ok_or(ApiError::NotFound)?;
                        return Ok((d, None));
                    }
                }
                // Both parties in one statement.
                let orgs = super::directory::find_organisations(c, &[&appellant_id, &respondent_id])?;
                let find = |id: &str| orgs.iter().find(|o| o.id == id);
                let appellant = find(&appellant_id)
                    .ok_or_else(|| ApiError::field("appellant_id", "does not name an organisation"))?;
                let respondent = find(&respondent_id)
                    .ok_or_else(|| ApiError::field("respondent_id", "does not name an organisation"))?;
                let kinds = (appellant.kind.as_str(), respondent.kind.as_str());
                let (inter_practice, screening_org, lmc_area) = match kinds {
                    ("practice", "commissioner") => (false, respondent.id.clone(), appellant.area.clone()),
                    ("commissioner", "practice") => (false, appellant.id.clone(), respondent.area.clone()),
                    ("practice", "practice") => (
                        true,
                        appellant.commissioner_id.clone().unwrap_or_default(),
                        appellant.area.clone(),
                    ),
                    _ => {
                        return Err(ApiError::field(
                            "respondent_id",
                            "a dispute is between a practice and a commissioner, or between two practices",
                        ))
                    }
                };
                // The LMC's id and e-mail (its notice goes to it).
                let lmc: Option<(String, String)> = organisations::table
                    .filter(organisations::kind.eq("lmc"))
                    .filter(organisations::area.eq(&lmc_area))
                    .order(organisations::created_at.asc())
                    .select((organisations::id, organisations::email))
                    .first(c)
                    .optional()?;
                let lmc_id = lmc.as_ref().map(|l| l.0.clone());
                let t = now();
                let mut d = DisputeRow {
                    id: uuid::Uuid::new_v4().to_string(),
                    title,
                    category,
                    appellant_id: appellant.id.clone(),
                    respondent_id: respondent.id.clone(),
                    summary,
                    matter_arose_on,
                    contract_related,
                    inter_practice,
                    screening_org_id: screening_org,
                    lmc_id,
                    state: State::Informal.as_str().into(),
                    version: 1,
                    mediator_id: None,
                    mediator_mode: None,
                    lodged_on: None,
                    lmc_consulted_on: None,
                    clinical_member_id: None,
                    gp_conciliator_id: None,
                    lmc_representative_id: None,
                    secretary_id: None,
                    chair_id: None,
                    hearing_date: None,
                    hearing_time: None,
                    hearing_venue: None,
                    hearing_sequence: 0,
                    notice_sent_on: None,
                    bundle_distributed_on: None,
                    held_on: None,
                    decided_on: None,
                    decision_notified_on: None,
                    referred_on: None,
                    hearing_by: None,
                    notice_by: None,
                    bundle_by: None,
                    decision_by: None,
                    fhsu_by: (contract_related && !inter_practice).then(|| deadlines::fhsu_by(matter_arose_on)),
                    next_sweep_on: None,
                    detail: "{}".into(),
                    created_by: caller.user_id.clone(),
                    created_at: t,
                    updated_at: t,
                };
                d.next_sweep_on = crate::notify::sweep::next_sweep_on(&calendar, &d);
                store::insert(c, &d)?;
                if let Some(k) = &key {
                    diesel::insert_into(idempotency_keys::table)
                        .values((
                            idempotency_keys::user_id.eq(&caller.user_id),
                            idempotency_keys::key.eq(k),
                            idempotency_keys::request_hash.eq(&hash),
                            idempotency_keys::dispute_id.eq(&d.id),
                            idempotency_keys::created_at.eq(t),
                        ))
                        .execute(c)?;
                }
                store::append_event(
                    c,
                    &EventRow {
                        dispute_id: d.id.clone(),
                        seq: 1,
                        event_type: "file".into(),
                        actor_id: caller.user_id.clone(),
                        at: t,
                        data: json!({"title": d.title, "category": d.category, "appellant_id": d.appellant_id,
                            "respondent_id": d.respondent_id, "summary": d.summary,
                            "matter_arose_on": d.matter_arose_on, "contract_related": d.contract_related})
                        .to_string(),
                    },
                )?;
                // The names and addresses were read above: the notice asks for nothing more.
                let base = crate::notify::outbox::base_context_named(&d, &appellant.name, &respondent.name, today);
                let mut known = vec![(respondent.id.clone(), respondent.email.clone())];
                known.extend(lmc.clone());
                let mut a = crate::notify::outbox::Addresses::knowing(c, known);
                let mut to = a.org(Some(&d.respondent_id));
                to.extend(a.lmc(&d));
                crate::notify::outbox::queue(
                    c,
                    &ctx.templates,
                    Some(&d.id),
                    vec![crate::notify::outbox::NoticeSpec {
                        template: "dispute_filed",
                        recipients: to,
                        ctx: crate::notify::outbox::with(&base, json!({"summary": d.summary, "matter_arose_on": d.matter_arose_on})),
                        ics: None,
                    }],
                )?;
                let party = |o: &super::directory::Organisation| store::Party {
                    name: o.name.clone(),
                    kind: o.kind.clone(),
                    address: o.address.clone(),
                    email: o.email.clone(),
                };
                let parties = store::Parties {
                    appellant: party(appellant),
                    respondent: party(respondent),
                    lmc_email: lmc.map(|l| l.1),
                };
                Ok((d, Some(parties)))
            })
        .map_err(|e| match e {
            // Two requests with one key at once on PostgreSQL: the loser is told to retry,
            // and its retry returns the winner's dispute.
            ApiError::Internal(m) if m.contains("idempotency_keys") => ApiError::Conflict {
                code: "idempotency_conflict",
                detail: "A request with this Idempotency-Key is in progress; retry.".into(),
            },
            other => other,
        })?;
    // A new dispute is represented from what the filing read and wrote (it names nobody yet
    // and has no breach); a replay reads the dispute as it is now.
    let created = parties.is_some();
    let out = match &parties {
        Some(p) => represent_with(c, caller, &row, p, Vec::new(), 0)?,
        None => represent(c, caller, &row)?,
    };
    Ok((out, row.id, caller.user_id.clone(), created))
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
    /// Open disputes with a deadline on or before this date.
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
    // Ids are UUIDs: anything else (a NUL, say, which PostgreSQL text cannot hold) is no cursor.
    let id = uuid::Uuid::parse_str(id).ok()?;
    Some((t, id.hyphenated().to_string()))
}

fn encode_cursor(t: &NaiveDateTime, id: &str) -> String {
    hex::encode(format!("{}|{}", t.and_utc().timestamp_micros(), id))
}

/// The disputes the caller may see, oldest first, with filters and cursor pagination.
#[utoipa::path(get, path = "/api/v1/disputes", tag = "disputes", params(ListQuery), security(("bearer" = [])),
    responses((status = 200, body = super::openapi::DisputePage), (status = 401, body = super::error::Problem),
        (status = 422, body = super::error::Problem)))]
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
                query = query.filter(disputes::state.eq_any(open)).filter(
                    disputes::hearing_by
                        .le(d)
                        .or(disputes::notice_by.le(d))
                        .or(disputes::bundle_by.le(d))
                        .or(disputes::decision_by.le(d))
                        .or(disputes::fhsu_by.le(d))
                        .assume_not_null(),
                );
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

/// A page of the list, serialised as [`DisputeOut`] is (fields in alphabetical order).
#[derive(Serialize)]
struct PageOut<'a> {
    items: Vec<SummaryOut<'a>>,
    next_cursor: Option<String>,
}

#[derive(Serialize)]
struct SummaryOut<'a> {
    appellant: OrgNameOut<'a>,
    case_ref: String,
    category: &'a str,
    contract_related: bool,
    created_at: String,
    deadlines: DeadlinesOut,
    hearing_date: Option<NaiveDate>,
    id: &'a str,
    inter_practice: bool,
    mediator_id: &'a Option<String>,
    respondent: OrgNameOut<'a>,
    secretary_id: &'a Option<String>,
    stage: Option<u8>,
    state: State,
    title: &'a str,
    updated_at: String,
    version: i64,
}

#[derive(Serialize)]
struct OrgNameOut<'a> {
    id: &'a str,
    name: Option<&'a str>,
}

/// The list view: the dispute without its history-heavy parts.
fn summary<'a>(
    names: &'a std::collections::HashMap<String, String>,
    d: &'a DisputeRow,
) -> SummaryOut<'a> {
    let org = |id: &'a str| OrgNameOut {
        id,
        name: names.get(id).map(String::as_str),
    };
    let state = d.state();
    SummaryOut {
        appellant: org(&d.appellant_id),
        case_ref: d.case_ref(),
        category: &d.category,
        contract_related: d.contract_related,
        created_at: ts(&d.created_at),
        deadlines: DeadlinesOut::of(d),
        hearing_date: d.hearing_date,
        id: &d.id,
        inter_practice: d.inter_practice,
        mediator_id: &d.mediator_id,
        respondent: org(&d.respondent_id),
        secretary_id: &d.secretary_id,
        stage: state.stage(),
        state,
        title: &d.title,
        updated_at: ts(&d.updated_at),
        version: d.version,
    }
}

/// One dispute.
#[utoipa::path(get, path = "/api/v1/disputes/{id}", tag = "disputes", params(("id" = String, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = super::openapi::Dispute), (status = 401, body = super::error::Problem),
        (status = 404, body = super::error::Problem)))]
pub async fn get_dispute(
    state: web::Data<AppState>,
    who: Bearer,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let out = state
        .read(move |c| {
            // The caller, the dispute, its parties and breach count in one statement.
            let (caller, v) = view_as(c, &who, &id, false, None, None)?;
            if !can_see(&caller, &v.dispute) {
                return Err(ApiError::NotFound);
            }
            represent_with(c, &caller, &v.dispute, &v.parties, v.people, v.breaches)
        })
        .await?;
    Ok(json_answer(StatusCode::OK, out))
}

/// The caller of `who`, checked fresh (401 when the user is gone or deactivated), and the
/// dispute `id` with what its representation needs, read together by [`store::view`]. When
/// there is no such dispute: 401 for a user that is gone, then `refuse_first` (a malformed
/// body), then 404, the order in which the separate checks would answer.
fn view_as(
    c: &mut DbConn,
    who: &Bearer,
    id: &str,
    full: bool,
    named: Option<&str>,
    refuse_first: Option<ApiError>,
) -> ApiResult<(Caller, store::Viewed)> {
    match store::view(c, id, &who.user_id, full, named)? {
        Some(mut v) => {
            let caller =
                auth::caller_from(&who.user_id, v.user.take()).ok_or_else(auth::user_gone)?;
            Ok((caller, v))
        }
        None => {
            auth::load_caller(c, &who.user_id)?.ok_or_else(auth::user_gone)?;
            Err(refuse_first.unwrap_or(ApiError::NotFound))
        }
    }
}

// ------------------------------------------------------------------ events

/// Apply one event (see the `type` enum); returns the updated dispute.
#[utoipa::path(post, path = "/api/v1/disputes/{id}/events", tag = "disputes", params(("id" = String, Path)),
    request_body = EventRequest, security(("bearer" = [])),
    responses((status = 200, description = "the updated dispute", body = super::openapi::Dispute), (status = 400, body = super::error::Problem),
        (status = 401, body = super::error::Problem), (status = 403, body = super::error::Problem),
        (status = 404, body = super::error::Problem), (status = 409, body = super::error::Problem),
        (status = 422, body = super::error::Problem), (status = 429, body = super::error::Problem)))]
pub async fn post_event(
    state: web::Data<AppState>,
    who: Bearer,
    id: web::Path<String>,
    body: web::Json<Value>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let body = body.into_inner();
    let ctx = ctx(&state);
    let actor = who.user_id.clone();
    // An event that e-mails people is throttled per user and organisation, once per request
    // (the transition below may decide more than once).
    let throttle = state.clone();
    let throttled = std::sync::atomic::AtomicBool::new(false);
    // An FHSU referral builds the referral pack for its notice: always on the blocking pool.
    let heavy = body.get("type").and_then(Value::as_str) == Some(EventType::ReferToFhsu.as_str());
    // Tried first on the HTTP worker's own thread (PostgreSQL, one unlocked attempt), then
    // if need be in full on the blocking pool: see [`AppState::transition`].
    let (out, queued, ev, did) = state
        .transition_with(heavy, move |c, attempts| {
            let Some(((caller, (parties, mut people, breaches)), applied, recorded)) =
                transition(c, &id, attempts, |c| {
                    // The caller and the dispute with its parties, in one statement.
                    let not_object = (!body.is_object()).then(procedure::not_an_object);
                    // A note notifies nobody: it needs neither the LMC's address nor the names.
                    let event = body
                        .get("type")
                        .and_then(Value::as_str)
                        .and_then(EventType::parse);
                    let full = event != Some(EventType::AddNote);
                    // The mediator an assignment names is read with the dispute.
                    let named = body
                        .get("mediator_id")
                        .and_then(Value::as_str)
                        .filter(|m| event == Some(EventType::AssignMediator) && m.len() <= 64);
                    let (caller, v) = view_as(c, &who, &id, full, named, not_object)?;
                    if event.is_some_and(procedure::notifies)
                        && !throttled.swap(true, std::sync::atomic::Ordering::Relaxed)
                    {
                        throttle
                            .limits
                            .check(Action::Notify, &caller.user_id, &caller.org_id)?;
                    }
                    let store::Viewed {
                        dispute,
                        parties,
                        people,
                        breaches,
                        named,
                        ..
                    } = v;
                    let applied = procedure::apply(
                        c,
                        &ctx,
                        &caller,
                        dispute,
                        &parties,
                        named.as_ref(),
                        &body,
                    )?;
                    Ok(((caller, (parties, people, breaches)), applied))
                })?
            else {
                return Ok(None);
            };
            people.extend(applied.named.iter().cloned());
            let out = represent_with(
                c,
                &caller,
                &applied.writes.dispute,
                &parties,
                people,
                breaches + recorded as i64,
            )?;
            let queued = applied.writes.notices.len();
            Ok(Some((
                out,
                queued,
                body.get("type").cloned(),
                applied.writes.dispute.id,
            )))
        })
        .await?;
    if queued > 0 {
        state.mail_wakeup.notify_one();
    }
    let ev = ev.unwrap_or(Value::Null);
    tracing::info!(dispute_id = %did, event = %ev, actor = %actor, "event applied");
    Ok(json_answer(StatusCode::OK, out))
}

/// How many times, on PostgreSQL, a transition is decided and written without a lock before
/// it is decided once more under the dispute's row lock (see [`transition`]).
const UNLOCKED_ATTEMPTS: usize = 2;

/// Runs `decide` (read the dispute `id`, check the event, decide what to write, writing
/// nothing) and writes what it decided with [`store::write`]; returns what `decide` returned
/// and the number of breaches recorded.
/// - PostgreSQL: first without a transaction or a row lock. The writes are one statement that
///   writes nothing when the dispute's version has moved since the read (another transition
///   was written in between); `decide` then runs again on the new state, so an event that the
///   other one made invalid is refused as it would have been had it come second. After
///   [`UNLOCKED_ATTEMPTS`] such misses, it runs inside a transaction that first takes the
///   dispute's row lock, where nothing can move, so busy disputes are served in turn and never
///   refused for it. Unlocked, a note is two round trips (the read, the writes) instead of five.
/// - SQLite: inside [`write_tx`] (`BEGIN IMMEDIATE`), where nothing can move between the read
///   and the write.
///
/// With [`Attempts::FirstOnly`] (PostgreSQL), only the first unlocked attempt is made, and a
/// miss is `Ok(None)` with nothing written; otherwise it is always `Some`.
fn transition<T>(
    c: &mut DbConn,
    id: &str,
    attempts: Attempts,
    mut decide: impl FnMut(&mut DbConn) -> ApiResult<(T, procedure::Applied)>,
) -> ApiResult<Option<(T, procedure::Applied, usize)>> {
    if let DbConn::Sqlite(_) = c {
        return write_tx(c, |c| {
            decide_and_write(c, &mut decide)?.ok_or_else(moved_under_lock)
        })
        .map(Some);
    }
    if attempts == Attempts::FirstOnly {
        return decide_and_write(c, &mut decide);
    }
    for _ in 0..UNLOCKED_ATTEMPTS {
        if let Some(done) = decide_and_write(c, &mut decide)? {
            return Ok(Some(done));
        }
    }
    write_tx(c, |c| {
        store::lock(c, id)?;
        decide_and_write(c, &mut decide)?.ok_or_else(moved_under_lock)
    })
    .map(Some)
}

/// One attempt of [`transition`]: `None` when the version moved and nothing was written.
fn decide_and_write<T>(
    c: &mut DbConn,
    decide: &mut impl FnMut(&mut DbConn) -> ApiResult<(T, procedure::Applied)>,
) -> ApiResult<Option<(T, procedure::Applied, usize)>> {
    let (t, applied) = decide(c)?;
    Ok(store::write(c, &applied.writes)?.map(|recorded| (t, applied, recorded)))
}

/// Under the write lock (SQLite's, or the dispute's row lock) no other transition can write
/// between the read and the write.
fn moved_under_lock() -> ApiError {
    ApiError::Internal("the dispute's version moved under its write lock".into())
}

/// The body of `POST /disputes/{id}/events`: `type`, optional `expected_version`, and the
/// event's own fields (see the SPEC's table).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct EventRequest {
    #[serde(rename = "type")]
    pub type_: EventType,
    pub expected_version: Option<i64>,
    pub override_reason: Option<String>,
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub fields: Map<String, Value>,
}

fn redact(caller: &Caller, d: &DisputeRow, ev: &EventRow) -> Value {
    let data: Value = serde_json::from_str(&ev.data).unwrap_or(Value::Null);
    if panel_view(caller, d) {
        return data;
    }
    match ev.event_type.as_str() {
        "record_hearing" => json!({"held_on": data.get("held_on")}),
        "record_decision" if d.decision_notified_on.is_some() => {
            json!({"outcome": data.get("outcome"), "recommendations": data.get("recommendations")})
        }
        "record_decision" => json!({}),
        _ => data,
    }
}

/// The dispute's history, oldest first. Append-only.
#[utoipa::path(get, path = "/api/v1/disputes/{id}/events", tag = "disputes", params(("id" = String, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = [super::openapi::Event]), (status = 401, body = super::error::Problem),
        (status = 404, body = super::error::Problem)))]
pub async fn list_events(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let out = state
        .db(move |c| {
            let d = visible(c, &caller, &id)?;
            Ok(store::events_of(c, &id)?
                .iter()
                .map(|e| {
                    json!({"seq": e.seq, "type": e.event_type, "actor_id": e.actor_id,
                    "at": ts(&e.at), "data": redact(&caller, &d, e)})
                })
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(HttpResponse::Ok().json(out))
}

/// The event types the caller may apply now.
#[utoipa::path(get, path = "/api/v1/disputes/{id}/actions", tag = "disputes", params(("id" = String, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = [EventType]), (status = 401, body = super::error::Problem),
        (status = 404, body = super::error::Problem)))]
pub async fn list_actions(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let out = state
        .db(move |c| {
            let d = visible(c, &caller, &id)?;
            Ok(workflow::allowed(
                d.state(),
                &visibility::relations(&caller, &d),
            ))
        })
        .await?;
    Ok(HttpResponse::Ok().json(out))
}

// ------------------------------------------------------------------ documents

fn sanitize_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let clean: String = base
        .chars()
        .filter(|c| !c.is_control() && *c != '"' && *c != ';')
        .take(200)
        .collect();
    let clean = clean.trim().to_string();
    if clean.is_empty() || clean == "." || clean == ".." {
        "document".into()
    } else {
        clean
    }
}

fn sanitize_content_type(ct: Option<&mime_type::Mime>) -> String {
    match ct {
        Some(m) => {
            let s = m.essence_str().to_string();
            // Never serve something a browser would run in our origin.
            if s.contains("html") || s.contains("javascript") || s.contains("xml") || s.is_empty() {
                "application/octet-stream".into()
            } else {
                s
            }
        }
        None => "application/octet-stream".into(),
    }
}

mod mime_type {
    pub use actix_web::mime::Mime;
}

/// Upload a document (multipart: `file`, `kind`), at most 20 MiB.
#[utoipa::path(post, path = "/api/v1/disputes/{id}/documents", tag = "documents", params(("id" = String, Path)),
    request_body(content = super::openapi::DocumentUpload, content_type = "multipart/form-data"), security(("bearer" = [])),
    responses((status = 201, body = super::openapi::UploadedDocument), (status = 400, body = super::error::Problem),
        (status = 401, body = super::error::Problem), (status = 404, body = super::error::Problem),
        (status = 409, body = super::error::Problem), (status = 413, body = super::error::Problem),
        (status = 415, body = super::error::Problem), (status = 422, body = super::error::Problem), (status = 429, body = super::error::Problem)))]
pub async fn upload_document(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    use futures_util::StreamExt;
    let id = id.into_inner();
    state
        .limits
        .check(Action::Upload, &caller.user_id, &caller.org_id)?;
    // Check visibility before reading a byte of the upload.
    let (c1, i1) = (caller.clone(), id.clone());
    let d = state.db(move |c| visible(c, &c1, &i1)).await?;
    if d.state().is_terminal() {
        return Err(ApiError::InvalidTransition(format!(
            "No documents can be added while the dispute is {}.",
            d.state()
        )));
    }
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
    let mut mp = actix_multipart::Multipart::new(req.headers(), payload);
    let mut kind: Option<String> = None;
    let mut file: Option<(String, String, Vec<u8>)> = None;
    let mut fields = 0;
    while let Some(field) = mp.next().await {
        let mut field = field
            .map_err(|e| ApiError::BadRequest(format!("The multipart body is malformed: {e}")))?;
        fields += 1;
        if fields > 10 {
            return Err(ApiError::BadRequest("Too many multipart fields.".into()));
        }
        let name = field.name().unwrap_or("").to_string();
        let limit = if name == "file" {
            MAX_DOCUMENT_BYTES
        } else {
            1024
        };
        let mut buf = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|e| {
                ApiError::BadRequest(format!("The multipart body is malformed: {e}"))
            })?;
            if buf.len() + chunk.len() > limit {
                return Err(if name == "file" {
                    ApiError::PayloadTooLarge("A document may be at most 20 MiB.".into())
                } else {
                    ApiError::field(&name, "is too long")
                });
            }
            buf.extend_from_slice(&chunk);
        }
        match name.as_str() {
            "kind" => kind = Some(String::from_utf8_lossy(&buf).trim().to_string()),
            "file" => {
                let fname = field
                    .content_disposition()
                    .and_then(|cd| cd.get_filename())
                    .map(sanitize_name)
                    .unwrap_or_else(|| "document".into());
                file = Some((fname, sanitize_content_type(field.content_type()), buf));
            }
            _ => {}
        }
    }
    let mut errs = Vec::new();
    match &kind {
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
    if file.is_none() {
        errs.push(FieldError {
            field: "file".into(),
            message: "is required".into(),
        });
    }
    if !errs.is_empty() {
        return Err(ApiError::Validation(errs));
    }
    let (name, content_type, bytes) = file.unwrap_or_default();
    let kind = kind.unwrap_or_default();
    let sha = hex::encode(Sha256::digest(&bytes));
    let size = bytes.len() as i64;
    let doc_id = uuid::Uuid::new_v4().to_string();
    let (did, dname, dkind, dsha, uid) = (
        doc_id.clone(),
        name.clone(),
        kind.clone(),
        sha.clone(),
        caller.user_id.clone(),
    );
    state
        .db(move |c| {
            write_tx(c, |c| {
                diesel::insert_into(documents::table)
                    .values((
                        documents::id.eq(&did),
                        documents::dispute_id.eq(&id),
                        documents::name.eq(&dname),
                        documents::kind.eq(&dkind),
                        documents::content_type.eq(&content_type),
                        documents::size.eq(size),
                        documents::sha256.eq(&dsha),
                        documents::content.eq(&bytes),
                        documents::uploaded_by.eq(&uid),
                        documents::created_at.eq(now()),
                    ))
                    .execute(c)?;
                Ok(())
            })
        })
        .await?;
    tracing::info!(document_id = %doc_id, dispute_id = %d.id, size, "document uploaded");
    Ok(HttpResponse::Created()
        .json(json!({"id": doc_id, "name": name, "kind": kind, "size": size, "sha256": sha})))
}

/// The dispute's documents (metadata).
#[utoipa::path(get, path = "/api/v1/disputes/{id}/documents", tag = "documents", params(("id" = String, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = [super::openapi::DocumentMeta]),
        (status = 401, body = super::error::Problem), (status = 404, body = super::error::Problem)))]
pub async fn list_documents(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let out = state
        .db(move |c| {
            visible(c, &caller, &id)?;
            Ok(store::documents_of(c, &id)?
                .into_iter()
                .map(|m| json!({"id": m.id, "name": m.name, "kind": m.kind, "size": m.size, "sha256": m.sha256,
                    "content_type": m.content_type, "uploaded_by": m.uploaded_by, "created_at": ts(&m.created_at)}))
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(HttpResponse::Ok().json(out))
}

/// Download a document (as an attachment).
#[utoipa::path(get, path = "/api/v1/documents/{id}", tag = "documents", params(("id" = String, Path)),
    security(("bearer" = [])),
    responses((status = 200, description = "the file"), (status = 401, body = super::error::Problem),
        (status = 404, body = super::error::Problem)))]
pub async fn download_document(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let (meta, bytes) = state
        .db(move |c| {
            let meta = store::document_meta(c, &id)?.ok_or(ApiError::NotFound)?;
            visible(c, &caller, &meta.dispute_id)?;
            let bytes: Vec<u8> = documents::table
                .find(&id)
                .select(documents::content)
                .first(c)?;
            Ok((meta, bytes))
        })
        .await?;
    let ascii: String = meta
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    Ok(HttpResponse::Ok()
        .insert_header((
            actix_web::http::header::CONTENT_TYPE,
            meta.content_type.clone(),
        ))
        .insert_header((
            actix_web::http::header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{}\"", ascii.replace('\\', "_")),
        ))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("X-Checksum-Sha256", meta.sha256.clone()))
        .body(bytes))
}

// ------------------------------------------------------------------ notices

/// Every e-mail notice of the case.
#[utoipa::path(get, path = "/api/v1/disputes/{id}/notices", tag = "notices", params(("id" = String, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = [super::openapi::Notice]),
        (status = 401, body = super::error::Problem), (status = 404, body = super::error::Problem)))]
pub async fn list_notices(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let out = state
        .db(move |c| {
            let d = visible(c, &caller, &id)?;
            // The case's secretary and admins see every address and delivery error; anyone
            // else sees organisations' addresses and their own, other people by name only.
            let full = caller.has(Role::Admin) || d.secretary_id.as_deref() == Some(&caller.user_id);
            type Row = (String, String, String, String, String, NaiveDateTime, Option<NaiveDateTime>, i32, Option<String>, Option<String>, Option<String>);
            let rows: Vec<Row> = notices::table
                .filter(notices::dispute_id.eq(&id))
                .order((notices::queued_at.asc(), notices::id.asc()))
                .select((notices::id, notices::template, notices::recipients, notices::subject, notices::status,
                    notices::queued_at, notices::sent_at, notices::attempts, notices::last_error, notices::ics_method,
                    notices::attachment_name))
                .load(c)?;
            let recipients: Vec<Vec<String>> = rows
                .iter()
                .map(|r| serde_json::from_str(&r.2).unwrap_or_default())
                .collect();
            let people: std::collections::HashMap<String, (String, String)> = if full {
                Default::default()
            } else {
                let all: Vec<&String> = recipients.iter().flatten().collect();
                users::table
                    .filter(users::email.eq_any(all))
                    .select((users::email, users::id, users::name))
                    .load::<(String, String, String)>(c)?
                    .into_iter()
                    .map(|(e, id, n)| (e, (id, n)))
                    .collect()
            };
            let shown = |addr: String| match people.get(&addr) {
                Some((uid, name)) if *uid != caller.user_id => name.clone(),
                _ => addr,
            };
            Ok(rows
                .into_iter()
                .zip(recipients)
                .map(|((id, t, _, s, st, q, sent, a, err, ics, file), to)| {
                    let to: Vec<String> = to.into_iter().map(&shown).collect();
                    json!({"id": id, "template": t, "to": to,
                        "subject": s, "status": st, "queued_at": ts(&q), "sent_at": sent.as_ref().map(ts),
                        "attempts": a, "last_error": if full { err } else { None }, "calendar": ics,
                        "attachment": file})
                })
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(HttpResponse::Ok().json(out))
}

// ------------------------------------------------------------------ hearing options

/// Dates that satisfy the hearing deadline, the notice rule (notice sent today) and every panel
/// member's availability: working days only.
#[utoipa::path(get, path = "/api/v1/disputes/{id}/hearing-options", tag = "disputes", params(("id" = String, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = super::openapi::HearingOptions), (status = 401, body = super::error::Problem),
        (status = 404, body = super::error::Problem)))]
pub async fn hearing_options(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let today = state.clock.today();
    let cal = state.calendar.clone();
    let out = state
        .db(move |c| {
            let d = visible(c, &caller, &id)?;
            let earliest = deadlines::earliest_hearing_after_notice(&cal, today);
            let mut dates = Vec::new();
            if let (Some(by), Some(mut day)) = (d.hearing_by, earliest) {
                let mut ids = d.voting_members();
                ids.extend(d.secretary_id.clone());
                let periods: Vec<(NaiveDate, NaiveDate)> = crate::db::schema::unavailability::table
                    .filter(crate::db::schema::unavailability::user_id.eq_any(&ids))
                    .filter(crate::db::schema::unavailability::to_date.ge(day))
                    .filter(crate::db::schema::unavailability::from_date.le(by))
                    .select((
                        crate::db::schema::unavailability::from_date,
                        crate::db::schema::unavailability::to_date,
                    ))
                    .load(c)?;
                while day <= by && dates.len() < 60 {
                    if !periods.iter().any(|(f, t)| *f <= day && day <= *t) {
                        dates.push(day);
                    }
                    match cal.next_working_day(day) {
                        Some(n) => day = n,
                        None => break,
                    }
                }
            }
            Ok(
                json!({"dates": dates, "hearing_by": d.hearing_by, "earliest": earliest,
                "notice_on": today}),
            )
        })
        .await?;
    Ok(HttpResponse::Ok().json(out))
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
    responses((status = 200, body = super::openapi::Timeliness), (status = 401, body = super::error::Problem),
        (status = 403, body = super::error::Problem), (status = 422, body = super::error::Problem)))]
pub async fn timeliness(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<RangeQuery>,
) -> ApiResult<HttpResponse> {
    caller.require(&[Role::Admin, Role::PanelSecretary])?;
    let mut errs = Vec::new();
    let from = super::directory::parse_date("from", q.from.as_deref().unwrap_or(""))
        .map_err(|e| errs.push(e))
        .ok();
    let to = super::directory::parse_date("to", q.to.as_deref().unwrap_or(""))
        .map_err(|e| errs.push(e))
        .ok();
    if let (Some(f), Some(t)) = (from, to) {
        if t < f {
            errs.push(FieldError {
                field: "to".into(),
                message: "must not be before from".into(),
            });
        }
    }
    if !errs.is_empty() {
        return Err(ApiError::Validation(errs));
    }
    let (from, to) = (from.unwrap_or_default(), to.unwrap_or_default());
    let cal = state.calendar.clone();
    let today = state.clock.today();
    let out = state
        .db(move |c| {
            type Row = (
                String,
                String,
                Option<NaiveDate>,
                Option<NaiveDate>,
                Option<NaiveDate>,
            );
            let rows: Vec<Row> = disputes::table
                .filter(disputes::lodged_on.ge(from))
                .filter(disputes::lodged_on.le(to))
                .select((
                    disputes::id,
                    disputes::state,
                    disputes::lodged_on,
                    disputes::hearing_by,
                    disputes::held_on,
                ))
                .load(c)?;
            // The range's disputes as a subquery, not a list of ids: SQLite allows at most
            // 32,766 bound values in one statement.
            let in_range = || {
                disputes::table
                    .filter(disputes::lodged_on.ge(from))
                    .filter(disputes::lodged_on.le(to))
                    .select(disputes::id)
            };
            let br: Vec<String> = breaches::table
                .filter(breaches::dispute_id.eq_any(in_range()))
                .select(breaches::kind)
                .load(c)?;
            let count = |k: &str| br.iter().filter(|kind| *kind == k).count();
            // Every override, counted from the history (each rule an event overrode), so that
            // overriding a rule the sweep had already recorded as breached counts too.
            let override_data: Vec<String> = events::table
                .filter(events::dispute_id.eq_any(in_range()))
                .filter(events::data.like("%\"override\":%"))
                .select(events::data)
                .load(c)?;
            let overrides: usize = override_data
                .iter()
                .filter_map(|d| serde_json::from_str::<Value>(d).ok())
                .filter_map(|d| d["override"]["rules"].as_array().map(Vec::len))
                .sum();
            let mut within = 0;
            let mut late = 0;
            let mut spans = Vec::new();
            for (_, st, lodged, by, held) in &rows {
                match (held, by) {
                    (Some(h), Some(b)) => {
                        if h <= b {
                            within += 1
                        } else {
                            late += 1
                        }
                        if let Some(l) = lodged {
                            spans.push(cal.working_days_between(*l, *h));
                        }
                    }
                    (None, Some(b)) => {
                        let open = State::parse(st)
                            .is_some_and(|s| !s.is_terminal() && s != State::Rejected);
                        if open && today > *b {
                            late += 1;
                        }
                    }
                    _ => {}
                }
            }
            spans.sort_unstable();
            let median = if spans.is_empty() {
                Value::Null
            } else if spans.len() % 2 == 1 {
                json!(spans[spans.len() / 2])
            } else {
                json!((spans[spans.len() / 2 - 1] + spans[spans.len() / 2]) as f64 / 2.0)
            };
            Ok(json!({
                "from": from, "to": to,
                "formal_requests": rows.len(),
                "hearings_within_deadline": within,
                "hearings_late": late,
                "notices_short": count("insufficient_notice"),
                "bundles_late": count("bundle_too_late"),
                "decisions_late": count("decision_late"),
                "overrides": overrides,
                "median_working_days_to_hearing": median,
            }))
        })
        .await?;
    Ok(HttpResponse::Ok().json(out))
}
