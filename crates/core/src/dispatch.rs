//! The dispatcher: runs one command for one session. Every request, from
//! a socket, from EXEC's queue, from a script's `redis.call` or from a
//! served blocked client, comes through `execute`, so every rule that
//! applies to a command is applied once, here, in this order:
//!
//! 0. while the dataset is being replaced (a replica's full sync),
//!    commands without the `loading` flag answer LOADING at once;
//! 1. lookup: the command, its arity and its subcommand;
//! 2. gates, each named, each free to refuse: auth, ACL (`crate::acl`),
//!    pub/sub mode, MULTI (which may queue instead of run), busy script,
//!    with the slots for the layers that plug in from outside: the
//!    cluster router before MULTI queues a command (as Redis redirects
//!    before queueing), the replica role after (`Gates`, both empty on a
//!    single node);
//! 3. the run: WATCH invalidation, client-side caching (keys read are
//!    remembered before, keys written invalidated after), keyspace-miss
//!    events, offloading of long commands, statistics, slowlog, serving
//!    blocked clients.
//!
//! It returns an `Outcome`: the reply, what the connection must do next
//! (close, sleep, block, shut down) and whether data may have been written.

use crate::blocking::{Announced, BlockingRegistry, Retry, RetryResult};
use crate::clients::ClientHandle;
use crate::command::{arity_matches, flags, Command, CommandTable};
use crate::context::{Action, ClientState, Ctx};
use crate::error::CommandError;
use crate::shared::Shared;
use crate::stats::Failure;
use basalt_resp::{Protocol, Reply};
use bytes::Bytes;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Instant;

/// One command, found in the table, with its arguments.
pub struct Call<'a> {
    /// Index in the table: keys the per-command statistics.
    pub index: usize,
    pub command: &'static Command,
    /// 0 = none, else 1 + the index in `command.subcommands`.
    pub sub: usize,
    pub args: &'a [Bytes],
}

impl Call<'_> {
    /// The flags of what runs: the subcommand's when there is one (CLIENT
    /// LIST is admin, CLIENT ID is not).
    pub fn flags(&self) -> u32 {
        match self.sub {
            0 => self.command.flags,
            i => self.command.subcommands[i - 1].flags,
        }
    }

    /// `name` or `name|sub`, as Redis names a command in errors and ACL.
    pub fn full_name(&self) -> String {
        match self.sub {
            0 => self.command.name.to_string(),
            i => format!(
                "{}|{}",
                self.command.name,
                self.command.subcommands[i - 1].name
            ),
        }
    }
}

/// What running one command produced.
#[derive(Debug)]
pub struct Outcome {
    pub reply: Reply,
    /// What the connection loop must do after queueing the reply.
    pub action: Option<Action>,
    /// The command may have written data: its reply must not leave before
    /// the WAL record does.
    pub wrote: bool,
}

impl Outcome {
    fn reply(reply: Reply) -> Outcome {
        Outcome {
            reply,
            action: None,
            wrote: false,
        }
    }
}

/// A check a layer outside the core makes before a command runs: the
/// replica's role (read-only, LOADING) and the cluster router (MOVED, ASK,
/// CROSSSLOT). An `Err` is the client's reply.
pub trait Gate: Send + Sync {
    fn check(
        &self,
        shared: &Shared,
        client: &ClientState,
        call: &Call<'_>,
    ) -> Result<(), CommandError>;

    /// What refuses a command already when MULTI queues it, dooming the
    /// transaction (EXECABORT), as Redis's `rejectCommand` does (a write
    /// on a read-only replica). Everything else is checked when EXEC runs
    /// the command.
    fn check_queued(
        &self,
        _shared: &Shared,
        _client: &ClientState,
        _call: &Call<'_>,
    ) -> Result<(), CommandError> {
        Ok(())
    }
}

/// The slots for the gates that plug in from outside, in the order they
/// run. Empty on a single node.
#[derive(Default)]
pub struct Gates {
    pub role: Option<Box<dyn Gate>>,
    pub router: Option<Box<dyn Gate>>,
}

impl Gates {
    fn check(
        &self,
        shared: &Shared,
        client: &ClientState,
        call: &Call<'_>,
    ) -> Result<(), CommandError> {
        match &self.role {
            Some(gate) => gate.check(shared, client, call),
            None => Ok(()),
        }
    }
}

