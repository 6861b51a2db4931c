//! What every form page shares: its fields as the templates draw them (the NHS.UK text input,
//! textarea, date input, radios, select and file upload, each with its hint and its error
//! beside it), the NHS.UK date input's three boxes read into the `YYYY-MM-DD` the API takes,
//! and a refusal of the API's code turned into the error summary's lines.
//!
//! A refused form keeps what was typed, lists every problem at the top (each linked to its
//! field) and says each again beside its field, in the words the API uses ("Reason is
//! required", "The date the matter arose must not be in the future").

use super::session::SignedIn;
use super::{page, PageError};
use crate::api::error::ApiError;
use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use serde_json::{json, Map, Value};
use std::borrow::Cow;
use std::collections::HashMap;

/// How a field is entered.
#[derive(Debug, Clone)]
pub enum Input {
    /// One line of text.
    Text,
    /// Several lines.
    Textarea,
    /// The NHS.UK date input: `NAME-day`, `NAME-month`, `NAME-year`.
    Date,
    /// One of several choices: (value, label, hint).
    Radios(Vec<(String, String, String)>),
    /// A select: (value, label); the first option is an empty "Choose" line.
    Select(Vec<(String, String)>),
    /// A file (multipart forms only).
    File,
    /// A password: never drawn again with what was typed.
    Password,
    /// Yes or no, as two radios; sent to the API as `true` / `false`.
    YesNo,
    /// Any of several choices: (value, label, hint); each box is named `NAME-VALUE`, and the
    /// API gets the array of the values ticked.
    Checkboxes(Vec<(String, String, String)>),
}

/// One field of a form. `name` is the API's field name, also the input's `name` and `id`.
#[derive(Debug, Clone)]
pub struct Field {
    pub name: &'static str,
    pub label: Cow<'static, str>,
    /// The field as its error messages name it (the label, unless that is a question).
    pub noun: Cow<'static, str>,
    pub hint: Cow<'static, str>,
    pub input: Input,
}

impl Field {
    pub fn new(
        name: &'static str,
        label: impl Into<Cow<'static, str>>,
        hint: impl Into<Cow<'static, str>>,
        input: Input,
    ) -> Field {
        let label = label.into();
        Field {
            name,
            noun: label.clone(),
            label,
            hint: hint.into(),
            input,
        }
    }

    /// Names the field `noun` in its error messages ("Mode is required").
    pub fn called(mut self, noun: impl Into<Cow<'static, str>>) -> Field {
        self.noun = noun.into();
        self
    }

    /// The id the error summary links to: the field's input (a date's day box).
    pub fn anchor(&self) -> String {
        match &self.input {
            Input::Date => format!("{}-day", self.name),
            Input::Checkboxes(options) => match options.first() {
                Some((value, ..)) => format!("{}-{value}", self.name),
                None => self.name.to_string(),
            },
            _ => self.name.to_string(),
        }
    }
}

/// The values a form was sent with (a urlencoded body, or a multipart upload's short fields).
pub type Sent = HashMap<String, String>;

/// A urlencoded body read as pairs (a field may come several times: ticked checkboxes) made
/// into [`Sent`], the values of a repeated field joined by newlines.
pub fn sent_of(pairs: Vec<(String, String)>) -> Sent {
    let mut sent = Sent::new();
    for (k, v) in pairs {
        sent.entry(k)
            .and_modify(|all: &mut String| {
                all.push('\n');
                all.push_str(&v);
            })
            .or_insert(v);
    }
    sent
}

/// Three boxes of the date input that do not make a real date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotADate;

/// The NHS.UK date input's three boxes as `YYYY-MM-DD`: `Ok(None)` when all are empty,
/// `Err` when they do not make a real date.
pub fn date_of(sent: &Sent, name: &str) -> Result<Option<String>, NotADate> {
    let part = |p: &str| {
        sent.get(&format!("{name}-{p}"))
            .map(|v| v.trim().to_string())
            .unwrap_or_default()
    };
    let (d, m, y) = (part("day"), part("month"), part("year"));
    if d.is_empty() && m.is_empty() && y.is_empty() {
        return Ok(None);
    }
    let num = |s: &str, max_len: usize| -> Result<u32, NotADate> {
        if s.is_empty() || s.len() > max_len || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(NotADate);
        }
        s.parse().map_err(|_| NotADate)
    };
    let (d, m, y) = (num(&d, 2)?, num(&m, 2)?, num(&y, 4)?);
    if y < 1000 {
        return Err(NotADate);
    }
    let date = chrono::NaiveDate::from_ymd_opt(y as i32, m, d).ok_or(NotADate)?;
    Ok(Some(date.format("%Y-%m-%d").to_string()))
}

