//! Integration tests for `ldr::domain::calendar` and `ldr::domain::deadlines`.
//!
//! Expected dates are taken from GOV.UK's published data (the fixture), from
//! published Easter dates, or were worked out by hand from a wall calendar;
//! the naive oracles below use only weekdays and the published holiday list,
//! never the calendar's precomputed tables.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{Datelike, Days, NaiveDate, Weekday};
use ldr::domain::calendar::{
    easter_sunday, BankHoliday, Calendar, CalendarError, MAX_YEAR, MIN_YEAR,
};
use ldr::domain::deadlines::{
    bundle_in_time, decision_by, earliest_hearing_after_notice, fhsu_by, hearing_by,
    latest_bundle_day, latest_notice_day, notice_sufficient, BUNDLE_WORKING_DAYS, DECISION_DAYS,
    FHSU_YEARS, HEARING_WORKING_DAYS, NOTICE_WORKING_DAYS,
};
use proptest::prelude::*;
use serde_json::{json, Value};

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).expect("valid test date")
}

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn fixture_path() -> PathBuf {
    manifest_dir().join("tests/fixtures/bank-holidays.json")
}

fn fixture_text() -> String {
    std::fs::read_to_string(fixture_path()).expect("read tests/fixtures/bank-holidays.json")
}

fn cal() -> Calendar {
    Calendar::computed()
}

fn is_weekend(x: NaiveDate) -> bool {
    matches!(x.weekday(), Weekday::Sat | Weekday::Sun)
}

/// Working-day test that uses only the weekday and the published holiday list.
fn naive_working(cal: &Calendar, x: NaiveDate) -> bool {
    !is_weekend(x)
        && !cal
            .bank_holidays(x.year())
            .expect("year in range")
            .iter()
            .any(|h| h.date == x)
}

/// Day-by-day count of working days in (a, b] (negative if b < a).
fn naive_between(cal: &Calendar, a: NaiveDate, b: NaiveDate) -> i64 {
    let (lo, hi, sign) = if a <= b { (a, b, 1) } else { (b, a, -1) };
    let mut n = 0;
    let mut x = lo;
    while x < hi {
        x = x.succ_opt().unwrap();
        if naive_working(cal, x) {
            n += 1;
        }
    }
    sign * n
}

/// Day-by-day nth working day after/before `from`.
fn naive_add(cal: &Calendar, from: NaiveDate, n: i64) -> NaiveDate {
    let mut x = from;
    let mut left = n.abs();
    while left > 0 {
        x = if n > 0 {
            x.succ_opt().unwrap()
        } else {
            x.pred_opt().unwrap()
        };
        if naive_working(cal, x) {
            left -= 1;
        }
    }
    x
}

fn pairs(hols: &[BankHoliday]) -> Vec<(NaiveDate, String)> {
    hols.iter().map(|h| (h.date, h.title.clone())).collect()
}

fn holiday_titled(cal: &Calendar, date: NaiveDate) -> Option<String> {
    cal.bank_holidays(date.year())?
        .iter()
        .find(|h| h.date == date)
        .map(|h| h.title.clone())
}

/// GOV.UK-format JSON for the computed holidays of `years`.
fn govuk_json(cal: &Calendar, years: impl IntoIterator<Item = i32>) -> String {
    let events: Vec<Value> = years
        .into_iter()
        .flat_map(|y| cal.bank_holidays(y).unwrap().to_vec())
        .map(|h| {
            json!({
                "title": h.title,
                "date": h.date.format("%Y-%m-%d").to_string(),
                "notes": "",
                "bunting": true,
            })
        })
        .collect();
    serde_json::to_string_pretty(&json!({
        "england-and-wales": { "division": "england-and-wales", "events": events },
        "scotland": { "division": "scotland", "events": [] },
        "northern-ireland": { "division": "northern-ireland", "events": [] },
    }))
    .unwrap()
}

// ---------------------------------------------------------------------------
// (a) GOV.UK data
// ---------------------------------------------------------------------------

#[test]
fn fixture_is_identical_to_shared_govuk_file() {
    let shared = manifest_dir().join("../shared/data/bank-holidays.json");
    if shared.exists() {
        let shared_bytes = std::fs::read(&shared).unwrap();
        let fixture_bytes = std::fs::read(fixture_path()).unwrap();
        assert!(
            shared_bytes == fixture_bytes,
            "tests/fixtures/bank-holidays.json differs from {}; copy it again",
            shared.display()
        );
    }
}

#[test]
fn computed_equals_govuk_for_2012_to_2028() {
    let file: Value = serde_json::from_str(&fixture_text()).unwrap();
    let events = file["england-and-wales"]["events"].as_array().unwrap();
    let mut by_year: BTreeMap<i32, Vec<(NaiveDate, String)>> = BTreeMap::new();
    for e in events {
        let date = NaiveDate::parse_from_str(e["date"].as_str().unwrap(), "%Y-%m-%d").unwrap();
        let title = e["title"].as_str().unwrap().to_owned();
        by_year.entry(date.year()).or_default().push((date, title));
    }
    assert_eq!(
        by_year.keys().copied().collect::<Vec<_>>(),
        (2012..=2028).collect::<Vec<_>>(),
        "fixture should cover exactly 2012-2028"
    );
    let cal = cal();
    for (year, mut expected) in by_year {
        expected.sort();
        let actual = pairs(cal.bank_holidays(year).unwrap());
        assert_eq!(actual, expected, "England and Wales bank holidays {year}");
    }
}

