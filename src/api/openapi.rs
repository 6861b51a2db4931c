//! The OpenAPI 3 document of every route (utoipa), served at `/api/v1/openapi.json`, and the
//! offline docs page (swagger-ui, vendored) at `/docs/`.

use super::{auth, calendar, directory, disputes, error, people};
use crate::domain::dispute::{
    Category, DocumentKind, FhsuDetermination, FhsuOutcome, MediatorMode, ScreenOutcome, Side,
    Vote, VoteChoice,
};
use crate::domain::event;
use crate::domain::workflow::{self, EventType, State};
use crate::service::directory::{Interest, Unavailability};
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
/// rather than the handler, so the annotations leave them out; the others an annotation names
/// by status alone. This makes the document say what the server answers: every error response
/// is problem+json (the `Problem` schema, with a description of its status), and each
/// operation lists
/// - 401 when it needs a token (the `Caller` extractor),
/// - 400, 413 and 415 when it takes a JSON body (`JsonConfig`'s error handler),
/// - 400 and 422 when it takes query parameters (a NUL in one: `middleware::reject_nul`; the
///   rest: `QueryConfig`'s error handler),
/// - 503 when it uses the database (the pool timed out: `ApiError::Unavailable`).
struct ProblemResponses;

const PROBLEM_TYPE: &str = "application/problem+json";

fn error_description(status: &str) -> &'static str {
    match status {
        "400" => "Malformed request (e.g. the body is not JSON, or a value holds a NUL character)",
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
        extra.extend(["400", "422"]);
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
        directory::delete_interest, directory::delete_unavailability,
        calendar::bank_holidays, calendar::add_working_days,
        disputes::create_dispute, disputes::list_disputes, disputes::get_dispute,
        disputes::post_event, disputes::list_events, disputes::list_actions,
        disputes::upload_document, disputes::list_documents, disputes::download_document,
        disputes::list_notices, disputes::hearing_options, disputes::hearing_ics, disputes::timeliness,
        super::referral_pack::referral_pack,
        super::webhooks::create_webhook, super::webhooks::list_webhooks, super::webhooks::delete_webhook,
        super::webhooks::rotate_secret, super::webhooks::list_deliveries,
    ),
    components(schemas(
        error::Problem, error::FieldError, error::RuleViolation,
        auth::LoginRequest, auth::TokenResponse,
        super::api_keys::NewApiKey, super::api_keys::ApiKey, super::api_keys::CreatedApiKey,
        super::access_log::AccessEntry, super::access_log::AccessPage,
        directory::NewOrganisation, directory::Organisation, directory::NewUser, directory::User, directory::PatchUser,
        directory::NewInterest, directory::NewUnavailability, directory::PatchOrganisation,
        directory::OrgKind, directory::PanelRole, Interest, Unavailability,
        people::Person, people::PersonOrganisation, people::DeclaredInterest, people::PeoplePage,
        calendar::Holiday, calendar::WorkingDay, super::Status,
        crate::domain::filing::Filing, EventType, State,
        Category, crate::domain::roles::Role, DocumentKind, Vote, VoteChoice, Side, MediatorMode, ScreenOutcome,
        FhsuOutcome, FhsuDetermination,
        disputes::DisputeOut, disputes::PartyOut, disputes::OrgNameOut, disputes::UserOut,
        disputes::MediatorOut, disputes::PanelOut, disputes::HearingOut, disputes::DeadlinesOut,
        disputes::BreachOut, disputes::DecisionOut, disputes::FormalRequestOut,
        disputes::SummaryOut, disputes::PageOut, disputes::EventOut,
        disputes::DocumentUpload, disputes::UploadedDocument, disputes::DocumentOut,
        disputes::Notice, disputes::HearingOptions, disputes::Timeliness,
        super::webhooks::NewWebhook, super::webhooks::Webhook, super::webhooks::WebhookWithSecret,
        super::webhooks::DeliveryAttempt, super::webhooks::Deliveries,
    )),
    modifiers(&Bearer, &EventSchemas, &ProblemResponses),
    tags(
        (name = "auth"), (name = "directory"), (name = "calendar"), (name = "disputes"),
        (name = "documents"), (name = "notices"), (name = "reports"), (name = "operations"),
        (name = "webhooks", description = "Signed event deliveries to an organisation's endpoints (Standard Webhooks 1.0)")
    )
)]
pub struct ApiDoc;

pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
