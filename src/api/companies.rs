//! Companies: create, list and read one.

use poem_openapi::param::Path;
use poem_openapi::{ApiResponse, OpenApi};

use super::http::security::SignedIn;
use super::{ApiTags, AppState, JsonBody, JsonOut};
use crate::api::http::error::ApiError;
use crate::schema::{Company, CompanyCreate, CompanyId};

/// The answer of every removal under a company.
#[derive(ApiResponse)]
pub enum Removed {
    /// It is gone.
    #[oai(status = 204)]
    Done,
}

pub struct CompaniesApi {
    pub state: AppState,
}

#[OpenApi(prefix_path = "/api/v1/companies", tag = "ApiTags::Companies")]
impl CompaniesApi {
    /// Create a company
    ///
    /// The caller becomes its owner.
    #[oai(path = "/", method = "post")]
    async fn create(
        &self,
        caller: SignedIn,
        body: JsonBody<CompanyCreate>,
    ) -> Result<JsonOut<Company>, ApiError> {
        let company = self
            .state
            .store
            .create_company(caller.0.viewer(), body.0.name)
            .await?;
        Ok(JsonOut(company))
    }

    /// The caller's companies
    ///
    /// For an administrator, every company.
    #[oai(path = "/", method = "get")]
    async fn list(&self, caller: SignedIn) -> Result<JsonOut<Vec<Company>>, ApiError> {
        Ok(JsonOut(
            self.state.store.companies(caller.0.viewer()).await?,
        ))
    }

    /// One company
    #[oai(path = "/:company_id", method = "get")]
    async fn get(
        &self,
        caller: SignedIn,
        company_id: Path<CompanyId>,
    ) -> Result<JsonOut<Company>, ApiError> {
        Ok(JsonOut(
            self.state
                .store
                .company(caller.0.viewer(), company_id.0)
                .await?,
        ))
    }
}
