//! The one way to change a dispute, for every caller: the JSON API, the web pages, the
//! deadline sweep and webhooks.
//!
//! How a request becomes a database write ([`events::apply`]): inside one write transaction,
//! read the dispute under its row lock and decode it strictly; check that the caller may see
//! it ([`visibility`]), may send this event in this state (`domain::workflow::check`) and read
//! the version it names; parse the event's fields (`domain::event`); read the facts the event
//! needs; let `domain::procedure::decide` decide; turn its notices into addressed, rendered
//! messages ([`notices`]); and write the new dispute, the event, its breaches and its notices
//! (`db::transition::write`). Anything refused writes nothing.
//!
//! Filing a dispute is [`filing::file`]; the deadline sweep's work for one dispute is
//! [`sweep::sweep_one`].
//!
//! Layering: `domain` (pure) ← `db` ← `service` ← {`api`, `web`, `notify`}. The service
//! renders notices with `render::templates` and `render::ics`, which are pure and sit below it.

pub mod access_log;
pub mod directory;
pub mod events;
pub mod filing;
pub mod hearings;
pub mod limits;
pub mod notices;
pub mod oidc;
pub mod reports;
pub mod sweep;
pub mod tokens;
pub mod visibility;
pub mod webhooks;

use crate::db::{self, DbConn};
use crate::domain::calendar::Calendar;
use crate::domain::dispute::{Dispute, DocumentKind};
use crate::domain::fields::FieldProblem;
use crate::domain::panel::Violation;
use crate::domain::procedure;
use crate::domain::roles::Role;
use crate::domain::workflow;
use crate::render::templates::Templates;
use chrono::NaiveDate;

/// The user on whose behalf the service acts, as read fresh from the directory.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user_id: String,
    pub org_id: String,
    pub roles: Vec<Role>,
}

impl Caller {
    pub fn has(&self, r: Role) -> bool {
        self.roles.contains(&r)
    }

    /// Refused (403) unless the caller has one of `allowed`.
    pub fn require(&self, allowed: &[Role]) -> Result<(), ServiceError> {
        if allowed.iter().any(|r| self.has(*r)) {
            Ok(())
        } else {
            Err(ServiceError::Forbidden(format!(
                "This action needs the role {}.",
                allowed
                    .iter()
                    .map(|r| r.as_str())
                    .collect::<Vec<_>>()
                    .join(" or ")
            )))
        }
    }

    /// The caller for the user `user_id` from its row (organisation, roles, active): `None`
    /// when there is no such user or it is deactivated.
    pub fn from_row(user_id: &str, row: Option<(String, String, bool)>) -> Option<Caller> {
        match row {
            Some((org, roles, true)) => Some(Caller {
                user_id: user_id.to_string(),
                org_id: org,
                roles: crate::domain::roles::parse_list(&roles),
            }),
            _ => None,
        }
    }
}

/// What applying an event needs besides the database.
#[derive(Clone, Copy)]
pub struct Ctx<'a> {
    pub today: NaiveDate,
    pub calendar: &'a Calendar,
    pub templates: &'a Templates,
    /// `LDR_MAIL_FROM`: the organiser of the hearing's calendar invitation.
    pub mail_from: &'a str,
    /// `LDR_PUBLIC_URL`: the base of the links a notice gives (the referral pack's).
    pub public_url: &'a str,
}

