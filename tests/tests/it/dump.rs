//! DUMP, RESTORE and MIGRATE: every type and encoding round trips, payloads
//! cross between Basalt and a real redis-server both ways, Redis's errors
//! and TTL rules, RESTORE as an ordinary write (events, WATCH, blocked
//! clients), and MIGRATE toward redis-server and toward another server of
//! the kind under test. With BASALT_TEST_AGAINST=redis every test runs
//! against redis-server alone.

use basalt_tests::client::err;
use basalt_tests::Server;
use redis::{Connection, Value};
use std::net::TcpListener;
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::protocol::{Raw, R};

const CRC64: crc::Crc<u64> = crc::Crc::<u64>::new(&crc::CRC_64_REDIS);

fn dump(c: &mut Connection, key: &str) -> Option<Vec<u8>> {
    redis::cmd("DUMP").arg(key).query(c).unwrap()
}

/// RESTORE with extra arguments; the reply or the error line.
fn restore(c: &mut Connection, key: &str, ttl: &str, payload: &[u8], extra: &[&str]) -> String {
    match redis::cmd("RESTORE")
        .arg(key)
        .arg(ttl)
        .arg(payload)
        .arg(extra)
        .query::<Value>(c)
    {
        Ok(Value::Okay) => "OK".into(),
        Ok(other) => format!("{other:?}"),
        Err(e) => format!("{} {}", e.code().unwrap_or("?"), e.detail().unwrap_or("")),
    }
}

