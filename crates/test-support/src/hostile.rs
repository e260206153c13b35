//! [`RawSocket`]: a WebSocket client that misbehaves on purpose, over a plain TCP stream, for the
//! tests that attack the limits of `GET /api/live` as an attacker meets them: frame headers
//! that announce huge lengths and never finish, partial frames, ping floods, fragmented
//! messages over the limit, a client that never reads (with a small receive buffer, so that the
//! server's writes back up), and many sockets at once.
//!
//! It speaks just enough of RFC 6455 to do that: the upgrade, masked frames written by hand, and
//! a reader that finds the server's close frame in what it sends.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// WebSocket opcodes.
pub mod opcode {
    pub const CONTINUATION: u8 = 0x0;
    pub const TEXT: u8 = 0x1;
    pub const CLOSE: u8 = 0x8;
    pub const PING: u8 = 0x9;
}

/// How a socket ended, from the client's side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ending {
    /// Bytes read before the end.
    pub bytes: usize,
    /// The code of the server's close frame, if one came.
    pub close_code: Option<u16>,
    /// Whether the connection ended (EOF or reset) within the patience.
    pub ended: bool,
}

/// One raw connection to `GET /api/live`.
#[derive(Debug)]
pub struct RawSocket {
    stream: TcpStream,
}

/// The upgrade was refused: the status line's code and the body as far as it was read.
#[derive(Debug)]
pub struct Refused {
    pub status: u16,
    pub head: String,
}

impl RawSocket {
    /// Connects to `address` and upgrades `GET /api/live` with `headers` (`Authorization`,
    /// `Origin`, `X-Forwarded-For`, ...); `receive_buffer` shrinks the client's receive buffer
    /// before it connects, so that a client that does not read stops the server's writes soon.
    ///
    /// # Panics
    /// When the connection cannot be made: a mistake in the test, or a server that is not there.
    pub async fn upgrade(
        address: SocketAddr,
        headers: &[(&str, &str)],
        receive_buffer: Option<u32>,
    ) -> Result<Self, Refused> {
        Self::upgrade_from(None, address, "", headers, receive_buffer)
            .await
            .map_err(|refused| {
                refused.unwrap_or_else(|error| panic!("cannot connect to {address}: {error}"))
            })
    }

