use std::collections::HashMap;

use super::*;

fn config(variables: &[(&str, &str)]) -> Result<Config, Vec<ConfigError>> {
    let map: HashMap<String, String> = variables
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect();
    Config::from_lookup(|name| map.get(name).cloned())
}

fn variables_in_error(variables: &[(&str, &str)]) -> Vec<String> {
    config(variables)
        .expect_err("the configuration is refused")
        .into_iter()
        .map(|error| error.variable)
        .collect()
}

#[test]
fn no_configuration_at_all_serves_sqlite_on_localhost_8080_with_a_warning() {
    let config = config(&[]).expect("defaults are valid");

    assert_eq!(config.app_env, AppEnv::Development);
    assert_eq!(config.database_url, "sqlite://conduit.db");
    assert_eq!(config.bind_addr, "127.0.0.1:8080");
    assert_eq!(config.password_hashing, HashingParams::OWASP_MINIMUM);
    assert_eq!(config.jwt.time_to_live, Duration::from_secs(3600));
    assert!(config.warnings.iter().any(|w| w.contains("JWT_SECRET")));
}

#[test]
fn production_refuses_a_missing_or_short_secret() {
    assert_eq!(
        variables_in_error(&[("APP_ENV", "production")]),
        ["JWT_SECRET"]
    );
    assert_eq!(
        variables_in_error(&[("APP_ENV", "production"), ("JWT_SECRET", "too-short")]),
        ["JWT_SECRET"]
    );
}

#[test]
fn production_with_a_long_secret_logs_json_by_default() {
    let secret = "s".repeat(32);

    let config = config(&[("APP_ENV", "production"), ("JWT_SECRET", &secret)]).expect("valid");

    assert_eq!(config.log_format, LogFormat::Json);
    assert!(config.warnings.is_empty());
}

#[test]
fn every_invalid_variable_is_reported_at_once() {
    let errors = variables_in_error(&[
        ("APP_ENV", "staging"),
        ("DATABASE_URL", "mysql://localhost/conduit"),
        ("BIND_ADDR", "localhost"),
        ("ACCESS_TOKEN_TTL", "forever"),
        ("LOG_FORMAT", "xml"),
        ("WORKERS", "0"),
    ]);

    assert_eq!(
        errors,
        [
            "APP_ENV",
            "DATABASE_URL",
            "BIND_ADDR",
            "ACCESS_TOKEN_TTL",
            "LOG_FORMAT",
            "WORKERS"
        ]
    );
}

#[test]
fn durations_are_read_in_human_units() {
    let defaults = config(&[]).expect("valid");
    let config = config(&[
        ("ACCESS_TOKEN_TTL", "15m"),
        ("DATABASE_ACQUIRE_TIMEOUT", "2s"),
        ("DATABASE_STATEMENT_TIMEOUT", "30s"),
    ])
    .expect("valid");

    assert_eq!(config.jwt.time_to_live, Duration::from_secs(900));
    assert_eq!(
        (
            defaults.database_pool.acquire_timeout,
            defaults.database_pool.statement_timeout
        ),
        (Duration::from_secs(5), Duration::from_secs(10))
    );
    assert_eq!(config.database_pool.acquire_timeout, Duration::from_secs(2));
    assert_eq!(
        config.database_pool.statement_timeout,
        Duration::from_secs(30)
    );
    assert!(
        variables_in_error(&[("DATABASE_STATEMENT_TIMEOUT", "forever")])
            .contains(&"DATABASE_STATEMENT_TIMEOUT".to_owned())
    );
}

#[test]
fn the_shutdown_drain_is_off_by_default_and_may_be_zero_to_a_minute() {
    let drain = |value: &str| config(&[("SHUTDOWN_DRAIN", value)]).map(|c| c.shutdown_drain);

    assert_eq!(config(&[]).expect("valid").shutdown_drain, Duration::ZERO);
    assert_eq!(drain("5s"), Ok(Duration::from_secs(5)));
    assert_eq!(drain("0s"), Ok(Duration::ZERO));
    assert_eq!(drain("1m"), Ok(Duration::from_secs(60)));
    for refused in ["61s", "soon", "-1s"] {
        assert_eq!(
            variables_in_error(&[("SHUTDOWN_DRAIN", refused)]),
            ["SHUTDOWN_DRAIN"],
            "{refused}"
        );
    }
}

