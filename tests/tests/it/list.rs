//! List commands: LPUSH RPUSH LPUSHX RPUSHX LPOP RPOP LLEN LINDEX LSET LRANGE
//! LTRIM LREM LINSERT LPOS LMOVE RPOPLPUSH LMPOP, plus a randomized test
//! against an in-memory model. Replies and error texts are Redis 7.2's
//! (checked with `BASALT_TEST_AGAINST=redis`).

use basalt_tests::client::{q, reply as r};
use basalt_tests::Server;
use std::collections::{HashMap, VecDeque};
use std::io::{Read, Write};

// ---------------------------------------------------------------- helpers --

fn encode(args: &[&str]) -> Vec<u8> {
    let mut req = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        req.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
    }
    req
}

/// Sends a command followed by a PING and returns the raw RESP bytes of
/// the command's reply (everything before the PONG).
fn round_trip(s: &mut std::net::TcpStream, args: &[&str]) -> String {
    let mut req = encode(args);
    req.extend(encode(&["PING"]));
    s.write_all(&req).unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    while !out.ends_with(b"+PONG\r\n") {
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "connection closed");
        out.extend_from_slice(&buf[..n]);
    }
    out.truncate(out.len() - 7);
    String::from_utf8_lossy(&out).into_owned()
}

/// The exact RESP bytes of one command's reply, in RESP3 if `resp3`.
fn raw(server: &Server, resp3: bool, args: &[&str]) -> String {
    let mut s = server.raw();
    if resp3 {
        round_trip(&mut s, &["HELLO", "3"]);
    }
    round_trip(&mut s, args)
}

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
const NOT_INT: &str = "ERR value is not an integer or out of range";
const SYNTAX: &str = "ERR syntax error";

// ------------------------------------------------------------- push / pop --

#[test]
fn push_pop_len() {
    let server = Server::start();
    let c = &mut server.client();

    assert_eq!(r(c, &["LPUSH", "l", "a", "b", "c"]), "3");
    assert_eq!(r(c, &["RPUSH", "l", "x", "y"]), "5");
    assert_eq!(r(c, &["LRANGE", "l", "0", "-1"]), "[c,b,a,x,y]");
    assert_eq!(r(c, &["LLEN", "l"]), "5");
    assert_eq!(r(c, &["LLEN", "missing"]), "0");
    assert_eq!(r(c, &["LPUSHX", "missing", "a"]), "0");
    assert_eq!(r(c, &["RPUSHX", "missing", "a", "b"]), "0");
    assert_eq!(r(c, &["EXISTS", "missing"]), "0");
    assert_eq!(r(c, &["LPUSHX", "l", "p", "q"]), "7");
    assert_eq!(r(c, &["RPUSHX", "l", "z"]), "8");
    assert_eq!(r(c, &["TYPE", "l"]), "list");

    assert_eq!(r(c, &["LPOP", "l"]), "q");
    assert_eq!(r(c, &["RPOP", "l"]), "z");
    assert_eq!(r(c, &["LPOP", "l", "2"]), "[p,c]");
    assert_eq!(r(c, &["RPOP", "l", "2"]), "[y,x]");
    assert_eq!(r(c, &["LPOP", "l", "0"]), "[]");
    assert_eq!(r(c, &["RPOP", "l", "100"]), "[a,b]");
    assert_eq!(r(c, &["EXISTS", "l"]), "0");
    assert_eq!(r(c, &["LPOP", "l"]), "nil");
    assert_eq!(r(c, &["LPOP", "l", "0"]), "nil");
    assert_eq!(r(c, &["RPOP", "l", "3"]), "nil");

    assert_eq!(
        r(c, &["LPOP", "l", "-1"]),
        "ERR value is out of range, must be positive"
    );
    assert_eq!(
        r(c, &["LPOP", "l", "x"]),
        "ERR value is out of range, must be positive"
    );
    assert_eq!(
        r(c, &["LPOP", "l", "1", "2"]),
        "ERR wrong number of arguments for 'lpop' command"
    );
    assert_eq!(
        r(c, &["RPOP", "l", "1", "2"]),
        "ERR wrong number of arguments for 'rpop' command"
    );
    assert_eq!(
        r(c, &["LPUSH", "l"]),
        "ERR wrong number of arguments for 'lpush' command"
    );

    // binary-safe elements, the empty element
    assert_eq!(r(c, &["RPUSH", "b", "", "a b\r\n"]), "2");
    assert_eq!(
        q::<Vec<Vec<u8>>>(c, &["LRANGE", "b", "0", "-1"]),
        vec![b"".to_vec(), b"a b\r\n".to_vec()]
    );

    // a TTL survives pushes and pops
    assert_eq!(r(c, &["EXPIRE", "b", "100"]), "1");
    assert_eq!(r(c, &["RPUSH", "b", "c"]), "3");
    assert_eq!(r(c, &["LPOP", "b"]), "");
    assert_eq!(r(c, &["TTL", "b"]), "100");

    // a list recreated after being emptied starts fresh
    assert_eq!(r(c, &["RPOP", "b", "5"]), "[c,a b\r\n]");
    assert_eq!(r(c, &["RPUSH", "b", "n"]), "1");
    assert_eq!(r(c, &["TTL", "b"]), "-1");
    assert_eq!(r(c, &["LRANGE", "b", "0", "-1"]), "[n]");

    // an expired list is gone for every command, and a push starts afresh
    r(c, &["RPUSH", "e", "old1", "old2"]);
    assert_eq!(r(c, &["PEXPIRE", "e", "1"]), "1");
    std::thread::sleep(std::time::Duration::from_millis(20));
    assert_eq!(r(c, &["LLEN", "e"]), "0");
    assert_eq!(r(c, &["RPUSHX", "e", "x"]), "0");
    assert_eq!(r(c, &["LPUSH", "e", "new"]), "1");
    assert_eq!(r(c, &["LRANGE", "e", "0", "-1"]), "[new]");

    // RENAME and COPY carry the elements and the head/tail trailer
    r(c, &["LPUSH", "e", "front"]);
    assert_eq!(r(c, &["RENAME", "e", "e2"]), "OK");
    assert_eq!(r(c, &["COPY", "e2", "e3"]), "1");
    r(c, &["LPUSH", "e2", "L"]);
    r(c, &["RPUSH", "e3", "R"]);
    assert_eq!(r(c, &["LRANGE", "e2", "0", "-1"]), "[L,front,new]");
    assert_eq!(r(c, &["LRANGE", "e3", "0", "-1"]), "[front,new,R]");
    assert_eq!(r(c, &["LINDEX", "e3", "-1"]), "R");
}

