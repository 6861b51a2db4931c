//! The one clock the whole service asks for today (Europe/London) and now (UTC).
//! `LDR_TODAY` pins today for training and test environments; event timestamps stay real.

use chrono::{DateTime, NaiveDate, Utc};
use std::sync::{Arc, RwLock};

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
