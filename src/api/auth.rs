//! Sign-in (OAuth 2.0 password grant, RFC 6749 §4.3) and sign-out.

use poem_openapi::payload::{Form, Json};
use poem_openapi::{ApiResponse, Object, OpenApi};
use serde::Deserialize;

use super::http::security::SignedIn;
use super::{ApiTags, AppState, ClientAddress};
use crate::api::http::error::ApiError;
use crate::schema::Token;

/// RFC 6749 §4.3.2. Every field is optional here so that a missing one gets the RFC's
/// `invalid_request` rather than a parse error.
#[derive(Debug, Deserialize, Object)]
#[oai(rename = "TokenRequestForm")]
pub struct TokenRequest {
    /// Must be `password`.
    grant_type: Option<String>,
    /// The user's email.
    username: Option<String>,
    password: Option<String>,
    /// Accepted and ignored.
    scope: Option<String>,
}

/// RFC 6749 §5.2 error response.
#[derive(Debug, Object)]
#[oai(rename = "OAuthErrorSchema")]
pub struct OAuthError {
    error: String,
    error_description: String,
}

#[derive(ApiResponse)]
pub enum TokenResponse {
    #[oai(status = 200)]
    Ok(
        Json<Token>,
        #[oai(header = "Cache-Control")] String,
        #[oai(header = "Pragma")] String,
    ),
    /// `invalid_request`, `unsupported_grant_type` or `invalid_grant` (wrong email or password).
    #[oai(status = 400)]
    Refused(Json<OAuthError>, #[oai(header = "Cache-Control")] String),
}

impl TokenResponse {
    fn refused(error: &str, description: &str) -> Self {
        TokenResponse::Refused(
            Json(OAuthError {
                error: error.into(),
                error_description: description.into(),
            }),
            "no-store".into(),
        )
    }
}

#[derive(ApiResponse)]
pub enum LoggedOut {
    /// The token no longer works.
    #[oai(status = 204)]
    Done,
}

pub struct AuthApi {
    pub state: AppState,
}

#[OpenApi(prefix_path = "/api/v1/auth", tag = "ApiTags::Authentication")]
impl AuthApi {
    /// Sign in
    ///
    /// OAuth 2.0 password grant: form-encoded `grant_type=password&username=EMAIL&password=...`.
    /// A wrong email and a wrong password get the same answer, in about the same time.
    #[oai(path = "/token", method = "post")]
    async fn token(
        &self,
        client: ClientAddress,
        form: Form<TokenRequest>,
    ) -> Result<TokenResponse, ApiError> {
        let Form(request) = form;
        if request.grant_type.as_deref() != Some("password") {
            return Ok(match request.grant_type {
                None => TokenResponse::refused("invalid_request", "grant_type is required"),
                Some(_) => TokenResponse::refused(
                    "unsupported_grant_type",
                    "Only the password grant is supported",
                ),
            });
        }
        let (Some(email), Some(password)) = (request.username, request.password) else {
            return Ok(TokenResponse::refused(
                "invalid_request",
                "username and password are required",
            ));
        };
        let _ = request.scope;
        let gate = self.state.password_gate();
        match gate.sign_in(client.0, email, password).await? {
            Some(signed_in) => Ok(TokenResponse::Ok(
                Json(signed_in.token.into()),
                "no-store".into(),
                "no-cache".into(),
            )),
            None => Ok(TokenResponse::refused(
                "invalid_grant",
                "Incorrect email or password",
            )),
        }
    }

    /// Sign out
    ///
    /// Revokes the token this request was made with.
    #[oai(path = "/logout", method = "post")]
    async fn logout(&self, caller: SignedIn) -> Result<LoggedOut, ApiError> {
        self.state.store.revoke_token(caller.0.token_hash).await?;
        Ok(LoggedOut::Done)
    }
}
