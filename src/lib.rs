//! adthread: a self-hosted server for AI-assistant chat threads.

pub mod api;
pub mod assistant;
pub mod auth;
pub mod cli;
pub mod config;
pub mod schema;
pub mod server;
pub mod store;
