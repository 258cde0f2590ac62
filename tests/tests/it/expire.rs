//! Expiry: EXPIRE PEXPIRE EXPIREAT PEXPIREAT (NX XX GT LT) TTL PTTL
//! EXPIRETIME PEXPIRETIME PERSIST, how writes treat TTLs, keys vanishing on
//! time, TTLs across restarts and the active expiration cycle. Replies and
//! error texts are Redis 7.2's (checked with `BASALT_TEST_AGAINST=redis`).

use basalt_tests::client::{err, int, q};
use basalt_tests::Server;
use redis::{Connection, Value};
use std::collections::BTreeSet;
use std::thread::sleep;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

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

fn ttl(c: &mut Connection, key: &str) -> i64 {
    int(c, &["TTL", key])
}

fn pttl(c: &mut Connection, key: &str) -> i64 {
    int(c, &["PTTL", key])
}

#[track_caller]
fn assert_between(what: &str, v: i64, lo: i64, hi: i64) {
    assert!(lo <= v && v <= hi, "{what} = {v}, expected {lo}..={hi}");
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn now_s() -> i64 {
    now_ms() / 1000
}

/// A field of `INFO section`, e.g. `info_field(c, "stats", "expired_keys")`.
fn info_field(c: &mut Connection, section: &str, field: &str) -> Option<String> {
    let info: String = q(c, &["INFO", section]);
    let prefix = format!("{field}:");
    info.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .map(|v| v.trim().to_string())
}

fn sorted_keys(c: &mut Connection, pattern: &str) -> Vec<String> {
    let mut v: Vec<String> = q(c, &["KEYS", pattern]);
    v.sort();
    v
}

fn scan_keys(c: &mut Connection) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut cursor = "0".to_string();
    loop {
        let (next, batch): (String, Vec<String>) = q(c, &["SCAN", &cursor, "COUNT", "3"]);
        out.extend(batch);
        if next == "0" {
            return out;
        }
        cursor = next;
    }
}

const NOT_INT: &str = "ERR value is not an integer or out of range";
const NX_XX: &str = "ERR NX and XX, GT or LT options at the same time are not compatible";
const GT_LT: &str = "ERR GT and LT options at the same time are not compatible";

// -------------------------------------------------------------- TTL etc --

#[test]
fn ttl_pttl_expire_pexpire() {
    let server = Server::start();
    let c = &mut server.client();

    assert_eq!(ttl(c, "missing"), -2);
    assert_eq!(pttl(c, "missing"), -2);
    ok(c, &["SET", "k", "v"]);
    assert_eq!(ttl(c, "k"), -1);
    assert_eq!(pttl(c, "k"), -1);

    assert_eq!(int(c, &["EXPIRE", "k", "100"]), 1);
    assert_between("ttl", ttl(c, "k"), 95, 100);
    assert_between("pttl", pttl(c, "k"), 95_000, 100_000);
    assert_eq!(int(c, &["PEXPIRE", "k", "200000"]), 1);
    assert_between("ttl", ttl(c, "k"), 195, 200);
    assert_between("pttl", pttl(c, "k"), 195_000, 200_000);

    // TTL rounds the remaining milliseconds to the nearest second
    assert_eq!(int(c, &["PEXPIRE", "k", "1900"]), 1);
    assert_eq!(ttl(c, "k"), 2);
    assert_eq!(int(c, &["PEXPIRE", "k", "1300"]), 1);
    assert_eq!(ttl(c, "k"), 1);

    // the same key can be re-expired any number of times
    assert_eq!(int(c, &["EXPIRE", "k", "50"]), 1);
    assert_between("ttl", ttl(c, "k"), 45, 50);
    assert_eq!(get(c, "k").as_deref(), Some("v"));

    // missing keys
    assert_eq!(int(c, &["EXPIRE", "missing", "100"]), 0);
    assert_eq!(int(c, &["PEXPIRE", "missing", "100"]), 0);
    assert_eq!(int(c, &["EXISTS", "missing"]), 0);

    // bad arguments
    assert_eq!(err(c, &["EXPIRE", "k", "abc"]), NOT_INT);
    assert_eq!(err(c, &["EXPIRE", "k", "1.5"]), NOT_INT);
    assert_eq!(err(c, &["PEXPIRE", "k", ""]), NOT_INT);
    assert_eq!(
        err(c, &["EXPIRE", "k", "9223372036854775807"]),
        "ERR invalid expire time in 'expire' command"
    );
    assert_eq!(
        err(c, &["PEXPIRE", "k", "9223372036854775807"]),
        "ERR invalid expire time in 'pexpire' command"
    );
    assert_eq!(
        err(c, &["EXPIRE", "k"]),
        "ERR wrong number of arguments for 'expire' command"
    );
    assert_eq!(
        err(c, &["TTL"]),
        "ERR wrong number of arguments for 'ttl' command"
    );
    assert_eq!(
        err(c, &["PTTL", "a", "b"]),
        "ERR wrong number of arguments for 'pttl' command"
    );
    assert_between("ttl", ttl(c, "k"), 45, 50);
}

