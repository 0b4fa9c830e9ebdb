//! Fuzzes a collector's ingest body through the server: `cargo +nightly fuzz run ingest_body`.
#![no_main]

#[path = "../src/ingest_body.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::ingest_body(data));
