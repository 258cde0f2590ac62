//! EVAL EVALSHA EVAL_RO EVALSHA_RO SCRIPT FUNCTION FCALL FCALL_RO.
//!
//! A script runs on the connection's worker thread, inside
//! `block_in_place` (so the worker's other connections move to other
//! threads meanwhile) and inside one engine transaction holding the locks
//! of the keys it declared: its writes commit as one batch, even when it
//! fails halfway (Redis does not roll back either).

use super::flags::*;
use super::key_finder::NUMKEYS_AT_2;
use super::key_flags::*;
use super::{Command, SubCommand};
use crate::context::{Action, ClientState, Ctx};
use crate::error::{CommandError, CommandResult};
use crate::shared::Shared;
use basalt_core::dispatch::execute;
use basalt_core::scripting::{with_vm, KillOutcome, Library, Running, Script};
use basalt_resp::{Protocol, Reply};
use basalt_scripting::{sha1_hex, CommandCaller, RunReply, RunTarget, ScriptFlags};
use bytes::Bytes;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

const fn script_cmd(
    name: &'static str,
    arity: i32,
    flags: u32,
    handler: super::Handler,
) -> Command {
    Command::new(name, arity, flags, handler)
        .group("scripting")
        .since("7.0.0")
}

const fn sub(name: &'static str, arity: i32, flags: u32, summary: &'static str) -> SubCommand {
    SubCommand::new(name, arity, flags, summary)
}

pub static COMMANDS: &[Command] = &[
    script_cmd(
        "eval",
        -3,
        NOSCRIPT | STALE | SKIP_MONITOR | NO_MANDATORY_KEYS | MAY_REPLICATE,
        eval,
    )
    .syntax("script numkeys:integer [key [key ...]] [arg [arg ...]]")
    .movable(NUMKEYS_AT_2)
    .key_flags(&[RW | ACCESS | UPDATE])
    .since("2.6.0")
    .summary("Executes a server-side Lua script."),
    script_cmd(
        "evalsha",
        -3,
        NOSCRIPT | STALE | SKIP_MONITOR | NO_MANDATORY_KEYS | MAY_REPLICATE,
        evalsha,
    )
    .syntax("sha1 numkeys:integer [key [key ...]] [arg [arg ...]]")
    .movable(NUMKEYS_AT_2)
    .key_flags(&[RW | ACCESS | UPDATE])
    .since("2.6.0")
    .summary("Executes a server-side Lua script by SHA1 digest."),
    script_cmd(
        "eval_ro",
        -3,
        NOSCRIPT | STALE | SKIP_MONITOR | NO_MANDATORY_KEYS | READONLY,
        eval_ro,
    )
    .syntax("script numkeys:integer [key [key ...]] [arg [arg ...]]")
    .movable(NUMKEYS_AT_2)
    .summary("Executes a read-only server-side Lua script."),
    script_cmd(
        "evalsha_ro",
        -3,
        NOSCRIPT | STALE | SKIP_MONITOR | NO_MANDATORY_KEYS | READONLY,
        evalsha_ro,
    )
    .syntax("sha1 numkeys:integer [key [key ...]] [arg [arg ...]]")
    .movable(NUMKEYS_AT_2)
    .summary("Executes a read-only server-side Lua script by SHA1 digest."),
    script_cmd(
        "fcall",
        -3,
        NOSCRIPT | STALE | SKIP_MONITOR | NO_MANDATORY_KEYS | MAY_REPLICATE,
        fcall,
    )
    .syntax("function numkeys:integer [key [key ...]] [arg [arg ...]]")
    .movable(NUMKEYS_AT_2)
    .key_flags(&[RW | ACCESS | UPDATE])
    .summary("Invokes a function."),
    script_cmd(
        "fcall_ro",
        -3,
        NOSCRIPT | STALE | SKIP_MONITOR | NO_MANDATORY_KEYS | READONLY,
        fcall_ro,
    )
    .syntax("function numkeys:integer [key [key ...]] [arg [arg ...]]")
    .movable(NUMKEYS_AT_2)
    .summary("Invokes a read-only function."),
    script_cmd("script", -2, 0, script)
        .since("2.6.0")
        .summary("A container for Lua scripts management commands.")
        .subcommands(&[
            sub(
                "load",
                3,
                NOSCRIPT | STALE | STORES_SCRIPTS,
                "Loads a server-side Lua script to the script cache.",
            )
            .syntax("script"),
            sub(
                "exists",
                -3,
                NOSCRIPT,
                "Determines whether server-side Lua scripts exist in the script cache.",
            )
            .syntax("sha1 [sha1 ...]"),
            sub(
                "flush",
                -2,
                NOSCRIPT | STORES_SCRIPTS,
                "Removes all server-side Lua scripts from the script cache.",
            )
            .syntax("[flush-type: ASYNC | SYNC]"),
            sub(
                "kill",
                2,
                NOSCRIPT | ALLOW_BUSY,
                "Terminates a server-side Lua script during execution.",
            ),
            sub(
                "help",
                2,
                LOADING | STALE,
                "Returns helpful text about the different subcommands.",
            )
            .since("5.0.0"),
        ]),
    script_cmd("function", -2, 0, function)
        .summary("A container for function commands.")
        .subcommands(&[
            sub("load", -3, NOSCRIPT | WRITE | DENYOOM, "Creates a library.")
                .syntax("[REPLACE] function-code"),
            sub(
                "list",
                -2,
                NOSCRIPT,
                "Returns information about all libraries.",
            )
            .syntax("[LIBRARYNAME library-name-pattern] [WITHCODE]"),
            sub(
                "delete",
                3,
                NOSCRIPT | WRITE,
                "Deletes a library and its functions.",
            )
            .syntax("library-name"),
            sub(
                "flush",
                -2,
                NOSCRIPT | WRITE,
                "Deletes all libraries and functions.",
            )
            .syntax("[flush-type: ASYNC | SYNC]"),
            sub(
                "dump",
                2,
                NOSCRIPT,
                "Dumps all libraries into a serialized binary payload.",
            ),
            sub(
                "restore",
                -3,
                NOSCRIPT | WRITE | DENYOOM,
                "Restores all libraries from a payload.",
            )
            .syntax("serialized-value [policy: FLUSH | APPEND | REPLACE]"),
            sub(
                "stats",
                2,
                NOSCRIPT | ALLOW_BUSY,
                "Returns information about a function during execution.",
            ),
            sub(
                "kill",
                2,
                NOSCRIPT | ALLOW_BUSY,
                "Terminates a function during execution.",
            ),
            sub(
                "help",
                2,
                LOADING | STALE,
                "Returns helpful text about the different subcommands.",
            ),
        ]),
];

