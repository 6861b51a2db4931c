//! Webhooks in the database: the endpoints organisations register, the outbox of deliveries
//! (one row per event and endpoint, chosen and written by one `INSERT … SELECT`,
//! [`deliveries_of`], inside the event's own transaction, from `db::transition`), their claim
//! by the delivery worker (the notices' leased claim, [`super::outbox::claim_leased`], with the
//! rule that keeps an endpoint's deliveries in order) and every attempt at one.

use super::disputes::{DisputeRow, EventRow};
use super::outbox::LeasedQueue;
use super::schema::{webhook_attempts, webhook_deliveries, webhooks};
use super::DbConn;
use chrono::NaiveDateTime;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{QueryFragment, QueryId};
use diesel::sql_types::{BigInt, Integer, Nullable, Text, Timestamp};
use diesel::sqlite::Sqlite;
use std::marker::PhantomData;

/// Delivery statuses.
pub const PENDING: &str = "pending";
pub const DELIVERED: &str = "delivered";
/// Given up: its endpoint was disabled after failing for too long.
pub const ABANDONED: &str = "abandoned";

/// An endpoint as stored (secrets sealed).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhooks)]
pub struct WebhookRow {
    pub id: String,
    pub organisation_id: String,
    pub url: String,
    pub description: String,
    pub secret: String,
    pub previous_secret: Option<String>,
    pub previous_secret_until: Option<NaiveDateTime>,
    pub active: bool,
    pub failing_since: Option<NaiveDateTime>,
    pub disabled_at: Option<NaiveDateTime>,
    pub disabled_reason: Option<String>,
    pub created_by: String,
    pub created_at: NaiveDateTime,
}

pub fn insert(c: &mut DbConn, w: &WebhookRow) -> QueryResult<()> {
    diesel::insert_into(webhooks::table)
        .values(w)
        .execute(c)
        .map(|_| ())
}

pub fn find(c: &mut DbConn, id: &str) -> QueryResult<Option<WebhookRow>> {
    webhooks::table
        .find(id)
        .select(WebhookRow::as_select())
        .first(c)
        .optional()
}

/// The endpoints of `org` (every organisation's when `None`), oldest first.
pub fn list(c: &mut DbConn, org: Option<&str>) -> QueryResult<Vec<WebhookRow>> {
    let mut q = webhooks::table
        .select(WebhookRow::as_select())
        .order((webhooks::created_at, webhooks::id))
        .into_boxed();
    if let Some(o) = org {
        q = q.filter(webhooks::organisation_id.eq(o.to_string()));
    }
    q.load(c)
}

pub fn list_by_ids(c: &mut DbConn, ids: &[String]) -> QueryResult<Vec<WebhookRow>> {
    webhooks::table
        .filter(webhooks::id.eq_any(ids))
        .select(WebhookRow::as_select())
        .load(c)
}

/// Deletes an endpoint with its deliveries and their attempts.
pub fn delete(c: &mut DbConn, id: &str) -> QueryResult<usize> {
    let deliveries = webhook_deliveries::table
        .filter(webhook_deliveries::webhook_id.eq(id))
        .select(webhook_deliveries::id);
    diesel::delete(
        webhook_attempts::table.filter(webhook_attempts::delivery_id.eq_any(deliveries)),
    )
    .execute(c)?;
    diesel::delete(webhook_deliveries::table.filter(webhook_deliveries::webhook_id.eq(id)))
        .execute(c)?;
    diesel::delete(webhooks::table.find(id)).execute(c)
}

/// A new secret for `id`; the one it replaces (`previous`) keeps signing until `until`.
pub fn rotate(
    c: &mut DbConn,
    id: &str,
    secret: &str,
    previous: &str,
    until: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(webhooks::table.find(id))
        .set((
            webhooks::secret.eq(secret),
            webhooks::previous_secret.eq(Some(previous)),
            webhooks::previous_secret_until.eq(Some(until)),
        ))
        .execute(c)
}

/// The exact body delivered for an event: thin, no case content (the receiver fetches the
/// dispute with its own token).
pub fn payload(d: &DisputeRow, e: &EventRow) -> String {
    serde_json::json!({
        "type": "dispute.event",
        "timestamp": super::timestamp(&e.at),
        "data": {
            "dispute_id": d.id,
            "event_id": e.seq,
            "event_type": e.event_type,
            "state": d.state,
            "version": d.version,
        }
    })
    .to_string()
}

