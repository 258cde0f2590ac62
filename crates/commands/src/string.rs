//! String commands.

use super::flags::*;
use super::key_flags::*;
use super::{int, is, Command};
use crate::context::Ctx;
use crate::error::{CommandError, CommandResult};
use crate::notify::{GENERIC, STRING};
use basalt_resp::Reply;
use basalt_types::expire::absolute_ms;
use basalt_types::lcs;
use basalt_types::string::{CompareOutcome, Condition, SetOptions};
use basalt_types::Expiry;
use bytes::Bytes;

const fn string_cmd(
    name: &'static str,
    arity: i32,
    flags: u32,
    handler: super::Handler,
) -> Command {
    Command::new(name, arity, flags, handler).group("string")
}

pub static COMMANDS: &[Command] = &[
    string_cmd("get", 2, READONLY | FAST, get).syntax("key").keys(1, 1, 1).summary("Returns the string value of a key."),
    string_cmd("set", -3, WRITE | DENYOOM, set).syntax("key value [condition: NX | XX] [GET] [expiration: EX seconds:integer | PX milliseconds:integer | EXAT unix-time-seconds:unix-time | PXAT unix-time-milliseconds:unix-time | KEEPTTL]").keys(1, 1, 1).key_flags(&[RW | ACCESS | UPDATE | VARIABLE_FLAGS]).movable(super::KeyFinder::VariableFlags(super::key_finder::set_flags)).summary("Sets the string value of a key, ignoring its type."),
    string_cmd("setnx", 3, WRITE | DENYOOM | FAST, setnx).syntax("key value").keys(1, 1, 1).key_flags(&[OW | INSERT]).summary("Set the string value of a key only when the key doesn't exist."),
    string_cmd("setex", 4, WRITE | DENYOOM, setex).syntax("key seconds:integer value").keys(1, 1, 1).key_flags(&[OW | UPDATE]).since("2.0.0").summary("Sets the string value and expiration time of a key."),
    string_cmd("psetex", 4, WRITE | DENYOOM, psetex).syntax("key milliseconds:integer value").keys(1, 1, 1).key_flags(&[OW | UPDATE]).since("2.6.0").summary("Sets the string value and expiration time in milliseconds of a key."),
    string_cmd("getset", 3, WRITE | DENYOOM | FAST, getset).syntax("key value").keys(1, 1, 1).key_flags(&[RW | ACCESS | UPDATE]).summary("Returns the previous string value of a key after setting it to a new value."),
    string_cmd("getdel", 2, WRITE | FAST, getdel).syntax("key").keys(1, 1, 1).key_flags(&[RW | ACCESS | DELETE]).since("6.2.0").summary("Returns the string value of a key after deleting the key."),
    string_cmd("getex", -2, WRITE | FAST, getex).syntax("key [expiration: EX seconds:integer | PX milliseconds:integer | EXAT unix-time-seconds:unix-time | PXAT unix-time-milliseconds:unix-time | PERSIST]").keys(1, 1, 1).key_flags(&[RW | ACCESS | UPDATE]).since("6.2.0").summary("Returns the string value of a key after setting its expiration time."),
    string_cmd("mget", -2, READONLY | FAST, mget).syntax("key [key ...]").keys(1, -1, 1).summary("Atomically returns the string values of one or more keys."),
    string_cmd("mset", -3, WRITE | DENYOOM, mset).syntax("key value [key value ...]").keys(1, -1, 2).key_flags(&[OW | UPDATE]).since("1.0.1").summary("Atomically creates or modifies the string values of one or more keys."),
    string_cmd("msetnx", -3, WRITE | DENYOOM, msetnx).syntax("key value [key value ...]").keys(1, -1, 2).key_flags(&[OW | INSERT]).since("1.0.1").summary("Atomically modifies the string values of one or more keys only when all keys don't exist."),
    string_cmd("append", 3, WRITE | DENYOOM | FAST, append).syntax("key value").keys(1, 1, 1).key_flags(&[RW | INSERT]).since("2.0.0").summary("Appends a string to the value of a key. Creates the key if it doesn't exist."),
    string_cmd("strlen", 2, READONLY | FAST, strlen).syntax("key").keys(1, 1, 1).key_flags(&[RO]).since("2.2.0").summary("Returns the length of a string value."),
    string_cmd("getrange", 4, READONLY, getrange).syntax("key start:integer end:integer").keys(1, 1, 1).since("2.4.0").summary("Returns a substring of the string stored at a key."),
    string_cmd("substr", 4, READONLY, getrange).syntax("key start:integer end:integer").keys(1, 1, 1).summary("Returns a substring from a string value."),
    string_cmd("setrange", 4, WRITE | DENYOOM, setrange).syntax("key offset:integer value").keys(1, 1, 1).key_flags(&[RW | UPDATE]).since("2.2.0").summary("Overwrites a part of a string value with another by an offset. Creates the key if it doesn't exist."),
    string_cmd("incr", 2, WRITE | DENYOOM | FAST, incr).syntax("key").keys(1, 1, 1).key_flags(&[RW | ACCESS | UPDATE]).summary("Increments the integer value of a key by one. Uses 0 as initial value if the key doesn't exist."),
    string_cmd("decr", 2, WRITE | DENYOOM | FAST, decr).syntax("key").keys(1, 1, 1).key_flags(&[RW | ACCESS | UPDATE]).summary("Decrements the integer value of a key by one. Uses 0 as initial value if the key doesn't exist."),
    string_cmd("incrby", 3, WRITE | DENYOOM | FAST, incrby).syntax("key increment:integer").keys(1, 1, 1).key_flags(&[RW | ACCESS | UPDATE]).summary("Increments the integer value of a key by a number. Uses 0 as initial value if the key doesn't exist."),
    string_cmd("decrby", 3, WRITE | DENYOOM | FAST, decrby).syntax("key decrement:integer").keys(1, 1, 1).key_flags(&[RW | ACCESS | UPDATE]).summary("Decrements a number from the integer value of a key. Uses 0 as initial value if the key doesn't exist."),
    string_cmd("incrbyfloat", 3, WRITE | DENYOOM | FAST, incrbyfloat).syntax("key increment:double").keys(1, 1, 1).key_flags(&[RW | ACCESS | UPDATE]).since("2.6.0").summary("Increment the floating point value of a key by a number. Uses 0 as initial value if the key doesn't exist."),
    string_cmd("lcs", -3, READONLY, lcs_cmd).syntax("key1:key key2:key [LEN] [IDX] [MINMATCHLEN min-match-len:integer] [WITHMATCHLEN]").keys(1, 2, 1).since("7.0.0").summary("Finds the longest common substring."),
    string_cmd("cas", -4, WRITE, cas).syntax("key old-value new-value [expiration: EX seconds:integer | PX milliseconds:integer | EXAT unix-time-seconds:unix-time | PXAT unix-time-milliseconds:unix-time]").keys(1, 1, 1).key_flags(&[RW | ACCESS | UPDATE]).since("Kvrocks").summary("Sets a key to a new value only if its current value equals the expected one."),
    string_cmd("cad", 3, WRITE, cad).syntax("key value").keys(1, 1, 1).key_flags(&[RW | ACCESS | DELETE]).since("Kvrocks").summary("Deletes a key only if its current value equals the expected one."),
];

