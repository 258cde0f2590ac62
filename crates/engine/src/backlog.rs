//! The replication backlog: the batches written lately, in memory, so that
//! the master's feed threads send them without reading the WAL.
//!
//! Why not the WAL alone: RocksDB's `GetUpdatesSince` finds a sequence by
//! reading the WAL file from its beginning, and its iterator cannot tail
//! the live WAL here. The C++ iterator gives up (`TryAgain`) as soon as the
//! newest sequence is not in the file yet, which with `manual_wal_flush` is
//! almost always the case under load, and the rocksdb crate's iterator
//! never moves again once it ended. A feed that re-opens one per pass reads
//! the whole live WAL file again and again: a third of a busy master's CPU
//! with one replica attached (docs/benchmarks.md). So, while at least one
//! feed uses it, every write also lands here (see `Storage::write_unfenced`)
//! and feeds read it; a feed whose next sequence is older than what the
//! backlog holds reads the WAL, and comes back here when it catches up.
//!
//! Entries are the batches as each writer handed them to RocksDB, with the
//! sequence RocksDB gave them: the same bytes a WAL record holds, except
//! that RocksDB merges the batches of concurrent writers into one WAL
//! record, which here stay separate. A replica applies them one by one
//! and ends with the same sequence numbers either way (see `cut_batch` in
//! `replication.rs` for a replica that stops between two of them).

use parking_lot::{Condvar, Mutex};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// How many bytes of batches the backlog keeps until told otherwise
/// (`repl-backlog-size`): at about 200 bytes per small write, a few hundred
/// thousand writes, several seconds of a busy master. A replica further
/// behind reads the WAL.
pub const BACKLOG_BYTES: usize = 64 << 20;
/// What an entry costs besides its bytes (the entry and the allocation).
const ENTRY_OVERHEAD: usize = 64;
/// Batches that arrived before an earlier one are held back until it
/// arrives (writers push after RocksDB returns, in no particular order).
/// If this many wait, the missing one never comes (a write that bypassed
/// the backlog, as one racing with its start): start again after the gap.
const MAX_OUT_OF_ORDER: usize = 1024;
/// How many entries from the end `Inner::position` looks at one by one.
const NEAR_END: usize = 256;

/// One batch as RocksDB wrote it.
#[derive(Clone)]
pub struct Entry {
    pub sequence: u64,
    pub count: u64,
    pub data: Arc<[u8]>,
}

impl Entry {
    pub fn next_sequence(&self) -> u64 {
        self.sequence + self.count
    }
}

#[derive(Default)]
struct Inner {
    /// Contiguous: each entry starts where the one before ends.
    entries: VecDeque<Entry>,
    bytes: usize,
    /// Arrived before the entry that precedes them, in no order: a few at
    /// most (one per writer that overtook another), so a scan beats a map.
    early: Vec<Entry>,
    /// Feeds waiting for a new entry.
    waiting: usize,
}

impl Inner {
    fn end(&self) -> Option<u64> {
        self.entries.back().map(Entry::next_sequence)
    }

    fn append(&mut self, entry: Entry, limit: usize) {
        self.bytes += entry.data.len() + ENTRY_OVERHEAD;
        self.entries.push_back(entry);
        self.trim(limit);
    }

    /// The index of the entry starting at `sequence`. A feed that keeps up
    /// reads near the end: a look back over a few entries first, before a
    /// search that touches entries long out of the CPU's caches.
    fn position(&self, sequence: u64) -> Option<usize> {
        let len = self.entries.len();
        for i in (len.saturating_sub(NEAR_END)..len).rev() {
            let e = &self.entries[i];
            if e.sequence == sequence {
                return Some(i);
            }
            if e.sequence < sequence {
                return None;
            }
        }
        self.entries
            .binary_search_by_key(&sequence, |e| e.sequence)
            .ok()
    }

    fn trim(&mut self, limit: usize) {
        while self.bytes > limit && self.entries.len() > 1 {
            if let Some(old) = self.entries.pop_front() {
                self.bytes -= old.data.len() + ENTRY_OVERHEAD;
            }
        }
    }

    fn clear(&mut self) {
        self.entries.clear();
        self.early.clear();
        self.bytes = 0;
    }
}

/// What the backlog holds at a sequence.
pub enum Lookup {
    /// Entries from the sequence on (at least one) were read: the
    /// sequence after the last of them.
    Batches(u64),
    /// Nothing yet: the sequence is the next one the backlog expects (or
    /// later), or the backlog is empty.
    NotYet,
    /// The sequence is older than the backlog's first entry (or falls
    /// inside an entry): read the WAL.
    Older,
}

