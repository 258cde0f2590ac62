//! The role gate: a replica's data changes only through its master, so
//! it refuses every write command, as a Redis replica with
//! `replica-read-only yes` does. (The engine's fence refuses any write
//! that would get past this, from a script or a background task.)

use basalt_core::command::flags;
use basalt_core::context::ClientState;
use basalt_core::dispatch::{Call, Gate};
use basalt_core::error::CommandError;
use basalt_core::shared::Shared;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

pub struct RoleGate {
    pub replica: Arc<AtomicBool>,
}

impl Gate for RoleGate {
    fn check(
        &self,
        _shared: &Shared,
        _client: &ClientState,
        call: &Call<'_>,
    ) -> Result<(), CommandError> {
        if call.flags() & flags::WRITE != 0 && self.replica.load(Ordering::Acquire) {
            return Err(CommandError::ReadOnlyReplica);
        }
        Ok(())
    }
}
