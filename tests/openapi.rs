//! The OpenAPI document covers every route, and the docs page is served offline.

mod common;

use common::{Db, TestApp};
use serde_json::Value;
use std::collections::BTreeSet;

/// Every route the service serves: method and path. A new route must be added here and to
/// the OpenAPI document, or this test fails.
const ROUTES: &[(&str, &str)] = &[
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("post", "/api/v1/auth/login"),
    ("post", "/api/v1/organisations"),
    ("get", "/api/v1/organisations"),
    ("get", "/api/v1/organisations/{id}"),
    ("post", "/api/v1/users"),
    ("get", "/api/v1/users/{id}"),
    ("patch", "/api/v1/users/{id}"),
    ("post", "/api/v1/users/{id}/interests"),
    ("get", "/api/v1/users/{id}/interests"),
    ("post", "/api/v1/users/{id}/unavailability"),
    ("get", "/api/v1/users/{id}/unavailability"),
    ("delete", "/api/v1/users/{id}/interests/{entry_id}"),
    ("delete", "/api/v1/users/{id}/unavailability/{entry_id}"),
    ("get", "/api/v1/calendar/bank-holidays"),
    ("get", "/api/v1/calendar/working-days/add"),
    ("post", "/api/v1/disputes"),
    ("get", "/api/v1/disputes"),
    ("get", "/api/v1/disputes/{id}"),
    ("post", "/api/v1/disputes/{id}/events"),
    ("get", "/api/v1/disputes/{id}/events"),
    ("get", "/api/v1/disputes/{id}/actions"),
    ("post", "/api/v1/disputes/{id}/documents"),
    ("get", "/api/v1/disputes/{id}/documents"),
    ("get", "/api/v1/disputes/{id}/notices"),
    ("get", "/api/v1/disputes/{id}/hearing-options"),
    ("get", "/api/v1/disputes/{id}/hearing.ics"),
    ("get", "/api/v1/disputes/{id}/referral-pack"),
    ("get", "/api/v1/documents/{id}"),
    ("get", "/api/v1/reports/timeliness"),
    ("get", "/api/v1/me"),
    ("get", "/api/v1/users"),
    ("patch", "/api/v1/organisations/{id}"),
    ("post", "/api/v1/webhooks"),
    ("get", "/api/v1/webhooks"),
    ("delete", "/api/v1/webhooks/{id}"),
    ("post", "/api/v1/webhooks/{id}/rotate-secret"),
    ("get", "/api/v1/webhooks/{id}/deliveries"),
    ("post", "/api/v1/api-keys"),
    ("get", "/api/v1/api-keys"),
    ("delete", "/api/v1/api-keys/{id}"),
    ("get", "/api/v1/access-log"),
];

#[test]
fn openapi_documents_every_route_and_only_those() {
    let Some(app) = TestApp::spawn(Db::Sqlite) else {
        return;
    };
    let doc = app.get("/api/v1/openapi.json", None).expect(200);
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3."),
        "{}",
        doc["openapi"]
    );
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if ["get", "post", "patch", "put", "delete"].contains(&method.as_str()) {
                documented.insert((method.clone(), path.clone()));
            }
        }
    }
    let expected: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    assert_eq!(documented, expected);
    // The event types in the document are the workflow table's.
    let types = &doc["components"]["schemas"]["EventType"]["enum"];
    let table: Vec<&str> = ldr::domain::workflow::PROCEDURE
        .iter()
        .map(|t| t.event.as_str())
        .collect();
    let mut a: Vec<&str> = types
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let mut b = table.clone();
    a.sort();
    b.sort();
    assert_eq!(a, b);
    // Every documented route is served (an unknown method would be 405, an unknown path 404).
    let admin = app.admin();
    for (m, p) in ROUTES {
        let path = p.replace("{id}", "00000000-0000-0000-0000-000000000000");
        let r = app.send_raw(
            &m.to_uppercase(),
            &path,
            Some(&admin),
            "application/json",
            b"{}",
            &[],
        );
        assert_ne!(r.status, 405, "{m} {p}");
        assert!(r.status < 500, "{m} {p}: {}", r.text());
        if !p.contains("{id}") {
            assert_ne!(r.status, 404, "{m} {p}");
        }
    }
}

#[test]
fn docs_page_is_served_offline() {
    let Some(app) = TestApp::spawn(Db::Sqlite) else {
        return;
    };
    let r = app.get("/docs/", None);
    assert_eq!(r.status, 200);
    assert!(r.text().to_lowercase().contains("swagger"), "{}", r.text());
}