#[test]
fn wrongtype_everywhere() {
    let server = Server::start();
    let c = &mut server.client();
    r(c, &["SET", "s", "v"]);
    r(c, &["RPUSH", "l", "a"]);
    for args in [
        &["LPUSH", "s", "a"][..],
        &["RPUSH", "s", "a"],
        &["LPUSHX", "s", "a"],
        &["RPUSHX", "s", "a"],
        &["LPOP", "s"],
        &["RPOP", "s", "0"],
        &["LLEN", "s"],
        &["LINDEX", "s", "0"],
        &["LSET", "s", "0", "x"],
        &["LRANGE", "s", "0", "-1"],
        &["LTRIM", "s", "0", "-1"],
        &["LREM", "s", "0", "a"],
        &["LINSERT", "s", "BEFORE", "a", "b"],
        &["LPOS", "s", "a"],
        &["LMOVE", "s", "l", "LEFT", "LEFT"],
        &["LMOVE", "l", "s", "LEFT", "LEFT"],
        &["RPOPLPUSH", "s", "l"],
        &["RPOPLPUSH", "l", "s"],
        &["LMPOP", "2", "s", "l", "LEFT"],
    ] {
        assert_eq!(r(c, args), WRONGTYPE, "{args:?}");
    }
    // nothing moved, and the string is intact
    assert_eq!(r(c, &["LRANGE", "l", "0", "-1"]), "[a]");
    assert_eq!(r(c, &["GET", "s"]), "v");
    // a missing source answers nil before the destination's type is looked at
    assert_eq!(r(c, &["LMOVE", "missing", "s", "LEFT", "LEFT"]), "nil");
    // LMPOP stops at the first non-empty list
    assert_eq!(r(c, &["LMPOP", "2", "l", "s", "LEFT"]), "[l,[a]]");
    // SET overwrites a list
    r(c, &["RPUSH", "l2", "a"]);
    assert_eq!(r(c, &["SET", "l2", "x"]), "OK");
    assert_eq!(r(c, &["LLEN", "s"]), WRONGTYPE);
}

// ------------------------------------------------------ index / range ops --