fn err(text: impl Into<std::borrow::Cow<'static, str>>) -> CommandError {
    CommandError::other(text)
}

/// `numkeys` and the keys and arguments after it.
fn split_keys(args: &[Bytes]) -> Result<(Vec<Bytes>, Vec<Bytes>), CommandError> {
    let n: i64 = std::str::from_utf8(&args[2])
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or(CommandError::NotInteger)?;
    if n < 0 {
        return Err(err("ERR Number of keys can't be negative"));
    }
    let n = n as usize;
    if n > args.len() - 3 {
        return Err(err(
            "ERR Number of keys can't be greater than number of args",
        ));
    }
    Ok((args[3..3 + n].to_vec(), args[3 + n..].to_vec()))
}

fn eval(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    eval_generic(ctx, args, false, false)
}

fn evalsha(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    eval_generic(ctx, args, true, false)
}

fn eval_ro(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    eval_generic(ctx, args, false, true)
}

fn evalsha_ro(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    eval_generic(ctx, args, true, true)
}

/// Caches a script (memory, disk, this thread's VM) after checking that its
/// shebang is valid and it compiles.
fn load_script(shared: &Shared, body: &Bytes) -> Result<(String, Arc<Script>), CommandError> {
    let sha = sha1_hex(body);
    if let Some(script) = shared.scripting.script(&sha) {
        return Ok((sha, script));
    }
    let (flags, _) = basalt_scripting::shebang::parse_script(body).map_err(err)?;
    with_vm(&shared.scripting, |vm| vm.compile_script(&sha, body))
        .map_err(err)?
        .map_err(err)?;
    let script = Script {
        body: body.clone(),
        flags,
    };
    let script = shared
        .scripting
        .add_script(&shared.data().storage, &sha, script)
        .map_err(basalt_types::Error::from)?;
    Ok((sha, script))
}

