//! Transactions: MULTI/EXEC and scripts run many commands as one atomic
//! unit. While a transaction is open on a thread, every batch a command
//! writes is appended to the transaction instead of going to RocksDB, and
//! reads on that thread see those pending writes (an overlay over the
//! database, as Kvrocks' WriteBatchWithIndex does). Commit writes all of it
//! as one RocksDB batch, so no other client and no crash ever sees half a
//! transaction.
//!
//! The transaction is per thread because commands are plain synchronous
//! functions that reach storage through `Storage`: routing their writes here
//! lets every existing command run inside MULTI or a script unchanged.

use crate::column_family::ColumnFamily;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::ops::Bound;

/// One write, kept as data while a transaction is open so that it can be
/// both applied to the overlay and replayed into the final RocksDB batch.
#[derive(Clone, Debug)]
pub(crate) enum Op {
    Put(ColumnFamily, Vec<u8>, Vec<u8>),
    Delete(ColumnFamily, Vec<u8>),
    DeleteRange(ColumnFamily, Vec<u8>, Vec<u8>),
    /// A command's log data (`crate::log_data`): goes into the WAL with
    /// the transaction's batch, changes nothing.
    LogData(Vec<u8>),
}

/// A command's writes. Outside a transaction it is a plain RocksDB batch;
/// inside one it records the operations (decided when the batch is made,
/// on the thread that will write it).
pub struct WriteBatch {
    pub(crate) inner: rocksdb::WriteBatch,
    pub(crate) ops: Option<Vec<Op>>,
}

impl Default for WriteBatch {
    fn default() -> Self {
        WriteBatch {
            inner: rocksdb::WriteBatch::default(),
            ops: in_txn().then(Vec::new),
        }
    }
}

impl WriteBatch {
    pub fn is_empty(&self) -> bool {
        match &self.ops {
            Some(ops) => ops.is_empty(),
            None => self.inner.is_empty(),
        }
    }
}

/// The pending writes of one column family, as the transaction's reads see
/// them: `None` values are deletions; range tombstones hide base entries
/// (entries written after a range delete live in `entries` and win).
#[derive(Default, Clone)]
pub(crate) struct CfOverlay {
    pub entries: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    pub tombstones: Vec<(Vec<u8>, Vec<u8>)>,
}

impl CfOverlay {
    pub fn hides_base(&self, key: &[u8]) -> bool {
        self.tombstones
            .iter()
            .any(|(from, to)| key >= from.as_slice() && key < to.as_slice())
    }

    /// What the overlay says about `key`: `Some(None)` = deleted,
    /// `Some(Some(v))` = written, `None` = ask the database.
    pub fn lookup(&self, key: &[u8]) -> Option<Option<&[u8]>> {
        if let Some(v) = self.entries.get(key) {
            return Some(v.as_deref());
        }
        if self.hides_base(key) {
            return Some(None);
        }
        None
    }

    /// The entries inside `[lower, upper)` in key order, and the range
    /// tombstones: an iterator's snapshot of the overlay.
    pub fn slice(&self, lower: Option<&[u8]>, upper: Option<&[u8]>) -> OverlaySlice {
        let lo = lower.map_or(Bound::Unbounded, Bound::Included);
        let hi = upper.map_or(Bound::Unbounded, Bound::Excluded);
        let entries = self
            .entries
            .range::<[u8], _>((lo, hi))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        (entries, self.tombstones.clone())
    }
}

/// Pending entries in key order, and range tombstones.
pub(crate) type OverlaySlice = (Vec<(Vec<u8>, Option<Vec<u8>>)>, Vec<(Vec<u8>, Vec<u8>)>);

pub(crate) struct TxnState {
    /// Identifies the Storage the transaction belongs to (its address).
    pub owner: usize,
    pub depth: u32,
    pub ops: Vec<Op>,
    pub overlay: Vec<CfOverlay>,
    /// Lock shards held until the transaction ends, sorted.
    pub held: Vec<usize>,
    pub after_commit: Vec<Box<dyn FnOnce() + Send>>,
    /// Run after the write but before the locks are released.
    pub on_commit: Vec<Box<dyn FnOnce() + Send>>,
}

impl TxnState {
    pub fn new(owner: usize) -> TxnState {
        TxnState {
            owner,
            depth: 1,
            ops: Vec::new(),
            overlay: vec![CfOverlay::default(); ColumnFamily::ALL.len()],
            held: Vec::new(),
            after_commit: Vec::new(),
            on_commit: Vec::new(),
        }
    }

    pub fn apply(&mut self, ops: Vec<Op>) {
        for op in &ops {
            match op {
                Op::Put(cf, k, v) => {
                    self.overlay[cf.index()]
                        .entries
                        .insert(k.clone(), Some(v.clone()));
                }
                Op::Delete(cf, k) => {
                    self.overlay[cf.index()].entries.insert(k.clone(), None);
                }
                Op::DeleteRange(cf, from, to) => {
                    let o = &mut self.overlay[cf.index()];
                    let doomed: Vec<Vec<u8>> = o
                        .entries
                        .range::<[u8], _>((
                            Bound::Included(from.as_slice()),
                            Bound::Excluded(to.as_slice()),
                        ))
                        .map(|(k, _)| k.clone())
                        .collect();
                    for k in doomed {
                        o.entries.remove(&k);
                    }
                    o.tombstones.push((from.clone(), to.clone()));
                }
                Op::LogData(_) => {}
            }
        }
        self.ops.extend(ops);
    }
}

thread_local! {
    pub(crate) static TXN: RefCell<Option<TxnState>> = const { RefCell::new(None) };
}

/// Whether the current thread is inside a transaction.
pub fn in_txn() -> bool {
    TXN.with(|t| t.borrow().is_some())
}

pub(crate) fn with_txn<R>(owner: usize, f: impl FnOnce(&mut TxnState) -> R) -> Option<R> {
    TXN.with(|t| match t.borrow_mut().as_mut() {
        Some(state) if state.owner == owner => Some(f(state)),
        _ => None,
    })
}
