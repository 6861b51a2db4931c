//! The OpenAPI 3 document of every route (utoipa), served at `/api/v1/openapi.json`, and the
//! offline docs page (swagger-ui, vendored) at `/docs/`.

use super::{auth, calendar, directory, disputes, error};
use crate::domain::workflow::{EventType, State};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// The body of `POST /disputes` (documented shape; the handler validates every field and lists
/// each bad one in a 422).
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
pub struct NewDispute {
    pub title: String,
    #[schema(example = "prescribing")]
    pub category: String,
    pub appellant_id: String,
    pub respondent_id: String,
    pub summary: String,
    #[schema(example = "2026-01-15")]
    pub matter_arose_on: String,
    pub contract_related: bool,
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
    )),
    modifiers(&Bearer),
    tags(
        (name = "auth"), (name = "directory"), (name = "calendar"), (name = "disputes"),
        (name = "documents"), (name = "notices"), (name = "reports"), (name = "operations")
    )
)]
pub struct ApiDoc;

pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
