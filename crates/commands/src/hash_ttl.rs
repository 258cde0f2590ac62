//! Hash-field expiration commands (Redis 7.4: HEXPIRE HPEXPIRE HEXPIREAT
//! HPEXPIREAT HTTL HPTTL HEXPIRETIME HPEXPIRETIME HPERSIST; Redis 8:
//! HGETEX HSETEX HGETDEL), over `basalt_types::hash_ttl`.

use super::args::is;
use super::flags::*;
use super::key_flags::*;
use super::{int, Command};
use crate::context::Ctx;
use crate::error::{CommandError, CommandResult};
use crate::notify::HASH;
use basalt_engine::version::now_ms;
use basalt_resp::Reply;
use basalt_types::hash_ttl::{
    FieldExpireCondition, FieldSetCondition, FieldTtl, FieldTtlChange, FieldTtlOutcome,
};
use bytes::Bytes;

const fn ttl_cmd(name: &'static str, arity: i32, flags: u32, handler: super::Handler) -> Command {
    Command::new(name, arity, flags, handler)
        .group("hash")
        .keys(1, 1, 1)
        .since("7.4.0")
}

pub static COMMANDS: &[Command] = &[
    ttl_cmd("hexpire", -6, WRITE | DENYOOM | FAST, hexpire).syntax("key seconds:integer [NX | XX | GT | LT] FIELDS numfields:integer field [field ...]").key_flags(&[RW | UPDATE]).summary("Set expiry for hash field using relative time to expire (seconds)"),
    ttl_cmd("hpexpire", -6, WRITE | DENYOOM | FAST, hpexpire).syntax("key milliseconds:integer [NX | XX | GT | LT] FIELDS numfields:integer field [field ...]").key_flags(&[RW | UPDATE]).summary("Set expiry for hash field using relative time to expire (milliseconds)"),
    ttl_cmd("hexpireat", -6, WRITE | DENYOOM | FAST, hexpireat).syntax("key unix-time-seconds:unix-time [NX | XX | GT | LT] FIELDS numfields:integer field [field ...]").key_flags(&[RW | UPDATE]).summary("Set expiry for hash field using an absolute Unix timestamp (seconds)"),
    ttl_cmd("hpexpireat", -6, WRITE | DENYOOM | FAST, hpexpireat).syntax("key unix-time-milliseconds:unix-time [NX | XX | GT | LT] FIELDS numfields:integer field [field ...]").key_flags(&[RW | UPDATE]).summary("Set expiry for hash field using an absolute Unix timestamp (milliseconds)"),
    ttl_cmd("httl", -5, READONLY | FAST, httl).syntax("key FIELDS numfields:integer field [field ...]").key_flags(&[RO | ACCESS]).summary("Returns the TTL in seconds of a hash field."),
    ttl_cmd("hpttl", -5, READONLY | FAST, hpttl).syntax("key FIELDS numfields:integer field [field ...]").key_flags(&[RO | ACCESS]).summary("Returns the TTL in milliseconds of a hash field."),
    ttl_cmd("hexpiretime", -5, READONLY | FAST, hexpiretime).syntax("key FIELDS numfields:integer field [field ...]").key_flags(&[RO | ACCESS]).summary("Returns the expiration time of a hash field as a Unix timestamp, in seconds."),
    ttl_cmd("hpexpiretime", -5, READONLY | FAST, hpexpiretime).syntax("key FIELDS numfields:integer field [field ...]").key_flags(&[RO | ACCESS]).summary("Returns the expiration time of a hash field as a Unix timestamp, in msec."),
    ttl_cmd("hpersist", -5, WRITE | FAST, hpersist).syntax("key FIELDS numfields:integer field [field ...]").key_flags(&[RW | UPDATE]).summary("Removes the expiration time for each specified field"),
    ttl_cmd("hgetex", -5, WRITE | FAST, hgetex).syntax("key [EX seconds:integer | PX milliseconds:integer | EXAT unix-time-seconds:unix-time | PXAT unix-time-milliseconds:unix-time | PERSIST] FIELDS numfields:integer field [field ...]").key_flags(&[RW | ACCESS | UPDATE]).since("8.0.0").summary("Get the value of one or more fields of a given hash key, and optionally set their expiration."),
    ttl_cmd("hsetex", -6, WRITE | DENYOOM | FAST, hsetex).syntax("key [FNX | FXX] [EX seconds:integer | PX milliseconds:integer | EXAT unix-time-seconds:unix-time | PXAT unix-time-milliseconds:unix-time | KEEPTTL] FIELDS numfields:integer field value [field value ...]").key_flags(&[RW | UPDATE]).since("8.0.0").summary("Set the value of one or more fields of a given hash key, and optionally set their expiration."),
    ttl_cmd("hgetdel", -5, WRITE | FAST, hgetdel).syntax("key FIELDS numfields:integer field [field ...]").key_flags(&[RW | ACCESS | DELETE]).since("8.0.0").summary("Returns the value of a field and deletes it from the hash."),
];

