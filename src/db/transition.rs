//! What one event writes, in one place: the dispute's new row, the event appended to its
//! history, the breaches it records, the notices it queues and its webhook deliveries
//! (`db::webhooks::queue_for_event`, one per endpoint of an organisation that sees it). The service
//! (`service::events`) runs [`write`] inside [`super::write_tx`], after reading the dispute
//! under its row lock, so all of it is written or none of it.

use super::disputes::{self, BreachRow, DisputeRow, EventRow};
use super::outbox::{self, NewNotice};
use super::schema::{disputes as table, idempotency_keys};
use super::DbConn;
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// One event's writes. `dispute` is the new row, its version one more than
/// `previous_version`, the version the event was decided on.
pub struct Transition<'a> {
    pub dispute: &'a DisputeRow,
    pub previous_version: i64,
    pub event: &'a EventRow,
    pub breaches: &'a [BreachRow],
    pub notices: &'a [NewNotice<'a>],
}

/// Writes `t`: `UPDATE disputes … WHERE id = … AND version = previous_version`, then the
/// event, the breaches (one of each kind, see [`disputes::record_breach`]) and the notices.
/// When the dispute has moved past `previous_version`, nothing at all is written and the
/// answer is `None`; otherwise how many breaches were recorded.
pub fn write(c: &mut DbConn, t: &Transition) -> QueryResult<Option<usize>> {
    let updated = diesel::update(
        table::table
            .filter(table::id.eq(&t.dispute.id))
            .filter(table::version.eq(t.previous_version)),
    )
    .set(t.dispute)
    .execute(c)?;
    if updated != 1 {
        return Ok(None);
    }
    disputes::append_event(c, t.event)?;
    super::webhooks::queue_for_event(c, t.dispute, t.event)?;
    let mut recorded = 0;
    for (i, b) in t.breaches.iter().enumerate() {
        // One breach of each kind, the first, as recording them one by one would keep.
        if t.breaches[..i].iter().all(|k| k.kind != b.kind) {
            recorded += usize::from(disputes::record_breach(c, b)?);
        }
    }
    for n in t.notices {
        outbox::insert_notice(c, n)?;
    }
    Ok(Some(recorded))
}

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
    disputes::append_event(c, f.event)?;
    super::webhooks::queue_for_event(c, f.dispute, f.event)?;
    for n in f.notices {
        outbox::insert_notice(c, n)?;
    }
    Ok(())
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
