//! Signing in with an OpenID provider (issue #38), against a stand-in provider written here: a
//! small HTTP server on 127.0.0.1 with a discovery document, a JWKS of RSA keys generated at
//! test time, an authorisation endpoint that signs a chosen person in (it redirects back with
//! a code at once), a token endpoint that checks the code, the PKCE verifier and the client's
//! secret and issues an RS256 ID token, and an end-session endpoint. Never a real provider.
//!
//! Also here: `LDR_PASSWORD_LOGIN=false`, and the API keys page (a browser journey creating
//! and revoking a key).

mod common;

use common::http::read_request;
use common::journey::{self, then_i_see};
use common::process::free_port;
use common::{Db, TestApp, ADMIN_EMAIL, ADMIN_PASSWORD, PASSWORD};
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::traits::PublicKeyParts;
use rsa::RsaPrivateKey;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::{BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex, OnceLock};

both_dbs!(
    a_linked_user_signs_in_with_the_provider_in_the_browser,
    each_bad_id_token_is_refused,
    a_state_works_once_and_only_in_the_browser_that_started_it,
    a_person_is_matched_by_sub_once_linked_and_rotated_keys_are_fetched,
    an_unknown_person_is_told_to_ask_their_admin,
    password_sign_in_is_gone_when_turned_off,
    the_api_keys_page_creates_and_revokes_a_key,
);

const CLIENT_ID: &str = "ldr-test-client";
const CLIENT_SECRET: &str = "ldr-test-client-secret";
const LABEL: &str = "Sign in with NHSmail";

// ---------------------------------------------------------------------------------------------
// The stand-in provider

/// RSA keys made once per test run (2048 bits; never written anywhere).
fn keys() -> &'static [RsaPrivateKey] {
    static KEYS: OnceLock<Vec<RsaPrivateKey>> = OnceLock::new();
    KEYS.get_or_init(|| {
        (0..3)
            .map(|_| RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).expect("RSA key"))
            .collect()
    })
}

fn kid(i: usize) -> String {
    format!("test-key-{i}")
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Who the provider signs in next.
#[derive(Clone, Debug)]
struct Person {
    sub: String,
    email: Option<String>,
    verified: bool,
}

/// How the next ID token is spoiled (none: a good one).
#[derive(Clone, Debug, Default)]
struct Spoil {
    nonce: Option<String>,
    aud: Option<String>,
    /// Seconds to add to `exp` (negative: already expired).
    exp: Option<i64>,
    /// Sign with this key while naming the published key's id.
    sign_with: Option<usize>,
}

#[derive(Clone)]
struct Grant {
    person: Person,
    nonce: String,
    challenge: String,
    redirect_uri: String,
}

struct OpState {
    person: Person,
    spoil: Spoil,
    codes: HashMap<String, Grant>,
    /// The keys in the JWKS, and the one that signs.
    published: Vec<usize>,
    signer: usize,
    jwks_fetches: usize,
}

struct Provider {
    base: String,
    st: Arc<Mutex<OpState>>,
}

impl Provider {
    fn start() -> Provider {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let st = Arc::new(Mutex::new(OpState {
            person: Person {
                sub: "nobody".into(),
                email: None,
                verified: false,
            },
            spoil: Spoil::default(),
            codes: HashMap::new(),
            published: vec![0],
            signer: 0,
            jwks_fetches: 0,
        }));
        let (b, s) = (base.clone(), st.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let (b, s) = (b.clone(), s.clone());
                std::thread::spawn(move || serve(conn, &b, &s));
            }
        });
        Provider { base, st }
    }

    fn signs_in(&self, sub: &str, email: Option<&str>, verified: bool) {
        self.st.lock().unwrap().person = Person {
            sub: sub.into(),
            email: email.map(str::to_string),
            verified,
        };
    }

    fn spoil(&self, s: Spoil) {
        self.st.lock().unwrap().spoil = s;
    }

    /// The app's settings for this provider, the app on `port`.
    fn env(&self, port: u16) -> Vec<(String, String)> {
        vec![
            ("LDR_OIDC_ISSUER".into(), self.base.clone()),
            ("LDR_OIDC_CLIENT_ID".into(), CLIENT_ID.into()),
            ("LDR_OIDC_CLIENT_SECRET".into(), CLIENT_SECRET.into()),
            ("LDR_OIDC_LABEL".into(), LABEL.into()),
            ("LDR_BIND".into(), format!("127.0.0.1:{port}")),
            ("LDR_PUBLIC_URL".into(), format!("http://127.0.0.1:{port}")),
        ]
    }
}

