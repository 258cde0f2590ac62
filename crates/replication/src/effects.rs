//! What a batch from the master does on a replica beyond its data, as a
//! Kvrocks replica does (`ReplicationThread::parseWriteBatch`), except
//! that every record of the batch is looked at, not only its last put:
//!
//! - a put in the PubSub column family is a message PUBLISHed on the
//!   master: delivered to this node's subscribers (channels and patterns;
//!   shard subscribers when the batch's log data says `spublish`);
//! - a change of the scripts and function libraries in the propagate
//!   column family (`lua_*` records, Kvrocks' `script` command record):
//!   the replica reloads them, so EVALSHA and FCALL find them;
//! - the command named in the log data raises its keyspace notifications
//!   (`events`);
//! - clients blocked on a changed key (XREAD BLOCK) are served.
//!
//! All of it happens after the batch is written, outside the locks that
//! apply it, so no one hears of a change before it can be read.

use basalt_core::command_log::CommandRecord;
use basalt_core::notify::NewKeys;
use basalt_core::shared::Shared;
use basalt_engine::replication::{batch_records, BatchRecord};
use basalt_engine::{ColumnFamily, Storage};
use bytes::Bytes;
use std::sync::Arc;

/// With the `n` class on: notes which keys of the batch's commands are
/// missing before the batch is applied, so that the keys it creates get
/// their `new` event, before the command's own ones as on the master
/// (`notify::NewKeys`, which holds the events back until `finish`).
pub(crate) fn watch_new_keys(shared: &Arc<Shared>, batch: &[u8]) -> Option<NewKeys> {
    if !watches_new_keys(shared) {
        return None;
    }
    let mut args: Vec<Bytes> = Vec::new();
    for record in batch_records(batch) {
        if let BatchRecord::LogData(blob) = record {
            if let Some(command) = basalt_core::command_log::decode(blob) {
                if args.is_empty() {
                    args.push(Bytes::from(command.name));
                }
                args.extend(command.keys.into_iter().map(Bytes::from));
            }
        }
    }
    // NewKeys reads COPY's arguments past its two keys; a record from a
    // master that names fewer is not worth a look.
    if args.len() < 3
        && args
            .first()
            .is_some_and(|n| n.eq_ignore_ascii_case(b"copy"))
    {
        return None;
    }
    let keys = args.get(1..).unwrap_or_default();
    NewKeys::watch(shared, keys.iter(), &args)
}

/// Whether `watch_new_keys` has anything to do.
pub(crate) fn watches_new_keys(shared: &Shared) -> bool {
    shared.notify.wants(basalt_core::notify::NEW) && shared.pubsub.has_listeners()
}

#[derive(Default)]
pub(crate) struct Effects {
    /// `(channel, message)` published on the master.
    messages: Vec<(Vec<u8>, Vec<u8>)>,
    shard: bool,
    scripts_changed: bool,
    /// The commands whose writes the batch holds.
    commands: Vec<CommandRecord>,
    /// The user keys the batch changed.
    pub(crate) keys: Vec<Bytes>,
}

impl Effects {
    /// Reads them from a batch (which must have been applied: a malformed
    /// batch yields nothing). The changed keys are gathered only when
    /// someone needs them: WATCH, client-side caching, blocked clients or
    /// keyspace notifications.
    pub(crate) fn of(shared: &Shared, storage: &Storage, batch: &[u8]) -> Effects {
        let needs_keys = shared.watches.active()
            || shared.tracking.active()
            || shared.blocking.has_waiters()
            || (shared.notify.wants(u32::MAX) && shared.pubsub.has_listeners());
        let mut effects = Effects::default();
        // Log data is decoded only for someone: the commands raise
        // keyspace notifications, and mark a published message as SPUBLISH.
        let mut logs: Vec<&[u8]> = Vec::new();
        if needs_keys {
            effects.keys = storage
                .batch_user_keys(batch)
                .into_iter()
                .map(Bytes::from)
                .collect();
        }
        for record in batch_records(batch) {
            match record {
                BatchRecord::LogData(blob) => logs.push(blob),
                BatchRecord::Put {
                    cf: ColumnFamily::PubSub,
                    key,
                    value,
                } => effects.messages.push((key.to_vec(), value.to_vec())),
                BatchRecord::Put {
                    cf: ColumnFamily::Propagate,
                    key,
                    ..
                }
                | BatchRecord::Delete {
                    cf: ColumnFamily::Propagate,
                    key,
                }
                | BatchRecord::DeleteRange {
                    cf: ColumnFamily::Propagate,
                    from: key,
                    ..
                } => effects.scripts_changed |= basalt_core::scripting::is_script_record(key),
                _ => {}
            }
        }
        let notifies = shared.notify.wants(u32::MAX) && shared.pubsub.has_listeners();
        if notifies || !effects.messages.is_empty() {
            for blob in logs {
                if let Some(command) = basalt_core::command_log::decode(blob) {
                    effects.shard |= command.name == "spublish";
                    effects.commands.push(command);
                }
            }
        }
        effects
    }

    /// `new_keys`: from [`watch_new_keys`] before the batch was applied.
    pub(crate) fn run(self, shared: &Arc<Shared>, new_keys: Option<NewKeys>) {
        if self.scripts_changed {
            if let Err(e) = shared.scripting.reload(&shared.data().storage) {
                tracing::error!("replication: cannot reload the scripts and functions: {e}");
            }
        }
        if shared.notify.wants(u32::MAX) && shared.pubsub.has_listeners() {
            let changed: Vec<Vec<u8>> = self.keys.iter().map(|k| k.to_vec()).collect();
            for command in &self.commands {
                crate::events::raise(shared, command, &changed);
            }
        }
        if let Some(new_keys) = new_keys {
            new_keys.finish(shared);
        }
        for (channel, message) in &self.messages {
            shared.pubsub.publish(self.shard, channel, message);
        }
        if !self.keys.is_empty() && shared.blocking.has_waiters() {
            shared.blocking.serve(shared, self.keys);
        }
    }
}
