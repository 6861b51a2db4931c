//! Events of every stage: notes, closing the case, and the appellant's withdrawal (rule 9).

use serde_json::json;

use super::{hearing, Step};
use crate::domain::dispute::{Closure, Withdrawal};
use crate::domain::event::{AddNote, Reason};

pub(super) fn add_note(s: &mut Step, e: &AddNote) {
    s.record(json!({"text": e.text}));
}

pub(super) fn close(s: &mut Step, e: &Reason) {
    s.d.detail.closure = Some(Closure {
        reason: e.reason.clone(),
        closed_on: s.today,
    });
    s.record(json!({"reason": e.reason}));
    s.notify(json!({"reason": e.reason}));
}

/// Everyone concerned is told; a scheduled hearing is called off.
pub(super) fn withdraw(s: &mut Step, e: &Reason) {
    s.d.detail.withdrawal = Some(Withdrawal {
        reason: e.reason.clone(),
        withdrawn_on: s.today,
    });
    s.record(json!({"reason": e.reason}));
    let by = s.facts.party_name(&s.sender.org_id).to_string();
    s.notify(json!({"reason": e.reason, "withdrawn_by_name": by}));
    hearing::cancel(s, &e.reason);
}
