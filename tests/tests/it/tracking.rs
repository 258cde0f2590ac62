//! Client-side caching: CLIENT TRACKING in default, BCAST, OPTIN/OPTOUT
//! and NOLOOP modes, RESP3 invalidation pushes and RESP2 redirection to a
//! `__redis__:invalidate` subscriber, the broken-redirect push, flushes,
//! transactions, scripts, expiry, the table limit, INFO and
//! CLIENT TRACKINGINFO / GETREDIR / CACHING, with Redis's error texts.
//!
//! Every assertion holds against Redis 7.0.15 too.

use std::time::{Duration, Instant};

use basalt_tests::Server;

use crate::protocol::{info_field, Raw};

/// The exact RESP3 push invalidating `keys`.
fn push(keys: &[&str]) -> String {
    let mut s = format!(">2\r\n$10\r\ninvalidate\r\n*{}\r\n", keys.len());
    for k in keys {
        s.push_str(&format!("${}\r\n{k}\r\n", k.len()));
    }
    s
}

/// The exact RESP2 pub/sub message a redirect target gets for `keys`.
fn message(keys: &[&str]) -> String {
    let mut s = format!(
        "*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n*{}\r\n",
        keys.len()
    );
    for k in keys {
        s.push_str(&format!("${}\r\n{k}\r\n", k.len()));
    }
    s
}

/// A RESP3 client with tracking turned on with `options`.
fn resp3_tracking(port: u16, options: &[&str]) -> Raw {
    let mut c = Raw::connect(port);
    c.val(&["HELLO", "3"]);
    let mut args = vec!["CLIENT", "TRACKING", "on"];
    args.extend_from_slice(options);
    assert_eq!(c.cmd(&args), "+OK\r\n");
    c
}

/// A RESP2 client subscribed to `__redis__:invalidate`, and its id.
fn redirect_target(port: u16) -> (Raw, String) {
    let mut c = Raw::connect(port);
    let id = c.val(&["CLIENT", "ID"]).int().to_string();
    c.cmd(&["SUBSCRIBE", "__redis__:invalidate"]);
    (c, id)
}

/// Polls until `f` holds (state that changes after a disconnect).
fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Asserts nothing more is waiting for `c`: PING's reply comes next.
fn nothing_pending(c: &mut Raw) {
    assert_eq!(c.cmd(&["PING"]), "+PONG\r\n");
}

#[test]
fn tracking_default_mode_invalidates_a_key_once_per_read() {
    let server = Server::start();
    let mut c = resp3_tracking(server.port, &[]);
    let mut writer = Raw::connect(server.port);
    writer.cmd(&["SET", "k", "1"]);
    writer.cmd(&["SET", "unread", "1"]);
    assert_eq!(c.cmd(&["GET", "k"]), "$1\r\n1\r\n");
    writer.cmd(&["SET", "unread", "2"]);
    writer.cmd(&["INCR", "k"]);
    // The push was queued before PING ran: it comes first.
    assert_eq!(c.cmd(&["PING"]), push(&["k"]));
    assert_eq!(c.reply(), "+PONG\r\n");
    // Forgotten once invalidated: a second write says nothing more.
    writer.cmd(&["INCR", "k"]);
    nothing_pending(&mut c);
    // Keys read by a multi-key command, existing or not, are remembered.
    c.cmd(&["MGET", "a", "b"]);
    writer.cmd(&["MSET", "a", "1", "b", "2"]);
    assert_eq!(c.cmd(&["PING"]), push(&["a"]));
    assert_eq!(c.reply(), push(&["b"]));
    assert_eq!(c.reply(), "+PONG\r\n");
    // Tracking off: nothing is sent any more.
    c.cmd(&["GET", "k"]);
    assert_eq!(c.cmd(&["CLIENT", "TRACKING", "off"]), "+OK\r\n");
    writer.cmd(&["INCR", "k"]);
    nothing_pending(&mut c);
}

