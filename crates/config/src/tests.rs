use super::*;
use crate::options::{Access, Kind};
use std::collections::HashSet;

fn parse(text: &str) -> Config {
    Config::parse_str(text).unwrap_or_else(|e| panic!("{text:?}: {e}"))
}

fn parse_err(text: &str) -> String {
    match Config::parse_str(text) {
        Ok(_) => panic!("{text:?} parsed"),
        Err(e) => e.to_string(),
    }
}

fn get1(cfg: &Config, name: &str) -> String {
    let got = cfg.get(&[name.as_bytes()]);
    assert_eq!(got.len(), 1, "{name}: {got:?}");
    got[0].1.clone()
}

fn set(cfg: &mut Config, pairs: &[(&str, &str)]) -> Result<Vec<&'static str>, ConfigError> {
    let pairs: Vec<(&[u8], &[u8])> = pairs
        .iter()
        .map(|(n, v)| (n.as_bytes(), v.as_bytes()))
        .collect();
    cfg.set(&pairs)
}

fn set_err(cfg: &mut Config, pairs: &[(&str, &str)]) -> String {
    set(cfg, pairs)
        .expect_err("CONFIG SET should fail")
        .to_string()
}

// ---------------------------------------------------------------- the table

#[test]
fn names_are_unique_and_lower_case() {
    let mut names = HashSet::new();
    for def in options() {
        for name in def.names() {
            assert_eq!(name, name.to_ascii_lowercase(), "{name}");
            assert!(!name.contains(char::is_whitespace), "{name}");
            assert!(names.insert(name), "duplicate option name {name}");
        }
    }
}

/// Defaults are written as CONFIG GET prints them, so the example file, the
/// rewrite "differs from default" test and `Fixed` comparisons are exact.
#[test]
fn defaults_are_canonical() {
    let cfg = Config::default();
    for def in options() {
        assert_eq!(def.value(&cfg), def.default, "{}", def.name);
    }
}

#[test]
fn support_matches_mutability() {
    for def in options() {
        match def.support() {
            Support::RedisNoOp => assert!(def.is_live(), "{} is a no-op but immutable", def.name),
            Support::KvrocksIgnored | Support::Fixed => {
                assert!(
                    !def.is_live(),
                    "{} cannot change, so it must be immutable",
                    def.name
                )
            }
            Support::Active => {}
        }
    }
    assert!(noop_options().any(|d| d.name == "maxmemory"));
    assert!(noop_options().all(|d| d.support() == Support::RedisNoOp));
}

/// Integer fields are stored with `as` casts; both ends of every range must
/// survive the round trip, or the cast truncates.
#[test]
fn integer_ranges_fit_their_fields() {
    for def in options() {
        if let Kind::Int {
            min,
            max,
            access: Access::Field(a),
            ..
        } = &def.kind
        {
            let mut cfg = Config::default();
            for v in [*min, *max] {
                (a.set)(&mut cfg, v).unwrap();
                assert_eq!((a.get)(&cfg), v, "{}", def.name);
            }
        }
    }
}

#[test]
fn compiled_defaults() {
    let cfg = Config::default();
    assert_eq!(cfg.bind, ["127.0.0.1"]);
    assert_eq!(cfg.port, 6666);
    assert_eq!(cfg.dir, PathBuf::from("./basalt-data"));
    assert_eq!(cfg.workers, 0);
    assert_eq!(cfg.timeout, 0);
    assert_eq!(cfg.maxclients, 10000);
    assert_eq!(cfg.requirepass, None);
    assert_eq!(cfg.db_name, "change.me.db");
    assert_eq!(cfg.pidfile, None);
    assert_eq!(cfg.log_level, LogLevel::Info);
    assert_eq!(cfg.log_dir, None);
    assert_eq!(cfg.slowlog_log_slower_than, 100_000);
    assert_eq!(cfg.slowlog_max_len, 128);
    assert_eq!(cfg.proto_max_bulk_len, 512 * 1024 * 1024);
    assert_eq!(cfg.client_query_buffer_limit, 1024 * 1024 * 1024);
    assert_eq!(cfg.appendfsync, FsyncPolicy::EverySec);
    assert_eq!(cfg.lua_time_limit, 5000);
    assert_eq!(cfg.notify_keyspace_events, KeyspaceEvents::default());
    assert!(cfg.active_expire_enabled);
    assert_eq!(cfg.rocksdb.block_cache_size, 256);
    assert_eq!(cfg.rocksdb.block_cache_bytes(), 256 << 20);
    assert_eq!(cfg.rocksdb.write_buffer_size, 64);
    assert_eq!(cfg.rocksdb.compression, Compression::Snappy);
    assert_eq!(cfg.rocksdb.max_open_files, 8096);
    assert_eq!(cfg.rocksdb.block_size, 16384);
    assert!(cfg.rocksdb.level_compaction_dynamic_level_bytes);
    assert!(!cfg.rocksdb.partition_filters);
    assert_eq!(cfg.file(), None);
    assert_eq!(get1(&cfg, "databases"), "1");
    assert_eq!(get1(&cfg, "save"), "");
    assert_eq!(get1(&cfg, "maxmemory-policy"), "noeviction");
}

