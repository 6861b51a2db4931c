//! Stage 2, the decision: the panel's votes and their majority (rule 6), then the written
//! decision sent to both parties within 7 days of the hearing (rules 6 and 8).

use serde_json::json;

use super::rules::DateRules;
use super::{Refusal, Step};
use crate::domain::dispute::{PanelDecision, Side, VoteChoice};
use crate::domain::event::RecordDecision;
use crate::domain::fields::FieldProblem;

/// One vote from each voting member and from nobody else; the outcome is the side two of the
/// three voted for, and a given `outcome` must be that side.
pub(super) fn record_decision(s: &mut Step, e: &RecordDecision) -> Result<(), Refusal> {
    let members = s.d.voting_members();
    let mut problems: Vec<FieldProblem> = Vec::new();
    for v in e
        .votes
        .iter()
        .filter(|v| !members.contains(&v.member_id.as_str()))
    {
        let message = format!("{} is not a voting member of this panel", v.member_id);
        problems.push(FieldProblem::new("votes", message));
    }
    for m in &members {
        match e.votes.iter().filter(|v| v.member_id == *m).count() {
            1 => {}
            0 => problems.push(FieldProblem::new(
                "votes",
                "every voting member must vote once",
            )),
            _ => problems.push(FieldProblem::new("votes", "a member voted more than once")),
        }
    }
    problems.dedup_by(|a, b| a.message == b.message);
    if !problems.is_empty() {
        return Err(Refusal::Fields(problems));
    }
    let count = |side: VoteChoice| e.votes.iter().filter(|v| v.vote == side).count();
    let majority = if count(VoteChoice::Appellant) >= 2 {
        Side::Appellant
    } else if count(VoteChoice::Respondent) >= 2 {
        Side::Respondent
    } else {
        return Err(Refusal::rule(
            "no_majority",
            "No outcome has the votes of a majority (2 of 3) of the voting members.".into(),
        ));
    };
    if e.outcome.is_some_and(|o| o != majority) {
        return Err(Refusal::field(
            "outcome",
            format!("does not match the votes: the majority found for the {majority}"),
        ));
    }
    s.d.decided_on = Some(s.today);
    s.d.detail.decision = Some(PanelDecision {
        votes: e.votes.clone(),
        outcome: majority,
        recommendations: e.recommendations.clone(),
        recorded_on: s.today,
    });
    s.record(json!({"votes": e.votes, "outcome": majority, "recommendations": e.recommendations}));
    Ok(())
}

/// Within 7 days of the hearing (rule 6), unless the panel secretary overrides (rule 8).
pub(super) fn notify_decision(s: &mut Step) -> Result<(), Refusal> {
    let mut rules = DateRules::default();
    rules.decision_in_time(s.d.deadlines.decision_by, s.today);
    s.breaches = rules.resolve(s.override_reason, s.sender, s.today)?;
    s.d.decision_notified_on = Some(s.today);
    let decision = s.d.detail.decision.as_ref();
    let hearing_date = s.d.held_on.or(s.d.hearing.as_ref().map(|h| h.date));
    let fhsu_by = s.d.deadlines.fhsu_by.filter(|_| s.d.referable());
    let context = json!({
        "outcome": decision.map_or(String::new(), |x| x.outcome.to_string()),
        "recommendations": decision.map_or("", |x| x.recommendations.as_str()),
        "hearing_date": hearing_date,
        "fhsu_by": fhsu_by,
    });
    s.notify(context);
    Ok(())
}
