use actix_web::http::Uri;

use super::without_trailing_slash;

/// One row: a request target and the one it is routed as (`None`: unchanged).
fn check(sent: &str, routed: Option<&str>) {
    let uri: Uri = sent.parse().expect("a request target");

    let trimmed = without_trailing_slash(&uri);

    assert_eq!(
        trimmed.as_ref().map(ToString::to_string).as_deref(),
        routed,
        "{sent}"
    );
}

#[test]
fn one_trailing_slash_is_dropped_and_nothing_else_changes() {
    check("/api/articles/", Some("/api/articles"));
    check("/api/articles/feed/", Some("/api/articles/feed"));
    check(
        "/api/articles/?limit=5&tag=a/",
        Some("/api/articles?limit=5&tag=a/"),
    );
    check("/api/articles", None);
    check("/api/articles?tag=a/", None);
    check("/", None);
    check("/?limit=5", None);
    // Only one: a path that ends in two slashes still ends in one.
    check("/api/articles//", Some("/api/articles/"));
    // Repeated slashes inside the path are not merged: an empty segment stays empty.
    check("/api/profiles//follow/", Some("/api/profiles//follow"));
    // An encoded slash is part of a segment, not a separator.
    check("/api/articles/a%2F", None);
}
