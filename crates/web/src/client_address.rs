//! Who the client is, behind the reverse proxies the operator trusts (`TRUSTED_PROXIES`).
//!
//! A proxy appends the address it received a request from to `X-Forwarded-For`; anything to the
//! left of that was written by whoever sent the request and may be forged. So the header is read
//! from the right, only while the hop that wrote it is a trusted proxy, and the client is the
//! first address that is not one. With no trusted proxies the header is never read: the client is
//! the socket's peer. Login throttling keys on this address.

use std::net::IpAddr;

use actix_web::HttpRequest;
use actix_web::http::header::HeaderName;
use ipnet::IpNet;

const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// The addresses and networks whose `X-Forwarded-For` is believed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// A comma-separated list of addresses (`10.0.0.7`, `::1`) and networks (`10.0.0.0/8`).
    pub fn parse(list: &str) -> Result<Self, String> {
        list.split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(|entry| {
                entry
                    .parse::<IpNet>()
                    .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| {
                        format!("{entry:?} is not an IP address or a network such as 10.0.0.0/8")
                    })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    fn trusts(&self, address: IpAddr) -> bool {
        self.0.iter().any(|network| network.contains(&address))
    }

    /// The client's address: `peer` is the socket's, `forwarded_for` the values of every
    /// `X-Forwarded-For` header in the order received.
    pub fn client<'a>(
        &self,
        peer: Option<IpAddr>,
        forwarded_for: impl IntoIterator<Item = &'a str>,
    ) -> Option<IpAddr> {
        let peer = peer.map(|address| address.to_canonical())?;
        if !self.trusts(peer) {
            return Some(peer);
        }
        let hops: Vec<&str> = forwarded_for
            .into_iter()
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .collect();
        let mut client = peer;
        for hop in hops.iter().rev() {
            // A hop that is not an address was not written by a proxy we trust: stop at the last
            // address a trusted proxy vouched for.
            let Ok(address) = hop.parse::<IpAddr>().map(|address| address.to_canonical()) else {
                break;
            };
            client = address;
            if !self.trusts(address) {
                break;
            }
        }
        Some(client)
    }

    /// [`Self::client`] of a request.
    pub(crate) fn client_of(&self, request: &HttpRequest) -> Option<IpAddr> {
        let forwarded_for = request
            .headers()
            .get_all(X_FORWARDED_FOR)
            // A value that is not text stops the walk there, as an unreadable hop does.
            .map(|value| value.to_str().unwrap_or(""));
        self.client(
            request.peer_addr().map(|address| address.ip()),
            forwarded_for,
        )
    }
}

#[cfg(test)]
mod tests;
