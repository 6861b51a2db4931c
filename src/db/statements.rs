//! The statements of the hot paths, written as diesel query fragments of our own so that each
//! one is prepared once per connection and then reused. diesel never caches an `UPDATE` or a
//! one-row `INSERT` (it prepares them anew each time, so PostgreSQL parses and plans them on
//! every transition), and it cannot say `FOR UPDATE OF`. Each fragment's SQL text is fixed, and
//! the statement cache is keyed by that text (`HAS_STATIC_QUERY_ID = false`), so two texts can
//! never share a prepared statement.
//!
//! Binds are typed, as in any diesel query; the column lists come from the schema where they
//! can (`DisputeRow::as_select()`, its `AsChangeset`), so a new column cannot be forgotten.

use super::disputes::{DisputeRow, EventRow};
use super::schema::events;
use diesel::backend::Backend;
use diesel::expression::SelectableHelper;
use diesel::query_builder::{AsChangeset, AstPass, Query, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{BigInt, Bool, HasSqlType, Nullable, Text, Timestamp};
use diesel::{QueryResult, RunQueryDsl};

/// The cache key of these statements is their SQL text.
macro_rules! keyed_by_sql {
    ($($t:tt)*) => {
        impl $($t)* {
            type QueryId = ();
            const HAS_STATIC_QUERY_ID: bool = false;
        }
    };
}

/// One dispute with both parties (name, kind, address), the number of its breaches and the
/// row of the user `user_id` (organisation, roles, active; all `NULL` when there is no such
/// user), in one statement. With `lock` (PostgreSQL only, inside a transaction) the dispute's
/// row, and only it, is locked: `FOR UPDATE OF disputes`.
pub struct DisputeView<'a, DB: Backend> {
    select: diesel::dsl::AsSelect<DisputeRow, DB>,
    dispute_id: &'a str,
    user_id: &'a str,
    lock: bool,
}

impl<'a, DB: Backend> DisputeView<'a, DB>
where
    DisputeRow: diesel::Selectable<DB>,
{
    pub fn new(dispute_id: &'a str, user_id: &'a str, lock: bool) -> Self {
        DisputeView {
            select: DisputeRow::as_select(),
            dispute_id,
            user_id,
            lock,
        }
    }
}

/// What [`DisputeView`] returns.
pub type DisputeViewRow = (
    DisputeRow,
    (String, String, String),
    (String, String, String),
    i64,
    (Option<String>, Option<String>, Option<bool>),
);

keyed_by_sql!(<DB: Backend> QueryId for DisputeView<'_, DB>);

impl<DB: Backend> Query for DisputeView<'_, DB>
where
    DisputeRow: diesel::Selectable<DB>,
    diesel::dsl::AsSelect<DisputeRow, DB>: diesel::Expression,
{
    type SqlType = (
        diesel::dsl::SqlTypeOf<diesel::dsl::AsSelect<DisputeRow, DB>>,
        (Text, Text, Text),
        (Text, Text, Text),
        BigInt,
        (Nullable<Text>, Nullable<Text>, Nullable<Bool>),
    );
}

impl<DB> QueryFragment<DB> for DisputeView<'_, DB>
where
    DB: Backend + HasSqlType<Text>,
    str: ToSql<Text, DB>,
    diesel::dsl::AsSelect<DisputeRow, DB>: QueryFragment<DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql("SELECT ");
        self.select.walk_ast(out.reborrow())?;
        out.push_sql(
            ", pa.name, pa.kind, pa.address, pr.name, pr.kind, pr.address, \
             (SELECT COUNT(*) FROM breaches b WHERE b.dispute_id = disputes.id), \
             u.organisation_id, u.roles, u.active \
             FROM disputes \
             JOIN organisations pa ON pa.id = disputes.appellant_id \
             JOIN organisations pr ON pr.id = disputes.respondent_id \
             LEFT JOIN users u ON u.id = ",
        );
        out.push_bind_param::<Text, str>(self.user_id)?;
        out.push_sql(" WHERE disputes.id = ");
        out.push_bind_param::<Text, str>(self.dispute_id)?;
        if self.lock {
            out.push_sql(" FOR UPDATE OF disputes");
        }
        Ok(())
    }
}

impl<DB: Backend, Conn> RunQueryDsl<Conn> for DisputeView<'_, DB> {}

/// `UPDATE disputes SET <every column> WHERE id = … AND version = <previous>`: the whole row
/// (`treat_none_as_null`, so the column list, and with it the SQL text, never varies).
pub struct SaveDispute<'a> {
    set: <&'a DisputeRow as AsChangeset>::Changeset,
    id: &'a str,
    previous_version: i64,
}

impl<'a> SaveDispute<'a> {
    pub fn new(row: &'a DisputeRow, previous_version: i64) -> Self {
        SaveDispute {
            set: row.as_changeset(),
            id: &row.id,
            previous_version,
        }
    }
}

keyed_by_sql!(QueryId for SaveDispute<'_>);

impl<DB> QueryFragment<DB> for SaveDispute<'_>
where
    DB: Backend + HasSqlType<Text> + HasSqlType<BigInt>,
    str: ToSql<Text, DB>,
    i64: ToSql<BigInt, DB>,
    for<'x> <&'x DisputeRow as AsChangeset>::Changeset: QueryFragment<DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql("UPDATE disputes SET ");
        self.set.walk_ast(out.reborrow())?;
        out.push_sql(" WHERE id = ");
        out.push_bind_param::<Text, str>(self.id)?;
        out.push_sql(" AND version = ");
        out.push_bind_param::<BigInt, i64>(&self.previous_version)?;
        Ok(())
    }
}

impl<Conn> RunQueryDsl<Conn> for SaveDispute<'_> {}

/// `INSERT INTO events (…) VALUES (…)` for one event.
pub struct InsertEvent<'a>(pub &'a EventRow);

keyed_by_sql!(QueryId for InsertEvent<'_>);

impl<DB> QueryFragment<DB> for InsertEvent<'_>
where
    DB: Backend + HasSqlType<Text> + HasSqlType<BigInt> + HasSqlType<Timestamp>,
    String: ToSql<Text, DB>,
    i64: ToSql<BigInt, DB>,
    chrono::NaiveDateTime: ToSql<Timestamp, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        use diesel::Column;
        let e = self.0;
        out.push_sql("INSERT INTO events (");
        let cols = [
            events::dispute_id::NAME,
            events::seq::NAME,
            events::event_type::NAME,
            events::actor_id::NAME,
            events::at::NAME,
            events::data::NAME,
        ];
        out.push_sql(&cols.join(", "));
        out.push_sql(") VALUES (");
        out.push_bind_param::<Text, String>(&e.dispute_id)?;
        out.push_sql(", ");
        out.push_bind_param::<BigInt, i64>(&e.seq)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, String>(&e.event_type)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, String>(&e.actor_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Timestamp, chrono::NaiveDateTime>(&e.at)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, String>(&e.data)?;
        out.push_sql(")");
        Ok(())
    }
}

impl<Conn> RunQueryDsl<Conn> for InsertEvent<'_> {}
