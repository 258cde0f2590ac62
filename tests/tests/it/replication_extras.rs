//! What replicates beyond data (Basalt only, real processes on
//! 127.0.0.1): messages PUBLISHed on the master reach subscribers on its
//! replicas, scripts and function libraries loaded on the master run on
//! them, replicated writes raise keyspace notifications there, and wake
//! clients blocked there.

use crate::protocol::{Raw, R};
use crate::replication::line;
use basalt_tests::client::{err, int, q, reply};
use basalt_tests::nodes::{
    connect, info_int, replica_via_proxy, start_replica, wait_in_sync, wait_link, wait_replicas,
    wait_until,
};
use basalt_tests::{skip_on_redis, Server};
use std::time::Duration;

const SYNC: Duration = Duration::from_secs(30);

/// The next pushed message as its parts (`message channel payload`...).
fn message(sub: &mut Raw) -> Vec<String> {
    match sub.value() {
        R::Arr(parts) => parts.iter().map(R::text).collect(),
        other => panic!("expected a message, got {other:?}"),
    }
}

/// Waits until `master` feeds `n` replicas: it writes messages for them
/// from then on.
fn wait_fed(master: &Server, n: i64) {
    wait_replicas(&mut connect(master, SYNC), n, SYNC);
}

fn subscribed(sub: &mut Raw, args: &[&str]) {
    let reply = sub.val(args);
    assert!(matches!(reply, R::Arr(_)), "{args:?}: {reply:?}");
}

#[test]
fn published_messages_reach_subscribers_on_replicas() {
    skip_on_redis!();
    let master = Server::start();
    let replica = start_replica(&master, &[]);
    let chained = start_replica(&replica, &[]);
    wait_in_sync(&master, &replica, SYNC);
    wait_in_sync(&replica, &chained, SYNC);
    wait_fed(&master, 1);

    let mut sub = Raw::connect(replica.port);
    subscribed(&mut sub, &["SUBSCRIBE", "news"]);
    subscribed(&mut sub, &["PSUBSCRIBE", "n*"]);
    subscribed(&mut sub, &["SSUBSCRIBE", "shard"]);
    let mut far = Raw::connect(chained.port);
    subscribed(&mut far, &["SUBSCRIBE", "news"]);

    let mut m = master.client();
    // Nobody listens on the master itself.
    assert_eq!(q::<i64>(&mut m, &["PUBLISH", "news", "hello"]), 0);
    assert_eq!(message(&mut sub), ["message", "news", "hello"]);
    assert_eq!(message(&mut sub), ["pmessage", "n*", "news", "hello"]);
    // Batches pass down a chain as they are, messages with them.
    assert_eq!(message(&mut far), ["message", "news", "hello"]);

    assert_eq!(q::<i64>(&mut m, &["SPUBLISH", "shard", "s1"]), 0);
    assert_eq!(message(&mut sub), ["smessage", "shard", "s1"]);

    // In a transaction too, in order.
    let _: () = q(&mut m, &["MULTI"]);
    let _: String = q(&mut m, &["PUBLISH", "news", "one"]);
    let _: String = q(&mut m, &["PUBLISH", "nope", "two"]);
    let _: Vec<i64> = q(&mut m, &["EXEC"]);
    assert_eq!(message(&mut sub), ["message", "news", "one"]);
    assert_eq!(message(&mut sub), ["pmessage", "n*", "news", "one"]);
    assert_eq!(message(&mut sub), ["pmessage", "n*", "nope", "two"]);
    assert_eq!(message(&mut far), ["message", "news", "one"]);

    // PUBLISH on a replica reaches its own subscribers only: it cannot
    // write (its sequence numbers are its master's).
    let mut r = replica.client();
    assert_eq!(q::<i64>(&mut r, &["PUBLISH", "news", "local"]), 2);
    assert_eq!(message(&mut sub), ["message", "news", "local"]);
    assert_eq!(message(&mut sub), ["pmessage", "n*", "news", "local"]);
    assert_eq!(q::<i64>(&mut m, &["PUBLISH", "news", "after"]), 0);
    assert_eq!(
        message(&mut far),
        ["message", "news", "after"],
        "the chained replica never saw the replica's own message"
    );
    assert_eq!(message(&mut sub), ["message", "news", "after"]);
}

