//! Routes, one module per area of the contract.

pub(crate) mod health;
pub(crate) mod users;
