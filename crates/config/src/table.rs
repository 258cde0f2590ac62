//! The option table: every option Basalt accepts, one row each, grouped in
//! sections. See `options.rs` for what the columns mean.

use crate::enums::{Compression, FsyncPolicy, KeyspaceEvents, LogLevel, Named};
use crate::options::{Access, Accessor, Check, Kind, OptionDef, Section};
use std::path::PathBuf;

// ---------------------------------------------------------------------------
// Row builders, so that each row of the table reads as one sentence.

const fn opt(
    name: &'static str,
    default: &'static str,
    kind: Kind,
    doc: &'static str,
) -> OptionDef {
    OptionDef {
        name,
        aliases: &[],
        kind,
        default,
        live: false,
        hidden: false,
        doc,
    }
}

impl OptionDef {
    /// `CONFIG SET` may change it at run time.
    const fn live(mut self) -> Self {
        self.live = true;
        self
    }

    /// Left out of `CONFIG GET` patterns, returned only when named (as
    /// Redis's debugging options).
    const fn hidden(mut self) -> Self {
        self.hidden = true;
        self
    }

    const fn alias(mut self, aliases: &'static [&'static str]) -> Self {
        self.aliases = aliases;
        self
    }
}

const fn boolean(access: Access<bool>) -> Kind {
    Kind::Bool(access)
}

const fn int(min: i64, max: i64, access: Access<i64>) -> Kind {
    Kind::Int {
        min,
        max,
        memory: false,
        access,
    }
}

const fn bytes(min: i64, max: i64, access: Access<i64>) -> Kind {
    Kind::Int {
        min,
        max,
        memory: true,
        access,
    }
}

const fn one_of(names: &'static [&'static str], access: Access<usize>) -> Kind {
    Kind::Enum { names, access }
}

const fn text(access: Access<String>) -> Kind {
    Kind::Text {
        check: None,
        access,
    }
}

const fn checked_text(check: Check, access: Access<String>) -> Kind {
    Kind::Text {
        check: Some(check),
        access,
    }
}

const NOOP_BOOL: Kind = Kind::Bool(Access::RedisNoOp);
const IGNORED_BOOL: Kind = Kind::Bool(Access::KvrocksIgnored);
const IGNORED_TEXT: Kind = text(Access::KvrocksIgnored);
const INT_MAX: i64 = i32::MAX as i64;
const I64_MAX: i64 = i64::MAX;

/// A numeric field; the table's range guarantees the `as` casts are exact
/// (a unit test round-trips every range end).
macro_rules! int_field {
    ($($f:ident).+) => {
        Access::Field(Accessor {
            get: |c| c.$($f).+ as i64,
            set: |c, v| {
                c.$($f).+ = v as _;
                Ok(())
            },
        })
    };
}

macro_rules! bool_field {
    ($($f:ident).+) => {
        boolean(Access::Field(Accessor {
            get: |c| c.$($f).+,
            set: |c, v| {
                c.$($f).+ = v;
                Ok(())
            },
        }))
    };
}

macro_rules! enum_field {
    ($ty:ty, $($f:ident).+) => {
        one_of(
            <$ty as Named>::NAMES,
            Access::Field(Accessor {
                get: |c| c.$($f).+ as usize,
                set: |c, v| {
                    c.$($f).+ = <$ty as Named>::from_index(v);
                    Ok(())
                },
            }),
        )
    };
}

/// `slaveof`: empty, or `<host> <port>` with a port in 1..=65535.
fn check_master_address(v: &str) -> Result<(), String> {
    if v.is_empty() {
        return Ok(());
    }
    let mut parts = v.split_whitespace();
    match (
        parts.next(),
        parts.next().map(str::parse::<u16>),
        parts.next(),
    ) {
        (Some(_), Some(Ok(port)), None) if port > 0 => Ok(()),
        _ => Err("expected '<host> <port>' of the master".into()),
    }
}

fn non_empty(s: String) -> Result<String, String> {
    if s.is_empty() {
        Err("argument must not be empty".into())
    } else {
        Ok(s)
    }
}

