//! What the two generate endpoints answer: the task queued (and, for RSAs, the three RSAs it
//! fills), for polling `generation-status`.

use poem_openapi::Object;
use serde::Serialize;

use super::GenerationStatus;

/// `POST .../ad-groups/{ad_group_id}/rsa/generate`: three new RSAs, filled in the background.
#[derive(Debug, Clone, PartialEq, Object, Serialize)]
#[oai(rename = "RsaGenerationResponseSchema")]
pub struct RsaGenerationResponse {
    /// The three new RSAs, `pending` until the task fills them.
    pub rsa_ids: Vec<i64>,
    pub task_id: String,
    pub status: GenerationStatus,
}

/// `POST .../extensions/generate`: sitelinks, callouts and structured snippets, generated in
/// the background.
#[derive(Debug, Clone, PartialEq, Object, Serialize)]
#[oai(rename = "ExtensionGenerationResponseSchema")]
pub struct ExtensionGenerationResponse {
    pub task_id: String,
    pub status: GenerationStatus,
}
