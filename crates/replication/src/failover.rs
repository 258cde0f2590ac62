//! FAILOVER, as Redis 7: the master holds writes (a pause of its own, see
//! `basalt_core::pause`), waits until the chosen replica acknowledged
//! (`REPLCONF ACK`) everything it wrote, promotes that replica and
//! follows it, then lets the held writes go on (to be refused: this node
//! is a replica now). The command answers at once; a thread drives the
//! switch and INFO shows where it is (`master_failover_state`).
//!
//! No acknowledged write is lost: once the replica caught up, the storage
//! is fenced (any write still on its way fails there) and the commands in
//! flight are waited for; only if the replica still has everything then
//! is it promoted. The target is promoted over an ordinary authenticated
//! connection with `REPLICAOF NO ONE`, which a Kvrocks replica takes too
//! (Redis sends `PSYNC ... FAILOVER` on the replication link instead,
//! which Kvrocks' protocol has not).

use crate::wire::{self, Wire};
use crate::Replication;
use basalt_core::shared::Shared;
use parking_lot::Mutex;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How often the driving thread looks at the replicas' acknowledgements.
const CHECK_EVERY: Duration = Duration::from_millis(5);
/// How long the commands in flight may take to finish after the fence.
const QUIESCE_WAIT: Duration = Duration::from_millis(500);
/// Connecting to the target and its answer to REPLICAOF NO ONE.
const PROMOTE_TIMEOUT: Duration = Duration::from_secs(5);

/// FAILOVER's refusals, with Redis's texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FailoverError {
    #[error("ERR No failover in progress.")]
    NotInProgress,
    #[error("ERR FAILOVER already in progress.")]
    AlreadyInProgress,
    #[error("ERR FAILOVER is not valid when server is a replica.")]
    NotMaster,
    #[error("ERR FAILOVER requires connected replicas.")]
    NoReplicas,
    #[error("ERR FAILOVER with force option requires both a timeout and target HOST and IP.")]
    ForceNeedsTimeoutAndTarget,
    #[error("ERR FAILOVER target HOST and PORT is not a replica.")]
    TargetNotAReplica,
    /// Basalt's own: the roles are being switched, too late to go back.
    #[error("ERR FAILOVER is switching roles and can no longer be aborted.")]
    TooLateToAbort,
}

/// What FAILOVER asks for.
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub target: Option<(String, u16)>,
    pub timeout: Option<Duration>,
    pub force: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    WaitingForSync,
    InProgress,
}

/// A failover under way.
struct Run {
    phase: Phase,
    target: Option<(String, u16)>,
    deadline: Option<Instant>,
    force: bool,
    /// This run fenced the storage, and must lift the fence if it aborts.
    fenced: bool,
    /// Ended (aborted): the driving thread stops at its next look.
    ended: bool,
}

/// The failover slot of a node: at most one run at a time.
#[derive(Default)]
pub struct Failover {
    run: Mutex<Option<Arc<Mutex<Run>>>>,
}

impl Failover {
    /// `master_failover_state` in INFO.
    pub fn state_name(&self) -> &'static str {
        // Never the slot's lock and a run's at once in this order: a run
        // ending takes them the other way round.
        let run = self.run.lock().clone();
        match run.map(|r| r.lock().phase) {
            None => "no-failover",
            Some(Phase::WaitingForSync) => "waiting-for-sync",
            Some(Phase::InProgress) => "failover-in-progress",
        }
    }

    pub fn active(&self) -> bool {
        self.run.lock().is_some()
    }
}

impl Replication {
    /// FAILOVER [TO host port [FORCE]] [TIMEOUT ms]: checks, holds writes
    /// and starts the thread that drives the switch.
    pub fn start_failover(
        self: &Arc<Self>,
        shared: &Arc<Shared>,
        request: Request,
    ) -> Result<(), FailoverError> {
        let mut slot = self.failover.run.lock();
        if slot.is_some() {
            return Err(FailoverError::AlreadyInProgress);
        }
        if self.is_replica() {
            return Err(FailoverError::NotMaster);
        }
        let peers = self.feed.list();
        if peers.is_empty() {
            return Err(FailoverError::NoReplicas);
        }
        if request.force && (request.timeout.is_none() || request.target.is_none()) {
            return Err(FailoverError::ForceNeedsTimeoutAndTarget);
        }
        if let Some((host, port)) = &request.target {
            if !peers
                .iter()
                .any(|p| p.port != 0 && p.ip == *host && p.port == *port)
            {
                return Err(FailoverError::TargetNotAReplica);
            }
            tracing::info!("FAILOVER requested to {host}:{port}.");
        } else {
            tracing::info!("FAILOVER requested to any replica.");
        }
        let run = Arc::new(Mutex::new(Run {
            phase: Phase::WaitingForSync,
            target: request.target,
            deadline: request.timeout.and_then(|t| Instant::now().checked_add(t)),
            force: request.force,
            fenced: false,
            ended: false,
        }));
        shared.pause.hold_writes_for_failover(true);
        *slot = Some(run.clone());
        drop(slot);
        let (shared, repl) = (shared.clone(), self.clone());
        let spawned = std::thread::Builder::new()
            .name("failover".into())
            .spawn(move || drive(&shared, &repl, &run));
        if let Err(e) = spawned {
            tracing::error!("cannot start the failover thread: {e}");
        }
        Ok(())
    }

    /// FAILOVER ABORT: writes go on at once, this node stays the master.
    pub fn abort_failover(&self, shared: &Shared) -> Result<(), FailoverError> {
        let slot = self.failover.run.lock();
        let Some(run) = slot.clone() else {
            return Err(FailoverError::NotInProgress);
        };
        drop(slot);
        let mut r = run.lock();
        if r.phase == Phase::InProgress {
            return Err(FailoverError::TooLateToAbort);
        }
        self.end_failover(shared, &mut r, Some("Failover manually aborted"));
        Ok(())
    }

