//! Hash-field expiration: HEXPIRE HPEXPIRE HEXPIREAT HPEXPIREAT HTTL HPTTL
//! HEXPIRETIME HPEXPIRETIME HPERSIST (Redis 7.4) and HGETEX HSETEX HGETDEL
//! (Redis 8) with Redis's reply codes; expired fields vanish from every
//! hash command at once, HLEN stays exact, the background cycle reclaims
//! them and deletes a hash whose last field expired.

use basalt_tests::client::{err, int, q, reply};
use basalt_tests::nodes::wait_until;
use basalt_tests::Server;
use redis::Connection;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

fn sleep_ms(ms: u64) {
    std::thread::sleep(Duration::from_millis(ms));
}

/// A hash `h` with fields f1..f5 (values v1..v5).
fn five_fields(c: &mut Connection) {
    assert_eq!(
        int(
            c,
            &["HSET", "h", "f1", "v1", "f2", "v2", "f3", "v3", "f4", "v4", "f5", "v5"]
        ),
        5
    );
}

#[test]
fn hexpire_reply_codes_and_conditions() {
    let server = Server::start();
    let c = &mut server.client();
    five_fields(c);
    assert_eq!(
        reply(c, &["HEXPIRE", "h", "100", "FIELDS", "2", "f1", "nope"]),
        "[1,-2]"
    );
    assert_eq!(
        reply(c, &["HEXPIRE", "missing", "100", "FIELDS", "1", "f1"]),
        "[-2]"
    );
    // NX: only fields without a TTL.
    assert_eq!(
        reply(c, &["HEXPIRE", "h", "200", "NX", "FIELDS", "2", "f1", "f2"]),
        "[0,1]"
    );
    // XX: only fields with one.
    assert_eq!(
        reply(c, &["HEXPIRE", "h", "300", "XX", "FIELDS", "2", "f1", "f3"]),
        "[1,0]"
    );
    // GT: a field without a TTL counts as never expiring.
    assert_eq!(
        reply(
            c,
            &["HEXPIRE", "h", "250", "GT", "FIELDS", "3", "f1", "f2", "f3"]
        ),
        "[0,1,0]"
    );
    // LT: a field without a TTL takes any.
    assert_eq!(
        reply(
            c,
            &["HEXPIRE", "h", "50", "LT", "FIELDS", "3", "f1", "f2", "f3"]
        ),
        "[1,1,1]"
    );
    let ttls: Vec<i64> = q(
        c,
        &["HTTL", "h", "FIELDS", "5", "f1", "f2", "f3", "f4", "nope"],
    );
    assert!((49..=50).contains(&ttls[0]), "{ttls:?}");
    assert_eq!(&ttls[3..], &[-1, -2]);
    // A time not in the future deletes the field (2).
    assert_eq!(reply(c, &["HEXPIRE", "h", "0", "FIELDS", "1", "f1"]), "[2]");
    assert_eq!(
        reply(c, &["HPEXPIREAT", "h", "1", "FIELDS", "2", "f2", "f4"]),
        "[2,2]"
    );
    assert_eq!(int(c, &["HLEN", "h"]), 2);
    assert_eq!(reply(c, &["HKEYS", "h"]), "[f3,f5]");
    // Deleting the last fields deletes the hash.
    assert_eq!(
        reply(c, &["HEXPIRE", "h", "0", "FIELDS", "2", "f3", "f5"]),
        "[2,2]"
    );
    assert_eq!(int(c, &["EXISTS", "h"]), 0);
}

