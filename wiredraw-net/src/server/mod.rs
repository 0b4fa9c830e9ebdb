//! The wiredraw HTTP server.
pub mod auth;
pub mod config;
pub mod dot;
pub mod inventory;
pub mod metrics;
