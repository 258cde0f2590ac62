//! One client connection: read, parse, execute, and write replies in
//! batches. All commands parsed from one read are executed before their
//! replies go out in a single write, which is what makes pipelining cheap.

use basalt_core::clients::ClientHandle;
use basalt_core::context::{Action, BlockRequest, ClientState, TakeOver};
use basalt_core::dispatch::{execute, Outcome};
use basalt_core::shared::Shared;
use basalt_resp::{Reply, RequestParser};
use bytes::BytesMut;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;
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
    let mut session = Session {
        state: ClientState::new(&shared, handle.clone()),
        shared,
    };
    let shared = session.shared.clone();
    match run(&shared, &mut stream, &mut session.state).await {
        Ok(Some((take_over, unparsed))) => {
            drop(session);
            (take_over.0)(stream, unparsed);
        }
        Ok(None) => {}
        Err(e) => tracing::debug!("client {addr}: {e}"),
    }
}

/// A connection's state, released when the task ends however it ends: a
/// handler that panics unwinds out of the task, and the runtime then drops
/// this with the task, so the client's `maxclients` slot, its pub/sub
/// subscriptions, its tracking and its watches are never leaked.
struct Session {
    shared: Arc<Shared>,
    state: ClientState,
}

impl Drop for Session {
    fn drop(&mut self) {
        let (shared, state) = (&self.shared, &mut self.state);
        state.subscriptions.clear(&shared.pubsub, &state.handle);
        shared.tracking.disable(&state.handle);
        shared.monitors.remove(state.handle.id);
        if let Some(w) = state.watch.take() {
            shared.watches.unwatch(&w);
        }
        shared.clients.unregister(state.handle.id);
    }
}

