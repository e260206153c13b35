//! The end of listening, without losing a connection: [`stop_handshakes`] makes the kernel drop
//! new connection requests on the listening socket while the handshakes already under way
//! complete and the connections already queued are accepted; only then does the server close it.
//!
//! Closing a listening socket resets every connection in its accept queue: connections the
//! kernel completed but the server had not yet taken. A proxy (nginx) may already have written a
//! request on such a connection; it cannot know whether the request was read, so it rightly does
//! not send a `POST` again, and its client gets a 502. A dropped SYN, by contrast, is one the
//! client's kernel sends again: by then the socket is closed, the retry is refused, and the proxy
//! takes the request to another instance, which is safe since nothing was sent.

use std::io;
use std::net::TcpListener;

/// A classic BPF socket filter: a TCP segment with SYN set is dropped, every other one kept. The
/// filter sees the segment from its TCP header, whose 14th byte holds the flags.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn drop_syns() -> [socket2::SockFilter; 4] {
    use socket2::SockFilter;
    const LOAD_BYTE_ABSOLUTE: u16 = 0x30;
    const JUMP_IF_SET: u16 = 0x45;
    const RETURN: u16 = 0x06;
    const FLAGS: u32 = 13;
    const SYN: u32 = 0x02;
    [
        SockFilter::new(LOAD_BYTE_ABSOLUTE, 0, 0, FLAGS),
        // Set: the next instruction (drop); clear: the one after it (keep).
        SockFilter::new(JUMP_IF_SET, 0, 1, SYN),
        SockFilter::new(RETURN, 0, 0, 0),
        SockFilter::new(RETURN, 0, 0, u32::MAX),
    ]
}

/// From now on the listening socket completes no new connection: new SYNs are dropped, while
/// handshakes under way (their final ACK) still complete, and the accept queue is still there to
/// be accepted. Elsewhere than on Linux: nothing (the socket is closed as before).
pub(crate) fn stop_handshakes(listener: &TcpListener) -> io::Result<()> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        socket2::SockRef::from(listener).attach_filter(&drop_syns())
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        let _ = listener;
        Ok(())
    }
}

#[cfg(all(test, any(target_os = "linux", target_os = "android")))]
mod tests {
    use std::io::{ErrorKind, Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::time::Duration;

    use super::stop_handshakes;

    #[test]
    fn a_queued_connection_is_still_accepted_while_a_new_one_never_completes_and_is_refused_once_closed()
     {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binds");
        let address = listener.local_addr().expect("bound");
        let mut queued = TcpStream::connect(address).expect("connects");
        queued.write_all(b"a request").expect("writes");

        stop_handshakes(&listener).expect("the filter");
        // If the SYN were let through, this would complete in microseconds.
        let late = TcpStream::connect_timeout(&address, Duration::from_millis(500));
        let (mut accepted, _) = listener.accept().expect("the queued connection");
        let mut request = [0_u8; 9];
        accepted.read_exact(&mut request).expect("its request");
        drop(listener);
        let after = TcpStream::connect(address);

        assert_eq!(
            late.map_err(|error| error.kind()).err(),
            Some(ErrorKind::TimedOut)
        );
        assert_eq!(&request, b"a request");
        assert_eq!(
            after.map_err(|error| error.kind()).err(),
            Some(ErrorKind::ConnectionRefused)
        );
    }
}
