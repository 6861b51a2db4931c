//! Counts read for the metrics at scrape time.

use super::schema::{notices, webhook_deliveries};
use super::DbConn;
use diesel::prelude::*;

/// Notices by status, and how long the oldest queued one has waited.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NoticeCounts {
    pub queued: i64,
    pub sent: i64,
    pub failed: i64,
    /// 0 when none is queued.
    pub oldest_queued_age_seconds: f64,
}

/// Two statements: a count by status (every notice row is read: a scrape every 15 s of a
/// table of 100,000 notices takes milliseconds), and the oldest queued one.
pub fn notice_counts(c: &mut DbConn, now: chrono::NaiveDateTime) -> QueryResult<NoticeCounts> {
    let by_status: Vec<(String, i64)> = notices::table
        .group_by(notices::status)
        .select((notices::status, diesel::dsl::count_star()))
        .load(c)?;
    let oldest: Option<chrono::NaiveDateTime> = notices::table
        .filter(notices::status.eq("queued"))
        .select(diesel::dsl::min(notices::queued_at))
        .first(c)?;
    let mut out = NoticeCounts::default();
    for (status, n) in by_status {
        match status.as_str() {
            "queued" => out.queued = n,
            "sent" => out.sent = n,
            "failed" => out.failed = n,
            _ => {}
        }
    }
    out.oldest_queued_age_seconds = age_seconds(oldest, now);
    Ok(out)
}

/// Webhook deliveries by status, and how long the oldest pending one has waited.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeliveryCounts {
    pub pending: i64,
    pub delivered: i64,
    /// Given up when their endpoint was disabled.
    pub abandoned: i64,
    /// 0 when none is pending.
    pub oldest_pending_age_seconds: f64,
}

/// As [`notice_counts`], for the webhook deliveries.
pub fn delivery_counts(c: &mut DbConn, now: chrono::NaiveDateTime) -> QueryResult<DeliveryCounts> {
    use super::webhooks::{ABANDONED, DELIVERED, PENDING};
    let by_status: Vec<(String, i64)> = webhook_deliveries::table
        .group_by(webhook_deliveries::status)
        .select((webhook_deliveries::status, diesel::dsl::count_star()))
        .load(c)?;
    let oldest: Option<chrono::NaiveDateTime> = webhook_deliveries::table
        .filter(webhook_deliveries::status.eq(PENDING))
        .select(diesel::dsl::min(webhook_deliveries::created_at))
        .first(c)?;
    let mut out = DeliveryCounts::default();
    for (status, n) in by_status {
        match status.as_str() {
            PENDING => out.pending = n,
            DELIVERED => out.delivered = n,
            ABANDONED => out.abandoned = n,
            _ => {}
        }
    }
    out.oldest_pending_age_seconds = age_seconds(oldest, now);
    Ok(out)
}

/// Seconds from `oldest` to `now` (0 when there is none, or it is in the future).
fn age_seconds(oldest: Option<chrono::NaiveDateTime>, now: chrono::NaiveDateTime) -> f64 {
    oldest
        .map(|t| ((now - t).num_milliseconds().max(0) as f64) / 1000.0)
        .unwrap_or(0.0)
}
