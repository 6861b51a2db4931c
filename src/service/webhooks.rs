//! Webhook endpoints: who may register, list, delete and rotate them (an organisation's own
//! users for its endpoints; an admin for any), and what an attempt at a delivery records,
//! including disabling an endpoint that has failed for too long and telling its organisation
//! by a notice queued in the same transaction.

use super::{Caller, ServiceError};
use crate::db::outbox::{self, NewNotice};
use crate::db::webhooks::{self as store, Attempt, AttemptView, ClaimedDelivery, WebhookRow};
use crate::db::{directory, write_tx, DbConn};
use crate::domain::roles::Role;
use crate::webhooks::sign::{self, SecretBox, ROTATION_OVERLAP_HOURS};
use crate::webhooks::target;
use chrono::{Duration, NaiveDateTime};

/// The most endpoints one organisation may have.
pub const MAX_PER_ORGANISATION: i64 = 10;
/// The longest description.
pub const MAX_DESCRIPTION: usize = 500;
/// How many attempts `GET /webhooks/{id}/deliveries` lists.
pub const RECENT_ATTEMPTS: i64 = 100;

/// Checks a URL to register: its form, then (resolving its host, so this blocks) its
/// addresses. 422 on `url` with the reason.
pub fn check_target(url: &str, allow_private: bool) -> Result<String, ServiceError> {
    let u = target::check_url(url, allow_private).map_err(|m| ServiceError::field("url", m))?;
    target::check_addresses(&u, allow_private).map_err(|m| ServiceError::field("url", m))?;
    Ok(u.to_string())
}

/// Whether `caller` may manage the endpoints of `org`.
fn may_manage(caller: &Caller, org: &str) -> bool {
    caller.has(Role::Admin) || caller.org_id == org
}

/// The endpoint `id` if `caller` may manage it; otherwise not found (never revealing which).
fn owned(c: &mut DbConn, caller: &Caller, id: &str) -> Result<WebhookRow, ServiceError> {
    match store::find(c, id)? {
        Some(w) if may_manage(caller, &w.organisation_id) => Ok(w),
        _ => Err(ServiceError::NotFound),
    }
}

/// A new endpoint of `org` (the caller's own organisation when `None`) at `url` (already
/// checked by [`check_target`]). Returns it with its secret, in clear this once.
pub fn register(
    c: &mut DbConn,
    sealer: &SecretBox,
    caller: &Caller,
    org: Option<&str>,
    url: &str,
    description: Option<&str>,
) -> Result<(WebhookRow, String), ServiceError> {
    let org = org.unwrap_or(&caller.org_id).to_string();
    if !may_manage(caller, &org) {
        return Err(ServiceError::Forbidden(
            "You may register webhooks only for your own organisation; leave organisation_id \
             out, or ask an admin."
                .into(),
        ));
    }
    let description = description.unwrap_or("").trim().to_string();
    if description.chars().count() > MAX_DESCRIPTION {
        return Err(ServiceError::field(
            "description",
            format!("must be at most {MAX_DESCRIPTION} characters"),
        ));
    }
    if description.chars().any(|ch| ch.is_control()) {
        return Err(ServiceError::field(
            "description",
            "must not contain control characters (line breaks included)",
        ));
    }
    let secret = sign::new_secret().map_err(ServiceError::Internal)?;
    let id = uuid::Uuid::new_v4().to_string();
    let sealed = sealer.seal(&id, &secret).map_err(ServiceError::Internal)?;
    write_tx(c, |c| {
        if directory::orgs(c, &[&org])?.is_empty() {
            return Err(ServiceError::field(
                "organisation_id",
                "does not name an organisation",
            ));
        }
        let count = store::list(c, Some(&org))?.len() as i64;
        if count >= MAX_PER_ORGANISATION {
            return Err(ServiceError::Conflict {
                code: "too_many_webhooks",
                detail: format!(
                    "An organisation may have at most {MAX_PER_ORGANISATION} webhook endpoints; \
                     delete one (DELETE /webhooks/{{id}}) first."
                ),
            });
        }
        let row = WebhookRow {
            id: id.clone(),
            organisation_id: org.clone(),
            url: url.to_string(),
            description,
            secret: sealed,
            previous_secret: None,
            previous_secret_until: None,
            active: true,
            failing_since: None,
            disabled_at: None,
            disabled_reason: None,
            created_by: caller.user_id.clone(),
            created_at: crate::db::now(),
        };
        store::insert(c, &row)?;
        Ok((row, secret))
    })
}

