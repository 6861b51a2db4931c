//! The events of `POST /disputes/{id}/events`, typed: one variant per [`EventType`], each with
//! its own fields (dates as dates, choices as enums).
//!
//! A body is read in two steps, so that the API can answer in the SPEC's order (403, 409,
//! then 422): [`Envelope::parse`] reads `type` and `expected_version`; once the sender may
//! send that event now, [`Event::parse`] reads the event's own fields, listing every problem,
//! refusing unknown fields (with the list of the fields the event takes) and an
//! `override_reason` on an event whose rules cannot be overridden.
//!
//! The field structs derive `ToSchema`, so the OpenAPI document can show one schema per event.

use std::borrow::Cow;

use chrono::{NaiveDate, NaiveTime};
use serde_json::{Map, Value};
use utoipa::openapi::{schema::Schema, RefOr};
use utoipa::ToSchema;

use super::dispute::{FhsuOutcome, MediatorMode, ScreenOutcome, Side, Vote, VoteChoice};
use super::fields::{Choice, FieldProblem, Fields, ENVELOPE};
use super::workflow::EventType;

/// Longest `override_reason`.
const OVERRIDE_REASON_MAX: usize = 2000;

/// `assign_mediator`: an LMC mediator of the dispute's LMC takes the case.
#[derive(Debug, Clone, PartialEq, Eq, ToSchema)]
#[schema(example = json!({"mediator_id": "5b7e2f1a-0c3d-4e8f-9a6b-1d2c3e4f5a6b", "mode": "mediation"}))]
pub struct AssignMediator {
    /// An active `lmc_mediator` of the dispute's LMC (the sender themself, or a colleague).
    pub mediator_id: String,
    pub mode: MediatorMode,
}

/// `add_note`: a note on the case's history.
#[derive(Debug, Clone, PartialEq, Eq, ToSchema)]
#[schema(example = json!({"text": "Met both sides on 4 March; the ICB will send its figures."}))]
pub struct AddNote {
    /// At most 10,000 characters.
    pub text: String,
}

/// `resolve_informally`: the mediator records the settlement.
#[derive(Debug, Clone, PartialEq, Eq, ToSchema)]
#[schema(example = json!({"summary": "The ICB will restore the budget from April."}))]
pub struct ResolveInformally {
    /// At most 10,000 characters.
    pub summary: String,
}

/// `exhaust_informal` (and `close`, `withdraw`): an event whose only field is its reason.
#[derive(Debug, Clone, PartialEq, Eq, ToSchema)]
#[schema(example = json!({"reason": "No agreement after two meetings."}))]
pub struct Reason {
    /// At most 10,000 characters.
    pub reason: String,
}

/// `request_formal`: the written request with grounds, lodged with the accountable officer.
#[derive(Debug, Clone, PartialEq, Eq, ToSchema)]
#[schema(example = json!({"grounds": "The reduction breaches the agreed budget.", "lodged_on": "2026-03-02"}))]
pub struct RequestFormal {
    /// At most 50,000 characters.
    pub grounds: String,
    /// Not in the future, not before the informal stage was exhausted. The hearing must be
    /// held within 20 working days of it.
    pub lodged_on: NaiveDate,
}

/// `record_lmc_consultation`: the accountable officer consulted the LMC (needed before a
/// request is screened out, rule 1).
#[derive(Debug, Clone, PartialEq, Eq, ToSchema)]
#[schema(example = json!({"consulted_on": "2026-03-03", "summary": "LMC consulted by phone."}))]
pub struct RecordLmcConsultation {
    /// Not in the future.
    pub consulted_on: NaiveDate,
    /// At most 10,000 characters.
    pub summary: String,
}

/// `screen`: the accountable officer lets the request proceed or screens it out.
#[derive(Debug, Clone, PartialEq, Eq, ToSchema)]
#[schema(example = json!({"outcome": "proceed", "reason": "A substantive dispute."}))]
pub struct Screen {
    /// `frivolous` and `vexatious` only after the LMC consultation is recorded.
    pub outcome: ScreenOutcome,
    /// At most 10,000 characters.
    pub reason: String,
}

