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
use std::sync::Arc;

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
}

/// Held while a command (or a background task) uses the dataset.
pub type Access<'a> = RwLockReadGuard<'a, ()>;

impl DatasetSlot {
    pub fn new(storage: Arc<Storage>) -> DatasetSlot {
        DatasetSlot {
            lock: RwLock::new(()),
            current: ArcSwap::from_pointee(Dataset::new(storage)),
        }
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
}