fn eval_generic(ctx: &mut Ctx, args: &[Bytes], by_sha: bool, read_only: bool) -> CommandResult {
    let (keys, argv) = split_keys(args)?;
    let shared = ctx.shared.clone();
    let (sha, script) = if by_sha {
        let sha = String::from_utf8_lossy(&args[1]).to_ascii_lowercase();
        match shared.scripting.script(&sha) {
            Some(script) => (sha, script),
            None => return Err(err("NOSCRIPT No matching script. Please use EVAL.")),
        }
    } else {
        load_script(&shared, &args[1])?
    };
    let flags = script.flags;
    if flags.shebang {
        refuse_no_cluster(&shared, &flags)?;
    }
    if read_only && flags.shebang && !flags.no_writes {
        return Err(err(
            "ERR Can not execute a script with write flag using *_ro command.",
        ));
    }
    let spec = RunSpec {
        is_function: false,
        name: sha.clone(),
        keys,
        args: argv,
        no_writes: read_only || flags.no_writes,
        cross_slot: !flags.shebang || flags.allow_cross_slot_keys,
    };
    run(ctx, spec, |vm, keys, args, caller, watchdog, resp3| {
        if !vm.has_script(&sha) {
            if let Err(e) = vm.compile_script(&sha, &script.body) {
                return RunReply {
                    reply: Reply::error(e),
                    error_counted: false,
                };
            }
        }
        vm.run(RunTarget::Script(&sha), keys, args, caller, watchdog, resp3)
    })
}

fn fcall(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    fcall_generic(ctx, args, false)
}

fn fcall_ro(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    fcall_generic(ctx, args, true)
}

fn fcall_generic(ctx: &mut Ctx, args: &[Bytes], read_only: bool) -> CommandResult {
    // Function names are case-insensitive, as in Redis: run it under the
    // name it was registered with.
    let Some((_, info)) = ctx
        .shared
        .scripting
        .function(&String::from_utf8_lossy(&args[1]))
    else {
        return Err(err("ERR Function not found"));
    };
    let name = info.name.clone();
    // FCALL words a bad count its own way; EVAL uses the generic error.
    if std::str::from_utf8(&args[2])
        .ok()
        .and_then(|s| s.parse::<i64>().ok())
        .is_none()
    {
        return Err(err("ERR Bad number of keys provided"));
    }
    let (keys, argv) = split_keys(args)?;
    refuse_no_cluster(ctx.shared, &info.flags)?;
    if read_only && !info.flags.no_writes {
        return Err(err(
            "ERR Can not execute a script with write flag using *_ro command.",
        ));
    }
    let spec = RunSpec {
        is_function: true,
        name: name.clone(),
        keys,
        args: argv,
        no_writes: read_only || info.flags.no_writes,
        cross_slot: info.flags.allow_cross_slot_keys,
    };
    run(ctx, spec, |vm, keys, args, caller, watchdog, resp3| {
        vm.run(
            RunTarget::Function(&name),
            keys,
            args,
            caller,
            watchdog,
            resp3,
        )
    })
}

/// Redis checks the `no-cluster` flag before the others (a script without
/// a shebang has no flags to check).
fn refuse_no_cluster(shared: &Shared, flags: &ScriptFlags) -> Result<(), CommandError> {
    if flags.no_cluster && shared.config.read().cluster_enabled {
        return Err(err(
            "ERR Can not run script on cluster, 'no-cluster' flag is set.",
        ));
    }
    Ok(())
}

struct RunSpec {
    is_function: bool,
    name: String,
    keys: Vec<Bytes>,
    args: Vec<Bytes>,
    no_writes: bool,
    /// In cluster mode, the script's commands may touch keys of several
    /// slots (each served by this node).
    cross_slot: bool,
}

