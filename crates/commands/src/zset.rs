//! Zset commands.

use super::flags::*;
use super::key_flags::*;
use super::{float, int, is, Command};
use crate::context::Ctx;
use crate::error::{CommandError, CommandResult};
use crate::notify::{dst_existed, emit_store, ZSET};
use basalt_resp::{Protocol, Reply};
use basalt_types::number::{parse_f64, parse_u64};
use basalt_types::zset::{
    Aggregate, LexBound, RangeSpec, ScoreBound, ScoredMember, SetOp, ZAddOptions,
};

use bytes::Bytes;

const fn zset_cmd(name: &'static str, arity: i32, flags: u32, handler: super::Handler) -> Command {
    Command::new(name, arity, flags, handler).group("sorted-set")
}

pub static COMMANDS: &[Command] = &[
    zset_cmd("zadd", -4, WRITE | DENYOOM | FAST, zadd).syntax("key [condition: NX | XX] [comparison: GT | LT] [change: CH] [increment: INCR] score:double member [score:double member ...]").keys(1, 1, 1).key_flags(&[RW | UPDATE]).since("1.2.0").summary("Adds one or more members to a sorted set, or updates their scores. Creates the key if it doesn't exist."),
    zset_cmd("zincrby", 4, WRITE | DENYOOM | FAST, zincrby).syntax("key increment:integer member").keys(1, 1, 1).key_flags(&[RW | ACCESS | UPDATE]).since("1.2.0").summary("Increments the score of a member in a sorted set."),
    zset_cmd("zcard", 2, READONLY | FAST, zcard).syntax("key").keys(1, 1, 1).key_flags(&[RO]).since("1.2.0").summary("Returns the number of members in a sorted set."),
    zset_cmd("zscore", 3, READONLY | FAST, zscore).syntax("key member").keys(1, 1, 1).since("1.2.0").summary("Returns the score of a member in a sorted set."),
    zset_cmd("zmscore", -3, READONLY | FAST, zmscore).syntax("key member [member ...]").keys(1, 1, 1).since("6.2.0").summary("Returns the score of one or more members in a sorted set."),
    zset_cmd("zrem", -3, WRITE | FAST, zrem).syntax("key member [member ...]").keys(1, 1, 1).key_flags(&[RW | DELETE]).since("1.2.0").summary("Removes one or more members from a sorted set. Deletes the sorted set if all members were removed."),
    zset_cmd("zcount", 4, READONLY | FAST, zcount).syntax("key min:double max:double").keys(1, 1, 1).since("2.0.0").summary("Returns the count of members in a sorted set that have scores within a range."),
    zset_cmd("zlexcount", 4, READONLY | FAST, zlexcount).syntax("key min max").keys(1, 1, 1).since("2.8.9").summary("Returns the number of members in a sorted set within a lexicographical range."),
    zset_cmd("zrank", -3, READONLY | FAST | SCANS, zrank).syntax("key member [WITHSCORE]").keys(1, 1, 1).since("2.0.0").summary("Returns the index of a member in a sorted set ordered by ascending scores."),
    zset_cmd("zrevrank", -3, READONLY | FAST | SCANS, zrevrank).syntax("key member [WITHSCORE]").keys(1, 1, 1).since("2.0.0").summary("Returns the index of a member in a sorted set ordered by descending scores."),
    zset_cmd("zrange", -4, READONLY | SCANS, zrange).syntax("key start stop [sortby: BYSCORE | BYLEX] [REV] [LIMIT offset:integer count:integer] [WITHSCORES]").keys(1, 1, 1).since("1.2.0").summary("Returns members in a sorted set within a range of indexes."),
    zset_cmd("zrangestore", -5, WRITE | DENYOOM | SCANS, zrangestore).syntax("dst:key src:key min max [sortby: BYSCORE | BYLEX] [REV] [LIMIT offset:integer count:integer]").keys(1, 2, 1).key_flags(&[OW | UPDATE, RO | ACCESS]).since("6.2.0").summary("Stores a range of members from sorted set in a key."),
    zset_cmd("zrevrange", -4, READONLY | SCANS, zrevrange).syntax("key start:integer stop:integer [WITHSCORES]").keys(1, 1, 1).since("1.2.0").summary("Returns members in a sorted set within a range of indexes in reverse order."),
    zset_cmd("zrangebyscore", -4, READONLY | SCANS, zrangebyscore).syntax("key min:double max:double [WITHSCORES] [LIMIT offset:integer count:integer]").keys(1, 1, 1).since("1.0.5").summary("Returns members in a sorted set within a range of scores."),
    zset_cmd("zrevrangebyscore", -4, READONLY | SCANS, zrevrangebyscore).syntax("key max:double min:double [WITHSCORES] [LIMIT offset:integer count:integer]").keys(1, 1, 1).since("2.2.0").summary("Returns members in a sorted set within a range of scores in reverse order."),
    zset_cmd("zrangebylex", -4, READONLY | SCANS, zrangebylex).syntax("key min max [LIMIT offset:integer count:integer]").keys(1, 1, 1).since("2.8.9").summary("Returns members in a sorted set within a lexicographical range."),
    zset_cmd("zrevrangebylex", -4, READONLY | SCANS, zrevrangebylex).syntax("key max min [LIMIT offset:integer count:integer]").keys(1, 1, 1).since("2.8.9").summary("Returns members in a sorted set within a lexicographical range in reverse order."),
    zset_cmd("zpopmin", -2, WRITE | FAST, zpopmin).syntax("key [count:integer]").keys(1, 1, 1).key_flags(&[RW | ACCESS | DELETE]).since("5.0.0").summary("Returns the lowest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped."),
    zset_cmd("zpopmax", -2, WRITE | FAST, zpopmax).syntax("key [count:integer]").keys(1, 1, 1).key_flags(&[RW | ACCESS | DELETE]).since("5.0.0").summary("Returns the highest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped."),
    zset_cmd("zremrangebyrank", 4, WRITE | SCANS, zremrangebyrank).syntax("key start:integer stop:integer").keys(1, 1, 1).key_flags(&[RW | DELETE]).since("2.0.0").summary("Removes members in a sorted set within a range of indexes. Deletes the sorted set if all members were removed."),
    zset_cmd("zremrangebyscore", 4, WRITE | SCANS, zremrangebyscore).syntax("key min:double max:double").keys(1, 1, 1).key_flags(&[RW | DELETE]).since("1.2.0").summary("Removes members in a sorted set within a range of scores. Deletes the sorted set if all members were removed."),
    zset_cmd("zremrangebylex", 4, WRITE | SCANS, zremrangebylex).syntax("key min max").keys(1, 1, 1).key_flags(&[RW | DELETE]).since("2.8.9").summary("Removes members in a sorted set within a lexicographical range. Deletes the sorted set if all members were removed."),
    zset_cmd("zscan", -3, READONLY, zscan).syntax("key cursor:integer [MATCH pattern:pattern] [COUNT count:integer]").keys(1, 1, 1).since("2.8.0").summary("Iterates over members and scores of a sorted set."),
    zset_cmd("zrandmember", -2, READONLY | SCANS, zrandmember).syntax("key [options: count:integer [WITHSCORES]]").keys(1, 1, 1).since("6.2.0").summary("Returns one or more random members from a sorted set."),
    zset_cmd("zunion", -3, READONLY | SCANS, zunion).syntax("numkeys:integer key [key ...] [WEIGHTS weight:integer [weight:integer ...]] [aggregate: AGGREGATE (SUM | MIN | MAX)] [WITHSCORES]").movable(super::key_finder::NUMKEYS_AT_1).since("6.2.0").summary("Returns the union of multiple sorted sets."),
    zset_cmd("zinter", -3, READONLY | SCANS, zinter).syntax("numkeys:integer key [key ...] [WEIGHTS weight:integer [weight:integer ...]] [aggregate: AGGREGATE (SUM | MIN | MAX)] [WITHSCORES]").movable(super::key_finder::NUMKEYS_AT_1).since("6.2.0").summary("Returns the intersect of multiple sorted sets."),
    zset_cmd("zdiff", -3, READONLY | SCANS, zdiff).syntax("numkeys:integer key [key ...] [WITHSCORES]").movable(super::key_finder::NUMKEYS_AT_1).since("6.2.0").summary("Returns the difference between multiple sorted sets."),
    zset_cmd("zunionstore", -4, WRITE | DENYOOM | SCANS, zunionstore).syntax("destination:key numkeys:integer key [key ...] [WEIGHTS weight:integer [weight:integer ...]] [aggregate: AGGREGATE (SUM | MIN | MAX)]").keys(1, 1, 1).key_flags(&[OW | UPDATE, RO | ACCESS]).movable(super::key_finder::DEST_THEN_NUMKEYS).since("2.0.0").summary("Stores the union of multiple sorted sets in a key."),
    zset_cmd("zinterstore", -4, WRITE | DENYOOM | SCANS, zinterstore).syntax("destination:key numkeys:integer key [key ...] [WEIGHTS weight:integer [weight:integer ...]] [aggregate: AGGREGATE (SUM | MIN | MAX)]").keys(1, 1, 1).key_flags(&[OW | UPDATE, RO | ACCESS]).movable(super::key_finder::DEST_THEN_NUMKEYS).since("2.0.0").summary("Stores the intersect of multiple sorted sets in a key."),
    zset_cmd("zdiffstore", -4, WRITE | DENYOOM | SCANS, zdiffstore).syntax("destination:key numkeys:integer key [key ...]").keys(1, 1, 1).key_flags(&[OW | UPDATE, RO | ACCESS]).movable(super::key_finder::DEST_THEN_NUMKEYS).since("6.2.0").summary("Stores the difference of multiple sorted sets in a key."),
    zset_cmd("zintercard", -3, READONLY | SCANS, zintercard).syntax("numkeys:integer key [key ...] [LIMIT limit:integer]").movable(super::key_finder::NUMKEYS_AT_1).since("7.0.0").summary("Returns the number of members of the intersect of multiple sorted sets."),
    zset_cmd("zmpop", -4, WRITE, zmpop).syntax("numkeys:integer key [key ...] (where: MIN | MAX) [COUNT count:integer]").movable(super::key_finder::NUMKEYS_AT_1).key_flags(&[RW | ACCESS | DELETE]).since("7.0.0").summary("Returns the highest- or lowest-scoring members from one or more sorted sets after removing them. Deletes the sorted set if the last member was popped."),
];

