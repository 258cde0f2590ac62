//! The handle every data-type operation runs against: the storage engine
//! plus the small amount of shared in-memory state (SCAN cursors).

use crate::cursor::CursorMap;
use crate::error::{Error, Result};
use basalt_engine::version::now_ms;
use basalt_engine::{ColumnFamily, Metadata, RedisType, Storage};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

pub struct Database {
    pop_hints: PopHints,
    pop_samples: PopSamples,
    storage: Arc<Storage>,
    cursors: CursorMap,
    max_string_len: AtomicU64,
    max_bitmap_string_len: AtomicU64,
    hll_sparse_max_bytes: AtomicU64,
    reclaim: parking_lot::Mutex<Option<Reclaimer>>,
    field_ttls: crate::hash_ttl::FieldTtlHints,
}

/// Where the live part of a collection generation begins (and ends), for
/// collections popped from one end (ZPOPMIN/ZPOPMAX). Every pop leaves a
/// deletion tombstone at that end; starting the next pop's iterator at the
/// first live element, instead of at the generation's prefix, keeps it
/// from walking all the tombstones of earlier pops (which made a queue of N
/// pops cost O(N^2) until compaction). Keyed by the generation's subkey
/// prefix; only read and written under the key's lock; any insert into the
/// generation drops its hints. Bounded: cleared when it grows too large.
#[derive(Default)]
pub struct PopHints {
    map: parking_lot::Mutex<std::collections::HashMap<Vec<u8>, PopBounds>>,
}

/// (first live key bound, last live key bound) of one generation.
type PopBounds = (Option<Vec<u8>>, Option<Vec<u8>>);

const POP_HINTS_MAX: usize = 4096;

impl PopHints {
    /// The first (`high` = false) or last live key bound recorded for the
    /// generation whose subkey prefix is `prefix`.
    pub fn get(&self, prefix: &[u8], high: bool) -> Option<Vec<u8>> {
        let map = self.map.lock();
        let (low, hi) = map.get(prefix)?;
        if high {
            hi.clone()
        } else {
            low.clone()
        }
    }

    pub fn set(&self, prefix: &[u8], high: bool, bound: Vec<u8>) {
        let mut map = self.map.lock();
        if map.len() >= POP_HINTS_MAX && !map.contains_key(prefix) {
            map.clear();
        }
        let entry = map.entry(prefix.to_vec()).or_default();
        if high {
            entry.1 = Some(bound);
        } else {
            entry.0 = Some(bound);
        }
    }

    pub fn invalidate(&self, prefix: &[u8]) {
        let mut map = self.map.lock();
        if !map.is_empty() {
            map.remove(prefix);
        }
    }
}

/// Members of large sets read ahead for SPOP: one seek yields a run of
/// adjacent members, which the next pops use in random order (each checked
/// to still exist before it is popped), and the next run is read from where
/// this one ended, so reads never walk back over the pops' tombstones.
/// Keyed like `PopHints`; bounded the same way.
#[derive(Default)]
pub struct PopSamples {
    map: parking_lot::Mutex<std::collections::HashMap<Vec<u8>, SampleRun>>,
}

#[derive(Default)]
struct SampleRun {
    members: Vec<Vec<u8>>,
    /// The storage key the last run ended at.
    cursor: Option<Vec<u8>>,
}

impl PopSamples {
    pub fn take(&self, prefix: &[u8]) -> Option<Vec<u8>> {
        self.map.lock().get_mut(prefix)?.members.pop()
    }

    /// Where the next run starts, if an earlier one was read.
    pub fn cursor(&self, prefix: &[u8]) -> Option<Vec<u8>> {
        self.map.lock().get(prefix)?.cursor.clone()
    }

    pub fn put(&self, prefix: &[u8], members: Vec<Vec<u8>>, cursor: Option<Vec<u8>>) {
        let mut map = self.map.lock();
        if map.len() >= POP_HINTS_MAX && !map.contains_key(prefix) {
            map.clear();
        }
        map.insert(prefix.to_vec(), SampleRun { members, cursor });
    }
}

/// Background space work on one collection generation.
enum SpaceJob {
    /// The generation is gone: range-delete its elements, then compact.
    Drop(Vec<u8>, u64),
    /// The generation is live but many of its elements were deleted:
    /// compact its range so reads stop stepping over the tombstones.
    Compact(Vec<u8>, u64),
}

struct Reclaimer {
    queue: std::sync::mpsc::Sender<SpaceJob>,
    thread: std::thread::JoinHandle<()>,
}

