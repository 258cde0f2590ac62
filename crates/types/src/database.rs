//! The handle every data-type operation runs against: the storage engine
//! plus the small amount of shared in-memory state (SCAN cursors).

use crate::cursor::CursorMap;
use crate::error::{Error, Result};
use basalt_engine::version::now_ms;
use basalt_engine::{ColumnFamily, Metadata, RedisType, Storage};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

pub struct Database {
    storage: Arc<Storage>,
    cursors: CursorMap,
    max_string_len: AtomicU64,
}

/// A live (not expired) key's metadata and the bytes that follow it (a
/// string's value, or a collection's type trailer).
pub struct Record {
    pub metadata: Metadata,
    pub rest: Vec<u8>,
}

impl Database {
    pub fn new(storage: Arc<Storage>) -> Self {
        Database {
            storage,
            cursors: CursorMap::new(),
            max_string_len: AtomicU64::new(512 << 20),
        }
    }

    pub fn storage(&self) -> &Storage {
        &self.storage
    }

    pub fn cursors(&self) -> &CursorMap {
        &self.cursors
    }

    /// The largest string SETRANGE/APPEND may build (proto-max-bulk-len).
    pub fn set_max_string_len(&self, len: u64) {
        self.max_string_len.store(len, Ordering::Relaxed);
    }

    pub fn max_string_len(&self) -> u64 {
        self.max_string_len.load(Ordering::Relaxed)
    }

    pub fn metadata_key(&self, key: &[u8]) -> Vec<u8> {
        self.storage.prefix().metadata_key(key)
    }

    /// Reads a key's record if it exists and has not expired. Expired keys
    /// are invisible here, which is what makes them invisible to every
    /// command at once, whatever the background reclamation has done.
    pub fn read(&self, key: &[u8]) -> Result<Option<Record>> {
        let mkey = self.metadata_key(key);
        self.read_raw(&mkey)
    }

    pub(crate) fn read_raw(&self, mkey: &[u8]) -> Result<Option<Record>> {
        let Some(raw) = self.storage.get(ColumnFamily::Metadata, mkey)? else {
            return Ok(None);
        };
        let (metadata, rest) = Metadata::decode(&raw).map_err(basalt_engine::EngineError::from)?;
        if metadata.is_expired_at(now_ms()) {
            return Ok(None);
        }
        Ok(Some(Record {
            metadata,
            rest: rest.to_vec(),
        }))
    }

    /// Reads a key that must be a string (WRONGTYPE otherwise).
    pub fn read_string(&self, key: &[u8]) -> Result<Option<(Metadata, Vec<u8>)>> {
        match self.read(key)? {
            None => Ok(None),
            Some(r) if r.metadata.kind == RedisType::String => Ok(Some((r.metadata, r.rest))),
            Some(_) => Err(Error::WrongType),
        }
    }

    /// The type of a live key, `None` if it does not exist.
    pub fn type_of(&self, key: &[u8]) -> Result<Option<RedisType>> {
        Ok(self.read(key)?.map(|r| r.metadata.kind))
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::*;
    use basalt_engine::EngineOptions;

    pub struct TestDb {
        pub db: Database,
        _dir: tempfile::TempDir,
    }

    pub fn open() -> TestDb {
        let dir = tempfile::tempdir().unwrap();
        let mut opts = EngineOptions::new(dir.path());
        opts.block_cache_bytes = 8 << 20;
        let storage = Arc::new(Storage::open(&opts).unwrap());
        TestDb {
            db: Database::new(storage),
            _dir: dir,
        }
    }
}
