//! Server commands: COMMAND, INFO, TIME, DEBUG SLEEP, SHUTDOWN, CONFIG, and
//! the generic unknown-command / arity errors.

use std::fs;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use basalt_tests::{against_redis, Server};

use crate::config::Proc;
use crate::protocol::{info_field, Raw, R};

fn names(r: &R) -> Vec<String> {
    r.arr().iter().map(R::text).collect()
}

#[test]
fn command_count_list_and_all() {
    let server = Server::start();
    let mut c = Raw::connect(server.port);
    let count = c.val(&["COMMAND", "COUNT"]).int();
    assert!(count > 50, "COMMAND COUNT {count}");
    let list = names(&c.val(&["COMMAND", "LIST"]));
    // COMMAND LIST also names subcommands ("config|get"); COUNT does not.
    let top = list.iter().filter(|n| !n.contains('|')).count();
    assert_eq!(top as i64, count, "COMMAND LIST vs COUNT");
    for name in [
        "get",
        "set",
        "ping",
        "info",
        "config",
        "command",
        "client",
        "hello",
        "config|get",
        "client|list",
    ] {
        assert!(list.iter().any(|n| n == name), "{name} not in COMMAND LIST");
    }
    // Filters judge subcommands on their own categories and full names.
    let scripting = names(&c.val(&["COMMAND", "LIST", "FILTERBY", "ACLCAT", "scripting"]));
    assert!(scripting.iter().any(|n| n == "eval"), "{scripting:?}");
    assert!(
        scripting.iter().any(|n| n == "script|kill"),
        "{scripting:?}"
    );
    assert!(!scripting.iter().any(|n| n == "set"), "{scripting:?}");
    let config = names(&c.val(&["COMMAND", "LIST", "FILTERBY", "PATTERN", "config|*re*"]));
    assert!(config.iter().any(|n| n == "config|rewrite"), "{config:?}");
    assert!(config.iter().any(|n| n == "config|resetstat"), "{config:?}");
    assert!(!config.iter().any(|n| n == "config"), "{config:?}");
    let zsets = names(&c.val(&["COMMAND", "LIST", "FILTERBY", "ACLCAT", "sortedset"]));
    assert!(zsets.iter().any(|n| n == "zadd"), "{zsets:?}");
    let all = c.val(&["COMMAND"]);
    assert_eq!(all.arr().len() as i64, count, "COMMAND vs COUNT");
    assert_eq!(c.cmd(&["COMMAND", "COUNT", "x"]), wrong("command|count"));
    assert_eq!(c.cmd(&["COMMAND", "GETKEYS"]), wrong("command|getkeys"));
    // Redis 7.2 takes the command alone (arity -3) and finds it lacks
    // arguments; 7.0 refused the call itself.
    if !against_redis() {
        assert_eq!(
            c.cmd(&["COMMAND", "GETKEYS", "get"]),
            "-ERR Invalid number of arguments specified for command\r\n"
        );
    }
}

fn wrong(cmd: &str) -> String {
    format!("-ERR wrong number of arguments for '{cmd}' command\r\n")
}

#[test]
fn command_info_and_docs() {
    let server = Server::start();
    let mut c = Raw::connect(server.port);
    let info = c.val(&["COMMAND", "INFO", "get", "SET", "nosuch", "mset"]);
    let info = info.arr();
    assert_eq!(info.len(), 4);
    // [name, arity, flags, first key, last key, step, ...]
    let check = |e: &R, name: &str, arity: i64, flag: &str, keys: (i64, i64, i64)| {
        let e = e.arr();
        assert!(e.len() >= 6, "{e:?}");
        assert_eq!(e[0].text(), name);
        assert_eq!(e[1].int(), arity, "{name} arity");
        let flags = names(&e[2]);
        assert!(flags.iter().any(|f| f == flag), "{name} flags {flags:?}");
        assert_eq!((e[3].int(), e[4].int(), e[5].int()), keys, "{name} keys");
    };
    check(&info[0], "get", 2, "readonly", (1, 1, 1));
    check(&info[1], "set", -3, "write", (1, 1, 1));
    assert_eq!(info[2], R::Nil);
    check(&info[3], "mset", -3, "write", (1, -1, 2));

    let docs = c.val(&["COMMAND", "DOCS", "get"]);
    let docs = docs.pairs();
    assert_eq!(docs.len(), 1, "{docs:?}");
    assert_eq!(docs[0].0, "get");
    let doc = &docs[0].1;
    assert!(!doc.get("summary").text().is_empty());
    assert_eq!(doc.get("group").text(), "string");
    assert!(!doc.get("since").text().is_empty());
    assert_eq!(c.cmd(&["COMMAND", "DOCS", "nosuch"]), "*0\r\n");
    // In RESP3 it is a map.
    c.val(&["HELLO", "3"]);
    assert!(matches!(c.val(&["COMMAND", "DOCS", "get"]), R::Map(_)));
}

