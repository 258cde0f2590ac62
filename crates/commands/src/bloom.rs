//! Bloom filter commands with RedisBloom's API, replies and error texts,
//! over Kvrocks' scalable chain (see `basalt_types::bloom`).

use super::args::is;
use super::flags::*;
use super::key_flags::*;
use super::Command;
use crate::context::Ctx;
use crate::error::{CommandError, CommandResult};
use basalt_resp::Reply;
use basalt_types::bloom::{AddResult, BloomInfo, InsertOptions, DEFAULT_EXPANSION};
use basalt_types::number::{parse_f64, parse_i64};
use bytes::Bytes;

const fn bf_cmd(name: &'static str, arity: i32, flags: u32, handler: super::Handler) -> Command {
    Command::new(name, arity, flags, handler)
        .group("bf")
        .keys(1, 1, 1)
        .since("1.0.0")
}

pub static COMMANDS: &[Command] = &[
    bf_cmd("bf.reserve", -4, WRITE | DENYOOM, bf_reserve).syntax("key error_rate:double capacity:integer [EXPANSION expansion:integer] [NONSCALING]").key_flags(&[RW | INSERT]).summary("Creates a new Bloom Filter."),
    bf_cmd("bf.add", 3, WRITE | DENYOOM, bf_add).syntax("key item").key_flags(&[RW | INSERT]).summary("Adds an item to a Bloom Filter."),
    bf_cmd("bf.madd", -3, WRITE | DENYOOM, bf_madd).syntax("key item [item ...]").key_flags(&[RW | INSERT]).summary("Adds one or more items to a Bloom Filter. A filter will be created if it does not exist."),
    bf_cmd("bf.insert", -4, WRITE | DENYOOM, bf_insert).syntax("key [CAPACITY capacity:integer] [ERROR error:double] [EXPANSION expansion:integer] [NOCREATE] [NONSCALING] ITEMS item [item ...]").key_flags(&[RW | INSERT]).summary("Adds one or more items to a Bloom Filter. A filter will be created if it does not exist."),
    bf_cmd("bf.exists", 3, READONLY | FAST, bf_exists).syntax("key item").key_flags(&[RO | ACCESS]).summary("Checks whether an item exists in a Bloom Filter."),
    bf_cmd("bf.mexists", -3, READONLY | FAST, bf_mexists).syntax("key item [item ...]").key_flags(&[RO | ACCESS]).summary("Checks whether one or more items exist in a Bloom Filter."),
    bf_cmd("bf.info", -2, READONLY | FAST, bf_info).syntax("key [CAPACITY | SIZE | FILTERS | ITEMS | EXPANSION]").key_flags(&[RO]).summary("Returns information about a Bloom Filter."),
    bf_cmd("bf.card", 2, READONLY | FAST, bf_card).syntax("key").key_flags(&[RO]).since("2.4.4").summary("Returns the cardinality of a Bloom filter."),
];

fn err(text: &'static str) -> CommandError {
    CommandError::other(text)
}

fn refs(args: &[Bytes]) -> Vec<&[u8]> {
    args.iter().map(|a| a.as_ref()).collect()
}

/// The reply of one add: 1, 0, or RedisBloom's error for a full filter.
fn add_reply(r: AddResult) -> Reply {
    match r {
        AddResult::Added => Reply::Integer(1),
        AddResult::Exists => Reply::Integer(0),
        AddResult::Full => Reply::Error("ERR non scaling filter is full".into()),
    }
}

/// Expansion as Kvrocks stores it: a u16 of at least 1.
fn expansion(arg: &[u8]) -> Result<u16, CommandError> {
    let v = parse_i64(arg).ok_or(err("ERR bad expansion"))?;
    if v < 1 {
        return Err(err("ERR expansion should be greater or equal to 1"));
    }
    u16::try_from(v).map_err(|_| err("ERR bad expansion"))
}

fn bf_reserve(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    if args.len() > 7 {
        return Err(CommandError::WrongArity("bf.reserve".into()));
    }
    let error_rate = parse_f64(&args[2]).ok_or(err("ERR bad error rate"))?;
    if !(error_rate > 0.0 && error_rate < 1.0) {
        return Err(err("ERR (0 < error rate range < 1)"));
    }
    let capacity = parse_i64(&args[3]).ok_or(err("ERR bad capacity"))?;
    if capacity <= 0 {
        return Err(err("ERR (capacity should be larger than 0)"));
    }
    let capacity = u32::try_from(capacity).map_err(|_| err("ERR bad capacity"))?;
    let (mut nonscaling, mut grow) = (false, None);
    let mut i = 4;
    while i < args.len() {
        if is(&args[i], "nonscaling") {
            nonscaling = true;
            i += 1;
        } else if is(&args[i], "expansion") {
            let value = args.get(i + 1).ok_or(err("ERR no expansion"))?;
            grow = Some(value.clone());
            i += 2;
        } else {
            return Err(CommandError::Syntax);
        }
    }
    let expansion = match (nonscaling, grow) {
        (true, Some(_)) => return Err(err("ERR nonscaling filters cannot expand")),
        (true, None) => 0,
        (false, Some(v)) => expansion(&v)?,
        (false, None) => DEFAULT_EXPANSION,
    };
    ctx.db()
        .bf_reserve(&args[1], error_rate, capacity, expansion)?;
    Ok(Reply::ok())
}