#[test]
fn units_and_absolute_times() {
    let server = Server::start();
    let c = &mut server.client();
    five_fields(c);
    let in_100s = now_ms() / 1000 + 100;
    assert_eq!(
        reply(
            c,
            &["HEXPIREAT", "h", &in_100s.to_string(), "FIELDS", "1", "f1"]
        ),
        "[1]"
    );
    assert_eq!(
        reply(c, &["HEXPIRETIME", "h", "FIELDS", "2", "f1", "f2"]),
        format!("[{in_100s},-1]")
    );
    assert_eq!(
        reply(c, &["HPEXPIRETIME", "h", "FIELDS", "1", "f1"]),
        format!("[{}]", in_100s * 1000)
    );
    let at = now_ms() + 50_000;
    assert_eq!(
        reply(
            c,
            &["HPEXPIREAT", "h", &at.to_string(), "FIELDS", "1", "f2"]
        ),
        "[1]"
    );
    assert_eq!(
        reply(c, &["HPEXPIRETIME", "h", "FIELDS", "1", "f2"]),
        format!("[{at}]")
    );
    assert_eq!(
        reply(c, &["HPEXPIRE", "h", "20000", "FIELDS", "1", "f3"]),
        "[1]"
    );
    let pttl: Vec<i64> = q(c, &["HPTTL", "h", "FIELDS", "2", "f3", "f4"]);
    assert!((19_000..=20_000).contains(&pttl[0]), "{pttl:?}");
    assert_eq!(pttl[1], -1);
    assert_eq!(reply(c, &["HTTL", "missing", "FIELDS", "1", "f"]), "[-2]");
    // HPERSIST: 1 removed, -1 no TTL, -2 no field.
    assert_eq!(
        reply(c, &["HPERSIST", "h", "FIELDS", "3", "f1", "f4", "nope"]),
        "[1,-1,-2]"
    );
    assert_eq!(reply(c, &["HTTL", "h", "FIELDS", "1", "f1"]), "[-1]");
    assert_eq!(
        reply(c, &["HPERSIST", "missing", "FIELDS", "1", "f"]),
        "[-2]"
    );
}

