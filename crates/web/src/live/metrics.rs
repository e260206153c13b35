//! What live sockets cost this instance, counted as it happens, and the caps on sockets that
//! are admitted before anyone knows who holds them.
//!
//! The counters are read by [`super::LiveHub::counters`]: the hostile-client tests assert on
//! them (bytes held in incomplete frames, sockets open, sockets closed by reason) rather than on
//! how long anything took.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// The counters of one instance's live sockets.
#[derive(Debug, Default)]
pub(crate) struct LiveMetrics {
    /// Sockets upgraded and not yet let go.
    open: AtomicUsize,
    /// Of those, the ones still waiting for their `auth` message, in all and by client address.
    unauthenticated: Mutex<Unauthenticated>,
    /// Bytes of frames that have begun to arrive and are not whole yet, over all sockets: what
    /// the WebSocket codec holds.
    buffered: AtomicU64,
    buffered_peak: AtomicU64,
    /// Sockets closed, by the reason's name.
    closed: Mutex<BTreeMap<&'static str, u64>>,
    /// Events of the outbox skipped because this version cannot read them.
    unreadable: AtomicU64,
}

#[derive(Debug, Default)]
struct Unauthenticated {
    total: usize,
    by_address: HashMap<IpAddr, usize>,
}

/// A snapshot of [`LiveMetrics`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LiveCounters {
    /// Sockets upgraded and not yet let go.
    pub open: usize,
    /// Sockets waiting for their `auth` message.
    pub unauthenticated: usize,
    /// Bytes held now in frames that are not whole yet, over all sockets.
    pub buffered_bytes: u64,
    /// The most that was ever held at once.
    pub buffered_peak_bytes: u64,
    /// Sockets closed, by reason (`too_large`, `slow_consumer`, `write_timeout`, ...).
    pub closed: BTreeMap<String, u64>,
    /// Events of the outbox the fan-out skipped because this version cannot read them.
    pub unreadable_events: u64,
}

impl LiveCounters {
    /// How many sockets were closed for `reason`.
    pub fn closed(&self, reason: &str) -> u64 {
        self.closed.get(reason).copied().unwrap_or(0)
    }
}

/// The caps that [`LiveMetrics::admit`] applies.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Caps {
    pub(crate) total: usize,
    pub(crate) unauthenticated: usize,
    pub(crate) unauthenticated_per_address: usize,
}

/// Why a socket was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Crowded {
    /// The instance holds `LIVE_MAX_CONNECTIONS` sockets.
    Instance,
    /// `LIVE_MAX_UNAUTHENTICATED` sockets are waiting for their `auth` message.
    Unauthenticated,
    /// This client address has `LIVE_MAX_UNAUTHENTICATED_PER_ADDRESS` sockets waiting.
    Address,
}

