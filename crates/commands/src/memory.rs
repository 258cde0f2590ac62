//! MEMORY: what memory means for a disk store. A key's data lives in
//! RocksDB, so MEMORY USAGE reports the bytes of its records (what it
//! occupies on disk before compression, and in the block cache when
//! cached), and MEMORY STATS the process and RocksDB's caches.

use super::client::help_reply;
use super::flags::*;
use super::{int, is, lower, text, Command, KeyRange, SubCommand};
use crate::context::Ctx;
use crate::error::{CommandError, CommandResult};
use basalt_resp::Reply;
use bytes::Bytes;

pub static COMMANDS: &[Command] = &[Command::new("memory", -2, 0, memory)
    .group("server")
    .since("4.0.0")
    .summary("A container for memory diagnostics commands.")
    .subcommands(&[
        SubCommand::new(
            "usage",
            -3,
            READONLY,
            "Estimates the memory usage of a key.",
        )
        .syntax("key [SAMPLES count:integer]")
        .keys(KeyRange::at(2))
        .key_flags(&[super::key_flags::RO]),
        SubCommand::new("stats", 2, 0, "Returns details about memory usage."),
        SubCommand::new("doctor", 2, 0, "Outputs a memory problems report."),
        SubCommand::new("malloc-stats", 2, 0, "Returns the allocator statistics."),
        SubCommand::new("purge", 2, 0, "Asks the allocator to release memory."),
        SubCommand::new(
            "help",
            2,
            LOADING | STALE,
            "Returns helpful text about the different subcommands.",
        ),
    ])];

/// Redis's default number of elements sampled per collection.
const DEFAULT_SAMPLES: u64 = 5;

fn memory(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    match lower(&args[1]).as_str() {
        "usage" => usage(ctx, args),
        "stats" => Ok(stats(ctx)),
        // Nothing to diagnose: the dataset is on disk and the caches are
        // bounded by configuration.
        "doctor" => Ok(Reply::Bulk(Bytes::from_static(
            b"Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.",
        ))),
        "malloc-stats" => Ok(Reply::Bulk(Bytes::from_static(
            b"Stats not supported for the current allocator",
        ))),
        "purge" => Ok(Reply::ok()),
        "help" => Ok(help_reply(&[
            "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "DOCTOR",
            "    Return memory problems reports.",
            "MALLOC-STATS",
            "    Return internal statistics report from the memory allocator.",
            "PURGE",
            "    Attempt to purge dirty pages for reclamation by the allocator.",
            "STATS",
            "    Return information about the memory usage of the server.",
            "USAGE <key> [SAMPLES <count>]",
            "    Return memory in bytes used by <key> and its value. Nested values are",
            "    sampled up to <count> times (default: 5, 0 means sample all).",
            "HELP",
            "    Print this help.",
        ])),
        _ => Err(CommandError::UnknownSubcommand {
            sub: text(&args[1]),
            command: "memory",
        }),
    }
}

fn usage(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let mut samples = DEFAULT_SAMPLES;
    let mut i = 3;
    while i < args.len() {
        if is(&args[i], "samples") && i + 1 < args.len() {
            let n = int(&args[i + 1])?;
            if n < 0 {
                return Err(CommandError::Syntax);
            }
            samples = n as u64;
            i += 2;
        } else {
            return Err(CommandError::Syntax);
        }
    }
    Ok(match ctx.db().memory_usage(&args[2], samples)? {
        Some(bytes) => Reply::Integer(bytes as i64),
        None => Reply::Null,
    })
}

fn stats(ctx: &mut Ctx) -> Reply {
    let rss = super::info::rss_bytes();
    let (cache, memtables) = super::info::cache_and_memtables(&ctx.shared.data().storage);
    let field = |name: &'static str, v: u64| {
        (
            Reply::Bulk(Bytes::from_static(name.as_bytes())),
            Reply::Integer(v as i64),
        )
    };
    Reply::Map(vec![
        field("peak.allocated", rss),
        field("total.allocated", rss),
        field("clients.normal", ctx.shared.clients.count() as u64),
        field("lua.caches", ctx.shared.scripting.script_count() as u64),
        // Basalt's own: the caches that bound its memory.
        field("rocksdb.block-cache-usage", cache),
        field("rocksdb.memtables", memtables),
    ])
}