#[test]
fn index_set_range_trim() {
    let server = Server::start();
    let c = &mut server.client();
    r(c, &["RPUSH", "l", "a", "b", "c", "d", "e"]);

    assert_eq!(r(c, &["LINDEX", "l", "0"]), "a");
    assert_eq!(r(c, &["LINDEX", "l", "-1"]), "e");
    assert_eq!(r(c, &["LINDEX", "l", "-5"]), "a");
    assert_eq!(r(c, &["LINDEX", "l", "5"]), "nil");
    assert_eq!(r(c, &["LINDEX", "l", "-6"]), "nil");
    assert_eq!(r(c, &["LINDEX", "missing", "0"]), "nil");
    assert_eq!(r(c, &["LINDEX", "l", "x"]), NOT_INT);

    assert_eq!(r(c, &["LSET", "l", "1", "B"]), "OK");
    assert_eq!(r(c, &["LSET", "l", "-1", "E"]), "OK");
    assert_eq!(r(c, &["LSET", "l", "5", "x"]), "ERR index out of range");
    assert_eq!(r(c, &["LSET", "l", "-6", "x"]), "ERR index out of range");
    assert_eq!(r(c, &["LSET", "missing", "0", "x"]), "ERR no such key");
    assert_eq!(r(c, &["LSET", "l", "x", "x"]), NOT_INT);

    assert_eq!(r(c, &["LRANGE", "l", "0", "-1"]), "[a,B,c,d,E]");
    assert_eq!(r(c, &["LRANGE", "l", "1", "2"]), "[B,c]");
    assert_eq!(r(c, &["LRANGE", "l", "-2", "-1"]), "[d,E]");
    assert_eq!(r(c, &["LRANGE", "l", "-100", "0"]), "[a]");
    assert_eq!(r(c, &["LRANGE", "l", "3", "100"]), "[d,E]");
    assert_eq!(r(c, &["LRANGE", "l", "3", "2"]), "[]");
    assert_eq!(r(c, &["LRANGE", "l", "5", "10"]), "[]");
    assert_eq!(r(c, &["LRANGE", "l", "-100", "-50"]), "[]");
    assert_eq!(
        r(
            c,
            &["LRANGE", "l", "-9223372036854775808", "9223372036854775807"]
        ),
        "[a,B,c,d,E]"
    );
    assert_eq!(r(c, &["LRANGE", "missing", "0", "-1"]), "[]");
    assert_eq!(r(c, &["LRANGE", "l", "a", "1"]), NOT_INT);

    assert_eq!(r(c, &["LTRIM", "l", "1", "-2"]), "OK");
    assert_eq!(r(c, &["LRANGE", "l", "0", "-1"]), "[B,c,d]");
    assert_eq!(r(c, &["LTRIM", "l", "-100", "100"]), "OK");
    assert_eq!(r(c, &["LRANGE", "l", "0", "-1"]), "[B,c,d]");
    assert_eq!(r(c, &["LTRIM", "l", "-1", "-1"]), "OK");
    assert_eq!(r(c, &["LRANGE", "l", "0", "-1"]), "[d]");
    assert_eq!(r(c, &["LTRIM", "l", "1", "0"]), "OK");
    assert_eq!(r(c, &["EXISTS", "l"]), "0");
    assert_eq!(r(c, &["LTRIM", "missing", "0", "1"]), "OK");
    assert_eq!(r(c, &["LTRIM", "l", "0", "x"]), NOT_INT);

    // a big trim (range deletion) followed by pushes at both ends
    let many: Vec<String> = (0..500).map(|i| i.to_string()).collect();
    let mut args = vec!["RPUSH", "big"];
    args.extend(many.iter().map(|s| s.as_str()));
    assert_eq!(r(c, &args), "500");
    assert_eq!(r(c, &["LTRIM", "big", "200", "-201"]), "OK");
    assert_eq!(r(c, &["LLEN", "big"]), "100");
    assert_eq!(r(c, &["LRANGE", "big", "0", "1"]), "[200,201]");
    assert_eq!(r(c, &["LRANGE", "big", "-1", "-1"]), "[299]");
    r(c, &["LPUSH", "big", "L"]);
    r(c, &["RPUSH", "big", "R"]);
    assert_eq!(r(c, &["LINDEX", "big", "0"]), "L");
    assert_eq!(r(c, &["LINDEX", "big", "101"]), "R");
    assert_eq!(r(c, &["LINDEX", "big", "102"]), "nil");
}

