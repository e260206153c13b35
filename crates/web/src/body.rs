//! Request bodies with an idle timeout, and drained before the answer when the handler left
//! them.
//!
//! actix-web has no timeout on request bodies: a client that announces a body (a
//! `Content-Length`, or `Transfer-Encoding: chunked`) and then sends none of it holds its
//! connection, and a handler reading it, for ever; and when a handler does not read a body, actix
//! goes on waiting for the rest of it after the answer. So every body is read through
//! [`Watched`]: a chunk that takes longer than the idle timeout ([`BODY_TIMEOUT`]) fails the read
//! (the handler answers 400). After the handler, a body it did not read to its end is drained,
//! within the same idle timeout and [`crate::JSON_BODY_LIMIT`], and the answer closes its
//! connection.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::HttpMessage as _;
use actix_web::dev::{Payload, ServiceRequest};
use actix_web::error::PayloadError;
use actix_web::http::header;
use actix_web::web::Bytes;
use futures_core::Stream;

/// How long a request body may pause between two chunks (nginx's `client_body_timeout`).
pub const BODY_TIMEOUT: Duration = Duration::from_secs(10);

/// The idle timeout in force, as app data.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BodyTimeout(pub(crate) Duration);

/// Whether a request announces a body.
pub(crate) fn announces_body(request: &actix_web::HttpRequest) -> bool {
    let headers = request.headers();
    headers.contains_key(header::TRANSFER_ENCODING)
        || headers
            .get(header::CONTENT_LENGTH)
            .is_some_and(|length| length.to_str().map_or(true, |length| length.trim() != "0"))
}

/// A request's body, shared between the handler (through [`Watched`]) and the middleware that
/// drains what the handler left.
#[derive(Clone)]
pub(crate) struct Body(Rc<RefCell<State>>);

struct State {
    payload: Payload,
    timeout: Duration,
    idle: Pin<Box<tokio::time::Sleep>>,
    finished: bool,
}

impl State {
    fn poll_chunk(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes, PayloadError>>> {
        if self.finished {
            return Poll::Ready(None);
        }
        match Pin::new(&mut self.payload).poll_next(cx) {
            Poll::Ready(None) => {
                self.finished = true;
                Poll::Ready(None)
            }
            Poll::Ready(Some(chunk)) => {
                let next = tokio::time::Instant::now() + self.timeout;
                self.idle.as_mut().reset(next);
                Poll::Ready(Some(chunk))
            }
            Poll::Pending => match self.idle.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Some(Err(PayloadError::Io(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "the body stopped coming",
                ))))),
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

/// Puts the request's body under watch.
pub(crate) fn watch(request: &mut ServiceRequest) -> Body {
    let timeout = request
        .app_data::<BodyTimeout>()
        .map_or(BODY_TIMEOUT, |timeout| timeout.0);
    let body = Body(Rc::new(RefCell::new(State {
        payload: request.take_payload(),
        timeout,
        idle: Box::pin(tokio::time::sleep(timeout)),
        finished: false,
    })));
    let watched: Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>> =
        Box::pin(Watched(body.clone()));
    request.set_payload(Payload::Stream { payload: watched });
    body
}

impl Body {
    /// Reads what the handler left of the body, within the idle timeout and the body limit;
    /// whether the body was read to its end before the answer (else its connection must close).
    pub(crate) async fn drain(&self) -> bool {
        let mut left = crate::JSON_BODY_LIMIT;
        loop {
            let chunk = std::future::poll_fn(|cx| self.0.borrow_mut().poll_chunk(cx)).await;
            match chunk {
                None => return true,
                Some(Ok(chunk)) if chunk.len() <= left => left -= chunk.len(),
                Some(_) => return false,
            }
        }
    }
}

/// The body as the handler reads it.
struct Watched(Body);

impl Stream for Watched {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0.0.borrow_mut().poll_chunk(cx)
    }
}
