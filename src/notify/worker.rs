//! Delivery: claims due notice rows with a lease, sends them, records the outcome.
//!
//! - At least once: a row is `sent` only after the transport accepted it; a worker that dies
//!   mid-send leaves a lease that expires, and another worker takes the row over. Each message
//!   carries a Message-ID derived from the notice id, so a receiver can drop a repeat.
//! - Never lost: failures retry with exponential backoff from `LDR_MAIL_RETRY_BASE_SECONDS`
//!   up to `LDR_MAIL_MAX_ATTEMPTS`, then `failed` with the error kept and an error in the log;
//!   a permanent SMTP 5xx fails at once.
//! - Replicas on one PostgreSQL claim with `FOR UPDATE SKIP LOCKED`, so two never hold a row.
//!   A send starts only while the claim's lease leaves time for it to end and be recorded; a
//!   batch that a slow SMTP server has kept past that point gives its unsent notices back, so
//!   no notice is sent by one replica after its lease ran out and another replica took it.
//! - GOV.UK Notify takes one request per recipient. The recipients it has accepted a notice for
//!   are recorded (`sent_to`) when an attempt stops part-way (a temporary failure, or the lease
//!   running out between two recipients), and the retry sends only to the others.

use super::govuk::NotifyClient;
use super::message::{build_message_with, message_id_for};
use super::Jobs;
use crate::config::Config;
use crate::db::outbox;
use crate::db::{write_one, DbConn};
use crate::render::templates::Rendered;
use crate::service::ServiceError;
use actix_web::web;
use chrono::{Duration as ChronoDuration, NaiveDateTime};
use diesel::prelude::*;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use std::path::PathBuf;
use std::time::Duration;

pub use crate::config::{LEASE_SECONDS, RECORD_MARGIN_SECONDS, SEND_TIMEOUT_SECONDS};

/// How many notices the worker claims at a time, to begin with and whenever it has caught up.
pub const BATCH: i64 = 20;
/// The most it claims at a time while it is behind (see [`next_claim`]).
pub const MAX_BATCH: i64 = 160;
/// A batch delivered faster than this, with more waiting, lets the next claim take more.
pub const GROW_WITHIN: Duration = Duration::from_millis(500);

/// Whether a notice claimed `since_claim` ago, under a lease of `lease`, may still be sent: only
/// if a send that takes all of `send_timeout` ends, and is recorded, within the lease. A batch is
/// sent one notice after another, so a slow SMTP server can make it outlast its lease; past this
/// point the worker stops and gives the rest back ([`release`]) instead of sending notices that
/// another replica may already have claimed and be sending too.
pub fn lease_allows_send(since_claim: Duration, lease: Duration, send_timeout: Duration) -> bool {
    since_claim + send_timeout + Duration::from_secs(RECORD_MARGIN_SECONDS) <= lease
}

pub enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// GOV.UK Notify's REST API (`LDR_NOTIFY_API_KEY`).
    Notify(NotifyClient),
    File(PathBuf),
}

impl Transport {
    /// GOV.UK Notify when `LDR_NOTIFY_API_KEY` is set (the configuration refuses it together
    /// with `LDR_SMTP_URL`); SMTP when `LDR_SMTP_URL` is set (`smtp://` with opportunistic
    /// STARTTLS, `?tls=required` to insist on it, `?tls=none` for a local catcher; `smtps://`
    /// implicit TLS; user and password from the URL); otherwise `.eml` files in `LDR_MAIL_DIR`.
    pub fn from_config(cfg: &Config) -> Result<Transport, String> {
        if let Some(n) = &cfg.notify {
            return Ok(Transport::Notify(NotifyClient::new(
                n.clone(),
                cfg.public_url.clone(),
                Duration::from_secs(cfg.mail_send_timeout_seconds),
            )));
        }
        let Some(url) = &cfg.smtp_url else {
            std::fs::create_dir_all(&cfg.mail_dir).map_err(|e| {
                format!("cannot create LDR_MAIL_DIR {}: {e}", cfg.mail_dir.display())
            })?;
            return Ok(Transport::File(cfg.mail_dir.clone()));
        };
        let host = url
            .host_str()
            .ok_or("LDR_SMTP_URL has no host")?
            .to_string();
        let tls_mode = url
            .query_pairs()
            .find(|(k, _)| k == "tls")
            .map(|(_, v)| v.to_string());
        let params =
            || TlsParameters::new(host.clone()).map_err(|e| format!("TLS parameters: {e}"));
        let mut b = match url.scheme() {
            "smtps" => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&host)
                .port(url.port().unwrap_or(465))
                .tls(Tls::Wrapper(params()?)),
            _ => {
                let tls = match tls_mode.as_deref() {
                    Some("none") => Tls::None,
                    Some("required") => Tls::Required(params()?),
                    None | Some("opportunistic") => Tls::Opportunistic(params()?),
                    Some(other) => {
                        return Err(format!(
                            "LDR_SMTP_URL: unknown tls={other} (none, opportunistic, required)"
                        ))
                    }
                };
                AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&host)
                    .port(url.port().unwrap_or(25))
                    .tls(tls)
            }
        };
        if !url.username().is_empty() {
            let user = percent_decode(url.username());
            let pass = percent_decode(url.password().unwrap_or(""));
            b = b.credentials(Credentials::new(user, pass));
        }
        Ok(Transport::Smtp(
            b.timeout(Some(Duration::from_secs(30))).build(),
        ))
    }

    pub fn describe(&self) -> String {
        match self {
            Transport::Smtp(_) => "SMTP".into(),
            Transport::Notify(c) => c.describe(),
            Transport::File(p) => format!("files in {}", p.display()),
        }
    }
}

