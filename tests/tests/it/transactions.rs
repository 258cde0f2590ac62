//! MULTI/EXEC/DISCARD/WATCH: queuing, EXECABORT, atomicity seen from other
//! clients, reads of the transaction's own writes, and WATCH races.

use basalt_tests::client::{cmd, err, int, q};
use basalt_tests::Server;
use redis::{Connection, Value};
use std::io::{Read, Write};
use std::thread;
use std::time::Duration;

fn v(c: &mut Connection, args: &[&str]) -> Value {
    cmd(args)
        .query(c)
        .unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

fn queued(c: &mut Connection, args: &[&str]) {
    assert_eq!(
        v(c, args),
        Value::SimpleString("QUEUED".into()),
        "{args:?} was not queued"
    );
}

fn bulk(s: &str) -> Value {
    Value::BulkString(s.as_bytes().to_vec())
}

#[test]
fn exec_runs_queued_commands_and_reads_see_earlier_writes() {
    let server = Server::start();
    let mut c = server.client();
    assert_eq!(v(&mut c, &["MULTI"]), Value::Okay);
    queued(&mut c, &["SET", "a", "1"]);
    queued(&mut c, &["INCR", "a"]);
    queued(&mut c, &["GET", "a"]);
    queued(&mut c, &["RPUSH", "l", "x", "y"]);
    queued(&mut c, &["LRANGE", "l", "0", "-1"]);
    queued(&mut c, &["HSET", "h", "f", "v"]);
    queued(&mut c, &["HGETALL", "h"]);
    queued(&mut c, &["ZADD", "z", "2", "b", "1", "a"]);
    queued(&mut c, &["ZRANGE", "z", "0", "-1"]);
    queued(&mut c, &["DEL", "l"]);
    queued(&mut c, &["EXISTS", "l"]);
    let replies = v(&mut c, &["EXEC"]);
    assert_eq!(
        replies,
        Value::Array(vec![
            Value::Okay,
            Value::Int(2),
            bulk("2"),
            Value::Int(2),
            Value::Array(vec![bulk("x"), bulk("y")]),
            Value::Int(1),
            Value::Array(vec![bulk("f"), bulk("v")]),
            Value::Int(2),
            Value::Array(vec![bulk("a"), bulk("b")]),
            Value::Int(1),
            Value::Int(0),
        ])
    );
    assert_eq!(q::<String>(&mut c, &["GET", "a"]), "2");
    // Runtime errors do not stop the transaction, as in Redis (raw bytes:
    // the client library turns an error inside an array into a failure).
    let mut raw = server.raw();
    raw.write_all(b"MULTI\r\nINCR h\r\nSET b ok\r\nEXEC\r\n")
        .unwrap();
    let expected = "+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n-WRONGTYPE Operation against a key holding the wrong kind of value\r\n+OK\r\n";
    let mut got = vec![0u8; expected.len()];
    raw.read_exact(&mut got).unwrap();
    assert_eq!(String::from_utf8_lossy(&got), expected);
    assert_eq!(q::<String>(&mut c, &["GET", "b"]), "ok");
}

#[test]
fn queuing_errors_abort_with_execabort() {
    let server = Server::start();
    let mut c = server.client();
    assert_eq!(v(&mut c, &["MULTI"]), Value::Okay);
    queued(&mut c, &["SET", "k", "v"]);
    assert_eq!(
        err(&mut c, &["NOSUCHCMD", "x"]),
        "ERR unknown command 'NOSUCHCMD', with args beginning with: 'x' "
    );
    assert_eq!(
        err(&mut c, &["EXEC"]),
        "EXECABORT Transaction discarded because of previous errors."
    );
    assert_eq!(int(&mut c, &["EXISTS", "k"]), 0);
    // Wrong arity aborts too; the connection is usable afterwards.
    assert_eq!(v(&mut c, &["MULTI"]), Value::Okay);
    assert_eq!(
        err(&mut c, &["GET"]),
        "ERR wrong number of arguments for 'get' command"
    );
    assert!(err(&mut c, &["EXEC"]).starts_with("EXECABORT"));
    assert_eq!(v(&mut c, &["PING"]), Value::SimpleString("PONG".into()));
}

#[test]
fn nesting_and_misplaced_commands() {
    let server = Server::start();
    let mut c = server.client();
    assert_eq!(err(&mut c, &["EXEC"]), "ERR EXEC without MULTI");
    assert_eq!(err(&mut c, &["DISCARD"]), "ERR DISCARD without MULTI");
    assert_eq!(v(&mut c, &["MULTI"]), Value::Okay);
    assert_eq!(err(&mut c, &["MULTI"]), "ERR MULTI calls can not be nested");
    assert_eq!(
        err(&mut c, &["WATCH", "x"]),
        "ERR WATCH inside MULTI is not allowed"
    );
    queued(&mut c, &["SET", "k", "1"]);
    // CLIENT LIST shows the open transaction and its queue length.
    let mut other = server.client();
    let list: String = q(&mut other, &["CLIENT", "LIST"]);
    assert!(
        list.lines()
            .any(|l| l.contains(" flags=x ") && l.contains(" multi=1 ")),
        "{list}"
    );
    // Neither error aborts the transaction (as in Redis).
    assert_eq!(v(&mut c, &["EXEC"]), Value::Array(vec![Value::Okay]));
    assert_eq!(v(&mut c, &["MULTI"]), Value::Okay);
    queued(&mut c, &["SET", "k", "2"]);
    assert_eq!(v(&mut c, &["DISCARD"]), Value::Okay);
    assert_eq!(q::<String>(&mut c, &["GET", "k"]), "1");
    // An empty transaction answers an empty array.
    assert_eq!(v(&mut c, &["MULTI"]), Value::Okay);
    assert_eq!(v(&mut c, &["EXEC"]), Value::Array(vec![]));
}

#[test]
fn other_clients_never_see_half_a_transaction() {
    let server = Server::start();
    let mut setup = server.client();
    q::<()>(&mut setup, &["MSET", "a", "0", "b", "0"]);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let mut c = server.client();
        let stop = stop.clone();
        thread::spawn(move || {
            let mut checks = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let (a, b): (i64, i64) = cmd(&["MGET", "a", "b"]).query(&mut c).unwrap();
                assert_eq!(a, b, "saw half a transaction");
                checks += 1;
            }
            checks
        })
    };
    let mut c = server.client();
    for _ in 0..300 {
        q::<()>(&mut c, &["MULTI"]);
        queued(&mut c, &["INCR", "a"]);
        queued(&mut c, &["INCR", "b"]);
        q::<Vec<i64>>(&mut c, &["EXEC"]);
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(reader.join().unwrap() > 0);
    assert_eq!(q::<String>(&mut c, &["GET", "a"]), "300");
}

