//! Integration tests against the real server binary.

mod config;
mod connection;
mod durability;
mod expire;
mod hash;
mod keys;
mod list;
mod protocol;
mod server_cmds;
mod set;
mod smoke;
mod strings;
mod zset;
