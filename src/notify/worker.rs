//! Delivery: claims due notice rows with a lease, sends them, records the outcome.
//!
//! - At least once: a row is `sent` only after the transport accepted it; a worker that dies
//!   mid-send leaves a lease that expires, and another worker takes the row over. Each message
//!   carries a Message-ID derived from the notice id, so a receiver can drop a repeat.
//! - Never lost: failures retry with exponential backoff from `LDR_MAIL_RETRY_BASE_SECONDS`
//!   up to `LDR_MAIL_MAX_ATTEMPTS`, then `failed` with the error kept and an error in the log;
//!   a permanent SMTP 5xx fails at once.
//! - Replicas on one PostgreSQL claim with `FOR UPDATE SKIP LOCKED`, so two never hold a row.

use super::message::{build_message, message_id_for};
use super::templates::Rendered;
use crate::api::error::ApiError;
use crate::api::AppState;
use crate::config::Config;
use crate::db::{write_tx, DbConn};
use actix_web::web;
use chrono::{Duration as ChronoDuration, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Nullable, Text, Timestamp};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use std::path::PathBuf;
use std::time::Duration;

pub const LEASE_SECONDS: i64 = 120;
pub const BATCH: i64 = 20;
/// Upper bound on one whole SMTP delivery (connect, TLS, AUTH, MAIL, RCPT, DATA, QUIT); well
/// under the lease, so a claimed notice is recorded before another worker may take it over.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(90);

pub enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    File(PathBuf),
}

impl Transport {
    /// SMTP when `LDR_SMTP_URL` is set (`smtp://` with opportunistic STARTTLS, `?tls=required`
    /// to insist on it, `?tls=none` for a local catcher; `smtps://` implicit TLS; user and
    /// password from the URL), otherwise `.eml` files in `LDR_MAIL_DIR`.
    pub fn from_config(cfg: &Config) -> Result<Transport, String> {
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
            Transport::File(p) => format!("files in {}", p.display()),
        }
    }
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

#[derive(Debug, Clone, QueryableByName)]
pub struct Claimed {
    #[diesel(sql_type = Text)]
    pub id: String,
    #[diesel(sql_type = Text)]
    pub recipients: String,
    #[diesel(sql_type = Text)]
    pub subject: String,
    #[diesel(sql_type = Text)]
    pub body_text: String,
    #[diesel(sql_type = Text)]
    pub body_html: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub ics: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub ics_method: Option<String>,
    #[diesel(sql_type = Integer)]
    pub attempts: i32,
}

const CLAIM_INNER: &str =
    "SELECT id FROM notices WHERE status = 'queued' AND next_attempt_at <= $1 \
     AND (locked_until IS NULL OR locked_until < $1) ORDER BY next_attempt_at, id LIMIT $2";
const CLAIM_RETURNING: &str =
    "RETURNING id, recipients, subject, body_text, body_html, ics, ics_method, attempts";

