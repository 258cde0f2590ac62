//! The role gate: a replica's data changes only through its master, so
//! it refuses every write command, as a Redis replica with
//! `replica-read-only yes` does (the engine's fence refuses any write
//! that would get past this, from a script or a background task). With
//! `slave-serve-stale-data no`, while the link is down, commands without
//! the `stale` flag answer MASTERDOWN.

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
}

impl Gate for RoleGate {
    fn check(
        &self,
        shared: &Shared,
        _client: &ClientState,
        call: &Call<'_>,
    ) -> Result<(), CommandError> {
        if !self.replica.load(Ordering::Acquire) {
            return Ok(());
        }
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
}
