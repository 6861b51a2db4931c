//! The web pages over plain HTTP, without a browser: cookies and their flags, sessions'
//! lifetimes, sign-in refusals and throttling shared with the API, CSRF, assets and error
//! pages. (tests/browser.rs walks the same pages in chromium.)

mod common;

use common::{Db, TestApp, ADMIN_EMAIL, ADMIN_PASSWORD};
use diesel::prelude::*;
use ldr::db::schema::sessions;
use std::collections::HashMap;

struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
    bytes: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    fn cookies(&self) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k == "set-cookie")
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// A browser's request, by hand: `Accept: text/html`, the cookies given, no redirect followed.
fn request(
    app: &TestApp,
    method: &str,
    path: &str,
    cookies: &HashMap<String, String>,
    form: Option<&str>,
) -> Answer {
    request_with(app, method, path, cookies, form, &[])
}

/// [`request`] with more headers.
fn request_with(
    app: &TestApp,
    method: &str,
    path: &str,
    cookies: &HashMap<String, String>,
    form: Option<&str>,
    headers: &[(&str, &str)],
) -> Answer {
    let agent = common::no_redirects();
    let cookie = cookies
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("; ");
    let mut req = ureq::http::Request::builder()
        .method(method)
        .uri(app.url(path))
        .header("Accept", "text/html");
    if !cookie.is_empty() {
        req = req.header("Cookie", cookie);
    }
    if form.is_some() {
        req = req.header("Content-Type", "application/x-www-form-urlencoded");
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req.body(form.unwrap_or("").as_bytes().to_vec()).unwrap();
    let mut res = agent.run(req).expect("request");
    let headers = res
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    let bytes = res
        .body_mut()
        .with_config()
        .limit(16 * 1024 * 1024)
        .read_to_vec()
        .unwrap_or_default();
    Answer {
        status: res.status().as_u16(),
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
        bytes,
    }
}

/// The value of cookie `name` set by `a`, if any.
fn set_cookie(a: &Answer, name: &str) -> Option<String> {
    a.cookies().iter().find_map(|c| {
        c.strip_prefix(&format!("{name}="))
            .map(|rest| rest.split(';').next().unwrap_or("").to_string())
    })
}

fn form_token(body: &str) -> String {
    let at = body
        .find("name=\"csrf_token\" value=\"")
        .expect("a csrf field")
        + 25;
    body[at..at + 64].to_string()
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Signs in through the form; returns the session cookie's value.
fn sign_in(app: &TestApp, prefix: &str, email: &str, password: &str) -> Answer {
    let page = request(app, "GET", "/sign-in", &HashMap::new(), None);
    assert_eq!(page.status, 200);
    let signin = format!("{prefix}ldr_signin");
    let token = set_cookie(&page, &signin).expect("the sign-in form's cookie");
    assert_eq!(form_token(&page.body), token);
    let jar = HashMap::from([(signin, token.clone())]);
    let body = format!(
        "email={}&password={}&csrf_token={token}",
        enc(email),
        enc(password)
    );
    request(app, "POST", "/sign-in", &jar, Some(&body))
}

fn session_rows(app: &TestApp) -> Vec<(String, String)> {
    let mut c = app.state.pool.get().unwrap();
    sessions::table
        .select((sessions::id_hash, sessions::user_id))
        .load::<(String, String)>(&mut **c)
        .unwrap()
}

fn cookies_are_secure_by_default_and_assets_are_served_hashed_and_immutable(db: Db) {
    let Some(app) = TestApp::spawn(db) else {
        return;
    };
    let page = request(&app, "GET", "/sign-in", &HashMap::new(), None);
    let flags = page.cookies().join(" | ");
    assert!(
        flags.starts_with("__Host-ldr_signin=")
            && flags.contains("HttpOnly")
            && flags.contains("SameSite=Strict")
            && flags.contains("Secure")
            && flags.contains("Path=/"),
        "{flags}"
    );
    // Before signing in: a NUL in the e-mail address is refused as a page (on PostgreSQL the
    // lookup of such an address was a 500).
    let nul = sign_in(&app, "__Host-", "a\0@x.nhs.test", ADMIN_PASSWORD);
    assert_eq!(nul.status, 400, "{}", nul.body);
    assert!(nul.body.contains("NUL character"), "{}", nul.body);
    let signed_in = sign_in(&app, "__Host-", ADMIN_EMAIL, ADMIN_PASSWORD);
    assert_eq!(
        (signed_in.status, signed_in.header("location")),
        (303, Some("/"))
    );
    let session = set_cookie(&signed_in, "__Host-ldr_session").expect("a session cookie");
    let flags = signed_in.cookies().join(" | ");
    assert!(
        flags.contains("Secure") && flags.contains("HttpOnly") && flags.contains("SameSite=Strict"),
        "{flags}"
    );
    assert_eq!(session.len(), 64, "32 random bytes");
    // The database keeps the id's sha256, never the id.
    let rows = session_rows(&app);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].0, ldr::service::tokens::sha256_hex(&session));
    assert_ne!(rows[0].0, session);

    let jar = HashMap::from([("__Host-ldr_session".to_string(), session)]);
    // The accessibility statement: for everyone, linked from every page's footer, with the
    // reader's own header when signed in.
    let statement = request(&app, "GET", "/accessibility", &HashMap::new(), None);
    assert_eq!(statement.status, 200);
    assert!(statement
        .body
        .contains("<h1 class=\"nhsuk-heading-l\">Accessibility statement</h1>"));
    assert!(!statement.body.contains("Sign out"));
    assert!(
        nul.body.contains("href=\"/accessibility\""),
        "the footer links to it"
    );
    let mine = request(&app, "GET", "/accessibility", &jar, None);
    assert!(mine.body.contains("Sign out"), "{}", mine.body);
    let home = request(&app, "GET", "/", &jar, None);
    assert_eq!(home.status, 200);
    assert!(
        home.body
            .contains("<h1 class=\"nhsuk-heading-l\">All cases</h1>"),
        "{}",
        home.body
    );
    assert!(home.body.contains("Administrator"));
    assert!(home
        .header("content-security-policy")
        .unwrap()
        .contains("default-src 'self'"));
    // Nothing comes from another host (the SVG logo's namespace is a name, not a request).
    let elsewhere = home
        .body
        .replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
    assert!(
        !elsewhere.contains("http://") && !elsewhere.contains("https://"),
        "{elsewhere}"
    );
    assert!(
        !home.body.contains("<script>") && !home.body.contains("style="),
        "no inline script or style"
    );
    // Every asset the page names: the right type, cached for a year.
    let mut seen = 0;
    for part in home.body.split("=\"/assets/").skip(1) {
        let path = format!("/assets/{}", part.split('"').next().unwrap());
        let a = request(&app, "GET", &path, &HashMap::new(), None);
        assert_eq!(a.status, 200, "{path}");
        assert_eq!(
            a.header("cache-control"),
            Some("public, max-age=31536000, immutable"),
            "{path}"
        );
        let ct = a.header("content-type").unwrap();
        let want = if path.ends_with(".css") {
            "text/css"
        } else if path.ends_with(".js") {
            "text/javascript"
        } else if path.ends_with(".svg") {
            "image/svg+xml"
        } else if path.ends_with(".png") {
            "image/png"
        } else {
            "image/x-icon"
        };
        assert!(ct.starts_with(want), "{path}: {ct}");
        seen += 1;
    }
    assert!(seen >= 7, "{seen} assets");
    // A first visit (the sign-in page and everything it loads), as a browser asks for it
    // (gzip accepted): at most 250 KB over the wire, all of it from this host.
    let first = request(&app, "GET", "/sign-in", &HashMap::new(), None);
    let mut transferred = first.bytes.len();
    for part in first.body.split("=\"/assets/").skip(1) {
        let path = format!("/assets/{}", part.split('"').next().unwrap());
        let plain = request(&app, "GET", &path, &HashMap::new(), None);
        let a = request_with(
            &app,
            "GET",
            &path,
            &HashMap::new(),
            None,
            &[("Accept-Encoding", "gzip, deflate, br")],
        );
        assert_eq!(a.header("vary"), Some("Accept-Encoding"), "{path}");
        if path.ends_with(".css") || path.ends_with(".js") {
            assert_eq!(a.header("content-encoding"), Some("gzip"), "{path}");
            let mut unzipped = Vec::new();
            use std::io::Read;
            flate2::read::GzDecoder::new(a.bytes.as_slice())
                .read_to_end(&mut unzipped)
                .unwrap();
            assert_eq!(unzipped, plain.bytes, "{path}");
            assert!(a.bytes.len() < plain.bytes.len(), "{path} compresses");
        }
        transferred += a.bytes.len();
    }
    assert!(
        transferred <= 250 * 1024,
        "a first visit transfers {transferred} bytes"
    );
    eprintln!("a first visit transfers {transferred} bytes (gzip)");
    // Only hashed names are served.
    let plain = request(
        &app,
        "GET",
        "/assets/nhsuk/nhsuk-frontend.min.css",
        &HashMap::new(),
        None,
    );
    assert_eq!(plain.status, 404);
}

