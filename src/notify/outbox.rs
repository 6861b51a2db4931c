//! The outbox: notice rows written in the same transaction as the event that causes them.
//! One row per message, rendered at queue time (so what was sent is what was recorded).

use super::templates::Templates;
use crate::api::error::ApiError;
use crate::db::disputes::DisputeRow;
use crate::db::disputes::NewNotice;
use crate::db::schema::{organisations, users};
use crate::db::{now, DbConn};
use diesel::prelude::*;
use serde_json::{json, Value};

/// A calendar invitation to attach.
#[derive(Debug, Clone)]
pub struct IcsSpec {
    pub method: super::ics::IcsMethod,
    pub body: String,
}

/// One message to queue.
#[derive(Debug, Clone)]
pub struct NoticeSpec {
    pub template: &'static str,
    pub recipients: Vec<String>,
    pub ctx: Value,
    pub ics: Option<IcsSpec>,
}

/// A file a notice carries (the FHSU's referral pack).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// A rendered notice, ready to insert (`queued`, no attempt yet, due at once).
#[derive(Debug, Clone)]
pub struct Rendered {
    pub id: String,
    pub template: &'static str,
    /// The recipients as a JSON array.
    pub recipients: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub ics: Option<String>,
    pub ics_method: Option<&'static str>,
    /// Set by the caller after [`render`] (none of the templates' notices has one by itself).
    pub attachment: Option<Attachment>,
    pub queued_at: chrono::NaiveDateTime,
}

impl Rendered {
    /// The row to insert, for the dispute `dispute_id` (none for a notice about no dispute).
    pub fn row<'a>(&'a self, dispute_id: Option<&'a str>) -> NewNotice<'a> {
        NewNotice {
            id: &self.id,
            dispute_id,
            template: self.template,
            recipients: &self.recipients,
            subject: &self.subject,
            body_text: &self.text,
            body_html: &self.html,
            ics: self.ics.as_deref(),
            ics_method: self.ics_method,
            attachment_name: self.attachment.as_ref().map(|a| a.name.as_str()),
            attachment: self.attachment.as_ref().map(|a| a.bytes.as_slice()),
            queued_at: self.queued_at,
        }
    }
}

/// Renders the notices, writing nothing. Recipients are de-duplicated (case-insensitive); a
/// notice with nobody to send to is dropped and logged.
pub fn render(
    templates: &Templates,
    dispute_id: Option<&str>,
    specs: Vec<NoticeSpec>,
) -> Result<Vec<Rendered>, String> {
    let mut out = Vec::with_capacity(specs.len());
    for spec in specs {
        let mut to: Vec<String> = Vec::new();
        for r in spec.recipients {
            let r = r.trim().to_lowercase();
            if !r.is_empty() && !to.contains(&r) {
                to.push(r);
            }
        }
        if to.is_empty() {
            tracing::warn!(template = spec.template, dispute_id = ?dispute_id, "notice has no recipient; not queued");
            continue;
        }
        let rendered = templates
            .render_owned(spec.template, spec.ctx)
            .map_err(|e| format!("rendering {}: {e}", spec.template))?;
        out.push(Rendered {
            id: uuid::Uuid::new_v4().to_string(),
            template: spec.template,
            recipients: serde_json::to_string(&to).unwrap_or_default(),
            subject: rendered.subject,
            text: rendered.text,
            html: rendered.html,
            ics_method: spec.ics.as_ref().map(|i| i.method.as_str()),
            ics: spec.ics.map(|i| i.body),
            attachment: None,
            queued_at: now(),
        });
    }
    Ok(out)
}

/// Renders and inserts the notices; returns how many rows were queued (see [`render`]). A
/// template that fails to render is an internal error; the insert's errors are mapped as every
/// other statement's (a lock or busy timeout, or a lost connection, is a 503 to retry).
pub fn queue(
    c: &mut DbConn,
    templates: &Templates,
    dispute_id: Option<&str>,
    specs: Vec<NoticeSpec>,
) -> Result<usize, ApiError> {
    let rendered = render(templates, dispute_id, specs).map_err(ApiError::Internal)?;
    for n in &rendered {
        crate::db::disputes::insert_notice(c, &n.row(dispute_id))?;
    }
    Ok(rendered.len())
}

/// Looks up the addresses of the people and organisations of a case.
pub struct Addresses<'a> {
    pub c: &'a mut DbConn,
    /// (organisation id, e-mail) already read (e.g. by the dispute's view): not asked again.
    known: Vec<(String, String)>,
}

impl<'a> Addresses<'a> {
    pub fn new(c: &'a mut DbConn) -> Self {
        Addresses {
            c,
            known: Vec::new(),
        }
    }

    /// With the e-mails of these organisations known already.
    pub fn knowing(c: &'a mut DbConn, known: Vec<(String, String)>) -> Self {
        Addresses { c, known }
    }
}

