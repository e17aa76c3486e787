//! Integration tests: each starts the real binary on a temporary database.

mod fake_llm;
mod harness;

mod admin_page;
mod assistant_drafts;
mod auth;
mod authorization;
mod backup_check;
mod caches;
mod campaign_drafts;
mod company_admin;
mod concurrency;
mod crash;
mod create_thread;
mod disk_full;
mod draft_generation;
mod draft_steps;
mod files_on_disk;
mod hostile_clients;
mod hostile_memory;
mod hostile_model;
mod ids;
mod limits;
mod llm;
mod login_throttle;
mod messages;
mod postgres;
mod profile;
mod published_auth;
mod published_connections;
mod schemathesis;
mod slow_clients;
mod spec;
mod thread_lifecycle;
mod user_admin;
mod whole_list;