/// Why the service refused or failed. Refusals change nothing; the API maps each to its
/// status and problem code.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// No such dispute, or the caller may not see it (never revealing which).
    #[error("not found")]
    NotFound,
    /// The request is not what the service reads at all (e.g. a body that is not an object).
    #[error("{0}")]
    Malformed(String),
    /// The caller's roles or relation to the case do not allow this.
    #[error("{0}")]
    Forbidden(String),
    /// Not allowed in the dispute's current state.
    #[error("{0}")]
    InvalidTransition(String),
    /// The caller read another version of the dispute.
    #[error("{0}")]
    VersionConflict(String),
    /// Another conflict with what is stored, with its own code.
    #[error("{detail}")]
    Conflict { code: &'static str, detail: String },
    /// Fields that are wrong, every one listed.
    #[error("validation failed")]
    Fields(Vec<FieldProblem>),
    /// A rule of the procedure, every violation listed.
    #[error("{detail}")]
    Rule {
        code: &'static str,
        detail: String,
        violations: Vec<Violation>,
    },
    /// A stored dispute does not read back: an error to fix in the data, never read as a
    /// default (and so never written back over).
    #[error("the stored dispute {id} does not read: {cause}")]
    Corrupt { id: String, cause: String },
    #[error("database: {0}")]
    Db(#[from] diesel::result::Error),
    #[error("database pool: {0}")]
    Pool(#[from] r2d2::Error),
    /// Past an abuse limit ([`limits`]): try again after `retry_after_secs`.
    #[error("too many {what}")]
    TooMany { retry_after_secs: u64, what: String },
    #[error("{0}")]
    Internal(String),
}

impl ServiceError {
    pub fn field(field: &str, message: impl Into<String>) -> ServiceError {
        ServiceError::Fields(vec![FieldProblem::new(field, message)])
    }

    pub fn rule(code: &'static str, detail: String) -> ServiceError {
        ServiceError::Rule {
            code,
            violations: vec![Violation {
                rule: code,
                message: detail.clone(),
            }],
            detail,
        }
    }
}

impl db::Failure for ServiceError {
    fn connection_lost(&self) -> bool {
        matches!(self, ServiceError::Db(e) if db::connection_lost(e))
    }
}

impl From<workflow::Refusal> for ServiceError {
    fn from(r: workflow::Refusal) -> Self {
        match r {
            workflow::Refusal::Role(m) | workflow::Refusal::Relation(m) => {
                ServiceError::Forbidden(m)
            }
            workflow::Refusal::State(m) => ServiceError::InvalidTransition(m),
        }
    }
}

impl From<procedure::Refusal> for ServiceError {
    fn from(r: procedure::Refusal) -> Self {
        match r {
            procedure::Refusal::Fields(problems) => ServiceError::Fields(problems),
            procedure::Refusal::Rules {
                code,
                detail,
                violations,
            } => ServiceError::Rule {
                code,
                detail,
                violations,
            },
        }
    }
}

/// The dispute `id` as stored, strictly decoded (see [`db::disputes::DisputeRow::decode`]).
pub fn decode(row: db::disputes::DisputeRow) -> Result<Dispute, ServiceError> {
    let id = row.id.clone();
    row.decode()
        .map_err(|cause| ServiceError::Corrupt { id, cause })
}

/// A stored document's kind: one the service does not know is an error in the data, never
/// read as another.
pub fn document_kind(stored: &str) -> Result<DocumentKind, ServiceError> {
    stored
        .parse()
        .map_err(|e| ServiceError::Internal(format!("a stored document: {e}")))
}

/// A list's narrow read of a dispute, as strictly decoded ([`db::disputes::ListRow::decode`]).
pub fn decode_listed(row: db::disputes::ListRow) -> Result<db::disputes::ListedCase, ServiceError> {
    let id = row.deadlines.id.clone();
    row.decode()
        .map_err(|cause| ServiceError::Corrupt { id, cause })
}

/// The dispute `id`, if there is one.
pub fn find(c: &mut DbConn, id: &str) -> Result<Option<Dispute>, ServiceError> {
    db::disputes::find(c, id)?.map(decode).transpose()
}

/// A dispute as one person reads it ([`view`]).
pub struct Read {
    /// The reader, `None` when the user is gone or deactivated.
    pub caller: Option<Caller>,
    /// The dispute with its parties and whether it has breaches; `None` when there is no such
    /// dispute or the reader may not see it (never revealing which).
    pub case: Option<(Dispute, notices::Parties, bool)>,
}

/// The user `user_id` and the dispute `id` as that user may see it, read together in one
/// statement ([`db::disputes::view`]).
pub fn view(c: &mut DbConn, user_id: &str, id: &str) -> Result<Read, ServiceError> {
    let v = db::disputes::view(c, id, user_id)?;
    let caller = Caller::from_row(user_id, v.reader);
    let (Some(reader), Some(found)) = (&caller, v.dispute) else {
        return Ok(Read { caller, case: None });
    };
    let d = decode(found.row)?;
    if !visibility::can_see(reader, &d) {
        return Ok(Read { caller, case: None });
    }
    let parties = notices::Parties::from_rows(&d, found.appellant, found.respondent)?;
    Ok(Read {
        caller,
        case: Some((d, parties, found.has_breaches)),
    })
}

/// The dispute `id` if the caller may see it; otherwise [`ServiceError::NotFound`], never
/// revealing that it exists.
pub fn visible(c: &mut DbConn, caller: &Caller, id: &str) -> Result<Dispute, ServiceError> {
    match find(c, id)? {
        Some(d) if visibility::can_see(caller, &d) => Ok(d),
        _ => Err(ServiceError::NotFound),
    }
}
