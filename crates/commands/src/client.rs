//! CLIENT subcommands.

use super::connection::valid_client_name;
use super::flags::*;
use super::{int, is, lower, text, Command, SubCommand};
use crate::blocking::Unblock;
use crate::clients::ClientHandle;
use crate::context::Ctx;
use crate::error::{CommandError, CommandResult};
use crate::tracking::{TrackingError, TrackingOptions};
use basalt_resp::Reply;
use bytes::Bytes;
use std::sync::atomic::Ordering::Relaxed;

pub static COMMANDS: &[Command] = &[Command::new(
    "client",
    -2,
    NOSCRIPT | LOADING | STALE | TRACKING_CONTROL,
    client,
)
.group("connection")
.since("2.4.0")
.summary("A container for client connection commands.")
.subcommands(&[
    SubCommand::new(
        "id",
        2,
        NOSCRIPT | LOADING | STALE,
        "Returns the unique client ID of the connection.",
    ).since("5.0.0"),
    SubCommand::new(
        "setname",
        3,
        NOSCRIPT | LOADING | STALE,
        "Sets the connection name.",
    ).since("2.6.9").syntax("connection-name"),
    SubCommand::new(
        "getname",
        2,
        NOSCRIPT | LOADING | STALE,
        "Returns the name of the connection.",
    ).since("2.6.9"),
    SubCommand::new(
        "list",
        -2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        "Lists open connections.",
    ).since("2.4.0").syntax("[TYPE (client-type: NORMAL | MASTER | REPLICA | PUBSUB)] [ID client-id:integer [client-id:integer ...]]"),
    SubCommand::new(
        "info",
        2,
        NOSCRIPT | LOADING | STALE,
        "Returns information about the connection.",
    ).since("6.2.0"),
    SubCommand::new(
        "kill",
        -3,
        ADMIN | NOSCRIPT | LOADING | STALE,
        "Terminates open connections.",
    ).since("2.4.0").syntax("(filter: (old-format: ip:port) | (new-format: ID client-id:integer | TYPE (client-type: NORMAL | MASTER | SLAVE | REPLICA | PUBSUB) | USER username | ADDR addr | LADDR laddr | SKIPME (skipme: YES | NO) | MAXAGE maxage:integer) ...)"),
    SubCommand::new(
        "pause",
        -3,
        ADMIN | NOSCRIPT | LOADING | STALE,
        "Suspends commands processing.",
    ).since("3.0.0").syntax("timeout:integer [mode: WRITE | ALL]"),
    SubCommand::new(
        "unpause",
        2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        "Resumes processing commands from paused clients.",
    ).since("6.2.0"),
    SubCommand::new(
        "reply",
        3,
        NOSCRIPT | LOADING | STALE,
        "Instructs the server whether to reply to commands.",
    ).since("3.2.0").syntax("(action: ON | OFF | SKIP)"),
    SubCommand::new(
        "unblock",
        -3,
        ADMIN | NOSCRIPT | LOADING | STALE,
        "Unblocks a client blocked by a blocking command from a different connection.",
    ).since("5.0.0").syntax("client-id:integer [unblock-type: TIMEOUT | ERROR]"),
    SubCommand::new(
        "setinfo",
        4,
        NOSCRIPT | LOADING | STALE,
        "Sets information specific to the client or connection.",
    ).since("7.2.0").syntax("(attr: LIB-NAME libname | LIB-VER libver)"),
    SubCommand::new(
        "tracking",
        -3,
        NOSCRIPT | LOADING | STALE,
        "Controls server-assisted client-side caching for the connection.",
    ).since("6.0.0").syntax("(status: ON | OFF) [REDIRECT client-id:integer] [PREFIX prefix [PREFIX prefix ...]] [BCAST] [OPTIN] [OPTOUT] [NOLOOP]"),
    SubCommand::new(
        "caching",
        3,
        NOSCRIPT | LOADING | STALE,
        "Instructs the server whether to track the keys in the next request.",
    ).since("6.0.0").syntax("(mode: YES | NO)"),
    SubCommand::new(
        "getredir",
        2,
        NOSCRIPT | LOADING | STALE,
        "Returns the client ID to which the connection's tracking notifications are redirected.",
    ).since("6.0.0"),
    SubCommand::new(
        "trackinginfo",
        2,
        NOSCRIPT | LOADING | STALE,
        "Returns information about server-assisted client-side caching for the connection.",
    ).since("6.2.0"),
    SubCommand::new(
        "no-evict",
        3,
        ADMIN | NOSCRIPT | LOADING | STALE,
        "Sets the client eviction mode of the connection.",
    ).since("7.0.0").syntax("(enabled: ON | OFF)"),
    SubCommand::new(
        "no-touch",
        3,
        NOSCRIPT | LOADING | STALE,
        "Controls whether commands sent by the client affect the LRU/LFU of accessed keys.",
    ).since("7.2.0").syntax("(enabled: ON | OFF)"),
    SubCommand::new(
        "help",
        2,
        LOADING | STALE,
        "Returns helpful text about the different subcommands.",
    ).since("5.0.0"),
])];

