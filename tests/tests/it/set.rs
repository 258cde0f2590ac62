//! Set commands: SADD SREM SCARD SMEMBERS SISMEMBER SMISMEMBER SPOP
//! SRANDMEMBER SMOVE SINTER SINTERCARD SUNION SDIFF SINTERSTORE SUNIONSTORE
//! SDIFFSTORE SSCAN. Replies and error texts are Redis 7.2's (checked with
//! `BASALT_TEST_AGAINST=redis`). Redis returns set members in no particular
//! order, so replies are compared sorted.

use crate::protocol::{Raw, R};
use basalt_tests::client::{cmd, err, int, q};
use basalt_tests::Server;
use redis::{Connection, FromRedisValue, Value};
use std::collections::{BTreeMap, BTreeSet, HashSet};

// ---------------------------------------------------------------- helpers --

/// A set-valued reply, sorted.
fn members(c: &mut Connection, args: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = q(c, args);
    v.sort();
    v
}

fn strs(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
const SYNTAX: &str = "ERR syntax error";
const NOT_INT: &str = "ERR value is not an integer or out of range";

// ------------------------------------------------------------------ tests --

#[test]
fn add_remove_and_membership() {
    let server = Server::start();
    let c = &mut server.client();

    assert_eq!(int(c, &["SADD", "s", "a", "b", "a", ""]), 3);
    assert_eq!(int(c, &["SADD", "s", "b", "c"]), 1);
    assert_eq!(int(c, &["SCARD", "s"]), 4);
    assert_eq!(members(c, &["SMEMBERS", "s"]), strs(&["", "a", "b", "c"]));
    assert_eq!(int(c, &["SISMEMBER", "s", ""]), 1);
    assert_eq!(int(c, &["SISMEMBER", "s", "zz"]), 0);
    assert_eq!(int(c, &["SISMEMBER", "nokey", "a"]), 0);
    let found: Vec<i64> = q(c, &["SMISMEMBER", "s", "a", "zz", "c", "a"]);
    assert_eq!(found, vec![1, 0, 1, 1]);
    let found: Vec<i64> = q(c, &["SMISMEMBER", "nokey", "a", "b"]);
    assert_eq!(found, vec![0, 0]);
    assert_eq!(int(c, &["SCARD", "nokey"]), 0);
    assert!(members(c, &["SMEMBERS", "nokey"]).is_empty());
    assert_eq!(q::<String>(c, &["TYPE", "s"]), "set");

    // binary-safe members
    let bin: i64 = cmd(&[b"SADD".as_ref(), b"s", b"\x00\xff\r\n"])
        .query(c)
        .unwrap();
    assert_eq!(bin, 1);
    let is: i64 = cmd(&[b"SISMEMBER".as_ref(), b"s", b"\x00\xff\r\n"])
        .query(c)
        .unwrap();
    assert_eq!(is, 1);

    assert_eq!(int(c, &["SREM", "s", "a", "a", "zz"]), 1);
    assert_eq!(int(c, &["SREM", "nokey", "a"]), 0);
    assert_eq!(int(c, &["SREM", "s", "", "b", "c", "\u{0}"]), 3);
    let last: i64 = cmd(&[b"SREM".as_ref(), b"s", b"\x00\xff\r\n"])
        .query(c)
        .unwrap();
    assert_eq!(last, 1);
    // The last SREM deletes the key.
    assert_eq!(int(c, &["EXISTS", "s"]), 0);

    // A TTL survives SADD; an expired set is gone.
    assert_eq!(int(c, &["SADD", "t", "x"]), 1);
    assert_eq!(int(c, &["PEXPIRE", "t", "100"]), 1);
    assert_eq!(int(c, &["SADD", "t", "y"]), 1);
    assert!(int(c, &["PTTL", "t"]) > 0);
    std::thread::sleep(std::time::Duration::from_millis(150));
    assert_eq!(int(c, &["SCARD", "t"]), 0);
    assert_eq!(int(c, &["SADD", "t", "z"]), 1);
    assert_eq!(members(c, &["SMEMBERS", "t"]), strs(&["z"]));
    assert_eq!(int(c, &["TTL", "t"]), -1);

    for args in [
        vec!["SADD", "s"],
        vec!["SREM", "s"],
        vec!["SCARD"],
        vec!["SMEMBERS", "s", "x"],
        vec!["SISMEMBER", "s"],
        vec!["SMISMEMBER", "s"],
        vec!["SMOVE", "a", "b"],
    ] {
        let name = args[0].to_lowercase();
        assert_eq!(
            err(c, &args),
            format!("ERR wrong number of arguments for '{name}' command")
        );
    }
}

#[test]
fn wrong_type_everywhere() {
    let server = Server::start();
    let c = &mut server.client();
    let _: () = q(c, &["SET", "str", "x"]);
    let _: i64 = q(c, &["SADD", "s", "a"]);
    for args in [
        vec!["SADD", "str", "a"],
        vec!["SREM", "str", "a"],
        vec!["SCARD", "str"],
        vec!["SMEMBERS", "str"],
        vec!["SISMEMBER", "str", "a"],
        vec!["SMISMEMBER", "str", "a"],
        vec!["SPOP", "str"],
        vec!["SPOP", "str", "0"],
        vec!["SRANDMEMBER", "str"],
        vec!["SRANDMEMBER", "str", "0"],
        vec!["SMOVE", "str", "s", "a"],
        vec!["SMOVE", "s", "str", "a"],
        // Every key is type-checked, even after a missing one.
        vec!["SINTER", "nokey", "str"],
        vec!["SINTER", "s", "str"],
        vec!["SUNION", "nokey", "str"],
        vec!["SDIFF", "nokey", "str"],
        vec!["SDIFF", "s", "nokey", "str"],
        vec!["SINTERCARD", "2", "nokey", "str"],
        vec!["SINTERSTORE", "d", "nokey", "str"],
        vec!["SUNIONSTORE", "d", "s", "str"],
        vec!["SDIFFSTORE", "d", "s", "str"],
        vec!["SSCAN", "str", "0"],
    ] {
        assert_eq!(err(c, &args), WRONGTYPE, "{args:?}");
    }
    // A missing source answers 0 before the destination's type matters.
    assert_eq!(int(c, &["SMOVE", "nokey", "str", "a"]), 0);
    assert_eq!(int(c, &["EXISTS", "d"]), 0);
    assert_eq!(q::<String>(c, &["GET", "str"]), "x");
}

#[test]
fn spop_and_srandmember() {
    let server = Server::start();
    let c = &mut server.client();
    let all: Vec<String> = (0..20).map(|i| format!("m{i:02}")).collect();
    let mut args = vec!["SADD", "s"];
    args.extend(all.iter().map(String::as_str));
    assert_eq!(int(c, &args), 20);

    // SRANDMEMBER: positive counts are distinct, negative may repeat.
    let one: String = q(c, &["SRANDMEMBER", "s"]);
    assert!(all.contains(&one));
    let five = members(c, &["SRANDMEMBER", "s", "5"]);
    assert_eq!(five.iter().collect::<HashSet<_>>().len(), 5);
    assert!(five.iter().all(|m| all.contains(m)));
    assert_eq!(members(c, &["SRANDMEMBER", "s", "100"]), all);
    let many = members(c, &["SRANDMEMBER", "s", "-50"]);
    assert_eq!(many.len(), 50);
    assert!(many.iter().all(|m| all.contains(m)));
    assert!(members(c, &["SRANDMEMBER", "s", "0"]).is_empty());
    assert_eq!(q::<Value>(c, &["SRANDMEMBER", "nokey"]), Value::Nil);
    assert!(members(c, &["SRANDMEMBER", "nokey", "3"]).is_empty());
    assert!(members(c, &["SRANDMEMBER", "nokey", "-3"]).is_empty());
    assert_eq!(
        err(c, &["SRANDMEMBER", "s", "-9223372036854775808"]),
        "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
    );
    assert_eq!(err(c, &["SRANDMEMBER", "s", "x"]), NOT_INT);
    assert_eq!(err(c, &["SRANDMEMBER", "s", "1", "2"]), SYNTAX);
    assert_eq!(int(c, &["SCARD", "s"]), 20);

    // SPOP
    let positive = "ERR value is out of range, must be positive";
    assert_eq!(err(c, &["SPOP", "s", "-1"]), positive);
    assert_eq!(err(c, &["SPOP", "s", "x"]), positive);
    assert_eq!(err(c, &["SPOP", "s", "1", "2"]), SYNTAX);
    assert!(members(c, &["SPOP", "s", "0"]).is_empty());
    let popped: String = q(c, &["SPOP", "s"]);
    assert!(all.contains(&popped));
    assert_eq!(int(c, &["SISMEMBER", "s", &popped]), 0);
    let seven = members(c, &["SPOP", "s", "7"]);
    assert_eq!(seven.iter().collect::<HashSet<_>>().len(), 7);
    assert!(!seven.contains(&popped));
    assert_eq!(int(c, &["SCARD", "s"]), 12);
    let rest = members(c, &["SPOP", "s", "100"]);
    assert_eq!(rest.len(), 12);
    let mut every: Vec<String> = rest.into_iter().chain(seven).collect();
    every.push(popped);
    every.sort();
    assert_eq!(every, all);
    assert_eq!(int(c, &["EXISTS", "s"]), 0);
    assert_eq!(q::<Value>(c, &["SPOP", "s"]), Value::Nil);
    assert!(members(c, &["SPOP", "s", "3"]).is_empty());
}

#[test]
fn big_set_random_picks() {
    let server = Server::start();
    let c = &mut server.client();
    let mut args = vec!["SADD".to_string(), "big".to_string()];
    args.extend((0..5000).map(|i| format!("e{i}")));
    let added: i64 = cmd(&args).query(c).unwrap();
    assert_eq!(added, 5000);
    let picks = members(c, &["SRANDMEMBER", "big", "200"]);
    assert_eq!(picks.iter().collect::<HashSet<_>>().len(), 200);
    let popped = members(c, &["SPOP", "big", "300"]);
    assert_eq!(popped.iter().collect::<HashSet<_>>().len(), 300);
    assert_eq!(int(c, &["SCARD", "big"]), 4700);
    let left: HashSet<String> = members(c, &["SMEMBERS", "big"]).into_iter().collect();
    assert_eq!(left.len(), 4700);
    assert!(popped.iter().all(|p| !left.contains(p)));
    let dup = members(c, &["SRANDMEMBER", "big", "-1000"]);
    assert_eq!(dup.len(), 1000);
    assert!(dup.iter().all(|m| left.contains(m)));
}

#[test]
fn smove_cases() {
    let server = Server::start();
    let c = &mut server.client();
    let _: i64 = q(c, &["SADD", "a", "x", "y"]);
    let _: i64 = q(c, &["SADD", "b", "y"]);
    assert_eq!(int(c, &["SMOVE", "a", "b", "x"]), 1);
    assert_eq!(members(c, &["SMEMBERS", "b"]), strs(&["x", "y"]));
    assert_eq!(int(c, &["SMOVE", "a", "b", "x"]), 0);
    assert_eq!(int(c, &["SMOVE", "a", "b", "zz"]), 0);
    // Already in the destination: still removed from the source.
    assert_eq!(int(c, &["SMOVE", "a", "b", "y"]), 1);
    assert_eq!(int(c, &["EXISTS", "a"]), 0);
    assert_eq!(int(c, &["SCARD", "b"]), 2);
    // Same key: a no-op answering membership.
    assert_eq!(int(c, &["SMOVE", "b", "b", "x"]), 1);
    assert_eq!(int(c, &["SMOVE", "b", "b", "zz"]), 0);
    assert_eq!(int(c, &["SCARD", "b"]), 2);
    // A new destination is created.
    assert_eq!(int(c, &["SMOVE", "b", "new", "x"]), 1);
    assert_eq!(members(c, &["SMEMBERS", "new"]), strs(&["x"]));
    assert_eq!(int(c, &["SMOVE", "nokey", "new", "x"]), 0);
}

#[test]
fn algebra_and_store() {
    let server = Server::start();
    let c = &mut server.client();
    let _: i64 = q(c, &["SADD", "a", "1", "2", "3", "4"]);
    let _: i64 = q(c, &["SADD", "b", "2", "3", "5"]);
    let _: i64 = q(c, &["SADD", "c", "3", "4", "5", "6"]);

    assert_eq!(members(c, &["SINTER", "a", "b"]), strs(&["2", "3"]));
    assert_eq!(members(c, &["SINTER", "a", "b", "c"]), strs(&["3"]));
    assert_eq!(members(c, &["SINTER", "a"]), strs(&["1", "2", "3", "4"]));
    assert_eq!(
        members(c, &["SINTER", "a", "a"]),
        strs(&["1", "2", "3", "4"])
    );
    assert!(members(c, &["SINTER", "a", "nokey"]).is_empty());
    assert_eq!(
        members(c, &["SUNION", "a", "b", "nokey"]),
        strs(&["1", "2", "3", "4", "5"])
    );
    assert!(members(c, &["SUNION", "nokey"]).is_empty());
    assert_eq!(members(c, &["SDIFF", "a", "b"]), strs(&["1", "4"]));
    assert_eq!(members(c, &["SDIFF", "a", "b", "c"]), strs(&["1"]));
    assert_eq!(
        members(c, &["SDIFF", "a", "nokey"]),
        strs(&["1", "2", "3", "4"])
    );
    assert!(members(c, &["SDIFF", "a", "a"]).is_empty());
    assert!(members(c, &["SDIFF", "nokey", "a"]).is_empty());

    // STORE forms overwrite any type and drop its TTL.
    let _: () = q(c, &["SET", "dst", "string"]);
    let _: i64 = q(c, &["EXPIRE", "dst", "1000"]);
    assert_eq!(int(c, &["SINTERSTORE", "dst", "a", "b"]), 2);
    assert_eq!(members(c, &["SMEMBERS", "dst"]), strs(&["2", "3"]));
    assert_eq!(int(c, &["TTL", "dst"]), -1);
    assert_eq!(int(c, &["SUNIONSTORE", "dst", "dst", "c"]), 5);
    assert_eq!(
        members(c, &["SMEMBERS", "dst"]),
        strs(&["2", "3", "4", "5", "6"])
    );
    assert_eq!(int(c, &["SCARD", "dst"]), 5);
    assert_eq!(int(c, &["SDIFFSTORE", "dst", "dst", "a"]), 2);
    assert_eq!(members(c, &["SMEMBERS", "dst"]), strs(&["5", "6"]));
    // An empty result deletes the destination.
    assert_eq!(int(c, &["SINTERSTORE", "dst", "a", "nokey"]), 0);
    assert_eq!(int(c, &["EXISTS", "dst"]), 0);
    let _: i64 = q(c, &["SADD", "dst", "z"]);
    assert_eq!(int(c, &["SDIFFSTORE", "dst", "a", "a"]), 0);
    assert_eq!(int(c, &["EXISTS", "dst"]), 0);
    assert_eq!(int(c, &["SUNIONSTORE", "dst", "nokey"]), 0);
    assert_eq!(int(c, &["EXISTS", "dst"]), 0);
    // Sources are untouched.
    assert_eq!(int(c, &["SCARD", "a"]), 4);

    for name in ["SINTER", "SUNION", "SDIFF"] {
        assert_eq!(
            err(c, &[name]),
            format!(
                "ERR wrong number of arguments for '{}' command",
                name.to_lowercase()
            )
        );
    }
    for name in ["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"] {
        assert_eq!(
            err(c, &[name, "dst"]),
            format!(
                "ERR wrong number of arguments for '{}' command",
                name.to_lowercase()
            )
        );
    }
}

#[test]
fn sintercard_cases() {
    let server = Server::start();
    let c = &mut server.client();
    let _: i64 = q(c, &["SADD", "a", "1", "2", "3", "4"]);
    let _: i64 = q(c, &["SADD", "b", "2", "3", "4", "5"]);
    assert_eq!(int(c, &["SINTERCARD", "2", "a", "b"]), 3);
    assert_eq!(int(c, &["SINTERCARD", "1", "a"]), 4);
    assert_eq!(int(c, &["SINTERCARD", "2", "a", "b", "LIMIT", "2"]), 2);
    assert_eq!(int(c, &["SINTERCARD", "2", "a", "b", "limit", "0"]), 3);
    assert_eq!(int(c, &["SINTERCARD", "2", "a", "b", "LIMIT", "10"]), 3);
    assert_eq!(int(c, &["SINTERCARD", "2", "a", "nokey"]), 0);
    assert_eq!(int(c, &["SINTERCARD", "1", "nokey"]), 0);

    let numkeys = "ERR numkeys should be greater than 0";
    assert_eq!(err(c, &["SINTERCARD", "0", "a"]), numkeys);
    assert_eq!(err(c, &["SINTERCARD", "-1", "a"]), numkeys);
    assert_eq!(err(c, &["SINTERCARD", "x", "a"]), numkeys);
    assert_eq!(
        err(c, &["SINTERCARD", "3", "a", "b"]),
        "ERR Number of keys can't be greater than number of args"
    );
    let negative = "ERR LIMIT can't be negative";
    assert_eq!(
        err(c, &["SINTERCARD", "2", "a", "b", "LIMIT", "-1"]),
        negative
    );
    assert_eq!(
        err(c, &["SINTERCARD", "2", "a", "b", "LIMIT", "x"]),
        negative
    );
    assert_eq!(err(c, &["SINTERCARD", "1", "a", "LIMIT"]), SYNTAX);
    assert_eq!(err(c, &["SINTERCARD", "2", "a", "b", "FOO", "1"]), SYNTAX);
    assert_eq!(
        err(c, &["SINTERCARD", "1"]),
        "ERR wrong number of arguments for 'sintercard' command"
    );
}

#[test]
fn sscan_cases() {
    let server = Server::start();
    let c = &mut server.client();
    let all: Vec<String> = (0..300).map(|i| format!("m{i:03}")).collect();
    let mut args = vec!["SADD".to_string(), "s".to_string()];
    args.extend(all.iter().cloned());
    let _: i64 = cmd(&args).query(c).unwrap();

    let scan_all = |c: &mut Connection, extra: &[&str]| -> Vec<String> {
        let mut seen = Vec::new();
        let mut cursor = "0".to_string();
        for _ in 0..10_000 {
            let mut a = vec!["SSCAN", "s", cursor.as_str()];
            a.extend_from_slice(extra);
            let (next, page): (String, Vec<String>) = q(c, &a);
            seen.extend(page);
            cursor = next;
            if cursor == "0" {
                break;
            }
        }
        assert_eq!(cursor, "0", "SSCAN did not finish");
        seen.sort();
        seen.dedup();
        seen
    };
    assert_eq!(scan_all(c, &[]), all);
    assert_eq!(scan_all(c, &["COUNT", "7"]), all);
    let matched = scan_all(c, &["MATCH", "m1?0", "COUNT", "50"]);
    assert_eq!(
        matched,
        strs(&["m100", "m110", "m120", "m130", "m140", "m150", "m160", "m170", "m180", "m190"])
    );
    assert_eq!(scan_all(c, &["match", "*"]), all);

    let (cursor, page): (String, Vec<String>) = q(c, &["SSCAN", "nokey", "0"]);
    assert_eq!((cursor.as_str(), page.len()), ("0", 0));

    assert_eq!(err(c, &["SSCAN", "s", "x"]), "ERR invalid cursor");
    assert_eq!(
        err(c, &["SSCAN", "s", "18446744073709551616"]),
        "ERR invalid cursor"
    );
    assert_eq!(err(c, &["SSCAN", "s", "0", "COUNT", "0"]), SYNTAX);
    assert_eq!(err(c, &["SSCAN", "s", "0", "COUNT", "-1"]), SYNTAX);
    assert_eq!(err(c, &["SSCAN", "s", "0", "COUNT", "x"]), NOT_INT);
    assert_eq!(err(c, &["SSCAN", "s", "0", "MATCH"]), SYNTAX);
    assert_eq!(err(c, &["SSCAN", "s", "0", "FOO", "bar"]), SYNTAX);
}

#[test]
fn resp3_reply_types() {
    let server = Server::start();
    let mut c = Raw::connect(server.port);
    c.val(&["HELLO", "3"]);
    assert_eq!(c.val(&["SADD", "s", "a", "b"]), R::Int(2));
    assert_eq!(c.val(&["SADD", "t", "b"]), R::Int(1));
    let is_set = |r: &R, n: usize| matches!(r, R::Set(v) if v.len() == n);
    assert!(is_set(&c.val(&["SMEMBERS", "s"]), 2));
    assert!(is_set(&c.val(&["SMEMBERS", "nokey"]), 0));
    assert!(is_set(&c.val(&["SINTER", "s", "t"]), 1));
    assert!(is_set(&c.val(&["SUNION", "s", "t"]), 2));
    assert!(is_set(&c.val(&["SDIFF", "s", "t"]), 1));
    assert!(is_set(&c.val(&["SPOP", "nokey", "2"]), 0));
    assert_eq!(
        c.val(&["SMISMEMBER", "s", "a", "z"]),
        R::Arr(vec![R::Int(1), R::Int(0)])
    );
    assert!(matches!(c.val(&["SRANDMEMBER", "s", "-3"]), R::Arr(v) if v.len() == 3));
    assert!(matches!(c.val(&["SRANDMEMBER", "nokey", "3"]), R::Arr(v) if v.is_empty()));
    assert_eq!(c.val(&["SRANDMEMBER", "nokey"]), R::Nil);
    assert_eq!(c.val(&["SPOP", "nokey"]), R::Nil);
    let scan = c.val(&["SSCAN", "s", "0", "COUNT", "100"]);
    assert!(
        matches!(&scan, R::Arr(v) if v.len() == 2 && matches!(&v[1], R::Arr(m) if m.len() == 2))
    );
    assert!(is_set(&c.val(&["SPOP", "s", "5"]), 2));
}

// ------------------------------------------------------- randomized model --

/// xorshift64*: deterministic and dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

type Model = BTreeMap<String, BTreeSet<String>>;

fn sorted_reply(v: Value) -> Vec<String> {
    let mut out: Vec<String> = FromRedisValue::from_redis_value(v).unwrap();
    out.sort();
    out
}

fn set_of(model: &Model, key: &str) -> BTreeSet<String> {
    model.get(key).cloned().unwrap_or_default()
}

fn store(model: &mut Model, key: &str, set: BTreeSet<String>) {
    if set.is_empty() {
        model.remove(key);
    } else {
        model.insert(key.to_string(), set);
    }
}

fn combine(model: &Model, op: &str, keys: &[&str]) -> BTreeSet<String> {
    let mut sets = keys.iter().map(|k| set_of(model, k));
    let first = sets.next().unwrap_or_default();
    match op {
        "inter" => sets.fold(first, |acc, s| acc.intersection(&s).cloned().collect()),
        "union" => sets.fold(first, |acc, s| acc.union(&s).cloned().collect()),
        _ => sets.fold(first, |acc, s| acc.difference(&s).cloned().collect()),
    }
}

#[test]
fn randomized_against_model() {
    let server = Server::start();
    let c = &mut server.client();
    let mut rng = Rng(0x5EED_0FBA_5A17);
    let mut model = Model::new();
    let keys = ["k0", "k1", "k2", "k3"];
    let elems = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "", "12"];

    for step in 0..3000 {
        let key = rng.pick(&keys);
        let op = rng.below(15);
        let ctx = format!("step {step} op {op} key {key}");
        match op {
            0 | 1 => {
                let n = 1 + rng.below(4);
                let ms: Vec<&str> = (0..n).map(|_| rng.pick(&elems)).collect();
                let mut args = vec!["SADD", key];
                args.extend(&ms);
                let set = model.entry(key.to_string()).or_default();
                let want = ms.iter().filter(|m| set.insert(m.to_string())).count() as i64;
                assert_eq!(int(c, &args), want, "{ctx}");
            }
            2 => {
                let n = 1 + rng.below(4);
                let ms: Vec<&str> = (0..n).map(|_| rng.pick(&elems)).collect();
                let mut args = vec!["SREM", key];
                args.extend(&ms);
                let mut set = set_of(&model, key);
                let want = ms.iter().filter(|m| set.remove(**m)).count() as i64;
                store(&mut model, key, set);
                assert_eq!(int(c, &args), want, "{ctx}");
            }
            3 => {
                let want = set_of(&model, key).len() as i64;
                assert_eq!(int(c, &["SCARD", key]), want, "{ctx}");
                let want: Vec<String> = set_of(&model, key).into_iter().collect();
                assert_eq!(members(c, &["SMEMBERS", key]), want, "{ctx}");
            }
            4 => {
                let ms = [rng.pick(&elems), rng.pick(&elems)];
                let set = set_of(&model, key);
                let want: Vec<i64> = ms.iter().map(|m| set.contains(*m) as i64).collect();
                let got: Vec<i64> = q(c, &["SMISMEMBER", key, ms[0], ms[1]]);
                assert_eq!(got, want, "{ctx}");
                let one = int(c, &["SISMEMBER", key, ms[0]]);
                assert_eq!(one, want[0], "{ctx}");
            }
            5 => {
                let count = rng.below(5);
                let mut set = set_of(&model, key);
                let got = sorted_reply(q(c, &["SPOP", key, &count.to_string()]));
                assert_eq!(got.len(), (count as usize).min(set.len()), "{ctx}");
                for m in &got {
                    assert!(set.remove(m), "{ctx}: popped {m:?} not in the set");
                }
                store(&mut model, key, set);
            }
            6 => {
                let mut set = set_of(&model, key);
                match q::<Option<String>>(c, &["SPOP", key]) {
                    Some(m) => assert!(set.remove(&m), "{ctx}: popped {m:?}"),
                    None => assert!(set.is_empty(), "{ctx}"),
                }
                store(&mut model, key, set);
            }
            7 => {
                let count = rng.below(9) as i64 - 4;
                let set = set_of(&model, key);
                let got = sorted_reply(q(c, &["SRANDMEMBER", key, &count.to_string()]));
                let want_len = if set.is_empty() {
                    0
                } else if count >= 0 {
                    (count as usize).min(set.len())
                } else {
                    count.unsigned_abs() as usize
                };
                assert_eq!(got.len(), want_len, "{ctx}");
                assert!(got.iter().all(|m| set.contains(m)), "{ctx}");
                if count > 0 {
                    assert_eq!(got.iter().collect::<HashSet<_>>().len(), got.len(), "{ctx}");
                }
            }
            8 => {
                let dst = rng.pick(&keys);
                let m = rng.pick(&elems);
                let mut from = set_of(&model, key);
                let want = from.contains(m);
                if want && key != dst {
                    from.remove(m);
                    store(&mut model, key, from);
                    model
                        .entry(dst.to_string())
                        .or_default()
                        .insert(m.to_string());
                }
                assert_eq!(int(c, &["SMOVE", key, dst, m]), want as i64, "{ctx}");
            }
            9..=11 => {
                let name = ["inter", "union", "diff"][(op - 9) as usize];
                let n = 1 + rng.below(3) as usize;
                let srcs: Vec<&str> = (0..n).map(|_| rng.pick(&keys)).collect();
                let want: Vec<String> = combine(&model, name, &srcs).into_iter().collect();
                let mut args = vec![["SINTER", "SUNION", "SDIFF"][(op - 9) as usize]];
                args.extend(&srcs);
                assert_eq!(members(c, &args), want, "{ctx} {args:?}");
            }
            12 | 13 => {
                let idx = rng.below(3) as usize;
                let name = ["inter", "union", "diff"][idx];
                let n = 1 + rng.below(3) as usize;
                let srcs: Vec<&str> = (0..n).map(|_| rng.pick(&keys)).collect();
                let result = combine(&model, name, &srcs);
                let want = result.len() as i64;
                let mut args = vec![["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"][idx], key];
                args.extend(&srcs);
                assert_eq!(int(c, &args), want, "{ctx} {args:?}");
                store(&mut model, key, result);
            }
            _ => {
                let other = rng.pick(&keys);
                let limit = rng.below(4);
                let size = combine(&model, "inter", &[key, other]).len() as u64;
                let want = if limit == 0 { size } else { size.min(limit) };
                let got = int(
                    c,
                    &["SINTERCARD", "2", key, other, "LIMIT", &limit.to_string()],
                );
                assert_eq!(got as u64, want, "{ctx}");
            }
        }
    }
    for key in keys {
        let want: Vec<String> = set_of(&model, key).into_iter().collect();
        assert_eq!(members(c, &["SMEMBERS", key]), want, "final {key}");
        assert_eq!(
            int(c, &["EXISTS", key]),
            !want.is_empty() as i64,
            "final {key}"
        );
    }
}
