//! The procedure end to end over HTTP, on both databases: one walk through every state, and
//! every error code of the SPEC provoked at its boundary.

mod common;

use common::world::*;
use common::{Db, TestApp};
use serde_json::json;

both_dbs!(
    an_interest_that_does_not_read_is_an_error_not_dropped,
    full_walk_through_every_state,
    stage_one_cannot_be_skipped,
    screening_needs_lmc_consultation_first,
    screening_out_rejects_and_contract_matter_may_still_go_to_fhsu,
    panel_composition_lists_every_violation,
    notice_seventh_versus_eighth_working_day,
    hearing_deadline_and_overrides,
    bundle_five_clear_working_days,
    decision_majority_and_lateness,
    fhsu_referral_rules,
    withdrawal_before_hearing_held_only,
    version_conflict_and_invalid_transition,
    idempotent_filing,
    filing_validation,
    a_write_on_a_moved_version_writes_nothing,
    a_stored_dispute_that_does_not_read_is_an_error_and_is_not_written_over,
    the_hearing_is_recorded_on_its_scheduled_day_unless_overridden,
    a_hearing_day_that_passes_unrecorded_is_a_breach_with_an_alert,
    a_new_venue_on_the_hearings_day_keeps_the_notice_given,
    refusals_say_how_to_put_them_right,
    a_referral_without_an_fhsu_in_the_directory_is_refused_saying_what_an_admin_must_do,
    the_filing_party_and_the_panel_secretaries_are_told_and_notices_link_the_case,
);

const MONDAY: &str = "2026-03-02";

/// A declared interest whose organisation's id does not read (not a UUID, as no version of the
/// service writes) is an error (500, the cause in the log), never dropped: dropped, the
/// conflict it declares would not stop the appointment. The case stays where it was; with the
/// row put right, the panel is appointed.
fn an_interest_that_does_not_read_is_an_error_not_dropped(db: Db) {
    use diesel::prelude::*;
    use ldr::db::schema::{interests, organisations};
    let Some((app, w)) = app(db) else { return };
    let id = w.case_at(&app, "panel_forming");
    let interest = uuid::Uuid::new_v4().to_string();
    {
        let mut c = ldr::db::checkout(&app.state.pool).unwrap();
        diesel::insert_into(organisations::table)
            .values((
                organisations::id.eq("legacy-elm"),
                organisations::name.eq("Elm Practice (old record)"),
                organisations::kind.eq("practice"),
                organisations::area.eq("North Essex"),
                organisations::region.eq("East"),
                organisations::email.eq(""),
                organisations::address.eq("1 Elm Street"),
                organisations::created_at.eq(ldr::db::now()),
                organisations::active.eq(false),
            ))
            .execute(&mut **c)
            .unwrap();
        diesel::insert_into(interests::table)
            .values((
                interests::id.eq(&interest),
                interests::user_id.eq(w.id(CLINICAL)),
                interests::organisation_id.eq("legacy-elm"),
                interests::nature.eq("Partner until 2024"),
                interests::declared_on.eq(chrono::NaiveDate::from_ymd_opt(2026, 1, 5).unwrap()),
                interests::created_at.eq(ldr::db::now()),
            ))
            .execute(&mut **c)
            .unwrap();
    }
    w.event(&app, SECRETARY, &id, w.panel_body())
        .expect_problem(500, "internal_error");
    let d = app
        .get(&format!("/api/v1/disputes/{id}"), Some(w.t(SECRETARY)))
        .expect(200);
    assert_eq!(d["state"], "panel_forming", "{d}");
    {
        let mut c = ldr::db::checkout(&app.state.pool).unwrap();
        diesel::delete(interests::table.find(&interest))
            .execute(&mut **c)
            .unwrap();
    }
    let d = w.ok(&app, SECRETARY, &id, w.panel_body());
    assert_eq!(d["state"], "panel_appointed", "{d}");
}

fn app(db: Db) -> Option<(TestApp, World)> {
    let app = TestApp::spawn_with(db, &[("LDR_TODAY", MONDAY)])?;
    let w = World::new(&app);
    Some((app, w))
}

