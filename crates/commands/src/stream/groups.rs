//! XGROUP XACK XPENDING XCLAIM XAUTOCLAIM.

use super::super::flags::*;
use super::super::key_flags::*;
use super::super::{is, lower, Command, KeyRange, SubCommand};
use super::{
    any_id, bulk, id_reply, int, int_arg, maybe_entry_reply, range_end, range_start, strict_id,
};
use crate::context::Ctx;
use crate::error::{CommandError, CommandResult};
use crate::notify::STREAM;
use basalt_resp::Reply;
use basalt_types::stream::{ClaimOptions, Claimed, GroupStart, StreamId};
use bytes::Bytes;

pub static COMMANDS: &[Command] = &[
    Command::new("xgroup", -2, WRITE, xgroup).group("stream").since("5.0.0").summary("A container for consumer groups commands.").subcommands(&[
        SubCommand::new("create", -5, WRITE | DENYOOM, "Creates a consumer group.").keys(KeyRange::at(2)).syntax("key group (id-selector: id | $) [MKSTREAM] [ENTRIESREAD entries-read:integer]").key_flags(&[RW | INSERT]),
        SubCommand::new("setid", -5, WRITE, "Sets the last-delivered ID of a consumer group.").keys(KeyRange::at(2)).syntax("key group (id-selector: id | $) [ENTRIESREAD entries-read:integer]").key_flags(&[RW | UPDATE]),
        SubCommand::new("destroy", 4, WRITE, "Destroys a consumer group.").keys(KeyRange::at(2)).syntax("key group").key_flags(&[RW | DELETE]),
        SubCommand::new("createconsumer", 5, WRITE | DENYOOM, "Creates a consumer in a consumer group.").keys(KeyRange::at(2)).syntax("key group consumer").key_flags(&[RW | INSERT]),
        SubCommand::new("delconsumer", 5, WRITE, "Deletes a consumer from a consumer group.").keys(KeyRange::at(2)).syntax("key group consumer").key_flags(&[RW | DELETE]),
        SubCommand::new("help", 2, LOADING | STALE, "Returns helpful text about the different subcommands."),
    ]),
    super::stream_cmd("xack", -4, WRITE | FAST, xack).syntax("key group id [id ...]").key_flags(&[RW | UPDATE]).summary("Returns the number of messages that were successfully acknowledged by the consumer group member of a stream."),
    super::stream_cmd("xpending", -3, READONLY, xpending).syntax("key group [filters: [IDLE min-idle-time:integer] start end count:integer [consumer]]").key_flags(&[RO | ACCESS]).summary("Returns the information and entries from a stream consumer group's pending entries list."),
    super::stream_cmd("xclaim", -6, WRITE | FAST, xclaim).syntax("key group consumer min-idle-time id [id ...] [IDLE ms:integer] [TIME unix-time-milliseconds:unix-time] [RETRYCOUNT count:integer] [FORCE] [JUSTID] [LASTID lastid]").key_flags(&[RW | UPDATE]).summary("Changes, or acquires, ownership of a message in a consumer group, as if the message was delivered a consumer group member."),
    super::stream_cmd("xautoclaim", -6, WRITE | FAST, xautoclaim).syntax("key group consumer min-idle-time start [COUNT count:integer] [JUSTID]").key_flags(&[RW | DELETE]).since("6.2.0").summary("Changes, or acquires, ownership of messages in a consumer group, as if the messages were delivered to as consumer group member."),
];

fn sub_syntax(sub: &[u8]) -> CommandError {
    CommandError::SubcommandSyntax {
        sub: String::from_utf8_lossy(sub).into_owned(),
        command: "xgroup",
    }
}

/// `$` or an id, for CREATE (strict) and SETID (`-`/`+` allowed).
fn group_start(arg: &[u8], strict: bool) -> Result<GroupStart, CommandError> {
    if arg == b"$" {
        return Ok(GroupStart::Last);
    }
    Ok(GroupStart::Id(if strict {
        strict_id(arg, 0)?
    } else {
        any_id(arg, 0)?
    }))
}

