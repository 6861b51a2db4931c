//! Cross-cutting response handling: problem+json for errors actix produces itself (unknown
//! method, malformed multipart, …) and security headers on every response.

use actix_web::body::{BoxBody, EitherBody};
use actix_web::dev::ServiceResponse;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::{DefaultHeaders, ErrorHandlerResponse, ErrorHandlers};
use actix_web::HttpResponse;

pub fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::X_FRAME_OPTIONS, "DENY"))
        .add((header::REFERRER_POLICY, "no-referrer"))
        .add((header::CACHE_CONTROL, "no-store"))
        .add(("Cross-Origin-Resource-Policy", "same-origin"))
}

/// The Content-Security-Policy of every response: nothing inline, nothing from elsewhere.
pub const STRICT_CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; \
     script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// The API's readable documentation (`/docs/`, Swagger UI) starts itself with inline script
/// and styles: only its pages get a policy that allows them.
pub const DOCS_CSP: &str = "default-src 'self'; img-src 'self' data:; \
     style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'; \
     frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// Sets [`STRICT_CSP`], or [`DOCS_CSP`] under `/docs/`.
pub async fn content_security_policy(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    let docs = req.path().starts_with("/docs/");
    let mut res = next.call(req).await?;
    let policy = if docs { DOCS_CSP } else { STRICT_CSP };
    res.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(policy),
    );
    Ok(res)
}

pub fn problem_for_bare_errors<B: 'static>() -> ErrorHandlers<B> {
    ErrorHandlers::new().default_handler(to_problem)
}

fn code_for(status: u16) -> (&'static str, &'static str, &'static str) {
    match status {
        400 => (
            "malformed_request",
            "Malformed request",
            "The request could not be read.",
        ),
        401 => (
            "unauthorized",
            "Not authenticated",
            "Authentication is required.",
        ),
        403 => ("forbidden", "Not allowed", "You may not do this."),
        404 => (
            "not_found",
            "Not found",
            "No such resource, or you may not see it.",
        ),
        405 => (
            "method_not_allowed",
            "Method not allowed",
            "This method is not allowed on this resource.",
        ),
        406 => (
            "not_acceptable",
            "Not acceptable",
            "The requested representation is not available.",
        ),
        408 => (
            "request_timeout",
            "Request timeout",
            "The request took too long to arrive.",
        ),
        411 => (
            "length_required",
            "Length required",
            "Send a Content-Length.",
        ),
        413 => (
            "payload_too_large",
            "Request too large",
            "The request body is too large.",
        ),
        414 => (
            "uri_too_long",
            "URI too long",
            "The request URI is too long.",
        ),
        415 => (
            "unsupported_media_type",
            "Unsupported media type",
            "The content type is not supported here.",
        ),
        431 => (
            "headers_too_large",
            "Headers too large",
            "The request headers are too large.",
        ),
        s if s >= 500 => (
            "internal_error",
            "Internal error",
            "An internal error occurred; it has been logged.",
        ),
        _ => (
            "request_refused",
            "Request refused",
            "The request was refused.",
        ),
    }
}

fn to_problem<B: 'static>(res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.as_bytes().starts_with(b"application/problem+json"))
        .unwrap_or(false);
    // A web page's error (404, 403, 500 in the pages' layout) is already an answer for people.
    let is_page = res
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.as_bytes().starts_with(b"text/html"))
        .unwrap_or(false);
    if is_problem || is_page {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let (code, title, detail) = code_for(status.as_u16());
    if status.is_server_error() {
        tracing::error!(status = status.as_u16(), path = %res.request().path(), "server error without problem body");
    }
    let body = serde_json::json!({
        "type": format!("https://ldr.example/problems/{}", code.replace('_', "-")),
        "title": title, "status": status.as_u16(), "detail": detail, "code": code,
    });
    let mut new = HttpResponse::build(status);
    for (k, v) in res.headers().iter() {
        if k != header::CONTENT_TYPE && k != header::CONTENT_LENGTH {
            new.append_header((k.clone(), v.clone()));
        }
    }
    new.insert_header((
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    ));
    let new: HttpResponse<BoxBody> = new.body(body.to_string());
    let (req, _) = res.into_parts();
    let res: ServiceResponse<EitherBody<B>> = ServiceResponse::new(req, new).map_into_right_body();
    Ok(ErrorHandlerResponse::Response(res))
}