fn full_walk_through_every_state(db: Db) {
    let Some((app, w)) = app(db) else { return };
    let id = w.file(&app, true);
    let d = app
        .get(&format!("/api/v1/disputes/{id}"), Some(w.t(PRACTICE)))
        .expect(200);
    assert_eq!(d["state"], "informal");
    assert_eq!(d["stage"], 1);
    assert_eq!(d["version"], 1);
    assert_eq!(d["deadlines"]["hearing_by"], serde_json::Value::Null);
    assert_eq!(d["deadlines"]["fhsu_by"], "2028-05-31");
    let mut states = vec!["informal".to_string()];
    let mut push = |v: serde_json::Value| states.push(v["state"].as_str().unwrap().to_string());
    push(w.ok(
        &app,
        MEDIATOR,
        &id,
        json!({"type": "assign_mediator", "mediator_id": w.id(MEDIATOR), "mode": "advisory"}),
    ));
    push(w.ok(
        &app,
        MEDIATOR,
        &id,
        json!({"type": "add_note", "text": "Met both sides"}),
    ));
    push(w.ok(
        &app,
        MEDIATOR,
        &id,
        json!({"type": "exhaust_informal", "reason": "No agreement"}),
    ));
    let d = w.ok(
        &app,
        COMMISSIONER,
        &id,
        json!({"type": "request_formal", "grounds": "g", "lodged_on": MONDAY}),
    );
    // 20 working days after Monday 2 March 2026 (no holidays): Monday 30 March.
    assert_eq!(d["deadlines"]["hearing_by"], "2026-03-30");
    assert_eq!(d["deadlines"]["notice_by"], "2026-03-18");
    assert_eq!(d["deadlines"]["bundle_by"], "2026-03-20");
    push(d);
    push(w.ok(
        &app,
        OFFICER,
        &id,
        json!({"type": "record_lmc_consultation", "consulted_on": MONDAY, "summary": "s"}),
    ));
    push(w.ok(
        &app,
        OFFICER,
        &id,
        json!({"type": "screen", "outcome": "proceed", "reason": "r"}),
    ));
    push(w.ok(&app, SECRETARY, &id, w.panel_body()));
    // The panel now sees the case; hearing options run from the 8th working day to the deadline.
    let opts = app
        .get(
            &format!("/api/v1/disputes/{id}/hearing-options"),
            Some(w.t(SECRETARY)),
        )
        .expect(200);
    assert_eq!(opts["dates"][0], "2026-03-12");
    assert_eq!(
        opts["dates"].as_array().unwrap().last().unwrap(),
        "2026-03-30"
    );
    push(w.ok(&app, SECRETARY, &id, json!({"type": "schedule_hearing", "date": "2026-03-16", "time": "10:00", "venue": "County Hall"})));
    // Re-scheduling stays in hearing_scheduled and raises the sequence.
    let d = w.ok(&app, SECRETARY, &id, json!({"type": "schedule_hearing", "date": "2026-03-17", "time": "14:30", "venue": "County Hall"}));
    assert_eq!(d["hearing"]["sequence"], 1);
    assert_eq!(d["deadlines"]["decision_by"], "2026-03-24");
    push(d);
    let doc = w
        .upload(
            &app,
            SECRETARY,
            &id,
            "evidence",
            "bundle.pdf",
            b"%PDF bundle",
        )
        .expect(201);
    push(w.ok(
        &app,
        SECRETARY,
        &id,
        json!({"type": "distribute_bundle", "document_ids": [doc["id"]]}),
    ));
    app.state
        .clock
        .set_today(Some("2026-03-17".parse().unwrap()));
    push(w.ok(
        &app,
        SECRETARY,
        &id,
        json!({"type": "record_hearing", "held_on": "2026-03-17",
        "appellant_presented": true, "respondent_presented": true, "record": "Heard both"}),
    ));
    push(w.ok(&app, SECRETARY, &id, json!({"type": "record_decision", "outcome": "appellant", "recommendations": "Restore",
        "votes": [{"member_id": w.id(CLINICAL), "vote": "appellant"}, {"member_id": w.id(GP), "vote": "appellant"},
                  {"member_id": w.id(LMC_REP), "vote": "respondent"}]})));
    // Votes and the hearing record are hidden from the parties until the decision is notified.
    let party_view = app
        .get(&format!("/api/v1/disputes/{id}"), Some(w.t(PRACTICE)))
        .expect(200);
    assert_eq!(party_view["decision"], serde_json::Value::Null);
    assert!(party_view["hearing"].get("record").is_none());
    let panel_view = app
        .get(&format!("/api/v1/disputes/{id}"), Some(w.t(GP)))
        .expect(200);
    assert_eq!(panel_view["decision"]["votes"].as_array().unwrap().len(), 3);
    let hist = app
        .get(
            &format!("/api/v1/disputes/{id}/events"),
            Some(w.t(PRACTICE)),
        )
        .expect(200);
    let dec = hist
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "record_decision")
        .unwrap();
    assert_eq!(dec["data"], json!({}));
    // The chair sends the decision.
    push(w.ok(&app, GP, &id, json!({"type": "notify_decision"})));
    let party_view = app
        .get(&format!("/api/v1/disputes/{id}"), Some(w.t(PRACTICE)))
        .expect(200);
    assert_eq!(party_view["decision"]["outcome"], "appellant");
    assert_eq!(party_view["decision"]["recommendations"], "Restore");
    assert!(party_view["decision"].get("votes").is_none());
    let contract = w
        .upload(&app, PRACTICE, &id, "contract", "gms.pdf", b"%PDF contract")
        .expect(201);
    push(w.ok(
        &app,
        PRACTICE,
        &id,
        json!({"type": "refer_to_fhsu", "statement": "Please determine",
        "contract_document_id": contract["id"], "referred_on": "2026-03-17"}),
    ));
    // The determination's outcome says who won: one of its values, listed when it is not.
    let p = w
        .event(&app, SECRETARY, &id, json!({"type": "record_fhsu_determination", "determined_on": "2026-03-17", "outcome": "Upheld", "summary": "Upheld"}))
        .expect_problem(422, "validation_failed");
    assert_eq!(p["errors"][0]["field"], "outcome", "{p}");
    assert_eq!(
        p["errors"][0]["message"], "must be one of: appellant, respondent, partly",
        "{p}"
    );
    let d = w.ok(&app, SECRETARY, &id, json!({"type": "record_fhsu_determination", "determined_on": "2026-03-17", "outcome": "appellant", "summary": "The FHSU upheld the panel's decision."}));
    assert_eq!(d["fhsu_determination"]["outcome"], "appellant", "{d}");
    assert_eq!(
        d["fhsu_determination"]["summary"],
        "The FHSU upheld the panel's decision."
    );
    let determination = notice_texts(&app, &id, "fhsu_determination");
    assert!(
        determination[0].contains("Outcome: In favour of the appellant, Elm Practice."),
        "{determination:?}"
    );
    assert_eq!(d["stage"], serde_json::Value::Null);
    push(d);
    let mut seen = states.clone();
    seen.dedup();
    assert_eq!(
        seen,
        vec![
            "informal",
            "informal_mediation",
            "informal_exhausted",
            "formal_requested",
            "panel_forming",
            "panel_appointed",
            "hearing_scheduled",
            "hearing_held",
            "decided",
            "decision_notified",
            "referred_to_fhsu",
            "closed"
        ]
    );
    // The history: append-only, one row per event, in order.
    let hist = app
        .get(&format!("/api/v1/disputes/{id}/events"), Some(w.t("admin")))
        .expect(200);
    let seqs: Vec<i64> = hist
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>());
    assert_eq!(hist[0]["type"], "file");
    assert_eq!(
        hist.as_array().unwrap().last().unwrap()["type"],
        "record_fhsu_determination"
    );
    // Nothing more can happen to a closed case.
    app.get(
        &format!("/api/v1/disputes/{id}/actions"),
        Some(w.t(PRACTICE)),
    )
    .expect(200);
    assert_eq!(
        app.get(
            &format!("/api/v1/disputes/{id}/actions"),
            Some(w.t(PRACTICE))
        )
        .json(),
        json!([])
    );
    // Notices were queued for the procedure's steps.
    let notices = app
        .get(
            &format!("/api/v1/disputes/{id}/notices"),
            Some(w.t("admin")),
        )
        .expect(200);
    let templates: Vec<&str> = notices
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["template"].as_str().unwrap())
        .collect();
    for t in [
        "dispute_filed",
        "mediator_assigned",
        "informal_exhausted",
        "formal_requested",
        "screening_outcome",
        "panel_appointed",
        "hearing_scheduled",
        "bundle_distributed",
        "decision_notified",
        "fhsu_referral",
    ] {
        assert!(templates.contains(&t), "{t} missing from {templates:?}");
    }
}

fn stage_one_cannot_be_skipped(db: Db) {
    let Some((app, w)) = app(db) else { return };
    let id = w.file(&app, false);
    let body = json!({"type": "request_formal", "grounds": "g", "lodged_on": MONDAY});
    w.event(&app, PRACTICE, &id, body.clone())
        .expect_problem(409, "invalid_transition");
    w.ok(
        &app,
        MEDIATOR,
        &id,
        json!({"type": "assign_mediator", "mediator_id": w.id(MEDIATOR), "mode": "mediation"}),
    );
    w.event(&app, PRACTICE, &id, body)
        .expect_problem(409, "invalid_transition");
    let d = app
        .get(&format!("/api/v1/disputes/{id}"), Some(w.t(PRACTICE)))
        .expect(200);
    assert_eq!(d["state"], "informal_mediation");
}

fn screening_needs_lmc_consultation_first(db: Db) {
    let Some((app, w)) = app(db) else { return };
    let id = w.case_at(&app, "formal_requested");
    let before = app
        .get(&format!("/api/v1/disputes/{id}"), Some(w.t(OFFICER)))
        .expect(200);
    for outcome in ["frivolous", "vexatious"] {
        w.event(
            &app,
            OFFICER,
            &id,
            json!({"type": "screen", "outcome": outcome, "reason": "r"}),
        )
        .expect_problem(422, "lmc_not_consulted");
    }
    // Refused: nothing changed.
    assert_eq!(
        app.get(&format!("/api/v1/disputes/{id}"), Some(w.t(OFFICER)))
            .expect(200),
        before
    );
    // Only an accountable officer of the commissioning group concerned may screen.
    w.event(
        &app,
        COMMISSIONER,
        &id,
        json!({"type": "screen", "outcome": "proceed", "reason": "r"}),
    )
    .expect_problem(403, "forbidden");
    w.ok(
        &app,
        OFFICER,
        &id,
        json!({"type": "record_lmc_consultation", "consulted_on": MONDAY, "summary": "s"}),
    );
    let d = w.ok(
        &app,
        OFFICER,
        &id,
        json!({"type": "screen", "outcome": "vexatious", "reason": "r"}),
    );
    assert_eq!(d["state"], "rejected");
}

fn screening_out_rejects_and_contract_matter_may_still_go_to_fhsu(db: Db) {
    let Some((app, w)) = app(db) else { return };
    let id = w.case_at(&app, "formal_requested+lmc");
    w.ok(
        &app,
        OFFICER,
        &id,
        json!({"type": "screen", "outcome": "frivolous", "reason": "r"}),
    );
    let actions = app
        .get(
            &format!("/api/v1/disputes/{id}/actions"),
            Some(w.t(PRACTICE)),
        )
        .expect(200);
    assert_eq!(actions, json!(["add_note", "refer_to_fhsu"]));
    let doc = w
        .upload(&app, PRACTICE, &id, "contract", "c.pdf", b"c")
        .expect(201);
    let d = w.ok(&app, PRACTICE, &id, json!({"type": "refer_to_fhsu", "statement": "s", "contract_document_id": doc["id"], "referred_on": MONDAY}));
    assert_eq!(d["state"], "referred_to_fhsu");
    assert_eq!(d["stage"], 3);
}

