//! The procedure as data: for every event type, the states it may fire in, the state it leads
//! to, and who may fire it. Role checks, `GET /disputes/{id}/actions` and the OpenAPI enum of
//! event types are all derived from [`PROCEDURE`]; nothing else restates it.
//!
//! Stage 1 cannot be skipped: `request_formal` fires only from `informal_exhausted`.

use super::roles::Role;
use serde::{Deserialize, Serialize};

macro_rules! string_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $s:literal),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),* }
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),*];
            pub fn as_str(self) -> &'static str { match self { $($name::$variant => $s),* } }
            pub fn parse(s: &str) -> Option<$name> { match s { $($s => Some($name::$variant),)* _ => None } }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str(self.as_str()) }
        }
        /// Strict: a string that names no value is an error saying which values there are.
        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<$name, String> {
                $name::parse(s).ok_or_else(|| format!(
                    "{s:?} is not a {}: one of {}",
                    stringify!($name),
                    <$name as $crate::domain::fields::Choice>::NAMES.join(", ")
                ))
            }
        }
        impl $crate::domain::fields::Choice for $name {
            const NAMES: &'static [&'static str] = &[$($s),*];
            fn parse(s: &str) -> Option<$name> { $name::parse(s) }
        }
    };
}
/// For the other string enums of the domain (categories, modes, outcomes, votes, kinds).
pub(crate) use string_enum;

string_enum!(
    /// The states of a dispute (snake_case in the API).
    State {
        Informal = "informal",
        InformalMediation = "informal_mediation",
        Resolved = "resolved",
        InformalExhausted = "informal_exhausted",
        FormalRequested = "formal_requested",
        Rejected = "rejected",
        PanelForming = "panel_forming",
        PanelAppointed = "panel_appointed",
        HearingScheduled = "hearing_scheduled",
        HearingHeld = "hearing_held",
        Decided = "decided",
        DecisionNotified = "decision_notified",
        ReferredToFhsu = "referred_to_fhsu",
        Closed = "closed",
        Withdrawn = "withdrawn",
    }
);

string_enum!(
    /// The events that move a dispute (the `type` of `POST /disputes/{id}/events`).
    EventType {
        AssignMediator = "assign_mediator",
        AddNote = "add_note",
        ResolveInformally = "resolve_informally",
        ExhaustInformal = "exhaust_informal",
        RequestFormal = "request_formal",
        RecordLmcConsultation = "record_lmc_consultation",
        Screen = "screen",
        AppointPanel = "appoint_panel",
        ScheduleHearing = "schedule_hearing",
        DistributeBundle = "distribute_bundle",
        RecordHearing = "record_hearing",
        RecordDecision = "record_decision",
        NotifyDecision = "notify_decision",
        ReferToFhsu = "refer_to_fhsu",
        RecordFhsuDetermination = "record_fhsu_determination",
        Close = "close",
        Withdraw = "withdraw",
    }
);

impl State {
    /// 1, 2 or 3; `None` for `closed` and `withdrawn`, which belong to no stage.
    pub fn stage(self) -> Option<u8> {
        use State::*;
        match self {
            Informal | InformalMediation | Resolved | InformalExhausted => Some(1),
            FormalRequested | Rejected | PanelForming | PanelAppointed | HearingScheduled
            | HearingHeld | Decided | DecisionNotified => Some(2),
            ReferredToFhsu => Some(3),
            Closed | Withdrawn => None,
        }
    }

    /// No event can move the dispute on (a `rejected` contract matter may still go to the FHSU).
    pub fn is_terminal(self) -> bool {
        matches!(self, State::Resolved | State::Closed | State::Withdrawn)
    }
}

/// Who may fire an event, relative to the case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// Any user with this role who may see the case.
    Role(Role),
    /// A practice user or commissioner of either party organisation.
    Party,
    /// A practice user or commissioner of the appellant organisation.
    Appellant,
    /// The case's stage-1 mediator.
    CaseMediator,
    /// The secretary of the case's panel.
    PanelSecretary,
    /// The chair of the case's panel.
    PanelChair,
    /// An accountable officer of the commissioning group concerned (rule 1).
    ScreeningOfficer,
    /// Anyone who may see the case, except admins.
    Participant,
}