/// Redis's bound for field expiry times: 2^48 - 1 ms.
const MAX_FIELD_EXPIRE_MS: i64 = (1 << 48) - 1;

fn err(text: &'static str) -> CommandError {
    CommandError::other(text)
}

/// `FIELDS numfields f1 f2 ...` starting at `at`; `per_field` arguments
/// per field (2 for HSETEX's field-value pairs).
fn fields_arg(args: &[Bytes], at: usize, per_field: usize) -> Result<&[Bytes], CommandError> {
    if !args.get(at).is_some_and(|a| is(a, "fields")) {
        return Err(err(
            "ERR Mandatory argument FIELDS is missing or not at the right position",
        ));
    }
    let n = args
        .get(at + 1)
        .and_then(|a| basalt_types::number::parse_i64(a))
        .filter(|&n| n >= 1)
        .ok_or(err("ERR Number of fields must be a positive integer"))?;
    let rest = &args[at + 2..];
    if (n as u128) * per_field as u128 != rest.len() as u128 {
        return Err(err(
            "ERR The `numfields` parameter must match the number of arguments",
        ));
    }
    Ok(rest)
}

fn refs(args: &[Bytes]) -> Vec<&[u8]> {
    args.iter().map(|a| a.as_ref()).collect()
}

fn codes(v: impl IntoIterator<Item = i64>) -> Reply {
    Reply::Array(v.into_iter().map(Reply::Integer).collect())
}

/// The notifications of a write that set, persisted or deleted fields.
fn notify_outcome(ctx: &mut Ctx, key: &[u8], o: &FieldTtlOutcome, set_event: &'static str) {
    if o.deleted > 0 {
        ctx.notify_removal(HASH, "hdel", key);
    } else if o.updated > 0 {
        ctx.notify(HASH, set_event, key);
    }
    if o.persisted > 0 {
        ctx.notify(HASH, "hpersist", key);
    }
}

fn expire_generic(
    ctx: &mut Ctx,
    args: &[Bytes],
    unit_ms: i64,
    relative: bool,
    name: &'static str,
) -> CommandResult {
    let value = int(&args[2])?;
    if value < 0 {
        return Err(err("ERR invalid expire time, must be >= 0"));
    }
    let base = if relative { now_ms() as i64 } else { 0 };
    let at = value
        .checked_mul(unit_ms)
        .filter(|ms| *ms <= MAX_FIELD_EXPIRE_MS - base)
        .ok_or(CommandError::InvalidExpire(name))?
        + base;
    let (cond, fields_at) = match &args[3] {
        a if is(a, "nx") => (FieldExpireCondition::Nx, 4),
        a if is(a, "xx") => (FieldExpireCondition::Xx, 4),
        a if is(a, "gt") => (FieldExpireCondition::Gt, 4),
        a if is(a, "lt") => (FieldExpireCondition::Lt, 4),
        _ => (FieldExpireCondition::Always, 3),
    };
    let fields = fields_arg(args, fields_at, 1).map_err(|e| match e {
        CommandError::Other(t) if t.starts_with("ERR Number") => {
            err("ERR Parameter `numFields` should be greater than 0")
        }
        e => e,
    })?;
    let (results, outcome) = ctx.db().hexpire(&args[1], &refs(fields), at as u64, cond)?;
    notify_outcome(ctx, &args[1], &outcome, "hexpire");
    Ok(codes(results.into_iter().map(|r| r as i64)))
}

fn hexpire(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    expire_generic(ctx, args, 1000, true, "hexpire")
}

fn hpexpire(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    expire_generic(ctx, args, 1, true, "hpexpire")
}

fn hexpireat(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    expire_generic(ctx, args, 1000, false, "hexpireat")
}

fn hpexpireat(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    expire_generic(ctx, args, 1, false, "hpexpireat")
}

/// HTTL and friends: -2 no field, -1 no TTL, else the TTL or the time.
fn ttl_generic(ctx: &mut Ctx, args: &[Bytes], show: impl Fn(u64, u64) -> i64) -> CommandResult {
    let fields = fields_arg(args, 2, 1)?;
    let ttls = ctx.db().hash_field_ttls(&args[1], &refs(fields))?;
    let now = now_ms();
    Ok(codes(ttls.into_iter().map(|t| match t {
        FieldTtl::NoField => -2,
        FieldTtl::Persistent => -1,
        FieldTtl::At(at) => show(at, now),
    })))
}

fn httl(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    // Rounded up, as Redis: a field with 1 ms left has 1 s left.
    ttl_generic(ctx, args, |at, now| {
        at.saturating_sub(now).div_ceil(1000) as i64
    })
}

