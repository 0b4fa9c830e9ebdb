//! Fuzzes the Zeek TSV reader: `cargo +nightly fuzz run tsv_reader`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wiredraw_fuzz::tsv_reader(data));
