//! Fuzzes the Zeek JSON reader: `cargo +nightly fuzz run json_reader`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wiredraw_fuzz::json_reader(data));
