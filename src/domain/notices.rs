//! Who is told what: each event's notice (template and recipients, as roles of the case) in
//! one table, and the deadline sweep's schedule of reminders and breach alerts.
//!
//! Recipients are roles; the service turns them into addresses, against the dispute as it is
//! *after* the event (so `mediator_assigned` reaches the mediator just assigned).

use chrono::{Days, NaiveDate};
use serde_json::{json, Value};

use super::calendar::Calendar;
use super::dispute::{Breach, Dispute};
use super::workflow::{EventType, State};

/// Someone a notice goes to, relative to the case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recipient {
    /// The appellant organisation's `email`.
    Appellant,
    /// The respondent organisation's `email`.
    Respondent,
    /// The dispute's LMC's `email` (nobody when the dispute has no LMC).
    Lmc,
    /// The stage-1 mediator, if active.
    Mediator,
    /// The three voting members and the secretary, those active.
    Panel,
    /// The panel's secretary, if active.
    Secretary,
    /// The panel's chair, if active.
    Chair,
    /// The active accountable officers of the screening commissioning group, or that group's
    /// own `email` when it has none.
    AccountableOfficers,
    /// Every `fhsu` organisation's `email`.
    Fhsu,
    /// Every active panel secretary: all of them see the cases awaiting a panel
    /// (`panel_forming`), so all of them are told of one.
    PanelSecretaries,
}

use Recipient::*;

/// Both parties, in the order every notice lists them.
const PARTIES: [Recipient; 2] = [Appellant, Respondent];

/// A calendar invitation attached to a notice (built by the service from the dispute's
/// hearing, with its sequence).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CalendarMethod {
    Request,
    Cancel,
}

/// A kind of notice: its template (in `email_templates/`), to whom, with what attached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Notice {
    pub template: &'static str,
    pub to: &'static [Recipient],
    pub calendar: Option<CalendarMethod>,
}

const fn notice(template: &'static str, to: &'static [Recipient]) -> Notice {
    Notice {
        template,
        to,
        calendar: None,
    }
}

/// A dispute was filed: the respondent and the LMC are told.
pub const FILED: Notice = notice("dispute_filed", &[Respondent, Lmc]);
/// A dispute was filed: the filing party's acknowledgement.
pub const ACKNOWLEDGED: Notice = notice("dispute_acknowledged", &[Appellant]);
/// A formal request was screened to proceed: the case awaits a panel.
pub const AWAITING_PANEL: Notice = notice("awaiting_panel", &[PanelSecretaries]);
/// The hearing of a withdrawn dispute is called off.
pub const HEARING_CANCELLED: Notice = Notice {
    template: "hearing_cancelled",
    to: &[Appellant, Respondent, Panel, Lmc],
    calendar: Some(CalendarMethod::Cancel),
};
/// A deadline passed unmet.
pub const DEADLINE_BREACHED: Notice =
    notice("deadline_breached", &[Secretary, Lmc, AccountableOfficers]);
/// A deadline passed unmet while the case awaits a panel: no secretary of its own yet, so the
/// panel secretaries, one of whom must appoint it, are alerted instead.
pub const DEADLINE_BREACHED_AWAITING_PANEL: Notice = notice(
    "deadline_breached",
    &[PanelSecretaries, Lmc, AccountableOfficers],
);