/// The cluster router, before MULTI queues a command (as Redis redirects
/// first): a command it refuses dooms the transaction, and EXEC refused
/// (its queued commands cross slots or are not served here) discards it.
fn router_gate(
    shared: &Shared,
    state: &mut ClientState,
    call: &Call<'_>,
) -> Result<(), CommandError> {
    let Some(router) = &shared.gates.router else {
        return Ok(());
    };
    let Err(err) = router.check(shared, state, call) else {
        return Ok(());
    };
    if call.command.has(flags::TXN_CONTROL) && call.command.name == "exec" {
        if state.multi.take().is_some() {
            state.handle.multi.store(-1, Relaxed);
            if let Some(watch) = state.watch.take() {
                shared.watches.unwatch(&watch);
            }
        }
    } else if let Some(multi) = &mut state.multi {
        multi.aborted = true;
    }
    Err(err)
}

/// Looks up, checks and runs one command; see the module comment.
pub fn execute(shared: &Arc<Shared>, state: &mut ClientState, args: Vec<Bytes>) -> Outcome {
    if args.is_empty() {
        return Outcome::reply(Reply::Null);
    }
    // While the dataset is replaced, a command that may not see it loading
    // is answered now instead of waiting for the replacement to finish.
    // Not inside EXEC or a script: they hold the dataset already, and the
    // replacement waits for them to end.
    if shared.dataset.is_loading() && !basalt_engine::in_txn() {
        if let Ok(call) = lookup(shared.commands, &args) {
            if !call.command.has(flags::LOADING) {
                return refuse(shared, CommandError::Loading);
            }
        }
    }
    // Held for the whole command, so the dataset cannot be replaced under it.
    let _access = shared.dataset.access();
    let call = match lookup(shared.commands, &args).and_then(|call| {
        auth_gate(shared, state, &call)?;
        // Before MULTI queues it: a refused command dooms the transaction
        // (EXECABORT), as in Redis; EXEC and scripts check again.
        crate::acl::check(shared, state, &call)?;
        Ok(call)
    }) {
        Ok(call) => call,
        Err(err) => {
            // A command that cannot even be queued dooms the transaction.
            if let Some(multi) = &mut state.multi {
                multi.aborted = true;
            }
            return refuse(shared, err);
        }
    };
    if let Err(err) = pubsub_gate(state, &call) {
        return refuse(shared, err);
    }
    if let Err(err) = router_gate(shared, state, &call) {
        return refuse(shared, err);
    }
    if state.multi.is_some() && !call.command.has(flags::TXN_CONTROL) {
        if let Some(Err(err)) = shared
            .gates
            .role
            .as_ref()
            .map(|g| g.check_queued(shared, state, &call))
        {
            if let Some(multi) = &mut state.multi {
                multi.aborted = true;
            }
            return refuse(shared, err);
        }
    }
    match multi_gate(state, &call) {
        MultiGate::Run => {}
        MultiGate::Queued(reply) => return Outcome::reply(reply),
        MultiGate::Refused(err) => return Outcome::reply(err.to_reply()),
    }
    if let Err(err) = busy_script_gate(shared, state, &call) {
        return refuse(shared, err);
    }
    if let Err(err) = shared.gates.check(shared, state, &call) {
        return refuse(shared, err);
    }
    run(shared, state, &call)
}

fn refuse(shared: &Shared, err: CommandError) -> Outcome {
    let reply = err.to_reply();
    if let Reply::Error(text) = &reply {
        shared.stats.record_error(text);
    }
    Outcome::reply(reply)
}

/// How `result`, answered as `reply`, counts in the error statistics.
fn failure<'a, T>(result: &Result<T, CommandError>, reply: Option<&'a Reply>) -> Failure<'a> {
    match (result, reply) {
        (Ok(_), _) => Failure::None,
        (Err(CommandError::Counted(_)), _) => Failure::Counted,
        (Err(_), Some(Reply::Error(text))) => Failure::Error(text),
        (Err(_), _) => Failure::Counted,
    }
}

/// Finds the command and checks its arity and subcommand, from the table,
/// so handlers need not repeat arity checks or "unknown subcommand" errors.
pub fn lookup<'a>(table: &CommandTable, args: &'a [Bytes]) -> Result<Call<'a>, CommandError> {
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
    let mut sub = 0;
    if !command.subcommands.is_empty() && args.len() >= 2 {
        let Some(i) = command.find_subcommand(&args[1]) else {
            return Err(CommandError::UnknownSubcommand {
                sub: String::from_utf8_lossy(&args[1]).into_owned(),
                command: command.name,
            });
        };
        let s = &command.subcommands[i];
        if !arity_matches(s.arity, args.len()) {
            return Err(CommandError::WrongArity(format!(
                "{}|{}",
                command.name, s.name
            )));
        }
        sub = i + 1;
    }
    Ok(Call {
        index,
        command,
        sub,
        args,
    })
}

