//! Bloom filters: BF.RESERVE BF.ADD BF.MADD BF.INSERT BF.EXISTS BF.MEXISTS
//! BF.INFO BF.CARD with RedisBloom's replies and errors, Kvrocks' scaling
//! chain, the measured false-positive rate, and the generic commands.
//! Redis without the RedisBloom module has none of these commands, so the
//! tests run against Basalt only.

use basalt_tests::client::{cmd, err, int, q, reply};
use basalt_tests::Server;
use redis::Connection;
use std::io::{Read, Write};

/// The exact RESP2 bytes of one command's reply: an array holding an error
/// (a full filter) is an error as a whole to the `redis` client.
fn raw(server: &Server, args: &[&str]) -> String {
    let mut s = server.raw();
    let mut req = Vec::new();
    for command in [args, &["PING"][..]] {
        req.extend_from_slice(format!("*{}\r\n", command.len()).as_bytes());
        for a in command {
            req.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
        }
    }
    s.write_all(&req).unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    while !out.ends_with(b"+PONG\r\n") {
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "connection closed");
        out.extend_from_slice(&buf[..n]);
    }
    out.truncate(out.len() - 7);
    String::from_utf8_lossy(&out).into_owned()
}

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

/// Adds `prefix0..prefix{n-1}` with BF.MADD, `batch` items per command,
/// 20 commands per pipeline; returns how many were new.
fn madd_range(c: &mut Connection, key: &str, prefix: &str, n: usize, batch: usize) -> usize {
    let mut added = 0;
    let mut pipe = redis::pipe();
    let mut queued = 0;
    let mut start = 0;
    let flush = |pipe: &mut redis::Pipeline, c: &mut Connection| {
        let replies: Vec<Vec<i64>> = pipe.query(c).unwrap();
        pipe.clear();
        replies.iter().flatten().filter(|&&r| r == 1).count()
    };
    while start < n {
        let end = (start + batch).min(n);
        let mut command = redis::cmd("BF.MADD");
        command.arg(key);
        for i in start..end {
            command.arg(format!("{prefix}{i}"));
        }
        pipe.add_command(command);
        queued += 1;
        if queued == 20 {
            added += flush(&mut pipe, c);
            queued = 0;
        }
        start = end;
    }
    if queued > 0 {
        added += flush(&mut pipe, c);
    }
    added
}

/// How many of `prefix0..prefix{n-1}` BF.MEXISTS reports present.
fn count_present(c: &mut Connection, key: &str, prefix: &str, n: usize, batch: usize) -> usize {
    let mut present = 0;
    let mut start = 0;
    while start < n {
        let mut pipe = redis::pipe();
        for _ in 0..20 {
            if start >= n {
                break;
            }
            let end = (start + batch).min(n);
            let mut command = redis::cmd("BF.MEXISTS");
            command.arg(key);
            for i in start..end {
                command.arg(format!("{prefix}{i}"));
            }
            pipe.add_command(command);
            start = end;
        }
        let replies: Vec<Vec<i64>> = pipe.query(c).unwrap();
        present += replies.iter().flatten().filter(|&&r| r == 1).count();
    }
    present
}

#[test]
fn add_and_exists() {
    let server = Server::start();
    let c = &mut server.client();
    assert_eq!(int(c, &["BF.ADD", "bf", "a"]), 1);
    assert_eq!(int(c, &["BF.ADD", "bf", "a"]), 0);
    assert_eq!(int(c, &["BF.EXISTS", "bf", "a"]), 1);
    assert_eq!(int(c, &["BF.EXISTS", "bf", "b"]), 0);
    assert_eq!(int(c, &["BF.EXISTS", "missing", "a"]), 0);
    assert_eq!(
        reply(c, &["BF.MADD", "bf", "a", "b", "c", "b"]),
        "[0,1,1,0]"
    );
    assert_eq!(reply(c, &["BF.MEXISTS", "bf", "a", "b", "x"]), "[1,1,0]");
    assert_eq!(reply(c, &["BF.MEXISTS", "missing", "a", "b"]), "[0,0]");
    assert_eq!(int(c, &["BF.CARD", "bf"]), 3);
    assert_eq!(int(c, &["BF.CARD", "missing"]), 0);
    // Binary items.
    let added: i64 = cmd(&[b"BF.ADD".as_ref(), b"bf", b"\x00\xff\r\n"])
        .query(c)
        .unwrap();
    assert_eq!(added, 1);
    let found: i64 = cmd(&[b"BF.EXISTS".as_ref(), b"bf", b"\x00\xff\r\n"])
        .query(c)
        .unwrap();
    assert_eq!(found, 1);
    // BF.ADD creates a filter with Kvrocks' defaults: 100 items at 1%.
    assert_eq!(
        reply(c, &["BF.INFO", "bf"]),
        "[Capacity,100,Size,128,Number of filters,1,Number of items inserted,4,Expansion rate,2]"
    );
}

