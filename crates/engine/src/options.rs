//! What the engine needs to know to open RocksDB, independent of how the
//! server's configuration spells it.

use std::path::PathBuf;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncPolicy {
    /// fsync the WAL before every reply.
    Always,
    /// fsync the WAL once a second in the background.
    EverySec,
    /// Leave fsync to the OS; a process crash still loses nothing.
    No,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    None,
    Snappy,
    Lz4,
    Zstd,
    Zlib,
}

#[derive(Clone, Debug)]
pub struct EngineOptions {
    /// The data directory; RocksDB lives in `<dir>/db` as in Kvrocks.
    pub dir: PathBuf,
    pub namespace: Vec<u8>,
    pub cluster: bool,
    pub sync: SyncPolicy,
    pub block_cache_bytes: usize,
    pub write_buffer_bytes: usize,
    pub max_write_buffer_number: i32,
    pub target_file_size_base_bytes: u64,
    pub max_open_files: i32,
    pub max_background_jobs: i32,
    pub block_size: usize,
    pub compression: Compression,
    pub wal_ttl_seconds: u64,
    pub wal_size_limit_mb: u64,
    pub level_compaction_dynamic_level_bytes: bool,
    pub partition_filters: bool,
}

impl EngineOptions {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        EngineOptions {
            dir: dir.into(),
            namespace: crate::key::DEFAULT_NAMESPACE.to_vec(),
            cluster: false,
            sync: SyncPolicy::EverySec,
            block_cache_bytes: 256 << 20,
            write_buffer_bytes: 64 << 20,
            max_write_buffer_number: 4,
            target_file_size_base_bytes: 128 << 20,
            max_open_files: 8096,
            max_background_jobs: 4,
            block_size: 16 << 10,
            compression: Compression::Snappy,
            wal_ttl_seconds: 3 * 3600,
            wal_size_limit_mb: 16384,
            level_compaction_dynamic_level_bytes: true,
            partition_filters: false,
        }
    }
}
