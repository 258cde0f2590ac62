//! Generic key commands: they work on every type.

use super::client::help_reply;
use super::flags::*;
use super::key_flags::*;
use super::{int, is, lower, text, Command, SubCommand};
use crate::context::Ctx;
use crate::error::{CommandError, CommandResult};
use crate::notify::GENERIC;
use basalt_engine::version::now_ms;
use basalt_engine::RedisType;
use basalt_resp::Reply;
use basalt_types::keys::{ExpireCondition, Ttl};
use bytes::Bytes;

const fn key_cmd(name: &'static str, arity: i32, flags: u32, handler: super::Handler) -> Command {
    Command::new(name, arity, flags, handler).group("generic")
}

pub static COMMANDS: &[Command] = &[
    key_cmd("del", -2, WRITE, del).syntax("key [key ...]").keys(1, -1, 1).key_flags(&[RM | DELETE]).summary("Deletes one or more keys."),
    key_cmd("unlink", -2, WRITE | FAST, del).syntax("key [key ...]").keys(1, -1, 1).key_flags(&[RM | DELETE]).since("4.0.0").summary("Asynchronously deletes one or more keys."),
    key_cmd("exists", -2, READONLY | FAST, exists).syntax("key [key ...]").keys(1, -1, 1).key_flags(&[RO]).summary("Determines whether one or more keys exist."),
    key_cmd("touch", -2, READONLY | FAST, exists).syntax("key [key ...]").keys(1, -1, 1).key_flags(&[RO]).since("3.2.1").summary("Returns the number of existing keys out of those specified after updating the time they were last accessed."),
    key_cmd("type", 2, READONLY | FAST, type_cmd).syntax("key").keys(1, 1, 1).key_flags(&[RO]).summary("Determines the type of value stored at a key."),
    key_cmd("rename", 3, WRITE, rename).syntax("key newkey:key").keys(1, 2, 1).key_flags(&[RW | ACCESS | DELETE, OW | UPDATE]).summary("Renames a key and overwrites the destination."),
    key_cmd("renamenx", 3, WRITE | FAST, renamenx).syntax("key newkey:key").keys(1, 2, 1).key_flags(&[RW | ACCESS | DELETE, OW | INSERT]).summary("Renames a key only when the target key name doesn't exist."),
    key_cmd("copy", -3, WRITE | DENYOOM | SCANS, copy).syntax("source:key destination:key [DB destination-db:integer] [REPLACE]").keys(1, 2, 1).key_flags(&[RO | ACCESS, OW | UPDATE]).since("6.2.0").summary("Copies the value of a key to a new key."),
    key_cmd("expire", -3, WRITE | FAST, expire).syntax("key seconds:integer [condition: NX | XX | GT | LT]").keys(1, 1, 1).key_flags(&[RW | UPDATE]).summary("Sets the expiration time of a key in seconds."),
    key_cmd("pexpire", -3, WRITE | FAST, pexpire).syntax("key milliseconds:integer [condition: NX | XX | GT | LT]").keys(1, 1, 1).key_flags(&[RW | UPDATE]).since("2.6.0").summary("Sets the expiration time of a key in milliseconds."),
    key_cmd("expireat", -3, WRITE | FAST, expireat).syntax("key unix-time-seconds:unix-time [condition: NX | XX | GT | LT]").keys(1, 1, 1).key_flags(&[RW | UPDATE]).since("1.2.0").summary("Sets the expiration time of a key to a Unix timestamp."),
    key_cmd("pexpireat", -3, WRITE | FAST, pexpireat).syntax("key unix-time-milliseconds:unix-time [condition: NX | XX | GT | LT]").keys(1, 1, 1).key_flags(&[RW | UPDATE]).since("2.6.0").summary("Sets the expiration time of a key to a Unix milliseconds timestamp."),
    key_cmd("ttl", 2, READONLY | FAST, ttl).syntax("key").keys(1, 1, 1).summary("Returns the expiration time in seconds of a key."),
    key_cmd("pttl", 2, READONLY | FAST, pttl).syntax("key").keys(1, 1, 1).since("2.6.0").summary("Returns the expiration time in milliseconds of a key."),
    key_cmd("expiretime", 2, READONLY | FAST, expiretime).syntax("key").keys(1, 1, 1).since("7.0.0").summary("Returns the expiration time of a key as a Unix timestamp."),
    key_cmd("pexpiretime", 2, READONLY | FAST, pexpiretime).syntax("key").keys(1, 1, 1).since("7.0.0").summary("Returns the expiration time of a key as a Unix milliseconds timestamp."),
    key_cmd("persist", 2, WRITE | FAST, persist).syntax("key").keys(1, 1, 1).key_flags(&[RW | UPDATE]).since("2.2.0").summary("Removes the expiration time of a key."),
    key_cmd("keys", 2, READONLY | WHOLE_KEYSPACE, keys).syntax("pattern:pattern").acl(&["dangerous"]).summary("Returns all key names that match a pattern."),
    key_cmd("scan", -2, READONLY, scan).syntax("cursor:integer [MATCH pattern:pattern] [COUNT count:integer] [TYPE type]").since("2.8.0").summary("Iterates over the key names in the database."),
    key_cmd("randomkey", 1, READONLY, randomkey).summary("Returns a random key name from the database."),
    key_cmd("dbsize", 1, READONLY | FAST | WHOLE_KEYSPACE, dbsize).group("server").summary("Returns the number of keys in the database."),
    key_cmd("flushdb", -1, WRITE | WHOLE_KEYSPACE | ALL_KEYS, flush).syntax("[flush-type: ASYNC | SYNC]").acl(&["keyspace", "dangerous"]).group("server").summary("Removes all keys from the current database."),
    key_cmd("flushall", -1, WRITE | WHOLE_KEYSPACE | ALL_KEYS, flush).syntax("[flush-type: ASYNC | SYNC]").acl(&["keyspace", "dangerous"]).group("server").summary("Removes all keys from all databases."),
    key_cmd("object", -2, READONLY | NO_KEYMISS, object).since("2.2.3").summary("A container for object introspection commands.").subcommands(&[
        SubCommand::new("encoding", 3, READONLY, "Returns the internal encoding of a Redis object.").syntax("key").keys(super::KeyRange::at(2)).key_flags(&[super::key_flags::RO]),
        SubCommand::new("freq", 3, READONLY, "Returns the logarithmic access frequency counter of a Redis object.").since("4.0.0").syntax("key").keys(super::KeyRange::at(2)).key_flags(&[super::key_flags::RO]),
        SubCommand::new("idletime", 3, READONLY, "Returns the time since the last access to a Redis object.").syntax("key").keys(super::KeyRange::at(2)).key_flags(&[super::key_flags::RO]),
        SubCommand::new("refcount", 3, READONLY, "Returns the reference count of a value of a key.").syntax("key").keys(super::KeyRange::at(2)).key_flags(&[super::key_flags::RO]),
        SubCommand::new("help", 2, LOADING | STALE, "Returns helpful text about the different subcommands.").since("6.2.0"),
    ]),
];

