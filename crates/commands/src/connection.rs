//! Connection commands: PING ECHO QUIT RESET AUTH HELLO SELECT.

use super::flags::*;
use super::{int, is, text, Command};
use crate::context::{Action, Ctx};
use crate::error::{CommandError, CommandResult};
use basalt_resp::{Protocol, Reply};
use bytes::Bytes;

const fn conn_cmd(name: &'static str, arity: i32, flags: u32, handler: super::Handler) -> Command {
    Command::new(name, arity, flags, handler).group("connection")
}

pub static COMMANDS: &[Command] = &[
    conn_cmd("ping", -1, FAST | STALE | SUBSCRIBED_OK, ping)
        .syntax("[message]")
        .summary("Returns the server's liveliness response."),
    conn_cmd("echo", 2, FAST, echo)
        .syntax("message")
        .summary("Returns the given string."),
    conn_cmd(
        "quit",
        -1,
        FAST | NO_AUTH | STALE | LOADING | ALLOW_BUSY | TXN_CONTROL | SUBSCRIBED_OK,
        quit,
    )
    .summary("Closes the connection."),
    conn_cmd(
        "reset",
        1,
        FAST | NO_AUTH | STALE | LOADING | NOSCRIPT | TXN_CONTROL | SUBSCRIBED_OK,
        reset,
    )
    .since("6.2.0")
    .summary("Resets the connection."),
    conn_cmd(
        "auth",
        -2,
        FAST | NO_AUTH | STALE | LOADING | NOSCRIPT,
        auth,
    )
    .syntax("[username] password")
    .summary("Authenticates the connection."),
    conn_cmd(
        "hello",
        -1,
        FAST | NO_AUTH | STALE | LOADING | NOSCRIPT,
        hello,
    )
    .syntax("[arguments: protover:integer [AUTH username password] [SETNAME clientname]]")
    .since("6.0.0")
    .summary("Handshakes with the Redis server."),
    conn_cmd("select", 2, FAST | LOADING | STALE, select)
        .syntax("index:integer")
        .summary("Changes the selected database."),
];

fn ping(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    // A subscribed RESP2 connection can only receive arrays: Redis answers
    // with a "pong" message frame instead.
    if ctx.client.protocol == Protocol::Resp2 && ctx.client.subscriptions.active() {
        let payload = args.get(1).cloned().unwrap_or_default();
        if args.len() > 2 {
            return Err(CommandError::WrongArity("ping".into()));
        }
        return Ok(Reply::Array(vec![
            Reply::bulk("pong"),
            Reply::Bulk(payload),
        ]));
    }
    match args.len() {
        1 => Ok(Reply::Simple("PONG".into())),
        2 => Ok(Reply::Bulk(args[1].clone())),
        _ => Err(CommandError::WrongArity("ping".into())),
    }
}

fn echo(_ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    Ok(Reply::Bulk(args[1].clone()))
}

fn quit(ctx: &mut Ctx, _args: &[Bytes]) -> CommandResult {
    ctx.action = Some(Action::Close);
    Ok(Reply::ok())
}

fn reset(ctx: &mut Ctx, _args: &[Bytes]) -> CommandResult {
    let c = &mut ctx.client;
    c.subscriptions.clear(&ctx.shared.pubsub, &c.handle);
    c.protocol = Protocol::Resp2;
    c.handle.resp.store(2, std::sync::atomic::Ordering::Relaxed);
    *c.handle.name.lock() = None;
    // The default user again, logged in only if a fresh connection would
    // be: RESET never keeps a user's rights, nor grants any.
    c.reset_user(ctx.shared);
    c.readonly = false;
    c.multi = None;
    c.handle
        .multi
        .store(-1, std::sync::atomic::Ordering::Relaxed);
    super::transaction::forget_watches(ctx);
    // As Redis's clearClientConnectionState: tracking off, and the
    // client's NO-EVICT / NO-TOUCH modes dropped.
    ctx.shared.tracking.disable(&ctx.client.handle);
    let h = &ctx.client.handle;
    h.no_evict
        .store(false, std::sync::atomic::Ordering::Relaxed);
    h.no_touch
        .store(false, std::sync::atomic::Ordering::Relaxed);
    h.monitor.store(false, std::sync::atomic::Ordering::Relaxed);
    ctx.shared.monitors.remove(h.id);
    Ok(Reply::Simple("RESET".into()))
}