// ------------------------------------------------------------------ parsing

/// A valid value other than the default, and what CONFIG GET then prints.
fn other_value(def: &OptionDef) -> Option<(String, String)> {
    let pair = |v: &str| Some((v.to_string(), v.to_string()));
    match (def.name, &def.kind) {
        ("save", _) => pair("900 1 300 10"),
        ("maxmemory-clients", _) => pair("10%"),
        ("notify-keyspace-events", _) => Some(("KEA".into(), "AKE".into())),
        ("log-dir", _) => pair("/var/log/basalt"),
        ("slaveof", _) => pair("10.0.0.1 6666"),
        ("client-output-buffer-limit", _) => Some((
            "pubsub 1mb 0 0".into(),
            "normal 0 0 0 slave 268435456 67108864 60 pubsub 1048576 0 0".into(),
        )),
        (_, Kind::Bool(Access::Fixed(_)))
        | (
            _,
            Kind::Int {
                access: Access::Fixed(_),
                ..
            },
        ) => None,
        (
            _,
            Kind::Enum {
                access: Access::Fixed(_),
                ..
            },
        )
        | (
            _,
            Kind::Text {
                access: Access::Fixed(_),
                ..
            },
        ) => None,
        (_, Kind::Bool(_)) => pair(if def.default == "yes" { "no" } else { "yes" }),
        (_, Kind::Int { min, max, .. }) => {
            let v = if def.default == min.to_string() {
                *max
            } else {
                *min
            };
            pair(&v.to_string())
        }
        (_, Kind::Enum { names, .. }) => {
            let i = names.iter().position(|n| *n == def.default).unwrap();
            pair(names[(i + 1) % names.len()])
        }
        (_, Kind::Text { .. }) => pair("some text"),
        (_, Kind::Words(_)) => pair("10.0.0.1 ::1"),
    }
}

#[test]
fn every_option_parses_from_a_file() {
    let mut text = String::new();
    let mut expected = Vec::new();
    for def in options() {
        match other_value(def) {
            Some((raw, shown)) => {
                text.push_str(&format!("{} {}\n", def.name, value::quote(&raw)));
                expected.push((def.name, shown));
            }
            None => {
                text.push_str(&format!("{} {}\n", def.name, value::quote(def.default)));
                expected.push((def.name, def.default.to_string()));
            }
        }
    }
    let cfg = parse(&text);
    for (name, shown) in expected {
        assert_eq!(get1(&cfg, name), shown, "{name}");
    }
    assert_eq!(cfg.bind, ["10.0.0.1", "::1"]);
    assert_eq!(cfg.log_dir, Some(PathBuf::from("/var/log/basalt")));
    assert_eq!(cfg.requirepass.as_deref(), Some("some text"));
    assert!(cfg
        .notify_keyspace_events
        .contains(KeyspaceEvents::ALL | KeyspaceEvents::KEYSPACE));
}

#[test]
fn file_syntax() {
    let cfg = parse(
        "# a comment\n\
         \n\
         \x20  port 7000   # trailing comment\n\
         BIND 0.0.0.0 ::\n\
         requirepass \"s3cret with spaces\"\n\
         db-name 'single quoted'\n\
         rocksdb.compression ZSTD\n\
         log-level Warning\n\
         client-query-buffer-limit 2gb\n\
         proto-max-bulk-len 1mb\n\
         daemonize no\n\
         hash-max-ziplist-entries 256\n\
         busy-reply-threshold 1000\n\
         pidfile /run/basalt.pid\n\
         save 900 1 300 10\n",
    );
    assert_eq!(cfg.port, 7000);
    assert_eq!(cfg.bind, ["0.0.0.0", "::"]);
    assert_eq!(cfg.requirepass.as_deref(), Some("s3cret with spaces"));
    assert_eq!(cfg.db_name, "single quoted");
    assert_eq!(cfg.rocksdb.compression, Compression::Zstd);
    assert_eq!(cfg.log_level, LogLevel::Warning);
    assert_eq!(cfg.client_query_buffer_limit, 2 << 30);
    assert_eq!(cfg.proto_max_bulk_len, 1 << 20);
    assert_eq!(get1(&cfg, "hash-max-listpack-entries"), "256");
    assert_eq!(cfg.lua_time_limit, 1000);
    assert_eq!(cfg.pidfile, Some(PathBuf::from("/run/basalt.pid")));
    assert_eq!(get1(&cfg, "save"), "900 1 300 10");
}