/// A URL's user or password as typed: `%xx` decoded, and `+` kept as a plus (form decoding
/// would make it a space).
fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

pub use crate::db::outbox::Claimed;

/// Claims up to `limit` due notices for `worker` with a lease: one statement, on its
/// own on PostgreSQL (rows picked `FOR UPDATE SKIP LOCKED`), inside `BEGIN IMMEDIATE` on SQLite.
pub fn claim(
    c: &mut DbConn,
    worker: &str,
    now: NaiveDateTime,
    limit: i64,
    lease: Duration,
) -> QueryResult<Vec<Claimed>> {
    let lease = ChronoDuration::from_std(lease).unwrap_or(ChronoDuration::seconds(LEASE_SECONDS));
    write_one(c, |c| {
        outbox::claim_leased(c, &outbox::NOTICES, worker, now, now + lease, limit)
    })
}

/// Records that the transport accepted `ids` (one statement for all); returns how many rows
/// were still leased to `worker` (fewer when a lease ran out and another worker took one over).
pub fn record_sent(
    c: &mut DbConn,
    worker: &str,
    ids: &[String],
    now: NaiveDateTime,
) -> QueryResult<usize> {
    write_one(c, |c| outbox::mark_sent(c, worker, ids, now))
}

/// `sent_to` as stored: a JSON array, or `None` when there is nothing to record.
fn sent_json(sent_to: Option<&[String]>) -> Option<String> {
    sent_to
        .filter(|s| !s.is_empty())
        .and_then(|s| serde_json::to_string(s).ok())
}

/// The notices `ids` that `worker` still holds: leased to it, and still queued (a lease that ran
/// out may have been taken over, and a notice another worker sent is not `queued`).
#[diesel::dsl::auto_type(no_type_alias)]
fn held<'a>(worker: &'a str, ids: &'a [String]) -> _ {
    crate::db::schema::notices::table
        .filter(crate::db::schema::notices::id.eq_any(ids))
        .filter(crate::db::schema::notices::locked_by.eq(worker))
        .filter(crate::db::schema::notices::status.eq("queued"))
}

/// Gives back a notice that `worker` sent to some of its recipients only, when the lease left no
/// time for the others: records whom it was sent to, and ends the lease now with no attempt
/// counted, as [`release`] does.
pub fn release_part_sent(
    c: &mut DbConn,
    worker: &str,
    id: &str,
    sent_to: &[String],
) -> QueryResult<usize> {
    use crate::db::schema::notices;
    let ids = [id.to_string()];
    write_one(c, |c| {
        diesel::update(held(worker, &ids))
            .set((
                notices::locked_until.eq(None::<NaiveDateTime>),
                notices::sent_to.eq(sent_json(Some(sent_to))),
            ))
            .execute(c)
    })
}

/// Records whom notice `id`, still leased to `worker`, has been sent to so far (GOV.UK Notify,
/// after each recipient accepted), so that a crash before the notice is recorded sent does not
/// send it to them again.
pub fn keep_sent_to(
    c: &mut DbConn,
    worker: &str,
    id: &str,
    sent_to: &[String],
) -> QueryResult<usize> {
    use crate::db::schema::notices;
    let ids = [id.to_string()];
    write_one(c, |c| {
        diesel::update(held(worker, &ids))
            .set(notices::sent_to.eq(sent_json(Some(sent_to))))
            .execute(c)
    })
}