fn a_session_ends_when_idle_too_long_or_too_old(db: Db) {
    let Some(app) = TestApp::spawn_with(db, &[("LDR_INSECURE_COOKIES", "true")]) else {
        return;
    };
    let start = |app: &TestApp| {
        let a = sign_in(app, "", ADMIN_EMAIL, ADMIN_PASSWORD);
        assert!(
            !a.cookies().join(" ").contains("Secure"),
            "LDR_INSECURE_COOKIES=true"
        );
        HashMap::from([(
            "ldr_session".to_string(),
            set_cookie(&a, "ldr_session").unwrap(),
        )])
    };
    let age = |app: &TestApp, created_minutes: i64, seen_minutes: i64| {
        let mut c = app.state.pool.get().unwrap();
        let now = ldr::db::now();
        diesel::update(sessions::table)
            .set((
                sessions::created_at.eq(now - chrono::Duration::minutes(created_minutes)),
                sessions::last_seen_at.eq(now - chrono::Duration::minutes(seen_minutes)),
            ))
            .execute(&mut **c)
            .unwrap();
    };
    let jar = start(&app);
    age(&app, 40, 29);
    assert_eq!(
        request(&app, "GET", "/", &jar, None).status,
        200,
        "29 minutes idle"
    );
    age(&app, 40, 31);
    let a = request(&app, "GET", "/", &jar, None);
    assert_eq!(
        (a.status, a.header("location")),
        (303, Some("/sign-in?ended=1")),
        "31 minutes idle"
    );
    // The sign-in page says why, and that what was typed and not sent is lost.
    let page = request(&app, "GET", "/sign-in?ended=1", &HashMap::new(), None);
    assert!(
        page.body
            .contains("A session ends after 30 minutes with nothing done"),
        "{}",
        page.body
    );
    let fresh = request(&app, "GET", "/sign-in", &HashMap::new(), None);
    assert!(
        !fresh.body.contains("You have been signed out"),
        "{}",
        fresh.body
    );
    assert!(
        session_rows(&app).is_empty(),
        "the ended session is deleted"
    );

    let jar = start(&app);
    age(&app, 12 * 60 + 1, 1);
    let a = request(&app, "GET", "/", &jar, None);
    assert_eq!(a.status, 303, "over 12 hours old, however active");

    // A session nobody comes back to is deleted when someone next signs in.
    start(&app);
    age(&app, 40, 31);
    start(&app);
    assert_eq!(session_rows(&app).len(), 1, "only the new session is kept");
}

/// A page asked for without a session (a link in a notice) leads to the sign-in page and, once
/// signed in, back to it; an address elsewhere is never where sign-in leads.
fn sign_in_leads_back_to_the_page_asked_for_and_never_elsewhere(db: Db) {
    let Some(app) = TestApp::spawn_with(db, &[("LDR_INSECURE_COOKIES", "true")]) else {
        return;
    };
    let asked = "/admin/organisations?q=Riverside";
    let a = request(&app, "GET", asked, &HashMap::new(), None);
    let to = a.header("location").unwrap().to_string();
    assert_eq!(
        (a.status, to.as_str()),
        (
            303,
            "/sign-in?next=%2Fadmin%2Forganisations%3Fq%3DRiverside"
        )
    );
    // Signing in from there comes back to the page; the cookie that kept it is then removed.
    let page = request(&app, "GET", &to, &HashMap::new(), None);
    let kept = set_cookie(&page, "ldr_return").expect("the page asked for is kept");
    assert_eq!(kept, enc(asked));
    assert!(
        page.cookies().join(" ").contains("SameSite=Lax"),
        "{:?}",
        page.cookies()
    );
    let token = set_cookie(&page, "ldr_signin").unwrap();
    let jar = HashMap::from([
        ("ldr_signin".to_string(), token.clone()),
        ("ldr_return".to_string(), kept),
    ]);
    let body = format!(
        "email={}&password={}&csrf_token={token}",
        enc(ADMIN_EMAIL),
        enc(ADMIN_PASSWORD)
    );
    let done = request(&app, "POST", "/sign-in", &jar, Some(&body));
    assert_eq!((done.status, done.header("location")), (303, Some(asked)));
    assert_eq!(set_cookie(&done, "ldr_return").as_deref(), Some(""));
    // A form sent after the session ended is not sent again: sign-in leads home.
    let posted = request(
        &app,
        "POST",
        "/api-keys/token",
        &HashMap::new(),
        Some("csrf_token=x"),
    );
    assert_eq!(
        (posted.status, posted.header("location")),
        (303, Some("/sign-in"))
    );
    // Never to another host, nor back to sign-in itself.
    for next in [
        "//evil.example/x",
        "https://evil.example/",
        "/\\evil.example",
        "/sign-in?next=%2F",
        "evil",
    ] {
        let page = request(
            &app,
            "GET",
            &format!("/sign-in?next={}", enc(next)),
            &HashMap::new(),
            None,
        );
        assert_eq!(page.status, 200, "{next}");
        assert_eq!(
            set_cookie(&page, "ldr_return").as_deref(),
            Some(""),
            "{next} was kept"
        );
        let token = set_cookie(&page, "ldr_signin").unwrap();
        let jar = HashMap::from([
            ("ldr_signin".to_string(), token.clone()),
            ("ldr_return".to_string(), enc(next)),
        ]);
        let body = format!(
            "email={}&password={}&csrf_token={token}",
            enc(ADMIN_EMAIL),
            enc(ADMIN_PASSWORD)
        );
        let done = request(&app, "POST", "/sign-in", &jar, Some(&body));
        assert_eq!(
            (done.status, done.header("location")),
            (303, Some("/")),
            "{next}"
        );
    }
}

fn sign_in_refusals_change_nothing_and_share_the_apis_throttle(db: Db) {
    let Some(app) = TestApp::spawn_with(db, &[("LDR_INSECURE_COOKIES", "true")]) else {
        return;
    };
    // Without the form's token (or with another one): refused, no session.
    let body = format!(
        "email={}&password={}&csrf_token=",
        enc(ADMIN_EMAIL),
        enc(ADMIN_PASSWORD)
    );
    let a = request(&app, "POST", "/sign-in", &HashMap::new(), Some(&body));
    assert_eq!(a.status, 403);
    assert!(a.header("content-type").unwrap().starts_with("text/html"));
    assert!(a.body.contains("Your form could not be sent"));
    let forged = HashMap::from([("ldr_signin".to_string(), "a".repeat(64))]);
    let body = format!(
        "email={}&password={}&csrf_token={}",
        enc(ADMIN_EMAIL),
        enc(ADMIN_PASSWORD),
        "b".repeat(64)
    );
    assert_eq!(
        request(&app, "POST", "/sign-in", &forged, Some(&body)).status,
        403
    );
    assert!(session_rows(&app).is_empty());

    // A wrong password and an unknown address say the same, and only that.
    for (email, password) in [
        (ADMIN_EMAIL, "wrong-password-1"),
        ("nobody@ldr.test", ADMIN_PASSWORD),
    ] {
        let a = sign_in(&app, "", email, password);
        assert_eq!(a.status, 401);
        assert!(
            a.body.contains("Email address or password is wrong"),
            "{}",
            a.body
        );
        assert!(a.body.contains("nhsuk-error-summary"));
        assert!(set_cookie(&a, "ldr_session").is_none());
    }
    // Empty fields are named.
    let a = sign_in(&app, "", "", "");
    assert_eq!(a.status, 422);
    assert!(a.body.contains("Enter your email address") && a.body.contains("Enter your password"));
    assert!(session_rows(&app).is_empty());

    // The API's login throttle: 10 attempts a minute for one account from one address, the
    // page's and the API's counted together.
    for _ in 0..9 {
        assert_eq!(
            sign_in(&app, "", ADMIN_EMAIL, "wrong-password-1").status,
            401
        );
    }
    let a = sign_in(&app, "", ADMIN_EMAIL, ADMIN_PASSWORD);
    assert_eq!(a.status, 429, "the eleventh attempt");
    assert!(a.body.contains("Too many requests") && a.header("retry-after").is_some());
    app.post(
        "/api/v1/auth/login",
        None,
        &serde_json::json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}),
    )
    .expect_problem(429, "rate_limited");
}