const NOT_FLOAT_RANGE: &str = "ERR min or max is not a float";
const NOT_LEX_RANGE: &str = "ERR min or max not valid string range item";
/// Basalt builds a reply in memory before sending it, so a repeated-pick
/// ZRANDMEMBER is capped where Redis would stream an unbounded reply.
const MAX_RANDOM_PICKS: u64 = 10_000_000;

fn resp3(ctx: &Ctx) -> bool {
    ctx.client.protocol == Protocol::Resp3
}

fn bulk(m: Vec<u8>) -> Reply {
    Reply::Bulk(Bytes::from(m))
}

/// Members, optionally with scores: RESP2 a flat member/score array,
/// RESP3 an array of [member, score] pairs, as Redis 7.2 replies.
fn scored(ctx: &Ctx, items: Vec<ScoredMember>, withscores: bool) -> Reply {
    if !withscores {
        return Reply::Array(items.into_iter().map(|(m, _)| bulk(m)).collect());
    }
    if resp3(ctx) {
        Reply::Array(
            items
                .into_iter()
                .map(|(m, s)| Reply::Array(vec![bulk(m), Reply::Double(s)]))
                .collect(),
        )
    } else {
        flat(items)
    }
}

fn flat(items: Vec<ScoredMember>) -> Reply {
    let mut out = Vec::with_capacity(items.len() * 2);
    for (m, s) in items {
        out.push(bulk(m));
        out.push(Reply::Double(s));
    }
    Reply::Array(out)
}

