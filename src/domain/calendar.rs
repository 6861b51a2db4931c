//! Working-day calendar for England and Wales.
//!
//! A *working day* is Monday to Friday, except bank holidays of England and
//! Wales (including substitute days and one-off holidays). Christmas Eve and
//! New Year's Eve are ordinary working days.
//!
//! # Where the holidays come from
//!
//! [`Calendar::computed`] derives every year from [`MIN_YEAR`] to
//! [`MAX_YEAR`] from the statutory rules plus a table of known one-off
//! changes. [`Calendar::from_govuk_json`] / [`Calendar::from_govuk_file`]
//! take a file in GOV.UK's `bank-holidays.json` format and, for every
//! calendar year that the file's `england-and-wales` events cover, use the
//! file's events *instead of* the computed ones for that whole year. A new
//! one-off holiday is therefore a data change, not a code change.
//!
//! Titles are spelled exactly as GOV.UK spells them (for example
//! `New Year’s Day` with a typographic apostrophe U+2019; a substitute day
//! keeps the title of the holiday it replaces, as GOV.UK does).
//!
//! ## Rules from 1971 (the Banking and Financial Dealings Act 1971)
//!
//! * New Year's Day, 1 January — only from 1974. If it falls on a Saturday or
//!   Sunday the substitute is the following Monday.
//! * Good Friday and Easter Monday — Easter Sunday by the Gregorian computus
//!   (the "anonymous Gregorian algorithm", Meeus/Jones/Butcher), see
//!   [`easter_sunday`].
//! * Early May bank holiday, first Monday of May — only from 1978.
//! * Spring bank holiday, last Monday of May.
//! * Summer bank holiday, last Monday of August.
//! * Christmas Day and Boxing Day: Christmas on a Saturday → Monday 27
//!   ("Christmas Day") and Tuesday 28 ("Boxing Day"); Christmas on a Sunday →
//!   Monday 26 ("Boxing Day") and Tuesday 27 ("Christmas Day"); Boxing Day on
//!   a Saturday → Monday 28.
//!
//! ## One-off changes built in
//!
//! | Year | Change |
//! |------|--------|
//! | 1977 | extra: Tue 7 June (Queen's Silver Jubilee) |
//! | 1981 | extra: Wed 29 July (wedding of the Prince of Wales) |
//! | 1995 | Early May moved to Mon 8 May (VE day 50th anniversary) |
//! | 1999 | extra: Fri 31 December (Millennium) |
//! | 2002 | Spring moved to Tue 4 June; extra: Mon 3 June (Golden Jubilee) |
//! | 2011 | extra: Fri 29 April (royal wedding) |
//! | 2012 | Spring moved to Mon 4 June; extra: Tue 5 June (Diamond Jubilee) |
//! | 2020 | Early May moved to Fri 8 May (VE day 75th anniversary) |
//! | 2022 | Spring moved to Thu 2 June; extras: Fri 3 June (Platinum Jubilee), Mon 19 September (State Funeral of Queen Elizabeth II) |
//! | 2023 | extra: Mon 8 May (coronation of King Charles III) |
//!
//! The titles from 2012 on are GOV.UK's; the titles of the earlier one-offs
//! (which GOV.UK's file does not cover) follow GOV.UK's style. The wedding of
//! Princess Anne (14 November 1973) is *not* included: sources disagree on
//! whether it was a bank holiday in law. Whether the 1977 Spring bank holiday
//! was also moved next to the Jubilee day could not be confirmed, so 1977
//! keeps the rule date (Monday 30 May). Supply a GOV.UK-format override to
//! change any of this.
//!
//! ## Years before 1971 (simplified; documented approximation)
//!
//! The service only needs present and future dates; earlier years exist so
//! that nothing panics or silently misbehaves for dates from 1900 on.
//!
//! * 1900–1964 (Bank Holidays Act 1871 plus the common-law holidays): Good
//!   Friday, Easter Monday, Whit Monday (Easter Sunday + 50 days), the first
//!   Monday of August ("August bank holiday"), Christmas Day and Boxing Day.
//!   No New Year's Day, no Early May holiday.
//! * 1965–1970 (experimental period; dates fixed by annual proclamation): the
//!   1971 rule (last Monday of May and of August) is used, except 1968 (Whit
//!   Monday 3 June and Monday 2 September, as announced in Parliament,
//!   HC Deb 3 June 1965 vol 713 c250W) and 1969 (Monday 1 September).
//! * Not modelled before 1971: wartime cancellations (for example 1940), royal
//!   one-offs before 1977 (1902, 1911, 1935, 1937, 1953, 1973), and the
//!   historical substitute-day practice for Christmas and Boxing Day (the
//!   modern substitute rule above is applied to every year).
//!
//! # Performance
//!
//! All years are precomputed when a calendar is built (about 110,000 days):
//! a holiday list per year, a prefix count of working days per day and the
//! ordered list of working days. Every query is O(1) (a few array look-ups);
//! nothing loops day by day. [`Calendar`] keeps its data behind an [`Arc`],
//! so cloning it is cheap, and [`Calendar::computed`] is built once per
//! process.
//!
//! # Out-of-range dates
//!
//! The supported range is 1 January [`MIN_YEAR`] to 31 December
//! [`MAX_YEAR`]. No method panics for any [`NaiveDate`]:
//! [`Calendar::is_working_day`] is `false` outside the range,
//! [`Calendar::add_working_days`] and [`Calendar::next_working_day`] return
//! `None` when the start or the result is outside it,
//! [`Calendar::bank_holidays`] returns `None` for other years, and
//! [`Calendar::working_days_between`] counts only working days inside the
//! range (it clamps).

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use chrono::{Datelike, Days, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

/// First supported calendar year.
pub const MIN_YEAR: i32 = 1900;
/// Last supported calendar year.
pub const MAX_YEAR: i32 = 2200;

/// Name of the division of GOV.UK's file that this calendar uses.
pub const GOVUK_DIVISION: &str = "england-and-wales";

const YEAR_COUNT: usize = (MAX_YEAR - MIN_YEAR + 1) as usize;

// Titles exactly as GOV.UK writes them (note U+2019 in the possessives).
const NEW_YEARS_DAY: &str = "New Year\u{2019}s Day";
const GOOD_FRIDAY: &str = "Good Friday";
const EASTER_MONDAY: &str = "Easter Monday";
const EARLY_MAY: &str = "Early May bank holiday";
const EARLY_MAY_VE_DAY: &str = "Early May bank holiday (VE day)";
const SPRING: &str = "Spring bank holiday";
const SUMMER: &str = "Summer bank holiday";
const CHRISTMAS_DAY: &str = "Christmas Day";
const BOXING_DAY: &str = "Boxing Day";
// Pre-1965 titles (GOV.UK has no data for these years).
const WHIT_MONDAY: &str = "Whit Monday";
const AUGUST_BANK_HOLIDAY: &str = "August bank holiday";

/// Extra one-off bank holidays (year, month, day, title).
const EXTRA_HOLIDAYS: &[(i32, u32, u32, &str)] = &[
    (1977, 6, 7, "Queen\u{2019}s Silver Jubilee"),
    (1981, 7, 29, "Royal wedding"),
    (1999, 12, 31, "Millennium celebrations"),
    (2002, 6, 3, "Queen\u{2019}s Golden Jubilee"),
    (2011, 4, 29, "Royal wedding"),
    (2012, 6, 5, "Queen\u{2019}s Diamond Jubilee"),
    (2022, 6, 3, "Platinum Jubilee bank holiday"),
    (
        2022,
        9,
        19,
        "Bank Holiday for the State Funeral of Queen Elizabeth II",
    ),
    (
        2023,
        5,
        8,
        "Bank holiday for the coronation of King Charles III",
    ),
];

/// One bank holiday: its date and its GOV.UK title.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BankHoliday {
    pub date: NaiveDate,
    pub title: String,
}

