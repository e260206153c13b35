//! The production rehearsal: the [`Topology`] of real processes, driven through what production
//! meets, each step checked from the client's side and the database's.
//!
//! 1. the journey through nginx (register to logout, refresh included), live sockets through it
//!    (events, and the close at logout), request ids, and nginx's own errors in the API's
//!    envelope;
//! 2. login throttling across replicas, and by the client's address behind nginx;
//! 3. a rolling restart under 32 connections of mixed reads and writes: zero failed requests,
//!    every acknowledged write in the database, and the live sockets of each stopping instance
//!    closed with 1001;
//! 4. a database stop and start under the same load: only 2xx and 503 during the outage, all 2xx
//!    within 5 s of the database's return, no acknowledged write lost, and live sockets open
//!    through it that hear of a write after it;
//! 5. 60 s of reads at 64 connections: zero errors, each instance's memory flat.
//!
//! Every loop is bounded in count or time, and all traffic goes to 127.0.0.1 (the throttling step
//! also sends from 127.0.0.2 and 127.0.0.3, still loopback). The figures go to a Markdown report.

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use conduit_test_support::client::{
    Call, Conduit as _, HttpConduit, Method, PASSWORD, Reply, registration,
};
use conduit_test_support::live::LiveClient;
use serde_json::{Value, json};

use crate::topology::{Failure, Options, Topology};

/// Failed logins per account, and per client address, that the instances allow.
const MAX_FAILURES: u32 = 4;
const MAX_FAILURES_PER_ADDRESS: u32 = 8;
/// How long nginx leaves an instance alone after a failed connection (`fail_timeout` in
/// `deploy/nginx.conf`).
const NGINX_FAIL_TIMEOUT: Duration = Duration::from_secs(2);
/// A request that takes longer has hung.
const REQUEST_LIMIT: Duration = Duration::from_secs(30);

/// The instances' environment for the rehearsal.
pub fn environment() -> Vec<(String, String)> {
    vec![
        ("LOGIN_MAX_FAILURES".to_owned(), MAX_FAILURES.to_string()),
        (
            "LOGIN_MAX_FAILURES_PER_ADDRESS".to_owned(),
            MAX_FAILURES_PER_ADDRESS.to_string(),
        ),
        ("SHUTDOWN_GRACE".to_owned(), "20s".to_owned()),
        // Longer than nginx's upstream keepalive_timeout (4 s): see `deploy/nginx.conf`.
        ("SHUTDOWN_DRAIN".to_owned(), "5s".to_owned()),
    ]
}

/// What a rehearsal runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    /// Every step, the read load lasting this many seconds.
    Everything { load_secs: u64 },
    /// Only the rolling restart, this many rounds (each instance stopped once a round), under
    /// one load: proof by repetition that no request is lost at a stop.
    RollingRestart { rounds: usize },
}

/// Starts the topology, runs the plan's steps, stops it, and returns the report (Markdown). The
/// first step that fails ends the run with what it saw.
pub async fn run(options: &Options, plan: Plan) -> Result<String, Failure> {
    let mut topology = Topology::start(options).await?;
    let mut report = String::from("# Production rehearsal\n\n");
    let outcome = match plan {
        Plan::Everything { load_secs } => steps(&mut topology, &mut report, load_secs).await,
        Plan::RollingRestart { rounds } => {
            rolling_restart(&mut topology, &mut report, rounds).await
        }
    };
    let stopped = topology.stop().await;
    outcome?;
    let statuses = stopped?;
    if let Some(status) = statuses.iter().find(|status| !status.success()) {
        return Err(format!("an instance exited with {status} on SIGTERM"));
    }
    Ok(report)
}

