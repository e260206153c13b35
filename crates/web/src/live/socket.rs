//! One live socket, from authentication to close.

use std::sync::Arc;
use std::time::Duration;

use actix_ws::{CloseCode, CloseReason, Message, MessageStream, ProtocolError, Session};
use bytestring::ByteString;
use conduit_domain::live::{EventId, Replay};
use conduit_domain::ports::Caller;
use conduit_domain::sessions::AuthError;

use super::hub::{Closing, Membership};
use crate::AppState;
use crate::dto::live::{ClientFrame, ServerFrame};

/// How long a closing socket waits for its close frame to go out (a slow consumer's may never)
/// before the connection is dropped.
const CLOSE_PATIENCE: Duration = Duration::from_secs(5);

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
    /// 1000: the client closed, and this answers.
    Normal,
}

impl Close {
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
            Self::Normal => (CloseCode::Normal, ""),
        };
        CloseReason {
            code,
            description: (!description.is_empty()).then(|| description.to_owned()),
        }
    }
}

/// Serves one socket until it closes.
pub(crate) async fn serve(
    mut socket: Socket,
    authenticated: Option<Authenticated>,
    since: Option<EventId>,
) {
    let close = match authenticated {
        Some(authenticated) => socket.live(authenticated, since).await,
        None => match socket.first_message().await {
            Ok((authenticated, since_in_message)) => {
                socket.live(authenticated, since_in_message.or(since)).await
            }
            Err(close) => close,
        },
    };
    if let Some(close) = close {
        tracing::debug!(reason = ?close, "closing a live socket");
        // A slow consumer's close frame may wait behind frames it never reads: bounded.
        let _ =
            tokio::time::timeout(CLOSE_PATIENCE, socket.session.close(Some(close.reason()))).await;
    }
}

/// What woke a live socket.
enum Step {
    Frame(Option<ByteString>),
    Ping,
    Incoming(Option<Result<Message, ProtocolError>>),
}

/// What happened on the client's side of the socket.
enum Incoming {
    Text(String),
    /// Handled here (pings answered, pongs counted): nothing for the caller.
    Nothing,
    Pong,
    Closed(Option<Close>),
}

impl Socket {
    /// Reads one message from the client, answering pings.
    async fn incoming(&mut self, item: Option<Result<Message, ProtocolError>>) -> Incoming {
        match item {
            None => Incoming::Closed(None),
            Some(Ok(Message::Text(text))) => Incoming::Text(text.to_string()),
            Some(Ok(Message::Ping(payload))) => {
                if self.session.pong(&payload).await.is_err() {
                    return Incoming::Closed(None);
                }
                Incoming::Nothing
            }
            Some(Ok(Message::Pong(_))) => Incoming::Pong,
            Some(Ok(Message::Close(_))) => Incoming::Closed(Some(Close::Normal)),
            Some(Ok(_)) => Incoming::Nothing,
            Some(Err(ProtocolError::Overflow)) => Incoming::Closed(Some(Close::TooLarge)),
            Some(Err(_)) => Incoming::Closed(Some(Close::Protocol)),
        }
    }

    /// Waits for the `auth` message (the upgrade had no `Authorization` header) and joins the
    /// hub; `Err` is how the socket closes instead.
    async fn first_message(&mut self) -> Result<(Authenticated, Option<EventId>), Option<Close>> {
        let settings = self.state.hub.settings().clone();
        let mut stopping = self.state.hub.stopping();
        let deadline = tokio::time::sleep(settings.auth_timeout);
        tokio::pin!(deadline);
        let text = loop {
            tokio::select! {
                () = &mut deadline => return Err(Some(Close::NoAuthInTime)),
                _ = stopping.wait_for(|stopping| *stopping) => {
                    return Err(Some(Close::Hub(Closing::Shutdown)));
                }
                item = self.stream.recv() => match self.incoming(item).await {
                    Incoming::Text(text) => break text,
                    Incoming::Nothing | Incoming::Pong => {}
                    Incoming::Closed(close) => return Err(close),
                },
            }
        };
        let Ok(ClientFrame::Auth { token, since }) = serde_json::from_str::<ClientFrame>(&text)
        else {
            return Err(Some(Close::InvalidToken));
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
        let closing = tokio::select! {
            sent = self.session.text(text) => return sent.map_err(|_| None),
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
        match self.replay(&mut membership, caller, since).await {
            Ok(()) => {}
            Err(close) => return close,
        }
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
                Step::Frame(Some(frame)) => {
                    if let Err(close) = self.send(&mut membership, frame).await {
                        return close;
                    }
                }
                Step::Ping => {
                    if unanswered >= 2 {
                        return Some(Close::NoPong);
                    }
                    unanswered += 1;
                    if self.session.ping(b"").await.is_err() {
                        return None;
                    }
                }
                Step::Incoming(item) => match self.incoming(item).await {
                    Incoming::Pong => unanswered = 0,
                    // After `auth`, what a client sends is not read.
                    Incoming::Text(_) | Incoming::Nothing => {}
                    Incoming::Closed(close) => return close,
                },
            }
        }
    }

    /// `ready`, then the events after `since` up to where the socket went live (or `reset`).
    async fn replay(
        &mut self,
        membership: &mut Membership,
        caller: Caller,
        since: Option<EventId>,
    ) -> Result<(), Option<Close>> {
        let live_from = membership.live_from;
        self.send(membership, ServerFrame::ready(live_from).to_text())
            .await?;
        let Some(since) = since else { return Ok(()) };
        match self.state.live.replay(caller.user, since, live_from).await {
            Ok(Replay::Reset) => self.send(membership, ServerFrame::Reset.to_text()).await,
            Ok(Replay::Events(deliveries)) => {
                for delivery in deliveries {
                    let frame = ServerFrame::from(delivery).to_text();
                    self.send(membership, frame).await?;
                }
                Ok(())
            }
            Err(error) => {
                tracing::warn!(%error, "cannot replay live events");
                Err(Some(Close::Unavailable))
            }
        }
    }
}