    /// [`RawSocket::upgrade`] from the local address `source` (one of many loopback addresses,
    /// for a client that opens sockets from many), with a query string (`?since=...`), telling
    /// a connection that failed (`Err(Err(_))`) from an upgrade that was refused (`Err(Ok(_))`).
    pub async fn upgrade_from(
        source: Option<IpAddr>,
        address: SocketAddr,
        query: &str,
        headers: &[(&str, &str)],
        receive_buffer: Option<u32>,
    ) -> Result<Self, Result<Refused, std::io::Error>> {
        let socket = if address.is_ipv4() {
            TcpSocket::new_v4()
        } else {
            TcpSocket::new_v6()
        }
        .map_err(Err)?;
        if let Some(size) = receive_buffer {
            socket.set_recv_buffer_size(size).map_err(Err)?;
        }
        if let Some(source) = source {
            socket.bind(SocketAddr::new(source, 0)).map_err(Err)?;
        }
        let mut stream = socket.connect(address).await.map_err(Err)?;
        let mut request = format!(
            "GET /api/live{query} HTTP/1.1\r\nHost: {address}\r\nUpgrade: websocket\r\n\
             Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        );
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str("\r\n");
        stream.write_all(request.as_bytes()).await.map_err(Err)?;
        // The head, byte by byte: nothing after it may be swallowed.
        let mut head = Vec::new();
        while !head.ends_with(b"\r\n\r\n") && head.len() < 16 * 1024 {
            let mut byte = [0_u8; 1];
            match stream.read(&mut byte).await {
                Ok(1) => head.push(byte[0]),
                _ => break,
            }
        }
        let head = String::from_utf8_lossy(&head).into_owned();
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or(0);
        if status == 101 {
            Ok(Self { stream })
        } else {
            Err(Ok(Refused { status, head }))
        }
    }

    /// A client that never reads: authenticated by `token`, resuming after `since`, with a
    /// receive buffer of 4 KiB, so that what it is sent soon fills the kernel's buffers.
    pub async fn non_reader(
        address: SocketAddr,
        token: &str,
        since: &str,
    ) -> Result<Self, Result<Refused, std::io::Error>> {
        let authorization = format!("Token {token}");
        Self::upgrade_from(
            None,
            address,
            &format!("?since={since}"),
            &[("authorization", &authorization)],
            Some(4096),
        )
        .await
    }

    /// [`RawSocket::upgrade`], which must succeed.
    ///
    /// # Panics
    /// When the upgrade is refused.
    pub async fn upgraded(
        address: SocketAddr,
        headers: &[(&str, &str)],
        receive_buffer: Option<u32>,
    ) -> Self {
        match Self::upgrade(address, headers, receive_buffer).await {
            Ok(socket) => socket,
            Err(refused) => panic!("the upgrade was refused: {}", refused.head),
        }
    }

    /// Sends raw bytes; an error means the server has let go.
    pub async fn send_bytes(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.stream.write_all(bytes).await
    }

    /// Sends a masked frame's header announcing `length` payload bytes, and none of them.
    pub async fn announce(&mut self, opcode: u8, fin: bool, length: u64) -> std::io::Result<()> {
        self.send_bytes(&header(opcode, fin, length)).await
    }

    /// Sends a whole masked frame (the mask is zero: the payload goes as it is).
    pub async fn frame(&mut self, opcode: u8, fin: bool, payload: &[u8]) -> std::io::Result<()> {
        let mut frame = header(opcode, fin, payload.len() as u64);
        frame.extend_from_slice(payload);
        self.send_bytes(&frame).await
    }

    pub async fn text(&mut self, text: &str) -> std::io::Result<()> {
        self.frame(opcode::TEXT, true, text.as_bytes()).await
    }

    pub async fn ping(&mut self) -> std::io::Result<()> {
        self.frame(opcode::PING, true, b"hi").await
    }

    /// Reads what the server sends until the connection ends or `patience` passes, and finds
    /// the server's close frame in it.
    pub async fn read_to_end(&mut self, patience: Duration) -> Ending {
        let mut received = Vec::new();
        let mut buffer = vec![0_u8; 64 * 1024];
        let deadline = tokio::time::Instant::now() + patience;
        let ended = loop {
            match tokio::time::timeout_at(deadline, self.stream.read(&mut buffer)).await {
                Ok(Ok(0) | Err(_)) => break true,
                Ok(Ok(read)) => received.extend_from_slice(&buffer[..read]),
                Err(_) => break false,
            }
        };
        Ending {
            bytes: received.len(),
            close_code: close_code(&received),
            ended,
        }
    }
}

/// A masked client frame header (mask key zero).
fn header(opcode: u8, fin: bool, length: u64) -> Vec<u8> {
    let mut header = vec![if fin { 0x80 } else { 0 } | opcode];
    match length {
        0..=125 => header.push(0x80 | length as u8),
        126..=0xFFFF => {
            header.push(0x80 | 126);
            header.extend_from_slice(&(length as u16).to_be_bytes());
        }
        _ => {
            header.push(0x80 | 127);
            header.extend_from_slice(&length.to_be_bytes());
        }
    }
    header.extend_from_slice(&[0, 0, 0, 0]);
    header
}

/// The code of the first close frame in a server's (unmasked) frames.
fn close_code(mut bytes: &[u8]) -> Option<u16> {
    while let [first, second, rest @ ..] = bytes {
        let (length, rest) = match second & 0x7F {
            126 => {
                let [a, b, rest @ ..] = rest else { return None };
                (usize::from(u16::from_be_bytes([*a, *b])), rest)
            }
            127 => {
                let (length, rest) = rest.split_first_chunk::<8>()?;
                (usize::try_from(u64::from_be_bytes(*length)).ok()?, rest)
            }
            short => (usize::from(short), rest),
        };
        let payload = rest.get(..length)?;
        if first & 0x0F == opcode::CLOSE {
            return match payload {
                [a, b, ..] => Some(u16::from_be_bytes([*a, *b])),
                _ => Some(1005),
            };
        }
        bytes = &rest[length..];
    }
    None
}

#[cfg(test)]
mod tests {
    use super::{close_code, header};

    #[test]
    fn headers_carry_their_length_in_the_shortest_form_and_a_mask() {
        assert_eq!(header(0x1, true, 5), vec![0x81, 0x85, 0, 0, 0, 0]);
        assert_eq!(header(0x9, true, 300)[..4], [0x89, 0xFE, 0x01, 0x2C]);
        assert_eq!(
            header(0x1, false, 1 << 30)[..10],
            [0x01, 0xFF, 0, 0, 0, 0, 0x40, 0, 0, 0]
        );
    }

    #[test]
    fn the_close_code_is_found_behind_other_frames() {
        let text = [0x81, 0x02, b'h', b'i'];
        let close = [0x88, 0x02, 0x03, 0xF1];
        assert_eq!(close_code(&[text, close].concat()), Some(1009));
        assert_eq!(close_code(&text), None);
    }
}
