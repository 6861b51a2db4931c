//! Disputes for bulk seeding, built by the domain's own filing code ([`Dispute::file`]) and
//! stored as the service stores them ([`DisputeRow::of`]), so no bench spells out a row's
//! columns.

use chrono::NaiveDateTime;
use ldr::db::disputes::DisputeRow;
use ldr::domain::calendar::Calendar;
use ldr::domain::dispute::{Category, Dispute};
use ldr::domain::filing::{Filing, Sides};

/// Who a seeded dispute is between.
pub struct Parties<'a> {
    /// A practice.
    pub appellant: &'a str,
    /// Its commissioning group, which also screens the case.
    pub respondent: &'a str,
    pub lmc: Option<&'a str>,
    /// The practice user who files.
    pub filed_by: &'a str,
}

/// A contract-related prescribing dispute filed at `at`, in state `informal` (version 1),
/// exactly as the service files one (deadlines from `cal`); the caller changes what its bench needs.
pub fn filed(id: String, title: String, p: &Parties, at: NaiveDateTime, cal: &Calendar) -> Dispute {
    let filing = Filing {
        title,
        category: Category::Prescribing,
        appellant_id: p.appellant.into(),
        respondent_id: p.respondent.into(),
        summary: "The CCG reduced our prescribing budget without consultation.".into(),
        matter_arose_on: chrono::NaiveDate::from_ymd_opt(2025, 6, 1).unwrap(),
        contract_related: true,
    };
    let sides = Sides {
        inter_practice: false,
        screening_org_id: p.respondent.into(),
        lmc_area: String::new(),
    };
    Dispute::file(
        filing,
        sides,
        p.lmc.map(str::to_string),
        id,
        p.filed_by.into(),
        at,
        cal,
    )
}

/// [`filed`] as a row.
pub fn filed_row(
    id: String,
    title: String,
    p: &Parties,
    at: NaiveDateTime,
    cal: &Calendar,
) -> DisputeRow {
    DisputeRow::of(&filed(id, title, p, at, cal))
}
