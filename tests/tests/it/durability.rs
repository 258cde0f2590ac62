//! Durability (Basalt only; the reference Redis runs without persistence):
//! data survives SIGTERM and kill -9, and no acknowledged write is lost
//! when the process is killed under concurrent writers.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use basalt_tests::{skip_on_redis, Server};

use crate::protocol::{assert_server_ok, Raw};

fn set(c: &mut Raw, k: &str, v: &[u8]) {
    assert_eq!(c.cmd(&[b"SET".as_slice(), k.as_bytes(), v]), "+OK\r\n");
}

/// A mix of values worth checking after a restart.
fn sample_values() -> Vec<(String, Vec<u8>)> {
    let mut v = vec![
        ("empty".to_string(), Vec::new()),
        ("binary".to_string(), b"\x00\r\n\xff\xfe*1\r\n".to_vec()),
        (
            "large".to_string(),
            (0..1_000_000u32).map(|i| i as u8).collect(),
        ),
    ];
    for i in 0..200 {
        v.push((format!("key:{i}"), format!("value-{i}").into_bytes()));
    }
    v
}

fn check_values(c: &mut Raw, values: &[(String, Vec<u8>)], when: &str) {
    for (k, want) in values {
        let got = c.val(&["GET", k.as_str()]);
        assert_eq!(
            got,
            crate::protocol::R::Bulk(want.clone()),
            "{k} after {when}"
        );
    }
}

#[test]
fn data_survives_sigterm_and_kill9() {
    skip_on_redis!();
    let mut server = Server::start();
    let values = sample_values();
    let mut c = Raw::connect(server.port);
    for (k, v) in &values {
        set(&mut c, k, v);
    }
    assert_eq!(c.cmd(&["SET", "ttl", "x", "EX", "1000"]), "+OK\r\n");
    assert_eq!(c.cmd(&["SET", "gone", "x"]), "+OK\r\n");
    assert_eq!(c.cmd(&["DEL", "gone"]), ":1\r\n");
    drop(c);

    let status = server.terminate().expect("exit status");
    assert!(status.success(), "SIGTERM exit status {status}");
    server.restart();
    let mut c = Raw::connect(server.port);
    check_values(&mut c, &values, "SIGTERM");
    let ttl = c.val(&["TTL", "ttl"]).int();
    assert!((990..=1000).contains(&ttl), "TTL after restart {ttl}");
    assert_eq!(c.cmd(&["EXISTS", "gone"]), ":0\r\n");

    // Overwrite some, then kill -9 right after the acknowledgement.
    set(&mut c, "key:0", b"changed");
    assert_eq!(c.cmd(&["DEL", "key:1"]), ":1\r\n");
    assert_eq!(c.cmd(&["INCR", "counter"]), ":1\r\n");
    server.restart();
    let mut c = Raw::connect(server.port);
    assert_eq!(c.cmd(&["GET", "key:0"]), "$7\r\nchanged\r\n");
    assert_eq!(c.cmd(&["EXISTS", "key:1"]), ":0\r\n");
    assert_eq!(c.cmd(&["GET", "counter"]), "$1\r\n1\r\n");
    let untouched: Vec<_> = values
        .iter()
        .filter(|(k, _)| k != "key:0" && k != "key:1")
        .cloned()
        .collect();
    check_values(&mut c, &untouched, "kill -9");
    let dbsize = c.val(&["DBSIZE"]).int();
    assert_eq!(dbsize, values.len() as i64 - 1 + 2, "DBSIZE after kill -9");
}

/// What one writer thread got acknowledged.
struct Acked {
    last_incr: i64,
    last_set: u64,
}

