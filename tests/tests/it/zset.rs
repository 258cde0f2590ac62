//! Sorted-set commands: ZADD (NX XX GT LT CH INCR) ZINCRBY ZCARD ZSCORE
//! ZMSCORE ZREM ZCOUNT ZLEXCOUNT ZRANK ZREVRANK ZRANGE (BYSCORE BYLEX REV
//! LIMIT WITHSCORES) ZREVRANGE ZRANGEBYSCORE ZREVRANGEBYSCORE ZRANGEBYLEX
//! ZREVRANGEBYLEX ZPOPMIN ZPOPMAX ZREMRANGEBYRANK ZREMRANGEBYSCORE
//! ZREMRANGEBYLEX ZRANGESTORE ZSCAN ZRANDMEMBER ZUNION ZINTER ZDIFF and their
//! STORE forms, ZINTERCARD, ZMPOP. Expectations are checked
//! against redis-server with `BASALT_TEST_AGAINST=redis`; scores are chosen
//! so that Redis 7.0's and 7.2's number formatting agree.

use basalt_tests::client::{q, reply as r};
use basalt_tests::{skip_on_redis, Server};
use std::collections::{BTreeMap, BTreeSet};

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

#[test]
fn zadd_options_and_errors() {
    let server = Server::start();
    let c = &mut server.client();
    assert_eq!(r(c, &["ZADD", "z", "1", "a", "2", "b", "1", "a"]), "2");
    assert_eq!(r(c, &["ZCARD", "z"]), "2");
    assert_eq!(r(c, &["ZADD", "z", "NX", "5", "a", "3", "c"]), "1");
    assert_eq!(r(c, &["ZSCORE", "z", "a"]), "1");
    assert_eq!(r(c, &["ZADD", "z", "XX", "5", "a", "4", "d"]), "0");
    assert_eq!(r(c, &["ZSCORE", "z", "a"]), "5");
    assert_eq!(r(c, &["ZSCORE", "z", "d"]), "nil");
    assert_eq!(r(c, &["ZADD", "z", "XX", "CH", "6", "a", "2", "b"]), "1");
    assert_eq!(
        r(c, &["ZADD", "z", "GT", "CH", "1", "a", "7", "b", "0", "e"]),
        "2"
    );
    assert_eq!(
        r(c, &["ZMSCORE", "z", "a", "b", "e", "nope"]),
        "[6,7,0,nil]"
    );
    assert_eq!(r(c, &["ZADD", "z", "lt", "ch", "10", "a", "-1", "b"]), "1");
    assert_eq!(r(c, &["ZADD", "z", "INCR", "2.5", "a"]), "8.5");
    assert_eq!(r(c, &["ZADD", "z", "INCR", "NX", "1", "a"]), "nil");
    assert_eq!(r(c, &["ZADD", "z", "INCR", "XX", "1", "new"]), "nil");
    assert_eq!(r(c, &["ZADD", "z", "INCR", "GT", "-1", "a"]), "nil");
    assert_eq!(r(c, &["ZADD", "z", "INCR", "LT", "-1", "a"]), "7.5");
    assert_eq!(r(c, &["ZADD", "z", "XX", "1", "x"]), "0");
    assert_eq!(r(c, &["ZADD", "missing", "XX", "1", "x"]), "0");
    assert_eq!(r(c, &["EXISTS", "missing"]), "0");
    assert_eq!(r(c, &["ZINCRBY", "z", "-0.5", "a"]), "7");
    assert_eq!(r(c, &["ZINCRBY", "z", "3", "fresh"]), "3");
    assert_eq!(r(c, &["ZADD", "z", "+inf", "i", "-inf", "j"]), "2");
    assert_eq!(r(c, &["ZINCRBY", "z", "1", "i"]), "inf");
    assert_eq!(
        r(c, &["ZINCRBY", "z", "-inf", "i"]),
        "ERR resulting score is not a number (NaN)"
    );
    assert_eq!(
        r(c, &["ZADD", "z", "INCR", "+inf", "j"]),
        "ERR resulting score is not a number (NaN)"
    );
    assert_eq!(r(c, &["ZSCORE", "z", "j"]), "-inf");
    // Option conflicts, in Redis's order of checks.
    assert_eq!(
        r(c, &["ZADD", "z", "NX", "XX", "1", "a"]),
        "ERR XX and NX options at the same time are not compatible"
    );
    for opts in [["GT", "LT"], ["NX", "GT"], ["LT", "NX"]] {
        assert_eq!(
            r(c, &["ZADD", "z", opts[0], opts[1], "1", "a"]),
            "ERR GT, LT, and/or NX options at the same time are not compatible"
        );
    }
    assert_eq!(
        r(c, &["ZADD", "z", "INCR", "1", "a", "2", "b"]),
        "ERR INCR option supports a single increment-element pair"
    );
    assert_eq!(r(c, &["ZADD", "z", "NX", "1"]), "ERR syntax error");
    assert_eq!(r(c, &["ZADD", "z", "1", "a", "2"]), "ERR syntax error");
    assert_eq!(
        r(c, &["ZADD", "z", "1", "a", "x", "b"]),
        "ERR value is not a valid float"
    );
    assert_eq!(
        r(c, &["ZADD", "z", "nan", "a"]),
        "ERR value is not a valid float"
    );
    assert_eq!(
        r(c, &["ZINCRBY", "z", "abc", "a"]),
        "ERR value is not a valid float"
    );
    assert_eq!(
        r(c, &["ZADD", "z"]),
        "ERR wrong number of arguments for 'zadd' command"
    );
    // Nothing above wrote a partial result.
    assert_eq!(r(c, &["ZSCORE", "z", "a"]), "7");
    assert_eq!(r(c, &["ZREM", "z", "a", "a", "nope", "b"]), "2");
    assert_eq!(r(c, &["ZREM", "nokey", "a"]), "0");
    assert_eq!(r(c, &["ZCARD", "nokey"]), "0");
    assert_eq!(r(c, &["ZMSCORE", "nokey", "a", "b"]), "[nil,nil]");
    // Removing the last member deletes the key.
    assert_eq!(r(c, &["ZADD", "one", "1", "m"]), "1");
    assert_eq!(r(c, &["ZREM", "one", "m"]), "1");
    assert_eq!(r(c, &["EXISTS", "one"]), "0");
    // Empty member and binary-ish members are fine.
    assert_eq!(r(c, &["ZADD", "e", "1", "", "2", "a b"]), "2");
    assert_eq!(r(c, &["ZRANGE", "e", "0", "-1"]), "[,a b]");
}

