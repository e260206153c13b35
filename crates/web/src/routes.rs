//! Routes, one module per area of the contract.

pub(crate) mod articles;
pub(crate) mod comments;
pub(crate) mod health;
pub(crate) mod profiles;
pub(crate) mod tags;
pub(crate) mod users;
