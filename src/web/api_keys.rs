//! `/api-keys`: an organisation's API keys for its integrations (issue #38), through the API's
//! own code (`api::api_keys::{list, create, revoke}`, as `GET`, `POST` and `DELETE
//! /api/v1/api-keys`):
//!
//! - `GET /api-keys`: the keys of the person's organisation (name, created, last day, last used,
//!   revoked), a form to create one (a name and an optional last day, the NHS.UK date input) and
//!   a "Revoke" button for each key still working;
//! - `POST /api-keys`: creates a key and shows it, this once, with a warning to copy it now;
//!   a refusal shows the form again with the error summary;
//! - `POST /api-keys/{id}/revoke`: revokes the key and goes back to the list;
//! - `POST /api-keys/token`: the person's own API token, the bearer token `POST
//!   /api/v1/auth/login` gives, for the API as themselves: how a person who signs in with their
//!   identity provider (no password here) uses the API. Shown once; it lasts
//!   `LDR_JWT_TTL_SECONDS`.

use super::forms::{self, Field, Input, Problem, Sent};
use super::register;
use super::session::SignedIn;
use super::{page, PageResult};
use crate::api::api_keys::{self, ApiKey, NewApiKey};
use crate::app::AppState;
use crate::db::schema::organisations;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use diesel::prelude::*;
use serde_json::{json, Value};

fn fields() -> Vec<Field> {
    vec![
        Field::new(
            "name",
            "Name of the integration",
            "What uses the key, as your cases' history will name it, for example “EMIS connector”.",
            Input::Text,
        )
        .called("The name"),
        Field::new(
            "expires_on",
            "Last day the key works (optional)",
            "For example, 31 12 2027. Leave it empty for a key that works until it is revoked.",
            Input::Date,
        )
        .called("The last day"),
    ]
}

fn when(t: Option<chrono::NaiveDateTime>) -> Value {
    t.map(|t| json!(super::case::timestamp(&t)))
        .unwrap_or(Value::Null)
}

fn row(k: &ApiKey) -> Value {
    json!({
        "id": k.id,
        "name": k.name,
        "acts_as": k.acts_as,
        "created": when(Some(k.created_at)),
        "expires_on": k.expires_on.map(|d| d.format("%Y-%m-%d").to_string()),
        "last_used": when(k.last_used_at),
        "revoked": when(k.revoked_at),
    })
}

/// What the page shows once, after what was just done.
#[derive(Default)]
struct Once {
    /// A new key's secret, with the key.
    created: Option<(String, ApiKey)>,
    /// The person's own token, when they just asked for one.
    token: Option<Value>,
    /// The id of the key just revoked.
    revoked: Option<String>,
}

/// The page: the keys, the form (with what was sent and its problems), and what was just done.
async fn render(
    state: &AppState,
    who: &SignedIn,
    sent: &Sent,
    problems: &[Problem],
    once: Once,
    status: StatusCode,
) -> PageResult<HttpResponse> {
    let keys = api_keys::list(state, &who.caller, None).await?;
    let org = who.caller.org_id.clone();
    let kind: Option<String> = state
        .db(move |c| {
            Ok(organisations::table
                .find(&org)
                .select(organisations::kind)
                .first(c)
                .optional()?)
        })
        .await?;
    let allowed = kind.as_deref().and_then(api_keys::key_role).is_some();
    let fields = fields();
    let data = json!({
        "title": "API keys",
        "user": who.layout(),
        "csrf": who.csrf,
        "breadcrumbs": [{"href": "/", "text": "Your cases"}],
        "errors": forms::summary(&fields, problems),
        "fields": forms::render_fields(&fields, sent, problems),
        "allowed": allowed,
        "keys": keys.iter().map(row).collect::<Vec<_>>(),
        "revoked": once
            .revoked
            .and_then(|id| keys.iter().find(|k| k.id == id && k.revoked_at.is_some()))
            .map(|k| k.name.clone()),
        "created": once.created.map(|(key, k)| json!({"key": key, "name": k.name, "acts_as": k.acts_as})),
        "token": once.token,
        "token_minutes": state.jwt.ttl_seconds / 60,
    });
    Ok(page(status, "api_keys", &data))
}

/// `GET /api-keys`.
pub async fn list(
    state: web::Data<AppState>,
    who: SignedIn,
    req: actix_web::HttpRequest,
) -> PageResult<HttpResponse> {
    let once = Once {
        revoked: register::query(&req).remove("revoked"),
        ..Once::default()
    };
    render(&state, &who, &Sent::new(), &[], once, StatusCode::OK).await
}

