//! The port traits: everything the use cases need from the outside world.
//!
//! Adapters live elsewhere (`conduit-persistence`, `conduit-security`); tests use the mockall
//! mocks generated here (`MockUserRepository`, ...) or the fakes in `conduit-test-support`.
//! Ports return domain errors only, never a driver's error type.

mod clock;
mod content;
mod live;
mod security;
mod sessions;
mod store;
mod throttle;
mod users;

pub use clock::*;
pub use content::*;
pub use live::*;
pub use security::*;
pub use sessions::*;
pub use store::*;
pub use throttle::*;
pub use users::*;

#[cfg(test)]
mod tests;
