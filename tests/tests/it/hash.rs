//! Hash commands: HSET HSETNX HMSET HGET HMGET HGETALL HKEYS HVALS HLEN
//! HEXISTS HDEL HSTRLEN HINCRBY HINCRBYFLOAT HRANDFIELD HSCAN and Kvrocks'
//! HRANGEBYLEX. Replies and error texts are Redis 7.2's (checked with
//! `BASALT_TEST_AGAINST=redis`), plus a randomized comparison with a model.

use crate::protocol::Raw;
use basalt_tests::client::{cmd, err, q, show};
use basalt_tests::{skip_on_redis, Server};
use redis::{Connection, Value};
use std::collections::{BTreeMap, BTreeSet};

fn r(c: &mut Connection, args: &[&str]) -> String {
    show(&q::<Value>(c, args))
}

/// A list reply's elements as text, sorted (hash order is unspecified in
/// Redis).
fn sorted(c: &mut Connection, args: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = q(c, args);
    v.sort();
    v
}

const NOT_INT: &str = "ERR value is not an integer or out of range";
const SYNTAX: &str = "ERR syntax error";
const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

#[test]
fn set_get_and_delete() {
    let server = Server::start();
    let c = &mut server.client();

    assert_eq!(r(c, &["HSET", "h", "a", "1", "b", "2", "a", "3"]), "2");
    assert_eq!(r(c, &["HGET", "h", "a"]), "3");
    assert_eq!(r(c, &["HGET", "h", "zz"]), "nil");
    assert_eq!(r(c, &["HGET", "nokey", "a"]), "nil");
    assert_eq!(r(c, &["HSET", "h", "a", "4", "c", ""]), "1");
    assert_eq!(r(c, &["HLEN", "h"]), "3");
    assert_eq!(r(c, &["HLEN", "nokey"]), "0");
    assert_eq!(r(c, &["HSETNX", "h", "a", "x"]), "0");
    assert_eq!(r(c, &["HSETNX", "h", "d", "x"]), "1");
    assert_eq!(r(c, &["HMSET", "h", "e", "5", "a", "1"]), "OK");
    assert_eq!(r(c, &["HMGET", "h", "a", "nope", "c", "e"]), "[1,nil,,5]");
    assert_eq!(r(c, &["HMGET", "nokey", "a", "b"]), "[nil,nil]");
    assert_eq!(sorted(c, &["HKEYS", "h"]), ["a", "b", "c", "d", "e"]);
    assert_eq!(sorted(c, &["HVALS", "h"]), ["", "1", "2", "5", "x"]);
    let all: BTreeMap<String, String> = q(c, &["HGETALL", "h"]);
    assert_eq!(
        all.into_iter().collect::<Vec<_>>(),
        [("a", "1"), ("b", "2"), ("c", ""), ("d", "x"), ("e", "5")]
            .map(|(f, v)| (f.to_string(), v.to_string()))
    );
    assert_eq!(r(c, &["HGETALL", "nokey"]), "[]");
    assert_eq!(r(c, &["HKEYS", "nokey"]), "[]");
    assert_eq!(r(c, &["HEXISTS", "h", "c"]), "1");
    assert_eq!(r(c, &["HEXISTS", "h", "zz"]), "0");
    assert_eq!(r(c, &["HEXISTS", "nokey", "c"]), "0");
    assert_eq!(r(c, &["HSTRLEN", "h", "e"]), "1");
    assert_eq!(r(c, &["HSTRLEN", "h", "c"]), "0");
    assert_eq!(r(c, &["HSTRLEN", "h", "zz"]), "0");
    assert_eq!(r(c, &["HDEL", "h", "a", "a", "zz", "b"]), "2");
    assert_eq!(r(c, &["HDEL", "nokey", "a"]), "0");
    assert_eq!(r(c, &["HDEL", "h", "c", "d", "e"]), "3");
    // The last field takes the key with it.
    assert_eq!(r(c, &["EXISTS", "h"]), "0");
    assert_eq!(r(c, &["TYPE", "h"]), "none");

    // A hash survives TTL commands, and expires whole.
    assert_eq!(r(c, &["HSET", "t", "f", "v"]), "1");
    assert_eq!(r(c, &["TYPE", "t"]), "hash");
    assert_eq!(r(c, &["PEXPIRE", "t", "50"]), "1");
    std::thread::sleep(std::time::Duration::from_millis(120));
    assert_eq!(r(c, &["HGET", "t", "f"]), "nil");
    assert_eq!(r(c, &["HLEN", "t"]), "0");
    // A recreated hash does not see the expired generation's fields.
    assert_eq!(r(c, &["HSET", "t", "g", "w"]), "1");
    assert_eq!(r(c, &["HGETALL", "t"]), "[g,w]");
    assert_eq!(r(c, &["DEL", "t"]), "1");
    assert_eq!(r(c, &["HSET", "t", "x", "y"]), "1");
    assert_eq!(r(c, &["HKEYS", "t"]), "[x]");
}