const LIBRARY: &str = "#!lua name=lib\n\
    redis.register_function{function_name='ro', callback=function(keys, args) \
    return 'ro ' .. (redis.call('GET', keys[1]) or 'nil') end, flags={'no-writes'}}";

#[test]
fn scripts_and_functions_loaded_on_the_master_run_on_replicas() {
    skip_on_redis!();
    let master = Server::start();
    let replica = start_replica(&master, &[]);
    wait_in_sync(&master, &replica, SYNC);
    let mut m = master.client();
    let mut r = connect(&replica, SYNC);

    let loaded: String = q(&mut m, &["SCRIPT", "LOAD", "return 'loaded'"]);
    assert_eq!(
        reply(&mut m, &["EVAL", "return 'evaluated'", "0"]),
        "evaluated"
    );
    let evaluated: String = q(&mut m, &["SCRIPT", "LOAD", "return 'evaluated'"]);
    let _: String = q(&mut m, &["FUNCTION", "LOAD", LIBRARY]);
    let _: () = q(&mut m, &["SET", "k", "v"]);
    wait_in_sync(&master, &replica, SYNC);
    assert_eq!(reply(&mut r, &["EVALSHA", &loaded, "0"]), "loaded");
    assert_eq!(reply(&mut r, &["EVALSHA_RO", &evaluated, "0"]), "evaluated");
    assert_eq!(reply(&mut r, &["FCALL_RO", "ro", "1", "k"]), "ro v");
    assert_eq!(reply(&mut r, &["FCALL", "ro", "1", "k"]), "ro v");

    // Replacing, deleting and flushing reach the replica too.
    let replaced = LIBRARY.replace("'ro '", "'new '");
    let _: String = q(&mut m, &["FUNCTION", "LOAD", "REPLACE", &replaced]);
    wait_in_sync(&master, &replica, SYNC);
    assert_eq!(reply(&mut r, &["FCALL_RO", "ro", "1", "k"]), "new v");
    let _: () = q(&mut m, &["FUNCTION", "DELETE", "lib"]);
    let _: () = q(&mut m, &["SCRIPT", "FLUSH"]);
    wait_in_sync(&master, &replica, SYNC);
    assert!(err(&mut r, &["FCALL_RO", "ro", "1", "k"]).starts_with("ERR Function not found"));
    assert!(err(&mut r, &["EVALSHA", &loaded, "0"]).starts_with("NOSCRIPT"));

    // A replica that joins later gets them with its full sync.
    let loaded: String = q(&mut m, &["SCRIPT", "LOAD", "return 'loaded'"]);
    let _: String = q(&mut m, &["FUNCTION", "LOAD", LIBRARY]);
    let late = Server::start();
    let mut l = late.client();
    let full_before = info_int(&mut m, "stats", "sync_full");
    let to = master.port.to_string();
    assert_eq!(reply(&mut l, &["REPLICAOF", "127.0.0.1", &to]), "OK");
    wait_in_sync(&master, &late, SYNC);
    assert_eq!(info_int(&mut m, "stats", "sync_full"), full_before + 1);
    let mut l = connect(&late, SYNC);
    assert_eq!(reply(&mut l, &["EVALSHA", &loaded, "0"]), "loaded");
    assert_eq!(reply(&mut l, &["FCALL_RO", "ro", "1", "k"]), "ro v");
}