fn xgroup(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let sub = lower(&args[1]);
    if sub == "help" {
        return Ok(super::super::client::help_reply(&[
            "XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "CREATE <key> <groupname> <id|$> [option]",
            "    Create a new consumer group. Options are:",
            "    * MKSTREAM",
            "      Create the empty stream if it does not exist.",
            "    * ENTRIESREAD entries_read",
            "      Set the group's entries_read counter (internal use).",
            "CREATECONSUMER <key> <groupname> <consumer>",
            "    Create a new consumer in the specified group.",
            "DELCONSUMER <key> <groupname> <consumer>",
            "    Remove the specified consumer.",
            "DESTROY <key> <groupname>",
            "    Remove the specified group.",
            "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
            "    Set the current group ID and entries_read counter.",
            "HELP",
            "    Print this help.",
        ]));
    }
    let (key, group) = (&args[2], &args[3]);
    let mut mkstream = false;
    let mut entries_read = None;
    let mut i = 5;
    while i < args.len() {
        if sub == "create" && is(&args[i], "mkstream") {
            mkstream = true;
            i += 1;
        } else if (sub == "create" || sub == "setid")
            && is(&args[i], "entriesread")
            && i + 1 < args.len()
        {
            let n = super::super::int(&args[i + 1])?;
            if n < 0 && n != -1 {
                return Err(CommandError::other(
                    "ERR value for ENTRIESREAD must be positive or -1",
                ));
            }
            entries_read = Some(n);
            i += 2;
        } else {
            return Err(sub_syntax(&args[1]));
        }
    }
    let db = ctx.db();
    match sub.as_str() {
        "create" if args.len() <= 8 => {
            let start = group_start(&args[4], true)?;
            db.xgroup_create(key, group, start, mkstream, entries_read)?;
            ctx.notify(STREAM, "xgroup-create", key);
            Ok(Reply::ok())
        }
        "setid" if args.len() == 5 || args.len() == 7 => {
            let start = group_start(&args[4], false)?;
            db.xgroup_setid(key, group, start, entries_read)?;
            ctx.notify(STREAM, "xgroup-setid", key);
            Ok(Reply::ok())
        }
        "destroy" => {
            let destroyed = db.xgroup_destroy(key, group)?;
            if destroyed {
                ctx.notify(STREAM, "xgroup-destroy", key);
            }
            Ok(Reply::Integer(destroyed as i64))
        }
        "createconsumer" => {
            let created = db.xgroup_createconsumer(key, group, &args[4])?;
            if created {
                ctx.notify(STREAM, "xgroup-createconsumer", key);
            }
            Ok(Reply::Integer(created as i64))
        }
        "delconsumer" => {
            let pending = db.xgroup_delconsumer(key, group, &args[4])?;
            if pending.is_some() {
                ctx.notify(STREAM, "xgroup-delconsumer", key);
            }
            Ok(int(pending.unwrap_or(0)))
        }
        _ => Err(sub_syntax(&args[1])),
    }
}

fn xack(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let (key, group) = (&args[1], &args[2]);
    if ctx.db().stream_has_group(key, group)? != Some(true) {
        return Ok(Reply::Integer(0));
    }
    let ids = args[3..]
        .iter()
        .map(|a| strict_id(a, 0))
        .collect::<Result<Vec<StreamId>, _>>()?;
    Ok(int(ctx.db().xack(key, group, &ids)?))
}

// XPENDING key group [[IDLE min-idle-time] start end count [consumer]]

fn xpending(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let argc = args.len();
    if argc != 3 && !(6..=9).contains(&argc) {
        return Err(CommandError::Syntax);
    }
    let (key, group) = (&args[1], &args[2]);
    if argc == 3 {
        let summary = ctx.db().xpending_summary(key, group)?;
        let Some((first, last)) = summary.range else {
            return Ok(Reply::Array(vec![
                Reply::Integer(0),
                Reply::Null,
                Reply::Null,
                Reply::NullArray,
            ]));
        };
        let consumers = summary
            .consumers
            .into_iter()
            .map(|(name, n)| {
                Reply::Array(vec![bulk(&name), Reply::Bulk(Bytes::from(n.to_string()))])
            })
            .collect();
        return Ok(Reply::Array(vec![
            int(summary.count),
            id_reply(first),
            id_reply(last),
            Reply::Array(consumers),
        ]));
    }
    let mut at = 3;
    let mut min_idle = 0i64;
    if is(&args[3], "idle") {
        min_idle = super::super::int(&args[4])?;
        if argc < 8 {
            return Err(CommandError::Syntax);
        }
        at += 2;
    }
    let count = super::super::int(&args[at + 2])?.max(0) as u64;
    let start = range_start(&args[at])?;
    let end = range_end(&args[at + 1])?;
    let consumer = args.get(at + 3).map(|c| c.as_ref());
    let pending = ctx.db().xpending(
        key,
        group,
        min_idle.max(0) as u64,
        start,
        end,
        count,
        consumer,
    )?;
    let now = basalt_engine::version::now_ms();
    Ok(Reply::Array(
        pending
            .into_iter()
            .map(|p| {
                Reply::Array(vec![
                    id_reply(p.id),
                    bulk(&p.consumer),
                    int(now.saturating_sub(p.delivery_ms)),
                    int(p.deliveries),
                ])
            })
            .collect(),
    ))
}

