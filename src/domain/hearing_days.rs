//! Which days a hearing may be scheduled on, and why the others may not: the same rules
//! `schedule_hearing` enforces (a working day after today, on or before the hearing deadline —
//! rule 3 —, with 7 clear working days' notice sent today — rule 4 —, and no panel member
//! unavailable), day by day. `GET /disputes/{id}/hearing-options` lists the days with no
//! reason against them; the hearing calendar page shows every day of a month with its reasons.

use chrono::{Datelike, NaiveDate, Weekday};

use super::calendar::Calendar;
use super::deadlines;

/// A period in which a panel member (or the secretary) cannot sit, inclusive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unavailable {
    pub name: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// Why a hearing cannot be on a day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Why {
    /// Today or before.
    Past,
    Weekend,
    /// A bank holiday, with its title.
    BankHoliday(String),
    /// Notice sent today would leave fewer than 7 clear working days (rule 4).
    TooLateForNotice,
    /// After the hearing deadline (rule 3).
    AfterDeadline,
    /// These people recorded that they cannot sit that day.
    Unavailable(Vec<String>),
    /// Outside the years the calendar knows.
    OutsideCalendar,
}

impl Why {
    /// The reason in words ("bank holiday (Good Friday)", "Dr Shah unavailable").
    pub fn words(&self) -> String {
        match self {
            Why::Past => "in the past".into(),
            Why::Weekend => "weekend".into(),
            Why::BankHoliday(title) => format!("bank holiday ({title})"),
            Why::TooLateForNotice => format!(
                "too late for {} working days' notice",
                deadlines::NOTICE_WORKING_DAYS
            ),
            Why::AfterDeadline => "after the hearing deadline".into(),
            Why::Unavailable(names) => format!("{} unavailable", names.join(" and ")),
            Why::OutsideCalendar => "outside the calendar".into(),
        }
    }
}

/// Every reason a hearing cannot be on `day` with notice sent `today`; none: it may.
pub fn judge(
    cal: &Calendar,
    today: NaiveDate,
    hearing_by: Option<NaiveDate>,
    unavailable: &[Unavailable],
    day: NaiveDate,
) -> Vec<Why> {
    if !cal.in_range(day) {
        return vec![Why::OutsideCalendar];
    }
    let mut why = Vec::new();
    if day <= today {
        why.push(Why::Past);
    }
    if matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
        why.push(Why::Weekend);
    } else if !cal.is_working_day(day) {
        let title = cal
            .bank_holidays(day.year())
            .and_then(|hs| hs.iter().find(|h| h.date == day))
            .map_or_else(|| "bank holiday".to_string(), |h| h.title.clone());
        why.push(Why::BankHoliday(title));
    }
    if why.contains(&Why::Past) {
        return why;
    }
    if hearing_by.is_some_and(|by| day > by) {
        why.push(Why::AfterDeadline);
    }
    if !deadlines::notice_sufficient(cal, today, day) {
        why.push(Why::TooLateForNotice);
    }
    let mut names: Vec<String> = Vec::new();
    for u in unavailable.iter().filter(|u| u.from <= day && day <= u.to) {
        if !names.contains(&u.name) {
            names.push(u.name.clone());
        }
    }
    if !names.is_empty() {
        why.push(Why::Unavailable(names));
    }
    why
}

/// The days, from the earliest the notice rule allows up to the deadline, on which a hearing
/// may be held: at most `limit` of them. None without a deadline.
pub fn offered(
    cal: &Calendar,
    today: NaiveDate,
    hearing_by: Option<NaiveDate>,
    unavailable: &[Unavailable],
    limit: usize,
) -> Vec<NaiveDate> {
    let (Some(by), Some(mut day)) = (
        hearing_by,
        deadlines::earliest_hearing_after_notice(cal, today),
    ) else {
        return Vec::new();
    };
    let mut dates = Vec::new();
    while day <= by && dates.len() < limit {
        if judge(cal, today, hearing_by, unavailable, day).is_empty() {
            dates.push(day);
        }
        match cal.next_working_day(day) {
            Some(n) => day = n,
            None => break,
        }
    }
    dates
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn each_day_says_why_it_cannot_be_chosen() {
        let cal = Calendar::computed();
        // Notice Monday 2 March 2026: the earliest hearing is Thursday 12 March.
        let today = d("2026-03-02");
        let by = Some(d("2026-04-14"));
        let away = [Unavailable {
            name: "Dr Shah".into(),
            from: d("2026-03-16"),
            to: d("2026-03-17"),
        }];
        let j = |s: &str| judge(&cal, today, by, &away, d(s));
        assert_eq!(j("2026-03-02"), vec![Why::Past]);
        assert_eq!(j("2026-03-11"), vec![Why::TooLateForNotice]);
        assert!(j("2026-03-12").is_empty());
        assert_eq!(j("2026-03-14"), vec![Why::Weekend]);
        assert_eq!(j("2026-03-07"), vec![Why::Weekend, Why::TooLateForNotice]);
        assert_eq!(
            j("2026-03-16"),
            vec![Why::Unavailable(vec!["Dr Shah".into()])]
        );
        assert_eq!(j("2026-03-16")[0].words(), "Dr Shah unavailable");
        assert_eq!(
            j("2026-04-03"),
            vec![Why::BankHoliday("Good Friday".into())]
        );
        assert_eq!(j("2026-04-15"), vec![Why::AfterDeadline]);
        assert_eq!(
            j("2026-03-09")[0].words(),
            "too late for 7 working days' notice"
        );
        let dates = offered(&cal, today, by, &away, 60);
        assert_eq!(dates.first(), Some(&d("2026-03-12")));
        assert!(!dates.contains(&d("2026-03-16")) && !dates.contains(&d("2026-04-06")));
        assert_eq!(dates.last(), Some(&d("2026-04-14")));
        assert!(offered(&cal, today, None, &away, 60).is_empty());
    }
}