fn panel_composition_lists_every_violation(db: Db) {
    let Some((app, w)) = app(db) else { return };
    let id = w.case_at(&app, "panel_forming");
    // Interests register: the GP conciliator declares an interest in the respondent.
    app.post(&format!("/api/v1/users/{}/interests", w.id(GP)), Some(&w.admin),
        &json!({"organisation_id": w.north_ccg, "nature": "Sessional work", "declared_on": "2025-01-01"})).expect(201);
    let body = json!({"type": "appoint_panel", "clinical_member_id": w.id(COMMISSIONER), "gp_conciliator_id": w.id(GP),
        "lmc_representative_id": w.id(MEDIATOR), "secretary_id": w.id(SECRETARY), "chair_id": w.id(SECRETARY)});
    let r = w
        .event(&app, SECRETARY, &id, body)
        .expect_problem(422, "panel_composition_invalid");
    let rules: Vec<&str> = r["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["rule"].as_str().unwrap())
        .collect();
    for expected in [
        "clinical_member_role",
        "lmc_representative_role",
        "member_interest_in_party",
        "member_was_mediator",
        "chair_not_member",
    ] {
        assert!(rules.contains(&expected), "{expected} not in {rules:?}");
    }
    assert!(rules.len() >= 5, "{rules:?}");
    let d = app
        .get(&format!("/api/v1/disputes/{id}"), Some(w.t(SECRETARY)))
        .expect(200);
    assert_eq!(d["state"], "panel_forming");
    assert_eq!(d["panel"], serde_json::Value::Null);
}

fn notice_seventh_versus_eighth_working_day(db: Db) {
    let Some((app, w)) = app(db) else { return };
    let id = w.case_at(&app, "panel_appointed");
    // Notice Monday 2 March: the 7th working day after is Wednesday 11 March.
    let r = w.event(
        &app,
        SECRETARY,
        &id,
        json!({"type": "schedule_hearing", "date": "2026-03-11", "time": "10:00", "venue": "V"}),
    );
    let j = r.expect_problem(422, "insufficient_notice");
    assert!(
        j["detail"]
            .as_str()
            .unwrap()
            .contains("Thursday 12 March 2026"),
        "{j}"
    );
    let d = w.ok(
        &app,
        SECRETARY,
        &id,
        json!({"type": "schedule_hearing", "date": "2026-03-12", "time": "10:00", "venue": "V"}),
    );
    assert_eq!(d["hearing"]["date"], "2026-03-12");
    assert_eq!(d["hearing"]["notice_sent_on"], MONDAY);
    // A weekend is not a hearing day.
    w.event(
        &app,
        SECRETARY,
        &id,
        json!({"type": "schedule_hearing", "date": "2026-03-14", "time": "10:00", "venue": "V"}),
    )
    .expect_problem(422, "validation_failed");
}

fn hearing_deadline_and_overrides(db: Db) {
    let Some((app, w)) = app(db) else { return };
    let id = w.case_at(&app, "panel_appointed");
    let late =
        json!({"type": "schedule_hearing", "date": "2026-03-31", "time": "10:00", "venue": "V"});
    w.event(&app, SECRETARY, &id, late.clone())
        .expect_problem(422, "hearing_after_deadline");
    // On the deadline itself: fine.
    w.ok(
        &app,
        SECRETARY,
        &id,
        json!({"type": "schedule_hearing", "date": "2026-03-30", "time": "10:00", "venue": "V"}),
    );
    // The panel secretary may override with a reason: recorded in the history and as a breach.
    let mut with_reason = late.clone();
    with_reason["override_reason"] = json!("Chair unavailable until then; parties agreed");
    let d = w.ok(&app, SECRETARY, &id, with_reason);
    assert_eq!(d["breaches"][0]["kind"], "hearing_after_deadline");
    assert_eq!(d["breaches"][0]["overridden"], true);
    let hist = app
        .get(
            &format!("/api/v1/disputes/{id}/events"),
            Some(w.t(SECRETARY)),
        )
        .expect(200);
    let last = hist.as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        last["data"]["override"]["reason"],
        "Chair unavailable until then; parties agreed"
    );
    // The answer to a later event still carries the breach recorded before it.
    let noted = w.ok(
        &app,
        SECRETARY,
        &id,
        json!({"type": "add_note", "text": "Venue confirmed"}),
    );
    assert_eq!(noted["breaches"], d["breaches"], "{noted}");
    let report = app
        .get(
            "/api/v1/reports/timeliness?from=2026-03-01&to=2026-03-31",
            Some(w.t(SECRETARY)),
        )
        .expect(200);
    assert_eq!(report["formal_requests"], 1);
    assert_eq!(report["overrides"], 1);
    app.get(
        "/api/v1/reports/timeliness?from=2026-03-01&to=2026-03-31",
        Some(w.t(PRACTICE)),
    )
    .expect_problem(403, "forbidden");
}

fn bundle_five_clear_working_days(db: Db) {
    let Some((app, w)) = app(db) else { return };
    let id = w.case_at(&app, "panel_appointed");
    // Hearing Thursday 12 March; the bundle must go by the day whose 5th working day after is
    // before the hearing: Wednesday 4 March (5th WD after = 11 March).
    w.ok(
        &app,
        SECRETARY,
        &id,
        json!({"type": "schedule_hearing", "date": "2026-03-12", "time": "10:00", "venue": "V"}),
    );
    let doc = w
        .upload(&app, PRACTICE, &id, "evidence", "e.pdf", b"e")
        .expect(201);
    app.state
        .clock
        .set_today(Some("2026-03-05".parse().unwrap()));
    let body = json!({"type": "distribute_bundle", "document_ids": [doc["id"]]});
    w.event(&app, SECRETARY, &id, body.clone())
        .expect_problem(422, "bundle_too_late");
    app.state
        .clock
        .set_today(Some("2026-03-04".parse().unwrap()));
    let d = w.ok(&app, SECRETARY, &id, body);
    assert_eq!(d["hearing"]["bundle_distributed_on"], "2026-03-04");
    // An unknown document id is a validation error.
    w.event(
        &app,
        SECRETARY,
        &id,
        json!({"type": "distribute_bundle", "document_ids": ["nope"]}),
    )
    .expect_problem(422, "validation_failed");
}

fn decision_majority_and_lateness(db: Db) {
    let Some((app, w)) = app(db) else { return };
    let id = w.case_at(&app, "hearing_held");
    let votes = |a: &str, b: &str, c: &str| {
        json!([{"member_id": w.id(CLINICAL), "vote": a},
        {"member_id": w.id(GP), "vote": b}, {"member_id": w.id(LMC_REP), "vote": c}])
    };
    w.event(&app, SECRETARY, &id, json!({"type": "record_decision", "votes": votes("appellant", "respondent", "abstain"), "recommendations": ""}))
        .expect_problem(422, "no_majority");
    w.event(&app, SECRETARY, &id, json!({"type": "record_decision", "votes": [{"member_id": w.id(CLINICAL), "vote": "appellant"}]}))
        .expect_problem(422, "validation_failed");
    w.event(&app, SECRETARY, &id, json!({"type": "record_decision", "outcome": "appellant", "votes": votes("respondent", "respondent", "appellant")}))
        .expect_problem(422, "validation_failed");
    let d = w.ok(&app, SECRETARY, &id, json!({"type": "record_decision", "votes": votes("respondent", "respondent", "appellant"), "recommendations": "None"}));
    assert_eq!(d["decision"]["outcome"], "respondent");
    // Hearing on Thursday 12 March: the decision is due by Thursday 19 March (7 days, inclusive).
    assert_eq!(d["deadlines"]["decision_by"], "2026-03-19");
    app.state
        .clock
        .set_today(Some("2026-03-20".parse().unwrap()));
    w.event(&app, GP, &id, json!({"type": "notify_decision"}))
        .expect_problem(422, "decision_late");
    // The chair may not override; the secretary may.
    w.event(
        &app,
        GP,
        &id,
        json!({"type": "notify_decision", "override_reason": "x"}),
    )
    .expect_problem(422, "decision_late");
    app.state
        .clock
        .set_today(Some("2026-03-19".parse().unwrap()));
    let d = w.ok(&app, GP, &id, json!({"type": "notify_decision"}));
    assert_eq!(d["state"], "decision_notified");
}