impl Actor {
    /// The roles that can ever stand in this relation (used to tell 403 from 409).
    pub fn roles(self) -> &'static [Role] {
        match self {
            Actor::Role(Role::LmcMediator) => &[Role::LmcMediator],
            Actor::Role(Role::PanelSecretary) => &[Role::PanelSecretary],
            Actor::Role(Role::Admin) => &[Role::Admin],
            Actor::Role(_) => &[],
            Actor::Party | Actor::Appellant => &[Role::PracticeUser, Role::Commissioner],
            Actor::CaseMediator => &[Role::LmcMediator],
            Actor::PanelSecretary => &[Role::PanelSecretary],
            Actor::PanelChair => &[Role::Panelist],
            Actor::ScreeningOfficer => &[Role::AccountableOfficer],
            Actor::Participant => &Role::PARTICIPANTS,
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Actor::Role(Role::LmcMediator) => "an LMC mediator",
            Actor::Role(Role::PanelSecretary) => "a panel secretary",
            Actor::Role(Role::Admin) => "an admin",
            Actor::Role(_) => "a user with the right role",
            Actor::Party => "a party to the dispute",
            Actor::Appellant => "the appellant",
            Actor::CaseMediator => "the case's mediator",
            Actor::PanelSecretary => "the panel's secretary",
            Actor::PanelChair => "the panel's chair",
            Actor::ScreeningOfficer => {
                "an accountable officer of the commissioning group concerned"
            }
            Actor::Participant => "a participant in the case",
        }
    }
}

/// Where an event leads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum To {
    /// The state does not change (notes, consultation, re-scheduling, bundle).
    Same,
    State(State),
    /// `screen`: `proceed` → `panel_forming`, `frivolous`/`vexatious` → `rejected`.
    Screening,
}

#[derive(Debug, Clone, Copy)]
pub struct Transition {
    pub event: EventType,
    pub from: &'static [State],
    pub to: To,
    pub who: &'static [Actor],
}

use State as S;
const BEFORE_HEARING_HELD: &[State] = &[
    S::Informal,
    S::InformalMediation,
    S::InformalExhausted,
    S::FormalRequested,
    S::PanelForming,
    S::PanelAppointed,
    S::HearingScheduled,
];
const OPEN: &[State] = &[
    S::Informal,
    S::InformalMediation,
    S::InformalExhausted,
    S::FormalRequested,
    S::Rejected,
    S::PanelForming,
    S::PanelAppointed,
    S::HearingScheduled,
    S::HearingHeld,
    S::Decided,
    S::DecisionNotified,
    S::ReferredToFhsu,
];

