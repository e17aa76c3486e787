//! The signed-in user.

use poem_openapi::OpenApi;

use super::security::SignedIn;
use super::{ApiTags, AppState, JsonOut};
use crate::error::ApiError;
use crate::model::User;

pub struct UsersApi {
    pub state: AppState,
}

#[OpenApi(prefix_path = "/api/v1/users", tag = "ApiTags::Users")]
impl UsersApi {
    /// The signed-in user
    #[oai(path = "/me", method = "get")]
    async fn me(&self, caller: SignedIn) -> Result<JsonOut<User>, ApiError> {
        Ok(JsonOut(self.state.store.user(caller.0.user_id).await?))
    }
}
