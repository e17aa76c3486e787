//! Integration tests: each starts the real binary on a temporary database.

mod harness;

mod auth;
mod create_thread;
mod thread_lifecycle;
