#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("{0}")]
    RocksDb(#[from] rocksdb::Error),
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
