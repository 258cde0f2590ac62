//! List commands (non-blocking).

use super::flags::*;
use super::key_flags::*;
use super::{int, is, Command};
use crate::context::Ctx;
use crate::error::{CommandError, CommandResult};
use crate::notify::{emit_list_move, pop_event, LIST};
use basalt_resp::Reply;
use basalt_types::list::{End, LposOptions, LsetOutcome};
use bytes::Bytes;

const fn list_cmd(name: &'static str, arity: i32, flags: u32, handler: super::Handler) -> Command {
    Command::new(name, arity, flags, handler).group("list")
}

pub static COMMANDS: &[Command] = &[
    list_cmd("lpush", -3, WRITE | DENYOOM | FAST, lpush).syntax("key element [element ...]").keys(1, 1, 1).key_flags(&[RW | INSERT]).summary("Prepends one or more elements to a list. Creates the key if it doesn't exist."),
    list_cmd("rpush", -3, WRITE | DENYOOM | FAST, rpush).syntax("key element [element ...]").keys(1, 1, 1).key_flags(&[RW | INSERT]).summary("Appends one or more elements to a list. Creates the key if it doesn't exist."),
    list_cmd("lpushx", -3, WRITE | DENYOOM | FAST, lpushx).syntax("key element [element ...]").keys(1, 1, 1).key_flags(&[RW | INSERT]).since("2.2.0").summary("Prepends one or more elements to a list only when the list exists."),
    list_cmd("rpushx", -3, WRITE | DENYOOM | FAST, rpushx).syntax("key element [element ...]").keys(1, 1, 1).key_flags(&[RW | INSERT]).since("2.2.0").summary("Appends an element to a list only when the list exists."),
    list_cmd("lpop", -2, WRITE | FAST, lpop).syntax("key [count:integer]").keys(1, 1, 1).key_flags(&[RW | ACCESS | DELETE]).summary("Returns the first elements in a list after removing it. Deletes the list if the last element was popped."),
    list_cmd("rpop", -2, WRITE | FAST, rpop).syntax("key [count:integer]").keys(1, 1, 1).key_flags(&[RW | ACCESS | DELETE]).summary("Returns and removes the last elements of a list. Deletes the list if the last element was popped."),
    list_cmd("llen", 2, READONLY | FAST, llen).syntax("key").keys(1, 1, 1).key_flags(&[RO]).summary("Returns the length of a list."),
    list_cmd("lindex", 3, READONLY, lindex).syntax("key index:integer").keys(1, 1, 1).summary("Returns an element from a list by its index."),
    list_cmd("lset", 4, WRITE | DENYOOM, lset).syntax("key index:integer element").keys(1, 1, 1).key_flags(&[RW | UPDATE]).summary("Sets the value of an element in a list by its index."),
    list_cmd("lrange", 4, READONLY | SCANS, lrange).syntax("key start:integer stop:integer").keys(1, 1, 1).summary("Returns a range of elements from a list."),
    list_cmd("ltrim", 4, WRITE | SCANS, ltrim).syntax("key start:integer stop:integer").keys(1, 1, 1).key_flags(&[RW | DELETE]).summary("Removes elements from both ends a list. Deletes the list if all elements were trimmed."),
    list_cmd("lrem", 4, WRITE | SCANS, lrem).syntax("key count:integer element").keys(1, 1, 1).key_flags(&[RW | DELETE]).summary("Removes elements from a list. Deletes the list if the last element was removed."),
    list_cmd("linsert", 5, WRITE | DENYOOM | SCANS, linsert).syntax("key (where: BEFORE | AFTER) pivot element").keys(1, 1, 1).key_flags(&[RW | INSERT]).since("2.2.0").summary("Inserts an element before or after another element in a list."),
    list_cmd("lpos", -3, READONLY | SCANS, lpos).syntax("key element [RANK rank:integer] [COUNT num-matches:integer] [MAXLEN len:integer]").keys(1, 1, 1).since("6.0.6").summary("Returns the index of matching elements in a list."),
    list_cmd("lmove", 5, WRITE | DENYOOM, lmove).syntax("source:key destination:key (wherefrom: LEFT | RIGHT) (whereto: LEFT | RIGHT)").keys(1, 2, 1).key_flags(&[RW | ACCESS | DELETE, RW | INSERT]).since("6.2.0").summary("Returns an element after popping it from one list and pushing it to another. Deletes the list if the last element was moved."),
    list_cmd("rpoplpush", 3, WRITE | DENYOOM, rpoplpush).syntax("source:key destination:key").keys(1, 2, 1).key_flags(&[RW | ACCESS | DELETE, RW | INSERT]).since("1.2.0").summary("Returns the last element of a list after removing and pushing it to another list. Deletes the list if the last element was popped."),
    // Keys are found through numkeys (movablekeys), so like Redis the
    // table declares no fixed key positions.
    list_cmd("lmpop", -4, WRITE, lmpop).syntax("numkeys:integer key [key ...] (where: LEFT | RIGHT) [COUNT count:integer]").movable(super::key_finder::NUMKEYS_AT_1).key_flags(&[RW | ACCESS | DELETE]).since("7.0.0").summary("Returns multiple elements from a list after removing them. Deletes the list if the last element was popped."),
];

