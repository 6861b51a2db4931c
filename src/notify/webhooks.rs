//! The delivery worker: claims due deliveries with a lease (the notices' claim,
//! `db::outbox::claim_leased`: `FOR UPDATE SKIP LOCKED` on PostgreSQL, so two replicas never
//! hold one delivery), posts each signed, and records every attempt.
//!
//! - At least once: a delivery is `delivered` only after a 2xx answer; a worker that dies
//!   mid-post leaves a lease that runs out, and another worker posts it again with the same
//!   `webhook-id` (receivers drop repeats by it).
//! - In order per endpoint: the claim takes an endpoint's earliest pending delivery only, so a
//!   later one waits while an earlier one is being retried.
//! - Retries: any answer but 2xx, a timeout or a refused address is retried after
//!   `LDR_WEBHOOK_RETRY_BASE_SECONDS` × 2^(attempts − 1), at most an hour, with jitter (a random
//!   point in the second half of that delay), for as long as the endpoint is enabled.
//! - An endpoint whose deliveries have all failed for `LDR_WEBHOOK_DISABLE_AFTER_SECONDS`
//!   (3 days) is disabled and its organisation told (`service::webhooks::record_attempts`).
//! - A post is bounded by `LDR_WEBHOOK_TIMEOUT_SECONDS`; redirects are not followed (a 3xx is a
//!   failure); no proxy is used; the host is resolved and checked at each attempt
//!   (`target::GuardedResolver`).

use super::Jobs;
use crate::db::outbox::claim_leased;
use crate::db::webhooks::{self as store, Attempt, ClaimedDelivery, WebhookRow};
use crate::db::{write_one, DbConn};
use crate::service::webhooks::{self as service, Recorded};
use crate::service::ServiceError;
use crate::webhooks::sign::{self, SecretBox};
use crate::webhooks::target::GuardedResolver;
use chrono::{Duration as ChronoDuration, NaiveDateTime};
use std::collections::HashMap;
use std::io::Read;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How many deliveries one claim takes (at most one per endpoint).
pub const BATCH: i64 = 16;
/// How long the worker waits before looking again when nothing was due.
pub const IDLE: Duration = Duration::from_millis(250);
/// The most of an answer kept with its attempt.
pub const RESPONSE_KEPT: usize = 1024;
/// The longest retry delay.
pub const MAX_BACKOFF_SECONDS: u64 = 3600;

/// The delay before retry number `attempts` (1 after the first failure): `base` × 2^(attempts
/// − 1), at most [`MAX_BACKOFF_SECONDS`], then a point in its second half chosen by `jitter`
/// (0 to 1), so that endpoints failing together do not retry together.
pub fn backoff(base: u64, attempts: i32, jitter: f64) -> Duration {
    let exp = (attempts.max(1) - 1).min(20) as u32;
    let full = base.saturating_mul(1u64 << exp).min(MAX_BACKOFF_SECONDS) as f64;
    Duration::from_secs_f64(full / 2.0 + full / 2.0 * jitter.clamp(0.0, 1.0))
}

/// The HTTP client of the deliveries.
pub fn agent(timeout: Duration, allow_private: bool) -> ureq::Agent {
    let config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(timeout))
        .max_redirects(0)
        .https_only(!allow_private)
        .proxy(None)
        .user_agent(format!("ldr-webhooks/{}", env!("CARGO_PKG_VERSION")))
        .build();
    ureq::Agent::with_parts(
        config,
        ureq::unversioned::transport::DefaultConnector::default(),
        GuardedResolver { allow_private },
    )
}

/// The secrets that sign now: the current one, and the previous one during its overlap.
fn secrets(sealer: &SecretBox, w: &WebhookRow, now: NaiveDateTime) -> Result<Vec<String>, String> {
    let mut out = vec![sealer.open(&w.id, &w.secret)?];
    if let Some(prev) = &w.previous_secret {
        if sign::previous_signs(now, w.previous_secret_until) {
            out.push(sealer.open(&w.id, prev)?);
        }
    }
    Ok(out)
}

/// The first [`RESPONSE_KEPT`] bytes of an answer, as text (cut at a character boundary).
fn kept(bytes: &[u8]) -> String {
    let mut s =
        storable(String::from_utf8_lossy(&bytes[..bytes.len().min(RESPONSE_KEPT)]).into_owned());
    while s.len() > RESPONSE_KEPT {
        s.pop();
    }
    s
}

/// Text from the receiver, as it can be stored: PostgreSQL's text holds no NUL, and one NUL
/// in a receiver's answer would fail the recording of the whole batch of attempts (each of
/// them then posted again, and that endpoint never disabled). Each becomes U+FFFD.
fn storable(s: String) -> String {
    if s.contains('\0') {
        s.replace('\0', "\u{FFFD}")
    } else {
        s
    }
}

