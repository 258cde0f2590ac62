//! Keyspace notifications: class flags, K vs E channels, CONFIG SET
//! applying live, `expired` from the active expiration cycle, `new`, and
//! Redis 7.2's event names for every command family (the expected lists
//! were recorded from redis-server 7.0 with the same commands; run with
//! BASALT_TEST_AGAINST=redis to check them).

use std::time::Duration;

use basalt_tests::Server;

use crate::protocol::{Raw, R};

/// A subscriber to every keyspace and keyevent channel, plus a marker
/// channel that tells it where a batch of events ends.
struct Listener {
    sub: Raw,
}

impl Listener {
    fn new(port: u16) -> Listener {
        let mut sub = Raw::connect(port);
        sub.cmd(&["PSUBSCRIBE", "__key*__:*"]);
        sub.cmd(&["SUBSCRIBE", "marker"]);
        Listener { sub }
    }

    /// The events published so far, as `key event` for keyspace channels
    /// and `E event key` for keyevent channels.
    fn events(&mut self, c: &mut Raw) -> Vec<String> {
        assert_eq!(c.cmd(&["PUBLISH", "marker", "end"]), ":1\r\n");
        let mut out = Vec::new();
        loop {
            let R::Arr(parts) = self.sub.value() else {
                panic!("expected a message frame");
            };
            let texts: Vec<String> = parts.iter().map(R::text).collect();
            match texts[0].as_str() {
                "message" => return out,
                "pmessage" => {
                    let (channel, payload) = (&texts[2], &texts[3]);
                    if let Some(key) = channel.strip_prefix("__keyspace@0__:") {
                        out.push(format!("{key} {payload}"));
                    } else if let Some(event) = channel.strip_prefix("__keyevent@0__:") {
                        out.push(format!("E {event} {payload}"));
                    } else {
                        panic!("unexpected channel {channel}");
                    }
                }
                other => panic!("unexpected frame {other}"),
            }
        }
    }
}

fn set_flags(c: &mut Raw, flags: &str) {
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "notify-keyspace-events", flags]),
        "+OK\r\n"
    );
}

fn run(c: &mut Raw, line: &str) {
    let args: Vec<&str> = line.split(' ').collect();
    c.val(&args);
}

/// Runs `commands` with `KA` and compares the keyspace events.
pub(crate) fn assert_events(commands: &[&str], expected: &[&str]) {
    let server = Server::start();
    let mut c = Raw::connect(server.port);
    set_flags(&mut c, "KA");
    let mut listener = Listener::new(server.port);
    for line in commands {
        run(&mut c, line);
    }
    assert_eq!(listener.events(&mut c), expected);
}

#[test]
fn notifications_are_off_by_default() {
    let server = Server::start();
    let mut c = Raw::connect(server.port);
    let mut listener = Listener::new(server.port);
    c.cmd(&["SET", "k", "v"]);
    c.cmd(&["DEL", "k"]);
    assert_eq!(listener.events(&mut c), Vec::<String>::new());
    assert_eq!(
        c.val(&["CONFIG", "GET", "notify-keyspace-events"]).arr()[1].text(),
        ""
    );
}

#[test]
fn notifications_k_and_e_pick_the_channels() {
    let server = Server::start();
    let mut c = Raw::connect(server.port);
    let mut listener = Listener::new(server.port);
    set_flags(&mut c, "K$");
    c.cmd(&["SET", "k", "v"]);
    assert_eq!(listener.events(&mut c), ["k set"]);
    set_flags(&mut c, "E$");
    c.cmd(&["SET", "k", "v"]);
    assert_eq!(listener.events(&mut c), ["E set k"]);
    // Keyspace first, then keyevent, as in Redis.
    set_flags(&mut c, "KE$");
    c.cmd(&["SET", "k", "v"]);
    assert_eq!(listener.events(&mut c), ["k set", "E set k"]);
    // A class without K or E publishes nothing; K or E alone neither.
    for flags in ["$", "K", "E", "KE"] {
        set_flags(&mut c, flags);
        c.cmd(&["SET", "k", "v"]);
        assert_eq!(listener.events(&mut c), Vec::<String>::new(), "{flags}");
    }
}

