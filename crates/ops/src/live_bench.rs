//! The live-updates benchmark (`conduit-rehearsal live-bench`, `cargo xtask live-bench`): figures,
//! never assertions on them. On the [`Topology`] of real processes (release instances,
//! PostgreSQL, every client on this machine):
//!
//! 1. **across instances**: one socket on instance 1; its user follows an author who publishes
//!    through instance 0, one article at a time; the time from each event's commit (its `at`, the
//!    database's clock at commit) to its arrival, as p50 and p99;
//! 2. **idle sockets**: sockets authenticated on instance 0 whose users all follow one author;
//!    instance 0's resident memory before and after they connect, per socket;
//! 3. **fan-out**: that author publishes at a steady rate through instance 1, and every socket
//!    receives every article: delivery latency (commit to arrival) as p50 and p99, how many
//!    arrived, and how many sockets were closed as slow consumers.
//!
//! Latency is measured against `at`, written by PostgreSQL on this machine's clock, to the
//! millisecond (truncated): a figure can be up to 1 ms high.

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use conduit_test_support::live::{LiveClient, Message};
use serde_json::json;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use conduit_test_support::client::{Call, Conduit as _, HttpConduit, Method};

use crate::rehearsal::{Session, check, client, register, unique};
use crate::topology::{Failure, Options, Topology};

/// What to measure: `conduit-rehearsal live-bench`'s flags.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct Plan {
    /// Events published one at a time for the cross-instance figure
    #[arg(long, default_value_t = 1000)]
    pub across: usize,
    /// Idle sockets on one instance
    #[arg(long, default_value_t = 1000)]
    pub sockets: usize,
    /// Articles published per second to them
    #[arg(long, default_value_t = 100)]
    pub rate: u32,
    /// For how many seconds
    #[arg(long, default_value_t = 10)]
    pub secs: u64,
}

/// Starts the topology, measures, stops it; the report (Markdown).
pub async fn run(options: &Options, plan: Plan) -> Result<String, Failure> {
    let topology = Topology::start(options).await?;
    let mut report = String::from("# Live updates benchmark\n\n");
    let outcome = measure(&topology, &mut report, plan).await;
    let stopped = topology.stop().await;
    outcome?;
    stopped?;
    Ok(report)
}

async fn measure(topology: &Topology, report: &mut String, plan: Plan) -> Result<(), Failure> {
    across_instances(topology, report, plan.across).await?;
    fan_out(topology, report, plan).await
}

/// Milliseconds from the `at` of a frame's text to now.
fn latency_ms(text: &str) -> Option<f64> {
    let start = text.find("\"at\":\"")? + 6;
    let end = start + text[start..].find('"')?;
    let at = OffsetDateTime::parse(&text[start..end], &Rfc3339).ok()?;
    Some((OffsetDateTime::now_utc() - at).as_seconds_f64() * 1000.0)
}

/// The `p`th percentile (0 to 100) of sorted figures.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (p / 100.0 * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn sorted(mut figures: Vec<f64>) -> Vec<f64> {
    figures.sort_by(f64::total_cmp);
    figures
}

async fn publish(api: &HttpConduit, author: &Session) -> Result<(), Failure> {
    api.try_expect(
        201,
        Call::post(
            "/api/articles",
            json!({"article": {
                "title": unique("Benchmarked "), "description": "d", "body": "b", "tagList": []
            }}),
        )
        .token(&author.token),
    )
    .await
    .map(drop)
}

async fn follow(api: &HttpConduit, reader: &Session, author: &str) -> Result<(), Failure> {
    api.try_expect(
        200,
        Call::new(Method::Post, format!("/api/profiles/{author}/follow")).token(&reader.token),
    )
    .await
    .map(drop)
}

