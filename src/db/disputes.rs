//! Dispute rows, their append-only event history, breaches and documents.

use super::schema::{breaches, disputes, document_chunks, documents, events, organisations};
use super::DbConn;
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

/// The current state of one dispute. Every transition rewrites it with `version + 1`.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = disputes, treat_none_as_null = true)]
pub struct DisputeRow {
    pub id: String,
    pub title: String,
    pub category: String,
    pub appellant_id: String,
    pub respondent_id: String,
    pub summary: String,
    pub matter_arose_on: NaiveDate,
    pub contract_related: bool,
    pub inter_practice: bool,
    pub screening_org_id: String,
    pub lmc_id: Option<String>,
    pub state: String,
    pub version: i64,
    pub mediator_id: Option<String>,
    pub mediator_mode: Option<String>,
    pub lodged_on: Option<NaiveDate>,
    pub lmc_consulted_on: Option<NaiveDate>,
    pub clinical_member_id: Option<String>,
    pub gp_conciliator_id: Option<String>,
    pub lmc_representative_id: Option<String>,
    pub secretary_id: Option<String>,
    pub chair_id: Option<String>,
    pub hearing_date: Option<NaiveDate>,
    pub hearing_time: Option<String>,
    pub hearing_venue: Option<String>,
    pub hearing_sequence: i32,
    pub notice_sent_on: Option<NaiveDate>,
    pub bundle_distributed_on: Option<NaiveDate>,
    pub held_on: Option<NaiveDate>,
    pub decided_on: Option<NaiveDate>,
    pub decision_notified_on: Option<NaiveDate>,
    pub referred_on: Option<NaiveDate>,
    pub hearing_by: Option<NaiveDate>,
    pub notice_by: Option<NaiveDate>,
    pub bundle_by: Option<NaiveDate>,
    pub decision_by: Option<NaiveDate>,
    pub fhsu_by: Option<NaiveDate>,
    pub next_sweep_on: Option<NaiveDate>,
    pub detail: String,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl DisputeRow {
    pub fn state(&self) -> crate::domain::workflow::State {
        crate::domain::workflow::State::parse(&self.state)
            .unwrap_or(crate::domain::workflow::State::Closed)
    }

    pub fn detail(&self) -> Detail {
        serde_json::from_str(&self.detail).unwrap_or_default()
    }

    pub fn set_detail(&mut self, d: &Detail) {
        self.detail = serde_json::to_string(d).unwrap_or_else(|_| "{}".into());
    }

    /// "LDR-1A2B3C4D": the reference people quote on the phone and in subjects.
    pub fn case_ref(&self) -> String {
        case_ref(&self.id)
    }

    /// The voting members, in seat order.
    pub fn voting_members(&self) -> Vec<String> {
        [
            &self.clinical_member_id,
            &self.gp_conciliator_id,
            &self.lmc_representative_id,
        ]
        .into_iter()
        .flatten()
        .cloned()
        .collect()
    }

    pub fn panel_user(&self, user_id: &str) -> bool {
        self.voting_members().iter().any(|m| m == user_id)
            || self.secretary_id.as_deref() == Some(user_id)
    }
}

pub fn case_ref(id: &str) -> String {
    format!(
        "LDR-{}",
        id.chars()
            .filter(|c| c.is_ascii_hexdigit())
            .take(8)
            .collect::<String>()
            .to_uppercase()
    )
}

/// What a dispute carries besides its indexed columns (stored as JSON text).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Detail {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exhaustion_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exhausted_on: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grounds: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_by_org: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lmc_consultation: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub screening: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hearing_record: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<Decision>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bundle_document_ids: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fhsu_referral: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fhsu_determination: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawal: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closure: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Vote {
    pub member_id: String,
    pub vote: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Decision {
    pub votes: Vec<Vote>,
    pub outcome: String,
    pub recommendations: String,
    pub recorded_on: NaiveDate,
}

pub fn find(c: &mut DbConn, id: &str) -> QueryResult<Option<DisputeRow>> {
    disputes::table
        .find(id)
        .select(DisputeRow::as_select())
        .first(c)
        .optional()
}

/// The names of these organisations, by id, in one query (unknown ids are left out).
pub fn org_names<'a>(
    c: &mut DbConn,
    ids: impl IntoIterator<Item = &'a String>,
) -> QueryResult<std::collections::HashMap<String, String>> {
    let mut ids: Vec<&String> = ids.into_iter().collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(Default::default());
    }
    Ok(organisations::table
        .filter(organisations::id.eq_any(ids))
        .select((organisations::id, organisations::name))
        .load::<(String, String)>(c)?
        .into_iter()
        .collect())
}

