//! HyperLogLog: PFADD PFCOUNT PFMERGE, the generic commands on the type,
//! and the string commands, which see Redis's `HYLL` string. Counts and
//! bytes are redis-server 7.0.15's for the same inputs (checked with
//! `BASALT_TEST_AGAINST=redis`).

use basalt_tests::client::{err, int, q};
use basalt_tests::Server;
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
fn the_type_is_string_as_in_redis() {
    let server = Server::start();
    let c = &mut server.client();
    q::<i64>(c, &["PFADD", "h", "a"]);
    q::<String>(c, &["SET", "s", "v"]);
    q::<i64>(c, &["RPUSH", "l", "v"]);
    assert_eq!(q::<String>(c, &["TYPE", "h"]), "string");
    let (_, mut keys): (u64, Vec<String>) = q(c, &["SCAN", "0", "TYPE", "string", "COUNT", "100"]);
    keys.sort();
    assert_eq!(keys, ["h", "s"]);
}

fn bin(c: &mut Connection, args: &[&[u8]]) -> Vec<u8> {
    basalt_tests::client::cmd(args).query(c).unwrap()
}

/// `PFADD h a b c` as redis-server 7.0 keeps it: the sparse form, the
/// count cache stale.
const ABC: &[u8] = b"HYLL\x01\0\0\0\0\0\0\0\0\0\0\x80\x60\xf3\x80\x50\xb1\x84\x4b\xfb\x80\x42\x5a";

#[test]
fn string_commands_see_redis_bytes() {
    let server = Server::start();
    let c = &mut server.client();
    assert_eq!(int(c, &["PFADD", "h", "a", "b", "c"]), 1);
    assert_eq!(bin(c, &[b"GET", b"h"]), ABC);
    assert_eq!(int(c, &["STRLEN", "h"]), ABC.len() as i64);
    assert_eq!(bin(c, &[b"GETRANGE", b"h", b"0", b"3"]), b"HYLL");
    // PFCOUNT of one key caches the count in the header; a PFADD that
    // changes a register marks it stale and leaves the old count.
    assert_eq!(int(c, &["PFCOUNT", "h"]), 3);
    assert_eq!(
        bin(c, &[b"GETRANGE", b"h", b"8", b"15"]),
        b"\x03\0\0\0\0\0\0\0"
    );
    assert_eq!(int(c, &["PFADD", "h", "a"]), 0);
    assert_eq!(bin(c, &[b"GETRANGE", b"h", b"15", b"15"]), b"\0");
    assert_eq!(int(c, &["PFADD", "h", "d"]), 1);
    assert_eq!(
        bin(c, &[b"GETRANGE", b"h", b"8", b"15"]),
        b"\x03\0\0\0\0\0\0\x80"
    );
    let v: Vec<Option<Vec<u8>>> = basalt_tests::client::cmd(&["MGET", "h", "nokey"])
        .query(c)
        .unwrap();
    assert_eq!(v[0].as_ref().map(|v| &v[..4]), Some(&b"HYLL"[..]));
    assert_eq!(v[1], None);
    // Past hll-sparse-max-bytes the HyperLogLog is dense, as Redis
    // promotes it: 16 header bytes and 16384 six-bit registers.
    add_range(c, "big", 1, 3000);
    assert_eq!(int(c, &["STRLEN", "big"]), 12304);
    assert_eq!(bin(c, &[b"GETRANGE", b"big", b"4", b"4"]), b"\0");
    // SET of those bytes makes a string that PF* read as the same sketch.
    let bytes = bin(c, &[b"GET", b"big"]);
    let _: () = basalt_tests::client::cmd(&[b"SET".as_ref(), b"copy", &bytes])
        .query(c)
        .unwrap();
    assert_eq!(int(c, &["PFCOUNT", "copy"]), int(c, &["PFCOUNT", "big"]));
}

