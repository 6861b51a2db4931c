//! Who may see which dispute, and how the caller stands to it. One place for both the
//! single-dispute check and the list query, so they cannot drift apart.
//!
//! - parties' users (practice users, commissioners): their organisation's disputes;
//! - accountable officers: disputes their commissioning group is party to or must screen;
//! - LMC mediators: the cases they mediate, and unassigned `informal` cases of their LMC;
//! - panel secretaries: the cases of their panels and the cases awaiting a panel;
//! - panelists: the cases of their panels; admins: all.
//!
//! Within a case, hearing records, votes and the panel's documents (`record`, and `decision`
//! until it is notified) are for the panel and its secretary alone ([`panel_view`],
//! [`can_see_document`], [`event_data`]). The FHSU referral pack is for the parties, the
//! panel's secretary and admins ([`pack_reader`]).

use super::{Caller, ServiceError};
use crate::db::disputes::DocumentMeta;
use crate::db::disputes::EventRow;
use crate::db::schema::disputes;
use crate::db::schema::{notices, users};
use crate::db::DbConn;
use crate::domain::dispute::{Dispute, DocumentKind};
use crate::domain::roles::Role;
use crate::domain::workflow::{Relations, State};
use crate::pack::{self, Reader};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::Bool;
use serde::Serialize;
use serde_json::{json, Value};

pub type Backend = <DbConn as diesel::Connection>::Backend;
pub type Cond = Box<dyn BoxableExpression<disputes::table, Backend, SqlType = Bool>>;

pub fn can_see(c: &Caller, d: &Dispute) -> bool {
    if c.has(Role::Admin) {
        return true;
    }
    let me = Some(c.user_id.as_str());
    let party = d.appellant_id == c.org_id || d.respondent_id == c.org_id;
    ((c.has(Role::PracticeUser) || c.has(Role::Commissioner)) && party)
        || (c.has(Role::AccountableOfficer) && (party || d.screening_org_id == c.org_id))
        || (c.has(Role::LmcMediator)
            && (d.mediator_id() == me
                || (d.state == State::Informal
                    && d.mediator.is_none()
                    && d.lmc_id.as_deref() == Some(&c.org_id))))
        || (c.has(Role::PanelSecretary)
            && (d.secretary_id() == me || d.state == State::PanelForming))
        || (c.has(Role::Panelist) && d.voting_members().contains(&c.user_id.as_str()))
}

/// Only the panel's members and its secretary see hearing records and votes (SPEC
/// "Visibility": "only to the panel and its secretary"); admins, who see every case, do not.
pub fn panel_view(c: &Caller, d: &Dispute) -> bool {
    d.panel_user(&c.user_id)
}

/// Whether the caller may list and download a document of `kind` on `d`. The one rule for
/// documents: the list, the download, the upload (nobody uploads what they could not then see)
/// and the bundle (which goes to the parties, see `domain::procedure`) all follow
/// [`Dispute::panel_only`].
pub fn can_see_document(c: &Caller, d: &Dispute, kind: DocumentKind) -> bool {
    can_see(c, d) && (!d.panel_only(kind) || panel_view(c, d))
}

/// What the caller may see of an event's data: the hearing's record and the votes are the
/// panel's (and the decision the parties' once it is notified).
pub fn event_data(c: &Caller, d: &Dispute, ev: &EventRow) -> Result<Value, ServiceError> {
    let data: Value = serde_json::from_str(&ev.data).map_err(|e| {
        ServiceError::Internal(format!(
            "event {} of dispute {} does not read: {e}",
            ev.seq, d.id
        ))
    })?;
    if panel_view(c, d) {
        return Ok(data);
    }
    Ok(match ev.event_type.as_str() {
        "record_hearing" => json!({"held_on": data.get("held_on")}),
        "record_decision" if d.decision_notified_on.is_some() => {
            json!({"outcome": data.get("outcome"), "recommendations": data.get("recommendations")})
        }
        "record_decision" => json!({}),
        _ => data,
    })
}