fn respond(conn: &mut TcpStream, status: &str, headers: &[(&str, String)], body: &str) {
    let mut out = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    out.push_str(body);
    let _ = conn.write_all(out.as_bytes());
}

fn json_answer(conn: &mut TcpStream, status: &str, v: &Value) {
    respond(
        conn,
        status,
        &[("Content-Type", "application/json".into())],
        &v.to_string(),
    );
}

fn form(s: &str) -> HashMap<String, String> {
    url::form_urlencoded::parse(s.as_bytes())
        .into_owned()
        .collect()
}

/// One request of the app or the browser.
fn serve(mut conn: TcpStream, base: &str, st: &Mutex<OpState>) {
    let Some(request) = read_request(&mut BufReader::new(conn.try_clone().unwrap())) else {
        return;
    };
    let (method, target) = (request.method(), request.target());
    let body = String::from_utf8_lossy(&request.body).into_owned();
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    match (method, path) {
        ("GET", "/.well-known/openid-configuration") => json_answer(
            &mut conn,
            "200 OK",
            &json!({
                "issuer": base,
                "authorization_endpoint": format!("{base}/authorize"),
                "token_endpoint": format!("{base}/token"),
                "jwks_uri": format!("{base}/jwks"),
                "end_session_endpoint": format!("{base}/logout"),
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "scopes_supported": ["openid", "email", "profile"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic"],
                "code_challenge_methods_supported": ["S256"],
            }),
        ),
        ("GET", "/jwks") => {
            let mut s = st.lock().unwrap();
            s.jwks_fetches += 1;
            let keys: Vec<Value> = s
                .published
                .iter()
                .map(|&i| {
                    let k = keys()[i].to_public_key();
                    json!({"kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid(i),
                           "n": b64(&k.n().to_bytes_be()), "e": b64(&k.e().to_bytes_be())})
                })
                .collect();
            json_answer(&mut conn, "200 OK", &json!({ "keys": keys }));
        }
        ("GET", "/authorize") => {
            let q = form(query);
            let ok = q.get("response_type").map(String::as_str) == Some("code")
                && q.get("client_id").map(String::as_str) == Some(CLIENT_ID)
                && q.get("code_challenge_method").map(String::as_str) == Some("S256")
                && q.get("scope")
                    .is_some_and(|s| s.split(' ').any(|x| x == "openid"))
                && q.contains_key("state")
                && q.contains_key("nonce")
                && q.contains_key("code_challenge");
            if !ok {
                return respond(
                    &mut conn,
                    "400 Bad Request",
                    &[],
                    "bad authorisation request",
                );
            }
            let code = format!("code-{}", uuid::Uuid::new_v4().simple());
            let mut s = st.lock().unwrap();
            let grant = Grant {
                person: s.person.clone(),
                nonce: q["nonce"].clone(),
                challenge: q["code_challenge"].clone(),
                redirect_uri: q["redirect_uri"].clone(),
            };
            s.codes.insert(code.clone(), grant);
            let mut back = url::Url::parse(&q["redirect_uri"]).unwrap();
            back.query_pairs_mut()
                .append_pair("code", &code)
                .append_pair("state", &q["state"]);
            respond(
                &mut conn,
                "302 Found",
                &[("Location", back.to_string())],
                "",
            );
        }
        ("POST", "/token") => {
            let f = form(&body);
            use base64::Engine;
            let basic = format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD
                    .encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"))
            );
            let mut s = st.lock().unwrap();
            let grant = f.get("code").and_then(|c| s.codes.remove(c));
            let Some(g) = grant else {
                return json_answer(
                    &mut conn,
                    "400 Bad Request",
                    &json!({"error": "invalid_grant"}),
                );
            };
            use sha2::Digest;
            let verifier = f.get("code_verifier").cloned().unwrap_or_default();
            let pkce = b64(&sha2::Sha256::digest(verifier.as_bytes())) == g.challenge;
            if !pkce
                || request.headers.get("authorization") != Some(&basic)
                || f.get("redirect_uri") != Some(&g.redirect_uri)
                || f.get("grant_type").map(String::as_str) != Some("authorization_code")
            {
                return json_answer(
                    &mut conn,
                    "400 Bad Request",
                    &json!({"error": "invalid_grant"}),
                );
            }
            let now = chrono::Utc::now().timestamp();
            let sp = s.spoil.clone();
            let mut claims = json!({
                "iss": base,
                "sub": g.person.sub,
                "aud": sp.aud.clone().unwrap_or_else(|| CLIENT_ID.into()),
                "iat": now - 5,
                "exp": now + sp.exp.unwrap_or(300),
                "nonce": sp.nonce.clone().unwrap_or(g.nonce),
                "name": "A Person",
            });
            if let Some(e) = &g.person.email {
                claims["email"] = json!(e);
                claims["email_verified"] = json!(g.person.verified);
            }
            let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
            header.kid = Some(kid(s.signer));
            let key = &keys()[sp.sign_with.unwrap_or(s.signer)];
            let der = key.to_pkcs1_der().unwrap();
            let enc = jsonwebtoken::EncodingKey::from_rsa_der(der.as_bytes());
            let id_token = jsonwebtoken::encode(&header, &claims, &enc).unwrap();
            json_answer(
                &mut conn,
                "200 OK",
                &json!({"access_token": "at-1", "token_type": "Bearer", "expires_in": 300,
                        "id_token": id_token}),
            );
        }
        ("GET", "/logout") => respond(
            &mut conn,
            "200 OK",
            &[("Content-Type", "text/plain".into())],
            "signed out at the provider",
        ),
        _ => respond(&mut conn, "404 Not Found", &[], "not found"),
    }
}