#[test]
fn expireat_pexpireat_expiretime() {
    let server = Server::start();
    let c = &mut server.client();

    assert_eq!(int(c, &["EXPIRETIME", "missing"]), -2);
    assert_eq!(int(c, &["PEXPIRETIME", "missing"]), -2);
    ok(c, &["SET", "k", "v"]);
    assert_eq!(int(c, &["EXPIRETIME", "k"]), -1);
    assert_eq!(int(c, &["PEXPIRETIME", "k"]), -1);

    let at = now_s() + 1000;
    assert_eq!(int(c, &["EXPIREAT", "k", &at.to_string()]), 1);
    assert_eq!(int(c, &["EXPIRETIME", "k"]), at);
    assert_eq!(int(c, &["PEXPIRETIME", "k"]), at * 1000);
    assert_between("ttl", ttl(c, "k"), 995, 1000);

    let pat = now_ms() + 500_000;
    assert_eq!(int(c, &["PEXPIREAT", "k", &pat.to_string()]), 1);
    assert_eq!(int(c, &["PEXPIRETIME", "k"]), pat);
    assert_between("pttl", pttl(c, "k"), 495_000, 500_000);

    // EXPIRETIME rounds to the nearest second
    let base = (now_s() + 2000) * 1000;
    assert_eq!(int(c, &["PEXPIREAT", "k", &(base + 400).to_string()]), 1);
    assert_eq!(int(c, &["EXPIRETIME", "k"]), base / 1000);
    assert_eq!(int(c, &["PEXPIREAT", "k", &(base + 600).to_string()]), 1);
    assert_eq!(int(c, &["EXPIRETIME", "k"]), base / 1000 + 1);

    // relative expires are stored as absolute times
    assert_eq!(int(c, &["EXPIRE", "k", "300"]), 1);
    assert_between(
        "expiretime",
        int(c, &["EXPIRETIME", "k"]),
        at - 701,
        at - 695,
    );

    assert_eq!(int(c, &["EXPIREAT", "missing", &at.to_string()]), 0);
    assert_eq!(int(c, &["PEXPIREAT", "missing", &pat.to_string()]), 0);
    assert_eq!(err(c, &["EXPIREAT", "k", "soon"]), NOT_INT);
    assert_eq!(err(c, &["PEXPIREAT", "k", "1e12"]), NOT_INT);
    assert_eq!(
        err(c, &["EXPIREAT", "k", "9223372036854775807"]),
        "ERR invalid expire time in 'expireat' command"
    );
    assert_eq!(
        err(c, &["EXPIRETIME"]),
        "ERR wrong number of arguments for 'expiretime' command"
    );
    assert_eq!(
        err(c, &["PEXPIREAT", "k"]),
        "ERR wrong number of arguments for 'pexpireat' command"
    );
}

