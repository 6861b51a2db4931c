//! Applying one event to one dispute, as pure code: [`decide`] takes the dispute, the typed
//! event, who sends it, the facts the service read for it, today and the calendar, and returns
//! the new dispute, the event's history data, the breaches and overrides to record and the
//! notices to send — or every reason it is refused. It reads and writes nothing.
//!
//! How a request becomes a database write: the service reads the dispute, checks permission
//! and state with [`crate::domain::workflow::check`], parses the event
//! ([`crate::domain::event`]), reads the [`Facts`] the event [needs](Event::needs), calls
//! [`decide`], and writes the [`Decision`] in one transaction with the version check.
//!
//! One file per stage: `stage1.rs` (mediation), `formal.rs` (request, screening, panel),
//! `hearing.rs`, `decision.rs`, `fhsu.rs`; `any_stage.rs` holds the notes, closing and
//! withdrawal. The date rules 3–6 (the 20-working-day rule among them) and who may override
//! them (rule 8) are in `rules.rs`.

mod any_stage;
mod decision;
mod fhsu;
mod formal;
mod hearing;
mod rules;
mod stage1;
#[cfg(test)]
pub(crate) mod tests;

use chrono::NaiveDate;
use serde_json::{Map, Value};

use super::calendar::Calendar;
use super::dispute::{Breach, Dispute, DocumentKind, Org};
use super::event::Event;
use super::fields::FieldProblem;
use super::notices::{self, NoticeIntent};
use super::panel::{Candidate, Violation};
use super::workflow::{self, EventType, Relations};

/// Who sends the event, as far as the procedure cares (permission was checked before).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sender {
    /// The sender's organisation (recorded as the party that requested, referred, withdrew).
    pub org_id: String,
    /// The sender is the case's panel secretary: the only one who may override a date rule.
    pub case_secretary: bool,
}

impl Sender {
    /// From the sender's relations to the case, as [`workflow::check`] read them.
    pub fn new(org_id: &str, relations: &Relations) -> Sender {
        Sender {
            org_id: org_id.to_string(),
            case_secretary: relations.is(workflow::Actor::PanelSecretary),
        }
    }
}

/// A user an event names, with what the rules need to know of them.
#[derive(Debug, Clone)]
pub struct Person {
    /// The id as stored.
    pub id: String,
    pub name: String,
    /// Roles, panel roles, active flag, organisation and declared interests.
    pub candidate: Candidate,
}

/// A document of the dispute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub id: String,
    pub name: String,
    pub kind: DocumentKind,
}

/// What the service reads from the database for one event (see
/// [`Event::needs`](crate::domain::event::Event::needs)); what an event does not need may be
/// left empty.
#[derive(Debug, Clone)]
pub struct Facts {
    pub appellant: Org,
    pub respondent: Org,
    /// The users the event names (`assign_mediator`: the mediator; `appoint_panel`: the four
    /// seats). An id naming no user is simply absent.
    pub people: Vec<Person>,
    /// `schedule_hearing`: the names of the panel members and secretary who recorded that
    /// they are unavailable on the requested date.
    pub unavailable: Vec<String>,
    /// `distribute_bundle`, `refer_to_fhsu`: the dispute's documents.
    pub documents: Vec<Document>,
    /// `refer_to_fhsu`: the directory has an organisation of kind `fhsu` to refer to.
    pub fhsu_in_directory: bool,
}

impl Facts {
    /// Facts naming only the parties.
    pub fn new(appellant: Org, respondent: Org) -> Facts {
        Facts {
            appellant,
            respondent,
            people: Vec::new(),
            unavailable: Vec::new(),
            documents: Vec::new(),
            fhsu_in_directory: false,
        }
    }

    pub fn person(&self, id: &str) -> Option<&Person> {
        self.people.iter().find(|p| p.id == id)
    }

    /// The name of a user the event names ("" when unknown, as a notice then shows it).
    fn person_name(&self, id: &str) -> &str {
        self.person(id).map_or("", |p| p.name.as_str())
    }

    /// The name of a party organisation ("" for any other).
    fn party_name(&self, org_id: &str) -> &str {
        [&self.appellant, &self.respondent]
            .into_iter()
            .find(|o| o.id == org_id)
            .map_or("", |o| o.name.as_str())
    }
}

/// What an event does, decided; for the service to write.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// The dispute after the event: its new state, `version + 1`, deadlines and next sweep
    /// day recomputed (`updated_at` is left for the writer to stamp).
    pub dispute: Dispute,
    /// The event's `data` in the history.
    pub data: Map<String, Value>,
    /// Date rules overridden by the panel secretary (rule 8), to record as breaches.
    pub breaches: Vec<Breach>,
    pub notices: Vec<NoticeIntent>,
}

