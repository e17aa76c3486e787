//! The shapes the API sends and receives, named as the published contract names them, one
//! module per API tag. Bodies are read and written with serde; the poem-openapi derives only
//! describe them.

mod assistants;
mod campaign_generation;
pub mod campaign_rules;
mod campaign_steps;
mod campaigns;
mod companies;
mod connections;
mod ids;
mod messages;
pub mod rules;
mod threads;
mod types;
mod users;

pub use assistants::*;
pub use campaign_generation::*;
pub use campaign_steps::*;
pub use campaigns::*;
pub use companies::*;
pub use connections::*;
pub use ids::*;
pub use messages::*;
pub use threads::*;
pub use types::{Date, JsonObject, Nullable, Patch, Timestamp, WebUrl, MAX_JSON_DEPTH};
pub use users::*;