fn opt_double(v: Option<f64>) -> Reply {
    v.map_or(Reply::Null, Reply::Double)
}

/// What zslParseRange accepts as a number: C's strtod over the whole
/// string, NaN rejected. strtod skips leading whitespace, reads hex floats,
/// and converts an empty string to 0 (no digits, end pointer at the end).
fn strtod(s: &[u8]) -> Option<f64> {
    if s.is_empty() {
        return Some(0.0);
    }
    let t = s.trim_ascii_start();
    if t.is_empty() {
        return None;
    }
    parse_f64(t).or_else(|| hex_float(t))
}

/// strtod's hexadecimal form: [sign] 0x digits [. digits] [p [sign] digits].
fn hex_float(s: &[u8]) -> Option<f64> {
    let (neg, s) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let s = s.strip_prefix(b"0x").or_else(|| s.strip_prefix(b"0X"))?;
    let (mut mant, mut exp, mut digits, mut seen_dot) = (0f64, 0i64, 0, false);
    let mut i = 0;
    while let Some(&c) = s.get(i) {
        if c == b'.' && !seen_dot {
            seen_dot = true;
        } else if let Some(d) = (c as char).to_digit(16) {
            mant = mant * 16.0 + d as f64;
            digits += 1;
            if seen_dot {
                exp -= 4;
            }
        } else {
            break;
        }
        i += 1;
    }
    if digits == 0 {
        return None;
    }
    if let Some(&c) = s.get(i) {
        if c != b'p' && c != b'P' {
            return None;
        }
        let tail = s.get(i + 1..)?;
        let e = basalt_types::number::parse_i64(tail.strip_prefix(b"+").unwrap_or(tail))?;
        exp = exp.checked_add(e)?;
    }
    let v = mant * 2f64.powi(exp.clamp(-10_000, 10_000) as i32);
    Some(if neg { -v } else { v })
}