/// Registers the run (for BUSY and KILL), takes the declared keys' locks,
/// runs the script off the async worker, and commits what it wrote.
fn run(
    ctx: &mut Ctx,
    spec: RunSpec,
    f: impl FnOnce(
        &mut basalt_scripting::Vm,
        &[Bytes],
        &[Bytes],
        Box<dyn CommandCaller>,
        Box<dyn Fn() -> bool>,
        bool,
    ) -> RunReply,
) -> CommandResult {
    let shared = ctx.shared.clone();
    let running = shared.scripting.start(Running {
        client_id: ctx.client.handle.id,
        keys: spec.keys.clone(),
        is_function: spec.is_function,
        name: spec.name,
        args: spec.args.clone(),
        started: Instant::now(),
        busy: false.into(),
        kill: false.into(),
        wrote: false.into(),
    });
    let caller = Box::new(ScriptCaller {
        shared: shared.clone(),
        // The script's commands run as its caller's user.
        state: ClientState {
            handle: ctx.client.handle.clone(),
            protocol: Protocol::Resp2,
            authenticated: true,
            user: ctx.client.user.clone(),
            in_exec: false,
            subscriptions: Default::default(),
            multi: None,
            watch: None,
            reply_mode: Default::default(),
            reply_is_push: false,
            last_write_seq: 0,
            // A script reads from a replica when its caller may, as in
            // Redis's `scriptVerifyClusterState`.
            readonly: ctx.client.readonly,
        },
        running: running.clone(),
        no_writes: spec.no_writes,
        remembered_keys: false,
    });
    let limit_ms = shared.config.read().lua_time_limit;
    let (s, r) = (shared.clone(), running.clone());
    let name = running.name.clone();
    let inline = runs_inline(&name);
    let handoff = WorkerHandoff::new(inline);
    let client = ctx.client.handle.clone();
    let last_look = std::cell::Cell::new(Instant::now());
    let watchdog: Box<dyn Fn() -> bool> = Box::new(move || {
        handoff.check();
        // A script whose client has gone would run for nobody: stopped
        // unless it wrote (then, as SCRIPT KILL, it must finish for the
        // script's atomicity). Looked at a few times a second.
        if last_look.get().elapsed() >= CLIENT_LOOK_EVERY {
            last_look.set(Instant::now());
            if !r.wrote.load(std::sync::atomic::Ordering::Acquire) && client.peer_closed() {
                tracing::warn!(
                    "stopping a script of client {} (id {}): the client disconnected",
                    client.addr,
                    client.id
                );
                r.kill.store(true, std::sync::atomic::Ordering::Release);
            }
        }
        s.scripting.tick(&r, limit_ms)
    });
    let client_resp3 = ctx.client.protocol == Protocol::Resp3;
    let mut cpu = std::time::Duration::ZERO;
    let result = run_placed(inline, || {
        let data = shared.data();
        let txn = data.storage.begin_txn(&spec.keys);
        let reply = with_vm(&shared.scripting, |vm| {
            // Measured once the thread's VM exists: building one is slow,
            // and would make every script look long on a fresh thread.
            let started = thread_cpu_time();
            let _shown_as_lua = basalt_core::monitor::ScriptScope::enter();
            let _cluster_rules = basalt_cluster::ScriptScope::enter(&spec.keys, spec.cross_slot);
            let reply = f(vm, &spec.keys, &spec.args, caller, watchdog, client_resp3);
            cpu = thread_cpu_time().saturating_sub(started);
            reply
        });
        // Commit even after a script error: Redis keeps the writes made
        // before the error too.
        txn.commit().map(|_| reply)
    });
    remember_duration(name, cpu);
    shared.scripting.finish(&running);
    match result {
        // A script's error is the command's error, counted in the error
        // statistics under its code, except one a command the script ran
        // returned: that was counted when the command failed.
        Ok(Ok(RunReply {
            reply: Reply::Error(text),
            error_counted,
        })) => Err(if error_counted {
            CommandError::Counted(text)
        } else {
            CommandError::Other(text)
        }),
        Ok(Ok(run)) => Ok(run.reply),
        Ok(Err(e)) => Err(err(e)),
        Err(e) => Err(basalt_types::Error::from(e).into()),
    }
}

/// How often a running script checks that its client is still connected.
const CLIENT_LOOK_EVERY: std::time::Duration = std::time::Duration::from_millis(100);

/// A script whose last run took less CPU time than this runs on the worker
/// itself: handing the worker's connections to another thread costs more
/// than such a script (EVALSHA of a three-command script ran 5x slower, and
/// the blocking pool grew to hundreds of threads). CPU time rather than wall
/// time, which a loaded machine stretches until nothing counts as quick.
const QUICK_RUN: std::time::Duration = std::time::Duration::from_millis(2);

fn thread_cpu_time() -> std::time::Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec we own.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    std::time::Duration::new(
        ts.tv_sec.max(0) as u64,
        ts.tv_nsec.clamp(0, 999_999_999) as u32,
    )
}

