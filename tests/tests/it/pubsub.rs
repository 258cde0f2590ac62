//! Pub/sub: confirmations and their counts, message formats, pattern
//! globbing, PUBSUB introspection, RESP2 subscribed mode, RESP3 pushes
//! interleaved with replies, shard channels, and slow subscribers.

use std::time::{Duration, Instant};

use basalt_tests::{skip_on_redis, Server};

use crate::protocol::{info_field, Raw, R};

/// The exact RESP2 frame `[kind, name, count]` of a (un)subscribe reply.
fn confirm(kind: &str, name: Option<&str>, count: i64) -> String {
    let name = match name {
        Some(n) => format!("${}\r\n{n}\r\n", n.len()),
        None => "$-1\r\n".to_string(),
    };
    format!("*3\r\n${}\r\n{kind}\r\n{name}:{count}\r\n", kind.len())
}

fn bulk_frame(parts: &[&str], head: char) -> String {
    let mut s = format!("{head}{}\r\n", parts.len());
    for p in parts {
        s.push_str(&format!("${}\r\n{p}\r\n", p.len()));
    }
    s
}

/// Polls until `f` holds (state that changes after a disconnect).
fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn numsub(c: &mut Raw, channel: &str) -> i64 {
    c.val(&["PUBSUB", "NUMSUB", channel]).arr()[1].int()
}

#[test]
fn pubsub_confirmations_carry_running_counts() {
    let server = Server::start();
    let mut c = Raw::connect(server.port);
    c.send(&crate::protocol::encode(&["SUBSCRIBE", "a", "b", "a"]));
    assert_eq!(c.reply(), confirm("subscribe", Some("a"), 1));
    assert_eq!(c.reply(), confirm("subscribe", Some("b"), 2));
    // Subscribing again is confirmed without counting twice.
    assert_eq!(c.reply(), confirm("subscribe", Some("a"), 2));
    assert_eq!(
        c.cmd(&["PSUBSCRIBE", "p*"]),
        confirm("psubscribe", Some("p*"), 3)
    );
    assert_eq!(
        c.cmd(&["SSUBSCRIBE", "s"]),
        confirm("ssubscribe", Some("s"), 1)
    );
    assert_eq!(
        c.cmd(&["UNSUBSCRIBE", "a"]),
        confirm("unsubscribe", Some("a"), 2)
    );
    // Unsubscribing from a channel never subscribed still answers.
    assert_eq!(
        c.cmd(&["UNSUBSCRIBE", "zz"]),
        confirm("unsubscribe", Some("zz"), 2)
    );
    assert_eq!(
        c.cmd(&["UNSUBSCRIBE"]),
        confirm("unsubscribe", Some("b"), 1)
    );
    assert_eq!(
        c.cmd(&["PUNSUBSCRIBE"]),
        confirm("punsubscribe", Some("p*"), 0)
    );
    // Shard subscriptions are counted on their own.
    assert_eq!(
        c.cmd(&["SUNSUBSCRIBE"]),
        confirm("sunsubscribe", Some("s"), 0)
    );
    // With nothing left, each kind answers once with a null name.
    assert_eq!(c.cmd(&["UNSUBSCRIBE"]), confirm("unsubscribe", None, 0));
    assert_eq!(c.cmd(&["PUNSUBSCRIBE"]), confirm("punsubscribe", None, 0));
    assert_eq!(c.cmd(&["SUNSUBSCRIBE"]), confirm("sunsubscribe", None, 0));
    // Out of subscribed mode: ordinary commands again.
    assert_eq!(c.cmd(&["SET", "k", "v"]), "+OK\r\n");
}