#[test]
fn live_updates_keep_a_day_and_eight_sockets_a_user_by_default() {
    let defaults = config(&[]).expect("valid");
    assert_eq!(defaults.live_retention, Duration::from_secs(24 * 3600));
    assert_eq!(defaults.live.max_connections_per_user, 8);

    let set = config(&[
        ("LIVE_RETENTION", "2h"),
        ("LIVE_MAX_CONNECTIONS_PER_USER", "3"),
    ])
    .expect("valid");
    assert_eq!(set.live_retention, Duration::from_secs(2 * 3600));
    assert_eq!(set.live.max_connections_per_user, 3);

    for (variable, refused) in [
        ("LIVE_RETENTION", "0s"),
        ("LIVE_RETENTION", "31d"),
        ("LIVE_MAX_CONNECTIONS_PER_USER", "0"),
        ("LIVE_MAX_CONNECTIONS_PER_USER", "1001"),
    ] {
        assert_eq!(
            variables_in_error(&[(variable, refused)]),
            [variable],
            "{variable}={refused}"
        );
    }
}

#[test]
fn previous_secrets_become_verification_keys() {
    let config = config(&[("JWT_PREVIOUS_SECRETS", "old-one, old-two,")]).expect("valid");

    let ids: Vec<_> = config
        .jwt
        .verification_keys
        .iter()
        .map(|key| key.id().to_owned())
        .collect();
    assert_eq!(
        ids,
        [
            SigningKey::new("old-one").id(),
            SigningKey::new("old-two").id()
        ]
    );
}

#[test]
fn the_configuration_never_prints_the_secret() {
    let secret = "a-very-secret-value-that-must-not-leak";

    let config = config(&[("JWT_SECRET", secret)]).expect("valid");

    assert!(!format!("{config:?}").contains(secret));
}

#[test]
fn sessions_throttling_and_the_breach_check_have_defaults_and_can_be_set() {
    let defaults = config(&[]).expect("valid");
    let set = config(&[
        ("REFRESH_TOKEN_IDLE_TTL", "1d"),
        ("REFRESH_TOKEN_ABSOLUTE_TTL", "30d"),
        ("LOGIN_MAX_FAILURES", "3"),
        ("LOGIN_FAILURE_WINDOW", "5m"),
        ("BREACH_CHECK_URL", "https://api.pwnedpasswords.com"),
        ("BREACH_CHECK_THRESHOLD", "10"),
        ("BREACH_CHECK_FAIL_OPEN", "false"),
        (
            "CORS_ALLOWED_ORIGINS",
            "https://app.example/, http://localhost:4200",
        ),
        ("TRUSTED_PROXIES", "10.0.0.0/8, ::1"),
    ])
    .expect("valid");

    assert_eq!(defaults.sessions, SessionPolicy::default());
    assert_eq!(defaults.breach_check, None);
    assert!(defaults.cors_allowed_origins.is_empty());
    assert_eq!(
        defaults.trusted_proxies,
        conduit_web::TrustedProxies::default()
    );
    assert_eq!(set.sessions.idle_timeout, time::Duration::days(1));
    assert_eq!(set.sessions.absolute_timeout, time::Duration::days(30));
    assert_eq!(set.throttle.max_failures_per_account, 3);
    assert_eq!(set.throttle.window, time::Duration::minutes(5));
    assert_eq!(
        set.breach_check,
        Some(BreachCheckSettings {
            base_url: "https://api.pwnedpasswords.com".to_owned(),
            timeout: Duration::from_secs(2),
            threshold: 10,
            fail_open: false,
        })
    );
    assert_eq!(
        set.cors_allowed_origins,
        ["https://app.example", "http://localhost:4200"]
    );
    assert_eq!(
        Ok(set.trusted_proxies),
        conduit_web::TrustedProxies::parse("10.0.0.0/8,::1")
    );
}

#[test]
fn bad_session_breach_and_cors_settings_are_each_reported() {
    let errors = variables_in_error(&[
        ("REFRESH_TOKEN_IDLE_TTL", "never"),
        ("LOGIN_MAX_FAILURES", "0"),
        ("BREACH_CHECK_FAIL_OPEN", "maybe"),
        ("BREACH_CHECK_URL", "ftp://example.com"),
        ("CORS_ALLOWED_ORIGINS", "*, https://app.example"),
        ("TRUSTED_PROXIES", "nginx"),
    ]);

    assert_eq!(
        errors,
        [
            "REFRESH_TOKEN_IDLE_TTL",
            "LOGIN_MAX_FAILURES",
            "BREACH_CHECK_URL",
            "BREACH_CHECK_FAIL_OPEN",
            "CORS_ALLOWED_ORIGINS",
            "TRUSTED_PROXIES"
        ]
    );
}

