//! Basalt's server configuration: the option table, the `kvrocks.conf`-style
//! file syntax, compiled defaults, validation, and the logic behind
//! `CONFIG GET`, `CONFIG SET` and `CONFIG REWRITE`.
//!
//! Every option is one row of the table in `table.rs`; parsing, defaults,
//! `CONFIG GET/SET/REWRITE`, the example `basalt.conf` and the reference
//! `docs/configuration.md` all derive from it.
//! Option names follow Kvrocks where Kvrocks has the option, so an existing
//! `kvrocks.conf` mostly loads unchanged; Redis options that mean nothing
//! for a disk store are accepted as no-ops because clients and tools set and
//! read them (see [`Support`]).
//!
//! This crate knows nothing of sockets, RocksDB or RESP: the server reads
//! the typed fields of [`Config`], turns [`ConfigError`]s into `ERR` replies
//! and reacts to the option names [`Config::set`] reports as changed.

#![forbid(unsafe_code)]

mod enums;
mod error;
mod example;
mod file;
mod obuf;
mod options;
mod reference;
mod rewrite;
mod table;
mod value;

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

pub use enums::{Compression, FsyncPolicy, KeyspaceEvents, LogLevel};
pub use error::{ConfigError, Location};
pub use obuf::{BufferLimit, OutputBufferLimits};
pub use options::{OptionDef, Support};

/// The server configuration. Fields are plain values the server reads;
/// change them through [`Config::set`] so that validation and `CONFIG
/// REWRITE` stay consistent.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// `bind`: addresses to listen on.
    pub bind: Vec<String>,
    /// `port`.
    pub port: u16,
    /// `tcp-backlog`: the `listen()` backlog.
    pub tcp_backlog: u32,
    /// `timeout`: idle seconds before a client is closed; 0 = never.
    pub timeout: u64,
    /// `maxclients`.
    pub maxclients: usize,
    /// `tracking-table-max-keys`: keys CLIENT TRACKING remembers; 0 = no
    /// limit.
    pub tracking_table_max_keys: u64,
    /// `workers`: threads serving connections.
    pub workers: usize,
    /// `dir`: working directory holding the database.
    pub dir: PathBuf,
    /// `backup-dir`: where SAVE/BGSAVE write their checkpoint; empty means
    /// `<dir>/backup`, as in Kvrocks.
    pub backup_dir: String,
    /// `db-name`: name of the data set, checked by replication.
    pub db_name: String,
    /// `pidfile`; `None` writes no pid file.
    pub pidfile: Option<PathBuf>,
    /// `log-level`.
    pub log_level: LogLevel,
    /// `log-dir`; `None` logs to stdout (`stdout` or empty in the file).
    pub log_dir: Option<PathBuf>,
    /// `requirepass`: the `default` user's password; `None` makes it
    /// `nopass`.
    pub requirepass: Option<String>,
    /// `aclfile`: where ACL LOAD and ACL SAVE read and write the users;
    /// `None` when unset.
    pub aclfile: Option<PathBuf>,
    /// `acllog-max-len`: entries ACL LOG keeps.
    pub acllog_max_len: u64,
    /// `acl-pubsub-default`: whether new users and selectors start with
    /// every channel allowed (`allchannels`) or none (`resetchannels`).
    pub acl_pubsub_allchannels: bool,
    /// `cluster-enabled`: cluster mode (keys carry their slot on disk).
    pub cluster_enabled: bool,
    /// `persist-cluster-nodes-enabled`: keep the topology in `nodes.conf`.
    pub persist_cluster_nodes_enabled: bool,
    /// `migrate-speed`: slot migration's keys per second (0: no limit).
    pub migrate_speed: u64,
    /// `migrate-sequence-gap`: how far behind the WAL catch-up of a slot
    /// migration may be before it forbids writes for the last delta.
    pub migrate_sequence_gap: u64,
    /// `migrate-batch-size-kb`: the size of each batch a migration sends.
    pub migrate_batch_size_kb: u64,
    /// `migrate-batch-rate-limit-mb`: a migration's MB per second (0: no
    /// limit).
    pub migrate_batch_rate_limit_mb: u64,
    /// `migrate-import-timeout`: seconds a slot import may go without a
    /// batch from its source before it fails (0: no limit).
    pub migrate_import_timeout: u64,
    /// `slaveof` / `replicaof`: `<host> <port>` of the master to follow at
    /// startup; empty for a master.
    pub slaveof: String,
    /// `masterauth`: the password sent to the master; `None` sends none.
    pub masterauth: Option<String>,
    /// `replica-announce-ip`: the address a replica gives its master;
    /// empty gives none (the master sees the connection's address).
    pub replica_announce_ip: String,
    /// `replica-announce-port`: the port a replica gives its master; 0
    /// gives `port`.
    pub replica_announce_port: u16,
    /// `slave-serve-stale-data`: a replica whose link is down still
    /// answers (yes) or answers MASTERDOWN (no).
    pub slave_serve_stale_data: bool,
    pub slave_empty_db_before_fullsync: bool,
    /// `max-replication-mb`: full-sync transfer rate limit in MB/s on a
    /// master; 0 means none.
    pub max_replication_mb: u64,
    /// `repl-backlog-size`: bytes of recent batches a master keeps in
    /// memory for its replicas' feeds while it has one.
    pub repl_backlog_size: u64,
    /// `min-replicas-to-write`: a master refuses writes (NOREPLICAS) with
    /// fewer replicas in sync than this; 0 turns the check off.
    pub min_replicas_to_write: u64,
    /// `min-replicas-max-lag`: seconds since its last acknowledgement for
    /// a replica to count as in sync; 0 turns the check off, as in Redis.
    pub min_replicas_max_lag: u64,
    /// `proto-max-bulk-len`: largest bulk string accepted, bytes.
    pub proto_max_bulk_len: u64,
    /// `client-query-buffer-limit`: largest unparsed input per client, bytes.
    pub client_query_buffer_limit: u64,
    /// `max-bitmap-to-string-mb`: largest bitmap returned as a string, MB.
    pub max_bitmap_to_string_mb: u64,
    /// `hll-sparse-max-bytes`: largest HyperLogLog string shown sparse.
    pub hll_sparse_max_bytes: u64,
    /// `appendfsync`.
    pub appendfsync: FsyncPolicy,
    /// `slowlog-log-slower-than`, µs; negative disables the slow log.
    pub slowlog_log_slower_than: i64,
    /// `slowlog-max-len`.
    pub slowlog_max_len: usize,
    /// `active-expire-enabled`: background deletion of expired keys.
    pub active_expire_enabled: bool,
    /// `active-expire-hz`: background expiry cycles per second.
    pub active_expire_hz: u32,
    /// `active-expire-keys-per-cycle`: keys examined per expiry cycle, at most.
    pub active_expire_keys_per_cycle: u32,
    /// `lua-time-limit` (alias `busy-reply-threshold`), ms.
    pub lua_time_limit: u64,
    /// `notify-keyspace-events`.
    pub notify_keyspace_events: KeyspaceEvents,
    /// `client-output-buffer-limit`.
    pub client_output_buffer_limit: OutputBufferLimits,
    /// `rocksdb.*`.
    pub rocksdb: RocksdbConfig,
    /// The absolute path of the file loaded at startup, for `CONFIG REWRITE`.
    file: Option<PathBuf>,
    /// Values of the no-op and ignored options, by canonical name, as
    /// `CONFIG GET` prints them.
    extra: BTreeMap<&'static str, String>,
}