#[test]
fn notifications_deliver_only_requested_classes() {
    let server = Server::start();
    let mut c = Raw::connect(server.port);
    let mut listener = Listener::new(server.port);
    let commands = [
        "SET s v",
        "LPUSH l a",
        "SADD st a",
        "HSET h f v",
        "ZADD z 1 a",
        "EXPIRE s 100",
        "DEL l",
    ];
    let cases: &[(&str, &[&str])] = &[
        ("K$", &["s set"]),
        ("Kl", &["l lpush"]),
        ("Ks", &["st sadd"]),
        ("Kh", &["h hset"]),
        ("Kz", &["z zadd"]),
        ("Kg", &["s expire", "l del"]),
        ("Kl$", &["s set", "l lpush"]),
    ];
    for (flags, want) in cases {
        set_flags(&mut c, flags);
        c.cmd(&["FLUSHALL"]);
        for line in commands {
            run(&mut c, line);
        }
        assert_eq!(listener.events(&mut c), *want, "flags {flags}");
    }
}

#[test]
fn notifications_a_is_an_alias_for_every_class_but_n_and_m() {
    let server = Server::start();
    let mut c = Raw::connect(server.port);
    let mut listener = Listener::new(server.port);
    set_flags(&mut c, "KA");
    assert_eq!(
        c.val(&["CONFIG", "GET", "notify-keyspace-events"]).arr()[1].text(),
        "AK"
    );
    c.cmd(&["SET", "s", "v"]);
    c.cmd(&["RPUSH", "l", "a"]);
    c.cmd(&["GET", "missing"]);
    assert_eq!(listener.events(&mut c), ["s set", "l rpush"]);
    // `n` is separate: new keys are reported only when asked for.
    set_flags(&mut c, "KAn");
    c.cmd(&["SET", "fresh", "v"]);
    c.cmd(&["SET", "fresh", "w"]);
    assert_eq!(
        listener.events(&mut c),
        ["fresh new", "fresh set", "fresh set"]
    );
}

#[test]
fn notifications_config_set_applies_live() {
    let server = Server::start();
    let mut c = Raw::connect(server.port);
    let mut listener = Listener::new(server.port);
    c.cmd(&["SET", "k", "1"]);
    set_flags(&mut c, "Kg$");
    c.cmd(&["INCR", "k"]);
    set_flags(&mut c, "");
    c.cmd(&["INCR", "k"]);
    set_flags(&mut c, "Eg");
    c.cmd(&["INCR", "k"]);
    c.cmd(&["DEL", "k"]);
    assert_eq!(listener.events(&mut c), ["k incrby", "E del k"]);
}

#[test]
fn notifications_expired_from_the_active_cycle() {
    let server = Server::start();
    let mut c = Raw::connect(server.port);
    set_flags(&mut c, "KEx");
    let mut listener = Listener::new(server.port);
    c.cmd(&["SET", "short", "v", "PX", "50"]);
    // Nobody reads the key: only the background cycle can notice.
    let R::Arr(parts) = listener.sub.value() else {
        panic!("expected a message");
    };
    let texts: Vec<String> = parts.iter().map(R::text).collect();
    assert_eq!(texts[2..], ["__keyspace@0__:short", "expired"]);
    let R::Arr(parts) = listener.sub.value() else {
        panic!("expected a message");
    };
    let texts: Vec<String> = parts.iter().map(R::text).collect();
    assert_eq!(texts[2..], ["__keyevent@0__:expired", "short"]);
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(listener.events(&mut c), Vec::<String>::new());
}

