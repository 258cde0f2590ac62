//! JSON.* with RedisJSON's reply shapes and errors (RESP2), and the
//! generic commands on JSON keys. redis-server has no RedisJSON, so these
//! tests are Basalt-only; the expected replies follow RedisJSON's source
//! (its commands.rs and key_value.rs) and documentation.

use basalt_tests::client::{err, int, reply};
use basalt_tests::{skip_on_redis, Server};
use redis::Connection;

use crate::protocol::{Raw, R};

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
const DOC: &str = r#"{"a":2,"b":[1,2,{"a":"x"}],"c":{"a":true},"f":1.5}"#;

fn r(c: &mut Connection, args: &[&str]) -> String {
    reply(c, args)
}

fn setup() -> (Server, Connection) {
    let server = Server::start();
    let mut c = server.client();
    assert_eq!(r(&mut c, &["JSON.SET", "doc", "$", DOC]), "OK");
    (server, c)
}

#[test]
fn get_answers_legacy_paths_with_a_value_and_jsonpaths_with_a_list() {
    skip_on_redis!();
    let (_s, mut c) = setup();
    let c = &mut c;
    assert_eq!(r(c, &["JSON.GET", "doc"]), DOC);
    assert_eq!(r(c, &["JSON.GET", "doc", "."]), DOC);
    assert_eq!(r(c, &["JSON.GET", "doc", "$"]), format!("[{DOC}]"));
    assert_eq!(r(c, &["JSON.GET", "doc", ".a"]), "2");
    assert_eq!(r(c, &["JSON.GET", "doc", "a"]), "2");
    assert_eq!(r(c, &["JSON.GET", "doc", ".b[2].a"]), "\"x\"");
    assert_eq!(r(c, &["JSON.GET", "doc", "$..a"]), r#"[2,"x",true]"#);
    assert_eq!(r(c, &["JSON.GET", "doc", "$.nope"]), "[]");
    assert_eq!(r(c, &["JSON.GET", "doc", "$.b[?(@>1)]"]), "[2]");
    // Several paths: an object keyed by the paths as written.
    assert_eq!(
        r(c, &["JSON.GET", "doc", ".a", ".f"]),
        r#"{".a":2,".f":1.5}"#
    );
    assert_eq!(
        r(c, &["JSON.GET", "doc", "$.a", ".f"]),
        r#"{"$.a":[2],".f":[1.5]}"#
    );
    assert_eq!(
        err(c, &["JSON.GET", "doc", ".nope"]),
        "ERR Path does not exist"
    );
    assert_eq!(
        err(c, &["JSON.GET", "doc", ".a", ".nope"]),
        "ERR Path does not exist"
    );
    assert!(err(c, &["JSON.GET", "doc", "$.["]).starts_with("Error occurred at position"));
    assert_eq!(r(c, &["JSON.GET", "missing"]), "nil");
    assert_eq!(r(c, &["SET", "str", "v"]), "OK");
    assert_eq!(err(c, &["JSON.GET", "str"]), WRONGTYPE);
    assert_eq!(err(c, &["GET", "doc"]), WRONGTYPE);
}

#[test]
fn get_formats_with_indent_newline_and_space() {
    skip_on_redis!();
    let (_s, mut c) = setup();
    let c = &mut c;
    let pretty = "{\n\t\"a\": 2,\n\t\"b\": [\n\t\t1,\n\t\t2,\n\t\t{\n\t\t\t\"a\": \"x\"\n\t\t}\n\t],\n\t\"c\": {\n\t\t\"a\": true\n\t},\n\t\"f\": 1.5\n}";
    assert_eq!(
        r(
            c,
            &["JSON.GET", "doc", "INDENT", "\t", "NEWLINE", "\n", "SPACE", " "]
        ),
        pretty
    );
    assert_eq!(
        r(c, &["JSON.GET", "doc", "SPACE", " ", ".c"]),
        r#"{"a": true}"#
    );
    assert_eq!(
        r(c, &["JSON.GET", "doc", "newline", "\n", "$.c"]),
        "[\n{\n\"a\":true\n}\n]"
    );
    assert_eq!(r(c, &["JSON.SET", "e", ".", r#"{"x":[],"y":{}}"#]), "OK");
    assert_eq!(
        r(c, &["JSON.GET", "e", "INDENT", "  ", "NEWLINE", "\n"]),
        "{\n  \"x\":[],\n  \"y\":{}\n}"
    );
    assert_eq!(
        err(c, &["JSON.GET", "doc", "INDENT"]),
        "ERR wrong number of arguments for 'json.get' command"
    );
}

#[test]
fn set_replaces_adds_and_refuses_as_redisjson() {
    skip_on_redis!();
    let (_s, mut c) = setup();
    let c = &mut c;
    assert_eq!(r(c, &["JSON.SET", "doc", "$.a", "3"]), "OK");
    assert_eq!(r(c, &["JSON.SET", "doc", "$..a", "0"]), "OK");
    assert_eq!(r(c, &["JSON.GET", "doc", "$..a"]), "[0,0,0]");
    // A new member through a static path.
    assert_eq!(r(c, &["JSON.SET", "doc", "$.n", r#"{"m":[]}"#]), "OK");
    assert_eq!(r(c, &["JSON.SET", "doc", ".n.k", "null"]), "OK");
    assert_eq!(r(c, &["JSON.GET", "doc", ".n"]), r#"{"m":[],"k":null}"#);
    // Its parent missing: nil, nothing written.
    assert_eq!(r(c, &["JSON.SET", "doc", "$.x.y", "1"]), "nil");
    assert_eq!(
        err(c, &["JSON.SET", "doc", "$..zz", "1"]),
        "Err wrong static path"
    );
    assert_eq!(
        err(c, &["JSON.SET", "doc", "$.b[9]", "1"]),
        "ERR array index out of range"
    );
    // NX / XX.
    assert_eq!(r(c, &["JSON.SET", "doc", "$.a", "5", "NX"]), "nil");
    assert_eq!(r(c, &["JSON.SET", "doc", "$.q", "5", "XX"]), "nil");
    assert_eq!(r(c, &["JSON.SET", "doc", "$.q", "5", "NX"]), "OK");
    assert_eq!(r(c, &["JSON.SET", "doc", "$.q", "6", "xx"]), "OK");
    assert_eq!(r(c, &["JSON.GET", "doc", "q"]), "6");
    assert_eq!(r(c, &["JSON.SET", "doc", "$", "1", "NX"]), "nil");
    assert_eq!(r(c, &["JSON.SET", "new", "$", "1", "XX"]), "nil");
    assert_eq!(
        err(c, &["JSON.SET", "doc", "$", "1", "NX", "XX"]),
        "ERR syntax error"
    );
    assert_eq!(
        err(c, &["JSON.SET", "doc", "$", "1", "BOGUS"]),
        "ERR syntax error"
    );
    // New keys are made at the root only.
    assert_eq!(
        err(c, &["JSON.SET", "new", "$.a", "1"]),
        "ERR new objects must be created at the root"
    );
    assert_eq!(
        err(c, &["JSON.SET", "new", "$", "{bad"]),
        "key must be a string at line 1 column 2"
    );
    assert_eq!(
        err(c, &["JSON.SET", "new", "$", ""]),
        "EOF while parsing a value at line 1 column 0"
    );
    assert_eq!(r(c, &["EXISTS", "new"]), "0");
    assert_eq!(r(c, &["SET", "str", "v"]), "OK");
    assert_eq!(err(c, &["JSON.SET", "str", "$", "1"]), WRONGTYPE);
    assert_eq!(
        err(c, &["JSON.SET", "doc"]),
        "ERR wrong number of arguments for 'json.set' command"
    );
}

#[test]
fn numbers_keep_redisjson_types_and_text() {
    skip_on_redis!();
    let server = Server::start();
    let c = &mut server.client();
    let doc =
        r#"{"i":1,"f":1.0,"e":1e20,"big":18446744073709551614,"neg":-3,"s":"x","o":{"i":10}}"#;
    assert_eq!(r(c, &["JSON.SET", "n", "$", doc]), "OK");
    assert_eq!(
        r(c, &["JSON.GET", "n"]),
        r#"{"i":1,"f":1.0,"e":1e20,"big":18446744073709551614,"neg":-3,"s":"x","o":{"i":10}}"#
    );
    assert_eq!(r(c, &["JSON.NUMINCRBY", "n", ".i", "2"]), "3");
    assert_eq!(r(c, &["JSON.NUMINCRBY", "n", ".i", "0.5"]), "3.5");
    assert_eq!(r(c, &["JSON.NUMINCRBY", "n", ".f", "1"]), "2.0");
    assert_eq!(r(c, &["JSON.NUMMULTBY", "n", ".neg", "-2"]), "6");
    assert_eq!(r(c, &["JSON.NUMINCRBY", "n", "$..i", "1"]), "[4.5,11]");
    assert_eq!(
        r(c, &["JSON.NUMINCRBY", "n", "$.*", "1"]),
        "[5.5,3.0,1e20,18446744073709551615,7,null,null]"
    );
    assert_eq!(
        err(c, &["JSON.NUMMULTBY", "n", ".neg", "9223372036854775807"]),
        "ERR numeric overflow"
    );
    assert_eq!(
        err(c, &["JSON.NUMINCRBY", "n", ".s", "1"]),
        "ERR Path does not exist or does not contains a number"
    );
    assert_eq!(
        err(c, &["JSON.NUMINCRBY", "n", ".i", "\"1\""]),
        "bad input number"
    );
    assert_eq!(
        err(c, &["JSON.NUMINCRBY", "n", ".i", "abc"]),
        "expected value at line 1 column 1"
    );
    assert_eq!(
        err(c, &["JSON.NUMINCRBY", "missing", ".i", "1"]),
        "ERR could not perform this operation on a key that doesn't exist"
    );
    assert_eq!(
        r(c, &["JSON.TYPE", "n", "$.*"]),
        "[number,number,number,integer,integer,string,object]"
    );
    assert_eq!(r(c, &["JSON.TYPE", "n", ".e"]), "number");
    assert_eq!(r(c, &["JSON.TYPE", "n"]), "object");
    assert_eq!(r(c, &["JSON.TYPE", "n", ".zz"]), "nil");
    assert_eq!(r(c, &["JSON.TYPE", "missing"]), "nil");
}

#[test]
fn strings() {
    skip_on_redis!();
    let server = Server::start();
    let c = &mut server.client();
    assert_eq!(
        r(
            c,
            &["JSON.SET", "s", "$", r#"{"a":"foo","b":{"a":"ü"},"c":1}"#]
        ),
        "OK"
    );
    assert_eq!(r(c, &["JSON.STRAPPEND", "s", ".a", "\"bar\""]), "6");
    assert_eq!(r(c, &["JSON.STRAPPEND", "s", "$..a", "\"!\""]), "[7,3]");
    assert_eq!(r(c, &["JSON.STRAPPEND", "s", "$.*", "\"\""]), "[7,nil,nil]");
    assert_eq!(r(c, &["JSON.STRLEN", "s", "$..a"]), "[7,3]");
    assert_eq!(r(c, &["JSON.STRLEN", "s", ".a"]), "7");
    assert_eq!(r(c, &["JSON.GET", "s", ".a"]), "\"foobar!\"");
    assert_eq!(
        err(c, &["JSON.STRAPPEND", "s", ".c", "\"x\""]),
        "ERR Path does not exist or not a string"
    );
    assert_eq!(
        err(c, &["JSON.STRAPPEND", "s", ".a", "1"]),
        "WRONGTYPE wrong type of path value - expected string"
    );
    assert_eq!(
        err(c, &["JSON.STRLEN", "s", ".c"]),
        "WRONGTYPE wrong type of path value - expected string"
    );
    assert_eq!(
        err(c, &["JSON.STRLEN", "s", ".zz"]),
        "ERR Path does not exist"
    );
    assert_eq!(r(c, &["JSON.STRLEN", "missing"]), "nil");
    assert_eq!(
        err(c, &["JSON.STRLEN", "missing", "$"]),
        "ERR could not perform this operation on a key that doesn't exist"
    );
    // Without a path, the root.
    assert_eq!(r(c, &["JSON.SET", "t", ".", "\"ab\""]), "OK");
    assert_eq!(r(c, &["JSON.STRAPPEND", "t", "\"c\""]), "3");
    assert_eq!(r(c, &["JSON.STRLEN", "t"]), "3");
}

#[test]
fn arrays() {
    skip_on_redis!();
    let server = Server::start();
    let c = &mut server.client();
    assert_eq!(
        r(
            c,
            &["JSON.SET", "a", "$", r#"{"x":[1,2,3],"y":{"x":[]},"z":5}"#]
        ),
        "OK"
    );
    assert_eq!(r(c, &["JSON.ARRAPPEND", "a", ".x", "4", "\"five\""]), "5");
    assert_eq!(r(c, &["JSON.ARRAPPEND", "a", "$..x", "null"]), "[6,1]");
    assert_eq!(r(c, &["JSON.ARRLEN", "a", "$..x"]), "[6,1]");
    assert_eq!(r(c, &["JSON.ARRLEN", "a", ".x"]), "6");
    assert_eq!(r(c, &["JSON.ARRLEN", "a", "$.*"]), "[6,nil,nil]");
    assert_eq!(
        err(c, &["JSON.ARRLEN", "a", ".z"]),
        "ERR Path does not exist or not an array"
    );
    assert_eq!(
        err(c, &["JSON.ARRLEN", "a", ".q"]),
        "ERR Path does not exist"
    );
    assert_eq!(r(c, &["JSON.ARRLEN", "missing"]), "nil");
    assert_eq!(r(c, &["JSON.ARRINDEX", "a", ".x", "\"five\""]), "4");
    assert_eq!(r(c, &["JSON.ARRINDEX", "a", ".x", "3.0"]), "2");
    assert_eq!(r(c, &["JSON.ARRINDEX", "a", ".x", "1", "1"]), "-1");
    assert_eq!(r(c, &["JSON.ARRINDEX", "a", ".x", "4", "-3", "-1"]), "3");
    assert_eq!(r(c, &["JSON.ARRINDEX", "a", "$..x", "null"]), "[5,0]");
    assert_eq!(r(c, &["JSON.ARRINDEX", "a", "$.z", "5"]), "[nil]");
    assert_eq!(
        err(c, &["JSON.ARRINDEX", "a", ".z", "5"]),
        "WRONGTYPE wrong type of path value - expected array"
    );
    assert_eq!(r(c, &["JSON.ARRINSERT", "a", ".x", "0", "0"]), "7");
    assert_eq!(
        r(c, &["JSON.ARRINSERT", "a", "$.x", "-1", "\"m\"", "\"n\""]),
        "[9]"
    );
    assert_eq!(
        r(c, &["JSON.GET", "a", ".x"]),
        r#"[0,1,2,3,4,"five","m","n",null]"#
    );
    assert_eq!(
        err(c, &["JSON.ARRINSERT", "a", ".x", "10", "1"]),
        "ERR index out of bounds"
    );
    assert_eq!(
        err(c, &["JSON.ARRINSERT", "a", ".z", "0", "1"]),
        "ERR Path does not exist or not an array"
    );
    assert_eq!(r(c, &["JSON.ARRPOP", "a", ".x"]), "null");
    assert_eq!(r(c, &["JSON.ARRPOP", "a", ".x", "0"]), "0");
    // y.x holds the null appended above.
    assert_eq!(r(c, &["JSON.ARRPOP", "a", "$..x", "99"]), "[\"n\",null]");
    assert_eq!(r(c, &["JSON.ARRPOP", "a", "$.z"]), "[nil]");
    assert_eq!(r(c, &["JSON.ARRTRIM", "a", ".x", "1", "-2"]), "4");
    assert_eq!(r(c, &["JSON.GET", "a", ".x"]), "[2,3,4,\"five\"]");
    assert_eq!(r(c, &["JSON.ARRTRIM", "a", "$..x", "0", "0"]), "[1,0]");
    assert_eq!(r(c, &["JSON.ARRTRIM", "a", ".x", "5", "9"]), "0");
    assert_eq!(r(c, &["JSON.GET", "a"]), r#"{"x":[],"y":{"x":[]},"z":5}"#);
    assert_eq!(r(c, &["JSON.SET", "r", "$", "[1,2]"]), "OK");
    assert_eq!(r(c, &["JSON.ARRPOP", "r"]), "2");
    assert_eq!(
        err(c, &["JSON.ARRAPPEND", "a", ".z", "1"]),
        "ERR Path does not exist or not an array"
    );
    assert_eq!(
        err(c, &["JSON.ARRAPPEND", "missing", "$", "1"]),
        "ERR could not perform this operation on a key that doesn't exist"
    );
}

#[test]
fn objects_toggle_clear_merge_and_resp() {
    skip_on_redis!();
    let (_s, mut c) = setup();
    let c = &mut c;
    assert_eq!(r(c, &["JSON.OBJKEYS", "doc"]), "[a,b,c,f]");
    assert_eq!(r(c, &["JSON.OBJKEYS", "doc", "$..a"]), "[nil,nil,nil]");
    assert_eq!(r(c, &["JSON.OBJKEYS", "doc", "$.c"]), "[[a]]");
    assert_eq!(
        err(c, &["JSON.OBJKEYS", "doc", ".a"]),
        "ERR Path does not exist or not an object"
    );
    assert_eq!(r(c, &["JSON.OBJLEN", "doc"]), "4");
    assert_eq!(r(c, &["JSON.OBJLEN", "doc", "$.*"]), "[nil,nil,1,nil]");
    assert_eq!(r(c, &["JSON.OBJLEN", "missing"]), "nil");
    assert_eq!(r(c, &["JSON.TOGGLE", "doc", ".c.a"]), "false");
    assert_eq!(r(c, &["JSON.TOGGLE", "doc", "$..a"]), "[nil,nil,1]");
    assert_eq!(
        err(c, &["JSON.TOGGLE", "doc", ".a"]),
        "ERR Path does not exist or not a bool"
    );
    assert_eq!(
        r(c, &["JSON.RESP", "doc"]),
        "[{,a,2,b,[[,1,2,[{,a,x]],c,[{,a,true],f,1.5]"
    );
    assert_eq!(r(c, &["JSON.RESP", "doc", "$.b[0]"]), "[1]");
    assert_eq!(r(c, &["JSON.CLEAR", "doc", "$.*"]), "4");
    assert_eq!(r(c, &["JSON.GET", "doc"]), r#"{"a":0,"b":[],"c":{},"f":0}"#);
    assert_eq!(r(c, &["JSON.CLEAR", "doc"]), "1");
    assert_eq!(r(c, &["JSON.GET", "doc"]), "{}");
    assert_eq!(
        err(c, &["JSON.CLEAR", "missing"]),
        "ERR could not perform this operation on a key that doesn't exist"
    );
    // MERGE: RFC 7396 at the root and below it.
    assert_eq!(
        r(c, &["JSON.SET", "m", "$", r#"{"a":{"b":1,"c":2},"d":[1]}"#]),
        "OK"
    );
    assert_eq!(
        r(
            c,
            &["JSON.MERGE", "m", "$", r#"{"a":{"c":null,"e":3},"d":[2]}"#]
        ),
        "OK"
    );
    assert_eq!(r(c, &["JSON.GET", "m"]), r#"{"a":{"b":1,"e":3},"d":[2]}"#);
    assert_eq!(r(c, &["JSON.MERGE", "m", "$.a.b", "null"]), "OK");
    assert_eq!(r(c, &["JSON.MERGE", "m", "$.n", r#"{"x":1}"#]), "OK");
    assert_eq!(
        r(c, &["JSON.GET", "m"]),
        r#"{"a":{"e":3},"d":[2],"n":{"x":1}}"#
    );
    assert_eq!(r(c, &["JSON.MERGE", "m", "$.q.r", "1"]), "nil");
    assert_eq!(r(c, &["JSON.MERGE", "mm", "$", "[1]"]), "OK");
    assert_eq!(
        err(c, &["JSON.MERGE", "mx", "$.a", "1"]),
        "ERR new objects must be created at the root"
    );
    // DEBUG MEMORY answers a size; HELP its two lines.
    assert!(int(c, &["JSON.DEBUG", "MEMORY", "m"]) > 0);
    assert_eq!(r(c, &["JSON.DEBUG", "MEMORY", "missing"]), "0");
    assert_eq!(
        r(c, &["JSON.DEBUG", "MEMORY", "m", "$.*"])
            .matches(',')
            .count(),
        2
    );
    assert_eq!(r(c, &["JSON.DEBUG", "HELP"]).matches(',').count(), 1);
}

#[test]
fn del_forget_mget_and_mset() {
    skip_on_redis!();
    let (_s, mut c) = setup();
    let c = &mut c;
    assert_eq!(r(c, &["JSON.DEL", "doc", "$..a"]), "3");
    assert_eq!(
        r(c, &["JSON.GET", "doc"]),
        r#"{"b":[1,2,{}],"c":{},"f":1.5}"#
    );
    assert_eq!(r(c, &["JSON.FORGET", "doc", ".b[0]"]), "1");
    assert_eq!(r(c, &["JSON.DEL", "doc", "$.b[*]"]), "2");
    assert_eq!(r(c, &["JSON.DEL", "doc", ".zz"]), "0");
    assert_eq!(r(c, &["JSON.GET", "doc"]), r#"{"b":[],"c":{},"f":1.5}"#);
    assert_eq!(r(c, &["JSON.DEL", "doc"]), "1");
    assert_eq!(r(c, &["EXISTS", "doc"]), "0");
    assert_eq!(r(c, &["JSON.DEL", "doc"]), "0");
    // Deleting the root's last member drops the key, as RedisJSON 8 does.
    assert_eq!(r(c, &["JSON.SET", "one", "$", r#"{"k":1}"#]), "OK");
    assert_eq!(r(c, &["JSON.DEL", "one", "$.k"]), "1");
    assert_eq!(r(c, &["EXISTS", "one"]), "0");
    // MSET: all triplets in one write; MGET: nil for missing or other types.
    assert_eq!(
        r(
            c,
            &[
                "JSON.MSET",
                "x",
                "$",
                r#"{"a":1}"#,
                "y",
                "$",
                r#"{"a":[2]}"#,
                "x",
                "$.b",
                "3"
            ]
        ),
        "OK"
    );
    assert_eq!(r(c, &["SET", "str", "v"]), "OK");
    assert_eq!(
        r(c, &["JSON.MGET", "x", "y", "str", "nope", "$.a"]),
        "[[1],[[2]],nil,nil]"
    );
    assert_eq!(r(c, &["JSON.MGET", "x", "y", ".b"]), "[3,nil]");
    assert_eq!(r(c, &["JSON.GET", "x"]), r#"{"a":1,"b":3}"#);
    assert_eq!(
        err(c, &["JSON.MSET", "x", "$", "1", "y"]),
        "ERR wrong number of arguments for 'json.mset' command"
    );
    assert_eq!(
        err(c, &["JSON.MSET", "x", "$", "5", "fresh", "$.a", "1"]),
        "ERR new objects must be created at the root"
    );
    assert_eq!(
        r(c, &["JSON.GET", "x", ".a"]),
        "1",
        "a failed MSET writes nothing"
    );
}

#[test]
fn generic_commands_on_json_keys() {
    skip_on_redis!();
    let (_s, mut c) = setup();
    let c = &mut c;
    assert_eq!(r(c, &["TYPE", "doc"]), "ReJSON-RL");
    assert_eq!(r(c, &["OBJECT", "ENCODING", "doc"]), "raw");
    assert_eq!(r(c, &["SET", "str", "v"]), "OK");
    assert_eq!(r(c, &["SCAN", "0", "TYPE", "ReJSON-RL"]), "[0,[doc]]");
    assert_eq!(r(c, &["COPY", "doc", "copy"]), "1");
    assert_eq!(r(c, &["RENAME", "copy", "moved"]), "OK");
    assert_eq!(r(c, &["JSON.GET", "moved", ".f"]), "1.5");
    assert_eq!(r(c, &["EXPIRE", "moved", "100"]), "1");
    // Edits keep the TTL: RedisJSON changes the value in place.
    assert_eq!(r(c, &["JSON.SET", "moved", "$.f", "2"]), "OK");
    assert_eq!(r(c, &["JSON.SET", "moved", "$", "{}"]), "OK");
    let ttl = int(c, &["TTL", "moved"]);
    assert!((1..=100).contains(&ttl), "{ttl}");
    assert_eq!(r(c, &["PEXPIRE", "moved", "1"]), "1");
    std::thread::sleep(std::time::Duration::from_millis(20));
    assert_eq!(r(c, &["JSON.GET", "moved"]), "nil");
    assert_eq!(
        err(c, &["DUMP", "doc"]),
        "ERR DUMP is not supported for JSON keys (RedisJSON's module payload)"
    );
    assert_eq!(r(c, &["DEL", "doc"]), "1");
    assert_eq!(r(c, &["EXISTS", "doc"]), "0");
}

#[test]
fn multi_and_lua_run_json_commands() {
    skip_on_redis!();
    let server = Server::start();
    let c = &mut server.client();
    let mut pipe = redis::pipe();
    pipe.atomic()
        .cmd("JSON.SET")
        .arg("k")
        .arg("$")
        .arg(r#"{"n":1}"#)
        .cmd("JSON.NUMINCRBY")
        .arg("k")
        .arg("$.n")
        .arg(2)
        .cmd("JSON.GET")
        .arg("k");
    let (set, incr, get): (String, String, String) = pipe.query(c).unwrap();
    assert_eq!(
        (set.as_str(), incr.as_str(), get.as_str()),
        ("OK", "[3]", r#"{"n":3}"#)
    );
    let script = "redis.call('JSON.SET', KEYS[1], '$.m', ARGV[1]); return redis.call('JSON.GET', KEYS[1], '$.m')";
    assert_eq!(r(c, &["EVAL", script, "1", "k", "[1,2]"]), "[[1,2]]");
    let script = "return redis.pcall('JSON.SET', KEYS[1], '$.a', '1')['err']";
    assert_eq!(
        r(c, &["EVAL", script, "1", "none"]),
        "ERR new objects must be created at the root"
    );
    // A read-only script may read JSON but not write it.
    assert_eq!(
        r(
            c,
            &[
                "EVAL_RO",
                "return redis.call('JSON.TYPE', KEYS[1])",
                "1",
                "k"
            ]
        ),
        "object"
    );
    assert!(err(
        c,
        &[
            "EVAL_RO",
            "return redis.call('JSON.DEL', KEYS[1])",
            "1",
            "k"
        ]
    )
    .contains("Write commands are not allowed"));
}

#[test]
fn documents_survive_a_restart() {
    skip_on_redis!();
    let mut server = Server::start();
    {
        let c = &mut server.client();
        assert_eq!(
            r(
                c,
                &[
                    "JSON.SET",
                    "p",
                    "$",
                    r#"{"z":1,"a":[1.0,"ü",null],"m":{"y":true}}"#
                ]
            ),
            "OK"
        );
        assert_eq!(r(c, &["JSON.ARRAPPEND", "p", ".a", "2"]), "4");
        assert_eq!(r(c, &["EXPIRE", "p", "1000"]), "1");
    }
    server.restart();
    let c = &mut server.client();
    // Key order and number text are kept.
    assert_eq!(
        r(c, &["JSON.GET", "p"]),
        r#"{"z":1,"a":[1.0,"ü",null,2],"m":{"y":true}}"#
    );
    assert_eq!(r(c, &["TYPE", "p"]), "ReJSON-RL");
    assert!(int(c, &["TTL", "p"]) > 0);
}

#[test]
fn module_keyspace_events() {
    skip_on_redis!();
    let server = Server::start();
    let c = &mut server.client();
    assert_eq!(
        r(c, &["CONFIG", "SET", "notify-keyspace-events", "Ed"]),
        "OK"
    );
    let mut sub = Raw::connect(server.port);
    sub.cmd(&["PSUBSCRIBE", "__keyevent@0__:*"]);
    r(c, &["JSON.SET", "k", "$", r#"{"a":[1],"b":true}"#]);
    r(c, &["JSON.SET", "k", "$.zz.q", "1"]); // nothing written: no event
    r(c, &["JSON.ARRAPPEND", "k", "$.a", "2"]);
    r(c, &["JSON.TOGGLE", "k", "$.b"]);
    r(c, &["JSON.DEL", "k", "$.a"]);
    r(c, &["JSON.DEL", "k", "$.nothing"]);
    r(c, &["JSON.MERGE", "k", "$", "{}"]);
    let mut got = Vec::new();
    for _ in 0..5 {
        let R::Arr(parts) = sub.value() else {
            panic!("expected a message frame")
        };
        let t: Vec<String> = parts.iter().map(R::text).collect();
        got.push(format!(
            "{} {}",
            t[2].trim_start_matches("__keyevent@0__:"),
            t[3]
        ));
    }
    assert_eq!(
        got,
        [
            "json.set k",
            "json.arrappend k",
            "json.toggle k",
            "json.del k",
            "json.merge k"
        ]
    );
}

#[test]
fn command_table_and_acl() {
    skip_on_redis!();
    let server = Server::start();
    let c = &mut server.client();
    assert_eq!(
        r(c, &["COMMAND", "GETKEYS", "JSON.MGET", "a", "b", "$"]),
        "[a,b]"
    );
    assert_eq!(
        r(
            c,
            &[
                "COMMAND",
                "GETKEYS",
                "JSON.MSET",
                "a",
                "$",
                "1",
                "b",
                "$",
                "2"
            ]
        ),
        "[a,b]"
    );
    assert_eq!(
        r(c, &["COMMAND", "GETKEYS", "JSON.DEBUG", "MEMORY", "k"]),
        "[k]"
    );
    assert_eq!(
        r(
            c,
            &["ACL", "SETUSER", "reader", "on", "nopass", "~*", "+@json", "-@write"]
        ),
        "OK"
    );
    let mut reader = server.client();
    assert_eq!(r(&mut reader, &["AUTH", "reader", "x"]), "OK");
    assert_eq!(r(&mut reader, &["JSON.GET", "nope"]), "nil");
    assert!(err(&mut reader, &["JSON.SET", "k", "$", "1"]).starts_with("NOPERM"));
    assert!(err(&mut reader, &["GET", "k"]).starts_with("NOPERM"));
}

#[test]
fn replicas_follow_json_writes_and_refuse_them() {
    skip_on_redis!();
    use basalt_tests::nodes::{assert_same_data, connect, start_replica, wait_in_sync};
    use std::time::Duration;
    const SYNC: Duration = Duration::from_secs(20);
    let master = Server::start();
    let m = &mut master.client();
    // Written before the replica exists: it arrives by the full sync.
    assert_eq!(r(m, &["JSON.SET", "before", "$", r#"{"a":[1,2]}"#]), "OK");
    let replica = start_replica(&master, &[]);
    wait_in_sync(&master, &replica, SYNC);
    // Written after: it arrives by the WAL stream.
    assert_eq!(
        r(m, &["JSON.SET", "after", "$", r#"{"n":1.5,"s":"x"}"#]),
        "OK"
    );
    assert_eq!(r(m, &["JSON.ARRAPPEND", "before", "$.a", "3"]), "[3]");
    assert_eq!(r(m, &["JSON.NUMINCRBY", "after", "$.n", "1"]), "[2.5]");
    wait_in_sync(&master, &replica, SYNC);
    let rc = &mut connect(&replica, SYNC);
    assert_eq!(assert_same_data(m, rc), 2);
    assert_eq!(r(rc, &["JSON.GET", "before"]), r#"{"a":[1,2,3]}"#);
    assert_eq!(r(rc, &["TYPE", "after"]), "ReJSON-RL");
    assert!(err(rc, &["JSON.SET", "after", "$.s", "1"]).starts_with("READONLY"));
}

#[test]
fn resp3_replies_are_redisjson_s() {
    skip_on_redis!();
    let server = Server::start();
    let mut c = Raw::connect(server.port);
    c.val(&["HELLO", "3"]);
    let doc = r#"{"a":1,"b":[true,null,2.5],"c":"x","o":{"n":1}}"#;
    assert_eq!(c.cmd(&["JSON.SET", "k", "$", doc]), "+OK\r\n");
    // JSON.TYPE: the RESP2 reply inside one more array.
    assert_eq!(c.cmd(&["JSON.TYPE", "k"]), "*1\r\n$6\r\nobject\r\n");
    assert_eq!(
        c.cmd(&["JSON.TYPE", "k", "$.a"]),
        "*1\r\n*1\r\n$7\r\ninteger\r\n"
    );
    assert_eq!(c.cmd(&["JSON.TYPE", "missing"]), "*1\r\n_\r\n");
    // NUMINCRBY/NUMMULTBY: native numbers in an array, for both path kinds.
    assert_eq!(c.cmd(&["JSON.NUMINCRBY", "k", "$..n", "2"]), "*1\r\n:3\r\n");
    assert_eq!(
        c.cmd(&["JSON.NUMINCRBY", "k", "$.b[2]", "1"]),
        "*1\r\n,3.5\r\n"
    );
    assert_eq!(
        c.cmd(&["JSON.NUMMULTBY", "k", ".a", "2.5"]),
        "*1\r\n,2.5\r\n"
    );
    assert_eq!(c.cmd(&["JSON.NUMINCRBY", "k", "$.c", "1"]), "*1\r\n_\r\n");
    // JSON.GET stays JSON text unless FORMAT asks for native values.
    assert_eq!(c.cmd(&["JSON.GET", "k", "$.c"]), "$5\r\n[\"x\"]\r\n");
    assert_eq!(
        c.cmd(&["JSON.GET", "k", "FORMAT", "EXPAND", "$.b", "$.o"]),
        "*2\r\n*1\r\n*3\r\n#t\r\n_\r\n,3.5\r\n*1\r\n%1\r\n$1\r\nn\r\n:3\r\n"
    );
    assert_eq!(
        c.cmd(&["JSON.GET", "k", "FORMAT", "EXPAND1", "$.o", ".c"]),
        "*2\r\n*1\r\n$7\r\n{\"n\":3}\r\n*1\r\n$1\r\nx\r\n"
    );
    assert_eq!(
        c.cmd(&["JSON.GET", "k", "FORMAT", "STRING", "$.c"]),
        "$5\r\n[\"x\"]\r\n"
    );
    assert_eq!(
        c.cmd(&["JSON.GET", "k", "FORMAT", "STRINGS"]),
        "-ERR wrong reply format\r\n"
    );
    assert_eq!(c.cmd(&["JSON.GET", "missing", "FORMAT", "EXPAND"]), "_\r\n");
    // RESP2: FORMAT before any path is refused.
    let mut c2 = Raw::connect(server.port);
    assert_eq!(
        c2.cmd(&["JSON.GET", "k", "FORMAT", "EXPAND"]),
        "-ERR FORMAT argument is not supported on RESP2\r\n"
    );
    assert_eq!(c2.cmd(&["JSON.TYPE", "k", ".c"]), "$6\r\nstring\r\n");
}

#[test]
fn arrpop_replies_in_resp2_and_resp3() {
    skip_on_redis!();
    let server = Server::start();
    let doc = r#"{"a":[1,"s",{"o":2.5},[true]],"b":[],"c":3}"#;
    for resp3 in [false, true] {
        let mut c = Raw::connect(server.port);
        if resp3 {
            c.val(&["HELLO", "3"]);
        }
        assert_eq!(c.cmd(&["JSON.SET", "k", "$", doc]), "+OK\r\n");
        // Legacy path: the popped value as JSON text, nil for an empty array.
        assert_eq!(c.cmd(&["JSON.ARRPOP", "k", ".a", "0"]), "$1\r\n1\r\n");
        assert_eq!(
            c.cmd(&["JSON.ARRPOP", "k", ".b"]),
            "$-1\r\n".replace("$-1\r\n", if resp3 { "_\r\n" } else { "$-1\r\n" })
        );
        // JSONPath: one entry per match, nil for an empty array or a
        // non-array, JSON text in both protocols by default.
        let nil = if resp3 { "_\r\n" } else { "$-1\r\n" };
        assert_eq!(
            c.cmd(&["JSON.ARRPOP", "k", "$.*"]),
            format!("*3\r\n$6\r\n[true]\r\n{nil}{nil}")
        );
        assert_eq!(
            c.cmd(&["JSON.ARRPOP", "k", "FORMAT", "STRING", "$.a"]),
            "-ERR wrong reply format\r\n"
        );
        if !resp3 {
            // RESP2 refuses any FORMAT, its default STRINGS included.
            assert_eq!(
                c.cmd(&["JSON.ARRPOP", "k", "FORMAT", "STRINGS", "$.a"]),
                "-ERR FORMAT argument is not supported on RESP2\r\n"
            );
            continue;
        }
        assert_eq!(
            c.cmd(&["JSON.ARRPOP", "k", "FORMAT", "STRINGS", "$.a", "-1"]),
            "*1\r\n$9\r\n{\"o\":2.5}\r\n"
        );
        // RESP3 FORMAT EXPAND1/EXPAND: native values (EXPAND1 keeps
        // containers as JSON text).
        assert_eq!(
            c.cmd(&["JSON.ARRAPPEND", "k", "$.a", "[1,{\"x\":null}]", "2.5"]),
            "*1\r\n:3\r\n"
        );
        assert_eq!(
            c.cmd(&["JSON.ARRPOP", "k", "FORMAT", "EXPAND", "$.a"]),
            "*1\r\n,2.5\r\n"
        );
        assert_eq!(
            c.cmd(&["JSON.ARRPOP", "k", "FORMAT", "EXPAND1", "$.a"]),
            "*1\r\n$14\r\n[1,{\"x\":null}]\r\n"
        );
        assert_eq!(
            c.cmd(&["JSON.ARRAPPEND", "k", "$.a", "[1,{\"x\":null}]"]),
            "*1\r\n:2\r\n"
        );
        assert_eq!(
            c.cmd(&["JSON.ARRPOP", "k", "FORMAT", "EXPAND", "$..a"]),
            "*1\r\n*2\r\n:1\r\n%1\r\n$1\r\nx\r\n_\r\n"
        );
        assert_eq!(
            c.cmd(&["JSON.ARRPOP", "k", "FORMAT", "EXPAND", ".a"]),
            "-Legacy paths are supported only with FORMAT STRINGS\r\n"
        );
        // FORMAT with nothing after it is a (legacy) path.
        assert_eq!(
            c.cmd(&["JSON.ARRPOP", "k", "FORMAT"]),
            "-ERR Path does not exist or not an array\r\n"
        );
    }
}

#[test]
fn filters_with_regex_and_membership() {
    skip_on_redis!();
    let (_server, mut c) = setup();
    let c = &mut c;
    let doc = r#"[{"n":"Alice","a":30},{"n":"bob","a":25},{"n":"Ann","a":41}]"#;
    assert_eq!(r(c, &["JSON.SET", "p", "$", doc]), "OK");
    assert_eq!(
        r(c, &["JSON.GET", "p", r#"$[?(@.n =~ "^A")].a"#]),
        "[30,41]"
    );
    assert_eq!(r(c, &["JSON.GET", "p", r#"$[?@.n=~'o'].n"#]), r#"["bob"]"#);
    assert_eq!(
        r(
            c,
            &["JSON.GET", "p", r#"$[?@.a in [25, 41] && @.n =~ "n"].n"#]
        ),
        r#"["Ann"]"#
    );
    assert_eq!(
        r(c, &["JSON.GET", "p", r#"$[?(@.n nin ["Alice","bob"])].a"#]),
        "[41]"
    );
    assert_eq!(
        r(c, &["JSON.NUMINCRBY", "p", "$[?@.a in [30]].a", "1"]),
        "[31]"
    );
    // Against a query: membership in the array it selects, numbers by
    // value; nothing selected (or not an array) is not a member.
    let doc = r#"{"ok":["bob",41.0],"n":3,"p":[{"n":"Alice","a":30,"seen":["Alice"]},{"n":"bob","a":25},{"n":"Ann","a":41}]}"#;
    assert_eq!(r(c, &["JSON.SET", "q", "$", doc]), "OK");
    assert_eq!(r(c, &["JSON.GET", "q", "$.p[?@.n in $.ok].a"]), "[25]");
    assert_eq!(
        r(c, &["JSON.GET", "q", "$.p[?(@.a in $.ok)].n"]),
        r#"["Ann"]"#
    );
    assert_eq!(
        r(c, &["JSON.GET", "q", "$.p[?@.n nin $.ok && @.a > 26].n"]),
        r#"["Alice","Ann"]"#
    );
    assert_eq!(r(c, &["JSON.GET", "q", "$.p[?@.n in @.seen].a"]), "[30]");
    assert_eq!(r(c, &["JSON.GET", "q", "$.p[?@.n in $.n].a"]), "[]");
    assert_eq!(r(c, &["JSON.GET", "q", "$.p[?@.n in $.none].a"]), "[]");
}