/// Every error response in the document is problem+json (what the server sends), and the errors
/// that the extractors produce are listed: 401 with a token, 400/413/415 with a JSON body, 400
/// and 422 with query parameters. Found by scripts/fuzz.sh (content_type_conformance,
/// status_code_conformance; the 400 of a NUL in a query value too).
#[test]
fn error_responses_are_documented_as_problem_json() {
    let Some(app) = TestApp::spawn(Db::Sqlite) else {
        return;
    };
    let doc = app.get("/api/v1/openapi.json", None).expect(200);
    let admin = app.admin();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let responses = op["responses"].as_object().unwrap();
            for (status, r) in responses {
                if status.starts_with('4') || status.starts_with('5') {
                    let content = r["content"].as_object().unwrap();
                    assert_eq!(
                        content.keys().collect::<Vec<_>>(),
                        vec!["application/problem+json"],
                        "{method} {path} {status}"
                    );
                    assert_eq!(
                        content["application/problem+json"]["schema"]["$ref"],
                        "#/components/schemas/Problem",
                        "{method} {path} {status}"
                    );
                    assert!(
                        !r["description"].as_str().unwrap().is_empty(),
                        "{method} {path} {status}"
                    );
                }
            }
            let has = |s: &str| responses.contains_key(s);
            if op["security"].as_array().is_some_and(|s| !s.is_empty()) {
                assert!(has("401"), "{method} {path}");
            }
            if op["requestBody"]["content"]["application/json"].is_object() {
                for s in ["400", "413", "415"] {
                    assert!(has(s), "{method} {path} {s}");
                }
                // A body that is not JSON: 415, as documented, in problem+json.
                let p = path.replace("{id}", "00000000-0000-0000-0000-000000000000");
                let r = app.send_raw(
                    &method.to_uppercase(),
                    &p,
                    Some(&admin),
                    "text/plain",
                    b"hello",
                    &[],
                );
                assert!(has(&r.status.to_string()), "{method} {path}: {}", r.status);
                r.expect(r.status);
            }
            let query = op["parameters"]
                .as_array()
                .is_some_and(|ps| ps.iter().any(|p| p["in"] == "query"));
            if query {
                assert!(has("422") && has("400"), "{method} {path}");
                // A NUL in a query value: 400, as documented.
                let p = path.replace("{id}", "00000000-0000-0000-0000-000000000000");
                let name = op["parameters"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|p| p["in"] == "query")
                    .unwrap()["name"]
                    .as_str()
                    .unwrap()
                    .to_string();
                if method == "get" {
                    let r = app.get(&format!("{p}?{name}=a%00b"), Some(&admin));
                    assert_eq!(r.status, 400, "{method} {path}");
                }
            }
        }
    }
}

/// A method a documented path does not serve is 405 with an Allow header listing the documented
/// methods, in problem+json, on every path. Found by scripts/fuzz.sh (unsupported_method):
/// paths mounted with `cfg.route` answered 404.
#[test]
fn undocumented_methods_are_405_with_allow() {
    let Some(app) = TestApp::spawn(Db::Sqlite) else {
        return;
    };
    let admin = app.admin();
    let mut paths: std::collections::BTreeMap<&str, BTreeSet<String>> = Default::default();
    for (m, p) in ROUTES {
        paths.entry(p).or_default().insert(m.to_uppercase());
    }
    for (p, methods) in paths {
        let path = p.replace("{id}", "00000000-0000-0000-0000-000000000000");
        for m in ["PUT", "DELETE", "TRACE", "PATCH", "POST"] {
            if methods.contains(m) {
                continue;
            }
            let r = app.send_raw(m, &path, Some(&admin), "application/json", b"{}", &[]);
            r.expect_problem(405, "method_not_allowed");
            let allow: BTreeSet<String> = r
                .header("allow")
                .unwrap_or_else(|| panic!("{m} {p}: no Allow header"))
                .split(',')
                .map(|s| s.trim().to_string())
                .collect();
            assert_eq!(allow, methods, "{m} {p}");
        }
    }
}

