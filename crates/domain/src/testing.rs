//! What the accounts and sessions tests share: mocks of every port, turned into the use cases.

use std::sync::Arc;

use time::macros::datetime;

use crate::Timestamp;
use crate::accounts::{
    AccountPorts, Accounts, Email, PasswordHash, PasswordPolicy, User, UserId, Username,
};
use crate::articles::{Article, ArticleBody, ArticleId, ArticleSummary, Description, Slug, Title};
use crate::ports::{
    AccessToken, Caller, Clock, MockBreachedPasswords, MockClock, MockLoginFailures,
    MockPasswordHasher, MockRefreshTokenSource, MockSessionRepository, MockTokenCodec,
    MockUserRepository, RefreshToken, RefreshTokenHash, SessionId,
};
use crate::profiles::{Author, Profile};
use crate::sessions::{AuthError, SessionPolicy, SessionPorts, Sessions};
use crate::throttle::ThrottlePolicy;

pub(crate) const NOW: Timestamp = Timestamp::from_offset(datetime!(2026-01-01 12:00 UTC));

pub(crate) const CALLER: Caller = Caller {
    user: UserId(4),
    session: SessionId(40),
};

/// The mocks of every port, configured per test and then turned into the use cases.
pub(crate) struct Ports {
    pub(crate) repository: MockUserRepository,
    pub(crate) sessions: MockSessionRepository,
    pub(crate) hasher: MockPasswordHasher,
    pub(crate) tokens: MockTokenCodec,
    pub(crate) refresh: MockRefreshTokenSource,
    pub(crate) breaches: MockBreachedPasswords,
    pub(crate) clock: Option<Arc<dyn Clock>>,
    pub(crate) policy: SessionPolicy,
    pub(crate) throttle: ThrottlePolicy,
    pub(crate) password_policy: PasswordPolicy,
}

impl Ports {
    pub(crate) fn new() -> Self {
        Self {
            repository: MockUserRepository::new(),
            sessions: MockSessionRepository::new(),
            hasher: MockPasswordHasher::new(),
            tokens: MockTokenCodec::new(),
            refresh: MockRefreshTokenSource::new(),
            breaches: MockBreachedPasswords::new(),
            clock: None,
            policy: SessionPolicy::default(),
            throttle: ThrottlePolicy::default(),
            password_policy: PasswordPolicy::Strict,
        }
    }

    /// Any access token issued is "token-for-<user>-in-<session>"; a refresh token generated is
    /// "refresh-<n>", hashed as "hash-of-refresh-<n>"; a session started is session 1; no
    /// password is breached. None of these has to be used.
    pub(crate) fn issuing_tokens(mut self) -> Self {
        self.tokens.expect_issue().returning(|id, session, _| {
            Ok(AccessToken::new(format!("token-for-{id}-in-{session}")))
        });
        let generated = std::sync::atomic::AtomicU32::new(0);
        self.refresh.expect_generate().returning(move || {
            let n = generated.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            RefreshToken::new(format!("refresh-{n}"))
        });
        self.refresh
            .expect_hash()
            .returning(|token| RefreshTokenHash(format!("hash-of-{token}")));
        self.sessions.expect_start().returning(|_| Ok(SessionId(1)));
        self.breaches.expect_check().returning(|_| Ok(None));
        self
    }

    /// The accounts use case over these mocks, with its sessions over the same ones.
    pub(crate) fn accounts(self) -> Accounts {
        let (throttle, password_policy) = (self.throttle, self.password_policy);
        let (account_ports, sessions) = self.into_ports();
        Accounts::new(account_ports, sessions, throttle, password_policy)
    }

    /// The sessions use case over these mocks.
    pub(crate) fn sessions(self) -> Sessions {
        self.into_ports().1
    }

    fn into_ports(self) -> (AccountPorts, Sessions) {
        let clock = self.clock.unwrap_or_else(|| {
            let mut clock = MockClock::new();
            clock.expect_now().return_const(NOW);
            Arc::new(clock)
        });
        let users = Arc::new(self.repository);
        let sessions = Sessions::new(
            SessionPorts {
                users: users.clone(),
                sessions: Arc::new(self.sessions),
                tokens: Arc::new(self.tokens),
                refresh_tokens: Arc::new(self.refresh),
                clock: clock.clone(),
            },
            self.policy,
        );
        let accounts = AccountPorts {
            users,
            hasher: Arc::new(self.hasher),
            breaches: Arc::new(self.breaches),
            clock,
            login_failures: Arc::new(remembered_failures()),
        };
        (accounts, sessions)
    }
}

