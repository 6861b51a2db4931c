//! "Appoint the panel" with JavaScript, in a real browser on SQLite and PostgreSQL: each time a
//! choice changes, the page's script (`assets/check.js`) posts the form with `check=live` and
//! shows the service's problems, or "No problems found", in an `aria-live` region, without
//! leaving the page and without writing anything. The same live check over plain HTTP answers
//! the result alone, and refuses a missing or wrong CSRF token.

mod common;

use common::browser::Browser;
use common::journey::*;
use common::world::*;
use common::{Db, PASSWORD};
use serde_json::json;

const CONFLICT: &str =
    "Dr Grey, proposed as the GP conciliator, has an interest in the appellant on the interests register";

/// `POST path` with the browser's session cookie and a urlencoded `body`: status and body.
fn post_form(base: &str, path: &str, cookie: &str, body: &str) -> (u16, String) {
    let agent = common::no_redirects();
    let mut res = agent
        .post(&format!("{base}{path}"))
        .header("Cookie", cookie)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .send(body.as_bytes())
        .expect("POST");
    let text = res.body_mut().read_to_string().unwrap_or_default();
    (res.status().as_u16(), text)
}

/// The text of the live region (empty when it shows nothing).
fn region(b: &Browser) -> String {
    b.text("#check-result")
}

/// Whether the page in view is still the one the marker was set on (no navigation since).
fn same_page(b: &Browser) -> bool {
    b.execute("return window.ldrSamePage === true;") == json!(true)
}

fn the_panel_is_checked_as_it_is_chosen(db: Db) {
    let Some(app) = app(db) else { return };
    let w = World::new(&app);
    let id = w.case_at(&app, "panel_forming");
    // A second GP conciliator, who declared an interest in the appellant practice.
    let grey = w.conflicted_gp(&app);
    let before = state_of(&app, &w, SECRETARY, &id);
    let Some(mut b) = browser(&app, "panel-check", db) else {
        return;
    };
    when_i_sign_in(&mut b, &email(SECRETARY), PASSWORD);
    b.wait_for_text("h1", "Deadlines");
    let form = format!("/disputes/{id}/actions/appoint_panel");
    b.open(&form);
    b.wait_for_text("h1", "Appoint the panel");
    assert_eq!(region(&b), "", "nothing is checked before a choice changes");
    assert!(!b.has(".app-check-result"));
    b.execute("window.ldrSamePage = true;");

    // Choosing the members: nothing is said of a panel half chosen; once every seat has a
    // choice, its problems appear, no button pressed.
    b.select("#clinical_member_id", "Dr Clinical (South CCG)");
    std::thread::sleep(std::time::Duration::from_millis(700));
    assert_eq!(region(&b), "", "a half-chosen panel is not checked");
    b.select("#lmc_representative_id", "Lee Representative (Kent LMC)");
    b.click("#chair_id-2");
    b.select("#gp_conciliator_id", "Dr Grey (Birch Practice)");
    b.wait_for_text("#check-result", CONFLICT);
    b.wait_for_text("#check-result", "1 problem found");
    assert!(same_page(&b), "the page was not left");
    assert_eq!(b.path(), form);
    assert!(
        !b.has(".nhsuk-error-summary"),
        "no page came back from the server"
    );
    assert_eq!(
        state_of(&app, &w, SECRETARY, &id),
        before,
        "a live check writes nothing"
    );
    b.check("live-conflict");

    // A clean panel: the sentence that it passed.
    b.select("#gp_conciliator_id", "Dr Conciliator (Birch Practice)");
    b.wait_for_text("#check-result", "No problems found");
    then_i_see(
        &b,
        &["This panel meets every composition and conflict rule."],
    );
    assert!(!region(&b).contains(CONFLICT), "the old result is replaced");
    assert!(same_page(&b));
    assert_eq!(state_of(&app, &w, SECRETARY, &id), before);
    b.check("live-passed");

    // Over plain HTTP: the result alone, and a form without its token refused.
    let cookie = format!("ldr_session={}", b.cookie("ldr_session").unwrap());
    let token = b.value("input[name=csrf_token]");
    let version = b.value("input[name=version]");
    let panel = format!(
        "version={version}&clinical_member_id={}&gp_conciliator_id={grey}&lmc_representative_id={}\
         &chair_id=gp&secretary_id={}",
        w.id(CLINICAL),
        w.id(LMC_REP),
        w.id(SECRETARY)
    );
    let (status, html) = post_form(
        &app.base,
        &form,
        &cookie,
        &format!("{panel}&check=live&csrf_token={token}"),
    );
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("app-check-result") && html.contains("1 problem found"));
    assert!(
        html.contains("Dr Grey, proposed as the GP conciliator, has an interest"),
        "{html}"
    );
    assert!(!html.contains("<html"), "the result alone: {html}");
    for bad in ["&csrf_token=nope", ""] {
        let (status, html) = post_form(
            &app.base,
            &form,
            &cookie,
            &format!("{panel}&check=live{bad}"),
        );
        assert_eq!(status, 403, "{bad:?}");
        assert!(html.contains("nothing was changed") && !html.contains("app-check-result"));
    }
    assert_eq!(state_of(&app, &w, SECRETARY, &id), before);

    // The form still appoints the panel the page checked.
    b.click("form button[type=submit]:not([name])");
    b.wait_for_text(".nhsuk-notification-banner", "Panel appointed");
    assert_eq!(state_of(&app, &w, SECRETARY, &id).0, "panel_appointed");
}

both_dbs!(the_panel_is_checked_as_it_is_chosen);
