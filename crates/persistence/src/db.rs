//! One SQL text, two databases, where it can be: running a statement on either is decided here,
//! and [`Dialect`] names the database where a statement must differ.
//!
//! Every repository writes its statements once, with `$N` placeholders (sqlx binds them on
//! PostgreSQL and on SQLite alike), and runs them through [`Conn`] with their arguments in
//! [`Args`]; `Conn` matches on the database once per call. Three statements differ by
//! [`Dialect`], each for a reason its comment gives: the feed's page (SQLite has no `LATERAL`),
//! and a new article and a favourite, which PostgreSQL writes and reads back in one statement
//! (SQLite has no `INSERT` in `WITH`). `Store` itself (lib.rs) matches on its kind for what is
//! not a statement: connecting, migrating, closing, and the live events' signal.
//! Rejected alternative: sqlx's `Any` driver, which has no time types and hides PostgreSQL's
//! constraint names; a generic `Database` parameter, whose bounds would repeat on every function.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use conduit_domain::Timestamp;
use conduit_domain::ports::StoreError;
use sqlx::error::BoxDynError;
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgArguments, PgRow, PgTypeInfo, PgValueRef};
use sqlx::sqlite::{
    SqliteArguments, SqliteArgumentsBuffer, SqliteRow, SqliteTypeInfo, SqliteValueRef,
};
use sqlx::{
    Arguments, Database, Decode, Encode, FromRow, IntoArguments, PgConnection, Postgres,
    SqlSafeStr, Sqlite, SqliteConnection, Transaction, Type,
};
use time::OffsetDateTime;
use tokio::sync::Notify;

use crate::Store;
use crate::error::store_error;

/// A time as both databases keep it: `timestamptz` in PostgreSQL, and in SQLite the text
/// [`Timestamp`] writes (RFC 3339, UTC, exactly three fractional digits), whose text order is the
/// time order. Times are bound and read only through this type, so no query can bind a raw
/// `OffsetDateTime` in another format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DbTime(pub(crate) Timestamp);

impl From<DbTime> for Timestamp {
    fn from(time: DbTime) -> Self {
        time.0
    }
}

impl Type<Postgres> for DbTime {
    fn type_info() -> PgTypeInfo {
        <OffsetDateTime as Type<Postgres>>::type_info()
    }
}

impl Encode<'_, Postgres> for DbTime {
    fn encode_by_ref(
        &self,
        buffer: &mut sqlx::postgres::PgArgumentBuffer,
    ) -> Result<sqlx::encode::IsNull, BoxDynError> {
        <OffsetDateTime as Encode<Postgres>>::encode_by_ref(&self.0.as_offset(), buffer)
    }
}

impl Decode<'_, Postgres> for DbTime {
    fn decode(value: PgValueRef<'_>) -> Result<Self, BoxDynError> {
        <OffsetDateTime as Decode<Postgres>>::decode(value).map(|at| Self(Timestamp::from(at)))
    }
}

impl Type<Sqlite> for DbTime {
    fn type_info() -> SqliteTypeInfo {
        <String as Type<Sqlite>>::type_info()
    }
}

impl Encode<'_, Sqlite> for DbTime {
    fn encode_by_ref(
        &self,
        buffer: &mut SqliteArgumentsBuffer,
    ) -> Result<sqlx::encode::IsNull, BoxDynError> {
        <String as Encode<Sqlite>>::encode(self.0.to_string(), buffer)
    }
}

impl Decode<'_, Sqlite> for DbTime {
    fn decode(value: SqliteValueRef<'_>) -> Result<Self, BoxDynError> {
        let text = <&str as Decode<Sqlite>>::decode(value)?;
        Timestamp::parse(text)
            .map(Self)
            .map_err(|_| format!("{text:?} is not a stored time").into())
    }
}

/// One argument of a statement: the kinds of value this crate binds, and no others.
#[derive(Clone, PartialEq)]
pub(crate) enum Value {
    Int(Option<i64>),
    Text(Option<String>),
    Bool(bool),
    Time(Option<DbTime>),
}

impl fmt::Debug for Value {
    /// Arguments can be password hashes or token hashes: never printed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Value(<redacted>)")
    }
}

impl From<i64> for Value {
    fn from(value: i64) -> Self {
        Self::Int(Some(value))
    }
}

impl From<Option<i64>> for Value {
    fn from(value: Option<i64>) -> Self {
        Self::Int(value)
    }
}

impl From<&str> for Value {
    fn from(value: &str) -> Self {
        Self::Text(Some(value.to_owned()))
    }
}

impl From<String> for Value {
    fn from(value: String) -> Self {
        Self::Text(Some(value))
    }
}

