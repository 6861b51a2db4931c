//! The OpenAPI 3 document of every route (utoipa), served at `/api/v1/openapi.json`, and the
//! offline docs page (swagger-ui, vendored) at `/docs/`.

use super::{auth, calendar, directory, disputes, error, people};
use crate::domain::dispute::{
    Category, DocumentKind, FhsuOutcome, MediatorMode, ScreenOutcome, Side, Vote, VoteChoice,
};
use crate::domain::event;
use crate::domain::workflow::{self, EventType, State};
use serde_json::Value;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{
    AdditionalProperties, Discriminator, KnownFormat, ObjectBuilder, OneOfBuilder, Schema,
    SchemaFormat, SchemaType, Type,
};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Required, ResponseBuilder};
use utoipa::{Modify, OpenApi};

/// The body of `POST /disputes` (documented shape; the handler validates every field and lists
/// each bad one in a 422). Text fields must not be blank.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
pub struct NewDispute {
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    pub category: Category,
    /// The caller's own organisation.
    #[schema(min_length = 1, max_length = 64)]
    pub appellant_id: String,
    #[schema(min_length = 1, max_length = 64)]
    pub respondent_id: String,
    #[schema(min_length = 1, max_length = 20000)]
    pub summary: String,
    /// Not in the future.
    #[schema(format = Date, example = "2026-01-15")]
    pub matter_arose_on: String,
    pub contract_related: bool,
}

// Enumerations of the document: each must list exactly the values the handlers accept
// (tests/openapi.rs compares them with the constants they are checked against). Roles are
// `Role` itself; categories, document kinds and the events' choices are the domain's own enums.

/// `roles::ORG_KINDS`
#[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrgKind {
    Practice,
    Commissioner,
    Lmc,
    Fhsu,
}

/// `roles::PANEL_ROLES`
#[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PanelRole {
    ClinicalBoardMember,
    GpConciliator,
    LmcRepresentative,
}

/// The multipart body of `POST /disputes/{id}/documents`.
#[derive(Debug, utoipa::ToSchema)]
pub struct DocumentUpload {
    /// The file, at most 20 MiB.
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
    pub kind: DocumentKind,
}

// ------------------------------------------------------------------ response bodies
//
// The handlers build most answers with `json!`; these structs only document them, so that
// schemathesis' response_schema_conformance checks what the server sends. Keys the server always
// sends are required; `Option` means the value may be null (or, where noted, the key absent).

/// `{"status": "ok"}` / `{"status": "ready"}`
#[derive(utoipa::ToSchema)]
pub struct Status {
    pub status: String,
}

/// The result of `GET /calendar/working-days/add`.
#[derive(utoipa::ToSchema)]
pub struct WorkingDay {
    #[schema(format = Date)]
    pub date: String,
}

/// An organisation as a dispute names it.
#[derive(utoipa::ToSchema)]
pub struct OrgRef {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub address: String,
}

/// An organisation as the dispute list names it.
#[derive(utoipa::ToSchema)]
pub struct OrgName {
    pub id: String,
    pub name: Option<String>,
}

/// A user as a dispute names it.
#[derive(utoipa::ToSchema)]
pub struct UserRef {
    pub id: String,
    pub name: Option<String>,
}

#[derive(utoipa::ToSchema)]
pub struct Mediator {
    pub id: String,
    pub name: Option<String>,
    /// `advisory` or `mediation`
    pub mode: Option<String>,
}

#[derive(utoipa::ToSchema)]
pub struct Panel {
    pub clinical_member: Option<UserRef>,
    pub gp_conciliator: Option<UserRef>,
    pub lmc_representative: Option<UserRef>,
    pub secretary: Option<UserRef>,
    pub chair_id: Option<String>,
}

#[derive(utoipa::ToSchema)]
pub struct Hearing {
    #[schema(format = Date)]
    pub date: Option<String>,
    /// HH:MM
    pub time: Option<String>,
    pub venue: Option<String>,
    pub sequence: i32,
    #[schema(format = Date)]
    pub notice_sent_on: Option<String>,
    #[schema(format = Date)]
    pub bundle_distributed_on: Option<String>,
    #[schema(format = Date)]
    pub held_on: Option<String>,
    /// The panel's record of the hearing: only for the panel (absent for others).
    #[schema(value_type = Option<Object>)]
    pub record: Option<serde_json::Value>,
}