/// The notice each event sends; events not listed send none.
const EVENT_NOTICES: &[(EventType, Notice)] = &[
    (
        EventType::AssignMediator,
        notice("mediator_assigned", &[Appellant, Respondent, Mediator, Lmc]),
    ),
    (
        EventType::ResolveInformally,
        notice("informal_resolved", &[Appellant, Respondent, Mediator, Lmc]),
    ),
    (
        EventType::ExhaustInformal,
        notice("informal_exhausted", &[Appellant, Respondent, Lmc]),
    ),
    (
        EventType::RequestFormal,
        notice(
            "formal_requested",
            &[AccountableOfficers, Lmc, Appellant, Respondent],
        ),
    ),
    (
        EventType::Screen,
        notice(
            "screening_outcome",
            &[Appellant, Respondent, Lmc, AccountableOfficers],
        ),
    ),
    (
        EventType::AppointPanel,
        notice("panel_appointed", &[Appellant, Respondent, Panel, Lmc]),
    ),
    (
        EventType::ScheduleHearing,
        Notice {
            template: "hearing_scheduled",
            to: &[Appellant, Respondent, Panel, Lmc],
            calendar: Some(CalendarMethod::Request),
        },
    ),
    (
        EventType::DistributeBundle,
        notice("bundle_distributed", &[Appellant, Respondent, Panel]),
    ),
    (
        EventType::NotifyDecision,
        notice("decision_notified", &[Appellant, Respondent, Panel, Lmc]),
    ),
    (
        EventType::ReferToFhsu,
        notice(
            "fhsu_referral",
            &[Appellant, Respondent, Lmc, AccountableOfficers, Fhsu],
        ),
    ),
    (
        EventType::RecordFhsuDetermination,
        notice("fhsu_determination", &[Appellant, Respondent, Lmc]),
    ),
    (
        EventType::Close,
        notice("dispute_closed", &[Appellant, Respondent, Lmc]),
    ),
    (
        EventType::Withdraw,
        notice(
            "dispute_withdrawn",
            &[Appellant, Respondent, Lmc, Mediator, Panel],
        ),
    ),
];

/// The notice `event` sends, if any.
pub fn of_event(event: EventType) -> Option<&'static Notice> {
    EVENT_NOTICES
        .iter()
        .find(|(e, _)| *e == event)
        .map(|(_, n)| n)
}

/// Whether an event sends e-mail (and so counts against the limit on notices per user and
/// organisation).
pub fn notifies(event: EventType) -> bool {
    of_event(event).is_some()
}

/// One notice to queue: which, and the template context it adds to [`base_context`].
#[derive(Debug, Clone, PartialEq)]
pub struct NoticeIntent {
    pub notice: Notice,
    /// A JSON object; its text fields are quoted as sent (the service shortens long ones).
    pub context: Value,
}

impl Notice {
    pub fn with(self, context: Value) -> NoticeIntent {
        NoticeIntent {
            notice: self,
            context,
        }
    }
}

/// The fields every template receives. `public_url` is the service's address (`LDR_PUBLIC_URL`):
/// every notice links to the case's page, `{public_url}/disputes/{id}`, and a template may
/// link a document as `{public_url}/documents/{id}`.
pub fn base_context(
    d: &Dispute,
    appellant_name: &str,
    respondent_name: &str,
    today: NaiveDate,
    public_url: &str,
) -> Value {
    let public_url = public_url.trim_end_matches('/');
    json!({
        "case_ref": d.case_ref(),
        "title": d.title,
        "category": d.category,
        "category_words": d.category.words(),
        "appellant_name": appellant_name,
        "respondent_name": respondent_name,
        "today": today.to_string(),
        "public_url": public_url,
        "case_url": format!("{public_url}/disputes/{}", d.id),
    })
}

/// The notices of a new dispute: to the respondent and the LMC, and the filing party's
/// acknowledgement.
pub fn filed(d: &Dispute) -> Vec<NoticeIntent> {
    let context = json!({"summary": d.summary, "matter_arose_on": d.matter_arose_on});
    vec![FILED.with(context.clone()), ACKNOWLEDGED.with(context)]
}

// ------------------------------------------------------------------ reminders and breaches

/// What a deadline is and what to do about it, as reminders and alerts say it: `label` is
/// what is due, in words that read in "Reminder: {label} is due by {date}" and "Deadline
/// missed: {label} was due by {date}".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subject {
    pub label: &'static str,
    pub action: &'static str,
}

/// The deadlines' words, `(label, action)`, in the order of the constants below.
const WORDS: [(&str, &str); 7] = [
    (
        "the hearing",
        "schedule the hearing and send notice to everyone",
    ),
    ("the hearing", "hold the hearing"),
    (
        "the record of the hearing",
        "record the hearing, or schedule it again if it did not take place",
    ),
    (
        "notice of the hearing",
        "schedule the hearing so that notice goes out",
    ),
    (
        "the document bundle",
        "distribute the bundle to the parties and the panel",
    ),
    (
        "the written decision",
        "record the decision and send it to both parties",
    ),
    (
        "any referral to the FHSU",
        "refer the dispute to the FHSU if you wish to",
    ),
];

