//! The route table and the OpenAPI 3.1 document built from it (`GET /api/openapi.json`).
//!
//! Resource modules describe each route as an [`Op`]: method, path, handler, summary, and the Rust
//! types of its query, body and answers. [`Routes`] hands the handler to axum and keeps the
//! description, so no route can be served without being documented. Schemas are derived from the
//! same types serde reads and writes (`schemars`), so the document follows the code.

use crate::state::AppState;
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::MethodRouter;
use axum::Router;
use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde_json::{json, Map, Value};

type SchemaFn = fn(&mut SchemaGenerator) -> Schema;

fn schema_of<T: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    generator.subschema_for::<T>()
}

fn inline_schema_of<T: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    generator.root_schema_for::<T>()
}

/// Who may call a route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// No key needed.
    Public,
    /// Any valid key (tenant keys see their tenant only).
    Key,
    /// Admin keys only.
    Admin,
}

enum Content {
    Empty,
    Error,
    Json(SchemaFn),
    Text(&'static str),
}

struct Answer {
    status: u16,
    description: &'static str,
    content: Content,
}

/// The description of one route, without its handler.
pub struct Doc {
    pub method: Method,
    pub path: String,
    tag: &'static str,
    operation_id: String,
    summary: &'static str,
    description: Option<&'static str>,
    access: Access,
    query: Option<SchemaFn>,
    body: Option<SchemaFn>,
    /// May the body be left out?
    body_optional: bool,
    /// Optional request headers: name, description, a pattern their value must match.
    headers: Vec<(&'static str, &'static str, &'static str)>,
    answers: Vec<Answer>,
}

/// One route: its handler and its description.
pub struct Op {
    handler: MethodRouter<AppState>,
    doc: Doc,
}

macro_rules! method_fn {
    ($name:ident, $method:ident) => {
        #[doc = concat!("A `", stringify!($method), "` route.")]
        pub fn $name<H, T>(path: &'static str, handler: H) -> Op
        where
            H: Handler<T, AppState>,
            T: 'static,
        {
            Op::new(Method::$method, path, operation_id::<H>(), axum::routing::$name(handler))
        }
    };
}
method_fn!(get, GET);
method_fn!(post, POST);
method_fn!(patch, PATCH);
method_fn!(delete, DELETE);

/// `listWebhooks` from the handler `…::list_webhooks`.
fn operation_id<H>() -> String {
    let name = std::any::type_name::<H>().rsplit("::").next().unwrap_or("operation");
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for ch in name.chars() {
        if ch == '_' {
            upper = true;
        } else if upper {
            out.extend(ch.to_uppercase());
            upper = false;
        } else {
            out.push(ch);
        }
    }
    out
}

impl Op {
    fn new(method: Method, path: &'static str, operation_id: String, handler: MethodRouter<AppState>) -> Self {
        let doc = Doc {
            method,
            path: path.to_string(),
            tag: "",
            operation_id,
            summary: "",
            description: None,
            access: Access::Key,
            query: None,
            body: None,
            body_optional: false,
            headers: Vec::new(),
            answers: Vec::new(),
        };
        Self { handler, doc }
    }

    pub fn summary(mut self, summary: &'static str) -> Self {
        self.doc.summary = summary;
        self
    }

    pub fn describe(mut self, description: &'static str) -> Self {
        self.doc.description = Some(description);
        self
    }

    pub fn access(mut self, access: Access) -> Self {
        self.doc.access = access;
        self
    }

    /// Query parameters: the fields of `Q`.
    pub fn query<Q: JsonSchema>(mut self) -> Self {
        self.doc.query = Some(inline_schema_of::<Q>);
        self
    }

    /// A JSON request body of type `B`.
    pub fn body<B: JsonSchema>(mut self) -> Self {
        self.doc.body = Some(schema_of::<B>);
        self
    }

    /// A JSON request body of type `B` that may be left out (an empty body means the defaults).
    pub fn optional_body<B: JsonSchema>(mut self) -> Self {
        self.doc.body = Some(schema_of::<B>);
        self.doc.body_optional = true;
        self
    }

    /// An optional request header whose value matches `pattern`.
    pub fn header(mut self, name: &'static str, description: &'static str, pattern: &'static str) -> Self {
        self.doc.headers.push((name, description, pattern));
        self
    }

    /// A JSON answer of type `R`.
    pub fn json<R: JsonSchema>(mut self, status: u16, description: &'static str) -> Self {
        self.doc.answers.push(Answer { status, description, content: Content::Json(schema_of::<R>) });
        self
    }

    /// An answer without a body.
    pub fn empty(mut self, status: u16, description: &'static str) -> Self {
        self.doc.answers.push(Answer { status, description, content: Content::Empty });
        self
    }

    /// A failure particular to this route (409, 413, …), with the usual error body.
    pub fn error(mut self, status: u16, description: &'static str) -> Self {
        self.doc.answers.push(Answer { status, description, content: Content::Error });
        self
    }

    /// A non-JSON answer (`text/csv`, `text/event-stream`, …).
    pub fn text(mut self, status: u16, media_type: &'static str, description: &'static str) -> Self {
        self.doc.answers.push(Answer { status, description, content: Content::Text(media_type) });
        self
    }

    /// Wraps the handler (a body limit, say).
    pub fn layer(mut self, wrap: impl FnOnce(MethodRouter<AppState>) -> MethodRouter<AppState>) -> Self {
        self.handler = wrap(self.handler);
        self
    }
}

/// Routes being registered, with their descriptions.
pub struct Routes {
    router: Router<AppState>,
    docs: Vec<Doc>,
    tag: &'static str,
}

impl Routes {
    /// Routes documented under `tag`.
    pub fn new(tag: &'static str) -> Self {
        Self { router: Router::new(), docs: Vec::new(), tag }
    }

    pub fn op(mut self, mut op: Op) -> Self {
        op.doc.tag = self.tag;
        self.router = self.router.route(&op.doc.path, op.handler);
        self.docs.push(op.doc);
        self
    }

    pub fn merge(mut self, other: Routes) -> Self {
        self.router = self.router.merge(other.router);
        self.docs.extend(other.docs);
        self
    }

    /// Changes the router (fallbacks, say) without adding routes.
    pub fn map_router(mut self, change: impl FnOnce(Router<AppState>) -> Router<AppState>) -> Self {
        self.router = change(self.router);
        self
    }

    /// These routes under `prefix`.
    pub fn nest(prefix: &'static str, inner: Routes) -> Self {
        let docs = inner.docs.into_iter().map(|d| Doc { path: format!("{prefix}{}", d.path), ..d }).collect();
        Self { router: Router::new().nest(prefix, inner.router), docs, tag: "" }
    }

    /// The axum router and the descriptions of what it serves.
    pub fn into_parts(self) -> (Router<AppState>, Vec<Doc>) {
        (self.router, self.docs)
    }
}

/// The error body every failing call answers with.
#[derive(JsonSchema)]
#[allow(dead_code)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(JsonSchema)]
#[allow(dead_code)]
struct ErrorDetail {
    /// A stable, machine-readable code (`validation_error`, `not_found`, …).
    code: String,
    /// What went wrong, for a person.
    message: String,
    /// The request field at fault, as a path (`events[2]`), when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<String>,
}

const TAGS: &[(&str, &str)] = &[
    ("Webhooks", "Register receivers, manage their secrets, test and pause them."),
    ("Events", "Publish events; each is fanned out to the matching webhooks."),
    ("Deliveries", "Every delivery with its attempts, retry and CSV export."),
    ("Event types", "The event catalog."),
    ("Insight", "Statistics, alerts, the audit log and the live stream."),
    ("Keys", "API keys (admins)."),
    ("Verification", "Check a signature the way a receiver would."),
    ("Operations", "Health probes, Prometheus metrics and this document."),
];

/// The OpenAPI 3.1 document for `docs`.
pub fn document(docs: &[Doc]) -> Value {
    let settings = SchemaSettings::draft2020_12().with(|s| {
        s.definitions_path = "/components/schemas".into();
        s.meta_schema = None;
    });
    let mut generator = settings.into_generator();
    let error_ref = generator.subschema_for::<ErrorBody>().to_value();
    let mut paths = Map::new();
    for doc in docs {
        let operation = operation(doc, &mut generator, &error_ref);
        let item = paths.entry(doc.path.clone()).or_insert_with(|| json!({}));
        item[doc.method.as_str().to_lowercase()] = operation;
    }
    let schemas = generator.take_definitions(true);
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Monay Webhooks",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Self-hosted webhook delivery: publish events, and Monay Webhooks signs, delivers, \
                retries and logs them. Authenticate with `Authorization: Bearer <API key>`. Errors are \
                `{\"error\": {\"code\", \"message\", \"field\"?}}`; list endpoints page with `limit` and the \
                `nextCursor` of the previous page.",
        },
        "tags": TAGS.iter().map(|(name, description)| json!({"name": name, "description": description})).collect::<Vec<_>>(),
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "apiKey": {"type": "http", "scheme": "bearer", "description": "An API key (`mwk_…`)."}
            }
        },
        "security": [{"apiKey": []}],
    })
}

