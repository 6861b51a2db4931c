//! The web pages (SPEC "Web pages"): server-rendered HTML in the NHS.UK design system for the
//! people who run the procedure, at `/` beside the API (`/api/v1`). Thin handlers: each reads
//! through the same code as the API (`api::visibility`, `db::disputes`, `api::disputes`'s
//! shared functions), turns it into a template's data, and renders it.
//!
//! - [`assets`]: the design system's files, embedded and served at content-hashed URLs;
//! - [`templates`]: the handlebars templates of `page_templates/` (strict mode);
//! - [`session`]: sign-in sessions (a random id in a cookie, its hash in `sessions`), the
//!   [`session::SignedIn`] extractor and the forms' CSRF tokens;
//! - [`signin`], [`home`], [`case`]: the pages; [`words`]: every state, event, action and
//!   deadline in the words people use, in one place;
//! - [`actions`]: the case's action forms, the upload form and the referral pack's download;
//!   [`filing`]: filing a dispute; [`forms`]: what every form shares (fields, the date input,
//!   refusals as the error summary);
//! - [`workbench`]: the panel secretary's deadlines and the accountable officer's disputes to
//!   screen (each their `/`); [`panel`]: the panel's forms and the hearing calendar.
//!
//! An action form (take a case, add a note, …) is a `POST` handler that takes
//! [`session::SignedIn`] and the form, checks the form's token with
//! [`session::SignedIn::check_csrf`], turns the fields into the event the API takes and calls
//! the one service function `POST /api/v1/disputes/{id}/events` calls; a refusal renders the
//! same page with the error summary, success redirects (`303`) to the case page.

pub mod actions;
pub mod admin;
pub mod api_keys;
pub mod assets;
pub mod case;
pub mod choose;
pub mod feed;
pub mod filing;
pub mod forms;
pub mod home;
pub mod list;
pub mod oidc;
pub mod panel;
pub mod panelist;
pub mod register;
pub mod report;
pub mod session;
pub mod signin;
pub mod templates;
pub mod words;
pub mod workbench;

use crate::api::directory::{NewInterest, NewUnavailability};
use crate::api::error::ApiError;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse, ResponseError};
use serde_json::json;

/// The largest form a page accepts (`FormConfig`), checked first by [`reject_nul_in_forms`]:
/// room for the longest text the API takes (50,000 characters of grounds or a statement) even
/// when every character is one that form encoding writes in nine bytes (`%E2%80%99`).
pub const FORM_LIMIT: usize = 512 * 1024;

/// Mounts the pages. `server.rs` mounts them before the API, and [`fallback`] as the default.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.app_data(
        web::FormConfig::default()
            .limit(FORM_LIMIT)
            .error_handler(|e, _| {
                tracing::info!(error = %e, "unreadable form");
                PageError::BadRequest("The form could not be read. Go back and try again.".into())
                    .into()
            }),
    )
    .service(web::resource("/").route(web::get().to(home::home)))
    .service(web::resource("/accessibility").route(web::get().to(accessibility)))
    .service(
        web::resource("/sign-in")
            .route(web::get().to(signin::form))
            .route(web::post().to(signin::submit)),
    )
    .service(web::resource("/sign-out").route(web::post().to(signin::sign_out)))
    .service(
        web::resource("/api-keys")
            .route(web::get().to(api_keys::list))
            .route(web::post().to(api_keys::create)),
    )
    .service(web::resource("/api-keys/token").route(web::post().to(api_keys::token)))
    .service(
        web::resource("/api-keys/{id}/revoke")
            .route(web::get().to(api_keys::confirm_revoke))
            .route(web::post().to(api_keys::revoke)),
    )
    .service(web::resource("/sign-in/oidc").route(web::get().to(oidc::start)))
    .service(web::resource(crate::config::OIDC_CALLBACK).route(web::get().to(oidc::callback)))
    .service(
        web::resource("/disputes/new")
            .route(web::get().to(filing::form))
            .route(web::post().to(filing::submit)),
    )
    .service(web::resource("/disputes/{id}").route(web::get().to(case::page_handler)))
    .service(
        web::resource("/disputes/{id}/actions/{event}")
            .route(web::get().to(actions::form))
            .route(web::post().to(actions::submit)),
    )
    .service(
        web::resource("/disputes/{id}/documents/new").route(web::get().to(actions::upload_page)),
    )
    .service(web::resource("/disputes/{id}/documents").route(web::post().to(actions::upload)))
    .service(
        web::resource("/disputes/{id}/referral-pack").route(web::get().to(actions::referral_pack)),
    )
    .service(web::resource("/documents/{id}").route(web::get().to(case::download)))
    .configure(directory_routes)
    .service(web::resource("/deadlines").route(web::get().to(workbench::deadlines_page)))
    .service(web::resource("/screening").route(web::get().to(workbench::screening_page)))
    .service(web::resource("/disputes/{id}/hearing-calendar").route(web::get().to(panel::calendar)))
    .service(
        web::resource("/assets/{name:.+}")
            .route(web::get().to(assets::serve))
            .route(web::head().to(assets::serve)),
    );
}