fn bulk_or_null(v: Option<Vec<u8>>) -> Reply {
    match v {
        Some(v) => Reply::Bulk(Bytes::from(v)),
        None => Reply::Null,
    }
}

fn get(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    Ok(bulk_or_null(ctx.db().get(&args[1])?))
}

/// Parses a relative TTL (`EX`/`PX`) or absolute time (`EXAT`/`PXAT`) into
/// absolute ms, with Redis's "invalid expire time" for non-positive values
/// and overflow.
fn expire_arg(
    value: &[u8],
    unit_ms: i64,
    relative: bool,
    cmd: &'static str,
) -> Result<u64, CommandError> {
    let v = int(value)?;
    if v <= 0 {
        return Err(CommandError::InvalidExpire(cmd));
    }
    let at = absolute_ms(v, unit_ms, relative).ok_or(CommandError::InvalidExpire(cmd))?;
    Ok(at as u64)
}

/// Which expiry option a command was given. Redis lets the same option
/// repeat (the last one wins) but not two different ones.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ExpiryOption {
    Ex,
    Px,
    ExAt,
    PxAt,
    KeepTtl,
    Persist,
}

struct ExpiryParser {
    seen: Option<ExpiryOption>,
    expiry: Option<Expiry>,
    cmd: &'static str,
    /// KEEPTTL (SET) or PERSIST (GETEX), when the command takes one.
    allow: Option<ExpiryOption>,
}

