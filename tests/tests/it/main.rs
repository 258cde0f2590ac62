//! Integration tests against the real server binary.

mod config;
mod connection;
mod durability;
mod expire;
mod keys;
mod protocol;
mod server_cmds;
mod smoke;
mod strings;
