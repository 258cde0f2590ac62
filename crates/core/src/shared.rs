//! State shared by every connection and background task.

use crate::clients::ClientRegistry;
use crate::command::CommandTable;
use crate::dataset::{Dataset, DatasetSlot};
use crate::slowlog::SlowLog;
use crate::stats::Stats;
use basalt_config::{Config, FsyncPolicy};
use basalt_engine::{EngineError, Storage, SyncPolicy};
use basalt_resp::Limits;
use basalt_types::expire::KeyspaceCount;
use parking_lot::{Mutex, RwLock};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Instant, SystemTime};

pub struct Shared {
    /// The command table, built by the handler crate at assembly.
    pub commands: &'static CommandTable,
    /// Checks that outer layers (replication, cluster) plug in.
    pub gates: crate::dispatch::Gates,
    /// ACL users, the ACL log and its counters.
    pub acl: crate::acl::Acl,
    /// Joined at shutdown before RocksDB closes.
    pub background_threads: Mutex<Vec<std::thread::JoinHandle<()>>>,
    pub blocking: crate::blocking::BlockingRegistry,
    /// Cached scripts, function libraries and running scripts.
    pub scripting: crate::scripting::Scripting,
    pub watches: crate::transaction::WatchRegistry,
    pub config: RwLock<Config>,
    /// Bumped on every CONFIG SET so connections refresh cached limits.
    pub config_generation: AtomicU64,
    /// The storage and the data-type handle on it, replaceable as a whole
    /// (`replace_dataset`); reach them through `data()`.
    pub dataset: DatasetSlot,
    pub clients: ClientRegistry,
    pub pubsub: crate::pubsub::Hub,
    /// CLIENT TRACKING: who may cache which keys.
    pub tracking: crate::tracking::Tracking,
    /// SAVE/BGSAVE state (LASTSAVE, INFO persistence).
    pub backups: crate::backup::Backups,
    /// Clients in MONITOR mode.
    pub monitors: crate::monitor::Monitors,
    pub notify: crate::notify::Notifier,
    pub stats: Stats,
    pub slowlog: SlowLog,
    pub started: Instant,
    pub started_unix: SystemTime,
    pub run_id: String,
    pub keyspace: Mutex<Option<KeyspaceCount>>,
    /// Copy of `slowlog-log-slower-than`, read after every command.
    pub slowlog_slower_than: AtomicI64,
    /// Flushes of the WAL buffer shared by the connections that wrote.
    pub wal: crate::wal_commit::WalGroupCommit,
    /// CLIENT PAUSE.
    pub pause: crate::pause::Pause,
    /// The listening sockets (CONFIG SET port/bind replaces them).
    pub listeners: crate::listeners::Listeners,
    /// The replication layer, set once at assembly by the crate that owns
    /// it (the core does not know its type).
    pub replication: std::sync::OnceLock<Arc<dyn std::any::Any + Send + Sync>>,
    /// The cluster layer in cluster mode, set once at assembly as
    /// `replication` is.
    pub cluster: std::sync::OnceLock<Arc<dyn std::any::Any + Send + Sync>>,
    shutdown: tokio::sync::watch::Sender<bool>,
}

/// Per-connection copy of the settings read on every request, refreshed
/// when `config_generation` changes, so the hot path takes no lock.
#[derive(Clone)]
pub struct ConnectionLimits {
    pub generation: u64,
    pub parser: Limits,
    pub query_buffer_limit: usize,
    pub timeout_secs: u64,
}

impl Shared {
    pub fn new(config: Config, storage: Arc<Storage>, commands: &'static CommandTable) -> Shared {
        let dataset = DatasetSlot::new(storage.clone());
        let db = &dataset.get().db;
        db.set_max_string_len(config.proto_max_bulk_len);
        db.set_max_bitmap_string_len(config.max_bitmap_to_string_mb << 20);
        db.set_hll_sparse_max_bytes(config.hll_sparse_max_bytes);
        let run_id: String = (0..40)
            .map(|_| char::from(b"0123456789abcdef"[rand::random_range(0..16)]))
            .collect();
        let scripting = crate::scripting::Scripting::load(&storage).unwrap_or_else(|e| {
            tracing::error!("cannot read the stored scripts and functions: {e}");
            Default::default()
        });
        let pubsub_limit = config.client_output_buffer_limit.pubsub;
        let events = config.notify_keyspace_events;
        let tracking_max_keys = config.tracking_table_max_keys;
        let acl = crate::acl::Acl::new(commands, &config);
        Shared {
            commands,
            gates: Default::default(),
            acl,
            scripting,
            background_threads: Mutex::new(Vec::new()),
            blocking: Default::default(),
            watches: Default::default(),
            slowlog_slower_than: AtomicI64::new(config.slowlog_log_slower_than),
            wal: Default::default(),
            pause: Default::default(),
            listeners: Default::default(),
            replication: std::sync::OnceLock::new(),
            cluster: std::sync::OnceLock::new(),
            config: RwLock::new(config),
            config_generation: AtomicU64::new(1),
            dataset,
            clients: ClientRegistry::default(),
            pubsub: crate::pubsub::Hub::new(pubsub_limit),
            tracking: crate::tracking::Tracking::new(tracking_max_keys),
            monitors: Default::default(),
            backups: Default::default(),
            notify: crate::notify::Notifier::new(events),
            stats: Stats::new(commands.len()),
            slowlog: SlowLog::default(),
            started: Instant::now(),
            started_unix: SystemTime::now(),
            run_id,
            keyspace: Mutex::new(None),
            shutdown: tokio::sync::watch::channel(false).0,
        }
    }

