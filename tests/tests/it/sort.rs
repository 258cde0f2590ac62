//! SORT and SORT_RO. Replies and error texts are Redis 7.2's (checked with
//! `BASALT_TEST_AGAINST=redis`). Ties that Redis leaves to qsort (ALPHA
//! with BY) and sets under `BY nosort` (no defined order) are avoided.

use basalt_tests::client::{err, q};
use basalt_tests::Server;
use redis::Connection;

fn v(c: &mut Connection, args: &[&str]) -> Vec<String> {
    q(c, args)
}

fn opt(c: &mut Connection, args: &[&str]) -> Vec<Option<String>> {
    q(c, args)
}

fn s(items: &[&str]) -> Vec<String> {
    items.iter().map(|x| x.to_string()).collect()
}

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
const SYNTAX: &str = "ERR syntax error";
const NOT_INT: &str = "ERR value is not an integer or out of range";
const BAD_SCORE: &str = "ERR One or more scores can't be converted into double";

#[test]
fn numeric_alpha_and_limit() {
    let server = Server::start();
    let mut c = server.client();
    q::<i64>(&mut c, &["RPUSH", "l", "3", "1", "10", "2", "1.0", "01"]);
    assert_eq!(
        v(&mut c, &["SORT", "l"]),
        s(&["01", "1", "1.0", "2", "3", "10"])
    );
    assert_eq!(
        v(&mut c, &["SORT", "l", "DESC"]),
        s(&["10", "3", "2", "1.0", "1", "01"])
    );
    assert_eq!(
        v(&mut c, &["SORT_RO", "l", "ALPHA"]),
        s(&["01", "1", "1.0", "10", "2", "3"])
    );
    assert_eq!(
        v(&mut c, &["sort", "l", "limit", "1", "2", "asc"]),
        s(&["1", "1.0"])
    );
    assert_eq!(
        v(&mut c, &["SORT", "l", "LIMIT", "-1", "2"]),
        s(&["01", "1"])
    );
    assert_eq!(
        v(&mut c, &["SORT", "l", "LIMIT", "4", "-5"]),
        s(&["3", "10"])
    );
    assert!(v(&mut c, &["SORT", "l", "LIMIT", "10", "2"]).is_empty());
    assert!(v(&mut c, &["SORT", "l", "LIMIT", "0", "0"]).is_empty());
    assert_eq!(v(&mut c, &["SORT", "l", "LIMIT", "5", "100"]), s(&["10"]));
    // strtod's syntax: leading blanks, hex, inf and the empty string parse.
    q::<i64>(&mut c, &["RPUSH", "n", " 5", "0x10", "-inf", "", "inf"]);
    assert_eq!(
        v(&mut c, &["SORT", "n"]),
        s(&["-inf", "", " 5", "0x10", "inf"])
    );
    for bad in ["5 ", "abc", "nan", "1e400", "1e-310", " "] {
        q::<i64>(&mut c, &["DEL", "b"]);
        q::<i64>(&mut c, &["RPUSH", "b", "1", bad]);
        assert_eq!(err(&mut c, &["SORT", "b"]), BAD_SCORE, "{bad:?}");
        assert_eq!(v(&mut c, &["SORT", "b", "ALPHA"]).len(), 2);
    }
    // Sets and sorted sets sort their members the same way.
    q::<i64>(&mut c, &["SADD", "s", "b", "c", "a"]);
    assert_eq!(
        v(&mut c, &["SORT", "s", "ALPHA", "DESC"]),
        s(&["c", "b", "a"])
    );
    assert_eq!(err(&mut c, &["SORT", "s"]), BAD_SCORE);
    q::<i64>(&mut c, &["ZADD", "z", "1", "30", "2", "20", "3", "10"]);
    assert_eq!(v(&mut c, &["SORT", "z"]), s(&["10", "20", "30"]));
    assert!(v(&mut c, &["SORT", "missing"]).is_empty());
}

