//! `decide` stage by stage, against the behaviour `tests/procedure.rs`, `tests/hardening.rs`
//! and `tests/notices.rs` expect over HTTP: the same codes, messages and data.
//!
//! The helpers build a small directory (the one `tests/common/world.rs` builds) and walk a
//! dispute to any state through `decide` itself.

use chrono::NaiveDate;
use serde_json::{json, Value};
use uuid::Uuid;

use super::*;
use crate::domain::dispute::{DocumentKind, Org};
use crate::domain::event::Envelope;
use crate::domain::filing::{self, Filing};
use crate::domain::notices::{CalendarMethod, Recipient};
use crate::domain::panel::{Candidate, OrgInfo, OrgKind};
use crate::domain::workflow::State;

pub(crate) fn date(s: &str) -> NaiveDate {
    s.parse().expect("a date")
}

/// Monday 2 March 2026: no bank holiday in the four weeks after.
const MONDAY: &str = "2026-03-02";
/// The walk's hearing: Monday 16 March 2026.
const HEARING: &str = "2026-03-16";

fn id(n: u128) -> String {
    Uuid::from_u128(n).to_string()
}

const ELM: u128 = 1;
const NORTH_CCG: u128 = 2;
const LMC_NORTH: u128 = 3;
const SOUTH_CCG: u128 = 4;
const BIRCH: u128 = 5;
const LMC_KENT: u128 = 6;
const OAK: u128 = 7;

const MEDIATOR: u128 = 101;
const CLINICAL: u128 = 102;
const GP: u128 = 103;
const LMC_REP: u128 = 104;
const SECRETARY: u128 = 105;
const KENT_MEDIATOR: u128 = 106;
const OFFICER: u128 = 107;

fn org(n: u128) -> Org {
    let (name, kind, area, region, ccg) = match n {
        ELM => (
            "Elm Practice",
            OrgKind::Practice,
            "North Essex",
            "East",
            Some(NORTH_CCG),
        ),
        NORTH_CCG => (
            "North CCG",
            OrgKind::Commissioner,
            "North Essex",
            "East",
            None,
        ),
        LMC_NORTH => ("North Essex LMC", OrgKind::Lmc, "North Essex", "East", None),
        SOUTH_CCG => (
            "South CCG",
            OrgKind::Commissioner,
            "South Essex",
            "East",
            None,
        ),
        BIRCH => (
            "Birch Practice",
            OrgKind::Practice,
            "South Essex",
            "East",
            Some(SOUTH_CCG),
        ),
        LMC_KENT => ("Kent LMC", OrgKind::Lmc, "Kent", "South East", None),
        OAK => (
            "Oak Practice",
            OrgKind::Practice,
            "North Essex",
            "East",
            Some(NORTH_CCG),
        ),
        _ => panic!("no organisation {n}"),
    };
    Org {
        id: id(n),
        name: name.into(),
        address: format!("1 High Street, {area}"),
        info: OrgInfo {
            id: Uuid::from_u128(n),
            kind,
            area: area.into(),
            region: region.into(),
            commissioner_id: ccg.map(Uuid::from_u128),
        },
    }
}

fn person(n: u128) -> Person {
    let (name, o, roles, panel_roles): (&str, u128, &[&str], &[&str]) = match n {
        MEDIATOR => ("Mia Mediator", LMC_NORTH, &["lmc_mediator"], &[]),
        CLINICAL => (
            "Dr Clinical",
            SOUTH_CCG,
            &["panelist"],
            &["clinical_board_member"],
        ),
        GP => ("Dr Conciliator", BIRCH, &["panelist"], &["gp_conciliator"]),
        LMC_REP => (
            "Lee Representative",
            LMC_KENT,
            &["panelist"],
            &["lmc_representative"],
        ),
        SECRETARY => ("Sam Secretary", SOUTH_CCG, &["panel_secretary"], &[]),
        KENT_MEDIATOR => ("Kim Kent", LMC_KENT, &["lmc_mediator"], &[]),
        OFFICER => ("Alan Officer", NORTH_CCG, &["accountable_officer"], &[]),
        _ => panic!("no person {n}"),
    };
    let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect();
    Person {
        id: id(n),
        name: name.into(),
        candidate: Candidate {
            id: Uuid::from_u128(n),
            name: name.into(),
            active: true,
            roles: strings(roles),
            panel_roles: strings(panel_roles),
            org: org(o).info,
            interests: Vec::new(),
        },
    }
}

const EVIDENCE: &str = "doc-evidence";
const CONTRACT: &str = "doc-contract";

/// Everything any event of an Elm Practice v `respondent` dispute needs.
fn facts_against(respondent: u128) -> Facts {
    let mut f = Facts::new(org(ELM), org(respondent));
    f.people = [
        MEDIATOR,
        CLINICAL,
        GP,
        LMC_REP,
        SECRETARY,
        KENT_MEDIATOR,
        OFFICER,
    ]
    .into_iter()
    .map(person)
    .collect();
    f.documents = vec![
        Document {
            id: EVIDENCE.into(),
            name: "bundle.pdf".into(),
            kind: DocumentKind::Evidence,
        },
        Document {
            id: CONTRACT.into(),
            name: "gms.pdf".into(),
            kind: DocumentKind::Contract,
        },
    ];
    f.fhsu_in_directory = true;
    f
}

fn facts() -> Facts {
    facts_against(NORTH_CCG)
}

fn sender(org_n: u128, case_secretary: bool) -> Sender {
    Sender {
        org_id: id(org_n),
        case_secretary,
    }
}

fn practice() -> Sender {
    sender(ELM, false)
}

fn secretary() -> Sender {
    sender(SOUTH_CCG, true)
}

/// Elm Practice files against `respondent` on Monday 2 March 2026.
fn filed_against(respondent: u128, contract_related: bool) -> Dispute {
    let body = json!({"title": "Prescribing budget 2025/26", "category": "prescribing",
        "appellant_id": id(ELM), "respondent_id": id(respondent), "summary": "s",
        "matter_arose_on": "2025-06-01", "contract_related": contract_related});
    let f = Filing::parse(body.as_object().unwrap(), &id(ELM), date(MONDAY)).unwrap();
    let sides = filing::sides(&org(ELM), &org(respondent)).unwrap();
    let now = date(MONDAY).and_hms_opt(9, 0, 0).unwrap();
    Dispute::file(
        f,
        sides,
        Some(id(LMC_NORTH)),
        id(900),
        id(1000),
        now,
        &Calendar::computed(),
    )
}