#[test]
fn the_password_policy_is_the_contracts_in_development_and_strict_in_production() {
    let secret = "s".repeat(32);
    let policy = |variables: &[(&str, &str)]| config(variables).map(|c| c.password_policy);
    let production = [("APP_ENV", "production"), ("JWT_SECRET", secret.as_str())];

    assert_eq!(policy(&[]), Ok(PasswordPolicy::Contract));
    assert_eq!(
        policy(&[("APP_ENV", "development")]),
        Ok(PasswordPolicy::Contract)
    );
    assert_eq!(policy(&production), Ok(PasswordPolicy::Strict));
    assert_eq!(
        policy(&[("PASSWORD_POLICY", "strict")]),
        Ok(PasswordPolicy::Strict)
    );
    assert_eq!(
        policy(&[
            production[0],
            production[1],
            ("PASSWORD_POLICY", "contract")
        ]),
        Ok(PasswordPolicy::Contract)
    );
    assert_eq!(
        policy(&[("PASSWORD_POLICY", " ")]),
        Ok(PasswordPolicy::Contract),
        "blank is unset, as for every variable"
    );
}

#[test]
fn an_unknown_password_policy_is_refused_naming_the_choices() {
    for refused in ["nist", "Strict", "contract,strict"] {
        let errors = config(&[("PASSWORD_POLICY", refused)]).expect_err("refused");

        assert_eq!(
            errors,
            [ConfigError {
                variable: "PASSWORD_POLICY".to_owned(),
                message: format!("must be contract or strict, not {refused:?}"),
            }]
        );
    }
}

/// A configuration that would quietly switch a rule off says so at start-up.
#[test]
fn the_contract_policy_in_production_or_beside_a_breach_check_is_warned_about() {
    let secret = "s".repeat(32);
    let warned_of = |variables: &[(&str, &str)]| {
        config(variables)
            .expect("valid")
            .warnings
            .iter()
            .filter(|warning| warning.contains("PASSWORD_POLICY"))
            .count()
    };
    let breach_check = ("BREACH_CHECK_URL", "https://api.pwnedpasswords.com");

    assert_eq!(warned_of(&[("JWT_SECRET", &secret)]), 0);
    assert_eq!(
        warned_of(&[
            ("APP_ENV", "production"),
            ("JWT_SECRET", &secret),
            ("PASSWORD_POLICY", "contract"),
        ]),
        1
    );
    assert_eq!(warned_of(&[("JWT_SECRET", &secret), breach_check]), 1);
    assert_eq!(
        warned_of(&[
            ("JWT_SECRET", &secret),
            breach_check,
            ("PASSWORD_POLICY", "strict")
        ]),
        0
    );
}

#[test]
fn docs_configuration_shows_the_table_the_declarations_make() {
    let page = include_str!("../../../../docs/configuration.md");
    let table = Variables::markdown_table();

    assert!(
        page.contains(&table),
        "docs/configuration.md's table differs from the declarations in config.rs; it should read:\n{table}"
    );
}

#[test]
fn every_variable_has_a_flag_a_default_and_a_meaning() {
    let rows = Variables::documented();

    assert_eq!(rows.len(), 34, "the variables docs/configuration.md lists");
    for row in &rows {
        assert!(!row.default.is_empty(), "{} has no default", row.variable);
        assert!(!row.meaning.is_empty(), "{} has no meaning", row.variable);
    }
    let names: std::collections::BTreeSet<&str> =
        rows.iter().map(|row| row.variable.as_str()).collect();
    assert_eq!(names.len(), rows.len(), "a variable is declared twice");
}

#[test]
fn a_flag_wins_over_its_variable_and_help_is_clap_s() {
    let read = |args: &[&str], variables: &[(&str, &str)]| {
        let variables: Vec<(String, String)> = variables
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();
        let args: Vec<std::ffi::OsString> = args.iter().map(std::ffi::OsString::from).collect();
        Config::from_sources(
            &args,
            |name| {
                variables
                    .iter()
                    .find(|(variable, _)| variable == name)
                    .map(|(_, value)| value.clone())
            },
            Vec::new(),
        )
    };

    let config = read(&["conduit", "--workers=3"], &[("WORKERS", "nine")])
        .expect("the flag is read, the variable not");
    assert_eq!(config.workers, Some(3));
    let config = read(&["conduit", "--workers", "4"], &[("WORKERS", "2")]).expect("valid");
    assert_eq!(config.workers, Some(4));

    // Help, and a bad flag, answer whatever the variables hold.
    match read(&["conduit", "--help"], &[("WORKERS", "abc")]) {
        Err(Refusal::Arguments(told)) => {
            assert_eq!(told.kind(), clap::error::ErrorKind::DisplayHelp);
            assert!(told.to_string().contains("--access-token-ttl"));
        }
        other => panic!("--help is clap's to answer, not {other:?}"),
    }
    match read(&["conduit", "--workers=0"], &[("LOG_FORMAT", "xml")]) {
        Err(Refusal::Arguments(told)) => {
            assert!(
                told.to_string()
                    .contains("must be a whole number from 1 to 256")
            );
        }
        other => panic!("a bad flag is clap's to answer, not {other:?}"),
    }
}