/// Queues the event `e` (which moved the dispute to `d`) for every active endpoint of an
/// organisation that sees the dispute as an organisation: the appellant, the respondent and
/// the screening commissioner. Runs inside the event's transaction. Returns how many.
pub fn queue_for_event(c: &mut DbConn, d: &DisputeRow, e: &EventRow) -> QueryResult<usize> {
    match c {
        DbConn::Pg(pg) => deliveries_of(d, e, NEW_ID_PG).execute(pg),
        DbConn::Sqlite(lite) => deliveries_of(d, e, NEW_ID_SQLITE).execute(lite),
    }
}

/// A new delivery's id, made by the database for each row: `msg_` and 32 hex digits.
pub const NEW_ID_PG: &str = "'msg_' || replace(gen_random_uuid()::text, '-', '')";
pub const NEW_ID_SQLITE: &str = "'msg_' || lower(hex(randomblob(16)))";

/// The statement [`queue_for_event`] runs: `INSERT INTO webhook_deliveries … SELECT … FROM
/// webhooks WHERE …`, the endpoints chosen in the statement itself (no round trip to read them
/// first). `new_id` is [`NEW_ID_PG`] or [`NEW_ID_SQLITE`]. `db::transition` runs it on
/// PostgreSQL as a part of the event's one statement.
pub fn deliveries_of(
    d: &DisputeRow,
    e: &EventRow,
    new_id: &'static str,
) -> impl QueryFragment<Pg>
       + QueryFragment<Sqlite>
       + QueryId
       + RunQueryDsl<PgConnection>
       + RunQueryDsl<SqliteConnection>
       + 'static {
    let orgs = [
        d.appellant_id.clone(),
        d.respondent_id.clone(),
        d.screening_org_id.clone(),
    ];
    let now = super::now();
    diesel::insert_into(webhook_deliveries::table)
        .values(
            webhooks::table
                .filter(webhooks::organisation_id.eq_any(orgs))
                .filter(webhooks::active.eq(true))
                .select((
                    diesel::dsl::sql::<Text>(new_id),
                    webhooks::id,
                    d.id.clone().into_sql::<Text>(),
                    e.seq.into_sql::<BigInt>(),
                    e.event_type.clone().into_sql::<Text>(),
                    payload(d, e).into_sql::<Text>(),
                    PENDING.into_sql::<Text>(),
                    now.into_sql::<Timestamp>(),
                    now.into_sql::<Timestamp>(),
                )),
        )
        .into_columns((
            webhook_deliveries::id,
            webhook_deliveries::webhook_id,
            webhook_deliveries::dispute_id,
            webhook_deliveries::event_seq,
            webhook_deliveries::event_type,
            webhook_deliveries::payload,
            webhook_deliveries::status,
            webhook_deliveries::next_attempt_at,
            webhook_deliveries::created_at,
        ))
}

/// A delivery claimed by the worker.
#[derive(Debug, Clone, QueryableByName)]
pub struct ClaimedDelivery {
    #[diesel(sql_type = BigInt)]
    pub seq: i64,
    #[diesel(sql_type = Text)]
    pub id: String,
    #[diesel(sql_type = Text)]
    pub webhook_id: String,
    #[diesel(sql_type = Text)]
    pub payload: String,
    #[diesel(sql_type = Integer)]
    pub attempts: i32,
}

/// Pending deliveries, due, that are the earliest pending delivery of their endpoint: an
/// endpoint's deliveries go one at a time, in the order they were queued, and a later one
/// waits while an earlier one is retried. [`super::outbox::claim_leased`] leases them (at most
/// one per endpoint) to a worker; on SQLite the caller runs it inside `write_tx`.
///
/// The candidates are found from the endpoints: each one's earliest pending delivery, one
/// probe of the `webhook_deliveries_pending` index an endpoint, however many deliveries wait
/// behind them. (Asking of every pending delivery whether an earlier one of its endpoint was
/// pending took a lookup per pending delivery: 28 ms of PostgreSQL's time per claim with 3,000
/// waiting, as a burst of events leaves. One pass over the index with `min(seq) … GROUP BY
/// webhook_id` was measured too: it delivered more slowly than the probes.)
pub const DELIVERIES: LeasedQueue<ClaimedDelivery> = LeasedQueue {
    table: "webhook_deliveries",
    key: "seq",
    due: "t.status = 'pending' AND t.seq IN (SELECT (SELECT e.seq FROM webhook_deliveries AS e \
          WHERE e.webhook_id = w.id AND e.status = 'pending' ORDER BY e.seq LIMIT 1) FROM \
          webhooks AS w)",
    order: "t.next_attempt_at, t.seq",
    returning: "seq, id, webhook_id, payload, attempts",
    row: PhantomData,
};