#[derive(utoipa::ToSchema)]
pub struct Deadlines {
    #[schema(format = Date)]
    pub hearing_by: Option<String>,
    #[schema(format = Date)]
    pub notice_by: Option<String>,
    #[schema(format = Date)]
    pub bundle_by: Option<String>,
    #[schema(format = Date)]
    pub decision_by: Option<String>,
    #[schema(format = Date)]
    pub fhsu_by: Option<String>,
}

#[derive(utoipa::ToSchema)]
pub struct Breach {
    pub kind: String,
    #[schema(format = Date)]
    pub due_on: String,
    #[schema(format = Date)]
    pub detected_on: String,
    pub overridden: bool,
    pub detail: String,
}

/// The decision: outcome and recommendations for the parties once notified; votes and the
/// recording date for the panel only (absent for others).
#[derive(utoipa::ToSchema)]
pub struct Decision {
    pub outcome: String,
    pub recommendations: Option<String>,
    pub votes: Option<Vec<Vote>>,
    #[schema(format = Date)]
    pub recorded_on: Option<String>,
    #[schema(format = Date)]
    pub notified_on: Option<String>,
}

#[derive(utoipa::ToSchema)]
pub struct FormalRequest {
    #[schema(format = Date)]
    pub lodged_on: String,
    pub grounds: Option<String>,
    pub requested_by: Option<String>,
    #[schema(format = Date)]
    pub lmc_consulted_on: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub screening: Option<serde_json::Value>,
}

/// A dispute as the caller may see it.
#[derive(utoipa::ToSchema)]
pub struct Dispute {
    pub id: String,
    pub case_ref: String,
    pub title: String,
    pub category: String,
    pub summary: String,
    pub appellant: OrgRef,
    pub respondent: OrgRef,
    pub inter_practice: bool,
    pub contract_related: bool,
    #[schema(format = Date)]
    pub matter_arose_on: String,
    pub state: State,
    /// 1, 2 or 3; null when closed or withdrawn.
    pub stage: Option<u8>,
    pub version: i64,
    pub screening_organisation_id: String,
    pub lmc_id: Option<String>,
    pub mediator: Option<Mediator>,
    pub formal_request: Option<FormalRequest>,
    pub panel: Option<Panel>,
    pub hearing: Option<Hearing>,
    pub deadlines: Deadlines,
    pub breaches: Vec<Breach>,
    pub decision: Option<Decision>,
    #[schema(value_type = Option<Object>)]
    pub fhsu_referral: Option<serde_json::Value>,
    pub fhsu_determination: Option<FhsuDetermination>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

/// The FHSU's determination (`record_fhsu_determination`).
#[derive(utoipa::ToSchema)]
#[schema(example = json!({"determined_on": "2026-06-01", "outcome": "appellant",
    "summary": "The ICB is to pay the 2025/26 incentive payment in full."}))]
pub struct FhsuDetermination {
    pub determined_on: chrono::NaiveDate,
    /// Whom the FHSU found for: `appellant`, `respondent` or `partly` (null only for a
    /// determination recorded before the outcome was one of these; its text is the summary).
    pub outcome: Option<FhsuOutcome>,
    pub summary: String,
}