/// `WAIT 1` after a script or library change means the replica runs the
/// new code: the change counts as the client's last write, and a replica
/// acknowledges a batch only once it reloaded what the batch changed. No
/// retry on the replica: each round's first answer must be the new one.
/// The link goes through a proxy that delays it, so that a WAIT which
/// does not wait for the change answers before the replica has it.
#[test]
fn wait_after_loading_scripts_and_functions_covers_the_replica() {
    skip_on_redis!();
    let master = Server::start();
    let (proxy, replica) = replica_via_proxy(&master, &[]);
    wait_in_sync(&master, &replica, SYNC);
    proxy.delay(Duration::from_millis(10));
    let mut m = master.client();
    let mut r = connect(&replica, SYNC);
    let _: () = q(&mut m, &["SET", "k", "v"]);
    let mut shas = Vec::new();
    for round in 0..30 {
        let code = LIBRARY.replace("'ro '", &format!("'r{round} '"));
        let _: String = q(&mut m, &["FUNCTION", "LOAD", "REPLACE", &code]);
        assert_eq!(int(&mut m, &["WAIT", "1", "5000"]), 1, "round {round}");
        assert_eq!(
            reply(&mut r, &["FCALL_RO", "ro", "1", "k"]),
            format!("r{round} v"),
            "FCALL_RO on the replica right after WAIT, round {round}"
        );

        let body = format!("return 'script {round}'");
        let sha: String = q(&mut m, &["SCRIPT", "LOAD", &body]);
        shas.push(sha.clone());
        assert_eq!(int(&mut m, &["WAIT", "1", "5000"]), 1, "round {round}");
        assert_eq!(
            reply(&mut r, &["EVALSHA_RO", &sha, "0"]),
            format!("script {round}")
        );
        assert_eq!(
            reply(&mut r, &["EVALSHA", &sha, "0"]),
            format!("script {round}")
        );
    }
    let _: () = q(&mut m, &["FUNCTION", "DELETE", "lib"]);
    assert_eq!(int(&mut m, &["WAIT", "1", "5000"]), 1);
    assert!(err(&mut r, &["FCALL_RO", "ro", "1", "k"]).starts_with("ERR Function not found"));
    let dump: Vec<u8> = {
        let code = LIBRARY.replace("'ro '", "'restored '");
        let _: String = q(&mut m, &["FUNCTION", "LOAD", &code]);
        q(&mut m, &["FUNCTION", "DUMP"])
    };
    let _: () = q(&mut m, &["FUNCTION", "FLUSH"]);
    assert_eq!(int(&mut m, &["WAIT", "1", "5000"]), 1);
    assert!(err(&mut r, &["FCALL_RO", "ro", "1", "k"]).starts_with("ERR Function not found"));
    let _: () = basalt_tests::client::cmd(&[b"FUNCTION".as_slice(), b"RESTORE", &dump])
        .query(&mut m)
        .unwrap();
    assert_eq!(int(&mut m, &["WAIT", "1", "5000"]), 1);
    assert_eq!(reply(&mut r, &["FCALL_RO", "ro", "1", "k"]), "restored v");
    let _: () = q(&mut m, &["SCRIPT", "FLUSH"]);
    assert_eq!(int(&mut m, &["WAIT", "1", "5000"]), 1);
    for sha in &shas {
        assert!(err(&mut r, &["EVALSHA", sha, "0"]).starts_with("NOSCRIPT"));
    }
}

/// A subscriber to every keyspace and keyevent channel and to `marker`,
/// which tells it where a round of events ends.
struct Listener {
    sub: Raw,
}

impl Listener {
    fn new(port: u16) -> Listener {
        let mut sub = Raw::connect(port);
        subscribed(&mut sub, &["PSUBSCRIBE", "__key*__:*"]);
        subscribed(&mut sub, &["SUBSCRIBE", "marker"]);
        Listener { sub }
    }

    /// Until a SET on `master` raises its event here: the master records
    /// events once its replica said that it (or one it feeds) raises them.
    fn wait_recorded(&mut self, master: &mut redis::Connection, what: &str) {
        let mut round = 0;
        wait_until(SYNC, what, || {
            round += 1;
            let _: () = q(master, &["SET", "probe", &round.to_string()]);
            let _: i64 = q(master, &["PUBLISH", "marker", "end"]);
            let events = self.events();
            if events.iter().any(|e| e == "probe set") {
                Ok(())
            } else {
                Err(format!("{events:?}"))
            }
        });
    }