/// Gives up the deliveries `seqs` that `worker` claimed for an endpoint that is no longer
/// active (an event queued while it was being disabled). Returns how many.
pub fn abandon(c: &mut DbConn, worker: &str, seqs: &[i64]) -> QueryResult<usize> {
    diesel::update(
        webhook_deliveries::table
            .filter(webhook_deliveries::seq.eq_any(seqs))
            .filter(webhook_deliveries::locked_by.eq(worker))
            .filter(webhook_deliveries::status.eq(PENDING)),
    )
    .set((
        webhook_deliveries::status.eq(ABANDONED),
        webhook_deliveries::locked_until.eq(None::<NaiveDateTime>),
    ))
    .execute(c)
}

/// One attempt's outcome, to record.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub at: NaiveDateTime,
    pub status_code: Option<i32>,
    pub error: Option<String>,
    /// The first 1 KiB of the answer.
    pub response: String,
    pub duration_ms: i32,
    /// A 2xx answer.
    pub delivered: bool,
}

/// Records an attempt at `d` by `worker`, only while `worker` still holds its lease: the
/// delivery is `delivered`, or queued again at `retry_at`; the attempt is kept. Returns
/// whether it was recorded (false: the lease ran out and another worker took it over).
pub fn record_attempt(
    c: &mut DbConn,
    worker: &str,
    d: &ClaimedDelivery,
    a: &Attempt,
    retry_at: NaiveDateTime,
) -> QueryResult<bool> {
    let attempt = d.attempts + 1;
    let target = webhook_deliveries::table
        .filter(webhook_deliveries::seq.eq(d.seq))
        .filter(webhook_deliveries::locked_by.eq(worker))
        .filter(webhook_deliveries::status.eq(PENDING));
    let updated = if a.delivered {
        diesel::update(target)
            .set((
                webhook_deliveries::status.eq(DELIVERED),
                webhook_deliveries::attempts.eq(attempt),
                webhook_deliveries::delivered_at.eq(Some(a.at)),
                webhook_deliveries::locked_until.eq(None::<NaiveDateTime>),
                webhook_deliveries::last_error.eq(None::<String>),
            ))
            .execute(c)?
    } else {
        let error = a
            .error
            .clone()
            .or_else(|| a.status_code.map(|s| format!("HTTP {s}")));
        diesel::update(target)
            .set((
                webhook_deliveries::attempts.eq(attempt),
                webhook_deliveries::next_attempt_at.eq(retry_at),
                webhook_deliveries::locked_until.eq(None::<NaiveDateTime>),
                webhook_deliveries::last_error.eq(error),
            ))
            .execute(c)?
    };
    if updated != 1 {
        return Ok(false);
    }
    diesel::insert_into(webhook_attempts::table)
        .values((
            webhook_attempts::delivery_id.eq(&d.id),
            webhook_attempts::attempt.eq(attempt),
            webhook_attempts::webhook_id.eq(&d.webhook_id),
            webhook_attempts::at.eq(a.at),
            webhook_attempts::status_code.eq(a.status_code),
            webhook_attempts::error.eq(&a.error),
            webhook_attempts::response.eq(&a.response),
            webhook_attempts::duration_ms.eq(a.duration_ms),
        ))
        .execute(c)?;
    Ok(true)
}

