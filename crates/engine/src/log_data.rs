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
//!
//! Notes ([`collecting`]) are log data known only after the writes: they
//! go with the batch written at a transaction's commit.

use std::cell::RefCell;

/// Notes being collected on this thread (see [`collecting`]): the tag the
/// record starts with, then the notes so far.
struct Notes {
    buffer: Vec<u8>,
    tag_len: usize,
}

thread_local! {
    static NOTES: RefCell<Option<Notes>> = const { RefCell::new(None) };
}

/// Collects notes on this thread until dropped (see [`collecting`]).
pub struct Collecting {
    outer: bool,
}

/// Starts collecting notes on this thread, which `note` appends to: what
/// the writes made meanwhile did, known only once they ran (the keyspace
/// notifications of a command). They go into one log-data record, `tag`
/// followed by the notes, attached to the batch that carries the writes:
/// the transaction's at its commit, or, for a write outside any
/// transaction, that batch if the notes came before it. Notes left when
/// the collection ends are dropped. Inside a collection already under
/// way, the outer one goes on.
pub fn collecting(tag: &[u8]) -> Collecting {
    NOTES.with(|n| {
        let mut n = n.borrow_mut();
        if n.is_some() {
            return Collecting { outer: false };
        }
        *n = Some(Notes {
            buffer: tag.to_vec(),
            tag_len: tag.len(),
        });
        Collecting { outer: true }
    })
}

impl Drop for Collecting {
    fn drop(&mut self) {
        if self.outer {
            NOTES.with(|n| n.borrow_mut().take());
        }
    }
}

/// Whether notes are being collected on this thread.
pub fn collecting_now() -> bool {
    NOTES.with(|n| n.borrow().is_some())
}

/// Appends a note, written by `write`, if notes are being collected.
pub fn note(write: impl FnOnce(&mut Vec<u8>)) {
    NOTES.with(|n| {
        if let Some(notes) = n.borrow_mut().as_mut() {
            write(&mut notes.buffer);
        }
    });
}

/// The record of the notes collected so far, if any; the collection
/// starts over.
pub(crate) fn take_notes() -> Option<Vec<u8>> {
    NOTES.with(|n| {
        let mut n = n.borrow_mut();
        let notes = n.as_mut()?;
        if notes.buffer.len() == notes.tag_len {
            return None;
        }
        let fresh = notes.buffer[..notes.tag_len].to_vec();
        Some(std::mem::replace(&mut notes.buffer, fresh))
    })
}

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

    #[test]
    fn notes_are_taken_once_and_dropped_with_their_collection() {
        note(|b| b.extend_from_slice(b"lost"));
        assert_eq!(take_notes(), None);
        {
            let _outer = collecting(b"T ");
            assert!(collecting_now());
            assert_eq!(take_notes(), None);
            note(|b| b.extend_from_slice(b"a"));
            {
                let _inner = collecting(b"X ");
                note(|b| b.extend_from_slice(b"b"));
            }
            assert_eq!(take_notes().as_deref(), Some(&b"T ab"[..]));
            assert_eq!(take_notes(), None);
            note(|b| b.extend_from_slice(b"c"));
        }
        assert!(!collecting_now());
        assert_eq!(take_notes(), None);
    }
}