/// One attempt at `d` to `w`: signed and posted now. Blocking (run on the blocking pool).
pub fn attempt(
    agent: &ureq::Agent,
    sealer: &SecretBox,
    w: &WebhookRow,
    d: &ClaimedDelivery,
) -> Attempt {
    let at = crate::db::now();
    let started = Instant::now();
    let failed = |error: String, status_code: Option<i32>, response: String| Attempt {
        at,
        status_code,
        error: Some(storable(error)),
        response,
        duration_ms: started.elapsed().as_millis().min(i32::MAX as u128) as i32,
        delivered: false,
    };
    let secrets = match secrets(sealer, w, at) {
        Ok(s) => s,
        Err(e) => return failed(e, None, String::new()),
    };
    let refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
    let timestamp = chrono::Utc::now().timestamp();
    let signature = match sign::signature_header(&refs, &d.id, timestamp, &d.payload) {
        Ok(s) => s,
        Err(e) => return failed(e, None, String::new()),
    };
    let res = agent
        .post(&w.url)
        .header("content-type", "application/json")
        .header("webhook-id", &d.id)
        .header("webhook-timestamp", &timestamp.to_string())
        .header("webhook-signature", &signature)
        .send(d.payload.as_bytes());
    match res {
        Ok(mut r) => {
            let status = r.status().as_u16();
            let mut buf = Vec::new();
            let _ = r
                .body_mut()
                .as_reader()
                .take(RESPONSE_KEPT as u64)
                .read_to_end(&mut buf);
            let response = kept(&buf);
            if (200..300).contains(&status) {
                Attempt {
                    at,
                    status_code: Some(status as i32),
                    error: None,
                    response,
                    duration_ms: started.elapsed().as_millis().min(i32::MAX as u128) as i32,
                    delivered: true,
                }
            } else {
                let why = if (300..400).contains(&status) {
                    format!("HTTP {status}: redirects are not followed; register the final URL")
                } else {
                    format!("HTTP {status}")
                };
                failed(why, Some(status as i32), response)
            }
        }
        Err(e) => failed(describe(&e), None, String::new()),
    }
}

/// An HTTP failure in words (the refused-address message as the resolver wrote it).
fn describe(e: &ureq::Error) -> String {
    match e {
        ureq::Error::Io(io) => io.to_string(),
        ureq::Error::Timeout(t) => format!("no answer in time ({t})"),
        other => other.to_string(),
    }
}

/// Claims a batch and reads the endpoints it is for.
fn claim(
    c: &mut DbConn,
    worker: &str,
    lease: ChronoDuration,
) -> Result<(Vec<ClaimedDelivery>, HashMap<String, WebhookRow>), ServiceError> {
    let now = crate::db::now();
    let batch = write_one(c, |c| {
        claim_leased(c, &store::DELIVERIES, worker, now, now + lease, BATCH)
    })?;
    if batch.is_empty() {
        return Ok((batch, HashMap::new()));
    }
    let mut ids: Vec<String> = batch.iter().map(|d| d.webhook_id.clone()).collect();
    ids.sort();
    ids.dedup();
    let hooks: HashMap<String, WebhookRow> = store::list_by_ids(c, &ids)?
        .into_iter()
        .map(|w| (w.id.clone(), w))
        .collect();
    // An event queued while its endpoint was being disabled: given up, not posted.
    let (batch, gone): (Vec<_>, Vec<_>) = batch
        .into_iter()
        .partition(|d| hooks.get(&d.webhook_id).is_some_and(|w| w.active));
    if !gone.is_empty() {
        let seqs: Vec<i64> = gone.iter().map(|d| d.seq).collect();
        write_one(c, |c| store::abandon(c, worker, &seqs))?;
    }
    Ok((batch, hooks))
}

