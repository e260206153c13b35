//! The hostile-clients benchmark (`conduit-rehearsal hostile-bench`, `cargo xtask hostile-bench`):
//! figures, never assertions on them. One release instance (with PostgreSQL) meets sockets
//! that attack `GET /api/live` in four ways at once, a quarter of them each:
//!
//! - **announcers**: a text frame's header announcing 1 GiB, then a mebibyte of it;
//! - **flooders**: pings as fast as they can be written, never reading the pongs;
//! - **silent**: upgraded without a token, and never a word;
//! - **non-readers**: authenticated, resuming from before a thousand articles they are to be
//!   told of, with a 4 KiB receive buffer they never read.
//!
//! The unauthenticated ones come from 64 loopback addresses (127.0.1.1 to 127.0.1.64), so that
//! the per-address cap admits them. Meanwhile the instance's resident memory and open files are
//! sampled, and `GET /api/articles` is timed; each socket's life is timed from the client's side;
//! and at the end SIGTERM is sent with a fresh set of such sockets open.

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use conduit_test_support::hostile::{RawSocket, opcode};
use serde_json::json;

use conduit_test_support::client::{Call, Conduit as _, HttpConduit, Method};

use crate::rehearsal::{Session, client, register, unique};
use crate::topology::{Failure, Options, Topology};

/// What to run: `conduit-rehearsal hostile-bench`'s flags.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct Plan {
    /// Hostile sockets, a quarter of each kind
    #[arg(long, default_value_t = 1000)]
    pub sockets: usize,
}

/// How one hostile socket ended, from its side.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Life {
    kind: Kind,
    /// The upgrade was refused with this status.
    refused: Option<u16>,
    /// From the connect to the end of the connection; `None`: not within the patience.
    lasted: Option<Duration>,
}

impl Life {
    /// Whether the socket ended, by a refusal or a close, within the patience.
    pub(crate) fn ended(&self) -> bool {
        self.refused.is_some() || self.lasted.is_some()
    }

    /// Whether it was a non-reader: behind a proxy, what it is sent may all fit in the proxy's
    /// buffers, and then it is just a socket that reads late, which nobody needs to close.
    pub(crate) fn non_reader(&self) -> bool {
        self.kind == Kind::NonReader
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Announcer,
    Flooder,
    Silent,
    NonReader,
}

impl Kind {
    const ALL: [Self; 4] = [
        Self::Announcer,
        Self::Flooder,
        Self::Silent,
        Self::NonReader,
    ];

    fn name(self) -> &'static str {
        match self {
            Self::Announcer => "1 GiB announcers",
            Self::Flooder => "ping flooders",
            Self::Silent => "silent, unauthenticated",
            Self::NonReader => "non-readers (a replay of 1,000 frames)",
        }
    }

    /// The bound the server promises for this kind, with the rehearsal's settings.
    fn bound(self) -> &'static str {
        match self {
            Self::Announcer => "at once (1009 from the header)",
            Self::Flooder => "at once (1008 past a burst of 32 frames)",
            Self::Silent => "the auth deadline, 10 s",
            Self::NonReader => "WRITE_TIMEOUT, 10 s, once writes stop (looked at after 25 s)",
        }
    }
}

/// How long a socket is watched before it counts as never closed.
const PATIENCE: Duration = Duration::from_secs(40);

/// Starts one instance, measures, stops it; the report (Markdown).
pub async fn run(options: &Options, plan: Plan) -> Result<String, Failure> {
    let options = Options {
        instances: 1,
        ..options.clone()
    };
    let mut topology = Topology::start(&options).await?;
    let mut report = String::from("# Hostile clients benchmark\n\n");
    let outcome = measure(&mut topology, &mut report, plan).await;
    let stopped = topology.stop().await;
    outcome?;
    stopped?;
    Ok(report)
}

