//! Sign-in sessions for the pages.
//!
//! A session is 32 random bytes, hex in a cookie (`HttpOnly`, `SameSite=Strict`, `Secure` unless
//! `LDR_INSECURE_COOKIES=true`; with `Secure`, the `__Host-` name prefix, so that no other host
//! can plant one). The database keeps only the id's sha256, with the user, the session's CSRF
//! token and two times: a session ends [`IDLE_MINUTES`] after its last request or
//! [`LIFETIME_HOURS`] after sign-in, whichever comes first, at sign-out, and when its user is
//! deactivated (each lookup checks that the user is active, and deactivation deletes the rows).
//!
//! CSRF: every form of a signed-in page carries the session's token (a synchronizer token,
//! compared in constant time). The sign-in form, before any session exists, carries a random
//! token that is also set in its own short-lived cookie (double submit; `SameSite=Strict` and,
//! with `Secure`, the `__Host-` prefix keep other sites from reading or planting it).

use super::{PageError, PageResult};
use crate::app::AppState;
use crate::db::schema::{sessions, users};
use crate::service::tokens;
use crate::service::Caller;
use actix_web::cookie::{time::Duration as CookieDuration, Cookie, SameSite};
use actix_web::HttpMessage;
use actix_web::{web, FromRequest, HttpRequest};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use std::future::Future;
use std::pin::Pin;

/// Minutes without a request after which a session ends.
pub const IDLE_MINUTES: i64 = 30;
/// Hours after sign-in after which a session ends, however active.
pub const LIFETIME_HOURS: i64 = 12;
/// A request refreshes `last_seen_at` only when it is older than this (one write a minute at
/// most, not one per page).
const TOUCH_SECONDS: i64 = 60;

/// The session cookie's name.
pub fn session_cookie(state: &AppState) -> &'static str {
    if state.cfg.insecure_cookies {
        "ldr_session"
    } else {
        "__Host-ldr_session"
    }
}

/// The sign-in form's CSRF cookie's name.
pub fn signin_cookie(state: &AppState) -> &'static str {
    if state.cfg.insecure_cookies {
        "ldr_signin"
    } else {
        "__Host-ldr_signin"
    }
}

/// The cookie that keeps, during sign-in, the page to go back to (see `signin::address`).
pub fn return_cookie(state: &AppState) -> &'static str {
    if state.cfg.insecure_cookies {
        "ldr_return"
    } else {
        "__Host-ldr_return"
    }
}