fn filed() -> Dispute {
    filed_against(NORTH_CCG, true)
}

/// Decides the event `body` (with its `type`), as `who` on `today`, with `facts`; the event
/// must be one the workflow allows in the dispute's state.
fn decide_with(
    d: &Dispute,
    body: Value,
    who: &Sender,
    facts: &Facts,
    today: &str,
) -> Result<Decision, Refusal> {
    let env = Envelope::parse(&body).expect("an event body");
    let t = workflow::transition(env.event);
    assert!(t.from.contains(&d.state), "{} in {}", env.event, d.state);
    let event = Event::parse(env.event, env.body).unwrap_or_else(|p| panic!("{body}: {p:?}"));
    decide(d, &event, who, facts, date(today), &Calendar::computed())
}

fn try_event(d: &Dispute, body: Value, who: &Sender, today: &str) -> Result<Decision, Refusal> {
    decide_with(d, body, who, &facts(), today)
}

#[track_caller]
fn ok(d: &Dispute, body: Value, who: &Sender, today: &str) -> Decision {
    try_event(d, body.clone(), who, today).unwrap_or_else(|r| panic!("{body}: {r:?}"))
}

/// The code and detail of a rule refusal.
#[track_caller]
fn rule(r: Result<Decision, Refusal>) -> (&'static str, String, Vec<Violation>) {
    match r {
        Err(Refusal::Rules {
            code,
            detail,
            violations,
        }) => (code, detail, violations),
        other => panic!("not a rule refusal: {other:?}"),
    }
}

/// The (field, message) of each field problem.
#[track_caller]
fn fields(r: Result<Decision, Refusal>) -> Vec<(String, String)> {
    match r {
        Err(Refusal::Fields(p)) => p.into_iter().map(|p| (p.field, p.message)).collect(),
        other => panic!("not a field refusal: {other:?}"),
    }
}

fn panel_body() -> Value {
    json!({"type": "appoint_panel", "clinical_member_id": id(CLINICAL), "gp_conciliator_id": id(GP),
        "lmc_representative_id": id(LMC_REP), "secretary_id": id(SECRETARY), "chair_id": id(GP)})
}

fn schedule_body(day: &str) -> Value {
    json!({"type": "schedule_hearing", "date": day, "time": "10:00", "venue": "County Hall"})
}

fn votes(a: &str, b: &str, c: &str) -> Value {
    json!([{"member_id": id(CLINICAL), "vote": a}, {"member_id": id(GP), "vote": b},
        {"member_id": id(LMC_REP), "vote": c}])
}

/// The main path, one step per state: (event, sender, today).
fn walk_steps() -> Vec<(Value, Sender, &'static str)> {
    vec![
        (
            json!({"type": "assign_mediator", "mediator_id": id(MEDIATOR), "mode": "mediation"}),
            sender(LMC_NORTH, false),
            MONDAY,
        ),
        (
            json!({"type": "exhaust_informal", "reason": "No agreement"}),
            sender(LMC_NORTH, false),
            MONDAY,
        ),
        (
            json!({"type": "request_formal", "grounds": "g", "lodged_on": MONDAY}),
            practice(),
            MONDAY,
        ),
        (
            json!({"type": "record_lmc_consultation", "consulted_on": MONDAY, "summary": "s"}),
            sender(NORTH_CCG, false),
            MONDAY,
        ),
        (
            json!({"type": "screen", "outcome": "proceed", "reason": "r"}),
            sender(NORTH_CCG, false),
            MONDAY,
        ),
        (panel_body(), secretary(), MONDAY),
        (schedule_body(HEARING), secretary(), MONDAY),
        (
            json!({"type": "record_hearing", "held_on": HEARING, "appellant_presented": true,
            "respondent_presented": true, "record": "Heard both"}),
            secretary(),
            HEARING,
        ),
        (
            json!({"type": "record_decision", "votes": votes("appellant", "appellant", "respondent"),
            "recommendations": "Restore"}),
            secretary(),
            HEARING,
        ),
        (json!({"type": "notify_decision"}), secretary(), HEARING),
        (
            json!({"type": "refer_to_fhsu", "statement": "Please determine",
            "contract_document_id": CONTRACT, "referred_on": HEARING}),
            practice(),
            HEARING,
        ),
        (
            json!({"type": "record_fhsu_determination", "determined_on": HEARING, "outcome": "appellant", "summary": "Upheld"}),
            secretary(),
            HEARING,
        ),
    ]
}

/// `d` walked along the main path until it is in `state` (or to the end, when it never is).
fn walk(mut d: Dispute, state: State) -> Dispute {
    for (body, who, today) in walk_steps() {
        if d.state == state {
            break;
        }
        d = ok(&d, body, &who, today).dispute;
    }
    d
}

/// A practice v commissioner contract dispute, filed on Monday 2 March 2026 and walked to
/// `state` (the first time the main path reaches it).
pub(crate) fn dispute_at(state: State) -> Dispute {
    let d = walk(filed(), state);
    assert_eq!(d.state, state, "the main path does not pass {state}");
    d
}

// ------------------------------------------------------------------------------ the walk

#[test]
fn the_main_path_visits_every_state_and_each_event_adds_one_version() {
    let mut d = filed();
    let mut states = vec![d.state];
    for (body, who, today) in walk_steps() {
        let event = Envelope::parse(&body).unwrap().event;
        let decision = ok(&d, body, &who, today);
        assert_eq!(decision.dispute.version, d.version + 1);
        // Each event sends the notice of its row in the table, and no other.
        let sent: Vec<&str> = decision.notices.iter().map(|n| n.notice.template).collect();
        let mut expected: Vec<&str> = notices::of_event(event)
            .map(|n| n.template)
            .into_iter()
            .collect();
        // A request screened to proceed awaits a panel: the panel secretaries are told too.
        if event == EventType::Screen {
            expected.push(notices::AWAITING_PANEL.template);
        }
        assert_eq!(sent, expected, "{event}");
        d = decision.dispute;
        states.push(d.state);
    }
    states.dedup();
    use State::*;
    assert_eq!(
        states,
        [
            Informal,
            InformalMediation,
            InformalExhausted,
            FormalRequested,
            PanelForming,
            PanelAppointed,
            HearingScheduled,
            HearingHeld,
            Decided,
            DecisionNotified,
            ReferredToFhsu,
            Closed
        ]
    );
    assert_eq!(d.next_sweep_on, None);
    // The detail written reads back.
    let detail = crate::domain::dispute::Detail::decode(&d.detail.encode()).unwrap();
    assert_eq!(detail, d.detail);
    let determination = detail.fhsu_determination.unwrap();
    assert_eq!(
        (determination.outcome, determination.summary.as_str()),
        (
            Some(crate::domain::dispute::FhsuOutcome::Appellant),
            "Upheld"
        )
    );
}