fn auth_gate(shared: &Shared, state: &ClientState, call: &Call<'_>) -> Result<(), CommandError> {
    if !call.command.has(flags::NO_AUTH) && state.auth_required(shared) {
        return Err(CommandError::NoAuth);
    }
    Ok(())
}

/// A RESP2 connection with subscriptions may only (un)subscribe, PING,
/// QUIT and RESET; RESP3 interleaves pushes with replies instead.
fn pubsub_gate(state: &ClientState, call: &Call<'_>) -> Result<(), CommandError> {
    if state.protocol == Protocol::Resp2
        && state.subscriptions.active()
        && !call.command.has(flags::SUBSCRIBED_OK)
    {
        return Err(CommandError::Subscribed(call.full_name()));
    }
    Ok(())
}

enum MultiGate {
    Run,
    Queued(Reply),
    Refused(CommandError),
}

/// Inside MULTI, everything but the transaction's own commands is queued.
fn multi_gate(state: &mut ClientState, call: &Call<'_>) -> MultiGate {
    let Some(multi) = &mut state.multi else {
        return MultiGate::Run;
    };
    if call.command.has(flags::TXN_CONTROL) {
        return MultiGate::Run;
    }
    if call.command.has(flags::NO_MULTI) {
        multi.aborted = true;
        return MultiGate::Refused(CommandError::other(
            "ERR Command not allowed inside a transaction",
        ));
    }
    multi.queued.push(call.args.to_vec());
    state.handle.multi.store(multi.queued.len() as i64, Relaxed);
    MultiGate::Queued(Reply::Simple("QUEUED".into()))
}

fn busy_script_gate(
    shared: &Shared,
    state: &ClientState,
    call: &Call<'_>,
) -> Result<(), CommandError> {
    match crate::scripting::busy_error(shared, state.handle.id, call.command, call.args) {
        Some(err) => Err(err),
        None => Ok(()),
    }
}