// ---------------------------------------------------------------------------------------------
// The app, its people, and a visitor over plain HTTP

/// The app with the provider configured (password sign-in on, unless `extra` says), on a port
/// known before start so that `LDR_PUBLIC_URL` (the redirect URI) names it.
fn app_with(db: Db, op: &Provider, extra: &[(&str, &str)]) -> Option<TestApp> {
    let mut env = op.env(free_port());
    env.push(("LDR_TODAY".into(), "2026-03-02".into()));
    env.push(("LDR_INSECURE_COOKIES".into(), "true".into()));
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    TestApp::spawn_with(db, &pairs)
}

/// A practice and its practice manager (password [`PASSWORD`]); returns the manager's token
/// and id.
fn practice(app: &TestApp) -> (String, String) {
    let admin = app.admin();
    let (_, elm) = app.north_essex_practice(&admin);
    let id = app.user(&admin, "Pat Manager", &elm, &["practice_user"], &[]);
    (app.login_as("Pat Manager"), id)
}

const PAT: &str = "pat.manager@ldr.test";

/// A browser of our own over HTTP: keeps cookies, never follows a redirect.
struct Visitor {
    agent: ureq::Agent,
    cookies: HashMap<String, String>,
}

struct Got {
    status: u16,
    location: String,
    body: String,
    set: Vec<String>,
}

impl Visitor {
    fn new() -> Visitor {
        Visitor {
            agent: common::no_redirects(),
            cookies: HashMap::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep(&mut self, mut res: ureq::http::Response<ureq::Body>) -> Got {
        let mut set = Vec::new();
        for v in res.headers().get_all("set-cookie") {
            let v = v.to_str().unwrap().to_string();
            let pair = v.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() || v.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_string(), value.to_string());
            }
            set.push(v);
        }
        let location = res
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        Got {
            status: res.status().as_u16(),
            location,
            body: res.body_mut().read_to_string().unwrap_or_default(),
            set,
        }
    }