/// Gives back notice `n`, leased to `worker`, after the transport refused the service's own
/// setting ([`Outcome::Halt`]): its lease ends now, with `n.sent_to` as whom it was sent to and
/// `error` as its last error, no attempt counted.
pub fn release_halted(
    c: &mut DbConn,
    worker: &str,
    n: &Claimed,
    error: &str,
) -> QueryResult<usize> {
    use crate::db::schema::notices;
    let ids = [n.id.clone()];
    write_one(c, |c| {
        diesel::update(held(worker, &ids))
            .set((
                notices::locked_until.eq(None::<NaiveDateTime>),
                notices::last_error.eq(Some(error.chars().take(2000).collect::<String>())),
                notices::sent_to.eq(&n.sent_to),
            ))
            .execute(c)
    })
}

/// Gives back notices claimed by `worker` that it did not attempt: their lease ends now, with no
/// attempt counted, so the next claim (by any replica) takes them. Only rows still leased to
/// `worker` and still queued are touched; returns how many.
pub fn release(c: &mut DbConn, worker: &str, ids: &[String]) -> QueryResult<usize> {
    use crate::db::schema::notices;
    write_one(c, |c| {
        diesel::update(held(worker, ids))
            .set(notices::locked_until.eq(None::<NaiveDateTime>))
            .execute(c)
    })
}

pub enum Outcome {
    Sent,
    Retry(String),
    Permanent(String),
    /// Not (or not wholly) attempted: the lease left no time for the next request (GOV.UK
    /// Notify, between two recipients). Given back without an attempt counted.
    Unsent,
    /// Nothing is wrong with this notice: the transport refused the service as a whole
    /// (GOV.UK Notify the key or the template, or its rate limit; the SMTP server the login).
    /// Every notice would meet the same refusal, so none is failed for it: this one goes back with whom it was
    /// sent to and the refusal as its last error, no attempt counted, the rest of the batch
    /// with it, and the worker waits `LDR_MAIL_RETRY_BASE_SECONDS` before it claims again.
    Halt(String),
}

/// The recipients of `n` it has not been sent to yet, or why they cannot be read (permanent).
fn unsent_recipients(n: &Claimed) -> Result<Vec<String>, String> {
    let sent = n.sent_list()?;
    Ok(n.recipient_list()?
        .into_iter()
        .filter(|r| !sent.contains(r))
        .collect())
}

/// Builds the message of one claimed notice, to the recipients it has not been sent to yet,
/// or says why it cannot be built (permanent).
fn message_of(from: &str, n: &Claimed) -> Result<lettre::Message, String> {
    message_to(from, n, &unsent_recipients(n)?)
}

/// Builds the message of one claimed notice to `to`.
fn message_to(from: &str, n: &Claimed, to: &[String]) -> Result<lettre::Message, String> {
    let rendered = Rendered {
        subject: n.subject.clone(),
        text: n.body_text.clone(),
        html: n.body_html.clone(),
    };
    let id = uuid::Uuid::parse_str(&n.id).unwrap_or_else(|_| uuid::Uuid::nil());
    let ics = match (&n.ics_method, &n.ics) {
        (Some(m), Some(body)) => Some((m.as_str(), body.as_str())),
        _ => None,
    };
    let file = n.attachment_name.as_deref().zip(n.attachment.as_deref());
    build_message_with(from, to, &rendered, ics, file, &message_id_for(id, from))
        .map_err(|e| format!("cannot build the message: {e}"))
}

/// Sends one claimed notice over the network transport; with GOV.UK Notify, also every
/// recipient it has been accepted for so far. Notify's requests run on the blocking pool, one
/// hand-off per notice, each request only while the claim's lease (taken at `started`) has
/// time for it.
async fn deliver(
    transport: &Transport,
    jobs: &Jobs,
    worker: &str,
    n: &Claimed,
    started: std::time::Instant,
    lease: Duration,
    send_timeout: Duration,
) -> (Outcome, Option<Vec<String>>) {
    match transport {
        Transport::Smtp(t) => deliver_smtp(t, &jobs.cfg.mail_from, n, send_timeout).await,
        Transport::Notify(client) => {
            let (client, n) = (client.clone(), n.clone());
            let (pool, worker) = (jobs.pool.clone(), worker.to_string());
            let res = web::block(move || {
                client.send(
                    &n,
                    || lease_allows_send(started.elapsed(), lease, send_timeout),
                    |sent_to| {
                        let kept = crate::db::run(&pool, |c| {
                            keep_sent_to(c, &worker, &n.id, sent_to).map_err(ServiceError::from)
                        });
                        if let Err(e) = kept {
                            tracing::warn!(notice_id = %n.id, error = %e,
                                "cannot record whom a notice was sent to so far; a crash now would send it to them again");
                        }
                    },
                )
            })
            .await;
            match res {
                Ok(a) => (a.outcome, Some(a.sent_to)),
                Err(e) => (
                    Outcome::Retry(format!("GOV.UK Notify: the send could not run: {e}")),
                    None,
                ),
            }
        }
        Transport::File(dir) => {
            let (dir, from, n) = (dir.clone(), jobs.cfg.mail_from.clone(), n.clone());
            let outcome = web::block(move || write_emls(&dir, &from, vec![n]).pop())
                .await
                .ok()
                .flatten()
                .map_or_else(
                    || Outcome::Retry("writing .eml: no answer".into()),
                    |(_, o)| o,
                );
            (outcome, None)
        }
    }
}

