//! The deadline sweep: reminders before each deadline falls due (each sent once, recorded in
//! `reminders`), and a breach alert when one passes unmet (recorded once in `breaches`).
//!
//! Each dispute carries `next_sweep_on`, the first day on which the sweep has something to do
//! for it; the sweep selects `next_sweep_on <= today` through an index, so open cases with
//! nothing due cost nothing.

use super::outbox::{self, Addresses, NoticeSpec};
use super::templates::Templates;
use crate::api::error::ApiError;
use crate::db::disputes::{self as store, BreachRow, DisputeRow};
use crate::db::schema::{disputes, reminders};
use crate::db::{now, write_tx, DbConn};
use crate::domain::calendar::Calendar;
use crate::domain::workflow::State;
use chrono::{Days, NaiveDate};
use diesel::prelude::*;
use serde_json::json;

/// Something the sweep must do on or after `on`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    pub kind: &'static str,
    pub on: NaiveDate,
    pub deadline: NaiveDate,
    /// A breach (the deadline passed unmet) rather than a reminder.
    pub breach: bool,
    pub label: &'static str,
    pub action: &'static str,
}

fn wd_before(cal: &Calendar, d: NaiveDate, n: i64) -> Option<NaiveDate> {
    cal.add_working_days(d, -n)
}

/// Every reminder and breach check that applies to the dispute in its current state.
pub fn schedule(cal: &Calendar, d: &DisputeRow) -> Vec<Due> {
    use State::*;
    let s = d.state();
    let mut out = Vec::new();
    let mut add = |kind, on: Option<NaiveDate>, deadline: NaiveDate, breach, label, action| {
        if let Some(on) = on {
            out.push(Due {
                kind,
                on,
                deadline,
                breach,
                label,
                action,
            });
        }
    };
    let before_hearing = matches!(s, FormalRequested | PanelForming | PanelAppointed);
    if let Some(by) = d.hearing_by {
        if before_hearing {
            let (l, a) = (
                "hearing date",
                "schedule the hearing and send notice to everyone",
            );
            add(
                "hearing_unscheduled_10",
                wd_before(cal, by, 10),
                by,
                false,
                l,
                a,
            );
            add(
                "hearing_unscheduled_3",
                wd_before(cal, by, 3),
                by,
                false,
                l,
                a,
            );
        }
        if matches!(
            s,
            FormalRequested | PanelForming | PanelAppointed | HearingScheduled
        ) {
            add(
                "hearing_after_deadline",
                by.checked_add_days(Days::new(1)),
                by,
                true,
                "hearing date",
                "hold the hearing",
            );
        }
    }
    if let Some(by) = d.notice_by {
        if before_hearing {
            let (l, a) = (
                "last day to send notice of the hearing",
                "schedule the hearing so that notice goes out",
            );
            add("notice_3", wd_before(cal, by, 3), by, false, l, a);
            add("notice_1", wd_before(cal, by, 1), by, false, l, a);
            add(
                "insufficient_notice",
                by.checked_add_days(Days::new(1)),
                by,
                true,
                l,
                a,
            );
        }
    }
    if let Some(by) = d.bundle_by {
        if s == HearingScheduled && d.bundle_distributed_on.is_none() {
            let (l, a) = (
                "last day to distribute the document bundle",
                "distribute the bundle to the parties and the panel",
            );
            add("bundle_2", wd_before(cal, by, 2), by, false, l, a);
            add(
                "bundle_too_late",
                by.checked_add_days(Days::new(1)),
                by,
                true,
                l,
                a,
            );
        }
    }
    if let Some(by) = d.decision_by {
        if matches!(s, HearingHeld | Decided) {
            let (l, a) = (
                "last day to send the written decision",
                "record the decision and send it to both parties",
            );
            add(
                "decision_2",
                by.checked_sub_days(Days::new(2)),
                by,
                false,
                l,
                a,
            );
            add(
                "decision_late",
                by.checked_add_days(Days::new(1)),
                by,
                true,
                l,
                a,
            );
        }
    }
    if let Some(by) = d.fhsu_by {
        if s == DecisionNotified && d.contract_related && !d.inter_practice {
            let (l, a) = (
                "last day to refer the dispute to the FHSU",
                "refer the dispute to the FHSU if you wish to",
            );
            add(
                "fhsu_60",
                by.checked_sub_days(Days::new(60)),
                by,
                false,
                l,
                a,
            );
            add(
                "fhsu_14",
                by.checked_sub_days(Days::new(14)),
                by,
                false,
                l,
                a,
            );
        }
    }
    out
}

/// The first day on which the sweep has something to do for this dispute after `after`
/// (or at all, when `after` is `None`).
pub fn next_sweep_on(cal: &Calendar, d: &DisputeRow) -> Option<NaiveDate> {
    schedule(cal, d).into_iter().map(|x| x.on).min()
}