#[test]
fn titles_use_the_govuk_apostrophe() {
    assert!(fixture_text().contains("New Year\u{2019}s Day"));
    assert_eq!(
        holiday_titled(&cal(), d(2030, 1, 1)).as_deref(),
        Some("New Year\u{2019}s Day")
    );
}

#[test]
fn govuk_file_loads_as_override_and_agrees() {
    let from_file = Calendar::from_govuk_file(&fixture_path()).unwrap();
    assert_eq!(from_file, cal());
    // Years outside the file stay computed.
    assert_eq!(
        from_file.bank_holidays(2029).unwrap(),
        cal().bank_holidays(2029).unwrap()
    );
}

// ---------------------------------------------------------------------------
// Rules, Easter, one-offs, history
// ---------------------------------------------------------------------------

#[test]
fn easter_for_known_years() {
    let cal = cal();
    let known = [
        d(1900, 4, 15),
        d(1961, 4, 2),
        d(2000, 4, 23),
        d(2027, 3, 28),
        d(2038, 4, 25),
        d(2100, 3, 28),
        d(2200, 4, 6),
    ];
    for easter in known {
        let y = easter.year();
        assert_eq!(easter_sunday(y), Some(easter), "Easter {y}");
        assert_eq!(
            holiday_titled(&cal, easter - Days::new(2)).as_deref(),
            Some("Good Friday"),
            "{y}"
        );
        assert_eq!(
            holiday_titled(&cal, easter + Days::new(1)).as_deref(),
            Some("Easter Monday"),
            "{y}"
        );
    }
}

/// Gauss's Easter algorithm (Gregorian), an independent formulation.
fn gauss_easter(y: i32) -> NaiveDate {
    let a = y % 19;
    let b = y % 4;
    let c = y % 7;
    let k = y / 100;
    let p = (13 + 8 * k) / 25;
    let q = k / 4;
    let m = (15 - p + k - q).rem_euclid(30);
    let n = (4 + k - q).rem_euclid(7);
    let dd = (19 * a + m) % 30;
    let e = (2 * b + 4 * c + 6 * dd + n) % 7;
    if dd == 29 && e == 6 {
        return d(y, 4, 19);
    }
    if dd == 28 && e == 6 && (11 * m + 11) % 30 < 19 {
        return d(y, 4, 18);
    }
    d(y, 3, 22) + Days::new((dd + e) as u64)
}

#[test]
fn easter_agrees_with_gauss_for_every_year() {
    for y in MIN_YEAR..=MAX_YEAR {
        let easter = easter_sunday(y).unwrap();
        assert_eq!(easter, gauss_easter(y), "Easter {y}");
        assert_eq!(easter.weekday(), Weekday::Sun, "{y}");
        assert!(easter >= d(y, 3, 22) && easter <= d(y, 4, 25), "{y}");
    }
}

#[test]
fn one_off_years() {
    let cal = cal();
    let holidays = [
        (d(1995, 5, 8), "Early May bank holiday (VE day)"),
        (d(1999, 12, 31), "Millennium celebrations"),
        (d(2000, 1, 3), "New Year\u{2019}s Day"),
        (d(2002, 6, 3), "Queen\u{2019}s Golden Jubilee"),
        (d(2002, 6, 4), "Spring bank holiday"),
        (d(2011, 4, 29), "Royal wedding"),
        (d(2012, 6, 4), "Spring bank holiday"),
        (d(2012, 6, 5), "Queen\u{2019}s Diamond Jubilee"),
        (d(2020, 5, 8), "Early May bank holiday (VE day)"),
        (d(2022, 6, 2), "Spring bank holiday"),
        (d(2022, 6, 3), "Platinum Jubilee bank holiday"),
        (
            d(2022, 9, 19),
            "Bank Holiday for the State Funeral of Queen Elizabeth II",
        ),
        (
            d(2023, 5, 8),
            "Bank holiday for the coronation of King Charles III",
        ),
    ];
    for (date, title) in holidays {
        assert_eq!(holiday_titled(&cal, date).as_deref(), Some(title), "{date}");
        assert!(!cal.is_working_day(date), "{date}");
    }
    // The Mondays the moved holidays would otherwise have fallen on.
    for date in [
        d(1995, 5, 1),
        d(2002, 5, 27),
        d(2012, 5, 28),
        d(2020, 5, 4),
        d(2022, 5, 30),
    ] {
        assert_eq!(date.weekday(), Weekday::Mon);
        assert!(cal.is_working_day(date), "{date} should be a working day");
    }
    let counts = [(1995, 8), (1999, 9), (2002, 9), (2011, 9), (2012, 9)];
    for (year, n) in counts {
        assert_eq!(cal.bank_holidays(year).unwrap().len(), n, "{year}");
    }
    // 2022 and 2023 are also in the GOV.UK comparison; spot-check counts.
    assert_eq!(cal.bank_holidays(2022).unwrap().len(), 10);
    assert_eq!(cal.bank_holidays(2023).unwrap().len(), 9);
}