    /// The events up to the marker, as `key event` (keyspace channels)
    /// and `E event key` (keyevent channels).
    fn events(&mut self) -> Vec<String> {
        let mut out = Vec::new();
        loop {
            let parts = message(&mut self.sub);
            match parts[0].as_str() {
                "message" => return out,
                "pmessage" => {
                    let (channel, payload) = (&parts[2], &parts[3]);
                    if let Some(key) = channel.strip_prefix("__keyspace@0__:") {
                        out.push(format!("{key} {payload}"));
                    } else if let Some(event) = channel.strip_prefix("__keyevent@0__:") {
                        out.push(format!("E {event} {payload}"));
                    }
                }
                other => panic!("unexpected frame {other}"),
            }
        }
    }
}

#[test]
fn replicated_writes_raise_keyspace_notifications_on_the_replica() {
    skip_on_redis!();
    let master = Server::start_with(&["--notify-keyspace-events", "KEAn"]);
    // The replica's own setting decides, as in Redis.
    let replica = start_replica(&master, &["--notify-keyspace-events", "KEAn"]);
    wait_in_sync(&master, &replica, SYNC);
    wait_fed(&master, 1);
    let mut on_master = Listener::new(master.port);
    let mut on_replica = Listener::new(replica.port);
    let mut m = master.client();
    let script: &[&[&str]] = &[
        &["SET", "s", "v"],
        &["SETEX", "t", "100", "v"],
        &["SET", "kt", "v", "EX", "100"],
        &["SET", "kt", "w", "KEEPTTL"],
        &["GETEX", "kt", "PERSIST"],
        &["GETEX", "kt", "PX", "50000"],
        &["APPEND", "s", "w"],
        &["INCR", "n"],
        &["MSET", "a", "1", "b", "2"],
        &["DEL", "a", "missing", "b"],
        &["EXPIRE", "s", "100"],
        &["PERSIST", "s"],
        &["RENAME", "s", "s2"],
        &["LPUSH", "l", "x", "y"],
        &["RPUSH", "l", "z"],
        &["LMOVE", "l", "l2", "RIGHT", "LEFT"],
        &["LPOP", "l"],
        &["RPOP", "l", "2"],
        &["HSET", "h", "f", "1", "g", "2"],
        &["HINCRBY", "h", "f", "2"],
        &["HDEL", "h", "f", "g"],
        &["SADD", "set", "m1", "m2"],
        &["SREM", "set", "m1"],
        &["ZADD", "z", "1", "m"],
        &["ZINCRBY", "z", "2", "m"],
        &["ZADD", "z", "INCR", "5", "m"],
        &["ZREM", "z", "m"],
        &["XADD", "x", "1-1", "f", "v"],
        &["PFADD", "hll", "a"],
        &["EXPIRE", "t", "0"],
    ];
    for args in script {
        let _: redis::Value = q(&mut m, args);
    }
    let _: () = q(&mut m, &["MULTI"]);
    let _: String = q(&mut m, &["SET", "in:multi", "1"]);
    let _: String = q(&mut m, &["LPUSH", "in:multi:list", "1"]);
    let _: Vec<redis::Value> = q(&mut m, &["EXEC"]);
    let _: i64 = q(&mut m, &["PUBLISH", "marker", "end"]);
    let expected = on_master.events();
    let seen = on_replica.events();
    for event in [
        "s new",
        "s set",
        "E set s",
        "t expire",
        "s append",
        "n incrby",
        "a del",
        "s rename_from",
        "s2 rename_to",
        "l lpush",
        "l2 lpush",
        "kt persist",
        "l rpop",
        "l del",
        "h hdel",
        "z zincr",
        "x xadd",
        "hll pfadd",
        "t del",
        "in:multi set",
        "in:multi:list lpush",
    ] {
        assert!(expected.iter().any(|e| e == event), "{event} on the master");
    }
    assert_eq!(seen, expected, "the replica's events are the master's");

    // Keys the master's expire cycle deletes are `del` on replicas, as a
    // Redis replica reports the DEL its master sends it.
    let _: () = q(&mut m, &["SET", "short", "v", "PX", "30"]);
    let mut c = connect(&master, SYNC);
    wait_until(SYNC, "the master to expire the key", || {
        match info_int(&mut c, "stats", "expired_keys") {
            0 => Err("not yet".to_string()),
            _ => Ok(()),
        }
    });
    let _: i64 = q(&mut m, &["PUBLISH", "marker", "end"]);
    let expected = on_master.events();
    assert!(
        expected.iter().any(|e| e == "short expired"),
        "{expected:?}"
    );
    let as_deleted: Vec<String> = expected
        .iter()
        .map(|e| {
            e.replace("short expired", "short del")
                .replace("E expired short", "E del short")
        })
        .collect();
    assert_eq!(on_replica.events(), as_deleted);
}

