//! [`EventLog`] over the in-memory state: the other ports of [`InMemoryStore`] append to it as
//! the real stores' triggers do, under the same lock as the change.

use async_trait::async_trait;
use conduit_domain::Timestamp;
use conduit_domain::accounts::UserId;
use conduit_domain::articles::{ArticleId, CommentId};
use conduit_domain::live::{Change, EventId, LogBounds, StoredEvent};
use conduit_domain::ports::{EventLog, SessionId, StoreError};

use super::*;
use crate::contract::RawEvent;

/// What happened, by ids, as the SQL outbox keeps it.
#[derive(Debug, Clone, Copy)]
pub(super) enum Appended {
    ArticleCreated {
        article: i64,
    },
    CommentCreated {
        article: i64,
        comment: i64,
        by: UserId,
    },
    ArticleFavorited {
        article: i64,
        by: UserId,
    },
    SessionEnded {
        session: i64,
    },
    /// A row this version cannot read (see [`RawEvent`]), of this kind.
    Unreadable {
        kind: &'static str,
    },
}

#[derive(Debug, Clone, Copy)]
pub(super) struct FakeEvent {
    id: i64,
    at: Timestamp,
    what: Appended,
}

impl State {
    /// Appends an event, as the triggers of the SQL stores do in the writing transaction.
    pub(super) fn append(&mut self, what: Appended) {
        self.next_event += 1;
        let at = Timestamp::from_offset(time::OffsetDateTime::now_utc());
        self.events.push(FakeEvent {
            id: self.next_event,
            at,
            what,
        });
    }

    /// The event as read: with its article's current slug and author, or `None` when the
    /// article is gone.
    fn read(&self, event: &FakeEvent) -> Option<StoredEvent> {
        let article = |id: i64| {
            self.articles
                .get(&id)
                .map(|stored| (ArticleId(id), stored.new.slug.clone(), stored.new.author))
        };
        let change = match event.what {
            Appended::ArticleCreated { article: id, .. } => {
                let (article, slug, author) = article(id)?;
                Change::ArticleCreated {
                    article,
                    slug,
                    author,
                }
            }
            Appended::CommentCreated {
                article: id,
                comment,
                by,
            } => {
                let (article, slug, article_author) = article(id)?;
                Change::CommentCreated {
                    article,
                    slug,
                    article_author,
                    comment: CommentId(comment),
                    commenter: by,
                }
            }
            Appended::ArticleFavorited { article: id, by } => {
                let (article, slug, article_author) = article(id)?;
                Change::ArticleFavorited {
                    article,
                    slug,
                    article_author,
                    by,
                }
            }
            Appended::SessionEnded { session } => Change::SessionEnded {
                session: SessionId(session),
            },
            Appended::Unreadable { kind } => Change::Unreadable {
                kind: kind.to_owned(),
            },
        };
        Some(StoredEvent {
            id: EventId(event.id),
            at: event.at,
            change,
        })
    }
}

impl InMemoryStore {
    /// Appends a row that no write through the ports makes.
    pub fn append_raw(&self, raw: RawEvent) {
        let kind = match raw {
            RawEvent::MissingArticle => "comment.created",
            RawEvent::UnknownKind(kind) => kind,
        };
        self.lock().append(Appended::Unreadable { kind });
    }
}

#[async_trait]
impl EventLog for InMemoryStore {
    async fn after(&self, since: EventId, limit: u32) -> Result<Vec<StoredEvent>, StoreError> {
        let state = self.lock();
        Ok(state
            .events
            .iter()
            .filter(|event| event.id > since.0)
            .filter_map(|event| state.read(event))
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
            .collect())
    }

    async fn bounds(&self) -> Result<LogBounds, StoreError> {
        let state = self.lock();
        Ok(LogBounds {
            head: EventId(state.events.last().map_or(0, |event| event.id)),
            pruned_through: EventId(state.pruned_through),
        })
    }

    async fn prune(&self, before: Timestamp) -> Result<u64, StoreError> {
        let mut state = self.lock();
        let Some(newest) = state.events.last().map(|event| event.id) else {
            return Ok(0);
        };
        // As the SQL stores do: below the first event that is not older than `before`, and
        // never the newest.
        let young = state.events.iter().find(|event| event.at >= before);
        let through = young.map_or(newest, |event| event.id) - 1;
        if through <= state.pruned_through {
            return Ok(0);
        }
        let count = state.events.len();
        state.events.retain(|event| event.id > through);
        state.pruned_through = state.pruned_through.max(through);
        Ok((count - state.events.len()) as u64)
    }

    /// Ids are given at the write, under the state's lock.
    async fn sequence(&self) -> Result<u64, StoreError> {
        Ok(0)
    }
}
