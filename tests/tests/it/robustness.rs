//! Every command, fed random arguments, answers with a reply or an error:
//! the server never panics and keeps serving.

use basalt_tests::Server;
use redis::Value;

/// Commands that would stop the test itself rather than show a bug:
/// they end the server or the connection, wait, change auth/limits, or
/// switch the connection into another mode (transactions, pub/sub).
const SKIP: &[&str] = &[
    "multi",
    "exec",
    "discard",
    "watch",
    "subscribe",
    "psubscribe",
    "ssubscribe",
    // One reply frame per channel: a plain client reads only the first.
    "unsubscribe",
    "punsubscribe",
    "sunsubscribe",
    "monitor",
    "sync",
    "psync",
    // Kvrocks' replication protocol: a bare line, or the connection
    // handed over to a file transfer.
    "_db_name",
    "_fetch_meta",
    "_fetch_file",
    "replicaof",
    "slaveof",
    "shutdown",
    "debug",
    "quit",
    "config",
    "blpop",
    "brpop",
    "blmove",
    "brpoplpush",
    "blmpop",
    "bzpopmin",
    "bzpopmax",
    "bzmpop",
    "client",
    "hello",
    "auth",
    "reset",
    // WAIT 1 0 without replicas waits forever (a timeout of 0), as in Redis.
    "wait",
];

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

const WORDS: &[&str] = &[
    "k",
    "h",
    "l",
    "s",
    "z",
    "str",
    "0",
    "1",
    "-1",
    "2",
    "10",
    "-100",
    "3.5",
    "-inf",
    "+inf",
    "nan",
    "(1",
    "[a",
    "(a",
    "-",
    "+",
    "9223372036854775807",
    "-9223372036854775808",
    "18446744073709551616",
    "",
    "*",
    "?",
    "[",
    "LIMIT",
    "COUNT",
    "WITHSCORES",
    "BYSCORE",
    "BYLEX",
    "REV",
    "NX",
    "XX",
    "GT",
    "LT",
    "CH",
    "INCR",
    "EX",
    "PX",
    "KEEPTTL",
    "GET",
    "MATCH",
    "TYPE",
    "LEFT",
    "RIGHT",
    "BEFORE",
    "AFTER",
    "RANK",
    "MAXLEN",
    "WEIGHTS",
    "AGGREGATE",
    "SUM",
    "MIN",
    "MAX",
    "ALPHA",
    "STORE",
    "BY",
    "IDX",
    "LEN",
    "REPLACE",
    "DB",
    "NOVALUES",
    "WITHVALUES",
    "1e308",
    "0x10",
    " 1",
    "a\r\nb",
];

/// Empties the database and seeds a few keys of every type, so random
/// commands reach their deep paths.
fn seed(c: &mut redis::Connection) {
    let _: Value = redis::pipe()
        .cmd("FLUSHALL")
        .cmd("SET")
        .arg("str")
        .arg("12")
        .cmd("HSET")
        .arg("h")
        .arg("a")
        .arg("1")
        .arg("b")
        .arg("x")
        .cmd("RPUSH")
        .arg("l")
        .arg("1")
        .arg("a")
        .arg("2")
        .cmd("SADD")
        .arg("s")
        .arg("1")
        .arg("a")
        .cmd("ZADD")
        .arg("z")
        .arg("1")
        .arg("a")
        .arg("2")
        .arg("b")
        .query(c)
        .unwrap();
}

#[test]
fn random_arguments_never_crash_the_server() {
    // Redis has admin commands (SAVE, FAILOVER, ...) this would trip over.
    basalt_tests::skip_on_redis!();
    let server = Server::start();
    let mut c = server.client();
    let names: Vec<String> = redis::cmd("COMMAND").arg("LIST").query(&mut c).unwrap();
    let mut rng = Rng(0x5EED_1234_ABCD_0001);
    let mut sent = 0;
    for name in names
        .iter()
        .filter(|n| !n.contains('|') && !SKIP.contains(&n.as_str()))
    {
        for round in 0..40 {
            if round % 10 == 0 {
                seed(&mut c);
            }
            let mut cmd = redis::cmd(name);
            let argc = rng.next() % 7;
            for _ in 0..argc {
                cmd.arg(rng.pick(WORDS));
            }
            // Errors are expected; only a dropped connection is a failure.
            if let Err(e) = cmd.query::<Value>(&mut c) {
                assert!(!e.is_io_error(), "{name}: connection broke: {e}");
            }
            sent += 1;
        }
    }
    assert!(sent > 1000, "only {sent} commands sent");
    let pong: String = redis::cmd("PING").query(&mut c).unwrap();
    assert_eq!(pong, "PONG");
    assert!(
        !server.log().contains("panicked"),
        "server log:\n{}",
        server.log()
    );
}

#[test]
fn random_transactions_never_crash_the_server() {
    basalt_tests::skip_on_redis!();
    // Inside MULTI, blocking commands answer at once, so they are in.
    const BLOCKING: &[&str] = &[
        "blpop",
        "brpop",
        "blmove",
        "brpoplpush",
        "blmpop",
        "bzpopmin",
        "bzpopmax",
        "bzmpop",
    ];
    let server = Server::start();
    let mut c = server.client();
    let names: Vec<String> = redis::cmd("COMMAND").arg("LIST").query(&mut c).unwrap();
    let names: Vec<&str> = names
        .iter()
        .map(String::as_str)
        .filter(|n| !n.contains('|') && (!SKIP.contains(n) || BLOCKING.contains(n)))
        .collect();
    let mut rng = Rng(0x7A11_5EED_0000_0002);
    let mut sent = 0;
    for round in 0..600 {
        if round % 20 == 0 {
            seed(&mut c);
        }
        if round % 3 == 0 {
            let _: Value = redis::cmd("WATCH")
                .arg(rng.pick(WORDS))
                .query(&mut c)
                .unwrap();
        }
        let _: Value = redis::cmd("MULTI").query(&mut c).unwrap();
        for _ in 0..1 + rng.next() % 4 {
            let name = names[(rng.next() % names.len() as u64) as usize];
            let mut cmd = redis::cmd(name);
            for _ in 0..rng.next() % 7 {
                cmd.arg(rng.pick(WORDS));
            }
            if let Err(e) = cmd.query::<Value>(&mut c) {
                assert!(!e.is_io_error(), "{name}: connection broke: {e}");
            }
            sent += 1;
        }
        let end = if round % 7 == 0 { "DISCARD" } else { "EXEC" };
        if let Err(e) = redis::cmd(end).query::<Value>(&mut c) {
            assert!(!e.is_io_error(), "{end}: connection broke: {e}");
        }
    }
    assert!(sent > 1000, "only {sent} commands sent");
    let pong: String = redis::cmd("PING").query(&mut c).unwrap();
    assert_eq!(pong, "PONG");
    assert!(
        !server.log().contains("panicked"),
        "server log:\n{}",
        server.log()
    );
}
