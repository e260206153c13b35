//! `GET /api/live` attacked, in-process: each limit met the way an attacker meets it (a header
//! that announces a gibibyte, a frame trickled in, a ping flood, a client that never reads, many
//! sockets that never authenticate), with [`RawSocket`] as the attacker. The assertions are on
//! what the server spends, from the counters it exposes ([`conduit_web::LiveCounters`], the
//! connections it holds), never on how long anything took; every wait is for a counter to
//! change, bounded by [`PATIENCE`].

use std::time::Duration;

use conduit_test_support::hostile::{RawSocket, opcode};
use conduit_test_support::live::{LiveClient, PATIENCE, upgrade_request};
use conduit_web::{HttpSettings, LiveCounters, LiveSettings, TrustedProxies};
use serde_json::json;

use crate::live::{Served, add_comments, busy_article, serve, user_of};
use crate::support::Conduit;

/// Waits until the server's live counters satisfy `condition`; the counters then.
async fn until(
    served: &Served,
    what: &str,
    condition: impl Fn(&LiveCounters) -> bool,
) -> LiveCounters {
    let waited = tokio::time::timeout(PATIENCE, async {
        loop {
            let counters = served.state.hub.counters();
            if condition(&counters) {
                return counters;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    match waited {
        Ok(counters) => counters,
        Err(_) => panic!(
            "{what}: never happened; counters {:?}",
            served.state.hub.counters()
        ),
    }
}

/// Waits until the server holds `count` TCP connections.
async fn until_connections(served: &Served, count: usize) {
    let waited = tokio::time::timeout(PATIENCE, async {
        while served.connections.open() != count {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    assert!(
        waited.is_ok(),
        "the server holds {} connections, not {count}",
        served.connections.open()
    );
}

async fn served() -> Served {
    serve(LiveSettings::default(), HttpSettings::default()).await
}

#[actix_web::test]
async fn a_header_announcing_a_gibibyte_is_refused_before_any_of_it_is_buffered() {
    let served = served().await;
    let mut socket = RawSocket::upgraded(served.address, &[], None).await;

    socket
        .announce(opcode::TEXT, true, 1 << 30)
        .await
        .expect("the header goes");
    // Then the payload streams, until the server stops taking it.
    let chunk = vec![0_u8; 64 * 1024];
    for _ in 0..64 {
        if socket.send_bytes(&chunk).await.is_err() {
            break;
        }
    }

    let counters = until(&served, "a 1009 close", |c| c.closed("too_large") == 1).await;
    assert!(
        counters.buffered_peak_bytes < LiveSettings::MAX_FRAME as u64,
        "the server held {} bytes of a frame it should have refused",
        counters.buffered_peak_bytes
    );
    let ending = socket.read_to_end(PATIENCE).await;
    assert_eq!((ending.close_code, ending.ended), (Some(1009), true));
    until(&served, "letting go", |c| {
        c.open == 0 && c.buffered_bytes == 0
    })
    .await;
}

#[actix_web::test]
async fn an_incomplete_frame_under_the_limit_is_counted_while_held_and_released_with_its_socket() {
    let served = served().await;
    let mut socket = RawSocket::upgraded(served.address, &[], None).await;

    let half = LiveSettings::MAX_FRAME / 2;
    socket
        .announce(opcode::TEXT, true, LiveSettings::MAX_FRAME as u64)
        .await
        .expect("the header goes");
    socket
        .send_bytes(&vec![b'x'; half])
        .await
        .expect("half the payload goes");
    let held = until(&served, "half a frame held", |c| {
        c.buffered_bytes >= half as u64
    })
    .await;
    assert!(held.buffered_bytes < half as u64 + 64, "{held:?}");

    drop(socket);
    until(&served, "the bytes released", |c| {
        c.open == 0 && c.buffered_bytes == 0
    })
    .await;
}

#[actix_web::test]
async fn a_fragmented_message_over_the_limit_is_refused_from_its_second_header() {
    let served = served().await;
    let mut socket = RawSocket::upgraded(served.address, &[], None).await;

    socket
        .frame(
            opcode::TEXT,
            false,
            &vec![b'x'; LiveSettings::MAX_FRAME * 2 / 3],
        )
        .await
        .expect("the first fragment goes");
    // As much again makes a message over the limit, though each frame is under it.
    let _ = socket
        .announce(
            opcode::CONTINUATION,
            true,
            (LiveSettings::MAX_FRAME * 2 / 3) as u64,
        )
        .await;

    until(&served, "a 1009 close", |c| c.closed("too_large") == 1).await;
    let ending = socket.read_to_end(PATIENCE).await;
    assert_eq!(ending.close_code, Some(1009));
}

#[actix_web::test]
async fn a_ping_flood_is_closed_with_1008_before_it_is_authenticated() {
    let served = served().await;
    let mut socket = RawSocket::upgraded(served.address, &[], Some(4096)).await;

    // Pings, and never a read: each would cost the server a pong.
    for _ in 0..500 {
        if socket.ping().await.is_err() {
            break;
        }
    }

    let counters = until(&served, "a flood close", |c| c.closed("flood") == 1).await;
    assert_eq!(counters.closed("no_auth_in_time"), 0, "{counters:?}");
    let ending = socket.read_to_end(PATIENCE).await;
    assert_eq!((ending.close_code, ending.ended), (Some(1008), true));
}

#[actix_web::test]
async fn a_frame_trickled_in_cannot_hold_the_auth_deadline_open() {
    let live = LiveSettings {
        auth_timeout: Duration::from_millis(300),
        ..LiveSettings::default()
    };
    let served = serve(live, HttpSettings::default()).await;
    let mut socket = RawSocket::upgraded(served.address, &[], None).await;

    // A 1,000-byte auth message, a byte at a time, for as long as the server takes them.
    socket
        .announce(opcode::TEXT, true, 1000)
        .await
        .expect("the header goes");
    let mut trickle = tokio::time::interval(Duration::from_millis(20));
    let trickled = tokio::time::timeout(PATIENCE, async {
        while served.state.hub.counters().closed("no_auth_in_time") == 0 {
            trickle.tick().await;
            if socket.send_bytes(b"x").await.is_err() {
                break;
            }
        }
    })
    .await;

    assert!(trickled.is_ok(), "{:?}", served.state.hub.counters());
    until(&served, "a 4408 close", |c| {
        c.closed("no_auth_in_time") == 1 && c.open == 0
    })
    .await;
}

#[actix_web::test]
async fn a_client_that_never_reads_is_let_go_connection_and_all() {
    let live = LiveSettings {
        queue: 8,
        write_timeout: Duration::from_secs(1),
        ..LiveSettings::default()
    };
    let served = serve(live, HttpSettings::default()).await;
    let (author, reader, article) = busy_article(&served).await;
    let authorization = format!("Token {author}");
    let mut socket = RawSocket::upgraded(
        served.address,
        &[("authorization", &authorization)],
        Some(4096),
    )
    .await;
    until_connections(&served, 1).await;

    // The author reads nothing while comments pour in.
    add_comments(&served.store, article, user_of(&reader), 3000).await;

    // Whichever comes first lets it go: its queue filling (slow_consumer), a write waiting out
    // the write timeout (write_timeout), or the kernel dropping the connection (gone).
    let counters = until(&served, "letting go of the socket", |c| {
        c.closed("slow_consumer") + c.closed("write_timeout") + c.closed("gone") == 1 && c.open == 0
    })
    .await;
    assert_eq!(served.state.hub.connections(), 0, "{counters:?}");
    // The connection itself is gone, although the client never read what was sent to it.
    until_connections(&served, 0).await;
    let ending = socket.read_to_end(PATIENCE).await;
    assert!(ending.ended, "{ending:?}");
}

#[actix_web::test]
async fn sockets_waiting_to_authenticate_are_capped_per_address_and_in_all_and_sockets_per_instance()
 {
    let live = LiveSettings {
        max_unauthenticated_per_address: 2,
        max_unauthenticated: 3,
        max_connections: 4,
        ..LiveSettings::default()
    };
    let http = HttpSettings {
        trusted_proxies: TrustedProxies::parse("127.0.0.1").expect("an address"),
        ..HttpSettings::default()
    };
    let served = serve(live, http).await;
    let token = served.state.register("jake").await.token;
    let from = |address: &'static str| [("x-forwarded-for", address)];
    let refusal = |headers: &[(&str, &str)]| {
        let request = upgrade_request(&served.url(), "", headers);
        async move {
            match LiveClient::try_connect(request).await {
                Err(refused) => (refused.status, refused.body),
                Ok(_) => panic!("upgraded"),
            }
        }
    };

    let first = RawSocket::upgraded(served.address, &from("192.0.2.1"), None).await;
    let _second = RawSocket::upgraded(served.address, &from("192.0.2.1"), None).await;
    let (status, body) = refusal(&from("192.0.2.1")).await;
    assert_eq!(status, 429);
    assert_eq!(
        body["errors"]["live"].as_array().map(Vec::len),
        Some(1),
        "{body}"
    );
    let _other = RawSocket::upgraded(served.address, &from("192.0.2.2"), None).await;
    let (all_waiting, _) = refusal(&from("192.0.2.3")).await;
    let authorization = format!("Token {token}");
    let _authenticated =
        RawSocket::upgraded(served.address, &[("authorization", &authorization)], None).await;
    let (instance_full, body) = refusal(&[("authorization", &authorization)]).await;

    assert_eq!((all_waiting, instance_full), (503, 503));
    assert_eq!(
        body,
        json!({"errors": {"live": ["this server holds all the sockets it can; connect again"]}})
    );
    let counters = served.state.hub.counters();
    assert_eq!((counters.open, counters.unauthenticated), (4, 3));

    drop(first);
    until(&served, "a place freed", |c| c.open == 3).await;
    RawSocket::upgraded(served.address, &from("192.0.2.3"), None).await;
}

/// Sends `request` on a new connection and reads what comes back until the server closes it.
async fn raw_exchange(served: &Served, request: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(served.address)
        .await
        .expect("connects");
    stream.write_all(request.as_bytes()).await.expect("sends");
    let mut answer = Vec::new();
    tokio::time::timeout(PATIENCE, stream.read_to_end(&mut answer))
        .await
        .expect("the server closed the connection")
        .expect("reads");
    String::from_utf8_lossy(&answer).into_owned()
}

fn short_bodies() -> HttpSettings {
    HttpSettings {
        body_timeout: Some(Duration::from_millis(300)),
        ..HttpSettings::default()
    }
}

#[actix_web::test]
async fn a_body_that_stops_coming_fails_and_its_connection_closes() {
    let served = serve(LiveSettings::default(), short_bodies()).await;

    let answer = raw_exchange(
        &served,
        "POST /api/users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
         Content-Length: 100\r\n\r\n{",
    )
    .await;

    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("\"errors\""), "{answer}");
    until_connections(&served, 0).await;
}

#[actix_web::test]
async fn a_body_nobody_reads_closes_its_connection_after_the_answer() {
    let served = serve(LiveSettings::default(), short_bodies()).await;

    // A body that never ends, on a route that reads none. (A chunked one that never ends still
    // holds its connection in actix's decoder: nginx in front reads whole bodies first, within
    // its `client_body_timeout`.)
    let answer = raw_exchange(
        &served,
        "GET /api/tags HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nhello",
    )
    .await;

    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    until_connections(&served, 0).await;
}

#[actix_web::test]
async fn an_upgrade_that_announces_a_body_is_refused() {
    // The refused upgrade's body is drained within the idle timeout before the answer.
    let served = serve(LiveSettings::default(), short_bodies()).await;

    for body in [("transfer-encoding", "chunked"), ("content-length", "10")] {
        let refused = RawSocket::upgrade(served.address, &[body], None).await;
        assert_eq!(
            refused.map(drop).map_err(|refused| refused.status),
            Err(400),
            "{body:?}"
        );
    }
    assert_eq!(served.state.hub.counters().open, 0);
}
