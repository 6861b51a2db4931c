//! A panelist's register of interests and the days they cannot sit: recorded and read the
//! same way for the API and the pages. Who may do it is the caller's to check (admins, and
//! the person themself); the fields are checked here, every problem listed.

use super::{Caller, ServiceError};
use crate::db::schema::{interests, organisations, unavailability, users};
use crate::db::{now, write_tx, DbConn};
use crate::domain::fields::{parse_date, parse_range, FieldProblem};
use chrono::NaiveDate;
use diesel::prelude::*;
use serde::Serialize;

/// An entry of the register of interests (`user_id` in the answer to its creation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Interest {
    pub declared_on: NaiveDate,
    pub id: String,
    pub nature: String,
    pub organisation_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
}

/// An entry of the register of interests as stored: what every query of the register reads.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = interests)]
pub struct InterestRow {
    pub id: String,
    pub user_id: String,
    pub organisation_id: String,
    pub nature: String,
    pub declared_on: NaiveDate,
}

impl InterestRow {
    /// The entry, naming its user when `with_user`.
    pub fn entry(self, with_user: bool) -> Interest {
        Interest {
            declared_on: self.declared_on,
            id: self.id,
            nature: self.nature,
            organisation_id: self.organisation_id,
            user_id: with_user.then_some(self.user_id),
        }
    }
}

/// A period a panelist cannot sit, inclusive (`user_id` in the answer to its creation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Unavailability {
    pub from: NaiveDate,
    pub id: String,
    pub to: NaiveDate,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
}

/// The longest period one entry of unavailability may span, in days.
pub const MAX_UNAVAILABLE_DAYS: i64 = 366;

/// `ServiceError::NotFound` unless the user `id` exists.
fn user_exists(c: &mut DbConn, id: &str) -> Result<(), ServiceError> {
    let found: i64 = users::table.find(id).count().get_result(c)?;
    if found == 0 {
        return Err(ServiceError::NotFound);
    }
    Ok(())
}

/// Records that the user `user_id` declared an interest in the organisation `organisation_id`
/// on `declared_on` (a date, not after `today`).
pub fn add_interest(
    c: &mut DbConn,
    today: NaiveDate,
    user_id: &str,
    organisation_id: &str,
    nature: &str,
    declared_on: &str,
) -> Result<Interest, ServiceError> {
    let declared_on =
        parse_date("declared_on", declared_on).map_err(|p| ServiceError::Fields(vec![p]))?;
    if declared_on > today {
        return Err(ServiceError::field(
            "declared_on",
            "must not be in the future",
        ));
    }
    write_tx(c, |c| {
        user_exists(c, user_id)?;
        let org: i64 = organisations::table
            .find(organisation_id)
            .count()
            .get_result(c)?;
        if org == 0 {
            return Err(ServiceError::field(
                "organisation_id",
                "does not name an organisation",
            ));
        }
        let entry = Interest {
            declared_on,
            id: uuid::Uuid::new_v4().to_string(),
            nature: nature.trim().to_string(),
            organisation_id: organisation_id.to_string(),
            user_id: Some(user_id.to_string()),
        };
        diesel::insert_into(interests::table)
            .values((
                interests::id.eq(&entry.id),
                interests::user_id.eq(user_id),
                interests::organisation_id.eq(&entry.organisation_id),
                interests::nature.eq(&entry.nature),
                interests::declared_on.eq(declared_on),
                interests::created_at.eq(now()),
            ))
            .execute(c)?;
        Ok(entry)
    })
}

/// The register of interests of the user `user_id`, in the order it was recorded.
pub fn interests_of(c: &mut DbConn, user_id: &str) -> Result<Vec<Interest>, ServiceError> {
    user_exists(c, user_id)?;
    let rows: Vec<InterestRow> = interests::table
        .filter(interests::user_id.eq(user_id))
        .order(interests::created_at.asc())
        .select(InterestRow::as_select())
        .load(c)?;
    Ok(rows.into_iter().map(|r| r.entry(false)).collect())
}

/// The period `from`–`to` (dates, inclusive) read and checked: `to` not before `from`, and at
/// most [`MAX_UNAVAILABLE_DAYS`] after it.
fn period(from: &str, to: &str) -> Result<(NaiveDate, NaiveDate), Vec<FieldProblem>> {
    let (from, to) = parse_range(from, to)?;
    if (to - from).num_days() > MAX_UNAVAILABLE_DAYS {
        return Err(vec![FieldProblem::new(
            "to",
            "a period may span at most one year",
        )]);
    }
    Ok((from, to))
}

/// Records that the user `user_id` cannot sit from `from` to `to` (dates, inclusive).
pub fn add_unavailability(
    c: &mut DbConn,
    user_id: &str,
    from: &str,
    to: &str,
) -> Result<Unavailability, ServiceError> {
    let (from, to) = period(from, to).map_err(ServiceError::Fields)?;
    write_tx(c, |c| {
        user_exists(c, user_id)?;
        let entry = Unavailability {
            from,
            id: uuid::Uuid::new_v4().to_string(),
            to,
            user_id: Some(user_id.to_string()),
        };
        diesel::insert_into(unavailability::table)
            .values((
                unavailability::id.eq(&entry.id),
                unavailability::user_id.eq(user_id),
                unavailability::from_date.eq(from),
                unavailability::to_date.eq(to),
                unavailability::created_at.eq(now()),
            ))
            .execute(c)?;
        Ok(entry)
    })
}

