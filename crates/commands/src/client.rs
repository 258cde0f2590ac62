//! CLIENT subcommands.

use super::connection::valid_client_name;
use super::flags::*;
use super::{int, is, lower, text, Command, SubCommand};
use crate::blocking::Unblock;
use crate::clients::ClientHandle;
use crate::context::Ctx;
use crate::error::{CommandError, CommandResult};
use basalt_resp::Reply;
use bytes::Bytes;
use std::sync::atomic::Ordering::Relaxed;

pub static COMMANDS: &[Command] = &[
    Command::new("client", -2, NOSCRIPT | LOADING | STALE, client)
        .group("connection")
        .summary("A container for client connection commands.")
        .subcommands(&[
            SubCommand::new(
                "id",
                2,
                NOSCRIPT | LOADING | STALE,
                "Returns the unique client ID of the connection.",
            ),
            SubCommand::new(
                "setname",
                3,
                NOSCRIPT | LOADING | STALE,
                "Sets the connection name.",
            ),
            SubCommand::new(
                "getname",
                2,
                NOSCRIPT | LOADING | STALE,
                "Returns the name of the connection.",
            ),
            SubCommand::new(
                "list",
                -2,
                ADMIN | NOSCRIPT | LOADING | STALE,
                "Lists open connections.",
            ),
            SubCommand::new(
                "info",
                2,
                NOSCRIPT | LOADING | STALE,
                "Returns information about the connection.",
            ),
            SubCommand::new(
                "kill",
                -3,
                ADMIN | NOSCRIPT | LOADING | STALE,
                "Terminates open connections.",
            ),
            SubCommand::new(
                "pause",
                -3,
                ADMIN | NOSCRIPT | LOADING | STALE,
                "Suspends commands processing.",
            ),
            SubCommand::new(
                "unpause",
                2,
                ADMIN | NOSCRIPT | LOADING | STALE,
                "Resumes processing commands from paused clients.",
            ),
            SubCommand::new(
                "reply",
                3,
                NOSCRIPT | LOADING | STALE,
                "Instructs the server whether to reply to commands.",
            ),
            SubCommand::new(
                "unblock",
                -3,
                ADMIN | NOSCRIPT | LOADING | STALE,
                "Unblocks a client blocked by a blocking command from a different connection.",
            ),
            SubCommand::new(
                "setinfo",
                4,
                NOSCRIPT | LOADING | STALE,
                "Sets information specific to the client or connection.",
            ),
            SubCommand::new(
                "help",
                2,
                LOADING | STALE,
                "Returns helpful text about the different subcommands.",
            ),
        ]),
];

const HELP: &[&str] = &[
    "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "ID",
    "    Return the ID of the current connection.",
    "GETNAME",
    "    Return the name of the current connection.",
    "SETNAME <name>",
    "    Assign the name <name> to the current connection.",
    "LIST [TYPE normal] [ID <id> [...]]",
    "    Return information about client connections.",
    "INFO",
    "    Return information about the current client connection.",
    "KILL <ip:port>",
    "    Kill connection made from <ip:port>.",
    "KILL <option> <value> [<option> <value> [...]]",
    "    Kill connections. Options are: ID, ADDR, LADDR, USER, SKIPME (yes|no), TYPE normal.",
    "PAUSE <timeout> [WRITE|ALL]",
    "    Suspend all, or just write, clients for <timeout> milliseconds.",
    "UNPAUSE",
    "    Stop the current client pause, resuming traffic.",
    "REPLY (ON|OFF|SKIP)",
    "    Control the replies sent to the current connection.",
    "UNBLOCK <clientid> [TIMEOUT|ERROR]",
    "    Unblock the specified blocked client.",
    "SETINFO <LIB-NAME|LIB-VER> <value>",
    "    Set client library name or version.",
    "HELP",
    "    Print this help.",
];