impl From<Option<&str>> for Value {
    fn from(value: Option<&str>) -> Self {
        Self::Text(value.map(str::to_owned))
    }
}

impl From<Option<String>> for Value {
    fn from(value: Option<String>) -> Self {
        Self::Text(value)
    }
}

impl From<bool> for Value {
    fn from(value: bool) -> Self {
        Self::Bool(value)
    }
}

impl From<Timestamp> for Value {
    fn from(value: Timestamp) -> Self {
        Self::Time(Some(DbTime(value)))
    }
}

/// The arguments of one statement, in placeholder order: `Args::new().bind(id).bind(now)`.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Args(Vec<Value>);

impl Args {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Appends the argument of the next placeholder.
    pub(crate) fn bind(mut self, value: impl Into<Value>) -> Self {
        self.0.push(value.into());
        self
    }

    /// The arguments as one database's driver takes them.
    fn encode<A>(self) -> Result<A, StoreError>
    where
        A: Arguments,
        for<'t> Option<i64>: Encode<'t, A::Database> + Type<A::Database>,
        for<'t> Option<String>: Encode<'t, A::Database> + Type<A::Database>,
        for<'t> bool: Encode<'t, A::Database> + Type<A::Database>,
        for<'t> Option<DbTime>: Encode<'t, A::Database> + Type<A::Database>,
    {
        let mut arguments = A::default();
        for value in self.0 {
            match value {
                Value::Int(value) => arguments.add(value),
                Value::Text(value) => arguments.add(value),
                Value::Bool(value) => arguments.add(value),
                Value::Time(value) => arguments.add(value),
            }
            .map_err(|error| {
                StoreError::Unavailable(format!("cannot encode an argument: {error}"))
            })?;
        }
        Ok(arguments)
    }
}

/// A row type that both drivers can read (what `#[derive(sqlx::FromRow)]` gives).
pub(crate) trait Row:
    for<'r> FromRow<'r, PgRow> + for<'r> FromRow<'r, SqliteRow> + Send + Unpin
{
}

impl<T> Row for T where T: for<'r> FromRow<'r, PgRow> + for<'r> FromRow<'r, SqliteRow> + Send + Unpin
{}

/// A connection to either database: from the pool, or inside a transaction. A PostgreSQL one
/// with how long a statement may go unanswered ([`answered`]).
#[derive(Debug)]
pub(crate) enum Conn<'c> {
    Postgres(&'c mut PgConnection, Duration),
    Sqlite(&'c mut SqliteConnection),
    /// A PostgreSQL transaction's, after its commit: every statement answers [`ended`].
    Ended,
}

/// What a statement that went unanswered past its deadline answers: the database is there as
/// far as TCP can tell, but says nothing (frozen, paused, cut off by a partition that drops
/// nothing). A 503, like any database that cannot be reached in time.
const UNANSWERED: &str = "the database did not answer in time";

/// How long after PostgreSQL's own `statement_timeout` a statement is given up on here. The
/// database cancels a slow statement itself and says so; this is for one that cannot say
/// anything at all.
pub(crate) const ANSWER_GRACE: Duration = Duration::from_secs(2);

/// `statement`, or [`UNANSWERED`] when it has no answer within `deadline`. Without it, a request
/// whose database stopped answering on an open connection waited as long as TCP did: 183 s in
/// an attack run, up to a quarter of an hour of retransmissions, or for ever where something in
/// between still acknowledges.
async fn answered<T>(
    deadline: Duration,
    statement: impl std::future::Future<Output = Result<T, sqlx::Error>>,
) -> Result<T, StoreError> {
    match tokio::time::timeout(deadline, statement).await {
        Ok(answer) => answer.map_err(store_error),
        Err(_) => {
            tracing::warn!(deadline = ?deadline, "{UNANSWERED}");
            Err(StoreError::Unreachable(UNANSWERED.to_owned()))
        }
    }
}

/// Whether `result` is a statement given up on: its connection is in the middle of a statement
/// and must not serve another.
fn unanswered<T>(result: &Result<T, StoreError>) -> bool {
    matches!(result, Err(StoreError::Unreachable(message)) if message == UNANSWERED)
}

impl Conn<'_> {
    /// The one row the statement returns.
    pub(crate) async fn fetch_one<R: Row>(
        &mut self,
        sql: impl SqlSafeStr,
        args: Args,
    ) -> Result<R, StoreError> {
        match self {
            Self::Postgres(conn, deadline) => {
                answered(*deadline, query_as(sql, args)?.fetch_one(&mut **conn)).await
            }
            Self::Sqlite(conn) => query_as(sql, args)?
                .fetch_one(&mut **conn)
                .await
                .map_err(store_error),
            Self::Ended => Err(ended()),
        }
    }

    /// The row the statement returns, if any.
    pub(crate) async fn fetch_optional<R: Row>(
        &mut self,
        sql: impl SqlSafeStr,
        args: Args,
    ) -> Result<Option<R>, StoreError> {
        match self {
            Self::Postgres(conn, deadline) => {
                answered(*deadline, query_as(sql, args)?.fetch_optional(&mut **conn)).await
            }
            Self::Sqlite(conn) => query_as(sql, args)?
                .fetch_optional(&mut **conn)
                .await
                .map_err(store_error),
            Self::Ended => Err(ended()),
        }
    }

    /// Every row the statement returns.
    pub(crate) async fn fetch_all<R: Row>(
        &mut self,
        sql: impl SqlSafeStr,
        args: Args,
    ) -> Result<Vec<R>, StoreError> {
        match self {
            Self::Postgres(conn, deadline) => {
                answered(*deadline, query_as(sql, args)?.fetch_all(&mut **conn)).await
            }
            Self::Sqlite(conn) => query_as(sql, args)?
                .fetch_all(&mut **conn)
                .await
                .map_err(store_error),
            Self::Ended => Err(ended()),
        }
    }

    /// Runs a statement that returns no rows; answers how many rows it changed.
    pub(crate) async fn execute(
        &mut self,
        sql: impl SqlSafeStr,
        args: Args,
    ) -> Result<u64, StoreError> {
        match self {
            Self::Postgres(conn, deadline) => {
                let statement = sqlx::query_with(sql, args.encode::<PgArguments>()?);
                answered(*deadline, statement.execute(&mut **conn))
                    .await
                    .map(|done| done.rows_affected())
            }
            Self::Sqlite(conn) => sqlx::query_with(sql, args.encode::<SqliteArguments>()?)
                .execute(&mut **conn)
                .await
                .map(|done| done.rows_affected())
                .map_err(store_error),
            Self::Ended => Err(ended()),
        }
    }
}