/// Serves requests until the client leaves (`None`) or a command takes
/// the socket over.
async fn run(
    shared: &Arc<Shared>,
    stream: &mut TcpStream,
    state: &mut ClientState,
) -> std::io::Result<Option<(TakeOver, BytesMut)>> {
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
            parser.set_auth_required(state.auth_required(shared));
            // As in Redis, a running command is still in the query buffer:
            // CLIENT LIST shows it in its own `qbuf`.
            let unparsed = input.len() + parser.pending_args_len();
            let args = match parser.parse(&mut input, &limits.parser) {
                Ok(Some(args)) => args,
                Ok(None) => break,
                Err(e) => {
                    // Redis answers a malformed request once and hangs up:
                    // the rest of the stream cannot be trusted.
                    e.to_reply().encode(state.protocol, &mut output);
                    write(shared, &handle, stream, &mut output, &mut unflushed_writes).await?;
                    return Ok(None);
                }
            };
            handle.query_buffer.store(unparsed as i64, Relaxed);
            while shared.pause.holds(shared, state, &args) {
                // Replies already computed go out first, as Redis sends
                // them before it stops reading this client.
                drain_pushes(state, &mut output);
                write(shared, &handle, stream, &mut output, &mut unflushed_writes).await?;
                tokio::select! {
                    _ = shared.pause.wait() => {}
                    _ = handle.killed() => return Ok(None),
                    _ = shutdown.changed() => return Ok(None),
                }
            }
            let Outcome {
                reply,
                action,
                wrote,
            } = execute(shared, state, args);
            unflushed_writes |= wrote;
            let silent = state.drop_reply();
            match action {
                None => {}
                Some(Action::Sleep(d)) => {
                    write(shared, &handle, stream, &mut output, &mut unflushed_writes).await?;
                    tokio::time::sleep(d).await;
                }
                Some(Action::Close) => {
                    if !silent {
                        reply.encode(state.protocol, &mut output);
                    }
                    after_reply(shared, state, &mut output);
                    // Gone before the client reads its last reply, as Redis
                    // frees it: a tracking client redirecting to this one
                    // must learn at once that its redirect is broken.
                    shared.clients.unregister(handle.id);
                    write(shared, &handle, stream, &mut output, &mut unflushed_writes).await?;
                    return Ok(None);
                }
                Some(Action::TakeOver(take_over)) => {
                    if !silent {
                        reply.encode(state.protocol, &mut output);
                    }
                    write(shared, &handle, stream, &mut output, &mut unflushed_writes).await?;
                    return Ok(Some((take_over, input.split())));
                }
                Some(Action::Shutdown) => {
                    write(shared, &handle, stream, &mut output, &mut unflushed_writes).await?;
                    shared.request_shutdown();
                    return Ok(None);
                }
                Some(Action::Await(wait)) => {
                    write(shared, &handle, stream, &mut output, &mut unflushed_writes).await?;
                    handle.blocked.store(true, Relaxed);
                    let mut waiting = wait.0;
                    // Input that arrives meanwhile stays buffered for after
                    // the wait, as in Redis; a client that leaves ends it.
                    let reply = loop {
                        tokio::select! {
                            reply = &mut waiting => break Some(reply),
                            _ = handle.killed() => break None,
                            _ = shutdown.changed() => break None,
                            read = stream.read_buf(&mut input) => match read {
                                Ok(n) if n > 0 => continue,
                                _ => break None,
                            },
                        }
                    };
                    handle.blocked.store(false, Relaxed);
                    match reply {
                        Some(reply) => {
                            if !silent {
                                reply.encode(state.protocol, &mut output);
                            }
                            after_reply(shared, state, &mut output);
                            continue;
                        }
                        None => return Ok(None),
                    }
                }
                Some(Action::Block(block)) => {
                    write(shared, &handle, stream, &mut output, &mut unflushed_writes).await?;
                    match wait_blocked(shared, stream, &mut input, state, block).await {
                        Some(reply) => {
                            // A writer popped for us: its WAL record must
                            // reach the file before we acknowledge it.
                            unflushed_writes = true;
                            if !silent {
                                reply.encode(state.protocol, &mut output);
                            }
                            after_reply(shared, state, &mut output);
                            continue;
                        }
                        None => return Ok(None),
                    }
                }
            }
            // Messages published meanwhile (possibly by this very command)
            // go first, as Redis writes them to the client when published.
            drain_pushes(state, &mut output);
            if !silent {
                reply.encode(state.protocol, &mut output);
            }
            after_reply(shared, state, &mut output);
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
            return Ok(None);
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
        let n = tokio::select! {
            r = stream.read_buf(&mut input) => r?,
            _ = handle.pushes_ready() => continue,
            _ = handle.killed() => return Ok(None),
            _ = shutdown.changed() => return Ok(None),
            _ = idle => return Ok(None),
        };
        if n == 0 {
            return Ok(None);
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
    block: BlockRequest,
) -> Option<Reply> {
    use basalt_core::blocking::Unblock;
    // Queued by the command before its first attempt; unqueued when
    // dropped, at the end of the wait.
    let mut registered = block.registered;
    let waiter = registered.waiter.clone();
    let mut served = registered.served.take().expect("a wait per request");
    // A push may have landed while the first attempt held the waiter; and
    // a client that queued behind older waiters without trying (see
    // `first_attempt_or_block`) makes its first attempt in its turn.
    shared.blocking.serve(shared, waiter.keys.iter().cloned());
    let deadline = block.timeout.map(|t| tokio::time::Instant::now() + t);
    let mut shutdown = shared.shutdown_signal();
    let handle = state.handle.clone();
    // A RESP3 client may be subscribed, or tracking keys, while it blocks:
    // keep its pushes flowing meanwhile.
    handle.blocked.store(true, Relaxed);
    let result = loop {
        let timeout = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(d).await,
                None => std::future::pending().await,
            }
        };
        let given_up = tokio::select! {
            // The reply first: a push queued with it (an invalidation of a
            // key the served command wrote) must follow it.
            biased;
            reply = &mut served => break reply.ok(),
            _ = timeout => Some(block.timeout_reply.clone()),
            _ = waiter.unblocked.notified() => Some(match waiter.unblock_reason() {
                Some(Unblock::Error) => Reply::Error("UNBLOCKED client unblocked via CLIENT UNBLOCK".into()),
                _ => block.timeout_reply.clone(),
            }),
            _ = handle.killed() => None,
            _ = shutdown.changed() => None,
            _ = handle.pushes_ready() => {
                let mut out = BytesMut::new();
                handle.drain_pushes(&mut out, FLUSH_THRESHOLD);
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
            if let Some(reply) = &given_up {
                basalt_core::dispatch::blocked_ended(shared, &handle, waiter.args(), reply);
            }
            break given_up;
        }
        // A writer claimed us first: its reply is on the way.
        let reply = (&mut served).await.ok();
        break if given_up.is_some() { reply } else { None };
    };
    shared.blocking.unregister(&waiter);
    handle.blocked.store(false, Relaxed);
    result
}

/// Moves queued pushes (pub/sub messages, invalidations) into the output,
/// a bounded amount at a time so a flood of messages cannot grow the
/// output without limit.
fn drain_pushes(state: &ClientState, output: &mut BytesMut) {
    state.handle.drain_pushes(output, FLUSH_THRESHOLD);
}

/// After a command's reply: the invalidations of keys the command changed
/// that this client tracks itself, which Redis sends after the reply.
fn after_reply(shared: &Shared, state: &ClientState, output: &mut BytesMut) {
    shared.tracking.flush_pending(shared, &state.handle);
    drain_pushes(state, output);
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
        let flushed = shared
            .wal
            .flush_own_writes(|| shared.data().storage.flush_wal_buffer())
            .await;
        if let Err(e) = flushed {
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