#[test]
fn arity_wrongtype_and_binary_fields() {
    let server = Server::start();
    let c = &mut server.client();
    for (args, name) in [
        (&["HSET", "h", "a"][..], "hset"),
        (&["HSET", "h", "a", "1", "b"][..], "hset"),
        (&["HMSET", "h", "a"][..], "hmset"),
        (&["HMSET", "h", "a", "1", "b"][..], "hmset"),
        (&["HGET", "h"][..], "hget"),
        (&["HSETNX", "h", "a"][..], "hsetnx"),
        (&["HDEL", "h"][..], "hdel"),
        (&["HMGET", "h"][..], "hmget"),
        (&["HINCRBY", "h", "a"][..], "hincrby"),
        (&["HRANDFIELD"][..], "hrandfield"),
        (&["HSCAN", "h"][..], "hscan"),
    ] {
        assert_eq!(
            err(c, args),
            format!("ERR wrong number of arguments for '{name}' command"),
            "{args:?}"
        );
    }
    assert_eq!(r(c, &["EXISTS", "h"]), "0");

    assert_eq!(r(c, &["SET", "s", "v"]), "OK");
    for args in [
        &["HSET", "s", "a", "1"][..],
        &["HSETNX", "s", "a", "1"],
        &["HMSET", "s", "a", "1"],
        &["HGET", "s", "a"],
        &["HMGET", "s", "a"],
        &["HGETALL", "s"],
        &["HKEYS", "s"],
        &["HVALS", "s"],
        &["HLEN", "s"],
        &["HEXISTS", "s", "a"],
        &["HDEL", "s", "a"],
        &["HSTRLEN", "s", "a"],
        &["HINCRBY", "s", "a", "1"],
        &["HINCRBYFLOAT", "s", "a", "1"],
        &["HRANDFIELD", "s"],
        &["HRANDFIELD", "s", "2"],
        &["HSCAN", "s", "0"],
    ] {
        assert_eq!(err(c, args), WRONGTYPE, "{args:?}");
    }
    assert_eq!(r(c, &["HSET", "h", "a", "1"]), "1");
    assert_eq!(err(c, &["GET", "h"]), WRONGTYPE);
    // SET replaces a hash whatever it holds.
    assert_eq!(r(c, &["SET", "h", "str"]), "OK");
    assert_eq!(r(c, &["GET", "h"]), "str");

    // Fields and values are binary-safe, including NUL and the empty field.
    let b: Vec<u8> = vec![0, 255, b'\r', b'\n', 0];
    let n: i64 = cmd(&[&b"HSET"[..], b"bin", &b, &b, b"", b"empty"])
        .query(c)
        .unwrap();
    assert_eq!(n, 2);
    let v: Vec<u8> = cmd(&[&b"HGET"[..], b"bin", &b]).query(c).unwrap();
    assert_eq!(v, b);
    assert_eq!(r(c, &["HGET", "bin", ""]), "empty");
    assert_eq!(r(c, &["HLEN", "bin"]), "2");
}

