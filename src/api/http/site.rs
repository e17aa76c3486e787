//! The site's two halves: the API's operations, and the pages beside them (the document at
//! `/openapi.json`, Swagger UI under `/docs`, the admin page under `/admin`).
//!
//! Chosen by a look at the path rather than by nesting the API in a `Route` at "/": poem's
//! nest rebuilds every request's URI and adds to its extensions on the way in, a cost each
//! API request paid for nothing (its path stays as it came).

use poem::{Endpoint, IntoResponse, Request, Response};

pub struct Site<Api, Pages> {
    pub api: Api,
    pub pages: Pages,
}

impl<Api: Endpoint, Pages: Endpoint> Endpoint for Site<Api, Pages> {
    type Output = Response;

    async fn call(&self, request: Request) -> poem::Result<Response> {
        if is_page(request.uri().path()) {
            self.pages
                .call(request)
                .await
                .map(IntoResponse::into_response)
        } else {
            self.api
                .call(request)
                .await
                .map(IntoResponse::into_response)
        }
    }
}

fn is_page(path: &str) -> bool {
    path == "/openapi.json" || is_under(path, "/docs") || is_under(path, "/admin")
}

/// `prefix` itself or a path below it (not `/docsx`).
fn is_under(path: &str, prefix: &str) -> bool {
    path.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use super::is_page;

    #[test]
    fn pages_are_the_document_swagger_ui_and_the_admin_page() {
        for page in [
            "/openapi.json",
            "/docs",
            "/docs/",
            "/docs/index.css",
            "/admin",
            "/admin/x",
        ] {
            assert!(is_page(page), "{page}");
        }
        for api in [
            "/healthz",
            "/api/v1/chat/threads",
            "/docsx",
            "/administrators",
            "/",
        ] {
            assert!(!is_page(api), "{api}");
        }
    }
}
