//! Filing a dispute (`POST /disputes`): the body checked (`domain::filing`), the idempotency
//! key honoured, the parties and their LMC looked up, and the new dispute written with the
//! first event of its history and its notice, in one write transaction.

use super::limits::{Action, Limits};
use super::notices::{self, Parties};
use super::{decode, Caller, Ctx, ServiceError};
use crate::db::directory::OrgRow;
use crate::db::disputes::{self, DisputeRow, EventRow};
use crate::db::transition;
use crate::db::{directory, now, write_tx, DbConn};
use crate::domain::dispute::Dispute;
use crate::domain::filing::{self as rules, Filing};
use crate::domain::notices as intents;
use crate::domain::roles::Role;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Who may file: a practice user or a commissioner (of the appellant organisation, which the
/// body must name).
const FILERS: [Role; 2] = [Role::PracticeUser, Role::Commissioner];

/// A dispute filed now, or the one an earlier request with the same idempotency key filed.
#[derive(Debug)]
pub struct Filed {
    pub dispute: Dispute,
    pub parties: Parties,
    /// Filed by this request (not a replay of an earlier one).
    pub created: bool,
}

/// The `Idempotency-Key` of a request as sent: 1 to 200 visible ASCII characters (as an HTTP
/// header value reads), surrounding blanks ignored.
fn idempotency_key(raw: &[u8]) -> Result<String, ServiceError> {
    let visible = raw.iter().all(|b| *b == b'\t' || (32..127).contains(b));
    if !visible {
        return Err(ServiceError::field(
            "Idempotency-Key",
            "must be visible ASCII",
        ));
    }
    let key = String::from_utf8_lossy(raw).trim().to_string();
    if key.is_empty() || key.len() > 200 {
        return Err(ServiceError::field(
            "Idempotency-Key",
            "must be 1 to 200 characters",
        ));
    }
    Ok(key)
}

/// A filing that passed every check made before anything is read or written: what [`file`]
/// takes.
pub struct Admissible {
    /// The idempotency key, checked.
    key: Option<String>,
    filing: Filing,
}

/// The checks made before anything is read or written: the caller's role, the idempotency
/// key (`key`, the raw header value) and every field. The API makes them before counting a
/// filing against the caller's hourly limit, so that a form sent back with mistakes does not
/// use it up.
pub fn admissible(
    ctx: &Ctx,
    caller: &Caller,
    key: Option<&[u8]>,
    body: &Value,
) -> Result<Admissible, ServiceError> {
    if !FILERS.iter().any(|r| caller.has(*r)) {
        return Err(ServiceError::Forbidden(
            "This action needs the role practice_user or commissioner.".into(),
        ));
    }
    let key = key.map(idempotency_key).transpose()?;
    let obj = body
        .as_object()
        .ok_or_else(|| ServiceError::Malformed("The body must be a JSON object.".into()))?;
    let filing = Filing::parse(obj, &caller.org_id, ctx.today).map_err(ServiceError::Fields)?;
    Ok(Admissible { key, filing })
}

impl Admissible {
    /// The filing as read.
    pub fn filing(&self) -> &Filing {
        &self.filing
    }
}

/// What a filing comes to, read from the directory as [`file`] reads it: the other party and
/// the LMC that will be told.
#[derive(Debug)]
pub struct Checked {
    pub respondent: OrgRow,
    pub lmc: OrgRow,
}

/// Checks `admitted` against the directory as [`file`] would (the other party is one the
/// caller's organisation may be in dispute with; an LMC covers the practice's area) and
/// writes nothing: the pages' "Check your answers" before a dispute is filed.
pub fn check(c: &mut DbConn, admitted: &Admissible) -> Result<Checked, ServiceError> {
    let prepared = prepare(c, &admitted.filing)?;
    Ok(Checked {
        respondent: prepared.respondent,
        lmc: prepared.lmc,
    })
}

/// The organisations of a filing, read and checked.
struct Prepared {
    appellant: OrgRow,
    respondent: OrgRow,
    sides: rules::Sides,
    lmc: OrgRow,
}

/// The parties and the LMC of `filing`, read and checked (inside the caller's transaction,
/// when it files).
fn prepare(c: &mut DbConn, filing: &Filing) -> Result<Prepared, ServiceError> {
    let mut orgs = directory::orgs(c, &[&filing.appellant_id, &filing.respondent_id])?;
    let mut take = |field: &str, id: &str| {
        orgs.iter()
            .position(|o| o.id == id)
            .map(|i| orgs.swap_remove(i))
            .ok_or_else(|| ServiceError::field(field, "does not name an organisation"))
    };
    let appellant = take("appellant_id", &filing.appellant_id)?;
    let respondent = take("respondent_id", &filing.respondent_id)?;
    let internal = |e: String| ServiceError::Internal(format!("filing: {e}"));
    let sides = rules::sides(
        &appellant.to_org().map_err(internal)?,
        &respondent.to_org().map_err(internal)?,
    )
    .map_err(|p| ServiceError::Fields(vec![p]))?;
    // Without an LMC no mediator could see the case and it would stick at stage 1.
    let Some(lmc) = directory::lmc_of_area(c, &sides.lmc_area)? else {
        return Err(ServiceError::rule(
            "no_lmc",
            format!(
                "No LMC covers {:?}, the area of the practice: no mediator could take this \
                 dispute. Ask an admin to correct the practice's area \
                 (PATCH /organisations/{{id}}) or to add the LMC, then file again.",
                sides.lmc_area
            ),
        ));
    };
    Ok(Prepared {
        appellant,
        respondent,
        sides,
        lmc,
    })
}

/// Files a dispute as `caller`: the API's `POST /disputes` and the filing page alike. Each
/// filing e-mails the respondent and the LMC, so it is throttled per user and organisation
/// (`limits`) before anything is written; a filing refused for its role or fields is refused
/// first, and does not count, nor does the repeat of one that filed.
pub fn file_throttled(
    limits: &Limits,
    c: &mut DbConn,
    ctx: &Ctx,
    caller: &Caller,
    key: Option<&[u8]>,
    body: &Value,
) -> Result<Filed, ServiceError> {
    let admitted = admissible(ctx, caller, key, body)?;
    // A repeat of a request that filed (a double click, a retry) files nothing: it does not
    // count, so near the limit it still answers with the dispute the first one filed.
    let repeat = match &admitted.key {
        Some(k) => transition::prior_filing(c, &caller.user_id, k)?.is_some(),
        None => false,
    };
    if !repeat {
        limits.check(Action::File, &caller.user_id, &caller.org_id)?;
    }
    file(c, ctx, caller, admitted, body)
}

/// Files the dispute `body` describes, as `caller`, once [`admissible`] has said it is. With an
/// idempotency key, a repeat of the same request returns the dispute the first one filed, and
/// the same key with another body is refused.
pub fn file(
    c: &mut DbConn,
    ctx: &Ctx,
    caller: &Caller,
    admitted: Admissible,
    body: &Value,
) -> Result<Filed, ServiceError> {
    let Admissible { key, filing } = admitted;
    let hash = hex::encode(Sha256::digest(body.to_string().as_bytes()));
    write_tx(c, |c| {
        if let Some(k) = &key {
            if let Some((h, id)) = transition::prior_filing(c, &caller.user_id, k)? {
                if h != hash {
                    return Err(ServiceError::Conflict {
                        code: "idempotency_key_reused",
                        detail: "This Idempotency-Key was used with a different body.".into(),
                    });
                }
                let row = disputes::find(c, &id)?.ok_or(ServiceError::NotFound)?;
                let dispute = decode(row)?;
                let parties = Parties::of(c, &dispute)?;
                return Ok(Filed {
                    dispute,
                    parties,
                    created: false,
                });
            }
        }
        file_new(c, ctx, caller, filing, key.as_deref(), &hash)
    })
    .map_err(|e| match e {
        // Two requests with one key at once on PostgreSQL: the loser is told to retry, and
        // its retry returns the winner's dispute.
        ServiceError::Db(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _))
            if key.is_some() =>
        {
            ServiceError::Conflict {
                code: "idempotency_conflict",
                detail: "A request with this Idempotency-Key is in progress; retry.".into(),
            }
        }
        other => other,
    })
}