#[test]
fn pubsub_publish_delivers_messages_and_counts_receivers() {
    let server = Server::start();
    let mut chan = Raw::connect(server.port);
    let mut pat = Raw::connect(server.port);
    let mut publisher = Raw::connect(server.port);
    chan.cmd(&["SUBSCRIBE", "news"]);
    pat.cmd(&["PSUBSCRIBE", "n*"]);
    assert_eq!(
        pat.cmd(&["SUBSCRIBE", "news"]),
        confirm("subscribe", Some("news"), 2)
    );
    // One channel subscriber plus one client through both a pattern and
    // the channel: three deliveries.
    assert_eq!(publisher.cmd(&["PUBLISH", "news", "hi"]), ":3\r\n");
    assert_eq!(chan.reply(), bulk_frame(&["message", "news", "hi"], '*'));
    let mut got = vec![pat.reply(), pat.reply()];
    got.sort();
    let mut want = vec![
        bulk_frame(&["message", "news", "hi"], '*'),
        bulk_frame(&["pmessage", "n*", "news", "hi"], '*'),
    ];
    want.sort();
    assert_eq!(got, want);
    assert_eq!(publisher.cmd(&["PUBLISH", "nobody", "x"]), ":1\r\n");
    assert_eq!(
        pat.reply(),
        bulk_frame(&["pmessage", "n*", "nobody", "x"], '*')
    );
    assert_eq!(publisher.cmd(&["PUBLISH", "other", "x"]), ":0\r\n");
    // Binary-safe payloads.
    let payload = "a\r\nb\0c";
    assert_eq!(publisher.cmd(&["PUBLISH", "news", payload]), ":3\r\n");
    assert_eq!(chan.reply(), bulk_frame(&["message", "news", payload], '*'));
}

#[test]
fn pubsub_pattern_glob_edge_cases() {
    let server = Server::start();
    let mut sub = Raw::connect(server.port);
    let mut publisher = Raw::connect(server.port);
    let patterns = ["news.*", "h?llo", "h[a-c]llo", "h[^e]llo", "h\\*llo"];
    sub.send(&crate::protocol::encode(
        &[&["PSUBSCRIBE"][..], &patterns[..]].concat(),
    ));
    for (i, p) in patterns.iter().enumerate() {
        assert_eq!(sub.reply(), confirm("psubscribe", Some(p), i as i64 + 1));
    }
    let cases: &[(&str, &[&str])] = &[
        ("hello", &["h?llo"]),
        ("hallo", &["h?llo", "h[a-c]llo", "h[^e]llo"]),
        ("hxllo", &["h?llo", "h[^e]llo"]),
        ("h*llo", &["h?llo", "h[^e]llo", "h\\*llo"]),
        ("hllo", &[]),
        ("haallo", &[]),
        ("news.sports", &["news.*"]),
        ("news", &[]),
        ("NEWS.x", &[]),
    ];
    for (channel, matching) in cases {
        let n = publisher.val(&["PUBLISH", channel, "m"]).int();
        assert_eq!(n, matching.len() as i64, "receivers of {channel}");
        let mut got: Vec<String> = (0..n)
            .map(|_| match sub.value() {
                R::Arr(parts) => {
                    assert_eq!(parts[0].text(), "pmessage");
                    assert_eq!(parts[2].text(), *channel);
                    parts[1].text()
                }
                other => panic!("expected a pmessage, got {other:?}"),
            })
            .collect();
        got.sort();
        let mut want: Vec<String> = matching.iter().map(|s| s.to_string()).collect();
        want.sort();
        assert_eq!(got, want, "patterns matching {channel}");
    }
}

