//! Commands that read or rewrite a whole large collection run off the
//! async worker (tokio's `block_in_place`), so the other connections served
//! by that worker keep being answered while they run. Deciding costs one
//! metadata read, so only commands that can be long ask.

use crate::command::Command;
use crate::shared::Shared;
use bytes::Bytes;

/// Collections at least this large are read off the worker.
const LONG_MIN_ELEMENTS: u64 = 20_000;

/// Commands whose cost grows with the size of their keys' collections.
fn scans_collections(name: &str) -> bool {
    matches!(
        name,
        "lrange"
            | "lrem"
            | "linsert"
            | "lpos"
            | "ltrim"
            | "hgetall"
            | "hkeys"
            | "hvals"
            | "hrandfield"
            | "hrangebylex"
            | "smembers"
            | "sinter"
            | "sintercard"
            | "sunion"
            | "sdiff"
            | "sinterstore"
            | "sunionstore"
            | "sdiffstore"
            | "srandmember"
            | "zrange"
            | "zrangestore"
            | "zrevrange"
            | "zrangebyscore"
            | "zrevrangebyscore"
            | "zrangebylex"
            | "zrevrangebylex"
            | "zremrangebyrank"
            | "zremrangebyscore"
            | "zremrangebylex"
            | "zrank"
            | "zrevrank"
            | "zunion"
            | "zinter"
            | "zdiff"
            | "zunionstore"
            | "zinterstore"
            | "zdiffstore"
            | "zintercard"
            | "zrandmember"
            | "sort"
            | "sort_ro"
            | "copy"
    )
}

/// Whether this call may take long: a collection-scanning command over a
/// large collection, or a whole-keyspace command.
pub fn is_long(shared: &Shared, command: &Command, args: &[Bytes]) -> bool {
    if matches!(command.name, "keys" | "flushdb" | "flushall" | "dbsize") {
        return true;
    }
    if !scans_collections(command.name) {
        return false;
    }
    command.keys_of(args).iter().take(8).any(
        |key| matches!(shared.db.read(key), Ok(Some(r)) if r.metadata.size >= LONG_MIN_ELEMENTS),
    )
}
