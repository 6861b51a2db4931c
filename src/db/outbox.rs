//! The notices table as the outbox: a notice row is written in the same transaction as the
//! event that causes it, then claimed, sent and recorded by the mail worker
//! (`notify::worker`). The claim ([`claim_leased`], shared with the webhook deliveries) is the
//! one part that differs between the backends: on PostgreSQL its rows are picked `FOR UPDATE
//! SKIP LOCKED`, so two replicas never hold the same one; on SQLite the claim runs inside
//! `BEGIN IMMEDIATE`, which already keeps every other writer out.

use super::schema::notices;
use super::DbConn;
use chrono::NaiveDateTime;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{QueryFragment, QueryId};
use diesel::sql_types::{BigInt, Binary, Integer, Nullable, Text, Timestamp};
use diesel::sqlite::Sqlite;
use std::marker::PhantomData;

/// One notice to queue (`queued`, no attempt yet, due at once).
#[derive(Debug, Clone, Copy, Insertable)]
#[diesel(table_name = notices)]
pub struct NewNotice<'a> {
    pub id: &'a str,
    /// `None` for a notice about no dispute.
    pub dispute_id: Option<&'a str>,
    pub template: &'a str,
    /// The recipients as a JSON array.
    pub recipients: &'a str,
    pub subject: &'a str,
    pub body_text: &'a str,
    pub body_html: &'a str,
    pub ics: Option<&'a str>,
    /// `REQUEST` or `CANCEL` when an invitation is attached.
    pub ics_method: Option<&'a str>,
    /// A file the message carries (its name and bytes): the FHSU's referral pack.
    pub attachment_name: Option<&'a str>,
    pub attachment: Option<&'a [u8]>,
    pub queued_at: NaiveDateTime,
}

pub fn insert_notice(c: &mut DbConn, n: &NewNotice) -> QueryResult<()> {
    match c {
        DbConn::Pg(pg) => notice_insert(n).execute(pg),
        DbConn::Sqlite(lite) => notice_insert(n).execute(lite),
    }
    .map(|_| ())
}

/// The statement [`insert_notice`] runs; `db::transition` runs it on PostgreSQL as a part of
/// an event's one statement.
pub fn notice_insert<'a>(
    n: &NewNotice<'a>,
) -> impl QueryFragment<Pg>
       + QueryFragment<Sqlite>
       + QueryId
       + RunQueryDsl<PgConnection>
       + RunQueryDsl<SqliteConnection>
       + 'a {
    diesel::insert_into(notices::table).values((
        *n,
        notices::status.eq("queued"),
        notices::attempts.eq(0),
        notices::next_attempt_at.eq(n.queued_at),
    ))
}

/// A notice claimed for sending: what the worker needs to send it.
#[derive(Debug, Clone, QueryableByName)]
pub struct Claimed {
    #[diesel(sql_type = Text)]
    pub id: String,
    /// A JSON array.
    #[diesel(sql_type = Text)]
    pub recipients: String,
    #[diesel(sql_type = Text)]
    pub subject: String,
    #[diesel(sql_type = Text)]
    pub body_text: String,
    #[diesel(sql_type = Text)]
    pub body_html: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub ics: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub ics_method: Option<String>,
    #[diesel(sql_type = Integer)]
    pub attempts: i32,
    #[diesel(sql_type = Nullable<Text>)]
    pub dispute_id: Option<String>,
    /// The recipients it was already sent to (a JSON array), if any: GOV.UK Notify's
    /// acceptances, or SMTP's when it sends to one recipient at a time.
    #[diesel(sql_type = Nullable<Text>)]
    pub sent_to: Option<String>,
    /// The file the message carries, if any (name, bytes).
    #[diesel(sql_type = Nullable<Text>)]
    pub attachment_name: Option<String>,
    #[diesel(sql_type = Nullable<Binary>)]
    pub attachment: Option<Vec<u8>>,
}

impl Claimed {
    /// Its recipients, read from their JSON array. A list that does not read is an error to
    /// fix in the data: read as "nobody", the notice would be lost without a word.
    pub fn recipient_list(&self) -> Result<Vec<String>, String> {
        serde_json::from_str(&self.recipients).map_err(|e| {
            format!(
                "its recipients (notices.recipients) do not read as a JSON list of addresses: {e}"
            )
        })
    }

    /// Whom it was already sent to, read from `sent_to` (none when there is none). A list
    /// that does not read is an error: read as "nobody", it would be sent to them all again.
    pub fn sent_list(&self) -> Result<Vec<String>, String> {
        match self.sent_to.as_deref() {
            None => Ok(Vec::new()),
            Some(s) => serde_json::from_str(s).map_err(|e| {
                format!("whom it was sent to (notices.sent_to) does not read as a JSON list of addresses: {e}")
            }),
        }
    }
}