/// Runs `threads` writers (INCR on their own counter, SET on fresh keys),
/// kills the server with SIGKILL after `run_for`, restarts it, and checks
/// that every acknowledged write is there.
fn kill9_under_writers(server: &mut Server, threads: usize, run_for: Duration) {
    let stop = Arc::new(AtomicBool::new(false));
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let url = server.url();
            let stop = stop.clone();
            thread::spawn(move || {
                let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
                let mut acked = Acked {
                    last_incr: 0,
                    last_set: 0,
                };
                for i in 1..=1_000_000u64 {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    match redis::cmd("INCR")
                        .arg(format!("ctr_{t}"))
                        .query::<i64>(&mut c)
                    {
                        Ok(v) => acked.last_incr = v,
                        Err(_) => break,
                    }
                    let set = redis::cmd("SET")
                        .arg(format!("k_{t}_{i}"))
                        .arg(i)
                        .query::<()>(&mut c);
                    match set {
                        Ok(()) => acked.last_set = i,
                        Err(_) => break,
                    }
                }
                acked
            })
        })
        .collect();
    thread::sleep(run_for);
    server.kill9();
    stop.store(true, Ordering::Relaxed);
    let acked: Vec<Acked> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let total: u64 = acked.iter().map(|a| a.last_set).sum();
    assert!(total > 0, "no write was acknowledged before the kill");
    let finished = acked.iter().filter(|a| a.last_set == 1_000_000).count();
    eprintln!("kill -9 after {total} acknowledged SETs; {finished} writers had finished");

    server.restart();
    let mut c = server.client();
    for (t, a) in acked.iter().enumerate() {
        let v: Option<i64> = redis::cmd("GET")
            .arg(format!("ctr_{t}"))
            .query(&mut c)
            .unwrap();
        let v = v.unwrap_or(0);
        assert!(
            v >= a.last_incr && v <= a.last_incr + 1,
            "writer {t}: counter {v} after restart, last acknowledged INCR {}",
            a.last_incr
        );
        let keys: Vec<String> = (1..=a.last_set).map(|i| format!("k_{t}_{i}")).collect();
        for (n, chunk) in keys.chunks(500).enumerate() {
            let got: Vec<Option<u64>> = redis::cmd("MGET").arg(chunk).query(&mut c).unwrap();
            for (j, g) in got.iter().enumerate() {
                let i = (n * 500 + j + 1) as u64;
                assert_eq!(
                    *g,
                    Some(i),
                    "writer {t}: acknowledged SET k_{t}_{i} lost (last acked {})",
                    a.last_set
                );
            }
        }
    }
    assert_server_ok(server.port);
}

#[test]
fn kill9_loses_no_acknowledged_write_under_concurrent_writers() {
    skip_on_redis!();
    let mut server = Server::start();
    kill9_under_writers(&mut server, 4, Duration::from_millis(300));
    // And again on the recovered data.
    kill9_under_writers(&mut server, 4, Duration::from_millis(300));
}

#[test]
fn every_appendfsync_policy_keeps_acknowledged_writes() {
    skip_on_redis!();
    for policy in ["always", "everysec", "no"] {
        let mut server = Server::start_with(&["--appendfsync", policy]);
        let mut c = Raw::connect(server.port);
        assert_eq!(
            c.cmd(&["CONFIG", "GET", "appendfsync"]),
            format!(
                "*2\r\n$11\r\nappendfsync\r\n${}\r\n{policy}\r\n",
                policy.len()
            )
        );
        drop(c);
        // A process crash (not a power loss) loses nothing, even with `no`.
        kill9_under_writers(&mut server, 2, Duration::from_millis(300));
    }
}

#[test]
fn sigterm_and_sigint_exit_cleanly_with_clients_connected() {
    skip_on_redis!();
    for signal in [libc::SIGTERM, libc::SIGINT] {
        let mut server = Server::start();
        let mut idle = Raw::connect(server.port);
        idle.assert_alive();
        // A client in the middle of a request must not hold up the exit.
        let mut half = Raw::connect(server.port);
        half.send(b"*3\r\n$3\r\nSET\r\n");
        let mut c = Raw::connect(server.port);
        assert_eq!(c.cmd(&["SET", "k", "v"]), "+OK\r\n");
        unsafe {
            libc::kill(server.pid() as i32, signal);
        }
        let status = server
            .wait_exit(Duration::from_secs(30))
            .unwrap_or_else(|| panic!("still running 30 s after signal {signal}"));
        assert!(status.success(), "signal {signal}: exit status {status}");
        idle.assert_closed("after the server exited");
        server.restart();
        let mut c = Raw::connect(server.port);
        assert_eq!(c.cmd(&["GET", "k"]), "$1\r\nv\r\n");
    }
}