/// One line of the error summary, and the message beside its field.
#[derive(Debug, Clone)]
pub struct Problem {
    /// The form field it belongs to (a field of the form), if any.
    pub field: Option<String>,
    pub text: String,
}

/// The fields' values as the API body takes them; problems the page finds itself (a date
/// that is not a real date) are returned to be shown with the API's.
pub fn body_of(fields: &[Field], sent: &Sent) -> (Map<String, Value>, Vec<Problem>) {
    let mut body = Map::new();
    let mut problems = Vec::new();
    for f in fields {
        match &f.input {
            Input::Date => match date_of(sent, f.name) {
                Ok(Some(d)) => {
                    body.insert(f.name.into(), json!(d));
                }
                Ok(None) => {}
                Err(NotADate) => problems.push(Problem {
                    field: Some(f.name.into()),
                    text: format!("{} must be a real date", f.noun),
                }),
            },
            Input::File => {}
            Input::YesNo => match sent.get(f.name).map(|v| v.trim()) {
                Some("yes") => {
                    body.insert(f.name.into(), json!(true));
                }
                Some("no") => {
                    body.insert(f.name.into(), json!(false));
                }
                _ => {}
            },
            Input::Checkboxes(options) => {
                let ticked: Vec<&String> = options
                    .iter()
                    .filter(|(value, ..)| sent.contains_key(&format!("{}-{value}", f.name)))
                    .map(|(value, ..)| value)
                    .collect();
                if !ticked.is_empty() {
                    body.insert(f.name.into(), json!(ticked));
                }
            }
            Input::Radios(_)
            | Input::Select(_)
            | Input::Text
            | Input::Password
            | Input::Textarea => {
                if let Some(v) = sent.get(f.name).filter(|v| !v.trim().is_empty()) {
                    body.insert(f.name.into(), json!(v));
                }
            }
        }
    }
    (body, problems)
}

/// A refusal as the summary's lines, or the error page when it is not the form's to show
/// (not found, signed out, too many requests, a failure). `labels` names the API's fields that
/// are not on the form (e.g. `appellant_id`: "Your organisation").
/// The field in which a panel secretary gives the reason for going ahead although a date rule
/// is broken (SPEC rule 8; the API's `override_reason`).
pub const OVERRIDE_REASON: &str = "override_reason";

pub fn problems_of(
    e: ApiError,
    fields: &[Field],
    labels: &[(&str, &str)],
) -> Result<Vec<Problem>, PageError> {
    Ok(match e {
        ApiError::Validation(errs) => errs
            .into_iter()
            .map(|fe| {
                let on_form = fields.iter().find(|f| f.name == fe.field);
                let label = on_form
                    .map(|f| f.noun.as_ref())
                    .or_else(|| labels.iter().find(|(n, _)| *n == fe.field).map(|(_, l)| *l));
                Problem {
                    field: on_form.map(|f| f.name.to_string()),
                    text: match label {
                        Some(l) => format!("{l} {}", fe.message),
                        None => format!("{} {}", fe.field, fe.message),
                    },
                }
            })
            .collect(),
        // A date rule a form can override (it has the override's field): each broken rule is
        // shown at that field, and says how to go ahead anyway.
        ApiError::Rule { violations, .. } if fields.iter().any(|f| f.name == OVERRIDE_REASON) => {
            violations
                .into_iter()
                .map(|v| Problem {
                    field: Some(OVERRIDE_REASON.to_string()),
                    text: match v.message.split_once("send override_reason saying why") {
                        Some((before, after)) => format!("{before}give your reason here{after}"),
                        None => format!("{} To go ahead anyway, give your reason here.", v.message),
                    },
                })
                .collect()
        }
        ApiError::Rule { violations, .. } => violations
            .into_iter()
            .map(|v| Problem {
                field: None,
                text: v.message,
            })
            .collect(),
        e @ (ApiError::NotFound
        | ApiError::Unauthorized(_)
        | ApiError::TooManyRequests { .. }
        | ApiError::Internal(_)
        | ApiError::Unavailable(_)) => return Err(e.into()),
        // 400, 403, 409, 408, 413, 415: one sentence saying what to do.
        other => vec![Problem {
            field: None,
            text: other.to_string(),
        }],
    })
}

/// A problem of the page's own (a real date) replaces the API's about the same field (it
/// was left out of the body, so the API says it "is required"); the lines follow the form's
/// order, problems of no field last.
pub fn merge(fields: &[Field], mut own: Vec<Problem>, api: Vec<Problem>) -> Vec<Problem> {
    for p in api {
        let dup = p.field.is_some() && own.iter().any(|o| o.field == p.field);
        if !dup {
            own.push(p);
        }
    }
    own.sort_by_key(|p| {
        p.field
            .as_deref()
            .and_then(|n| fields.iter().position(|f| f.name == n))
            .unwrap_or(fields.len())
    });
    own
}