#[test]
fn strings_holding_hyperloglogs_are_hyperloglogs() {
    let server = Server::start();
    let c = &mut server.client();
    let _: () = basalt_tests::client::cmd(&[b"SET".as_ref(), b"s", ABC])
        .query(c)
        .unwrap();
    assert_eq!(int(c, &["PFCOUNT", "s"]), 3);
    assert_eq!(int(c, &["PFADD", "s", "a", "b"]), 0);
    assert_eq!(int(c, &["PFADD", "s", "d"]), 1);
    assert_eq!(int(c, &["PFCOUNT", "s"]), 4);
    assert_eq!(q::<String>(c, &["TYPE", "s"]), "string");
    let _: () = basalt_tests::client::cmd(&[b"SET".as_ref(), b"t", ABC])
        .query(c)
        .unwrap();
    assert_eq!(int(c, &["EXPIRE", "t", "1000"]), 1);
    assert_eq!(q::<String>(c, &["PFMERGE", "t", "s"]), "OK");
    assert_eq!(int(c, &["PFCOUNT", "t"]), 4);
    assert!(int(c, &["TTL", "t"]) > 0, "PFMERGE keeps the TTL");
    assert_eq!(int(c, &["PFCOUNT", "s", "t", "nokey"]), 4);
}

#[test]
fn edited_hyperloglogs_are_checked_as_redis_checks_them() {
    let server = Server::start();
    let c = &mut server.client();
    let not_hll = "WRONGTYPE Key is not a valid HyperLogLog string value.";
    let corrupt = "INVALIDOBJ Corrupted HLL object detected";
    q::<i64>(c, &["PFADD", "h", "a", "b", "c"]);
    assert_eq!(int(c, &["APPEND", "h", "hello"]), ABC.len() as i64 + 5);
    assert_eq!(err(c, &["PFCOUNT", "h"]), corrupt);
    assert_eq!(err(c, &["PFMERGE", "d", "h"]), corrupt);
    q::<i64>(c, &["DEL", "h"]);
    q::<i64>(c, &["PFADD", "h", "a", "b", "c"]);
    q::<i64>(c, &["SETRANGE", "h", "0", "0123"]);
    assert_eq!(err(c, &["PFCOUNT", "h"]), not_hll);
    q::<i64>(c, &["DEL", "h"]);
    q::<i64>(c, &["PFADD", "h", "a", "b", "c"]);
    q::<i64>(c, &["SETRANGE", "h", "4", "x"]);
    assert_eq!(err(c, &["PFCOUNT", "h"]), not_hll);
    // A sparse body claimed dense has the wrong length.
    q::<i64>(c, &["DEL", "h"]);
    q::<i64>(c, &["PFADD", "h", "a", "b", "c"]);
    let len: i64 = basalt_tests::client::cmd(&[b"SETRANGE".as_ref(), b"h", b"4", b"\0"])
        .query(c)
        .unwrap();
    assert_eq!(len, ABC.len() as i64);
    assert_eq!(err(c, &["PFCOUNT", "h"]), not_hll);
    q::<String>(c, &["SET", "plain", "bar"]);
    assert_eq!(err(c, &["PFADD", "plain", "1"]), not_hll);
    assert_eq!(err(c, &["PFCOUNT", "plain"]), not_hll);
    assert_eq!(err(c, &["PFMERGE", "plain", "h"]), not_hll);
    assert_eq!(err(c, &["PFMERGE", "d", "plain"]), not_hll);
    assert_eq!(int(c, &["EXISTS", "d"]), 0);
    // Any string command works on a HyperLogLog, as on Redis's string.
    q::<i64>(c, &["PFADD", "n", "a"]);
    assert_eq!(
        err(c, &["INCR", "n"]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(bin(c, &[b"GETDEL", b"n"])[..4], *b"HYLL");
    assert_eq!(int(c, &["EXISTS", "n"]), 0);
}

#[test]
fn a_replica_counts_without_caching_and_gets_the_masters_cache() {
    basalt_tests::skip_on_redis!();
    let sync = std::time::Duration::from_secs(30);
    let master = Server::start();
    let m = &mut master.client();
    let replica = basalt_tests::nodes::start_replica(&master, &[]);
    q::<i64>(m, &["PFADD", "h", "a", "b", "c"]);
    basalt_tests::nodes::wait_in_sync(&master, &replica, sync);
    let r = &mut basalt_tests::nodes::connect(&replica, sync);
    // The replica cannot write its cache: it counts and leaves it stale.
    assert_eq!(int(r, &["PFCOUNT", "h"]), 3);
    assert_eq!(bin(r, &[b"GETRANGE", b"h", b"15", b"15"]), b"\x80");
    assert_eq!(int(m, &["PFCOUNT", "h"]), 3);
    basalt_tests::nodes::wait_in_sync(&master, &replica, sync);
    assert_eq!(bin(r, &[b"GET", b"h"]), bin(m, &[b"GET", b"h"]));
    assert_eq!(bin(r, &[b"GETRANGE", b"h", b"15", b"15"]), b"\0");
}

#[test]
fn bit_commands_run_on_the_hyperloglog_string() {
    let server = Server::start();
    let c = &mut server.client();
    q::<i64>(c, &["PFADD", "h", "a", "b", "c"]);
    // Redis runs the bit commands on the `HYLL` string (ABC above): 'H'
    // is 0x48.
    assert_eq!(int(c, &["GETBIT", "h", "1"]), 1);
    assert_eq!(int(c, &["GETBIT", "h", "3"]), 0);
    assert_eq!(int(c, &["BITCOUNT", "h"]), 49);
    assert_eq!(int(c, &["BITCOUNT", "h", "0", "3"]), 12);
    assert_eq!(int(c, &["BITPOS", "h", "1"]), 1);
    assert_eq!(int(c, &["BITPOS", "h", "0", "8"]), 64);
    assert_eq!(
        q::<Vec<i64>>(c, &["BITFIELD_RO", "h", "GET", "u8", "0"]),
        [72]
    );
    assert_eq!(
        q::<Vec<i64>>(c, &["BITFIELD", "h", "GET", "u32", "0"]),
        [0x4859_4c4c]
    );
    // BITOP reads it as that string and stores a string PF* accept.
    assert_eq!(int(c, &["BITOP", "OR", "dst", "h", "h"]), ABC.len() as i64);
    assert_eq!(bin(c, &[b"GET", b"dst"]), ABC);
    assert_eq!(int(c, &["PFCOUNT", "dst"]), 3);
    // A SETBIT that changes nothing leaves it alone; one that changes a
    // bit makes it that string, which is no longer a HyperLogLog.
    assert_eq!(int(c, &["EXPIRE", "h", "1000"]), 1);
    assert_eq!(int(c, &["SETBIT", "h", "1", "1"]), 1);
    assert_eq!(int(c, &["PFCOUNT", "h"]), 3);
    assert_eq!(int(c, &["SETBIT", "h", "7", "1"]), 0);
    assert_eq!(bin(c, &[b"GETRANGE", b"h", b"0", b"3"]), b"IYLL");
    assert!(int(c, &["TTL", "h"]) > 0, "SETBIT keeps the TTL");
    assert_eq!(
        err(c, &["PFCOUNT", "h"]),
        "WRONGTYPE Key is not a valid HyperLogLog string value."
    );
    // BITFIELD writing past the header leaves a string whose valid cached
    // count PFCOUNT answers.
    q::<i64>(c, &["PFADD", "k", "a", "b", "c"]);
    assert_eq!(int(c, &["PFCOUNT", "k"]), 3);
    assert_eq!(
        q::<Vec<i64>>(c, &["BITFIELD", "k", "INCRBY", "u8", "144", "1"]),
        [0x81]
    );
    assert_eq!(int(c, &["PFCOUNT", "k"]), 3);
    assert_eq!(q::<String>(c, &["TYPE", "k"]), "string");
}
