//! The steps the browser journeys share: the app as the pages need it, signing in (with the
//! mouse or the keyboard only), and what the page says.

use super::browser::Browser;
use super::world::World;
use super::{Db, TestApp};

pub const TAB: &str = "\u{E004}";
pub const ENTER: &str = "\u{E007}";

pub fn email(name: &str) -> String {
    format!("{}@ldr.test", name.to_lowercase().replace(' ', "."))
}

/// The app with today pinned to a Monday (World's walks need it) and plain-http cookies.
pub fn app(db: Db) -> Option<TestApp> {
    TestApp::spawn_with(
        db,
        &[
            ("LDR_TODAY", "2026-03-02"),
            ("LDR_INSECURE_COOKIES", "true"),
        ],
    )
}

pub fn browser(app: &TestApp, journey: &str, db: Db) -> Option<Browser> {
    Browser::start(&app.base, &format!("{journey}-{db:?}").to_lowercase())
}

pub fn when_i_sign_in(b: &mut Browser, who: &str, password: &str) {
    b.open("/sign-in");
    b.fill("#email", who);
    b.fill("#password", password);
    b.click("form[action='/sign-in'] button");
}

/// Tab from the top of the sign-in page to the e-mail field, type, Tab, type, Enter.
pub fn when_i_sign_in_with_the_keyboard_only(b: &mut Browser, who: &str, password: &str) {
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

pub fn then_i_see(b: &Browser, texts: &[&str]) {
    let body = b.body();
    for t in texts {
        assert!(body.contains(t), "{t:?} is not on {}:\n{body}", b.path());
    }
}

/// The dispute's state and version as the API gives them to `who`.
pub fn state_of(app: &TestApp, w: &World, who: &str, id: &str) -> (String, i64) {
    let d = app
        .get(&format!("/api/v1/disputes/{id}"), Some(w.t(who)))
        .expect(200);
    (
        d["state"].as_str().unwrap().to_string(),
        d["version"].as_i64().unwrap(),
    )
}

/// Presses Tab until the element `#id` has the focus.
pub fn tab_to(b: &Browser, id: &str) {
    let mut tabs = 0;
    while b.focused_id() != id {
        b.keys(TAB);
        tabs += 1;
        assert!(tabs < 40, "#{id} is not reached with Tab");
    }
}
