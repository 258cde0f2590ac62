//! Hash commands.

use super::flags::*;
use super::key_flags::*;
use super::{int, is, Command};
use crate::context::Ctx;
use crate::error::{CommandError, CommandResult};
use crate::notify::HASH;
use basalt_resp::{Protocol, Reply};
use basalt_types::hash::{FieldValue, LexBound, LexRange, RandomCount};
use bytes::Bytes;

const fn hash_cmd(name: &'static str, arity: i32, flags: u32, handler: super::Handler) -> Command {
    Command::new(name, arity, flags, handler)
        .group("hash")
        .keys(1, 1, 1)
        .since("2.0.0")
}

pub static COMMANDS: &[Command] = &[
    hash_cmd("hset", -4, WRITE | DENYOOM | FAST, hset).syntax("key field value [field value ...]").key_flags(&[RW | UPDATE]).summary("Creates or modifies the value of a field in a hash."),
    hash_cmd("hsetnx", 4, WRITE | DENYOOM | FAST, hsetnx).syntax("key field value").key_flags(&[RW | INSERT]).summary("Sets the value of a field in a hash only when the field doesn't exist."),
    hash_cmd("hmset", -4, WRITE | DENYOOM | FAST, hmset).syntax("key field value [field value ...]").key_flags(&[RW | UPDATE]).summary("Sets the values of multiple fields."),
    hash_cmd("hget", 3, READONLY | FAST, hget).syntax("key field").summary("Returns the value of a field in a hash."),
    hash_cmd("hmget", -3, READONLY | FAST, hmget).syntax("key field [field ...]").summary("Returns the values of all fields in a hash."),
    hash_cmd("hgetall", 2, READONLY | SCANS, hgetall).syntax("key").summary("Returns all fields and values in a hash."),
    hash_cmd("hkeys", 2, READONLY | SCANS, hkeys).syntax("key").summary("Returns all fields in a hash."),
    hash_cmd("hvals", 2, READONLY | SCANS, hvals).syntax("key").summary("Returns all values in a hash."),
    hash_cmd("hlen", 2, READONLY | FAST, hlen).syntax("key").key_flags(&[RO]).summary("Returns the number of fields in a hash."),
    hash_cmd("hexists", 3, READONLY | FAST, hexists).syntax("key field").key_flags(&[RO]).summary("Determines whether a field exists in a hash."),
    hash_cmd("hdel", -3, WRITE | FAST, hdel).syntax("key field [field ...]").key_flags(&[RW | DELETE]).summary("Deletes one or more fields and their values from a hash. Deletes the hash if no fields remain."),
    hash_cmd("hstrlen", 3, READONLY | FAST, hstrlen).syntax("key field").key_flags(&[RO]).since("3.2.0").summary("Returns the length of the value of a field."),
    hash_cmd("hincrby", 4, WRITE | DENYOOM | FAST, hincrby).syntax("key field increment:integer").key_flags(&[RW | ACCESS | UPDATE]).summary("Increments the integer value of a field in a hash by a number. Uses 0 as initial value if the field doesn't exist."),
    hash_cmd("hincrbyfloat", 4, WRITE | DENYOOM | FAST, hincrbyfloat).syntax("key field increment:double").key_flags(&[RW | ACCESS | UPDATE]).since("2.6.0").summary("Increments the floating point value of a field by a number. Uses 0 as initial value if the field doesn't exist."),
    hash_cmd("hrandfield", -2, READONLY | SCANS, hrandfield).syntax("key [options: count:integer [WITHVALUES]]").since("6.2.0").summary("Returns one or more random fields from a hash."),
    hash_cmd("hscan", -3, READONLY, hscan).syntax("key cursor:integer [MATCH pattern:pattern] [COUNT count:integer]").since("2.8.0").summary("Iterates over fields and values of a hash."),
    hash_cmd("hrangebylex", -4, READONLY | SCANS, hrangebylex).syntax("key min max [REV] [LIMIT offset:integer count:integer]").since("Kvrocks").summary("Returns fields and values of a hash within a lexicographical range of fields."),
];