/// The pages of issue #33's items 5, 6, 8 and 9: the timeliness report, the calendar feed, the
/// panelist's pages and the admin's.
fn directory_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/reports/timeliness").route(web::get().to(report::page_handler)))
        .service(web::resource("/reports/timeliness.csv").route(web::get().to(report::csv)))
        .service(
            web::resource("/calendar-feed")
                .route(web::get().to(feed::page_handler))
                .route(web::post().to(feed::create)),
        )
        .service(web::resource("/calendar-feed/revoke").route(web::post().to(feed::revoke)))
        .service(web::resource("/calendar/{token}.ics").route(web::get().to(feed::feed)))
        .service(web::resource("/my/hearings").route(web::get().to(panelist::my_hearings)))
        .service(
            web::resource("/my/unavailability")
                .route(web::get().to(panelist::list::<NewUnavailability>))
                .route(web::post().to(panelist::add::<NewUnavailability>)),
        )
        .service(
            web::resource("/my/interests")
                .route(web::get().to(panelist::list::<NewInterest>))
                .route(web::post().to(panelist::add::<NewInterest>)),
        )
        .service(web::resource("/my/{list}/{entry}/remove").route(web::post().to(panelist::remove)))
        .service(web::resource("/admin/organisations").route(web::get().to(admin::organisations)))
        .service(
            web::resource("/admin/organisations/new")
                .route(web::get().to(admin::new_organisation))
                .route(web::post().to(admin::create_organisation)),
        )
        .service(
            web::resource("/admin/organisations/{id}")
                .route(web::get().to(admin::edit_organisation))
                .route(web::post().to(admin::change_organisation)),
        )
        .service(web::resource("/admin/users").route(web::get().to(admin::users)))
        .service(
            web::resource("/admin/users/new")
                .route(web::get().to(admin::new_user))
                .route(web::post().to(admin::create_user)),
        )
        .service(web::resource("/admin/users/{id}").route(web::get().to(admin::user)))
        .service(
            web::resource("/admin/users/{id}/deactivate")
                .route(web::get().to(admin::confirm_deactivate))
                .route(web::post().to(admin::deactivate)),
        )
        .service(
            web::resource("/admin/users/{id}/reactivate").route(web::post().to(admin::reactivate)),
        )
        .service(
            web::resource("/admin/users/{id}/interests").route(web::post().to(admin::add_interest)),
        )
        .service(
            web::resource("/admin/users/{id}/interests/{entry}/remove")
                .route(web::post().to(admin::remove_interest)),
        )
        .service(web::resource("/admin/interests").route(web::get().to(admin::interests)));
}

/// The default service: the 404 page for a browser's request outside the API, problem+json
/// for everything else (API clients, `/api/…`, `/docs/…`).
pub async fn fallback(req: HttpRequest) -> HttpResponse {
    let path = req.path();
    let api = path.starts_with("/api/") || path.starts_with("/docs") || path == "/healthz";
    let wants_html = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    if api || !wants_html {
        return ApiError::NotFound.error_response();
    }
    PageError::NotFound.error_response()
}

