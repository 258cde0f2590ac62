//! WAIT and min-replicas-to-write: what a master knows of its replicas'
//! acknowledgements (REPLCONF ACK), on real processes. Every wait is
//! bounded and waits for a condition.

use basalt_tests::client::{err, int, reply};
use basalt_tests::nodes::{
    assert_acked_present, connect, info_int, replica_via_proxy, start_replica, wait_in_sync,
    wait_until, Acked,
};
use basalt_tests::{skip_on_redis, Server};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const SYNC: Duration = Duration::from_secs(30);

#[test]
fn wait_without_replicas_answers_0_and_checks_its_arguments() {
    let master = Server::start();
    let mut m = master.client();
    assert_eq!(reply(&mut m, &["SET", "k", "v"]), "OK");
    assert_eq!(int(&mut m, &["WAIT", "0", "0"]), 0);
    // Nobody acknowledges: the timeout ends it.
    assert_eq!(int(&mut m, &["WAIT", "1", "50"]), 0);
    assert_eq!(
        err(&mut m, &["WAIT", "x", "0"]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(err(&mut m, &["WAIT", "1", "-1"]), "ERR timeout is negative");
    assert_eq!(
        err(&mut m, &["WAIT", "1", "1.5"]),
        "ERR timeout is not an integer or out of range"
    );
    assert!(err(&mut m, &["WAIT", "1"]).starts_with("ERR wrong number of arguments"));
    // Inside MULTI it does not block, even with no timeout.
    assert_eq!(reply(&mut m, &["MULTI"]), "OK");
    assert_eq!(reply(&mut m, &["SET", "k", "w"]), "QUEUED");
    assert_eq!(reply(&mut m, &["WAIT", "1", "0"]), "QUEUED");
    assert_eq!(reply(&mut m, &["EXEC"]), "[OK,0]");
    // A timeout too large for a clock is no timeout, not a crash: a
    // client that leaves ends its WAIT.
    let mut other = master.client();
    let mut pipe = redis::pipe();
    pipe.cmd("WAIT").arg(1).arg("9223372036854775807");
    drop(std::thread::spawn(move || {
        let _ = pipe.query::<redis::Value>(&mut other);
    }));
    assert_eq!(reply(&mut m, &["PING"]), "PONG");
}

#[test]
fn wait_counts_a_replica_that_acknowledged_the_write() {
    skip_on_redis!();
    let master = Server::start();
    let replica = start_replica(&master, &[]);
    wait_in_sync(&master, &replica, SYNC);
    let (mut m, mut r) = (master.client(), replica.client());
    assert_eq!(reply(&mut m, &["SET", "k", "v"]), "OK");
    assert_eq!(int(&mut m, &["WAIT", "1", "0"]), 1);
    assert_eq!(reply(&mut r, &["GET", "k"]), "v");
    // More than there are: the timeout ends it with what there is.
    assert_eq!(reply(&mut m, &["SET", "k", "w"]), "OK");
    assert_eq!(int(&mut m, &["WAIT", "2", "100"]), 1);
    // A script's write is the client's write too.
    assert_eq!(
        reply(
            &mut m,
            &["EVAL", "return redis.call('set', KEYS[1], 'x')", "1", "s"]
        ),
        "OK"
    );
    assert_eq!(int(&mut m, &["WAIT", "1", "0"]), 1);
    assert_eq!(reply(&mut r, &["GET", "s"]), "x");
    // So is a transaction's.
    assert_eq!(reply(&mut m, &["MULTI"]), "OK");
    assert_eq!(reply(&mut m, &["SET", "t", "y"]), "QUEUED");
    assert_eq!(reply(&mut m, &["EXEC"]), "[OK]");
    assert_eq!(int(&mut m, &["WAIT", "1", "0"]), 1);
    assert_eq!(reply(&mut r, &["GET", "t"]), "y");
    assert!(err(&mut r, &["WAIT", "0", "0"])
        .starts_with("ERR WAIT cannot be used with replica instances."));
}

#[test]
fn wait_blocks_until_a_slowed_replica_has_the_write() {
    skip_on_redis!();
    let master = Server::start();
    let (proxy, replica) = replica_via_proxy(&master, &[]);
    wait_in_sync(&master, &replica, SYNC);
    let (mut m, mut r) = (master.client(), replica.client());
    // Each way through the proxy now takes 2 s: the write cannot reach
    // the replica and be acknowledged within 50 ms.
    proxy.delay(Duration::from_secs(2));
    assert_eq!(reply(&mut m, &["SET", "slow", "1"]), "OK");
    assert_eq!(int(&mut m, &["WAIT", "1", "50"]), 0);
    // Meanwhile the server serves others.
    let mut other = master.client();
    assert_eq!(reply(&mut other, &["PING"]), "PONG");
    let blocked = std::thread::spawn(move || int(&mut m, &["WAIT", "1", "0"]));
    wait_until(SYNC, "WAIT to show as a blocked client", || {
        let list = reply(&mut other, &["CLIENT", "LIST"]);
        match list
            .lines()
            .any(|l| l.contains("flags=b") && l.contains("cmd=wait"))
        {
            true => Ok(()),
            false => Err(list),
        }
    });
    assert_eq!(blocked.join().unwrap(), 1);
    // What the master counted, the replica has.
    assert_eq!(reply(&mut r, &["GET", "slow"]), "1");
    proxy.delay(Duration::ZERO);
}

/// Writers that count a SET as safe only once WAIT says a replica has it.
struct GuardedWriters {
    stop: Arc<AtomicBool>,
    safe: Arc<Mutex<Vec<Acked>>>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

fn guarded_writers(master: &Server, writers: usize) -> GuardedWriters {
    let stop = Arc::new(AtomicBool::new(false));
    let safe = Arc::new(Mutex::new(Vec::new()));
    let threads = (0..writers)
        .map(|w| {
            let (stop, safe, url) = (stop.clone(), safe.clone(), master.url());
            std::thread::spawn(move || {
                let Ok(mut c) = redis::Client::open(url).and_then(|c| c.get_connection()) else {
                    return;
                };
                let mut i = 0u64;
                while !stop.load(Ordering::Acquire) {
                    i += 1;
                    let (k, v) = (format!("guarded:{w}:{i}"), format!("v{i}"));
                    if redis::cmd("SET")
                        .arg(&k)
                        .arg(&v)
                        .query::<()>(&mut c)
                        .is_err()
                    {
                        return;
                    }
                    match redis::cmd("WAIT").arg(1).arg(5000).query::<i64>(&mut c) {
                        Ok(n) if n >= 1 => safe.lock().unwrap().push(Acked::Set(k, v)),
                        Ok(_) => {}
                        Err(_) => return,
                    }
                }
            })
        })
        .collect();
    GuardedWriters {
        stop,
        safe,
        threads,
    }
}

#[test]
fn wait_guarded_writes_survive_killing_the_master_and_promoting_the_replica() {
    skip_on_redis!();
    let mut master = Server::start();
    let replica = start_replica(&master, &[]);
    wait_in_sync(&master, &replica, SYNC);
    let GuardedWriters {
        stop,
        safe,
        threads,
    } = guarded_writers(&master, 4);
    wait_until(SYNC, "guarded writes", || {
        match safe.lock().unwrap().len() {
            n if n >= 500 => Ok(()),
            n => Err(format!("{n} guarded writes")),
        }
    });
    master.kill9();
    stop.store(true, Ordering::Release);
    for t in threads {
        t.join().unwrap();
    }
    let mut r = connect(&replica, SYNC);
    assert_eq!(reply(&mut r, &["REPLICAOF", "NO", "ONE"]), "OK");
    let safe = safe.lock().unwrap().clone();
    assert!(safe.len() >= 500);
    assert_acked_present(&mut r, &safe);
}

#[test]
fn min_replicas_to_write_refuses_writes_without_good_replicas() {
    skip_on_redis!();
    let master = Server::start();
    let mut m = master.client();
    assert_eq!(reply(&mut m, &["SET", "x", "some value"]), "OK");
    assert_eq!(
        reply(&mut m, &["CONFIG", "SET", "min-slaves-to-write", "1"]),
        "OK"
    );
    assert_eq!(
        reply(&mut m, &["CONFIG", "GET", "min-replicas-to-write"]),
        "[min-replicas-to-write,1]"
    );
    assert_eq!(
        reply(&mut m, &["CONFIG", "GET", "min-replicas-max-lag"]),
        "[min-replicas-max-lag,10]"
    );
    let refused = "NOREPLICAS Not enough good replicas to write.";
    assert_eq!(err(&mut m, &["SET", "x", "1"]), refused);
    assert_eq!(info_int(&mut m, "replication", "min_slaves_good_slaves"), 0);
    // Reads go on; so do scripts that do not write. As Redis's "not enough
    // good replicas" test: a script declaring writes in its shebang is
    // refused up front, one without a shebang when it writes.
    assert_eq!(reply(&mut m, &["GET", "x"]), "some value");
    let get = "return redis.call('get','x')";
    assert_eq!(
        reply(
            &mut m,
            &["EVAL", &format!("#!lua flags=no-writes\n{get}"), "1", "x"]
        ),
        "some value"
    );
    assert_eq!(reply(&mut m, &["EVAL", get, "1", "x"]), "some value");
    assert_eq!(
        err(&mut m, &["EVAL", &format!("#!lua\n{get}"), "1", "x"]),
        refused
    );
    assert!(err(
        &mut m,
        &["EVAL", "return redis.call('set','x',1)", "1", "x"]
    )
    .starts_with("NOREPLICAS"));
    // In a transaction, a write is refused when queued, and EXEC discards
    // the transaction (as Redis).
    assert_eq!(reply(&mut m, &["MULTI"]), "OK");
    assert_eq!(err(&mut m, &["SET", "x", "1"]), refused);
    assert_eq!(reply(&mut m, &["GET", "x"]), "QUEUED");
    assert_eq!(
        err(&mut m, &["EXEC"]),
        "EXECABORT Transaction discarded because of previous errors."
    );
    // A write queued before the replicas went missing: EXEC discards the
    // transaction whole.
    assert_eq!(
        reply(&mut m, &["CONFIG", "SET", "min-replicas-to-write", "0"]),
        "OK"
    );
    assert_eq!(reply(&mut m, &["MULTI"]), "OK");
    assert_eq!(reply(&mut m, &["SET", "x", "1"]), "QUEUED");
    let mut other = master.client();
    assert_eq!(
        reply(&mut other, &["CONFIG", "SET", "min-replicas-to-write", "1"]),
        "OK"
    );
    assert_eq!(
        err(&mut m, &["EXEC"]),
        format!("EXECABORT Transaction discarded because of: {refused}")
    );
    assert_eq!(reply(&mut m, &["GET", "x"]), "some value");

    // A replica that acknowledges makes writes possible.
    let mut replica = start_replica(&master, &[]);
    wait_until(SYNC, "a good replica", || {
        match info_int(&mut m, "replication", "min_slaves_good_slaves") {
            1 => Ok(()),
            n => Err(format!("{n} good")),
        }
    });
    assert_eq!(reply(&mut m, &["SET", "x", "2"]), "OK");
    assert_eq!(int(&mut m, &["WAIT", "1", "0"]), 1);
    assert_eq!(reply(&mut replica.client(), &["GET", "x"]), "2");

    // Without it, writes are refused again once max-lag has passed.
    assert_eq!(
        reply(&mut m, &["CONFIG", "SET", "min-slaves-max-lag", "1"]),
        "OK"
    );
    replica.kill9();
    wait_until(SYNC, "writes refused again", || {
        match err_or_ok(&mut m, &["SET", "x", "3"]) {
            Some(e) if e == refused => Ok(()),
            other => Err(format!("{other:?}")),
        }
    });
    assert_eq!(info_int(&mut m, "replication", "min_slaves_good_slaves"), 0);
    // 0 turns the check off.
    assert_eq!(
        reply(&mut m, &["CONFIG", "SET", "min-replicas-to-write", "0"]),
        "OK"
    );
    assert_eq!(reply(&mut m, &["SET", "x", "4"]), "OK");
    assert_eq!(info_int(&mut m, "replication", "min_slaves_good_slaves"), 0);
}

fn err_or_ok(c: &mut redis::Connection, args: &[&str]) -> Option<String> {
    let r = reply(c, args);
    (r != "OK").then_some(r)
}