fn fhsu_referral_rules(db: Db) {
    let Some((app, w)) = app(db) else { return };
    let id = w.case_at(&app, "decision_notified");
    let r = w.event(
        &app,
        PRACTICE,
        &id,
        json!({"type": "refer_to_fhsu", "referred_on": "2026-03-12"}),
    );
    let j = r.expect_problem(422, "referral_incomplete");
    let msg = j["violations"][0]["message"].as_str().unwrap();
    assert!(
        msg.contains("statement") && msg.contains("contract"),
        "{msg}"
    );
    // Not a contract matter; an inter-practice dispute: both screened out, neither referable.
    for (id2, code) in [
        (w.file(&app, false), "not_contract_matter"),
        (
            w.file_inter_practice(&app, true),
            "inter_practice_not_referable",
        ),
    ] {
        let id2 = w.walk(&app, id2, "formal_requested+lmc");
        w.ok(
            &app,
            OFFICER,
            &id2,
            json!({"type": "screen", "outcome": "frivolous", "reason": "r"}),
        );
        let doc = w
            .upload(&app, PRACTICE, &id2, "contract", "c.pdf", b"c")
            .expect(201);
        w.event(&app, PRACTICE, &id2, json!({"type": "refer_to_fhsu", "statement": "s", "contract_document_id": doc["id"], "referred_on": "2026-03-12"}))
            .expect_problem(422, code);
    }
    // Out of time: the matter arose on 2025-06-01, so the last day is 2028-05-31.
    app.state
        .clock
        .set_today(Some("2028-06-01".parse().unwrap()));
    let doc = w
        .upload(&app, PRACTICE, &id, "contract", "c.pdf", b"c")
        .expect(201);
    w.event(&app, PRACTICE, &id, json!({"type": "refer_to_fhsu", "statement": "s", "contract_document_id": doc["id"], "referred_on": "2028-06-01"}))
        .expect_problem(422, "referral_out_of_time");
    let d = w.ok(&app, PRACTICE, &id, json!({"type": "refer_to_fhsu", "statement": "s", "contract_document_id": doc["id"], "referred_on": "2028-05-31"}));
    assert_eq!(d["state"], "referred_to_fhsu");
    // Inter-practice disputes cannot be referred; non-contract disputes neither.
    app.state.clock.set_today(Some(MONDAY.parse().unwrap()));
    let ip = app.post("/api/v1/disputes", Some(w.t(PRACTICE)), &json!({"title": "Boundary", "category": "other",
        "appellant_id": w.elm, "respondent_id": w.oak, "summary": "s", "matter_arose_on": "2026-01-05", "contract_related": true}))
        .expect(201);
    assert_eq!(ip["inter_practice"], true);
    assert_eq!(ip["deadlines"]["fhsu_by"], serde_json::Value::Null);
}

fn withdrawal_before_hearing_held_only(db: Db) {
    let Some((app, w)) = app(db) else { return };
    let id = w.case_at(&app, "hearing_scheduled");
    // The respondent may not withdraw; the appellant may.
    w.event(
        &app,
        COMMISSIONER,
        &id,
        json!({"type": "withdraw", "reason": "r"}),
    )
    .expect_problem(403, "forbidden");
    let d = w.ok(
        &app,
        PRACTICE,
        &id,
        json!({"type": "withdraw", "reason": "Settled"}),
    );
    assert_eq!(d["state"], "withdrawn");
    let notices = app
        .get(
            &format!("/api/v1/disputes/{id}/notices"),
            Some(w.t(PRACTICE)),
        )
        .expect(200);
    assert!(notices
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n["template"] == "hearing_cancelled" && n["calendar"] == "CANCEL"));
    let id = w.case_at(&app, "hearing_held");
    w.event(
        &app,
        PRACTICE,
        &id,
        json!({"type": "withdraw", "reason": "r"}),
    )
    .expect_problem(409, "invalid_transition");
}

fn version_conflict_and_invalid_transition(db: Db) {
    let Some((app, w)) = app(db) else { return };
    let id = w.file(&app, false);
    w.event(
        &app,
        PRACTICE,
        &id,
        json!({"type": "add_note", "text": "x", "expected_version": 7}),
    )
    .expect_problem(409, "version_conflict");
    let d = w.ok(
        &app,
        PRACTICE,
        &id,
        json!({"type": "add_note", "text": "x", "expected_version": 1}),
    );
    assert_eq!(d["version"], 2);
    w.event(
        &app,
        PRACTICE,
        &id,
        json!({"type": "add_note", "text": "again", "expected_version": 1}),
    )
    .expect_problem(409, "version_conflict");
    w.event(
        &app,
        MEDIATOR,
        &id,
        json!({"type": "resolve_informally", "summary": "s"}),
    )
    .expect_problem(409, "invalid_transition");
    w.event(&app, PRACTICE, &id, json!({"type": "no_such_event"}))
        .expect_problem(422, "validation_failed");
    w.event(&app, PRACTICE, &id, json!({"text": "no type"}))
        .expect_problem(422, "validation_failed");
    let r = app.send_raw(
        "POST",
        &format!("/api/v1/disputes/{id}/events"),
        Some(w.t(PRACTICE)),
        "application/json",
        b"{\"type\":",
        &[],
    );
    r.expect_problem(400, "malformed_request");
    // Concurrent events on one dispute with the same expected version: exactly one applies.
    let codes = post_events_at_once(
        &app,
        w.t(PRACTICE),
        &id,
        (0..6).map(|i| json!({"type": "add_note", "text": format!("n{i}"), "expected_version": 2})),
    );
    assert_eq!(codes.iter().filter(|c| **c == 200).count(), 1, "{codes:?}");
    assert_eq!(codes.iter().filter(|c| **c == 409).count(), 5, "{codes:?}");
    let hist = app
        .get(
            &format!("/api/v1/disputes/{id}/events"),
            Some(w.t(PRACTICE)),
        )
        .expect(200);
    assert_eq!(hist.as_array().unwrap().len(), 3);
    // Concurrent events on one dispute without an expected version: every one applies, each
    // on the version the one before it wrote, and each note is recorded once.
    let codes = post_events_at_once(
        &app,
        w.t(PRACTICE),
        &id,
        (0..8).map(|i| json!({"type": "add_note", "text": format!("m{i}")})),
    );
    assert!(codes.iter().all(|c| *c == 200), "{codes:?}");
    let hist = app
        .get(
            &format!("/api/v1/disputes/{id}/events"),
            Some(w.t(PRACTICE)),
        )
        .expect(200);
    let hist = hist.as_array().unwrap();
    let seqs: Vec<i64> = hist.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, (1..=11).collect::<Vec<i64>>());
    let mut texts: Vec<&str> = hist[3..]
        .iter()
        .map(|e| e["data"]["text"].as_str().unwrap())
        .collect();
    texts.sort_unstable();
    assert_eq!(texts, (0..8).map(|i| format!("m{i}")).collect::<Vec<_>>());
    let d = app
        .get(&format!("/api/v1/disputes/{id}"), Some(w.t(PRACTICE)))
        .expect(200);
    assert_eq!(d["version"], 11);
}