#[test]
fn command_getkeys() {
    let server = Server::start();
    let mut c = Raw::connect(server.port);
    assert_eq!(
        c.cmd(&["COMMAND", "GETKEYS", "set", "a", "b"]),
        "*1\r\n$1\r\na\r\n"
    );
    assert_eq!(
        c.cmd(&["COMMAND", "GETKEYS", "mset", "a", "1", "b", "2"]),
        "*2\r\n$1\r\na\r\n$1\r\nb\r\n"
    );
    assert_eq!(
        c.cmd(&["COMMAND", "GETKEYS", "GET", "key"]),
        "*1\r\n$3\r\nkey\r\n"
    );
    assert_eq!(
        c.cmd(&["COMMAND", "GETKEYS", "del", "x", "y", "z"]),
        "*3\r\n$1\r\nx\r\n$1\r\ny\r\n$1\r\nz\r\n"
    );
    assert_eq!(
        c.cmd(&["COMMAND", "GETKEYS", "nosuch", "a"]),
        "-ERR Invalid command specified\r\n"
    );
    assert_eq!(
        c.cmd(&["COMMAND", "GETKEYS", "set", "a"]),
        "-ERR Invalid number of arguments specified for command\r\n"
    );
    assert_eq!(
        c.cmd(&["COMMAND", "GETKEYS", "ping", "x"]),
        "-ERR The command has no key arguments\r\n"
    );
    // Scripts may name no keys; that is an empty list, not an error.
    assert_eq!(
        c.cmd(&["COMMAND", "GETKEYS", "eval", "return 1", "0"]),
        "*0\r\n"
    );
    assert_eq!(
        c.cmd(&["COMMAND", "GETKEYS", "eval", "return 1", "1", "k"]),
        "*1\r\n$1\r\nk\r\n"
    );
}

#[test]
fn unknown_command_and_wrong_arity_errors() {
    let server = Server::start();
    let mut c = Raw::connect(server.port);
    assert_eq!(
        c.cmd(&["foo", "a"]),
        "-ERR unknown command 'foo', with args beginning with: 'a' \r\n"
    );
    assert_eq!(
        c.cmd(&["FOO", "a", "b c"]),
        "-ERR unknown command 'FOO', with args beginning with: 'a' 'b c' \r\n"
    );
    assert_eq!(
        c.cmd(&["nosuch"]),
        "-ERR unknown command 'nosuch', with args beginning with: \r\n"
    );
    assert_eq!(c.cmd(&["GET"]), wrong("get"));
    assert_eq!(c.cmd(&["get", "a", "b"]), wrong("get"));
    assert_eq!(c.cmd(&["SET", "a"]), wrong("set"));
    assert_eq!(c.cmd(&["CONFIG"]), wrong("config"));
    assert_eq!(c.cmd(&["CONFIG", "GET"]), wrong("config|get"));
    assert_eq!(
        c.cmd(&["CONFIG", "FOO"]),
        "-ERR unknown subcommand 'FOO'. Try CONFIG HELP.\r\n"
    );
    // Errors leave the connection usable.
    c.assert_alive();
    // The client library sees the same text.
    let mut lib = server.client();
    let err = redis::cmd("GET").query::<()>(&mut lib).unwrap_err();
    assert_eq!(err.code(), Some("ERR"));
    assert_eq!(
        err.detail(),
        Some("wrong number of arguments for 'get' command")
    );
}

#[test]
fn info_sections() {
    let server = Server::start();
    let mut c = Raw::connect(server.port);
    let default = c.val(&["INFO"]).text();
    for s in [
        "Server",
        "Clients",
        "Memory",
        "Persistence",
        "Stats",
        "Replication",
        "Modules",
        "Errorstats",
        "Cluster",
        "Keyspace",
    ] {
        assert!(default.contains(&format!("# {s}\r\n")), "INFO lacks # {s}");
    }
    // Client libraries read these to decide how to talk to a server.
    assert_eq!(info_field(&default, "cluster_enabled"), "0");
    assert_eq!(info_field(&default, "master_failover_state"), "no-failover");
    assert_eq!(info_field(&default, "lazyfree_pending_objects"), "0");
    assert!(
        info_field(&default, "total_system_memory")
            .parse::<u64>()
            .unwrap()
            > 0
    );
    assert!(
        info_field(&default, "repl_backlog_size")
            .parse::<u64>()
            .unwrap()
            > 0
    );
    assert!(
        !default.contains("# Commandstats"),
        "commandstats not default"
    );

    let srv = c.val(&["INFO", "server"]).text();
    assert!(srv.starts_with("# Server\r\n"), "{srv}");
    assert!(!srv.contains("# Clients"), "INFO server has other sections");
    assert!(info_field(&srv, "redis_version").starts_with("7."));
    assert_eq!(info_field(&srv, "tcp_port"), server.port.to_string());
    assert_eq!(info_field(&srv, "process_id"), server.pid().to_string());
    let up: i64 = info_field(&srv, "uptime_in_seconds").parse().unwrap();
    assert!((0..600).contains(&up));
    if !against_redis() {
        assert!(info_field(&srv, "redis_version").starts_with("7.2."));
        assert!(!info_field(&srv, "basalt_version").is_empty());
    }

    // Several sections at once, case-insensitive.
    let two = c.val(&["INFO", "SERVER", "clients"]).text();
    assert!(two.contains("# Server\r\n") && two.contains("# Clients\r\n"));
    assert!(!two.contains("# Memory"));
    let clients: i64 = info_field(&two, "connected_clients").parse().unwrap();
    assert!(clients >= 1);

    let all = c.val(&["INFO", "all"]).text();
    for s in ["Server", "Clients", "Stats", "Keyspace", "Commandstats"] {
        assert!(all.contains(&format!("# {s}\r\n")), "INFO all lacks # {s}");
    }
    assert!(c.val(&["INFO", "nosuchsection"]).text().is_empty());
    if !against_redis() {
        let rocks = c.val(&["INFO", "rocksdb"]).text();
        assert!(rocks.to_lowercase().contains("rocksdb"), "{rocks}");
    }
}