/// Commands of every kind, with the events Redis (or Basalt's modules)
/// raise for them; `{}` is a prefix for the keys of one round.
const EVERY_KIND: &[&[&str]] = &[
    &["XADD", "{}st", "1-1", "f", "v"],
    &["XADD", "{}st", "2-1", "f", "v"],
    &["XGROUP", "CREATE", "{}st", "g", "0"],
    &["XGROUP", "CREATECONSUMER", "{}st", "g", "c0"],
    &[
        "XREADGROUP",
        "GROUP",
        "g",
        "c1",
        "COUNT",
        "2",
        "STREAMS",
        "{}st",
        ">",
    ],
    &["XCLAIM", "{}st", "g", "c2", "0", "1-1"],
    &["XAUTOCLAIM", "{}st", "g", "c3", "0", "0-0"],
    &["XGROUP", "DELCONSUMER", "{}st", "g", "c0"],
    &["XGROUP", "SETID", "{}st", "g", "$"],
    &["XGROUP", "DESTROY", "{}st", "g"],
    &["RPUSH", "{}l", "3", "1", "2"],
    &["LMPOP", "1", "{}l", "LEFT", "COUNT", "1"],
    &["SORT", "{}l", "STORE", "{}sorted"],
    &["ZADD", "{}z", "1", "a", "2", "b"],
    &["ZMPOP", "1", "{}z", "MIN", "COUNT", "2"],
    &["JSON.SET", "{}j", "$", "{\"a\":1}"],
    &["JSON.SET", "{}j", "$.b", "2"],
    &["JSON.DEL", "{}j", "$.a"],
    &["BF.ADD", "{}bf", "x"],
    &["BF.MADD", "{}bf", "y", "z"],
    &["GEOADD", "{}geo", "13.361389", "38.115556", "Palermo"],
    &[
        "GEOSEARCHSTORE",
        "{}near",
        "{}geo",
        "FROMLONLAT",
        "15",
        "37",
        "BYRADIUS",
        "200",
        "km",
    ],
    &["COPY", "{}near", "{}copy"],
    &["COPY", "{}l", "{}copy", "REPLACE"],
    &["HSET", "{}h", "f", "1", "g", "2", "k", "3"],
    &["HEXPIRE", "{}h", "100", "FIELDS", "1", "f"],
    &["HPERSIST", "{}h", "FIELDS", "1", "f"],
    &["HPEXPIRE", "{}h", "0", "FIELDS", "1", "g"],
    &["HGETDEL", "{}h", "FIELDS", "1", "k"],
    &["DEL", "{}sorted"],
];