/// Errors from loading a GOV.UK-format bank holiday file.
#[derive(Debug, thiserror::Error)]
pub enum CalendarError {
    /// The text is not valid JSON, or does not have the GOV.UK shape (for
    /// example a missing `events` or `title` field, or a number where a
    /// string is expected). `line` and `column` are serde_json's (1-based).
    #[error(
        "bank holiday file is not valid GOV.UK JSON: {message} at line {line}, column {column}"
    )]
    Json {
        line: usize,
        column: usize,
        message: String,
    },
    /// The file has no `england-and-wales` division.
    #[error("bank holiday file has no \"england-and-wales\" division")]
    MissingDivision,
    /// The `england-and-wales` object names a different division.
    #[error("bank holiday file: the \"england-and-wales\" entry has division \"{found}\"")]
    DivisionMismatch { found: String },
    /// An event's date is not a real date written as `YYYY-MM-DD`.
    /// `index` is the 0-based position in the `events` array.
    #[error("england-and-wales event {index}: date \"{value}\" is not a valid YYYY-MM-DD date")]
    InvalidDate { index: usize, value: String },
    /// An event's date is outside [`MIN_YEAR`]..=[`MAX_YEAR`].
    #[error(
        "england-and-wales event {index}: date {date} is outside the supported years {}-{}",
        MIN_YEAR,
        MAX_YEAR
    )]
    DateOutOfRange { index: usize, date: NaiveDate },
    /// An event's title is empty (or only whitespace).
    #[error("england-and-wales event {index}: title is empty")]
    EmptyTitle { index: usize },
    /// Two events have the same date.
    #[error("england-and-wales event {index}: date {date} is already used by event {first_index}")]
    DuplicateDate {
        index: usize,
        first_index: usize,
        date: NaiveDate,
    },
    /// The file could not be read.
    #[error("cannot read bank holiday file {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The file was read but its content is invalid; `error` says why.
    #[error("bank holiday file {}: {error}", path.display())]
    InFile {
        path: PathBuf,
        error: Box<CalendarError>,
    },
}

