//! INFO: Redis's sections and field names, so monitoring tools and client
//! libraries that parse INFO keep working, plus a `rocksdb` section.

use super::flags::*;
use super::{lower, Command};
use crate::context::Ctx;
use crate::error::CommandResult;
use crate::shared::Shared;
use basalt_engine::ColumnFamily;
use basalt_resp::Reply;
use bytes::Bytes;
use std::fmt::Write;
use std::sync::atomic::Ordering::Relaxed;

pub static COMMANDS: &[Command] = &[Command::new("info", -1, LOADING | STALE, info)
    .syntax("[section [section ...]]")
    .group("server")
    .summary("Returns information and statistics about the server.")];

const DEFAULT_SECTIONS: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "errorstats",
    "cluster",
    "keyspace",
];
const ALL_SECTIONS: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "commandstats",
    "errorstats",
    "cluster",
    "keyspace",
    "rocksdb",
];

/// Above this many keys (RocksDB's estimate) INFO keyspace reports the
/// count from the last background pass instead of counting on the spot.
const EXACT_COUNT_LIMIT: u64 = 200_000;

fn info(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let mut wanted: Vec<String> = args[1..].iter().map(|a| lower(a)).collect();
    if wanted.is_empty() || wanted.iter().any(|w| w == "default") {
        wanted.extend(DEFAULT_SECTIONS.iter().map(|s| s.to_string()));
    }
    if wanted.iter().any(|w| w == "all" || w == "everything") {
        wanted.extend(ALL_SECTIONS.iter().map(|s| s.to_string()));
    }
    let mut out = String::new();
    for section in ALL_SECTIONS {
        if !wanted.iter().any(|w| w == section) {
            continue;
        }
        if !out.is_empty() {
            out.push_str("\r\n");
        }
        render(ctx.shared, section, &mut out);
    }
    Ok(Reply::Verbatim("txt".into(), Bytes::from(out)))
}

/// Bytes in the block cache and in all memtables: the two RocksDB caches
/// that bound Basalt's memory (INFO memory, MEMORY STATS).
pub(crate) fn cache_and_memtables(storage: &basalt_engine::Storage) -> (u64, u64) {
    let cache = storage
        .property_int(ColumnFamily::Metadata, "rocksdb.block-cache-usage")
        .unwrap_or(0);
    let memtables = ColumnFamily::ALL
        .iter()
        .filter_map(|&cf| storage.property_int(cf, "rocksdb.cur-size-all-mem-tables"))
        .sum();
    (cache, memtables)
}

pub(crate) fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map(|pages| pages * 4096)
        .unwrap_or(0)
}

fn human(bytes: u64) -> String {
    let b = bytes as f64;
    if b >= 1024.0 * 1024.0 * 1024.0 {
        format!("{:.2}G", b / 1024.0 / 1024.0 / 1024.0)
    } else if b >= 1024.0 * 1024.0 {
        format!("{:.2}M", b / 1024.0 / 1024.0)
    } else if b >= 1024.0 {
        format!("{:.2}K", b / 1024.0)
    } else {
        format!("{bytes}B")
    }
}

fn cpu_times() -> (f64, f64) {
    // SAFETY: getrusage only writes into the struct we pass.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    (t(usage.ru_utime), t(usage.ru_stime))
}

