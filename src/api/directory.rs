//! Directory (admin): organisations, users with their panel roles, the register of interests
//! and panelists' unavailability.

use super::auth::{hash_password, Caller};
use super::error::{ApiError, ApiResult, FieldError};
use crate::app::AppState;
use crate::db::schema::{organisations, users};
use crate::db::{now, write_tx, DbConn};
use crate::domain::roles::{self, Role, ORG_KINDS, PANEL_ROLES};
use crate::service::{
    self,
    directory::{Interest, Unavailability},
};
use actix_web::{web, HttpResponse};
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use validator::{Validate, ValidationError};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/organisations")
            .route(web::post().to(create_organisation))
            .route(web::get().to(list_organisations)),
    )
    .service(
        web::resource("/organisations/{id}")
            .route(web::get().to(get_organisation))
            .route(web::patch().to(patch_organisation)),
    )
    .service(
        web::resource("/users")
            .route(web::post().to(create_user))
            .route(web::get().to(super::people::list_users)),
    )
    .service(web::resource("/me").route(web::get().to(super::people::me)))
    .service(
        web::resource("/users/{id}")
            .route(web::get().to(get_user))
            .route(web::patch().to(patch_user)),
    )
    .service(
        web::resource("/users/{id}/interests")
            .route(web::post().to(add_interest))
            .route(web::get().to(list_interests)),
    )
    .service(
        web::resource("/users/{id}/unavailability")
            .route(web::post().to(add_unavailability))
            .route(web::get().to(list_unavailability)),
    )
    .service(
        web::resource("/users/{id}/interests/{entry_id}").route(web::delete().to(delete_interest)),
    )
    .service(
        web::resource("/users/{id}/unavailability/{entry_id}")
            .route(web::delete().to(delete_unavailability)),
    );
}

fn one_of(v: &str, allowed: &[&str]) -> Result<(), ValidationError> {
    if allowed.contains(&v) {
        Ok(())
    } else {
        let mut e = ValidationError::new("one_of");
        e.message = Some(format!("must be one of: {}", allowed.join(", ")).into());
        Err(e)
    }
}

fn org_kind(v: &str) -> Result<(), ValidationError> {
    one_of(v, &ORG_KINDS)
}

fn not_blank(v: &str) -> Result<(), ValidationError> {
    if v.trim().is_empty() {
        let mut e = ValidationError::new("blank");
        e.message = Some("must not be blank".into());
        Err(e)
    } else {
        Ok(())
    }
}

/// A date exactly `YYYY-MM-DD` (RFC 3339 full-date, as the OpenAPI document's `format: date`
/// says; chrono alone would also take `2026-3-2`), in 1900–2200: `domain::fields::parse_date`
/// as the API's field error.
pub fn parse_date(field: &str, v: &str) -> Result<NaiveDate, FieldError> {
    crate::domain::fields::parse_date(field, v).map_err(|p| FieldError {
        field: p.field,
        message: p.message,
    })
}

// Enumerations of the document: each must list exactly the values the handlers accept
// (tests/openapi.rs compares them with the constants they are checked against). The handlers
// read these fields as text and check them against `roles::ORG_KINDS` and
// `roles::PANEL_ROLES`, so that a wrong one is a 422 that names the field.

/// `roles::ORG_KINDS`
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrgKind {
    Practice,
    Commissioner,
    Lmc,
    Fhsu,
}

/// `roles::PANEL_ROLES`
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PanelRole {
    ClinicalBoardMember,
    GpConciliator,
    LmcRepresentative,
}

// ---------------------------------------------------------------- organisations

#[derive(Debug, Deserialize, Validate, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrganisation {
    #[validate(required, length(min = 1, max = 200), custom(function = "not_blank"))]
    #[schema(required = true, value_type = String, min_length = 1, max_length = 200)]
    pub name: Option<String>,
    #[validate(required, custom(function = "org_kind"))]
    #[schema(required = true, value_type = OrgKind)]
    pub kind: Option<String>,
    #[validate(required, length(min = 1, max = 100), custom(function = "not_blank"))]
    #[schema(required = true, value_type = String, min_length = 1, max_length = 100)]
    pub area: Option<String>,
    #[validate(required, length(min = 1, max = 100), custom(function = "not_blank"))]
    #[schema(required = true, value_type = String, min_length = 1, max_length = 100)]
    pub region: Option<String>,
    #[validate(required, email, length(max = 254))]
    #[schema(required = true, value_type = String, max_length = 254, example = "office@elm.nhs.uk")]
    pub email: Option<String>,
    #[validate(required, length(min = 1, max = 500), custom(function = "not_blank"))]
    #[schema(required = true, value_type = String, min_length = 1, max_length = 500)]
    pub address: Option<String>,
    #[validate(length(min = 1, max = 20))]
    #[schema(min_length = 1, max_length = 20)]
    pub ods_code: Option<String>,
    /// Required for a practice, refused otherwise: its commissioning group.
    #[validate(length(max = 64))]
    #[schema(max_length = 64)]
    pub commissioner_id: Option<String>,
}