/// A table worked as a leased queue: rows with `next_attempt_at`, `locked_until` and
/// `locked_by` columns, claimed by [`claim_leased`] as `T`s. The notices ([`NOTICES`]) and the
/// webhook deliveries (`db::webhooks::DELIVERIES`) are both claimed through it.
pub struct LeasedQueue<T> {
    pub table: &'static str,
    /// The key column (`IN (SELECT key …)`).
    pub key: &'static str,
    /// What else makes a row claimable, over the alias `t` (e.g. `t.status = 'queued'`); no
    /// bind parameters.
    pub due: &'static str,
    /// The claim's order, over `t`.
    pub order: &'static str,
    /// The `RETURNING` list: the columns of a `T`.
    pub returning: &'static str,
    /// What a claimed row is read as: the queue names it once, so no caller can read it as
    /// another type.
    pub row: PhantomData<fn() -> T>,
}

/// Leases up to `limit` rows of `q` that are due (`q.due`, `next_attempt_at <= now`, not
/// leased to anyone or leased until before `now`) to `worker` until `until`, in `q.order`.
/// One statement: on PostgreSQL its rows are picked `FOR UPDATE SKIP LOCKED`, so two replicas
/// never hold the same one; on SQLite the caller runs it inside `write_tx` (`BEGIN
/// IMMEDIATE`, which keeps every other writer out).
pub fn claim_leased<T>(
    c: &mut DbConn,
    q: &LeasedQueue<T>,
    worker: &str,
    now: NaiveDateTime,
    until: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<T>>
where
    T: QueryableByName<diesel::pg::Pg> + QueryableByName<diesel::sqlite::Sqlite> + 'static,
{
    let LeasedQueue {
        table,
        key,
        returning,
        ..
    } = q;
    match c {
        DbConn::Pg(pg) => diesel::sql_query(format!(
            "UPDATE {table} SET locked_until = $1, locked_by = $2 WHERE {key} IN ({} FOR UPDATE \
             OF t SKIP LOCKED) RETURNING {returning}",
            claimable(q, "$3", "$4")
        ))
        .bind::<Timestamp, _>(until)
        .bind::<Text, _>(worker)
        .bind::<Timestamp, _>(now)
        .bind::<BigInt, _>(limit)
        .load(pg),
        DbConn::Sqlite(sq) => diesel::sql_query(format!(
            "UPDATE {table} SET locked_until = ?, locked_by = ? WHERE {key} IN ({}) RETURNING \
             {returning}",
            claimable(q, "?", "?")
        ))
        .bind::<Timestamp, _>(until)
        .bind::<Text, _>(worker)
        .bind::<Timestamp, _>(now)
        .bind::<Timestamp, _>(now)
        .bind::<BigInt, _>(limit)
        .load(sq),
    }
}

/// The `SELECT` of the keys [`claim_leased`] leases: up to `limit` rows of `q` due by `now`
/// and not leased (or leased until before `now`), in `q.order`, over the alias `t`. `now` and
/// `limit` are SQL text: the backend's placeholders (`now` is used twice), or values.
pub fn claimable<T>(q: &LeasedQueue<T>, now: &str, limit: &str) -> String {
    let LeasedQueue {
        table,
        key,
        due,
        order,
        ..
    } = q;
    format!(
        "SELECT t.{key} FROM {table} AS t WHERE {due} AND t.next_attempt_at <= {now} AND \
         (t.locked_until IS NULL OR t.locked_until < {now}) ORDER BY {order} LIMIT {limit}"
    )
}

/// The notices as a [`LeasedQueue`]: queued ones, oldest first. [`claim_leased`] leases up
/// to `limit` due ones (queued, due by `now`, not leased to anyone or leased until before
/// `now`) to a worker; on SQLite the caller runs it inside `write_tx`.
pub const NOTICES: LeasedQueue<Claimed> = LeasedQueue {
    table: "notices",
    key: "id",
    due: "t.status = 'queued'",
    order: "t.next_attempt_at, t.id",
    returning: "id, recipients, subject, body_text, body_html, ics, ics_method, attempts, \
                dispute_id, sent_to, attachment_name, attachment",
    row: PhantomData,
};

/// Records that the transport accepted the notices `ids`, in one statement for a whole batch:
/// `sent`, one more attempt, lease and error cleared; only the rows whose lease `worker` still
/// holds. Returns how many.
pub fn mark_sent(
    c: &mut DbConn,
    worker: &str,
    ids: &[String],
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        notices::table
            .filter(notices::locked_by.eq(worker))
            .filter(notices::id.eq_any(ids)),
    )
    .set((
        notices::status.eq("sent"),
        notices::sent_at.eq(now),
        notices::attempts.eq(notices::attempts + 1),
        notices::locked_until.eq(None::<NaiveDateTime>),
        notices::last_error.eq(None::<String>),
    ))
    .execute(c)
}