// ------------------------------------------------------------------------------ stage 1

#[test]
fn a_mediator_of_the_disputes_own_lmc_takes_the_case() {
    let d = filed();
    let mediator = sender(LMC_NORTH, false);
    let body =
        |who: &str| json!({"type": "assign_mediator", "mediator_id": who, "mode": "advisory"});
    let dec = ok(&d, body(&id(MEDIATOR)), &mediator, MONDAY);
    assert_eq!(dec.dispute.state, State::InformalMediation);
    assert_eq!(dec.dispute.mediator_id(), Some(id(MEDIATOR).as_str()));
    assert_eq!(
        Value::Object(dec.data),
        json!({"mediator_id": id(MEDIATOR), "mode": "advisory"})
    );
    let n = &dec.notices[0];
    assert_eq!(n.notice.template, "mediator_assigned");
    assert_eq!(
        n.notice.to,
        [
            Recipient::Appellant,
            Recipient::Respondent,
            Recipient::Mediator,
            Recipient::Lmc
        ]
    );
    assert_eq!(
        n.context,
        json!({"mediator_name": "Mia Mediator", "mode": "advisory"})
    );

    let refused = |who: &str, facts: &Facts, d: &Dispute| {
        fields(decide_with(d, body(who), &mediator, facts, MONDAY))
    };
    let active = vec![(
        "mediator_id".to_string(),
        "must name an active LMC mediator".to_string(),
    )];
    assert_eq!(refused("no-such-user", &facts(), &d), active);
    assert_eq!(refused(&id(GP), &facts(), &d), active);
    let mut inactive = facts();
    inactive
        .people
        .iter_mut()
        .for_each(|p| p.candidate.active = false);
    assert_eq!(refused(&id(MEDIATOR), &inactive, &d), active);
    let other_lmc = vec![(
        "mediator_id".to_string(),
        "must name an LMC mediator of this dispute's LMC".to_string(),
    )];
    assert_eq!(refused(&id(KENT_MEDIATOR), &facts(), &d), other_lmc);
    let no_lmc = Dispute {
        lmc_id: None,
        ..d.clone()
    };
    assert_eq!(refused(&id(MEDIATOR), &facts(), &no_lmc), other_lmc);
}

#[test]
fn the_mediator_resolves_or_exhausts_the_informal_stage() {
    let d = dispute_at(State::InformalMediation);
    let mediator = sender(LMC_NORTH, false);
    let dec = ok(
        &d,
        json!({"type": "resolve_informally", "summary": "Settled"}),
        &mediator,
        "2026-03-04",
    );
    assert_eq!(dec.dispute.state, State::Resolved);
    assert_eq!(dec.dispute.detail.resolution.as_deref(), Some("Settled"));
    assert_eq!(dec.notices[0].notice.template, "informal_resolved");
    assert_eq!(dec.dispute.next_sweep_on, None);
    let dec = ok(
        &d,
        json!({"type": "exhaust_informal", "reason": "No"}),
        &mediator,
        "2026-03-04",
    );
    assert_eq!(dec.dispute.state, State::InformalExhausted);
    assert_eq!(dec.dispute.detail.exhausted_on, Some(date("2026-03-04")));
    assert_eq!(Value::Object(dec.data), json!({"reason": "No"}));
    assert_eq!(dec.notices[0].context, json!({"reason": "No"}));
}

// ------------------------------------------------------------------------------ stage 2: formal

#[test]
fn lodging_sets_the_twenty_working_day_deadline() {
    let d = dispute_at(State::InformalExhausted);
    let dec = ok(
        &d,
        json!({"type": "request_formal", "grounds": "g", "lodged_on": MONDAY}),
        &practice(),
        MONDAY,
    );
    let dl = &dec.dispute.deadlines;
    // 20 working days after Monday 2 March 2026: Monday 30 March.
    assert_eq!(
        (dl.hearing_by, dl.notice_by, dl.bundle_by),
        (
            Some(date("2026-03-30")),
            Some(date("2026-03-18")),
            Some(date("2026-03-20"))
        )
    );
    assert_eq!(dec.dispute.detail.requested_by_org, Some(id(ELM)));
    assert_eq!(
        Value::Object(dec.data),
        json!({"grounds": "g", "lodged_on": MONDAY, "hearing_by": "2026-03-30"})
    );
    let n = &dec.notices[0];
    assert_eq!(n.notice.to[0], Recipient::AccountableOfficers);
    assert_eq!(n.context["requested_by_name"], "Elm Practice");
    assert_eq!(n.context["hearing_by"], "2026-03-30");
    assert_eq!(dec.dispute.next_sweep_on, Some(date("2026-03-13")));
    let lodged = |on: &str, today: &str| {
        fields(try_event(
            &d,
            json!({"type": "request_formal", "grounds": "g", "lodged_on": on}),
            &practice(),
            today,
        ))
    };
    assert_eq!(
        lodged("2026-03-03", MONDAY),
        [("lodged_on".into(), "must not be in the future".into())]
    );
    assert_eq!(
        lodged("2026-02-27", MONDAY),
        [(
            "lodged_on".into(),
            "must not be before the informal stage was exhausted".into()
        )]
    );
}

#[test]
fn screening_out_needs_the_lmc_consulted_first() {
    let d = dispute_at(State::FormalRequested);
    let officer = sender(NORTH_CCG, false);
    let screen = |outcome: &str| json!({"type": "screen", "outcome": outcome, "reason": "r"});
    for outcome in ["frivolous", "vexatious"] {
        let (code, detail, violations) = rule(try_event(&d, screen(outcome), &officer, MONDAY));
        assert_eq!(code, "lmc_not_consulted");
        assert_eq!(detail, format!("A request may be screened out as {outcome} only after the LMC has been consulted: record the consultation first."));
        assert_eq!(violations.len(), 1);
    }
    assert_eq!(
        fields(try_event(
            &d,
            json!({"type": "record_lmc_consultation", "consulted_on": "2027-01-01", "summary": "s"}),
            &officer,
            MONDAY
        )),
        [("consulted_on".into(), "must not be in the future".into())]
    );
    let consulted = ok(
        &d,
        json!({"type": "record_lmc_consultation", "consulted_on": MONDAY, "summary": "s"}),
        &officer,
        MONDAY,
    );
    assert!(consulted.notices.is_empty());
    assert_eq!(consulted.dispute.state, State::FormalRequested);
    let rejected = ok(&consulted.dispute, screen("vexatious"), &officer, MONDAY);
    assert_eq!(rejected.dispute.state, State::Rejected);
    assert_eq!(rejected.notices[0].context["hearing_by"], Value::Null);
    assert_eq!(rejected.notices.len(), 1);
    let proceeds = ok(&consulted.dispute, screen("proceed"), &officer, MONDAY);
    assert_eq!(proceeds.dispute.state, State::PanelForming);
    assert_eq!(proceeds.notices[0].context["hearing_by"], "2026-03-30");
    // The panel secretaries are told that the case awaits a panel.
    let awaiting = &proceeds.notices[1];
    assert_eq!(
        (awaiting.notice.template, awaiting.notice.to),
        ("awaiting_panel", &[Recipient::PanelSecretaries][..])
    );
    assert_eq!(awaiting.context["hearing_by"], "2026-03-30");
    assert_eq!(
        Value::Object(proceeds.data),
        json!({"outcome": "proceed", "reason": "r"})
    );
}