impl Addresses<'_> {
    pub fn org(&mut self, id: Option<&str>) -> Vec<String> {
        let Some(id) = id else { return vec![] };
        if let Some((_, email)) = self.known.iter().find(|k| k.0 == id) {
            return vec![email.clone()];
        }
        organisations::table
            .find(id)
            .select(organisations::email)
            .first::<String>(self.c)
            .map(|e| vec![e])
            .unwrap_or_default()
    }

    pub fn user(&mut self, id: Option<&str>) -> Vec<String> {
        let Some(id) = id else { return vec![] };
        users::table
            .find(id)
            .filter(users::active.eq(true))
            .select(users::email)
            .first::<String>(self.c)
            .map(|e| vec![e])
            .unwrap_or_default()
    }

    pub fn users(&mut self, ids: &[String]) -> Vec<String> {
        ids.iter().flat_map(|i| self.user(Some(i))).collect()
    }

    /// The accountable officers of a commissioning group; its own address when it has none.
    pub fn accountable_officers(&mut self, org_id: &str) -> Vec<String> {
        let list: Vec<String> = users::table
            .filter(users::organisation_id.eq(org_id))
            .filter(users::active.eq(true))
            .filter(users::roles.like("%accountable_officer%"))
            .select(users::email)
            .load(self.c)
            .unwrap_or_default();
        if list.is_empty() {
            self.org(Some(org_id))
        } else {
            list
        }
    }

    /// Every FHSU organisation's address.
    pub fn fhsu(&mut self) -> Vec<String> {
        organisations::table
            .filter(organisations::kind.eq("fhsu"))
            .select(organisations::email)
            .load(self.c)
            .unwrap_or_default()
    }

    pub fn parties(&mut self, d: &DisputeRow) -> Vec<String> {
        let mut v = self.org(Some(&d.appellant_id));
        v.extend(self.org(Some(&d.respondent_id)));
        v
    }

    pub fn lmc(&mut self, d: &DisputeRow) -> Vec<String> {
        self.org(d.lmc_id.as_deref())
    }

    /// The three voting members and the secretary.
    pub fn panel(&mut self, d: &DisputeRow) -> Vec<String> {
        let mut ids = d.voting_members();
        ids.extend(d.secretary_id.clone());
        self.users(&ids)
    }

    pub fn org_name(&mut self, id: &str) -> String {
        organisations::table
            .find(id)
            .select(organisations::name)
            .first::<String>(self.c)
            .unwrap_or_default()
    }

    pub fn user_name(&mut self, id: &str) -> String {
        users::table
            .find(id)
            .select(users::name)
            .first::<String>(self.c)
            .unwrap_or_default()
    }
}

/// The fields every template receives.
pub fn base_context(c: &mut DbConn, d: &DisputeRow, today: chrono::NaiveDate) -> Value {
    // Both parties' names in one query.
    let names =
        crate::db::disputes::org_names(c, [&d.appellant_id, &d.respondent_id]).unwrap_or_default();
    let name = |id: &str| names.get(id).map(String::as_str).unwrap_or_default();
    base_context_named(d, name(&d.appellant_id), name(&d.respondent_id), today)
}

/// [`base_context`] with the parties' names already read.
pub fn base_context_named(
    d: &DisputeRow,
    appellant_name: &str,
    respondent_name: &str,
    today: chrono::NaiveDate,
) -> Value {
    json!({
        "case_ref": d.case_ref(),
        "title": d.title,
        "category": d.category,
        "appellant_name": appellant_name,
        "respondent_name": respondent_name,
        "today": today.to_string(),
    })
}

/// The most characters of one free-text field (a summary, grounds, a reason) that a notice
/// quotes: the service is not a way to send anyone long text of a user's choosing.
pub const NOTICE_TEXT_LIMIT: usize = 2_000;

/// `text`, cut at [`NOTICE_TEXT_LIMIT`] characters with a note saying where the rest is.
pub fn clamp_text(text: &str) -> String {
    match text.char_indices().nth(NOTICE_TEXT_LIMIT) {
        None => text.to_string(),
        Some((end, _)) => format!(
            "{} [...] (shortened: the full text is in the case's history in the service)",
            text[..end].trim_end()
        ),
    }
}

/// `base` with `extra`'s fields added, each text field clamped with [`clamp_text`].
pub fn with(base: &Value, extra: Value) -> Value {
    let mut out = base.clone();
    if let (Some(o), Value::Object(e)) = (out.as_object_mut(), extra) {
        for (k, v) in e {
            let v = match v {
                Value::String(s) => Value::String(clamp_text(&s)),
                other => other,
            };
            o.insert(k, v);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_in_a_notice_is_shortened_and_says_so() {
        let long = "é".repeat(NOTICE_TEXT_LIMIT + 5);
        let v = with(&json!({"title": "t"}), json!({"summary": long, "n": 3}));
        let s = v["summary"].as_str().unwrap();
        assert!(s.starts_with(&"é".repeat(NOTICE_TEXT_LIMIT)));
        assert!(s.contains("shortened"));
        assert_eq!(v["n"], 3);
        let short = with(&json!({}), json!({"summary": "fine"}));
        assert_eq!(short["summary"], "fine");
    }
}
