//! Blocking list and sorted-set commands: BLPOP BRPOP BLMOVE BRPOPLPUSH
//! BLMPOP BZPOPMIN BZPOPMAX BZMPOP.
//!
//! Each first tries its non-blocking form. When there is nothing to take it
//! asks the connection to block ([`Action::Block`]) with a retry function;
//! writers of the keys then run that retry on the waiter's behalf, oldest
//! waiter first (see `crate::blocking`).

use super::flags::*;
use super::key_flags::*;
use super::list::end_arg;
use super::{float, int, is, Command};
use crate::blocking::{BlockingRegistry, Retry};
use crate::context::{Action, BlockRequest, Ctx};
use crate::error::{CommandError, CommandResult};
use crate::notify::{LIST, ZSET};
use crate::shared::Shared;
use basalt_resp::Reply;
use basalt_types::list::End;
use bytes::Bytes;
use std::sync::Arc;
use std::time::Duration;

const fn block_cmd(name: &'static str, arity: i32, flags: u32, handler: super::Handler) -> Command {
    Command::new(name, arity, flags | BLOCKING, handler)
}

pub static COMMANDS: &[Command] = &[
    block_cmd("blpop", -3, WRITE, blpop).syntax("key [key ...] timeout:double").keys(1, -2, 1).key_flags(&[RW | ACCESS | DELETE]).group("list").since("2.0.0").summary("Removes and returns the first element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped."),
    block_cmd("brpop", -3, WRITE, brpop).syntax("key [key ...] timeout:double").keys(1, -2, 1).key_flags(&[RW | ACCESS | DELETE]).group("list").since("2.0.0").summary("Removes and returns the last element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped."),
    block_cmd("blmove", 6, WRITE | DENYOOM, blmove).syntax("source:key destination:key (wherefrom: LEFT | RIGHT) (whereto: LEFT | RIGHT) timeout:double").keys(1, 2, 1).key_flags(&[RW | ACCESS | DELETE, RW | INSERT]).group("list").since("6.2.0").summary("Pops an element from a list, pushes it to another list and returns it. Blocks until an element is available otherwise. Deletes the list if the last element was moved."),
    block_cmd("brpoplpush", 4, WRITE | DENYOOM, brpoplpush).syntax("source:key destination:key timeout:double").keys(1, 2, 1).key_flags(&[RW | ACCESS | DELETE, RW | INSERT]).group("list").since("2.2.0").summary("Pops an element from a list, pushes it to another list and returns it. Block until an element is available otherwise. Deletes the list if the last element was popped."),
    block_cmd("blmpop", -5, WRITE, blmpop).syntax("timeout:double numkeys:integer key [key ...] (where: LEFT | RIGHT) [COUNT count:integer]").movable(super::key_finder::NUMKEYS_AT_2).key_flags(&[RW | ACCESS | DELETE]).group("list").since("7.0.0").summary("Pops the first element from one of multiple lists. Blocks until an element is available otherwise. Deletes the list if the last element was popped."),
    block_cmd("bzpopmin", -3, WRITE | FAST, bzpopmin).syntax("key [key ...] timeout:double").keys(1, -2, 1).key_flags(&[RW | ACCESS | DELETE]).group("sorted-set").since("5.0.0").summary("Removes and returns the member with the lowest score from one or more sorted sets. Blocks until a member is available otherwise. Deletes the sorted set if the last element was popped."),
    block_cmd("bzpopmax", -3, WRITE | FAST, bzpopmax).syntax("key [key ...] timeout:double").keys(1, -2, 1).key_flags(&[RW | ACCESS | DELETE]).group("sorted-set").since("5.0.0").summary("Removes and returns the member with the highest score from one or more sorted sets. Blocks until a member available otherwise.  Deletes the sorted set if the last element was popped."),
    block_cmd("bzmpop", -5, WRITE, bzmpop).syntax("timeout:double numkeys:integer key [key ...] (where: MIN | MAX) [COUNT count:integer]").movable(super::key_finder::NUMKEYS_AT_2).key_flags(&[RW | ACCESS | DELETE]).group("sorted-set").since("7.0.0").summary("Removes and returns a member by score from one or more sorted sets. Blocks until a member is available otherwise. Deletes the sorted set if the last element was popped."),
];

