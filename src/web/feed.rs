//! The personal calendar feed of hearings: `/calendar-feed` (a panelist's or panel
//! secretary's page to create, replace or stop it) and `/calendar/{token}.ics` (the feed,
//! without a session, for Outlook and Google Calendar to subscribe to). The token is shown
//! once, when it is created; `service::hearings` keeps only its hash.

use super::register;
use super::session::SignedIn;
use super::{page, PageError, PageResult};
use crate::api::error::ApiError;
use crate::app::AppState;
use crate::service::hearings;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use serde_json::json;

fn allowed(who: &SignedIn) -> PageResult<()> {
    if hearings::may_have_feed(&who.caller.roles) {
        Ok(())
    } else {
        Err(PageError::NotFound)
    }
}

/// The feed's address for `token`.
pub fn feed_url(state: &AppState, token: &str) -> String {
    format!(
        "{}/calendar/{token}.ics",
        state.cfg.public_url.trim_end_matches('/')
    )
}

async fn feed_page(
    state: &AppState,
    who: &SignedIn,
    new_url: Option<String>,
    banner: Option<&str>,
) -> PageResult<HttpResponse> {
    let me = who.caller.user_id.clone();
    let feed = state.db(move |c| Ok(hearings::feed_of(c, &me)?)).await?;
    let data = json!({
        "title": "Your calendar feed of hearings",
        "user": who.layout(),
        "csrf": who.csrf,
        "breadcrumbs": [{"href": "/", "text": "Your cases"}],
        "banner": banner,
        "new_url": new_url,
        "feed": feed.map(|f| json!({
            "created": super::case::timestamp(&f.created_at),
            "used": f.last_used_at.as_ref().map(super::case::timestamp),
        })),
    });
    let mut res = page(StatusCode::OK, "calendar_feed", &data);
    // The page that shows a new address once is never kept by a browser or a proxy.
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    Ok(res)
}

/// `GET /calendar-feed`.
pub async fn page_handler(
    state: web::Data<AppState>,
    who: SignedIn,
    req: HttpRequest,
) -> PageResult<HttpResponse> {
    allowed(&who)?;
    let banner = match register::done(&req).as_deref() {
        Some("revoked") => Some("Your calendar feed is stopped: its address no longer works."),
        _ => None,
    };
    feed_page(&state, &who, None, banner).await
}

/// `POST /calendar-feed`: a new feed (the one before stops working); its address is shown
/// on the page this answers with, and never again.
pub async fn create(
    state: web::Data<AppState>,
    who: SignedIn,
    form: web::Form<Vec<(String, String)>>,
) -> PageResult<HttpResponse> {
    register::checked(&who, form.into_inner())?;
    allowed(&who)?;
    let (me, roles) = (who.caller.user_id.clone(), who.caller.roles.clone());
    let token = state
        .db(move |c| Ok(hearings::create_feed(c, &me, &roles)?))
        .await?;
    tracing::info!(user_id = %who.caller.user_id, "calendar feed created");
    feed_page(&state, &who, Some(feed_url(&state, &token)), None).await
}

/// `POST /calendar-feed/revoke`: the feed's address stops working at once.
pub async fn revoke(
    state: web::Data<AppState>,
    who: SignedIn,
    form: web::Form<Vec<(String, String)>>,
) -> PageResult<HttpResponse> {
    register::checked(&who, form.into_inner())?;
    allowed(&who)?;
    let me = who.caller.user_id.clone();
    state
        .db(move |c| Ok(hearings::revoke_feed(c, &me)?))
        .await?;
    tracing::info!(user_id = %who.caller.user_id, "calendar feed revoked");
    Ok(super::signin::see_other("/calendar-feed?done=revoked"))
}

/// `GET /calendar/{token}.ics`: the feed, `text/calendar`; 404 for a token that is unknown or
/// revoked.
pub async fn feed(state: web::Data<AppState>, token: web::Path<String>) -> HttpResponse {
    let token = token.into_inner();
    match state.db(move |c| Ok(hearings::feed_text(c, &token)?)).await {
        Ok(Some(ics)) => HttpResponse::Ok()
            .content_type("text/calendar; charset=utf-8")
            .insert_header((header::CACHE_CONTROL, "private, max-age=300"))
            .insert_header((
                header::CONTENT_DISPOSITION,
                "inline; filename=\"hearings.ics\"",
            ))
            .body(ics),
        Ok(None) => ApiError::NotFound.error_response(),
        Err(e) => e.error_response(),
    }
}