#[test]
fn messages_name_the_variable_and_say_what_it_must_be() {
    let errors = config(&[
        ("APP_ENV", "staging"),
        ("BREACH_CHECK_FAIL_OPEN", "maybe"),
        ("WORKERS", "300"),
        ("ACCESS_TOKEN_TTL", "0s"),
    ])
    .expect_err("refused");

    let shown: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        [
            "APP_ENV: must be development or production, not \"staging\"",
            "ACCESS_TOKEN_TTL: must be a duration between 1s and 30days such as 15m, not \"0s\"",
            "WORKERS: must be a whole number from 1 to 256, not \"300\"",
            "BREACH_CHECK_FAIL_OPEN: must be true or false, not \"maybe\"",
        ]
    );
}

#[test]
fn the_live_listener_connects_where_told_on_postgresql_only() {
    let postgres = [("DATABASE_URL", "postgres://app@pgbouncer:6432/conduit")];
    let direct = ("LIVE_DATABASE_URL", "postgres://app@db:5432/conduit");

    let defaults = config(&postgres).expect("valid");
    let told = config(&[postgres[0], direct]).expect("valid");

    assert_eq!(defaults.live_database_url, None);
    assert_eq!(
        told.live_database_url.as_deref(),
        Some("postgres://app@db:5432/conduit")
    );
    assert_eq!(
        variables_in_error(&[postgres[0], ("LIVE_DATABASE_URL", "db:5432")]),
        ["LIVE_DATABASE_URL"]
    );
    assert_eq!(
        variables_in_error(&[("DATABASE_URL", "sqlite://conduit.db"), direct]),
        ["LIVE_DATABASE_URL"]
    );
}

#[test]
fn errors_of_single_variables_and_of_production_s_rules_come_together() {
    let errors = variables_in_error(&[
        ("APP_ENV", "production"),
        ("WORKERS", "abc"),
        ("JWT_PREVIOUS_SECRETS", "short"),
    ]);

    assert_eq!(errors, ["WORKERS", "JWT_SECRET", "JWT_PREVIOUS_SECRETS"]);
}

#[test]
fn a_blank_variable_is_unset_whatever_its_parser() {
    let blank = config(&[
        ("APP_ENV", ""),
        ("WORKERS", "   "),
        ("JWT_SECRET", "   "),
        ("LOG_FORMAT", "\t"),
        ("ACCESS_TOKEN_TTL", " "),
    ])
    .expect("blank is unset");

    assert_eq!(blank.workers, None);
    assert_eq!(blank.log_format, LogFormat::Pretty);
    assert!(
        blank
            .warnings
            .iter()
            .any(|warning| warning.contains("JWT_SECRET is not set")),
        "a blank secret is no secret: {:?}",
        blank.warnings
    );
}

#[test]
fn a_sqlite_url_must_name_a_file() {
    for refused in ["sqlite://", "sqlite:", "sqlite://?mode=rwc"] {
        assert_eq!(
            variables_in_error(&[("DATABASE_URL", refused)]),
            ["DATABASE_URL"],
            "{refused}"
        );
    }
    assert!(config(&[("DATABASE_URL", "sqlite://data/conduit.db?mode=rwc")]).is_ok());
}

#[test]
fn a_dotenv_line_that_cannot_be_read_is_an_error_that_shows_no_text_of_it() {
    let dir = tempfile::tempdir().expect("a directory");
    let path = dir.path().join(".env");
    std::fs::write(
        &path,
        "WORKERS=3\nJWT_SECRET \"hidden-value\nLOG_FORMAT=json\n",
    )
    .expect("written");

    let (variables, errors) = dotenv_file(&path);

    assert_eq!(variables, [("WORKERS".to_owned(), "3".to_owned())]);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].variable, ".env");
    assert!(!errors[0].message.contains("hidden"));
    assert_eq!(
        dotenv_file(&dir.path().join("absent")),
        (Vec::new(), Vec::new())
    );
}

#[test]
fn production_is_chosen_by_the_environment_or_a_flag_before_any_dotenv_is_read() {
    let args = |raw: &[&str]| -> Vec<std::ffi::OsString> { raw.iter().map(Into::into).collect() };

    assert!(production_chosen(&args(&["conduit"]), Some("production")));
    assert!(production_chosen(
        &args(&["conduit", "--app-env", "production"]),
        None
    ));
    assert!(production_chosen(
        &args(&["conduit", "--app-env=production"]),
        Some("development")
    ));
    assert!(!production_chosen(&args(&["conduit"]), Some("development")));
    assert!(!production_chosen(&args(&["conduit"]), None));
}