#[test]
fn notifications_from_served_blocking_commands() {
    let server = Server::start();
    let mut c = Raw::connect(server.port);
    set_flags(&mut c, "KA");
    let mut listener = Listener::new(server.port);
    let mut blocked = Raw::connect(server.port);
    blocked.send(&crate::protocol::encode(&["BLPOP", "q", "0"]));
    let mut moving = Raw::connect(server.port);
    moving.send(&crate::protocol::encode(&[
        "BLMOVE", "q2", "dst", "RIGHT", "LEFT", "0",
    ]));
    let mut zpop = Raw::connect(server.port);
    zpop.send(&crate::protocol::encode(&["BZPOPMIN", "zq", "0"]));
    // Let all three block before the writes arrive.
    wait_blocked(&mut c, 3);
    c.cmd(&["RPUSH", "q", "a"]);
    assert_eq!(blocked.reply(), "*2\r\n$1\r\nq\r\n$1\r\na\r\n");
    c.cmd(&["RPUSH", "q2", "b"]);
    assert_eq!(moving.reply(), "$1\r\nb\r\n");
    c.cmd(&["ZADD", "zq", "1", "m"]);
    zpop.reply();
    assert_eq!(
        listener.events(&mut c),
        [
            "q rpush",
            "q lpop",
            "q del",
            "q2 rpush",
            "dst lpush",
            "q2 rpop",
            "q2 del",
            "zq zadd",
            "zq zpopmin",
            "zq del",
        ]
    );
}