/// A score bound as zslParseRange reads it: `(` for exclusive, then
/// strtod's number.
fn score_bound(arg: &[u8]) -> Option<ScoreBound> {
    let num = strtod;
    match arg.strip_prefix(b"(") {
        Some(rest) => num(rest).map(ScoreBound::Exclusive),
        None => num(arg).map(ScoreBound::Inclusive),
    }
}

fn score_range(min: &[u8], max: &[u8]) -> Result<(ScoreBound, ScoreBound), CommandError> {
    match (score_bound(min), score_bound(max)) {
        (Some(a), Some(b)) => Ok((a, b)),
        _ => Err(CommandError::other(NOT_FLOAT_RANGE)),
    }
}

fn lex_bound(arg: &[u8]) -> Option<LexBound> {
    match arg {
        b"+" => Some(LexBound::Max),
        b"-" => Some(LexBound::Min),
        [b'(', rest @ ..] => Some(LexBound::Exclusive(rest.to_vec())),
        [b'[', rest @ ..] => Some(LexBound::Inclusive(rest.to_vec())),
        _ => None,
    }
}

/// Every element between two score bounds (ZCOUNT, ZREMRANGEBYSCORE).
fn whole_score_spec(min: &[u8], max: &[u8]) -> Result<RangeSpec, CommandError> {
    let (min, max) = score_range(min, max)?;
    Ok(RangeSpec::Score {
        min,
        max,
        offset: 0,
        count: -1,
    })
}

/// Every element between two lex bounds (ZLEXCOUNT, ZREMRANGEBYLEX).
fn whole_lex_spec(min: &[u8], max: &[u8]) -> Result<RangeSpec, CommandError> {
    let (min, max) = lex_range(min, max)?;
    Ok(RangeSpec::Lex {
        min,
        max,
        offset: 0,
        count: -1,
    })
}

fn lex_range(min: &[u8], max: &[u8]) -> Result<(LexBound, LexBound), CommandError> {
    match (lex_bound(min), lex_bound(max)) {
        (Some(a), Some(b)) => Ok((a, b)),
        _ => Err(CommandError::other(NOT_LEX_RANGE)),
    }
}