#[test]
fn increments() {
    let server = Server::start();
    let c = &mut server.client();
    assert_eq!(r(c, &["HINCRBY", "h", "n", "5"]), "5");
    assert_eq!(r(c, &["HINCRBY", "h", "n", "-12"]), "-7");
    assert_eq!(r(c, &["HGET", "h", "n"]), "-7");
    assert_eq!(err(c, &["HINCRBY", "h", "n", "x"]), NOT_INT);
    assert_eq!(err(c, &["HINCRBY", "h", "n", "1.5"]), NOT_INT);
    assert_eq!(
        r(
            c,
            &[
                "HSET",
                "h",
                "big",
                "9223372036854775807",
                "t",
                "abc",
                "sp",
                " 1"
            ]
        ),
        "3"
    );
    assert_eq!(
        err(c, &["HINCRBY", "h", "big", "1"]),
        "ERR increment or decrement would overflow"
    );
    assert_eq!(r(c, &["HINCRBY", "h", "big", "-1"]), "9223372036854775806");
    assert_eq!(
        err(c, &["HINCRBY", "h", "t", "1"]),
        "ERR hash value is not an integer"
    );
    assert_eq!(
        err(c, &["HINCRBY", "h", "sp", "1"]),
        "ERR hash value is not an integer"
    );
    assert_eq!(r(c, &["HINCRBY", "h", "n", "0"]), "-7");

    assert_eq!(r(c, &["HINCRBYFLOAT", "h", "f", "10.5"]), "10.5");
    assert_eq!(r(c, &["HINCRBYFLOAT", "h", "f", "0.1"]), "10.6");
    assert_eq!(r(c, &["HINCRBYFLOAT", "h", "f", "-10.6"]), "0");
    assert_eq!(r(c, &["HINCRBYFLOAT", "h", "g", "5.0e3"]), "5000");
    assert_eq!(r(c, &["HINCRBYFLOAT", "h", "g", "2.0e2"]), "5200");
    assert_eq!(r(c, &["HGET", "h", "g"]), "5200");
    assert_eq!(r(c, &["HINCRBYFLOAT", "h", "n", "1.5"]), "-5.5");
    // An integer written by HINCRBYFLOAT's text is readable by HINCRBY.
    assert_eq!(r(c, &["HINCRBY", "h", "g", "1"]), "5201");
    assert_eq!(
        err(c, &["HINCRBYFLOAT", "h", "t", "1"]),
        "ERR hash value is not a float"
    );
    assert_eq!(
        err(c, &["HINCRBYFLOAT", "h", "f", "x"]),
        "ERR value is not a valid float"
    );
    assert_eq!(
        err(c, &["HINCRBYFLOAT", "h", "f", "inf"]),
        "ERR value is NaN or Infinity"
    );
    assert_eq!(
        err(c, &["HINCRBYFLOAT", "h", "f", "nan"]),
        "ERR value is not a valid float"
    );
    // Redis adds in long double, so only Basalt's f64 overflows here (a
    // documented deviation shared with INCRBYFLOAT).
    if !basalt_tests::against_redis() {
        assert_eq!(r(c, &["HSET", "h", "top", "1.7e308"]), "1");
        assert_eq!(
            err(c, &["HINCRBYFLOAT", "h", "top", "1.7e308"]),
            "ERR increment would produce NaN or Infinity"
        );
        assert_eq!(r(c, &["HGET", "h", "top"]), "1.7e308");
    }
}