const HELP: &[&str] = &[
    "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CACHING (YES|NO)",
    "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
    "GETREDIR",
    "    Return the client ID we are redirecting to when tracking is enabled.",
    "GETNAME",
    "    Return the name of the current connection.",
    "ID",
    "    Return the ID of the current connection.",
    "INFO",
    "    Return information about the current client connection.",
    "KILL <ip:port>",
    "    Kill connection made from <ip:port>.",
    "KILL <option> <value> [<option> <value> [...]]",
    "    Kill connections. Options are:",
    "    * ADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made from the specified address",
    "    * LADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made to specified local address",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Kill connections by type.",
    "    * USER <username>",
    "      Kill connections authenticated by <username>.",
    "    * SKIPME (YES|NO)",
    "      Skip killing current connection (default: yes).",
    "    * ID <client-id>",
    "      Kill connections by client id.",
    "    * MAXAGE <maxage>",
    "      Kill connections older than the specified age.",
    "LIST [options ...]",
    "    Return information about client connections. Options:",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Return clients of specified type.",
    "UNPAUSE",
    "    Stop the current client pause, resuming traffic.",
    "PAUSE <timeout> [WRITE|ALL]",
    "    Suspend all, or just write, clients for <timeout> milliseconds.",
    "REPLY (ON|OFF|SKIP)",
    "    Control the replies sent to the current connection.",
    "SETNAME <name>",
    "    Assign the name <name> to the current connection.",
    "SETINFO <option> <value>",
    "    Set client meta attr. Options are:",
    "    * LIB-NAME: the client lib name.",
    "    * LIB-VER: the client lib version.",
    "UNBLOCK <clientid> [TIMEOUT|ERROR]",
    "    Unblock the specified blocked client.",
    "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
    "         [OPTIN] [OPTOUT] [NOLOOP]",
    "    Control server assisted client side caching.",
    "TRACKINGINFO",
    "    Report tracking status for the current connection.",
    "NO-EVICT (ON|OFF)",
    "    Protect current client connection from eviction.",
    "NO-TOUCH (ON|OFF)",
    "    Will not touch LRU/LFU stats when this mode is on.",
    "HELP",
    "    Print this help.",
];

pub fn help_reply(lines: &[&'static str]) -> Reply {
    Reply::Array(lines.iter().map(|l| Reply::Simple((*l).into())).collect())
}

/// One CLIENT LIST / CLIENT INFO line.
fn describe(c: &ClientHandle) -> String {
    c.info_line(crate::table())
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
        "tracking" => tracking(ctx, args),
        "caching" => {
            let yes = if is(&args[2], "yes") {
                true
            } else if is(&args[2], "no") {
                false
            } else {
                return Err(CommandError::Syntax);
            };
            ctx.shared.tracking.set_caching(&ctx.client.handle, yes)?;
            Ok(Reply::ok())
        }
        "getredir" => {
            let t = ctx.client.handle.tracking.lock();
            Ok(Reply::Integer(if t.on { t.redirect as i64 } else { -1 }))
        }
        "trackinginfo" => Ok(tracking_info(&ctx.client.handle)),
        "no-evict" => {
            let on = on_off(&args[2])?;
            ctx.client.handle.no_evict.store(on, Relaxed);
            Ok(Reply::ok())
        }
        "no-touch" => {
            let on = on_off(&args[2])?;
            ctx.client.handle.no_touch.store(on, Relaxed);
            Ok(Reply::ok())
        }
        "help" => Ok(help_reply(HELP)),
        _ => Err(CommandError::UnknownSubcommand {
            sub: text(&args[1]),
            command: "client",
        }),
    }
}