#[derive(
    Debug, Clone, Serialize, Queryable, Selectable, Insertable, AsChangeset, utoipa::ToSchema,
)]
#[diesel(table_name = organisations)]
pub struct Organisation {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub area: String,
    pub region: String,
    pub email: String,
    pub address: String,
    pub ods_code: Option<String>,
    pub commissioner_id: Option<String>,
    #[serde(serialize_with = "rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: NaiveDateTime,
    /// False once the organisation closed (ODS status `C`, or a commissioner's close date, set
    /// by `ldr import-organisations`); it is kept with its disputes, never deleted.
    pub active: bool,
}

/// A time as the API writes it (RFC 3339 in UTC, to the microsecond), and its serialisers.
pub use crate::db::{rfc3339, rfc3339_opt, timestamp};

pub fn find_organisation(c: &mut DbConn, id: &str) -> ApiResult<Option<Organisation>> {
    Ok(organisations::table
        .find(id)
        .select(Organisation::as_select())
        .first(c)
        .optional()?)
}

/// Create an organisation (admin).
#[utoipa::path(post, path = "/api/v1/organisations", tag = "directory", request_body = NewOrganisation,
    security(("bearer" = [])),
    responses((status = 201, body = Organisation), (status = 400), (status = 403),
        (status = 409), (status = 422)))]
pub async fn create_organisation(
    state: web::Data<AppState>,
    caller: Caller,
    body: super::body::Body<NewOrganisation>,
) -> ApiResult<HttpResponse> {
    let org = new_organisation(&state, &caller, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(org))
}

/// Creates the organisation `b` for `caller` (admin): `POST /organisations` and the admin's
/// page.
pub async fn new_organisation(
    state: &AppState,
    caller: &Caller,
    b: NewOrganisation,
) -> ApiResult<Organisation> {
    caller.require(&[Role::Admin])?;
    b.validate()?;
    let kind = b.kind.clone().unwrap_or_default();
    let mut errs = Vec::new();
    if kind == "practice" && b.commissioner_id.is_none() {
        errs.push(FieldError {
            field: "commissioner_id".into(),
            message: "a practice must name its commissioning group".into(),
        });
    }
    if kind != "practice" && b.commissioner_id.is_some() {
        errs.push(FieldError {
            field: "commissioner_id".into(),
            message: "only a practice names a commissioning group".into(),
        });
    }
    if !errs.is_empty() {
        return Err(ApiError::Validation(errs));
    }
    let org = state
        .db(move |c| {
            write_tx(c, |c| {
                let kind = b.kind.clone().unwrap_or_default();
                let area = b.area.clone().unwrap_or_default().trim().to_string();
                let ods = b.ods_code.as_deref().map(ods_code_of);
                placement_problems(c, &kind, &area, b.commissioner_id.as_deref(), None)?;
                ods_code_free(c, ods.as_deref(), None)?;
                let org = Organisation {
                    id: uuid::Uuid::new_v4().to_string(),
                    name: b.name.unwrap_or_default().trim().to_string(),
                    kind: b.kind.unwrap_or_default(),
                    area: b.area.unwrap_or_default().trim().to_string(),
                    region: b.region.unwrap_or_default().trim().to_string(),
                    email: b.email.unwrap_or_default().trim().to_lowercase(),
                    address: b.address.unwrap_or_default().trim().to_string(),
                    ods_code: ods,
                    commissioner_id: b.commissioner_id,
                    created_at: now(),
                    active: true,
                };
                diesel::insert_into(organisations::table)
                    .values(&org)
                    .execute(c)
                    .map_err(|e| ods_code_raced(e, org.ods_code.as_deref()))?;
                Ok(org)
            })
        })
        .await?;
    tracing::info!(org_id = %org.id, actor = %caller.user_id, "organisation created");
    Ok(org)
}

/// Where an organisation sits must leave every dispute with an LMC and a commissioning group:
/// a practice's `area` must be the area of an `lmc` organisation (the LMC of its disputes),
/// and its commissioning group must exist; an LMC may not leave an area whose practices would
/// then have none. `current` is the organisation being changed (id, kind, area), if any.
fn placement_problems(
    c: &mut DbConn,
    kind: &str,
    area: &str,
    commissioner_id: Option<&str>,
    current: Option<(&str, &str)>,
) -> ApiResult<()> {
    let mut errs = Vec::new();
    if let Some(cid) = commissioner_id {
        match find_organisation(c, cid)? {
            Some(o) if o.kind == "commissioner" => {}
            _ => errs.push(FieldError {
                field: "commissioner_id".into(),
                message: "does not name a commissioner organisation".into(),
            }),
        }
    }
    if kind == "practice" {
        let areas: Vec<String> = organisations::table
            .filter(organisations::kind.eq("lmc"))
            .select(organisations::area)
            .distinct()
            .order(organisations::area.asc())
            .load(c)?;
        if !areas.iter().any(|a| a == area) {
            errs.push(FieldError {
                field: "area".into(),
                message: format!(
                    "no LMC covers the area {area:?}, so no mediator could see this practice's \
                     disputes: use the area of its LMC exactly as the LMC has it ({}), or create \
                     the LMC first",
                    if areas.is_empty() {
                        "there is no LMC yet".to_string()
                    } else {
                        areas.join(", ")
                    }
                ),
            });
        }
    }
    if let Some((id, old_area)) = current {
        if kind == "lmc" && old_area != area {
            let other_lmcs: i64 = organisations::table
                .filter(organisations::kind.eq("lmc"))
                .filter(organisations::area.eq(old_area))
                .filter(organisations::id.ne(id))
                .count()
                .get_result(c)?;
            let stranded: Vec<String> = organisations::table
                .filter(organisations::kind.eq("practice"))
                .filter(organisations::area.eq(old_area))
                .select(organisations::name)
                .order(organisations::name.asc())
                .limit(5)
                .load(c)?;
            if other_lmcs == 0 && !stranded.is_empty() {
                errs.push(FieldError {
                    field: "area".into(),
                    message: format!(
                        "the practices of {old_area:?} ({}) would have no LMC: move them first",
                        stranded.join(", ")
                    ),
                });
            }
        }
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errs))
    }
}

