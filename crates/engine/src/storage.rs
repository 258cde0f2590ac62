//! The open database: column families, reads, atomic batch writes, durability.

use crate::backlog::Backlog;
use crate::column_family::ColumnFamily;
use crate::error::EngineError;
use crate::filter::{self, DbSlot, SubKeyFilterFactory};
use crate::iter::StorageIter;
use crate::key::KeyPrefix;
use crate::lock::KeyLocks;
use crate::options::{Compression, EngineOptions, SyncPolicy};
use crate::raw_write::{self, RawWriteOptions};
use crate::txn::{self, Op, TxnState, WriteBatch};
use rocksdb::{
    BlockBasedIndexType, BlockBasedOptions, Cache, ColumnFamilyDescriptor, DBCompressionType,
    DBPinnableSlice, Options, ReadOptions, WriteOptions, DB,
};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, OnceLock};

pub struct Storage {
    db: Arc<DB>,
    prefix: KeyPrefix,
    locks: KeyLocks,
    sync: AtomicU8,
    write_async: WriteOptions,
    write_sync: WriteOptions,
    dir: PathBuf,
    /// What it was opened with, to open a replacement the same way.
    options: EngineOptions,
    /// Set on a replica: only the master's batches may change the data
    /// (see `replication.rs`).
    pub(crate) fenced: AtomicBool,
    /// The replication id a master appends to every batch it writes (see
    /// `replication.rs`); `None` on a replica.
    pub(crate) replid: parking_lot::RwLock<Option<String>>,
    /// The id before the last shift and the last sequence it covered
    /// (Redis's `master_replid2` / `second_repl_offset - 1`).
    pub(crate) previous_replid: parking_lot::Mutex<Option<(String, u64)>>,
    /// How many column families the database has (Basalt's and any extra
    /// ones found on disk): their ids are `0..families`.
    pub(crate) families: u32,
    /// Recent batches for the master's feeds (see `backlog.rs`).
    backlog: Arc<Backlog>,
    /// The write options of a write recorded in the backlog.
    raw_async: RawWriteOptions,
    raw_sync: RawWriteOptions,
    _block_cache: Cache,
}

fn sync_code(p: SyncPolicy) -> u8 {
    match p {
        SyncPolicy::Always => 0,
        SyncPolicy::EverySec => 1,
        SyncPolicy::No => 2,
    }
}