/// `sqlx::query_as_with`, with the arguments encoded for `DB`.
fn query_as<'q, DB, R>(
    sql: impl SqlSafeStr,
    args: Args,
) -> Result<sqlx::query::QueryAs<'q, DB, R, DB::Arguments>, StoreError>
where
    DB: Database,
    for<'t> Option<i64>: Encode<'t, DB> + Type<DB>,
    for<'t> Option<String>: Encode<'t, DB> + Type<DB>,
    for<'t> bool: Encode<'t, DB> + Type<DB>,
    for<'t> Option<DbTime>: Encode<'t, DB> + Type<DB>,
    DB::Arguments: IntoArguments<DB>,
    R: for<'r> FromRow<'r, DB::Row>,
{
    Ok(sqlx::query_as_with(sql, args.encode::<DB::Arguments>()?))
}

/// A connection taken from the pool for one or more statements.
#[derive(Debug)]
pub(crate) enum Pooled {
    Postgres(PoolConnection<Postgres>, Duration),
    Sqlite(PoolConnection<Sqlite>),
}

impl Pooled {
    pub(crate) fn conn(&mut self) -> Conn<'_> {
        match self {
            Self::Postgres(conn, deadline) => Conn::Postgres(conn, *deadline),
            Self::Sqlite(conn) => Conn::Sqlite(conn),
        }
    }

    /// Back to the pool, unless `result` says a statement was given up on: that connection is
    /// closed instead, and the pool may open another. Returned, it would wait for the answer
    /// the statement never had, holding its place in the pool meanwhile.
    pub(crate) fn settle<T>(self, result: &Result<T, StoreError>) {
        if let Self::Postgres(conn, _) = self
            && unanswered(result)
        {
            drop(conn.detach());
        }
    }
}

/// A transaction on either database: everything run through [`Tx::conn`] is written by
/// [`Tx::commit`] or by nothing (dropping it rolls back).
#[derive(Debug)]
pub(crate) enum Tx {
    /// Each with the signal that a commit wakes (see [`Store::wrote`]).
    Postgres(PgTx, Arc<Notify>),
    Sqlite(Transaction<'static, Sqlite>, Arc<Notify>),
}

impl Tx {
    pub(crate) fn conn(&mut self) -> Conn<'_> {
        match self {
            Self::Postgres(tx, _) => tx.conn(),
            Self::Sqlite(tx, _) => Conn::Sqlite(tx),
        }
    }