/// England-and-Wales working-day calendar for [`MIN_YEAR`]..=[`MAX_YEAR`].
///
/// Cheap to clone (the precomputed tables are shared behind an [`Arc`]).
/// Two calendars are equal when they have the same bank holidays.
#[derive(Clone)]
pub struct Calendar {
    inner: Arc<Inner>,
}

struct Inner {
    /// `num_days_from_ce` of 1 January MIN_YEAR (day index 0).
    base_ce: i32,
    /// Bank holidays per year (index `year - MIN_YEAR`), sorted by date.
    years: Vec<Vec<BankHoliday>>,
    /// Years whose holidays came from an override file.
    overridden: Vec<i32>,
    /// `prefix[i]` = number of working days with day index `< i`.
    /// Length = number of days + 1.
    prefix: Vec<u32>,
    /// Day indices of all working days, ascending.
    working: Vec<u32>,
}

impl fmt::Debug for Calendar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Calendar")
            .field("years", &(MIN_YEAR..=MAX_YEAR))
            .field("overridden_years", &self.inner.overridden)
            .field("working_days", &self.inner.working.len())
            .finish()
    }
}

impl PartialEq for Calendar {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner) || self.inner.years == other.inner.years
    }
}

impl Eq for Calendar {}

impl Calendar {
    /// The calendar computed from the rules and the built-in one-offs (see
    /// the module documentation), all years precomputed. Built once per
    /// process; later calls return a cheap clone.
    pub fn computed() -> Calendar {
        static COMPUTED: OnceLock<Calendar> = OnceLock::new();
        COMPUTED
            .get_or_init(|| Calendar {
                inner: Arc::new(Inner::build(
                    (MIN_YEAR..=MAX_YEAR).map(computed_year).collect(),
                    Vec::new(),
                )),
            })
            .clone()
    }

