//! Bit commands on strings in place and on Kvrocks' sparse bitmap type
//! (which SETBIT and BITFIELD create for a missing key): replies, errors
//! and events as Redis 7.0 gives them (`BASALT_TEST_AGAINST=redis` runs
//! the same assertions against redis-server), sparse storage, and DUMP /
//! RESTORE of bitmaps and HyperLogLogs with a real redis-server.

use basalt_tests::client::{err, int, q, reply};
use basalt_tests::{skip_on_redis, Server};
use redis::{Connection, Value};

fn bytes(c: &mut Connection, args: &[&str]) -> Vec<u8> {
    basalt_tests::client::cmd(args).query(c).unwrap()
}

fn value(c: &mut Connection, args: &[&str]) -> Value {
    basalt_tests::client::cmd(args).query(c).unwrap()
}

/// `bits` (offsets) set on a missing key, one SETBIT each.
fn set_bits(c: &mut Connection, key: &str, bits: &[u64]) {
    for b in bits {
        assert_eq!(int(c, &["SETBIT", key, &b.to_string(), "1"]), 0);
    }
}

#[test]
fn bitmap_setbit_creates_a_value_that_reads_as_a_string() {
    let server = Server::start();
    let mut c = server.client();
    assert_eq!(int(&mut c, &["SETBIT", "b", "1", "1"]), 0);
    assert_eq!(int(&mut c, &["SETBIT", "b", "1", "1"]), 1);
    assert_eq!(int(&mut c, &["SETBIT", "b", "14", "1"]), 0);
    assert_eq!(int(&mut c, &["GETBIT", "b", "1"]), 1);
    assert_eq!(int(&mut c, &["GETBIT", "b", "2"]), 0);
    assert_eq!(int(&mut c, &["GETBIT", "b", "100000"]), 0);
    assert_eq!(int(&mut c, &["GETBIT", "missing", "3"]), 0);
    assert_eq!(bytes(&mut c, &["GET", "b"]), vec![0x40, 0x02]);
    assert_eq!(int(&mut c, &["STRLEN", "b"]), 2);
    assert_eq!(bytes(&mut c, &["GETRANGE", "b", "1", "-1"]), vec![0x02]);
    assert_eq!(q::<String>(&mut c, &["TYPE", "b"]), "string");
    assert_eq!(q::<String>(&mut c, &["OBJECT", "ENCODING", "b"]), "raw");
    let scan: (String, Vec<String>) = q(&mut c, &["SCAN", "0", "TYPE", "string"]);
    assert_eq!(scan.1, vec!["b".to_string()]);
    // Clearing a bit past the end still grows the value.
    assert_eq!(int(&mut c, &["SETBIT", "b", "40", "0"]), 0);
    assert_eq!(bytes(&mut c, &["GET", "b"]), vec![0x40, 0x02, 0, 0, 0, 0]);
    // Clearing every bit keeps the key, all zeros.
    assert_eq!(int(&mut c, &["SETBIT", "b", "1", "0"]), 1);
    assert_eq!(int(&mut c, &["SETBIT", "b", "14", "0"]), 1);
    assert_eq!(int(&mut c, &["EXISTS", "b"]), 1);
    assert_eq!(bytes(&mut c, &["GET", "b"]), vec![0; 6]);
    assert_eq!(int(&mut c, &["SETBIT", "z", "0", "0"]), 0);
    assert_eq!(bytes(&mut c, &["GET", "z"]), vec![0]);
}

