//! The store contract: one suite, written once, that every store adapter must pass.
//!
//! Each check is an async function over the repositories of one store. [`store_contract!`] turns
//! the whole list into `#[tokio::test]`s for one store, given an async expression that yields a
//! [`ContractStore`]:
//!
//! ```text
//! conduit_test_support::store_contract!(async { ContractStore::in_memory() });
//! ```

pub mod articles;
pub mod comments;
pub mod live;
pub mod login_failures;
pub mod profiles;
pub mod sessions;
pub mod users;

use std::sync::Arc;

use conduit_domain::Timestamp;
use conduit_domain::accounts::{UserId, Username};
use conduit_domain::articles::{
    Article, ArticleId, ArticleSummary, CommentBody, CommentId, NewArticle, NewComment,
};
use conduit_domain::ports::{
    ArticleRepository, CommentRepository, EventLog, LoginFailures, NewSession, ProfileRepository,
    RefreshTokenHash, SessionId, SessionRepository, StoreError, UserRepository,
};
#[cfg(feature = "stores")]
use conduit_persistence::Store;
use time::Duration;
use time::macros::datetime;

use crate::builders::{NewArticleBuilder, NewUserBuilder, unique};
use crate::fakes::InMemoryStore;

/// The repositories of one store under test, plus whatever must live as long as the test (a
/// database, a temporary directory).
#[allow(missing_debug_implementations)] // Holds trait objects that have no Debug.
pub struct ContractStore {
    pub users: Arc<dyn UserRepository>,
    pub profiles: Arc<dyn ProfileRepository>,
    pub articles: Arc<dyn ArticleRepository>,
    pub comments: Arc<dyn CommentRepository>,
    pub sessions: Arc<dyn SessionRepository>,
    pub login_failures: Arc<dyn LoginFailures>,
    pub events: Arc<dyn EventLog>,
    /// Writes an outbox row that no write through the ports makes (see [`RawEvent`]).
    pub raw_event: RawEventWriter,
    /// Folds the changes of the list counts into the counts, as a running PostgreSQL store does
    /// after its writes; nothing for stores whose writes keep the counts themselves.
    pub fold_counts: FoldCounts,
    _guard: Box<dyn std::any::Any + Send>,
}

/// An outbox row as a hand, a half-applied migration or another version of Conduit writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawEvent {
    /// A `comment.created` row without its article: a kind this version knows, missing a field
    /// that kind needs.
    MissingArticle,
    /// A kind this version does not know, as a newer version writes it during a rolling deploy.
    UnknownKind(&'static str),
}

/// Appends a [`RawEvent`] to a store's outbox, past the ports.
pub type RawEventWriter = Box<
    dyn Fn(RawEvent) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>
        + Send
        + Sync,
>;

/// See [`ContractStore::fold_counts`].
pub type FoldCounts =
    Arc<dyn Fn() -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> + Send + Sync>;

impl ContractStore {
    /// A fresh in-memory fake.
    pub fn in_memory() -> Self {
        let store = Arc::new(InMemoryStore::new());
        Self {
            users: store.clone(),
            profiles: store.clone(),
            articles: store.clone(),
            comments: store.clone(),
            sessions: store.clone(),
            login_failures: store.clone(),
            events: store.clone(),
            raw_event: Box::new(move |raw| {
                store.append_raw(raw);
                Box::pin(std::future::ready(()))
            }),
            fold_counts: Arc::new(|| Box::pin(std::future::ready(()))),
            _guard: Box::new(()),
        }
    }

    /// The repositories of a connected store; `guard` is dropped with the test.
    #[cfg(feature = "stores")]
    pub fn of(store: &Store, guard: impl std::any::Any + Send) -> Self {
        Self {
            users: store.users(),
            profiles: store.profiles(),
            articles: store.articles(),
            comments: store.comments(),
            sessions: store.sessions(),
            login_failures: store.login_failures(),
            events: store.event_log(),
            raw_event: raw_sql_event(store),
            fold_counts: {
                let store = store.clone();
                Arc::new(move || {
                    let store = store.clone();
                    Box::pin(async move { store.fold_counts().await.expect("folds the counts") })
                })
            },
            _guard: Box::new(guard),
        }
    }
}