#[test]
fn pubsub_introspection_subcommands() {
    let server = Server::start();
    let mut a = Raw::connect(server.port);
    let mut b = Raw::connect(server.port);
    let mut c = Raw::connect(server.port);
    a.send(&crate::protocol::encode(&[
        "SUBSCRIBE",
        "news.1",
        "news.2",
        "misc",
    ]));
    for _ in 0..3 {
        a.value();
    }
    b.cmd(&["SUBSCRIBE", "news.1"]);
    b.cmd(&["PSUBSCRIBE", "x*"]);
    a.cmd(&["PSUBSCRIBE", "x*"]);
    a.cmd(&["PSUBSCRIBE", "y*"]);
    b.cmd(&["SSUBSCRIBE", "shard.1"]);

    let names = |r: R| {
        let mut v: Vec<String> = r.arr().iter().map(R::text).collect();
        v.sort();
        v
    };
    assert_eq!(
        names(c.val(&["PUBSUB", "CHANNELS"])),
        ["misc", "news.1", "news.2"]
    );
    assert_eq!(
        names(c.val(&["PUBSUB", "CHANNELS", "news.*"])),
        ["news.1", "news.2"]
    );
    assert_eq!(
        c.val(&["PUBSUB", "NUMSUB", "news.1", "misc", "none"]),
        R::Arr(vec![
            R::Bulk(b"news.1".to_vec()),
            R::Int(2),
            R::Bulk(b"misc".to_vec()),
            R::Int(1),
            R::Bulk(b"none".to_vec()),
            R::Int(0),
        ])
    );
    assert_eq!(c.cmd(&["PUBSUB", "NUMSUB"]), "*0\r\n");
    // Distinct patterns, not pattern subscriptions.
    assert_eq!(c.cmd(&["PUBSUB", "NUMPAT"]), ":2\r\n");
    assert_eq!(names(c.val(&["PUBSUB", "SHARDCHANNELS"])), ["shard.1"]);
    assert_eq!(
        names(c.val(&["PUBSUB", "SHARDCHANNELS", "x*"])),
        Vec::<String>::new()
    );
    assert_eq!(
        c.val(&["PUBSUB", "SHARDNUMSUB", "shard.1", "news.1"]),
        R::Arr(vec![
            R::Bulk(b"shard.1".to_vec()),
            R::Int(1),
            R::Bulk(b"news.1".to_vec()),
            R::Int(0),
        ])
    );
    assert_eq!(
        c.cmd(&["PUBSUB", "CHANNELS", "a", "b"]),
        "-ERR unknown subcommand or wrong number of arguments for 'CHANNELS'. Try PUBSUB HELP.\r\n"
    );
    assert!(c
        .cmd(&["PUBSUB", "NOPE"])
        .starts_with("-ERR unknown subcommand 'NOPE'"));
    assert_eq!(
        c.cmd(&["PUBSUB", "NUMPAT", "x"]),
        "-ERR wrong number of arguments for 'pubsub|numpat' command\r\n"
    );
    let info = c.val(&["INFO", "stats"]).text();
    assert_eq!(info_field(&info, "pubsub_channels"), "3");
    assert_eq!(info_field(&info, "pubsub_patterns"), "2");
}

#[test]
fn pubsub_resp2_subscribed_mode_allows_only_pubsub_commands() {
    let server = Server::start();
    let mut c = Raw::connect(server.port);
    c.cmd(&["SUBSCRIBE", "ch"]);
    let refused = |name: &str| {
        format!(
            "-ERR Can't execute '{name}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n"
        )
    };
    assert_eq!(c.cmd(&["GET", "k"]), refused("get"));
    assert_eq!(c.cmd(&["PUBLISH", "ch", "x"]), refused("publish"));
    assert_eq!(c.cmd(&["CONFIG", "GET", "port"]), refused("config|get"));
    // Unknown commands and arity errors come first, as in Redis.
    assert!(c
        .cmd(&["NOSUCH"])
        .starts_with("-ERR unknown command 'NOSUCH'"));
    assert_eq!(
        c.cmd(&["GET"]),
        "-ERR wrong number of arguments for 'get' command\r\n"
    );
    // PING answers as a message frame.
    assert_eq!(c.cmd(&["PING"]), bulk_frame(&["pong", ""], '*'));
    assert_eq!(c.cmd(&["PING", "hi"]), bulk_frame(&["pong", "hi"], '*'));
    assert_eq!(
        c.cmd(&["PSUBSCRIBE", "x"]),
        confirm("psubscribe", Some("x"), 2)
    );
    // RESET leaves subscribed mode and drops every subscription.
    assert_eq!(c.cmd(&["RESET"]), "+RESET\r\n");
    assert_eq!(c.cmd(&["PING"]), "+PONG\r\n");
    assert_eq!(c.cmd(&["GET", "k"]), "$-1\r\n");
    let mut other = Raw::connect(server.port);
    assert_eq!(numsub(&mut other, "ch"), 0);
    assert_eq!(other.cmd(&["PUBSUB", "NUMPAT"]), ":0\r\n");
    // QUIT is allowed while subscribed.
    c.cmd(&["SUBSCRIBE", "ch"]);
    assert_eq!(c.cmd(&["QUIT"]), "+OK\r\n");
}