#[test]
fn nosort_keeps_collection_order() {
    let server = Server::start();
    let mut c = server.client();
    q::<i64>(&mut c, &["RPUSH", "l", "3", "1", "2", "10"]);
    assert_eq!(
        v(&mut c, &["SORT", "l", "BY", "nosort"]),
        s(&["3", "1", "2", "10"])
    );
    assert_eq!(
        v(&mut c, &["SORT", "l", "BY", "nosort", "DESC"]),
        s(&["10", "2", "1", "3"])
    );
    assert_eq!(
        v(
            &mut c,
            &["SORT", "l", "BY", "nosort", "LIMIT", "1", "2", "DESC"]
        ),
        s(&["2", "1"])
    );
    q::<i64>(&mut c, &["ZADD", "z", "3", "a", "1", "b", "2", "c"]);
    assert_eq!(
        v(&mut c, &["SORT", "z", "BY", "nosort"]),
        s(&["b", "c", "a"])
    );
    assert_eq!(
        v(
            &mut c,
            &["SORT_RO", "z", "BY", "nokey", "DESC", "LIMIT", "1", "5"]
        ),
        s(&["c", "b"])
    );
    // Storing an unsorted set sorts it (ALPHA), for deterministic replicas.
    q::<i64>(&mut c, &["SADD", "s", "b", "a", "c"]);
    assert_eq!(
        q::<i64>(&mut c, &["SORT", "s", "BY", "nosort", "STORE", "d"]),
        3
    );
    assert_eq!(v(&mut c, &["LRANGE", "d", "0", "-1"]), s(&["a", "b", "c"]));
}

#[test]
fn by_and_get_patterns() {
    let server = Server::start();
    let mut c = server.client();
    q::<i64>(&mut c, &["RPUSH", "l", "a", "b", "c", "d"]);
    q::<()>(&mut c, &["MSET", "w_a", "3", "w_b", "1", "w_c", "x"]);
    assert_eq!(err(&mut c, &["SORT", "l", "BY", "w_*"]), BAD_SCORE);
    q::<()>(&mut c, &["SET", "w_c", "2"]);
    // A missing BY key scores 0; ties are broken by the elements.
    assert_eq!(
        v(&mut c, &["SORT", "l", "BY", "w_*"]),
        s(&["d", "b", "c", "a"])
    );
    assert_eq!(
        v(&mut c, &["SORT", "l", "BY", "w_*", "DESC"]),
        s(&["a", "c", "b", "d"])
    );
    q::<i64>(&mut c, &["HSET", "h_a", "f", "ha"]);
    q::<i64>(&mut c, &["HSET", "h_b", "f", "hb"]);
    q::<i64>(&mut c, &["HSET", "h_c", "f", "hc", "g", "gc"]);
    assert_eq!(
        opt(
            &mut c,
            &[
                "SORT", "l", "BY", "w_*", "GET", "#", "GET", "w_*", "GET", "h_*->f", "GET",
                "nokey", "GET", "h_*->", "GET", "w_*->f"
            ]
        ),
        vec![
            Some("d".into()),
            None,
            None,
            None,
            None,
            None,
            Some("b".into()),
            Some("1".into()),
            Some("hb".into()),
            None,
            None,
            None,
            Some("c".into()),
            Some("2".into()),
            Some("hc".into()),
            None,
            None,
            None,
            Some("a".into()),
            Some("3".into()),
            Some("ha".into()),
            None,
            None,
            None,
        ]
    );
    // BY a hash field, numeric and ALPHA; a missing field sorts first.
    q::<i64>(&mut c, &["HSET", "h_d", "n", "-1"]);
    q::<i64>(&mut c, &["HSET", "h_a", "n", "5"]);
    assert_eq!(
        v(&mut c, &["SORT", "l", "BY", "h_*->n"]),
        s(&["d", "b", "c", "a"])
    );
    assert_eq!(
        opt(
            &mut c,
            &["SORT", "l", "BY", "h_*->g", "ALPHA", "DESC", "LIMIT", "0", "1", "GET", "h_*->g"]
        ),
        vec![Some("gc".to_string())]
    );
    q::<i64>(&mut c, &["DEL", "h_d"]);
    assert_eq!(
        opt(
            &mut c,
            &["SORT", "l", "BY", "h_*->f", "ALPHA", "DESC", "GET", "h_*->f", "LIMIT", "0", "3"]
        ),
        vec![Some("hc".to_string()), Some("hb".into()), Some("ha".into())]
    );
    // Keys of the wrong type read as missing, without WRONGTYPE.
    q::<i64>(&mut c, &["RPUSH", "w_d", "x"]);
    assert_eq!(
        opt(
            &mut c,
            &["SORT", "l", "BY", "w_*", "GET", "w_*", "LIMIT", "0", "1"]
        ),
        vec![None]
    );
    // Only the first `*` is substituted.
    q::<()>(&mut c, &["SET", "k_a_*", "v"]);
    assert_eq!(
        opt(
            &mut c,
            &["SORT", "l", "ALPHA", "LIMIT", "0", "1", "GET", "k_*_*"]
        ),
        vec![Some("v".to_string())]
    );
}