#[test]
fn historical_rule_changes() {
    let cal = cal();
    // No New Year's Day bank holiday before 1974.
    assert!(cal.is_working_day(d(1973, 1, 1)));
    assert!(!cal.is_working_day(d(1974, 1, 1)));
    // No Early May bank holiday before 1978.
    assert!(cal.is_working_day(d(1977, 5, 2)));
    assert_eq!(
        holiday_titled(&cal, d(1978, 5, 1)).as_deref(),
        Some("Early May bank holiday")
    );
    // 1971 rules: last Mondays of May and August.
    assert!(!cal.is_working_day(d(1971, 5, 31)));
    assert!(!cal.is_working_day(d(1971, 8, 30)));
    // Before 1965: Whit Monday and the first Monday of August.
    assert_eq!(
        holiday_titled(&cal, d(1964, 5, 18)).as_deref(),
        Some("Whit Monday")
    );
    assert!(!cal.is_working_day(d(1964, 8, 3)));
    assert!(cal.is_working_day(d(1964, 8, 31)));
    // 1968 as announced in Parliament.
    assert!(!cal.is_working_day(d(1968, 6, 3)));
    assert!(!cal.is_working_day(d(1968, 9, 2)));
    assert!(cal.is_working_day(d(1968, 5, 27)));
    // Extra royal days.
    assert!(!cal.is_working_day(d(1977, 6, 7)));
    assert!(!cal.is_working_day(d(1981, 7, 29)));
    // Every year in range has holidays, sorted and unique.
    for y in MIN_YEAR..=MAX_YEAR {
        let hols = cal.bank_holidays(y).unwrap();
        assert!(hols.len() >= 6, "{y}");
        assert!(hols.windows(2).all(|w| w[0].date < w[1].date), "{y}");
        assert!(hols.iter().all(|h| h.date.year() == y), "{y}");
        assert!(hols.iter().all(|h| !is_weekend(h.date)), "{y}");
    }
}

#[test]
fn christmas_and_new_year_substitutes_beyond_govuk_data() {
    let cal = cal();
    let title = |x| holiday_titled(&cal, x);
    // 2031: Christmas Thursday.
    assert_eq!(title(d(2031, 12, 25)).as_deref(), Some("Christmas Day"));
    assert_eq!(title(d(2031, 12, 26)).as_deref(), Some("Boxing Day"));
    // 2032: Christmas Saturday -> Mon 27 Christmas, Tue 28 Boxing.
    assert_eq!(title(d(2032, 12, 27)).as_deref(), Some("Christmas Day"));
    assert_eq!(title(d(2032, 12, 28)).as_deref(), Some("Boxing Day"));
    // 2033: Christmas Sunday -> Mon 26 Boxing, Tue 27 Christmas.
    assert_eq!(title(d(2033, 12, 26)).as_deref(), Some("Boxing Day"));
    assert_eq!(title(d(2033, 12, 27)).as_deref(), Some("Christmas Day"));
    // 2037: Christmas Friday -> Boxing Day Mon 28.
    assert_eq!(title(d(2037, 12, 25)).as_deref(), Some("Christmas Day"));
    assert_eq!(title(d(2037, 12, 28)).as_deref(), Some("Boxing Day"));
    // New Year on Saturday 2033 -> Mon 3 Jan; Sunday 2034 -> Mon 2 Jan.
    assert_eq!(
        title(d(2033, 1, 3)).as_deref(),
        Some("New Year\u{2019}s Day")
    );
    assert_eq!(
        title(d(2034, 1, 2)).as_deref(),
        Some("New Year\u{2019}s Day")
    );
    // Christmas Eve and New Year's Eve are working days.
    assert!(cal.is_working_day(d(2026, 12, 24)));
    assert!(cal.is_working_day(d(2026, 12, 31)));
}

#[test]
fn out_of_range_behaviour() {
    let cal = cal();
    let before = d(1899, 12, 29); // a Friday
    let after = d(2201, 1, 2); // a Friday
    assert!(!cal.in_range(before));
    assert!(!cal.in_range(after));
    assert!(cal.in_range(d(MIN_YEAR, 1, 1)));
    assert!(cal.in_range(d(MAX_YEAR, 12, 31)));
    assert!(cal.bank_holidays(MIN_YEAR - 1).is_none());
    assert!(cal.bank_holidays(MAX_YEAR + 1).is_none());
    assert!(!cal.is_working_day(before));
    assert_eq!(cal.add_working_days(before, 0), None);
    assert_eq!(cal.add_working_days(before, 1), None);
    assert_eq!(cal.next_working_day(d(MAX_YEAR, 12, 31)), None);
    assert_eq!(cal.add_working_days(d(MIN_YEAR, 1, 1), -1), None);
    assert_eq!(cal.add_working_days(d(2026, 1, 5), i64::MAX), None);
    assert_eq!(cal.add_working_days(d(2026, 1, 5), i64::MIN), None);
    // Clamped counting: the whole range from either side.
    let total = cal.working_days_between(before, after);
    assert_eq!(
        total,
        cal.working_days_between(d(MIN_YEAR - 1, 12, 31), d(MAX_YEAR, 12, 31))
    );
    assert_eq!(
        cal.working_days_between(NaiveDate::MIN, NaiveDate::MAX),
        total
    );
    assert_eq!(
        cal.working_days_between(NaiveDate::MAX, NaiveDate::MIN),
        -total
    );
    // 1 Jan 1900 was a Monday and not a bank holiday: the first working day.
    assert_eq!(cal.next_working_day(before), None);
    assert_eq!(
        cal.add_working_days(d(MIN_YEAR, 1, 1), 0),
        Some(d(1900, 1, 1))
    );
    assert_eq!(
        cal.working_days_between(before, d(MIN_YEAR, 1, 1)),
        1,
        "1 January 1900 is a working day"
    );
}