/// `db::transition::write` on its own (what `POST /disputes/{id}/events` writes once it has
/// decided): on
/// a version that has moved meanwhile it writes nothing at all (no event, breach, notice or
/// change to the dispute); on the version it read, all of it, a breach of each kind once.
fn a_write_on_a_moved_version_writes_nothing(db: Db) {
    use ldr::db::disputes::{self as store, BreachRow, EventRow};
    use ldr::db::outbox::NewNotice;
    use ldr::db::transition::{write, Transition};
    let Some((app, w)) = app(db) else { return };
    let id = w.file(&app, false);
    let target = ldr::db::DbTarget::parse(&app.db_url).unwrap();
    let pool = ldr::db::connect(&target, 1).unwrap();
    let mut c = ldr::db::checkout(&pool).unwrap();
    let read = store::find(&mut c, &id).unwrap().unwrap();
    assert_eq!(read.version, 1);
    let notices_before = app
        .get(
            &format!("/api/v1/disputes/{id}/notices"),
            Some(w.t(PRACTICE)),
        )
        .expect(200)
        .as_array()
        .unwrap()
        .len();
    // What one transition over `previous_version` writes.
    let rows = |previous_version: i64| {
        let mut d = read.clone();
        d.version = previous_version + 1;
        d.title = format!("written over version {previous_version}");
        let breach = |detail: &str| BreachRow {
            dispute_id: id.clone(),
            kind: "hearing_by".into(),
            due_on: chrono::NaiveDate::from_ymd_opt(2026, 3, 2).unwrap(),
            detected_on: chrono::NaiveDate::from_ymd_opt(2026, 3, 2).unwrap(),
            overridden: true,
            detail: detail.into(),
        };
        let event = EventRow {
            dispute_id: id.clone(),
            seq: d.version,
            event_type: "add_note".into(),
            actor_id: w.id(PRACTICE),
            at: ldr::db::now(),
            data: r#"{"text":"direct"}"#.into(),
        };
        (d, event, vec![breach("first"), breach("second")])
    };
    let notice_id = uuid::Uuid::new_v4().to_string();
    let notices = [NewNotice {
        id: &notice_id,
        dispute_id: Some(id.as_str()),
        template: "mediator_assigned",
        recipients: r#"["practice@elm.nhs.test"]"#,
        subject: "s",
        body_text: "t",
        body_html: "<p>h</p>",
        ics: None,
        ics_method: None,
        attachment_name: None,
        attachment: None,
        queued_at: ldr::db::now(),
    }];
    let writes = |c: &mut ldr::db::DbConn, previous_version: i64| {
        let (dispute, event, breaches) = rows(previous_version);
        ldr::db::write_tx(c, |c| {
            write(
                c,
                &Transition {
                    dispute: &dispute,
                    previous_version,
                    event: &event,
                    breaches: &breaches,
                    notices: &notices,
                },
            )
        })
        .unwrap()
    };
    let count = |app: &TestApp| {
        let events = app
            .get(
                &format!("/api/v1/disputes/{id}/events"),
                Some(w.t(PRACTICE)),
            )
            .expect(200);
        let notices = app
            .get(
                &format!("/api/v1/disputes/{id}/notices"),
                Some(w.t(PRACTICE)),
            )
            .expect(200);
        let d = app
            .get(&format!("/api/v1/disputes/{id}"), Some(w.t(PRACTICE)))
            .expect(200);
        (
            events.as_array().unwrap().len(),
            notices.as_array().unwrap().len(),
            d["breaches"].as_array().unwrap().len(),
            d["version"].as_i64().unwrap(),
        )
    };
    // Another transition moved the dispute to version 2 after this one read version 1.
    w.ok(
        &app,
        PRACTICE,
        &id,
        json!({"type": "add_note", "text": "between"}),
    );
    let before = count(&app);
    assert_eq!(before, (2, notices_before, 0, 2));
    let stale = writes(&mut c, 1);
    assert_eq!(stale, None);
    assert_eq!(count(&app), before);
    // On the version it read, everything is written, and the second breach of the kind is not.
    let fresh = writes(&mut c, 2);
    assert_eq!(fresh, Some(1));
    assert_eq!(count(&app), (3, notices_before + 1, 1, 3));
    let d = app
        .get(&format!("/api/v1/disputes/{id}"), Some(w.t(PRACTICE)))
        .expect(200);
    assert_eq!(d["title"], "written over version 2");
    assert!(d["breaches"][0]["detail"]
        .as_str()
        .unwrap()
        .starts_with("first"));
    // A version without its event (no transition writes one; an edit by hand could): a write
    // decided on the version before it writes nothing. On PostgreSQL, where the event's number
    // is the guard of the one statement, it is an error (the history and the row disagree);
    // on SQLite the row's version check answers as for any moved version.
    {
        use diesel::prelude::*;
        use ldr::db::schema::disputes::dsl as d;
        diesel::update(d::disputes.find(&id))
            .set(d::version.eq(4))
            .execute(&mut **c)
            .unwrap();
    }
    let (dispute, event, breaches) = rows(3);
    let corrupt = ldr::db::write_tx(&mut c, |c| {
        write(
            c,
            &Transition {
                dispute: &dispute,
                previous_version: 3,
                event: &event,
                breaches: &breaches,
                notices: &notices,
            },
        )
    });
    match db {
        Db::Postgres => assert!(corrupt.is_err(), "{corrupt:?}"),
        Db::Sqlite => assert_eq!(corrupt.unwrap(), None),
    }
    assert_eq!(count(&app), (3, notices_before + 1, 1, 4));
}

/// Posts each body to the dispute's events from a thread of its own, all at once; returns the
/// status codes.
fn post_events_at_once(
    app: &TestApp,
    token: &str,
    id: &str,
    bodies: impl Iterator<Item = serde_json::Value>,
) -> Vec<u16> {
    let handles: Vec<_> = bodies
        .map(|body| {
            let url = app.url(&format!("/api/v1/disputes/{id}/events"));
            let token = token.to_string();
            std::thread::spawn(move || {
                let agent: ureq::Agent = ureq::Agent::config_builder()
                    .http_status_as_error(false)
                    .build()
                    .into();
                agent
                    .post(&url)
                    .header("Authorization", &format!("Bearer {token}"))
                    .send_json(body)
                    .unwrap()
                    .status()
                    .as_u16()
            })
        })
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).collect()
}

fn idempotent_filing(db: Db) {
    let Some((app, w)) = app(db) else { return };
    let body = json!({"title": "t", "category": "objectives", "appellant_id": w.elm, "respondent_id": w.north_ccg,
        "summary": "s", "matter_arose_on": "2026-01-05", "contract_related": false});
    let h = [("Idempotency-Key", "abc-123")];
    let a = app
        .send_raw(
            "POST",
            "/api/v1/disputes",
            Some(w.t(PRACTICE)),
            "application/json",
            body.to_string().as_bytes(),
            &h,
        )
        .expect(201);
    let b = app
        .send_raw(
            "POST",
            "/api/v1/disputes",
            Some(w.t(PRACTICE)),
            "application/json",
            body.to_string().as_bytes(),
            &h,
        )
        .expect(201);
    assert_eq!(a["id"], b["id"]);
    // The filing's answer, and its replay's, are the dispute as it reads afterwards.
    let id = a["id"].as_str().unwrap();
    let read = app
        .get(&format!("/api/v1/disputes/{id}"), Some(w.t(PRACTICE)))
        .expect(200);
    assert_eq!(a, read);
    assert_eq!(b, read);
    assert_eq!(a["lmc_id"], json!(w.lmc_north), "{a}");
    // So is an inter-practice filing's.
    let r = w.filed_inter_practice(&app, false);
    let ip = r["id"].as_str().unwrap();
    assert_eq!(
        r,
        app.get(&format!("/api/v1/disputes/{ip}"), Some(w.t(PRACTICE)))
            .expect(200)
    );
    let mut other = body.clone();
    other["title"] = json!("different");
    app.send_raw(
        "POST",
        "/api/v1/disputes",
        Some(w.t(PRACTICE)),
        "application/json",
        other.to_string().as_bytes(),
        &h,
    )
    .expect_problem(409, "idempotency_key_reused");
    let list = app.get("/api/v1/disputes", Some(w.t(PRACTICE))).expect(200);
    assert_eq!(list["items"].as_array().unwrap().len(), 2);
}

fn filing_validation(db: Db) {
    let Some((app, w)) = app(db) else { return };
    // Not the caller's organisation as appellant; every bad field listed.
    let r = app.post("/api/v1/disputes", Some(w.t(PRACTICE)), &json!({"title": "", "category": "nonsense",
        "appellant_id": w.north_ccg, "respondent_id": w.north_ccg, "summary": "s", "matter_arose_on": "2099-01-01"}));
    let j = r.expect_problem(422, "validation_failed");
    let fields: Vec<&str> = j["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    for f in [
        "title",
        "category",
        "appellant_id",
        "matter_arose_on",
        "contract_related",
        "respondent_id",
    ] {
        assert!(fields.contains(&f), "{f} not in {fields:?}");
    }
    // Commissioner v commissioner is not a dispute of this procedure.
    app.post("/api/v1/disputes", Some(w.t(COMMISSIONER)), &json!({"title": "t", "category": "other",
        "appellant_id": w.north_ccg, "respondent_id": w.south_ccg, "summary": "s", "matter_arose_on": "2026-01-05", "contract_related": false}))
        .expect_problem(422, "validation_failed");
    // A commissioner may be the appellant against a practice.
    let d = app.post("/api/v1/disputes", Some(w.t(COMMISSIONER)), &json!({"title": "t", "category": "quality_premium",
        "appellant_id": w.north_ccg, "respondent_id": w.elm, "summary": "s", "matter_arose_on": "2026-01-05", "contract_related": false}))
        .expect(201);
    assert_eq!(d["appellant"]["id"], w.north_ccg.as_str());
    // Roles that cannot file.
    for who in [MEDIATOR, SECRETARY, GP, OFFICER] {
        app.post("/api/v1/disputes", Some(w.t(who)), &json!({}))
            .expect_problem(403, "forbidden");
    }
    app.post("/api/v1/disputes", Some(&w.admin), &json!({}))
        .expect_problem(403, "forbidden");
}

