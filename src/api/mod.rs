//! The HTTP surface: one module per tag. Handlers turn requests into store calls and back.

mod assistants;
mod auth;
mod campaign_generation;
mod campaign_steps;
mod campaigns;
mod companies;
mod connections;
mod health;
pub mod http;
mod members;
mod messages;
mod profile;
mod threads;
mod users;

use std::sync::Arc;

use poem::{Endpoint, IntoEndpoint, Route};
use poem_openapi::{OpenApiService, Tags};

use http::browser::AllowedOrigins;
use http::front::Front;
use http::limits::Limits;
use http::page;
use http::paths::DocumentPaths;
use http::site::Site;

use crate::assistant::Assistants;
use crate::auth::{PasswordGate, Passwords, Throttle};
use crate::config::Config;
use crate::store::Store;

pub use http::body::{acceptable, FormBody, JsonBody, JsonBodyCheckedLater, JsonBytes, JsonOut};
pub use http::browser::{content_security_policy, SecurityHeaders};
pub use http::client::ClientAddress;

#[derive(Tags)]
pub enum ApiTags {
    /// Sign in and out.
    Authentication,
    /// The signed-in user.
    Users,
    /// Client companies, their members and their Google connections.
    Companies,
    /// Assistant chat threads.
    #[oai(rename = "Chat Threads")]
    ChatThreads,
    /// Chat messages: write to a thread's assistant and read the conversation.
    #[oai(rename = "Chat Messages")]
    ChatMessages,
    /// The assistants and their instructions.
    Assistants,
    /// Campaign drafts: the 4-step wizard's saved plan for a Google Ads Search campaign.
    Campaigns,
    /// Liveness.
    Health,
}

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<Config>,
    pub passwords: Passwords,
    pub throttle: Arc<Throttle>,
    pub assistants: Arc<Assistants>,
}

impl AppState {
    /// What every check of a password goes through.
    pub fn password_gate(&self) -> PasswordGate<'_> {
        PasswordGate {
            store: &self.store,
            passwords: &self.passwords,
            throttle: &self.throttle,
            token_lifetime_secs: self.config.auth.token_lifetime_secs,
        }
    }
}

pub fn openapi(state: &AppState) -> OpenApiService<impl poem_openapi::OpenApi, ()> {
    OpenApiService::new(
        (
            auth::AuthApi {
                state: state.clone(),
            },
            users::UsersApi {
                state: state.clone(),
            },
            companies::CompaniesApi {
                state: state.clone(),
            },
            members::MembersApi {
                state: state.clone(),
            },
            connections::ConnectionsApi {
                state: state.clone(),
            },
            profile::ProfileApi {
                state: state.clone(),
            },
            threads::ThreadsApi {
                state: state.clone(),
            },
            messages::MessagesApi {
                state: state.clone(),
            },
            assistants::AssistantsApi {
                state: state.clone(),
            },
            campaigns::CampaignsApi {
                state: state.clone(),
            },
            campaign_steps::CampaignStepsApi {
                state: state.clone(),
            },
            campaign_generation::CampaignGenerationApi {
                state: state.clone(),
            },
            health::HealthApi {
                state: state.clone(),
            },
        ),
        "adthread",
        env!("CARGO_PKG_VERSION"),
    )
    .description(
        "Self-hosted AI-assistant chat threads for agencies that run Google Ads accounts and \
         Google Business Profile locations. Compatible with the published hosted API.",
    )
}

/// The whole application: the API, its document at `/openapi.json`, Swagger UI at `/docs` and
/// the admin page at `/admin`. Every response, errors included, goes through the limits, CORS
/// and the security headers.
pub fn app(state: AppState) -> impl Endpoint {
    let service = openapi(&state);
    let document = service.spec_endpoint();
    let swagger_page = service.swagger_ui_html();
    let swagger = service.swagger_ui();
    let paths = DocumentPaths::from_document(&service.spec());
    let pages = Route::new()
        .at("/openapi.json", document)
        .nest("/docs", swagger)
        .nest("/admin", page::AdminPage);
    let site = Site {
        api: service.into_endpoint(),
        pages,
    };
    guarded(site, paths, SecurityHeaders::new(&[&swagger_page]), state)
}

/// What stands around the routes, in one pass (`http::front`): the limits; a panic anywhere
/// inside answered 500 in the API's shape (its text only in the log); errors in the API's
/// shape; CORS and the security headers on every answer, that one included; the access log.
pub fn guarded(
    routes: impl Endpoint + 'static,
    paths: DocumentPaths,
    security_headers: SecurityHeaders,
    state: AppState,
) -> impl Endpoint {
    let front = Front {
        limits: Limits::from_config(&state.config),
        paths,
        security_headers,
        origins: AllowedOrigins::new(&state.config.server.cors_allowed_origins),
    };
    front.around(routes, state)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use poem::endpoint::make_sync;
    use poem::Route;
    use serde_json::{json, Value};

    use super::{guarded, DocumentPaths, SecurityHeaders};
    use crate::auth::Passwords;
    use crate::config::Config;
    use crate::server::listener::{serve, ConnectionLimits};
    use crate::store::Store;

    /// The real middleware stack and connection loop, around a route that panics (no such
    /// route exists in the application, and none is built into it for tests).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_panicking_handler_is_answered_500_without_its_text_and_the_server_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::default();
        config.database.path = dir.path().join("adthread.db");
        let location = config.database.location().unwrap();
        let store = Store::open(location, &config.database).await.unwrap();
        let passwords = Passwords::new(&config.auth).unwrap();
        let state = crate::server::app_state(&config, store.clone(), passwords).unwrap();
        let routes = Route::new()
            .at(
                "/panics",
                make_sync(|_| -> &'static str { panic!("secret internals") }),
            )
            .at("/works", make_sync(|_| "fine"));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let limits = ConnectionLimits {
            max_connections: 8,
            header_read_timeout: Duration::from_secs(5),
        };
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let paths = DocumentPaths::from_document("{}");
        let app = guarded(routes, paths, SecurityHeaders::new(&[]), state);
        let server = tokio::spawn(serve(listener, app, limits, async {
            let _ = stopped.await;
        }));

        let client = reqwest::Client::new();
        for _ in 0..2 {
            let answer = client.get(format!("{base}/panics")).send().await.unwrap();
            assert_eq!(answer.status(), 500);
            assert_eq!(answer.headers()["x-content-type-options"], "nosniff");
            let body: Value = answer.json().await.unwrap();
            assert_eq!(body, json!({"detail": "Internal server error"}));
        }
        let answer = client.get(format!("{base}/works")).send().await.unwrap();
        assert_eq!(answer.text().await.unwrap(), "fine");

        stop.send(()).unwrap();
        server.await.unwrap().unwrap();
        store.close();
    }
}