/// Range-deletes the subkeys of a collection generation that is gone
/// (deleted, expired, renamed away or replaced), then compacts that range
/// so the space comes back now rather than whenever compaction reaches it.
/// The generation is already invisible, so this only reclaims space.
fn spawn_reclaimer(storage: Arc<Storage>) -> Option<Reclaimer> {
    let (tx, rx) = std::sync::mpsc::channel::<SpaceJob>();
    let spawned = std::thread::Builder::new()
        .name("reclaim".into())
        .spawn(move || {
            for job in rx {
                let (key, version, drop) = match job {
                    SpaceJob::Drop(k, v) => (k, v, true),
                    SpaceJob::Compact(k, v) => (k, v, false),
                };
                let prefix = storage.prefix().subkey_prefix(&key, version);
                let Some(upper) = basalt_engine::key::prefix_upper_bound(&prefix) else {
                    continue;
                };
                if drop {
                    let mut batch = basalt_engine::WriteBatch::default();
                    for cf in ColumnFamily::SUBKEY_FAMILIES {
                        storage.delete_range(&mut batch, cf, &prefix, &upper);
                    }
                    if storage.write(batch).is_err() {
                        continue;
                    }
                }
                for cf in ColumnFamily::SUBKEY_FAMILIES {
                    storage.compact_range(cf, &prefix, &upper);
                }
            }
        });
    match spawned {
        Ok(thread) => Some(Reclaimer { queue: tx, thread }),
        Err(e) => {
            // Without the thread, compaction filters still reclaim the space.
            tracing::error!("cannot start the reclaim thread: {e}");
            None
        }
    }
}

/// A live (not expired) key's metadata and the bytes that follow it (a
/// string's value, or a collection's type trailer).
#[derive(Clone)]
pub struct Record {
    pub metadata: Metadata,
    pub rest: Vec<u8>,
}

impl Record {
    /// An empty collection of `kind` with a new version (size 0, no
    /// trailer), for writers that build a whole new value.
    pub fn new_collection(kind: RedisType, expire_ms: u64) -> Record {
        let mut metadata = Metadata::new(kind);
        metadata.expire_ms = expire_ms;
        Record {
            metadata,
            rest: Vec::new(),
        }
    }
}

impl Database {
    pub fn new(storage: Arc<Storage>) -> Self {
        Database {
            pop_hints: PopHints::default(),
            pop_samples: PopSamples::default(),
            reclaim: parking_lot::Mutex::new(spawn_reclaimer(storage.clone())),
            storage,
            cursors: CursorMap::new(),
            max_string_len: AtomicU64::new(512 << 20),
            max_bitmap_string_len: AtomicU64::new(16 << 20),
            hll_sparse_max_bytes: AtomicU64::new(crate::hll_payload::DEFAULT_SPARSE_MAX_BYTES),
            field_ttls: Default::default(),
        }
    }

    pub fn storage(&self) -> &Storage {
        &self.storage
    }

    /// Hashes with field TTLs the background cycle should visit.
    pub fn field_ttls(&self) -> &crate::hash_ttl::FieldTtlHints {
        &self.field_ttls
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

    /// The largest bitmap GET returns as a string (max-bitmap-to-string-mb).
    pub fn set_max_bitmap_string_len(&self, len: u64) {
        self.max_bitmap_string_len.store(len, Ordering::Relaxed);
    }

    pub fn max_bitmap_string_len(&self) -> u64 {
        self.max_bitmap_string_len.load(Ordering::Relaxed)
    }

    /// The largest HyperLogLog string shown in Redis's sparse form
    /// (hll-sparse-max-bytes).
    pub fn set_hll_sparse_max_bytes(&self, len: u64) {
        self.hll_sparse_max_bytes.store(len, Ordering::Relaxed);
    }

    pub fn hll_sparse_max_bytes(&self) -> u64 {
        self.hll_sparse_max_bytes.load(Ordering::Relaxed)
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
            crate::lookups::record(false);
            return Ok(None);
        };
        let (metadata, rest) = Metadata::decode(&raw).map_err(basalt_engine::EngineError::from)?;
        if metadata.is_expired_at(now_ms()) {
            crate::lookups::record(false);
            return Ok(None);
        }
        crate::lookups::record(true);
        Ok(Some(Record {
            metadata,
            rest: rest.to_vec(),
        }))
    }

    /// Reads a key that must be a string (WRONGTYPE otherwise). A
    /// HyperLogLog reads as the string Redis keeps it as, so the string
    /// commands that rewrite the value turn it into that string.
    pub fn read_string(&self, key: &[u8]) -> Result<Option<(Metadata, Vec<u8>)>> {
        match self.read(key)? {
            None => Ok(None),
            Some(r) if r.metadata.kind == RedisType::String => Ok(Some((r.metadata, r.rest))),
            Some(r) if r.metadata.kind == RedisType::HyperLogLog => {
                let value = self.hll_string(key, &r)?;
                Ok(Some((r.metadata, value)))
            }
            Some(_) => Err(Error::WrongType),
        }
    }

    /// A live key that must be of `kind`: `None` if missing (or expired),
    /// WRONGTYPE if it holds another type.
    pub fn read_typed(&self, key: &[u8], kind: RedisType) -> Result<Option<Record>> {
        match self.read(key)? {
            None => Ok(None),
            Some(r) if r.metadata.kind == kind => Ok(Some(r)),
            Some(_) => Err(Error::WrongType),
        }
    }