/// An ODS code as stored: trimmed, in capitals as ODS writes them (`b82001` is `B82001`), so
/// that one code is one organisation however it was typed.
fn ods_code_of(sent: &str) -> String {
    sent.trim().to_uppercase()
}

/// ODS codes are unique: `ods` may not be another organisation's (other than `except`).
fn ods_code_free(c: &mut DbConn, ods: Option<&str>, except: Option<&str>) -> ApiResult<()> {
    let Some(ods) = ods.filter(|o| !o.is_empty()) else {
        return Ok(());
    };
    let holder: Option<(String, String)> = organisations::table
        .filter(organisations::ods_code.eq(ods))
        .filter(organisations::id.ne(except.unwrap_or("")))
        .select((organisations::id, organisations::name))
        .first(c)
        .optional()?;
    match holder {
        None => Ok(()),
        Some((id, name)) => Err(ApiError::Conflict {
            code: "ods_code_taken",
            detail: format!("The ODS code {ods} is already {name}'s (organisation {id}); correct that organisation instead of creating a second one."),
        }),
    }
}

/// A write refused by the unique index on ODS codes: another request gave the code to another
/// organisation between [`ods_code_free`]'s check and this write.
fn ods_code_raced(e: diesel::result::Error, ods: Option<&str>) -> ApiError {
    match e {
        diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        ) => ApiError::Conflict {
            code: "ods_code_taken",
            detail: format!(
                "The ODS code {} was given to another organisation a moment ago; look it up and correct that organisation instead of creating a second one.",
                ods.unwrap_or_default()
            ),
        },
        e => e.into(),
    }
}

#[derive(Debug, Deserialize, Validate, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"area": "North Yorkshire", "email": "enquiries.b82001@nhs.net"}))]
pub struct PatchOrganisation {
    #[validate(length(min = 1, max = 200), custom(function = "not_blank"))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    /// Cannot be changed: create the organisation anew instead.
    #[schema(value_type = Option<OrgKind>)]
    pub kind: Option<serde_json::Value>,
    #[validate(length(min = 1, max = 100), custom(function = "not_blank"))]
    #[schema(min_length = 1, max_length = 100)]
    pub area: Option<String>,
    #[validate(length(min = 1, max = 100), custom(function = "not_blank"))]
    #[schema(min_length = 1, max_length = 100)]
    pub region: Option<String>,
    #[validate(email, length(max = 254))]
    #[schema(max_length = 254)]
    pub email: Option<String>,
    #[validate(length(min = 1, max = 500), custom(function = "not_blank"))]
    #[schema(min_length = 1, max_length = 500)]
    pub address: Option<String>,
    #[validate(length(min = 1, max = 20))]
    #[schema(min_length = 1, max_length = 20)]
    pub ods_code: Option<String>,
    /// A practice only: its commissioning group.
    #[validate(length(max = 64))]
    #[schema(max_length = 64)]
    pub commissioner_id: Option<String>,
}

/// Correct an organisation (admin): any field but `kind`. The same placement rules as on
/// creation: a practice's area must be an LMC's, its commissioning group must exist; ODS
/// codes are unique.
#[utoipa::path(patch, path = "/api/v1/organisations/{id}", tag = "directory", request_body = PatchOrganisation,
    params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = Organisation), (status = 400), (status = 403),
        (status = 404), (status = 409), (status = 422)))]
pub async fn patch_organisation(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: super::body::Body<PatchOrganisation>,
) -> ApiResult<HttpResponse> {
    let org = change_organisation(&state, &caller, id.into_inner(), body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(org))
}