/// The names of these users, by id, in one query (unknown ids are left out).
pub fn user_names<'a>(
    c: &mut DbConn,
    ids: impl IntoIterator<Item = &'a String>,
) -> QueryResult<std::collections::HashMap<String, String>> {
    let mut ids: Vec<&String> = ids.into_iter().collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(Default::default());
    }
    Ok(super::schema::users::table
        .filter(super::schema::users::id.eq_any(ids))
        .select((super::schema::users::id, super::schema::users::name))
        .load::<(String, String)>(c)?
        .into_iter()
        .collect())
}

/// Reads the dispute under its row lock (PostgreSQL: `SELECT … FOR UPDATE`, one round trip),
/// so two transitions on one dispute queue up instead of both reading the same version.
/// SQLite has no row locks: the caller's `write_tx` (`BEGIN IMMEDIATE`) already holds the
/// database's write lock, so a plain read is serialised. Call it inside `write_tx` only.
pub fn lock(c: &mut DbConn, id: &str) -> QueryResult<Option<DisputeRow>> {
    match c {
        DbConn::Pg(pg) => disputes::table
            .find(id)
            .select(DisputeRow::as_select())
            .for_update()
            .first(pg)
            .optional(),
        DbConn::Sqlite(_) => find(c, id),
    }
}

/// One party of a dispute, as its representation shows it, with its address for notices.
#[derive(Debug, Clone)]
pub struct Party {
    pub name: String,
    pub kind: String,
    pub address: String,
    pub email: String,
}

/// The organisations of a dispute: both parties and the LMC's e-mail.
#[derive(Debug, Clone)]
pub struct Parties {
    pub appellant: Party,
    pub respondent: Party,
    pub lmc_email: Option<String>,
}

impl Parties {
    /// (organisation id, e-mail) of each, for [`crate::notify::outbox::Addresses::knowing`].
    pub fn emails(&self, d: &DisputeRow) -> Vec<(String, String)> {
        let mut v = vec![
            (d.appellant_id.clone(), self.appellant.email.clone()),
            (d.respondent_id.clone(), self.respondent.email.clone()),
        ];
        if let (Some(id), Some(e)) = (&d.lmc_id, &self.lmc_email) {
            v.push((id.clone(), e.clone()));
        }
        v
    }
}

/// A dispute with what every representation of it needs, and the caller's user row: see
/// [`view`].
pub struct Viewed {
    pub dispute: DisputeRow,
    pub parties: Parties,
    /// (user id, name) of the people the dispute names: mediator, voting members, secretary.
    pub people: Vec<(String, String)>,
    /// How many breaches are recorded (their rows are read only when there are any).
    pub breaches: i64,
    /// The user's organisation, roles and active flag; `None` when there is no such user.
    pub user: Option<(String, String, bool)>,
    /// The user `view` was asked to read along (see [`Named`]); `None` when it was not asked.
    pub named: Option<Named>,
}

/// A user an event names, read with the dispute: the id asked for, and that user's roles,
/// active flag, name and e-mail, `None` when there is no such user.
#[derive(Debug, Clone)]
pub struct Named {
    pub id: String,
    pub row: Option<(String, bool, String, String)>,
}