/// A dispute in the list.
#[derive(utoipa::ToSchema)]
pub struct DisputeSummary {
    pub id: String,
    pub case_ref: String,
    pub title: String,
    pub category: String,
    pub appellant: OrgName,
    pub respondent: OrgName,
    pub inter_practice: bool,
    pub contract_related: bool,
    pub state: State,
    pub stage: Option<u8>,
    pub version: i64,
    pub mediator_id: Option<String>,
    pub secretary_id: Option<String>,
    #[schema(format = Date)]
    pub hearing_date: Option<String>,
    pub deadlines: Deadlines,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

#[derive(utoipa::ToSchema)]
pub struct DisputePage {
    pub items: Vec<DisputeSummary>,
    /// Pass as `cursor` for the next page; null on the last one.
    pub next_cursor: Option<String>,
}

/// One event of the history.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Event {
    pub seq: i64,
    /// An event type, or `file` for the filing.
    #[serde(rename = "type")]
    pub type_: String,
    pub actor_id: String,
    /// Who did it, by name (a deleted user's name is empty).
    pub actor_name: String,
    #[schema(format = DateTime)]
    pub at: String,
    /// The event's fields (what the caller may see of them).
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

/// A stored document (metadata).
#[derive(utoipa::ToSchema)]
pub struct DocumentMeta {
    pub id: String,
    pub name: String,
    pub kind: DocumentKind,
    pub size: i64,
    pub sha256: String,
    /// As served: the uploaded type when it is on the allow-list (PDF, images, text, CSV, office
    /// formats, `message/rfc822`), otherwise `application/octet-stream`
    pub content_type: String,
    pub uploaded_by: String,
    /// Who uploaded it, by name.
    pub uploaded_by_name: String,
    #[schema(format = DateTime)]
    pub created_at: String,
}

/// The answer to an upload.
#[derive(utoipa::ToSchema)]
pub struct UploadedDocument {
    pub id: String,
    pub name: String,
    pub kind: DocumentKind,
    pub size: i64,
    pub sha256: String,
}

/// An e-mail notice of the case.
#[derive(utoipa::ToSchema)]
pub struct Notice {
    pub id: String,
    pub template: String,
    pub to: Vec<String>,
    pub subject: String,
    /// `queued`, `sent` or `failed`
    pub status: String,
    #[schema(format = DateTime)]
    pub queued_at: String,
    #[schema(format = DateTime)]
    pub sent_at: Option<String>,
    pub attempts: i32,
    pub last_error: Option<String>,
    /// The iCalendar method of an attached invitation (`REQUEST`, `CANCEL`).
    pub calendar: Option<String>,
    /// The name of the file the notice carries (the FHSU's referral pack), if any.
    pub attachment: Option<String>,
}

#[derive(utoipa::ToSchema)]
pub struct HearingOptions {
    /// Working days that satisfy every rule, at most 60.
    #[schema(value_type = Vec<String>)]
    pub dates: Vec<String>,
    #[schema(format = Date)]
    pub hearing_by: Option<String>,
    #[schema(format = Date)]
    pub earliest: Option<String>,
    #[schema(format = Date)]
    pub notice_on: String,
}

#[derive(utoipa::ToSchema)]
pub struct Timeliness {
    #[schema(format = Date)]
    pub from: String,
    #[schema(format = Date)]
    pub to: String,
    pub formal_requests: i64,
    pub hearings_within_deadline: i64,
    pub hearings_late: i64,
    pub notices_short: i64,
    pub bundles_late: i64,
    pub decisions_late: i64,
    pub overrides: i64,
    pub median_working_days_to_hearing: Option<f64>,
}

/// An entry of the register of interests (`user_id` in the answer to its creation).
#[derive(utoipa::ToSchema)]
pub struct Interest {
    pub id: String,
    pub user_id: Option<String>,
    pub organisation_id: String,
    pub nature: String,
    #[schema(format = Date)]
    pub declared_on: String,
}

/// A period a panelist cannot sit, inclusive (`user_id` in the answer to its creation).
#[derive(utoipa::ToSchema)]
pub struct Unavailability {
    pub id: String,
    pub user_id: Option<String>,
    #[schema(format = Date)]
    pub from: String,
    #[schema(format = Date)]
    pub to: String,
}

struct Bearer;

impl Modify for Bearer {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// Errors are `application/problem+json`, and some come from the extractors and the middleware
/// rather than the handler, so the annotations leave them out. This makes the document say what
/// the server answers: every error response is problem+json, and each operation lists
/// - 401 when it needs a token (the `Caller` extractor),
/// - 400, 413 and 415 when it takes a JSON body (`JsonConfig`'s error handler),
/// - 422 when it takes query parameters (`QueryConfig`'s error handler),
/// - 503 when it uses the database (the pool timed out: `ApiError::Unavailable`).
struct ProblemResponses;

const PROBLEM_TYPE: &str = "application/problem+json";

fn error_description(status: &str) -> &'static str {
    match status {
        "400" => "Malformed request (e.g. the body is not JSON)",
        "401" => "No token, or an invalid, expired or deactivated one",
        "403" => "The caller's roles do not allow this",
        "404" => "No such resource, or the caller may not see it",
        "409" => "Conflict with the current state",
        "413" => "The request body is too large",
        "415" => "Unsupported content type",
        "422" => "Invalid fields (listed in `errors`) or a rule of the procedure (`violations`)",
        "429" => "Too many attempts; see Retry-After",
        "503" => "The database is busy or unreachable; try again after Retry-After",
        _ => "Error",
    }
}

fn problem_content() -> utoipa::openapi::Content {
    ContentBuilder::new()
        .schema(Some(Ref::from_schema_name("Problem")))
        .build()
}

fn add_problems(op: &mut Operation, uses_db: bool) {
    let mut extra: Vec<&str> = Vec::new();
    if op.security.as_ref().is_some_and(|s| !s.is_empty()) {
        extra.push("401");
    }
    let json_body = op
        .request_body
        .as_ref()
        .is_some_and(|b| b.content.contains_key("application/json"));
    if json_body {
        extra.extend(["400", "413", "415"]);
    }
    let query = op
        .parameters
        .iter()
        .flatten()
        .any(|p| p.parameter_in == ParameterIn::Query);
    if query {
        extra.push("422");
    }
    if uses_db {
        extra.push("503");
    }
    for status in extra {
        op.responses
            .responses
            .entry(status.to_string())
            .or_insert_with(|| RefOr::T(ResponseBuilder::new().build()));
    }
    for (status, response) in op.responses.responses.iter_mut() {
        let RefOr::T(response) = response else {
            continue;
        };
        if !(status.starts_with('4') || status.starts_with('5')) {
            continue;
        }
        let content = response
            .content
            .shift_remove("application/json")
            .unwrap_or_else(problem_content);
        response.content.clear();
        response.content.insert(PROBLEM_TYPE.to_string(), content);
        if response.description.is_empty() {
            response.description = error_description(status).to_string();
        }
    }
}

impl Modify for ProblemResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            let uses_db = path != "/healthz";
            for op in [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ]
            .into_iter()
            .flatten()
            {
                add_problems(op, uses_db);
            }
        }
    }
}