#[test]
fn pubsub_resp3_pushes_interleave_with_replies() {
    let server = Server::start();
    let mut c = Raw::connect(server.port);
    let mut publisher = Raw::connect(server.port);
    c.val(&["HELLO", "3"]);
    assert_eq!(
        c.cmd(&["SUBSCRIBE", "ch"]),
        ">3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n"
    );
    // Ordinary commands work while subscribed.
    assert_eq!(c.cmd(&["SET", "k", "v"]), "+OK\r\n");
    assert_eq!(publisher.cmd(&["PUBLISH", "ch", "one"]), ":1\r\n");
    // The message was queued before GET ran: it arrives first, as a push.
    assert_eq!(
        c.cmd(&["GET", "k"]),
        ">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$3\r\none\r\n"
    );
    assert_eq!(c.reply(), "$1\r\nv\r\n");
    // Publishing to itself: the push precedes PUBLISH's own reply.
    assert_eq!(
        c.cmd(&["PUBLISH", "ch", "self"]),
        ">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$4\r\nself\r\n"
    );
    assert_eq!(c.reply(), ":1\r\n");
    assert_eq!(c.cmd(&["PING"]), "+PONG\r\n");
    assert_eq!(
        c.cmd(&["PSUBSCRIBE", "c*"]),
        ">3\r\n$10\r\npsubscribe\r\n$2\r\nc*\r\n:2\r\n"
    );
    assert_eq!(publisher.cmd(&["PUBLISH", "ch", "two"]), ":2\r\n");
    let mut got = vec![c.reply(), c.reply()];
    got.sort();
    let mut want = vec![
        bulk_frame(&["message", "ch", "two"], '>'),
        bulk_frame(&["pmessage", "c*", "ch", "two"], '>'),
    ];
    want.sort();
    assert_eq!(got, want);
    assert_eq!(
        c.cmd(&["UNSUBSCRIBE", "nope"]),
        ">3\r\n$11\r\nunsubscribe\r\n$4\r\nnope\r\n:2\r\n"
    );
    c.cmd(&["PUNSUBSCRIBE"]);
    c.cmd(&["UNSUBSCRIBE"]);
    assert_eq!(
        c.cmd(&["UNSUBSCRIBE"]),
        ">3\r\n$11\r\nunsubscribe\r\n_\r\n:0\r\n"
    );
}

#[test]
fn pubsub_shard_channels_are_a_separate_namespace() {
    let server = Server::start();
    let mut sub = Raw::connect(server.port);
    let mut publisher = Raw::connect(server.port);
    sub.cmd(&["SSUBSCRIBE", "s"]);
    // Patterns never match shard channels, and PUBLISH does not reach them.
    let mut pat = Raw::connect(server.port);
    pat.cmd(&["PSUBSCRIBE", "*"]);
    assert_eq!(publisher.cmd(&["PUBLISH", "s", "x"]), ":1\r\n");
    assert_eq!(pat.reply(), bulk_frame(&["pmessage", "*", "s", "x"], '*'));
    assert_eq!(publisher.cmd(&["SPUBLISH", "s", "y"]), ":1\r\n");
    assert_eq!(sub.reply(), bulk_frame(&["smessage", "s", "y"], '*'));
    assert_eq!(numsub(&mut publisher, "s"), 0);
    assert_eq!(
        publisher.val(&["PUBSUB", "SHARDNUMSUB", "s"]).arr()[1].int(),
        1
    );
    assert_eq!(publisher.cmd(&["SPUBLISH", "other", "y"]), ":0\r\n");
}

#[test]
fn pubsub_disconnect_unsubscribes_everything() {
    let server = Server::start();
    let mut other = Raw::connect(server.port);
    {
        let mut sub = Raw::connect(server.port);
        sub.cmd(&["SUBSCRIBE", "gone"]);
        sub.cmd(&["PSUBSCRIBE", "gone.*"]);
        sub.cmd(&["SSUBSCRIBE", "gone"]);
        assert_eq!(numsub(&mut other, "gone"), 1);
    }
    eventually("the subscriber to be forgotten", || {
        numsub(&mut other, "gone") == 0
    });
    assert_eq!(other.cmd(&["PUBSUB", "NUMPAT"]), ":0\r\n");
    assert_eq!(other.cmd(&["PUBSUB", "SHARDCHANNELS"]), "*0\r\n");
    assert_eq!(other.cmd(&["PUBLISH", "gone", "x"]), ":0\r\n");
}