/// The periods the user `user_id` cannot sit, earliest first.
pub fn unavailability_of(
    c: &mut DbConn,
    user_id: &str,
) -> Result<Vec<Unavailability>, ServiceError> {
    user_exists(c, user_id)?;
    let rows: Vec<(String, NaiveDate, NaiveDate)> = unavailability::table
        .filter(unavailability::user_id.eq(user_id))
        .order(unavailability::from_date.asc())
        .select((
            unavailability::id,
            unavailability::from_date,
            unavailability::to_date,
        ))
        .load(c)?;
    Ok(rows
        .into_iter()
        .map(|(id, from, to)| Unavailability {
            from,
            id,
            to,
            user_id: None,
        })
        .collect())
}

/// Which of a user's lists an entry is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    Interest,
    Unavailability,
}

/// Removes the entry `entry_id` of `user_id`'s register of interests or unavailability;
/// `NotFound` when it is not one of theirs.
pub fn remove_entry(
    c: &mut DbConn,
    which: Entry,
    user_id: &str,
    entry_id: &str,
) -> Result<(), ServiceError> {
    let gone = match which {
        Entry::Interest => diesel::delete(
            interests::table
                .filter(interests::id.eq(entry_id))
                .filter(interests::user_id.eq(user_id)),
        )
        .execute(c)?,
        Entry::Unavailability => diesel::delete(
            unavailability::table
                .filter(unavailability::id.eq(entry_id))
                .filter(unavailability::user_id.eq(user_id)),
        )
        .execute(c)?,
    };
    if gone == 0 {
        return Err(ServiceError::NotFound);
    }
    Ok(())
}

/// An entry of the whole register, with the names of its person and organisation.
#[derive(Debug, Clone)]
pub struct RegisterEntry {
    pub user_name: String,
    pub organisation_name: String,
    pub interest: Interest,
}

/// The whole register of interests (at most `limit` entries), by person's name, then in the
/// order each declared.
pub fn register(c: &mut DbConn, limit: i64) -> Result<Vec<RegisterEntry>, ServiceError> {
    let rows: Vec<(InterestRow, String, String)> = interests::table
        .inner_join(users::table.on(users::id.eq(interests::user_id)))
        .inner_join(organisations::table.on(organisations::id.eq(interests::organisation_id)))
        .order((
            users::name.asc(),
            users::id.asc(),
            interests::created_at.asc(),
        ))
        .limit(limit)
        .select((InterestRow::as_select(), users::name, organisations::name))
        .load(c)?;
    Ok(rows
        .into_iter()
        .map(|(row, user_name, organisation_name)| RegisterEntry {
            user_name,
            organisation_name,
            interest: row.entry(true),
        })
        .collect())
}

/// An open dispute in which a person has a part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartIn {
    pub dispute_id: String,
    pub title: String,
    /// Their part, in words ("mediator", "panel secretary", "panel member").
    pub part: &'static str,
}

impl PartIn {
    /// The case's mediator or panel secretary: the only one who may take their steps, which
    /// wait for them (a panel member's part is not such a role).
    pub fn steps_wait(&self) -> bool {
        self.part != "panel member"
    }
}

/// The open disputes (in no final state: not resolved, withdrawn or closed) in which `user_id`
/// is the mediator, the panel secretary or a panel member, by title: what deactivating them
/// would leave without them.
pub fn open_parts_of(c: &mut DbConn, user_id: &str) -> Result<Vec<PartIn>, ServiceError> {
    use crate::db::schema::disputes;
    use crate::domain::workflow::State;
    let me = Caller {
        user_id: user_id.to_string(),
        org_id: String::new(),
        roles: Vec::new(),
    };
    let open: Vec<&str> = State::ALL
        .iter()
        .filter(|s| !s.is_terminal())
        .map(|s| s.as_str())
        .collect();
    let rows: Vec<(String, String, Option<String>, Option<String>)> = disputes::table
        .filter(super::visibility::mine_condition(&me))
        .filter(disputes::state.eq_any(open))
        .order((disputes::title.asc(), disputes::id.asc()))
        .select((
            disputes::id,
            disputes::title,
            disputes::mediator_id,
            disputes::secretary_id,
        ))
        .load(c)?;
    Ok(rows
        .into_iter()
        .map(|(dispute_id, title, mediator, secretary)| PartIn {
            dispute_id,
            title,
            part: if mediator.as_deref() == Some(user_id) {
                "mediator"
            } else if secretary.as_deref() == Some(user_id) {
                "panel secretary"
            } else {
                "panel member"
            },
        })
        .collect())
}