/// The document's enumerations list exactly the values the handlers accept, so that
/// schemathesis' positive and negative data mean what they say.
#[test]
fn enumerations_match_what_the_handlers_accept() {
    let Some(app) = TestApp::spawn(Db::Sqlite) else {
        return;
    };
    let doc = app.get("/api/v1/openapi.json", None).expect(200);
    let schemas = &doc["components"]["schemas"];
    let listed = |name: &str| -> BTreeSet<String> {
        schemas[name]["enum"]
            .as_array()
            .unwrap_or_else(|| panic!("{name} is not an enum"))
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect()
    };
    let set = |xs: &[&str]| -> BTreeSet<String> { xs.iter().map(|s| s.to_string()).collect() };
    assert_eq!(listed("Category"), set(ldr::api::disputes::CATEGORIES));
    assert_eq!(
        listed("DocumentKind"),
        set(ldr::api::disputes::DOCUMENT_KINDS)
    );
    assert_eq!(listed("OrgKind"), set(&ldr::domain::roles::ORG_KINDS));
    assert_eq!(listed("PanelRole"), set(&ldr::domain::roles::PANEL_ROLES));
    let roles: Vec<&str> = ldr::domain::roles::Role::ALL
        .iter()
        .map(|r| r.as_str())
        .collect();
    assert_eq!(listed("Role"), set(&roles));
    let states: Vec<&str> = ldr::domain::workflow::State::ALL
        .iter()
        .map(|s| s.as_str())
        .collect();
    assert_eq!(listed("State"), set(&states));
}

/// Dates are exactly YYYY-MM-DD, as the document's `format: date` says (chrono alone also took
/// `2026-3-2`, which schemathesis' negative data would send).
#[test]
fn dates_are_exactly_yyyy_mm_dd() {
    let Some(app) = TestApp::spawn(Db::Sqlite) else {
        return;
    };
    let admin = app.admin();
    let add = |from: &str| {
        app.get(
            &format!("/api/v1/calendar/working-days/add?from={from}&days=1"),
            Some(&admin),
        )
    };
    assert_eq!(add("2026-03-02").expect(200)["date"], "2026-03-03");
    for bad in [
        "2026-3-2",
        "2026-03-2",
        "%2B2026-03-02",
        "02026-03-02",
        "2026-03-02x",
    ] {
        add(bad).expect_problem(422, "validation_failed");
    }
}

/// Every success response documents its body (the file downloads excepted: the referral pack is
/// documented as `application/zip`), so that scripts/fuzz.sh's response_schema_conformance
/// checks what the server sends.
#[test]
fn success_responses_document_their_body() {
    let Some(app) = TestApp::spawn(Db::Sqlite) else {
        return;
    };
    let doc = app.get("/api/v1/openapi.json", None).expect(200);
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if path == "/api/v1/documents/{id}" {
                continue;
            }
            if path == "/api/v1/disputes/{id}/hearing.ics" {
                let ok = &op["responses"]["200"]["content"]["text/calendar"]["schema"];
                assert!(ok.is_object(), "{method} {path}: no text/calendar schema");
                continue;
            }
            if path == "/api/v1/disputes/{id}/referral-pack" {
                assert!(
                    op["responses"]["200"]["content"]["application/zip"].is_object(),
                    "{op}"
                );
                continue;
            }
            for (status, r) in op["responses"].as_object().unwrap() {
                // 204 No Content (DELETE /webhooks/{id}) has no body to document.
                if status == "204" {
                    assert!(
                        r.get("content").is_none(),
                        "{method} {path}: a 204 with a body"
                    );
                    continue;
                }
                if status.starts_with('2') {
                    assert!(
                        r["content"]["application/json"]["schema"].is_object(),
                        "{method} {path} {status}: no schema"
                    );
                }
            }
        }
    }
}

/// Every event type has a schema of its own in the document: its fields, `type` and
/// `expected_version`, who may send it and in which states (from the workflow table), and an
/// example that is a body of that type. The events' request body is their `oneOf`.
#[test]
fn every_event_type_has_its_schema_with_an_example() {
    let Some(app) = TestApp::spawn(Db::Sqlite) else {
        return;
    };
    let doc = app.get("/api/v1/openapi.json", None).expect(200);
    let schemas = &doc["components"]["schemas"];
    let body = &doc["paths"]["/api/v1/disputes/{id}/events"]["post"]["requestBody"]["content"]
        ["application/json"]["schema"];
    let listed: Vec<&str> = body["oneOf"]
        .as_array()
        .unwrap_or_else(|| panic!("the events' body is no oneOf: {body}"))
        .iter()
        .map(|r| {
            r["$ref"]
                .as_str()
                .unwrap()
                .trim_start_matches("#/components/schemas/")
        })
        .collect();
    assert_eq!(listed.len(), ldr::domain::workflow::PROCEDURE.len());
    assert_eq!(body["discriminator"]["propertyName"], "type");
    for t in ldr::domain::workflow::PROCEDURE {
        let name = t.event.as_str();
        let found: Vec<&serde_json::Value> = listed
            .iter()
            .map(|n| &schemas[*n])
            .filter(|s| s["properties"]["type"]["enum"] == serde_json::json!([name]))
            .collect();
        assert_eq!(found.len(), 1, "{name}: one schema");
        let s = found[0];
        assert_eq!(
            body["discriminator"]["mapping"][name].as_str(),
            Some(
                format!(
                    "#/components/schemas/{}",
                    listed[listed.iter().position(|n| &schemas[*n] == s).unwrap()]
                )
                .as_str()
            ),
            "{name}"
        );
        let example = s["example"]
            .as_object()
            .unwrap_or_else(|| panic!("{name}: no example: {s}"));
        assert_eq!(example["type"], name, "{name}");
        for key in example.keys() {
            assert!(
                s["properties"][key].is_object(),
                "{name}: the example's {key} is not documented"
            );
        }
        let required: Vec<&str> = s["required"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap())
            .collect();
        assert!(required.contains(&"type"), "{name}");
        for r in &required {
            assert!(example.contains_key(*r), "{name}: the example lacks {r}");
        }
        assert!(s["properties"]["expected_version"].is_object(), "{name}");
        assert_eq!(s["additionalProperties"], false, "{name}");
        let description = s["description"].as_str().unwrap();
        assert!(description.contains("Sent by "), "{name}: {description}");
        for state in t.from {
            assert!(
                description.contains(state.as_str()),
                "{name}: {description} does not name {state}"
            );
        }
    }
}

