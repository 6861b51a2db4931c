//! The one error type of the HTTP API, rendered as `application/problem+json` (RFC 9457)
//! with a stable snake_case `code`. Internal causes are logged, never sent.

use crate::service::ServiceError;
use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct RuleViolation {
    pub rule: String,
    pub message: String,
}

/// A problem+json body, as documented in the OpenAPI document.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    pub code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub violations: Option<Vec<RuleViolation>>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    InvalidTransition(String),
    /// 409 with its own code, e.g. `email_taken`, `idempotency_key_reused`,
    /// `version_conflict` (the caller read another version of the dispute).
    #[error("{detail}")]
    Conflict { code: &'static str, detail: String },
    #[error("{0}")]
    PayloadTooLarge(String),
    /// 408: the request body did not arrive in time (an upload's whole-body deadline).
    #[error("{0}")]
    RequestTimeout(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    /// 422 for a rule of the procedure, e.g. `insufficient_notice`.
    #[error("{detail}")]
    Rule {
        code: &'static str,
        detail: String,
        violations: Vec<RuleViolation>,
    },
    #[error("too many requests")]
    TooManyRequests { retry_after_secs: u64, what: String },
    #[error("service unavailable: {0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn field(field: &str, message: impl Into<String>) -> ApiError {
        ApiError::Validation(vec![FieldError {
            field: field.to_string(),
            message: message.into(),
        }])
    }

    pub fn rule(code: &'static str, detail: impl Into<String>) -> ApiError {
        let detail = detail.into();
        ApiError::Rule {
            code,
            violations: vec![RuleViolation {
                rule: code.to_string(),
                message: detail.clone(),
            }],
            detail,
        }
    }

    pub fn internal(e: impl std::fmt::Display) -> ApiError {
        ApiError::Internal(e.to_string())
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "malformed_request",
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound => "not_found",
            ApiError::InvalidTransition(_) => "invalid_transition",
            ApiError::Conflict { code, .. } => code,
            ApiError::PayloadTooLarge(_) => "payload_too_large",
            ApiError::RequestTimeout(_) => "request_timeout",
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type",
            ApiError::Validation(_) => "validation_failed",
            ApiError::Rule { code, .. } => code,
            ApiError::TooManyRequests { .. } => "rate_limited",
            ApiError::Unavailable(_) => "service_unavailable",
            ApiError::Internal(_) => "internal_error",
        }
    }

    fn title(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "Malformed request",
            ApiError::Unauthorized(_) => "Not authenticated",
            ApiError::Forbidden(_) => "Not allowed",
            ApiError::NotFound => "Not found",
            ApiError::InvalidTransition(_) => "Not allowed in the current state",
            ApiError::Conflict {
                code: VERSION_CONFLICT,
                ..
            } => "Version conflict",
            ApiError::Conflict { .. } => "Conflict",
            ApiError::PayloadTooLarge(_) => "Request too large",
            ApiError::RequestTimeout(_) => "Request timeout",
            ApiError::UnsupportedMediaType(_) => "Unsupported media type",
            ApiError::Validation(_) => "Validation failed",
            ApiError::Rule { .. } => "Refused by a rule of the procedure",
            ApiError::TooManyRequests { .. } => "Too many requests",
            ApiError::Unavailable(_) => "Service unavailable",
            ApiError::Internal(_) => "Internal error",
        }
    }

    pub fn problem(&self) -> Problem {
        let status = self.status_code();
        let detail = match self {
            ApiError::NotFound => "No such resource, or you may not see it.".to_string(),
            ApiError::Validation(errs) => format!(
                "{} field(s) are invalid: {}",
                errs.len(),
                errs.iter()
                    .map(|e| e.field.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            ApiError::TooManyRequests {
                retry_after_secs,
                what,
            } => {
                format!("Too many {what} in a short time; try again in {retry_after_secs} s.")
            }
            ApiError::Unavailable(_) => {
                "The service is busy or its database is unreachable; try again shortly.".into()
            }
            ApiError::Internal(_) => "An internal error occurred; it has been logged.".into(),
            other => other.to_string(),
        };
        Problem {
            type_: format!(
                "https://ldr.example/problems/{}",
                self.code().replace('_', "-")
            ),
            title: self.title().to_string(),
            status: status.as_u16(),
            detail,
            code: self.code().to_string(),
            errors: match self {
                ApiError::Validation(e) => Some(e.clone()),
                _ => None,
            },
            violations: match self {
                ApiError::Rule { violations, .. } => Some(violations.clone()),
                _ => None,
            },
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::InvalidTransition(_) | ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Validation(_) | ApiError::Rule { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            ApiError::Internal(cause) => tracing::error!(cause = %cause, "internal error"),
            ApiError::Unavailable(cause) => tracing::warn!(cause = %cause, "service unavailable"),
            _ => {}
        }
        let mut rsp = HttpResponse::build(self.status_code());
        rsp.insert_header((header::CONTENT_TYPE, "application/problem+json"));
        if let ApiError::Unauthorized(_) = self {
            rsp.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        match self {
            ApiError::TooManyRequests {
                retry_after_secs, ..
            } => {
                rsp.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
            }
            ApiError::Unavailable(_) => {
                rsp.insert_header((
                    header::RETRY_AFTER,
                    UNAVAILABLE_RETRY_AFTER_SECS.to_string(),
                ));
            }
            _ => {}
        }
        rsp.body(serde_json::to_string(&self.problem()).unwrap_or_else(|_| "{}".into()))
    }
}

/// The `Retry-After` of every 503 (a lock or busy wait that ran out, a lost connection, no
/// connection free in the pool): such a spell is usually over within a couple of seconds.
pub const UNAVAILABLE_RETRY_AFTER_SECS: u64 = 2;

/// The cause of the 503 for a statement that failed because the database connection is gone.
const CONNECTION_LOST: &str = "the database connection was lost";

impl ApiError {
    /// The connection this came from is gone and must not be used again.
    pub fn is_connection_lost(&self) -> bool {
        matches!(self, ApiError::Unavailable(cause) if cause == CONNECTION_LOST)
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        match e {
            diesel::result::Error::NotFound => ApiError::NotFound,
            // The server went away (restart, terminated backend): a 503 to retry, not a 500.
            ref e if crate::db::connection_lost(e) => ApiError::Unavailable(CONNECTION_LOST.into()),
            // A lock, statement or busy wait ran out: nothing was written; a 503 to retry.
            ref e if crate::db::bounded_wait(e) => ApiError::Unavailable(format!("database: {e}")),
            other => ApiError::Internal(format!("database: {other}")),
        }
    }
}

impl crate::db::Failure for ApiError {
    fn connection_lost(&self) -> bool {
        self.is_connection_lost()
    }
}

/// The service's refusals and failures as the API answers them.
impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::NotFound => ApiError::NotFound,
            ServiceError::Malformed(m) => ApiError::BadRequest(m),
            ServiceError::Forbidden(m) => ApiError::Forbidden(m),
            ServiceError::InvalidTransition(m) => ApiError::InvalidTransition(m),
            ServiceError::VersionConflict(detail) => ApiError::Conflict {
                code: VERSION_CONFLICT,
                detail,
            },
            ServiceError::Conflict { code, detail } => ApiError::Conflict { code, detail },
            ServiceError::Fields(problems) => ApiError::Validation(
                problems
                    .into_iter()
                    .map(|p| FieldError {
                        field: p.field,
                        message: p.message,
                    })
                    .collect(),
            ),
            ServiceError::Rule {
                code,
                detail,
                violations,
            } => ApiError::Rule {
                code,
                detail,
                violations: violations
                    .into_iter()
                    .map(|v| RuleViolation {
                        rule: v.rule.to_string(),
                        message: v.message,
                    })
                    .collect(),
            },
            e @ ServiceError::Corrupt { .. } => ApiError::Internal(e.to_string()),
            ServiceError::Db(e) => e.into(),
            ServiceError::Pool(e) => e.into(),
            ServiceError::TooMany {
                retry_after_secs,
                what,
            } => ApiError::TooManyRequests {
                retry_after_secs,
                what,
            },
            ServiceError::Internal(m) => ApiError::Internal(m),
        }
    }
}

