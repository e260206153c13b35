//! The outbox of live events: [`SqlEventLog`] reads it, the migrations' triggers append to it.
//! On PostgreSQL, [`sequence`] gives appended events their ids and [`listen`] wakes this
//! instance when any instance's sequencer has.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use conduit_domain::Timestamp;
use conduit_domain::accounts::UserId;
use conduit_domain::articles::{ArticleId, CommentId, Slug};
use conduit_domain::live::{Change, EventId, LogBounds, StoredEvent};
use conduit_domain::ports::{EventLog, SessionId, StoreError};
use sqlx::postgres::{PgListener, PgPool};
use tokio::sync::Notify;

use crate::Store;
use crate::db::{Args, DbTime};
use crate::postgres::PgStore;
use crate::profiles::corrupt;

/// The channel the migrations' `live_events_sequence` notifies when it gave events their ids.
pub(crate) const CHANNEL: &str = "conduit_live";

/// Events after `$1`, with the current slug and author of their article; an event whose article
/// has been deleted is left out.
const AFTER: &str = "
    SELECT e.id, e.kind, e.at, e.actor_id, e.article_id, e.comment_id, e.session_id,
        a.slug, a.author_id AS article_author
    FROM live_events e LEFT JOIN articles a ON a.id = e.article_id
    WHERE e.id > $1 AND (e.article_id IS NULL OR a.id IS NOT NULL)
    ORDER BY e.id
    LIMIT $2";

const BOUNDS: &str = "
    SELECT COALESCE((SELECT MAX(id) FROM live_events), 0) AS head,
        (SELECT through FROM live_events_pruned) AS pruned_through";

/// The newest id such that it and every event before it happened before `$1`, and not the
/// newest of all: pruning removes it and every older one. Ids are in commit order and `at` is
/// when the change was written, so a change written long before it committed has an id above
/// younger events: it must not take them with it.
const PRUNABLE: &str = "
    SELECT COALESCE(
        (SELECT MIN(id) FROM live_events WHERE at >= $1),
        (SELECT MAX(id) FROM live_events)
    ) - 1";
const PRUNE: &str = "DELETE FROM live_events WHERE id <= $1";
const PRUNED: &str = "UPDATE live_events_pruned SET through = $1 WHERE through < $1";

#[derive(Debug, sqlx::FromRow)]
struct EventRow {
    id: i64,
    kind: String,
    at: DbTime,
    actor_id: Option<i64>,
    article_id: Option<i64>,
    comment_id: Option<i64>,
    session_id: Option<i64>,
    slug: Option<String>,
    article_author: Option<i64>,
}

impl From<EventRow> for StoredEvent {
    /// A row that cannot be read (an unknown kind, a field its kind needs missing) becomes
    /// [`Change::Unreadable`]: one bad row must not stop the events after it.
    fn from(row: EventRow) -> Self {
        let id = EventId(row.id);
        let at = row.at.into();
        let kind = row.kind.clone();
        let change = change(row).unwrap_or(Change::Unreadable { kind });
        Self { id, at, change }
    }
}

/// What a row says happened; `Err` when it cannot be read.
fn change(row: EventRow) -> Result<Change, StoreError> {
    {
        let bad = |field| corrupt("live event", row.id, field);
        let actor = row.actor_id.map(UserId).ok_or_else(|| bad("actor"));
        let article = || -> Result<(ArticleId, Slug, UserId), StoreError> {
            let id = row.article_id.ok_or_else(|| bad("article"))?;
            let slug = row.slug.as_deref().ok_or_else(|| bad("article"))?;
            let slug = Slug::parse(slug).map_err(|_| bad("slug"))?;
            let author = row.article_author.ok_or_else(|| bad("article"))?;
            Ok((ArticleId(id), slug, UserId(author)))
        };
        let change = match row.kind.as_str() {
            "article.created" => {
                let (article, slug, author) = article()?;
                Change::ArticleCreated {
                    article,
                    slug,
                    author,
                }
            }
            "comment.created" => {
                let (article, slug, article_author) = article()?;
                Change::CommentCreated {
                    article,
                    slug,
                    article_author,
                    comment: row
                        .comment_id
                        .map(CommentId)
                        .ok_or_else(|| bad("comment"))?,
                    commenter: actor?,
                }
            }
            "article.favorited" => {
                let (article, slug, article_author) = article()?;
                Change::ArticleFavorited {
                    article,
                    slug,
                    article_author,
                    by: actor?,
                }
            }
            "session.ended" => Change::SessionEnded {
                session: row
                    .session_id
                    .map(SessionId)
                    .ok_or_else(|| bad("session"))?,
            },
            _ => return Err(bad("kind")),
        };
        Ok(change)
    }
}