#[test]
fn pubsub_client_list_shows_subscription_counts() {
    let server = Server::start();
    let mut sub = Raw::connect(server.port);
    sub.cmd(&["CLIENT", "SETNAME", "listener"]);
    sub.send(&crate::protocol::encode(&["SUBSCRIBE", "a", "b"]));
    sub.value();
    sub.value();
    sub.cmd(&["PSUBSCRIBE", "p*"]);
    sub.cmd(&["SSUBSCRIBE", "s"]);
    let mut c = Raw::connect(server.port);
    let list = c.val(&["CLIENT", "LIST"]).text();
    let line = list
        .lines()
        .find(|l| l.contains("name=listener"))
        .unwrap_or_else(|| panic!("subscriber not listed:\n{list}"));
    for field in ["flags=P", "sub=2", "psub=1", "ssub=1"] {
        assert!(
            line.split(' ').any(|f| f == field),
            "{field} missing in {line}"
        );
    }
}

#[test]
fn pubsub_output_buffer_limit_is_a_live_option() {
    let server = Server::start();
    let mut c = Raw::connect(server.port);
    assert_eq!(
        c.val(&["CONFIG", "GET", "client-output-buffer-limit"])
            .arr()[1]
            .text(),
        "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"
    );
    assert_eq!(
        c.cmd(&[
            "CONFIG",
            "SET",
            "client-output-buffer-limit",
            "pubsub 1mb 512kb 5"
        ]),
        "+OK\r\n"
    );
    assert_eq!(
        c.val(&["CONFIG", "GET", "client-output-buffer-limit"])
            .arr()[1]
            .text(),
        "normal 0 0 0 slave 268435456 67108864 60 pubsub 1048576 524288 5"
    );
    assert!(c
        .cmd(&["CONFIG", "SET", "client-output-buffer-limit", "pubsub 1"])
        .starts_with("-ERR"));
}

