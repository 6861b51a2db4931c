//! What the directory's pages share: a list (a table whose rows may each have a "Remove"
//! button) with an optional search box and an optional form to add to it underneath
//! (`page_templates/register.hbs`), and a form sent through one of the API's own functions,
//! its refusal turned into the error summary.

use super::forms::{self, Field, Problem, Sent};
use super::session::SignedIn;
use super::{page, PageError, PageResult};
use crate::api::error::{ApiError, ApiResult};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::de::DeserializeOwned;
use serde_json::{json, Map, Value};
use std::future::Future;

/// A table cell: text, or a link.
pub fn cell(text: impl Into<String>) -> Value {
    json!({"text": text.into(), "href": null, "small": null})
}

/// A cell linking to `href`.
pub fn link(text: impl Into<String>, href: impl Into<String>) -> Value {
    json!({"text": text.into(), "href": href.into(), "small": null})
}

/// A cell with a second, smaller line.
pub fn two_lines(text: impl Into<String>, small: impl Into<String>) -> Value {
    json!({"text": text.into(), "href": null, "small": small.into()})
}

/// A row of `cells`, with a "Remove" button posting to `remove.0` (its hidden text
/// `remove.1` says what it removes, for screen readers).
pub fn row(cells: Vec<Value>, remove: Option<(String, String)>) -> Value {
    json!({"cells": cells,
           "remove": remove.map(|(action, what)| json!({"action": action, "what": what}))})
}

/// The form under a list.
pub struct AddForm<'a> {
    pub heading: &'a str,
    pub action: &'a str,
    pub button: &'a str,
    pub fields: &'a [Field],
    pub sent: &'a Sent,
    pub problems: &'a [Problem],
}

/// A button of a list page: a form of its own posting to `action`, or, when it `asks_first`,
/// a link to the page at `action` that says what it will do before it is done.
pub struct Button<'a> {
    pub action: String,
    pub text: &'a str,
    /// Red: it takes something away.
    pub warning: bool,
    pub asks_first: bool,
}

/// A warning callout under a page's heading: its label, what it says, and a link.
pub struct Warning {
    pub label: &'static str,
    pub text: String,
    /// (href, text)
    pub link: Option<(String, String)>,
}

/// A list page (see the module's documentation).
pub struct Register<'a> {
    pub who: &'a SignedIn,
    pub heading: &'a str,
    pub breadcrumbs: Value,
    pub intro: Vec<String>,
    pub warning: Option<Warning>,
    /// The green banner after a change (`?done=`).
    pub banner: Option<&'a str>,
    /// The search box: (where it goes, its label, its hint, what was searched).
    pub search: Option<(&'a str, &'a str, &'a str, String)>,
    /// A button linking to another page: (href, text).
    pub add_link: Option<(&'a str, &'a str)>,
    /// Facts above the list: (key, value).
    pub summary: Vec<(&'a str, String)>,
    /// Buttons above the list.
    pub buttons: Vec<Button<'a>>,
    /// Problems that belong to no field of the form (a refused button).
    pub problems: Vec<Problem>,
    pub caption: &'a str,
    pub head: Vec<&'a str>,
    pub rows: Vec<Value>,
    /// What the page says when there are no rows.
    pub empty: &'a str,
    /// Under the table: how many more there are.
    pub more: Option<String>,
    pub form: Option<AddForm<'a>>,
}

impl<'a> Register<'a> {
    /// A page headed `heading` with nothing on it yet.
    pub fn new(who: &'a SignedIn, heading: &'a str, breadcrumbs: Value) -> Register<'a> {
        Register {
            who,
            heading,
            breadcrumbs,
            intro: Vec::new(),
            warning: None,
            banner: None,
            add_link: None,
            summary: Vec::new(),
            buttons: Vec::new(),
            problems: Vec::new(),
            search: None,
            caption: heading,
            head: Vec::new(),
            rows: Vec::new(),
            empty: "There is nothing here yet.",
            more: None,
            form: None,
        }
    }

    pub fn render(self, status: StatusCode) -> HttpResponse {
        let removable = self.rows.iter().any(|r| !r["remove"].is_null());
        let mut errors = self
            .form
            .as_ref()
            .map(|f| forms::summary(f.fields, f.problems))
            .unwrap_or_default();
        errors.extend(forms::summary(&[], &self.problems));
        let form = self.form.as_ref().map(|f| {
            json!({"heading": f.heading, "action": f.action, "button": f.button,
                   "fields": forms::render_fields(f.fields, f.sent, f.problems)})
        });
        let data = json!({
            "title": self.heading,
            "user": self.who.layout(),
            "csrf": self.who.csrf,
            "breadcrumbs": self.breadcrumbs,
            "banner": self.banner,
            "errors": errors,
            "heading": self.heading,
            "intro": self.intro,
            "warning": self.warning.map(|w| json!({"label": w.label, "text": w.text,
                "link": w.link.map(|(href, text)| json!({"href": href, "text": text}))})),
            "search": self.search.map(|(action, label, hint, value)| json!({
                "action": action, "label": label, "hint": hint, "value": value})),
            "add_link": self.add_link.map(|(href, text)| json!({"href": href, "text": text})),
            "summary": self.summary.iter().map(|(key, value)| json!({"key": key, "value": value}))
                .collect::<Vec<_>>(),
            "buttons": self.buttons.iter().map(|b| json!({
                "action": b.action, "text": b.text, "warning": b.warning,
                "asks_first": b.asks_first})).collect::<Vec<_>>(),
            "caption": self.caption,
            "head": self.head,
            "removable": removable,
            "rows": self.rows,
            "empty": self.empty,
            "more": self.more,
            "form": form,
        });
        page(status, "register", &data)
    }
}

