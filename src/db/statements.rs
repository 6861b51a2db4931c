//! The statements of the hot paths, written as diesel query fragments of our own so that each
//! one is prepared once per connection and then reused. diesel never caches an `UPDATE` or a
//! one-row `INSERT` (it prepares them anew each time, so PostgreSQL parses and plans them on
//! every transition), and it cannot say `FOR UPDATE OF`. Each fragment's SQL text is fixed, and
//! the statement cache is keyed by that text (`HAS_STATIC_QUERY_ID = false`), so two texts can
//! never share a prepared statement. The exceptions are [`DisputeView`], the read of every
//! request on a dispute, whose four texts are four types, and [`WriteTransition`] in its usual
//! shapes ([`Shaped`]: a type for each number of breaches and of notices): each has a static id
//! of its own, so its statement is found without building its text.
//!
//! Each fragment also tells diesel that its statement may be cached
//! (`is_safe_to_cache_prepared`), which diesel otherwise finds out by walking the whole
//! statement once more on every execution, besides building its text and collecting its binds:
//! it is true of all of them, since a statement keyed by its text is cached under exactly that
//! text, and each `DisputeView` type has one text.
//!
//! Binds are typed, as in any diesel query; the column lists come from the schema where they
//! can (`DisputeRow::as_select()`, its `AsChangeset`), so a new column cannot be forgotten.

use super::disputes::{BreachRow, DisputeRow, EventRow};
use super::schema::events;
use diesel::backend::Backend;
use diesel::expression::SelectableHelper;
use diesel::pg::Pg;
use diesel::query_builder::{AsChangeset, AstPass, Query, QueryFragment, QueryId};
use diesel::query_dsl::methods::ExecuteDsl;
use diesel::serialize::ToSql;
use diesel::sql_types::{BigInt, Binary, Bool, HasSqlType, Nullable, Text, Timestamp};
use diesel::sqlite::Sqlite;
use diesel::{QueryResult, RunQueryDsl};

/// Runs `q` on the backend's own connection (these fragments are written for `Pg` and `Sqlite`,
/// not for the multi-connection's backend).
pub fn execute<Q>(c: &mut super::DbConn, q: Q) -> QueryResult<usize>
where
    Q: ExecuteDsl<diesel::PgConnection> + ExecuteDsl<diesel::SqliteConnection>,
{
    match c {
        super::DbConn::Pg(pg) => ExecuteDsl::execute(q, pg),
        super::DbConn::Sqlite(sq) => ExecuteDsl::execute(q, sq),
    }
}

/// Loads the rows of `q` on the backend's own connection, as [`execute`] runs a statement.
pub fn load<'q, Q, U>(c: &mut super::DbConn, q: Q) -> QueryResult<Vec<U>>
where
    Q: RunQueryDsl<diesel::PgConnection>
        + RunQueryDsl<diesel::SqliteConnection>
        + diesel::query_dsl::LoadQuery<'q, diesel::PgConnection, U>
        + diesel::query_dsl::LoadQuery<'q, diesel::SqliteConnection, U>,
{
    match c {
        super::DbConn::Pg(pg) => RunQueryDsl::load(q, pg),
        super::DbConn::Sqlite(sq) => RunQueryDsl::load(q, sq),
    }
}

/// The cache key of these statements is their SQL text.
macro_rules! keyed_by_sql {
    ($($t:tt)*) => {
        impl $($t)* {
            type QueryId = ();
            const HAS_STATIC_QUERY_ID: bool = false;
        }
    };
}

/// Inside a `QueryFragment<$db>` impl: the statement may always be cached (see the module
/// documentation), so diesel need not walk it once more on every execution to find out.
macro_rules! safe_to_cache {
    ($db:ty) => {
        fn is_safe_to_cache_prepared(&self, _: &$db) -> QueryResult<bool> {
            Ok(true)
        }
    };
}

/// One dispute with both parties (name, kind, address, e-mail), the number of its breaches
/// and the row of the user `user_id` (organisation, roles, active; all `NULL` when there is no
/// such user), in one statement. With `full`, also its LMC's e-mail and the names of the people
/// it names (mediator, the three voting members, the secretary), which a transition's notices
/// need; without, those columns are `NULL` (the six joins cost PostgreSQL about a third more
/// per read, wasted on a plain `GET`). With `named`, also that user's roles, active flag, name
/// and e-mail (the mediator an `assign_mediator` names), which saves the transition a
/// statement and a round trip. It takes no lock: a transition's writes check the version
/// it read ([`WriteTransition`]).
///
/// `FULL` and `NAMED` are the statement's variant, in its type: each of the four has a SQL text of
/// its own and a static query id ([`DisputeViewId`]), so diesel finds its prepared statement by
/// type and does not build the 60-column text again on every read to look it up. Only
/// [`dispute_view`] builds one, with `named` present exactly when `NAMED`.
pub struct DisputeView<'a, DB: Backend, const FULL: bool, const NAMED: bool> {
    select: diesel::dsl::AsSelect<DisputeRow, DB>,
    dispute_id: &'a str,
    user_id: &'a str,
    named: Option<&'a str>,
}