fn bf_add(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let r = ctx
        .db()
        .bf_insert(&args[1], &refs(&args[2..]), InsertOptions::default())?;
    Ok(r.first().copied().map_or(Reply::Integer(0), add_reply))
}

fn bf_madd(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let r = ctx
        .db()
        .bf_insert(&args[1], &refs(&args[2..]), InsertOptions::default())?;
    Ok(Reply::Array(r.into_iter().map(add_reply).collect()))
}

/// BF.INSERT's options, with RedisBloom's texts for bad values.
fn insert_options(args: &[Bytes]) -> Result<(InsertOptions, usize), CommandError> {
    let mut opts = InsertOptions::default();
    let (mut nonscaling, mut grow) = (false, false);
    let mut i = 2;
    let value = |i: usize| {
        args.get(i + 1)
            .ok_or_else(|| CommandError::WrongArity("bf.insert".into()))
    };
    loop {
        let Some(arg) = args.get(i) else {
            return Err(CommandError::WrongArity("bf.insert".into()));
        };
        if is(arg, "items") {
            i += 1;
            break;
        } else if is(arg, "capacity") {
            let v = parse_i64(value(i)?).ok_or(err("ERR Bad capacity"))?;
            if v < 1 {
                return Err(err("ERR (capacity should be larger than 0)"));
            }
            opts.capacity = u32::try_from(v).map_err(|_| err("ERR Bad capacity"))?;
            i += 2;
        } else if is(arg, "error") {
            let v = parse_f64(value(i)?).ok_or(err("ERR Bad error rate"))?;
            if !(v > 0.0 && v < 1.0) {
                return Err(err("ERR (0 < error rate range < 1)"));
            }
            opts.error_rate = v;
            i += 2;
        } else if is(arg, "expansion") {
            opts.expansion = expansion(value(i)?)?;
            grow = true;
            i += 2;
        } else if is(arg, "nocreate") {
            opts.auto_create = false;
            i += 1;
        } else if is(arg, "nonscaling") {
            nonscaling = true;
            i += 1;
        } else {
            return Err(err("ERR Unknown argument received"));
        }
    }
    if i >= args.len() {
        return Err(CommandError::WrongArity("bf.insert".into()));
    }
    if nonscaling {
        if grow {
            return Err(err("ERR nonscaling filters cannot expand"));
        }
        opts.expansion = 0;
    }
    Ok((opts, i))
}

fn bf_insert(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let (opts, first_item) = insert_options(args)?;
    let r = ctx
        .db()
        .bf_insert(&args[1], &refs(&args[first_item..]), opts)?;
    Ok(Reply::Array(r.into_iter().map(add_reply).collect()))
}

fn bf_exists(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let found = ctx.db().bf_mexists(&args[1], &refs(&args[2..3]))?;
    Ok(Reply::Integer(
        found.first().copied().unwrap_or(false) as i64
    ))
}

fn bf_mexists(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let found = ctx.db().bf_mexists(&args[1], &refs(&args[2..]))?;
    Ok(Reply::Array(
        found
            .into_iter()
            .map(|b| Reply::Integer(b as i64))
            .collect(),
    ))
}

fn expansion_reply(info: &BloomInfo) -> Reply {
    info.expansion
        .map_or(Reply::Null, |e| Reply::Integer(e as i64))
}

/// All five fields, or one of them as a one-element array (RedisBloom's
/// shape for the single-field form).
fn bf_info(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    if args.len() > 3 {
        return Err(CommandError::WrongArity("bf.info".into()));
    }
    let info = ctx
        .db()
        .bf_info(&args[1])?
        .ok_or(basalt_types::Error::Bloom(
            basalt_types::bloom::BloomError::NotFound,
        ))?;
    let Some(field) = args.get(2) else {
        let field = |name: &'static str, v: Reply| (Reply::Simple(name.into()), v);
        return Ok(Reply::Map(vec![
            field("Capacity", Reply::Integer(info.capacity as i64)),
            field("Size", Reply::Integer(info.bytes as i64)),
            field("Number of filters", Reply::Integer(info.filters as i64)),
            field(
                "Number of items inserted",
                Reply::Integer(info.items as i64),
            ),
            field("Expansion rate", expansion_reply(&info)),
        ]));
    };
    let value = if is(field, "capacity") {
        Reply::Integer(info.capacity as i64)
    } else if is(field, "size") {
        Reply::Integer(info.bytes as i64)
    } else if is(field, "filters") {
        Reply::Integer(info.filters as i64)
    } else if is(field, "items") {
        Reply::Integer(info.items as i64)
    } else if is(field, "expansion") {
        expansion_reply(&info)
    } else {
        return Err(err("ERR Invalid information value"));
    };
    Ok(Reply::Array(vec![value]))
}

fn bf_card(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    Ok(Reply::Integer(
        ctx.db().bf_info(&args[1])?.map_or(0, |i| i.items as i64),
    ))
}
