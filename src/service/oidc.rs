//! OpenID Connect sign-in (issue #38, SPEC "Identity and audit"): people sign in with their
//! organisation's identity provider (NHSmail's Microsoft Entra ID, NHS CIS2, …), which only says
//! who they are; the service's admins still decide who is a user and with which roles.
//!
//! The flow, with the `openidconnect` crate:
//! 1. [`Provider::begin`]: the provider's metadata (discovery from `LDR_OIDC_ISSUER`, kept; its
//!    JWKS with it) and an authorisation URL for the code flow with a fresh `state`, `nonce`
//!    and PKCE (S256) challenge. [`store_login`] keeps the `state`'s sha256 with the nonce, the
//!    PKCE verifier and the sha256 of a random value the browser keeps in a cookie of its own.
//! 2. The provider sends the browser back with `code` and `state`. [`take_login`] deletes the
//!    `state`'s row and returns it — a `state` works once; a replayed, unknown or ten-minute-old
//!    one, or one from another browser, is refused.
//! 3. [`Provider::finish`]: the code is exchanged (with the PKCE verifier) at the token
//!    endpoint, and the ID token's signature (against the provider's JWKS, fetched again once
//!    when the token names a key id the kept set does not have: the provider has rotated its
//!    keys), issuer, audience, expiry and nonce are checked.
//! 4. [`match_user`]: the identity (`iss`, `sub`) linked to an active user signs that user in; the
//!    first time, a verified e-mail claim equal to an active user's e-mail links them. Nobody
//!    else gets in: the page says to ask their organisation's admin.
//!
//! The HTTP client is the `ureq` agent the service already has (rustls), without redirects,
//! bounded in time, on the blocking pool (callers run [`Provider`]'s methods in `web::block`).

use crate::config::OidcConfig;
use crate::db::schema::{api_keys, oidc_identities, oidc_logins, users};
use crate::db::{now, write_tx, DbConn};
use crate::service::{tokens, ServiceError};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreIdToken};
use openidconnect::{
    AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken,
    EndpointMaybeSet, EndpointNotSet, EndpointSet, IssuerUrl, JsonWebKeySet, LogoutRequest, Nonce,
    PkceCodeChallenge, PkceCodeVerifier, PostLogoutRedirectUrl, ProviderMetadataWithLogout,
    RedirectUrl, Scope, SignatureVerificationError, TokenResponse,
};
use std::sync::RwLock;
use std::time::{Duration, Instant};

/// How long a sign-in may take between leaving for the provider and coming back.
pub const LOGIN_MINUTES: i64 = 10;
/// How long the provider's metadata is kept before it is read again.
const METADATA_HOURS: u64 = 24;
/// The bound on one request to the provider (connect to answer).
const HTTP_TIMEOUT_SECONDS: u64 = 10;
/// The most of a provider's answer that is read.
const ANSWER_LIMIT: u64 = 1024 * 1024;

type Metadata = ProviderMetadataWithLogout;
type Client = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// Why a sign-in through the provider did not sign anyone in.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// The provider could not be reached or gave no usable answer (discovery, JWKS, token).
    #[error("the identity provider is unavailable: {0}")]
    Unavailable(String),
    /// The `state` is unknown, used already, too old, or was started in another browser.
    #[error("unknown, used or expired sign-in: {0}")]
    Stale(&'static str),
    /// The provider answered the authorisation request with an error (e.g. `access_denied`).
    #[error("the identity provider refused: {0}")]
    Provider(String),
    /// The ID token failed a check (signature, issuer, audience, expiry, nonce) or was missing.
    #[error("the ID token was refused: {0}")]
    Token(String),
}

/// Who the provider says signed in.
#[derive(Debug, Clone)]
pub struct Identity {
    pub subject: String,
    /// The e-mail claim, lower case, when the provider says it is verified.
    pub verified_email: Option<String>,
    /// The e-mail claim however it stands (for the "ask your admin" page).
    pub email: Option<String>,
}

/// A sign-in under way, as [`take_login`] hands it back.
#[derive(Debug, Clone)]
pub struct Pending {
    pub nonce: String,
    pub pkce_verifier: String,
}

/// What [`Provider::begin`] gives: where to send the browser, and what to keep.
#[derive(Debug, Clone)]
pub struct Begun {
    pub url: String,
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
}

/// The HTTP client the crate's requests go through.
pub struct Http(ureq::Agent);

impl Http {
    fn new() -> Http {
        Http(
            ureq::Agent::config_builder()
                .http_status_as_error(false)
                .timeout_global(Some(Duration::from_secs(HTTP_TIMEOUT_SECONDS)))
                // The crate's advice: never follow a redirect (SSRF).
                .max_redirects(0)
                .user_agent(format!("ldr/{}", env!("CARGO_PKG_VERSION")))
                .build()
                .into(),
        )
    }
}

impl openidconnect::SyncHttpClient for Http {
    type Error = ureq::Error;

