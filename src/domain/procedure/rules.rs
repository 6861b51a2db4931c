//! The date rules of the procedure and who may override them.
//!
//! - Rule 3, the hearing within 20 working days of the formal request: [`hearing_deadline`]
//!   (the only place it is enforced, when a hearing is scheduled and when it is recorded).
//! - Rule 4, 7 clear working days' notice: [`notice`].
//! - Rule 5, the bundle 5 clear working days before the hearing: [`bundle`].
//! - Rule 6, the written decision within 7 days of the hearing: [`decision_in_time`].
//! - A panel member unavailable on the hearing date: [`available`].
//! - The hearing recorded as held on the day it was scheduled for: [`held_as_scheduled`].
//! - Rule 8, overrides: [`DateRules::resolve`]. Each rule above is refused with its code
//!   unless the sender is the case's panel secretary and gives an `override_reason`; an
//!   override is recorded as a breach (and counted in the timeliness report).
//!
//! The deadlines themselves are computed in [`crate::domain::deadlines`].

use chrono::NaiveDate;

use super::{Refusal, Sender};
use crate::domain::calendar::Calendar;
use crate::domain::deadlines;
use crate::domain::dispute::Breach;
use crate::domain::panel::Violation;

/// "Monday 2 March 2026".
pub(super) fn long(d: NaiveDate) -> String {
    d.format("%A %-d %B %Y").to_string()
}

/// What a refusal under an overridable rule adds, saying who may override it and how: the
/// case's panel secretary, with `override_reason` (unless `message` already says so).
fn how_to_override(reason_sent: bool, sender: &Sender, message: &str) -> &'static str {
    match (reason_sent, sender.case_secretary) {
        (true, _) => {
            " Only the panel's secretary may override this (with override_reason), recorded as \
             a breach."
        }
        (false, _) if message.contains("override_reason") => "",
        (false, true) => {
            " To go ahead anyway, send override_reason saying why: it is recorded as an \
             overridden breach."
        }
        (false, false) => {
            " Only the panel's secretary may go ahead anyway, by sending override_reason saying \
             why (recorded as a breach)."
        }
    }
}

/// The date rules one event broke: (code, message, the date that was due).
#[derive(Debug, Default)]
pub(super) struct DateRules {
    broken: Vec<(&'static str, String, NaiveDate)>,
}

/// When rule 5 is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum BundleMoment {
    /// `distribute_bundle`: the bundle goes out now.
    Distributed,
    /// `schedule_hearing` moving the hearing: the bundle went out before.
    HearingMoved,
}

/// When rule 3 is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum HearingMoment {
    /// `schedule_hearing`: the date proposed.
    Scheduled,
    /// `record_hearing`: the date it was held.
    Held,
}

impl DateRules {
    fn fail(&mut self, code: &'static str, message: String, due: NaiveDate) {
        self.broken.push((code, message, due));
    }

    /// Rule 8: nothing broken → no breach; broken and overridden by the case's panel
    /// secretary with a reason → a breach per rule, marked overridden; otherwise refused with
    /// the first rule's code, every rule listed.
    pub(super) fn resolve(
        self,
        override_reason: Option<&str>,
        sender: &Sender,
        today: NaiveDate,
    ) -> Result<Vec<Breach>, Refusal> {
        let Some((code, first, _)) = self.broken.first() else {
            return Ok(Vec::new());
        };
        match override_reason {
            Some(reason) if sender.case_secretary => Ok(self
                .broken
                .into_iter()
                .map(|(kind, message, due_on)| Breach {
                    kind,
                    due_on,
                    detected_on: today,
                    overridden: true,
                    detail: format!("{message} Overridden by the panel secretary: {reason}"),
                })
                .collect()),
            _ => {
                let mut detail = first.clone();
                detail.push_str(how_to_override(override_reason.is_some(), sender, first));
                Err(Refusal::Rules {
                    code,
                    detail,
                    violations: self
                        .broken
                        .into_iter()
                        .map(|(rule, message, _)| Violation { rule, message })
                        .collect(),
                })
            }
        }
    }

