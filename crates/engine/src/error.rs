#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("{0}")]
    RocksDb(#[from] rocksdb::Error),
    /// A write through RocksDB's C API failed (`raw_write.rs`): its message.
    #[error("{0}")]
    Write(String),
    #[error("data directory {dir} is in use by another process (RocksDB lock held): {detail}")]
    Locked { dir: String, detail: String },
    /// A local write on a replica, whose data only its master changes.
    #[error("write refused on a replica")]
    ReplicaReadOnly,
    #[error("corrupt metadata record")]
    CorruptMetadata,
    #[error("I/O error on {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

impl From<crate::metadata::CorruptMetadata> for EngineError {
    fn from(_: crate::metadata::CorruptMetadata) -> Self {
        EngineError::CorruptMetadata
    }
}
