//! One client connection: read, parse, execute, and write replies in
//! batches. All commands parsed from one read are executed before their
//! replies go out in a single write, which is what makes pipelining cheap.

use crate::clients::ClientHandle;
use crate::command::{flags, CommandTable};
use crate::context::{Action, ClientState, Ctx};
use crate::error::CommandError;
use crate::shared::Shared;
use basalt_resp::{Protocol, Reply, RequestParser};
use bytes::{Bytes, BytesMut};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Replies are flushed early once this much is pending, so a long pipeline
/// of large replies does not grow the output buffer without bound.
const FLUSH_THRESHOLD: usize = 64 * 1024;
const READ_CHUNK: usize = 16 * 1024;

/// Serves a connection already registered (by the accept loop, so that
/// `maxclients` counts it at once).
pub async fn serve(shared: Arc<Shared>, mut stream: TcpStream, handle: Arc<ClientHandle>) {
    let _ = stream.set_nodelay(true);
    let addr = handle.addr;
    let authenticated = shared.config.read().requirepass.is_none();
    let mut state = ClientState {
        handle: handle.clone(),
        protocol: Protocol::Resp2,
        authenticated,
        subscriptions: Default::default(),
        multi: None,
        watch: None,
    };
    if let Err(e) = run(&shared, &mut stream, &mut state).await {
        tracing::debug!("client {addr}: {e}");
    }
    state.subscriptions.clear(&shared.pubsub, &handle);
    if let Some(w) = state.watch.take() {
        shared.watches.unwatch(&w);
    }
    shared.clients.unregister(handle.id);
}

async fn run(
    shared: &Arc<Shared>,
    stream: &mut TcpStream,
    state: &mut ClientState,
) -> std::io::Result<()> {
    let mut parser = RequestParser::new();
    let mut input = BytesMut::with_capacity(READ_CHUNK);
    let mut output = BytesMut::with_capacity(READ_CHUNK);
    let mut limits = shared.limits();
    let mut shutdown = shared.shutdown_signal();
    let handle = state.handle.clone();
    // Whether this connection wrote since the WAL buffer was last flushed:
    // its replies must not leave before the writes reach the WAL file.
    let mut unflushed_writes = false;
    loop {
        shared.refresh(&mut limits);
        loop {
            parser.set_auth_required(!state.authenticated);
            let args = match parser.parse(&mut input, &limits.parser) {
                Ok(Some(args)) => args,
                Ok(None) => break,
                Err(e) => {
                    // Redis answers a malformed request once and hangs up:
                    // the rest of the stream cannot be trusted.
                    e.to_reply().encode(state.protocol, &mut output);
                    write(shared, &handle, stream, &mut output, &mut unflushed_writes).await?;
                    return Ok(());
                }
            };
            let (reply, action, wrote) = execute(shared, state, args);
            unflushed_writes |= wrote;
            match action {
                None => {}
                Some(Action::Sleep(d)) => {
                    write(shared, &handle, stream, &mut output, &mut unflushed_writes).await?;
                    tokio::time::sleep(d).await;
                }
                Some(Action::Close) => {
                    reply.encode(state.protocol, &mut output);
                    write(shared, &handle, stream, &mut output, &mut unflushed_writes).await?;
                    return Ok(());
                }
                Some(Action::Shutdown) => {
                    write(shared, &handle, stream, &mut output, &mut unflushed_writes).await?;
                    shared.request_shutdown();
                    return Ok(());
                }
                Some(Action::Block(block)) => {
                    write(shared, &handle, stream, &mut output, &mut unflushed_writes).await?;
                    match wait_blocked(shared, stream, &mut input, state, block).await {
                        Some(reply) => {
                            // A writer popped for us: its WAL record must
                            // reach the file before we acknowledge it.
                            unflushed_writes = true;
                            reply.encode(state.protocol, &mut output);
                            continue;
                        }
                        None => return Ok(()),
                    }
                }
            }
            // Messages published meanwhile (possibly by this very command)
            // go first, as Redis writes them to the client when published.
            drain_pushes(state, &mut output);
            reply.encode(state.protocol, &mut output);
            if output.len() >= FLUSH_THRESHOLD {
                write(shared, &handle, stream, &mut output, &mut unflushed_writes).await?;
            }
        }
        drain_pushes(state, &mut output);
        write(shared, &handle, stream, &mut output, &mut unflushed_writes).await?;
        let query_buffer = input.len() + parser.pending_args_len();
        handle.query_buffer.store(query_buffer as i64, Relaxed);
        if limits.query_buffer_limit > 0 && query_buffer > limits.query_buffer_limit {
            tracing::warn!(
                "closing client {}: query buffer of {query_buffer} bytes exceeds client-query-buffer-limit",
                handle.addr,
            );
            return Ok(());
        }
        if input.capacity() - input.len() < READ_CHUNK / 4 {
            input.reserve(READ_CHUNK);
        }
        // As in Redis, `timeout` never closes a subscriber: it may wait
        // quietly for messages as long as it likes.
        let may_idle_out = limits.timeout_secs > 0 && !state.subscriptions.active();
        let idle = async {
            if may_idle_out {
                tokio::time::sleep(Duration::from_secs(limits.timeout_secs)).await
            } else {
                std::future::pending().await
            }
        };
        let outbox = state.subscriptions.outbox().cloned();
        let pushes = async {
            match &outbox {
                Some(o) => o.ready().await,
                None => std::future::pending().await,
            }
        };
        let n = tokio::select! {
            r = stream.read_buf(&mut input) => r?,
            _ = pushes => continue,
            _ = handle.killed() => return Ok(()),
            _ = shutdown.changed() => return Ok(()),
            _ = idle => return Ok(()),
        };
        if n == 0 {
            return Ok(());
        }
        shared.stats.net_input_bytes.fetch_add(n as u64, Relaxed);
    }
}

