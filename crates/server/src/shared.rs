//! State shared by every connection and background task.

use crate::clients::ClientRegistry;
use crate::slowlog::SlowLog;
use crate::stats::Stats;
use basalt_config::Config;
use basalt_engine::Storage;
use basalt_resp::Limits;
use basalt_types::expire::KeyspaceCount;
use basalt_types::Database;
use parking_lot::{Mutex, RwLock};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Instant, SystemTime};

pub struct Shared {
    /// Joined at shutdown before RocksDB closes.
    pub background_threads: Mutex<Vec<std::thread::JoinHandle<()>>>,
    pub blocking: crate::blocking::BlockingRegistry,
    /// Cached scripts, function libraries and running scripts.
    pub scripting: crate::scripting::Scripting,
    pub watches: crate::transaction::WatchRegistry,
    pub config: RwLock<Config>,
    /// Bumped on every CONFIG SET so connections refresh cached limits.
    pub config_generation: AtomicU64,
    pub db: Database,
    pub storage: Arc<Storage>,
    pub clients: ClientRegistry,
    pub pubsub: crate::pubsub::Hub,
    pub notify: crate::notify::Notifier,
    pub stats: Stats,
    pub slowlog: SlowLog,
    pub started: Instant,
    pub started_unix: SystemTime,
    pub run_id: String,
    pub keyspace: Mutex<Option<KeyspaceCount>>,
    /// Copy of `slowlog-log-slower-than`, read after every command.
    pub slowlog_slower_than: AtomicI64,
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
    pub fn new(config: Config, storage: Arc<Storage>, command_count: usize) -> Shared {
        let db = Database::new(storage.clone());
        db.set_max_string_len(config.proto_max_bulk_len);
        let run_id: String = (0..40)
            .map(|_| char::from(b"0123456789abcdef"[rand::random_range(0..16)]))
            .collect();
        let scripting = crate::scripting::Scripting::load(&storage).unwrap_or_else(|e| {
            tracing::error!("cannot read the stored scripts and functions: {e}");
            Default::default()
        });
        let pubsub_limit = config.client_output_buffer_limit.pubsub;
        let events = config.notify_keyspace_events;
        Shared {
            scripting,
            background_threads: Mutex::new(Vec::new()),
            blocking: Default::default(),
            watches: Default::default(),
            slowlog_slower_than: AtomicI64::new(config.slowlog_log_slower_than),
            config: RwLock::new(config),
            config_generation: AtomicU64::new(1),
            db,
            storage,
            clients: ClientRegistry::default(),
            pubsub: crate::pubsub::Hub::new(pubsub_limit),
            notify: crate::notify::Notifier::new(events),
            stats: Stats::new(command_count),
            slowlog: SlowLog::default(),
            started: Instant::now(),
            started_unix: SystemTime::now(),
            run_id,
            keyspace: Mutex::new(None),
            shutdown: tokio::sync::watch::channel(false).0,
        }
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
        self.db.set_max_string_len(config.proto_max_bulk_len);
        self.storage
            .set_sync_policy(crate::server::sync_policy(config.appendfsync));
        crate::logging::set_level(config.log_level);
        self.pubsub
            .set_limit(config.client_output_buffer_limit.pubsub);
        self.notify.set_flags(config.notify_keyspace_events);
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