/// A subscriber that never reads is dropped once its pending messages
/// pass the hard limit; the publisher and a reading subscriber carry on.
#[test]
fn pubsub_slow_subscriber_is_disconnected() {
    let server = Server::start();
    let mut publisher = Raw::connect(server.port);
    assert_eq!(
        publisher.cmd(&[
            "CONFIG",
            "SET",
            "client-output-buffer-limit",
            "pubsub 4mb 0 0"
        ]),
        "+OK\r\n"
    );
    // Never reads after subscribing.
    let mut slow = Raw::connect(server.port);
    slow.cmd(&["SUBSCRIBE", "flood"]);
    // Reads everything, on its own thread.
    let mut fast = Raw::connect(server.port);
    fast.cmd(&["SUBSCRIBE", "flood"]);
    const MESSAGES: usize = 1000;
    let payload = "x".repeat(64 * 1024);
    let received = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = received.clone();
    let reader = std::thread::spawn(move || {
        for _ in 0..MESSAGES {
            match fast.value() {
                R::Arr(parts) => assert_eq!(parts[2].text().len(), 64 * 1024),
                other => panic!("unexpected frame {other:?}"),
            }
            counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        fast
    });
    let rss_before = rss_kb(&server);
    let started = Instant::now();
    let mut receivers = Vec::new();
    for i in 0..MESSAGES {
        receivers.push(publisher.val(&["PUBLISH", "flood", &payload]).int());
        // Keep the reading subscriber within 1 MB of the publisher, so
        // only the one that never reads can reach the limit.
        while received.load(std::sync::atomic::Ordering::Relaxed) + 16 < i {
            assert!(!reader.is_finished(), "the reading subscriber stopped");
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    let took = started.elapsed();
    let _fast = reader.join().expect("fast subscriber got every message");
    // 64 MB went out; the slow client was dropped on the way.
    assert_eq!(receivers[0], 2);
    assert_eq!(
        *receivers.last().unwrap(),
        1,
        "slow subscriber still counted"
    );
    assert!(took < Duration::from_secs(30), "publishing took {took:?}");
    assert_eq!(numsub(&mut publisher, "flood"), 1);
    assert!(
        slow.closed_within(Duration::from_secs(10)),
        "slow subscriber still connected"
    );
    if let (Some(before), Some(after)) = (rss_before, rss_kb(&server)) {
        // Bounded by the 4 MB limit plus socket buffers, not by the 64 MB
        // published.
        assert!(
            after < before + 40 * 1024,
            "RSS grew from {before} kB to {after} kB"
        );
    }
    publisher.assert_alive();
}

/// The server's resident set size, when it is Basalt (Redis's harness
/// process is not ours to measure the same way).
fn rss_kb(server: &Server) -> Option<u64> {
    if basalt_tests::against_redis() {
        return None;
    }
    let status = std::fs::read_to_string(format!("/proc/{}/status", server.pid())).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// The soft limit closes a subscriber that stays over it for longer than
/// the soft seconds, even under the hard limit.
#[test]
fn pubsub_soft_limit_closes_after_its_seconds() {
    skip_on_redis!();
    let server = Server::start();
    let mut publisher = Raw::connect(server.port);
    publisher.cmd(&[
        "CONFIG",
        "SET",
        "client-output-buffer-limit",
        "pubsub 0 1mb 1",
    ]);
    let mut slow = Raw::connect(server.port);
    slow.cmd(&["SUBSCRIBE", "flood"]);
    let payload = "x".repeat(64 * 1024);
    let deadline = Instant::now() + Duration::from_secs(20);
    // Keep it over the soft limit until the server gives up on it.
    while publisher.val(&["PUBLISH", "flood", &payload]).int() == 1 {
        assert!(Instant::now() < deadline, "soft limit never applied");
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(slow.closed_within(Duration::from_secs(10)));
    publisher.assert_alive();
}

#[test]
fn pubsub_resp3_pushes_reach_a_blocked_client() {
    let server = Server::start();
    let mut c = Raw::connect(server.port);
    let mut other = Raw::connect(server.port);
    c.val(&["HELLO", "3"]);
    c.cmd(&["SUBSCRIBE", "ch"]);
    c.send(&crate::protocol::encode(&["BLPOP", "q", "0"]));
    eventually("the client to block", || {
        let info = other.val(&["INFO", "clients"]).text();
        info_field(&info, "blocked_clients") == "1"
    });
    assert_eq!(other.cmd(&["PUBLISH", "ch", "while-blocked"]), ":1\r\n");
    assert_eq!(
        c.reply(),
        bulk_frame(&["message", "ch", "while-blocked"], '>')
    );
    other.cmd(&["RPUSH", "q", "x"]);
    assert_eq!(c.reply(), "*2\r\n$1\r\nq\r\n$1\r\nx\r\n");
}

#[test]
fn pubsub_subscribers_are_exempt_from_the_idle_timeout() {
    let server = crate::protocol::start_opts(&[("timeout", "1")]);
    let mut sub = Raw::connect(server.port);
    sub.cmd(&["SUBSCRIBE", "quiet"]);
    let mut idle = Raw::connect(server.port);
    idle.assert_alive();
    idle.assert_closed("an idle ordinary client");
    assert!(
        !sub.closed_within(Duration::from_millis(2500)),
        "the subscriber was closed by the idle timeout"
    );
    let mut publisher = Raw::connect(server.port);
    assert_eq!(publisher.cmd(&["PUBLISH", "quiet", "still here"]), ":1\r\n");
    assert_eq!(
        sub.reply(),
        bulk_frame(&["message", "quiet", "still here"], '*')
    );
}

#[test]
fn pubsub_clients_have_the_pubsub_type() {
    let server = Server::start();
    let mut sub = Raw::connect(server.port);
    sub.cmd(&["CLIENT", "SETNAME", "listener"]);
    sub.cmd(&["SUBSCRIBE", "ch"]);
    let mut c = Raw::connect(server.port);
    c.cmd(&["CLIENT", "SETNAME", "plain"]);
    let names = |c: &mut Raw, kind: &str| -> Vec<String> {
        let list = c.val(&["CLIENT", "LIST", "TYPE", kind]).text();
        list.lines()
            .filter_map(|l| l.split(' ').find_map(|f| f.strip_prefix("name=")))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(names(&mut c, "pubsub"), ["listener"]);
    assert_eq!(names(&mut c, "normal"), ["plain"]);
    assert_eq!(c.cmd(&["CLIENT", "KILL", "TYPE", "pubsub"]), ":1\r\n");
    sub.assert_closed("killed by TYPE pubsub");
    c.assert_alive();
    assert_eq!(
        c.cmd(&["CLIENT", "KILL", "TYPE", "bogus"]),
        "-ERR Unknown client type 'bogus'\r\n"
    );
}
