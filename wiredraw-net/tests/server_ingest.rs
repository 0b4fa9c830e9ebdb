//! `POST /logs/{type}` against the real server over loopback: real Zeek logs, every kind of bad
//! body, and proof that a refused request changes nothing in the store.

mod server_support;

use bytes::Bytes;
use server_support::*;
use std::io::Write;
use std::net::IpAddr;
use std::sync::Arc;
use wiredraw_net::client::Span;
use wiredraw_net::http_client::HttpError;
use wiredraw_net::store::Store;
use wiredraw_net::testkit::RedisServer;

const CONN_HEADER: &str = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n\
#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\thistory\n\
#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tstring\n";

fn conn_line(uid: &str, ts: f64) -> String {
    format!("{ts}\t{uid}\t10.0.0.1\t50000\t10.0.0.2\t443\ttcp\tssl\t1.5\t100\t2000\tSF\tShADadFf\n")
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

async fn ships_real_logs(store: Arc<dyn Store>) {
    let server = TestServer::start(config(), store.clone()).await;
    let collector = server.collector();
    let conn_file = &rita_files("2024-04-19", "conn")[0];
    let (header, lines) = split_log(conn_file);
    let mut accepted = 0;
    for (i, body) in batches(&header, &lines, 1000).into_iter().enumerate() {
        let answer = collector.post_logs("conn", body, i % 2 == 0).await.unwrap();
        assert_eq!(answer.rejected, 0, "{:?}", answer.errors);
        accepted += answer.accepted;
    }
    assert_eq!(accepted, lines.len() as u64);
    // Every uid of the file is stored.
    assert_eq!(all_connections(&store).await.len(), lines.len());

    // Details attach to their connections: http records of the same hour.
    let http_file = &rita_files("2024-04-19", "http")[0];
    let (http_header, http_lines) = split_log(http_file);
    let answer = collector
        .post_logs(
            "http",
            batches(&http_header, &http_lines, 100_000).remove(0),
            true,
        )
        .await
        .unwrap();
    assert_eq!(
        answer.accepted,
        http_lines.len() as u64,
        "{:?}",
        answer.errors
    );
    let uid = String::from_utf8_lossy(&http_lines[0])
        .split('\t')
        .nth(1)
        .unwrap()
        .to_string();
    let session = server.session().await;
    let info = session.connection(&uid).await.unwrap();
    assert!(!info.details["http"].is_empty());
    assert!(!info.history_decoded.is_empty() || info.connection.history.is_none());

    // Posting the same batch again changes nothing: ingest is idempotent.
    let before = snapshot(&store).await;
    let again = collector
        .post_logs("conn", batches(&header, &lines, 1000).remove(0), false)
        .await
        .unwrap();
    assert_eq!(again.accepted, 1000);
    assert_eq!(snapshot(&store).await, before);

    let (_, metrics) = raw(&server.url, "GET", "/metrics", None, &[], vec![]).await;
    let metrics = metrics.as_str().unwrap();
    let expected = format!(
        "wiredraw_ingest_records_total{{log_type=\"conn\",outcome=\"accepted\"}} {}",
        lines.len() + 1000
    );
    assert!(metrics.contains(&expected), "{metrics}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_logs_are_stored_whole_in_memory() {
    ships_real_logs(memory_store()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_logs_are_stored_whole_in_redis() {
    let redis = RedisServer::start().unwrap();
    ships_real_logs(redis_store(&redis)).await;
}

/// wrccdc's ssl and x509 logs whole, and one conn record for a TLS connection they describe
/// (the sample has no conn.log): the connection is answered with the certificate its ssl record
/// names by fingerprint, though x509.log names no connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tls_connection_is_answered_with_its_certificate() {
    let server = TestServer::start(config(), memory_store()).await;
    let collector = server.collector();
    for log_type in ["x509", "ssl"] {
        let (header, lines) = split_log(&wrccdc_file(log_type));
        for body in batches(&header, &lines, 20_000) {
            let answer = collector.post_logs(log_type, body, true).await.unwrap();
            assert_eq!(answer.rejected, 0, "{:?}", answer.errors);
        }
    }
    let uid = "CVHA7z2oZ6BsxyvsYl";
    let conn = format!(
        "{CONN_HEADER}1521911723.363645\t{uid}\t10.47.26.160\t50000\t216.58.193.195\t443\ttcp\tssl\t\
         1.5\t100\t2000\tSF\tShADadFf\n"
    );
    let answer = collector
        .post_logs("conn", Bytes::from(conn), false)
        .await
        .unwrap();
    assert_eq!(answer.accepted, 1, "{:?}", answer.errors);
    let info = server.session().await.connection(uid).await.unwrap();
    assert_eq!(info.details["ssl"][0]["server_name"], "fonts.gstatic.com");
    // The chain names two certificates; Zeek logged only the first in this capture.
    assert_eq!(
        info.details["ssl"][0]["cert_chain_fps"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let certificates = &info.details["x509"];
    assert_eq!(certificates.len(), 1);
    assert_eq!(
        certificates[0]["certificate.subject"],
        "CN=*.google.com,O=Google Inc,L=Mountain View,ST=California,C=US"
    );
    server.stop().await;
}

/// The sensor's own capture-loss log, a day of it as a collector ships it, comes back with the
/// histogram of the stretch it covers: the hour of the sample's worst loss (55 %, 1,645 of
/// 2,978 ACKs for data never seen) and the quarter hours around it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sensors_capture_loss_comes_with_the_histogram() {
    let server = TestServer::start(config(), memory_store()).await;
    let collector = server.collector();
    let files = rita_files("2024-04-19", "capture_loss");
    assert_eq!(files.len(), 24, "one file an hour");
    let mut shipped = 0;
    for file in &files {
        let (header, lines) = split_log(file);
        shipped += lines.len() as u64;
        for body in batches(&header, &lines, 1000) {
            let answer = collector
                .post_logs("capture_loss", body, true)
                .await
                .unwrap();
            assert_eq!(
                answer.rejected,
                0,
                "{}: {:?}",
                file.display(),
                answer.errors
            );
        }
    }
    assert_eq!(shipped, 96, "a report every 15 minutes");
    let session = server.session().await;
    // 12:00 to 13:00 UTC: the reports ending 12:11:15, 12:26:15, 12:41:15 and 12:56:15 and the
    // one ending 13:11:15, whose interval began before 13:00.
    let (from, to) = (1_713_528_000.0, 1_713_531_600.0);
    let answer = session.histogram(from, to, 60).await.unwrap();
    assert_eq!(answer.bins.len(), 60);
    let ends: Vec<f64> = answer.capture_loss.iter().map(|r| r.ts).collect();
    assert_eq!(
        ends,
        [
            1_713_528_675.557_64,
            1_713_529_575.557_83,
            1_713_530_475.558_496,
            1_713_531_375.558_776,
            1_713_532_275.559_463,
        ]
    );
    let worst = &answer.capture_loss[3];
    assert_eq!(worst.peer, "worker-eth0-1");
    assert_eq!((worst.gaps, worst.acks), (1645, 2978));
    assert_eq!(worst.percent_lost, 55.238415);
    assert_eq!(worst.ts_delta, 900.00028);
    // The whole day: all 96, in time order.
    let day = session
        .histogram(1_713_484_800.0, 1_713_571_200.0, 10)
        .await
        .unwrap();
    assert_eq!(day.capture_loss.len(), 96);
    assert!(day.capture_loss.windows(2).all(|w| w[0].ts < w[1].ts));
    server.stop().await;
}

/// The rita sensor's software log, three days of it: its own host runs the same sshd and nginx
/// each day and fetches updates with apt. The host's answer lists each once, with the span of
/// days it was seen, whatever window is asked for.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_is_answered_with_the_software_seen_on_it() {
    let server = TestServer::start(config(), memory_store()).await;
    let collector = server.collector();
    let mut shipped = 0;
    for day in ["2024-04-19", "2024-04-20", "2024-04-21"] {
        for file in rita_files(day, "software") {
            let (header, lines) = split_log(&file);
            shipped += lines.len();
            for body in batches(&header, &lines, 1000) {
                let answer = collector.post_logs("software", body, true).await.unwrap();
                assert_eq!(
                    answer.rejected,
                    0,
                    "{}: {:?}",
                    file.display(),
                    answer.errors
                );
            }
        }
    }
    assert_eq!(shipped, 8);
    let host: std::net::IpAddr = "64.225.56.201".parse().unwrap();
    let answer = server
        .session()
        .await
        .node(host, Span::At(1_713_484_800.0))
        .await
        .unwrap();
    type Row<'a> = (&'a str, &'a str, Option<&'a str>, Option<u16>, f64, f64);
    let software: Vec<Row<'_>> = answer
        .software
        .iter()
        .map(|s| {
            (
                s.software.software_type.as_str(),
                s.software.name.as_str(),
                s.software.version.as_deref(),
                s.software.host_p,
                s.first_seen,
                s.last_seen,
            )
        })
        .collect();
    assert_eq!(
        software,
        [
            (
                "HTTP::BROWSER",
                "Debian APT-HTTP",
                Some("1.3-2.0.10"),
                None,
                1_713_588_743.664_356,
                1_713_661_937.874_922
            ),
            (
                "HTTP::SERVER",
                "nginx",
                Some("1.18.0-Ubuntu"),
                Some(80),
                1_713_555_752.845_633,
                1_713_728_517.076_3
            ),
            (
                "SSH::SERVER",
                "OpenSSH",
                Some("8.2-p1"),
                Some(22),
                1_713_555_664.377_169,
                1_713_728_493.272_446
            ),
        ]
    );
    assert_eq!(answer.software_total, 3);
    assert_eq!(
        answer.software[2].software.unparsed_version.as_deref(),
        Some("OpenSSH_8.2p1 Ubuntu-4ubuntu0.11")
    );
    server.stop().await;
}

/// wrccdc's notice log: 207 certificates that failed validation, each naming its connection
/// and, as `src` and `dst`, the client and the server. A host's answer lists the notices that
/// name it, newest first, whatever window is asked for.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_is_answered_with_the_notices_that_name_it() {
    let server = TestServer::start(config(), memory_store()).await;
    let collector = server.collector();
    let (header, lines) = split_log(&wrccdc_file("notice"));
    assert_eq!(lines.len(), 207);
    for body in batches(&header, &lines, 100) {
        let answer = collector.post_logs("notice", body, true).await.unwrap();
        assert_eq!(answer.rejected, 0, "{:?}", answer.errors);
    }
    let session = server.session().await;
    let scanner = session
        .node("10.164.94.120".parse().unwrap(), Span::At(1_700_000_000.0))
        .await
        .unwrap();
    // It is the client of 35 of them: 20 listed, the newest first.
    assert_eq!(scanner.records_total, 35);
    assert_eq!(scanner.records.len(), 20);
    let newest = &scanner.records[0].record;
    assert_eq!(scanner.records[0].log_type, "notice");
    assert_eq!(newest["note"], "SSL::Invalid_Server_Cert");
    assert_eq!(newest["ts"], 1_521_912_090.841_238);
    assert_eq!(newest["dst"], "10.47.8.19");
    let times: Vec<f64> = scanner
        .records
        .iter()
        .map(|r| r.record["ts"].as_f64().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");
    // The server of one of them.
    let esx = session
        .node("10.47.3.200".parse().unwrap(), Span::At(1_700_000_000.0))
        .await
        .unwrap();
    assert_eq!(esx.records_total, 1);
    assert_eq!(esx.records[0].record["uid"], "CmC9kY1X0u9nP78KZc");
    assert!(
        esx.records[0].record["sub"]
            .as_str()
            .unwrap()
            .contains("OU=VMware ESX Server Default Certificate")
    );

    // The window's list: each notice once, with both hosts it names, the newest first.
    let all = session
        .host_records(1_521_911_000.0, 1_521_913_000.0, 1000)
        .await
        .unwrap();
    assert_eq!((all.records.len(), all.total), (207, 207));
    assert_eq!(all.records[0].ts, 1_521_912_978.124_315);
    let ips = |list: &[&str]| -> Vec<IpAddr> { list.iter().map(|a| a.parse().unwrap()).collect() };
    assert_eq!(
        all.records[0].hosts,
        ips(&["10.47.5.156", "173.194.166.123"])
    );
    assert_eq!(all.records[0].record["note"], "SSL::Invalid_Server_Cert");
    assert!(all.records.windows(2).all(|w| w[0].ts >= w[1].ts));
    let names_scanner = all
        .records
        .iter()
        .filter(|r| r.hosts.contains(&"10.164.94.120".parse().unwrap()))
        .count();
    assert_eq!(names_scanner, 35);
    // The first 35 minutes of the notices: 117 of them, 50 listed.
    let early = session
        .host_records(1_521_910_000.0, 1_521_912_100.0, 50)
        .await
        .unwrap();
    assert_eq!((early.records.len(), early.total), (50, 117));
    assert!(early.records.iter().all(|r| r.ts <= 1_521_912_100.0));
    let Err(HttpError::Status {
        status, message, ..
    }) = session
        .host_records(1_521_910_000.0, 1_521_912_100.0, 5000)
        .await
    else {
        panic!("a limit over the most listed is refused");
    };
    assert_eq!(status, 400);
    assert!(message.contains("\"limit\""), "{message}");
    // The histogram says where in time they are: all 207 in 20 bins of 100 s, none before
    // 1521911720 (the first notice, in bin 7).
    let histogram = session
        .histogram(1_521_911_000.0, 1_521_913_000.0, 20)
        .await
        .unwrap();
    let counts: Vec<u64> = histogram.bins.iter().map(|b| b.records).collect();
    assert_eq!(counts.iter().sum::<u64>(), 207, "{counts:?}");
    assert_eq!(counts.iter().position(|&n| n > 0), Some(7), "{counts:?}");
    server.stop().await;
}

/// Bad bodies: each answered with its status, and the store left as it was.
async fn bad_bodies_change_nothing(store: Arc<dyn Store>) {
    let mut config = config();
    config.limits.max_body_bytes = 64 << 10;
    config.limits.max_decompressed_bytes = 256 << 10;
    config.limits.max_line_bytes = 4096;
    let server = TestServer::start(config, store.clone()).await;
    let good = format!("{CONN_HEADER}{}", conn_line("Cgood1", 1_700_000_000.0));
    let (status, answer) = post_logs(&server, "/logs/conn", &[], good.into_bytes()).await;
    assert_eq!(
        (status, answer["accepted"].as_u64()),
        (200, Some(1)),
        "{answer}"
    );
    let before = snapshot(&store).await;

    let noise: Vec<u8> = (0..5000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let mut noise = noise;
    noise[0] = 0;
    let truncated = {
        let full = gzip(
            format!(
                "{CONN_HEADER}{}",
                conn_line("Ctrunc", 1_700_000_100.0).repeat(50)
            )
            .as_bytes(),
        );
        full[..full.len() - 20].to_vec()
    };
    let mismatched = CONN_HEADER.replace("\tstring\tstring\n", "\tstring\n")
        + &conn_line("Cmis", 1_700_000_200.0);
    let no_types = CONN_HEADER
        .lines()
        .filter(|l| !l.starts_with("#types"))
        .map(|l| format!("{l}\n"))
        .collect::<String>()
        + &conn_line("Cnotypes", 1_700_000_300.0);
    let bomb = gzip(&vec![b'#'; 1 << 20]);
    let oversized = format!(
        "{CONN_HEADER}{}",
        conn_line("Cbig", 1_700_000_400.0).repeat(2000)
    );
    /// What the case is, its extra headers, its body, the status it must get.
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, Vec<u8>, u16);
    let cases: Vec<Case<'_>> = vec![
        ("binary noise", vec![], noise.clone(), 400),
        (
            "gzip binary noise",
            vec![("content-encoding", "gzip")],
            noise,
            400,
        ),
        (
            "truncated gzip",
            vec![("content-encoding", "gzip")],
            truncated,
            400,
        ),
        (
            "plain body labelled gzip",
            vec![("content-encoding", "gzip")],
            mismatched.clone().into_bytes(),
            400,
        ),
        (
            "fields and types disagree",
            vec![],
            mismatched.into_bytes(),
            400,
        ),
        ("no #types line", vec![], no_types.into_bytes(), 400),
        ("empty body", vec![], Vec::new(), 400),
        (
            "text that is not a log",
            vec![],
            b"hello world\nthis is not zeek\n".to_vec(),
            400,
        ),
        (
            "unsupported encoding",
            vec![("content-encoding", "br")],
            b"{}".to_vec(),
            415,
        ),
        ("body over the limit", vec![], oversized.into_bytes(), 413),
        ("gzip bomb", vec![("content-encoding", "gzip")], bomb, 413),
    ];
    for (what, headers, body, expected) in cases {
        let (status, answer) = post_logs(&server, "/logs/conn", &headers, body).await;
        assert_eq!(status, expected, "{what}: {answer}");
        assert!(
            answer["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{what}: {answer}"
        );
        assert_eq!(snapshot(&store).await, before, "{what} changed the store");
    }
    // Wrong log type names and wrong tokens are refused before the body is read.
    let (status, _) = post_logs(&server, "/logs/bad%20type", &[], b"#x\n".to_vec()).await;
    assert_eq!(status, 400);
    let body = format!("{CONN_HEADER}{}", conn_line("Cauth", 1_700_000_500.0)).into_bytes();
    let mut session = server.session().await;
    let session_token = session.login(USER, PASSWORD).await.unwrap().token;
    for token in [None, Some("wrong"), Some(session_token.as_str())] {
        let (status, answer) =
            raw(&server.url, "POST", "/logs/conn", token, &[], body.clone()).await;
        assert_eq!(status, 401, "{token:?}: {answer}");
    }
    assert_eq!(snapshot(&store).await, before);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_bodies_change_nothing_in_memory() {
    bad_bodies_change_nothing(memory_store()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_bodies_change_nothing_in_redis() {
    let redis = RedisServer::start().unwrap();
    bad_bodies_change_nothing(redis_store(&redis)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_lines_are_rejected_one_by_one_and_the_rest_is_stored() {
    let store = memory_store();
    let mut config = config();
    config.limits.max_line_bytes = 1024;
    let server = TestServer::start(config, store.clone()).await;
    let mut body = CONN_HEADER.to_string();
    body += &conn_line("Cok1", 1_700_000_000.0); // line 8
    body += "not-a-time\tCbad\t10.0.0.1\t1\t10.0.0.2\t2\ttcp\t-\t-\t-\t-\t-\t-\n"; // line 9
    body += &format!("1700000001\tChuge\t{}\n", "x".repeat(5000)); // line 10: too long
    body += "1700000002\tCshort\t10.0.0.1\n"; // line 11: too few fields
    body += &conn_line("Cok2", 1_700_000_003.0); // line 12
    body += "1700000004\tCnoaddr\t-\t1\t10.0.0.2\t2\ttcp\t-\t-\t-\t-\t-\t-\n"; // line 13: unset orig_h
    let (status, answer) = raw(
        &server.url,
        "POST",
        "/logs/conn",
        Some(COLLECTOR_TOKEN),
        &[],
        body.into_bytes(),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["accepted"], 2, "{answer}");
    assert_eq!(answer["rejected"], 4, "{answer}");
    let lines: Vec<u64> = answer["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [9, 10, 11, 13], "{answer}");
    assert!(
        answer["errors"][1]["reason"]
            .as_str()
            .unwrap()
            .contains("longer"),
        "{answer}"
    );
    let uids: Vec<String> = all_connections(&store)
        .await
        .iter()
        .map(|c| c.uid.to_string())
        .collect();
    assert_eq!(uids, ["Cok1", "Cok2"]);

    // NDJSON: invalid JSON and JSON of the wrong shape are rejected per line too.
    let ndjson = concat!(
        r#"{"_path":"conn","ts":1700000010.0,"uid":"Cj1","id.orig_h":"10.0.0.5","id.orig_p":1,"id.resp_h":"10.0.0.6","id.resp_p":53,"proto":"udp"}"#,
        "\n",
        "{\"ts\": 1700000011, \"uid\": \n",
        "[1, 2, 3]\n",
        r#"{"_path":"conn","ts":"yesterday","uid":"Cj2","id.orig_h":"10.0.0.5","id.resp_h":"10.0.0.6","proto":"udp"}"#,
        "\n",
    );
    let (status, answer) = raw(
        &server.url,
        "POST",
        "/logs/conn",
        Some(COLLECTOR_TOKEN),
        &[],
        ndjson.as_bytes().to_vec(),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        (answer["accepted"].as_u64(), answer["rejected"].as_u64()),
        (Some(1), Some(3)),
        "{answer}"
    );

    // Errors are capped at 100 per answer, the count is not.
    let mut body = CONN_HEADER.to_string();
    for _ in 0..150 {
        body += "bad\tline\n";
    }
    let (status, answer) = raw(
        &server.url,
        "POST",
        "/logs/conn",
        Some(COLLECTOR_TOKEN),
        &[],
        body.into_bytes(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(answer["rejected"], 150);
    assert_eq!(answer["errors"].as_array().unwrap().len(), 100);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_types_attach_to_their_connection_and_changes_are_announced() {
    let store = memory_store();
    let server = TestServer::start(config(), store.clone()).await;
    let mut changes = server.app.subscribe_changes();
    let collector = server.collector();
    let body = format!(
        "{CONN_HEADER}{}{}",
        conn_line("Cx1", 1_700_000_005.0),
        conn_line("Cx2", 1_700_000_031.0)
    );
    collector
        .post_logs("conn", Bytes::from(body), false)
        .await
        .unwrap();
    let change = changes.recv().await.unwrap();
    assert_eq!(change.log_type, "conn");
    assert_eq!(
        (change.first, change.last),
        (1_700_000_005.0, 1_700_000_032.5)
    );
    assert_eq!(change.buckets, [1_700_000_000, 1_700_000_030]);

    let custom = "#separator \\x09\n#path\tbeacon_score\n#fields\tts\tuid\tscore\n#types\ttime\tstring\tdouble\n1700000006\tCx1\t0.93\n";
    let answer = collector
        .post_logs("beacon_score", Bytes::from(custom), true)
        .await
        .unwrap();
    assert_eq!((answer.accepted, answer.rejected), (1, 0), "{answer:?}");
    let session = server.session().await;
    let edge = session
        .edge(
            "10.0.0.1".parse().unwrap(),
            "10.0.0.2".parse().unwrap(),
            Span::At(1_700_000_005.0),
        )
        .await
        .unwrap();
    assert_eq!(
        edge.connections[0].details["beacon_score"][0]["score"],
        0.93
    );
    server.stop().await;
}