#[test]
fn the_panel_is_appointed_only_when_every_composition_rule_holds() {
    let d = dispute_at(State::PanelForming);
    let bad = json!({"type": "appoint_panel", "clinical_member_id": id(OFFICER), "gp_conciliator_id": id(GP),
        "lmc_representative_id": id(MEDIATOR), "secretary_id": id(SECRETARY), "chair_id": id(SECRETARY)});
    let (code, detail, violations) = rule(try_event(&d, bad, &secretary(), MONDAY));
    assert_eq!(code, "panel_composition_invalid");
    assert_eq!(
        detail,
        format!("The panel breaks {} composition rule(s).", violations.len())
    );
    let rules: Vec<&str> = violations.iter().map(|v| v.rule).collect();
    for expected in [
        "clinical_member_role",
        "clinical_member_party_commissioner",
        "lmc_representative_role",
        "member_was_mediator",
        "chair_not_member",
    ] {
        assert!(rules.contains(&expected), "{expected} not in {rules:?}");
    }
    let unknown = json!({"type": "appoint_panel", "clinical_member_id": "x", "gp_conciliator_id": "y",
        "lmc_representative_id": "z", "secretary_id": "s", "chair_id": "c"});
    let (_, _, violations) = rule(try_event(&d, unknown, &secretary(), MONDAY));
    assert_eq!(
        violations
            .iter()
            .filter(|v| v.rule == "member_unknown")
            .count(),
        4
    );

    let dec = ok(&d, panel_body(), &secretary(), MONDAY);
    assert_eq!(dec.dispute.state, State::PanelAppointed);
    assert_eq!(
        dec.dispute.voting_members(),
        [id(CLINICAL), id(GP), id(LMC_REP)]
    );
    assert_eq!(dec.dispute.chair_id(), Some(id(GP).as_str()));
    assert_eq!(dec.data.len(), 5);
    assert_eq!(
        dec.notices[0].context,
        json!({"members": [{"name": "Dr Clinical", "role_label": "Clinical member"},
            {"name": "Dr Conciliator", "role_label": "GP conciliator"},
            {"name": "Lee Representative", "role_label": "LMC representative"}],
            "chair_name": "Dr Conciliator", "secretary_name": "Sam Secretary", "hearing_by": "2026-03-30"})
    );
}

// ------------------------------------------------------------------------------ stage 2: hearing

#[test]
fn notice_the_seventh_versus_the_eighth_working_day() {
    let d = dispute_at(State::PanelAppointed);
    // Notice Monday 2 March: the 7th working day after is Wednesday 11 March.
    let (code, detail, _) = rule(try_event(
        &d,
        schedule_body("2026-03-11"),
        &secretary(),
        MONDAY,
    ));
    assert_eq!(code, "insufficient_notice");
    assert!(detail.contains("Thursday 12 March 2026"), "{detail}");
    let dec = ok(&d, schedule_body("2026-03-12"), &secretary(), MONDAY);
    let h = dec.dispute.hearing.as_ref().unwrap();
    assert_eq!(
        (h.date, h.notice_sent_on, h.sequence),
        (date("2026-03-12"), date(MONDAY), 0)
    );
    assert_eq!(
        Value::Object(dec.data),
        json!({"date": "2026-03-12", "time": "10:00", "venue": "County Hall", "sequence": 0})
    );
    let n = &dec.notices[0];
    assert_eq!(n.notice.calendar, Some(CalendarMethod::Request));
    assert_eq!(
        n.context,
        json!({"hearing_date": "2026-03-12", "hearing_time": "10:00", "venue": "County Hall",
        "is_update": false, "bundle_by": "2026-03-04"})
    );
    let refused = |day: &str| fields(try_event(&d, schedule_body(day), &secretary(), MONDAY));
    assert_eq!(
        refused("2026-03-14"),
        [(
            "date".into(),
            "must be a working day (not a weekend or bank holiday)".into()
        )]
    );
    assert_eq!(
        refused(MONDAY),
        [("date".into(), "must be after today".into())]
    );
}

#[test]
fn the_hearing_deadline_and_its_override() {
    let d = dispute_at(State::PanelAppointed);
    let late = schedule_body("2026-03-31");
    let (code, detail, _) = rule(try_event(&d, late.clone(), &secretary(), MONDAY));
    assert_eq!(code, "hearing_after_deadline");
    assert_eq!(detail, "The hearing must be on or before Monday 30 March 2026 (20 working days after the formal request). To go ahead anyway, send override_reason saying why: it is recorded as an overridden breach.");
    ok(&d, schedule_body("2026-03-30"), &secretary(), MONDAY);
    let mut with_reason = late.clone();
    with_reason["override_reason"] = json!("Chair unavailable until then; parties agreed");
    // Someone other than the case's secretary: refused, and told who may override.
    let (_, detail, _) = rule(try_event(
        &d,
        with_reason.clone(),
        &sender(SOUTH_CCG, false),
        MONDAY,
    ));
    assert!(
        detail.ends_with(" Only the panel's secretary may override this (with override_reason), recorded as a breach."),
        "{detail}"
    );
    let dec = ok(&d, with_reason, &secretary(), MONDAY);
    assert_eq!(dec.breaches.len(), 1);
    let b = &dec.breaches[0];
    assert_eq!(
        (b.kind, b.due_on, b.detected_on, b.overridden),
        (
            "hearing_after_deadline",
            date("2026-03-30"),
            date(MONDAY),
            true
        )
    );
    assert!(b.detail.ends_with(
        "Overridden by the panel secretary: Chair unavailable until then; parties agreed"
    ));
    assert_eq!(
        dec.data["override"],
        json!({"reason": "Chair unavailable until then; parties agreed", "rules": ["hearing_after_deadline"]})
    );
    // An override with nothing to override records nothing.
    let mut needless = schedule_body("2026-03-30");
    needless["override_reason"] = json!("just in case");
    let dec = ok(&d, needless, &secretary(), MONDAY);
    assert!(dec.breaches.is_empty() && !dec.data.contains_key("override"));
}

