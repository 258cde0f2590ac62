//! Replication: REPLICAOF/SLAVEOF, ROLE, WAIT and FAILOVER for people, and the commands of
//! Kvrocks' replication protocol (`_db_name`, REPLCONF, PSYNC,
//! `_fetch_meta`, `_fetch_file`) for replicas. The work is done by
//! `basalt-replication`; these declare the commands and parse arguments.

use super::flags::*;
use super::{int, is, lower, text, Command};
use crate::context::{Action, Await, Ctx};
use crate::error::{CommandError, CommandResult};
use basalt_replication::{Announce, FailoverRequest, Replication};
use basalt_resp::Reply;
use bytes::Bytes;
use std::sync::Arc;

const fn repl_cmd(name: &'static str, arity: i32, flags: u32, handler: super::Handler) -> Command {
    Command::new(name, arity, flags, handler).group("server")
}

pub static COMMANDS: &[Command] = &[
    repl_cmd("replicaof", 3, ADMIN | NOSCRIPT | STALE, replicaof)
        .syntax("(args: (host-port: host port:integer) | (no-one: NO ONE))")
        .since("5.0.0")
        .summary("Configures a server as replica of another, or promotes it to a master."),
    repl_cmd("slaveof", 3, ADMIN | NOSCRIPT | STALE, replicaof)
        .syntax("(args: (host-port: host port:integer) | (no-one: NO ONE))")
        .since("1.0.0")
        .summary("Sets a Redis server as a replica of another, or promotes it to being a master."),
    repl_cmd("role", 1, NOSCRIPT | LOADING | STALE | FAST, role)
        .since("2.8.12")
        .summary("Returns the replication role."),
    repl_cmd("replconf", -3, ADMIN | NOSCRIPT | LOADING | STALE, replconf)
        .syntax("option value [option value ...]")
        .since("3.0.0")
        .summary("An internal command for configuring the replication stream."),
    repl_cmd("psync", -2, ADMIN | NOSCRIPT | NO_MULTI, psync)
        .syntax("[replicationid] offset:integer")
        .since("2.8.0")
        .summary("An internal command used in replication."),
    repl_cmd("_fetch_meta", 1, ADMIN | NOSCRIPT | NO_MULTI, fetch_meta)
        .since("2.0.0")
        .summary("Kvrocks replication: makes a checkpoint and lists its files."),
    repl_cmd("_fetch_file", -2, ADMIN | NOSCRIPT | NO_MULTI, fetch_file)
        .syntax("files [offset:integer]")
        .since("2.0.0")
        .summary("Kvrocks replication: sends checkpoint files."),
    Command::new("wait", 3, BLOCKING, wait)
        .group("generic")
        .acl(&["connection"])
        .syntax("numreplicas:integer timeout:integer")
        .since("3.0.0")
        .summary("Blocks until the asynchronous replication of all preceding write commands sent by the connection is completed."),
    repl_cmd("failover", -1, ADMIN | NOSCRIPT | STALE, failover)
        .syntax("[target: TO host port:integer [FORCE]] [ABORT] [TIMEOUT milliseconds:integer]")
        .since("6.2.0")
        .summary("Start a coordinated failover between this server and one of its replicas."),
    repl_cmd(
        "_db_name",
        1,
        ADMIN | NOSCRIPT | NO_MULTI | LOADING | STALE,
        db_name,
    )
    .since("2.0.0")
    .summary("Kvrocks replication: the name of this data set."),
];

fn layer(ctx: &Ctx) -> Result<Arc<Replication>, CommandError> {
    basalt_replication::of(ctx.shared)
        .ok_or_else(|| CommandError::other("ERR replication is not enabled on this server"))
}

fn replicaof(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    // In cluster mode the topology says whom a node follows (CLUSTERX
    // SETNODES), as in Kvrocks.
    if ctx.shared.config.read().cluster_enabled {
        return Err(basalt_cluster::ClusterError::ReplicaOfRefused.into());
    }
    let repl = layer(ctx)?;
    if repl.failing_over() {
        return Err(CommandError::other(
            "ERR REPLICAOF not allowed while failing over.",
        ));
    }
    if is(&args[1], "no") && is(&args[2], "one") {
        repl.promote(ctx.shared);
        return Ok(Reply::ok());
    }
    let port = std::str::from_utf8(&args[2])
        .ok()
        .and_then(|p| p.parse::<u16>().ok())
        .filter(|&p| p > 0)
        .ok_or_else(|| CommandError::other("ERR Invalid master port"))?;
    let host = text(&args[1]);
    let (own_port, binds) = {
        let c = ctx.shared.config.read();
        (c.port, c.bind.clone())
    };
    let local = ["127.0.0.1", "localhost", "::1", "0.0.0.0"];
    if port == own_port && (local.contains(&host.as_str()) || binds.contains(&host)) {
        return Err(CommandError::other("ERR can't replicate itself"));
    }
    if repl.follow(ctx.shared, host, port) {
        return Ok(Reply::Simple(
            "OK Already connected to specified master".into(),
        ));
    }
    Ok(Reply::ok())
}

fn role(ctx: &mut Ctx, _args: &[Bytes]) -> CommandResult {
    Ok(basalt_replication::role_reply(ctx.shared))
}