    /// For writers of a collection: the live record of `kind`, or a fresh
    /// one (new version, size 0, no trailer) when the key is missing or
    /// expired. WRONGTYPE if the key holds another type. The caller holds
    /// the key's lock and writes the metadata back with `put_record`.
    pub fn read_or_create(&self, key: &[u8], kind: RedisType) -> Result<Record> {
        Ok(match self.read_typed(key, kind)? {
            Some(r) => r,
            None => Record::new_collection(kind, 0),
        })
    }

    /// Writes a key's metadata record (header + trailer) into `batch`. A
    /// collection whose size dropped to 0 is deleted instead, as Redis
    /// deletes empty collections.
    pub fn put_record(&self, batch: &mut basalt_engine::WriteBatch, key: &[u8], record: &Record) {
        let mkey = self.metadata_key(key);
        if !record.metadata.kind.is_emptyable() && record.metadata.size == 0 {
            self.storage().delete(batch, ColumnFamily::Metadata, &mkey);
            return;
        }
        let mut raw = record.metadata.encode();
        raw.extend_from_slice(&record.rest);
        self.storage()
            .put(batch, ColumnFamily::Metadata, &mkey, &raw);
    }

    /// Queues the elements of a collection generation that was just deleted
    /// or replaced (its metadata write is already durable) for background
    /// reclamation. Strings have no elements.
    pub fn reclaim(&self, key: &[u8], metadata: &Metadata) {
        // A HyperLogLog keeps size 0 (as Kvrocks) but has segments; an
        // empty Bloom filter has its first sub-filter.
        let has_elements = metadata.size > 0
            || matches!(
                metadata.kind,
                RedisType::HyperLogLog | RedisType::BloomFilter
            );
        if !metadata.kind.is_single_kv() && has_elements {
            if let Some(r) = self.reclaim.lock().as_ref() {
                // Inside a transaction the deletion is not durable yet.
                let queue = r.queue.clone();
                let job = SpaceJob::Drop(key.to_vec(), metadata.version);
                self.storage.after_commit(move || {
                    let _ = queue.send(job);
                });
            }
        }
    }

    /// Queues a compaction of a live generation's elements, for commands
    /// that delete elements in bulk over time (SPOP): without it, random
    /// seeks into the collection step over ever more deletion tombstones
    /// until RocksDB compacts that range on its own.
    pub fn compact_generation(&self, key: &[u8], version: u64) {
        if let Some(r) = self.reclaim.lock().as_ref() {
            let _ = r.queue.send(SpaceJob::Compact(key.to_vec(), version));
        }
    }

    /// Stops the reclaim thread after the queued work, so that nothing
    /// touches RocksDB while it closes. Later deletions are left to the
    /// compaction filters.
    pub fn stop_background(&self) {
        let reclaimer = self.reclaim.lock().take();
        if let Some(r) = reclaimer {
            drop(r.queue);
            let _ = r.thread.join();
        }
    }

    pub fn pop_hints(&self) -> &PopHints {
        &self.pop_hints
    }

    pub fn pop_samples(&self) -> &PopSamples {
        &self.pop_samples
    }

    /// The RocksDB key of one element of a collection generation.
    pub fn subkey(&self, key: &[u8], version: u64, sub_key: &[u8]) -> Vec<u8> {
        self.storage().prefix().subkey(key, version, sub_key)
    }

    /// The prefix shared by all elements of a collection generation; strip
    /// it from an iterator's keys to get the element's subkey.
    pub fn subkey_prefix(&self, key: &[u8], version: u64) -> Vec<u8> {
        self.storage().prefix().subkey_prefix(key, version)
    }

    /// An iterator over the elements of one collection generation in `cf`,
    /// bounded to that generation's prefix, positioned at its first element.
    pub fn iter_subkeys(
        &self,
        cf: ColumnFamily,
        key: &[u8],
        version: u64,
    ) -> basalt_engine::StorageIter<'_> {
        let mut it = self.iter_subkeys_unpositioned(cf, key, version);
        it.seek(self.subkey_prefix(key, version));
        it
    }

    /// The same iterator, not yet positioned: for callers that seek into
    /// the middle. Seeking to the prefix first would walk every deletion
    /// tombstone before the target (a queue popped from its head has one
    /// per popped element), turning each LPOP into O(popped so far).
    pub fn iter_subkeys_unpositioned(
        &self,
        cf: ColumnFamily,
        key: &[u8],
        version: u64,
    ) -> basalt_engine::StorageIter<'_> {
        let prefix = self.subkey_prefix(key, version);
        let upper = basalt_engine::key::prefix_upper_bound(&prefix);
        self.storage().iter(cf, Some(&prefix), upper.as_deref())
    }

    /// The type of a live key, `None` if it does not exist.
    pub fn type_of(&self, key: &[u8]) -> Result<Option<RedisType>> {
        Ok(self.read(key)?.map(|r| r.metadata.kind))
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        self.stop_background();
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