#[test]
fn an_unavailable_panel_member_blocks_the_date_unless_overridden() {
    let d = dispute_at(State::PanelAppointed);
    let mut f = facts();
    f.unavailable = vec!["Lee Representative".into()];
    let (code, detail, _) = rule(decide_with(
        &d,
        schedule_body("2026-03-17"),
        &secretary(),
        &f,
        MONDAY,
    ));
    assert_eq!(code, "panel_member_unavailable");
    assert_eq!(detail, "1 of the panel recorded that they cannot sit on Tuesday 17 March 2026: Lee Representative. To go ahead anyway, send override_reason saying why: it is recorded as an overridden breach.");
    let mut body = schedule_body("2026-03-31");
    body["override_reason"] = json!("agreed");
    let dec = decide_with(&d, body, &secretary(), &f, MONDAY).unwrap();
    let kinds: Vec<&str> = dec.breaches.iter().map(|b| b.kind).collect();
    assert_eq!(
        kinds,
        ["hearing_after_deadline", "panel_member_unavailable"]
    );
}

#[test]
fn rescheduling_stays_scheduled_and_raises_the_sequence() {
    let d = dispute_at(State::HearingScheduled);
    let body = json!({"type": "schedule_hearing", "date": "2026-03-17", "time": "14:30", "venue": "Town Hall"});
    let dec = ok(&d, body, &secretary(), MONDAY);
    assert_eq!(dec.dispute.state, State::HearingScheduled);
    assert_eq!(dec.dispute.hearing.as_ref().unwrap().sequence, 1);
    assert_eq!(dec.dispute.deadlines.decision_by, Some(date("2026-03-24")));
    assert_eq!(
        dec.data["previous"],
        json!({"date": HEARING, "time": "10:00", "venue": "County Hall"})
    );
    assert_eq!(dec.notices[0].context["is_update"], true);
}

#[test]
fn a_new_time_or_venue_on_the_same_day_keeps_the_notice_given() {
    let d = dispute_at(State::HearingScheduled);
    let given = d.hearing.as_ref().unwrap().notice_sent_on;
    // Tuesday 10 March, four working days before the hearing: too late to give notice of a
    // new date, not to change the room or the time of the same day.
    let same_day = json!({"type": "schedule_hearing", "date": HEARING, "time": "14:00", "venue": "Room 2, County Hall"});
    let dec = ok(&d, same_day, &secretary(), "2026-03-10");
    assert!(dec.breaches.is_empty(), "{:?}", dec.breaches);
    let h = dec.dispute.hearing.as_ref().unwrap();
    assert_eq!((h.notice_sent_on, h.sequence), (given, 1));
    assert_eq!(h.venue, "Room 2, County Hall");
    assert_eq!(dec.notices[0].context["is_update"], true);
    assert!(!dec.data.contains_key("override"));
    let other_day = json!({"type": "schedule_hearing", "date": "2026-03-17", "time": "14:00", "venue": "County Hall"});
    assert_eq!(
        rule(try_event(&d, other_day, &secretary(), "2026-03-10")).0,
        "insufficient_notice"
    );
}

#[test]
fn the_bundle_goes_five_clear_working_days_before_the_hearing() {
    let d = ok(
        &dispute_at(State::PanelAppointed),
        schedule_body("2026-03-12"),
        &secretary(),
        MONDAY,
    )
    .dispute;
    let body = json!({"type": "distribute_bundle", "document_ids": [EVIDENCE]});
    let (code, detail, _) = rule(try_event(&d, body.clone(), &secretary(), "2026-03-05"));
    assert_eq!(code, "bundle_too_late");
    assert_eq!(detail, "The bundle must reach everyone at least 5 working days before the hearing on Thursday 12 March 2026: the last day was Wednesday 4 March 2026. To go ahead anyway, send override_reason saying why: it is recorded as an overridden breach.");
    let dec = ok(&d, body, &secretary(), "2026-03-04");
    assert_eq!(dec.dispute.bundle_distributed_on, Some(date("2026-03-04")));
    assert_eq!(
        dec.dispute.detail.bundle_document_ids,
        Some(vec![EVIDENCE.to_string()])
    );
    assert_eq!(
        dec.notices[0].context,
        json!({"hearing_date": "2026-03-12", "documents": [{"id": EVIDENCE, "name": "bundle.pdf", "kind": "evidence"}]})
    );
    assert_eq!(
        fields(try_event(
            &d,
            json!({"type": "distribute_bundle", "document_ids": ["nope", EVIDENCE]}),
            &secretary(),
            "2026-03-04"
        )),
        [(
            "document_ids".into(),
            "1 id(s) do not name a document of this dispute".into()
        )]
    );
}

#[test]
fn a_hearing_moved_after_the_bundle_went_out_must_still_have_it_in_time() {
    // Hearing on Thursday 19 March; the bundle went out on Wednesday 11 March, in time.
    let d = ok(
        &dispute_at(State::PanelAppointed),
        schedule_body("2026-03-19"),
        &secretary(),
        MONDAY,
    )
    .dispute;
    let body = json!({"type": "distribute_bundle", "document_ids": [EVIDENCE]});
    let d = ok(&d, body, &secretary(), "2026-03-11").dispute;
    // Moved on the 12th to Tuesday 17 March (short notice, overridden): the bundle should have
    // gone by Monday 9 March. Refused without a reason, a breach of its own with one.
    let mut moved = schedule_body("2026-03-17");
    let (code, _, violations) = rule(try_event(&d, moved.clone(), &secretary(), "2026-03-12"));
    assert_eq!(code, "insufficient_notice");
    let bundle: Vec<&Violation> = violations
        .iter()
        .filter(|v| v.rule == "bundle_too_late")
        .collect();
    assert_eq!(bundle.len(), 1, "{violations:?}");
    assert_eq!(bundle[0].message, "The bundle went out on Wednesday 11 March 2026: for a hearing on Tuesday 17 March 2026 it had to reach everyone by Monday 9 March 2026 (5 working days before).");
    moved["override_reason"] = json!("The chair is in hospital from the 18th.");
    let dec = ok(&d, moved, &secretary(), "2026-03-12");
    let kinds: Vec<&str> = dec.breaches.iter().map(|b| b.kind).collect();
    assert_eq!(kinds, ["insufficient_notice", "bundle_too_late"]);
    // Moved later instead, the bundle sent is early enough: nothing to override.
    let later = ok(&d, schedule_body("2026-03-26"), &secretary(), "2026-03-12");
    assert!(later.breaches.is_empty(), "{:?}", later.breaches);
}