fn pages_answer_errors_as_pages_and_the_api_keeps_problems(db: Db) {
    let Some(app) = TestApp::spawn_with(db, &[("LDR_INSECURE_COOKIES", "true")]) else {
        return;
    };
    let a = request(&app, "GET", "/no-such-page", &HashMap::new(), None);
    assert_eq!(a.status, 404);
    assert!(a.header("content-type").unwrap().starts_with("text/html"));
    assert!(a.body.contains("Page not found"));
    assert!(!a.body.contains("Sign out"), "nobody is signed in");
    // The API and API clients keep problem+json.
    let api = request(&app, "GET", "/api/v1/no-such-thing", &HashMap::new(), None);
    assert_eq!(
        (api.status, api.header("content-type")),
        (404, Some("application/problem+json"))
    );
    app.get("/no-such-page", None)
        .expect_problem(404, "not_found");
    // Signed out: every page sends to the sign-in page, which comes back to it.
    for (path, to) in [
        ("/", "/sign-in"),
        (
            "/disputes/7d0f0a34-6c1e-4a39-9b1c-2a4a8f0e7c11",
            "/sign-in?next=%2Fdisputes%2F7d0f0a34-6c1e-4a39-9b1c-2a4a8f0e7c11",
        ),
        ("/documents/x", "/sign-in?next=%2Fdocuments%2Fx"),
    ] {
        let a = request(&app, "GET", path, &HashMap::new(), None);
        assert_eq!((a.status, a.header("location")), (303, Some(to)), "{path}");
    }
    let signed = sign_in(&app, "", ADMIN_EMAIL, ADMIN_PASSWORD);
    let jar = HashMap::from([(
        "ldr_session".to_string(),
        set_cookie(&signed, "ldr_session").unwrap(),
    )]);
    for path in [
        "/disputes/not-a-uuid",
        "/disputes/7d0f0a34-6c1e-4a39-9b1c-2a4a8f0e7c11",
        "/documents/%00",
    ] {
        let a = request(&app, "GET", path, &jar, None);
        assert_eq!(a.status, 404, "{path}");
        // A signed-in person's error page keeps their header (web::error_pages); a path
        // holding NUL is refused before any page runs.
        if !path.contains("%00") {
            assert!(a.body.contains("Page not found"), "{path}");
            assert!(a.body.contains("Sign out"), "{path}: {}", a.body);
        }
    }
    // Sign-out needs the session's token: without it nothing changes.
    let a = request(&app, "POST", "/sign-out", &jar, Some("csrf_token=nope"));
    assert_eq!(a.status, 403);
    assert_eq!(session_rows(&app).len(), 1);
    let home = request(&app, "GET", "/", &jar, None);
    let token = form_token(&home.body);
    let a = request(
        &app,
        "POST",
        "/sign-out",
        &jar,
        Some(&format!("csrf_token={token}")),
    );
    assert_eq!((a.status, a.header("location")), (303, Some("/sign-in")));
    assert!(session_rows(&app).is_empty());
    assert_eq!(request(&app, "GET", "/", &jar, None).status, 303);
}

/// A multipart form posted as a browser does: the fields, then a file part `file`.
fn multipart(
    app: &TestApp,
    path: &str,
    jar: &HashMap<String, String>,
    fields: &[(&str, &str)],
    file: &[u8],
) -> Answer {
    let boundary = "----pagesBoundary7MA4YWxk";
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\nContent-Type: application/pdf\r\n\r\n").as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let agent = common::no_redirects();
    let cookie = jar
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("; ");
    let req = ureq::http::Request::builder()
        .method("POST")
        .uri(app.url(path))
        .header("Accept", "text/html")
        .header("Cookie", cookie)
        .header(
            "Content-Type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .unwrap();
    let mut res = agent.run(req).expect("request");
    let bytes = res.body_mut().read_to_vec().unwrap_or_default();
    Answer {
        status: res.status().as_u16(),
        headers: res
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
            .collect(),
        body: String::from_utf8_lossy(&bytes).into_owned(),
        bytes,
    }
}

/// The session cookie of `email`, signed in through the form.
fn jar_of(app: &TestApp, email: &str) -> HashMap<String, String> {
    let signed = sign_in(app, "", email, common::PASSWORD);
    HashMap::from([(
        "ldr_session".to_string(),
        set_cookie(&signed, "ldr_session").expect("signed in"),
    )])
}

/// An open organisation without an e-mail address (as an ODS import leaves each one) is told
/// nothing of its disputes. The admin's organisations page warns of them, with a link to a
/// list of just those, and marks each; the API lists them with `without_email=true`. A closed
/// one is not counted; once every open one has an address the warning goes. A filter that is
/// neither true nor false is refused, in words, on the page and in the API.
fn organisations_no_notice_reaches_are_named_to_the_admin(db: Db) {
    use diesel::prelude::*;
    use ldr::db::schema::organisations;
    let Some((app, w)) = world_on(db) else {
        return;
    };
    let jar = admin_jar(&app);
    let untold = |app: &TestApp| -> Vec<String> {
        let mut names: Vec<String> = app
            .get("/api/v1/organisations?without_email=true", Some(&w.admin))
            .expect(200)
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["name"].as_str().unwrap().to_string())
            .collect();
        names.sort();
        names
    };
    let a = request(&app, "GET", "/admin/organisations", &jar, None);
    assert_eq!(a.status, 200);
    assert!(!a.body.contains("nhsuk-warning-callout"), "{}", a.body);
    assert!(untold(&app).is_empty());

    // Oak Practice and South CCG lose their addresses; Birch Practice too, but it is closed.
    let set = |id: &str, email: &str, active: bool| {
        let mut pooled = ldr::db::checkout(&app.state.pool).unwrap();
        let c: &mut ldr::db::DbConn = &mut pooled;
        diesel::update(organisations::table.find(id))
            .set((
                organisations::email.eq(email),
                organisations::active.eq(active),
            ))
            .execute(c)
            .unwrap();
    };
    set(&w.oak, "", true);
    set(&w.south_ccg, "  ", true);
    set(&w.birch, "", false);
    assert_eq!(untold(&app), ["Oak Practice", "South CCG"]);

    let a = request(&app, "GET", "/admin/organisations", &jar, None);
    assert_eq!(a.status, 200);
    assert!(
        a.body.contains("nhsuk-warning-callout")
            && a.body.contains(
                "2 open organisations have no email address, so no notice reaches them when a \
                 dispute names them."
            )
            && a.body
                .contains("<a href=\"/admin/organisations?without_email&#x3D;true\">Show them</a>"),
        "{}",
        a.body
    );
    assert_eq!(
        a.body
            .matches("No email address: not told of its disputes")
            .count(),
        2,
        "each open one is marked, not the closed one"
    );
    let only = request(
        &app,
        "GET",
        "/admin/organisations?without_email=true",
        &jar,
        None,
    );
    assert_eq!(only.status, 200);
    assert!(
        only.body
            .contains("Open organisations without an email address")
            && only.body.contains("Oak Practice")
            && only.body.contains("South CCG")
            && !only.body.contains("Elm Practice")
            && !only.body.contains("Birch Practice")
            && only.body.contains("Show every organisation"),
        "{}",
        only.body
    );

    // A filter that is neither true nor false.
    let bad = request(
        &app,
        "GET",
        "/admin/organisations?without_email=yes",
        &jar,
        None,
    );
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("must be true or false"), "{}", bad.body);
    let p = app
        .get("/api/v1/organisations?without_email=yes", Some(&w.admin))
        .expect_problem(422, "validation_failed");
    assert_eq!(p["errors"][0]["field"], "without_email", "{p}");

    // Addresses given: one, then none left to warn of.
    app.patch(
        &format!("/api/v1/organisations/{}", w.oak),
        Some(&w.admin),
        &serde_json::json!({"email": "office@oak.nhs.test"}),
    )
    .expect(200);
    let a = request(&app, "GET", "/admin/organisations", &jar, None);
    assert!(
        a.body.contains(
            "1 open organisation has no email address, so no notice reaches it when a dispute \
             names it. Add an address to it."
        ),
        "{}",
        a.body
    );
    app.patch(
        &format!("/api/v1/organisations/{}", w.south_ccg),
        Some(&w.admin),
        &serde_json::json!({"email": "office@south.nhs.test"}),
    )
    .expect(200);
    assert!(untold(&app).is_empty());
    let a = request(&app, "GET", "/admin/organisations", &jar, None);
    assert!(!a.body.contains("nhsuk-warning-callout"), "{}", a.body);
}

/// The app on `db` with "today" 2 March 2026, cookies that work over plain http, and the
/// people and organisations of [`common::world::World`].
fn world_on(db: Db) -> Option<(TestApp, common::world::World)> {
    let app = TestApp::spawn_with(
        db,
        &[
            ("LDR_TODAY", "2026-03-02"),
            ("LDR_INSECURE_COOKIES", "true"),
        ],
    )?;
    let w = common::world::World::new(&app);
    Some((app, w))
}

/// The bootstrap admin's session cookie.
fn admin_jar(app: &TestApp) -> HashMap<String, String> {
    let signed = sign_in(app, "", ADMIN_EMAIL, ADMIN_PASSWORD);
    HashMap::from([(
        "ldr_session".to_string(),
        set_cookie(&signed, "ldr_session").expect("signed in"),
    )])
}