/// See the module comment.
pub struct Backlog {
    inner: Mutex<Inner>,
    wake: Condvar,
    /// Feeds using the backlog; writes land here only while there is one.
    users: AtomicUsize,
    limit: AtomicUsize,
}

impl Default for Backlog {
    fn default() -> Self {
        Backlog::with_limit(BACKLOG_BYTES)
    }
}

impl Backlog {
    pub fn with_limit(limit: usize) -> Backlog {
        Backlog {
            inner: Mutex::new(Inner::default()),
            wake: Condvar::new(),
            users: AtomicUsize::new(0),
            limit: AtomicUsize::new(limit),
        }
    }

    /// Keeps at most about `bytes` from now on.
    pub fn set_limit(&self, bytes: usize) {
        if self.limit.swap(bytes, Ordering::AcqRel) != bytes {
            self.inner.lock().trim(bytes);
        }
    }

    /// Whether writes must be recorded.
    pub fn is_on(&self) -> bool {
        self.users.load(Ordering::Acquire) > 0
    }

    /// Turns recording on until the returned guard is dropped (by the last
    /// of its users: then the memory is given back).
    pub fn use_it(self: &Arc<Self>) -> BacklogUse {
        let mut inner = self.inner.lock();
        if self.users.fetch_add(1, Ordering::AcqRel) == 0 {
            // Whatever a write pushed while nobody used it is stale.
            inner.clear();
        }
        BacklogUse(self.clone())
    }

    /// Records a batch RocksDB wrote at `sequence`.
    pub fn push(&self, sequence: u64, count: u64, data: Arc<[u8]>) {
        if count == 0 || !self.is_on() {
            return;
        }
        let entry = Entry {
            sequence,
            count,
            data,
        };
        let limit = self.limit.load(Ordering::Acquire);
        let mut inner = self.inner.lock();
        // Checked again under the lock, which the last user's drop takes
        // to clear: nothing is left behind once it is off.
        if !self.is_on() {
            return;
        }
        match inner.end() {
            None => inner.append(entry, limit),
            Some(end) if sequence == end => inner.append(entry, limit),
            // Before the backlog's start (a writer that raced with it) or
            // already there: the WAL has it.
            Some(end) if sequence < end => return,
            Some(_) => {
                inner.early.push(entry);
                if inner.early.len() > MAX_OUT_OF_ORDER {
                    // A gap that will not fill: start again after it.
                    let early = std::mem::take(&mut inner.early);
                    inner.clear();
                    inner.early = early;
                    let first = (0..inner.early.len()).min_by_key(|&i| inner.early[i].sequence);
                    if let Some(first) = first {
                        let first = inner.early.swap_remove(first);
                        inner.append(first, limit);
                    }
                } else {
                    return;
                }
            }
        }
        if !inner.early.is_empty() {
            // Entries that were waiting for this one.
            while let Some(end) = inner.end() {
                match inner.early.iter().position(|e| e.sequence == end) {
                    Some(at) => {
                        let next = inner.early.swap_remove(at);
                        inner.append(next, limit);
                    }
                    None => break,
                }
            }
            let old = inner.entries.front().map_or(0, |e| e.sequence);
            inner.early.retain(|e| e.sequence >= old);
        }
        if inner.waiting > 0 {
            self.wake.notify_all();
        }
    }

    /// Hands `each` the entries from `sequence` on, up to about
    /// `max_bytes`, under the backlog's lock: a feed copies them straight
    /// into what it sends, and no entry is shared beyond the backlog.
    pub fn read(&self, sequence: u64, max_bytes: usize, mut each: impl FnMut(&Entry)) -> Lookup {
        let inner = self.inner.lock();
        let (Some(first), Some(end)) = (inner.entries.front(), inner.end()) else {
            return Lookup::NotYet;
        };
        if sequence >= end {
            return Lookup::NotYet;
        }
        if sequence < first.sequence {
            return Lookup::Older;
        }
        let Some(at) = inner.position(sequence) else {
            return Lookup::Older;
        };
        let mut bytes = 0;
        let mut next = sequence;
        for e in inner.entries.range(at..) {
            each(e);
            next = e.next_sequence();
            bytes += e.data.len();
            if bytes >= max_bytes {
                break;
            }
        }
        Lookup::Batches(next)
    }

    /// Whether an entry starts at `sequence`.
    pub fn starts_at(&self, sequence: u64) -> bool {
        let inner = self.inner.lock();
        inner
            .entries
            .binary_search_by_key(&sequence, |e| e.sequence)
            .is_ok()
    }

    /// The sequence of the first entry (0 when empty).
    pub fn first(&self) -> u64 {
        self.inner.lock().entries.front().map_or(0, |e| e.sequence)
    }

