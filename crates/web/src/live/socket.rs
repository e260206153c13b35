//! One live socket, from authentication to close.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use actix_ws::{CloseCode, CloseReason, Message, MessageStream, ProtocolError, Session};
use bytestring::ByteString;
use conduit_domain::live::{EventId, Resume};
use conduit_domain::ports::Caller;
use conduit_domain::sessions::AuthError;

use super::hub::{Closing, Membership};
use super::metrics::Ticket;
use crate::AppState;
use crate::dto::live::{ClientFrame, ServerFrame};

/// What a client may send: a burst of this many frames (pings, pongs, messages), refilled at
/// [`FRAMES_PER_SECOND`]. A client that sends more is closed with 1008: after `auth` it has
/// nothing to say but pongs, and every ping it sends costs the server a pong.
const FRAME_BURST: f64 = 32.0;
const FRAMES_PER_SECOND: f64 = 8.0;

/// A socket that authenticated at the upgrade, by its `Authorization` header.
#[derive(Debug)]
pub(crate) struct Authenticated {
    pub(crate) caller: Caller,
    /// How long its token has left.
    pub(crate) left: Option<time::Duration>,
    pub(crate) membership: Membership,
}

/// The two halves of an upgraded connection, and what serving it needs.
pub(crate) struct Socket {
    pub(crate) session: Session,
    pub(crate) stream: MessageStream,
    pub(crate) state: Arc<AppState>,
    /// Its place among the sockets this instance admits.
    pub(crate) ticket: Ticket,
    /// Set by the frame guard when it refused a frame over the limit.
    pub(crate) oversized: Arc<AtomicBool>,
    /// What the client may still send now (see [`FRAME_BURST`]).
    budget: Budget,
}

impl Socket {
    pub(crate) fn new(
        session: Session,
        stream: MessageStream,
        state: Arc<AppState>,
        ticket: Ticket,
        oversized: Arc<AtomicBool>,
    ) -> Self {
        Self {
            session,
            stream,
            state,
            ticket,
            oversized,
            budget: Budget::full(),
        }
    }
}

/// A token bucket of the frames a client may send.
#[derive(Debug)]
struct Budget {
    left: f64,
    at: tokio::time::Instant,
}

impl Budget {
    fn full() -> Self {
        Self {
            left: FRAME_BURST,
            at: tokio::time::Instant::now(),
        }
    }

