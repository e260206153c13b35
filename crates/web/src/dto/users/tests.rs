use super::{LoginUser, RefreshRequest};

/// A login or refresh body may reach a log line through `Debug` (a handler's span, an error):
/// it names its type and shows no secret.
#[test]
fn login_and_refresh_bodies_print_no_secret() {
    let login: LoginUser = serde_json::from_value(serde_json::json!({
        "email": "jake@jake.jake", "password": "correct horse battery"
    }))
    .expect("a login body");
    let refresh: RefreshRequest =
        serde_json::from_value(serde_json::json!({"refreshToken": "rt-0123456789abcdef"}))
            .expect("a refresh body");

    let login = format!("{login:?}");
    let refresh = format!("{refresh:?}");

    assert!(login.starts_with("LoginUser"), "{login}");
    assert!(!login.contains("correct horse"), "{login}");
    assert!(refresh.starts_with("RefreshRequest"), "{refresh}");
    assert!(!refresh.contains("rt-0123456789abcdef"), "{refresh}");
}