    fn get(&mut self, url: &str) -> Got {
        let res = self
            .agent
            .get(url)
            .header("Cookie", &self.cookie_header())
            .header("Accept", "text/html")
            .call()
            .expect("GET");
        self.keep(res)
    }

    fn post(&mut self, url: &str, fields: &[(&str, &str)]) -> Got {
        let body: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let res = self
            .agent
            .post(url)
            .header("Cookie", &self.cookie_header())
            .header("Accept", "text/html")
            .content_type("application/x-www-form-urlencoded")
            .send(body.as_bytes())
            .expect("POST");
        self.keep(res)
    }

    fn signed_in(&self) -> bool {
        self.cookies.contains_key("ldr_session")
    }
}

/// From the sign-in page to the provider's authorisation URL (the button, a link).
fn leave_for_provider(app: &TestApp, v: &mut Visitor) -> String {
    let page = v.get(&app.url("/sign-in"));
    assert_eq!(page.status, 200);
    assert!(page.body.contains(LABEL), "{}", page.body);
    assert!(
        page.body.contains("href=\"/sign-in/oidc\""),
        "{}",
        page.body
    );
    let out = v.get(&app.url("/sign-in/oidc"));
    assert_eq!(out.status, 303, "{}", out.body);
    assert!(
        out.set
            .iter()
            .any(|c| c.starts_with("ldr_oidc=") && c.contains("SameSite=Lax")),
        "{:?}",
        out.set
    );
    out.location
}

/// The provider's answer: the callback URL it sends the browser back to.
fn at_provider(v: &mut Visitor, authorize: &str) -> String {
    let got = v.get(authorize);
    assert_eq!(got.status, 302, "{}", got.body);
    got.location
}

/// A whole sign-in through the provider: the callback's answer.
fn sign_in(app: &TestApp, v: &mut Visitor) -> Got {
    let authorize = leave_for_provider(app, v);
    let back = at_provider(v, &authorize);
    assert!(
        back.starts_with(&app.url("/sign-in/oidc/callback?")),
        "{back}"
    );
    v.get(&back)
}

fn links(app: &TestApp) -> i64 {
    use diesel::prelude::*;
    let pool = &app.state.pool;
    ldr::db::run(pool, |c| {
        Ok::<i64, ldr::api::error::ApiError>(
            ldr::db::schema::oidc_identities::table
                .count()
                .get_result(c)?,
        )
    })
    .unwrap()
}

#[track_caller]
fn assert_refused(got: &Got, status: u16, text: &str) {
    assert_eq!(got.status, status, "{}", got.body);
    assert!(got.body.contains(text), "{text:?} not in {}", got.body);
    assert!(
        !got.set.iter().any(|c| c.starts_with("ldr_session=")),
        "a session was started: {:?}",
        got.set
    );
}

// ---------------------------------------------------------------------------------------------
// The tests