    fn call(
        &self,
        request: openidconnect::HttpRequest,
    ) -> Result<openidconnect::HttpResponse, ureq::Error> {
        let mut res = self.0.run(request)?;
        let body = res
            .body_mut()
            .with_config()
            .limit(ANSWER_LIMIT)
            .read_to_vec()?;
        let mut out = openidconnect::http::Response::new(body);
        *out.status_mut() = res.status();
        *out.headers_mut() = res.headers().clone();
        Ok(out)
    }
}

/// The configured provider, with its metadata once read.
pub struct Provider {
    pub cfg: OidcConfig,
    http: Http,
    metadata: RwLock<Option<(Metadata, Instant)>>,
}

impl Provider {
    pub fn new(cfg: OidcConfig) -> Provider {
        Provider {
            cfg,
            http: Http::new(),
            metadata: RwLock::new(None),
        }
    }

    /// The provider's metadata (with its JWKS): the kept copy, or discovered now when there is
    /// none or it is a day old. Blocking.
    pub fn metadata(&self) -> Result<Metadata, Refusal> {
        if let Some((m, at)) = &*self.metadata.read().unwrap_or_else(|e| e.into_inner()) {
            if at.elapsed() < Duration::from_secs(METADATA_HOURS * 3600) {
                return Ok(m.clone());
            }
        }
        let issuer = IssuerUrl::new(self.cfg.issuer.clone())
            .map_err(|e| Refusal::Unavailable(format!("LDR_OIDC_ISSUER: {e}")))?;
        let m = Metadata::discover(&issuer, &self.http)
            .map_err(|e| Refusal::Unavailable(format!("discovery: {}", chain(&e))))?;
        tracing::info!(issuer = %self.cfg.issuer, "OpenID provider discovered");
        *self.metadata.write().unwrap_or_else(|e| e.into_inner()) =
            Some((m.clone(), Instant::now()));
        Ok(m)
    }

    fn client(&self, m: Metadata) -> Result<Client, Refusal> {
        let redirect = RedirectUrl::new(self.cfg.redirect_url.clone())
            .map_err(|e| Refusal::Unavailable(format!("redirect URL: {e}")))?;
        Ok(CoreClient::from_provider_metadata(
            m,
            ClientId::new(self.cfg.client_id.clone()),
            self.cfg
                .client_secret()
                .map(|s| ClientSecret::new(s.to_string())),
        )
        .set_redirect_uri(redirect))
    }

    /// The authorisation URL of a new sign-in (code flow, PKCE S256, `openid email profile`),
    /// with its `state`, nonce and PKCE verifier. Blocking (discovery, the first time).
    pub fn begin(&self) -> Result<Begun, Refusal> {
        let client = self.client(self.metadata()?)?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("email".into()))
            .add_scope(Scope::new("profile".into()))
            .set_pkce_challenge(challenge)
            .url();
        Ok(Begun {
            url: url.to_string(),
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
        })
    }

    /// Exchanges `code` and checks the ID token; the identity it names. Blocking.
    pub fn finish(&self, code: &str, pending: &Pending) -> Result<Identity, Refusal> {
        let client = self.client(self.metadata()?)?;
        let answer = client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .map_err(|e| Refusal::Unavailable(format!("no token endpoint: {e}")))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier.clone()))
            .request(&self.http)
            .map_err(|e| Refusal::Token(format!("token request: {}", chain(&e))))?;
        let token = answer
            .id_token()
            .ok_or_else(|| Refusal::Token("the token answer has no ID token".into()))?;
        let nonce = Nonce::new(pending.nonce.clone());
        match verify(&client, token, &nonce) {
            Err(ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoMatchingKey,
            )) => {
                // A key id the kept JWKS does not have: the provider may have rotated its keys.
                let client = self.client(self.refresh_jwks()?)?;
                verify(&client, token, &nonce).map_err(|e| Refusal::Token(chain(&e)))
            }
            other => other.map_err(|e| Refusal::Token(chain(&e))),
        }
    }

    /// Fetches the provider's JWKS again and keeps it with the metadata.
    fn refresh_jwks(&self) -> Result<Metadata, Refusal> {
        let m = self.metadata()?;
        let jwks = JsonWebKeySet::fetch(m.jwks_uri(), &self.http)
            .map_err(|e| Refusal::Unavailable(format!("JWKS: {}", chain(&e))))?;
        tracing::info!(issuer = %self.cfg.issuer, "OpenID provider's keys fetched again");
        let m = m.set_jwks(jwks);
        *self.metadata.write().unwrap_or_else(|e| e.into_inner()) =
            Some((m.clone(), Instant::now()));
        Ok(m)
    }

    /// The provider's end-session URL (RP-initiated logout), coming back to `back`, when its
    /// metadata names one. Blocking (discovery, when not yet done).
    pub fn end_session_url(&self, back: &str) -> Option<String> {
        let m = self.metadata().ok()?;
        let end = m.additional_metadata().end_session_endpoint.clone()?;
        let mut req =
            LogoutRequest::from(end).set_client_id(ClientId::new(self.cfg.client_id.clone()));
        if let Ok(u) = PostLogoutRedirectUrl::new(back.to_string()) {
            req = req.set_post_logout_redirect_uri(u);
        }
        Some(req.http_get_url().to_string())
    }
}

