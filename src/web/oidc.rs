//! Signing in with the OpenID provider (`LDR_OIDC_*`; the flow and its checks are
//! `service::oidc`'s):
//!
//! - `GET /sign-in/oidc` (the sign-in page's button, a link: a form's redirect to another site
//!   would be blocked by the pages' CSP `form-action 'self'`): keeps a new sign-in and sends
//!   the browser to the provider, with a cookie of its own (`SameSite=Lax`, so that it comes
//!   back with the provider's redirect; ten minutes) tying the sign-in to this browser. No form
//!   token: starting a sign-in changes nothing, and the cookie keeps a sign-in someone else
//!   started from being finished in this browser.
//! - `GET /sign-in/oidc/callback?code&state` (the provider sends the browser back): takes the
//!   sign-in of `state` (once), checks the code's ID token, finds the user, and starts the same
//!   page session as a password sign-in. The answer is a page that moves on to the home page
//!   by itself (`<meta http-equiv="refresh">`, no script): a redirect would arrive as part of
//!   the provider's cross-site navigation, without the `SameSite=Strict` session cookie.
//!
//! Every refusal is a page saying what happened and what to do; none signs anyone in.

use super::signin;
use super::{page, PageError, PageResult};
use crate::app::AppState;
use crate::service::oidc::{self, Matched, Pending, Refusal};
use actix_web::cookie::{time::Duration as CookieDuration, Cookie, SameSite};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

/// The cookie that ties a sign-in under way to the browser that started it.
fn browser_cookie(state: &AppState) -> &'static str {
    if state.cfg.insecure_cookies {
        "ldr_oidc"
    } else {
        "__Host-ldr_oidc"
    }
}

fn lax_cookie(state: &AppState, value: String, max_age: CookieDuration) -> Cookie<'static> {
    let mut c = Cookie::build(browser_cookie(state), value)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(!state.cfg.insecure_cookies)
        .finish();
    c.set_max_age(max_age);
    c
}

fn provider(state: &AppState) -> PageResult<Arc<oidc::Provider>> {
    state.oidc.clone().ok_or(PageError::NotFound)
}

/// A page of the layout with a heading and paragraphs (and the home page link).
fn notice(status: StatusCode, title: &str, paragraphs: Vec<String>) -> HttpResponse {
    page(
        status,
        "error",
        &json!({"title": title, "heading": title, "paragraphs": paragraphs}),
    )
}

fn unavailable(p: &oidc::Provider, why: &str) -> HttpResponse {
    tracing::warn!(error = %why, "OpenID sign-in: provider unavailable");
    notice(
        StatusCode::SERVICE_UNAVAILABLE,
        "Sign-in is not available at the moment",
        vec![
            format!(
                "The service could not reach your identity provider for \"{}\". Try again in a \
                 few minutes.",
                p.cfg.label
            ),
            "If it keeps happening, tell your organisation's admin for this service.".into(),
        ],
    )
}

