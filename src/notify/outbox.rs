//! The outbox: notice rows written in the same transaction as the event that causes them.
//! One row per message, rendered at queue time (so what was sent is what was recorded).

use super::templates::Templates;
use crate::db::disputes::DisputeRow;
use crate::db::schema::{notices, organisations, users};
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

/// Renders and inserts the notices; returns how many rows were queued. Recipients are
/// de-duplicated (case-insensitive); a notice with nobody to send to is not queued but logged.
pub fn queue(
    c: &mut DbConn,
    templates: &Templates,
    dispute_id: Option<&str>,
    specs: Vec<NoticeSpec>,
) -> Result<usize, String> {
    let mut n = 0;
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
            .render(spec.template, &spec.ctx)
            .map_err(|e| format!("rendering {}: {e}", spec.template))?;
        let t = now();
        diesel::insert_into(notices::table)
            .values((
                notices::id.eq(uuid::Uuid::new_v4().to_string()),
                notices::dispute_id.eq(dispute_id),
                notices::template.eq(spec.template),
                notices::recipients.eq(serde_json::to_string(&to).unwrap_or_default()),
                notices::subject.eq(&rendered.subject),
                notices::body_text.eq(&rendered.text),
                notices::body_html.eq(&rendered.html),
                notices::ics.eq(spec.ics.as_ref().map(|i| i.body.clone())),
                notices::ics_method.eq(spec.ics.as_ref().map(|i| i.method.as_str())),
                notices::status.eq("queued"),
                notices::attempts.eq(0),
                notices::queued_at.eq(t),
                notices::next_attempt_at.eq(t),
            ))
            .execute(c)
            .map_err(|e| format!("queueing notice: {e}"))?;
        n += 1;
    }
    Ok(n)
}

/// Looks up the addresses of the people and organisations of a case.
pub struct Addresses<'a> {
    pub c: &'a mut DbConn,
}

impl Addresses<'_> {
    pub fn org(&mut self, id: Option<&str>) -> Vec<String> {
        let Some(id) = id else { return vec![] };
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
    let name = |id: &str| names.get(id).cloned().unwrap_or_default();
    json!({
        "case_ref": d.case_ref(),
        "title": d.title,
        "category": d.category,
        "appellant_name": name(&d.appellant_id),
        "respondent_name": name(&d.respondent_id),
        "today": today.to_string(),
    })
}

/// `base` with `extra`'s fields added.
pub fn with(base: &Value, extra: Value) -> Value {
    let mut out = base.clone();
    if let (Some(o), Value::Object(e)) = (out.as_object_mut(), extra) {
        for (k, v) in e {
            o.insert(k, v);
        }
    }
    out
}