/// A replica raises the events its master recorded for each write, of any
/// command, in the master's order; also when the master itself does not
/// listen for them.
#[test]
fn a_replica_raises_the_events_of_every_kind_of_write() {
    skip_on_redis!();
    let master = Server::start_with(&["--notify-keyspace-events", "KEA"]);
    let replica = start_replica(&master, &["--notify-keyspace-events", "KEA"]);
    wait_in_sync(&master, &replica, SYNC);
    wait_fed(&master, 1);
    let mut on_master = Listener::new(master.port);
    let mut on_replica = Listener::new(replica.port);
    let mut m = master.client();
    let run = |m: &mut redis::Connection, prefix: &str| {
        for args in EVERY_KIND {
            let args: Vec<String> = args.iter().map(|a| a.replace("{}", prefix)).collect();
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let _: redis::Value = basalt_tests::client::cmd(&args)
                .query(m)
                .unwrap_or_else(|e| panic!("{args:?}: {e}"));
        }
        let _: i64 = q(m, &["PUBLISH", "marker", "end"]);
    };
    run(&mut m, "a:");
    let expected = on_master.events();
    for event in [
        "a:st xgroup-create",
        "a:st xgroup-createconsumer",
        "a:st xgroup-delconsumer",
        "a:st xgroup-setid",
        "a:st xgroup-destroy",
        "a:l lpop",
        "a:sorted sortstore",
        "a:z zpopmin",
        "a:z del",
        "a:j json.set",
        "a:j json.del",
        "a:near geosearchstore",
        "a:copy copy_to",
        "a:h hexpire",
        "a:h hpersist",
        "a:h hdel",
        "a:sorted del",
    ] {
        assert!(
            expected.iter().any(|e| e == event),
            "{event} on the master: {expected:?}"
        );
    }
    assert_eq!(on_replica.events(), expected, "the replica's events");

    // The master's own setting does not matter: it records the events for
    // its replicas anyway.
    let _: () = q(&mut m, &["CONFIG", "SET", "notify-keyspace-events", ""]);
    run(&mut m, "b:");
    assert!(on_master.events().is_empty());
    let again: Vec<String> = expected.iter().map(|e| e.replace("a:", "b:")).collect();
    assert_eq!(on_replica.events(), again, "with the master not listening");
}

/// A master records events only for replicas that raise them; a replica
/// in the middle of a chain asks for them on behalf of the one it feeds,
/// when that one connects (after the chain was up).
#[test]
fn a_chained_replica_gets_events_through_a_replica_that_raises_none() {
    skip_on_redis!();
    let master = Server::start();
    let middle = start_replica(&master, &[]);
    wait_in_sync(&master, &middle, SYNC);
    let last = start_replica(&middle, &["--notify-keyspace-events", "KEA"]);
    wait_in_sync(&middle, &last, SYNC);
    let mut on_last = Listener::new(last.port);
    let mut m = master.client();
    on_last.wait_recorded(&mut m, "the master to record events for the chain");
    let _: i64 = q(&mut m, &["HSET", "h", "f", "v"]);
    let _: i64 = q(&mut m, &["HDEL", "h", "f"]);
    let _: i64 = q(&mut m, &["PUBLISH", "marker", "end"]);
    assert_eq!(
        on_last.events(),
        ["h hset", "E hset h", "h hdel", "E hdel h", "h del", "E del h"]
    );
}

/// The master keeps recording events for a while after a replica that
/// raises them lost its link: when it comes back and catches up, its
/// clients hear of the writes it missed, in order, as if it had never
/// left.
#[test]
fn a_replica_that_reconnects_raises_the_events_of_what_it_missed() {
    skip_on_redis!();
    let master = Server::start();
    let (proxy, replica) = replica_via_proxy(&master, &["--notify-keyspace-events", "KEA"]);
    wait_in_sync(&master, &replica, SYNC);
    wait_fed(&master, 1);
    let mut on_replica = Listener::new(replica.port);
    let mut m = master.client();
    let mut r = replica.client();
    on_replica.wait_recorded(&mut m, "the master to record events for the replica");

    proxy.refuse(true);
    proxy.cut();
    wait_link(&mut r, "down", SYNC);
    wait_replicas(&mut m, 0, SYNC);
    let _: i64 = q(&mut m, &["HSET", "h", "f", "v"]);
    let _: i64 = q(&mut m, &["LPUSH", "l", "a", "b"]);
    let _: i64 = q(&mut m, &["DEL", "h"]);
    let partial = info_int(&mut m, "stats", "sync_partial_ok");
    proxy.refuse(false);
    wait_link(&mut r, "up", SYNC);
    wait_in_sync(&master, &replica, SYNC);
    assert_eq!(
        info_int(&mut m, "stats", "sync_partial_ok"),
        partial + 1,
        "a partial sync"
    );
    // The marker is published after the writes: it arrives after them.
    let _: i64 = q(&mut m, &["PUBLISH", "marker", "end"]);
    assert_eq!(
        on_replica.events(),
        [
            "h hset",
            "E hset h",
            "l lpush",
            "E lpush l",
            "h del",
            "E del h"
        ]
    );
}

