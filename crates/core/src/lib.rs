//! Basalt's request path without sockets: the command table's types, the
//! dispatcher that runs one command for a session through its gates, and
//! the registries every connection shares (clients, watches, blocked
//! clients, pub/sub, client-side caching, notifications, scripts, stats,
//! slowlog).
//!
//! Handlers live in `basalt-commands` and depend on this crate; the network
//! loop lives in `basalt-net`. Nothing here opens a socket.

pub mod acl;
pub mod background;
pub mod backup;
pub mod blocking;
pub mod clients;
pub mod command;
pub mod command_log;
pub mod context;
pub mod dataset;
pub mod dispatch;
pub mod error;
pub mod error_stats;
pub mod key_finder;
pub mod key_spec;
pub mod listeners;
pub mod logging;
pub mod monitor;
pub mod notify;
pub mod offload;
pub mod outbox;
pub mod pause;
pub mod pubsub;
pub mod scripting;
pub mod shared;
pub mod slowlog;
pub mod stats;
pub mod syntax;
pub mod tracking;
pub mod transaction;
pub mod wal_commit;

/// Basalt's own version, reported beside the Redis version it follows.
pub const BASALT_VERSION: &str = env!("CARGO_PKG_VERSION");
/// The Redis version whose command semantics Basalt follows; clients gate
/// features on this.
pub const REDIS_VERSION: &str = "7.2.0";