/// The parties, their LMC and the new dispute, written (inside the caller's transaction).
fn file_new(
    c: &mut DbConn,
    ctx: &Ctx,
    caller: &Caller,
    filing: Filing,
    key: Option<&str>,
    hash: &str,
) -> Result<Filed, ServiceError> {
    let Prepared {
        appellant,
        respondent,
        sides,
        lmc,
    } = prepare(c, &filing)?;
    let at = now();
    let dispute = Dispute::file(
        filing,
        sides,
        Some(lmc.id),
        uuid::Uuid::new_v4().to_string(),
        caller.user_id.clone(),
        at,
        ctx.calendar,
    );
    let parties = Parties {
        appellant,
        respondent,
    };
    let rendered = notices::render(c, ctx, &dispute, &parties, intents::filed(&dispute))?;
    let rows: Vec<_> = rendered.iter().map(|n| n.row(&dispute.id)).collect();
    transition::file(
        c,
        &transition::Filing {
            dispute: &DisputeRow::of(&dispute),
            key: key.map(|k| (caller.user_id.as_str(), k, hash)),
            event: &EventRow {
                dispute_id: dispute.id.clone(),
                seq: 1,
                event_type: "file".into(),
                actor_id: caller.user_id.clone(),
                at,
                data: dispute.filing_data().to_string(),
            },
            notices: &rows,
        },
        at,
    )?;
    Ok(Filed {
        dispute,
        parties,
        created: true,
    })
}