/// The endpoints `caller` may manage: its organisation's (every one for an admin), each with
/// how many deliveries are pending.
pub fn list(c: &mut DbConn, caller: &Caller) -> Result<Vec<(WebhookRow, i64)>, ServiceError> {
    let org = (!caller.has(Role::Admin)).then_some(caller.org_id.as_str());
    let rows = store::list(c, org)?;
    rows.into_iter()
        .map(|w| {
            let pending = store::pending_count(c, &w.id)?;
            Ok((w, pending))
        })
        .collect()
}

/// Deletes an endpoint with its deliveries (pending ones are not sent).
pub fn delete(c: &mut DbConn, caller: &Caller, id: &str) -> Result<(), ServiceError> {
    write_tx(c, |c| {
        owned(c, caller, id)?;
        store::delete(c, id)?;
        Ok(())
    })
}

/// A new secret for the endpoint; the current one keeps signing alongside for
/// [`ROTATION_OVERLAP_HOURS`]. A rotation during the overlap of an earlier one ends that
/// earlier secret's overlap at once (two signatures at most). Returns the endpoint, the new
/// secret in clear, and when the previous one stops signing.
pub fn rotate(
    c: &mut DbConn,
    sealer: &SecretBox,
    caller: &Caller,
    id: &str,
) -> Result<(WebhookRow, String), ServiceError> {
    let secret = sign::new_secret().map_err(ServiceError::Internal)?;
    let sealed = sealer.seal(id, &secret).map_err(ServiceError::Internal)?;
    write_tx(c, |c| {
        let w = owned(c, caller, id)?;
        let until = crate::db::now() + Duration::hours(ROTATION_OVERLAP_HOURS);
        store::rotate(c, id, &sealed, &w.secret, until)?;
        let w = store::find(c, id)?.ok_or(ServiceError::NotFound)?;
        Ok((w, secret))
    })
}

/// The endpoint and its last [`RECENT_ATTEMPTS`] attempts, newest first.
pub fn deliveries(
    c: &mut DbConn,
    caller: &Caller,
    id: &str,
) -> Result<(WebhookRow, Vec<AttemptView>), ServiceError> {
    let w = owned(c, caller, id)?;
    let attempts = store::recent_attempts(c, id, RECENT_ATTEMPTS)?;
    Ok((w, attempts))
}

/// What recording an attempt came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// Recorded; the endpoint stays as it was.
    Yes,
    /// Recorded, and the endpoint was disabled (a notice to its organisation queued).
    Disabled,
    /// Not recorded: the lease ran out and another worker took the delivery over.
    LeaseLost,
}

/// One attempt to record: the delivery, its outcome, and when to retry it if it failed.
pub type Outcome = (ClaimedDelivery, Attempt, NaiveDateTime);

/// Records a batch of attempts in one transaction, each as [`record_one`] says; answers in
/// the batch's order.
pub fn record_attempts(
    c: &mut DbConn,
    worker: &str,
    outcomes: &[Outcome],
    disable_after: Duration,
) -> Result<Vec<Recorded>, ServiceError> {
    write_tx(c, |c| {
        outcomes
            .iter()
            .map(|(d, a, retry_at)| record_one(c, worker, d, a, *retry_at, disable_after))
            .collect()
    })
}