fn action_forms_refuse_what_they_must_change_nothing_and_never_fail(db: Db) {
    use common::world::*;
    let Some((app, w)) = world_on(db) else {
        return;
    };
    let id = w.file(&app, true);
    let events = |app: &TestApp| {
        app.get(
            &format!("/api/v1/disputes/{id}/events"),
            Some(w.t(PRACTICE)),
        )
        .expect(200)
        .as_array()
        .unwrap()
        .len()
    };
    let jar = jar_of(&app, "pat.practice@ldr.test");
    let home = request(&app, "GET", "/", &jar, None);
    let token = form_token(&home.body);
    assert!(
        home.body.contains("href=\"/disputes/new\""),
        "File a dispute"
    );

    // Forms that are not there, or not the viewer's now.
    for (path, status) in [
        (format!("/disputes/{id}/actions/nonsense"), 404),
        (format!("/disputes/{id}/actions/refer_to_fhsu"), 409),
        (format!("/disputes/{id}/actions/appoint_panel"), 409),
        ("/disputes/not-a-uuid/actions/add_note".to_string(), 404),
        (format!("/disputes/{id}/actions/assign_mediator"), 409),
        (format!("/disputes/{id}/actions/add_note"), 200),
    ] {
        let a = request(&app, "GET", &path, &jar, None);
        assert_eq!(a.status, status, "{path}: {}", a.body);
        assert!(a.header("content-type").unwrap().starts_with("text/html"));
        if status == 409 {
            assert!(a.body.contains("You cannot do this now"), "{}", a.body);
            assert!(!a.body.contains("<textarea"), "no form to send");
            assert!(
                !a.body.contains("<select") && !a.body.contains(CLINICAL),
                "nobody is offered for a panel to someone who may not appoint one"
            );
        }
    }
    let note = format!("/disputes/{id}/actions/add_note");
    // No token, a wrong token: refused, nothing added.
    for form in [
        "text=forged&version=1",
        "text=forged&version=1&csrf_token=nope",
    ] {
        let a = request(&app, "POST", &note, &jar, Some(form));
        assert_eq!(a.status, 403, "{form}");
        assert!(a.body.contains("Your form could not be sent"));
    }
    assert_eq!(events(&app), 1);
    // The API's words, beside the field; what was typed kept.
    let a = request(
        &app,
        "POST",
        &note,
        &jar,
        Some(&format!("csrf_token={token}&version=1&text=")),
    );
    assert_eq!(a.status, 422);
    assert!(a.body.contains("Note is required"), "{}", a.body);
    assert!(a.body.contains("id=\"text-error\""));
    let long = "x".repeat(10_001);
    let a = request(
        &app,
        "POST",
        &note,
        &jar,
        Some(&format!("csrf_token={token}&version=1&text={long}")),
    );
    assert_eq!(a.status, 422);
    assert!(a.body.contains("Note must be at most 10000 characters"));
    assert!(a.body.contains(&long), "kept");
    // Hostile values never make a 500.
    for form in [
        format!("csrf_token={token}&version=-99999999999999999999&text=%00%FF"),
        format!("csrf_token={token}&version=1&text=ok&type=withdraw&expected_version=0"),
        format!("csrf_token={token}&version=1&lodged_on-day=99&text=%E2%80%AE"),
    ] {
        let a = request(&app, "POST", &note, &jar, Some(&form));
        assert!(a.status < 500, "{form}: {}", a.status);
    }
    // A NUL in a form or a query (PostgreSQL cannot store one) is refused before anything is
    // read or written, with a page saying what to do; so is a form too long to send.
    let before = events(&app);
    for (method, path, form) in [
        (
            "POST",
            note.clone(),
            Some(format!("csrf_token={token}&version={before}&text=a%00b")),
        ),
        (
            "POST",
            format!("/disputes/{id}/actions/withdraw"),
            Some(format!("csrf_token={token}&version={before}&reason=%00")),
        ),
        ("GET", "/disputes?state=%00".to_string(), None),
    ] {
        let a = request(&app, method, &path, &jar, form.as_deref());
        assert_eq!(a.status, 400, "{path}: {}", a.body);
        assert!(
            a.body.contains("There is a problem with your request"),
            "{path}: {}",
            a.body
        );
        assert!(a.body.contains("NUL character"), "{path}: {}", a.body);
    }
    // The longest text the API takes fits, in the characters form encoding makes longest
    // (refused by the API's own limit, on the form, not as a form too long to send) …
    let longest = "%E2%80%99".repeat(50_001);
    let a = request(
        &app,
        "POST",
        &note,
        &jar,
        Some(&format!(
            "csrf_token={token}&version={before}&text={longest}"
        )),
    );
    assert!(
        !a.body.contains("The form is too long to send"),
        "{}: {}",
        a.status,
        a.body
    );
    assert_eq!(events(&app), before, "nothing was written");
    // … and a form longer than any text is refused before it is read.
    let huge = "x".repeat(ldr::web::FORM_LIMIT + 1);
    let a = request(
        &app,
        "POST",
        &note,
        &jar,
        Some(&format!("csrf_token={token}&version={before}&text={huge}")),
    );
    assert_eq!(a.status, 400);
    assert!(
        a.body.contains("The form is too long to send"),
        "{}",
        a.body
    );
    assert_eq!(events(&app), before, "nothing was written");
    // A note, then a withdrawal drawn before it: stale, nothing changed.
    let before = events(&app);
    let a = request(
        &app,
        "POST",
        &note,
        &jar,
        Some(&format!(
            "csrf_token={token}&version={before}&text=Our+figures"
        )),
    );
    assert_eq!(
        (a.status, a.header("location").map(str::to_string)),
        (303, Some(format!("/disputes/{id}?done=add_note")))
    );
    let a = request(
        &app,
        "POST",
        &format!("/disputes/{id}/actions/withdraw"),
        &jar,
        Some(&format!(
            "csrf_token={token}&version={before}&reason=Settled"
        )),
    );
    assert_eq!(a.status, 409);
    assert!(
        a.body.contains("Someone else acted on this case first"),
        "{}",
        a.body
    );
    assert!(a.body.contains("Pat Practice added a note: “Our figures”"));
    let d = app
        .get(&format!("/api/v1/disputes/{id}"), Some(w.t(PRACTICE)))
        .expect(200);
    assert_eq!(d["state"], "informal");

    // Filing: hostile values are refused in words, never a 500, nothing filed.
    let filed = |app: &TestApp| {
        app.get("/api/v1/disputes", Some(w.t(PRACTICE))).expect(200)["items"]
            .as_array()
            .map_or(0, Vec::len)
    };
    let n = filed(&app);
    let a = request(
        &app,
        "POST",
        "/disputes/new",
        &jar,
        Some(&format!(
            "csrf_token={token}&title=t&respondent_id=..%2Fx&category=nonsense&summary=s\
             &matter_arose_on-day=99&matter_arose_on-month=99&matter_arose_on-year=99999\
             &contract_related=maybe&appellant_id=someone-else"
        )),
    );
    assert_eq!(a.status, 422, "{}", a.body);
    for text in [
        "The date the matter arose must be a real date",
        "Whether the dispute relates to your contract must be true or false",
        "What the dispute is about must be one of",
    ] {
        assert!(a.body.contains(text), "{text}: {}", a.body);
    }
    assert_eq!(filed(&app), n);
    let a = request(&app, "POST", "/disputes/new", &jar, Some("title=t"));
    assert_eq!(a.status, 403, "no token");

    // Uploads: without the token nothing is stored; not multipart is said in words.
    let docs = |app: &TestApp| {
        app.get(
            &format!("/api/v1/disputes/{id}/documents"),
            Some(w.t(PRACTICE)),
        )
        .expect(200)
        .as_array()
        .unwrap()
        .len()
    };
    let up = format!("/disputes/{id}/documents");
    let a = multipart(&app, &up, &jar, &[("kind", "evidence")], b"%PDF-1.4 x");
    assert_eq!(a.status, 403);
    let a = multipart(
        &app,
        &up,
        &jar,
        &[("csrf_token", &token), ("kind", "record")],
        b"%PDF-1.4 x",
    );
    assert_eq!(a.status, 422, "a record is the panel's");
    assert!(a.body.contains("The kind of document"), "{}", a.body);
    assert_eq!(docs(&app), 0);
    let a = request(
        &app,
        "POST",
        &up,
        &jar,
        Some(&format!("csrf_token={token}")),
    );
    assert_eq!(a.status, 415);
    assert!(a.body.contains("multipart/form-data"));
    let a = multipart(
        &app,
        &up,
        &jar,
        &[("csrf_token", &token), ("kind", "evidence")],
        b"%PDF-1.4 x",
    );
    assert_eq!(a.status, 303);
    assert_eq!(docs(&app), 1);

    // A mediator does not file, and is not offered the form.
    let jar = jar_of(&app, "mia.mediator@ldr.test");
    let a = request(&app, "GET", "/disputes/new", &jar, None);
    assert_eq!(a.status, 403);
    assert!(a
        .body
        .contains("Only practice users and commissioners file disputes"));
    assert!(!a.body.contains("name=\"title\""));
    let a = request(
        &app,
        "GET",
        &format!("/disputes/{id}/referral-pack"),
        &jar,
        None,
    );
    assert!(
        a.status >= 400 && a.status < 500,
        "no pack before the referral: {}",
        a.status
    );
}