fn claimed_reply(claimed: Claimed) -> Reply {
    Reply::Array(
        claimed
            .entries
            .into_iter()
            .map(|(id, fields)| match fields {
                Some(f) => maybe_entry_reply(id, Some(f)),
                None => id_reply(id),
            })
            .collect(),
    )
}

// XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms]
//     [TIME unix-time-milliseconds] [RETRYCOUNT count] [FORCE] [JUSTID]
//     [LASTID lastid]

fn xclaim(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let (key, group, consumer) = (&args[1], &args[2], &args[3]);
    if ctx.db().stream_has_group(key, group)? != Some(true) {
        return Err(
            basalt_types::Error::Stream(basalt_types::stream::StreamError::NoKeyOrGroup {
                key: key.to_vec(),
                group: group.to_vec(),
            })
            .into(),
        );
    }
    let min_idle = int_arg(&args[4], "ERR Invalid min-idle-time argument for XCLAIM")?;
    let mut j = 5;
    let mut ids = Vec::new();
    while j < args.len() {
        let arg = &args[j];
        if arg.as_ref() == b"-" || arg.as_ref() == b"+" {
            break;
        }
        match StreamId::parse(arg, 0) {
            Some(id) => ids.push(id),
            None => break,
        }
        j += 1;
    }
    let now = basalt_engine::version::now_ms() as i64;
    let mut opts = ClaimOptions {
        min_idle_ms: min_idle.max(0) as u64,
        ..Default::default()
    };
    while j < args.len() {
        let more = args.len() - 1 - j;
        let opt = &args[j];
        if is(opt, "force") {
            opts.force = true;
        } else if is(opt, "justid") {
            opts.justid = true;
        } else if is(opt, "idle") && more > 0 {
            j += 1;
            let idle = int_arg(&args[j], "ERR Invalid IDLE option argument for XCLAIM")?;
            opts.delivery_ms = Some(now.saturating_sub(idle));
        } else if is(opt, "time") && more > 0 {
            j += 1;
            opts.delivery_ms = Some(int_arg(
                &args[j],
                "ERR Invalid TIME option argument for XCLAIM",
            )?);
        } else if is(opt, "retrycount") && more > 0 {
            j += 1;
            let n = int_arg(
                &args[j],
                "ERR Invalid RETRYCOUNT option argument for XCLAIM",
            )?;
            opts.retry_count = (n >= 0).then_some(n as u64);
        } else if is(opt, "lastid") && more > 0 {
            j += 1;
            opts.last_id = Some(strict_id(&args[j], 0)?);
        } else {
            return Err(CommandError::other(format!(
                "ERR Unrecognized XCLAIM option '{}'",
                String::from_utf8_lossy(opt)
            )));
        }
        j += 1;
    }
    let claimed = ctx.db().xclaim(key, group, consumer, &ids, &opts)?;
    if claimed.created_consumer {
        ctx.notify(STREAM, "xgroup-createconsumer", key);
    }
    Ok(claimed_reply(claimed))
}

// XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID]

fn xautoclaim(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let (key, group, consumer) = (&args[1], &args[2], &args[3]);
    let min_idle = int_arg(
        &args[4],
        "ERR Invalid min-idle-time argument for XAUTOCLAIM",
    )?;
    let start = range_start(&args[5])?;
    let mut count = 100u64;
    let mut justid = false;
    let mut j = 6;
    // Redis caps COUNT so that COUNT * 10 attempts and the reply's
    // allocation cannot overflow.
    let max_count = i64::MAX / 16;
    while j < args.len() {
        let more = args.len() - 1 - j;
        if is(&args[j], "count") && more > 0 {
            let n = basalt_types::number::parse_i64(&args[j + 1])
                .filter(|n| (1..=max_count).contains(n))
                .ok_or_else(|| CommandError::other("ERR COUNT must be > 0"))?;
            count = n as u64;
            j += 2;
        } else if is(&args[j], "justid") {
            justid = true;
            j += 1;
        } else {
            return Err(CommandError::Syntax);
        }
    }
    let out = ctx.db().xautoclaim(
        key,
        group,
        consumer,
        min_idle.max(0) as u64,
        start,
        count,
        justid,
    )?;
    if out.claimed.created_consumer {
        ctx.notify(STREAM, "xgroup-createconsumer", key);
    }
    Ok(Reply::Array(vec![
        id_reply(out.next),
        claimed_reply(out.claimed),
        Reply::Array(out.deleted.into_iter().map(id_reply).collect()),
    ]))
}