/// Changes the organisation `id` as `b` says, for `caller` (admin): `PATCH /organisations/{id}`
/// and the admin's page.
pub async fn change_organisation(
    state: &AppState,
    caller: &Caller,
    id: String,
    b: PatchOrganisation,
) -> ApiResult<Organisation> {
    caller.require(&[Role::Admin])?;
    b.validate()?;
    if b.kind.is_some() {
        return Err(ApiError::field(
            "kind",
            "cannot be changed: create an organisation of the right kind and move its users to it",
        ));
    }
    let org = state
        .db(move |c| {
            write_tx(c, |c| {
                let cur = find_organisation(c, &id)?.ok_or(ApiError::NotFound)?;
                if cur.kind == SERVICE_KIND {
                    return Err(ApiError::NotFound);
                }
                if b.commissioner_id.is_some() && cur.kind != "practice" {
                    return Err(ApiError::field(
                        "commissioner_id",
                        "only a practice names a commissioning group",
                    ));
                }
                // A field sent replaces the current one, trimmed; one not sent stays.
                let or_current = |sent: Option<String>, current: &str| {
                    sent.map_or_else(|| current.to_string(), |v| v.trim().to_string())
                };
                let new = Organisation {
                    name: or_current(b.name, &cur.name),
                    area: or_current(b.area, &cur.area),
                    region: or_current(b.region, &cur.region),
                    email: or_current(b.email, &cur.email).to_lowercase(),
                    address: or_current(b.address, &cur.address),
                    ods_code: b
                        .ods_code
                        .as_deref()
                        .map(ods_code_of)
                        .or(cur.ods_code.clone()),
                    commissioner_id: b.commissioner_id.or(cur.commissioner_id.clone()),
                    ..cur.clone()
                };
                placement_problems(
                    c,
                    &new.kind,
                    &new.area,
                    new.commissioner_id.as_deref(),
                    Some((&cur.id, &cur.area)),
                )?;
                ods_code_free(c, new.ods_code.as_deref(), Some(&cur.id))?;
                // Every column but the id; `kind`, `created_at` and `active` are the current ones.
                diesel::update(organisations::table.find(&cur.id))
                    .set(&new)
                    .execute(c)
                    .map_err(|e| ods_code_raced(e, new.ods_code.as_deref()))?;
                Ok(new)
            })
        })
        .await?;
    tracing::info!(org_id = %org.id, actor = %caller.user_id, "organisation changed");
    Ok(org)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct OrgQuery {
    #[param(required = false, value_type = OrgKind)]
    pub kind: Option<String>,
    /// Default 500.
    #[param(required = false, value_type = i64, minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
    #[param(required = false, value_type = i64, minimum = 0, maximum = 10000000)]
    pub offset: Option<i64>,
    /// `true`: only the open organisations with no e-mail address, which are not told when a
    /// dispute names them.
    #[param(required = false, value_type = bool)]
    pub without_email: Option<String>,
}

/// List organisations (any authenticated user: the directory of NHS organisations is what a
/// practice needs to name the other party).
#[utoipa::path(get, path = "/api/v1/organisations", tag = "directory", params(OrgQuery),
    security(("bearer" = [])),
    responses((status = 200, body = [Organisation]), (status = 422)))]
pub async fn list_organisations(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<OrgQuery>,
) -> ApiResult<HttpResponse> {
    let q = q.into_inner();
    if let Some(k) = &q.kind {
        if !ORG_KINDS.contains(&k.as_str()) {
            return Err(ApiError::field(
                "kind",
                format!("must be one of: {}", ORG_KINDS.join(", ")),
            ));
        }
    }
    let limit = q.limit.unwrap_or(500);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::field("limit", "must be between 1 and 1000"));
    }
    let offset = q.offset.unwrap_or(0);
    if !(0..=10_000_000).contains(&offset) {
        return Err(ApiError::field("offset", "must be between 0 and 10000000"));
    }
    let untold = match q.without_email.as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => return Err(ApiError::field("without_email", "must be true or false")),
    };
    let rows = state
        .db(move |c| {
            let mut query = organisations::table
                .select(Organisation::as_select())
                .order((organisations::name.asc(), organisations::id.asc()))
                .limit(limit)
                .offset(offset)
                .into_boxed();
            if let Some(k) = q.kind {
                query = query.filter(organisations::kind.eq(k));
            }
            if untold {
                query = query.filter(crate::db::directory::untold());
            }
            // The service's own organisation (the bootstrap admin's) is for admins only.
            if !caller.has(Role::Admin) {
                query = query.filter(organisations::kind.ne(SERVICE_KIND));
            }
            Ok(query.load(c)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(rows))
}

/// One organisation.
#[utoipa::path(get, path = "/api/v1/organisations/{id}", tag = "directory",
    params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = Organisation), (status = 404)))]
pub async fn get_organisation(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let org = state
        .db(move |c| find_organisation(c, &id))
        .await?
        .filter(|o| o.kind != SERVICE_KIND || caller.has(Role::Admin))
        .ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(org))
}

/// The kind of the organisation the bootstrap admin belongs to: the service itself.
pub const SERVICE_KIND: &str = "service";

// ---------------------------------------------------------------- users