/// Waits until a writer serves this client, the timeout passes, CLIENT
/// UNBLOCK, or the client goes away (`None`). Input that arrives meanwhile
/// stays buffered for after the wait, as in Redis.
async fn wait_blocked(
    shared: &Arc<Shared>,
    stream: &mut TcpStream,
    input: &mut BytesMut,
    state: &ClientState,
    block: crate::context::BlockRequest,
) -> Option<Reply> {
    use crate::blocking::{Unblock, Waiter};
    let (waiter, mut served) =
        Waiter::new(state.handle.id, block.keys.clone(), block.args, block.retry);
    shared.blocking.register(&waiter);
    // A push may have landed between the first attempt and registering.
    shared.blocking.serve(shared, block.keys.iter().cloned());
    let deadline = block.timeout.map(|t| tokio::time::Instant::now() + t);
    let mut shutdown = shared.shutdown_signal();
    let handle = state.handle.clone();
    // A RESP3 client may be subscribed while it blocks: keep its pushes
    // flowing meanwhile.
    let outbox = state.subscriptions.outbox().cloned();
    let result = loop {
        let pushes = async {
            match &outbox {
                Some(o) => o.ready().await,
                None => std::future::pending().await,
            }
        };
        let timeout = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(d).await,
                None => std::future::pending().await,
            }
        };
        let given_up = tokio::select! {
            reply = &mut served => break reply.ok(),
            _ = timeout => Some(block.timeout_reply.clone()),
            _ = waiter.unblocked.notified() => Some(match waiter.unblock_reason() {
                Some(Unblock::Error) => Reply::Error("UNBLOCKED client unblocked via CLIENT UNBLOCK".into()),
                _ => block.timeout_reply.clone(),
            }),
            _ = handle.killed() => None,
            _ = shutdown.changed() => None,
            _ = pushes => {
                let mut out = BytesMut::new();
                if let Some(o) = &outbox {
                    o.drain_into(&mut out, FLUSH_THRESHOLD);
                }
                let sent = tokio::select! {
                    biased;
                    r = stream.write_all(&out) => r.is_ok(),
                    _ = handle.killed() => false,
                };
                if sent {
                    shared.stats.net_output_bytes.fetch_add(out.len() as u64, Relaxed);
                    continue;
                }
                None
            }
            read = stream.read_buf(input) => match read {
                Ok(n) if n > 0 => continue,
                _ => None,
            },
        };
        if waiter.give_up() {
            break given_up;
        }
        // A writer claimed us first: its reply is on the way.
        let reply = (&mut served).await.ok();
        break if given_up.is_some() { reply } else { None };
    };
    shared.blocking.unregister(&waiter);
    result
}

