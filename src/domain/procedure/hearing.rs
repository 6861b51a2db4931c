//! Stage 2, the hearing: scheduling (and moving) it, distributing the bundle, recording it,
//! and calling it off when the dispute is withdrawn. The date rules are in [`super::rules`].

use serde_json::json;

use super::rules::{BundleMoment, DateRules, HearingMoment};
use super::{refuse_if, Refusal, Step, FUTURE};
use crate::domain::deadlines;
use crate::domain::dispute::{Hearing, HearingRecord};
use crate::domain::event::{DistributeBundle, RecordHearing, ScheduleHearing};
use crate::domain::notices;
use crate::domain::workflow::State;

/// A working day after today, within the hearing deadline (rule 3), with 7 clear working days'
/// notice (rule 4), on which no panel member is unavailable; the last three may be overridden.
/// Moving a scheduled hearing raises the invitation's sequence. A new time or venue on the
/// same day keeps the date, and with it the notice already given of it (rule 4 is notice of
/// the hearing's date) and the date's rules, checked or overridden when it was set.
pub(super) fn schedule_hearing(s: &mut Step, e: &ScheduleHearing) -> Result<(), Refusal> {
    let date = e.date;
    refuse_if(date <= s.today, "date", "must be after today")?;
    refuse_if(
        !s.cal.is_working_day(date),
        "date",
        "must be a working day (not a weekend or bank holiday)",
    )?;
    let previous =
        s.d.hearing
            .clone()
            .filter(|_| s.d.state == State::HearingScheduled);
    let same_day = previous.as_ref().filter(|p| p.date == date);
    let mut rules = DateRules::default();
    if same_day.is_none() {
        rules.hearing_deadline(s.d.deadlines.hearing_by, date, HearingMoment::Scheduled);
        rules.notice(s.cal, s.today, date);
        // Moved after the bundle went out: is it still early enough for the new day?
        if let Some(sent_on) = s.d.bundle_distributed_on {
            rules.bundle(s.cal, sent_on, date, BundleMoment::HearingMoved);
        }
        rules.available(&s.facts.unavailable, date);
    }
    s.breaches = rules.resolve(s.override_reason, s.sender, s.today)?;
    let hearing = Hearing {
        date,
        time: e.time,
        venue: e.venue.clone(),
        sequence: previous.as_ref().map_or(0, |p| p.sequence + 1),
        notice_sent_on: same_day.map_or(s.today, |p| p.notice_sent_on),
    };
    s.d.deadlines.notice_by = deadlines::latest_notice_day(s.cal, date);
    s.d.deadlines.bundle_by = deadlines::latest_bundle_day(s.cal, date);
    s.d.deadlines.decision_by = Some(deadlines::decision_by(date));
    let time = hearing.time_text();
    s.record(json!({"date": date, "time": time, "venue": e.venue, "sequence": hearing.sequence}));
    if let Some(p) = &previous {
        s.record(json!({"previous": {"date": p.date, "time": p.time_text(), "venue": p.venue}}));
    }
    s.notify(
        json!({"hearing_date": date, "hearing_time": time, "venue": e.venue,
        "is_update": previous.is_some(), "bundle_by": s.d.deadlines.bundle_by}),
    );
    s.d.hearing = Some(hearing);
    Ok(())
}

/// Documents of this dispute, 5 clear working days before the hearing (rule 5).
pub(super) fn distribute_bundle(s: &mut Step, e: &DistributeBundle) -> Result<(), Refusal> {
    let facts = s.facts;
    let unknown = e
        .document_ids
        .iter()
        .filter(|id| !facts.documents.iter().any(|d| &d.id == *id))
        .count();
    refuse_if(
        unknown > 0,
        "document_ids",
        &format!("{unknown} id(s) do not name a document of this dispute"),
    )?;
    // The bundle, and its notice listing the documents, goes to the parties.
    let panel_only: Vec<&str> = facts
        .documents
        .iter()
        .filter(|d| e.document_ids.contains(&d.id) && s.d.panel_only(d.kind))
        .map(|d| d.id.as_str())
        .collect();
    refuse_if(
        !panel_only.is_empty(),
        "document_ids",
        &format!(
            "{} document(s) are for the panel alone (a hearing record, or a decision not yet \
             notified) and cannot go to the parties in a bundle: leave out {}",
            panel_only.len(),
            panel_only.join(", ")
        ),
    )?;
    let hearing_on = s.d.hearing.as_ref().map(|h| h.date);
    let mut rules = DateRules::default();
    rules.bundle(
        s.cal,
        s.today,
        hearing_on.unwrap_or(s.today),
        BundleMoment::Distributed,
    );
    s.breaches = rules.resolve(s.override_reason, s.sender, s.today)?;
    s.d.bundle_distributed_on = Some(s.today);
    s.d.detail.bundle_document_ids = Some(e.document_ids.clone());
    s.record(json!({"document_ids": e.document_ids}));
    let documents: Vec<_> = facts
        .documents
        .iter()
        .filter(|d| e.document_ids.contains(&d.id))
        .map(|d| json!({"id": d.id, "name": d.name, "kind": d.kind}))
        .collect();
    s.notify(json!({"hearing_date": hearing_on, "documents": documents}));
    Ok(())
}

/// Held on or before today, not before the formal request, on the day it was scheduled for,
/// within the deadline (rule 3); the panel secretary may override the last two. The decision
/// is due 7 days after.
pub(super) fn record_hearing(s: &mut Step, e: &RecordHearing) -> Result<(), Refusal> {
    let held_on = e.held_on;
    refuse_if(held_on > s.today, "held_on", FUTURE)?;
    refuse_if(
        s.d.lodged_on.is_some_and(|l| held_on < l),
        "held_on",
        "must not be before the formal request was lodged",
    )?;
    let mut rules = DateRules::default();
    let scheduled = s.d.hearing.as_ref().map(|h| h.date);
    // Held on the day it was scheduled for: rule 3 was checked (or overridden) when that day
    // was set, and is not asked again.
    if scheduled != Some(held_on) {
        rules.hearing_deadline(s.d.deadlines.hearing_by, held_on, HearingMoment::Held);
    }
    rules.held_as_scheduled(scheduled, held_on);
    s.breaches = rules.resolve(s.override_reason, s.sender, s.today)?;
    s.d.held_on = Some(held_on);
    s.d.deadlines.decision_by = Some(deadlines::decision_by(held_on));
    s.record(
        json!({"held_on": held_on, "appellant_presented": e.appellant_presented,
        "respondent_presented": e.respondent_presented, "record": e.record}),
    );
    s.d.detail.hearing_record = Some(HearingRecord {
        held_on,
        appellant_presented: e.appellant_presented,
        respondent_presented: e.respondent_presented,
        record: e.record.clone(),
    });
    Ok(())
}

/// A withdrawn dispute's scheduled hearing is called off: everyone gets a cancellation of the
/// invitation (its sequence raised).
pub(super) fn cancel(s: &mut Step, reason: &str) {
    let Some(h) =
        s.d.hearing
            .as_mut()
            .filter(|_| s.d.state == State::HearingScheduled)
    else {
        return;
    };
    h.sequence += 1;
    let context = json!({"hearing_date": h.date, "hearing_time": h.time_text(),
        "venue": h.venue, "reason": reason});
    s.notices.push(notices::HEARING_CANCELLED.with(context));
}