/// The template data of `fields`, with the values sent and the problems beside them.
pub fn render_fields(fields: &[Field], sent: &Sent, problems: &[Problem]) -> Vec<Value> {
    fields
        .iter()
        .map(|f| {
            let error = problems
                .iter()
                .find(|p| p.field.as_deref() == Some(f.name))
                .map(|p| p.text.clone());
            let mut described = Vec::new();
            if !f.hint.is_empty() {
                described.push(format!("{}-hint", f.name));
            }
            if error.is_some() {
                described.push(format!("{}-error", f.name));
            }
            let value = sent.get(f.name).cloned().unwrap_or_default();
            let mut v = json!({
                "id": f.name, "name": f.name, "label": f.label, "hint": f.hint,
                "error": error, "value": value, "describedby": described.join(" "),
            });
            match &f.input {
                Input::Text => v["is_text"] = json!(true),
                Input::Password => {
                    v["is_text"] = json!(true);
                    v["password"] = json!(true);
                    v["value"] = json!("");
                }
                Input::Textarea => v["is_textarea"] = json!(true),
                Input::File => v["is_file"] = json!(true),
                Input::Date => {
                    v["is_date"] = json!(true);
                    for p in ["day", "month", "year"] {
                        v[p] = json!(sent
                            .get(&format!("{}-{p}", f.name))
                            .cloned()
                            .unwrap_or_default());
                    }
                }
                Input::Radios(options) => {
                    v["is_radios"] = json!(true);
                    v["options"] = radios(f.name, options, &value);
                }
                Input::YesNo => {
                    v["is_radios"] = json!(true);
                    v["inline"] = json!(true);
                    let options = [("yes", "Yes"), ("no", "No")]
                        .map(|(v, l)| (v.to_string(), l.to_string(), String::new()));
                    v["options"] = radios(f.name, &options, &value);
                }
                Input::Checkboxes(options) => {
                    v["is_checkboxes"] = json!(true);
                    v["options"] = options
                        .iter()
                        .map(|(val, label, hint)| {
                            let id = format!("{}-{val}", f.name);
                            json!({"id": id, "name": id, "value": "on", "label": label,
                                   "hint": hint, "checked": sent.contains_key(&id)})
                        })
                        .collect();
                }
                Input::Select(options) => {
                    v["is_select"] = json!(true);
                    v["options"] = options
                        .iter()
                        .map(|(val, label)| {
                            json!({"value": val, "label": label, "selected": *val == value})
                        })
                        .collect();
                }
            }
            v
        })
        .collect()
}

/// The radios of `options` named `name`, the one sent as `value` checked; the first radio's id
/// is the field's (the error summary links to it).
fn radios(name: &str, options: &[(String, String, String)], value: &str) -> Value {
    options
        .iter()
        .enumerate()
        .map(|(i, (val, label, hint))| {
            let id = if i == 0 {
                name.to_string()
            } else {
                format!("{name}-{}", i + 1)
            };
            json!({"id": id, "value": val, "label": label, "hint": hint, "checked": *val == value})
        })
        .collect()
}

/// The error summary's lines: each linked to its field when it has one.
pub fn summary(fields: &[Field], problems: &[Problem]) -> Vec<Value> {
    problems
        .iter()
        .map(|p| {
            let href = p
                .field
                .as_deref()
                .and_then(|n| fields.iter().find(|f| f.name == n))
                .map(|f| format!("#{}", f.anchor()));
            json!({"href": href, "text": p.text})
        })
        .collect()
}

/// Everything a form page shows besides its fields.
pub struct FormPage<'a> {
    pub who: &'a SignedIn,
    pub heading: &'a str,
    /// Above the heading (the case's reference).
    pub caption: Option<String>,
    pub breadcrumbs: Value,
    /// The link under the form: (href, text).
    pub back: (String, String),
    pub intro: Vec<String>,
    pub action: String,
    pub button: &'a str,
    /// A red button (withdraw, close).
    pub warning: bool,
    pub multipart: bool,
    /// The form can be sent (false: only the message and the way back).
    pub allowed: bool,
    /// Hidden fields besides the CSRF token.
    pub hidden: Vec<(&'static str, String)>,
}