/// Why a page cannot be shown; each is answered with a page in the layout (or, for
/// [`PageError::SignIn`], a redirect to the sign-in page).
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    /// Not signed in, or the session has ended: a redirect to the sign-in page, which comes
    /// back to `back_to` (a page of this site) once signed in, and says so when a session had
    /// `ended` (30 minutes idle, or 12 hours old).
    #[error("not signed in")]
    SignIn {
        back_to: Option<String>,
        ended: bool,
    },
    #[error("not found")]
    NotFound,
    /// A form without its session's CSRF token.
    #[error("form token missing or wrong")]
    Csrf,
    #[error("{0}")]
    BadRequest(String),
    #[error("too many requests")]
    TooMany { retry_after_secs: u64 },
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<ApiError> for PageError {
    fn from(e: ApiError) -> PageError {
        match e {
            ApiError::NotFound => PageError::NotFound,
            ApiError::Unauthorized(_) => PageError::SignIn {
                back_to: None,
                ended: false,
            },
            ApiError::TooManyRequests {
                retry_after_secs, ..
            } => PageError::TooMany { retry_after_secs },
            ApiError::Internal(m) => PageError::Internal(m),
            ApiError::Unavailable(m) => PageError::Internal(format!("unavailable: {m}")),
            other => PageError::BadRequest(other.to_string()),
        }
    }
}

impl From<diesel::result::Error> for PageError {
    fn from(e: diesel::result::Error) -> PageError {
        ApiError::from(e).into()
    }
}

impl From<actix_web::error::BlockingError> for PageError {
    fn from(e: actix_web::error::BlockingError) -> PageError {
        PageError::Internal(e.to_string())
    }
}

pub type PageResult<T> = Result<T, PageError>;

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        match self {
            PageError::SignIn { .. } => StatusCode::SEE_OTHER,
            PageError::NotFound => StatusCode::NOT_FOUND,
            PageError::Csrf => StatusCode::FORBIDDEN,
            PageError::BadRequest(_) => StatusCode::BAD_REQUEST,
            PageError::TooMany { .. } => StatusCode::TOO_MANY_REQUESTS,
            PageError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        self.page_for(None)
    }
}

impl PageError {
    /// The error's page, with the person's name and sign-out form in the header when they are
    /// signed in (a redirect to the sign-in page for [`PageError::SignIn`]).
    pub fn page_for(&self, who: Option<&session::SignedIn>) -> HttpResponse {
        let (title, paragraphs): (&str, Vec<String>) = match self {
            PageError::SignIn { back_to, ended } => {
                return HttpResponse::SeeOther()
                    .insert_header((
                        header::LOCATION,
                        signin::address(back_to.as_deref(), *ended),
                    ))
                    .finish()
            }
            PageError::NotFound => (
                "Page not found",
                vec![
                    "If you typed the web address, check it is correct.".into(),
                    "If you pasted the web address, check you copied the entire address.".into(),
                    "A case you are not involved in is not shown to you: ask the person who sent \
                     you the link to check you should see it."
                        .into(),
                ],
            ),
            PageError::Csrf => (
                "Your form could not be sent",
                vec![
                    "The form did not carry this session's security token, so nothing was \
                     changed. This happens when a page was open before you signed in again, or \
                     the form came from another website."
                        .into(),
                    "Go back, reload the page, and try again.".into(),
                ],
            ),
            PageError::BadRequest(m) => ("There is a problem with your request", vec![m.clone()]),
            PageError::TooMany { retry_after_secs } => (
                "Too many requests",
                vec![format!(
                    "You have tried this too many times. Wait {retry_after_secs} seconds, then try \
                     again."
                )],
            ),
            PageError::Internal(m) => {
                tracing::error!(error = %m, "page failed");
                (
                    "Sorry, there is a problem with the service",
                    vec![
                        "Try again later. Nothing you sent has been lost or half done.".into(),
                        "The problem has been logged.".into(),
                    ],
                )
            }
        };
        let mut data = json!({"title": title, "heading": title, "paragraphs": paragraphs});
        if let Some(who) = who {
            data["user"] = who.layout();
            data["csrf"] = json!(who.csrf);
        }
        let mut res = page(self.status_code(), "error", &data);
        if let PageError::TooMany { retry_after_secs } = self {
            if let Ok(v) = header::HeaderValue::from_str(&retry_after_secs.to_string()) {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        res
    }
}

/// Puts the person's name and sign-out form in the header of their error pages. A page handler
/// answers `Err(PageError)`, which actix draws without knowing who asked
/// ([`PageError::error_response`]); when the request's session named someone
/// ([`session::SignedIn`] keeps itself in the request's extensions), this draws it again for
/// them. Wraps the whole app; other answers pass through untouched.
pub async fn error_pages(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let res = next.call(req).await?;
    let page = res
        .response()
        .error()
        .and_then(|e| e.as_error::<PageError>())
        .and_then(|e| {
            let ext = res.request().extensions();
            ext.get::<session::SignedIn>()
                .map(|who| e.page_for(Some(who)))
        });
    Ok(match page {
        Some(page) => res.into_response(page).map_into_right_body(),
        None => res.map_into_left_body(),
    })
}

/// Refuses, before any page handler runs, a page's form or query that holds a NUL character
/// (U+0000): no field has a use for one, and PostgreSQL's text cannot hold it (the handler's
/// lookup or write would fail as an internal error). Also refuses a form over [`FORM_LIMIT`],
/// saying so (actix's own refusal cannot tell a long form from a malformed one). The API's
/// requests are checked by `api::middleware::reject_nul`; uploads (multipart) are files.
pub async fn reject_nul_in_forms(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    use crate::api::middleware::{query_has_nul, read_body};
    let path = req.path();
    let page = !(path.starts_with("/api/") || path.starts_with("/docs"));
    if page {
        let nul = || {
            PageError::BadRequest(
                "What you sent contains a NUL character (U+0000), which cannot be stored. It \
                 can come with text pasted from another program: remove it and send the form \
                 again."
                    .into(),
            )
        };
        if query_has_nul(req.query_string()) {
            return Err(nul().into());
        }
        let form = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.to_ascii_lowercase()
                    .starts_with("application/x-www-form-urlencoded")
            });
        if form {
            let Some(body) = read_body(req.take_payload(), FORM_LIMIT).await? else {
                return Err(PageError::BadRequest(format!(
                    "The form is too long to send (more than {} KB). Shorten the longest text, \
                     or add it as a document, and send the form again.",
                    FORM_LIMIT / 1024
                ))
                .into());
            };
            if body.contains(&0) || memchr::memmem::find(&body, b"%00").is_some() {
                return Err(nul().into());
            }
            req.set_payload(actix_web::dev::Payload::from(body.freeze()));
        }
    }
    next.call(req).await
}

