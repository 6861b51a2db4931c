//! Login, tokens and the authenticated caller.
//!
//! Passwords: argon2id (the crate's defaults: 19 MiB, 2 passes, 1 lane — OWASP's minimum).
//! Tokens: HS256 only (the algorithm is pinned, `exp` is required), lifetime `LDR_JWT_TTL_SECONDS`.
//! Each request re-checks that the user still exists and is active, so deactivation takes
//! effect at once.

use super::error::{ApiError, ApiResult};
use crate::app::AppState;
use crate::db::schema::users;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use diesel::prelude::*;
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;

pub fn hash_password(password: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| format!("password hashing failed: {e}"))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    match PasswordHash::new(hash) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub org: String,
    pub roles: Vec<String>,
    pub exp: i64,
    pub iat: i64,
}

pub struct JwtKeys {
    enc: EncodingKey,
    dec: DecodingKey,
    validation: Validation,
    pub ttl_seconds: i64,
    /// Tokens this key has verified, each with its user and `exp`. A client sends the same
    /// token with every request, and checking its signature and decoding it again cost a tenth
    /// of a `GET`'s instructions; a hit needs the exact same text (signature included) and is
    /// still refused once `exp` has passed. The user behind it is checked fresh either way.
    verified: Mutex<HashMap<String, (String, i64)>>,
}

/// How many verified tokens [`JwtKeys`] keeps (about 0.5 KB each); when full, it drops the
/// expired ones, or all of them, and verifies again.
const VERIFIED_TOKENS: usize = 4096;

impl JwtKeys {
    pub fn new(secret: &[u8], ttl_seconds: i64) -> JwtKeys {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "sub"]);
        JwtKeys {
            enc: EncodingKey::from_secret(secret),
            dec: DecodingKey::from_secret(secret),
            validation,
            ttl_seconds,
            verified: Mutex::new(HashMap::new()),
        }
    }

    pub fn issue(
        &self,
        user_id: &str,
        org: &str,
        roles: &[String],
        now: i64,
    ) -> Result<String, String> {
        let claims = Claims {
            sub: user_id.to_string(),
            org: org.to_string(),
            roles: roles.to_vec(),
            iat: now,
            exp: now + self.ttl_seconds,
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.enc).map_err(|e| e.to_string())
    }

    /// The user id (`sub`) of a token signed with this key that has not expired; `None` for
    /// any other token.
    pub fn verify(&self, token: &str) -> Option<String> {
        // As jsonwebtoken's own check (no leeway): valid while `exp` is now or later.
        let now = jsonwebtoken::get_current_timestamp() as i64;
        if let Some((sub, exp)) = self.verified().get(token) {
            return (*exp >= now).then(|| sub.clone());
        }
        let claims = decode::<Claims>(token, &self.dec, &self.validation)
            .ok()?
            .claims;
        let mut verified = self.verified();
        if verified.len() >= VERIFIED_TOKENS {
            verified.retain(|_, (_, exp)| *exp >= now);
            if verified.len() >= VERIFIED_TOKENS {
                verified.clear();
            }
        }
        verified.insert(token.to_string(), (claims.sub.clone(), claims.exp));
        Some(claims.sub)
    }

    fn verified(&self) -> std::sync::MutexGuard<'_, HashMap<String, (String, i64)>> {
        // Each change to the map is one call that cannot leave it half done: a panic elsewhere
        // while it was held does not make it wrong.
        self.verified.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Loads the JWT secret: `LDR_JWT_SECRET`, or the one kept in `data_dir/jwt-secret`, or a new
/// random one written there (mode 0600). Returns the secret and where it came from (for the log).
pub fn load_or_create_secret(cfg: &crate::config::Config) -> Result<(Vec<u8>, String), String> {
    if let Some(s) = &cfg.jwt_secret {
        return Ok((s.as_bytes().to_vec(), "LDR_JWT_SECRET".into()));
    }
    let path = cfg.data_dir.join("jwt-secret");
    if let Ok(s) = std::fs::read_to_string(&path) {
        let s = s.trim().to_string();
        if s.len() >= 32 {
            return Ok((s.into_bytes(), format!("kept in {}", path.display())));
        }
        return Err(format!(
            "{}: the kept JWT secret is too short; delete the file to generate a new one",
            path.display()
        ));
    }
    std::fs::create_dir_all(&cfg.data_dir)
        .map_err(|e| format!("cannot create {}: {e}", cfg.data_dir.display()))?;
    use rand::RngCore;
    let mut bytes = [0u8; 48];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let secret = hex::encode(bytes);
    write_private(&path, &secret).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok((
        secret.into_bytes(),
        format!("generated and kept in {}", path.display()),
    ))
}