#[test]
fn lrem_and_linsert() {
    let server = Server::start();
    let c = &mut server.client();
    r(c, &["RPUSH", "l", "x", "a", "x", "b", "x", "c", "x"]);
    assert_eq!(r(c, &["LREM", "l", "2", "x"]), "2");
    assert_eq!(r(c, &["LRANGE", "l", "0", "-1"]), "[a,b,x,c,x]");
    assert_eq!(r(c, &["LREM", "l", "-1", "x"]), "1");
    assert_eq!(r(c, &["LRANGE", "l", "0", "-1"]), "[a,b,x,c]");
    assert_eq!(r(c, &["LREM", "l", "0", "nope"]), "0");
    assert_eq!(r(c, &["LREM", "missing", "0", "x"]), "0");
    assert_eq!(r(c, &["LREM", "l", "x", "x"]), NOT_INT);
    // the list stays contiguous at both ends
    r(c, &["LPUSH", "l", "L"]);
    r(c, &["RPUSH", "l", "R"]);
    assert_eq!(r(c, &["LRANGE", "l", "0", "-1"]), "[L,a,b,x,c,R]");
    assert_eq!(r(c, &["LINDEX", "l", "3"]), "x");

    assert_eq!(r(c, &["LINSERT", "l", "BEFORE", "L", "0"]), "7");
    assert_eq!(r(c, &["LINSERT", "l", "after", "R", "9"]), "8");
    assert_eq!(r(c, &["LINSERT", "l", "AFTER", "a", "a2"]), "9");
    assert_eq!(r(c, &["LINSERT", "l", "BEFORE", "c", "c0"]), "10");
    assert_eq!(r(c, &["LRANGE", "l", "0", "-1"]), "[0,L,a,a2,b,x,c0,c,R,9]");
    assert_eq!(r(c, &["LINSERT", "l", "BEFORE", "zz", "q"]), "-1");
    assert_eq!(r(c, &["LINSERT", "missing", "BEFORE", "a", "q"]), "0");
    assert_eq!(r(c, &["EXISTS", "missing"]), "0");
    assert_eq!(r(c, &["LINSERT", "l", "MIDDLE", "a", "q"]), SYNTAX);
    assert_eq!(r(c, &["LINSERT", "missing", "MIDDLE", "a", "q"]), SYNTAX);
    // the first occurrence is the pivot
    r(c, &["RPUSH", "d", "p", "p"]);
    assert_eq!(r(c, &["LINSERT", "d", "AFTER", "p", "n"]), "3");
    assert_eq!(r(c, &["LRANGE", "d", "0", "-1"]), "[p,n,p]");

    assert_eq!(r(c, &["LREM", "l", "0", "a2"]), "1");
    assert_eq!(r(c, &["LREM", "d", "-10", "p"]), "2");
    assert_eq!(r(c, &["LREM", "d", "1", "n"]), "1");
    assert_eq!(r(c, &["EXISTS", "d"]), "0");
    assert_eq!(r(c, &["LLEN", "l"]), "9");
    assert_eq!(r(c, &["LRANGE", "l", "-3", "-1"]), "[c,R,9]");
}

#[test]
fn lpos() {
    let server = Server::start();
    let c = &mut server.client();
    r(c, &["RPUSH", "l", "a", "b", "c", "1", "2", "3", "c", "c"]);
    assert_eq!(r(c, &["LPOS", "l", "a"]), "0");
    assert_eq!(r(c, &["LPOS", "l", "c"]), "2");
    assert_eq!(r(c, &["LPOS", "l", "z"]), "nil");
    assert_eq!(r(c, &["LPOS", "l", "c", "RANK", "2"]), "6");
    assert_eq!(r(c, &["LPOS", "l", "c", "RANK", "-1"]), "7");
    assert_eq!(r(c, &["LPOS", "l", "c", "RANK", "-3"]), "2");
    assert_eq!(r(c, &["LPOS", "l", "c", "RANK", "4"]), "nil");
    assert_eq!(r(c, &["LPOS", "l", "c", "COUNT", "2"]), "[2,6]");
    assert_eq!(r(c, &["LPOS", "l", "c", "COUNT", "0"]), "[2,6,7]");
    assert_eq!(
        r(c, &["LPOS", "l", "c", "COUNT", "0", "RANK", "-1"]),
        "[7,6,2]"
    );
    assert_eq!(
        r(c, &["LPOS", "l", "c", "COUNT", "0", "RANK", "2"]),
        "[6,7]"
    );
    assert_eq!(
        r(c, &["LPOS", "l", "c", "COUNT", "0", "MAXLEN", "7"]),
        "[2,6]"
    );
    assert_eq!(r(c, &["LPOS", "l", "c", "RANK", "-1", "MAXLEN", "1"]), "7");
    assert_eq!(
        r(c, &["LPOS", "l", "a", "RANK", "-1", "MAXLEN", "2"]),
        "nil"
    );
    assert_eq!(r(c, &["LPOS", "l", "z", "COUNT", "0"]), "[]");
    assert_eq!(r(c, &["LPOS", "missing", "z"]), "nil");
    assert_eq!(r(c, &["LPOS", "missing", "z", "COUNT", "1"]), "[]");
    assert_eq!(
        r(
            c,
            &["lpos", "l", "c", "count", "1", "maxlen", "0", "rank", "1"]
        ),
        "[2]"
    );

    assert_eq!(
        r(c, &["LPOS", "l", "c", "RANK", "0"]),
        "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list"
    );
    assert_eq!(
        r(c, &["LPOS", "l", "c", "COUNT", "-1"]),
        "ERR COUNT can't be negative"
    );
    assert_eq!(
        r(c, &["LPOS", "l", "c", "MAXLEN", "-1"]),
        "ERR MAXLEN can't be negative"
    );
    assert_eq!(r(c, &["LPOS", "l", "c", "RANK", "x"]), NOT_INT);
    assert_eq!(
        r(c, &["LPOS", "l", "c", "COUNT", "x"]),
        "ERR COUNT can't be negative"
    );
    assert_eq!(
        r(c, &["LPOS", "l", "c", "MAXLEN", "x"]),
        "ERR MAXLEN can't be negative"
    );
    assert_eq!(r(c, &["LPOS", "l", "c", "RANK"]), SYNTAX);
    assert_eq!(r(c, &["LPOS", "l", "c", "FOO", "1"]), SYNTAX);
    // options are checked before the key's type
    r(c, &["SET", "s", "v"]);
    assert_eq!(
        r(c, &["LPOS", "s", "c", "COUNT", "-1"]),
        "ERR COUNT can't be negative"
    );
}

