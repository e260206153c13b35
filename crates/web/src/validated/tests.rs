use proptest::prelude::*;

use super::*;

/// Any JSON at all: scalars, and arrays and objects of them, nested.
fn any_json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(serde_json::Value::from),
        "\\PC{0,40}".prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(serde_json::Value::from),
            prop::collection::btree_map(
                prop_oneof![
                    Just("user".to_owned()),
                    Just("article".to_owned()),
                    Just("email".to_owned()),
                    Just("title".to_owned()),
                    Just("tagList".to_owned()),
                    "[a-z/~]{1,8}",
                ],
                inner,
                0..6
            )
            .prop_map(|map| serde_json::Value::Object(map.into_iter().collect())),
        ]
    })
}

proptest! {
    /// Whatever a client sends, validation answers (never panics), and every violation has a
    /// field and a message.
    #[test]
    fn no_body_panics_the_validator(body in any_json()) {
        for (name, validator) in all_validators() {
            let validator = validator.map_err(|error| TestCaseError::fail(format!("{name}: {error}")))?;
            for error in validator.iter_errors(&body) {
                for (field, message) in envelope_entry(&error) {
                    prop_assert!(!field.is_empty() && !message.is_empty());
                }
            }
        }
    }
}

/// The request body schema of every operation in the served document, by name.
fn documented_request_bodies() -> Vec<String> {
    let document = serde_json::to_value(<crate::ApiDoc as utoipa::OpenApi>::openapi())
        .expect("the document serialises");
    let mut names: Vec<String> = document["paths"]
        .as_object()
        .expect("paths")
        .values()
        .flat_map(|operations| operations.as_object().into_iter().flat_map(|o| o.values()))
        .filter_map(|operation| {
            operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].as_str()
        })
        .map(|reference| {
            reference
                .trim_start_matches("#/components/schemas/")
                .to_owned()
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

#[test]
fn every_documented_request_body_has_a_validator_that_compiles() {
    let mut validated: Vec<String> = Vec::new();
    for (name, validator) in all_validators() {
        assert!(validator.is_ok(), "{name}: {validator:?}");
        validated.push(name);
    }
    validated.sort();

    assert_eq!(validated, documented_request_bodies());
}

#[test]
fn a_violation_is_keyed_by_the_contracts_plain_field_name() {
    let body =
        serde_json::json!({"user": {"email": "jake@jake.jake", "password": 5, "admin": true}});

    let violations = violations::<NewUserRequest>(&body).expect("validates");

    let expected = [
        ("admin", "is not allowed"),
        ("username", "can't be blank"),
        ("password", "must be a string"),
    ];
    let mut expected: Vec<(String, String)> = expected
        .iter()
        .map(|(field, message)| ((*field).to_owned(), (*message).to_owned()))
        .collect();
    let mut violations = violations;
    expected.sort();
    violations.sort();
    assert_eq!(violations, expected);
}

/// A body that breaks a rule once for each of its keys is answered with the first
/// [`MAX_VIOLATIONS`], whatever it holds.
#[test]
fn a_body_with_thousands_of_violations_is_answered_with_the_first_few() {
    let mut user = serde_json::json!({"email": "jake@jake.jake", "password": "correct horse"});
    for n in 0..20_000 {
        user[format!("{n:x}")] = serde_json::json!(1);
    }
    let body = serde_json::json!({ "user": user });

    let violations = violations::<NewUserRequest>(&body).expect("validates");

    assert_eq!(violations.len(), MAX_VIOLATIONS, "{:?}", &violations[..3]);
}

/// The schema refuses the invisible characters of the Basic Multilingual Plane in a username,
/// as the domain's rule does, and takes any script.
#[test]
fn a_username_with_an_invisible_character_breaks_its_pattern() {
    let body = |username: &str| {
        serde_json::json!({"user": {"username": username, "email": "jake@jake.jake",
                                    "password": "correct horse battery"}})
    };
    for invisible in [
        "jake\u{200b}",
        "ja\u{200d}ke",
        "\u{202e}ekaj",
        "jake\u{feff}",
        "jake\u{34f}",
        "jake\u{fe0f}",
        "\u{3164}",
        "\u{2800}",
    ] {
        check::<NewUserRequest>(body(invisible), "username", "is invalid");
    }
    for visible in ["jake", "Jérôme", "山田", "ジェイク_2"] {
        let violations = violations::<NewUserRequest>(&body(visible)).expect("validates");
        assert!(violations.is_empty(), "{visible}: {violations:?}");
    }
}

/// One row: a body for `T`, and the one violation it must be answered with.
fn check<T: RequestBody>(body: serde_json::Value, field: &str, message: &str) {
    let violations = violations::<T>(&body).expect("validates");

    assert_eq!(
        violations,
        [(field.to_owned(), message.to_owned())],
        "{body}"
    );
}

/// Each kind of violation reads as the rule it breaks, under the field's plain name.
#[test]
fn a_violation_reads_as_the_rule_it_breaks() {
    use crate::dto::articles::NewArticleRequest;
    use crate::dto::users::UpdateUserRequest;
    let article = |tags: usize| {
        let tags: Vec<String> = (0..tags).map(|n| format!("tag{n}")).collect();
        serde_json::json!({"article": {"title": "T", "description": "D", "body": "B", "tagList": tags}})
    };

    check::<UpdateUserRequest>(
        serde_json::json!({"user": {"bio": 5}}),
        "bio",
        "must be a string or null",
    );
    check::<UpdateUserRequest>(
        serde_json::json!({"user": {"bio": "  "}}),
        "bio",
        "can't be blank",
    );
    check::<NewArticleRequest>(article(11), "tagList", "may hold at most 10 items");
    assert_eq!(
        violations::<NewArticleRequest>(&article(10)).expect("validates"),
        []
    );
}