/// `appoint_panel`: the three voting members, the secretary and the chair (rule 2).
#[derive(Debug, Clone, PartialEq, Eq, ToSchema)]
#[schema(example = json!({"clinical_member_id": "0b6c1d2e-3f40-4a5b-8c6d-7e8f9a0b1c2d",
    "gp_conciliator_id": "1c7d2e3f-4051-4b6c-9d7e-8f9a0b1c2d3e",
    "lmc_representative_id": "2d8e3f40-5162-4c7d-ae8f-9a0b1c2d3e4f",
    "secretary_id": "3e9f4051-6273-4d8e-bf9a-0b1c2d3e4f50",
    "chair_id": "1c7d2e3f-4051-4b6c-9d7e-8f9a0b1c2d3e"}))]
pub struct AppointPanel {
    /// A panelist with panel role `clinical_board_member`, of a commissioning group that is
    /// neither a party nor a party practice's.
    pub clinical_member_id: String,
    /// A panelist with panel role `gp_conciliator`.
    pub gp_conciliator_id: String,
    /// A panelist with panel role `lmc_representative`, of an LMC of another area than both
    /// parties (and, between two practices, of another region).
    pub lmc_representative_id: String,
    /// A `panel_secretary` (non-voting), none of the three.
    pub secretary_id: String,
    /// One of the three voting members.
    pub chair_id: String,
}

/// `schedule_hearing`: sets (or moves) the hearing; everyone gets notice and an invitation.
#[derive(Debug, Clone, PartialEq, Eq, ToSchema)]
#[schema(example = json!({"date": "2026-03-16", "time": "10:00", "venue": "County Hall, Room 2"}))]
pub struct ScheduleHearing {
    /// A working day after today, on or before the hearing deadline, with 7 clear working
    /// days' notice, when no panel member is unavailable.
    pub date: NaiveDate,
    /// `HH:MM`, 24-hour, Europe/London.
    #[schema(value_type = String, pattern = "^[0-2][0-9]:[0-5][0-9]$", example = "10:00")]
    pub time: NaiveTime,
    /// At most 500 characters.
    pub venue: String,
    /// The panel secretary's reason for overriding the date rules (recorded as a breach).
    pub override_reason: Option<String>,
}

/// `distribute_bundle`: the documents go to the parties and the panel.
#[derive(Debug, Clone, PartialEq, Eq, ToSchema)]
#[schema(example = json!({"document_ids": ["4fa05162-7384-4e9f-80ab-1c2d3e4f5061"]}))]
pub struct DistributeBundle {
    /// 1 to 200 ids of documents of this dispute.
    pub document_ids: Vec<String>,
    /// The panel secretary's reason for distributing later than 5 clear working days before
    /// the hearing.
    pub override_reason: Option<String>,
}

/// `record_hearing`: the hearing took place; the panel's record of it.
#[derive(Debug, Clone, PartialEq, Eq, ToSchema)]
#[schema(example = json!({"held_on": "2026-03-16", "appellant_presented": true,
    "respondent_presented": true, "record": "Both sides presented; questions from the panel."}))]
pub struct RecordHearing {
    /// Not in the future, not before the formal request.
    pub held_on: NaiveDate,
    pub appellant_presented: bool,
    pub respondent_presented: bool,
    /// At most 100,000 characters; seen only by the panel and its secretary.
    pub record: String,
    /// The panel secretary's reason for a hearing held after the deadline.
    pub override_reason: Option<String>,
}

/// `record_decision`: one vote per voting member; the majority decides (rule 6).
#[derive(Debug, Clone, PartialEq, Eq, ToSchema)]
#[schema(example = json!({"votes": [
    {"member_id": "0b6c1d2e-3f40-4a5b-8c6d-7e8f9a0b1c2d", "vote": "appellant"},
    {"member_id": "1c7d2e3f-4051-4b6c-9d7e-8f9a0b1c2d3e", "vote": "appellant"},
    {"member_id": "2d8e3f40-5162-4c7d-ae8f-9a0b1c2d3e4f", "vote": "respondent"}],
    "outcome": "appellant", "recommendations": "Restore the budget from April."}))]
pub struct RecordDecision {
    /// Exactly one vote from each voting member.
    pub votes: Vec<Vote>,
    /// If given, must be the majority's side.
    pub outcome: Option<Side>,
    /// At most 50,000 characters; may be empty or left out.
    #[schema(required = false)]
    pub recommendations: String,
}

/// `notify_decision`: the written decision goes to both parties (within 7 days of the
/// hearing).
#[derive(Debug, Clone, PartialEq, Eq, ToSchema)]
#[schema(example = json!({}))]
pub struct NotifyDecision {
    /// The panel secretary's reason for sending the decision late.
    pub override_reason: Option<String>,
}

