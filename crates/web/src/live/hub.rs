//! [`LiveHub`]: the sockets this instance holds, by user, and the fan-out that reads the outbox
//! and hands each event's frame to the sockets of its recipients.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use bytestring::ByteString;
use conduit_domain::accounts::UserId;
use conduit_domain::live::{Dispatch, EventId, Live, StoredEvent, unheard};
use conduit_domain::ports::{SessionId, StoreError};
use tokio::sync::{Notify, mpsc, watch};

use super::LiveSettings;
use super::metrics::{Caps, Crowded, LiveCounters, LiveMetrics, Ticket};
use crate::dto::live::ServerFrame;

/// Why the server closes a socket, with the close code the client sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Closing {
    /// 1001: the server is shutting down.
    Shutdown,
    /// 1008: the socket's queue of unsent frames passed its bound.
    SlowConsumer,
    /// 4401: the socket's session ended (logout, revocation).
    SessionEnded,
}

/// Why a socket could not join the hub.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The user holds `LIVE_MAX_CONNECTIONS_PER_USER` sockets already.
    TooMany,
    ShuttingDown,
    /// The socket's session ended after it was checked and before it joined.
    SessionEnded,
}

/// How many ended sessions the hub remembers: a socket is checked and joins within
/// milliseconds, and far fewer sessions end in that time.
const ENDED_REMEMBERED: usize = 1024;

/// One registered socket, as the hub reaches it.
#[derive(Debug)]
struct Member {
    id: u64,
    session: SessionId,
    frames: mpsc::Sender<(EventId, ByteString)>,
    closing: watch::Sender<Option<Closing>>,
}

#[derive(Debug, Default)]
struct Members {
    by_user: HashMap<UserId, Vec<Member>>,
    /// The newest event handed out: a socket that joins now gets every later one.
    last: EventId,
    next_id: u64,
    /// The sessions whose end was handed out most recently: a socket of one of them that was
    /// checked before the end and joins after it is refused, or it would stay open.
    ended: std::collections::VecDeque<SessionId>,
    /// When an unreadable event was last logged, and how many were skipped without a line since:
    /// a million bad rows make a line a second, not a million.
    unreadable_logged: Option<std::time::Instant>,
    unreadable_unlogged: u64,
}

impl Members {
    fn count(&self) -> usize {
        self.by_user.values().map(Vec::len).sum()
    }
}

#[derive(Debug)]
struct Inner {
    settings: LiveSettings,
    members: Mutex<Members>,
    /// How many sockets are registered, for waiting until none is.
    count: watch::Sender<usize>,
    /// `true` once shutdown began: sockets still authenticating close too.
    stopping: watch::Sender<bool>,
    metrics: Arc<LiveMetrics>,
    /// Turns to replay (`LiveSettings::replays_at_once`).
    replays: tokio::sync::Semaphore,
}

/// The live sockets of this instance. Cheap to clone: every clone is the same hub.
#[derive(Debug, Clone)]
pub struct LiveHub {
    inner: Arc<Inner>,
}

/// A socket's membership: its frames, and the reason the hub closes it. Dropping it leaves the
/// hub.
#[derive(Debug)]
pub(crate) struct Membership {
    hub: LiveHub,
    user: UserId,
    id: u64,
    /// The newest event before this socket joined: later ones arrive in `frames`.
    pub(crate) live_from: EventId,
    /// Each with its event's id: a socket that resumed past where this instance's fan-out is
    /// drops what it was already given.
    pub(crate) frames: mpsc::Receiver<(EventId, ByteString)>,
    pub(crate) closing: watch::Receiver<Option<Closing>>,
}

impl Drop for Membership {
    fn drop(&mut self) {
        let mut members = self.hub.lock();
        remove(&mut members, self.user, |member| member.id == self.id);
        self.hub.inner.count.send_replace(members.count());
    }
}

/// Removes the user's members that `doomed` picks, and the user when none is left.
fn remove(members: &mut Members, user: UserId, doomed: impl Fn(&Member) -> bool) {
    if let Some(sockets) = members.by_user.get_mut(&user) {
        sockets.retain(|member| !doomed(member));
        if sockets.is_empty() {
            members.by_user.remove(&user);
        }
    }
}

