//! The breached-password check: the k-anonymity range protocol of Have I Been Pwned's Pwned
//! Passwords API (`GET {base}/range/{first 5 hex digits of the SHA-1}`), which answers every
//! suffix of that prefix it knows, with a count. Only the five-digit prefix leaves the server.

use std::time::Duration;

use async_trait::async_trait;
use conduit_domain::accounts::Password;
use conduit_domain::ports::{BreachCheckError, BreachedPasswords};
use sha1::{Digest, Sha1};

/// From configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BreachCheckSettings {
    /// The API's base URL, e.g. `https://api.pwnedpasswords.com`.
    pub base_url: String,
    pub timeout: Duration,
    /// A password seen this many times or more is refused.
    pub threshold: u64,
    /// When the API cannot answer: `true` lets the password through (with a warning in the
    /// log), `false` refuses to go on.
    pub fail_open: bool,
}

/// The production [`BreachedPasswords`].
#[derive(Debug, Clone)]
pub struct RangeApiBreachCheck {
    client: reqwest::Client,
    settings: BreachCheckSettings,
}

impl RangeApiBreachCheck {
    /// # Errors
    /// When no HTTP client can be built (no TLS configuration).
    pub fn new(settings: BreachCheckSettings) -> Result<Self, String> {
        crate::install_tls_provider();
        let client = reqwest::Client::builder()
            .timeout(settings.timeout)
            .user_agent("conduit-breach-check")
            .build()
            .map_err(|error| format!("cannot build the HTTP client: {error}"))?;
        Ok(Self { client, settings })
    }

    /// How often the range API has seen the password; 0 when never.
    async fn times_seen(&self, password: &Password) -> Result<u64, String> {
        let digest: String = Sha1::digest(password.expose().as_bytes())
            .iter()
            .map(|byte| format!("{byte:02X}"))
            .collect();
        let (prefix, suffix) = digest.split_at(5);
        let url = format!(
            "{}/range/{prefix}",
            self.settings.base_url.trim_end_matches('/')
        );
        let response = self
            .client
            .get(&url)
            // Padding hides even the size of the answer from anyone watching the wire.
            .header("Add-Padding", "true")
            .send()
            .await
            .map_err(|error| format!("the range API did not answer: {}", error.without_url()))?;
        if !response.status().is_success() {
            return Err(format!("the range API answered {}", response.status()));
        }
        let body = response
            .text()
            .await
            .map_err(|error| format!("the range API's answer was cut: {}", error.without_url()))?;
        for line in body.lines().map(str::trim).filter(|line| !line.is_empty()) {
            let (candidate, count) = line
                .split_once(':')
                .ok_or_else(|| "the range API's answer is malformed".to_owned())?;
            let count: u64 = count
                .trim()
                .parse()
                .map_err(|_| "the range API's answer is malformed".to_owned())?;
            if candidate.eq_ignore_ascii_case(suffix) {
                return Ok(count);
            }
        }
        Ok(0)
    }
}

#[async_trait]
impl BreachedPasswords for RangeApiBreachCheck {
    async fn check(&self, password: &Password) -> Result<Option<u64>, BreachCheckError> {
        match self.times_seen(password).await {
            // Padding entries have a count of 0: never a match.
            Ok(seen) if seen >= self.settings.threshold.max(1) => Ok(Some(seen)),
            Ok(_) => Ok(None),
            Err(problem) if self.settings.fail_open => {
                tracing::warn!(problem = %problem, "breached-password check skipped (fails open)");
                Ok(None)
            }
            Err(problem) => Err(BreachCheckError(problem)),
        }
    }
}

#[cfg(test)]
mod tests;

/// No breach check: every password passes. The default until a range API is configured.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoBreachCheck;

#[async_trait]
impl BreachedPasswords for NoBreachCheck {
    async fn check(&self, _password: &Password) -> Result<Option<u64>, BreachCheckError> {
        Ok(None)
    }
}
