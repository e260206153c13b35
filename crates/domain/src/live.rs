//! Live updates: the events a user receives over `GET /api/live`, who receives each one, and how
//! a client that was away resumes.
//!
//! The store appends a [`StoredEvent`] to its outbox ([`EventLog`]) in the same transaction as
//! the change that causes it. An instance reads the outbox in id order and turns each event into
//! a [`Dispatch`]: the users who receive it and the [`Delivery`] they see. Who receives what is
//! decided here ([`audience`]); the web layer only moves frames.

use std::fmt;
use std::sync::Arc;

use time::Duration;

use crate::Timestamp;
use crate::accounts::UserId;
use crate::articles::{ArticleId, ArticleSummary, Comment, CommentId, Slug};
use crate::ports::{
    ArticleRepository, Clock, CommentRepository, EventLog, ProfileRepository, SessionId, StoreError,
};
use crate::profiles::Profile;
use crate::validation::InvalidValue;

/// An event's place in the outbox: ids grow in commit order. Clients see it as a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct EventId(pub i64);

impl EventId {
    /// Parses an id as a client sends it back (`since`): a non-negative decimal integer.
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        match raw.parse::<i64>() {
            Ok(id) if id >= 0 && !raw.starts_with('+') => Ok(Self(id)),
            _ => Err(InvalidValue::Malformed),
        }
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// What happened, as the outbox records it: ids only, so that an event is small and what a
/// client sees is read when it is delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    ArticleCreated {
        article: ArticleId,
        slug: Slug,
        author: UserId,
    },
    CommentCreated {
        article: ArticleId,
        slug: Slug,
        article_author: UserId,
        comment: CommentId,
        commenter: UserId,
    },
    ArticleFavorited {
        article: ArticleId,
        slug: Slug,
        article_author: UserId,
        by: UserId,
    },
    /// A session was revoked (logout, logout everywhere, a password change, a reused refresh
    /// token): its sockets close, wherever they are connected.
    SessionEnded { session: SessionId },
    /// An event this version cannot read: a kind it does not know (one that a newer version,
    /// in a rolling deploy, writes already), or a row that lacks what its kind needs. Nobody is
    /// told of it, and nothing after it is held up.
    Unreadable { kind: String },
}

impl Change {
    /// The kind as the outbox names it.
    pub fn kind(&self) -> &str {
        match self {
            Self::ArticleCreated { .. } => "article.created",
            Self::CommentCreated { .. } => "comment.created",
            Self::ArticleFavorited { .. } => "article.favorited",
            Self::SessionEnded { .. } => "session.ended",
            Self::Unreadable { kind } => kind,
        }
    }
}

/// One event of the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    pub id: EventId,
    /// When the store recorded it.
    pub at: Timestamp,
    pub change: Change,
}

/// Where the outbox stands: its newest id, and the newest id pruning removed (0: none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LogBounds {
    pub head: EventId,
    pub pruned_through: EventId,
}

/// Who receives an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// Everyone who follows this user.
    FollowersOf(UserId),
    One(UserId),
    /// Nobody: one's own comment or favourite on one's own article.
    Nobody,
    /// Not a message: the sockets of this session close.
    Session(SessionId),
}

/// The audience rule: a new article goes to its author's followers; a comment or a favourite
/// goes to the article's author, unless they made it themselves.
pub fn audience(change: &Change) -> Audience {
    match *change {
        Change::ArticleCreated { author, .. } => Audience::FollowersOf(author),
        Change::CommentCreated {
            article_author,
            commenter: actor,
            ..
        }
        | Change::ArticleFavorited {
            article_author,
            by: actor,
            ..
        } => {
            if actor == article_author {
                Audience::Nobody
            } else {
                Audience::One(article_author)
            }
        }
        Change::SessionEnded { session } => Audience::Session(session),
        Change::Unreadable { .. } => Audience::Nobody,
    }
}

/// What `event` asks of a fan-out that holds no socket, found without reading anything: the end
/// of a session (a socket checked before it may join after it, and must be refused), an event
/// that cannot be read (to count), and nothing for every message, which nobody is there to
/// receive.
pub fn unheard(event: &StoredEvent) -> Dispatch {
    match (&event.change, audience(&event.change)) {
        (Change::Unreadable { kind }, _) => Dispatch::Unreadable { kind: kind.clone() },
        (_, Audience::Session(session)) => Dispatch::EndSession(session),
        _ => Dispatch::Nothing,
    }
}

/// What a receiving user is told, in the contract's shapes, as they see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A new article by an author the user follows (no body, as in lists).
    ArticleCreated { article: ArticleSummary },
    /// A new comment on one of the user's articles.
    CommentCreated { slug: Slug, comment: Comment },
    /// Someone favourited one of the user's articles.
    ArticleFavorited {
        slug: Slug,
        favorites_count: u64,
        profile: Profile,
    },
}