fn q(c: &mut Connection, args: &[&str]) -> Value {
    basalt_tests::client::cmd(args).query(c).unwrap()
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// A payload around `body` with a footer of RDB `version` and a good CRC.
fn sealed(body: &[u8], version: u16) -> Vec<u8> {
    let mut p = body.to_vec();
    p.extend_from_slice(&version.to_le_bytes());
    let crc = CRC64.checksum(&p);
    p.extend_from_slice(&crc.to_le_bytes());
    p
}

/// Keys of every type, in each encoding Redis 7 picks for them (small
/// and large collections, integers, compressible and random strings).
fn fill(c: &mut Connection) -> Vec<String> {
    let many = |n: usize, f: &dyn Fn(usize) -> String| -> Vec<String> { (0..n).map(f).collect() };
    let random: Vec<u8> = (0..300u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let mut pipe = redis::pipe();
    pipe.cmd("SET").arg("s:small").arg("hello");
    pipe.cmd("SET").arg("s:int").arg("12345");
    pipe.cmd("SET").arg("s:i64").arg("-9007199254740993");
    pipe.cmd("SET").arg("s:lzf").arg("abcabcabc".repeat(200));
    pipe.cmd("SET").arg("s:random").arg(random);
    pipe.cmd("SET").arg("s:empty").arg("");
    pipe.cmd("RPUSH").arg("l:small").arg(&[
        "a",
        "1",
        "-300",
        "70000",
        "5000000000",
        "-9223372036854775808",
        "",
    ]);
    pipe.cmd("RPUSH")
        .arg("l:large")
        .arg(many(3000, &|i| format!("item {i} {}", "x".repeat(i % 50))));
    pipe.cmd("RPUSH")
        .arg("l:bigelem")
        .arg("y".repeat(20_000))
        .arg("z");
    pipe.cmd("SADD")
        .arg("set:int")
        .arg(&["1", "2", "70000", "-5"]);
    pipe.cmd("SADD").arg("set:i64").arg(&["5000000000", "1"]);
    pipe.cmd("SADD").arg("set:str").arg(&["a", "b", "c"]);
    pipe.cmd("SADD")
        .arg("set:large")
        .arg(many(600, &|i| format!("m{i}")));
    pipe.cmd("SADD")
        .arg("set:largeint")
        .arg(many(600, &|i| (i * 7).to_string()));
    pipe.cmd("HSET").arg("h:small").arg(&["f", "v", "n", "12"]);
    pipe.cmd("HSET")
        .arg("h:large")
        .arg(many(400, &|i| format!("f{}", i / 2 + i % 2 * 1000)));
    pipe.cmd("HSET")
        .arg("h:longval")
        .arg("f")
        .arg("v".repeat(100));
    pipe.cmd("ZADD")
        .arg("z:small")
        .arg(&["1.5", "a", "-2", "b", "inf", "c", "-inf", "d", "0", "e"]);
    pipe.cmd("ZADD").arg("z:large").arg(many(400, &|i| {
        if i % 2 == 0 {
            format!("{}", i as f64 / 4.0)
        } else {
            format!("m{i}")
        }
    }));
    pipe.cmd("ZADD")
        .arg("z:longmember")
        .arg("1")
        .arg("m".repeat(100));
    pipe.query::<()>(c).unwrap();
    let keys: Vec<String> = redis::cmd("KEYS").arg("*").query(c).unwrap();
    let mut keys = keys;
    keys.sort();
    assert_eq!(keys.len(), 20);
    keys
}

/// A key's type and contents, ordered where the type has no order.
fn snapshot(c: &mut Connection, key: &str) -> String {
    let kind: String = redis::cmd("TYPE").arg(key).query(c).unwrap();
    let items = |c: &mut Connection, args: &[&str]| -> Vec<Vec<u8>> {
        basalt_tests::client::cmd(args).query(c).unwrap()
    };
    let contents = match kind.as_str() {
        "string" => vec![items(c, &["MGET", key]).concat()],
        "list" => items(c, &["LRANGE", key, "0", "-1"]),
        "set" => {
            let mut v = items(c, &["SMEMBERS", key]);
            v.sort();
            v
        }
        "hash" => {
            let mut v: Vec<Vec<u8>> = items(c, &["HGETALL", key])
                .chunks(2)
                .map(|p| p.concat())
                .collect();
            v.sort();
            v
        }
        "zset" => items(c, &["ZRANGE", key, "0", "-1", "WITHSCORES"]),
        other => panic!("{key}: unexpected type {other}"),
    };
    let digest: Vec<String> = contents
        .iter()
        .map(|v| String::from_utf8_lossy(v).into_owned())
        .collect();
    format!("{kind}:{digest:?}")
}

#[test]
fn round_trip_of_every_type_and_encoding() {
    let server = Server::start();
    let mut c = server.client();
    for key in fill(&mut c) {
        let before = snapshot(&mut c, &key);
        let payload = dump(&mut c, &key).unwrap();
        let _: () = redis::cmd("DEL").arg(&key).query(&mut c).unwrap();
        assert_eq!(restore(&mut c, &key, "0", &payload, &[]), "OK", "{key}");
        assert_eq!(snapshot(&mut c, &key), before, "{key}");
        assert_eq!(q(&mut c, &["TTL", &key]), Value::Int(-1));
    }
    assert_eq!(dump(&mut c, "nonexisting_key"), None);
}

#[test]
fn payloads_cross_between_the_server_and_redis_server() {
    let server = Server::start();
    let redis = Server::start_redis();
    let mut c = server.client();
    let mut r = redis.client();
    let keys = fill(&mut c);
    assert_eq!(fill(&mut r), keys);
    for key in &keys {
        // From redis-server (its own encodings: listpack, intset, quicklist,
        // hashtable, skiplist, LZF) into the server under test...
        let from_redis = dump(&mut r, key).unwrap();
        assert_eq!(
            restore(&mut c, &format!("{key}:r"), "0", &from_redis, &[]),
            "OK",
            "{key}"
        );
        assert_eq!(
            snapshot(&mut c, &format!("{key}:r")),
            snapshot(&mut r, key),
            "{key}"
        );
        // ...and back.
        let to_redis = dump(&mut c, key).unwrap();
        assert_eq!(
            restore(&mut r, &format!("{key}:b"), "0", &to_redis, &[]),
            "OK",
            "{key}"
        );
        assert_eq!(
            snapshot(&mut r, &format!("{key}:b")),
            snapshot(&mut c, key),
            "{key}"
        );
    }
}

#[test]
fn restore_errors() {
    let server = Server::start();
    let mut c = server.client();
    q(&mut c, &["SET", "foo", "bar"]);
    let good = dump(&mut c, "foo").unwrap();
    // Options are parsed first, then the key is checked, then the TTL and
    // the payload.
    assert_eq!(
        restore(&mut c, "foo", "0", b"...", &["invalid-option"]),
        "ERR syntax error"
    );
    assert_eq!(
        restore(&mut c, "foo", "0", b"...", &[]),
        "BUSYKEY Target key name already exists."
    );
    assert_eq!(
        restore(&mut c, "foo", "-1", b"...", &["REPLACE"]),
        "ERR Invalid TTL value, must be >= 0"
    );
    assert_eq!(
        restore(&mut c, "foo", "x", b"...", &["REPLACE"]),
        "ERR value is not an integer or out of range"
    );
    let checksum = "ERR DUMP payload version or checksum are wrong";
    assert_eq!(restore(&mut c, "new", "0", b"...", &[]), checksum);
    let mut flipped = good.clone();
    flipped[1] ^= 1;
    assert_eq!(restore(&mut c, "new", "0", &flipped, &[]), checksum);
    let body = &good[..good.len() - 10];
    assert_eq!(
        restore(&mut c, "new", "0", &sealed(body, 13), &[]),
        checksum
    );
    // Good footers around bad contents: an empty set, a string longer
    // than the payload (Redis reads on into the footer, so it must be
    // longer than that too), an unknown type.
    let bad = "ERR Bad data format";
    assert_eq!(restore(&mut c, "new", "0", &sealed(&[2, 0], 10), &[]), bad);
    assert_eq!(
        restore(&mut c, "new", "0", &sealed(&[0, 0x20, b'a'], 10), &[]),
        bad
    );
    assert_eq!(restore(&mut c, "new", "0", &sealed(&[8, 0], 10), &[]), bad);
    assert_eq!(q(&mut c, &["EXISTS", "new"]), Value::Int(0));
    for (opts, e) in [
        (
            &["IDLETIME", "-1"][..],
            "ERR Invalid IDLETIME value, must be >= 0",
        ),
        (
            &["FREQ", "256"],
            "ERR Invalid FREQ value, must be >= 0 and <= 255",
        ),
        (
            &["FREQ", "-1"],
            "ERR Invalid FREQ value, must be >= 0 and <= 255",
        ),
        (
            &["IDLETIME", "x"],
            "ERR value is not an integer or out of range",
        ),
        (&["IDLETIME", "1", "FREQ", "1"], "ERR syntax error"),
        (&["FREQ", "1", "IDLETIME", "1"], "ERR syntax error"),
        (&["IDLETIME"], "ERR syntax error"),
    ] {
        assert_eq!(restore(&mut c, "new", "0", &good, opts), e, "{opts:?}");
    }
    assert_eq!(
        restore(&mut c, "new", "0", &good, &["IDLETIME", "1000"]),
        "OK"
    );
    assert_eq!(
        restore(&mut c, "new2", "0", &good, &["FREQ", "100", "ABSTTL"]),
        "OK"
    );
    assert!(err(&mut c, &["RESTORE", "k", "0"]).contains("wrong number of arguments"));
}

#[test]
fn restore_ttl_absttl_and_replace() {
    let server = Server::start();
    let mut c = server.client();
    q(&mut c, &["SET", "foo", "bar"]);
    let payload = dump(&mut c, "foo").unwrap();
    q(&mut c, &["RPUSH", "list", "a", "b"]);
    let list = dump(&mut c, "list").unwrap();
    q(&mut c, &["DEL", "foo", "list"]);
    let pttl = |c: &mut Connection, k: &str| -> i64 { redis::cmd("PTTL").arg(k).query(c).unwrap() };

    assert_eq!(restore(&mut c, "foo", "5000", &payload, &[]), "OK");
    assert!((3000..=5000).contains(&pttl(&mut c, "foo")));
    assert_eq!(
        restore(&mut c, "foo", "2569591501", &payload, &["REPLACE"]),
        "OK"
    );
    assert!((2569591501 - 3000..=2569591501).contains(&pttl(&mut c, "foo")));
    let at = (now_ms() + 3000).to_string();
    assert_eq!(
        restore(&mut c, "foo", &at, &payload, &["REPLACE", "ABSTTL"]),
        "OK"
    );
    assert!((2000..=3100).contains(&pttl(&mut c, "foo")));
    // ttl 0 with REPLACE: no expiry, and the type may change.
    assert_eq!(restore(&mut c, "foo", "0", &list, &["REPLACE"]), "OK");
    assert_eq!(pttl(&mut c, "foo"), -1);
    assert_eq!(snapshot(&mut c, "foo"), r#"list:["a", "b"]"#);
    // An absolute expiry in the past: OK, no key; with REPLACE the old one
    // is deleted.
    let past = (now_ms() - 3000).to_string();
    assert_eq!(restore(&mut c, "gone", &past, &payload, &["ABSTTL"]), "OK");
    assert_eq!(q(&mut c, &["EXISTS", "gone"]), Value::Int(0));
    assert_eq!(
        restore(&mut c, "foo", &past, &payload, &["ABSTTL", "REPLACE"]),
        "OK"
    );
    assert_eq!(q(&mut c, &["EXISTS", "foo"]), Value::Int(0));
}

/// The next keyevent notification as "event key".
fn next_event(sub: &mut Raw) -> String {
    let R::Arr(parts) = sub.value() else {
        panic!("expected a message frame")
    };
    let texts: Vec<String> = parts.iter().map(R::text).collect();
    let event = texts[2]
        .strip_prefix("__keyevent@0__:")
        .unwrap_or(&texts[2])
        .to_string();
    format!("{event} {}", texts[3])
}

fn subscribe_events(server: &Server) -> Raw {
    let mut c = server.client();
    q(&mut c, &["CONFIG", "SET", "notify-keyspace-events", "Eg"]);
    let mut sub = Raw::connect(server.port);
    sub.val(&["PSUBSCRIBE", "__keyevent@0__:*"]);
    sub
}

#[test]
fn restore_is_a_write_like_any_other() {
    let server = Server::start();
    let mut c = server.client();
    q(&mut c, &["RPUSH", "src", "x", "y"]);
    let list = dump(&mut c, "src").unwrap();
    let mut sub = subscribe_events(&server);
    // A keyspace event...
    assert_eq!(restore(&mut c, "k", "0", &list, &[]), "OK");
    assert_eq!(next_event(&mut sub), "restore k");
    let past = (now_ms() - 1000).to_string();
    assert_eq!(
        restore(&mut c, "k", &past, &list, &["ABSTTL", "REPLACE"]),
        "OK"
    );
    assert_eq!(next_event(&mut sub), "del k");
    // ...a WATCH invalidation...
    let mut watcher = server.client();
    q(&mut watcher, &["WATCH", "w"]);
    assert_eq!(restore(&mut c, "w", "0", &list, &[]), "OK");
    q(&mut watcher, &["MULTI"]);
    q(&mut watcher, &["SET", "other", "1"]);
    assert_eq!(q(&mut watcher, &["EXEC"]), Value::Nil);
    // ...and a client blocked on the key is served.
    let mut blocked = server.client();
    let waiter = thread::spawn(move || q(&mut blocked, &["BLPOP", "q", "0"]));
    crate::blocking::wait_blocked(&mut c, 1);
    assert_eq!(restore(&mut c, "q", "0", &list, &[]), "OK");
    let got = waiter.join().unwrap();
    assert_eq!(basalt_tests::client::show(&got), "[q,x]");
    assert_eq!(snapshot(&mut c, "q"), r#"list:["y"]"#);
}

fn migrate(c: &mut Connection, target: &Server, key: &str, extra: &[&str]) -> String {
    let port = target.port.to_string();
    let mut args = vec!["MIGRATE", "127.0.0.1", &port, key, "0", "5000"];
    args.extend_from_slice(extra);
    basalt_tests::client::reply(c, &args)
}

/// MIGRATE toward a real redis-server and toward a server of the kind
/// under test.
fn targets() -> Vec<Server> {
    vec![Server::start_redis(), Server::start()]
}

#[test]
fn migrate_moves_copies_and_replaces() {
    let server = Server::start();
    let mut c = server.client();
    for target in targets() {
        let mut t = target.client();
        q(&mut c, &["FLUSHALL"]);
        q(&mut c, &["SET", "key", "Some Value"]);
        q(&mut c, &["EXPIRE", "key", "10"]);
        let mut sub = subscribe_events(&server);
        assert_eq!(migrate(&mut c, &target, "key", &[]), "OK");
        assert_eq!(next_event(&mut sub), "del key");
        assert_eq!(q(&mut c, &["EXISTS", "key"]), Value::Int(0));
        assert_eq!(snapshot(&mut t, "key"), r#"string:["Some Value"]"#);
        let ttl: i64 = redis::cmd("TTL").arg("key").query(&mut t).unwrap();
        assert!((7..=10).contains(&ttl), "{ttl}");

        q(&mut c, &["RPUSH", "list", "a", "b", "c", "d"]);
        assert_eq!(migrate(&mut c, &target, "list", &["COPY"]), "OK");
        assert_eq!(snapshot(&mut t, "list"), snapshot(&mut c, "list"));
        q(&mut t, &["SET", "list", "somevalue"]);
        let busy = migrate(&mut c, &target, "list", &["COPY"]);
        assert_eq!(
            busy,
            "ERR Target instance replied with error: BUSYKEY Target key name already exists."
        );
        assert_eq!(migrate(&mut c, &target, "list", &["COPY", "REPLACE"]), "OK");
        assert_eq!(snapshot(&mut t, "list"), snapshot(&mut c, "list"));
        assert_eq!(q(&mut c, &["EXISTS", "list"]), Value::Int(1));

        // Large values cross too.
        let items: Vec<String> = (0..50_000).map(|i| format!("item {i}")).collect();
        basalt_tests::client::cmd(
            &[
                &["RPUSH", "big"][..],
                &items.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
            ]
            .concat(),
        )
        .query::<()>(&mut c)
        .unwrap();
        assert_eq!(migrate(&mut c, &target, "big", &[]), "OK");
        assert_eq!(q(&mut t, &["LLEN", "big"]), Value::Int(50_000));
    }
}

#[test]
fn migrate_keys_nokey_and_partial_failures() {
    let server = Server::start();
    let mut c = server.client();
    for target in targets() {
        let mut t = target.client();
        q(&mut c, &["FLUSHALL"]);
        q(&mut c, &["MSET", "key1", "v1", "key2", "v2", "key3", "v3"]);
        assert_eq!(
            migrate(&mut c, &target, "", &["KEYS", "nokey-1", "nokey-2"]),
            "NOKEY"
        );
        assert_eq!(migrate(&mut c, &target, "nokey", &[]), "NOKEY");
        assert_eq!(
            migrate(
                &mut c,
                &target,
                "",
                &["KEYS", "nokey-1", "key1", "nokey-2", "key2", "key3"]
            ),
            "OK"
        );
        assert_eq!(q(&mut c, &["DBSIZE"]), Value::Int(0));
        assert_eq!(
            basalt_tests::client::reply(&mut t, &["MGET", "key1", "key2", "key3"]),
            "[v1,v2,v3]"
        );
        assert_eq!(
            migrate(&mut c, &target, "NotEmpty", &["KEYS", "a"]),
            "ERR When using MIGRATE KEYS option, the key argument must be set to the empty string"
        );
        assert_eq!(
            migrate(&mut c, &target, "k", &["BOGUS"]),
            "ERR syntax error"
        );
        // Only the keys the target accepted are deleted here.
        q(
            &mut c,
            &["MSET", "a", "1", "b", "2", "c", "3", "d", "4", "e", "5"],
        );
        q(&mut t, &["MSET", "c", "_", "d", "_"]);
        let e = migrate(&mut c, &target, "", &["KEYS", "a", "b", "c", "d", "e"]);
        assert!(
            e.starts_with("ERR Target instance replied with error: BUSYKEY"),
            "{e}"
        );
        let mut left: Vec<String> = redis::cmd("KEYS").arg("*").query(&mut c).unwrap();
        left.sort();
        assert_eq!(left, ["c", "d"]);
    }
}

#[test]
fn migrate_auth() {
    let server = Server::start();
    let mut c = server.client();
    for target in targets() {
        let mut t = target.client();
        q(&mut t, &["CONFIG", "SET", "requirepass", "foobar"]);
        q(&mut c, &["RPUSH", "list", "a", "b"]);
        let noauth = migrate(&mut c, &target, "list", &["COPY"]);
        assert!(
            noauth.starts_with("ERR Target instance replied with error: NOAUTH"),
            "{noauth}"
        );
        assert_eq!(
            migrate(&mut c, &target, "list", &["COPY", "AUTH", "foobar"]),
            "OK"
        );
        assert_eq!(
            migrate(
                &mut c,
                &target,
                "list",
                &["REPLACE", "AUTH2", "default", "foobar"]
            ),
            "OK"
        );
        assert_eq!(q(&mut c, &["EXISTS", "list"]), Value::Int(0));
        q(&mut c, &["RPUSH", "list", "a", "b"]);
        let wrong = migrate(&mut c, &target, "list", &["AUTH", "nope"]);
        assert!(
            wrong.starts_with("ERR Target instance replied with error: WRONGPASS"),
            "{wrong}"
        );
        assert_eq!(q(&mut c, &["EXISTS", "list"]), Value::Int(1));
        q(&mut c, &["DEL", "list"]);
    }
}

#[test]
fn migrate_io_errors() {
    let server = Server::start();
    let mut c = server.client();
    q(&mut c, &["SET", "key", "v"]);
    // Nothing listens on a port just released. Basalt says "connecting";
    // Redis's non-blocking connect only notices when it writes.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    let reply =
        basalt_tests::client::reply(&mut c, &["MIGRATE", "127.0.0.1", &port, "key", "0", "500"]);
    assert!(
        reply == "IOERR error or timeout connecting to the client"
            || reply == "IOERR error or timeout writing to target instance",
        "{reply}"
    );
    // A target that accepts and never answers.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port().to_string();
    let holder = thread::spawn(move || {
        let conn = silent.accept();
        thread::sleep(Duration::from_secs(2));
        drop(conn);
    });
    let reply =
        basalt_tests::client::reply(&mut c, &["MIGRATE", "127.0.0.1", &port, "key", "0", "300"]);
    assert_eq!(reply, "IOERR error or timeout reading to target instance");
    assert_eq!(q(&mut c, &["EXISTS", "key"]), Value::Int(1));
    holder.join().unwrap();
}