#[test]
fn info_keyspace_counts_keys() {
    let server = Server::start();
    let mut c = Raw::connect(server.port);
    assert_eq!(c.cmd(&["SET", "a", "1"]), "+OK\r\n");
    assert_eq!(c.cmd(&["SET", "b", "2", "EX", "100"]), "+OK\r\n");
    assert_eq!(c.cmd(&["SET", "c", "3"]), "+OK\r\n");
    let ks = c.val(&["INFO", "keyspace"]).text();
    assert!(ks.starts_with("# Keyspace\r\n"), "{ks}");
    let db0 = info_field(&ks, "db0");
    assert!(db0.starts_with("keys=3,expires=1,avg_ttl="), "{db0}");
    assert_eq!(c.cmd(&["DEL", "a", "b"]), ":2\r\n");
    let db0 = info_field(&c.val(&["INFO", "keyspace"]).text(), "db0");
    assert!(db0.starts_with("keys=1,expires=0,"), "{db0}");
}

#[test]
fn commandstats_and_config_resetstat() {
    let server = Server::start();
    let mut c = Raw::connect(server.port);
    c.cmd(&["SET", "x", "1"]);
    c.cmd(&["SET", "x", "2"]);
    c.cmd(&["GET", "nosuch"]);
    c.cmd(&["GET", "x"]);
    let cs = c.val(&["INFO", "commandstats"]).text();
    assert!(cs.starts_with("# Commandstats\r\n"), "{cs}");
    let set = info_field(&cs, "cmdstat_set");
    assert!(set.starts_with("calls=2,usec="), "{set}");
    assert!(set.contains("usec_per_call="), "{set}");
    assert!(info_field(&cs, "cmdstat_get").starts_with("calls=2,"));
    let stats = c.val(&["INFO", "stats"]).text();
    assert_eq!(info_field(&stats, "keyspace_hits"), "1");
    assert_eq!(info_field(&stats, "keyspace_misses"), "1");
    let total: i64 = info_field(&stats, "total_commands_processed")
        .parse()
        .unwrap();
    assert!(total >= 5, "total_commands_processed {total}");

    assert_eq!(c.cmd(&["CONFIG", "RESETSTAT"]), "+OK\r\n");
    let cs = c.val(&["INFO", "commandstats"]).text();
    assert!(!cs.contains("cmdstat_set:"), "{cs}");
    let stats = c.val(&["INFO", "stats"]).text();
    assert_eq!(info_field(&stats, "keyspace_hits"), "0");
    assert_eq!(info_field(&stats, "keyspace_misses"), "0");
    let total: i64 = info_field(&stats, "total_commands_processed")
        .parse()
        .unwrap();
    assert!(
        total <= 2,
        "total_commands_processed {total} after RESETSTAT"
    );
    // The data itself is untouched.
    assert_eq!(c.cmd(&["GET", "x"]), "$1\r\n2\r\n");
}

#[test]
fn time_is_now() {
    let server = Server::start();
    let mut c = Raw::connect(server.port);
    let t = c.val(&["TIME"]);
    let t = t.arr();
    assert_eq!(t.len(), 2);
    assert!(matches!(t[0], R::Bulk(_)), "TIME answers bulk strings");
    let secs: u64 = t[0].text().parse().unwrap();
    let micros: u64 = t[1].text().parse().unwrap();
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    assert!(secs.abs_diff(now.as_secs()) <= 2, "TIME {secs} vs {now:?}");
    assert!(micros < 1_000_000);
    assert_eq!(c.cmd(&["TIME", "x"]), wrong("time"));
}

#[test]
fn debug_sleep_blocks_for_the_duration() {
    // Redis 7 refuses DEBUG unless enable-debug-command is set at startup.
    let proc = Proc::start(None, &[], &["--enable-debug-command", "yes"]);
    let mut c = proc.raw();
    let t0 = Instant::now();
    assert_eq!(c.cmd(&["DEBUG", "SLEEP", "0.1"]), "+OK\r\n");
    let took = t0.elapsed();
    assert!(
        took >= Duration::from_millis(95) && took < Duration::from_secs(2),
        "DEBUG SLEEP 0.1 took {took:?}"
    );
    let t0 = Instant::now();
    assert_eq!(c.cmd(&["DEBUG", "SLEEP", "0"]), "+OK\r\n");
    assert!(t0.elapsed() < Duration::from_millis(500));
    c.assert_alive();
}