fn role_list(v: &[String]) -> Result<(), ValidationError> {
    for r in v {
        if Role::parse(r).is_none() {
            let mut e = ValidationError::new("role");
            e.message = Some(
                format!(
                    "unknown role {r:?}: must be among {}",
                    Role::ALL.map(|r| r.as_str()).join(", ")
                )
                .into(),
            );
            return Err(e);
        }
    }
    if v.is_empty() {
        let mut e = ValidationError::new("roles");
        e.message = Some("at least one role is required".into());
        return Err(e);
    }
    Ok(())
}

fn panel_role_list(v: &[String]) -> Result<(), ValidationError> {
    for r in v {
        one_of(r, &PANEL_ROLES)?;
    }
    Ok(())
}

fn password_strength(v: &str) -> Result<(), ValidationError> {
    if v.chars().count() < 12 {
        let mut e = ValidationError::new("password");
        e.message = Some("must be at least 12 characters".into());
        return Err(e);
    }
    Ok(())
}

#[derive(Debug, Deserialize, Validate, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    #[validate(required, length(min = 1, max = 200), custom(function = "not_blank"))]
    #[schema(required = true, value_type = String, min_length = 1, max_length = 200)]
    pub name: Option<String>,
    #[validate(required, email, length(max = 254))]
    #[schema(required = true, value_type = String, max_length = 254, example = "pat@elm.nhs.uk")]
    pub email: Option<String>,
    #[validate(required, length(max = 1024), custom(function = "password_strength"))]
    #[schema(required = true, value_type = String, min_length = 12, max_length = 1024)]
    pub password: Option<String>,
    #[validate(required, length(max = 64))]
    #[schema(required = true, value_type = String, max_length = 64)]
    pub organisation_id: Option<String>,
    #[validate(required, length(max = 7), custom(function = "role_list"))]
    #[schema(required = true, value_type = Vec<crate::domain::roles::Role>, min_items = 1, max_items = 7)]
    pub roles: Option<Vec<String>>,
    /// Only with the role panelist.
    #[validate(length(max = 3), custom(function = "panel_role_list"))]
    #[schema(value_type = Option<Vec<PanelRole>>, max_items = 3)]
    pub panel_roles: Option<Vec<String>>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: String,
    pub name: String,
    pub email: String,
    pub organisation_id: String,
    pub roles: String,
    pub panel_roles: String,
    pub active: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A user as the API shows it: never a password or hash.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct User {
    pub id: String,
    pub name: String,
    pub email: String,
    pub organisation_id: String,
    pub roles: Vec<String>,
    pub panel_roles: Vec<String>,
    pub active: bool,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&UserRow> for User {
    fn from(u: &UserRow) -> User {
        User {
            id: u.id.clone(),
            name: u.name.clone(),
            email: u.email.clone(),
            organisation_id: u.organisation_id.clone(),
            roles: roles::split(&u.roles),
            panel_roles: roles::split(&u.panel_roles),
            active: u.active,
            created_at: timestamp(&u.created_at),
            updated_at: timestamp(&u.updated_at),
        }
    }
}

pub fn find_user(c: &mut DbConn, id: &str) -> ApiResult<Option<UserRow>> {
    Ok(users::table
        .find(id)
        .select(UserRow::as_select())
        .first(c)
        .optional()?)
}

/// Inserts a user; `email_taken` when the e-mail exists. Shared by the API and the bootstrap.
pub fn insert_user(
    c: &mut DbConn,
    name: &str,
    email: &str,
    password_hash: &str,
    organisation_id: &str,
    roles: &str,
    panel_roles: &str,
) -> ApiResult<UserRow> {
    let t = now();
    let row = UserRow {
        id: uuid::Uuid::new_v4().to_string(),
        name: name.to_string(),
        email: email.to_string(),
        organisation_id: organisation_id.to_string(),
        roles: roles.to_string(),
        panel_roles: panel_roles.to_string(),
        active: true,
        created_at: t,
        updated_at: t,
    };
    let res = diesel::insert_into(users::table)
        .values((
            users::id.eq(&row.id),
            users::name.eq(&row.name),
            users::email.eq(&row.email),
            users::password_hash.eq(password_hash),
            users::organisation_id.eq(&row.organisation_id),
            users::roles.eq(&row.roles),
            users::panel_roles.eq(&row.panel_roles),
            users::active.eq(true),
            users::created_at.eq(t),
            users::updated_at.eq(t),
        ))
        .execute(c);
    match res {
        Ok(_) => Ok(row),
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => Err(ApiError::Conflict {
            code: "email_taken",
            detail: "A user with this e-mail already exists.".into(),
        }),
        Err(e) => Err(e.into()),
    }
}

/// Create a user (admin). The password is stored as an argon2id hash and never returned.
#[utoipa::path(post, path = "/api/v1/users", tag = "directory", request_body = NewUser,
    security(("bearer" = [])),
    responses((status = 201, body = User), (status = 400), (status = 403), (status = 409), (status = 422)))]
pub async fn create_user(
    state: web::Data<AppState>,
    caller: Caller,
    body: super::body::Body<NewUser>,
) -> ApiResult<HttpResponse> {
    let user = new_user(&state, &caller, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(user))
}