/// An event as delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub id: EventId,
    pub at: Timestamp,
    pub message: Message,
}

/// What to do with one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dispatch {
    /// Send `delivery` to each of `recipients` (those of them who are connected).
    Deliver {
        recipients: Vec<UserId>,
        delivery: Box<Delivery>,
    },
    /// Close the sockets of this session.
    EndSession(SessionId),
    /// An event that cannot be read (see [`Change::Unreadable`]): skipped, and worth a word in
    /// the log.
    Unreadable { kind: String },
    /// Nothing to send: nobody receives it, or what it speaks of is gone.
    Nothing,
}

/// Where a resuming client starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resume {
    /// Replay the events after this id.
    After(EventId),
    /// Events after `since` may have been pruned, or `since` is not one of ours: the client
    /// reloads instead.
    Reset,
}

/// The reset decision: a `since` is good if every event after it is still in the outbox and it
/// is not ahead of the outbox.
pub fn resume_from(since: EventId, bounds: LogBounds) -> Resume {
    if since < bounds.pruned_through || since > bounds.head {
        Resume::Reset
    } else {
        Resume::After(since)
    }
}

/// What one batch of the fan-out has read already: the new articles it speaks of (taken as each
/// is delivered; `None` when they were not read in one go), and the followers of each author
/// met.
#[derive(Debug, Default)]
struct Known {
    articles: Option<std::collections::HashMap<ArticleId, crate::articles::Article>>,
    followers: std::collections::HashMap<UserId, Vec<UserId>>,
}

/// What to do with `event`, given how reading what it speaks of went: a store that cannot be
/// reached is an error (the same read may pass shortly), but a row that cannot be read (one
/// that breaks a rule, as a hand edit or an older version may leave it) makes this one event
/// unreadable, so that it holds up no other.
fn readable(
    event: &StoredEvent,
    read: Result<Dispatch, StoreError>,
) -> Result<Dispatch, StoreError> {
    match read {
        Err(StoreError::Unavailable(_)) => Ok(Dispatch::Unreadable {
            kind: event.change.kind().to_owned(),
        }),
        other => other,
    }
}

/// Where a socket that resumes from `since` stands once it has joined a fan-out that has handed
/// out everything up to `live_from`: the id its `ready` names. The replay covers the events after
/// `since` up to `live_from`; the live frames at or before the id returned are dropped, since the
/// client has them already (its `since` may be ahead of a fan-out that lags).
pub fn resumed_at(since: EventId, live_from: EventId) -> EventId {
    live_from.max(since)
}

/// What a resuming client is sent before it goes live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Replay {
    /// Its events after `since`, in order.
    Events(Vec<Delivery>),
    Reset,
}

/// The ports live updates need.
#[derive(Clone)]
pub struct LivePorts {
    pub log: Arc<dyn EventLog>,
    pub articles: Arc<dyn ArticleRepository>,
    pub comments: Arc<dyn CommentRepository>,
    pub profiles: Arc<dyn ProfileRepository>,
    pub clock: Arc<dyn Clock>,
}

impl fmt::Debug for LivePorts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LivePorts").finish_non_exhaustive()
    }
}

/// The live-updates use cases.
#[derive(Debug, Clone)]
pub struct Live {
    ports: LivePorts,
    retention: Duration,
    replay_limit: u64,
}

impl Live {
    /// How many events one read of the outbox takes at most.
    pub const BATCH: u32 = 256;
    /// How many events one page of a replay reads: what a socket holds in memory at once.
    pub const PAGE: u32 = 64;

    /// How many events of the outbox a resume replays at most, unless told otherwise.
    pub const REPLAY_LIMIT: u64 = 1000;

    /// `retention`: how long events are kept for resuming clients (`LIVE_RETENTION`).
    pub fn new(ports: LivePorts, retention: Duration) -> Self {
        Self {
            ports,
            retention,
            replay_limit: Self::REPLAY_LIMIT,
        }
    }

    /// A resume reads at most `limit` events of the outbox, everyone's (`LIVE_REPLAY_MAX`): a
    /// client further behind is told to reset, so that what one resume costs is bounded
    /// whatever `since` it names.
    #[must_use]
    pub fn with_replay_limit(mut self, limit: u64) -> Self {
        self.replay_limit = limit;
        self
    }

    /// This use case, with its policies, over other ports: the fan-out's, which read through a
    /// pool of their own.
    #[must_use]
    pub fn through(&self, ports: LivePorts) -> Self {
        Self {
            ports,
            ..self.clone()
        }
    }

    /// Where the outbox stands now.
    pub async fn bounds(&self) -> Result<LogBounds, StoreError> {
        self.ports.log.bounds().await
    }

