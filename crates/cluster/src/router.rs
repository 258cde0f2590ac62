//! The router gate: whether this node serves a command, from the command's
//! key positions in the command table, as Redis's `getNodeByQuery` and
//! Kvrocks' `CanExecByMySelf` decide it. Every key of a command (and of
//! every command queued in a transaction) must hash to one slot
//! (CROSSSLOT); that slot must be served (CLUSTERDOWN) by this node, or by
//! its master for a read from a READONLY connection on a replica (else
//! MOVED to the owner). Commands without keys run anywhere.
//!
//! The dispatcher runs this gate before MULTI queues a command, so a
//! refused command dooms the transaction, and EXEC checks the queued
//! commands together. Inside a script, each command the script calls must
//! stay on this node, and, unless the script may cross slots (no shebang,
//! or `allow-cross-slot-keys`), in the slot of the script's other keys, as
//! Redis 7's `scriptVerifyClusterState` decides.

use crate::error::ClusterError;
use crate::topology::{Role, Topology};
use crate::Cluster;
use basalt_core::command::flags;
use basalt_core::context::ClientState;
use basalt_core::dispatch::{Call, Gate};
use basalt_core::error::CommandError;
use basalt_core::shared::Shared;
use bytes::Bytes;
use std::cell::Cell;
use std::sync::Arc;

pub(crate) struct Router {
    pub(crate) cluster: Arc<Cluster>,
}

/// The cluster rules of the script running on a thread.
#[derive(Clone, Copy)]
struct ScriptRun {
    /// The slot the script has touched so far: its declared keys' slot,
    /// then that of the first key one of its commands named.
    slot: Option<u16>,
    /// The script may touch keys of several slots (each served here).
    cross_slot: bool,
}

thread_local! {
    static SCRIPT: Cell<ScriptRun> = const {
        Cell::new(ScriptRun {
            slot: None,
            cross_slot: false,
        })
    };
}

/// Set on the thread that runs a script, for the script's run: the slot of
/// its declared keys (the gate already refused them across slots) and
/// whether it may cross slots. Redis lets a script without a shebang
/// (compatibility mode) or with `allow-cross-slot-keys` do so.
pub struct ScriptScope(ScriptRun);

impl ScriptScope {
    pub fn enter(declared_keys: &[Bytes], cross_slot: bool) -> ScriptScope {
        let run = ScriptRun {
            slot: declared_keys.first().map(|k| crate::key_slot(k)),
            cross_slot,
        };
        ScriptScope(SCRIPT.with(|s| s.replace(run)))
    }
}

impl Drop for ScriptScope {
    fn drop(&mut self) {
        SCRIPT.with(|s| s.set(self.0));
    }
}

/// The slot all `keys` hash to; `None` without keys.
fn common_slot<'a>(keys: impl IntoIterator<Item = &'a Bytes>) -> Result<Option<u16>, ClusterError> {
    let mut slot = None;
    for key in keys {
        let s = crate::key_slot(key);
        match slot {
            None => slot = Some(s),
            Some(first) if first != s => return Err(ClusterError::CrossSlot),
            Some(_) => {}
        }
    }
    Ok(slot)
}

fn keys<'a>(call: &Call<'a>) -> Vec<&'a Bytes> {
    call.command
        .key_indices(call.args)
        .into_iter()
        .filter_map(|i| call.args.get(i))
        .collect()
}