/// `GET /sign-in/oidc`.
pub async fn start(state: web::Data<AppState>) -> PageResult<HttpResponse> {
    let p = provider(&state)?;
    let begun = {
        let p = p.clone();
        web::block(move || p.begin()).await?
    };
    let begun = match begun {
        Ok(b) => b,
        Err(e) => return Ok(unavailable(&p, &e.to_string())),
    };
    let browser = crate::service::tokens::random();
    let (b, kept) = (begun.clone(), browser.clone());
    state
        .db(move |c| Ok(oidc::store_login(c, &b, &kept)?))
        .await?;
    let mut res = signin::see_other(&begun.url);
    let _ = res.add_cookie(&lax_cookie(
        &state,
        browser,
        CookieDuration::minutes(oidc::LOGIN_MINUTES),
    ));
    Ok(res)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Callback {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

/// `GET /sign-in/oidc/callback`. The query is read here, after the provider check (without
/// one the page is 404): an answer that does not read (a field given twice) is refused as a
/// page, like any other sign-in that cannot be completed.
pub async fn callback(state: web::Data<AppState>, req: HttpRequest) -> PageResult<HttpResponse> {
    let p = provider(&state)?;
    let Ok(q) = web::Query::<Callback>::from_query(req.query_string()) else {
        return Ok(refused(&p, Refusal::Stale("the answer could not be read")));
    };
    let q = q.into_inner();
    let browser = req
        .cookie(browser_cookie(&state))
        .map(|c| c.value().to_string());
    let back = signin::return_to(&state, &req);
    let mut res = answer(&state, &p, q, browser, back).await?;
    let _ = res.add_cookie(&lax_cookie(&state, String::new(), CookieDuration::ZERO));
    Ok(res)
}

async fn answer(
    state: &web::Data<AppState>,
    p: &Arc<oidc::Provider>,
    q: Callback,
    browser: Option<String>,
    back: String,
) -> PageResult<HttpResponse> {
    let Some(sent_state) = q.state.clone() else {
        return Ok(refused(p, Refusal::Stale("no state in the answer")));
    };
    let pending: Result<Pending, Refusal> = state
        .db(move |c| Ok(oidc::take_login(c, &sent_state, browser.as_deref())?))
        .await?;
    let pending = match pending {
        Ok(x) => x,
        Err(r) => return Ok(refused(p, r)),
    };
    if let Some(e) = q.error {
        let what = q
            .error_description
            .map(|d| format!("{e}: {d}"))
            .unwrap_or(e);
        return Ok(refused(p, Refusal::Provider(what)));
    }
    let Some(code) = q.code else {
        return Ok(refused(
            p,
            Refusal::Provider("no code in the answer".into()),
        ));
    };
    let identity = {
        let p = p.clone();
        web::block(move || p.finish(&code, &pending)).await?
    };
    let identity = match identity {
        Ok(i) => i,
        Err(r) => return Ok(refused(p, r)),
    };
    let issuer = p.cfg.issuer.clone();
    let who = identity.clone();
    let matched = state
        .db(move |c| Ok(oidc::match_user(c, &issuer, &who)?))
        .await?;
    let user_id = match matched {
        Matched::User(u) => u,
        other => {
            tracing::info!(subject = %identity.subject, outcome = ?other, "OpenID sign-in: no user");
            return Ok(ask_your_admin(p, other, identity.email.as_deref()));
        }
    };
    tracing::info!(%user_id, "signed in (web, OpenID)");
    let title = "You are signed in";
    let res = page(
        StatusCode::OK,
        "error",
        &json!({"title": title, "heading": title, "refresh": back, "paragraphs": [format!(
            "You signed in with \"{}\". {} in a moment.",
            p.cfg.label,
            if back == "/" { "Your cases open" } else { "The page you asked for opens" }
        )]}),
    );
    signin::with_session(state, user_id, res).await
}

/// The page of a refused sign-in.
fn refused(p: &oidc::Provider, r: Refusal) -> HttpResponse {
    tracing::info!(reason = %r, "OpenID sign-in refused");
    let again = "Go back to the sign-in page and start again.".to_string();
    match r {
        Refusal::Unavailable(why) => unavailable(p, &why),
        Refusal::Stale(_) => notice(
            StatusCode::BAD_REQUEST,
            "Your sign-in has expired or was already used",
            vec![
                "A sign-in works once, within 10 minutes, in the browser it was started in. \
                 You have not been signed in."
                    .into(),
                again,
            ],
        ),
        Refusal::Provider(_) => notice(
            StatusCode::BAD_REQUEST,
            "You were not signed in",
            vec![
                format!(
                    "The identity provider for \"{}\" did not sign you in, or the sign-in was \
                     cancelled.",
                    p.cfg.label
                ),
                again,
            ],
        ),
        Refusal::Token(_) => notice(
            StatusCode::BAD_REQUEST,
            "Your sign-in could not be checked",
            vec![
                "The answer from your identity provider did not pass this service's checks, so \
                 you have not been signed in. Nothing was changed."
                    .into(),
                again,
                "If it happens again, tell your organisation's admin for this service.".into(),
            ],
        ),
    }
}

/// The page for a person the provider knows but the service does not let in.
fn ask_your_admin(p: &oidc::Provider, why: Matched, email: Option<&str>) -> HttpResponse {
    let ask = "Ask your organisation's admin for this service (the person who manages your \
               practice's, ICB's or LMC's access to local dispute resolution) to add you, or to \
               link your account, with the email address you sign in with. Then sign in again."
        .to_string();
    let first = match (why, email) {
        (Matched::Deactivated, _) => {
            "Your account in this service has been closed, so you cannot sign in.".to_string()
        }
        (Matched::LinkedElsewhere, Some(e)) => format!(
            "The account for {e} in this service is already linked to another sign-in at \"{}\".",
            p.cfg.label
        ),
        (_, Some(e)) => format!(
            "You signed in as {e}, but this service has no account for you with that email \
             address (or your identity provider has not confirmed it)."
        ),
        (_, None) => "Your identity provider did not give a confirmed email address, and your \
                      sign-in is not yet linked to an account in this service."
            .to_string(),
    };
    notice(
        StatusCode::FORBIDDEN,
        "You do not have an account in this service yet",
        vec![first, ask],
    )
}

/// After signing out: the provider's own sign-out, when it has one to offer.
pub async fn end_session_url(state: &AppState) -> Option<String> {
    let p = state.oidc.clone()?;
    let back = format!("{}/sign-in", state.cfg.public_url);
    web::block(move || p.end_session_url(&back)).await.ok()?
}