#[test]
fn argument_errors() {
    let server = Server::start();
    let c = &mut server.client();
    five_fields(c);
    assert_eq!(
        err(c, &["HEXPIRE", "h", "10", "FIELDS", "2", "f1"]),
        "ERR The `numfields` parameter must match the number of arguments"
    );
    assert_eq!(
        err(c, &["HEXPIRE", "h", "10", "FIELDS", "0", "f1"]),
        "ERR Parameter `numFields` should be greater than 0"
    );
    assert_eq!(
        err(c, &["HEXPIRE", "h", "10", "BOGUS", "1", "f1"]),
        "ERR Mandatory argument FIELDS is missing or not at the right position"
    );
    assert_eq!(
        err(c, &["HEXPIRE", "h", "-1", "FIELDS", "1", "f1"]),
        "ERR invalid expire time, must be >= 0"
    );
    assert_eq!(
        err(c, &["HEXPIRE", "h", "abc", "FIELDS", "1", "f1"]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        err(
            c,
            &["HEXPIRE", "h", "9223372036854775", "FIELDS", "1", "f1"]
        ),
        "ERR invalid expire time in 'hexpire' command"
    );
    assert_eq!(
        err(c, &["HTTL", "h", "FIELDS", "0", "f1"]),
        "ERR Number of fields must be a positive integer"
    );
    assert_eq!(
        err(c, &["HPERSIST", "h", "FIELD", "1", "f1"]),
        "ERR Mandatory argument FIELDS is missing or not at the right position"
    );
    assert_eq!(
        err(c, &["HGETEX", "h", "EX", "0", "FIELDS", "1", "f1"]),
        "ERR invalid expire time in 'hgetex' command"
    );
    assert_eq!(
        err(
            c,
            &["HGETEX", "h", "EX", "10", "PERSIST", "FIELDS", "1", "f1"]
        ),
        "ERR syntax error"
    );
    assert_eq!(
        err(c, &["HSETEX", "h", "FIELDS", "2", "f1", "v1"]),
        "ERR The `numfields` parameter must match the number of arguments"
    );
    assert_eq!(
        err(c, &["HSETEX", "h", "FNX", "FXX", "FIELDS", "1", "f1", "v1"]),
        "ERR syntax error"
    );
    assert_eq!(
        err(
            c,
            &["HSETEX", "h", "EX", "10", "KEEPTTL", "FIELDS", "1", "f1", "v1"]
        ),
        "ERR syntax error"
    );
    q::<String>(c, &["SET", "s", "v"]);
    assert_eq!(
        err(c, &["HEXPIRE", "s", "10", "FIELDS", "1", "f"]),
        WRONGTYPE
    );
    assert_eq!(err(c, &["HTTL", "s", "FIELDS", "1", "f"]), WRONGTYPE);
    assert_eq!(err(c, &["HPERSIST", "s", "FIELDS", "1", "f"]), WRONGTYPE);
    assert_eq!(err(c, &["HGETEX", "s", "FIELDS", "1", "f"]), WRONGTYPE);
    assert_eq!(err(c, &["HSETEX", "s", "FIELDS", "1", "f", "v"]), WRONGTYPE);
    assert_eq!(err(c, &["HGETDEL", "s", "FIELDS", "1", "f"]), WRONGTYPE);
    // Nothing above changed the hash.
    assert_eq!(int(c, &["HLEN", "h"]), 5);
    assert_eq!(reply(c, &["HTTL", "h", "FIELDS", "1", "f1"]), "[-1]");
}

/// Every hash command stops seeing a field the moment it expires, before
/// any background work, and HLEN counts exactly the live fields.
#[test]
fn expired_fields_vanish_from_every_hash_command() {
    // No background reclamation: what is seen comes from the reads alone.
    let server = Server::start_with(&["--active-expire-enabled", "no"]);
    let c = &mut server.client();
    five_fields(c);
    q::<i64>(c, &["HSET", "h", "n", "10"]);
    assert_eq!(
        reply(c, &["HPEXPIRE", "h", "150", "FIELDS", "3", "f1", "f2", "n"]),
        "[1,1,1]"
    );
    assert_eq!(int(c, &["HLEN", "h"]), 6);
    assert_eq!(q::<String>(c, &["HGET", "h", "f1"]), "v1");
    sleep_ms(250);
    assert_eq!(int(c, &["HLEN", "h"]), 3);
    assert_eq!(reply(c, &["HGET", "h", "f1"]), "nil");
    assert_eq!(reply(c, &["HMGET", "h", "f1", "f3"]), "[nil,v3]");
    assert_eq!(int(c, &["HEXISTS", "h", "f2"]), 0);
    assert_eq!(int(c, &["HSTRLEN", "h", "f2"]), 0);
    assert_eq!(reply(c, &["HKEYS", "h"]), "[f3,f4,f5]");
    assert_eq!(reply(c, &["HVALS", "h"]), "[v3,v4,v5]");
    assert_eq!(reply(c, &["HGETALL", "h"]), "[f3,v3,f4,v4,f5,v5]");
    assert_eq!(reply(c, &["HSCAN", "h", "0"]), "[0,[f3,v3,f4,v4,f5,v5]]");
    assert_eq!(
        reply(c, &["HRANGEBYLEX", "h", "-", "+"]),
        "[f3,v3,f4,v4,f5,v5]"
    );
    for _ in 0..20 {
        let f: String = q(c, &["HRANDFIELD", "h"]);
        assert!(["f3", "f4", "f5"].contains(&f.as_str()), "{f}");
    }
    assert_eq!(reply(c, &["HRANDFIELD", "h", "10"]).matches('f').count(), 3);
    assert_eq!(reply(c, &["HTTL", "h", "FIELDS", "1", "f1"]), "[-2]");
    assert_eq!(reply(c, &["HPERSIST", "h", "FIELDS", "1", "f1"]), "[-2]");
    assert_eq!(
        reply(c, &["HEXPIRE", "h", "10", "FIELDS", "1", "f1"]),
        "[-2]"
    );
    assert_eq!(int(c, &["HDEL", "h", "f1", "f3"]), 1);
    assert_eq!(int(c, &["HLEN", "h"]), 2);
    // An expired field is a new field to writers.
    assert_eq!(int(c, &["HSETNX", "h", "f2", "new"]), 1);
    assert_eq!(int(c, &["HINCRBY", "h", "n", "5"]), 5);
    assert_eq!(
        reply(c, &["HTTL", "h", "FIELDS", "2", "f2", "n"]),
        "[-1,-1]"
    );
    assert_eq!(int(c, &["HSET", "h", "f1", "again"]), 1);
    assert_eq!(int(c, &["HLEN", "h"]), 5);
    assert_eq!(reply(c, &["HKEYS", "h"]), "[f1,f2,f4,f5,n]");

    // A hash whose every field expired reads as empty to hash commands.
    q::<i64>(c, &["HSET", "gone", "a", "1", "b", "2"]);
    q::<Vec<i64>>(c, &["HPEXPIRE", "gone", "100", "FIELDS", "2", "a", "b"]);
    sleep_ms(200);
    assert_eq!(int(c, &["HLEN", "gone"]), 0);
    assert_eq!(reply(c, &["HGETALL", "gone"]), "[]");
    // A write to it starts from an empty hash.
    assert_eq!(int(c, &["HSET", "gone", "c", "3"]), 1);
    assert_eq!(int(c, &["HLEN", "gone"]), 1);
    assert_eq!(reply(c, &["HGETALL", "gone"]), "[c,3]");
}

#[test]
fn hset_drops_the_ttl_and_hincrby_keeps_it() {
    let server = Server::start();
    let c = &mut server.client();
    five_fields(c);
    q::<i64>(c, &["HSET", "h", "n", "1"]);
    q::<Vec<i64>>(c, &["HEXPIRE", "h", "100", "FIELDS", "2", "f1", "n"]);
    assert_eq!(int(c, &["HSET", "h", "f1", "x"]), 0);
    assert_eq!(int(c, &["HINCRBY", "h", "n", "2"]), 3);
    assert_eq!(q::<String>(c, &["HINCRBYFLOAT", "h", "n", "0.5"]), "3.5");
    let ttls: Vec<i64> = q(c, &["HTTL", "h", "FIELDS", "2", "f1", "n"]);
    assert_eq!(ttls[0], -1);
    assert!((99..=100).contains(&ttls[1]), "{ttls:?}");
    assert_eq!(int(c, &["HLEN", "h"]), 6);
}

#[test]
fn hgetex_hsetex_hgetdel() {
    let server = Server::start();
    let c = &mut server.client();
    five_fields(c);
    // HGETEX without an option only reads.
    assert_eq!(
        reply(c, &["HGETEX", "h", "FIELDS", "2", "f1", "nope"]),
        "[v1,nil]"
    );
    assert_eq!(
        reply(c, &["HGETEX", "h", "EX", "100", "FIELDS", "2", "f1", "f2"]),
        "[v1,v2]"
    );
    let ttls: Vec<i64> = q(c, &["HTTL", "h", "FIELDS", "3", "f1", "f2", "f3"]);
    assert!(ttls[0] > 90 && ttls[1] > 90 && ttls[2] == -1, "{ttls:?}");
    assert_eq!(
        reply(c, &["HGETEX", "h", "PERSIST", "FIELDS", "1", "f1"]),
        "[v1]"
    );
    assert_eq!(reply(c, &["HTTL", "h", "FIELDS", "1", "f1"]), "[-1]");
    let at = (now_ms() + 60_000).to_string();
    assert_eq!(
        reply(c, &["HGETEX", "h", "PXAT", &at, "FIELDS", "1", "f3"]),
        "[v3]"
    );
    assert_eq!(
        reply(c, &["HPEXPIRETIME", "h", "FIELDS", "1", "f3"]),
        format!("[{at}]")
    );
    // A time in the past deletes the fields it returns.
    assert_eq!(
        reply(c, &["HGETEX", "h", "EXAT", "1", "FIELDS", "2", "f3", "f4"]),
        "[v3,v4]"
    );
    assert_eq!(reply(c, &["HKEYS", "h"]), "[f1,f2,f5]");
    assert_eq!(
        reply(c, &["HGETEX", "missing", "EX", "1", "FIELDS", "1", "a"]),
        "[nil]"
    );

    // HSETEX: 1 when set, 0 when FNX/FXX refuse (nothing is written).
    assert_eq!(
        int(
            c,
            &["HSETEX", "h", "FNX", "EX", "100", "FIELDS", "2", "n1", "a", "f1", "b"]
        ),
        0
    );
    assert_eq!(int(c, &["HEXISTS", "h", "n1"]), 0);
    assert_eq!(
        int(
            c,
            &["HSETEX", "h", "FNX", "EX", "100", "FIELDS", "2", "n1", "a", "n2", "b"]
        ),
        1
    );
    let ttls: Vec<i64> = q(c, &["HTTL", "h", "FIELDS", "2", "n1", "n2"]);
    assert!(ttls.iter().all(|&t| t > 90), "{ttls:?}");
    assert_eq!(
        int(
            c,
            &["HSETEX", "h", "FXX", "FIELDS", "2", "n1", "A", "nope", "x"]
        ),
        0
    );
    assert_eq!(
        int(
            c,
            &["HSETEX", "h", "FXX", "KEEPTTL", "FIELDS", "1", "n1", "A"]
        ),
        1
    );
    assert_eq!(q::<String>(c, &["HGET", "h", "n1"]), "A");
    assert!(q::<Vec<i64>>(c, &["HTTL", "h", "FIELDS", "1", "n1"])[0] > 90);
    // Without KEEPTTL the TTL goes, as with HSET.
    assert_eq!(int(c, &["HSETEX", "h", "FIELDS", "1", "n1", "B"]), 1);
    assert_eq!(reply(c, &["HTTL", "h", "FIELDS", "1", "n1"]), "[-1]");
    assert_eq!(
        int(
            c,
            &["HSETEX", "new", "PX", "100000", "FIELDS", "2", "a", "1", "b", "2"]
        ),
        1
    );
    assert_eq!(reply(c, &["HGETALL", "new"]), "[a,1,b,2]");

    // HGETDEL returns and deletes; the hash goes with its last field.
    assert_eq!(
        reply(c, &["HGETDEL", "new", "FIELDS", "3", "a", "zz", "a"]),
        "[1,nil,nil]"
    );
    assert_eq!(int(c, &["HLEN", "new"]), 1);
    assert_eq!(reply(c, &["HGETDEL", "new", "FIELDS", "1", "b"]), "[2]");
    assert_eq!(int(c, &["EXISTS", "new"]), 0);
    assert_eq!(
        reply(c, &["HGETDEL", "missing", "FIELDS", "1", "a"]),
        "[nil]"
    );
}

#[test]
fn expired_fields_are_reclaimed_and_the_last_one_deletes_the_hash() {
    let server = Server::start();
    let c = &mut server.client();
    let mut sub = server.client();
    q::<String>(c, &["CONFIG", "SET", "notify-keyspace-events", "KEA"]);
    let mut pubsub = sub.as_pubsub();
    pubsub.psubscribe("__keyevent@0__:*").unwrap();
    pubsub
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();

    q::<i64>(c, &["HSET", "h", "a", "1", "b", "2", "c", "3"]);
    q::<Vec<i64>>(c, &["HPEXPIRE", "h", "100", "FIELDS", "2", "a", "b"]);
    q::<Vec<i64>>(c, &["HPERSIST", "h", "FIELDS", "1", "b"]);
    q::<Vec<i64>>(c, &["HPEXPIRE", "h", "100", "FIELDS", "1", "b"]);
    let mut events = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !events.iter().any(|e: &String| e.ends_with(":hexpired"))
        && std::time::Instant::now() < deadline
    {
        if let Ok(msg) = pubsub.get_message() {
            events.push(msg.get_channel_name().to_string());
        }
    }
    let names: Vec<&str> = events
        .iter()
        .map(|e| e.rsplit(':').next().unwrap_or(""))
        .collect();
    assert_eq!(
        names,
        ["hset", "hexpire", "hpersist", "hexpire", "hexpired"]
    );
    assert_eq!(int(c, &["HLEN", "h"]), 1);
    // The background cycle deleted the fields: the key's element count in
    // MEMORY/DEBUG is not visible, but HSET of the same names adds them.
    assert_eq!(int(c, &["HSET", "h", "a", "x", "b", "y"]), 2);
    assert_eq!(int(c, &["HLEN", "h"]), 3);

    // The last field expiring deletes the key: `hexpired`, then `del`.
    q::<i64>(c, &["HSET", "last", "only", "1"]);
    q::<Vec<i64>>(c, &["HPEXPIRE", "last", "50", "FIELDS", "1", "only"]);
    let mut tail = Vec::new();
    while !tail.iter().any(|e: &String| e.ends_with(":del"))
        && std::time::Instant::now() < deadline + Duration::from_secs(5)
    {
        if let Ok(msg) = pubsub.get_message() {
            let payload: String = msg.get_payload().unwrap_or_default();
            if payload == "last" {
                tail.push(msg.get_channel_name().to_string());
            }
        }
    }
    let names: Vec<&str> = tail
        .iter()
        .map(|e| e.rsplit(':').next().unwrap_or(""))
        .collect();
    assert_eq!(names, ["hset", "hexpire", "hexpired", "del"]);
    // Generic commands see the key gone, too.
    wait_until(Duration::from_secs(5), "the key to go", || {
        match int(c, &["EXISTS", "last"]) {
            0 => Ok(()),
            n => Err(n.to_string()),
        }
    });
    assert_eq!(int(c, &["DBSIZE"]), 1);
}

#[test]
fn a_large_hash_expiring_at_once_is_reclaimed_over_several_steps() {
    basalt_tests::skip_on_redis!(); // redis-server 7.0 has no field TTLs
    let server = Server::start();
    let c = &mut server.client();
    // More fields than one reclamation step takes (10,000), all due
    // together, beside fields that stay.
    let n = 25_000;
    let mut fill = redis::pipe();
    for chunk in 0..n / 1000 {
        let mut hset = redis::cmd("HSET");
        hset.arg("big");
        let mut expire = redis::cmd("HPEXPIRE");
        expire.arg("big").arg(3000).arg("FIELDS").arg(1000);
        for i in chunk * 1000..(chunk + 1) * 1000 {
            hset.arg(format!("f{i}")).arg("v");
            expire.arg(format!("f{i}"));
        }
        fill.add_command(hset).ignore().add_command(expire).ignore();
    }
    fill.cmd("HSET")
        .arg("big")
        .arg("stay")
        .arg("1")
        .arg("too")
        .arg("2")
        .ignore();
    let _: () = fill.query(c).unwrap();
    assert_eq!(int(c, &["HLEN", "big"]), n + 2);
    // HLEN is exact while the due fields wait for reclamation and after.
    wait_until(
        Duration::from_secs(20),
        "the fields to expire",
        || match int(c, &["HLEN", "big"]) {
            2 => Ok(()),
            other => Err(other.to_string()),
        },
    );
    assert_eq!(int(c, &["HEXISTS", "big", "f0"]), 0);
    assert_eq!(q::<Vec<String>>(c, &["HKEYS", "big"]).len(), 2);
    // Reclamation goes through every field, 10,000 a step: MEMORY USAGE
    // (every stored record with SAMPLES 0) falls to the two left.
    wait_until(
        Duration::from_secs(20),
        "the fields to be reclaimed",
        || {
            let stored: i64 = int(c, &["MEMORY", "USAGE", "big", "SAMPLES", "0"]);
            if stored < 200 {
                Ok(())
            } else {
                Err(format!("MEMORY USAGE {stored}"))
            }
        },
    );
    // The index takes new times after its range deletions; HSET of a
    // reclaimed field adds it anew.
    assert_eq!(int(c, &["HSET", "big", "f1", "v", "f24999", "v"]), 2);
    assert_eq!(
        q::<Vec<i64>>(c, &["HPEXPIRE", "big", "100", "FIELDS", "1", "f1"]),
        [1]
    );
    wait_until(Duration::from_secs(10), "f1 to expire", || {
        match int(c, &["HLEN", "big"]) {
            3 => Ok(()),
            other => Err(other.to_string()),
        }
    });
    // The last fields expiring take the key with them.
    q::<Vec<i64>>(
        c,
        &[
            "HPEXPIRE", "big", "100", "FIELDS", "3", "stay", "too", "f24999",
        ],
    );
    wait_until(Duration::from_secs(10), "the key to go", || {
        match int(c, &["EXISTS", "big"]) {
            0 => Ok(()),
            n => Err(n.to_string()),
        }
    });
}

#[test]
fn hashes_without_field_ttls_are_unchanged_and_generic_commands_carry_ttls() {
    let server = Server::start();
    let c = &mut server.client();
    five_fields(c);
    q::<Vec<i64>>(c, &["HEXPIRE", "h", "100", "FIELDS", "1", "f1"]);
    assert_eq!(int(c, &["COPY", "h", "h2"]), 1);
    assert!(q::<Vec<i64>>(c, &["HTTL", "h2", "FIELDS", "1", "f1"])[0] > 90);
    assert_eq!(q::<String>(c, &["RENAME", "h2", "h3"]), "OK");
    assert!(q::<Vec<i64>>(c, &["HTTL", "h3", "FIELDS", "1", "f1"])[0] > 90);
    assert_eq!(reply(c, &["HGETALL", "h3"]), reply(c, &["HGETALL", "h"]));
    assert_eq!(int(c, &["HLEN", "h3"]), 5);
    // MULTI and Lua.
    let (set, ttl): (Vec<i64>, Vec<i64>) = redis::pipe()
        .atomic()
        .cmd("HPEXPIRE")
        .arg("h")
        .arg(500_000)
        .arg("FIELDS")
        .arg(1)
        .arg("f2")
        .cmd("HTTL")
        .arg("h")
        .arg("FIELDS")
        .arg(1)
        .arg("f2")
        .query(c)
        .unwrap();
    assert_eq!(set, vec![1]);
    assert!(ttl[0] > 400, "{ttl:?}");
    let lua: Vec<i64> = redis::cmd("EVAL")
        .arg("return redis.call('HPERSIST', KEYS[1], 'FIELDS', 1, 'f2')")
        .arg(1)
        .arg("h")
        .query(c)
        .unwrap();
    assert_eq!(lua, vec![1]);
}

#[test]
fn field_ttls_survive_a_restart() {
    let mut server = Server::start();
    {
        let c = &mut server.client();
        five_fields(c);
        q::<Vec<i64>>(c, &["HEXPIRE", "h", "1000", "FIELDS", "1", "f1"]);
        q::<Vec<i64>>(c, &["HPEXPIRE", "h", "1500", "FIELDS", "1", "f2"]);
    }
    server.restart();
    let c = &mut server.client();
    assert!(q::<Vec<i64>>(c, &["HTTL", "h", "FIELDS", "1", "f1"])[0] > 990);
    assert_eq!(reply(c, &["HGET", "h", "f3"]), "v3");
    // After the restart the keyspace walk finds the hash and reclaims f2.
    wait_until(Duration::from_secs(10), "f2 to expire", || {
        match int(c, &["HLEN", "h"]) {
            4 => Ok(()),
            n => Err(n.to_string()),
        }
    });
    assert_eq!(reply(c, &["HKEYS", "h"]), "[f1,f3,f4,f5]");
    server.restart();
    let c = &mut server.client();
    assert_eq!(int(c, &["HLEN", "h"]), 4);
    assert_eq!(reply(c, &["HTTL", "h", "FIELDS", "1", "f2"]), "[-2]");
}

/// Field TTLs, the fields' expiry and the background deletions reach a
/// replica through the ordinary replication stream.
#[test]
fn replicas_follow_field_ttls() {
    use basalt_tests::nodes::{start_replica, wait_in_sync};
    let master = Server::start();
    let replica = start_replica(&master, &[]);
    let m = &mut master.client();
    five_fields(m);
    q::<Vec<i64>>(m, &["HEXPIRE", "h", "1000", "FIELDS", "1", "f1"]);
    q::<Vec<i64>>(m, &["HPEXPIRE", "h", "200", "FIELDS", "1", "f2"]);
    q::<i64>(m, &["HSET", "short", "a", "1"]);
    q::<Vec<i64>>(m, &["HPEXPIRE", "short", "200", "FIELDS", "1", "a"]);
    wait_in_sync(&master, &replica, Duration::from_secs(10));
    let r = &mut replica.client();
    assert!(q::<Vec<i64>>(r, &["HTTL", "h", "FIELDS", "1", "f1"])[0] > 990);
    // The master's cycle deletes f2 and the whole of `short`.
    wait_until(
        Duration::from_secs(10),
        "the master to reclaim",
        || match int(m, &["EXISTS", "short"]) {
            0 => Ok(()),
            n => Err(n.to_string()),
        },
    );
    wait_in_sync(&master, &replica, Duration::from_secs(10));
    assert_eq!(int(r, &["EXISTS", "short"]), 0);
    assert_eq!(int(r, &["HLEN", "h"]), 4);
    assert_eq!(reply(r, &["HKEYS", "h"]), "[f1,f3,f4,f5]");
}

#[test]
fn dump_restore_and_migrate_carry_field_ttls() {
    basalt_tests::skip_on_redis!(); // redis-server 7.0 has no field TTLs
    let server = Server::start();
    let c = &mut server.client();
    five_fields(c);
    let at = now_ms() + 500_000;
    let at_s = at.to_string();
    q::<Vec<i64>>(c, &["HPEXPIREAT", "h", &at_s, "FIELDS", "2", "f1", "f2"]);
    q::<Vec<i64>>(c, &["HEXPIRE", "h", "1000", "FIELDS", "1", "f3"]);
    q::<Vec<i64>>(c, &["HPEXPIRE", "h", "1", "FIELDS", "1", "f5"]);
    sleep_ms(20);
    let payload: Vec<u8> = redis::cmd("DUMP").arg("h").query(c).unwrap();
    // Redis 7.4's RDB_TYPE_HASH_METADATA under RDB version 12.
    assert_eq!(payload[0], 24);
    assert_eq!(&payload[payload.len() - 10..payload.len() - 8], &[12, 0]);
    let restored: String = redis::cmd("RESTORE")
        .arg("r")
        .arg(0)
        .arg(&payload)
        .query(c)
        .unwrap();
    assert_eq!(restored, "OK");
    let times = |c: &mut Connection, key: &str| -> Vec<i64> {
        q(
            c,
            &[
                "HPEXPIRETIME",
                key,
                "FIELDS",
                "5",
                "f1",
                "f2",
                "f3",
                "f4",
                "f5",
            ],
        )
    };
    let want = times(c, "h");
    assert_eq!(&want[..2], &[at as i64, at as i64]);
    assert_eq!(
        &want[3..],
        &[-1, -2],
        "f4 has no TTL, f5 expired before DUMP"
    );
    assert_eq!(times(c, "r"), want);
    assert_eq!(int(c, &["HLEN", "r"]), 4);
    assert_eq!(reply(c, &["HGETALL", "r"]), reply(c, &["HGETALL", "h"]));
    // A hash without field TTLs left is dumped as a plain hash.
    q::<Vec<i64>>(c, &["HPERSIST", "r", "FIELDS", "3", "f1", "f2", "f3"]);
    let plain: Vec<u8> = redis::cmd("DUMP").arg("r").query(c).unwrap();
    assert_eq!((plain[0], plain[plain.len() - 10]), (4, 10));

    // MIGRATE moves the payload to another server.
    let other = Server::start();
    let o = &mut other.client();
    let port = other.port.to_string();
    assert_eq!(
        q::<String>(c, &["MIGRATE", "127.0.0.1", &port, "h", "0", "5000"]),
        "OK"
    );
    assert_eq!(times(o, "h"), want);
    assert_eq!(int(c, &["EXISTS", "h"]), 0);
    // The expiry cycle knows about the restored TTLs: a field expiring
    // soon is reclaimed and the hash deleted with its last field.
    let soon = (now_ms() + 200).to_string();
    q::<Vec<i64>>(
        o,
        &[
            "HPEXPIREAT",
            "h",
            &soon,
            "FIELDS",
            "4",
            "f1",
            "f2",
            "f3",
            "f4",
        ],
    );
    let dump: Vec<u8> = redis::cmd("DUMP").arg("h").query(o).unwrap();
    let _: String = redis::cmd("RESTORE")
        .arg("h2")
        .arg(0)
        .arg(&dump)
        .query(o)
        .unwrap();
    wait_until(
        Duration::from_secs(10),
        "the restored hash to expire",
        || {
            if int(o, &["EXISTS", "h2"]) == 0 {
                Ok(())
            } else {
                Err("h2 still exists".to_string())
            }
        },
    );
}
