//! Companies, their members and their Google connections.

use poem_openapi::param::Path;
use poem_openapi::{ApiResponse, OpenApi};

use super::http::security::SignedIn;
use super::{ApiTags, AppState, JsonBody, JsonOut};
use crate::api::http::error::ApiError;
use crate::schema::{
    BusinessProfile, Company, CompanyCreate, CompanyMember, CompanyMemberCreate, CompanyUsage,
    CompanyWithConnections, GoogleAdsCustomer, GoogleAdsCustomerCreate, GoogleAdsCustomerUpdate,
    GoogleBusinessLocation, GoogleBusinessLocationUpdate, Nullable,
};

pub struct CompaniesApi {
    pub state: AppState,
}

#[derive(ApiResponse)]
pub enum Removed {
    /// It is gone.
    #[oai(status = 204)]
    Done,
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

    /// The caller's companies with their Google connections
    ///
    /// Every company the caller is a member of (administrators too: only those they belong to),
    /// each with all its Google Ads customers and Business Profile locations.
    #[oai(path = "/me/connections", method = "get")]
    async fn my_connections(
        &self,
        caller: SignedIn,
    ) -> Result<JsonOut<Vec<CompanyWithConnections>>, ApiError> {
        Ok(JsonOut(
            self.state
                .store
                .member_connections(caller.0.user_id)
                .await?,
        ))
    }

    /// One of the caller's companies with its Google connections
    ///
    /// 404 for a company the caller is not a member of.
    #[oai(path = "/me/:company_id/connections", method = "get")]
    async fn my_company_connections(
        &self,
        caller: SignedIn,
        company_id: Path<i64>,
    ) -> Result<JsonOut<CompanyWithConnections>, ApiError> {
        Ok(JsonOut(
            self.state
                .store
                .member_company_connections(caller.0.user_id, company_id.0)
                .await?,
        ))
    }

    /// One company
    #[oai(path = "/:company_id", method = "get")]
    async fn get(
        &self,
        caller: SignedIn,
        company_id: Path<i64>,
    ) -> Result<JsonOut<Company>, ApiError> {
        Ok(JsonOut(
            self.state
                .store
                .company(caller.0.viewer(), company_id.0)
                .await?,
        ))
    }

    /// Add a member
    ///
    /// Owners and administrators only.
    #[oai(path = "/:company_id/members", method = "post")]
    async fn add_member(
        &self,
        caller: SignedIn,
        company_id: Path<i64>,
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
        company_id: Path<i64>,
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
        company_id: Path<i64>,
        user_id: Path<i64>,
    ) -> Result<Removed, ApiError> {
        self.state
            .store
            .remove_member(caller.0.viewer(), company_id.0, user_id.0)
            .await?;
        Ok(Removed::Done)
    }

    /// Register a Google Ads customer
    #[oai(path = "/:company_id/google-ads-customers", method = "post")]
    async fn add_customer(
        &self,
        caller: SignedIn,
        company_id: Path<i64>,
        body: JsonBody<GoogleAdsCustomerCreate>,
    ) -> Result<JsonOut<GoogleAdsCustomer>, ApiError> {
        let customer = self
            .state
            .store
            .add_customer(caller.0.viewer(), company_id.0, body.0)
            .await?;
        Ok(JsonOut(customer))
    }

    /// The company's Google Ads customers
    #[oai(path = "/:company_id/google-ads-customers", method = "get")]
    async fn customers(
        &self,
        caller: SignedIn,
        company_id: Path<i64>,
    ) -> Result<JsonOut<Vec<GoogleAdsCustomer>>, ApiError> {
        Ok(JsonOut(
            self.state
                .store
                .customers(caller.0.viewer(), company_id.0)
                .await?,
        ))
    }