    /// The computed calendar with a GOV.UK-format override applied: for each
    /// calendar year that the `england-and-wales` events cover, those events
    /// replace all computed holidays of that year. Other divisions are
    /// ignored (but the whole text must be valid JSON).
    ///
    /// Event dates must be `YYYY-MM-DD` within [`MIN_YEAR`]..=[`MAX_YEAR`],
    /// titles non-empty, dates unique; `notes` and `bunting` are optional and
    /// ignored.
    pub fn from_govuk_json(text: &str) -> Result<Calendar, CalendarError> {
        let file: GovUkFile = serde_json::from_str(text).map_err(json_error)?;
        let division = file
            .england_and_wales
            .ok_or(CalendarError::MissingDivision)?;
        if let Some(name) = division.division {
            if name != GOVUK_DIVISION {
                return Err(CalendarError::DivisionMismatch { found: name });
            }
        }

        let mut by_year: BTreeMap<i32, Vec<BankHoliday>> = BTreeMap::new();
        let mut seen: BTreeMap<NaiveDate, usize> = BTreeMap::new();
        for (index, event) in division.events.into_iter().enumerate() {
            let date = parse_iso_date(&event.date).ok_or_else(|| CalendarError::InvalidDate {
                index,
                value: event.date.clone(),
            })?;
            if !(MIN_YEAR..=MAX_YEAR).contains(&date.year()) {
                return Err(CalendarError::DateOutOfRange { index, date });
            }
            if event.title.trim().is_empty() {
                return Err(CalendarError::EmptyTitle { index });
            }
            if let Some(&first_index) = seen.get(&date) {
                return Err(CalendarError::DuplicateDate {
                    index,
                    first_index,
                    date,
                });
            }
            seen.insert(date, index);
            by_year.entry(date.year()).or_default().push(BankHoliday {
                date,
                title: event.title,
            });
        }

        let base = Calendar::computed();
        let mut years = base.inner.years.clone();
        let mut overridden = Vec::with_capacity(by_year.len());
        for (year, mut holidays) in by_year {
            holidays.sort_by_key(|h| h.date);
            years[year_index(year)] = holidays;
            overridden.push(year);
        }
        Ok(Calendar {
            inner: Arc::new(Inner::build(years, overridden)),
        })
    }

