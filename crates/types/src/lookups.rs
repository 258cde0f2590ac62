//! Keyspace hits and misses, as Redis counts them: every key a read-only
//! command looks up is a hit or a miss (INFO stats `keyspace_hits`,
//! `keyspace_misses`). The dispatcher counts around such commands; key
//! reads count on this thread while it does.

use std::cell::Cell;

thread_local! {
    static COUNTING: Cell<Option<(u64, u64)>> = const { Cell::new(None) };
}

/// Runs `f`, counting the key lookups it makes: `(result, hits, misses)`.
pub fn count_lookups<R>(f: impl FnOnce() -> R) -> (R, u64, u64) {
    let outer = COUNTING.with(|c| c.replace(Some((0, 0))));
    let result = f();
    let (hits, misses) = COUNTING.with(|c| c.replace(outer)).unwrap_or((0, 0));
    (result, hits, misses)
}

pub(crate) fn record(found: bool) {
    COUNTING.with(|c| {
        if let Some((hits, misses)) = c.get() {
            c.set(Some(if found {
                (hits + 1, misses)
            } else {
                (hits, misses + 1)
            }));
        }
    });
}