#[test]
fn clients_blocked_on_a_replica_wake_on_replicated_writes() {
    skip_on_redis!();
    let master = Server::start();
    let replica = start_replica(&master, &[]);
    wait_in_sync(&master, &replica, SYNC);
    let mut m = master.client();
    let _: String = q(&mut m, &["XADD", "x", "1-1", "f", "old"]);
    wait_in_sync(&master, &replica, SYNC);

    let mut reader = Raw::connect(replica.port);
    reader.send(&crate::protocol::encode(&[
        "XREAD", "BLOCK", "20000", "STREAMS", "x", "$",
    ]));
    let mut r = connect(&replica, SYNC);
    wait_until(SYNC, "the reader to block", || {
        match info_int(&mut r, "clients", "blocked_clients") {
            1 => Ok(()),
            n => Err(format!("{n} blocked")),
        }
    });
    let _: String = q(&mut m, &["XADD", "x", "2-1", "f", "new"]);
    let R::Arr(streams) = reader.value() else {
        panic!("expected the stream's new entry");
    };
    let R::Arr(stream) = &streams[0] else {
        panic!("expected [key, entries]");
    };
    assert_eq!(stream[0].text(), "x");
    let R::Arr(entries) = &stream[1] else {
        panic!("expected entries");
    };
    assert_eq!(entries.len(), 1);
    let R::Arr(entry) = &entries[0] else {
        panic!("expected [id, fields]");
    };
    assert_eq!(entry[0].text(), "2-1");

    // Popping blocks write, which a replica refuses, as Redis does.
    assert_eq!(
        err(&mut r, &["BLPOP", "l", "1"]),
        "READONLY You can't write against a read only replica."
    );
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// What a Kvrocks replica reads from a Basalt master: a PUBLISH is one
/// put in the PubSub column family (id 3), key the channel, value the
/// message, as Kvrocks' own master writes it.
#[test]
fn a_publish_reaches_the_stream_as_kvrocks_writes_it() {
    skip_on_redis!();
    use std::io::{Read, Write};
    let master = Server::start();
    let mut m = master.client();
    let _: () = q(&mut m, &["SET", "k", "v"]);
    let latest = info_int(&mut m, "replication", "master_repl_offset");
    let mut s = master.raw();
    s.write_all(&crate::protocol::encode(&[
        "PSYNC",
        &(latest + 1).to_string(),
    ]))
    .unwrap();
    assert_eq!(line(&mut s), b"+OK");
    wait_fed(&master, 1);
    assert_eq!(q::<i64>(&mut m, &["PUBLISH", "news", "hello"]), 0);
    let batch = loop {
        let header = line(&mut s);
        let len: usize = std::str::from_utf8(&header[1..]).unwrap().parse().unwrap();
        let mut data = vec![0u8; len + 2];
        s.read_exact(&mut data).unwrap();
        if &data[..len] != b"ping" {
            break data[..len].to_vec();
        }
    };
    assert_eq!(u32::from_le_bytes(batch[8..12].try_into().unwrap()), 1);
    // Put in a column family (0x5), family 3, "news", "hello".
    assert!(
        contains(&batch[12..], b"\x05\x03\x04news\x05hello"),
        "{batch:?}"
    );
}

/// What a Basalt replica does with a Kvrocks master's batches: a put in
/// the PubSub column family (no log data of Basalt's) reaches its
/// subscribers; Kvrocks' SCRIPT FLUSH (a range delete of `lua_f_` and the
/// `script` record) empties its scripts.
#[test]
fn a_replica_of_a_kvrocks_style_master_delivers_its_messages() {
    skip_on_redis!();
    use std::io::{Read, Write};
    let bulk = |records: &[u8], count: u32| {
        let mut b = 1u64.to_le_bytes().to_vec();
        b.extend_from_slice(&count.to_le_bytes());
        b.extend_from_slice(records);
        let mut out = format!("${}\r\n", b.len()).into_bytes();
        out.extend_from_slice(&b);
        out.extend_from_slice(b"\r\n");
        out
    };
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let fake_port = listener.local_addr().unwrap().port();
    let (go, wait_go) = std::sync::mpsc::channel::<Vec<u8>>();
    let (done, wait_done) = std::sync::mpsc::channel::<()>();
    let fake = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let mut seen = Vec::new();
        let mut buf = [0u8; 1024];
        for (asked, answer) in [
            (&b"_db_name"[..], &b"change.me.db\r\n"[..]),
            (b"listening-port", b"+OK\r\n"),
            // A Kvrocks master refuses Basalt's option.
            (b"keyspace-events", b"-ERR unknown option\r\n"),
            (b"PSYNC", b"+OK\r\n"),
        ] {
            while !contains(&seen, asked) {
                let n = s.read(&mut buf).unwrap();
                assert!(n > 0, "the replica hung up in the handshake");
                seen.extend_from_slice(&buf[..n]);
            }
            seen.clear();
            s.write_all(answer).unwrap();
        }
        while let Ok(piece) = wait_go.recv() {
            s.write_all(&piece).unwrap();
        }
        let _ = wait_done.recv();
    });
    let to = format!("127.0.0.1 {fake_port}");
    let replica = Server::start_with(&["--slaveof", &to]);
    let mut r = connect(&replica, SYNC);
    wait_link(&mut r, "up", SYNC);
    let mut sub = Raw::connect(replica.port);
    subscribed(&mut sub, &["SUBSCRIBE", "news"]);
    // A script body as Kvrocks stores it, then a message.
    let sha = "0123456789012345678901234567890123456789";
    let mut script = vec![0x5, 4, 46];
    script.extend_from_slice(format!("lua_f_{sha}").as_bytes());
    script.push(12);
    script.extend_from_slice(b"return 'kvr'");
    go.send(bulk(&script, 1)).unwrap();
    go.send(bulk(b"\x05\x03\x04news\x05hello", 1)).unwrap();
    assert_eq!(message(&mut sub), ["message", "news", "hello"]);
    assert_eq!(reply(&mut r, &["EVALSHA", sha, "0"]), "kvr");
    // Kvrocks' SCRIPT FLUSH: range delete of the scripts (0xE: in a
    // column family), then its propagated command.
    let mut flush = vec![0xE, 4, 6];
    flush.extend_from_slice(b"lua_f_");
    flush.extend_from_slice(&[6]);
    flush.extend_from_slice(b"lua_f`");
    flush.extend_from_slice(&[0x5, 4, 6]);
    flush.extend_from_slice(b"script");
    let command = b"*2\r\n$6\r\nscript\r\n$5\r\nflush\r\n";
    flush.push(command.len() as u8);
    flush.extend_from_slice(command);
    go.send(bulk(&flush, 2)).unwrap();
    wait_until(SYNC, "the scripts to go", || {
        match reply(&mut r, &["EVALSHA", sha, "0"]) {
            e if e.starts_with("NOSCRIPT") => Ok(()),
            other => Err(other),
        }
    });
    drop(go);
    done.send(()).unwrap();
    drop(replica);
    fake.join().expect("fake master");
}
