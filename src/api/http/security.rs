//! The bearer token every operation but sign-in requires, checked in this one place, and the
//! guards built on it.

use std::marker::PhantomData;

use poem::{Request, RequestBody};
use poem_openapi::auth::Bearer;
use poem_openapi::registry::Registry;
use poem_openapi::{ApiExtractor, ApiExtractorType, ExtractParamOptions, SecurityScheme};

use crate::api::http::error::ApiError;
use crate::api::AppState;
use crate::auth::hash_token;
use crate::schema::UserId;
use crate::store::Viewer;

/// The signed-in caller.
#[derive(Debug, Clone, Copy)]
pub struct Caller {
    pub user_id: UserId,
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

/// A signed-in administrator doing `Task`; anyone else signed in is refused 403 before the
/// request's body is read. In the document it is the same bearer token as `SignedIn`.
pub struct Admin<Task: AdminTask>(pub Caller, PhantomData<Task>);

/// An operation only administrators may do, and what everyone else is told.
pub trait AdminTask: Send {
    const REFUSAL: &'static str;
}

/// Listing, creating and changing users.
pub enum ManageUsers {}

impl AdminTask for ManageUsers {
    const REFUSAL: &'static str = "Only administrators can manage users";
}

/// Changing an assistant's instructions.
pub enum ChangeInstructions {}

impl AdminTask for ChangeInstructions {
    const REFUSAL: &'static str = "Only administrators can change an assistant's instructions";
}

impl<'a, Task: AdminTask> ApiExtractor<'a> for Admin<Task> {
    const TYPES: &'static [ApiExtractorType] = <SignedIn as ApiExtractor<'a>>::TYPES;
    type ParamType = <SignedIn as ApiExtractor<'a>>::ParamType;
    type ParamRawType = <SignedIn as ApiExtractor<'a>>::ParamRawType;

    fn register(registry: &mut Registry) {
        <SignedIn as ApiExtractor<'a>>::register(registry);
    }

    fn security_schemes() -> Vec<&'static str> {
        <SignedIn as ApiExtractor<'a>>::security_schemes()
    }

    async fn from_request(
        request: &'a Request,
        body: &mut RequestBody,
        param_opts: ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        let SignedIn(caller) =
            <SignedIn as ApiExtractor<'a>>::from_request(request, body, param_opts).await?;
        if caller.is_admin {
            Ok(Admin(caller, PhantomData))
        } else {
            Err(ApiError::forbidden(Task::REFUSAL).reject())
        }
    }
}
