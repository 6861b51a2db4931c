//! `/sign-in` and `/sign-out`. The password check and its throttling are the API's own
//! (`api::auth::check_password`, as `POST /api/v1/auth/login`); a refusal says only that the
//! e-mail address or password is wrong.

use super::session::{self, SignedIn};
use super::{page, PageError, PageResult};
use crate::api::error::ApiError;
use crate::app::AppState;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SignInForm {
    pub email: String,
    pub password: String,
    pub csrf_token: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TokenOnly {
    pub csrf_token: String,
}

/// The sign-in page with a fresh form token (set in its cookie too), the e-mail kept and the
/// errors shown.
fn render(
    state: &AppState,
    status: StatusCode,
    email: &str,
    errors: Vec<Value>,
    ended: bool,
) -> HttpResponse {
    let token = crate::service::tokens::random();
    let field = |f: &str| {
        errors
            .iter()
            .find(|e| e["field"] == f)
            .map(|e| e["text"].clone())
            .unwrap_or(Value::Null)
    };
    let data = json!({
        "title": "Sign in",
        "csrf": token,
        "email": email,
        "password_login": state.cfg.password_login,
        "oidc_label": state.oidc.as_ref().map(|o| o.cfg.label.clone()),
        "email_error": field("email"),
        "password_error": field("password"),
        "errors": errors,
        "ended": ended,
        "idle_minutes": session::IDLE_MINUTES,
        "lifetime_hours": session::LIFETIME_HOURS,
    });
    let mut res = page(status, "sign_in", &data);
    let _ = res.add_cookie(&session::cookie(
        state,
        session::signin_cookie(state),
        token,
    ));
    res
}

fn error(field: &str, text: &str) -> Value {
    json!({"field": field, "href": format!("#{field}"), "text": text})
}

/// What the sign-in page's address may carry: the page to go back to once signed in, and
/// whether a session had ended.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Asked {
    next: Option<String>,
    ended: Option<String>,
}

/// The sign-in page's address for someone who asked for `back_to` (a page of this site),
/// saying that their session had `ended` when it had.
pub fn address(back_to: Option<&str>, ended: bool) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    if let Some(b) = back_to.and_then(local_path).filter(|b| *b != "/") {
        q.append_pair("next", b);
    }
    if ended {
        q.append_pair("ended", "1");
    }
    match q.finish() {
        q if q.is_empty() => "/sign-in".into(),
        q => format!("/sign-in?{q}"),
    }
}

/// `p` if it is a page of this site to go back to after sign-in: a path (`/…`, not `//…`,
/// which a browser reads as another host), printable ASCII only, not the sign-in or sign-out
/// pages themselves.
pub fn local_path(p: &str) -> Option<&str> {
    let ok = p.starts_with('/')
        && !p.starts_with("//")
        && p.len() <= 2000
        && p.bytes().all(|b| b.is_ascii_graphic() && b != b'\\')
        && !p.starts_with("/sign-in")
        && !p.starts_with("/sign-out");
    ok.then_some(p)
}

/// Where to go once signed in: the page kept in the return cookie (form-encoded), or the home
/// page.
pub fn return_to(state: &AppState, req: &HttpRequest) -> String {
    req.cookie(session::return_cookie(state))
        .and_then(|c| {
            let kept: String = url::form_urlencoded::parse(format!("p={}", c.value()).as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())?;
            local_path(&kept).map(str::to_string)
        })
        .unwrap_or_else(|| "/".into())
}

/// `GET /sign-in`; someone already signed in goes on to the page they asked for (or their
/// home page). The page asked for is kept in a cookie of its own for 20 minutes, sent on the
/// identity provider's way back too (`SameSite=Lax`), so both ways of signing in return there.
pub async fn form(state: web::Data<AppState>, req: HttpRequest) -> PageResult<HttpResponse> {
    let asked = web::Query::<Asked>::from_query(req.query_string())
        .map(|q| q.into_inner())
        .unwrap_or_default();
    let next = asked
        .next
        .as_deref()
        .and_then(local_path)
        .map(str::to_string);
    if let Some(c) = req.cookie(session::session_cookie(&state)) {
        if session::lookup(&state, c.value()).await?.is_some() {
            return Ok(see_other(next.as_deref().unwrap_or("/")));
        }
    }
    let ended = asked.ended.is_some_and(|e| e == "1");
    let mut res = render(&state, StatusCode::OK, "", Vec::new(), ended);
    let kept = match next {
        Some(n) => {
            // Form-encoded: a path may hold characters a cookie's value may not (`;`, `,`).
            let value = url::form_urlencoded::byte_serialize(n.as_bytes()).collect();
            let mut c = session::cookie(&state, session::return_cookie(&state), value);
            c.set_same_site(actix_web::cookie::SameSite::Lax);
            c.set_max_age(actix_web::cookie::time::Duration::minutes(20));
            c
        }
        None => session::removal(&state, session::return_cookie(&state)),
    };
    let _ = res.add_cookie(&kept);
    Ok(res)
}