/// The dispute `id` with its parties and breach count, and the row of the user `user_id`, in
/// one statement: `None` when there is no such dispute. With `full`, also the LMC's e-mail and
/// the people's names (for a transition's notices); without, `lmc_email` is `None` and
/// `people` empty.
pub fn view(
    c: &mut DbConn,
    id: &str,
    user_id: &str,
    full: bool,
    named: Option<&str>,
) -> QueryResult<Option<Viewed>> {
    let row = super::statements::dispute_view(c, id, user_id, full, named)?;
    Ok(row.map(
        |(dispute, a, r, lmc_email, breaches, names, (org, roles, active), n)| {
            let party = |(name, kind, address, email)| Party {
                name,
                kind,
                address,
                email,
            };
            let (m, cm, gp, lr, sec) = names;
            let people = [
                (&dispute.mediator_id, m),
                (&dispute.clinical_member_id, cm),
                (&dispute.gp_conciliator_id, gp),
                (&dispute.lmc_representative_id, lr),
                (&dispute.secretary_id, sec),
            ]
            .into_iter()
            .filter_map(|(id, name)| Some((id.clone()?, name?)))
            .collect();
            Viewed {
                parties: Parties {
                    appellant: party(a),
                    respondent: party(r),
                    lmc_email,
                },
                people,
                breaches,
                user: match (org, roles, active) {
                    (Some(o), Some(r), Some(a)) => Some((o, r, a)),
                    _ => None,
                },
                named: named.map(|id| Named {
                    id: id.to_string(),
                    row: match n {
                        (Some(roles), Some(active), Some(name), Some(email)) => {
                            Some((roles, active, name, email))
                        }
                        _ => None,
                    },
                }),
                dispute,
            }
        },
    ))
}

/// Everything one transition writes: the dispute's new row (its version one more than
/// `previous_version`), the event, the breaches it records and its rendered notices.
pub struct Writes {
    pub dispute: DisputeRow,
    pub previous_version: i64,
    pub event: EventRow,
    pub breaches: Vec<BreachRow>,
    pub notices: Vec<crate::notify::outbox::Rendered>,
}

/// Writes `w` unless the dispute has moved past `w.previous_version`: `Some(breaches
/// recorded)`, or `None` with nothing written. On PostgreSQL it is one statement
/// ([`super::statements::WriteTransition`]), atomic by itself, so it needs no transaction; on
/// SQLite, a statement for each row, inside the caller's `write_tx`.
pub fn write(c: &mut DbConn, w: &Writes) -> QueryResult<Option<usize>> {
    use super::statements::{execute, SaveDispute, WriteTransition};
    // One breach of each kind, the first, as recording them one by one would keep.
    let mut breaches: Vec<BreachRow> = Vec::with_capacity(w.breaches.len());
    for b in &w.breaches {
        if !breaches.iter().any(|k| k.kind == b.kind) {
            breaches.push(b.clone());
        }
    }
    let notices: Vec<NewNotice> = w
        .notices
        .iter()
        .map(|n| n.row(Some(&w.dispute.id)))
        .collect();
    match c {
        DbConn::Pg(pg) => {
            let (updated, recorded): (i64, i64) = WriteTransition {
                save: SaveDispute::new(&w.dispute, w.previous_version),
                event: &w.event,
                breaches: &breaches,
                notices: &notices,
            }
            .run(pg)?;
            Ok((updated == 1).then_some(recorded as usize))
        }
        DbConn::Sqlite(_) => {
            if execute(c, SaveDispute::new(&w.dispute, w.previous_version))? != 1 {
                return Ok(None);
            }
            append_event(c, &w.event)?;
            let mut recorded = 0;
            for b in &breaches {
                recorded += usize::from(record_breach(c, b)?);
            }
            for n in &notices {
                insert_notice(c, n)?;
            }
            Ok(Some(recorded))
        }
    }
}

pub fn insert(c: &mut DbConn, row: &DisputeRow) -> QueryResult<()> {
    diesel::insert_into(disputes::table)
        .values(row)
        .execute(c)
        .map(|_| ())
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = events)]
pub struct EventRow {
    pub dispute_id: String,
    pub seq: i64,
    pub event_type: String,
    pub actor_id: String,
    pub at: NaiveDateTime,
    pub data: String,
}

pub fn append_event(c: &mut DbConn, ev: &EventRow) -> QueryResult<()> {
    use super::statements::{execute, InsertEvent};
    execute(c, InsertEvent(ev)).map(|_| ())
}

pub use super::statements::NewNotice;

/// Queues one notice (see `notify::outbox::queue`).
pub fn insert_notice(c: &mut DbConn, n: &NewNotice) -> QueryResult<()> {
    use super::statements::{execute, InsertNotice};
    execute(c, InsertNotice(n)).map(|_| ())
}