/// `refer_to_fhsu`: a party refers a contract matter to the FHSU (rule 7).
#[derive(Debug, Clone, PartialEq, Eq, ToSchema)]
#[schema(example = json!({"statement": "We ask the FHSU to determine the dispute.",
    "contract_document_id": "5a061627-8495-4fa0-91bc-2d3e4f506172", "referred_on": "2026-03-20"}))]
pub struct ReferToFhsu {
    /// At most 50,000 characters (a referral without one is incomplete).
    pub statement: Option<String>,
    /// A document of kind `contract` of this dispute (a referral without one is incomplete).
    pub contract_document_id: Option<String>,
    /// Not in the future; within three years beginning on the day the matter arose.
    pub referred_on: NaiveDate,
}

/// `record_fhsu_determination`: the FHSU's determination closes the case.
#[derive(Debug, Clone, PartialEq, Eq, ToSchema)]
#[schema(example = json!({"determined_on": "2026-06-01", "outcome": "appellant",
    "summary": "The ICB is to pay the 2025/26 incentive payment in full."}))]
pub struct RecordFhsuDetermination {
    /// Not in the future.
    pub determined_on: NaiveDate,
    /// Whom the FHSU found for: `appellant`, `respondent`, or `partly` (partly for each).
    pub outcome: FhsuOutcome,
    /// What the FHSU determined, in a few words; at most 10,000 characters.
    pub summary: String,
}

/// One event, with its fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    AssignMediator(AssignMediator),
    AddNote(AddNote),
    ResolveInformally(ResolveInformally),
    ExhaustInformal(Reason),
    RequestFormal(RequestFormal),
    RecordLmcConsultation(RecordLmcConsultation),
    Screen(Screen),
    AppointPanel(AppointPanel),
    ScheduleHearing(ScheduleHearing),
    DistributeBundle(DistributeBundle),
    RecordHearing(RecordHearing),
    RecordDecision(RecordDecision),
    NotifyDecision(NotifyDecision),
    ReferToFhsu(ReferToFhsu),
    RecordFhsuDetermination(RecordFhsuDetermination),
    Close(Reason),
    Withdraw(Reason),
}

/// Whether `override_reason` is one of the event's fields: the events with date rules the
/// panel secretary may override (rules 3–6 and a panel member's unavailability; rule 8).
pub fn overridable(e: EventType) -> bool {
    matches!(
        e,
        EventType::ScheduleHearing
            | EventType::DistributeBundle
            | EventType::RecordHearing
            | EventType::NotifyDecision
    )
}

/// What the service must read for the procedure to decide an event (see
/// [`crate::domain::procedure::Facts`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Needs<'a> {
    /// Users the event names: each with their organisation and interests.
    pub people: Vec<&'a str>,
    /// The names of the panel (and secretary) unavailable on this date.
    pub unavailable_on: Option<NaiveDate>,
    /// The dispute's documents.
    pub documents: bool,
    /// Whether the directory has an `fhsu` organisation.
    pub fhsu_in_directory: bool,
}

impl Event {
    /// Reads the fields of an event of type `event` from its body (the `type` and
    /// `expected_version` read by [`Envelope::parse`] are allowed, not read again).
    pub fn parse(event: EventType, body: &Map<String, Value>) -> Result<Event, Vec<FieldProblem>> {
        let mut f = Fields::new(body);
        let e = Event::read(event, &mut f);
        if !overridable(event) {
            f.refuse(
                "override_reason",
                format!(
                    "is not accepted by {event}: only the date rules of schedule_hearing, \
                     distribute_bundle, record_hearing and notify_decision may be overridden"
                ),
            );
        }
        f.finish(event.as_str(), &ENVELOPE, e)
    }