/// The `rocksdb.*` options. Sizes use Kvrocks' units: MB where the name
/// does not say otherwise, bytes for `block_size`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RocksdbConfig {
    /// Shared block cache, MB.
    pub block_cache_size: u64,
    /// Memtable size per column family, MB.
    pub write_buffer_size: u64,
    pub max_write_buffer_number: i32,
    /// Target SST size in level 1, MB.
    pub target_file_size_base: u64,
    pub max_background_jobs: i32,
    /// -1 keeps every file open.
    pub max_open_files: i32,
    /// WAL size that forces flushes, MB; 0 lets RocksDB choose.
    pub max_total_wal_size: u64,
    /// Data block size, bytes.
    pub block_size: u64,
    pub compression: Compression,
    pub wal_ttl_seconds: u64,
    pub wal_size_limit_mb: u64,
    pub level_compaction_dynamic_level_bytes: bool,
    /// Kvrocks' partitioned index and filters instead of one index and
    /// one filter block per SST file.
    pub partition_filters: bool,
}

const MB: u64 = 1024 * 1024;

impl RocksdbConfig {
    pub fn block_cache_bytes(&self) -> u64 {
        self.block_cache_size * MB
    }

    pub fn write_buffer_bytes(&self) -> u64 {
        self.write_buffer_size * MB
    }

    pub fn target_file_size_base_bytes(&self) -> u64 {
        self.target_file_size_base * MB
    }