#[test]
fn store_and_errors() {
    let server = Server::start();
    let mut c = server.client();
    q::<i64>(&mut c, &["RPUSH", "l", "c", "a", "b"]);
    q::<()>(&mut c, &["SET", "dst", "old"]);
    assert_eq!(q::<i64>(&mut c, &["SORT", "l", "ALPHA", "STORE", "dst"]), 3);
    assert_eq!(q::<String>(&mut c, &["TYPE", "dst"]), "list");
    assert_eq!(
        v(&mut c, &["LRANGE", "dst", "0", "-1"]),
        s(&["a", "b", "c"])
    );
    // Nil GETs are stored as empty strings.
    assert_eq!(
        q::<i64>(
            &mut c,
            &["SORT", "l", "ALPHA", "GET", "#", "GET", "x_*", "STORE", "dst"]
        ),
        6
    );
    assert_eq!(
        v(&mut c, &["LRANGE", "dst", "0", "-1"]),
        s(&["a", "", "b", "", "c", ""])
    );
    // Storing in place replaces the source.
    assert_eq!(
        q::<i64>(&mut c, &["SORT", "l", "ALPHA", "DESC", "STORE", "l"]),
        3
    );
    assert_eq!(v(&mut c, &["LRANGE", "l", "0", "-1"]), s(&["c", "b", "a"]));
    q::<i64>(&mut c, &["RPUSH", "l", "d"]);
    assert_eq!(q::<i64>(&mut c, &["LLEN", "l"]), 4);
    // An empty result deletes the destination.
    assert_eq!(q::<i64>(&mut c, &["SORT", "missing", "STORE", "dst"]), 0);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "dst"]), 0);
    q::<()>(&mut c, &["SET", "dst", "old"]);
    assert_eq!(
        q::<i64>(
            &mut c,
            &["SORT", "l", "ALPHA", "LIMIT", "9", "1", "STORE", "dst"]
        ),
        0
    );
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "dst"]), 0);
    // A score error leaves the destination alone.
    q::<()>(&mut c, &["SET", "dst", "old"]);
    assert_eq!(err(&mut c, &["SORT", "l", "STORE", "dst"]), BAD_SCORE);
    assert_eq!(q::<String>(&mut c, &["GET", "dst"]), "old");

    assert_eq!(err(&mut c, &["SORT", "dst"]), WRONGTYPE);
    assert_eq!(err(&mut c, &["SORT_RO", "dst", "ALPHA"]), WRONGTYPE);
    q::<i64>(&mut c, &["HSET", "h", "f", "v"]);
    assert_eq!(err(&mut c, &["SORT", "h", "STORE", "x"]), WRONGTYPE);
    assert_eq!(err(&mut c, &["SORT_RO", "l", "STORE", "x"]), SYNTAX);
    assert_eq!(err(&mut c, &["SORT", "l", "LIMIT", "1"]), SYNTAX);
    assert_eq!(err(&mut c, &["SORT", "l", "BY"]), SYNTAX);
    assert_eq!(err(&mut c, &["SORT", "l", "GET"]), SYNTAX);
    assert_eq!(err(&mut c, &["SORT", "l", "foo"]), SYNTAX);
    // Options are checked before the key's type.
    assert_eq!(err(&mut c, &["SORT", "dst", "LIMIT", "a", "1"]), NOT_INT);
    assert_eq!(err(&mut c, &["SORT", "dst", "LIMIT", "1", "1.5"]), NOT_INT);
    assert_eq!(
        err(&mut c, &["SORT"]),
        "ERR wrong number of arguments for 'sort' command"
    );
    assert_eq!(
        err(&mut c, &["SORT_RO"]),
        "ERR wrong number of arguments for 'sort_ro' command"
    );
}