#[test]
fn expire_nx_xx_gt_lt() {
    let server = Server::start();
    let c = &mut server.client();
    ok(c, &["SET", "k", "v"]);

    // no TTL yet: XX and GT refuse (no TTL counts as infinite), NX and LT set
    assert_eq!(int(c, &["EXPIRE", "k", "100", "XX"]), 0);
    assert_eq!(int(c, &["EXPIRE", "k", "100", "GT"]), 0);
    assert_eq!(ttl(c, "k"), -1);
    assert_eq!(int(c, &["EXPIRE", "k", "100", "NX"]), 1);
    assert_between("ttl", ttl(c, "k"), 95, 100);
    assert_eq!(int(c, &["PERSIST", "k"]), 1);
    assert_eq!(int(c, &["EXPIRE", "k", "100", "LT"]), 1);
    assert_between("ttl", ttl(c, "k"), 95, 100);

    // with a TTL of ~100 s
    assert_eq!(int(c, &["EXPIRE", "k", "200", "NX"]), 0);
    assert_eq!(int(c, &["EXPIRE", "k", "200", "LT"]), 0);
    assert_eq!(int(c, &["EXPIRE", "k", "50", "GT"]), 0);
    assert_between("ttl", ttl(c, "k"), 95, 100);
    assert_eq!(int(c, &["EXPIRE", "k", "200", "GT"]), 1);
    assert_between("ttl", ttl(c, "k"), 195, 200);
    assert_eq!(int(c, &["EXPIRE", "k", "150", "LT"]), 1);
    assert_between("ttl", ttl(c, "k"), 145, 150);
    assert_eq!(int(c, &["EXPIRE", "k", "120", "XX"]), 1);
    assert_between("ttl", ttl(c, "k"), 115, 120);
    // XX combines with GT / LT
    assert_eq!(int(c, &["EXPIRE", "k", "100", "XX", "GT"]), 0);
    assert_eq!(int(c, &["EXPIRE", "k", "300", "XX", "GT"]), 1);
    assert_eq!(int(c, &["EXPIRE", "k", "250", "LT", "XX"]), 1);
    assert_between("ttl", ttl(c, "k"), 245, 250);
    // lower case, repeated options
    assert_eq!(int(c, &["EXPIRE", "k", "10", "NX", "NX"]), 0);
    assert_eq!(int(c, &["expire", "k", "400", "gt", "gt"]), 1);
    assert_between("ttl", ttl(c, "k"), 395, 400);

    // the same for PEXPIRE, EXPIREAT, PEXPIREAT
    assert_eq!(int(c, &["PEXPIRE", "k", "100000", "GT"]), 0);
    assert_eq!(int(c, &["PEXPIRE", "k", "100000", "LT"]), 1);
    assert_between("pttl", pttl(c, "k"), 95_000, 100_000);
    let at = now_s() + 1000;
    assert_eq!(int(c, &["EXPIREAT", "k", &at.to_string(), "NX"]), 0);
    assert_eq!(int(c, &["EXPIREAT", "k", &at.to_string(), "GT"]), 1);
    assert_eq!(int(c, &["EXPIRETIME", "k"]), at);
    let pat = at * 1000 - 1;
    assert_eq!(int(c, &["PEXPIREAT", "k", &pat.to_string(), "GT"]), 0);
    assert_eq!(int(c, &["PEXPIREAT", "k", &pat.to_string(), "LT"]), 1);
    assert_eq!(int(c, &["PEXPIRETIME", "k"]), pat);
    // equal is neither greater nor less
    assert_eq!(int(c, &["PEXPIREAT", "k", &pat.to_string(), "GT"]), 0);
    assert_eq!(int(c, &["PEXPIREAT", "k", &pat.to_string(), "LT"]), 0);
    assert_eq!(int(c, &["PEXPIREAT", "k", &pat.to_string(), "XX"]), 1);

    // missing keys: 0 whatever the option
    for opt in ["NX", "XX", "GT", "LT"] {
        assert_eq!(int(c, &["EXPIRE", "missing", "10", opt]), 0);
    }
    assert_eq!(int(c, &["EXISTS", "missing"]), 0);
}