/// The whole procedure on one screen.
pub const PROCEDURE: &[Transition] = &[
    Transition {
        event: EventType::AssignMediator,
        from: &[S::Informal],
        to: To::State(S::InformalMediation),
        who: &[Actor::Role(Role::LmcMediator)],
    },
    Transition {
        event: EventType::AddNote,
        from: OPEN,
        to: To::Same,
        who: &[Actor::Participant],
    },
    Transition {
        event: EventType::ResolveInformally,
        from: &[S::InformalMediation],
        to: To::State(S::Resolved),
        who: &[Actor::CaseMediator],
    },
    Transition {
        event: EventType::ExhaustInformal,
        from: &[S::InformalMediation],
        to: To::State(S::InformalExhausted),
        who: &[Actor::CaseMediator],
    },
    Transition {
        event: EventType::RequestFormal,
        from: &[S::InformalExhausted],
        to: To::State(S::FormalRequested),
        who: &[Actor::Party],
    },
    Transition {
        event: EventType::RecordLmcConsultation,
        from: &[S::FormalRequested],
        to: To::Same,
        who: &[Actor::ScreeningOfficer],
    },
    Transition {
        event: EventType::Screen,
        from: &[S::FormalRequested],
        to: To::Screening,
        who: &[Actor::ScreeningOfficer],
    },
    Transition {
        event: EventType::AppointPanel,
        from: &[S::PanelForming],
        to: To::State(S::PanelAppointed),
        who: &[Actor::Role(Role::PanelSecretary)],
    },
    Transition {
        event: EventType::ScheduleHearing,
        from: &[S::PanelAppointed, S::HearingScheduled],
        to: To::State(S::HearingScheduled),
        who: &[Actor::PanelSecretary],
    },
    Transition {
        event: EventType::DistributeBundle,
        from: &[S::HearingScheduled],
        to: To::Same,
        who: &[Actor::PanelSecretary],
    },
    Transition {
        event: EventType::RecordHearing,
        from: &[S::HearingScheduled],
        to: To::State(S::HearingHeld),
        who: &[Actor::PanelSecretary],
    },
    Transition {
        event: EventType::RecordDecision,
        from: &[S::HearingHeld],
        to: To::State(S::Decided),
        who: &[Actor::PanelSecretary],
    },
    Transition {
        event: EventType::NotifyDecision,
        from: &[S::Decided],
        to: To::State(S::DecisionNotified),
        who: &[Actor::PanelSecretary, Actor::PanelChair],
    },
    Transition {
        event: EventType::ReferToFhsu,
        from: &[S::DecisionNotified, S::Rejected],
        to: To::State(S::ReferredToFhsu),
        who: &[Actor::Party],
    },
    Transition {
        event: EventType::RecordFhsuDetermination,
        from: &[S::ReferredToFhsu],
        to: To::State(S::Closed),
        who: &[Actor::Role(Role::PanelSecretary), Actor::Role(Role::Admin)],
    },
    Transition {
        event: EventType::Close,
        from: &[S::InformalExhausted, S::DecisionNotified, S::ReferredToFhsu],
        to: To::State(S::Closed),
        who: &[Actor::Role(Role::PanelSecretary), Actor::Role(Role::Admin)],
    },
    Transition {
        event: EventType::Withdraw,
        from: BEFORE_HEARING_HELD,
        to: To::State(S::Withdrawn),
        who: &[Actor::Appellant],
    },
];

pub fn transition(event: EventType) -> &'static Transition {
    PROCEDURE
        .iter()
        .find(|t| t.event == event)
        .expect("every event type has a row in PROCEDURE")
}

/// How the caller stands to one case; computed by the API layer from the dispute row.
#[derive(Debug, Clone, Default)]
pub struct Relations {
    pub roles: Vec<Role>,
    pub party: bool,
    pub appellant: bool,
    pub mediator: bool,
    pub panel_secretary: bool,
    pub chair: bool,
    pub screening_officer: bool,
    /// May see the case (admins included).
    pub can_see: bool,
}

impl Relations {
    fn has(&self, r: Role) -> bool {
        self.roles.contains(&r)
    }

    pub fn is(&self, a: Actor) -> bool {
        let party_role = self.has(Role::PracticeUser) || self.has(Role::Commissioner);
        match a {
            Actor::Role(r) => self.has(r) && self.can_see,
            Actor::Party => self.party && party_role,
            Actor::Appellant => self.appellant && party_role,
            Actor::CaseMediator => self.mediator && self.has(Role::LmcMediator),
            Actor::PanelSecretary => self.panel_secretary && self.has(Role::PanelSecretary),
            Actor::PanelChair => self.chair,
            Actor::ScreeningOfficer => self.screening_officer && self.has(Role::AccountableOfficer),
            Actor::Participant => self.can_see && self.roles.iter().any(|r| *r != Role::Admin),
        }
    }
}

/// Why an event may not be fired now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The caller has none of the roles that could ever fire it (403).
    Role(String),
    /// Not allowed in the current state (409 `invalid_transition`).
    State(String),
    /// The caller has the role but not the relation to this case (403).
    Relation(String),
}