/// Which referral pack the caller may have: the panel's (the case's secretary) or the parties'
/// (users of a party organisation, and admins: the hearing record and votes are the panel's
/// alone). Anyone else who may see the case (a mediator, a panelist, an accountable officer of
/// another group) is refused (403).
pub fn pack_reader(c: &Caller, d: &Dispute) -> Result<Reader, ServiceError> {
    if d.secretary_id() == Some(c.user_id.as_str()) {
        return Ok(Reader::Panel);
    }
    if c.has(Role::Admin) || c.org_id == d.appellant_id || c.org_id == d.respondent_id {
        return Ok(Reader::Party);
    }
    Err(ServiceError::Forbidden(
        "The referral pack is for the parties, the panel's secretary and admins: ask one of them for a copy.".into(),
    ))
}

/// Whether the caller may download the referral pack of `d` now: one of its readers
/// ([`pack_reader`]), once the dispute has been referred. The rule of
/// `GET /disputes/{id}/referral-pack`, which the case page's link follows.
pub fn may_download_pack(c: &Caller, d: &Dispute) -> bool {
    pack_reader(c, d).is_ok() && pack::available(d)
}

pub fn relations(c: &Caller, d: &Dispute) -> Relations {
    let me = Some(c.user_id.as_str());
    Relations {
        roles: c.roles.clone(),
        party: d.appellant_id == c.org_id || d.respondent_id == c.org_id,
        appellant: d.appellant_id == c.org_id,
        mediator: d.mediator_id() == me,
        panel_secretary: d.secretary_id() == me,
        chair: d.chair_id() == me,
        screening_officer: d.screening_org_id == c.org_id,
        can_see: can_see(c, d),
    }
}

/// True for every dispute, and for none. Written as conditions on the primary key (never
/// NULL) rather than as SQL literals: diesel does not cache a statement that holds a literal,
/// and re-preparing the list query on every request cost the pages a sixth of their CPU.
fn always() -> Cond {
    Box::new(disputes::id.is_not_null())
}

fn never() -> Cond {
    Box::new(disputes::id.is_null())
}

/// The same rule as [`can_see`], as a SQL condition for `GET /disputes`.
pub fn visible_condition(c: &Caller) -> Cond {
    if c.has(Role::Admin) {
        return always();
    }
    let org = c.org_id.clone();
    let me = c.user_id.clone();
    let mut any: Vec<Cond> = Vec::new();
    if c.has(Role::PracticeUser) || c.has(Role::Commissioner) || c.has(Role::AccountableOfficer) {
        any.push(Box::new(
            disputes::appellant_id
                .eq(org.clone())
                .or(disputes::respondent_id.eq(org.clone())),
        ));
    }
    if c.has(Role::AccountableOfficer) {
        any.push(Box::new(disputes::screening_org_id.eq(org.clone())));
    }
    if c.has(Role::LmcMediator) {
        any.push(Box::new(
            disputes::mediator_id
                .eq(me.clone())
                .assume_not_null()
                .or(disputes::state
                    .eq("informal")
                    .and(disputes::mediator_id.is_null())
                    .and(disputes::lmc_id.eq(org.clone()).assume_not_null())),
        ));
    }
    if c.has(Role::PanelSecretary) {
        any.push(Box::new(
            disputes::secretary_id
                .eq(me.clone())
                .assume_not_null()
                .or(disputes::state.eq("panel_forming")),
        ));
    }
    if c.has(Role::Panelist) {
        any.push(mine_on_panel(&me));
    }
    any.into_iter()
        .reduce(|a, b| Box::new(a.or(b)))
        .unwrap_or_else(never)
}

fn mine_on_panel(me: &str) -> Cond {
    Box::new(
        disputes::clinical_member_id
            .eq(me.to_string())
            .assume_not_null()
            .or(disputes::gp_conciliator_id
                .eq(me.to_string())
                .assume_not_null())
            .or(disputes::lmc_representative_id
                .eq(me.to_string())
                .assume_not_null()),
    )
}

/// `mine=true`: the caller's own cases as mediator, panel member or secretary.
pub fn mine_condition(c: &Caller) -> Cond {
    let me = c.user_id.clone();
    Box::new(
        disputes::mediator_id
            .eq(me.clone())
            .assume_not_null()
            .or(disputes::secretary_id.eq(me.clone()).assume_not_null())
            .or(mine_on_panel(&me)),
    )
}