impl<'a> FormPage<'a> {
    /// A form headed `heading`, sent to `action` by the green button `button`, under "Your
    /// cases" and with the way back to them, with nothing else on it.
    pub fn new(who: &'a SignedIn, heading: &'a str, action: String, button: &'a str) -> Self {
        FormPage {
            who,
            heading,
            caption: None,
            breadcrumbs: json!([{"href": "/", "text": "Your cases"}]),
            back: ("/".into(), "Back to your cases".into()),
            intro: Vec::new(),
            action,
            button,
            warning: false,
            multipart: false,
            allowed: true,
            hidden: Vec::new(),
        }
    }
}

/// The form page `p` with `fields`, the values `sent` and the `problems` found.
pub fn render_form(
    p: FormPage,
    fields: &[Field],
    sent: &Sent,
    problems: &[Problem],
    status: StatusCode,
) -> HttpResponse {
    render_form_with(p, fields, sent, problems, status, Extras::default())
}

/// What some forms show besides the common parts.
#[derive(Debug, Default)]
pub struct Extras {
    /// Rules shown in inset text above the form ("A request may be screened out …").
    pub rules: Vec<String>,
    /// A second button that checks the form without sending it (its words), posted with
    /// `check=1`.
    pub check: Option<&'static str>,
    /// The result of such a check as the `check_result` partial draws it (on the full page,
    /// only when it found nothing wrong: its problems are in the error summary).
    pub checked: Option<Value>,
}

/// [`render_form`] with [`Extras`].
pub fn render_form_with(
    p: FormPage,
    fields: &[Field],
    sent: &Sent,
    problems: &[Problem],
    status: StatusCode,
    extras: Extras,
) -> HttpResponse {
    let mut hidden = vec![json!({"name": "csrf_token", "value": p.who.csrf})];
    hidden.extend(p.hidden.iter().map(|(n, v)| json!({"name": n, "value": v})));
    let data = json!({
        "title": p.heading,
        "user": p.who.layout(),
        "csrf": p.who.csrf,
        "breadcrumbs": p.breadcrumbs,
        "caption": p.caption,
        "heading": p.heading,
        "intro": p.intro,
        "errors": summary(fields, problems),
        "action": p.action,
        "multipart": p.multipart,
        "allowed": p.allowed,
        "hidden": hidden,
        "fields": render_fields(fields, sent, problems),
        "button": p.button,
        "warning": p.warning,
        "back": {"href": p.back.0, "text": p.back.1},
        "rules": extras.rules,
        "check": extras.check,
        "checked": extras.checked,
    });
    page(status, "form", &data)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sent(pairs: &[(&str, &str)]) -> Sent {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_date_input_makes_a_date_or_says_it_is_not_one() {
        let s = sent(&[("d-day", "1"), ("d-month", "6"), ("d-year", "2025")]);
        assert_eq!(date_of(&s, "d"), Ok(Some("2025-06-01".into())));
        assert_eq!(date_of(&sent(&[]), "d"), Ok(None));
        for (d, m, y) in [
            ("31", "2", "2026"),
            ("x", "1", "2026"),
            ("1", "13", "2026"),
            ("1", "1", "26"),
            ("", "1", "2026"),
            ("1", "1", "+2026"),
        ] {
            let s = sent(&[("d-day", d), ("d-month", m), ("d-year", y)]);
            assert_eq!(date_of(&s, "d"), Err(NotADate), "{d} {m} {y}");
        }
    }

    #[test]
    fn refusals_read_as_sentences_beside_their_fields() {
        let fields = vec![
            Field::new("reason", "Reason", "", Input::Textarea),
            Field::new("on", "The date", "", Input::Date),
        ];
        let e = ApiError::Validation(vec![
            crate::api::error::FieldError {
                field: "reason".into(),
                message: "is required".into(),
            },
            crate::api::error::FieldError {
                field: "on".into(),
                message: "is required".into(),
            },
            crate::api::error::FieldError {
                field: "appellant_id".into(),
                message: "must be your own organisation".into(),
            },
        ]);
        let api = problems_of(e, &fields, &[("appellant_id", "Your organisation")]).unwrap();
        let own = vec![Problem {
            field: Some("on".into()),
            text: "The date must be a real date".into(),
        }];
        let all = merge(&fields, own, api);
        let texts: Vec<&str> = all.iter().map(|p| p.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "Reason is required",
                "The date must be a real date",
                "Your organisation must be your own organisation"
            ]
        );
        let lines = summary(&fields, &all);
        assert_eq!(lines[0]["href"], "#reason");
        assert_eq!(lines[1]["href"], "#on-day");
        assert_eq!(lines[2]["href"], Value::Null);
        assert!(problems_of(ApiError::NotFound, &fields, &[]).is_err());
    }
}
