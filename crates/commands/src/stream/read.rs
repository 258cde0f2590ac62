//! XREAD and XREADGROUP, with BLOCK.
//!
//! A read that finds nothing blocks through the list commands' machinery
//! (`crate::blocking`): writers of the keys retry it on the waiter's
//! behalf, oldest waiter first. Before blocking, XREAD's `$` ids are
//! replaced by the streams' current last ids, so the retry returns only
//! what was added after the client blocked.

use super::super::block::first_attempt_or_block;
use super::super::flags::*;
use super::super::key_flags::*;
use super::super::{is, Command};
use super::super::{BeginSearch, FindKeys, KeyFinder, Shape};
use super::{entry_reply, maybe_entry_reply, strict_id};
use crate::context::Ctx;
use crate::error::{CommandError, CommandResult};
use crate::notify::STREAM;
use crate::shared::Shared;
use basalt_resp::{Protocol, Reply};
use basalt_types::stream::{ReadGroupStart, StreamId};
use bytes::Bytes;
use std::sync::Arc;
use std::time::Duration;

pub static COMMANDS: &[Command] = &[
    Command::new("xread", -4, READONLY | BLOCKING, xread).syntax("[COUNT count:integer] [BLOCK milliseconds:integer] STREAMS key [key ...] id [id ...]").movable(KeyFinder::Proc(&[streams_after(1)], read_key_refs)).key_flags(&[RO | ACCESS]).group("stream").since("5.0.0").summary("Returns messages from multiple streams with IDs greater than the ones requested. Blocks until a message is available otherwise."),
    Command::new("xreadgroup", -7, WRITE | BLOCKING, xreadgroup).syntax("GROUP group consumer [COUNT count:integer] [BLOCK milliseconds:integer] [NOACK] STREAMS key [key ...] id [id ...]").movable(KeyFinder::Proc(&[streams_after(4)], read_key_refs)).key_flags(&[RO | ACCESS]).group("stream").since("5.0.0").summary("Returns new or historical messages from a stream for a consumer in a group. Blocks until a message is available otherwise."),
];

/// Served blocked reads without COUNT return at most this many entries per
/// stream, as Redis's XREAD_BLOCKED_DEFAULT_COUNT.
const BLOCKED_DEFAULT_COUNT: u64 = 1000;

/// Timeouts from here on block forever: a deadline this far ahead would
/// overflow the timer's arithmetic (about 100 years).
const MAX_TIMER_MS: i64 = 100 * 365 * 24 * 3600 * 1000;

/// The key spec COMMAND INFO shows: the keys after STREAMS, searched from
/// `start_from`, their first half (the ids follow them).
const fn streams_after(start_from: i32) -> Shape {
    Shape {
        begin: BeginSearch::Keyword {
            keyword: "STREAMS",
            start_from,
        },
        find: FindKeys::Range {
            last: -1,
            step: 1,
            limit: 2,
        },
    }
}

/// `read_keys`, each key under the one spec.
fn read_key_refs(args: &[Bytes]) -> Vec<(usize, usize)> {
    read_keys(args).into_iter().map(|k| (k, 0)).collect()
}

/// Redis's `xreadGetKeys`: the keys follow the first STREAMS that is an
/// option, half of what follows it.
fn read_keys(args: &[Bytes]) -> Vec<usize> {
    let mut i = 1;
    let mut streams = None;
    while i < args.len() {
        let a = &args[i];
        if is(a, "block") || is(a, "count") {
            i += 2;
        } else if is(a, "group") {
            i += 3;
        } else if is(a, "noack") {
            i += 1;
        } else if is(a, "streams") {
            streams = Some(i);
            break;
        } else {
            break;
        }
    }
    let Some(at) = streams else {
        return Vec::new();
    };
    let rest = args.len() - at - 1;
    if rest == 0 || !rest.is_multiple_of(2) {
        return Vec::new();
    }
    (at + 1..at + 1 + rest / 2).collect()
}

struct ReadArgs {
    /// `None` without BLOCK; `Some(None)` blocks forever.
    block: Option<Option<Duration>>,
    /// 0 = no limit.
    count: u64,
    group: Option<(Bytes, Bytes)>,
    noack: bool,
    /// Index of the first key.
    keys_at: usize,
    streams: usize,
}

