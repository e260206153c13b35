//! [`LiveClient`]: a WebSocket client of `GET /api/live` for tests and benchmarks, over
//! tokio-tungstenite. Every read waits for a frame at most the patience given, so that a
//! missing frame fails a test instead of hanging it.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Error;
pub use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::handshake::client::Request;
use tokio_tungstenite::tungstenite::http::HeaderName;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How long a read waits by default: a frame takes milliseconds; this only bounds a failure.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// A refused upgrade: the status and the JSON body.
#[derive(Debug)]
pub struct Refused {
    pub status: u16,
    pub body: Value,
}

/// One socket on `GET /api/live`.
#[derive(Debug)]
pub struct LiveClient {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

/// The upgrade request for `http://host:port` (or `ws://`), with a query string and headers.
///
/// # Panics
/// On an address or header that cannot make a request: a mistake in the test.
pub fn upgrade_request(address: &str, query: &str, headers: &[(&str, &str)]) -> Request {
    let base = address
        .replacen("http://", "ws://", 1)
        .trim_end_matches('/')
        .to_owned();
    let mut request = format!("{base}/api/live{query}")
        .into_client_request()
        .expect("a valid upgrade request");
    for (name, value) in headers {
        request.headers_mut().insert(
            HeaderName::from_bytes(name.as_bytes()).expect("a header name"),
            value.parse().expect("a header value"),
        );
    }
    request
}

impl LiveClient {
    /// Upgrades, or answers the refusal.
    ///
    /// # Panics
    /// When the connection fails otherwise than by a refusal.
    pub async fn try_connect(request: Request) -> Result<Self, Refused> {
        match tokio_tungstenite::connect_async(request).await {
            Ok((socket, _)) => Ok(Self { socket }),
            Err(Error::Http(response)) => {
                let body = response.body().clone().unwrap_or_default();
                Err(Refused {
                    status: response.status().as_u16(),
                    body: serde_json::from_slice(&body).unwrap_or(Value::Null),
                })
            }
            Err(other) => panic!("cannot connect: {other}"),
        }
    }

    /// Upgrades over a stream the caller opened (to set its buffers, say).
    ///
    /// # Panics
    /// When the upgrade fails.
    pub async fn connect_over(request: Request, stream: TcpStream) -> Self {
        let (socket, _) = tokio_tungstenite::client_async(request, MaybeTlsStream::Plain(stream))
            .await
            .expect("upgrades");
        Self { socket }
    }

    /// Upgrades without a token: the first message must authenticate.
    ///
    /// # Panics
    /// When the server refuses the upgrade.
    pub async fn connect(address: &str, query: &str, headers: &[(&str, &str)]) -> Self {
        match Self::try_connect(upgrade_request(address, query, headers)).await {
            Ok(client) => client,
            Err(refused) => panic!("upgrade refused: {refused:?}"),
        }
    }

    /// Upgrades with `Authorization: Token <token>`, and `query` (such as `?since=4`).
    ///
    /// # Panics
    /// When the server refuses the upgrade.
    pub async fn connect_as(address: &str, token: &str, query: &str) -> Self {
        let authorization = format!("Token {token}");
        Self::connect(address, query, &[("authorization", &authorization)]).await
    }

    /// Sends a text frame.
    ///
    /// # Panics
    /// When the socket is closed.
    pub async fn send_text(&mut self, text: impl Into<String>) {
        self.socket
            .send(Message::text(text.into()))
            .await
            .expect("the socket takes a frame");
    }

    /// Sends any message.
    ///
    /// # Panics
    /// When the socket is closed.
    pub async fn send(&mut self, message: Message) {
        self.socket
            .send(message)
            .await
            .expect("the socket takes a frame");
    }

    /// The next frame of any kind, however long it takes; `None` when the connection ended or
    /// failed. For a caller that bounds the wait itself.
    pub async fn next_unbounded(&mut self) -> Option<Message> {
        self.socket.next().await.and_then(Result::ok)
    }

    /// The next frame of any kind, within `patience`; `None` when the stream ended.
    ///
    /// # Panics
    /// When no frame comes in time, or the connection fails.
    pub async fn next_message(&mut self, patience: Duration) -> Option<Message> {
        tokio::time::timeout(patience, self.socket.next())
            .await
            .expect("a frame in time")
            .map(|message| message.expect("a frame"))
    }

    /// The next text frame as JSON, skipping pings and pongs.
    ///
    /// # Panics
    /// When no text frame comes within [`PATIENCE`], or another kind of frame comes.
    pub async fn next_json(&mut self) -> Value {
        loop {
            match self.next_message(PATIENCE).await {
                Some(Message::Text(text)) => {
                    return serde_json::from_str(&text).expect("a JSON frame");
                }
                Some(Message::Ping(_) | Message::Pong(_)) => {}
                other => panic!("expected a text frame, got {other:?}"),
            }
        }
    }

    /// The bodies of the next `count` frames, each a `comment.created`.
    ///
    /// # Panics
    /// When a frame is no comment, or does not come within [`PATIENCE`].
    pub async fn next_comment_bodies(&mut self, count: usize) -> Vec<String> {
        let mut bodies = Vec::new();
        for _ in 0..count {
            let frame = self.next_json().await;
            assert_eq!(frame["type"], "comment.created", "{frame}");
            bodies.push(
                frame["comment"]["body"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            );
        }
        bodies
    }

    /// Reads the `ready` frame; its `lastEventId`.
    ///
    /// # Panics
    /// When the next frame is not `ready`.
    pub async fn ready(&mut self) -> String {
        let frame = self.next_json().await;
        assert_eq!(frame["type"], "ready", "{frame}");
        frame["lastEventId"]
            .as_str()
            .expect("an id as a string")
            .to_owned()
    }

    /// The code of a close frame that comes within `patience` (frames before it are skipped), or
    /// `None` when none comes: the socket is still open. A connection that ends without a close
    /// frame answers 1006, the code RFC 6455 reserves for that.
    pub async fn closed_within(&mut self, patience: Duration) -> Option<u16> {
        let deadline = tokio::time::Instant::now() + patience;
        loop {
            let next = tokio::time::timeout_at(deadline, self.socket.next()).await;
            match next {
                Err(_) => return None,
                Ok(Some(Ok(Message::Close(frame)))) => {
                    return Some(frame.map_or(1005, |CloseFrame { code, .. }| u16::from(code)));
                }
                Ok(Some(Ok(_))) => {}
                Ok(None | Some(Err(_))) => return Some(1006),
            }
        }
    }

    /// Reads until the server's close frame: its code, and how many text frames came first.
    ///
    /// # Panics
    /// When the connection ends without a close frame, or none comes in time.
    pub async fn close_code(&mut self) -> (u16, usize) {
        let mut texts = 0;
        loop {
            match self.next_message(PATIENCE).await {
                Some(Message::Close(Some(CloseFrame { code, .. }))) => {
                    return (u16::from(code), texts);
                }
                Some(Message::Text(_)) => texts += 1,
                Some(Message::Close(None)) => panic!("closed without a code"),
                None => panic!("the connection ended without a close frame"),
                Some(_) => {}
            }
        }
    }
}