#[test]
fn expire_option_errors() {
    let server = Server::start();
    let c = &mut server.client();
    ok(c, &["SET", "k", "v", "EX", "100"]);

    for name in ["EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"] {
        let t = if name.ends_with("AT") {
            (now_ms() + 10_000_000).to_string()
        } else {
            "10000".to_string()
        };
        let t = t.as_str();
        assert_eq!(err(c, &[name, "k", t, "NX", "XX"]), NX_XX, "{name}");
        assert_eq!(err(c, &[name, "k", t, "XX", "NX"]), NX_XX, "{name}");
        assert_eq!(err(c, &[name, "k", t, "NX", "GT"]), NX_XX, "{name}");
        assert_eq!(err(c, &[name, "k", t, "LT", "NX"]), NX_XX, "{name}");
        assert_eq!(err(c, &[name, "k", t, "GT", "LT"]), GT_LT, "{name}");
        assert_eq!(err(c, &[name, "k", t, "lt", "gt"]), GT_LT, "{name}");
        assert_eq!(err(c, &[name, "k", t, "XX", "GT", "LT"]), GT_LT, "{name}");
        assert_eq!(
            err(c, &[name, "k", t, "FOO"]),
            "ERR Unsupported option FOO",
            "{name}"
        );
        assert_eq!(
            err(c, &[name, "k", t, "NX", "bar"]),
            "ERR Unsupported option bar",
            "{name}"
        );
        // options are checked even when the key is missing
        assert_eq!(err(c, &[name, "missing", t, "NX", "XX"]), NX_XX, "{name}");
    }
    // the failed commands changed nothing
    assert_between("ttl", ttl(c, "k"), 95, 100);
}

#[test]
fn persist() {
    let server = Server::start();
    let c = &mut server.client();

    assert_eq!(int(c, &["PERSIST", "missing"]), 0);
    ok(c, &["SET", "k", "v"]);
    assert_eq!(int(c, &["PERSIST", "k"]), 0);
    assert_eq!(int(c, &["EXPIRE", "k", "100"]), 1);
    assert_eq!(int(c, &["PERSIST", "k"]), 1);
    assert_eq!(ttl(c, "k"), -1);
    assert_eq!(int(c, &["EXPIRETIME", "k"]), -1);
    assert_eq!(int(c, &["PERSIST", "k"]), 0);
    assert_eq!(get(c, "k").as_deref(), Some("v"));
    // a persisted key can get a TTL again
    assert_eq!(int(c, &["PEXPIRE", "k", "100000"]), 1);
    assert_between("pttl", pttl(c, "k"), 95_000, 100_000);
    assert_eq!(
        err(c, &["PERSIST"]),
        "ERR wrong number of arguments for 'persist' command"
    );
    assert_eq!(
        err(c, &["PERSIST", "a", "b"]),
        "ERR wrong number of arguments for 'persist' command"
    );
}