/// Redis's timeout argument: seconds as a float, 0 = forever.
fn timeout_arg(arg: &[u8]) -> Result<Option<Duration>, CommandError> {
    let secs = float(arg)
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| CommandError::other("ERR timeout is not a float or out of range"))?;
    if secs < 0.0 {
        return Err(CommandError::other("ERR timeout is negative"));
    }
    // Redis's bound: the deadline in ms must fit in a signed 64-bit value.
    let now = basalt_engine::version::now_ms() as f64;
    if secs * 1000.0 > i64::MAX as f64 - now {
        return Err(CommandError::other("ERR timeout is out of range"));
    }
    // Timers cannot reach centuries ahead (and Duration::from_secs_f64
    // panics near its limit): such a wait is a wait forever.
    const MAX_TIMER_SECS: f64 = 100.0 * 365.0 * 24.0 * 3600.0;
    Ok((secs > 0.0 && secs < MAX_TIMER_SECS).then(|| Duration::from_secs_f64(secs)))
}

/// Runs `attempt` once; blocks the connection with `attempt` as the retry
/// when it finds nothing.
fn block_or_reply(
    ctx: &mut Ctx,
    args: &[Bytes],
    keys: Vec<Bytes>,
    timeout: Option<Duration>,
    attempt: Retry,
    timeout_reply: Reply,
) -> CommandResult {
    first_attempt_or_block(
        ctx,
        keys,
        args.to_vec(),
        attempt,
        timeout,
        timeout_reply,
        |shared| Ok(attempt(shared, args)?.map(|(reply, _)| reply)),
    )
}

/// The first attempt of a blocking command (`first`), and when it finds
/// nothing, a wait on `keys` with `retry` run by their writers. The waiter
/// is queued before that attempt: a client arriving while it runs comes
/// after this one, as in Redis. Clients already waiting come first, as in
/// Redis, where they are served before the next command runs: behind them,
/// the first attempt is made in turn. Inside EXEC or a script nothing
/// blocks: what `first` finds, or else `timeout_reply`, at once.
pub(crate) fn first_attempt_or_block(
    ctx: &mut Ctx,
    keys: Vec<Bytes>,
    args: Vec<Bytes>,
    retry: Retry,
    timeout: Option<Duration>,
    timeout_reply: Reply,
    first: impl FnOnce(&Arc<Shared>) -> Result<Option<Reply>, CommandError>,
) -> CommandResult {
    if ctx.nested {
        return Ok(first(ctx.shared)?.unwrap_or(timeout_reply));
    }
    let (registered, behind) =
        BlockingRegistry::enqueue(ctx.shared, ctx.client.handle.clone(), keys, args, retry);
    if !behind {
        if let Some(reply) = registered.try_first(|| first(ctx.shared))? {
            return Ok(reply);
        }
    }
    ctx.action = Some(Action::Block(BlockRequest {
        registered,
        timeout,
        timeout_reply,
    }));
    Ok(Reply::Null)
}

/// The `key [key ...] timeout` form (BLPOP, BRPOP, BZPOPMIN, BZPOPMAX),
/// whose timeout reply is a null array.
fn block_on_keys(ctx: &mut Ctx, args: &[Bytes], attempt: Retry) -> CommandResult {
    let timeout = timeout_arg(&args[args.len() - 1])?;
    let keys = keys_of(args, 1, args.len() - 1);
    block_or_reply(ctx, args, keys, timeout, attempt, Reply::NullArray)
}

fn keys_of(args: &[Bytes], from: usize, to: usize) -> Vec<Bytes> {
    args[from..to].to_vec()
}

// BLPOP / BRPOP key [key ...] timeout

fn try_pop(
    shared: &Arc<Shared>,
    args: &[Bytes],
    end: End,
) -> Result<Option<(Reply, Vec<Bytes>)>, CommandError> {
    for key in &args[1..args.len() - 1] {
        if let Some(mut elems) = shared.data().db.list_pop(key, end, 1)? {
            if let Some(e) = elems.pop() {
                crate::notify::emit_removal(shared, LIST, crate::notify::pop_event(end), key);
                return Ok(Some((
                    Reply::Array(vec![Reply::Bulk(key.clone()), Reply::Bulk(Bytes::from(e))]),
                    vec![],
                )));
            }
        }
    }
    Ok(None)
}

