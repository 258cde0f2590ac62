//! HyperLogLog: PFADD PFCOUNT PFMERGE, and the generic commands on the
//! type. Counts are redis-server 7.0.15's for the same inputs (checked with
//! `BASALT_TEST_AGAINST=redis`); where Basalt keeps Kvrocks' own type
//! (TYPE, SCAN TYPE) the test skips Redis, whose HLLs are strings.

use basalt_tests::client::{err, int, q};
use basalt_tests::{against_redis, Server};
use redis::Connection;

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

/// PFADD of the decimal numbers from..=to, 1000 per command.
fn add_range(c: &mut Connection, key: &str, from: u64, to: u64) {
    let mut start = from;
    while start <= to {
        let end = (start + 999).min(to);
        let mut args = vec!["PFADD".to_string(), key.to_string()];
        args.extend((start..=end).map(|i| i.to_string()));
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        int(c, &refs);
        start = end + 1;
    }
}

#[test]
fn counts_are_redis_counts() {
    let server = Server::start();
    let c = &mut server.client();
    for (n, expected) in [(1, 1), (10, 10), (500, 503), (5000, 4985), (100_000, 99562)] {
        let key = format!("r{n}");
        add_range(c, &key, 1, n);
        assert_eq!(int(c, &["PFCOUNT", &key]), expected, "1..{n}");
    }
    assert_eq!(int(c, &["PFCOUNT", "r5000", "r100000", "missing"]), 99562);
    assert_eq!(int(c, &["PFCOUNT", "r500", "r5000"]), 4985);
    assert_eq!(int(c, &["PFCOUNT", "missing"]), 0);
    assert_eq!(int(c, &["EXISTS", "missing"]), 0, "PFCOUNT creates nothing");
}

#[test]
fn pfadd_replies_whether_a_register_changed() {
    let server = Server::start();
    let c = &mut server.client();
    assert_eq!(int(c, &["PFADD", "h", "a", "b", "c"]), 1);
    assert_eq!(int(c, &["PFADD", "h", "a", "b"]), 0);
    assert_eq!(int(c, &["PFADD", "h"]), 0);
    assert_eq!(int(c, &["PFCOUNT", "h"]), 3);
    // With no elements PFADD creates the key, once.
    assert_eq!(int(c, &["PFADD", "e"]), 1);
    assert_eq!(int(c, &["PFADD", "e"]), 0);
    assert_eq!(int(c, &["EXISTS", "e"]), 1);
    assert_eq!(int(c, &["PFCOUNT", "e"]), 0);
    let binary: i64 = basalt_tests::client::cmd(&[b"PFADD".as_ref(), b"h", b"\x00\xff\r\n"])
        .query(c)
        .unwrap();
    assert_eq!(binary, 1);
    assert_eq!(int(c, &["PFCOUNT", "h"]), 4);
}

#[test]
fn pfmerge_unions_into_the_destination() {
    let server = Server::start();
    let c = &mut server.client();
    add_range(c, "a", 1, 3000);
    add_range(c, "b", 2001, 6000);
    let union = int(c, &["PFCOUNT", "a", "b"]);
    assert_eq!(q::<String>(c, &["PFMERGE", "d", "a", "b", "missing"]), "OK");
    assert_eq!(int(c, &["PFCOUNT", "d"]), union);
    // The destination's own registers are part of the union.
    add_range(c, "x", 10_001, 12_000);
    assert_eq!(q::<String>(c, &["PFMERGE", "x", "a"]), "OK");
    let expected = int(c, &["PFCOUNT", "x"]);
    assert_eq!(int(c, &["PFCOUNT", "a", "x"]), expected);
    assert!((4900..5100).contains(&expected), "{expected}");
    // A missing destination with no sources becomes an empty HLL.
    assert_eq!(q::<String>(c, &["PFMERGE", "empty"]), "OK");
    assert_eq!(int(c, &["EXISTS", "empty"]), 1);
    assert_eq!(int(c, &["PFCOUNT", "empty"]), 0);
}

