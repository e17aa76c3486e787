//! A company's members: who may see it, and who may manage it.

use poem_openapi::param::Path;
use poem_openapi::OpenApi;

use super::companies::Removed;
use super::http::security::SignedIn;
use super::{ApiTags, AppState, JsonBody, JsonOut};
use crate::api::http::error::ApiError;
use crate::schema::{CompanyId, CompanyMember, CompanyMemberCreate, UserId};

pub struct MembersApi {
    pub state: AppState,
}

#[OpenApi(prefix_path = "/api/v1/companies", tag = "ApiTags::Companies")]
impl MembersApi {
    /// Add a member
    ///
    /// Owners and administrators only.
    #[oai(path = "/:company_id/members", method = "post")]
    async fn add_member(
        &self,
        caller: SignedIn,
        company_id: Path<CompanyId>,
        body: JsonBody<CompanyMemberCreate>,
    ) -> Result<JsonOut<CompanyMember>, ApiError> {
        let CompanyMemberCreate { email, role } = body.0;
        let member = self
            .state
            .store
            .add_member(
                caller.0.viewer(),
                company_id.0,
                email.trim().to_string(),
                role,
            )
            .await?;
        Ok(JsonOut(member))
    }

    /// The company's members
    ///
    /// Owners first, then by email.
    #[oai(path = "/:company_id/members", method = "get")]
    async fn members(
        &self,
        caller: SignedIn,
        company_id: Path<CompanyId>,
    ) -> Result<JsonOut<Vec<CompanyMember>>, ApiError> {
        Ok(JsonOut(
            self.state
                .store
                .members(caller.0.viewer(), company_id.0)
                .await?,
        ))
    }

    /// Remove a member
    ///
    /// Owners and administrators remove anyone; a member may remove themself. The last owner
    /// cannot be removed: 409.
    #[oai(path = "/:company_id/members/:user_id", method = "delete")]
    async fn remove_member(
        &self,
        caller: SignedIn,
        company_id: Path<CompanyId>,
        user_id: Path<UserId>,
    ) -> Result<Removed, ApiError> {
        self.state
            .store
            .remove_member(caller.0.viewer(), company_id.0, user_id.0)
            .await?;
        Ok(Removed::Done)
    }
}