fn key_list(args: &[Bytes]) -> Vec<&[u8]> {
    args[1..].iter().map(|a| a.as_ref()).collect()
}

fn del(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let deleted = ctx.db().del_keys(&key_list(args))?;
    for key in &deleted {
        ctx.notify(GENERIC, "del", key);
    }
    Ok(Reply::Integer(deleted.len() as i64))
}

fn exists(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    Ok(Reply::Integer(ctx.db().exists(&key_list(args))? as i64))
}

fn type_cmd(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    Ok(Reply::Simple(ctx.db().kind_of(&args[1])?.name().into()))
}

fn rename(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    ctx.db().rename(&args[1], &args[2], false)?;
    notify_rename(ctx, args);
    Ok(Reply::ok())
}

fn renamenx(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let renamed = ctx.db().rename(&args[1], &args[2], true)?;
    if renamed {
        notify_rename(ctx, args);
    }
    Ok(Reply::Integer(renamed as i64))
}

/// Renaming a key onto itself changes nothing; Redis reports nothing.
fn notify_rename(ctx: &Ctx, args: &[Bytes]) {
    if args[1] != args[2] {
        ctx.notify(GENERIC, "rename_from", &args[1]);
        ctx.notify(GENERIC, "rename_to", &args[2]);
    }
}