fn a_linked_user_signs_in_with_the_provider_in_the_browser(db: Db) {
    let op = Provider::start();
    let Some(app) = app_with(db, &op, &[]) else {
        return;
    };
    practice(&app);
    op.signs_in("entra-oid-pat", Some(PAT), true);
    let Some(mut b) = journey::browser(&app, "oidc-sign-in", db) else {
        return;
    };
    b.open("/sign-in");
    then_i_see(&b, &[LABEL, "Or sign in with a password"]);
    b.check("sign-in-with-provider");
    b.click("a[href='/sign-in/oidc']");
    // The provider signs Pat in at once; the landing page moves on to the home page.
    b.wait_for_text("h1", "Our disputes");
    assert_eq!(b.path(), "/");
    then_i_see(&b, &["Pat Manager"]);
    b.check("signed-in-through-provider");
    assert_eq!(links(&app), 1, "linked by the verified e-mail");
    // Signing out ends the session here and offers the provider's own sign-out.
    b.click(".nhsuk-header__account-button");
    b.wait_for_text("h1", "You have signed out");
    then_i_see(
        &b,
        &[
            "You have signed out",
            "Sign out of \"Sign in with NHSmail\" too",
        ],
    );
    b.check("signed-out-offers-provider-sign-out");
    let href: String = b
        .execute("return document.querySelector('a.nhsuk-button').getAttribute('href');")
        .as_str()
        .unwrap()
        .to_string();
    let end = url::Url::parse(&href).unwrap();
    assert_eq!(
        format!("{}/logout", op.base),
        href.split('?').next().unwrap()
    );
    let q: HashMap<_, _> = end.query_pairs().into_owned().collect();
    assert_eq!(q["client_id"], CLIENT_ID);
    assert_eq!(q["post_logout_redirect_uri"], app.url("/sign-in"));
    b.open("/");
    assert_eq!(b.path(), "/sign-in", "the local session has ended");
}

fn each_bad_id_token_is_refused(db: Db) {
    let op = Provider::start();
    let Some(app) = app_with(db, &op, &[]) else {
        return;
    };
    practice(&app);
    op.signs_in("entra-oid-pat", Some(PAT), true);
    let cases = [
        (
            "a wrong nonce",
            Spoil {
                nonce: Some("not-the-nonce-sent".into()),
                ..Spoil::default()
            },
        ),
        (
            "a wrong audience",
            Spoil {
                aud: Some("another-client".into()),
                ..Spoil::default()
            },
        ),
        (
            "an expired token",
            Spoil {
                exp: Some(-120),
                ..Spoil::default()
            },
        ),
        (
            "a token signed with another key under the published key's id",
            Spoil {
                sign_with: Some(1),
                ..Spoil::default()
            },
        ),
    ];
    for (what, spoil) in cases {
        op.spoil(spoil);
        let mut v = Visitor::new();
        let got = sign_in(&app, &mut v);
        assert_refused(&got, 400, "Your sign-in could not be checked");
        assert!(!v.signed_in(), "{what}");
        assert_eq!(links(&app), 0, "{what}: nothing linked");
        let home = v.get(&app.url("/"));
        assert_eq!(
            (home.status, home.location.as_str()),
            (303, "/sign-in"),
            "{what}"
        );
    }
    // The same journey with a good token signs in: the refusals were the tokens'.
    op.spoil(Spoil::default());
    let mut v = Visitor::new();
    let got = sign_in(&app, &mut v);
    assert_eq!(got.status, 200, "{}", got.body);
    assert!(got.body.contains("You are signed in"));
    assert!(got
        .body
        .contains("http-equiv=\"refresh\" content=\"0; url=/\""));
    assert!(v.signed_in());
    let home = v.get(&app.url("/"));
    assert_eq!(home.status, 200);
    assert!(home.body.contains("Pat Manager"));
}

fn a_state_works_once_and_only_in_the_browser_that_started_it(db: Db) {
    let op = Provider::start();
    let Some(app) = app_with(db, &op, &[]) else {
        return;
    };
    practice(&app);
    op.signs_in("entra-oid-pat", Some(PAT), true);
    let mut v = Visitor::new();
    let authorize = leave_for_provider(&app, &mut v);
    let back = at_provider(&mut v, &authorize);
    // Another browser (without the first one's cookie) brings the same answer back: refused,
    // and the state is spent.
    let mut other = Visitor::new();
    let got = other.get(&back);
    assert_refused(&got, 400, "Your sign-in has expired or was already used");
    let got = v.get(&back);
    assert_refused(&got, 400, "Your sign-in has expired or was already used");
    // A fresh sign-in works; replaying its answer afterwards does not.
    let authorize = leave_for_provider(&app, &mut v);
    let back = at_provider(&mut v, &authorize);
    let browser_cookie = v.cookies["ldr_oidc"].clone();
    let got = v.get(&back);
    assert_eq!(got.status, 200, "{}", got.body);
    assert!(v.signed_in());
    let mut replay = Visitor::new();
    replay.cookies.insert("ldr_oidc".into(), browser_cookie);
    let got = replay.get(&back);
    assert_refused(&got, 400, "Your sign-in has expired or was already used");
    // An answer with no state, or an unknown one.
    let got = Visitor::new().get(&app.url("/sign-in/oidc/callback?code=x"));
    assert_refused(&got, 400, "expired or was already used");
    let got = Visitor::new().get(&app.url("/sign-in/oidc/callback?code=x&state=made-up"));
    assert_refused(&got, 400, "expired or was already used");
    // An answer that does not read (a field twice) is a page too, not the API's problem.
    let got = Visitor::new().get(&app.url("/sign-in/oidc/callback?code=x&state=a&state=b"));
    assert_refused(&got, 400, "expired or was already used");
}