fn parse(args: &[Bytes], xreadgroup: bool) -> Result<ReadArgs, CommandError> {
    let mut out = ReadArgs {
        block: None,
        count: 0,
        group: None,
        noack: false,
        keys_at: 0,
        streams: 0,
    };
    let mut i = 1;
    while i < args.len() {
        let more = args.len() - i - 1;
        let a = &args[i];
        if is(a, "block") && more > 0 {
            if crate::monitor::in_script() {
                return Err(CommandError::other(format!(
                    "ERR {} command is not allowed with BLOCK option from scripts",
                    String::from_utf8_lossy(&args[0])
                )));
            }
            let ms = basalt_types::number::parse_i64(&args[i + 1]).ok_or_else(|| {
                CommandError::other("ERR timeout is not an integer or out of range")
            })?;
            if ms < 0 {
                return Err(CommandError::other("ERR timeout is negative"));
            }
            let now = basalt_engine::version::now_ms() as i64;
            if ms > i64::MAX - now {
                return Err(CommandError::other("ERR timeout is out of range"));
            }
            // Timers cannot reach centuries ahead; no client waits that long.
            out.block =
                Some((ms > 0 && ms < MAX_TIMER_MS).then(|| Duration::from_millis(ms as u64)));
            i += 2;
        } else if is(a, "count") && more > 0 {
            let n = super::super::int(&args[i + 1])?;
            out.count = n.max(0) as u64;
            i += 2;
        } else if is(a, "streams") && more > 0 {
            let rest = args.len() - i - 1;
            if !rest.is_multiple_of(2) {
                return Err(CommandError::other(
                    "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.",
                ));
            }
            out.keys_at = i + 1;
            out.streams = rest / 2;
            break;
        } else if is(a, "group") && more >= 2 {
            if !xreadgroup {
                return Err(CommandError::other(
                    "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.",
                ));
            }
            out.group = Some((args[i + 1].clone(), args[i + 2].clone()));
            i += 3;
        } else if is(a, "noack") {
            if !xreadgroup {
                return Err(CommandError::other(
                    "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.",
                ));
            }
            out.noack = true;
            i += 1;
        } else {
            return Err(CommandError::Syntax);
        }
    }
    if out.keys_at == 0 {
        return Err(CommandError::Syntax);
    }
    if xreadgroup && out.group.is_none() {
        return Err(CommandError::other(
            "ERR Missing GROUP option for XREADGROUP",
        ));
    }
    Ok(out)
}

/// One reply per stream served: `[[key, entries], ...]` in RESP2, a map
/// from key to entries in RESP3.
fn streams_reply(served: Vec<(Bytes, Reply)>, resp3: bool) -> Reply {
    if resp3 {
        Reply::Map(
            served
                .into_iter()
                .map(|(k, v)| (Reply::Bulk(k), v))
                .collect(),
        )
    } else {
        Reply::Array(
            served
                .into_iter()
                .map(|(k, v)| Reply::Array(vec![Reply::Bulk(k), v]))
                .collect(),
        )
    }
}

// XREAD [COUNT count] [BLOCK ms] STREAMS key [key ...] id [id ...]

fn xread(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let parsed = parse(args, false)?;
    let keys = &args[parsed.keys_at..parsed.keys_at + parsed.streams];
    let id_args = &args[parsed.keys_at + parsed.streams..];
    let mut resolved = args.to_vec();
    let mut ids = Vec::with_capacity(keys.len());
    for (i, (key, id)) in keys.iter().zip(id_args).enumerate() {
        let last = ctx.db().stream_last_id(key)?;
        let id = match id.as_ref() {
            b"$" => {
                let last = last.unwrap_or(StreamId::MIN);
                resolved[parsed.keys_at + parsed.streams + i] = Bytes::from(last.to_string());
                last
            }
            b">" => {
                return Err(CommandError::other(
                    "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.",
                ))
            }
            other => strict_id(other, 0)?,
        };
        ids.push(id);
    }
    let resp3 = ctx.client.protocol == Protocol::Resp3;
    let count = parsed.count;
    let read = |shared: &Arc<Shared>| read_streams(shared, keys, &ids, count, resp3, false);
    match parsed.block {
        Some(timeout) => first_attempt_or_block(
            ctx,
            keys.to_vec(),
            resolved,
            retry_xread,
            timeout,
            Reply::NullArray,
            read,
        ),
        None => Ok(read(ctx.shared)?.unwrap_or(Reply::NullArray)),
    }
}

/// XREAD's reads: `None` when no stream has anything newer. A served
/// retry skips keys that hold another type (the client stays blocked on
/// them, as in Redis).
fn read_streams(
    shared: &Arc<Shared>,
    keys: &[Bytes],
    ids: &[StreamId],
    count: u64,
    resp3: bool,
    retry: bool,
) -> Result<Option<Reply>, CommandError> {
    let db = &shared.data().db;
    let mut served = Vec::new();
    for (key, &after) in keys.iter().zip(ids) {
        let read = match db.xread(key, after, count) {
            Err(basalt_types::Error::WrongType) if retry => continue,
            other => other?,
        };
        if let Some(entries) = read {
            served.push((
                key.clone(),
                Reply::Array(entries.into_iter().map(entry_reply).collect()),
            ));
        }
    }
    Ok((!served.is_empty()).then(|| streams_reply(served, resp3)))
}