fn copy(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let mut replace = false;
    let mut i = 3;
    while i < args.len() {
        if is(&args[i], "replace") {
            replace = true;
        } else if is(&args[i], "db") && i + 1 < args.len() {
            if int(&args[i + 1])? != 0 {
                return Err(CommandError::DbIndexOutOfRange);
            }
            i += 1;
        } else {
            return Err(CommandError::Syntax);
        }
        i += 1;
    }
    if args[1] == args[2] {
        return Err(CommandError::other(
            "ERR source and destination objects are the same",
        ));
    }
    let copied = ctx.db().copy(&args[1], &args[2], replace)?;
    if copied {
        ctx.notify(GENERIC, "copy_to", &args[2]);
    }
    Ok(Reply::Integer(copied as i64))
}

fn expire_generic(
    ctx: &mut Ctx,
    args: &[Bytes],
    unit_ms: i64,
    relative: bool,
    cmd: &'static str,
) -> CommandResult {
    let value = int(&args[2])?;
    let (mut nx, mut xx, mut gt, mut lt) = (false, false, false, false);
    for a in &args[3..] {
        if is(a, "nx") {
            nx = true;
        } else if is(a, "xx") {
            xx = true;
        } else if is(a, "gt") {
            gt = true;
        } else if is(a, "lt") {
            lt = true;
        } else {
            return Err(CommandError::other(format!(
                "ERR Unsupported option {}",
                text(a)
            )));
        }
    }
    if nx && (xx || gt || lt) {
        return Err(CommandError::other(
            "ERR NX and XX, GT or LT options at the same time are not compatible",
        ));
    }
    if gt && lt {
        return Err(CommandError::other(
            "ERR GT and LT options at the same time are not compatible",
        ));
    }
    let cond = if nx {
        ExpireCondition::NoTtl
    } else if gt {
        ExpireCondition::Greater
    } else if lt {
        ExpireCondition::Less
    } else if xx {
        ExpireCondition::HasTtl
    } else {
        ExpireCondition::Always
    };
    let at = basalt_types::expire::absolute_ms(value, unit_ms, relative)
        .ok_or(CommandError::InvalidExpire(cmd))?;
    // XX combined with GT/LT needs a TTL as well.
    if xx && (gt || lt) && ctx.db().ttl(&args[1])? == Ttl::Persistent {
        return Ok(Reply::Integer(0));
    }
    let set = ctx.db().expire_at(&args[1], at, cond)?;
    if set {
        // A time in the past deletes the key (see `expire_at`).
        let event = if at <= now_ms() as i64 {
            "del"
        } else {
            "expire"
        };
        ctx.notify(GENERIC, event, &args[1]);
    }
    Ok(Reply::Integer(set as i64))
}

fn expire(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    expire_generic(ctx, args, 1000, true, "expire")
}

fn pexpire(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    expire_generic(ctx, args, 1, true, "pexpire")
}

fn expireat(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    expire_generic(ctx, args, 1000, false, "expireat")
}

fn pexpireat(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    expire_generic(ctx, args, 1, false, "pexpireat")
}

/// TTL family: `relative` = remaining time instead of the absolute time;
/// `ms` = milliseconds instead of seconds.
fn ttl_generic(ctx: &mut Ctx, key: &[u8], relative: bool, ms: bool) -> CommandResult {
    Ok(Reply::Integer(match ctx.db().ttl(key)? {
        Ttl::Missing => -2,
        Ttl::Persistent => -1,
        Ttl::ExpiresAt(at) if relative => {
            let left = at.saturating_sub(now_ms()) as i64;
            if ms {
                left
            } else {
                (left + 500) / 1000
            }
        }
        Ttl::ExpiresAt(at) => {
            if ms {
                at as i64
            } else {
                (at as i64 + 500) / 1000
            }
        }
    }))
}