    /// Spends one frame; `false` when none is left.
    fn spend(&mut self) -> bool {
        let now = tokio::time::Instant::now();
        let refill = now.duration_since(self.at).as_secs_f64() * FRAMES_PER_SECOND;
        self.left = (self.left + refill).min(FRAME_BURST);
        self.at = now;
        if self.left >= 1.0 {
            self.left -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Why this side closes, with its close code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Close {
    Hub(Closing),
    /// 4401: the token was refused, or has expired.
    InvalidToken,
    /// 4408: no `auth` message in time.
    NoAuthInTime,
    /// 4429: the user holds the most sockets allowed.
    TooManyConnections,
    /// 4000: the peer missed two pongs.
    NoPong,
    /// 1009: a frame over [`super::LiveSettings::MAX_FRAME`].
    TooLarge,
    /// 1002: the peer broke the protocol.
    Protocol,
    /// 1011: the database could not answer; the client may connect again.
    Unavailable,
    /// 1008: the client sends frames faster than [`FRAMES_PER_SECOND`] allows.
    Flood,
    /// 1008: what the server sent could not be written within `WRITE_TIMEOUT`: the client does
    /// not read.
    WriteTimeout,
    /// 1000: the client closed, and this answers.
    Normal,
}

impl Close {
    /// The reason's name in the counters ([`super::LiveCounters::closed`]).
    fn name(close: Option<Self>) -> &'static str {
        match close {
            None => "gone",
            Some(Self::Hub(Closing::Shutdown)) => "shutdown",
            Some(Self::Hub(Closing::SlowConsumer)) => "slow_consumer",
            Some(Self::Hub(Closing::SessionEnded)) => "session_ended",
            Some(Self::InvalidToken) => "invalid_token",
            Some(Self::NoAuthInTime) => "no_auth_in_time",
            Some(Self::TooManyConnections) => "too_many_connections",
            Some(Self::NoPong) => "no_pong",
            Some(Self::TooLarge) => "too_large",
            Some(Self::Protocol) => "protocol",
            Some(Self::Unavailable) => "unavailable",
            Some(Self::Flood) => "flood",
            Some(Self::WriteTimeout) => "write_timeout",
            Some(Self::Normal) => "normal",
        }
    }

    fn reason(self) -> CloseReason {
        let (code, description) = match self {
            Self::Hub(Closing::Shutdown) => (CloseCode::Away, "server shutting down"),
            Self::Hub(Closing::SlowConsumer) => (CloseCode::Policy, "too slow: queue full"),
            Self::Hub(Closing::SessionEnded) => (CloseCode::Other(4401), "session ended"),
            Self::InvalidToken => (CloseCode::Other(4401), "invalid token"),
            Self::NoAuthInTime => (CloseCode::Other(4408), "no auth in time"),
            Self::TooManyConnections => (CloseCode::Other(4429), "too many connections"),
            Self::NoPong => (CloseCode::Other(4000), "missed two pongs"),
            Self::TooLarge => (CloseCode::Size, "frame too large"),
            Self::Protocol => (CloseCode::Protocol, "protocol error"),
            Self::Unavailable => (CloseCode::Error, "unavailable; connect again"),
            Self::Flood => (CloseCode::Policy, "too many frames"),
            Self::WriteTimeout => (CloseCode::Policy, "too slow: not reading"),
            Self::Normal => (CloseCode::Normal, ""),
        };
        CloseReason {
            code,
            description: (!description.is_empty()).then(|| description.to_owned()),
        }
    }
}

/// Serves one socket until it closes, then lets go of it: its close frame if one can be queued
/// within the write timeout (a slow consumer's may be queued once it reads again), its place among the admitted sockets, and the connection (a peer
/// that reads nothing is cut by the kernel's `TCP_USER_TIMEOUT`, see [`crate::on_connect`]).
pub(crate) async fn serve(
    mut socket: Socket,
    authenticated: Option<Authenticated>,
    since: Option<EventId>,
) {
    let close = match authenticated {
        Some(authenticated) => socket.live(authenticated, since).await,
        None => match socket.first_message().await {
            Ok((authenticated, since_in_message)) => {
                socket.ticket.authenticated();
                socket.live(authenticated, since_in_message.or(since)).await
            }
            Err(close) => close,
        },
    };
    tracing::debug!(reason = ?close, "closing a live socket");
    socket.state.hub.metrics().closed(Close::name(close));
    if let Some(close) = close {
        let patience = socket.state.hub.settings().write_timeout;
        let _ = tokio::time::timeout(patience, socket.session.close(Some(close.reason()))).await;
    }
}

/// What woke a live socket.
enum Step {
    Frame(Option<(EventId, ByteString)>),
    Ping,
    Incoming(Option<Result<Message, ProtocolError>>),
}

/// What happened on the client's side of the socket.
enum Incoming {
    Text(String),
    /// A binary message: the protocol has none.
    Binary,
    /// Handled here (pings answered, pongs counted): nothing for the caller.
    Nothing,
    Pong,
    Closed(Option<Close>),
}

impl Socket {
    /// Writes to the client within the write timeout; `Err` is how the socket closes.
    async fn write<E>(
        &self,
        write: impl Future<Output = Result<(), E>>,
    ) -> Result<(), Option<Close>> {
        match tokio::time::timeout(self.state.hub.settings().write_timeout, write).await {
            Ok(Ok(())) => Ok(()),
            // The connection is gone.
            Ok(Err(_)) => Err(None),
            Err(_) => Err(Some(Close::WriteTimeout)),
        }
    }

    /// Reads one message from the client, answering pings.
    async fn incoming(&mut self, item: Option<Result<Message, ProtocolError>>) -> Incoming {
        if item.as_ref().is_some_and(Result::is_ok) && !self.budget.spend() {
            return Incoming::Closed(Some(Close::Flood));
        }
        match item {
            None => Incoming::Closed(None),
            Some(Ok(Message::Text(text))) => Incoming::Text(text.to_string()),
            Some(Ok(Message::Ping(payload))) => {
                let mut session = self.session.clone();
                match self
                    .write(async move { session.pong(&payload).await })
                    .await
                {
                    Ok(()) => Incoming::Nothing,
                    Err(close) => Incoming::Closed(close),
                }
            }
            Some(Ok(Message::Pong(_))) => Incoming::Pong,
            Some(Ok(Message::Close(_))) => Incoming::Closed(Some(Close::Normal)),
            Some(Ok(Message::Binary(_))) => Incoming::Binary,
            Some(Ok(_)) => Incoming::Nothing,
            Some(Err(ProtocolError::Overflow)) => Incoming::Closed(Some(Close::TooLarge)),
            // The frame guard refused a frame from its header (see `guard`).
            Some(Err(_)) if self.oversized.load(Ordering::SeqCst) => {
                Incoming::Closed(Some(Close::TooLarge))
            }
            // The connection failed under the stream (the kernel's write timeout dropped it, the
            // peer reset it): nobody is left to tell.
            Some(Err(ProtocolError::Io(_))) => Incoming::Closed(None),
            Some(Err(_)) => Incoming::Closed(Some(Close::Protocol)),
        }
    }

    /// Waits for the `auth` message (the upgrade had no `Authorization` header) and joins the
    /// hub; `Err` is how the socket closes instead.
    async fn first_message(&mut self) -> Result<(Authenticated, Option<EventId>), Option<Close>> {
        let settings = self.state.hub.settings().clone();
        let mut stopping = self.state.hub.stopping();
        // One deadline for the whole wait, answering pings included: nothing the client sends
        // can move it.
        let receive = async {
            loop {
                tokio::select! {
                    _ = stopping.wait_for(|stopping| *stopping) => {
                        return Err(Some(Close::Hub(Closing::Shutdown)));
                    }
                    item = self.stream.recv() => match self.incoming(item).await {
                        Incoming::Text(text) => return Ok(text),
                        // The `auth` message is text: a binary one is no auth message.
                        Incoming::Binary => return Err(Some(Close::Protocol)),
                        Incoming::Nothing | Incoming::Pong => {}
                        Incoming::Closed(close) => return Err(close),
                    },
                }
            }
        };
        let text = match tokio::time::timeout(settings.auth_timeout, receive).await {
            Ok(received) => received?,
            Err(_) => return Err(Some(Close::NoAuthInTime)),
        };
        // Not an `auth` message is the client's fault, not its token's: a client told 4401
        // would log its user out, or refresh, in a loop.
        let Ok(ClientFrame::Auth { token, since }) = serde_json::from_str::<ClientFrame>(&text)
        else {
            return Err(Some(Close::Protocol));
        };
        let since = match since.as_deref().map(EventId::parse).transpose() {
            Ok(since) => since,
            Err(_) => return Err(Some(Close::Protocol)),
        };
        let (caller, left) = match self.state.sessions.authenticate_live(&token).await {
            Ok(authenticated) => authenticated,
            Err(AuthError::Unauthenticated(reason)) => {
                tracing::info!(%reason, "live socket token refused");
                return Err(Some(Close::InvalidToken));
            }
            Err(error) => {
                tracing::warn!(%error, "cannot authenticate a live socket");
                return Err(Some(Close::Unavailable));
            }
        };
        let membership = self
            .state
            .hub
            .join(caller.user, caller.session)
            .map_err(|refusal| match refusal {
                super::hub::Refusal::TooMany => Some(Close::TooManyConnections),
                super::hub::Refusal::ShuttingDown => Some(Close::Hub(Closing::Shutdown)),
                super::hub::Refusal::SessionEnded => Some(Close::Hub(Closing::SessionEnded)),
            })?;
        Ok((
            Authenticated {
                caller,
                left,
                membership,
            },
            since,
        ))
    }

    /// Sends one text frame, unless the hub closes the socket first; `Err` is how it closes.
    async fn send(
        &mut self,
        membership: &mut Membership,
        text: impl Into<ByteString>,
    ) -> Result<(), Option<Close>> {
        let mut session = self.session.clone();
        let text = text.into();
        let closing = tokio::select! {
            sent = self.write(async move { session.text(text).await }) => return sent,
            closing = membership.closing.wait_for(Option::is_some) => {
                closing.ok().and_then(|closing| *closing)
            }
        };
        Err(closing.map(Close::Hub))
    }

    /// Says `ready`, replays what the client missed, then moves frames until the socket closes;
    /// the close to send, if any.
    async fn live(
        &mut self,
        authenticated: Authenticated,
        since: Option<EventId>,
    ) -> Option<Close> {
        let Authenticated {
            caller,
            left,
            mut membership,
        } = authenticated;
        // What the client has: frames at or before it were given already.
        let given = match self.replay(&mut membership, caller, since).await {
            Ok(given) => given,
            Err(close) => return close,
        };
        let settings = self.state.hub.settings().clone();
        let mut ping = tokio::time::interval_at(
            tokio::time::Instant::now() + settings.ping_interval,
            settings.ping_interval,
        );
        let mut unanswered = 0_u32;
        // A token without an expiry never expires; a century stands in for never.
        let left = left.map_or(Duration::from_secs(100 * 365 * 24 * 3600), |left| {
            left.try_into().unwrap_or(Duration::ZERO)
        });
        let expiry = tokio::time::sleep(left);
        tokio::pin!(expiry);
        loop {
            let step = tokio::select! {
                () = &mut expiry => return Some(Close::InvalidToken),
                closing = membership.closing.wait_for(Option::is_some) => {
                    return closing.ok().and_then(|closing| *closing).map(Close::Hub);
                }
                frame = membership.frames.recv() => Step::Frame(frame),
                _ = ping.tick() => Step::Ping,
                item = self.stream.recv() => Step::Incoming(item),
            };
            match step {
                // The hub let go of this socket: it says why.
                Step::Frame(None) => return (*membership.closing.borrow()).map(Close::Hub),
                Step::Frame(Some((id, _))) if id <= given => {}
                Step::Frame(Some((_, frame))) => {
                    if let Err(close) = self.send(&mut membership, frame).await {
                        return close;
                    }
                }
                Step::Ping => {
                    if unanswered >= 2 {
                        return Some(Close::NoPong);
                    }
                    unanswered += 1;
                    let mut session = self.session.clone();
                    if let Err(close) = self.write(async move { session.ping(b"").await }).await {
                        return close;
                    }
                }
                Step::Incoming(item) => match self.incoming(item).await {
                    Incoming::Pong => unanswered = 0,
                    // After `auth`, what a client sends is not read.
                    Incoming::Text(_) | Incoming::Binary | Incoming::Nothing => {}
                    Incoming::Closed(close) => return close,
                },
            }
        }
    }

    /// A turn to read the outbox for a replay, unless the hub closes the socket first.
    async fn turn<'a>(
        state: &'a AppState,
        membership: &mut Membership,
    ) -> Result<tokio::sync::SemaphorePermit<'a>, Option<Close>> {
        tokio::select! {
            turn = state.hub.replay_turn() => Ok(turn),
            closing = membership.closing.wait_for(Option::is_some) => {
                Err(closing.ok().and_then(|closing| *closing).map(Close::Hub))
            }
        }
    }