#[test]
fn shutdown_stops_the_server() {
    let mut server = Server::start();
    let mut c = Raw::connect(server.port);
    assert_eq!(c.cmd(&["SET", "kept", "yes"]), "+OK\r\n");
    c.send(b"SHUTDOWN\r\n");
    c.assert_closed("after SHUTDOWN");
    assert!(c.buf.is_empty(), "SHUTDOWN replied {:?}", c.buf);
    let status = server
        .wait_exit(Duration::from_secs(30))
        .expect("server still running 30 s after SHUTDOWN");
    assert!(status.success(), "exit status after SHUTDOWN: {status}");
    if !against_redis() {
        // Redis runs without persistence here; Basalt keeps its data.
        server.restart();
        let mut c = Raw::connect(server.port);
        assert_eq!(c.cmd(&["GET", "kept"]), "$3\r\nyes\r\n");
    }
}

#[test]
fn config_get_with_globs() {
    let server = Server::start();
    let mut c = Raw::connect(server.port);
    let one = c.val(&["CONFIG", "GET", "maxclients"]).pairs();
    assert_eq!(one.len(), 1);
    assert_eq!(one[0].0, "maxclients");
    let n: u64 = one[0].1.text().parse().expect("numeric maxclients");
    assert!(n >= 1000, "default maxclients {n}");
    // Names are case-insensitive.
    let upper = c.val(&["CONFIG", "GET", "MAXCLIENTS"]).pairs();
    assert_eq!(upper.len(), 1);
    assert!(upper[0].0.eq_ignore_ascii_case("maxclients"));
    assert_eq!(upper[0].1, one[0].1);

    let globbed = c.val(&["CONFIG", "GET", "*max*"]).pairs();
    assert!(globbed.len() >= 2, "{globbed:?}");
    assert!(
        globbed.iter().all(|(k, _)| k.contains("max")),
        "{globbed:?}"
    );
    assert!(globbed.iter().any(|(k, _)| k == "maxclients"));
    let q = c.val(&["CONFIG", "GET", "maxclient?"]).pairs();
    assert_eq!(q.len(), 1);

    let multi = c.val(&["CONFIG", "GET", "maxclients", "timeout"]).pairs();
    let keys: Vec<&str> = multi.iter().map(|(k, _)| k.as_str()).collect();
    assert!(keys.contains(&"maxclients") && keys.contains(&"timeout"));
    assert_eq!(c.cmd(&["CONFIG", "GET", "nosuchoption"]), "*0\r\n");
    let everything = c.val(&["CONFIG", "GET", "*"]).pairs();
    for k in [
        "port",
        "bind",
        "dir",
        "timeout",
        "requirepass",
        "appendfsync",
    ] {
        assert!(
            everything.iter().any(|(n, _)| n == k),
            "no {k} in CONFIG GET *"
        );
    }
    let port = everything.iter().find(|(n, _)| n == "port").unwrap();
    assert_eq!(port.1.text(), server.port.to_string());
}

fn config_get(c: &mut Raw, name: &str) -> String {
    let pairs = c.val(&["CONFIG", "GET", name]).pairs();
    assert_eq!(pairs.len(), 1, "CONFIG GET {name}: {pairs:?}");
    pairs[0].1.text()
}

#[test]
fn config_set_live_options_and_errors() {
    let server = Server::start();
    let mut c = Raw::connect(server.port);
    assert_eq!(c.cmd(&["CONFIG", "SET", "timeout", "30"]), "+OK\r\n");
    assert_eq!(config_get(&mut c, "timeout"), "30");
    assert_eq!(c.cmd(&["CONFIG", "SET", "maxclients", "100"]), "+OK\r\n");
    assert_eq!(config_get(&mut c, "maxclients"), "100");
    assert_eq!(c.cmd(&["CONFIG", "SET", "MAXCLIENTS", "101"]), "+OK\r\n");
    assert_eq!(config_get(&mut c, "maxclients"), "101");
    // Several options at once.
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "timeout", "10", "maxclients", "50"]),
        "+OK\r\n"
    );
    assert_eq!(config_get(&mut c, "timeout"), "10");
    assert_eq!(config_get(&mut c, "maxclients"), "50");
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "slowlog-log-slower-than", "5000"]),
        "+OK\r\n"
    );
    assert_eq!(config_get(&mut c, "slowlog-log-slower-than"), "5000");

    let failed = |name: &str, reason: &str| {
        format!("-ERR CONFIG SET failed (possibly related to argument '{name}') - {reason}\r\n")
    };
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "pidfile", "/tmp/x.pid"]),
        failed("pidfile", "can't set immutable config")
    );
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "timeout", "abc"]),
        failed("timeout", "argument couldn't be parsed into an integer")
    );
    assert_eq!(config_get(&mut c, "timeout"), "10", "failed SET changed it");
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "nosuchoption", "1"]),
        "-ERR Unknown option or number of arguments for CONFIG SET - 'nosuchoption'\r\n"
    );
    assert_eq!(c.cmd(&["CONFIG", "SET", "timeout"]), wrong("config|set"));

    // Redis parameters meaningless on disk are accepted as no-ops.
    for (k, v) in [
        ("save", ""),
        ("appendonly", "yes"),
        ("hash-max-listpack-entries", "128"),
    ] {
        assert_eq!(c.cmd(&["CONFIG", "SET", k, v]), "+OK\r\n", "CONFIG SET {k}");
    }
    c.assert_alive();
}