/// Sends one claimed notice over SMTP: one message to every recipient it has not been sent to
/// yet. When the server refuses a recipient's mailbox (550, 551, 553) the whole message is
/// refused, so then it goes to each of them on its own: the others still get it, and whom it
/// was sent to is returned with the outcome (refused for good for the refused addresses only).
async fn deliver_smtp(
    t: &AsyncSmtpTransport<Tokio1Executor>,
    from: &str,
    n: &Claimed,
    send_timeout: Duration,
) -> (Outcome, Option<Vec<String>>) {
    let to = match unsent_recipients(n) {
        Ok(to) => to,
        Err(e) => return (Outcome::Permanent(e), None),
    };
    if to.is_empty() && n.sent_to.is_some() {
        // Sent to every recipient by an attempt that stopped before it was recorded as sent.
        return (Outcome::Sent, None);
    }
    match send_smtp(t, from, n, &to, send_timeout).await {
        (Outcome::Permanent(_), MailboxRefused(true)) if to.len() > 1 => {
            one_by_one(t, from, n, to, send_timeout).await
        }
        (outcome, _) => (outcome, None),
    }
}

/// Sends `n` to each of `to` in a message of its own; see [`deliver_smtp`].
async fn one_by_one(
    t: &AsyncSmtpTransport<Tokio1Executor>,
    from: &str,
    n: &Claimed,
    to: Vec<String>,
    send_timeout: Duration,
) -> (Outcome, Option<Vec<String>>) {
    let mut sent_to = match n.sent_list() {
        Ok(s) => s,
        Err(e) => return (Outcome::Permanent(e), None),
    };
    let mut refused = Vec::new();
    for r in to {
        match send_smtp(t, from, n, std::slice::from_ref(&r), send_timeout)
            .await
            .0
        {
            Outcome::Sent => sent_to.push(r),
            Outcome::Permanent(e) => refused.push(format!("{r}: {e}")),
            // Stop there: the rest are tried again later, and whom it went to is kept.
            other => return (other, Some(sent_to)),
        }
    }
    let outcome = if refused.is_empty() {
        Outcome::Sent
    } else {
        Outcome::Permanent(format!(
            "the SMTP server refused it for {}{}",
            refused.join("; "),
            if sent_to.is_empty() {
                String::new()
            } else {
                format!(". Sent to {}", sent_to.join(", "))
            }
        ))
    };
    (outcome, Some(sent_to))
}

/// Whether the server refused a recipient's mailbox (550, 551, 553), which refuses the whole
/// message.
struct MailboxRefused(bool);

/// One SMTP conversation: `n` to `to`.
async fn send_smtp(
    t: &AsyncSmtpTransport<Tokio1Executor>,
    from: &str,
    n: &Claimed,
    to: &[String],
    send_timeout: Duration,
) -> (Outcome, MailboxRefused) {
    let msg = match message_to(from, n, to) {
        Ok(m) => m,
        Err(e) => return (Outcome::Permanent(e), MailboxRefused(false)),
    };
    // Each SMTP command has a 30 s timeout; the whole conversation another bound, so a
    // server that stops answering (e.g. never replies to QUIT) cannot hold the worker.
    let outcome = match tokio::time::timeout(send_timeout, t.send(msg)).await {
        Ok(Ok(_)) => Outcome::Sent,
        Ok(Err(e)) if e.status().is_some_and(|c| refuses_the_login(c.into())) => {
            Outcome::Halt(format!(
                "SMTP refused the service's login: {e}. Check the user and password of \
                 LDR_SMTP_URL, and whether the server needs TLS (?tls=required or smtps://)"
            ))
        }
        Ok(Err(e)) if e.is_permanent() => {
            let mailbox = e
                .status()
                .is_some_and(|c| matches!(u16::from(c), 550 | 551 | 553));
            let what = if mailbox {
                " (refused a recipient)"
            } else {
                ""
            };
            return (
                Outcome::Permanent(format!("SMTP refused permanently{what}: {e}")),
                MailboxRefused(mailbox),
            );
        }
        Ok(Err(e)) => Outcome::Retry(format!("SMTP: {e}")),
        Err(_) => Outcome::Retry(format!(
            "SMTP: no answer within {} s",
            send_timeout.as_secs()
        )),
    };
    (outcome, MailboxRefused(false))
}

