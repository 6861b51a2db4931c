//! What one event writes, in one place: the dispute's new row, the event appended to its
//! history, the breaches it records, the notices it queues and its webhook deliveries (one per
//! active endpoint of an organisation that sees the dispute). The service (`service::events`)
//! runs [`write`] inside [`super::write_tx`], after reading the dispute under its row lock, so
//! all of it is written or none of it.
//!
//! On PostgreSQL the row, the event, the notices and the deliveries go in one statement
//! ([`Together`]: `WITH w0 AS (UPDATE … RETURNING id), w1 AS (INSERT …), … SELECT count(*) FROM
//! w0`), one round trip and prepared once, where the same writes one by one take four round
//! trips and the `UPDATE` is planned anew each time (docs/performance.md has the figures). Each
//! part is an ordinary diesel statement. The inserts do not wait for the update: the event's
//! number is the guard (see [`write`]). On SQLite, in the same process, they run one after
//! another.

use super::disputes::{self, BreachRow, DisputeRow, EventRow};
use super::outbox::{self, NewNotice};
use super::schema::{disputes as table, events, idempotency_keys};
use super::DbConn;
use chrono::NaiveDateTime;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::BigInt;
use diesel::PgConnection;

/// One event's writes. `dispute` is the new row, its version one more than
/// `previous_version`, the version the event was decided on; `event` is numbered as the new
/// version (every version of a dispute has its event, and [`write`] relies on it).
pub struct Transition<'a> {
    pub dispute: &'a DisputeRow,
    pub previous_version: i64,
    pub event: &'a EventRow,
    pub breaches: &'a [BreachRow],
    pub notices: &'a [NewNotice<'a>],
}

/// Writes `t`: `UPDATE disputes … WHERE id = … AND version = previous_version`, then the
/// event, the notices, the webhook deliveries and the breaches (one of each kind an event
/// raises, see [`disputes::record_breach`]). When the dispute has moved past `previous_version`, nothing
/// at all is written and the answer is `None` (on PostgreSQL the caller's transaction can then
/// only be rolled back); otherwise how many breaches were recorded.
pub fn write(c: &mut DbConn, t: &Transition) -> QueryResult<Option<usize>> {
    if t.event.seq != t.dispute.version || t.dispute.version != t.previous_version + 1 {
        return Err(broken(
            "the event's number is not the dispute's new version",
        ));
    }
    let updated = match c {
        DbConn::Pg(pg) => match write_together(pg, t) {
            Ok(1) => 1,
            // The row did not change, yet the event's number was free: the history and the
            // row disagree. An error, so that the caller's transaction is rolled back.
            Ok(_) => return Err(broken("the dispute moved without an event")),
            // Every version of a dispute has its event, numbered as the version: the number
            // is taken exactly when the dispute has moved on, and the statement, failing,
            // wrote nothing (on PostgreSQL the transaction can then only be rolled back).
            Err(e) if event_number_taken(&e) => 0,
            Err(e) => return Err(e),
        },
        DbConn::Sqlite(_) => {
            let updated = update(t).execute(c)?;
            if updated == 1 {
                append(c, t.dispute, t.event, t.notices)?;
            }
            updated
        }
    };
    if updated != 1 {
        return Ok(None);
    }
    let mut recorded = 0;
    for (i, b) in t.breaches.iter().enumerate() {
        // One breach of each kind, the first, as recording them one by one would keep.
        // Breaches are rare and merge into what is recorded (an override adds its reason), so
        // they are read and written on their own, under the same lock.
        if t.breaches[..i].iter().all(|k| k.kind != b.kind) {
            recorded += usize::from(disputes::record_breach(c, b)?);
        }
    }
    Ok(Some(recorded))
}

/// The event `e` that brought the dispute to `d`, its webhook deliveries and its notices, a
/// statement each (what [`write_together`] puts in its one statement, after the row).
fn append(c: &mut DbConn, d: &DisputeRow, e: &EventRow, notices: &[NewNotice]) -> QueryResult<()> {
    disputes::append_event(c, e)?;
    super::webhooks::queue_for_event(c, d, e)?;
    for n in notices {
        outbox::insert_notice(c, n)?;
    }
    Ok(())
}

/// An error for a transition that contradicts the history (none of them is refused input).
fn broken(why: &str) -> diesel::result::Error {
    diesel::result::Error::QueryBuilderError(why.into())
}

/// Whether `e` is the events' key refusing a number already taken.
fn event_number_taken(e: &diesel::result::Error) -> bool {
    matches!(e, diesel::result::Error::DatabaseError(
        diesel::result::DatabaseErrorKind::UniqueViolation,
        info,
    ) if info.constraint_name() == Some("events_pkey"))
}

