//! The OpenAPI 3 document of every route (utoipa), served at `/api/v1/openapi.json`, and the
//! offline docs page (swagger-ui, vendored) at `/docs/`.

use super::{auth, calendar, directory, disputes, error};
use crate::domain::workflow::{EventType, State};
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
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
// `Role` itself.

/// `disputes::CATEGORIES`
#[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    ReferralManagement,
    Prescribing,
    Objectives,
    QualityPremium,
    Contract,
    Other,
}

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

/// `disputes::DOCUMENT_KINDS`
#[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    Grounds,
    Evidence,
    Contract,
    Record,
    Decision,
    Other,
}

/// The multipart body of `POST /disputes/{id}/documents`.
#[derive(Debug, utoipa::ToSchema)]
pub struct DocumentUpload {
    /// The file, at most 20 MiB.
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
    pub kind: DocumentKind,
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
        "503" => "The database is busy or unreachable; try again",
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
        directory::create_organisation, directory::list_organisations, directory::get_organisation,
        directory::create_user, directory::get_user, directory::patch_user,
        directory::add_interest, directory::list_interests, directory::add_unavailability, directory::list_unavailability,
        calendar::bank_holidays, calendar::add_working_days,
        disputes::create_dispute, disputes::list_disputes, disputes::get_dispute,
        disputes::post_event, disputes::list_events, disputes::list_actions,
        disputes::upload_document, disputes::list_documents, disputes::download_document,
        disputes::list_notices, disputes::hearing_options, disputes::timeliness,
    ),
    components(schemas(
        error::Problem, error::FieldError, error::RuleViolation,
        auth::LoginRequest, auth::TokenResponse,
        directory::NewOrganisation, directory::Organisation, directory::NewUser, directory::User, directory::PatchUser,
        directory::NewInterest, directory::NewUnavailability,
        calendar::Holiday, NewDispute, disputes::EventRequest, EventType, State,
        Category, OrgKind, crate::domain::roles::Role, PanelRole, DocumentKind, DocumentUpload,
    )),
    modifiers(&Bearer, &ProblemResponses),
    tags(
        (name = "auth"), (name = "directory"), (name = "calendar"), (name = "disputes"),
        (name = "documents"), (name = "notices"), (name = "reports"), (name = "operations")
    )
)]
pub struct ApiDoc;

pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
