//! Liveness: answers whether the database does.

use poem_openapi::payload::PlainText;
use poem_openapi::{ApiResponse, OpenApi};

use super::{ApiTags, AppState};

#[derive(ApiResponse)]
pub enum Health {
    /// The server and its database answer.
    #[oai(status = 200)]
    Ok(PlainText<&'static str>),
    /// The database does not answer.
    #[oai(status = 503)]
    Unavailable(PlainText<&'static str>),
}

pub struct HealthApi {
    pub state: AppState,
}

#[OpenApi(tag = "ApiTags::Health")]
impl HealthApi {
    /// Health check
    ///
    /// No token needed.
    #[oai(path = "/healthz", method = "get")]
    async fn healthz(&self) -> Health {
        match self.state.store.ping().await {
            Ok(()) => Health::Ok(PlainText("ok")),
            Err(err) => {
                tracing::warn!(error = %err, "health check failed");
                Health::Unavailable(PlainText("database unavailable"))
            }
        }
    }
}
