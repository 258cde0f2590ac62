//! Basalt's command handlers: one module per group, each declaring its
//! commands (name, arity, flags, key positions, handler) in a `COMMANDS`
//! slice. `table()` gathers them into the one command table that the
//! dispatcher in `basalt-core` runs. Handlers see only `basalt-core`'s
//! `Ctx` and the data crates below it; they never touch a socket.

mod acl;
mod args;
mod bitmap;
mod block;
mod bloom;
mod client;
mod cluster;
mod config;
mod connection;
mod dump;
mod geo;
mod hash;
mod hash_ttl;
mod hyperloglog;
mod info;
mod introspection;
mod json;
mod keys;
mod list;
mod memory;
mod migrate;
mod pubsub;
mod replication;
mod scripting;
mod server;
mod set;
mod sort;
mod stream;
mod string;
mod transaction;
mod zset;

pub use args::*;
pub use basalt_core::command::*;

// The handlers name the core's modules as `crate::...`, as they did when
// all of it was one crate.
use basalt_core::{
    blocking, clients, context, error, key_finder, monitor, notify, shared, syntax, tracking,
};

use std::sync::OnceLock;

/// The command table: every group's declarations, built once per process.
pub fn table() -> &'static CommandTable {
    static TABLE: OnceLock<CommandTable> = OnceLock::new();
    TABLE.get_or_init(|| {
        CommandTable::new(&[
            transaction::COMMANDS,
            block::COMMANDS,
            string::COMMANDS,
            bitmap::COMMANDS,
            hash::COMMANDS,
            hash_ttl::COMMANDS,
            hyperloglog::COMMANDS,
            bloom::COMMANDS,
            json::COMMANDS,
            list::COMMANDS,
            set::COMMANDS,
            sort::COMMANDS,
            zset::COMMANDS,
            stream::ENTRY_COMMANDS,
            stream::READ_COMMANDS,
            stream::GROUP_COMMANDS,
            stream::INFO_COMMANDS,
            geo::COMMANDS,
            keys::COMMANDS,
            dump::COMMANDS,
            connection::COMMANDS,
            server::COMMANDS,
            config::COMMANDS,
            info::COMMANDS,
            client::COMMANDS,
            acl::COMMANDS,
            cluster::COMMANDS,
            introspection::COMMANDS,
            memory::COMMANDS,
            pubsub::COMMANDS,
            scripting::COMMANDS,
            replication::COMMANDS,
        ])
    })
}