#[test]
fn random_fields() {
    let server = Server::start();
    let c = &mut server.client();
    assert_eq!(r(c, &["HRANDFIELD", "nokey"]), "nil");
    assert_eq!(r(c, &["HRANDFIELD", "nokey", "3"]), "[]");
    assert_eq!(r(c, &["HRANDFIELD", "nokey", "-3", "WITHVALUES"]), "[]");
    assert_eq!(r(c, &["HSET", "h", "a", "1", "b", "2", "c", "3"]), "3");
    let one: String = q(c, &["HRANDFIELD", "h"]);
    assert!(["a", "b", "c"].contains(&one.as_str()));
    assert_eq!(r(c, &["HRANDFIELD", "h", "0"]), "[]");
    assert_eq!(sorted(c, &["HRANDFIELD", "h", "3"]), ["a", "b", "c"]);
    assert_eq!(sorted(c, &["HRANDFIELD", "h", "100"]), ["a", "b", "c"]);
    let two: BTreeSet<String> = q::<Vec<String>>(c, &["HRANDFIELD", "h", "2"])
        .into_iter()
        .collect();
    assert_eq!(two.len(), 2);
    let many: Vec<String> = q(c, &["HRANDFIELD", "h", "-50"]);
    assert_eq!(many.len(), 50);
    assert!(many.iter().all(|f| ["a", "b", "c"].contains(&f.as_str())));
    let pairs: Vec<String> = q(c, &["HRANDFIELD", "h", "-20", "withvalues"]);
    assert_eq!(pairs.len(), 40);
    for p in pairs.chunks(2) {
        let expected = match p[0].as_str() {
            "a" => "1",
            "b" => "2",
            _ => "3",
        };
        assert_eq!(p[1], expected);
    }
    let mut pairs: Vec<String> = q(c, &["HRANDFIELD", "h", "5", "WITHVALUES"]);
    pairs.sort();
    assert_eq!(pairs, ["1", "2", "3", "a", "b", "c"]);

    assert_eq!(err(c, &["HRANDFIELD", "h", "x"]), NOT_INT);
    assert_eq!(err(c, &["HRANDFIELD", "h", "1", "foo"]), SYNTAX);
    assert_eq!(err(c, &["HRANDFIELD", "h", "1", "withvalues", "x"]), SYNTAX);
    assert_eq!(
        err(c, &["HRANDFIELD", "h", "-9223372036854775808"]),
        "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
    );
    assert_eq!(
        err(
            c,
            &["HRANDFIELD", "h", "-4611686018427387904", "withvalues"]
        ),
        "ERR value is out of range"
    );
    assert_eq!(
        err(c, &["HRANDFIELD", "h", "9223372036854775807", "withvalues"]),
        "ERR value is out of range"
    );
}

#[test]
fn resp3_replies() {
    let server = Server::start();
    let mut raw = Raw::connect(server.port);
    raw.val(&["HELLO", "3"]);
    assert_eq!(raw.cmd(&["HSET", "h", "f", "v"]), ":1\r\n");
    assert_eq!(raw.cmd(&["HGETALL", "h"]), "%1\r\n$1\r\nf\r\n$1\r\nv\r\n");
    assert_eq!(raw.cmd(&["HGETALL", "nokey"]), "%0\r\n");
    assert_eq!(raw.cmd(&["HGET", "nokey", "f"]), "_\r\n");
    assert_eq!(
        raw.cmd(&["HRANDFIELD", "h", "-2", "WITHVALUES"]),
        "*2\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n"
    );
    assert_eq!(raw.cmd(&["HRANDFIELD", "h", "1"]), "*1\r\n$1\r\nf\r\n");
}

/// Scans to the end and returns every field with its value, checking that
/// no field is returned twice.
fn scan_all(c: &mut Connection, key: &str, extra: &[&str]) -> BTreeMap<String, String> {
    let mut cursor = "0".to_string();
    let mut out = BTreeMap::new();
    loop {
        let mut args = vec!["HSCAN", key, cursor.as_str()];
        args.extend_from_slice(extra);
        let (next, items): (String, Vec<String>) = q(c, &args);
        for p in items.chunks(2) {
            assert!(
                out.insert(p[0].clone(), p[1].clone()).is_none(),
                "{} twice",
                p[0]
            );
        }
        if next == "0" {
            return out;
        }
        cursor = next;
    }
}