impl ExpiryParser {
    fn new(cmd: &'static str, allow: Option<ExpiryOption>) -> Self {
        ExpiryParser {
            seen: None,
            expiry: None,
            cmd,
            allow,
        }
    }

    /// Consumes the expiry option at `args[*i]` (and its value); returns
    /// false when the argument is not an expiry option.
    fn parse(&mut self, args: &[Bytes], i: &mut usize) -> Result<bool, CommandError> {
        let opt = &args[*i];
        let (kind, unit, relative) = if is(opt, "ex") {
            (ExpiryOption::Ex, 1000, true)
        } else if is(opt, "px") {
            (ExpiryOption::Px, 1, true)
        } else if is(opt, "exat") {
            (ExpiryOption::ExAt, 1000, false)
        } else if is(opt, "pxat") {
            (ExpiryOption::PxAt, 1, false)
        } else if is(opt, "keepttl") && self.allow == Some(ExpiryOption::KeepTtl) {
            (ExpiryOption::KeepTtl, 0, false)
        } else if is(opt, "persist") && self.allow == Some(ExpiryOption::Persist) {
            (ExpiryOption::Persist, 0, false)
        } else {
            return Ok(false);
        };
        if self.seen.is_some_and(|s| s != kind) {
            return Err(CommandError::Syntax);
        }
        self.seen = Some(kind);
        self.expiry = Some(match kind {
            ExpiryOption::KeepTtl => Expiry::Keep,
            ExpiryOption::Persist => Expiry::Clear,
            _ => {
                let value = args.get(*i + 1).ok_or(CommandError::Syntax)?;
                *i += 1;
                Expiry::At(expire_arg(value, unit, relative, self.cmd)?)
            }
        });
        Ok(true)
    }
}

fn set(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let mut opts = SetOptions::default();
    let mut expiry = ExpiryParser::new("set", Some(ExpiryOption::KeepTtl));
    let mut i = 3;
    while i < args.len() {
        let a = &args[i];
        if is(a, "nx") && opts.condition != Condition::IfExists {
            opts.condition = Condition::IfNotExists;
        } else if is(a, "xx") && opts.condition != Condition::IfNotExists {
            opts.condition = Condition::IfExists;
        } else if is(a, "get") {
            opts.get = true;
        } else if !expiry.parse(args, &mut i)? {
            return Err(CommandError::Syntax);
        }
        i += 1;
    }
    opts.expiry = expiry.expiry.unwrap_or(Expiry::Clear);
    let outcome = ctx.db().set(&args[1], &args[2], opts)?;
    if outcome.written {
        notify_set(ctx, &args[1], opts.expiry);
    }
    Ok(match (opts.get, outcome.written) {
        (true, _) => bulk_or_null(outcome.old),
        (false, true) => Reply::ok(),
        (false, false) => Reply::Null,
    })
}

/// Redis's events for a string write: `set`, then `expire` when the
/// command gave the key a TTL.
fn notify_set(ctx: &Ctx, key: &[u8], expiry: Expiry) {
    ctx.notify(STRING, "set", key);
    if let Expiry::At(_) = expiry {
        ctx.notify(GENERIC, "expire", key);
    }
}

fn setnx(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let opts = SetOptions {
        condition: Condition::IfNotExists,
        ..Default::default()
    };
    let written = ctx.db().set(&args[1], &args[2], opts)?.written;
    if written {
        ctx.notify(STRING, "set", &args[1]);
    }
    Ok(Reply::Integer(written as i64))
}

fn set_with_ttl(ctx: &mut Ctx, args: &[Bytes], unit: i64, cmd: &'static str) -> CommandResult {
    let at = expire_arg(&args[2], unit, true, cmd)?;
    let opts = SetOptions {
        expiry: Expiry::At(at),
        ..Default::default()
    };
    ctx.db().set(&args[1], &args[3], opts)?;
    notify_set(ctx, &args[1], opts.expiry);
    Ok(Reply::ok())
}