/// Creates the user `b` for `caller` (admin): `POST /users` and the admin's page. The roles
/// must fit the organisation's kind (`roles::fit_problems`).
pub async fn new_user(state: &AppState, caller: &Caller, b: NewUser) -> ApiResult<User> {
    caller.require(&[Role::Admin])?;
    b.validate()?;
    let password = b.password.clone().unwrap_or_default();
    let hash = web::block(move || hash_password(&password))
        .await?
        .map_err(ApiError::internal)?;
    let row = state
        .db(move |c| {
            write_tx(c, |c| {
                let org_id = b.organisation_id.unwrap_or_default();
                let org = find_organisation(c, &org_id)?.ok_or_else(|| {
                    ApiError::field("organisation_id", "does not name an organisation")
                })?;
                let roles_v = b.roles.unwrap_or_default();
                let panel_v = b.panel_roles.unwrap_or_default();
                let errs = fit_errors(&roles_v, &panel_v, &org.kind);
                if !errs.is_empty() {
                    return Err(ApiError::Validation(errs));
                }
                let mut roles_v = roles_v;
                roles_v.sort();
                roles_v.dedup();
                let mut panel_v = panel_v;
                panel_v.sort();
                panel_v.dedup();
                insert_user(
                    c,
                    b.name.unwrap_or_default().trim(),
                    &b.email.unwrap_or_default().trim().to_lowercase(),
                    &hash,
                    &org.id,
                    &roles::join(roles_v.iter().map(String::as_str)),
                    &roles::join(panel_v.iter().map(String::as_str)),
                )
            })
        })
        .await?;
    tracing::info!(user_id = %row.id, actor = %caller.user_id, "user created");
    Ok(User::from(&row))
}

/// [`roles::fit_problems`] as the API's field errors.
fn fit_errors(roles_v: &[String], panel_v: &[String], org_kind: &str) -> Vec<FieldError> {
    roles::fit_problems(roles_v, panel_v, org_kind)
        .into_iter()
        .map(|(field, message)| FieldError {
            field: field.into(),
            message,
        })
        .collect()
}

/// Admins see any user; a user sees themself.
fn may_see_user(caller: &Caller, id: &str) -> bool {
    caller.has(Role::Admin) || caller.user_id == id
}

/// One user (admin, or the user themself).
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "directory",
    params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = User), (status = 404)))]
pub async fn get_user(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    if !may_see_user(&caller, &id) {
        return Err(ApiError::NotFound);
    }
    let row = state
        .db(move |c| find_user(c, &id))
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(User::from(&row)))
}

#[derive(Debug, Deserialize, Validate, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"organisation_id": "7c9e6679-7425-40de-944b-e07fc1f90ae7",
    "roles": ["practice_user"]}))]
pub struct PatchUser {
    pub active: Option<bool>,
    #[validate(length(min = 1, max = 200), custom(function = "not_blank"))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    #[validate(length(max = 7), custom(function = "role_list"))]
    #[schema(value_type = Option<Vec<crate::domain::roles::Role>>, min_items = 1, max_items = 7)]
    pub roles: Option<Vec<String>>,
    #[validate(length(max = 3), custom(function = "panel_role_list"))]
    #[schema(value_type = Option<Vec<PanelRole>>, max_items = 3)]
    pub panel_roles: Option<Vec<String>>,
    /// Move the user to another organisation (their roles must fit its kind).
    #[validate(length(max = 64))]
    #[schema(max_length = 64)]
    pub organisation_id: Option<String>,
}

/// Change a user (admin): `{"active": false}` deactivates it, and its tokens stop working at once.
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "directory", request_body = PatchUser,
    params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = User), (status = 400), (status = 403), (status = 404), (status = 422)))]
pub async fn patch_user(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: super::body::Body<PatchUser>,
) -> ApiResult<HttpResponse> {
    let user = change_user(&state, &caller, id.into_inner(), body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(user))
}