pub fn help_reply(lines: &[&'static str]) -> Reply {
    Reply::Array(lines.iter().map(|l| Reply::Simple((*l).into())).collect())
}

fn describe(c: &ClientHandle) -> String {
    let table = crate::table();
    let cmd = match c.last_command.load(Relaxed) {
        0 => "NULL".to_string(),
        n => match table.all().get(n - 1) {
            None => "NULL".to_string(),
            Some(cmd) => match c.last_subcommand.load(Relaxed) {
                0 => cmd.name.to_string(),
                s => format!("{}|{}", cmd.name, cmd.subcommands[s - 1].name),
            },
        },
    };
    let (sub, psub, ssub) = (
        c.sub.load(Relaxed),
        c.psub.load(Relaxed),
        c.ssub.load(Relaxed),
    );
    // Redis's `P` flag: the client has subscriptions.
    let multi = c.multi.load(Relaxed);
    let flags = match (c.is_subscribed(), multi >= 0) {
        (true, _) => "P",
        (false, true) => "x",
        (false, false) => "N",
    };
    let omem = c.omem.load(Relaxed);
    format!(
        "id={} addr={} laddr={} fd=-1 name={} age={} idle={} flags={} db=0 sub={} psub={} ssub={} multi={} qbuf={} qbuf-free=0 argv-mem=0 multi-mem=0 rbs=16384 rbp=0 obl=0 oll=0 omem={} tot-mem={} events=r cmd={} user=default redir=-1 resp={} lib-name={} lib-ver={}",
        c.id,
        c.addr,
        c.laddr,
        c.name.lock().clone().unwrap_or_default(),
        c.created.elapsed().as_secs(),
        c.idle_secs(),
        flags,
        sub,
        psub,
        ssub,
        multi,
        c.query_buffer.load(Relaxed).max(0),
        omem,
        omem,
        cmd,
        c.resp.load(Relaxed),
        c.lib_name.lock().clone().unwrap_or_default(),
        c.lib_ver.lock().clone().unwrap_or_default(),
    )
}

fn client(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let sub = lower(&args[1]);
    let me = ctx.client.handle.id;
    match sub.as_str() {
        "id" => Ok(Reply::Integer(me as i64)),
        "getname" => Ok(match ctx.client.handle.name.lock().clone() {
            Some(n) => Reply::Bulk(Bytes::from(n)),
            None => Reply::Null,
        }),
        "setname" => {
            if !valid_client_name(&args[2]) {
                return Err(CommandError::InvalidClientName);
            }
            let name = text(&args[2]);
            *ctx.client.handle.name.lock() = if name.is_empty() { None } else { Some(name) };
            Ok(Reply::ok())
        }
        "setinfo" => {
            if !valid_client_name(&args[3]) {
                return Err(CommandError::other(format!(
                    "ERR {} cannot contain spaces, newlines or special characters.",
                    text(&args[2])
                )));
            }
            let slot = if is(&args[2], "lib-name") {
                &ctx.client.handle.lib_name
            } else if is(&args[2], "lib-ver") {
                &ctx.client.handle.lib_ver
            } else {
                return Err(CommandError::other(format!(
                    "ERR Unrecognized option '{}'",
                    text(&args[2])
                )));
            };
            *slot.lock() = Some(text(&args[3]));
            Ok(Reply::ok())
        }
        "info" => {
            let line = describe(&ctx.client.handle) + "\n";
            Ok(Reply::Verbatim("txt".into(), Bytes::from(line)))
        }
        "list" => list(ctx, args),
        "kill" => kill(ctx, args),
        "unblock" => {
            let id = int(&args[2])?;
            let how = match args.get(3) {
                None => Unblock::Timeout,
                Some(a) if is(a, "timeout") && args.len() == 4 => Unblock::Timeout,
                Some(a) if is(a, "error") && args.len() == 4 => Unblock::Error,
                Some(_) => {
                    return Err(CommandError::other(
                        "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR",
                    ))
                }
            };
            let done = id > 0 && ctx.shared.blocking.unblock(id as u64, how);
            Ok(Reply::Integer(done as i64))
        }
        "pause" => {
            use basalt_core::pause::PauseMode;
            let mode = match args.get(3) {
                None => PauseMode::All,
                Some(a) if is(a, "write") && args.len() == 4 => PauseMode::Write,
                Some(a) if is(a, "all") && args.len() == 4 => PauseMode::All,
                Some(_) if args.len() > 4 => return Err(CommandError::Syntax),
                Some(_) => {
                    return Err(CommandError::other(
                        "ERR CLIENT PAUSE mode must be WRITE or ALL",
                    ))
                }
            };
            let ms = int(&args[2]).map_err(|_| {
                CommandError::other("ERR timeout is not an integer or out of range")
            })?;
            if ms < 0 {
                return Err(CommandError::other("ERR timeout is negative"));
            }
            // Capped at ten years, which Instant can always represent.
            let ms = (ms as u64).min(10 * 365 * 86_400_000);
            let until = std::time::Instant::now() + std::time::Duration::from_millis(ms);
            ctx.shared.pause.pause(mode, until);
            Ok(Reply::ok())
        }
        "unpause" => {
            ctx.shared.pause.unpause();
            Ok(Reply::ok())
        }
        "reply" => {
            use basalt_core::context::ReplyMode;
            let mode = &mut ctx.client.reply_mode;
            if is(&args[2], "on") {
                *mode = ReplyMode::On;
            } else if is(&args[2], "off") {
                *mode = ReplyMode::Off;
            } else if is(&args[2], "skip") {
                if *mode != ReplyMode::Off {
                    *mode = ReplyMode::SkipNext;
                }
            } else {
                return Err(CommandError::Syntax);
            }
            // Dropped by the connection unless the mode is now On.
            Ok(Reply::ok())
        }
        "help" => Ok(help_reply(HELP)),
        _ => Err(CommandError::UnknownSubcommand {
            sub: text(&args[1]),
            command: "client",
        }),
    }
}

/// Redis's client type: `pubsub` with subscriptions, else `normal` (there
/// are no replicas or masters yet).
fn client_type(c: &ClientHandle) -> &'static str {
    if c.is_subscribed() {
        "pubsub"
    } else {
        "normal"
    }
}