/// Whether this node serves `slot` for a command that `writes`. A slot
/// being migrated away is served until it has moved (MOVED to its new
/// owner then), except writes while the last delta is sent (TRYAGAIN); a
/// slot just imported is served before the topology says so, and a slot
/// being imported is served to the import link (a Kvrocks source in its
/// redis-command mode sends plain commands there), as Kvrocks'
/// `CanExecByMySelf` decides.
pub(crate) fn serve(
    cluster: &Cluster,
    t: &Topology,
    slot: u16,
    writes: bool,
    client_id: u64,
    readonly: bool,
) -> Result<(), ClusterError> {
    let Some(owner) = t.owner(slot) else {
        return Err(ClusterError::SlotNotServed);
    };
    if let Some(me) = t.myself() {
        if me.id == owner.id {
            if let Some(d) = cluster.migrator().moved_to(slot) {
                return Err(ClusterError::Moved {
                    slot,
                    host: d.host,
                    port: d.port,
                });
            }
            if writes && cluster.migrator().is_forbidden(slot) {
                return Err(ClusterError::TryAgain);
            }
            return Ok(());
        }
        if me.role == Role::Master
            && (cluster.importer().imported(slot)
                || cluster.importer().from_source(client_id, slot))
        {
            return Ok(());
        }
        if me.role == Role::Replica && me.master_id == owner.id && readonly && !writes {
            return Ok(());
        }
    }
    Err(ClusterError::Moved {
        slot,
        host: owner.host.clone(),
        port: owner.port,
    })
}

impl Router {
    fn route(
        &self,
        shared: &Shared,
        client: &ClientState,
        call: &Call<'_>,
    ) -> Result<(), ClusterError> {
        let t = self.cluster.topology();
        if basalt_engine::in_txn() {
            // EXEC checked its queued commands as a whole.
            if !basalt_core::monitor::in_script() {
                return Ok(());
            }
            // A command's own keys across slots are refused as a
            // non-local access, as Redis 7.0 words it.
            let slot = match common_slot(keys(call)) {
                Ok(Some(slot)) => slot,
                Ok(None) => return Ok(()),
                Err(_) => return Err(ClusterError::ScriptNonLocalKey),
            };
            let writes = call.flags() & flags::WRITE != 0;
            match serve(
                &self.cluster,
                &t,
                slot,
                writes,
                client.handle.id,
                client.readonly,
            ) {
                Ok(()) => {}
                Err(ClusterError::TryAgain) => return Err(ClusterError::TryAgain),
                Err(_) => return Err(ClusterError::ScriptNonLocalKey),
            }
            return SCRIPT.with(|s| {
                let mut run = s.get();
                match run.slot {
                    _ if run.cross_slot => Ok(()),
                    Some(first) if first != slot => Err(ClusterError::ScriptCrossSlot),
                    _ => {
                        run.slot = Some(slot);
                        s.set(run);
                        Ok(())
                    }
                }
            });
        }
        let (slot, writes, shard_pubsub) =
            if call.command.has(flags::TXN_CONTROL) && call.command.name == "exec" {
                let Some(multi) = &client.multi else {
                    return Ok(());
                };
                let mut slot = None;
                let mut writes = false;
                for args in &multi.queued {
                    let Ok(queued) = basalt_core::dispatch::lookup(shared.commands, args) else {
                        continue;
                    };
                    writes |= queued.flags() & flags::WRITE != 0;
                    if let Some(s) = common_slot(keys(&queued))? {
                        if slot.is_some_and(|first| first != s) {
                            return Err(ClusterError::CrossSlot);
                        }
                        slot = Some(s);
                    }
                }
                (slot, writes, false)
            } else {
                let slot = common_slot(keys(call))?;
                (
                    slot,
                    call.flags() & flags::WRITE != 0,
                    call.command.has(flags::PUBSUB),
                )
            };
        let Some(slot) = slot else {
            return Ok(());
        };
        // Shard channels may be read from a replica without READONLY, as
        // in Redis.
        serve(
            &self.cluster,
            &t,
            slot,
            writes,
            client.handle.id,
            client.readonly || shard_pubsub,
        )
    }
}

impl Gate for Router {
    fn check(
        &self,
        shared: &Shared,
        client: &ClientState,
        call: &Call<'_>,
    ) -> Result<(), CommandError> {
        self.route(shared, client, call).map_err(CommandError::from)
    }
}