    /// The next events after `after`, each with what to do with it; empty when there are none.
    pub async fn next(&self, after: EventId) -> Result<Vec<(EventId, Dispatch)>, StoreError> {
        let events = self.events(after).await?;
        self.resolve(events).await
    }

    /// The next events after `after` as the outbox holds them, at most [`Self::BATCH`]; what to
    /// do with each is [`Self::resolve`]'s, or [`unheard`]'s for a fan-out that holds no socket.
    pub async fn events(&self, after: EventId) -> Result<Vec<StoredEvent>, StoreError> {
        self.ports.log.after(after, Self::BATCH).await
    }

    /// What to do with each of `events` (read by [`Self::events`]), in order: it reads the
    /// articles, comments and followers that say who receives each and what they see.
    pub async fn resolve(
        &self,
        events: Vec<StoredEvent>,
    ) -> Result<Vec<(EventId, Dispatch)>, StoreError> {
        let mut dispatches = Vec::with_capacity(events.len());
        // The batch's new articles are read in one go, and an author's followers once: a busy
        // author's articles come in runs.
        let mut known = Known::default();
        let new_articles: Vec<ArticleId> = events
            .iter()
            .filter_map(|event| match event.change {
                Change::ArticleCreated { article, .. } => Some(article),
                _ => None,
            })
            .collect();
        if !new_articles.is_empty() {
            known.articles = match self.ports.articles.find_by_ids(&new_articles, None).await {
                Ok(found) => Some(
                    found
                        .into_iter()
                        .map(|article| (article.summary.id, article))
                        .collect(),
                ),
                // One of them cannot be read (a row that breaks a rule): each is then read by
                // itself, so that only that one is skipped.
                Err(StoreError::Unavailable(_)) => None,
                Err(error) => return Err(error),
            };
        }
        for event in events {
            let dispatch = self.dispatch_with(&event, &mut known).await;
            dispatches.push((event.id, readable(&event, dispatch)?));
        }
        Ok(dispatches)
    }

    /// Who receives `event`, and what they see.
    pub async fn dispatch(&self, event: &StoredEvent) -> Result<Dispatch, StoreError> {
        self.dispatch_with(event, &mut Known::default()).await
    }

    /// [`Self::dispatch`], with what the batch has read already.
    async fn dispatch_with(
        &self,
        event: &StoredEvent,
        known: &mut Known,
    ) -> Result<Dispatch, StoreError> {
        if let Change::Unreadable { kind } = &event.change {
            return Ok(Dispatch::Unreadable { kind: kind.clone() });
        }
        let recipients = match audience(&event.change) {
            Audience::Nobody => return Ok(Dispatch::Nothing),
            Audience::Session(session) => return Ok(Dispatch::EndSession(session)),
            Audience::One(user) => vec![user],
            Audience::FollowersOf(author) => {
                let followers = match known.followers.get(&author) {
                    Some(followers) => followers.clone(),
                    None => {
                        let followers = self.followers(author).await?;
                        known.followers.insert(author, followers.clone());
                        followers
                    }
                };
                if followers.is_empty() {
                    return Ok(Dispatch::Nothing);
                }
                followers
            }
        };
        Ok(self
            .deliver(event, recipients, Some(known))
            .await?
            .unwrap_or(Dispatch::Nothing))
    }

    /// The author's followers, sorted, the author left out.
    async fn followers(&self, author: UserId) -> Result<Vec<UserId>, StoreError> {
        let mut followers = self.ports.profiles.followers(author).await?;
        followers.retain(|follower| *follower != author);
        followers.sort_unstable();
        Ok(followers)
    }

    /// What `recipients` see of `event`; `None` when what it speaks of is gone.
    async fn deliver(
        &self,
        event: &StoredEvent,
        recipients: Vec<UserId>,
        known: Option<&mut Known>,
    ) -> Result<Option<Dispatch>, StoreError> {
        let message = match &event.change {
            // The same message for every follower: the article as a follower sees it. Read with
            // its batch when it was (a new article read there and not found is gone).
            Change::ArticleCreated { article, slug, .. } => {
                let found = match known.and_then(|known| known.articles.as_mut()) {
                    Some(read) => read.remove(article),
                    None => self.ports.articles.find_by_slug(slug, None).await?,
                };
                match found {
                    Some(article) => {
                        let mut article = article.summary;
                        article.author.profile.following = true;
                        Message::ArticleCreated { article }
                    }
                    None => return Ok(None),
                }
            }
            Change::CommentCreated { slug, comment, .. } => {
                let viewer = recipients.first().copied();
                match self.ports.comments.find(*comment, viewer).await? {
                    Some(comment) => Message::CommentCreated {
                        slug: slug.clone(),
                        comment,
                    },
                    None => return Ok(None),
                }
            }
            Change::ArticleFavorited { slug, by, .. } => {
                let viewer = recipients.first().copied();
                let article = self.ports.articles.find_by_slug(slug, viewer).await?;
                let profile = self.ports.profiles.find_by_id(*by, viewer).await?;
                match (article, profile) {
                    (Some(article), Some(by)) => Message::ArticleFavorited {
                        slug: slug.clone(),
                        favorites_count: article.summary.favorites_count,
                        profile: by.profile,
                    },
                    _ => return Ok(None),
                }
            }
            Change::SessionEnded { session } => return Ok(Some(Dispatch::EndSession(*session))),
            Change::Unreadable { kind } => {
                return Ok(Some(Dispatch::Unreadable { kind: kind.clone() }));
            }
        };
        Ok(Some(Dispatch::Deliver {
            recipients,
            delivery: Box::new(Delivery {
                id: event.id,
                at: event.at,
                message,
            }),
        }))
    }

