//! Local Dispute Resolution Panel: composition and conflict checks
//! (product spec, rule 2 — `appoint_panel`).
//!
//! A panel has exactly three voting members, three different people:
//!
//! * a *clinical member* (panel role `clinical_board_member`, from an
//!   organisation of kind [`OrgKind::Commissioner`]),
//! * a *GP conciliator* (panel role `gp_conciliator`),
//! * an *LMC representative* (panel role `lmc_representative`, from an
//!   organisation of kind [`OrgKind::Lmc`]),
//!
//! plus a non-voting *secretary* (user role `panel_secretary`) who is none of
//! the three. The chair is one of the three voting members.
//!
//! Conflict rules:
//!
//! * the clinical member's commissioning group (their organisation) is neither
//!   a party nor the commissioning group of a party practice;
//! * the LMC representative's organisation is in a different `area` from both
//!   parties and, for an inter-practice dispute, also in a different `region`;
//! * no member (voting members and secretary) belongs to a party organisation,
//!   has an interest in a party on the interests register, or was the stage-1
//!   mediator of this case;
//! * every referenced user exists and is active.
//!
//! [`check_composition`] lists *every* violation (an empty list means the
//! panel may be appointed). Each violation carries a stable snake_case rule id
//! (see [`rule`]) and a human-readable message naming the person and their
//! seat ("Dr Amir Shah, proposed as the GP conciliator, …") and, where
//! relevant, the party. It avoids cascades that restate one fact:
//!
//! * a seat whose user is unknown is reported once (`member_unknown`) and no
//!   other check is made on it; a chair check that could depend on it is
//!   skipped;
//! * person-level checks (inactive, party membership, interests, mediator) are
//!   made once per person, even when that person fills two seats;
//! * the clinical member's commissioning-group check applies only if their
//!   organisation is a commissioner, and the LMC area/region checks only if
//!   the representative's organisation is an LMC (otherwise the org-kind
//!   violation is the whole story);
//! * a clinical member whose commissioning group *is* a party is reported as
//!   `clinical_member_party_commissioner`, not again as `member_of_party`;
//! * an interest in a party is not reported for a person who already belongs
//!   to that party.

use serde::Serialize;
use uuid::Uuid;

/// Stable rule identifiers carried in [`Violation::rule`].
pub mod rule {
    /// A seat names no known user.
    pub const MEMBER_UNKNOWN: &str = "member_unknown";
    /// A member (or the secretary) is not an active user.
    pub const MEMBER_INACTIVE: &str = "member_inactive";
    /// The clinical member lacks the `clinical_board_member` panel role.
    pub const CLINICAL_MEMBER_ROLE: &str = "clinical_member_role";
    /// The clinical member's organisation is not a commissioner.
    pub const CLINICAL_MEMBER_ORG_KIND: &str = "clinical_member_org_kind";
    /// The GP conciliator lacks the `gp_conciliator` panel role.
    pub const GP_CONCILIATOR_ROLE: &str = "gp_conciliator_role";
    /// The LMC representative lacks the `lmc_representative` panel role.
    pub const LMC_REPRESENTATIVE_ROLE: &str = "lmc_representative_role";
    /// The LMC representative's organisation is not an LMC.
    pub const LMC_REPRESENTATIVE_ORG_KIND: &str = "lmc_representative_org_kind";
    /// The secretary lacks the `panel_secretary` user role.
    pub const SECRETARY_ROLE: &str = "secretary_role";
    /// Two voting seats are filled by the same person.
    pub const MEMBERS_NOT_DISTINCT: &str = "members_not_distinct";
    /// The secretary also fills a voting seat.
    pub const SECRETARY_IS_MEMBER: &str = "secretary_is_member";
    /// The clinical member's commissioning group is a party, or commissions a
    /// party practice.
    pub const CLINICAL_MEMBER_PARTY_COMMISSIONER: &str = "clinical_member_party_commissioner";
    /// The LMC representative's organisation is in the same area as a party.
    pub const LMC_REPRESENTATIVE_SAME_AREA: &str = "lmc_representative_same_area";
    /// Inter-practice dispute: the LMC representative's organisation is in the
    /// same region as a party.
    pub const LMC_REPRESENTATIVE_SAME_REGION: &str = "lmc_representative_same_region";
    /// A member (or the secretary) belongs to a party organisation.
    pub const MEMBER_OF_PARTY: &str = "member_of_party";
    /// A member (or the secretary) has an interest in a party on the register.
    pub const MEMBER_INTEREST_IN_PARTY: &str = "member_interest_in_party";
    /// A member (or the secretary) was the stage-1 mediator of this case.
    pub const MEMBER_WAS_MEDIATOR: &str = "member_was_mediator";
    /// The chair is not one of the three voting members.
    pub const CHAIR_NOT_MEMBER: &str = "chair_not_member";

    /// Every rule id, in the order checks are reported.
    pub const ALL: [&str; 17] = [
        MEMBER_UNKNOWN,
        MEMBER_INACTIVE,
        CLINICAL_MEMBER_ROLE,
        CLINICAL_MEMBER_ORG_KIND,
        GP_CONCILIATOR_ROLE,
        LMC_REPRESENTATIVE_ROLE,
        LMC_REPRESENTATIVE_ORG_KIND,
        SECRETARY_ROLE,
        MEMBERS_NOT_DISTINCT,
        SECRETARY_IS_MEMBER,
        CLINICAL_MEMBER_PARTY_COMMISSIONER,
        LMC_REPRESENTATIVE_SAME_AREA,
        LMC_REPRESENTATIVE_SAME_REGION,
        MEMBER_OF_PARTY,
        MEMBER_INTEREST_IN_PARTY,
        MEMBER_WAS_MEDIATOR,
        CHAIR_NOT_MEMBER,
    ];
}