// ------------------------------------------------------------------ documents and notices

/// The document `id` if `caller` may download it; otherwise not found (never saying that it
/// exists): the API's download and the pages' alike.
pub fn document_for(
    c: &mut DbConn,
    caller: &Caller,
    id: &str,
) -> Result<DocumentMeta, ServiceError> {
    let meta = crate::db::disputes::document_meta(c, id)?.ok_or(ServiceError::NotFound)?;
    let d = super::visible(c, caller, &meta.dispute_id)?;
    if !can_see_document(caller, &d, super::document_kind(&meta.kind)?) {
        return Err(ServiceError::NotFound);
    }
    Ok(meta)
}

/// An e-mail notice of the case.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Notice {
    /// The name of the file the notice carries (the FHSU's referral pack), if any.
    pub attachment: Option<String>,
    pub attempts: i32,
    /// The iCalendar method of an attached invitation (`REQUEST`, `CANCEL`).
    pub calendar: Option<String>,
    pub id: String,
    /// The delivery error, for the case's secretary and admins only.
    pub last_error: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    #[serde(serialize_with = "crate::db::rfc3339")]
    pub queued_at: NaiveDateTime,
    #[schema(value_type = Option<String>, format = DateTime)]
    #[serde(serialize_with = "crate::db::rfc3339_opt")]
    pub sent_at: Option<NaiveDateTime>,
    /// `queued`, `sent` or `failed`
    pub status: String,
    pub subject: String,
    pub template: String,
    /// The addresses, or for a caller who is not the case's secretary or an admin, other
    /// people by name.
    pub to: Vec<String>,
}

/// The case's notices as `caller` may see them: the case's secretary and admins every address
/// and delivery error; anyone else organisations' addresses and their own, other people by
/// name only, and no delivery errors.
pub fn notices_seen(
    c: &mut DbConn,
    caller: &Caller,
    d: &Dispute,
) -> Result<Vec<Notice>, ServiceError> {
    let full = caller.has(Role::Admin) || d.secretary_id() == Some(caller.user_id.as_str());
    let rows: Vec<NoticeRow> = notices::table
        .filter(notices::dispute_id.eq(&d.id))
        .order((notices::queued_at.asc(), notices::id.asc()))
        .select(NoticeRow::as_select())
        .load(c)?;
    // A recipients list that does not read is an error to fix in the data, never "nobody".
    let recipients: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            serde_json::from_str(&r.recipients).map_err(|e| {
                ServiceError::Internal(format!(
                    "the notice {} has recipients that do not read: {e}",
                    r.id
                ))
            })
        })
        .collect::<Result<_, _>>()?;
    let people: std::collections::HashMap<String, (String, String)> = if full {
        Default::default()
    } else {
        let all: Vec<&String> = recipients.iter().flatten().collect();
        users::table
            .filter(users::email.eq_any(all))
            .select((users::email, users::id, users::name))
            .load::<(String, String, String)>(c)?
            .into_iter()
            .map(|(e, id, n)| (e, (id, n)))
            .collect()
    };
    let shown = |addr: String| match people.get(&addr) {
        Some((uid, name)) if *uid != caller.user_id => name.clone(),
        _ => addr,
    };
    Ok(rows
        .into_iter()
        .zip(recipients)
        .map(|(r, to)| Notice {
            attachment: r.attachment_name,
            attempts: r.attempts,
            calendar: r.ics_method,
            id: r.id,
            last_error: if full { r.last_error } else { None },
            queued_at: r.queued_at,
            sent_at: r.sent_at,
            status: r.status,
            subject: r.subject,
            template: r.template,
            to: to.into_iter().map(&shown).collect(),
        })
        .collect())
}

/// A notice as [`notices_seen`] reads it.
#[derive(Queryable, Selectable)]
#[diesel(table_name = notices)]
struct NoticeRow {
    id: String,
    template: String,
    recipients: String,
    subject: String,
    status: String,
    queued_at: NaiveDateTime,
    sent_at: Option<NaiveDateTime>,
    attempts: i32,
    last_error: Option<String>,
    ics_method: Option<String>,
    attachment_name: Option<String>,
}