    /// Change a Google Ads customer
    ///
    /// Only the fields sent change; `null` clears a text field. The id cannot change.
    #[oai(
        path = "/:company_id/google-ads-customers/:customer_id",
        method = "patch"
    )]
    async fn update_customer(
        &self,
        caller: SignedIn,
        company_id: Path<i64>,
        customer_id: Path<i64>,
        body: JsonBody<GoogleAdsCustomerUpdate>,
    ) -> Result<JsonOut<GoogleAdsCustomer>, ApiError> {
        let customer = self
            .state
            .store
            .update_customer(caller.0.viewer(), company_id.0, customer_id.0, body.0)
            .await?;
        Ok(JsonOut(customer))
    }

    /// Remove a Google Ads customer
    ///
    /// A customer that chat threads are scoped to: 409 (delete the threads first).
    #[oai(
        path = "/:company_id/google-ads-customers/:customer_id",
        method = "delete"
    )]
    async fn delete_customer(
        &self,
        caller: SignedIn,
        company_id: Path<i64>,
        customer_id: Path<i64>,
    ) -> Result<Removed, ApiError> {
        self.state
            .store
            .delete_customer(caller.0.viewer(), company_id.0, customer_id.0)
            .await?;
        Ok(Removed::Done)
    }

    /// Register a Google Business Profile location
    #[oai(path = "/:company_id/google-business-locations", method = "post")]
    async fn add_location(
        &self,
        caller: SignedIn,
        company_id: Path<i64>,
        body: JsonBody<GoogleBusinessLocation>,
    ) -> Result<JsonOut<GoogleBusinessLocation>, ApiError> {
        let location = self
            .state
            .store
            .add_location(caller.0.viewer(), company_id.0, body.0)
            .await?;
        Ok(JsonOut(location))
    }

    /// The company's Google Business Profile locations
    #[oai(path = "/:company_id/google-business-locations", method = "get")]
    async fn locations(
        &self,
        caller: SignedIn,
        company_id: Path<i64>,
    ) -> Result<JsonOut<Vec<GoogleBusinessLocation>>, ApiError> {
        Ok(JsonOut(
            self.state
                .store
                .locations(caller.0.viewer(), company_id.0)
                .await?,
        ))
    }

    /// Change a Google Business Profile location
    ///
    /// `location_id` is the resource name with its `/` percent-encoded: `locations%2F123`.
    /// Only the fields sent change; `null` clears; `storefront_address` is replaced whole.
    #[oai(
        path = "/:company_id/google-business-locations/:location_id",
        method = "patch"
    )]
    async fn update_location(
        &self,
        caller: SignedIn,
        company_id: Path<i64>,
        location_id: Path<String>,
        body: JsonBody<GoogleBusinessLocationUpdate>,
    ) -> Result<JsonOut<GoogleBusinessLocation>, ApiError> {
        let location = self
            .state
            .store
            .update_location(caller.0.viewer(), company_id.0, location_id.0, body.0)
            .await?;
        Ok(JsonOut(location))
    }

    /// Remove a Google Business Profile location
    ///
    /// `location_id` as for the change. A location that chat threads are scoped to: 409.
    #[oai(
        path = "/:company_id/google-business-locations/:location_id",
        method = "delete"
    )]
    async fn delete_location(
        &self,
        caller: SignedIn,
        company_id: Path<i64>,
        location_id: Path<String>,
    ) -> Result<Removed, ApiError> {
        self.state
            .store
            .delete_location(caller.0.viewer(), company_id.0, location_id.0)
            .await?;
        Ok(Removed::Done)
    }

    /// Business profile
    ///
    /// The company's answers to the onboarding assistant, merged as they come.
    #[oai(path = "/:company_id/profile", method = "get")]
    async fn profile(
        &self,
        caller: SignedIn,
        company_id: Path<i64>,
    ) -> Result<JsonOut<BusinessProfile>, ApiError> {
        Ok(JsonOut(
            self.state
                .store
                .business_profile(caller.0.viewer(), company_id.0)
                .await?,
        ))
    }

    /// Language-model usage
    ///
    /// Tokens the company's threads have used, all time and this calendar month (UTC), and the
    /// monthly quota (`llm.monthly_token_quota`): once it is spent, messages to a model answer 429.
    #[oai(path = "/:company_id/usage", method = "get")]
    async fn usage(
        &self,
        caller: SignedIn,
        company_id: Path<i64>,
    ) -> Result<JsonOut<CompanyUsage>, ApiError> {
        let (prompt_tokens, completion_tokens, month_tokens) = self
            .state
            .store
            .company_tokens(caller.0.viewer(), company_id.0)
            .await?;
        let quota = self.state.config.llm.monthly_token_quota;
        Ok(JsonOut(CompanyUsage {
            company_id: company_id.0,
            prompt_tokens,
            completion_tokens,
            total_tokens: prompt_tokens + completion_tokens,
            month_tokens,
            monthly_token_quota: Nullable((quota > 0).then_some(quota)),
        }))
    }
}
