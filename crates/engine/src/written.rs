//! Which user keys a command really wrote: every put and delete made on
//! this thread while a recording is open names its user key (decoded from
//! the RocksDB key). WATCH and client-side caching use it to invalidate
//! only keys that changed, as Redis's `signalModifiedKey` does: an SMOVE
//! whose member is already in the destination does not touch it.

use std::cell::RefCell;

/// What one recording saw.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Written {
    pub keys: Vec<Vec<u8>>,
    /// A write whose keys cannot be named (a range delete): the caller
    /// must fall back to the keys the command names.
    pub unknown: bool,
}

thread_local! {
    /// Open recordings, innermost last (EXEC records, and so does each
    /// command inside it).
    static STACK: RefCell<Vec<Written>> = const { RefCell::new(Vec::new()) };
}

/// Closes the innermost recording, adding what it saw to the one around
/// it, and returns it.
fn close() -> Written {
    STACK.with(|s| {
        let mut s = s.borrow_mut();
        let done = s.pop().unwrap_or_default();
        if let Some(parent) = s.last_mut() {
            parent.keys.extend(done.keys.iter().cloned());
            parent.unknown |= done.unknown;
        }
        done
    })
}

/// Closes the recording if the recorded code panics.
struct Open;

impl Drop for Open {
    fn drop(&mut self) {
        close();
    }
}

/// Runs `f`, recording the user keys it writes on this thread.
pub fn recording<R>(f: impl FnOnce() -> R) -> (R, Written) {
    STACK.with(|s| s.borrow_mut().push(Written::default()));
    let open = Open;
    let result = f();
    std::mem::forget(open);
    (result, close())
}

/// Notes a write; `key` is `None` for one that names no single key.
pub(crate) fn note(key: impl FnOnce() -> Option<Option<Vec<u8>>>) {
    STACK.with(|s| {
        let mut s = s.borrow_mut();
        let Some(top) = s.last_mut() else {
            return;
        };
        match key() {
            // Not a user key (scripts, replication bookkeeping).
            None => {}
            Some(Some(k)) if !top.keys.contains(&k) => top.keys.push(k),
            Some(Some(_)) => {}
            Some(None) => top.unknown = true,
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_recordings_feed_their_parent() {
        let ((), outer) = recording(|| {
            note(|| Some(Some(b"a".to_vec())));
            let ((), inner) = recording(|| note(|| Some(Some(b"b".to_vec()))));
            assert_eq!(inner.keys, vec![b"b".to_vec()]);
            note(|| Some(None));
        });
        assert_eq!(outer.keys, vec![b"a".to_vec(), b"b".to_vec()]);
        assert!(outer.unknown);
        // Nothing records outside a recording.
        note(|| panic!("not called"));
    }

    #[test]
    fn a_panic_closes_the_recording() {
        let r = std::panic::catch_unwind(|| recording(|| panic!("boom")));
        assert!(r.is_err());
        STACK.with(|s| assert!(s.borrow().is_empty()));
    }
}