fn on_off(arg: &[u8]) -> Result<bool, CommandError> {
    if is(arg, "on") {
        Ok(true)
    } else if is(arg, "off") {
        Ok(false)
    } else {
        Err(CommandError::Syntax)
    }
}

/// CLIENT TRACKING ON|OFF [REDIRECT id] [BCAST] [PREFIX p]... [OPTIN]
/// [OPTOUT] [NOLOOP]: options parsed first, as Redis does, so a bad option
/// is a syntax error whatever ON or OFF says.
fn tracking(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let mut options = TrackingOptions::default();
    let mut j = 3;
    while j < args.len() {
        let more = j + 1 < args.len();
        let a = &args[j];
        if is(a, "redirect") && more {
            j += 1;
            if options.redirect != 0 {
                return Err(TrackingError::RedirectTwice.into());
            }
            let id = int(&args[j])?;
            if id <= 0 || ctx.shared.clients.get(id as u64).is_none() {
                return Err(TrackingError::NoRedirectTarget.into());
            }
            options.redirect = id as u64;
        } else if is(a, "bcast") {
            options.bcast = true;
        } else if is(a, "optin") {
            options.optin = true;
        } else if is(a, "optout") {
            options.optout = true;
        } else if is(a, "noloop") {
            options.noloop = true;
        } else if is(a, "prefix") && more {
            j += 1;
            options.prefixes.push(args[j].clone());
        } else {
            return Err(CommandError::Syntax);
        }
        j += 1;
    }
    let (shared, handle) = (ctx.shared, &ctx.client.handle);
    if is(&args[2], "on") {
        shared.tracking.enable(shared, handle, options)?;
    } else if is(&args[2], "off") {
        shared.tracking.disable(handle);
    } else {
        return Err(CommandError::Syntax);
    }
    Ok(Reply::ok())
}

/// CLIENT TRACKINGINFO: a map of flags (a set), redirect and prefixes.
fn tracking_info(c: &ClientHandle) -> Reply {
    let t = c.tracking.lock();
    let mut flags = vec![if t.on { "on" } else { "off" }];
    if t.bcast {
        flags.push("bcast");
    }
    if t.optin {
        flags.push("optin");
        if t.caching {
            flags.push("caching-yes");
        }
    }
    if t.optout {
        flags.push("optout");
        if t.caching {
            flags.push("caching-no");
        }
    }
    if t.noloop {
        flags.push("noloop");
    }
    if t.broken_redirect {
        flags.push("broken_redirect");
    }
    let redirect = if t.on { t.redirect as i64 } else { -1 };
    let text = |s: &str| Reply::Bulk(Bytes::copy_from_slice(s.as_bytes()));
    Reply::Map(vec![
        (
            text("flags"),
            Reply::Set(flags.into_iter().map(text).collect()),
        ),
        (text("redirect"), Reply::Integer(redirect)),
        (
            text("prefixes"),
            Reply::Array(t.prefixes.iter().cloned().map(Reply::Bulk).collect()),
        ),
    ])
}

/// Redis's client types; `slave` is `replica`'s old name.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ClientType {
    Normal,
    Replica,
    Pubsub,
    Master,
}

impl ClientType {
    fn parse(name: &[u8]) -> Result<ClientType, CommandError> {
        match lower(name).as_str() {
            "normal" => Ok(ClientType::Normal),
            "slave" | "replica" => Ok(ClientType::Replica),
            "pubsub" => Ok(ClientType::Pubsub),
            "master" => Ok(ClientType::Master),
            _ => Err(CommandError::other(format!(
                "ERR Unknown client type '{}'",
                text(name)
            ))),
        }
    }

    /// `pubsub` with subscriptions, else `normal`: there are no replicas
    /// or masters yet.
    fn of(c: &ClientHandle) -> ClientType {
        if c.is_subscribed() {
            ClientType::Pubsub
        } else {
            ClientType::Normal
        }
    }
}