/// Records an attempt at `d`: the delivery's outcome and the attempt
/// (`db::webhooks::record_attempt`), the endpoint's failing spell, and, when it has failed
/// for `disable_after` or longer, the endpoint disabled, its pending deliveries given up and
/// a notice queued to its organisation. Runs inside the caller's transaction.
fn record_one(
    c: &mut DbConn,
    worker: &str,
    d: &ClaimedDelivery,
    a: &Attempt,
    retry_at: NaiveDateTime,
    disable_after: Duration,
) -> Result<Recorded, ServiceError> {
    if !store::record_attempt(c, worker, d, a, retry_at)? {
        return Ok(Recorded::LeaseLost);
    }
    let Some(since) = store::note_health(c, &d.webhook_id, a.delivered, a.at)? else {
        return Ok(Recorded::Yes);
    };
    if a.at - since < disable_after {
        return Ok(Recorded::Yes);
    }
    let reason = format!(
        "Every delivery failed from {} to {} (the last: {}).",
        since.and_utc().format("%Y-%m-%d %H:%M UTC"),
        a.at.and_utc().format("%Y-%m-%d %H:%M UTC"),
        a.error
            .clone()
            .or_else(|| a.status_code.map(|s| format!("HTTP {s}")))
            .unwrap_or_else(|| "no answer".into())
    );
    if !store::disable(c, &d.webhook_id, &reason, a.at)? {
        return Ok(Recorded::Yes);
    }
    queue_disabled_notice(c, &d.webhook_id, &reason, a.at)?;
    Ok(Recorded::Disabled)
}

/// Queues the notice that tells an organisation its endpoint was disabled.
fn queue_disabled_notice(
    c: &mut DbConn,
    webhook_id: &str,
    reason: &str,
    now: NaiveDateTime,
) -> Result<(), ServiceError> {
    let Some(w) = store::find(c, webhook_id)? else {
        return Ok(());
    };
    let Some(org) = directory::orgs(c, &[&w.organisation_id])?.pop() else {
        return Ok(());
    };
    if org.email.trim().is_empty() {
        tracing::warn!(organisation_id = %org.id, webhook_id,
            "a webhook endpoint was disabled but its organisation has no e-mail address to tell");
        return Ok(());
    }
    let (subject, text, html) = disabled_notice(&org.name, &w.url, webhook_id, reason);
    let recipients = serde_json::to_string(&[org.email.trim()])
        .map_err(|e| ServiceError::Internal(e.to_string()))?;
    let id = uuid::Uuid::new_v4().to_string();
    outbox::insert_notice(
        c,
        &NewNotice {
            id: &id,
            dispute_id: None,
            template: "webhook_disabled",
            recipients: &recipients,
            subject: &subject,
            body_text: &text,
            body_html: &html,
            ics: None,
            ics_method: None,
            attachment_name: None,
            attachment: None,
            queued_at: now,
        },
    )?;
    Ok(())
}

/// The subject, text and HTML of the notice that an endpoint was disabled. Not a case
/// notice (no case reference), so not one of `email_templates/`'s.
pub fn disabled_notice(
    org_name: &str,
    url: &str,
    webhook_id: &str,
    reason: &str,
) -> (String, String, String) {
    let subject = "Your webhook endpoint was disabled".to_string();
    let text = format!(
        "Local Dispute Resolution service\n\
         ------------------------------------------------------------\n\
         Webhook endpoint disabled\n\n\
         The webhook endpoint of {org_name} at\n{url}\n(id {webhook_id}) has been disabled.\n\n\
         {reason}\n\n\
         What you need to do\n\
         Fix the receiver, then register it again (POST /api/v1/webhooks)\n\
         and delete this one (DELETE /api/v1/webhooks/{webhook_id}).\n\
         Events while it was disabled were not sent: fetch your disputes\n\
         (GET /api/v1/disputes) to catch up.\n"
    );
    let e = |s: &str| handlebars::html_escape(s);
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"en-GB\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>Webhook endpoint disabled</title>\n</head>\n<body>\n\
         <h1>Webhook endpoint disabled</h1>\n\
         <p>The webhook endpoint of {} at <code>{}</code> (id {}) has been disabled.</p>\n\
         <p>{}</p>\n<h2>What you need to do</h2>\n\
         <p>Fix the receiver, then register it again (<code>POST /api/v1/webhooks</code>) and \
         delete this one (<code>DELETE /api/v1/webhooks/{}</code>). Events while it was \
         disabled were not sent: fetch your disputes (<code>GET /api/v1/disputes</code>) to \
         catch up.</p>\n</body>\n</html>\n",
        e(org_name),
        e(url),
        e(webhook_id),
        e(reason),
        e(webhook_id)
    );
    (subject, text, html)
}
