//! Failed logins in the database: [`SqlLoginFailures`], so that replicas share one count and a
//! restart keeps it. The same statements serve PostgreSQL and SQLite.

use async_trait::async_trait;
use conduit_domain::Timestamp;
use conduit_domain::ports::{LoginFailures, StoreError, ThrottleKey};

use sqlx::AssertSqlSafe;

use crate::Store;
use crate::db::{Args, DbTime, Dialect, Tx};

const INSERT: &str = "INSERT INTO login_failures (key, failed_at) VALUES ($1, $2)";

const FORGET: &str = "DELETE FROM login_failures WHERE failed_at <= $1";

const LATEST: &str = "
    SELECT failed_at FROM login_failures
    WHERE key = $1 AND failed_at > $2
    ORDER BY failed_at DESC
    LIMIT $3";

/// Orders what follows in its transaction with every other attempt and withdrawal on the keys
/// `$1` to `$n`: PostgreSQL's transaction-scoped advisory locks, in the two-key space (which no
/// other lock of this schema uses), on 0x6c6f676e ("logn") and each key's hash, taken in the
/// order of the hashes, so that no two calls wait for each other in a circle. Two keys with
/// one hash only wait for each other. SQLite needs none: its write transactions run one at a
/// time.
fn lock_keys_sql(keys: usize) -> AssertSqlSafe<String> {
    let values: Vec<String> = (1..=keys).map(|n| format!("(${n})")).collect();
    AssertSqlSafe(format!(
        "SELECT pg_advisory_xact_lock(1819240302, h) FROM (
            SELECT DISTINCT hashtext(k) AS h FROM (VALUES {}) AS v (k) ORDER BY h) AS hashes",
        values.join(", ")
    ))
}

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

impl SqlLoginFailures {
    /// Locks the keys ([`lock_keys_sql`]) until `tx` ends; on SQLite, nothing.
    async fn lock_keys<'k>(
        &self,
        tx: &mut Tx,
        keys: impl Iterator<Item = &'k ThrottleKey>,
    ) -> Result<(), StoreError> {
        if self.store.dialect() != Dialect::Postgres {
            return Ok(());
        }
        let stored: Vec<String> = keys.map(ThrottleKey::to_stored).collect();
        if stored.is_empty() {
            return Ok(());
        }
        let sql = lock_keys_sql(stored.len());
        let args = stored.into_iter().fold(Args::new(), Args::bind);
        tx.conn().execute(sql, args).await?;
        Ok(())
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

    async fn attempt(
        &self,
        limits: &[(ThrottleKey, u32)],
        at: Timestamp,
        since: Timestamp,
        forget_until: Timestamp,
    ) -> Result<Vec<Vec<Timestamp>>, StoreError> {
        let mut tx = self.store.begin().await?;
        self.lock_keys(&mut tx, limits.iter().map(|(key, _)| key))
            .await?;
        tx.conn()
            .execute(FORGET, Args::new().bind(forget_until))
            .await?;
        let mut latest = Vec::with_capacity(limits.len());
        for (key, limit) in limits {
            let args = Args::new()
                .bind(key.to_stored())
                .bind(since)
                .bind(i64::from(*limit));
            let rows: Vec<(DbTime,)> = tx.conn().fetch_all(LATEST, args).await?;
            latest.push(
                rows.into_iter()
                    .map(|(at,)| at.into())
                    .collect::<Vec<Timestamp>>(),
            );
        }
        let under = limits.iter().zip(&latest).all(|((_, limit), latest)| {
            latest.len() < usize::try_from(*limit).unwrap_or(usize::MAX)
        });
        if under {
            for (key, _) in limits {
                let args = Args::new().bind(key.to_stored()).bind(at);
                tx.conn().execute(INSERT, args).await?;
            }
        }
        tx.commit().await?;
        Ok(latest)
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
        let mut tx = self.store.begin().await?;
        self.lock_keys(&mut tx, keys.iter()).await?;
        for key in keys {
            let args = Args::new().bind(key.to_stored()).bind(at);
            tx.conn().execute(sql, args).await?;
        }
        tx.commit().await
    }

    async fn clear(&self, key: &ThrottleKey) -> Result<(), StoreError> {
        self.store
            .execute(CLEAR, Args::new().bind(key.to_stored()))
            .await?;
        Ok(())
    }
}