/// The path of the events, whose request body is one schema per event type.
const EVENTS_PATH: &str = "/api/v1/disputes/{id}/events";

/// The schema of one event type's body: the fields of its struct in `domain::event` (with
/// their example), its `type` and the optional `expected_version`, and who may send it in
/// which states (from `workflow::PROCEDURE`). Unknown fields are refused, as the service does.
fn event_schema(t: EventType) -> Schema {
    let (name, schema) = event::Event::schema(t);
    let RefOr::T(Schema::Object(mut o)) = schema else {
        panic!("the fields of {t} ({name}) are an object schema");
    };
    let transition = workflow::transition(t);
    let who: Vec<&str> = transition.who.iter().map(|a| a.describe()).collect();
    let from: Vec<&str> = transition.from.iter().map(|s| s.as_str()).collect();
    let doc = o.description.take().unwrap_or_default();
    o.description = Some(format!(
        "{doc}\n\nSent by {} while the dispute is {}.",
        who.join(" or "),
        from.join(", ")
    ));
    o.title = Some(t.as_str().to_string());
    let mut properties = std::collections::BTreeMap::new();
    properties.insert(
        "type".to_string(),
        RefOr::T(Schema::Object(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some([t.as_str()]))
                .build(),
        )),
    );
    properties.insert(
        "expected_version".to_string(),
        RefOr::T(Schema::Object(
            ObjectBuilder::new()
                .schema_type(SchemaType::from_iter([Type::Integer, Type::Null]))
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
                .description(Some(
                    "The dispute's version the sender read: refused with 409 when it has moved.",
                ))
                .build(),
        )),
    );
    properties.append(&mut o.properties);
    o.properties = properties;
    o.required.insert(0, "type".to_string());
    o.additional_properties = Some(Box::new(AdditionalProperties::FreeForm(false)));
    if let Some(Value::Object(example)) = &mut o.example {
        let mut with_type = serde_json::Map::new();
        with_type.insert("type".into(), Value::String(t.as_str().into()));
        with_type.append(example);
        *example = with_type;
    }
    Schema::Object(o)
}