/// The worker loop. Started with the other background jobs (`notify::start_background`).
pub async fn run(jobs: Jobs) {
    let worker = format!("webhooks-{}", uuid::Uuid::new_v4());
    let cfg = jobs.cfg.clone();
    let timeout = Duration::from_secs(cfg.webhook_timeout_seconds);
    // Long enough for a post that takes all its time, and its record.
    let lease = ChronoDuration::seconds(2 * cfg.webhook_timeout_seconds as i64 + 30);
    let agent = Arc::new(agent(timeout, cfg.webhooks_allow_private));
    let disable_after = ChronoDuration::seconds(cfg.webhook_disable_after_seconds as i64);
    tracing::info!(
        allow_private = cfg.webhooks_allow_private,
        "webhook worker started"
    );
    loop {
        let w = worker.clone();
        let claimed = jobs.db(move |c| claim(c, &w, lease)).await;
        let (batch, hooks) = match claimed {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!(error = %e, "webhook worker: cannot claim deliveries; retrying");
                actix_web::rt::time::sleep(Duration::from_secs(2)).await;
                continue;
            }
        };
        if batch.is_empty() {
            actix_web::rt::time::sleep(IDLE).await;
            continue;
        }
        // At most one delivery per endpoint: post them side by side.
        let posts = batch.into_iter().filter_map(|d| {
            let w = hooks.get(&d.webhook_id)?.clone();
            let (agent, sealer) = (agent.clone(), jobs.webhook_box.clone());
            Some(async move {
                let res = actix_web::web::block(move || {
                    let a = attempt(&agent, &sealer, &w, &d);
                    (d, a)
                })
                .await;
                res.ok()
            })
        });
        let outcomes: Vec<(ClaimedDelivery, Attempt)> = futures_util::future::join_all(posts)
            .await
            .into_iter()
            .flatten()
            .collect();
        let (w, base) = (worker.clone(), cfg.webhook_retry_base_seconds);
        let outcomes: Vec<service::Outcome> = outcomes
            .into_iter()
            .map(|(d, a)| {
                let retry_at = a.at
                    + ChronoDuration::from_std(backoff(base, d.attempts + 1, rand::random()))
                        .unwrap_or(ChronoDuration::seconds(MAX_BACKOFF_SECONDS as i64));
                (d, a, retry_at)
            })
            .collect();
        let recorded = jobs
            .db(move |c| {
                let r = service::record_attempts(c, &w, &outcomes, disable_after)?;
                Ok((outcomes, r))
            })
            .await;
        match recorded {
            Ok((outcomes, list)) => {
                for ((d, a, _), r) in outcomes.iter().zip(list) {
                    log_outcome(&jobs, &d.id, &d.webhook_id, a, r);
                }
            }
            Err(e) => tracing::error!(error = %e,
                "webhook worker: cannot record attempts; their leases will run out and they are retried"),
        }
    }
}

fn log_outcome(jobs: &Jobs, id: &str, webhook_id: &str, a: &Attempt, r: Recorded) {
    match r {
        Recorded::Yes if a.delivered => {
            tracing::info!(
                delivery_id = id,
                webhook_id,
                status = a.status_code,
                "webhook delivered"
            )
        }
        Recorded::Yes => tracing::warn!(
            delivery_id = id,
            webhook_id,
            status = a.status_code,
            error = a.error.as_deref().unwrap_or(""),
            "webhook delivery failed; will retry"
        ),
        Recorded::Disabled => {
            tracing::error!(webhook_id, error = a.error.as_deref().unwrap_or(""),
                "ALERT: a webhook endpoint kept failing and was disabled; its organisation was told");
            jobs.mail_wakeup.notify_one();
        }
        Recorded::LeaseLost => tracing::warn!(
            delivery_id = id,
            webhook_id,
            "a webhook was posted after its lease ran out; another worker may post it again"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_receivers_nul_is_kept_as_a_replacement_character() {
        assert_eq!(kept(b"ok\0done"), "ok\u{FFFD}done");
        assert_eq!(storable("bad\0".to_string()), "bad\u{FFFD}");
        let long = vec![0u8; RESPONSE_KEPT + 10];
        let k = kept(&long);
        assert!(k.len() <= RESPONSE_KEPT && !k.contains('\0'), "{}", k.len());
    }

    #[test]
    fn backoff_doubles_up_to_an_hour_with_jitter_in_its_second_half() {
        let s = |d: Duration| d.as_secs_f64();
        assert_eq!(s(backoff(10, 1, 1.0)), 10.0);
        assert_eq!(s(backoff(10, 1, 0.0)), 5.0);
        assert_eq!(s(backoff(10, 2, 1.0)), 20.0);
        assert_eq!(s(backoff(10, 4, 1.0)), 80.0);
        assert_eq!(s(backoff(10, 30, 1.0)), 3600.0);
        assert_eq!(s(backoff(10, 30, 0.0)), 1800.0);
        let mid = s(backoff(10, 3, 0.5));
        assert!((30.0..=40.0).contains(&mid), "{mid}");
    }

    #[test]
    fn answers_are_kept_to_one_kib() {
        assert_eq!(kept(&[b'a'; 5000]).len(), 1024);
        assert_eq!(kept(b"ok"), "ok");
        // A multi-byte character cut at the limit is dropped, not split.
        let mut b = vec![b'a'; 1023];
        b.extend_from_slice("é".as_bytes());
        assert!(kept(&b).len() <= 1024);
    }
}
