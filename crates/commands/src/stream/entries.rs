//! XADD XRANGE XREVRANGE XLEN XDEL XTRIM XSETID.

use super::super::flags::*;
use super::super::key_flags::*;
use super::super::{int as int_of, is, Command};
use super::{entries_reply, id_reply, range_end, range_start, stream_cmd, strict_id};
use crate::context::Ctx;
use crate::error::{CommandError, CommandResult};
use crate::notify::STREAM;
use basalt_resp::Reply;
use basalt_types::stream::{AddId, StreamId, Trim, TrimRule};
use bytes::Bytes;

pub static COMMANDS: &[Command] = &[
    stream_cmd("xadd", -5, WRITE | DENYOOM | FAST, xadd)
        .syntax("key [NOMKSTREAM] [trim: (strategy: MAXLEN | MINID) [operator: = | ~] threshold [LIMIT count:integer]] (id-selector: * | id) field value [field value ...]")
        .key_flags(&[RW | UPDATE])
        .summary("Appends a new message to a stream. Creates the key if it doesn't exist."),
    stream_cmd("xrange", -4, READONLY, xrange)
        .syntax("key start end [COUNT count:integer]")
        .key_flags(&[RO | ACCESS])
        .summary("Returns the messages from a stream within a range of IDs."),
    stream_cmd("xrevrange", -4, READONLY, xrevrange)
        .syntax("key end start [COUNT count:integer]")
        .key_flags(&[RO | ACCESS])
        .summary("Returns the messages from a stream within a range of IDs in reverse order."),
    stream_cmd("xlen", 2, READONLY | FAST, xlen)
        .syntax("key")
        .key_flags(&[RO])
        .summary("Return the number of messages in a stream."),
    stream_cmd("xdel", -3, WRITE | FAST, xdel)
        .syntax("key id [id ...]")
        .key_flags(&[RW | DELETE])
        .summary("Returns the number of messages after removing them from a stream."),
    stream_cmd("xtrim", -4, WRITE, xtrim)
        .syntax("key (strategy: MAXLEN | MINID) [operator: = | ~] threshold [LIMIT count:integer]")
        .key_flags(&[RW | DELETE])
        .since("5.0.0")
        .summary("Deletes messages from the beginning of a stream."),
    stream_cmd("xsetid", -3, WRITE | DENYOOM | FAST, xsetid)
        .syntax("key last-id [ENTRIESADDED entries-added:integer] [MAXDELETEDID max-deleted-id]")
        .key_flags(&[RW | UPDATE])
        .summary("An internal command for replicating stream values."),
];

/// XADD's and XTRIM's options as parsed.
struct AddTrimArgs {
    trim: Option<Trim>,
    nomkstream: bool,
    /// XADD: the index of the id argument.
    id_at: usize,
}

/// `stream-node-max-entries`, which sizes the nodes `~` trims whole.
fn node_entries(ctx: &Ctx) -> u64 {
    ctx.shared
        .config
        .read()
        .get(&[b"stream-node-max-entries"])
        .first()
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(100)
}

fn incompatible() -> CommandError {
    CommandError::other(
        "ERR syntax error, MAXLEN and MINID options at the same time are not compatible",
    )
}

/// Redis's `streamParseAddOrTrimArgsOrReply`.
fn parse_add_trim(ctx: &Ctx, args: &[Bytes], xadd: bool) -> Result<AddTrimArgs, CommandError> {
    let mut rule = None;
    let mut approx = false;
    let mut limit: Option<i64> = None;
    let mut nomkstream = false;
    let mut i = 2;
    while i < args.len() {
        let more = args.len() - 1 - i;
        let opt = &args[i];
        if xadd && opt.as_ref() == b"*" {
            break;
        } else if (is(opt, "maxlen") || is(opt, "minid")) && more > 0 {
            if rule.is_some() {
                return Err(incompatible());
            }
            // An optional `~` (approximate) or `=` before the threshold.
            let operator = (more >= 2).then(|| args[i + 1].as_ref());
            approx = operator == Some(b"~");
            if approx || operator == Some(b"=") {
                i += 1;
            }
            let threshold = &args[i + 1];
            rule = Some(if is(opt, "maxlen") {
                let n = int_of(threshold)?;
                if n < 0 {
                    return Err(CommandError::other("ERR The MAXLEN argument must be >= 0."));
                }
                TrimRule::MaxLen(n as u64)
            } else {
                TrimRule::MinId(strict_id(threshold, 0)?)
            });
            i += 1;
        } else if is(opt, "limit") && more > 0 {
            let n = int_of(&args[i + 1])?;
            if n < 0 {
                return Err(CommandError::other("ERR The LIMIT argument must be >= 0."));
            }
            limit = Some(n);
            i += 1;
        } else if xadd && is(opt, "nomkstream") {
            nomkstream = true;
        } else if xadd {
            // The id; validated by the caller.
            break;
        } else {
            return Err(CommandError::Syntax);
        }
        i += 1;
    }
    if limit.is_some_and(|l| l > 0) && rule.is_none() {
        return Err(CommandError::other(
            "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy",
        ));
    }
    if !xadd && rule.is_none() {
        return Err(CommandError::other(
            "ERR syntax error, XTRIM must be called with a trimming strategy",
        ));
    }
    let node = node_entries(ctx);
    let limit = match limit {
        Some(_) if !approx => {
            return Err(CommandError::other(
                "ERR syntax error, LIMIT cannot be used without the special ~ option",
            ))
        }
        Some(l) => l as u64,
        None if approx => match node.saturating_mul(100) {
            0 => 10_000,
            l => l.min(1_000_000),
        },
        None => 0,
    };
    Ok(AddTrimArgs {
        trim: rule.map(|rule| Trim {
            rule,
            approx,
            limit,
            node_entries: node,
        }),
        nomkstream,
        id_at: i,
    })
}

