//! The log data a thread's writes carry into the WAL: RocksDB `LogData`
//! records, which take no sequence number and never reach the memtables
//! but travel with their batch to every replica. Basalt's command layer
//! puts the name and keys of the command it runs here, so that a replica,
//! which applies batches and never sees commands, can still tell its
//! subscribers what happened (keyspace notifications).
//!
//! The engine does not read the blob; it only attaches it: to the first
//! non-empty batch written inside [`scoped`] (a command writes one batch;
//! inside a transaction, the first of the command's writes), or to every
//! one for a `sticky` scope (a background task whose batches all mean the
//! same thing).

use std::cell::RefCell;

struct Scope {
    blob: Vec<u8>,
    sticky: bool,
    attached: bool,
}

thread_local! {
    static SCOPE: RefCell<Option<Scope>> = const { RefCell::new(None) };
}

/// Restores the enclosing scope (a script's command inside EVAL), also
/// when `f` panics.
struct Restore(Option<Scope>);

impl Drop for Restore {
    fn drop(&mut self) {
        let outer = self.0.take();
        SCOPE.with(|s| *s.borrow_mut() = outer);
    }
}

/// Runs `f` with `blob` attached to the batches it writes on this thread.
pub fn scoped<R>(blob: Vec<u8>, sticky: bool, f: impl FnOnce() -> R) -> R {
    let outer = SCOPE.with(|s| {
        s.borrow_mut().replace(Scope {
            blob,
            sticky,
            attached: false,
        })
    });
    let _restore = Restore(outer);
    f()
}

/// The blob for the batch about to be written, if it gets one.
pub(crate) fn for_batch() -> Option<Vec<u8>> {
    SCOPE.with(|s| {
        let mut s = s.borrow_mut();
        let scope = s.as_mut()?;
        if scope.attached && !scope.sticky {
            return None;
        }
        scope.attached = true;
        Some(scope.blob.clone())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn once_per_scope_unless_sticky_and_nested_scopes_restore() {
        assert_eq!(for_batch(), None);
        scoped(b"outer".to_vec(), false, || {
            scoped(b"inner".to_vec(), false, || {
                assert_eq!(for_batch().as_deref(), Some(&b"inner"[..]));
                assert_eq!(for_batch(), None);
            });
            assert_eq!(for_batch().as_deref(), Some(&b"outer"[..]));
            assert_eq!(for_batch(), None);
        });
        scoped(b"s".to_vec(), true, || {
            assert!(for_batch().is_some());
            assert!(for_batch().is_some());
        });
        assert_eq!(for_batch(), None);
    }
}
