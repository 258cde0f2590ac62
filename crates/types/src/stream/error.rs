//! Stream errors, each carrying Redis 7's full error text.

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamError {
    InvalidId,
    AddIdZero,
    AddIdTooSmall,
    Exhausted,
    SequenceOverflow,
    /// XGROUP on a missing key without MKSTREAM.
    GroupNeedsKey,
    BusyGroup,
    /// XGROUP SETID/CREATECONSUMER/DELCONSUMER, XINFO CONSUMERS.
    NoSuchGroup {
        key: Vec<u8>,
        group: Vec<u8>,
    },
    /// XREADGROUP's first attempt.
    NoKeyOrGroupRead {
        key: Vec<u8>,
        group: Vec<u8>,
    },
    /// XPENDING, XCLAIM, XAUTOCLAIM.
    NoKeyOrGroup {
        key: Vec<u8>,
        group: Vec<u8>,
    },
    /// A blocked XREADGROUP whose group went away.
    GroupGone,
    /// A blocked XREADGROUP whose key went away or changed type.
    KeyGone,
    SetIdTooSmall,
    SetIdBelowMaxDeleted,
    SetIdEntriesAddedTooSmall,
}

impl std::fmt::Display for StreamError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StreamError::InvalidId => {
                f.write_str("ERR Invalid stream ID specified as stream command argument")
            }
            StreamError::AddIdZero => {
                f.write_str("ERR The ID specified in XADD must be greater than 0-0")
            }
            StreamError::AddIdTooSmall => f.write_str(
                "ERR The ID specified in XADD is equal or smaller than the target stream top item",
            ),
            StreamError::Exhausted => f.write_str(
                "ERR The stream has exhausted the last possible ID, unable to add more items",
            ),
            StreamError::SequenceOverflow => f.write_str("ERR Elements are too large to be stored"),
            StreamError::GroupNeedsKey => f.write_str(
                "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.",
            ),
            StreamError::BusyGroup => f.write_str("BUSYGROUP Consumer Group name already exists"),
            StreamError::NoSuchGroup { key, group } => write!(
                f,
                "NOGROUP No such consumer group '{}' for key name '{}'",
                lossy(group),
                lossy(key)
            ),
            StreamError::NoKeyOrGroupRead { key, group } => write!(
                f,
                "NOGROUP No such key '{}' or consumer group '{}' in XREADGROUP with GROUP option",
                lossy(key),
                lossy(group)
            ),
            StreamError::NoKeyOrGroup { key, group } => write!(
                f,
                "NOGROUP No such key '{}' or consumer group '{}'",
                lossy(key),
                lossy(group)
            ),
            StreamError::GroupGone => f.write_str(
                "NOGROUP the consumer group this client was blocked on no longer exists",
            ),
            StreamError::KeyGone => f.write_str("UNBLOCKED the stream key no longer exists"),
            StreamError::SetIdTooSmall => f.write_str(
                "ERR The ID specified in XSETID is smaller than the target stream top item",
            ),
            StreamError::SetIdBelowMaxDeleted => f.write_str(
                "ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id",
            ),
            StreamError::SetIdEntriesAddedTooSmall => f.write_str(
                "ERR The entries_added specified in XSETID is smaller than the target stream length",
            ),
        }
    }
}

impl std::error::Error for StreamError {}