/// Runs a command that passed every gate. Inside a transaction (EXEC or a
/// script) blocking commands answer as if they timed out, and blocked
/// clients are served only after the transaction commits.
fn run(shared: &Arc<Shared>, state: &mut ClientState, call: &Call<'_>) -> Outcome {
    let (command, args) = (call.command, call.args);
    let data = shared.data();
    let storage = &data.storage;
    let nested = basalt_engine::in_txn();
    // The client's current command stays EXEC or EVAL while they run the
    // commands inside them, as CLIENT LIST shows it in Redis.
    if !nested {
        state.handle.touch(call.index, call.sub);
    }
    let started = Instant::now();
    crate::notify::key_misses(shared, command, args);
    let wrote = command.has(flags::WRITE);
    // EXEC, scripts and PUBLISH may write or not (through the commands
    // they run): whether the database moved on tells. Another client's
    // write can move it too, which only costs an unneeded WAL flush.
    let sequence_before = (!nested && may_write(call)).then(|| storage.latest_sequence_number());
    // Inside EXEC or a script, a key the transaction did not declare is
    // locked now; if another transaction keeps it, the command is refused
    // rather than run without its lock, which would break the atomicity
    // the transaction promised.
    if nested
        && !storage
            .locks()
            .lock_in_txn_or_refuse(&command.keys_of(args))
    {
        return refuse(shared, CommandError::UndeclaredKeyBusy);
    }
    // While a replica that raises notifications streams from this node,
    // the events a write raises travel in its batch (`crate::notify`):
    // collected while it runs, and attached when its transaction commits
    // (EXEC's and a script's own, or the one below).
    let for_replicas = !nested
        && (wrote || sequence_before.is_some())
        && shared.notify.for_replicas()
        && !storage.is_fenced();
    let _events =
        for_replicas.then(|| basalt_engine::log_data::collecting(crate::command_log::EVENTS));
    // While anyone WATCHes, a write runs as a small transaction so that it
    // invalidates the watchers in the same instant it becomes visible,
    // under its keys' locks, which EXEC checks its watches under. While
    // events are collected for replicas too: the batch is written once the
    // command has raised them, still under its keys' locks.
    let watch_guard = (wrote && !nested && (shared.watches.active() || for_replicas))
        .then(|| storage.begin_txn(&command.keys_of(args)));
    // Emptying the database is judged before it happens (see
    // `invalidate_watches`); other writes by the keys they really changed.
    if wrote && command.has(flags::ALL_KEYS) {
        invalidate_watches(shared, command, args, None);
    }
    let record_writes = wrote
        && !command.has(flags::ALL_KEYS)
        && (shared.watches.active() || shared.tracking.active());
    let new_keys = if wrote && shared.notify.wants(crate::notify::NEW) {
        let keys = command.keys_of(args);
        crate::notify::NewKeys::watch(shared, keys.iter(), args)
    } else {
        None
    };
    if shared.tracking.active() {
        remember_reads(shared, state, command, args);
    }
    // Scripts show themselves before the commands they call.
    let monitored = shared.monitors.active() && call.flags() & flags::ADMIN == 0;
    if monitored && command.has(flags::SKIP_MONITOR) {
        feed_monitors(shared, state, args);
    }
    // Clients blocked on what this write touches are served once it is
    // visible; until then a newcomer must not take what it leaves for them.
    let announced = (wrote && shared.blocking.has_waiters())
        .then(|| BlockingRegistry::announce(shared, waited_keys_of(shared, command, args)));
    let mut ctx = Ctx {
        shared,
        data: &data,
        client: state,
        action: None,
        nested,
    };
    let (mut result, written) = if record_writes {
        let (result, written) =
            basalt_engine::written::recording(|| call_handler(shared, &mut ctx, command, args));
        // Keys named as written but not changed are left alone, unless a
        // write named no key (a range delete): then all the named ones.
        let keys = (!written.unknown).then(|| written.keys.into_iter().map(Bytes::from).collect());
        (result, keys)
    } else {
        (call_handler(shared, &mut ctx, command, args), None)
    };
    if wrote && !command.has(flags::ALL_KEYS) {
        invalidate_watches(shared, command, args, written.clone());
    }
    let mut action = ctx.action;
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
        None if wrote && !nested => invalidate_watches(shared, command, args, written.clone()),
        None => {}
    }
    if shared.tracking.active() {
        invalidate_tracked(
            shared,
            state,
            command,
            args,
            written,
            result.is_ok(),
            nested,
        );
    }
    // CLIENT CACHING covers one command, or one whole transaction.
    if !nested && !command.has(flags::TRACKING_CONTROL) && state.multi.is_none() {
        shared.tracking.end_caching(&state.handle);
    }
    if monitored && !command.has(flags::SKIP_MONITOR) {
        feed_monitors(shared, state, args);
    }
    let usec = started.elapsed().as_micros() as u64;
    let error_reply = result.as_ref().err().map(CommandError::to_reply);
    // A command that blocks is counted when it ends (served, timed out or
    // unblocked), once, as Redis counts it.
    let blocks = !nested && matches!(action, Some(Action::Block(_)));
    if !blocks {
        record(
            shared,
            &state.handle,
            call.index,
            call.args,
            usec,
            failure(&result, error_reply.as_ref()),
        );
    }
    // Or for clients that began to wait while the write ran.
    let announced = announced.or_else(|| {
        (wrote && shared.blocking.has_waiters())
            .then(|| BlockingRegistry::announce(shared, waited_keys_of(shared, command, args)))
    });
    if let Some(announced) = announced {
        serve_waiters(shared, announced);
    }
    let mut reply = match (result, error_reply) {
        (Ok(reply), _) | (Err(_), Some(reply)) => reply,
        (Err(e), None) => e.to_reply(),
    };
    if nested {
        if let Some(Action::Block(block)) = action.take() {
            reply = block.timeout_reply;
        }
    }
    let wrote =
        wrote || sequence_before.is_some_and(|before| storage.latest_sequence_number() > before);
    // What WAIT waits for: the latest sequence, which covers this
    // command's own write (and perhaps others', which only waits longer).
    if wrote && !nested {
        state.last_write_seq = storage.latest_sequence_number();
    }
    Outcome {
        reply,
        action,
        wrote,
    }
}