#[test]
fn lpos_rank_long_min_is_rejected() {
    // Redis 7.2 rejects it; 7.0 (the Debian reference) does not.
    basalt_tests::skip_on_redis!();
    let server = Server::start();
    let c = &mut server.client();
    r(c, &["RPUSH", "l", "a"]);
    assert_eq!(
        r(c, &["LPOS", "l", "a", "RANK", "-9223372036854775808"]),
        "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
    );
    assert_eq!(
        r(c, &["LPOS", "l", "a", "RANK", "-9223372036854775807"]),
        "nil"
    );
}

// ---------------------------------------------------------------- moves --

#[test]
fn lmove_rpoplpush() {
    let server = Server::start();
    let c = &mut server.client();
    r(c, &["RPUSH", "a", "1", "2", "3"]);
    assert_eq!(r(c, &["LMOVE", "a", "b", "LEFT", "RIGHT"]), "1");
    assert_eq!(r(c, &["LMOVE", "a", "b", "right", "left"]), "3");
    assert_eq!(r(c, &["LRANGE", "b", "0", "-1"]), "[3,1]");
    assert_eq!(r(c, &["RPOPLPUSH", "b", "a"]), "1");
    assert_eq!(r(c, &["LRANGE", "a", "0", "-1"]), "[1,2]");
    // rotation on the same key
    r(c, &["RPUSH", "r", "x", "y", "z"]);
    assert_eq!(r(c, &["LMOVE", "r", "r", "LEFT", "RIGHT"]), "x");
    assert_eq!(r(c, &["LRANGE", "r", "0", "-1"]), "[y,z,x]");
    assert_eq!(r(c, &["RPOPLPUSH", "r", "r"]), "x");
    assert_eq!(r(c, &["LRANGE", "r", "0", "-1"]), "[x,y,z]");
    assert_eq!(r(c, &["LMOVE", "r", "r", "LEFT", "LEFT"]), "x");
    assert_eq!(r(c, &["LMOVE", "r", "r", "RIGHT", "RIGHT"]), "z");
    assert_eq!(r(c, &["LRANGE", "r", "0", "-1"]), "[x,y,z]");
    r(c, &["RPUSH", "one", "o"]);
    assert_eq!(r(c, &["LMOVE", "one", "one", "RIGHT", "LEFT"]), "o");
    assert_eq!(r(c, &["LRANGE", "one", "0", "-1"]), "[o]");
    // the last element moves and the source disappears
    assert_eq!(r(c, &["LMOVE", "one", "new", "LEFT", "LEFT"]), "o");
    assert_eq!(r(c, &["EXISTS", "one"]), "0");
    assert_eq!(r(c, &["LRANGE", "new", "0", "-1"]), "[o]");
    assert_eq!(r(c, &["LMOVE", "missing", "new", "LEFT", "LEFT"]), "nil");
    assert_eq!(r(c, &["RPOPLPUSH", "missing", "new"]), "nil");
    assert_eq!(r(c, &["EXISTS", "missing"]), "0");
    assert_eq!(r(c, &["LMOVE", "a", "b", "UP", "LEFT"]), SYNTAX);
    assert_eq!(r(c, &["LMOVE", "a", "b", "LEFT", "DOWN"]), SYNTAX);
    assert_eq!(r(c, &["LMOVE", "missing", "b", "LEFT", "DOWN"]), SYNTAX);
}

