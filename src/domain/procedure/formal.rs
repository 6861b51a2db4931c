//! Stage 2 up to the panel: the formal request, the LMC consultation, the screening (rule 1)
//! and the panel's appointment (rule 2).

use serde_json::json;
use uuid::Uuid;

use super::{refuse_if, Refusal, Step, FUTURE};
use crate::domain::dispute::{LmcConsultation, Panel, ScreenOutcome, Screening};
use crate::domain::event::{AppointPanel, RecordLmcConsultation, RequestFormal, Screen};
use crate::domain::panel::{self, PanelRequest};
use crate::domain::{deadlines, notices};

/// Lodging sets the hearing deadline (rule 3: 20 working days) and the notice and bundle days
/// that deadline implies.
pub(super) fn request_formal(s: &mut Step, e: &RequestFormal) -> Result<(), Refusal> {
    let lodged = e.lodged_on;
    refuse_if(lodged > s.today, "lodged_on", FUTURE)?;
    refuse_if(
        s.d.detail.exhausted_on.is_some_and(|x| lodged < x),
        "lodged_on",
        "must not be before the informal stage was exhausted",
    )?;
    let hearing_by = deadlines::hearing_by(s.cal, lodged)
        .ok_or_else(|| Refusal::field("lodged_on", "outside the supported calendar"))?;
    s.d.lodged_on = Some(lodged);
    s.d.deadlines.hearing_by = Some(hearing_by);
    s.d.deadlines.notice_by = deadlines::latest_notice_day(s.cal, hearing_by);
    s.d.deadlines.bundle_by = deadlines::latest_bundle_day(s.cal, hearing_by);
    s.d.detail.grounds = Some(e.grounds.clone());
    s.d.detail.requested_by_org = Some(s.sender.org_id.clone());
    s.record(json!({"grounds": e.grounds, "lodged_on": lodged, "hearing_by": hearing_by}));
    let requester = s.facts.party_name(&s.sender.org_id).to_string();
    s.notify(
        json!({"lodged_on": lodged, "hearing_by": hearing_by, "grounds": e.grounds,
        "requested_by_name": requester}),
    );
    Ok(())
}

pub(super) fn record_lmc_consultation(
    s: &mut Step,
    e: &RecordLmcConsultation,
) -> Result<(), Refusal> {
    refuse_if(e.consulted_on > s.today, "consulted_on", FUTURE)?;
    s.d.lmc_consulted_on = Some(e.consulted_on);
    s.d.detail.lmc_consultation = Some(LmcConsultation {
        consulted_on: e.consulted_on,
        summary: e.summary.clone(),
    });
    s.record(json!({"consulted_on": e.consulted_on, "summary": e.summary}));
    Ok(())
}

/// Rule 1: a request is screened out as frivolous or vexatious only after the LMC was
/// consulted.
pub(super) fn screen(s: &mut Step, e: &Screen) -> Result<(), Refusal> {
    let proceeds = e.outcome == ScreenOutcome::Proceed;
    if !proceeds && s.d.lmc_consulted_on.is_none() {
        return Err(Refusal::rule(
            "lmc_not_consulted",
            format!(
                "A request may be screened out as {} only after the LMC has been consulted: \
                 record the consultation first.",
                e.outcome
            ),
        ));
    }
    s.screen_proceeds = proceeds;
    s.d.detail.screening = Some(Screening {
        outcome: e.outcome,
        reason: e.reason.clone(),
        screened_on: s.today,
    });
    s.record(json!({"outcome": e.outcome, "reason": e.reason}));
    let hearing_by = s.d.deadlines.hearing_by.filter(|_| proceeds);
    // Screened out, a contract dispute may still go to the FHSU (rule 7): the parties are
    // told by when.
    let fhsu_by =
        s.d.deadlines
            .fhsu_by
            .filter(|_| !proceeds && s.d.referable());
    s.notify(
        json!({"outcome": e.outcome, "reason": e.reason, "hearing_by": hearing_by,
        "fhsu_by": fhsu_by}),
    );
    if let Some(by) = hearing_by {
        // The case now awaits a panel: every panel secretary sees it, and is told.
        s.notices
            .push(notices::AWAITING_PANEL.with(json!({"hearing_by": by,
            "lodged_on": s.d.lodged_on, "notice_by": s.d.deadlines.notice_by})));
    }
    Ok(())
}

/// Rule 2: every composition and conflict violation listed (see [`panel::check_composition`]).
pub(super) fn appoint_panel(s: &mut Step, e: &AppointPanel) -> Result<(), Refusal> {
    let facts = s.facts;
    let candidate = |id: &str| facts.person(id).map(|p| &p.candidate);
    let violations = panel::check_composition(&PanelRequest {
        clinical_member: candidate(&e.clinical_member_id),
        gp_conciliator: candidate(&e.gp_conciliator_id),
        lmc_representative: candidate(&e.lmc_representative_id),
        secretary: candidate(&e.secretary_id),
        chair_id: Uuid::parse_str(&e.chair_id).unwrap_or_else(|_| Uuid::nil()),
        appellant: &facts.appellant.info,
        respondent: &facts.respondent.info,
        inter_practice: s.d.inter_practice,
        mediator_id: s.d.mediator_id().and_then(|m| Uuid::parse_str(m).ok()),
    });
    if !violations.is_empty() {
        return Err(Refusal::Rules {
            code: "panel_composition_invalid",
            detail: format!("The panel breaks {} composition rule(s).", violations.len()),
            violations,
        });
    }
    let p = Panel {
        clinical_member_id: e.clinical_member_id.clone(),
        gp_conciliator_id: e.gp_conciliator_id.clone(),
        lmc_representative_id: e.lmc_representative_id.clone(),
        secretary_id: e.secretary_id.clone(),
        // As stored everywhere else (the seats are found by their stored id): however the
        // request spelled it, the chair is recognised by the same text afterwards.
        chair_id: Uuid::parse_str(&e.chair_id)
            .map(|u| u.hyphenated().to_string())
            .unwrap_or_else(|_| e.chair_id.clone()),
    };
    s.record(json!({"clinical_member_id": p.clinical_member_id,
        "gp_conciliator_id": p.gp_conciliator_id, "lmc_representative_id": p.lmc_representative_id,
        "secretary_id": p.secretary_id, "chair_id": p.chair_id}));
    let name = |id: &str| facts.person_name(id);
    let members = json!([
        {"name": name(&p.clinical_member_id), "role_label": "Clinical member"},
        {"name": name(&p.gp_conciliator_id), "role_label": "GP conciliator"},
        {"name": name(&p.lmc_representative_id), "role_label": "LMC representative"},
    ]);
    let context = json!({"members": members, "chair_name": name(&p.chair_id),
        "secretary_name": name(&p.secretary_id), "hearing_by": s.d.deadlines.hearing_by});
    s.d.panel = Some(p);
    s.notify(context);
    Ok(())
}