/// Whether a command may write, so that the sequence it leaves counts as
/// its client's last write (what WAIT waits for): a WRITE command, EXEC,
/// scripts and PUBLISH (`MAY_REPLICATE`), a container's writing
/// subcommand (FUNCTION LOAD/DELETE/FLUSH/RESTORE), and SCRIPT LOAD/FLUSH
/// (`STORES_SCRIPTS`).
fn may_write(call: &Call<'_>) -> bool {
    call.command.has(flags::MAY_REPLICATE)
        || call.flags() & (flags::WRITE | flags::MAY_REPLICATE | flags::STORES_SCRIPTS) != 0
}

/// MONITOR: the command as it ran, from its client or, inside a script,
/// from `lua`.
fn feed_monitors(shared: &Shared, state: &ClientState, args: &[Bytes]) {
    let source = if crate::monitor::in_script() {
        crate::monitor::Source::Script
    } else {
        crate::monitor::Source::Client(&state.handle)
    };
    let limit = shared.config.read().client_output_buffer_limit.replica;
    shared.monitors.feed(source, args, limit);
}

/// Client-side caching: a tracking client's read-only command has its keys
/// remembered before it reads them (see `crate::tracking`). A read-only
/// script's own keys are not, as in Redis: the commands it runs are.
fn remember_reads(shared: &Shared, state: &ClientState, command: &Command, args: &[Bytes]) {
    if command.has(flags::READONLY) && !command.has(flags::PUBSUB) && command.group != "scripting" {
        let keys = command.keys_of(args);
        shared.tracking.remember(shared, &state.handle, &keys);
    }
}

/// Client-side caching: the keys a command wrote are invalidated once the
/// write is visible. Inside a transaction or script they are gathered and
/// sent when the outer command ends, after its commit, in one batch (one
/// BCAST message per prefix for a whole EXEC, as Redis sends them once per
/// event loop). A command that failed wrote nothing.
#[allow(clippy::too_many_arguments)]
fn invalidate_tracked(
    shared: &Shared,
    state: &ClientState,
    command: &Command,
    args: &[Bytes],
    written: Option<Vec<Bytes>>,
    ok: bool,
    nested: bool,
) {
    let me = Some(state.handle.id);
    if ok && command.has(flags::ALL_KEYS) {
        shared.tracking.invalidate_all(shared, me);
    }
    let written = if ok {
        written.unwrap_or_else(|| command.written_keys(args))
    } else {
        Vec::new()
    };
    if nested {
        crate::tracking::note_written(written);
        return;
    }
    let mut keys = crate::tracking::take_written();
    keys.extend(written);
    shared.tracking.invalidate(shared, &keys, me);
}

/// Statistics and slowlog for one run of a command.
fn record(
    shared: &Shared,
    client: &ClientHandle,
    index: usize,
    args: &[Bytes],
    usec: u64,
    failure: Failure<'_>,
) {
    shared.stats.record_command(index, usec, failure);
    let threshold = shared.slowlog_slower_than.load(Relaxed);
    let logged = !shared.commands.all()[index].has(flags::SKIP_SLOWLOG);
    if logged && threshold >= 0 && usec >= threshold as u64 {
        let max_len = shared.config.read().slowlog_max_len;
        let name = client.name.lock().clone().unwrap_or_default();
        shared
            .slowlog
            .record(args, usec, client.addr, name, max_len);
    }
}