#[test]
fn scan() {
    let server = Server::start();
    let c = &mut server.client();
    assert_eq!(r(c, &["HSCAN", "nokey", "0"]), "[0,[]]");
    for i in 0..300 {
        let (f, v) = (format!("f{i}"), format!("v{i}"));
        let _: i64 = q(c, &["HSET", "h", &f, &v]);
    }
    let all = scan_all(c, "h", &[]);
    assert_eq!(all.len(), 300);
    assert_eq!(all["f17"], "v17");
    assert_eq!(scan_all(c, "h", &["COUNT", "7"]).len(), 300);
    let matched = scan_all(c, "h", &["MATCH", "f1*", "COUNT", "20"]);
    assert_eq!(matched.len(), 111);
    assert!(matched.keys().all(|k| k.starts_with("f1")));
    assert_eq!(scan_all(c, "h", &["MATCH", "nothing*"]).len(), 0);

    assert_eq!(err(c, &["HSCAN", "h", "abc"]), "ERR invalid cursor");
    assert_eq!(err(c, &["HSCAN", "h", "0", "COUNT", "0"]), SYNTAX);
    assert_eq!(err(c, &["HSCAN", "h", "0", "COUNT", "x"]), NOT_INT);
    assert_eq!(err(c, &["HSCAN", "h", "0", "MATCH"]), SYNTAX);
    assert_eq!(err(c, &["HSCAN", "h", "0", "FOO", "bar"]), SYNTAX);
}

#[test]
fn scan_novalues() {
    // NOVALUES arrived in Redis 7.4; the reference server is 7.0.
    skip_on_redis!();
    let server = Server::start();
    let c = &mut server.client();
    assert_eq!(r(c, &["HSET", "h", "a", "1", "b", "2", "c", "3"]), "3");
    assert_eq!(r(c, &["HSCAN", "h", "0", "NOVALUES"]), "[0,[a,b,c]]");
    assert_eq!(
        r(c, &["HSCAN", "h", "0", "MATCH", "b", "NOVALUES"]),
        "[0,[b]]"
    );
    // Basalt walks fields in order, so COUNT bounds each page exactly.
    let (cursor, page): (String, Vec<String>) = q(c, &["HSCAN", "h", "0", "COUNT", "2"]);
    assert_eq!(page, ["a", "1", "b", "2"]);
    assert_eq!(r(c, &["HSCAN", "h", &cursor]), "[0,[c,3]]");
}

