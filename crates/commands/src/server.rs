//! Server commands: TIME SHUTDOWN DEBUG SLOWLOG.

use super::client::help_reply;
use super::flags::*;
use super::{float, int, is, lower, text, Command, SubCommand};
use crate::context::{Action, Ctx};
use crate::error::{CommandError, CommandResult};
use basalt_resp::Reply;
use bytes::Bytes;
use std::time::Duration;

const fn server_cmd(
    name: &'static str,
    arity: i32,
    flags: u32,
    handler: super::Handler,
) -> Command {
    Command::new(name, arity, flags, handler).group("server")
}

pub static COMMANDS: &[Command] = &[
    server_cmd("time", 1, LOADING | STALE | FAST, time)
        .since("2.6.0")
        .summary("Returns the server time."),
    server_cmd(
        "shutdown",
        -1,
        ADMIN | NOSCRIPT | LOADING | STALE | NO_MULTI | ALLOW_BUSY,
        shutdown,
    )
    .syntax("[save-selector: NOSAVE | SAVE] [NOW] [FORCE] [ABORT]")
    .summary("Synchronously saves the database(s) to disk and shuts down the Redis server."),
    server_cmd("debug", -2, ADMIN | NOSCRIPT | LOADING | STALE, debug)
        .syntax("subcommand [arg [arg ...]]")
        .summary("A container for debugging commands."),
    server_cmd("save", 1, ADMIN | NOSCRIPT | NO_MULTI, save)
        .since("1.0.0")
        .summary("Synchronously saves the database(s) to disk."),
    server_cmd("bgsave", -1, ADMIN | NOSCRIPT, bgsave)
        .syntax("[SCHEDULE]")
        .since("1.0.0")
        .summary("Asynchronously saves the database(s) to disk."),
    server_cmd("lastsave", 1, LOADING | STALE | FAST, lastsave)
        .acl(&["admin", "dangerous"])
        .since("1.0.0")
        .summary("Returns the Unix timestamp of the last successful save to disk."),
    server_cmd("bgrewriteaof", 1, ADMIN | NOSCRIPT, bgrewriteaof)
        .since("1.0.0")
        .summary("Asynchronously rewrites the append-only file to disk."),
    server_cmd("monitor", 1, ADMIN | NOSCRIPT | LOADING | STALE, monitor)
        .since("1.0.0")
        .summary("Listens for all requests received by the server in real-time."),
    server_cmd("slowlog", -2, ADMIN | LOADING | STALE, slowlog)
        .since("2.2.12")
        .summary("A container for slow log commands.")
        .subcommands(&[
            SubCommand::new(
                "get",
                -2,
                ADMIN | LOADING | STALE,
                "Returns the slow log's entries.",
            )
            .syntax("[count:integer]"),
            SubCommand::new(
                "len",
                2,
                ADMIN | LOADING | STALE,
                "Returns the number of entries in the slow log.",
            ),
            SubCommand::new(
                "reset",
                2,
                ADMIN | LOADING | STALE,
                "Clears all entries from the slow log.",
            ),
            SubCommand::new(
                "help",
                2,
                LOADING | STALE,
                "Show helpful text about the different subcommands.",
            )
            .since("6.2.0"),
        ]),
];

fn time(_ctx: &mut Ctx, _args: &[Bytes]) -> CommandResult {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    Ok(Reply::Array(vec![
        Reply::Bulk(Bytes::from(now.as_secs().to_string())),
        Reply::Bulk(Bytes::from(now.subsec_micros().to_string())),
    ]))
}

/// SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]. There is nothing to save:
/// every acknowledged write is already in RocksDB's WAL.
fn shutdown(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    for a in &args[1..] {
        if is(a, "abort") {
            return Err(CommandError::other("ERR No shutdown in progress."));
        }
        if !(is(a, "nosave") || is(a, "save") || is(a, "now") || is(a, "force")) {
            return Err(CommandError::Syntax);
        }
    }
    ctx.action = Some(Action::Shutdown);
    Ok(Reply::ok())
}

fn backup_error(e: basalt_core::backup::BackupError) -> CommandError {
    CommandError::other(format!("ERR {e}"))
}

/// SAVE: a RocksDB checkpoint in the backup dir, made before replying.
fn save(ctx: &mut Ctx, _args: &[Bytes]) -> CommandResult {
    basalt_core::backup::save(ctx.shared).map_err(backup_error)?;
    Ok(Reply::ok())
}