/// `REPLCONF option value [option value ...]`: Kvrocks takes
/// `listening-port` and `ip-address`; `ack` is what a replica sends on
/// its stream (read there), accepted here as Redis does.
fn replconf(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let repl = layer(ctx)?;
    if args.len().is_multiple_of(2) {
        return Err(CommandError::WrongArity("replconf".into()));
    }
    let mut update = Announce::default();
    for pair in args[1..].chunks(2) {
        match lower(&pair[0]).as_str() {
            "listening-port" => {
                let port = std::str::from_utf8(&pair[1])
                    .ok()
                    .and_then(|p| p.parse::<u16>().ok())
                    .filter(|&p| p > 0)
                    .ok_or_else(|| {
                        CommandError::other("ERR listening-port should be number or out of range")
                    })?;
                update.port = Some(port);
            }
            "ip-address" => {
                if pair[1].is_empty() {
                    return Err(CommandError::other("ERR ip-address should not be empty"));
                }
                update.ip = Some(text(&pair[1]));
            }
            // Basalt's: whether the replica raises keyspace notifications
            // (or feeds one that does), so that writes record theirs.
            "keyspace-events" => update.events = Some(&pair[1][..] == b"1"),
            "ack" | "capa" | "getack" => {}
            _ => return Err(CommandError::other("ERR unknown option")),
        }
    }
    repl.announce(ctx.shared, ctx.client.handle.id, update);
    Ok(Reply::ok())
}

fn psync(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let repl = layer(ctx)?;
    let (reply, action) = basalt_replication::psync(ctx.shared, &repl, ctx.client, args)?;
    ctx.action = action;
    Ok(reply)
}

fn fetch_meta(ctx: &mut Ctx, _args: &[Bytes]) -> CommandResult {
    let repl = layer(ctx)?;
    let (reply, action) = basalt_replication::fetch_meta(ctx.shared, &repl, ctx.client);
    ctx.action = action;
    Ok(reply)
}

/// `_fetch_file files`, Kvrocks' form, or `_fetch_file file offset`,
/// Basalt's resumption of a file cut in the middle.
fn fetch_file(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let repl = layer(ctx)?;
    let offset = match args.len() {
        2 => None,
        3 => Some(
            std::str::from_utf8(&args[2])
                .ok()
                .and_then(|n| n.parse::<u64>().ok())
                .ok_or_else(|| {
                    CommandError::other("ERR value is not an integer or out of range")
                })?,
        ),
        _ => return Err(CommandError::WrongArity("_fetch_file".into())),
    };
    if offset.is_some() && args[1].contains(&b',') {
        return Err(CommandError::other(
            "ERR an offset goes with exactly one file",
        ));
    }
    let (reply, action) = basalt_replication::fetch_file(ctx.shared, &repl, &args[1], offset);
    ctx.action = action;
    Ok(reply)
}

/// The data set's name and CRLF, bare (not RESP), as Kvrocks answers it.
fn db_name(ctx: &mut Ctx, _args: &[Bytes]) -> CommandResult {
    let name = ctx.shared.config.read().db_name.clone();
    Ok(Reply::Raw(Bytes::from(format!("{name}\r\n"))))
}

/// WAIT numreplicas timeout, as Redis 7: how many replicas acknowledged
/// this client's last write, once `numreplicas` did or `timeout` ms (0:
/// forever) passed. Inside MULTI or a script it answers at once.
fn wait(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let repl = layer(ctx)?;
    if repl.is_replica() {
        return Err(CommandError::other(
            "ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.",
        ));
    }
    let want: i64 = std::str::from_utf8(&args[1])
        .ok()
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| CommandError::other("ERR value is not an integer or out of range"))?;
    let timeout: i64 = std::str::from_utf8(&args[2])
        .ok()
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| CommandError::other("ERR timeout is not an integer or out of range"))?;
    if timeout < 0 {
        return Err(CommandError::other("ERR timeout is negative"));
    }
    let seq = ctx.client.last_write_seq;
    let acked = repl.count_acked(seq);
    if acked as i64 >= want || basalt_engine::in_txn() {
        return Ok(Reply::Integer(acked as i64));
    }
    let timeout = (timeout > 0).then(|| std::time::Duration::from_millis(timeout as u64));
    let waiting = repl.wait_for_acks(seq, want as usize, timeout);
    ctx.action = Some(Action::Await(Await(Box::pin(waiting))));
    Ok(Reply::Null)
}

/// FAILOVER [TO host port [FORCE]] [TIMEOUT ms] | ABORT, parsed as Redis
/// does: ABORT only alone, each option once.
fn failover(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let repl = layer(ctx)?;
    if args.len() == 2 && is(&args[1], "abort") {
        repl.abort_failover(ctx.shared).map_err(failover_error)?;
        return Ok(Reply::ok());
    }
    let mut request = FailoverRequest::default();
    let mut j = 1;
    while j < args.len() {
        if is(&args[j], "timeout") && j + 1 < args.len() && request.timeout.is_none() {
            let ms = int(&args[j + 1])?;
            if ms <= 0 {
                return Err(CommandError::other(
                    "ERR FAILOVER timeout must be greater than 0",
                ));
            }
            request.timeout = Some(std::time::Duration::from_millis(ms as u64));
            j += 2;
        } else if is(&args[j], "to") && j + 2 < args.len() && request.target.is_none() {
            let port = int(&args[j + 2])?;
            // A port no replica can have: "not a replica", after the
            // other checks, as Redis answers.
            let port = u16::try_from(port).unwrap_or(0);
            request.target = Some((text(&args[j + 1]), port));
            j += 3;
        } else if is(&args[j], "force") && !request.force {
            request.force = true;
            j += 1;
        } else {
            return Err(CommandError::Syntax);
        }
    }
    repl.start_failover(ctx.shared, request)
        .map_err(failover_error)?;
    Ok(Reply::ok())
}

fn failover_error(e: basalt_replication::FailoverError) -> CommandError {
    CommandError::other(e.to_string())
}
