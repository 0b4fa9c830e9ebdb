//! wiredraw-net: server, collector, client and stores.
