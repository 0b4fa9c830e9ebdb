//! wiredraw-net: server, collector, client and stores.

pub mod http_client;