/// The query id of [`DisputeView`]'s variant (`FULL`, `NAMED`).
pub struct DisputeViewId<const FULL: bool, const NAMED: bool>;

impl<DB: Backend, const FULL: bool, const NAMED: bool> QueryId
    for DisputeView<'_, DB, FULL, NAMED>
{
    type QueryId = DisputeViewId<FULL, NAMED>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<'a, DB: Backend, const FULL: bool, const NAMED: bool> DisputeView<'a, DB, FULL, NAMED>
where
    DisputeRow: diesel::Selectable<DB>,
{
    /// `None` when `named` does not match `NAMED`: the text and the id would disagree.
    fn new(dispute_id: &'a str, user_id: &'a str, named: Option<&'a str>) -> Option<Self> {
        (named.is_some() == NAMED).then(|| DisputeView {
            select: DisputeRow::as_select(),
            dispute_id,
            user_id,
            named,
        })
    }
}

/// Runs [`DisputeView`]'s variant for (`full`, `named`): the dispute `dispute_id` as the user
/// `user_id` sees it, or `None` when there is no such dispute.
pub fn dispute_view(
    c: &mut super::DbConn,
    dispute_id: &str,
    user_id: &str,
    full: bool,
    named: Option<&str>,
) -> QueryResult<Option<DisputeViewRow>> {
    fn run<const FULL: bool, const NAMED: bool>(
        c: &mut super::DbConn,
        dispute_id: &str,
        user_id: &str,
        named: Option<&str>,
    ) -> QueryResult<Option<DisputeViewRow>> {
        use diesel::OptionalExtension;
        let mismatch = || diesel::result::Error::QueryBuilderError("DisputeView variant".into());
        match c {
            super::DbConn::Pg(pg) => {
                DisputeView::<Pg, FULL, NAMED>::new(dispute_id, user_id, named)
                    .ok_or_else(mismatch)?
                    .get_result(pg)
            }
            super::DbConn::Sqlite(sq) => {
                DisputeView::<Sqlite, FULL, NAMED>::new(dispute_id, user_id, named)
                    .ok_or_else(mismatch)?
                    .get_result(sq)
            }
        }
        .optional()
    }
    match (full, named.is_some()) {
        (false, false) => run::<false, false>(c, dispute_id, user_id, named),
        (true, false) => run::<true, false>(c, dispute_id, user_id, named),
        (false, true) => run::<false, true>(c, dispute_id, user_id, named),
        (true, true) => run::<true, true>(c, dispute_id, user_id, named),
    }
}

/// What [`DisputeView`] returns.
pub type DisputeViewRow = (
    DisputeRow,
    (String, String, String, String),
    (String, String, String, String),
    Option<String>,
    i64,
    (
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
    ),
    (Option<String>, Option<String>, Option<bool>),
    (Option<String>, Option<bool>, Option<String>, Option<String>),
);

impl<DB: Backend, const FULL: bool, const NAMED: bool> Query for DisputeView<'_, DB, FULL, NAMED>
where
    DisputeRow: diesel::Selectable<DB>,
    diesel::dsl::AsSelect<DisputeRow, DB>: diesel::Expression,
{
    type SqlType = (
        diesel::dsl::SqlTypeOf<diesel::dsl::AsSelect<DisputeRow, DB>>,
        (Text, Text, Text, Text),
        (Text, Text, Text, Text),
        Nullable<Text>,
        BigInt,
        (
            Nullable<Text>,
            Nullable<Text>,
            Nullable<Text>,
            Nullable<Text>,
            Nullable<Text>,
        ),
        (Nullable<Text>, Nullable<Text>, Nullable<Bool>),
        (
            Nullable<Text>,
            Nullable<Bool>,
            Nullable<Text>,
            Nullable<Text>,
        ),
    );
}

impl<DB, const FULL: bool, const NAMED: bool> QueryFragment<DB> for DisputeView<'_, DB, FULL, NAMED>
where
    DB: Backend + HasSqlType<Text>,
    str: ToSql<Text, DB>,
    diesel::dsl::AsSelect<DisputeRow, DB>: QueryFragment<DB>,
{
    safe_to_cache!(DB);

    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql("SELECT ");
        self.select.walk_ast(out.reborrow())?;
        out.push_sql(
            ", pa.name, pa.kind, pa.address, pa.email, pr.name, pr.kind, pr.address, pr.email, ",
        );
        if FULL {
            out.push_sql("pl.email, ");
        } else {
            out.push_sql("CAST(NULL AS TEXT), ");
        }
        out.push_sql("(SELECT COUNT(*) FROM breaches b WHERE b.dispute_id = disputes.id), ");
        if FULL {
            out.push_sql("um.name, uc.name, ug.name, ul.name, us.name, ");
        } else {
            out.push_sql("CAST(NULL AS TEXT), CAST(NULL AS TEXT), CAST(NULL AS TEXT), CAST(NULL AS TEXT), CAST(NULL AS TEXT), ");
        }
        out.push_sql("u.organisation_id, u.roles, u.active, ");
        if self.named.is_some() {
            out.push_sql("un.roles, un.active, un.name, un.email ");
        } else {
            out.push_sql(
                "CAST(NULL AS TEXT), CAST(NULL AS BOOLEAN), CAST(NULL AS TEXT), CAST(NULL AS TEXT) ",
            );
        }
        out.push_sql(
            "FROM disputes \
             JOIN organisations pa ON pa.id = disputes.appellant_id \
             JOIN organisations pr ON pr.id = disputes.respondent_id ",
        );
        if FULL {
            out.push_sql(
                "LEFT JOIN organisations pl ON pl.id = disputes.lmc_id \
                 LEFT JOIN users um ON um.id = disputes.mediator_id \
                 LEFT JOIN users uc ON uc.id = disputes.clinical_member_id \
                 LEFT JOIN users ug ON ug.id = disputes.gp_conciliator_id \
                 LEFT JOIN users ul ON ul.id = disputes.lmc_representative_id \
                 LEFT JOIN users us ON us.id = disputes.secretary_id ",
            );
        }
        out.push_sql("LEFT JOIN users u ON u.id = ");
        out.push_bind_param::<Text, str>(self.user_id)?;
        if let Some(named) = self.named {
            out.push_sql(" LEFT JOIN users un ON un.id = ");
            out.push_bind_param::<Text, str>(named)?;
        }
        out.push_sql(" WHERE disputes.id = ");
        out.push_bind_param::<Text, str>(self.dispute_id)?;
        Ok(())
    }
}