// ------------------------------------------------------- model test --

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn random_elem(rng: &mut Rng, numeric: bool) -> String {
    if numeric || rng.below(4) > 0 {
        match rng.below(3) {
            0 => format!("{}", rng.below(40) as i64 - 20),
            1 => format!("{}.{}", rng.below(20) as i64 - 10, rng.below(10)),
            _ => format!("{}e{}", rng.below(9) + 1, rng.below(3)),
        }
    } else {
        let len = 1 + rng.below(3);
        (0..len)
            .map(|_| (b'a' + rng.below(5) as u8) as char)
            .collect()
    }
}

/// Redis's sort: numeric by value with ties broken bytewise, or bytewise
/// with ALPHA; then Redis's LIMIT normalisation.
fn model_sort(
    elems: &[String],
    desc: bool,
    alpha: bool,
    limit: Option<(i64, i64)>,
) -> Option<Vec<String>> {
    let mut items: Vec<(f64, &String)> = Vec::new();
    for e in elems {
        let score = if alpha { 0.0 } else { e.parse::<f64>().ok()? };
        items.push((score, e));
    }
    items.sort_by(|a, b| {
        let o = if alpha {
            a.1.as_bytes().cmp(b.1.as_bytes())
        } else {
            a.0.partial_cmp(&b.0)
                .unwrap()
                .then_with(|| a.1.as_bytes().cmp(b.1.as_bytes()))
        };
        if desc {
            o.reverse()
        } else {
            o
        }
    });
    let len = items.len() as i64;
    let (offset, count) = limit.unwrap_or((0, -1));
    let mut start = offset.max(0);
    let mut end = if count < 0 {
        len - 1
    } else {
        start + count - 1
    };
    if start >= len {
        start = len - 1;
        end = len - 2;
    }
    end = end.min(len - 1);
    if end < start || start < 0 {
        return Some(Vec::new());
    }
    Some(
        items[start as usize..=end as usize]
            .iter()
            .map(|(_, e)| (*e).clone())
            .collect(),
    )
}

#[test]
fn randomized_against_model() {
    let server = Server::start();
    let mut c = server.client();
    let mut rng = Rng(0x5eed_50f7_2024_0001);
    for round in 0..150 {
        let numeric = rng.below(2) == 0;
        let n = rng.below(12);
        let mut elems: Vec<String> = (0..n).map(|_| random_elem(&mut rng, numeric)).collect();
        let key = format!("k{round}");
        let is_set = rng.below(2) == 0;
        if n > 0 {
            let mut args = vec![if is_set { "SADD" } else { "RPUSH" }, key.as_str()];
            args.extend(elems.iter().map(|e| e.as_str()));
            q::<i64>(&mut c, &args);
        }
        if is_set {
            elems.sort();
            elems.dedup();
        }
        for _ in 0..20 {
            let desc = rng.below(2) == 0;
            let alpha = rng.below(2) == 0;
            let limit =
                (rng.below(2) == 0).then(|| (rng.below(16) as i64 - 3, rng.below(16) as i64 - 3));
            let store = rng.below(4) == 0;
            let mut args: Vec<String> = vec![
                if store {
                    "SORT"
                } else if rng.below(2) == 0 {
                    "SORT_RO"
                } else {
                    "SORT"
                }
                .into(),
                key.clone(),
            ];
            if desc {
                args.push("DESC".into());
            } else if rng.below(2) == 0 {
                args.push("ASC".into());
            }
            if alpha {
                args.push("ALPHA".into());
            }
            if let Some((o, cnt)) = limit {
                args.extend(["LIMIT".into(), o.to_string(), cnt.to_string()]);
            }
            if store {
                args.extend(["STORE".into(), "dst".into()]);
            }
            let refs: Vec<&str> = args.iter().map(|a| a.as_str()).collect();
            let expected = model_sort(&elems, desc, alpha, limit);
            match (expected, store) {
                (None, _) => assert_eq!(err(&mut c, &refs), BAD_SCORE, "{refs:?}"),
                (Some(want), false) => assert_eq!(v(&mut c, &refs), want, "{refs:?}"),
                (Some(want), true) => {
                    assert_eq!(q::<i64>(&mut c, &refs), want.len() as i64, "{refs:?}");
                    assert_eq!(v(&mut c, &["LRANGE", "dst", "0", "-1"]), want, "{refs:?}");
                }
            }
        }
    }
}