#[test]
fn a_hearing_held_on_its_overridden_day_needs_no_second_override() {
    // The deadline is Monday 30 March; the hearing was set for Tuesday 31 March with a reason.
    let mut late = schedule_body("2026-03-31");
    late["override_reason"] = json!("The only day the panel can meet.");
    let d = ok(
        &dispute_at(State::PanelAppointed),
        late,
        &secretary(),
        MONDAY,
    )
    .dispute;
    let held = json!({"type": "record_hearing", "held_on": "2026-03-31", "appellant_presented": true,
        "respondent_presented": true, "record": "r"});
    let dec = ok(&d, held, &secretary(), "2026-03-31");
    assert!(dec.breaches.is_empty(), "{:?}", dec.breaches);
    assert!(!dec.data.contains_key("override"));
}

#[test]
fn the_chair_is_stored_as_the_seats_are_however_it_was_spelled() {
    let d = dispute_at(State::PanelForming);
    let mut body = panel_body();
    body["chair_id"] = json!(id(GP).to_uppercase());
    let dec = ok(&d, body, &secretary(), MONDAY);
    assert_eq!(dec.dispute.panel.unwrap().chair_id, id(GP));
}

#[test]
fn the_hearing_is_recorded_within_the_deadline_and_sets_the_decision_date() {
    let d = dispute_at(State::HearingScheduled);
    let body = |held: &str| {
        json!({"type": "record_hearing", "held_on": held, "appellant_presented": true,
        "respondent_presented": false, "record": "r"})
    };
    assert_eq!(
        fields(try_event(&d, body("2026-03-17"), &secretary(), HEARING)),
        [("held_on".into(), "must not be in the future".into())]
    );
    assert_eq!(
        fields(try_event(&d, body("2026-02-27"), &secretary(), HEARING)),
        [(
            "held_on".into(),
            "must not be before the formal request was lodged".into()
        )]
    );
    let (code, detail, _) = rule(try_event(
        &d,
        body("2026-03-31"),
        &secretary(),
        "2026-04-01",
    ));
    assert_eq!(
        (code, detail.as_str()),
        (
            "hearing_after_deadline",
            "The hearing had to be held on or before Monday 30 March 2026. To go ahead anyway, \
             send override_reason saying why: it is recorded as an overridden breach."
        )
    );
    let dec = ok(&d, body(HEARING), &secretary(), HEARING);
    assert_eq!(dec.dispute.state, State::HearingHeld);
    assert_eq!(dec.dispute.deadlines.decision_by, Some(date("2026-03-23")));
    assert_eq!(
        Value::Object(dec.data),
        json!({"held_on": HEARING, "appellant_presented": true, "respondent_presented": false, "record": "r"})
    );
    assert!(dec.notices.is_empty());
}

#[test]
fn the_hearing_is_recorded_on_its_scheduled_day_unless_the_secretary_says_why() {
    let d = dispute_at(State::HearingScheduled);
    let body = |held: &str, reason: Option<&str>| {
        let mut b = json!({"type": "record_hearing", "held_on": held,
            "appellant_presented": true, "respondent_presented": true, "record": "r"});
        if let Some(r) = reason {
            b["override_reason"] = json!(r);
        }
        b
    };
    // A day early (the day a panel member may have said they could not sit): refused, with
    // the scheduled day and the way to record another one.
    let (code, detail, violations) = rule(try_event(
        &d,
        body("2026-03-13", None),
        &secretary(),
        HEARING,
    ));
    assert_eq!(code, "held_not_as_scheduled");
    assert_eq!(
        detail,
        "The hearing was scheduled for Monday 16 March 2026: record it as held on that day, or, \
         if it was held on Friday 13 March 2026 instead, send override_reason saying why."
    );
    assert_eq!(violations.len(), 1);
    // Only the case's secretary may give the reason.
    let (code, detail, _) = rule(try_event(
        &d,
        body("2026-03-13", Some("moved")),
        &sender(SOUTH_CCG, false),
        HEARING,
    ));
    assert_eq!(code, "held_not_as_scheduled");
    assert!(detail.ends_with("Only the panel's secretary may override this (with override_reason), recorded as a breach."));
    // With the secretary's reason: held that day, recorded as an override, the decision due
    // seven days after the day it was held.
    let dec = ok(
        &d,
        body(
            "2026-03-13",
            Some("Brought forward at both parties' request"),
        ),
        &secretary(),
        HEARING,
    );
    assert_eq!(dec.dispute.held_on, Some(date("2026-03-13")));
    assert_eq!(dec.dispute.deadlines.decision_by, Some(date("2026-03-20")));
    assert_eq!(dec.breaches.len(), 1);
    let b = &dec.breaches[0];
    assert_eq!(
        (b.kind, b.due_on, b.overridden),
        ("held_not_as_scheduled", date("2026-03-16"), true)
    );
    assert_eq!(
        dec.data["override"]["rules"],
        json!(["held_not_as_scheduled"])
    );
    // On the scheduled day, nothing to override.
    let dec = ok(&d, body(HEARING, None), &secretary(), HEARING);
    assert!(dec.breaches.is_empty());
    assert_eq!(dec.dispute.held_on, Some(date(HEARING)));
}

#[test]
fn withdrawing_a_scheduled_hearing_cancels_the_invitation() {
    let d = dispute_at(State::HearingScheduled);
    let dec = ok(
        &d,
        json!({"type": "withdraw", "reason": "Settled"}),
        &practice(),
        "2026-03-05",
    );
    assert_eq!(dec.dispute.state, State::Withdrawn);
    assert_eq!(
        dec.dispute.detail.withdrawal.as_ref().unwrap().withdrawn_on,
        date("2026-03-05")
    );
    let templates: Vec<&str> = dec.notices.iter().map(|n| n.notice.template).collect();
    assert_eq!(templates, ["dispute_withdrawn", "hearing_cancelled"]);
    assert_eq!(dec.notices[0].context["withdrawn_by_name"], "Elm Practice");
    let cancel = &dec.notices[1];
    assert_eq!(cancel.notice.calendar, Some(CalendarMethod::Cancel));
    assert_eq!(
        cancel.context,
        json!({"hearing_date": HEARING, "hearing_time": "10:00", "venue": "County Hall", "reason": "Settled"})
    );
    assert_eq!(dec.dispute.hearing.as_ref().unwrap().sequence, 1);
    assert_eq!(dec.dispute.next_sweep_on, None);
    // Before a hearing is scheduled there is nothing to cancel.
    let early = ok(
        &filed(),
        json!({"type": "withdraw", "reason": "r"}),
        &practice(),
        MONDAY,
    );
    assert_eq!(early.notices.len(), 1);
}