impl Storage {
    pub fn open(opts: &EngineOptions) -> Result<Storage, EngineError> {
        let db_path = opts.dir.join("db");
        std::fs::create_dir_all(&db_path).map_err(|source| EngineError::Io {
            path: db_path.display().to_string(),
            source,
        })?;
        let cache = block_cache(opts.block_cache_bytes);
        let slot: DbSlot = Arc::new(OnceLock::new());

        let mut db_opts = Options::default();
        db_opts.create_if_missing(true);
        db_opts.create_missing_column_families(true);
        db_opts.set_max_open_files(opts.max_open_files);
        db_opts.set_max_background_jobs(opts.max_background_jobs);
        db_opts.set_wal_ttl_seconds(opts.wal_ttl_seconds);
        db_opts.set_wal_size_limit_mb(opts.wal_size_limit_mb);
        db_opts.set_bytes_per_sync(1 << 20);
        // WAL records are buffered in RocksDB and written out by
        // `flush_wal_buffer` once per batch of replies (see the server's
        // connection loop), so a pipeline of N writes costs one write(2)
        // instead of N. Sync writes (`appendfsync always`) still flush and
        // fsync on their own.
        db_opts.set_manual_wal_flush(true);
        // Concurrent writers queue in RocksDB's write group; by default a
        // waiting writer spins and yields for up to 100 µs before sleeping.
        // With more writing threads than CPUs (scripts run off the tokio
        // workers, and servers are often pinned to few cores) the spinning
        // steals the CPU from the very leader it waits for: EVALSHA at
        // pipeline 16 spent 15% of its time there. Waiters sleep at once.
        db_opts.set_enable_write_thread_adaptive_yield(false);

        let descriptors = descriptors(&db_opts, &db_path, opts, &cache, &slot);
        let families = descriptors.len() as u32;
        let db = DB::open_cf_descriptors(&db_opts, &db_path, descriptors).map_err(|e| {
            let text = e.to_string();
            if text.contains("lock") || text.contains("LOCK") {
                EngineError::Locked {
                    dir: opts.dir.display().to_string(),
                    detail: text,
                }
            } else {
                EngineError::RocksDb(e)
            }
        })?;
        let db = Arc::new(db);
        let _ = slot.set(Arc::downgrade(&db));

        let mut write_sync = WriteOptions::default();
        write_sync.set_sync(true);
        Ok(Storage {
            db,
            prefix: KeyPrefix::new(&opts.namespace, opts.cluster),
            locks: KeyLocks::new(),
            sync: AtomicU8::new(sync_code(opts.sync)),
            write_async: WriteOptions::default(),
            write_sync,
            dir: opts.dir.clone(),
            options: opts.clone(),
            fenced: AtomicBool::new(false),
            replid: parking_lot::RwLock::new(None),
            previous_replid: parking_lot::Mutex::new(None),
            families,
            backlog: Arc::new(Backlog::default()),
            raw_async: RawWriteOptions::new(false),
            raw_sync: RawWriteOptions::new(true),
            _block_cache: cache,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn options(&self) -> &EngineOptions {
        &self.options
    }

    pub fn prefix(&self) -> &KeyPrefix {
        &self.prefix
    }

    pub fn locks(&self) -> &KeyLocks {
        &self.locks
    }

    pub fn db(&self) -> &DB {
        &self.db
    }

    pub fn sync_policy(&self) -> SyncPolicy {
        match self.sync.load(Ordering::Relaxed) {
            0 => SyncPolicy::Always,
            1 => SyncPolicy::EverySec,
            _ => SyncPolicy::No,
        }
    }

    pub fn set_sync_policy(&self, policy: SyncPolicy) {
        self.sync.store(sync_code(policy), Ordering::Relaxed);
    }

    pub(crate) fn handle(&self, cf: ColumnFamily) -> &rocksdb::ColumnFamily {
        // Every family is created at open, so a missing handle is a bug in
        // this crate, not something a client can cause.
        self.db
            .cf_handle(cf.name())
            .unwrap_or_else(|| panic!("column family {} not opened", cf.name()))
    }

    pub fn get(&self, cf: ColumnFamily, key: &[u8]) -> Result<Option<Value<'_>>, EngineError> {
        if let Some(pending) = self.txn_lookup(cf, key) {
            return Ok(pending.map(Value::Owned));
        }
        Ok(self
            .db
            .get_pinned_cf(self.handle(cf), key)?
            .map(Value::Pinned))
    }

    /// What this thread's open transaction wrote at `key`, if anything.
    fn txn_lookup(&self, cf: ColumnFamily, key: &[u8]) -> Option<Option<Vec<u8>>> {
        txn::with_txn(self.locks.owner(), |t| {
            t.overlay[cf.index()]
                .lookup(key)
                .map(|v| v.map(<[u8]>::to_vec))
        })
        .flatten()
    }

    /// Point reads of many keys in one call: RocksDB batches the SST lookups
    /// (one index/filter probe per file for all keys), which is cheaper than
    /// as many `get`s.
    pub fn multi_get(
        &self,
        cf: ColumnFamily,
        keys: &[Vec<u8>],
    ) -> Vec<Result<Option<Value<'_>>, EngineError>> {
        if txn::in_txn() {
            return keys.iter().map(|k| self.get(cf, k)).collect();
        }
        self.db
            .batched_multi_get_cf(self.handle(cf), keys, false)
            .into_iter()
            .map(|r| r.map(|v| v.map(Value::Pinned)).map_err(EngineError::from))
            .collect()
    }

    /// Applies a command's writes atomically. Returns after the batch is in
    /// the WAL (and fsynced under `appendfsync always`), so a reply sent after
    /// this survives `kill -9`.
    ///
    /// Inside a transaction the batch joins the transaction instead, and is
    /// written when it commits.
    pub fn write(&self, batch: WriteBatch) -> Result<(), EngineError> {
        // A batch with nothing but log data would be a WAL record without
        // a sequence number, which a replica could not place.
        let log = (!batch.is_empty())
            .then(crate::log_data::for_batch)
            .flatten();
        let inner = match batch.ops {
            None => {
                let mut inner = batch.inner;
                if let Some(blob) = log {
                    inner.put_log_data(&blob);
                }
                if !inner.is_empty() {
                    if let Some(notes) = crate::log_data::take_notes() {
                        inner.put_log_data(&notes);
                    }
                }
                inner
            }
            Some(mut ops) => {
                if let Some(blob) = log {
                    ops.insert(0, Op::LogData(blob));
                }
                let mut ops = Some(ops);
                let owner = self.locks.owner();
                if txn::with_txn(owner, |t| t.apply(ops.take().unwrap_or_default())).is_some() {
                    return Ok(());
                }
                // Built inside a transaction that has ended since: write
                // it on its own.
                self.replay(ops.unwrap_or_default())
            }
        };
        self.write_raw(inner)
    }

    pub(crate) fn write_raw(&self, mut batch: rocksdb::WriteBatch) -> Result<(), EngineError> {
        if self.fenced.load(Ordering::Acquire) {
            return Err(EngineError::ReplicaReadOnly);
        }
        self.tag_with_replication_id(&mut batch);
        self.write_unfenced(batch)
    }

    pub(crate) fn write_unfenced(&self, batch: rocksdb::WriteBatch) -> Result<(), EngineError> {
        let sync = self.sync_policy() == SyncPolicy::Always;
        if self.backlog.is_on() {
            // A copy of the batch, and one of it as written: only while a
            // replica is fed.
            let opts = if sync {
                &self.raw_sync
            } else {
                &self.raw_async
            };
            let written = raw_write::write(&self.db, opts, batch.data())?;
            self.backlog
                .push(written.sequence, written.count, written.data);
            return Ok(());
        }
        let opts = if sync {
            &self.write_sync
        } else {
            &self.write_async
        };
        Ok(self.db.write_opt(batch, opts)?)
    }

    /// The batches written lately, for the master's feeds.
    pub fn backlog(&self) -> &Arc<Backlog> {
        &self.backlog
    }

    fn replay(&self, ops: Vec<Op>) -> rocksdb::WriteBatch {
        let mut batch = rocksdb::WriteBatch::default();
        for op in ops {
            match op {
                Op::Put(cf, k, v) => batch.put_cf(self.handle(cf), k, v),
                Op::Delete(cf, k) => batch.delete_cf(self.handle(cf), k),
                Op::DeleteRange(cf, from, to) => batch.delete_range_cf(self.handle(cf), from, to),
                Op::LogData(blob) => batch.put_log_data(&blob),
            }
        }
        batch
    }

    /// The user key a RocksDB key of `cf` belongs to, for
    /// [`crate::written`]: `None` when the column family holds no user keys.
    pub(crate) fn user_key_of(&self, cf: ColumnFamily, key: &[u8]) -> Option<Option<Vec<u8>>> {
        match cf {
            ColumnFamily::Propagate | ColumnFamily::PubSub => None,
            ColumnFamily::Metadata => Some(self.prefix.user_key_of(key).map(<[u8]>::to_vec)),
            _ => Some(
                crate::key::InternalKey::decode(key, self.prefix.cluster())
                    .map(|k| k.user_key.to_vec()),
            ),
        }
    }

    pub fn put(&self, batch: &mut WriteBatch, cf: ColumnFamily, key: &[u8], value: &[u8]) {
        crate::written::note(|| self.user_key_of(cf, key));
        match &mut batch.ops {
            Some(ops) => ops.push(Op::Put(cf, key.to_vec(), value.to_vec())),
            None => batch.inner.put_cf(self.handle(cf), key, value),
        }
    }

    pub fn delete(&self, batch: &mut WriteBatch, cf: ColumnFamily, key: &[u8]) {
        crate::written::note(|| self.user_key_of(cf, key));
        match &mut batch.ops {
            Some(ops) => ops.push(Op::Delete(cf, key.to_vec())),
            None => batch.inner.delete_cf(self.handle(cf), key),
        }
    }

    pub fn delete_range(&self, batch: &mut WriteBatch, cf: ColumnFamily, from: &[u8], to: &[u8]) {
        // One key's elements (a range inside its subkeys), or many keys.
        crate::written::note(|| {
            let first = self.user_key_of(cf, from)?;
            let last = self.user_key_of(cf, to)?;
            Some(first.filter(|f| last.as_ref() == Some(f)))
        });
        match &mut batch.ops {
            Some(ops) => ops.push(Op::DeleteRange(cf, from.to_vec(), to.to_vec())),
            None => batch.inner.delete_range_cf(self.handle(cf), from, to),
        }
    }

    /// Starts a transaction on this thread holding the locks of `keys`
    /// until it ends. Inside one already, joins it (taking any further
    /// locks) and the outermost commit writes everything.
    pub fn begin_txn<K: AsRef<[u8]>>(&self, keys: &[K]) -> Txn<'_> {
        let owner = self.locks.owner();
        let shards = self.locks.shards_of(keys);
        let nested = txn::with_txn(owner, |t| t.depth += 1).is_some();
        if nested {
            // Takes the shards this transaction does not hold yet.
            drop(self.locks.lock_many(keys));
        } else {
            self.locks.acquire_forgotten(&shards);
            let mut state = TxnState::new(owner);
            state.held = shards;
            txn::TXN.with(|t| *t.borrow_mut() = Some(state));
        }
        Txn {
            storage: self,
            nested,
            done: false,
            _thread_bound: std::marker::PhantomData,
        }
    }