    /// [`Calendar::from_govuk_json`] on the contents of `path`. Errors name
    /// the path.
    pub fn from_govuk_file(path: &Path) -> Result<Calendar, CalendarError> {
        let text = std::fs::read_to_string(path).map_err(|source| CalendarError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Calendar::from_govuk_json(&text).map_err(|error| CalendarError::InFile {
            path: path.to_path_buf(),
            error: Box::new(error),
        })
    }

    /// Whether `d` lies in 1 January [`MIN_YEAR`] ..= 31 December [`MAX_YEAR`].
    pub fn in_range(&self, d: NaiveDate) -> bool {
        (MIN_YEAR..=MAX_YEAR).contains(&d.year())
    }

    /// The bank holidays of `year`, sorted by date; `None` if the year is
    /// outside [`MIN_YEAR`]..=[`MAX_YEAR`].
    pub fn bank_holidays(&self, year: i32) -> Option<&[BankHoliday]> {
        if (MIN_YEAR..=MAX_YEAR).contains(&year) {
            Some(&self.inner.years[year_index(year)])
        } else {
            None
        }
    }

    /// Whether `d` is a working day (Monday–Friday and not a bank holiday).
    /// `false` for dates outside the supported range.
    pub fn is_working_day(&self, d: NaiveDate) -> bool {
        match self.inner.day_index(d) {
            Some(i) => self.inner.prefix[i + 1] != self.inner.prefix[i],
            None => false,
        }
    }

    /// n > 0: the nth working day after `from` (from's own day not counted); n < 0: the |n|th working day before `from`; n == 0: `from` itself.
    /// None if the result (or `from`) falls outside the supported range.
    ///
    /// `from` need not be a working day. O(1).
    pub fn add_working_days(&self, from: NaiveDate, n: i64) -> Option<NaiveDate> {
        let inner = &*self.inner;
        let i = inner.day_index(from)?;
        let target = match n {
            0 => return Some(from),
            // Working days on or before `from` are working[..prefix[i + 1]];
            // the nth one after is the next n-1 positions on.
            n if n > 0 => i64::from(inner.prefix[i + 1]).checked_add(n - 1)?,
            // Working days strictly before `from` are working[..prefix[i]].
            n => i64::from(inner.prefix[i]).checked_add(n)?,
        };
        let target = usize::try_from(target).ok()?;
        let day = *inner.working.get(target)?;
        inner.date_of(day as usize)
    }

    /// Number of working days d with a < d <= b; negative (−count of b < d <= a) if b < a.
    ///
    /// Only days inside the supported range are counted: a bound before the
    /// range behaves like 31 December `MIN_YEAR - 1`, one after it like
    /// 31 December [`MAX_YEAR`]. O(1).
    pub fn working_days_between(&self, a: NaiveDate, b: NaiveDate) -> i64 {
        i64::from(self.inner.count_up_to(b)) - i64::from(self.inner.count_up_to(a))
    }

    /// First working day strictly after `d`; `None` if `d` or the result is
    /// outside the supported range.
    pub fn next_working_day(&self, d: NaiveDate) -> Option<NaiveDate> {
        self.add_working_days(d, 1)
    }
}

impl Inner {
    fn build(years: Vec<Vec<BankHoliday>>, overridden: Vec<i32>) -> Inner {
        debug_assert_eq!(years.len(), YEAR_COUNT);
        let base_ce = ymd(MIN_YEAR, 1, 1).num_days_from_ce();
        let end_ce = ymd(MAX_YEAR, 12, 31).num_days_from_ce();
        let days = (end_ce - base_ce + 1) as usize;

        let mut holiday = vec![false; days];
        for h in years.iter().flatten() {
            let i = (h.date.num_days_from_ce() - base_ce) as usize;
            holiday[i] = true;
        }

        let mut prefix = Vec::with_capacity(days + 1);
        let mut working = Vec::with_capacity(days * 5 / 7 + 1);
        prefix.push(0u32);
        // Weekday of day index i, counted from the weekday of day 0.
        let first_weekday = ymd(MIN_YEAR, 1, 1).weekday().num_days_from_monday() as usize;
        for (i, &is_holiday) in holiday.iter().enumerate() {
            let weekday = (first_weekday + i) % 7; // 0 = Monday
            if weekday < 5 && !is_holiday {
                working.push(i as u32);
            }
            prefix.push(working.len() as u32);
        }

        Inner {
            base_ce,
            years,
            overridden,
            prefix,
            working,
        }
    }

    /// Day index of `d`, if in range.
    fn day_index(&self, d: NaiveDate) -> Option<usize> {
        if (MIN_YEAR..=MAX_YEAR).contains(&d.year()) {
            Some((d.num_days_from_ce() - self.base_ce) as usize)
        } else {
            None
        }
    }

    fn date_of(&self, index: usize) -> Option<NaiveDate> {
        let ce = self.base_ce.checked_add(i32::try_from(index).ok()?)?;
        NaiveDate::from_num_days_from_ce_opt(ce)
    }

