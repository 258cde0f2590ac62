//! XINFO STREAM [FULL [COUNT n]], GROUPS, CONSUMERS.

use super::super::flags::*;
use super::super::{is, lower, Command, KeyRange, SubCommand};
use super::{bulk, entries_reply, entry_reply, id_reply, int, text};
use crate::context::Ctx;
use crate::error::{CommandError, CommandResult};
use basalt_resp::Reply;
use basalt_types::stream::{GroupInfo, Pending, StreamMeta};
use bytes::Bytes;

pub static COMMANDS: &[Command] = &[Command::new("xinfo", -2, READONLY, xinfo)
    .group("stream")
    .since("5.0.0")
    .summary("A container for stream introspection commands.")
    .subcommands(&[
        SubCommand::new(
            "consumers",
            4,
            READONLY,
            "Returns a list of the consumers in a consumer group.",
        )
        .keys(KeyRange::at(2))
        .syntax("key group"),
        SubCommand::new(
            "groups",
            3,
            READONLY,
            "Returns a list of the consumer groups of a stream.",
        )
        .keys(KeyRange::at(2))
        .syntax("key"),
        SubCommand::new(
            "stream",
            -3,
            READONLY,
            "Returns information about a stream.",
        )
        .keys(KeyRange::at(2))
        .syntax("key [FULL [COUNT count:integer]]"),
        SubCommand::new(
            "help",
            2,
            LOADING | STALE,
            "Returns helpful text about the different subcommands.",
        ),
    ])];

fn sub_syntax(sub: &[u8]) -> CommandError {
    CommandError::SubcommandSyntax {
        sub: String::from_utf8_lossy(sub).into_owned(),
        command: "xinfo",
    }
}

fn no_such_key() -> CommandError {
    basalt_types::Error::NoSuchKey.into()
}

fn opt_int(v: Option<u64>) -> Reply {
    v.map_or(Reply::Null, int)
}

fn group_fields(g: &GroupInfo) -> Vec<(Reply, Reply)> {
    vec![
        (text("name"), bulk(&g.name)),
        (text("consumers"), int(g.consumers)),
        (text("pending"), int(g.pending)),
        (text("last-delivered-id"), id_reply(g.last_delivered)),
        (text("entries-read"), opt_int(g.entries_read)),
        (text("lag"), opt_int(g.lag)),
    ]
}

/// The fields every XINFO STREAM form starts with. Basalt keeps no radix
/// tree: its key and node counts are those Redis would have with full
/// nodes of `stream-node-max-entries`.
fn stream_head(ctx: &Ctx, length: u64, meta: &StreamMeta) -> Vec<(Reply, Reply)> {
    let node = ctx
        .shared
        .config
        .read()
        .get(&[b"stream-node-max-entries"])
        .first()
        .and_then(|(_, v)| v.parse::<u64>().ok())
        .filter(|&n| n > 0)
        .unwrap_or(100);
    let keys = length.div_ceil(node);
    vec![
        (text("length"), int(length)),
        (text("radix-tree-keys"), int(keys)),
        (text("radix-tree-nodes"), int(keys + 1)),
        (text("last-generated-id"), id_reply(meta.last_generated)),
        (text("max-deleted-entry-id"), id_reply(meta.max_deleted)),
        (text("entries-added"), int(meta.entries_added)),
        (
            text("recorded-first-entry-id"),
            id_reply(meta.recorded_first),
        ),
    ]
}

fn pending_list(list: Vec<Pending>, with_consumer: bool) -> Reply {
    Reply::Array(
        list.into_iter()
            .map(|p| {
                let mut row = vec![id_reply(p.id)];
                if with_consumer {
                    row.push(bulk(&p.consumer));
                }
                row.push(int(p.delivery_ms));
                row.push(int(p.deliveries));
                Reply::Array(row)
            })
            .collect(),
    )
}

fn xinfo(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let sub = lower(&args[1]);
    if sub == "help" {
        return Ok(super::super::client::help_reply(&[
            "XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "CONSUMERS <key> <groupname>",
            "    Show consumers of <groupname>.",
            "GROUPS <key>",
            "    Show the stream consumer groups.",
            "STREAM <key> [FULL [COUNT <count>]",
            "    Show information about the stream.",
            "HELP",
            "    Print this help.",
        ]));
    }
    let key = &args[2];
    match sub.as_str() {
        "consumers" => {
            let Some(consumers) = ctx.db().xinfo_consumers(key, &args[3])? else {
                return Err(no_such_key());
            };
            let now = basalt_engine::version::now_ms();
            Ok(Reply::Array(
                consumers
                    .into_iter()
                    .map(|c| {
                        Reply::Map(vec![
                            (text("name"), bulk(&c.name)),
                            (text("pending"), int(c.pending)),
                            (text("idle"), int(now.saturating_sub(c.seen_ms))),
                        ])
                    })
                    .collect(),
            ))
        }
        "groups" => {
            let Some(groups) = ctx.db().xinfo_groups(key)? else {
                return Err(no_such_key());
            };
            Ok(Reply::Array(
                groups.iter().map(|g| Reply::Map(group_fields(g))).collect(),
            ))
        }
        "stream" => xinfo_stream(ctx, args),
        _ => Err(sub_syntax(&args[1])),
    }
}

fn xinfo_stream(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let key = &args[2];
    let opts = &args[3..];
    if opts.is_empty() {
        let Some(info) = ctx.db().xinfo_stream(key)? else {
            return Err(no_such_key());
        };
        let mut fields = stream_head(ctx, info.length, &info.meta);
        fields.push((text("groups"), int(info.groups)));
        fields.push((
            text("first-entry"),
            info.first.map_or(Reply::Null, entry_reply),
        ));
        fields.push((
            text("last-entry"),
            info.last.map_or(Reply::Null, entry_reply),
        ));
        return Ok(Reply::Map(fields));
    }
    if (opts.len() != 1 && opts.len() != 3) || !is(&opts[0], "full") {
        return Err(sub_syntax(&args[1]));
    }
    let mut count = 10u64;
    if opts.len() == 3 {
        if !is(&opts[1], "count") {
            return Err(sub_syntax(&args[1]));
        }
        let n = super::super::int(&opts[2])?;
        count = if n < 0 { 10 } else { n as u64 };
    }
    let Some(full) = ctx.db().xinfo_stream_full(key, count)? else {
        return Err(no_such_key());
    };
    let mut fields = stream_head(ctx, full.length, &full.meta);
    fields.push((text("entries"), entries_reply(full.entries)));
    let groups = full
        .groups
        .into_iter()
        .map(|(g, pel, consumers)| {
            let mut m = vec![
                (text("name"), bulk(&g.name)),
                (text("last-delivered-id"), id_reply(g.last_delivered)),
                (text("entries-read"), opt_int(g.entries_read)),
                (text("lag"), opt_int(g.lag)),
                (text("pel-count"), int(g.pending)),
                (text("pending"), pending_list(pel, true)),
            ];
            let consumers = consumers
                .into_iter()
                .map(|(c, pel)| {
                    Reply::Map(vec![
                        (text("name"), bulk(&c.name)),
                        (text("seen-time"), int(c.seen_ms)),
                        (text("pel-count"), int(c.pending)),
                        (text("pending"), pending_list(pel, false)),
                    ])
                })
                .collect();
            m.push((text("consumers"), Reply::Array(consumers)));
            Reply::Map(m)
        })
        .collect();
    fields.push((text("groups"), Reply::Array(groups)));
    Ok(Reply::Map(fields))
}