impl<DB: Backend, Conn, const FULL: bool, const NAMED: bool> RunQueryDsl<Conn>
    for DisputeView<'_, DB, FULL, NAMED>
{
}

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
    safe_to_cache!(DB);

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

/// One notice row, as the outbox queues it.
#[derive(Clone, Copy)]
pub struct NewNotice<'a> {
    pub id: &'a str,
    pub dispute_id: Option<&'a str>,
    pub template: &'a str,
    pub recipients: &'a str,
    pub subject: &'a str,
    pub body_text: &'a str,
    pub body_html: &'a str,
    pub ics: Option<&'a str>,
    pub ics_method: Option<&'a str>,
    /// A file the message carries (its name and bytes), e.g. the FHSU's referral pack.
    pub attachment_name: Option<&'a str>,
    pub attachment: Option<&'a [u8]>,
    pub queued_at: chrono::NaiveDateTime,
}

/// `INSERT INTO notices (…) VALUES (…)` for one notice: `queued`, no attempt yet, due at once.
pub struct InsertNotice<'a>(pub &'a NewNotice<'a>);

keyed_by_sql!(QueryId for InsertNotice<'_>);

impl<DB> QueryFragment<DB> for InsertNotice<'_>
where
    DB: Backend
        + HasSqlType<Text>
        + HasSqlType<Nullable<Text>>
        + HasSqlType<Nullable<Binary>>
        + HasSqlType<Timestamp>,
    str: ToSql<Text, DB>,
    [u8]: ToSql<Binary, DB>,
    chrono::NaiveDateTime: ToSql<Timestamp, DB>,
{
    safe_to_cache!(DB);

    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        walk_notice(self.0, out, Source::Values)
    }
}

/// Where a one-row `INSERT` takes its row from: its own `VALUES`, or its binds selected once
/// for each row of the `WITH` query `u` (so nothing is inserted when `u` updated nothing).
#[derive(Clone, Copy)]
enum Source {
    Values,
    EachOfU,
}

impl Source {
    fn open<DB: Backend>(self, out: &mut AstPass<'_, '_, DB>) {
        out.push_sql(match self {
            Source::Values => " VALUES (",
            Source::EachOfU => " SELECT ",
        });
    }
    fn close<DB: Backend>(self, out: &mut AstPass<'_, '_, DB>) {
        out.push_sql(match self {
            Source::Values => ")",
            Source::EachOfU => " FROM u",
        });
    }
}

fn walk_notice<'b, DB>(
    n: &'b NewNotice<'_>,
    mut out: AstPass<'_, 'b, DB>,
    src: Source,
) -> QueryResult<()>
where
    DB: Backend
        + HasSqlType<Text>
        + HasSqlType<Nullable<Text>>
        + HasSqlType<Nullable<Binary>>
        + HasSqlType<Timestamp>,
    str: ToSql<Text, DB>,
    [u8]: ToSql<Binary, DB>,
    chrono::NaiveDateTime: ToSql<Timestamp, DB>,
{
    out.push_sql(
        "INSERT INTO notices (id, dispute_id, template, recipients, subject, body_text, \
             body_html, ics, ics_method, attachment_name, attachment, status, attempts, \
             queued_at, next_attempt_at)",
    );
    src.open(&mut out);
    out.push_bind_param::<Text, str>(n.id)?;
    out.push_sql(", ");
    push_opt_text(&mut out, &n.dispute_id)?;
    out.push_sql(", ");
    out.push_bind_param::<Text, str>(n.template)?;
    out.push_sql(", ");
    out.push_bind_param::<Text, str>(n.recipients)?;
    out.push_sql(", ");
    out.push_bind_param::<Text, str>(n.subject)?;
    out.push_sql(", ");
    out.push_bind_param::<Text, str>(n.body_text)?;
    out.push_sql(", ");
    out.push_bind_param::<Text, str>(n.body_html)?;
    out.push_sql(", ");
    push_opt_text(&mut out, &n.ics)?;
    out.push_sql(", ");
    push_opt_text(&mut out, &n.ics_method)?;
    out.push_sql(", ");
    push_opt_text(&mut out, &n.attachment_name)?;
    out.push_sql(", ");
    out.push_bind_param::<Nullable<Binary>, Option<&[u8]>>(&n.attachment)?;
    out.push_sql(", 'queued', 0, ");
    out.push_bind_param::<Timestamp, chrono::NaiveDateTime>(&n.queued_at)?;
    out.push_sql(", ");
    out.push_bind_param::<Timestamp, chrono::NaiveDateTime>(&n.queued_at)?;
    src.close(&mut out);
    Ok(())
}