fn a_person_is_matched_by_sub_once_linked_and_rotated_keys_are_fetched(db: Db) {
    let op = Provider::start();
    let Some(app) = app_with(db, &op, &[]) else {
        return;
    };
    let (_, pat) = practice(&app);
    // An unverified e-mail claim links nobody, even one that is a user's.
    op.signs_in("entra-oid-pat", Some(PAT), false);
    let got = sign_in(&app, &mut Visitor::new());
    assert_refused(&got, 403, "has not confirmed it");
    assert_eq!(links(&app), 0);
    // Verified: linked.
    op.signs_in("entra-oid-pat", Some(PAT), true);
    let mut v = Visitor::new();
    assert_eq!(sign_in(&app, &mut v).status, 200);
    assert_eq!(links(&app), 1);
    // From now on the sub alone: another e-mail, unverified, is still Pat.
    op.signs_in("entra-oid-pat", Some("pat.new.name@nhs.test"), false);
    let mut v = Visitor::new();
    assert_eq!(sign_in(&app, &mut v).status, 200);
    assert!(v.get(&app.url("/")).body.contains("Pat Manager"));
    // Another identity with Pat's verified e-mail does not take over Pat's account.
    op.signs_in("someone-else", Some(PAT), true);
    let got = sign_in(&app, &mut Visitor::new());
    assert_refused(&got, 403, "already linked to another sign-in");
    // The provider rotates its keys: the token names a key id the app has not seen, so the
    // app fetches the JWKS again and the sign-in works.
    let before = op.st.lock().unwrap().jwks_fetches;
    {
        let mut s = op.st.lock().unwrap();
        s.published = vec![0, 2];
        s.signer = 2;
    }
    op.signs_in("entra-oid-pat", Some(PAT), true);
    let mut v = Visitor::new();
    let got = sign_in(&app, &mut v);
    assert_eq!(got.status, 200, "{}", got.body);
    assert_eq!(op.st.lock().unwrap().jwks_fetches, before + 1);
    // A key id the provider does not publish at all: refused after one more look.
    op.st.lock().unwrap().signer = 1;
    let got = sign_in(&app, &mut Visitor::new());
    assert_refused(&got, 400, "could not be checked");
    assert_eq!(op.st.lock().unwrap().jwks_fetches, before + 2);
    // A deactivated user's identity signs nobody in.
    let admin = app.admin();
    app.patch(
        &format!("/api/v1/users/{pat}"),
        Some(&admin),
        &json!({"active": false}),
    )
    .expect(200);
    op.st.lock().unwrap().signer = 2;
    let got = sign_in(&app, &mut Visitor::new());
    assert_refused(&got, 403, "has been closed");
}