/// Why an event is refused (after permission and state passed, see
/// [`workflow::Refusal`](crate::domain::workflow::Refusal)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Fields that are wrong for this dispute now (422 `validation_failed`).
    Fields(Vec<FieldProblem>),
    /// Rules of the procedure (422 with `code`, every violation listed).
    Rules {
        code: &'static str,
        detail: String,
        violations: Vec<Violation>,
    },
}

impl Refusal {
    fn field(field: &str, message: impl Into<String>) -> Refusal {
        Refusal::Fields(vec![FieldProblem::new(field, message)])
    }

    /// One rule broken: the detail is its message.
    fn rule(code: &'static str, message: String) -> Refusal {
        Refusal::Rules {
            code,
            detail: message.clone(),
            violations: vec![Violation {
                rule: code,
                message,
            }],
        }
    }
}

/// Decides `event` on `dispute`. Assumes [`workflow::check`] passed for the sender.
pub fn decide(
    dispute: &Dispute,
    event: &Event,
    sender: &Sender,
    facts: &Facts,
    today: NaiveDate,
    calendar: &Calendar,
) -> Result<Decision, Refusal> {
    let mut s = Step {
        event: event.event_type(),
        facts,
        sender,
        today,
        cal: calendar,
        override_reason: event.override_reason(),
        d: dispute.clone(),
        data: Map::new(),
        breaches: Vec::new(),
        notices: Vec::new(),
        screen_proceeds: false,
    };
    match event {
        Event::AssignMediator(e) => stage1::assign_mediator(&mut s, e)?,
        Event::ResolveInformally(e) => stage1::resolve_informally(&mut s, e),
        Event::ExhaustInformal(e) => stage1::exhaust_informal(&mut s, e),
        Event::RequestFormal(e) => formal::request_formal(&mut s, e)?,
        Event::RecordLmcConsultation(e) => formal::record_lmc_consultation(&mut s, e)?,
        Event::Screen(e) => formal::screen(&mut s, e)?,
        Event::AppointPanel(e) => formal::appoint_panel(&mut s, e)?,
        Event::ScheduleHearing(e) => hearing::schedule_hearing(&mut s, e)?,
        Event::DistributeBundle(e) => hearing::distribute_bundle(&mut s, e)?,
        Event::RecordHearing(e) => hearing::record_hearing(&mut s, e)?,
        Event::RecordDecision(e) => decision::record_decision(&mut s, e)?,
        Event::NotifyDecision(_) => decision::notify_decision(&mut s)?,
        Event::ReferToFhsu(e) => fhsu::refer_to_fhsu(&mut s, e)?,
        Event::RecordFhsuDetermination(e) => fhsu::record_fhsu_determination(&mut s, e)?,
        Event::AddNote(e) => any_stage::add_note(&mut s, e),
        Event::Close(e) => any_stage::close(&mut s, e),
        Event::Withdraw(e) => any_stage::withdraw(&mut s, e),
    }
    Ok(s.finish(dispute))
}

/// One event being decided: its inputs, and what it changes so far.
struct Step<'a> {
    event: EventType,
    facts: &'a Facts,
    sender: &'a Sender,
    today: NaiveDate,
    cal: &'a Calendar,
    override_reason: Option<&'a str>,
    /// The dispute, changed by the event.
    d: Dispute,
    data: Map<String, Value>,
    breaches: Vec<Breach>,
    notices: Vec<NoticeIntent>,
    /// `screen`: the request proceeds to a panel.
    screen_proceeds: bool,
}

impl Step<'_> {
    /// Adds the fields of the object `fields` to the event's history data.
    fn record(&mut self, fields: Value) {
        if let Value::Object(m) = fields {
            self.data.extend(m);
        }
    }

    /// Queues the event's own notice (see [`notices::of_event`]) with these context fields.
    fn notify(&mut self, context: Value) {
        if let Some(n) = notices::of_event(self.event) {
            self.notices.push(n.with(context));
        }
    }

    /// The history data, state, version and next sweep day, once the event has done its part.
    fn finish(mut self, before: &Dispute) -> Decision {
        if let Some(reason) = self.override_reason.filter(|_| !self.breaches.is_empty()) {
            let rules: Vec<&str> = self.breaches.iter().map(|b| b.kind).collect();
            self.record(serde_json::json!({"override": {"reason": reason, "rules": rules}}));
        }
        let t = workflow::transition(self.event);
        self.d.state = workflow::next_state(t, before.state, self.screen_proceeds);
        self.d.version = before.version + 1;
        self.d.next_sweep_on = notices::next_sweep_on(self.cal, &self.d);
        Decision {
            dispute: self.d,
            data: self.data,
            breaches: self.breaches,
            notices: self.notices,
        }
    }
}

/// The message for a date that has not come yet.
const FUTURE: &str = "must not be in the future";

/// Refuses `field` with `message` when `broken`.
fn refuse_if(broken: bool, field: &str, message: &str) -> Result<(), Refusal> {
    if broken {
        Err(Refusal::field(field, message))
    } else {
        Ok(())
    }
}
