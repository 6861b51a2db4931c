//! Stage 1, informal resolution: the LMC mediator takes the case, then records it resolved or
//! the informal process exhausted.

use serde_json::json;

use super::{Refusal, Step};
use crate::domain::dispute::Mediator;
use crate::domain::event::{AssignMediator, Reason, ResolveInformally};

/// The mediator must be an active `lmc_mediator` of the dispute's own LMC (who then sees the
/// case).
pub(super) fn assign_mediator(s: &mut Step, e: &AssignMediator) -> Result<(), Refusal> {
    let facts = s.facts;
    let person = facts
        .person(&e.mediator_id)
        .filter(|p| p.candidate.active && p.candidate.roles.iter().any(|r| r == "lmc_mediator"));
    let Some(person) = person else {
        return Err(Refusal::field(
            "mediator_id",
            "must name an active LMC mediator",
        ));
    };
    let of_this_lmc =
        s.d.lmc_id
            .as_deref()
            .and_then(|l| uuid::Uuid::parse_str(l).ok())
            .is_some_and(|l| l == person.candidate.org.id);
    if !of_this_lmc {
        return Err(Refusal::field(
            "mediator_id",
            "must name an LMC mediator of this dispute's LMC",
        ));
    }
    s.d.mediator = Some(Mediator {
        id: e.mediator_id.clone(),
        mode: e.mode,
    });
    s.record(json!({"mediator_id": e.mediator_id, "mode": e.mode}));
    s.notify(json!({"mediator_name": person.name, "mode": e.mode}));
    Ok(())
}

pub(super) fn resolve_informally(s: &mut Step, e: &ResolveInformally) {
    s.d.detail.resolution = Some(e.summary.clone());
    s.record(json!({"summary": e.summary}));
    s.notify(json!({"summary": e.summary}));
}

pub(super) fn exhaust_informal(s: &mut Step, e: &Reason) {
    s.d.detail.exhaustion_reason = Some(e.reason.clone());
    s.d.detail.exhausted_on = Some(s.today);
    s.record(json!({"reason": e.reason}));
    s.notify(json!({"reason": e.reason}));
}