/// `POST /api-keys`.
pub async fn create(
    state: web::Data<AppState>,
    who: SignedIn,
    sent: web::Form<Sent>,
) -> PageResult<HttpResponse> {
    let sent = register::csrf_checked(&who, sent.into_inner())?;
    let fields = fields();
    let (body, own) = forms::body_of(&fields, &sent);
    let name = body
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let expires_on = body
        .get("expires_on")
        .and_then(Value::as_str)
        .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
    let wanted = NewApiKey {
        name,
        expires_on,
        organisation_id: None,
    };
    let mut own = own;
    let chars = wanted.name.trim().chars().count();
    if chars == 0 || chars > 80 {
        own.insert(
            0,
            Problem {
                field: Some("name".into()),
                text: if chars == 0 {
                    "Enter a name for the integration".into()
                } else {
                    "The name must be 80 characters or fewer".into()
                },
            },
        );
    }
    if !own.is_empty() {
        return render(
            &state,
            &who,
            &sent,
            &own,
            Once::default(),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    match api_keys::create(&state, who.caller.clone(), wanted).await {
        Ok(c) => {
            tracing::info!(key_id = %c.api_key.id, "api key created (web)");
            let once = Once {
                created: Some((c.key, c.api_key)),
                ..Once::default()
            };
            render(&state, &who, &Sent::new(), &[], once, StatusCode::CREATED).await
        }
        Err(e) => {
            let status = actix_web::ResponseError::status_code(&e);
            let problems = forms::problems_of(e, &fields, &[])?;
            render(&state, &who, &sent, &problems, Once::default(), status).await
        }
    }
}

/// `POST /api-keys/{id}/revoke`.
pub async fn revoke(
    state: web::Data<AppState>,
    who: SignedIn,
    id: web::Path<String>,
    form: web::Form<super::signin::TokenOnly>,
) -> PageResult<HttpResponse> {
    who.check_csrf(&form.csrf_token)?;
    let key = api_keys::revoke(&state, who.caller.clone(), id.into_inner()).await?;
    tracing::info!(key_id = %key.id, "api key revoked (web)");
    Ok(super::signin::see_other(&format!(
        "/api-keys?revoked={}",
        key.id
    )))
}

/// `GET /api-keys/{id}/revoke`: what revoking the key means, before it is done (it cannot be
/// undone, and the integration stops at once), with a red button that sends it.
pub async fn confirm_revoke(
    state: web::Data<AppState>,
    who: SignedIn,
    id: web::Path<String>,
) -> PageResult<HttpResponse> {
    let id = id.into_inner();
    let keys = api_keys::list(&state, &who.caller, None).await?;
    let key = keys
        .into_iter()
        .find(|k| k.id == id)
        .ok_or(super::PageError::NotFound)?;
    if key.revoked_at.is_some() {
        return Ok(super::signin::see_other("/api-keys"));
    }
    let heading = format!("Revoke the key “{}”", key.name);
    let mut p = forms::FormPage::new(
        &who,
        &heading,
        format!("/api-keys/{}/revoke", key.id),
        "Revoke the key",
    );
    p.warning = true;
    p.breadcrumbs =
        json!([{"href": "/", "text": "Your cases"}, {"href": "/api-keys", "text": "API keys"}]);
    p.back = (
        "/api-keys".into(),
        "Keep the key: back to the API keys".into(),
    );
    p.intro = vec![
        format!(
            "The software that uses it ({}) stops working at once: its next request is refused.",
            key.acts_as
        ),
        "This cannot be undone. To connect the software again, create a new key and give it \
         that one."
            .into(),
    ];
    Ok(forms::render_form(
        p,
        &[],
        &Sent::new(),
        &[],
        StatusCode::OK,
    ))
}

/// `POST /api-keys/token`.
pub async fn token(
    state: web::Data<AppState>,
    who: SignedIn,
    form: web::Form<super::signin::TokenOnly>,
) -> PageResult<HttpResponse> {
    who.check_csrf(&form.csrf_token)?;
    let c = &who.caller;
    let roles: Vec<String> = c.roles.iter().map(|r| r.as_str().to_string()).collect();
    let now = state.clock.now();
    let token = state
        .jwt
        .issue(&c.user_id, &c.org_id, &roles, now.timestamp())
        .map_err(super::PageError::Internal)?;
    tracing::info!(user_id = %c.user_id, "personal API token issued (web)");
    let until = now + chrono::Duration::seconds(state.jwt.ttl_seconds);
    let shown = json!({"token": token,
        "until": super::case::timestamp(&until.naive_utc())});
    let once = Once {
        token: Some(shown),
        ..Once::default()
    };
    render(&state, &who, &Sent::new(), &[], once, StatusCode::OK).await
}
