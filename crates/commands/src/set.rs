//! Set commands.

use super::flags::*;
use super::key_flags::*;
use super::{int, is, Command};
use crate::context::Ctx;
use crate::error::{CommandError, CommandResult};
use crate::notify::SET;
use basalt_resp::Reply;
use basalt_types::number::parse_i64;
use basalt_types::set::SetOp;
use bytes::Bytes;

const fn set_cmd(name: &'static str, arity: i32, flags: u32, handler: super::Handler) -> Command {
    Command::new(name, arity, flags, handler).group("set")
}

pub static COMMANDS: &[Command] = &[
    set_cmd("sadd", -3, WRITE | DENYOOM | FAST, sadd).syntax("key member [member ...]").keys(1, 1, 1).key_flags(&[RW | INSERT]).summary("Adds one or more members to a set. Creates the key if it doesn't exist."),
    set_cmd("srem", -3, WRITE | FAST, srem).syntax("key member [member ...]").keys(1, 1, 1).key_flags(&[RW | DELETE]).summary("Removes one or more members from a set. Deletes the set if the last member was removed."),
    set_cmd("scard", 2, READONLY | FAST, scard).syntax("key").keys(1, 1, 1).key_flags(&[RO]).summary("Returns the number of members in a set."),
    set_cmd("smembers", 2, READONLY | SCANS, smembers).syntax("key").keys(1, 1, 1).summary("Returns all members of a set."),
    set_cmd("sismember", 3, READONLY | FAST, sismember).syntax("key member").keys(1, 1, 1).key_flags(&[RO]).summary("Determines whether a member belongs to a set."),
    set_cmd("smismember", -3, READONLY | FAST, smismember).syntax("key member [member ...]").keys(1, 1, 1).since("6.2.0").summary("Determines whether multiple members belong to a set."),
    set_cmd("spop", -2, WRITE | FAST, spop).syntax("key [count:integer]").keys(1, 1, 1).key_flags(&[RW | ACCESS | DELETE]).summary("Returns one or more random members from a set after removing them. Deletes the set if the last member was popped."),
    set_cmd("srandmember", -2, READONLY | SCANS, srandmember).syntax("key [count:integer]").keys(1, 1, 1).summary("Get one or multiple random members from a set"),
    set_cmd("smove", 4, WRITE | FAST, smove).syntax("source:key destination:key member").keys(1, 2, 1).key_flags(&[RW | ACCESS | DELETE, RW | INSERT]).summary("Moves a member from one set to another."),
    set_cmd("sinter", -2, READONLY | SCANS, sinter).syntax("key [key ...]").keys(1, -1, 1).summary("Returns the intersect of multiple sets."),
    set_cmd("sintercard", -3, READONLY | SCANS, sintercard).syntax("numkeys:integer key [key ...] [LIMIT limit:integer]").movable(super::key_finder::NUMKEYS_AT_1).since("7.0.0").summary("Returns the number of members of the intersect of multiple sets."),
    set_cmd("sunion", -2, READONLY | SCANS, sunion).syntax("key [key ...]").keys(1, -1, 1).summary("Returns the union of multiple sets."),
    set_cmd("sdiff", -2, READONLY | SCANS, sdiff).syntax("key [key ...]").keys(1, -1, 1).summary("Returns the difference of multiple sets."),
    set_cmd("sinterstore", -3, WRITE | DENYOOM | SCANS, sinterstore).syntax("destination:key key [key ...]").keys(1, -1, 1).key_flags(&[RW | UPDATE, RO | ACCESS]).summary("Stores the intersect of multiple sets in a key."),
    set_cmd("sunionstore", -3, WRITE | DENYOOM | SCANS, sunionstore).syntax("destination:key key [key ...]").keys(1, -1, 1).key_flags(&[OW | UPDATE, RO | ACCESS]).summary("Stores the union of multiple sets in a key."),
    set_cmd("sdiffstore", -3, WRITE | DENYOOM | SCANS, sdiffstore).syntax("destination:key key [key ...]").keys(1, -1, 1).key_flags(&[OW | UPDATE, RO | ACCESS]).summary("Stores the difference of multiple sets in a key."),
    set_cmd("sscan", -3, READONLY, sscan).syntax("key cursor:integer [MATCH pattern:pattern] [COUNT count:integer]").keys(1, 1, 1).since("2.8.0").summary("Iterates over members of a set."),
];

fn refs(args: &[Bytes]) -> Vec<&[u8]> {
    args.iter().map(|a| a.as_ref()).collect()
}

fn bulk(m: Vec<u8>) -> Reply {
    Reply::Bulk(Bytes::from(m))
}

/// Redis replies to set-valued commands with a RESP3 set.
fn member_set(members: Vec<Vec<u8>>) -> Reply {
    Reply::Set(members.into_iter().map(bulk).collect())
}

fn sadd(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let added = ctx.db().sadd(&args[1], &refs(&args[2..]))?;
    if added > 0 {
        ctx.notify(SET, "sadd", &args[1]);
    }
    Ok(Reply::Integer(added as i64))
}

fn srem(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let removed = ctx.db().srem(&args[1], &refs(&args[2..]))?;
    if removed > 0 {
        ctx.notify_removal(SET, "srem", &args[1]);
    }
    Ok(Reply::Integer(removed as i64))
}