    /// Runs `f` when this thread's transaction has written its batch but
    /// still holds its locks (now if there is no transaction): for work that
    /// must be done before anyone else can touch the keys again, such as
    /// invalidating WATCHes. Dropped if the transaction aborts.
    pub fn on_commit(&self, f: impl FnOnce() + Send + 'static) {
        let mut f = Some(f);
        txn::with_txn(self.locks.owner(), |t| {
            if let Some(f) = f.take() {
                t.on_commit.push(Box::new(f));
            }
        });
        if let Some(f) = f {
            f();
        }
    }

    /// Runs `f` once this thread's transaction commits (now if there is
    /// none): for effects that must not be seen before the data is, such as
    /// waking blocked clients or notifications. Dropped if it aborts.
    pub fn after_commit(&self, f: impl FnOnce() + Send + 'static) {
        let mut f = Some(f);
        txn::with_txn(self.locks.owner(), |t| {
            if let Some(f) = f.take() {
                t.after_commit.push(Box::new(f));
            }
        });
        if let Some(f) = f {
            f();
        }
    }

    /// A raw iterator over `[lower, upper)`; the upper bound lets RocksDB stop
    /// at the end of a prefix instead of reading into the next key's data.
    pub fn iter(
        &self,
        cf: ColumnFamily,
        lower: Option<&[u8]>,
        upper: Option<&[u8]>,
    ) -> StorageIter<'_> {
        let mut ro = ReadOptions::default();
        if let Some(l) = lower {
            ro.set_iterate_lower_bound(l.to_vec());
        }
        if let Some(u) = upper {
            ro.set_iterate_upper_bound(u.to_vec());
        }
        let base = self.db.raw_iterator_cf_opt(self.handle(cf), ro);
        let overlay = txn::with_txn(self.locks.owner(), |t| {
            let o = &t.overlay[cf.index()];
            (!o.entries.is_empty() || !o.tombstones.is_empty()).then(|| o.slice(lower, upper))
        })
        .flatten();
        match overlay {
            Some(o) => StorageIter::merged(base, o),
            None => StorageIter::plain(base),
        }
    }

    /// fsyncs the WAL; the `everysec` policy calls this once a second.
    pub fn sync_wal(&self) -> Result<(), EngineError> {
        Ok(self.db.flush_wal(true)?)
    }

    /// Hands buffered WAL records to the OS (write(2), no fsync). After this
    /// returns, writes made before the call survive a process crash; the
    /// server calls it before sending the replies that acknowledge them.
    pub fn flush_wal_buffer(&self) -> Result<(), EngineError> {
        Ok(self.db.flush_wal(false)?)
    }

    pub fn property(&self, cf: ColumnFamily, name: &str) -> Option<String> {
        self.db
            .property_value_cf(self.handle(cf), name)
            .ok()
            .flatten()
    }

    pub fn property_int(&self, cf: ColumnFamily, name: &str) -> Option<u64> {
        self.db
            .property_int_value_cf(self.handle(cf), name)
            .ok()
            .flatten()
    }

    pub fn latest_sequence_number(&self) -> u64 {
        self.db.latest_sequence_number()
    }

    /// Compacts `[from, to)` of one family, e.g. after a range delete.
    pub fn compact_range(&self, cf: ColumnFamily, from: &[u8], to: &[u8]) {
        self.db
            .compact_range_cf(self.handle(cf), Some(from), Some(to));
    }

    /// A consistent copy of the whole database in `dir` (which must not
    /// exist), as RocksDB checkpoints make it: SST files hard-linked, the
    /// rest copied. BGSAVE writes one; a replica's full sync fetches one.
    pub fn checkpoint(&self, dir: &Path) -> Result<(), EngineError> {
        // Everything acknowledged must be in it, whatever appendfsync says.
        self.db.flush_wal(true)?;
        rocksdb::checkpoint::Checkpoint::new(&self.db)?.create_checkpoint(dir)?;
        Ok(())
    }

    /// Writes every memtable to SST files (BGREWRITEAOF: the WAL they
    /// cover is no longer needed to recover).
    pub fn flush_memtables(&self) -> Result<(), EngineError> {
        for cf in ColumnFamily::ALL {
            self.db.flush_cf(self.handle(cf))?;
        }
        Ok(())
    }

    pub fn compact_all(&self) {
        for cf in ColumnFamily::ALL {
            self.db
                .compact_range_cf(self.handle(cf), None::<&[u8]>, None::<&[u8]>);
        }
    }

    /// Stops background work and syncs the WAL so a clean shutdown loses
    /// nothing even under `appendfsync no`.
    pub fn close(&self) {
        let _ = self.db.flush_wal(true);
        self.db.cancel_all_background_work(true);
    }
}

