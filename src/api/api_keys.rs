//! API keys (issue #38): an organisation's integration signs its requests with
//! `Authorization: Bearer ldr_…` instead of a person's password.
//!
//! - A key is `ldr_` and 64 hex digits (32 random bytes from the operating system), shown once
//!   in the answer to `POST /api-keys`; only its sha256 is stored.
//! - A key acts through a service user of its own, created with it in the key's organisation
//!   and named "<organisation>'s integration '<name>'": the history names it so, and every rule
//!   that asks "who is this" sees an ordinary user. Its roles are fixed by the organisation's
//!   kind: a practice's key is a `practice_user` (files, acts as a party), a commissioner's a
//!   `commissioner`; never a mediator, panel member, secretary, officer or admin. Other kinds of
//!   organisation get no keys. The service user has no usable password.
//! - A revoked key (revoking also deactivates its service user) or one past its `expires_on`
//!   day (valid through that day, by the service's clock) is refused with 401 at once.
//! - `last_used_at` is written at most once a minute per key, so a busy integration does not
//!   turn every read into a write.

use super::auth::Caller;
use super::error::{ApiError, ApiResult};
use crate::app::AppState;
use crate::db::schema::{api_keys, organisations, users};
use crate::db::{now, write_tx, DbConn};
use crate::domain::roles::Role;
use crate::service::tokens;
use actix_web::{web, HttpResponse};
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

/// What every key starts with: how the bearer extractor tells a key from a JWT.
pub const PREFIX: &str = "ldr_";

/// How long `last_used_at` may lag behind a key's real last use.
const LAST_USED_GRANULARITY_SECS: i64 = 60;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/api-keys")
            .route(web::post().to(create_key))
            .route(web::get().to(list_keys)),
    )
    .service(web::resource("/api-keys/{id}").route(web::delete().to(revoke_key)));
}

fn new_key() -> String {
    format!("{PREFIX}{}", tokens::random())
}

/// The one role a key of an organisation of `kind` acts with, if that kind may have keys.
pub fn key_role(kind: &str) -> Option<Role> {
    match kind {
        "practice" => Some(Role::PracticeUser),
        "commissioner" => Some(Role::Commissioner),
        _ => None,
    }
}

/// The service user's name: how the history shows the key's actions.
pub fn actor_name(org_name: &str, key_name: &str) -> String {
    format!("{org_name}'s integration '{key_name}'")
}

/// The user a key acts as, or why it is refused (always 401). Updates `last_used_at` when it
/// is older than a minute.
pub fn resolve(c: &mut DbConn, key: &str, today: NaiveDate) -> ApiResult<String> {
    let hash = tokens::sha256_hex(key);
    type Row = (
        String,
        String,
        Option<NaiveDate>,
        Option<NaiveDateTime>,
        Option<NaiveDateTime>,
    );
    let row: Option<Row> = api_keys::table
        .filter(api_keys::key_hash.eq(&hash))
        .select((
            api_keys::id,
            api_keys::user_id,
            api_keys::expires_on,
            api_keys::last_used_at,
            api_keys::revoked_at,
        ))
        .first(c)
        .optional()?;
    let Some((id, user_id, expires_on, last_used, revoked)) = row else {
        return Err(ApiError::Unauthorized(
            "This API key is not known. Check that it was copied whole, or create a new one \
             (POST /api/v1/api-keys)."
                .into(),
        ));
    };
    if let Some(at) = revoked {
        return Err(ApiError::Unauthorized(format!(
            "This API key was revoked on {}. Create a new one (POST /api/v1/api-keys).",
            at.date()
        )));
    }
    if let Some(last_day) = expires_on {
        if last_day < today {
            return Err(ApiError::Unauthorized(format!(
                "This API key expired at the end of {last_day}. Create a new one \
                 (POST /api/v1/api-keys)."
            )));
        }
    }
    let t = now();
    if last_used.is_none_or(|l| (t - l).num_seconds() >= LAST_USED_GRANULARITY_SECS) {
        diesel::update(api_keys::table.find(&id))
            .set(api_keys::last_used_at.eq(t))
            .execute(c)?;
    }
    Ok(user_id)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "EMIS connector", "expires_on": "2027-12-31"}))]