    pub fn max_total_wal_bytes(&self) -> u64 {
        self.max_total_wal_size * MB
    }
}

impl Default for Config {
    /// The compiled defaults: every option of the table set to its default.
    fn default() -> Self {
        let mut cfg = Config::unset();
        for def in options::all() {
            if let Err(reason) = def.apply(&mut cfg, def.default) {
                // The table is ours and a unit test parses every default,
                // so this is a bug in the table, not bad input.
                panic!("bad default for '{}': {reason}", def.name);
            }
        }
        cfg
    }
}

impl Config {
    /// Where SAVE and BGSAVE write: `backup-dir`, or `<dir>/backup`.
    pub fn backup_path(&self) -> PathBuf {
        if self.backup_dir.is_empty() {
            self.dir.join("backup")
        } else {
            PathBuf::from(&self.backup_dir)
        }
    }

    /// Placeholder values, each overwritten by its option's default.
    fn unset() -> Self {
        Config {
            bind: Vec::new(),
            port: 0,
            tcp_backlog: 0,
            timeout: 0,
            maxclients: 0,
            tracking_table_max_keys: 0,
            workers: 0,
            dir: PathBuf::new(),
            backup_dir: String::new(),
            db_name: String::new(),
            pidfile: None,
            log_level: LogLevel::Info,
            log_dir: None,
            requirepass: None,
            aclfile: None,
            acllog_max_len: 0,
            acl_pubsub_allchannels: false,
            cluster_enabled: false,
            persist_cluster_nodes_enabled: true,
            migrate_speed: 4096,
            migrate_sequence_gap: 10000,
            migrate_batch_size_kb: 16,
            migrate_batch_rate_limit_mb: 16,
            migrate_import_timeout: 60,
            slaveof: String::new(),
            masterauth: None,
            replica_announce_ip: String::new(),
            replica_announce_port: 0,
            slave_serve_stale_data: true,
            slave_empty_db_before_fullsync: false,
            max_replication_mb: 0,
            repl_backlog_size: 64 << 20,
            min_replicas_to_write: 0,
            min_replicas_max_lag: 10,
            proto_max_bulk_len: 0,
            client_query_buffer_limit: 0,
            max_bitmap_to_string_mb: 0,
            hll_sparse_max_bytes: 0,
            appendfsync: FsyncPolicy::EverySec,
            slowlog_log_slower_than: 0,
            slowlog_max_len: 0,
            active_expire_enabled: false,
            active_expire_hz: 0,
            active_expire_keys_per_cycle: 0,
            lua_time_limit: 0,
            notify_keyspace_events: KeyspaceEvents::default(),
            client_output_buffer_limit: OutputBufferLimits::default(),
            rocksdb: RocksdbConfig {
                block_cache_size: 0,
                write_buffer_size: 0,
                max_write_buffer_number: 0,
                target_file_size_base: 0,
                max_background_jobs: 0,
                max_open_files: 0,
                max_total_wal_size: 0,
                block_size: 0,
                compression: Compression::No,
                wal_ttl_seconds: 0,
                wal_size_limit_mb: 0,
                level_compaction_dynamic_level_bytes: false,
                partition_filters: false,
            },
            file: None,
            extra: BTreeMap::new(),
        }
    }