    /// Rule 3: a hearing on `hearing_on` is within 20 working days of the formal request,
    /// i.e. on or before `hearing_by` (no check when no request was lodged).
    pub(super) fn hearing_deadline(
        &mut self,
        hearing_by: Option<NaiveDate>,
        hearing_on: NaiveDate,
        moment: HearingMoment,
    ) {
        let Some(by) = hearing_by.filter(|by| hearing_on > *by) else {
            return;
        };
        let message = match moment {
            HearingMoment::Scheduled => format!(
                "The hearing must be on or before {} ({} working days after the formal request).",
                long(by),
                deadlines::HEARING_WORKING_DAYS
            ),
            HearingMoment::Held => format!("The hearing had to be held on or before {}.", long(by)),
        };
        self.fail("hearing_after_deadline", message, by);
    }

    /// Rule 4: notice sent `today` of a hearing on `hearing_on`.
    pub(super) fn notice(&mut self, cal: &Calendar, today: NaiveDate, hearing_on: NaiveDate) {
        if deadlines::notice_sufficient(cal, today, hearing_on) {
            return;
        }
        let earliest = deadlines::earliest_hearing_after_notice(cal, today).unwrap_or(hearing_on);
        self.fail(
            "insufficient_notice",
            format!(
                "At least {} working days' notice is needed: with notice sent today the earliest \
                 hearing date is {}.",
                deadlines::NOTICE_WORKING_DAYS,
                long(earliest)
            ),
            deadlines::latest_notice_day(cal, hearing_on).unwrap_or(today),
        );
    }

    /// Rule 5: the bundle distributed on `sent_on` for a hearing on `hearing_on`; `moment` says
    /// whether it is being distributed now or went out before the hearing was moved.
    pub(super) fn bundle(
        &mut self,
        cal: &Calendar,
        sent_on: NaiveDate,
        hearing_on: NaiveDate,
        moment: BundleMoment,
    ) {
        if deadlines::bundle_in_time(cal, sent_on, hearing_on) {
            return;
        }
        let last = deadlines::latest_bundle_day(cal, hearing_on);
        let last_text = last.map(long).unwrap_or_default();
        let message = match moment {
            BundleMoment::Distributed => format!(
                "The bundle must reach everyone at least {} working days before the hearing on \
                 {}: the last day was {}.",
                deadlines::BUNDLE_WORKING_DAYS,
                long(hearing_on),
                last_text
            ),
            BundleMoment::HearingMoved => format!(
                "The bundle went out on {}: for a hearing on {} it had to reach everyone by {} \
                 ({} working days before).",
                long(sent_on),
                long(hearing_on),
                last_text,
                deadlines::BUNDLE_WORKING_DAYS
            ),
        };
        self.fail("bundle_too_late", message, last.unwrap_or(hearing_on));
    }

    /// Rule 6: the written decision sent `today`, due by `decision_by`.
    pub(super) fn decision_in_time(&mut self, decision_by: Option<NaiveDate>, today: NaiveDate) {
        let Some(by) = decision_by.filter(|by| today > *by) else {
            return;
        };
        self.fail(
            "decision_late",
            format!(
                "The written decision had to be sent by {} ({} days after the hearing).",
                long(by),
                deadlines::DECISION_DAYS
            ),
            by,
        );
    }

    /// The hearing is recorded as held on the day it was scheduled for (`scheduled`); the
    /// panel secretary may record another day with a reason (a hearing moved at the last
    /// minute, or adjourned to the next day).
    pub(super) fn held_as_scheduled(&mut self, scheduled: Option<NaiveDate>, held_on: NaiveDate) {
        let Some(scheduled) = scheduled.filter(|s| *s != held_on) else {
            return;
        };
        self.fail(
            "held_not_as_scheduled",
            format!(
                "The hearing was scheduled for {}: record it as held on that day, or, if it was \
                 held on {} instead, send override_reason saying why.",
                long(scheduled),
                long(held_on)
            ),
            scheduled,
        );
    }

