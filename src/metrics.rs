//! Prometheus metrics through the `metrics` facade and `metrics-exporter-prometheus`, rendered
//! on scrape by `GET /metrics` on `LDR_METRICS_BIND` (see `api::observe`). The exporter's own
//! HTTP listener is not used.
//!
//! Counted as things happen (one recorder for the process): requests by route pattern, method
//! and status, with their latency; deadline sweep runs with their duration. Read at scrape time
//! instead (a recorder per scrape, so two apps in one test process never mix their values):
//! notices by status and the age of the oldest queued one, and the same of the webhook
//! deliveries, from the database; the database pools' connections in use.

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub const HTTP_REQUESTS: &str = "ldr_http_requests_total";
pub const HTTP_DURATION: &str = "ldr_http_request_duration_seconds";
pub const SWEEP_RUNS: &str = "ldr_sweep_runs_total";
pub const SWEEP_DURATION: &str = "ldr_sweep_duration_seconds";
pub const NOTICES: &str = "ldr_notices";
pub const NOTICE_OLDEST_QUEUED_AGE: &str = "ldr_notice_oldest_queued_age_seconds";
pub const WEBHOOK_DELIVERIES: &str = "ldr_webhook_deliveries";
pub const WEBHOOK_OLDEST_PENDING_AGE: &str = "ldr_webhook_oldest_pending_age_seconds";
pub const POOL_CONNECTIONS: &str = "ldr_db_pool_connections";
pub const POOL_MAX: &str = "ldr_db_pool_max_connections";

/// Request latency buckets (seconds): a `GET` takes a few milliseconds, a 503 up to the 10 s
/// lock timeout.
const HTTP_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
/// A sweep run (one batch of up to 1,000 due disputes).
const SWEEP_BUCKETS: [f64; 12] = [
    0.0001, 0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0, 60.0,
];

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the process's recorder, once (later calls return the same handle), and a thread
/// that drains its histograms every 5 s whether or not anyone scrapes. Only when metrics are
/// served: without a recorder the counting calls do nothing. `None` when another recorder
/// was installed first.
pub fn install() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full(HTTP_DURATION.into()), &HTTP_BUCKETS)
                .and_then(|b| {
                    b.set_buckets_for_metric(Matcher::Full(SWEEP_DURATION.into()), &SWEEP_BUCKETS)
                })
                .map_err(|e| tracing::error!(error = %e, "metrics recorder"))
                .ok()?
                .build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder)
                .map_err(|_| tracing::error!("another metrics recorder is installed"))
                .ok()?;
            describe();
            let upkeep = handle.clone();
            std::thread::Builder::new()
                .name("metrics-upkeep".into())
                .spawn(move || loop {
                    std::thread::sleep(Duration::from_secs(5));
                    upkeep.run_upkeep();
                })
                .map_err(|e| tracing::warn!(error = %e, "metrics upkeep thread"))
                .ok();
            Some(handle)
        })
        .as_ref()
}

fn describe() {
    metrics::describe_counter!(
        "ldr_access_log_dropped_total",
        "reads served but not recorded in the access log because its queue was full"
    );
    metrics::describe_counter!(
        HTTP_REQUESTS,
        "HTTP requests answered, by method, route pattern and status"
    );
    metrics::describe_histogram!(
        HTTP_DURATION,
        metrics::Unit::Seconds,
        "time to answer an HTTP request, by method and route pattern"
    );
    metrics::describe_counter!(
        SWEEP_RUNS,
        "deadline sweep runs (batches of up to 1,000 due disputes), by outcome"
    );
    metrics::describe_histogram!(
        SWEEP_DURATION,
        metrics::Unit::Seconds,
        "duration of a deadline sweep run"
    );
}

/// The method as a label: the standard ones, anything else `other` (a client may send any
/// token as a method; each must not become a series).
fn method_label(m: &str) -> &'static str {
    match m {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "OPTIONS" => "OPTIONS",
        _ => "other",
    }
}

/// One answered request. `route` is the matched pattern (`/api/v1/disputes/{id}`), never the
/// path, or `unmatched`.
pub fn http_request(method: &str, route: &str, status: u16, elapsed: Duration) {
    let method = method_label(method);
    metrics::counter!(HTTP_REQUESTS, "method" => method, "route" => route.to_string(),
        "status" => status.to_string())
    .increment(1);
    metrics::histogram!(HTTP_DURATION, "method" => method, "route" => route.to_string())
        .record(elapsed.as_secs_f64());
}

/// Times one sweep run: counted `ok` by [`SweepRun::finished`], or `error` when dropped
/// without it (the run returned an error).
pub struct SweepRun {
    started: Instant,
    done: bool,
}

impl SweepRun {
    pub fn start() -> SweepRun {
        SweepRun {
            started: Instant::now(),
            done: false,
        }
    }

    pub fn finished(mut self) {
        self.done = true;
        self.record("ok");
    }

