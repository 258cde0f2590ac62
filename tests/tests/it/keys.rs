//! Keyspace commands: DEL UNLINK EXISTS TYPE RENAME RENAMENX COPY TOUCH KEYS
//! SCAN RANDOMKEY DBSIZE FLUSHDB FLUSHALL. Replies and error texts are Redis
//! 7.2's (checked with `BASALT_TEST_AGAINST=redis`).

use basalt_tests::client::{err, int, q};
use basalt_tests::Server;
use redis::{Connection, Value};
use std::collections::{BTreeSet, HashMap};

// ---------------------------------------------------------------- helpers --

/// Runs a command that must reply +OK.
fn ok(c: &mut Connection, args: &[&str]) {
    let v: Value = q(c, args);
    assert!(
        matches!(&v, Value::Okay) || matches!(&v, Value::SimpleString(s) if s == "OK"),
        "{args:?}: expected OK, got {v:?}"
    );
}

fn get(c: &mut Connection, key: &str) -> Option<String> {
    q(c, &["GET", key])
}

fn set(c: &mut Connection, key: &str, value: &str) {
    ok(c, &["SET", key, value]);
}

/// KEYS pattern, sorted.
fn keys(c: &mut Connection, pattern: &str) -> Vec<String> {
    let mut v: Vec<String> = q(c, &["KEYS", pattern]);
    v.sort();
    v
}

