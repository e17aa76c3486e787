//! adthread: a self-hosted server for AI-assistant chat threads.

pub mod api;
pub mod assistant;
pub mod auth;
pub mod cli;
pub mod config;
pub mod connections;
pub mod error;
pub mod model;
pub mod server;
pub mod store;