    pub fn failover_state(&self) -> &'static str {
        self.failover.state_name()
    }

    pub fn failing_over(&self) -> bool {
        self.failover.active()
    }

    /// Ends a run (the caller holds its lock): with `abort`, lifts the
    /// fence it set, so this node is a writable master again.
    fn end_failover(&self, shared: &Shared, run: &mut Run, abort: Option<&str>) {
        if run.ended {
            return;
        }
        run.ended = true;
        if let Some(why) = abort {
            match &run.target {
                Some((h, p)) => tracing::info!("FAILOVER to {h}:{p} aborted: {why}"),
                None => tracing::info!("FAILOVER to any replica aborted: {why}"),
            }
            if run.fenced && !self.is_replica() {
                shared.data().storage.set_fenced(false);
            }
        }
        *self.failover.run.lock() = None;
        shared.pause.hold_writes_for_failover(false);
    }
}

/// The driving thread: waits for the target to catch up (or the deadline),
/// then switches the roles. It never holds the run's lock while it waits
/// for the commands in flight: INFO and FAILOVER ABORT take that lock from
/// inside a command.
fn drive(shared: &Arc<Shared>, repl: &Arc<Replication>, run: &Arc<Mutex<Run>>) {
    let (host, port) = loop {
        std::thread::sleep(CHECK_EVERY);
        let target = {
            let mut r = run.lock();
            if r.ended {
                return;
            }
            if shared.is_shutting_down() {
                repl.end_failover(shared, &mut r, Some("the server is shutting down"));
                return;
            }
            if r.deadline.is_some_and(|d| Instant::now() >= d) {
                if r.force {
                    let Some((h, p)) = r.target.clone() else {
                        unreachable!("FORCE requires a target");
                    };
                    tracing::info!("FAILOVER to {h}:{p} time out exceeded, failing over.");
                    fence(shared, &mut r);
                    r.phase = Phase::InProgress;
                    drop(r);
                    // Whatever still lands is lost anyway (FORCE).
                    shared.dataset.quiesce(QUIESCE_WAIT);
                    break (h, p);
                }
                repl.end_failover(
                    shared,
                    &mut r,
                    Some("Replica never caught up before timeout"),
                );
                return;
            }
            let Some(target) = caught_up(shared, repl, &r) else {
                continue;
            };
            // Everything written so far is on the target. Fence, let the
            // writes in flight finish (or fail at the fence), and look
            // again: only what is written now is final.
            fence(shared, &mut r);
            target
        };
        if !shared.dataset.quiesce(QUIESCE_WAIT) {
            continue;
        }
        let mut r = run.lock();
        if r.ended {
            return;
        }
        if caught_up(shared, repl, &r).as_ref() == Some(&target) {
            tracing::info!(
                "Failover target {}:{} is synced, failing over.",
                target.0,
                target.1
            );
            r.target = Some(target.clone());
            r.phase = Phase::InProgress;
            break target;
        }
    };
    let result = promote(shared, &host, port);
    let mut r = run.lock();
    match result {
        Ok(()) => {
            // The target is the master now: follow it. The held writes go
            // on after this, and are refused (this node is a replica).
            repl.follow(shared, host.clone(), port);
            tracing::info!("FAILOVER to {host}:{port} done: this node follows it now.");
            repl.end_failover(shared, &mut r, None);
        }
        Err(e) => {
            let why = format!("the target refused or did not answer REPLICAOF NO ONE: {e}");
            repl.end_failover(shared, &mut r, Some(&why));
        }
    }
}

/// Fences the storage: from now on a write fails in the engine. The
/// caller then waits for the commands in flight (`quiesce`).
fn fence(shared: &Shared, run: &mut Run) {
    shared.data().storage.set_fenced(true);
    run.fenced = true;
}

/// The replica to fail over to, once it acknowledged everything written:
/// the requested one, or among those that did, the first listed.
fn caught_up(shared: &Shared, repl: &Replication, run: &Run) -> Option<(String, u16)> {
    let latest = shared.data().storage.latest_sequence_number();
    repl.feed
        .list()
        .into_iter()
        .filter(|p| p.acked.load(std::sync::atomic::Ordering::Acquire) >= latest)
        .filter(|p| p.port != 0)
        .map(|p| (p.ip.clone(), p.port))
        .find(|addr| run.target.as_ref().is_none_or(|t| t == addr))
}

/// Tells the target to stop following and take writes: an authenticated
/// connection (`masterauth`, as the link would use) and REPLICAOF NO ONE.
fn promote(shared: &Shared, host: &str, port: u16) -> Result<(), String> {
    let stop = AtomicBool::new(false);
    let mut wire = Wire::connect(host, port, PROMOTE_TIMEOUT).map_err(|e| e.to_string())?;
    let password = shared.config.read().masterauth.clone();
    if let Some(password) = password {
        wire.send(&[b"AUTH", password.as_bytes()])
            .map_err(|e| e.to_string())?;
        let line = wire
            .line(&stop, PROMOTE_TIMEOUT)
            .map_err(|e| e.to_string())?;
        if !wire::is_ok(&line) {
            return Err(format!("AUTH: {}", String::from_utf8_lossy(&line)));
        }
    }
    wire.send(&[b"REPLICAOF", b"NO", b"ONE"])
        .map_err(|e| e.to_string())?;
    let line = wire
        .line(&stop, PROMOTE_TIMEOUT)
        .map_err(|e| e.to_string())?;
    if !wire::is_ok(&line) {
        return Err(String::from_utf8_lossy(&line).into_owned());
    }
    Ok(())
}