fn an_unknown_person_is_told_to_ask_their_admin(db: Db) {
    let op = Provider::start();
    let Some(app) = app_with(db, &op, &[]) else {
        return;
    };
    practice(&app);
    op.signs_in("stranger", Some("stranger@nhs.test"), true);
    let mut v = Visitor::new();
    let got = sign_in(&app, &mut v);
    assert_refused(&got, 403, "You do not have an account in this service yet");
    assert!(got.body.contains("stranger@nhs.test"), "{}", got.body);
    assert!(
        got.body.contains("Ask your organisation&#x27;s admin")
            || got.body.contains("Ask your organisation's admin"),
        "{}",
        got.body
    );
    assert!(!v.signed_in());
    assert_eq!(links(&app), 0);
    // No e-mail claim at all.
    op.signs_in("stranger", None, false);
    let got = sign_in(&app, &mut Visitor::new());
    assert_refused(&got, 403, "did not give a confirmed email address");
    // Browser: the page is accessible.
    let Some(mut b) = journey::browser(&app, "oidc-unknown-person", db) else {
        return;
    };
    b.open("/sign-in");
    b.click("a[href='/sign-in/oidc']");
    b.wait_for_text("h1", "You do not have an account in this service yet");
    b.check("ask-your-admin");
}

fn password_sign_in_is_gone_when_turned_off(db: Db) {
    let op = Provider::start();
    let Some(app) = app_with(db, &op, &[]) else {
        return;
    };
    let (pat, _) = practice(&app);
    let key = app
        .post(
            "/api/v1/api-keys",
            Some(&pat),
            &json!({"name": "EMIS connector"}),
        )
        .expect(201)["key"]
        .as_str()
        .unwrap()
        .to_string();
    let port = url::Url::parse(&app.base).unwrap().port().unwrap();
    let mut env = op.env(port);
    env.push(("LDR_TODAY".into(), "2026-03-02".into()));
    env.push(("LDR_INSECURE_COOKIES".into(), "true".into()));
    env.push(("LDR_PASSWORD_LOGIN".into(), "false".into()));
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let app = app.restart_with(&pairs);
    // Pages: no password form, the provider's button only.
    let mut v = Visitor::new();
    let page = v.get(&app.url("/sign-in"));
    assert_eq!(page.status, 200);
    assert!(page.body.contains(LABEL));
    assert!(!page.body.contains("action=\"/sign-in\""), "{}", page.body);
    assert!(!page.body.contains("type=\"password\""));
    // A password posted anyway (with the sign-in cookie's token) is refused with a page saying
    // how to sign in.
    let token = v.cookies["ldr_signin"].clone();
    let got = v.post(
        &app.url("/sign-in"),
        &[
            ("csrf_token", &token),
            ("email", PAT),
            ("password", PASSWORD),
        ],
    );
    assert_refused(&got, 403, "Sign in with a password is turned off");
    assert!(got.body.contains(LABEL));
    // The API: a problem saying so, and how to sign in instead.
    let r = app.post(
        "/api/v1/auth/login",
        None,
        &json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}),
    );
    let p = r.expect(403);
    let detail = p["detail"].as_str().unwrap();
    assert!(
        detail.contains("Password sign-in is turned off"),
        "{detail}"
    );
    assert!(
        detail.contains(LABEL) && detail.contains("API key"),
        "{detail}"
    );
    // API keys still work; people sign in through the provider.
    app.get("/api/v1/me", Some(&key)).expect(200);
    op.signs_in("entra-oid-pat", Some(PAT), true);
    let got = sign_in(&app, &mut v);
    assert_eq!(got.status, 200, "{}", got.body);
    assert!(v.get(&app.url("/")).body.contains("Pat Manager"));
    // Signed in through the provider, a person gets their own API token on the API keys page,
    // and the API knows them by it.
    let keys = v.get(&app.url("/api-keys"));
    assert!(keys.body.contains("Your own API token"), "{}", keys.body);
    let (_, after) = keys
        .body
        .split_once("name=\"csrf_token\" value=\"")
        .unwrap();
    let csrf = after.split('"').next().unwrap().to_string();
    let got = v.post(&app.url("/api-keys/token"), &[("csrf_token", &csrf)]);
    assert_eq!(got.status, 200, "{}", got.body);
    let (_, after) = got.body.split_once("id=\"personal-token\">").unwrap();
    let token = after.split('<').next().unwrap().to_string();
    let me = app.get("/api/v1/me", Some(&token)).expect(200);
    assert_eq!(me["email"], PAT, "{me}");
    // Not without the form's token.
    let got = v.post(&app.url("/api-keys/token"), &[("csrf_token", "x")]);
    assert!(!got.body.contains("personal-token"), "{}", got.body);
    let Some(mut b) = journey::browser(&app, "password-sign-in-off", db) else {
        return;
    };
    b.open("/sign-in");
    assert!(!b.has("#password"));
    b.check("sign-in-without-passwords");
}

