//! Configuration from environment variables (or the same as flags), validated at start-up with
//! one clear error per problem, every problem at once.
//!
//! Each variable is declared once, in [`Variables`]: its flag, its environment variable, its
//! default, its parser and its help. `conduit --help` and the table in `docs/configuration.md`
//! (kept the same by a test) come from that declaration. [`Config::from_lookup`] then checks what
//! spans variables: the production refusals, and the warnings.

use std::ffi::OsString;
use std::time::Duration;

use clap::{CommandFactory as _, FromArgMatches as _};
use conduit_domain::accounts::PasswordPolicy;
use conduit_domain::sessions::SessionPolicy;
use conduit_domain::throttle::ThrottlePolicy;
use conduit_persistence::PoolSettings;
use conduit_security::{BreachCheckSettings, HashingParams, JwtSettings, SigningKey};
use conduit_web::{LiveSettings, TrustedProxies};

/// The shortest secret accepted in production: HS256's key should be at least its 256-bit output.
pub const MIN_SECRET_BYTES: usize = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AppEnv {
    Development,
    Production,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// [`PasswordPolicy`]'s names, as the variable takes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum PolicyName {
    Contract,
    Strict,
}

/// One problem with one variable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable}: {message}")]
pub struct ConfigError {
    pub variable: String,
    pub message: String,
}

/// What the server was asked for, other than a configuration: help, its version, or flags it
/// cannot read. clap's own text, to print as it is.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("invalid configuration")]
    Invalid(Vec<ConfigError>),
    #[error("{0}")]
    Arguments(clap::Error),
}

const DAY: u64 = 24 * 3600;