#[test]
fn later_lines_win() {
    let cfg = parse("port 1\nport 2\nbind 1.1.1.1\nbind 2.2.2.2 3.3.3.3\n");
    assert_eq!(cfg.port, 2);
    assert_eq!(cfg.bind, ["2.2.2.2", "3.3.3.3"]);
}

#[test]
fn file_errors_name_the_line() {
    assert_eq!(
        parse_err("port 6666\n\nfoo bar\n"),
        "line 3: unknown option 'foo'"
    );
    assert_eq!(
        parse_err("# c\nport abc\n"),
        "line 2: invalid value 'abc' for 'port': argument couldn't be parsed into an integer"
    );
    assert_eq!(
        parse_err("port 70000"),
        "line 1: invalid value '70000' for 'port': argument must be between 1 and 65535 inclusive"
    );
    assert_eq!(
        parse_err("daemonize maybe"),
        "line 1: invalid value 'maybe' for 'daemonize': argument must be 'yes' or 'no'"
    );
    assert_eq!(
        parse_err("appendfsync sometimes"),
        "line 1: invalid value 'sometimes' for 'appendfsync': \
         argument(s) must be one of the following: always, everysec, no"
    );
    assert_eq!(
        parse_err("maxmemory 1tb"),
        "line 1: invalid value '1tb' for 'maxmemory': argument must be a memory value"
    );
    assert_eq!(parse_err("port"), "line 1: missing value for 'port'");
    assert_eq!(
        parse_err("port 1 2"),
        "line 1: too many values for 'port' (quote a value that contains spaces)"
    );
    assert_eq!(
        parse_err("requirepass \"open"),
        "line 1: unbalanced quotes in configuration line"
    );
    assert_eq!(
        parse_err("bind"),
        "line 1: invalid value '' for 'bind': at least one address is required"
    );
    assert_eq!(
        parse_err("dir \"\""),
        "line 1: invalid value '' for 'dir': argument must not be empty"
    );
    assert_eq!(
        parse_err("save 900"),
        "line 1: invalid value '900' for 'save': Invalid save parameters"
    );
}

#[test]
fn unsupported_values_are_refused_with_a_reason() {
    assert!(parse("cluster-enabled yes").cluster_enabled);
    assert!(parse_err("daemonize yes").contains("not supported"));
    assert!(parse_err("databases 16").contains("single database"));
    assert!(parse_err("slaveof 10.0.0.1").contains("'<host> <port>'"));
    assert!(parse_err("slaveof 10.0.0.1 0").contains("'<host> <port>'"));
    assert_eq!(parse("replicaof 10.0.0.1 6666\n").slaveof, "10.0.0.1 6666");
    assert!(parse_err("max-db-size 10").contains("only '0' is accepted"));
    assert!(parse_err("rocksdb.write_options.sync yes").contains("appendfsync"));
    assert!(parse_err("namespace.ns1 token").contains("namespaces are not supported yet"));
    assert!(parse_err("tls-port 6667").contains("TLS"));
    // The supported values of the same options are fine.
    parse("cluster-enabled no\ndaemonize no\ndatabases 1\nslaveof \"\"\nmax-db-size 0\n");
}

