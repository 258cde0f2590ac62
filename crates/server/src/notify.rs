//! Keyspace notifications: the one place commands report what they changed
//! and where those events become pub/sub messages on
//! `__keyspace@0__:<key>` (payload: the event) and `__keyevent@0__:<event>`
//! (payload: the key), as Redis's `notify.c` does.
//!
//! Handlers call [`emit`] only when the command really changed something,
//! with Redis 7.2's event names. With `notify-keyspace-events` empty (the
//! default) an event costs one relaxed atomic load.

use crate::shared::Shared;
use basalt_config::KeyspaceEvents;
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
use std::sync::Arc;

pub const GENERIC: u32 = KeyspaceEvents::GENERIC;
pub const STRING: u32 = KeyspaceEvents::STRING;
pub const LIST: u32 = KeyspaceEvents::LIST;
pub const SET: u32 = KeyspaceEvents::SET;
pub const HASH: u32 = KeyspaceEvents::HASH;
pub const ZSET: u32 = KeyspaceEvents::ZSET;
pub const EXPIRED: u32 = KeyspaceEvents::EXPIRED;
pub const NEW: u32 = KeyspaceEvents::NEW;

const KEYSPACE: u32 = KeyspaceEvents::KEYSPACE;
const KEYEVENT: u32 = KeyspaceEvents::KEYEVENT;

/// The live copy of `notify-keyspace-events`, updated by CONFIG SET.
pub struct Notifier {
    flags: AtomicU32,
}

impl Notifier {
    pub fn new(events: KeyspaceEvents) -> Notifier {
        let n = Notifier {
            flags: AtomicU32::new(0),
        };
        n.set_flags(events);
        n
    }

    pub fn set_flags(&self, events: KeyspaceEvents) {
        // Without K or E no channel is selected: store 0 so the hot path
        // needs one test.
        let bits = if events.is_active() { events.bits() } else { 0 };
        self.flags.store(bits, Relaxed);
    }

    /// Whether events of `class` are published at all.
    #[inline]
    pub fn wants(&self, class: u32) -> bool {
        self.flags.load(Relaxed) & class != 0
    }
}

/// Reports that `event` (of `class`) happened to `key`.
#[inline]
pub fn emit(shared: &Arc<Shared>, class: u32, event: &'static str, key: &[u8]) {
    if shared.notify.wants(class) {
        publish(shared, event, key);
    }
}

#[cold]
fn publish(shared: &Arc<Shared>, event: &'static str, key: &[u8]) {
    let flags = shared.notify.flags.load(Relaxed);
    let mut messages = Vec::with_capacity(2);
    if flags & KEYSPACE != 0 {
        let mut channel = b"__keyspace@0__:".to_vec();
        channel.extend_from_slice(key);
        messages.push((channel, event.as_bytes().to_vec()));
    }
    if flags & KEYEVENT != 0 {
        let mut channel = b"__keyevent@0__:".to_vec();
        channel.extend_from_slice(event.as_bytes());
        messages.push((channel, key.to_vec()));
    }
    deliver(shared, messages);
}

/// The single point where notifications leave for subscribers. Inside a
/// transaction they must wait for the commit; when the engine gains
/// `Storage::after_commit`, this is where it goes.
fn deliver(shared: &Arc<Shared>, messages: Vec<(Vec<u8>, Vec<u8>)>) {
    for (channel, payload) in messages {
        shared.pubsub.publish(false, &channel, &payload);
    }
}