/// Every variable the server reads, once each. A variable set to blank is unset.
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "conduit",
    version,
    about = "Serves the Conduit API. Every flag is also an environment variable (and a line of .env outside production); a flag wins.",
    after_help = "`conduit healthcheck` asks the instance at BIND_ADDR whether it is ready (exit 0) or not (exit 1)."
)]
pub struct Variables {
    /// `development` or `production`
    #[arg(long, env = "APP_ENV", value_enum, default_value_t = AppEnv::Development)]
    app_env: AppEnv,
    /// `sqlite://PATH` or `postgres://USER:PASS@HOST/DB`
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://conduit.db", value_parser = database_url, hide_env_values = true)]
    database_url: String,
    /// how long a request waits for a database connection before answering 503
    #[arg(long, env = "DATABASE_ACQUIRE_TIMEOUT", default_value = "5s", value_parser = duration(1, 60))]
    database_acquire_timeout: Duration,
    /// PostgreSQL cancels a statement that runs longer, and the request answers 503; one the
    /// database does not answer at all is given up 2 s later, with the same 503
    #[arg(long, env = "DATABASE_STATEMENT_TIMEOUT", default_value = "10s", value_parser = duration(1, 600))]
    database_statement_timeout: Duration,
    /// PostgreSQL only: where the live-events listener connects (`LISTEN` holds a session of its own). Set it to the server itself when `DATABASE_URL` goes through a pooler in transaction mode (PgBouncer) [default: `DATABASE_URL`]
    #[arg(long, env = "LIVE_DATABASE_URL", value_parser = postgres_url, hide_env_values = true)]
    live_database_url: Option<String>,
    /// address and port to listen on
    #[arg(long, env = "BIND_ADDR", default_value = "127.0.0.1:8080", value_parser = socket_address)]
    bind_addr: String,
    /// HMAC key, at least 32 bytes; required in production [default: random in development]
    #[arg(long, env = "JWT_SECRET", hide_env_values = true)]
    jwt_secret: Option<String>,
    /// comma-separated retired keys still accepted for verification [default: none]
    #[arg(long, env = "JWT_PREVIOUS_SECRETS", hide_env_values = true)]
    jwt_previous_secrets: Option<String>,
    /// access token lifetime (`90s`, `15m`, `1h`); a token is accepted for a further 30 s, a
    /// fixed leeway for clock skew between instances
    #[arg(long, env = "ACCESS_TOKEN_TTL", default_value = "1h", value_parser = duration(1, 30 * DAY))]
    access_token_ttl: Duration,
    /// log filter (tracing-subscriber's `EnvFilter` syntax)
    #[arg(long, env = "RUST_LOG", default_value = "info", value_parser = log_filter)]
    rust_log: String,
    /// `pretty` or `json` [default: `pretty` (`json` in production)]
    #[arg(long, env = "LOG_FORMAT", value_enum)]
    log_format: Option<LogFormat>,
    /// actix-web worker threads [default: one per core]
    #[arg(long, env = "WORKERS", value_parser = whole_number(1, 256))]
    workers: Option<u64>,
    /// a refresh token unused this long stops working
    #[arg(long, env = "REFRESH_TOKEN_IDLE_TTL", default_value = "14d", value_parser = duration(1, 365 * DAY))]
    refresh_token_idle_ttl: Duration,
    /// a session ends this long after login, refreshed or not
    #[arg(long, env = "REFRESH_TOKEN_ABSOLUTE_TTL", default_value = "90d", value_parser = duration(1, 365 * DAY))]
    refresh_token_absolute_ttl: Duration,
    /// failed logins per account within the window before a 429
    #[arg(long, env = "LOGIN_MAX_FAILURES", default_value = "5", value_parser = whole_number(1, u64::MAX))]
    login_max_failures: u64,
    /// failed logins per client address within the window
    #[arg(long, env = "LOGIN_MAX_FAILURES_PER_ADDRESS", default_value = "20", value_parser = whole_number(1, u64::MAX))]
    login_max_failures_per_address: u64,
    /// the throttling window
    #[arg(long, env = "LOGIN_FAILURE_WINDOW", default_value = "15m", value_parser = duration(1, DAY))]
    login_failure_window: Duration,
    /// `contract`: a new password is 8 to 128 characters, not white space alone or one character repeated, as the RealWorld clients expect (`password` registers); `strict` also refuses the most common passwords, the user's own username or e-mail address and (with `BREACH_CHECK_URL`) breached ones [default: `contract` (`strict` in production)]
    #[arg(long, env = "PASSWORD_POLICY", value_enum)]
    password_policy: Option<PolicyName>,
    /// k-anonymity range API, e.g. `https://api.pwnedpasswords.com` [default: off]
    #[arg(long, env = "BREACH_CHECK_URL", value_parser = http_url)]
    breach_check_url: Option<String>,
    /// refuse a password seen in breaches this often or more
    #[arg(long, env = "BREACH_CHECK_THRESHOLD", default_value = "1", value_parser = whole_number(1, u64::MAX))]
    breach_check_threshold: u64,
    /// how long to wait for the range API
    #[arg(long, env = "BREACH_CHECK_TIMEOUT", default_value = "2s", value_parser = duration(1, 60))]
    breach_check_timeout: Duration,
    /// when the API cannot answer: `true` lets the password through, `false` answers 503
    #[arg(long, env = "BREACH_CHECK_FAIL_OPEN", default_value_t = true, action = clap::ArgAction::Set)]
    breach_check_fail_open: bool,
    /// on SIGTERM, how long requests in flight may take to finish
    #[arg(long, env = "SHUTDOWN_GRACE", default_value = "30s", value_parser = duration(1, 600))]
    shutdown_grace: Duration,
    /// on SIGTERM, how long to keep serving (not ready, closing each connection after its answer) before the listener closes; behind nginx, longer than its upstream `keepalive_timeout` (`deploy/nginx.conf`: 4 s)
    #[arg(long, env = "SHUTDOWN_DRAIN", default_value = "0s", value_parser = duration(0, 60))]
    shutdown_drain: Duration,
    /// comma-separated origins allowed to call the API from a browser, or `*` for any (never with credentials); also the origins that may open a live socket (none: loopback origins only) [default: none]
    #[arg(long, env = "CORS_ALLOWED_ORIGINS", value_parser = origins)]
    cors_allowed_origins: Option<Origins>,
    /// how long live events are kept for clients that resume with `since`; an older `since` gets `reset`
    #[arg(long, env = "LIVE_RETENTION", default_value = "24h", value_parser = duration(1, 30 * DAY))]
    live_retention: Duration,
    /// live sockets one user may hold on one instance; one more is refused (429, or close code 4429)
    #[arg(long, env = "LIVE_MAX_CONNECTIONS_PER_USER", default_value = "8", value_parser = whole_number(1, 1000))]
    live_max_connections_per_user: u64,
    /// live sockets one instance holds at most, authenticated or not; one more is refused (503)
    #[arg(long, env = "LIVE_MAX_CONNECTIONS", default_value_t = LiveSettings::default().max_connections as u64, value_parser = whole_number(1, u64::MAX))]
    live_max_connections: u64,
    /// live sockets waiting for their `auth` message, at most, on one instance; one more is refused (503)
    #[arg(long, env = "LIVE_MAX_UNAUTHENTICATED", default_value_t = LiveSettings::default().max_unauthenticated as u64, value_parser = whole_number(1, u64::MAX))]
    live_max_unauthenticated: u64,
    /// of those, from one client address (as `TRUSTED_PROXIES` reads it); one more is refused (429)
    #[arg(long, env = "LIVE_MAX_UNAUTHENTICATED_PER_ADDRESS", default_value_t = LiveSettings::default().max_unauthenticated_per_address as u64, value_parser = whole_number(1, u64::MAX))]
    live_max_unauthenticated_per_address: u64,
    /// the live fan-out reads the outbox at least this often, besides each `NOTIFY`: the longest that a stalled or misdirected listener connection delays delivery
    #[arg(long, env = "LIVE_POLL", default_value = "1s", value_parser = duration(1, DAY))]
    live_poll: Duration,
    /// a resume replays at most this many events of the outbox (everyone's); a client further behind gets `reset`
    #[arg(long, env = "LIVE_REPLAY_MAX", default_value = "1000", value_parser = whole_number(1, u64::MAX))]
    live_replay_max: u64,
    /// a connection whose peer acknowledges nothing the server sends for this long is dropped (`TCP_USER_TIMEOUT`), and a live socket whose frame cannot be written in this time is closed
    #[arg(long, env = "WRITE_TIMEOUT", default_value = "10s", value_parser = duration(1, 600))]
    write_timeout: Duration,
    /// comma-separated addresses and networks (`10.0.0.0/8`) of reverse proxies whose `X-Forwarded-For` names the client; otherwise the socket peer is the client (login throttling keys on it) [default: none]
    #[arg(long, env = "TRUSTED_PROXIES", value_parser = TrustedProxies::parse)]
    trusted_proxies: Option<TrustedProxies>,
}

