//! The collector: ships Zeek logs from a sensor to the wiredraw server, losing nothing, and
//! replays history.

pub mod backoff;
pub mod batch;
pub mod logfile;
pub mod merge;
pub mod state;
pub mod timestamp;