impl From<r2d2::Error> for ApiError {
    fn from(e: r2d2::Error) -> Self {
        ApiError::Unavailable(format!("database pool: {e}"))
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        ApiError::Internal(format!("blocking task: {e}"))
    }
}

impl From<validator::ValidationErrors> for ApiError {
    fn from(errs: validator::ValidationErrors) -> Self {
        let mut out = Vec::new();
        collect_validation("", &errs, &mut out);
        out.sort_by(|a, b| a.field.cmp(&b.field));
        ApiError::Validation(out)
    }
}

fn collect_validation(prefix: &str, errs: &validator::ValidationErrors, out: &mut Vec<FieldError>) {
    use validator::ValidationErrorsKind;
    for (field, kind) in errs.errors() {
        let name = if prefix.is_empty() {
            field.to_string()
        } else {
            format!("{prefix}.{field}")
        };
        match kind {
            ValidationErrorsKind::Field(list) => {
                for e in list {
                    let message = e
                        .message
                        .as_ref()
                        .map(|m| m.to_string())
                        .unwrap_or_else(|| default_message(&e.code));
                    out.push(FieldError {
                        field: name.clone(),
                        message,
                    });
                }
            }
            ValidationErrorsKind::Struct(inner) => collect_validation(&name, inner, out),
            ValidationErrorsKind::List(map) => {
                for (i, inner) in map {
                    collect_validation(&format!("{name}[{i}]"), inner, out)
                }
            }
        }
    }
}