/// Moves queued pub/sub messages into the output, a bounded amount at a
/// time so a flood of messages cannot grow the output without limit.
fn drain_pushes(state: &ClientState, output: &mut BytesMut) {
    if let Some(outbox) = state.subscriptions.outbox() {
        outbox.drain_into(output, FLUSH_THRESHOLD);
    }
}

async fn write(
    shared: &Shared,
    handle: &ClientHandle,
    stream: &mut TcpStream,
    output: &mut BytesMut,
    unflushed_writes: &mut bool,
) -> std::io::Result<()> {
    if output.is_empty() {
        return Ok(());
    }
    if std::mem::take(unflushed_writes) {
        if let Err(e) = shared.storage.flush_wal_buffer() {
            // Without the WAL write these replies would acknowledge writes
            // a crash could lose: drop the connection instead.
            tracing::error!("WAL write failed: {e}");
            return Err(std::io::Error::other(e.to_string()));
        }
    }
    // A client killed while its socket is full (a subscriber that stopped
    // reading) must not keep this task waiting forever. The write is polled
    // first, so a killed client whose socket has room still gets the reply
    // (CLIENT KILL ... SKIPME no answers before closing).
    tokio::select! {
        biased;
        r = stream.write_all(output) => r?,
        _ = handle.killed() => return Err(std::io::Error::other("client killed")),
    }
    shared
        .stats
        .net_output_bytes
        .fetch_add(output.len() as u64, Relaxed);
    output.clear();
    Ok(())
}

/// Looks up, checks and runs one command, recording its statistics.
/// The flag says whether the command may have written data. Inside MULTI
/// the command is checked and queued instead. Inside a transaction (EXEC or
/// a script) blocking commands answer as if they timed out, and blocked
/// clients are served only after the transaction commits.
pub fn execute(
    shared: &Arc<Shared>,
    state: &mut ClientState,
    args: Vec<Bytes>,
) -> (Reply, Option<Action>, bool) {
    let table = CommandTable::get();
    if args.is_empty() {
        return (Reply::Null, None, false);
    }
    let (index, command, sub_index) = match check(table, state, &args) {
        Ok(found) => found,
        Err(err) => {
            shared.stats.error_replies.fetch_add(1, Relaxed);
            if let Some(multi) = &mut state.multi {
                multi.aborted = true;
            }
            return (err.to_reply(), None, false);
        }
    };
    if state.protocol == Protocol::Resp2
        && state.subscriptions.active()
        && !crate::command::allowed_while_subscribed(command.name)
    {
        shared.stats.error_replies.fetch_add(1, Relaxed);
        let name = match sub_index {
            0 => command.name.to_string(),
            i => format!("{}|{}", command.name, command.subcommands[i - 1].name),
        };
        return (CommandError::Subscribed(name).to_reply(), None, false);
    }
    if let Some(multi) = &mut state.multi {
        if !crate::transaction::runs_inside_multi(command.name) {
            if command.has(flags::NO_MULTI) {
                multi.aborted = true;
                let err = CommandError::other("ERR Command not allowed inside a transaction");
                return (err.to_reply(), None, false);
            }
            multi.queued.push(args);
            state.handle.multi.store(multi.queued.len() as i64, Relaxed);
            return (Reply::Simple("QUEUED".into()), None, false);
        }
    }
    if let Some(err) = crate::scripting::busy_error(shared, state.handle.id, command, &args) {
        shared.stats.error_replies.fetch_add(1, Relaxed);
        return (err.to_reply(), None, false);
    }
    state.handle.touch(index, sub_index);
    let started = Instant::now();
    let mut ctx = Ctx {
        shared,
        client: state,
        action: None,
    };
    crate::notify::key_misses(shared, command, &args);
    let wrote = command.has(flags::WRITE);
    let nested = basalt_engine::in_txn();
    // While anyone WATCHes, a write runs as a small transaction so that it
    // invalidates the watchers in the same instant it becomes visible,
    // under its keys' locks, which EXEC checks its watches under.
    let watch_guard = (wrote && !nested && shared.watches.active())
        .then(|| shared.storage.begin_txn(&command.keys_of(&args)));
    if wrote {
        invalidate_watches(shared, command, &args);
    }
    let new_keys = if wrote && shared.notify.wants(crate::notify::NEW) {
        let keys = command.keys_of(&args);
        crate::notify::NewKeys::watch(shared, keys.iter(), &args)
    } else {
        None
    };
    let mut result = if crate::offload::is_long(shared, command, &args) {
        // Another thread takes this worker's other connections meanwhile.
        tokio::task::block_in_place(|| (command.handler)(&mut ctx, &args))
    } else {
        (command.handler)(&mut ctx, &args)
    };
    if let Some(new_keys) = new_keys {
        new_keys.finish(shared);
    }
    match watch_guard {
        Some(txn) => {
            if let Err(e) = txn.commit() {
                result = Err(basalt_types::Error::from(e).into());
            }
        }
        // A WATCH that arrived while this write ran: too late for the
        // transaction above, so invalidate it now.
        None if wrote && !nested => invalidate_watches(shared, command, &args),
        None => {}
    }
    let mut action = ctx.action;
    let usec = started.elapsed().as_micros() as u64;
    shared.stats.record_command(index, usec, result.is_err());
    let threshold = shared.slowlog_slower_than.load(Relaxed);
    if threshold >= 0 && usec >= threshold as u64 {
        let max_len = shared.config.read().slowlog_max_len;
        let name = state.handle.name.lock().clone().unwrap_or_default();
        shared
            .slowlog
            .record(&args, usec, state.handle.addr, name, max_len);
    }
    if wrote && shared.blocking.has_waiters() {
        serve_waiters(shared, command, &args);
    }
    let mut reply = result.unwrap_or_else(|e| e.to_reply());
    if nested {
        if let Some(Action::Block(block)) = action.take() {
            reply = block.timeout_reply;
        }
    }
    // EXEC and scripts write through the commands they run.
    let may_have_written = wrote || command.has(flags::MAY_REPLICATE);
    (reply, action, may_have_written)
}