    /// The dataset now; a command uses the one its `Ctx` holds instead.
    pub fn data(&self) -> arc_swap::Guard<Arc<Dataset>> {
        self.dataset.get()
    }

    /// Replaces the whole dataset (see `DatasetSlot::replace`), then resets
    /// every cache built on the old one: the script and function caches
    /// (reloaded from the new storage), the keyspace count; pop hints and
    /// SCAN cursors live in the `Database` handle, which is new.
    pub fn replace_dataset(
        &self,
        replace: impl FnOnce(&Dataset) -> Result<Arc<Storage>, EngineError>,
    ) -> Result<(), EngineError> {
        let result = self.dataset.replace(replace);
        // A new `Database` handle either way (a failed replacement gets a
        // fresh one over the old storage): give it the configured limit.
        let config = self.config.read();
        let db = &self.data().db;
        db.set_max_string_len(config.proto_max_bulk_len);
        db.set_max_bitmap_string_len(config.max_bitmap_to_string_mb << 20);
        db.set_hll_sparse_max_bytes(config.hll_sparse_max_bytes);
        drop(config);
        let new = result?;
        if let Err(e) = self.scripting.reload(&new.storage) {
            tracing::error!("cannot read the scripts and functions of the new dataset: {e}");
        }
        *self.keyspace.lock() = None;
        Ok(())
    }

    /// Replaces the dataset with one whose files take the old one's place
    /// on disk (see `DatasetSlot::swap_files`), then resets the caches as
    /// `replace_dataset` does.
    pub fn swap_dataset_files(
        &self,
        placeholder: Arc<Storage>,
        swap: impl FnOnce() -> (Arc<Storage>, Result<(), EngineError>),
    ) -> Result<(), EngineError> {
        let result = self.dataset.swap_files(placeholder, swap);
        let data = self.data();
        let config = self.config.read();
        data.db.set_max_string_len(config.proto_max_bulk_len);
        data.db
            .set_max_bitmap_string_len(config.max_bitmap_to_string_mb << 20);
        data.db
            .set_hll_sparse_max_bytes(config.hll_sparse_max_bytes);
        data.storage
            .set_sync_policy(sync_policy(config.appendfsync));
        drop(config);
        if let Err(e) = self.scripting.reload(&data.storage) {
            tracing::error!("cannot read the scripts and functions of the new dataset: {e}");
        }
        *self.keyspace.lock() = None;
        result
    }

    pub fn limits(&self) -> ConnectionLimits {
        let config = self.config.read();
        ConnectionLimits {
            generation: self.config_generation.load(Ordering::Acquire),
            parser: Limits {
                max_bulk_len: config.proto_max_bulk_len as usize,
                ..Limits::default()
            },
            query_buffer_limit: config.client_query_buffer_limit as usize,
            timeout_secs: config.timeout,
        }
    }

    /// Called after CONFIG SET: republishes what is cached elsewhere.
    pub fn config_changed(&self) {
        let config = self.config.read();
        self.slowlog_slower_than
            .store(config.slowlog_log_slower_than, Ordering::Relaxed);
        let data = self.data();
        data.db.set_max_string_len(config.proto_max_bulk_len);
        data.db
            .set_max_bitmap_string_len(config.max_bitmap_to_string_mb << 20);
        data.db
            .set_hll_sparse_max_bytes(config.hll_sparse_max_bytes);
        data.storage
            .set_sync_policy(sync_policy(config.appendfsync));
        crate::logging::set_level(config.log_level);
        self.pubsub
            .set_limit(config.client_output_buffer_limit.pubsub);
        self.notify.set_flags(config.notify_keyspace_events);
        self.acl.set_pubsub_default(config.acl_pubsub_allchannels);
        let tracking_max_keys = config.tracking_table_max_keys;
        drop(config);
        // Outside the config lock: going under a lower limit sends
        // invalidations, which look clients up.
        self.tracking.set_max_keys(self, tracking_max_keys);
        self.config_generation.fetch_add(1, Ordering::AcqRel);
    }

    pub fn refresh(&self, limits: &mut ConnectionLimits) {
        if self.config_generation.load(Ordering::Acquire) != limits.generation {
            *limits = self.limits();
        }
    }

    pub fn request_shutdown(&self) {
        // A script in an endless loop would otherwise outlive RocksDB.
        self.scripting.kill_all();
        let _ = self.shutdown.send(true);
    }

    pub fn shutdown_signal(&self) -> tokio::sync::watch::Receiver<bool> {
        self.shutdown.subscribe()
    }

    pub fn is_shutting_down(&self) -> bool {
        *self.shutdown.borrow()
    }
}

pub fn sync_policy(p: FsyncPolicy) -> SyncPolicy {
    match p {
        FsyncPolicy::Always => SyncPolicy::Always,
        FsyncPolicy::EverySec => SyncPolicy::EverySec,
        FsyncPolicy::No => SyncPolicy::No,
    }
}

/// `workers 0` means one thread per CPU this process may run on, and at
/// least two: with one, a script running on it would leave no thread to
/// take SCRIPT KILL.
pub fn effective_workers(config: &Config) -> usize {
    match config.workers {
        0 => std::thread::available_parallelism().map_or(2, |n| n.get().max(2)),
        n => n,
    }
}