    fn record(&self, outcome: &'static str) {
        metrics::counter!(SWEEP_RUNS, "outcome" => outcome).increment(1);
        metrics::histogram!(SWEEP_DURATION).record(self.started.elapsed().as_secs_f64());
    }
}

impl Drop for SweepRun {
    fn drop(&mut self) {
        if !self.done {
            self.record("error");
        }
    }
}

/// A database pool's connections.
#[derive(Debug, Clone)]
pub struct PoolState {
    /// `requests`, or `background` (PostgreSQL: the mail worker's and the sweep's).
    pub pool: &'static str,
    pub in_use: u32,
    pub idle: u32,
    pub max: u32,
}

/// What is read at scrape time.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// (status, count); `None` when the database could not be read.
    pub notices: Option<crate::db::stats::NoticeCounts>,
    /// `None` when the database could not be read.
    pub webhooks: Option<crate::db::stats::DeliveryCounts>,
    pub pools: Vec<PoolState>,
}

/// A queue counted in the database (the notices, the webhook deliveries): a gauge of its rows
/// by status, and one of how long its oldest waiting row has waited, each `(name, help)`.
/// Inside [`render`]'s local recorder.
fn queue_gauges(
    (name, help): (&'static str, &'static str),
    by_status: &[(&'static str, i64)],
    (age_name, age_help): (&'static str, &'static str),
    age_seconds: f64,
) {
    metrics::describe_gauge!(name, help);
    for (status, count) in by_status {
        metrics::gauge!(name, "status" => *status).set(*count as f64);
    }
    metrics::describe_gauge!(age_name, metrics::Unit::Seconds, age_help);
    metrics::gauge!(age_name).set(age_seconds);
}

/// The exposition: the process's counters and histograms, then the snapshot's gauges.
pub fn render(snap: &Snapshot) -> String {
    let mut out = HANDLE
        .get()
        .and_then(Option::as_ref)
        .map(PrometheusHandle::render)
        .unwrap_or_default();
    let local = PrometheusBuilder::new().build_recorder();
    metrics::with_local_recorder(&local, || {
        if let Some(n) = &snap.notices {
            queue_gauges(
                (
                    NOTICES,
                    "notices by status (queued, sent, failed), counted in the database at scrape \
                     time",
                ),
                &[("queued", n.queued), ("sent", n.sent), ("failed", n.failed)],
                (
                    NOTICE_OLDEST_QUEUED_AGE,
                    "age of the oldest queued notice (0 when none is queued)",
                ),
                n.oldest_queued_age_seconds,
            );
        }
        if let Some(w) = &snap.webhooks {
            queue_gauges(
                (
                    WEBHOOK_DELIVERIES,
                    "webhook deliveries by status (pending, delivered, abandoned), counted in the \
                     database at scrape time",
                ),
                &[
                    ("pending", w.pending),
                    ("delivered", w.delivered),
                    ("abandoned", w.abandoned),
                ],
                (
                    WEBHOOK_OLDEST_PENDING_AGE,
                    "age of the oldest pending webhook delivery (0 when none is pending)",
                ),
                w.oldest_pending_age_seconds,
            );
        }
        metrics::describe_gauge!(POOL_CONNECTIONS, "database pool connections, by state");
        metrics::describe_gauge!(POOL_MAX, "database pool size");
        for p in &snap.pools {
            metrics::gauge!(POOL_CONNECTIONS, "pool" => p.pool, "state" => "in_use").set(p.in_use);
            metrics::gauge!(POOL_CONNECTIONS, "pool" => p.pool, "state" => "idle").set(p.idle);
            metrics::gauge!(POOL_MAX, "pool" => p.pool).set(p.max);
        }
    });
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(&local.handle().render());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_are_bounded() {
        assert_eq!(method_label("GET"), "GET");
        assert_eq!(method_label("FROBNICATE"), "other");
    }

    #[test]
    fn snapshot_gauges_render() {
        let text = render(&Snapshot {
            notices: Some(crate::db::stats::NoticeCounts {
                queued: 2,
                sent: 5,
                failed: 1,
                oldest_queued_age_seconds: 12.5,
            }),
            webhooks: Some(crate::db::stats::DeliveryCounts {
                pending: 3,
                delivered: 7,
                abandoned: 0,
                oldest_pending_age_seconds: 4.0,
            }),
            pools: vec![PoolState {
                pool: "requests",
                in_use: 1,
                idle: 3,
                max: 8,
            }],
        });
        for line in [
            "ldr_notices{status=\"queued\"} 2",
            "ldr_notices{status=\"sent\"} 5",
            "ldr_notices{status=\"failed\"} 1",
            "ldr_notice_oldest_queued_age_seconds 12.5",
            "ldr_webhook_deliveries{status=\"pending\"} 3",
            "ldr_webhook_deliveries{status=\"delivered\"} 7",
            "ldr_webhook_oldest_pending_age_seconds 4",
            "ldr_db_pool_connections{pool=\"requests\",state=\"in_use\"} 1",
            "ldr_db_pool_max_connections{pool=\"requests\"} 8",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} not in:\n{text}");
        }
    }
}