fn next_after(cal: &Calendar, d: &DisputeRow, today: NaiveDate) -> Option<NaiveDate> {
    schedule(cal, d)
        .into_iter()
        .map(|x| x.on)
        .filter(|on| *on > today)
        .min()
}

/// Runs one sweep for `today`; returns (disputes visited, notices queued). At most `cap`
/// disputes per call; the caller loops while the cap is reached.
pub fn run(
    conn: &mut DbConn,
    cal: &Calendar,
    templates: &Templates,
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
    // Up to 50 disputes per transaction: one commit (one fsync) per chunk instead of per
    // dispute, while keeping each write lock short.
    let mut queued = 0;
    for chunk in ids.chunks(50) {
        queued += write_tx(conn, |c| {
            let mut n = 0;
            for id in chunk {
                n += sweep_one(c, cal, templates, today, id)?;
            }
            Ok::<usize, ApiError>(n)
        })
        .map_err(|e| e.to_string())?;
    }
    timer.finished();
    Ok((ids.len(), queued))
}

fn sweep_one(
    c: &mut DbConn,
    cal: &Calendar,
    templates: &Templates,
    today: NaiveDate,
    id: &str,
) -> Result<usize, ApiError> {
    let map = |e: diesel::result::Error| ApiError::Internal(format!("sweep {id}: {e}"));
    let Some(d) = store::lock(c, id).map_err(map)? else {
        return Ok(0);
    };
    if d.next_sweep_on.is_none_or(|n| n > today) {
        return Ok(0); // another replica got here first
    }
    let base = outbox::base_context(c, &d, today);
    let mut specs = Vec::new();
    for due in schedule(cal, &d).into_iter().filter(|x| x.on <= today) {
        if due.breach {
            let fresh = store::record_breach(
                c,
                &BreachRow {
                    dispute_id: d.id.clone(),
                    kind: due.kind.to_string(),
                    due_on: due.deadline,
                    detected_on: today,
                    overridden: false,
                    detail: format!("The {} ({}) passed unmet.", due.label, due.deadline),
                },
            )
            .map_err(map)?;
            if fresh {
                let mut a = Addresses::new(c);
                let mut to = a.user(d.secretary_id.as_deref());
                to.extend(a.lmc(&d));
                to.extend(a.accountable_officers(&d.screening_org_id));
                specs.push(NoticeSpec {
                    template: "deadline_breached",
                    recipients: to,
                    ctx: outbox::with(&base, json!({"deadline_label": due.label, "due_on": due.deadline, "action": due.action})),
                    ics: None,
                });
                tracing::warn!(dispute_id = %d.id, kind = due.kind, due_on = %due.deadline, "deadline breached");
            }
        } else if due.deadline >= today {
            let exists: i64 = reminders::table
                .filter(reminders::dispute_id.eq(&d.id))
                .filter(reminders::kind.eq(due.kind))
                .filter(reminders::due_on.eq(due.deadline))
                .count()
                .get_result(c)
                .map_err(map)?;
            if exists > 0 {
                continue;
            }
            diesel::insert_into(reminders::table)
                .values((
                    reminders::dispute_id.eq(&d.id),
                    reminders::kind.eq(due.kind),
                    reminders::due_on.eq(due.deadline),
                    reminders::sent_at.eq(now()),
                ))
                .execute(c)
                .map_err(map)?;
            let mut a = Addresses::new(c);
            let to = reminder_recipients(&mut a, &d, due.kind);
            let left = cal.working_days_between(today, due.deadline);
            specs.push(NoticeSpec {
                template: "deadline_reminder",
                recipients: to,
                ctx: outbox::with(
                    &base,
                    json!({"deadline_label": due.label, "due_on": due.deadline,
                    "action": due.action, "working_days_left": left}),
                ),
                ics: None,
            });
        }
    }
    let next = next_after(cal, &d, today);
    diesel::update(disputes::table.find(&d.id))
        .set(disputes::next_sweep_on.eq(next))
        .execute(c)
        .map_err(map)?;
    outbox::queue(c, templates, Some(&d.id), specs)
}

fn reminder_recipients(a: &mut Addresses, d: &DisputeRow, kind: &str) -> Vec<String> {
    if kind.starts_with("fhsu") {
        return a.parties(d);
    }
    if kind.starts_with("decision") {
        let mut v = a.user(d.secretary_id.as_deref());
        v.extend(a.user(d.chair_id.as_deref()));
        return v;
    }
    if d.secretary_id.is_some() {
        return a.user(d.secretary_id.as_deref());
    }
    // No panel yet: whoever convenes it.
    let mut v = a.accountable_officers(&d.screening_org_id);
    v.extend(a.lmc(d));
    v
}
