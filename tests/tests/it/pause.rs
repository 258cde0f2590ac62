//! CLIENT PAUSE WRITE|ALL and UNPAUSE, with Redis's rules for what a
//! write pause holds back.

use basalt_tests::client::{err, q};
use basalt_tests::Server;
use redis::{Connection, Value};
use std::thread;
use std::time::{Duration, Instant};

fn info_int(c: &mut Connection, section: &str, field: &str) -> i64 {
    let info: String = q(c, &["INFO", section]);
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in INFO {section}"))
}

fn wait_for(c: &mut Connection, what: &str, mut done: impl FnMut(&mut Connection) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done(c) {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(10));
    }
}

/// Runs `args` on a new connection in a thread; returns its reply.
fn spawn(server: &Server, args: &[&str]) -> thread::JoinHandle<Value> {
    let mut c = server.client();
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    thread::spawn(move || {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        q(&mut c, &refs)
    })
}

#[test]
fn write_pause_holds_writes_until_unpause() {
    let server = Server::start();
    let mut admin = server.client();
    q::<()>(&mut admin, &["SET", "k", "v"]);
    q::<()>(&mut admin, &["FUNCTION", "LOAD", "#!lua name=lib\nredis.register_function{function_name='ro', callback=function() return 'ro' end, flags={'no-writes'}}"]);
    assert_eq!(
        q::<String>(&mut admin, &["CLIENT", "PAUSE", "100000", "WRITE"]),
        "OK"
    );

    // Reads, read-only scripts and EXEC of reads go on.
    let mut reader = server.client();
    assert_eq!(q::<String>(&mut reader, &["GET", "k"]), "v");
    assert_eq!(q::<String>(&mut reader, &["PING"]), "PONG");
    assert_eq!(
        q::<String>(
            &mut reader,
            &["EVAL", "#!lua flags=no-writes\nreturn 'x'", "0"]
        ),
        "x"
    );
    assert_eq!(q::<String>(&mut reader, &["FCALL", "ro", "0"]), "ro");
    q::<()>(&mut reader, &["MULTI"]);
    q::<()>(&mut reader, &["GET", "k"]);
    assert_eq!(
        q::<Vec<String>>(&mut reader, &["EXEC"]),
        vec!["v".to_string()]
    );
    assert_eq!(info_int(&mut admin, "clients", "blocked_clients"), 0);

    // Writes, PUBLISH and scripts that may write wait.
    let set = spawn(&server, &["SET", "k", "w"]);
    let publish = spawn(&server, &["PUBLISH", "ch", "m"]);
    let eval = spawn(&server, &["EVAL", "return 1", "0"]);
    wait_for(&mut admin, "3 held clients", |c| {
        info_int(c, "clients", "blocked_clients") == 3
    });
    assert_eq!(q::<String>(&mut admin, &["GET", "k"]), "v");
    // A command with the wrong arity is answered at once.
    assert!(err(&mut reader, &["SET", "k"]).starts_with("ERR wrong number of arguments"));

    assert_eq!(q::<String>(&mut admin, &["CLIENT", "UNPAUSE"]), "OK");
    assert_eq!(set.join().unwrap(), Value::Okay);
    assert_eq!(publish.join().unwrap(), Value::Int(0));
    assert_eq!(eval.join().unwrap(), Value::Int(1));
    assert_eq!(q::<String>(&mut admin, &["GET", "k"]), "w");
}

#[test]
fn exec_of_writes_waits_and_all_pause_ends_at_its_timeout() {
    let server = Server::start();
    let mut admin = server.client();
    let mut tx = server.client();
    q::<()>(&mut tx, &["MULTI"]);
    q::<()>(&mut tx, &["SET", "k", "1"]);
    q::<()>(&mut admin, &["CLIENT", "PAUSE", "100000", "WRITE"]);
    let exec = thread::spawn(move || q::<Value>(&mut tx, &["EXEC"]));
    wait_for(&mut admin, "a held EXEC", |c| {
        info_int(c, "clients", "blocked_clients") == 1
    });
    q::<()>(&mut admin, &["CLIENT", "UNPAUSE"]);
    assert_eq!(exec.join().unwrap(), Value::Array(vec![Value::Okay]));

    // ALL holds everything, reads too, until the timeout.
    q::<()>(&mut admin, &["CLIENT", "PAUSE", "300", "ALL"]);
    let started = Instant::now();
    let ping = spawn(&server, &["PING"]);
    assert_eq!(ping.join().unwrap(), Value::SimpleString("PONG".into()));
    assert!(
        started.elapsed() >= Duration::from_millis(200),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn pause_errors_and_expiry() {
    let server = Server::start();
    let mut c = server.client();
    assert_eq!(
        err(&mut c, &["CLIENT", "PAUSE", "100", "MAYBE"]),
        "ERR CLIENT PAUSE mode must be WRITE or ALL"
    );
    assert_eq!(
        err(&mut c, &["CLIENT", "PAUSE", "-1"]),
        "ERR timeout is negative"
    );
    // What a write pause lets through may not propagate: a read-only
    // script cannot PUBLISH.
    for cmd in ["EVAL", "EVAL_RO"] {
        assert!(err(
            &mut c,
            &[
                cmd,
                "#!lua flags=no-writes\nreturn redis.call('publish', 'ch', 'm')",
                "0"
            ]
        )
        .starts_with("ERR Write commands are not allowed from read-only scripts. script:"));
    }
    assert_eq!(
        err(&mut c, &["CLIENT", "PAUSE", "soon"]),
        "ERR timeout is not an integer or out of range"
    );

    // The active expiration cycle deletes nothing while clients are paused.
    for i in 0..20 {
        q::<()>(&mut c, &["SET", &format!("t{i}"), "v", "PX", "10"]);
    }
    q::<()>(&mut c, &["CLIENT", "PAUSE", "100000", "WRITE"]);
    thread::sleep(Duration::from_millis(500));
    assert_eq!(info_int(&mut c, "stats", "expired_keys"), 0);
    q::<()>(&mut c, &["CLIENT", "UNPAUSE"]);
    wait_for(&mut c, "the expiration cycle", |c| {
        info_int(c, "stats", "expired_keys") == 20
    });
}