fn render(shared: &Shared, section: &str, out: &mut String) {
    // A copy, not the read guard: counting keys below can take long, and a
    // held read lock would stall CONFIG SET and, behind its queued write,
    // every other reader of the configuration.
    let config = shared.config.read().clone();
    let stats = &shared.stats;
    let data = shared.data();
    let storage = &data.storage;
    let uptime = shared.started.elapsed().as_secs();
    let _ = match section {
        "server" => write!(
            out,
            "# Server\r\nredis_version:{}\r\nbasalt_version:{}\r\nredis_git_sha1:00000000\r\nredis_git_dirty:0\r\nredis_build_id:0\r\nredis_mode:standalone\r\nos:{} {}\r\narch_bits:64\r\nmultiplexing_api:epoll\r\nprocess_id:{}\r\nrun_id:{}\r\ntcp_port:{}\r\nserver_time_usec:{}\r\nuptime_in_seconds:{}\r\nuptime_in_days:{}\r\nhz:10\r\nconfigured_hz:10\r\nlru_clock:{}\r\nio_threads_active:0\r\nexecutable:{}\r\nconfig_file:{}\r\nworkers:{}\r\n",
            basalt_core::REDIS_VERSION,
            basalt_core::BASALT_VERSION,
            std::env::consts::OS,
            std::env::consts::ARCH,
            std::process::id(),
            shared.run_id,
            config.port,
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_micros()).unwrap_or(0),
            uptime,
            uptime / 86400,
            // Redis's LRU clock: seconds, modulo 2^24.
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() & 0xFF_FFFF).unwrap_or(0),
            std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_default(),
            config.file().map(|p| p.display().to_string()).unwrap_or_default(),
            basalt_core::shared::effective_workers(&config),
        ),
        "clients" => write!(
            out,
            "# Clients\r\nconnected_clients:{}\r\ncluster_connections:0\r\nmaxclients:{}\r\nblocked_clients:{}\r\ntracking_clients:{}\r\n",
            shared.clients.count(),
            config.maxclients,
            shared.blocking.waiting()
                + shared.pause.waiting()
                + basalt_replication::of(shared).map_or(0, |r| r.waiting_clients()),
            shared.tracking.client_count(),
        ),
        "memory" => {
            let rss = rss_bytes();
            let (cache, memtables) = cache_and_memtables(storage);
            let libraries = shared.scripting.libraries();
            let functions: usize = libraries.iter().map(|l| l.functions.len()).sum();
            let system = total_system_memory();
            write!(
                out,
                "# Memory\r\nused_memory:{rss}\r\nused_memory_human:{}\r\nused_memory_rss:{rss}\r\nused_memory_rss_human:{}\r\nused_memory_peak:{rss}\r\nused_memory_peak_human:{}\r\ntotal_system_memory:{system}\r\ntotal_system_memory_human:{}\r\nmaxmemory:0\r\nmaxmemory_human:0B\r\nmaxmemory_policy:noeviction\r\nmem_allocator:jemalloc\r\nactive_defrag_running:0\r\nlazyfree_pending_objects:0\r\nlazyfreed_objects:0\r\nblock_cache_usage:{cache}\r\nmemtables_usage:{memtables}\r\nnumber_of_cached_scripts:{}\r\nnumber_of_functions:{functions}\r\nnumber_of_libraries:{}\r\n",
                human(rss),
                human(rss),
                human(rss),
                human(system),
                shared.scripting.script_count(),
                libraries.len(),
            )
        }
        "persistence" => write!(
            out,
            "# Persistence\r\nloading:0\r\nasync_loading:0\r\nrdb_changes_since_last_save:0\r\nrdb_bgsave_in_progress:{}\r\nrdb_last_save_time:{}\r\nrdb_last_bgsave_status:{}\r\nrdb_last_bgsave_time_sec:{}\r\naof_enabled:1\r\naof_rewrite_in_progress:0\r\naof_rewrite_scheduled:0\r\naof_last_bgrewrite_status:ok\r\naof_last_write_status:ok\r\nappendfsync:{}\r\nlatest_sequence_number:{}\r\nwal_flush_batches:{}\r\nwal_flushes:{}\r\n",
            shared.backups.in_progress() as u8,
            shared.backups.last_save(),
            if shared.backups.last_ok() { "ok" } else { "err" },
            shared.backups.last_secs(),
            config.appendfsync.as_str(),
            storage.latest_sequence_number(),
            shared.wal.batches(),
            shared.wal.flushes(),
        ),
        "stats" => write!(
            out,
            "# Stats\r\ntotal_connections_received:{}\r\ntotal_commands_processed:{}\r\ninstantaneous_ops_per_sec:{}\r\ntotal_net_input_bytes:{}\r\ntotal_net_output_bytes:{}\r\nrejected_connections:{}\r\nexpired_keys:{}\r\nexpired_stale_perc:0.00\r\nexpired_time_cap_reached_count:0\r\nevicted_keys:0\r\nevicted_clients:0\r\nkeyspace_hits:{}\r\nkeyspace_misses:{}\r\npubsub_channels:{}\r\npubsub_patterns:{}\r\npubsubshard_channels:{}\r\nlatest_fork_usec:0\r\ntotal_forks:0\r\nmigrate_cached_sockets:0\r\n{}tracking_total_keys:{}\r\ntracking_total_items:{}\r\ntracking_total_prefixes:{}\r\nunexpected_error_replies:0\r\ntotal_error_replies:{}\r\ndump_payload_sanitizations:0\r\nio_threaded_reads_processed:0\r\nio_threaded_writes_processed:0\r\nacl_access_denied_auth:{}\r\nacl_access_denied_cmd:{}\r\nacl_access_denied_key:{}\r\nacl_access_denied_channel:{}\r\nundeclared_key_lock_timeouts:{}\r\n",
            stats.connections_received.load(Relaxed),
            stats.commands_processed.load(Relaxed),
            stats.instantaneous_ops.load(Relaxed),
            stats.net_input_bytes.load(Relaxed),
            stats.net_output_bytes.load(Relaxed),
            stats.rejected_connections.load(Relaxed),
            stats.expired_keys.load(Relaxed),
            stats.keyspace_hits.load(Relaxed),
            stats.keyspace_misses.load(Relaxed),
            shared.pubsub.channel_count(),
            shared.pubsub.pattern_count(),
            shared.pubsub.shard_channel_count(),
            basalt_replication::stats_lines(shared),
            shared.tracking.key_count(),
            shared.tracking.item_count(),
            shared.tracking.prefix_count(),
            stats.error_replies.load(Relaxed),
            shared.acl.denied_auth.load(Relaxed),
            shared.acl.denied_cmd.load(Relaxed),
            shared.acl.denied_key.load(Relaxed),
            shared.acl.denied_channel.load(Relaxed),
            storage.locks().undeclared_timeouts(),
        ),
        "replication" => {
            basalt_replication::info_section(shared, out);
            Ok(())
        }
        "cpu" => {
            let (user, sys) = cpu_times();
            write!(
                out,
                "# CPU\r\nused_cpu_sys:{sys:.6}\r\nused_cpu_user:{user:.6}\r\n"
            )
        }
        // No modules: the section is there, empty, as in a Redis without any.
        "modules" => write!(out, "# Modules\r\n"),
        "cluster" => write!(
            out,
            "# Cluster\r\ncluster_enabled:{}\r\n",
            (config_value(&config, "cluster-enabled") == "yes") as u8
        ),
        "commandstats" => {
            out.push_str("# Commandstats\r\n");
            for (i, c) in crate::table().all().iter().enumerate() {
                let s = &stats.commands[i];
                let calls = s.calls.load(Relaxed);
                if calls == 0 {
                    continue;
                }
                let usec = s.usec.load(Relaxed);
                let _ = write!(
                    out,
                    "cmdstat_{}:calls={calls},usec={usec},usec_per_call={:.2},rejected_calls=0,failed_calls={}\r\n",
                    c.name,
                    usec as f64 / calls as f64,
                    s.failed.load(Relaxed),
                );
            }
            Ok(())
        }
        "errorstats" => {
            out.push_str("# Errorstats\r\n");
            for (code, count) in stats.errors.snapshot() {
                // A script's error_reply picks the code: keep INFO parseable.
                let code = code.replace([':', '\r', '\n', '#'], "_");
                let _ = write!(out, "errorstat_{code}:count={count}\r\n");
            }
            Ok(())
        }
        "keyspace" => {
            out.push_str("# Keyspace\r\n");
            let estimate = storage
                .property_int(ColumnFamily::Metadata, "rocksdb.estimate-num-keys")
                .unwrap_or(0);
            let count = if estimate <= EXACT_COUNT_LIMIT {
                shared.data().db.count_keys().ok()
            } else {
                *shared.keyspace.lock()
            };
            match count {
                Some(c) if c.keys > 0 => write!(out, "db0:keys={},expires={},avg_ttl=0\r\n", c.keys, c.expires),
                _ => Ok(()),
            }
        }
        "rocksdb" => {
            out.push_str("# RocksDB\r\n");
            for cf in ColumnFamily::ALL {
                let p = |name: &str| storage.property_int(cf, name).unwrap_or(0);
                let _ = write!(
                    out,
                    "estimate_keys[{n}]:{}\r\nmemtable_bytes[{n}]:{}\r\nsst_bytes[{n}]:{}\r\nnum_files_l0[{n}]:{}\r\npending_compaction_bytes[{n}]:{}\r\n",
                    p("rocksdb.estimate-num-keys"),
                    p("rocksdb.cur-size-all-mem-tables"),
                    p("rocksdb.total-sst-files-size"),
                    storage.property(cf, "rocksdb.num-files-at-level0").unwrap_or_default(),
                    p("rocksdb.estimate-pending-compaction-bytes"),
                    n = cf.name(),
                );
            }
            write!(
                out,
                "block_cache_usage:{}\r\nblock_cache_capacity:{}\r\nis_write_stopped:{}\r\n",
                storage.property_int(ColumnFamily::Metadata, "rocksdb.block-cache-usage").unwrap_or(0),
                storage.property_int(ColumnFamily::Metadata, "rocksdb.block-cache-capacity").unwrap_or(0),
                storage.property_int(ColumnFamily::Metadata, "rocksdb.is-write-stopped").unwrap_or(0),
            )
        }
        _ => Ok(()),
    };
}

/// An option's value as CONFIG GET shows it.
fn config_value(config: &basalt_config::Config, name: &str) -> String {
    config
        .get(&[name.as_bytes()])
        .into_iter()
        .next()
        .map(|(_, v)| v)
        .unwrap_or_default()
}

/// MemTotal of /proc/meminfo, in bytes (0 where there is none).
fn total_system_memory() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}