#[test]
fn simple_counts() {
    let cal = cal();
    // Monday 2 March 2026 .. Monday 9 March 2026: 5 working days in (a, b].
    assert_eq!(cal.working_days_between(d(2026, 3, 2), d(2026, 3, 9)), 5);
    assert_eq!(cal.working_days_between(d(2026, 3, 9), d(2026, 3, 2)), -5);
    assert_eq!(cal.working_days_between(d(2026, 3, 2), d(2026, 3, 2)), 0);
    // Easter 2027: Thu 25 Mar .. Tue 30 Mar = only Tue 30.
    assert_eq!(cal.working_days_between(d(2027, 3, 25), d(2027, 3, 30)), 1);
    // From a Saturday: next working day is Monday.
    assert_eq!(cal.next_working_day(d(2026, 3, 7)), Some(d(2026, 3, 9)));
    // Before the Christmas 2026 break.
    assert_eq!(cal.next_working_day(d(2026, 12, 24)), Some(d(2026, 12, 29)));
    assert_eq!(
        cal.add_working_days(d(2026, 12, 29), -1),
        Some(d(2026, 12, 24))
    );
    // n = 0 returns `from` even on a holiday.
    assert_eq!(
        cal.add_working_days(d(2026, 12, 25), 0),
        Some(d(2026, 12, 25))
    );
}

// ---------------------------------------------------------------------------
// (c) Deadline rules at their boundaries
// ---------------------------------------------------------------------------

#[test]
fn constants_are_the_procedure_values() {
    assert_eq!(HEARING_WORKING_DAYS, 20);
    assert_eq!(NOTICE_WORKING_DAYS, 7);
    assert_eq!(BUNDLE_WORKING_DAYS, 5);
    assert_eq!(DECISION_DAYS, 7);
    assert_eq!(FHSU_YEARS, 3);
}

#[test]
fn notice_worked_example_march_2026() {
    let cal = cal();
    let notice = d(2026, 3, 2); // Monday
    assert_eq!(cal.add_working_days(notice, 7), Some(d(2026, 3, 11)));
    // Hearing on the 7th working day after notice: refused; the day after: accepted.
    assert!(!notice_sufficient(&cal, notice, d(2026, 3, 11)));
    assert!(notice_sufficient(&cal, notice, d(2026, 3, 12)));
    assert!(notice_sufficient(&cal, notice, d(2026, 3, 13)));
    assert!(!notice_sufficient(&cal, notice, d(2026, 3, 2)));
    assert!(!notice_sufficient(&cal, notice, d(2026, 2, 20)));
    assert_eq!(
        earliest_hearing_after_notice(&cal, notice),
        Some(d(2026, 3, 12))
    );
    // Hearing Thu 12 March: notice on the 8th working day before (Mon 2)
    // is in time, on the 7th working day before (Tue 3) is not.
    assert_eq!(latest_notice_day(&cal, d(2026, 3, 12)), Some(d(2026, 3, 2)));
    assert!(!notice_sufficient(&cal, d(2026, 3, 3), d(2026, 3, 12)));
    // Hearing Wed 11 March: latest notice is Friday 27 February.
    assert_eq!(
        latest_notice_day(&cal, d(2026, 3, 11)),
        Some(d(2026, 2, 27))
    );
    // Weekend notice counts from the following working days.
    assert_eq!(
        earliest_hearing_after_notice(&cal, d(2026, 2, 28)),
        Some(d(2026, 3, 11))
    );
}

#[test]
fn notice_across_christmas_2026_and_new_year_2027() {
    let cal = cal();
    // Holidays: Fri 25 Dec 2026, Mon 28 Dec 2026 (Boxing Day substitute),
    // Fri 1 Jan 2027. Notice Wed 23 Dec: working days after are 24, 29, 30,
    // 31 Dec, 4, 5, 6 Jan -> 7th is Wed 6 Jan 2027.
    for (date, title) in [
        (d(2026, 12, 25), "Christmas Day"),
        (d(2026, 12, 28), "Boxing Day"),
        (d(2027, 1, 1), "New Year\u{2019}s Day"),
    ] {
        assert_eq!(holiday_titled(&cal, date).as_deref(), Some(title));
    }
    let notice = d(2026, 12, 23);
    assert!(!notice_sufficient(&cal, notice, d(2027, 1, 6)));
    assert!(notice_sufficient(&cal, notice, d(2027, 1, 7)));
    assert_eq!(
        earliest_hearing_after_notice(&cal, notice),
        Some(d(2027, 1, 7))
    );
    assert_eq!(
        latest_notice_day(&cal, d(2027, 1, 7)),
        Some(d(2026, 12, 23))
    );
    assert_eq!(
        latest_notice_day(&cal, d(2027, 1, 6)),
        Some(d(2026, 12, 22))
    );
}

#[test]
fn notice_and_bundle_across_easter_2027() {
    let cal = cal();
    assert_eq!(
        holiday_titled(&cal, d(2027, 3, 26)).as_deref(),
        Some("Good Friday")
    );
    assert_eq!(
        holiday_titled(&cal, d(2027, 3, 29)).as_deref(),
        Some("Easter Monday")
    );
    // Notice Mon 22 Mar 2027: 23, 24, 25, 30, 31 Mar, 1, 2 Apr -> 7th Fri 2 Apr.
    let notice = d(2027, 3, 22);
    assert!(!notice_sufficient(&cal, notice, d(2027, 4, 2)));
    assert!(notice_sufficient(&cal, notice, d(2027, 4, 5)));
    assert_eq!(
        earliest_hearing_after_notice(&cal, notice),
        Some(d(2027, 4, 5))
    );
    assert_eq!(latest_notice_day(&cal, d(2027, 4, 5)), Some(d(2027, 3, 22)));
    // Bundle Wed 24 Mar 2027: 25, 30, 31 Mar, 1, 2 Apr -> 5th Fri 2 Apr.
    let bundle = d(2027, 3, 24);
    assert!(!bundle_in_time(&cal, bundle, d(2027, 4, 2)));
    assert!(bundle_in_time(&cal, bundle, d(2027, 4, 5)));
    assert!(!bundle_in_time(&cal, d(2027, 3, 25), d(2027, 4, 5)));
    assert_eq!(latest_bundle_day(&cal, d(2027, 4, 5)), Some(d(2027, 3, 24)));
    assert_eq!(latest_bundle_day(&cal, d(2027, 4, 2)), Some(d(2027, 3, 23)));
}

