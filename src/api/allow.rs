//! `Allow` on every 405 (RFC 9110 §15.5.6), from the OpenAPI document's own paths, so that it
//! lists exactly the methods the document does.

use std::collections::BTreeSet;
use std::sync::Arc;

use poem::http::header::ALLOW;
use poem::http::{HeaderValue, StatusCode};
use poem::{Endpoint, IntoResponse, Middleware, Request, Response};
use serde_json::Value;

/// Each path template, split into segments (`None` for a `{parameter}`), with its methods.
#[derive(Clone)]
pub struct AllowedMethods {
    paths: Arc<Vec<(Vec<Option<String>>, HeaderValue)>>,
}

impl AllowedMethods {
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
                .map(|segment| (!segment.starts_with('{')).then(|| segment.to_string()))
                .collect();
            if let Ok(methods) = HeaderValue::from_str(&methods) {
                paths.push((segments, methods));
            }
        }
        AllowedMethods {
            paths: Arc::new(paths),
        }
    }

    fn for_path(&self, path: &str) -> Option<HeaderValue> {
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        self.paths
            .iter()
            .find(|(template, _)| {
                template.len() == segments.len()
                    && template
                        .iter()
                        .zip(&segments)
                        .all(|(part, segment)| part.as_deref().is_none_or(|part| part == *segment))
            })
            .map(|(_, methods)| methods.clone())
    }
}

impl<E: Endpoint> Middleware<E> for AllowedMethods {
    type Output = AllowedMethodsEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        AllowedMethodsEndpoint {
            inner,
            methods: self.clone(),
        }
    }
}

pub struct AllowedMethodsEndpoint<E> {
    inner: E,
    methods: AllowedMethods,
}

impl<E: Endpoint> Endpoint for AllowedMethodsEndpoint<E> {
    type Output = Response;

    async fn call(&self, request: Request) -> poem::Result<Response> {
        let path = request.uri().path().to_string();
        let mut response = self.inner.call(request).await?.into_response();
        if response.status() == StatusCode::METHOD_NOT_ALLOWED {
            if let Some(methods) = self.methods.for_path(&path) {
                response.headers_mut().insert(ALLOW, methods);
            }
        }
        Ok(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_match_segment_by_segment() {
        let methods = AllowedMethods::from_document(
            r#"{"paths": {"/a/{id}": {"get": {}, "patch": {}}, "/a": {"post": {}}}}"#,
        );
        assert_eq!(methods.for_path("/a/7").unwrap(), "GET, HEAD, PATCH");
        assert_eq!(methods.for_path("/a").unwrap(), "POST");
        assert!(methods.for_path("/a/7/b").is_none());
    }
}