pub struct NewApiKey {
    /// What the integration is, as the history will show it (1–80 characters).
    pub name: String,
    /// The last day the key works; none: until revoked.
    pub expires_on: Option<NaiveDate>,
    /// Admins only: the organisation the key acts for (others: always their own).
    pub organisation_id: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(example = json!({"id": "6f1c…", "organisation_id": "0b7e…", "name": "EMIS connector",
    "acts_as": "Riverside Surgery's integration 'EMIS connector'", "user_id": "9a2d…",
    "created_at": "2026-03-02T09:00:00.000000Z", "expires_on": "2027-12-31", "last_used_at": null,
    "revoked_at": null}))]
pub struct ApiKey {
    pub id: String,
    pub organisation_id: String,
    pub name: String,
    /// The name the history gives the key's actions.
    pub acts_as: String,
    /// The service user the key acts as (the `actor_id` of its events).
    pub user_id: String,
    #[serde(serialize_with = "super::directory::rfc3339")]
    pub created_at: NaiveDateTime,
    pub expires_on: Option<NaiveDate>,
    /// Updated at most once a minute.
    #[serde(serialize_with = "super::directory::rfc3339_opt")]
    pub last_used_at: Option<NaiveDateTime>,
    #[serde(serialize_with = "super::directory::rfc3339_opt")]
    pub revoked_at: Option<NaiveDateTime>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(example = json!({"key": "ldr_3f9a…(64 hex digits)", "api_key": {"id": "6f1c…",
    "organisation_id": "0b7e…", "name": "EMIS connector",
    "acts_as": "Riverside Surgery's integration 'EMIS connector'", "user_id": "9a2d…",
    "created_at": "2026-03-02T09:00:00.000000Z", "expires_on": null, "last_used_at": null,
    "revoked_at": null}}))]
pub struct CreatedApiKey {
    /// The key itself: shown this once, never again. Send it as `Authorization: Bearer <key>`.
    pub key: String,
    pub api_key: ApiKey,
}

/// A key as [`load_keys`] reads it (its organisation's name, for `acts_as`, beside it).
#[derive(Queryable, Selectable)]
#[diesel(table_name = api_keys)]
struct KeyRow {
    id: String,
    organisation_id: String,
    name: String,
    user_id: String,
    created_at: NaiveDateTime,
    expires_on: Option<NaiveDate>,
    last_used_at: Option<NaiveDateTime>,
    revoked_at: Option<NaiveDateTime>,
}

fn load_keys(c: &mut DbConn, org_id: &str, id: Option<&str>) -> ApiResult<Vec<ApiKey>> {
    let mut q = api_keys::table
        .inner_join(organisations::table.on(organisations::id.eq(api_keys::organisation_id)))
        .filter(api_keys::organisation_id.eq(org_id))
        .select((KeyRow::as_select(), organisations::name))
        .order((api_keys::created_at.desc(), api_keys::id))
        .into_boxed();
    if let Some(id) = id {
        q = q.filter(api_keys::id.eq(id.to_string()));
    }
    let rows: Vec<(KeyRow, String)> = q.load(c)?;
    Ok(rows
        .into_iter()
        .map(|(k, org)| ApiKey {
            acts_as: actor_name(&org, &k.name),
            id: k.id,
            organisation_id: k.organisation_id,
            name: k.name,
            user_id: k.user_id,
            created_at: k.created_at,
            expires_on: k.expires_on,
            last_used_at: k.last_used_at,
            revoked_at: k.revoked_at,
        })
        .collect())
}