/// `POST /sign-in`.
pub async fn submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<SignInForm>,
) -> PageResult<HttpResponse> {
    let form = form.into_inner();
    if !form_token_ok(&state, &req, &form.csrf_token) {
        return Err(PageError::Csrf);
    }
    if !state.cfg.password_login {
        let title = "Sign in with a password is turned off";
        let how = match &state.oidc {
            Some(o) => format!(
                "This service does not take passwords. Go back to the sign-in page and choose \
                 \"{}\".",
                o.cfg.label
            ),
            None => "This service does not take passwords.".into(),
        };
        return Ok(page(
            StatusCode::FORBIDDEN,
            "error",
            &json!({"title": title, "heading": title, "paragraphs": [how,
                "Nothing was sent to anyone: the password you typed was not checked or kept."]}),
        ));
    }
    let email = form.email.trim().to_string();
    let mut errors = Vec::new();
    if email.is_empty() {
        errors.push(error("email", "Enter your email address"));
    }
    if form.password.is_empty() {
        errors.push(error("password", "Enter your password"));
    }
    if !errors.is_empty() {
        return Ok(render(
            &state,
            StatusCode::UNPROCESSABLE_ENTITY,
            &email,
            errors,
            false,
        ));
    }
    let user = match crate::api::auth::check_password(&state, &req, &email, form.password).await {
        Ok(u) => u,
        Err(ApiError::Unauthorized(_)) => {
            let wrong = "Email address or password is wrong";
            // Beside the e-mail field, without saying which of the two is wrong.
            let errors = vec![error("email", wrong)];
            return Ok(render(
                &state,
                StatusCode::UNAUTHORIZED,
                &email,
                errors,
                false,
            ));
        }
        Err(e) => return Err(e.into()),
    };
    tracing::info!(user_id = %user.user_id, "signed in (web)");
    let back = return_to(&state, &req);
    with_session(&state, user.user_id, see_other(&back)).await
}

/// Whether `token` is the sign-in form's token (the one in its own cookie).
pub fn form_token_ok(state: &AppState, req: &HttpRequest, token: &str) -> bool {
    let cookie = req
        .cookie(session::signin_cookie(state))
        .map(|c| c.value().to_string())
        .unwrap_or_default();
    crate::service::tokens::same(&cookie, token)
}

/// `res` with a new session for `user_id` in its cookie (and the sign-in form's cookie gone):
/// the end of every way of signing in.
pub async fn with_session(
    state: &AppState,
    user_id: String,
    mut res: HttpResponse,
) -> PageResult<HttpResponse> {
    let id = session::start(state, user_id).await?;
    let _ = res.add_cookie(&session::cookie(state, session::session_cookie(state), id));
    let _ = res.add_cookie(&session::removal(state, session::signin_cookie(state)));
    let _ = res.add_cookie(&session::removal(state, session::return_cookie(state)));
    Ok(res)
}

/// `POST /sign-out`: ends the session (with the form's token) and goes to the sign-in page.
pub async fn sign_out(
    state: web::Data<AppState>,
    who: SignedIn,
    form: web::Form<TokenOnly>,
) -> PageResult<HttpResponse> {
    who.check_csrf(&form.csrf_token)?;
    session::end(&state, who.id_hash.clone()).await?;
    tracing::info!(user_id = %who.caller.user_id, "signed out (web)");
    // With a provider that offers its own sign-out, a page says so; otherwise, the sign-in page.
    let mut res = match (super::oidc::end_session_url(&state).await, &state.oidc) {
        (Some(url), Some(o)) => page(
            StatusCode::OK,
            "signed_out",
            &json!({"title": "You have signed out", "label": o.cfg.label, "end_session": url}),
        ),
        _ => see_other("/sign-in"),
    };
    let _ = res.add_cookie(&session::removal(&state, session::session_cookie(&state)));
    Ok(res)
}

pub fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to))
        .finish()
}