/// The permission and state check of one event, in the order the API reports them:
/// role (403), then state (409), then relation to the case (403).
pub fn check(
    event: EventType,
    state: State,
    rel: &Relations,
) -> Result<&'static Transition, Refusal> {
    let t = transition(event);
    let who = who(t);
    let role_ok = t.who.iter().any(|a| a.roles().iter().any(|r| rel.has(*r)));
    if !role_ok {
        return Err(Refusal::Role(format!("{event} may only be sent by {who}.")));
    }
    if !t.from.contains(&state) {
        return Err(Refusal::State(not_now(t, state)));
    }
    if !t.who.iter().any(|a| rel.is(*a)) {
        return Err(Refusal::Relation(format!(
            "{event} may only be sent by {who}."
        )));
    }
    Ok(t)
}

/// The 409 for `t` sent while the dispute is `state`: the states it may be sent in and, read
/// from [`PROCEDURE`], the shortest way from here to one of them (who sends which event), or
/// that the dispute can no longer get there.
fn not_now(t: &Transition, state: State) -> String {
    let event = t.event;
    let states = t
        .from
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(" or ");
    let head = format!(
        "{event} is not allowed while the dispute is {state}: it may be sent only while the \
         dispute is {states}"
    );
    match way_to(state, t.from) {
        Some(steps) => {
            let steps: Vec<String> = steps
                .iter()
                .map(|t| format!("{} sends {}", who(t), t.event))
                .collect();
            format!("{head}. First {}.", steps.join(", then "))
        }
        None => format!("{head}, and a dispute that is {state} can no longer get there."),
    }
}

/// Everyone who may send `t`, in words ("the case's mediator", "a panel secretary or an admin").
fn who(t: &Transition) -> String {
    t.who
        .iter()
        .map(|a| a.describe())
        .collect::<Vec<_>>()
        .join(" or ")
}

/// The states `t` may lead to.
fn targets(t: &Transition) -> Vec<State> {
    match t.to {
        To::Same => Vec::new(),
        To::State(s) => vec![s],
        To::Screening => vec![State::PanelForming, State::Rejected],
    }
}

/// The shortest sequence of events that takes a dispute from `from` to one of `goal`
/// (breadth first over [`PROCEDURE`]); `None` when there is none.
fn way_to(from: State, goal: &[State]) -> Option<Vec<&'static Transition>> {
    let mut seen = vec![from];
    let mut paths: Vec<(State, Vec<&'static Transition>)> = vec![(from, Vec::new())];
    while !paths.is_empty() {
        let mut next = Vec::new();
        for (at, path) in paths {
            for t in PROCEDURE.iter().filter(|t| t.from.contains(&at)) {
                for to in targets(t) {
                    if seen.contains(&to) {
                        continue;
                    }
                    seen.push(to);
                    let mut p = path.clone();
                    p.push(t);
                    if goal.contains(&to) {
                        return Some(p);
                    }
                    next.push((to, p));
                }
            }
        }
        paths = next;
    }
    None
}

/// The events the caller may fire now (`GET /disputes/{id}/actions`).
pub fn allowed(state: State, rel: &Relations) -> Vec<EventType> {
    EventType::ALL
        .iter()
        .copied()
        .filter(|e| check(*e, state, rel).is_ok())
        .collect()
}