    /// `ready`, then the events after `since` up to where the socket went live (or `reset`);
    /// the newest id the client then has. A `since` past where this instance's fan-out has got
    /// to (it lags the database: a reconnecting listener, a slow instance) replays nothing, and
    /// the live frames up to it are dropped, so that nothing is sent twice. The replay goes a
    /// page at a time, and waits for its turn among the sockets replaying.
    async fn replay(
        &mut self,
        membership: &mut Membership,
        caller: Caller,
        since: Option<EventId>,
    ) -> Result<EventId, Option<Close>> {
        let live_from = membership.live_from;
        let Some(since) = since else {
            self.send(membership, ServerFrame::ready(live_from).to_text())
                .await?;
            return Ok(live_from);
        };
        let state = Arc::clone(&self.state);
        let unavailable = |error: conduit_domain::ports::StoreError| {
            tracing::warn!(%error, "cannot replay live events");
            Some(Close::Unavailable)
        };
        let live = &state.live;
        let start = {
            let _turn = Self::turn(&state, membership).await?;
            live.replay_from(since, live_from)
                .await
                .map_err(unavailable)?
        };
        let Resume::After(mut after) = start else {
            self.send(membership, ServerFrame::ready(live_from).to_text())
                .await?;
            self.send(membership, ServerFrame::Reset.to_text()).await?;
            return Ok(live_from);
        };
        let given = conduit_domain::live::resumed_at(since, live_from);
        self.send(membership, ServerFrame::ready(given).to_text())
            .await?;
        while after < live_from {
            // The turn is held while the page is read, not while it is written: a client that
            // does not read holds up nobody's replay but its own.
            let (page, read) = {
                let _turn = Self::turn(&state, membership).await?;
                live.replay_page(caller.user, after, live_from)
                    .await
                    .map_err(unavailable)?
            };
            for delivery in page {
                let frame = ServerFrame::from(delivery).to_text();
                self.send(membership, frame).await?;
            }
            after = read;
        }
        if !live.replay_held(since).await.map_err(unavailable)? {
            self.send(membership, ServerFrame::Reset.to_text()).await?;
        }
        Ok(given)
    }
}
