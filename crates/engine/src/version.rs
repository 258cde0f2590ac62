//! Key versions: `(now_µs << 11) + counter mod 2048`, as Kvrocks makes them.
//! A new version on every (re)creation of a collection is what makes DEL and
//! overwrite O(1): subkeys of older versions are invisible and are dropped
//! by the compaction filter.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

const COUNTER_BITS: u32 = 11;

fn counter() -> &'static AtomicU64 {
    // Random start per process, so a promoted replica whose clock went
    // backwards does not hand out a version its master already used.
    static COUNTER: OnceLock<AtomicU64> = OnceLock::new();
    COUNTER.get_or_init(|| AtomicU64::new(rand::random::<u64>() % (1 << COUNTER_BITS)))
}

pub fn generate_version() -> u64 {
    let now_us = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0);
    let c = counter().fetch_add(1, Ordering::Relaxed);
    (now_us << COUNTER_BITS) + (c % (1 << COUNTER_BITS))
}

/// The creation time in microseconds that a version encodes.
pub fn version_time_us(version: u64) -> u64 {
    version >> COUNTER_BITS
}

pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_distinct_and_carry_time() {
        let a = generate_version();
        let b = generate_version();
        assert_ne!(a, b);
        let t = version_time_us(a) / 1000;
        assert!(t.abs_diff(now_ms()) < 10_000);
    }
}