#[test]
fn bitmap_errors_match_redis() {
    let server = Server::start();
    let mut c = server.client();
    // Redis 7.0 answers a missing key before parsing the range, so the
    // syntax checks run on an existing key.
    q::<()>(&mut c, &["SET", "b", "x"]);
    let offset = "ERR bit offset is not an integer or out of range";
    assert_eq!(err(&mut c, &["SETBIT", "b", "-1", "1"]), offset);
    assert_eq!(err(&mut c, &["SETBIT", "b", "4294967296", "1"]), offset);
    assert_eq!(err(&mut c, &["GETBIT", "b", "x"]), offset);
    let bit = "ERR bit is not an integer or out of range";
    assert_eq!(err(&mut c, &["SETBIT", "b", "0", "2"]), bit);
    assert_eq!(err(&mut c, &["SETBIT", "b", "0", "x"]), bit);
    assert_eq!(err(&mut c, &["BITCOUNT", "b", "0"]), "ERR syntax error");
    assert_eq!(
        err(&mut c, &["BITCOUNT", "b", "0", "1", "bits"]),
        "ERR syntax error"
    );
    assert_eq!(
        err(&mut c, &["BITCOUNT", "b", "x", "1"]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        err(&mut c, &["BITPOS", "b", "2"]),
        "ERR The bit argument must be 1 or 0."
    );
    assert_eq!(
        err(&mut c, &["BITOP", "NOT", "d", "a", "b"]),
        "ERR BITOP NOT must be called with a single source key."
    );
    assert_eq!(
        err(&mut c, &["BITOP", "NAND", "d", "a"]),
        "ERR syntax error"
    );
    assert_eq!(
        err(&mut c, &["BITFIELD", "b", "GET", "u64", "0"]),
        "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is."
    );
    assert_eq!(
        err(
            &mut c,
            &["BITFIELD", "b", "OVERFLOW", "BAD", "GET", "u8", "0"]
        ),
        "ERR Invalid OVERFLOW type specified"
    );
    assert_eq!(
        err(&mut c, &["BITFIELD", "b", "SET", "u8", "0"]),
        "ERR syntax error"
    );
    assert_eq!(
        err(&mut c, &["BITFIELD_RO", "b", "SET", "u8", "0", "1"]),
        "ERR BITFIELD_RO only supports the GET subcommand"
    );
    q::<()>(&mut c, &["RPUSH", "l", "a"]);
    let wrong = "WRONGTYPE Operation against a key holding the wrong kind of value";
    for args in [
        &["SETBIT", "l", "0", "1"][..],
        &["GETBIT", "l", "0"],
        &["BITCOUNT", "l"],
        &["BITPOS", "l", "1"],
        &["BITOP", "AND", "d", "l"],
        &["BITFIELD", "l", "GET", "u8", "0"],
    ] {
        assert_eq!(err(&mut c, args), wrong, "{args:?}");
    }
    assert_eq!(int(&mut c, &["EXISTS", "d"]), 0);
}

/// The same bytes as a string (SET) and as a bitmap (SETBIT) answer every
/// range query alike, with Redis's numbers.
#[test]
fn bitmap_bitcount_and_bitpos_ranges() {
    let server = Server::start();
    let mut c = server.client();
    // "\xff\xf0\x00" as a string and as SETBITs.
    redis::cmd("SET")
        .arg("s")
        .arg(&b"\xff\xf0\x00"[..])
        .query::<()>(&mut c)
        .unwrap();
    set_bits(&mut c, "m", &(0..12).collect::<Vec<_>>());
    int(&mut c, &["SETBIT", "m", "23", "0"]);
    for key in ["s", "m"] {
        assert_eq!(int(&mut c, &["BITCOUNT", key]), 12, "{key}");
        assert_eq!(int(&mut c, &["BITCOUNT", key, "1", "1"]), 4);
        assert_eq!(int(&mut c, &["BITCOUNT", key, "-2", "-1"]), 4);
        assert_eq!(int(&mut c, &["BITCOUNT", key, "5", "30", "BIT"]), 7);
        assert_eq!(int(&mut c, &["BITCOUNT", key, "-1", "-2"]), 0);
        assert_eq!(int(&mut c, &["BITCOUNT", key, "0", "0", "BYTE"]), 8);
        assert_eq!(int(&mut c, &["BITPOS", key, "0"]), 12);
        assert_eq!(int(&mut c, &["BITPOS", key, "1", "1"]), 8);
        assert_eq!(int(&mut c, &["BITPOS", key, "1", "2"]), -1);
        assert_eq!(int(&mut c, &["BITPOS", key, "0", "0", "0"]), -1);
        assert_eq!(int(&mut c, &["BITPOS", key, "0", "0"]), 12);
        assert_eq!(int(&mut c, &["BITPOS", key, "1", "3", "10", "BIT"]), 3);
        assert_eq!(int(&mut c, &["BITPOS", key, "0", "3", "10", "BIT"]), -1);
        assert_eq!(int(&mut c, &["BITPOS", key, "0", "3", "-1", "BIT"]), 12);
        assert_eq!(int(&mut c, &["BITPOS", key, "1", "-12", "-1", "BIT"]), -1);
    }
    // All ones and no explicit end: the first 0 is just past the value.
    redis::cmd("SET")
        .arg("ones")
        .arg(&b"\xff\xff"[..])
        .query::<()>(&mut c)
        .unwrap();
    assert_eq!(int(&mut c, &["BITPOS", "ones", "0"]), 16);
    assert_eq!(int(&mut c, &["BITPOS", "ones", "0", "0", "-1"]), -1);
    assert_eq!(int(&mut c, &["BITPOS", "missing", "0"]), 0);
    assert_eq!(int(&mut c, &["BITPOS", "missing", "1"]), -1);
    assert_eq!(int(&mut c, &["BITCOUNT", "missing"]), 0);
}

#[test]
fn bitmap_string_keys_change_in_place() {
    let server = Server::start();
    let mut c = server.client();
    q::<()>(&mut c, &["SET", "s", "foobar"]);
    assert_eq!(int(&mut c, &["SETBIT", "s", "7", "1"]), 0);
    assert_eq!(q::<String>(&mut c, &["GET", "s"]), "goobar");
    assert_eq!(int(&mut c, &["BITCOUNT", "s"]), 27);
    assert_eq!(
        value(&mut c, &["BITFIELD", "s", "SET", "u8", "8", "120"]),
        Value::Array(vec![Value::Int(111)])
    );
    assert_eq!(q::<String>(&mut c, &["GET", "s"]), "gxobar");
    // Still a string: string commands go on working.
    assert_eq!(int(&mut c, &["APPEND", "s", "!"]), 7);
    assert_eq!(q::<String>(&mut c, &["GET", "s"]), "gxobar!");
    q::<()>(&mut c, &["SET", "n", "12"]);
    assert_eq!(int(&mut c, &["GETBIT", "n", "2"]), 1);
    assert_eq!(int(&mut c, &["INCR", "n"]), 13);
    // SETBIT past the end zero-pads the string.
    assert_eq!(int(&mut c, &["SETBIT", "n", "31", "1"]), 0);
    assert_eq!(bytes(&mut c, &["GET", "n"]), b"13\x00\x01".to_vec());
    q::<()>(&mut c, &["EXPIRE", "s", "1000"]);
    int(&mut c, &["SETBIT", "s", "0", "1"]);
    assert!(int(&mut c, &["TTL", "s"]) > 900);
}

#[test]
fn bitmap_bitop_over_strings_and_bitmaps() {
    let server = Server::start();
    let mut c = server.client();
    redis::cmd("MSET")
        .arg("a")
        .arg(&b"\xf0\x0f\xaa"[..])
        .arg("b")
        .arg(&b"\xcc"[..])
        .query::<()>(&mut c)
        .unwrap();
    // The same bytes as "a", built as a bitmap.
    for i in 0..24u64 {
        if b"\xf0\x0f\xaa"[(i / 8) as usize] & (0x80 >> (i % 8)) != 0 {
            int(&mut c, &["SETBIT", "ma", &i.to_string(), "1"]);
        }
    }
    for a in ["a", "ma"] {
        let cases: [(&str, &[&str], &[u8]); 5] = [
            ("AND", &[a, "b"], b"\xc0\x00\x00"),
            ("OR", &[a, "b"], b"\xfc\x0f\xaa"),
            ("XOR", &[a, "b"], b"\x3c\x0f\xaa"),
            ("NOT", &[a], b"\x0f\xf0\x55"),
            ("AND", &[a, "missing"], b"\x00\x00\x00"),
        ];
        for (op, sources, expected) in cases {
            let mut args = vec!["BITOP", op, "dest"];
            args.extend_from_slice(sources);
            assert_eq!(int(&mut c, &args), 3, "{op} {sources:?}");
            assert_eq!(
                bytes(&mut c, &["GET", "dest"]),
                expected.to_vec(),
                "{op} {sources:?}"
            );
            assert_eq!(int(&mut c, &["STRLEN", "dest"]), 3);
        }
    }
    // Nothing but missing or empty sources deletes the destination.
    assert_eq!(
        int(&mut c, &["BITOP", "OR", "dest", "missing", "missing2"]),
        0
    );
    assert_eq!(int(&mut c, &["EXISTS", "dest"]), 0);
    // The destination may be a source.
    assert_eq!(int(&mut c, &["BITOP", "NOT", "ma", "ma"]), 3);
    assert_eq!(bytes(&mut c, &["GET", "ma"]), b"\x0f\xf0\x55".to_vec());
}

/// Redis 8.2's DIFF, DIFF1, ANDOR and ONE (redis-server 7.0 has none).
#[test]
fn bitmap_bitop_redis_8_operations() {
    skip_on_redis!();
    let server = Server::start();
    let mut c = server.client();
    redis::cmd("MSET")
        .arg("x")
        .arg(&b"\xf0"[..])
        .arg("y")
        .arg(&b"\xcc"[..])
        .arg("z")
        .arg(&b"\xaa\x01"[..])
        .query::<()>(&mut c)
        .unwrap();
    let cases: [(&str, &[u8]); 4] = [
        // x & !(y|z), !x & (y|z), x & (y|z), exactly one of x y z.
        ("DIFF", b"\x10\x00"),
        ("DIFF1", b"\x0e\x01"),
        ("ANDOR", b"\xe0\x00"),
        ("ONE", b"\x16\x01"),
    ];
    for (op, expected) in cases {
        assert_eq!(int(&mut c, &["BITOP", op, "d", "x", "y", "z"]), 2, "{op}");
        assert_eq!(bytes(&mut c, &["GET", "d"]), expected.to_vec(), "{op}");
    }
    assert_eq!(
        err(&mut c, &["BITOP", "diff1", "d", "x"]),
        "ERR BITOP DIFF1 must be called with at least two source keys."
    );
}

#[test]
fn bitmap_bitfield_types_offsets_and_overflow() {
    let server = Server::start();
    let mut c = server.client();
    let arr = |v: &[Option<i64>]| {
        Value::Array(v.iter().map(|x| x.map_or(Value::Nil, Value::Int)).collect())
    };
    for key in ["bf", "bfs"] {
        if key == "bfs" {
            q::<()>(&mut c, &["SET", key, ""]);
        }
        assert_eq!(
            value(
                &mut c,
                &["BITFIELD", key, "SET", "i8", "0", "-100", "GET", "i8", "0", "GET", "u8", "0"]
            ),
            arr(&[Some(0), Some(-100), Some(156)])
        );
        assert_eq!(
            value(
                &mut c,
                &[
                    "BITFIELD", key, "INCRBY", "u2", "100", "1", "OVERFLOW", "SAT", "INCRBY", "u2",
                    "102", "1"
                ]
            ),
            arr(&[Some(1), Some(1)])
        );
        // WRAP (default), SAT and FAIL on unsigned and signed fields.
        assert_eq!(
            value(
                &mut c,
                &["BITFIELD", key, "SET", "u8", "#3", "250", "INCRBY", "u8", "#3", "10"]
            ),
            arr(&[Some(0), Some(4)])
        );
        assert_eq!(
            value(
                &mut c,
                &[
                    "BITFIELD", key, "OVERFLOW", "SAT", "INCRBY", "u8", "#3", "-10", "INCRBY",
                    "i8", "#3", "200"
                ]
            ),
            arr(&[Some(0), Some(127)])
        );
        assert_eq!(
            value(
                &mut c,
                &[
                    "BITFIELD", key, "OVERFLOW", "FAIL", "INCRBY", "i8", "#3", "1", "SET", "u4",
                    "#3", "16", "GET", "i8", "#3"
                ]
            ),
            arr(&[None, None, Some(127)])
        );
        assert_eq!(
            value(
                &mut c,
                &["BITFIELD", key, "OVERFLOW", "WRAP", "INCRBY", "i8", "#3", "1"]
            ),
            arr(&[Some(-128)])
        );
        assert_eq!(
            value(
                &mut c,
                &[
                    "BITFIELD", key, "SET", "i64", "64", "-1", "GET", "u63", "64", "GET", "i64",
                    "64"
                ]
            ),
            arr(&[Some(5 << 24), Some(i64::MAX), Some(-1)])
        );
        assert_eq!(
            value(
                &mut c,
                &[
                    "BITFIELD",
                    key,
                    "OVERFLOW",
                    "WRAP",
                    "INCRBY",
                    "i64",
                    "64",
                    "-9223372036854775808"
                ]
            ),
            arr(&[Some(i64::MAX)])
        );
        assert_eq!(
            value(
                &mut c,
                &["BITFIELD_RO", key, "GET", "u4", "0", "GET", "i3", "1000000"]
            ),
            arr(&[Some(9), Some(0)])
        );
        assert_eq!(int(&mut c, &["STRLEN", key]), 16);
    }
    assert_eq!(value(&mut c, &["BITFIELD", "none"]), arr(&[]));
    assert_eq!(
        value(&mut c, &["BITFIELD", "none", "GET", "u8", "0"]),
        arr(&[Some(0)])
    );
    assert_eq!(int(&mut c, &["EXISTS", "none"]), 0);
    // Growing happens even when FAIL refuses the write, as in Redis.
    assert_eq!(
        value(
            &mut c,
            &["BITFIELD", "grow", "OVERFLOW", "FAIL", "SET", "u2", "100", "7"]
        ),
        arr(&[None])
    );
    assert_eq!(int(&mut c, &["STRLEN", "grow"]), 13);
}

/// One bit at offset 4e9 is one 1 KiB fragment, not 500 MB.
#[test]
fn bitmap_sparse_offsets_cost_only_their_fragments() {
    skip_on_redis!();
    let server = Server::start();
    let mut c = server.client();
    assert_eq!(int(&mut c, &["SETBIT", "big", "4000000000", "1"]), 0);
    assert_eq!(int(&mut c, &["SETBIT", "big", "7", "1"]), 0);
    assert_eq!(int(&mut c, &["GETBIT", "big", "4000000000"]), 1);
    assert_eq!(int(&mut c, &["STRLEN", "big"]), 500_000_001);
    assert_eq!(int(&mut c, &["BITCOUNT", "big"]), 2);
    assert_eq!(int(&mut c, &["BITCOUNT", "big", "1", "-1"]), 1);
    assert_eq!(int(&mut c, &["BITPOS", "big", "1", "1"]), 4_000_000_000);
    assert_eq!(int(&mut c, &["BITPOS", "big", "0"]), 0);
    assert_eq!(int(&mut c, &["BITPOS", "big", "0", "0", "-1", "BIT"]), 0);
    let usage = int(&mut c, &["MEMORY", "USAGE", "big"]);
    assert!(usage < 4096, "MEMORY USAGE {usage}");
    assert_eq!(
        value(
            &mut c,
            &[
                "BITFIELD",
                "big",
                "GET",
                "u8",
                "#500000000",
                "INCRBY",
                "u4",
                "4000000000",
                "1"
            ]
        ),
        Value::Array(vec![Value::Int(128), Value::Int(9)])
    );
    // GET would materialise 500 MB: refused past max-bitmap-to-string-mb.
    assert!(err(&mut c, &["GET", "big"]).contains("max-bitmap-to-string-mb"));
    // BITOP of sparse bitmaps stays sparse.
    assert_eq!(
        int(&mut c, &["BITOP", "AND", "and", "big", "big"]),
        500_000_001
    );
    assert_eq!(int(&mut c, &["BITCOUNT", "and"]), 3);
    assert!(int(&mut c, &["MEMORY", "USAGE", "and"]) < 4096);
    // COPY and RENAME carry the fragments.
    assert_eq!(int(&mut c, &["COPY", "big", "copy"]), 1);
    q::<()>(&mut c, &["RENAME", "copy", "moved"]);
    assert_eq!(int(&mut c, &["GETBIT", "moved", "4000000000"]), 1);
    assert_eq!(int(&mut c, &["BITCOUNT", "moved"]), 3);
    assert_eq!(int(&mut c, &["EXISTS", "copy"]), 0);
    q::<()>(
        &mut c,
        &["CONFIG", "SET", "max-bitmap-to-string-mb", "1000"],
    );
    assert_eq!(int(&mut c, &["SETBIT", "small", "9", "1"]), 0);
    assert_eq!(bytes(&mut c, &["GET", "small"]), vec![0, 0x40]);
}

#[test]
fn bitmap_in_multi_and_lua() {
    let server = Server::start();
    let mut c = server.client();
    let replies: Value = redis::pipe()
        .atomic()
        .cmd("SETBIT")
        .arg("m")
        .arg(3)
        .arg(1)
        .cmd("BITFIELD")
        .arg("m")
        .arg("INCRBY")
        .arg("u4")
        .arg(4)
        .arg(5)
        .cmd("BITCOUNT")
        .arg("m")
        .query(&mut c)
        .unwrap();
    assert_eq!(
        replies,
        Value::Array(vec![
            Value::Int(0),
            Value::Array(vec![Value::Int(5)]),
            Value::Int(3)
        ])
    );
    let script = "redis.call('SETBIT', KEYS[1], 0, 1); \
                  redis.call('BITOP', 'NOT', KEYS[2], KEYS[1]); \
                  return {redis.call('BITCOUNT', KEYS[1]), redis.call('GET', KEYS[2]), \
                          redis.call('BITPOS', KEYS[2], 0)}";
    let got: Value = redis::cmd("EVAL")
        .arg(script)
        .arg(2)
        .arg("m{t}")
        .arg("n{t}")
        .query(&mut c)
        .unwrap();
    assert_eq!(
        got,
        Value::Array(vec![
            Value::Int(1),
            Value::BulkString(vec![0x7f]),
            Value::Int(0)
        ])
    );
}

#[test]
fn bitmap_keyspace_events() {
    crate::notifications::assert_events(
        &[
            "setbit b 3 1",
            "setbit b 3 1",
            "bitfield b set u8 0 1",
            "bitfield b set u8 0 1",
            "bitfield b get u8 0",
            "bitop not d b",
            "bitop and d missing",
        ],
        &["b setbit", "b setbit", "d set", "d del"],
    );
}

fn dump(c: &mut Connection, key: &str) -> Vec<u8> {
    redis::cmd("DUMP").arg(key).query(c).unwrap()
}

fn restore(c: &mut Connection, key: &str, payload: &[u8]) {
    redis::cmd("RESTORE")
        .arg(key)
        .arg(0)
        .arg(payload)
        .query::<()>(c)
        .unwrap();
}

/// Bitmaps and HyperLogLogs cross between the server and redis-server.
#[test]
fn bitmap_and_hll_dump_restore_with_redis_server() {
    let server = Server::start();
    let redis = Server::start_redis();
    let mut c = server.client();
    let mut r = redis.client();
    for conn in [&mut c, &mut r] {
        set_bits(conn, "bits", &[1, 9, 100, 20000]);
        let elements: Vec<String> = (0..500).map(|i| format!("e{i}")).collect();
        let mut pf = vec!["PFADD", "big"];
        pf.extend(elements.iter().map(String::as_str));
        int(conn, &pf);
        int(conn, &["PFADD", "small", "a", "b", "c"]);
    }
    // Basalt -> redis-server.
    restore(&mut r, "bits:b", &dump(&mut c, "bits"));
    assert_eq!(
        bytes(&mut r, &["GET", "bits:b"]),
        bytes(&mut c, &["GET", "bits"])
    );
    assert_eq!(int(&mut r, &["BITCOUNT", "bits:b"]), 4);
    for key in ["big", "small"] {
        let to = format!("{key}:b");
        restore(&mut r, &to, &dump(&mut c, key));
        assert_eq!(
            int(&mut r, &["PFCOUNT", &to]),
            int(&mut c, &["PFCOUNT", key]),
            "{key}"
        );
    }
    // redis-server -> Basalt (Redis dumps small HyperLogLogs sparse).
    restore(&mut c, "bits:r", &dump(&mut r, "bits"));
    assert_eq!(
        bytes(&mut c, &["GET", "bits:r"]),
        bytes(&mut r, &["GET", "bits"])
    );
    assert_eq!(int(&mut c, &["BITPOS", "bits:r", "1", "2"]), 100);
    for key in ["big", "small"] {
        let to = format!("{key}:r");
        restore(&mut c, &to, &dump(&mut r, key));
        assert_eq!(
            int(&mut c, &["PFCOUNT", &to]),
            int(&mut r, &["PFCOUNT", key]),
            "{key}"
        );
        assert_eq!(int(&mut c, &["PFADD", &to, "new-element"]), 1);
    }
}

/// The parts of a stream both servers must agree on after a RESTORE:
/// entries, ids and counters, and each group's position, pending entries
/// (owner and delivery count) and consumers (idle times left out).
fn stream_snapshot(c: &mut Connection, key: &str) -> Vec<String> {
    use basalt_tests::client::show;
    let field = |v: &Value, name: &str| -> String {
        let Value::Array(items) = v else {
            panic!("not a flat map: {v:?}")
        };
        let at = items
            .chunks(2)
            .find(|kv| show(&kv[0]) == name)
            .unwrap_or_else(|| panic!("no {name} in {v:?}"));
        show(&at[1])
    };
    let mut out = vec![show(&value(c, &["XRANGE", key, "-", "+"]))];
    let info = value(c, &["XINFO", "STREAM", key]);
    for f in [
        "length",
        "last-generated-id",
        "max-deleted-entry-id",
        "entries-added",
        "recorded-first-entry-id",
        "groups",
    ] {
        out.push(format!("{f}={}", field(&info, f)));
    }
    let Value::Array(groups) = value(c, &["XINFO", "GROUPS", key]) else {
        panic!()
    };
    for g in &groups {
        let name = field(g, "name");
        for f in [
            "consumers",
            "pending",
            "last-delivered-id",
            "entries-read",
            "lag",
        ] {
            out.push(format!("{name}.{f}={}", field(g, f)));
        }
        let Value::Array(pending) = value(c, &["XPENDING", key, &name, "-", "+", "100"]) else {
            panic!()
        };
        for p in pending {
            let Value::Array(p) = p else { panic!() };
            out.push(format!(
                "{name} pel {} {} {}",
                show(&p[0]),
                show(&p[1]),
                show(&p[3])
            ));
        }
        let Value::Array(consumers) = value(c, &["XINFO", "CONSUMERS", key, &name]) else {
            panic!()
        };
        for cons in &consumers {
            out.push(format!(
                "{name} consumer {} {}",
                field(cons, "name"),
                field(cons, "pending")
            ));
        }
    }
    out
}

fn build_stream(c: &mut Connection) {
    for i in 1..=250 {
        let id = format!("{}-{}", 1000 + i / 7, i % 7);
        if i % 3 == 0 {
            q::<()>(c, &["XADD", "s", &id, "a", &i.to_string(), "b", "x"]);
        } else {
            q::<()>(
                c,
                &[
                    "XADD",
                    "s",
                    &id,
                    "other",
                    &format!("v{i}"),
                    "n",
                    "-5000000000",
                ],
            );
        }
    }
    q::<()>(c, &["XDEL", "s", "1001-0", "1010-3"]);
    q::<()>(c, &["XTRIM", "s", "MINID", "1002-0"]);
    q::<()>(c, &["XGROUP", "CREATE", "s", "g1", "0"]);
    q::<()>(
        c,
        &["XGROUP", "CREATE", "s", "g2", "1020-0", "ENTRIESREAD", "5"],
    );
    q::<()>(c, &["XGROUP", "CREATECONSUMER", "s", "g2", "idle"]);
    q::<()>(
        c,
        &[
            "XREADGROUP",
            "GROUP",
            "g1",
            "alice",
            "COUNT",
            "3",
            "STREAMS",
            "s",
            ">",
        ],
    );
    q::<()>(
        c,
        &[
            "XREADGROUP",
            "GROUP",
            "g1",
            "bob",
            "COUNT",
            "2",
            "STREAMS",
            "s",
            ">",
        ],
    );
    q::<()>(
        c,
        &[
            "XREADGROUP",
            "GROUP",
            "g1",
            "alice",
            "COUNT",
            "1",
            "STREAMS",
            "s",
            "0",
        ],
    );
    q::<()>(c, &["XACK", "s", "g1", "1002-1"]);
    q::<()>(c, &["XCLAIM", "s", "g1", "bob", "0", "1002-2"]);
    q::<()>(c, &["XADD", "empty", "5-5", "f", "v"]);
    q::<()>(c, &["XDEL", "empty", "5-5"]);
}

#[test]
fn bitmap_stream_dump_restore_with_redis_server() {
    let server = Server::start();
    let redis = Server::start_redis();
    let mut c = server.client();
    let mut r = redis.client();
    build_stream(&mut c);
    build_stream(&mut r);
    for key in ["s", "empty"] {
        let expected = stream_snapshot(&mut r, key);
        assert_eq!(stream_snapshot(&mut c, key), expected, "{key}");
        // redis-server -> the server under test, and back.
        let to = format!("{key}:r");
        restore(&mut c, &to, &dump(&mut r, key));
        assert_eq!(stream_snapshot(&mut c, &to), expected, "{key} from redis");
        let back = format!("{key}:b");
        restore(&mut r, &back, &dump(&mut c, key));
        assert_eq!(stream_snapshot(&mut r, &back), expected, "{key} to redis");
        assert_eq!(q::<String>(&mut c, &["TYPE", &to]), "stream");
    }
    // The restored stream goes on working: ids continue after the last one.
    assert_eq!(
        reply(&mut c, &["XADD", "s:r", "1000-0", "f", "v"]),
        reply(&mut r, &["XADD", "s", "1000-0", "f", "v"])
    );
    let next: String = q(&mut c, &["XADD", "s:r", "*", "f", "v"]);
    assert!(next.split('-').next().unwrap().parse::<u64>().unwrap() > 1035);
    assert_eq!(
        reply(
            &mut c,
            &[
                "XREADGROUP",
                "GROUP",
                "g1",
                "carol",
                "COUNT",
                "1",
                "STREAMS",
                "s:r",
                ">"
            ]
        )
        .replace("s:r", "s"),
        reply(
            &mut r,
            &[
                "XREADGROUP",
                "GROUP",
                "g1",
                "carol",
                "COUNT",
                "1",
                "STREAMS",
                "s",
                ">"
            ]
        )
    );
}