impl<Conn> RunQueryDsl<Conn> for InsertNotice<'_> {}

fn push_opt_text<'b, DB>(out: &mut AstPass<'_, 'b, DB>, v: &'b Option<&str>) -> QueryResult<()>
where
    DB: Backend + HasSqlType<Nullable<Text>>,
    str: ToSql<Text, DB>,
{
    out.push_bind_param::<Nullable<Text>, Option<&str>>(v)
}

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
    safe_to_cache!(DB);

    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        walk_event(self.0, out, Source::Values)
    }
}

fn walk_event<'b, DB>(e: &'b EventRow, mut out: AstPass<'_, 'b, DB>, src: Source) -> QueryResult<()>
where
    DB: Backend + HasSqlType<Text> + HasSqlType<BigInt> + HasSqlType<Timestamp>,
    String: ToSql<Text, DB>,
    i64: ToSql<BigInt, DB>,
    chrono::NaiveDateTime: ToSql<Timestamp, DB>,
{
    use diesel::Column;
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
    out.push_sql(")");
    src.open(&mut out);
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
    src.close(&mut out);
    Ok(())
}

impl<Conn> RunQueryDsl<Conn> for InsertEvent<'_> {}

/// The mail worker's claim: leases up to `limit` due notices to `worker` until `until`, and
/// returns what it needs to send them (see `notify::worker::Claimed`). On PostgreSQL the rows
/// are picked `FOR UPDATE SKIP LOCKED`, so two replicas never take the same one; on SQLite the
/// caller holds `BEGIN IMMEDIATE`.
pub struct ClaimNotices<'a> {
    pub now: chrono::NaiveDateTime,
    pub until: chrono::NaiveDateTime,
    pub limit: i64,
    pub worker: &'a str,
}

/// What [`ClaimNotices`] returns: id, recipients, subject, text, HTML, ics, ics method, attempts,
/// attachment name, attachment.
pub type ClaimedSql = (
    Text,
    Text,
    Text,
    Text,
    Text,
    Nullable<Text>,
    Nullable<Text>,
    diesel::sql_types::Integer,
    Nullable<Text>,
    Nullable<Binary>,
);

keyed_by_sql!(QueryId for ClaimNotices<'_>);

impl Query for ClaimNotices<'_> {
    type SqlType = ClaimedSql;
}

impl ClaimNotices<'_> {
    fn walk<'b, DB>(&'b self, mut out: AstPass<'_, 'b, DB>, skip_locked: bool) -> QueryResult<()>
    where
        DB: Backend + HasSqlType<Text> + HasSqlType<BigInt> + HasSqlType<Timestamp>,
        str: ToSql<Text, DB>,
        i64: ToSql<BigInt, DB>,
        chrono::NaiveDateTime: ToSql<Timestamp, DB>,
    {
        out.push_sql("UPDATE notices SET locked_until = ");
        out.push_bind_param::<Timestamp, _>(&self.until)?;
        out.push_sql(", locked_by = ");
        out.push_bind_param::<Text, str>(self.worker)?;
        out.push_sql(
            " WHERE id IN (SELECT id FROM notices WHERE status = 'queued' AND next_attempt_at <= ",
        );
        out.push_bind_param::<Timestamp, _>(&self.now)?;
        out.push_sql(" AND (locked_until IS NULL OR locked_until < ");
        out.push_bind_param::<Timestamp, _>(&self.now)?;
        out.push_sql(") ORDER BY next_attempt_at, id LIMIT ");
        out.push_bind_param::<BigInt, i64>(&self.limit)?;
        if skip_locked {
            out.push_sql(" FOR UPDATE SKIP LOCKED");
        }
        out.push_sql(
            ") RETURNING id, recipients, subject, body_text, body_html, ics, ics_method, attempts, \
             attachment_name, attachment",
        );
        Ok(())
    }
}

impl QueryFragment<Pg> for ClaimNotices<'_> {
    safe_to_cache!(Pg);

    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        self.walk(out, true)
    }
}

impl QueryFragment<Sqlite> for ClaimNotices<'_> {
    safe_to_cache!(Sqlite);

    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        self.walk(out, false)
    }
}

impl<Conn> RunQueryDsl<Conn> for ClaimNotices<'_> {}