/// Inserts a [`RawEvent`] into `live_events` with SQL. On PostgreSQL it goes straight to the
/// sequenced table, as a sequencer of a newer version would move it; on SQLite, past the kind's
/// `CHECK`, which a newer version's migration would have widened.
#[cfg(feature = "stores")]
fn raw_sql_event(store: &Store) -> RawEventWriter {
    let store = store.clone();
    Box::new(move |raw| {
        let store = store.clone();
        Box::pin(async move {
            let (kind, actor) = match raw {
                RawEvent::MissingArticle => ("comment.created", Some(1_i64)),
                RawEvent::UnknownKind(kind) => (kind, None),
            };
            const INSERT: &str = "INSERT INTO live_events (kind, actor_id) VALUES ($1, $2)";
            match &store {
                Store::Postgres(pg) => sqlx::query(INSERT)
                    .bind(kind)
                    .bind(actor)
                    .execute(&pg.pool)
                    .await
                    .map(drop),
                Store::Sqlite(pools) => {
                    async {
                        let mut writer = pools.writer.acquire().await?;
                        sqlx::query("PRAGMA ignore_check_constraints = ON")
                            .execute(&mut *writer)
                            .await?;
                        let inserted = sqlx::query(INSERT)
                            .bind(kind)
                            .bind(actor)
                            .execute(&mut *writer)
                            .await;
                        sqlx::query("PRAGMA ignore_check_constraints = OFF")
                            .execute(&mut *writer)
                            .await?;
                        inserted.map(drop)
                    }
                    .await
                }
            }
            .expect("writes the raw event");
        })
    })
}

/// The time the profile, article and comment checks start from.
pub(crate) const T0: Timestamp = Timestamp::from_offset(datetime!(2026-03-01 10:00:00.000 UTC));

/// A new author, and a new reader who follows them: their ids.
pub(crate) async fn author_and_follower(store: &ContractStore) -> (UserId, UserId) {
    let (author, _) = user(store).await;
    let (reader, _) = user(store).await;
    store
        .profiles
        .follow(reader, author)
        .await
        .expect("follows");
    (author, reader)
}

/// A new user's id and username.
pub(crate) async fn user(store: &ContractStore) -> (UserId, Username) {
    let user = store
        .users
        .insert(NewUserBuilder::new().build())
        .await
        .expect("inserts a user");
    (user.id, user.username)
}

/// A session of `user` that is live at every time the checks use.
pub(crate) async fn live_session(store: &ContractStore, user: UserId) -> SessionId {
    store
        .sessions
        .start(NewSession {
            user,
            token: RefreshTokenHash(format!("hash-{}", unique())),
            created_at: T0 - Duration::days(3650),
            token_expires_at: T0 + Duration::days(3650),
            expires_at: T0 + Duration::days(3650),
        })
        .await
        .expect("starts a session")
}

/// Inserts `new` in a live session of its author: the article as they see it, or why not.
pub(crate) async fn insert_article(
    store: &ContractStore,
    new: NewArticle,
) -> Result<Article, StoreError> {
    let session = live_session(store, new.author).await;
    store
        .articles
        .insert(new, session)
        .await
        .map(|article| article.expect("a live session writes"))
}

/// A new article, as its author sees it.
pub(crate) async fn article(store: &ContractStore, builder: NewArticleBuilder) -> ArticleSummary {
    insert_article(store, builder.build())
        .await
        .expect("inserts an article")
        .summary
}

/// The slugs of `articles`, in order.
pub(crate) fn slugs(articles: &[ArticleSummary]) -> Vec<&str> {
    articles
        .iter()
        .map(|article| article.slug.as_str())
        .collect()
}

/// A comment by `author` on `article`, made at `at`.
pub(crate) async fn comment_on(
    store: &ContractStore,
    article: ArticleId,
    author: UserId,
    at: Timestamp,
) -> CommentId {
    store
        .comments
        .insert(NewComment {
            article,
            author,
            body: CommentBody::parse("A comment").expect("valid"),
            created_at: at,
        })
        .await
        .expect("comments")
        .id
}

