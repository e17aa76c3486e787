//! What the assistants learnt about a company, and the language-model tokens it used.

use poem_openapi::param::Path;
use poem_openapi::OpenApi;

use super::http::security::SignedIn;
use super::{ApiTags, AppState, JsonOut};
use crate::api::http::error::ApiError;
use crate::schema::{BusinessProfile, CompanyId, CompanyUsage, Nullable};

pub struct ProfileApi {
    pub state: AppState,
}

#[OpenApi(prefix_path = "/api/v1/companies", tag = "ApiTags::Companies")]
impl ProfileApi {
    /// Business profile
    ///
    /// The company's answers to the onboarding assistant, merged as they come.
    #[oai(path = "/:company_id/profile", method = "get")]
    async fn profile(
        &self,
        caller: SignedIn,
        company_id: Path<CompanyId>,
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
        company_id: Path<CompanyId>,
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