pub fn events_of(c: &mut DbConn, dispute_id: &str) -> QueryResult<Vec<EventRow>> {
    events::table
        .filter(events::dispute_id.eq(dispute_id))
        .order(events::seq.asc())
        .select(EventRow::as_select())
        .load(c)
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = breaches)]
pub struct BreachRow {
    pub dispute_id: String,
    pub kind: String,
    pub due_on: NaiveDate,
    pub detected_on: NaiveDate,
    pub overridden: bool,
    pub detail: String,
}

/// Records a breach once per kind. A later breach of the same kind replaces nothing, except
/// that an override of a rule whose breach the sweep recorded first marks it overridden and
/// adds the override's reason (rule 8: every override is recorded). Whether a row was written.
pub fn record_breach(c: &mut DbConn, b: &BreachRow) -> QueryResult<bool> {
    let existing: Option<(bool, String)> = breaches::table
        .filter(breaches::dispute_id.eq(&b.dispute_id))
        .filter(breaches::kind.eq(&b.kind))
        .select((breaches::overridden, breaches::detail))
        .first(c)
        .optional()?;
    match existing {
        None => {
            diesel::insert_into(breaches::table).values(b).execute(c)?;
            Ok(true)
        }
        Some((false, detail)) if b.overridden => {
            diesel::update(breaches::table)
                .filter(breaches::dispute_id.eq(&b.dispute_id))
                .filter(breaches::kind.eq(&b.kind))
                .set((
                    breaches::overridden.eq(true),
                    breaches::detail.eq(format!("{detail} {}", b.detail)),
                ))
                .execute(c)?;
            Ok(true)
        }
        Some(_) => Ok(false),
    }
}

pub fn breaches_of(c: &mut DbConn, dispute_id: &str) -> QueryResult<Vec<BreachRow>> {
    breaches::table
        .filter(breaches::dispute_id.eq(dispute_id))
        .order(breaches::detected_on.asc())
        .select(BreachRow::as_select())
        .load(c)
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = documents)]
pub struct DocumentMeta {
    pub id: String,
    pub dispute_id: String,
    pub name: String,
    pub kind: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub uploaded_by: String,
    pub created_at: NaiveDateTime,
}

pub fn document_meta(c: &mut DbConn, id: &str) -> QueryResult<Option<DocumentMeta>> {
    documents::table
        .find(id)
        .select(DocumentMeta::as_select())
        .first(c)
        .optional()
}

pub fn documents_of(c: &mut DbConn, dispute_id: &str) -> QueryResult<Vec<DocumentMeta>> {
    documents::table
        .filter(documents::dispute_id.eq(dispute_id))
        .order(documents::created_at.asc())
        .select(DocumentMeta::as_select())
        .load(c)
}

/// Stores chunk `seq` (from 0) of a document's bytes.
pub fn insert_document_chunk(
    c: &mut DbConn,
    document_id: &str,
    seq: i32,
    bytes: &[u8],
) -> QueryResult<()> {
    diesel::insert_into(document_chunks::table)
        .values((
            document_chunks::document_id.eq(document_id),
            document_chunks::seq.eq(seq),
            document_chunks::bytes.eq(bytes),
        ))
        .execute(c)
        .map(|_| ())
}

/// Chunk `seq` of a document's bytes; `None` past the last one.
pub fn document_chunk(c: &mut DbConn, document_id: &str, seq: i32) -> QueryResult<Option<Vec<u8>>> {
    document_chunks::table
        .filter(document_chunks::document_id.eq(document_id))
        .filter(document_chunks::seq.eq(seq))
        .select(document_chunks::bytes)
        .first(c)
        .optional()
}

/// On PostgreSQL, holds the dispute's row against a change of state (`FOR SHARE`) until the
/// transaction ends, so that what was checked of it still holds when the transaction commits.
/// SQLite's `BEGIN IMMEDIATE` (see [`super::write_tx`]) already keeps every other writer out.
pub fn hold_dispute(c: &mut DbConn, id: &str) -> QueryResult<()> {
    if let DbConn::Pg(pg) = c {
        diesel::sql_query("SELECT id FROM disputes WHERE id = $1 FOR SHARE")
            .bind::<diesel::sql_types::Text, _>(id)
            .execute(pg)?;
    }
    Ok(())
}