fn auth(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let (user, pass): (&[u8], &[u8]) = match args.len() {
        2 => {
            if ctx.shared.acl.default_user().get().nopass() {
                return Err(CommandError::AuthNotConfigured);
            }
            (b"default", &args[1])
        }
        3 => (&args[1], &args[2]),
        _ => return Err(CommandError::Syntax),
    };
    let shared = ctx.shared.clone();
    shared
        .acl
        .authenticate(&shared, ctx.client, &args[0], user, pass)?;
    Ok(Reply::ok())
}

pub fn valid_client_name(name: &[u8]) -> bool {
    name.iter().all(|&b| (b'!'..=b'~').contains(&b))
}

fn hello(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let mut protocol = ctx.client.protocol;
    let mut i = 1;
    if let Some(v) = args.get(1) {
        let version = int(v).map_err(|_| {
            CommandError::other("ERR Protocol version is not an integer or out of range")
        })?;
        protocol = match version {
            2 => Protocol::Resp2,
            3 => Protocol::Resp3,
            _ => return Err(CommandError::NoProto),
        };
        i = 2;
    }
    let mut name = None;
    let mut credentials = None;
    // Options first, the last AUTH and SETNAME winning; then the
    // authentication; the name only once it succeeded (Redis 7.2).
    while i < args.len() {
        if is(&args[i], "auth") && i + 2 < args.len() {
            credentials = Some((&args[i + 1], &args[i + 2]));
            i += 3;
        } else if is(&args[i], "setname") && i + 1 < args.len() {
            if !valid_client_name(&args[i + 1]) {
                return Err(CommandError::InvalidClientName);
            }
            name = Some(text(&args[i + 1]));
            i += 2;
        } else {
            return Err(CommandError::other(format!(
                "ERR Syntax error in HELLO option '{}'",
                text(&args[i])
            )));
        }
    }
    if let Some((user, pass)) = credentials {
        let shared = ctx.shared.clone();
        shared
            .acl
            .authenticate(&shared, ctx.client, &args[0], user, pass)?;
    }
    if !ctx.client.authenticated {
        return Err(CommandError::other(
            "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time",
        ));
    }
    if let Some(n) = name {
        *ctx.client.handle.name.lock() = if n.is_empty() { None } else { Some(n) };
    }
    ctx.client.protocol = protocol;
    let proto_num = if protocol == Protocol::Resp3 { 3 } else { 2 };
    ctx.client
        .handle
        .resp
        .store(proto_num as u8, std::sync::atomic::Ordering::Relaxed);
    Ok(Reply::Map(vec![
        (Reply::bulk("server"), Reply::bulk("redis")),
        (
            Reply::bulk("version"),
            Reply::bulk(basalt_core::REDIS_VERSION),
        ),
        (Reply::bulk("proto"), Reply::Integer(proto_num)),
        (
            Reply::bulk("id"),
            Reply::Integer(ctx.client.handle.id as i64),
        ),
        (Reply::bulk("mode"), Reply::bulk("standalone")),
        (
            Reply::bulk("role"),
            Reply::bulk(
                if basalt_replication::of(ctx.shared).is_some_and(|r| r.is_replica()) {
                    "replica"
                } else {
                    "master"
                },
            ),
        ),
        (Reply::bulk("modules"), Reply::Array(vec![])),
        (
            Reply::bulk("basalt_version"),
            Reply::bulk(basalt_core::BASALT_VERSION),
        ),
    ]))
}

fn select(_ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let db = int(&args[1])?;
    if db != 0 {
        return Err(CommandError::DbIndexOutOfRange);
    }
    Ok(Reply::ok())
}
