//! Disputes as stored: the row and the domain's [`Dispute`] (read strictly), and the history,
//! breaches and documents of a dispute. The writes of one event are in [`super::transition`].

use super::directory::OrgRow;
use super::schema::{breaches, disputes, document_chunks, documents, events, organisations, users};
use super::DbConn;
use crate::domain::dispute::{
    decode_state, DeadlineFacts, Deadlines, Detail, Dispute, Hearing, Mediator, Panel,
};
use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use diesel::prelude::*;
use serde::Serialize;

/// A dispute as stored: the columns of [`Dispute`], with its state, category and mediator mode
/// as text and its detail as JSON text. Every event rewrites the whole row with `version + 1`.
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
    /// The first deadline still to be met (`DeadlineFacts::next_due`), kept with every write
    /// so that lists sort and count by it in the database.
    pub next_deadline_on: Option<NaiveDate>,
    pub detail: String,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl DisputeRow {
    /// The row that stores `d` (every column: a write stores the whole dispute).
    pub fn of(d: &Dispute) -> DisputeRow {
        let mediator = d.mediator.as_ref();
        let panel = d.panel.as_ref();
        let hearing = d.hearing.as_ref();
        let dl = &d.deadlines;
        DisputeRow {
            id: d.id.clone(),
            title: d.title.clone(),
            category: d.category.as_str().to_string(),
            appellant_id: d.appellant_id.clone(),
            respondent_id: d.respondent_id.clone(),
            summary: d.summary.clone(),
            matter_arose_on: d.matter_arose_on,
            contract_related: d.contract_related,
            inter_practice: d.inter_practice,
            screening_org_id: d.screening_org_id.clone(),
            lmc_id: d.lmc_id.clone(),
            state: d.state.as_str().to_string(),
            version: d.version,
            mediator_id: mediator.map(|m| m.id.clone()),
            mediator_mode: mediator.map(|m| m.mode.as_str().to_string()),
            lodged_on: d.lodged_on,
            lmc_consulted_on: d.lmc_consulted_on,
            clinical_member_id: panel.map(|p| p.clinical_member_id.clone()),
            gp_conciliator_id: panel.map(|p| p.gp_conciliator_id.clone()),
            lmc_representative_id: panel.map(|p| p.lmc_representative_id.clone()),
            secretary_id: panel.map(|p| p.secretary_id.clone()),
            chair_id: panel.map(|p| p.chair_id.clone()),
            hearing_date: hearing.map(|h| h.date),
            hearing_time: hearing.map(Hearing::time_text),
            hearing_venue: hearing.map(|h| h.venue.clone()),
            hearing_sequence: hearing.map_or(0, |h| h.sequence),
            notice_sent_on: hearing.map(|h| h.notice_sent_on),
            bundle_distributed_on: d.bundle_distributed_on,
            held_on: d.held_on,
            decided_on: d.decided_on,
            decision_notified_on: d.decision_notified_on,
            referred_on: d.referred_on,
            hearing_by: dl.hearing_by,
            notice_by: dl.notice_by,
            bundle_by: dl.bundle_by,
            decision_by: dl.decision_by,
            fhsu_by: dl.fhsu_by,
            next_sweep_on: d.next_sweep_on,
            next_deadline_on: d.deadline_facts().next_due(),
            detail: d.detail.encode(),
            created_by: d.created_by.clone(),
            created_at: d.created_at,
            updated_at: d.updated_at,
        }
    }

    /// The dispute this row stores. Strict: an unknown state, category or mediator mode, a
    /// detail that does not read back exactly, or a mediator, panel or hearing stored in part
    /// is an error saying what is wrong, never a default (written back, a default would lose
    /// the case's record).
    pub fn decode(self) -> Result<Dispute, String> {
        let r = self;
        let mediator = match (r.mediator_id, r.mediator_mode) {
            (None, None) => None,
            (Some(id), Some(mode)) => Some(Mediator {
                id,
                mode: mode.parse()?,
            }),
            _ => return Err("a mediator is stored without a mode, or a mode without one".into()),
        };
        let panel = match (
            r.clinical_member_id,
            r.gp_conciliator_id,
            r.lmc_representative_id,
            r.secretary_id,
            r.chair_id,
        ) {
            (None, None, None, None, None) => None,
            (Some(c), Some(g), Some(l), Some(s), Some(ch)) => Some(Panel {
                clinical_member_id: c,
                gp_conciliator_id: g,
                lmc_representative_id: l,
                secretary_id: s,
                chair_id: ch,
            }),
            _ => return Err("the panel is stored in part".into()),
        };
        let hearing = match (
            r.hearing_date,
            r.hearing_time,
            r.hearing_venue,
            r.notice_sent_on,
        ) {
            (None, None, None, None) => None,
            (Some(date), Some(time), Some(venue), Some(notice_sent_on)) => Some(Hearing {
                date,
                time: NaiveTime::parse_from_str(&time, "%H:%M")
                    .map_err(|_| format!("the hearing time {time:?} is not HH:MM"))?,
                venue,
                sequence: r.hearing_sequence,
                notice_sent_on,
            }),
            _ => return Err("the hearing is stored in part".into()),
        };
        Ok(Dispute {
            id: r.id,
            title: r.title,
            category: r.category.parse()?,
            appellant_id: r.appellant_id,
            respondent_id: r.respondent_id,
            summary: r.summary,
            matter_arose_on: r.matter_arose_on,
            contract_related: r.contract_related,
            inter_practice: r.inter_practice,
            screening_org_id: r.screening_org_id,
            lmc_id: r.lmc_id,
            state: decode_state(&r.state)?,
            version: r.version,
            mediator,
            lodged_on: r.lodged_on,
            lmc_consulted_on: r.lmc_consulted_on,
            panel,
            hearing,
            bundle_distributed_on: r.bundle_distributed_on,
            held_on: r.held_on,
            decided_on: r.decided_on,
            decision_notified_on: r.decision_notified_on,
            referred_on: r.referred_on,
            deadlines: Deadlines {
                hearing_by: r.hearing_by,
                notice_by: r.notice_by,
                bundle_by: r.bundle_by,
                decision_by: r.decision_by,
                fhsu_by: r.fhsu_by,
            },
            next_sweep_on: r.next_sweep_on,
            detail: Detail::decode(&r.detail)?,
            created_by: r.created_by,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

/// The columns a dispute's deadlines turn on ([`DeadlineFacts`]), with its id: part of a
/// list's narrow row ([`ListRow`]), and what [`backfill_next_deadlines`] reads.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = disputes)]
pub struct DeadlineRow {
    pub id: String,
    pub state: String,
    pub created_at: NaiveDateTime,
    pub notice_sent_on: Option<NaiveDate>,
    pub bundle_distributed_on: Option<NaiveDate>,
    pub held_on: Option<NaiveDate>,
    pub decision_notified_on: Option<NaiveDate>,
    pub referred_on: Option<NaiveDate>,
    pub hearing_by: Option<NaiveDate>,
    pub notice_by: Option<NaiveDate>,
    pub bundle_by: Option<NaiveDate>,
    pub decision_by: Option<NaiveDate>,
    pub fhsu_by: Option<NaiveDate>,
}

impl DeadlineRow {
    /// The facts, read as strictly as [`DisputeRow::decode`]: an unknown state is an error.
    pub fn decode(self) -> Result<(String, DeadlineFacts), String> {
        let facts = DeadlineFacts {
            state: decode_state(&self.state)?,
            due: Deadlines {
                hearing_by: self.hearing_by,
                notice_by: self.notice_by,
                bundle_by: self.bundle_by,
                decision_by: self.decision_by,
                fhsu_by: self.fhsu_by,
            },
            notice_sent_on: self.notice_sent_on,
            bundle_distributed_on: self.bundle_distributed_on,
            held_on: self.held_on,
            decision_notified_on: self.decision_notified_on,
            referred_on: self.referred_on,
        };
        Ok((self.id, facts))
    }
}

/// What a list of cases (a mediator's caseload, a page of the deadlines) shows of each: the
/// case's cells and its deadlines, without the rest of the dispute and its detail.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = disputes)]
pub struct ListRow {
    pub title: String,
    pub appellant_id: String,
    pub respondent_id: String,
    pub mediator_mode: Option<String>,
    #[diesel(embed)]
    pub deadlines: DeadlineRow,
}

/// A [`ListRow`] read.
#[derive(Debug, Clone)]
pub struct ListedCase {
    pub id: String,
    pub title: String,
    pub appellant_id: String,
    pub respondent_id: String,
    pub mediator_mode: Option<String>,
    pub created_at: NaiveDateTime,
    pub facts: DeadlineFacts,
}

impl ListRow {
    /// Read as strictly as [`DisputeRow::decode`]: an unknown state is an error.
    pub fn decode(self) -> Result<ListedCase, String> {
        let created_at = self.deadlines.created_at;
        let (id, facts) = self.deadlines.decode()?;
        Ok(ListedCase {
            id,
            title: self.title,
            appellant_id: self.appellant_id,
            respondent_id: self.respondent_id,
            mediator_mode: self.mediator_mode,
            created_at,
            facts,
        })
    }
}

pub fn find(c: &mut DbConn, id: &str) -> QueryResult<Option<DisputeRow>> {
    disputes::table
        .find(id)
        .select(DisputeRow::as_select())
        .first(c)
        .optional()
}

/// What reading one dispute for a person needs, read by [`view`] in one statement.
pub struct Viewed {
    /// The reader's (organisation, roles, active); `None` when there is no such user.
    pub reader: Option<(String, String, bool)>,
    /// The dispute, if there is one.
    pub dispute: Option<ViewedDispute>,
}

/// A dispute with its two parties, as [`view`] reads it.
pub struct ViewedDispute {
    pub row: DisputeRow,
    /// The parties' organisations (`None`: the row names one that does not exist).
    pub appellant: Option<OrgRow>,
    pub respondent: Option<OrgRow>,
    /// Whether any breach is recorded for it (only then are they read).
    pub has_breaches: bool,
}

/// The user `user_id`'s row and the dispute `id` with its parties, in one statement
/// (`users LEFT JOIN disputes LEFT JOIN organisations` twice): a `GET` of a dispute is one
/// round trip to the database instead of three, plus its breaches when it has any.
pub fn view(c: &mut DbConn, id: &str, user_id: &str) -> QueryResult<Viewed> {
    let (appellant, respondent) =
        diesel::alias!(organisations as appellant, organisations as respondent);
    // The organisation's columns, for either alias. `Selectable` needs a backend named; the
    // columns are the same on both, and the query runs on either.
    let org = <OrgRow as Selectable<diesel::pg::Pg>>::construct_selection;
    let row = users::table
        .filter(users::id.eq(user_id))
        .left_join(disputes::table.on(disputes::id.eq(id.to_string())))
        .left_join(
            appellant.on(appellant
                .field(organisations::id)
                .eq(disputes::appellant_id)),
        )
        .left_join(
            respondent.on(respondent
                .field(organisations::id)
                .eq(disputes::respondent_id)),
        )
        .select((
            (users::organisation_id, users::roles, users::active),
            Option::<DisputeRow>::as_select(),
            appellant.fields(org()).nullable(),
            respondent.fields(org()).nullable(),
            diesel::dsl::exists(breaches::table.filter(breaches::dispute_id.eq(id))),
        ))
        .first::<(
            (String, String, bool),
            Option<DisputeRow>,
            Option<OrgRow>,
            Option<OrgRow>,
            bool,
        )>(c)
        .optional()?;
    Ok(match row {
        None => Viewed {
            reader: None,
            dispute: None,
        },
        Some((reader, d, a, r, has_breaches)) => Viewed {
            reader: Some(reader),
            dispute: d.map(|row| ViewedDispute {
                row,
                appellant: a,
                respondent: r,
                has_breaches,
            }),
        },
    })
}

/// Fills `next_deadline_on` of every dispute stored before the column existed, once: when the
/// migration's marker (`backfills` row `next_deadline_on`) is there, in one write transaction
/// that deletes it. A row whose deadline facts do not read is left without one (and logged);
/// the dispute itself refuses to load until it is repaired. Returns how many disputes it read.
pub fn backfill_next_deadlines(c: &mut DbConn) -> QueryResult<usize> {
    use super::schema::backfills;
    const NAME: &str = "next_deadline_on";
    super::write_tx(c, |c| {
        let marked = backfills::table
            .filter(backfills::name.eq(NAME))
            .count()
            .get_result::<i64>(c)?;
        if marked == 0 {
            return Ok(0);
        }
        let rows: Vec<DeadlineRow> = disputes::table.select(DeadlineRow::as_select()).load(c)?;
        let n = rows.len();
        // None too: a migration that changes the rule marks the job again, and a dispute with
        // no deadline left under the new rule must lose the one the old rule gave it.
        let mut by_date: std::collections::BTreeMap<Option<NaiveDate>, Vec<String>> =
            Default::default();
        for r in rows {
            let id = r.id.clone();
            match r.decode() {
                Ok((id, facts)) => by_date.entry(facts.next_due()).or_default().push(id),
                Err(cause) => tracing::warn!(dispute_id = %id, %cause,
                    "a dispute's deadlines do not read; its next deadline is left empty"),
            }
        }
        for (due, ids) in by_date {
            for chunk in ids.chunks(500) {
                diesel::update(disputes::table.filter(disputes::id.eq_any(chunk)))
                    .set(disputes::next_deadline_on.eq(due))
                    .execute(c)?;
            }
        }
        diesel::delete(backfills::table.filter(backfills::name.eq(NAME))).execute(c)?;
        Ok(n)
    })
}

/// Reads the dispute under its row lock (PostgreSQL: `SELECT … FOR UPDATE`), so that two
/// events on one dispute are decided one after the other, each on the version the other
/// wrote. SQLite has no row locks: the caller's `write_tx` (`BEGIN IMMEDIATE`) already holds
/// the database's write lock. Call it inside `write_tx` only.
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

/// Stores a new dispute (see [`super::transition::file`]).
pub fn insert(c: &mut DbConn, row: &DisputeRow) -> QueryResult<()> {
    diesel::insert_into(disputes::table)
        .values(row)
        .execute(c)
        .map(|_| ())
}

/// The names of these organisations, by id, in one query (unknown ids are left out).
pub fn org_names<'a>(
    c: &mut DbConn,
    ids: impl IntoIterator<Item = &'a String>,
) -> QueryResult<std::collections::HashMap<String, String>> {
    names_by_id(ids, |ids| {
        organisations::table
            .filter(organisations::id.eq_any(ids))
            .select((organisations::id, organisations::name))
            .load(c)
    })
}

/// The names of these users, by id, in one query (unknown ids are left out).
pub fn user_names<'a>(
    c: &mut DbConn,
    ids: impl IntoIterator<Item = &'a String>,
) -> QueryResult<std::collections::HashMap<String, String>> {
    use super::schema::users;
    names_by_id(ids, |ids| {
        users::table
            .filter(users::id.eq_any(ids))
            .select((users::id, users::name))
            .load(c)
    })
}

/// `load`'s (id, name) pairs for the distinct `ids`, without a query when there are none.
fn names_by_id<'a>(
    ids: impl IntoIterator<Item = &'a String>,
    load: impl FnOnce(Vec<&'a String>) -> QueryResult<Vec<(String, String)>>,
) -> QueryResult<std::collections::HashMap<String, String>> {
    let mut ids: Vec<&String> = ids.into_iter().collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(Default::default());
    }
    Ok(load(ids)?.into_iter().collect())
}

/// One event of a dispute's append-only history.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = events)]
pub struct EventRow {
    pub dispute_id: String,
    pub seq: i64,
    pub event_type: String,
    pub actor_id: String,
    pub at: NaiveDateTime,
    /// The event's fields, as JSON text.
    pub data: String,
}

pub fn append_event(c: &mut DbConn, ev: &EventRow) -> QueryResult<()> {
    diesel::insert_into(events::table)
        .values(ev)
        .execute(c)
        .map(|_| ())
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

/// Records a breach: each deadline of each rule once. A rule can be breached again on a new
/// date (a hearing moved and again not held, a bundle late for the moved hearing): that is a
/// new breach, with its own alert. An override (rule 8) of a rule whose breach the sweep
/// recorded first marks that breach overridden and adds the override's reason, whatever day it
/// was due: the override answers it. Whether a row was written.
pub fn record_breach(c: &mut DbConn, b: &BreachRow) -> QueryResult<bool> {
    let same_kind = || {
        breaches::table
            .filter(breaches::dispute_id.eq(&b.dispute_id))
            .filter(breaches::kind.eq(&b.kind))
    };
    if b.overridden {
        let unanswered: Option<(NaiveDate, String)> = same_kind()
            .filter(breaches::overridden.eq(false))
            .order(breaches::due_on.desc())
            .select((breaches::due_on, breaches::detail))
            .first(c)
            .optional()?;
        if let Some((due_on, detail)) = unanswered {
            diesel::update(same_kind().filter(breaches::due_on.eq(due_on)))
                .set((
                    breaches::overridden.eq(true),
                    breaches::detail.eq(format!("{detail} {}", b.detail)),
                ))
                .execute(c)?;
            return Ok(true);
        }
    }
    let recorded: i64 = same_kind()
        .filter(breaches::due_on.eq(b.due_on))
        .count()
        .get_result(c)?;
    if recorded > 0 {
        return Ok(false);
    }
    diesel::insert_into(breaches::table).values(b).execute(c)?;
    Ok(true)
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
