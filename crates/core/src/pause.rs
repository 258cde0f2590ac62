//! CLIENT PAUSE: holding clients' commands back for a while, as Redis 7
//! does (replication failover will use it to stop writes before a switch).
//!
//! `ALL` holds every command; `WRITE` holds the commands that may change
//! the data or be replicated: write commands, PUBLISH, EXEC of a queue
//! holding any of those, and scripts and functions unless they declare
//! `no-writes`. A held command waits in its connection, counted in INFO
//! `blocked_clients`, and runs once the pause ends (CLIENT UNPAUSE or its
//! timeout). Commands that fail their arity or authentication are answered
//! at once. The active expiration cycle skips its passes meanwhile.
//!
//! FAILOVER holds writes the same way, by a hold of its own (Redis's
//! `PAUSE_DURING_FAILOVER`): CLIENT UNPAUSE does not end it, only the end
//! of the failover does.

use crate::command::{flags, Command};
use crate::context::ClientState;
use crate::shared::Shared;
use bytes::Bytes;
use parking_lot::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum PauseMode {
    Write,
    All,
}

#[derive(Default)]
pub struct Pause {
    /// Whether `current` may hold a pause: every command checks this, and
    /// only takes the lock when it is set.
    on: AtomicBool,
    current: Mutex<Option<(PauseMode, Instant)>>,
    ended: Notify,
    waiting: AtomicUsize,
    /// Writes are held for a failover, until it ends.
    failover: AtomicBool,
}

/// How far ahead a failover's hold looks unbounded: its waiters wake up
/// when it ends, and look again.
const FAILOVER_HOLD: Duration = Duration::from_secs(3600);

impl Pause {
    /// Another pause while one is on keeps the stricter mode and the later
    /// end, as Redis does.
    pub fn pause(&self, mode: PauseMode, until: Instant) {
        let mut current = self.current.lock();
        *current = Some(match *current {
            Some((m, u)) => (m.max(mode), u.max(until)),
            None => (mode, until),
        });
        self.on.store(true, Ordering::Release);
    }

    pub fn unpause(&self) {
        *self.current.lock() = None;
        self.on.store(false, Ordering::Release);
        self.ended.notify_waiters();
    }

    /// Holds (or stops holding) writes for a failover.
    pub fn hold_writes_for_failover(&self, hold: bool) {
        self.failover.store(hold, Ordering::Release);
        if !hold {
            self.ended.notify_waiters();
        }
    }

    /// The pause in force now, if any (a pause past its end is over): the
    /// stricter of CLIENT PAUSE's and a failover's.
    pub fn current(&self) -> Option<(PauseMode, Instant)> {
        let client = self.client_pause();
        if !self.failover.load(Ordering::Acquire) {
            return client;
        }
        let until = Instant::now() + FAILOVER_HOLD;
        Some(match client {
            Some((mode, u)) => (mode, u.max(until)),
            None => (PauseMode::Write, until),
        })
    }

    fn client_pause(&self) -> Option<(PauseMode, Instant)> {
        if !self.on.load(Ordering::Acquire) {
            return None;
        }
        let mut current = self.current.lock();
        match *current {
            Some((_, until)) if until <= Instant::now() => {
                *current = None;
                self.on.store(false, Ordering::Release);
                None
            }
            other => other,
        }
    }

    pub fn active(&self) -> bool {
        self.current().is_some()
    }

    /// Clients whose command is held.
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Relaxed)
    }

    /// Whether the command in `args` must wait for the pause to end.
    pub fn holds(&self, shared: &Shared, state: &ClientState, args: &[Bytes]) -> bool {
        let Some((mode, _)) = self.current() else {
            return false;
        };
        if state.auth_required(shared) || args.is_empty() {
            return false;
        }
        let Some((_, command)) = shared.commands.lookup(&args[0]) else {
            return false;
        };
        if !command.arity_ok(args.len()) {
            return false;
        }
        mode == PauseMode::All || may_replicate(shared, state, command, args)
    }

    /// Waits until the pause ends (or changes), counted as a blocked client.
    pub async fn wait(&self) {
        let Some((_, until)) = self.current() else {
            return;
        };
        let ended = self.ended.notified();
        tokio::pin!(ended);
        ended.as_mut().enable();
        if self.current().is_none() {
            return;
        }
        self.waiting.fetch_add(1, Ordering::Relaxed);
        let _counted = Counted(&self.waiting);
        tokio::select! {
            _ = ended => {}
            _ = tokio::time::sleep_until(until.into()) => {}
        }
    }
}

struct Counted<'a>(&'a AtomicUsize);

impl Drop for Counted<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Redis's "may replicate": a write, or a command that propagates
/// (PUBLISH), EXEC of a queue holding one, a script or function without
/// `no-writes`.
fn may_replicate(shared: &Shared, state: &ClientState, command: &Command, args: &[Bytes]) -> bool {
    if command.has(flags::WRITE) {
        return true;
    }
    if !command.has(flags::MAY_REPLICATE) {
        return false;
    }
    if command.has(flags::TXN_CONTROL) {
        // EXEC: what it would run.
        return state.multi.as_ref().is_some_and(|m| {
            m.queued.iter().any(|q| {
                shared
                    .commands
                    .lookup(&q[0])
                    .is_some_and(|(_, c)| may_replicate(shared, state, c, q))
            })
        });
    }
    if command.group == "scripting" {
        return !script_declares_no_writes(shared, command, args);
    }
    true
}

/// Whether a script command says before it runs that it writes: an EVAL
/// or EVALSHA script with a shebang and without `no-writes`, an FCALL of a
/// function without it. Redis refuses those up front where writes are
/// refused (`min-replicas-to-write`); a script without a shebang runs and
/// has its writes refused.
pub fn script_declares_writes(shared: &Shared, command: &Command, args: &[Bytes]) -> bool {
    let Some(target) = args.get(1) else {
        return false;
    };
    match command.name {
        "eval" => basalt_scripting::shebang::parse_script(target)
            .map(|(flags, _)| flags.shebang && !flags.no_writes)
            .unwrap_or(false),
        "evalsha" => shared
            .scripting
            .script(&String::from_utf8_lossy(target).to_ascii_lowercase())
            .is_some_and(|s| s.flags.shebang && !s.flags.no_writes),
        "fcall" => shared
            .scripting
            .function(&String::from_utf8_lossy(target))
            .is_some_and(|(_, f)| !f.flags.no_writes),
        _ => false,
    }
}

/// EVAL by its shebang, EVALSHA by the cached script, FCALL by the
/// function's flags. Unknown scripts count as writing (they fail anyway).
fn script_declares_no_writes(shared: &Shared, command: &Command, args: &[Bytes]) -> bool {
    let Some(target) = args.get(1) else {
        return false;
    };
    match command.name {
        "eval" => basalt_scripting::shebang::parse_script(target)
            .map(|(flags, _)| flags.no_writes)
            .unwrap_or(false),
        "evalsha" => shared
            .scripting
            .script(&String::from_utf8_lossy(target).to_ascii_lowercase())
            .is_some_and(|s| s.flags.no_writes),
        "fcall" => shared
            .scripting
            .function(&String::from_utf8_lossy(target))
            .is_some_and(|(_, f)| f.flags.no_writes),
        _ => false,
    }
}