#[test]
fn expire_in_the_past_deletes() {
    let server = Server::start();
    let c = &mut server.client();
    let setup = |c: &mut Connection| {
        for k in ["a", "b", "c", "d", "e", "f"] {
            ok(c, &["SET", k, "v"]);
        }
    };
    setup(c);

    assert_eq!(int(c, &["EXPIRE", "a", "0"]), 1);
    assert_eq!(int(c, &["EXPIRE", "b", "-10"]), 1);
    assert_eq!(int(c, &["PEXPIRE", "c", "-1"]), 1);
    assert_eq!(int(c, &["EXPIREAT", "d", "1"]), 1);
    assert_eq!(
        int(c, &["PEXPIREAT", "e", &(now_ms() - 1000).to_string()]),
        1
    );
    assert_eq!(int(c, &["EXPIREAT", "f", &(now_s() - 1).to_string()]), 1);
    for k in ["a", "b", "c", "d", "e", "f"] {
        assert_eq!(int(c, &["EXISTS", k]), 0, "{k}");
        assert_eq!(ttl(c, k), -2, "{k}");
        assert_eq!(get(c, k), None, "{k}");
    }
    assert_eq!(int(c, &["DBSIZE"]), 0);

    // conditions are checked before deleting
    setup(c);
    // GT: no TTL is infinite, a past time is not greater
    assert_eq!(int(c, &["EXPIRE", "a", "-1", "GT"]), 0);
    assert_eq!(int(c, &["EXPIRE", "b", "-1", "XX"]), 0);
    assert_eq!(int(c, &["EXISTS", "a", "b"]), 2);
    assert_eq!(int(c, &["EXPIRE", "a", "-1", "LT"]), 1);
    assert_eq!(int(c, &["EXPIRE", "b", "-1", "NX"]), 1);
    assert_eq!(int(c, &["EXISTS", "a", "b"]), 0);
    assert_eq!(int(c, &["EXPIRE", "c", "100"]), 1);
    assert_eq!(int(c, &["EXPIRE", "c", "0", "NX"]), 0);
    assert_eq!(int(c, &["EXISTS", "c"]), 1);
    assert_eq!(int(c, &["PEXPIRE", "c", "0", "XX"]), 1);
    assert_eq!(int(c, &["EXISTS", "c"]), 0);

    // the deleted key can be written again, without TTL
    ok(c, &["SET", "a", "new"]);
    assert_eq!(ttl(c, "a"), -1);
    assert_eq!(get(c, "a").as_deref(), Some("new"));
}

#[test]
fn writes_and_ttl() {
    let server = Server::start();
    let c = &mut server.client();
    let with_ttl = |c: &mut Connection, k: &str, v: &str| ok(c, &["SET", k, v, "EX", "100"]);
    let has_ttl = |c: &mut Connection, k: &str| {
        let t = ttl(c, k);
        assert!((95..=100).contains(&t), "{k}: ttl {t}, expected 95..=100");
    };

    // these replace the value and the TTL
    with_ttl(c, "set", "v");
    ok(c, &["SET", "set", "w"]);
    assert_eq!(ttl(c, "set"), -1);
    with_ttl(c, "getset", "v");
    let _: String = q(c, &["GETSET", "getset", "w"]);
    assert_eq!(ttl(c, "getset"), -1);
    with_ttl(c, "mset", "v");
    ok(c, &["MSET", "mset", "w"]);
    assert_eq!(ttl(c, "mset"), -1);
    with_ttl(c, "setex", "v");
    ok(c, &["SETEX", "setex", "500", "w"]);
    assert_between("ttl", ttl(c, "setex"), 495, 500);
    with_ttl(c, "set2", "v");
    ok(c, &["SET", "set2", "w", "PX", "300000"]);
    assert_between("ttl", ttl(c, "set2"), 295, 300);

    // these modify the value in place and keep the TTL
    with_ttl(c, "keepttl", "v");
    ok(c, &["SET", "keepttl", "w", "KEEPTTL"]);
    has_ttl(c, "keepttl");
    assert_eq!(get(c, "keepttl").as_deref(), Some("w"));
    with_ttl(c, "append", "v");
    assert_eq!(int(c, &["APPEND", "append", "w"]), 2);
    has_ttl(c, "append");
    with_ttl(c, "setrange", "vvv");
    assert_eq!(int(c, &["SETRANGE", "setrange", "1", "x"]), 3);
    has_ttl(c, "setrange");
    with_ttl(c, "incr", "1");
    assert_eq!(int(c, &["INCR", "incr"]), 2);
    assert_eq!(int(c, &["DECRBY", "incr", "5"]), -3);
    has_ttl(c, "incr");
    with_ttl(c, "float", "1");
    let _: String = q(c, &["INCRBYFLOAT", "float", "0.5"]);
    has_ttl(c, "float");
    // refused conditional writes change nothing
    with_ttl(c, "nx", "v");
    assert_eq!(q::<Option<String>>(c, &["SET", "nx", "w", "NX"]), None);
    assert_eq!(int(c, &["SETNX", "nx", "w"]), 0);
    assert_eq!(int(c, &["MSETNX", "nx", "w"]), 0);
    has_ttl(c, "nx");
    // reads do not change the TTL
    with_ttl(c, "read", "v");
    let _: String = q(c, &["GET", "read"]);
    let _: String = q(c, &["GETEX", "read"]);
    let _: String = q(c, &["GETRANGE", "read", "0", "-1"]);
    let _: i64 = q(c, &["TOUCH", "read"]);
    has_ttl(c, "read");

    // a deleted key comes back without its old TTL
    with_ttl(c, "del", "v");
    assert_eq!(int(c, &["DEL", "del"]), 1);
    assert_eq!(int(c, &["INCR", "del"]), 1);
    assert_eq!(ttl(c, "del"), -1);
    with_ttl(c, "getdel", "v");
    let _: String = q(c, &["GETDEL", "getdel"]);
    assert_eq!(int(c, &["APPEND", "getdel", "x"]), 1);
    assert_eq!(ttl(c, "getdel"), -1);
}

