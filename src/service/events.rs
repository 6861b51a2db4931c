//! Applying one event to one dispute: `POST /disputes/{id}/events`, and whatever else moves a
//! dispute on. See the module documentation of [`super`] for the steps.

use super::limits::{Action, Limits};
use super::notices::{self, Parties};
use super::{decode, visibility, Caller, Ctx, ServiceError};
use crate::db::disputes::{self, BreachRow, DisputeRow, EventRow};
use crate::db::transition::{self, Transition};
use crate::db::{directory, now, write_tx, DbConn};
use crate::domain::dispute::{Breach, Dispute, DocumentKind};
use crate::domain::event::{Envelope, EnvelopeError, Event};
use crate::domain::notices::notifies;
use crate::domain::procedure::{self, Document, Facts, Sender};
use crate::domain::workflow::{self, EventType};
use serde_json::Value;

/// An event applied and written.
#[derive(Debug)]
pub struct Applied {
    /// The dispute after the event.
    pub dispute: Dispute,
    pub parties: Parties,
    /// How many notices were queued.
    pub notices: usize,
}

/// The 400 for an event body that is not a JSON object.
fn not_an_object() -> ServiceError {
    ServiceError::Malformed(EnvelopeError::NotAnObject.to_string())
}

/// [`apply`], for a person or an integration: the API's `POST /disputes/{id}/events` and the
/// pages' action forms alike. An event that e-mails people is throttled per user and
/// organisation (`limits`) first.
pub fn apply_throttled(
    limits: &Limits,
    c: &mut DbConn,
    ctx: &Ctx,
    caller: &Caller,
    id: &str,
    body: &Value,
) -> Result<Applied, ServiceError> {
    let event = body
        .get("type")
        .and_then(Value::as_str)
        .and_then(EventType::parse);
    if event.is_some_and(notifies) {
        limits.check(Action::Notify, &caller.user_id, &caller.org_id)?;
    }
    apply(c, ctx, caller, id, body)
}

/// Applies `body` (the JSON of `POST /disputes/{id}/events`) as `caller` to the dispute `id`,
/// in one write transaction: everything is written, or (refused, or failed) nothing.
///
/// Refusals, in the order the API reports them: 400 the body is not an object; 404 no such
/// dispute or the caller may not see it; 422 `type` or `expected_version` wrong; 403 role,
/// 409 state, 403 relation to the case (`workflow::check`); 409 `expected_version` is not the
/// dispute's version; 422 the event's fields; 422 the rules of the procedure.
pub fn apply(
    c: &mut DbConn,
    ctx: &Ctx,
    caller: &Caller,
    id: &str,
    body: &Value,
) -> Result<Applied, ServiceError> {
    if !body.is_object() {
        return Err(not_an_object());
    }
    write_tx(c, |c| {
        // Under the row lock (PostgreSQL) or the write lock (SQLite): nothing moves the
        // dispute between this read and the write.
        let row = disputes::lock(c, id)?.ok_or(ServiceError::NotFound)?;
        let d = decode(row)?;
        if !visibility::can_see(caller, &d) {
            return Err(ServiceError::NotFound);
        }
        let (event, parties, mut decision) = decide_on(c, ctx, caller, &d, body)?;
        let at = now();
        decision.dispute.updated_at = at;
        let after = decision.dispute;
        let row = DisputeRow::of(&after);
        let event_row = EventRow {
            dispute_id: after.id.clone(),
            seq: after.version,
            event_type: event.event_type().as_str().to_string(),
            actor_id: caller.user_id.clone(),
            at,
            data: Value::Object(decision.data).to_string(),
        };
        // After the event row: the FHSU referral's pack ends its history with it.
        let rendered =
            notices::render_after(c, ctx, &after, &parties, decision.notices, Some(&event_row))?;
        let breaches: Vec<BreachRow> = decision
            .breaches
            .iter()
            .map(|b| breach_row(&after.id, b))
            .collect();
        let rows: Vec<_> = rendered.iter().map(|n| n.row(&after.id)).collect();
        let written = transition::write(
            c,
            &Transition {
                dispute: &row,
                previous_version: d.version,
                event: &event_row,
                breaches: &breaches,
                notices: &rows,
            },
        )?;
        if written.is_none() {
            return Err(ServiceError::Internal(
                "the dispute's version moved under its write lock".into(),
            ));
        }
        Ok(Applied {
            dispute: after,
            parties,
            notices: rendered.len(),
        })
    })
}