#[test]
fn reserve_and_its_errors() {
    let server = Server::start();
    let c = &mut server.client();
    assert_eq!(q::<String>(c, &["BF.RESERVE", "bf", "0.001", "1000"]), "OK");
    assert_eq!(
        err(c, &["BF.RESERVE", "bf", "0.001", "1000"]),
        "ERR item exists"
    );
    assert_eq!(int(c, &["BF.CARD", "bf"]), 0);
    assert_eq!(int(c, &["EXISTS", "bf"]), 1, "an empty filter exists");
    assert_eq!(
        err(c, &["BF.RESERVE", "x", "abc", "1000"]),
        "ERR bad error rate"
    );
    for rate in ["0", "1", "-0.5", "1.5"] {
        assert_eq!(
            err(c, &["BF.RESERVE", "x", rate, "1000"]),
            "ERR (0 < error rate range < 1)"
        );
    }
    assert_eq!(
        err(c, &["BF.RESERVE", "x", "0.01", "abc"]),
        "ERR bad capacity"
    );
    assert_eq!(
        err(c, &["BF.RESERVE", "x", "0.01", "0"]),
        "ERR (capacity should be larger than 0)"
    );
    assert_eq!(
        err(c, &["BF.RESERVE", "x", "0.01", "100", "EXPANSION"]),
        "ERR no expansion"
    );
    assert_eq!(
        err(c, &["BF.RESERVE", "x", "0.01", "100", "EXPANSION", "x"]),
        "ERR bad expansion"
    );
    assert_eq!(
        err(c, &["BF.RESERVE", "x", "0.01", "100", "EXPANSION", "0"]),
        "ERR expansion should be greater or equal to 1"
    );
    assert_eq!(
        err(
            c,
            &[
                "BF.RESERVE",
                "x",
                "0.01",
                "100",
                "NONSCALING",
                "EXPANSION",
                "2"
            ]
        ),
        "ERR nonscaling filters cannot expand"
    );
    assert_eq!(
        err(c, &["BF.RESERVE", "x", "0.01", "100", "BOGUS"]),
        "ERR syntax error"
    );
    assert_eq!(
        err(c, &["BF.RESERVE", "x", "0.01"]),
        "ERR wrong number of arguments for 'bf.reserve' command"
    );
    assert_eq!(int(c, &["EXISTS", "x"]), 0);
    q::<String>(c, &["SET", "s", "v"]);
    assert_eq!(err(c, &["BF.RESERVE", "s", "0.01", "100"]), WRONGTYPE);
    assert_eq!(err(c, &["BF.ADD", "s", "a"]), WRONGTYPE);
    assert_eq!(err(c, &["BF.MADD", "s", "a"]), WRONGTYPE);
    assert_eq!(err(c, &["BF.EXISTS", "s", "a"]), WRONGTYPE);
    assert_eq!(err(c, &["BF.INFO", "s"]), WRONGTYPE);
    assert_eq!(err(c, &["BF.CARD", "s"]), WRONGTYPE);
    assert_eq!(err(c, &["GET", "bf"]), WRONGTYPE);
}

#[test]
fn nonscaling_filters_fill_up() {
    let server = Server::start();
    let c = &mut server.client();
    q::<String>(c, &["BF.RESERVE", "bf", "0.01", "2", "NONSCALING"]);
    assert_eq!(int(c, &["BF.ADD", "bf", "a"]), 1);
    assert_eq!(reply(c, &["BF.MADD", "bf", "a", "b"]), "[0,1]");
    assert_eq!(
        err(c, &["BF.ADD", "bf", "c"]),
        "ERR non scaling filter is full"
    );
    // As RedisBloom, the reply stops at the first item that did not fit.
    assert_eq!(
        raw(&server, &["BF.MADD", "bf", "a", "c", "d"]),
        "*2\r\n:0\r\n-ERR non scaling filter is full\r\n"
    );
    assert_eq!(reply(c, &["BF.INFO", "bf", "EXPANSION"]), "[nil]");
    assert_eq!(reply(c, &["BF.INFO", "bf", "FILTERS"]), "[1]");
    assert_eq!(int(c, &["BF.CARD", "bf"]), 2);
}