/// `CORS_ALLOWED_ORIGINS`, read.
#[derive(Debug, Clone)]
struct Origins(Vec<String>);

fn database_url(url: &str) -> Result<String, String> {
    let file = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .map(|rest| rest.split('?').next().unwrap_or_default());
    match file {
        Some("") => Err("names no SQLite file: sqlite://PATH".to_owned()),
        Some(_) => Ok(url.to_owned()),
        None if is_postgres(url) => Ok(url.to_owned()),
        None => Err("must start with postgres:// or sqlite://".to_owned()),
    }
}

fn is_postgres(url: &str) -> bool {
    ["postgres://", "postgresql://"]
        .iter()
        .any(|scheme| url.starts_with(scheme))
}

fn postgres_url(url: &str) -> Result<String, String> {
    if is_postgres(url) {
        Ok(url.to_owned())
    } else {
        Err("must start with postgres://".to_owned())
    }
}

fn socket_address(address: &str) -> Result<String, String> {
    match address.parse::<std::net::SocketAddr>() {
        Ok(_) => Ok(address.to_owned()),
        Err(_) => Err(format!(
            "must be an address and port such as 127.0.0.1:8080, not {address:?}"
        )),
    }
}

fn http_url(url: &str) -> Result<String, String> {
    if url.starts_with("https://") || url.starts_with("http://") {
        Ok(url.to_owned())
    } else {
        Err(format!("must be an http(s) URL, not {url:?}"))
    }
}