/// The `UPDATE` of a dispute's row where it is still at a version.
type UpdateRow<'a> = diesel::dsl::Update<
    diesel::dsl::Filter<
        diesel::dsl::Filter<table::table, diesel::dsl::Eq<table::id, &'a String>>,
        diesel::dsl::Eq<table::version, i64>,
    >,
    &'a DisputeRow,
>;

/// The dispute's new row, where it is still at the version the event was decided on.
fn update<'a>(t: &'a Transition) -> UpdateRow<'a> {
    diesel::update(
        table::table
            .filter(table::id.eq(&t.dispute.id))
            .filter(table::version.eq(t.previous_version)),
    )
    .set(t.dispute)
}

/// [`write`]'s row, event, notices and deliveries as one PostgreSQL statement; how many rows
/// the update changed. The inserts do not depend on the update: when the dispute has moved on,
/// the event's number is taken and the statement fails as a whole.
fn write_together(pg: &mut PgConnection, t: &Transition) -> QueryResult<usize> {
    let mut parts: Vec<Box<dyn QueryFragment<Pg> + '_>> = vec![
        Box::new(update(t).returning(table::id)),
        Box::new(diesel::insert_into(events::table).values(t.event)),
    ];
    // A notice a part, each the statement `outbox::insert_notice` runs.
    for n in t.notices {
        parts.push(Box::new(outbox::notice_insert(n)));
    }
    parts.push(Box::new(super::webhooks::deliveries_of(
        t.dispute,
        t.event,
        super::webhooks::NEW_ID_PG,
    )));
    let updated: i64 = Together(parts).get_result(pg)?;
    Ok(updated as usize)
}

/// Several statements run as one: `WITH w0 AS (first), w1 AS (second), … SELECT count(*) FROM
/// w0`. PostgreSQL runs every data-modifying `WITH` part whether or not it is read, on one
/// snapshot, and checks the constraints at the end of the statement; the first part must have
/// a `RETURNING` clause (its rows are counted).
struct Together<'a>(Vec<Box<dyn QueryFragment<Pg> + 'a>>);

impl QueryFragment<Pg> for Together<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        for (i, part) in self.0.iter().enumerate() {
            out.push_sql(if i == 0 { "WITH " } else { ", " });
            out.push_sql(&format!("w{i} AS ("));
            part.walk_ast(out.reborrow())?;
            out.push_sql(")");
        }
        out.push_sql(" SELECT count(*) FROM w0");
        Ok(())
    }

    /// Prepared once per text, as diesel does for any statement without a static type: the
    /// cache is keyed by the SQL itself, so a part whose text could depend on its values
    /// (diesel never caches an `UPDATE` alone, for its changeset) only adds a text. Here the
    /// texts differ by the number of notices alone (`DisputeRow` writes `NULL` for `None`,
    /// so the update's text is fixed). Without it PostgreSQL would plan the whole statement
    /// at every run.
    fn is_safe_to_cache_prepared(&self, _: &Pg) -> QueryResult<bool> {
        Ok(true)
    }
}

impl QueryId for Together<'_> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for Together<'_> {
    type SqlType = BigInt;
}

impl RunQueryDsl<PgConnection> for Together<'_> {}

/// A filing's writes: the new dispute, its idempotency key if the request had one, the first
/// event of its history (`file`) and its notices.
pub struct Filing<'a> {
    pub dispute: &'a DisputeRow,
    /// (user id, key, hash of the request body)
    pub key: Option<(&'a str, &'a str, &'a str)>,
    pub event: &'a EventRow,
    pub notices: &'a [NewNotice<'a>],
}

/// Writes a filing. The idempotency key is unique per user: a concurrent request with the same
/// key makes this fail with a unique violation (the caller tells that request to retry).
pub fn file(c: &mut DbConn, f: &Filing, now: NaiveDateTime) -> QueryResult<()> {
    disputes::insert(c, f.dispute)?;
    if let Some((user_id, key, hash)) = f.key {
        diesel::insert_into(idempotency_keys::table)
            .values((
                idempotency_keys::user_id.eq(user_id),
                idempotency_keys::key.eq(key),
                idempotency_keys::request_hash.eq(hash),
                idempotency_keys::dispute_id.eq(&f.dispute.id),
                idempotency_keys::created_at.eq(now),
            ))
            .execute(c)?;
    }
    append(c, f.dispute, f.event, f.notices)
}

/// The dispute an earlier request with this idempotency key filed, with that request's body
/// hash: (hash, dispute id).
pub fn prior_filing(
    c: &mut DbConn,
    user_id: &str,
    key: &str,
) -> QueryResult<Option<(String, String)>> {
    idempotency_keys::table
        .filter(idempotency_keys::user_id.eq(user_id))
        .filter(idempotency_keys::key.eq(key))
        .select((idempotency_keys::request_hash, idempotency_keys::dispute_id))
        .first(c)
        .optional()
}