/// Runs a blocked client's command again, for the writer whose write may
/// have unblocked it. It is the same command as any other to everything
/// but the socket: what it writes (BLMOVE's destination) invalidates
/// WATCH in the instant it becomes visible, and once it is served it is
/// counted in the statistics and the slowlog under the blocked client.
/// `Ok(None)`: still nothing for it.
pub fn retry_blocked(
    shared: &Arc<Shared>,
    client: &ClientHandle,
    args: &[Bytes],
    retry: Retry,
) -> RetryResult {
    // Also called from a connection that has just blocked, outside any
    // command: the dataset must not be replaced under the retry.
    let _access = shared.dataset.access();
    let retry = |shared: &Arc<Shared>, args: &[Bytes]| {
        crate::blocking::as_served(client, || retry(shared, args))
    };
    let Some((index, command)) = shared.commands.lookup(&args[0]) else {
        return retry(shared, args);
    };
    if let Err(err) = crate::acl::check_served(shared, client, index, args) {
        if let Reply::Error(text) = err.to_reply() {
            shared.stats.record_error(&text);
        }
        return Err(err);
    }
    let started = Instant::now();
    let data = shared.data();
    let nested = basalt_engine::in_txn();
    let watched = shared.watches.active() && !nested;
    // As `run` does: its events travel in its batch.
    let for_replicas = command.has(flags::WRITE)
        && !nested
        && shared.notify.for_replicas()
        && !data.storage.is_fenced();
    let _events =
        for_replicas.then(|| basalt_engine::log_data::collecting(crate::command_log::EVENTS));
    let txn = (watched || for_replicas).then(|| data.storage.begin_txn(&command.keys_of(args)));
    let mut result = retry(shared, args);
    if watched && matches!(result, Ok(Some(_))) {
        let s = shared.clone();
        let keys = command.keys_of(args);
        data.storage.on_commit(move || s.watches.touch(&keys));
    }
    if let Some(txn) = txn {
        if let Err(e) = txn.commit() {
            result = Err(basalt_types::Error::from(e).into());
        }
    }
    // The served command ran on the blocked client's behalf: its own
    // invalidations follow its reply, and NOLOOP spares it, as in Redis.
    if matches!(result, Ok(Some(_))) && shared.tracking.active() {
        let keys = command.written_keys(args);
        shared.tracking.invalidate(shared, &keys, Some(client.id));
    }
    if !matches!(result, Ok(None)) {
        let usec = started.elapsed().as_micros() as u64;
        let error_reply = result.as_ref().err().map(CommandError::to_reply);
        record(
            shared,
            client,
            index,
            args,
            usec,
            failure(&result, error_reply.as_ref()),
        );
    }
    result
}

/// A blocked command that ended without being served (timeout, CLIENT
/// UNBLOCK) is counted then, with the reply it ended with.
pub fn blocked_ended(shared: &Shared, client: &ClientHandle, args: &[Bytes], reply: &Reply) {
    if let Some((index, _)) = shared.commands.lookup(&args[0]) {
        let failure = match reply {
            Reply::Error(text) => Failure::Error(text),
            _ => Failure::None,
        };
        record(shared, client, index, args, 0, failure);
    }
}

/// Marks the watchers of the command's keys when its write becomes
/// visible: at the commit of the enclosing transaction, which still holds
/// the keys' locks then (see `run`).
fn invalidate_watches(
    shared: &Arc<Shared>,
    command: &Command,
    args: &[Bytes],
    written: Option<Vec<Bytes>>,
) {
    if !shared.watches.active() {
        return;
    }
    let keys = if let Some(keys) = written {
        keys
    } else if command.has(flags::ALL_KEYS) {
        // Called before the command runs: as in Redis 7, emptying the
        // database changes only the watched keys that exist now.
        let data = shared.data();
        shared
            .watches
            .watched_keys()
            .into_iter()
            .filter(|k| data.db.exists(&[k.as_ref()]).is_ok_and(|n| n > 0))
            .collect()
    } else {
        command.keys_of(args)
    };
    let s = shared.clone();
    shared
        .data()
        .storage
        .on_commit(move || s.watches.touch(&keys));
}

/// The command's handler, counting the keys a read-only one looks up.
fn call_handler(
    shared: &Shared,
    ctx: &mut Ctx<'_>,
    command: &Command,
    args: &[Bytes],
) -> crate::error::CommandResult {
    if crate::offload::is_long(shared, command, args) {
        // Another thread takes this worker's other connections meanwhile.
        tokio::task::block_in_place(|| (command.handler)(ctx, args))
    } else if command.has(flags::READONLY) {
        let (result, hits, misses) =
            basalt_types::lookups::count_lookups(|| (command.handler)(ctx, args));
        if hits > 0 {
            shared.stats.keyspace_hits.fetch_add(hits, Relaxed);
        }
        if misses > 0 {
            shared.stats.keyspace_misses.fetch_add(misses, Relaxed);
        }
        result
    } else {
        (command.handler)(ctx, args)
    }
}

/// The keys a write may change for blocked clients. FLUSHALL changes
/// every key: each waiter retries (a blocked XREADGROUP then learns its
/// stream is gone).
fn waited_keys_of(shared: &Shared, command: &Command, args: &[Bytes]) -> Vec<Bytes> {
    if command.has(flags::ALL_KEYS) {
        shared.blocking.waited_keys()
    } else {
        command.keys_of(args)
    }
}

/// Serves clients blocked on the written keys once the write is visible:
/// at once, or when the enclosing transaction commits.
fn serve_waiters(shared: &Arc<Shared>, write: Announced) {
    let s = shared.clone();
    shared
        .data()
        .storage
        .after_commit(move || s.blocking.serve_announced(&s, write));
}