#[test]
fn hearing_by_across_bank_holidays() {
    let cal = cal();
    // No holidays: Mon 2 Mar 2026 -> Mon 30 Mar 2026.
    assert_eq!(hearing_by(&cal, d(2026, 3, 2)), Some(d(2026, 3, 30)));
    // Summer bank holiday Mon 31 Aug 2026 in the span: Mon 17 Aug -> Tue 15 Sep
    // (it would be Mon 14 Sep without the holiday).
    assert_eq!(hearing_by(&cal, d(2026, 8, 17)), Some(d(2026, 9, 15)));
    // Christmas/New Year: Mon 14 Dec 2026 -> Thu 14 Jan 2027.
    assert_eq!(hearing_by(&cal, d(2026, 12, 14)), Some(d(2027, 1, 14)));
    // Lodged on Christmas Eve 2026 (a working day): 29, 30, 31 Dec, then
    // 17 working days in January -> Tue 26 Jan 2027. Lodging on the
    // following holidays/weekend (25-28 Dec) gives the same date, because
    // the lodging day is never counted and those days are not working days.
    assert_eq!(hearing_by(&cal, d(2026, 12, 24)), Some(d(2027, 1, 26)));
    for day in 25..=28 {
        assert_eq!(hearing_by(&cal, d(2026, 12, day)), Some(d(2027, 1, 26)));
    }
    assert_eq!(hearing_by(&cal, d(2026, 12, 29)), Some(d(2027, 1, 27)));
}

#[test]
fn deadlines_follow_the_calendar_not_the_weekday() {
    // Add a holiday on Mon 16 March 2026 by override: hearing_by moves a day.
    let text = fixture_text().replacen(
        "\"events\": [",
        "\"events\": [\n      {\"title\": \"Extra test day\", \"date\": \"2026-03-16\", \"notes\": \"\", \"bunting\": false},",
        1,
    );
    let cal = Calendar::from_govuk_json(&text).unwrap();
    assert!(!cal.is_working_day(d(2026, 3, 16)));
    assert_eq!(hearing_by(&cal, d(2026, 3, 2)), Some(d(2026, 3, 31)));
    assert_eq!(
        earliest_hearing_after_notice(&cal, d(2026, 3, 9)),
        Some(d(2026, 3, 20))
    );
    assert_eq!(
        earliest_hearing_after_notice(&Calendar::computed(), d(2026, 3, 9)),
        Some(d(2026, 3, 19))
    );
}

#[test]
fn decision_by_is_seven_calendar_days() {
    assert_eq!(decision_by(d(2026, 3, 12)), d(2026, 3, 19));
    // Calendar days: the Christmas/New Year holidays are not skipped.
    assert_eq!(decision_by(d(2026, 12, 28)), d(2027, 1, 4));
    assert_eq!(decision_by(d(2027, 2, 25)), d(2027, 3, 4));
    assert_eq!(decision_by(NaiveDate::MAX), NaiveDate::MAX);
}

#[test]
fn fhsu_by_three_years() {
    assert_eq!(fhsu_by(d(2023, 3, 10)), d(2026, 3, 9));
    // 29 February: anniversary in a common year taken as 1 March.
    assert_eq!(fhsu_by(d(2024, 2, 29)), d(2027, 2, 28));
    // Into a leap year.
    assert_eq!(fhsu_by(d(2021, 2, 28)), d(2024, 2, 27));
    assert_eq!(fhsu_by(d(2025, 3, 1)), d(2028, 2, 29));
    assert_eq!(fhsu_by(d(2026, 1, 1)), d(2028, 12, 31));
    assert_eq!(fhsu_by(NaiveDate::MAX), NaiveDate::MAX);
}

// ---------------------------------------------------------------------------
// Overrides and malformed files
// ---------------------------------------------------------------------------

#[test]
fn override_replaces_year_and_leaves_others_computed() {
    let text = r#"{
  "england-and-wales": {
    "division": "england-and-wales",
    "events": [
      {"title": "Test holiday", "date": "2030-07-01", "notes": "", "bunting": true},
      {"title": "New Year’s Day", "date": "2030-01-01", "notes": "", "bunting": true}
    ]
  }
}"#;
    let cal = Calendar::from_govuk_json(text).unwrap();
    let computed = Calendar::computed();
    assert_eq!(
        pairs(cal.bank_holidays(2030).unwrap()),
        vec![
            (d(2030, 1, 1), "New Year\u{2019}s Day".to_owned()),
            (d(2030, 7, 1), "Test holiday".to_owned()),
        ]
    );
    assert!(!cal.is_working_day(d(2030, 7, 1)));
    // Christmas 2030 (Wednesday) is no longer a holiday in the override year.
    assert!(!computed.is_working_day(d(2030, 12, 25)));
    assert!(cal.is_working_day(d(2030, 12, 25)));
    for y in (MIN_YEAR..=MAX_YEAR).filter(|&y| y != 2030) {
        assert_eq!(cal.bank_holidays(y), computed.bank_holidays(y), "{y}");
    }
    assert_ne!(cal, computed);
    // Counting across the boundary uses the override: 2030-12-24 -> 2031-01-02.
    assert_eq!(
        cal.working_days_between(d(2030, 12, 24), d(2031, 1, 2)),
        computed.working_days_between(d(2030, 12, 24), d(2031, 1, 2)) + 2
    );
}

