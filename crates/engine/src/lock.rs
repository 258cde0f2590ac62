//! Per-key locks that serialize read-modify-write commands.
//!
//! Keys hash onto a fixed array of mutexes (as Kvrocks' LockManager does), so
//! memory stays constant however many keys exist. Multi-key commands take
//! their shards in ascending order, which rules out deadlock between them.

use crate::txn;
use parking_lot::{Mutex, MutexGuard};
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// How long a transaction waits for the lock of a key it did not declare
/// (a script touching a key not in KEYS) before going on without it. Such
/// locks are taken out of order, so two transactions could otherwise wait
/// on each other forever.
const UNDECLARED_KEY_WAIT: Duration = Duration::from_millis(500);

const SHARD_BITS: u32 = 14;

pub struct KeyLocks {
    shards: Box<[Mutex<()>]>,
    hasher: std::collections::hash_map::RandomState,
    /// Undeclared keys whose lock stayed busy past `UNDECLARED_KEY_WAIT`
    /// (INFO stats `undeclared_key_lock_timeouts`).
    undeclared_timeouts: AtomicU64,
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
            undeclared_timeouts: AtomicU64::new(0),
        }
    }

    fn shard_of(&self, key: &[u8]) -> usize {
        let mut h = self.hasher.build_hasher();
        h.write(key);
        (h.finish() as usize) & ((1 << SHARD_BITS) - 1)
    }

    /// Identifies this lock table in a thread's transaction state.
    pub(crate) fn owner(&self) -> usize {
        self as *const KeyLocks as usize
    }

    pub fn lock(&self, key: &[u8]) -> LockGuard<'_> {
        let shard = self.shard_of(key);
        if let Some(guard) = self.lock_in_txn(&[shard]) {
            return guard;
        }
        LockGuard {
            _guards: vec![self.shards[shard].lock()],
        }
    }

    pub fn lock_many<K: AsRef<[u8]>>(&self, keys: &[K]) -> LockGuard<'_> {
        let shards = self.shards_of(keys);
        if let Some(guard) = self.lock_in_txn(&shards) {
            return guard;
        }
        LockGuard {
            _guards: shards.into_iter().map(|s| self.shards[s].lock()).collect(),
        }
    }

    /// The sorted, distinct lock shards of `keys`.
    pub(crate) fn shards_of<K: AsRef<[u8]>>(&self, keys: &[K]) -> Vec<usize> {
        let mut shards: Vec<usize> = keys.iter().map(|k| self.shard_of(k.as_ref())).collect();
        shards.sort_unstable();
        shards.dedup();
        shards
    }

    /// Inside a transaction, locks are held until it ends: shards it holds
    /// already are not taken again (they are not reentrant), others are
    /// added to it. `None` when the thread is not in a transaction.
    ///
    /// A command inside a transaction has had its keys taken by
    /// `lock_in_txn_or_refuse` before it runs, so this only waits for keys
    /// no key spec names (SORT's BY and GET patterns); those go on without
    /// the lock when it stays busy, and are counted.
    fn lock_in_txn(&self, shards: &[usize]) -> Option<LockGuard<'_>> {
        txn::with_txn(self.owner(), |state| {
            if !self.take_in_txn(state, shards) {
                tracing::warn!(
                    "a transaction touched a key it did not declare and its lock stayed busy; going on without it"
                );
            }
            LockGuard {
                _guards: Vec::new(),
            }
        })
    }

    /// Adds the shards to the transaction, waiting at most
    /// `UNDECLARED_KEY_WAIT` for each (they are taken out of order, so two
    /// transactions could otherwise wait on each other forever). False when
    /// one stayed busy.
    fn take_in_txn(&self, state: &mut txn::TxnState, shards: &[usize]) -> bool {
        let mut all = true;
        for &s in shards {
            if state.held.contains(&s) {
                continue;
            }
            if let Some(g) = self.shards[s].try_lock_for(UNDECLARED_KEY_WAIT) {
                std::mem::forget(g);
                state.held.push(s);
            } else {
                self.undeclared_timeouts.fetch_add(1, Ordering::Relaxed);
                all = false;
            }
        }
        all
    }

    /// Inside a transaction, takes the locks of a command's keys before it
    /// runs. False when one stayed busy: the command must be refused rather
    /// than run without it, since the transaction promised atomicity.
    /// True outside a transaction (the command locks for itself).
    pub fn lock_in_txn_or_refuse<K: AsRef<[u8]>>(&self, keys: &[K]) -> bool {
        let shards = self.shards_of(keys);
        txn::with_txn(self.owner(), |state| self.take_in_txn(state, &shards)).unwrap_or(true)
    }

    pub fn undeclared_timeouts(&self) -> u64 {
        self.undeclared_timeouts.load(Ordering::Relaxed)
    }

    /// Takes the shards (sorted, so transactions cannot deadlock with each
    /// other or with multi-key commands) for a transaction that keeps them
    /// past this call; released by `release_forgotten`.
    pub(crate) fn acquire_forgotten(&self, shards: &[usize]) {
        for &s in shards {
            std::mem::forget(self.shards[s].lock());
        }
    }

    pub(crate) fn release_forgotten(&self, shards: &[usize]) {
        for &s in shards {
            // SAFETY: each shard listed was locked by `acquire_forgotten`
            // or `lock_in_txn` on this thread, and its guard forgotten.
            unsafe { self.shards[s].force_unlock() };
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
