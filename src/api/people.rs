//! Finding people: `GET /me` (who am I, in which organisation, with which roles) and
//! `GET /users` (the directory of people, for admins and panel secretaries appointing panels).

use super::auth::Caller;
use super::error::{ApiError, ApiResult};
use crate::app::AppState;
use crate::db::schema::{interests, organisations, users};
use crate::domain::roles::{self, Role, PANEL_ROLES};
use crate::service::directory::InterestRow;
use actix_web::{web, HttpResponse};
use chrono::NaiveDate;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

diesel::define_sql_function!(fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text);

/// An organisation as a person's record names it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PersonOrganisation {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub area: String,
}

/// An entry of the register of interests.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeclaredInterest {
    pub organisation_id: String,
    pub organisation_name: String,
    pub nature: String,
    #[schema(value_type = String, format = Date)]
    pub declared_on: NaiveDate,
}

/// The example of a [`Person`] in the API's documentation (alone, and in a [`PeoplePage`]).
fn person_example() -> serde_json::Value {
    serde_json::json!({"id": "5b7e2f1a-0c3d-4e8f-9a6b-1d2c3e4f5a6b", "name": "Dr Amir Shah",
        "email": "amir.shah@nhs.net",
        "organisation": {"id": "7c9e6679-7425-40de-944b-e07fc1f90ae7", "name": "Birch Practice",
            "kind": "practice", "area": "South Essex"},
        "roles": ["panelist"], "panel_roles": ["gp_conciliator"], "active": true,
        "interests": [{"organisation_id": "0b6c1d2e-3f40-4a5b-8c6d-7e8f9a0b1c2d",
            "organisation_name": "North CCG", "nature": "Sessional work",
            "declared_on": "2025-01-01"}]})
}

/// A person as the directory shows them. `email` only to admins and to themselves.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(example = person_example)]
pub struct Person {
    pub id: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    pub organisation: PersonOrganisation,
    pub roles: Vec<String>,
    pub panel_roles: Vec<String>,
    pub active: bool,
    pub interests: Vec<DeclaredInterest>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(example = json!({"items": [person_example()], "next_cursor": null}))]
pub struct PeoplePage {
    pub items: Vec<Person>,
    /// Pass as `cursor` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

type UserFields = (String, String, String, String, String, bool);

/// The people of `rows` with their organisations and declared interests (two more queries).
fn people(
    c: &mut crate::db::DbConn,
    rows: Vec<(UserFields, (String, String, String, String))>,
    with_email: impl Fn(&str) -> bool,
) -> ApiResult<Vec<Person>> {
    let ids: Vec<&String> = rows.iter().map(|((id, ..), _)| id).collect();
    let declared: Vec<(InterestRow, String)> = interests::table
        .inner_join(organisations::table.on(organisations::id.eq(interests::organisation_id)))
        .filter(interests::user_id.eq_any(ids))
        .order(interests::declared_on.asc())
        .select((InterestRow::as_select(), organisations::name))
        .load(c)?;
    Ok(rows
        .into_iter()
        .map(
            |((id, name, email, role_list, panel, active), (oid, oname, kind, area))| Person {
                interests: declared
                    .iter()
                    .filter(|(d, _)| d.user_id == id)
                    .map(|(d, organisation_name)| DeclaredInterest {
                        organisation_id: d.organisation_id.clone(),
                        organisation_name: organisation_name.clone(),
                        nature: d.nature.clone(),
                        declared_on: d.declared_on,
                    })
                    .collect(),
                email: with_email(&id).then_some(email),
                id,
                name,
                organisation: PersonOrganisation {
                    id: oid,
                    name: oname,
                    kind,
                    area,
                },
                roles: roles::split(&role_list),
                panel_roles: roles::split(&panel),
                active,
            },
        )
        .collect())
}

macro_rules! person_columns {
    () => {
        (
            (
                users::id,
                users::name,
                users::email,
                users::roles,
                users::panel_roles,
                users::active,
            ),
            (
                organisations::id,
                organisations::name,
                organisations::kind,
                organisations::area,
            ),
        )
    };
}

/// The caller: their own record, organisation, roles and panel roles (every role). This is
/// where an API client learns its own user id and its organisation's id.
#[utoipa::path(get, path = "/api/v1/me", tag = "directory", security(("bearer" = [])),
    responses((status = 200, body = Person)))]