impl LiveHub {
    /// A hub that hands out the events after `head`, the outbox's newest id at start: history
    /// is for resuming clients, not for new sockets.
    pub fn new(settings: LiveSettings, head: EventId) -> Self {
        let replays = tokio::sync::Semaphore::new(settings.replays_at_once.max(1));
        Self {
            inner: Arc::new(Inner {
                members: Mutex::new(Members {
                    last: head,
                    ..Members::default()
                }),
                count: watch::Sender::new(0),
                stopping: watch::Sender::new(false),
                metrics: Arc::default(),
                replays,
                settings,
            }),
        }
    }

    pub(crate) fn settings(&self) -> &LiveSettings {
        &self.inner.settings
    }

    fn lock(&self) -> MutexGuard<'_, Members> {
        // Every change to the members is made whole under the lock: a panic elsewhere cannot
        // leave them half-changed.
        self.inner
            .members
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// What this instance's live sockets cost now, and how many closed for which reason.
    pub fn counters(&self) -> LiveCounters {
        self.inner.metrics.counters()
    }

    /// A turn to replay; waits while `replays_at_once` sockets replay.
    pub(crate) async fn replay_turn(&self) -> tokio::sync::SemaphorePermit<'_> {
        // The semaphore is never closed: acquiring cannot fail.
        loop {
            if let Ok(permit) = self.inner.replays.acquire().await {
                return permit;
            }
        }
    }

    pub(crate) fn metrics(&self) -> &Arc<LiveMetrics> {
        &self.inner.metrics
    }

    /// Admits a socket within `LIVE_MAX_CONNECTIONS`, and, for one that will authenticate by its
    /// first message (`unauthenticated_from` its client's address), within the caps on sockets
    /// waiting to authenticate.
    pub(crate) fn admit(
        &self,
        unauthenticated_from: Option<Option<std::net::IpAddr>>,
    ) -> Result<Ticket, Crowded> {
        let settings = &self.inner.settings;
        self.inner.metrics.admit(
            Caps {
                total: settings.max_connections,
                unauthenticated: settings.max_unauthenticated,
                unauthenticated_per_address: settings.max_unauthenticated_per_address,
            },
            unauthenticated_from,
        )
    }

    /// How many sockets are registered now.
    pub fn connections(&self) -> usize {
        *self.inner.count.borrow()
    }

    /// Waits until exactly `count` sockets are registered.
    pub async fn wait_for_connections(&self, count: usize) {
        let mut watching = self.inner.count.subscribe();
        // The sender lives in `self`: waiting cannot fail.
        let _ = watching.wait_for(|now| *now == count).await;
    }

    /// Registers a socket of `user` in `session`.
    pub(crate) fn join(&self, user: UserId, session: SessionId) -> Result<Membership, Refusal> {
        let mut members = self.lock();
        // Read under the lock `shut_down` holds while it sets it: no socket joins after it.
        if *self.inner.stopping.borrow() {
            return Err(Refusal::ShuttingDown);
        }
        if members.ended.contains(&session) {
            return Err(Refusal::SessionEnded);
        }
        let held = members.by_user.get(&user).map_or(0, Vec::len);
        if held >= self.inner.settings.max_connections_per_user {
            return Err(Refusal::TooMany);
        }
        members.next_id += 1;
        let id = members.next_id;
        let (frames_in, frames) = mpsc::channel(self.inner.settings.queue);
        let (closing_in, closing) = watch::channel(None);
        members.by_user.entry(user).or_default().push(Member {
            id,
            session,
            frames: frames_in,
            closing: closing_in,
        });
        let live_from = members.last;
        self.inner.count.send_replace(members.count());
        Ok(Membership {
            hub: self.clone(),
            user,
            id,
            live_from,
            frames,
            closing,
        })
    }

    /// Whether shutdown has begun, to watch while a socket authenticates.
    pub(crate) fn stopping(&self) -> watch::Receiver<bool> {
        self.inner.stopping.subscribe()
    }

    /// Begins shutdown: every socket closes with 1001, and none may join.
    pub fn shut_down(&self) {
        let members = self.lock();
        self.inner.stopping.send_replace(true);
        for member in members.by_user.values().flatten() {
            member.closing.send_replace(Some(Closing::Shutdown));
        }
    }

    /// Hands out the event `id`. Called in id order, by one fan-out.
    fn hand_out(&self, id: EventId, dispatch: Dispatch) {
        let frame = match &dispatch {
            Dispatch::Deliver { delivery, .. } => Some(ByteString::from(
                ServerFrame::from((**delivery).clone()).to_text(),
            )),
            _ => None,
        };
        let mut members = self.lock();
        self.give(&mut members, id, dispatch, frame);
    }

    /// Hands out `events` as [`unheard`] says, and `true`, when no socket is registered: then
    /// nothing about them needs reading (whose article, which followers). Under one lock with the
    /// check, so that a socket that joins meanwhile goes live after them, and is owed none.
    /// `false`, handing out nothing, when a socket is registered.
    fn pass_over_unheard(&self, events: &[StoredEvent]) -> bool {
        let mut members = self.lock();
        if !members.by_user.is_empty() {
            return false;
        }
        for event in events {
            self.give(&mut members, event.id, unheard(event), None);
        }
        true
    }

    /// [`Self::hand_out`] under the lock, with the frame of a delivery.
    fn give(
        &self,
        members: &mut Members,
        id: EventId,
        dispatch: Dispatch,
        frame: Option<ByteString>,
    ) {
        members.last = members.last.max(id);
        match (dispatch, frame) {
            (Dispatch::Deliver { recipients, .. }, Some(frame)) => {
                for user in recipients {
                    let Some(sockets) = members.by_user.get(&user) else {
                        continue;
                    };
                    let mut slow = Vec::new();
                    for member in sockets {
                        if let Err(mpsc::error::TrySendError::Full(_)) =
                            member.frames.try_send((id, frame.clone()))
                        {
                            member.closing.send_replace(Some(Closing::SlowConsumer));
                            slow.push(member.id);
                        }
                    }
                    if !slow.is_empty() {
                        tracing::info!(user = %user, sockets = slow.len(), "closing slow live sockets");
                        remove(members, user, |member| slow.contains(&member.id));
                    }
                }
            }
            (Dispatch::EndSession(session), _) => {
                if members.ended.len() == ENDED_REMEMBERED {
                    members.ended.pop_front();
                }
                members.ended.push_back(session);
                for member in members.by_user.values().flatten() {
                    if member.session == session {
                        member.closing.send_replace(Some(Closing::SessionEnded));
                    }
                }
            }
            (Dispatch::Unreadable { kind }, _) => {
                // The fan-out hands each event out once, and moves on; the log says so at most
                // once a second, with how many it did not name, and the kind cut short (a row
                // may hold anything).
                self.inner.metrics.unreadable();
                let now = std::time::Instant::now();
                let quiet = members.unreadable_logged.is_some_and(|logged| {
                    now.duration_since(logged) < std::time::Duration::from_secs(1)
                });
                if quiet {
                    members.unreadable_unlogged += 1;
                } else {
                    let kind: String = kind.chars().take(64).collect();
                    let also_skipped = std::mem::take(&mut members.unreadable_unlogged);
                    tracing::warn!(
                        id = %id.0, %kind, also_skipped,
                        "skipping a live event this version cannot read"
                    );
                    members.unreadable_logged = Some(now);
                }
            }
            _ => {}
        }
        self.inner.count.send_replace(members.count());
    }

    /// Reads and hands out the events after the last handed out: whether there were any.
    async fn catch_up_once(&self, live: &Live) -> Result<bool, StoreError> {
        let after = self.lock().last;
        let events = live.events(after).await?;
        if events.is_empty() {
            return Ok(false);
        }
        if !self.pass_over_unheard(&events) {
            for (id, dispatch) in live.resolve(events).await? {
                self.hand_out(id, dispatch);
            }
        }
        Ok(true)
    }

    /// The fan-out: each time `wake` fires, and every `poll_every` it has not, reads the outbox
    /// after the last event handed out and hands out what it finds, until it is caught up; every
    /// `prune_every`, forgets the events older than the retention. Runs until the task is
    /// dropped.
    pub async fn run(self, live: Live, wake: Arc<Notify>) {
        const RETRY: Duration = Duration::from_secs(1);
        let mut prune = tokio::time::interval(self.inner.settings.prune_every);
        let poll_every = self.inner.settings.poll_every;
        loop {
            tokio::select! {
                () = wake.notified() => {}
                () = tokio::time::sleep(poll_every) => {}
                _ = prune.tick() => {
                    match live.prune().await {
                        Ok(0) => {}
                        Ok(pruned) => tracing::info!(pruned, "pruned old live events"),
                        Err(error) => tracing::warn!(%error, "cannot prune live events"),
                    }
                    continue;
                }
            }
            loop {
                match self.catch_up_once(&live).await {
                    Ok(true) => {}
                    Ok(false) => break,
                    Err(error) => {
                        // The database is away (restarting, unreachable): try again shortly;
                        // the last id handed out is where the fan-out resumes.
                        tracing::warn!(%error, "cannot read live events; retrying");
                        tokio::time::sleep(RETRY).await;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