fn list(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let mut ids: Option<Vec<u64>> = None;
    let mut kind: Option<String> = None;
    let mut i = 2;
    while i < args.len() {
        if is(&args[i], "type") && i + 1 < args.len() {
            let t = lower(&args[i + 1]);
            if !matches!(
                t.as_str(),
                "normal" | "master" | "replica" | "pubsub" | "slave"
            ) {
                return Err(CommandError::other(format!(
                    "ERR Unknown client type '{}'",
                    text(&args[i + 1])
                )));
            }
            kind = Some(if t == "slave" { "replica".into() } else { t });
            i += 2;
        } else if is(&args[i], "id") && i + 1 < args.len() {
            let mut list = Vec::new();
            for a in &args[i + 1..] {
                let id = int(a)
                    .ok()
                    .filter(|&v| v > 0)
                    .ok_or_else(|| CommandError::other("ERR Invalid client ID"))?;
                list.push(id as u64);
            }
            ids = Some(list);
            i = args.len();
        } else {
            return Err(CommandError::Syntax);
        }
    }
    let mut out = String::new();
    for c in ctx.shared.clients.snapshot() {
        if ids.as_ref().is_none_or(|ids| ids.contains(&c.id))
            && kind.as_ref().is_none_or(|k| k == client_type(&c))
        {
            out.push_str(&describe(&c));
            out.push('\n');
        }
    }
    Ok(Reply::Verbatim("txt".into(), Bytes::from(out)))
}

fn kill(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let me = ctx.client.handle.id;
    let clients = ctx.shared.clients.snapshot();
    if args.len() == 3 {
        // Old form: CLIENT KILL addr:port.
        let addr = text(&args[2]);
        let target = clients.iter().find(|c| c.addr.to_string() == addr);
        return match target {
            Some(c) => {
                c.kill();
                Ok(Reply::ok())
            }
            None => Err(CommandError::NoSuchClient),
        };
    }
    let (mut id, mut addr, mut laddr, mut skipme) = (None, None, None, true);
    let mut kind: Option<String> = None;
    let mut i = 2;
    while i + 1 < args.len() {
        let value = &args[i + 1];
        if is(&args[i], "id") {
            id =
                Some(
                    int(value).ok().filter(|&v| v > 0).ok_or_else(|| {
                        CommandError::other("ERR client-id should be greater than 0")
                    })? as u64,
                );
        } else if is(&args[i], "addr") {
            addr = Some(text(value));
        } else if is(&args[i], "laddr") {
            laddr = Some(text(value));
        } else if is(&args[i], "skipme") {
            skipme = if is(value, "yes") {
                true
            } else if is(value, "no") {
                false
            } else {
                return Err(CommandError::Syntax);
            };
        } else if is(&args[i], "user") {
            // There are no other users until ACL comes.
            if !is(value, "default") {
                return Err(CommandError::other(format!(
                    "ERR No such user '{}'",
                    text(value)
                )));
            }
        } else if is(&args[i], "type") {
            let t = lower(value);
            if !matches!(
                t.as_str(),
                "normal" | "master" | "replica" | "pubsub" | "slave"
            ) {
                return Err(CommandError::other(format!(
                    "ERR Unknown client type '{}'",
                    text(value)
                )));
            }
            kind = Some(t);
        } else {
            return Err(CommandError::Syntax);
        }
        i += 2;
    }
    if i != args.len() {
        return Err(CommandError::Syntax);
    }
    let mut killed = 0;
    for c in clients {
        if id.is_some_and(|id| c.id != id)
            || addr.as_ref().is_some_and(|a| c.addr.to_string() != *a)
            || laddr.as_ref().is_some_and(|a| c.laddr.to_string() != *a)
            || (skipme && c.id == me)
            || kind.as_ref().is_some_and(|k| k != client_type(&c))
        {
            continue;
        }
        c.kill();
        killed += 1;
    }
    Ok(Reply::Integer(killed))
}
