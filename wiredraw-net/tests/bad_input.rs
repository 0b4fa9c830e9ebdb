//! A corpus of bad ingest bodies against every ingest route, over loopback, on the in-memory
//! store and on a real Redis: each gets a clear 4xx or a per-line rejection, the server stays
//! up, and the store is unchanged by what was rejected. Then random and mutated bodies through
//! the socket-free [`App::handle`](wiredraw_net::server::App::handle) (a property test).

mod server_support;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use proptest::prelude::*;
use server_support::*;
use std::io::Write;
use std::sync::Arc;
use wiredraw_net::server::App;
use wiredraw_net::store::Store;
use wiredraw_net::testkit::RedisServer;

/// Every ingest route: the built-in log types with their own rules, and an unknown type (the
/// generic fallback).
const ROUTES: &[&str] = &[
    "conn", "dns", "http", "ssl", "files", "ssh", "weird", "notice", "x509", "mystery",
];

/// Most bytes a gzip body may inflate to (the default 256 MiB makes the bomb slow to build).
const MAX_INFLATED: usize = 32 << 20;

const TS: &str = "1700000000.5";

/// Field names and types of a TSV header for a route, and one good data line's fields.
fn schema(route: &str) -> (Vec<&'static str>, Vec<&'static str>, Vec<&'static str>) {
    match route {
        "conn" => (
            vec![
                "ts",
                "uid",
                "id.orig_h",
                "id.orig_p",
                "id.resp_h",
                "id.resp_p",
                "proto",
                "service",
                "duration",
                "orig_bytes",
                "resp_bytes",
                "conn_state",
                "history",
            ],
            vec![
                "time", "string", "addr", "port", "addr", "port", "enum", "string", "interval",
                "count", "count", "string", "string",
            ],
            vec![
                TS, "Cgood", "10.0.0.1", "50000", "10.0.0.2", "443", "tcp", "ssl", "1.5", "100",
                "2000", "SF", "ShADadFf",
            ],
        ),
        "x509" => (
            vec!["ts", "fingerprint", "certificate.subject", "san.dns"],
            vec!["time", "string", "string", "vector[string]"],
            vec![TS, "F00d", "CN=example.com", "example.com,www.example.com"],
        ),
        _ => (
            vec![
                "ts",
                "uid",
                "id.orig_h",
                "id.orig_p",
                "id.resp_h",
                "id.resp_p",
                "query",
                "answers",
                "host",
            ],
            vec![
                "time",
                "string",
                "addr",
                "port",
                "addr",
                "port",
                "string",
                "vector[string]",
                "string",
            ],
            vec![
                TS,
                "Cgood",
                "10.0.0.1",
                "50000",
                "10.0.0.2",
                "53",
                "example.com",
                "10.0.0.9",
                "example.com",
            ],
        ),
    }
}

fn header_with(route: &str, fields: &[&str], types: &[&str]) -> String {
    format!(
        "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n\
         #path\t{route}\n#fields\t{}\n#types\t{}\n",
        fields.join("\t"),
        types.join("\t")
    )
}

fn header(route: &str) -> String {
    let (fields, types, _) = schema(route);
    header_with(route, &fields, &types)
}

/// The good line with field `name` replaced by `value` (the route's key field when `name`
/// is "key": uid, or fingerprint for x509).
fn line_with(route: &str, name: &str, value: &str) -> String {
    let (fields, _, mut values) = schema(route);
    let name = match (name, route) {
        ("key", "x509") => "fingerprint",
        ("key", _) => "uid",
        (name, _) => name,
    };
    if let Some(i) = fields.iter().position(|f| *f == name) {
        values[i] = value;
    }
    values.join("\t") + "\n"
}

fn good_line(route: &str) -> String {
    line_with(route, "ts", TS)
}