#[test]
fn scaling_adds_sub_filters() {
    let server = Server::start();
    let c = &mut server.client();
    q::<String>(c, &["BF.RESERVE", "bf", "0.01", "100", "EXPANSION", "3"]);
    assert_eq!(reply(c, &["BF.INFO", "bf", "CAPACITY"]), "[100]");
    let added = madd_range(c, "bf", "item", 1000, 100);
    assert!(added > 990, "{added}");
    // 100 + 300 + 900 >= 1000 items: three sub-filters.
    assert_eq!(reply(c, &["BF.INFO", "bf", "FILTERS"]), "[3]");
    assert_eq!(reply(c, &["BF.INFO", "bf", "CAPACITY"]), "[1300]");
    assert_eq!(reply(c, &["BF.INFO", "bf", "EXPANSION"]), "[3]");
    assert_eq!(reply(c, &["BF.INFO", "bf", "ITEMS"]), format!("[{added}]"));
    // Kvrocks' sizes: 128 + 512 + 2048 bytes.
    assert_eq!(reply(c, &["BF.INFO", "bf", "SIZE"]), "[2688]");
    assert_eq!(count_present(c, "bf", "item", 1000, 500), 1000);
    // MEMORY USAGE counts the sub-filters, not bytes per item.
    let memory = int(c, &["MEMORY", "USAGE", "bf"]);
    assert!((2688..10_000).contains(&memory), "{memory}");
    assert_eq!(
        err(c, &["BF.INFO", "bf", "BOGUS"]),
        "ERR Invalid information value"
    );
    assert_eq!(err(c, &["BF.INFO", "missing"]), "ERR not found");
}

#[test]
fn insert_options() {
    let server = Server::start();
    let c = &mut server.client();
    assert_eq!(
        reply(
            c,
            &[
                "BF.INSERT",
                "bf",
                "CAPACITY",
                "1000",
                "ERROR",
                "0.001",
                "EXPANSION",
                "4",
                "ITEMS",
                "a",
                "b",
                "a"
            ]
        ),
        "[1,1,0]"
    );
    assert_eq!(
        reply(c, &["BF.INFO", "bf"]),
        "[Capacity,1000,Size,2048,Number of filters,1,Number of items inserted,2,Expansion rate,4]"
    );
    // Options of an existing filter are ignored, as in RedisBloom.
    assert_eq!(
        reply(c, &["BF.INSERT", "bf", "CAPACITY", "5", "ITEMS", "c"]),
        "[1]"
    );
    assert_eq!(reply(c, &["BF.INFO", "bf", "CAPACITY"]), "[1000]");
    assert_eq!(
        err(c, &["BF.INSERT", "missing", "NOCREATE", "ITEMS", "a"]),
        "ERR not found"
    );
    assert_eq!(int(c, &["EXISTS", "missing"]), 0);
    assert_eq!(
        raw(
            &server,
            &[
                "BF.INSERT",
                "ns",
                "CAPACITY",
                "1",
                "NONSCALING",
                "ITEMS",
                "a",
                "b",
                "c"
            ]
        ),
        "*2\r\n:1\r\n-ERR non scaling filter is full\r\n"
    );
    assert_eq!(
        err(
            c,
            &[
                "BF.INSERT",
                "x",
                "NONSCALING",
                "EXPANSION",
                "2",
                "ITEMS",
                "a"
            ]
        ),
        "ERR nonscaling filters cannot expand"
    );
    assert_eq!(
        err(c, &["BF.INSERT", "x", "CAPACITY", "abc", "ITEMS", "a"]),
        "ERR Bad capacity"
    );
    assert_eq!(
        err(c, &["BF.INSERT", "x", "ERROR", "abc", "ITEMS", "a"]),
        "ERR Bad error rate"
    );
    assert_eq!(
        err(c, &["BF.INSERT", "x", "ERROR", "2", "ITEMS", "a"]),
        "ERR (0 < error rate range < 1)"
    );
    assert_eq!(
        err(c, &["BF.INSERT", "x", "BOGUS", "ITEMS", "a"]),
        "ERR Unknown argument received"
    );
    assert_eq!(
        err(c, &["BF.INSERT", "x", "CAPACITY", "10", "ITEMS"]),
        "ERR wrong number of arguments for 'bf.insert' command"
    );
    assert_eq!(
        err(c, &["BF.INSERT", "x", "CAPACITY", "10", "NOCREATE"]),
        "ERR wrong number of arguments for 'bf.insert' command"
    );
    assert_eq!(int(c, &["EXISTS", "x"]), 0);
}

/// A million items at a requested 1% error rate: a million other items
/// must come back "present" at most 1% of the time. The sizes are
/// Kvrocks' (a power of two at least the optimum), so the measured rate is
/// well below the bound; nothing added may be reported missing.
#[test]
fn false_positive_rate_stays_within_the_error_rate() {
    let server = Server::start();
    let c = &mut server.client();
    const N: usize = 1_000_000;
    q::<String>(c, &["BF.RESERVE", "bf", "0.01", &N.to_string()]);
    madd_range(c, "bf", "member:", N, 10_000);
    assert_eq!(reply(c, &["BF.INFO", "bf", "FILTERS"]), "[1]");
    let false_positives = count_present(c, "bf", "stranger:", N, 10_000);
    let rate = false_positives as f64 / N as f64;
    assert!(rate <= 0.01, "false-positive rate {rate}");
    assert_eq!(count_present(c, "bf", "member:", 100_000, 10_000), 100_000);
}

