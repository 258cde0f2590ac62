//! Redis data types as plain Rust APIs over the storage engine.
//!
//! Each type is a module of functions on [`Database`] that a command handler
//! calls; nothing here knows about RESP or connections, so every operation is
//! unit-tested against a temporary RocksDB without a socket.

pub mod bitmap;
pub mod bloom;
mod cursor;
mod database;
mod error;
pub mod expire;
mod geo_store;
pub mod geohash;
pub mod hash;
pub mod hash_ttl;
pub mod hll_payload;
pub mod hyperloglog;
pub mod json;
pub mod keys;
pub mod lcs;
pub mod list;
pub mod lookups;
mod memory;
pub mod number;
pub mod rdb;
pub mod set;
pub mod sort;
pub mod stream;
pub mod string;
pub mod value;
pub mod zset;

pub use cursor::CursorMap;
pub use database::{Database, Record};
pub use error::{Error, Result};
pub use expire::Expiry;