#[test]
fn lmpop() {
    let server = Server::start();
    let c = &mut server.client();
    r(c, &["RPUSH", "b", "1", "2", "3"]);
    r(c, &["RPUSH", "c", "x"]);
    assert_eq!(r(c, &["LMPOP", "3", "a", "b", "c", "LEFT"]), "[b,[1]]");
    assert_eq!(
        r(c, &["LMPOP", "3", "a", "b", "c", "RIGHT", "COUNT", "10"]),
        "[b,[3,2]]"
    );
    assert_eq!(r(c, &["EXISTS", "b"]), "0");
    assert_eq!(
        r(c, &["LMPOP", "2", "a", "c", "left", "count", "1"]),
        "[c,[x]]"
    );
    assert_eq!(r(c, &["LMPOP", "2", "a", "c", "LEFT"]), "nil");

    let nk = "ERR numkeys should be greater than 0";
    assert_eq!(r(c, &["LMPOP", "0", "a", "LEFT"]), nk);
    assert_eq!(r(c, &["LMPOP", "-1", "a", "LEFT"]), nk);
    assert_eq!(r(c, &["LMPOP", "x", "a", "LEFT"]), nk);
    assert_eq!(r(c, &["LMPOP", "2", "a", "LEFT"]), SYNTAX);
    assert_eq!(r(c, &["LMPOP", "5", "a", "LEFT"]), SYNTAX);
    assert_eq!(r(c, &["LMPOP", "9223372036854775807", "a", "LEFT"]), SYNTAX);
    assert_eq!(r(c, &["LMPOP", "1", "a", "UP"]), SYNTAX);
    let cnt = "ERR count should be greater than 0";
    assert_eq!(r(c, &["LMPOP", "1", "a", "LEFT", "COUNT", "0"]), cnt);
    assert_eq!(r(c, &["LMPOP", "1", "a", "LEFT", "COUNT", "-1"]), cnt);
    assert_eq!(r(c, &["LMPOP", "1", "a", "LEFT", "COUNT", "x"]), cnt);
    assert_eq!(r(c, &["LMPOP", "1", "a", "LEFT", "COUNT"]), SYNTAX);
    assert_eq!(
        r(c, &["LMPOP", "1", "a", "LEFT", "COUNT", "1", "COUNT", "2"]),
        SYNTAX
    );
    assert_eq!(r(c, &["LMPOP", "1", "a", "LEFT", "FOO"]), SYNTAX);
    assert_eq!(
        r(c, &["LMPOP", "1", "a"]),
        "ERR wrong number of arguments for 'lmpop' command"
    );
}

#[test]
fn null_replies_in_resp2_and_resp3() {
    let server = Server::start();
    assert_eq!(raw(&server, false, &["LPOP", "missing"]), "$-1\r\n");
    assert_eq!(raw(&server, false, &["LPOP", "missing", "1"]), "*-1\r\n");
    assert_eq!(
        raw(&server, false, &["LMPOP", "1", "missing", "LEFT"]),
        "*-1\r\n"
    );
    assert_eq!(raw(&server, false, &["LPOS", "missing", "a"]), "$-1\r\n");
    assert_eq!(raw(&server, false, &["LINDEX", "missing", "0"]), "$-1\r\n");
    assert_eq!(raw(&server, true, &["LPOP", "missing", "1"]), "_\r\n");
    assert_eq!(
        raw(&server, true, &["LMPOP", "1", "missing", "LEFT"]),
        "_\r\n"
    );
    assert_eq!(raw(&server, true, &["RPOPLPUSH", "missing", "x"]), "_\r\n");
    assert_eq!(raw(&server, false, &["RPUSH", "l", "a"]), ":1\r\n");
    assert_eq!(
        raw(&server, true, &["LMPOP", "1", "l", "LEFT"]),
        "*2\r\n$1\r\nl\r\n*1\r\n$1\r\na\r\n"
    );
}

#[test]
fn data_survives_restart() {
    // The Redis reference runs without persistence.
    basalt_tests::skip_on_redis!();
    let mut server = Server::start();
    let c = &mut server.client();
    r(c, &["RPUSH", "l", "b", "c"]);
    r(c, &["LPUSH", "l", "a"]);
    r(c, &["LINSERT", "l", "AFTER", "b", "b2"]);
    server.restart();
    let c = &mut server.client();
    assert_eq!(r(c, &["LRANGE", "l", "0", "-1"]), "[a,b,b2,c]");
    assert_eq!(r(c, &["LINDEX", "l", "-2"]), "b2");
}

// ------------------------------------------------------- randomized model --

struct Rng(u64);

impl Rng {
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

    /// A small signed number in [-span, span].
    fn signed(&mut self, span: i64) -> i64 {
        self.below(2 * span as u64 + 1) as i64 - span
    }
}

type Model = HashMap<String, VecDeque<String>>;

fn arr(items: impl IntoIterator<Item = String>) -> String {
    format!("[{}]", items.into_iter().collect::<Vec<_>>().join(","))
}

fn norm_range(len: usize, start: i64, stop: i64) -> Option<(usize, usize)> {
    let len = len as i64;
    let s = if start < 0 {
        (start + len).max(0)
    } else {
        start
    };
    let e = if stop < 0 { stop + len } else { stop };
    if s > e || s >= len {
        return None;
    }
    Some((s as usize, e.min(len - 1) as usize))
}

fn resolve(len: usize, i: i64) -> Option<usize> {
    let p = if i < 0 { i + len as i64 } else { i };
    (p >= 0 && p < len as i64).then_some(p as usize)
}