fn bulk(v: Vec<u8>) -> Reply {
    Reply::Bulk(Bytes::from(v))
}

fn bulks(v: Vec<Vec<u8>>) -> Reply {
    Reply::Array(v.into_iter().map(bulk).collect())
}

/// Redis's getPositiveLongFromObjectOrReply with a message: an integer of
/// at least `min`; `msg` covers both a non-integer and a too small value.
fn ranged(arg: &[u8], min: i64, msg: &'static str) -> Result<i64, CommandError> {
    int(arg)
        .ok()
        .filter(|&v| v >= min)
        .ok_or(CommandError::other(msg))
}

pub(super) fn end_arg(arg: &[u8]) -> Result<End, CommandError> {
    if is(arg, "left") {
        Ok(End::Left)
    } else if is(arg, "right") {
        Ok(End::Right)
    } else {
        Err(CommandError::Syntax)
    }
}

fn push(ctx: &mut Ctx, args: &[Bytes], end: End, create: bool) -> CommandResult {
    let elems: Vec<&[u8]> = args[2..].iter().map(|a| a.as_ref()).collect();
    let len = ctx.db().list_push(&args[1], end, &elems, create)?;
    // LPUSHX / RPUSHX on a missing key push nothing.
    if len > 0 {
        let event = match end {
            End::Left => "lpush",
            End::Right => "rpush",
        };
        ctx.notify(LIST, event, &args[1]);
    }
    Ok(Reply::Integer(len as i64))
}

fn lpush(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    push(ctx, args, End::Left, true)
}

fn rpush(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    push(ctx, args, End::Right, true)
}

fn lpushx(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    push(ctx, args, End::Left, false)
}

fn rpushx(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    push(ctx, args, End::Right, false)
}

fn pop(ctx: &mut Ctx, args: &[Bytes], end: End, name: &str) -> CommandResult {
    if args.len() > 3 {
        return Err(CommandError::WrongArity(name.to_string()));
    }
    let count = match args.get(2) {
        Some(a) => Some(ranged(a, 0, "ERR value is out of range, must be positive")? as u64),
        None => None,
    };
    let popped = ctx.db().list_pop(&args[1], end, count.unwrap_or(1))?;
    if popped.as_ref().is_some_and(|v| !v.is_empty()) {
        ctx.notify_removal(LIST, pop_event(end), &args[1]);
    }
    Ok(match (popped, count) {
        (None, Some(_)) => Reply::NullArray,
        (None, None) => Reply::Null,
        (Some(v), Some(_)) => bulks(v),
        (Some(v), None) => v.into_iter().next().map_or(Reply::Null, bulk),
    })
}

fn lpop(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    pop(ctx, args, End::Left, "lpop")
}

fn rpop(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    pop(ctx, args, End::Right, "rpop")
}

fn llen(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    Ok(Reply::Integer(ctx.db().llen(&args[1])? as i64))
}

fn lindex(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let index = int(&args[2])?;
    Ok(ctx.db().lindex(&args[1], index)?.map_or(Reply::Null, bulk))
}

fn lset(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let index = int(&args[2])?;
    match ctx.db().lset(&args[1], index, &args[3])? {
        LsetOutcome::Done => {
            ctx.notify(LIST, "lset", &args[1]);
            Ok(Reply::ok())
        }
        LsetOutcome::OutOfRange => Err(CommandError::other("ERR index out of range")),
    }
}

fn lrange(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let (start, stop) = (int(&args[2])?, int(&args[3])?);
    Ok(bulks(ctx.db().lrange(&args[1], start, stop)?))
}