/// The good record as one JSON object, with `patch` applied (a field set to raw JSON, or
/// removed when the JSON is empty).
fn json_with(route: &str, patch: &[(&str, &str)]) -> String {
    let (fields, types, values) = schema(route);
    let mut object: Vec<(String, String)> = fields
        .iter()
        .zip(&types)
        .zip(&values)
        .map(|((field, kind), value)| {
            let json = match *kind {
                "time" | "interval" | "count" | "port" => value.to_string(),
                "vector[string]" => serde_json::to_string(&value.split(',').collect::<Vec<_>>())
                    .expect("strings serialise"),
                _ => serde_json::to_string(value).expect("strings serialise"),
            };
            (field.to_string(), json)
        })
        .collect();
    object.push(("_path".into(), format!("{route:?}")));
    for (name, json) in patch {
        let name = match (*name, route) {
            ("key", "x509") => "fingerprint",
            ("key", _) => "uid",
            (name, _) => name,
        };
        object.retain(|(field, _)| field != name);
        if !json.is_empty() {
            object.push((name.to_string(), json.to_string()));
        }
    }
    let inner: Vec<String> = object
        .iter()
        .map(|(field, json)| format!("{field:?}:{json}"))
        .collect();
    format!("{{{}}}\n", inner.join(","))
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

/// Deterministic noise (an xorshift), so failures reproduce.
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

/// One bad body: its kind, its encoding, its bytes.
struct Bad {
    kind: String,
    gzip: bool,
    body: Vec<u8>,
}

/// The corpus of one route as it is built.
struct Corpus<'r> {
    route: &'r str,
    /// The route's good TSV header.
    head: String,
    out: Vec<Bad>,
}

impl Corpus<'_> {
    /// Adds the body as it is and gzipped.
    fn both(&mut self, kind: &str, body: Vec<u8>) {
        self.out.push(Bad {
            kind: format!("{kind}, gzipped"),
            gzip: true,
            body: gzip(&body),
        });
        self.out.push(Bad {
            kind: kind.to_string(),
            gzip: false,
            body,
        });
    }

    /// A bad header over the route's good data line.
    fn headed(&mut self, kind: &str, header: impl std::fmt::Display) {
        let body = format!("{header}{}", good_line(self.route)).into_bytes();
        self.both(kind, body);
    }

    /// A good header and one bad data line.
    fn tsv(&mut self, kind: &str, line: String) {
        let body = format!("{}{line}", self.head).into_bytes();
        self.both(kind, body);
    }

    /// One bad line per case: the good line with one field's text replaced.
    fn fields(&mut self, cases: &[(&str, &str, &str)]) {
        for (kind, field, text) in cases {
            self.tsv(kind, line_with(self.route, field, text));
        }
    }

    fn json(&mut self, kind: &str, text: &str) {
        self.both(kind, format!("{text}\n").into_bytes());
    }

    /// The route's good JSON record with a patch that makes it bad.
    fn shape(&mut self, kind: &str, patch: &[(&str, &str)]) {
        let body = json_with(self.route, patch).into_bytes();
        self.both(kind, body);
    }

    /// One bad record per case: the good JSON record with one field replaced.
    fn shapes(&mut self, cases: &[(&str, &str, &str)]) {
        for (kind, field, json) in cases {
            self.shape(kind, &[(field, json)]);
        }
    }

    /// A body sent with `Content-Encoding: gzip` as it is.
    fn gz(&mut self, kind: &str, body: Vec<u8>) {
        self.out.push(Bad {
            kind: kind.to_string(),
            gzip: true,
            body,
        });
    }
}