fn default_message(code: &str) -> String {
    match code {
        "required" => "is required".into(),
        "email" => "is not a valid e-mail address".into(),
        "length" => "has the wrong length".into(),
        "range" => "is out of range".into(),
        other => other.replace('_', " "),
    }
}

/// A JSON body over `middleware::JSON_LIMIT`.
pub fn json_too_large() -> ApiError {
    ApiError::PayloadTooLarge("The JSON body is larger than 1 MiB.".into())
}

/// Turns actix's JSON extractor failures into problem+json (400 bad JSON, 413 too large,
/// 415 wrong content type).
pub fn json_error(
    err: actix_web::error::JsonPayloadError,
    _req: &actix_web::HttpRequest,
) -> actix_web::Error {
    use actix_web::error::JsonPayloadError as J;
    let e = match &err {
        J::OverflowKnownLength { .. } | J::Overflow { .. } => json_too_large(),
        J::ContentType => ApiError::UnsupportedMediaType(
            "Send the body as Content-Type: application/json.".into(),
        ),
        J::Deserialize(d) => ApiError::BadRequest(format!("The JSON body is malformed: {d}")),
        other => ApiError::BadRequest(format!("The request body could not be read: {other}")),
    };
    e.into()
}

pub fn query_error(
    err: actix_web::error::QueryPayloadError,
    _req: &actix_web::HttpRequest,
) -> actix_web::Error {
    ApiError::field("query", format!("invalid query string: {err}")).into()
}

pub fn path_error(
    err: actix_web::error::PathError,
    _req: &actix_web::HttpRequest,
) -> actix_web::Error {
    ApiError::BadRequest(format!("invalid path: {err}")).into()
}

pub type ApiResult<T> = Result<T, ApiError>;

/// The code of the 409 for an event that names a version the dispute is no longer at.
pub const VERSION_CONFLICT: &str = "version_conflict";