fn ltrim(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let (start, stop) = (int(&args[2])?, int(&args[3])?);
    // LTRIM reports `ltrim` whenever the list existed, even if nothing
    // was trimmed.
    let existed = crate::notify::needed(ctx.shared, LIST | crate::notify::GENERIC)
        && ctx.db().exists(&[&args[1]])? > 0;
    ctx.db().ltrim(&args[1], start, stop)?;
    if existed {
        ctx.notify_removal(LIST, "ltrim", &args[1]);
    }
    Ok(Reply::ok())
}

fn lrem(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let count = int(&args[2])?;
    let removed = ctx.db().lrem(&args[1], count, &args[3])?;
    if removed > 0 {
        ctx.notify_removal(LIST, "lrem", &args[1]);
    }
    Ok(Reply::Integer(removed as i64))
}

fn linsert(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let before = if is(&args[2], "before") {
        true
    } else if is(&args[2], "after") {
        false
    } else {
        return Err(CommandError::Syntax);
    };
    let len = ctx.db().linsert(&args[1], before, &args[3], &args[4])?;
    if len > 0 {
        ctx.notify(LIST, "linsert", &args[1]);
    }
    Ok(Reply::Integer(len))
}

fn lpos(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let mut opts = LposOptions::default();
    let mut i = 3;
    while i < args.len() {
        let opt = &args[i];
        let Some(value) = args.get(i + 1) else {
            return Err(CommandError::Syntax);
        };
        if is(opt, "rank") {
            let rank = int(value)?;
            // Redis 7.2 rejects LONG_MIN, whose negation would overflow.
            if rank == i64::MIN {
                return Err(CommandError::other(
                    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
                ));
            }
            if rank == 0 {
                return Err(CommandError::other("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list"));
            }
            opts.rank = rank;
        } else if is(opt, "count") {
            opts.count = Some(ranged(value, 0, "ERR COUNT can't be negative")? as u64);
        } else if is(opt, "maxlen") {
            opts.maxlen = ranged(value, 0, "ERR MAXLEN can't be negative")? as u64;
        } else {
            return Err(CommandError::Syntax);
        }
        i += 2;
    }
    let found = ctx.db().lpos(&args[1], &args[2], opts)?;
    Ok(match opts.count {
        Some(_) => Reply::Array(
            found
                .into_iter()
                .map(|p| Reply::Integer(p as i64))
                .collect(),
        ),
        None => found
            .first()
            .map_or(Reply::Null, |&p| Reply::Integer(p as i64)),
    })
}

fn moved(v: Option<Vec<u8>>) -> Reply {
    v.map_or(Reply::Null, bulk)
}

fn lmove(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let from = end_arg(&args[3])?;
    let to = end_arg(&args[4])?;
    move_element(ctx, args, from, to)
}

fn rpoplpush(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    move_element(ctx, args, End::Right, End::Left)
}

fn move_element(ctx: &mut Ctx, args: &[Bytes], from: End, to: End) -> CommandResult {
    let element = ctx.db().lmove(&args[1], &args[2], from, to)?;
    if element.is_some() {
        emit_list_move(ctx.shared, &args[1], &args[2], from, to);
    }
    Ok(moved(element))
}

fn lmpop(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    const NUMKEYS: &str = "ERR numkeys should be greater than 0";
    let numkeys = int(&args[1]).map_err(|_| CommandError::other(NUMKEYS))?;
    if numkeys < 1 {
        return Err(CommandError::other(NUMKEYS));
    }
    let where_idx = (numkeys as u64)
        .checked_add(2)
        .filter(|&w| w < args.len() as u64)
        .ok_or(CommandError::Syntax)? as usize;
    let end = end_arg(&args[where_idx])?;
    let mut count = None;
    let mut i = where_idx + 1;
    while i < args.len() {
        match args.get(i + 1) {
            Some(value) if count.is_none() && is(&args[i], "count") => {
                count = Some(ranged(value, 1, "ERR count should be greater than 0")? as u64);
            }
            _ => return Err(CommandError::Syntax),
        }
        i += 2;
    }
    let keys: Vec<&[u8]> = args[2..where_idx].iter().map(|a| a.as_ref()).collect();
    Ok(match ctx.db().lmpop(&keys, end, count.unwrap_or(1))? {
        None => Reply::NullArray,
        Some((k, elems)) => {
            ctx.notify_removal(LIST, pop_event(end), keys[k]);
            Reply::Array(vec![Reply::Bulk(args[2 + k].clone()), bulks(elems)])
        }
    })
}