fn write_private(path: &std::path::Path, content: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    match opts.open(path) {
        Ok(mut f) => f.write_all(content.as_bytes()),
        // Another process created it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// The authenticated caller of a request: the user the service acts for.
pub use crate::service::Caller;

/// A bearer token whose signature and expiry are checked, but whose user is not yet looked
/// up. Handlers that go to the database anyway take this instead of [`Caller`] and load the
/// caller on the same pooled connection with [`AppState::db_as`]: the same fresh check of the
/// user (exists, active, current roles) without a second trip through the blocking pool.
#[derive(Debug, Clone)]
pub struct Bearer {
    pub user_id: String,
}

/// What the Authorization header carries: a JWT already verified, or an API key still to be
/// looked up.
enum Credential {
    Jwt(String),
    ApiKey(String),
}

fn credential(req: &HttpRequest) -> Result<(web::Data<AppState>, Credential), ApiError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::internal("no app state"))?;
    let header = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .ok_or_else(|| {
            ApiError::Unauthorized(
                "Send Authorization: Bearer <token> (see POST /api/v1/auth/login) or \
                 Bearer <API key> (see POST /api/v1/api-keys)."
                    .into(),
            )
        })?;
    let token = header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
        .ok_or_else(|| {
            ApiError::Unauthorized("The Authorization header must be 'Bearer <token>'.".into())
        })?
        .trim();
    if token.starts_with(super::api_keys::PREFIX) {
        return Ok((state, Credential::ApiKey(token.to_string())));
    }
    let user_id = state
        .jwt
        .verify(token)
        .ok_or_else(|| ApiError::Unauthorized("The token is invalid or has expired.".into()))?;
    Ok((state, Credential::Jwt(user_id)))
}

/// The bearer's user id: a JWT's `sub`, or the service user of an API key that is neither
/// revoked nor expired (one database lookup).
async fn bearer(
    checked: Result<(web::Data<AppState>, Credential), ApiError>,
) -> Result<(web::Data<AppState>, Bearer), ApiError> {
    let (state, cred) = checked?;
    let user_id = match cred {
        Credential::Jwt(user_id) => user_id,
        Credential::ApiKey(key) => {
            let today = state.clock.today();
            state
                .db(move |c| super::api_keys::resolve(c, &key, today))
                .await?
        }
    };
    Ok((state, Bearer { user_id }))
}

pub fn user_gone() -> ApiError {
    ApiError::Unauthorized("The token's user does not exist or is deactivated.".into())
}

impl FromRequest for Bearer {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Bearer, actix_web::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let checked = credential(req);
        Box::pin(async move { bearer(checked).await.map(|(_, b)| b).map_err(Into::into) })
    }
}

impl FromRequest for Caller {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Caller, actix_web::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let checked = credential(req);
        Box::pin(async move {
            let (state, token) = bearer(checked).await?;
            let caller = state.active_caller(&token.user_id).await?;
            caller.ok_or_else(|| user_gone().into())
        })
    }
}

/// Looks the user up (fresh from the database: deactivation and role changes apply at once).
pub fn load_caller(conn: &mut crate::db::DbConn, user_id: &str) -> ApiResult<Option<Caller>> {
    let row: Option<(String, String, bool)> = users::table
        .filter(users::id.eq(user_id))
        .select((users::organisation_id, users::roles, users::active))
        .first(conn)
        .optional()?;
    Ok(Caller::from_row(user_id, row))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
}

/// Log in with e-mail and password; returns a bearer token.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = TokenResponse), (status = 400), (status = 401, description = "Wrong e-mail or password"),
              (status = 403, description = "Password sign-in is turned off (LDR_PASSWORD_LOGIN=false)"),
              (status = 422), (status = 429)))]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: super::body::Body<LoginRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    if !state.cfg.password_login {
        return Err(password_login_off(&state));
    }
    let user = check_password(&state, &req, &body.email, body.password).await?;
    let roles: Vec<String> = user.roles.iter().map(|r| r.as_str().to_string()).collect();
    let token = state
        .jwt
        .issue(
            &user.user_id,
            &user.org_id,
            &roles,
            state.clock.now().timestamp(),
        )
        .map_err(ApiError::internal)?;
    tracing::info!(user_id = %user.user_id, "login");
    Ok(HttpResponse::Ok().json(TokenResponse {
        access_token: token,
        token_type: "Bearer",
        expires_in: state.jwt.ttl_seconds,
    }))
}

/// The answer to a password sign-in when `LDR_PASSWORD_LOGIN=false`: how to sign in instead.
fn password_login_off(state: &AppState) -> ApiError {
    let people = match &state.cfg.oidc {
        Some(o) => format!(
            "People sign in on the web pages (/sign-in) with \"{}\". ",
            o.label
        ),
        None => String::new(),
    };
    ApiError::Forbidden(format!(
        "Password sign-in is turned off on this service. {people}A person gets their own API \
         token on the API keys page (/api-keys) after signing in there; an integration uses its \
         organisation's API key (Authorization: Bearer ldr_…), created on the same page."
    ))
}