/// Scripts and functions (by SHA or name) whose last run was quick. Only
/// changes are written, so runs mostly take the read lock.
fn quick_runs() -> &'static parking_lot::RwLock<std::collections::HashMap<String, bool>> {
    static QUICK: std::sync::OnceLock<
        parking_lot::RwLock<std::collections::HashMap<String, bool>>,
    > = std::sync::OnceLock::new();
    QUICK.get_or_init(Default::default)
}

fn remember_duration(name: String, took: std::time::Duration) {
    let quick = took < QUICK_RUN;
    if quick_runs().read().get(&name) == Some(&quick) {
        return;
    }
    let mut map = quick_runs().write();
    if map.len() >= 4096 && !map.contains_key(&name) {
        map.clear();
    }
    map.insert(name, quick);
}

/// Whether a script runs inline on the worker: when its last run was quick
/// and another worker can take this one's connections.
fn runs_inline(name: &str) -> bool {
    use tokio::runtime::Handle;
    let quick = quick_runs().read().get(name).copied().unwrap_or(false);
    let workers = Handle::try_current().map_or(1, |h| h.metrics().num_workers());
    quick && workers > 1
}

fn run_placed<R>(inline: bool, f: impl FnOnce() -> R) -> R {
    if inline {
        f()
    } else {
        basalt_core::offload::off_worker(f)
    }
}

/// Where unbounded work runs: a script that starts inline (its last run
/// was quick) may still loop this time. Its watchdog, called every
/// `HOOK_INSTRUCTIONS` Lua instructions, hands the worker's other
/// connections to another thread once the script has run `HANDOFF_AFTER`:
/// `block_in_place` moves the worker's queue to a new thread at once, and
/// the short sleep inside it gives that thread time to take it (tokio takes
/// the queue back when the closure returns if nobody has). The hand-off is
/// tried again every `HANDOFF_RETRY` while the script runs; once it took,
/// this thread no longer owns a worker and further calls cost only the
/// sleep. So a script holds up the connections that share its worker for
/// `HANDOFF_AFTER` at most, and SCRIPT KILL is always read.
struct WorkerHandoff {
    started: Instant,
    next: std::cell::Cell<Option<std::time::Duration>>,
}

const HANDOFF_AFTER: std::time::Duration = std::time::Duration::from_millis(5);
const HANDOFF_RETRY: std::time::Duration = std::time::Duration::from_millis(100);

impl WorkerHandoff {
    fn new(inline: bool) -> WorkerHandoff {
        WorkerHandoff {
            started: Instant::now(),
            next: std::cell::Cell::new(inline.then_some(HANDOFF_AFTER)),
        }
    }

    fn check(&self) {
        let Some(next) = self.next.get() else {
            return;
        };
        let elapsed = self.started.elapsed();
        if elapsed < next {
            return;
        }
        self.next.set(Some(elapsed + HANDOFF_RETRY));
        basalt_core::offload::off_worker(|| {
            std::thread::sleep(std::time::Duration::from_millis(1))
        });
    }
}

/// `redis.call` from a script: Redis's script rules, then the normal
/// command path.
struct ScriptCaller {
    shared: Arc<Shared>,
    state: ClientState,
    running: Arc<Running>,
    no_writes: bool,
    /// The script's declared keys were remembered for client-side caching.
    remembered_keys: bool,
}

impl CommandCaller for ScriptCaller {
    fn acl_check(&mut self, args: Vec<Bytes>) -> Result<bool, String> {
        let invalid = || "Invalid command passed to redis.acl_check_cmd()".to_string();
        let (index, command) = crate::table().lookup(&args[0]).ok_or_else(invalid)?;
        // The subcommand when the command has them, as Redis's lookup; no
        // arity check.
        let mut sub = 0;
        if !command.subcommands.is_empty() && args.len() >= 2 {
            sub = command.find_subcommand(&args[1]).ok_or_else(invalid)? + 1;
        }
        let call = basalt_core::dispatch::Call {
            index,
            command,
            sub,
            args: &args,
        };
        let user = self.state.user.get();
        Ok(basalt_core::acl::check_user(&self.shared.acl, &user, &call).is_ok())
    }

