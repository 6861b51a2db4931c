//! `Body<T>`: a JSON request body read into `T`, with every refusal said the same way on every
//! route: malformed JSON or a value of the wrong type → 400 naming the field; a field the
//! route does not take, or a required one missing → 422 `validation_failed` naming the field
//! (and, for an unknown one, the fields it does take). Request types derive
//! `#[serde(deny_unknown_fields)]`.

use super::error::{ApiError, FieldError};
use actix_web::{web, FromRequest, HttpRequest};
use serde::de::DeserializeOwned;
use std::future::Future;
use std::pin::Pin;

pub struct Body<T>(pub T);

impl<T> Body<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Body<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Body<T>, actix_web::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        // Content type, size and syntax as `web::Json` checks them (see `api::configure`).
        let json = web::Json::<serde_json::Value>::from_request(req, payload);
        Box::pin(async move {
            let value = json.await?.into_inner();
            serde_path_to_error::deserialize(value)
                .map(Body)
                .map_err(|e| refusal(&e).into())
        })
    }
}

/// The refusal for a body that is JSON but not a `T`.
fn refusal(e: &serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let message = e.inner().to_string();
    let path = e.path().to_string();
    // The path of an unknown field ends with the field itself; a missing one's is its parent.
    let at = |name: &str| {
        if path == "." || path.is_empty() {
            name.to_string()
        } else if path == name || path.ends_with(&format!(".{name}")) {
            path.clone()
        } else {
            format!("{path}.{name}")
        }
    };
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let (name, expected) = rest.split_once('`').unwrap_or((rest, ""));
        let allowed = expected
            .trim_start_matches(", expected one of ")
            .trim_start_matches(", expected ")
            .replace('`', "")
            .replace(" or ", ", ");
        return ApiError::Validation(vec![FieldError {
            field: at(name),
            message: format!("is not a field of this request; the fields are: {allowed}"),
        }]);
    }
    if let Some(rest) = message.strip_prefix("missing field `") {
        let name = rest.split('`').next().unwrap_or(rest);
        return ApiError::Validation(vec![FieldError {
            field: at(name),
            message: "is required".into(),
        }]);
    }
    let what = message.split(" at line ").next().unwrap_or(&message);
    if path == "." || path.is_empty() {
        ApiError::BadRequest(format!("The JSON body is malformed: {what}."))
    } else {
        ApiError::BadRequest(format!("The JSON body is malformed: {path}: {what}."))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Login {
        email: String,
        password: String,
    }

    fn refuse(v: serde_json::Value) -> ApiError {
        match serde_path_to_error::deserialize::<_, Login>(v) {
            Ok(l) => panic!("accepted {l:?}"),
            Err(e) => refusal(&e),
        }
    }

    #[test]
    fn every_body_refusal_names_its_field() {
        match refuse(serde_json::json!({"email": "a", "password": "b", "pasword": "c"})) {
            ApiError::Validation(e) => {
                assert_eq!(e[0].field, "pasword");
                assert!(e[0].message.contains("email, password"), "{}", e[0].message);
            }
            other => panic!("{other:?}"),
        }
        match refuse(serde_json::json!({"password": "b"})) {
            ApiError::Validation(e) => assert_eq!(
                (e[0].field.as_str(), e[0].message.as_str()),
                ("email", "is required")
            ),
            other => panic!("{other:?}"),
        }
        match refuse(serde_json::json!({"email": 5, "password": "b"})) {
            ApiError::BadRequest(m) => {
                assert!(m.contains("email"), "{m}");
                assert!(!m.contains("line 1"), "{m}");
            }
            other => panic!("{other:?}"),
        }
    }
}
