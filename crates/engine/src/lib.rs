//! The storage engine: RocksDB with Kvrocks' column families and byte layouts.
//!
//! Owns how keys and metadata are laid out on disk (byte-compatible with
//! Kvrocks' 64-bit "new" encoding), version generation, per-key locks, write
//! durability and the compaction filters that reclaim stale data. It knows
//! nothing of Redis commands or RESP: data types are built on top of it.

pub mod backlog;
pub mod column_family;
pub mod encoding;
mod error;
mod filter;
mod iter;
pub mod key;
mod lock;
pub mod log_data;
pub mod metadata;
pub mod migration;
mod options;
mod raw_write;
pub mod replication;
mod storage;
mod txn;
pub mod version;
pub mod written;

pub use column_family::ColumnFamily;
pub use error::EngineError;
pub use iter::StorageIter;
pub use lock::{KeyLocks, LockGuard};
pub use metadata::{Metadata, RedisType};
pub use options::{Compression, EngineOptions, SyncPolicy};
pub use storage::{verify_table_files, Storage, Txn, Value};
pub use txn::{in_txn, WriteBatch};
