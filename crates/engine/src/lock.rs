//! Per-key locks that serialize read-modify-write commands.
//!
//! Keys hash onto a fixed array of mutexes (as Kvrocks' LockManager does), so
//! memory stays constant however many keys exist. Multi-key commands take
//! their shards in ascending order, which rules out deadlock between them.

use parking_lot::{Mutex, MutexGuard};
use std::hash::{BuildHasher, Hasher};

const SHARD_BITS: u32 = 14;

pub struct KeyLocks {
    shards: Box<[Mutex<()>]>,
    hasher: std::collections::hash_map::RandomState,
}

/// Holds the locks of one command's keys until dropped.
pub struct LockGuard<'a> {
    _guards: Vec<MutexGuard<'a, ()>>,
}

impl Default for KeyLocks {
    fn default() -> Self {
        Self::new()
    }
}

impl KeyLocks {
    pub fn new() -> Self {
        KeyLocks {
            shards: (0..1usize << SHARD_BITS).map(|_| Mutex::new(())).collect(),
            hasher: Default::default(),
        }
    }

    fn shard_of(&self, key: &[u8]) -> usize {
        let mut h = self.hasher.build_hasher();
        h.write(key);
        (h.finish() as usize) & ((1 << SHARD_BITS) - 1)
    }

    pub fn lock(&self, key: &[u8]) -> LockGuard<'_> {
        LockGuard {
            _guards: vec![self.shards[self.shard_of(key)].lock()],
        }
    }

    pub fn lock_many<K: AsRef<[u8]>>(&self, keys: &[K]) -> LockGuard<'_> {
        let mut shards: Vec<usize> = keys.iter().map(|k| self.shard_of(k.as_ref())).collect();
        shards.sort_unstable();
        shards.dedup();
        LockGuard {
            _guards: shards.into_iter().map(|s| self.shards[s].lock()).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn lock_many_with_duplicates_does_not_deadlock() {
        let locks = KeyLocks::new();
        let _g = locks.lock_many(&[b"a".as_ref(), b"b", b"a"]);
    }

    #[test]
    fn locks_exclude_each_other() {
        let locks = Arc::new(KeyLocks::new());
        let counter = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let (locks, counter) = (locks.clone(), counter.clone());
                std::thread::spawn(move || {
                    for _ in 0..1000 {
                        let _g = locks.lock_many(&[b"x".as_ref(), b"y"]);
                        // A non-atomic read-modify-write made safe by the lock.
                        let v = counter.load(std::sync::atomic::Ordering::Relaxed);
                        counter.store(v + 1, std::sync::atomic::Ordering::Relaxed);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(counter.load(std::sync::atomic::Ordering::Relaxed), 4000);
    }
}