fn zadd(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let mut opts = ZAddOptions::default();
    let mut ch = false;
    let mut i = 2;
    while i < args.len() {
        let a = &args[i];
        if is(a, "nx") {
            opts.nx = true;
        } else if is(a, "xx") {
            opts.xx = true;
        } else if is(a, "gt") {
            opts.gt = true;
        } else if is(a, "lt") {
            opts.lt = true;
        } else if is(a, "ch") {
            ch = true;
        } else if is(a, "incr") {
            opts.incr = true;
        } else {
            break;
        }
        i += 1;
    }
    let rest = &args[i..];
    if rest.is_empty() || !rest.len().is_multiple_of(2) {
        return Err(CommandError::Syntax);
    }
    if opts.nx && opts.xx {
        return Err(CommandError::other(
            "ERR XX and NX options at the same time are not compatible",
        ));
    }
    if (opts.nx && (opts.gt || opts.lt)) || (opts.gt && opts.lt) {
        return Err(CommandError::other(
            "ERR GT, LT, and/or NX options at the same time are not compatible",
        ));
    }
    if opts.incr && rest.len() > 2 {
        return Err(CommandError::other(
            "ERR INCR option supports a single increment-element pair",
        ));
    }
    let mut items = Vec::with_capacity(rest.len() / 2);
    for pair in rest.chunks_exact(2) {
        items.push((float(&pair[0])?, &pair[1][..]));
    }
    let out = ctx.db().zadd(&args[1], opts, &items)?;
    if out.changed > 0 {
        ctx.notify(ZSET, if opts.incr { "zincr" } else { "zadd" }, &args[1]);
    }
    Ok(if opts.incr {
        opt_double(out.score)
    } else if ch {
        Reply::Integer(out.changed as i64)
    } else {
        Reply::Integer(out.added as i64)
    })
}

fn zincrby(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let delta = float(&args[2])?;
    let score = ctx.db().zincrby(&args[1], delta, &args[3])?;
    ctx.notify(ZSET, "zincr", &args[1]);
    Ok(Reply::Double(score))
}

fn zcard(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    Ok(Reply::Integer(ctx.db().zcard(&args[1])? as i64))
}

fn zscore(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    Ok(opt_double(ctx.db().zscore(&args[1], &args[2])?))
}

fn zmscore(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let members: Vec<&[u8]> = args[2..].iter().map(|a| &a[..]).collect();
    let scores = ctx.db().zmscore(&args[1], &members)?;
    Ok(Reply::Array(scores.into_iter().map(opt_double).collect()))
}

fn zrem(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let members: Vec<&[u8]> = args[2..].iter().map(|a| &a[..]).collect();
    let removed = ctx.db().zrem(&args[1], &members)?;
    if removed > 0 {
        ctx.notify_removal(ZSET, "zrem", &args[1]);
    }
    Ok(Reply::Integer(removed as i64))
}

fn zcount(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let spec = whole_score_spec(&args[2], &args[3])?;
    Ok(Reply::Integer(ctx.db().zcount(&args[1], &spec)? as i64))
}

fn zlexcount(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let spec = whole_lex_spec(&args[2], &args[3])?;
    Ok(Reply::Integer(ctx.db().zcount(&args[1], &spec)? as i64))
}

fn rank_generic(ctx: &mut Ctx, args: &[Bytes], rev: bool) -> CommandResult {
    if args.len() > 4 {
        return Err(CommandError::WrongArity(super::lower(&args[0])));
    }
    let withscore = match args.get(3) {
        None => false,
        Some(a) if is(a, "withscore") => true,
        Some(_) => return Err(CommandError::Syntax),
    };
    let found = ctx.db().zrank(&args[1], &args[2], rev)?;
    Ok(match (found, withscore) {
        (None, false) => Reply::Null,
        (None, true) => Reply::NullArray,
        (Some((r, _)), false) => Reply::Integer(r as i64),
        (Some((r, s)), true) => Reply::Array(vec![Reply::Integer(r as i64), Reply::Double(s)]),
    })
}

fn zrank(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    rank_generic(ctx, args, false)
}

fn zrevrank(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    rank_generic(ctx, args, true)
}

#[derive(Clone, Copy, PartialEq)]
enum RangeKind {
    Auto,
    Rank,
    Score,
    Lex,
}

