//! The dataset: the storage engine and the data-type handle on it, behind
//! the dataset lock. Every command runs holding the lock shared; replacing
//! the whole dataset (a replica's full sync) takes it exclusively, so it
//! waits for the commands in flight, holds new ones back, and no command
//! ever sees half of the old data and half of the new. This is Kvrocks'
//! work-concurrency / work-exclusivity guard.

use arc_swap::ArcSwap;
use basalt_engine::{EngineError, Storage};
use basalt_types::Database;
use parking_lot::{RwLock, RwLockReadGuard};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One open database: what every command reads and writes.
pub struct Dataset {
    pub storage: Arc<Storage>,
    pub db: Database,
}

impl Dataset {
    pub fn new(storage: Arc<Storage>) -> Dataset {
        Dataset {
            db: Database::new(storage.clone()),
            storage,
        }
    }
}

pub struct DatasetSlot {
    lock: RwLock<()>,
    current: ArcSwap<Dataset>,
    /// A replacement is under way: commands that cannot run while the
    /// data is loading answer LOADING instead of waiting.
    loading: AtomicBool,
}

/// How long `swap_files` waits for the last users of the old storage
/// (a WAL flush, a BGSAVE thread) to let go before giving up.
const RELEASE_WAIT: Duration = Duration::from_secs(10);

/// Held while a command (or a background task) uses the dataset.
pub type Access<'a> = RwLockReadGuard<'a, ()>;

impl DatasetSlot {
    pub fn new(storage: Arc<Storage>) -> DatasetSlot {
        DatasetSlot {
            lock: RwLock::new(()),
            current: ArcSwap::from_pointee(Dataset::new(storage)),
            loading: AtomicBool::new(false),
        }
    }

    pub fn is_loading(&self) -> bool {
        self.loading.load(Ordering::Acquire)
    }

    /// The dataset now. Cheap (no shared counter in the common case).
    pub fn get(&self) -> arc_swap::Guard<Arc<Dataset>> {
        self.current.load()
    }

    /// Shared access for the length of one command. Recursive, because
    /// EXEC and scripts run commands inside a command: a plain read lock
    /// would deadlock there behind a queued replacement.
    pub fn access(&self) -> Access<'_> {
        self.lock.read_recursive()
    }

    /// Waits until no command holds `access` (the ones in flight have
    /// finished), up to `timeout`; `false` when they did not in time. A
    /// failover calls it after fencing the storage: from then on no write
    /// can still land on this node.
    pub fn quiesce(&self, timeout: Duration) -> bool {
        self.lock.try_write_for(timeout).is_some()
    }

    /// Waits (at most `wait`) until no command is running and keeps new
    /// ones from starting while the guard lives: a slot migration forbids
    /// writes to its slots under it, so no write that passed the check
    /// before is still in flight (Kvrocks' exclusive lock).
    pub fn exclusive_for(&self, wait: Duration) -> Option<parking_lot::RwLockWriteGuard<'_, ()>> {
        self.lock.try_write_for(wait)
    }

    /// Replaces the dataset: waits for every holder of `access` to finish,
    /// then `replace` gets the old dataset (its background work stopped)
    /// and returns the new storage. When it fails, it must have left the
    /// old storage usable (or reopened it); the old dataset stays in place.
    pub fn replace(
        &self,
        replace: impl FnOnce(&Dataset) -> Result<Arc<Storage>, EngineError>,
    ) -> Result<Arc<Dataset>, EngineError> {
        let _exclusive = self.lock.write();
        let old = self.current.load_full();
        old.db.stop_background();
        let storage = match replace(&old) {
            Ok(storage) => storage,
            Err(e) => {
                // Background work (reclaiming deleted collections) resumes
                // on a fresh handle over the old storage.
                self.current
                    .store(Arc::new(Dataset::new(old.storage.clone())));
                return Err(e);
            }
        };
        let new = Arc::new(Dataset::new(storage));
        self.current.store(new.clone());
        Ok(new)
    }

    /// Replaces the dataset with one that takes the old one's place on
    /// disk (a replica's full sync: the checkpoint becomes `<dir>/db`).
    /// RocksDB must have closed the old database before its directory
    /// moves (it deletes obsolete files by path when it closes), so the
    /// old dataset is taken out, `placeholder` serves anything that looks
    /// at the slot meanwhile, and once nobody else holds the old storage
    /// it is closed and `swap` runs. `swap` returns the storage to serve
    /// from: the new one, or the old one reopened after a rollback (then
    /// with the error). The placeholder is dropped afterwards.
    pub fn swap_files(
        &self,
        placeholder: Arc<Storage>,
        swap: impl FnOnce() -> (Arc<Storage>, Result<(), EngineError>),
    ) -> Result<(), EngineError> {
        self.loading.store(true, Ordering::Release);
        let _exclusive = self.lock.write();
        let old = self.current.swap(Arc::new(Dataset::new(placeholder)));
        old.db.stop_background();
        let storage = match release(old) {
            Ok(storage) => storage,
            Err(old) => {
                old.db.stop_background();
                let placeholder = self
                    .current
                    .swap(Arc::new(Dataset::new(old.storage.clone())));
                placeholder.db.stop_background();
                self.loading.store(false, Ordering::Release);
                return Err(EngineError::Io {
                    path: old.storage.dir().display().to_string(),
                    source: std::io::Error::other(
                        "the old dataset is still in use; replacement abandoned",
                    ),
                });
            }
        };
        storage.close();
        drop(storage);
        let (serve, result) = swap();
        let placeholder = self.current.swap(Arc::new(Dataset::new(serve)));
        placeholder.db.stop_background();
        self.loading.store(false, Ordering::Release);
        result
    }
}

/// Waits until `old` is the last handle on its storage and returns that
/// storage, or gives the dataset back when someone keeps holding it.
fn release(old: Arc<Dataset>) -> Result<Storage, Arc<Dataset>> {
    let deadline = Instant::now() + RELEASE_WAIT;
    let mut old = old;
    let dataset = loop {
        match Arc::try_unwrap(old) {
            Ok(dataset) => break dataset,
            Err(back) if Instant::now() < deadline => {
                old = back;
                std::thread::sleep(Duration::from_millis(1));
            }
            Err(back) => return Err(back),
        }
    };
    let Dataset { storage, db } = dataset;
    drop(db);
    let mut storage = storage;
    loop {
        match Arc::try_unwrap(storage) {
            Ok(storage) => return Ok(storage),
            Err(back) if Instant::now() < deadline => {
                storage = back;
                std::thread::sleep(Duration::from_millis(1));
            }
            Err(back) => return Err(Arc::new(Dataset::new(back))),
        }
    }
}