#[test]
fn config_rewrite_updates_the_file() {
    // Without a config file there is nothing to rewrite.
    let plain = Server::start();
    let mut c = Raw::connect(plain.port);
    assert_eq!(
        c.cmd(&["CONFIG", "REWRITE"]),
        "-ERR The server is running without a config file\r\n"
    );

    let conf_dir = tempfile::tempdir().unwrap();
    let conf = conf_dir.path().join("server.conf");
    fs::write(&conf, "# kept comment\nmaxclients 100\ntimeout 0\n").unwrap();
    let mut proc = Proc::start(Some(&conf), &[], &[]);
    let mut c = proc.raw();
    assert_eq!(c.cmd(&["CONFIG", "SET", "maxclients", "200"]), "+OK\r\n");
    assert_eq!(c.cmd(&["CONFIG", "SET", "timeout", "7"]), "+OK\r\n");
    assert_eq!(c.cmd(&["CONFIG", "REWRITE"]), "+OK\r\n");
    let text = fs::read_to_string(&conf).unwrap();
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    assert!(lines.contains(&"maxclients 200"), "{text}");
    assert!(lines.contains(&"timeout 7"), "{text}");
    assert!(!lines.contains(&"maxclients 100"), "{text}");
    assert!(lines.contains(&"# kept comment"), "{text}");
    drop(c);
    proc.kill();

    // The rewritten file starts a server with the new values.
    let proc = Proc::start(Some(&conf), &[], &[]);
    let mut c = proc.raw();
    assert_eq!(config_get(&mut c, "maxclients"), "200");
    assert_eq!(config_get(&mut c, "timeout"), "7");
}

/// Redis marks commands whose keys depend on the arguments `movablekeys`
/// (its own introspection tests list these), and SORT's last STORE is its
/// destination.
#[test]
fn movablekeys_and_sort_store() {
    let server = Server::start();
    let mut c = Raw::connect(server.port);
    let flags_of = |c: &mut Raw, cmd: &str| {
        let info = c.val(&["COMMAND", "INFO", cmd]);
        names(&info.arr()[0].arr()[2])
    };
    for cmd in ["zunionstore", "eval", "sort", "sort_ro", "lmpop"] {
        assert!(
            flags_of(&mut c, cmd).iter().any(|f| f == "movablekeys"),
            "{cmd}"
        );
    }
    for cmd in [
        "set", "get", "mset", "lmove", "blpop", "ping", "rename", "memory",
    ] {
        assert!(
            !flags_of(&mut c, cmd).iter().any(|f| f == "movablekeys"),
            "{cmd}"
        );
    }
    assert_eq!(
        c.cmd(&["COMMAND", "GETKEYS", "sort", "abc", "store", "a", "store", "b", "store", "c"]),
        "*2\r\n$3\r\nabc\r\n$1\r\nc\r\n"
    );
}

/// Each key with its key spec's flags, as Redis's own introspection tests
/// and ACL read them.
#[test]
fn command_getkeysandflags() {
    let server = Server::start();
    let mut c = Raw::connect(server.port);
    let keys_and_flags = |c: &mut Raw, args: &[&str]| -> Vec<(String, Vec<String>)> {
        let mut full = vec!["COMMAND", "GETKEYSANDFLAGS"];
        full.extend_from_slice(args);
        c.val(&full)
            .arr()
            .iter()
            .map(|e| (e.arr()[0].text(), names(&e.arr()[1])))
            .collect()
    };
    let kf = |pairs: &[(&str, &str)]| -> Vec<(String, Vec<String>)> {
        pairs
            .iter()
            .map(|(k, f)| (k.to_string(), f.split(' ').map(String::from).collect()))
            .collect()
    };
    for (args, expected) in [
        (&["set", "k1", "v1"][..], kf(&[("k1", "OW update")])),
        (
            &["set", "k1", "v1", "get"],
            kf(&[("k1", "RW access update")]),
        ),
        (
            &["mset", "k1", "v1", "k2", "v2"],
            kf(&[("k1", "OW update"), ("k2", "OW update")]),
        ),
        (
            &["LMOVE", "k1", "k2", "left", "right"],
            kf(&[("k1", "RW access delete"), ("k2", "RW insert")]),
        ),
        (
            &["sort", "k1", "store", "k2"],
            kf(&[("k1", "RO access"), ("k2", "OW update")]),
        ),
        (
            &["zunionstore", "d", "2", "a", "b"],
            kf(&[("d", "OW update"), ("a", "RO access"), ("b", "RO access")]),
        ),
        (&["exists", "a", "b"], kf(&[("a", "RO"), ("b", "RO")])),
        (&["del", "a"], kf(&[("a", "RM delete")])),
        (&["object", "encoding", "k"], kf(&[("k", "RO")])),
        (&["memory", "usage", "k"], kf(&[("k", "RO")])),
        (
            &["migrate", "h", "1", "k", "0", "5"],
            kf(&[("k", "RW access delete")]),
        ),
        (
            &["migrate", "h", "1", "", "0", "5", "KEYS", "a", "b"],
            kf(&[("a", "RW access delete"), ("b", "RW access delete")]),
        ),
        (
            &["eval", "return 1", "1", "k"],
            kf(&[("k", "RW access update")]),
        ),
        (&["eval", "return 1", "0"], vec![]),
    ] {
        assert_eq!(keys_and_flags(&mut c, args), expected, "{args:?}");
    }
    for (args, error) in [
        (&["nosuch", "a"][..], "Invalid command specified"),
        (&["object", "nosuch", "k"], "Invalid command specified"),
        (&["ping", "x"], "The command has no key arguments"),
        (&["object", "help"], "The command has no key arguments"),
        (&["spublish", "ch", "m"], "The command has no key arguments"),
        (
            &["get", "a", "b"],
            "Invalid number of arguments specified for command",
        ),
        (
            &["zunion", "5", "a"],
            "Invalid arguments specified for command",
        ),
        (
            &["zunion", "9223372036854775807", "a"],
            "Invalid arguments specified for command",
        ),
        (
            &["zunionstore", "d", "x", "a"],
            "Invalid arguments specified for command",
        ),
        (
            &["migrate", "h", "1", "k", "0", "5", "KEYS", "a"],
            "Invalid arguments specified for command",
        ),
    ] {
        let mut full = vec!["COMMAND", "GETKEYSANDFLAGS"];
        full.extend_from_slice(args);
        assert_eq!(c.cmd(&full), format!("-ERR {error}\r\n"), "{args:?}");
        full[1] = "GETKEYS";
        assert_eq!(c.cmd(&full), format!("-ERR {error}\r\n"), "{args:?}");
    }
    // GETKEYS names the same keys.
    assert_eq!(
        names(&c.val(&["COMMAND", "GETKEYS", "LMOVE", "k1", "k2", "left", "right"])),
        ["k1", "k2"]
    );
    assert_eq!(
        names(&c.val(&["COMMAND", "GETKEYS", "lcs", "key1", "key2"])),
        ["key1", "key2"]
    );
    let many: Vec<String> = (1..=260).map(|i| format!("key{i}")).collect();
    let mut args = vec!["COMMAND", "GETKEYS", "ZUNIONSTORE", "target", "260"];
    args.extend(many.iter().map(String::as_str));
    let mut expected = vec!["target".to_string()];
    expected.extend(many.iter().cloned());
    assert_eq!(names(&c.val(&args)), expected);
}

