//! The bearer token every operation but sign-in requires, checked in this one place.

use poem::Request;
use poem_openapi::auth::Bearer;
use poem_openapi::SecurityScheme;

use crate::api::http::error::ApiError;
use crate::api::AppState;
use crate::auth::hash_token;
use crate::store::Viewer;

/// The signed-in caller.
#[derive(Debug, Clone, Copy)]
pub struct Caller {
    pub user_id: i64,
    pub is_admin: bool,
    pub token_hash: [u8; 32],
}

impl Caller {
    pub fn viewer(&self) -> Viewer {
        Viewer {
            user_id: self.user_id,
            is_admin: self.is_admin,
        }
    }
}

/// The access token received from the authorization server in the OAuth 2.0 flow.
#[derive(SecurityScheme)]
#[oai(
    rename = "OAuth2PasswordBearer",
    ty = "oauth2",
    flows(password(token_url = "/api/v1/auth/token")),
    checker = "authenticate"
)]
pub struct SignedIn(pub Caller);

async fn authenticate(request: &Request, bearer: Bearer) -> poem::Result<Caller> {
    let state = request
        .data::<AppState>()
        .ok_or_else(|| ApiError::internal().reject())?;
    let token_hash = hash_token(&bearer.token);
    let now = chrono::Utc::now().timestamp();
    match state.store.token_owner(token_hash, now).await {
        Ok(Some(owner)) => Ok(Caller {
            user_id: owner.user_id,
            is_admin: owner.is_admin,
            token_hash,
        }),
        Ok(None) => Err(ApiError::not_authenticated().reject()),
        Err(err) => Err(ApiError::from(err).reject()),
    }
}
