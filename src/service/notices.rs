//! From the procedure's notice intents to outbox rows: each recipient role resolved to
//! addresses against the dispute as it is after the event, the hearing's calendar invitation
//! built when the notice carries one, and the template rendered (at queue time, so what was
//! sent is what was recorded).

use super::{Ctx, ServiceError};
use crate::db::directory::{self, OrgRow};
use crate::db::outbox::NewNotice;
use crate::db::{now, DbConn};
use crate::domain::dispute::Dispute;
use crate::domain::notices::{self, CalendarMethod, NoticeIntent, Recipient};
use crate::notify::ics::{self, HearingInvite, IcsMethod};
use chrono::NaiveDateTime;
use serde_json::Value;

/// The two parties of a dispute as read for it (names for the notices, addresses to send to,
/// kinds and postal addresses for its representation).
#[derive(Debug, Clone)]
pub struct Parties {
    pub appellant: OrgRow,
    pub respondent: OrgRow,
}

impl Parties {
    /// Both parties of `d`, in one statement.
    pub fn of(c: &mut DbConn, d: &Dispute) -> Result<Parties, ServiceError> {
        let mut rows = directory::orgs(c, &[&d.appellant_id, &d.respondent_id])?;
        let mut take = |id: &str| {
            rows.iter()
                .position(|o| o.id == id)
                .map(|i| rows.swap_remove(i))
                .ok_or_else(|| ServiceError::Corrupt {
                    id: d.id.clone(),
                    cause: format!("its party organisation {id} does not exist"),
                })
        };
        let appellant = take(&d.appellant_id)?;
        let respondent = take(&d.respondent_id)?;
        Ok(Parties {
            appellant,
            respondent,
        })
    }
}

/// A notice rendered and addressed, ready to queue (see [`Rendered::row`]).
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
    pub queued_at: NaiveDateTime,
}

