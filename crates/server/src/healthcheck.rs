//! `conduit healthcheck`: asks a running instance's `/health/ready` and exits 0 when it answers
//! 200. The container image has no shell and no curl, so its `HEALTHCHECK` runs the binary itself.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::time::Duration;

/// Why the instance is not healthy, for the health check's output.
#[derive(Debug, thiserror::Error)]
pub enum Unhealthy {
    #[error("BIND_ADDR {0:?} is not an address and port")]
    Address(String),
    #[error("no answer from {address}: {source}")]
    Io {
        address: SocketAddr,
        source: std::io::Error,
    },
    #[error("readiness answered {0:?}")]
    Status(String),
}

/// Asks `/health/ready` of the instance bound to `bind_addr` (an unspecified address such as
/// `0.0.0.0` is asked on loopback), waiting at most `timeout` for each step.
pub fn check(bind_addr: &str, timeout: Duration) -> Result<(), Unhealthy> {
    let mut address: SocketAddr = bind_addr
        .parse()
        .map_err(|_| Unhealthy::Address(bind_addr.to_owned()))?;
    if address.ip().is_unspecified() {
        address.set_ip(match address.ip() {
            IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::LOCALHOST),
        });
    }
    let io = |source| Unhealthy::Io { address, source };
    let mut stream = TcpStream::connect_timeout(&address, timeout).map_err(io)?;
    stream.set_read_timeout(Some(timeout)).map_err(io)?;
    stream.set_write_timeout(Some(timeout)).map_err(io)?;
    stream
        .write_all(b"GET /health/ready HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .map_err(io)?;
    let mut answer = Vec::new();
    stream.take(4096).read_to_end(&mut answer).map_err(io)?;
    let status_line = String::from_utf8_lossy(&answer)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned();
    if status_line.split_whitespace().nth(1) == Some("200") {
        Ok(())
    } else {
        Err(Unhealthy::Status(status_line))
    }
}

#[cfg(test)]
mod tests {
    use std::net::TcpListener;

    use super::*;

    const TIMEOUT: Duration = Duration::from_secs(5);

    /// A one-request server that answers `reply`, on loopback; returns its port.
    fn answering(reply: &'static str) -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binds a port");
        let port = listener.local_addr().expect("has an address").port();
        std::thread::spawn(move || {
            if let Ok((mut stream, _)) = listener.accept() {
                let mut request = [0_u8; 1024];
                let _ = stream.read(&mut request);
                let _ = stream.write_all(reply.as_bytes());
            }
        });
        port
    }

    #[test]
    fn a_200_from_readiness_is_healthy_and_an_unspecified_address_is_asked_on_loopback() {
        let port = answering("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");

        let outcome = check(&format!("0.0.0.0:{port}"), TIMEOUT);

        assert!(outcome.is_ok(), "{outcome:?}");
    }

    #[test]
    fn a_503_from_readiness_is_unhealthy() {
        let port = answering("HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n");

        let outcome = check(&format!("127.0.0.1:{port}"), TIMEOUT);

        assert!(
            matches!(&outcome, Err(Unhealthy::Status(line)) if line.contains("503")),
            "{outcome:?}"
        );
    }

    #[test]
    fn nothing_listening_is_unhealthy() {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();

        let outcome = check(&format!("127.0.0.1:{port}"), TIMEOUT);

        assert!(matches!(outcome, Err(Unhealthy::Io { .. })), "{outcome:?}");
    }

    #[test]
    fn a_bind_address_that_is_not_one_is_refused() {
        assert!(matches!(
            check("localhost", TIMEOUT),
            Err(Unhealthy::Address(_))
        ));
    }
}