/// A key spec as a (flags, begin search, find keys) rendering, e.g.
/// `RW access delete|index 1|range 0 1 0`.
fn key_spec(spec: &R) -> String {
    let part = |r: R| {
        let kind = r.get("type").text();
        let values: Vec<String> = r
            .get("spec")
            .pairs()
            .into_iter()
            .map(|(_, v)| match v {
                R::Int(i) => i.to_string(),
                other => other.text(),
            })
            .collect();
        std::iter::once(kind)
            .chain(values)
            .collect::<Vec<_>>()
            .join(" ")
    };
    format!(
        "{}|{}|{}",
        names(&spec.get("flags")).join(" "),
        part(spec.get("begin_search")),
        part(spec.get("find_keys"))
    )
}

#[test]
fn command_info_key_specs_and_subcommands() {
    let server = Server::start();
    let mut c = Raw::connect(server.port);
    let specs = |c: &mut Raw, cmd: &str| -> Vec<String> {
        let info = c.val(&["COMMAND", "INFO", cmd]);
        info.arr()[0].arr()[8].arr().iter().map(key_spec).collect()
    };
    assert_eq!(specs(&mut c, "get"), ["RO access|index 1|range 0 1 0"]);
    assert_eq!(specs(&mut c, "mset"), ["OW update|index 1|range -1 2 0"]);
    assert_eq!(
        specs(&mut c, "smove"),
        [
            "RW access delete|index 1|range 0 1 0",
            "RW insert|index 2|range 0 1 0"
        ]
    );
    assert_eq!(
        specs(&mut c, "sunionstore"),
        [
            "OW update|index 1|range 0 1 0",
            "RO access|index 2|range -1 1 0"
        ]
    );
    assert_eq!(
        specs(&mut c, "zunionstore"),
        [
            "OW update|index 1|range 0 1 0",
            "RO access|index 2|keynum 0 1 1"
        ]
    );
    assert_eq!(
        specs(&mut c, "blmpop"),
        ["RW access delete|index 2|keynum 0 1 1"]
    );
    assert_eq!(
        specs(&mut c, "migrate"),
        [
            "RW access delete|index 3|range 0 1 0",
            "RW access delete incomplete|keyword KEYS -2|range -1 1 0"
        ]
    );
    assert_eq!(
        specs(&mut c, "ssubscribe"),
        ["not_key|index 1|range -1 1 0"]
    );
    assert!(specs(&mut c, "ping").is_empty());
    // Redis keeps explanatory notes in some specs; compare the rest.
    let sort: Vec<String> = specs(&mut c, "sort");
    assert_eq!(sort.len(), 3);
    assert_eq!(sort[0], "RO access|index 1|range 0 1 0");
    assert_eq!(sort[2], "OW update|unknown|unknown");

    // Subcommands by their full names; nothing deeper.
    let info = c.val(&[
        "COMMAND",
        "INFO",
        "config|get",
        "get|key",
        "config|get|key",
        "object|encoding",
    ]);
    let info = info.arr();
    assert_eq!(info[0].arr()[0].text(), "config|get");
    assert_eq!(info[0].arr()[1].int(), -3);
    assert_eq!(info[1], R::Nil);
    assert_eq!(info[2], R::Nil);
    let encoding = info[3].arr();
    assert_eq!(encoding[0].text(), "object|encoding");
    assert_eq!(
        (encoding[3].int(), encoding[4].int(), encoding[5].int()),
        (2, 2, 1)
    );
    assert_eq!(
        encoding[8].arr().iter().map(key_spec).collect::<Vec<_>>(),
        ["RO|index 2|range 0 1 0"]
    );
    // A container lists its subcommands as full entries.
    let config = c.val(&["COMMAND", "INFO", "config"]);
    let subs: Vec<String> = config.arr()[0].arr()[9]
        .arr()
        .iter()
        .map(|s| s.arr()[0].text())
        .collect();
    assert!(subs.iter().any(|s| s == "config|set"), "{subs:?}");
}

