//! Databases for a run: PostgreSQL databases created and dropped, and connections opened as
//! the service opens them.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;

/// A connection to the database at `db_url`, as the service opens them.
pub fn open(db_url: &str) -> ldr::db::PooledConn {
    let target = ldr::db::DbTarget::parse(db_url).unwrap();
    ldr::db::connect(&target, 1).unwrap().get().unwrap()
}

/// A plain connection to the PostgreSQL database at `url`.
pub fn pg_admin(url: &str) -> diesel::PgConnection {
    diesel::PgConnection::establish(url).unwrap_or_else(|e| panic!("PostgreSQL at {url}: {e}"))
}

/// `admin_url` with its database replaced by `name`.
pub fn pg_url_for(admin_url: &str, name: &str) -> String {
    let mut u = url::Url::parse(admin_url).expect("a PostgreSQL URL");
    u.set_path(name);
    u.to_string()
}

/// PostgreSQL databases made for a run, dropped with it.
pub struct PgDbs {
    pub admin_url: String,
    pub names: Vec<String>,
}

impl Drop for PgDbs {
    fn drop(&mut self) {
        if let Ok(mut c) = diesel::PgConnection::establish(&self.admin_url) {
            for n in &self.names {
                let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {n} WITH (FORCE)"));
            }
        }
    }
}