/// Changes the user `id` as `b` says, for `caller` (admin): `PATCH /users/{id}` and the
/// admin's page (deactivating a user ends their sessions).
pub async fn change_user(
    state: &AppState,
    caller: &Caller,
    id: String,
    b: PatchUser,
) -> ApiResult<User> {
    caller.require(&[Role::Admin])?;
    b.validate()?;
    if b.active == Some(false) && id == caller.user_id {
        return Err(ApiError::field(
            "active",
            "an admin cannot deactivate themself",
        ));
    }
    let row = state
        .db(move |c| {
            write_tx(c, |c| {
                let current = find_user(c, &id)?.ok_or(ApiError::NotFound)?;
                super::api_keys::not_a_key_user(c, &current.id)?;
                // The roles the user will have must fit their organisation's kind, as on create.
                let roles_v = b
                    .roles
                    .clone()
                    .unwrap_or_else(|| roles::split(&current.roles));
                let panel_v = b
                    .panel_roles
                    .clone()
                    .unwrap_or_else(|| roles::split(&current.panel_roles));
                let org_id = b
                    .organisation_id
                    .clone()
                    .unwrap_or(current.organisation_id.clone());
                let org = find_organisation(c, &org_id)?
                    .filter(|o| o.kind != SERVICE_KIND || b.organisation_id.is_none())
                    .ok_or_else(|| {
                        ApiError::field("organisation_id", "does not name an organisation")
                    })?;
                let errs = fit_errors(&roles_v, &panel_v, &org.kind);
                if !errs.is_empty() {
                    return Err(ApiError::Validation(errs));
                }
                let t = now();
                diesel::update(users::table.find(&id))
                    .set(users::updated_at.eq(t))
                    .execute(c)?;
                if let Some(a) = b.active {
                    diesel::update(users::table.find(&id))
                        .set(users::active.eq(a))
                        .execute(c)?;
                    if !a {
                        // Deactivation ends every web session of the user at once (and they
                        // stay ended if the user is activated again).
                        diesel::delete(
                            crate::db::schema::sessions::table
                                .filter(crate::db::schema::sessions::user_id.eq(&id)),
                        )
                        .execute(c)?;
                    }
                }
                if b.organisation_id.is_some() {
                    diesel::update(users::table.find(&id))
                        .set(users::organisation_id.eq(&org.id))
                        .execute(c)?;
                }
                if let Some(n) = &b.name {
                    diesel::update(users::table.find(&id))
                        .set(users::name.eq(n.trim()))
                        .execute(c)?;
                }
                if let Some(r) = &b.roles {
                    let mut r = r.clone();
                    r.sort();
                    r.dedup();
                    diesel::update(users::table.find(&id))
                        .set(users::roles.eq(roles::join(r.iter().map(String::as_str))))
                        .execute(c)?;
                }
                if let Some(r) = &b.panel_roles {
                    let mut r = r.clone();
                    r.sort();
                    r.dedup();
                    diesel::update(users::table.find(&id))
                        .set(users::panel_roles.eq(roles::join(r.iter().map(String::as_str))))
                        .execute(c)?;
                }
                find_user(c, &id)?.ok_or(ApiError::NotFound)
            })
        })
        .await?;
    tracing::info!(user_id = %row.id, actor = %caller.user_id, active = row.active, "user changed");
    Ok(User::from(&row))
}

// ---------------------------------------------------------------- interests, unavailability

#[derive(Debug, Deserialize, Validate, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInterest {
    #[validate(required, length(max = 64))]
    #[schema(required = true, value_type = String, max_length = 64)]
    pub organisation_id: Option<String>,
    #[validate(required, length(min = 1, max = 1000), custom(function = "not_blank"))]
    #[schema(required = true, value_type = String, min_length = 1, max_length = 1000)]
    pub nature: Option<String>,
    /// Not in the future.
    #[validate(required, length(max = 10))]
    #[schema(required = true, value_type = String, format = Date, example = "2026-01-15")]
    pub declared_on: Option<String>,
}

/// Record an entry in the register of interests: admin, or a panelist declaring their own.
#[utoipa::path(post, path = "/api/v1/users/{id}/interests", tag = "directory", request_body = NewInterest,
    params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 201, body = Interest), (status = 400), (status = 403),
        (status = 404), (status = 422)))]
pub async fn add_interest(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: super::body::Body<NewInterest>,
) -> ApiResult<HttpResponse> {
    add_entry(state, caller, id, body).await
}

/// A new entry of one of a user's lists, as the API takes it ([`NewInterest`],
/// [`NewUnavailability`]): each is recorded by [`record_entry`].
pub trait NewEntry: Validate + Send + 'static {
    /// The entry as recorded.
    type Recorded: Serialize + Send + 'static;
    /// The list it goes in.
    const ENTRY: Entry;
    /// Records it for the user `user_id` (the service checks its fields and that they exist).
    fn record(
        self,
        c: &mut DbConn,
        today: NaiveDate,
        user_id: &str,
    ) -> Result<Self::Recorded, service::ServiceError>;
}

impl NewEntry for NewInterest {
    type Recorded = Interest;
    const ENTRY: Entry = Entry::Interest;
    fn record(
        self,
        c: &mut DbConn,
        today: NaiveDate,
        user_id: &str,
    ) -> Result<Interest, service::ServiceError> {
        service::directory::add_interest(
            c,
            today,
            user_id,
            self.organisation_id.as_deref().unwrap_or_default(),
            self.nature.as_deref().unwrap_or_default(),
            self.declared_on.as_deref().unwrap_or_default(),
        )
    }
}

impl NewEntry for NewUnavailability {
    type Recorded = Unavailability;
    const ENTRY: Entry = Entry::Unavailability;
    fn record(
        self,
        c: &mut DbConn,
        _today: NaiveDate,
        user_id: &str,
    ) -> Result<Unavailability, service::ServiceError> {
        service::directory::add_unavailability(
            c,
            user_id,
            self.from.as_deref().unwrap_or_default(),
            self.to.as_deref().unwrap_or_default(),
        )
    }
}