/// After an attempt: a success clears the endpoint's failing spell; a failure starts one
/// (if none is running). Returns when the spell started (`None` after a success).
pub fn note_health(
    c: &mut DbConn,
    webhook_id: &str,
    ok: bool,
    now: NaiveDateTime,
) -> QueryResult<Option<NaiveDateTime>> {
    if ok {
        // Only an endpoint in a failing spell is written to: the usual success writes nothing.
        diesel::update(
            webhooks::table
                .find(webhook_id)
                .filter(webhooks::failing_since.is_not_null()),
        )
        .set(webhooks::failing_since.eq(None::<NaiveDateTime>))
        .execute(c)?;
        return Ok(None);
    }
    diesel::update(
        webhooks::table
            .find(webhook_id)
            .filter(webhooks::failing_since.is_null()),
    )
    .set(webhooks::failing_since.eq(Some(now)))
    .execute(c)?;
    webhooks::table
        .find(webhook_id)
        .select(webhooks::failing_since)
        .first::<Option<NaiveDateTime>>(c)
        .optional()
        .map(Option::flatten)
}

/// Disables an active endpoint and gives up its pending deliveries. Returns whether this call
/// disabled it (false: already disabled or gone).
pub fn disable(
    c: &mut DbConn,
    webhook_id: &str,
    reason: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(
        webhooks::table
            .find(webhook_id)
            .filter(webhooks::active.eq(true)),
    )
    .set((
        webhooks::active.eq(false),
        webhooks::disabled_at.eq(Some(now)),
        webhooks::disabled_reason.eq(Some(reason)),
    ))
    .execute(c)?;
    if n == 0 {
        return Ok(false);
    }
    diesel::update(
        webhook_deliveries::table
            .filter(webhook_deliveries::webhook_id.eq(webhook_id))
            .filter(webhook_deliveries::status.eq(PENDING)),
    )
    .set((
        webhook_deliveries::status.eq(ABANDONED),
        webhook_deliveries::locked_until.eq(None::<NaiveDateTime>),
    ))
    .execute(c)?;
    Ok(true)
}

/// One attempt as `GET /webhooks/{id}/deliveries` lists it.
#[derive(Debug, Clone, QueryableByName)]
pub struct AttemptView {
    #[diesel(sql_type = Text)]
    pub delivery_id: String,
    #[diesel(sql_type = Integer)]
    pub attempt: i32,
    #[diesel(sql_type = Text)]
    pub dispute_id: String,
    #[diesel(sql_type = BigInt)]
    pub event_seq: i64,
    #[diesel(sql_type = Text)]
    pub event_type: String,
    #[diesel(sql_type = Text)]
    pub delivery_status: String,
    #[diesel(sql_type = diesel::sql_types::Timestamp)]
    pub at: NaiveDateTime,
    #[diesel(sql_type = Nullable<Integer>)]
    pub status_code: Option<i32>,
    #[diesel(sql_type = Nullable<Text>)]
    pub error: Option<String>,
    #[diesel(sql_type = Text)]
    pub response: String,
    #[diesel(sql_type = Integer)]
    pub duration_ms: i32,
}

/// The last `limit` attempts at deliveries to `webhook_id`, newest first.
pub fn recent_attempts(
    c: &mut DbConn,
    webhook_id: &str,
    limit: i64,
) -> QueryResult<Vec<AttemptView>> {
    let sql = "SELECT a.delivery_id, a.attempt, d.dispute_id, d.event_seq, d.event_type, \
               d.status AS delivery_status, a.at, a.status_code, a.error, a.response, \
               a.duration_ms FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = \
               a.delivery_id WHERE a.webhook_id = {p1} ORDER BY a.at DESC, d.seq DESC, \
               a.attempt DESC LIMIT {p2}";
    match c {
        DbConn::Pg(pg) => diesel::sql_query(sql.replace("{p1}", "$1").replace("{p2}", "$2"))
            .bind::<Text, _>(webhook_id)
            .bind::<BigInt, _>(limit)
            .load(pg),
        DbConn::Sqlite(sq) => diesel::sql_query(sql.replace("{p1}", "?").replace("{p2}", "?"))
            .bind::<Text, _>(webhook_id)
            .bind::<BigInt, _>(limit)
            .load(sq),
    }
}

/// Deliveries of `webhook_id` not yet delivered (pending), for the listing.
pub fn pending_count(c: &mut DbConn, webhook_id: &str) -> QueryResult<i64> {
    webhook_deliveries::table
        .filter(webhook_deliveries::webhook_id.eq(webhook_id))
        .filter(webhook_deliveries::status.eq(PENDING))
        .count()
        .get_result(c)
}