    pub(crate) async fn commit(self) -> Result<(), StoreError> {
        match self {
            Self::Postgres(tx, written) => {
                tx.commit().await?;
                written.notify_one();
            }
            Self::Sqlite(tx, written) => {
                tx.commit().await.map_err(store_error)?;
                written.notify_one();
            }
        }
        Ok(())
    }
}

/// A transaction on a connection of the PostgreSQL pool, begun, committed and rolled back by
/// statements given up on as every other is ([`answered`]). sqlx's own transaction could not
/// be: a `BEGIN` given up on went back to the pool unanswered inside it, then ran once the
/// database answered again, and left that connection in a transaction nothing owned. Every
/// later request on it wrote into that transaction and was told it had succeeded, while no
/// other connection saw the write (attack run 12).
#[derive(Debug)]
pub(crate) struct PgTx {
    /// Until the commit; a transaction dropped with it is rolled back ([`Drop`]).
    conn: Option<PoolConnection<Postgres>>,
    deadline: Duration,
}

impl PgTx {
    /// Begins on `conn` in a task of its own, which owns the connection until `BEGIN` has its
    /// answer: a request dropped meanwhile (its client gone) cannot drop the connection with
    /// a `BEGIN` in flight, which went back to the pool and ran there, leaving a transaction
    /// nothing owned (80 logins whose clients reset their connections, attack run 13). Begun
    /// for nobody, the transaction comes back to the task and is dropped there: rolled back.
    async fn begin(conn: PoolConnection<Postgres>, deadline: Duration) -> Result<Self, StoreError> {
        let (sent, received) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            let _ = sent.send(Self::begin_on(conn, deadline).await);
        });
        received
            .await
            .unwrap_or_else(|_| Err(StoreError::Unavailable("BEGIN's task ended".to_owned())))
    }

    async fn begin_on(
        mut conn: PoolConnection<Postgres>,
        deadline: Duration,
    ) -> Result<Self, StoreError> {
        let begun = answered(deadline, sqlx::raw_sql("BEGIN").execute(&mut *conn)).await;
        let given_up = unanswered(&begun);
        match begun {
            Ok(_) => Ok(Self {
                conn: Some(conn),
                deadline,
            }),
            Err(error) => {
                if given_up {
                    drop(conn.detach());
                }
                Err(error)
            }
        }
    }

    fn conn(&mut self) -> Conn<'_> {
        match self.conn.as_mut() {
            Some(conn) => Conn::Postgres(conn, self.deadline),
            None => Conn::Ended,
        }
    }

    /// Commits from a task that owns the connection until `COMMIT` has its answer, as
    /// [`Self::begin`] does: a request dropped meanwhile cannot put the connection back in the
    /// pool before its transaction has ended.
    async fn commit(mut self) -> Result<(), StoreError> {
        let Some(mut conn) = self.conn.take() else {
            return Err(ended());
        };
        let deadline = self.deadline;
        let committing = tokio::spawn(async move {
            let committed = answered(deadline, sqlx::raw_sql("COMMIT").execute(&mut *conn)).await;
            if unanswered(&committed) {
                drop(conn.detach());
            }
            committed.map(drop)
        });
        committing
            .await
            .unwrap_or_else(|_| Err(StoreError::Unavailable("COMMIT's task ended".to_owned())))
    }
}

/// Rolls an uncommitted transaction back before its connection serves again, in a task of its
/// own (a drop cannot wait); a connection whose `ROLLBACK` has no answer, or that has no
/// runtime to roll back on, is closed instead, which ends the transaction on the server.
impl Drop for PgTx {
    fn drop(&mut self) {
        let Some(mut conn) = self.conn.take() else {
            return;
        };
        let deadline = self.deadline;
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move {
                    let rollback = sqlx::raw_sql("ROLLBACK").execute(&mut *conn);
                    if answered(deadline, rollback).await.is_err() {
                        drop(conn.detach());
                    }
                });
            }
            Err(_) => drop(conn.detach()),
        }
    }
}

/// What a statement on a transaction that has ended answers: never met, since a commit takes
/// the transaction.
fn ended() -> StoreError {
    StoreError::Unavailable("the transaction has ended".to_owned())
}

/// Which database a statement is for, where one SQL text cannot serve both (the feed's page:
/// SQLite has no `LATERAL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Postgres,
    Sqlite,
}

/// Reads and writes go through different methods, because on SQLite they go to different pools:
/// read-only readers, and the one writer (see `sqlite`). On PostgreSQL both are the one pool.
impl Store {
    pub(crate) fn dialect(&self) -> Dialect {
        match self {
            Self::Postgres(_) => Dialect::Postgres,
            Self::Sqlite(_) => Dialect::Sqlite,
        }
    }

