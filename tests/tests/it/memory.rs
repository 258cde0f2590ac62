//! MEMORY: USAGE sizes a key by its records, the other subcommands answer
//! in Redis's shapes (Redis's own hash tests call MEMORY USAGE first).

use basalt_tests::client::{err, q};
use basalt_tests::Server;
use redis::Value;

#[test]
fn memory_usage_grows_with_the_value() {
    let server = Server::start();
    let mut c = server.client();
    let none: Value = q(&mut c, &["MEMORY", "USAGE", "missing"]);
    assert_eq!(none, Value::Nil);

    q::<()>(&mut c, &["SET", "small", "x"]);
    q::<()>(&mut c, &["SET", "big", &"x".repeat(10_000)]);
    let small: i64 = q(&mut c, &["MEMORY", "USAGE", "small"]);
    let big: i64 = q(&mut c, &["MEMORY", "USAGE", "big"]);
    assert!(small > 0 && big > 10_000 && big > small, "{small} {big}");

    for i in 0..200 {
        q::<()>(
            &mut c,
            &["HSET", "h", &format!("field:{i}"), &"v".repeat(50)],
        );
        q::<()>(
            &mut c,
            &["ZADD", "z", &i.to_string(), &format!("member:{i}")],
        );
    }
    q::<()>(&mut c, &["HSET", "h1", "field:0", &"v".repeat(50)]);
    let one: i64 = q(&mut c, &["MEMORY", "USAGE", "h1"]);
    let sampled: i64 = q(&mut c, &["MEMORY", "USAGE", "h"]);
    let all: i64 = q(&mut c, &["MEMORY", "USAGE", "h", "SAMPLES", "0"]);
    assert!(sampled > 100 * one.min(60), "{one} {sampled}");
    assert!(all > 200 * 50, "{all}");
    let z: i64 = q(&mut c, &["MEMORY", "USAGE", "z", "samples", "10"]);
    assert!(z > 200 * 8, "{z}");

    assert_eq!(
        err(&mut c, &["MEMORY", "USAGE", "h", "SAMPLES", "-1"]),
        "ERR syntax error"
    );
    assert_eq!(
        err(&mut c, &["MEMORY", "USAGE", "h", "SAMPLES"]),
        "ERR syntax error"
    );
    assert_eq!(
        err(&mut c, &["MEMORY", "USAGE", "h", "SAMPLES", "x"]),
        "ERR value is not an integer or out of range"
    );
}

#[test]
fn memory_subcommands() {
    let server = Server::start();
    let mut c = server.client();
    let Value::Array(help) = q::<Value>(&mut c, &["MEMORY", "HELP"]) else {
        panic!("MEMORY HELP is not an array");
    };
    assert!(help.len() > 5);
    let doctor: String = q(&mut c, &["MEMORY", "DOCTOR"]);
    assert!(!doctor.is_empty());
    let malloc: String = q(&mut c, &["MEMORY", "MALLOC-STATS"]);
    assert!(!malloc.is_empty());
    assert_eq!(q::<String>(&mut c, &["MEMORY", "PURGE"]), "OK");
    let stats: Vec<Value> = q(&mut c, &["MEMORY", "STATS"]);
    assert!(stats.contains(&Value::BulkString(b"peak.allocated".to_vec())));
    assert!(err(&mut c, &["MEMORY", "NOSUCH"]).starts_with("ERR unknown subcommand 'NOSUCH'"));
    assert!(err(&mut c, &["MEMORY", "USAGE"])
        .starts_with("ERR wrong number of arguments for 'memory|usage'"));
    let keys: Vec<String> = q(&mut c, &["COMMAND", "GETKEYS", "MEMORY", "USAGE", "key"]);
    assert_eq!(keys, vec!["key".to_string()]);
}