#[test]
fn tracking_own_writes_are_invalidated_after_the_reply() {
    let server = Server::start();
    let mut c = resp3_tracking(server.port, &[]);
    c.cmd(&["HSET", "h", "f", "1"]);
    c.cmd(&["HGET", "h", "f"]);
    assert_eq!(c.cmd(&["HDEL", "h", "f"]), ":1\r\n");
    assert_eq!(c.reply(), push(&["h"]));
    // Inside a transaction: after EXEC's whole reply.
    c.cmd(&["MSET", "a", "1", "b", "2"]);
    c.cmd(&["GET", "a"]);
    c.cmd(&["MULTI"]);
    c.cmd(&["INCR", "a"]);
    c.cmd(&["GET", "b"]);
    assert_eq!(c.cmd(&["EXEC"]), "*2\r\n:2\r\n$1\r\n2\r\n");
    // GET b inside EXEC was a read: b is remembered too.
    assert_eq!(c.reply(), push(&["a"]));
    let mut writer = Raw::connect(server.port);
    writer.cmd(&["SET", "b", "3"]);
    assert_eq!(c.cmd(&["PING"]), push(&["b"]));
    assert_eq!(c.reply(), "+PONG\r\n");
}

#[test]
fn tracking_noloop_spares_the_clients_own_writes() {
    let server = Server::start();
    let mut c = resp3_tracking(server.port, &["NOLOOP"]);
    let mut writer = Raw::connect(server.port);
    c.cmd(&["MGET", "mine", "theirs"]);
    assert_eq!(c.cmd(&["SET", "mine", "1"]), "+OK\r\n");
    writer.cmd(&["SET", "theirs", "1"]);
    assert_eq!(c.cmd(&["PING"]), push(&["theirs"]));
    assert_eq!(c.reply(), "+PONG\r\n");
}

#[test]
fn tracking_redirects_to_a_resp2_subscriber() {
    let server = Server::start();
    let (mut target, id) = redirect_target(server.port);
    let mut c = Raw::connect(server.port);
    assert_eq!(
        c.cmd(&["CLIENT", "TRACKING", "on", "REDIRECT", &id]),
        "+OK\r\n"
    );
    assert_eq!(c.val(&["CLIENT", "GETREDIR"]).int().to_string(), id);
    c.cmd(&["SET", "k", "1"]);
    c.cmd(&["GET", "k"]);
    c.cmd(&["SET", "k", "2"]);
    assert_eq!(target.reply(), message(&["k"]));
    // FLUSHALL: a null in place of the key array.
    c.cmd(&["GET", "k"]);
    c.cmd(&["FLUSHALL"]);
    assert_eq!(
        target.reply(),
        "*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n$-1\r\n"
    );
    // The RESP2 tracking client itself never gets anything inline.
    nothing_pending(&mut c);
}

#[test]
fn tracking_redirect_to_a_client_that_left_is_reported_broken() {
    let server = Server::start();
    let (mut target, id) = redirect_target(server.port);
    let mut c = resp3_tracking(server.port, &["REDIRECT", &id]);
    let mut writer = Raw::connect(server.port);
    writer.cmd(&["SET", "k", "1"]);
    c.cmd(&["GET", "k"]);
    assert_eq!(target.cmd(&["QUIT"]), "+OK\r\n");
    writer.cmd(&["SET", "k", "2"]);
    let broken = format!(">2\r\n$21\r\ntracking-redir-broken\r\n:{id}\r\n");
    assert_eq!(c.cmd(&["PING"]), broken);
    assert_eq!(c.reply(), "+PONG\r\n");
    let info = c.val(&["CLIENT", "TRACKINGINFO"]);
    let flags: Vec<String> = info.get("flags").arr().iter().map(|f| f.text()).collect();
    assert_eq!(flags, ["on", "broken_redirect"]);
    assert_eq!(info.get("redirect").int().to_string(), id);
    let list = c.val(&["CLIENT", "INFO"]).text();
    assert!(list.contains(" flags=tR "), "{list}");
    // A redirect must name a connected client.
    assert_eq!(
        c.cmd(&["CLIENT", "TRACKING", "on", "REDIRECT", &id]),
        "-ERR The client ID you want redirect to does not exist\r\n"
    );
}