/// Whether an SMTP reply code refuses the login rather than the message: 530 (authentication
/// or TLS required), 534 (mechanism too weak), 535 (credentials invalid), 538 (encryption
/// required). Every message would meet it.
pub fn refuses_the_login(code: u16) -> bool {
    matches!(code, 530 | 534 | 535 | 538)
}

/// Writes one claimed notice as `<id>.eml` in `dir` (through a hidden temporary file, synced to
/// disk, and a rename, so a reader never sees half a message); [`write_emls`] syncs the folder
/// before any counts as sent.
fn write_eml(dir: &std::path::Path, from: &str, n: &Claimed) -> Outcome {
    let msg = match message_of(from, n) {
        Ok(m) => m,
        Err(e) => return Outcome::Permanent(e),
    };
    let name = format!("{}.eml", n.id);
    let tmp = dir.join(format!(".{name}.tmp"));
    let written = (|| {
        use std::io::Write;
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&msg.formatted())?;
        f.sync_all()?;
        std::fs::rename(&tmp, dir.join(&name))
    })();
    match written {
        Ok(()) => Outcome::Sent,
        Err(e) => Outcome::Retry(format!("writing .eml: {e}")),
    }
}

/// Writes `batch` as `.eml` files in `dir`, then syncs the folder once, so that the renames are
/// on disk before any notice counts as sent (if that fails, those written are retried).
fn write_emls(dir: &std::path::Path, from: &str, batch: Vec<Claimed>) -> Vec<(Claimed, Outcome)> {
    let mut out: Vec<(Claimed, Outcome)> = batch
        .into_iter()
        .map(|n| {
            let o = write_eml(dir, from, &n);
            (n, o)
        })
        .collect();
    if let Err(e) = std::fs::File::open(dir).and_then(|d| d.sync_all()) {
        for (_, o) in &mut out {
            if matches!(o, Outcome::Sent) {
                *o = Outcome::Retry(format!("syncing {}: {e}", dir.display()));
            }
        }
    }
    out
}

/// Writes a whole batch of `.eml` files in one blocking task: one hand-off to the blocking pool
/// per batch rather than per notice (under load each hand-off waits behind the requests' own
/// database work, and the worker fell far behind the notices being queued).
async fn write_batch(dir: PathBuf, from: String, batch: Vec<Claimed>) -> Vec<(Claimed, Outcome)> {
    let ids: Vec<String> = batch.iter().map(|n| n.id.clone()).collect();
    let res = web::block(move || write_emls(&dir, &from, batch)).await;
    match res {
        Ok(v) => v,
        // The blocking task could not run (or panicked): nothing is recorded for these
        // notices, so their lease runs out and they are claimed again.
        Err(e) => {
            for id in ids {
                tracing::error!(notice_id = %id, error = %e, "cannot write .eml; the lease will expire and it is retried");
            }
            Vec::new()
        }
    }
}

/// Records a failed attempt at one notice; only the lease holder may. It is queued again with
/// exponential backoff, or `failed` when the refusal was permanent or it was the last attempt
/// allowed (`LDR_MAIL_RETRY_BASE_SECONDS`, `LDR_MAIL_MAX_ATTEMPTS`). `n.sent_to` is kept as
/// the recipients it was sent to so far. Returns whether it failed for good.
pub fn record_failure(
    c: &mut DbConn,
    worker: &str,
    n: &Claimed,
    permanent: bool,
    error: &str,
    now: NaiveDateTime,
    (retry_base, max_attempts): (u64, u32),
) -> QueryResult<bool> {
    use crate::db::schema::notices;
    let attempts = n.attempts + 1;
    let give_up = permanent || attempts as u32 >= max_attempts;
    let backoff = (retry_base as i64)
        .saturating_mul(1i64 << (attempts - 1).clamp(0, 16))
        .min(86_400);
    diesel::update(
        notices::table
            .filter(notices::id.eq(&n.id))
            .filter(notices::locked_by.eq(worker)),
    )
    .set((
        notices::status.eq(if give_up { "failed" } else { "queued" }),
        notices::attempts.eq(attempts),
        notices::next_attempt_at.eq(now + ChronoDuration::seconds(backoff)),
        notices::locked_until.eq(None::<NaiveDateTime>),
        notices::last_error.eq(Some(error.chars().take(2000).collect::<String>())),
        notices::sent_to.eq(&n.sent_to),
    ))
    .execute(c)?;
    Ok(give_up)
}

