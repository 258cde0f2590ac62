//! MULTI EXEC DISCARD WATCH UNWATCH. Queuing happens in the dispatcher's
//! MULTI gate; EXEC runs the queue as one engine transaction: it holds the
//! locks of every key the queued commands name, its reads see its own
//! writes, and it commits as one RocksDB batch.

use super::flags::*;
use super::key_flags::*;
use super::Command;
use crate::context::Ctx;
use crate::error::{CommandError, CommandResult};
use basalt_core::dispatch::execute;
use basalt_core::transaction::{Multi, Watch};
use basalt_resp::Reply;
use bytes::Bytes;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

const fn txn_cmd(name: &'static str, arity: i32, flags: u32, handler: super::Handler) -> Command {
    Command::new(name, arity, flags, handler)
        .group("transactions")
        .since("1.2.0")
}

pub static COMMANDS: &[Command] = &[
    txn_cmd(
        "multi",
        1,
        NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY | TXN_CONTROL,
        multi,
    )
    .summary("Starts a transaction."),
    txn_cmd(
        "exec",
        1,
        NOSCRIPT | LOADING | STALE | SKIP_SLOWLOG | MAY_REPLICATE | TXN_CONTROL,
        exec,
    )
    .summary("Executes all commands in a transaction."),
    txn_cmd(
        "discard",
        1,
        NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY | TXN_CONTROL,
        discard,
    )
    .since("2.0.0")
    .summary("Discards a transaction."),
    txn_cmd(
        "watch",
        -2,
        NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY | TXN_CONTROL,
        watch,
    )
    .syntax("key [key ...]")
    .keys(1, -1, 1)
    .key_flags(&[RO])
    .since("2.2.0")
    .summary("Monitors changes to keys to determine the execution of a transaction."),
    txn_cmd(
        "unwatch",
        1,
        NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        unwatch,
    )
    .since("2.2.0")
    .summary("Forgets about watched keys of a transaction."),
];

fn multi(ctx: &mut Ctx, _args: &[Bytes]) -> CommandResult {
    if ctx.client.multi.is_some() {
        return Err(CommandError::other("ERR MULTI calls can not be nested"));
    }
    ctx.client.multi = Some(Multi::default());
    ctx.client.handle.multi.store(0, Ordering::Relaxed);
    Ok(Reply::ok())
}

fn discard(ctx: &mut Ctx, _args: &[Bytes]) -> CommandResult {
    if ctx.client.multi.take().is_none() {
        return Err(CommandError::other("ERR DISCARD without MULTI"));
    }
    ctx.client.handle.multi.store(-1, Ordering::Relaxed);
    forget_watches(ctx);
    Ok(Reply::ok())
}

fn watch(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    if ctx.client.multi.is_some() {
        return Err(CommandError::other("ERR WATCH inside MULTI is not allowed"));
    }
    let watch = ctx.client.watch.get_or_insert_with(|| Watch {
        dirty: Arc::new(AtomicBool::new(false)),
        keys: Vec::new(),
    });
    for key in &args[1..] {
        if watch.keys.iter().any(|(k, _)| k == key) {
            continue;
        }
        let exists = ctx.data.db.read(key)?.is_some();
        ctx.shared.watches.watch(key.clone(), &watch.dirty);
        watch.keys.push((key.clone(), exists));
    }
    Ok(Reply::ok())
}

fn unwatch(ctx: &mut Ctx, _args: &[Bytes]) -> CommandResult {
    forget_watches(ctx);
    Ok(Reply::ok())
}

pub fn forget_watches(ctx: &mut Ctx) {
    if let Some(w) = ctx.client.watch.take() {
        ctx.shared.watches.unwatch(&w);
    }
}

fn exec(ctx: &mut Ctx, _args: &[Bytes]) -> CommandResult {
    let Some(multi) = ctx.client.multi.take() else {
        return Err(CommandError::other("ERR EXEC without MULTI"));
    };
    ctx.client.handle.multi.store(-1, Ordering::Relaxed);
    let watch = ctx.client.watch.take();
    let result = run(ctx, multi, watch.as_ref());
    if let Some(w) = &watch {
        ctx.shared.watches.unwatch(w);
    }
    result
}

fn run(ctx: &mut Ctx, multi: Multi, watch: Option<&Watch>) -> CommandResult {
    if multi.aborted {
        return Err(CommandError::other(
            "EXECABORT Transaction discarded because of previous errors.",
        ));
    }
    let table = crate::table();
    role_check(ctx, &multi)?;
    let mut keys: Vec<Bytes> = multi
        .queued
        .iter()
        .filter_map(|args| table.lookup(&args[0]).map(|(_, c)| c.keys_of(args)))
        .flatten()
        .collect();
    if let Some(w) = watch {
        keys.extend(w.keys.iter().map(|(k, _)| k.clone()));
    }
    let shared = ctx.shared;
    let data = shared.data();
    let txn = data.storage.begin_txn(&keys);
    // Checked under the locks: no writer of these keys can slip in between.
    if let Some(w) = watch {
        if watch_broken(ctx, w)? {
            return Ok(Reply::NullArray);
        }
    }
    let mut replies = Vec::with_capacity(multi.queued.len());
    // ACL checks each command again as EXEC runs it, in case the user's
    // rules changed since it was queued.
    ctx.client.in_exec = true;
    for args in multi.queued {
        replies.push(execute(shared, ctx.client, args).reply);
    }
    ctx.client.in_exec = false;
    txn.commit().map_err(basalt_types::Error::from)?;
    Ok(Reply::Array(replies))
}

/// What the role gate says of the queued commands now: as in Redis, a
/// transaction the node's state no longer allows (it became a replica or
/// lost its master since the commands were queued, or too few replicas
/// acknowledge for its writes) is discarded whole.
fn role_check(ctx: &Ctx, multi: &Multi) -> Result<(), CommandError> {
    let Some(gate) = &ctx.shared.gates.role else {
        return Ok(());
    };
    for args in &multi.queued {
        let Ok(call) = basalt_core::dispatch::lookup(ctx.shared.commands, args) else {
            continue;
        };
        if let Err(e) = gate.check(ctx.shared, ctx.client, &call) {
            let text = match e.to_reply() {
                Reply::Error(text) => text,
                _ => continue,
            };
            return Err(CommandError::other(format!(
                "EXECABORT Transaction discarded because of: {text}"
            )));
        }
    }
    Ok(())
}

fn watch_broken(ctx: &Ctx, watch: &Watch) -> Result<bool, CommandError> {
    if watch.dirty.load(Ordering::Acquire) {
        return Ok(true);
    }
    for (key, existed) in &watch.keys {
        if *existed && ctx.data.db.read(key)?.is_none() {
            return Ok(true);
        }
    }
    Ok(false)
}
