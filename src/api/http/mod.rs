//! The HTTP plumbing every endpoint shares: reading bodies within their limits, the bearer
//! token, who the client is, paths and cursors, event streams, the admin page's files, browser
//! headers, the split between the API and the pages beside it, and the API's error type with the
//! one place where other layers' errors become it.

pub mod body;
pub mod browser;
pub mod client;
pub mod cursor;
pub mod error;
pub mod events;
pub mod front;
pub mod limits;
pub mod page;
pub mod paths;
pub mod security;
pub mod site;
