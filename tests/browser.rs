//! The web pages in a real browser (headless chromium through chromedriver), on SQLite and
//! PostgreSQL: each journey reads as the people who take it would tell it. axe-core checks every
//! page visited, and each is saved as a screenshot under `target/screenshots/`.

mod common;

use common::browser::{get_with_cookie, Browser};
use common::world::*;
use common::{Db, TestApp, PASSWORD};
use serde_json::json;

const TAB: &str = "\u{E004}";
const ENTER: &str = "\u{E007}";

fn email(name: &str) -> String {
    format!("{}@ldr.test", name.to_lowercase().replace(' ', "."))
}

/// The app with today pinned to a Monday (World's walks need it) and plain-http cookies.
fn app(db: Db) -> Option<TestApp> {
    TestApp::spawn_with(
        db,
        &[
            ("LDR_TODAY", "2026-03-02"),
            ("LDR_INSECURE_COOKIES", "true"),
        ],
    )
}

fn browser(app: &TestApp, journey: &str, db: Db) -> Option<Browser> {
    Browser::start(&app.base, &format!("{journey}-{db:?}").to_lowercase())
}

fn when_i_sign_in(b: &mut Browser, who: &str, password: &str) {
    b.open("/sign-in");
    b.fill("#email", who);
    b.fill("#password", password);
    b.click("form[action='/sign-in'] button");
}

/// Tab from the top of the sign-in page to the e-mail field, type, Tab, type, Enter.
fn when_i_sign_in_with_the_keyboard_only(b: &mut Browser, who: &str, password: &str) {
    let mut tabs = 0;
    while b.focused_id() != "email" {
        b.keys(TAB);
        tabs += 1;
        assert!(tabs < 15, "the e-mail field is not reached with Tab");
    }
    b.keys(who);
    b.keys(TAB);
    assert_eq!(b.focused_id(), "password");
    b.keys(password);
    b.keys(ENTER);
}

fn then_i_see(b: &Browser, texts: &[&str]) {
    let body = b.body();
    for t in texts {
        assert!(body.contains(t), "{t:?} is not on {}:\n{body}", b.path());
    }
}

fn a_mediator_signs_in_with_the_keyboard_reads_a_case_and_signs_out(db: Db) {
    let Some(app) = app(db) else { return };
    let w = World::new(&app);
    let id = w.file(&app, true);
    w.ok(
        &app,
        PRACTICE,
        &id,
        json!({"type": "add_note", "text": "We have asked the CCG for its figures."}),
    );
    // Another case, which the mediator has taken.
    let taken = w.file_inter_practice(&app, false);
    w.walk(&app, taken, "informal_mediation");
    let Some(mut b) = browser(&app, "mediator", db) else {
        return;
    };
    b.open("/");
    assert_eq!(b.path(), "/sign-in", "not signed in: to the sign-in page");
    b.check("sign-in");
    when_i_sign_in_with_the_keyboard_only(&mut b, &email(MEDIATOR), PASSWORD);
    b.wait_for_text("h1", "Stage 1 cases");
    then_i_see(
        &b,
        &[
            "Mia Mediator",
            "Prescribing budget 2025/26",
            "Elm Practice",
            "North CCG",
            "Waiting for the LMC to take the case",
            "Not taken yet",
            "Patient list boundary",
            "Elm Practice\nand Oak Practice",
            "With the LMC mediator",
            "Mediation",
            "Last day to refer the dispute to NHS Resolution (FHSU)",
        ],
    );
    b.check("stage-1-cases");
    b.click_link("Prescribing budget 2025/26");
    b.wait_for_text("h1", "Prescribing budget 2025/26");
    assert_eq!(b.path(), format!("/disputes/{id}"));
    then_i_see(
        &b,
        &[
            "Stage 1: informal resolution with the LMC",
            "Pat Practice filed the dispute.",
            "Pat Practice added a note: “We have asked the CCG for its figures.”",
            // The FHSU's limit: three years from the matter (1 June 2025), in working days.
            "Wednesday 31 May 2028",
            "working days left",
            "Take the case, as adviser or mediator",
            "Add a note",
            "New dispute filed: Prescribing budget 2025/26",
        ],
    );
    b.check("case");
    let old = b.cookie("ldr_session").expect("the session cookie");
    b.click("button.nhsuk-header__account-button");
    b.wait_for_text("h1", "Sign in");
    b.check("signed-out");
    // The check can fail: an image without a text alternative is a violation.
    b.execute(
        "document.querySelector('main').insertAdjacentHTML('beforeend', '<img src=\"/nothing.png\">');",
    );
    let found = b.axe();
    assert!(
        found.iter().any(|v| v["id"] == "image-alt"),
        "axe reports the image without alt: {found:?}"
    );
    let (status, location, _) = get_with_cookie(&app.base, "/", &format!("ldr_session={old}"));
    assert_eq!(
        (status, location.as_str()),
        (303, "/sign-in"),
        "the old cookie no longer works"
    );
}

