//! From the procedure's notice intents to outbox rows: each recipient role resolved to
//! addresses against the dispute as it is after the event, the hearing's calendar invitation
//! built when the notice carries one, and the template rendered (at queue time, so what was
//! sent is what was recorded).

use super::{Ctx, ServiceError};
use crate::db::directory::{self, OrgRow};
use crate::db::disputes::EventRow;
use crate::db::outbox::NewNotice;
use crate::db::{now, DbConn};
use crate::domain::dispute::Dispute;
use crate::domain::notices::{self, CalendarMethod, NoticeIntent, Recipient};
use crate::pack::{self, Reader};
use crate::render::ics::{self, HearingInvite, IcsMethod};
use chrono::NaiveDateTime;
use serde_json::{json, Value};

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
        };
        let appellant = take(&d.appellant_id);
        let respondent = take(&d.respondent_id);
        Parties::from_rows(d, appellant, respondent)
    }

    /// The parties of `d` from their rows as read; a missing one is an error in the data.
    pub fn from_rows(
        d: &Dispute,
        appellant: Option<OrgRow>,
        respondent: Option<OrgRow>,
    ) -> Result<Parties, ServiceError> {
        let missing = |id: &str| ServiceError::Corrupt {
            id: d.id.clone(),
            cause: format!("its party organisation {id} does not exist"),
        };
        Ok(Parties {
            appellant: appellant.ok_or_else(|| missing(&d.appellant_id))?,
            respondent: respondent.ok_or_else(|| missing(&d.respondent_id))?,
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
    /// A file the message carries (name, bytes): the FHSU's referral pack, set by
    /// [`referral_notices`] (no template's notice has one by itself).
    pub attachment: Option<(String, Vec<u8>)>,
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
            attachment_name: self.attachment.as_ref().map(|a| a.0.as_str()),
            attachment: self.attachment.as_ref().map(|a| a.1.as_slice()),
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
    render_after(c, ctx, d, parties, intents, None)
}

/// [`render`] for the notices of the event `event` (not yet written): an `fhsu_referral`
/// notice becomes two, the FHSU's carrying the referral pack and the others' listing what it
/// holds (see [`referral`]).
pub fn render_after(
    c: &mut DbConn,
    ctx: &Ctx,
    d: &Dispute,
    parties: &Parties,
    intents: Vec<NoticeIntent>,
    event: Option<&EventRow>,
) -> Result<Vec<Rendered>, ServiceError> {
    if intents.is_empty() {
        return Ok(Vec::new());
    }
    let mut base = notices::base_context(
        d,
        &parties.appellant.name,
        &parties.respondent.name,
        ctx.today,
        ctx.public_url,
    );
    // Whom to send documents to and ask about the hearing: the panel's secretary, by name
    // and address.
    if let Some(o) = base.as_object_mut() {
        let secretary = secretary(c, d)?.map(|(name, email)| json!({"name": name, "email": email}));
        o.insert("secretary".into(), secretary.unwrap_or(Value::Null));
    }
    let mut out = Vec::with_capacity(intents.len());
    for intent in intents {
        let n = intent.notice;
        if let (true, Some(event)) = (n.template == "fhsu_referral", event) {
            out.extend(referral(c, ctx, d, parties, &base, intent, event)?);
            continue;
        }
        let to = addressed(c, d, parties, n.to)?;
        if to.is_empty() {
            tracing::warn!(template = n.template, dispute_id = %d.id, "notice has no recipient; not queued");
            continue;
        }
        let mut rendered = render_one(ctx, n.template, &to, with(&base, intent.context))?;
        if let Some(m) = n.calendar {
            rendered.ics = Some(hearing_ics(c, ctx.mail_from, d, parties, m)?);
            rendered.ics_method = Some(ics_method(m).as_str());
        }
        out.push(rendered);
    }
    Ok(out)
}

/// The notice `template` rendered with `context` for the addresses `to`, with nothing attached.
fn render_one(
    ctx: &Ctx,
    template: &'static str,
    to: &[String],
    context: Value,
) -> Result<Rendered, ServiceError> {
    let rendered = ctx
        .templates
        .render_owned(template, context)
        .map_err(|e| ServiceError::Internal(format!("rendering {template}: {e}")))?;
    Ok(Rendered {
        id: uuid::Uuid::new_v4().to_string(),
        template,
        recipients: serde_json::to_string(to).unwrap_or_default(),
        subject: rendered.subject,
        text: rendered.text,
        html: rendered.html,
        ics: None,
        ics_method: None,
        attachment: None,
        queued_at: now(),
    })
}

/// The name and address of the case's panel secretary, while their account is active.
fn secretary(c: &mut DbConn, d: &Dispute) -> Result<Option<(String, String)>, ServiceError> {
    let Some(id) = d.secretary_id() else {
        return Ok(None);
    };
    Ok(directory::contacts(c, &[id])?
        .remove(id)
        .filter(|u| u.active)
        .map(|u| (u.name, u.email)))
}

/// The addresses of `to` on the case `d`, trimmed, lower-cased and de-duplicated.
fn addressed(
    c: &mut DbConn,
    d: &Dispute,
    parties: &Parties,
    to: &[Recipient],
) -> Result<Vec<String>, ServiceError> {
    let mut out: Vec<String> = Vec::new();
    for address in addresses(c, d, parties, to)? {
        let address = address.trim().to_lowercase();
        if !address.is_empty() && !out.contains(&address) {
            out.push(address);
        }
    }
    Ok(out)
}

/// The `fhsu_referral` notices of a referral, rendered once the event is decided (the pack's
/// history ends with `event`): the FHSU's, carrying the referral pack, and a copy for the
/// other recipients (the parties, the LMC, the accountable officers) that lists what the FHSU
/// was sent.
///
/// The pack is built here, inside the referral's transaction, and stored with the FHSU's
/// notice: so the notice is queued in the event's transaction like every other, and what was
/// sent is what was recorded. It is the parties' pack (the referring party sends it; the
/// hearing record stays with the panel), the same bytes a party downloads afterwards. When the
/// documents alone come to more than [`pack::EMAIL_LIMIT`] the pack is not built at all, and
/// when it is built and comes out larger it is not attached: both notices then give the link
/// to download it (`{public_url}/api/v1/disputes/{id}/referral-pack`).
fn referral(
    c: &mut DbConn,
    ctx: &Ctx,
    d: &Dispute,
    parties: &Parties,
    base: &Value,
    intent: NoticeIntent,
    event: &EventRow,
) -> Result<Vec<Rendered>, ServiceError> {
    let n = intent.notice;
    let fhsu_to = addressed(c, d, parties, &[Recipient::Fhsu])?;
    let others: Vec<Recipient> =
        n.to.iter()
            .copied()
            .filter(|r| *r != Recipient::Fhsu)
            .collect();
    let mut others_to = addressed(c, d, parties, &others)?;
    others_to.retain(|a| !fhsu_to.contains(a));
    // What a party may see: everything but the panel's own documents.
    let see = |k| !d.panel_only(k);
    let case = pack::gather(c, d.clone(), Some(event), Reader::Party, &see)?;
    let name = pack::file_name(d);
    let documents: u64 = case
        .documents
        .iter()
        .map(|x| x.meta.size.max(0) as u64)
        .sum();
    let built = if documents <= pack::EMAIL_LIMIT {
        let (out, _) = pack::write(c, &case, std::io::Cursor::new(Vec::new()))
            .map_err(|e| ServiceError::Internal(format!("the referral pack: {e}")))?;
        Some(out.into_inner())
    } else {
        None
    };
    let size = built.as_ref().map_or(documents, |b| b.len() as u64);
    let attach = built.filter(|b| b.len() as u64 <= pack::EMAIL_LIMIT);
    let mut files = vec!["cover.pdf".to_string()];
    files.extend(case.documents.iter().map(|x| x.path.clone()));
    files.push("manifest.json".into());
    let about = json!({
        "name": name,
        "files": files,
        "attached": attach.is_some(),
        "size_label": pack::size_label(size),
        "limit_label": pack::size_label(pack::EMAIL_LIMIT),
        "link": format!(
            "{}/api/v1/disputes/{}/referral-pack",
            ctx.public_url.trim_end_matches('/'),
            d.id
        ),
    });
    let context = with(base, intent.context);
    let mut out = Vec::new();
    for (to, for_fhsu) in [(fhsu_to, true), (others_to, false)] {
        if to.is_empty() {
            tracing::warn!(template = n.template, dispute_id = %d.id, for_fhsu, "notice has no recipient; not queued");
            continue;
        }
        let mut context = context.clone();
        if let Some(o) = context.as_object_mut() {
            o.insert("for_fhsu".into(), json!(for_fhsu));
            o.insert("pack".into(), about.clone());
        }
        let mut rendered = render_one(ctx, n.template, &to, context)?;
        rendered.attachment = attach
            .as_ref()
            .filter(|_| for_fhsu)
            .map(|b| (name.clone(), b.clone()));
        out.push(rendered);
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
            Recipient::PanelSecretaries => out.extend(directory::panel_secretary_emails(c)?),
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

/// How long a hearing invitation blocks in the calendars: three hours from its start (a panel
/// hearing hears both parties and the panel's questions; `schedule_hearing` has no end time).
pub const HEARING_MINUTES: u32 = 180;

/// The hearing's calendar invitation (or its cancellation): what the hearing's notices carry,
/// and what `GET /disputes/{id}/hearing.ics` serves. The attendees are the organisations (both
/// parties and the LMC), by their addresses; the panel's members get it as the notice's
/// recipients but are not listed, because everyone on the case receives it and people see
/// each other's names and roles, never their personal addresses. The organiser is the panel's
/// secretary (name and address, the contact every hearing notice gives); `mail_from` only
/// while the secretary's account is inactive. Nobody is asked to reply (`RSVP=FALSE`): who attends
/// is told to the secretary, as the notice says. The hearing has a start and no end in the
/// procedure, so the invitation blocks [`HEARING_MINUTES`].
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
    attendees.extend(lmc(c, d)?.map(|l| (l.name, l.email)));
    attendees.retain(|(_, e)| !e.is_empty());
    let (organizer_name, organizer_email) = match secretary(c, d)? {
        Some(s) => s,
        None => mail_from
            .parse::<lettre::message::Mailbox>()
            .map(|m| (m.name.unwrap_or_default(), m.email.to_string()))
            .unwrap_or_else(|_| (String::new(), "ldr@localhost".into())),
    };
    let invite = HearingInvite {
        uid: format!("hearing-{}@ldr", d.id),
        sequence: h.sequence.max(0) as u32,
        method: ics_method(method),
        date: h.date,
        time: h.time,
        duration_minutes: HEARING_MINUTES,
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
        organizer_name,
        organizer_email,
        attendees,
        stamp: chrono::Utc::now(),
    };
    Ok(ics::hearing_ics(&invite))
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