/// The largest negative HRANDFIELD count served. Redis would try to build
/// the whole reply and can exhaust memory; Basalt refuses instead.
const MAX_RANDOM_DRAWS: u64 = 10_000_000;

fn bulk(v: Vec<u8>) -> Reply {
    Reply::Bulk(Bytes::from(v))
}

fn bulk_or_null(v: Option<Vec<u8>>) -> Reply {
    v.map_or(Reply::Null, bulk)
}

fn flat_pairs(items: Vec<FieldValue>) -> Reply {
    Reply::Array(
        items
            .into_iter()
            .flat_map(|(f, v)| [bulk(f), bulk(v)])
            .collect(),
    )
}

type Pairs<'a> = Vec<(&'a [u8], &'a [u8])>;

/// The field/value pairs of HSET and HMSET; an odd count is an arity error
/// naming the command, as Redis reports it.
fn field_pairs<'a>(args: &'a [Bytes], name: &str) -> Result<Pairs<'a>, CommandError> {
    let rest = args.get(2..).unwrap_or_default();
    if rest.is_empty() || rest.len() % 2 != 0 {
        return Err(CommandError::WrongArity(name.into()));
    }
    Ok(rest
        .chunks_exact(2)
        .map(|p| (p[0].as_ref(), p[1].as_ref()))
        .collect())
}

fn hset(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let pairs = field_pairs(args, "hset")?;
    let added = ctx.db().hset(&args[1], &pairs, false)?;
    ctx.notify(HASH, "hset", &args[1]);
    Ok(Reply::Integer(added as i64))
}

fn hmset(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let pairs = field_pairs(args, "hmset")?;
    ctx.db().hset(&args[1], &pairs, false)?;
    ctx.notify(HASH, "hset", &args[1]);
    Ok(Reply::ok())
}

fn hsetnx(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let pair = [(args[2].as_ref(), args[3].as_ref())];
    let added = ctx.db().hset(&args[1], &pair, true)?;
    if added > 0 {
        ctx.notify(HASH, "hset", &args[1]);
    }
    Ok(Reply::Integer(added as i64))
}

fn hget(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    Ok(bulk_or_null(ctx.db().hget(&args[1], &args[2])?))
}

fn hmget(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let fields: Vec<&[u8]> = args[2..].iter().map(|a| a.as_ref()).collect();
    let values = ctx.db().hmget(&args[1], &fields)?;
    Ok(Reply::Array(values.into_iter().map(bulk_or_null).collect()))
}

fn hgetall(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let items = ctx.db().hgetall(&args[1])?;
    Ok(Reply::Map(
        items.into_iter().map(|(f, v)| (bulk(f), bulk(v))).collect(),
    ))
}

fn hkeys(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let items = ctx.db().hgetall(&args[1])?;
    Ok(Reply::Array(
        items.into_iter().map(|(f, _)| bulk(f)).collect(),
    ))
}

fn hvals(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let items = ctx.db().hgetall(&args[1])?;
    Ok(Reply::Array(
        items.into_iter().map(|(_, v)| bulk(v)).collect(),
    ))
}

fn hlen(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    Ok(Reply::Integer(ctx.db().hlen(&args[1])? as i64))
}

fn hexists(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    Ok(Reply::Integer(ctx.db().hexists(&args[1], &args[2])? as i64))
}

fn hdel(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let fields: Vec<&[u8]> = args[2..].iter().map(|a| a.as_ref()).collect();
    let removed = ctx.db().hdel(&args[1], &fields)?;
    if removed > 0 {
        ctx.notify_removal(HASH, "hdel", &args[1]);
    }
    Ok(Reply::Integer(removed as i64))
}

fn hstrlen(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    Ok(Reply::Integer(ctx.db().hstrlen(&args[1], &args[2])? as i64))
}

fn hincrby(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let delta = int(&args[3])?;
    let value = ctx.db().hincr_by(&args[1], &args[2], delta)?;
    ctx.notify(HASH, "hincrby", &args[1]);
    Ok(Reply::Integer(value))
}