const PANEL_ROLE_CLINICAL: &str = "clinical_board_member";
const PANEL_ROLE_GP_CONCILIATOR: &str = "gp_conciliator";
const PANEL_ROLE_LMC: &str = "lmc_representative";
const USER_ROLE_SECRETARY: &str = "panel_secretary";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrgKind {
    Practice,
    Commissioner,
    Lmc,
    Fhsu,
}

#[derive(Debug, Clone)]
pub struct OrgInfo {
    pub id: Uuid,
    pub kind: OrgKind,
    pub area: String,
    pub region: String,
    /// A practice's commissioning group.
    pub commissioner_id: Option<Uuid>,
}

#[derive(Debug, Clone)]
pub struct Candidate {
    pub id: Uuid,
    /// The user's name, so that a violation names the person ("" names only the seat).
    pub name: String,
    pub active: bool,
    /// User roles, e.g. `"panel_secretary"`, `"panelist"`.
    pub roles: Vec<String>,
    /// `"clinical_board_member"` | `"gp_conciliator"` | `"lmc_representative"`.
    pub panel_roles: Vec<String>,
    pub org: OrgInfo,
    /// Organisation ids on this user's register of interests.
    pub interests: Vec<Uuid>,
}

pub struct PanelRequest<'a> {
    /// `None` = the id given does not name a user.
    pub clinical_member: Option<&'a Candidate>,
    pub gp_conciliator: Option<&'a Candidate>,
    pub lmc_representative: Option<&'a Candidate>,
    pub secretary: Option<&'a Candidate>,
    pub chair_id: Uuid,
    pub appellant: &'a OrgInfo,
    pub respondent: &'a OrgInfo,
    pub inter_practice: bool,
    /// The stage-1 mediator of this case.
    pub mediator_id: Option<Uuid>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    pub rule: &'static str,
    pub message: String,
}

impl Violation {
    fn new(rule: &'static str, message: String) -> Self {
        Self { rule, message }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Seat {
    ClinicalMember,
    GpConciliator,
    LmcRepresentative,
    Secretary,
}

impl Seat {
    /// Name of the seat without article, e.g. "GP conciliator".
    fn name(self) -> &'static str {
        match self {
            Seat::ClinicalMember => "clinical member",
            Seat::GpConciliator => "GP conciliator",
            Seat::LmcRepresentative => "LMC representative",
            Seat::Secretary => "panel secretary",
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Party {
    Appellant,
    Respondent,
}

impl Party {
    fn name(self) -> &'static str {
        match self {
            Party::Appellant => "appellant",
            Party::Respondent => "respondent",
        }
    }
}

/// "Dr Amir Shah, proposed as the GP conciliator," — or "the GP conciliator"
/// when the candidate's name is not known.
fn who(seat: Seat, c: &Candidate) -> String {
    who_in(&c.name, &[seat])
}

/// [`who`] for someone put in one or more seats (the first is the one they are
/// reported under).
fn who_in(name: &str, seats: &[Seat]) -> String {
    let first = seats[0].name();
    let others: Vec<String> = seats[1..]
        .iter()
        .map(|s| format!("the {}", s.name()))
        .collect();
    match (name.trim(), others.is_empty()) {
        ("", true) => format!("the {first}"),
        ("", false) => format!("the {first} (also sitting as {})", others.join(" and ")),
        (name, true) => format!("{name}, proposed as the {first},"),
        (name, false) => format!(
            "{name}, proposed as the {first} (also as {}),",
            others.join(" and ")
        ),
    }
}

/// One person on the proposed panel and every seat they were put in, in seat
/// order.
struct Person<'a> {
    candidate: &'a Candidate,
    seats: Vec<Seat>,
}

impl Person<'_> {
    /// "Dr Amir Shah, proposed as the clinical member," (see [`who_in`]), or
    /// "the clinical member (also sitting as the GP conciliator)" for someone
    /// unnamed put in two seats.
    fn label(&self) -> String {
        who_in(&self.candidate.name, &self.seats)
    }

    fn holds(&self, seat: Seat) -> bool {
        self.seats.contains(&seat)
    }
}

fn has(list: &[String], wanted: &str) -> bool {
    list.iter().any(|r| r == wanted)
}

fn org_kind_name(kind: OrgKind) -> &'static str {
    match kind {
        OrgKind::Practice => "a practice",
        OrgKind::Commissioner => "a commissioner",
        OrgKind::Lmc => "an LMC",
        OrgKind::Fhsu => "the FHSU",
    }
}

/// Whether `clinical_org` is a commissioning group the clinical member may not
/// come from for `party`; returns the message's end if so ("is from …").
fn commissioner_conflict(clinical_org: &OrgInfo, party: &OrgInfo, which: Party) -> Option<String> {
    match party.kind {
        OrgKind::Commissioner if party.id == clinical_org.id => Some(format!(
            "is from the {}, a commissioning group that is a party",
            which.name()
        )),
        OrgKind::Practice if party.commissioner_id == Some(clinical_org.id) => Some(format!(
            "is from the commissioning group of the {} practice",
            which.name()
        )),
        _ => None,
    }
}