fn path_text(p: &Option<PathBuf>) -> String {
    p.as_ref()
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Redis's `save` syntax: pairs of `<seconds> <changes>`, or empty.
/// Redis's memory-or-percentage values (`maxmemory-clients`): `10%` or a
/// size.
fn check_memory_or_percent(s: &str) -> Result<(), String> {
    if let Some(p) = s.strip_suffix('%') {
        let p: i64 = p
            .parse()
            .map_err(|_| "argument must be a memory or percent value".to_string())?;
        if p > 100 {
            return Err("percentage argument must be less or equal to 100".into());
        }
        if p < 0 {
            return Err("argument must be a memory or percent value".into());
        }
        return Ok(());
    }
    match crate::value::parse_memory(s) {
        Ok(n) if n >= 0 => Ok(()),
        _ => Err("argument must be a memory or percent value".into()),
    }
}

fn check_save(s: &str) -> Result<(), String> {
    let words: Vec<&str> = s.split_whitespace().collect();
    let numbers = words.iter().all(|w| w.parse::<u64>().is_ok());
    if words.len() % 2 == 0 && numbers {
        Ok(())
    } else {
        Err("Invalid save parameters".into())
    }
}

const MAXMEMORY_POLICIES: &[&str] = &[
    "volatile-lru",
    "volatile-lfu",
    "volatile-random",
    "volatile-ttl",
    "allkeys-lru",
    "allkeys-lfu",
    "allkeys-random",
    "noeviction",
];

// ---------------------------------------------------------------------------
// The table. Defaults are written exactly as `CONFIG GET` prints them (sizes
// in bytes, booleans yes/no); a unit test enforces it.

pub(crate) static TABLE: &[Section] = &[
    Section {
        title: "NETWORK",
        options: &[
            opt(
                "bind",
                "127.0.0.1",
                Kind::Words(Access::Field(Accessor {
                    get: |c| c.bind.clone(),
                    set: |c, v| {
                        if v.is_empty() {
                            return Err("at least one address is required".into());
                        }
                        c.bind = v;
                        Ok(())
                    },
                })),
                "Addresses to listen on, IPv4 or IPv6, separated by spaces; \
                 0.0.0.0 listens on every interface. Basalt has no protected mode: \
                 set requirepass before listening beyond localhost. CONFIG SET \
                 listens on the new addresses first and only then closes the old \
                 ones; open connections stay.",
            )
            .live(),
            opt(
                "port",
                "6666",
                int(1, 65535, int_field!(port)),
                "TCP port to listen on (Kvrocks' default, not Redis's 6379). \
                 CONFIG SET moves the listeners to the new port (refused, and \
                 nothing changed, when it is taken); open connections stay.",
            )
            .live(),
            opt(
                "tcp-backlog",
                "511",
                int(0, INT_MAX, int_field!(tcp_backlog)),
                "listen() backlog. Linux silently caps it at \
                 /proc/sys/net/core/somaxconn.",
            ),
            opt(
                "timeout",
                "0",
                int(0, INT_MAX, int_field!(timeout)),
                "Close a client connection after this many seconds idle; 0 never closes it.",
            )
            .live(),
            opt(
                "maxclients",
                "10000",
                int(1, INT_MAX, int_field!(maxclients)),
                "Maximum number of connected clients; further connections get \
                 'ERR max number of clients reached'.",
            )
            .live(),
            opt(
                "tracking-table-max-keys",
                "1000000",
                int(0, I64_MAX, int_field!(tracking_table_max_keys)),
                "Most keys the client-side caching table remembers (CLIENT TRACKING); \
                 past it, keys are forgotten and their clients sent an invalidation. \
                 0 means no limit.",
            )
            .live(),
            opt(
                "workers",
                "0",
                int(0, 256, int_field!(workers)),
                "Number of threads serving client connections; 0 means one per CPU \
                 this process may run on (its affinity mask), and at least two, so \
                 that SCRIPT KILL always finds a free thread.",
            ),
            opt(
                "protected-mode",
                "no",
                NOOP_BOOL,
                "Redis's protected mode. Basalt does not implement it (see bind and \
                 requirepass); accepted because Redis tooling passes --protected-mode no.",
            ),
        ],
    },
    Section {
        title: "GENERAL",
        options: &[
            opt(
                "dir",
                "./basalt-data",
                text(Access::Field(Accessor {
                    get: |c| c.dir.to_string_lossy().into_owned(),
                    set: |c, v| {
                        c.dir = PathBuf::from(non_empty(v)?);
                        Ok(())
                    },
                })),
                "Working directory: the RocksDB database and Basalt's other files \
                 live here. Created if missing.",
            ),
            opt(
                "backup-dir",
                "",
                text(Access::Field(Accessor {
                    get: |c| c.backup_dir.clone(),
                    set: |c, v| {
                        c.backup_dir = v;
                        Ok(())
                    },
                })),
                "Where SAVE and BGSAVE write their RocksDB checkpoint (one at a \
                 time: the previous one is replaced). Empty: <dir>/backup.",
            )
            .live(),
            opt(
                "db-name",
                "change.me.db",
                text(Access::Field(Accessor {
                    get: |c| c.db_name.clone(),
                    set: |c, v| {
                        c.db_name = non_empty(v)?;
                        Ok(())
                    },
                })),
                "Name of this data set. As in Kvrocks, a replica refuses to sync \
                 from a master whose db-name differs, so give each data set its own.",
            ),
            opt(
                "pidfile",
                "",
                text(Access::Field(Accessor {
                    get: |c| path_text(&c.pidfile),
                    set: |c, v| {
                        c.pidfile = (!v.is_empty()).then(|| PathBuf::from(v));
                        Ok(())
                    },
                })),
                "Write the process id to this file at startup and remove it at \
                 shutdown; empty writes no pid file.",
            ),
            opt(
                "log-level",
                "info",
                enum_field!(LogLevel, log_level),
                "Least severe log level written.",
            )
            .live(),
            opt(
                "log-dir",
                "stdout",
                text(Access::Field(Accessor {
                    get: |c| {
                        c.log_dir.as_ref().map_or_else(
                            || "stdout".to_string(),
                            |p| p.to_string_lossy().into_owned(),
                        )
                    },
                    set: |c, v| {
                        c.log_dir = (!v.is_empty() && v != "stdout").then(|| PathBuf::from(v));
                        Ok(())
                    },
                })),
                "Directory for log files; 'stdout' (or empty) logs to standard output.",
            ),
            opt(
                "daemonize",
                "no",
                boolean(Access::Fixed(
                    "running as a daemon is not supported; use a supervisor such as systemd",
                )),
                "Basalt always runs in the foreground.",
            ),
            opt(
                "supervised",
                "no",
                one_of(
                    &["no", "upstart", "systemd", "auto"],
                    Access::Fixed("supervision notifications are not supported yet"),
                ),
                "Kvrocks' upstart/systemd readiness signalling; not supported yet.",
            ),
            opt(
                "databases",
                "1",
                int(
                    1,
                    INT_MAX,
                    Access::Fixed("Basalt has a single database, db 0"),
                ),
                "Number of logical databases. Basalt has one (db 0); tools read \
                 this to learn that, so CONFIG GET databases answers 1.",
            ),
            opt(
                "cluster-enabled",
                "no",
                boolean(Access::Field(Accessor {
                    get: |c| c.cluster_enabled,
                    set: |c, v| {
                        c.cluster_enabled = v;
                        Ok(())
                    },
                })),
                "Cluster mode, Kvrocks' model: the topology is pushed to every node \
                 with CLUSTERX SETNODES (see docs/cluster.md). Keys carry their hash \
                 slot in the on-disk encoding, so a data directory is tied to the mode \
                 it was written in.",
            ),
            opt(
                "log-retention-days",
                "-1",
                int(-1, INT_MAX, Access::KvrocksIgnored),
                "Kvrocks' log cleaner; Basalt leaves log rotation to the system.",
            ),
        ],
    },
    Section {
        title: "SECURITY",
        options: &[
            opt(
                "requirepass",
                "",
                text(Access::Field(Accessor {
                    get: |c| c.requirepass.clone().unwrap_or_default(),
                    set: |c, v| {
                        c.requirepass = (!v.is_empty()).then_some(v);
                        Ok(())
                    },
                })),
                "Password of the 'default' user, whom connections start as: clients \
                 must send AUTH <password> before other commands. Empty makes the \
                 default user nopass (no authentication). Setting it is ACL SETUSER \
                 default resetpass ><password>, as in Redis.",
            )
            .live(),
            opt(
                "aclfile",
                "",
                text(Access::Field(Accessor {
                    get: |c| path_text(&c.aclfile),
                    set: |c, v| {
                        c.aclfile = (!v.is_empty()).then(|| PathBuf::from(v));
                        Ok(())
                    },
                })),
                "File of ACL users, one 'user <name> <rules...>' line each (Redis's \
                 format): read at startup (a bad line stops the server) and by ACL LOAD, \
                 written by ACL SAVE. Empty: users live only in memory. A relative path \
                 is relative to the directory the server was started in.",
            ),
            opt(
                "acllog-max-len",
                "128",
                int(0, I64_MAX, int_field!(acllog_max_len)),
                "Entries ACL LOG keeps (refused commands and failed authentications).",
            )
            .live(),
            opt(
                "acl-pubsub-default",
                "resetchannels",
                one_of(
                    &["allchannels", "resetchannels"],
                    Access::Field(Accessor {
                        get: |c| if c.acl_pubsub_allchannels { 0 } else { 1 },
                        set: |c, v| {
                            c.acl_pubsub_allchannels = v == 0;
                            Ok(())
                        },
                    }),
                ),
                "Channels a new ACL user (or selector) may use: allchannels, or none \
                 until granted with &pattern (resetchannels, Redis 7's default). The \
                 default user keeps every channel either way.",
            )
            .live(),
            opt(
                "masterauth",
                "",
                text(Access::Field(Accessor {
                    get: |c| c.masterauth.clone().unwrap_or_default(),
                    set: |c, v| {
                        c.masterauth = (!v.is_empty()).then_some(v);
                        Ok(())
                    },
                })),
                "Password a replica sends (AUTH) to its master before syncing; \
                 empty sends none.",
            )
            .live(),
            opt(
                "repl-namespace-enabled",
                "no",
                boolean(Access::Fixed("namespaces are not supported yet")),
                "Kvrocks namespace replication; Basalt has no namespaces yet.",
            ),
        ],
    },
    Section {
        title: "LIMITS",
        options: &[
            opt(
                "proto-max-bulk-len",
                "536870912",
                bytes(1, I64_MAX, int_field!(proto_max_bulk_len)),
                "Largest bulk string a client may send, in bytes.",
            )
            .live(),
            opt(
                "client-query-buffer-limit",
                "1073741824",
                bytes(1024 * 1024, I64_MAX, int_field!(client_query_buffer_limit)),
                "Largest unparsed input buffered per client, in bytes; a client \
                 exceeding it is disconnected.",
            )
            .live(),
            opt(
                "max-bitmap-to-string-mb",
                "16",
                int(0, INT_MAX, int_field!(max_bitmap_to_string_mb)),
                "Largest bitmap, in MB, that GET and other string commands will \
                 return as a string (Kvrocks stores bitmaps apart from strings).",
            )
            .live(),
            opt(
                "hll-sparse-max-bytes",
                "3000",
                bytes(0, I64_MAX, int_field!(hll_sparse_max_bytes)),
                "Largest HyperLogLog, in bytes, that GET, DUMP and the other \
                 string commands show in Redis's sparse form (Basalt stores \
                 HyperLogLogs dense, as Kvrocks).",
            )
            .live(),
            opt(
                "max-db-size",
                "0",
                int(
                    0,
                    I64_MAX,
                    Access::Fixed("a database size limit is not supported yet"),
                ),
                "Kvrocks' disk-space limit in GB; 0 means none.",
            ),
            opt(
                "max-io-mb",
                "0",
                int(
                    0,
                    INT_MAX,
                    Access::Fixed("an I/O rate limit is not supported yet"),
                ),
                "Kvrocks' flush and compaction rate limit in MB/s; 0 means none.",
            ),
            opt(
                "json-max-nesting-depth",
                "1024",
                int(0, INT_MAX, Access::KvrocksIgnored),
                "Deepest JSON document accepted in Kvrocks; Basalt accepts 127 levels (serde_json's parser limit).",
            ),
            opt(
                "json-storage-format",
                "json",
                one_of(&["json", "cbor"], Access::KvrocksIgnored),
                "On-disk encoding of JSON values in Kvrocks; Basalt reads both and always writes JSON text.",
            ),
        ],
    },
    Section {
        title: "DURABILITY",
        options: &[
            opt(
                "appendfsync",
                "everysec",
                enum_field!(FsyncPolicy, appendfsync),
                "When the write-ahead log is fsynced. A reply is always sent after \
                 the write reached the WAL, so an acknowledged write survives a \
                 crash of the process; this setting covers power loss. always: \
                 fsync before replying. everysec: fsync about once a second, so a \
                 power loss can lose the last second. no: leave it to the OS.",
            )
            .live(),
            opt(
                "appendonly",
                "no",
                NOOP_BOOL,
                "Redis's AOF. Basalt's durability comes from the RocksDB WAL (see appendfsync).",
            ),
            opt(
                "appendfilename",
                "appendonly.aof",
                text(Access::RedisNoOp),
                "Redis's AOF file name; no effect.",
            ),
            opt(
                "no-appendfsync-on-rewrite",
                "no",
                NOOP_BOOL,
                "Redis AOF tuning; no effect.",
            ),
            opt(
                "auto-aof-rewrite-percentage",
                "100",
                int(0, INT_MAX, Access::RedisNoOp),
                "Redis AOF tuning; no effect.",
            ),
            opt(
                "auto-aof-rewrite-min-size",
                "67108864",
                bytes(0, I64_MAX, Access::RedisNoOp),
                "Redis AOF tuning; no effect.",
            ),
            opt(
                "key-load-delay",
                "0",
                int(i32::MIN as i64, INT_MAX, Access::RedisNoOp),
                "Redis debugging option (slows loading down); no effect. Hidden: \
                 CONFIG GET returns it only when named.",
            )
            .hidden(),
            opt(
                "rdb-key-save-delay",
                "0",
                int(i32::MIN as i64, INT_MAX, Access::RedisNoOp),
                "Redis debugging option (slows RDB saving down); no effect. Hidden: \
                 CONFIG GET returns it only when named.",
            )
            .hidden(),
            opt(
                "loading-process-events-interval-bytes",
                "2097152",
                int(1024, INT_MAX, Access::RedisNoOp),
                "Redis debugging option (event processing while loading); no effect. \
                 Hidden: CONFIG GET returns it only when named.",
            )
            .hidden(),
            opt(
                "save",
                "",
                checked_text(check_save, Access::RedisNoOp),
                "Redis RDB snapshot schedule ('<seconds> <changes>' pairs). Basalt \
                 writes no RDB snapshots; empty says so to tools such as redis-benchmark.",
            ),
            opt(
                "dbfilename",
                "dump.rdb",
                text(Access::RedisNoOp),
                "Redis RDB file name; no effect.",
            ),
            opt(
                "rdbcompression",
                "yes",
                NOOP_BOOL,
                "Redis RDB setting; no effect.",
            ),
            opt(
                "rdbchecksum",
                "yes",
                NOOP_BOOL,
                "Redis RDB setting; no effect.",
            ),
            opt(
                "stop-writes-on-bgsave-error",
                "yes",
                NOOP_BOOL,
                "Redis RDB setting; no effect.",
            ),
        ],
    },
    Section {
        title: "OBSERVABILITY",
        options: &[
            opt(
                "slowlog-log-slower-than",
                "100000",
                int(-1, I64_MAX, int_field!(slowlog_log_slower_than)),
                "Commands slower than this many microseconds go to the slow log; \
                 0 logs every command, -1 disables the slow log.",
            )
            .live(),
            opt(
                "slowlog-max-len",
                "128",
                int(0, INT_MAX, int_field!(slowlog_max_len)),
                "Entries kept in the slow log; the oldest is dropped first.",
            )
            .live(),
            opt(
                "latency-monitor-threshold",
                "0",
                int(0, I64_MAX, Access::RedisNoOp),
                "Redis's latency monitor; not implemented, no effect.",
            ),
            opt(
                "profiling-sample-ratio",
                "0",
                int(0, 100, Access::KvrocksIgnored),
                "Kvrocks perf log: percentage of commands profiled; not supported yet.",
            ),
            opt(
                "profiling-sample-commands",
                "",
                IGNORED_TEXT,
                "Kvrocks perf log: commands to profile; not supported yet.",
            ),
            opt(
                "profiling-sample-record-max-len",
                "256",
                int(0, INT_MAX, Access::KvrocksIgnored),
                "Kvrocks perf log length; not supported yet.",
            ),
            opt(
                "profiling-sample-record-threshold-ms",
                "100",
                int(0, INT_MAX, Access::KvrocksIgnored),
                "Kvrocks perf log threshold; not supported yet.",
            ),
        ],
    },
    Section {
        title: "EXPIRY, SCRIPTING AND EVENTS",
        options: &[
            opt(
                "active-expire-enabled",
                "yes",
                bool_field!(active_expire_enabled),
                "Delete expired keys in the background. Expired keys are invisible \
                 to reads either way; this reclaims their disk space without \
                 waiting for compaction.",
            )
            .live(),
            opt(
                "active-expire-hz",
                "10",
                int(1, 500, int_field!(active_expire_hz)),
                "How many background expiry cycles run per second.",
            )
            .live(),
            opt(
                "active-expire-keys-per-cycle",
                "500",
                int(1, 1_000_000, int_field!(active_expire_keys_per_cycle)),
                "Most keys one background expiry cycle examines, which bounds the \
                 CPU and I/O the expiry task takes from clients.",
            )
            .live(),
            opt(
                "lua-time-limit",
                "5000",
                int(0, I64_MAX, int_field!(lua_time_limit)),
                "Milliseconds a script may run before other clients get BUSY \
                 replies and SCRIPT KILL / FUNCTION KILL become possible.",
            )
            .live()
            .alias(&["busy-reply-threshold"]),
            opt(
                "notify-keyspace-events",
                "",
                text(Access::Field(Accessor {
                    get: |c| c.notify_keyspace_events.to_string(),
                    set: |c, v| {
                        c.notify_keyspace_events = KeyspaceEvents::parse(&v)?;
                        Ok(())
                    },
                })),
                "Keyspace notifications to publish, as Redis's class letters \
                 (K, E, g, $, l, s, h, z, x, e, t, m, d, n, A); empty publishes none.",
            )
            .live(),
            opt(
                "hz",
                "10",
                int(1, 500, Access::RedisNoOp),
                "Redis's background task frequency; see active-expire-hz instead.",
            ),
            opt(
                "dynamic-hz",
                "yes",
                NOOP_BOOL,
                "Redis's adaptive hz; no effect.",
            ),
        ],
    },
    Section {
        title: "REDIS MEMORY AND ENCODING OPTIONS (accepted, no effect)",
        options: &[
            opt(
                "maxmemory",
                "0",
                bytes(0, I64_MAX, Access::RedisNoOp),
                "Redis's memory limit. Basalt's data is on disk; memory is bounded \
                 by rocksdb.block_cache_size and rocksdb.write_buffer_size.",
            ),
            opt(
                "maxmemory-policy",
                "noeviction",
                one_of(MAXMEMORY_POLICIES, Access::RedisNoOp),
                "Redis's eviction policy. Basalt never evicts, which is what \
                 noeviction reports to job queues that check it.",
            ),
            opt(
                "maxmemory-clients",
                "0",
                checked_text(check_memory_or_percent, Access::RedisNoOp),
                "Redis's client eviction limit (bytes, or a percentage of \
                 maxmemory); Basalt does not evict clients, no effect.",
            ),
            opt(
                "maxmemory-samples",
                "5",
                int(1, 64, Access::RedisNoOp),
                "Redis eviction tuning; no effect.",
            ),
            opt(
                "maxmemory-eviction-tenacity",
                "10",
                int(0, 100, Access::RedisNoOp),
                "Redis eviction tuning; no effect.",
            ),
            opt(
                "lazyfree-lazy-eviction",
                "no",
                NOOP_BOOL,
                "Redis lazy freeing; no effect.",
            ),
            opt(
                "lazyfree-lazy-expire",
                "no",
                NOOP_BOOL,
                "Redis lazy freeing; no effect.",
            ),
            opt(
                "lazyfree-lazy-server-del",
                "no",
                NOOP_BOOL,
                "Redis lazy freeing; no effect.",
            ),
            opt(
                "lazyfree-lazy-user-del",
                "no",
                NOOP_BOOL,
                "Redis lazy freeing; no effect.",
            ),
            opt(
                "lazyfree-lazy-user-flush",
                "no",
                NOOP_BOOL,
                "Redis lazy freeing; no effect.",
            ),
            opt(
                "activerehashing",
                "yes",
                NOOP_BOOL,
                "Redis hash table rehashing; no effect.",
            ),
            opt(
                "activedefrag",
                "no",
                NOOP_BOOL,
                "Redis active defragmentation; no effect.",
            ),
            opt(
                "client-output-buffer-limit",
                "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
                text(Access::Field(Accessor {
                    get: |c| c.client_output_buffer_limit.to_string(),
                    set: |c, v| {
                        c.client_output_buffer_limit =
                            c.client_output_buffer_limit.parse_onto(&v)?;
                        Ok(())
                    },
                })),
                "Output buffer limits per client class, as groups of four words: class, \
                 hard limit, soft limit, soft seconds. Enforced for pubsub (messages \
                 queued for a subscribed client); normal and slave are accepted, not enforced.",
            )
            .live(),
            opt(
                "hash-max-listpack-entries",
                "128",
                int(0, I64_MAX, Access::RedisNoOp),
                "Redis small-hash encoding threshold; no effect.",
            )
            .alias(&["hash-max-ziplist-entries"]),
            opt(
                "hash-max-listpack-value",
                "64",
                bytes(0, I64_MAX, Access::RedisNoOp),
                "Redis small-hash encoding threshold; no effect.",
            )
            .alias(&["hash-max-ziplist-value"]),
            opt(
                "list-max-listpack-size",
                "-2",
                int(i32::MIN as i64, INT_MAX, Access::RedisNoOp),
                "Redis list node size; no effect.",
            )
            .alias(&["list-max-ziplist-size"]),
            opt(
                "list-compress-depth",
                "0",
                int(0, INT_MAX, Access::RedisNoOp),
                "Redis list compression; no effect.",
            ),
            opt(
                "set-max-intset-entries",
                "512",
                int(0, I64_MAX, Access::RedisNoOp),
                "Redis small-set encoding threshold; no effect.",
            ),
            opt(
                "set-max-listpack-entries",
                "128",
                int(0, I64_MAX, Access::RedisNoOp),
                "Redis small-set encoding threshold; no effect.",
            ),
            opt(
                "set-max-listpack-value",
                "64",
                bytes(0, I64_MAX, Access::RedisNoOp),
                "Redis small-set encoding threshold; no effect.",
            ),
            opt(
                "zset-max-listpack-entries",
                "128",
                int(0, I64_MAX, Access::RedisNoOp),
                "Redis small-sorted-set encoding threshold; no effect.",
            )
            .alias(&["zset-max-ziplist-entries"]),
            opt(
                "zset-max-listpack-value",
                "64",
                bytes(0, I64_MAX, Access::RedisNoOp),
                "Redis small-sorted-set encoding threshold; no effect.",
            )
            .alias(&["zset-max-ziplist-value"]),
            opt(
                "stream-node-max-bytes",
                "4096",
                bytes(0, I64_MAX, Access::RedisNoOp),
                "Redis stream node size; no effect.",
            ),
            opt(
                "stream-node-max-entries",
                "100",
                int(0, I64_MAX, Access::RedisNoOp),
                "Redis stream node size; no effect.",
            ),
        ],
    },
    Section {
        title: "ROCKSDB",
        options: &[
            opt(
                "rocksdb.block_cache_size",
                "256",
                int(1, 400 * 1024, int_field!(rocksdb.block_cache_size)),
                "Size in MB of the block cache shared by all column families; it \
                 bounds most of Basalt's memory. Kvrocks ships 4096; Basalt's \
                 smaller default suits a development machine, raise it in production.",
            ),
            opt(
                "rocksdb.write_buffer_size",
                "64",
                int(1, 4096, int_field!(rocksdb.write_buffer_size)),
                "Size in MB of one memtable, per column family. Larger buffers \
                 speed up bulk writes and lengthen recovery after a crash.",
            ),
            opt(
                "rocksdb.max_write_buffer_number",
                "4",
                int(1, 256, int_field!(rocksdb.max_write_buffer_number)),
                "Memtables per column family that may exist at once (one active, \
                 the rest waiting to be flushed).",
            ),
            opt(
                "rocksdb.target_file_size_base",
                "128",
                int(1, 1024, int_field!(rocksdb.target_file_size_base)),
                "Target size in MB of an SST file in level 1.",
            ),
            opt(
                "rocksdb.max_background_jobs",
                "4",
                int(1, 256, int_field!(rocksdb.max_background_jobs)),
                "Maximum concurrent background flushes and compactions.",
            ),
            opt(
                "rocksdb.max_open_files",
                "8096",
                int(-1, INT_MAX, int_field!(rocksdb.max_open_files)),
                "SST files RocksDB keeps open; -1 keeps all of them open.",
            ),
            opt(
                "rocksdb.max_total_wal_size",
                "512",
                int(0, I64_MAX, int_field!(rocksdb.max_total_wal_size)),
                "Once the WAL exceeds this many MB, column families holding the \
                 oldest WAL are flushed so it can be deleted; 0 lets RocksDB choose.",
            ),
            opt(
                "rocksdb.block_size",
                "16384",
                bytes(1024, INT_MAX, int_field!(rocksdb.block_size)),
                "Uncompressed size in bytes of a data block, the unit of reading and caching.",
            ),
            opt(
                "rocksdb.compression",
                "snappy",
                enum_field!(Compression, rocksdb.compression),
                "Compression of SST data blocks.",
            ),
            opt(
                "rocksdb.wal_ttl_seconds",
                "10800",
                int(0, I64_MAX, int_field!(rocksdb.wal_ttl_seconds)),
                "Keep archived WAL files this many seconds so replicas can catch \
                 up without a full sync; 0 disables the age limit.",
            ),
            opt(
                "rocksdb.wal_size_limit_mb",
                "16384",
                int(0, I64_MAX, int_field!(rocksdb.wal_size_limit_mb)),
                "Keep at most this many MB of archived WAL files; 0 disables the size limit.",
            ),
            opt(
                "rocksdb.level_compaction_dynamic_level_bytes",
                "yes",
                bool_field!(rocksdb.level_compaction_dynamic_level_bytes),
                "Size levels from the last level up, which bounds space \
                 amplification; RocksDB's recommended setting.",
            ),
            opt(
                "rocksdb.partition_filters",
                "no",
                bool_field!(rocksdb.partition_filters),
                "Partition each SST file's index and bloom filter into small \
                 blocks (Kvrocks' default, yes there). Basalt's default, one \
                 index and one filter block per file, makes point reads faster; \
                 turn this on for billions of small keys with a block cache far \
                 smaller than their filters (about 1.25 bytes per key).",
            ),
        ],
    },
    Section {
        title: "REPLICATION",
        options: &[
            opt(
                "slaveof",
                "",
                checked_text(
                    check_master_address,
                    Access::Field(Accessor {
                        get: |c| c.slaveof.clone(),
                        set: |c, v| {
                            c.slaveof = v;
                            Ok(())
                        },
                    }),
                ),
                "Follow the master at '<host> <port>' from startup (Kvrocks' \
                 protocol: partial sync from the RocksDB WAL, full sync by \
                 checkpoint). Empty: this node is a master. REPLICAOF changes \
                 it at runtime. See docs/replication.md.",
            )
            .alias(&["replicaof"]),
            opt(
                "slave-serve-stale-data",
                "yes",
                bool_field!(slave_serve_stale_data),
                "While its link to the master is down, a replica answers with \
                 the data it has (yes) or refuses commands that need data with \
                 MASTERDOWN (no).",
            )
            .alias(&["replica-serve-stale-data"])
            .live(),
            opt(
                "slave-empty-db-before-fullsync",
                "no",
                bool_field!(slave_empty_db_before_fullsync),
                "Before fetching a full sync, a replica deletes its database \
                 (as Kvrocks), so that the old and the new data never take \
                 disk space together; until the new data is loaded it serves an \
                 empty data set. no: the old data is served until the new one \
                 takes its place.",
            )
            .live(),
            opt(
                "use-rsid-psync",
                "yes",
                IGNORED_BOOL,
                "Kvrocks' switch for replication ids in PSYNC (Kvrocks #538). \
                 Basalt's are always on, whatever this says (accepted so that \
                 kvrocks.conf loads): a master tags every batch with its id, a \
                 replica sends the id of its newest batch with PSYNC, and a \
                 master whose batch at that point has another id answers with \
                 a full sync.",
            ),
            opt(
                "min-replicas-to-write",
                "0",
                int(0, INT_MAX, int_field!(min_replicas_to_write)),
                "On a master: refuse write commands with NOREPLICAS while fewer \
                 than this many replicas have acknowledged within \
                 min-replicas-max-lag seconds; 0 turns the check off.",
            )
            .alias(&["min-slaves-to-write"])
            .live(),
            opt(
                "min-replicas-max-lag",
                "10",
                int(0, INT_MAX, int_field!(min_replicas_max_lag)),
                "Seconds since its last acknowledgement (REPLCONF ACK) for a \
                 replica to count toward min-replicas-to-write; 0 turns the \
                 check off.",
            )
            .alias(&["min-slaves-max-lag"])
            .live(),
            opt(
                "max-replication-mb",
                "0",
                int(0, INT_MAX, int_field!(max_replication_mb)),
                "On a master: the most MB per second all full-sync file \
                 transfers together may send (shared among them); 0 means no \
                 limit.",
            )
            .live(),
            opt(
                "repl-backlog-size",
                "67108864",
                bytes(1, I64_MAX, int_field!(repl_backlog_size)),
                "On a master with a replica: bytes of the latest write batches \
                 kept in memory, from which replicas are fed; a replica further \
                 behind reads the RocksDB WAL (rocksdb.wal_ttl_seconds and \
                 rocksdb.wal_size_limit_mb bound how far).",
            )
            .live(),
            opt(
                "replica-announce-ip",
                "",
                text(Access::Field(Accessor {
                    get: |c| c.replica_announce_ip.clone(),
                    set: |c, v| {
                        c.replica_announce_ip = v;
                        Ok(())
                    },
                })),
                "Address a replica reports to its master (REPLCONF ip-address), \
                 for NAT or port forwarding; empty reports none.",
            )
            .live(),
            opt(
                "replica-announce-port",
                "0",
                int(0, 65535, int_field!(replica_announce_port)),
                "Port a replica reports to its master (REPLCONF listening-port); \
                 0 reports 'port'.",
            )
            .live(),
        ],
    },
    Section {
        title: "KVROCKS OPTIONS NOT SUPPORTED YET (accepted so kvrocks.conf loads; no effect)",
        options: &[
            opt(
                "slave-read-only",
                "yes",
                boolean(Access::Fixed(
                    "a replica applies only its master's WAL batches, so that its \
                     sequence numbers stay the master's",
                )),
                "A replica refuses writes (READONLY).",
            )
            .alias(&["replica-read-only"]),
            opt(
                "slave-priority",
                "100",
                int(0, INT_MAX, Access::KvrocksIgnored),
                "Replication setting.",
            ),
            opt(
                "master-use-repl-port",
                "no",
                IGNORED_BOOL,
                "Replication setting.",
            ),
            opt(
                "purge-backup-on-fullsync",
                "no",
                IGNORED_BOOL,
                "Replication setting.",
            ),
            opt(
                "persist-cluster-nodes-enabled",
                "yes",
                boolean(Access::Field(Accessor {
                    get: |c| c.persist_cluster_nodes_enabled,
                    set: |c, v| {
                        c.persist_cluster_nodes_enabled = v;
                        Ok(())
                    },
                })),
                "In cluster mode, write the topology to nodes.conf in the data \
                 directory after every CLUSTERX change, and load it at startup.",
            ),
            opt(
                "redis-cursor-compatible",
                "yes",
                boolean(Access::Fixed(
                    "Basalt's SCAN cursors are always numeric, as in Redis",
                )),
                "Kvrocks' choice between numeric and key-name SCAN cursors.",
            ),
            opt(
                "migrate-type",
                "redis-command",
                one_of(&["redis-command", "raw-key-value"], Access::KvrocksIgnored),
                "Kvrocks' choice of how a slot migration sends data. Basalt always \
                 sends raw key values (APPLYBATCH), so every type moves.",
            ),
            opt(
                "migrate-speed",
                "4096",
                int(0, INT_MAX, int_field!(migrate_speed)),
                "Slot migration: at most this many keys per second (0: no limit).",
            )
            .live(),
            opt(
                "migrate-pipeline-size",
                "16",
                int(1, INT_MAX, Access::KvrocksIgnored),
                "Slot migration setting.",
            ),
            opt(
                "migrate-sequence-gap",
                "10000",
                int(1, INT_MAX, int_field!(migrate_sequence_gap)),
                "Slot migration: once the WAL catch-up is this many sequence numbers \
                 behind or fewer, writes to the slots are refused (TRYAGAIN) while the \
                 last delta is sent.",
            )
            .live(),
            opt(
                "migrate-batch-size-kb",
                "16",
                int(1, INT_MAX, int_field!(migrate_batch_size_kb)),
                "Slot migration: the size of each batch sent to the destination.",
            )
            .live(),
            opt(
                "migrate-batch-rate-limit-mb",
                "16",
                int(0, INT_MAX, int_field!(migrate_batch_rate_limit_mb)),
                "Slot migration: at most this many megabytes per second (0: no limit).",
            )
            .live(),
            opt(
                "migrate-import-timeout",
                "60",
                int(0, INT_MAX, int_field!(migrate_import_timeout)),
                "Slot migration, on the destination (Basalt's own): an import that \
                 receives nothing from its source for this many seconds fails and its \
                 partial data is deleted, as when its connection drops; this covers a \
                 source that vanished without closing the connection (0: no limit).",
            )
            .live(),
            opt(
                "max-backup-to-keep",
                "1",
                int(0, 1, Access::KvrocksIgnored),
                "Backup setting.",
            ),
            opt(
                "max-backup-keep-hours",
                "24",
                int(0, INT_MAX, Access::KvrocksIgnored),
                "Backup setting.",
            ),
            opt(
                "bgsave-cron",
                "",
                IGNORED_TEXT,
                "Backup schedule (cron syntax).",
            ),
            opt(
                "compact-cron",
                "",
                IGNORED_TEXT,
                "Full compaction schedule (cron syntax).",
            ),
            opt(
                "dbsize-scan-cron",
                "",
                IGNORED_TEXT,
                "Key count refresh schedule (cron syntax).",
            ),
            opt(
                "compaction-checker-cron",
                "",
                IGNORED_TEXT,
                "When Kvrocks' compaction checker runs (cron syntax). Basalt \
                 reclaims expired data with its own background task.",
            ),
            opt(
                "compaction-checker-range",
                "",
                IGNORED_TEXT,
                "Deprecated form of compaction-checker-cron (hour range, e.g. 0-7).",
            ),
            opt(
                "force-compact-file-age",
                "172800",
                int(60, I64_MAX, Access::KvrocksIgnored),
                "Compaction checker setting.",
            ),
            opt(
                "force-compact-file-min-deleted-percentage",
                "10",
                int(1, 100, Access::KvrocksIgnored),
                "Compaction checker setting.",
            ),
            opt(
                "rocksdb.block_cache_type",
                "lru",
                one_of(&["lru", "hcc"], Access::KvrocksIgnored),
                "Block cache implementation.",
            ),
            opt(
                "rocksdb.metadata_block_cache_size",
                "2048",
                int(0, I64_MAX, Access::KvrocksIgnored),
                "Older Kvrocks' per-family cache size; Basalt shares rocksdb.block_cache_size.",
            ),
            opt(
                "rocksdb.subkey_block_cache_size",
                "2048",
                int(0, I64_MAX, Access::KvrocksIgnored),
                "Older Kvrocks' per-family cache size; Basalt shares rocksdb.block_cache_size.",
            ),
            opt(
                "rocksdb.row_cache_size",
                "0",
                int(0, I64_MAX, Access::KvrocksIgnored),
                "Row cache in MB.",
            ),
            opt(
                "rocksdb.max_background_compactions",
                "-1",
                int(-1, 256, Access::KvrocksIgnored),
                "Deprecated; see rocksdb.max_background_jobs.",
            ),
            opt(
                "rocksdb.max_background_flushes",
                "-1",
                int(-1, 256, Access::KvrocksIgnored),
                "Deprecated; see rocksdb.max_background_jobs.",
            ),
            opt(
                "rocksdb.max_sub_compactions",
                "2",
                int(0, INT_MAX, Access::KvrocksIgnored),
                "Threads per compaction job.",
            ),
            opt(
                "rocksdb.cache_index_and_filter_blocks",
                "yes",
                IGNORED_BOOL,
                "Table tuning.",
            ),
            opt(
                "rocksdb.compression_level",
                "32767",
                int(i32::MIN as i64, INT_MAX, Access::KvrocksIgnored),
                "Compression level; 32767 is the library default.",
            ),
            opt(
                "rocksdb.compaction_readahead_size",
                "2097152",
                int(0, I64_MAX, Access::KvrocksIgnored),
                "Compaction read-ahead in bytes.",
            ),
            opt(
                "rocksdb.delayed_write_rate",
                "0",
                int(0, I64_MAX, Access::KvrocksIgnored),
                "Write rate while stalled, bytes/s.",
            ),
            opt(
                "rocksdb.enable_pipelined_write",
                "no",
                IGNORED_BOOL,
                "Write path tuning.",
            ),
            opt(
                "rocksdb.level0_slowdown_writes_trigger",
                "20",
                int(i32::MIN as i64, INT_MAX, Access::KvrocksIgnored),
                "Level-0 files that slow writes down.",
            ),
            opt(
                "rocksdb.level0_stop_writes_trigger",
                "40",
                int(i32::MIN as i64, INT_MAX, Access::KvrocksIgnored),
                "Level-0 files that stop writes.",
            ),
            opt(
                "rocksdb.level0_file_num_compaction_trigger",
                "4",
                int(i32::MIN as i64, INT_MAX, Access::KvrocksIgnored),
                "Level-0 files that trigger a compaction.",
            ),
            opt(
                "rocksdb.stats_dump_period_sec",
                "0",
                int(0, INT_MAX, Access::KvrocksIgnored),
                "Period of RocksDB's statistics dump to its LOG.",
            ),
            opt(
                "rocksdb.disable_auto_compactions",
                "no",
                IGNORED_BOOL,
                "Compaction switch.",
            ),
            opt(
                "rocksdb.enable_blob_files",
                "no",
                IGNORED_BOOL,
                "Key-value separation (BlobDB).",
            ),
            opt(
                "rocksdb.min_blob_size",
                "4096",
                int(0, I64_MAX, Access::KvrocksIgnored),
                "BlobDB setting.",
            ),
            opt(
                "rocksdb.blob_file_size",
                "268435456",
                int(0, I64_MAX, Access::KvrocksIgnored),
                "BlobDB setting.",
            ),
            opt(
                "rocksdb.enable_blob_garbage_collection",
                "yes",
                IGNORED_BOOL,
                "BlobDB setting.",
            ),
            opt(
                "rocksdb.blob_garbage_collection_age_cutoff",
                "25",
                int(0, 100, Access::KvrocksIgnored),
                "BlobDB setting.",
            ),
            opt(
                "rocksdb.max_bytes_for_level_base",
                "268435456",
                int(0, I64_MAX, Access::KvrocksIgnored),
                "Level 1 size in bytes.",
            ),
            opt(
                "rocksdb.max_bytes_for_level_multiplier",
                "10",
                int(1, INT_MAX, Access::KvrocksIgnored),
                "Growth factor between levels.",
            ),
            opt(
                "rocksdb.read_options.async_io",
                "yes",
                IGNORED_BOOL,
                "Asynchronous read-ahead.",
            ),
            opt(
                "rocksdb.write_options.sync",
                "no",
                boolean(Access::Fixed("use appendfsync always to fsync every write")),
                "Per-write fsync; Basalt controls this with appendfsync.",
            ),
            opt(
                "rocksdb.write_options.disable_wal",
                "no",
                boolean(Access::Fixed(
                    "Basalt always writes the WAL: durability and replication depend on it",
                )),
                "Skipping the write-ahead log.",
            ),
            opt(
                "rocksdb.write_options.no_slowdown",
                "no",
                IGNORED_BOOL,
                "Write stall behaviour.",
            ),
            opt(
                "rocksdb.write_options.low_pri",
                "no",
                IGNORED_BOOL,
                "Write priority.",
            ),
            opt(
                "rocksdb.write_options.memtable_insert_hint_per_batch",
                "no",
                IGNORED_BOOL,
                "Memtable insert hint.",
            ),
            opt(
                "rocksdb.rate_limiter_auto_tuned",
                "yes",
                IGNORED_BOOL,
                "Background I/O rate limiter tuning.",
            ),
            opt(
                "rocksdb.avoid_unnecessary_blocking_io",
                "yes",
                IGNORED_BOOL,
                "Background file deletion.",
            ),
        ],
    },
];