async fn steps(
    topology: &mut Topology,
    report: &mut String,
    load_secs: u64,
) -> Result<(), Failure> {
    let started = Instant::now();
    journey(&topology.address).await?;
    let _ = writeln!(report, "- journey through nginx: passed");
    throttling(topology).await?;
    let _ = writeln!(
        report,
        "- throttling: {MAX_FAILURES} failures spread over both instances lock the account; \
         a client behind nginx is throttled by its own address"
    );
    rolling_restart(topology, report, 1).await?;
    live_during_drain(topology, report).await?;
    database_restart(topology, report).await?;
    load(topology, report, load_secs).await?;
    hostile(topology, report).await?;
    nginx_errors(topology).await?;
    let _ = writeln!(
        report,
        "- nginx's own 413 and 502 answer in the error envelope\n\nTotal: {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// A client of `base` as the steps and the loads use it: a request gives up after
/// [`REQUEST_LIMIT`], and idle connections are kept for the next, for less than the server keeps
/// them (actix-web's keep-alive, 5 s). Kept longer, a connection the server is closing could be
/// taken for a `POST`, which fails ("connection closed before message completed") and is not
/// sent again: one article in 10,000 at live-bench's 1,000 a second.
pub(crate) fn client(base: &str) -> Result<HttpConduit, Failure> {
    client_from(base, None)
}

/// [`client`], its connections leaving from `source` (a loopback address).
fn client_from(base: &str, source: Option<IpAddr>) -> Result<HttpConduit, Failure> {
    let client = reqwest::Client::builder()
        .timeout(REQUEST_LIMIT)
        .pool_max_idle_per_host(128)
        .pool_idle_timeout(Duration::from_secs(4))
        .local_address(source)
        .build()
        .map_err(|error| format!("no HTTP client: {error}"))?;
    Ok(HttpConduit {
        address: base.to_owned(),
        client,
    })
}

/// Registers `name` (the client's registration), and signs in as it.
pub(crate) async fn register(api: &HttpConduit, name: &str) -> Result<Session, Failure> {
    let body = api
        .try_expect(201, Call::post("/api/users", registration(name)))
        .await?;
    Session::of(&body)
}

/// Logs `name` in with `password`: the answer, whatever it is.
async fn login(api: &HttpConduit, name: &str, password: &str) -> Result<Reply, Failure> {
    api.try_call(Call::post(
        "/api/users/login",
        json!({"user": {"email": format!("{name}@example.com"), "password": password}}),
    ))
    .await
}

/// The tokens of a signed-in user.
pub(crate) struct Session {
    pub(crate) token: String,
    refresh: String,
}

impl Session {
    fn of(body: &Value) -> Result<Self, Failure> {
        let field = |name: &str| {
            body["user"][name]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| format!("no {name} in {body}"))
        };
        Ok(Self {
            token: field("token")?,
            refresh: field("refreshToken")?,
        })
    }
}

/// A name no earlier run used (the database lives only as long as the run, but a name must not
/// repeat within it either).
pub(crate) fn unique(prefix: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let run = std::process::id();
    format!("{prefix}{run}x{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

pub(crate) fn check(condition: bool, what: impl FnOnce() -> String) -> Result<(), Failure> {
    if condition { Ok(()) } else { Err(what()) }
}

/// The RealWorld journey through the nginx at `address`, with refresh, logout, and request ids.
pub async fn journey(address: &str) -> Result<(), Failure> {
    let api = client(address)?;
    let name = unique("journey");
    let session = account(&api, &name).await?;
    let authors_socket = published_and_told_live(&api, address, &name, &session).await?;
    logout_ends_the_session_and_its_socket(&api, &session, authors_socket).await?;
    request_ids_are_kept_or_made(&api).await?;
    another_host_is_not_served(&api).await
}

/// Registers `name`, logs in, reads and updates the user, and answers the session of a refresh.
async fn account(api: &HttpConduit, name: &str) -> Result<Session, Failure> {
    let session = register(api, name).await?;
    let login = login(api, name, PASSWORD).await?;
    check(login.status == 200, || {
        format!("login: {} {}", login.status, login.body)
    })?;
    let me = api
        .try_expect(200, Call::get("/api/user").token(&session.token))
        .await?;
    check(me["user"]["username"] == name, || {
        format!("GET /api/user: {me}")
    })?;
    api.try_expect(
        200,
        Call::put("/api/user", json!({"user": {"bio": "Rehearsing"}})).token(&session.token),
    )
    .await?;
    let refreshed = api
        .try_expect(
            200,
            Call::post(
                "/api/users/refresh",
                json!({"refreshToken": session.refresh}),
            ),
        )
        .await?;
    Session::of(&refreshed)
}

/// A reader follows `name`; the author's socket (opened as a browser opens it: its Origin, the
/// token in the first message) and the reader's (the header) hear of an article, a favourite and
/// a comment through nginx. The author's socket, still open.
async fn published_and_told_live(
    api: &HttpConduit,
    address: &str,
    name: &str,
    session: &Session,
) -> Result<LiveClient, Failure> {
    let reader = register(api, &unique("reader")).await?;
    api.try_expect(
        200,
        Call::new(Method::Post, format!("/api/profiles/{name}/follow")).token(&reader.token),
    )
    .await?;
    // Live updates through nginx: the author's socket as a browser opens it (its Origin, the
    // token in the first message), the reader's with the header.
    let mut authors_socket = LiveClient::connect(address, "", &[("origin", address)]).await;
    authors_socket
        .send_text(json!({"type": "auth", "token": session.token}).to_string())
        .await;
    authors_socket.ready().await;
    let mut readers_socket = LiveClient::connect_as(address, &reader.token, "").await;
    readers_socket.ready().await;
    let article = api
        .try_expect(
            201,
            Call::post(
                "/api/articles",
                json!({"article": {
                    "title": unique("Journey "),
                    "description": "Through nginx",
                    "body": "Every layer, real.",
                    "tagList": ["rehearsal"],
                }}),
            )
            .token(&session.token),
        )
        .await?;
    let slug = article["article"]["slug"]
        .as_str()
        .ok_or_else(|| format!("no slug in {article}"))?
        .to_owned();
    let created = readers_socket.next_json().await;
    check(
        created["type"] == "article.created" && created["article"]["slug"] == slug.as_str(),
        || format!("the follower's socket was told {created}"),
    )?;
    api.try_expect(
        200,
        Call::new(Method::Post, format!("/api/articles/{slug}/favorite")).token(&reader.token),
    )
    .await?;
    api.try_expect(
        201,
        Call::post(
            format!("/api/articles/{slug}/comments"),
            json!({"comment": {"body": "Seen through nginx"}}),
        )
        .token(&reader.token),
    )
    .await?;
    let favorited = authors_socket.next_json().await;
    let commented = authors_socket.next_json().await;
    check(
        favorited["type"] == "article.favorited" && commented["type"] == "comment.created",
        || format!("the author's socket was told {favorited} and {commented}"),
    )?;
    let feed = api
        .try_expect(200, Call::get("/api/articles/feed").token(&reader.token))
        .await?;
    check(feed["articles"][0]["slug"] == slug.as_str(), || {
        format!("the feed lacks the followed author's article: {feed}")
    })?;
    let comments = api
        .try_expect(200, Call::get(format!("/api/articles/{slug}/comments")))
        .await?;
    check(
        comments["comments"].as_array().map(Vec::len) == Some(1),
        || format!("comments: {comments}"),
    )?;
    Ok(authors_socket)
}

/// A logout closes the session's socket with 4401 and uses its refresh token up.
async fn logout_ends_the_session_and_its_socket(
    api: &HttpConduit,
    session: &Session,
    mut authors_socket: LiveClient,
) -> Result<(), Failure> {
    api.try_expect(
        204,
        Call::new(Method::Post, "/api/users/logout").token(&session.token),
    )
    .await?;
    let (code, _) = authors_socket.close_code().await;
    check(code == 4401, || {
        format!("logging out closed the socket with {code}, not 4401")
    })?;
    api.try_expect(
        401,
        Call::post(
            "/api/users/refresh",
            json!({"refreshToken": session.refresh}),
        ),
    )
    .await?;

    Ok(())
}

/// The client's request id is kept end to end; without one, or with one a log line cannot carry
/// as it is, nginx makes one.
async fn request_ids_are_kept_or_made(api: &HttpConduit) -> Result<(), Failure> {
    let sent = api
        .try_call(Call::get("/api/tags").header("X-Request-Id", "rehearsal-journey-1"))
        .await
        .map_err(|error| format!("GET /api/tags: {error}"))?;
    check(
        sent.header("x-request-id") == Some("rehearsal-journey-1"),
        || {
            format!(
                "the client's request id came back as {:?}",
                sent.header("x-request-id")
            )
        },
    )?;
    let made = api
        .try_call(Call::get("/api/tags"))
        .await
        .map_err(|error| format!("GET /api/tags: {error}"))?;
    check(
        made.header("x-request-id")
            .is_some_and(|id| id.len() == 32 && id.chars().all(|c| c.is_ascii_hexdigit())),
        || {
            format!(
                "nginx made no request id: {:?}",
                made.header("x-request-id")
            )
        },
    )?;
    // A request id that a log line cannot carry as it is is replaced, by nginx as by the app.
    let forged = api
        .try_call(Call::get("/api/tags").header("X-Request-Id", "forged status=200 \"x"))
        .await
        .map_err(|error| format!("GET /api/tags: {error}"))?;
    check(
        forged
            .header("x-request-id")
            .is_some_and(|id| id.len() == 32 && id.chars().all(|c| c.is_ascii_hexdigit())),
        || {
            format!(
                "a forged request id came back as {:?}",
                forged.header("x-request-id")
            )
        },
    )?;
    Ok(())
}

/// Another name for this address (a page that rebound its DNS name to it) is not served.
async fn another_host_is_not_served(api: &HttpConduit) -> Result<(), Failure> {
    let other_host = api
        .try_call(Call::get("/api/tags").header("Host", "evil.example"))
        .await
        .map_err(|error| format!("GET /api/tags for another host: {error}"))?;
    check(
        other_host.status == 421 && other_host.body["errors"]["host"].is_array(),
        || format!("another host: {} {}", other_host.status, other_host.body),
    )?;
    Ok(())
}

/// Failures spread over both instances lock one account; behind nginx, each client is throttled
/// by its own address (a forged `X-Forwarded-For` changes nothing).
async fn throttling(topology: &Topology) -> Result<(), Failure> {
    let nginx = client(&topology.address)?;
    let victim = unique("victim");
    register(&nginx, &victim).await?;
    let instances = (0..topology.instance_count())
        .map(|index| client(&topology.instance_address(index)))
        .collect::<Result<Vec<_>, _>>()?;
    for attempt in 0..MAX_FAILURES {
        let instance = &instances[attempt as usize % instances.len()];
        let refused = login(instance, &victim, "wrong password 1").await?;
        check(refused.status == 401 || refused.status == 403, || {
            format!("failure {attempt}: {} {}", refused.status, refused.body)
        })?;
    }
    for (index, instance) in instances.iter().enumerate() {
        let locked = login(instance, &victim, PASSWORD).await?;
        check(locked.status == 429, || {
            format!(
                "after {MAX_FAILURES} failures over the instances, instance {index} answered {} {}",
                locked.status, locked.body
            )
        })?;
    }

    let friend = unique("friend");
    register(&nginx, &friend).await?;
    let loopback = |last: u8| Some(IpAddr::V4(Ipv4Addr::new(127, 0, 0, last)));
    let guesser = client_from(&topology.address, loopback(2))?;
    let neighbour = client_from(&topology.address, loopback(3))?;
    for attempt in 0..MAX_FAILURES_PER_ADDRESS {
        let forged = format!("203.0.113.{attempt}");
        let refused = guesser
            .try_call(
                Call::post(
                    "/api/users/login",
                    json!({"user": {
                        "email": format!("nobody{attempt}@rehearsal.example"),
                        "password": "wrong password 2",
                    }}),
                )
                .header("X-Forwarded-For", forged.as_str()),
            )
            .await
            .map_err(|error| format!("login from 127.0.0.2: {error}"))?;
        check(refused.status != 429, || {
            format!("127.0.0.2 was throttled after only {attempt} failures")
        })?;
    }
    let throttled = login(&guesser, &friend, PASSWORD).await?;
    check(throttled.status == 429, || {
        format!(
            "after {MAX_FAILURES_PER_ADDRESS} failures from 127.0.0.2, it answered {}",
            throttled.status
        )
    })?;
    // Another client is not throttled, even when it forges the throttled one's address.
    let welcome = neighbour
        .try_call(
            Call::post(
                "/api/users/login",
                json!({"user": {
                    "email": format!("{friend}@example.com"),
                    "password": PASSWORD,
                }}),
            )
            .header("X-Forwarded-For", "127.0.0.2"),
        )
        .await
        .map_err(|error| format!("login from 127.0.0.3: {error}"))?;
    check(welcome.status == 200, || {
        format!(
            "127.0.0.3 was refused ({}) for 127.0.0.2's failures",
            welcome.status
        )
    })
}

/// What one request of a load met.
#[derive(Debug, Clone)]
struct Outcome {
    /// When it was answered, from the load's start.
    at: Duration,
    latency: Duration,
    /// `None`: no HTTP answer (refused, reset, timed out).
    status: Option<u16>,
    /// Why there was no answer: the client's error and its causes.
    error: Option<String>,
}

/// Concurrent clients, each looping over its requests until told to stop.
struct Load {
    stop: Arc<AtomicBool>,
    started: Instant,
    workers: Vec<tokio::task::JoinHandle<(Vec<Outcome>, Vec<String>)>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mix {
    /// A quarter writes (an article each), the rest reads.
    ReadsAndWrites,
    Reads,
}

impl Load {
    async fn start(topology: &Topology, connections: usize, mix: Mix) -> Result<Self, Failure> {
        let api = client(&topology.address)?;
        let author = register(&api, &unique("author")).await?;
        let stop = Arc::new(AtomicBool::new(false));
        let started = Instant::now();
        let workers = (0..connections)
            .map(|worker| {
                let api = api.clone();
                let token = author.token.clone();
                let stop = Arc::clone(&stop);
                tokio::spawn(async move { work(api, token, worker, mix, stop, started).await })
            })
            .collect();
        Ok(Self {
            stop,
            started,
            workers,
        })
    }

    fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Stops every client and gathers what they met, and the slugs of the articles acknowledged.
    async fn finish(mut self) -> Result<(Vec<Outcome>, Vec<String>), Failure> {
        self.stop.store(true, Ordering::Relaxed);
        let mut outcomes = Vec::new();
        let mut written = Vec::new();
        for worker in std::mem::take(&mut self.workers) {
            let (mut seen, mut slugs) = worker
                .await
                .map_err(|error| format!("a load client failed: {error}"))?;
            outcomes.append(&mut seen);
            written.append(&mut slugs);
        }
        Ok((outcomes, written))
    }
}

/// A load abandoned by a failed step stops too.
impl Drop for Load {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// One client's loop: at most a million requests, and never past the stop.
async fn work(
    api: HttpConduit,
    token: String,
    worker: usize,
    mix: Mix,
    stop: Arc<AtomicBool>,
    started: Instant,
) -> (Vec<Outcome>, Vec<String>) {
    let mut outcomes = Vec::new();
    let mut written = Vec::new();
    let mut last_slug: Option<String> = None;
    for round in 0..1_000_000_usize {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let sent = Instant::now();
        let step = (round + worker) % 4;
        let answer = match (mix, step, &last_slug) {
            (Mix::ReadsAndWrites, 0, _) => {
                let title = unique(&format!("Load {worker} "));
                api.try_call(
                    Call::post(
                        "/api/articles",
                        json!({"article": {
                            "title": title,
                            "description": "Under load",
                            "body": "Written while instances and the database come and go.",
                            "tagList": ["load"],
                        }}),
                    )
                    .token(&token),
                )
                .await
            }
            (_, 1, Some(slug)) => {
                api.try_call(Call::get(format!("/api/articles/{slug}")))
                    .await
            }
            (_, 2, _) => api.try_call(Call::get("/api/user").token(&token)).await,
            (Mix::Reads, 0, _) => api.try_call(Call::get("/api/tags")).await,
            _ => api.try_call(Call::get("/api/articles?limit=10")).await,
        };
        let mut error = None;
        let status = match answer {
            Ok(answer) => {
                if answer.status == 201
                    && let Some(slug) = answer.body["article"]["slug"].as_str()
                {
                    written.push(slug.to_owned());
                }
                if last_slug.is_none()
                    && let Some(slug) = answer.body["articles"][0]["slug"].as_str()
                {
                    last_slug = Some(slug.to_owned());
                }
                Some(answer.status)
            }
            Err(failed) => {
                // The client's error and its causes, or a reply no client of Conduit takes.
                error = Some(format!("{step}: {failed}"));
                None
            }
        };
        outcomes.push(Outcome {
            at: started.elapsed(),
            latency: sent.elapsed(),
            status,
            error,
        });
    }
    (outcomes, written)
}

fn successful(outcome: &Outcome) -> bool {
    outcome
        .status
        .is_some_and(|status| (200..300).contains(&status))
}

/// The `p`th percentile of the latencies, in milliseconds.
fn percentile(outcomes: &[Outcome], p: f64) -> f64 {
    let mut latencies: Vec<Duration> = outcomes.iter().map(|outcome| outcome.latency).collect();
    latencies.sort_unstable();
    if latencies.is_empty() {
        return 0.0;
    }
    let rank = ((latencies.len() - 1) as f64 * p / 100.0).round() as usize;
    latencies[rank.min(latencies.len() - 1)].as_secs_f64() * 1000.0
}

/// How the failed requests failed: `status -> count`, `none` for no answer.
fn failures(outcomes: &[Outcome]) -> String {
    let mut counts = std::collections::BTreeMap::new();
    for outcome in outcomes.iter().filter(|outcome| !successful(outcome)) {
        let key = outcome
            .status
            .map_or_else(|| "no answer".to_owned(), |status| status.to_string());
        *counts.entry(key).or_insert(0_usize) += 1;
    }
    let mut errors = std::collections::BTreeMap::new();
    for error in outcomes
        .iter()
        .filter_map(|outcome| outcome.error.as_deref())
    {
        *errors.entry(error).or_insert(0_usize) += 1;
    }
    counts
        .iter()
        .map(|(status, count)| format!("{count} x {status}"))
        .chain(
            errors
                .iter()
                .map(|(error, count)| format!("{count} x no answer: {error}")),
        )
        .collect::<Vec<_>>()
        .join(", ")
}

/// Every acknowledged article is in the database.
async fn acknowledged_writes_kept(topology: &Topology, slugs: &[String]) -> Result<(), Failure> {
    let pool = sqlx::PgPool::connect(topology.database_url())
        .await
        .map_err(|error| format!("cannot read the database: {error}"))?;
    let (found,): (i64,) = sqlx::query_as("SELECT count(*) FROM articles WHERE slug = ANY($1)")
        .bind(slugs)
        .fetch_one(&pool)
        .await
        .map_err(|error| format!("cannot count the articles: {error}"))?;
    pool.close().await;
    check(found == slugs.len() as i64, || {
        format!(
            "{} articles were acknowledged, {found} are in the database",
            slugs.len()
        )
    })
}

/// SIGTERM each instance in turn under load, and start it again, `rounds` times; every failed
/// request is counted, with nginx's error lines, and every acknowledged article must be in the
/// database. nginx is not told of the stops: what an instance does when it stops (see
/// `conduit_server::Application::run_until_stopped`) is all that keeps a request from being lost.
async fn rolling_restart(
    topology: &mut Topology,
    report: &mut String,
    rounds: usize,
) -> Result<(), Failure> {
    let watcher = register(&client(&topology.address)?, &unique("restarting")).await?;
    let load = Load::start(topology, 32, Mix::ReadsAndWrites).await?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let errors_before = topology.nginx_errors().len();
    let mut stops = Vec::new();
    let mut sockets_closed = Vec::new();
    for _ in 0..rounds {
        for index in 0..topology.instance_count() {
            let (took, closed) = restart(topology, index, &watcher).await?;
            stops.push(took);
            sockets_closed.push(closed);
        }
    }
    let (outcomes, written) = load.finish().await?;
    let failed = outcomes
        .iter()
        .filter(|outcome| !successful(outcome))
        .count();
    let stop_secs: Vec<f64> = stops.iter().map(Duration::as_secs_f64).collect();
    let _ = writeln!(
        report,
        "- rolling restart under 32 connections (mixed reads and writes), {} stops ({rounds} \
         of each instance): {} requests, {failed} failed{}; {} articles acknowledged, all in the \
         database; SIGTERM to exit: {}; live sockets through nginx closed with 1001 by each stop, \
         the others left open: {}",
        stops.len(),
        outcomes.len(),
        if failed == 0 {
            String::new()
        } else {
            format!(" ({})", failures(&outcomes))
        },
        written.len(),
        spread(&stop_secs, "s"),
        sockets_closed.join(", ")
    );
    check(failed == 0, || {
        let errors = topology.nginx_errors();
        format!(
            "the rolling restart failed {failed} requests: {}\nnginx's error log meanwhile:\n{}",
            failures(&outcomes),
            errors.get(errors_before..).unwrap_or_default()
        )
    })?;
    acknowledged_writes_kept(topology, &written).await
}

/// One instance's turn in a rolling restart: SIGTERM, exit, start, ready. Live sockets opened through nginx beforehand, on both instances,
/// must be closed with 1001 if they were on this one and left open otherwise. How long SIGTERM
/// took to exit, and how many of the sockets it closed.
async fn restart(
    topology: &mut Topology,
    index: usize,
    watcher: &Session,
) -> Result<(Duration, String), Failure> {
    let mut sockets = Vec::new();
    for _ in 0..6 {
        let mut socket = LiveClient::connect_as(&topology.address, &watcher.token, "").await;
        socket.ready().await;
        sockets.push(socket);
    }
    let asked = Instant::now();
    let status = topology.stop_instance(index).await?;
    check(status.success(), || {
        format!("instance {index} exited with {status} on SIGTERM")
    })?;
    let took = asked.elapsed();
    let mut codes = Vec::new();
    for socket in &mut sockets {
        codes.push(socket.closed_within(Duration::from_millis(500)).await);
    }
    let away = codes.iter().filter(|code| **code == Some(1001)).count();
    let open = codes.iter().filter(|code| code.is_none()).count();
    check(away + open == codes.len(), || {
        format!("sockets when instance {index} stopped (None: still open): {codes:?}")
    })?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    topology.start_instance(index).await?;
    // nginx counts the refused connections of the stop against the instance for its
    // `fail_timeout` (2 s): the next stop waits until nginx would send it requests again, or
    // nginx would have no instance to send them to.
    tokio::time::sleep(NGINX_FAIL_TIMEOUT + Duration::from_secs(1)).await;
    Ok((took, format!("{away} of {}", codes.len())))
}

/// Live sockets opened through nginx while an instance drains: the draining instance refuses
/// the upgrade with 503, and nginx tries the other (`proxy_next_upstream http_503` on
/// `/api/live`), so every socket is ready.
async fn live_during_drain(topology: &mut Topology, report: &mut String) -> Result<(), Failure> {
    const SOCKETS: usize = 10;
    let watcher = register(&client(&topology.address)?, &unique("draining")).await?;
    // Both instances in nginx's favour again after the rolling restart (see `restart`).
    tokio::time::sleep(NGINX_FAIL_TIMEOUT + Duration::from_secs(1)).await;
    let probe = client(&topology.instance_address(0))?;
    let address = topology.address.clone();
    let token = watcher.token.clone();
    // The sockets are opened once the instance answers that it is not ready: it drains.
    let opening = tokio::spawn(async move {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            let ready = probe.try_call(Call::get("/health/ready")).await;
            if ready.is_ok_and(|answer| answer.status == 503) {
                let mut opened = 0;
                for _ in 0..SOCKETS {
                    let mut socket = LiveClient::connect_as(&address, &token, "").await;
                    socket.ready().await;
                    opened += 1;
                }
                return Ok(opened);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Err("instance 0 never answered 503 to readiness after SIGTERM".to_owned())
    });
    let status = topology.stop_instance(0).await?;
    let opened = opening
        .await
        .map_err(|error| format!("the sockets' task failed: {error}"))??;
    check(status.success(), || {
        format!("instance 0 exited with {status} on SIGTERM")
    })?;
    topology.start_instance(0).await?;
    let _ = writeln!(
        report,
        "- live sockets opened through nginx while an instance in rotation drained: {opened} of \
         {SOCKETS} ready (nginx took the draining instance's 503 to the other)"
    );
    Ok(())
}

/// `min`-`max` (median `m`) of some figures, with their unit.
fn spread(figures: &[f64], unit: &str) -> String {
    let mut sorted = figures.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.as_slice() {
        [] => "none".to_owned(),
        [only] => format!("{only:.2} {unit}"),
        [first, .., last] => format!(
            "{first:.2}-{last:.2} {unit} (median {:.2})",
            sorted[sorted.len() / 2]
        ),
    }
}

/// An article whose author holds live sockets through nginx, and a reader who comments on it.
struct Watched {
    api: HttpConduit,
    slug: String,
    reader: Session,
    sockets: Vec<LiveClient>,
}

impl Watched {
    const SOCKETS: usize = 4;

    async fn start(address: &str) -> Result<Self, Failure> {
        let api = client(address)?;
        let author = register(&api, &unique("watched")).await?;
        let reader = register(&api, &unique("watcher")).await?;
        let article = api
            .try_expect(
                201,
                Call::post(
                    "/api/articles",
                    json!({"article": {
                        "title": unique("Watched "), "description": "d", "body": "b", "tagList": []
                    }}),
                )
                .token(&author.token),
            )
            .await?;
        let slug = article["article"]["slug"]
            .as_str()
            .ok_or_else(|| format!("no slug in {article}"))?
            .to_owned();
        let mut sockets = Vec::new();
        for _ in 0..Self::SOCKETS {
            let mut socket = LiveClient::connect_as(address, &author.token, "").await;
            socket.ready().await;
            sockets.push(socket);
        }
        Ok(Self {
            api,
            slug,
            reader,
            sockets,
        })
    }

    /// Comments, then waits for the comment on every socket: how many, and how long the last took.
    async fn comment_and_wait(mut self) -> Result<(usize, Duration), Failure> {
        let sent = Instant::now();
        self.api
            .try_expect(
                201,
                Call::post(
                    format!("/api/articles/{}/comments", self.slug),
                    json!({"comment": {"body": "Still here?"}}),
                )
                .token(&self.reader.token),
            )
            .await?;
        for socket in &mut self.sockets {
            let frame = socket.next_json().await;
            check(frame["type"] == "comment.created", || {
                format!("a socket open through the outage was told {frame}")
            })?;
        }
        Ok((self.sockets.len(), sent.elapsed()))
    }
}

/// Stops and starts PostgreSQL under load.
async fn database_restart(topology: &mut Topology, report: &mut String) -> Result<(), Failure> {
    const OUTAGE: Duration = Duration::from_secs(5);
    const RECOVERY_LIMIT: Duration = Duration::from_secs(5);
    let watched = Watched::start(&topology.address).await?;
    let load = Load::start(topology, 32, Mix::ReadsAndWrites).await?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let down_at = load.elapsed();
    topology.stop_database().await?;
    let stopped_at = load.elapsed();
    tokio::time::sleep(OUTAGE).await;
    // Readiness reports the outage.
    let probe = client(&topology.instance_address(0))?;
    let readiness = probe.try_call(Call::get("/health/ready")).await?;
    let starting_at = load.elapsed();
    topology.start_database().await?;
    let back_at = load.elapsed();
    let back = Instant::now();
    tokio::time::sleep(Duration::from_secs(15)).await;
    let (outcomes, written) = load.finish().await?;
    let ready_again = probe.try_call(Call::get("/health/ready")).await?;
    let (sockets, delivery) = watched.comment_and_wait().await?;
    let _ = writeln!(
        report,
        "- live sockets through the database's outage: {sockets} of {sockets} stayed open; a \
         comment written {:.0} s after the database's return reached them in {:.0} ms",
        back.elapsed().as_secs_f64() - delivery.as_secs_f64(),
        delivery.as_secs_f64() * 1000.0,
    );

    let unexpected: Vec<&Outcome> = outcomes
        .iter()
        .filter(|outcome| !successful(outcome) && outcome.status != Some(503))
        .collect();
    let unavailable = outcomes
        .iter()
        .filter(|outcome| outcome.status == Some(503))
        .count();
    let slowest = outcomes
        .iter()
        .map(|outcome| outcome.latency)
        .max()
        .unwrap_or_default();
    let last_failure = outcomes
        .iter()
        .filter(|outcome| !successful(outcome))
        .map(|outcome| outcome.at)
        .max();
    let recovery = last_failure.map_or(Duration::ZERO, |at| at.saturating_sub(back_at));
    // Signed: negative when the last failure was answered before `docker start` returned.
    let last_failure_offset =
        last_failure.map_or(0.0, |at| at.as_secs_f64() - back_at.as_secs_f64());
    let _ = writeln!(
        report,
        "- database stop and start under 32 connections: `docker stop` took {:.1} s, down {:.0} s, \
         `docker start` took {:.1} s; readiness answered {} during the outage; \
         {} requests: {unavailable} answered 503, {} other failures{}; slowest answer {:.2} s; \
         the last failed request was answered {:+.2} s from the database's start (recovery \
         {:.2} s, limit 5 s); {} articles acknowledged",
        (stopped_at - down_at).as_secs_f64(),
        (back_at - stopped_at).as_secs_f64(),
        (back_at - starting_at).as_secs_f64(),
        readiness.status,
        outcomes.len(),
        unexpected.len(),
        if unexpected.is_empty() {
            String::new()
        } else {
            format!(" ({})", failures(&outcomes))
        },
        slowest.as_secs_f64(),
        last_failure_offset,
        recovery.as_secs_f64(),
        written.len(),
    );
    check(readiness.status == 503 && ready_again.status == 200, || {
        format!(
            "readiness answered {} during the outage and {} after it",
            readiness.status, ready_again.status
        )
    })?;
    check(unexpected.is_empty(), || {
        format!(
            "during the database's outage requests failed otherwise than 503: {}",
            failures(&outcomes)
        )
    })?;
    check(slowest < Duration::from_secs(20), || {
        format!("a request took {slowest:?} during the outage")
    })?;
    check(recovery <= RECOVERY_LIMIT, || {
        format!(
            "requests still failed {recovery:?} after the database's return (limit {RECOVERY_LIMIT:?})"
        )
    })?;
    acknowledged_writes_kept(topology, &written).await
}

/// Reads at 64 connections; each instance's resident memory sampled every second.
async fn load(topology: &Topology, report: &mut String, secs: u64) -> Result<(), Failure> {
    let duration = Duration::from_secs(secs);
    let load = Load::start(topology, 64, Mix::Reads).await?;
    let mut samples: Vec<Vec<(Duration, u64)>> = vec![Vec::new(); topology.instance_count()];
    for _ in 0..secs {
        tokio::time::sleep(Duration::from_secs(1)).await;
        for (index, series) in samples.iter_mut().enumerate() {
            if let Some(rss) = topology.rss_kib(index) {
                series.push((load.elapsed(), rss));
            }
        }
        if load.elapsed() >= duration {
            break;
        }
    }
    let (outcomes, _) = load.finish().await?;
    let failed = outcomes
        .iter()
        .filter(|outcome| !successful(outcome))
        .count();
    let seconds = outcomes
        .iter()
        .map(|outcome| outcome.at)
        .max()
        .unwrap_or_default()
        .as_secs_f64();
    let _ = writeln!(
        report,
        "- load, {secs} s of reads at 64 connections through nginx: {} requests, {failed} \
         failed, {:.0} requests/s, p50 {:.1} ms, p99 {:.1} ms",
        outcomes.len(),
        outcomes.len() as f64 / seconds.max(1.0),
        percentile(&outcomes, 50.0),
        percentile(&outcomes, 99.0),
    );
    check(failed == 0, || {
        format!("the load failed {failed} requests: {}", failures(&outcomes))
    })?;
    let window = Duration::from_secs(10).min(duration / 3);
    for (index, series) in samples.iter().enumerate() {
        let mean = |part: Vec<u64>| part.iter().sum::<u64>() / (part.len().max(1) as u64);
        let first = mean(
            series
                .iter()
                .filter(|(at, _)| *at <= window)
                .map(|(_, rss)| *rss)
                .collect(),
        );
        let last = mean(
            series
                .iter()
                .filter(|(at, _)| *at + window >= duration)
                .map(|(_, rss)| *rss)
                .collect(),
        );
        let _ = writeln!(
            report,
            "  - instance {}: resident memory {:.1} MiB in the first {} s, {:.1} MiB in the last",
            index + 1,
            first as f64 / 1024.0,
            window.as_secs(),
            last as f64 / 1024.0,
        );
        // Flat: within a fifth, or 16 MiB for a small process, of where it started.
        let allowed = (first / 5).max(16 * 1024);
        check(last <= first + allowed, || {
            format!(
                "instance {} grew from {first} KiB to {last} KiB under a steady load",
                index + 1
            )
        })?;
    }
    Ok(())
}

/// Hostile sockets through nginx, 25 of each kind of `hostile_bench` (1 GiB announcers, ping
/// flooders, silent ones, non-readers): every announcer, flooder and silent one ends, each
/// instance's resident memory grows by less than 64 MiB meanwhile, and its open files come back
/// once the clients are gone.
async fn hostile(topology: &Topology, report: &mut String) -> Result<(), Failure> {
    const PER_KIND: usize = 25;
    let address: std::net::SocketAddr = topology
        .address
        .trim_start_matches("http://")
        .parse()
        .map_err(|error| format!("nginx's address: {error}"))?;
    let api = client(&topology.address)?;
    let readers = crate::hostile_bench::prepare(&api, PER_KIND, 200).await?;
    let instances = 0..topology.instance_count();
    let before: Vec<(u64, usize)> = instances
        .clone()
        .map(|i| {
            (
                topology.rss_kib(i).unwrap_or(0),
                topology.open_files(i).unwrap_or(0),
            )
        })
        .collect();
    let mut peak = before.clone();
    let attacking = crate::hostile_bench::attack(address, PER_KIND, &readers, &readers.since);
    tokio::pin!(attacking);
    let lives = loop {
        tokio::select! {
            lives = &mut attacking => break lives,
            () = tokio::time::sleep(Duration::from_millis(250)) => {
                for (i, (rss, files)) in peak.iter_mut().enumerate() {
                    *rss = (*rss).max(topology.rss_kib(i).unwrap_or(0));
                    *files = (*files).max(topology.open_files(i).unwrap_or(0));
                }
            }
        }
    };
    // The instances let go of every connection: their open files come back.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut after = Vec::new();
    while Instant::now() < deadline {
        after = instances
            .clone()
            .map(|i| topology.open_files(i).unwrap_or(usize::MAX))
            .collect();
        if after
            .iter()
            .zip(&before)
            .all(|(now, (_, then))| *now <= then + 8)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let ended = lives.iter().filter(|life| life.ended()).count();
    // The attackers that must have been closed; non-readers whose frames nginx's buffers took
    // are reported, not required (see `Life::non_reader`).
    let closable: Vec<_> = lives.iter().filter(|life| !life.non_reader()).collect();
    let closed = closable.iter().filter(|life| life.ended()).count();
    let growth: Vec<f64> = peak
        .iter()
        .zip(&before)
        .map(|((rss, _), (then, _))| (*rss as f64 - *then as f64) / 1024.0)
        .collect();
    let _ = writeln!(
        report,
        "- hostile clients through nginx ({} sockets: 1 GiB announcers, ping flooders, silent ones, \
         non-readers): {ended} ended; resident memory grew by {} MiB; open files {} at most, \
         {} after (before: {})",
        lives.len(),
        growth
            .iter()
            .map(|mib| format!("{mib:.1}"))
            .collect::<Vec<_>>()
            .join(" and "),
        peak.iter()
            .map(|(_, files)| files.to_string())
            .collect::<Vec<_>>()
            .join(" and "),
        after
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" and "),
        before
            .iter()
            .map(|(_, files)| files.to_string())
            .collect::<Vec<_>>()
            .join(" and "),
    );
    check(closed == closable.len(), || {
        format!(
            "{} of {} announcers, flooders and silent sockets never ended",
            closable.len() - closed,
            closable.len()
        )
    })?;
    check(growth.iter().all(|mib| *mib < 64.0), || {
        format!("an instance's memory grew by {growth:?} MiB under hostile clients")
    })?;
    check(
        after
            .iter()
            .zip(&before)
            .all(|(now, (_, then))| *now <= then + 8),
        || format!("the instances still hold {after:?} files (before: {before:?})"),
    )
}

/// nginx answers its own errors in the envelope: a body over the limit, and no instance left;
/// and every line of its access log is one JSON object, whatever the clients sent.
async fn nginx_errors(topology: &mut Topology) -> Result<(), Failure> {
    let log = std::fs::read_to_string(topology.dir().join("nginx.log"))
        .map_err(|error| format!("cannot read nginx's access log: {error}"))?;
    let unparsed: Vec<&str> = log
        .lines()
        .filter(|line| serde_json::from_str::<Value>(line).is_err())
        .take(3)
        .collect();
    check(unparsed.is_empty(), || {
        format!("nginx's access log has lines that are not JSON: {unparsed:?}")
    })?;
    let api = client(&topology.address)?;
    let too_large = api
        .try_call(Call::post(
            "/api/users",
            json!({"user": {"username": "x".repeat(300 * 1024)}}),
        ))
        .await
        .map_err(|error| format!("POST a large body: {error}"))?;
    check(
        too_large.status == 413 && too_large.body["errors"]["body"].is_array(),
        || format!("a large body: {} {}", too_large.status, too_large.body),
    )?;
    for index in 0..topology.instance_count() {
        let status = topology.stop_instance(index).await?;
        check(status.success(), || {
            format!("instance {index} exited with {status} on SIGTERM")
        })?;
    }
    let gone = api.try_call(Call::get("/api/tags")).await?;
    check(
        gone.status == 502
            && gone.body["errors"]["server"].is_array()
            && gone.header("x-request-id").is_some(),
        || format!("with no instance: {} {}", gone.status, gone.body),
    )
}