#[test]
fn tracking_bcast_sends_every_written_key_under_the_prefixes() {
    let server = Server::start();
    let (mut target, id) = redirect_target(server.port);
    let mut c = Raw::connect(server.port);
    let on = |c: &mut Raw, extra: &[&str]| {
        let mut args = vec!["CLIENT", "TRACKING", "on", "BCAST", "REDIRECT", &id];
        args.extend_from_slice(extra);
        c.cmd(&args)
    };
    assert_eq!(on(&mut c, &["PREFIX", "a:", "PREFIX", "b:"]), "+OK\r\n");
    // One message per prefix for a whole transaction.
    c.cmd(&["MULTI"]);
    for k in ["a:1", "a:2", "b:1", "c:1"] {
        c.cmd(&["INCR", k]);
    }
    c.cmd(&["EXEC"]);
    let mut got = vec![target.reply(), target.reply()];
    got.sort();
    let mut want = vec![message(&["a:1", "a:2"]), message(&["b:1"])];
    want.sort();
    assert_eq!(got, want);
    // Prefixes add up; overlapping ones are refused.
    assert_eq!(on(&mut c, &["PREFIX", "c:"]), "+OK\r\n");
    c.cmd(&["SET", "c:x", "1"]);
    assert_eq!(target.reply(), message(&["c:x"]));
    assert_eq!(
        on(&mut c, &["PREFIX", "a"]),
        "-ERR Prefix 'a' overlaps with an existing prefix 'a:'. Prefixes for a single client must not overlap.\r\n"
    );
    let info = c.val(&["CLIENT", "TRACKINGINFO"]);
    let mut prefixes: Vec<String> = info
        .get("prefixes")
        .arr()
        .iter()
        .map(|p| p.text())
        .collect();
    prefixes.sort();
    assert_eq!(prefixes, ["a:", "b:", "c:"]);
    let mut fresh = Raw::connect(server.port);
    assert_eq!(
        fresh.cmd(&["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "FOOBAR", "PREFIX", "FOO"]),
        "-ERR Prefix 'FOOBAR' overlaps with another provided prefix 'FOO'. Prefixes for a single client must not overlap.\r\n"
    );
    let counts = fresh.val(&["INFO", "stats"]).text();
    assert_eq!(info_field(&counts, "tracking_total_prefixes"), "3");
}

#[test]
fn tracking_bcast_with_the_empty_prefix_and_noloop() {
    let server = Server::start();
    let mut c = resp3_tracking(server.port, &["BCAST", "NOLOOP"]);
    let mut writer = Raw::connect(server.port);
    c.cmd(&["SET", "mine", "1"]);
    writer.cmd(&["MSET", "x", "1", "y", "2"]);
    let reply = c.cmd(&["PING"]);
    assert!(
        reply == push(&["x", "y"]) || reply == push(&["y", "x"]),
        "{reply}"
    );
    assert_eq!(c.reply(), "+PONG\r\n");
    let info = c.val(&["CLIENT", "TRACKINGINFO"]);
    let flags: Vec<String> = info.get("flags").arr().iter().map(|f| f.text()).collect();
    assert_eq!(flags, ["on", "bcast", "noloop"]);
    assert_eq!(info.get("prefixes").arr().len(), 1);
    assert!(c.val(&["CLIENT", "INFO"]).text().contains(" flags=tB "));
}

#[test]
fn tracking_optin_and_optout_follow_client_caching_for_one_command() {
    let server = Server::start();
    let mut writer = Raw::connect(server.port);
    let mut c = resp3_tracking(server.port, &["OPTIN"]);
    c.cmd(&["GET", "not-cached"]);
    assert_eq!(c.cmd(&["CLIENT", "CACHING", "yes"]), "+OK\r\n");
    let info = c.val(&["CLIENT", "TRACKINGINFO"]);
    let flags: Vec<String> = info.get("flags").arr().iter().map(|f| f.text()).collect();
    assert_eq!(flags, ["on", "optin", "caching-yes"]);
    c.cmd(&["GET", "cached"]);
    c.cmd(&["GET", "spent"]);
    writer.cmd(&["MSET", "not-cached", "1", "cached", "1", "spent", "1"]);
    assert_eq!(c.cmd(&["PING"]), push(&["cached"]));
    assert_eq!(c.reply(), "+PONG\r\n");
    assert_eq!(
        c.cmd(&["CLIENT", "CACHING", "no"]),
        "-ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.\r\n"
    );
    assert_eq!(
        c.cmd(&["CLIENT", "TRACKING", "on", "OPTOUT"]),
        "-ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.\r\n"
    );

    c.cmd(&["CLIENT", "TRACKING", "off"]);
    c.cmd(&["CLIENT", "TRACKING", "on", "OPTOUT"]);
    assert_eq!(c.cmd(&["CLIENT", "CACHING", "no"]), "+OK\r\n");
    c.cmd(&["GET", "skipped"]);
    c.cmd(&["GET", "tracked"]);
    writer.cmd(&["MSET", "skipped", "2", "tracked", "2"]);
    assert_eq!(c.cmd(&["PING"]), push(&["tracked"]));
    assert_eq!(c.reply(), "+PONG\r\n");
    c.cmd(&["CLIENT", "TRACKING", "off"]);
    assert_eq!(
        c.cmd(&["CLIENT", "CACHING", "yes"]),
        "-ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled\r\n"
    );
}

#[test]
fn tracking_option_errors_are_redis_errors() {
    let server = Server::start();
    let mut c = Raw::connect(server.port);
    let cases: &[(&[&str], &str)] = &[
        (
            &["on", "PREFIX", "a"],
            "-ERR PREFIX option requires BCAST mode to be enabled\r\n",
        ),
        (
            &["on", "BCAST", "OPTIN"],
            "-ERR OPTIN and OPTOUT are not compatible with BCAST\r\n",
        ),
        (
            &["on", "OPTIN", "OPTOUT"],
            "-ERR You can't specify both OPTIN mode and OPTOUT mode\r\n",
        ),
        (
            &["on", "REDIRECT", "999999"],
            "-ERR The client ID you want redirect to does not exist\r\n",
        ),
        (&["on", "BOGUS"], "-ERR syntax error\r\n"),
        (&["maybe"], "-ERR syntax error\r\n"),
    ];
    for (options, want) in cases {
        let mut args = vec!["CLIENT", "TRACKING"];
        args.extend_from_slice(options);
        assert_eq!(c.cmd(&args), *want, "{options:?}");
    }
    let id = c.val(&["CLIENT", "ID"]).int().to_string();
    assert_eq!(
        c.cmd(&["CLIENT", "TRACKING", "on", "REDIRECT", &id, "REDIRECT", &id]),
        "-ERR A client can only redirect to a single other client\r\n"
    );
    // Nothing was turned on by the refusals.
    assert_eq!(c.val(&["CLIENT", "GETREDIR"]).int(), -1);
    c.cmd(&["CLIENT", "TRACKING", "on"]);
    assert_eq!(c.val(&["CLIENT", "GETREDIR"]).int(), 0);
    assert_eq!(
        c.cmd(&["CLIENT", "TRACKING", "on", "BCAST"]),
        "-ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.\r\n"
    );
}

#[test]
fn tracking_flushes_invalidate_everything_with_a_null() {
    let server = Server::start();
    let mut c = resp3_tracking(server.port, &[]);
    let mut other = Raw::connect(server.port);
    c.cmd(&["GET", "k"]);
    other.cmd(&["FLUSHALL"]);
    assert_eq!(c.cmd(&["PING"]), ">2\r\n$10\r\ninvalidate\r\n_\r\n");
    assert_eq!(c.reply(), "+PONG\r\n");
    // Its own FLUSHDB inside a transaction: after EXEC's reply.
    c.cmd(&["MULTI"]);
    c.cmd(&["FLUSHDB"]);
    assert_eq!(c.cmd(&["EXEC"]), "*1\r\n+OK\r\n");
    assert_eq!(c.reply(), ">2\r\n$10\r\ninvalidate\r\n_\r\n");
    let stats = other.val(&["INFO", "stats"]).text();
    assert_eq!(info_field(&stats, "tracking_total_keys"), "0");
}

#[test]
fn tracking_counts_in_info_and_the_table_limit() {
    let server = Server::start();
    let (mut target, id) = redirect_target(server.port);
    let mut c = Raw::connect(server.port);
    c.cmd(&["CLIENT", "TRACKING", "on", "REDIRECT", &id]);
    let mut other = resp3_tracking(server.port, &[]);
    c.cmd(&["MGET", "k1", "k2", "k3"]);
    other.cmd(&["GET", "k1"]);
    let mut admin = Raw::connect(server.port);
    let info = admin.val(&["INFO"]).text();
    assert_eq!(info_field(&info, "tracking_clients"), "2");
    assert_eq!(info_field(&info, "tracking_total_keys"), "3");
    assert_eq!(info_field(&info, "tracking_total_items"), "4");
    // Lowering the limit forgets keys at once, each with an invalidation.
    assert_eq!(
        admin.cmd(&["CONFIG", "SET", "tracking-table-max-keys", "1"]),
        "+OK\r\n"
    );
    let stats = admin.val(&["INFO", "stats"]).text();
    assert_eq!(info_field(&stats, "tracking_total_keys"), "1");
    let mut forgotten = vec![target.reply(), target.reply()];
    forgotten.sort();
    let candidates = [message(&["k1"]), message(&["k2"]), message(&["k3"])];
    assert!(forgotten[0] != forgotten[1], "{forgotten:?}");
    for m in &forgotten {
        assert!(candidates.contains(m), "{m}");
    }
    admin.cmd(&["CONFIG", "SET", "tracking-table-max-keys", "1000000"]);
    // Disconnecting stops tracking.
    drop(other);
    eventually("tracking_clients back to 1", || {
        info_field(&admin.val(&["INFO", "clients"]).text(), "tracking_clients") == "1"
    });
}

#[test]
fn tracking_active_expiry_invalidates() {
    let server = Server::start();
    let mut c = resp3_tracking(server.port, &["BCAST", "NOLOOP"]);
    c.cmd(&["SET", "short", "v", "PX", "50"]);
    c.cmd(&["SET", "long", "v"]);
    // NOLOOP spared the SETs; the expiry is the server's own doing.
    assert_eq!(c.reply(), push(&["short"]));
    nothing_pending(&mut c);
}

#[test]
fn tracking_remembers_keys_read_by_scripts() {
    let server = Server::start();
    let mut c = resp3_tracking(server.port, &[]);
    let mut writer = Raw::connect(server.port);
    // A script that only writes tracks nothing.
    c.cmd(&["EVAL", "redis.call('set', KEYS[1], 'x')", "1", "w"]);
    writer.cmd(&["SET", "w", "y"]);
    nothing_pending(&mut c);
    // A script that reads a key tracks it.
    c.cmd(&["EVAL", "return redis.call('get', KEYS[1])", "1", "r"]);
    writer.cmd(&["SET", "r", "1"]);
    assert_eq!(c.cmd(&["PING"]), push(&["r"]));
    assert_eq!(c.reply(), "+PONG\r\n");
}

#[test]
fn tracking_served_blocked_client_hears_of_its_own_write_after_its_reply() {
    let server = Server::start();
    let mut c = resp3_tracking(server.port, &[]);
    c.cmd(&["RPUSH", "dst", "a"]);
    c.cmd(&["LRANGE", "dst", "0", "-1"]);
    c.send(&crate::protocol::encode(&[
        "BLMOVE", "src", "dst", "LEFT", "LEFT", "0",
    ]));
    let mut pusher = Raw::connect(server.port);
    eventually("the client to block", || {
        info_field(&pusher.val(&["INFO", "clients"]).text(), "blocked_clients") == "1"
    });
    pusher.cmd(&["RPUSH", "src", "foo"]);
    assert_eq!(c.reply(), "$3\r\nfoo\r\n");
    assert_eq!(c.reply(), push(&["dst"]));
}