/// BGSAVE [SCHEDULE]: the same checkpoint, made in the background.
fn bgsave(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let schedule = match args.len() {
        1 => false,
        2 if is(&args[1], "schedule") => true,
        _ => return Err(CommandError::Syntax),
    };
    match basalt_core::backup::bgsave(ctx.shared) {
        Ok(()) => Ok(Reply::simple("Background saving started")),
        // Redis runs a scheduled save after the current one; one that
        // finishes now is as recent as the caller asked for.
        Err(basalt_core::backup::BackupError::InProgress) if schedule => {
            Ok(Reply::simple("Background saving scheduled"))
        }
        Err(e) => Err(backup_error(e)),
    }
}

fn lastsave(ctx: &mut Ctx, _args: &[Bytes]) -> CommandResult {
    Ok(Reply::Integer(ctx.shared.backups.last_save() as i64))
}

/// BGREWRITEAOF: the WAL is Basalt's append-only file; writing the
/// memtables out to SST files is what makes the old WAL unneeded.
fn bgrewriteaof(ctx: &mut Ctx, _args: &[Bytes]) -> CommandResult {
    let storage = ctx.data.storage.clone();
    basalt_core::background::spawn(ctx.shared, "bgrewriteaof", move || {
        if let Err(e) = storage.flush_memtables() {
            tracing::error!("BGREWRITEAOF: memtable flush failed: {e}");
        }
    });
    Ok(Reply::simple(
        "Background append only file rewriting started",
    ))
}

fn monitor(ctx: &mut Ctx, _args: &[Bytes]) -> CommandResult {
    // Inside EXEC a reply per command is owed: no stream can start there.
    if basalt_engine::in_txn() {
        return Err(CommandError::other(
            "ERR MONITOR isn't allowed for DENY BLOCKING client",
        ));
    }
    let handle = &ctx.client.handle;
    ctx.shared.monitors.add(handle);
    handle
        .monitor
        .store(true, std::sync::atomic::Ordering::Relaxed);
    Ok(Reply::ok())
}

fn debug(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let sub = lower(&args[1]);
    match sub.as_str() {
        "sleep" if args.len() == 3 => {
            let secs = float(&args[2])?;
            if !(0.0..=3600.0 * 24.0).contains(&secs) {
                return Err(CommandError::NotFloat);
            }
            // Only this connection waits: a disk store's workers are never
            // frozen (Redis's single thread would block everyone).
            ctx.action = Some(Action::Sleep(Duration::from_secs_f64(secs)));
            Ok(Reply::ok())
        }
        // Basalt's own: proves that a handler's panic costs only its
        // connection (the tests of the request path use it).
        "handler-panic" if args.len() == 2 => panic!("DEBUG HANDLER-PANIC"),
        "help" => Ok(help_reply(&[
            "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "SLEEP <seconds>",
            "    Delay this connection's reply for <seconds> (may be fractional).",
            "HANDLER-PANIC",
            "    Panic inside this command: the connection is dropped, the server goes on.",
            "HELP",
            "    Print this help.",
        ])),
        _ => Err(CommandError::UnknownSubcommand {
            sub: text(&args[1]),
            command: "debug",
        }),
    }
}

fn slowlog(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let sub = lower(&args[1]);
    let log = &ctx.shared.slowlog;
    match sub.as_str() {
        "len" => Ok(Reply::Integer(log.len() as i64)),
        "reset" => {
            log.reset();
            Ok(Reply::ok())
        }
        "get" if args.len() <= 3 => {
            let count = match args.get(2) {
                Some(a) => {
                    let n = int(a)?;
                    if n < -1 {
                        return Err(CommandError::other(
                            "ERR count should be greater than or equal to -1",
                        ));
                    }
                    if n == -1 {
                        usize::MAX
                    } else {
                        n as usize
                    }
                }
                None => 10,
            };
            Ok(log.with_entries(|entries| {
                Reply::Array(
                    entries
                        .iter()
                        .take(count)
                        .map(|e| {
                            Reply::Array(vec![
                                Reply::Integer(e.id as i64),
                                Reply::Integer(e.unix_secs as i64),
                                Reply::Integer(e.usec as i64),
                                Reply::Array(e.args.iter().cloned().map(Reply::Bulk).collect()),
                                Reply::Bulk(Bytes::from(e.addr.to_string())),
                                Reply::Bulk(Bytes::from(e.name.clone())),
                            ])
                        })
                        .collect(),
                )
            }))
        }
        "help" => Ok(help_reply(&[
            "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "GET [<count>]",
            "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
            "LEN",
            "    Return the length of the slowlog.",
            "RESET",
            "    Reset the slowlog.",
            "HELP",
            "    Print this help.",
        ])),
        "get" => Err(CommandError::WrongArity("slowlog|get".into())),
        _ => Err(CommandError::UnknownSubcommand {
            sub: text(&args[1]),
            command: "slowlog",
        }),
    }
}
