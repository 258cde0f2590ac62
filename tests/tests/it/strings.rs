//! String commands: GET SET (and options) SETNX SETEX PSETEX GETSET GETDEL
//! GETEX MGET MSET MSETNX APPEND STRLEN GETRANGE SUBSTR SETRANGE INCR DECR
//! INCRBY DECRBY INCRBYFLOAT LCS, Kvrocks' CAS and CAD. Replies and error
//! texts are Redis 7.2's (checked with `BASALT_TEST_AGAINST=redis`).

use basalt_tests::client::{err, int, q};
use basalt_tests::Server;
use redis::{Connection, Value};
use std::time::{SystemTime, UNIX_EPOCH};

// ---------------------------------------------------------------- helpers --

/// Runs a command and renders its reply (see [`show`]).
fn r(c: &mut Connection, args: &[&str]) -> String {
    show(&q::<Value>(c, args))
}

/// Runs a command that must reply +OK.
fn ok(c: &mut Connection, args: &[&str]) {
    assert_eq!(r(c, args), "OK", "{args:?}");
}

/// A compact rendering of a reply: nil, 12, "bulk", OK (status), [a,b].
fn show(v: &Value) -> String {
    match v {
        Value::Nil => "nil".into(),
        Value::Int(i) => i.to_string(),
        Value::BulkString(b) => format!("{:?}", String::from_utf8_lossy(b)),
        Value::SimpleString(s) => s.clone(),
        Value::Okay => "OK".into(),
        Value::Array(items) | Value::Set(items) => {
            let parts: Vec<String> = items.iter().map(show).collect();
            format!("[{}]", parts.join(","))
        }
        Value::Map(kv) => {
            let parts: Vec<String> = kv
                .iter()
                .map(|(k, v)| format!("{}:{}", show(k), show(v)))
                .collect();
            format!("{{{}}}", parts.join(","))
        }
        Value::Double(d) => d.to_string(),
        Value::Boolean(b) => b.to_string(),
        other => format!("{other:?}"),
    }
}

fn get(c: &mut Connection, key: &str) -> Option<String> {
    q(c, &["GET", key])
}

fn ttl(c: &mut Connection, key: &str) -> i64 {
    q(c, &["TTL", key])
}

