//! Login throttling per account and per client address (governor's GCRA limiter, MIT/Apache).

use super::error::{ApiError, ApiResult};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::num::NonZeroU32;

pub struct Limits {
    per_account: DefaultKeyedRateLimiter<String>,
    per_address: DefaultKeyedRateLimiter<String>,
}

impl Default for Limits {
    fn default() -> Self {
        Self::new(10, 120)
    }
}

impl Limits {
    /// `account_per_minute` attempts for one e-mail, `address_per_minute` for one client address.
    pub fn new(account_per_minute: u32, address_per_minute: u32) -> Limits {
        let q = |n: u32| Quota::per_minute(NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN));
        Limits {
            per_account: RateLimiter::keyed(q(account_per_minute)),
            per_address: RateLimiter::keyed(q(address_per_minute)),
        }
    }

    pub fn check_login(&self, email: &str, address: &str) -> ApiResult<()> {
        let clock = DefaultClock::default();
        for (limiter, key) in [(&self.per_address, address), (&self.per_account, email)] {
            if let Err(not_until) = limiter.check_key(&key.to_string()) {
                let wait = not_until.wait_time_from(clock.now());
                return Err(ApiError::TooManyRequests {
                    retry_after_secs: wait.as_secs().max(1),
                });
            }
        }
        // Keep memory bounded under a spray of distinct keys.
        if self.per_account.len() > 100_000 {
            self.per_account.retain_recent();
        }
        if self.per_address.len() > 100_000 {
            self.per_address.retain_recent();
        }
        Ok(())
    }
}