#[test]
fn other_types_are_refused() {
    let server = Server::start();
    let c = &mut server.client();
    q::<i64>(c, &["RPUSH", "l", "a"]);
    q::<i64>(c, &["PFADD", "h", "a"]);
    assert_eq!(err(c, &["PFADD", "l", "a"]), WRONGTYPE);
    assert_eq!(err(c, &["PFCOUNT", "l"]), WRONGTYPE);
    assert_eq!(err(c, &["PFCOUNT", "h", "l"]), WRONGTYPE);
    assert_eq!(err(c, &["PFMERGE", "l", "h"]), WRONGTYPE);
    assert_eq!(err(c, &["PFMERGE", "d", "h", "l"]), WRONGTYPE);
    assert_eq!(int(c, &["EXISTS", "d"]), 0);
    assert_eq!(err(c, &["LPUSH", "h", "a"]), WRONGTYPE);
    assert_eq!(
        err(c, &["PFADD"]),
        "ERR wrong number of arguments for 'pfadd' command"
    );
    assert_eq!(
        err(c, &["PFCOUNT"]),
        "ERR wrong number of arguments for 'pfcount' command"
    );
}

#[test]
fn generic_commands_work_on_hyperloglogs() {
    let server = Server::start();
    let c = &mut server.client();
    add_range(c, "h", 1, 1000);
    assert_eq!(int(c, &["PFCOUNT", "h"]), 1001);
    assert_eq!(q::<String>(c, &["OBJECT", "ENCODING", "h"]), "raw");
    assert!(int(c, &["MEMORY", "USAGE", "h"]) > 0);

    assert_eq!(int(c, &["COPY", "h", "h2"]), 1);
    q::<i64>(c, &["PFADD", "h", "new-1", "new-2", "new-3"]);
    assert_eq!(int(c, &["PFCOUNT", "h2"]), 1001, "the copy is independent");
    assert_eq!(q::<String>(c, &["RENAME", "h2", "h3"]), "OK");
    assert_eq!(int(c, &["EXISTS", "h2", "h3"]), 1);
    assert_eq!(int(c, &["PFCOUNT", "h3"]), 1001);

    assert_eq!(int(c, &["EXPIRE", "h3", "100"]), 1);
    assert!(int(c, &["TTL", "h3"]) > 0);
    assert_eq!(int(c, &["PFCOUNT", "h3"]), 1001);
    assert_eq!(int(c, &["PEXPIRE", "h3", "1"]), 1);
    let gone = (0..200).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(10));
        int(c, &["EXISTS", "h3"]) == 0
    });
    assert!(gone);
    assert_eq!(int(c, &["PFCOUNT", "h3"]), 0);

    assert_eq!(int(c, &["DEL", "h"]), 1);
    assert_eq!(int(c, &["PFCOUNT", "h"]), 0);
    // A new key under the same name starts empty, not with the old segments.
    assert_eq!(int(c, &["PFADD", "h", "one"]), 1);
    assert_eq!(int(c, &["PFCOUNT", "h"]), 1);
}

#[test]
fn the_type_is_kvrocks_hyperloglog() {
    let server = Server::start();
    let c = &mut server.client();
    q::<i64>(c, &["PFADD", "h", "a"]);
    q::<String>(c, &["SET", "s", "v"]);
    // Redis's HLLs are strings; Basalt keeps Kvrocks' type.
    let (kind, scan_type) = if against_redis() {
        ("string", "string")
    } else {
        ("hyperloglog", "hyperloglog")
    };
    assert_eq!(q::<String>(c, &["TYPE", "h"]), kind);
    let (_, keys): (u64, Vec<String>) = q(c, &["SCAN", "0", "TYPE", scan_type, "COUNT", "100"]);
    if against_redis() {
        assert_eq!(keys.len(), 2);
    } else {
        assert_eq!(keys, vec!["h".to_string()]);
    }
}
