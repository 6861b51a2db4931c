//! Recording reads without slowing them (issue #38).
//!
//! A read hands its entry to [`AccessLog::record`], which only puts it on a bounded in-memory
//! queue (a tokio mpsc channel of [`QUEUE`] entries) and returns: the read never waits for the
//! database. One background task ([`AccessLog::start`]) takes entries off the queue and writes
//! them in batches of up to [`BATCH`], at least once a second when there are any. When a write
//! fails (the database briefly unavailable) the task keeps the batch and retries it every
//! second until it is written; meanwhile new entries wait on the queue. When the queue is full,
//! an entry is dropped, counted (`ldr_access_log_dropped_total`, and [`AccessLog::dropped`])
//! and a warning logged (the first drop and every 1,000th): a long outage loses entries rather
//! than memory or the reads' speed. [`AccessLog::flush`] writes everything queued (at
//! shutdown). The same task prunes entries older than `LDR_ACCESS_LOG_DAYS` at start and daily.

use crate::db::access_log::{self as store, Entry};
use crate::db::DbPool;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// Entries the queue holds before it drops new ones.
pub const QUEUE: usize = 10_000;
/// Entries written per transaction at most.
pub const BATCH: usize = 1_000;
const DROPPED: &str = "ldr_access_log_dropped_total";

enum Msg {
    Entry(Entry),
    Flush(oneshot::Sender<()>),
}

pub struct AccessLog {
    tx: mpsc::Sender<Msg>,
    rx: Mutex<Option<mpsc::Receiver<Msg>>>,
    dropped: AtomicU64,
}

impl Default for AccessLog {
    fn default() -> Self {
        AccessLog::new()
    }
}

impl AccessLog {
    pub fn new() -> AccessLog {
        let (tx, rx) = mpsc::channel(QUEUE);
        AccessLog {
            tx,
            rx: Mutex::new(Some(rx)),
            dropped: AtomicU64::new(0),
        }
    }

    /// Queues one read; never waits.
    pub fn record(
        &self,
        user_id: &str,
        dispute_id: &str,
        kind: &str,
        document_id: Option<&str>,
        client_address: Option<String>,
    ) {
        let entry = Entry {
            // Time-ordered (UUIDv7): a new entry's key goes at the end of the primary key's
            // index instead of on a random page of it.
            id: uuid::Uuid::now_v7().to_string(),
            at: crate::db::now(),
            user_id: user_id.to_string(),
            dispute_id: dispute_id.to_string(),
            kind: kind.to_string(),
            document_id: document_id.map(str::to_string),
            client_address,
        };
        if self.tx.try_send(Msg::Entry(entry)).is_err() {
            let n = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            metrics::counter!(DROPPED).increment(1);
            if n == 1 || n % 1_000 == 0 {
                tracing::warn!(
                    dropped = n,
                    "access log queue full (the database is not keeping up or is unavailable): \
                     reads are being served but not recorded"
                );
            }
        }
    }

    /// Entries dropped because the queue was full, since start.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Waits until everything queued before this call is written (or `within` passes).
    pub async fn flush(&self, within: Duration) -> bool {
        let (ack, done) = oneshot::channel();
        let sent = tokio::time::timeout(within, self.tx.send(Msg::Flush(ack))).await;
        if !matches!(sent, Ok(Ok(()))) {
            return false;
        }
        matches!(tokio::time::timeout(within, done).await, Ok(Ok(())))
    }

    /// Starts the writer (once; later calls do nothing) on the current runtime.
    pub fn start(&self, pool: DbPool, keep_days: u32) {
        let Some(rx) = self.rx.lock().unwrap_or_else(|e| e.into_inner()).take() else {
            return;
        };
        actix_web::rt::spawn(writer(rx, pool, keep_days));
    }
}

async fn writer(mut rx: mpsc::Receiver<Msg>, pool: DbPool, keep_days: u32) {
    let mut next_prune = tokio::time::Instant::now();
    let mut batch: Vec<Entry> = Vec::new();
    let mut acks: Vec<oneshot::Sender<()>> = Vec::new();
    loop {
        if tokio::time::Instant::now() >= next_prune {
            prune(&pool, keep_days).await;
            next_prune = tokio::time::Instant::now() + Duration::from_secs(24 * 3600);
        }
        // Gather up to a batch, waiting at most a second after the first entry.
        if batch.is_empty() && acks.is_empty() {
            match tokio::time::timeout(Duration::from_secs(60), rx.recv()).await {
                Ok(Some(m)) => take(m, &mut batch, &mut acks),
                Ok(None) => return,
                Err(_) => continue,
            }
        }
        let deadline = tokio::time::Instant::now() + Duration::from_secs(1);
        while batch.len() < BATCH && acks.is_empty() {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(m)) => take(m, &mut batch, &mut acks),
                _ => break,
            }
        }
        // A flush: everything already queued goes too.
        if !acks.is_empty() {
            while let Ok(m) = rx.try_recv() {
                take(m, &mut batch, &mut acks);
            }
        }
        // Write, keeping the batch until it is written.
        while !batch.is_empty() {
            let chunk: Vec<Entry> = batch.iter().take(BATCH).cloned().collect();
            let p = pool.clone();
            let n = chunk.len();
            let res = tokio::task::spawn_blocking(move || {
                crate::db::run(&p, |c| {
                    store::insert_batch(c, &chunk).map_err(super::ServiceError::from)
                })
            })
            .await;
            match res {
                Ok(Ok(())) => {
                    batch.drain(..n);
                }
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, held = batch.len(), "access log write failed; retrying in 1 s");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "access log writer task failed; retrying in 1 s");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
        for a in acks.drain(..) {
            let _ = a.send(());
        }
    }
}

fn take(m: Msg, batch: &mut Vec<Entry>, acks: &mut Vec<oneshot::Sender<()>>) {
    match m {
        Msg::Entry(e) => batch.push(e),
        Msg::Flush(a) => acks.push(a),
    }
}

async fn prune(pool: &DbPool, keep_days: u32) {
    let before = crate::db::now() - chrono::Duration::days(i64::from(keep_days));
    let p = pool.clone();
    let res = tokio::task::spawn_blocking(move || {
        crate::db::run(&p, |c| {
            store::prune(c, before).map_err(super::ServiceError::from)
        })
    })
    .await;
    match res {
        Ok(Ok(n)) => tracing::info!(removed = n, %before, "access log pruned"),
        Ok(Err(e)) => tracing::warn!(error = %e, "access log pruning failed; tried again tomorrow"),
        Err(e) => tracing::warn!(error = %e, "access log pruning task failed"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_queue_drops_and_counts_without_waiting() {
        let log = AccessLog::new();
        for _ in 0..QUEUE + 5 {
            log.record("u", "d", "dispute", None, None);
        }
        assert_eq!(log.dropped(), 5);
    }
}
