//! The `ingest_body` fuzz target's checks (`fuzz/src/ingest_body.rs`) on the stable toolchain:
//! every route, plain and gzip, on edge-case bodies, so CI runs them without nightly. (Its runs
//! so far found no failing input; one it finds belongs in `EDGE_BODIES`, with its selector.)

#[path = "../../fuzz/src/ingest_body.rs"]
mod checks;

/// Bodies at the edges of the format: empty, header only, a header cut short, a body that is
/// not a log at all.
const EDGE_BODIES: &[&[u8]] = &[
    b"",
    b"\n",
    b"#",
    b"#separator \\x09\n",
    b"#separator \\x09\n#fields\tts\n#types\ttime\n",
    b"#separator \\x09\n#fields\tts\tuid\n#types\ttime\n1\tC\n",
    b"{}\n",
    b"{\"ts\":\n",
    b"\x00\xff\x1f\x8b",
];

#[test]
fn edge_bodies_on_every_route_plain_and_gzip() {
    for selector in 0..=u8::MAX {
        for body in EDGE_BODIES {
            checks::ingest_body(&[&[selector][..], body].concat());
        }
    }
}