/// The option lines of Kvrocks' shipped kvrocks.conf (2.x) load unchanged.
#[test]
fn kvrocks_conf_loads() {
    let cfg = parse(
        "bind 127.0.0.1\nport 6666\ntimeout 0\nworkers 8\ndaemonize no\ncluster-enabled no\n\
         repl-namespace-enabled no\npersist-cluster-nodes-enabled yes\nmaxclients 10000\n\
         db-name change.me.db\ndir /tmp/kvrocks\nlog-dir stdout\nlog-level info\n\
         log-retention-days -1\nslave-read-only yes\nslave-priority 100\ntcp-backlog 511\n\
         master-use-repl-port no\nuse-rsid-psync no\nslave-serve-stale-data yes\n\
         slave-empty-db-before-fullsync no\npurge-backup-on-fullsync no\nmax-replication-mb 0\n\
         max-io-mb 0\nmax-db-size 0\nmax-backup-to-keep 1\nmax-backup-keep-hours 24\n\
         max-bitmap-to-string-mb 16\nredis-cursor-compatible yes\njson-max-nesting-depth 1024\n\
         json-storage-format json\nslowlog-log-slower-than 100000\nslowlog-max-len 128\n\
         supervised no\nprofiling-sample-ratio 0\nprofiling-sample-record-max-len 256\n\
         profiling-sample-record-threshold-ms 100\ncompaction-checker-range 0-7\n\
         migrate-type redis-command\nmigrate-speed 4096\nmigrate-pipeline-size 16\n\
         migrate-sequence-gap 10000\nmigrate-batch-size-kb 16\nmigrate-batch-rate-limit-mb 16\n\
         rocksdb.block_cache_size 4096\nrocksdb.block_cache_type lru\nrocksdb.row_cache_size 0\n\
         rocksdb.max_open_files 8096\nrocksdb.write_buffer_size 64\n\
         rocksdb.target_file_size_base 128\nrocksdb.max_write_buffer_number 4\n\
         rocksdb.max_background_jobs 4\nrocksdb.max_background_compactions -1\n\
         rocksdb.max_background_flushes -1\nrocksdb.max_sub_compactions 2\n\
         rocksdb.max_total_wal_size 512\nrocksdb.wal_ttl_seconds 10800\n\
         rocksdb.wal_size_limit_mb 16384\nrocksdb.block_size 16384\n\
         rocksdb.cache_index_and_filter_blocks yes\nrocksdb.compression snappy\n\
         rocksdb.compression_level 32767\nrocksdb.compaction_readahead_size 2097152\n\
         rocksdb.delayed_write_rate 0\nrocksdb.enable_pipelined_write no\n\
         rocksdb.level0_slowdown_writes_trigger 20\nrocksdb.level0_stop_writes_trigger 40\n\
         rocksdb.level0_file_num_compaction_trigger 4\nrocksdb.stats_dump_period_sec 0\n\
         rocksdb.disable_auto_compactions no\nrocksdb.enable_blob_files no\n\
         rocksdb.min_blob_size 4096\nrocksdb.blob_file_size 268435456\n\
         rocksdb.enable_blob_garbage_collection yes\n\
         rocksdb.blob_garbage_collection_age_cutoff 25\n\
         rocksdb.level_compaction_dynamic_level_bytes yes\n\
         rocksdb.max_bytes_for_level_base 268435456\nrocksdb.max_bytes_for_level_multiplier 10\n\
         rocksdb.read_options.async_io yes\nrocksdb.write_options.sync no\n\
         rocksdb.write_options.disable_wal no\nrocksdb.write_options.no_slowdown no\n\
         rocksdb.write_options.low_pri no\nrocksdb.write_options.memtable_insert_hint_per_batch no\n\
         rocksdb.rate_limiter_auto_tuned yes\nrocksdb.partition_filters yes\n",
    );
    assert_eq!(cfg.dir, PathBuf::from("/tmp/kvrocks"));
    assert!(cfg.rocksdb.partition_filters);
    assert_eq!(cfg.rocksdb.block_cache_size, 4096);
    assert_eq!(get1(&cfg, "compaction-checker-range"), "0-7");
}

// --------------------------------------------------------- load / overrides