fn pttl(c: &mut Connection, key: &str) -> i64 {
    q(c, &["PTTL", key])
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn assert_between(what: &str, v: i64, lo: i64, hi: i64) {
    assert!(lo <= v && v <= hi, "{what} = {v}, expected {lo}..={hi}");
}

const NOT_INT: &str = "ERR value is not an integer or out of range";
const SYNTAX: &str = "ERR syntax error";

// ------------------------------------------------------------- GET / SET --

#[test]
fn get_set_basics_and_arity() {
    let server = Server::start();
    let c = &mut server.client();

    assert_eq!(r(c, &["GET", "missing"]), "nil");
    ok(c, &["SET", "k", "v1"]);
    assert_eq!(r(c, &["GET", "k"]), "\"v1\"");
    ok(c, &["SET", "k", "v2"]);
    assert_eq!(get(c, "k").as_deref(), Some("v2"));

    // the empty string is a value, not a missing key
    ok(c, &["SET", "empty", ""]);
    assert_eq!(r(c, &["GET", "empty"]), "\"\"");
    assert_eq!(q::<i64>(c, &["EXISTS", "empty"]), 1);
    assert_eq!(q::<i64>(c, &["STRLEN", "empty"]), 0);

    // option names are case-insensitive, command names too
    ok(c, &["set", "k", "v3", "ex", "100"]);
    assert_eq!(r(c, &["get", "k"]), "\"v3\"");

    assert_eq!(
        err(c, &["GET"]),
        "ERR wrong number of arguments for 'get' command"
    );
    assert_eq!(
        err(c, &["GET", "a", "b"]),
        "ERR wrong number of arguments for 'get' command"
    );
    assert_eq!(
        err(c, &["SET", "k"]),
        "ERR wrong number of arguments for 'set' command"
    );
    assert_eq!(err(c, &["SET", "k", "v", "FOO"]), SYNTAX);
    assert_eq!(err(c, &["SET", "k", "v", "v2"]), SYNTAX);
    // errors do not modify the key
    assert_eq!(get(c, "k").as_deref(), Some("v3"));
}

#[test]
fn set_nx_xx_get() {
    let server = Server::start();
    let c = &mut server.client();

    // NX: only when missing. A refused SET replies nil.
    ok(c, &["SET", "k", "a", "NX"]);
    assert_eq!(r(c, &["SET", "k", "b", "NX"]), "nil");
    assert_eq!(get(c, "k").as_deref(), Some("a"));

    // XX: only when present.
    assert_eq!(r(c, &["SET", "missing", "b", "XX"]), "nil");
    assert_eq!(q::<i64>(c, &["EXISTS", "missing"]), 0);
    ok(c, &["SET", "k", "b", "XX"]);
    assert_eq!(get(c, "k").as_deref(), Some("b"));

    // GET returns the old value (nil when missing) and sets.
    assert_eq!(r(c, &["SET", "k", "c", "GET"]), "\"b\"");
    assert_eq!(get(c, "k").as_deref(), Some("c"));
    assert_eq!(r(c, &["SET", "g", "x", "GET"]), "nil");
    assert_eq!(get(c, "g").as_deref(), Some("x"));

    // NX GET (allowed since 7.0): old value back, nothing written.
    assert_eq!(r(c, &["SET", "k", "d", "NX", "GET"]), "\"c\"");
    assert_eq!(get(c, "k").as_deref(), Some("c"));
    assert_eq!(r(c, &["SET", "n", "d", "NX", "GET"]), "nil");
    assert_eq!(get(c, "n").as_deref(), Some("d"));

    // XX GET: on a missing key nil and no write.
    assert_eq!(r(c, &["SET", "nx2", "d", "XX", "GET"]), "nil");
    assert_eq!(q::<i64>(c, &["EXISTS", "nx2"]), 0);
    assert_eq!(r(c, &["SET", "k", "e", "XX", "GET"]), "\"c\"");
    assert_eq!(get(c, "k").as_deref(), Some("e"));

    // GET with an expire
    assert_eq!(r(c, &["SET", "k", "f", "GET", "EX", "100"]), "\"e\"");
    assert_between("ttl", ttl(c, "k"), 95, 100);

    // NX and XX together
    assert_eq!(err(c, &["SET", "k", "v", "NX", "XX"]), SYNTAX);
    assert_eq!(err(c, &["SET", "k", "v", "XX", "NX"]), SYNTAX);
    assert_eq!(get(c, "k").as_deref(), Some("f"));
}

#[test]
fn set_expire_options() {
    let server = Server::start();
    let c = &mut server.client();

    ok(c, &["SET", "ex", "v", "EX", "100"]);
    assert_between("ttl", ttl(c, "ex"), 95, 100);
    assert_between("pttl", pttl(c, "ex"), 95_000, 100_000);

    ok(c, &["SET", "px", "v", "PX", "50000"]);
    assert_between("pttl", pttl(c, "px"), 45_000, 50_000);
    assert_eq!(ttl(c, "px"), 50);

    let at = now_ms() / 1000 + 200;
    ok(c, &["SET", "exat", "v", "EXAT", &at.to_string()]);
    assert_eq!(q::<i64>(c, &["EXPIRETIME", "exat"]), at);
    assert_between("ttl", ttl(c, "exat"), 195, 200);

    let pat = now_ms() + 300_000;
    ok(c, &["SET", "pxat", "v", "PXAT", &pat.to_string()]);
    assert_eq!(q::<i64>(c, &["PEXPIRETIME", "pxat"]), pat);

    // plain SET drops the TTL, KEEPTTL keeps it
    ok(c, &["SET", "ex", "v2"]);
    assert_eq!(ttl(c, "ex"), -1);
    ok(c, &["SET", "px", "v2", "KEEPTTL"]);
    assert_between("pttl", pttl(c, "px"), 45_000, 50_000);
    assert_eq!(get(c, "px").as_deref(), Some("v2"));
    // a repeated option: the last one wins
    ok(c, &["SET", "rep", "v", "EX", "10", "EX", "20"]);
    assert_between("ttl", ttl(c, "rep"), 15, 20);
    assert_eq!(r(c, &["SET", "rep", "w", "GET", "GET"]), "\"v\"");
    assert_eq!(
        r(c, &["GETEX", "rep", "PX", "10000", "PX", "30000"]),
        "\"w\""
    );
    assert_between("ttl", ttl(c, "rep"), 25, 30);
    // KEEPTTL on a key without TTL, or a missing one: no TTL
    ok(c, &["SET", "nottl", "v", "KEEPTTL"]);
    assert_eq!(ttl(c, "nottl"), -1);

    // XX with an expire, NX with an expire
    ok(c, &["SET", "nottl", "v", "XX", "PX", "80000"]);
    assert_between("pttl", pttl(c, "nottl"), 75_000, 80_000);
    ok(c, &["SET", "fresh", "v", "NX", "EX", "70"]);
    assert_between("ttl", ttl(c, "fresh"), 65, 70);

    // an absolute time in the past: reply OK, key is gone
    ok(c, &["SET", "past", "v"]);
    ok(c, &["SET", "past", "v", "EXAT", "1"]);
    assert_eq!(r(c, &["GET", "past"]), "nil");
    assert_eq!(q::<i64>(c, &["EXISTS", "past"]), 0);
    ok(c, &["SET", "past2", "v", "PXAT", "1000"]);
    assert_eq!(q::<i64>(c, &["EXISTS", "past2"]), 0);
    // with GET, the old value still comes back
    ok(c, &["SET", "past3", "old"]);
    assert_eq!(
        r(c, &["SET", "past3", "new", "GET", "EXAT", "1"]),
        "\"old\""
    );
    assert_eq!(q::<i64>(c, &["EXISTS", "past3"]), 0);
}

#[test]
fn set_invalid_expire() {
    let server = Server::start();
    let c = &mut server.client();
    let bad = "ERR invalid expire time in 'set' command";

    for opt in ["EX", "PX", "EXAT", "PXAT"] {
        assert_eq!(err(c, &["SET", "k", "v", opt, "0"]), bad, "{opt} 0");
        assert_eq!(err(c, &["SET", "k", "v", opt, "-1"]), bad, "{opt} -1");
        assert_eq!(err(c, &["SET", "k", "v", opt, "1.5"]), NOT_INT, "{opt} 1.5");
        assert_eq!(err(c, &["SET", "k", "v", opt, "abc"]), NOT_INT, "{opt} abc");
        // missing value
        assert_eq!(err(c, &["SET", "k", "v", opt]), SYNTAX, "{opt} alone");
    }
    // seconds that overflow when converted to milliseconds
    assert_eq!(err(c, &["SET", "k", "v", "EX", "9223372036854775807"]), bad);
    assert_eq!(
        err(c, &["SET", "k", "v", "EX", "99999999999999999999"]),
        NOT_INT
    );

    // two expire options, or one with KEEPTTL
    assert_eq!(err(c, &["SET", "k", "v", "EX", "10", "PX", "100"]), SYNTAX);
    assert_eq!(
        err(c, &["SET", "k", "v", "EX", "10", "EXAT", "100"]),
        SYNTAX
    );
    assert_eq!(err(c, &["SET", "k", "v", "KEEPTTL", "EX", "10"]), SYNTAX);
    assert_eq!(err(c, &["SET", "k", "v", "PX", "10", "KEEPTTL"]), SYNTAX);

    // nothing was written by any of these
    assert_eq!(q::<i64>(c, &["EXISTS", "k"]), 0);
}

#[test]
fn setnx_setex_psetex() {
    let server = Server::start();
    let c = &mut server.client();

    assert_eq!(q::<i64>(c, &["SETNX", "k", "a"]), 1);
    assert_eq!(q::<i64>(c, &["SETNX", "k", "b"]), 0);
    assert_eq!(get(c, "k").as_deref(), Some("a"));
    assert_eq!(ttl(c, "k"), -1);

    ok(c, &["SETEX", "k", "100", "b"]);
    assert_eq!(get(c, "k").as_deref(), Some("b"));
    assert_between("ttl", ttl(c, "k"), 95, 100);
    // SETNX does not touch the TTL of an existing key
    assert_eq!(q::<i64>(c, &["SETNX", "k", "c"]), 0);
    assert_between("ttl", ttl(c, "k"), 95, 100);

    ok(c, &["PSETEX", "p", "60000", "c"]);
    assert_eq!(get(c, "p").as_deref(), Some("c"));
    assert_between("pttl", pttl(c, "p"), 55_000, 60_000);

    for (name, lower) in [("SETEX", "setex"), ("PSETEX", "psetex")] {
        let bad = format!("ERR invalid expire time in '{lower}' command");
        assert_eq!(err(c, &[name, "e", "0", "v"]), bad);
        assert_eq!(err(c, &[name, "e", "-5", "v"]), bad);
        assert_eq!(err(c, &[name, "e", "abc", "v"]), NOT_INT);
        assert_eq!(err(c, &[name, "e", "1.5", "v"]), NOT_INT);
        assert_eq!(
            err(c, &[name, "e", "10"]),
            format!("ERR wrong number of arguments for '{lower}' command")
        );
    }
    assert_eq!(q::<i64>(c, &["EXISTS", "e"]), 0);
    assert_eq!(
        err(c, &["SETNX", "k"]),
        "ERR wrong number of arguments for 'setnx' command"
    );
}

#[test]
fn getset_getdel() {
    let server = Server::start();
    let c = &mut server.client();

    assert_eq!(r(c, &["GETSET", "k", "a"]), "nil");
    assert_eq!(get(c, "k").as_deref(), Some("a"));
    assert_eq!(q::<i64>(c, &["EXPIRE", "k", "100"]), 1);
    assert_eq!(r(c, &["GETSET", "k", "b"]), "\"a\"");
    assert_eq!(get(c, "k").as_deref(), Some("b"));
    // GETSET drops the TTL like SET does
    assert_eq!(ttl(c, "k"), -1);

    assert_eq!(r(c, &["GETDEL", "k"]), "\"b\"");
    assert_eq!(q::<i64>(c, &["EXISTS", "k"]), 0);
    assert_eq!(r(c, &["GETDEL", "k"]), "nil");
    assert_eq!(r(c, &["GETDEL", "never"]), "nil");

    ok(c, &["SET", "e", ""]);
    assert_eq!(r(c, &["GETDEL", "e"]), "\"\"");
    assert_eq!(q::<i64>(c, &["EXISTS", "e"]), 0);

    assert_eq!(
        err(c, &["GETDEL", "a", "b"]),
        "ERR wrong number of arguments for 'getdel' command"
    );
    assert_eq!(
        err(c, &["GETSET", "a"]),
        "ERR wrong number of arguments for 'getset' command"
    );
}

#[test]
fn getex_options() {
    let server = Server::start();
    let c = &mut server.client();

    assert_eq!(r(c, &["GETEX", "missing"]), "nil");
    assert_eq!(r(c, &["GETEX", "missing", "EX", "10"]), "nil");
    assert_eq!(q::<i64>(c, &["EXISTS", "missing"]), 0);

    ok(c, &["SET", "k", "v"]);
    // without options GETEX is GET
    assert_eq!(r(c, &["GETEX", "k"]), "\"v\"");
    assert_eq!(ttl(c, "k"), -1);

    assert_eq!(r(c, &["GETEX", "k", "EX", "100"]), "\"v\"");
    assert_between("ttl", ttl(c, "k"), 95, 100);
    // no option leaves the TTL alone
    assert_eq!(r(c, &["GETEX", "k"]), "\"v\"");
    assert_between("ttl", ttl(c, "k"), 95, 100);

    assert_eq!(r(c, &["GETEX", "k", "PX", "50000"]), "\"v\"");
    assert_between("pttl", pttl(c, "k"), 45_000, 50_000);

    let at = now_ms() / 1000 + 500;
    assert_eq!(r(c, &["GETEX", "k", "EXAT", &at.to_string()]), "\"v\"");
    assert_eq!(q::<i64>(c, &["EXPIRETIME", "k"]), at);

    let pat = now_ms() + 400_000;
    assert_eq!(r(c, &["GETEX", "k", "PXAT", &pat.to_string()]), "\"v\"");
    assert_eq!(q::<i64>(c, &["PEXPIRETIME", "k"]), pat);

    assert_eq!(r(c, &["getex", "k", "persist"]), "\"v\"");
    assert_eq!(ttl(c, "k"), -1);
    assert_eq!(q::<i64>(c, &["EXPIRETIME", "k"]), -1);

    let bad = "ERR invalid expire time in 'getex' command";
    for opt in ["EX", "PX", "EXAT", "PXAT"] {
        assert_eq!(err(c, &["GETEX", "k", opt, "0"]), bad, "{opt} 0");
        assert_eq!(err(c, &["GETEX", "k", opt, "-1"]), bad, "{opt} -1");
        assert_eq!(err(c, &["GETEX", "k", opt, "x"]), NOT_INT, "{opt} x");
        assert_eq!(err(c, &["GETEX", "k", opt]), SYNTAX, "{opt} alone");
    }
    assert_eq!(err(c, &["GETEX", "k", "EX", "10", "PX", "10"]), SYNTAX);
    assert_eq!(err(c, &["GETEX", "k", "PERSIST", "EX", "10"]), SYNTAX);
    assert_eq!(err(c, &["GETEX", "k", "EX", "10", "PERSIST"]), SYNTAX);
    assert_eq!(err(c, &["GETEX", "k", "KEEPTTL"]), SYNTAX);
    assert_eq!(err(c, &["GETEX", "k", "FOO"]), SYNTAX);
    assert_eq!(ttl(c, "k"), -1);

    // an absolute time in the past: the value comes back, the key is gone
    assert_eq!(r(c, &["GETEX", "k", "EXAT", "1"]), "\"v\"");
    assert_eq!(q::<i64>(c, &["EXISTS", "k"]), 0);
}

// ------------------------------------------------------ MGET / MSET(NX) --

#[test]
fn mget_mset_msetnx() {
    let server = Server::start();
    let c = &mut server.client();

    ok(c, &["MSET", "a", "1", "b", "2", "c", ""]);
    assert_eq!(
        r(c, &["MGET", "a", "missing", "b", "c", "a"]),
        "[\"1\",nil,\"2\",\"\",\"1\"]"
    );
    assert_eq!(r(c, &["MGET", "nope"]), "[nil]");
    // the last of repeated keys wins
    ok(c, &["MSET", "d", "x", "d", "y"]);
    assert_eq!(get(c, "d").as_deref(), Some("y"));
    // MSET drops TTLs
    assert_eq!(q::<i64>(c, &["EXPIRE", "a", "100"]), 1);
    ok(c, &["MSET", "a", "10"]);
    assert_eq!(ttl(c, "a"), -1);

    assert_eq!(
        err(c, &["MSET", "a", "1", "b"]),
        "ERR wrong number of arguments for 'mset' command"
    );
    assert_eq!(
        err(c, &["MSET", "a"]),
        "ERR wrong number of arguments for 'mset' command"
    );
    assert_eq!(
        err(c, &["MSET"]),
        "ERR wrong number of arguments for 'mset' command"
    );
    assert_eq!(
        err(c, &["MGET"]),
        "ERR wrong number of arguments for 'mget' command"
    );
    assert_eq!(get(c, "b").as_deref(), Some("2"));

    // MSETNX: all or nothing
    assert_eq!(q::<i64>(c, &["MSETNX", "n1", "1", "n2", "2"]), 1);
    assert_eq!(r(c, &["MGET", "n1", "n2"]), "[\"1\",\"2\"]");
    assert_eq!(q::<i64>(c, &["MSETNX", "n3", "3", "n1", "x"]), 0);
    assert_eq!(r(c, &["MGET", "n1", "n3"]), "[\"1\",nil]");
    assert_eq!(
        err(c, &["MSETNX", "n4", "1", "n5"]),
        "ERR wrong number of arguments for 'msetnx' command"
    );
    assert_eq!(q::<i64>(c, &["EXISTS", "n4"]), 0);
}

// ------------------------------------------- APPEND STRLEN GETRANGE ... --

#[test]
fn append_strlen() {
    let server = Server::start();
    let c = &mut server.client();

    assert_eq!(q::<i64>(c, &["STRLEN", "k"]), 0);
    assert_eq!(q::<i64>(c, &["APPEND", "k", "Hello"]), 5);
    assert_eq!(q::<i64>(c, &["APPEND", "k", " World"]), 11);
    assert_eq!(get(c, "k").as_deref(), Some("Hello World"));
    assert_eq!(q::<i64>(c, &["STRLEN", "k"]), 11);
    assert_eq!(q::<i64>(c, &["APPEND", "k", ""]), 11);

    // APPEND of nothing to a missing key creates an empty string
    assert_eq!(q::<i64>(c, &["APPEND", "e", ""]), 0);
    assert_eq!(q::<i64>(c, &["EXISTS", "e"]), 1);
    assert_eq!(get(c, "e").as_deref(), Some(""));

    // numbers are strings too
    ok(c, &["SET", "n", "12"]);
    assert_eq!(q::<i64>(c, &["APPEND", "n", "3"]), 3);
    assert_eq!(q::<i64>(c, &["INCR", "n"]), 124);
    assert_eq!(q::<i64>(c, &["STRLEN", "n"]), 3);

    // multi-byte UTF-8 counts bytes
    ok(c, &["SET", "u", "héllo"]);
    assert_eq!(q::<i64>(c, &["STRLEN", "u"]), 6);

    assert_eq!(
        err(c, &["STRLEN"]),
        "ERR wrong number of arguments for 'strlen' command"
    );
    assert_eq!(
        err(c, &["APPEND", "k"]),
        "ERR wrong number of arguments for 'append' command"
    );
}

#[test]
fn getrange_substr() {
    let server = Server::start();
    let c = &mut server.client();
    ok(c, &["SET", "k", "This is a string"]);

    let cases = [
        ("0", "3", "This"),
        ("-3", "-1", "ing"),
        ("0", "-1", "This is a string"),
        ("10", "100", "string"),
        ("5", "3", ""),
        ("0", "0", "T"),
        ("15", "15", "g"),
        ("16", "20", ""),
        ("100", "200", ""),
        ("-100", "-1", "This is a string"),
        ("-100", "3", "This"),
        // end clamps to 0: the first byte
        ("0", "-100", "T"),
        // both negative and start > end
        ("-1", "-5", ""),
        ("-1", "-1", "g"),
    ];
    for (start, end, want) in cases {
        for name in ["GETRANGE", "SUBSTR"] {
            let got: String = q(c, &[name, "k", start, end]);
            assert_eq!(got, want, "{name} k {start} {end}");
        }
    }
    assert_eq!(r(c, &["GETRANGE", "missing", "0", "-1"]), "\"\"");
    assert_eq!(r(c, &["SUBSTR", "missing", "0", "10"]), "\"\"");
    ok(c, &["SET", "e", ""]);
    assert_eq!(r(c, &["GETRANGE", "e", "0", "-1"]), "\"\"");
    assert_eq!(r(c, &["GETRANGE", "e", "0", "0"]), "\"\"");

    assert_eq!(err(c, &["GETRANGE", "k", "a", "1"]), NOT_INT);
    assert_eq!(err(c, &["GETRANGE", "k", "0", "1.5"]), NOT_INT);
    assert_eq!(
        err(c, &["GETRANGE", "k", "0"]),
        "ERR wrong number of arguments for 'getrange' command"
    );
    assert_eq!(
        err(c, &["SUBSTR", "k", "0"]),
        "ERR wrong number of arguments for 'substr' command"
    );
}

#[test]
fn setrange() {
    let server = Server::start();
    let c = &mut server.client();

    ok(c, &["SET", "k", "Hello World"]);
    assert_eq!(q::<i64>(c, &["SETRANGE", "k", "6", "Redis"]), 11);
    assert_eq!(get(c, "k").as_deref(), Some("Hello Redis"));
    // extends the string
    assert_eq!(q::<i64>(c, &["SETRANGE", "k", "10", "s!!"]), 13);
    assert_eq!(get(c, "k").as_deref(), Some("Hello Redis!!"));

    // a missing key is zero padded
    assert_eq!(q::<i64>(c, &["SETRANGE", "p", "5", "abc"]), 8);
    let v: Vec<u8> = q(c, &["GET", "p"]);
    assert_eq!(v, b"\0\0\0\0\0abc");
    // padding past the end of an existing value
    ok(c, &["SET", "s", "ab"]);
    assert_eq!(q::<i64>(c, &["SETRANGE", "s", "4", "z"]), 5);
    let v: Vec<u8> = q(c, &["GET", "s"]);
    assert_eq!(v, b"ab\0\0z");

    // an empty value: no key is created, an existing value is unchanged
    assert_eq!(q::<i64>(c, &["SETRANGE", "none", "0", ""]), 0);
    assert_eq!(q::<i64>(c, &["SETRANGE", "none", "10", ""]), 0);
    assert_eq!(q::<i64>(c, &["EXISTS", "none"]), 0);
    assert_eq!(q::<i64>(c, &["SETRANGE", "s", "100", ""]), 5);
    assert_eq!(q::<i64>(c, &["STRLEN", "s"]), 5);

    assert_eq!(
        err(c, &["SETRANGE", "k", "-1", "x"]),
        "ERR offset is out of range"
    );
    assert_eq!(
        err(c, &["SETRANGE", "none", "-1", "x"]),
        "ERR offset is out of range"
    );
    assert_eq!(err(c, &["SETRANGE", "k", "abc", "x"]), NOT_INT);
    // 512 MB is the limit (proto-max-bulk-len)
    assert_eq!(
        err(c, &["SETRANGE", "k", "536870911", "xx"]),
        "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
    );
    assert_eq!(
        err(c, &["SETRANGE", "none", "536870912", "x"]),
        "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
    );
    assert_eq!(q::<i64>(c, &["EXISTS", "none"]), 0);
    assert_eq!(get(c, "k").as_deref(), Some("Hello Redis!!"));
}

// -------------------------------------------------- INCR and friends --

#[test]
fn incr_decr_family() {
    let server = Server::start();
    let c = &mut server.client();

    assert_eq!(q::<i64>(c, &["INCR", "n"]), 1);
    assert_eq!(q::<i64>(c, &["INCR", "n"]), 2);
    assert_eq!(q::<i64>(c, &["INCRBY", "n", "10"]), 12);
    assert_eq!(q::<i64>(c, &["DECR", "n"]), 11);
    assert_eq!(q::<i64>(c, &["DECRBY", "n", "5"]), 6);
    assert_eq!(q::<i64>(c, &["INCRBY", "n", "-10"]), -4);
    assert_eq!(q::<i64>(c, &["DECRBY", "n", "-4"]), 0);
    assert_eq!(get(c, "n").as_deref(), Some("0"));
    assert_eq!(q::<i64>(c, &["DECR", "m"]), -1);
    assert_eq!(q::<i64>(c, &["DECRBY", "o", "7"]), -7);
    assert_eq!(q::<i64>(c, &["INCRBY", "p", "-3"]), -3);

    ok(c, &["SET", "n", "-17"]);
    assert_eq!(q::<i64>(c, &["INCR", "n"]), -16);
    ok(c, &["SET", "big", "9223372036854775806"]);
    assert_eq!(q::<i64>(c, &["INCR", "big"]), i64::MAX);
    assert_eq!(get(c, "big").as_deref(), Some("9223372036854775807"));
    ok(c, &["SET", "small", "-9223372036854775807"]);
    assert_eq!(q::<i64>(c, &["DECR", "small"]), i64::MIN);
    assert_eq!(
        q::<i64>(c, &["INCRBY", "x", "-9223372036854775808"]),
        i64::MIN
    );

    // INCR keeps the TTL
    ok(c, &["SET", "t", "5", "EX", "100"]);
    assert_eq!(q::<i64>(c, &["INCR", "t"]), 6);
    assert_between("ttl", ttl(c, "t"), 95, 100);

    assert_eq!(
        err(c, &["INCR"]),
        "ERR wrong number of arguments for 'incr' command"
    );
    assert_eq!(
        err(c, &["INCRBY", "n"]),
        "ERR wrong number of arguments for 'incrby' command"
    );
}

#[test]
fn incr_errors() {
    let server = Server::start();
    let c = &mut server.client();
    let overflow = "ERR increment or decrement would overflow";

    ok(c, &["SET", "max", "9223372036854775807"]);
    assert_eq!(err(c, &["INCR", "max"]), overflow);
    assert_eq!(err(c, &["INCRBY", "max", "1"]), overflow);
    assert_eq!(err(c, &["DECRBY", "max", "-1"]), overflow);
    assert_eq!(get(c, "max").as_deref(), Some("9223372036854775807"));
    ok(c, &["SET", "min", "-9223372036854775808"]);
    assert_eq!(err(c, &["DECR", "min"]), overflow);
    assert_eq!(err(c, &["INCRBY", "min", "-1"]), overflow);
    ok(c, &["SET", "mid", "5"]);
    assert_eq!(err(c, &["INCRBY", "mid", "9223372036854775807"]), overflow);
    assert_eq!(get(c, "mid").as_deref(), Some("5"));
    // -(i64::MIN) does not exist
    assert_eq!(
        err(c, &["DECRBY", "mid", "-9223372036854775808"]),
        "ERR decrement would overflow"
    );

    // stored values that are not canonical 64-bit integers
    for bad in [
        "abc",
        "",
        " 1",
        "1 ",
        "+1",
        "1.0",
        "1e3",
        "0x10",
        "9223372036854775808",
        "-9223372036854775809",
        "12a",
    ] {
        ok(c, &["SET", "s", bad]);
        assert_eq!(err(c, &["INCR", "s"]), NOT_INT, "INCR on {bad:?}");
        assert_eq!(err(c, &["DECRBY", "s", "1"]), NOT_INT, "DECRBY on {bad:?}");
        assert_eq!(get(c, "s").as_deref(), Some(bad));
    }

    // bad increments
    for bad in ["abc", "1.5", "", " 1", "9223372036854775808"] {
        assert_eq!(err(c, &["INCRBY", "mid", bad]), NOT_INT, "INCRBY {bad:?}");
        assert_eq!(err(c, &["DECRBY", "mid", bad]), NOT_INT, "DECRBY {bad:?}");
    }
    assert_eq!(q::<i64>(c, &["EXISTS", "nothing"]), 0);
    assert_eq!(err(c, &["INCRBY", "nothing", "x"]), NOT_INT);
    assert_eq!(q::<i64>(c, &["EXISTS", "nothing"]), 0);
}

#[test]
fn incrbyfloat() {
    let server = Server::start();
    let c = &mut server.client();

    assert_eq!(r(c, &["INCRBYFLOAT", "f", "1.5"]), "\"1.5\"");
    ok(c, &["SET", "f", "10.50"]);
    assert_eq!(r(c, &["INCRBYFLOAT", "f", "0.1"]), "\"10.6\"");
    assert_eq!(get(c, "f").as_deref(), Some("10.6"));
    assert_eq!(r(c, &["INCRBYFLOAT", "f", "-5"]), "\"5.6\"");
    ok(c, &["SET", "f", "5.0e3"]);
    assert_eq!(r(c, &["INCRBYFLOAT", "f", "2.0e2"]), "\"5200\"");
    assert_eq!(get(c, "f").as_deref(), Some("5200"));
    ok(c, &["SET", "i", "3"]);
    assert_eq!(r(c, &["INCRBYFLOAT", "i", "0"]), "\"3\"");
    assert_eq!(r(c, &["INCRBYFLOAT", "i", "-3"]), "\"0\"");
    assert_eq!(r(c, &["INCRBYFLOAT", "i", "-0.25"]), "\"-0.25\"");
    // other spellings of numbers, small results
    for (stored, incr, want) in [
        (".5", "1", "1.5"),
        ("5.", "1", "6"),
        ("1e1", "1", "11"),
        ("-0", "0", "0"),
        ("5", "1e-5", "5.00001"),
        ("1", "-1e-7", "0.9999999"),
        ("2.5", "0.5", "3"),
        ("-1.5", "-.5", "-2"),
    ] {
        ok(c, &["SET", "x", stored]);
        let got: String = q(c, &["INCRBYFLOAT", "x", incr]);
        assert_eq!(got, want, "{stored} + {incr}");
    }
    // no exponent notation in replies, no binary noise
    ok(c, &["SET", "e", "1e20"]);
    assert_eq!(
        r(c, &["INCRBYFLOAT", "e", "0"]),
        "\"100000000000000000000\""
    );
    ok(c, &["SET", "d", "0.1"]);
    assert_eq!(r(c, &["INCRBYFLOAT", "d", "0.2"]), "\"0.3\"");
    // integers stored by INCR work and INCR works after an integral result
    assert_eq!(r(c, &["INCRBYFLOAT", "i", "0.25"]), "\"0\"");
    assert_eq!(q::<i64>(c, &["INCR", "i"]), 1);
    assert_eq!(r(c, &["INCRBYFLOAT", "i", "1.25"]), "\"2.25\"");
    assert_eq!(err(c, &["INCR", "i"]), NOT_INT);

    // INCRBYFLOAT keeps the TTL
    ok(c, &["SET", "t", "1", "EX", "100"]);
    assert_eq!(r(c, &["INCRBYFLOAT", "t", "1.5"]), "\"2.5\"");
    assert_between("ttl", ttl(c, "t"), 95, 100);

    let not_float = "ERR value is not a valid float";
    for bad in ["abc", "", " 1", "1 ", "nan", "1.5x"] {
        assert_eq!(
            err(c, &["INCRBYFLOAT", "f", bad]),
            not_float,
            "increment {bad:?}"
        );
    }
    for bad in ["abc", " 1", "1.0.0"] {
        ok(c, &["SET", "s", bad]);
        assert_eq!(err(c, &["INCRBYFLOAT", "s", "1"]), not_float, "{bad:?}");
    }
    let nan_inf = "ERR increment would produce NaN or Infinity";
    assert_eq!(err(c, &["INCRBYFLOAT", "f", "inf"]), nan_inf);
    assert_eq!(err(c, &["INCRBYFLOAT", "f", "-inf"]), nan_inf);
    assert_eq!(err(c, &["INCRBYFLOAT", "none", "+inf"]), nan_inf);
    assert_eq!(q::<i64>(c, &["EXISTS", "none"]), 0);
    assert_eq!(get(c, "f").as_deref(), Some("5200"));
    assert_eq!(
        err(c, &["INCRBYFLOAT", "f"]),
        "ERR wrong number of arguments for 'incrbyfloat' command"
    );
}

// ------------------------------------------------------------------ LCS --

#[test]
fn lcs() {
    let server = Server::start();
    let c = &mut server.client();
    ok(c, &["MSET", "key1", "ohmytext", "key2", "mynewtext"]);

    assert_eq!(r(c, &["LCS", "key1", "key2"]), "\"mytext\"");
    assert_eq!(r(c, &["LCS", "key1", "key2", "LEN"]), "6");
    assert_eq!(
        r(c, &["LCS", "key1", "key2", "IDX"]),
        "[\"matches\",[[[4,7],[5,8]],[[2,3],[0,1]]],\"len\",6]"
    );
    assert_eq!(
        r(c, &["LCS", "key1", "key2", "IDX", "MINMATCHLEN", "4"]),
        "[\"matches\",[[[4,7],[5,8]]],\"len\",6]"
    );
    assert_eq!(
        r(c, &["LCS", "key1", "key2", "IDX", "WITHMATCHLEN"]),
        "[\"matches\",[[[4,7],[5,8],4],[[2,3],[0,1],2]],\"len\",6]"
    );
    assert_eq!(
        r(
            c,
            &[
                "LCS",
                "key1",
                "key2",
                "IDX",
                "MINMATCHLEN",
                "4",
                "WITHMATCHLEN"
            ]
        ),
        "[\"matches\",[[[4,7],[5,8],4]],\"len\",6]"
    );
    assert_eq!(
        r(
            c,
            &[
                "lcs",
                "key1",
                "key2",
                "withmatchlen",
                "minmatchlen",
                "3",
                "idx"
            ]
        ),
        "[\"matches\",[[[4,7],[5,8],4]],\"len\",6]"
    );

    // same key, missing keys, no common subsequence
    assert_eq!(r(c, &["LCS", "key1", "key1"]), "\"ohmytext\"");
    assert_eq!(r(c, &["LCS", "key1", "missing"]), "\"\"");
    assert_eq!(r(c, &["LCS", "missing", "other", "LEN"]), "0");
    assert_eq!(
        r(c, &["LCS", "missing", "key1", "IDX"]),
        "[\"matches\",[],\"len\",0]"
    );
    ok(c, &["MSET", "a", "abc", "b", "xyz"]);
    assert_eq!(r(c, &["LCS", "a", "b"]), "\"\"");
    assert_eq!(r(c, &["LCS", "a", "b", "LEN"]), "0");

    assert_eq!(
        err(c, &["LCS", "key1", "key2", "LEN", "IDX"]),
        "ERR If you want both the length and indexes, please just use IDX."
    );
    assert_eq!(err(c, &["LCS", "key1", "key2", "FOO"]), SYNTAX);
    assert_eq!(
        err(c, &["LCS", "key1", "key2", "IDX", "MINMATCHLEN", "x"]),
        NOT_INT
    );
    assert_eq!(
        err(c, &["LCS", "key1", "key2", "IDX", "MINMATCHLEN"]),
        SYNTAX
    );
    assert_eq!(
        err(c, &["LCS", "key1"]),
        "ERR wrong number of arguments for 'lcs' command"
    );
}

// ------------------------------------------------ binary and big values --

#[test]
fn binary_safe_values_and_keys() {
    let server = Server::start();
    let c = &mut server.client();

    let all: Vec<u8> = (0..=255u8).collect();
    let _: () = redis::cmd("SET")
        .arg(&b"bin"[..])
        .arg(&all[..])
        .query(c)
        .unwrap();
    let got: Vec<u8> = redis::cmd("GET").arg(&b"bin"[..]).query(c).unwrap();
    assert_eq!(got, all);
    assert_eq!(q::<i64>(c, &["STRLEN", "bin"]), 256);
    let tail: Vec<u8> = q(c, &["GETRANGE", "bin", "-3", "-1"]);
    assert_eq!(tail, vec![253, 254, 255]);

    // binary keys, including NUL, CR LF and a key that is a prefix of another
    let keys: Vec<Vec<u8>> = vec![
        b"a\0b".to_vec(),
        b"a".to_vec(),
        b"a\0".to_vec(),
        b"\r\n".to_vec(),
        vec![0xff, 0x00, 0xfe],
        all.clone(),
    ];
    for (i, k) in keys.iter().enumerate() {
        let _: () = redis::cmd("SET").arg(&k[..]).arg(i).query(c).unwrap();
    }
    for (i, k) in keys.iter().enumerate() {
        let v: String = redis::cmd("GET").arg(&k[..]).query(c).unwrap();
        assert_eq!(v, i.to_string(), "key {k:?}");
    }
    let n: i64 = redis::cmd("EXISTS").arg(&keys[..]).query(c).unwrap();
    assert_eq!(n, keys.len() as i64);
    assert_eq!(q::<i64>(c, &["DBSIZE"]), keys.len() as i64 + 1);

    // APPEND and SETRANGE with binary data
    let _: i64 = redis::cmd("APPEND")
        .arg(&b"bin"[..])
        .arg(&b"\0\r\n"[..])
        .query(c)
        .unwrap();
    let _: i64 = redis::cmd("SETRANGE")
        .arg(&b"bin"[..])
        .arg(0)
        .arg(&[0xffu8, 0xfe][..])
        .query(c)
        .unwrap();
    let got: Vec<u8> = q(c, &["GET", "bin"]);
    let mut want = all.clone();
    want[0] = 0xff;
    want[1] = 0xfe;
    want.extend_from_slice(b"\0\r\n");
    assert_eq!(got, want);
}

#[test]
fn one_megabyte_values() {
    let server = Server::start();
    let c = &mut server.client();
    const MB: usize = 1 << 20;

    let big: Vec<u8> = (0..MB).map(|i| (i % 251) as u8).collect();
    let _: () = redis::cmd("SET").arg("big").arg(&big[..]).query(c).unwrap();
    let got: Vec<u8> = q(c, &["GET", "big"]);
    assert!(got == big, "1 MB value came back different");
    assert_eq!(q::<i64>(c, &["STRLEN", "big"]), MB as i64);

    let n: i64 = redis::cmd("APPEND")
        .arg("big")
        .arg(&big[..])
        .query(c)
        .unwrap();
    assert_eq!(n, 2 * MB as i64);
    let slice: Vec<u8> = q(
        c,
        &[
            "GETRANGE",
            "big",
            &(MB - 2).to_string(),
            &(MB + 1).to_string(),
        ],
    );
    assert_eq!(slice, vec![big[MB - 2], big[MB - 1], big[0], big[1]]);

    // SETRANGE far into a new key pads 1 MB of zeros
    assert_eq!(
        q::<i64>(c, &["SETRANGE", "pad", &MB.to_string(), "x"]),
        MB as i64 + 1
    );
    let pad: Vec<u8> = q(c, &["GET", "pad"]);
    assert_eq!(pad.len(), MB + 1);
    assert!(pad[..MB].iter().all(|&b| b == 0));
    assert_eq!(pad[MB], b'x');

    // many large values in one MSET / MGET
    let mut mset = redis::cmd("MSET");
    for i in 0..4 {
        mset.arg(format!("m{i}")).arg(&big[..]);
    }
    let _: () = mset.query(c).unwrap();
    let vals: Vec<Vec<u8>> = q(c, &["MGET", "m0", "m1", "m2", "m3"]);
    assert_eq!(vals.len(), 4);
    assert!(vals.iter().all(|v| *v == big));
}

// ------------------------------------------------------ Kvrocks CAS CAD --

#[test]
fn cas_compare_and_swap() {
    basalt_tests::skip_on_redis!();
    let server = Server::start();
    let c = &mut server.client();

    assert_eq!(q::<i64>(c, &["CAS", "k", "a", "b"]), -1);
    assert_eq!(q::<i64>(c, &["EXISTS", "k"]), 0);

    ok(c, &["SET", "k", "a"]);
    assert_eq!(q::<i64>(c, &["CAS", "k", "x", "b"]), 0);
    assert_eq!(get(c, "k").as_deref(), Some("a"));
    assert_eq!(q::<i64>(c, &["CAS", "k", "a", "b"]), 1);
    assert_eq!(get(c, "k").as_deref(), Some("b"));

    // with an expire
    assert_eq!(q::<i64>(c, &["CAS", "k", "b", "c", "EX", "100"]), 1);
    assert_eq!(get(c, "k").as_deref(), Some("c"));
    assert_between("ttl", ttl(c, "k"), 95, 100);
    // a mismatch leaves value and TTL alone
    assert_eq!(q::<i64>(c, &["CAS", "k", "b", "d"]), 0);
    assert_between("ttl", ttl(c, "k"), 95, 100);
    // without an expire option the TTL is cleared
    assert_eq!(q::<i64>(c, &["CAS", "k", "c", "d"]), 1);
    assert_eq!(ttl(c, "k"), -1);
    assert_eq!(q::<i64>(c, &["CAS", "k", "d", "e", "PX", "50000"]), 1);
    assert_between("pttl", pttl(c, "k"), 45_000, 50_000);
    let at = now_ms() / 1000 + 300;
    assert_eq!(
        q::<i64>(c, &["CAS", "k", "e", "f", "EXAT", &at.to_string()]),
        1
    );
    assert_eq!(q::<i64>(c, &["EXPIRETIME", "k"]), at);
    let pat = now_ms() + 400_000;
    assert_eq!(
        q::<i64>(c, &["CAS", "k", "f", "g", "PXAT", &pat.to_string()]),
        1
    );
    assert_eq!(q::<i64>(c, &["PEXPIRETIME", "k"]), pat);

    // empty strings and binary values compare byte-wise
    ok(c, &["SET", "e", ""]);
    assert_eq!(q::<i64>(c, &["CAS", "e", "", "x"]), 1);
    assert_eq!(get(c, "e").as_deref(), Some("x"));
    let n: i64 = redis::cmd("CAS")
        .arg("e")
        .arg(&b"x\0"[..])
        .arg("y")
        .query(c)
        .unwrap();
    assert_eq!(n, 0);

    // errors
    assert!(err(c, &["CAS", "k", "g"]).contains("wrong number of arguments"));
    assert!(err(c, &["CAS", "k", "g", "h", "EX"]).starts_with("ERR"));
    assert!(err(c, &["CAS", "k", "g", "h", "EX", "abc"]).starts_with("ERR"));
    assert!(err(c, &["CAS", "k", "g", "h", "EX", "0"]).starts_with("ERR"));
    assert!(err(c, &["CAS", "k", "g", "h", "FOO"]).starts_with("ERR"));
    assert_eq!(get(c, "k").as_deref(), Some("g"));
}

#[test]
fn cad_compare_and_delete() {
    basalt_tests::skip_on_redis!();
    let server = Server::start();
    let c = &mut server.client();

    assert_eq!(q::<i64>(c, &["CAD", "k", "a"]), -1);
    ok(c, &["SET", "k", "a", "EX", "100"]);
    assert_eq!(q::<i64>(c, &["CAD", "k", "b"]), 0);
    assert_eq!(get(c, "k").as_deref(), Some("a"));
    assert_between("ttl", ttl(c, "k"), 95, 100);
    assert_eq!(q::<i64>(c, &["CAD", "k", "a"]), 1);
    assert_eq!(q::<i64>(c, &["EXISTS", "k"]), 0);
    assert_eq!(q::<i64>(c, &["CAD", "k", "a"]), -1);

    ok(c, &["SET", "e", ""]);
    assert_eq!(q::<i64>(c, &["CAD", "e", "x"]), 0);
    assert_eq!(q::<i64>(c, &["CAD", "e", ""]), 1);
    assert_eq!(q::<i64>(c, &["EXISTS", "e"]), 0);

    assert!(err(c, &["CAD", "k"]).contains("wrong number of arguments"));
    assert!(err(c, &["CAD", "k", "a", "b"]).contains("wrong number of arguments"));
}

#[test]
fn setbit_and_getbit_work_on_strings_in_place() {
    let server = Server::start();
    let mut c = server.client();
    // A missing key: the string grows to hold the bit, high bit first.
    assert_eq!(int(&mut c, &["SETBIT", "b", "1", "1"]), 0);
    assert_eq!(q::<Vec<u8>>(&mut c, &["GET", "b"]), vec![0x40]);
    assert_eq!(int(&mut c, &["SETBIT", "b", "1", "0"]), 1);
    assert_eq!(int(&mut c, &["SETBIT", "b", "17", "1"]), 0);
    assert_eq!(q::<Vec<u8>>(&mut c, &["GET", "b"]), vec![0, 0, 0x40]);
    assert_eq!(int(&mut c, &["GETBIT", "b", "17"]), 1);
    assert_eq!(int(&mut c, &["GETBIT", "b", "16"]), 0);
    assert_eq!(int(&mut c, &["GETBIT", "b", "1000"]), 0);
    assert_eq!(int(&mut c, &["GETBIT", "missing", "0"]), 0);
    // In place on a string: "@" is 0x40; bit 2 makes it 0x60 "`".
    q::<()>(&mut c, &["SET", "s", "@"]);
    assert_eq!(int(&mut c, &["SETBIT", "s", "2", "1"]), 0);
    assert_eq!(q::<String>(&mut c, &["GET", "s"]), "`");
    // The expiry stays.
    q::<()>(&mut c, &["SET", "t", "x", "EX", "100"]);
    int(&mut c, &["SETBIT", "t", "0", "1"]);
    assert!(int(&mut c, &["TTL", "t"]) > 0);
    assert_eq!(
        err(&mut c, &["SETBIT", "b", "4294967296", "1"]),
        "ERR bit offset is not an integer or out of range"
    );
    assert_eq!(
        err(&mut c, &["SETBIT", "b", "-1", "1"]),
        "ERR bit offset is not an integer or out of range"
    );
    assert_eq!(
        err(&mut c, &["SETBIT", "b", "0", "2"]),
        "ERR bit is not an integer or out of range"
    );
    assert_eq!(
        err(&mut c, &["GETBIT", "b", "x"]),
        "ERR bit offset is not an integer or out of range"
    );
    q::<()>(&mut c, &["LPUSH", "l", "x"]);
    assert!(err(&mut c, &["SETBIT", "l", "0", "1"]).starts_with("WRONGTYPE"));
    assert!(err(&mut c, &["GETBIT", "l", "0"]).starts_with("WRONGTYPE"));
}