/// Page `name` rendered with `data`, answered with `status`; a template that fails to render
/// is logged and answered with a plain 500 (it never can in a build that passed its tests).
/// `GET /accessibility`: the accessibility statement (the 2018 accessibility regulations), for
/// everyone, signed in or not (the header as the reader's).
pub async fn accessibility(who: Option<session::SignedIn>) -> HttpResponse {
    let mut data = json!({
        "title": "Accessibility statement",
        "idle_minutes": session::IDLE_MINUTES,
    });
    if let Some(who) = who {
        data["user"] = who.layout();
        data["csrf"] = json!(who.csrf);
    }
    page(StatusCode::OK, "accessibility", &data)
}

pub fn page<T: serde::Serialize>(status: StatusCode, name: &str, data: &T) -> HttpResponse {
    match templates::templates().render(name, data) {
        Ok(html) => HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .body(html),
        Err(e) => {
            tracing::error!(error = %e, "page template failed");
            HttpResponse::InternalServerError()
                .content_type("text/html; charset=utf-8")
                .body(
                    "<!DOCTYPE html><html lang=\"en\"><head><title>Sorry, there is a problem \
                     with the service</title></head><body><main><h1>Sorry, there is a problem \
                     with the service</h1><p>Try again later.</p></main></body></html>",
                )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::MessageBody;

    fn html(e: PageError) -> (u16, String) {
        let res = e.error_response();
        let status = res.status().as_u16();
        let ct = res
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap_or("").to_string())
            .unwrap_or_default();
        assert!(ct.starts_with("text/html"), "{ct}");
        let body = res.into_body().try_into_bytes().unwrap_or_default();
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    #[test]
    fn errors_are_pages_in_the_layout() {
        let (status, body) = html(PageError::Internal("a broken pipe".into()));
        assert_eq!(status, 500);
        assert!(body.contains("Sorry, there is a problem with the service"));
        assert!(
            !body.contains("broken pipe"),
            "the cause is logged, not shown"
        );
        assert!(body.contains("nhsuk-header") && body.contains("Skip to main content"));
        let (status, body) = html(PageError::NotFound);
        assert_eq!(status, 404);
        assert!(body.contains("Page not found"));
        let (status, body) = html(PageError::Csrf);
        assert_eq!(status, 403);
        assert!(body.contains("nothing was changed"));
        let res = PageError::SignIn {
            back_to: None,
            ended: false,
        }
        .error_response();
        assert_eq!(res.status().as_u16(), 303);
        assert_eq!(res.headers().get(header::LOCATION).unwrap(), "/sign-in");
    }
}