/// Records that the transport accepted the notices `ids`, in one statement for a whole batch:
/// `sent`, one more attempt, lease and error cleared; only rows whose lease `worker` still
/// holds. PostgreSQL takes the ids as an array (`id = ANY(…)`, an index lookup each), SQLite as
/// a JSON array (`json_each`).
pub struct MarkSent<'a> {
    ids: &'a [String],
    ids_json: String,
    worker: &'a str,
    now: chrono::NaiveDateTime,
}

impl<'a> MarkSent<'a> {
    pub fn new(ids: &'a [String], worker: &'a str, now: chrono::NaiveDateTime) -> Self {
        MarkSent {
            ids,
            // A list of strings always serialises.
            ids_json: serde_json::to_string(ids).unwrap_or_else(|_| "[]".into()),
            worker,
            now,
        }
    }
}

keyed_by_sql!(QueryId for MarkSent<'_>);

impl MarkSent<'_> {
    fn head<'b, DB>(&'b self, out: &mut AstPass<'_, 'b, DB>) -> QueryResult<()>
    where
        DB: Backend + HasSqlType<Text> + HasSqlType<Timestamp>,
        str: ToSql<Text, DB>,
        chrono::NaiveDateTime: ToSql<Timestamp, DB>,
    {
        out.push_sql("UPDATE notices SET status = 'sent', sent_at = ");
        out.push_bind_param::<Timestamp, _>(&self.now)?;
        out.push_sql(
            ", attempts = attempts + 1, locked_until = NULL, last_error = NULL WHERE locked_by = ",
        );
        out.push_bind_param::<Text, str>(self.worker)?;
        Ok(())
    }
}

impl QueryFragment<Pg> for MarkSent<'_> {
    safe_to_cache!(Pg);

    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        self.head(&mut out)?;
        out.push_sql(" AND id = ANY(");
        out.push_bind_param::<diesel::sql_types::Array<Text>, [String]>(self.ids)?;
        out.push_sql(")");
        Ok(())
    }
}

impl QueryFragment<Sqlite> for MarkSent<'_> {
    safe_to_cache!(Sqlite);

    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        self.head(&mut out)?;
        out.push_sql(" AND id IN (SELECT value FROM json_each(");
        out.push_bind_param::<Text, String>(&self.ids_json)?;
        out.push_sql("))");
        Ok(())
    }
}

impl<Conn> RunQueryDsl<Conn> for MarkSent<'_> {}

/// A transition's writes as one PostgreSQL statement, so that they cost one round trip
/// instead of a `BEGIN`, the `UPDATE`, an `INSERT` for each row and a `COMMIT`:
///
/// ```sql
/// WITH u AS (UPDATE disputes SET … WHERE id = … AND version = <previous> RETURNING id),
///      e AS (INSERT INTO events (…) SELECT … FROM u),
///      b0 AS (INSERT INTO breaches (…) SELECT … FROM u ON CONFLICT … DO UPDATE … RETURNING 1), …
///      n0 AS (INSERT INTO notices (…) SELECT … FROM u), …
/// SELECT (SELECT COUNT(*) FROM u), 0 + (SELECT COUNT(*) FROM b0) + …
/// ```
///
/// Every insert takes its one row from `u`, so when the version has moved (the update matched
/// nothing) nothing at all is written; and one statement is atomic on its own. It returns the
/// number of disputes updated (1, or 0 when the version moved) and of breaches recorded (a
/// breach of a kind the dispute has already is not recorded again).
pub struct WriteTransition<'a> {
    pub save: SaveDispute<'a>,
    pub event: &'a EventRow,
    /// At most one of each kind (the caller keeps the first).
    pub breaches: &'a [BreachRow],
    pub notices: &'a [NewNotice<'a>],
}

keyed_by_sql!(QueryId for WriteTransition<'_>);

impl Query for WriteTransition<'_> {
    type SqlType = (BigInt, BigInt);
}

impl QueryFragment<Pg> for WriteTransition<'_> {
    safe_to_cache!(Pg);

    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        use diesel::sql_types::Date;
        out.push_sql("WITH u AS (");
        self.save.walk_ast(out.reborrow())?;
        out.push_sql(" RETURNING id), e AS (");
        walk_event(self.event, out.reborrow(), Source::EachOfU)?;
        out.push_sql(")");
        for (i, b) in self.breaches.iter().enumerate() {
            out.push_sql(&format!(
                ", b{i} AS (INSERT INTO breaches (dispute_id, kind, due_on, detected_on, \
                 overridden, detail) SELECT "
            ));
            out.push_bind_param::<Text, String>(&b.dispute_id)?;
            out.push_sql(", ");
            out.push_bind_param::<Text, String>(&b.kind)?;
            out.push_sql(", ");
            out.push_bind_param::<Date, chrono::NaiveDate>(&b.due_on)?;
            out.push_sql(", ");
            out.push_bind_param::<Date, chrono::NaiveDate>(&b.detected_on)?;
            out.push_sql(", ");
            out.push_bind_param::<Bool, bool>(&b.overridden)?;
            out.push_sql(", ");
            out.push_bind_param::<Text, String>(&b.detail)?;
            // A breach the sweep recorded first is marked overridden when an override of the
            // same rule comes later (rule 8: every override is recorded).
            out.push_sql(
                " FROM u ON CONFLICT (dispute_id, kind) DO UPDATE SET overridden = TRUE, \
                 detail = breaches.detail || ' ' || EXCLUDED.detail \
                 WHERE EXCLUDED.overridden AND NOT breaches.overridden RETURNING 1)",
            );
        }
        for (i, n) in self.notices.iter().enumerate() {
            out.push_sql(&format!(", n{i} AS ("));
            walk_notice(n, out.reborrow(), Source::EachOfU)?;
            out.push_sql(")");
        }
        out.push_sql(" SELECT (SELECT COUNT(*) FROM u), CAST(0 AS BIGINT)");
        for i in 0..self.breaches.len() {
            out.push_sql(&format!(" + (SELECT COUNT(*) FROM b{i})"));
        }
        Ok(())
    }
}

