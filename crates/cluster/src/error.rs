//! Every error the cluster layer answers, with Kvrocks' texts (Redis's for
//! the routing errors a cluster client acts on), turned into a RESP error
//! in one place.

use basalt_core::error::CommandError;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClusterError {
    #[error("ERR Cluster mode is not enabled")]
    NotEnabled,
    #[error("CLUSTERDOWN The cluster is not initialized")]
    NotInitialized,
    #[error("ERR Invalid cluster node id")]
    InvalidNodeId,
    #[error("ERR Invalid slot id: {0}")]
    InvalidSlotId(&'static str),
    #[error("ERR Slot is out of range")]
    SlotOutOfRange,
    #[error("ERR Invalid slot range: `{0}`. The character '-' can't appear in the first or last position.")]
    RangeDash(String),
    #[error("ERR Invalid slot range: `{0}`. The slot range should be of the form `int1-int2`.")]
    RangeForm(String),
    #[error("ERR Invalid slot range: `{0}`. The slot range `int1-int2` needs to satisfy the condition (int1 <= int2).")]
    RangeOrder(String),
    #[error("ERR No slots to parse.")]
    NoSlots,
    #[error("ERR Invalid cluster version")]
    InvalidVersion,
    #[error("ERR Invalid version")]
    VersionNotInteger,
    #[error("ERR Slot distribution is overlapped")]
    SlotOverlapped,
    #[error("ERR The node isn't a master")]
    NotMaster,
    #[error("ERR No this node in the cluster")]
    NoSuchNode,
    #[error("ERR Invalid cluster nodes info")]
    InvalidNodesInfo,
    #[error("ERR Invalid cluster nodes info: missing newline between node entries")]
    MissingNewline,
    #[error("ERR Invalid cluster node port")]
    InvalidPort,
    #[error("ERR Invalid cluster node role")]
    InvalidRole,
    #[error("ERR Invalid setnodes options")]
    SetNodesOptions,
    #[error("ERR Invalid setslot options")]
    SetSlotOptions,
    #[error("ERR Invalid node id")]
    SetSlotNodeId,
    #[error("ERR value is not an integer or out of range")]
    NotInteger,
    #[error("ERR failed to set master-replica replication: {0}")]
    Replication(String),
    #[error("ERR cannot write the cluster nodes file: {0}")]
    Persist(String),
    #[error("TRYAGAIN Can't write to slot being migrated which is in write forbidden phase")]
    TryAgain,
    /// A slot migration or import refused, with Kvrocks' text.
    #[error("{0}")]
    Migration(String),
    #[error("ERR Unknown node {0}")]
    UnknownNode(String),
    #[error("ERR Can't reset cluster while database is not empty")]
    ResetNotEmpty,
    #[error("ERR Invalid slot")]
    BadSlot,
    #[error("ERR Invalid slot or number of keys")]
    BadSlotOrCount,
    #[error("ERR can't change to slave in cluster mode")]
    ReplicaOfRefused,
    #[error("MOVED {slot} {host}:{port}")]
    Moved { slot: u16, host: String, port: u16 },
    #[error("CROSSSLOT Keys in request don't hash to the same slot")]
    CrossSlot,
    #[error("CLUSTERDOWN Hash slot not served")]
    SlotNotServed,
    #[error("ERR Script attempted to access a non local key in a cluster node")]
    ScriptNonLocalKey,
    #[error("ERR Script attempted to access keys that do not hash to the same slot")]
    ScriptCrossSlot,
}

impl From<ClusterError> for CommandError {
    fn from(e: ClusterError) -> CommandError {
        CommandError::other(e.to_string())
    }
}