fn log_filter(filter: &str) -> Result<String, String> {
    match tracing_subscriber::EnvFilter::try_new(filter) {
        Ok(_) => Ok(filter.to_owned()),
        Err(_) => Err(format!("is not a valid filter: {filter:?}")),
    }
}

fn origins(list: &str) -> Result<Origins, String> {
    let origins: Vec<String> = list
        .split(',')
        .map(|origin| origin.trim().trim_end_matches('/').to_owned())
        .filter(|origin| !origin.is_empty())
        .collect();
    for origin in &origins {
        let valid = origin == "*"
            || ((origin.starts_with("https://") || origin.starts_with("http://"))
                && !origin.contains('*'));
        if !valid {
            return Err(format!(
                "must list origins such as https://app.example.com, or *, not {origin:?}"
            ));
        }
    }
    if origins.len() > 1 && origins.iter().any(|origin| origin == "*") {
        return Err("* allows any origin and cannot be combined with others".to_owned());
    }
    Ok(Origins(origins))
}

/// A duration in human units (`90s`, `15m`, `1h`, `14d`) from `min` to `max` seconds.
fn duration(
    min: u64,
    max: u64,
) -> impl Fn(&str) -> Result<Duration, String> + Clone + Send + Sync + 'static {
    move |raw| match humantime::parse_duration(raw) {
        Ok(value) if value >= Duration::from_secs(min) && value <= Duration::from_secs(max) => {
            Ok(value)
        }
        _ => Err(format!(
            "must be a duration between {} and {} such as 15m, not {raw:?}",
            humantime::format_duration(Duration::from_secs(min)),
            humantime::format_duration(Duration::from_secs(max))
        )),
    }
}

/// A whole number from `min` to `max`.
fn whole_number(
    min: u64,
    max: u64,
) -> impl Fn(&str) -> Result<u64, String> + Clone + Send + Sync + 'static {
    move |raw| match raw.parse::<u64>() {
        Ok(value) if (min..=max).contains(&value) => Ok(value),
        _ if max == u64::MAX => Err(format!(
            "must be a whole number of at least {min}, not {raw:?}"
        )),
        _ => Err(format!(
            "must be a whole number from {min} to {max}, not {raw:?}"
        )),
    }
}

/// One row of the configuration table: the variable, its default and its meaning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Documented {
    pub variable: String,
    pub default: String,
    pub meaning: String,
}

impl Variables {
    /// The table of `docs/configuration.md`, from the declarations.
    pub fn documented() -> Vec<Documented> {
        Self::command()
            .get_arguments()
            .filter_map(|arg| {
                let variable = arg.get_env()?.to_string_lossy().into_owned();
                let help = arg.get_help().map(ToString::to_string).unwrap_or_default();
                let (meaning, default) = match help.split_once(" [default: ") {
                    Some((meaning, default)) => {
                        (meaning.to_owned(), default.trim_end_matches(']').to_owned())
                    }
                    None => {
                        let values: Vec<String> = arg
                            .get_default_values()
                            .iter()
                            .map(|value| format!("`{}`", value.to_string_lossy()))
                            .collect();
                        (help, values.join(", "))
                    }
                };
                Some(Documented {
                    variable,
                    default,
                    meaning,
                })
            })
            .collect()
    }

    /// The table as Markdown.
    pub fn markdown_table() -> String {
        let mut table = "| variable | default | meaning |\n|---|---|---|\n".to_owned();
        for row in Self::documented() {
            table.push_str(&format!(
                "| `{}` | {} | {} |\n",
                row.variable, row.default, row.meaning
            ));
        }
        table
    }