/// The state after `event` (for `screen`, given its outcome).
pub fn next_state(t: &Transition, current: State, screen_proceeds: bool) -> State {
    match t.to {
        To::Same => current,
        To::State(s) => s,
        To::Screening if screen_proceeds => State::PanelForming,
        To::Screening => State::Rejected,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_has_exactly_one_row() {
        for e in EventType::ALL {
            assert_eq!(PROCEDURE.iter().filter(|t| t.event == *e).count(), 1, "{e}");
        }
    }

    #[test]
    fn stage_one_cannot_be_skipped() {
        for t in PROCEDURE {
            if matches!(t.to, To::State(State::FormalRequested)) {
                assert_eq!(t.from, &[State::InformalExhausted]);
            }
            if t.from.contains(&State::Informal) || t.from.contains(&State::InformalMediation) {
                assert!(
                    !matches!(t.to, To::State(s) if s.stage() == Some(2)),
                    "{:?}",
                    t.event
                );
            }
        }
    }

    #[test]
    fn terminal_states_only_allow_nothing_or_fhsu() {
        for t in PROCEDURE {
            for s in t.from {
                assert!(!s.is_terminal(), "{:?} from terminal {s}", t.event);
            }
        }
        let from_rejected: Vec<_> = PROCEDURE
            .iter()
            .filter(|t| t.from.contains(&State::Rejected) && t.event != EventType::AddNote)
            .map(|t| t.event)
            .collect();
        assert_eq!(from_rejected, vec![EventType::ReferToFhsu]);
    }

    #[test]
    fn a_refusal_in_the_wrong_state_says_what_must_happen_first() {
        let refusal = |e, s| match transition(e) {
            t if t.from.contains(&s) => panic!("{e} is allowed in {s}"),
            t => not_now(t, s),
        };
        assert_eq!(
            refusal(EventType::RequestFormal, State::InformalMediation),
            "request_formal is not allowed while the dispute is informal_mediation: it may be \
             sent only while the dispute is informal_exhausted. First the case's mediator sends \
             exhaust_informal."
        );
        assert_eq!(
            refusal(EventType::ScheduleHearing, State::FormalRequested),
            "schedule_hearing is not allowed while the dispute is formal_requested: it may be \
             sent only while the dispute is panel_appointed or hearing_scheduled. First an \
             accountable officer of the commissioning group concerned sends screen, then a \
             panel secretary sends appoint_panel."
        );
        assert_eq!(
            refusal(EventType::Withdraw, State::HearingHeld),
            format!(
                "withdraw is not allowed while the dispute is hearing_held: it may be sent only \
                 while the dispute is {}, and a dispute that is hearing_held can no longer get \
                 there.",
                BEFORE_HEARING_HELD
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(" or ")
            )
        );
        // Every refusal in every state names either a way or that there is none.
        for t in PROCEDURE {
            for s in State::ALL.iter().filter(|s| !t.from.contains(s)) {
                let m = not_now(t, *s);
                assert!(m.contains(". First ") || m.ends_with("can no longer get there."));
            }
        }
    }

    #[test]
    fn withdrawal_only_before_hearing_held() {
        let t = transition(EventType::Withdraw);
        assert!(t.from.contains(&State::HearingScheduled));
        assert!(!t.from.contains(&State::HearingHeld));
        assert!(!t.from.contains(&State::Rejected));
    }

    #[test]
    fn check_orders_role_state_relation() {
        let practice = Relations {
            roles: vec![Role::PracticeUser],
            can_see: true,
            ..Default::default()
        };
        // A practice user cannot appoint a panel: role refusal, whatever the state.
        assert!(matches!(
            check(EventType::AppointPanel, State::Informal, &practice),
            Err(Refusal::Role(_))
        ));
        // The appellant withdrawing a closed case: state refusal.
        let appellant = Relations {
            appellant: true,
            party: true,
            ..practice.clone()
        };
        assert!(matches!(
            check(EventType::Withdraw, State::Closed, &appellant),
            Err(Refusal::State(_))
        ));
        // The respondent withdrawing: relation refusal.
        let respondent = Relations {
            party: true,
            ..practice.clone()
        };
        assert!(matches!(
            check(EventType::Withdraw, State::Informal, &respondent),
            Err(Refusal::Relation(_))
        ));
        assert!(check(EventType::Withdraw, State::Informal, &appellant).is_ok());
        assert_eq!(
            allowed(State::Informal, &appellant),
            vec![EventType::AddNote, EventType::Withdraw]
        );
    }
}