fn temp_conf(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("basalt.conf");
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

fn args(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

#[test]
fn overrides_win_over_the_file() {
    let (_dir, path) = temp_conf("port 7000\ntimeout 5\n");
    let cfg = Config::load(
        Some(&path),
        &args(&[("port", "7001"), ("--bind", "0.0.0.0 ::1")]),
    )
    .unwrap();
    assert_eq!(cfg.port, 7001);
    assert_eq!(cfg.timeout, 5);
    assert_eq!(cfg.bind, ["0.0.0.0", "::1"]);
    assert_eq!(cfg.file(), Some(path.as_path()));

    let cfg = Config::load(None, &args(&[("requirepass", "a b # c")])).unwrap();
    assert_eq!(cfg.requirepass.as_deref(), Some("a b # c"));
    assert_eq!(cfg.file(), None);
}

#[test]
fn load_errors() {
    let err = Config::load(None, &args(&[("foo", "1")])).unwrap_err();
    assert_eq!(err.to_string(), "command line: unknown option 'foo'");
    let err = Config::load(None, &args(&[("port", "x")])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "command line: invalid value 'x' for 'port': argument couldn't be parsed into an integer"
    );

    let (_dir, path) = temp_conf("port 1\nbogus 2\n");
    let err = Config::load(Some(&path), &[]).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("{}, line 2: unknown option 'bogus'", path.display())
    );

    let missing = path.with_file_name("missing.conf");
    let err = Config::load(Some(&missing), &[]).unwrap_err();
    assert!(matches!(err, ConfigError::Read { .. }));
    assert!(
        err.to_string().starts_with("can't read config file"),
        "{err}"
    );
}

// --------------------------------------------------------------- CONFIG GET

fn names(got: &[(String, String)]) -> Vec<&str> {
    got.iter().map(|(n, _)| n.as_str()).collect()
}

#[test]
fn config_get_globs() {
    let cfg = Config::default();
    let all = cfg.get(&[b"*"]);
    let all_names: HashSet<&str> = names(&all).into_iter().collect();
    assert_eq!(all.len(), all_names.len(), "a name twice");
    assert_eq!(
        all.len(),
        options()
            .filter(|d| !d.is_hidden())
            .map(|d| d.names().count())
            .sum::<usize>()
    );

    let max = cfg.get(&[b"*max*"]);
    for want in [
        "maxclients",
        "maxmemory",
        "proto-max-bulk-len",
        "slowlog-max-len",
        "hash-max-ziplist-entries",
    ] {
        assert!(names(&max).contains(&want), "{want} missing from {max:?}");
    }
    assert!(!names(&max).contains(&"port"));

    let rocks = cfg.get(&[b"rocksdb.*"]);
    assert!(rocks.iter().all(|(n, _)| n.starts_with("rocksdb.")));
    assert!(rocks.contains(&("rocksdb.block_cache_size".into(), "256".into())));

    // Case-insensitive globs, canonical names.
    assert_eq!(
        cfg.get(&[b"PORT*"]),
        [("port".to_string(), "6666".to_string())]
    );
    assert_eq!(names(&cfg.get(&[b"?ind"])), ["bind"]);
    assert_eq!(names(&cfg.get(&[b"[bp]ort"])), ["port"]);
    assert!(cfg.get(&[b"nothing*"]).is_empty());
}

#[test]
fn config_get_exact_and_multiple() {
    let cfg = Config::default();
    // Exact names answer with the client's spelling, like Redis 7.
    assert_eq!(
        cfg.get(&[b"MaxClients"]),
        [("MaxClients".to_string(), "10000".to_string())]
    );
    assert_eq!(
        cfg.get(&[b"busy-reply-threshold"]),
        [("busy-reply-threshold".to_string(), "5000".to_string())]
    );
    assert!(cfg.get(&[b"nope"]).is_empty());
    // Several patterns; every name once.
    let got = cfg.get(&[b"port", b"po*", b"timeout", b"port"]);
    assert_eq!(names(&got), ["port", "timeout"]);
    let got = cfg.get(&[b"save", b"appendonly"]);
    assert_eq!(
        got,
        [
            ("save".into(), "".into()),
            ("appendonly".into(), "no".into())
        ]
    );
}

// --------------------------------------------------------------- CONFIG SET

#[test]
fn config_set_live_options() {
    let mut cfg = Config::default();
    let changed = set(
        &mut cfg,
        &[
            ("timeout", "30"),
            ("MAXCLIENTS", "50"),
            ("requirepass", "pw"),
            ("slowlog-log-slower-than", "-1"),
            ("slowlog-max-len", "1000"),
            ("proto-max-bulk-len", "1mb"),
            ("client-query-buffer-limit", "2gb"),
            ("appendfsync", "always"),
            ("log-level", "debug"),
            ("notify-keyspace-events", "Egx"),
            ("busy-reply-threshold", "100"),
        ],
    )
    .unwrap();
    assert_eq!(changed.len(), 11);
    assert!(
        changed.contains(&"lua-time-limit"),
        "canonical names: {changed:?}"
    );
    assert_eq!(cfg.timeout, 30);
    assert_eq!(cfg.maxclients, 50);
    assert_eq!(cfg.requirepass.as_deref(), Some("pw"));
    assert_eq!(cfg.slowlog_log_slower_than, -1);
    assert_eq!(cfg.slowlog_max_len, 1000);
    assert_eq!(cfg.proto_max_bulk_len, 1 << 20);
    assert_eq!(get1(&cfg, "proto-max-bulk-len"), "1048576");
    assert_eq!(cfg.client_query_buffer_limit, 2 << 30);
    assert_eq!(cfg.appendfsync, FsyncPolicy::Always);
    assert_eq!(cfg.log_level, LogLevel::Debug);
    assert_eq!(get1(&cfg, "notify-keyspace-events"), "gxE");
    assert_eq!(cfg.lua_time_limit, 100);

    // Setting the same values again changes nothing.
    assert_eq!(
        set(&mut cfg, &[("timeout", "30"), ("requirepass", "pw")]).unwrap(),
        Vec::<&str>::new()
    );
    // An empty password turns AUTH off.
    assert_eq!(
        set(&mut cfg, &[("requirepass", "")]).unwrap(),
        ["requirepass"]
    );
    assert_eq!(cfg.requirepass, None);
}

#[test]
fn config_set_is_atomic() {
    let mut cfg = Config::default();
    let before = cfg.clone();
    assert_eq!(
        set_err(
            &mut cfg,
            &[
                ("timeout", "30"),
                ("maxclients", "lots"),
                ("slowlog-max-len", "5")
            ]
        ),
        "CONFIG SET failed (possibly related to argument 'maxclients') - \
         argument couldn't be parsed into an integer"
    );
    assert_eq!(cfg, before);
    assert_eq!(
        set_err(&mut cfg, &[("timeout", "30"), ("nosuch", "1")]),
        "Unknown option or number of arguments for CONFIG SET - 'nosuch'"
    );
    assert_eq!(cfg, before);
    assert_eq!(
        set_err(&mut cfg, &[("maxmemory", "1gb"), ("pidfile", "/x.pid")]),
        "CONFIG SET failed (possibly related to argument 'pidfile') - can't set immutable config"
    );
    assert_eq!(cfg, before);
}

#[test]
fn config_set_errors() {
    let mut cfg = Config::default();
    for name in [
        "dir",
        "workers",
        "db-name",
        "pidfile",
        "rocksdb.block_cache_size",
        "databases",
    ] {
        assert_eq!(
            set_err(&mut cfg, &[(name, "7")]),
            format!("CONFIG SET failed (possibly related to argument '{name}') - can't set immutable config")
        );
    }
    // Kvrocks options Basalt ignores are immutable: no silent pretending.
    assert!(set_err(&mut cfg, &[("rocksdb.row_cache_size", "1")]).contains("immutable"));
    // ... but writing back the value an immutable option has changes
    // nothing and is accepted, in any case.
    let before = cfg.clone();
    let same: &[(&[u8], &[u8])] = &[
        (b"rocksdb.row_cache_size", b"0"),
        (b"rocksdb.compression", b"SNAPPY"),
    ];
    assert!(cfg.set(same).unwrap().is_empty());
    assert_eq!(cfg, before);
    assert_eq!(
        set_err(&mut cfg, &[("timeout", "1"), ("TIMEOUT", "2")]),
        "CONFIG SET failed (possibly related to argument 'timeout') - duplicate parameter"
    );
    assert_eq!(
        set_err(
            &mut cfg,
            &[("lua-time-limit", "1"), ("busy-reply-threshold", "2")]
        ),
        "CONFIG SET failed (possibly related to argument 'lua-time-limit') - duplicate parameter"
    );
    assert_eq!(
        set_err(&mut cfg, &[("Bogus-Param", "1")]),
        "Unknown option or number of arguments for CONFIG SET - 'Bogus-Param'"
    );
    assert_eq!(
        set_err(&mut cfg, &[("notify-keyspace-events", "Xz")]),
        "CONFIG SET failed (possibly related to argument 'notify-keyspace-events') - \
         Invalid event class character. Use 'Ag$lshzxeKEtmdn'."
    );
    assert_eq!(
        set_err(&mut cfg, &[("maxmemory-policy", "bogus")]),
        "CONFIG SET failed (possibly related to argument 'maxmemory-policy') - \
         argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, \
         volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction"
    );
    assert_eq!(
        set_err(&mut cfg, &[("maxmemory", "lots")]),
        "CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value"
    );
    assert_eq!(
        set_err(&mut cfg, &[("timeout", "-1")]),
        "CONFIG SET failed (possibly related to argument 'timeout') - \
         argument must be between 0 and 2147483647 inclusive"
    );
    let bad_utf8: &[(&[u8], &[u8])] = &[(b"requirepass", b"\xff")];
    assert!(cfg.set(bad_utf8).unwrap_err().to_string().contains("UTF-8"));
    let bad_name: &[(&[u8], &[u8])] = &[(b"\xff", b"1")];
    assert!(matches!(
        cfg.set(bad_name),
        Err(ConfigError::UnknownSetOption(_))
    ));
    assert_eq!(cfg, Config::default());
}

#[test]
fn config_set_accepts_redis_no_ops() {
    let mut cfg = Config::default();
    let changed = set(
        &mut cfg,
        &[
            ("save", ""),
            ("appendonly", "yes"),
            ("maxmemory", "100mb"),
            ("maxmemory-policy", "ALLKEYS-LRU"),
            ("hash-max-ziplist-entries", "512"),
            ("list-max-ziplist-size", "-1"),
            ("lazyfree-lazy-user-del", "yes"),
            ("hz", "100"),
            ("protected-mode", "no"),
        ],
    )
    .unwrap();
    assert!(!changed.contains(&"save") && !changed.contains(&"protected-mode"));
    assert!(changed.contains(&"hash-max-listpack-entries"));
    assert_eq!(get1(&cfg, "appendonly"), "yes");
    assert_eq!(get1(&cfg, "maxmemory"), "104857600");
    assert_eq!(get1(&cfg, "maxmemory-policy"), "allkeys-lru");
    // Alias and canonical name show the same value.
    assert_eq!(get1(&cfg, "hash-max-listpack-entries"), "512");
    assert_eq!(get1(&cfg, "hash-max-ziplist-entries"), "512");
    assert_eq!(get1(&cfg, "list-max-listpack-size"), "-1");
    assert_eq!(get1(&cfg, "hz"), "100");
    // They really are no-ops: no typed field moved.
    let expected = Config {
        extra: cfg.extra.clone(),
        ..Config::default()
    };
    assert_eq!(cfg, expected);
}

// ------------------------------------------------------------ CONFIG REWRITE

#[test]
fn rewrite_without_a_file_fails() {
    let err = Config::default().rewrite().unwrap_err();
    assert_eq!(
        err.to_string(),
        "The server is running without a config file"
    );
}

#[test]
fn rewrite_keeps_comments_and_updates_values() {
    let original = "\
# Basalt test config
port 7000   # the port

# sizes keep their spelling while unchanged
proto-max-bulk-len 512mb
timeout 10
requirepass old
hash-max-ziplist-entries 128
timeout 11
some-line that is not valid # kept
";
    // The invalid line must not stop startup in this test, so load the
    // valid part and then add the foreign line to the file.
    let valid: String = original
        .lines()
        .filter(|l| !l.starts_with("some-line"))
        .map(|l| format!("{l}\n"))
        .collect();
    let (_dir, path) = temp_conf(&valid);
    let mut cfg = Config::load(Some(&path), &[]).unwrap();
    assert_eq!(cfg.timeout, 11);
    std::fs::write(&path, original).unwrap();

    set(
        &mut cfg,
        &[
            ("timeout", "20"),
            // Text options join their words, so this needs no quotes.
            ("requirepass", "new secret"),
            ("hash-max-listpack-entries", "256"),
            ("slowlog-max-len", "7"),
            ("notify-keyspace-events", "KEA"),
        ],
    )
    .unwrap();
    cfg.rewrite().unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        text,
        "\
# Basalt test config
port 7000   # the port

# sizes keep their spelling while unchanged
proto-max-bulk-len 512mb
timeout 20
requirepass new secret
hash-max-ziplist-entries 256
some-line that is not valid # kept

# Generated by CONFIG REWRITE
slowlog-max-len 7
notify-keyspace-events AKE
"
    );

    // The rewritten file loads back to the same configuration, and a second
    // rewrite is a no-op.
    let lines_without_foreign: String = text
        .lines()
        .filter(|l| !l.starts_with("some-line"))
        .map(|l| format!("{l}\n"))
        .collect();
    let reloaded = Config::parse_str(&lines_without_foreign).unwrap();
    assert_eq!(reloaded.get(&[b"*"]), cfg.get(&[b"*"]));
    cfg.rewrite().unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);

    // Another change goes below the existing marker, not under a second one.
    set(&mut cfg, &[("maxclients", "42")]).unwrap();
    cfg.rewrite().unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.matches("# Generated by CONFIG REWRITE").count(), 1);
    assert!(
        text.ends_with("notify-keyspace-events AKE\nmaxclients 42\n"),
        "{text}"
    );
}

