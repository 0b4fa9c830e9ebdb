//! wiredraw-net: server, collector, client and stores.

pub mod collector;

pub mod http_client;
