//! The procedure in the words people use: one table per thing the pages name (a state, a
//! stage, an event in the timeline, an action, a deadline), so that every page says it alike.

use crate::domain::calendar::Calendar;
use crate::domain::dispute::{DeadlineKind, DeadlineStep};
use crate::domain::workflow::{EventType, State};
use chrono::NaiveDate;
use serde_json::Value;

/// A state as a tag: the words and the tag's colour (the words carry the meaning; the colour
/// only repeats it).
pub fn state(s: State) -> (&'static str, &'static str) {
    use State::*;
    match s {
        Informal => ("Waiting for the LMC to take the case", "blue"),
        InformalMediation => ("With the LMC mediator", "aqua-green"),
        Resolved => ("Resolved informally", "green"),
        InformalExhausted => ("Informal stage ended without agreement", "yellow"),
        FormalRequested => ("Formal resolution requested: to be screened", "purple"),
        Rejected => ("Not accepted for a panel", "red"),
        PanelForming => ("Waiting for a panel to be appointed", "purple"),
        PanelAppointed => ("Panel appointed: hearing to be scheduled", "purple"),
        HearingScheduled => ("Hearing scheduled", "purple"),
        HearingHeld => ("Hearing held: waiting for the decision", "pink"),
        Decided => ("Decision made: to be sent to the parties", "pink"),
        DecisionNotified => ("Decision sent to the parties", "green"),
        ReferredToFhsu => ("Referred to NHS Resolution (FHSU)", "orange"),
        Closed => ("Closed", "grey"),
        Withdrawn => ("Withdrawn", "grey"),
    }
}

pub fn stage(s: State) -> &'static str {
    match s.stage() {
        Some(1) => "Stage 1: informal resolution with the LMC",
        Some(2) => "Stage 2: formal resolution by a local dispute resolution panel",
        Some(3) => "Stage 3: referral to NHS Resolution (FHSU)",
        _ => "Ended",
    }
}

pub fn category(c: &str) -> &'static str {
    c.parse::<crate::domain::dispute::Category>()
        .map_or("Other", |c| c.words())
}

pub fn mediator_mode(m: Option<&str>) -> &'static str {
    match m {
        Some("advisory") => "Advisory",
        Some("mediation") => "Mediation",
        Some(_) => "Other",
        None => "Not taken yet",
    }
}

pub fn document_kind(k: &str) -> &'static str {
    match k {
        "grounds" => "Grounds",
        "evidence" => "Evidence",
        "contract" => "Contract",
        "record" => "Hearing record",
        "decision" => "Decision",
        _ => "Other",
    }
}

/// What the viewer may do now, one line per event type the actions table allows.
pub fn action(e: EventType) -> &'static str {
    use EventType::*;
    match e {
        AssignMediator => "Take the case, as adviser or mediator",
        AddNote => "Add a note",
        ResolveInformally => "Record that the dispute was resolved informally",
        ExhaustInformal => "Record that the informal stage is exhausted",
        RequestFormal => "Request formal resolution by a panel",
        RecordLmcConsultation => "Record the consultation with the LMC",
        Screen => "Screen the request for formal resolution",
        AppointPanel => "Appoint a panel",
        ScheduleHearing => "Schedule or move the hearing",
        DistributeBundle => "Distribute the bundle",
        RecordHearing => "Record the hearing",
        RecordDecision => "Record the panel's decision",
        NotifyDecision => "Send the decision to the parties",
        ReferToFhsu => "Refer the dispute to NHS Resolution (FHSU)",
        RecordFhsuDetermination => "Record NHS Resolution's determination",
        Close => "Close the case",
        Withdraw => "Withdraw the dispute",
    }
}

fn date_in(data: &Value, field: &str) -> Option<String> {
    let d = data.get(field)?.as_str()?;
    let d = NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()?;
    Some(crate::render::templates::long_date(d))
}

