//! Filing a dispute (`POST /disputes`): the body, which organisation plays which part, and the
//! new dispute in state `informal`.
//!
//! The service reads the two organisations the body names, asks [`sides`] which commissioning
//! group screens the case and in which area its LMC is, reads that LMC, then builds the dispute
//! with [`Dispute::file`] and sends [`crate::domain::notices::filed`].

use chrono::{NaiveDate, NaiveDateTime};
use serde_json::{json, Map, Value};

use super::calendar::Calendar;
use super::deadlines;
use super::dispute::{Category, Deadlines, Detail, Dispute, Org};
use super::fields::{FieldProblem, Fields};
use super::notices;
use super::panel::OrgKind;
use super::workflow::State;

/// The body of `POST /disputes`, checked: text fields must not be blank, and every problem is
/// listed in the 422.
#[derive(Debug, Clone, PartialEq, Eq, utoipa::ToSchema)]
#[schema(as = NewDispute, example = json!({"title": "Prescribing budget 2025/26", "category": "prescribing",
    "appellant_id": "3f1c2a9e-2b7d-4c55-9a10-6d2f0c1b8e47",
    "respondent_id": "8a0e4f61-93d2-4b7a-b5c3-1e9f7d2a6c08",
    "summary": "The ICB cut the practice's prescribing budget by 12% without consultation.",
    "matter_arose_on": "2025-06-01", "contract_related": true}))]
pub struct Filing {
    /// At most 200 characters.
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    pub category: Category,
    /// The caller's own organisation (a practice, or a commissioning group against a practice).
    #[schema(min_length = 1, max_length = 64)]
    pub appellant_id: String,
    /// A commissioning group, or (for a practice appellant) another practice.
    #[schema(min_length = 1, max_length = 64)]
    pub respondent_id: String,
    /// At most 20,000 characters.
    #[schema(min_length = 1, max_length = 20000)]
    pub summary: String,
    /// Not in the future; the FHSU time limit runs from it (rule 7).
    pub matter_arose_on: NaiveDate,
    /// The dispute relates directly to the provisions of a GMS/PMS/APMS contract.
    pub contract_related: bool,
}

impl Filing {
    /// Reads the body sent by a user of organisation `caller_org`, listing every problem.
    pub fn parse(
        body: &Map<String, Value>,
        caller_org: &str,
        today: NaiveDate,
    ) -> Result<Filing, Vec<FieldProblem>> {
        let mut f = Fields::new(body);
        let filing = Filing::read(&mut f, caller_org, today);
        f.finish("a dispute", &[], filing)
    }

    /// Every field is read (and its problems recorded) before any is required.
    fn read(f: &mut Fields, caller_org: &str, today: NaiveDate) -> Option<Filing> {
        let title = f.text("title", 200);
        let category = f.one_of::<Category>("category");
        let appellant_id = f.id("appellant_id");
        let respondent_id = f.id("respondent_id");
        let summary = f.text("summary", 20_000);
        let matter_arose_on = f.date("matter_arose_on");
        let contract_related = f.boolean("contract_related");
        if matter_arose_on.is_some_and(|m| m > today) {
            f.problem("matter_arose_on", "must not be in the future");
        }
        if appellant_id.as_ref().is_some_and(|a| a != caller_org) {
            f.problem("appellant_id", "must be your own organisation");
        }
        if appellant_id.is_some() && appellant_id == respondent_id {
            f.problem("respondent_id", "must differ from the appellant");
        }
        Some(Filing {
            title: title?,
            category: category?,
            appellant_id: appellant_id?,
            respondent_id: respondent_id?,
            summary: summary?,
            matter_arose_on: matter_arose_on?,
            contract_related: contract_related?,
        })
    }
}

/// Which part each organisation plays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sides {
    pub inter_practice: bool,
    /// Whose accountable officer screens the formal request (rule 1).
    pub screening_org_id: String,
    /// The area whose `lmc` organisation is "the LMC" of the dispute.
    pub lmc_area: String,
}

/// The parts of a practice ↔ commissioner or practice ↔ practice dispute. "The LMC" is the
/// one of the practice's area (the appellant practice's when both are practices); the
/// screening commissioning group is the commissioner party, or for two practices the
/// appellant's commissioning group.
pub fn sides(appellant: &Org, respondent: &Org) -> Result<Sides, FieldProblem> {
    use OrgKind::*;
    let (inter_practice, screening_org_id, lmc_area) =
        match (appellant.info.kind, respondent.info.kind) {
            (Practice, Commissioner) => (false, respondent.id.clone(), &appellant.info.area),
            (Commissioner, Practice) => (false, appellant.id.clone(), &respondent.info.area),
            (Practice, Practice) => {
                let Some(ccg) = appellant.info.commissioner_id else {
                    return Err(FieldProblem::new(
                        "appellant_id",
                        "names a practice with no commissioning group, so nobody could screen the \
                     case: an admin must set the practice's commissioner_id first",
                    ));
                };
                (true, ccg.to_string(), &appellant.info.area)
            }
            _ => {
                return Err(FieldProblem::new(
                    "respondent_id",
                    "a dispute is between a practice and a commissioner, or between two practices",
                ))
            }
        };
    Ok(Sides {
        inter_practice,
        screening_org_id,
        lmc_area: lmc_area.clone(),
    })
}