fn retry_xread(
    shared: &Arc<Shared>,
    args: &[Bytes],
) -> Result<Option<(Reply, Vec<Bytes>)>, CommandError> {
    let parsed = parse(args, false)?;
    let keys = &args[parsed.keys_at..parsed.keys_at + parsed.streams];
    let ids = args[parsed.keys_at + parsed.streams..]
        .iter()
        .map(|a| strict_id(a, 0))
        .collect::<Result<Vec<_>, _>>()?;
    let count = if parsed.count == 0 {
        BLOCKED_DEFAULT_COUNT
    } else {
        parsed.count
    };
    let resp3 = crate::blocking::served_resp3();
    Ok(read_streams(shared, keys, &ids, count, resp3, true)?.map(|r| (r, Vec::new())))
}

// XREADGROUP GROUP group consumer [COUNT count] [BLOCK ms] [NOACK]
//     STREAMS key [key ...] id [id ...]

fn group_start(arg: &[u8]) -> Result<ReadGroupStart, CommandError> {
    match arg {
        b">" => Ok(ReadGroupStart::New),
        b"$" => Err(CommandError::other(
            "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.",
        )),
        other => Ok(ReadGroupStart::History(strict_id(other, 0)?)),
    }
}

fn xreadgroup(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let parsed = parse(args, true)?;
    let Some((group, _)) = parsed.group.clone() else {
        return Err(CommandError::Syntax);
    };
    let keys = &args[parsed.keys_at..parsed.keys_at + parsed.streams];
    let id_args = &args[parsed.keys_at + parsed.streams..];
    // Every key and group is checked before anything is read.
    for (key, id) in keys.iter().zip(id_args) {
        if ctx.db().stream_has_group(key, &group)? != Some(true) {
            return Err(basalt_types::Error::Stream(
                basalt_types::stream::StreamError::NoKeyOrGroupRead {
                    key: key.to_vec(),
                    group: group.to_vec(),
                },
            )
            .into());
        }
        group_start(id)?;
    }
    let resp3 = ctx.client.protocol == Protocol::Resp3;
    let read =
        |shared: &Arc<Shared>| read_groups(shared, args, &parsed, parsed.count, resp3, false);
    match parsed.block {
        Some(timeout) => first_attempt_or_block(
            ctx,
            keys.to_vec(),
            args.to_vec(),
            retry_xreadgroup,
            timeout,
            Reply::NullArray,
            read,
        ),
        None => Ok(read(ctx.shared)?.unwrap_or(Reply::NullArray)),
    }
}

fn read_groups(
    shared: &Arc<Shared>,
    args: &[Bytes],
    parsed: &ReadArgs,
    count: u64,
    resp3: bool,
    blocked: bool,
) -> Result<Option<Reply>, CommandError> {
    let Some((group, consumer)) = &parsed.group else {
        return Err(CommandError::Syntax);
    };
    let keys = &args[parsed.keys_at..parsed.keys_at + parsed.streams];
    let id_args = &args[parsed.keys_at + parsed.streams..];
    let db = &shared.data().db;
    let mut served = Vec::new();
    for (key, id) in keys.iter().zip(id_args) {
        let start = group_start(id)?;
        let Some(read) =
            db.xreadgroup(key, group, consumer, start, count, parsed.noack, blocked)?
        else {
            continue;
        };
        if read.created_consumer {
            crate::notify::emit(shared, STREAM, "xgroup-createconsumer", key);
        }
        let entries = read
            .entries
            .into_iter()
            .map(|(id, fields)| maybe_entry_reply(id, fields))
            .collect();
        served.push((key.clone(), Reply::Array(entries)));
    }
    Ok((!served.is_empty()).then(|| streams_reply(served, resp3)))
}

fn retry_xreadgroup(
    shared: &Arc<Shared>,
    args: &[Bytes],
) -> Result<Option<(Reply, Vec<Bytes>)>, CommandError> {
    let parsed = parse(args, true)?;
    let count = if parsed.count == 0 {
        BLOCKED_DEFAULT_COUNT
    } else {
        parsed.count
    };
    let resp3 = crate::blocking::served_resp3();
    Ok(read_groups(shared, args, &parsed, count, resp3, true)?.map(|r| (r, Vec::new())))
}