    /// Reads `args` (the program's name first) and the variables `lookup` gives. The flags are
    /// clap's to refuse (help, version and a bad flag answer at once, whatever the variables
    /// hold); each variable is then checked alone, so that every invalid one is reported, and a
    /// flag wins over its variable. Answers what was read, invalid variables left at their
    /// defaults, and the errors: the caller adds what spans variables to them.
    fn read(
        args: &[OsString],
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<(Self, Vec<ConfigError>), clap::Error> {
        let declared = Self::command().mut_args(|arg| arg.hide_env_values(true));
        let program = args.first().cloned().unwrap_or_else(|| "conduit".into());
        // Values come to clap as flags, made from `lookup`: clap never reads the process
        // environment itself, so a blank variable is unset and a test's lookup the only source.
        let parser = Self::command().mut_args(|arg| arg.env(None));
        if let Err(told) = parser.clone().try_get_matches_from(args) {
            return Err(match told.kind() {
                // Help from the declarations, which name each flag's variable.
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    declared.try_get_matches_from(args).err().unwrap_or(told)
                }
                _ => told,
            });
        }
        let mut flags = vec![program.clone()];
        let mut errors = Vec::new();
        for arg in declared.get_arguments() {
            let (Some(variable), Some(long)) = (arg.get_env(), arg.get_long()) else {
                continue;
            };
            let flag = format!("--{long}");
            let given_as_flag = args.iter().skip(1).any(|given| {
                given
                    .to_str()
                    .is_some_and(|given| given == flag || given.starts_with(&format!("{flag}=")))
            });
            let variable = variable.to_string_lossy();
            let Some(value) = lookup(&variable).filter(|value| !value.trim().is_empty()) else {
                continue;
            };
            if given_as_flag {
                continue;
            }
            let pair = OsString::from(format!("{flag}={value}"));
            match parser
                .clone()
                .try_get_matches_from([program.clone(), pair.clone()])
            {
                Ok(_) => flags.push(pair),
                Err(error) => errors.push(ConfigError {
                    variable: variable.into_owned(),
                    message: message(&error),
                }),
            }
        }
        flags.extend(args.iter().skip(1).cloned());
        parser
            .try_get_matches_from(flags)
            .and_then(|matches| Self::from_arg_matches(&matches))
            .map(|variables| (variables, errors))
    }
}

/// A `.env` file's variables, read without touching the process environment. A line that
/// cannot be read is an error (its text is not shown: it may hold a secret), not the silent end
/// of the file.
fn dotenv_file(path: &std::path::Path) -> (Vec<(String, String)>, Vec<ConfigError>) {
    let mut variables = Vec::new();
    let mut errors = Vec::new();
    let lines = match dotenvy::from_path_iter(path) {
        Ok(lines) => lines,
        // A missing .env is the normal case.
        Err(error) if error.not_found() => return (variables, errors),
        Err(_) => {
            errors.push(ConfigError {
                variable: ".env".to_owned(),
                message: "cannot be read".to_owned(),
            });
            return (variables, errors);
        }
    };
    for line in lines {
        match line {
            Ok(pair) => variables.push(pair),
            Err(dotenvy::Error::LineParse(_, index)) => errors.push(ConfigError {
                variable: ".env".to_owned(),
                message: format!(
                    "cannot be read from character {index} on; no line after it is read"
                ),
            }),
            Err(_) => errors.push(ConfigError {
                variable: ".env".to_owned(),
                message: "cannot be read".to_owned(),
            }),
        }
    }
    (variables, errors)
}