#[test]
fn range_by_lex() {
    // HRANGEBYLEX is Kvrocks' own.
    skip_on_redis!();
    let server = Server::start();
    let c = &mut server.client();
    assert_eq!(r(c, &["HRANGEBYLEX", "nokey", "-", "+"]), "[]");
    assert_eq!(
        r(
            c,
            &["HSET", "h", "a", "1", "b", "2", "c", "3", "d", "4", "e", "5"]
        ),
        "5"
    );
    assert_eq!(
        r(c, &["HRANGEBYLEX", "h", "-", "+"]),
        "[a,1,b,2,c,3,d,4,e,5]"
    );
    assert_eq!(r(c, &["HRANGEBYLEX", "h", "[b", "(d"]), "[b,2,c,3]");
    assert_eq!(r(c, &["HRANGEBYLEX", "h", "(b", "[d"]), "[c,3,d,4]");
    assert_eq!(r(c, &["HRANGEBYLEX", "h", "[bb", "+"]), "[c,3,d,4,e,5]");
    assert_eq!(
        r(c, &["HRANGEBYLEX", "h", "+", "-", "REV"]),
        "[e,5,d,4,c,3,b,2,a,1]"
    );
    assert_eq!(
        r(c, &["HRANGEBYLEX", "h", "[d", "(a", "REV"]),
        "[d,4,c,3,b,2]"
    );
    assert_eq!(
        r(c, &["HRANGEBYLEX", "h", "(d", "[a", "rev"]),
        "[c,3,b,2,a,1]"
    );
    assert_eq!(
        r(c, &["HRANGEBYLEX", "h", "[cc", "-", "REV"]),
        "[c,3,b,2,a,1]"
    );
    assert_eq!(
        r(c, &["HRANGEBYLEX", "h", "-", "+", "LIMIT", "1", "2"]),
        "[b,2,c,3]"
    );
    assert_eq!(
        r(c, &["HRANGEBYLEX", "h", "-", "+", "LIMIT", "3", "-1"]),
        "[d,4,e,5]"
    );
    assert_eq!(
        r(c, &["HRANGEBYLEX", "h", "-", "+", "LIMIT", "-1", "1"]),
        "[a,1]"
    );
    assert_eq!(
        r(c, &["HRANGEBYLEX", "h", "-", "+", "LIMIT", "0", "0"]),
        "[]"
    );
    assert_eq!(
        r(c, &["HRANGEBYLEX", "h", "-", "+", "LIMIT", "9", "1"]),
        "[]"
    );
    assert_eq!(
        r(c, &["HRANGEBYLEX", "h", "+", "-", "REV", "LIMIT", "1", "2"]),
        "[d,4,c,3]"
    );
    assert_eq!(r(c, &["HRANGEBYLEX", "h", "[d", "[b"]), "[]");
    assert_eq!(r(c, &["HRANGEBYLEX", "h", "(c", "(c"]), "[]");
    assert_eq!(r(c, &["HRANGEBYLEX", "h", "[c", "[c"]), "[c,3]");

    assert_eq!(err(c, &["HRANGEBYLEX", "h", "+", "[a"]), "ERR min > max");
    assert_eq!(err(c, &["HRANGEBYLEX", "h", "[a", "-"]), "ERR min > max");
    assert_eq!(
        err(c, &["HRANGEBYLEX", "h", "a", "+"]),
        "ERR the min is illegal"
    );
    assert_eq!(
        err(c, &["HRANGEBYLEX", "h", "-", "b"]),
        "ERR the max is illegal"
    );
    assert_eq!(
        err(c, &["HRANGEBYLEX", "h", "", "+"]),
        "ERR the min is illegal"
    );
    assert_eq!(
        err(c, &["HRANGEBYLEX", "h", "-", "+", "LIMIT", "1"]),
        SYNTAX
    );
    assert_eq!(
        err(c, &["HRANGEBYLEX", "h", "-", "+", "LIMIT", "x", "1"]),
        NOT_INT
    );
    assert_eq!(err(c, &["HRANGEBYLEX", "h", "-", "+", "FOO"]), SYNTAX);
    assert_eq!(r(c, &["SET", "s", "v"]), "OK");
    assert_eq!(err(c, &["HRANGEBYLEX", "s", "-", "+"]), WRONGTYPE);
}

/// xorshift64*, so the model test needs no extra crate.
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
}