#[test]
fn rewrite_recreates_a_deleted_file() {
    let (_dir, path) = temp_conf("port 7000\n");
    let cfg = Config::load(Some(&path), &args(&[("timeout", "3")])).unwrap();
    std::fs::remove_file(&path).unwrap();
    cfg.rewrite().unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        text,
        "# Generated by CONFIG REWRITE\nport 7000\ntimeout 3\n"
    );
}

// ------------------------------------------------------------- example file

/// Checks that `shipped`, the `include_str!` of the file at `path`
/// (relative to the repository root), equals `generated`. With
/// `BASALT_BLESS` set, a stale file is rewritten instead; the next build
/// includes the new text.
fn check_generated(generated: &str, shipped: &str, path: &str, test_filter: &str) {
    if generated != shipped && std::env::var_os("BASALT_BLESS").is_some() {
        let full = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(path);
        std::fs::write(&full, generated).unwrap_or_else(|e| panic!("{}: {e}", full.display()));
        return;
    }
    assert!(
        generated == shipped,
        "{path} is out of date with the option table; regenerate it with \
         BASALT_BLESS=1 cargo test -p basalt-config {test_filter}"
    );
}

const SHIPPED: &str = include_str!("../../../basalt.conf");

#[test]
fn example_file_is_up_to_date() {
    check_generated(
        &Config::example_file(),
        SHIPPED,
        "basalt.conf",
        "example_file",
    );
}