    /// Every field is read (and its problems recorded) before any is required.
    fn read(event: EventType, f: &mut Fields) -> Option<Event> {
        use EventType as T;
        let reason = |f: &mut Fields| {
            Some(Reason {
                reason: f.text("reason", 10_000)?,
            })
        };
        Some(match event {
            T::AssignMediator => {
                let (mediator_id, mode) = (f.id("mediator_id"), f.one_of("mode"));
                Event::AssignMediator(AssignMediator {
                    mediator_id: mediator_id?,
                    mode: mode?,
                })
            }
            T::AddNote => Event::AddNote(AddNote {
                text: f.text("text", 10_000)?,
            }),
            T::ResolveInformally => Event::ResolveInformally(ResolveInformally {
                summary: f.text("summary", 10_000)?,
            }),
            T::ExhaustInformal => Event::ExhaustInformal(reason(f)?),
            T::RequestFormal => {
                let (grounds, lodged_on) = (f.text("grounds", 50_000), f.date("lodged_on"));
                Event::RequestFormal(RequestFormal {
                    grounds: grounds?,
                    lodged_on: lodged_on?,
                })
            }
            T::RecordLmcConsultation => {
                let consulted_on = f.date("consulted_on");
                let summary = f.text("summary", 10_000);
                Event::RecordLmcConsultation(RecordLmcConsultation {
                    consulted_on: consulted_on?,
                    summary: summary?,
                })
            }
            T::Screen => {
                let (outcome, reason) = (f.one_of("outcome"), f.text("reason", 10_000));
                Event::Screen(Screen {
                    outcome: outcome?,
                    reason: reason?,
                })
            }
            T::AppointPanel => {
                let ids = [
                    f.id("clinical_member_id"),
                    f.id("gp_conciliator_id"),
                    f.id("lmc_representative_id"),
                    f.id("secretary_id"),
                    f.id("chair_id"),
                ];
                let [cm, gp, lr, sec, chair] = ids;
                Event::AppointPanel(AppointPanel {
                    clinical_member_id: cm?,
                    gp_conciliator_id: gp?,
                    lmc_representative_id: lr?,
                    secretary_id: sec?,
                    chair_id: chair?,
                })
            }
            T::ScheduleHearing => {
                let (date, time, venue) = (f.date("date"), f.time("time"), f.text("venue", 500));
                let override_reason = override_reason(f);
                Event::ScheduleHearing(ScheduleHearing {
                    date: date?,
                    time: time?,
                    venue: venue?,
                    override_reason,
                })
            }
            T::DistributeBundle => {
                let document_ids = f.document_ids("document_ids");
                let override_reason = override_reason(f);
                Event::DistributeBundle(DistributeBundle {
                    document_ids: document_ids?,
                    override_reason,
                })
            }
            T::RecordHearing => {
                let held_on = f.date("held_on");
                let appellant_presented = f.boolean("appellant_presented");
                let respondent_presented = f.boolean("respondent_presented");
                let record = f.text("record", 100_000);
                let override_reason = override_reason(f);
                Event::RecordHearing(RecordHearing {
                    held_on: held_on?,
                    appellant_presented: appellant_presented?,
                    respondent_presented: respondent_presented?,
                    record: record?,
                    override_reason,
                })
            }
            T::RecordDecision => {
                let votes = votes(f);
                let outcome = decision_outcome(f);
                let recommendations = f.text_or_empty("recommendations", 50_000);
                Event::RecordDecision(RecordDecision {
                    votes: votes?,
                    outcome: outcome?,
                    recommendations,
                })
            }
            T::NotifyDecision => Event::NotifyDecision(NotifyDecision {
                override_reason: override_reason(f),
            }),
            T::ReferToFhsu => {
                let statement = f.opt_text("statement", 50_000);
                let contract_document_id = f.opt_text("contract_document_id", 64);
                Event::ReferToFhsu(ReferToFhsu {
                    statement,
                    contract_document_id,
                    referred_on: f.date("referred_on")?,
                })
            }
            T::RecordFhsuDetermination => {
                let determined_on = f.date("determined_on");
                let outcome = f.one_of("outcome");
                let summary = f.text("summary", 10_000);
                Event::RecordFhsuDetermination(RecordFhsuDetermination {
                    determined_on: determined_on?,
                    outcome: outcome?,
                    summary: summary?,
                })
            }
            T::Close => Event::Close(reason(f)?),
            T::Withdraw => Event::Withdraw(reason(f)?),
        })
    }

    pub fn event_type(&self) -> EventType {
        use EventType as T;
        match self {
            Event::AssignMediator(_) => T::AssignMediator,
            Event::AddNote(_) => T::AddNote,
            Event::ResolveInformally(_) => T::ResolveInformally,
            Event::ExhaustInformal(_) => T::ExhaustInformal,
            Event::RequestFormal(_) => T::RequestFormal,
            Event::RecordLmcConsultation(_) => T::RecordLmcConsultation,
            Event::Screen(_) => T::Screen,
            Event::AppointPanel(_) => T::AppointPanel,
            Event::ScheduleHearing(_) => T::ScheduleHearing,
            Event::DistributeBundle(_) => T::DistributeBundle,
            Event::RecordHearing(_) => T::RecordHearing,
            Event::RecordDecision(_) => T::RecordDecision,
            Event::NotifyDecision(_) => T::NotifyDecision,
            Event::ReferToFhsu(_) => T::ReferToFhsu,
            Event::RecordFhsuDetermination(_) => T::RecordFhsuDetermination,
            Event::Close(_) => T::Close,
            Event::Withdraw(_) => T::Withdraw,
        }
    }