// ------------------------------------------------------------------------------ stage 2: decision

#[test]
fn the_decision_is_the_majoritys() {
    let d = dispute_at(State::HearingHeld);
    let decision = |v: Value, extra: Value| {
        let mut body = json!({"type": "record_decision", "votes": v});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        try_event(&d, body, &secretary(), HEARING)
    };
    let (code, detail, _) = rule(decision(
        votes("appellant", "respondent", "abstain"),
        json!({}),
    ));
    assert_eq!(
        (code, detail.as_str()),
        (
            "no_majority",
            "No outcome has the votes of a majority (2 of 3) of the voting members."
        )
    );
    assert_eq!(
        fields(decision(
            json!([{"member_id": id(CLINICAL), "vote": "appellant"}]),
            json!({})
        )),
        [("votes".into(), "every voting member must vote once".into())]
    );
    let stranger = json!([{"member_id": "x", "vote": "appellant"}, {"member_id": id(CLINICAL), "vote": "appellant"},
        {"member_id": id(CLINICAL), "vote": "appellant"}, {"member_id": id(GP), "vote": "appellant"}]);
    assert_eq!(
        fields(decision(stranger, json!({}))),
        [
            (
                "votes".into(),
                "x is not a voting member of this panel".into()
            ),
            ("votes".into(), "a member voted more than once".into()),
            ("votes".into(), "every voting member must vote once".into()),
        ]
    );
    assert_eq!(
        fields(decision(
            votes("respondent", "respondent", "appellant"),
            json!({"outcome": "appellant"})
        )),
        [(
            "outcome".into(),
            "does not match the votes: the majority found for the respondent".into()
        )]
    );
    let dec = decision(
        votes("respondent", "respondent", "appellant"),
        json!({"recommendations": "None"}),
    )
    .unwrap();
    assert_eq!(dec.dispute.state, State::Decided);
    assert_eq!(dec.dispute.decided_on, Some(date(HEARING)));
    assert_eq!(
        Value::Object(dec.data),
        json!({"votes": votes("respondent", "respondent", "appellant"), "outcome": "respondent", "recommendations": "None"})
    );
}

#[test]
fn the_written_decision_within_seven_days_unless_the_secretary_overrides() {
    let d = dispute_at(State::Decided);
    let chair = sender(BIRCH, false);
    let notify = json!({"type": "notify_decision"});
    let with_reason = json!({"type": "notify_decision", "override_reason": "x"});
    // Hearing on Monday 16 March: due by Monday 23 March, inclusive.
    let (code, detail, _) = rule(try_event(&d, notify.clone(), &chair, "2026-03-24"));
    assert_eq!((code, detail.as_str()), ("decision_late", "The written decision had to be sent by Monday 23 March 2026 (7 days after the hearing). Only the panel's secretary may go ahead anyway, by sending override_reason saying why (recorded as a breach)."));
    assert_eq!(
        rule(try_event(&d, with_reason.clone(), &chair, "2026-03-24")).0,
        "decision_late"
    );
    assert_eq!(
        ok(&d, with_reason, &secretary(), "2026-03-24").breaches[0].kind,
        "decision_late"
    );
    // Recorded, not yet sent: the decision's deadline is still the one to meet.
    use crate::domain::dispute::DeadlineKind;
    let next = d.deadline_facts().next_step().unwrap();
    assert_eq!(
        (next.kind, next.date, next.pending, next.done_on),
        (DeadlineKind::Decision, date("2026-03-23"), true, None)
    );
    let dec = ok(&d, notify, &chair, "2026-03-23");
    let steps = dec.dispute.deadline_facts().steps();
    let decision = steps
        .iter()
        .find(|s| s.kind == DeadlineKind::Decision)
        .unwrap();
    assert_eq!(
        (decision.pending, decision.done_on),
        (false, Some(date("2026-03-23")))
    );
    assert_eq!(dec.dispute.state, State::DecisionNotified);
    assert!(dec.data.is_empty());
    assert_eq!(
        dec.notices[0].context,
        json!({"outcome": "appellant", "recommendations": "Restore",
        "hearing_date": HEARING, "fhsu_by": "2028-05-31"})
    );
    assert_eq!(dec.dispute.next_sweep_on, Some(date("2028-04-01")));
}

// ------------------------------------------------------------------------------ stage 3

fn refer(referred_on: &str) -> Value {
    json!({"type": "refer_to_fhsu", "statement": "s", "contract_document_id": CONTRACT, "referred_on": referred_on})
}

