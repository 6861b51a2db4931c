//! The web pages in a real browser (headless chromium through chromedriver), on SQLite and
//! PostgreSQL: each journey reads as the people who take it would tell it. axe-core checks every
//! page visited, and each is saved as a screenshot under `target/screenshots/`.

mod common;

use common::browser::{get_with_cookie, Browser};
use common::journey::*;
use common::world::*;
use common::{Db, TestApp, PASSWORD};
use serde_json::json;

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
    // The accessibility statement, from every page's footer, signed in or not.
    b.click_link("Accessibility statement");
    b.wait_for_text("h1", "Accessibility statement");
    then_i_see(
        &b,
        &[
            "partially compliant",
            "Equality Advisory and Support Service",
        ],
    );
    b.check("accessibility-statement");
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
        (303, "/sign-in?ended=1"),
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

fn a_mediator_takes_a_case_adds_a_note_with_the_keyboard_and_exhausts_it(db: Db) {
    let Some(app) = app(db) else { return };
    let w = World::new(&app);
    let id = w.file(&app, true);
    let later = w.file_inter_practice(&app, false);
    let Some(mut b) = browser(&app, "mediator-acts", db) else {
        return;
    };
    when_i_sign_in(&mut b, &email(MEDIATOR), PASSWORD);
    b.wait_for_text("h1", "Stage 1 cases");
    then_i_see(&b, &["Cases are listed oldest first."]);
    // Sorted by age without JavaScript: a link.
    let titles = |b: &Browser| {
        b.execute(
            "return [...document.querySelectorAll('tbody a')].map(a => a.textContent.trim());",
        )
    };
    assert_eq!(
        titles(&b),
        json!(["Prescribing budget 2025/26", "Patient list boundary"])
    );
    b.click_link("Show the newest first");
    b.wait_for_text("main p + p", "Cases are listed newest first.");
    assert_eq!(
        titles(&b),
        json!(["Patient list boundary", "Prescribing budget 2025/26"])
    );
    b.check("stage-1-cases-newest");
    let _ = later;

    // Take the case: first without choosing how, then as mediator.
    b.open(&format!("/disputes/{id}"));
    b.click_link("Take the case, as adviser or mediator");
    b.wait_for_text("h1", "Take the case");
    b.check("take-the-case");
    b.click("form button[type=submit]");
    b.wait_for_text(
        ".nhsuk-error-summary",
        "How you will work on the case is required",
    );
    assert!(
        b.title().starts_with("Error: Take the case"),
        "{}",
        b.title()
    );
    assert!(b.has("#mode-error"), "the message is beside the radios");
    b.check("take-the-case-error");
    b.click("#mode-2");
    b.click("form button[type=submit]");
    b.wait_for_text(".nhsuk-notification-banner", "You have taken the case");
    then_i_see(
        &b,
        &[
            "With the LMC mediator",
            "Mia Mediator took the case as mediator.",
            "Mia Mediator (mediation)",
        ],
    );
    b.check("case-taken");

    // A note, with the keyboard only: Tab to the link, Enter; Tab to the field, type; Tab to
    // the button, Enter.
    b.execute("document.activeElement.blur(); window.scrollTo(0, 0);");
    let mut tabs = 0;
    loop {
        b.keys(TAB);
        tabs += 1;
        let text = b.execute("return document.activeElement.textContent.trim();");
        if text == json!("Add a note") {
            break;
        }
        assert!(tabs < 60, "the “Add a note” link is not reached with Tab");
    }
    b.keys(ENTER);
    b.wait_for_text("h1", "Add a note");
    tab_to(&b, "text");
    b.keys("Both sides met on 2 March; the CCG will send its figures.");
    b.keys(TAB);
    assert_eq!(b.focused_tag(), "button", "the button follows the field");
    b.keys(ENTER);
    b.wait_for_text(".nhsuk-notification-banner", "Note added");
    then_i_see(
        &b,
        &["Mia Mediator added a note: “Both sides met on 2 March; the CCG will send its figures.”"],
    );
    b.check("note-added");

    // A stale form: the practice adds a note while the exhaust form is open.
    b.click_link("Record that the informal stage is exhausted");
    b.wait_for_text("h1", "Record that the informal stage is exhausted");
    b.fill("#reason", "No agreement after two meetings.");
    w.ok(
        &app,
        PRACTICE,
        &id,
        json!({"type": "add_note", "text": "We have sent our figures."}),
    );
    let before = state_of(&app, &w, MEDIATOR, &id);
    b.click("form button[type=submit]");
    b.wait_for_text(
        ".nhsuk-error-summary",
        "Someone else acted on this case first",
    );
    then_i_see(
        &b,
        &[
            "Pat Practice added a note: “We have sent our figures.”",
            "Nothing you entered has been saved. Check the case and try again.",
        ],
    );
    assert_eq!(
        b.value("#reason"),
        "No agreement after two meetings.",
        "what was typed is kept"
    );
    b.check("stale-form");
    assert_eq!(state_of(&app, &w, MEDIATOR, &id), before, "nothing changed");
    // The form now carries the new version: sent again, it applies.
    b.click("form button[type=submit]");
    b.wait_for_text(
        ".nhsuk-notification-banner",
        "Recorded: the informal stage is exhausted",
    );
    then_i_see(
        &b,
        &[
            "Informal stage ended without agreement",
            "Mia Mediator recorded that the informal stage was exhausted: “No agreement after two meetings.”",
        ],
    );
    b.check("exhausted");
    assert_eq!(state_of(&app, &w, MEDIATOR, &id).0, "informal_exhausted");

    // An action form without its token changes nothing.
    let (_, version) = state_of(&app, &w, MEDIATOR, &id);
    b.execute(&format!(
        "const f = document.createElement('form'); f.method = 'post';\
         f.action = '/disputes/{later}/actions/add_note';\
         const t = document.createElement('textarea'); t.name = 'text'; t.value = 'forged';\
         f.appendChild(t); document.body.appendChild(f); f.submit();"
    ));
    b.wait_for_text("h1", "Your form could not be sent");
    b.check("action-csrf-refused");
    assert_eq!(state_of(&app, &w, MEDIATOR, &id).1, version);
    let events = app
        .get(
            &format!("/api/v1/disputes/{later}/events"),
            Some(w.t(MEDIATOR)),
        )
        .expect(200);
    assert_eq!(events.as_array().unwrap().len(), 1, "no note was added");
}

