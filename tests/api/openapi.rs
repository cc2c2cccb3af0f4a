//! `GET /api/openapi.json`: a valid OpenAPI 3.1 document that names every route the server serves,
//! with schemas the real answers match.

use crate::harness::{TestServer, ADMIN_TOKEN};
use crate::receiver::Receiver;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::time::Duration;

async fn document(s: &TestServer) -> Value {
    let a = s.call(Method::GET, "/api/openapi.json", None, None).await;
    assert_eq!(a.status, StatusCode::OK, "served without a key");
    a.body
}

/// Every `(METHOD, path)` the document describes.
fn operations(doc: &Value) -> Vec<(Method, String)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            out.push((Method::from_bytes(method.to_uppercase().as_bytes()).unwrap(), path.clone()));
        }
    }
    out
}

fn collect_refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref") {
                out.push(r.clone());
            }
            map.values().for_each(|v| collect_refs(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

#[tokio::test]
async fn the_document_is_valid_openapi_3_1() {
    let s = TestServer::start().await;
    let doc = document(&s).await;
    assert_eq!(doc["openapi"], "3.1.0");
    let parsed = oas3::from_json(doc.to_string()).expect("an OpenAPI 3.1 document");
    assert_eq!(parsed.info.title, "Monay Webhooks");

    let mut refs = Vec::new();
    collect_refs(&doc, &mut refs);
    assert!(refs.len() > 20, "schemas are shared through components");
    for r in refs {
        let pointer = r.strip_prefix('#').unwrap_or_else(|| panic!("{r} is not a local reference"));
        assert!(doc.pointer(pointer).is_some(), "{r} does not resolve");
    }

    let mut ids = BTreeSet::new();
    for (method, path) in operations(&doc) {
        let op = &doc["paths"][&path][method.as_str().to_lowercase()];
        let id = op["operationId"].as_str().unwrap().to_string();
        assert!(ids.insert(id.clone()), "operationId {id} is used twice");
        assert!(!op["summary"].as_str().unwrap_or("").is_empty(), "{method} {path} has a summary");
        assert!(op["responses"].as_object().is_some_and(|r| r.keys().any(|k| k.starts_with('2'))), "{method} {path}");
        for name in path.split('/').filter_map(|p| p.strip_prefix('{').and_then(|p| p.strip_suffix('}'))) {
            let declared = op["parameters"].as_array().unwrap().iter().any(|p| p["in"] == "path" && p["name"] == name);
            assert!(declared, "{method} {path} declares {{{name}}}");
        }
    }
}

/// The spec's REST table: the document must hold at least these, and the server must serve every
/// operation the document holds.
#[tokio::test]
async fn every_route_is_documented_and_every_documented_route_is_served() {
    let s = TestServer::start().await;
    let doc = document(&s).await;
    let documented: BTreeSet<String> = operations(&doc).iter().map(|(m, p)| format!("{m} {p}")).collect();
    for expected in [
        "POST /api/webhooks",
        "GET /api/webhooks",
        "GET /api/webhooks/{id}",
        "PATCH /api/webhooks/{id}",
        "DELETE /api/webhooks/{id}",
        "POST /api/webhooks/{id}/test",
        "POST /api/webhooks/{id}/rotate-secret",
        "POST /api/webhooks/verify",
        "POST /api/events",
        "GET /api/events",
        "GET /api/deliveries",
        "GET /api/deliveries/{id}",
        "POST /api/deliveries/{id}/retry",
        "GET /api/deliveries/export.csv",
        "GET /api/stats",
        "GET /api/webhooks/{id}/stats",
        "GET /api/alerts",
        "GET /api/audit",
        "GET /api/stream",
        "GET /api/event-types",
        "GET /api/keys",
        "POST /api/keys",
        "DELETE /api/keys/{id}",
        "GET /api/openapi.json",
        "GET /healthz",
        "GET /readyz",
        "GET /metrics",
    ] {
        assert!(documented.contains(expected), "{expected} is missing from the document");
    }

    let client = reqwest::Client::new();
    for (method, path) in operations(&doc) {
        let concrete = path.replace("{id}", "unknown_0");
        let mut req = client.request(method.clone(), s.url(&concrete)).bearer_auth(ADMIN_TOKEN);
        if method == Method::POST || method == Method::PATCH {
            req = req.json(&json!({}));
        }
        // Headers are enough: the stream never ends.
        let resp = tokio::time::timeout(Duration::from_secs(10), req.send()).await.unwrap().unwrap();
        let status = resp.status();
        let body: Value =
            if path.ends_with("/stream") { Value::Null } else { resp.json().await.unwrap_or(Value::Null) };
        let fallback = status == StatusCode::METHOD_NOT_ALLOWED
            || (status == StatusCode::NOT_FOUND
                && body["error"]["message"].as_str().is_some_and(|m| m.starts_with("no route")));
        assert!(!fallback, "{method} {path} is documented but not served ({status} {body})");
    }
}

/// Routes reach axum only through the documented route table: no module of the API registers one
/// on its own.
#[test]
fn the_api_registers_routes_only_through_the_documented_table() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/api");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().unwrap() == "openapi.rs" {
            continue;
        }
        let source = std::fs::read_to_string(&path).unwrap();
        for needle in [".route(", "Router::new()", ".nest(", "routing::"] {
            assert!(!source.contains(needle), "{} registers a route outside the table ({needle})", path.display());
        }
        checked += 1;
    }
    assert!(checked > 10);
}

