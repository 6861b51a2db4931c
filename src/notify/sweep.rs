//! The deadline sweep: reminders before each deadline falls due (each sent once), and a breach
//! alert when one passes unmet (recorded once). The schedule is the procedure's
//! (`domain::notices::schedule`); the work for one dispute is `service::sweep::sweep_one`.
//!
//! Each dispute carries `next_sweep_on`, the first day on which the sweep has something to do
//! for it; the sweep selects `next_sweep_on <= today` through an index, so open cases with
//! nothing due cost nothing.

use crate::db::schema::disputes;
use crate::db::{write_tx, DbConn};
use crate::domain::calendar::Calendar;
use crate::render::templates::Templates;
use crate::service::{self, ServiceError};
use chrono::NaiveDate;
use diesel::prelude::*;

/// Runs one sweep for `today`; returns (disputes visited, notices queued). At most `cap`
/// disputes per call; the caller loops while the cap is reached. A dispute whose stored row
/// does not read is left as it is, with an error in the log (every sweep reports it again).
/// `public_url` (`LDR_PUBLIC_URL`) is the base of the case link every reminder and alert gives.
pub fn run(
    conn: &mut DbConn,
    cal: &Calendar,
    templates: &Templates,
    public_url: &str,
    today: NaiveDate,
    cap: i64,
) -> Result<(usize, usize), String> {
    // Counted `error` if it returns early with one.
    let timer = crate::metrics::SweepRun::start();
    let ids: Vec<String> = disputes::table
        .filter(disputes::next_sweep_on.le(today))
        .order(disputes::next_sweep_on.asc())
        .select(disputes::id)
        .limit(cap)
        .load(conn)
        .map_err(|e| format!("sweep select: {e}"))?;
    // The sweep sends reminders and alerts, never a calendar invitation: no organiser.
    let ctx = service::Ctx {
        today,
        calendar: cal,
        templates,
        mail_from: "",
        public_url,
    };
    // Up to 50 disputes per transaction: one commit (one fsync) per chunk instead of per
    // dispute, while keeping each write lock short.
    let mut queued = 0;
    for chunk in ids.chunks(50) {
        queued += write_tx(conn, |c| {
            let mut n = 0;
            for id in chunk {
                n += match service::sweep::sweep_one(c, &ctx, id) {
                    Err(e @ ServiceError::Corrupt { .. }) => {
                        tracing::error!(dispute_id = %id, error = %e, "deadline sweep: skipped a dispute that does not read");
                        0
                    }
                    other => other?,
                };
            }
            Ok::<usize, ServiceError>(n)
        })
        .map_err(|e| format!("sweep: {e}"))?;
    }
    timer.finished();
    Ok((ids.len(), queued))
}