impl Rendered {
    /// The outbox row, for the dispute `dispute_id`.
    pub fn row<'a>(&'a self, dispute_id: &'a str) -> NewNotice<'a> {
        NewNotice {
            id: &self.id,
            dispute_id: Some(dispute_id),
            template: self.template,
            recipients: &self.recipients,
            subject: &self.subject,
            body_text: &self.text,
            body_html: &self.html,
            ics: self.ics.as_deref(),
            ics_method: self.ics_method,
            queued_at: self.queued_at,
        }
    }
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

/// Addresses, renders and returns the notices `intents` of the dispute `d` (as it is after
/// the event), writing nothing. Recipients are de-duplicated (case-insensitive); a notice with
/// nobody to send to is dropped and logged.
pub fn render(
    c: &mut DbConn,
    ctx: &Ctx,
    d: &Dispute,
    parties: &Parties,
    intents: Vec<NoticeIntent>,
) -> Result<Vec<Rendered>, ServiceError> {
    if intents.is_empty() {
        return Ok(Vec::new());
    }
    let base = notices::base_context(
        d,
        &parties.appellant.name,
        &parties.respondent.name,
        ctx.today,
    );
    let mut out = Vec::with_capacity(intents.len());
    for intent in intents {
        let n = intent.notice;
        let mut to: Vec<String> = Vec::new();
        for address in addresses(c, d, parties, n.to)? {
            let address = address.trim().to_lowercase();
            if !address.is_empty() && !to.contains(&address) {
                to.push(address);
            }
        }
        if to.is_empty() {
            tracing::warn!(template = n.template, dispute_id = %d.id, "notice has no recipient; not queued");
            continue;
        }
        let ics = match n.calendar {
            Some(m) => Some(hearing_ics(c, ctx.mail_from, d, parties, m)?),
            None => None,
        };
        let rendered = ctx
            .templates
            .render_owned(n.template, with(&base, intent.context))
            .map_err(|e| ServiceError::Internal(format!("rendering {}: {e}", n.template)))?;
        out.push(Rendered {
            id: uuid::Uuid::new_v4().to_string(),
            template: n.template,
            recipients: serde_json::to_string(&to).unwrap_or_default(),
            subject: rendered.subject,
            text: rendered.text,
            html: rendered.html,
            ics_method: n.calendar.map(|m| ics_method(m).as_str()),
            ics,
            queued_at: now(),
        });
    }
    Ok(out)
}

fn ics_method(m: CalendarMethod) -> IcsMethod {
    match m {
        CalendarMethod::Request => IcsMethod::Request,
        CalendarMethod::Cancel => IcsMethod::Cancel,
    }
}

/// The addresses of the people and organisations `to` names on the case `d`: organisations'
/// own addresses, and users' only while their accounts are active.
fn addresses(
    c: &mut DbConn,
    d: &Dispute,
    parties: &Parties,
    to: &[Recipient],
) -> Result<Vec<String>, ServiceError> {
    let mut out = Vec::new();
    for r in to {
        match r {
            Recipient::Appellant => {
                out.extend(address_or_warn(&d.appellant_id, &parties.appellant.email))
            }
            Recipient::Respondent => {
                out.extend(address_or_warn(&d.respondent_id, &parties.respondent.email))
            }
            Recipient::Lmc => out.extend(lmc(c, d)?.and_then(|l| address_or_warn(&l.id, &l.email))),
            Recipient::Mediator => users(c, d.mediator_id().as_slice(), &mut out)?,
            Recipient::Panel => {
                let everyone = d.panel.as_ref().map(|p| p.everyone());
                users(c, everyone.as_ref().map_or(&[], |e| e.as_slice()), &mut out)?
            }
            Recipient::Secretary => users(c, d.secretary_id().as_slice(), &mut out)?,
            Recipient::Chair => users(c, d.chair_id().as_slice(), &mut out)?,
            Recipient::AccountableOfficers => {
                let officers = directory::accountable_officer_emails(c, &d.screening_org_id)?;
                if officers.is_empty() {
                    let group = directory::orgs(c, &[&d.screening_org_id])?;
                    out.extend(
                        group
                            .into_iter()
                            .filter_map(|o| address_or_warn(&o.id, &o.email)),
                    );
                } else {
                    out.extend(officers);
                }
            }
            Recipient::Fhsu => out.extend(
                directory::fhsu_emails(c)?
                    .into_iter()
                    .filter(|e| !e.trim().is_empty()),
            ),
        }
    }
    Ok(out)
}

/// The organisation's address; none (logged) when it has none yet, as an organisation
/// imported from ODS data (`ldr import-organisations`) until an admin gives it one
/// (`PATCH /organisations/{id}`): its notices then go to their other recipients only.
fn address_or_warn(org_id: &str, email: &str) -> Option<String> {
    if email.trim().is_empty() {
        tracing::warn!(
            organisation_id = org_id,
            "organisation has no e-mail address yet: its notice goes to the other recipients \
             only (an admin can add the address)"
        );
        None
    } else {
        Some(email.to_string())
    }
}

/// Adds the addresses of those of the users `ids` whose accounts are active, in that order.
fn users(c: &mut DbConn, ids: &[&str], out: &mut Vec<String>) -> Result<(), ServiceError> {
    let found = directory::contacts(c, ids)?;
    out.extend(
        ids.iter()
            .filter_map(|id| found.get(*id))
            .filter(|u| u.active)
            .map(|u| u.email.clone()),
    );
    Ok(())
}

/// The dispute's LMC, if it has one.
fn lmc(c: &mut DbConn, d: &Dispute) -> Result<Option<OrgRow>, ServiceError> {
    let Some(id) = d.lmc_id.as_deref() else {
        return Ok(None);
    };
    Ok(directory::orgs(c, &[id])?.pop())
}

/// The hearing's calendar invitation (or its cancellation) with everyone concerned as
/// attendees: what the hearing's notices carry, and what `GET /disputes/{id}/hearing.ics`
/// serves. The organiser is `mail_from`'s address.
pub fn hearing_ics(
    c: &mut DbConn,
    mail_from: &str,
    d: &Dispute,
    parties: &Parties,
    method: CalendarMethod,
) -> Result<String, ServiceError> {
    let h = d
        .hearing
        .as_ref()
        .ok_or_else(|| ServiceError::Internal(format!("dispute {} has no hearing", d.id)))?;
    let mut attendees = vec![
        (
            parties.appellant.name.clone(),
            parties.appellant.email.clone(),
        ),
        (
            parties.respondent.name.clone(),
            parties.respondent.email.clone(),
        ),
    ];
    let panel = d.panel.as_ref().map(|p| p.everyone());
    let ids = panel.as_ref().map_or(&[][..], |e| e.as_slice());
    let found = directory::contacts(c, ids)?;
    for id in ids {
        if let Some(u) = found.get(*id).filter(|u| u.active) {
            attendees.push((u.name.clone(), u.email.clone()));
        }
    }
    attendees.extend(lmc(c, d)?.map(|l| (l.name, l.email)));
    attendees.retain(|(_, e)| !e.is_empty());
    let organizer = mail_from
        .parse::<lettre::message::Mailbox>()
        .map(|m| m.email.to_string())
        .unwrap_or_else(|_| "ldr@localhost".into());
    let invite = HearingInvite {
        uid: format!("hearing-{}@ldr", d.id),
        sequence: h.sequence.max(0) as u32,
        method: ics_method(method),
        date: h.date,
        time: h.time,
        duration_minutes: 180,
        venue: h.venue.clone(),
        summary: format!(
            "[{}] Local Dispute Resolution Panel hearing: {}",
            d.case_ref(),
            d.title
        ),
        description: format!(
            "Hearing of the Local Dispute Resolution Panel, case {}: {}.",
            d.case_ref(),
            d.title
        ),
        organizer_email: organizer,
        attendees,
        stamp: chrono::Utc::now(),
    };
    Ok(ics::hearing_ics(&invite))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