fn try_blpop(
    shared: &Arc<Shared>,
    args: &[Bytes],
) -> Result<Option<(Reply, Vec<Bytes>)>, CommandError> {
    try_pop(shared, args, End::Left)
}

fn try_brpop(
    shared: &Arc<Shared>,
    args: &[Bytes],
) -> Result<Option<(Reply, Vec<Bytes>)>, CommandError> {
    try_pop(shared, args, End::Right)
}

fn blpop(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    block_on_keys(ctx, args, try_blpop)
}

fn brpop(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    block_on_keys(ctx, args, try_brpop)
}

// BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout
// BRPOPLPUSH source destination timeout

fn try_move(
    shared: &Arc<Shared>,
    src: &Bytes,
    dst: &Bytes,
    from: End,
    to: End,
) -> Result<Option<(Reply, Vec<Bytes>)>, CommandError> {
    let data = shared.data();
    let moved = match data.db.lmove(src, dst, from, to) {
        Err(basalt_types::Error::WrongType)
            if data.db.type_of(src)? == Some(basalt_engine::RedisType::List) =>
        {
            return Err(CommandError::DestinationWrongType);
        }
        other => other?,
    };
    let Some(e) = moved else {
        return Ok(None);
    };
    crate::notify::emit_list_move(shared, src, dst, from, to);
    Ok(Some((Reply::Bulk(Bytes::from(e)), vec![dst.clone()])))
}

fn try_blmove(
    shared: &Arc<Shared>,
    args: &[Bytes],
) -> Result<Option<(Reply, Vec<Bytes>)>, CommandError> {
    try_move(
        shared,
        &args[1],
        &args[2],
        end_arg(&args[3])?,
        end_arg(&args[4])?,
    )
}

fn try_brpoplpush(
    shared: &Arc<Shared>,
    args: &[Bytes],
) -> Result<Option<(Reply, Vec<Bytes>)>, CommandError> {
    try_move(shared, &args[1], &args[2], End::Right, End::Left)
}

fn blmove(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    end_arg(&args[3])?;
    end_arg(&args[4])?;
    let timeout = timeout_arg(&args[5])?;
    block_or_reply(
        ctx,
        args,
        vec![args[1].clone()],
        timeout,
        try_blmove,
        Reply::Null,
    )
}

fn brpoplpush(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let timeout = timeout_arg(&args[3])?;
    block_or_reply(
        ctx,
        args,
        vec![args[1].clone()],
        timeout,
        try_brpoplpush,
        Reply::Null,
    )
}

/// `timeout numkeys key [key ...] <direction> [COUNT count]`: the keys'
/// range in args, the direction argument, and the count.
fn parse_mpop(args: &[Bytes]) -> Result<(usize, usize, usize, u64), CommandError> {
    let numkeys =
        int(&args[2]).map_err(|_| CommandError::other("ERR numkeys should be greater than 0"))?;
    if numkeys <= 0 {
        return Err(CommandError::other("ERR numkeys should be greater than 0"));
    }
    let first = 3;
    let last = first + numkeys as usize;
    if last >= args.len() {
        return Err(CommandError::Syntax);
    }
    let dir = last;
    let mut count = 1u64;
    let mut i = dir + 1;
    let mut count_seen = false;
    while i < args.len() {
        if is(&args[i], "count") && i + 1 < args.len() && !count_seen {
            let c = int(&args[i + 1])
                .ok()
                .filter(|&c| c > 0)
                .ok_or_else(|| CommandError::other("ERR count should be greater than 0"))?;
            count = c as u64;
            count_seen = true;
            i += 2;
        } else {
            return Err(CommandError::Syntax);
        }
    }
    Ok((first, last, dir, count))
}