    /// The OpenAPI schema of the fields of an event of type `t` (with an example), and the
    /// schema's name (`exhaust_informal`, `close` and `withdraw` share [`Reason`]).
    pub fn schema(t: EventType) -> (Cow<'static, str>, RefOr<Schema>) {
        fn of<T: ToSchema>() -> (Cow<'static, str>, RefOr<Schema>) {
            (T::name(), T::schema())
        }
        use EventType as T;
        match t {
            T::AssignMediator => of::<AssignMediator>(),
            T::AddNote => of::<AddNote>(),
            T::ResolveInformally => of::<ResolveInformally>(),
            T::ExhaustInformal | T::Close | T::Withdraw => of::<Reason>(),
            T::RequestFormal => of::<RequestFormal>(),
            T::RecordLmcConsultation => of::<RecordLmcConsultation>(),
            T::Screen => of::<Screen>(),
            T::AppointPanel => of::<AppointPanel>(),
            T::ScheduleHearing => of::<ScheduleHearing>(),
            T::DistributeBundle => of::<DistributeBundle>(),
            T::RecordHearing => of::<RecordHearing>(),
            T::RecordDecision => of::<RecordDecision>(),
            T::NotifyDecision => of::<NotifyDecision>(),
            T::ReferToFhsu => of::<ReferToFhsu>(),
            T::RecordFhsuDetermination => of::<RecordFhsuDetermination>(),
        }
    }

    /// The panel secretary's reason for overriding this event's date rules, if any.
    pub fn override_reason(&self) -> Option<&str> {
        match self {
            Event::ScheduleHearing(e) => e.override_reason.as_deref(),
            Event::DistributeBundle(e) => e.override_reason.as_deref(),
            Event::RecordHearing(e) => e.override_reason.as_deref(),
            Event::NotifyDecision(e) => e.override_reason.as_deref(),
            _ => None,
        }
    }

    /// What the service must read before [`crate::domain::procedure::decide`].
    pub fn needs(&self) -> Needs<'_> {
        let mut n = Needs::default();
        match self {
            Event::AssignMediator(e) => n.people.push(&e.mediator_id),
            Event::AppointPanel(e) => n.people.extend([
                e.clinical_member_id.as_str(),
                &e.gp_conciliator_id,
                &e.lmc_representative_id,
                &e.secretary_id,
            ]),
            Event::ScheduleHearing(e) => n.unavailable_on = Some(e.date),
            Event::DistributeBundle(_) => n.documents = true,
            Event::ReferToFhsu(_) => {
                n.documents = true;
                n.fhsu_in_directory = true;
            }
            _ => {}
        }
        n
    }
}

fn override_reason(f: &mut Fields) -> Option<String> {
    f.opt_text("override_reason", OVERRIDE_REASON_MAX)
}

/// `record_decision`'s `votes`: a list of at most 10 `{member_id, vote}`.
fn votes(f: &mut Fields) -> Option<Vec<Vote>> {
    let shape = "each vote is {\"member_id\", \"vote\": \"appellant\"|\"respondent\"|\"abstain\"}";
    let one = |v: &Value| {
        let o = v.as_object().filter(|o| o.len() == 2)?;
        let member_id = o.get("member_id")?.as_str().filter(|s| s.len() <= 64)?;
        let vote = VoteChoice::parse(o.get("vote")?.as_str()?)?;
        Some(Vote {
            member_id: member_id.to_string(),
            vote,
        })
    };
    match f.raw("votes") {
        Some(Value::Array(a)) if a.len() <= 10 => {
            let votes = a.iter().map(one).collect::<Option<Vec<Vote>>>();
            if votes.is_none() {
                f.problem("votes", shape);
            }
            votes
        }
        None => {
            f.problem("votes", "is required: one vote per voting member");
            None
        }
        Some(_) => {
            f.problem("votes", "must be a list of at most 10 votes");
            None
        }
    }
}

/// `record_decision`'s optional `outcome`: `Some(None)` when absent, `None` when wrong.
fn decision_outcome(f: &mut Fields) -> Option<Option<Side>> {
    let Some(text) = f.opt_text("outcome", 20) else {
        return Some(None);
    };
    let side = <Side as Choice>::parse(&text);
    if side.is_none() {
        f.problem("outcome", "must be appellant or respondent");
    }
    side.map(Some)
}