/// The organisation a request is about: the caller's own, or for an admin the one named.
fn target_org(caller: &Caller, named: Option<String>) -> ApiResult<String> {
    match named {
        Some(o) if o != caller.org_id => {
            if caller.has(Role::Admin) {
                Ok(o)
            } else {
                Err(ApiError::Forbidden(
                    "Only an admin may manage another organisation's API keys; leave out \
                     organisation_id to manage your own."
                        .into(),
                ))
            }
        }
        _ => Ok(caller.org_id.clone()),
    }
}

/// Create an API key for the caller's organisation (an admin: for any, with
/// `organisation_id`). The key is in this answer only; keep it safe.
#[utoipa::path(post, path = "/api/v1/api-keys", tag = "auth", request_body = NewApiKey,
    security(("bearer" = [])),
    responses((status = 201, body = CreatedApiKey), (status = 400, body = super::error::Problem),
        (status = 401, body = super::error::Problem), (status = 403, body = super::error::Problem),
        (status = 422, body = super::error::Problem)))]
pub async fn create_key(
    state: web::Data<AppState>,
    caller: Caller,
    body: super::body::Body<NewApiKey>,
) -> ApiResult<HttpResponse> {
    let b = body.into_inner();
    let out = create(&state, caller, b).await?;
    Ok(HttpResponse::Created().json(out))
}

/// Creates a key as `caller` (the API's and the page's one way).
pub async fn create(state: &AppState, caller: Caller, b: NewApiKey) -> ApiResult<CreatedApiKey> {
    if is_key_user(state, &caller.user_id).await? {
        return Err(ApiError::Forbidden(
            "An API key cannot create API keys; a person of the organisation creates them.".into(),
        ));
    }
    let org_id = target_org(&caller, b.organisation_id)?;
    let name = b.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 80 {
        return Err(ApiError::field(
            "name",
            "give the integration a name of 1 to 80 characters, e.g. 'EMIS connector'",
        ));
    }
    let today = state.clock.today();
    if let Some(d) = b.expires_on {
        if d < today {
            return Err(ApiError::field(
                "expires_on",
                format!("must be today ({today}) or later; leave it out for no expiry"),
            ));
        }
    }
    let key = new_key();
    let hash = tokens::sha256_hex(&key);
    let created = state
        .db(move |c| {
            write_tx(c, |c| {
                let org = super::directory::find_organisation(c, &org_id)?
                    .ok_or_else(|| ApiError::field("organisation_id", "no such organisation"))?;
                let role = key_role(&org.kind).ok_or_else(|| {
                    ApiError::field(
                        "organisation_id",
                        format!(
                            "an organisation of kind '{}' cannot have API keys; only practices \
                             and commissioners can",
                            org.kind
                        ),
                    )
                })?;
                if !org.active {
                    return Err(ApiError::field(
                        "organisation_id",
                        "the organisation is closed; reopen it first",
                    ));
                }
                let id = uuid::Uuid::new_v4().to_string();
                let user = super::directory::insert_user(
                    c,
                    &actor_name(&org.name, &name),
                    &format!("api-key-{id}@api-keys.invalid"),
                    // Not a PHC string: no password ever verifies against it.
                    "!api-key",
                    &org.id,
                    role.as_str(),
                    "",
                )?;
                diesel::insert_into(api_keys::table)
                    .values((
                        api_keys::id.eq(&id),
                        api_keys::organisation_id.eq(&org.id),
                        api_keys::user_id.eq(&user.id),
                        api_keys::name.eq(&name),
                        api_keys::key_hash.eq(&hash),
                        api_keys::created_by.eq(&caller.user_id),
                        api_keys::created_at.eq(now()),
                        api_keys::expires_on.eq(b.expires_on),
                    ))
                    .execute(c)?;
                let mut keys = load_keys(c, &org.id, Some(&id))?;
                keys.pop()
                    .ok_or_else(|| ApiError::internal("key not read back"))
            })
        })
        .await?;
    tracing::info!(key_id = %created.id, org_id = %created.organisation_id, "api key created");
    Ok(CreatedApiKey {
        key,
        api_key: created,
    })
}