const fn words(i: usize) -> Subject {
    Subject {
        label: WORDS[i].0,
        action: WORDS[i].1,
    }
}

const HEARING_UNSCHEDULED: Subject = words(0);
const HEARING_HELD: Subject = words(1);
const HEARING_NOT_RECORDED: Subject = words(2);
const NOTICE: Subject = words(3);
const BUNDLE: Subject = words(4);
const DECISION: Subject = words(5);
const FHSU: Subject = words(6);

/// Something the sweep must do on or after `on`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    /// A reminder's kind (e.g. `notice_3`), or a breach's rule code (e.g. `bundle_too_late`).
    pub kind: &'static str,
    pub on: NaiveDate,
    pub deadline: NaiveDate,
    /// A breach (the deadline passed unmet) rather than a reminder.
    pub breach: bool,
    pub subject: Subject,
}

/// Every reminder and breach check that applies to the dispute in its current state.
pub fn schedule(cal: &Calendar, d: &Dispute) -> Vec<Due> {
    use State::*;
    let s = d.state;
    let wd_before = |by: NaiveDate, n: i64| cal.add_working_days(by, -n);
    let days_before = |by: NaiveDate, n: u64| by.checked_sub_days(Days::new(n));
    let day_after = |by: NaiveDate| by.checked_add_days(Days::new(1));
    let mut out = Vec::new();
    let mut add = |kind, on: Option<NaiveDate>, deadline, breach, subject| {
        if let Some(on) = on {
            out.push(Due {
                kind,
                on,
                deadline,
                breach,
                subject,
            });
        }
    };
    let before_hearing = matches!(s, FormalRequested | PanelForming | PanelAppointed);
    let dl = &d.deadlines;
    if let Some(by) = dl.hearing_by {
        if before_hearing {
            add(
                "hearing_unscheduled_10",
                wd_before(by, 10),
                by,
                false,
                HEARING_UNSCHEDULED,
            );
            add(
                "hearing_unscheduled_3",
                wd_before(by, 3),
                by,
                false,
                HEARING_UNSCHEDULED,
            );
        }
        // Once a hearing is scheduled, this deadline cannot be missed unnoticed: a hearing
        // after it was an override, recorded then, and one on or before it that is not held
        // is `hearing_not_recorded` below. (Recorded a day late, a hearing held on its last
        // day must not be reported as late.)
        if before_hearing {
            add(
                "hearing_after_deadline",
                day_after(by),
                by,
                true,
                HEARING_HELD,
            );
        }
    }
    if let Some(by) = dl.notice_by.filter(|_| before_hearing) {
        add("notice_3", wd_before(by, 3), by, false, NOTICE);
        add("notice_1", wd_before(by, 1), by, false, NOTICE);
        add("insufficient_notice", day_after(by), by, true, NOTICE);
    }
    // The hearing's day passed and nothing says it was held (or moved).
    if let Some(h) = d.hearing.as_ref().filter(|_| s == HearingScheduled) {
        add(
            "hearing_not_recorded",
            day_after(h.date),
            h.date,
            true,
            HEARING_NOT_RECORDED,
        );
    }
    let bundle_pending = s == HearingScheduled && d.bundle_distributed_on.is_none();
    if let Some(by) = dl.bundle_by.filter(|_| bundle_pending) {
        add("bundle_2", wd_before(by, 2), by, false, BUNDLE);
        add("bundle_too_late", day_after(by), by, true, BUNDLE);
    }
    if let Some(by) = dl
        .decision_by
        .filter(|_| matches!(s, HearingHeld | Decided))
    {
        add("decision_2", days_before(by, 2), by, false, DECISION);
        add("decision_late", day_after(by), by, true, DECISION);
    }
    // After the decision, or screened out (rule 1): either may go to the FHSU (rule 7).
    let may_refer = matches!(s, DecisionNotified | Rejected) && d.referable();
    if let Some(by) = dl.fhsu_by.filter(|_| may_refer) {
        add("fhsu_60", days_before(by, 60), by, false, FHSU);
        add("fhsu_14", days_before(by, 14), by, false, FHSU);
    }
    out
}