#[test]
fn concurrent_transactions_are_serialized_on_their_keys() {
    let server = Server::start();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let mut c = server.client();
            thread::spawn(move || {
                for _ in 0..100 {
                    // A read-modify-write that is only safe if EXEC is atomic.
                    q::<()>(&mut c, &["MULTI"]);
                    queued(&mut c, &["INCR", "n"]);
                    queued(&mut c, &["RPUSH", "log", "x"]);
                    queued(&mut c, &["LLEN", "log"]);
                    let (n, _, len): (i64, i64, i64) = cmd(&["EXEC"]).query(&mut c).unwrap();
                    assert_eq!(n, len, "INCR and LLEN disagree inside one EXEC");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let mut c = server.client();
    assert_eq!(q::<String>(&mut c, &["GET", "n"]), "400");
}

#[test]
fn watch_aborts_when_another_client_writes() {
    let server = Server::start();
    let mut c = server.client();
    let mut other = server.client();
    q::<()>(&mut c, &["SET", "k", "1"]);
    q::<()>(&mut c, &["WATCH", "k"]);
    q::<()>(&mut other, &["SET", "k", "2"]);
    q::<()>(&mut c, &["MULTI"]);
    queued(&mut c, &["SET", "k", "mine"]);
    assert_eq!(v(&mut c, &["EXEC"]), Value::Nil);
    assert_eq!(q::<String>(&mut c, &["GET", "k"]), "2");
    // The watch ended with EXEC: the next transaction goes through.
    q::<()>(&mut c, &["MULTI"]);
    queued(&mut c, &["SET", "k", "mine"]);
    assert_eq!(v(&mut c, &["EXEC"]), Value::Array(vec![Value::Okay]));
    // Untouched watched keys let EXEC run; UNWATCH forgets them.
    q::<()>(&mut c, &["WATCH", "k", "other"]);
    q::<()>(&mut c, &["MULTI"]);
    queued(&mut c, &["GET", "k"]);
    assert_eq!(v(&mut c, &["EXEC"]), Value::Array(vec![bulk("mine")]));
    q::<()>(&mut c, &["WATCH", "k"]);
    q::<()>(&mut other, &["DEL", "k"]);
    q::<()>(&mut c, &["UNWATCH"]);
    q::<()>(&mut c, &["MULTI"]);
    queued(&mut c, &["SET", "k", "again"]);
    assert_eq!(v(&mut c, &["EXEC"]), Value::Array(vec![Value::Okay]));
    // A watched key created by someone else counts as changed.
    q::<()>(&mut c, &["WATCH", "fresh"]);
    q::<()>(&mut other, &["HSET", "fresh", "f", "v"]);
    q::<()>(&mut c, &["MULTI"]);
    queued(&mut c, &["SET", "x", "1"]);
    assert_eq!(v(&mut c, &["EXEC"]), Value::Nil);
    // DISCARD also forgets the watches.
    q::<()>(&mut c, &["WATCH", "k"]);
    q::<()>(&mut c, &["MULTI"]);
    q::<()>(&mut c, &["DISCARD"]);
    q::<()>(&mut other, &["SET", "k", "changed"]);
    q::<()>(&mut c, &["MULTI"]);
    queued(&mut c, &["GET", "k"]);
    assert_eq!(v(&mut c, &["EXEC"]), Value::Array(vec![bulk("changed")]));
}

#[test]
fn watch_aborts_on_flushdb_and_on_expiry() {
    let server = Server::start();
    let mut c = server.client();
    let mut other = server.client();
    q::<()>(&mut c, &["SET", "k", "1"]);
    q::<()>(&mut c, &["WATCH", "k"]);
    q::<()>(&mut other, &["FLUSHDB"]);
    q::<()>(&mut c, &["MULTI"]);
    queued(&mut c, &["SET", "k", "2"]);
    assert_eq!(v(&mut c, &["EXEC"]), Value::Nil);

    // Emptying the database changes only the keys that were there: a
    // watched key that did not exist stays valid (Redis 7).
    for flush in ["FLUSHDB", "FLUSHALL"] {
        q::<()>(&mut c, &["DEL", "missing"]);
        q::<()>(&mut c, &["SET", "present", "1"]);
        q::<()>(&mut c, &["WATCH", "missing"]);
        q::<()>(&mut other, &[flush]);
        q::<()>(&mut c, &["MULTI"]);
        queued(&mut c, &["PING"]);
        assert_eq!(
            v(&mut c, &["EXEC"]),
            Value::Array(vec![Value::SimpleString("PONG".into())]),
            "{flush}"
        );
    }

    q::<()>(&mut c, &["SET", "t", "1", "PX", "50"]);
    q::<()>(&mut c, &["WATCH", "t"]);
    thread::sleep(Duration::from_millis(150));
    q::<()>(&mut c, &["MULTI"]);
    queued(&mut c, &["SET", "t", "2"]);
    assert_eq!(v(&mut c, &["EXEC"]), Value::Nil);
    // A key already gone when watched does not abort.
    q::<()>(&mut c, &["WATCH", "t"]);
    q::<()>(&mut c, &["MULTI"]);
    queued(&mut c, &["SET", "t", "3"]);
    assert_eq!(v(&mut c, &["EXEC"]), Value::Array(vec![Value::Okay]));
}

#[test]
fn watch_race_only_one_increment_wins() {
    // The classic optimistic-locking loop: clients retry until EXEC goes
    // through; the counter must end exactly at the number of increments.
    let server = Server::start();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let mut c = server.client();
            thread::spawn(move || {
                let mut retries = 0;
                for _ in 0..50 {
                    loop {
                        q::<()>(&mut c, &["WATCH", "counter"]);
                        let n: Option<i64> = cmd(&["GET", "counter"]).query(&mut c).unwrap();
                        let next = (n.unwrap_or(0) + 1).to_string();
                        q::<()>(&mut c, &["MULTI"]);
                        queued(&mut c, &["SET", "counter", &next]);
                        if v(&mut c, &["EXEC"]) != Value::Nil {
                            break;
                        }
                        retries += 1;
                    }
                }
                retries
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let mut c = server.client();
    assert_eq!(q::<String>(&mut c, &["GET", "counter"]), "200");
}

#[test]
fn blocking_commands_inside_multi_do_not_block_and_pushes_serve_after_exec() {
    let server = Server::start();
    let mut c = server.client();
    q::<()>(&mut c, &["MULTI"]);
    queued(&mut c, &["BLPOP", "empty", "0"]);
    queued(&mut c, &["BLMOVE", "empty", "dst", "LEFT", "LEFT", "0"]);
    queued(&mut c, &["BZPOPMIN", "emptyz", "0"]);
    assert_eq!(
        v(&mut c, &["EXEC"]),
        Value::Array(vec![Value::Nil, Value::Nil, Value::Nil])
    );

    // A client blocked on a list is served only after the pushing
    // transaction commits, and sees the whole transaction's effect.
    let mut waiter = server.client();
    let blocked = thread::spawn(move || {
        let r: (String, String) = cmd(&["BLPOP", "q", "0"]).query(&mut waiter).unwrap();
        r
    });
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while int(&mut c, &["EXISTS", "q"]) == 0 {
        let list: String = q(&mut c, &["CLIENT", "LIST"]);
        if list.contains("cmd=blpop") {
            break;
        }
        assert!(std::time::Instant::now() < deadline);
        thread::sleep(Duration::from_millis(10));
    }
    q::<()>(&mut c, &["MULTI"]);
    queued(&mut c, &["RPUSH", "q", "first", "second"]);
    queued(&mut c, &["LPOP", "q"]);
    queued(&mut c, &["SET", "marker", "done"]);
    assert_eq!(
        v(&mut c, &["EXEC"]),
        Value::Array(vec![Value::Int(2), bulk("first"), Value::Okay])
    );
    assert_eq!(
        blocked.join().unwrap(),
        ("q".to_string(), "second".to_string())
    );
    assert_eq!(int(&mut c, &["EXISTS", "q"]), 0);
}

#[test]
fn multi_state_survives_reset_and_queued_commands_of_all_families() {
    let server = Server::start();
    let mut c = server.client();
    q::<()>(&mut c, &["MULTI"]);
    queued(&mut c, &["SET", "k", "v"]);
    assert_eq!(v(&mut c, &["RESET"]), Value::SimpleString("RESET".into()));
    assert_eq!(err(&mut c, &["EXEC"]), "ERR EXEC without MULTI");
    assert_eq!(int(&mut c, &["EXISTS", "k"]), 0);

    q::<()>(&mut c, &["MULTI"]);
    queued(&mut c, &["SADD", "s1", "a", "b", "c"]);
    queued(&mut c, &["SADD", "s2", "b", "c", "d"]);
    queued(&mut c, &["SINTERSTORE", "s3", "s1", "s2"]);
    queued(&mut c, &["ZUNIONSTORE", "z", "2", "s1", "s2"]);
    queued(&mut c, &["ZCARD", "z"]);
    queued(&mut c, &["SORT", "s3", "ALPHA", "STORE", "sorted"]);
    queued(&mut c, &["LRANGE", "sorted", "0", "-1"]);
    queued(&mut c, &["RENAME", "sorted", "renamed"]);
    queued(&mut c, &["TYPE", "renamed"]);
    assert_eq!(
        v(&mut c, &["EXEC"]),
        Value::Array(vec![
            Value::Int(3),
            Value::Int(3),
            Value::Int(2),
            Value::Int(4),
            Value::Int(4),
            Value::Int(2),
            Value::Array(vec![bulk("b"), bulk("c")]),
            Value::Okay,
            Value::SimpleString("list".into()),
        ])
    );
}

#[test]
fn a_transaction_is_durable_as_a_whole() {
    basalt_tests::skip_on_redis!();
    let mut server = Server::start();
    let mut c = server.client();
    q::<()>(&mut c, &["MULTI"]);
    for i in 0..50 {
        queued(&mut c, &["SET", &format!("k{i}"), "v"]);
    }
    let Value::Array(replies) = v(&mut c, &["EXEC"]) else {
        panic!()
    };
    assert_eq!(replies.len(), 50);
    drop(c);
    server.kill9();
    server.restart();
    let mut c = server.client();
    assert_eq!(int(&mut c, &["DBSIZE"]), 50);
}

/// EXEC of `MULTI; PING` after WATCH of `key`, once `write` ran from
/// another client: whether the transaction still ran.
fn exec_survives(server: &Server, key: &str, setup: &[&[&str]], write: &[&str]) -> bool {
    let mut c = server.client();
    let mut other = server.client();
    q::<()>(&mut c, &["FLUSHALL"]);
    for args in setup {
        v(&mut c, args);
    }
    q::<()>(&mut c, &["WATCH", key]);
    // It may fail (a wrong type): a failed write changes nothing either.
    let _ = cmd(write).query::<Value>(&mut other);
    q::<()>(&mut c, &["MULTI"]);
    queued(&mut c, &["PING"]);
    v(&mut c, &["EXEC"]) != Value::Nil
}

#[test]
fn watch_is_invalidated_only_by_real_changes() {
    let server = Server::start();
    let sets: &[&[&str]] = &[&["SADD", "src", "a", "b"], &["SADD", "dst", "a"]];
    // The member is already in the destination: only the source changes.
    assert!(exec_survives(
        &server,
        "dst",
        sets,
        &["SMOVE", "src", "dst", "a"]
    ));
    assert!(!exec_survives(
        &server,
        "src",
        sets,
        &["SMOVE", "src", "dst", "a"]
    ));
    assert!(!exec_survives(
        &server,
        "dst",
        sets,
        &["SMOVE", "src", "dst", "b"]
    ));
    // Adding members that are there, removing ones that are not.
    assert!(exec_survives(&server, "dst", sets, &["SADD", "dst", "a"]));
    assert!(exec_survives(&server, "dst", sets, &["SREM", "dst", "zz"]));
    assert!(!exec_survives(
        &server,
        "dst",
        sets,
        &["SADD", "dst", "new"]
    ));
    // A failed write changes nothing.
    assert!(exec_survives(&server, "dst", sets, &["LPUSH", "dst", "x"]));
    // A SET that does not set.
    let strings: &[&[&str]] = &[&["SET", "k", "v"]];
    assert!(exec_survives(
        &server,
        "k",
        strings,
        &["SET", "k", "w", "NX"]
    ));
    assert!(!exec_survives(&server, "k", strings, &["SET", "k", "v"]));
}