impl<Conn> RunQueryDsl<Conn> for WriteTransition<'_> {}

impl WriteTransition<'_> {
    /// Runs the statement: `(disputes updated, breaches recorded)`. The usual shapes (up to one
    /// breach and three notices) run as a [`Shaped`] statement, found in the statement cache by
    /// its type; any other stays keyed by its text.
    pub fn run(self, pg: &mut diesel::PgConnection) -> QueryResult<(i64, i64)> {
        macro_rules! by_shape {
            ($(($b:literal, $n:literal)),*) => {
                match (self.breaches.len(), self.notices.len()) {
                    $(($b, $n) => Shaped::<$b, $n>(self).get_result(pg),)*
                    _ => self.get_result(pg),
                }
            };
        }
        usual_shapes!(by_shape)
    }
}

/// Calls the macro `$m` with the (breaches, notices) shapes that [`WriteTransition::run`] gives
/// a type of their own, so that its tests check exactly those.
macro_rules! usual_shapes {
    ($m:ident) => {
        $m!(
            (0, 0),
            (0, 1),
            (0, 2),
            (0, 3),
            (1, 0),
            (1, 1),
            (1, 2),
            (1, 3)
        )
    };
}
use usual_shapes;

/// A [`WriteTransition`] with `B` breaches and `N` notices, as a type with a static query id of
/// its own: diesel finds its prepared statement by that id, where a statement keyed by its text
/// has its text (some 70 columns) built and hashed on every execution, about 7% of an
/// `assign_mediator`'s instructions. The text depends on nothing but the two counts (the tests
/// check it), so one id never stands for two texts; only [`WriteTransition::run`] makes one, from a
/// transition of that shape.
pub struct Shaped<'a, const B: usize, const N: usize>(WriteTransition<'a>);

/// The query id of [`Shaped`] (a query id is a `'static` type).
pub struct ShapeId<const B: usize, const N: usize>;

impl<const B: usize, const N: usize> QueryId for Shaped<'_, B, N> {
    type QueryId = ShapeId<B, N>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<const B: usize, const N: usize> Query for Shaped<'_, B, N> {
    type SqlType = (BigInt, BigInt);
}

impl<const B: usize, const N: usize> QueryFragment<Pg> for Shaped<'_, B, N> {
    safe_to_cache!(Pg);

    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        debug_assert_eq!((self.0.breaches.len(), self.0.notices.len()), (B, N));
        self.0.walk_ast(out)
    }
}

