//! The deadline sweep's work for one dispute: every reminder and breach check of
//! `domain::notices::schedule` that is due, each reminder sent once (recorded in
//! `reminders`) and each breach recorded once with its alert; then the next day the sweep has
//! something to do for it. The loop over the disputes due is `notify::sweep`.

use super::events::breach_row;
use super::notices::{self, Parties};
use super::{decode, Ctx, ServiceError};
use crate::db::disputes;
use crate::db::schema::{disputes as table, reminders};
use crate::db::{now, DbConn};
use crate::domain::notices as schedule;
use diesel::prelude::*;

/// Sweeps the dispute `id` for `ctx.today`, inside the caller's write transaction; returns how
/// many notices were queued. A dispute another replica swept already (its `next_sweep_on` is
/// after today) is left alone.
pub fn sweep_one(c: &mut DbConn, ctx: &Ctx, id: &str) -> Result<usize, ServiceError> {
    let today = ctx.today;
    let Some(row) = disputes::lock(c, id)? else {
        return Ok(0);
    };
    if row.next_sweep_on.is_none_or(|n| n > today) {
        return Ok(0);
    }
    let d = decode(row)?;
    let mut intents = Vec::new();
    for due in schedule::schedule(ctx.calendar, &d)
        .into_iter()
        .filter(|x| x.on <= today)
    {
        if due.breach {
            if disputes::record_breach(c, &breach_row(&d.id, &due.breach(today)))? {
                tracing::warn!(dispute_id = %d.id, kind = due.kind, due_on = %due.deadline, "deadline breached");
                intents.push(due.notice(&d, ctx.calendar, today));
            }
        } else if due.deadline >= today {
            let sent: i64 = reminders::table
                .filter(reminders::dispute_id.eq(&d.id))
                .filter(reminders::kind.eq(due.kind))
                .filter(reminders::due_on.eq(due.deadline))
                .count()
                .get_result(c)?;
            if sent > 0 {
                continue;
            }
            diesel::insert_into(reminders::table)
                .values((
                    reminders::dispute_id.eq(&d.id),
                    reminders::kind.eq(due.kind),
                    reminders::due_on.eq(due.deadline),
                    reminders::sent_at.eq(now()),
                ))
                .execute(c)?;
            intents.push(due.notice(&d, ctx.calendar, today));
        }
    }
    diesel::update(table::table.find(&d.id))
        .set(table::next_sweep_on.eq(schedule::next_sweep_after(ctx.calendar, &d, today)))
        .execute(c)?;
    if intents.is_empty() {
        return Ok(0);
    }
    let parties = Parties::of(c, &d)?;
    let rendered = notices::render(c, ctx, &d, &parties, intents)?;
    for n in &rendered {
        crate::db::outbox::insert_notice(c, &n.row(&d.id))?;
    }
    Ok(rendered.len())
}