/// Applies one command to the model and returns the reply as `r` renders it.
fn model_apply(m: &mut Model, args: &[String]) -> String {
    let name = args[0].as_str();
    let key = args[1].clone();
    let reply = match name {
        "LPUSH" | "RPUSH" | "LPUSHX" | "RPUSHX" => {
            if name.ends_with('X') && !m.contains_key(&key) {
                return "0".into();
            }
            let l = m.entry(key.clone()).or_default();
            for e in &args[2..] {
                if name.starts_with('L') {
                    l.push_front(e.clone());
                } else {
                    l.push_back(e.clone());
                }
            }
            l.len().to_string()
        }
        "LPOP" | "RPOP" => {
            let Some(l) = m.get_mut(&key) else {
                return "nil".into();
            };
            let n: usize = args.get(2).map_or(1, |a| a.parse().unwrap());
            let mut out = Vec::new();
            for _ in 0..n.min(l.len()) {
                out.extend(if name == "LPOP" {
                    l.pop_front()
                } else {
                    l.pop_back()
                });
            }
            if args.len() == 3 {
                arr(out)
            } else {
                out.pop().unwrap()
            }
        }
        "LLEN" => m.get(&key).map_or(0, |l| l.len()).to_string(),
        "LINDEX" => {
            let l = m.get(&key).cloned().unwrap_or_default();
            resolve(l.len(), args[2].parse().unwrap()).map_or("nil".into(), |p| l[p].clone())
        }
        "LSET" => match m.get_mut(&key) {
            None => "ERR no such key".into(),
            Some(l) => match resolve(l.len(), args[2].parse().unwrap()) {
                None => "ERR index out of range".into(),
                Some(p) => {
                    l[p] = args[3].clone();
                    "OK".into()
                }
            },
        },
        "LRANGE" => {
            let l = m.get(&key).cloned().unwrap_or_default();
            match norm_range(l.len(), args[2].parse().unwrap(), args[3].parse().unwrap()) {
                None => "[]".into(),
                Some((s, e)) => arr(l.range(s..=e).cloned()),
            }
        }
        "LTRIM" => {
            if let Some(l) = m.get_mut(&key) {
                *l = match norm_range(l.len(), args[2].parse().unwrap(), args[3].parse().unwrap()) {
                    None => VecDeque::new(),
                    Some((s, e)) => l.range(s..=e).cloned().collect(),
                };
            }
            "OK".into()
        }
        "LREM" => {
            let Some(l) = m.get_mut(&key) else {
                return "0".into();
            };
            let count: i64 = args[2].parse().unwrap();
            let limit = if count == 0 {
                usize::MAX
            } else {
                count.unsigned_abs() as usize
            };
            let mut v: Vec<String> = l.iter().cloned().collect();
            if count < 0 {
                v.reverse();
            }
            let mut removed = 0;
            v.retain(|e| {
                if *e == args[3] && removed < limit {
                    removed += 1;
                    false
                } else {
                    true
                }
            });
            if count < 0 {
                v.reverse();
            }
            *l = v.into();
            removed.to_string()
        }
        "LINSERT" => {
            let Some(l) = m.get_mut(&key) else {
                return "0".into();
            };
            match l.iter().position(|e| *e == args[3]) {
                None => "-1".into(),
                Some(p) => {
                    let q = if args[2] == "BEFORE" { p } else { p + 1 };
                    l.insert(q, args[4].clone());
                    l.len().to_string()
                }
            }
        }
        "LPOS" => {
            let l = m.get(&key).cloned().unwrap_or_default();
            let (mut rank, mut count, mut maxlen) = (1i64, None, 0usize);
            for pair in args[3..].chunks(2) {
                match pair[0].as_str() {
                    "RANK" => rank = pair[1].parse().unwrap(),
                    "COUNT" => count = Some(pair[1].parse::<usize>().unwrap()),
                    _ => maxlen = pair[1].parse().unwrap(),
                }
            }
            let mut order: Vec<usize> = (0..l.len()).collect();
            if rank < 0 {
                order.reverse();
            }
            if maxlen > 0 {
                order.truncate(maxlen);
            }
            let want = match count {
                None => 1,
                Some(0) => usize::MAX,
                Some(n) => n,
            };
            let found: Vec<String> = order
                .into_iter()
                .filter(|&p| l[p] == args[2])
                .skip(rank.unsigned_abs() as usize - 1)
                .take(want)
                .map(|p| p.to_string())
                .collect();
            match count {
                Some(_) => arr(found),
                None => found.into_iter().next().unwrap_or("nil".into()),
            }
        }
        "LMOVE" | "RPOPLPUSH" => {
            let (from, to) = if name == "RPOPLPUSH" {
                ("RIGHT", "LEFT")
            } else {
                (args[3].as_str(), args[4].as_str())
            };
            let Some(src) = m.get_mut(&key) else {
                return "nil".into();
            };
            let e = if from == "LEFT" {
                src.pop_front()
            } else {
                src.pop_back()
            }
            .unwrap();
            if src.is_empty() {
                m.remove(&key);
            }
            let dst = m.entry(args[2].clone()).or_default();
            if to == "LEFT" {
                dst.push_front(e.clone());
            } else {
                dst.push_back(e.clone());
            }
            e
        }
        "LMPOP" => {
            let n: usize = args[1].parse().unwrap();
            let keys = &args[2..2 + n];
            let from = &args[2 + n];
            let count: usize = args.get(4 + n).map_or(1, |a| a.parse().unwrap());
            let Some(k) = keys.iter().find(|k| m.contains_key(*k)) else {
                return "nil".into();
            };
            let l = m.get_mut(k).unwrap();
            let mut out = Vec::new();
            for _ in 0..count.min(l.len()) {
                out.extend(if from == "LEFT" {
                    l.pop_front()
                } else {
                    l.pop_back()
                });
            }
            let reply = format!("[{k},{}]", arr(out));
            if l.is_empty() {
                m.remove(k);
            }
            return reply;
        }
        other => panic!("model: unknown command {other}"),
    };
    m.retain(|_, l| !l.is_empty());
    reply
}

