//! The access log's rows (issue #38): written in batches, read by admins, pruned by age.

use super::schema::access_log;
use super::DbConn;
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// One read of a dispute or of one of its parts.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = access_log)]
pub struct Entry {
    pub id: String,
    pub at: NaiveDateTime,
    pub user_id: String,
    pub dispute_id: String,
    pub kind: String,
    pub document_id: Option<String>,
    pub client_address: Option<String>,
}

/// Writes `batch` in one transaction: all of it, or (on an error) none of it.
pub fn insert_batch(c: &mut DbConn, batch: &[Entry]) -> QueryResult<()> {
    super::write_tx(c, |c| {
        // A batch retried after its commit's answer was lost is not written twice: an entry
        // already there (same id) is passed over.
        // PostgreSQL: one statement for the batch. SQLite (in-process, no round trips): a row
        // at a time, as diesel would emulate it there with a transaction of its own inside ours.
        match c {
            DbConn::Pg(pg) => {
                diesel::insert_into(access_log::table)
                    .values(batch)
                    .on_conflict_do_nothing()
                    .execute(pg)?;
            }
            DbConn::Sqlite(lite) => {
                for e in batch {
                    diesel::insert_into(access_log::table)
                        .values(e)
                        .on_conflict_do_nothing()
                        .execute(lite)?;
                }
            }
        }
        Ok(())
    })
}

/// Deletes the entries older than `before`; how many.
pub fn prune(c: &mut DbConn, before: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(access_log::table.filter(access_log::at.lt(before))).execute(c)
}

/// What an admin asks for.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub dispute_id: Option<String>,
    pub user_id: Option<String>,
    pub from: Option<NaiveDateTime>,
    pub to: Option<NaiveDateTime>,
}

/// The entries matching `f`, newest first, `limit` of them after skipping `offset`.
pub fn find(c: &mut DbConn, f: &Filter, offset: i64, limit: i64) -> QueryResult<Vec<Entry>> {
    let mut q = access_log::table.into_boxed();
    if let Some(d) = &f.dispute_id {
        q = q.filter(access_log::dispute_id.eq(d.clone()));
    }
    if let Some(u) = &f.user_id {
        q = q.filter(access_log::user_id.eq(u.clone()));
    }
    if let Some(t) = f.from {
        q = q.filter(access_log::at.ge(t));
    }
    if let Some(t) = f.to {
        q = q.filter(access_log::at.lt(t));
    }
    q.order((access_log::at.desc(), access_log::id.desc()))
        .offset(offset)
        .limit(limit)
        .select(Entry::as_select())
        .load(c)
}
