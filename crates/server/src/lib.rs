//! The Basalt server: TCP listener, connections, the command table and the
//! background tasks (WAL fsync, active expiration). Data types and storage
//! live in their own crates; this crate only speaks RESP to clients and
//! turns requests into calls on them.

mod background;
mod blocking;
mod cli;
mod clients;
mod command;
mod connection;
mod context;
mod error;
mod logging;
mod notify;
mod offload;
mod pubsub;
mod scripting;
mod server;
mod shared;
mod slowlog;
mod stats;
mod transaction;

pub use server::run;

/// Basalt's own version, reported beside the Redis version it follows.
pub const BASALT_VERSION: &str = env!("CARGO_PKG_VERSION");
/// The Redis version whose command semantics Basalt follows; clients gate
/// features on this.
pub const REDIS_VERSION: &str = "7.2.0";