fn random_command(rng: &mut Rng) -> Vec<String> {
    const KEYS: [&str; 3] = ["k1", "k2", "k3"];
    const ELEMS: [&str; 4] = ["a", "b", "c", "d"];
    let key = |rng: &mut Rng| KEYS[rng.below(3) as usize].to_string();
    let elem = |rng: &mut Rng| ELEMS[rng.below(4) as usize].to_string();
    let side = |rng: &mut Rng| if rng.below(2) == 0 { "LEFT" } else { "RIGHT" }.to_string();
    let s = |v: &str| v.to_string();
    match rng.below(20) {
        0..=3 => {
            let name = ["LPUSH", "RPUSH", "LPUSHX", "RPUSHX"][rng.below(4) as usize];
            let mut v = vec![s(name), key(rng)];
            for _ in 0..1 + rng.below(4) {
                v.push(elem(rng));
            }
            v
        }
        4 | 5 => {
            let name = if rng.below(2) == 0 { "LPOP" } else { "RPOP" };
            let mut v = vec![s(name), key(rng)];
            if rng.below(2) == 0 {
                v.push(rng.below(4).to_string());
            }
            v
        }
        6 => vec![s("LLEN"), key(rng)],
        7 => vec![s("LINDEX"), key(rng), rng.signed(6).to_string()],
        8 => vec![s("LSET"), key(rng), rng.signed(6).to_string(), elem(rng)],
        9 | 10 => vec![
            s("LRANGE"),
            key(rng),
            rng.signed(8).to_string(),
            rng.signed(8).to_string(),
        ],
        11 => vec![
            s("LTRIM"),
            key(rng),
            rng.signed(3).to_string(),
            rng.signed(10).to_string(),
        ],
        12 => vec![s("LREM"), key(rng), rng.signed(3).to_string(), elem(rng)],
        13 => {
            let w = if rng.below(2) == 0 { "BEFORE" } else { "AFTER" };
            vec![s("LINSERT"), key(rng), s(w), elem(rng), elem(rng)]
        }
        14 => {
            let mut v = vec![s("LPOS"), key(rng), elem(rng)];
            if rng.below(2) == 0 {
                let mut rank = rng.signed(3);
                if rank == 0 {
                    rank = 1;
                }
                v.extend([s("RANK"), rank.to_string()]);
            }
            if rng.below(2) == 0 {
                v.extend([s("COUNT"), rng.below(3).to_string()]);
            }
            if rng.below(3) == 0 {
                v.extend([s("MAXLEN"), rng.below(5).to_string()]);
            }
            v
        }
        15 | 16 => vec![s("LMOVE"), key(rng), key(rng), side(rng), side(rng)],
        17 => vec![s("RPOPLPUSH"), key(rng), key(rng)],
        _ => {
            let n = 1 + rng.below(3) as usize;
            let mut v = vec![s("LMPOP"), n.to_string()];
            for _ in 0..n {
                v.push(key(rng));
            }
            v.push(side(rng));
            if rng.below(2) == 0 {
                v.extend([s("COUNT"), (1 + rng.below(3)).to_string()]);
            }
            v
        }
    }
}

#[test]
fn randomized_against_model() {
    let server = Server::start();
    let c = &mut server.client();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut model = Model::new();
    for step in 0..4000 {
        let args = random_command(&mut rng);
        let refs: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
        let got = r(c, &refs);
        let want = model_apply(&mut model, &args);
        assert_eq!(got, want, "step {step}: {args:?}");
        if step % 500 == 0 {
            for k in ["k1", "k2", "k3"] {
                let want = model.get(k).map_or("[]".into(), |l| arr(l.iter().cloned()));
                assert_eq!(r(c, &["LRANGE", k, "0", "-1"]), want, "step {step}: {k}");
            }
        }
    }
    for k in ["k1", "k2", "k3"] {
        let want = model.get(k).map_or("[]".into(), |l| arr(l.iter().cloned()));
        assert_eq!(r(c, &["LRANGE", k, "0", "-1"]), want, "final {k}");
        let exists = if model.contains_key(k) { "1" } else { "0" };
        assert_eq!(r(c, &["EXISTS", k]), exists, "final {k}");
    }
}