/// Checks a proposed Local Dispute Resolution Panel against rule 2 and lists
/// every violation found; an empty list means the panel is valid.
pub fn check_composition(req: &PanelRequest) -> Vec<Violation> {
    let mut out = Vec::new();
    let seats = [
        (Seat::ClinicalMember, req.clinical_member),
        (Seat::GpConciliator, req.gp_conciliator),
        (Seat::LmcRepresentative, req.lmc_representative),
        (Seat::Secretary, req.secretary),
    ];
    let parties = [
        (Party::Appellant, req.appellant),
        (Party::Respondent, req.respondent),
    ];

    // Every referenced user exists. An unknown seat gets no further checks.
    for (seat, candidate) in seats {
        if candidate.is_none() {
            out.push(Violation::new(
                rule::MEMBER_UNKNOWN,
                format!("the {} does not name a known user", seat.name()),
            ));
        }
    }

    // Group the known seats by person, so that person-level facts are stated
    // once even if the same user was put in two seats.
    let mut people: Vec<Person> = Vec::new();
    for (seat, candidate) in seats {
        let Some(c) = candidate else { continue };
        match people.iter_mut().find(|p| p.candidate.id == c.id) {
            Some(p) => p.seats.push(seat),
            None => people.push(Person {
                candidate: c,
                seats: vec![seat],
            }),
        }
    }

    for p in &people {
        if !p.candidate.active {
            out.push(Violation::new(
                rule::MEMBER_INACTIVE,
                format!("{} is not an active user", p.label()),
            ));
        }
    }

    // Roles and organisation kinds, seat by seat.
    if let Some(c) = req.clinical_member {
        if !has(&c.panel_roles, PANEL_ROLE_CLINICAL) {
            out.push(Violation::new(
                rule::CLINICAL_MEMBER_ROLE,
                format!(
                    "{} does not hold the clinical board member panel role",
                    who(Seat::ClinicalMember, c)
                ),
            ));
        }
        if c.org.kind != OrgKind::Commissioner {
            out.push(Violation::new(
                rule::CLINICAL_MEMBER_ORG_KIND,
                format!(
                    "{} is from {}, not a commissioning group",
                    who(Seat::ClinicalMember, c),
                    org_kind_name(c.org.kind)
                ),
            ));
        }
    }
    if let Some(c) = req.gp_conciliator {
        if !has(&c.panel_roles, PANEL_ROLE_GP_CONCILIATOR) {
            out.push(Violation::new(
                rule::GP_CONCILIATOR_ROLE,
                format!(
                    "{} does not hold the GP conciliator panel role",
                    who(Seat::GpConciliator, c)
                ),
            ));
        }
    }
    if let Some(c) = req.lmc_representative {
        if !has(&c.panel_roles, PANEL_ROLE_LMC) {
            out.push(Violation::new(
                rule::LMC_REPRESENTATIVE_ROLE,
                format!(
                    "{} does not hold the LMC representative panel role",
                    who(Seat::LmcRepresentative, c)
                ),
            ));
        }
        if c.org.kind != OrgKind::Lmc {
            out.push(Violation::new(
                rule::LMC_REPRESENTATIVE_ORG_KIND,
                format!(
                    "{} is from {}, not an LMC",
                    who(Seat::LmcRepresentative, c),
                    org_kind_name(c.org.kind)
                ),
            ));
        }
    }
    if let Some(c) = req.secretary {
        if !has(&c.roles, USER_ROLE_SECRETARY) {
            out.push(Violation::new(
                rule::SECRETARY_ROLE,
                format!(
                    "{} does not hold the panel secretary user role",
                    who(Seat::Secretary, c)
                ),
            ));
        }
    }

    // Three different people, and a secretary who is none of them.
    let voting = [
        (Seat::ClinicalMember, req.clinical_member),
        (Seat::GpConciliator, req.gp_conciliator),
        (Seat::LmcRepresentative, req.lmc_representative),
    ];
    for (j, (seat_j, cand_j)) in voting.iter().enumerate() {
        let Some(cj) = cand_j else { continue };
        let earlier = voting[..j]
            .iter()
            .find(|(_, ci)| ci.is_some_and(|ci| ci.id == cj.id));
        if let Some((seat_i, _)) = earlier {
            out.push(Violation::new(
                rule::MEMBERS_NOT_DISTINCT,
                format!(
                    "{} is the same person as the {}",
                    who(*seat_j, cj),
                    seat_i.name()
                ),
            ));
        }
    }
    if let Some(sec) = req.secretary {
        let also: Vec<String> = voting
            .iter()
            .filter(|(_, c)| c.is_some_and(|c| c.id == sec.id))
            .map(|(seat, _)| format!("the {}", seat.name()))
            .collect();
        if !also.is_empty() {
            out.push(Violation::new(
                rule::SECRETARY_IS_MEMBER,
                format!(
                    "{} also sits as {}, but the secretary does not vote",
                    who(Seat::Secretary, sec),
                    also.join(" and ")
                ),
            ));
        }
    }

    // The clinical member's commissioning group is not a party's.
    if let Some(c) = req
        .clinical_member
        .filter(|c| c.org.kind == OrgKind::Commissioner)
    {
        for (which, party) in parties {
            if let Some(msg) = commissioner_conflict(&c.org, party, which) {
                out.push(Violation::new(
                    rule::CLINICAL_MEMBER_PARTY_COMMISSIONER,
                    format!("{} {msg}", who(Seat::ClinicalMember, c)),
                ));
            }
        }
    }

    // The LMC representative comes from another area (and, for an
    // inter-practice dispute, another region) than either party.
    if let Some(c) = req
        .lmc_representative
        .filter(|c| c.org.kind == OrgKind::Lmc)
    {
        for (which, party) in parties {
            if party.id == c.org.id {
                // Reported as `member_of_party` below.
                continue;
            }
            if c.org.area == party.area {
                out.push(Violation::new(
                    rule::LMC_REPRESENTATIVE_SAME_AREA,
                    format!(
                        "{} is from an LMC in the same area ({}) as the {}",
                        who(Seat::LmcRepresentative, c),
                        party.area,
                        which.name()
                    ),
                ));
            }
            if req.inter_practice && c.org.region == party.region {
                out.push(Violation::new(
                    rule::LMC_REPRESENTATIVE_SAME_REGION,
                    format!(
                        "{} is from an LMC in the same region ({}) as the {}: in a dispute \
                         between practices the LMC representative must come from outside \
                         the parties' regions",
                        who(Seat::LmcRepresentative, c),
                        party.region,
                        which.name()
                    ),
                ));
            }
        }
    }

    // Conflicts of interest, once per person.
    for p in &people {
        let c = p.candidate;
        let label = p.label();
        for (which, party) in parties {
            let belongs = c.org.id == party.id;
            let already_reported = p.holds(Seat::ClinicalMember)
                && c.org.kind == OrgKind::Commissioner
                && commissioner_conflict(&c.org, party, which).is_some();
            if belongs && !already_reported {
                out.push(Violation::new(
                    rule::MEMBER_OF_PARTY,
                    format!("{label} belongs to the {} organisation", which.name()),
                ));
            }
            if !belongs && c.interests.contains(&party.id) {
                out.push(Violation::new(
                    rule::MEMBER_INTEREST_IN_PARTY,
                    format!(
                        "{label} has an interest in the {} on the interests register",
                        which.name()
                    ),
                ));
            }
        }
        if req.mediator_id == Some(c.id) {
            out.push(Violation::new(
                rule::MEMBER_WAS_MEDIATOR,
                format!("{label} was the stage-1 mediator of this case"),
            ));
        }
    }

    // The chair is one of the three voting members.
    let chair_votes = voting
        .iter()
        .any(|(_, c)| c.is_some_and(|c| c.id == req.chair_id));
    if !chair_votes {
        if let Some(s) = req.secretary.filter(|s| s.id == req.chair_id) {
            out.push(Violation::new(
                rule::CHAIR_NOT_MEMBER,
                format!(
                    "the chair is {}, who is not a voting member",
                    who(Seat::Secretary, s).trim_end_matches(',')
                ),
            ));
        } else if voting.iter().all(|(_, c)| c.is_some()) {
            out.push(Violation::new(
                rule::CHAIR_NOT_MEMBER,
                "the chair is not one of the three voting members".into(),
            ));
        }
        // Otherwise a voting seat is unknown and the chair may be that very
        // user: `member_unknown` already says what is wrong.
    }

    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn org(kind: OrgKind, area: &str, region: &str, commissioner_id: Option<Uuid>) -> OrgInfo {
        OrgInfo {
            id: Uuid::new_v4(),
            kind,
            area: area.into(),
            region: region.into(),
            commissioner_id,
        }
    }

    fn person(org: &OrgInfo, roles: &[&str], panel_roles: &[&str]) -> Candidate {
        Candidate {
            id: Uuid::new_v4(),
            name: String::new(),
            active: true,
            roles: roles.iter().map(|s| s.to_string()).collect(),
            panel_roles: panel_roles.iter().map(|s| s.to_string()).collect(),
            org: org.clone(),
            interests: Vec::new(),
        }
    }

    /// An owned proposal; `check` borrows it into a `PanelRequest`.
    struct Fixture {
        clinical: Option<Candidate>,
        gp: Option<Candidate>,
        lmc: Option<Candidate>,
        secretary: Option<Candidate>,
        chair_id: Uuid,
        appellant: OrgInfo,
        respondent: OrgInfo,
        inter_practice: bool,
        mediator_id: Option<Uuid>,
        /// Organisations used by the fixture, for building conflicts.
        appellant_commissioner: OrgInfo,
        other_commissioner: OrgInfo,
        other_lmc_same_area: OrgInfo,
    }

    impl Fixture {
        /// A valid practice-vs-commissioner panel: the appellant practice in
        /// Leeds is commissioned by the respondent. The LMC representative is
        /// from Wakefield, in the same region (allowed: not inter-practice).
        fn practice_v_commissioner() -> Self {
            let respondent = org(OrgKind::Commissioner, "Leeds", "Yorkshire", None);
            let appellant = org(OrgKind::Practice, "Leeds", "Yorkshire", Some(respondent.id));
            let clinical_org = org(OrgKind::Commissioner, "Bradford", "Yorkshire", None);
            let gp_org = org(OrgKind::Practice, "York", "Yorkshire", None);
            let lmc_org = org(OrgKind::Lmc, "Wakefield", "Yorkshire", None);
            let fhsu = org(OrgKind::Fhsu, "England", "England", None);
            let clinical = person(&clinical_org, &["panelist"], &["clinical_board_member"]);
            let chair_id = clinical.id;
            Fixture {
                gp: Some(person(&gp_org, &["panelist"], &["gp_conciliator"])),
                lmc: Some(person(&lmc_org, &["panelist"], &["lmc_representative"])),
                secretary: Some(person(&fhsu, &["panel_secretary"], &[])),
                clinical: Some(clinical),
                chair_id,
                other_lmc_same_area: org(OrgKind::Lmc, "Leeds", "Yorkshire", None),
                appellant_commissioner: respondent.clone(),
                other_commissioner: clinical_org,
                appellant,
                respondent,
                inter_practice: false,
                mediator_id: Some(Uuid::new_v4()),
            }
        }

        /// A valid inter-practice panel: Leeds practice v Bradford practice
        /// (both Yorkshire); the LMC representative is from Newcastle.
        fn inter_practice() -> Self {
            let mut f = Self::practice_v_commissioner();
            let ca = org(OrgKind::Commissioner, "Leeds", "Yorkshire", None);
            let cb = org(OrgKind::Commissioner, "Bradford", "Yorkshire", None);
            let cc = org(OrgKind::Commissioner, "Sheffield", "Yorkshire", None);
            f.appellant = org(OrgKind::Practice, "Leeds", "Yorkshire", Some(ca.id));
            f.respondent = org(OrgKind::Practice, "Bradford", "Yorkshire", Some(cb.id));
            f.inter_practice = true;
            let lmc_org = org(OrgKind::Lmc, "Newcastle", "North East", None);
            f.clinical.as_mut().unwrap().org = cc.clone();
            f.lmc.as_mut().unwrap().org = lmc_org;
            f.appellant_commissioner = ca;
            f.other_commissioner = cc;
            f
        }

        fn check(&self) -> Vec<Violation> {
            check_composition(&PanelRequest {
                clinical_member: self.clinical.as_ref(),
                gp_conciliator: self.gp.as_ref(),
                lmc_representative: self.lmc.as_ref(),
                secretary: self.secretary.as_ref(),
                chair_id: self.chair_id,
                appellant: &self.appellant,
                respondent: &self.respondent,
                inter_practice: self.inter_practice,
                mediator_id: self.mediator_id,
            })
        }

        fn clinical(&mut self) -> &mut Candidate {
            self.clinical.as_mut().unwrap()
        }
        fn gp(&mut self) -> &mut Candidate {
            self.gp.as_mut().unwrap()
        }
        fn lmc(&mut self) -> &mut Candidate {
            self.lmc.as_mut().unwrap()
        }
        fn secretary(&mut self) -> &mut Candidate {
            self.secretary.as_mut().unwrap()
        }
    }

    fn rules(v: &[Violation]) -> Vec<&'static str> {
        v.iter().map(|v| v.rule).collect()
    }

    /// Asserts the violations are exactly `expected`, in order.
    #[track_caller]
    fn assert_rules(v: &[Violation], expected: &[&str]) {
        assert_eq!(rules(v), expected, "violations: {v:#?}");
    }

    #[track_caller]
    fn assert_only(f: &Fixture, rule: &str) -> Vec<Violation> {
        let v = f.check();
        assert_rules(&v, &[rule]);
        v
    }

    // ---- valid panels -------------------------------------------------

    #[test]
    fn valid_practice_v_commissioner_panel_passes() {
        let f = Fixture::practice_v_commissioner();
        assert_eq!(f.check(), vec![]);
    }

    #[test]
    fn valid_inter_practice_panel_passes() {
        let f = Fixture::inter_practice();
        assert_eq!(f.check(), vec![]);
    }

    #[test]
    fn any_voting_member_may_chair() {
        let mut f = Fixture::practice_v_commissioner();
        f.chair_id = f.gp.as_ref().unwrap().id;
        assert_eq!(f.check(), vec![]);
        f.chair_id = f.lmc.as_ref().unwrap().id;
        assert_eq!(f.check(), vec![]);
    }

    #[test]
    fn extra_roles_and_unrelated_interests_are_fine() {
        let mut f = Fixture::practice_v_commissioner();
        f.gp().panel_roles.push("lmc_representative".into());
        f.secretary().roles.push("panelist".into());
        f.clinical().interests.push(Uuid::new_v4());
        assert_eq!(f.check(), vec![]);
    }

    #[test]
    fn interest_in_a_party_practice_commissioner_is_not_an_interest_in_a_party() {
        let mut f = Fixture::inter_practice();
        let ca = f.appellant_commissioner.id;
        f.gp().interests.push(ca);
        assert_eq!(f.check(), vec![]);
    }

    #[test]
    fn no_mediator_recorded_is_fine() {
        let mut f = Fixture::practice_v_commissioner();
        f.mediator_id = None;
        assert_eq!(f.check(), vec![]);
    }

    // ---- each rule alone ----------------------------------------------

    #[test]
    fn member_unknown_for_each_seat() {
        for seat in 0..4 {
            let mut f = Fixture::practice_v_commissioner();
            // The chair is the LMC representative unless that seat is the
            // unknown one (see the next test for that case).
            f.chair_id = f.lmc.as_ref().unwrap().id;
            match seat {
                0 => f.clinical = None,
                1 => f.gp = None,
                2 => {
                    f.lmc = None;
                    f.chair_id = f.gp.as_ref().unwrap().id;
                }
                _ => f.secretary = None,
            }
            let v = assert_only(&f, rule::MEMBER_UNKNOWN);
            let name = [
                "clinical member",
                "GP conciliator",
                "LMC representative",
                "panel secretary",
            ][seat];
            assert_eq!(
                v[0].message,
                format!("the {name} does not name a known user")
            );
        }
    }

    #[test]
    fn unknown_chair_seat_does_not_cascade_into_chair_not_member() {
        // The chair id named the clinical member, whose id names no user.
        let mut f = Fixture::practice_v_commissioner();
        f.clinical = None;
        assert_only(&f, rule::MEMBER_UNKNOWN);
    }

    #[test]
    fn member_inactive() {
        let mut f = Fixture::practice_v_commissioner();
        f.lmc().active = false;
        let v = assert_only(&f, rule::MEMBER_INACTIVE);
        assert_eq!(v[0].message, "the LMC representative is not an active user");

        let mut f = Fixture::practice_v_commissioner();
        f.secretary().active = false;
        let v = assert_only(&f, rule::MEMBER_INACTIVE);
        assert!(v[0].message.contains("panel secretary"));
    }

    #[test]
    fn clinical_member_role() {
        let mut f = Fixture::practice_v_commissioner();
        f.clinical().panel_roles = vec!["gp_conciliator".into()];
        assert_only(&f, rule::CLINICAL_MEMBER_ROLE);
    }

    #[test]
    fn clinical_member_org_kind() {
        let mut f = Fixture::practice_v_commissioner();
        f.clinical().org = org(OrgKind::Practice, "Hull", "Yorkshire", None);
        let v = assert_only(&f, rule::CLINICAL_MEMBER_ORG_KIND);
        assert!(v[0].message.contains("a practice"), "{}", v[0].message);
    }

    #[test]
    fn gp_conciliator_role() {
        let mut f = Fixture::practice_v_commissioner();
        f.gp().panel_roles.clear();
        assert_only(&f, rule::GP_CONCILIATOR_ROLE);
    }

    #[test]
    fn lmc_representative_role() {
        let mut f = Fixture::practice_v_commissioner();
        f.lmc().panel_roles = vec!["clinical_board_member".into()];
        assert_only(&f, rule::LMC_REPRESENTATIVE_ROLE);
    }

    #[test]
    fn lmc_representative_org_kind_suppresses_area_checks() {
        // A non-LMC organisation in the parties' own area: only the org kind
        // is reported, not the area of an organisation that is not an LMC.
        let mut f = Fixture::practice_v_commissioner();
        f.lmc().org = org(OrgKind::Fhsu, "Leeds", "Yorkshire", None);
        let v = assert_only(&f, rule::LMC_REPRESENTATIVE_ORG_KIND);
        assert!(v[0].message.contains("the FHSU"), "{}", v[0].message);
    }

    #[test]
    fn secretary_role() {
        let mut f = Fixture::practice_v_commissioner();
        f.secretary().roles = vec!["panelist".into()];
        assert_only(&f, rule::SECRETARY_ROLE);
    }

    #[test]
    fn secretary_role_is_a_user_role_not_a_panel_role() {
        let mut f = Fixture::practice_v_commissioner();
        f.secretary().roles.clear();
        f.secretary().panel_roles = vec!["panel_secretary".into()];
        assert_only(&f, rule::SECRETARY_ROLE);
    }

    #[test]
    fn members_not_distinct_same_person_in_two_seats() {
        let mut f = Fixture::practice_v_commissioner();
        // The clinical member, who also holds the GP conciliator role, is put
        // in the GP conciliator seat too.
        f.clinical().panel_roles.push("gp_conciliator".into());
        f.gp = f.clinical.clone();
        let v = assert_only(&f, rule::MEMBERS_NOT_DISTINCT);
        assert_eq!(
            v[0].message,
            "the GP conciliator is the same person as the clinical member"
        );
    }

    #[test]
    fn members_not_distinct_same_person_in_three_seats() {
        let mut f = Fixture::practice_v_commissioner();
        let mut lmc = f.lmc.clone().unwrap();
        lmc.panel_roles = vec![
            "clinical_board_member".into(),
            "gp_conciliator".into(),
            "lmc_representative".into(),
        ];
        // An LMC person in all three seats: the clinical seat also fails on
        // organisation kind, which is a genuine second problem.
        f.chair_id = lmc.id;
        f.clinical = Some(lmc.clone());
        f.gp = Some(lmc.clone());
        f.lmc = Some(lmc);
        let v = f.check();
        assert_rules(
            &v,
            &[
                rule::CLINICAL_MEMBER_ORG_KIND,
                rule::MEMBERS_NOT_DISTINCT,
                rule::MEMBERS_NOT_DISTINCT,
            ],
        );
        assert_eq!(
            v[1].message,
            "the GP conciliator is the same person as the clinical member"
        );
        assert_eq!(
            v[2].message,
            "the LMC representative is the same person as the clinical member"
        );
    }

    #[test]
    fn same_person_in_two_seats_person_level_facts_reported_once() {
        let mut f = Fixture::practice_v_commissioner();
        f.clinical().panel_roles.push("gp_conciliator".into());
        f.clinical().active = false;
        f.gp = f.clinical.clone();
        let v = f.check();
        assert_rules(&v, &[rule::MEMBER_INACTIVE, rule::MEMBERS_NOT_DISTINCT]);
        assert_eq!(
            v[0].message,
            "the clinical member (also sitting as the GP conciliator) is not an active user"
        );
    }

    #[test]
    fn same_person_in_two_seats_without_the_second_role() {
        // Each seat is still checked for its own role: the clinical member
        // put in the GP conciliator seat does not hold that role.
        let mut f = Fixture::practice_v_commissioner();
        f.gp = f.clinical.clone();
        assert_rules(
            &f.check(),
            &[rule::GP_CONCILIATOR_ROLE, rule::MEMBERS_NOT_DISTINCT],
        );
    }

    #[test]
    fn secretary_is_member() {
        let mut f = Fixture::practice_v_commissioner();
        f.gp().roles.push("panel_secretary".into());
        f.secretary = f.gp.clone();
        let v = assert_only(&f, rule::SECRETARY_IS_MEMBER);
        assert_eq!(
            v[0].message,
            "the panel secretary also sits as the GP conciliator, but the secretary does not vote"
        );
    }

    #[test]
    fn secretary_sitting_as_the_chair_member_is_not_also_chair_not_member() {
        // The chair is the clinical member, who is also (wrongly) the
        // secretary: the chair does vote, so only `secretary_is_member`.
        let mut f = Fixture::practice_v_commissioner();
        f.clinical().roles.push("panel_secretary".into());
        f.secretary = f.clinical.clone();
        assert_only(&f, rule::SECRETARY_IS_MEMBER);
    }

    #[test]
    fn clinical_member_from_party_practice_commissioner() {
        let mut f = Fixture::inter_practice();
        f.clinical().org = f.appellant_commissioner.clone();
        let v = assert_only(&f, rule::CLINICAL_MEMBER_PARTY_COMMISSIONER);
        assert_eq!(
            v[0].message,
            "the clinical member is from the commissioning group of the appellant practice"
        );
    }

    #[test]
    fn clinical_member_from_commissioner_party_reported_once() {
        // The respondent is a commissioner and also commissions the appellant
        // practice: two distinct facts, each reported once, and no duplicate
        // `member_of_party`.
        let mut f = Fixture::practice_v_commissioner();
        f.clinical().org = f.respondent.clone();
        let v = f.check();
        assert_rules(
            &v,
            &[
                rule::CLINICAL_MEMBER_PARTY_COMMISSIONER,
                rule::CLINICAL_MEMBER_PARTY_COMMISSIONER,
            ],
        );
        assert_eq!(
            v[0].message,
            "the clinical member is from the commissioning group of the appellant practice"
        );
        assert_eq!(
            v[1].message,
            "the clinical member is from the respondent, a commissioning group that is a party"
        );
    }

    #[test]
    fn clinical_member_from_commissioner_party_only() {
        // Respondent commissioner that does not commission the appellant.
        let mut f = Fixture::practice_v_commissioner();
        f.appellant.commissioner_id = Some(f.other_commissioner.id);
        f.clinical().org = org(OrgKind::Commissioner, "Hull", "Yorkshire", None);
        f.clinical().org.id = f.respondent.id;
        let v = assert_only(&f, rule::CLINICAL_MEMBER_PARTY_COMMISSIONER);
        assert!(v[0]
            .message
            .ends_with("is from the respondent, a commissioning group that is a party"));
    }

    #[test]
    fn lmc_representative_same_area() {
        let mut f = Fixture::practice_v_commissioner();
        f.lmc().org = f.other_lmc_same_area.clone();
        let v = f.check();
        // Both parties are in Leeds.
        assert_rules(
            &v,
            &[
                rule::LMC_REPRESENTATIVE_SAME_AREA,
                rule::LMC_REPRESENTATIVE_SAME_AREA,
            ],
        );
        assert!(v[0].message.contains("appellant"));
        assert!(v[0].message.contains("Leeds"));
        assert!(v[1].message.contains("respondent"));
    }

    #[test]
    fn lmc_representative_same_area_as_one_party() {
        let mut f = Fixture::inter_practice();
        // Same area as the respondent (Bradford) but another region: only
        // that one violation.
        f.lmc().org = org(OrgKind::Lmc, "Bradford", "Elsewhere", None);
        let v = assert_only(&f, rule::LMC_REPRESENTATIVE_SAME_AREA);
        assert!(v[0].message.contains("respondent"));
    }

    #[test]
    fn lmc_representative_same_region_inter_practice() {
        let mut f = Fixture::inter_practice();
        f.lmc().org = org(OrgKind::Lmc, "Wakefield", "Yorkshire", None);
        let v = f.check();
        assert_rules(
            &v,
            &[
                rule::LMC_REPRESENTATIVE_SAME_REGION,
                rule::LMC_REPRESENTATIVE_SAME_REGION,
            ],
        );
        assert!(v[0].message.contains("appellant"));
        assert!(v[1].message.contains("respondent"));
    }

    #[test]
    fn region_rule_applies_only_to_inter_practice_disputes() {
        // Same LMC organisation (Wakefield, Yorkshire) as a region clash.
        let mut f = Fixture::inter_practice();
        f.lmc().org = org(OrgKind::Lmc, "Wakefield", "Yorkshire", None);
        assert!(!f.check().is_empty());
        f.inter_practice = false;
        assert_eq!(f.check(), vec![]);
        // And the valid practice-v-commissioner fixture already has its LMC
        // in the parties' region.
        let f = Fixture::practice_v_commissioner();
        assert_eq!(f.lmc.as_ref().unwrap().org.region, f.appellant.region);
        assert_eq!(f.check(), vec![]);
    }

    #[test]
    fn member_of_party() {
        let mut f = Fixture::practice_v_commissioner();
        f.gp().org = f.appellant.clone();
        let v = assert_only(&f, rule::MEMBER_OF_PARTY);
        assert_eq!(
            v[0].message,
            "the GP conciliator belongs to the appellant organisation"
        );
    }

    #[test]
    fn clinical_member_from_a_party_practice() {
        // Wrong kind of organisation, and a party at that: two problems.
        let mut f = Fixture::practice_v_commissioner();
        f.clinical().org = f.appellant.clone();
        let v = f.check();
        assert_rules(&v, &[rule::CLINICAL_MEMBER_ORG_KIND, rule::MEMBER_OF_PARTY]);
        assert_eq!(
            v[1].message,
            "the clinical member belongs to the appellant organisation"
        );
    }

    #[test]
    fn secretary_of_party() {
        let mut f = Fixture::practice_v_commissioner();
        f.secretary().org = f.respondent.clone();
        let v = assert_only(&f, rule::MEMBER_OF_PARTY);
        assert_eq!(
            v[0].message,
            "the panel secretary belongs to the respondent organisation"
        );
    }

    #[test]
    fn member_interest_in_party() {
        let mut f = Fixture::practice_v_commissioner();
        let respondent = f.respondent.id;
        f.lmc().interests.push(respondent);
        let v = assert_only(&f, rule::MEMBER_INTEREST_IN_PARTY);
        assert_eq!(
            v[0].message,
            "the LMC representative has an interest in the respondent on the interests register"
        );
    }

    #[test]
    fn interest_in_both_parties_lists_both() {
        let mut f = Fixture::practice_v_commissioner();
        let (a, r) = (f.appellant.id, f.respondent.id);
        f.secretary().interests.extend([a, r]);
        let v = f.check();
        assert_rules(
            &v,
            &[
                rule::MEMBER_INTEREST_IN_PARTY,
                rule::MEMBER_INTEREST_IN_PARTY,
            ],
        );
        assert!(v[0].message.contains("panel secretary"));
        assert!(v[0].message.contains("appellant"));
        assert!(v[1].message.contains("respondent"));
    }

    #[test]
    fn interest_in_own_party_org_not_reported_twice() {
        let mut f = Fixture::practice_v_commissioner();
        f.gp().org = f.appellant.clone();
        let a = f.appellant.id;
        f.gp().interests.push(a);
        assert_only(&f, rule::MEMBER_OF_PARTY);
    }

    #[test]
    fn member_was_mediator() {
        let mut f = Fixture::practice_v_commissioner();
        f.mediator_id = Some(f.lmc.as_ref().unwrap().id);
        let v = assert_only(&f, rule::MEMBER_WAS_MEDIATOR);
        assert_eq!(
            v[0].message,
            "the LMC representative was the stage-1 mediator of this case"
        );
    }

    #[test]
    fn secretary_was_mediator() {
        let mut f = Fixture::practice_v_commissioner();
        f.mediator_id = Some(f.secretary.as_ref().unwrap().id);
        let v = assert_only(&f, rule::MEMBER_WAS_MEDIATOR);
        assert!(v[0].message.starts_with("the panel secretary"));
    }

    #[test]
    fn chair_not_member_outsider() {
        let mut f = Fixture::practice_v_commissioner();
        f.chair_id = Uuid::new_v4();
        let v = assert_only(&f, rule::CHAIR_NOT_MEMBER);
        assert_eq!(
            v[0].message,
            "the chair is not one of the three voting members"
        );
    }

    #[test]
    fn violations_name_the_person_and_their_seat() {
        let mut f = Fixture::practice_v_commissioner();
        f.gp().name = "Dr Amir Shah".into();
        f.gp().org = f.appellant.clone();
        f.gp().panel_roles.clear();
        f.secretary().name = "Sam Secretary".into();
        f.chair_id = f.secretary.as_ref().unwrap().id;
        let v = f.check();
        let messages: Vec<&str> = v.iter().map(|v| v.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "Dr Amir Shah, proposed as the GP conciliator, does not hold the GP \
                 conciliator panel role",
                "Dr Amir Shah, proposed as the GP conciliator, belongs to the appellant \
                 organisation",
                "the chair is Sam Secretary, proposed as the panel secretary, who is not a \
                 voting member",
            ]
        );
        // Someone put in two seats is named once, with both seats.
        let mut f = Fixture::practice_v_commissioner();
        let respondent = f.respondent.id;
        f.clinical().name = "Dr Clare Jones".into();
        f.clinical().panel_roles.push("gp_conciliator".into());
        f.clinical().interests.push(respondent);
        f.gp = f.clinical.clone();
        let v = f.check();
        assert_eq!(
            v.last().unwrap().message,
            "Dr Clare Jones, proposed as the clinical member (also as the GP conciliator), \
             has an interest in the respondent on the interests register"
        );
    }

    #[test]
    fn chair_is_secretary() {
        let mut f = Fixture::practice_v_commissioner();
        f.chair_id = f.secretary.as_ref().unwrap().id;
        let v = assert_only(&f, rule::CHAIR_NOT_MEMBER);
        assert_eq!(
            v[0].message,
            "the chair is the panel secretary, who is not a voting member"
        );
    }

    #[test]
    fn chair_is_secretary_even_with_an_unknown_seat() {
        let mut f = Fixture::practice_v_commissioner();
        f.gp = None;
        f.chair_id = f.secretary.as_ref().unwrap().id;
        assert_rules(&f.check(), &[rule::MEMBER_UNKNOWN, rule::CHAIR_NOT_MEMBER]);
    }

    // ---- several at once ----------------------------------------------

    #[test]
    fn several_violations_are_all_listed_in_order() {
        let mut f = Fixture::inter_practice();
        f.secretary = None; // member_unknown
        f.gp().active = false; // member_inactive
        f.clinical().panel_roles.clear(); // clinical_member_role
        f.clinical().org = f.appellant_commissioner.clone(); // party commissioner
        f.lmc().org = org(OrgKind::Lmc, "Leeds", "Yorkshire", None); // area + region
        let r = f.respondent.id;
        f.gp().interests.push(r); // member_interest_in_party
        f.mediator_id = Some(f.lmc.as_ref().unwrap().id); // member_was_mediator
        f.chair_id = Uuid::new_v4(); // chair_not_member
        let v = f.check();
        assert_rules(
            &v,
            &[
                rule::MEMBER_UNKNOWN,
                rule::MEMBER_INACTIVE,
                rule::CLINICAL_MEMBER_ROLE,
                rule::CLINICAL_MEMBER_PARTY_COMMISSIONER,
                rule::LMC_REPRESENTATIVE_SAME_AREA,
                rule::LMC_REPRESENTATIVE_SAME_REGION,
                rule::LMC_REPRESENTATIVE_SAME_REGION,
                rule::MEMBER_INTEREST_IN_PARTY,
                rule::MEMBER_WAS_MEDIATOR,
                rule::CHAIR_NOT_MEMBER,
            ],
        );
    }

    #[test]
    fn everything_unknown() {
        let mut f = Fixture::practice_v_commissioner();
        f.clinical = None;
        f.gp = None;
        f.lmc = None;
        f.secretary = None;
        assert_rules(
            &f.check(),
            &[
                rule::MEMBER_UNKNOWN,
                rule::MEMBER_UNKNOWN,
                rule::MEMBER_UNKNOWN,
                rule::MEMBER_UNKNOWN,
            ],
        );
    }

    #[test]
    fn wrong_roles_everywhere() {
        let mut f = Fixture::practice_v_commissioner();
        f.clinical().panel_roles.clear();
        f.gp().panel_roles.clear();
        f.lmc().panel_roles.clear();
        f.secretary().roles.clear();
        assert_rules(
            &f.check(),
            &[
                rule::CLINICAL_MEMBER_ROLE,
                rule::GP_CONCILIATOR_ROLE,
                rule::LMC_REPRESENTATIVE_ROLE,
                rule::SECRETARY_ROLE,
            ],
        );
    }

    // ---- rule ids -----------------------------------------------------

    #[test]
    fn rule_ids_are_unique_snake_case() {
        for (i, id) in rule::ALL.iter().enumerate() {
            assert!(
                id.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{id}"
            );
            assert!(!rule::ALL[..i].contains(id), "duplicate {id}");
        }
    }
}