async fn measure(topology: &mut Topology, report: &mut String, plan: Plan) -> Result<(), Failure> {
    let address: SocketAddr = topology
        .instance_address(0)
        .trim_start_matches("http://")
        .parse()
        .map_err(|error| format!("the instance's address: {error}"))?;
    let api = client(&topology.instance_address(0))?;
    let quarter = plan.sockets / 4;
    let readers = prepare(&api, quarter, 1000).await?;
    let since = readers.since.clone();

    let idle_rss = topology.rss_kib(0).unwrap_or(0);
    let idle_files = topology.open_files(0).unwrap_or(0);
    let idle_p99 = p99_of_reads(&api, Duration::from_secs(5)).await?;
    let _ = writeln!(
        report,
        "- idle: resident memory {:.1} MiB, {idle_files} open files, `GET /api/articles` p99 \
         {idle_p99:.1} ms (8 clients, 5 s)",
        idle_rss as f64 / 1024.0
    );

    // The attack, with memory, files and reads sampled while it lasts.
    let sampling = Arc::new(AtomicBool::new(true));
    let reads = {
        let api = api.clone();
        let sampling = Arc::clone(&sampling);
        tokio::spawn(async move {
            let mut latencies = Vec::new();
            while sampling.load(Ordering::Relaxed) {
                latencies.append(&mut timed_reads(&api, Duration::from_secs(1)).await);
            }
            latencies
        })
    };
    let started = Instant::now();
    let attacking = attack(address, quarter, &readers, &since);
    tokio::pin!(attacking);
    let mut peak_rss = idle_rss;
    let mut peak_files = idle_files;
    let mut files_back = None;
    let lives = loop {
        tokio::select! {
            lives = &mut attacking => break lives,
            () = tokio::time::sleep(Duration::from_millis(250)) => {
                peak_rss = peak_rss.max(topology.rss_kib(0).unwrap_or(0));
                let files = topology.open_files(0).unwrap_or(0);
                peak_files = peak_files.max(files);
            }
        }
    };
    sampling.store(false, Ordering::Relaxed);
    let mut latencies = reads
        .await
        .map_err(|error| format!("the reads failed: {error}"))?;
    // Every socket has ended on the client's side; the instance's files come back to idle.
    let deadline = Instant::now() + PATIENCE;
    while Instant::now() < deadline {
        if topology.open_files(0).unwrap_or(usize::MAX) <= idle_files + 2 {
            files_back = Some(started.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    latencies.sort_by(f64::total_cmp);
    let attack_p99 = percentile(&latencies, 99.0);
    let _ = writeln!(
        report,
        "- under {} hostile sockets: resident memory at most {:.1} MiB ({:+.1} MiB over idle), \
         at most {peak_files} open files; `GET /api/articles` p99 {attack_p99:.1} ms over {} \
         reads ({:.2} times idle); open files back to idle {} after the attack began",
        lives.len(),
        peak_rss as f64 / 1024.0,
        (peak_rss as f64 - idle_rss as f64) / 1024.0,
        latencies.len(),
        attack_p99 / idle_p99,
        files_back.map_or_else(
            || format!("not within {PATIENCE:?}"),
            |at| format!("{:.1} s", at.as_secs_f64())
        ),
    );
    let _ = writeln!(
        report,
        "\n| kind | sockets | refused at the upgrade | closed, slowest | never closed | the bound |\n|---|---|---|---|---|---|"
    );
    for kind in Kind::ALL {
        let of_kind: Vec<&Life> = lives.iter().filter(|life| life.kind == kind).collect();
        let refused = of_kind.iter().filter(|life| life.refused.is_some()).count();
        let slowest = of_kind
            .iter()
            .filter_map(|life| life.lasted)
            .max()
            .unwrap_or_default();
        let never = of_kind
            .iter()
            .filter(|life| life.refused.is_none() && life.lasted.is_none())
            .count();
        let _ = writeln!(
            report,
            "| {} | {} | {refused} | {:.1} s | {never} | {} |",
            kind.name(),
            of_kind.len(),
            slowest.as_secs_f64(),
            kind.bound()
        );
    }

    // SIGTERM with such sockets open.
    let open = open_for_shutdown(address, quarter / 2, &readers, &since).await;
    let asked = Instant::now();
    let status = topology.stop_instance(0).await?;
    let _ = writeln!(
        report,
        "\n- SIGTERM with {open} hostile sockets open (silent ones and non-readers with full \
         buffers): {status} in {:.2} s (`SHUTDOWN_DRAIN` 5 s)",
        asked.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Readers that follow an author who then publishes a thousand articles; the id to resume from,
/// before them.
pub(crate) struct Readers {
    sessions: Vec<Session>,
    pub(crate) since: String,
}

/// Readers for `sockets` non-reading sockets, following an author who then publishes
/// `articles` articles.
pub(crate) async fn prepare(
    api: &HttpConduit,
    sockets: usize,
    articles: usize,
) -> Result<Readers, Failure> {
    let author_name = unique("busy");
    let author = register(api, &author_name).await?;
    let mut sessions = Vec::new();
    // Eight sockets a user at most (LIVE_MAX_CONNECTIONS_PER_USER).
    for _ in 0..sockets.div_ceil(8).max(1) {
        let reader = register(api, &unique("reader")).await?;
        api.try_expect(
            200,
            Call::new(Method::Post, format!("/api/profiles/{author_name}/follow"))
                .token(&reader.token),
        )
        .await?;
        sessions.push(reader);
    }
    // The id the readers' sockets resume from: the newest event now.
    let mut probe =
        conduit_test_support::live::LiveClient::connect_as(&api.address, &sessions[0].token, "")
            .await;
    let since = probe.ready().await;
    drop(probe);
    let mut writers = Vec::new();
    for writer in 0..8 {
        let api = api.clone();
        let token = author.token.clone();
        writers.push(tokio::spawn(async move {
            for _ in 0..articles.div_ceil(8) {
                api.try_expect(
                    201,
                    Call::post(
                        "/api/articles",
                        json!({"article": {
                            "title": unique(&format!("Resumed {writer} ")),
                            "description": "One of the articles a non-reader is replayed.",
                            "body": "b",
                            "tagList": ["hostile"],
                        }}),
                    )
                    .token(&token),
                )
                .await?;
            }
            Ok::<(), Failure>(())
        }));
    }
    for writer in writers {
        writer
            .await
            .map_err(|error| format!("a writer failed: {error}"))??;
    }
    Ok(Readers { sessions, since })
}

/// The loopback address the `index`th unauthenticated socket comes from.
fn source(index: usize) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, 1, (index % 64) as u8 + 1))
}

/// Runs `quarter` sockets of each kind at once; how each ended.
pub(crate) async fn attack(
    address: SocketAddr,
    quarter: usize,
    readers: &Readers,
    since: &str,
) -> Vec<Life> {
    let mut tasks = Vec::new();
    for index in 0..quarter {
        for kind in Kind::ALL {
            let token = readers.sessions[index / 8 % readers.sessions.len()]
                .token
                .clone();
            let since = since.to_owned();
            tasks.push(tokio::spawn(async move {
                hostile(kind, address, index, &token, &since).await
            }));
        }
    }
    let mut lives = Vec::new();
    for task in tasks {
        if let Ok(life) = task.await {
            lives.push(life);
        }
    }
    lives
}

/// One hostile socket, from its connect to its end.
async fn hostile(kind: Kind, address: SocketAddr, index: usize, token: &str, since: &str) -> Life {
    let started = Instant::now();
    let authorization = format!("Token {token}");
    let (source, headers, buffer): (_, Vec<(&str, &str)>, _) = match kind {
        Kind::NonReader => (None, vec![("authorization", &authorization)], Some(4096)),
        _ => (Some(self::source(index)), Vec::new(), None),
    };
    let query = if kind == Kind::NonReader {
        format!("?since={since}")
    } else {
        String::new()
    };
    let upgraded = RawSocket::upgrade_from(source, address, &query, &headers, buffer).await;
    let mut socket = match upgraded {
        Ok(socket) => socket,
        Err(Ok(refused)) => {
            return Life {
                kind,
                refused: Some(refused.status),
                lasted: Some(started.elapsed()),
            };
        }
        Err(Err(_)) => {
            return Life {
                kind,
                refused: Some(0),
                lasted: Some(started.elapsed()),
            };
        }
    };
    match kind {
        Kind::Announcer => {
            if socket.announce(opcode::TEXT, true, 1 << 30).await.is_ok() {
                let chunk = vec![0_u8; 64 * 1024];
                for _ in 0..16 {
                    if socket.send_bytes(&chunk).await.is_err() {
                        break;
                    }
                }
            }
        }
        Kind::Flooder => {
            for _ in 0..2000 {
                if socket.ping().await.is_err() {
                    break;
                }
            }
        }
        Kind::Silent | Kind::NonReader => {}
    }
    let ending = if kind == Kind::NonReader {
        // It never reads: the end shows only once it looks, when the attack is over.
        tokio::time::sleep(Duration::from_secs(25)).await;
        socket.read_to_end(Duration::from_secs(5)).await
    } else {
        socket.read_to_end(PATIENCE).await
    };
    Life {
        kind,
        refused: None,
        lasted: ending.ended.then(|| started.elapsed()),
    }
}

/// Opens silent sockets and non-readers whose replay fills their buffers, for the shutdown;
/// how many are open.
async fn open_for_shutdown(
    address: SocketAddr,
    count: usize,
    readers: &Readers,
    since: &str,
) -> usize {
    let mut open = 0;
    let mut held = Vec::new();
    for index in 0..count {
        if let Ok(socket) =
            RawSocket::upgrade_from(Some(source(index)), address, "", &[], None).await
        {
            held.push(socket);
            open += 1;
        }
        let token = &readers.sessions[index / 8 % readers.sessions.len()].token;
        if let Ok(socket) = RawSocket::non_reader(address, token, since).await {
            held.push(socket);
            open += 1;
        }
    }
    // Held until the instance has exited: leaked on purpose into a task that outlives it.
    tokio::spawn(async move {
        tokio::time::sleep(PATIENCE).await;
        drop(held);
    });
    open
}

/// `GET /api/articles?limit=20` by 8 clients for `during`: each latency in milliseconds.
async fn timed_reads(api: &HttpConduit, during: Duration) -> Vec<f64> {
    let mut clients = Vec::new();
    for _ in 0..8 {
        let api = api.clone();
        clients.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let until = Instant::now() + during;
            while Instant::now() < until {
                let sent = Instant::now();
                let answer = api
                    .try_expect(200, Call::get("/api/articles?limit=20"))
                    .await;
                if answer.is_ok() {
                    latencies.push(sent.elapsed().as_secs_f64() * 1000.0);
                }
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for client in clients {
        if let Ok(mut some) = client.await {
            latencies.append(&mut some);
        }
    }
    latencies
}

async fn p99_of_reads(api: &HttpConduit, during: Duration) -> Result<f64, Failure> {
    let mut latencies = timed_reads(api, during).await;
    if latencies.is_empty() {
        return Err("no read succeeded".to_owned());
    }
    latencies.sort_by(f64::total_cmp);
    Ok(percentile(&latencies, 99.0))
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (p / 100.0 * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}
