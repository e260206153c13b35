//! [`FrameGuard`]: the limits on what a client sends, enforced from each frame's header before
//! its payload is buffered.
//!
//! actix-http's WebSocket codec compares a frame's length with its limit only once the whole
//! frame has arrived (`Parser::parse` returns "not enough data" first), so a client that
//! announces a 1 GiB frame and then streams it makes the server buffer all of it. The guard sits
//! between the connection's payload and actix-ws's `MessageStream`: it reads the headers as the
//! bytes pass, and fails the stream the moment a header announces a frame, or a fragmented
//! message, over the limit. The codec behind it still parses, unmasks and checks every frame as
//! before.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use actix_web::error::PayloadError;
use actix_web::web::Bytes;
use futures_core::Stream;

use super::metrics::LiveMetrics;

/// The longest header: 2 bytes, an 8-byte extended length and a 4-byte mask.
const MAX_HEADER: usize = 14;

/// Where the guard is in the byte stream.
#[derive(Debug)]
enum Position {
    /// Reading a header: the bytes so far.
    Header {
        bytes: [u8; MAX_HEADER],
        have: usize,
    },
    /// Inside a frame's payload: how much of it is still to come.
    Payload { remaining: u64 },
}

/// A payload stream that refuses frames and messages over `max` bytes from their headers.
pub(crate) struct FrameGuard<S> {
    inner: S,
    max: u64,
    position: Position,
    /// The bytes of the fragmented message under way, announced so far.
    message: u64,
    /// The bytes of the current, incomplete frame that have passed: what the codec behind the
    /// guard holds until the frame is whole.
    partial: u64,
    meter: Arc<LiveMetrics>,
    /// Set when the guard refused a frame: the socket closes with 1009 rather than 1002.
    oversized: Arc<AtomicBool>,
    failed: bool,
}

impl<S> FrameGuard<S> {
    pub(crate) fn new(
        inner: S,
        max: usize,
        meter: Arc<LiveMetrics>,
        oversized: Arc<AtomicBool>,
    ) -> Self {
        Self {
            inner,
            max: max as u64,
            position: Position::Header {
                bytes: [0; MAX_HEADER],
                have: 0,
            },
            message: 0,
            partial: 0,
            meter,
            oversized,
            failed: false,
        }
    }

    /// Follows `chunk` through the frames; `Err` when a header announces too much.
    fn inspect(&mut self, chunk: &[u8]) -> Result<(), PayloadError> {
        let mut rest = chunk;
        while !rest.is_empty() {
            match &mut self.position {
                Position::Payload { remaining } => {
                    let take = (*remaining).min(rest.len() as u64);
                    *remaining -= take;
                    self.partial += take;
                    // `take` is at most `rest.len()`.
                    rest = &rest[usize::try_from(take).unwrap_or(rest.len())..];
                    if *remaining == 0 {
                        self.frame_done();
                    }
                }
                Position::Header { bytes, have } => {
                    bytes[*have] = rest[0];
                    *have += 1;
                    rest = &rest[1..];
                    self.partial += 1;
                    if let Some(length) = announced(&bytes[..*have]) {
                        let opcode = bytes[0] & 0x0F;
                        let fin = bytes[0] & 0x80 != 0;
                        self.frame_started(opcode, fin, length)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// A header is whole: checks its length, and the message's.
    fn frame_started(&mut self, opcode: u8, fin: bool, length: u64) -> Result<(), PayloadError> {
        let control = opcode & 0x08 != 0;
        if !control {
            // A text or binary frame starts a message; a continuation (0) adds to it.
            self.message = if opcode == 0 {
                self.message.saturating_add(length)
            } else {
                length
            };
        }
        if length > self.max || (!control && self.message > self.max) {
            return Err(PayloadError::Overflow);
        }
        if !control && fin {
            self.message = 0;
        }
        self.position = Position::Payload { remaining: length };
        if length == 0 {
            self.frame_done();
        }
        Ok(())
    }

    fn frame_done(&mut self) {
        self.position = Position::Header {
            bytes: [0; MAX_HEADER],
            have: 0,
        };
        self.partial = 0;
    }
}

/// The payload length a frame header announces, once `header` holds all of it (mask included).
fn announced(header: &[u8]) -> Option<u64> {
    let [_, second, ..] = header else {
        return None;
    };
    let masked = second & 0x80 != 0;
    let (length, extended) = match second & 0x7F {
        126 => (None, 2),
        127 => (None, 8),
        short => (Some(u64::from(short)), 0),
    };
    let mask = if masked { 4 } else { 0 };
    if header.len() < 2 + extended + mask {
        return None;
    }
    length.or_else(|| {
        let mut value = 0_u64;
        for byte in &header[2..2 + extended] {
            value = (value << 8) | u64::from(*byte);
        }
        Some(value)
    })
}

impl<S> Stream for FrameGuard<S>
where
    S: Stream<Item = Result<Bytes, PayloadError>> + Unpin,
{
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.failed {
            return Poll::Ready(None);
        }
        let polled = Pin::new(&mut self.inner).poll_next(cx);
        let Poll::Ready(Some(Ok(chunk))) = polled else {
            return polled;
        };
        let before = self.partial;
        match self.inspect(&chunk) {
            Ok(()) => {
                self.meter.buffering(before, self.partial);
                Poll::Ready(Some(Ok(chunk)))
            }
            Err(error) => {
                // Nothing of this chunk goes on: the socket closes with 1009.
                self.failed = true;
                self.meter.buffering(before, 0);
                self.partial = 0;
                self.oversized.store(true, Ordering::SeqCst);
                Poll::Ready(Some(Err(error)))
            }
        }
    }
}

impl<S> Drop for FrameGuard<S> {
    fn drop(&mut self) {
        self.meter.buffering(self.partial, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::announced;

    #[test]
    fn a_header_announces_its_length_once_it_is_whole() {
        // Masked text frame of 5 bytes: 2 bytes and a 4-byte mask.
        assert_eq!(announced(&[0x81, 0x85]), None);
        assert_eq!(announced(&[0x81, 0x85, 1, 2, 3]), None);
        assert_eq!(announced(&[0x81, 0x85, 1, 2, 3, 4]), Some(5));
        // 16-bit length.
        assert_eq!(announced(&[0x81, 0x7E, 0x01, 0x00]), Some(256));
        // 64-bit length, masked: 1 GiB.
        let mut header = vec![0x81, 0xFF, 0, 0, 0, 0, 0x40, 0, 0, 0];
        assert_eq!(announced(&header), None);
        header.extend([9, 9, 9, 9]);
        assert_eq!(announced(&header), Some(1 << 30));
    }
}