/// After a wake-up, how long the worker lets notices gather before it claims them: under load
/// it claims a batch of many instead of one notice at a time (each claim and each record is a
/// statement on the database the requests need); a notice waits this much longer at most.
pub const GATHER: Duration = Duration::from_millis(20);
/// Sent notices are recorded together at the end of a batch, or as soon as the oldest of them
/// has waited this long for its record (a slow SMTP server does not hold a batch's records back:
/// a crash can only re-send what was accepted in the last second, as at-least-once allows).
pub const RECORD_WITHIN: Duration = Duration::from_secs(1);

/// How many notices to claim next, after a claim of `limit` returned `got` and the batch took
/// `took` from claim to record. While claims come back full and each batch goes quickly, the
/// worker is behind the requests that queue notices: each batch costs it three hand-offs
/// (claim, send, record) that wait behind the requests' own work on a busy machine, so it
/// doubles the claim, up to [`MAX_BATCH`], to carry more notices per hand-off. A claim that was
/// not full (caught up) or a slow batch (an SMTP server taking its time, where a bigger claim
/// would only hold more leases longer) goes back to [`BATCH`].
pub fn next_claim(limit: i64, got: usize, took: Duration) -> i64 {
    if got as i64 >= limit && took < GROW_WITHIN {
        (limit * 2).min(MAX_BATCH)
    } else {
        BATCH
    }
}

/// The worker loop: claim a batch, send each, record the outcomes; when the queue is drained,
/// sleep until woken (or 2 s pass), then let notices gather for [`GATHER`].
pub async fn run(jobs: Jobs, transport: Transport) {
    let worker = format!("worker-{}", uuid::Uuid::new_v4());
    tracing::info!(transport = %transport.describe(), "mail worker started");
    let mut limit = BATCH;
    let lease = Duration::from_secs(jobs.cfg.mail_lease_seconds);
    let send_timeout = Duration::from_secs(jobs.cfg.mail_send_timeout_seconds);
    // How long the worker waits after the transport refused the service as a whole.
    let wait = Duration::from_secs(jobs.cfg.mail_retry_base_seconds.max(1));
    loop {
        let w = worker.clone();
        // Taken before the claim's own `now`, so the lease is never thought longer than it is.
        let started = std::time::Instant::now();
        let batch = jobs
            .db(move |c| claim(c, &w, crate::db::now(), limit, lease).map_err(ServiceError::from))
            .await;
        let batch = match batch {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!(error = %e, "mail worker: cannot claim notices; retrying");
                limit = BATCH;
                actix_web::rt::time::sleep(Duration::from_secs(2)).await;
                continue;
            }
        };
        let got = batch.len();
        let mut drained = (got as i64) < limit;
        let mut sent: Vec<String> = Vec::new();
        match &transport {
            Transport::File(dir) => {
                let from = jobs.cfg.mail_from.clone();
                for (n, outcome) in write_batch(dir.clone(), from, batch).await {
                    match outcome {
                        Outcome::Sent => sent.push(n.id),
                        Outcome::Permanent(e) => {
                            note_failure(&jobs, &worker, n, true, e, None).await
                        }
                        Outcome::Retry(e) => note_failure(&jobs, &worker, n, false, e, None).await,
                        Outcome::Unsent => give_back(&jobs, &worker, vec![n.id]).await,
                        // Files refuse no setting; a failure to write one is a retry.
                        Outcome::Halt(e) => note_failure(&jobs, &worker, n, false, e, None).await,
                    }
                }
            }
            // One notice after another, each only while the lease has time for it.
            Transport::Smtp(_) | Transport::Notify(_) => {
                let mut oldest_unrecorded = std::time::Instant::now();
                let mut rest = batch.into_iter();
                while let Some(n) = rest.next() {
                    // What was sent is recorded before the next send once the oldest of it has
                    // waited RECORD_WITHIN, not after: that send may take its whole timeout.
                    if !sent.is_empty() && oldest_unrecorded.elapsed() >= RECORD_WITHIN {
                        record_batch(&jobs, &worker, std::mem::take(&mut sent)).await;
                    }
                    if !lease_allows_send(started.elapsed(), lease, send_timeout) {
                        let ids: Vec<String> =
                            std::iter::once(n.id).chain(rest.map(|n| n.id)).collect();
                        give_back(&jobs, &worker, ids).await;
                        // Claim again straight away rather than wait for a wake-up.
                        drained = false;
                        break;
                    }
                    let (outcome, sent_to) =
                        deliver(&transport, &jobs, &worker, &n, started, lease, send_timeout).await;
                    match outcome {
                        Outcome::Sent => {
                            if sent.is_empty() {
                                oldest_unrecorded = std::time::Instant::now();
                            }
                            sent.push(n.id);
                            if oldest_unrecorded.elapsed() >= RECORD_WITHIN {
                                record_batch(&jobs, &worker, std::mem::take(&mut sent)).await;
                            }
                        }
                        Outcome::Permanent(e) => {
                            note_failure(&jobs, &worker, n, true, e, sent_to).await
                        }
                        Outcome::Retry(e) => {
                            note_failure(&jobs, &worker, n, false, e, sent_to).await
                        }
                        // The transport refused the service as a whole: this notice and the rest
                        // go back, what was sent is recorded, and the worker waits.
                        Outcome::Halt(e) => {
                            let ids: Vec<String> = rest.map(|n| n.id).collect();
                            halt(&jobs, &worker, n, e, sent_to, wait).await;
                            if !ids.is_empty() {
                                give_back(&jobs, &worker, ids).await;
                            }
                            if !sent.is_empty() {
                                record_batch(&jobs, &worker, std::mem::take(&mut sent)).await;
                            }
                            actix_web::rt::time::sleep(wait).await;
                            drained = false;
                            break;
                        }
                        // The lease ran out part-way through this notice's recipients: it goes
                        // back with whom it was sent to, and the rest of the batch with it.
                        Outcome::Unsent => {
                            let mut ids: Vec<String> = rest.map(|n| n.id).collect();
                            match sent_to.filter(|s| !s.is_empty()) {
                                Some(s) => give_back_part_sent(&jobs, &worker, n.id, s).await,
                                None => ids.insert(0, n.id),
                            }
                            if !ids.is_empty() {
                                give_back(&jobs, &worker, ids).await;
                            }
                            drained = false;
                            break;
                        }
                    }
                }
            }
        }
        if !sent.is_empty() {
            record_batch(&jobs, &worker, sent).await;
        }
        limit = next_claim(limit, got, started.elapsed());
        if drained {
            let wake = jobs.mail_wakeup.clone();
            tokio::select! {
                _ = wake.notified() => actix_web::rt::time::sleep(GATHER).await,
                _ = actix_web::rt::time::sleep(Duration::from_secs(2)) => {}
            }
        }
    }
}