/// Redis's zrangeGenericCommand: one parser for ZRANGE, ZRANGESTORE and the
/// legacy forms, which preset the range kind and/or direction (so that e.g.
/// `ZREVRANGE ... REV` is a syntax error, as in Redis).
fn range_generic(
    ctx: &mut Ctx,
    args: &[Bytes],
    store: bool,
    mut kind: RangeKind,
    preset_rev: Option<bool>,
) -> CommandResult {
    let start = if store { 2 } else { 1 };
    let key = &args[start];
    let (mut min_arg, mut max_arg) = (&args[start + 1], &args[start + 2]);
    let mut withscores = false;
    let (mut offset, mut limit) = (0i64, -1i64);
    let mut rev = preset_rev;
    let mut j = start + 3;
    while j < args.len() {
        let a = &args[j];
        let left = args.len() - j - 1;
        if !store && is(a, "withscores") {
            withscores = true;
        } else if is(a, "limit") && left >= 2 {
            offset = int(&args[j + 1])?;
            limit = int(&args[j + 2])?;
            j += 2;
        } else if rev.is_none() && is(a, "rev") {
            rev = Some(true);
        } else if kind == RangeKind::Auto && is(a, "bylex") {
            kind = RangeKind::Lex;
        } else if kind == RangeKind::Auto && is(a, "byscore") {
            kind = RangeKind::Score;
        } else {
            return Err(CommandError::Syntax);
        }
        j += 1;
    }
    let rev = rev.unwrap_or(false);
    if kind == RangeKind::Auto {
        kind = RangeKind::Rank;
    }
    if limit != -1 && kind == RangeKind::Rank {
        return Err(CommandError::other(
            "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        ));
    }
    if withscores && kind == RangeKind::Lex {
        return Err(CommandError::other(
            "ERR syntax error, WITHSCORES not supported in combination with BYLEX",
        ));
    }
    if rev && kind != RangeKind::Rank {
        std::mem::swap(&mut min_arg, &mut max_arg);
    }
    let spec = match kind {
        RangeKind::Score => {
            let (min, max) = score_range(min_arg, max_arg)?;
            RangeSpec::Score {
                min,
                max,
                offset,
                count: limit,
            }
        }
        RangeKind::Lex => {
            let (min, max) = lex_range(min_arg, max_arg)?;
            RangeSpec::Lex {
                min,
                max,
                offset,
                count: limit,
            }
        }
        _ => RangeSpec::Rank {
            start: int(min_arg)?,
            stop: int(max_arg)?,
        },
    };
    if store {
        let existed = dst_existed(ctx, &args[1])?;
        let n = ctx.db().zrangestore(&args[1], key, &spec, rev)?;
        emit_store(ctx.shared, ZSET, "zrangestore", &args[1], n, existed);
        return Ok(Reply::Integer(n as i64));
    }
    let items = ctx.db().zrange(key, &spec, rev)?;
    Ok(scored(ctx, items, withscores))
}

fn zrange(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    range_generic(ctx, args, false, RangeKind::Auto, None)
}

fn zrangestore(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    range_generic(ctx, args, true, RangeKind::Auto, None)
}

fn zrevrange(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    range_generic(ctx, args, false, RangeKind::Rank, Some(true))
}

fn zrangebyscore(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    range_generic(ctx, args, false, RangeKind::Score, Some(false))
}

fn zrevrangebyscore(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    range_generic(ctx, args, false, RangeKind::Score, Some(true))
}

fn zrangebylex(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    range_generic(ctx, args, false, RangeKind::Lex, Some(false))
}

fn zrevrangebylex(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    range_generic(ctx, args, false, RangeKind::Lex, Some(true))
}

fn pop_generic(ctx: &mut Ctx, args: &[Bytes], max: bool) -> CommandResult {
    if args.len() > 3 {
        return Err(CommandError::Syntax);
    }
    let count = match args.get(2) {
        None => None,
        Some(a) => match basalt_types::number::parse_i64(a) {
            Some(n) if n >= 0 => Some(n as u64),
            _ => {
                return Err(CommandError::other(
                    "ERR value is out of range, must be positive",
                ))
            }
        },
    };
    let items = ctx.db().zpop(&args[1], count.unwrap_or(1), max)?;
    if !items.is_empty() {
        ctx.notify_removal(ZSET, super::block::zpop_event(max), &args[1]);
    }
    Ok(match count {
        // Without a count the reply is a flat [member, score] in both
        // protocols.
        None => flat(items),
        Some(_) => scored(ctx, items, true),
    })
}

fn zpopmin(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    pop_generic(ctx, args, false)
}

fn zpopmax(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    pop_generic(ctx, args, true)
}

fn zremrangebyrank(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let spec = RangeSpec::Rank {
        start: int(&args[2])?,
        stop: int(&args[3])?,
    };
    zremrange(ctx, args, &spec, "zremrangebyrank")
}

/// ZREMRANGEBY*: `event` when something was removed.
fn zremrange(
    ctx: &mut Ctx,
    args: &[Bytes],
    spec: &RangeSpec,
    event: &'static str,
) -> CommandResult {
    let removed = ctx.db().zremrange(&args[1], spec)?;
    if removed > 0 {
        ctx.notify_removal(ZSET, event, &args[1]);
    }
    Ok(Reply::Integer(removed as i64))
}

fn zremrangebyscore(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let spec = whole_score_spec(&args[2], &args[3])?;
    zremrange(ctx, args, &spec, "zremrangebyscore")
}

fn zremrangebylex(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let spec = whole_lex_spec(&args[2], &args[3])?;
    zremrange(ctx, args, &spec, "zremrangebylex")
}

fn zscan(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let scan = super::scan_args(args, 2, super::ScanExtra::None)?;
    let (cursor, count, pattern) = (scan.cursor, scan.count, scan.pattern);
    // An unknown cursor restarts the walk, as SCAN does: Redis accepts any
    // number as a cursor.
    let after = match cursor {
        0 => None,
        c => ctx.db().cursors().get(c),
    };
    let (next, items) = ctx.db().zscan(&args[1], after.as_deref(), count, pattern)?;
    let next = match next {
        Some(last) => ctx.db().cursors().insert(last),
        None => 0,
    };
    let mut flat_items = Vec::with_capacity(items.len() * 2);
    for (m, s) in items {
        let mut text = Vec::new();
        basalt_resp::format_double(s, &mut text);
        flat_items.push(bulk(m));
        flat_items.push(bulk(text));
    }
    Ok(Reply::Array(vec![
        Reply::Bulk(Bytes::from(next.to_string())),
        Reply::Array(flat_items),
    ]))
}

fn zrandmember(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let Some(count_arg) = args.get(2) else {
        let picked = ctx.db().zrandmember(&args[1], 1)?;
        return Ok(picked
            .into_iter()
            .next()
            .map_or(Reply::Null, |(m, _)| bulk(m)));
    };
    let withscores = match args.get(3) {
        None => false,
        Some(a) if is(a, "withscores") && args.len() == 4 => true,
        Some(_) => return Err(CommandError::Syntax),
    };
    let count = int(count_arg)?;
    if count == i64::MIN || (count < 0 && count.unsigned_abs() > MAX_RANDOM_PICKS) {
        return Err(CommandError::other("ERR value is out of range"));
    }
    let items = ctx.db().zrandmember(&args[1], count)?;
    Ok(scored(ctx, items, withscores))
}

/// Redis's zunionInterDiffGenericCommand: `[dst] numkeys key... [WEIGHTS
/// w...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]`, or ZINTERCARD's `[LIMIT n]`.
/// Key types are checked before the options are parsed, as in Redis.
fn setop_generic(
    ctx: &mut Ctx,
    args: &[Bytes],
    op: SetOp,
    store: bool,
    card: bool,
) -> CommandResult {
    let numkeys_idx = if store { 2 } else { 1 };
    let n = int(&args[numkeys_idx])?;
    if n < 1 {
        return Err(CommandError::other(format!(
            "ERR at least 1 input key is needed for '{}' command",
            super::lower(&args[0])
        )));
    }
    let first = numkeys_idx + 1;
    let available = args.len() - first;
    let n = usize::try_from(n).unwrap_or(usize::MAX);
    if n > available {
        return Err(CommandError::Syntax);
    }
    let keys: Vec<&[u8]> = args[first..first + n].iter().map(|a| &a[..]).collect();
    ctx.db().zsetop_check_types(&keys)?;
    let mut weights = vec![1.0; n];
    let mut agg = Aggregate::Sum;
    let mut withscores = false;
    let mut limit = 0u64;
    let mut j = first + n;
    while j < args.len() {
        let a = &args[j];
        let remaining = args.len() - j;
        if op != SetOp::Diff && !card && remaining > n && is(a, "weights") {
            for (i, w) in weights.iter_mut().enumerate() {
                *w = parse_f64(&args[j + 1 + i])
                    .ok_or_else(|| CommandError::other("ERR weight value is not a float"))?;
            }
            j += 1 + n;
        } else if op != SetOp::Diff && !card && remaining >= 2 && is(a, "aggregate") {
            let v = &args[j + 1];
            agg = if is(v, "sum") {
                Aggregate::Sum
            } else if is(v, "min") {
                Aggregate::Min
            } else if is(v, "max") {
                Aggregate::Max
            } else {
                return Err(CommandError::Syntax);
            };
            j += 2;
        } else if !store && !card && is(a, "withscores") {
            withscores = true;
            j += 1;
        } else if card && remaining >= 2 && is(a, "limit") {
            limit = parse_u64(&args[j + 1])
                .ok_or_else(|| CommandError::other("ERR LIMIT can't be negative"))?;
            j += 2;
        } else {
            return Err(CommandError::Syntax);
        }
    }
    if card {
        return Ok(Reply::Integer(ctx.db().zintercard(&keys, limit)? as i64));
    }
    if store {
        let existed = dst_existed(ctx, &args[1])?;
        let stored = ctx.db().zsetop_store(&args[1], op, &keys, &weights, agg)?;
        let event = match op {
            SetOp::Union => "zunionstore",
            SetOp::Inter => "zinterstore",
            SetOp::Diff => "zdiffstore",
        };
        emit_store(ctx.shared, ZSET, event, &args[1], stored as u64, existed);
        return Ok(Reply::Integer(stored as i64));
    }
    let items = ctx.db().zsetop(op, &keys, &weights, agg)?;
    Ok(scored(ctx, items, withscores))
}

fn zunion(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    setop_generic(ctx, args, SetOp::Union, false, false)
}

fn zinter(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    setop_generic(ctx, args, SetOp::Inter, false, false)
}

fn zdiff(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    setop_generic(ctx, args, SetOp::Diff, false, false)
}

fn zunionstore(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    setop_generic(ctx, args, SetOp::Union, true, false)
}

fn zinterstore(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    setop_generic(ctx, args, SetOp::Inter, true, false)
}

fn zdiffstore(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    setop_generic(ctx, args, SetOp::Diff, true, false)
}

fn zintercard(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    setop_generic(ctx, args, SetOp::Inter, false, true)
}

/// `ZMPOP numkeys key... MIN|MAX [COUNT count]`: pops from the first
/// non-empty key. The reply nests [member, score] pairs in both protocols.
fn zmpop(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let numkeys = basalt_types::number::parse_i64(&args[1])
        .filter(|&n| n >= 1)
        .ok_or_else(|| CommandError::other("ERR numkeys should be greater than 0"))?;
    let where_idx = usize::try_from(numkeys)
        .ok()
        .and_then(|n| n.checked_add(2))
        .filter(|&w| w < args.len())
        .ok_or(CommandError::Syntax)?;
    let max = if is(&args[where_idx], "max") {
        true
    } else if is(&args[where_idx], "min") {
        false
    } else {
        return Err(CommandError::Syntax);
    };
    let mut count = None;
    let mut j = where_idx + 1;
    while j < args.len() {
        match args.get(j + 1) {
            Some(v) if count.is_none() && is(&args[j], "count") => {
                let n = basalt_types::number::parse_i64(v)
                    .filter(|&n| n >= 1)
                    .ok_or_else(|| CommandError::other("ERR count should be greater than 0"))?;
                count = Some(n as u64);
            }
            _ => return Err(CommandError::Syntax),
        }
        j += 2;
    }
    for key in &args[2..where_idx] {
        let popped = ctx.db().zpop(key, count.unwrap_or(1), max)?;
        if !popped.is_empty() {
            ctx.notify_removal(ZSET, super::block::zpop_event(max), key);
            let pairs = popped
                .into_iter()
                .map(|(m, s)| Reply::Array(vec![bulk(m), Reply::Double(s)]))
                .collect();
            return Ok(Reply::Array(vec![
                Reply::Bulk(key.clone()),
                Reply::Array(pairs),
            ]));
        }
    }
    Ok(Reply::NullArray)
}