pub async fn me(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    let person = state
        .db(move |c| {
            let rows = users::table
                .inner_join(organisations::table.on(organisations::id.eq(users::organisation_id)))
                .filter(users::id.eq(&caller.user_id))
                .select(person_columns!())
                .load(c)?;
            people(c, rows, |_| true)?
                .pop()
                .ok_or_else(super::auth::user_gone)
        })
        .await?;
    Ok(HttpResponse::Ok().json(person))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PeopleQuery {
    /// Part of the name or e-mail address, any case.
    #[param(required = false, max_length = 200)]
    pub q: Option<String>,
    #[param(required = false, value_type = Option<crate::domain::roles::Role>)]
    pub role: Option<String>,
    #[param(required = false, value_type = Option<super::directory::PanelRole>)]
    pub panel_role: Option<String>,
    #[param(required = false, max_length = 64)]
    pub organisation_id: Option<String>,
    /// Default 50.
    #[param(required = false, value_type = Option<i64>, minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    #[param(required = false)]
    pub cursor: Option<String>,
}

/// A comma-separated list column (`users.roles`, `users.panel_roles`) holds the entry `r`
/// (`r` is checked against the known roles first, so it holds no `%`, `_` or comma).
macro_rules! lists {
    ($column:literal, $r:expr) => {
        diesel::dsl::sql::<diesel::sql_types::Bool>(concat!("(',' || ", $column, " || ',') LIKE "))
            .bind::<diesel::sql_types::Text, _>(format!("%,{},%", $r))
    };
}

/// `%`, `_` and `\` taken literally in a LIKE pattern.
pub fn like_literal(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

fn decode_cursor(s: &str) -> Option<(String, String)> {
    let bytes = hex::decode(s).ok()?;
    let (name, id): (String, String) = serde_json::from_slice(&bytes).ok()?;
    // PostgreSQL's text holds no NUL: such a cursor was never given out.
    if name.contains('\0') || id.contains('\0') {
        return None;
    }
    Some((name, id))
}

/// The people of the directory (admins and panel secretaries), by name: who can be appointed,
/// with their organisation, roles, panel roles and declared interests. Filters combine.
#[utoipa::path(get, path = "/api/v1/users", tag = "directory", params(PeopleQuery), security(("bearer" = [])),
    responses((status = 200, body = PeoplePage), (status = 403), (status = 422)))]
pub async fn list_users(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<PeopleQuery>,
) -> ApiResult<HttpResponse> {
    let page = find_people(&state, &caller, q.into_inner()).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// The people `q` asks for, for `caller` (admins and panel secretaries): `GET /users` and the
/// admin's users page.
pub async fn find_people(
    state: &AppState,
    caller: &Caller,
    q: PeopleQuery,
) -> ApiResult<PeoplePage> {
    caller.require(&[Role::Admin, Role::PanelSecretary])?;
    let mut errs = Vec::new();
    if let Some(r) = &q.role {
        if Role::parse(r).is_none() {
            errs.push(super::error::FieldError {
                field: "role".into(),
                message: format!(
                    "must be one of: {}",
                    Role::ALL.map(|r| r.as_str()).join(", ")
                ),
            });
        }
    }
    if let Some(r) = &q.panel_role {
        if !PANEL_ROLES.contains(&r.as_str()) {
            errs.push(super::error::FieldError {
                field: "panel_role".into(),
                message: format!("must be one of: {}", PANEL_ROLES.join(", ")),
            });
        }
    }
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        errs.push(super::error::FieldError {
            field: "limit".into(),
            message: "must be between 1 and 200".into(),
        });
    }
    if q.organisation_id.as_ref().is_some_and(|s| s.len() > 64) {
        errs.push(super::error::FieldError {
            field: "organisation_id".into(),
            message: "must be at most 64 characters (an organisation's id)".into(),
        });
    }
    if q.q.as_ref().is_some_and(|s| s.chars().count() > 200) {
        errs.push(super::error::FieldError {
            field: "q".into(),
            message: "must be at most 200 characters".into(),
        });
    }
    let after = match &q.cursor {
        None => None,
        Some(s) => match decode_cursor(s) {
            Some(c) => Some(c),
            None => {
                errs.push(super::error::FieldError {
                    field: "cursor".into(),
                    message: "is not a cursor this service gave (use next_cursor)".into(),
                });
                None
            }
        },
    };
    if !errs.is_empty() {
        return Err(ApiError::Validation(errs));
    }
    let admin = caller.has(Role::Admin);
    let me = caller.user_id.clone();
    state
        .db(move |c| {
            let mut query = users::table
                .inner_join(organisations::table.on(organisations::id.eq(users::organisation_id)))
                .select(person_columns!())
                .order((users::name.asc(), users::id.asc()))
                .limit(limit + 1)
                .into_boxed();
            if let Some(text) = q.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
                let pattern = format!("%{}%", like_literal(&text.to_lowercase()));
                query = query.filter(
                    lower(users::name)
                        .like(pattern.clone())
                        .escape('\\')
                        .or(users::email.like(pattern).escape('\\')),
                );
            }
            if let Some(r) = &q.role {
                query = query.filter(lists!("users.roles", r));
            }
            if let Some(r) = &q.panel_role {
                query = query.filter(lists!("users.panel_roles", r));
            }
            if let Some(o) = &q.organisation_id {
                query = query.filter(users::organisation_id.eq(o.clone()));
            }
            if let Some((name, id)) = after {
                query = query.filter(
                    users::name
                        .gt(name.clone())
                        .or(users::name.eq(name).and(users::id.gt(id))),
                );
            }
            let mut rows: Vec<(UserFields, (String, String, String, String))> = query.load(c)?;
            let next_cursor = if rows.len() as i64 > limit {
                rows.truncate(limit as usize);
                rows.last().map(|((id, name, ..), _)| {
                    hex::encode(serde_json::to_vec(&(name, id)).unwrap_or_default())
                })
            } else {
                None
            };
            let items = people(c, rows, |id| admin || id == me)?;
            Ok(PeoplePage { items, next_cursor })
        })
        .await
}