#[test]
fn generic_commands_work_on_filters() {
    let server = Server::start();
    let c = &mut server.client();
    q::<i64>(c, &["BF.ADD", "bf", "a"]);
    assert_eq!(q::<String>(c, &["TYPE", "bf"]), "MBbloom--");
    assert_eq!(q::<String>(c, &["OBJECT", "ENCODING", "bf"]), "raw");
    q::<String>(c, &["SET", "s", "v"]);
    let (_, keys): (u64, Vec<String>) = q(c, &["SCAN", "0", "TYPE", "MBbloom--", "COUNT", "100"]);
    assert_eq!(keys, vec!["bf".to_string()]);

    assert_eq!(int(c, &["COPY", "bf", "bf2"]), 1);
    q::<i64>(c, &["BF.ADD", "bf", "b"]);
    assert_eq!(int(c, &["BF.EXISTS", "bf2", "a"]), 1);
    assert_eq!(
        int(c, &["BF.EXISTS", "bf2", "b"]),
        0,
        "the copy is independent"
    );
    assert_eq!(q::<String>(c, &["RENAME", "bf2", "bf3"]), "OK");
    assert_eq!(int(c, &["EXISTS", "bf2"]), 0);
    assert_eq!(int(c, &["BF.EXISTS", "bf3", "a"]), 1);
    assert_eq!(int(c, &["BF.CARD", "bf3"]), 1);

    let dump = err(c, &["DUMP", "bf"]);
    assert!(dump.starts_with("ERR DUMP is not supported"), "{dump}");

    assert_eq!(int(c, &["PEXPIRE", "bf3", "1"]), 1);
    let gone = (0..200).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(10));
        int(c, &["EXISTS", "bf3"]) == 0
    });
    assert!(gone);
    assert_eq!(int(c, &["BF.EXISTS", "bf3", "a"]), 0);

    assert_eq!(int(c, &["DEL", "bf"]), 1);
    assert_eq!(int(c, &["BF.EXISTS", "bf", "a"]), 0);
    assert_eq!(int(c, &["BF.ADD", "bf", "z"]), 1);
    assert_eq!(
        int(c, &["BF.EXISTS", "bf", "a"]),
        0,
        "a new filter starts empty"
    );

    // MULTI and Lua.
    let (a, b): (i64, Vec<i64>) = redis::pipe()
        .atomic()
        .cmd("BF.ADD")
        .arg("t")
        .arg("x")
        .cmd("BF.MEXISTS")
        .arg("t")
        .arg("x")
        .arg("y")
        .query(c)
        .unwrap();
    assert_eq!((a, b), (1, vec![1, 0]));
    let lua: i64 = redis::cmd("EVAL")
        .arg("redis.call('BF.ADD', KEYS[1], 'q'); return redis.call('BF.EXISTS', KEYS[1], 'q')")
        .arg(1)
        .arg("lua")
        .query(c)
        .unwrap();
    assert_eq!(lua, 1);
}

#[test]
fn filters_survive_a_restart() {
    let mut server = Server::start();
    {
        let c = &mut server.client();
        q::<String>(c, &["BF.RESERVE", "bf", "0.01", "10"]);
        madd_range(c, "bf", "k", 100, 50);
    }
    let before = {
        let c = &mut server.client();
        reply(c, &["BF.INFO", "bf"])
    };
    server.restart();
    let c = &mut server.client();
    assert_eq!(reply(c, &["BF.INFO", "bf"]), before);
    assert_eq!(count_present(c, "bf", "k", 100, 100), 100);
}

#[test]
fn replicas_follow_filters() {
    use basalt_tests::nodes::{start_replica, wait_in_sync};
    let master = Server::start();
    let replica = start_replica(&master, &[]);
    let m = &mut master.client();
    q::<String>(m, &["BF.RESERVE", "bf", "0.01", "50"]);
    madd_range(m, "bf", "r", 500, 100);
    wait_in_sync(&master, &replica, std::time::Duration::from_secs(10));
    let r = &mut replica.client();
    assert_eq!(reply(r, &["BF.INFO", "bf"]), reply(m, &["BF.INFO", "bf"]));
    assert_eq!(count_present(r, "bf", "r", 500, 250), 500);
    assert_eq!(
        err(r, &["BF.ADD", "bf", "x"]),
        "READONLY You can't write against a read only replica."
    );
}