#[test]
fn override_adds_a_one_off_to_govuk_data() {
    let text = fixture_text().replacen(
        "\"events\": [",
        "\"events\": [\n      {\"title\": \"Hypothetical one-off\", \"date\": \"2027-06-07\", \"notes\": \"Extra bank holiday\", \"bunting\": true},",
        1,
    );
    let cal = Calendar::from_govuk_json(&text).unwrap();
    assert_eq!(
        holiday_titled(&cal, d(2027, 6, 7)).as_deref(),
        Some("Hypothetical one-off")
    );
    assert_eq!(cal.bank_holidays(2027).unwrap().len(), 9);
    assert_eq!(cal.next_working_day(d(2027, 6, 4)), Some(d(2027, 6, 8)));
    assert_eq!(
        Calendar::computed().next_working_day(d(2027, 6, 4)),
        Some(d(2027, 6, 7))
    );
}

#[test]
fn malformed_json_reports_line() {
    let text = "{\n  \"england-and-wales\": {\"division\": \"england-and-wales\", \"events\": [\n    {\"title\": \"New Year’s Day\" \"date\": \"2024-01-01\"}\n  ]}\n}\n";
    let err = Calendar::from_govuk_json(text).unwrap_err();
    match &err {
        CalendarError::Json { line, .. } => assert_eq!(*line, 3, "{err}"),
        other => panic!("expected a JSON error, got {other:?}"),
    }
    assert!(err.to_string().contains("line 3"), "{err}");

    let err = Calendar::from_govuk_json("").unwrap_err();
    assert!(matches!(err, CalendarError::Json { .. }), "{err:?}");
}

#[test]
fn missing_field_reports_line() {
    let text = "{\"england-and-wales\": {\"events\": [\n{\"title\": \"Boxing Day\", \"date\": \"2024-12-26\"},\n{\"title\": \"No date\"}\n]}}";
    let err = Calendar::from_govuk_json(text).unwrap_err();
    match &err {
        CalendarError::Json { line, message, .. } => {
            assert_eq!(*line, 3, "{err}");
            assert!(message.contains("date"), "{err}");
        }
        other => panic!("expected a JSON error, got {other:?}"),
    }
}

#[test]
fn bad_date_names_event_and_field() {
    let text = r#"{"england-and-wales": {"division": "england-and-wales", "events": [
        {"title": "New Year’s Day", "date": "2024-01-01", "notes": "", "bunting": true},
        {"title": "Broken", "date": "2024-13-01", "notes": "", "bunting": true}
    ]}}"#;
    let err = Calendar::from_govuk_json(text).unwrap_err();
    assert!(
        matches!(&err, CalendarError::InvalidDate { index: 1, value } if value == "2024-13-01"),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "england-and-wales event 1: date \"2024-13-01\" is not a valid YYYY-MM-DD date"
    );
    for bad in ["2023-02-29", "2024-1-01", "01/01/2024", ""] {
        let text = format!(
            r#"{{"england-and-wales": {{"events": [{{"title": "X", "date": "{bad}"}}]}}}}"#
        );
        let err = Calendar::from_govuk_json(&text).unwrap_err();
        assert!(
            matches!(err, CalendarError::InvalidDate { index: 0, .. }),
            "{bad}: {err:?}"
        );
    }
}

#[test]
fn other_invalid_events() {
    let one = |date: &str, title: &str| {
        format!(
            r#"{{"england-and-wales": {{"events": [{{"title": "A", "date": "2024-01-01"}}, {{"title": "{title}", "date": "{date}"}}]}}}}"#
        )
    };
    let err = Calendar::from_govuk_json(&one("2201-01-01", "Later")).unwrap_err();
    assert!(
        matches!(err, CalendarError::DateOutOfRange { index: 1, .. }),
        "{err:?}"
    );
    let err = Calendar::from_govuk_json(&one("2024-01-01", "Again")).unwrap_err();
    assert!(
        matches!(
            err,
            CalendarError::DuplicateDate {
                index: 1,
                first_index: 0,
                ..
            }
        ),
        "{err:?}"
    );
    let err = Calendar::from_govuk_json(&one("2024-05-06", "  ")).unwrap_err();
    assert!(
        matches!(err, CalendarError::EmptyTitle { index: 1 }),
        "{err:?}"
    );
    assert!(err.to_string().contains("event 1"), "{err}");
}

#[test]
fn missing_or_wrong_division() {
    let text = r#"{"scotland": {"division": "scotland", "events": []}}"#;
    let err = Calendar::from_govuk_json(text).unwrap_err();
    assert!(matches!(err, CalendarError::MissingDivision), "{err:?}");
    assert!(err.to_string().contains("england-and-wales"), "{err}");

    let text = r#"{"england-and-wales": {"division": "scotland", "events": []}}"#;
    let err = Calendar::from_govuk_json(text).unwrap_err();
    assert!(
        matches!(err, CalendarError::DivisionMismatch { .. }),
        "{err:?}"
    );

    // Not an object at all.
    let err = Calendar::from_govuk_json("[]").unwrap_err();
    assert!(
        matches!(err, CalendarError::Json { line: 1, .. }),
        "{err:?}"
    );
}