/// Issue #31's directory routes (`GET /me`, `GET /users`, `PATCH /organisations/{id}`, moving a
/// user with `PATCH /users/{id}`) are documented with an example each, whose fields are the
/// schema's; `GET /me`'s example has the fields the service answers with.
#[test]
fn the_directory_routes_a_new_user_needs_have_examples() {
    let Some(app) = TestApp::spawn(Db::Sqlite) else {
        return;
    };
    let doc = app.get("/api/v1/openapi.json", None).expect(200);
    let schema = |r: &Value| -> Value {
        match r["$ref"].as_str() {
            Some(name) => doc["components"]["schemas"]
                [name.trim_start_matches("#/components/schemas/")]
            .clone(),
            None => r.clone(),
        }
    };
    let keys = |v: &Value| -> BTreeSet<String> {
        v.as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default()
    };
    let mut examples = Vec::new();
    for (method, path, request) in [
        ("get", "/api/v1/me", false),
        ("get", "/api/v1/users", false),
        ("patch", "/api/v1/organisations/{id}", true),
        ("patch", "/api/v1/users/{id}", true),
    ] {
        let op = &doc["paths"][path][method];
        let s = if request {
            schema(&op["requestBody"]["content"]["application/json"]["schema"])
        } else {
            schema(&op["responses"]["200"]["content"]["application/json"]["schema"])
        };
        let example = s["example"].clone();
        assert!(example.is_object(), "{method} {path}: no example: {s}");
        let documented = keys(&s["properties"]);
        assert!(
            keys(&example).is_subset(&documented),
            "{method} {path}: {example} has fields the schema does not: {documented:?}"
        );
        examples.push(example);
    }
    // Moving a user is shown: the example names the organisation to move to.
    assert!(
        examples[3]["organisation_id"].is_string(),
        "{}",
        examples[3]
    );
    // The example of GET /me is what the service answers, field for field.
    let me = app.get("/api/v1/me", Some(&app.admin())).expect(200);
    assert_eq!(keys(&me), keys(&examples[0]), "{me}");
    assert_eq!(
        keys(&me["organisation"]),
        keys(&examples[0]["organisation"])
    );
}

/// Issue #31 point 5: the FHSU determination's outcome says who won, and its values are in
/// the document (the event's field and the dispute's).
#[test]
fn the_fhsu_outcome_values_are_documented() {
    let Some(app) = TestApp::spawn(Db::Sqlite) else {
        return;
    };
    let doc = app.get("/api/v1/openapi.json", None).expect(200);
    let schemas = &doc["components"]["schemas"];
    assert_eq!(
        schemas["FhsuOutcome"]["enum"],
        serde_json::json!(["appellant", "respondent", "partly"])
    );
    let refers = |v: &Value| v.to_string().contains("#/components/schemas/FhsuOutcome");
    assert!(
        refers(&schemas["RecordFhsuDeterminationEvent"]["properties"]["outcome"]),
        "{}",
        schemas["RecordFhsuDeterminationEvent"]
    );
    assert!(
        schemas["RecordFhsuDeterminationEvent"]["properties"]["summary"].is_object(),
        "{}",
        schemas["RecordFhsuDeterminationEvent"]
    );
    assert!(
        refers(&schemas["FhsuDetermination"]["properties"]["outcome"]),
        "{}",
        schemas["FhsuDetermination"]
    );
}