/// Whether the environment or the flags choose production, before any `.env` is read.
fn production_chosen(args: &[OsString], environment: Option<&str>) -> bool {
    let by_flag = args.iter().zip(args.iter().skip(1)).any(|(flag, value)| {
        flag.to_str() == Some("--app-env") && value.to_str().map(str::trim) == Some("production")
    }) || args
        .iter()
        .any(|arg| arg.to_str().map(str::trim) == Some("--app-env=production"));
    by_flag || environment.map(str::trim) == Some("production")
}

/// What a variable's parser said, without clap's framing (which names the flag, not the variable).
fn message(error: &clap::Error) -> String {
    use clap::error::{ContextKind, ContextValue};
    if let Some(source) = std::error::Error::source(error) {
        return source.to_string();
    }
    let value = match error.get(ContextKind::InvalidValue) {
        Some(ContextValue::String(value)) => value.clone(),
        _ => String::new(),
    };
    match error.get(ContextKind::ValidValue) {
        Some(ContextValue::Strings(valid)) => {
            let choices = match valid.split_last() {
                Some((last, [])) => last.clone(),
                Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
                None => String::new(),
            };
            format!("must be {choices}, not {value:?}")
        }
        _ => format!("is not valid: {value:?}"),
    }
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub app_env: AppEnv,
    pub database_url: String,
    /// Where the live-events listener connects, when not through `database_url`.
    pub live_database_url: Option<String>,
    /// Connections, and how long to wait for one and for a statement.
    pub database_pool: PoolSettings,
    pub bind_addr: String,
    pub jwt: JwtSettings,
    pub log_filter: String,
    pub log_format: LogFormat,
    pub workers: Option<usize>,
    /// On SIGTERM, how long requests in flight may take to finish.
    pub shutdown_grace: Duration,
    /// On SIGTERM, how long the server keeps serving (not ready, closing each connection after
    /// its answer) before it stops accepting: long enough for a proxy to let go of its
    /// connections. Zero without a proxy.
    pub shutdown_drain: Duration,
    /// Always OWASP's minimum from the environment; tests build a `Config` with cheaper ones, and
    /// production refuses to start with anything below the minimum.
    pub password_hashing: HashingParams,
    pub hashing_concurrency: usize,
    pub sessions: SessionPolicy,
    pub throttle: ThrottlePolicy,
    /// `None` when no range API is configured: the check is off.
    pub breach_check: Option<BreachCheckSettings>,
    /// The rules a new password must keep beyond its length.
    pub password_policy: PasswordPolicy,
    /// Origins a browser may call the API from; `["*"]` for any.
    pub cors_allowed_origins: Vec<String>,
    /// Reverse proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: TrustedProxies,
    /// How long live events are kept for resuming clients.
    pub live_retention: Duration,
    /// How live sockets behave.
    pub live: LiveSettings,
    /// A resume replays at most this many events.
    pub live_replay_max: u64,
    /// Things worth telling the operator that do not stop start-up.
    pub warnings: Vec<String>,
}

impl Config {
    /// Reads the program's arguments and the process environment, and `.env` in the working
    /// directory unless the environment or the flags choose production. A `.env` fills only the
    /// variables the environment leaves unset (or blank), and cannot choose production itself.
    pub fn from_env() -> Result<Self, Refusal> {
        let args: Vec<OsString> = std::env::args_os().collect();
        let environment = |name: &str| {
            std::env::var(name)
                .ok()
                .filter(|value| !value.trim().is_empty())
        };
        let (file, mut errors) = if production_chosen(&args, environment("APP_ENV").as_deref()) {
            (Vec::new(), Vec::new())
        } else {
            dotenv_file(std::path::Path::new(".env"))
        };
        if file.iter().any(|(name, value)| {
            name == "APP_ENV" && value.trim() == "production" && environment("APP_ENV").is_none()
        }) {
            errors.push(ConfigError {
                variable: "APP_ENV".to_owned(),
                message: "production is chosen by the environment or --app-env, never by .env, \
                          which production does not read"
                    .to_owned(),
            });
        }
        Self::from_sources(
            &args,
            |name| {
                environment(name).or_else(|| {
                    file.iter()
                        .find(|(variable, _)| variable == name)
                        .map(|(_, value)| value.clone())
                })
            },
            errors,
        )
    }

