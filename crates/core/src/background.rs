//! Background work: WAL fsync for `appendfsync everysec`, and the active
//! expiration cycle that deletes expired keys without waiting for a read or
//! a compaction to find them.

use crate::shared::Shared;
use basalt_engine::SyncPolicy;
use basalt_types::expire::ExpireCycle;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

/// Starts a background thread; the server joins it at shutdown, before
/// RocksDB closes, so no thread is inside RocksDB when the process exits.
pub fn spawn(shared: &Arc<Shared>, name: &str, body: impl FnOnce() + Send + 'static) {
    let handle = std::thread::Builder::new()
        .name(name.into())
        .spawn(body)
        .unwrap_or_else(|e| panic!("cannot start thread {name}: {e}"));
    shared.background_threads.lock().push(handle);
}

/// Sleeps `d` in short steps; false once shutdown was requested.
fn nap(shared: &Shared, d: Duration) -> bool {
    let step = Duration::from_millis(50);
    let mut left = d;
    while !left.is_zero() {
        if shared.is_shutting_down() {
            return false;
        }
        let s = left.min(step);
        std::thread::sleep(s);
        left -= s;
    }
    !shared.is_shutting_down()
}

pub fn spawn_fsync(shared: Arc<Shared>) {
    let s = shared.clone();
    spawn(&s, "wal-fsync", move || {
        while nap(&shared, Duration::from_secs(1)) {
            // Under `no`, still hand the WAL buffer to the OS once a
            // second: background writes (the expire cycle) have no
            // client reply to flush them.
            let _access = shared.dataset.access();
            let data = shared.data();
            let storage = &data.storage;
            let result = match storage.sync_policy() {
                SyncPolicy::EverySec => storage.sync_wal(),
                SyncPolicy::No => storage.flush_wal_buffer(),
                SyncPolicy::Always => Ok(()),
            };
            if let Err(e) = result {
                tracing::error!("WAL flush failed: {e}");
            }
        }
    });
}

pub fn spawn_stats_sampler(shared: Arc<Shared>) {
    let s = shared.clone();
    spawn(&s, "stats-sampler", move || {
        shared.stats.run_sampler(|| shared.is_shutting_down())
    });
}

/// Every 1/hz seconds examine `keys-per-cycle` keys in key order, resuming
/// where the previous step stopped; when more than a quarter of them were
/// expired, keep going at once (as Redis's cycle does), up to 10 steps.
pub fn spawn_expire_cycle(shared: Arc<Shared>) {
    let s = shared.clone();
    spawn(&s, "active-expire", move || {
        let mut cycle = ExpireCycle::default();
        while !shared.is_shutting_down() {
            let (enabled, hz, budget) = {
                let c = shared.config.read();
                (
                    c.active_expire_enabled,
                    c.active_expire_hz.max(1),
                    c.active_expire_keys_per_cycle.max(1) as usize,
                )
            };
            if !nap(&shared, Duration::from_millis(1000 / hz as u64)) {
                break;
            }
            // Nothing may change while clients are paused (a failover
            // waits for a replica to catch up with a still master).
            if !enabled || shared.pause.active() {
                continue;
            }
            // A replica hides expired keys but leaves deleting them to its
            // master, whose deletions reach it through the stream.
            if shared.data().storage.is_fenced() {
                continue;
            }
            let _access = shared.dataset.access();
            for _ in 0..10 {
                // Its deletions reach replicas as `expired` ones.
                let blob = crate::command_log::marker(crate::command_log::EXPIRED);
                let step = basalt_engine::log_data::scoped(blob, true, || {
                    cycle.step(&shared.data().db, budget)
                });
                match step {
                    Ok(deleted) => {
                        for (key, key_deleted) in &cycle.hash_fields_expired {
                            crate::notify::emit(&shared, crate::notify::HASH, "hexpired", key);
                            if *key_deleted {
                                crate::notify::emit(&shared, crate::notify::GENERIC, "del", key);
                            }
                        }
                        for key in &deleted {
                            crate::notify::emit(&shared, crate::notify::EXPIRED, "expired", key);
                        }
                        if !deleted.is_empty() && shared.tracking.active() {
                            let keys: Vec<bytes::Bytes> = deleted
                                .iter()
                                .map(|k| bytes::Bytes::copy_from_slice(k))
                                .collect();
                            shared.tracking.invalidate(&shared, &keys, None);
                        }
                        shared
                            .stats
                            .expired_keys
                            .fetch_add(deleted.len() as u64, Relaxed);
                        if let Some(pass) = cycle.last_full_pass {
                            *shared.keyspace.lock() = Some(pass);
                        }
                        if deleted.len() * 4 < budget {
                            break;
                        }
                    }
                    Err(e) => {
                        tracing::error!("active expire cycle: {e}");
                        break;
                    }
                }
            }
        }
    });
}