/// The ID token's claims if its signature, issuer, audience, expiry and nonce hold.
fn verify(
    client: &Client,
    token: &CoreIdToken,
    nonce: &Nonce,
) -> Result<Identity, ClaimsVerificationError> {
    let claims = token.claims(&client.id_token_verifier(), nonce)?;
    let email = claims.email().map(|e| e.as_str().trim().to_lowercase());
    Ok(Identity {
        subject: claims.subject().as_str().to_string(),
        verified_email: email
            .clone()
            .filter(|_| claims.email_verified() == Some(true)),
        email,
    })
}

/// An error and its sources, for the log.
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

/// Keeps a sign-in under way (and deletes those that were never finished).
pub fn store_login(c: &mut DbConn, begun: &Begun, browser: &str) -> Result<(), ServiceError> {
    let t = now();
    diesel::delete(
        oidc_logins::table
            .filter(oidc_logins::created_at.le(t - chrono::Duration::minutes(LOGIN_MINUTES))),
    )
    .execute(c)?;
    diesel::insert_into(oidc_logins::table)
        .values((
            oidc_logins::state_hash.eq(tokens::sha256_hex(&begun.state)),
            oidc_logins::browser_hash.eq(tokens::sha256_hex(browser)),
            oidc_logins::nonce.eq(&begun.nonce),
            oidc_logins::pkce_verifier.eq(&begun.pkce_verifier),
            oidc_logins::created_at.eq(t),
        ))
        .execute(c)?;
    Ok(())
}

/// Takes (deletes) the sign-in of `state`: `Err` when there is none — never started, already
/// used, or too old — or the browser's cookie is not the one it started with.
pub fn take_login(
    c: &mut DbConn,
    state: &str,
    browser: Option<&str>,
) -> Result<Result<Pending, Refusal>, ServiceError> {
    let hash = tokens::sha256_hex(state);
    write_tx(c, |c| {
        let row: Option<(String, String, String, NaiveDateTime)> = oidc_logins::table
            .find(&hash)
            .select((
                oidc_logins::browser_hash,
                oidc_logins::nonce,
                oidc_logins::pkce_verifier,
                oidc_logins::created_at,
            ))
            .first(c)
            .optional()?;
        let taken = diesel::delete(oidc_logins::table.find(&hash)).execute(c)?;
        let Some((browser_hash, nonce, pkce_verifier, created)) = row.filter(|_| taken == 1) else {
            return Ok(Err(Refusal::Stale("no such sign-in, or used already")));
        };
        if now() - created > chrono::Duration::minutes(LOGIN_MINUTES) {
            return Ok(Err(Refusal::Stale("started over ten minutes ago")));
        }
        if !browser.is_some_and(|b| tokens::same(&tokens::sha256_hex(b), &browser_hash)) {
            return Ok(Err(Refusal::Stale("started in another browser")));
        }
        Ok(Ok(Pending {
            nonce,
            pkce_verifier,
        }))
    })
}

/// Who an identity signs in as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Matched {
    /// This active user (linked now or before).
    User(String),
    /// No active user is linked to the identity or has its verified e-mail.
    Nobody,
    /// The identity's user is deactivated.
    Deactivated,
    /// The verified e-mail's user is already linked to another identity at this provider.
    LinkedElsewhere,
}

/// Finds the user `identity` (at `issuer`) signs in as, linking it by its verified e-mail the
/// first time. API keys' service users are never matched.
pub fn match_user(
    c: &mut DbConn,
    issuer: &str,
    identity: &Identity,
) -> Result<Matched, ServiceError> {
    write_tx(c, |c| {
        let linked: Option<(String, bool)> = oidc_identities::table
            .inner_join(users::table)
            .filter(oidc_identities::issuer.eq(issuer))
            .filter(oidc_identities::subject.eq(&identity.subject))
            .select((users::id, users::active))
            .first(c)
            .optional()?;
        if let Some((user_id, active)) = linked {
            return Ok(if active {
                Matched::User(user_id)
            } else {
                Matched::Deactivated
            });
        }
        let Some(email) = &identity.verified_email else {
            return Ok(Matched::Nobody);
        };
        let user: Option<String> = users::table
            .filter(users::email.eq(email))
            .filter(users::active.eq(true))
            .filter(diesel::dsl::not(diesel::dsl::exists(
                api_keys::table.filter(api_keys::user_id.eq(users::id)),
            )))
            .select(users::id)
            .first(c)
            .optional()?;
        let Some(user_id) = user else {
            return Ok(Matched::Nobody);
        };
        let other: i64 = oidc_identities::table
            .filter(oidc_identities::user_id.eq(&user_id))
            .count()
            .get_result(c)?;
        if other > 0 {
            return Ok(Matched::LinkedElsewhere);
        }
        diesel::insert_into(oidc_identities::table)
            .values((
                oidc_identities::issuer.eq(issuer),
                oidc_identities::subject.eq(&identity.subject),
                oidc_identities::user_id.eq(&user_id),
                oidc_identities::linked_at.eq(now()),
            ))
            .execute(c)?;
        tracing::info!(%user_id, "OpenID identity linked by its verified e-mail");
        Ok(Matched::User(user_id))
    })
}
