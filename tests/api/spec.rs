//! Reads the server's own /openapi.json: its operations, and plausible values for their
//! parameters and bodies, so that tests cover every endpoint, including ones added later.

use std::collections::HashMap;

use serde_json::{json, Map, Value};

use crate::harness::Server;

#[derive(Debug, Clone)]
pub struct Parameter {
    pub name: String,
    pub location: String,
    pub required: bool,
    pub schema: Value,
}

#[derive(Debug, Clone)]
pub struct Operation {
    pub method: reqwest::Method,
    /// As in the document: `/api/v1/companies/{company_id}`.
    pub path: String,
    pub parameters: Vec<Parameter>,
    /// The body's content type and schema, when it takes one.
    pub body: Option<(String, Value)>,
    pub secured: bool,
}

impl Operation {
    pub fn label(&self) -> String {
        format!("{} {}", self.method, self.path)
    }

    pub fn has_parameter(&self, name: &str) -> bool {
        self.parameters.iter().any(|p| p.name == name)
    }
}

pub struct Spec {
    document: Value,
}

impl Spec {
    pub fn fetch(server: &Server) -> Spec {
        Spec {
            document: server.openapi_document(),
        }
    }

    pub fn operations(&self) -> Vec<Operation> {
        let mut operations = Vec::new();
        for (path, item) in self.document["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                let Ok(method) = method.to_uppercase().parse() else {
                    continue;
                };
                let parameters = operation["parameters"]
                    .as_array()
                    .map(|list| {
                        list.iter()
                            .map(|p| Parameter {
                                name: p["name"].as_str().unwrap().to_string(),
                                location: p["in"].as_str().unwrap().to_string(),
                                required: p["required"].as_bool().unwrap_or(false),
                                schema: p["schema"].clone(),
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let body = operation["requestBody"]["content"]
                    .as_object()
                    .and_then(|content| content.iter().next())
                    .map(|(content_type, media)| (content_type.clone(), media["schema"].clone()));
                let secured = operation["security"]
                    .as_array()
                    .is_some_and(|list| !list.is_empty());
                operations.push(Operation {
                    method,
                    path: path.clone(),
                    parameters,
                    body,
                    secured,
                });
            }
        }
        operations
    }

    fn resolve<'a>(&'a self, schema: &'a Value) -> &'a Value {
        match schema["$ref"].as_str() {
            Some(reference) => {
                let name = reference.rsplit('/').next().unwrap();
                self.resolve(&self.document["components"]["schemas"][name])
            }
            None => schema,
        }
    }

    /// A value that the schema accepts, taking `known[name]` for fields and parameters of
    /// that name (ids of fixtures the test made).
    pub fn example(&self, schema: &Value, known: &HashMap<String, Value>) -> Value {
        let schema = self.resolve(schema);
        if let Some(first) = schema["allOf"].as_array().and_then(|list| list.first()) {
            return self.example(first, known);
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(first) = schema[key].as_array().and_then(|list| list.first()) {
                return self.example(first, known);
            }
        }
        if let Some(first) = schema["enum"].as_array().and_then(|list| list.first()) {
            return first.clone();
        }
        match schema["type"].as_str().unwrap_or("object") {
            "integer" | "number" => {
                json!(schema["minimum"].as_f64().unwrap_or(1.0).max(1.0) as i64)
            }
            "boolean" => json!(true),
            "array" => json!([self.example(&schema["items"], known)]),
            "string" => json!(match schema["format"].as_str() {
                Some("date-time") => "2026-01-01T00:00:00Z".to_string(),
                Some("email") => "someone@example.com".to_string(),
                Some("uri") => "https://maps.example.com/place/1".to_string(),
                _ => "x".repeat(schema["minLength"].as_u64().unwrap_or(1).max(1) as usize),
            }),
            _ => {
                let mut object = Map::new();
                if let Some(properties) = schema["properties"].as_object() {
                    for (name, property) in properties {
                        let value = known
                            .get(name)
                            .cloned()
                            .unwrap_or_else(|| self.example(property, known));
                        object.insert(name.clone(), value);
                    }
                }
                Value::Object(object)
            }
        }
    }
}

/// Percent-encodes a path segment or query value.
pub fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (byte as char).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

fn text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// A request for `operation`: parameters from `known` (else plausible values; optional query
/// parameters only when known), and a body that its schema accepts.
pub fn request(
    server: &Server,
    spec: &Spec,
    operation: &Operation,
    known: &HashMap<String, Value>,
    token: Option<&str>,
) -> reqwest::blocking::RequestBuilder {
    let mut path = operation.path.clone();
    let mut query = Vec::new();
    for parameter in &operation.parameters {
        let value = known.get(&parameter.name);
        let value = match (parameter.location.as_str(), value) {
            (_, Some(value)) => text(value),
            ("path", None) => text(&spec.example(&parameter.schema, known)),
            ("query", None) if parameter.required => text(&spec.example(&parameter.schema, known)),
            _ => continue,
        };
        match parameter.location.as_str() {
            "path" => path = path.replace(&format!("{{{}}}", parameter.name), &encode(&value)),
            "query" => query.push(format!("{}={}", parameter.name, encode(&value))),
            _ => {}
        }
    }
    let url = if query.is_empty() {
        server.url(&path)
    } else {
        server.url(&format!("{path}?{}", query.join("&")))
    };
    let mut builder = server.client.request(operation.method.clone(), url);
    if let Some(token) = token {
        builder = builder.bearer_auth(token);
    }
    if let Some((content_type, schema)) = &operation.body {
        let body = spec.example(schema, known);
        builder = if content_type.contains("form-urlencoded") {
            let pairs: Vec<(String, String)> = body
                .as_object()
                .unwrap()
                .iter()
                .map(|(name, value)| (name.clone(), text(value)))
                .collect();
            builder.form(&pairs)
        } else {
            builder.json(&body)
        };
    }
    builder
}