/// Random operations on a few small hashes, applied to the server and to
/// a `BTreeMap` model; every reply is compared.
#[test]
fn randomized_against_a_model() {
    let server = Server::start();
    let c = &mut server.client();
    let mut rng = Rng(0x5DEE_CE66_D1CE_5EED);
    let mut model: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let keys = ["h1", "h2", "h3"];
    for step in 0..4000 {
        let key = keys[rng.below(keys.len() as u64) as usize].to_string();
        let field = |rng: &mut Rng| format!("f{}", rng.below(24));
        let hash = model.entry(key.clone()).or_default();
        let (args, want): (Vec<String>, String) = match rng.below(11) {
            0 | 1 => {
                let n = 1 + rng.below(3);
                let mut args = vec!["HSET".to_string(), key.clone()];
                let mut added = BTreeSet::new();
                for _ in 0..n {
                    let (f, v) = (field(&mut rng), format!("v{}", rng.below(100)));
                    if !hash.contains_key(&f) {
                        added.insert(f.clone());
                    }
                    hash.insert(f.clone(), v.clone());
                    args.extend([f, v]);
                }
                (args, added.len().to_string())
            }
            2 => {
                let (f, v) = (field(&mut rng), format!("n{}", rng.below(100)));
                let created = !hash.contains_key(&f);
                if created {
                    hash.insert(f.clone(), v.clone());
                }
                (
                    vec!["HSETNX".into(), key.clone(), f, v],
                    (created as i32).to_string(),
                )
            }
            3 => {
                let f = field(&mut rng);
                let want = hash.get(&f).cloned().unwrap_or_else(|| "nil".into());
                (vec!["HGET".into(), key.clone(), f], want)
            }
            4 => {
                let n = 1 + rng.below(3);
                let mut args = vec!["HDEL".to_string(), key.clone()];
                let mut removed = 0;
                for _ in 0..n {
                    let f = field(&mut rng);
                    if hash.remove(&f).is_some() {
                        removed += 1;
                    }
                    args.push(f);
                }
                (args, removed.to_string())
            }
            5 => {
                let f = field(&mut rng);
                let delta = rng.below(2001) as i64 - 1000;
                let want = match hash.get(&f) {
                    None => Some(0),
                    Some(v) => v.parse::<i64>().ok(),
                };
                let want = match want {
                    Some(n) => {
                        hash.insert(f.clone(), (n + delta).to_string());
                        (n + delta).to_string()
                    }
                    None => "ERR hash value is not an integer".into(),
                };
                (
                    vec!["HINCRBY".into(), key.clone(), f, delta.to_string()],
                    want,
                )
            }
            6 => {
                let want = format!(
                    "[{}]",
                    hash.iter()
                        .flat_map(|(f, v)| [f.as_str(), v.as_str()])
                        .collect::<Vec<_>>()
                        .join(",")
                );
                (
                    vec!["HRANGEBYLEX".into(), key.clone(), "-".into(), "+".into()],
                    want,
                )
            }
            7 => (vec!["HLEN".into(), key.clone()], hash.len().to_string()),
            8 => {
                let f = field(&mut rng);
                (
                    vec!["HSTRLEN".into(), key.clone(), f.clone()],
                    hash.get(&f).map_or(0, |v| v.len()).to_string(),
                )
            }
            9 => {
                let fs = [field(&mut rng), field(&mut rng)];
                let want = format!(
                    "[{}]",
                    fs.iter()
                        .map(|f| hash.get(f).cloned().unwrap_or_else(|| "nil".into()))
                        .collect::<Vec<_>>()
                        .join(",")
                );
                let mut args = vec!["HMGET".to_string(), key.clone()];
                args.extend(fs);
                (args, want)
            }
            _ => {
                let f = field(&mut rng);
                (
                    vec!["HEXISTS".into(), key.clone(), f.clone()],
                    (hash.contains_key(&f) as i32).to_string(),
                )
            }
        };
        // HRANGEBYLEX is Kvrocks-only: compare the same state with HGETALL
        // on Redis (its order differs, so only on Basalt).
        let args = if args[0] == "HRANGEBYLEX" && basalt_tests::against_redis() {
            vec!["HLEN".into(), key.clone()]
        } else {
            args
        };
        let want = if args[0] == "HLEN" {
            hash.len().to_string()
        } else {
            want
        };
        if hash.is_empty() {
            model.remove(&key);
        }
        let got = match cmd(&args).query::<Value>(c) {
            Ok(v) => show(&v),
            Err(e) => format!("{} {}", e.code().unwrap_or("?"), e.detail().unwrap_or("")),
        };
        assert_eq!(got, want, "step {step}: {args:?}");
    }
    // The final state, field by field.
    for key in keys {
        let all: BTreeMap<String, String> = q(c, &["HGETALL", key]);
        assert_eq!(&all, model.get(key).unwrap_or(&BTreeMap::new()), "{key}");
    }
}