/// A value read from storage: pinned in RocksDB's cache, or a copy of a
/// transaction's pending write.
pub enum Value<'a> {
    Pinned(DBPinnableSlice<'a>),
    Owned(Vec<u8>),
}

impl std::ops::Deref for Value<'_> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Value::Pinned(p) => p,
            Value::Owned(v) => v,
        }
    }
}

impl AsRef<[u8]> for Value<'_> {
    fn as_ref(&self) -> &[u8] {
        self
    }
}

/// An open transaction (see `txn`). Dropping it without `commit` discards
/// its writes; either way its locks are released.
///
/// Not `Send`: the transaction's writes and locks belong to the thread that
/// opened it, so it must never be held across an `.await`, after which the
/// task may resume on another thread. Being `!Send` makes that a compile
/// error in any task spawned on the multi-threaded runtime.
pub struct Txn<'a> {
    storage: &'a Storage,
    nested: bool,
    done: bool,
    _thread_bound: std::marker::PhantomData<*const ()>,
}

/// Compile-time check that `Txn` stays `!Send` (the trick of
/// static_assertions' `assert_not_impl_any`): if `Txn` were `Send`, both
/// impls would apply and the call below would be ambiguous.
const _: fn() = || {
    trait AmbiguousIfSend<A> {
        fn check() {}
    }
    impl<T: ?Sized> AmbiguousIfSend<()> for T {}
    impl<T: ?Sized + Send> AmbiguousIfSend<u8> for T {}
    <Txn<'static> as AmbiguousIfSend<_>>::check();
};

