//! The store contract: one suite, written once, that every store adapter must pass.
//!
//! Each check is an async function over a repository. [`store_contract!`] turns the whole list into
//! `#[tokio::test]`s for one store, given an async expression that yields a [`ContractStore`]:
//!
//! ```ignore
//! conduit_test_support::store_contract!(async { ContractStore::new(Arc::new(InMemoryUserRepository::new())) });
//! ```

pub mod users;

use std::sync::Arc;

use conduit_domain::ports::UserRepository;

/// A store under test, plus whatever must live as long as the test (a database, a temp dir).
#[allow(missing_debug_implementations)] // Holds trait objects that have no Debug.
pub struct ContractStore {
    pub users: Arc<dyn UserRepository>,
    _guard: Box<dyn std::any::Any + Send>,
}

impl ContractStore {
    pub fn new(users: Arc<dyn UserRepository>) -> Self {
        Self::with_guard(users, ())
    }

    pub fn with_guard(users: Arc<dyn UserRepository>, guard: impl std::any::Any + Send) -> Self {
        Self {
            users,
            _guard: Box::new(guard),
        }
    }
}

/// Generates one test per contract check against the store that `$store` (an async expression
/// yielding a [`ContractStore`]) makes. Add a check here and in [`users`], and every store runs it.
#[macro_export]
macro_rules! store_contract {
    ($store:expr) => {
        $crate::store_contract!(@tests $store;
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
            update_of_an_unknown_user_finds_nothing,
        );
    };
    (@tests $store:expr; $($check:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() {
                let store: $crate::contract::ContractStore = $store.await;
                $crate::contract::users::$check(store.users.clone()).await;
            }
        )+
    };
}