fn setex(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    set_with_ttl(ctx, args, 1000, "setex")
}

fn psetex(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    set_with_ttl(ctx, args, 1, "psetex")
}

fn getset(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let opts = SetOptions {
        get: true,
        ..Default::default()
    };
    let old = ctx.db().set(&args[1], &args[2], opts)?.old;
    ctx.notify(STRING, "set", &args[1]);
    Ok(bulk_or_null(old))
}

fn getdel(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let value = ctx.db().get_del(&args[1])?;
    if value.is_some() {
        ctx.notify(GENERIC, "del", &args[1]);
    }
    Ok(bulk_or_null(value))
}

fn getex(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let mut expiry = ExpiryParser::new("getex", Some(ExpiryOption::Persist));
    let mut i = 2;
    while i < args.len() {
        if !expiry.parse(args, &mut i)? {
            return Err(CommandError::Syntax);
        }
        i += 1;
    }
    // PERSIST is an event only when there was a TTL to remove.
    let had_ttl = expiry.expiry == Some(Expiry::Clear)
        && crate::notify::needed(ctx.shared, GENERIC)
        && matches!(
            ctx.db().ttl(&args[1])?,
            basalt_types::keys::Ttl::ExpiresAt(_)
        );
    let value = ctx.db().get_ex(&args[1], expiry.expiry)?;
    if value.is_some() {
        match expiry.expiry {
            Some(Expiry::At(at)) if at <= basalt_engine::version::now_ms() => {
                ctx.notify(GENERIC, "del", &args[1])
            }
            Some(Expiry::At(_)) => ctx.notify(GENERIC, "expire", &args[1]),
            Some(Expiry::Clear) if had_ttl => ctx.notify(GENERIC, "persist", &args[1]),
            _ => {}
        }
    }
    Ok(bulk_or_null(value))
}

fn mget(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let keys: Vec<&[u8]> = args[1..].iter().map(|a| a.as_ref()).collect();
    let values = ctx.db().mget(&keys)?;
    Ok(Reply::Array(values.into_iter().map(bulk_or_null).collect()))
}

type Pairs<'a> = Vec<(&'a [u8], &'a [u8])>;

fn pairs<'a>(args: &'a [Bytes], name: &str) -> Result<Pairs<'a>, CommandError> {
    if args.len().is_multiple_of(2) {
        return Err(CommandError::WrongArity(name.to_string()));
    }
    Ok(args[1..]
        .chunks(2)
        .map(|c| (c[0].as_ref(), c[1].as_ref()))
        .collect())
}

fn mset(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let pairs = pairs(args, "mset")?;
    ctx.db().mset(&pairs, false)?;
    for (key, _) in pairs {
        ctx.notify(STRING, "set", key);
    }
    Ok(Reply::ok())
}

fn msetnx(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let pairs = pairs(args, "msetnx")?;
    let written = ctx.db().mset(&pairs, true)?;
    if written {
        for (key, _) in pairs {
            ctx.notify(STRING, "set", key);
        }
    }
    Ok(Reply::Integer(written as i64))
}

fn append(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let len = ctx.db().append(&args[1], &args[2])?;
    ctx.notify(STRING, "append", &args[1]);
    Ok(Reply::Integer(len as i64))
}

fn strlen(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    Ok(Reply::Integer(ctx.db().strlen(&args[1])? as i64))
}

fn getrange(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let (start, end) = (int(&args[2])?, int(&args[3])?);
    Ok(Reply::Bulk(Bytes::from(
        ctx.db().get_range(&args[1], start, end)?,
    )))
}

fn setrange(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let offset = int(&args[2])?;
    if offset < 0 {
        return Err(CommandError::OffsetOutOfRange);
    }
    let len = ctx.db().set_range(&args[1], offset as u64, &args[3])?;
    // An empty patch changes nothing, so Redis reports nothing.
    if !args[3].is_empty() {
        ctx.notify(STRING, "setrange", &args[1]);
    }
    Ok(Reply::Integer(len as i64))
}

fn incr_reply(ctx: &mut Ctx, key: &[u8], delta: i64) -> CommandResult {
    let value = ctx.db().incr_by(key, delta)?;
    ctx.notify(STRING, "incrby", key);
    Ok(Reply::Integer(value))
}

