//! The role gate: a replica's data changes only through its master, so
//! it refuses every write command, as a Redis replica with
//! `replica-read-only yes` does (the engine's fence refuses any write
//! that would get past this, from a script or a background task). With
//! `slave-serve-stale-data no`, while the link is down, commands without
//! the `stale` flag answer MASTERDOWN.
//!
//! On a master with `min-replicas-to-write` (and `min-replicas-max-lag`
//! not 0), a write is refused with NOREPLICAS while fewer replicas than
//! that acknowledged within the lag, as Redis's `checkGoodReplicasStatus`;
//! so is a script that declares writes in its shebang (one without a
//! shebang runs, and its writes are refused here as they reach the
//! dispatcher).
//!
//! In MULTI each command is checked as it is queued (a refusal dooms the
//! transaction), and EXEC checks the queue again, discarding the whole
//! transaction if the node's state changed since (as Redis).

use basalt_core::command::flags;
use basalt_core::context::ClientState;
use basalt_core::dispatch::{Call, Gate};
use basalt_core::error::CommandError;
use basalt_core::shared::Shared;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

pub struct RoleGate {
    pub replica: Arc<AtomicBool>,
    pub link_up: Arc<AtomicBool>,
    pub feed: Arc<crate::feed::Replicas>,
}

impl Gate for RoleGate {
    fn check(
        &self,
        shared: &Shared,
        _client: &ClientState,
        call: &Call<'_>,
    ) -> Result<(), CommandError> {
        if !self.replica.load(Ordering::Acquire) {
            return self.enough_replicas(shared, call);
        }
        self.replica_rules(shared, call)
    }

    /// Everything this gate refuses, it refuses when MULTI queues the
    /// command too, so EXEC answers EXECABORT, as Redis's `rejectCommand`:
    /// a write on a replica (READONLY), a data command on a stale one
    /// (MASTERDOWN), a write without enough good replicas (NOREPLICAS).
    fn check_queued(
        &self,
        shared: &Shared,
        client: &ClientState,
        call: &Call<'_>,
    ) -> Result<(), CommandError> {
        self.check(shared, client, call)
    }
}

impl RoleGate {
    fn replica_rules(&self, shared: &Shared, call: &Call<'_>) -> Result<(), CommandError> {
        let flags = call.flags();
        if flags & flags::STALE == 0
            && !self.link_up.load(Ordering::Acquire)
            && !shared.config.read().slave_serve_stale_data
        {
            return Err(CommandError::MasterDown);
        }
        if flags & flags::WRITE != 0 {
            return Err(CommandError::ReadOnlyReplica);
        }
        Ok(())
    }

    fn enough_replicas(&self, shared: &Shared, call: &Call<'_>) -> Result<(), CommandError> {
        let (min, max_lag) = {
            let c = shared.config.read();
            (c.min_replicas_to_write, c.min_replicas_max_lag)
        };
        if min == 0 || max_lag == 0 {
            return Ok(());
        }
        let writes = call.flags() & flags::WRITE != 0
            || (call.command.group == "scripting"
                && basalt_core::pause::script_declares_writes(shared, call.command, call.args));
        if writes && (self.feed.good(max_lag) as u64) < min {
            return Err(CommandError::NoReplicas);
        }
        Ok(())
    }
}