fn hpttl(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    ttl_generic(ctx, args, |at, now| at.saturating_sub(now) as i64)
}

fn hexpiretime(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    ttl_generic(ctx, args, |at, _| at.div_ceil(1000) as i64)
}

fn hpexpiretime(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    ttl_generic(ctx, args, |at, _| at as i64)
}

fn hpersist(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let fields = fields_arg(args, 2, 1)?;
    let results = ctx.db().hpersist(&args[1], &refs(fields))?;
    if results.contains(&1) {
        ctx.notify(HASH, "hpersist", &args[1]);
    }
    Ok(codes(results))
}

/// EX PX EXAT PXAT as an absolute time in ms; a value of 0 or less is
/// an invalid expire time, as SET's.
fn ttl_option(kind: &[u8], value: &[u8], name: &'static str) -> Result<Option<u64>, CommandError> {
    let (unit, relative) = match kind {
        k if is(k, "ex") => (1000, true),
        k if is(k, "px") => (1, true),
        k if is(k, "exat") => (1000, false),
        k if is(k, "pxat") => (1, false),
        _ => return Ok(None),
    };
    let v = int(value)?;
    let base = if relative { now_ms() as i64 } else { 0 };
    let at = Some(v)
        .filter(|v| *v > 0)
        .and_then(|v| v.checked_mul(unit))
        .filter(|ms| *ms <= MAX_FIELD_EXPIRE_MS - base)
        .ok_or(CommandError::InvalidExpire(name))?;
    Ok(Some((at + base) as u64))
}

fn hgetex(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let mut change = FieldTtlChange::None;
    let mut i = 2;
    while i < args.len() && !is(&args[i], "fields") {
        if change != FieldTtlChange::None {
            return Err(CommandError::Syntax);
        }
        if is(&args[i], "persist") {
            change = FieldTtlChange::Persist;
            i += 1;
            continue;
        }
        let value = args.get(i + 1).ok_or(CommandError::Syntax)?;
        match ttl_option(&args[i], value, "hgetex")? {
            Some(at) => change = FieldTtlChange::At(at),
            None => return Err(CommandError::Syntax),
        }
        i += 2;
    }
    let fields = fields_arg(args, i, 1)?;
    let (values, outcome) = ctx.db().hgetex(&args[1], &refs(fields), change)?;
    notify_outcome(ctx, &args[1], &outcome, "hexpire");
    Ok(Reply::Array(
        values
            .into_iter()
            .map(|v| v.map_or(Reply::Null, |v| Reply::Bulk(Bytes::from(v))))
            .collect(),
    ))
}

fn hsetex(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let mut cond = FieldSetCondition::Always;
    let mut change = None;
    let mut i = 2;
    while i < args.len() && !is(&args[i], "fields") {
        let a = &args[i];
        if is(a, "fnx") || is(a, "fxx") {
            if cond != FieldSetCondition::Always {
                return Err(CommandError::Syntax);
            }
            cond = if is(a, "fnx") {
                FieldSetCondition::Fnx
            } else {
                FieldSetCondition::Fxx
            };
            i += 1;
        } else if is(a, "keepttl") {
            if change.is_some() {
                return Err(CommandError::Syntax);
            }
            change = Some(FieldTtlChange::Keep);
            i += 1;
        } else {
            if change.is_some() {
                return Err(CommandError::Syntax);
            }
            let value = args.get(i + 1).ok_or(CommandError::Syntax)?;
            let at = ttl_option(a, value, "hsetex")?.ok_or(CommandError::Syntax)?;
            change = Some(FieldTtlChange::At(at));
            i += 2;
        }
    }
    let rest = fields_arg(args, i, 2)?;
    let pairs: Vec<(&[u8], &[u8])> = rest
        .chunks_exact(2)
        .map(|p| (p[0].as_ref(), p[1].as_ref()))
        .collect();
    let change = change.unwrap_or(FieldTtlChange::Clear);
    let (set, outcome) = ctx.db().hsetex(&args[1], &pairs, cond, change)?;
    if set {
        if outcome.deleted > 0 {
            ctx.notify_removal(HASH, "hdel", &args[1]);
        } else {
            ctx.notify(HASH, "hset", &args[1]);
            if outcome.updated > 0 {
                ctx.notify(HASH, "hexpire", &args[1]);
            }
        }
    }
    Ok(Reply::Integer(set as i64))
}

fn hgetdel(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let fields = fields_arg(args, 2, 1)?;
    let (values, removed) = ctx.db().hgetdel(&args[1], &refs(fields))?;
    if removed > 0 {
        ctx.notify_removal(HASH, "hdel", &args[1]);
    }
    Ok(Reply::Array(
        values
            .into_iter()
            .map(|v| v.map_or(Reply::Null, |v| Reply::Bulk(Bytes::from(v))))
            .collect(),
    ))
}