/// A dispute filed with an API key (issue #38) names the integration in the case page's history;
/// an admin's case page (only) lists who has looked at the case, from the access log.
fn the_case_page_names_an_api_keys_integration_and_shows_admins_who_looked(db: Db) {
    use common::world::*;
    let Some((app, w)) = world_on(db) else {
        return;
    };
    let key = app
        .post(
            "/api/v1/api-keys",
            Some(w.t(PRACTICE)),
            &serde_json::json!({"name": "EMIS connector"}),
        )
        .expect(201)["key"]
        .as_str()
        .unwrap()
        .to_string();
    let id = w.file_as(&app, &key, "Prescribing budget 2025/26", false);
    let jar = jar_of(&app, "cara.commissioner@ldr.test");
    // Her address spells the id in capitals: the page is the case's, and so is the log's entry.
    let page = request(
        &app,
        "GET",
        &format!("/disputes/{}", id.to_uppercase()),
        &jar,
        None,
    );
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body
            .contains("Elm Practice&#x27;s integration &#x27;EMIS connector&#x27;")
            || page
                .body
                .contains("Elm Practice's integration 'EMIS connector'"),
        "{}",
        page.body
    );
    // Only an admin's case page says who has looked at the case (the access log).
    assert!(!page.body.contains("Who has looked at this case"));
    let signed = sign_in(&app, "", ADMIN_EMAIL, ADMIN_PASSWORD);
    let admin = HashMap::from([(
        "ldr_session".to_string(),
        set_cookie(&signed, "ldr_session").expect("signed in"),
    )]);
    let start = std::time::Instant::now();
    let looked = loop {
        let page = request(&app, "GET", &format!("/disputes/{id}"), &admin, None);
        assert_eq!(page.status, 200);
        let at = page
            .body
            .find("Who has looked at this case")
            .expect("the admin's section");
        let section = page.body[at..].to_string();
        if section.contains("Cara Commissioner")
            || start.elapsed() > std::time::Duration::from_secs(15)
        {
            break section;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    assert!(looked.contains("Cara Commissioner"), "{looked}");
    assert!(looked.contains("Opened the case page"), "{looked}");
    assert!(looked.contains("127.0.0.1"), "{looked}");
    // The API key's own reads are named as its integration.
    app.get(&format!("/api/v1/disputes/{id}"), Some(&key))
        .expect(200);
    let start = std::time::Instant::now();
    loop {
        let page = request(&app, "GET", &format!("/disputes/{id}"), &admin, None);
        let at = page.body.find("Who has looked at this case").unwrap();
        if page.body[at..].contains("integration")
            || start.elapsed() > std::time::Duration::from_secs(15)
        {
            assert!(
                page.body[at..].contains("Read the case (API)"),
                "{}",
                &page.body[at..]
            );
            assert!(
                page.body[at..].contains("integration"),
                "{}",
                &page.body[at..]
            );
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

/// 53 disputes: the list shows 50 a page, oldest first, with links to the next and previous
/// pages; a page number that is no page (past the last, zero, words) shows a real page.
/// The app on 2 March 2026 with the world's people, allowing a practice many filings.
fn many_filings(db: Db) -> Option<(TestApp, common::world::World)> {
    let app = TestApp::spawn_with(
        db,
        &[
            ("LDR_TODAY", "2026-03-02"),
            ("LDR_INSECURE_COOKIES", "true"),
            ("LDR_FILINGS_PER_HOUR", "1000"),
        ],
    )?;
    let w = common::world::World::new(&app);
    Some((app, w))
}

fn the_list_of_cases_is_paged_at_fifty(db: Db) {
    use common::world::*;
    let Some((app, w)) = many_filings(db) else {
        return;
    };
    for n in 1..=53 {
        w.file_as(&app, w.t(PRACTICE), &format!("Paged case {n:02}"), false);
    }
    let jar = jar_of(&app, "pat.practice@ldr.test");
    let first = request(&app, "GET", "/", &jar, None);
    assert_eq!(first.status, 200, "{}", first.body);
    assert!(
        first.body.contains("Cases 1 to 50 of 53."),
        "{}",
        first.body
    );
    assert!(first.body.contains("Paged case 01") && first.body.contains("Paged case 50"));
    assert!(!first.body.contains("Paged case 51"));
    assert!(
        first.body.contains("page&#x3D;2\" rel=\"next\"")
            && first.body.contains("Cases 51 to 53</span>"),
        "{}",
        first.body
    );
    assert!(!first.body.contains("rel=\"prev\""));
    let second = request(&app, "GET", "/?sort=oldest&page=2", &jar, None);
    assert!(
        second.body.contains("Cases 51 to 53 of 53."),
        "{}",
        second.body
    );
    assert!(second.body.contains("Paged case 53") && !second.body.contains("Paged case 50"));
    assert!(second.body.contains("rel=\"prev\"") && !second.body.contains("rel=\"next\""));
    let newest = request(&app, "GET", "/?sort=newest", &jar, None);
    assert!(newest.body.contains("Paged case 53") && !newest.body.contains("Paged case 03"));
    for odd in [
        "/?page=99",
        "/?page=0",
        "/?page=two",
        "/?page=-1&sort=sideways",
    ] {
        let p = request(&app, "GET", odd, &jar, None);
        assert_eq!(p.status, 200, "{odd}");
        assert!(p.body.contains("Paged case"), "{odd}");
    }
    assert!(request(&app, "GET", "/?page=99", &jar, None)
        .body
        .contains("Cases 51 to 53 of 53."));
}

fn the_deadlines_page_sorts_every_case_then_shows_fifty(db: Db) {
    use common::world::*;
    let Some((app, w)) = many_filings(db) else {
        return;
    };
    let base = app.state.clock.today();
    // Case n is lodged 53 - n working days after the first day, so the last filed has the
    // earliest hearing deadline and the first filed the latest: the page's order is the
    // deadlines' and not the filing's.
    for n in 1..=53 {
        let lodged = app.state.calendar.add_working_days(base, 53 - n).unwrap();
        app.state.clock.set_today(Some(lodged));
        let id = w.file_as(&app, w.t(PRACTICE), &format!("Deadline case {n:02}"), true);
        w.walk(&app, id, "panel_forming");
    }
    app.state
        .clock
        .set_today(Some(app.state.calendar.add_working_days(base, 60).unwrap()));
    let jar = jar_of(&app, "sam.secretary@ldr.test");
    let first = request(&app, "GET", "/deadlines", &jar, None);
    assert_eq!(first.status, 200, "{}", first.body);
    let at = |body: &str, n: u32| body.find(&format!("Deadline case {n:02}"));
    // The cases `ns` are all on the page, in this order.
    let in_order = |body: &str, ns: &[u32]| {
        let places: Vec<usize> = ns
            .iter()
            .map(|n| at(body, *n).unwrap_or_else(|| panic!("case {n} is not on the page")))
            .collect();
        assert!(places.windows(2).all(|w| w[0] < w[1]), "{ns:?}: {places:?}");
    };
    assert!(first.body.contains("53 cases:"), "{}", first.body);
    assert!(
        first.body.contains("Cases 1 to 50 of 53."),
        "{}",
        first.body
    );
    in_order(&first.body, &[53, 52, 30, 5, 4]);
    assert!(at(&first.body, 3).is_none());
    assert!(
        first.body.contains("page&#x3D;2\" rel=\"next\""),
        "{}",
        first.body
    );
    let second = request(&app, "GET", "/deadlines?page=2", &jar, None);
    assert!(
        second.body.contains("Cases 51 to 53 of 53."),
        "{}",
        second.body
    );
    in_order(&second.body, &[3, 2, 1]);
    assert!(at(&second.body, 4).is_none());
    assert!(second.body.contains("rel=\"prev\"") && !second.body.contains("rel=\"next\""));
    // A filter's links keep the filter; a filter that does not read is left out of them.
    let filtered = request(&app, "GET", "/deadlines?state=panel_forming", &jar, None);
    assert!(
        filtered
            .body
            .contains("state&#x3D;panel_forming&amp;page&#x3D;2"),
        "{}",
        filtered.body
    );
    let other = request(&app, "GET", "/deadlines?state=panel_appointed", &jar, None);
    assert!(other.body.contains("0 cases:") && at(&other.body, 1).is_none());
    let wrong = request(&app, "GET", "/deadlines?state=nonsense&page=2", &jar, None);
    assert_eq!(wrong.status, 200);
    assert!(wrong.body.contains("Choose a state from the list"));
    assert!(wrong.body.contains("Cases 51 to 53 of 53.") && !wrong.body.contains("nonsense&amp;"));
    for odd in [
        "/deadlines?page=99",
        "/deadlines?page=-1",
        "/deadlines?page=%FF",
    ] {
        let p = request(&app, "GET", odd, &jar, None);
        assert_eq!(p.status, 200, "{odd}");
        assert!(p.body.contains("Deadline case"), "{odd}");
    }
}

fn the_deadlines_page_sorts_every_case_however_many(db: Db) {
    let Some((app, w)) = many_filings(db) else {
        return;
    };
    let id = w.case_at(&app, "panel_forming");
    let jar = jar_of(&app, "sam.secretary@ldr.test");
    let one = request(&app, "GET", "/deadlines", &jar, None);
    assert!(one.body.contains("1 case:"), "{}", one.body);
    // The stored next deadline of a dispute written before the column existed is filled once
    // at start-up (the migration leaves a marker), as every write computes it.
    {
        use ldr::db::schema::{backfills, disputes};
        let mut pooled = app.state.pool.get().unwrap();
        let c: &mut ldr::db::DbConn = &mut pooled;
        let written: Vec<(String, Option<chrono::NaiveDate>)> = disputes::table
            .select((disputes::id, disputes::next_deadline_on))
            .load(c)
            .unwrap();
        assert!(
            written.iter().any(|(i, n)| *i == id && n.is_some()),
            "{written:?}"
        );
        diesel::update(disputes::table)
            .set(disputes::next_deadline_on.eq(None::<chrono::NaiveDate>))
            .execute(c)
            .unwrap();
        diesel::insert_into(backfills::table)
            .values(backfills::name.eq("next_deadline_on"))
            .execute(c)
            .unwrap();
        let read = ldr::db::disputes::backfill_next_deadlines(c).unwrap();
        assert_eq!(read, written.len());
        let filled: Vec<(String, Option<chrono::NaiveDate>)> = disputes::table
            .select((disputes::id, disputes::next_deadline_on))
            .load(c)
            .unwrap();
        let (mut a, mut b) = (written.clone(), filled);
        a.sort();
        b.sort();
        assert_eq!(a, b);
        assert_eq!(ldr::db::disputes::backfill_next_deadlines(c).unwrap(), 0);
    }
    // 1,200 more like it, stored directly (filing them through the API would take minutes),
    // each with its deadlines a day later than the one before; the last stored has the
    // earliest of all and comes first, however late it was filed.
    {
        let mut c = app.state.pool.get().unwrap();
        let row = ldr::db::disputes::find(&mut c, &id).unwrap().unwrap();
        ldr::db::write_tx(&mut c, |c| {
            for n in 0..1200i64 {
                let mut d = row.clone().decode().unwrap();
                d.id = format!("{n:08x}-0000-4000-8000-000000000000");
                d.title = format!("Stored case {n:04}");
                d.created_at += chrono::Duration::seconds(n + 1);
                let shift = chrono::Duration::days(if n == 1199 { -1 } else { n + 1 });
                let dl = &mut d.deadlines;
                for due in [&mut dl.hearing_by, &mut dl.notice_by, &mut dl.bundle_by] {
                    *due = due.map(|x| x + shift);
                }
                diesel::insert_into(ldr::db::schema::disputes::table)
                    .values(&ldr::db::disputes::DisputeRow::of(&d))
                    .execute(c)?;
            }
            Ok::<_, diesel::result::Error>(())
        })
        .unwrap();
    }
    let many = request(&app, "GET", "/deadlines", &jar, None);
    assert_eq!(many.status, 200);
    assert!(many.body.contains("1201 cases:"), "{}", many.body);
    assert!(many.body.contains("Cases 1 to 50 of 1201."));
    let place = |body: &str, title: &str| body.find(title);
    let (latest, original) = (
        place(&many.body, "Stored case 1199"),
        place(&many.body, "Stored case 0000"),
    );
    assert!(
        latest.is_some() && original.is_some() && latest < original,
        "{}",
        many.body
    );
    let last = request(&app, "GET", "/deadlines?page=25", &jar, None);
    assert!(
        last.body.contains("Cases 1201 to 1201 of 1201."),
        "{}",
        last.body
    );
    assert!(last.body.contains("Stored case 1198"), "{}", last.body);
}

fn stage_3_is_run_from_the_pages(db: Db) {
    use common::world::*;
    let Some((app, w)) = many_filings(db) else {
        return;
    };
    let id = w.case_at(&app, "decision_notified");
    let contract = w
        .upload(
            &app,
            PRACTICE,
            &id,
            "contract",
            "gms-contract.pdf",
            b"%PDF-1.4 contract",
        )
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    w.upload(
        &app,
        PRACTICE,
        &id,
        "evidence",
        "letter.pdf",
        b"%PDF-1.4 letter",
    )
    .expect(201);
    let state = |app: &TestApp| {
        app.get(&format!("/api/v1/disputes/{id}"), Some(w.t(PRACTICE)))
            .expect(200)["state"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let today = app.state.clock.today();
    let day = |name: &str| {
        format!(
            "{name}-day={}&{name}-month={}&{name}-year={}",
            today.format("%-d"),
            today.format("%-m"),
            today.format("%Y")
        )
    };
    // The practice: the case page offers the referral; its form offers the contract only.
    let jar = jar_of(&app, "pat.practice@ldr.test");
    let case = request(&app, "GET", &format!("/disputes/{id}"), &jar, None);
    let refer = format!("/disputes/{id}/actions/refer_to_fhsu");
    assert!(
        case.body.contains(&format!("href=\"{refer}\"")),
        "{}",
        case.body
    );
    let form = request(&app, "GET", &refer, &jar, None);
    assert_eq!(form.status, 200, "{}", form.body);
    assert!(form.body.contains("Rule 7") && form.body.contains("The last day to refer it is"));
    assert!(form.body.contains(&format!("value=\"{contract}\"")));
    assert!(
        !form.body.contains("letter.pdf"),
        "only contracts are offered"
    );
    let token = form_token(&form.body);
    let version = app
        .get(&format!("/api/v1/disputes/{id}"), Some(w.t(PRACTICE)))
        .expect(200)["version"]
        .as_i64()
        .unwrap();
    // Without the contract: refused with what is missing, nothing changed.
    let a = request(
        &app,
        "POST",
        &refer,
        &jar,
        Some(&format!(
            "csrf_token={token}&version={version}&statement=We+ask+for+a+determination.&{}",
            day("referred_on")
        )),
    );
    assert_eq!(a.status, 422, "{}", a.body);
    assert!(a.body.contains("nhsuk-error-summary"), "{}", a.body);
    assert!(a.body.contains("contract"), "{}", a.body);
    assert_eq!(state(&app), "decision_notified");
    let a = request(
        &app,
        "POST",
        &refer,
        &jar,
        Some(&format!(
            "csrf_token={token}&version={version}&statement=We+ask+for+a+determination.\
             &contract_document_id={contract}&{}",
            day("referred_on")
        )),
    );
    assert_eq!(a.status, 303, "{}", a.body);
    assert_eq!(state(&app), "referred_to_fhsu");
    // The panel secretary records the determination, which closes the case.
    let jar = jar_of(&app, "sam.secretary@ldr.test");
    let record = format!("/disputes/{id}/actions/record_fhsu_determination");
    let form = request(&app, "GET", &record, &jar, None);
    assert_eq!(form.status, 200, "{}", form.body);
    let token = form_token(&form.body);
    let a = request(
        &app,
        "POST",
        &record,
        &jar,
        Some(&format!(
            "csrf_token={token}&version={}&{}&summary=",
            version + 1,
            day("determined_on")
        )),
    );
    assert_eq!(a.status, 422, "{}", a.body);
    assert!(a.body.contains("The outcome") && a.body.contains("id=\"summary-error\""));
    assert_eq!(state(&app), "referred_to_fhsu");
    let a = request(
        &app,
        "POST",
        &record,
        &jar,
        Some(&format!(
            "csrf_token={token}&version={}&{}&outcome=partly&summary=Half+the+payment+is+due.",
            version + 1,
            day("determined_on")
        )),
    );
    assert_eq!(a.status, 303, "{}", a.body);
    assert_eq!(state(&app), "closed");
    let closed = request(
        &app,
        "GET",
        &format!("/disputes/{id}?done=record_fhsu_determination"),
        &jar,
        None,
    );
    assert!(
        closed
            .body
            .contains("Determination recorded: the case is closed"),
        "{}",
        closed.body
    );
}

/// Three working days before the hearing, the secretary changes its room from the hearing
/// calendar: the link keeps the day, the form says the notice stands, and the change is made
/// without an override.
fn a_new_time_or_venue_on_the_same_day_from_the_hearing_calendar(db: Db) {
    use common::world::*;
    let Some((app, w)) = world_on(db) else {
        return;
    };
    let id = w.case_at(&app, "hearing_scheduled");
    let d = app
        .get(&format!("/api/v1/disputes/{id}"), Some(w.t(SECRETARY)))
        .expect(200);
    let date: chrono::NaiveDate = serde_json::from_value(d["hearing"]["date"].clone()).unwrap();
    app.state
        .clock
        .set_today(Some(app.state.calendar.add_working_days(date, -3).unwrap()));
    let jar = jar_of(&app, "sam.secretary@ldr.test");
    let cal = request(
        &app,
        "GET",
        &format!("/disputes/{id}/hearing-calendar"),
        &jar,
        None,
    );
    assert_eq!(cal.status, 200, "{}", cal.body);
    let href = format!("/disputes/{id}/actions/schedule_hearing?date={date}");
    assert!(
        cal.body
            .contains("Change the time or venue on the same day"),
        "{}",
        cal.body
    );
    // Handlebars writes the `=` of an attribute as `&#x3D;`.
    assert!(
        cal.body.contains(&href.replace('=', "&#x3D;")),
        "{}",
        cal.body
    );
    let form = request(&app, "GET", &href, &jar, None);
    assert_eq!(form.status, 200, "{}", form.body);
    assert!(
        form.body.contains("keeps the notice already given"),
        "{}",
        form.body
    );
    let token = form_token(&form.body);
    let body = format!(
        "csrf_token={token}&version={}&date-day={}&date-month={}&date-year={}&time=14%3A00&venue=Room+2%2C+County+Hall",
        d["version"],
        chrono::Datelike::day(&date),
        chrono::Datelike::month(&date),
        chrono::Datelike::year(&date),
    );
    let sent = request(
        &app,
        "POST",
        &format!("/disputes/{id}/actions/schedule_hearing"),
        &jar,
        Some(&body),
    );
    assert_eq!(sent.status, 303, "{}", sent.body);
    let after = app
        .get(&format!("/api/v1/disputes/{id}"), Some(w.t(SECRETARY)))
        .expect(200);
    assert_eq!(after["hearing"]["venue"], "Room 2, County Hall");
    assert_eq!(
        after["hearing"]["notice_sent_on"],
        d["hearing"]["notice_sent_on"]
    );
    assert_eq!(after["breaches"], serde_json::json!([]));
}

/// With more than a hundred to choose from (a directory loaded from NHS ODS), an organisation
/// field is a text box for the ODS code or the name, not a select of thousands: a dispute's
/// other party, a new user's organisation and an interest's organisation are each found by
/// their code (any case) or their name; a name two practices share, and one that names
/// nobody, are refused in words beside the form's other problems, and nothing is written.
fn an_organisation_among_many_is_named_by_its_ods_code_or_its_name(db: Db) {
    use common::world::*;
    use serde_json::json;
    let Some((app, w)) = many_filings(db) else {
        return;
    };
    let jar = jar_of(&app, "pat.practice@ldr.test");
    let a = request(&app, "GET", "/disputes/new", &jar, None);
    assert!(
        a.body
            .contains("id=\"respondent_id\" name=\"respondent_id\"")
            && a.body.contains("<select")
            && a.body.contains("Oak Practice (practice)"),
        "a few: a select"
    );
    let mut ids = Vec::new();
    for i in 0..100 {
        let name = if i < 2 {
            "Riverside Surgery".to_string()
        } else {
            format!("Practice {i:03}")
        };
        let org = app
            .post(
                "/api/v1/organisations",
                Some(&w.admin),
                &json!({"name": name, "kind": "practice", "area": "North Essex", "region": "East",
                        "email": format!("p{i}@practice.nhs.test"), "address": "1 High Street",
                        "commissioner_id": w.north_ccg, "ods_code": format!("B86{i:03}")}),
            )
            .expect(201);
        ids.push(org["id"].as_str().unwrap().to_string());
    }

    // Filing.
    let a = request(&app, "GET", "/disputes/new", &jar, None);
    assert_eq!(a.status, 200);
    assert!(
        !a.body
            .contains("<select class=\"nhsuk-select\" id=\"respondent_id\"")
            && !a.body.contains("Practice 050"),
        "no select of them all"
    );
    assert!(a
        .body
        .contains("Enter its ODS code, for example B82001, or its full name."));
    let token = form_token(&a.body);
    let filed = |app: &TestApp| {
        app.get("/api/v1/disputes", Some(w.t(PRACTICE))).expect(200)["items"]
            .as_array()
            .map_or(0, Vec::len)
    };
    let form = |party: &str, title: &str| {
        format!(
            "csrf_token={token}&title={title}&respondent_id={}&category=prescribing&summary=s\
             &matter_arose_on-day=1&matter_arose_on-month=2&matter_arose_on-year=2026\
             &contract_related=true",
            enc(party)
        )
    };
    for (party, says) in [
        (
            "Riverside Surgery",
            "More than one organisation is called “Riverside Surgery”: enter the ODS code of \
             the one you mean: B86000 (Riverside Surgery, North Essex); B86001 (Riverside \
             Surgery, North Essex)",
        ),
        (
            "Nowhere Surgery",
            "No organisation that can be chosen here has the ODS code or name “Nowhere Surgery”",
        ),
    ] {
        let a = request(&app, "POST", "/disputes/new", &jar, Some(&form(party, "")));
        assert_eq!(a.status, 422, "{}", a.body);
        assert!(a.body.contains(says), "{says}: {}", a.body);
        assert!(
            a.body.contains("Title is required"),
            "the other problems too"
        );
        assert!(
            a.body.contains(&format!("value=\"{party}\"")),
            "what was typed is kept"
        );
        assert!(
            !a.body.contains("The other party is required"),
            "one problem for the field"
        );
        assert_eq!(filed(&app), 0, "{party}: nothing filed");
    }
    for (party, index) in [("b86005", 5), ("practice 007", 7), ("  B86001 ", 1)] {
        // The answers are checked first, the other party shown by its name.
        let before = filed(&app);
        let a = request(&app, "POST", "/disputes/new", &jar, Some(&form(party, "t")));
        assert_eq!(a.status, 200, "{party}: {}", a.body);
        let name = if index < 2 {
            "Riverside Surgery".to_string()
        } else {
            format!("Practice {index:03}")
        };
        assert!(
            a.body.contains(&format!("{name} (practice)"))
                && a.body
                    .contains(&format!("name=\"respondent_id\" value=\"{}\"", ids[index])),
            "{party}: {}",
            a.body
        );
        assert_eq!(
            filed(&app),
            before,
            "nothing filed before the answers are checked"
        );
        let a = request(
            &app,
            "POST",
            "/disputes/new",
            &jar,
            Some(&format!("{}&step=file", form(party, "t"))),
        );
        assert_eq!(a.status, 303, "{party}: {}", a.body);
        let id = a.header("location").unwrap()["/disputes/".len()..]
            .split('?')
            .next()
            .unwrap()
            .to_string();
        let d = app
            .get(&format!("/api/v1/disputes/{id}"), Some(w.t(PRACTICE)))
            .expect(200);
        assert_eq!(d["respondent"]["id"], json!(ids[index]), "{party}");
    }
    // "Change your answers" from the check page (which sends the other party as its id)
    // shows the box with the organisation's ODS code, not the id.
    let a = request(
        &app,
        "POST",
        "/disputes/new",
        &jar,
        Some(&format!("{}&step=change", form(&ids[5], "t"))),
    );
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(
        a.body.contains("value=\"B86005\"") && !a.body.contains(&ids[5]),
        "{}",
        a.body
    );

    // A new user's organisation.
    let admin = admin_jar(&app);
    let a = request(&app, "GET", "/admin/users/new", &admin, None);
    assert!(a.body.contains("Enter its ODS code") && !a.body.contains("Practice 050"));
    let token = form_token(&a.body);
    let user = |org: &str, email: &str| {
        format!(
            "csrf_token={token}&name=Rita+Reception&email={email}&password=a+long+password+1\
             &organisation_id={}&roles-practice_user=on",
            enc(org)
        )
    };
    let a = request(
        &app,
        "POST",
        "/admin/users/new",
        &admin,
        Some(&user("riverside surgery", "")),
    );
    assert_eq!(a.status, 422, "{}", a.body);
    assert!(a
        .body
        .contains("More than one organisation is called “riverside surgery”"));
    assert!(a.body.contains("Email address is required"), "{}", a.body);
    let a = request(
        &app,
        "POST",
        "/admin/users/new",
        &admin,
        Some(&user("B86009", "rita%40practice.nhs.test")),
    );
    assert_eq!(a.status, 303, "{}", a.body);
    let users = app.get("/api/v1/users?q=rita", Some(&w.admin)).expect(200);
    assert_eq!(
        users["items"][0]["organisation"]["id"],
        json!(ids[9]),
        "{users}"
    );

    // An interest's organisation.
    let jar = jar_of(&app, "dr.conciliator@ldr.test");
    let a = request(&app, "GET", "/my/interests", &jar, None);
    let token = form_token(&a.body);
    let interest = |org: &str| {
        format!(
            "csrf_token={token}&organisation_id={}&nature=Partner\
             &declared_on-day=2&declared_on-month=2&declared_on-year=2026",
            enc(org)
        )
    };
    let a = request(
        &app,
        "POST",
        "/my/interests",
        &jar,
        Some(&interest("B99999")),
    );
    assert_eq!(a.status, 422, "{}", a.body);
    assert!(
        a.body.contains("has the ODS code or name “B99999”"),
        "{}",
        a.body
    );
    let a = request(
        &app,
        "POST",
        "/my/interests",
        &jar,
        Some(&interest("b86004")),
    );
    assert_eq!(a.status, 303, "{}", a.body);
    let a = request(&app, "GET", "/my/interests", &jar, None);
    assert!(a.body.contains("Practice 004 (B86004)"), "{}", a.body);
}

/// Deactivating a user asks first, naming the open cases in which they have a part; the
/// buttons say what they do, so a second click (or a reload) does not undo the first.
fn deactivating_a_user_asks_first_and_names_their_open_cases(db: Db) {
    use common::world::*;
    let Some((app, w)) = many_filings(db) else {
        return;
    };
    let id = w.case_at(&app, "hearing_scheduled");
    let title = app
        .get(&format!("/api/v1/disputes/{id}"), Some(w.t(SECRETARY)))
        .expect(200)["title"]
        .as_str()
        .unwrap()
        .to_string();
    let admin = admin_jar(&app);
    let me = app.get("/api/v1/me", Some(&w.admin)).expect(200)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mine = request(&app, "GET", &format!("/admin/users/{me}"), &admin, None);
    assert!(
        mine.body.contains("this is you") && !mine.body.contains("Deactivate this user"),
        "an admin is not offered what would be refused: {}",
        mine.body
    );
    let secretary = w.id(SECRETARY);
    let user_page = || {
        request(
            &app,
            "GET",
            &format!("/admin/users/{secretary}"),
            &admin,
            None,
        )
    };
    let page = user_page();
    assert!(
        page.body
            .contains(&format!("href=\"/admin/users/{secretary}/deactivate\"")),
        "a link to the question, not a button that does it: {}",
        page.body
    );
    let token = form_token(&page.body);
    for (who, part) in [(SECRETARY, "panel secretary"), (GP, "panel member")] {
        let a = request(
            &app,
            "GET",
            &format!("/admin/users/{}/deactivate", w.id(who)),
            &admin,
            None,
        );
        assert_eq!(a.status, 200, "{}", a.body);
        for text in [
            format!("Deactivate {who}"),
            "They have a part in 1 open case".to_string(),
            format!("“{title}” ({part})"),
        ] {
            assert!(a.body.contains(&text), "{text}: {}", a.body);
        }
        // Only the case's own secretary can take a secretary's steps: the admin is told they
        // wait. A panel member's part is not such a role.
        assert_eq!(
            a.body
                .contains("those steps wait, with their deadlines running"),
            who == SECRETARY,
            "{}",
            a.body
        );
    }
    let active = |app: &TestApp| {
        app.get("/api/v1/users?q=sam", Some(&w.admin)).expect(200)["items"][0]["active"].clone()
    };
    let post = |path: &str, body: &str| {
        request(
            &app,
            "POST",
            &format!("/admin/users/{secretary}/{path}"),
            &admin,
            Some(body),
        )
    };
    assert_eq!(post("deactivate", "").status, 403, "no token");
    for path in [
        "/admin/users/not-a-uuid/deactivate",
        "/admin/users/00000000-0000-4000-8000-000000000000/deactivate",
    ] {
        let a = request(&app, "GET", path, &admin, None);
        assert_eq!(a.status, 404, "{path}: {}", a.body);
        let a = request(
            &app,
            "POST",
            path,
            &admin,
            Some(&format!("csrf_token={token}")),
        );
        assert_eq!(a.status, 404, "{path}: {}", a.body);
    }
    assert_eq!(active(&app), serde_json::json!(true));
    for _ in 0..2 {
        let a = post("deactivate", &format!("csrf_token={token}"));
        assert_eq!(a.status, 303, "{}", a.body);
        assert_eq!(active(&app), serde_json::json!(false), "twice is once");
    }
    let a = request(
        &app,
        "GET",
        &format!("/admin/users/{secretary}/deactivate"),
        &admin,
        None,
    );
    assert_eq!(a.status, 303, "nothing to ask of a deactivated user");
    let page = user_page();
    assert!(page.body.contains("Reactivate this user"));
    // Deactivated, the case's secretary is named on their page as the one its steps wait for.
    for text in [
        "Cases waiting for this user".to_string(),
        format!("{SECRETARY} has a part in 1 open case that only they can take forward"),
        format!("“{title}” (panel secretary)"),
        "reactivate them to let the case go on".to_string(),
    ] {
        assert!(page.body.contains(&text), "{text}: {}", page.body);
    }
    for _ in 0..2 {
        assert_eq!(
            post("reactivate", &format!("csrf_token={token}")).status,
            303
        );
        assert_eq!(active(&app), serde_json::json!(true));
    }
    let page = user_page();
    assert!(
        !page.body.contains("Cases waiting for this user"),
        "active again, nothing waits: {}",
        page.body
    );
}

/// Filing shows the answers to check, with who will be told, and files only from there: a
/// dispute e-mails the other party and the LMC. "Change your answers" brings the form back
/// with them; a second "File the dispute" (a double click) files nothing more.
fn filing_shows_the_answers_to_check_and_files_only_from_there(db: Db) {
    use common::world::*;
    let Some((app, w)) = many_filings(db) else {
        return;
    };
    let jar = jar_of(&app, "pat.practice@ldr.test");
    let a = request(&app, "GET", "/disputes/new", &jar, None);
    let token = form_token(&a.body);
    let filed = |app: &TestApp| {
        app.get("/api/v1/disputes", Some(w.t(PRACTICE))).expect(200)["items"]
            .as_array()
            .map_or(0, Vec::len)
    };
    let before = filed(&app);
    let form = format!(
        "csrf_token={token}&idempotency_key=k-check-1&title=Prescribing+budget&respondent_id={}\
         &category=prescribing&summary=The+budget+was+cut&matter_arose_on-day=1\
         &matter_arose_on-month=6&matter_arose_on-year=2025&contract_related=false&sneaky=x",
        w.north_ccg
    );
    let a = request(&app, "POST", "/disputes/new", &jar, Some(&form));
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(
        !a.body.contains("name=\"sneaky\"") && a.body.contains("name=\"matter_arose_on-day\""),
        "the form's values go on, nothing else: {}",
        a.body
    );
    for text in [
        "Check your answers before filing the dispute",
        // The description keeps its line breaks (white-space: pre-line).
        "<dd class=\"nhsuk-summary-list__value app-pre-line\">The budget was cut",
        "Prescribing budget",
        "North CCG (commissioning group)",
        "Prescribing",
        "The budget was cut",
        "Sunday 1 June 2025",
        "North CCG and North Essex LMC are told by email",
        "name=\"idempotency_key\" value=\"k-check-1\"",
    ] {
        assert!(a.body.contains(text), "{text}: {}", a.body);
    }
    assert_eq!(filed(&app), before, "nothing filed by checking");
    // An organisation without an address (as ODS loads them) is said not to be told.
    {
        use ldr::db::schema::organisations;
        let mut c = app.state.pool.get().unwrap();
        diesel::update(organisations::table.find(&w.north_ccg))
            .set(organisations::email.eq(""))
            .execute(&mut **c)
            .unwrap();
    }
    let a = request(&app, "POST", "/disputes/new", &jar, Some(&form));
    for text in [
        "When you file it, North Essex LMC is told by email",
        "North CCG has no email address in this service yet, so it is not told until an admin \
         adds one.",
    ] {
        assert!(a.body.contains(text), "{text}: {}", a.body);
    }
    let a = request(
        &app,
        "POST",
        "/disputes/new",
        &jar,
        Some(&format!("{form}&step=change")),
    );
    assert_eq!(a.status, 200);
    assert!(a
        .body
        .contains("<h1 class=\"nhsuk-heading-l\">File a dispute</h1>"));
    assert!(a.body.contains("value=\"Prescribing budget\""));
    assert!(
        a.body
            .contains(&format!("<option value=\"{}\" selected>", w.north_ccg)),
        "{}",
        a.body
    );
    assert_eq!(filed(&app), before);

    let mut places = Vec::new();
    for _ in 0..2 {
        let a = request(
            &app,
            "POST",
            "/disputes/new",
            &jar,
            Some(&format!("{form}&step=file")),
        );
        assert_eq!(a.status, 303, "{}", a.body);
        places.push(a.header("location").unwrap().to_string());
    }
    assert_eq!(places[0], places[1], "the same dispute");
    assert_eq!(filed(&app), before + 1, "filed once");
}

both_dbs!(
    organisations_no_notice_reaches_are_named_to_the_admin,
    filing_shows_the_answers_to_check_and_files_only_from_there,
    deactivating_a_user_asks_first_and_names_their_open_cases,
    an_organisation_among_many_is_named_by_its_ods_code_or_its_name,
    sign_in_leads_back_to_the_page_asked_for_and_never_elsewhere,
    a_new_time_or_venue_on_the_same_day_from_the_hearing_calendar,
    the_list_of_cases_is_paged_at_fifty,
    stage_3_is_run_from_the_pages,
    the_deadlines_page_sorts_every_case_however_many,
    the_deadlines_page_sorts_every_case_then_shows_fifty,
    the_case_page_names_an_api_keys_integration_and_shows_admins_who_looked,
    action_forms_refuse_what_they_must_change_nothing_and_never_fail,
    cookies_are_secure_by_default_and_assets_are_served_hashed_and_immutable,
    a_session_ends_when_idle_too_long_or_too_old,
    sign_in_refusals_change_nothing_and_share_the_apis_throttle,
    pages_answer_errors_as_pages_and_the_api_keeps_problems,
);
