//! What the OpenAPI document's own paths tell about a request: the `Allow` header of a 405
//! (RFC 9110 §15.5.6), listing exactly the methods the document does, and the names of path
//! parameters, which poem-openapi reports as `param0`, `param1`, ... when one fails to parse.

use std::collections::BTreeSet;
use std::sync::Arc;

use poem::http::HeaderValue;
use poem::{IntoResponse, Response};
use poem_openapi::error::ParsePathError;
use serde_json::Value;

use crate::api::http::error::param_issue;

/// A path template split into segments: `Err(name)` for a `{name}` parameter.
type Template = Vec<Result<String, String>>;

/// Each path template with its methods.
#[derive(Clone)]
pub struct DocumentPaths {
    paths: Arc<Vec<(Template, HeaderValue)>>,
}

impl DocumentPaths {
    /// `document` is the service's OpenAPI document, as JSON.
    pub fn from_document(document: &str) -> Self {
        let document: Value = serde_json::from_str(document).expect("the OpenAPI document");
        let mut paths = Vec::new();
        for (template, item) in document["paths"].as_object().into_iter().flatten() {
            let mut methods: BTreeSet<String> = item
                .as_object()
                .into_iter()
                .flatten()
                .map(|(method, _)| method.to_uppercase())
                .collect();
            if methods.contains("GET") {
                methods.insert("HEAD".into());
            }
            let methods = methods.into_iter().collect::<Vec<_>>().join(", ");
            let segments = template
                .trim_start_matches('/')
                .split('/')
                .map(|segment| match segment.strip_prefix('{') {
                    Some(name) => Err(name.trim_end_matches('}').to_string()),
                    None => Ok(segment.to_string()),
                })
                .collect();
            if let Ok(methods) = HeaderValue::from_str(&methods) {
                paths.push((segments, methods));
            }
        }
        DocumentPaths {
            paths: Arc::new(paths),
        }
    }

    fn template(&self, path: &str) -> Option<&(Template, HeaderValue)> {
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        self.paths.iter().find(|(template, _)| {
            template.len() == segments.len()
                && template
                    .iter()
                    .zip(&segments)
                    .all(|(part, segment)| part.as_ref().map_or(true, |part| part == segment))
        })
    }

    /// The `Allow` header of a 405 for `path`.
    pub(super) fn methods(&self, path: &str) -> Option<HeaderValue> {
        self.template(path).map(|(_, methods)| methods.clone())
    }

    /// The name of the `index`th parameter of the template `path` matches.
    fn parameter_name(&self, path: &str, index: usize) -> Option<String> {
        let (template, _) = self.template(path)?;
        template
            .iter()
            .filter_map(|part| part.as_ref().err())
            .nth(index)
            .cloned()
    }

    /// The API's 422 for a path parameter that did not parse, under its documented name.
    pub(super) fn path_error(&self, path: &str, error: &ParsePathError) -> Option<Response> {
        let index = error.name.strip_prefix("param")?.parse().ok()?;
        let name = self.parameter_name(path, index)?;
        Some(param_issue("path", &name, &error.reason).into_response())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_match_segment_by_segment() {
        let paths = DocumentPaths::from_document(
            r#"{"paths": {"/a/{id}": {"get": {}, "patch": {}}, "/a": {"post": {}},
                "/a/{id}/b/{other}": {"get": {}}}}"#,
        );
        assert_eq!(paths.methods("/a/7").unwrap(), "GET, HEAD, PATCH");
        assert_eq!(paths.methods("/a").unwrap(), "POST");
        assert!(paths.methods("/a/7/c").is_none());
        assert_eq!(
            paths.parameter_name("/a/7/b/x", 1).as_deref(),
            Some("other")
        );
    }
}