fn sorted(v: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = v.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

/// Iterates SCAN from cursor 0 back to 0 with the extra arguments; returns
/// how many times each key was returned and the number of calls.
fn scan_all(c: &mut Connection, extra: &[&str]) -> (HashMap<String, usize>, usize) {
    let mut seen = HashMap::new();
    let mut cursor = "0".to_string();
    let mut calls = 0;
    loop {
        let mut args = vec!["SCAN", cursor.as_str()];
        args.extend_from_slice(extra);
        let (next, batch): (String, Vec<String>) = q(c, &args);
        calls += 1;
        assert!(
            next.parse::<u64>().is_ok(),
            "SCAN cursor {next:?} is not an unsigned 64-bit number"
        );
        for k in batch {
            *seen.entry(k).or_insert(0) += 1;
        }
        if next == "0" {
            return (seen, calls);
        }
        assert!(calls < 100_000, "SCAN does not terminate");
        cursor = next;
    }
}

fn assert_each_once(seen: &HashMap<String, usize>, want: &BTreeSet<String>) {
    let got: BTreeSet<String> = seen.keys().cloned().collect();
    assert_eq!(&got, want, "SCAN returned a different key set");
    let dups: Vec<_> = seen.iter().filter(|(_, &n)| n != 1).collect();
    assert!(dups.is_empty(), "keys returned more than once: {dups:?}");
}

const SYNTAX: &str = "ERR syntax error";

// -------------------------------------------------- DEL UNLINK EXISTS --

#[test]
fn del_unlink_exists() {
    let server = Server::start();
    let c = &mut server.client();
    for k in ["a", "b", "c", "d", "e"] {
        set(c, k, "v");
    }

    assert_eq!(int(c, &["EXISTS", "a"]), 1);
    assert_eq!(int(c, &["EXISTS", "missing"]), 0);
    // duplicates are counted
    assert_eq!(int(c, &["EXISTS", "a", "a", "b", "missing", "a"]), 4);

    assert_eq!(int(c, &["DEL", "a"]), 1);
    assert_eq!(int(c, &["DEL", "a"]), 0);
    assert_eq!(int(c, &["EXISTS", "a"]), 0);
    assert_eq!(get(c, "a"), None);
    // several, with duplicates and missing keys: each key counted once
    assert_eq!(int(c, &["DEL", "b", "b", "missing", "c"]), 2);
    assert_eq!(int(c, &["EXISTS", "b", "c"]), 0);

    assert_eq!(int(c, &["UNLINK", "d", "d", "nope", "e"]), 2);
    assert_eq!(int(c, &["UNLINK", "d"]), 0);
    assert_eq!(int(c, &["DBSIZE"]), 0);

    // deleted keys can be recreated
    set(c, "a", "again");
    assert_eq!(get(c, "a").as_deref(), Some("again"));
    assert_eq!(int(c, &["DEL", "a", "a"]), 1);

    // a key with a TTL: DEL removes it and its TTL
    ok(c, &["SET", "t", "v", "EX", "100"]);
    assert_eq!(int(c, &["DEL", "t"]), 1);
    set(c, "t", "v");
    assert_eq!(int(c, &["TTL", "t"]), -1);

    for name in ["del", "unlink", "exists"] {
        assert_eq!(
            err(c, &[name]),
            format!("ERR wrong number of arguments for '{name}' command")
        );
    }
}

#[test]
fn type_and_touch() {
    let server = Server::start();
    let c = &mut server.client();
    set(c, "s", "v");
    set(c, "e", "");
    ok(c, &["SET", "n", "12"]);

    assert_eq!(q::<String>(c, &["TYPE", "s"]), "string");
    assert_eq!(q::<String>(c, &["TYPE", "e"]), "string");
    // integers are strings
    assert_eq!(q::<String>(c, &["TYPE", "n"]), "string");
    assert_eq!(q::<String>(c, &["TYPE", "missing"]), "none");
    // a status reply, not a bulk string
    let v: Value = q(c, &["TYPE", "s"]);
    assert!(
        matches!(&v, Value::SimpleString(s) if s == "string"),
        "TYPE reply is {v:?}"
    );
    assert_eq!(
        err(c, &["TYPE"]),
        "ERR wrong number of arguments for 'type' command"
    );
    assert_eq!(
        err(c, &["TYPE", "a", "b"]),
        "ERR wrong number of arguments for 'type' command"
    );

    // TOUCH counts existing keys (duplicates too) and changes nothing
    assert_eq!(int(c, &["TOUCH", "s"]), 1);
    assert_eq!(int(c, &["TOUCH", "s", "missing", "e", "s"]), 3);
    assert_eq!(int(c, &["TOUCH", "missing"]), 0);
    assert_eq!(int(c, &["EXISTS", "missing"]), 0);
    assert_eq!(get(c, "s").as_deref(), Some("v"));
    assert_eq!(
        err(c, &["TOUCH"]),
        "ERR wrong number of arguments for 'touch' command"
    );
}

// ------------------------------------------------- RENAME RENAMENX COPY --

#[test]
fn rename() {
    let server = Server::start();
    let c = &mut server.client();

    assert_eq!(err(c, &["RENAME", "missing", "x"]), "ERR no such key");
    assert_eq!(err(c, &["RENAME", "missing", "missing"]), "ERR no such key");
    assert_eq!(int(c, &["EXISTS", "x"]), 0);

    set(c, "a", "1");
    ok(c, &["RENAME", "a", "b"]);
    assert_eq!(get(c, "a"), None);
    assert_eq!(get(c, "b").as_deref(), Some("1"));

    // onto itself: OK, nothing changes
    ok(c, &["RENAME", "b", "b"]);
    assert_eq!(get(c, "b").as_deref(), Some("1"));

    // overwrites the destination, and the destination's TTL
    ok(c, &["SET", "dst", "old", "EX", "500"]);
    ok(c, &["RENAME", "b", "dst"]);
    assert_eq!(get(c, "dst").as_deref(), Some("1"));
    assert_eq!(int(c, &["TTL", "dst"]), -1);
    assert_eq!(int(c, &["EXISTS", "b"]), 0);

    // the TTL moves with the key
    ok(c, &["SET", "t", "v", "PX", "100000"]);
    ok(c, &["RENAME", "t", "t2"]);
    let pttl = int(c, &["PTTL", "t2"]);
    assert!((95_000..=100_000).contains(&pttl), "pttl {pttl}");
    assert_eq!(int(c, &["PTTL", "t"]), -2);
    // and stays put when renaming onto itself
    ok(c, &["RENAME", "t2", "t2"]);
    let pttl = int(c, &["PTTL", "t2"]);
    assert!((95_000..=100_000).contains(&pttl), "pttl {pttl}");

    // binary-safe names
    set(c, "x\0y", "bin");
    ok(c, &["RENAME", "x\0y", "x\0z"]);
    assert_eq!(get(c, "x\0z").as_deref(), Some("bin"));
    assert_eq!(int(c, &["EXISTS", "x\0y", "x"]), 0);

    assert_eq!(int(c, &["DBSIZE"]), 3);
    assert_eq!(
        err(c, &["RENAME", "dst"]),
        "ERR wrong number of arguments for 'rename' command"
    );
}

#[test]
fn renamenx() {
    let server = Server::start();
    let c = &mut server.client();

    assert_eq!(err(c, &["RENAMENX", "missing", "x"]), "ERR no such key");

    set(c, "a", "1");
    set(c, "b", "2");
    assert_eq!(int(c, &["RENAMENX", "a", "b"]), 0);
    assert_eq!(get(c, "a").as_deref(), Some("1"));
    assert_eq!(get(c, "b").as_deref(), Some("2"));

    assert_eq!(int(c, &["EXPIRE", "a", "100"]), 1);
    assert_eq!(int(c, &["RENAMENX", "a", "c"]), 1);
    assert_eq!(get(c, "a"), None);
    assert_eq!(get(c, "c").as_deref(), Some("1"));
    let ttl = int(c, &["TTL", "c"]);
    assert!((95..=100).contains(&ttl), "ttl {ttl}");

    // onto itself: the destination exists
    assert_eq!(int(c, &["RENAMENX", "c", "c"]), 0);
    assert_eq!(get(c, "c").as_deref(), Some("1"));
    assert_eq!(
        err(c, &["RENAMENX", "c"]),
        "ERR wrong number of arguments for 'renamenx' command"
    );
}

#[test]
fn copy() {
    let server = Server::start();
    let c = &mut server.client();

    assert_eq!(int(c, &["COPY", "missing", "dst"]), 0);
    assert_eq!(int(c, &["EXISTS", "dst"]), 0);

    set(c, "src", "hello");
    assert_eq!(int(c, &["COPY", "src", "dst"]), 1);
    assert_eq!(get(c, "dst").as_deref(), Some("hello"));
    assert_eq!(get(c, "src").as_deref(), Some("hello"));
    // the copy is independent
    assert_eq!(int(c, &["APPEND", "dst", "!"]), 6);
    assert_eq!(get(c, "src").as_deref(), Some("hello"));

    // existing destination: 0 unless REPLACE
    set(c, "src", "v2");
    assert_eq!(int(c, &["COPY", "src", "dst"]), 0);
    assert_eq!(get(c, "dst").as_deref(), Some("hello!"));
    assert_eq!(int(c, &["COPY", "src", "dst", "REPLACE"]), 1);
    assert_eq!(get(c, "dst").as_deref(), Some("v2"));
    assert_eq!(int(c, &["COPY", "src", "dst", "replace"]), 1);
    // REPLACE with a missing source leaves the destination
    assert_eq!(int(c, &["COPY", "missing", "dst", "REPLACE"]), 0);
    assert_eq!(get(c, "dst").as_deref(), Some("v2"));

    // TTL is copied; REPLACE drops the old destination's TTL
    ok(c, &["SET", "t", "v", "EX", "100"]);
    assert_eq!(int(c, &["COPY", "t", "t2"]), 1);
    let ttl = int(c, &["TTL", "t2"]);
    assert!((95..=100).contains(&ttl), "ttl {ttl}");
    ok(c, &["SET", "d3", "x", "EX", "1000"]);
    assert_eq!(int(c, &["COPY", "src", "d3", "REPLACE"]), 1);
    assert_eq!(int(c, &["TTL", "d3"]), -1);

    // DB 0 is the current database
    assert_eq!(int(c, &["COPY", "src", "d0", "DB", "0"]), 1);
    assert_eq!(get(c, "d0").as_deref(), Some("v2"));
    assert_eq!(int(c, &["COPY", "src", "d0", "DB", "0", "REPLACE"]), 1);

    assert_eq!(
        err(c, &["COPY", "src", "src"]),
        "ERR source and destination objects are the same"
    );
    assert_eq!(err(c, &["COPY", "src", "x", "FOO"]), SYNTAX);
    assert_eq!(err(c, &["COPY", "src", "x", "DB"]), SYNTAX);
    assert_eq!(
        err(c, &["COPY", "src", "x", "DB", "abc"]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(int(c, &["EXISTS", "x"]), 0);
    assert_eq!(
        err(c, &["COPY", "src"]),
        "ERR wrong number of arguments for 'copy' command"
    );
}

#[test]
fn copy_to_other_db_is_refused() {
    // Redis has 16 databases, Basalt only db 0.
    basalt_tests::skip_on_redis!();
    let server = Server::start();
    let c = &mut server.client();
    set(c, "src", "v");
    let e = err(c, &["COPY", "src", "dst", "DB", "1"]);
    assert!(e.starts_with("ERR "), "{e}");
    assert_eq!(int(c, &["EXISTS", "dst"]), 0);
    assert_eq!(int(c, &["DBSIZE"]), 1);
}

// ------------------------------------------------------------ KEYS SCAN --

const GLOB_KEYS: &[&str] = &[
    "hello", "hallo", "hbllo", "hcllo", "hxllo", "hllo", "heeeello", "Hello", "a*b", "a?b", "axb",
    "a\\b", "k[1]", "k1", "x", "",
];

#[test]
fn keys_glob_patterns() {
    let server = Server::start();
    let c = &mut server.client();
    assert_eq!(keys(c, "*"), Vec::<String>::new());
    for k in GLOB_KEYS {
        set(c, k, "v");
    }

    let cases: &[(&str, &[&str])] = &[
        ("*", GLOB_KEYS),
        ("h?llo", &["hello", "hallo", "hbllo", "hcllo", "hxllo"]),
        (
            "h*llo",
            &[
                "hello", "hallo", "hbllo", "hcllo", "hxllo", "hllo", "heeeello",
            ],
        ),
        ("h[ae]llo", &["hello", "hallo"]),
        ("h[^e]llo", &["hallo", "hbllo", "hcllo", "hxllo"]),
        ("h[a-c]llo", &["hallo", "hbllo", "hcllo"]),
        // a reversed range is the same range
        ("h[c-a]llo", &["hallo", "hbllo", "hcllo"]),
        ("h[^a-c]llo", &["hello", "hxllo"]),
        // case-sensitive
        ("H*", &["Hello"]),
        ("hello", &["hello"]),
        ("hello*", &["hello"]),
        (
            "*llo",
            &[
                "hello", "hallo", "hbllo", "hcllo", "hxllo", "hllo", "heeeello", "Hello",
            ],
        ),
        // escapes
        ("a\\*b", &["a*b"]),
        ("a\\?b", &["a?b"]),
        ("a*b", &["a*b", "a?b", "axb", "a\\b"]),
        ("a?b", &["a*b", "a?b", "axb", "a\\b"]),
        ("a\\\\b", &["a\\b"]),
        ("k\\[1\\]", &["k[1]"]),
        ("k[[]1]", &["k[1]"]),
        ("k?", &["k1"]),
        ("k*", &["k[1]", "k1"]),
        ("?", &["x"]),
        ("??", &["k1"]),
        ("???", &["a*b", "a?b", "axb", "a\\b"]),
        ("nomatch*", &[]),
        ("x*", &["x"]),
        ("*x*", &["hxllo", "axb", "x"]),
    ];
    for (pattern, want) in cases {
        assert_eq!(keys(c, pattern), sorted(want), "KEYS {pattern:?}");
    }
    assert_eq!(
        err(c, &["KEYS"]),
        "ERR wrong number of arguments for 'keys' command"
    );
}

#[test]
fn scan_full_iteration() {
    let server = Server::start();
    let c = &mut server.client();

    // empty keyspace: one call, cursor 0, no keys
    let (seen, calls) = scan_all(c, &[]);
    assert!(seen.is_empty());
    assert_eq!(calls, 1);

    let mut want = BTreeSet::new();
    let mut mset = redis::cmd("MSET");
    for i in 0..1000 {
        let k = format!("key:{i}");
        mset.arg(&k).arg(i);
        want.insert(k);
    }
    let _: () = mset.query(c).unwrap();

    // default COUNT
    let (seen, _) = scan_all(c, &[]);
    assert_each_once(&seen, &want);
    // small COUNT: several calls
    let (seen, calls) = scan_all(c, &["COUNT", "7"]);
    assert_each_once(&seen, &want);
    assert!(calls > 10, "COUNT 7 over 1000 keys took only {calls} calls");
    // big COUNT
    let (seen, _) = scan_all(c, &["COUNT", "100000"]);
    assert_each_once(&seen, &want);

    // deleting keys during an iteration: the rest are still all returned
    let (first, batch): (String, Vec<String>) = q(c, &["SCAN", "0", "COUNT", "50"]);
    assert!(!batch.is_empty() && first != "0");
    for i in 0..100 {
        let _: i64 = q(c, &["DEL", &format!("key:{i}")]);
    }
    let mut cursor = first;
    let mut rest = BTreeSet::new();
    while cursor != "0" {
        let (next, batch): (String, Vec<String>) = q(c, &["SCAN", &cursor, "COUNT", "50"]);
        rest.extend(batch);
        cursor = next;
    }
    let seen_all: BTreeSet<String> = rest.union(&batch.into_iter().collect()).cloned().collect();
    for i in 100..1000 {
        assert!(seen_all.contains(&format!("key:{i}")), "key:{i} missed");
    }

    assert_eq!(err(c, &["SCAN", "abc"]), "ERR invalid cursor");
    assert_eq!(err(c, &["SCAN", "1x"]), "ERR invalid cursor");
    assert_eq!(
        err(c, &["SCAN", "18446744073709551616"]),
        "ERR invalid cursor"
    );
    // any unsigned 64-bit cursor is accepted
    let (next, _): (String, Vec<String>) = q(c, &["SCAN", "18446744073709551615"]);
    assert!(next.parse::<u64>().is_ok(), "cursor {next:?}");
    assert_eq!(
        err(c, &["SCAN"]),
        "ERR wrong number of arguments for 'scan' command"
    );
}

#[test]
fn scan_match_count_type() {
    let server = Server::start();
    let c = &mut server.client();

    let mut users = BTreeSet::new();
    let mut mset = redis::cmd("MSET");
    for i in 0..300 {
        let u = format!("user:{i}");
        mset.arg(&u).arg("x");
        users.insert(u);
        mset.arg(format!("item:{i}")).arg("y");
    }
    for k in ["h?llo", "hello", "hallo", "a*b"] {
        mset.arg(k).arg("z");
    }
    let _: () = mset.query(c).unwrap();

    let (seen, _) = scan_all(c, &["MATCH", "user:*"]);
    assert_each_once(&seen, &users);
    let (seen, _) = scan_all(c, &["MATCH", "user:*", "COUNT", "20"]);
    assert_each_once(&seen, &users);
    let (seen, _) = scan_all(c, &["COUNT", "20", "MATCH", "user:*"]);
    assert_each_once(&seen, &users);

    let want: BTreeSet<String> = (0..10).map(|i| format!("user:{i}")).collect();
    let (seen, _) = scan_all(c, &["MATCH", "user:?", "COUNT", "1000"]);
    assert_each_once(&seen, &want);
    let want: BTreeSet<String> = ["hello", "hallo"].iter().map(|s| s.to_string()).collect();
    let (seen, _) = scan_all(c, &["MATCH", "h[ae]llo"]);
    assert_each_once(&seen, &want);
    let want: BTreeSet<String> = ["h?llo".to_string()].into();
    let (seen, _) = scan_all(c, &["MATCH", "h\\?llo"]);
    assert_each_once(&seen, &want);
    let (seen, _) = scan_all(c, &["MATCH", "nothing*"]);
    assert!(seen.is_empty());

    // TYPE: every key is a string
    let total = 604;
    let (seen, _) = scan_all(c, &["TYPE", "string"]);
    assert_eq!(seen.len(), total);
    let (seen, _) = scan_all(c, &["type", "STRING", "COUNT", "100"]);
    assert_eq!(seen.len(), total);
    let (seen, _) = scan_all(c, &["TYPE", "string", "MATCH", "user:*"]);
    assert_each_once(&seen, &users);
    for other in ["hash", "list", "set", "zset", "stream"] {
        let (seen, _) = scan_all(c, &["TYPE", other]);
        assert!(seen.is_empty(), "TYPE {other} returned {seen:?}");
    }

    assert_eq!(err(c, &["SCAN", "0", "COUNT", "0"]), SYNTAX);
    assert_eq!(err(c, &["SCAN", "0", "COUNT", "-1"]), SYNTAX);
    assert_eq!(
        err(c, &["SCAN", "0", "COUNT", "abc"]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(err(c, &["SCAN", "0", "COUNT"]), SYNTAX);
    assert_eq!(err(c, &["SCAN", "0", "MATCH"]), SYNTAX);
    assert_eq!(err(c, &["SCAN", "0", "FOO", "bar"]), SYNTAX);
}

// ---------------------------------------------- RANDOMKEY DBSIZE FLUSH* --

#[test]
fn randomkey_and_dbsize() {
    let server = Server::start();
    let c = &mut server.client();

    assert_eq!(q::<Option<String>>(c, &["RANDOMKEY"]), None);
    assert_eq!(int(c, &["DBSIZE"]), 0);

    set(c, "only", "v");
    assert_eq!(
        q::<Option<String>>(c, &["RANDOMKEY"]).as_deref(),
        Some("only")
    );
    assert_eq!(int(c, &["DBSIZE"]), 1);

    let all: BTreeSet<String> = (0..20).map(|i| format!("k{i}")).collect();
    for k in &all {
        set(c, k, "v");
    }
    set(c, "only", "overwritten");
    assert_eq!(int(c, &["DBSIZE"]), 21);
    // 300 draws over 21 keys: a fair pick sees nearly all of them
    let mut picked: HashMap<String, usize> = HashMap::new();
    for _ in 0..300 {
        let k: Option<String> = q(c, &["RANDOMKEY"]);
        let k = k.expect("RANDOMKEY returned nil on a non-empty db");
        assert!(k == "only" || all.contains(&k), "unknown key {k}");
        *picked.entry(k).or_insert(0) += 1;
    }
    assert!(
        picked.len() >= 10,
        "RANDOMKEY is far from uniform over 21 keys: {picked:?}"
    );

    let _: i64 = q(c, &["DEL", "only", "k0", "k1"]);
    assert_eq!(int(c, &["DBSIZE"]), 18);
    for _ in 0..30 {
        let k: String = q(c, &["RANDOMKEY"]);
        assert!(!["only", "k0", "k1"].contains(&k.as_str()), "deleted {k}");
    }

    assert_eq!(
        err(c, &["DBSIZE", "x"]),
        "ERR wrong number of arguments for 'dbsize' command"
    );
    assert_eq!(
        err(c, &["RANDOMKEY", "x"]),
        "ERR wrong number of arguments for 'randomkey' command"
    );
}

#[test]
fn flushdb_flushall() {
    let server = Server::start();
    let c = &mut server.client();
    let fill = |c: &mut Connection| {
        let mut mset = redis::cmd("MSET");
        for i in 0..100 {
            mset.arg(format!("k{i}")).arg(i);
        }
        let _: () = mset.query(c).unwrap();
        ok(c, &["SET", "t", "v", "EX", "100"]);
        assert_eq!(int(c, &["DBSIZE"]), 101);
    };

    // an empty database flushes fine
    ok(c, &["FLUSHDB"]);

    for args in [
        &["FLUSHDB"][..],
        &["FLUSHDB", "SYNC"],
        &["FLUSHDB", "ASYNC"],
        &["flushdb", "async"],
        &["FLUSHALL"],
        &["FLUSHALL", "SYNC"],
        &["FLUSHALL", "ASYNC"],
    ] {
        fill(c);
        ok(c, args);
        assert_eq!(int(c, &["DBSIZE"]), 0, "{args:?}");
        assert_eq!(get(c, "k5"), None, "{args:?}");
        assert_eq!(int(c, &["EXISTS", "t"]), 0, "{args:?}");
        assert_eq!(keys(c, "*"), Vec::<String>::new(), "{args:?}");
        assert_eq!(q::<Option<String>>(c, &["RANDOMKEY"]), None);
        // writes after a flush work and old TTLs do not come back
        set(c, "t", "new");
        assert_eq!(int(c, &["TTL", "t"]), -1);
        assert_eq!(int(c, &["INCR", "k1"]), 1);
        ok(c, &["FLUSHDB"]);
    }

    assert_eq!(err(c, &["FLUSHDB", "FOO"]), SYNTAX);
    assert_eq!(err(c, &["FLUSHALL", "FOO"]), SYNTAX);
    assert_eq!(err(c, &["FLUSHALL", "SYNC", "ASYNC"]), SYNTAX);
}

#[test]
fn object_encoding_and_introspection() {
    let server = Server::start();
    let c = &mut server.client();
    set(c, "n", "12345");
    set(c, "s", "short");
    set(c, "long", &"x".repeat(100));
    let enc = |c: &mut Connection, k: &str| q::<Option<String>>(c, &["OBJECT", "ENCODING", k]);
    assert_eq!(enc(c, "n").as_deref(), Some("int"));
    assert_eq!(enc(c, "s").as_deref(), Some("embstr"));
    assert_eq!(enc(c, "long").as_deref(), Some("raw"));
    assert_eq!(enc(c, "missing"), None);
    assert_eq!(int(c, &["OBJECT", "REFCOUNT", "s"]), 1);
    assert!(int(c, &["OBJECT", "IDLETIME", "s"]) >= 0);
    assert!(
        err(c, &["OBJECT", "FREQ", "s"]).starts_with("ERR An LFU maxmemory policy is not selected")
    );
    assert!(err(c, &["OBJECT", "NOPE", "s"]).starts_with("ERR unknown subcommand 'NOPE'"));
    assert_eq!(
        err(c, &["OBJECT", "ENCODING"]),
        "ERR wrong number of arguments for 'object|encoding' command"
    );
    let help: Vec<String> = q(c, &["OBJECT", "HELP"]);
    assert!(help.len() > 4);
}