    /// Number of in-range working days on or before `d`.
    fn count_up_to(&self, d: NaiveDate) -> u32 {
        if d.year() < MIN_YEAR {
            0
        } else if d.year() > MAX_YEAR {
            self.working.len() as u32
        } else {
            self.prefix[(d.num_days_from_ce() - self.base_ce) as usize + 1]
        }
    }
}

/// Easter Sunday of `year` by the Gregorian computus (the "anonymous
/// Gregorian algorithm", also known as Meeus/Jones/Butcher). Valid for any
/// Gregorian year; `None` only if chrono cannot represent the date.
pub fn easter_sunday(year: i32) -> Option<NaiveDate> {
    let y = i64::from(year);
    let a = y.rem_euclid(19);
    let b = y.div_euclid(100);
    let c = y.rem_euclid(100);
    let d = b.div_euclid(4);
    let e = b.rem_euclid(4);
    let f = (b + 8).div_euclid(25);
    let g = (b - f + 1).div_euclid(3);
    let h = (19 * a + b - d - g + 15).rem_euclid(30);
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k).rem_euclid(7);
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    NaiveDate::from_ymd_opt(year, month as u32, day as u32)
}

/// The computed (rule-based plus built-in one-off) holidays of one year in
/// MIN_YEAR..=MAX_YEAR, sorted by date.
fn computed_year(year: i32) -> Vec<BankHoliday> {
    let mut out: Vec<BankHoliday> = Vec::with_capacity(10);
    let mut push = |date: NaiveDate, title: &str| {
        out.push(BankHoliday {
            date,
            title: title.to_owned(),
        })
    };

    // New Year's Day (from 1974).
    if year >= 1974 {
        let jan1 = ymd(year, 1, 1);
        let date = match jan1.weekday() {
            Weekday::Sat => ymd(year, 1, 3),
            Weekday::Sun => ymd(year, 1, 2),
            _ => jan1,
        };
        push(date, NEW_YEARS_DAY);
    }

    // Easter.
    let easter = easter_sunday(year).expect("Easter is representable for 1900-2200");
    push(easter - Days::new(2), GOOD_FRIDAY);
    push(easter + Days::new(1), EASTER_MONDAY);

    // Early May (from 1978).
    if year >= 1978 {
        match year {
            1995 | 2020 => push(ymd(year, 5, 8), EARLY_MAY_VE_DAY),
            _ => push(first_monday(year, 5), EARLY_MAY),
        }
    }

    // Spring / Whit Monday.
    match year {
        ..=1964 => push(easter + Days::new(50), WHIT_MONDAY),
        1968 => push(ymd(1968, 6, 3), SPRING),
        2002 => push(ymd(2002, 6, 4), SPRING),
        2012 => push(ymd(2012, 6, 4), SPRING),
        2022 => push(ymd(2022, 6, 2), SPRING),
        _ => push(last_monday(year, 5), SPRING),
    }

    // Summer / August bank holiday.
    match year {
        ..=1964 => push(first_monday(year, 8), AUGUST_BANK_HOLIDAY),
        1968 => push(ymd(1968, 9, 2), SUMMER),
        1969 => push(ymd(1969, 9, 1), SUMMER),
        _ => push(last_monday(year, 8), SUMMER),
    }

    // Christmas Day and Boxing Day with substitutes.
    match ymd(year, 12, 25).weekday() {
        Weekday::Fri => {
            push(ymd(year, 12, 25), CHRISTMAS_DAY);
            push(ymd(year, 12, 28), BOXING_DAY);
        }
        Weekday::Sat => {
            push(ymd(year, 12, 27), CHRISTMAS_DAY);
            push(ymd(year, 12, 28), BOXING_DAY);
        }
        Weekday::Sun => {
            push(ymd(year, 12, 26), BOXING_DAY);
            push(ymd(year, 12, 27), CHRISTMAS_DAY);
        }
        _ => {
            push(ymd(year, 12, 25), CHRISTMAS_DAY);
            push(ymd(year, 12, 26), BOXING_DAY);
        }
    }

    for &(y, m, d, title) in EXTRA_HOLIDAYS {
        if y == year {
            push(ymd(y, m, d), title);
        }
    }

    out.sort_by_key(|h| h.date);
    out
}

