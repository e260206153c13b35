//! The use cases wired over their ports, in one place: the server wires them over the real
//! adapters, the web tests over fakes and mocks, with the same [`UseCases::wire`].

use std::fmt;
use std::sync::Arc;

use time::Duration;

use crate::accounts::{AccountPorts, Accounts, PasswordPolicy};
use crate::articles::Articles;
use crate::live::{Live, LivePorts};
use crate::ports::{
    ArticleRepository, BreachedPasswords, Clock, CommentRepository, EventLog, LoginFailures,
    PasswordHasher, ProfileRepository, RefreshTokenSource, SessionRepository, TokenCodec,
    UserRepository,
};
use crate::profiles::Profiles;
use crate::sessions::{SessionPolicy, SessionPorts, Sessions};
use crate::throttle::ThrottlePolicy;

/// Every port of every use case, each given once.
pub struct Ports {
    pub users: Arc<dyn UserRepository>,
    pub profiles: Arc<dyn ProfileRepository>,
    pub articles: Arc<dyn ArticleRepository>,
    pub comments: Arc<dyn CommentRepository>,
    pub sessions: Arc<dyn SessionRepository>,
    pub events: Arc<dyn EventLog>,
    pub login_failures: Arc<dyn LoginFailures>,
    pub hasher: Arc<dyn PasswordHasher>,
    pub breaches: Arc<dyn BreachedPasswords>,
    pub tokens: Arc<dyn TokenCodec>,
    pub refresh_tokens: Arc<dyn RefreshTokenSource>,
    pub clock: Arc<dyn Clock>,
}

impl fmt::Debug for Ports {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ports").finish_non_exhaustive()
    }
}

/// The rules the use cases follow, from configuration.
#[derive(Debug, Clone)]
pub struct Policies {
    pub sessions: SessionPolicy,
    pub throttle: ThrottlePolicy,
    pub passwords: PasswordPolicy,
    /// How long live events are kept for a resume.
    pub live_retention: Duration,
    /// How many events a resume reads at most ([`Live::with_replay_limit`]).
    pub live_replay_max: u64,
}

impl Default for Policies {
    /// The defaults of configuration, with production's password rules.
    fn default() -> Self {
        Self {
            sessions: SessionPolicy::default(),
            throttle: ThrottlePolicy::default(),
            passwords: PasswordPolicy::Strict,
            live_retention: Duration::DAY,
            live_replay_max: Live::REPLAY_LIMIT,
        }
    }
}

/// Every use case, over one set of ports.
#[derive(Clone)]
pub struct UseCases {
    pub accounts: Accounts,
    pub sessions: Sessions,
    pub profiles: Profiles,
    pub articles: Articles,
    pub live: Live,
}

impl fmt::Debug for UseCases {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UseCases").finish_non_exhaustive()
    }
}

impl UseCases {
    pub fn wire(ports: Ports, policies: Policies) -> Self {
        let sessions = Sessions::new(
            SessionPorts {
                users: ports.users.clone(),
                sessions: ports.sessions,
                tokens: ports.tokens,
                refresh_tokens: ports.refresh_tokens,
                clock: ports.clock.clone(),
            },
            policies.sessions,
        );
        let accounts = Accounts::new(
            AccountPorts {
                users: ports.users,
                hasher: ports.hasher,
                breaches: ports.breaches,
                clock: ports.clock.clone(),
                login_failures: ports.login_failures,
            },
            sessions.clone(),
            policies.throttle,
            policies.passwords,
        );
        let live = Live::new(
            LivePorts {
                log: ports.events,
                articles: ports.articles.clone(),
                comments: ports.comments.clone(),
                profiles: ports.profiles.clone(),
                clock: ports.clock.clone(),
            },
            policies.live_retention,
        )
        .with_replay_limit(policies.live_replay_max);
        Self {
            accounts,
            sessions,
            profiles: Profiles::new(ports.profiles),
            articles: Articles::new(ports.articles, ports.comments, ports.clock),
            live,
        }
    }
}
