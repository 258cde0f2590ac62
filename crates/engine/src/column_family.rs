//! Kvrocks' column families. The names and their order are part of the
//! on-disk format: a Kvrocks data directory is opened with exactly these.

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ColumnFamily {
    /// Primary subkeys of every collection type.
    Default,
    /// One record per user key: type, expire, version, size.
    Metadata,
    /// Sorted-set score index.
    ZSetScore,
    /// PUBLISH messages, written only so they replicate through the WAL.
    PubSub,
    /// Replication id, namespaces, Lua scripts and functions.
    Propagate,
    /// Stream entries and consumer groups.
    Stream,
    /// Search index data.
    Search,
}

impl ColumnFamily {
    pub const ALL: [ColumnFamily; 7] = [
        ColumnFamily::Default,
        ColumnFamily::Metadata,
        ColumnFamily::ZSetScore,
        ColumnFamily::PubSub,
        ColumnFamily::Propagate,
        ColumnFamily::Stream,
        ColumnFamily::Search,
    ];

    /// Column families whose keys are subkeys (`InternalKey`) of a user key.
    pub const SUBKEY_FAMILIES: [ColumnFamily; 3] = [
        ColumnFamily::Default,
        ColumnFamily::ZSetScore,
        ColumnFamily::Stream,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ColumnFamily::Default => "default",
            ColumnFamily::Metadata => "metadata",
            ColumnFamily::ZSetScore => "zset_score",
            ColumnFamily::PubSub => "pubsub",
            ColumnFamily::Propagate => "propagate",
            ColumnFamily::Stream => "stream",
            ColumnFamily::Search => "search",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}