/// The outbox in either database.
#[derive(Debug, Clone)]
pub(crate) struct SqlEventLog {
    store: Store,
}

impl SqlEventLog {
    pub(crate) fn new(store: Store) -> Self {
        Self { store }
    }
}

#[async_trait]
impl EventLog for SqlEventLog {
    async fn after(&self, since: EventId, limit: u32) -> Result<Vec<StoredEvent>, StoreError> {
        let args = Args::new().bind(since.0).bind(i64::from(limit));
        let rows: Vec<EventRow> = self.store.fetch_all(AFTER, args).await?;
        Ok(rows.into_iter().map(StoredEvent::from).collect())
    }

    async fn bounds(&self) -> Result<LogBounds, StoreError> {
        let (head, pruned_through): (i64, i64) = self.store.fetch_one(BOUNDS, Args::new()).await?;
        Ok(LogBounds {
            head: EventId(head),
            pruned_through: EventId(pruned_through),
        })
    }

    async fn prune(&self, before: Timestamp) -> Result<u64, StoreError> {
        let mut tx = self.store.begin().await?;
        let (prunable,): (Option<i64>,) = tx
            .conn()
            .fetch_one(PRUNABLE, Args::new().bind(before))
            .await?;
        let Some(through) = prunable else {
            return Ok(0);
        };
        let removed = tx.conn().execute(PRUNE, Args::new().bind(through)).await?;
        tx.conn().execute(PRUNED, Args::new().bind(through)).await?;
        tx.commit().await?;
        Ok(removed)
    }

    /// On SQLite, one writer at a time gives ids in commit order at the write: nothing waits.
    async fn sequence(&self) -> Result<u64, StoreError> {
        match &self.store {
            Store::Postgres(pg) => sequence_once(&pg.pool).await,
            Store::Sqlite(_) => Ok(0),
        }
    }
}

/// One call of the migrations' `live_events_sequence()` per [`SEQUENCE_BATCH`] events, until
/// there are fewer: how many it moved.
async fn sequence_once(pool: &PgPool) -> Result<u64, StoreError> {
    let mut moved_in_all = 0;
    loop {
        let (moved,): (i64,) = sqlx::query_as(SEQUENCE)
            .bind(SEQUENCE_BATCH)
            .fetch_one(pool)
            .await
            .map_err(crate::error::store_error)?;
        moved_in_all += u64::try_from(moved).unwrap_or(0);
        if moved < SEQUENCE_BATCH {
            return Ok(moved_in_all);
        }
    }
}

/// The most events one call of the sequencer moves: about 25 ms of work here, far within any
/// statement timeout however large the backlog.
const SEQUENCE_BATCH: i64 = 10_000;

/// Gives new events their ids (the migrations' `live_events_sequence()`) after each write of
/// this process (a write that commits while a call runs wakes it once more), and once a `POLL`
/// besides, for the writes of writers that do not wake it (another instance that stopped first,
/// a script). A sequencing that moved events sends `NOTIFY`, which wakes every instance's
/// fan-out, this one's too: the fan-out has one cause to wake, so that holding the listener
/// holds it. Each round then wakes `fold`, the task that folds the changes of the list counts
/// ([`fold`]): a fold, however slow or blocked, never delays a sequencing. Runs until the store
/// closes.
pub(crate) async fn sequence(pg: PgStore, fold: Arc<Notify>) {
    let step = "sequence live events";
    after_writes(
        &pg.background,
        &pg.written,
        step,
        Duration::ZERO,
        || async {
            let sequenced = sequence_once(&pg.background).await.map(|_| Ran::Itself);
            fold.notify_one();
            sequenced
        },
    )
    .await;
}

/// Folds the changes of the list counts into the counts ([`fold_counts`]) after the sequencer
/// has run (`wake`), at most once a [`FOLD_SPACING`], and once a `POLL` besides. Runs until the
/// store closes.
pub(crate) async fn fold(pool: PgPool, wake: Arc<Notify>) {
    let step = "fold the list counts";
    after_writes(&pool, &wake, step, FOLD_SPACING, || fold_counts(&pool)).await;
}

/// Who did a step of [`after_writes`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ran {
    /// This instance: it can, so a failure it reported has ended.
    Itself,
    /// Another instance was doing it, so this one left it: that proves nothing of this one.
    Elsewhere,
}

/// The least time between two folds of one instance. A fold costs a transaction and a commit
/// whatever it folds, and readers add the changes it has not folded yet: folding after every
/// sequencing cost an eighth of PostgreSQL's time at 2,000 articles a second, while at this
/// spacing a few hundred changes at most wait, which the readers add in well under a
/// millisecond.
const FOLD_SPACING: Duration = Duration::from_millis(100);