fn a_practice_user_sees_our_disputes_and_another_practice_gets_the_404_page(db: Db) {
    let Some(app) = app(db) else { return };
    let w = World::new(&app);
    let id = w.case_at(&app, "formal_requested");
    let doc = w
        .upload(
            &app,
            PRACTICE,
            &id,
            "evidence",
            "budget-letter.pdf",
            b"%PDF-1.4 letter",
        )
        .expect(201);
    let Some(mut b) = browser(&app, "practice", db) else {
        return;
    };
    when_i_sign_in(&mut b, &email(PRACTICE), "not-the-password");
    b.wait_for_text(".nhsuk-error-summary", "Email address or password is wrong");
    assert!(b.title().starts_with("Error: Sign in"), "{}", b.title());
    assert_eq!(b.value("#email"), email(PRACTICE), "the e-mail is kept");
    b.check("wrong-password");
    when_i_sign_in(&mut b, &email(PRACTICE), PASSWORD);
    b.wait_for_text("h1", "Our disputes");
    then_i_see(
        &b,
        &[
            "Prescribing budget 2025/26",
            "Formal resolution requested: to be screened",
            // The first deadline to meet: notice for a hearing on the last day allowed.
            "Notice of the hearing to be sent by: Wednesday 18 March 2026",
            "12 working days left",
        ],
    );
    b.check("our-disputes");
    b.click_link("Prescribing budget 2025/26");
    b.wait_for_text("h1", "Prescribing budget 2025/26");
    then_i_see(
        &b,
        &[
            "Stage 2: formal resolution by a local dispute resolution panel",
            "Mia Mediator (mediation)",
            "Mia Mediator took the case as mediator.",
            "Mia Mediator recorded that the informal stage was exhausted",
            "Pat Practice requested formal resolution by a panel.",
            "Hearing to be held by",
            "Monday 30 March 2026",
            "20 working days left",
            "budget-letter.pdf",
            "Withdraw the dispute",
        ],
    );
    b.check("case-formal");
    // The document's link downloads it with the session.
    let session = b.cookie("ldr_session").unwrap();
    let (status, _, bytes) = get_with_cookie(
        &app.base,
        &format!("/documents/{}", doc["id"].as_str().unwrap()),
        &format!("ldr_session={session}"),
    );
    assert_eq!((status, bytes.as_slice()), (200, &b"%PDF-1.4 letter"[..]));
    b.click("button.nhsuk-header__account-button");
    b.wait_for_text("h1", "Sign in");

    // Oak Practice is no party to Elm Practice's dispute.
    when_i_sign_in(&mut b, &email(OTHER_PRACTICE), PASSWORD);
    b.wait_for_text("h1", "Our disputes");
    then_i_see(&b, &["There are no cases for you at the moment."]);
    b.check("our-disputes-none");
    b.open(&format!("/disputes/{id}"));
    b.wait_for_text("h1", "Page not found");
    then_i_see(&b, &["Olly Oak", "Sign out", "Go to your cases"]);
    b.check("not-found");
    let (status, _, _) = get_with_cookie(
        &app.base,
        &format!("/documents/{}", doc["id"].as_str().unwrap()),
        &format!("ldr_session={}", b.cookie("ldr_session").unwrap()),
    );
    assert_eq!(status, 404, "nor its documents");
}

fn a_form_without_its_token_is_refused_and_deactivation_ends_the_session(db: Db) {
    let Some(app) = app(db) else { return };
    let w = World::new(&app);
    let Some(mut b) = browser(&app, "sessions", db) else {
        return;
    };
    when_i_sign_in(&mut b, &email(COMMISSIONER), PASSWORD);
    b.wait_for_text("h1", "Our disputes");
    // A form that another site could have made: no token.
    b.execute(
        "const f = document.createElement('form'); f.method = 'post'; f.action = '/sign-out';\
         document.body.appendChild(f); f.submit();",
    );
    b.wait_for_text("h1", "Your form could not be sent");
    b.check("csrf-refused");
    b.open("/");
    b.wait_for_text("h1", "Our disputes");
    then_i_see(&b, &["Cara Commissioner"]);
    // An admin deactivates the commissioner: the session ends at once.
    app.patch(
        &format!("/api/v1/users/{}", w.id(COMMISSIONER)),
        Some(&w.admin),
        &json!({"active": false}),
    )
    .expect(200);
    b.open("/");
    b.wait_for_text("h1", "Sign in");
    assert_eq!(b.path(), "/sign-in");
}

/// `cargo run --release`, then http://127.0.0.1:8080/: the bootstrap admin signs in with the
/// default (`Secure`, `__Host-`) cookies, which browsers accept from a loopback address over
/// plain http.
fn the_bootstrap_admin_signs_in_on_loopback_with_the_default_cookies(db: Db) {
    let Some(app) = TestApp::spawn(db) else {
        return;
    };
    let Some(mut b) = browser(&app, "admin", db) else {
        return;
    };
    when_i_sign_in(&mut b, common::ADMIN_EMAIL, common::ADMIN_PASSWORD);
    b.wait_for_text("h1", "All cases");
    then_i_see(
        &b,
        &["Administrator", "There are no cases for you at the moment."],
    );
    b.check("all-cases");
}

both_dbs!(
    the_bootstrap_admin_signs_in_on_loopback_with_the_default_cookies,
    a_mediator_signs_in_with_the_keyboard_reads_a_case_and_signs_out,
    a_practice_user_sees_our_disputes_and_another_practice_gets_the_404_page,
    a_form_without_its_token_is_refused_and_deactivation_ends_the_session,
);