fn operation(doc: &Doc, generator: &mut SchemaGenerator, error_ref: &Value) -> Value {
    let mut parameters = Vec::new();
    for name in path_params(&doc.path) {
        parameters.push(json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}));
    }
    if let Some(query) = doc.query {
        let schema = query(generator).to_value();
        let required: Vec<&str> =
            schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
        if let Some(properties) = schema["properties"].as_object() {
            for (name, property) in properties {
                let mut property = property.clone();
                // An absent parameter is how a query string says "none": no `null` type.
                if let Some(types) = property.get_mut("type").and_then(Value::as_array_mut) {
                    types.retain(|t| t != "null");
                    if types.len() == 1 {
                        property["type"] = types[0].clone();
                    }
                }
                let description = property.as_object_mut().and_then(|p| p.remove("description"));
                let mut parameter = json!({
                    "name": name, "in": "query", "required": required.contains(&name.as_str()), "schema": property,
                });
                if let Some(description) = description {
                    parameter["description"] = description;
                }
                parameters.push(parameter);
            }
        }
    }
    for (name, description, pattern) in &doc.headers {
        parameters.push(json!({
            "name": name, "in": "header", "required": false, "description": description,
            "schema": {"type": "string", "pattern": pattern},
        }));
    }

    let mut responses = Map::new();
    for answer in &doc.answers {
        let mut response = json!({"description": answer.description});
        match answer.content {
            Content::Empty => {}
            Content::Error => response["content"] = json!({"application/json": {"schema": error_ref}}),
            Content::Json(schema) => {
                response["content"] = json!({"application/json": {"schema": schema(generator).to_value()}})
            }
            Content::Text(media_type) => response["content"] = json!({media_type: {"schema": {"type": "string"}}}),
        }
        responses.insert(answer.status.to_string(), response);
    }
    let error =
        |description: &str| json!({"description": description, "content": {"application/json": {"schema": error_ref}}});
    match (doc.body.is_some(), doc.query.is_some()) {
        (true, true) => {
            responses.insert("400".into(), error("The body is not JSON, or the query string cannot be read."))
        }
        (true, false) => responses.insert("400".into(), error("The body is not JSON.")),
        (false, true) => responses
            .insert("400".into(), error("The query string cannot be read (a repeated or malformed parameter).")),
        (false, false) => None,
    };
    if doc.body.is_some() {
        responses.entry("413").or_insert_with(|| error("The body is larger than this server accepts."));
    }
    if doc.body.is_some() || doc.query.is_some() {
        responses.insert("422".into(), error("A field breaks a rule; `field` names it."));
    }
    if doc.access != Access::Public {
        responses.insert("401".into(), error("No API key, or an unknown or revoked one."));
        responses.insert(
            "403".into(),
            error(match doc.access {
                Access::Admin => "The key is not an admin key.",
                _ => "The key may not do this: a tenant key naming another tenant.",
            }),
        );
        responses.insert(
            "429".into(),
            error("Too many unknown keys or failed sign-ins from this address; `Retry-After` says when to try again."),
        );
    }
    if !path_params(&doc.path).is_empty() {
        responses.insert("404".into(), error("No such object for this key."));
    }

    let mut operation = json!({
        "operationId": doc.operation_id,
        "tags": [doc.tag],
        "summary": doc.summary,
        "parameters": parameters,
        "responses": responses,
    });
    if let Some(description) = doc.description {
        operation["description"] = json!(description);
    }
    if let Some(body) = doc.body {
        operation["requestBody"] = json!({
            "required": !doc.body_optional,
            "content": {"application/json": {"schema": body(generator).to_value()}},
        });
    }
    if doc.access == Access::Public {
        operation["security"] = json!([]);
    }
    operation
}

/// `["id"]` for `/api/webhooks/{id}`.
fn path_params(path: &str) -> Vec<&str> {
    path.split('/').filter_map(|segment| segment.strip_prefix('{').and_then(|s| s.strip_suffix('}'))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_ids_are_camel_case_handler_names() {
        fn list_webhooks() {}
        fn id_of<H>(_: H) -> String {
            operation_id::<H>()
        }
        assert_eq!(id_of(list_webhooks), "listWebhooks");
    }

    #[test]
    fn path_parameters_are_found() {
        assert_eq!(path_params("/api/webhooks/{id}/stats"), vec!["id"]);
        assert!(path_params("/api/webhooks").is_empty());
    }
}