#[test]
fn empty_events_change_nothing() {
    let text = r#"{"england-and-wales": {"division": "england-and-wales", "events": []}}"#;
    assert_eq!(
        Calendar::from_govuk_json(text).unwrap(),
        Calendar::computed()
    );
}

#[test]
fn file_errors_name_the_path() {
    let missing = Path::new(env!("CARGO_TARGET_TMPDIR")).join("no-such-bank-holidays.json");
    let err = Calendar::from_govuk_file(&missing).unwrap_err();
    assert!(matches!(err, CalendarError::Io { .. }), "{err:?}");
    assert!(
        err.to_string().contains("no-such-bank-holidays.json"),
        "{err}"
    );

    let bad = Path::new(env!("CARGO_TARGET_TMPDIR")).join("bad-bank-holidays.json");
    std::fs::write(&bad, "{\n\"scotland\": {\"events\": []}\n}\n").unwrap();
    let err = Calendar::from_govuk_file(&bad).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("bad-bank-holidays.json"), "{text}");
    assert!(text.contains("england-and-wales"), "{text}");
    match err {
        CalendarError::InFile { error, .. } => {
            assert!(matches!(*error, CalendarError::MissingDivision))
        }
        other => panic!("expected InFile, got {other:?}"),
    }
}

#[test]
fn full_round_trip_through_govuk_json() {
    let computed = Calendar::computed();
    let text = govuk_json(&computed, MIN_YEAR..=MAX_YEAR);
    let loaded = Calendar::from_govuk_json(&text).unwrap();
    assert_eq!(loaded, computed);
    for y in MIN_YEAR..=MAX_YEAR {
        assert_eq!(loaded.bank_holidays(y), computed.bank_holidays(y), "{y}");
    }
}

// ---------------------------------------------------------------------------
// (b) Properties
// ---------------------------------------------------------------------------

fn span_days() -> u64 {
    (d(MAX_YEAR, 12, 31) - d(MIN_YEAR, 1, 1)).num_days() as u64
}

/// Any date in the supported range.
fn in_range_date() -> impl Strategy<Value = NaiveDate> {
    (0..=span_days()).prop_map(|i| d(MIN_YEAR, 1, 1) + Days::new(i))
}

/// Dates from 2000 to 2100 (away from the range edges).
fn modern_date() -> impl Strategy<Value = NaiveDate> {
    let start = d(2000, 1, 1);
    let span = (d(2100, 12, 31) - start).num_days() as u64;
    (0..=span).prop_map(move |i| start + Days::new(i))
}

