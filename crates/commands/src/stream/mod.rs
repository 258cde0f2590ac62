//! Stream commands. Each file holds one family and its declarations:
//! `entries` (XADD XRANGE XREVRANGE XLEN XDEL XTRIM XSETID), `read` (XREAD
//! XREADGROUP, blocking included), `groups` (XGROUP XACK XPENDING XCLAIM
//! XAUTOCLAIM) and `info` (XINFO). This one holds what they share: id
//! arguments and entry replies.

mod entries;
mod groups;
mod info;
mod read;

use super::Command;
use crate::error::CommandError;
use basalt_resp::Reply;
use basalt_types::stream::{Entry, StreamError, StreamId};
use bytes::Bytes;

// The declarations, registered in the command table by family.
pub use entries::COMMANDS as ENTRY_COMMANDS;
pub use groups::COMMANDS as GROUP_COMMANDS;
pub use info::COMMANDS as INFO_COMMANDS;
pub use read::COMMANDS as READ_COMMANDS;

const fn stream_cmd(
    name: &'static str,
    arity: i32,
    flags: u32,
    handler: super::Handler,
) -> Command {
    Command::new(name, arity, flags, handler)
        .group("stream")
        .keys(1, 1, 1)
        .since("5.0.0")
}

fn invalid_id() -> CommandError {
    basalt_types::Error::Stream(StreamError::InvalidId).into()
}

/// A strict id (`-` and `+` refused); `ms` alone takes `missing_seq`.
fn strict_id(arg: &[u8], missing_seq: u64) -> Result<StreamId, CommandError> {
    if arg == b"-" || arg == b"+" {
        return Err(invalid_id());
    }
    StreamId::parse(arg, missing_seq).ok_or_else(invalid_id)
}

/// An id that may also be `-` (the smallest) or `+` (the largest).
fn any_id(arg: &[u8], missing_seq: u64) -> Result<StreamId, CommandError> {
    match arg {
        b"-" => Ok(StreamId::MIN),
        b"+" => Ok(StreamId::MAX),
        _ => StreamId::parse(arg, missing_seq).ok_or_else(invalid_id),
    }
}

/// A range bound: `(id` excludes `id`, as XRANGE and XPENDING take them.
fn range_start(arg: &[u8]) -> Result<StreamId, CommandError> {
    if arg.len() > 1 && arg[0] == b'(' {
        let id = strict_id(&arg[1..], 0)?;
        return id
            .next()
            .ok_or_else(|| CommandError::other("ERR invalid start ID for the interval"));
    }
    any_id(arg, 0)
}

fn range_end(arg: &[u8]) -> Result<StreamId, CommandError> {
    if arg.len() > 1 && arg[0] == b'(' {
        let id = strict_id(&arg[1..], u64::MAX)?;
        return id
            .prev()
            .ok_or_else(|| CommandError::other("ERR invalid end ID for the interval"));
    }
    any_id(arg, u64::MAX)
}

fn id_reply(id: StreamId) -> Reply {
    Reply::Bulk(Bytes::from(id.to_string()))
}

fn fields_reply(fields: Vec<Vec<u8>>) -> Reply {
    Reply::Array(
        fields
            .into_iter()
            .map(|f| Reply::Bulk(Bytes::from(f)))
            .collect(),
    )
}

fn entry_reply(e: Entry) -> Reply {
    Reply::Array(vec![id_reply(e.id), fields_reply(e.fields)])
}

fn entries_reply(entries: Vec<Entry>) -> Reply {
    Reply::Array(entries.into_iter().map(entry_reply).collect())
}

/// An entry that may be gone (XREADGROUP history, XCLAIM): gone ones
/// come as `[id, nil]`.
fn maybe_entry_reply(id: StreamId, fields: Option<Vec<Vec<u8>>>) -> Reply {
    Reply::Array(vec![
        id_reply(id),
        fields.map_or(Reply::NullArray, fields_reply),
    ])
}

fn bulk(b: &[u8]) -> Reply {
    Reply::Bulk(Bytes::copy_from_slice(b))
}

fn text(s: &'static str) -> Reply {
    Reply::Bulk(Bytes::from_static(s.as_bytes()))
}

fn int(n: u64) -> Reply {
    Reply::Integer(i64::try_from(n).unwrap_or(i64::MAX))
}

/// Redis's integer argument with the message it gives for that argument.
fn int_arg(arg: &[u8], message: &'static str) -> Result<i64, CommandError> {
    basalt_types::number::parse_i64(arg).ok_or_else(|| CommandError::other(message))
}