/// Claims up to `limit` due notices for `worker` with a lease.
pub fn claim(
    c: &mut DbConn,
    worker: &str,
    now: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<Claimed>> {
    let until = now + ChronoDuration::seconds(LEASE_SECONDS);
    write_tx(c, |c| {
        match c {
        DbConn::Pg(pg) => diesel::sql_query(format!(
            "UPDATE notices SET locked_until = $3, locked_by = $4 WHERE id IN ({CLAIM_INNER} FOR UPDATE SKIP LOCKED) {CLAIM_RETURNING}"
        ))
        .bind::<Timestamp, _>(now)
        .bind::<BigInt, _>(limit)
        .bind::<Timestamp, _>(until)
        .bind::<Text, _>(worker)
        .load(pg),
        // SQLite reads `$N` as a *named* parameter, numbered by first appearance ($3 would be
        // bound first): `?N` is its positional form.
        DbConn::Sqlite(sq) => diesel::sql_query(format!(
            "UPDATE notices SET locked_until = $3, locked_by = $4 WHERE id IN ({CLAIM_INNER}) {CLAIM_RETURNING}"
        ).replace('$', "?"))
        .bind::<Timestamp, _>(now)
        .bind::<BigInt, _>(limit)
        .bind::<Timestamp, _>(until)
        .bind::<Text, _>(worker)
        .load(sq),
    }
    })
}

pub enum Outcome {
    Sent,
    Retry(String),
    Permanent(String),
}

/// Sends one claimed notice through the transport.
pub async fn deliver(transport: &Transport, from: &str, n: &Claimed) -> Outcome {
    let to: Vec<String> = serde_json::from_str(&n.recipients).unwrap_or_default();
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
    let msg = match build_message(from, &to, &rendered, ics, &message_id_for(id, from)) {
        Ok(m) => m,
        Err(e) => return Outcome::Permanent(format!("cannot build the message: {e}")),
    };
    match transport {
        // Each SMTP command has a 30 s timeout; the whole conversation another bound, so a
        // server that stops answering (e.g. never replies to QUIT) cannot hold the worker.
        Transport::Smtp(t) => match tokio::time::timeout(SEND_TIMEOUT, t.send(msg)).await {
            Ok(Ok(_)) => Outcome::Sent,
            Ok(Err(e)) if e.is_permanent() => {
                Outcome::Permanent(format!("SMTP refused permanently: {e}"))
            }
            Ok(Err(e)) => Outcome::Retry(format!("SMTP: {e}")),
            Err(_) => Outcome::Retry(format!(
                "SMTP: no answer within {} s",
                SEND_TIMEOUT.as_secs()
            )),
        },
        Transport::File(dir) => {
            let bytes = msg.formatted();
            let dir = dir.clone();
            let name = format!("{}.eml", n.id);
            let res = web::block(move || -> std::io::Result<()> {
                let tmp = dir.join(format!(".{name}.tmp"));
                std::fs::write(&tmp, &bytes)?;
                std::fs::rename(&tmp, dir.join(&name))
            })
            .await;
            match res {
                Ok(Ok(())) => Outcome::Sent,
                Ok(Err(e)) => Outcome::Retry(format!("writing .eml: {e}")),
                Err(e) => Outcome::Retry(format!("writing .eml: {e}")),
            }
        }
    }
}

/// Records the outcome of one attempt; only the lease holder may.
pub fn record(
    c: &mut DbConn,
    worker: &str,
    n: &Claimed,
    outcome: &Outcome,
    now: NaiveDateTime,
    retry_base: u64,
    max_attempts: u32,
) -> QueryResult<&'static str> {
    use crate::db::schema::notices;
    let attempts = n.attempts + 1;
    let mine = notices::table
        .filter(notices::id.eq(&n.id))
        .filter(notices::locked_by.eq(worker));
    let status = match outcome {
        Outcome::Sent => {
            diesel::update(mine)
                .set((
                    notices::status.eq("sent"),
                    notices::sent_at.eq(now),
                    notices::attempts.eq(attempts),
                    notices::locked_until.eq(None::<NaiveDateTime>),
                    notices::last_error.eq(None::<String>),
                ))
                .execute(c)?;
            "sent"
        }
        Outcome::Permanent(e) | Outcome::Retry(e) => {
            let give_up =
                matches!(outcome, Outcome::Permanent(_)) || attempts as u32 >= max_attempts;
            let backoff = (retry_base as i64)
                .saturating_mul(1i64 << (attempts - 1).clamp(0, 16))
                .min(86_400);
            diesel::update(mine)
                .set((
                    notices::status.eq(if give_up { "failed" } else { "queued" }),
                    notices::attempts.eq(attempts),
                    notices::next_attempt_at.eq(now + ChronoDuration::seconds(backoff)),
                    notices::locked_until.eq(None::<NaiveDateTime>),
                    notices::last_error.eq(Some(e.chars().take(2000).collect::<String>())),
                ))
                .execute(c)?;
            if give_up {
                "failed"
            } else {
                "queued"
            }
        }
    };
    Ok(status)
}

/// The worker loop: claim, send, record; sleep until woken or 2 s pass when idle.
pub async fn run(state: web::Data<AppState>, transport: Transport) {
    let worker = format!("worker-{}", uuid::Uuid::new_v4());
    tracing::info!(transport = %transport.describe(), "mail worker started");
    loop {
        let w = worker.clone();
        let batch = state
            .db(move |c| claim(c, &w, crate::db::now(), BATCH).map_err(ApiError::from))
            .await;
        let batch = match batch {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!(error = %e, "mail worker: cannot claim notices; retrying");
                actix_web::rt::time::sleep(Duration::from_secs(2)).await;
                continue;
            }
        };
        if batch.is_empty() {
            let wake = state.mail_wakeup.clone();
            tokio::select! {
                _ = wake.notified() => {}
                _ = actix_web::rt::time::sleep(Duration::from_secs(2)) => {}
            }
            continue;
        }
        for n in batch {
            let outcome = deliver(&transport, &state.cfg.mail_from, &n).await;
            let (w, n2) = (worker.clone(), n.clone());
            let (base, max) = (
                state.cfg.mail_retry_base_seconds,
                state.cfg.mail_max_attempts,
            );
            let err = match &outcome {
                Outcome::Sent => None,
                Outcome::Retry(e) | Outcome::Permanent(e) => Some(e.clone()),
            };
            let res = state
                .db(move |c| {
                    record(c, &w, &n2, &outcome, crate::db::now(), base, max)
                        .map_err(ApiError::from)
                })
                .await;
            match (res, err) {
                (Ok("sent"), _) => tracing::info!(notice_id = %n.id, "notice sent"),
                (Ok("failed"), e) => {
                    tracing::error!(notice_id = %n.id, error = %e.unwrap_or_default(),
                    "ALERT: notice could not be delivered and has FAILED; it needs attention")
                }
                (Ok(_), e) => {
                    tracing::warn!(notice_id = %n.id, error = %e.unwrap_or_default(), "notice delivery failed; will retry")
                }
                (Err(e), _) => {
                    tracing::error!(notice_id = %n.id, error = %e, "cannot record notice outcome; the lease will expire and it is retried")
                }
            }
        }
    }
}