    /// A connection for reading.
    pub(crate) async fn acquire(&self) -> Result<Pooled, StoreError> {
        match self {
            Self::Postgres(pg) => pg
                .pool
                .acquire()
                .await
                .map(|conn| Pooled::Postgres(conn, pg.deadline)),
            Self::Sqlite(pools) => pools.reader.acquire().await.map(Pooled::Sqlite),
        }
        .map_err(store_error)
    }

    /// The connection for writing: on SQLite, the one writer, waited for in turn.
    async fn acquire_writer(&self) -> Result<Pooled, StoreError> {
        match self {
            Self::Postgres(_) => self.acquire().await,
            Self::Sqlite(pools) => pools
                .writer
                .acquire()
                .await
                .map(Pooled::Sqlite)
                .map_err(store_error),
        }
    }

    /// Runs one reading statement: [`Conn::fetch_one`].
    pub(crate) async fn fetch_one<R: Row>(
        &self,
        sql: impl SqlSafeStr,
        args: Args,
    ) -> Result<R, StoreError> {
        let mut pooled = self.acquire().await?;
        let row = pooled.conn().fetch_one(sql, args).await;
        pooled.settle(&row);
        row
    }

    /// Runs one reading statement: [`Conn::fetch_optional`].
    pub(crate) async fn fetch_optional<R: Row>(
        &self,
        sql: impl SqlSafeStr,
        args: Args,
    ) -> Result<Option<R>, StoreError> {
        let mut pooled = self.acquire().await?;
        let row = pooled.conn().fetch_optional(sql, args).await;
        pooled.settle(&row);
        row
    }

    /// Runs one reading statement: [`Conn::fetch_all`].
    pub(crate) async fn fetch_all<R: Row>(
        &self,
        sql: impl SqlSafeStr,
        args: Args,
    ) -> Result<Vec<R>, StoreError> {
        let mut pooled = self.acquire().await?;
        let rows = pooled.conn().fetch_all(sql, args).await;
        pooled.settle(&rows);
        rows
    }

    /// Runs one writing statement that returns a row (`INSERT ... RETURNING`).
    pub(crate) async fn write_one<R: Row>(
        &self,
        sql: impl SqlSafeStr,
        args: Args,
    ) -> Result<R, StoreError> {
        let mut pooled = self.acquire_writer().await?;
        let row = pooled.conn().fetch_one(sql, args).await;
        pooled.settle(&row);
        let row = row?;
        self.wrote();
        Ok(row)
    }

    /// Runs one writing statement that may return a row (`UPDATE ... RETURNING`).
    pub(crate) async fn write_optional<R: Row>(
        &self,
        sql: impl SqlSafeStr,
        args: Args,
    ) -> Result<Option<R>, StoreError> {
        let mut pooled = self.acquire_writer().await?;
        let row = pooled.conn().fetch_optional(sql, args).await;
        pooled.settle(&row);
        let row = row?;
        self.wrote();
        Ok(row)
    }

    /// Runs one writing statement: [`Conn::execute`].
    pub(crate) async fn execute(
        &self,
        sql: impl SqlSafeStr,
        args: Args,
    ) -> Result<u64, StoreError> {
        let mut pooled = self.acquire_writer().await?;
        let changed = pooled.conn().execute(sql, args).await;
        pooled.settle(&changed);
        let changed = changed?;
        self.wrote();
        Ok(changed)
    }

    /// After a write, wakes what reads the outbox for new events (the triggers may have
    /// appended some): on SQLite the live fan-out, on PostgreSQL the sequencer, which gives them
    /// their ids and `NOTIFY`s every instance.
    fn wrote(&self) {
        match self {
            Self::Postgres(pg) => pg.written.notify_one(),
            Self::Sqlite(pools) => pools.written.notify_one(),
        }
    }

    /// A write transaction: on SQLite, on the writer, with the write lock taken at `BEGIN`.
    pub(crate) async fn begin(&self) -> Result<Tx, StoreError> {
        match self {
            // `BEGIN` is a round trip too: given up on as a statement is, after the wait for
            // a connection.
            Self::Postgres(pg) => {
                let conn = pg.pool.acquire().await.map_err(store_error)?;
                PgTx::begin(conn, pg.deadline)
                    .await
                    .map(|tx| Tx::Postgres(tx, pg.written.clone()))
            }
            Self::Sqlite(pools) => pools
                .writer
                .begin_with(crate::sqlite::BEGIN_WRITE)
                .await
                .map(|tx| Tx::Sqlite(tx, pools.written.clone()))
                .map_err(store_error),
        }
    }
}
