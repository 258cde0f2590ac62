//! Numeric SCAN cursors.
//!
//! Keys on disk are ordered byte strings, so the natural cursor is the last
//! key returned, but many clients parse the cursor as an integer. The map
//! hands out integers that stand for "continue after this key", as Kvrocks'
//! `redis-cursor-compatible` mode does. It is bounded: the oldest cursors are
//! forgotten first, and a forgotten cursor is an error, never a silent restart.

use parking_lot::Mutex;
use std::collections::{HashMap, VecDeque};

const CAPACITY: usize = 65536;

pub struct CursorMap {
    inner: Mutex<Inner>,
}

struct Inner {
    next: u64,
    by_id: HashMap<u64, Vec<u8>>,
    order: VecDeque<u64>,
}

impl Default for CursorMap {
    fn default() -> Self {
        Self::new()
    }
}

impl CursorMap {
    pub fn new() -> Self {
        CursorMap {
            inner: Mutex::new(Inner {
                // Start away from small numbers so a stale client cursor from
                // a previous process is unlikely to name a live one.
                next: rand::random::<u32>() as u64 + 1,
                by_id: HashMap::new(),
                order: VecDeque::new(),
            }),
        }
    }

    pub fn insert(&self, last_key: Vec<u8>) -> u64 {
        let mut inner = self.inner.lock();
        let id = inner.next;
        inner.next += 1;
        if inner.order.len() >= CAPACITY {
            if let Some(old) = inner.order.pop_front() {
                inner.by_id.remove(&old);
            }
        }
        inner.by_id.insert(id, last_key);
        inner.order.push_back(id);
        id
    }

    pub fn get(&self, id: u64) -> Option<Vec<u8>> {
        self.inner.lock().by_id.get(&id).cloned()
    }
}
