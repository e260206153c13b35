//! A TCP link the test can hold: what the server sends or receives through it stops, with the
//! connection still open, until the test releases it. The end-to-end tests put one between an
//! instance's live-events listener and PostgreSQL, to make that instance's fan-out lag on cue.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// Forwards every connection made to [`HeldLink::address`] to its target, both ways, while it is
/// not held.
#[derive(Debug)]
pub struct HeldLink {
    pub address: SocketAddr,
    open: watch::Sender<bool>,
    /// Bytes read from either side and not yet passed on: what the hold is keeping back.
    held: Arc<AtomicUsize>,
}

impl HeldLink {
    /// A link to `target` (`host:port`), open.
    ///
    /// # Panics
    /// When no port on the loopback can be bound.
    pub async fn to(target: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binds the link");
        let address = listener.local_addr().expect("a bound address");
        let (open, gate) = watch::channel(true);
        let held = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&held);
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = TcpStream::connect(&target).await else {
                    continue;
                };
                let (client_read, client_write) = client.into_split();
                let (server_read, server_write) = server.into_split();
                let (up, down) = (Arc::clone(&counted), Arc::clone(&counted));
                tokio::spawn(pump(client_read, server_write, gate.clone(), up));
                tokio::spawn(pump(server_read, client_write, gate.clone(), down));
            }
        });
        Self {
            address,
            open,
            held,
        }
    }

    /// How many bytes the hold keeps back now, either way.
    pub fn held(&self) -> usize {
        self.held.load(Ordering::SeqCst)
    }

    /// A link to the database server of `url` (a `postgres://` URL), open, and the URL that
    /// reaches the same database through it.
    ///
    /// # Panics
    /// When `url` is not a URL with a host and a port.
    pub async fn to_database(url: &str) -> (Self, String) {
        let database = reqwest::Url::parse(url).expect("a database URL");
        let link = Self::to(format!(
            "{}:{}",
            database.host_str().expect("a host"),
            database.port().expect("a port")
        ))
        .await;
        let mut through_link = database;
        through_link
            .set_host(Some(&link.address.ip().to_string()))
            .expect("the link's host");
        through_link
            .set_port(Some(link.address.port()))
            .expect("the link's port");
        (link, through_link.into())
    }

    /// From now on nothing more passes, either way.
    pub fn hold(&self) {
        self.open.send_replace(false);
    }

    /// What was held passes, and everything after it.
    pub fn release(&self) {
        self.open.send_replace(true);
    }
}

/// Copies `from` to `to`, waiting for the gate to be open before each write: what is read while
/// the link is held waits, counted in `held`, and nothing more is read until it has passed.
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut gate: watch::Receiver<bool>,
    held: Arc<AtomicUsize>,
) {
    let mut buffer = vec![0; 16 * 1024];
    loop {
        let read = match from.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(read) => read,
        };
        held.fetch_add(read, Ordering::SeqCst);
        let passed = gate.wait_for(|open| *open).await.is_ok()
            && to.write_all(&buffer[..read]).await.is_ok();
        held.fetch_sub(read, Ordering::SeqCst);
        if !passed {
            return;
        }
    }
}