// ------------------------------------------------------- time passing --

#[test]
fn keys_disappear_after_expiry() {
    let server = Server::start();
    let c = &mut server.client();

    // one short sleep for every way of giving a key a TTL
    ok(c, &["SET", "set_px", "v", "PX", "600"]);
    ok(c, &["SET", "set_ex", "v", "EX", "1"]);
    ok(
        c,
        &[
            "SET",
            "set_pxat",
            "v",
            "PXAT",
            &(now_ms() + 700).to_string(),
        ],
    );
    ok(c, &["PSETEX", "psetex", "500", "v"]);
    ok(c, &["SETEX", "setex", "1", "v"]);
    ok(c, &["SET", "expire", "10"]);
    assert_eq!(int(c, &["EXPIRE", "expire", "1"]), 1);
    ok(c, &["SET", "pexpire", "v"]);
    assert_eq!(int(c, &["PEXPIRE", "pexpire", "500"]), 1);
    ok(c, &["SET", "pexpireat", "v"]);
    assert_eq!(
        int(
            c,
            &["PEXPIREAT", "pexpireat", &(now_ms() + 600).to_string()]
        ),
        1
    );
    ok(c, &["SET", "getex", "v"]);
    let _: String = q(c, &["GETEX", "getex", "PX", "500"]);
    ok(c, &["SET", "keepttl", "v", "PX", "700"]);
    ok(c, &["SET", "keepttl", "w", "KEEPTTL"]);
    ok(c, &["SET", "renamed_src", "v", "PX", "700"]);
    ok(c, &["RENAME", "renamed_src", "renamed"]);
    ok(c, &["SET", "copied_src", "v", "PX", "700"]);
    assert_eq!(int(c, &["COPY", "copied_src", "copied"]), 1);
    ok(c, &["SET", "incr", "1", "PX", "700"]);
    assert_eq!(int(c, &["INCR", "incr"]), 2);
    // survivors
    ok(c, &["SET", "stay", "v"]);
    ok(c, &["SET", "stay_ttl", "v", "EX", "100"]);
    ok(c, &["SET", "persisted", "v", "PX", "700"]);
    assert_eq!(int(c, &["PERSIST", "persisted"]), 1);
    ok(c, &["SET", "overwritten", "v", "PX", "700"]);
    ok(c, &["SET", "overwritten", "w"]);

    let gone = [
        "set_px",
        "set_ex",
        "set_pxat",
        "psetex",
        "setex",
        "expire",
        "pexpire",
        "pexpireat",
        "getex",
        "keepttl",
        "renamed",
        "copied_src",
        "copied",
        "incr",
    ];
    let stay = ["overwritten", "persisted", "stay", "stay_ttl"];
    assert_eq!(int(c, &["DBSIZE"]), (gone.len() + stay.len()) as i64);

    sleep(Duration::from_millis(1500));

    for k in gone {
        assert_eq!(get(c, k), None, "GET {k}");
        assert_eq!(int(c, &["EXISTS", k]), 0, "EXISTS {k}");
        assert_eq!(q::<String>(c, &["TYPE", k]), "none", "TYPE {k}");
        assert_eq!(ttl(c, k), -2, "TTL {k}");
        assert_eq!(pttl(c, k), -2, "PTTL {k}");
        assert_eq!(int(c, &["EXPIRETIME", k]), -2, "EXPIRETIME {k}");
        assert_eq!(int(c, &["STRLEN", k]), 0, "STRLEN {k}");
        assert_eq!(int(c, &["TOUCH", k]), 0, "TOUCH {k}");
        assert_eq!(int(c, &["PERSIST", k]), 0, "PERSIST {k}");
        assert_eq!(int(c, &["EXPIRE", k, "100"]), 0, "EXPIRE {k}");
        assert_eq!(q::<Option<String>>(c, &["GETDEL", k]), None, "GETDEL {k}");
        assert_eq!(q::<Option<String>>(c, &["GETEX", k]), None, "GETEX {k}");
        assert_eq!(int(c, &["COPY", k, "copy_target"]), 0, "COPY {k}");
        assert_eq!(err(c, &["RENAME", k, "x"]), "ERR no such key", "RENAME {k}");
    }
    let mut stay_sorted: Vec<String> = stay.iter().map(|s| s.to_string()).collect();
    stay_sorted.sort();
    assert_eq!(sorted_keys(c, "*"), stay_sorted, "KEYS *");
    assert_eq!(
        scan_keys(c),
        stay_sorted.iter().cloned().collect::<BTreeSet<_>>(),
        "SCAN"
    );
    assert_eq!(int(c, &["DBSIZE"]), stay.len() as i64, "DBSIZE");
    assert_eq!(
        int(c, &["EXISTS", "stay", "set_px", "stay_ttl", "expire"]),
        2
    );
    assert_eq!(
        q::<Vec<Option<String>>>(c, &["MGET", "set_px", "stay", "incr"]),
        vec![None, Some("v".to_string()), None]
    );
    assert_eq!(int(c, &["DEL", "set_px", "overwritten", "psetex"]), 1);
    for _ in 0..20 {
        let k: Option<String> = q(c, &["RANDOMKEY"]);
        let k = k.expect("keys remain");
        assert!(stay.contains(&k.as_str()), "RANDOMKEY returned {k}");
    }

    // expired keys behave as missing for writes: NX succeeds, no old TTL,
    // INCR/APPEND/SETRANGE start from nothing
    ok(c, &["SET", "set_ex", "new", "NX"]);
    assert_eq!(ttl(c, "set_ex"), -1);
    assert_eq!(int(c, &["SETNX", "setex", "new"]), 1);
    assert_eq!(int(c, &["MSETNX", "expire", "a", "pexpire", "b"]), 1);
    assert_eq!(int(c, &["INCR", "incr"]), 1);
    assert_eq!(int(c, &["APPEND", "getex", "xy"]), 2);
    assert_eq!(int(c, &["SETRANGE", "keepttl", "1", "z"]), 2);
    assert_eq!(q::<Vec<u8>>(c, &["GET", "keepttl"]), b"\0z".to_vec());
    ok(c, &["RENAME", "stay", "renamed"]);
    assert_eq!(get(c, "renamed").as_deref(), Some("v"));
    assert_eq!(int(c, &["RENAMENX", "renamed", "copied"]), 1);
    for k in [
        "set_ex", "setex", "expire", "incr", "getex", "keepttl", "copied",
    ] {
        assert_eq!(ttl(c, k), -1, "{k}");
    }
}