impl<Conn, const B: usize, const N: usize> RunQueryDsl<Conn> for Shaped<'_, B, N> {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::schema::disputes;
    use diesel::pg::Pg;
    use diesel::sqlite::Sqlite;
    use diesel::QueryDsl;

    /// A dispute row with every optional field empty, or every one filled.
    fn row(filled: bool) -> DisputeRow {
        let day = chrono::NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
        let t = day.and_hms_opt(9, 0, 0).unwrap();
        let s = |v: &str| filled.then(|| v.to_string());
        let d = filled.then_some(day);
        DisputeRow {
            id: "d".into(),
            title: "t".into(),
            category: "c".into(),
            appellant_id: "a".into(),
            respondent_id: "r".into(),
            summary: "s".into(),
            matter_arose_on: day,
            contract_related: true,
            inter_practice: false,
            screening_org_id: "o".into(),
            lmc_id: s("l"),
            state: "informal".into(),
            version: 1,
            mediator_id: s("m"),
            mediator_mode: s("mediation"),
            lodged_on: d,
            lmc_consulted_on: d,
            clinical_member_id: s("cm"),
            gp_conciliator_id: s("gp"),
            lmc_representative_id: s("lr"),
            secretary_id: s("sec"),
            chair_id: s("ch"),
            hearing_date: d,
            hearing_time: s("10:00"),
            hearing_venue: s("v"),
            hearing_sequence: 0,
            notice_sent_on: d,
            bundle_distributed_on: d,
            held_on: d,
            decided_on: d,
            decision_notified_on: d,
            referred_on: d,
            hearing_by: d,
            notice_by: d,
            bundle_by: d,
            decision_by: d,
            fhsu_by: d,
            next_sweep_on: d,
            detail: "{}".into(),
            created_by: "u".into(),
            created_at: t,
            updated_at: t,
        }
    }

    /// The SQL text of a statement for a backend, without its binds.
    macro_rules! sql {
        ($db:ty, $q:expr) => {
            diesel::debug_query::<$db, _>($q)
                .to_string()
                .split(" -- binds")
                .next()
                .unwrap()
                .to_string()
        };
    }

    #[test]
    fn the_update_is_one_text_whatever_the_row_holds_and_sets_every_column_but_id() {
        let (empty, full) = (row(false), row(true));
        for text in [
            sql!(Pg, &SaveDispute::new(&empty, 1)),
            sql!(Sqlite, &SaveDispute::new(&empty, 1)),
        ] {
            let names: Vec<&str> = text
                .trim_start_matches("UPDATE disputes SET ")
                .split(" WHERE ")
                .next()
                .unwrap()
                .split(", ")
                .map(|a| {
                    a.split(" = ")
                        .next()
                        .unwrap()
                        .trim_matches('"')
                        .trim_matches('`')
                })
                .collect();
            let all = sql!(Pg, &disputes::table.select(disputes::all_columns));
            let expected: Vec<&str> = all
                .trim_start_matches("SELECT ")
                .split(" FROM ")
                .next()
                .unwrap()
                .split(", ")
                .map(|c| c.rsplit('.').next().unwrap().trim_matches('"'))
                .filter(|c| *c != "id")
                .collect();
            assert_eq!(names, expected, "{text}");
            let n = expected.len();
            let pg_where = format!("WHERE id = ${} AND version = ${}", n + 1, n + 2);
            assert!(
                text.ends_with(&pg_where) || text.ends_with("WHERE id = ? AND version = ?"),
                "{text}"
            );
        }
        assert_eq!(
            sql!(Pg, &SaveDispute::new(&empty, 1)),
            sql!(Pg, &SaveDispute::new(&full, 7))
        );
        assert_eq!(
            sql!(Sqlite, &SaveDispute::new(&empty, 1)),
            sql!(Sqlite, &SaveDispute::new(&full, 7))
        );
    }

    #[test]
    fn the_view_takes_no_lock_and_joins_the_people_only_when_full() {
        let plain = sql!(
            Pg,
            &DisputeView::<Pg, false, false>::new("d", "u", None).unwrap()
        );
        let full = sql!(
            Pg,
            &DisputeView::<Pg, true, false>::new("d", "u", None).unwrap()
        );
        for (read, full) in [(&plain, false), (&full, true)] {
            assert!(!read.contains("FOR UPDATE"), "{read}");
            assert_eq!(read.contains("LEFT JOIN users um"), full, "{read}");
        }
        let sqlite = sql!(
            Sqlite,
            &DisputeView::<Sqlite, true, true>::new("d", "u", Some("m")).unwrap()
        );
        assert!(!sqlite.contains("FOR UPDATE") && sqlite.contains("LEFT JOIN users u ON u.id = ?"));
    }

    #[test]
    fn each_variant_of_the_view_has_its_own_text_and_query_id_and_named_matches_its_type() {
        use std::any::TypeId;
        let texts = [
            sql!(
                Pg,
                &DisputeView::<Pg, false, false>::new("d", "u", None).unwrap()
            ),
            sql!(
                Pg,
                &DisputeView::<Pg, true, false>::new("d", "u", None).unwrap()
            ),
            sql!(
                Pg,
                &DisputeView::<Pg, false, true>::new("d", "u", Some("m")).unwrap()
            ),
            sql!(
                Pg,
                &DisputeView::<Pg, true, true>::new("d", "u", Some("m")).unwrap()
            ),
        ];
        let ids = [
            DisputeView::<Pg, false, false>::query_id(),
            DisputeView::<Pg, true, false>::query_id(),
            DisputeView::<Pg, false, true>::query_id(),
            DisputeView::<Pg, true, true>::query_id(),
        ];
        for i in 0..4 {
            assert!(ids[i].is_some(), "a static id");
            for j in 0..i {
                assert_ne!(texts[i], texts[j]);
                assert_ne!(ids[i], ids[j]);
            }
        }
        assert_ne!(ids[0], Some(TypeId::of::<()>()));
        // A `named` that disagrees with the type is refused, so a text never gets another's id.
        assert!(DisputeView::<Pg, false, true>::new("d", "u", None).is_none());
        assert!(DisputeView::<Sqlite, true, false>::new("d", "u", Some("m")).is_none());
    }

    /// The text of a [`Shaped`] transition of `B` breaches and `N` notices over `d`, with its
    /// optional columns filled or not, and the text of the same transition keyed by its text.
    fn shaped_and_keyed<const B: usize, const N: usize>(filled: bool) -> (String, String) {
        let d = row(filled);
        let event = EventRow {
            dispute_id: "d".into(),
            seq: if filled { 8 } else { 2 },
            event_type: if filled {
                "assign_mediator"
            } else {
                "add_note"
            }
            .into(),
            actor_id: "u".into(),
            at: d.updated_at,
            data: if filled { "{\"x\":1}" } else { "{}" }.into(),
        };
        let breaches: Vec<BreachRow> = (0..B)
            .map(|i| BreachRow {
                dispute_id: "d".into(),
                kind: format!("kind{i}"),
                due_on: d.matter_arose_on,
                detected_on: d.matter_arose_on,
                overridden: filled,
                detail: "x".repeat(i + 1),
            })
            .collect();
        let ids: Vec<String> = (0..N).map(|i| format!("n{i}")).collect();
        let notices: Vec<NewNotice> = ids
            .iter()
            .map(|id| NewNotice {
                id,
                dispute_id: filled.then_some("d"),
                template: "t",
                recipients: "[]",
                subject: "s",
                body_text: "t",
                body_html: "h",
                ics: filled.then_some("BEGIN:VCALENDAR"),
                ics_method: filled.then_some("REQUEST"),
                attachment_name: filled.then_some("pack.zip"),
                attachment: filled.then_some(b"PK".as_slice()),
                queued_at: d.updated_at,
            })
            .collect();
        let w = || WriteTransition {
            save: SaveDispute::new(&d, 7),
            event: &event,
            breaches: &breaches,
            notices: &notices,
        };
        (sql!(Pg, &Shaped::<B, N>(w())), sql!(Pg, &w()))
    }

    #[test]
    fn a_shaped_transition_has_one_text_whatever_its_rows_hold_and_an_id_of_its_own() {
        macro_rules! shapes {
            ($(($b:literal, $n:literal)),*) => {{
                let mut seen = Vec::new();
                $(
                    let (empty, keyed) = shaped_and_keyed::<$b, $n>(false);
                    let (full, _) = shaped_and_keyed::<$b, $n>(true);
                    // One text for the shape, whatever its rows hold, and the very text the
                    // statement keyed by its text would have.
                    assert_eq!(empty, full);
                    assert_eq!(empty, keyed);
                    let id = Shaped::<$b, $n>::query_id();
                    assert!(id.is_some(), "a static id");
                    seen.push((id, empty));
                )*
                seen
            }};
        }
        // The shapes WriteTransition::run gives a type.
        let seen = usual_shapes!(shapes);
        for (i, (id, text)) in seen.iter().enumerate() {
            for (other_id, other_text) in &seen[..i] {
                assert_ne!(id, other_id);
                assert_ne!(text, other_text);
            }
        }
        assert!(
            WriteTransition::query_id().is_none(),
            "others keyed by text"
        );
    }

    #[test]
    fn the_transition_writes_every_row_only_from_the_updated_dispute() {
        let d = row(true);
        let event = EventRow {
            dispute_id: "d".into(),
            seq: 8,
            event_type: "add_note".into(),
            actor_id: "u".into(),
            at: d.updated_at,
            data: "{}".into(),
        };
        let breach = BreachRow {
            dispute_id: "d".into(),
            kind: "hearing_by".into(),
            due_on: d.matter_arose_on,
            detected_on: d.matter_arose_on,
            overridden: true,
            detail: "x".into(),
        };
        let notice = NewNotice {
            id: "n",
            dispute_id: Some("d"),
            template: "t",
            recipients: "[]",
            subject: "s",
            body_text: "t",
            body_html: "h",
            ics: None,
            ics_method: None,
            attachment_name: None,
            attachment: None,
            queued_at: d.updated_at,
        };
        let save = sql!(Pg, &SaveDispute::new(&d, 7));
        let text = |breaches: &[BreachRow], notices: &[NewNotice]| {
            sql!(
                Pg,
                &WriteTransition {
                    save: SaveDispute::new(&d, 7),
                    event: &event,
                    breaches,
                    notices,
                }
            )
        };
        let bare = text(&[], &[]);
        assert_eq!(
            bare,
            format!(
                "WITH u AS ({save} RETURNING id), e AS (INSERT INTO events (dispute_id, seq, \
                 event_type, actor_id, at, data) SELECT $44, $45, $46, $47, $48, $49 FROM u) \
                 SELECT (SELECT COUNT(*) FROM u), CAST(0 AS BIGINT)"
            )
        );
        let two = [
            breach.clone(),
            BreachRow {
                kind: "notice_by".into(),
                ..breach
            },
        ];
        let all = text(&two, &[notice, NewNotice { id: "m", ..notice }]);
        // Each insert selects its row from u: when the update matched nothing, none is written.
        assert_eq!(all.matches("INSERT INTO").count(), 5, "{all}");
        // The five inserts and the count of updated disputes.
        assert_eq!(all.matches(" FROM u").count(), 5 + 1, "{all}");
        assert!(!all.contains("VALUES"), "{all}");
        assert_eq!(
            all.matches(" FROM u ON CONFLICT (dispute_id, kind) DO UPDATE SET overridden = TRUE")
                .count(),
            2
        );
        assert!(all.ends_with(
            "SELECT (SELECT COUNT(*) FROM u), CAST(0 AS BIGINT) + (SELECT COUNT(*) FROM b0) + \
             (SELECT COUNT(*) FROM b1)"
        ));
    }
}
