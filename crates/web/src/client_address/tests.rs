use std::net::IpAddr;

use proptest::prelude::*;

use super::TrustedProxies;

fn ip(text: &str) -> IpAddr {
    text.parse().expect("an address")
}

/// One row: the trusted list, the socket peer, the `X-Forwarded-For` headers, and the client.
fn check(trusted: &str, peer: &str, forwarded_for: &[&str], client: &str) {
    let proxies = TrustedProxies::parse(trusted).expect("a valid list");

    let found = proxies.client(Some(ip(peer)), forwarded_for.iter().copied());

    assert_eq!(
        found,
        Some(ip(client)),
        "{trusted} / {peer} / {forwarded_for:?}"
    );
}

#[test]
fn the_client_is_the_first_untrusted_hop_from_the_right() {
    // No trusted proxies: the header is never read.
    check("", "203.0.113.7", &["198.51.100.1"], "203.0.113.7");
    // An untrusted peer's header is its own say-so.
    check(
        "10.0.0.0/8",
        "203.0.113.7",
        &["198.51.100.1"],
        "203.0.113.7",
    );
    // Behind one trusted proxy.
    check("10.0.0.0/8", "10.0.0.5", &["198.51.100.1"], "198.51.100.1");
    // A forged entry left of what the proxy appended changes nothing.
    check(
        "10.0.0.0/8",
        "10.0.0.5",
        &["1.1.1.1, 198.51.100.1"],
        "198.51.100.1",
    );
    // Two trusted proxies, the inner one written by the outer; a single address is trusted too.
    check(
        "10.0.0.0/8, 192.0.2.9",
        "10.0.0.5",
        &["198.51.100.1, 192.0.2.9"],
        "198.51.100.1",
    );
    // Several headers are one list, in order.
    check(
        "10.0.0.0/8",
        "10.0.0.5",
        &["1.1.1.1", "198.51.100.1"],
        "198.51.100.1",
    );
    // Every hop trusted: the leftmost is as far as anyone vouches.
    check(
        "10.0.0.0/8",
        "10.0.0.5",
        &["10.0.0.1, 10.0.0.2"],
        "10.0.0.1",
    );
    // A trusted proxy that forwarded no header, or one that is not an address.
    check("10.0.0.0/8", "10.0.0.5", &[], "10.0.0.5");
    check("10.0.0.0/8", "10.0.0.5", &["unknown"], "10.0.0.5");
    check(
        "10.0.0.0/8",
        "10.0.0.5",
        &["198.51.100.1, unknown"],
        "10.0.0.5",
    );
    // IPv6, and an IPv4 peer seen through a dual-stack socket.
    check("::1", "::1", &["2001:db8::7"], "2001:db8::7");
    check(
        "127.0.0.1",
        "::ffff:127.0.0.1",
        &["198.51.100.1"],
        "198.51.100.1",
    );
}

#[test]
fn a_list_entry_that_is_neither_an_address_nor_a_network_is_refused() {
    assert_eq!(TrustedProxies::parse(" , "), Ok(TrustedProxies::default()));
    assert_ne!(
        TrustedProxies::parse("10.0.0.0/8"),
        Ok(TrustedProxies::default())
    );
    let error = TrustedProxies::parse("10.0.0.0/8, nginx").expect_err("a host name");
    assert!(error.contains("\"nginx\""), "{error}");
    assert!(TrustedProxies::parse("10.0.0.0/33").is_err());
}

fn any_ipv4() -> impl Strategy<Value = IpAddr> {
    any::<[u8; 4]>().prop_map(IpAddr::from)
}

proptest! {
    /// Whatever a client writes into the header before it reaches the proxy, the proxy's own
    /// entry (the address it saw) is the answer, if that address is not itself a proxy.
    #[test]
    fn nothing_a_client_forges_moves_its_address(
        forged in prop::collection::vec(any_ipv4(), 0..6),
        client in any_ipv4().prop_filter("not a proxy", |address| !matches!(address, IpAddr::V4(v4) if v4.octets()[0] == 10)),
    ) {
        let proxies = TrustedProxies::parse("10.0.0.0/8").expect("a valid list");
        let mut header: Vec<String> = forged.iter().map(ToString::to_string).collect();
        header.push(client.to_string());
        let header = header.join(", ");

        let found = proxies.client(Some(ip("10.0.0.5")), [header.as_str()]);

        prop_assert_eq!(found, Some(client));
    }
}