    fn call(&mut self, args: Vec<Bytes>, resp3: bool) -> Reply {
        // Refusals made here, before the command runs, are error replies
        // to the script like any command's, and counted as such.
        let refuse = |text: &'static str| {
            self.shared.stats.record_error(text);
            Reply::error(text)
        };
        let Some((_, command)) = crate::table().lookup(&args[0]) else {
            return refuse("ERR Unknown Redis command called from script");
        };
        if !command.arity_ok(args.len()) {
            return refuse("ERR Wrong number of args calling Redis command from script");
        }
        let mut flags = command.flags;
        if let Some(i) = args.get(1).and_then(|a| command.find_subcommand(a)) {
            flags |= command.subcommands[i].flags;
        }
        if flags & NOSCRIPT != 0 {
            return refuse("ERR This Redis command is not allowed from script");
        }
        // Like Redis, a read-only script may not run commands that
        // propagate either (PUBLISH): that is what lets it run during
        // CLIENT PAUSE WRITE.
        if self.no_writes && flags & (WRITE | MAY_REPLICATE) != 0 {
            return refuse("ERR Write commands are not allowed from read-only scripts.");
        }
        // A script that reads has its declared keys remembered for
        // client-side caching, as Redis 7.0 did, besides the keys of the
        // commands it runs (7.2): a client caching the script's result
        // hears of a change to any key it declared.
        if flags & READONLY != 0 && !self.remembered_keys && self.shared.tracking.active() {
            self.remembered_keys = true;
            self.shared
                .tracking
                .remember(&self.shared, &self.state.handle, &self.running.keys);
        }
        if flags & WRITE != 0 {
            // From here SCRIPT KILL can no longer stop the script.
            self.running.wrote.store(true, Ordering::Release);
        }
        self.state.protocol = if resp3 {
            Protocol::Resp3
        } else {
            Protocol::Resp2
        };
        let outcome = execute(&self.shared, &mut self.state, args);
        let reply = outcome.reply;
        match outcome.action {
            // A blocking command in a script does not block: it answers as
            // if it timed out, as in Redis.
            Some(Action::Block(block)) => block.timeout_reply,
            _ => reply,
        }
    }
}

fn script(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let shared = ctx.shared.clone();
    let sub = args[1].to_ascii_lowercase();
    match &sub[..] {
        b"load" => {
            let (sha, _) = load_script(&shared, &args[2])?;
            Ok(Reply::bulk(sha))
        }
        b"exists" => Ok(Reply::Array(
            args[2..]
                .iter()
                .map(|sha| {
                    let sha = String::from_utf8_lossy(sha).to_ascii_lowercase();
                    Reply::Integer(shared.scripting.script(&sha).is_some() as i64)
                })
                .collect(),
        )),
        b"flush" => {
            flush_mode(args, "ERR SCRIPT FLUSH only support SYNC|ASYNC option")?;
            shared
                .scripting
                .flush_scripts(&shared.data().storage)
                .map_err(basalt_types::Error::from)?;
            Ok(Reply::ok())
        }
        b"kill" => kill(&shared, false),
        b"help" => Ok(help(&[
            "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "EXISTS <sha1> [<sha1> ...]",
            "    Return information about the existence of the scripts in the script cache.",
            "FLUSH [ASYNC|SYNC]",
            "    Flush the Lua scripts cache. Very dangerous on replicas.",
            "KILL",
            "    Kill the currently executing Lua script.",
            "LOAD <script>",
            "    Load a script into the scripts cache without executing it.",
            "HELP",
            "    Print this help.",
        ])),
        _ => Err(CommandError::Syntax),
    }
}