fn hincrbyfloat(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let delta = super::float(&args[3])?;
    if !delta.is_finite() {
        return Err(CommandError::other("ERR value is NaN or Infinity"));
    }
    let value = ctx.db().hincr_by_float(&args[1], &args[2], &args[3])?;
    ctx.notify(HASH, "hincrbyfloat", &args[1]);
    Ok(bulk(value.into_bytes()))
}

fn hrandfield(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let Some(count_arg) = args.get(2) else {
        return Ok(bulk_or_null(
            ctx.db().hrandfield_one(&args[1])?.map(|(f, _)| f),
        ));
    };
    let count = int(count_arg)?;
    if count == i64::MIN {
        return Err(CommandError::other(
            "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
        ));
    }
    let with_values = match args.get(3) {
        None => false,
        Some(a) if is(a, "withvalues") && args.len() == 4 => true,
        Some(_) => return Err(CommandError::Syntax),
    };
    let magnitude = count.unsigned_abs();
    // The reply holds two elements per draw, whose count must fit a long.
    if with_values && magnitude > (i64::MAX / 2) as u64 {
        return Err(CommandError::other("ERR value is out of range"));
    }
    let count = if count >= 0 {
        RandomCount::Distinct(magnitude)
    } else {
        if magnitude > MAX_RANDOM_DRAWS {
            return Err(CommandError::other("ERR value is out of range"));
        }
        RandomCount::WithRepeats(magnitude)
    };
    let items = match count {
        RandomCount::Distinct(0) => {
            // Still type-checks the key, as Redis does.
            ctx.db().hlen(&args[1])?;
            Vec::new()
        }
        c => ctx.db().hrandfield(&args[1], c)?,
    };
    if !with_values {
        return Ok(Reply::Array(
            items.into_iter().map(|(f, _)| bulk(f)).collect(),
        ));
    }
    if ctx.client.protocol == Protocol::Resp3 {
        return Ok(Reply::Array(
            items
                .into_iter()
                .map(|(f, v)| Reply::Array(vec![bulk(f), bulk(v)]))
                .collect(),
        ));
    }
    Ok(flat_pairs(items))
}

fn hscan(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let a = super::scan_args(args, 2, super::ScanExtra::NoValues)?;
    let page = ctx.db().hscan(&args[1], a.cursor, a.pattern, a.count)?;
    let items = if a.novalues {
        Reply::Array(page.items.into_iter().map(|(f, _)| bulk(f)).collect())
    } else {
        flat_pairs(page.items)
    };
    Ok(Reply::Array(vec![
        Reply::Bulk(Bytes::from(page.cursor.to_string())),
        items,
    ]))
}

fn hrangebylex(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let (mut reverse, mut offset, mut count) = (false, -1i64, -1i64);
    let mut i = 4;
    while i < args.len() {
        if is(&args[i], "rev") {
            reverse = true;
            i += 1;
        } else if is(&args[i], "limit") {
            let (Some(o), Some(c)) = (args.get(i + 1), args.get(i + 2)) else {
                return Err(CommandError::Syntax);
            };
            offset = int(o)?;
            count = int(c)?;
            i += 3;
        } else {
            return Err(CommandError::Syntax);
        }
    }
    // As ZREVRANGEBYLEX, the reversed form names the maximum first.
    let (min, max) = if reverse {
        (&args[3], &args[2])
    } else {
        (&args[2], &args[3])
    };
    if min.as_ref() == b"+" || max.as_ref() == b"-" {
        return Err(CommandError::other("ERR min > max"));
    }
    let min = LexBound::parse(min).ok_or(CommandError::other("ERR the min is illegal"))?;
    let max = LexBound::parse(max).ok_or(CommandError::other("ERR the max is illegal"))?;
    let range = LexRange {
        min,
        max,
        reverse,
        offset,
        count,
    };
    Ok(flat_pairs(ctx.db().hrange_by_lex(&args[1], &range)?))
}
