use proptest::prelude::*;

use super::*;

/// One row of a parsing table: the raw input and the expected outcome.
fn check<T: fmt::Debug>(
    parse: impl Fn(&str) -> Result<T, InvalidValue>,
    raw: &str,
    expected: Result<&str, InvalidValue>,
    as_str: impl Fn(&T) -> String,
) {
    let actual = parse(raw).map(|value| as_str(&value));
    assert_eq!(
        actual,
        expected.map(str::to_owned),
        "parsing {raw:?} gave an unexpected result"
    );
}

#[test]
fn username_accepts_letters_of_any_script_and_refuses_what_urls_would_escape() {
    fn username(raw: &str, expected: Result<&str, InvalidValue>) {
        check(Username::parse, raw, expected, |u| u.to_string())
    }
    username("jake", Ok("jake"));
    username("Jake_1.x-y", Ok("Jake_1.x-y"));
    username("Jérôme", Ok("Jérôme"));
    username("山田", Ok("山田"));
    username("", Err(InvalidValue::Blank));
    username("   ", Err(InvalidValue::Blank));
    username("a\0b", Err(InvalidValue::ContainsNul));
    username(&"x".repeat(33), Err(InvalidValue::TooLong { max: 32 }));
    username(&"é".repeat(32), Ok(&"é".repeat(32)));
    let rule = InvalidValue::Rule(
        "may not contain spaces, control or invisible characters, or punctuation but '_', '-' and '.'",
    );
    username("jake smith", Err(rule.clone()));
    // Invisible: each would pass for "jake" on a page.
    username("jake\u{200b}", Err(rule.clone()));
    username("ja\u{200d}ke", Err(rule.clone()));
    username("\u{202e}ekaj", Err(rule.clone()));
    username("jake\u{feff}", Err(rule.clone()));
    username("jake\u{e0041}", Err(rule.clone()));
    username("jake\u{34f}", Err(rule.clone()));
    username("jake\u{fe0f}", Err(rule.clone()));
    username("\u{3164}", Err(rule.clone()));
    username("jake\u{17b4}", Err(rule.clone()));
    username("jake\u{e0100}", Err(rule.clone()));
    username("\u{2800}", Err(rule.clone()));
    username("jake/smith", Err(rule.clone()));
    username("jake?", Err(rule.clone()));
    username("jake\u{a0}smith", Err(rule.clone()));
    username("jake\u{85}", Err(rule.clone()));
    username("jake%20", Err(rule));
    username("ジェイク_2", Ok("ジェイク_2"));
}

#[test]
fn username_canonical_form_ignores_case() {
    let upper = Username::parse("JÉRÔME").expect("valid");
    let lower = Username::parse("jérôme").expect("valid");
    assert_ne!(upper, lower);
    assert_eq!(upper.canonical(), lower.canonical());
}

#[test]
fn email_is_kept_in_lower_case_and_checked_loosely() {
    fn email(raw: &str, expected: Result<&str, InvalidValue>) {
        check(Email::parse, raw, expected, |e| e.to_string())
    }
    email("jake@jake.jake", Ok("jake@jake.jake"));
    email("Jake@Example.COM", Ok("jake@example.com"));
    email("  jake@example.com ", Ok("jake@example.com"));
    email("", Err(InvalidValue::Blank));
    email("jake", Err(InvalidValue::Malformed));
    email("@example.com", Err(InvalidValue::Malformed));
    email("jake@localhost", Err(InvalidValue::Malformed));
    email("jake@.com", Err(InvalidValue::Malformed));
    email("jake@example.com.", Err(InvalidValue::Malformed));
    email("ja ke@example.com", Err(InvalidValue::Malformed));
    email("a@b@example.com", Err(InvalidValue::Malformed));
    email("jake\0@example.com", Err(InvalidValue::ContainsNul));
    let long = format!("{}@example.com", "j".repeat(250));
    email(&long, Err(InvalidValue::TooLong { max: 254 }));
}

/// One row: a password within the length bounds, and what each policy says of it for the user
/// `jake`, `jake.smith@example.com`.
fn policy(raw: &str, strict: Result<(), &'static str>, contract: Result<(), &'static str>) {
    let password = Password::parse(raw).expect("within the length bounds");
    let username = Username::parse("jake").expect("valid");
    let email = Email::parse("jake.smith@example.com").expect("valid");

    let answers = [PasswordPolicy::Strict, PasswordPolicy::Contract]
        .map(|policy| password.check_policy(policy, &username, &email));

    assert_eq!(
        answers,
        [strict, contract].map(|expected| expected.map_err(InvalidValue::Rule)),
        "{raw:?}"
    );
}