#[test]
fn ttl_survives_restart() {
    basalt_tests::skip_on_redis!();
    let mut server = Server::start();
    let c = &mut server.client();
    ok(c, &["SET", "ex", "v", "EX", "1000"]);
    ok(c, &["SET", "nottl", "v"]);
    ok(c, &["SET", "px", "v"]);
    assert_eq!(int(c, &["PEXPIRE", "px", "500000"]), 1);
    let at = now_ms() + 700_000;
    ok(c, &["SET", "pxat", "v", "PXAT", &at.to_string()]);
    ok(c, &["SET", "persisted", "v", "EX", "1000"]);
    assert_eq!(int(c, &["PERSIST", "persisted"]), 1);
    ok(c, &["SET", "short", "v", "PX", "200"]);
    // expires a little after the restart
    let soon = now_ms() + 2500;
    ok(c, &["SET", "soon", "v", "PXAT", &soon.to_string()]);
    sleep(Duration::from_millis(300));
    assert_eq!(int(c, &["EXISTS", "short"]), 0);

    server.restart();
    let c = &mut server.client();
    assert_between("ttl", ttl(c, "ex"), 980, 1000);
    assert_between("pttl", pttl(c, "px"), 480_000, 500_000);
    assert_eq!(int(c, &["PEXPIRETIME", "pxat"]), at);
    assert_eq!(ttl(c, "nottl"), -1);
    assert_eq!(ttl(c, "persisted"), -1);
    // expired before the restart: still gone
    assert_eq!(get(c, "short"), None);
    assert_eq!(ttl(c, "short"), -2);
    assert_eq!(get(c, "ex").as_deref(), Some("v"));
    assert!(
        now_ms() < soon,
        "restart took too long to check the key that expires after it"
    );
    assert_eq!(get(c, "soon").as_deref(), Some("v"));
    assert_eq!(int(c, &["PEXPIRETIME", "soon"]), soon);

    // expires after the restart, by the wall clock
    let wait = soon + 200 - now_ms();
    if wait > 0 {
        sleep(Duration::from_millis(wait as u64));
    }
    assert_eq!(get(c, "soon"), None);
    assert_eq!(int(c, &["EXISTS", "soon"]), 0);
    let want = vec!["ex", "nottl", "persisted", "px", "pxat"];
    assert_eq!(sorted_keys(c, "*"), want);
    assert_eq!(int(c, &["DBSIZE"]), 5);

    // a second restart does not resurrect anything
    server.restart();
    let c = &mut server.client();
    assert_eq!(int(c, &["EXISTS", "soon", "short"]), 0);
    assert_eq!(int(c, &["DBSIZE"]), 5);
    assert_eq!(sorted_keys(c, "*"), want);
}