#[test]
fn an_fhsu_referral_must_be_referable_in_time_and_complete() {
    let d = dispute_at(State::DecisionNotified);
    // Not dated before the decision it refers was sent (on the hearing's day in this walk).
    let early = json!({"type": "refer_to_fhsu", "statement": "s", "contract_document_id": CONTRACT, "referred_on": "2026-03-13"});
    assert_eq!(
        fields(try_event(&d, early, &practice(), HEARING)),
        [(
            "referred_on".into(),
            "must not be before Monday 16 March 2026, when the decision was sent".into()
        )]
    );
    let (code, _, violations) = rule(try_event(
        &d,
        json!({"type": "refer_to_fhsu", "referred_on": HEARING}),
        &practice(),
        HEARING,
    ));
    assert_eq!(code, "referral_incomplete");
    assert_eq!(violations[0].message, "The referral is incomplete: statement (what the FHSU is asked to determine); contract_document_id (the id of a document of kind contract uploaded to this dispute).");
    let evidence = json!({"type": "refer_to_fhsu", "statement": "s", "contract_document_id": EVIDENCE, "referred_on": HEARING});
    let (code, detail, _) = rule(try_event(&d, evidence, &practice(), HEARING));
    assert_eq!(code, "referral_incomplete");
    assert!(
        detail.contains("contract_document_id: doc-evidence (")
            && detail.ends_with("is a document of kind evidence, not contract."),
        "{detail}"
    );
    // No FHSU in the directory: refused with what an admin must do.
    let mut no_fhsu = facts();
    no_fhsu.fhsu_in_directory = false;
    let (_, detail, _) = rule(decide_with(
        &d,
        refer(HEARING),
        &practice(),
        &no_fhsu,
        HEARING,
    ));
    assert!(detail.contains("no organisation of kind fhsu"), "{detail}");
    // The matter arose on 2025-06-01: the last day is 2028-05-31.
    let (code, detail, _) = rule(try_event(
        &d,
        refer("2028-06-01"),
        &practice(),
        "2028-06-01",
    ));
    assert_eq!(code, "referral_out_of_time");
    assert_eq!(detail, "A referral had to be made by Wednesday 31 May 2028 (three years beginning on Sunday 1 June 2025).");
    assert_eq!(
        fields(try_event(&d, refer("2026-03-17"), &practice(), HEARING)),
        [("referred_on".into(), "must not be in the future".into())]
    );
    let dec = ok(&d, refer("2028-05-31"), &practice(), "2028-05-31");
    assert_eq!(dec.dispute.state, State::ReferredToFhsu);
    assert_eq!(
        Value::Object(dec.data),
        json!({"statement": "s", "contract_document_id": CONTRACT, "referred_on": "2028-05-31"})
    );
    assert_eq!(dec.notices[0].notice.to.last(), Some(&Recipient::Fhsu));
    assert_eq!(dec.notices[0].context["referred_by_name"], "Elm Practice");
    assert_eq!(
        dec.dispute.detail.fhsu_referral.unwrap().referred_by_org,
        id(ELM)
    );
}

#[test]
fn only_a_contract_matter_between_practice_and_commissioner_is_referable() {
    let officer = sender(NORTH_CCG, false);
    let screened_out = |d: Dispute| {
        let d = walk(d, State::FormalRequested);
        let consulted =
            json!({"type": "record_lmc_consultation", "consulted_on": MONDAY, "summary": "s"});
        let d = ok(&d, consulted, &officer, MONDAY).dispute;
        ok(
            &d,
            json!({"type": "screen", "outcome": "frivolous", "reason": "r"}),
            &officer,
            MONDAY,
        )
        .dispute
    };
    let not_contract = screened_out(filed_against(NORTH_CCG, false));
    let (code, _, violations) = rule(try_event(&not_contract, refer(MONDAY), &practice(), MONDAY));
    assert_eq!((code, violations.len()), ("not_contract_matter", 1));
    let inter = screened_out(filed_against(OAK, true));
    assert!(inter.inter_practice && inter.deadlines.fhsu_by.is_none());
    let (code, _, _) = rule(decide_with(
        &inter,
        refer(MONDAY),
        &practice(),
        &facts_against(OAK),
        MONDAY,
    ));
    assert_eq!(code, "inter_practice_not_referable");
    // A rejected contract matter may still go to the FHSU, and its screening notice says by
    // when; a matter that cannot go there says nothing of it.
    let screen_notice = |d: Dispute| {
        let d = walk(d, State::FormalRequested);
        let consulted =
            json!({"type": "record_lmc_consultation", "consulted_on": MONDAY, "summary": "s"});
        let d = ok(&d, consulted, &officer, MONDAY).dispute;
        let screen = json!({"type": "screen", "outcome": "frivolous", "reason": "r"});
        ok(&d, screen, &officer, MONDAY).notices[0].context["fhsu_by"].clone()
    };
    assert_eq!(screen_notice(filed()), json!("2028-05-31"));
    assert_eq!(screen_notice(filed_against(NORTH_CCG, false)), Value::Null);
    let rejected = screened_out(filed());
    assert_eq!(
        ok(&rejected, refer(MONDAY), &practice(), MONDAY)
            .dispute
            .state,
        State::ReferredToFhsu
    );
}

#[test]
fn the_determination_closes_the_case() {
    let d = dispute_at(State::ReferredToFhsu);
    let body = |on: &str| json!({"type": "record_fhsu_determination", "determined_on": on, "outcome": "partly", "summary": "Upheld in part"});
    assert_eq!(
        fields(try_event(&d, body("2026-03-17"), &secretary(), HEARING)),
        [("determined_on".into(), "must not be in the future".into())]
    );
    // Not before the referral it determines (made on the hearing's day in this walk).
    assert_eq!(
        fields(try_event(&d, body("2026-03-13"), &secretary(), HEARING)),
        [(
            "determined_on".into(),
            "must not be before Monday 16 March 2026, when the dispute was referred".into()
        )]
    );
    let dec = ok(&d, body(HEARING), &secretary(), HEARING);
    assert_eq!(
        (dec.dispute.state, dec.dispute.state.stage()),
        (State::Closed, None)
    );
    assert_eq!(
        dec.notices[0].context,
        json!({"determined_on": HEARING, "outcome": "partly", "summary": "Upheld in part"})
    );
}

#[test]
fn notes_change_nothing_but_the_version_and_close_records_why() {
    let d = dispute_at(State::PanelAppointed);
    let dec = ok(
        &d,
        json!({"type": "add_note", "text": "Met both sides"}),
        &practice(),
        MONDAY,
    );
    assert_eq!(
        Dispute {
            version: d.version,
            ..dec.dispute.clone()
        },
        d
    );
    assert!(dec.notices.is_empty() && dec.breaches.is_empty());
    assert_eq!(Value::Object(dec.data), json!({"text": "Met both sides"}));
    let exhausted = dispute_at(State::InformalExhausted);
    let dec = ok(
        &exhausted,
        json!({"type": "close", "reason": "Dropped"}),
        &secretary(),
        MONDAY,
    );
    assert_eq!(dec.dispute.state, State::Closed);
    assert_eq!(dec.dispute.detail.closure.unwrap().closed_on, date(MONDAY));
    assert_eq!(dec.notices[0].notice.template, "dispute_closed");
}

#[test]
fn the_sender_is_the_case_secretary_only_by_the_workflows_relation() {
    use crate::domain::roles::Role;
    let rel = |roles: Vec<Role>, panel_secretary: bool| Relations {
        roles,
        panel_secretary,
        can_see: true,
        ..Default::default()
    };
    assert!(Sender::new("o", &rel(vec![Role::PanelSecretary], true)).case_secretary);
    assert!(!Sender::new("o", &rel(vec![Role::PanelSecretary], false)).case_secretary);
    assert!(!Sender::new("o", &rel(vec![Role::Panelist], true)).case_secretary);
}