impl Txn<'_> {
    /// Whether the transaction has written anything so far.
    pub fn has_writes(&self) -> bool {
        txn::with_txn(self.storage.locks.owner(), |t| !t.ops.is_empty()).unwrap_or(false)
    }

    /// Writes everything as one batch (the outermost transaction only),
    /// releases the locks, then runs the `after_commit` work.
    pub fn commit(mut self) -> Result<(), EngineError> {
        self.done = true;
        if self.nested {
            txn::with_txn(self.storage.locks.owner(), |t| t.depth -= 1);
            return Ok(());
        }
        let Some(state) = txn::TXN.with(|t| t.borrow_mut().take()) else {
            return Ok(());
        };
        let writes = state
            .ops
            .iter()
            .any(|op| !matches!(op, txn::Op::LogData(_)));
        let result = if !writes {
            Ok(())
        } else {
            let mut ops = state.ops;
            // What the transaction's writes did, known only now.
            if let Some(notes) = crate::log_data::take_notes() {
                ops.push(txn::Op::LogData(notes));
            }
            self.storage.write_raw(self.storage.replay(ops))
        };
        if result.is_ok() {
            for f in state.on_commit {
                f();
            }
        }
        self.storage.locks.release_forgotten(&state.held);
        if result.is_ok() {
            for f in state.after_commit {
                f();
            }
        }
        result
    }
}