#[test]
fn active_expiry_removes_untouched_keys() {
    let server = Server::start();
    let c = &mut server.client();
    let expired_keys = |c: &mut Connection| -> i64 {
        info_field(c, "stats", "expired_keys")
            .expect("INFO stats has no expired_keys field")
            .parse()
            .expect("expired_keys is not a number")
    };
    let before = expired_keys(c);

    let mut pipe = redis::pipe();
    for i in 0..1000 {
        pipe.cmd("SET")
            .arg(format!("tmp:{i}"))
            .arg("v")
            .arg("PX")
            .arg(100)
            .ignore();
    }
    for i in 0..10 {
        pipe.cmd("SET").arg(format!("keep:{i}")).arg("v").ignore();
    }
    let _: () = pipe.query(c).unwrap();

    // never read the expired keys: only the background cycle may remove them
    let start = Instant::now();
    let mut grown = 0;
    while start.elapsed() < Duration::from_secs(6) {
        sleep(Duration::from_millis(200));
        grown = expired_keys(c) - before;
        if grown >= 1000 {
            break;
        }
    }
    assert!(
        grown >= 1000,
        "INFO stats expired_keys grew by {grown} within {:?}, expected 1000",
        start.elapsed()
    );
    assert_eq!(int(c, &["DBSIZE"]), 10);
    assert_eq!(sorted_keys(c, "tmp:*"), Vec::<String>::new());
    assert_eq!(int(c, &["EXISTS", "keep:0", "keep:9"]), 2);
}