    /// Builds the startup configuration: defaults, then `file` (if any),
    /// then the command-line `overrides` (`--name value` pairs, names given
    /// without the dashes), so overrides win. Errors name the file line or
    /// the command-line option.
    pub fn load(
        file: Option<&Path>,
        overrides: &[(String, String)],
    ) -> Result<Config, ConfigError> {
        let mut cfg = Config::default();
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: path.to_path_buf(),
                source,
            })?;
            file::parse_into(&mut cfg, &text, Some(path))?;
            // Absolute, so CONFIG REWRITE still finds it if the process
            // changes directory.
            cfg.file = Some(std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()));
        }
        file::apply_overrides(&mut cfg, overrides)?;
        Ok(cfg)
    }

    /// Parses config-file text on top of the defaults (no file is recorded,
    /// so [`rewrite`](Config::rewrite) is unavailable).
    pub fn parse_str(text: &str) -> Result<Config, ConfigError> {
        let mut cfg = Config::default();
        file::parse_into(&mut cfg, text, None)?;
        Ok(cfg)
    }

    /// `CONFIG GET pattern [pattern ...]`: `(name, value)` pairs for every
    /// option (or alias) matching any pattern, each name once, in table
    /// order per pattern. Patterns are case-insensitive Redis globs; a
    /// pattern without `*`, `?` or `[` is an exact lookup and is answered
    /// with the name as the client spelled it, like Redis 7. Values are
    /// formatted as in the config file (yes/no, sizes in bytes), unquoted.
    pub fn get(&self, patterns: &[&[u8]]) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut seen: HashSet<String> = HashSet::new();
        for pattern in patterns {
            let is_glob = pattern.iter().any(|b| matches!(b, b'*' | b'?' | b'['));
            if !is_glob {
                let name = String::from_utf8_lossy(pattern).into_owned();
                if let Some(def) = options::lookup(&name) {
                    if seen.insert(name.to_ascii_lowercase()) {
                        out.push((name, def.value(self)));
                    }
                }
                continue;
            }
            for def in options::all().filter(|d| !d.hidden) {
                for name in def.names() {
                    if basalt_glob::glob_match(pattern, name.as_bytes(), true)
                        && seen.insert(name.to_string())
                    {
                        out.push((name.to_string(), def.value(self)));
                    }
                }
            }
        }
        out
    }

    /// `CONFIG SET name value [name value ...]`, atomically: every name is
    /// checked first (the first unknown, immutable or repeated one fails the
    /// command), then every value is validated on a copy, and only if all
    /// pass is the copy kept. Returns the canonical names of the options
    /// whose value changed, so the server can react (resize the slow log,
    /// change the log level, ...).
    pub fn set(&mut self, pairs: &[(&[u8], &[u8])]) -> Result<Vec<&'static str>, ConfigError> {
        let mut resolved: Vec<(&'static OptionDef, &[u8])> = Vec::with_capacity(pairs.len());
        for (name, value) in pairs {
            let Some(def) = std::str::from_utf8(name).ok().and_then(options::lookup) else {
                return Err(ConfigError::UnknownSetOption(
                    String::from_utf8_lossy(name).into_owned(),
                ));
            };
            let failed = |reason: &str| ConfigError::SetFailed {
                name: def.name,
                reason: reason.to_string(),
            };
            // Setting an immutable option to the value it has changes
            // nothing, so it is accepted: tools that write back everything
            // CONFIG GET * returned (Redis's own test suite does) work.
            if !def.is_live() && !def.value(self).as_bytes().eq_ignore_ascii_case(value) {
                return Err(failed("can't set immutable config"));
            }
            if resolved.iter().any(|(d, _)| std::ptr::eq(*d, def)) {
                return Err(failed("duplicate parameter"));
            }
            resolved.push((def, value));
        }

        let mut next = self.clone();
        for (def, value) in &resolved {
            let failed = |reason: String| ConfigError::SetFailed {
                name: def.name,
                reason,
            };
            let value = std::str::from_utf8(value)
                .map_err(|_| failed("argument must be valid UTF-8".into()))?;
            def.apply(&mut next, value).map_err(failed)?;
        }
        let changed = resolved
            .iter()
            .filter(|(def, _)| def.value(self) != def.value(&next))
            .map(|(def, _)| def.name)
            .collect();
        *self = next;
        Ok(changed)
    }

    /// `CONFIG REWRITE`: rewrites the startup file with the current values,
    /// keeping comments, unknown lines and the order of existing lines,
    /// updating lines whose value changed and appending options that differ
    /// from their default. The file is replaced atomically.
    pub fn rewrite(&self) -> Result<(), ConfigError> {
        let path = self.file.as_deref().ok_or(ConfigError::NoConfigFile)?;
        rewrite::rewrite_file(self, path).map_err(ConfigError::Rewrite)
    }

    /// The config file loaded at startup, as an absolute path.
    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    /// The documented example config file (`basalt.conf` at the repository
    /// root): every option with its doc and default value.
    pub fn example_file() -> String {
        example::render()
    }
}

/// The configuration reference, `docs/configuration.md`: the file syntax,
/// the command line, `CONFIG GET/SET/REWRITE/RESETSTAT`, and a table of every
/// option by kind of support, generated from the option table.
pub fn reference_markdown() -> String {
    reference::render()
}

/// Every option Basalt knows, in table order.
pub fn options() -> impl Iterator<Item = &'static OptionDef> {
    options::all()
}

/// The Redis options accepted only for compatibility (no effect), for the
/// server's documentation.
pub fn noop_options() -> impl Iterator<Item = &'static OptionDef> {
    options::all().filter(|d| d.support() == Support::RedisNoOp)
}

#[cfg(test)]
mod tests;
