//! Blocking list and sorted-set commands: waiters are served in the order
//! they blocked, timeouts, CLIENT UNBLOCK, and no element is lost to a
//! client that went away.

use basalt_tests::Server;
use redis::{Connection, Value};
use std::thread;
use std::time::{Duration, Instant};

fn q(c: &mut Connection, args: &[&str]) -> Value {
    let mut cmd = redis::cmd(args[0]);
    for a in &args[1..] {
        cmd.arg(*a);
    }
    cmd.query(c).unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

fn bulk(s: &str) -> Value {
    Value::BulkString(s.as_bytes().to_vec())
}

/// Runs a blocking command on its own connection in a thread.
fn spawn_blocked(server: &Server, args: &'static [&'static str]) -> thread::JoinHandle<Value> {
    let mut c = server.client();
    thread::spawn(move || q(&mut c, args))
}

/// Waits until `n` clients are blocked (INFO clients: blocked_clients).
/// CLIENT LIST's `cmd=` would not do: it keeps showing a connection's last
/// command after that command has ended.
pub(crate) fn wait_blocked(c: &mut Connection, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let info: String = redis::cmd("INFO").arg("clients").query(c).unwrap();
        let blocked = info
            .lines()
            .find_map(|l| l.strip_prefix("blocked_clients:"))
            .and_then(|v| v.trim().parse::<usize>().ok())
            .unwrap_or(0);
        if blocked >= n {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{n} clients never blocked:\n{info}"
        );
        thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn waiters_are_served_in_the_order_they_blocked() {
    let server = Server::start();
    let mut c = server.client();
    let first = spawn_blocked(&server, &["BLPOP", "q", "0"]);
    wait_blocked(&mut c, 1);
    let second = spawn_blocked(&server, &["BLPOP", "other", "q", "0"]);
    wait_blocked(&mut c, 2);
    assert_eq!(q(&mut c, &["RPUSH", "q", "a", "b", "c"]), Value::Int(3));
    assert_eq!(
        first.join().unwrap(),
        Value::Array(vec![bulk("q"), bulk("a")])
    );
    assert_eq!(
        second.join().unwrap(),
        Value::Array(vec![bulk("q"), bulk("b")])
    );
    assert_eq!(
        q(&mut c, &["LRANGE", "q", "0", "-1"]),
        Value::Array(vec![bulk("c")])
    );
}

#[test]
fn timeouts_return_nil_after_the_timeout() {
    let server = Server::start();
    let mut c = server.client();
    for (args, nil) in [
        (&["BLPOP", "none", "0.2"][..], Value::Nil),
        (&["BRPOP", "none", "0.2"], Value::Nil),
        (
            &["BLMOVE", "none", "dst", "LEFT", "RIGHT", "0.2"],
            Value::Nil,
        ),
        (&["BRPOPLPUSH", "none", "dst", "0.2"], Value::Nil),
        (&["BLMPOP", "0.2", "1", "none", "LEFT"], Value::Nil),
        (&["BZPOPMIN", "none", "0.2"], Value::Nil),
        (&["BZMPOP", "0.2", "1", "none", "MIN"], Value::Nil),
    ] {
        let t0 = Instant::now();
        assert_eq!(q(&mut c, args), nil, "{args:?}");
        let took = t0.elapsed();
        assert!(
            took >= Duration::from_millis(190),
            "{args:?} returned after {took:?}"
        );
        assert!(took < Duration::from_secs(3), "{args:?} took {took:?}");
    }
    // The connection is usable afterwards.
    assert_eq!(q(&mut c, &["PING"]), Value::SimpleString("PONG".into()));
}

#[test]
fn immediate_answers_and_errors() {
    let server = Server::start();
    let mut c = server.client();
    q(&mut c, &["RPUSH", "l", "1", "2", "3"]);
    assert_eq!(
        q(&mut c, &["BLPOP", "empty", "l", "0"]),
        Value::Array(vec![bulk("l"), bulk("1")])
    );
    assert_eq!(
        q(&mut c, &["BRPOP", "l", "0"]),
        Value::Array(vec![bulk("l"), bulk("3")])
    );
    assert_eq!(
        q(&mut c, &["BLMOVE", "l", "l2", "LEFT", "LEFT", "0"]),
        bulk("2")
    );
    assert_eq!(
        q(
            &mut c,
            &["BLMPOP", "0", "2", "nothing", "l2", "RIGHT", "COUNT", "5"]
        ),
        Value::Array(vec![bulk("l2"), Value::Array(vec![bulk("2")])])
    );
    q(&mut c, &["ZADD", "z", "1", "a", "2", "b", "3", "c"]);
    assert_eq!(
        q(&mut c, &["BZPOPMAX", "z", "0"]),
        Value::Array(vec![bulk("z"), bulk("c"), bulk("3")])
    );
    assert_eq!(
        q(&mut c, &["BZMPOP", "0", "1", "z", "MIN", "COUNT", "1"]),
        Value::Array(vec![
            bulk("z"),
            Value::Array(vec![Value::Array(vec![bulk("a"), bulk("1")])])
        ])
    );
    q(&mut c, &["SET", "s", "x"]);
    let err = redis::cmd("BLPOP")
        .arg("s")
        .arg("0")
        .query::<Value>(&mut c)
        .unwrap_err();
    assert_eq!(err.code(), Some("WRONGTYPE"));
    for (args, msg) in [
        (
            &["BLPOP", "k", "abc"][..],
            "timeout is not a float or out of range",
        ),
        (&["BLPOP", "k", "-1"], "timeout is negative"),
        // Too large for a Duration once: it used to panic the worker.
        (&["BZPOPMAX", "k", "1e308"], "timeout is out of range"),
        (
            &["BLMPOP", "0", "0", "k", "LEFT"],
            "numkeys should be greater than 0",
        ),
        (
            &["BLMPOP", "0", "1", "k", "LEFT", "COUNT", "0"],
            "count should be greater than 0",
        ),
        (&["BLMOVE", "a", "b", "UP", "LEFT", "0"], "syntax error"),
    ] {
        let mut cmd = redis::cmd(args[0]);
        for a in &args[1..] {
            cmd.arg(*a);
        }
        let err = cmd.query::<Value>(&mut c).unwrap_err();
        assert_eq!(err.detail(), Some(msg), "{args:?}");
    }
}

#[test]
fn blmove_feeds_a_client_blocked_on_its_destination() {
    let server = Server::start();
    let mut c = server.client();
    let on_dst = spawn_blocked(&server, &["BLPOP", "dst", "0"]);
    wait_blocked(&mut c, 1);
    let mover = spawn_blocked(&server, &["BLMOVE", "src", "dst", "LEFT", "RIGHT", "0"]);
    wait_blocked(&mut c, 2);
    q(&mut c, &["LPUSH", "src", "x"]);
    assert_eq!(mover.join().unwrap(), bulk("x"));
    assert_eq!(
        on_dst.join().unwrap(),
        Value::Array(vec![bulk("dst"), bulk("x")])
    );
    assert_eq!(q(&mut c, &["EXISTS", "src", "dst"]), Value::Int(0));
}

/// Redis answers a served BRPOPLPUSH/BLMOVE whose destination holds another
/// type with WRONGTYPE and leaves the element in the source; a source that
/// turns into another type keeps the client waiting instead.
#[test]
fn served_move_to_a_wrong_typed_destination_gets_wrongtype() {
    let server = Server::start();
    let mut c = server.client();
    for args in [
        &["BRPOPLPUSH", "blist", "target", "0"][..],
        &["BLMOVE", "blist", "target", "LEFT", "RIGHT", "0"][..],
    ] {
        q(&mut c, &["DEL", "blist", "target"]);
        q(&mut c, &["SET", "target", "nolist"]);
        let mut blocked = server.client();
        // Before the fix the client was never answered: fail, don't hang.
        blocked
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut cmd = redis::cmd(args[0]);
        for a in &args[1..] {
            cmd.arg(*a);
        }
        let waiter = thread::spawn(move || cmd.query::<Value>(&mut blocked));
        wait_blocked(&mut c, 1);
        q(&mut c, &["RPUSH", "blist", "foo"]);
        let err = waiter.join().unwrap().unwrap_err();
        assert_eq!(err.code(), Some("WRONGTYPE"), "{args:?}");
        assert_eq!(
            q(&mut c, &["LRANGE", "blist", "0", "-1"]),
            Value::Array(vec![bulk("foo")])
        );
        assert_eq!(q(&mut c, &["GET", "target"]), bulk("nolist"));
    }

    // A wrong-typed source does not end the wait.
    q(&mut c, &["DEL", "blist", "target"]);
    let mover = spawn_blocked(&server, &["BRPOPLPUSH", "blist", "target", "0"]);
    wait_blocked(&mut c, 1);
    q(&mut c, &["SET", "blist", "astring"]);
    q(&mut c, &["DEL", "blist"]);
    q(&mut c, &["RPUSH", "blist", "bar"]);
    assert_eq!(mover.join().unwrap(), bulk("bar"));
    assert_eq!(
        q(&mut c, &["LRANGE", "target", "0", "-1"]),
        Value::Array(vec![bulk("bar")])
    );
}

#[test]
fn a_client_that_went_away_loses_no_element() {
    let server = Server::start();
    let mut c = server.client();
    {
        let mut raw = server.raw();
        use std::io::Write;
        raw.write_all(b"BLPOP gone 0\r\n").unwrap();
        wait_blocked(&mut c, 1);
    } // the blocked client disconnects here
    thread::sleep(Duration::from_millis(200));
    q(&mut c, &["RPUSH", "gone", "kept"]);
    assert_eq!(
        q(&mut c, &["LRANGE", "gone", "0", "-1"]),
        Value::Array(vec![bulk("kept")])
    );
    // Same after a timeout.
    assert_eq!(q(&mut c, &["BLPOP", "later", "0.1"]), Value::Nil);
    q(&mut c, &["RPUSH", "later", "kept"]);
    assert_eq!(q(&mut c, &["LLEN", "later"]), Value::Int(1));
}

#[test]
fn client_unblock_with_timeout_or_error() {
    let server = Server::start();
    let mut c = server.client();
    let mut blocked = server.client();
    let id: i64 = redis::cmd("CLIENT").arg("ID").query(&mut blocked).unwrap();
    let waiter = thread::spawn(move || {
        redis::cmd("BLPOP")
            .arg("k")
            .arg("0")
            .query::<Value>(&mut blocked)
    });
    wait_blocked(&mut c, 1);
    assert_eq!(
        q(&mut c, &["CLIENT", "UNBLOCK", &id.to_string(), "TIMEOUT"]),
        Value::Int(1)
    );
    assert_eq!(waiter.join().unwrap().unwrap(), Value::Nil);

    let mut blocked = server.client();
    let id: i64 = redis::cmd("CLIENT").arg("ID").query(&mut blocked).unwrap();
    let waiter = thread::spawn(move || {
        redis::cmd("BZPOPMIN")
            .arg("z")
            .arg("0")
            .query::<Value>(&mut blocked)
    });
    wait_blocked(&mut c, 1);
    assert_eq!(
        q(&mut c, &["CLIENT", "UNBLOCK", &id.to_string(), "ERROR"]),
        Value::Int(1)
    );
    let err = waiter.join().unwrap().unwrap_err();
    assert_eq!(err.code(), Some("UNBLOCKED"));
    // Not blocked (any more): 0.
    assert_eq!(
        q(&mut c, &["CLIENT", "UNBLOCK", &id.to_string()]),
        Value::Int(0)
    );
}

/// A blocking command that arrives while others wait on its key queues
/// behind them, as in Redis where waiters are served before the next
/// command runs: the element a push leaves after the older waiter's
/// failure (a destination of the wrong type) goes to the newcomer, and the
/// older waiter always gets its WRONGTYPE. Before, a newcomer arriving
/// right after the push could take the element first and leave the older
/// waiter blocked (a few rounds in a hundred).
#[test]
fn a_newcomer_never_takes_an_element_ahead_of_an_older_waiter() {
    use std::io::{Read, Write};
    let server = Server::start();
    let mut c = server.client();
    let frame = |args: &[&str]| crate::protocol::encode(args);
    for round in 0..60 {
        q(&mut c, &["DEL", "blist", "target1", "target2"]);
        q(&mut c, &["SET", "target1", "nolist"]);
        let connect = || {
            let s = std::net::TcpStream::connect(("127.0.0.1", server.port)).unwrap();
            // Only a bound on a hang: a loaded machine may take seconds.
            s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
            s
        };
        let (mut old, mut new, mut pusher) = (connect(), connect(), connect());
        old.write_all(&frame(&["BRPOPLPUSH", "blist", "target1", "0"]))
            .unwrap();
        wait_blocked(&mut c, 1);
        // The newcomer and the push back to back: they race.
        new.write_all(&frame(&["BRPOPLPUSH", "blist", "target2", "0"]))
            .unwrap();
        pusher
            .write_all(&frame(&["LPUSH", "blist", "foo"]))
            .unwrap();
        let mut buf = [0u8; 128];
        let n = old.read(&mut buf).unwrap_or(0);
        let got = String::from_utf8_lossy(&buf[..n]).to_string();
        assert!(
            got.starts_with("-WRONGTYPE"),
            "round {round}: old waiter got {got:?}"
        );
        let n = new.read(&mut buf).unwrap_or(0);
        assert_eq!(&buf[..n], b"$3\r\nfoo\r\n", "round {round}");
    }
}

/// Queuing behind a waiter does not hide a wrong type from a newcomer: its
/// first attempt still answers WRONGTYPE at once.
#[test]
fn a_newcomer_behind_a_waiter_still_gets_wrongtype_at_once() {
    let server = Server::start();
    let mut c = server.client();
    let waiter = spawn_blocked(&server, &["BLPOP", "k", "1"]);
    wait_blocked(&mut c, 1);
    // The key becomes a string: the waiter stays blocked (as in Redis).
    q(&mut c, &["SET", "k", "v"]);
    let mut other = server.client();
    let err = redis::cmd("BLPOP")
        .arg("k")
        .arg("0")
        .query::<Value>(&mut other)
        .unwrap_err();
    assert_eq!(err.code(), Some("WRONGTYPE"));
    assert_eq!(waiter.join().unwrap(), Value::Nil);
}

/// Another client's WATCH makes every write run as a small transaction;
/// blocking commands still block there (XREADGROUP BLOCK answered at once
/// as if inside MULTI), and are served in order.
#[test]
fn blocking_commands_block_while_another_client_watches() {
    let server = Server::start();
    let mut c = server.client();
    q(&mut c, &["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]);
    let mut watcher = server.client();
    q(&mut watcher, &["WATCH", "unrelated"]);
    let reader = spawn_blocked(
        &server,
        &[
            "XREADGROUP",
            "GROUP",
            "g",
            "c",
            "BLOCK",
            "0",
            "STREAMS",
            "s",
            ">",
        ],
    );
    wait_blocked(&mut c, 1);
    let first = spawn_blocked(&server, &["BLPOP", "l", "0"]);
    wait_blocked(&mut c, 2);
    let second = spawn_blocked(&server, &["BLPOP", "l", "0"]);
    wait_blocked(&mut c, 3);
    q(&mut c, &["XADD", "s", "1-1", "f", "v"]);
    let Value::Array(streams) = reader.join().unwrap() else {
        panic!("XREADGROUP did not return entries");
    };
    assert_eq!(streams.len(), 1);
    q(&mut c, &["RPUSH", "l", "a", "b"]);
    assert_eq!(
        first.join().unwrap(),
        Value::Array(vec![bulk("l"), bulk("a")])
    );
    assert_eq!(
        second.join().unwrap(),
        Value::Array(vec![bulk("l"), bulk("b")])
    );
    // The watcher's transaction is untouched by all this.
    q(&mut watcher, &["MULTI"]);
    q(&mut watcher, &["SET", "x", "1"]);
    assert_eq!(q(&mut watcher, &["EXEC"]), Value::Array(vec![Value::Okay]));
}