/// One event of the history as a sentence, its actor named (`data` as the viewer may see it).
pub fn event(event_type: &str, actor: &str, data: &Value) -> String {
    let text = |f: &str| {
        data.get(f)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    match event_type {
        "file" => format!("{actor} filed the dispute."),
        "assign_mediator" => match text("mode").as_str() {
            "advisory" => format!("{actor} took the case as adviser."),
            _ => format!("{actor} took the case as mediator."),
        },
        "add_note" => format!("{actor} added a note: “{}”", text("text")),
        "resolve_informally" => {
            format!("{actor} recorded that the dispute was resolved informally.")
        }
        "exhaust_informal" => format!(
            "{actor} recorded that the informal stage was exhausted: “{}”",
            text("reason")
        ),
        "request_formal" => format!("{actor} requested formal resolution by a panel."),
        "record_lmc_consultation" => format!("{actor} recorded the consultation with the LMC."),
        "screen" => match text("outcome").as_str() {
            "proceed" => format!("{actor} screened the request: it goes to a panel."),
            "" => format!("{actor} screened the request."),
            other => format!("{actor} screened the request and did not accept it ({other})."),
        },
        "appoint_panel" => format!("{actor} appointed the panel."),
        "schedule_hearing" => match date_in(data, "date") {
            Some(d) => format!("{actor} scheduled the hearing for {d}."),
            None => format!("{actor} scheduled the hearing."),
        },
        "distribute_bundle" => format!("{actor} distributed the bundle."),
        "record_hearing" => match date_in(data, "held_on") {
            Some(d) => format!("{actor} recorded that the hearing was held on {d}."),
            None => format!("{actor} recorded the hearing."),
        },
        "record_decision" => format!("{actor} recorded the panel's decision."),
        "notify_decision" => format!("{actor} sent the decision to the parties."),
        "refer_to_fhsu" => format!("{actor} referred the dispute to NHS Resolution (FHSU)."),
        "record_fhsu_determination" => format!("{actor} recorded NHS Resolution's determination."),
        "close" => format!("{actor} closed the case."),
        "withdraw" => format!("{actor} withdrew the dispute."),
        other => format!("{actor}: {}.", other.replace('_', " ")),
    }
}

/// What a deadline is called on the pages.
pub fn deadline_label(kind: DeadlineKind) -> &'static str {
    match kind {
        DeadlineKind::Hearing => "Hearing to be held by",
        DeadlineKind::Notice => "Notice of the hearing to be sent by",
        DeadlineKind::Bundle => "Bundle to be distributed by",
        DeadlineKind::Decision => "Decision to be issued by",
        DeadlineKind::Fhsu => "Last day to refer the dispute to NHS Resolution (FHSU)",
    }
}

/// Where a deadline stands, for the case page: the time left while it is to be met, else
/// when it was met, else that it no longer applies.
pub fn standing(cal: &Calendar, today: NaiveDate, dl: &DeadlineStep) -> String {
    let long = crate::render::templates::long_date;
    match (dl.pending, dl.done_on) {
        (true, _) => days_left(cal, today, dl.date),
        (false, Some(done)) if done <= dl.date => format!("Done on {}", long(done)),
        (false, Some(done)) => format!("Done late, on {}", long(done)),
        (false, None) => "No longer applies".into(),
    }
}

fn working_days(n: i64) -> String {
    if n == 1 {
        "1 working day".into()
    } else {
        format!("{n} working days")
    }
}

/// "3 working days left", "Due today", "Overdue by 2 working days", from the working-day
/// calendar.
pub fn days_left(cal: &Calendar, today: NaiveDate, due: NaiveDate) -> String {
    if due == today {
        return "Due today".into();
    }
    let n = cal.working_days_between(today, due);
    if due > today {
        format!("{} left", working_days(n))
    } else {
        format!("Overdue by {}", working_days((-n).max(1)))
    }
}

/// How long a case has been open, in working days since it was filed.
pub fn days_open(cal: &Calendar, today: NaiveDate, filed: NaiveDate) -> String {
    working_days(cal.working_days_between(filed, today).max(0))
}

/// A kind of read in the access log, as the case page says it.
pub fn read_kind(kind: &str) -> &'static str {
    match kind {
        "case_page" => "Opened the case page",
        "dispute" => "Read the case (API)",
        "events" => "Read the history (API)",
        "documents" => "Listed the documents (API)",
        "document" => "Downloaded a document",
        "notices" => "Read the notices (API)",
        "referral_pack" => "Downloaded the referral pack",
        "hearing_ics" => "Downloaded the hearing invitation (API)",
        "hearing_options" => "Read the hearing options (API)",
        _ => "Read the case",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn working_days_left_skip_weekends_and_bank_holidays() {
        let cal = Calendar::computed();
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        // (today, due, words)
        for (today, due, words) in [
            // Friday 19 March 2027 → Monday 22 March: one working day.
            ("2027-03-19", "2027-03-22", "1 working day left"),
            ("2027-03-19", "2027-03-19", "Due today"),
            // Good Friday 26 March and Easter Monday 29 March 2027 are not working days.
            ("2027-03-25", "2027-03-30", "1 working day left"),
            ("2027-03-24", "2027-03-22", "Overdue by 2 working days"),
        ] {
            assert_eq!(days_left(&cal, d(today), d(due)), words, "{today} → {due}");
        }
        assert_eq!(
            days_open(&cal, d("2027-03-22"), d("2027-03-15")),
            "5 working days"
        );
    }

    #[test]
    fn every_state_has_words() {
        for s in State::ALL {
            assert!(!state(*s).0.is_empty());
            assert!(!stage(*s).is_empty());
        }
        for e in EventType::ALL {
            assert!(!action(*e).is_empty());
            assert!(!event(e.as_str(), "Mia", &Value::Null).contains('_'), "{e}");
        }
    }
}