impl Drop for Txn<'_> {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        if self.nested {
            txn::with_txn(self.storage.locks.owner(), |t| t.depth -= 1);
            return;
        }
        if let Some(state) = txn::TXN.with(|t| t.borrow_mut().take()) {
            self.storage.locks.release_forgotten(&state.held);
        }
    }
}

fn compression(c: Compression) -> DBCompressionType {
    match c {
        Compression::None => DBCompressionType::None,
        Compression::Snappy => DBCompressionType::Snappy,
        Compression::Lz4 => DBCompressionType::Lz4,
        Compression::Zstd => DBCompressionType::Zstd,
        Compression::Zlib => DBCompressionType::Zlib,
    }
}

/// The block cache, in shards of at least 32 MiB. RocksDB's default
/// splits it into up to 64 shards (4 MiB each for the default 256 MiB),
/// and a block larger than its shard is dropped as soon as it is read: the
/// one filter block of an SST holding a few million small keys (a hash of
/// millions of fields: 1.25 bytes a key, 5 MB for 4 million) was then
/// read and checksummed again for every point lookup, and HSET into a
/// 4-million-field hash fell from tens of thousands of fields a second to
/// a few hundred (bench/types-large.sh).
fn block_cache(bytes: usize) -> Cache {
    const MIN_SHARD: usize = 32 << 20;
    let shards = (bytes / MIN_SHARD).max(1);
    let bits = (usize::BITS - 1 - shards.leading_zeros()).min(6);
    let mut o = rocksdb::LruCacheOptions::default();
    o.set_capacity(bytes);
    o.set_num_shard_bits(bits as i32);
    Cache::new_lru_cache_opts(&o)
}

/// Every column family of the database in `db_path`: Basalt's, and any
/// extra ones found there.
fn descriptors(
    db_opts: &Options,
    db_path: &Path,
    opts: &EngineOptions,
    cache: &Cache,
    slot: &DbSlot,
) -> Vec<ColumnFamilyDescriptor> {
    let mut descriptors: Vec<ColumnFamilyDescriptor> = ColumnFamily::ALL
        .iter()
        .map(|&cf| ColumnFamilyDescriptor::new(cf.name(), cf_options(cf, opts, cache, slot)))
        .collect();
    // A directory written by a newer Kvrocks may hold families we do not
    // use; RocksDB refuses to open unless every family is named.
    if let Ok(existing) = DB::list_cf(db_opts, db_path) {
        for name in existing {
            if !ColumnFamily::ALL.iter().any(|cf| cf.name() == name) {
                descriptors.push(ColumnFamilyDescriptor::new(name, Options::default()));
            }
        }
    }
    descriptors
}

