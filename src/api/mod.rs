//! The HTTP surface: one module per tag. Handlers turn requests into store calls and back.

mod assistants;
mod auth;
mod body;
mod browser;
mod client;
mod companies;
mod cursor;
mod events;
mod health;
mod limits;
mod messages;
mod page;
mod paths;
mod security;
mod threads;
mod users;

use std::sync::Arc;

use poem::middleware::Tracing;
use poem::{Endpoint, EndpointExt, Route};
use poem_openapi::{OpenApiService, Tags};

use crate::assistant::Assistants;
use crate::auth::{PasswordGate, Passwords, SignIn, Throttle};
use crate::config::Config;
use crate::error::ApiError;
use crate::model::Token;
use crate::store::Store;

pub use body::{FormBody, JsonBody, JsonBytes, JsonOut};
pub use browser::{content_security_policy, SecurityHeaders};
pub use client::ClientAddress;

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

/// Who signed in, and the token issued to them.
pub struct SignedInUser {
    pub user_id: i64,
    pub token: Token,
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

    /// Signs in with an email and password sent from `client`; None when they do not match an
    /// active user; 429 with Retry-After after too many failures. Both sign-in endpoints come
    /// through here, so both are throttled.
    pub async fn sign_in(
        &self,
        client: ClientAddress,
        email: String,
        password: String,
    ) -> Result<Option<SignedInUser>, ApiError> {
        match self
            .password_gate()
            .sign_in(client.0, email, password)
            .await?
        {
            SignIn::Issued { user_id, token } => Ok(Some(SignedInUser {
                user_id,
                token: Token {
                    access_token: token.token,
                    token_type: "bearer".into(),
                    expires_in: token.expires_in,
                },
            })),
            SignIn::Refused => Ok(None),
            SignIn::Throttled(retry_after) => Err(ApiError::too_many_requests(
                "Too many failed sign-ins; try again later",
                retry_after.0,
            )),
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
            threads::ThreadsApi {
                state: state.clone(),
            },
            messages::MessagesApi {
                state: state.clone(),
            },
            assistants::AssistantsApi {
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
    let document_paths = paths::DocumentPaths::from_document(&service.spec());
    Route::new()
        .nest("/", service)
        .at("/openapi.json", document)
        .nest("/docs", swagger)
        .nest("/admin", page::AdminPage)
        .with(limits::Limits::from_config(&state.config))
        .with(document_paths)
        .with(browser::AllowedOrigins::new(
            &state.config.server.cors_allowed_origins,
        ))
        .with(SecurityHeaders::new(&[&swagger_page]))
        .data(state)
        .with(Tracing)
}