fn incr(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    incr_reply(ctx, &args[1], 1)
}

fn decr(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    incr_reply(ctx, &args[1], -1)
}

fn incrby(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    incr_reply(ctx, &args[1], int(&args[2])?)
}

fn decrby(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let delta = int(&args[2])?;
    // Redis refuses to negate i64::MIN rather than overflow.
    let delta = delta
        .checked_neg()
        .ok_or_else(|| CommandError::other("ERR decrement would overflow"))?;
    incr_reply(ctx, &args[1], delta)
}

fn incrbyfloat(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let delta = super::float(&args[2])?;
    if !delta.is_finite() {
        return Err(basalt_types::Error::NanOrInfinity.into());
    }
    let value = ctx.db().incr_by_float(&args[1], &args[2])?;
    ctx.notify(STRING, "incrbyfloat", &args[1]);
    Ok(Reply::Bulk(Bytes::from(value)))
}

fn lcs_cmd(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let (mut want_len, mut want_idx, mut with_len, mut min_len) = (false, false, false, 0i64);
    let mut i = 3;
    while i < args.len() {
        let a = &args[i];
        if is(a, "len") {
            want_len = true;
        } else if is(a, "idx") {
            want_idx = true;
        } else if is(a, "withmatchlen") {
            with_len = true;
        } else if is(a, "minmatchlen") && i + 1 < args.len() {
            min_len = int(&args[i + 1])?.max(0);
            i += 1;
        } else {
            return Err(CommandError::Syntax);
        }
        i += 1;
    }
    if want_len && want_idx {
        return Err(CommandError::other(
            "ERR If you want both the length and indexes, please just use IDX.",
        ));
    }
    let a = ctx.db().get(&args[1])?.unwrap_or_default();
    let b = ctx.db().get(&args[2])?.unwrap_or_default();
    if lcs::table_too_large(a.len(), b.len()) {
        return Err(basalt_types::Error::LcsTooLarge.into());
    }
    let result = lcs::lcs(&a, &b);
    if want_len {
        return Ok(Reply::Integer(result.sequence.len() as i64));
    }
    if !want_idx {
        return Ok(Reply::Bulk(Bytes::from(result.sequence)));
    }
    let range = |(s, e): (usize, usize)| {
        Reply::Array(vec![Reply::Integer(s as i64), Reply::Integer(e as i64)])
    };
    let matches = result
        .matches
        .into_iter()
        .filter(|((s, e), _)| (e - s + 1) as i64 >= min_len)
        .map(|(ra, rb)| {
            let mut m = vec![range(ra), range(rb)];
            if with_len {
                m.push(Reply::Integer((ra.1 - ra.0 + 1) as i64));
            }
            Reply::Array(m)
        })
        .collect();
    Ok(Reply::Map(vec![
        (Reply::bulk("matches"), Reply::Array(matches)),
        (
            Reply::bulk("len"),
            Reply::Integer(result.sequence.len() as i64),
        ),
    ]))
}

fn compare_reply(outcome: CompareOutcome) -> Reply {
    Reply::Integer(match outcome {
        CompareOutcome::Done => 1,
        CompareOutcome::Mismatch => 0,
        CompareOutcome::Missing => -1,
    })
}

/// CAS key old new [EX s | PX ms | EXAT s | PXAT ms]
fn cas(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let mut expiry = ExpiryParser::new("cas", None);
    let mut i = 4;
    while i < args.len() {
        if !expiry.parse(args, &mut i)? {
            return Err(CommandError::Syntax);
        }
        i += 1;
    }
    let expire = match expiry.expiry {
        Some(Expiry::At(at)) => at,
        _ => 0,
    };
    let outcome = ctx
        .db()
        .compare_and_set(&args[1], &args[2], &args[3], expire)?;
    if outcome == CompareOutcome::Done {
        notify_set(ctx, &args[1], expiry.expiry.unwrap_or(Expiry::Clear));
    }
    Ok(compare_reply(outcome))
}

fn cad(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let outcome = ctx.db().compare_and_delete(&args[1], &args[2])?;
    if outcome == CompareOutcome::Done {
        ctx.notify(GENERIC, "del", &args[1]);
    }
    Ok(compare_reply(outcome))
}