fn try_blmpop(
    shared: &Arc<Shared>,
    args: &[Bytes],
) -> Result<Option<(Reply, Vec<Bytes>)>, CommandError> {
    let (first, last, dir, count) = parse_mpop(args)?;
    let end = end_arg(&args[dir])?;
    let keys: Vec<&[u8]> = args[first..last].iter().map(|k| k.as_ref()).collect();
    Ok(shared
        .data()
        .db
        .lmpop(&keys, end, count)?
        .map(|(i, elems)| {
            crate::notify::emit_removal(shared, LIST, crate::notify::pop_event(end), keys[i]);
            let reply = Reply::Array(vec![
                Reply::Bulk(args[first + i].clone()),
                Reply::Array(
                    elems
                        .into_iter()
                        .map(|e| Reply::Bulk(Bytes::from(e)))
                        .collect(),
                ),
            ]);
            (reply, vec![])
        }))
}

fn blmpop(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let timeout = timeout_arg(&args[1])?;
    let (first, last, dir, _) = parse_mpop(args)?;
    end_arg(&args[dir])?;
    block_or_reply(
        ctx,
        args,
        keys_of(args, first, last),
        timeout,
        try_blmpop,
        Reply::NullArray,
    )
}

// BZPOPMIN / BZPOPMAX key [key ...] timeout

fn try_zpop(
    shared: &Arc<Shared>,
    args: &[Bytes],
    max: bool,
) -> Result<Option<(Reply, Vec<Bytes>)>, CommandError> {
    for key in &args[1..args.len() - 1] {
        if let Some((member, score)) = shared.data().db.zpop(key, 1, max)?.into_iter().next() {
            crate::notify::emit_removal(shared, ZSET, zpop_event(max), key);
            let reply = Reply::Array(vec![
                Reply::Bulk(key.clone()),
                Reply::Bulk(Bytes::from(member)),
                Reply::Double(score),
            ]);
            return Ok(Some((reply, vec![])));
        }
    }
    Ok(None)
}

fn try_bzpopmin(
    shared: &Arc<Shared>,
    args: &[Bytes],
) -> Result<Option<(Reply, Vec<Bytes>)>, CommandError> {
    try_zpop(shared, args, false)
}

fn try_bzpopmax(
    shared: &Arc<Shared>,
    args: &[Bytes],
) -> Result<Option<(Reply, Vec<Bytes>)>, CommandError> {
    try_zpop(shared, args, true)
}

fn bzpopmin(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    block_on_keys(ctx, args, try_bzpopmin)
}

fn bzpopmax(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    block_on_keys(ctx, args, try_bzpopmax)
}

// BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count]

fn try_bzmpop(
    shared: &Arc<Shared>,
    args: &[Bytes],
) -> Result<Option<(Reply, Vec<Bytes>)>, CommandError> {
    let (first, last, dir, count) = parse_mpop(args)?;
    let max = minmax_arg(&args[dir])?;
    for key in &args[first..last] {
        let popped = shared.data().db.zpop(key, count, max)?;
        if !popped.is_empty() {
            crate::notify::emit_removal(shared, ZSET, zpop_event(max), key);
            let reply = Reply::Array(vec![
                Reply::Bulk(key.clone()),
                Reply::Array(
                    popped
                        .into_iter()
                        .map(|(m, s)| {
                            Reply::Array(vec![Reply::Bulk(Bytes::from(m)), Reply::Double(s)])
                        })
                        .collect(),
                ),
            ]);
            return Ok(Some((reply, vec![])));
        }
    }
    Ok(None)
}

pub(super) fn zpop_event(max: bool) -> &'static str {
    if max {
        "zpopmax"
    } else {
        "zpopmin"
    }
}

fn minmax_arg(arg: &[u8]) -> Result<bool, CommandError> {
    if is(arg, "min") {
        Ok(false)
    } else if is(arg, "max") {
        Ok(true)
    } else {
        Err(CommandError::Syntax)
    }
}

fn bzmpop(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let timeout = timeout_arg(&args[1])?;
    let (first, last, dir, _) = parse_mpop(args)?;
    minmax_arg(&args[dir])?;
    block_or_reply(
        ctx,
        args,
        keys_of(args, first, last),
        timeout,
        try_bzmpop,
        Reply::NullArray,
    )
}
