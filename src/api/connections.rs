//! Google connections: the Google Ads customers and Business Profile locations of a
//! company, and of every company the caller belongs to.

use poem_openapi::param::Path;
use poem_openapi::OpenApi;

use super::companies::Removed;
use super::http::security::SignedIn;
use super::{ApiTags, AppState, JsonBody, JsonOut};
use crate::api::http::error::ApiError;
use crate::schema::{
    CompanyId, CompanyWithConnections, GoogleAdsCustomer, GoogleAdsCustomerCreate,
    GoogleAdsCustomerUpdate, GoogleBusinessLocation, GoogleBusinessLocationUpdate,
};

pub struct ConnectionsApi {
    pub state: AppState,
}

#[OpenApi(prefix_path = "/api/v1/companies", tag = "ApiTags::Companies")]
impl ConnectionsApi {
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
        company_id: Path<CompanyId>,
    ) -> Result<JsonOut<CompanyWithConnections>, ApiError> {
        Ok(JsonOut(
            self.state
                .store
                .member_company_connections(caller.0.user_id, company_id.0)
                .await?,
        ))
    }

    /// Register a Google Ads customer
    #[oai(path = "/:company_id/google-ads-customers", method = "post")]
    async fn add_customer(
        &self,
        caller: SignedIn,
        company_id: Path<CompanyId>,
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
        company_id: Path<CompanyId>,
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
        company_id: Path<CompanyId>,
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
        company_id: Path<CompanyId>,
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
        company_id: Path<CompanyId>,
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
        company_id: Path<CompanyId>,
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
        company_id: Path<CompanyId>,
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
        company_id: Path<CompanyId>,
        location_id: Path<String>,
    ) -> Result<Removed, ApiError> {
        self.state
            .store
            .delete_location(caller.0.viewer(), company_id.0, location_id.0)
            .await?;
        Ok(Removed::Done)
    }
}