fn a_practice_manager_files_uploads_requests_formal_resolution_and_withdraws(db: Db) {
    let Some(app) = app(db) else { return };
    let w = World::new(&app);
    let other = w.file(&app, false);
    let Some(mut b) = browser(&app, "practice-acts", db) else {
        return;
    };
    when_i_sign_in(&mut b, &email(PRACTICE), PASSWORD);
    b.wait_for_text("h1", "Our disputes");
    b.click_link("File a dispute");
    b.wait_for_text("h1", "File a dispute");
    b.check("filing-form");
    // Only a title and a date that is no date: every other problem is listed too.
    b.fill("#title", "Enhanced services payments 2026");
    b.fill("#matter_arose_on-day", "31");
    b.fill("#matter_arose_on-month", "2");
    b.fill("#matter_arose_on-year", "2026");
    b.click("form button[type=submit]");
    b.wait_for_text(".nhsuk-error-summary", "There is a problem");
    let summary = b.text(".nhsuk-error-summary");
    for line in [
        "The other party is required",
        "What the dispute is about is required",
        "The description is required",
        "The date the matter arose must be a real date",
        "Whether the dispute relates to your contract is required (true or false)",
    ] {
        assert!(summary.contains(line), "{line:?} not in {summary}");
    }
    assert!(!summary.contains("Title"), "the title was given: {summary}");
    assert_eq!(b.value("#title"), "Enhanced services payments 2026");
    assert_eq!(b.value("#matter_arose_on-day"), "31");
    assert!(
        b.has("#respondent_id-error"),
        "the message is beside the field"
    );
    b.check("filing-form-errors");
    // A date in the future: the API's own words.
    b.fill("#matter_arose_on-day", "1");
    b.fill("#matter_arose_on-month", "6");
    b.fill("#matter_arose_on-year", "2030");
    b.select("#respondent_id", "North CCG (commissioning group)");
    b.select("#category", "Contract");
    b.fill(
        "#summary",
        "The CCG has not paid for the enhanced services we provided.",
    );
    b.click("#contract_related");
    b.click("form button[type=submit]");
    b.wait_for_text(
        ".nhsuk-error-summary",
        "The date the matter arose must not be in the future",
    );
    b.fill("#matter_arose_on-year", "2025");
    b.click("form button[type=submit]");
    // The answers are checked before anyone is told; changing them keeps them.
    b.wait_for_text("h1", "Check your answers before filing the dispute");
    then_i_see(
        &b,
        &[
            "North CCG (commissioning group)",
            "Sunday 1 June 2025",
            "North CCG and North Essex LMC are told by email",
        ],
    );
    b.check("filing-check-answers");
    b.click("button[value=change]");
    b.wait_for_text("h1", "File a dispute");
    assert_eq!(b.value("#title"), "Enhanced services payments 2026");
    assert_eq!(b.value("#matter_arose_on-year"), "2025");
    b.click("form button[type=submit]");
    b.wait_for_text("h1", "Check your answers before filing the dispute");
    b.click("button[value=file]");
    b.wait_for_text(".nhsuk-notification-banner", "Dispute filed");
    then_i_see(
        &b,
        &[
            "Enhanced services payments 2026",
            "Waiting for the LMC to take the case",
            "Pat Practice filed the dispute.",
            "North CCG",
        ],
    );
    b.check("filed");
    let id = b.path().trim_start_matches("/disputes/").to_string();
    assert_eq!(state_of(&app, &w, PRACTICE, &id).0, "informal");

    // A document: kind and file; its checksum shown after.
    b.click_link("Add a document");
    b.wait_for_text("h1", "Add a document");
    b.click("form button[type=submit]");
    b.wait_for_text(".nhsuk-error-summary", "The kind of document is required");
    then_i_see(&b, &["The file is required"]);
    b.check("upload-errors");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("payments-letter.pdf");
    let bytes = b"%PDF-1.4 the payments letter";
    std::fs::write(&file, bytes).unwrap();
    b.select("#kind", "Evidence");
    b.fill("#file", file.to_str().unwrap());
    b.click("form button[type=submit]");
    b.wait_for_text(".nhsuk-notification-banner", "Document added");
    use sha2::Digest;
    let sha = hex::encode(sha2::Sha256::digest(bytes));
    then_i_see(
        &b,
        &[
            &format!("payments-letter.pdf was added. Its SHA-256 checksum is {sha}."),
            "payments-letter.pdf",
        ],
    );
    b.check("uploaded");

    // The mediator exhausts stage 1; the practice asks for a panel.
    w.walk(&app, id.clone(), "informal_exhausted");
    b.open(&format!("/disputes/{id}"));
    b.click_link("Request formal resolution by a panel");
    b.wait_for_text("h1", "Request formal resolution by a panel");
    b.fill(
        "#grounds",
        "The CCG withheld payment for services delivered.",
    );
    b.fill("#lodged_on-day", "2");
    b.fill("#lodged_on-month", "3");
    b.fill("#lodged_on-year", "2026");
    b.check("request-formal");
    b.click("form button[type=submit]");
    b.wait_for_text(".nhsuk-notification-banner", "Formal resolution requested");
    then_i_see(
        &b,
        &[
            "Formal resolution requested: to be screened",
            "Pat Practice requested formal resolution by a panel.",
            "Hearing to be held by",
        ],
    );
    b.check("formal-requested");

    // Another case, withdrawn: the reason is needed.
    b.open(&format!("/disputes/{other}"));
    b.click_link("Withdraw the dispute");
    b.wait_for_text("h1", "Withdraw the dispute");
    b.click("form button[type=submit]");
    b.wait_for_text(
        ".nhsuk-error-summary",
        "Why you are withdrawing the dispute is required",
    );
    b.check("withdraw-error");
    b.fill("#reason", "We agreed with the CCG directly.");
    b.click("form button[type=submit]");
    b.wait_for_text(".nhsuk-notification-banner", "Dispute withdrawn");
    then_i_see(&b, &["Withdrawn", "Pat Practice withdrew the dispute."]);
    b.check("withdrawn");
    assert_eq!(state_of(&app, &w, PRACTICE, &other).0, "withdrawn");
}

