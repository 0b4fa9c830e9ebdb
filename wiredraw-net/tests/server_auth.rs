//! Every auth failure, over loopback: no token, wrong token, the wrong kind of token, expired
//! sessions, bad logins and their rate limit.

mod server_support;

use server_support::*;
use std::time::Duration;
use wiredraw_net::client::ApiClient;

const UI_ROUTES: &[(&str, &str)] = &[
    ("GET", "/api/range"),
    ("GET", "/api/graph?t=1700000000"),
    ("GET", "/api/graph.dot?t=1700000000"),
    ("GET", "/api/connections?t=1700000000"),
    ("GET", "/api/connection/C1"),
    ("GET", "/api/node/10.0.0.1?t=1700000000"),
    ("GET", "/api/edge?src=10.0.0.1&dst=10.0.0.2&t=1700000000"),
    (
        "GET",
        "/api/histogram?from=1700000000&to=1700000100&bins=10",
    ),
    ("GET", "/api/host-records?from=1700000000&to=1700000100"),
    ("POST", "/api/logout"),
];

/// Routes that stream until the client leaves: checked for refusals only.
const STREAM_ROUTES: &[(&str, &str)] = &[("GET", "/api/live")];

/// A refusal says why and carries nothing else: no data leaks with a 401.
fn assert_error_only(body: &serde_json::Value, what: &str) {
    let object = body.as_object().unwrap_or_else(|| panic!("{what}: {body}"));
    assert_eq!(object.len(), 1, "{what}: {body}");
    assert!(
        object["error"].as_str().is_some_and(|e| !e.is_empty()),
        "{what}: {body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_protected_route_refuses_every_wrong_token() {
    let mut config = config();
    config.session_ttl = Duration::from_secs(1);
    let server = TestServer::start(config, memory_store()).await;
    let expired = {
        let mut client = ApiClient::new(&server.url).unwrap();
        client.login(USER, PASSWORD).await.unwrap().token
    };
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let live = {
        let mut client = ApiClient::new(&server.url).unwrap();
        client.login(USER, PASSWORD).await.unwrap().token
    };
    let wrong_ui_tokens: &[(&str, Option<&str>)] = &[
        ("no token", None),
        ("collector token", Some(COLLECTOR_TOKEN)),
        ("expired session", Some(&expired)),
        (
            "made-up token",
            Some("0000000000000000000000000000000000000000000000000000000000000000"),
        ),
        ("empty token", Some("")),
    ];
    let store = server.app.store().clone();
    ingest(
        &store,
        vec![conn(
            "Cheld",
            1_700_000_000.0,
            1.0,
            "10.0.0.1",
            "10.0.0.2",
            (10, 20),
        )],
    )
    .await;
    let before = snapshot(&store).await;
    for (method, path) in UI_ROUTES.iter().chain(STREAM_ROUTES) {
        for (what, token) in wrong_ui_tokens {
            let (status, body) = raw(&server.url, method, path, *token, &[], vec![]).await;
            assert_eq!(status, 401, "{method} {path} with {what}: {body}");
            assert_error_only(&body, &format!("{method} {path} with {what}"));
        }
    }
    for (method, path) in UI_ROUTES {
        // The live session passes auth (the answers themselves are other tests' business).
        let (status, body) = raw(&server.url, method, path, Some(&live), &[], vec![]).await;
        assert!(
            status == 200 || status == 404,
            "{method} {path}: {status} {body}"
        );
        if *path == "/api/logout" {
            // Logged out: the token is dead from now on.
            let (status, _) = raw(&server.url, "GET", "/api/range", Some(&live), &[], vec![]).await;
            assert_eq!(status, 401);
        }
    }
    // Ingest takes only a collector token. The body is good, so a hole in auth would store it.
    let session = {
        let mut client = ApiClient::new(&server.url).unwrap();
        client.login(USER, PASSWORD).await.unwrap().token
    };
    let body = b"#separator \\x09\n#path\tconn\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\n\
         #types\ttime\tstring\taddr\tport\taddr\tport\tenum\n\
         1700000005.0\tCsneaky\t10.9.9.9\t1234\t10.0.0.2\t80\ttcp\n"
    .to_vec();
    for (what, token) in [
        ("no token", None),
        ("session token", Some(session.as_str())),
        ("expired session", Some(expired.as_str())),
        (
            "made-up token",
            Some("0000000000000000000000000000000000000000000000000000000000000000"),
        ),
        ("empty token", Some("")),
    ] {
        for path in ["/logs/conn", "/logs/http", "/logs/mystery"] {
            let (status, answer) = raw(&server.url, "POST", path, token, &[], body.clone()).await;
            assert_eq!(status, 401, "POST {path} with {what}: {answer}");
            assert_error_only(&answer, &format!("POST {path} with {what}"));
        }
    }
    assert_eq!(
        snapshot(&store).await,
        before,
        "a refused ingest changed the store"
    );
    // The same body with the collector token does go in: the refusals above were auth alone.
    let (status, answer) = post_logs(&server, "/logs/conn", &[], body).await;
    assert_eq!((status, &answer["accepted"]), (200, &1.into()), "{answer}");
    // A malformed header is a 401 too, never a 500.
    let (status, _) = raw(
        &server.url,
        "GET",
        "/api/range",
        None,
        &[("authorization", "Basic YTpi")],
        vec![],
    )
    .await;
    assert_eq!(status, 401);
    // Health and metrics need no token.
    assert_eq!(
        raw(&server.url, "GET", "/healthz", None, &[], vec![])
            .await
            .0,
        200
    );
    assert_eq!(
        raw(&server.url, "GET", "/metrics", None, &[], vec![])
            .await
            .0,
        200
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_login_does_not_say_which_half_was_wrong() {
    let server = TestServer::start(config(), memory_store()).await;
    let attempt = |username: &'static str, password: &'static str| {
        let url = server.url.clone();
        async move {
            let body = serde_json::to_vec(
                &serde_json::json!({"username": username, "password": password}),
            )
            .unwrap();
            raw(
                &url,
                "POST",
                "/api/login",
                None,
                &[("content-type", "application/json")],
                body,
            )
            .await
        }
    };
    let wrong_password = attempt(USER, "wrong").await;
    let wrong_user = attempt("mallory", PASSWORD).await;
    assert_eq!(wrong_password.0, 401);
    assert_eq!(wrong_password, wrong_user);
    let ok = attempt(USER, PASSWORD).await;
    assert_eq!(ok.0, 200);
    assert_eq!(ok.1["token"].as_str().unwrap().len(), 64);
    assert_eq!(ok.1["expires_in"], 12 * 3600);
    // Not JSON, or JSON of the wrong shape: 400.
    for body in [
        b"username=a&password=b".to_vec(),
        br#"{"username": 5}"#.to_vec(),
        Vec::new(),
    ] {
        let (status, answer) = raw(&server.url, "POST", "/api/login", None, &[], body).await;
        assert_eq!(status, 400, "{answer}");
    }
    let typed = ApiClient::new(&server.url)
        .unwrap()
        .clone()
        .login("mallory", "x")
        .await;
    assert_eq!(typed.unwrap_err().status().map(|s| s.as_u16()), Some(401));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_attempts_are_rate_limited_per_address() {
    let mut config = config();
    config.limits.login_attempts_per_minute = 3;
    let server = TestServer::start(config, memory_store()).await;
    let body = |password: &str| {
        serde_json::to_vec(&serde_json::json!({"username": USER, "password": password})).unwrap()
    };
    for _ in 0..3 {
        assert_eq!(
            raw(&server.url, "POST", "/api/login", None, &[], body("guess"))
                .await
                .0,
            401
        );
    }
    // Even the right password waits now.
    let (status, answer) = raw(&server.url, "POST", "/api/login", None, &[], body(PASSWORD)).await;
    assert_eq!(status, 429, "{answer}");
    assert!(
        answer["error"].as_str().unwrap().contains("retry"),
        "{answer}"
    );
    server.stop().await;
}
