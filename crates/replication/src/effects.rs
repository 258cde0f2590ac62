//! What a batch from the master does on a replica beyond its data, as a
//! Kvrocks replica does (`ReplicationThread::parseWriteBatch`), except
//! that every record of the batch is looked at, not only its last put:
//!
//! - a put in the PubSub column family is a message PUBLISHed on the
//!   master: delivered to this node's subscribers (channels and patterns;
//!   shard subscribers when the batch is marked `spublish`);
//! - a change of the scripts and function libraries in the propagate
//!   column family (`lua_*` records, Kvrocks' `script` command record):
//!   the replica reloads them, so EVALSHA and FCALL find them;
//! - the keyspace notifications the master recorded in the batch's log
//!   data (`basalt_core::command_log`) are raised here, in their order,
//!   with this node's `notify-keyspace-events`; the active expire cycle's
//!   deletions, marked `expired`, raise what a Redis replica raises for
//!   the DEL (or HDEL) its master sends it;
//! - clients blocked on a changed key (XREAD BLOCK) are served.
//!
//! All of it happens after the batch is written, outside the locks that
//! apply it, so no one hears of a change before it can be read.

use basalt_core::command_log::{self, Event};
use basalt_core::notify::{self, NewKeys, GENERIC, HASH};
use basalt_core::shared::Shared;
use basalt_engine::replication::{batch_records, BatchRecord};
use basalt_engine::{ColumnFamily, Storage};
use bytes::Bytes;
use std::sync::Arc;

/// With the `n` class on: notes which keys of the batch's events are
/// missing before the batch is applied, so that the keys it creates get
/// their `new` event, before their first other event as on the master
/// (`notify::NewKeys`, which holds the events back until `finish`). The
/// master does not record `new` (it works it out only when it listens for
/// it itself).
pub(crate) fn watch_new_keys(shared: &Arc<Shared>, batch: &[u8]) -> Option<NewKeys> {
    if !watches_new_keys(shared) {
        return None;
    }
    let mut keys: Vec<Bytes> = Vec::new();
    let mut renames = false;
    for event in batch_events(batch) {
        renames |= event.name == "rename_from";
        if !keys.iter().any(|k| k[..] == event.key[..]) {
            keys.push(Bytes::from(event.key));
        }
    }
    if keys.is_empty() {
        return None;
    }
    // RENAME's destination is new before its `rename_from`, as on the
    // master (`NewKeys` tells by the command's name).
    let name = Bytes::from_static(if renames { b"rename" } else { b"events" });
    NewKeys::watch(shared, keys.iter(), std::slice::from_ref(&name))
}

fn batch_events(batch: &[u8]) -> Vec<Event> {
    let mut events = Vec::new();
    for record in batch_records(batch) {
        if let BatchRecord::LogData(blob) = record {
            events.extend(command_log::decode_events(blob).unwrap_or_default());
        }
    }
    events
}

/// Whether `watch_new_keys` has anything to do.
pub(crate) fn watches_new_keys(shared: &Shared) -> bool {
    shared.notify.wants(notify::NEW) && shared.pubsub.has_listeners()
}

#[derive(Default)]
pub(crate) struct Effects {
    /// `(channel, message)` published on the master.
    messages: Vec<(Vec<u8>, Vec<u8>)>,
    shard: bool,
    scripts_changed: bool,
    /// The notifications the master recorded, in order.
    events: Vec<Event>,
    /// The batch holds the master's expire cycle's deletions.
    expired: bool,
    /// The user keys the batch changed.
    pub(crate) keys: Vec<Bytes>,
}

impl Effects {
    /// Reads them from a batch (which must have been applied: a malformed
    /// batch yields nothing). The changed keys are gathered only when
    /// someone needs them: WATCH, client-side caching, blocked clients or
    /// keyspace notifications.
    pub(crate) fn of(shared: &Shared, storage: &Storage, batch: &[u8]) -> Effects {
        let notifying = shared.notify.wants(u32::MAX) && shared.pubsub.has_listeners();
        let needs_keys = shared.watches.active()
            || shared.tracking.active()
            || shared.blocking.has_waiters()
            || notifying;
        let mut effects = Effects::default();
        if needs_keys {
            effects.keys = storage
                .batch_user_keys(batch)
                .into_iter()
                .map(Bytes::from)
                .collect();
        }
        for record in batch_records(batch) {
            match record {
                // The recorded events are decoded only for a listener.
                BatchRecord::LogData(blob) => {
                    if let Some(marker) = command_log::decode_marker(blob) {
                        effects.shard |= marker == command_log::SPUBLISH;
                        effects.expired |= marker == command_log::EXPIRED;
                    } else if notifying {
                        effects
                            .events
                            .extend(command_log::decode_events(blob).unwrap_or_default());
                    }
                }
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
            for event in &self.events {
                notify::emit(shared, event.class, &event.name, &event.key);
            }
            if self.expired {
                raise_expired(shared, &self.keys);
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

/// The master's expire cycle deleted `keys` (or some of their hash
/// fields): a Redis master sends its replicas a DEL (an HDEL for fields),
/// on which they raise `del` (`hdel`), never `expired`.
fn raise_expired(shared: &Arc<Shared>, keys: &[Bytes]) {
    for key in keys {
        if shared
            .data()
            .db
            .exists(&[key.as_ref()])
            .is_ok_and(|n| n > 0)
        {
            notify::emit(shared, HASH, "hdel", key);
        } else {
            notify::emit(shared, GENERIC, "del", key);
        }
    }
}