/// Refuses changes to an API key's service user: its name, organisation and one role are the
/// key's, and it is revoked (not deactivated) through the key.
pub fn not_a_key_user(c: &mut DbConn, user_id: &str) -> ApiResult<()> {
    let key: Option<String> = api_keys::table
        .filter(api_keys::user_id.eq(user_id))
        .select(api_keys::id)
        .first(c)
        .optional()?;
    match key {
        Some(key_id) => Err(ApiError::rule(
            "api_key_user",
            format!(
                "This user is API key {key_id}'s integration; it cannot be changed. Revoke the \
                 key (DELETE /api/v1/api-keys/{key_id}) and create another instead."
            ),
        )),
        None => Ok(()),
    }
}

/// Whether `user_id` is an API key's service user.
async fn is_key_user(state: &AppState, user_id: &str) -> ApiResult<bool> {
    let id = user_id.to_string();
    state
        .db(move |c| {
            Ok(api_keys::table
                .filter(api_keys::user_id.eq(&id))
                .count()
                .get_result::<i64>(c)?
                > 0)
        })
        .await
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct KeysQuery {
    /// Admins only: another organisation's keys.
    pub organisation_id: Option<String>,
}

/// The API keys of the caller's organisation (an admin: any, with `organisation_id`), newest
/// first, revoked ones included. Never the keys themselves.
#[utoipa::path(get, path = "/api/v1/api-keys", tag = "auth", params(KeysQuery),
    security(("bearer" = [])),
    responses((status = 200, body = [ApiKey]), (status = 401, body = super::error::Problem),
        (status = 403, body = super::error::Problem)))]
pub async fn list_keys(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<KeysQuery>,
) -> ApiResult<HttpResponse> {
    let keys = list(&state, &caller, q.into_inner().organisation_id).await?;
    Ok(HttpResponse::Ok().json(keys))
}

pub async fn list(
    state: &AppState,
    caller: &Caller,
    organisation_id: Option<String>,
) -> ApiResult<Vec<ApiKey>> {
    let org_id = target_org(caller, organisation_id)?;
    state.db(move |c| load_keys(c, &org_id, None)).await
}

/// Revoke an API key of the caller's organisation (an admin: any). It is refused from the next
/// request on; revoking again changes nothing.
#[utoipa::path(delete, path = "/api/v1/api-keys/{id}", tag = "auth",
    params(("id" = String, Path, description = "the key's id (not the key)")),
    security(("bearer" = [])),
    responses((status = 200, body = ApiKey), (status = 401, body = super::error::Problem),
        (status = 404, body = super::error::Problem)))]
pub async fn revoke_key(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let key = revoke(&state, caller, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(key))
}

pub async fn revoke(state: &AppState, caller: Caller, id: String) -> ApiResult<ApiKey> {
    let key = state
        .db(move |c| {
            write_tx(c, |c| {
                let org: Option<(String, String)> = api_keys::table
                    .find(&id)
                    .select((api_keys::organisation_id, api_keys::user_id))
                    .first(c)
                    .optional()?;
                // Another organisation's key is as unknown as no key at all.
                let (org_id, user_id) = match org {
                    Some((o, u)) if o == caller.org_id || caller.has(Role::Admin) => (o, u),
                    _ => return Err(ApiError::NotFound),
                };
                let t = now();
                diesel::update(
                    api_keys::table
                        .find(&id)
                        .filter(api_keys::revoked_at.is_null()),
                )
                .set(api_keys::revoked_at.eq(t))
                .execute(c)?;
                diesel::update(users::table.find(&user_id))
                    .set((users::active.eq(false), users::updated_at.eq(t)))
                    .execute(c)?;
                let mut keys = load_keys(c, &org_id, Some(&id))?;
                keys.pop().ok_or(ApiError::NotFound)
            })
        })
        .await?;
    tracing::info!(key_id = %key.id, "api key revoked");
    Ok(key)
}