fn the_api_keys_page_creates_and_revokes_a_key(db: Db) {
    let Some(app) = journey::app(db) else { return };
    practice(&app);
    let Some(mut b) = journey::browser(&app, "api-keys-page", db) else {
        return;
    };
    journey::when_i_sign_in(&mut b, PAT, PASSWORD);
    // Signed in once the first page is there (the sign-in page has no "API keys" link).
    b.wait_for_text("h1", "Our disputes");
    b.click_link("API keys");
    assert_eq!(b.path(), "/api-keys");
    then_i_see(&b, &["Your organisation has no API keys."]);
    b.check("api-keys-none");
    // Refused: no name, a date that is not one.
    b.fill("#expires_on-day", "31");
    b.fill("#expires_on-month", "2");
    b.fill("#expires_on-year", "2027");
    b.click("form[action='/api-keys'] button");
    b.wait_for_text(".nhsuk-error-summary", "There is a problem");
    then_i_see(
        &b,
        &[
            "Enter a name for the integration",
            "The last day must be a real date",
        ],
    );
    b.check("api-keys-refused");
    b.fill("#name", "EMIS connector");
    b.fill("#expires_on-day", "31");
    b.fill("#expires_on-month", "12");
    b.fill("#expires_on-year", "2027");
    b.click("form[action='/api-keys'] button");
    b.wait_for_text("#new-key", "ldr_");
    then_i_see(
        &b,
        &[
            "Your new API key",
            "Copy the key now",
            "This is the only time it is shown",
            "Elm Practice's integration 'EMIS connector'",
            "Friday 31 December 2027",
            "Never",
        ],
    );
    b.check("api-keys-created");
    let key = b.text("#new-key");
    assert!(key.starts_with("ldr_") && key.len() == 68, "{key}");
    // The key works, through the API, as the practice's integration.
    let me = app.get("/api/v1/me", Some(&key)).expect(200);
    assert!(me.to_string().contains("EMIS connector"), "{me}");
    // Shown once: the list never shows it again.
    b.open("/api-keys");
    assert!(!b.body().contains(&key));
    // Revoking asks first, saying what it does; keeping the key changes nothing.
    b.click("table a[href$='/revoke']");
    b.wait_for_text("h1", "Revoke the key “EMIS connector”");
    then_i_see(&b, &["stops working at once", "This cannot be undone"]);
    b.check("api-keys-revoke-confirm");
    b.click_link("Keep the key: back to the API keys");
    b.wait_for_text("h1", "API keys");
    app.get("/api/v1/me", Some(&key)).expect(200);
    b.click("table a[href$='/revoke']");
    b.wait_for_text("h1", "Revoke the key “EMIS connector”");
    b.click("form button[type=submit]");
    b.wait_for_text(
        ".nhsuk-notification-banner",
        "The key “EMIS connector” is revoked",
    );
    b.wait_for_text("table", "Revoked");
    assert_eq!(b.path(), "/api-keys");
    b.check("api-keys-revoked");
    app.get("/api/v1/me", Some(&key)).expect(401);
    // The person's own token, for the API as themselves.
    b.click("form[action='/api-keys/token'] button");
    b.wait_for_text("#personal-token", ".");
    then_i_see(&b, &["Copy the token now", "act as you through the API"]);
    b.check("api-keys-own-token");
    let token = b.text("#personal-token");
    let me = app.get("/api/v1/me", Some(&token)).expect(200);
    assert_eq!(me["email"], PAT, "{me}");
}