fn help(lines: &[&'static str]) -> Reply {
    Reply::Array(lines.iter().map(|l| Reply::simple(*l)).collect())
}

/// The optional ASYNC|SYNC of SCRIPT FLUSH / FUNCTION FLUSH (both flush at
/// once here: dropping the cache is cheap).
fn flush_mode(args: &[Bytes], error: &'static str) -> Result<(), CommandError> {
    match args.len() {
        2 => Ok(()),
        3 if args[2].eq_ignore_ascii_case(b"async") || args[2].eq_ignore_ascii_case(b"sync") => {
            Ok(())
        }
        _ => Err(err(error)),
    }
}

fn kill(shared: &Shared, functions: bool) -> CommandResult {
    match shared.scripting.kill(functions) {
        KillOutcome::Killed => Ok(Reply::ok()),
        KillOutcome::NotBusy => Err(err("NOTBUSY No scripts in execution right now.")),
        KillOutcome::Unkillable => Err(err("UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.")),
    }
}

fn function(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let shared = ctx.shared.clone();
    let sub = args[1].to_ascii_lowercase();
    match &sub[..] {
        b"load" => function_load(&shared, args),
        b"delete" => {
            let name = String::from_utf8_lossy(&args[2]).into_owned();
            update_libraries(&shared, |libs| match libs.remove(&name) {
                Some(_) => Ok(()),
                None => Err("ERR Library not found".into()),
            })?;
            Ok(Reply::ok())
        }
        b"flush" => {
            if args.len() > 3 {
                return Err(subcommand_syntax(args));
            }
            flush_mode(args, "ERR FUNCTION FLUSH only supports SYNC|ASYNC option")?;
            update_libraries(&shared, |libs| {
                libs.clear();
                Ok(())
            })?;
            Ok(Reply::ok())
        }
        b"list" => function_list(&shared, args),
        b"dump" => {
            let libraries = shared.scripting.libraries();
            Ok(Reply::bulk(basalt_types::rdb::function::dump(
                libraries.iter().map(|l| &l.code[..]),
            )))
        }
        b"restore" => function_restore(&shared, args),
        b"stats" => Ok(function_stats(&shared)),
        b"kill" => kill(&shared, true),
        b"help" => Ok(help(&[
            "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "LOAD [REPLACE] <FUNCTION CODE>",
            "DELETE <LIBRARY NAME>",
            "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
            "FCALL <FUNCTION NAME> <NUMKEYS> <KEY1 .. KEYN> <ARG1 .. ARGN>",
            "FCALL_RO <FUNCTION NAME> <NUMKEYS> <KEY1 .. KEYN> <ARG1 .. ARGN>",
            "KILL",
            "FLUSH [ASYNC|SYNC]",
            "STATS",
            "DUMP",
            "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
            "HELP",
        ])),
        _ => Err(CommandError::Syntax),
    }
}

type Libraries = std::collections::BTreeMap<String, Arc<Library>>;

fn update_libraries(
    shared: &Shared,
    update: impl FnOnce(&mut Libraries) -> Result<(), String>,
) -> Result<(), CommandError> {
    shared
        .scripting
        .set_libraries(&shared.data().storage, update)
        .map_err(basalt_types::Error::from)?
        .map_err(err)
}

/// Runs a library's code in this thread's VM to learn its name and
/// functions.
fn parse_library(shared: &Shared, code: &Bytes) -> Result<Library, CommandError> {
    let (name, functions) = with_vm(&shared.scripting, |vm| {
        vm.load_library(code)
            .map(|(name, fs)| (name, fs.into_iter().map(|(info, _)| info).collect()))
    })
    .map_err(err)?
    .map_err(|e| err(e.0))?;
    Ok(Library {
        name,
        code: code.clone(),
        functions,
    })
}

/// Adds a library, refusing name clashes unless `replace`.
fn add_library(
    libs: &mut Libraries,
    lib: Library,
    replace: bool,
    restoring: bool,
) -> Result<(), String> {
    if libs.contains_key(&lib.name) && !replace {
        // Redis words the two cases differently.
        return Err(if restoring {
            format!("ERR Library {} already exists", lib.name)
        } else {
            format!("ERR Library '{}' already exists", lib.name)
        });
    }
    for other in libs.values().filter(|l| l.name != lib.name) {
        if let Some(f) = lib.functions.iter().find(|f| {
            other
                .functions
                .iter()
                .any(|o| o.name.eq_ignore_ascii_case(&f.name))
        }) {
            return Err(format!("ERR Function {} already exists", f.name));
        }
    }
    libs.insert(lib.name.clone(), Arc::new(lib));
    Ok(())
}

fn function_load(shared: &Shared, args: &[Bytes]) -> CommandResult {
    // Options come before the code, as many as given; REPLACE is the only one.
    let code = &args[args.len() - 1];
    let mut replace = false;
    for option in &args[2..args.len() - 1] {
        if option.eq_ignore_ascii_case(b"replace") {
            replace = true;
        } else {
            return Err(err(format!(
                "ERR Unknown option given: {}",
                String::from_utf8_lossy(option)
            )));
        }
    }
    let lib = parse_library(shared, code)?;
    let name = lib.name.clone();
    update_libraries(shared, |libs| add_library(libs, lib, replace, false))?;
    Ok(Reply::bulk(name))
}

fn subcommand_syntax(args: &[Bytes]) -> CommandError {
    CommandError::SubcommandSyntax {
        sub: String::from_utf8_lossy(&args[1]).into_owned(),
        command: "function",
    }
}

fn function_restore(shared: &Shared, args: &[Bytes]) -> CommandResult {
    if args.len() > 4 {
        return Err(subcommand_syntax(args));
    }
    let policy = match args.get(3) {
        None => "append".to_string(),
        Some(p) => p.to_ascii_lowercase().iter().map(|&c| c as char).collect(),
    };
    if !matches!(policy.as_str(), "flush" | "append" | "replace") {
        return Err(err(
            "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.",
        ));
    }
    let codes = basalt_types::rdb::function::restore(&args[2])?;
    let mut restored = Vec::new();
    for code in codes {
        restored.push(parse_library(shared, &Bytes::from(code))?);
    }
    update_libraries(shared, |libs| {
        if policy == "flush" {
            libs.clear();
        }
        // Checked as a whole: a clash leaves every library as it was.
        for lib in restored {
            add_library(libs, lib, policy == "replace", true)?;
        }
        Ok(())
    })?;
    Ok(Reply::ok())
}

fn function_list(shared: &Shared, args: &[Bytes]) -> CommandResult {
    let mut pattern: Option<&Bytes> = None;
    let mut with_code = false;
    let mut i = 2;
    while i < args.len() {
        let a = &args[i];
        // A repeated option is an unknown argument, as in Redis.
        if !with_code && a.eq_ignore_ascii_case(b"withcode") {
            with_code = true;
        } else if pattern.is_none() && a.eq_ignore_ascii_case(b"libraryname") {
            i += 1;
            pattern = Some(
                args.get(i)
                    .ok_or_else(|| err("ERR library name argument was not given"))?,
            );
        } else {
            return Err(err(format!(
                "ERR Unknown argument {}",
                String::from_utf8_lossy(a)
            )));
        }
        i += 1;
    }
    let mut out = Vec::new();
    for lib in shared.scripting.libraries() {
        if let Some(p) = pattern {
            if !basalt_glob::glob_match(p, lib.name.as_bytes(), false) {
                continue;
            }
        }
        let functions = lib
            .functions
            .iter()
            .map(|f| {
                Reply::Map(vec![
                    (Reply::bulk("name"), Reply::bulk(f.name.clone())),
                    (
                        Reply::bulk("description"),
                        f.description
                            .clone()
                            .map(Reply::bulk)
                            .unwrap_or(Reply::Null),
                    ),
                    (Reply::bulk("flags"), Reply::Set(flag_names(&f.flags))),
                ])
            })
            .collect();
        let mut entry = vec![
            (Reply::bulk("library_name"), Reply::bulk(lib.name.clone())),
            (Reply::bulk("engine"), Reply::bulk("LUA")),
            (Reply::bulk("functions"), Reply::Array(functions)),
        ];
        if with_code {
            entry.push((Reply::bulk("library_code"), Reply::Bulk(lib.code.clone())));
        }
        out.push(Reply::Map(entry));
    }
    Ok(Reply::Array(out))
}

fn flag_names(flags: &ScriptFlags) -> Vec<Reply> {
    flags.names().into_iter().map(Reply::simple).collect()
}

fn function_stats(shared: &Shared) -> Reply {
    let running = match shared.scripting.running_function() {
        Some(r) => {
            let mut command = vec![Reply::bulk("fcall"), Reply::bulk(r.name.clone())];
            command.push(Reply::bulk(r.keys.len().to_string()));
            command.extend(r.keys.iter().chain(&r.args).cloned().map(Reply::Bulk));
            Reply::Map(vec![
                (Reply::bulk("name"), Reply::bulk(r.name.clone())),
                (Reply::bulk("command"), Reply::Array(command)),
                (
                    Reply::bulk("duration_ms"),
                    Reply::Integer(r.started.elapsed().as_millis() as i64),
                ),
            ])
        }
        None => Reply::Null,
    };
    let libraries = shared.scripting.libraries();
    let functions: usize = libraries.iter().map(|l| l.functions.len()).sum();
    Reply::Map(vec![
        (Reply::bulk("running_script"), running),
        (
            Reply::bulk("engines"),
            Reply::Map(vec![(
                Reply::bulk("LUA"),
                Reply::Map(vec![
                    (
                        Reply::bulk("libraries_count"),
                        Reply::Integer(libraries.len() as i64),
                    ),
                    (
                        Reply::bulk("functions_count"),
                        Reply::Integer(functions as i64),
                    ),
                ]),
            )]),
        ),
    ])
}
