//! The request path as one path: a blocked command that is served goes
//! through the same rules as any command (WATCH, statistics, slowlog); a
//! handler that panics leaks nothing its connection held; caches and locks
//! behave under races a user can cause.

use basalt_tests::client::{err, int, q, reply};
use basalt_tests::{skip_on_redis, Server};
use redis::{Connection, Value};
use std::thread;
use std::time::{Duration, Instant};

fn wait_until(c: &mut Connection, what: &str, mut done: impl FnMut(&mut Connection) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done(c) {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(10));
    }
}

fn blocked_clients(c: &mut Connection) -> i64 {
    let info: String = q(c, &["INFO", "clients"]);
    info.lines()
        .find_map(|l| l.strip_prefix("blocked_clients:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

fn info_field(c: &mut Connection, section: &str, field: &str) -> Option<String> {
    let info: String = q(c, &["INFO", section]);
    let prefix = format!("{field}:");
    info.lines().find_map(|l| {
        l.strip_prefix(prefix.as_str())
            .map(|v| v.trim().to_string())
    })
}

/// BLMOVE blocks on an empty source; a push serves it, and its write to
/// the destination must abort a transaction that WATCHes the destination.
#[test]
fn a_served_blmove_invalidates_watch_on_its_destination() {
    let server = Server::start();
    let mut watcher = server.client();
    let mut admin = server.client();
    let mut blocked = server.client();
    let waiter = thread::spawn(move || {
        q::<Value>(
            &mut blocked,
            &["BLMOVE", "src", "dst", "LEFT", "RIGHT", "0"],
        )
    });
    wait_until(&mut admin, "BLMOVE to block", |c| blocked_clients(c) == 1);
    q::<()>(&mut watcher, &["WATCH", "dst"]);
    q::<i64>(&mut admin, &["RPUSH", "src", "moved"]);
    assert_eq!(waiter.join().unwrap(), Value::BulkString(b"moved".to_vec()));
    q::<()>(&mut watcher, &["MULTI"]);
    q::<()>(&mut watcher, &["SET", "marker", "1"]);
    let exec: Value = q(&mut watcher, &["EXEC"]);
    assert_eq!(exec, Value::Nil, "EXEC must abort: dst changed after WATCH");
    assert_eq!(reply(&mut admin, &["GET", "marker"]), "nil");
    assert_eq!(reply(&mut admin, &["LRANGE", "dst", "0", "-1"]), "[moved]");
}

/// A served blocked command is counted once in INFO commandstats and
/// logged in the slowlog, like any other command.
#[test]
fn a_served_blocked_command_is_counted_and_slowlogged() {
    let server = Server::start();
    let mut admin = server.client();
    q::<()>(
        &mut admin,
        &["CONFIG", "SET", "slowlog-log-slower-than", "0"],
    );
    q::<()>(&mut admin, &["CONFIG", "RESETSTAT"]);
    q::<()>(&mut admin, &["SLOWLOG", "RESET"]);
    let mut blocked = server.client();
    let waiter =
        thread::spawn(move || q::<Value>(&mut blocked, &["BRPOPLPUSH", "from", "to", "0"]));
    wait_until(&mut admin, "BRPOPLPUSH to block", |c| {
        blocked_clients(c) == 1
    });
    q::<i64>(&mut admin, &["LPUSH", "from", "x"]);
    assert_eq!(waiter.join().unwrap(), Value::BulkString(b"x".to_vec()));
    let stat = info_field(&mut admin, "commandstats", "cmdstat_brpoplpush")
        .expect("cmdstat_brpoplpush in INFO commandstats");
    assert!(stat.starts_with("calls=1,"), "{stat}");
    let log: Value = q(&mut admin, &["SLOWLOG", "GET", "-1"]);
    let Value::Array(entries) = log else {
        panic!("SLOWLOG GET: {log:?}")
    };
    let logged = entries.iter().any(|e| match e {
        Value::Array(fields) => matches!(fields.get(3),
            Some(Value::Array(args)) if args.first() == Some(&Value::BulkString(b"BRPOPLPUSH".to_vec()))
                || args.first() == Some(&Value::BulkString(b"brpoplpush".to_vec()))),
        _ => false,
    });
    assert!(logged, "no BRPOPLPUSH in the slowlog: {entries:?}");
}

/// A handler that panics drops its connection and nothing else: the
/// client's `maxclients` slot comes back, its open transaction is
/// discarded with its locks, and the server goes on.
#[test]
fn a_panicking_handler_leaks_nothing() {
    skip_on_redis!();
    let server = Server::start();
    let mut admin = server.client();
    q::<()>(&mut admin, &["CONFIG", "SET", "maxclients", "3"]);
    q::<()>(&mut admin, &["SET", "k", "before"]);
    for _ in 0..5 {
        let mut victim = server.client();
        q::<()>(&mut victim, &["WATCH", "k"]);
        q::<()>(&mut victim, &["MULTI"]);
        q::<()>(&mut victim, &["SET", "k", "inside"]);
        q::<()>(&mut victim, &["DEBUG", "HANDLER-PANIC"]);
        // EXEC runs the queued SET, then the panicking DEBUG, inside one
        // engine transaction: the connection is dropped.
        assert!(redis::cmd("EXEC").query::<Value>(&mut victim).is_err());
    }
    // Five panicked connections later, two more still fit under 3.
    wait_until(&mut admin, "the panicked clients to go", |c| {
        let list: String = q(c, &["CLIENT", "LIST"]);
        list.lines().count() == 1
    });
    let mut a = server.client();
    let mut b = server.client();
    assert_eq!(reply(&mut a, &["PING"]), "PONG");
    assert_eq!(reply(&mut b, &["PING"]), "PONG");
    // The transaction's write was discarded and its lock released.
    assert_eq!(reply(&mut a, &["GET", "k"]), "before");
    q::<()>(&mut b, &["SET", "k", "after"]);
    assert_eq!(reply(&mut a, &["GET", "k"]), "after");
}

/// EVAL adds a script to the cache and runs it; SCRIPT FLUSH on another
/// connection may empty the cache in between. Every EVAL must still run.
#[test]
fn eval_races_script_flush() {
    let server = Server::start();
    let mut flusher = server.client();
    let mut evaluator = server.client();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop2 = stop.clone();
    let flushes = thread::spawn(move || {
        let mut n = 0;
        while !stop2.load(std::sync::atomic::Ordering::Relaxed) {
            q::<()>(&mut flusher, &["SCRIPT", "FLUSH"]);
            n += 1;
        }
        n
    });
    for i in 0..2000 {
        let script = format!("return {i}");
        assert_eq!(int(&mut evaluator, &["EVAL", &script, "0"]), i);
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(flushes.join().unwrap() > 0);
    assert_eq!(reply(&mut evaluator, &["PING"]), "PONG");
}

/// A script that touches a key it did not declare, while another script
/// holds that key, gets an error for that command instead of running it
/// without the lock; INFO counts it.
#[test]
fn an_undeclared_key_held_elsewhere_is_refused_not_used_unlocked() {
    skip_on_redis!();
    let server = Server::start();
    let mut holder = server.client();
    let mut intruder = server.client();
    let mut admin = server.client();
    q::<()>(&mut admin, &["SET", "k", "0"]);
    // Holds k (declared) for about 3 s, under lua-time-limit (5 s).
    let hold = thread::spawn(move || {
        q::<Value>(
            &mut holder,
            &[
                "EVAL",
                "redis.call('SET', KEYS[1], 'held') \
                 local t = redis.call('TIME') \
                 local start = t[1] * 1000000 + t[2] \
                 repeat t = redis.call('TIME') until t[1] * 1000000 + t[2] - start > 3000000 \
                 return 1",
                "1",
                "k",
            ],
        )
    });
    wait_until(&mut admin, "the holding script to start", |c| {
        let list: String = q(c, &["CLIENT", "LIST"]);
        list.contains("cmd=eval")
    });
    // CLIENT LIST shows EVAL a moment before the script locks its keys.
    thread::sleep(Duration::from_millis(200));
    let refused = err(
        &mut intruder,
        &["EVAL", "return redis.call('SET', 'k', 'intruder')", "0"],
    );
    assert!(refused.contains("did not declare"), "{refused}");
    assert_eq!(hold.join().unwrap(), Value::Int(1));
    assert_eq!(reply(&mut admin, &["GET", "k"]), "held");
    let timeouts = info_field(&mut admin, "stats", "undeclared_key_lock_timeouts").unwrap();
    assert!(timeouts.parse::<u64>().unwrap() >= 1, "{timeouts}");
}

/// A script whose last run was quick runs inline on its connection's
/// worker. When it loops this time, it must not hold up the connections
/// that share that worker, nor SCRIPT KILL: it hands them to another
/// thread within milliseconds.
#[test]
fn a_quick_script_that_turns_long_does_not_stop_other_connections() {
    // Redis answers BUSY to every other client while a script is busy.
    skip_on_redis!();
    let server = Server::start();
    let mut c = server.client();
    q::<()>(&mut c, &["CONFIG", "SET", "lua-time-limit", "100"]);
    let script = "if ARGV[1] == 'loop' then while true do end end return 1";
    for _ in 0..3 {
        assert_eq!(int(&mut c, &["EVAL", script, "0", "once"]), 1);
    }
    // Enough connections that some share the looping script's worker.
    let mut others: Vec<Connection> = (0..8).map(|_| server.client()).collect();
    for o in &mut others {
        o.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        assert_eq!(reply(o, &["PING"]), "PONG");
    }
    let looping = thread::spawn(move || {
        redis::cmd("EVAL")
            .arg(script)
            .arg(0)
            .arg("loop")
            .query::<Value>(&mut c)
            .map_err(|e| e.detail().unwrap_or("").to_string())
    });
    wait_until(&mut others[0], "the script to run", |o| {
        let list: String = q(o, &["CLIENT", "LIST"]);
        list.lines().any(|l| l.contains("cmd=eval"))
    });
    thread::sleep(Duration::from_millis(300));
    for (i, o) in others.iter_mut().enumerate() {
        let pong = redis::cmd("PING").query::<String>(o);
        assert_eq!(
            pong.as_deref().ok(),
            Some("PONG"),
            "connection {i}: {pong:?}"
        );
    }
    assert_eq!(q::<String>(&mut others[1], &["SCRIPT", "KILL"]), "OK");
    let killed = looping.join().unwrap().unwrap_err();
    assert!(killed.contains("killed"), "{killed}");
}

/// CLIENT LIST names the command the client sent, not the ones EXEC or a
/// script ran for it.
#[test]
fn client_list_shows_exec_and_eval_not_what_they_ran() {
    let server = Server::start();
    let mut c = server.client();
    q::<()>(&mut c, &["CLIENT", "SETNAME", "me"]);
    q::<()>(&mut c, &["MULTI"]);
    q::<()>(&mut c, &["SET", "k", "1"]);
    q::<Value>(&mut c, &["EXEC"]);
    let mut admin = server.client();
    let mine = |admin: &mut Connection| -> String {
        let list: String = q(admin, &["CLIENT", "LIST"]);
        list.lines()
            .find(|l| l.contains("name=me "))
            .expect("my client")
            .to_string()
    };
    assert!(
        mine(&mut admin).contains(" cmd=exec "),
        "{}",
        mine(&mut admin)
    );
    q::<Value>(
        &mut c,
        &["EVAL", "return redis.call('GET', KEYS[1])", "1", "k"],
    );
    assert!(
        mine(&mut admin).contains(" cmd=eval "),
        "{}",
        mine(&mut admin)
    );
}

/// Replies that acknowledge writes wait for the WAL to reach the OS (INFO
/// persistence counts them in `wal_flush_batches`); replies to commands
/// that wrote nothing do not, even those that may write (PUBLISH, a
/// read-only script, an EXEC of reads).
#[test]
fn only_replies_that_acknowledge_writes_wait_for_the_wal() {
    skip_on_redis!();
    let server = Server::start();
    let mut c = server.client();
    let batches = |c: &mut Connection| -> i64 {
        info_field(c, "persistence", "wal_flush_batches")
            .and_then(|v| v.parse().ok())
            .expect("wal_flush_batches")
    };
    // Scripts are stored on first use (Kvrocks' lua_f_<sha>): a write.
    let read = "return redis.call('get', KEYS[1])";
    q::<Value>(&mut c, &["EVAL", read, "1", "k"]);
    let start = batches(&mut c);
    q::<()>(&mut c, &["SET", "k", "v"]);
    assert_eq!(batches(&mut c), start + 1, "SET");
    q::<i64>(&mut c, &["PUBLISH", "ch", "m"]);
    q::<Value>(&mut c, &["EVAL", read, "1", "k"]);
    q::<()>(&mut c, &["MULTI"]);
    q::<Value>(&mut c, &["GET", "k"]);
    q::<Value>(&mut c, &["EXEC"]);
    assert_eq!(
        batches(&mut c),
        start + 1,
        "PUBLISH, a read-only EVAL, EXEC of a GET"
    );
    let write = "return redis.call('set', KEYS[1], 'w')";
    q::<Value>(&mut c, &["EVAL", write, "1", "k"]);
    assert_eq!(batches(&mut c), start + 2, "EVAL that writes");
    q::<()>(&mut c, &["MULTI"]);
    q::<Value>(&mut c, &["SET", "k", "x"]);
    q::<Value>(&mut c, &["EXEC"]);
    assert_eq!(batches(&mut c), start + 3, "EXEC of a SET");
}

/// EXEC is not in the slowlog (the commands it ran are), as Redis's
/// `skip_slowlog` flag says.
#[test]
fn exec_is_not_slowlogged_but_what_it_ran_is() {
    let server = Server::start();
    let mut c = server.client();
    q::<()>(&mut c, &["CONFIG", "SET", "slowlog-log-slower-than", "0"]);
    q::<()>(&mut c, &["SLOWLOG", "RESET"]);
    q::<()>(&mut c, &["MULTI"]);
    q::<()>(&mut c, &["SET", "k", "v"]);
    q::<Value>(&mut c, &["EXEC"]);
    let log: Value = q(&mut c, &["SLOWLOG", "GET", "-1"]);
    let names: Vec<String> = match log {
        Value::Array(entries) => entries
            .iter()
            .filter_map(|e| match e {
                Value::Array(fields) => match fields.get(3) {
                    Some(Value::Array(args)) => match args.first() {
                        Some(Value::BulkString(b)) => {
                            Some(String::from_utf8_lossy(b).to_lowercase())
                        }
                        _ => None,
                    },
                    _ => None,
                },
                _ => None,
            })
            .collect(),
        other => panic!("SLOWLOG GET: {other:?}"),
    };
    assert!(names.contains(&"set".to_string()), "{names:?}");
    assert!(!names.contains(&"exec".to_string()), "{names:?}");
}
