//! The panel secretary's workbench and the accountable officer's screening, in a real browser
//! on SQLite and PostgreSQL: a whole stage 2 run from the pages alone, from "awaiting a panel"
//! to "decision notified". axe-core checks every page visited; screenshots go to
//! `target/screenshots/`.

mod common;

use common::browser::{get_with_cookie, Browser};
use common::journey::*;
use common::world::*;
use common::{Db, PASSWORD};
use serde_json::json;

fn day(s: &str) -> chrono::NaiveDate {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// From the case page, the action `link`, which opens the page headed `heading`.
fn when_i_choose_on_the_case(b: &Browser, id: &str, link: &str, heading: &str) {
    b.open(&format!("/disputes/{id}"));
    b.click_link(link);
    b.wait_for_text("h1", heading);
}

fn a_secretary_runs_stage_2_from_the_pages(db: Db) {
    let Some(app) = app(db) else { return };
    let w = World::new(&app);
    // Today is Monday 2 March 2026; both requests were lodged today: hearings by 30 March.
    let id = w.case_at(&app, "panel_forming");
    // A request lodged on Wednesday 18 February: its hearing is due by 18 March, the notice
    // by Friday 6 March.
    app.state.clock.set_today(Some(day("2026-02-18")));
    let other = w.file_inter_practice(&app, false);
    w.walk(&app, other, "panel_forming");
    app.state.clock.set_today(Some(day("2026-03-02")));
    // A request still to be screened is not the secretary's.
    let unscreened = w.file_inter_practice(&app, false);
    w.walk(&app, unscreened, "formal_requested");
    // A second GP conciliator, who declared an interest in the appellant practice.
    let grey = w.conflicted_gp(&app);
    // The clinical member cannot sit on Friday 13 March.
    app.post(
        &format!("/api/v1/users/{}/unavailability", w.id(CLINICAL)),
        Some(&w.admin),
        &json!({"from": "2026-03-13", "to": "2026-03-13"}),
    )
    .expect(201);
    for (who, kind, name) in [
        (PRACTICE, "evidence", "budget-letter.pdf"),
        (COMMISSIONER, "evidence", "ccg-response.pdf"),
    ] {
        w.upload(&app, who, &id, kind, name, b"%PDF-1.4 text")
            .expect(201);
    }
    let Some(mut b) = browser(&app, "secretary", db) else {
        return;
    };
    when_i_sign_in(&mut b, &email(SECRETARY), PASSWORD);
    // The secretary's first page: the deadlines.
    b.wait_for_text("h1", "Deadlines");
    assert_eq!(b.path(), "/");
    then_i_see(
        &b,
        &[
            "2 cases: 0 with a deadline breached, 0 due within 2 working days.",
            "Prescribing budget 2025/26",
            "Patient list boundary",
            "Waiting for a panel to be appointed",
            "Hearing to be held by: Monday 30 March 2026",
            "20 working days left",
            "On track",
        ],
    );
    let body = b.body();
    assert!(
        body.find("Patient list boundary") < body.find("Prescribing budget 2025/26"),
        "the case whose next deadline comes first is at the top"
    );
    b.check("deadlines");

    // Appointing the panel: a conflict is shown before submitting, and refused on submit.
    b.click_link("Prescribing budget 2025/26");
    b.wait_for_text("h1", "Prescribing budget 2025/26");
    b.click_link("Appoint a panel");
    b.wait_for_text("h1", "Appoint the panel");
    b.select("#clinical_member_id", "Dr Clinical (South CCG)");
    b.select("#gp_conciliator_id", "Dr Grey (Birch Practice)");
    b.select("#lmc_representative_id", "Lee Representative (Kent LMC)");
    b.click("#chair_id-2");
    b.click("button[name=check]");
    b.wait_for_text(".nhsuk-error-summary", "Dr Grey, proposed as the GP conciliator, has an interest in the appellant on the interests register");
    assert_eq!(
        state_of(&app, &w, SECRETARY, &id).0,
        "panel_forming",
        "a check writes nothing"
    );
    b.check("panel-check-conflict");
    b.click("form button[type=submit]:not([name])");
    b.wait_for_text(
        ".nhsuk-error-summary",
        "Dr Grey, proposed as the GP conciliator, has an interest in the appellant",
    );
    assert_eq!(b.value("#gp_conciliator_id"), grey, "the choice is kept");
    assert_eq!(state_of(&app, &w, SECRETARY, &id).0, "panel_forming");
    b.select("#gp_conciliator_id", "Dr Conciliator (Birch Practice)");
    b.click("button[name=check]");
    b.wait_for_text(".app-check-result", "No problems found");
    b.check("panel-check-ok");
    b.click("form button[type=submit]:not([name])");
    b.wait_for_text(".nhsuk-notification-banner", "Panel appointed");
    assert_eq!(state_of(&app, &w, SECRETARY, &id).0, "panel_appointed");

    // A date the calendar does not offer is refused, with its reason.
    b.open(&format!("/disputes/{id}/actions/schedule_hearing"));
    b.wait_for_text("h1", "Schedule the hearing");
    b.fill("#date-day", "11");
    b.fill("#date-month", "3");
    b.fill("#date-year", "2026");
    b.fill("#time", "10:00");
    b.fill("#venue", "Room 1, County Hall");
    b.click("form button[type=submit]");
    b.wait_for_text(
        ".nhsuk-error-summary",
        "with notice sent today the earliest hearing date is Thursday 12 March 2026",
    );
    // The broken rule is shown at the reason for going ahead anyway, which says so, and the
    // summary links there.
    b.wait_for_text(
        ".nhsuk-error-summary a[href='#override_reason']",
        "To go ahead anyway, give your reason here.",
    );
    b.wait_for_text(
        "#override_reason-error",
        "the earliest hearing date is Thursday 12 March 2026",
    );
    assert_eq!(state_of(&app, &w, SECRETARY, &id).0, "panel_appointed");
    b.check("schedule-refused");

    // The calendar: offered days and the reasons for the others.
    when_i_choose_on_the_case(
        &b,
        &id,
        "Schedule or move the hearing",
        "Choose the hearing date",
    );
    then_i_see(
        &b,
        &[
            "March 2026",
            "too late for 7 working days' notice",
            "Dr Clinical unavailable",
            "weekend",
            "after the hearing deadline",
        ],
    );
    assert!(
        b.has("#day-2026-03-12"),
        "the first day with notice enough is offered"
    );
    assert!(
        !b.has("#day-2026-03-13"),
        "the clinical member's day is not offered"
    );
    assert!(
        !b.has("#day-2026-03-11"),
        "too late for notice: not offered"
    );
    b.check("hearing-calendar");
    b.click(".nhsuk-pagination__link--next");
    b.wait_for_text("caption", "April 2026");
    then_i_see(&b, &["bank holiday (Good Friday)"]);
    b.click(".nhsuk-pagination__link--prev");
    b.wait_for_text("caption", "March 2026");
    // Keyboard only: to the day, Enter; the time and the venue; Enter sends the form.
    tab_to(&b, "day-2026-03-12");
    b.keys(ENTER);
    b.wait_for_text("h1", "Schedule the hearing");
    assert_eq!(b.value("#date-day"), "12");
    tab_to(&b, "time");
    b.keys("10:00");
    b.keys(TAB);
    assert_eq!(b.focused_id(), "venue");
    b.keys("Room 1, County Hall");
    b.keys(ENTER);
    b.wait_for_text(".nhsuk-notification-banner", "Hearing scheduled");
    then_i_see(&b, &["Thursday 12 March 2026 at 10am, Room 1, County Hall"]);
    b.check("hearing-scheduled");

    // Two days later the bundle is due today; a day after that it is late.
    app.state.clock.set_today(Some(day("2026-03-04")));
    b.open("/deadlines");
    b.wait_for_text("h1", "Deadlines");
    then_i_see(
        &b,
        &[
            "Bundle to be distributed by: Wednesday 4 March 2026",
            "Due today",
            "Due soon",
        ],
    );
    app.state.clock.set_today(Some(day("2026-03-05")));
    b.open("/deadlines");
    then_i_see(
        &b,
        &[
            "Overdue by 1 working day",
            "Breached",
            "2 cases: 1 with a deadline breached, 1 due within 2 working days.",
            "Notice of the hearing to be sent by: Friday 6 March 2026",
            "1 working day left",
        ],
    );
    b.check("deadlines-breached");
    // Filters, without JavaScript: a GET form.
    b.open("/deadlines?state=panel_forming");
    then_i_see(&b, &["1 case:", "Patient list boundary"]);
    assert!(!b.body().contains("Prescribing budget 2025/26"));
    b.open("/deadlines?stage=9");
    b.wait_for_text(".nhsuk-error-summary", "Choose a stage from the list");
    b.check("deadlines-filter-error");
    // Odd addresses are pages, never failures.
    let cookie = format!("ldr_session={}", b.cookie("ldr_session").unwrap());
    for path in [
        format!("/disputes/{id}/hearing-calendar?month=262143-12"),
        format!("/disputes/{id}/hearing-calendar?month=2200-12"),
        format!("/disputes/{id}/hearing-calendar?month=nonsense"),
        format!("/disputes/{id}/actions/schedule_hearing?date=99999-01-01"),
        "/deadlines?state=closed&stage=%FF".to_string(),
    ] {
        let (status, _, _) = get_with_cookie(&app.base, &path, &cookie);
        assert_eq!(status, 200, "{path}");
    }

    // The bundle, late: refused, then sent with a reason for the override.
    when_i_choose_on_the_case(&b, &id, "Distribute the bundle", "Distribute the bundle");
    then_i_see(
        &b,
        &[
            "distribute it on or before Wednesday 4 March 2026",
            "That day has passed",
            "budget-letter.pdf",
            "ccg-response.pdf",
        ],
    );
    b.execute("document.querySelectorAll('input[type=checkbox]').forEach(c => c.checked = true);");
    b.click("form button[type=submit]");
    b.wait_for_text(
        ".nhsuk-error-summary",
        "The bundle must reach everyone at least 5 working days before the hearing",
    );
    b.check("bundle-refused");
    b.fill(
        "#override_reason",
        "The CCG's response arrived late; both parties agreed.",
    );
    b.click("form button[type=submit]");
    b.wait_for_text(".nhsuk-notification-banner", "Bundle distributed");
    let events = app
        .get(&format!("/api/v1/disputes/{id}"), Some(w.t(SECRETARY)))
        .expect(200);
    assert!(
        events["breaches"].to_string().contains("bundle_too_late"),
        "the override is recorded: {}",
        events["breaches"]
    );

    // The hearing day: record the hearing and the decision, and send it.
    app.state.clock.set_today(Some(day("2026-03-12")));
    when_i_choose_on_the_case(&b, &id, "Record the hearing", "Record the hearing");
    assert_eq!(
        b.value("#held_on-day"),
        "12",
        "the scheduled day is the default"
    );
    b.click("#appellant_presented");
    b.click("#respondent_presented");
    b.fill(
        "#record",
        "Both parties presented; the panel asked about the budget letter.",
    );
    b.check("record-hearing");
    b.click("form button[type=submit]");
    b.wait_for_text(".nhsuk-notification-banner", "Hearing recorded");
    b.click_link("Record the panel's decision");
    b.wait_for_text("h1", "Record the panel's decision");
    then_i_see(
        &b,
        &[
            "Vote of Dr Clinical, the clinical member",
            "For the appellant, Elm Practice",
        ],
    );
    b.click("#vote_clinical");
    b.click("#vote_gp-2");
    b.click("#vote_lmc-2");
    b.click("#outcome");
    b.click("form button[type=submit]");
    b.wait_for_text(".nhsuk-error-summary", "majority");
    b.check("decision-refused");
    b.click("#outcome-2");
    b.fill(
        "#recommendations",
        "The practice and the CCG review the budget together.",
    );
    b.click("form button[type=submit]");
    b.wait_for_text(".nhsuk-notification-banner", "Decision recorded");
    b.click_link("Send the decision to the parties");
    b.wait_for_text("h1", "Send the decision to the parties");
    then_i_see(
        &b,
        &["within 7 days after the hearing on Thursday 12 March 2026: by Thursday 19 March 2026"],
    );
    b.check("notify");
    b.click("form button[type=submit]");
    b.wait_for_text(".nhsuk-notification-banner", "Decision sent to the parties");
    assert_eq!(state_of(&app, &w, SECRETARY, &id).0, "decision_notified");
    b.check("decision-notified");
}

fn an_accountable_officer_screens_from_the_pages(db: Db) {
    let Some(app) = app(db) else { return };
    let w = World::new(&app);
    let id = w.case_at(&app, "formal_requested");
    let Some(mut b) = browser(&app, "officer", db) else {
        return;
    };
    when_i_sign_in(&mut b, &email(OFFICER), PASSWORD);
    b.wait_for_text("h1", "Disputes to screen");
    then_i_see(
        &b,
        &[
            "Prescribing budget 2025/26",
            "Not consulted yet",
            "Monday 30 March 2026",
            "only after the LMC has been consulted",
        ],
    );
    b.check("disputes-to-screen");
    b.click("a[href$='/actions/screen']");
    b.wait_for_text("h1", "Screen the request for formal resolution");
    then_i_see(&b, &["The LMC has not been consulted on this case yet"]);
    b.click("#outcome-2");
    b.fill("#reason", "The same matter was settled last year.");
    b.click("form button[type=submit]");
    b.wait_for_text(
        ".nhsuk-error-summary",
        "only after the LMC has been consulted: record the consultation first",
    );
    assert_eq!(state_of(&app, &w, OFFICER, &id).0, "formal_requested");
    b.check("screen-refused");
    b.open("/");
    b.click("a[href$='/actions/record_lmc_consultation']");
    b.wait_for_text("h1", "Record the consultation with the LMC");
    b.fill("#consulted_on-day", "2");
    b.fill("#consulted_on-month", "3");
    b.fill("#consulted_on-year", "2026");
    b.fill("#summary", "The LMC sees a substantive dispute.");
    b.click("form button[type=submit]");
    b.wait_for_text(
        ".nhsuk-notification-banner",
        "Consultation with the LMC recorded",
    );
    b.open("/");
    then_i_see(&b, &["Consulted on Monday 2 March 2026"]);
    b.click("a[href$='/actions/screen']");
    b.wait_for_text("h1", "Screen the request for formal resolution");
    then_i_see(&b, &["The LMC was consulted on Monday 2 March 2026"]);
    b.check("screen");
    b.click("#outcome");
    b.fill("#reason", "A substantive dispute about the budget.");
    b.click("form button[type=submit]");
    b.wait_for_text(".nhsuk-notification-banner", "Screening recorded");
    assert_eq!(state_of(&app, &w, OFFICER, &id).0, "panel_forming");
    b.open("/");
    then_i_see(
        &b,
        &[
            "There is no request for you to screen at the moment.",
            "Waiting for a panel to be appointed",
        ],
    );
}

both_dbs!(
    a_secretary_runs_stage_2_from_the_pages,
    an_accountable_officer_screens_from_the_pages
);