/// A date known to be valid (only used with constants and years in range).
fn ymd(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).expect("valid calendar date")
}

fn first_monday(year: i32, month: u32) -> NaiveDate {
    let first = ymd(year, month, 1);
    let offset = (7 - first.weekday().num_days_from_monday()) % 7;
    first + Days::new(u64::from(offset))
}

fn last_monday(year: i32, month: u32) -> NaiveDate {
    let last = match month {
        12 => ymd(year, 12, 31),
        _ => ymd(year, month + 1, 1) - Days::new(1),
    };
    last - Days::new(u64::from(last.weekday().num_days_from_monday()))
}

fn year_index(year: i32) -> usize {
    (year - MIN_YEAR) as usize
}

/// Strict `YYYY-MM-DD` (four-digit year, two-digit month and day).
fn parse_iso_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let digits = |r: std::ops::Range<usize>| -> Option<u32> {
        b[r].iter().try_fold(0u32, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
        })
    };
    let year = digits(0..4)?;
    let month = digits(5..7)?;
    let day = digits(8..10)?;
    NaiveDate::from_ymd_opt(year as i32, month, day)
}

fn json_error(e: serde_json::Error) -> CalendarError {
    let line = e.line();
    let column = e.column();
    let mut message = e.to_string();
    let suffix = format!(" at line {line} column {column}");
    if message.ends_with(&suffix) {
        message.truncate(message.len() - suffix.len());
    }
    CalendarError::Json {
        line,
        column,
        message,
    }
}

#[derive(Deserialize)]
#[serde(expecting = "a GOV.UK bank holidays object keyed by division")]
struct GovUkFile {
    #[serde(rename = "england-and-wales")]
    england_and_wales: Option<GovUkDivision>,
}

#[derive(Deserialize)]
#[serde(expecting = "a GOV.UK division object with \"division\" and \"events\"")]
struct GovUkDivision {
    #[serde(default)]
    division: Option<String>,
    events: Vec<GovUkEvent>,
}

#[derive(Deserialize)]
#[serde(expecting = "a GOV.UK event object with \"title\" and \"date\"")]
struct GovUkEvent {
    title: String,
    date: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_and_last_monday() {
        assert_eq!(first_monday(2026, 5), ymd(2026, 5, 4));
        assert_eq!(first_monday(2023, 5), ymd(2023, 5, 1));
        assert_eq!(last_monday(2026, 5), ymd(2026, 5, 25));
        assert_eq!(last_monday(2026, 8), ymd(2026, 8, 31));
        assert_eq!(last_monday(2024, 12), ymd(2024, 12, 30));
    }

    #[test]
    fn strict_iso_dates() {
        assert_eq!(parse_iso_date("2024-02-29"), Some(ymd(2024, 2, 29)));
        for bad in [
            "2023-02-29",
            "2024-13-01",
            "2024-1-01",
            "24-01-01",
            "2024/01/01",
            "2024-01-01T00",
            "+024-01-01",
            "2024-0a-01",
            "",
        ] {
            assert_eq!(parse_iso_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn json_error_message_has_no_duplicate_position() {
        let err = Calendar::from_govuk_json("{\n  \"a\": [1,\n}").unwrap_err();
        let text = err.to_string();
        assert_eq!(text.matches("line").count(), 1, "{text}");
    }

    #[test]
    fn tables_are_consistent() {
        let cal = Calendar::computed();
        let inner = &cal.inner;
        let days = ymd(MAX_YEAR, 12, 31).num_days_from_ce() - inner.base_ce + 1;
        assert_eq!(inner.prefix.len(), days as usize + 1);
        assert_eq!(*inner.prefix.last().unwrap() as usize, inner.working.len());
        assert!(inner.working.windows(2).all(|w| w[0] < w[1]));
    }
}
