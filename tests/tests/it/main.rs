//! Integration tests against the real server binary.

mod blocking;
mod config;
mod connection;
mod dump;
mod durability;
mod expire;
mod functions;
mod hash;
mod keys;
mod list;
mod long_commands;
mod memory;
mod notifications;
mod pause;
mod protocol;
mod pubsub;
mod request_path;
mod robustness;
mod scripting;
mod server_cmds;
mod set;
mod smoke;
mod sort;
mod strings;
mod transactions;
mod zset;