/// What sending a form through the API's code came to: its answer, or the problems to show
/// (the page's own, a date that is no date, with the API's) and the status to show them with.
pub type Outcome<R> = Result<R, (StatusCode, Vec<Problem>)>;

/// Sends the form's `fields` as `sent` to `call` (one of the API's functions, taking the
/// API's request body `T`), as [`request_of`] makes it and [`refused`] reads its refusal.
/// `found` is a problem the page found of its own before sending it (an organisation field's
/// look-up, `web::choose`), shown with the API's. `labels` names the API's fields that are
/// not on the form.
pub async fn through_api<T, R, F, Fut>(
    fields: &[Field],
    sent: &Sent,
    found: Option<Problem>,
    labels: &[(&str, &str)],
    call: F,
) -> PageResult<Outcome<R>>
where
    T: DeserializeOwned,
    F: FnOnce(T) -> Fut,
    Fut: Future<Output = ApiResult<R>>,
{
    let (body, mut own) = request_of(fields, sent);
    own.extend(found);
    let request: T = serde_json::from_value(Value::Object(body)).map_err(|e| {
        tracing::info!(error = %e, "form not read as the API's request");
        PageError::BadRequest("The form could not be read. Go back and try again.".into())
    })?;
    match call(request).await {
        Ok(r) => Ok(Ok(r)),
        Err(e) => Ok(Err(refused(e, fields, labels, own)?)),
    }
}

/// The API's request body of the form's `fields` as `sent`, and the form's own problems (a
/// date that is no date): such a date is sent as one the API refuses, so that nothing is
/// changed and the API still lists every other problem.
pub fn request_of(fields: &[Field], sent: &Sent) -> (Map<String, Value>, Vec<Problem>) {
    let (mut body, own) = forms::body_of(fields, sent);
    for p in &own {
        if let Some(f) = &p.field {
            body.insert(f.clone(), json!("not a date"));
        }
    }
    (body, own)
}

/// The API's refusal `e` of the form's `fields` as the status to answer with and the problems
/// to show: the form's `own` with the API's (`labels` names the API's fields that are not on
/// the form).
pub fn refused(
    e: ApiError,
    fields: &[Field],
    labels: &[(&str, &str)],
    own: Vec<Problem>,
) -> PageResult<(StatusCode, Vec<Problem>)> {
    let status = e.status_code();
    let api = forms::problems_of(e, fields, labels)?;
    Ok((status, forms::merge(fields, own, api)))
}

/// The `?done=` of a page's address.
pub fn done(req: &actix_web::HttpRequest) -> Option<String> {
    query(req).remove("done")
}

/// The query string's values.
pub fn query(req: &actix_web::HttpRequest) -> std::collections::HashMap<String, String> {
    actix_web::web::Query::<std::collections::HashMap<String, String>>::from_query(
        req.query_string(),
    )
    .map(|q| q.into_inner())
    .unwrap_or_default()
}

/// A form's pairs as [`Sent`], after checking its CSRF token.
pub fn checked(who: &SignedIn, pairs: Vec<(String, String)>) -> PageResult<Sent> {
    csrf_checked(who, forms::sent_of(pairs))
}

/// The form `sent`, after checking its CSRF token.
pub fn csrf_checked(who: &SignedIn, sent: Sent) -> PageResult<Sent> {
    who.check_csrf(sent.get("csrf_token").map_or("", String::as_str))?;
    Ok(sent)
}

/// The header's links to the pages of the person's roles (beyond their cases, at `/`).
pub fn nav_links(caller: &crate::service::Caller) -> Vec<Value> {
    use crate::domain::roles::Role;
    let mut links: Vec<(&str, &str)> = Vec::new();
    if caller.has(Role::Panelist) || caller.has(Role::PanelSecretary) {
        links.push(("/my/hearings", "My hearings"));
    }
    if caller.has(Role::Panelist) {
        links.push(("/my/unavailability", "My unavailability"));
        links.push(("/my/interests", "My interests"));
    }
    if caller.has(Role::Panelist) || caller.has(Role::PanelSecretary) {
        links.push(("/calendar-feed", "Calendar feed"));
    }
    if caller.has(Role::Admin) {
        links.push(("/admin/organisations", "Organisations"));
        links.push(("/admin/users", "Users"));
        links.push(("/admin/interests", "Register of interests"));
    }
    if caller.has(Role::Admin) || caller.has(Role::PanelSecretary) {
        links.push(("/reports/timeliness", "Timeliness report"));
    }
    links
        .into_iter()
        .map(|(href, text)| json!({"href": href, "text": text}))
        .collect()
}