#[test]
fn example_file_parses_to_the_defaults() {
    assert_eq!(parse(SHIPPED), Config::default());
    assert_eq!(parse(&Config::example_file()), Config::default());
    // And it documents every option and alias.
    for def in options() {
        assert!(
            SHIPPED.contains(&format!("\n{} ", def.name)),
            "{} undocumented",
            def.name
        );
        for alias in def.aliases {
            assert!(SHIPPED.contains(alias), "{alias} undocumented");
        }
    }
}

// ------------------------------------------------------- reference document

const REFERENCE: &str = include_str!("../../../docs/configuration.md");

#[test]
fn reference_markdown_is_up_to_date() {
    check_generated(
        &reference_markdown(),
        REFERENCE,
        "docs/configuration.md",
        "reference_markdown",
    );
}

#[test]
fn reference_markdown_lists_every_option_once() {
    let doc = reference_markdown();
    for def in options() {
        let row = format!("| `{}`", def.name);
        assert_eq!(doc.matches(&row).count(), 1, "{} not listed once", def.name);
        for alias in def.aliases {
            assert!(doc.contains(&format!("`{alias}`")), "{alias} undocumented");
        }
    }
    // A table row has one cell per header column: no `|` leaked unescaped.
    for table in doc.split("\n\n").filter(|t| t.starts_with("| ")) {
        let columns = |line: &str| line.replace("\\|", "").matches('|').count();
        let header = columns(table.lines().next().unwrap());
        for line in table.lines() {
            assert_eq!(columns(line), header, "{line}");
        }
    }
}

#[test]
fn client_output_buffer_limit_is_a_typed_field() {
    let mut cfg = Config::default();
    set(
        &mut cfg,
        &[("client-output-buffer-limit", "pubsub 1mb 0 0")],
    )
    .unwrap();
    assert_eq!(cfg.client_output_buffer_limit.pubsub.hard_bytes, 1 << 20);
    assert_eq!(
        get1(&cfg, "client-output-buffer-limit"),
        "normal 0 0 0 slave 268435456 67108864 60 pubsub 1048576 0 0"
    );
}

#[test]
fn hidden_options_are_returned_only_when_named() {
    let cfg = Config::default();
    let all = cfg.get(&[b"*"]);
    assert!(!all.iter().any(|(k, _)| k == "key-load-delay"));
    assert!(!cfg
        .get(&[b"key-*"])
        .iter()
        .any(|(k, _)| k == "key-load-delay"));
    assert_eq!(
        cfg.get(&[b"key-load-delay"]),
        vec![("key-load-delay".to_string(), "0".to_string())]
    );
}