fn wait_blocked(c: &mut Raw, n: usize) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let info = c.val(&["INFO", "clients"]).text();
        if crate::protocol::info_field(&info, "blocked_clients") == n.to_string() {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "clients never blocked"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn notifications_new_comes_before_the_command_event() {
    let server = Server::start();
    let mut c = Raw::connect(server.port);
    set_flags(&mut c, "KEn$lg");
    let mut listener = Listener::new(server.port);
    c.cmd(&["MSET", "a", "1", "b", "2"]);
    c.cmd(&["SET", "a", "3"]);
    c.cmd(&["RENAME", "a", "c"]);
    c.cmd(&["LPUSH", "l", "x"]);
    c.cmd(&["LPUSH", "l", "y"]);
    assert_eq!(
        listener.events(&mut c),
        [
            "a new",
            "E new a",
            "a set",
            "E set a",
            "b new",
            "E new b",
            "b set",
            "E set b",
            "a set",
            "E set a",
            "c new",
            "E new c",
            "a rename_from",
            "E rename_from a",
            "c rename_to",
            "E rename_to c",
            "l new",
            "E new l",
            "l lpush",
            "E lpush l",
            "l lpush",
            "E lpush l",
        ]
    );
}

#[test]
fn notifications_strings_events() {
    assert_events(
        &[
            "set s 1",
            "set s 2 ex 100",
            "set s 3 keepttl",
            "set s 4 nx",
            "set s 4 xx get",
            "setnx s 3",
            "setnx s2 3",
            "setex s3 100 v",
            "psetex s3 100000 v",
            "getset s 5",
            "getdel s",
            "getdel s",
            "mset a 1 b 2",
            "msetnx a 1 c 2",
            "msetnx c 1 d 2",
            "append a x",
            "setrange a 1 yy",
            "setrange a 1",
            "incr n",
            "decr n",
            "incrby n 5",
            "decrby n 2",
            "incrbyfloat n 1.5",
            "getex a",
            "getex a ex 100",
            "getex a persist",
            "getex a persist",
            "getex a pxat 1",
        ],
        &[
            "s set",
            "s set",
            "s expire",
            "s set",
            "s set",
            "s2 set",
            "s3 set",
            "s3 expire",
            "s3 set",
            "s3 expire",
            "s set",
            "s del",
            "a set",
            "b set",
            "c set",
            "d set",
            "a append",
            "a setrange",
            "n incrby",
            "n incrby",
            "n incrby",
            "n incrby",
            "n incrbyfloat",
            "a expire",
            "a persist",
            "a del",
        ],
    );
}

#[test]
fn notifications_keys_events() {
    assert_events(
        &[
            "mset a 1 b 2 c 3",
            "del a b zz",
            "unlink c",
            "set n 1",
            "expire n 100",
            "pexpire n 200000 gt",
            "expire n 100 nx",
            "expireat n 99999999999",
            "persist n",
            "persist n",
            "expire nosuch 10",
            "expire n -1",
            "set r 1",
            "rename r r2",
            "renamenx r2 r2",
            "rename r2 r2",
            "set taken 1",
            "renamenx r2 taken",
            "renamenx r2 r3",
            "copy r3 r4",
            "copy r3 r4",
            "copy r3 r4 replace",
        ],
        &[
            "a set",
            "b set",
            "c set",
            "a del",
            "b del",
            "c del",
            "n set",
            "n expire",
            "n expire",
            "n expire",
            "n persist",
            "n del",
            "r set",
            "r rename_from",
            "r2 rename_to",
            "taken set",
            "r2 rename_from",
            "r3 rename_to",
            "r4 copy_to",
            "r4 copy_to",
        ],
    );
}

#[test]
fn notifications_lists_events() {
    assert_events(
        &[
            "lpush l a b c",
            "rpush l d",
            "lpushx nol a",
            "rpushx l e",
            "lpop l",
            "rpop l 2",
            "lpop l 0",
            "lpop nol",
            "lset l 0 z",
            "linsert l before z y",
            "linsert l before nothere y",
            "lrem l 1 y",
            "lrem l 1 nothere",
            "ltrim l 0 0",
            "ltrim nol 0 0",
            "lmove l l2 left right",
            "rpush l a b",
            "rpoplpush l l2",
            "lmove l l2 right left",
            "lmpop 2 nol l2 left count 2",
            "lrem l2 0 a",
            "rpush l3 a",
            "ltrim l3 1 0",
        ],
        &[
            "l lpush",
            "l rpush",
            "l rpush",
            "l lpop",
            "l rpop",
            "l lset",
            "l linsert",
            "l lrem",
            "l ltrim",
            "l2 rpush",
            "l lpop",
            "l del",
            "l rpush",
            "l2 lpush",
            "l rpop",
            "l2 lpush",
            "l rpop",
            "l del",
            "l2 lpop",
            "l3 rpush",
            "l3 ltrim",
            "l3 del",
        ],
    );
}

#[test]
fn notifications_hashes_events() {
    assert_events(
        &[
            "hset h a 1 b 2",
            "hset h a 1",
            "hsetnx h a 1",
            "hsetnx h c 1",
            "hmset h d 1",
            "hdel h a zz",
            "hdel h zz",
            "hincrby h n 1",
            "hincrbyfloat h f 1.5",
            "hdel h b c d n f",
        ],
        &[
            "h hset",
            "h hset",
            "h hset",
            "h hset",
            "h hdel",
            "h hincrby",
            "h hincrbyfloat",
            "h hdel",
            "h del",
        ],
    );
}

#[test]
fn notifications_sets_events() {
    assert_events(
        &[
            "sadd s a b c",
            "sadd s a",
            "srem s a",
            "srem s zz",
            "sadd one x",
            "spop one",
            "spop one",
            "smove s s2 c",
            "sadd s a",
            "sadd s2 a",
            "smove s s2 a",
            "smove s s2 zz",
            "sadd x 1 2",
            "sadd y 2 3",
            "sinterstore d x y",
            "sunionstore d x y",
            "sdiffstore d x x",
            "sdiffstore d x x",
            "spop y 5",
        ],
        &[
            "s sadd",
            "s srem",
            "one sadd",
            "one spop",
            "one del",
            "s srem",
            "s2 sadd",
            "s sadd",
            "s2 sadd",
            "s srem",
            "x sadd",
            "y sadd",
            "d sinterstore",
            "d sunionstore",
            "d del",
            "y spop",
            "y del",
        ],
    );
}

#[test]
fn notifications_zsets_events() {
    assert_events(
        &[
            "zadd z 1 a 2 b 3 c",
            "zadd z 1 a",
            "zadd z incr 1 a",
            "zadd z xx 5 zz",
            "zadd z ch 9 b",
            "zincrby z 1 b",
            "zrem z a",
            "zrem z nothere",
            "zremrangebyrank z 0 0",
            "zadd z 1 a 2 b 3 c 4 d 5 e 6 f",
            "zremrangebyscore z 1 1",
            "zremrangebylex z [zzz [zzzz",
            "zpopmin z",
            "zpopmax z 2",
            "zmpop 1 z min count 1",
            "zadd y 1 a",
            "zunionstore d 2 z y",
            "zinterstore d 2 z y",
            "zdiffstore d 1 z",
            "zrangestore d2 z 0 -1",
            "zrangestore d2 z 5 10",
            "zremrangebyrank z 0 -1",
            "zadd z2 1 a",
            "zpopmax z2",
        ],
        &[
            "z zadd",
            "z zincr",
            "z zadd",
            "z zincr",
            "z zrem",
            "z zremrangebyrank",
            "z zadd",
            "z zremrangebyscore",
            "z zpopmin",
            "z zpopmax",
            "z zpopmin",
            "y zadd",
            "d zunionstore",
            "d del",
            "d zdiffstore",
            "d2 zrangestore",
            "d2 del",
            "z zremrangebyrank",
            "z del",
            "z2 zadd",
            "z2 zpopmax",
            "z2 del",
        ],
    );
}

#[test]
fn notifications_sort_events() {
    assert_events(
        &[
            "rpush sl 3 1 2",
            "sort sl store dst",
            "sort nosuch store dst",
            "sort nosuch store dst",
            "sort sl limit 0 1 store dst",
        ],
        &["sl rpush", "dst sortstore", "dst del", "dst sortstore"],
    );
}

#[test]
fn notifications_keymiss_events() {
    let server = Server::start();
    let mut c = Raw::connect(server.port);
    set_flags(&mut c, "Km");
    let mut listener = Listener::new(server.port);
    for line in [
        "get a",
        "set a 1",
        "get a",
        "mget a b c",
        "exists a b",
        "type b",
        "ttl b",
        "hget h f",
        "lrange l 0 -1",
        "zscore z m",
        "sinterstore d s t",
        "sort nos",
        "object encoding q",
        "lpop nol",
    ] {
        run(&mut c, line);
    }
    assert_eq!(
        listener.events(&mut c),
        [
            "a keymiss",
            "b keymiss",
            "c keymiss",
            "b keymiss",
            "b keymiss",
            "b keymiss",
            "h keymiss",
            "l keymiss",
            "z keymiss",
            "s keymiss",
            "t keymiss",
            "nos keymiss",
        ]
    );
}

#[test]
fn notifications_of_a_transaction_follow_its_commit() {
    let server = Server::start();
    let mut c = Raw::connect(server.port);
    let mut other = Raw::connect(server.port);
    set_flags(&mut c, "KA");
    let mut listener = Listener::new(server.port);
    c.cmd(&["MULTI"]);
    c.cmd(&["SET", "a", "1"]);
    c.cmd(&["LPUSH", "l", "x"]);
    c.cmd(&["DEL", "a"]);
    c.cmd(&["INCR", "l"]);
    c.cmd(&["RPOP", "l"]);
    assert_eq!(c.val(&["EXEC"]).arr().len(), 5);
    // The pop emptied the list inside the transaction: `del` too.
    assert_eq!(
        listener.events(&mut c),
        ["a set", "l lpush", "a del", "l rpop", "l del"]
    );
    // An EXEC aborted by WATCH changed nothing and reports nothing.
    c.cmd(&["WATCH", "w"]);
    other.cmd(&["SET", "w", "1"]);
    c.cmd(&["MULTI"]);
    c.cmd(&["SET", "b", "1"]);
    assert_eq!(c.cmd(&["EXEC"]), "*-1\r\n");
    // DISCARD neither.
    c.cmd(&["MULTI"]);
    c.cmd(&["SET", "b", "1"]);
    c.cmd(&["DISCARD"]);
    assert_eq!(listener.events(&mut c), ["w set"]);
}