/// A stored dispute whose detail is not the JSON the service writes, or whose state is not one
/// of the procedure's, is an error (500, the cause in the log), never read as a default: no
/// answer shows it, no event is applied to it, the sweep skips it, and the row is not written
/// over.
fn a_stored_dispute_that_does_not_read_is_an_error_and_is_not_written_over(db: Db) {
    use diesel::prelude::*;
    use ldr::db::schema::disputes::dsl as d;
    let Some((app, w)) = app(db) else { return };
    let id = w.case_at(&app, "formal_requested");
    let stored = |app: &TestApp| {
        let mut c = ldr::db::checkout(&app.state.pool).unwrap();
        d::disputes
            .find(&id)
            .select((d::state, d::detail, d::version, d::next_sweep_on))
            .first::<(String, String, i64, Option<chrono::NaiveDate>)>(&mut **c)
            .unwrap()
    };
    let history = |app: &TestApp| {
        let mut c = ldr::db::checkout(&app.state.pool).unwrap();
        ldr::db::disputes::events_of(&mut c, &id).unwrap().len()
    };
    let (state, detail, version, _) = stored(&app);
    assert!(detail.contains("grounds"), "{detail}");
    let events = history(&app);
    for (bad_state, bad_detail) in [
        (state.as_str(), r#"{"grounds": 5}"#),
        (state.as_str(), "not json"),
        ("on_hold", detail.as_str()),
    ] {
        {
            let mut c = ldr::db::checkout(&app.state.pool).unwrap();
            diesel::update(d::disputes.find(&id))
                .set((
                    d::state.eq(bad_state),
                    d::detail.eq(bad_detail),
                    d::next_sweep_on.eq(chrono::NaiveDate::from_ymd_opt(2026, 3, 2)),
                ))
                .execute(&mut **c)
                .unwrap();
        }
        let corrupt = stored(&app);
        app.get(&format!("/api/v1/disputes/{id}"), Some(w.t(PRACTICE)))
            .expect_problem(500, "internal_error");
        app.get("/api/v1/disputes", Some(&w.admin))
            .expect_problem(500, "internal_error");
        w.event(
            &app,
            PRACTICE,
            &id,
            json!({"type": "add_note", "text": "on a broken row"}),
        )
        .expect_problem(500, "internal_error");
        w.event(
            &app,
            OFFICER,
            &id,
            json!({"type": "screen", "outcome": "proceed", "reason": "r"}),
        )
        .expect_problem(500, "internal_error");
        {
            let mut c = ldr::db::checkout(&app.state.pool).unwrap();
            let today = chrono::NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
            ldr::notify::sweep::run(
                &mut c,
                &app.state.calendar,
                &app.state.templates,
                &app.state.cfg.public_url,
                today,
                1000,
            )
            .unwrap();
        }
        assert_eq!(stored(&app), corrupt, "the row was written over");
        assert_eq!(history(&app), events, "an event was appended");
    }
    // Put right, the dispute reads again and carries on from where it was.
    {
        let mut c = ldr::db::checkout(&app.state.pool).unwrap();
        diesel::update(d::disputes.find(&id))
            .set((d::state.eq(&state), d::detail.eq(&detail)))
            .execute(&mut **c)
            .unwrap();
    }
    let after = w.ok(
        &app,
        PRACTICE,
        &id,
        json!({"type": "add_note", "text": "after the repair"}),
    );
    assert_eq!(after["version"], version + 1);
    assert_eq!(after["state"], "formal_requested");
}

/// The text of the dispute's notices of `template`, whitespace made single spaces.
fn notice_texts(app: &TestApp, id: &str, template: &str) -> Vec<String> {
    use diesel::prelude::*;
    use ldr::db::schema::notices::dsl as n;
    let mut c = ldr::db::checkout(&app.state.pool).unwrap();
    n::notices
        .filter(n::dispute_id.eq(id))
        .filter(n::template.eq(template))
        .select(n::body_text)
        .load::<String>(&mut **c)
        .unwrap()
        .iter()
        .map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

/// `record_hearing`'s `held_on` is the day the hearing was scheduled for; another day only
/// with the panel secretary's `override_reason`, recorded as an override. The decision is then
/// due seven days after the day it was held, and its e-mail quotes that day.
fn the_hearing_is_recorded_on_its_scheduled_day_unless_overridden(db: Db) {
    let Some((app, w)) = app(db) else { return };
    let id = w.case_at(&app, "hearing_scheduled");
    let d = app
        .get(&format!("/api/v1/disputes/{id}"), Some(w.t(SECRETARY)))
        .expect(200);
    let scheduled: chrono::NaiveDate = d["hearing"]["date"].as_str().unwrap().parse().unwrap();
    assert_eq!(scheduled.to_string(), "2026-03-12");
    app.state.clock.set_today(Some(scheduled));
    let body = |held: &str| {
        json!({"type": "record_hearing", "held_on": held, "appellant_presented": true,
            "respondent_presented": true, "record": "Both sides presented."})
    };
    // The day before (Wednesday 11 March): refused, saying how to put it right.
    let p = w
        .event(&app, SECRETARY, &id, body("2026-03-11"))
        .expect_problem(422, "held_not_as_scheduled");
    let detail = p["detail"].as_str().unwrap();
    assert!(
        detail.contains("scheduled for Thursday 12 March 2026")
            && detail.contains("override_reason"),
        "{detail}"
    );
    assert_eq!(
        app.get(&format!("/api/v1/disputes/{id}"), Some(w.t(SECRETARY)))
            .expect(200)["version"],
        d["version"],
        "the refusal changed nothing"
    );
    // With the secretary's reason it is recorded as held that day, as an override.
    let mut overridden = body("2026-03-11");
    overridden["override_reason"] = json!("Brought forward a day at both parties' request");
    let held = w.ok(&app, SECRETARY, &id, overridden);
    assert_eq!(held["state"], "hearing_held");
    assert_eq!(held["hearing"]["held_on"], "2026-03-11");
    assert_eq!(held["deadlines"]["decision_by"], "2026-03-18");
    let breach = held["breaches"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["kind"] == "held_not_as_scheduled")
        .cloned()
        .unwrap_or_else(|| panic!("no override recorded: {held}"));
    assert_eq!(breach["overridden"], true);
    assert_eq!(breach["due_on"], "2026-03-12");
    // The decision's e-mail quotes the day the hearing was held.
    w.ok(
        &app,
        SECRETARY,
        &id,
        json!({"type": "record_decision", "outcome": "appellant",
        "recommendations": "Restore the budget.",
        "votes": [{"member_id": w.id(CLINICAL), "vote": "appellant"},
            {"member_id": w.id(GP), "vote": "appellant"},
            {"member_id": w.id(LMC_REP), "vote": "respondent"}]}),
    );
    w.ok(&app, SECRETARY, &id, json!({"type": "notify_decision"}));
    let texts = notice_texts(&app, &id, "decision_notified");
    assert_eq!(texts.len(), 1);
    assert!(
        texts[0].contains("following the hearing on Wednesday 11 March 2026"),
        "{}",
        texts[0]
    );

    // Recorded on the scheduled day, nothing is overridden and the e-mail quotes that day.
    app.state
        .clock
        .set_today(Some("2026-03-02".parse().unwrap()));
    let id = w.case_at(&app, "decision_notified");
    let d = app
        .get(&format!("/api/v1/disputes/{id}"), Some(w.t(SECRETARY)))
        .expect(200);
    assert_eq!(d["hearing"]["held_on"], d["hearing"]["date"]);
    assert_eq!(d["breaches"], json!([]));
    let texts = notice_texts(&app, &id, "decision_notified");
    assert!(
        texts[0].contains("following the hearing on Thursday 12 March 2026"),
        "{}",
        texts[0]
    );
}

/// A scheduled hearing whose day passes with nothing recorded is a breach, recorded once by
/// the deadline sweep, with an alert to the secretary, the LMC and the accountable officer.
fn a_hearing_day_that_passes_unrecorded_is_a_breach_with_an_alert(db: Db) {
    let Some((app, w)) = app(db) else { return };
    let id = w.case_at(&app, "hearing_scheduled");
    let sweep = |day: &str| {
        let today: chrono::NaiveDate = day.parse().unwrap();
        app.state.clock.set_today(Some(today));
        let mut c = ldr::db::checkout(&app.state.pool).unwrap();
        ldr::notify::sweep::run(
            &mut c,
            &app.state.calendar,
            &app.state.templates,
            &app.state.cfg.public_url,
            today,
            1000,
        )
        .unwrap();
    };
    let not_recorded = |app: &TestApp| -> Vec<serde_json::Value> {
        app.get(&format!("/api/v1/disputes/{id}"), Some(w.t(SECRETARY)))
            .expect(200)["breaches"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|b| b["kind"] == "hearing_not_recorded")
            .cloned()
            .collect()
    };
    let alerts = |app: &TestApp| -> Vec<serde_json::Value> {
        app.get(&format!("/api/v1/disputes/{id}/notices"), Some(&w.admin))
            .expect(200)
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| {
                n["template"] == "deadline_breached"
                    && n["subject"]
                        .as_str()
                        .unwrap()
                        .contains("the record of the hearing")
            })
            .cloned()
            .collect()
    };
    // On the hearing's day nothing is due yet.
    sweep("2026-03-12");
    assert!(not_recorded(&app).is_empty());
    // The day after, and again a day later: one breach, one alert.
    sweep("2026-03-13");
    sweep("2026-03-16");
    let b = not_recorded(&app);
    assert_eq!(b.len(), 1, "{b:?}");
    assert_eq!(b[0]["due_on"], "2026-03-12");
    assert_eq!(b[0]["detected_on"], "2026-03-13");
    assert_eq!(b[0]["overridden"], false);
    let a = alerts(&app);
    assert_eq!(a.len(), 1, "{a:?}");
    assert_eq!(
        a[0]["subject"].as_str().unwrap(),
        format!(
            "[{}] Deadline missed: the record of the hearing was due by Thursday 12 March 2026",
            app.get(&format!("/api/v1/disputes/{id}"), Some(&w.admin))
                .expect(200)["case_ref"]
                .as_str()
                .unwrap()
        )
    );
    let to: Vec<&str> = a[0]["to"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert!(to.contains(&"north.essex.lmc@lmc.nhs.test"), "{to:?}");
    assert_eq!(
        to.len(),
        3,
        "the secretary, the LMC and the officer: {to:?}"
    );
    // It was not held: moved to Thursday 26 March, and that day too passes unrecorded. A
    // second breach of the same rule, with its own alert.
    w.ok(
        &app,
        SECRETARY,
        &id,
        json!({"type": "schedule_hearing", "date": "2026-03-26", "time": "10:00",
        "venue": "County Hall", "override_reason": "The panel could not meet on the 12th."}),
    );
    sweep("2026-03-26");
    assert_eq!(not_recorded(&app).len(), 1);
    sweep("2026-03-27");
    sweep("2026-03-30");
    let b = not_recorded(&app);
    assert_eq!(b.len(), 2, "{b:?}");
    assert_eq!(b[1]["due_on"], "2026-03-26");
    assert_eq!(alerts(&app).len(), 2);
    // Recorded late, as held on its day: nothing more is raised, and the hearing deadline is
    // not reported missed by the sweep (only as the move's override, if the move needed one).
    w.ok(
        &app,
        SECRETARY,
        &id,
        json!({"type": "record_hearing", "held_on": "2026-03-26",
        "appellant_presented": true, "respondent_presented": false, "record": "Held as planned."}),
    );
    sweep("2026-03-31");
    assert_eq!(not_recorded(&app).len(), 2);
    assert_eq!(alerts(&app).len(), 2);
    let d = app
        .get(&format!("/api/v1/disputes/{id}"), Some(w.t(SECRETARY)))
        .expect(200);
    let unanswered: Vec<&serde_json::Value> = d["breaches"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["kind"] == "hearing_after_deadline" && b["overridden"] == false)
        .collect();
    assert!(unanswered.is_empty(), "{unanswered:?}");
}

/// Three working days before the hearing the room changes: the same day keeps the notice given
/// (no override, no breach, everyone sent the updated invitation); a new day is refused.
fn a_new_venue_on_the_hearings_day_keeps_the_notice_given(db: Db) {
    let Some((app, w)) = app(db) else { return };
    let id = w.case_at(&app, "hearing_scheduled");
    let get = || {
        app.get(&format!("/api/v1/disputes/{id}"), Some(w.t(SECRETARY)))
            .expect(200)
    };
    let before = get();
    let date: chrono::NaiveDate =
        serde_json::from_value(before["hearing"]["date"].clone()).unwrap();
    let soon = app.state.calendar.add_working_days(date, -3).unwrap();
    app.state.clock.set_today(Some(soon));
    let d = w.ok(
        &app,
        SECRETARY,
        &id,
        json!({"type": "schedule_hearing", "date": date.to_string(), "time": "14:00",
        "venue": "Room 2, County Hall"}),
    );
    assert_eq!(d["hearing"]["venue"], "Room 2, County Hall");
    assert_eq!(d["hearing"]["time"], "14:00");
    assert_eq!(
        d["hearing"]["notice_sent_on"],
        before["hearing"]["notice_sent_on"]
    );
    assert_eq!(d["hearing"]["sequence"], 1);
    assert_eq!(d["breaches"], json!([]), "{d}");
    let next_day = app.state.calendar.add_working_days(date, 1).unwrap();
    w.event(
        &app,
        SECRETARY,
        &id,
        json!({"type": "schedule_hearing", "date": next_day.to_string(), "time": "14:00",
        "venue": "Room 2, County Hall"}),
    )
    .expect_problem(422, "insufficient_notice");
}

/// Issue #31 point 11: each refusal says how to put it right, and changes nothing.
fn refusals_say_how_to_put_them_right(db: Db) {
    let Some((app, w)) = app(db) else { return };
    // 409: what must happen first, read from the workflow table.
    let id = w.file(&app, true);
    w.ok(
        &app,
        MEDIATOR,
        &id,
        json!({"type": "assign_mediator", "mediator_id": w.id(MEDIATOR), "mode": "mediation"}),
    );
    let p = w
        .event(
            &app,
            PRACTICE,
            &id,
            json!({"type": "request_formal", "grounds": "g", "lodged_on": MONDAY}),
        )
        .expect_problem(409, "invalid_transition");
    assert_eq!(
        p["detail"],
        "request_formal is not allowed while the dispute is informal_mediation: it may be sent \
         only while the dispute is informal_exhausted. First the case's mediator sends \
         exhaust_informal."
    );
    // override_reason where no rule can be overridden: refused, not ignored.
    let id = w.case_at(&app, "panel_forming");
    let mut body = w.panel_body();
    body["override_reason"] = json!("The parties asked for this panel");
    let p = w
        .event(&app, SECRETARY, &id, body)
        .expect_problem(422, "validation_failed");
    assert_eq!(p["errors"][0]["field"], "override_reason", "{p}");
    assert!(
        p["errors"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("is not accepted by appoint_panel"),
        "{p}"
    );
    // A composition violation names the person and the seat.
    let mut body = w.panel_body();
    body["gp_conciliator_id"] = json!(w.id(OUTSIDER));
    let p = w
        .event(&app, SECRETARY, &id, body)
        .expect_problem(422, "panel_composition_invalid");
    let messages: Vec<&str> = p["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["message"].as_str().unwrap())
        .collect();
    assert!(
        messages.contains(
            &"Otto Outsider, proposed as the GP conciliator, does not hold the GP conciliator \
              panel role"
        ),
        "{messages:?}"
    );
    let d = app
        .get(&format!("/api/v1/disputes/{id}"), Some(w.t(SECRETARY)))
        .expect(200);
    assert_eq!(d["state"], "panel_forming");
    // A date rule the panel secretary may override says so, and how.
    w.ok(&app, SECRETARY, &id, w.panel_body());
    let p = w
        .event(
            &app,
            SECRETARY,
            &id,
            json!({"type": "schedule_hearing", "date": "2026-03-11", "time": "10:00", "venue": "V"}),
        )
        .expect_problem(422, "insufficient_notice");
    assert!(
        p["detail"].as_str().unwrap().ends_with(
            "To go ahead anyway, send override_reason saying why: it is recorded as an \
             overridden breach."
        ),
        "{p}"
    );
    // referral_incomplete names the field and what is wrong with it.
    let id = w.case_at(&app, "decision_notified");
    let evidence = w
        .upload(
            &app,
            PRACTICE,
            &id,
            "evidence",
            "letter.pdf",
            b"%PDF letter",
        )
        .expect(201);
    let doc = evidence["id"].as_str().unwrap();
    let p = w
        .event(
            &app,
            PRACTICE,
            &id,
            json!({"type": "refer_to_fhsu", "statement": "s",
            "contract_document_id": doc, "referred_on": "2026-03-12"}),
        )
        .expect_problem(422, "referral_incomplete");
    assert_eq!(
        p["detail"],
        format!(
            "The referral is incomplete: contract_document_id: {doc} (letter.pdf) is a document \
             of kind evidence, not contract."
        )
    );
    let p = w
        .event(
            &app,
            PRACTICE,
            &id,
            json!({"type": "refer_to_fhsu", "statement": "s", "referred_on": "2026-03-12"}),
        )
        .expect_problem(422, "referral_incomplete");
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("contract_document_id (the id of a document of kind contract uploaded"),
        "{p}"
    );
}

/// Issue #31 point 5: with no FHSU in the directory a referral is refused, saying what an admin
/// must do; once an admin adds one, the same referral goes through and the FHSU is told.
fn a_referral_without_an_fhsu_in_the_directory_is_refused_saying_what_an_admin_must_do(db: Db) {
    use diesel::prelude::*;
    use ldr::db::schema::organisations::dsl as o;
    let Some((app, w)) = app(db) else { return };
    let id = w.case_at(&app, "decision_notified");
    let contract = w
        .upload(&app, PRACTICE, &id, "contract", "gms.pdf", b"%PDF contract")
        .expect(201);
    {
        let mut c = ldr::db::checkout(&app.state.pool).unwrap();
        diesel::delete(o::organisations.filter(o::kind.eq("fhsu")))
            .execute(&mut **c)
            .unwrap();
    }
    let body = json!({"type": "refer_to_fhsu", "statement": "Please determine",
        "contract_document_id": contract["id"], "referred_on": "2026-03-12"});
    let p = w
        .event(&app, PRACTICE, &id, body.clone())
        .expect_problem(422, "referral_incomplete");
    assert_eq!(
        p["detail"],
        "The referral is incomplete: an FHSU to send it to: the directory has no organisation of \
         kind fhsu (an admin adds one with POST /api/v1/organisations)."
    );
    let d = app
        .get(&format!("/api/v1/disputes/{id}"), Some(w.t(PRACTICE)))
        .expect(200);
    assert_eq!(d["state"], "decision_notified");
    // The admin adds the FHSU: the referral goes, and the FHSU is among the recipients.
    let fhsu = app.org(
        &w.admin,
        "NHS Resolution FHSU",
        "fhsu",
        "England",
        "England",
        None,
    );
    let address = app
        .get(&format!("/api/v1/organisations/{fhsu}"), Some(&w.admin))
        .expect(200)["email"]
        .as_str()
        .unwrap()
        .to_string();
    let d = w.ok(&app, PRACTICE, &id, body);
    assert_eq!(d["state"], "referred_to_fhsu");
    let notices = app
        .get(&format!("/api/v1/disputes/{id}/notices"), Some(&w.admin))
        .expect(200);
    assert!(
        notices
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["template"] == "fhsu_referral"
                && n["to"].as_array().unwrap().contains(&json!(address))),
        "{notices}"
    );
}

/// Issue #31 point 14, through the API on both databases: the filing party's acknowledgement;
/// the panel secretaries told when a case awaits a panel; every notice links to the case at
/// `LDR_PUBLIC_URL`, the bundle links each document, the secretary is named with an address,
/// and the hearing invitation is organised by the secretary with no reply asked.
fn the_filing_party_and_the_panel_secretaries_are_told_and_notices_link_the_case(db: Db) {
    let public = "https://ldr.example.nhs.uk";
    let Some(app) = TestApp::spawn_with(db, &[("LDR_TODAY", MONDAY), ("LDR_PUBLIC_URL", public)])
    else {
        return;
    };
    let w = World::new(&app);
    let id = w.case_at(&app, "hearing_scheduled");
    let secretary = "sam.secretary@ldr.test";
    let elm = app
        .get(&format!("/api/v1/organisations/{}", w.elm), Some(&w.admin))
        .expect(200)["email"]
        .as_str()
        .unwrap()
        .to_string();
    let notices = app
        .get(&format!("/api/v1/disputes/{id}/notices"), Some(&w.admin))
        .expect(200);
    let to = |template: &str| -> Vec<serde_json::Value> {
        notices
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["template"] == template)
            .map(|n| n["to"].clone())
            .collect()
    };
    assert_eq!(to("dispute_acknowledged"), [json!([elm])]);
    assert_eq!(to("awaiting_panel"), [json!([secretary])]);
    let ack = &notice_texts(&app, &id, "dispute_acknowledged")[0];
    assert!(ack.contains("Your dispute has been filed"), "{ack}");
    // Every notice links to the case, and shows the category in words.
    let link = format!("{public}/disputes/{id}");
    for t in [
        "dispute_filed",
        "dispute_acknowledged",
        "awaiting_panel",
        "panel_appointed",
        "hearing_scheduled",
    ] {
        for text in notice_texts(&app, &id, t) {
            assert!(text.contains(&link), "{t}: {text}");
            assert!(text.contains("Category: Prescribing"), "{t}: {text}");
        }
    }
    let appointed = &notice_texts(&app, &id, "panel_appointed")[0];
    assert!(
        appointed.contains(&format!("Panel secretary: Sam Secretary ({secretary})")),
        "{appointed}"
    );
    let scheduled = &notice_texts(&app, &id, "hearing_scheduled")[0];
    assert!(
        scheduled.contains(&format!(
            "Send any documents you want the panel to consider to Sam Secretary ({secretary})"
        )),
        "{scheduled}"
    );
    // The invitation: organised by the secretary, nobody asked to reply, three hours long.
    let ics = {
        use diesel::prelude::*;
        use ldr::db::schema::notices::dsl as n;
        let mut c = ldr::db::checkout(&app.state.pool).unwrap();
        n::notices
            .filter(n::dispute_id.eq(&id))
            .filter(n::template.eq("hearing_scheduled"))
            .select(n::ics)
            .first::<Option<String>>(&mut **c)
            .unwrap()
            .unwrap()
    };
    let unfolded = ics.replace("\r\n ", "");
    assert!(
        unfolded.contains(&format!(
            "ORGANIZER;CN=Sam Secretary:mailto:{secretary}\r\n"
        )),
        "{unfolded}"
    );
    assert!(!unfolded.contains("RSVP=TRUE"), "{unfolded}");
    assert!(unfolded.contains("RSVP=FALSE"), "{unfolded}");
    assert!(
        unfolded.contains("DTSTART;TZID=Europe/London:20260312T100000"),
        "{unfolded}"
    );
    assert!(
        unfolded.contains("DTEND;TZID=Europe/London:20260312T130000"),
        "{unfolded}"
    );
    // The bundle links each document.
    let doc = w
        .upload(
            &app,
            PRACTICE,
            &id,
            "evidence",
            "budget.pdf",
            b"%PDF budget",
        )
        .expect(201);
    w.ok(
        &app,
        SECRETARY,
        &id,
        json!({"type": "distribute_bundle", "document_ids": [doc["id"]]}),
    );
    let bundle = &notice_texts(&app, &id, "bundle_distributed")[0];
    assert!(
        bundle.contains(&format!(
            "budget.pdf (evidence): {public}/documents/{}",
            doc["id"].as_str().unwrap()
        )),
        "{bundle}"
    );
}