/// The one password check, for `POST /auth/login` and the pages' sign-in: throttled per client
/// address and per account from that address (429 past the limit), then the user looked up by
/// e-mail (trimmed, lower case) and the password verified, against a dummy hash when there is
/// no such user so that a refusal takes as long either way. A wrong e-mail or password and a
/// deactivated account are the same 401.
pub async fn check_password(
    state: &AppState,
    req: &HttpRequest,
    email: &str,
    password: String,
) -> ApiResult<Caller> {
    let email = email.trim().to_lowercase();
    let forwarded = req
        .headers()
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok());
    let ip = crate::service::limits::client_address(
        req.peer_addr().map(|a| a.ip()),
        forwarded,
        &state.cfg.trusted_proxies,
    )
    .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
    state.limits.check_login(&email, ip)?;
    let lookup_email = email.clone();
    let row: Option<(String, String, String, String, bool)> = state
        .db(move |c| {
            Ok(users::table
                .filter(users::email.eq(&lookup_email))
                .select((
                    users::id,
                    users::organisation_id,
                    users::roles,
                    users::password_hash,
                    users::active,
                ))
                .first(c)
                .optional()?)
        })
        .await?;
    let dummy = state.dummy_hash.clone();
    let (ok, row) = web::block(move || {
        // Unknown e-mail: verify against a dummy hash so the answer takes as long.
        let hash = row.as_ref().map(|r| r.3.clone()).unwrap_or(dummy);
        let ok = verify_password(&password, &hash);
        (ok, row)
    })
    .await?;
    let refused = || {
        ApiError::Unauthorized(
            "The e-mail or password is wrong, or the account is deactivated.".into(),
        )
    };
    let (id, org, roles, _, active) = match row {
        Some(r) if ok => r,
        _ => {
            tracing::info!("login refused");
            return Err(refused());
        }
    };
    if !active {
        return Err(refused());
    }
    Ok(Caller {
        user_id: id,
        org_id: org,
        roles: crate::domain::roles::parse_list(&roles),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef-test";

    fn now() -> i64 {
        jsonwebtoken::get_current_timestamp() as i64
    }

    #[test]
    fn a_verified_token_is_refused_once_it_expires() {
        let keys = JwtKeys::new(SECRET, 60);
        // Issued 59 s ago: `exp` is one second from now.
        let token = keys.issue("u1", "o1", &[], now() - 59).unwrap();
        assert_eq!(keys.verify(&token).as_deref(), Some("u1"));
        assert_eq!(keys.verify(&token).as_deref(), Some("u1"), "from the cache");
        let exp = now() + 1;
        while now() <= exp {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        assert_eq!(keys.verify(&token), None, "expired, though verified before");
        let fresh = JwtKeys::new(SECRET, 60);
        assert_eq!(
            fresh.verify(&token),
            None,
            "and refused without the cache too"
        );
    }

    #[test]
    fn only_the_exact_token_signed_with_this_key_is_accepted_after_one_was_verified() {
        let keys = JwtKeys::new(SECRET, 60);
        let token = keys.issue("u1", "o1", &[], now()).unwrap();
        assert_eq!(keys.verify(&token).as_deref(), Some("u1"));
        // The same claims under another key: not this key's token.
        let other = JwtKeys::new(b"another-secret-another-secret-0123456789", 60);
        let forged = other.issue("u1", "o1", &[], now()).unwrap();
        assert_eq!(keys.verify(&forged), None);
        assert_eq!(other.verify(&token), None);
        // One character of the signature changed.
        let mut tampered = token.clone().into_bytes();
        let last = tampered.len() - 2;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        assert_eq!(keys.verify(std::str::from_utf8(&tampered).unwrap()), None);
        assert_eq!(keys.verify(&token).as_deref(), Some("u1"));
    }

    #[test]
    fn the_cache_of_verified_tokens_stays_bounded_and_every_token_still_verifies() {
        let keys = JwtKeys::new(SECRET, 600);
        let n = VERIFIED_TOKENS + 10;
        let tokens: Vec<String> = (0..n)
            .map(|i| keys.issue(&format!("u{i}"), "o", &[], now()).unwrap())
            .collect();
        for (i, t) in tokens.iter().enumerate() {
            assert_eq!(keys.verify(t), Some(format!("u{i}")));
            assert!(keys.verified().len() <= VERIFIED_TOKENS);
        }
        for (i, t) in tokens.iter().enumerate() {
            assert_eq!(keys.verify(t), Some(format!("u{i}")));
        }
    }
}
