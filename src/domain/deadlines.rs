//! Procedural deadlines of the local dispute resolution (LDR) procedure.
//!
//! One function per procedure rule. Working-day rules are always computed
//! through a [`Calendar`] (England and Wales working days); only
//! [`decision_by`] and [`fhsu_by`] are defined in calendar days/years by the
//! procedure and so do not take a calendar.
//!
//! Counting conventions used throughout:
//!
//! * "within N working days of X" means on or before the Nth working day
//!   after X; X itself is never counted, whether or not it is a working day
//!   ([`Calendar::add_working_days`] with `n = N`).
//! * "N clear working days" between two events means that the later event
//!   must fall strictly after the Nth working day after the earlier one, so
//!   neither the day of the first event nor the day of the second counts.
//!
//! Functions returning `Option` return `None` when the answer would fall
//! outside the calendar's supported years (see
//! [`crate::domain::calendar::MIN_YEAR`] / [`crate::domain::calendar::MAX_YEAR`]).

use chrono::{Datelike, Days, NaiveDate};

use crate::domain::calendar::Calendar;

/// Working days within which a hearing must be held after a dispute is lodged.
pub const HEARING_WORKING_DAYS: i64 = 20;
/// Clear working days of notice of a hearing.
pub const NOTICE_WORKING_DAYS: i64 = 7;
/// Clear working days between distributing the bundle and the hearing.
pub const BUNDLE_WORKING_DAYS: i64 = 5;
/// Calendar days after the hearing by which the decision must be issued.
pub const DECISION_DAYS: u64 = 7;
/// Years, beginning on the day the matter arose, for referral to the FHSU.
pub const FHSU_YEARS: i32 = 3;

/// Latest date for the hearing: the hearing must be held within
/// [`HEARING_WORKING_DAYS`] working days of lodging, i.e. on or before the
/// 20th working day after `lodged_on` (the lodging day is not counted).
///
/// Example (no holidays involved): lodged Monday 2 March 2026 → hearing by
/// Monday 30 March 2026.
pub fn hearing_by(cal: &Calendar, lodged_on: NaiveDate) -> Option<NaiveDate> {
    cal.add_working_days(lodged_on, HEARING_WORKING_DAYS)
}

/// Whether notice sent on `notice_on` is sufficient for a hearing on
/// `hearing_on`: [`NOTICE_WORKING_DAYS`] *clear* working days, i.e. the
/// hearing must fall strictly after the 7th working day after the notice day
/// (the notice day is not counted, nor is the hearing day).
///
/// Example: notice Monday 2 March 2026 → the 7th working day after is
/// Wednesday 11 March, so a hearing on 11 March is refused and the earliest
/// acceptable hearing is Thursday 12 March.
///
/// `false` if the 7th working day after `notice_on` cannot be computed
/// (outside the supported years).
pub fn notice_sufficient(cal: &Calendar, notice_on: NaiveDate, hearing_on: NaiveDate) -> bool {
    clear_days_ok(cal, notice_on, hearing_on, NOTICE_WORKING_DAYS)
}

/// The earliest *working* day on which a hearing may be held after notice
/// sent on `notice_on`: the first working day after the 7th working day after
/// the notice day, i.e. the 8th working day after it.
pub fn earliest_hearing_after_notice(cal: &Calendar, notice_on: NaiveDate) -> Option<NaiveDate> {
    cal.add_working_days(notice_on, NOTICE_WORKING_DAYS + 1)
}

/// The latest *working* day on which notice may be sent for a hearing on
/// `hearing_on` ("notice by"): the 8th working day before the hearing day
/// (the hearing day is not counted). Notice on that day leaves exactly
/// [`NOTICE_WORKING_DAYS`] clear working days; notice on any later working
/// day does not.
pub fn latest_notice_day(cal: &Calendar, hearing_on: NaiveDate) -> Option<NaiveDate> {
    cal.add_working_days(hearing_on, -(NOTICE_WORKING_DAYS + 1))
}

/// Whether a bundle distributed on `distributed_on` is in time for a hearing
/// on `hearing_on`: [`BUNDLE_WORKING_DAYS`] clear working days, i.e. the
/// hearing must fall strictly after the 5th working day after distribution
/// (the distribution day is not counted, nor is the hearing day).
///
/// `false` if the 5th working day after `distributed_on` cannot be computed.
pub fn bundle_in_time(cal: &Calendar, distributed_on: NaiveDate, hearing_on: NaiveDate) -> bool {
    clear_days_ok(cal, distributed_on, hearing_on, BUNDLE_WORKING_DAYS)
}

/// The latest *working* day on which the bundle may be distributed for a
/// hearing on `hearing_on`: the 6th working day before the hearing day (the
/// hearing day is not counted), leaving exactly [`BUNDLE_WORKING_DAYS`] clear
/// working days.
pub fn latest_bundle_day(cal: &Calendar, hearing_on: NaiveDate) -> Option<NaiveDate> {
    cal.add_working_days(hearing_on, -(BUNDLE_WORKING_DAYS + 1))
}

/// Date by which the panel's decision must be issued: [`DECISION_DAYS`]
/// *calendar* days after the hearing, inclusive (the decision is in time if
/// issued on or before this date). Weekends and bank holidays are not
/// skipped — the procedure defines this period in calendar days.
///
/// Never panics: saturates at [`NaiveDate::MAX`] for dates at the very end of
/// chrono's range.
pub fn decision_by(hearing_on: NaiveDate) -> NaiveDate {
    hearing_on
        .checked_add_days(Days::new(DECISION_DAYS))
        .unwrap_or(NaiveDate::MAX)
}

/// Last day for referral to the FHSU: within [`FHSU_YEARS`] years beginning
/// on the day the matter arose, i.e. on or before the day before the third
/// anniversary of `matter_arose_on` (calendar dates; no working-day
/// adjustment).
///
/// For a matter arising on 29 February, the anniversary in a common year is
/// taken to be 1 March — the generous reading — so 2024-02-29 → 2027-02-28
/// (rather than 2027-02-27 if the anniversary were taken as 28 February).
///
/// Never panics: saturates at [`NaiveDate::MAX`] at the end of chrono's range.
pub fn fhsu_by(matter_arose_on: NaiveDate) -> NaiveDate {
    let year = matter_arose_on.year().saturating_add(FHSU_YEARS);
    let (month, day) = (matter_arose_on.month(), matter_arose_on.day());
    NaiveDate::from_ymd_opt(year, month, day)
        .or_else(|| {
            // Only 29 February can be missing from the anniversary year.
            (month == 2 && day == 29)
                .then(|| NaiveDate::from_ymd_opt(year, 3, 1))
                .flatten()
        })
        .and_then(|anniversary| anniversary.pred_opt())
        .unwrap_or(NaiveDate::MAX)
}

/// `later` falls strictly after the `clear`th working day after `earlier`.
fn clear_days_ok(cal: &Calendar, earlier: NaiveDate, later: NaiveDate, clear: i64) -> bool {
    cal.add_working_days(earlier, clear)
        .is_some_and(|last_excluded| later > last_excluded)
}