/// Everything [`apply`] checks and decides for `body` on the dispute `d` (already read, and
/// visible to `caller`), short of writing: the event, the parties and the decision.
fn decide_on(
    c: &mut DbConn,
    ctx: &Ctx,
    caller: &Caller,
    d: &Dispute,
    body: &Value,
) -> Result<(Event, Parties, procedure::Decision), ServiceError> {
    let envelope = Envelope::parse(body).map_err(|e| match e {
        EnvelopeError::NotAnObject => not_an_object(),
        EnvelopeError::Field(p) => ServiceError::Fields(vec![p]),
    })?;
    let relations = visibility::relations(caller, d);
    workflow::check(envelope.event, d.state, &relations)?;
    if let Some(v) = envelope.expected_version.filter(|v| *v != d.version) {
        return Err(ServiceError::VersionConflict(format!(
            "The dispute is at version {}, not {v}; reload it and try again.",
            d.version
        )));
    }
    let event = Event::parse(envelope.event, envelope.body).map_err(ServiceError::Fields)?;
    let parties = Parties::of(c, d)?;
    let facts = facts(c, d, &event, &parties)?;
    let sender = Sender::new(&caller.org_id, &relations);
    let decision = procedure::decide(d, &event, &sender, &facts, ctx.today, ctx.calendar)?;
    Ok((event, parties, decision))
}

/// Checks `body` as [`apply`] would, every refusal the same, and writes nothing: the pages'
/// "Check the panel" (a panel's composition and conflicts before it is appointed).
pub fn check(
    c: &mut DbConn,
    ctx: &Ctx,
    caller: &Caller,
    id: &str,
    body: &Value,
) -> Result<(), ServiceError> {
    if !body.is_object() {
        return Err(not_an_object());
    }
    let row = disputes::find(c, id)?.ok_or(ServiceError::NotFound)?;
    let d = decode(row)?;
    if !visibility::can_see(caller, &d) {
        return Err(ServiceError::NotFound);
    }
    decide_on(c, ctx, caller, &d, body).map(|_| ())
}

/// The breach row of `b` for the dispute `dispute_id`.
pub fn breach_row(dispute_id: &str, b: &Breach) -> BreachRow {
    BreachRow {
        dispute_id: dispute_id.to_string(),
        kind: b.kind.to_string(),
        due_on: b.due_on,
        detected_on: b.detected_on,
        overridden: b.overridden,
        detail: b.detail.clone(),
    }
}

/// Reads what the event needs to be decided (see `Event::needs`).
fn facts(
    c: &mut DbConn,
    d: &Dispute,
    event: &Event,
    parties: &Parties,
) -> Result<Facts, ServiceError> {
    let corrupt = |cause: String| ServiceError::Corrupt {
        id: d.id.clone(),
        cause,
    };
    let mut facts = Facts::new(
        parties.appellant.to_org().map_err(corrupt)?,
        parties.respondent.to_org().map_err(corrupt)?,
    );
    let needs = event.needs();
    if !needs.people.is_empty() {
        facts.people = directory::people(c, &needs.people)?;
    }
    if let Some(date) = needs.unavailable_on {
        let panel = d.panel.as_ref().map(|p| p.everyone());
        let ids = panel.as_ref().map_or(&[][..], |p| p.as_slice());
        facts.unavailable = directory::unavailable_on(c, ids, date)?;
    }
    if needs.documents {
        facts.documents = disputes::documents_of(c, &d.id)?
            .into_iter()
            .map(|m| {
                let kind: DocumentKind = m.kind.parse().map_err(corrupt)?;
                Ok(Document {
                    id: m.id,
                    name: m.name,
                    kind,
                })
            })
            .collect::<Result<_, ServiceError>>()?;
    }
    if needs.fhsu_in_directory {
        facts.fhsu_in_directory = directory::fhsu_exists(c)?;
    }
    Ok(facts)
}