/// The common part of every event body: which event, and the version the sender read.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope<'a> {
    pub event: EventType,
    pub expected_version: Option<i64>,
    /// The whole body (for [`Event::parse`]).
    pub body: &'a Map<String, Value>,
}

/// Why a body is not an event at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvelopeError {
    /// Not a JSON object (400).
    NotAnObject,
    /// `type` or `expected_version` is wrong (422).
    Field(FieldProblem),
}

impl std::fmt::Display for EnvelopeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EnvelopeError::NotAnObject => f.write_str("The body must be a JSON object."),
            EnvelopeError::Field(p) => write!(f, "{}: {}", p.field, p.message),
        }
    }
}

impl<'a> Envelope<'a> {
    pub fn parse(body: &'a Value) -> Result<Envelope<'a>, EnvelopeError> {
        let body = body.as_object().ok_or(EnvelopeError::NotAnObject)?;
        let names = <EventType as Choice>::NAMES.join(", ");
        let field = |f: &str, m: String| EnvelopeError::Field(FieldProblem::new(f, m));
        let event = match body.get("type") {
            Some(Value::String(s)) => EventType::parse(s)
                .ok_or_else(|| field("type", format!("unknown event type; one of {names}")))?,
            _ => return Err(field("type", format!("is required: one of {names}"))),
        };
        let expected_version = match body.get("expected_version") {
            None | Some(Value::Null) => None,
            Some(v) => Some(
                v.as_i64()
                    .ok_or_else(|| field("expected_version", "must be an integer".into()))?,
            ),
        };
        Ok(Envelope {
            event,
            expected_version,
            body,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(body: Value) -> Result<Event, Vec<(String, String)>> {
        let env = Envelope::parse(&body).map_err(|e| vec![("envelope".into(), e.to_string())])?;
        Event::parse(env.event, env.body)
            .map_err(|ps| ps.into_iter().map(|p| (p.field, p.message)).collect())
    }

    fn problems(body: Value) -> Vec<(String, String)> {
        parse(body.clone()).expect_err(&body.to_string())
    }

    fn fields(body: Value) -> Vec<String> {
        problems(body).into_iter().map(|p| p.0).collect()
    }

    #[test]
    fn every_event_type_parses_its_documented_example() {
        // The schema examples are real bodies: each parses into its own variant.
        let examples: Vec<(EventType, Value)> = vec![
            (
                EventType::AssignMediator,
                json!({"mediator_id": "m", "mode": "mediation"}),
            ),
            (EventType::AddNote, json!({"text": "t"})),
            (EventType::ResolveInformally, json!({"summary": "s"})),
            (EventType::ExhaustInformal, json!({"reason": "r"})),
            (
                EventType::RequestFormal,
                json!({"grounds": "g", "lodged_on": "2026-03-02"}),
            ),
            (
                EventType::RecordLmcConsultation,
                json!({"consulted_on": "2026-03-02", "summary": "s"}),
            ),
            (
                EventType::Screen,
                json!({"outcome": "vexatious", "reason": "r"}),
            ),
            (
                EventType::AppointPanel,
                json!({"clinical_member_id": "a", "gp_conciliator_id": "b",
                "lmc_representative_id": "c", "secretary_id": "d", "chair_id": "b"}),
            ),
            (
                EventType::ScheduleHearing,
                json!({"date": "2026-03-16", "time": "09:30", "venue": "v",
                "override_reason": "parties agreed"}),
            ),
            (
                EventType::DistributeBundle,
                json!({"document_ids": ["d1", "d2"]}),
            ),
            (
                EventType::RecordHearing,
                json!({"held_on": "2026-03-16", "appellant_presented": true,
                "respondent_presented": false, "record": "r"}),
            ),
            (
                EventType::RecordDecision,
                json!({"votes": [{"member_id": "a", "vote": "abstain"}]}),
            ),
            (EventType::NotifyDecision, json!({"expected_version": 9})),
            (EventType::ReferToFhsu, json!({"referred_on": "2026-03-20"})),
            (
                EventType::RecordFhsuDetermination,
                json!({"determined_on": "2026-03-20", "outcome": "partly", "summary": "s"}),
            ),
            (EventType::Close, json!({"reason": "r"})),
            (EventType::Withdraw, json!({"reason": "r"})),
        ];
        assert_eq!(examples.len(), EventType::ALL.len());
        for (t, mut body) in examples {
            body["type"] = json!(t.as_str());
            let e = parse(body.clone()).unwrap_or_else(|p| panic!("{body}: {p:?}"));
            assert_eq!(e.event_type(), t);
        }
        let Ok(Event::ScheduleHearing(s)) = parse(json!({"type": "schedule_hearing",
            "date": "2026-03-16", "time": "09:30", "venue": " Hall ", "override_reason": "agreed"}))
        else {
            panic!("schedule_hearing");
        };
        assert_eq!(s.time, NaiveTime::from_hms_opt(9, 30, 0).unwrap());
        assert_eq!(s.venue, "Hall");
        assert_eq!(s.override_reason.as_deref(), Some("agreed"));
        let Ok(Event::RecordDecision(d)) = parse(json!({"type": "record_decision", "votes": [],
            "outcome": "respondent"}))
        else {
            panic!("record_decision");
        };
        assert_eq!(
            (d.outcome, d.recommendations.as_str()),
            (Some(Side::Respondent), "")
        );
    }

    #[test]
    fn every_schema_has_an_example_that_parses_as_its_event() {
        for t in EventType::ALL {
            let (name, schema) = Event::schema(*t);
            let schema = serde_json::to_value(&schema).unwrap();
            let mut example = schema["example"].clone();
            assert!(example.is_object(), "{t} ({name}): {schema}");
            example["type"] = json!(t.as_str());
            let e = parse(example.clone()).unwrap_or_else(|p| panic!("{t}: {example}: {p:?}"));
            assert_eq!(e.event_type(), *t);
            // Every field the event takes is documented, and nothing else.
            let mut documented: Vec<&str> = schema["properties"]
                .as_object()
                .map_or(vec![], |p| p.keys().map(String::as_str).collect());
            documented.sort_unstable();
            let empty = Map::new();
            let mut f = Fields::new(&empty);
            let _ = Event::read(*t, &mut f);
            let mut read: Vec<&str> = f.known().to_vec();
            read.sort_unstable();
            assert_eq!(documented, read, "{t}");
        }
    }

    #[test]
    fn every_bad_field_is_listed_at_once_with_todays_wording() {
        let p = problems(json!({"type": "record_hearing", "held_on": "2026-3-16",
            "appellant_presented": "yes", "record": 5, "override_reason": "x".repeat(2001)}));
        assert_eq!(
            p,
            vec![
                (
                    "held_on".into(),
                    "must be a date YYYY-MM-DD between 1900 and 2200".into()
                ),
                ("appellant_presented".into(), "must be true or false".into()),
                (
                    "respondent_presented".into(),
                    "is required (true or false)".into()
                ),
                ("record".into(), "must be a string".into()),
                (
                    "override_reason".into(),
                    "must be at most 2000 characters".into()
                ),
            ]
        );
        assert_eq!(
            fields(json!({"type": "appoint_panel", "gp_conciliator_id": "m".repeat(65)})),
            [
                "clinical_member_id",
                "gp_conciliator_id",
                "lmc_representative_id",
                "secretary_id",
                "chair_id"
            ]
        );
        assert_eq!(
            problems(json!({"type": "assign_mediator", "mediator_id": 7, "mode": "x"})),
            vec![
                ("mediator_id".into(), "must be a string".into()),
                ("mode".into(), "must be one of: advisory, mediation".into()),
            ]
        );
        assert_eq!(
            problems(
                json!({"type": "schedule_hearing", "date": "2026-03-12", "time": "25:00", "venue": "V"})
            ),
            vec![(
                "time".into(),
                "must be a time HH:MM (24-hour, Europe/London)".into()
            )]
        );
        // A field read after a missing one is still read (not refused as unknown).
        assert_eq!(
            problems(
                json!({"type": "schedule_hearing", "time": "10:00", "venue": "V",
                "override_reason": "agreed"})
            ),
            vec![("date".into(), "is required".into())]
        );
        let docs = |v: Value| {
            problems(json!({"type": "distribute_bundle", "document_ids": v}))[0]
                .1
                .clone()
        };
        assert_eq!(docs(json!([])), "must name at least one document");
        assert_eq!(
            docs(json!("x")),
            "must be a list of at most 200 document ids"
        );
        assert_eq!(docs(json!([1])), "must be a list of document ids");
        assert_eq!(docs(Value::Null), "is required");
        let votes = |v: Value| {
            problems(json!({"type": "record_decision", "votes": v}))[0]
                .1
                .clone()
        };
        assert_eq!(
            votes(Value::Null),
            "is required: one vote per voting member"
        );
        assert_eq!(votes(json!({})), "must be a list of at most 10 votes");
        assert!(votes(json!([{"member_id": "a", "vote": "maybe"}])).starts_with("each vote is"));
        assert!(
            votes(json!([{"member_id": "a", "vote": "appellant", "weight": 2}]))
                .starts_with("each vote is")
        );
        assert_eq!(
            problems(json!({"type": "record_decision", "votes": [], "outcome": "partly"})),
            vec![("outcome".into(), "must be appellant or respondent".into())]
        );
        for blank in [
            json!({"type": "resolve_informally", "summary": "  "}),
            json!({"type": "exhaust_informal", "reason": null}),
        ] {
            assert_eq!(problems(blank)[0].1, "is required");
        }
    }

    #[test]
    fn unknown_fields_are_refused_with_the_fields_the_event_takes() {
        let p = problems(
            json!({"type": "assign_mediator", "mediator_id": "m", "mode": "advisory",
            "mediatorId": "m", "note": "x"}),
        );
        assert_eq!(
            p,
            vec![
                ("mediatorId".into(), "is not a field of assign_mediator: it takes mediator_id, mode, and type, expected_version".into()),
                ("note".into(), "is not a field of assign_mediator: it takes mediator_id, mode, and type, expected_version".into()),
            ]
        );
        // Listed with the other problems, not instead of them.
        assert_eq!(
            fields(json!({"type": "add_note", "txt": "x"})),
            ["text", "txt"]
        );
        assert!(
            problems(json!({"type": "notify_decision", "reason": "r"}))[0]
                .1
                .ends_with("it takes override_reason, and type, expected_version")
        );
    }

    #[test]
    fn override_reason_is_refused_where_nothing_can_be_overridden() {
        for t in EventType::ALL {
            let body = json!({"type": t.as_str(), "override_reason": "because"});
            let refused = parse(body)
                .err()
                .unwrap_or_default()
                .into_iter()
                .any(|(f, m)| {
                    f == "override_reason" && m.starts_with(&format!("is not accepted by {t}"))
                });
            assert_eq!(refused, !overridable(*t), "{t}");
        }
        let p = problems(
            json!({"type": "appoint_panel", "override_reason": "x", "clinical_member_id": "a",
            "gp_conciliator_id": "b", "lmc_representative_id": "c", "secretary_id": "d", "chair_id": "b"}),
        );
        assert_eq!(p.len(), 1);
        assert_eq!(
            p[0].1,
            "is not accepted by appoint_panel: only the date rules of schedule_hearing, \
             distribute_bundle, record_hearing and notify_decision may be overridden"
        );
    }

    #[test]
    fn the_envelope_names_the_event_and_the_version() {
        let b = json!({"type": "add_note", "text": "x", "expected_version": 3});
        let e = Envelope::parse(&b).unwrap();
        assert_eq!((e.event, e.expected_version), (EventType::AddNote, Some(3)));
        assert_eq!(
            Envelope::parse(&json!([1])),
            Err(EnvelopeError::NotAnObject)
        );
        let field = |b: Value| match Envelope::parse(&b) {
            Err(EnvelopeError::Field(p)) => (p.field, p.message),
            other => panic!("{other:?}"),
        };
        let (f, m) = field(json!({"text": "no type"}));
        assert_eq!(f, "type");
        assert!(
            m.starts_with("is required: one of assign_mediator, add_note"),
            "{m}"
        );
        assert!(field(json!({"type": "no_such_event"}))
            .1
            .starts_with("unknown event type; one of"));
        assert_eq!(
            field(json!({"type": "add_note", "expected_version": "7"})),
            ("expected_version".into(), "must be an integer".into())
        );
    }

    #[test]
    fn needs_name_what_the_service_reads() {
        let Ok(e) =
            parse(json!({"type": "assign_mediator", "mediator_id": "m", "mode": "advisory"}))
        else {
            panic!()
        };
        assert_eq!(e.needs().people, ["m"]);
        let Ok(e) = parse(json!({"type": "refer_to_fhsu", "referred_on": "2026-03-02"})) else {
            panic!()
        };
        assert!(e.needs().documents && e.needs().fhsu_in_directory);
        let Ok(e) = parse(json!({"type": "add_note", "text": "t"})) else {
            panic!()
        };
        assert_eq!(e.needs(), Needs::default());
    }
}