/// The first day on which the sweep has something to do for this dispute.
pub fn next_sweep_on(cal: &Calendar, d: &Dispute) -> Option<NaiveDate> {
    schedule(cal, d).into_iter().map(|x| x.on).min()
}

/// The first such day after `today` (what the sweep records once it has done today's).
pub fn next_sweep_after(cal: &Calendar, d: &Dispute, today: NaiveDate) -> Option<NaiveDate> {
    schedule(cal, d)
        .into_iter()
        .map(|x| x.on)
        .filter(|on| *on > today)
        .min()
}

/// Who is reminded of a deadline: the parties of the FHSU time limit; the secretary and chair
/// of the decision; the secretary of anything else, or before there is a panel, whoever
/// convenes it (the accountable officers and the LMC).
pub fn reminder_recipients(kind: &str, d: &Dispute) -> &'static [Recipient] {
    if kind.starts_with("fhsu") {
        &PARTIES
    } else if kind.starts_with("decision") {
        &[Secretary, Chair]
    } else if d.panel.is_some() {
        &[Secretary]
    } else if d.state == State::PanelForming {
        // Screened to proceed: a panel secretary must appoint the panel.
        &[PanelSecretaries, Lmc]
    } else {
        &[AccountableOfficers, Lmc]
    }
}

impl Due {
    /// The reminder (`deadline_reminder`) or alert (`deadline_breached`) to send on `today`.
    pub fn notice(&self, d: &Dispute, cal: &Calendar, today: NaiveDate) -> NoticeIntent {
        let mut context = json!({"deadline_label": self.subject.label,
            "due_on": self.deadline, "action": self.subject.action});
        if self.breach {
            let alert = if d.state == State::PanelForming {
                DEADLINE_BREACHED_AWAITING_PANEL
            } else {
                DEADLINE_BREACHED
            };
            return alert.with(context);
        }
        context["working_days_left"] = json!(cal.working_days_between(today, self.deadline));
        notice("deadline_reminder", reminder_recipients(self.kind, d)).with(context)
    }