/// XADD's id argument: `*`, `ms-*`, `ms-seq` or `ms`.
fn add_id(arg: &[u8]) -> Result<AddId, CommandError> {
    if arg == b"*" {
        return Ok(AddId::Auto);
    }
    if let Some(ms) = arg.strip_suffix(b"-*") {
        if !ms.contains(&b'-') {
            return Ok(AddId::AutoSeq(strict_id(ms, 0)?.ms));
        }
    }
    Ok(AddId::Explicit(strict_id(arg, 0)?))
}

fn xadd(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let parsed = parse_add_trim(ctx, args, true)?;
    let id_at = parsed.id_at;
    if id_at >= args.len() {
        return Err(CommandError::WrongArity("xadd".into()));
    }
    let id = add_id(&args[id_at])?;
    let fields = &args[id_at + 1..];
    if fields.len() < 2 || !fields.len().is_multiple_of(2) {
        return Err(CommandError::WrongArity("xadd".into()));
    }
    let fields: Vec<&[u8]> = fields.iter().map(|f| f.as_ref()).collect();
    let key = &args[1];
    let Some((new_id, trimmed)) =
        ctx.db()
            .xadd(key, id, &fields, parsed.nomkstream, parsed.trim.as_ref())?
    else {
        return Ok(Reply::Null);
    };
    ctx.notify(STREAM, "xadd", key);
    if trimmed > 0 {
        ctx.notify(STREAM, "xtrim", key);
    }
    Ok(id_reply(new_id))
}

fn range(ctx: &mut Ctx, args: &[Bytes], rev: bool) -> CommandResult {
    let (start_arg, end_arg) = if rev {
        (&args[3], &args[2])
    } else {
        (&args[2], &args[3])
    };
    let start = range_start(start_arg)?;
    let end = range_end(end_arg)?;
    let mut count: Option<u64> = None;
    let mut j = 4;
    while j < args.len() {
        if is(&args[j], "count") && j + 1 < args.len() {
            count = Some(int_of(&args[j + 1])?.max(0) as u64);
            j += 2;
        } else {
            return Err(CommandError::Syntax);
        }
    }
    let key = &args[1];
    if count == Some(0) {
        // Redis answers a null array here, but an empty one when there is
        // no key (its key lookup comes first).
        return Ok(match ctx.db().stream_last_id(key)? {
            Some(_) => Reply::NullArray,
            None => entries_reply(Vec::new()),
        });
    }
    let entries = ctx.db().xrange(key, start, end, count.unwrap_or(0), rev)?;
    Ok(entries_reply(entries))
}

fn xrange(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    range(ctx, args, false)
}

fn xrevrange(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    range(ctx, args, true)
}

fn xlen(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    Ok(super::int(ctx.db().xlen(&args[1])?))
}

fn xdel(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let ids = args[2..]
        .iter()
        .map(|a| strict_id(a, 0))
        .collect::<Result<Vec<StreamId>, _>>()?;
    let key = &args[1];
    let deleted = ctx.db().xdel(key, &ids)?;
    if deleted > 0 {
        ctx.notify(STREAM, "xdel", key);
    }
    Ok(super::int(deleted))
}

fn xtrim(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let parsed = parse_add_trim(ctx, args, false)?;
    let Some(trim) = parsed.trim else {
        return Err(CommandError::Syntax);
    };
    let key = &args[1];
    let deleted = ctx.db().xtrim(key, &trim)?;
    if deleted > 0 {
        ctx.notify(STREAM, "xtrim", key);
    }
    Ok(super::int(deleted))
}

fn xsetid(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let id = strict_id(&args[2], 0)?;
    let mut entries_added = None;
    let mut max_deleted = None;
    let mut i = 3;
    while i < args.len() {
        let more = args.len() - 1 - i;
        if is(&args[i], "entriesadded") && more > 0 {
            let n = int_of(&args[i + 1])?;
            if n < 0 {
                return Err(CommandError::other("ERR entries_added must be positive"));
            }
            entries_added = Some(n as u64);
        } else if is(&args[i], "maxdeletedid") && more > 0 {
            let m = strict_id(&args[i + 1], 0)?;
            if id < m {
                return Err(basalt_types::Error::Stream(
                    basalt_types::stream::StreamError::SetIdBelowMaxDeleted,
                )
                .into());
            }
            max_deleted = Some(m);
        } else {
            return Err(CommandError::Syntax);
        }
        i += 2;
    }
    let key = &args[1];
    ctx.db().xsetid(key, id, entries_added, max_deleted)?;
    ctx.notify(STREAM, "xsetid", key);
    Ok(Reply::ok())
}