    /// The sequence the backlog expects next (0 when empty).
    pub fn end(&self) -> u64 {
        self.inner.lock().end().unwrap_or(0)
    }

    /// Waits until an entry ending after `sequence` arrives, or `timeout`.
    pub fn wait_past(&self, sequence: u64, timeout: Duration) {
        let mut inner = self.inner.lock();
        if inner.end().is_some_and(|end| end > sequence) {
            return;
        }
        inner.waiting += 1;
        let _ = self.wake.wait_for(&mut inner, timeout);
        inner.waiting -= 1;
    }

    /// Bytes held (for INFO).
    pub fn len_bytes(&self) -> usize {
        self.inner.lock().bytes
    }
}

/// A feed's hold on the backlog (see `Backlog::use_it`).
pub struct BacklogUse(Arc<Backlog>);

impl BacklogUse {
    pub fn backlog(&self) -> &Arc<Backlog> {
        &self.0
    }
}

impl Drop for BacklogUse {
    fn drop(&mut self) {
        let mut inner = self.0.inner.lock();
        if self.0.users.fetch_sub(1, Ordering::AcqRel) == 1 {
            inner.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(n: u8) -> Arc<[u8]> {
        Arc::from(vec![n; 10])
    }

    fn seqs(b: &Backlog, sequence: u64, max_bytes: usize) -> Vec<u64> {
        let mut read = Vec::new();
        let mut last_next = 0;
        match b.read(sequence, max_bytes, |e| {
            read.push(e.sequence);
            last_next = e.next_sequence();
        }) {
            Lookup::Batches(next) => {
                assert_eq!(next, last_next);
                read
            }
            Lookup::NotYet => vec![0],
            Lookup::Older => vec![1],
        }
    }

    #[test]
    fn records_only_while_used_and_in_order() {
        let b = Arc::new(Backlog::default());
        b.push(1, 1, data(1));
        assert!(matches!(b.read(1, 100, |_| {}), Lookup::NotYet));
        let user = b.use_it();
        b.push(5, 2, data(5));
        // 9 arrives before 7: held back until 7 is there.
        b.push(9, 1, data(9));
        assert_eq!(b.end(), 7);
        b.push(7, 2, data(7));
        assert_eq!(b.end(), 10);
        assert_eq!(seqs(&b, 5, 1000), vec![5, 7, 9]);
        assert_eq!(seqs(&b, 7, 15), vec![7, 9]);
        assert_eq!(seqs(&b, 7, 5), vec![7]);
        assert_eq!(seqs(&b, 6, 100), vec![1], "inside an entry");
        assert_eq!(seqs(&b, 4, 100), vec![1], "before the start");
        assert_eq!(seqs(&b, 10, 100), vec![0]);
        // A writer that raced with the start: the WAL has it.
        b.push(4, 1, data(4));
        assert_eq!(seqs(&b, 5, 1000), vec![5, 7, 9]);
        drop(user);
        assert!(!b.is_on());
        assert!(matches!(b.read(5, 100, |_| {}), Lookup::NotYet));
    }

    #[test]
    fn keeps_its_size_and_gets_over_a_gap() {
        let b = Arc::new(Backlog::with_limit(10 * (10 + ENTRY_OVERHEAD)));
        let _user = b.use_it();
        for s in 1..=100 {
            b.push(s, 1, data(s as u8));
        }
        assert_eq!(seqs(&b, 91, 1000), (91..=100).collect::<Vec<_>>());
        assert!(matches!(b.read(90, 1000, |_| {}), Lookup::Older));
        // 101 never comes.
        for s in 102..(103 + MAX_OUT_OF_ORDER as u64) {
            b.push(s, 1, data(1));
        }
        assert!(matches!(b.read(101, 1000, |_| {}), Lookup::Older));
        assert_eq!(b.end(), 103 + MAX_OUT_OF_ORDER as u64);
    }

    #[test]
    fn finds_entries_near_the_end_and_far_from_it() {
        let b = Arc::new(Backlog::default());
        let _user = b.use_it();
        let n = 4 * NEAR_END as u64;
        for i in 0..n {
            b.push(1 + 2 * i, 2, data(1));
        }
        for i in [
            0,
            1,
            n / 2,
            n - NEAR_END as u64 - 1,
            n - NEAR_END as u64,
            n - 2,
            n - 1,
        ] {
            let at = 1 + 2 * i;
            assert_eq!(seqs(&b, at, 10), vec![at], "entry {i}");
            assert_eq!(seqs(&b, at + 1, 10), vec![1], "inside entry {i}");
        }
        assert_eq!(seqs(&b, 1 + 2 * n, 10), vec![0]);
    }
}
