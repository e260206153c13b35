//! Failed logins in the database: [`SqlLoginFailures`], so that replicas share one count and a
//! restart keeps it. The same statements serve PostgreSQL and SQLite.

use async_trait::async_trait;
use conduit_domain::Timestamp;
use conduit_domain::ports::{LoginFailures, StoreError, ThrottleKey};

use crate::Store;
use crate::db::{Args, DbTime, Dialect};

const INSERT: &str = "INSERT INTO login_failures (key, failed_at) VALUES ($1, $2)";

const FORGET: &str = "DELETE FROM login_failures WHERE failed_at <= $1";

const LATEST: &str = "
    SELECT failed_at FROM login_failures
    WHERE key = $1 AND failed_at > $2
    ORDER BY failed_at DESC
    LIMIT $3";

/// One row of the key at that time: rows alike are interchangeable, so whichever goes is right.
/// The row's address is each database's own (`ctid`, `rowid`).
fn withdraw_sql(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Postgres => {
            "DELETE FROM login_failures WHERE ctid = (SELECT ctid FROM login_failures
                WHERE key = $1 AND failed_at = $2 LIMIT 1)"
        }
        Dialect::Sqlite => {
            "DELETE FROM login_failures WHERE rowid = (SELECT rowid FROM login_failures
                WHERE key = $1 AND failed_at = $2 LIMIT 1)"
        }
    }
}

const CLEAR: &str = "DELETE FROM login_failures WHERE key = $1";

/// Failed logins in the database's `login_failures` table.
#[derive(Debug, Clone)]
pub(crate) struct SqlLoginFailures {
    store: Store,
}

impl SqlLoginFailures {
    pub(crate) fn new(store: Store) -> Self {
        Self { store }
    }
}

#[async_trait]
impl LoginFailures for SqlLoginFailures {
    async fn record(
        &self,
        keys: &[ThrottleKey],
        at: Timestamp,
        forget_until: Timestamp,
    ) -> Result<(), StoreError> {
        let mut tx = self.store.begin().await?;
        tx.conn()
            .execute(FORGET, Args::new().bind(forget_until))
            .await?;
        for key in keys {
            let args = Args::new().bind(key.to_stored()).bind(at);
            tx.conn().execute(INSERT, args).await?;
        }
        tx.commit().await
    }

    async fn latest(
        &self,
        key: &ThrottleKey,
        since: Timestamp,
        limit: u32,
    ) -> Result<Vec<Timestamp>, StoreError> {
        let args = Args::new()
            .bind(key.to_stored())
            .bind(since)
            .bind(i64::from(limit));
        let rows: Vec<(DbTime,)> = self.store.fetch_all(LATEST, args).await?;
        Ok(rows.into_iter().map(|(at,)| at.into()).collect())
    }

    async fn withdraw(&self, keys: &[ThrottleKey], at: Timestamp) -> Result<(), StoreError> {
        let sql = withdraw_sql(self.store.dialect());
        for key in keys {
            let args = Args::new().bind(key.to_stored()).bind(at);
            self.store.execute(sql, args).await?;
        }
        Ok(())
    }

    async fn clear(&self, key: &ThrottleKey) -> Result<(), StoreError> {
        self.store
            .execute(CLEAR, Args::new().bind(key.to_stored()))
            .await?;
        Ok(())
    }
}