async fn record_batch(jobs: &Jobs, worker: &str, ids: Vec<String>) {
    let w = worker.to_string();
    let ids = std::sync::Arc::new(ids);
    let ids2 = ids.clone();
    let res = jobs
        .db(move |c| record_sent(c, &w, &ids2, crate::db::now()).map_err(ServiceError::from))
        .await;
    match res {
        Ok(n) => {
            for id in ids.iter() {
                tracing::info!(notice_id = %id, "notice sent");
            }
            if n < ids.len() {
                tracing::warn!(
                    recorded = n,
                    sent = ids.len(),
                    "notices were sent after their lease ran out; another worker may send them again"
                );
            }
        }
        Err(e) => {
            for id in ids.iter() {
                tracing::error!(notice_id = %id, error = %e, "cannot record notice outcome; the lease will expire and it is retried");
            }
        }
    }
}

/// [`release_part_sent`] for one notice, logged as [`give_back`] is.
async fn give_back_part_sent(jobs: &Jobs, worker: &str, id: String, sent_to: Vec<String>) {
    let w = worker.to_string();
    let id2 = id.clone();
    let res = jobs
        .db(move |c| release_part_sent(c, &w, &id2, &sent_to).map_err(ServiceError::from))
        .await;
    match res {
        Ok(_) => tracing::warn!(notice_id = %id,
            "mail worker: the lease left no time to send a notice to all its recipients; it was given back, with whom it was sent to, to be claimed again"),
        Err(e) => tracing::error!(notice_id = %id, error = %e,
            "cannot give back a notice sent to some of its recipients; its lease will expire and it is retried (those recipients may get it twice)"),
    }
}

/// [`release`]s the notices of a batch that its lease no longer leaves time to send.
async fn give_back(jobs: &Jobs, worker: &str, ids: Vec<String>) {
    let w = worker.to_string();
    let ids = std::sync::Arc::new(ids);
    let ids2 = ids.clone();
    let res = jobs
        .db(move |c| release(c, &w, &ids2).map_err(ServiceError::from))
        .await;
    match res {
        Ok(n) => tracing::warn!(
            released = n,
            "mail worker: the mail transport is slow; notices the lease left no time to send were given back to be claimed again"
        ),
        Err(e) => {
            for id in ids.iter() {
                tracing::error!(notice_id = %id, error = %e, "cannot give back an unsent notice; its lease will expire and it is retried");
            }
        }
    }
}