impl Dispute {
    /// The new dispute, in state `informal`, version 1.
    pub fn file(
        filing: Filing,
        sides: Sides,
        lmc_id: Option<String>,
        id: String,
        created_by: String,
        now: NaiveDateTime,
        calendar: &Calendar,
    ) -> Dispute {
        let fhsu_by = (filing.contract_related && !sides.inter_practice)
            .then(|| deadlines::fhsu_by(filing.matter_arose_on));
        let mut d = Dispute {
            id,
            title: filing.title,
            category: filing.category,
            appellant_id: filing.appellant_id,
            respondent_id: filing.respondent_id,
            summary: filing.summary,
            matter_arose_on: filing.matter_arose_on,
            contract_related: filing.contract_related,
            inter_practice: sides.inter_practice,
            screening_org_id: sides.screening_org_id,
            lmc_id,
            state: State::Informal,
            version: 1,
            mediator: None,
            lodged_on: None,
            lmc_consulted_on: None,
            panel: None,
            hearing: None,
            bundle_distributed_on: None,
            held_on: None,
            decided_on: None,
            decision_notified_on: None,
            referred_on: None,
            deadlines: Deadlines {
                fhsu_by,
                ..Deadlines::default()
            },
            next_sweep_on: None,
            detail: Detail::default(),
            created_by,
            created_at: now,
            updated_at: now,
        };
        d.next_sweep_on = notices::next_sweep_on(calendar, &d);
        d
    }

    /// The data of the history's first event, `file`.
    pub fn filing_data(&self) -> Value {
        json!({"title": self.title, "category": self.category, "appellant_id": self.appellant_id,
            "respondent_id": self.respondent_id, "summary": self.summary,
            "matter_arose_on": self.matter_arose_on, "contract_related": self.contract_related})
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::panel::OrgInfo;

    fn org(id: u128, kind: OrgKind, area: &str, ccg: Option<u128>) -> Org {
        let uuid = uuid::Uuid::from_u128(id);
        Org {
            id: uuid.to_string(),
            name: format!("org {id}"),
            address: "1 High Street".into(),
            info: OrgInfo {
                id: uuid,
                kind,
                area: area.into(),
                region: "East".into(),
                commissioner_id: ccg.map(uuid::Uuid::from_u128),
            },
        }
    }

    fn today() -> NaiveDate {
        "2026-03-02".parse().unwrap()
    }

    #[test]
    fn every_bad_field_of_a_filing_is_listed() {
        let body = json!({"title": "", "category": "nonsense", "appellant_id": "ccg",
            "respondent_id": "ccg", "summary": "s", "matter_arose_on": "2099-01-01", "colour": "red"});
        let problems = Filing::parse(body.as_object().unwrap(), "elm", today()).unwrap_err();
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "title",
                "category",
                "contract_related",
                "matter_arose_on",
                "appellant_id",
                "respondent_id",
                "colour"
            ]
        );
        assert_eq!(
            problems[1].message,
            "must be one of: referral_management, prescribing, objectives, quality_premium, \
             contract, other"
        );
    }

    #[test]
    fn sides_follow_the_kinds_and_a_filing_makes_an_informal_dispute() {
        let practice = org(1, OrgKind::Practice, "North Essex", Some(2));
        let ccg = org(2, OrgKind::Commissioner, "North Essex", None);
        let other = org(3, OrgKind::Practice, "South Essex", Some(4));
        let lmc = org(5, OrgKind::Lmc, "North Essex", None);
        let s = sides(&practice, &ccg).unwrap();
        assert_eq!(
            (s.inter_practice, s.screening_org_id.as_str()),
            (false, ccg.id.as_str())
        );
        let s = sides(&ccg, &other).unwrap();
        assert_eq!(
            (s.screening_org_id.as_str(), s.lmc_area.as_str()),
            (ccg.id.as_str(), "South Essex")
        );
        let s = sides(&practice, &other).unwrap();
        assert!(s.inter_practice);
        assert_eq!(s.screening_org_id, ccg.id);
        assert_eq!(sides(&ccg, &ccg).unwrap_err().field, "respondent_id");
        assert_eq!(sides(&practice, &lmc).unwrap_err().field, "respondent_id");
        let orphan = org(6, OrgKind::Practice, "North Essex", None);
        assert_eq!(sides(&orphan, &practice).unwrap_err().field, "appellant_id");

        let body = json!({"title": "t", "category": "prescribing", "appellant_id": practice.id,
            "respondent_id": ccg.id, "summary": "s", "matter_arose_on": "2025-06-01",
            "contract_related": true});
        let filing = Filing::parse(body.as_object().unwrap(), &practice.id, today()).unwrap();
        let now = today().and_hms_opt(9, 0, 0).unwrap();
        let d = Dispute::file(
            filing,
            sides(&practice, &ccg).unwrap(),
            Some(lmc.id.clone()),
            "d1".into(),
            "u1".into(),
            now,
            &Calendar::computed(),
        );
        assert_eq!((d.state, d.version), (State::Informal, 1));
        assert_eq!(d.deadlines.fhsu_by, Some("2028-05-31".parse().unwrap()));
        assert_eq!(d.next_sweep_on, None);
        assert_eq!(d.filing_data()["category"], "prescribing");
        assert_eq!(d.filing_data()["matter_arose_on"], "2025-06-01");
    }
}