/// The argument tree of COMMAND DOCS, field by field for a few commands.
#[test]
fn command_docs_arguments() {
    let server = Server::start();
    let mut c = Raw::connect(server.port);
    let args_of = |c: &mut Raw, name: &str| -> Vec<R> {
        let docs = c.val(&["COMMAND", "DOCS", name]);
        docs.get(name).get("arguments").arr().to_vec()
    };
    let field = |a: &R, f: &str| a.pairs().into_iter().find(|(k, _)| k == f).map(|(_, v)| v);
    let set = args_of(&mut c, "set");
    assert_eq!(set[0].get("name").text(), "key");
    assert_eq!(set[0].get("type").text(), "key");
    assert_eq!(set[0].get("key_spec_index").int(), 0);
    assert_eq!(set[1].get("type").text(), "string");
    let condition = &set[2];
    assert_eq!(condition.get("name").text(), "condition");
    assert_eq!(condition.get("type").text(), "oneof");
    assert_eq!(names(&condition.get("flags")), ["optional"]);
    let choices = condition.get("arguments");
    let tokens: Vec<String> = choices
        .arr()
        .iter()
        .map(|a| a.get("token").text())
        .collect();
    assert_eq!(tokens, ["NX", "XX"]);
    assert_eq!(choices.arr()[0].get("type").text(), "pure-token");
    // A oneof has no display text; its choices do (since Redis 7.2).
    assert!(field(condition, "display_text").is_none());
    if !against_redis() {
        assert_eq!(choices.arr()[0].get("display_text").text(), "nx");
    }
    let expiration = set
        .iter()
        .find(|a| a.get("name").text() == "expiration")
        .unwrap();
    let choices = expiration.get("arguments");
    let seconds = &choices.arr()[0];
    assert_eq!(seconds.get("type").text(), "integer");
    assert_eq!(seconds.get("token").text(), "EX");

    let lmove = args_of(&mut c, "lmove");
    assert_eq!(lmove[0].get("key_spec_index").int(), 0);
    assert_eq!(lmove[1].get("key_spec_index").int(), 1);

    let sort = args_of(&mut c, "sort");
    let get = sort
        .iter()
        .find(|a| field(a, "token").is_some_and(|t| t.text() == "GET"))
        .unwrap();
    assert_eq!(
        names(&get.get("flags")),
        ["optional", "multiple", "multiple_token"]
    );
    let store = sort
        .iter()
        .find(|a| field(a, "token").is_some_and(|t| t.text() == "STORE"))
        .unwrap();
    assert_eq!(store.get("type").text(), "key");
    assert_eq!(store.get("key_spec_index").int(), 2);

    let mset = args_of(&mut c, "mset");
    assert_eq!(mset.len(), 1);
    assert_eq!(mset[0].get("type").text(), "block");
    assert_eq!(names(&mset[0].get("flags")), ["multiple"]);

    // Subcommands: by full name, and inside their container's docs.
    let docs = c.val(&["COMMAND", "DOCS", "config|get"]);
    let get = docs.get("config|get");
    assert_eq!(
        get.get("arguments").arr()[0].get("name").text(),
        "parameter"
    );
    // A subcommand has its own version.
    let tracking = c.val(&["COMMAND", "DOCS", "client|tracking"]);
    assert_eq!(tracking.get("client|tracking").get("since").text(), "6.0.0");
    let config = c.val(&["COMMAND", "DOCS", "config"]);
    let subs = config.get("config").get("subcommands");
    assert!(subs.pairs().iter().any(|(name, _)| name == "config|set"));
    // Commands without arguments have no `arguments` field.
    let ping_free = c.val(&["COMMAND", "DOCS", "dbsize"]);
    assert!(ping_free
        .get("dbsize")
        .pairs()
        .iter()
        .all(|(k, _)| k != "arguments"));
}