/// Records the entry `b` of the user `user_id` for `caller` (admin, or the panelist
/// themself): `POST /users/{id}/interests`, `POST /users/{id}/unavailability` and the pages
/// (the admin's register, a panelist's own lists).
pub async fn record_entry<B: NewEntry>(
    state: &AppState,
    caller: &Caller,
    user_id: String,
    b: B,
) -> ApiResult<B::Recorded> {
    own_or_admin(caller, &user_id)?;
    b.validate()?;
    let today = state.clock.today();
    state.db(move |c| Ok(b.record(c, today, &user_id)?)).await
}

/// `POST /users/{id}/interests` and `POST /users/{id}/unavailability`: the entry recorded
/// (201).
async fn add_entry<B: NewEntry>(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: super::body::Body<B>,
) -> ApiResult<HttpResponse> {
    let out = record_entry(&state, &caller, id.into_inner(), body.into_inner()).await?;
    Ok(HttpResponse::Created().json(out))
}

/// An admin may keep anyone's interests and unavailability; a panelist their own; anyone
/// else is refused (403).
fn own_or_admin(caller: &Caller, user_id: &str) -> ApiResult<()> {
    if caller.has(Role::Admin) {
        return Ok(());
    }
    let allowed: &[Role] = if caller.user_id == user_id {
        &[Role::Panelist, Role::Admin]
    } else {
        &[Role::Admin]
    };
    Ok(caller.require(allowed)?)
}

/// Which of a user's lists an entry is in.
pub use crate::service::directory::Entry;

/// Removes the entry `entry_id` of the user `user_id`'s register of interests or
/// unavailability, for `caller` (admin, or the panelist themself): the `DELETE` routes and the
/// pages. An entry that is not that user's is not found.
pub async fn remove_entry(
    state: &AppState,
    caller: &Caller,
    user_id: String,
    entry_id: String,
    which: Entry,
) -> ApiResult<()> {
    own_or_admin(caller, &user_id)?;
    state
        .db(move |c| {
            Ok(service::directory::remove_entry(
                c, which, &user_id, &entry_id,
            )?)
        })
        .await?;
    tracing::info!(actor = %caller.user_id, ?which, "directory entry removed");
    Ok(())
}

/// Remove an entry of the register of interests (admin, or the panelist themself).
#[utoipa::path(delete, path = "/api/v1/users/{id}/interests/{entry_id}", tag = "directory",
    params(("id" = String, Path), ("entry_id" = String, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 403), (status = 404)))]
pub async fn delete_interest(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (user_id, entry_id) = path.into_inner();
    remove_entry(&state, &caller, user_id, entry_id, Entry::Interest).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Remove a period of unavailability (admin, or the panelist themself).
#[utoipa::path(delete, path = "/api/v1/users/{id}/unavailability/{entry_id}", tag = "directory",
    params(("id" = String, Path), ("entry_id" = String, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 403), (status = 404)))]
pub async fn delete_unavailability(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (user_id, entry_id) = path.into_inner();
    remove_entry(&state, &caller, user_id, entry_id, Entry::Unavailability).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Runs `read` on the blocking pool for the user `id` if the caller may see them (admins
/// anyone, a user themself; 404 otherwise), and answers with what it returns as JSON.
async fn about_user<T, F>(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    read: F,
) -> ApiResult<HttpResponse>
where
    T: Serialize + Send + 'static,
    F: FnOnce(&mut DbConn, &str) -> Result<T, service::ServiceError> + Send + 'static,
{
    let user_id = id.into_inner();
    if !may_see_user(&caller, &user_id) {
        return Err(ApiError::NotFound);
    }
    let out = state.db(move |c| Ok(read(c, &user_id)?)).await?;
    Ok(HttpResponse::Ok().json(out))
}

/// The user's register of interests (admin, or the user themself).
#[utoipa::path(get, path = "/api/v1/users/{id}/interests", tag = "directory",
    params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = [Interest]), (status = 404)))]
pub async fn list_interests(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    about_user(state, caller, id, service::directory::interests_of).await
}

#[derive(Debug, Deserialize, Validate, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUnavailability {
    #[validate(required, length(max = 10))]
    #[schema(required = true, value_type = String, format = Date, example = "2026-03-02")]
    pub from: Option<String>,
    /// Not before `from`, at most a year after it.
    #[validate(required, length(max = 10))]
    #[schema(required = true, value_type = String, format = Date, example = "2026-03-06")]
    pub to: Option<String>,
}

/// Record dates a panelist cannot sit (inclusive): admin, or the panelist themself.
#[utoipa::path(post, path = "/api/v1/users/{id}/unavailability", tag = "directory",
    request_body = NewUnavailability, params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 201, body = Unavailability), (status = 400), (status = 403),
        (status = 404), (status = 422)))]
pub async fn add_unavailability(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: super::body::Body<NewUnavailability>,
) -> ApiResult<HttpResponse> {
    add_entry(state, caller, id, body).await
}

/// A panelist's unavailable periods (admin, or the user themself).
#[utoipa::path(get, path = "/api/v1/users/{id}/unavailability", tag = "directory",
    params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = [Unavailability]), (status = 404)))]
pub async fn list_unavailability(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    about_user(state, caller, id, service::directory::unavailability_of).await
}