/// Checks that each table file of the RocksDB directory `db_path` is the
/// one its MANIFEST names. Opened read-only with every table file open,
/// RocksDB compares each SST's size, and its unique id (database, session
/// and file number) with the one the MANIFEST recorded
/// (`verify_sst_unique_id_in_manifest`, on by default). Opened the usual
/// way, a file in the wrong place would be found only when a read reached
/// it.
pub fn verify_table_files(db_path: &Path, opts: &EngineOptions) -> Result<(), EngineError> {
    let cache = block_cache(1 << 20);
    let slot: DbSlot = Arc::new(OnceLock::new());
    let mut db_opts = Options::default();
    db_opts.set_max_open_files(-1);
    let descriptors = descriptors(&db_opts, db_path, opts, &cache, &slot);
    DB::open_cf_descriptors_read_only(&db_opts, db_path, descriptors, false)
        .map(drop)
        .map_err(EngineError::RocksDb)
}

fn cf_options(cf: ColumnFamily, opts: &EngineOptions, cache: &Cache, slot: &DbSlot) -> Options {
    let mut table = BlockBasedOptions::default();
    table.set_block_cache(cache);
    table.set_block_size(opts.block_size);
    table.set_format_version(5);
    table.set_bloom_filter(10.0, false);
    // By default one binary-searched index block per SST rather than
    // Kvrocks' partitioned (two-level) index: a point read then does one
    // index search and one cache lookup less; GET at pipeline 16 measured
    // 1.2-1.6x faster (docs/performance.md). Index and filter blocks live in
    // the block cache either way, so memory stays bounded by it; with 128 MB
    // files and 16 KiB blocks an index block is about 250 KB. Partitions pay
    // off only when the filters alone are a large share of the cache.
    if opts.partition_filters {
        table.set_index_type(BlockBasedIndexType::TwoLevelIndexSearch);
        table.set_partition_filters(true);
    } else {
        table.set_index_type(BlockBasedIndexType::BinarySearch);
    }
    table.set_cache_index_and_filter_blocks(true);
    table.set_pin_l0_filter_and_index_blocks_in_cache(true);
    // A hash index inside each data block turns the binary search of a
    // point lookup (GET, HGET, metadata reads: most of Basalt's reads) into
    // one probe; iterators still use the binary index.
    table.set_data_block_index_type(rocksdb::DataBlockIndexType::BinaryAndHash);
    table.set_data_block_hash_ratio(0.75);

    let mut o = Options::default();
    o.set_block_based_table_factory(&table);
    o.set_write_buffer_size(opts.write_buffer_bytes);
    o.set_max_write_buffer_number(opts.max_write_buffer_number);
    o.set_target_file_size_base(opts.target_file_size_base_bytes);
    o.set_level_compaction_dynamic_level_bytes(opts.level_compaction_dynamic_level_bytes);
    o.set_compression_type(compression(opts.compression));
    match cf {
        ColumnFamily::Metadata => {
            o.set_memtable_whole_key_filtering(true);
            o.set_memtable_prefix_bloom_ratio(0.1);
            o.set_compaction_filter("MetadataFilter", filter::metadata_filter);
        }
        ColumnFamily::Default | ColumnFamily::ZSetScore | ColumnFamily::Stream => {
            if cf == ColumnFamily::Default {
                // HSET, SADD and ZADD look up whether the element exists
                // (point reads of this family), and a new element is absent
                // from the memtable: the bloom filter says so without
                // searching the skiplist.
                o.set_memtable_whole_key_filtering(true);
                o.set_memtable_prefix_bloom_ratio(0.1);
            }
            o.set_compaction_filter_factory(SubKeyFilterFactory {
                db: slot.clone(),
                cluster: opts.cluster,
            });
        }
        ColumnFamily::PubSub => o.set_compaction_filter("PubSubFilter", filter::pubsub_filter),
        ColumnFamily::Propagate => {
            o.set_compaction_filter("PropagateFilter", filter::propagate_filter)
        }
        ColumnFamily::Search => {}
    }
    o
}