fn scard(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    Ok(Reply::Integer(ctx.db().scard(&args[1])? as i64))
}

fn smembers(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    Ok(member_set(ctx.db().smembers(&args[1])?))
}

fn sismember(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    Ok(Reply::Integer(
        ctx.db().sismember(&args[1], &args[2])? as i64
    ))
}

fn smismember(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let found = ctx.db().smismember(&args[1], &refs(&args[2..]))?;
    Ok(Reply::Array(
        found
            .into_iter()
            .map(|f| Reply::Integer(f as i64))
            .collect(),
    ))
}

fn spop(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    match args.len() {
        2 => Ok(match ctx.db().spop(&args[1], 1)?.pop() {
            Some(m) => {
                ctx.notify_removal(SET, "spop", &args[1]);
                bulk(m)
            }
            None => Reply::Null,
        }),
        3 => {
            let count = parse_i64(&args[2])
                .and_then(|c| u64::try_from(c).ok())
                .ok_or_else(|| {
                    CommandError::other("ERR value is out of range, must be positive")
                })?;
            let popped = ctx.db().spop(&args[1], count)?;
            if !popped.is_empty() {
                ctx.notify_removal(SET, "spop", &args[1]);
            }
            Ok(member_set(popped))
        }
        _ => Err(CommandError::Syntax),
    }
}

fn srandmember(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    match args.len() {
        2 => Ok(match ctx.db().srandmember(&args[1], 1)?.pop() {
            Some(m) => bulk(m),
            None => Reply::Null,
        }),
        3 => {
            let count = int(&args[2])?;
            if count == i64::MIN {
                return Err(CommandError::other(
                    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
                ));
            }
            // Negative counts may repeat members, so the reply is an array
            // even in RESP3.
            let picked = ctx.db().srandmember(&args[1], count)?;
            Ok(Reply::Array(picked.into_iter().map(bulk).collect()))
        }
        _ => Err(CommandError::Syntax),
    }
}

fn smove(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let (src, dst, member) = (&args[1], &args[2], &args[3]);
    // Redis reports `sadd` only when the destination lacked the member.
    let dst_had = crate::notify::needed(ctx.shared, SET) && ctx.db().sismember(dst, member)?;
    let moved = ctx.db().smove(src, dst, member)?;
    if moved && src != dst {
        ctx.notify_removal(SET, "srem", src);
        if !dst_had {
            ctx.notify(SET, "sadd", dst);
        }
    }
    Ok(Reply::Integer(moved as i64))
}

fn set_op(ctx: &mut Ctx, op: SetOp, keys: &[Bytes]) -> CommandResult {
    Ok(member_set(ctx.db().set_op(op, &refs(keys))?))
}

fn sinter(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    set_op(ctx, SetOp::Inter, &args[1..])
}

fn sunion(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    set_op(ctx, SetOp::Union, &args[1..])
}

fn sdiff(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    set_op(ctx, SetOp::Diff, &args[1..])
}

fn store(ctx: &mut Ctx, op: SetOp, args: &[Bytes]) -> CommandResult {
    let event = match op {
        SetOp::Inter => "sinterstore",
        SetOp::Union => "sunionstore",
        SetOp::Diff => "sdiffstore",
    };
    let existed = crate::notify::dst_existed(ctx, &args[1])?;
    let len = ctx.db().set_op_store(op, &args[1], &refs(&args[2..]))?;
    crate::notify::emit_store(ctx.shared, SET, event, &args[1], len, existed);
    Ok(Reply::Integer(len as i64))
}

fn sinterstore(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    store(ctx, SetOp::Inter, args)
}

fn sunionstore(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    store(ctx, SetOp::Union, args)
}

fn sdiffstore(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    store(ctx, SetOp::Diff, args)
}

/// SINTERCARD numkeys key [key ...] [LIMIT limit]
fn sintercard(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let numkeys = parse_i64(&args[1])
        .filter(|n| *n > 0)
        .ok_or_else(|| CommandError::other("ERR numkeys should be greater than 0"))?;
    let available = (args.len() - 2) as i64;
    if numkeys > available {
        return Err(CommandError::other(
            "ERR Number of keys can't be greater than number of args",
        ));
    }
    let end = 2 + numkeys as usize;
    let keys = refs(&args[2..end]);
    let mut limit = 0u64;
    let mut i = end;
    while i < args.len() {
        match args.get(i + 1) {
            Some(value) if is(&args[i], "limit") => {
                limit = parse_i64(value)
                    .and_then(|l| u64::try_from(l).ok())
                    .ok_or_else(|| CommandError::other("ERR LIMIT can't be negative"))?;
                i += 2;
            }
            _ => return Err(CommandError::Syntax),
        }
    }
    Ok(Reply::Integer(ctx.db().sintercard(&keys, limit)? as i64))
}

/// SSCAN key cursor [MATCH pattern] [COUNT count]
fn sscan(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let a = super::scan_args(args, 2, super::ScanExtra::None)?;
    let page = ctx.db().sscan(&args[1], a.cursor, a.pattern, a.count)?;
    Ok(Reply::Array(vec![
        Reply::Bulk(Bytes::from(page.cursor.to_string())),
        Reply::Array(page.members.into_iter().map(bulk).collect()),
    ]))
}