#[test]
fn score_ranges() {
    let server = Server::start();
    let c = &mut server.client();
    q::<i64>(
        c,
        &[
            "ZADD", "z", "-inf", "ninf", "1", "a", "2", "b", "2", "bb", "3", "c", "+inf", "pinf",
        ],
    );
    assert_eq!(r(c, &["ZCOUNT", "z", "-inf", "+inf"]), "6");
    assert_eq!(r(c, &["ZCOUNT", "z", "(1", "3"]), "3");
    assert_eq!(r(c, &["ZCOUNT", "z", "(1", "(3"]), "2");
    assert_eq!(r(c, &["ZCOUNT", "z", "(-inf", "(inf"]), "4");
    assert_eq!(r(c, &["ZCOUNT", "z", "3", "1"]), "0");
    assert_eq!(r(c, &["ZCOUNT", "z", "(2", "2"]), "0");
    assert_eq!(r(c, &["ZCOUNT", "nokey", "0", "1"]), "0");
    assert_eq!(
        r(c, &["ZCOUNT", "z", "x", "1"]),
        "ERR min or max is not a float"
    );
    assert_eq!(
        r(c, &["ZCOUNT", "z", "1", "(nan"]),
        "ERR min or max is not a float"
    );
    assert_eq!(
        r(c, &["ZCOUNT", "z", "1 ", "2"]),
        "ERR min or max is not a float"
    );
    // strtod's leniencies, which zslParseRange inherits.
    assert_eq!(r(c, &["ZCOUNT", "z", "", "1"]), "1");
    assert_eq!(r(c, &["ZCOUNT", "z", " 1", "0x2"]), "3");
    assert_eq!(
        r(c, &["ZRANGEBYSCORE", "z", "(1", "+inf", "WITHSCORES"]),
        "[b,2,bb,2,c,3,pinf,inf]"
    );
    assert_eq!(
        r(c, &["ZREVRANGEBYSCORE", "z", "2", "-inf", "WITHSCORES"]),
        "[bb,2,b,2,a,1,ninf,-inf]"
    );
    assert_eq!(
        r(
            c,
            &["ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "1", "2"]
        ),
        "[a,b]"
    );
    assert_eq!(
        r(
            c,
            &["ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "4", "-5"]
        ),
        "[c,pinf]"
    );
    assert_eq!(
        r(
            c,
            &["ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "-1", "2"]
        ),
        "[]"
    );
    assert_eq!(
        r(
            c,
            &["ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "0", "0"]
        ),
        "[]"
    );
    assert_eq!(
        r(
            c,
            &["ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "9", "1"]
        ),
        "[]"
    );
    assert_eq!(
        r(
            c,
            &[
                "ZRANGE",
                "z",
                "(3",
                "1",
                "BYSCORE",
                "REV",
                "LIMIT",
                "1",
                "10",
                "WITHSCORES"
            ]
        ),
        "[b,2,a,1]"
    );
    assert_eq!(r(c, &["ZRANGE", "z", "2", "2", "BYSCORE"]), "[b,bb]");
    assert_eq!(
        r(c, &["ZRANGEBYSCORE", "z", "2", "x"]),
        "ERR min or max is not a float"
    );
    assert_eq!(
        r(c, &["ZRANGEBYSCORE", "z", "0", "1", "LIMIT", "x", "1"]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        r(c, &["ZRANGEBYSCORE", "z", "0", "1", "LIMIT", "1"]),
        "ERR syntax error"
    );
    assert_eq!(
        r(c, &["ZRANGEBYSCORE", "z", "0", "1", "BYSCORE"]),
        "ERR syntax error"
    );
    assert_eq!(
        r(c, &["ZREVRANGEBYSCORE", "z", "0", "1", "REV"]),
        "ERR syntax error"
    );
    // Ranks.
    assert_eq!(r(c, &["ZRANGE", "z", "0", "-1"]), "[ninf,a,b,bb,c,pinf]");
    assert_eq!(
        r(c, &["ZRANGE", "z", "-2", "100", "WITHSCORES"]),
        "[c,3,pinf,inf]"
    );
    assert_eq!(r(c, &["ZRANGE", "z", "-100", "0"]), "[ninf]");
    assert_eq!(r(c, &["ZRANGE", "z", "3", "2"]), "[]");
    assert_eq!(r(c, &["ZRANGE", "z", "6", "10"]), "[]");
    assert_eq!(r(c, &["ZRANGE", "z", "0", "1", "REV"]), "[pinf,c]");
    assert_eq!(
        r(c, &["ZREVRANGE", "z", "1", "2", "WITHSCORES"]),
        "[c,3,bb,2]"
    );
    assert_eq!(
        r(c, &["ZRANGE", "z", "0", "-1", "LIMIT", "0", "-1"]),
        "[ninf,a,b,bb,c,pinf]"
    );
    assert_eq!(
        r(c, &["ZRANGE", "z", "0", "-1", "LIMIT", "0", "1"]),
        "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"
    );
    assert_eq!(
        r(c, &["ZRANGE", "z", "0", "-1", "REV", "REV"]),
        "ERR syntax error"
    );
    assert_eq!(
        r(c, &["ZRANGE", "z", "0", "-1", "BYLEX", "BYSCORE"]),
        "ERR syntax error"
    );
    assert_eq!(
        r(c, &["ZRANGE", "z", "a", "-1"]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        r(c, &["ZREVRANGE", "z", "0", "-1", "REV"]),
        "ERR syntax error"
    );
    assert_eq!(r(c, &["ZRANGE", "nokey", "0", "-1"]), "[]");
}

#[test]
fn lex_ranges() {
    let server = Server::start();
    let c = &mut server.client();
    q::<i64>(
        c,
        &[
            "ZADD", "z", "0", "a", "0", "b", "0", "c", "0", "d", "0", "e", "0", "ee",
        ],
    );
    assert_eq!(r(c, &["ZRANGEBYLEX", "z", "-", "+"]), "[a,b,c,d,e,ee]");
    assert_eq!(r(c, &["ZRANGEBYLEX", "z", "[b", "(d"]), "[b,c]");
    assert_eq!(r(c, &["ZRANGEBYLEX", "z", "(b", "[e"]), "[c,d,e]");
    assert_eq!(r(c, &["ZRANGEBYLEX", "z", "[e", "+"]), "[e,ee]");
    assert_eq!(r(c, &["ZRANGEBYLEX", "z", "(e", "+"]), "[ee]");
    assert_eq!(r(c, &["ZRANGEBYLEX", "z", "+", "-"]), "[]");
    assert_eq!(r(c, &["ZRANGEBYLEX", "z", "[d", "[b"]), "[]");
    assert_eq!(
        r(c, &["ZRANGEBYLEX", "z", "-", "+", "LIMIT", "2", "2"]),
        "[c,d]"
    );
    assert_eq!(
        r(c, &["ZRANGEBYLEX", "z", "-", "+", "LIMIT", "-1", "2"]),
        "[]"
    );
    assert_eq!(
        r(c, &["ZREVRANGEBYLEX", "z", "+", "-", "LIMIT", "1", "2"]),
        "[e,d]"
    );
    assert_eq!(r(c, &["ZREVRANGEBYLEX", "z", "[d", "(a"]), "[d,c,b]");
    assert_eq!(r(c, &["ZREVRANGEBYLEX", "z", "(e", "-"]), "[d,c,b,a]");
    assert_eq!(r(c, &["ZREVRANGEBYLEX", "z", "-", "+"]), "[]");
    assert_eq!(
        r(c, &["ZRANGE", "z", "[e", "(a", "BYLEX", "REV"]),
        "[e,d,c,b]"
    );
    assert_eq!(r(c, &["ZLEXCOUNT", "z", "-", "+"]), "6");
    assert_eq!(r(c, &["ZLEXCOUNT", "z", "(a", "[c"]), "2");
    assert_eq!(r(c, &["ZLEXCOUNT", "nokey", "-", "+"]), "0");
    for bad in [["a", "+"], ["[a", "c"], ["-", "++"], ["", "+"]] {
        assert_eq!(
            r(c, &["ZLEXCOUNT", "z", bad[0], bad[1]]),
            "ERR min or max not valid string range item"
        );
        assert_eq!(
            r(c, &["ZRANGEBYLEX", "z", bad[0], bad[1]]),
            "ERR min or max not valid string range item"
        );
    }
    assert_eq!(
        r(c, &["ZRANGEBYLEX", "z", "-", "+", "WITHSCORES"]),
        "ERR syntax error, WITHSCORES not supported in combination with BYLEX"
    );
    assert_eq!(r(c, &["ZREMRANGEBYLEX", "z", "[b", "(e"]), "3");
    assert_eq!(r(c, &["ZRANGE", "z", "0", "-1"]), "[a,e,ee]");
    assert_eq!(
        r(c, &["ZREMRANGEBYLEX", "z", "x", "+"]),
        "ERR min or max not valid string range item"
    );
    // With mixed scores, unbounded lex ranges follow score order as Redis's
    // skiplist walk does.
    q::<i64>(c, &["ZADD", "m", "3", "a", "1", "b", "2", "c"]);
    assert_eq!(r(c, &["ZRANGEBYLEX", "m", "-", "+"]), "[b,c,a]");
    assert_eq!(r(c, &["ZREVRANGEBYLEX", "m", "+", "-"]), "[a,c,b]");
}

#[test]
fn ranks() {
    let server = Server::start();
    let c = &mut server.client();
    q::<i64>(c, &["ZADD", "z", "1", "a", "2", "b", "2", "c", "3.5", "d"]);
    assert_eq!(r(c, &["ZRANK", "z", "a"]), "0");
    assert_eq!(r(c, &["ZRANK", "z", "c"]), "2");
    assert_eq!(r(c, &["ZREVRANK", "z", "c"]), "1");
    assert_eq!(r(c, &["ZREVRANK", "z", "d"]), "0");
    assert_eq!(r(c, &["ZRANK", "z", "nope"]), "nil");
    assert_eq!(r(c, &["ZRANK", "nokey", "a"]), "nil");
    assert_eq!(
        r(c, &["ZRANK", "z", "a", "withscore", "x"]),
        "ERR wrong number of arguments for 'zrank' command"
    );
    q::<String>(c, &["SET", "s", "x"]);
    assert_eq!(r(c, &["ZRANK", "s", "a"]), WRONGTYPE);
    // WITHSCORE is new in Redis 7.2; the reference server is 7.0.
    skip_on_redis!();
    assert_eq!(r(c, &["ZRANK", "z", "d", "WITHSCORE"]), "[3,3.5]");
    assert_eq!(r(c, &["ZREVRANK", "z", "a", "withscore"]), "[3,1]");
    assert_eq!(r(c, &["ZRANK", "z", "nope", "WITHSCORE"]), "nil");
    assert_eq!(r(c, &["ZRANK", "z", "a", "WITHSCORES"]), "ERR syntax error");
}

#[test]
fn pops_and_removals() {
    let server = Server::start();
    let c = &mut server.client();
    q::<i64>(
        c,
        &[
            "ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e",
        ],
    );
    assert_eq!(r(c, &["ZPOPMIN", "z"]), "[a,1]");
    assert_eq!(r(c, &["ZPOPMAX", "z", "2"]), "[e,5,d,4]");
    assert_eq!(r(c, &["ZPOPMIN", "z", "0"]), "[]");
    assert_eq!(
        r(c, &["ZPOPMIN", "z", "-1"]),
        "ERR value is out of range, must be positive"
    );
    assert_eq!(
        r(c, &["ZPOPMIN", "z", "x"]),
        "ERR value is out of range, must be positive"
    );
    assert_eq!(r(c, &["ZPOPMIN", "z", "1", "2"]), "ERR syntax error");
    assert_eq!(r(c, &["ZPOPMIN", "z", "10"]), "[b,2,c,3]");
    assert_eq!(r(c, &["EXISTS", "z"]), "0");
    assert_eq!(r(c, &["ZPOPMIN", "z"]), "[]");
    assert_eq!(r(c, &["ZPOPMAX", "z", "3"]), "[]");

    q::<i64>(
        c,
        &[
            "ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e",
        ],
    );
    assert_eq!(r(c, &["ZREMRANGEBYRANK", "z", "-2", "-1"]), "2");
    assert_eq!(r(c, &["ZREMRANGEBYRANK", "z", "5", "10"]), "0");
    assert_eq!(
        r(c, &["ZREMRANGEBYRANK", "z", "x", "1"]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(r(c, &["ZREMRANGEBYSCORE", "z", "(1", "2"]), "1");
    assert_eq!(
        r(c, &["ZREMRANGEBYSCORE", "z", "(1", "x"]),
        "ERR min or max is not a float"
    );
    assert_eq!(r(c, &["ZRANGE", "z", "0", "-1", "WITHSCORES"]), "[a,1,c,3]");
    assert_eq!(r(c, &["ZREMRANGEBYSCORE", "z", "-inf", "+inf"]), "2");
    assert_eq!(r(c, &["EXISTS", "z"]), "0");
    assert_eq!(r(c, &["ZREMRANGEBYRANK", "z", "0", "-1"]), "0");
}

#[test]
fn store_scan_and_random() {
    let server = Server::start();
    let c = &mut server.client();
    q::<i64>(c, &["ZADD", "src", "1", "a", "2", "b", "3", "c", "4", "d"]);
    q::<String>(c, &["SET", "dst", "string"]);
    assert_eq!(r(c, &["ZRANGESTORE", "dst", "src", "1", "2"]), "2");
    assert_eq!(
        r(c, &["ZRANGE", "dst", "0", "-1", "WITHSCORES"]),
        "[b,2,c,3]"
    );
    assert_eq!(
        r(
            c,
            &[
                "ZRANGESTORE",
                "dst",
                "src",
                "(1",
                "+inf",
                "BYSCORE",
                "LIMIT",
                "0",
                "2"
            ]
        ),
        "2"
    );
    assert_eq!(r(c, &["ZRANGE", "dst", "0", "-1"]), "[b,c]");
    assert_eq!(
        r(
            c,
            &["ZRANGESTORE", "dst", "src", "+inf", "(2", "BYSCORE", "REV"]
        ),
        "2"
    );
    assert_eq!(r(c, &["ZRANGE", "dst", "0", "-1"]), "[c,d]");
    assert_eq!(
        r(c, &["ZRANGESTORE", "dst", "src", "0", "-1", "WITHSCORES"]),
        "ERR syntax error"
    );
    assert_eq!(r(c, &["ZRANGESTORE", "dst", "src", "5", "6"]), "0");
    assert_eq!(r(c, &["EXISTS", "dst"]), "0");
    assert_eq!(r(c, &["ZRANGESTORE", "dst", "nokey", "0", "-1"]), "0");
    assert_eq!(r(c, &["ZRANGESTORE", "src", "src", "0", "0"]), "1");
    assert_eq!(r(c, &["ZRANGE", "src", "0", "-1"]), "[a]");
    q::<String>(c, &["SET", "str", "x"]);
    assert_eq!(r(c, &["ZRANGESTORE", "dst", "str", "0", "-1"]), WRONGTYPE);

    // ZSCAN visits every member exactly once across pages.
    let mut args = vec!["ZADD".to_string(), "big".to_string()];
    for i in 0..50 {
        args.push(i.to_string());
        args.push(format!("m{i}"));
    }
    let argv: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
    assert_eq!(q::<i64>(c, &argv), 50);
    let mut seen = BTreeMap::new();
    let mut cursor = "0".to_string();
    loop {
        let (next, items): (String, Vec<String>) = q(c, &["ZSCAN", "big", &cursor, "COUNT", "7"]);
        for pair in items.chunks(2) {
            assert!(seen.insert(pair[0].clone(), pair[1].clone()).is_none());
        }
        if next == "0" {
            break;
        }
        cursor = next;
    }
    assert_eq!(seen.len(), 50);
    assert_eq!(seen["m7"], "7");
    let (_, items): (String, Vec<String>) =
        q(c, &["ZSCAN", "big", "0", "MATCH", "m4*", "COUNT", "1000"]);
    assert_eq!(items.len(), 22);
    assert_eq!(r(c, &["ZSCAN", "nokey", "0"]), "[0,[]]");
    assert_eq!(r(c, &["ZSCAN", "big", "x"]), "ERR invalid cursor");
    assert_eq!(
        r(c, &["ZSCAN", "big", "0", "COUNT", "0"]),
        "ERR syntax error"
    );
    assert_eq!(r(c, &["ZSCAN", "big", "0", "MATCH"]), "ERR syntax error");
    assert_eq!(r(c, &["ZSCAN", "str", "0"]), WRONGTYPE);

    // ZRANDMEMBER.
    assert_eq!(r(c, &["ZRANDMEMBER", "nokey"]), "nil");
    assert_eq!(r(c, &["ZRANDMEMBER", "nokey", "3"]), "[]");
    assert_eq!(r(c, &["ZRANDMEMBER", "src"]), "a");
    assert_eq!(
        r(c, &["ZRANDMEMBER", "src", "-3", "WITHSCORES"]),
        "[a,1,a,1,a,1]"
    );
    assert_eq!(r(c, &["ZRANDMEMBER", "big", "0"]), "[]");
    let picked: Vec<String> = q(c, &["ZRANDMEMBER", "big", "10"]);
    assert_eq!(picked.iter().collect::<BTreeSet<_>>().len(), 10);
    let picked: Vec<String> = q(c, &["ZRANDMEMBER", "big", "100", "WITHSCORES"]);
    assert_eq!(picked.len(), 100);
    let picked: Vec<String> = q(c, &["ZRANDMEMBER", "big", "-100"]);
    assert_eq!(picked.len(), 100);
    assert_eq!(
        r(c, &["ZRANDMEMBER", "big", "x"]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(r(c, &["ZRANDMEMBER", "big", "1", "x"]), "ERR syntax error");
    assert_eq!(r(c, &["ZRANDMEMBER", "str"]), WRONGTYPE);
}

#[test]
fn wrong_type_everywhere() {
    let server = Server::start();
    let c = &mut server.client();
    q::<String>(c, &["SET", "s", "x"]);
    for args in [
        &["ZADD", "s", "1", "a"][..],
        &["ZINCRBY", "s", "1", "a"],
        &["ZCARD", "s"],
        &["ZSCORE", "s", "a"],
        &["ZMSCORE", "s", "a"],
        &["ZREM", "s", "a"],
        &["ZCOUNT", "s", "0", "1"],
        &["ZLEXCOUNT", "s", "-", "+"],
        &["ZREVRANK", "s", "a"],
        &["ZRANGE", "s", "0", "-1"],
        &["ZREVRANGE", "s", "0", "-1"],
        &["ZRANGEBYSCORE", "s", "0", "1"],
        &["ZREVRANGEBYSCORE", "s", "1", "0"],
        &["ZRANGEBYLEX", "s", "-", "+"],
        &["ZREVRANGEBYLEX", "s", "+", "-"],
        &["ZPOPMIN", "s"],
        &["ZPOPMAX", "s", "2"],
        &["ZREMRANGEBYRANK", "s", "0", "1"],
        &["ZREMRANGEBYSCORE", "s", "0", "1"],
        &["ZREMRANGEBYLEX", "s", "-", "+"],
    ] {
        assert_eq!(r(c, args), WRONGTYPE, "{args:?}");
    }
    assert_eq!(r(c, &["GET", "s"]), "x");
}

#[test]
fn resp3_replies() {
    let server = Server::start();
    let client = redis::Client::open(format!("{}?protocol=resp3", server.url())).unwrap();
    let c = &mut client.get_connection().unwrap();
    q::<i64>(c, &["ZADD", "z", "1", "a", "2.5", "b", "3", "c"]);
    assert_eq!(r(c, &["ZSCORE", "z", "b"]), "d:2.5");
    assert_eq!(r(c, &["ZSCORE", "z", "x"]), "nil");
    assert_eq!(r(c, &["ZMSCORE", "z", "a", "x"]), "[d:1,nil]");
    assert_eq!(r(c, &["ZINCRBY", "z", "1", "a"]), "d:2");
    assert_eq!(r(c, &["ZADD", "z", "INCR", "1", "a"]), "d:3");
    assert_eq!(
        r(c, &["ZRANGE", "z", "0", "-1", "WITHSCORES"]),
        "[[b,d:2.5],[a,d:3],[c,d:3]]"
    );
    assert_eq!(
        r(c, &["ZRANGEBYSCORE", "z", "3", "3", "WITHSCORES"]),
        "[[a,d:3],[c,d:3]]"
    );
    assert_eq!(r(c, &["ZRANGE", "z", "0", "0"]), "[b]");
    assert_eq!(r(c, &["ZPOPMIN", "z"]), "[b,d:2.5]");
    assert_eq!(r(c, &["ZPOPMAX", "z", "1"]), "[[c,d:3]]");
    assert_eq!(r(c, &["ZRANDMEMBER", "z", "1", "WITHSCORES"]), "[[a,d:3]]");
    assert_eq!(r(c, &["ZSCAN", "z", "0"]), "[0,[a,3]]");
    q::<i64>(c, &["ZADD", "u", "1", "a", "2", "b"]);
    assert_eq!(
        r(c, &["ZUNION", "1", "u", "WITHSCORES"]),
        "[[a,d:1],[b,d:2]]"
    );
    assert_eq!(r(c, &["ZMPOP", "1", "u", "MIN"]), "[u,[[a,d:1]]]");
    assert_eq!(r(c, &["ZMPOP", "1", "nokey", "MIN"]), "nil");
}

// ------------------------------------------------------ randomized model --

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Scores print the same in Redis 7.0 and 7.2 and in Basalt: halves and
/// infinities only.
fn fmt_score(s: f64) -> String {
    if s == f64::INFINITY {
        "inf".into()
    } else if s == f64::NEG_INFINITY {
        "-inf".into()
    } else if s.fract() == 0.0 {
        format!("{}", s as i64)
    } else {
        format!("{s}")
    }
}

fn score_arg(rng: &mut XorShift) -> (String, f64) {
    match rng.below(20) {
        0 => ("+inf".into(), f64::INFINITY),
        1 => ("-inf".into(), f64::NEG_INFINITY),
        _ => {
            let v = (rng.below(21) as f64 - 10.0) / 2.0;
            (fmt_score(v), v)
        }
    }
}

fn bound_arg(rng: &mut XorShift) -> (String, bool, f64) {
    let (text, v) = score_arg(rng);
    if rng.below(3) == 0 {
        (format!("({text}"), true, v)
    } else {
        (text, false, v)
    }
}

fn sorted(model: &BTreeMap<String, f64>) -> Vec<(String, f64)> {
    let mut v: Vec<(String, f64)> = model.iter().map(|(m, s)| (m.clone(), *s)).collect();
    v.sort_by(|a, b| a.1.partial_cmp(&b.1).unwrap().then_with(|| a.0.cmp(&b.0)));
    v
}

fn render(items: &[(String, f64)], withscores: bool) -> String {
    let mut parts = Vec::new();
    for (m, s) in items {
        parts.push(m.clone());
        if withscores {
            parts.push(fmt_score(*s));
        }
    }
    format!("[{}]", parts.join(","))
}

fn rank_slice(len: usize, start: i64, stop: i64) -> std::ops::Range<usize> {
    let len = len as i64;
    let mut start = if start < 0 { start + len } else { start };
    let mut stop = if stop < 0 { stop + len } else { stop };
    start = start.max(0);
    if start > stop || start >= len {
        return 0..0;
    }
    if stop >= len {
        stop = len - 1;
    }
    start as usize..stop as usize + 1
}

/// A lex bound as text and as (kind, value): kind 0 "-", 1 "+", 2 "[", 3 "(".
fn lex_bound(rng: &mut XorShift) -> (String, (u8, String)) {
    let v = format!("m{}", rng.below(26));
    match rng.below(6) {
        0 => ("-".into(), (0, v)),
        1 => ("+".into(), (1, v)),
        2 | 3 => (format!("[{v}"), (2, v)),
        _ => (format!("({v}"), (3, v)),
    }
}

fn lex_above(b: &(u8, String), m: &str) -> bool {
    match b.0 {
        0 => true,
        1 => false,
        2 => m >= b.1.as_str(),
        _ => m > b.1.as_str(),
    }
}

fn lex_below(b: &(u8, String), m: &str) -> bool {
    match b.0 {
        0 => false,
        1 => true,
        2 => m <= b.1.as_str(),
        _ => m < b.1.as_str(),
    }
}

#[test]
fn randomized_model() {
    let server = Server::start();
    let c = &mut server.client();
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let mut model: BTreeMap<String, f64> = BTreeMap::new();
    // A second key whose scores are all 0, for the lex commands.
    let mut lex: BTreeSet<String> = BTreeSet::new();
    let member = |rng: &mut XorShift| format!("m{}", rng.below(24));
    for step in 0..3000 {
        let (args, expected): (Vec<String>, String) = match rng.below(17) {
            0 | 1 => {
                let mut args = vec!["ZADD".to_string(), "k".to_string()];
                let (mut nx, mut xx, mut gt, mut lt, ch) =
                    (false, false, false, false, rng.below(2) == 0);
                match rng.below(5) {
                    0 => nx = true,
                    1 => xx = true,
                    2 => gt = true,
                    3 => lt = true,
                    _ => {}
                }
                for (on, name) in [(nx, "NX"), (xx, "XX"), (gt, "GT"), (lt, "LT"), (ch, "CH")] {
                    if on {
                        args.push(name.into());
                    }
                }
                let (mut added, mut changed) = (0, 0);
                for _ in 0..=rng.below(3) {
                    let (text, s) = score_arg(&mut rng);
                    let m = member(&mut rng);
                    args.push(text);
                    args.push(m.clone());
                    match model.get(&m).copied() {
                        Some(old) => {
                            if nx || (gt && s <= old) || (lt && s >= old) {
                                continue;
                            }
                            if s != old {
                                model.insert(m, s);
                                changed += 1;
                            }
                        }
                        None if xx => {}
                        None => {
                            model.insert(m, s);
                            added += 1;
                            changed += 1;
                        }
                    }
                }
                (args, if ch { changed } else { added }.to_string())
            }
            2 => {
                let m = member(&mut rng);
                let d = (rng.below(9) as f64 - 4.0) / 2.0;
                let old = model.get(&m).copied().unwrap_or(0.0);
                let new = old + d;
                let expected = if new.is_nan() {
                    "ERR resulting score is not a number (NaN)".to_string()
                } else {
                    model.insert(m.clone(), new + 0.0);
                    fmt_score(new + 0.0)
                };
                (
                    vec!["ZINCRBY".into(), "k".into(), fmt_score(d), m],
                    expected,
                )
            }
            3 => {
                let (a, b) = (member(&mut rng), member(&mut rng));
                let n = [&a, &b]
                    .iter()
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .filter(|m| model.remove(m.as_str()).is_some())
                    .count();
                (vec!["ZREM".into(), "k".into(), a, b], n.to_string())
            }
            4 => {
                let m = member(&mut rng);
                let expected = model.get(&m).map_or("nil".into(), |s| fmt_score(*s));
                (vec!["ZSCORE".into(), "k".into(), m], expected)
            }
            5 => {
                let m = member(&mut rng);
                let rev = rng.below(2) == 0;
                let list = sorted(&model);
                let expected = match list.iter().position(|(x, _)| *x == m) {
                    Some(p) if rev => (list.len() - 1 - p).to_string(),
                    Some(p) => p.to_string(),
                    None => "nil".into(),
                };
                let name = if rev { "ZREVRANK" } else { "ZRANK" };
                (vec![name.into(), "k".into(), m], expected)
            }
            6 | 7 => {
                let (min_t, min_x, min) = bound_arg(&mut rng);
                let (max_t, max_x, max) = bound_arg(&mut rng);
                let rev = rng.below(2) == 0;
                let withscores = rng.below(2) == 0;
                let limit = if rng.below(2) == 0 {
                    Some((rng.below(5) as i64 - 1, rng.below(6) as i64 - 2))
                } else {
                    None
                };
                let mut sel: Vec<(String, f64)> = sorted(&model)
                    .into_iter()
                    .filter(|(_, s)| {
                        (if min_x { *s > min } else { *s >= min })
                            && (if max_x { *s < max } else { *s <= max })
                    })
                    .collect();
                if rev {
                    sel.reverse();
                }
                if let Some((off, cnt)) = limit {
                    sel = if off < 0 {
                        Vec::new()
                    } else {
                        let it = sel.into_iter().skip(off as usize);
                        if cnt < 0 {
                            it.collect()
                        } else {
                            it.take(cnt as usize).collect()
                        }
                    };
                }
                let mut args = if rev {
                    vec!["ZREVRANGEBYSCORE".into(), "k".into(), max_t, min_t]
                } else {
                    vec!["ZRANGEBYSCORE".into(), "k".into(), min_t, max_t]
                };
                if withscores {
                    args.push("WITHSCORES".into());
                }
                if let Some((off, cnt)) = limit {
                    args.extend(["LIMIT".into(), off.to_string(), cnt.to_string()]);
                }
                (args, render(&sel, withscores))
            }
            8 => {
                let (min_t, min_x, min) = bound_arg(&mut rng);
                let (max_t, max_x, max) = bound_arg(&mut rng);
                let n = model
                    .values()
                    .filter(|s| {
                        (if min_x { **s > min } else { **s >= min })
                            && (if max_x { **s < max } else { **s <= max })
                    })
                    .count();
                (
                    vec!["ZCOUNT".into(), "k".into(), min_t, max_t],
                    n.to_string(),
                )
            }
            9 => {
                let start = rng.below(30) as i64 - 15;
                let stop = rng.below(30) as i64 - 15;
                let rev = rng.below(2) == 0;
                let mut list = sorted(&model);
                if rev {
                    list.reverse();
                }
                let sel = &list[rank_slice(list.len(), start, stop)];
                let name = if rev { "ZREVRANGE" } else { "ZRANGE" };
                (
                    vec![
                        name.into(),
                        "k".into(),
                        start.to_string(),
                        stop.to_string(),
                        "WITHSCORES".into(),
                    ],
                    render(sel, true),
                )
            }
            10 => {
                let max = rng.below(2) == 0;
                let count = rng.below(4);
                let mut list = sorted(&model);
                if max {
                    list.reverse();
                }
                let popped: Vec<(String, f64)> = list.into_iter().take(count as usize).collect();
                for (m, _) in &popped {
                    model.remove(m);
                }
                let name = if max { "ZPOPMAX" } else { "ZPOPMIN" };
                (
                    vec![name.into(), "k".into(), count.to_string()],
                    render(&popped, true),
                )
            }
            11 => {
                let start = rng.below(20) as i64 - 10;
                let stop = rng.below(20) as i64 - 10;
                let list = sorted(&model);
                let range = rank_slice(list.len(), start, stop);
                for (m, _) in &list[range.clone()] {
                    model.remove(m);
                }
                (
                    vec![
                        "ZREMRANGEBYRANK".into(),
                        "k".into(),
                        start.to_string(),
                        stop.to_string(),
                    ],
                    range.len().to_string(),
                )
            }
            12 => {
                let (min_t, min_x, min) = bound_arg(&mut rng);
                let (max_t, max_x, max) = bound_arg(&mut rng);
                let before = model.len();
                model.retain(|_, s| {
                    !((if min_x { *s > min } else { *s >= min })
                        && (if max_x { *s < max } else { *s <= max }))
                });
                (
                    vec!["ZREMRANGEBYSCORE".into(), "k".into(), min_t, max_t],
                    (before - model.len()).to_string(),
                )
            }
            13 => {
                let m = member(&mut rng);
                let added = lex.insert(m.clone());
                (
                    vec!["ZADD".into(), "lex".into(), "0".into(), m],
                    (added as i64).to_string(),
                )
            }
            14 | 15 => {
                let (min_t, min) = lex_bound(&mut rng);
                let (max_t, max) = lex_bound(&mut rng);
                let rev = rng.below(2) == 0;
                let mut sel: Vec<(String, f64)> = lex
                    .iter()
                    .filter(|m| lex_above(&min, m) && lex_below(&max, m))
                    .map(|m| (m.clone(), 0.0))
                    .collect();
                match rng.below(4) {
                    0 => {
                        lex.retain(|m| !(lex_above(&min, m) && lex_below(&max, m)));
                        (
                            vec!["ZREMRANGEBYLEX".into(), "lex".into(), min_t, max_t],
                            sel.len().to_string(),
                        )
                    }
                    1 => (
                        vec!["ZLEXCOUNT".into(), "lex".into(), min_t, max_t],
                        sel.len().to_string(),
                    ),
                    _ => {
                        if rev {
                            sel.reverse();
                        }
                        let (off, cnt) = (rng.below(4) as usize, rng.below(5) as i64 - 1);
                        let sel: Vec<(String, f64)> = if cnt < 0 {
                            sel.into_iter().skip(off).collect()
                        } else {
                            sel.into_iter().skip(off).take(cnt as usize).collect()
                        };
                        let mut args = if rev {
                            vec!["ZREVRANGEBYLEX".into(), "lex".into(), max_t, min_t]
                        } else {
                            vec!["ZRANGEBYLEX".into(), "lex".into(), min_t, max_t]
                        };
                        args.extend(["LIMIT".into(), off.to_string(), cnt.to_string()]);
                        (args, render(&sel, false))
                    }
                }
            }
            _ => (vec!["ZCARD".into(), "k".into()], model.len().to_string()),
        };
        let argv: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
        assert_eq!(r(c, &argv), expected, "step {step}: {args:?}");
    }
    // The final state, in full.
    assert_eq!(
        r(c, &["ZRANGE", "k", "0", "-1", "WITHSCORES"]),
        render(&sorted(&model), true)
    );
    assert_eq!(
        r(c, &["EXISTS", "k"]),
        if model.is_empty() { "0" } else { "1" }
    );
    let all: Vec<(String, f64)> = lex.iter().map(|m| (m.clone(), 0.0)).collect();
    assert_eq!(r(c, &["ZRANGE", "lex", "0", "-1"]), render(&all, false));
}

#[test]
fn union_inter_diff() {
    let server = Server::start();
    let c = &mut server.client();
    q::<i64>(c, &["ZADD", "a", "1", "x", "2", "y", "3", "z"]);
    q::<i64>(c, &["ZADD", "b", "10", "y", "20", "z", "30", "w"]);
    q::<i64>(c, &["SADD", "s", "y", "q"]);
    q::<String>(c, &["SET", "str", "v"]);
    assert_eq!(
        r(c, &["ZUNION", "2", "a", "b", "WITHSCORES"]),
        "[x,1,y,12,z,23,w,30]"
    );
    // Plain sets are inputs whose members score 1.
    assert_eq!(r(c, &["ZUNION", "3", "a", "b", "s"]), "[q,x,y,z,w]");
    assert_eq!(
        r(c, &["ZINTER", "3", "a", "b", "s", "WITHSCORES"]),
        "[y,13]"
    );
    assert_eq!(
        r(
            c,
            &[
                "ZINTER",
                "2",
                "a",
                "b",
                "WEIGHTS",
                "2",
                "-1",
                "AGGREGATE",
                "MAX",
                "WITHSCORES"
            ]
        ),
        "[y,4,z,6]"
    );
    assert_eq!(
        r(
            c,
            &["ZINTER", "2", "a", "b", "aggregate", "min", "withscores"]
        ),
        "[y,2,z,3]"
    );
    assert_eq!(r(c, &["ZINTER", "2", "a", "nokey"]), "[]");
    assert_eq!(r(c, &["ZDIFF", "2", "a", "b", "WITHSCORES"]), "[x,1]");
    assert_eq!(r(c, &["ZDIFF", "3", "b", "a", "s", "WITHSCORES"]), "[w,30]");
    assert_eq!(r(c, &["ZDIFF", "2", "nokey", "a"]), "[]");
    // inf * 0 and inf + -inf are 0 by Redis's convention.
    q::<i64>(c, &["ZADD", "inf", "1", "+inf", "2", "-inf"]);
    assert_eq!(
        r(
            c,
            &[
                "ZUNION",
                "2",
                "inf",
                "inf",
                "WEIGHTS",
                "1",
                "0",
                "WITHSCORES"
            ]
        ),
        "[+inf,1,-inf,2]"
    );
    assert_eq!(
        r(
            c,
            &[
                "ZUNION",
                "2",
                "inf",
                "inf",
                "WEIGHTS",
                "1",
                "-1",
                "WITHSCORES"
            ]
        ),
        "[+inf,0,-inf,0]"
    );
    // Errors, in Redis's order: numkeys, key count, types, then options.
    assert_eq!(
        r(c, &["ZDIFF", "1", "a", "WEIGHTS", "1"]),
        "ERR syntax error"
    );
    for n in ["0", "-1"] {
        assert_eq!(
            r(c, &["ZUNION", n, "a"]),
            "ERR at least 1 input key is needed for 'zunion' command"
        );
    }
    assert_eq!(
        r(c, &["ZUNION", "x", "a"]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(r(c, &["ZUNION", "3", "a", "b"]), "ERR syntax error");
    assert_eq!(
        r(c, &["ZUNION", "2", "a", "str", "WEIGHTS", "x"]),
        WRONGTYPE
    );
    assert_eq!(
        r(c, &["ZUNION", "2", "a", "b", "WEIGHTS", "1"]),
        "ERR syntax error"
    );
    assert_eq!(
        r(c, &["ZUNION", "2", "a", "b", "WEIGHTS", "1", "x"]),
        "ERR weight value is not a float"
    );
    assert_eq!(
        r(c, &["ZUNION", "2", "a", "b", "AGGREGATE", "avg"]),
        "ERR syntax error"
    );
    assert_eq!(
        r(c, &["ZUNION", "2", "a", "b", "AGGREGATE"]),
        "ERR syntax error"
    );
    assert_eq!(
        r(c, &["ZUNIONSTORE", "d", "2", "a", "b", "WITHSCORES"]),
        "ERR syntax error"
    );
    assert_eq!(r(c, &["ZDIFF", "2", "str", "a"]), WRONGTYPE);
    // STORE forms overwrite any type and delete on an empty result.
    assert_eq!(
        r(c, &["ZUNIONSTORE", "d", "2", "a", "b", "WEIGHTS", "1", "2"]),
        "4"
    );
    assert_eq!(
        r(c, &["ZRANGE", "d", "0", "-1", "WITHSCORES"]),
        "[x,1,y,22,z,43,w,60]"
    );
    assert_eq!(r(c, &["ZINTERSTORE", "d", "2", "a", "nokey"]), "0");
    assert_eq!(r(c, &["EXISTS", "d"]), "0");
    assert_eq!(r(c, &["ZINTERSTORE", "str", "2", "a", "b"]), "2");
    assert_eq!(r(c, &["TYPE", "str"]), "zset");
    assert_eq!(r(c, &["ZDIFFSTORE", "out", "2", "b", "a"]), "1");
    assert_eq!(r(c, &["ZRANGE", "out", "0", "-1", "WITHSCORES"]), "[w,30]");
    assert_eq!(r(c, &["ZUNIONSTORE", "a", "2", "a", "a"]), "3");
    assert_eq!(
        r(c, &["ZRANGE", "a", "0", "-1", "WITHSCORES"]),
        "[x,2,y,4,z,6]"
    );
    // ZINTERCARD.
    assert_eq!(r(c, &["ZINTERCARD", "2", "a", "b"]), "2");
    assert_eq!(r(c, &["ZINTERCARD", "2", "a", "b", "LIMIT", "1"]), "1");
    assert_eq!(r(c, &["ZINTERCARD", "2", "a", "b", "LIMIT", "0"]), "2");
    assert_eq!(r(c, &["ZINTERCARD", "2", "a", "nokey"]), "0");
    for bad in ["-1", "x"] {
        assert_eq!(
            r(c, &["ZINTERCARD", "2", "a", "b", "LIMIT", bad]),
            "ERR LIMIT can't be negative"
        );
    }
    assert_eq!(
        r(c, &["ZINTERCARD", "0", "a"]),
        "ERR at least 1 input key is needed for 'zintercard' command"
    );
    assert_eq!(
        r(c, &["ZINTERCARD", "2", "a", "b", "WITHSCORES"]),
        "ERR syntax error"
    );
}

#[test]
fn zmpop() {
    let server = Server::start();
    let c = &mut server.client();
    q::<i64>(c, &["ZADD", "a", "1", "x", "2", "y", "3", "z"]);
    q::<String>(c, &["SET", "str", "v"]);
    assert_eq!(
        r(c, &["ZMPOP", "2", "nokey", "a", "MIN", "COUNT", "2"]),
        "[a,[[x,1],[y,2]]]"
    );
    assert_eq!(r(c, &["ZMPOP", "1", "nokey", "MIN"]), "nil");
    assert_eq!(
        r(c, &["ZMPOP", "0", "a", "MIN"]),
        "ERR numkeys should be greater than 0"
    );
    assert_eq!(
        r(c, &["ZMPOP", "x", "a", "MIN"]),
        "ERR numkeys should be greater than 0"
    );
    assert_eq!(r(c, &["ZMPOP", "2", "a", "MIN"]), "ERR syntax error");
    assert_eq!(r(c, &["ZMPOP", "1", "a", "FOO"]), "ERR syntax error");
    for bad in ["0", "x"] {
        assert_eq!(
            r(c, &["ZMPOP", "1", "a", "MIN", "COUNT", bad]),
            "ERR count should be greater than 0"
        );
    }
    assert_eq!(
        r(c, &["ZMPOP", "1", "a", "MIN", "COUNT", "1", "COUNT", "1"]),
        "ERR syntax error"
    );
    assert_eq!(
        r(c, &["ZMPOP", "1", "a", "MIN", "COUNT"]),
        "ERR syntax error"
    );
    assert_eq!(r(c, &["ZMPOP", "2", "str", "a", "MIN"]), WRONGTYPE);
    assert_eq!(
        r(c, &["ZMPOP", "2", "nokey", "a", "max", "count", "10"]),
        "[a,[[z,3]]]"
    );
    assert_eq!(r(c, &["EXISTS", "a"]), "0");
    assert_eq!(r(c, &["ZMPOP", "1", "a", "MAX"]), "nil");
}
