//! Stage 3: the referral to the FHSU (rule 7) and its determination, which closes the case.

use serde_json::json;

use super::rules::long;
use super::{refuse_if, Refusal, Step, FUTURE};
use crate::domain::deadlines;
use crate::domain::dispute::{DocumentKind, FhsuDetermination, FhsuReferral};
use crate::domain::event::{RecordFhsuDetermination, ReferToFhsu};
use crate::domain::panel::Violation;
use crate::domain::workflow::State;

/// Only a contract matter, not between two practices, within three years beginning on the day
/// the matter arose; with a statement, a `contract` document of the dispute, both parties'
/// names and postal addresses, and an FHSU in the directory to send it to. Every violation is
/// listed; the code is the first one's.
pub(super) fn refer_to_fhsu(s: &mut Step, e: &ReferToFhsu) -> Result<(), Refusal> {
    refuse_if(e.referred_on > s.today, "referred_on", FUTURE)?;
    // Not before the case could be referred: the decision sent, or the request screened out.
    let screened_out =
        s.d.detail
            .screening
            .as_ref()
            .filter(|_| s.d.state == State::Rejected);
    let opened = match (s.d.decision_notified_on, screened_out) {
        (Some(sent), _) => Some((sent, "the decision was sent")),
        (None, Some(sc)) => Some((sc.screened_on, "the request was screened out")),
        (None, None) => None,
    };
    if let Some((on, what)) = opened {
        refuse_if(
            e.referred_on < on,
            "referred_on",
            &format!("must not be before {}, when {what}", long(on)),
        )?;
    }
    let mut violations = Vec::new();
    let mut push =
        |rule: &'static str, message: String| violations.push(Violation { rule, message });
    if !s.d.contract_related {
        push(
            "not_contract_matter",
            "Only a dispute relating to the provisions of a GMS/PMS/APMS contract may be \
             referred to the FHSU."
                .into(),
        );
    }
    if s.d.inter_practice {
        push(
            "inter_practice_not_referable",
            "A dispute between two practices cannot be referred to the FHSU.".into(),
        );
    }
    let limit = deadlines::fhsu_by(s.d.matter_arose_on);
    if e.referred_on > limit {
        push(
            "referral_out_of_time",
            format!(
                "A referral had to be made by {} (three years beginning on {}).",
                long(limit),
                long(s.d.matter_arose_on)
            ),
        );
    }
    let parts = match referral_parts(s, e) {
        Ok(parts) => Some(parts),
        Err(missing) => {
            let message = format!("The referral is incomplete: {}.", missing.join("; "));
            push("referral_incomplete", message);
            None
        }
    };
    let (Some((statement, contract_document_id)), None) = (parts, violations.first()) else {
        let first = violations.first().cloned().unwrap_or(Violation {
            rule: "referral_incomplete",
            message: "The referral is incomplete.".into(),
        });
        return Err(Refusal::Rules {
            code: first.rule,
            detail: first.message,
            violations,
        });
    };
    s.d.referred_on = Some(e.referred_on);
    s.d.detail.fhsu_referral = Some(FhsuReferral {
        statement: statement.to_string(),
        contract_document_id: contract_document_id.to_string(),
        referred_on: e.referred_on,
        referred_by_org: s.sender.org_id.clone(),
    });
    s.record(
        json!({"statement": statement, "contract_document_id": contract_document_id,
        "referred_on": e.referred_on}),
    );
    let by = s.facts.party_name(&s.sender.org_id).to_string();
    s.notify(json!({"referred_on": e.referred_on, "statement": statement, "referred_by_name": by}));
    Ok(())
}

/// The statement and the contract document's id, or what `referral_incomplete` lists.
fn referral_parts<'e>(s: &Step, e: &'e ReferToFhsu) -> Result<(&'e str, &'e str), Vec<String>> {
    let mut missing = Vec::new();
    if e.statement.is_none() {
        missing.push("statement (what the FHSU is asked to determine)".to_string());
    }
    let named = e.contract_document_id.as_deref();
    let contract = named.filter(|id| {
        s.facts
            .documents
            .iter()
            .any(|d| d.id == *id && d.kind == DocumentKind::Contract)
    });
    match (named, contract) {
        (_, Some(_)) => {}
        (None, None) => missing.push(
            "contract_document_id (the id of a document of kind contract uploaded to this \
             dispute)"
                .to_string(),
        ),
        (Some(id), None) => missing.push(match s.facts.documents.iter().find(|d| d.id == id) {
            Some(d) => format!(
                "contract_document_id: {id} ({}) is a document of kind {}, not contract",
                d.name, d.kind
            ),
            None => format!("contract_document_id: {id} is not a document of this dispute"),
        }),
    }
    for (label, org) in [
        ("appellant", &s.facts.appellant),
        ("respondent", &s.facts.respondent),
    ] {
        if org.name.trim().is_empty() {
            missing.push(format!("the {label}'s name"));
        }
        if org.address.trim().len() < 3 {
            missing.push(format!("the {label}'s postal address"));
        }
    }
    if !s.facts.fhsu_in_directory {
        missing.push(
            "an FHSU to send it to: the directory has no organisation of kind fhsu (an admin \
             adds one with POST /api/v1/organisations)"
                .to_string(),
        );
    }
    match (e.statement.as_deref(), contract) {
        (Some(statement), Some(contract)) if missing.is_empty() => Ok((statement, contract)),
        _ => Err(missing),
    }
}

pub(super) fn record_fhsu_determination(
    s: &mut Step,
    e: &RecordFhsuDetermination,
) -> Result<(), Refusal> {
    refuse_if(e.determined_on > s.today, "determined_on", FUTURE)?;
    if let Some(referred) = s.d.referred_on {
        refuse_if(
            e.determined_on < referred,
            "determined_on",
            &format!(
                "must not be before {}, when the dispute was referred",
                long(referred)
            ),
        )?;
    }
    s.d.detail.fhsu_determination = Some(FhsuDetermination {
        determined_on: e.determined_on,
        outcome: Some(e.outcome),
        summary: e.summary.clone(),
    });
    let fields = json!({"determined_on": e.determined_on, "outcome": e.outcome,
        "summary": e.summary});
    s.record(fields.clone());
    s.notify(fields);
    Ok(())
}
