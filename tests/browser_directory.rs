//! The directory's pages in a real browser, on SQLite and PostgreSQL (issue #33, items 5, 6,
//! 8 and 9): the timeliness report and its CSV, a panelist's unavailability and interests,
//! the admin's organisations and users, and the calendar feed of hearings read back with the
//! `icalendar` crate as a calendar client would. axe-core checks every page visited.

mod common;

use common::browser::get_with_cookie;
use common::journey::*;
use common::world::*;
use common::{Db, ADMIN_EMAIL, ADMIN_PASSWORD, PASSWORD};
use icalendar::{Component, EventLike};

both_dbs!(
    the_timeliness_report_counts_a_decided_case_and_downloads_as_csv,
    a_panelist_marks_unavailability_and_the_hearing_options_stop_offering_it,
    an_admin_keeps_organisations_and_is_refused_a_user_whose_roles_do_not_fit,
    the_calendar_feed_lists_the_hearing_and_a_revoked_address_is_gone,
);

/// The report table's rows as (what, number).
fn report_rows(b: &common::browser::Browser) -> Vec<(String, String)> {
    let rows = b.execute(
        "return [...document.querySelectorAll('table tbody tr')]\
           .map(r => [r.querySelector('th').innerText.trim(), r.querySelector('td').innerText.trim()]);",
    );
    rows.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r[0].as_str().unwrap().to_string(),
                r[1].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn fill_date(b: &common::browser::Browser, name: &str, d: &str) {
    let parts: Vec<&str> = d.split('-').collect();
    b.fill(&format!("#{name}-day"), parts[2].trim_start_matches('0'));
    b.fill(&format!("#{name}-month"), parts[1].trim_start_matches('0'));
    b.fill(&format!("#{name}-year"), parts[0]);
}

fn the_timeliness_report_counts_a_decided_case_and_downloads_as_csv(db: Db) {
    let Some(app) = app(db) else { return };
    let w = World::new(&app);
    // Lodged on Monday 2 March 2026, heard 8 working days later, decided.
    let id = w.case_at(&app, "decided");
    let api = app
        .get(
            "/api/v1/reports/timeliness?from=2026-03-01&to=2026-03-31",
            Some(w.t(SECRETARY)),
        )
        .expect(200);
    assert_eq!(api["formal_requests"], 1);
    assert_eq!(api["hearings_within_deadline"], 1);
    let Some(mut b) = browser(&app, "timeliness", db) else {
        return;
    };
    when_i_sign_in(&mut b, &email(SECRETARY), PASSWORD);
    b.wait_for_text("h1", "Deadlines");
    b.click_link("Timeliness report");
    b.wait_for_text("h1", "Timeliness report");
    // Without dates: the financial year so far, which holds the case.
    then_i_see(&b, &["Formal requests lodged from Tuesday 1 April 2025"]);
    b.check("timeliness-default");

    // Dates that are no range: every problem listed, no report.
    fill_date(&b, "from", "2026-03-31");
    b.fill("#to-day", "31");
    b.fill("#to-month", "2");
    b.fill("#to-year", "2026");
    b.click("form[action='/reports/timeliness'] button");
    b.wait_for_text(".nhsuk-error-summary", "There is a problem");
    then_i_see(&b, &["The last day must be a real date"]);
    assert!(
        !b.has("svg.app-chart[role='img']"),
        "no report for a refused range"
    );
    b.check("timeliness-errors");

    fill_date(&b, "from", "2026-03-01");
    fill_date(&b, "to", "2026-03-31");
    b.click("form[action='/reports/timeliness'] button");
    b.wait_for_text(
        "h2",
        "Formal requests lodged from Sunday 1 March 2026 to Tuesday 31 March 2026",
    );
    let rows = report_rows(&b);
    let number = |what: &str| {
        rows.iter()
            .find(|(w, _)| w == what)
            .unwrap_or_else(|| panic!("{what} not in {rows:?}"))
            .1
            .clone()
    };
    assert_eq!(number("Formal requests lodged"), "1");
    assert_eq!(number("Hearings within the 20-working-day limit"), "1");
    assert_eq!(number("Hearings late (or overdue and not held)"), "0");
    assert_eq!(
        number("Median working days from request to hearing"),
        api["median_working_days_to_hearing"].to_string()
    );
    // The chart: an image with its title and description, the figures in words.
    let described =
        b.execute("return document.querySelector('svg.app-chart[role=img] desc').textContent;");
    assert!(
        described
            .as_str()
            .unwrap()
            .contains("Formal requests lodged: 1. Hearings within the 20-working-day limit: 1."),
        "{described}"
    );
    b.check("timeliness-march");

    // The CSV: the same figures, with the session.
    let href = b.execute("return document.querySelector('a[download]').getAttribute('href');");
    assert_eq!(
        href,
        "/reports/timeliness.csv?from=2026-03-01&to=2026-03-31"
    );
    let cookie = format!("ldr_session={}", b.cookie("ldr_session").unwrap());
    let (status, _, body) = get_with_cookie(&app.base, href.as_str().unwrap(), &cookie);
    assert_eq!(status, 200);
    let text = String::from_utf8(body).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    let head: Vec<&str> = lines[0].split(',').collect();
    let row: Vec<&str> = lines[1].split(',').collect();
    let field = |name: &str| row[head.iter().position(|h| *h == name).unwrap()];
    assert_eq!(field("from"), "2026-03-01");
    for name in [
        "formal_requests",
        "hearings_within_deadline",
        "hearings_late",
        "notices_short",
        "bundles_late",
        "decisions_late",
        "overrides",
    ] {
        assert_eq!(field(name), api[name].to_string(), "{name}");
    }
    // A range that does not read is refused with a page, not a file.
    let (status, _, body) = get_with_cookie(
        &app.base,
        "/reports/timeliness.csv?from=2026-03-31&to=2026-03-01",
        &cookie,
    );
    assert_eq!(status, 400);
    assert!(String::from_utf8_lossy(&body).contains("To must not be before from"));
    // Someone who is neither admin nor panel secretary does not find the report.
    let practice = app.login_as(PRACTICE);
    app.get(
        "/api/v1/reports/timeliness?from=2026-03-01&to=2026-03-31",
        Some(&practice),
    )
    .expect(403);
    assert_eq!(state_of(&app, &w, SECRETARY, &id).0, "decided");
}

fn a_panelist_marks_unavailability_and_the_hearing_options_stop_offering_it(db: Db) {
    let Some(app) = app(db) else { return };
    let w = World::new(&app);
    let id = w.case_at(&app, "panel_appointed");
    let options = |app: &common::TestApp| -> Vec<String> {
        app.get(
            &format!("/api/v1/disputes/{id}/hearing-options"),
            Some(w.t(SECRETARY)),
        )
        .expect(200)["dates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_str().unwrap().to_string())
            .collect()
    };
    let before = options(&app);
    assert!(before.len() > 2, "{before:?}");
    let day = before[1].clone();
    let Some(mut b) = browser(&app, "panelist", db) else {
        return;
    };
    when_i_sign_in(&mut b, &email(CLINICAL), PASSWORD);
    b.wait_for_text("h1", "My panels' cases");
    b.click_link("My hearings");
    b.wait_for_text("h1", "My hearings");
    then_i_see(
        &b,
        &[
            "Prescribing budget 2025/26",
            "Clinical member",
            "Not scheduled yet",
            "Not distributed yet",
        ],
    );
    b.check("my-hearings");

    b.click_link("My unavailability");
    b.wait_for_text("h1", "My unavailability");
    then_i_see(&b, &["You have not recorded any days you cannot sit."]);
    b.check("unavailability-empty");
    // A date that is no date, and none at all: both said, nothing recorded.
    b.fill("#from-day", "30");
    b.fill("#from-month", "2");
    b.fill("#from-year", "2026");
    b.click("form[action='/my/unavailability'] button");
    b.wait_for_text(".nhsuk-error-summary", "There is a problem");
    then_i_see(&b, &["The first day you cannot sit must be a real date"]);
    assert!(
        !b.text(".nhsuk-error-summary").contains("The last day"),
        "an empty last day is allowed (a single day)"
    );
    b.check("unavailability-errors");
    let none = app
        .get(
            &format!("/api/v1/users/{}/unavailability", w.id(CLINICAL)),
            Some(w.t(CLINICAL)),
        )
        .expect(200);
    assert_eq!(none, serde_json::json!([]));
    assert_eq!(options(&app), before);

    // A single day: the last day left empty, the date not typed twice.
    fill_date(&b, "from", &day);
    b.click("form[action='/my/unavailability'] button");
    b.wait_for_text(".nhsuk-notification-banner", "Days added");
    let long = chrono::NaiveDate::parse_from_str(&day, "%Y-%m-%d")
        .unwrap()
        .format("%A %-d %B %Y")
        .to_string();
    then_i_see(&b, &[&long]);
    b.check("unavailability-added");
    let after = options(&app);
    assert!(!after.contains(&day), "{day} still offered: {after:?}");
    assert!(after.contains(&before[0]) && after.contains(&before[2]));

    // Removed again: the day is offered again.
    b.click("form[action$='/remove'] button");
    b.wait_for_text(".nhsuk-notification-banner", "Days removed");
    b.check("unavailability-removed");
    assert_eq!(options(&app), before);

    // The register of interests: declared, listed, and refused without what it needs.
    b.click_link("My interests");
    b.wait_for_text("h1", "My register of interests");
    b.click("form[action='/my/interests'] button");
    b.wait_for_text(".nhsuk-error-summary", "There is a problem");
    then_i_see(
        &b,
        &["The organisation is required", "The interest is required"],
    );
    b.check("interests-errors");
    b.select("#organisation_id", "Oak Practice");
    b.fill("#nature", "Partner at the practice until 2024");
    fill_date(&b, "declared_on", "2026-02-02");
    b.click("form[action='/my/interests'] button");
    b.wait_for_text(".nhsuk-notification-banner", "Interest declared");
    then_i_see(
        &b,
        &[
            "Oak Practice",
            "Partner at the practice until 2024",
            "Monday 2 February 2026",
        ],
    );
    b.check("interests-added");
    let declared = app
        .get(
            &format!("/api/v1/users/{}/interests", w.id(CLINICAL)),
            Some(w.t(CLINICAL)),
        )
        .expect(200);
    assert_eq!(declared[0]["organisation_id"], w.oak.as_str());
}

fn an_admin_keeps_organisations_and_is_refused_a_user_whose_roles_do_not_fit(db: Db) {
    let Some(app) = app(db) else { return };
    let w = World::new(&app);
    let Some(mut b) = browser(&app, "admin", db) else {
        return;
    };
    // Oak Practice has no e-mail address, as an ODS import leaves each organisation.
    {
        use diesel::prelude::*;
        use ldr::db::schema::organisations;
        let mut pooled = ldr::db::checkout(&app.state.pool).unwrap();
        let c: &mut ldr::db::DbConn = &mut pooled;
        diesel::update(organisations::table.find(&w.oak))
            .set(organisations::email.eq(""))
            .execute(c)
            .unwrap();
    }
    when_i_sign_in(&mut b, ADMIN_EMAIL, ADMIN_PASSWORD);
    b.wait_for_text("h1", "All cases");
    b.click_link("Organisations");
    b.wait_for_text("h1", "Organisations");
    then_i_see(
        &b,
        &[
            "Elm Practice",
            "Oak Practice",
            "North Essex LMC",
            "1 open organisation has no email address",
        ],
    );
    b.check("organisations");
    b.click_link("Show it");
    b.wait_for_text("table", "Open organisations without an email address");
    assert!(!b.text("table").contains("Elm Practice"));
    then_i_see(&b, &["No email address: not told of its disputes"]);
    b.check("organisations-without-an-email-address");
    b.click_link("Show every organisation");
    b.wait_for_text("table", "Elm Practice");
    b.fill("#q", "elm");
    b.click("form[action='/admin/organisations'] button");
    b.wait_for_text("table", "Elm Practice");
    assert!(!b.text("table").contains("Oak Practice"));

    // A practice in an area no LMC covers: refused in the API's words, nothing created.
    b.click_link("Add an organisation");
    b.wait_for_text("h1", "Add an organisation");
    b.fill("#name", "Maple Surgery");
    b.click("#kind");
    b.fill("#area", "Nowhere");
    b.fill("#region", "East");
    b.fill("#email", "maple@nhs.test");
    b.fill("#address", "1 Maple Road, Colchester");
    b.fill("#ods_code", "F81999");
    b.select("#commissioner_id", "North CCG");
    b.click("form[action='/admin/organisations/new'] button");
    b.wait_for_text(".nhsuk-error-summary", "There is a problem");
    then_i_see(&b, &["Area no LMC covers the area \"Nowhere\""]);
    assert_eq!(b.value("#name"), "Maple Surgery", "what was typed is kept");
    b.check("organisation-refused");
    b.fill("#area", "North Essex");
    b.click("form[action='/admin/organisations/new'] button");
    b.wait_for_text(".nhsuk-notification-banner", "Organisation added");
    b.fill("#q", "f81999");
    b.click("form[action='/admin/organisations'] button");
    b.wait_for_text("table", "Maple Surgery");
    then_i_see(&b, &["ODS code F81999"]);
    b.check("organisation-found-by-ods-code");
    // Changed: its region.
    b.click_link("Change Maple Surgery");
    b.wait_for_text("h1", "Change an organisation");
    assert_eq!(b.value("#area"), "North Essex");
    b.fill("#region", "East of England");
    b.click("form[action^='/admin/organisations/'] button");
    b.wait_for_text(".nhsuk-notification-banner", "Organisation changed");
    let orgs = app.get("/api/v1/organisations", Some(&w.admin)).expect(200);
    let maple = orgs
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == "Maple Surgery")
        .expect("created");
    assert_eq!(maple["region"], "East of England");
    assert_eq!(maple["ods_code"], "F81999");

    // A user whose role does not fit the organisation's kind: refused, nobody created.
    b.click_link("Users");
    b.wait_for_text("h1", "Users");
    b.check("users");
    b.click_link("Add a user");
    b.wait_for_text("h1", "Add a user");
    b.fill("#name", "Lou Mismatch");
    b.fill("#email", "lou.mismatch@ldr.test");
    b.fill("#password", "a-long-password-2");
    b.select("#organisation_id", "Elm Practice (GP practice)");
    b.click("#roles-lmc_mediator");
    b.click("form[action='/admin/users/new'] button");
    b.wait_for_text(".nhsuk-error-summary", "There is a problem");
    then_i_see(
        &b,
        &["Roles must fit the organisation: LMC mediator (lmc_mediator) is a role of a local medical committee (LMC), and this one is a GP practice"],
    );
    assert_eq!(b.value("#password"), "", "a password is never drawn again");
    b.check("user-refused");
    let found = app
        .get("/api/v1/users?q=mismatch", Some(&w.admin))
        .expect(200);
    assert_eq!(found["items"], serde_json::json!([]), "nobody was created");

    b.click("#roles-lmc_mediator");
    b.click("#roles-practice_user");
    b.fill("#password", "a-long-password-2");
    b.click("form[action='/admin/users/new'] button");
    b.wait_for_text(".nhsuk-notification-banner", "User added");
    then_i_see(
        &b,
        &["Lou Mismatch", "Practice user", "Active: can sign in"],
    );
    b.check("user-added");
    app.login("lou.mismatch@ldr.test", "a-long-password-2");
    b.click_link("Deactivate this user");
    b.wait_for_text("h1", "Deactivate Lou Mismatch");
    then_i_see(&b, &["Lou Mismatch is signed out at once"]);
    b.check("user-deactivate");
    b.click("form[action$='/deactivate'] button");
    b.wait_for_text(".nhsuk-notification-banner", "User deactivated");
    let r = app.post(
        "/api/v1/auth/login",
        None,
        &serde_json::json!({"email": "lou.mismatch@ldr.test", "password": "a-long-password-2"}),
    );
    assert_eq!(r.status, 401, "a deactivated user cannot sign in");

    // The register of interests: recorded on a person's page, listed on the register.
    app.post(
        &format!("/api/v1/users/{}/interests", w.id(GP)),
        Some(&w.admin),
        &serde_json::json!({"organisation_id": w.north_ccg, "nature": "Sessional GP for the CCG",
                            "declared_on": "2025-01-01"}),
    )
    .expect(201);
    b.click_link("Register of interests");
    b.wait_for_text("h1", "Register of interests");
    then_i_see(
        &b,
        &["Dr Conciliator", "North CCG", "Sessional GP for the CCG"],
    );
    b.check("register-of-interests");
}

fn the_calendar_feed_lists_the_hearing_and_a_revoked_address_is_gone(db: Db) {
    let Some(app) = app(db) else { return };
    let w = World::new(&app);
    let id = w.case_at(&app, "hearing_scheduled");
    let d = app
        .get(&format!("/api/v1/disputes/{id}"), Some(w.t(GP)))
        .expect(200);
    let hearing_date = d["hearing"]["date"].as_str().unwrap().replace('-', "");
    let Some(mut b) = browser(&app, "feed", db) else {
        return;
    };
    when_i_sign_in(&mut b, &email(GP), PASSWORD);
    b.wait_for_text("h1", "My panels' cases");
    b.click_link("Calendar feed");
    b.wait_for_text("h1", "Your calendar feed of hearings");
    then_i_see(&b, &["You have no calendar feed."]);
    b.check("feed-none");
    b.click("form[action='/calendar-feed'] button");
    b.wait_for_text("h2", "Your new calendar address");
    let url = b.value("#feed-url");
    b.check("feed-created");
    let path = &url[url.find("/calendar/").expect("a feed address")..];
    assert!(path.ends_with(".ics"), "{url}");

    let fetch = |path: &str| get_with_cookie(&app.base, path, "");
    let (status, _, body) = fetch(path);
    assert_eq!(status, 200);
    let text = String::from_utf8(body).unwrap();
    let cal: icalendar::Calendar = text.parse().expect("the feed parses");
    let events: Vec<&icalendar::Event> =
        cal.components.iter().filter_map(|c| c.as_event()).collect();
    assert_eq!(events.len(), 1, "{text}");
    let ev = events[0];
    assert_eq!(
        ev.get_summary(),
        Some("Panel hearing: Prescribing budget 2025/26")
    );
    assert_eq!(ev.get_location(), Some("Room 1, County Hall"));
    assert_eq!(ev.get_uid(), Some(format!("hearing-{id}@ldr").as_str()));
    assert!(ev.get_timestamp().is_some(), "DTSTAMP");
    assert!(
        text.contains(&format!("DTSTART;TZID=Europe/London:{hearing_date}T100000")),
        "{text}"
    );
    // Nothing of the case beyond its title, date, time and venue.
    for secret in [
        "Elm Practice",
        "North CCG",
        "budget without consultation",
        "Conciliator",
    ] {
        assert!(!text.contains(secret), "{secret:?} in the feed:\n{text}");
    }
    for line in text.lines().filter(|l| !l.starts_with("UID:")) {
        assert!(!line.contains('@'), "an address in the feed: {line}");
    }
    // Fetched again: the same calendar (the UID and DTSTAMP stay).
    assert_eq!(String::from_utf8(fetch(path).2).unwrap(), text);

    // The address is shown once.
    b.open("/calendar-feed");
    b.wait_for_text("h1", "Your calendar feed of hearings");
    assert!(!b.has("#feed-url"), "the address is not shown again");
    then_i_see(&b, &["Created on", "Last read by a calendar"]);
    b.check("feed-exists");

    // A new address: the old one is gone, the new one works.
    b.click("form[action='/calendar-feed'] button");
    b.wait_for_text("h2", "Your new calendar address");
    let new_url = b.value("#feed-url");
    let new_path = &new_url[new_url.find("/calendar/").unwrap()..];
    assert_ne!(new_path, path);
    assert_eq!(fetch(path).0, 404);
    assert_eq!(fetch(new_path).0, 200);

    // Stopped: the address answers 404.
    b.click("form[action='/calendar-feed/revoke'] button");
    b.wait_for_text(
        ".nhsuk-notification-banner",
        "Your calendar feed is stopped",
    );
    b.check("feed-stopped");
    assert_eq!(fetch(new_path).0, 404);
    assert_eq!(fetch("/calendar/not-a-token.ics").0, 404);
    let (status, _, _) = fetch(&format!("/calendar/{}.ics", "0".repeat(64)));
    assert_eq!(status, 404);
    // Someone who sits on no panel has no feed page.
    let (status, _, _) = get_with_cookie(&app.base, "/calendar-feed", "");
    assert_eq!(status, 303, "signed out: to the sign-in page");
}