/// A cookie of the pages: whole site, script cannot read it, never sent from another site.
pub fn cookie(state: &AppState, name: &'static str, value: String) -> Cookie<'static> {
    Cookie::build(name, value)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(!state.cfg.insecure_cookies)
        .finish()
}

/// The cookie `name` emptied and expired, to remove it from the browser.
pub fn removal(state: &AppState, name: &'static str) -> Cookie<'static> {
    let mut c = cookie(state, name, String::new());
    c.set_max_age(CookieDuration::ZERO);
    c
}

/// Starts a session for `user_id` (deleting every session that has ended meanwhile); returns
/// the id to put in the cookie.
pub async fn start(state: &AppState, user_id: String) -> PageResult<String> {
    let id = tokens::random();
    let row = (
        sessions::id_hash.eq(tokens::sha256_hex(&id)),
        sessions::user_id.eq(user_id),
        sessions::csrf_token.eq(tokens::random()),
        sessions::created_at.eq(crate::db::now()),
        sessions::last_seen_at.eq(crate::db::now()),
    );
    state
        .db(move |c| {
            // Sessions that ended without being looked up again (a closed browser) go here.
            let now = crate::db::now();
            diesel::delete(
                sessions::table.filter(
                    sessions::last_seen_at
                        .le(now - chrono::Duration::minutes(IDLE_MINUTES))
                        .or(sessions::created_at.le(now - chrono::Duration::hours(LIFETIME_HOURS))),
                ),
            )
            .execute(c)?;
            diesel::insert_into(sessions::table)
                .values(row)
                .execute(c)?;
            Ok(())
        })
        .await?;
    Ok(id)
}

/// Ends the session whose id hashes to `id_hash`.
pub async fn end(state: &AppState, id_hash: String) -> PageResult<()> {
    state
        .db(move |c| {
            diesel::delete(sessions::table.find(id_hash)).execute(c)?;
            Ok(())
        })
        .await?;
    Ok(())
}

/// A signed-in person: their session's hash and CSRF token, their name, and the caller the
/// API's rules take (organisation and roles read fresh with the session).
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub id_hash: String,
    pub csrf: String,
    pub name: String,
    pub caller: Caller,
}

impl SignedIn {
    /// Refuses a form whose token is not this session's.
    pub fn check_csrf(&self, token: &str) -> PageResult<()> {
        if tokens::same(&self.csrf, token) {
            Ok(())
        } else {
            tracing::info!(user_id = %self.caller.user_id, "form refused: CSRF token");
            Err(PageError::Csrf)
        }
    }

    /// What the layout shows of the person (the header's name and sign-out form).
    pub fn layout(&self) -> serde_json::Value {
        serde_json::json!({"name": self.name, "links": super::register::nav_links(&self.caller)})
    }
}

/// Whether a session created at `created` and last seen at `seen` is still open at `now`.
pub fn open_at(created: NaiveDateTime, seen: NaiveDateTime, now: NaiveDateTime) -> bool {
    now - seen < chrono::Duration::minutes(IDLE_MINUTES)
        && now - created < chrono::Duration::hours(LIFETIME_HOURS)
}

type SessionRow = (
    String,
    String,
    NaiveDateTime,
    NaiveDateTime,
    String,
    String,
    String,
    bool,
);

/// The session of the cookie `id`, if it is open and its user active: one statement, plus a
/// write when it was last seen over a minute ago (or has ended, which deletes it).
pub async fn lookup(state: &AppState, id: &str) -> PageResult<Option<SignedIn>> {
    let id_hash = tokens::sha256_hex(id);
    state
        .db(move |c| {
            let row: Option<SessionRow> = sessions::table
                .inner_join(users::table)
                .filter(sessions::id_hash.eq(&id_hash))
                .select((
                    sessions::user_id,
                    sessions::csrf_token,
                    sessions::created_at,
                    sessions::last_seen_at,
                    users::name,
                    users::organisation_id,
                    users::roles,
                    users::active,
                ))
                .first(c)
                .optional()?;
            let Some((user_id, csrf, created, seen, name, org, roles, active)) = row else {
                return Ok(None);
            };
            let now = crate::db::now();
            if !active || !open_at(created, seen, now) {
                diesel::delete(sessions::table.find(&id_hash)).execute(c)?;
                return Ok(None);
            }
            if now - seen > chrono::Duration::seconds(TOUCH_SECONDS) {
                diesel::update(sessions::table.find(&id_hash))
                    .set(sessions::last_seen_at.eq(now))
                    .execute(c)?;
            }
            Ok(Some(SignedIn {
                id_hash,
                csrf,
                name,
                caller: Caller {
                    user_id,
                    org_id: org,
                    roles: crate::domain::roles::parse_list(&roles),
                },
            }))
        })
        .await
        .map_err(Into::into)
}

impl FromRequest for SignedIn {
    type Error = PageError;
    type Future = Pin<Box<dyn Future<Output = Result<SignedIn, PageError>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let req = req.clone();
        Box::pin(async move {
            let state = state.ok_or_else(|| PageError::Internal("no app state".into()))?;
            // Back to this page after sign-in when it is one to read (a form sent is not sent
            // again: the form's page says why it must be filled in again). Only worked out when
            // there is no session.
            let back_to = || {
                (req.method() == actix_web::http::Method::GET).then(|| match req.query_string() {
                    "" => req.path().to_string(),
                    q => format!("{}?{q}", req.path()),
                })
            };
            let Some(id) = req
                .cookie(session_cookie(&state))
                .map(|c| c.value().to_string())
                .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
            else {
                return Err(PageError::SignIn {
                    back_to: back_to(),
                    ended: false,
                });
            };
            let Some(who) = lookup(&state, &id).await? else {
                return Err(PageError::SignIn {
                    back_to: back_to(),
                    ended: true,
                });
            };
            // For `super::error_pages`, which draws this person's error pages.
            req.extensions_mut().insert(who.clone());
            Ok(who)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_ends_when_idle_or_old() {
        let t = |h: u32, m: u32| {
            chrono::NaiveDate::from_ymd_opt(2027, 3, 15)
                .unwrap()
                .and_hms_opt(h, m, 0)
                .unwrap()
        };
        assert!(open_at(t(8, 0), t(8, 0), t(8, 29)));
        assert!(!open_at(t(8, 0), t(8, 0), t(8, 30)), "30 minutes idle");
        assert!(open_at(t(8, 0), t(19, 50), t(19, 59)));
        assert!(!open_at(t(8, 0), t(19, 50), t(20, 0)), "12 hours old");
    }
}