async fn across_instances(
    topology: &Topology,
    report: &mut String,
    events: usize,
) -> Result<(), Failure> {
    let writer = client(&topology.instance_address(0))?;
    let author_name = unique("author");
    let author = register(&writer, &author_name).await?;
    let reader = register(&writer, &unique("reader")).await?;
    follow(&writer, &reader, &author_name).await?;
    let mut socket = LiveClient::connect_as(&topology.instance_address(1), &reader.token, "").await;
    socket.ready().await;

    let started = Instant::now();
    let mut latencies = Vec::with_capacity(events);
    for _ in 0..events {
        publish(&writer, &author).await?;
        let frame = loop {
            match socket.next_message(Duration::from_secs(20)).await {
                Some(Message::Text(text)) => break text,
                Some(Message::Ping(_) | Message::Pong(_)) => {}
                other => return Err(format!("the socket on instance 1 got {other:?}")),
            }
        };
        latencies.push(latency_ms(&frame).ok_or_else(|| format!("no `at` in {frame}"))?);
    }
    let latencies = sorted(latencies);
    let _ = writeln!(
        report,
        "- across instances: {events} articles published through instance 0, one at a time, \
         each delivered to a socket on instance 1 (NOTIFY, then the outbox) in p50 {:.1} ms, \
         p99 {:.1} ms, max {:.1} ms from its commit; {:.0} s in all",
        percentile(&latencies, 50.0),
        percentile(&latencies, 99.0),
        percentile(&latencies, 100.0),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// One socket's reading: every frame's latency, and the close code if it was closed.
struct Reading {
    latencies: Vec<f64>,
    closed: Option<u16>,
}

/// Reads `expected` events (or until closed, or the deadline).
async fn read_events(mut socket: LiveClient, expected: usize, deadline: Instant) -> Reading {
    let mut reading = Reading {
        latencies: Vec::with_capacity(expected),
        closed: None,
    };
    while reading.latencies.len() < expected {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        let Ok(message) = tokio::time::timeout(left, socket.next_unbounded()).await else {
            break;
        };
        match message {
            Some(Message::Text(text)) => {
                if let Some(latency) = latency_ms(&text) {
                    reading.latencies.push(latency);
                }
            }
            Some(Message::Close(frame)) => {
                reading.closed = Some(frame.map_or(1005, |frame| u16::from(frame.code)));
                break;
            }
            None => {
                reading.closed = Some(1006);
                break;
            }
            Some(_) => {}
        }
    }
    reading
}

async fn fan_out(topology: &Topology, report: &mut String, plan: Plan) -> Result<(), Failure> {
    let receiving = topology.instance_address(0);
    let writer = client(&topology.instance_address(1))?;
    let author_name = unique("popular");
    let author = register(&writer, &author_name).await?;

    // The readers: registered and following, a few at a time (each registration hashes a password).
    let registering = Instant::now();
    let reader_api = client(&receiving)?;
    let mut readers = Vec::with_capacity(plan.sockets);
    let mut batch = tokio::task::JoinSet::new();
    for n in 0..plan.sockets {
        let api = reader_api.clone();
        let author_name = author_name.clone();
        batch.spawn(async move {
            let reader = register(&api, &unique("fan")).await?;
            follow(&api, &reader, &author_name).await?;
            Ok::<_, Failure>(reader)
        });
        if batch.len() == 8 || n + 1 == plan.sockets {
            while let Some(joined) = batch.join_next().await {
                readers.push(joined.map_err(|error| format!("a registration panicked: {error}"))??);
            }
        }
    }
    let registered_in = registering.elapsed();

    let before = topology
        .rss_kib(0)
        .ok_or("cannot read instance 0's memory")?;
    let mut sockets = Vec::with_capacity(plan.sockets);
    let connecting = Instant::now();
    for reader in &readers {
        let mut socket = LiveClient::connect_as(&receiving, &reader.token, "").await;
        socket.ready().await;
        sockets.push(socket);
    }
    let connected_in = connecting.elapsed();
    // Idle for a moment: what the instance holds for sockets that do nothing.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after = topology
        .rss_kib(0)
        .ok_or("cannot read instance 0's memory")?;
    let per_socket_kib = (after as f64 - before as f64) / plan.sockets as f64;

    let events = usize::try_from(u64::from(plan.rate) * plan.secs).unwrap_or(usize::MAX);
    let publishing_ends = Duration::from_secs(plan.secs);
    let deadline = Instant::now() + publishing_ends + Duration::from_secs(60);
    let mut reading = tokio::task::JoinSet::new();
    for socket in sockets {
        reading.spawn(read_events(socket, events, deadline));
    }
    let publishing = Instant::now();
    let mut ticker = tokio::time::interval(Duration::from_secs(1) / plan.rate);
    let author = Arc::new(author);
    let mut writes = tokio::task::JoinSet::new();
    for _ in 0..events {
        ticker.tick().await;
        let (api, author) = (writer.clone(), author.clone());
        writes.spawn(async move { publish(&api, &author).await });
    }
    let mut failed_writes = 0;
    let mut first_failure = None;
    while let Some(written) = writes.join_next().await {
        let failure = match written {
            Ok(Ok(())) => continue,
            Ok(Err(failure)) => failure,
            Err(error) => format!("a write panicked: {error}"),
        };
        failed_writes += 1;
        first_failure.get_or_insert(failure);
    }
    let failed_writes = match first_failure {
        Some(failure) => format!("{failed_writes} failed, the first: {failure}"),
        None => "0 failed".to_owned(),
    };
    let published_in = publishing.elapsed();
    let mut latencies = Vec::with_capacity(events * plan.sockets);
    let mut closes: Vec<u16> = Vec::new();
    let mut complete = 0;
    while let Some(read) = reading.join_next().await {
        let read = read.map_err(|error| format!("a reader panicked: {error}"))?;
        if read.latencies.len() == events {
            complete += 1;
        }
        closes.extend(read.closed);
        latencies.extend(read.latencies);
    }
    let delivered = latencies.len();
    let latencies = sorted(latencies);
    let slow = closes.iter().filter(|code| **code == 1008).count();
    let _ = writeln!(
        report,
        "- idle sockets: {} users registered and following one author in {:.0} s; their {} \
         sockets connected to instance 0 in {:.1} s; instance 0's resident memory {:.1} MiB \
         before, {:.1} MiB after: {per_socket_kib:.1} KiB a socket",
        plan.sockets,
        registered_in.as_secs_f64(),
        plan.sockets,
        connected_in.as_secs_f64(),
        before as f64 / 1024.0,
        after as f64 / 1024.0,
    );
    let _ = writeln!(
        report,
        "- fan-out: {events} articles at {} a second through instance 1 (published in {:.1} s, \
         {failed_writes}), each to all {} sockets: {delivered} of {} deliveries, {complete} \
         sockets got every one; commit to arrival p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms; \
         {slow} sockets closed as slow consumers (1008), {} closed otherwise",
        plan.rate,
        published_in.as_secs_f64(),
        plan.sockets,
        events * plan.sockets,
        percentile(&latencies, 50.0),
        percentile(&latencies, 99.0),
        percentile(&latencies, 100.0),
        closes.len() - slow,
    );
    check(delivered > 0, || "no event reached any socket".to_owned())
}