    /// Nobody of the panel recorded that they cannot sit on `date` (`unavailable`: their names).
    pub(super) fn available(&mut self, unavailable: &[String], date: NaiveDate) {
        if unavailable.is_empty() {
            return;
        }
        self.fail(
            "panel_member_unavailable",
            format!(
                "{} of the panel recorded that they cannot sit on {}: {}.",
                unavailable.len(),
                long(date),
                unavailable.join(", ")
            ),
            date,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::procedure::tests::date;

    fn secretary(yes: bool) -> Sender {
        Sender {
            org_id: "o".into(),
            case_secretary: yes,
        }
    }

    #[test]
    fn rule_three_in_both_moments() {
        let mut r = DateRules::default();
        let by = Some(date("2026-03-30"));
        r.hearing_deadline(by, date("2026-03-30"), HearingMoment::Scheduled);
        r.hearing_deadline(None, date("2026-12-30"), HearingMoment::Held);
        assert!(r.broken.is_empty());
        r.hearing_deadline(by, date("2026-03-31"), HearingMoment::Scheduled);
        r.hearing_deadline(by, date("2026-03-31"), HearingMoment::Held);
        assert_eq!(
            r.broken[0].1,
            "The hearing must be on or before Monday 30 March 2026 (20 working days after the \
             formal request)."
        );
        assert_eq!(
            r.broken[1].1,
            "The hearing had to be held on or before Monday 30 March 2026."
        );
    }

    #[test]
    fn only_the_case_secretary_with_a_reason_overrides_and_every_rule_is_listed() {
        let broken = || {
            let mut r = DateRules::default();
            let cal = Calendar::computed();
            r.notice(&cal, date("2026-03-02"), date("2026-03-11"));
            r.available(&["Lee Representative".to_string()], date("2026-03-11"));
            r
        };
        let today = date("2026-03-02");
        let Err(Refusal::Rules {
            code,
            detail,
            violations,
        }) = broken().resolve(Some("agreed"), &secretary(false), today)
        else {
            panic!("refused");
        };
        assert_eq!(code, "insufficient_notice");
        assert_eq!(
            detail,
            "At least 7 working days' notice is needed: with notice sent today the earliest \
             hearing date is Thursday 12 March 2026. Only the panel's secretary may override \
             this (with override_reason), recorded as a breach."
        );
        let Err(Refusal::Rules { detail, .. }) = broken().resolve(None, &secretary(true), today)
        else {
            panic!("refused");
        };
        assert!(
            detail.ends_with(
                "Thursday 12 March 2026. To go ahead anyway, send override_reason saying why: it \
                 is recorded as an overridden breach."
            ),
            "{detail}"
        );
        assert_eq!(violations[1].rule, "panel_member_unavailable");
        assert_eq!(
            violations[1].message,
            "1 of the panel recorded that they cannot sit on Wednesday 11 March 2026: Lee \
             Representative."
        );
        assert!(matches!(
            broken().resolve(None, &secretary(true), today),
            Err(Refusal::Rules { .. })
        ));
        let breaches = broken()
            .resolve(Some("agreed"), &secretary(true), today)
            .unwrap();
        assert_eq!(breaches.len(), 2);
        assert!(breaches
            .iter()
            .all(|b| b.overridden && b.detected_on == today));
        assert_eq!(breaches[0].due_on, date("2026-02-27"));
        assert!(breaches[1]
            .detail
            .ends_with("Overridden by the panel secretary: agreed"));
        assert_eq!(
            DateRules::default().resolve(Some("x"), &secretary(false), today),
            Ok(vec![])
        );
    }
}