/// Finds the command and checks arity, authentication and subcommand.
fn check(
    table: &CommandTable,
    state: &ClientState,
    args: &[Bytes],
) -> Result<(usize, &'static crate::command::Command, usize), CommandError> {
    let name = &args[0];
    let Some((index, command)) = table.lookup(name) else {
        return Err(CommandError::UnknownCommand {
            name: String::from_utf8_lossy(name).into_owned(),
            args: args[1..]
                .iter()
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect(),
        });
    };
    if !command.arity_ok(args.len()) {
        return Err(CommandError::WrongArity(command.name.to_string()));
    }
    if !state.authenticated && !command.has(flags::NO_AUTH) {
        return Err(CommandError::NoAuth);
    }
    // Subcommands are checked here, from the table, so handlers need not
    // repeat arity checks or "unknown subcommand" errors.
    let mut sub_index = 0;
    if !command.subcommands.is_empty() && args.len() >= 2 {
        let Some(i) = command.find_subcommand(&args[1]) else {
            return Err(CommandError::UnknownSubcommand {
                sub: String::from_utf8_lossy(&args[1]).into_owned(),
                command: command.name,
            });
        };
        let sub = &command.subcommands[i];
        if !crate::command::arity_matches(sub.arity, args.len()) {
            return Err(CommandError::WrongArity(format!(
                "{}|{}",
                command.name, sub.name
            )));
        }
        sub_index = i + 1;
    }
    Ok((index, command, sub_index))
}

/// Marks the watchers of the command's keys when its write becomes
/// visible: at the commit of the enclosing transaction, which still holds
/// the keys' locks then (see `execute`).
fn invalidate_watches(shared: &Arc<Shared>, command: &crate::command::Command, args: &[Bytes]) {
    if !shared.watches.active() {
        return;
    }
    let all = crate::transaction::touches_all_keys(command.name);
    let keys = if all {
        Vec::new()
    } else {
        command.keys_of(args)
    };
    let s = shared.clone();
    shared.storage.on_commit(move || {
        if all {
            s.watches.touch_all();
        } else {
            s.watches.touch(&keys);
        }
    });
}

/// Serves clients blocked on the written keys once the write is visible:
/// at once, or when the enclosing transaction commits.
fn serve_waiters(shared: &Arc<Shared>, command: &crate::command::Command, args: &[Bytes]) {
    let keys = command.keys_of(args);
    let s = shared.clone();
    shared
        .storage
        .after_commit(move || s.blocking.serve(&s, keys));
}