/// Object schemas closed to fields they do not name, so an undocumented field in an answer fails.
fn closed(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut out: serde_json::Map<String, Value> = map.iter().map(|(k, v)| (k.clone(), closed(v))).collect();
            if out.contains_key("properties") && !out.contains_key("additionalProperties") {
                out.insert("unevaluatedProperties".into(), Value::Bool(false));
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(closed).collect()),
        other => other.clone(),
    }
}

fn validate(doc: &Value, schema: &Value, instance: &Value, what: &str) {
    let root = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "components": closed(&doc["components"]),
        "allOf": [schema],
    });
    let validator = jsonschema::validator_for(&root).unwrap_or_else(|e| panic!("{what}: schema does not compile: {e}"));
    let errors: Vec<String> =
        validator.iter_errors(instance).map(|e| format!("{e} at {}", e.instance_path())).collect();
    assert!(errors.is_empty(), "{what} does not match its documented schema: {errors:?}\n{instance}");
}

fn response_schema<'a>(doc: &'a Value, method: &str, path: &str, status: &str) -> &'a Value {
    let schema = &doc["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"];
    assert!(!schema.is_null(), "{method} {path} documents a {status} JSON answer");
    schema
}

fn request_schema<'a>(doc: &'a Value, method: &str, path: &str) -> &'a Value {
    &doc["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]
}

/// Real answers, with real deliveries behind them, match the documented schemas; a schema that
/// described a field the server does not send (or the reverse, where it forbids extras) would fail.
#[tokio::test]
async fn real_answers_match_their_documented_schemas() {
    let s = TestServer::start().await;
    let doc = document(&s).await;
    let r = Receiver::start().await;

    let create = json!({"url": r.url("/hook"), "events": ["wallet.*"], "description": "docs"});
    validate(&doc, request_schema(&doc, "post", "/api/webhooks"), &create, "the create request");
    let hook = s.post(ADMIN_TOKEN, "/api/webhooks", create).await;
    validate(&doc, response_schema(&doc, "post", "/api/webhooks", "201"), &hook.body, "POST /api/webhooks");
    let id = hook.body["id"].as_str().unwrap().to_string();

    let event = json!({"event": "wallet.created", "data": {"walletId": "w1", "balance": 10}});
    validate(&doc, request_schema(&doc, "post", "/api/events"), &event, "the publish request");
    let published = s.post(ADMIN_TOKEN, "/api/events", event).await;
    validate(&doc, response_schema(&doc, "post", "/api/events", "202"), &published.body, "POST /api/events");
    r.wait_for(1, Duration::from_secs(15)).await;

    let test = s.post(ADMIN_TOKEN, &format!("/api/webhooks/{id}/test"), json!({})).await;
    validate(&doc, response_schema(&doc, "post", "/api/webhooks/{id}/test", "200"), &test.body, "test send");

    let cases = [
        ("/api/webhooks", "/api/webhooks".to_string()),
        ("/api/webhooks/{id}", format!("/api/webhooks/{id}")),
        ("/api/webhooks/{id}/secret", format!("/api/webhooks/{id}/secret")),
        ("/api/webhooks/{id}/stats", format!("/api/webhooks/{id}/stats")),
        ("/api/events", "/api/events".to_string()),
        ("/api/deliveries", "/api/deliveries".to_string()),
        ("/api/stats", "/api/stats?window=1h".to_string()),
        ("/api/alerts", "/api/alerts".to_string()),
        ("/api/audit", "/api/audit".to_string()),
        ("/api/event-types", "/api/event-types".to_string()),
        ("/api/keys", "/api/keys".to_string()),
        ("/healthz", "/healthz".to_string()),
        ("/readyz", "/readyz".to_string()),
    ];
    for (template, concrete) in cases {
        let a = s.get(ADMIN_TOKEN, &concrete).await;
        assert_eq!(a.status, StatusCode::OK, "{concrete}: {}", a.body);
        validate(&doc, response_schema(&doc, "get", template, "200"), &a.body, &format!("GET {concrete}"));
    }

    let deliveries = s.get(ADMIN_TOKEN, "/api/deliveries").await;
    let delivery_id = deliveries.body["data"][0]["id"].as_str().unwrap().to_string();
    let one = s.get(ADMIN_TOKEN, &format!("/api/deliveries/{delivery_id}")).await;
    assert!(!one.body["attempts"].as_array().unwrap().is_empty());
    validate(&doc, response_schema(&doc, "get", "/api/deliveries/{id}", "200"), &one.body, "a delivery with attempts");

    let bad = s.post(ADMIN_TOKEN, "/api/webhooks", json!({"url": "ftp://x", "events": ["wallet.created"]})).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    validate(&doc, response_schema(&doc, "post", "/api/webhooks", "422"), &bad.body, "a validation error");

    // The check has teeth: a body missing a required field is refused.
    let root =
        json!({"components": doc["components"], "allOf": [response_schema(&doc, "get", "/api/webhooks/{id}", "200")]});
    let mut broken = hook.body.clone();
    broken.as_object_mut().unwrap().remove("url");
    assert!(!jsonschema::validator_for(&root).unwrap().is_valid(&broken), "a webhook without url must not validate");
    let closed_root = json!({"components": closed(&doc["components"]), "allOf": [response_schema(&doc, "get", "/api/webhooks/{id}", "200")]});
    let mut extra = hook.body.clone();
    extra["undocumented"] = json!(1);
    assert!(
        !jsonschema::validator_for(&closed_root).unwrap().is_valid(&extra),
        "an undocumented field must not validate"
    );
}