    /// The breach to record when the deadline passed unmet (detected on `today`).
    pub fn breach(&self, today: NaiveDate) -> Breach {
        Breach {
            kind: self.kind,
            due_on: self.deadline,
            detected_on: today,
            overridden: false,
            detail: format!(
                "The deadline for {} ({}) passed unmet.",
                self.subject.label, self.deadline
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::procedure::tests::{date, dispute_at};

    #[test]
    fn every_event_that_notifies_has_one_row_and_the_quiet_ones_none() {
        for e in EventType::ALL {
            assert!(
                EVENT_NOTICES.iter().filter(|(x, _)| x == e).count() <= 1,
                "{e}"
            );
        }
        let quiet: Vec<EventType> = EventType::ALL
            .iter()
            .copied()
            .filter(|e| !notifies(*e))
            .collect();
        assert_eq!(
            quiet,
            [
                EventType::AddNote,
                EventType::RecordLmcConsultation,
                EventType::RecordHearing,
                EventType::RecordDecision
            ]
        );
        assert_eq!(
            of_event(EventType::ScheduleHearing).unwrap().calendar,
            Some(CalendarMethod::Request)
        );
    }

    #[test]
    fn the_schedule_follows_the_state() {
        let cal = Calendar::computed();
        let kinds =
            |d: &Dispute| -> Vec<&str> { schedule(&cal, d).iter().map(|x| x.kind).collect() };
        assert!(kinds(&dispute_at(State::Informal)).is_empty());
        // Lodged Monday 2 March 2026: hearing by Monday 30 March, notice by Wednesday 18 March.
        let d = dispute_at(State::PanelAppointed);
        assert_eq!(
            kinds(&d),
            [
                "hearing_unscheduled_10",
                "hearing_unscheduled_3",
                "hearing_after_deadline",
                "notice_3",
                "notice_1",
                "insufficient_notice"
            ]
        );
        let s = schedule(&cal, &d);
        assert_eq!(s[0].on, date("2026-03-16"));
        assert_eq!(s[2].on, date("2026-03-31"));
        assert_eq!(s[3].on, date("2026-03-13"));
        assert_eq!(next_sweep_on(&cal, &d), Some(date("2026-03-13")));
        assert_eq!(
            next_sweep_after(&cal, &d, date("2026-03-13")),
            Some(date("2026-03-16"))
        );
        // Scheduled for Monday 16 March: the bundle by Monday 9 March. The hearing's deadline
        // is no longer swept: a hearing on its last day recorded the day after is not late,
        // and one not held is `hearing_not_recorded`.
        let d = dispute_at(State::HearingScheduled);
        assert_eq!(
            kinds(&d),
            ["hearing_not_recorded", "bundle_2", "bundle_too_late"]
        );
        let not_recorded = &schedule(&cal, &d)[0];
        assert_eq!(
            (not_recorded.on, not_recorded.deadline, not_recorded.breach),
            (date("2026-03-17"), date("2026-03-16"), true)
        );
        assert_eq!(
            not_recorded.breach(date("2026-03-17")).detail,
            "The deadline for the record of the hearing (2026-03-16) passed unmet."
        );
        let d = dispute_at(State::HearingHeld);
        assert_eq!(kinds(&d), ["decision_2", "decision_late"]);
        // Recorded, not yet sent: the written decision's deadline still runs (rule 6).
        let d = dispute_at(State::Decided);
        assert_eq!(kinds(&d), ["decision_2", "decision_late"]);
        // A contract matter, practice against commissioner: the FHSU time limit.
        let d = dispute_at(State::DecisionNotified);
        assert_eq!(kinds(&d), ["fhsu_60", "fhsu_14"]);
        assert_eq!(schedule(&cal, &d)[0].on, date("2028-04-01"));
        // Screened out, it may still go to the FHSU: the same reminders.
        let mut d = dispute_at(State::FormalRequested);
        d.state = State::Rejected;
        assert_eq!(kinds(&d), ["fhsu_60", "fhsu_14"]);
        // Not a contract matter: nothing to refer.
        d.contract_related = false;
        assert!(kinds(&d).is_empty());
    }

    #[test]
    fn reminders_and_alerts_go_to_whoever_must_act() {
        let cal = Calendar::computed();
        let forming = dispute_at(State::PanelForming);
        let due = schedule(&cal, &forming);
        let n = due[0].notice(&forming, &cal, date("2026-03-16"));
        assert_eq!(n.notice.template, "deadline_reminder");
        // Awaiting a panel: the panel secretaries must act (one of them appoints it).
        assert_eq!(n.notice.to, [PanelSecretaries, Lmc]);
        // Before screening, the accountable officers must.
        let requested = dispute_at(State::FormalRequested);
        assert_eq!(
            reminder_recipients("hearing_unscheduled_10", &requested),
            [AccountableOfficers, Lmc]
        );
        assert_eq!(n.context["working_days_left"], 10);
        assert_eq!(n.context["due_on"], "2026-03-30");
        let appointed = dispute_at(State::PanelAppointed);
        assert_eq!(reminder_recipients("notice_1", &appointed), [Secretary]);
        assert_eq!(
            reminder_recipients("decision_2", &appointed),
            [Secretary, Chair]
        );
        assert_eq!(
            reminder_recipients("fhsu_14", &appointed),
            [Appellant, Respondent]
        );
        let late = due.iter().find(|x| x.breach).unwrap();
        let n = late.notice(&forming, &cal, date("2026-03-31"));
        assert_eq!(n.notice, DEADLINE_BREACHED_AWAITING_PANEL);
        let appointed_late = schedule(&cal, &appointed)
            .into_iter()
            .find(|x| x.breach)
            .unwrap();
        assert_eq!(
            appointed_late
                .notice(&appointed, &cal, date("2026-03-31"))
                .notice,
            DEADLINE_BREACHED
        );
        assert!(n.context.get("working_days_left").is_none());
        let b = late.breach(date("2026-03-31"));
        assert_eq!((b.kind, b.overridden), ("hearing_after_deadline", false));
        assert_eq!(
            b.detail,
            "The deadline for the hearing (2026-03-30) passed unmet."
        );
    }
}
