//! The range API is played by wiremock: every answer it can give, and proof of what is sent.

use std::time::Duration;

use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use super::*;

const PASSWORD: &str = "correct horse battery";

fn password() -> Password {
    Password::parse(PASSWORD).expect("valid")
}

/// The SHA-1 of `PASSWORD` in upper-case hex: its first five digits and the rest.
fn split_digest() -> (String, String) {
    let digest: String = Sha1::digest(PASSWORD.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02X}"))
        .collect();
    let (prefix, suffix) = digest.split_at(5);
    (prefix.to_owned(), suffix.to_owned())
}

/// A check against `server` with a timeout no loaded machine reaches: only the timeout test
/// sets a short one.
fn check(server: &MockServer, fail_open: bool) -> RangeApiBreachCheck {
    check_with_timeout(server, fail_open, Duration::from_secs(10))
}

fn check_with_timeout(
    server: &MockServer,
    fail_open: bool,
    timeout: Duration,
) -> RangeApiBreachCheck {
    RangeApiBreachCheck::new(BreachCheckSettings {
        base_url: server.uri(),
        timeout,
        threshold: 10,
        fail_open,
    })
    .expect("a client")
}

async fn answering(body: String) -> MockServer {
    let server = MockServer::start().await;
    let (prefix, _) = split_digest();
    Mock::given(method("GET"))
        .and(path(format!("/range/{prefix}")))
        .and(header("add-padding", "true"))
        .respond_with(ResponseTemplate::new(200).set_body_string(body))
        .expect(1)
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn a_password_seen_as_often_as_the_threshold_is_breached() {
    let (_, suffix) = split_digest();
    let server = answering(format!(
        "0018A45C4D1DEF81644B54AB7F969B88D65:1\r\n{suffix}:10\r\n"
    ))
    .await;

    let verdict = check(&server, false).check(&password()).await;

    assert_eq!(verdict, Ok(Some(10)));
}

#[tokio::test]
async fn a_password_seen_less_often_or_never_passes() {
    let (_, suffix) = split_digest();
    let rarely = answering(format!("{suffix}:9\r\n")).await;
    let never = answering("0018A45C4D1DEF81644B54AB7F969B88D65:3\r\n".to_owned()).await;

    assert_eq!(check(&rarely, false).check(&password()).await, Ok(None));
    assert_eq!(check(&never, false).check(&password()).await, Ok(None));
}

#[tokio::test]
async fn padding_entries_with_a_count_of_zero_never_match() {
    let (_, suffix) = split_digest();
    let server = answering(format!(
        "{suffix}:0\r\nFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF:0\r\n"
    ))
    .await;

    assert_eq!(check(&server, false).check(&password()).await, Ok(None));
}

#[tokio::test]
async fn a_server_error_fails_closed_or_open_as_configured() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&server)
        .await;

    let closed = check(&server, false).check(&password()).await;
    let open = check(&server, true).check(&password()).await;

    assert!(matches!(closed, Err(BreachCheckError(problem)) if problem.contains("500")));
    assert_eq!(open, Ok(None));
}

#[tokio::test]
async fn a_slow_answer_times_out() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(5)))
        .mount(&server)
        .await;

    let verdict = check_with_timeout(&server, false, Duration::from_millis(300))
        .check(&password())
        .await;

    assert!(
        matches!(verdict, Err(BreachCheckError(problem)) if problem.contains("did not answer"))
    );
}

#[tokio::test]
async fn a_malformed_answer_is_an_error_not_a_pass() {
    let server = answering("this is not a range answer\r\n".to_owned()).await;

    let verdict = check(&server, false).check(&password()).await;

    assert!(matches!(verdict, Err(BreachCheckError(problem)) if problem.contains("malformed")));
}

#[tokio::test]
async fn only_the_five_digit_prefix_ever_leaves_the_server() {
    let server = MockServer::start().await;
    let (prefix, suffix) = split_digest();
    let leaks = move |request: &Request| {
        let everything = format!(
            "{} {:?} {}",
            request.url,
            request.headers,
            String::from_utf8_lossy(&request.body)
        )
        .to_uppercase();
        everything.contains(&suffix[..6]) || everything.contains(PASSWORD.to_uppercase().as_str())
    };
    let clean_prefix_only = move |request: &Request| {
        !leaks(request)
            && request.url.path() == format!("/range/{prefix}")
            && request.url.query().is_none()
            && request.body.is_empty()
    };
    Mock::given(method("GET"))
        .and(clean_prefix_only)
        .respond_with(ResponseTemplate::new(200).set_body_string(""))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .named("any request that is not the bare prefix")
        .mount(&server)
        .await;

    let verdict = check(&server, false).check(&password()).await;

    assert_eq!(verdict, Ok(None));
    // The expectations (one clean request, no other) are verified when the server drops.
}

/// Until a range API is configured, no password is refused as breached.
#[tokio::test]
async fn with_no_breach_check_every_password_passes() {
    assert_eq!(NoBreachCheck.check(&password()).await, Ok(None));
}