/// CLIENT LIST [TYPE t] | [ID id ...], as Redis parses it: one filter or
/// the other.
fn list(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let mut out = String::new();
    let mut line = |c: &ClientHandle| {
        out.push_str(&describe(c));
        out.push('\n');
    };
    if args.len() == 4 && is(&args[2], "type") {
        let kind = ClientType::parse(&args[3])?;
        for c in ctx.shared.clients.snapshot() {
            if ClientType::of(&c) == kind {
                line(&c);
            }
        }
    } else if args.len() > 3 && is(&args[2], "id") {
        let mut ids = Vec::new();
        for a in &args[3..] {
            ids.push(int(a).map_err(|_| CommandError::other("ERR Invalid client ID"))?);
        }
        for id in ids {
            if let Some(c) = u64::try_from(id)
                .ok()
                .and_then(|id| ctx.shared.clients.get(id))
            {
                line(&c);
            }
        }
    } else if args.len() == 2 {
        for c in ctx.shared.clients.snapshot() {
            line(&c);
        }
    } else {
        return Err(CommandError::Syntax);
    }
    Ok(Reply::Verbatim("txt".into(), Bytes::from(out)))
}

/// CLIENT KILL addr:port (may kill the caller itself; "ERR No such client"
/// when none matches) or CLIENT KILL <filter> <value> ... (how many were
/// killed; skips the caller unless SKIPME no).
fn kill(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let me = ctx.client.handle.id;
    let mut addr = None;
    let mut laddr = None;
    let mut kind = None;
    let mut id = None;
    let mut max_age = None;
    let mut user = None;
    let mut skipme = true;
    if args.len() == 3 {
        addr = Some(text(&args[2]));
        skipme = false;
    } else {
        let mut i = 2;
        while i < args.len() {
            let Some(value) = args.get(i + 1) else {
                return Err(CommandError::Syntax);
            };
            let option = &args[i];
            if is(option, "id") {
                let v = int(value)
                    .ok()
                    .filter(|&v| v > 0)
                    .ok_or_else(|| CommandError::other("ERR client-id should be greater than 0"))?;
                id = Some(v as u64);
            } else if is(option, "type") {
                kind = Some(ClientType::parse(value)?);
            } else if is(option, "addr") {
                addr = Some(text(value));
            } else if is(option, "laddr") {
                laddr = Some(text(value));
            } else if is(option, "user") {
                match ctx.shared.acl.user(value) {
                    Some(u) => user = Some(u),
                    None => {
                        return Err(CommandError::other(format!(
                            "ERR No such user '{}'",
                            text(value)
                        )))
                    }
                }
            } else if is(option, "skipme") {
                skipme = if is(value, "yes") {
                    true
                } else if is(value, "no") {
                    false
                } else {
                    return Err(CommandError::Syntax);
                };
            } else if is(option, "maxage") {
                let v = int(value).map_err(|_| {
                    CommandError::other("ERR maxage is not an integer or out of range")
                })?;
                if v <= 0 {
                    return Err(CommandError::other("ERR maxage should be greater than 0"));
                }
                max_age = Some(v as u64);
            } else {
                return Err(CommandError::Syntax);
            }
            i += 2;
        }
    }
    let mut killed = 0;
    for c in ctx.shared.clients.snapshot() {
        if addr.as_ref().is_some_and(|a| c.addr.to_string() != *a)
            || laddr.as_ref().is_some_and(|a| c.laddr.to_string() != *a)
            || kind.is_some_and(|k| k != ClientType::of(&c))
            || id.is_some_and(|id| c.id != id)
            || max_age.is_some_and(|age| c.created.elapsed().as_secs() < age)
            || user
                .as_ref()
                .is_some_and(|u| !c.user().is_some_and(|cu| std::sync::Arc::ptr_eq(&cu, u)))
            || (skipme && c.id == me)
        {
            continue;
        }
        // The caller itself still gets this reply: the connection writes
        // pending replies before it notices it was killed.
        c.kill();
        killed += 1;
    }
    if args.len() == 3 {
        return if killed == 0 {
            Err(CommandError::NoSuchClient)
        } else {
            Ok(Reply::ok())
        };
    }
    Ok(Reply::Integer(killed))
}