    /// The events `user` receives after `since` up to `until` (inclusive, the id the socket went
    /// live from), in order; or a reset when `since` is too old, not ours, or more than the
    /// replay limit behind `until`. Reads the whole replay into memory: a socket sends it page by
    /// page instead ([`Live::replay_from`], [`Live::replay_page`], [`Live::replay_held`]).
    pub async fn replay(
        &self,
        user: UserId,
        since: EventId,
        until: EventId,
    ) -> Result<Replay, StoreError> {
        let Resume::After(mut after) = self.replay_from(since, until).await? else {
            return Ok(Replay::Reset);
        };
        let mut deliveries = Vec::new();
        while after < until {
            let (mut page, read) = self.replay_page(user, after, until).await?;
            deliveries.append(&mut page);
            after = read;
        }
        if !self.replay_held(since).await? {
            return Ok(Replay::Reset);
        }
        Ok(Replay::Events(deliveries))
    }

    /// Where a replay of the events after `since` up to `until` starts, or a reset when `since`
    /// is too old, not ours, or more than the replay limit behind `until`.
    pub async fn replay_from(&self, since: EventId, until: EventId) -> Result<Resume, StoreError> {
        let bounds = self.ports.log.bounds().await?;
        let Resume::After(after) = resume_from(since, bounds) else {
            return Ok(Resume::Reset);
        };
        let behind = u64::try_from(until.0.saturating_sub(after.0)).unwrap_or(0);
        if behind > self.replay_limit {
            return Ok(Resume::Reset);
        }
        Ok(Resume::After(after))
    }

    /// One page of a replay: what `user` receives of the next [`Live::PAGE`] events after `after`
    /// up to `until`, and the id read up to (`until` once there is nothing more).
    pub async fn replay_page(
        &self,
        user: UserId,
        after: EventId,
        until: EventId,
    ) -> Result<(Vec<Delivery>, EventId), StoreError> {
        let events = self.ports.log.after(after, Self::PAGE).await?;
        let Some(last) = events.last() else {
            return Ok((Vec::new(), until));
        };
        let read = last.id.min(until);
        let mut deliveries = Vec::new();
        // Whether `user` follows each author met on this page: one look-up an author, and none
        // of an event's article or comment unless `user` receives it.
        let mut follows = std::collections::HashMap::new();
        for event in events.iter().filter(|event| event.id <= until) {
            let receives = match audience(&event.change) {
                Audience::One(recipient) => recipient == user,
                Audience::FollowersOf(author) => match follows.get(&author) {
                    Some(follows) => *follows,
                    None => {
                        let follower = self.followers(author).await?.contains(&user);
                        follows.insert(author, follower);
                        follower
                    }
                },
                Audience::Nobody | Audience::Session(_) => false,
            };
            if !receives {
                continue;
            }
            let delivered = self
                .deliver(event, vec![user], None)
                .await
                .map(|dispatch| dispatch.unwrap_or(Dispatch::Nothing));
            if let Dispatch::Deliver { delivery, .. } = readable(event, delivered)? {
                deliveries.push(*delivery);
            }
        }
        Ok((deliveries, read))
    }

    /// Whether a replay from `since` still holds once read: a prune between its start and its
    /// reads may have taken events from under it, and then what was read has a gap, and the
    /// client must reset instead.
    pub async fn replay_held(&self, since: EventId) -> Result<bool, StoreError> {
        Ok(resume_from(since, self.ports.log.bounds().await?) != Resume::Reset)
    }

    /// Forgets the events older than the retention; the number forgotten.
    pub async fn prune(&self) -> Result<u64, StoreError> {
        let before = self.ports.clock.now() - self.retention;
        self.ports.log.prune(before).await
    }
}

#[cfg(test)]
mod tests;