/// Runs `step` each time `wake` is notified, `spacing` after the run before at the soonest, and
/// once a `POLL` besides, until `pool` closes. A failure is said once, when it starts, and its
/// end once: the database is away, and the listener and the requests say so too, so a warning
/// a second would only repeat them.
async fn after_writes<F, Fut>(
    pool: &PgPool,
    wake: &Notify,
    step: &str,
    spacing: Duration,
    mut run: F,
) where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Ran, StoreError>>,
{
    const POLL: Duration = Duration::from_secs(1);
    let mut closed = pool.close_event();
    closed
        .do_until(async {
            let mut failing = false;
            loop {
                tokio::select! {
                    () = wake.notified() => {}
                    () = tokio::time::sleep(POLL) => {}
                }
                let ran = run().await;
                if pool.is_closed() {
                    return;
                }
                if !spacing.is_zero() {
                    tokio::time::sleep(spacing).await;
                }
                match ran {
                    Ok(Ran::Itself) => {
                        if std::mem::take(&mut failing) {
                            tracing::info!("able to {step} again");
                        }
                    }
                    Ok(Ran::Elsewhere) => {}
                    Err(error) => {
                        if !std::mem::replace(&mut failing, true) {
                            tracing::warn!(%error, "cannot {step}; retrying until it can");
                        }
                    }
                }
            }
        })
        .await
        .ok();
}

/// Adds the committed changes of the list counts into the counts, and deletes them, a
/// [`FOLD_BATCH`] at a time until a call takes less (the migration `count_fold_batches`'s
/// `counts_fold(batch)`); [`Ran::Elsewhere`] when another instance holds the fold's lock.
/// Readers add the changes not yet folded, so a fold changes no answer: it keeps the changes
/// few.
pub(crate) async fn fold_counts(pool: &PgPool) -> Result<Ran, StoreError> {
    loop {
        let taken: Option<i64> = sqlx::query_scalar(FOLD)
            .bind(FOLD_BATCH)
            .fetch_one(pool)
            .await
            .map_err(crate::error::store_error)?;
        match taken {
            None => return Ok(Ran::Elsewhere),
            Some(taken) if taken < FOLD_BATCH => return Ok(Ran::Itself),
            Some(_) => {}
        }
    }
}

const FOLD: &str = "SELECT counts_fold($1)";

/// The most changes of each table one fold takes: 15 to 35 ms of work here, far within any
/// statement timeout however large the backlog (2,000,000 changes took 26 s in one statement).
const FOLD_BATCH: i64 = 10_000;

const SEQUENCE: &str = "SELECT moved FROM live_events_sequence($1)";

/// Listens on [`CHANNEL`] on a connection of its own and wakes `wake` for every notification,
/// and once after each (re)connection, so that whoever waits reads the outbox and catches up on
/// what was committed while nobody listened. Reconnects, with a growing pause, until the store
/// closes.
pub(crate) async fn listen(pg: PgStore, wake: Arc<Notify>) {
    const FIRST_PAUSE: Duration = Duration::from_millis(100);
    const LONGEST_PAUSE: Duration = Duration::from_secs(5);
    let pool = &pg.pool;
    let mut closed = pool.close_event();
    let mut pause = FIRST_PAUSE;
    closed
        .do_until(async {
            loop {
                let listened = listening(pg.listen_pool()).await;
                // Closing the store ends the listener: that is no failure to report.
                if pool.is_closed() {
                    return;
                }
                match listened {
                    Ok(mut listener) => {
                        pause = FIRST_PAUSE;
                        tracing::info!(channel = CHANNEL, "listening for live events");
                        wake.notify_one();
                        loop {
                            let received = listener.try_recv().await;
                            if pool.is_closed() {
                                return;
                            }
                            match received {
                                Ok(Some(_)) => wake.notify_one(),
                                Ok(None) => {
                                    tracing::warn!("lost the live-events connection; reconnecting");
                                    break;
                                }
                                Err(error) => {
                                    tracing::warn!(%error, "live-events connection failed; reconnecting");
                                    break;
                                }
                            }
                        }
                    }
                    Err(error) => {
                        tracing::warn!(%error, retry_in_ms = pause.as_millis(), "cannot listen for live events");
                        tokio::time::sleep(pause).await;
                        pause = (pause * 2).min(LONGEST_PAUSE);
                    }
                }
            }
        })
        .await
        .ok();
}

async fn listening(pool: &PgPool) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}