/// Generates one test per contract check against the store that `$store` (an async expression
/// yielding a [`ContractStore`]) makes. A check written in one of the modules above and missing
/// here fails the unit test `every_contract_check_is_registered`.
#[macro_export]
macro_rules! store_contract {
    ($store:expr) => {
        $crate::store_contract!(@checks $store; users;
            inserted_user_reads_back_by_id_and_email,
            ids_are_distinct,
            username_is_unique_regardless_of_case,
            email_is_unique,
            a_refused_insert_writes_nothing,
            concurrent_registrations_of_one_username_admit_exactly_one,
            unknown_ids_and_emails_find_nothing,
            update_changes_only_what_it_names,
            update_can_clear_optional_fields,
            update_to_a_taken_username_is_a_conflict_and_changes_nothing,
            when_username_and_email_are_both_taken_the_conflict_names_the_username,
            update_of_an_unknown_user_finds_nothing,
        );
        $crate::store_contract!(@checks $store; profiles;
            a_profile_is_found_regardless_of_case_as_the_viewer_sees_it,
            following_and_unfollowing_are_idempotent,
        );
        $crate::store_contract!(@checks $store; articles;
            an_inserted_article_reads_back_by_slug_with_its_tags_in_order,
            an_article_is_written_only_in_a_live_session_of_its_author,
            a_taken_slug_is_a_conflict_and_writes_nothing,
            an_update_changes_only_what_it_names,
            an_update_to_a_taken_slug_is_a_conflict_and_changes_nothing,
            an_update_or_delete_of_an_unknown_article_finds_nothing,
            deleting_an_article_takes_its_tags_favourites_and_comments,
            lists_are_most_recent_first_with_a_stable_tie_break,
            pages_are_cut_by_limit_and_offset_and_count_every_match,
            filters_match_exactly_and_combine,
            the_feed_holds_followed_authors_only,
            feed_pages_interleave_authors_in_one_order,
            the_feed_at_the_largest_offset_is_an_empty_page,
            favourites_count_once_and_show_for_the_viewer_only,
            a_favourite_answers_the_article_as_its_user_then_sees_it,
            articles_are_found_by_ids_as_the_viewer_sees_them,
            twelve_concurrent_favourites_by_one_user_count_once_and_each_answer_says_so,
            thirty_two_concurrent_writers_all_succeed,
            tags_are_listed_most_used_first,
            tags_are_capped_at_the_limit_keeping_the_most_used,
            tags_follow_deletes_and_a_tag_on_no_article_is_not_listed,
            counts_and_tags_read_the_same_before_and_after_a_fold,
            counts_stay_exact_when_folds_run_among_writers,
        );
        $crate::store_contract!(@checks $store; comments;
            comments_are_listed_oldest_first_per_article,
            a_comment_is_found_by_id_and_deleted_once,
        );
        $crate::store_contract!(@checks $store; sessions;
            a_token_is_fresh_once_then_used,
            added_tokens_belong_to_their_session_with_their_own_expiry,
            revoking_a_session_reaches_all_its_tokens_and_no_other_session,
            revoking_all_spares_the_excepted_session_and_other_users,
            concurrent_uses_of_one_token_find_it_fresh_exactly_once,
            a_live_session_names_its_user_until_revoked_or_past_its_expiry,
            the_user_of_a_live_session_is_read_with_the_check,
        );
        $crate::store_contract!(@checks $store; login_failures;
            failures_are_counted_per_key_latest_first_up_to_the_limit,
            an_account_and_a_client_with_the_same_text_are_different_keys,
            only_failures_after_since_count,
            clearing_a_key_forgets_its_failures_and_no_others,
            concurrent_failures_of_one_key_all_count,
            recording_forgets_failures_of_every_key_up_to_forget_until,
            the_throttle_locks_an_account_after_the_limit_until_the_oldest_failure_leaves_the_window,
            the_throttle_resets_an_account_on_success_but_not_its_client,
            the_throttle_locks_one_client_trying_many_accounts,
            attempts_racing_on_one_account_admit_exactly_its_limit,
            withdrawals_racing_on_alike_failures_take_one_each,
            withdrawing_takes_back_one_failure_of_each_key_at_that_time,
        );
        $crate::store_contract!(@checks $store; live;
            each_write_appends_one_event_in_order,
            a_refused_write_appends_nothing,
            events_are_read_after_an_id_a_page_at_a_time,
            the_events_of_a_deleted_article_are_left_out_and_ids_never_go_back,
            sequencing_twice_gives_nothing_more,
            an_unreadable_row_or_unknown_kind_is_read_as_such_and_holds_nothing_up,
            a_resume_ahead_of_the_fan_out_repeats_nothing_and_skips_nothing,
            a_prune_during_a_replay_makes_it_a_reset,
            pruning_removes_old_events_but_the_newest_and_says_how_far,
        );
    };
    (@checks $store:expr; $module:ident; $($check:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() {
                let store: $crate::contract::ContractStore = $store.await;
                $crate::contract::$module::$check(&store).await;
            }
        )+
    };
}

#[cfg(test)]
mod tests;