fn the_referral_pack_link_is_for_the_parties_once_referred(db: Db) {
    let Some(app) = app(db) else { return };
    let w = World::new(&app);
    let early = w.case_at(&app, "informal_mediation");
    let id = w.case_at(&app, "referred_to_fhsu");
    let Some(mut b) = browser(&app, "pack", db) else {
        return;
    };
    when_i_sign_in(&mut b, &email(PRACTICE), PASSWORD);
    b.wait_for_text("h1", "Our disputes");
    b.open(&format!("/disputes/{early}"));
    b.wait_for_text("h1", "Prescribing budget 2025/26");
    assert!(
        !b.body().contains("Download the referral pack"),
        "not before the referral"
    );
    b.open(&format!("/disputes/{id}"));
    b.wait_for_text("h1", "Prescribing budget 2025/26");
    then_i_see(
        &b,
        &[
            "Referred to NHS Resolution (FHSU)",
            "Download the referral pack",
        ],
    );
    b.check("case-referred");
    let href = b.execute(
        "return [...document.querySelectorAll('a')].find(a => a.textContent.trim() === 'Download the referral pack').getAttribute('href');",
    );
    assert_eq!(href, json!(format!("/disputes/{id}/referral-pack")));
    let session = b.cookie("ldr_session").unwrap();
    let (status, _, zip) = get_with_cookie(
        &app.base,
        &format!("/disputes/{id}/referral-pack"),
        &format!("ldr_session={session}"),
    );
    assert_eq!(status, 200);
    assert!(zip.starts_with(b"PK\x03\x04"), "a zip");
    let (status, location, _) = get_with_cookie(
        &app.base,
        &format!("/disputes/{id}/referral-pack"),
        "ldr_session=0000",
    );
    assert_eq!(
        (status, location),
        (
            303,
            format!("/sign-in?next=%2Fdisputes%2F{id}%2Freferral-pack")
        ),
        "not signed in"
    );
    b.click("button.nhsuk-header__account-button");
    b.wait_for_text("h1", "Sign in");

    when_i_sign_in(&mut b, &email(MEDIATOR), PASSWORD);
    b.wait_for_text("h1", "Stage 1 cases");
    b.open(&format!("/disputes/{id}"));
    b.wait_for_text("h1", "Prescribing budget 2025/26");
    assert!(
        !b.body().contains("Download the referral pack"),
        "the mediator is not sent the pack"
    );
    b.check("case-referred-mediator");
}

both_dbs!(
    a_mediator_takes_a_case_adds_a_note_with_the_keyboard_and_exhausts_it,
    a_practice_manager_files_uploads_requests_formal_resolution_and_withdraws,
    the_referral_pack_link_is_for_the_parties_once_referred,
    the_bootstrap_admin_signs_in_on_loopback_with_the_default_cookies,
    a_mediator_signs_in_with_the_keyboard_reads_a_case_and_signs_out,
    a_practice_user_sees_our_disputes_and_another_practice_gets_the_404_page,
    a_form_without_its_token_is_refused_and_deactivation_ends_the_session,
);