/// The component name of event type `t`'s schema: `AssignMediatorEvent` for `assign_mediator`.
pub fn event_schema_name(t: EventType) -> String {
    let mut name: String = t
        .as_str()
        .split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect();
    name.push_str("Event");
    name
}

/// One schema per event type in the components, and the events' request body as their
/// `oneOf`, told apart by `type`.
struct EventSchemas;

impl Modify for EventSchemas {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut one_of = OneOfBuilder::new();
        let mut mapping = Vec::new();
        for t in EventType::ALL {
            let name = event_schema_name(*t);
            components
                .schemas
                .insert(name.clone(), RefOr::T(event_schema(*t)));
            one_of = one_of.item(Ref::from_schema_name(&name));
            mapping.push((
                t.as_str().to_string(),
                format!("#/components/schemas/{name}"),
            ));
        }
        let mut discriminator = Discriminator::new("type");
        discriminator.mapping = mapping.into_iter().collect();
        let one_of = one_of.discriminator(Some(discriminator)).build();
        let body = RequestBodyBuilder::new()
            .description(Some(
                "The event: its `type`, optionally the `expected_version` the sender read, and \
                 the event type's own fields (one schema per event type, each with who may send \
                 it, in which states, and an example).",
            ))
            .required(Some(Required::True))
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Schema::OneOf(one_of)))
                    .build(),
            )
            .build();
        if let Some(op) = openapi
            .paths
            .paths
            .get_mut(EVENTS_PATH)
            .and_then(|p| p.post.as_mut())
        {
            op.request_body = Some(body);
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Local dispute resolution service",
        description = "The NHS local dispute resolution procedure between GP practices and commissioners: \
            stage 1 informal resolution with the LMC, stage 2 a Local Dispute Resolution Panel, stage 3 FHSU referral. \
            Errors are application/problem+json with a stable `code`.",
        version = "1"
    ),
    paths(
        super::healthz, super::readyz,
        auth::login,
        super::api_keys::create_key, super::api_keys::list_keys, super::api_keys::revoke_key,
        super::access_log::list,
        directory::create_organisation, directory::list_organisations, directory::get_organisation,
        directory::patch_organisation,
        directory::create_user, directory::get_user, directory::patch_user,
        people::me, people::list_users,
        directory::add_interest, directory::list_interests, directory::add_unavailability, directory::list_unavailability,
        calendar::bank_holidays, calendar::add_working_days,
        disputes::create_dispute, disputes::list_disputes, disputes::get_dispute,
        disputes::post_event, disputes::list_events, disputes::list_actions,
        disputes::upload_document, disputes::list_documents, disputes::download_document,
        disputes::list_notices, disputes::hearing_options, disputes::hearing_ics, disputes::timeliness,
        super::referral_pack::referral_pack,
    ),
    components(schemas(
        error::Problem, error::FieldError, error::RuleViolation,
        auth::LoginRequest, auth::TokenResponse,
        super::api_keys::NewApiKey, super::api_keys::ApiKey, super::api_keys::CreatedApiKey,
        super::access_log::AccessEntry, super::access_log::AccessPage,
        directory::NewOrganisation, directory::Organisation, directory::NewUser, directory::User, directory::PatchUser,
        directory::NewInterest, directory::NewUnavailability, directory::PatchOrganisation,
        people::Person, people::PersonOrganisation, people::DeclaredInterest, people::PeoplePage,
        calendar::Holiday, NewDispute, EventType, State,
        Category, OrgKind, crate::domain::roles::Role, PanelRole, DocumentKind, DocumentUpload,
        Status, WorkingDay, OrgRef, OrgName, UserRef, Mediator, Panel, Hearing, Deadlines, Breach, Vote,
        VoteChoice, Side, MediatorMode, ScreenOutcome, FhsuOutcome, FhsuDetermination,
        Decision, FormalRequest, Dispute, DisputeSummary, DisputePage, Event, DocumentMeta,
        UploadedDocument, Notice, HearingOptions, Timeliness, Interest, Unavailability,
    )),
    modifiers(&Bearer, &EventSchemas, &ProblemResponses),
    tags(
        (name = "auth"), (name = "directory"), (name = "calendar"), (name = "disputes"),
        (name = "documents"), (name = "notices"), (name = "reports"), (name = "operations")
    )
)]
pub struct ApiDoc;

pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
