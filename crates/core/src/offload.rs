//! Commands that read or rewrite a whole large collection run off the
//! async worker (tokio's `block_in_place`), so the other connections served
//! by that worker keep being answered while they run. Deciding costs one
//! metadata read, so only commands flagged `SCANS` ask.

use crate::command::{flags, Command};
use crate::shared::Shared;
use bytes::Bytes;

/// Collections at least this large are read off the worker.
const LONG_MIN_ELEMENTS: u64 = 20_000;

/// Whether this call may take long: a collection-scanning command over a
/// large collection, or a whole-keyspace command.
pub fn is_long(shared: &Shared, command: &Command, args: &[Bytes]) -> bool {
    if command.has(flags::WHOLE_KEYSPACE) {
        return true;
    }
    if !command.has(flags::SCANS) {
        return false;
    }
    command.keys_of(args).iter().take(8).any(
        |key| matches!(shared.data().db.read(key), Ok(Some(r)) if r.metadata.size >= LONG_MIN_ELEMENTS),
    )
}

/// Runs blocking work (a long script, MIGRATE's network round trips)
/// without stalling the other connections of this tokio worker: they move
/// to another thread meanwhile. Outside a multi-threaded runtime (tests,
/// a worker already handed off) it just runs `f`.
pub fn off_worker<R>(f: impl FnOnce() -> R) -> R {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(h) if h.runtime_flavor() == RuntimeFlavor::MultiThread => tokio::task::block_in_place(f),
        _ => f(),
    }
}
