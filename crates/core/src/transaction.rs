//! MULTI/EXEC state and WATCH's optimistic locking.
//!
//! A watched key is invalidated two ways: a write command marks the
//! watchers of the keys it really wrote (`basalt_engine::written`; all the
//! keys it names when it wrote a range it cannot name), and at EXEC a key that was alive when watched but is
//! gone now counts as changed, which covers expiry (lazy or by the active
//! cycle) without hooking either.

use bytes::Bytes;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

/// Commands queued by MULTI.
#[derive(Default)]
pub struct Multi {
    pub queued: Vec<Vec<Bytes>>,
    /// A command was rejected while queuing: EXEC answers EXECABORT.
    pub aborted: bool,
}

/// One connection's watched keys.
pub struct Watch {
    pub dirty: Arc<AtomicBool>,
    /// Each key and whether it existed (unexpired) when watched.
    pub keys: Vec<(Bytes, bool)>,
}

#[derive(Default)]
pub struct WatchRegistry {
    keys: Mutex<HashMap<Bytes, Vec<Arc<AtomicBool>>>>,
    /// Number of watch entries, so writers skip the map when nobody watches.
    entries: AtomicUsize,
}

impl WatchRegistry {
    pub fn watch(&self, key: Bytes, dirty: &Arc<AtomicBool>) {
        self.keys.lock().entry(key).or_default().push(dirty.clone());
        self.entries.fetch_add(1, Ordering::Relaxed);
    }

    pub fn unwatch(&self, watch: &Watch) {
        let mut map = self.keys.lock();
        for (key, _) in &watch.keys {
            if let Some(list) = map.get_mut(key) {
                if let Some(i) = list.iter().position(|d| Arc::ptr_eq(d, &watch.dirty)) {
                    list.swap_remove(i);
                    self.entries.fetch_sub(1, Ordering::Relaxed);
                }
                if list.is_empty() {
                    map.remove(key);
                }
            }
        }
    }

    pub fn active(&self) -> bool {
        self.entries.load(Ordering::Relaxed) > 0
    }

    /// Marks the watchers of `keys` as invalidated.
    pub fn touch<'a>(&self, keys: impl IntoIterator<Item = &'a Bytes>) {
        if self.entries.load(Ordering::Relaxed) == 0 {
            return;
        }
        let map = self.keys.lock();
        for key in keys {
            if let Some(list) = map.get(key) {
                for d in list {
                    d.store(true, Ordering::Release);
                }
            }
        }
    }

    /// Every key someone watches (FLUSHDB/FLUSHALL invalidate those that
    /// exist).
    pub fn watched_keys(&self) -> Vec<Bytes> {
        self.keys.lock().keys().cloned().collect()
    }
}