/// What one client holds: an IPv4 address, or an IPv6 address's /64, which one host is given
/// whole (counting its addresses one by one would give it 2^64 places).
fn network(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(_) => address,
        IpAddr::V6(v6) => {
            let segments = v6.segments();
            IpAddr::V6(std::net::Ipv6Addr::new(
                segments[0],
                segments[1],
                segments[2],
                segments[3],
                0,
                0,
                0,
                0,
            ))
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every change is made whole under the lock: a panic elsewhere cannot leave it half-made.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl LiveMetrics {
    pub(crate) fn counters(&self) -> LiveCounters {
        LiveCounters {
            open: self.open.load(Ordering::SeqCst),
            unauthenticated: lock(&self.unauthenticated).total,
            buffered_bytes: self.buffered.load(Ordering::SeqCst),
            buffered_peak_bytes: self.buffered_peak.load(Ordering::SeqCst),
            closed: lock(&self.closed)
                .iter()
                .map(|(reason, count)| ((*reason).to_owned(), *count))
                .collect(),
            unreadable_events: self.unreadable.load(Ordering::SeqCst),
        }
    }

    /// Admits one more socket, unauthenticated (waiting for its `auth` message, from `address`)
    /// or not, within the caps; the ticket holds its place until it is dropped.
    pub(crate) fn admit(
        self: &Arc<Self>,
        caps: Caps,
        unauthenticated_from: Option<Option<IpAddr>>,
    ) -> Result<Ticket, Crowded> {
        let mut waiting = lock(&self.unauthenticated);
        if self.open.load(Ordering::SeqCst) >= caps.total {
            return Err(Crowded::Instance);
        }
        let pending = match unauthenticated_from {
            None => None,
            Some(address) => {
                if waiting.total >= caps.unauthenticated {
                    return Err(Crowded::Unauthenticated);
                }
                let address = address.map(network);
                if let Some(address) = address {
                    let held = waiting.by_address.get(&address).copied().unwrap_or(0);
                    if held >= caps.unauthenticated_per_address {
                        return Err(Crowded::Address);
                    }
                    *waiting.by_address.entry(address).or_default() += 1;
                }
                waiting.total += 1;
                Some(address)
            }
        };
        // Counted under the same lock as the check, so that two admissions cannot both pass it.
        self.open.fetch_add(1, Ordering::SeqCst);
        Ok(Ticket {
            metrics: Arc::clone(self),
            pending,
        })
    }

    /// The fan-out skipped an event it cannot read.
    pub(crate) fn unreadable(&self) {
        self.unreadable.fetch_add(1, Ordering::SeqCst);
    }

    /// A socket closed for `reason`.
    pub(crate) fn closed(&self, reason: &'static str) {
        *lock(&self.closed).entry(reason).or_default() += 1;
    }

    /// A socket's incomplete frame went from `before` to `after` bytes.
    pub(crate) fn buffering(&self, before: u64, after: u64) {
        if after >= before {
            let now = self.buffered.fetch_add(after - before, Ordering::SeqCst) + (after - before);
            self.buffered_peak.fetch_max(now, Ordering::SeqCst);
        } else {
            self.buffered.fetch_sub(before - after, Ordering::SeqCst);
        }
    }

    fn leave_unauthenticated(&self, address: Option<IpAddr>) {
        let mut waiting = lock(&self.unauthenticated);
        waiting.total = waiting.total.saturating_sub(1);
        if let Some(address) = address
            && let Some(held) = waiting.by_address.get_mut(&address)
        {
            *held = held.saturating_sub(1);
            if *held == 0 {
                waiting.by_address.remove(&address);
            }
        }
    }
}

/// One admitted socket's place; dropping it gives the place back.
#[derive(Debug)]
pub(crate) struct Ticket {
    metrics: Arc<LiveMetrics>,
    /// `Some` while the socket waits for its `auth` message: the client's address, if known.
    pending: Option<Option<IpAddr>>,
}

impl Ticket {
    /// The socket has authenticated: it no longer counts as waiting.
    pub(crate) fn authenticated(&mut self) {
        if let Some(address) = self.pending.take() {
            self.metrics.leave_unauthenticated(address);
        }
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.authenticated();
        self.metrics.open.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr};
    use std::sync::Arc;

    use super::{Caps, Crowded, LiveMetrics};

    const CAPS: Caps = Caps {
        total: 3,
        unauthenticated: 2,
        unauthenticated_per_address: 1,
    };

    fn address(last: u8) -> Option<IpAddr> {
        Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, last)))
    }

    #[test]
    fn each_cap_refuses_the_socket_past_it_and_a_place_comes_back_when_its_ticket_drops() {
        let metrics = Arc::new(LiveMetrics::default());

        let first = metrics.admit(CAPS, Some(address(1))).expect("first");
        let same_address = metrics.admit(CAPS, Some(address(1))).map(drop);
        let mut second = metrics.admit(CAPS, Some(address(2))).expect("second");
        let third_waiting = metrics.admit(CAPS, Some(address(3))).map(drop);
        let authenticated = metrics.admit(CAPS, None).expect("by header");
        let past_total = metrics.admit(CAPS, None).map(drop);

        assert_eq!(same_address, Err(Crowded::Address));
        assert_eq!(third_waiting, Err(Crowded::Unauthenticated));
        assert_eq!(past_total, Err(Crowded::Instance));
        assert_eq!(metrics.counters().open, 3);
        assert_eq!(metrics.counters().unauthenticated, 2);

        second.authenticated();
        assert_eq!(metrics.counters().unauthenticated, 1);
        drop((first, second, authenticated));
        assert_eq!(metrics.counters().open, 0);
        assert_eq!(metrics.counters().unauthenticated, 0);
        assert!(metrics.admit(CAPS, Some(address(1))).is_ok());
    }

    #[test]
    fn ipv6_addresses_of_one_64_share_their_places() {
        let metrics = Arc::new(LiveMetrics::default());
        let v6 = |last: u16| {
            Some(IpAddr::V6(std::net::Ipv6Addr::new(
                0x2001, 0xdb8, 0, 1, 0, 0, 0, last,
            )))
        };

        let _first = metrics.admit(CAPS, Some(v6(1))).expect("first");
        let same_64 = metrics.admit(CAPS, Some(v6(2))).map(drop);
        let other_64 = metrics
            .admit(
                CAPS,
                Some(Some(IpAddr::V6(std::net::Ipv6Addr::new(
                    0x2001, 0xdb8, 0, 2, 0, 0, 0, 1,
                )))),
            )
            .map(drop);

        assert_eq!((same_64, other_64), (Err(Crowded::Address), Ok(())));
    }

    #[test]
    fn buffered_bytes_rise_and_fall_and_the_peak_stays() {
        let metrics = LiveMetrics::default();
        metrics.buffering(0, 100);
        metrics.buffering(0, 50);
        metrics.buffering(100, 0);
        let counters = metrics.counters();
        assert_eq!(
            (counters.buffered_bytes, counters.buffered_peak_bytes),
            (50, 150)
        );
    }
}
