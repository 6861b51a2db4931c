//! The one clock the whole service asks for today (Europe/London) and now (UTC).
//! `LDR_TODAY` pins today for training and test environments; event timestamps stay real.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use std::sync::{Arc, RwLock};

/// The calendar date in Europe/London of a stored UTC timestamp: the day people saw it happen
/// (a case filed at 00:30 in summer was filed that day, not the day before).
pub fn london_date(t: chrono::NaiveDateTime) -> NaiveDate {
    Utc.from_utc_datetime(&t)
        .with_timezone(&chrono_tz::Europe::London)
        .date_naive()
}

#[derive(Clone, Default)]
pub struct Clock {
    pinned: Arc<RwLock<Option<NaiveDate>>>,
}

impl Clock {
    pub fn new(pinned: Option<NaiveDate>) -> Clock {
        Clock {
            pinned: Arc::new(RwLock::new(pinned)),
        }
    }

    /// Today's calendar date in Europe/London.
    pub fn today(&self) -> NaiveDate {
        if let Some(d) = *self.pinned.read().unwrap_or_else(|e| e.into_inner()) {
            return d;
        }
        Utc::now()
            .with_timezone(&chrono_tz::Europe::London)
            .date_naive()
    }

    pub fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    /// Moves a pinned clock (tests walk a case through time without restarting).
    pub fn set_today(&self, d: Option<NaiveDate>) {
        *self.pinned.write().unwrap_or_else(|e| e.into_inner()) = d;
    }

    pub fn is_pinned(&self) -> bool {
        self.pinned.read().map(|p| p.is_some()).unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::london_date;
    use chrono::NaiveDate;

    #[test]
    fn a_timestamp_is_dated_as_people_in_england_saw_it() {
        let at = |s: &str| chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
        let day = |s: &str| s.parse::<NaiveDate>().unwrap();
        // 00:30 BST on Tuesday 2 June is 23:30 UTC on the Monday.
        assert_eq!(london_date(at("2026-06-01 23:30")), day("2026-06-02"));
        // In winter London is on UTC.
        assert_eq!(london_date(at("2026-12-01 23:30")), day("2026-12-01"));
    }
}