/// Any date chrono can represent.
fn any_date() -> impl Strategy<Value = NaiveDate> {
    let lo = NaiveDate::MIN.num_days_from_ce();
    let hi = NaiveDate::MAX.num_days_from_ce();
    prop_oneof![
        (lo..=hi).prop_map(|n| NaiveDate::from_num_days_from_ce_opt(n).unwrap()),
        (d(1890, 1, 1).num_days_from_ce()..=d(2210, 12, 31).num_days_from_ce())
            .prop_map(|n| NaiveDate::from_num_days_from_ce_opt(n).unwrap()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn add_then_subtract_returns_to_a_working_start(a in in_range_date(), n in -30_000i64..=30_000) {
        let cal = cal();
        prop_assume!(cal.is_working_day(a));
        if let Some(r) = cal.add_working_days(a, n) {
            prop_assert_eq!(cal.add_working_days(r, -n), Some(a));
        }
    }

    #[test]
    fn between_inverts_add(a in in_range_date(), n in -30_000i64..=30_000) {
        let cal = cal();
        if let Some(r) = cal.add_working_days(a, n) {
            // For n < 0 the start itself is counted, so it must be a working day.
            if n >= 0 || cal.is_working_day(a) {
                prop_assert_eq!(cal.working_days_between(a, r), n);
            }
            prop_assert_eq!(cal.working_days_between(r, a), -cal.working_days_between(a, r));
        }
    }

    #[test]
    fn add_lands_on_working_days_on_the_right_side(a in in_range_date(), n in -30_000i64..=30_000) {
        let cal = cal();
        prop_assume!(n != 0);
        if let Some(r) = cal.add_working_days(a, n) {
            prop_assert!(cal.is_working_day(r));
            prop_assert!(naive_working(&cal, r));
            let right_side = if n > 0 { r > a } else { r < a };
            prop_assert!(right_side, "add({}, {}) = {}", a, n, r);
        }
    }

    #[test]
    fn add_is_strictly_monotonic_in_n(a in in_range_date(), n1 in -30_000i64..=30_000, n2 in -30_000i64..=30_000) {
        let cal = cal();
        prop_assume!(n1 != n2);
        let (lo, hi) = if n1 < n2 { (n1, n2) } else { (n2, n1) };
        if let (Some(x), Some(y)) = (cal.add_working_days(a, lo), cal.add_working_days(a, hi)) {
            prop_assert!(x < y, "add({a}, {lo}) = {x} should be before add({a}, {hi}) = {y}");
        }
    }

    #[test]
    fn add_matches_day_by_day_oracle(a in modern_date(), n in -300i64..=300) {
        let cal = cal();
        prop_assert_eq!(cal.add_working_days(a, n), Some(naive_add(&cal, a, n)));
    }

    #[test]
    fn between_matches_day_by_day_oracle(a in modern_date(), span in -800i64..=800) {
        let cal = cal();
        let b = if span >= 0 { a + Days::new(span as u64) } else { a - Days::new((-span) as u64) };
        prop_assert_eq!(cal.working_days_between(a, b), naive_between(&cal, a, b));
    }

    #[test]
    fn is_working_day_matches_weekday_and_holiday_list(x in in_range_date()) {
        let cal = cal();
        prop_assert_eq!(cal.is_working_day(x), naive_working(&cal, x));
    }

    #[test]
    fn next_working_day_is_the_first_after(x in in_range_date()) {
        let cal = cal();
        if let Some(n) = cal.next_working_day(x) {
            prop_assert!(n > x && cal.is_working_day(n));
            let mut y = x.succ_opt().unwrap();
            while y < n {
                prop_assert!(!cal.is_working_day(y));
                y = y.succ_opt().unwrap();
            }
        }
    }

    #[test]
    fn never_panics_for_any_date(a in any_date(), b in any_date(), n in any::<i64>()) {
        let cal = cal();
        let _ = cal.is_working_day(a);
        let _ = cal.in_range(a);
        let _ = cal.bank_holidays(a.year());
        let r = cal.add_working_days(a, n);
        if let Some(r) = r {
            prop_assert!(cal.in_range(r) && cal.in_range(a));
        }
        let _ = cal.next_working_day(a);
        let between = cal.working_days_between(a, b);
        prop_assert_eq!(between, -cal.working_days_between(b, a));
        let _ = hearing_by(&cal, a);
        let _ = notice_sufficient(&cal, a, b);
        let _ = earliest_hearing_after_notice(&cal, a);
        let _ = latest_notice_day(&cal, a);
        let _ = bundle_in_time(&cal, a, b);
        let _ = latest_bundle_day(&cal, a);
        let _ = decision_by(a);
        let _ = fhsu_by(a);
    }

    #[test]
    fn latest_notice_day_is_the_boundary(h in modern_date()) {
        let cal = cal();
        let l = latest_notice_day(&cal, h).unwrap();
        prop_assert!(cal.is_working_day(l));
        prop_assert!(notice_sufficient(&cal, l, h));
        let next = cal.next_working_day(l).unwrap();
        prop_assert!(!notice_sufficient(&cal, next, h));
    }

    #[test]
    fn earliest_hearing_is_the_boundary(n in modern_date()) {
        let cal = cal();
        let e = earliest_hearing_after_notice(&cal, n).unwrap();
        prop_assert!(cal.is_working_day(e));
        prop_assert!(notice_sufficient(&cal, n, e));
        let before = cal.add_working_days(e, -1).unwrap();
        prop_assert!(!notice_sufficient(&cal, n, before));
        // Exactly 7 clear working days between notice and hearing.
        prop_assert_eq!(cal.working_days_between(n, e), NOTICE_WORKING_DAYS + 1);
    }

    #[test]
    fn latest_bundle_day_is_the_boundary(h in modern_date()) {
        let cal = cal();
        let l = latest_bundle_day(&cal, h).unwrap();
        prop_assert!(cal.is_working_day(l));
        prop_assert!(bundle_in_time(&cal, l, h));
        let next = cal.next_working_day(l).unwrap();
        prop_assert!(!bundle_in_time(&cal, next, h));
    }

    #[test]
    fn hearing_by_counts_twenty_working_days(x in modern_date()) {
        let cal = cal();
        let h = hearing_by(&cal, x).unwrap();
        prop_assert!(cal.is_working_day(h));
        prop_assert_eq!(naive_between(&cal, x, h), HEARING_WORKING_DAYS);
    }

    #[test]
    fn fhsu_by_is_day_before_third_anniversary(x in in_range_date()) {
        let f = fhsu_by(x);
        let next = f.succ_opt().unwrap();
        prop_assert_eq!(next.year(), x.year() + 3);
        if (x.month(), x.day()) == (2, 29) {
            prop_assert_eq!((next.month(), next.day()), (3, 1));
        } else {
            prop_assert_eq!((next.month(), next.day()), (x.month(), x.day()));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn override_round_trip(years in prop::collection::btree_set(MIN_YEAR..=MAX_YEAR, 1..12)) {
        let computed = Calendar::computed();
        let text = govuk_json(&computed, years.iter().copied());
        let loaded = Calendar::from_govuk_json(&text).unwrap();
        prop_assert_eq!(&loaded, &computed);
        for y in MIN_YEAR..=MAX_YEAR {
            prop_assert_eq!(loaded.bank_holidays(y), computed.bank_holidays(y));
        }
    }

    #[test]
    fn override_drops_an_event_only_in_its_year(year in MIN_YEAR..=MAX_YEAR, pick in any::<prop::sample::Index>()) {
        let computed = Calendar::computed();
        let hols = computed.bank_holidays(year).unwrap();
        let dropped = hols[pick.index(hols.len())].clone();
        let mut v: Value = serde_json::from_str(&govuk_json(&computed, [year])).unwrap();
        let events = v["england-and-wales"]["events"].as_array_mut().unwrap();
        events.retain(|e| e["date"] != json!(dropped.date.format("%Y-%m-%d").to_string()));
        let loaded = Calendar::from_govuk_json(&v.to_string()).unwrap();
        let expected: Vec<BankHoliday> = hols.iter().filter(|h| **h != dropped).cloned().collect();
        if expected.is_empty() {
            // No events left: the year is not covered, so it stays computed.
            prop_assert_eq!(loaded.bank_holidays(year), computed.bank_holidays(year));
        } else {
            prop_assert_eq!(loaded.bank_holidays(year).unwrap(), &expected[..]);
            prop_assert!(loaded.is_working_day(dropped.date));
        }
        for y in [year - 1, year + 1] {
            prop_assert_eq!(loaded.bank_holidays(y), computed.bank_holidays(y));
        }
    }
}