/// Builds the corpus for one route. Every body holds nothing good, so an answer of 200 must
/// reject every record it read.
fn corpus(route: &str) -> Vec<Bad> {
    let is_conn = route == "conn";
    let (fields, types, values) = schema(route);
    let head = header(route);
    let with_line = |line: &str| format!("{head}{line}").into_bytes();
    let mut c = Corpus {
        route,
        head: head.clone(),
        out: Vec::new(),
    };

    // Not a log at all.
    for (size, seed) in [(1, 1), (16, 2), (4096, 3), (1 << 20, 4)] {
        c.both(&format!("{size} bytes of binary noise"), noise(size, seed));
    }
    c.both("NUL bytes only", vec![0; 1000]);
    c.both("0xFF bytes only", vec![0xff; 1000]);
    c.both("whitespace only", b" \n\t\n\r\n   \n".to_vec());
    c.both(
        "UTF-16 text",
        "\u{feff}#fields\tts\n"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect(),
    );
    c.both(
        "an HTML page",
        b"<!doctype html><html><body>502 Bad Gateway</body></html>\n".to_vec(),
    );
    c.both(
        "a PNG file",
        [b"\x89PNG\r\n\x1a\n".as_slice(), &noise(256, 5)].concat(),
    );
    c.both(
        "an ELF binary",
        [b"\x7fELF\x02\x01\x01".as_slice(), &noise(256, 6)].concat(),
    );
    c.both("plain prose", b"hello world\nthis is not zeek\n".to_vec());
    c.both("CSV", b"ts,uid,orig\n1,2,3\n".to_vec());

    // TSV headers that cannot be used.
    let without = |prefix: &str| -> String {
        head.lines()
            .filter(|l| !l.starts_with(prefix))
            .map(|l| format!("{l}\n"))
            .collect()
    };
    let good = good_line(route);
    c.headed("#fields without #types", without("#types"));
    c.headed("#types without #fields", without("#fields"));
    c.headed(
        "headers without fields or types",
        without("#fields").replace("#types", "#nothing"),
    );
    c.both("only a #separator line", b"#separator \\x09\n".to_vec());
    c.headed(
        "more types than fields",
        header_with(route, &fields, &[types.as_slice(), &["string"]].concat()),
    );
    c.headed(
        "fewer types than fields",
        header_with(route, &fields, &types[..types.len() - 1]),
    );
    // An unknown type name alone is tolerated (kept as text, as newer Zeek types must be); a
    // misspelt `time` leaves the record without a timestamp.
    let misspelt: Vec<&str> = types
        .iter()
        .map(|t| if *t == "time" { "tiem" } else { t })
        .collect();
    c.headed(
        "a misspelt time type",
        header_with(route, &fields, &misspelt),
    );
    let vector_typo: Vec<&str> = types
        .iter()
        .map(|t| if *t == "time" { "vector[strng]" } else { t })
        .collect();
    c.headed(
        "an unknown vector type",
        header_with(route, &fields, &vector_typo),
    );
    c.headed("an empty #fields line", header_with(route, &[], &[]));
    let mut twice = fields.clone();
    twice[1] = "ts";
    c.headed("a field named twice", header_with(route, &twice, &types));
    c.headed(
        "a #separator that is not an escape",
        head.replace("#separator \\x09", "#separator \\xZZ"),
    );
    c.headed(
        "a comma #separator with tab-separated lines",
        head.replace("#separator \\x09", "#separator ,"),
    );
    c.both(
        "data before any header",
        format!("{good}{head}").into_bytes(),
    );

    // TSV lines a good header cannot read.
    c.tsv(
        "a line with too few fields",
        values[..values.len() - 1].join("\t") + "\n",
    );
    c.tsv(
        "a line with too many fields",
        values.join("\t") + "\textra\textra\n",
    );
    c.tsv("a comma-separated line", values.join(",") + "\n");
    c.tsv("a space-separated line", values.join(" ") + "\n");
    c.tsv("a line of tabs only", "\t".repeat(fields.len() - 1) + "\n");
    c.tsv("ten thousand fields", "x\t".repeat(10_000) + "x\n");
    c.fields(&[
        ("ts is a word", "ts", "yesterday"),
        ("ts is empty", "ts", ""),
        ("ts is NaN", "ts", "nan"),
        ("ts is infinite", "ts", "inf"),
        ("ts overflows", "ts", "1e400"),
        ("ts is hex", "ts", "0x6553f100"),
        ("ts has a NUL byte", "ts", "17000\u{0}00000"),
        ("ts is a control character", "ts", "\u{7f}"),
    ]);
    c.both(
        "invalid UTF-8 bytes in the ts",
        [
            head.as_bytes(),
            b"\xff\xfe1700000000",
            &good.as_bytes()[TS.len()..],
        ]
        .concat(),
    );
    if route == "x509" {
        c.tsv("an unset fingerprint", line_with(route, "key", "-"));
    } else {
        c.fields(&[
            ("orig port above 65535", "id.orig_p", "70000"),
            ("orig port negative", "id.orig_p", "-1"),
            ("orig port is a name", "id.orig_p", "http"),
            ("resp port is fractional", "id.resp_p", "80.5"),
            ("orig address out of range", "id.orig_h", "999.1.1.1"),
            ("orig address too short", "id.orig_h", "10.0.0"),
            ("orig address is empty", "id.orig_h", ""),
            ("resp address is a name", "id.resp_h", "example.com"),
            ("resp address is bad IPv6", "id.resp_h", "fe80:::1"),
        ]);
    }
    if is_conn {
        c.fields(&[
            ("conn uid unset", "uid", "-"),
            ("conn ts unset", "ts", "-"),
            ("conn orig address unset", "id.orig_h", "-"),
            ("conn duration is a word", "duration", "long"),
            ("conn duration is NaN", "duration", "nan"),
            ("conn bytes negative", "orig_bytes", "-5"),
            ("conn bytes fractional", "orig_bytes", "1.5"),
            (
                "conn bytes overflow",
                "orig_bytes",
                "99999999999999999999999",
            ),
            ("conn bytes are a word", "resp_bytes", "many"),
        ]);
    }

    // Lines over the 1 MiB line limit.
    c.both(
        "a line just over 1 MiB",
        with_line(&line_with(route, "key", &"C".repeat((1 << 20) + 1))),
    );
    c.out.push(Bad {
        kind: "a 10 MB single line without a newline".into(),
        gzip: false,
        body: [head.as_bytes(), &vec![b'x'; 10_000_000]].concat(),
    });
    c.out.push(Bad {
        kind: "a 10 MB single JSON line, gzipped".into(),
        gzip: true,
        body: gzip(
            json_with(route, &[("key", &format!("{:?}", "J".repeat(10_000_000)))]).as_bytes(),
        ),
    });
    // A body over the body limit is refused from its Content-Length before it is read, and the
    // connection closes: server_ingest checks the 413 with a body small enough to be written
    // whole before the answer comes.

    // JSON that is not JSON.
    c.json("an unclosed object", "{");
    c.json("a missing value", r#"{"ts": }"#);
    c.json("a trailing comma", r#"{"ts": 1700000000, "uid": "C1",}"#);
    c.json("single quotes", "{'ts': 1700000000, 'uid': 'C1'}");
    c.json("a comment", r#"{"ts": 1700000000} // note"#);
    c.json("a NaN literal", r#"{"ts": NaN, "uid": "C1"}"#);
    c.json("an Infinity literal", r#"{"ts": Infinity, "uid": "C1"}"#);
    c.json("an unterminated string", r#"{"uid": "C1"#);
    c.json("garbage after the object", r#"{"uid": "C1"} xyz"#);
    c.json("two objects on one line", r#"{"uid": "C1"}{"uid": "C2"}"#);
    c.json("an array", r#"[1, 2, 3]"#);
    c.json("a number", "42");
    c.json("null", "null");
    c.json("a string", r#""conn""#);
    c.json("nesting 100000 deep", &"[".repeat(100_000));
    c.json("a number too large", &json_with(route, &[("ts", "1e400")]));
    c.json(
        "a lone surrogate",
        &json_with(route, &[("key", r#""\ud800""#)]),
    );
    c.json("a bad escape", &json_with(route, &[("key", r#""\q""#)]));

    // JSON of the wrong shape.
    c.shapes(&[
        ("ts is a word", "ts", r#""yesterday""#),
        ("ts is an object", "ts", r#"{"s": 1}"#),
        ("ts is an array", "ts", "[1700000000]"),
        ("ts is a bool", "ts", "true"),
        ("the key is a number", "key", "12345"),
        ("the key is an object", "key", r#"{"id": "C1"}"#),
        ("the key is a bool", "key", "false"),
    ]);
    if route != "x509" {
        c.shapes(&[
            ("orig address is a number", "id.orig_h", "167772161"),
            (
                "orig address is not an address",
                "id.orig_h",
                r#""not-an-ip""#,
            ),
            ("orig port is a word", "id.orig_p", r#""http""#),
            ("orig port negative", "id.orig_p", "-1"),
            ("orig port too large", "id.orig_p", "70000"),
        ]);
    }
    if is_conn {
        c.shapes(&[
            ("conn without a uid", "uid", ""),
            ("conn without a ts", "ts", ""),
            ("conn uid null", "uid", "null"),
            ("conn bytes negative", "orig_bytes", "-5"),
            ("conn bytes fractional", "orig_bytes", "1.5"),
            ("conn bytes a word", "resp_bytes", r#""many""#),
            ("conn duration a word", "duration", r#""long""#),
            ("conn proto a number", "proto", "6"),
        ]);
        c.shape(
            "conn without addresses",
            &[("id.orig_h", ""), ("id.resp_h", "")],
        );
        c.both("an empty conn object", b"{}\n".to_vec());
    }

    // Broken compression (sent with Content-Encoding: gzip).
    let log = with_line(&good.replace(TS, "1700000001"));
    let full = gzip(&log);
    c.gz("gzip cut after 10 bytes", full[..10].to_vec());
    c.gz("gzip cut in half", full[..full.len() / 2].to_vec());
    c.gz("gzip without its trailer", full[..full.len() - 8].to_vec());
    let mut bad_crc = full.clone();
    let n = bad_crc.len();
    bad_crc[n - 8] ^= 0xff;
    c.gz("gzip with a bad CRC", bad_crc);
    let mut bad_len = full.clone();
    bad_len[n - 1] ^= 0x01;
    c.gz("gzip with a bad length", bad_len);
    let mut bad_deflate = full.clone();
    bad_deflate[10..20].fill(0xff);
    c.gz("gzip with corrupt deflate data", bad_deflate);
    c.gz("the gzip magic alone", b"\x1f\x8b".to_vec());
    c.gz("an empty body labelled gzip", Vec::new());
    c.gz("plain text labelled gzip", log.clone());
    c.gz("noise labelled gzip", noise(4096, 7));
    c.gz(
        "a good member then garbage",
        [full.as_slice(), b"garbage"].concat(),
    );
    c.gz("gzip of nothing", gzip(b""));
    c.gz(
        "a zlib stream labelled gzip",
        [b"\x78\x9c".as_slice(), &full[10..]].concat(),
    );
    c.gz("a gzip bomb", gzip(&vec![b'#'; MAX_INFLATED + 1]));
    c.out
}

/// The answer must be a clear refusal: a 4xx with an error message, or a 200 that rejects
/// every record it read, each with its line and reason.
fn assert_refused(route: &str, kind: &str, status: u16, answer: &serde_json::Value) {
    let what = format!("POST /logs/{route} with {kind}");
    if (400..500).contains(&status) {
        assert!(
            answer["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{what}: {status} {answer}"
        );
        return;
    }
    assert_eq!(status, 200, "{what}: {answer}");
    assert_eq!(answer["accepted"], 0, "{what}: {answer}");
    let rejected = answer["rejected"].as_u64().unwrap_or(0);
    assert!(rejected >= 1, "{what}: nothing rejected: {answer}");
    let errors = answer["errors"].as_array().expect("errors listed");
    assert!(!errors.is_empty(), "{what}: {answer}");
    for error in errors {
        assert!(
            error["line"].as_u64().is_some_and(|l| l >= 1),
            "{what}: {answer}"
        );
        assert!(
            error["reason"].as_str().is_some_and(|r| !r.is_empty()),
            "{what}: {answer}"
        );
    }
}

async fn corpus_changes_nothing(store: Arc<dyn Store>) {
    let mut config = config();
    config.limits.max_decompressed_bytes = MAX_INFLATED;
    let server = TestServer::start(config, store.clone()).await;
    // Something to keep: one good connection with a detail of every route.
    for route in ROUTES {
        let mut body = header(route) + &good_line(route);
        if *route == "x509" {
            body = header(route) + &line_with(route, "key", "Cgood");
        }
        let (status, answer) =
            post_logs(&server, &format!("/logs/{route}"), &[], body.into_bytes()).await;
        assert_eq!(
            (status, &answer["rejected"]),
            (200, &0.into()),
            "{route}: {answer}"
        );
    }
    let before = snapshot(&store).await;
    assert!(before.contains("Cgood"), "{before}");

    let mut kinds = std::collections::BTreeSet::new();
    for route in ROUTES {
        for bad in corpus(route) {
            kinds.insert(bad.kind.clone());
            let headers: &[(&str, &str)] = if bad.gzip {
                &[("content-encoding", "gzip")]
            } else {
                &[]
            };
            let (status, answer) =
                post_logs(&server, &format!("/logs/{route}"), headers, bad.body).await;
            assert_refused(route, &bad.kind, status, &answer);
            assert_eq!(
                snapshot(&store).await,
                before,
                "POST /logs/{route} with {} changed the store",
                bad.kind
            );
        }
        // Still up, still answering.
        let (status, _) = raw(&server.url, "GET", "/healthz", None, &[], vec![]).await;
        assert_eq!(status, 200, "after the {route} corpus");
    }
    assert!(
        kinds.len() >= 100,
        "only {} kinds of bad bodies",
        kinds.len()
    );
    // The good data is still whole and a good body still goes in.
    let (status, answer) = post_logs(
        &server,
        "/logs/conn",
        &[],
        (header("conn") + &line_with("conn", "uid", "Cafter")).into_bytes(),
    )
    .await;
    assert_eq!((status, &answer["accepted"]), (200, &1.into()), "{answer}");
    assert_ne!(snapshot(&store).await, before);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_bodies_on_every_route_change_nothing_in_memory() {
    corpus_changes_nothing(memory_store()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_bodies_on_every_route_change_nothing_in_redis() {
    let redis = RedisServer::start().unwrap();
    corpus_changes_nothing(redis_store(&redis)).await;
}

/// How a property-test body is derived from a good one.
#[derive(Debug, Clone)]
enum Mutation {
    Flip { at: usize, mask: u8 },
    Insert { at: usize, bytes: Vec<u8> },
    Delete { at: usize, len: usize },
    Duplicate { at: usize, len: usize },
    Truncate { at: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1..=255u8).prop_map(|(at, mask)| Mutation::Flip { at, mask }),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
        (any::<usize>(), 1..64usize).prop_map(|(at, len)| Mutation::Delete { at, len }),
        (any::<usize>(), 1..256usize).prop_map(|(at, len)| Mutation::Duplicate { at, len }),
        any::<usize>().prop_map(|at| Mutation::Truncate { at }),
    ]
}

fn mutate(body: &mut Vec<u8>, mutation: &Mutation) {
    let at = |i: usize, body: &Vec<u8>| if body.is_empty() { 0 } else { i % body.len() };
    match mutation {
        Mutation::Flip { at: i, mask } => {
            if !body.is_empty() {
                let i = at(*i, body);
                body[i] ^= mask;
            }
        }
        Mutation::Insert { at: i, bytes } => {
            let i = at(*i, body);
            body.splice(i..i, bytes.iter().copied());
        }
        Mutation::Delete { at: i, len } => {
            let i = at(*i, body);
            let end = (i + len).min(body.len());
            body.drain(i..end);
        }
        Mutation::Duplicate { at: i, len } => {
            let i = at(*i, body);
            let end = (i + len).min(body.len());
            let copy = body[i..end].to_vec();
            body.splice(i..i, copy);
        }
        Mutation::Truncate { at: i } => {
            let i = at(*i, body);
            body.truncate(i);
        }
    }
}

/// Good bodies to start from: TSV and JSON, several records each.
fn seed(route: &str, json: bool) -> Vec<u8> {
    let mut body = if json { String::new() } else { header(route) };
    for i in 0..4 {
        let uid = format!("Cseed{i}");
        if json {
            body += &json_with(route, &[("key", &format!("{uid:?}"))]);
        } else {
            body += &line_with(route, "key", &uid);
        }
    }
    body.into_bytes()
}

/// What the store holds, in numbers that must stay consistent whatever was posted.
async fn consistent(store: &Arc<dyn Store>) -> Result<(), String> {
    let connections = all_connections(store).await;
    let Some(range) = store.range().await.map_err(|e| e.to_string())? else {
        return if connections.is_empty() {
            Ok(())
        } else {
            Err("connections without a range".into())
        };
    };
    // A connection counts in the bin holding the start of its first bucket.
    let b = BUCKET as f64;
    let bins = store
        .histogram((range.first / b).floor() * b, range.last + b, 7)
        .await
        .map_err(|e| e.to_string())?;
    let counted: u64 = bins.iter().map(|b| b.conns).sum();
    let bytes: u64 = bins.iter().map(|b| b.bytes).sum();
    let want_bytes: u64 = connections.iter().map(|c| c.total_bytes()).sum();
    // A uid stored twice would count twice in the histogram but once in the listing.
    if counted != connections.len() as u64 || bytes != want_bytes {
        return Err(format!(
            "histogram counts {counted} conns / {bytes} bytes, listing has {} / {want_bytes}",
            connections.len()
        ));
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    /// Random and mutated bodies never crash the handler, never get a 5xx, and are answered
    /// per line within the body's own line count; the store stays consistent.
    #[test]
    fn mutated_bodies_are_answered_and_never_crash(
        route in prop::sample::select(ROUTES),
        json in any::<bool>(),
        mutations in prop::collection::vec(mutation(), 0..6),
        random in prop::option::weighted(0.2, prop::collection::vec(any::<u8>(), 0..2048)),
        compress in any::<bool>(),
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let store = memory_store();
            let app = App::new(config(), store.clone()).unwrap();
            let mut body = random.unwrap_or_else(|| seed(route, json));
            for m in &mutations {
                mutate(&mut body, m);
            }
            let lines = body.split(|&b| b == b'\n').count() as u64;
            let body = if compress { gzip(&body) } else { body };
            let mut request = hyper::Request::builder()
                .method("POST")
                .uri(format!("/logs/{route}"))
                .header("authorization", format!("Bearer {COLLECTOR_TOKEN}"));
            if compress {
                request = request.header("content-encoding", "gzip");
            }
            let response = app.handle(request.body(Full::new(Bytes::from(body))).unwrap()).await;
            let status = response.status().as_u16();
            let bytes = response.into_body().collect().await.unwrap().to_bytes();
            let answer: serde_json::Value = serde_json::from_slice(&bytes)
                .map_err(|e| TestCaseError::fail(format!("answer is not JSON: {e}")))?;
            prop_assert!(status == 200 || (400..500).contains(&status), "{status} {answer}");
            if status == 200 {
                let accepted = answer["accepted"].as_u64().unwrap();
                let rejected = answer["rejected"].as_u64().unwrap();
                prop_assert!(accepted + rejected <= lines, "{answer} from {lines} lines");
                let errors = answer["errors"].as_array().unwrap();
                prop_assert!(errors.len() as u64 <= rejected.min(100), "{answer}");
                for error in errors {
                    let line = error["line"].as_u64().unwrap();
                    prop_assert!(line >= 1 && line <= lines, "{answer}");
                }
            } else {
                prop_assert!(answer["error"].is_string(), "{answer}");
                prop_assert_eq!(snapshot(&store).await, "empty");
            }
            consistent(&store).await.map_err(TestCaseError::fail)?;
            Ok::<(), TestCaseError>(())
        })?;
    }
}