/// keyspace_hits / keyspace_misses count every key a read command looks up,
/// as in Redis; writes count nothing.
#[test]
fn keyspace_hits_and_misses() {
    let server = Server::start();
    let mut c = Raw::connect(server.port);
    let stats = |c: &mut Raw| {
        let info = c.val(&["INFO", "stats"]).text();
        (
            info_field(&info, "keyspace_hits").parse::<i64>().unwrap(),
            info_field(&info, "keyspace_misses").parse::<i64>().unwrap(),
        )
    };
    c.val(&["SET", "s", "v"]);
    c.val(&["HSET", "h", "f", "v"]);
    c.val(&["RPUSH", "l", "a"]);
    c.val(&["SET", "gone", "v", "PX", "1"]);
    std::thread::sleep(Duration::from_millis(20));
    let (h0, m0) = stats(&mut c);
    for cmd in [
        &["GET", "s"][..],
        &["GET", "missing"],
        &["GET", "gone"],
        &["HGET", "h", "f"],
        &["HGET", "nohash", "f"],
        &["LRANGE", "l", "0", "-1"],
        &["EXISTS", "s", "missing"],
        &["TYPE", "h"],
        &["STRLEN", "missing"],
        &["MGET", "s", "h", "missing"],
    ] {
        c.val(cmd);
    }
    let (h1, m1) = stats(&mut c);
    assert_eq!((h1 - h0, m1 - m0), (7, 6));
    // Writes are not lookups for reading.
    c.val(&["SET", "s", "w"]);
    c.val(&["INCR", "n"]);
    assert_eq!(stats(&mut c), (h1, m1));
}

/// INFO persistence, read fresh.
fn persistence(c: &mut Raw, field: &str) -> String {
    let info = c.val(&["INFO", "persistence"]).text();
    info_field(&info, field)
}

#[test]
fn save_bgsave_and_lastsave() {
    let server = Server::start();
    let mut c = Raw::connect(server.port);
    let before: i64 = c.val(&["LASTSAVE"]).int();
    assert!(before > 0);
    c.cmd(&["SET", "k", "v"]);
    assert_eq!(c.cmd(&["SAVE"]), "+OK\r\n");
    let after = c.val(&["LASTSAVE"]).int();
    assert!(after >= before, "{after} < {before}");
    assert_eq!(persistence(&mut c, "rdb_last_bgsave_status"), "ok");
    if !against_redis() {
        // The backup is a RocksDB checkpoint: a database that opens.
        let backup = server.data_dir().join("backup");
        assert!(backup.join("CURRENT").is_file(), "{backup:?}");
    }

    assert_eq!(c.cmd(&["BGSAVE"]), "+Background saving started\r\n");
    let deadline = Instant::now() + Duration::from_secs(10);
    while persistence(&mut c, "rdb_bgsave_in_progress") != "0" {
        assert!(Instant::now() < deadline, "BGSAVE never finished");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(persistence(&mut c, "rdb_last_bgsave_status"), "ok");
    assert_eq!(c.cmd(&["BGSAVE", "NOW"]), "-ERR syntax error\r\n");

    // SAVE cannot run inside a transaction.
    assert_eq!(c.cmd(&["MULTI"]), "+OK\r\n");
    let refused = c.cmd(&["SAVE"]);
    assert!(
        refused.contains("Command not allowed inside a transaction"),
        "{refused}"
    );
    assert_eq!(c.cmd(&["DISCARD"]), "+OK\r\n");

    let rewrite = c.cmd(&["BGREWRITEAOF"]);
    assert!(
        rewrite.starts_with("+Background append only file rewriting"),
        "{rewrite}"
    );
    assert_eq!(c.cmd(&["GET", "k"]), "$1\r\nv\r\n");
}

#[test]
fn config_options_redis_tools_set() {
    let server = Server::start();
    let mut c = Raw::connect(server.port);
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "maxmemory-clients", "200%"]),
        "-ERR CONFIG SET failed (possibly related to argument 'maxmemory-clients') - percentage argument must be less or equal to 100\r\n"
    );
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "maxmemory-clients", "10%"]),
        "+OK\r\n"
    );
    assert_eq!(
        c.cmd(&[
            "CONFIG",
            "SET",
            "maxmemory",
            "10000001",
            "repl-backlog-size",
            "10000002"
        ]),
        "+OK\r\n"
    );
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "repl-backlog-size"]),
        "*2\r\n$17\r\nrepl-backlog-size\r\n$8\r\n10000002\r\n"
    );
    // A name and its alias both answer a pattern.
    let of = c.cmd(&["CONFIG", "GET", "*of"]);
    assert!(of.contains("slaveof") && of.contains("replicaof"), "{of}");
}

#[test]
fn cluster_commands_answer_as_a_server_without_cluster_support() {
    let server = Server::start();
    let mut c = Raw::connect(server.port);
    for args in [
        &["CLUSTER", "INFO"][..],
        &["CLUSTER", "KEYSLOT", "k"],
        &["READONLY"],
        &["READWRITE"],
    ] {
        assert_eq!(
            c.cmd(args),
            "-ERR This instance has cluster support disabled\r\n",
            "{args:?}"
        );
    }
    let reset = c.cmd(&["EVAL", "return redis.call('cluster', 'reset', 'hard')", "0"]);
    assert!(
        reset.contains("command is not allowed from script"),
        "{reset}"
    );
    let help = names(&c.val(&["COMMAND", "LIST", "FILTERBY", "PATTERN", "cl*help"]));
    assert!(help.contains(&"cluster|help".to_string()), "{help:?}");
    assert!(help.contains(&"client|help".to_string()), "{help:?}");
}