fn ttl(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    ttl_generic(ctx, &args[1], true, false)
}

fn pttl(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    ttl_generic(ctx, &args[1], true, true)
}

fn expiretime(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    ttl_generic(ctx, &args[1], false, false)
}

fn pexpiretime(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    ttl_generic(ctx, &args[1], false, true)
}

fn persist(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let removed = ctx.db().persist(&args[1])?;
    if removed {
        ctx.notify(GENERIC, "persist", &args[1]);
    }
    Ok(Reply::Integer(removed as i64))
}

fn key_array(keys: Vec<Vec<u8>>) -> Reply {
    Reply::Array(
        keys.into_iter()
            .map(|k| Reply::Bulk(Bytes::from(k)))
            .collect(),
    )
}

fn keys(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    Ok(key_array(ctx.db().keys(&args[1])?))
}

fn scan(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let a = super::scan_args(args, 1, super::ScanExtra::Type)?;
    let page = ctx
        .db()
        .scan(a.cursor, a.pattern, a.count, a.kind.as_deref())?;
    Ok(Reply::Array(vec![
        Reply::Bulk(Bytes::from(page.cursor.to_string())),
        key_array(page.keys),
    ]))
}

fn randomkey(ctx: &mut Ctx, _args: &[Bytes]) -> CommandResult {
    Ok(match ctx.db().random_key()? {
        Some(k) => Reply::Bulk(Bytes::from(k)),
        None => Reply::Null,
    })
}

fn dbsize(ctx: &mut Ctx, _args: &[Bytes]) -> CommandResult {
    Ok(Reply::Integer(ctx.db().dbsize()? as i64))
}

fn flush(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    match args.get(1) {
        None => {}
        Some(a) if args.len() == 2 && (is(a, "async") || is(a, "sync")) => {}
        Some(_) => return Err(CommandError::Syntax),
    }
    ctx.db().flush()?;
    Ok(Reply::ok())
}

/// The encoding name Redis would report for a value of this shape. Basalt
/// stores every type in RocksDB, so there is no real in-memory encoding;
/// answering with Redis's names for the general-purpose encodings keeps
/// tools that branch on them working (see docs/compatibility.md).
fn encoding_name(kind: RedisType, value: &[u8]) -> &'static str {
    match kind {
        RedisType::String if basalt_types::number::parse_i64(value).is_some() => "int",
        RedisType::String if value.len() <= 44 => "embstr",
        RedisType::String => "raw",
        RedisType::Hash | RedisType::Set => "hashtable",
        RedisType::List => "quicklist",
        RedisType::ZSet => "skiplist",
        RedisType::Stream => "stream",
        _ => "raw",
    }
}

fn object(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let sub = lower(&args[1]);
    if sub == "help" {
        return Ok(help_reply(&[
            "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "ENCODING <key>",
            "    Return the kind of internal representation used in order to store the value",
            "    associated with a <key>.",
            "FREQ <key>",
            "    Return the access frequency index of the <key>. The returned integer is",
            "    proportional to the logarithm of the recent access frequency of the key.",
            "IDLETIME <key>",
            "    Return the idle time of the <key>, that is the approximated number of",
            "    seconds elapsed since the last access to the key.",
            "REFCOUNT <key>",
            "    Return the number of references of the value associated with the specified",
            "    <key>.",
            "HELP",
            "    Print this help.",
        ]));
    }
    let Some(record) = ctx.db().read(&args[2])? else {
        return Ok(Reply::Null);
    };
    Ok(match sub.as_str() {
        "encoding" => Reply::Bulk(Bytes::from_static(
            encoding_name(record.metadata.kind, &record.rest).as_bytes(),
        )),
        // Access times and frequencies are not tracked: there is no
        // eviction to feed, and recording every read would add a write.
        "freq" => {
            return Err(CommandError::other(
                "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.",
            ))
        }
        "idletime" => Reply::Integer(0),
        "refcount" => Reply::Integer(1),
        _ => return Err(CommandError::UnknownSubcommand { sub: text(&args[1]), command: "object" }),
    })
}