#[test]
fn a_new_password_must_not_be_blank_or_repeated_and_strictly_not_common_or_ones_own_name() {
    let own_name = Err("must not be your username or e-mail address");
    policy("correct horse battery", Ok(()), Ok(()));
    policy("  spaced  out  ", Ok(()), Ok(()));
    policy("aaaaaaab", Ok(()), Ok(()));
    policy("JakeJake", Ok(()), Ok(()));
    let blank = Err("must contain more than white space");
    policy("        ", blank, blank);
    policy("\t\n \u{a0}\u{2003}    ", blank, blank);
    let repeated = Err("must not be one character repeated");
    policy("pppppppp", repeated, repeated);
    policy("🔑🔑🔑🔑🔑🔑🔑🔑", repeated, repeated);
    // The passwords of the official API test runner and of the Angular frontend.
    policy("password", Err("is too common"), Ok(()));
    policy("password123", Err("is too common"), Ok(()));
    policy("PASSWORD123", Err("is too common"), Ok(()));
    policy("jake.smith", own_name, Ok(()));
    policy("JAKE.SMITH@example.com", own_name, Ok(()));
}

#[test]
fn a_policy_is_named_as_it_is_configured() {
    assert_eq!(
        [PasswordPolicy::Contract, PasswordPolicy::Strict].map(|policy| policy.to_string()),
        ["contract", "strict"]
    );
}

#[test]
fn password_counts_characters_and_never_trims_or_truncates() {
    fn password(raw: &str, expected: Result<&str, InvalidValue>) {
        check(Password::parse, raw, expected, |p| p.expose().to_owned())
    }
    password("", Err(InvalidValue::Blank));
    password("1234567", Err(InvalidValue::TooShort { min: 8 }));
    password("12345678", Ok("12345678"));
    password("  spaced  ", Ok("  spaced  "));
    password("пароль12", Ok("пароль12"));
    password("🔑🔑🔑🔑🔑🔑🔑🔑", Ok("🔑🔑🔑🔑🔑🔑🔑🔑"));
    password("pass\0word", Err(InvalidValue::ContainsNul));
    password(&"p".repeat(128), Ok(&"p".repeat(128)));
    password(&"p".repeat(129), Err(InvalidValue::TooLong { max: 128 }));
}

#[test]
fn secrets_never_show_in_debug_output() {
    let password = Password::parse("correct horse battery").expect("valid");
    let hash = PasswordHash::from_phc("$argon2id$v=19$secret".to_owned());
    assert_eq!(format!("{password:?}"), "Password(<redacted>)");
    assert_eq!(format!("{hash:?}"), "PasswordHash(<redacted>)");
}

#[test]
fn image_must_be_an_absolute_http_url() {
    fn image(raw: &str, expected: Result<&str, InvalidValue>) {
        check(ImageUrl::parse, raw, expected, |i| i.to_string())
    }
    image("https://example.com/a.png", Ok("https://example.com/a.png"));
    image("http://example.com/a.png", Ok("http://example.com/a.png"));
    image(
        "javascript:alert(1)",
        Err(InvalidValue::Rule("must be an http or https URL")),
    );
    image("https://", Err(InvalidValue::Malformed));
    image("https://exa mple.com", Err(InvalidValue::Malformed));
    image("", Err(InvalidValue::Blank));
}

#[test]
fn bio_has_a_length_cap() {
    fn bio(raw: &str, expected: Result<&str, InvalidValue>) {
        check(Bio::parse, raw, expected, |b| b.to_string())
    }
    bio("I work at statefarm", Ok("I work at statefarm"));
    bio(
        &"b".repeat(1_001),
        Err(InvalidValue::TooLong { max: 1_000 }),
    );
}

proptest! {
    #[test]
    fn a_parsed_username_round_trips_through_as_str(raw in "[\\p{L}\\p{N}_.-]{1,32}") {
        let username = Username::parse(&raw).expect("generated usernames are valid");
        prop_assert_eq!(username.as_str(), raw.as_str());
        prop_assert_eq!(Username::parse(username.as_str()), Ok(username.clone()));
    }

    #[test]
    fn no_string_panics_a_parser(raw in any::<String>()) {
        let _ = Username::parse(&raw);
        let _ = Email::parse(&raw);
        let _ = Password::parse(&raw);
        let _ = Bio::parse(&raw);
        let _ = ImageUrl::parse(&raw);
    }

    #[test]
    fn email_parsing_is_idempotent(raw in "[a-zA-Z0-9._%+-]{1,20}@[a-zA-Z0-9-]{1,20}\\.[a-zA-Z]{2,6}") {
        let email = Email::parse(&raw).expect("generated addresses are valid");
        prop_assert_eq!(Email::parse(email.as_str()), Ok(email.clone()));
    }

    #[test]
    fn passwords_within_the_bounds_are_accepted_verbatim(raw in "[^\\x00]{8,128}") {
        let password = Password::parse(&raw).expect("within the bounds");
        prop_assert_eq!(password.expose(), raw.as_str());
    }

    #[test]
    fn text_values_never_exceed_their_cap(raw in any::<String>()) {
        if let Ok(bio) = Bio::parse(&raw) {
            prop_assert!(bio.as_str().chars().count() <= Bio::MAX_CHARS);
            prop_assert!(!bio.as_str().contains('\0'));
        }
    }
}