/// A store of failed logins that remembers them, for the accounts tests that meet the throttle
/// through login. The throttle's own rules are tested with mocks in `throttle.rs`, and over every
/// real store by the contract suite (`conduit-test-support`).
fn remembered_failures() -> MockLoginFailures {
    type Failures = std::sync::Mutex<std::collections::HashMap<String, Vec<Timestamp>>>;
    fn lock(
        failures: &Failures,
    ) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, Vec<Timestamp>>> {
        failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
    let failures: Arc<Failures> = Arc::default();
    let mut mock = MockLoginFailures::new();
    let kept = failures.clone();
    mock.expect_attempt()
        .returning(move |limits, at, since, _| {
            let mut failures = lock(&kept);
            let latest: Vec<Vec<Timestamp>> = limits
                .iter()
                .map(|(key, limit)| {
                    let mut latest: Vec<Timestamp> = failures
                        .get(&key.to_stored())
                        .into_iter()
                        .flatten()
                        .copied()
                        .filter(|time| *time > since)
                        .collect();
                    latest.sort_unstable_by(|a, b| b.cmp(a));
                    latest.truncate(*limit as usize);
                    latest
                })
                .collect();
            let under = limits
                .iter()
                .zip(&latest)
                .all(|((_, limit), latest)| latest.len() < *limit as usize);
            if under {
                for (key, _) in limits {
                    failures.entry(key.to_stored()).or_default().push(at);
                }
            }
            Ok(latest)
        });
    let kept = failures.clone();
    mock.expect_withdraw().returning(move |keys, at| {
        for key in keys {
            if let Some(times) = lock(&kept).get_mut(&key.to_stored())
                && let Some(found) = times.iter().position(|time| *time == at)
            {
                times.remove(found);
            }
        }
        Ok(())
    });
    mock.expect_clear().returning(move |key| {
        lock(&failures).remove(&key.to_stored());
        Ok(())
    });
    mock
}

/// An article as a store answers it: article 10, `slug`, by user `by`, written at [`NOW`], with
/// no tag and no favourite.
pub(crate) fn stored_article(slug: &str, by: UserId) -> Article {
    Article {
        summary: ArticleSummary {
            id: ArticleId(10),
            slug: Slug::parse(slug).expect("valid slug"),
            title: Title::parse("A title").expect("valid"),
            description: Description::parse("About it").expect("valid"),
            tags: vec![],
            created_at: NOW,
            updated_at: NOW,
            author: author(by),
            favorited: false,
            favorites_count: 0,
        },
        body: ArticleBody::parse("Text").expect("valid"),
    }
}

/// User `id` (named `user<id>`) as a profile: another user sees them, not following them.
pub(crate) fn author(id: UserId) -> Author {
    Author {
        id,
        profile: Profile {
            username: Username::parse(&format!("user{}", id.0)).expect("valid"),
            bio: None,
            image: None,
            following: false,
        },
    }
}

pub(crate) fn stored_user(id: i64, username: &str, email: &str) -> User {
    User {
        id: UserId(id),
        username: Username::parse(username).expect("valid username"),
        email: Email::parse(email).expect("valid email"),
        bio: None,
        image: None,
        password_hash: PasswordHash::from_phc(format!("hash-of-{username}")),
        created_at: NOW,
        updated_at: NOW,
    }
}

pub(crate) fn field_errors(error: AuthError) -> Vec<(String, String)> {
    match error {
        AuthError::Invalid(errors) => errors
            .iter()
            .map(|(field, message)| (field.to_owned(), message.to_owned()))
            .collect(),
        other => panic!("expected invalid input, got {other:?}"),
    }
}

pub(crate) fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected
        .iter()
        .map(|(field, message)| ((*field).to_owned(), (*message).to_owned()))
        .collect()
}
