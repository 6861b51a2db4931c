//! Abuse limits (governor's GCRA limiters, MIT/Apache): logins per account *and* client address
//! and per client address; filings, uploads and notice-sending events per user and per
//! organisation. Past a limit: [`ServiceError::TooMany`] (the API's 429 `rate_limited` with
//! `Retry-After`, the pages' "too many requests" page). Kept by the service, so that the API
//! and the pages count against the same limits.

use super::ServiceError;
use crate::config::Hourly;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::net::IpAddr;
use std::num::NonZeroU32;

/// What a user does that is limited per user and per organisation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// `POST /disputes`: each filing e-mails the respondent and the LMC.
    File,
    /// `POST /disputes/{id}/documents`.
    Upload,
    /// An event that sends notices (every event but notes and the panel's records).
    Notify,
}

impl Action {
    fn what(self) -> &'static str {
        match self {
            Action::File => "disputes filed",
            Action::Upload => "documents uploaded",
            Action::Notify => "actions that send e-mail notices",
        }
    }
}

/// How many times an organisation's limit is a user's.
pub const ORGANISATION_FACTOR: u32 = 3;

struct PerUserAndOrg {
    user: DefaultKeyedRateLimiter<String>,
    org: DefaultKeyedRateLimiter<String>,
}

impl PerUserAndOrg {
    fn hourly(n: u32) -> Self {
        PerUserAndOrg {
            user: RateLimiter::keyed(per_hour(n)),
            org: RateLimiter::keyed(per_hour(n.saturating_mul(ORGANISATION_FACTOR))),
        }
    }
}

pub struct Limits {
    /// One account from one client address: nobody elsewhere can lock its owner out.
    per_account_and_address: DefaultKeyedRateLimiter<String>,
    per_address: DefaultKeyedRateLimiter<String>,
    filings: PerUserAndOrg,
    uploads: PerUserAndOrg,
    notices: PerUserAndOrg,
}

impl Default for Limits {
    fn default() -> Self {
        Self::new(10, 120, Hourly::default())
    }
}

fn per_hour(n: u32) -> Quota {
    Quota::per_hour(NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN))
}

fn per_minute(n: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN))
}

fn check(
    limiter: &DefaultKeyedRateLimiter<String>,
    key: &str,
    what: &str,
) -> Result<(), ServiceError> {
    if let Err(not_until) = limiter.check_key(&key.to_string()) {
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        return Err(ServiceError::TooMany {
            retry_after_secs: wait.as_secs().max(1),
            what: what.to_string(),
        });
    }
    // Keep memory bounded under a spray of distinct keys.
    if limiter.len() > 100_000 {
        limiter.retain_recent();
    }
    Ok(())
}

impl Limits {
    /// `account_per_minute` login attempts for one e-mail from one client address,
    /// `address_per_minute` for one client address; `hourly` for the rest.
    pub fn new(account_per_minute: u32, address_per_minute: u32, hourly: Hourly) -> Limits {
        Limits {
            per_account_and_address: RateLimiter::keyed(per_minute(account_per_minute)),
            per_address: RateLimiter::keyed(per_minute(address_per_minute)),
            filings: PerUserAndOrg::hourly(hourly.filings),
            uploads: PerUserAndOrg::hourly(hourly.uploads),
            notices: PerUserAndOrg::hourly(hourly.notices),
        }
    }

    pub fn check_login(&self, email: &str, address: IpAddr) -> Result<(), ServiceError> {
        check(&self.per_address, &address.to_string(), "sign-in attempts")?;
        check(
            &self.per_account_and_address,
            &format!("{address} {email}"),
            "sign-in attempts",
        )
    }

    /// One `action` by `user_id` of `org_id`.
    pub fn check(&self, action: Action, user_id: &str, org_id: &str) -> Result<(), ServiceError> {
        let l = match action {
            Action::File => &self.filings,
            Action::Upload => &self.uploads,
            Action::Notify => &self.notices,
        };
        check(&l.user, user_id, action.what())?;
        check(&l.org, org_id, action.what())
    }
}

/// The client's address: the peer's, unless the peer is a trusted proxy
/// (`LDR_TRUSTED_PROXIES`), in which case the nearest address in `X-Forwarded-For` that is not
/// itself a trusted proxy (read from the right: the left part is whatever the client wrote).
pub fn client_address(
    peer: Option<IpAddr>,
    forwarded_for: Option<&str>,
    trusted: &[ipnet::IpNet],
) -> Option<IpAddr> {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|n| n.contains(ip));
    let peer = peer?;
    if !is_trusted(&peer) {
        return Some(peer);
    }
    let mut nearest = peer;
    for hop in forwarded_for.unwrap_or("").rsplit(',') {
        let Ok(ip) = hop.trim().parse::<IpAddr>() else {
            // A malformed entry: nothing to its left can be trusted either.
            break;
        };
        nearest = ip;
        if !is_trusted(&ip) {
            break;
        }
    }
    Some(nearest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_client_address_comes_from_forwarded_for_only_through_trusted_proxies() {
        let trusted: Vec<ipnet::IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        // An untrusted peer: its own address, whatever it claims.
        assert_eq!(
            client_address(Some(ip("203.0.113.9")), Some("1.2.3.4"), &trusted),
            Some(ip("203.0.113.9"))
        );
        // A trusted proxy: the nearest untrusted hop, not what the client wrote on the left.
        assert_eq!(
            client_address(
                Some(ip("10.0.0.2")),
                Some("6.6.6.6, 198.51.100.7, 10.0.0.3"),
                &trusted
            ),
            Some(ip("198.51.100.7"))
        );
        // A trusted proxy without the header, or with garbage: the proxy itself.
        assert_eq!(
            client_address(Some(ip("10.0.0.2")), None, &trusted),
            Some(ip("10.0.0.2"))
        );
        assert_eq!(
            client_address(Some(ip("10.0.0.2")), Some("junk"), &trusted),
            Some(ip("10.0.0.2"))
        );
        // No proxies trusted: the header is ignored.
        assert_eq!(
            client_address(Some(ip("10.0.0.2")), Some("1.2.3.4"), &[]),
            Some(ip("10.0.0.2"))
        );
    }

    #[test]
    fn one_account_locked_from_one_address_stays_open_from_another() {
        let l = Limits::new(3, 100, Hourly::default());
        for _ in 0..3 {
            l.check_login("a@x", ip("203.0.113.1")).unwrap();
        }
        assert!(l.check_login("a@x", ip("203.0.113.1")).is_err());
        assert!(l.check_login("a@x", ip("198.51.100.2")).is_ok());
    }

    #[test]
    fn an_organisation_may_do_three_times_what_one_user_may() {
        let l = Limits::new(
            10,
            100,
            Hourly {
                filings: 2,
                ..Hourly::default()
            },
        );
        for user in ["u1", "u2", "u3"] {
            l.check(Action::File, user, "org").unwrap();
            l.check(Action::File, user, "org").unwrap();
        }
        assert!(l.check(Action::File, "u1", "other").is_err()); // u1's own limit
        assert!(l.check(Action::File, "u4", "org").is_err()); // the organisation's
        assert!(l.check(Action::File, "u5", "other").is_ok());
    }
}