    /// Builds the configuration from any source of variables, without flags.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, Vec<ConfigError>> {
        match Self::from_sources(&[], lookup, Vec::new()) {
            Ok(config) => Ok(config),
            Err(Refusal::Invalid(errors)) => Err(errors),
            // Without flags, clap has nothing of its own to refuse.
            Err(Refusal::Arguments(error)) => Err(vec![ConfigError {
                variable: "arguments".to_owned(),
                message: message(&error),
            }]),
        }
    }

    /// Flags and variables, with `errors` found before: every error at once, those of each
    /// variable and those that span variables.
    fn from_sources(
        args: &[OsString],
        lookup: impl Fn(&str) -> Option<String>,
        mut errors: Vec<ConfigError>,
    ) -> Result<Self, Refusal> {
        let (variables, mut invalid) = Variables::read(args, lookup).map_err(Refusal::Arguments)?;
        errors.append(&mut invalid);
        match Self::from_variables(variables) {
            Ok(config) if errors.is_empty() => Ok(config),
            Ok(_) => Err(Refusal::Invalid(errors)),
            Err(mut spanning) => {
                errors.append(&mut spanning);
                Err(Refusal::Invalid(errors))
            }
        }
    }

    /// What spans variables: the production refusals, the defaults that depend on `APP_ENV`,
    /// and the warnings.
    fn from_variables(variables: Variables) -> Result<Self, Vec<ConfigError>> {
        let mut errors = Vec::new();
        let mut warnings = Vec::new();
        let mut fail = |variable: &str, message: String| {
            errors.push(ConfigError {
                variable: variable.to_owned(),
                message,
            });
        };
        let app_env = variables.app_env;
        let production = app_env == AppEnv::Production;

        if variables.live_database_url.is_some() && !is_postgres(&variables.database_url) {
            fail(
                "LIVE_DATABASE_URL",
                "is for PostgreSQL only: DATABASE_URL is not a postgres:// URL".to_owned(),
            );
        }

        let secret = match variables.jwt_secret {
            Some(secret) if secret.len() >= MIN_SECRET_BYTES => secret,
            Some(_) if production => {
                fail(
                    "JWT_SECRET",
                    format!("must be at least {MIN_SECRET_BYTES} bytes in production"),
                );
                String::new()
            }
            None if production => {
                fail(
                    "JWT_SECRET",
                    "is required in production (at least 32 random bytes)".to_owned(),
                );
                String::new()
            }
            Some(secret) => {
                warnings.push(format!("JWT_SECRET is shorter than {MIN_SECRET_BYTES} bytes; production would refuse it"));
                secret
            }
            None => {
                warnings.push(
                    "JWT_SECRET is not set: using a random secret, so tokens stop working when the server restarts"
                        .to_owned(),
                );
                format!(
                    "{}{}",
                    uuid::Uuid::new_v4().simple(),
                    uuid::Uuid::new_v4().simple()
                )
            }
        };
        let previous: Vec<String> = variables
            .jwt_previous_secrets
            .map(|list| {
                list.split(',')
                    .map(str::trim)
                    .filter(|secret| !secret.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        if production
            && previous
                .iter()
                .any(|secret| secret.len() < MIN_SECRET_BYTES)
        {
            fail(
                "JWT_PREVIOUS_SECRETS",
                format!(
                    "each must be at least {MIN_SECRET_BYTES} bytes in production: a short key verifies forged tokens"
                ),
            );
        }
        let previous_secrets: Vec<SigningKey> = previous.into_iter().map(SigningKey::new).collect();

        let breach_check = variables
            .breach_check_url
            .map(|base_url| BreachCheckSettings {
                base_url,
                timeout: variables.breach_check_timeout,
                threshold: variables.breach_check_threshold,
                fail_open: variables.breach_check_fail_open,
            });
        // Development serves the RealWorld clients and test tools as they are; production keeps
        // NIST's rules. Either may be chosen explicitly, and the start-up log names the one in force.
        let password_policy = match variables.password_policy {
            None if production => PasswordPolicy::Strict,
            None | Some(PolicyName::Contract) => PasswordPolicy::Contract,
            Some(PolicyName::Strict) => PasswordPolicy::Strict,
        };
        if password_policy == PasswordPolicy::Contract {
            if production {
                warnings.push(
                    "PASSWORD_POLICY is contract in production: common passwords and a user's own name are accepted"
                        .to_owned(),
                );
            }
            if breach_check.is_some() {
                warnings.push(
                    "BREACH_CHECK_URL is set, but PASSWORD_POLICY is contract, which checks no breaches; set PASSWORD_POLICY=strict to use it"
                        .to_owned(),
                );
            }
        }
        let log_format = match variables.log_format {
            Some(format) => format,
            None if production => LogFormat::Json,
            None => LogFormat::Pretty,
        };
        if variables.refresh_token_absolute_ttl < variables.refresh_token_idle_ttl {
            warnings.push(
                "REFRESH_TOKEN_ABSOLUTE_TTL is shorter than REFRESH_TOKEN_IDLE_TTL: sessions end at the absolute limit"
                    .to_owned(),
            );
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let to_time = |duration: Duration| {
            time::Duration::try_from(duration).unwrap_or(time::Duration::seconds(1))
        };
        let to_usize = |count: u64| usize::try_from(count).unwrap_or(usize::MAX);
        let to_u32 = |count: u64| u32::try_from(count).unwrap_or(u32::MAX);
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        Ok(Self {
            app_env,
            database_url: variables.database_url,
            live_database_url: variables.live_database_url,
            database_pool: PoolSettings {
                acquire_timeout: variables.database_acquire_timeout,
                statement_timeout: variables.database_statement_timeout,
                ..PoolSettings::default()
            },
            bind_addr: variables.bind_addr,
            jwt: JwtSettings {
                signing_key: SigningKey::new(secret),
                verification_keys: previous_secrets,
                issuer: "conduit".to_owned(),
                audience: "conduit-api".to_owned(),
                time_to_live: variables.access_token_ttl,
                leeway: Duration::from_secs(30),
            },
            log_filter: variables.rust_log,
            log_format,
            workers: variables.workers.map(to_usize),
            shutdown_grace: variables.shutdown_grace,
            shutdown_drain: variables.shutdown_drain,
            password_hashing: HashingParams::OWASP_MINIMUM,
            hashing_concurrency: cores,
            sessions: SessionPolicy {
                idle_timeout: to_time(variables.refresh_token_idle_ttl),
                absolute_timeout: to_time(variables.refresh_token_absolute_ttl),
            },
            throttle: ThrottlePolicy {
                max_failures_per_account: to_u32(variables.login_max_failures),
                max_failures_per_client: to_u32(variables.login_max_failures_per_address),
                window: to_time(variables.login_failure_window),
            },
            breach_check,
            password_policy,
            cors_allowed_origins: variables
                .cors_allowed_origins
                .map(|origins| origins.0)
                .unwrap_or_default(),
            trusted_proxies: variables.trusted_proxies.unwrap_or_default(),
            live_retention: variables.live_retention,
            live: LiveSettings {
                max_connections_per_user: to_usize(variables.live_max_connections_per_user),
                max_connections: to_usize(variables.live_max_connections),
                max_unauthenticated: to_usize(variables.live_max_unauthenticated),
                max_unauthenticated_per_address: to_usize(
                    variables.live_max_unauthenticated_per_address,
                ),
                write_timeout: variables.write_timeout,
                poll_every: variables.live_poll,
                ..LiveSettings::default()
            },
            live_replay_max: variables.live_replay_max,
            warnings,
        })
    }
}

#[cfg(test)]
mod tests;
