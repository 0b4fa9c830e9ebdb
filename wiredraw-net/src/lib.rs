//! wiredraw-net: server, collector, client and stores.

pub mod api;
pub mod client;
pub mod collector;
pub mod http_client;
pub mod server;
pub mod store;
pub mod testkit;