/// Gives back a notice the transport refused for the service's own setting
/// ([`release_halted`]) and raises the alarm: every notice waits until the setting is fixed.
async fn halt(
    jobs: &Jobs,
    worker: &str,
    mut n: Claimed,
    error: String,
    sent_to: Option<Vec<String>>,
    wait: Duration,
) {
    if let Some(s) = sent_json(sent_to.as_deref()) {
        n.sent_to = Some(s);
    }
    let wait = wait.as_secs();
    tracing::error!(notice_id = %n.id, error = %error,
        "ALERT: {error}. Every notice would meet this, so none is failed for it: they stay queued, and the mail worker tries again every {wait} s");
    let (w, e) = (worker.to_string(), error.clone());
    let id = n.id.clone();
    if let Err(err) = jobs
        .db(move |c| release_halted(c, &w, &n, &e).map_err(ServiceError::from))
        .await
    {
        tracing::error!(notice_id = %id, error = %err, "cannot give back a notice; its lease will expire and it is retried");
    }
}

async fn note_failure(
    jobs: &Jobs,
    worker: &str,
    mut n: Claimed,
    permanent: bool,
    error: String,
    sent_to: Option<Vec<String>>,
) {
    if let Some(s) = sent_json(sent_to.as_deref()) {
        n.sent_to = Some(s);
    }
    let retry = (jobs.cfg.mail_retry_base_seconds, jobs.cfg.mail_max_attempts);
    let (w, id, e) = (worker.to_string(), n.id.clone(), error.clone());
    let res = jobs
        .db(move |c| {
            record_failure(c, &w, &n, permanent, &e, crate::db::now(), retry)
                .map_err(ServiceError::from)
        })
        .await;
    match res {
        Ok(true) => {
            tracing::error!(notice_id = %id, error = %error,
            "ALERT: notice could not be delivered and has FAILED; it needs attention")
        }
        Ok(false) => {
            tracing::warn!(notice_id = %id, error = %error, "notice delivery failed; will retry")
        }
        Err(e) => {
            tracing::error!(notice_id = %id, error = %e, "cannot record notice outcome; the lease will expire and it is retried")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAST: Duration = Duration::from_millis(5);

    #[test]
    fn an_smtp_password_is_read_as_typed_in_the_url() {
        let url = url::Url::parse("smtp://relay%40example.nhs.uk:a+b%2Bc%20d@mail:587").unwrap();
        assert_eq!(percent_decode(url.username()), "relay@example.nhs.uk");
        assert_eq!(percent_decode(url.password().unwrap()), "a+b+c d");
    }

    #[test]
    fn only_a_refused_login_halts_the_worker() {
        for code in [530, 534, 535, 538] {
            assert!(refuses_the_login(code), "{code}");
        }
        for code in [421, 450, 451, 500, 550, 552, 553, 554] {
            assert!(!refuses_the_login(code), "{code}");
        }
    }

    #[test]
    fn a_worker_behind_claims_more_each_time_up_to_the_cap() {
        let mut limit = BATCH;
        let mut seen = vec![limit];
        for _ in 0..6 {
            limit = next_claim(limit, limit as usize, FAST);
            seen.push(limit);
        }
        assert_eq!(seen, [20, 40, 80, 160, 160, 160, 160]);
    }

    #[test]
    fn a_send_starts_only_while_the_lease_has_its_bound_and_the_margin_left() {
        let s = Duration::from_secs;
        let (lease, send) = (s(LEASE_SECONDS as u64), s(SEND_TIMEOUT_SECONDS));
        let last_start = lease - send - s(RECORD_MARGIN_SECONDS);
        assert_eq!(last_start, s(25));
        assert!(lease_allows_send(Duration::ZERO, lease, send));
        assert!(lease_allows_send(last_start, lease, send));
        assert!(!lease_allows_send(last_start + FAST, lease, send));
        assert!(!lease_allows_send(lease, lease, send));
        // The shortest lease the configuration accepts still leaves time to start.
        assert!(lease_allows_send(s(4), s(12), s(2)));
        assert!(!lease_allows_send(s(6), s(12), s(2)));
    }

    #[test]
    fn a_claim_not_full_or_a_slow_batch_goes_back_to_the_first_size() {
        // Caught up: fewer came back than were asked for.
        assert_eq!(next_claim(80, 79, FAST), BATCH);
        assert_eq!(next_claim(BATCH, 0, FAST), BATCH);
        // Full, but slow (an SMTP server taking its time): no more leases held at once.
        assert_eq!(next_claim(80, 80, GROW_WITHIN), BATCH);
        assert_eq!(
            next_claim(BATCH, BATCH as usize, Duration::from_secs(3)),
            BATCH
        );
        // Full and fast: the next claim doubles.
        assert_eq!(
            next_claim(BATCH, BATCH as usize, GROW_WITHIN - FAST),
            2 * BATCH
        );
    }
}