/// The largest JSON body read (as `JsonConfig` in `api::configure`).
pub const JSON_LIMIT: usize = 1024 * 1024;

/// Refuses a request that carries U+0000 in its JSON body with a 400 problem (in its path: 404),
/// before any handler runs. PostgreSQL text cannot hold it (the insert or lookup
/// would fail as an internal error) and no field of this API has a use for it; refusing it here
/// keeps SQLite and PostgreSQL answering alike. A compressed body is checked decompressed.
/// Multipart uploads are not inspected: files are bytes, and their names are checked where
/// they are read.
pub async fn reject_nul(
    mut req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    use crate::api::error::ApiError;
    use actix_web::HttpMessage;
    let nul = || {
        ApiError::BadRequest(
            "The request contains a NUL character (U+0000), which no field can hold: remove it \
             and send the request again."
                .into(),
        )
    };
    // No resource has a NUL in its path: 404, as for any other unknown id.
    let path = req.uri().path();
    if path.contains("%00") || path.contains('\0') {
        return Err(ApiError::NotFound.into());
    }
    // Nor any query value (a search, an id to filter by): 400. The pages' queries and forms
    // are refused as pages, by `web::reject_nul_in_forms`.
    if path.starts_with("/api/") && query_has_nul(req.query_string()) {
        return Err(nul().into());
    }
    let json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().contains("json"));
    if json {
        // Read the body as the handler will see it: a compressed body (`Content-Encoding:
        // gzip|deflate`) is decompressed here, checked, and handed on decompressed (the
        // header removed, so that it is not decompressed twice). The size limit applies to
        // the decompressed body.
        let payload = actix_web::dev::Decompress::from_headers(req.take_payload(), req.headers());
        req.headers_mut().remove(header::CONTENT_ENCODING);
        let Some(body) = read_body(payload, JSON_LIMIT).await? else {
            return Err(crate::api::error::json_too_large().into());
        };
        if json_has_nul(&body) {
            return Err(nul().into());
        }
        req.set_payload(actix_web::dev::Payload::from(body.freeze()));
    }
    next.call(req).await
}

/// Whether a query string holds a NUL, raw or percent-encoded (`%00`).
pub fn query_has_nul(q: &str) -> bool {
    q.contains("%00") || q.contains('\0')
}

/// Reads a request body to its end, for a middleware that checks it before the handler does
/// (which then reads it again from `ServiceRequest::set_payload`); `None` as soon as it passes
/// `limit` bytes.
pub async fn read_body<S>(
    payload: S,
    limit: usize,
) -> Result<Option<actix_web::web::BytesMut>, actix_web::error::PayloadError>
where
    S: futures_util::Stream<Item = Result<actix_web::web::Bytes, actix_web::error::PayloadError>>,
{
    use futures_util::StreamExt;
    let mut payload = std::pin::pin!(payload);
    let mut body = actix_web::web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk?;
        if body.len() + chunk.len() > limit {
            return Ok(None);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Some(body))
}

/// Whether JSON text holds a NUL: a raw 0x00 byte, or a `\u0000` escape (a backslash that is
/// not itself escaped, i.e. preceded by an even number of backslashes).
pub fn json_has_nul(body: &[u8]) -> bool {
    if body.contains(&0) {
        return true;
    }
    let mut i = 0;
    while i < body.len() {
        if body[i] == b'\\' {
            if body[i + 1..].starts_with(b"u0000") {
                return true;
            }
            i += 2; // skip the escaped character (a backslash included)
        } else {
            i += 1;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::json_has_nul;

    #[test]
    fn nul_in_json() {
        assert!(json_has_nul(br#"{"a":"x\u0000y"}"#));
        assert!(json_has_nul(br#"{"a":"\\\u0000"}"#));
        assert!(json_has_nul(b"{\"a\":\"\0\"}"));
        assert!(!json_has_nul(br#"{"a":"\\u0000"}"#)); // the text \u0000, not a NUL
        assert!(!json_has_nul(br#"{"a":"\\\\u0000"}"#));
        assert!(!json_has_nul(br#"{"a":"\u0001"}"#));
        assert!(!json_has_nul(br#"{"a":"trailing \\"}"#));
        assert!(!json_has_nul(br#"\"#));
    }
}
