//! ACL: users, passwords, command/category/subcommand rules, key patterns
//! with read/write access, channels, selectors, ACL LOG, DRYRUN, the ACL
//! file, AUTH / HELLO AUTH, requirepass, RESET, scripts and MULTI.
//!
//! Every test also runs against Redis (`BASALT_TEST_AGAINST=redis`, Redis
//! 7.0 on the test machines). Where Redis 7.0 and 7.2 differ (the words
//! of NOPERM errors, `sanitize-payload` in ACL LIST, how command rules are
//! written back, ACL LOG's newer fields), the exact 7.2 form is asserted
//! on Basalt only (`on_basalt`) and only the common part on Redis.

use std::time::Duration;

use basalt_tests::{against_redis, Server};

use crate::protocol::{Raw, R};

const WRONGPASS: &str = "-WRONGPASS invalid username-password pair or user is disabled.\r\n";
const NOAUTH: &str = "-NOAUTH Authentication required.\r\n";

/// Assertions on the exact Redis 7.2 form, which Redis 7.0 words otherwise.
fn on_basalt() -> bool {
    !against_redis()
}

fn ok(c: &mut Raw, args: &[&str]) {
    assert_eq!(c.cmd(args), "+OK\r\n", "{args:?}");
}

/// The error a command fails with, without the leading `-` and CRLF.
fn error(c: &mut Raw, args: &[&str]) -> String {
    match c.val(args) {
        R::Err(e) => e,
        other => panic!("{args:?}: expected an error, got {other:?}"),
    }
}

/// A NOPERM refusal mentioning `what` (the command, `key` or `channel`).
fn assert_noperm(c: &mut Raw, args: &[&str], what: &str) {
    let e = error(c, args);
    assert!(e.starts_with("NOPERM") && e.contains(what), "{args:?}: {e}");
}

fn login(port: u16, user: &str, pass: &str) -> Raw {
    let mut c = Raw::connect(port);
    ok(&mut c, &["AUTH", user, pass]);
    c
}

fn field(reply: &R, name: &str) -> String {
    reply.get(name).text()
}

/// The first (newest) ACL LOG entry.
fn last_log(c: &mut Raw) -> R {
    let log = c.val(&["ACL", "LOG"]);
    log.arr().first().cloned().expect("an ACL LOG entry")
}

fn info_field(c: &mut Raw, name: &str) -> i64 {
    let info = c.val(&["INFO", "stats"]).text();
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .unwrap_or_else(|| panic!("no {name} in INFO"))
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn users_passwords_and_auth() {
    let server = Server::start();
    let mut c = Raw::connect(server.port);
    assert_eq!(c.val(&["ACL", "WHOAMI"]).text(), "default");
    ok(&mut c, &["ACL", "SETUSER", "newuser"]);
    assert_eq!(
        error(&mut c, &["ACL", "SETUSER", "a a"]),
        "ERR Usernames can't contain spaces or null characters"
    );
    // New users start disabled.
    ok(&mut c, &["ACL", "SETUSER", "newuser", ">passwd1"]);
    assert_eq!(c.cmd(&["AUTH", "newuser", "passwd1"]), WRONGPASS);
    ok(&mut c, &["ACL", "SETUSER", "newuser", "on", "+acl"]);
    let mut n = login(server.port, "newuser", "passwd1");
    assert_eq!(n.val(&["ACL", "WHOAMI"]).text(), "newuser");
    // Several passwords; one removed; one given as a hash.
    ok(&mut c, &["ACL", "SETUSER", "newuser", ">passwd2"]);
    ok(&mut n, &["AUTH", "newuser", "passwd1"]);
    ok(&mut n, &["AUTH", "newuser", "passwd2"]);
    assert_eq!(n.cmd(&["AUTH", "newuser", "passwd3"]), WRONGPASS);
    ok(&mut c, &["ACL", "SETUSER", "newuser", "<passwd1"]);
    assert_eq!(n.cmd(&["AUTH", "newuser", "passwd1"]), WRONGPASS);
    let hash = "34344e4d60c2b6d639b7bd22e18f2b0b91bc34bf0ac5f9952744435093cfb4e6";
    ok(&mut c, &["ACL", "SETUSER", "newuser", &format!("#{hash}")]);
    ok(&mut n, &["AUTH", "newuser", "passwd4"]);
    let e = error(
        &mut c,
        &["ACL", "SETUSER", "newuser", &format!("#{}q", &hash[..63])],
    );
    assert!(e.contains("Error in ACL SETUSER modifier"), "{e}");
    let user = c.val(&["ACL", "GETUSER", "newuser"]);
    let passwords: Vec<String> = user.get("passwords").arr().iter().map(R::text).collect();
    assert!(passwords.contains(&hash.to_string()), "{passwords:?}");
    assert!(!passwords.iter().any(|p| p.contains("passwd")));
    ok(&mut c, &["ACL", "SETUSER", "newuser", &format!("!{hash}")]);
    assert_eq!(n.cmd(&["AUTH", "newuser", "passwd4"]), WRONGPASS);
    // A failed AUTH keeps the connection's user.
    assert_eq!(n.val(&["ACL", "WHOAMI"]).text(), "newuser");
    ok(&mut c, &["ACL", "SETUSER", "newuser", "nopass"]);
    ok(&mut n, &["AUTH", "newuser", "zipzapblabla"]);
    // A missing user and a disabled one answer alike.
    assert_eq!(n.cmd(&["AUTH", "nosuchuser", "x"]), WRONGPASS);
    ok(&mut c, &["ACL", "SETUSER", "newuser", "off"]);
    assert_eq!(n.cmd(&["AUTH", "newuser", "x"]), WRONGPASS);
    // ...but a connection already logged in stays so.
    assert_eq!(n.val(&["ACL", "WHOAMI"]).text(), "newuser");

    assert_eq!(
        c.val(&["ACL", "USERS"]),
        R::Arr(vec![
            R::Bulk(b"default".to_vec()),
            R::Bulk(b"newuser".to_vec())
        ])
    );
    assert_eq!(c.cmd(&["ACL", "GETUSER", "nobody"]), "$-1\r\n");
    if on_basalt() {
        assert_eq!(
            c.val(&["ACL", "LIST"]),
            R::Arr(vec![
                R::Bulk(b"user default on nopass sanitize-payload ~* &* +@all".to_vec()),
                R::Bulk(
                    b"user newuser off nopass sanitize-payload resetchannels -@all +acl".to_vec()
                ),
            ])
        );
    }
}

#[test]
fn failed_authentication_is_logged_and_counted() {
    let server = Server::start();
    let mut c = Raw::connect(server.port);
    ok(&mut c, &["ACL", "SETUSER", "antirez", "on", ">foo"]);
    let before = on_basalt().then(|| info_field(&mut c, "acl_access_denied_auth"));
    assert_eq!(c.cmd(&["AUTH", "antirez", "wrong-password"]), WRONGPASS);
    let entry = last_log(&mut c);
    assert_eq!(field(&entry, "reason"), "auth");
    assert_eq!(field(&entry, "context"), "toplevel");
    assert_eq!(field(&entry, "object"), "AUTH");
    assert_eq!(field(&entry, "username"), "antirez");
    assert_eq!(entry.get("count").int(), 1);
    assert_eq!(
        c.cmd(&["HELLO", "3", "AUTH", "notrealuser", "x"]),
        WRONGPASS
    );
    assert_eq!(
        c.cmd(&["HELLO", "2", "AUTH", "notrealuser", "x"]),
        WRONGPASS
    );
    if on_basalt() {
        // Redis 7.0 has no such counters yet.
        assert_eq!(
            info_field(&mut c, "acl_access_denied_auth"),
            before.unwrap() + 3
        );
        assert_eq!(info_field(&mut c, "acl_access_denied_cmd"), 0);
        let entry = last_log(&mut c);
        assert_eq!(field(&entry, "object"), "HELLO");
        assert_eq!(entry.get("count").int(), 2);
        for name in ["entry-id", "timestamp-created", "timestamp-last-updated"] {
            entry.get(name).int();
        }
    }
    assert!(field(&entry, "client-info").contains("addr=127.0.0.1:"));
}

#[test]
fn hello_auth() {
    let server = Server::start();
    let mut c = Raw::connect(server.port);
    ok(
        &mut c,
        &["ACL", "SETUSER", "secure-user", ">supass", "on", "+@all"],
    );
    let reply = c.val(&["HELLO", "3", "AUTH", "secure-user", "supass"]);
    assert_eq!(reply.get("proto").int(), 3);
    assert_eq!(c.val(&["ACL", "WHOAMI"]).text(), "secure-user");
    // HELLO works for other users even when the default user may run
    // nothing.
    let mut admin = Raw::connect(server.port);
    ok(&mut admin, &["ACL", "SETUSER", "default", "-@all"]);
    let mut d = Raw::connect(server.port);
    assert_noperm(&mut d, &["PING"], "ping");
    let reply = d.val(&["HELLO", "2", "AUTH", "secure-user", "supass"]);
    assert_eq!(reply.get("proto").int(), 2);
    assert_eq!(d.cmd(&["PING"]), "+PONG\r\n");
    ok(&mut d, &["ACL", "SETUSER", "default", "nopass", "+@all"]);
    if on_basalt() {
        // Redis 7.2: the last AUTH of a chain counts, and a failed one
        // leaves the name unset.
        ok(
            &mut c,
            &["ACL", "SETUSER", "secure-user1", ">supass", "on", "+@all"],
        );
        let r = c.val(&[
            "HELLO",
            "2",
            "AUTH",
            "x",
            "y",
            "AUTH",
            "secure-user1",
            "supass",
        ]);
        assert_eq!(r.get("proto").int(), 2);
        assert_eq!(c.val(&["ACL", "WHOAMI"]).text(), "secure-user1");
        ok(&mut c, &["CLIENT", "SETNAME", "client0"]);
        assert_eq!(
            c.cmd(&["HELLO", "2", "AUTH", "user", "pass", "SETNAME", "client1"]),
            WRONGPASS
        );
        assert_eq!(c.val(&["CLIENT", "GETNAME"]).text(), "client0");
    }
}

#[test]
fn requirepass_is_the_default_users_password() {
    let server = Server::start();
    let mut c = Raw::connect(server.port);
    ok(&mut c, &["CONFIG", "SET", "requirepass", "secret"]);
    // This connection stays logged in; new ones must authenticate.
    let user = c.val(&["ACL", "GETUSER", "default"]);
    let flags: Vec<String> = user.get("flags").arr().iter().map(R::text).collect();
    assert!(!flags.contains(&"nopass".to_string()), "{flags:?}");
    assert_eq!(user.get("passwords").arr().len(), 1);
    let mut d = Raw::connect(server.port);
    assert_eq!(d.cmd(&["PING"]), NOAUTH);
    ok(&mut d, &["AUTH", "secret"]);
    let mut e = Raw::connect(server.port);
    ok(&mut e, &["AUTH", "default", "secret"]);
    // ACL SETUSER default changes the same password list.
    ok(&mut c, &["ACL", "SETUSER", "default", ">other"]);
    ok(&mut Raw::connect(server.port), &["AUTH", "other"]);
    ok(&mut Raw::connect(server.port), &["AUTH", "secret"]);
    // Setting requirepass again leaves only it.
    ok(&mut c, &["CONFIG", "SET", "requirepass", "third"]);
    assert_eq!(Raw::connect(server.port).cmd(&["AUTH", "other"]), WRONGPASS);
    ok(&mut Raw::connect(server.port), &["AUTH", "third"]);
    // Empty: nopass again, and even connections that never logged in may
    // run commands now.
    let mut f = Raw::connect(server.port);
    assert_eq!(f.cmd(&["PING"]), NOAUTH);
    ok(&mut c, &["CONFIG", "SET", "requirepass", ""]);
    assert_eq!(f.cmd(&["PING"]), "+PONG\r\n");
    assert_eq!(
        Raw::connect(server.port).cmd(&["AUTH", "x"]),
        "-ERR AUTH <password> called without any password configured for the default user. \
         Are you sure your configuration is correct?\r\n"
    );
    // A default user that is off lets no new connection in.
    ok(&mut c, &["ACL", "SETUSER", "default", "off"]);
    assert_eq!(Raw::connect(server.port).cmd(&["PING"]), NOAUTH);
    ok(&mut c, &["ACL", "SETUSER", "default", "on"]);
    assert_eq!(Raw::connect(server.port).cmd(&["PING"]), "+PONG\r\n");
}

#[test]
fn reset_never_raises_rights() {
    // Redis's unit/other "RESET clears authenticated state".
    let server = Server::start();
    let mut c = Raw::connect(server.port);
    ok(
        &mut c,
        &["ACL", "SETUSER", "user1", "on", ">secret", "+@all"],
    );
    ok(&mut c, &["AUTH", "user1", "secret"]);
    assert_eq!(c.val(&["ACL", "WHOAMI"]).text(), "user1");
    assert_eq!(c.cmd(&["RESET"]), "+RESET\r\n");
    assert_eq!(c.val(&["ACL", "WHOAMI"]).text(), "default");
    // A user with fewer rights than default, then RESET: default's rights.
    ok(
        &mut c,
        &[
            "ACL", "SETUSER", "limited", "on", "nopass", "+acl", "+reset",
        ],
    );
    ok(&mut c, &["AUTH", "limited", "x"]);
    assert_noperm(&mut c, &["GET", "k"], "get");
    assert_eq!(c.cmd(&["RESET"]), "+RESET\r\n");
    assert_eq!(c.cmd(&["GET", "k"]), "$-1\r\n");
    // With a password on the default user, RESET logs the connection out,
    // whoever it was logged in as: no escalation to default (the Kvrocks
    // bug), no keeping user1's rights.
    ok(&mut c, &["CONFIG", "SET", "requirepass", "pw"]);
    ok(&mut c, &["AUTH", "user1", "secret"]);
    assert_eq!(c.cmd(&["RESET"]), "+RESET\r\n");
    assert_eq!(c.cmd(&["GET", "k"]), NOAUTH);
    assert_eq!(c.cmd(&["ACL", "WHOAMI"]), NOAUTH);
    ok(&mut c, &["AUTH", "pw"]);
    // A disabled default user: RESET leaves the connection logged out.
    ok(&mut c, &["CONFIG", "SET", "requirepass", ""]);
    ok(&mut c, &["AUTH", "user1", "secret"]);
    ok(&mut c, &["ACL", "SETUSER", "default", "off"]);
    assert_eq!(c.cmd(&["RESET"]), "+RESET\r\n");
    assert_eq!(c.cmd(&["GET", "k"]), NOAUTH);
    ok(&mut c, &["AUTH", "user1", "secret"]);
    ok(&mut c, &["ACL", "SETUSER", "default", "on"]);
}

#[test]
fn commands_categories_and_subcommands() {
    let server = Server::start();
    let mut admin = Raw::connect(server.port);
    ok(
        &mut admin,
        &["ACL", "SETUSER", "newuser", "on", "nopass", "allkeys"],
    );
    let mut c = login(server.port, "newuser", "x");
    // No commands by default.
    assert_noperm(&mut c, &["SET", "foo", "bar"], "'set'");
    if on_basalt() {
        assert_eq!(
            error(&mut c, &["GET", "foo"]),
            "NOPERM User newuser has no permissions to run the 'get' command"
        );
    }
    ok(&mut admin, &["ACL", "SETUSER", "newuser", "+@all", "-ping"]);
    assert_eq!(c.cmd(&["INCR", "mycounter"]), ":1\r\n");
    assert_noperm(&mut c, &["PING"], "ping");
    ok(
        &mut admin,
        &["ACL", "SETUSER", "newuser", "-@all", "+@set", "+acl"],
    );
    assert_eq!(c.cmd(&["SADD", "myset", "a", "b"]), ":2\r\n");
    ok(
        &mut admin,
        &["ACL", "SETUSER", "newuser", "+@all", "-@string"],
    );
    assert_eq!(c.cmd(&["SADD", "myset", "c"]), ":1\r\n");
    assert_noperm(&mut c, &["SET", "foo", "bar"], "set");
    // Subcommands.
    ok(
        &mut admin,
        &["ACL", "SETUSER", "newuser", "+@all", "-client"],
    );
    ok(
        &mut admin,
        &["ACL", "SETUSER", "newuser", "+client|id", "+client|setname"],
    );
    let commands = field(&admin.val(&["ACL", "GETUSER", "newuser"]), "commands");
    assert!(
        commands.starts_with("+@all") && commands.contains("+client|id"),
        "{commands}"
    );
    c.val(&["CLIENT", "ID"]).int();
    ok(&mut c, &["CLIENT", "SETNAME", "foo"]);
    assert_noperm(&mut c, &["CLIENT", "KILL", "type", "master"], "client|kill");
    ok(
        &mut admin,
        &["ACL", "SETUSER", "newuser", "+@all", "-client|kill"],
    );
    assert_eq!(
        field(&admin.val(&["ACL", "GETUSER", "newuser"]), "commands"),
        "+@all -client|kill"
    );
    assert_noperm(&mut c, &["CLIENT", "KILL", "type", "master"], "client|kill");
    ok(
        &mut admin,
        &[
            "ACL",
            "SETUSER",
            "newuser",
            "-@all",
            "+acl",
            "+config",
            "-config|set",
        ],
    );
    c.val(&["CONFIG", "GET", "timeout"]);
    assert_noperm(&mut c, &["CONFIG", "SET", "timeout", "0"], "config|set");
    // A first argument of a command without subcommands.
    ok(
        &mut admin,
        &["ACL", "SETUSER", "newuser", "-@all", "+acl", "+select|0"],
    );
    ok(&mut c, &["SELECT", "0"]);
    assert_noperm(&mut c, &["SELECT", "1"], "select");
    // Bad rules.
    for (rule, message) in [
        (
            "+config|get|appendonly",
            "Allowing first-arg of a subcommand is not supported",
        ),
        ("+config|asdf", "Unknown command or category name in ACL"),
        ("-config|asdf", "Unknown command or category name in ACL"),
        ("+get|key1|key2", "Unknown command or category name in ACL"),
        (
            "+@nosuchcategory",
            "Unknown command or category name in ACL",
        ),
        ("nosuchrule", "Syntax error"),
    ] {
        let e = error(&mut admin, &["ACL", "SETUSER", "newuser", "+@all", rule]);
        assert_eq!(
            e,
            format!("ERR Error in ACL SETUSER modifier '{rule}': {message}")
        );
    }
    // A failed SETUSER changed nothing.
    ok(&mut c, &["SELECT", "0"]);
    // Scripting commands are not in @read.
    ok(
        &mut admin,
        &["ACL", "SETUSER", "scripter", "on", "nopass", "+@read"],
    );
    let e = admin
        .val(&["ACL", "DRYRUN", "scripter", "EVAL_RO", "", "0"])
        .text();
    assert!(
        e.ends_with("has no permissions to run the 'eval_ro' command"),
        "{e}"
    );
}

#[test]
fn acl_cat_and_help() {
    let server = Server::start();
    let mut c = Raw::connect(server.port);
    let cats: Vec<String> = c.val(&["ACL", "CAT"]).arr().iter().map(R::text).collect();
    // Redis 7's 21 categories; Basalt adds RedisJSON's `json`, as a
    // Redis with the module loaded does.
    if basalt_tests::against_redis() {
        assert_eq!(cats.len(), 21);
    } else {
        assert_eq!(cats.len(), 22);
        assert_eq!(cats[21], "json");
    }
    assert_eq!(cats[0], "keyspace");
    let in_cat = |c: &mut Raw, cat: &str| -> Vec<String> {
        c.val(&["ACL", "CAT", cat])
            .arr()
            .iter()
            .map(R::text)
            .collect()
    };
    assert!(in_cat(&mut c, "transaction").contains(&"multi".to_string()));
    assert!(in_cat(&mut c, "scripting").contains(&"function|list".to_string()));
    assert!(!in_cat(&mut c, "keyspace").contains(&"set".to_string()));
    assert!(in_cat(&mut c, "STRING").contains(&"set".to_string()));
    assert_eq!(
        error(&mut c, &["ACL", "CAT", "NON_EXISTS"]),
        "ERR Unknown category 'NON_EXISTS'"
    );
    assert_eq!(
        error(&mut c, &["ACL", "CAT", "a", "b"]),
        "ERR unknown subcommand or wrong number of arguments for 'CAT'. Try ACL HELP."
    );
    assert_eq!(
        error(&mut c, &["ACL", "HELP", "xxx"]),
        "ERR wrong number of arguments for 'acl|help' command"
    );
    assert!(c.val(&["ACL", "HELP"]).arr().len() > 10);
    let pass = c.val(&["ACL", "GENPASS"]).text();
    assert_eq!(pass.len(), 64);
    assert!(pass.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(c.val(&["ACL", "GENPASS", "5"]).text().len(), 2);
    for bad in ["-236", "5000"] {
        let e = error(&mut c, &["ACL", "GENPASS", bad]);
        assert!(e.contains("ACL GENPASS argument must be the number"), "{e}");
    }
    if on_basalt() {
        // Each category alone is written back as given (Redis 7.2).
        for cat in &cats {
            ok(
                &mut c,
                &[
                    "ACL",
                    "SETUSER",
                    "additive",
                    "reset",
                    "+@all",
                    &format!("-@{cat}"),
                ],
            );
            assert_eq!(
                field(&c.val(&["ACL", "GETUSER", "additive"]), "commands"),
                format!("+@all -@{cat}")
            );
        }
        ok(
            &mut c,
            &[
                "ACL", "SETUSER", "adv", "-@all", "+hget", "-hset", "+hset", "-hget",
            ],
        );
        assert_eq!(
            field(&c.val(&["ACL", "GETUSER", "adv"]), "commands"),
            "-@all +hset -hget"
        );
    }
}

#[test]
fn key_patterns_with_read_and_write_access() {
    let server = Server::start();
    let mut admin = Raw::connect(server.port);
    ok(
        &mut admin,
        &[
            "ACL",
            "SETUSER",
            "newuser",
            "on",
            "nopass",
            "allcommands",
            "~foo:*",
            "~bar:*",
        ],
    );
    let mut c = login(server.port, "newuser", "x");
    ok(&mut c, &["SET", "foo:1", "a"]);
    ok(&mut c, &["SET", "bar:2", "b"]);
    assert_noperm(&mut c, &["SET", "zap:3", "c"], "key");
    if on_basalt() {
        assert_eq!(
            error(&mut c, &["GET", "zap"]),
            "NOPERM No permissions to access a key"
        );
    }
    // Every key must be allowed.
    assert_noperm(&mut c, &["MGET", "foo:1", "zap"], "key");

    ok(
        &mut admin,
        &[
            "ACL",
            "SETUSER",
            "newuser",
            "resetkeys",
            "%R~read*",
            "%W~write*",
            "%RW~rw*",
        ],
    );
    assert_eq!(
        field(&admin.val(&["ACL", "GETUSER", "newuser"]), "keys"),
        "%R~read* %W~write* ~rw*"
    );
    ok(&mut admin, &["SET", "read", "bar"]);
    ok(&mut admin, &["SET", "rw1", "x"]);
    assert_eq!(c.val(&["GET", "read"]).text(), "bar");
    assert_noperm(&mut c, &["GET", "write"], "key");
    assert_noperm(&mut c, &["SET", "read", "x"], "key");
    ok(&mut c, &["SET", "rw1", "y"]);
    // COPY reads its source and writes its destination.
    assert_eq!(c.cmd(&["COPY", "read", "write"]), ":1\r\n");
    assert_noperm(&mut c, &["COPY", "write", "read"], "key");
    let e = admin
        .val(&["ACL", "DRYRUN", "newuser", "COPY", "read", "read2"])
        .text();
    assert!(
        e.ends_with("has no permissions to access the 'read2' key"),
        "{e}"
    );
    assert_eq!(
        admin.cmd(&["ACL", "DRYRUN", "newuser", "COPY", "read", "write2"]),
        "+OK\r\n"
    );
    // A pattern after ~* is refused.
    ok(&mut admin, &["ACL", "SETUSER", "other", "allkeys"]);
    let e = error(&mut admin, &["ACL", "SETUSER", "other", "~foo"]);
    assert!(
        e.contains("Try 'resetkeys' to start with an empty list of patterns"),
        "{e}"
    );
}

#[test]
fn channels_and_pattern_subscriptions() {
    let server = Server::start();
    let mut admin = Raw::connect(server.port);
    // The default user may use any channel.
    assert_eq!(admin.cmd(&["PUBLISH", "foo", "bar"]), ":0\r\n");
    // A new user may use none (acl-pubsub-default resetchannels).
    ok(
        &mut admin,
        &[
            "ACL", "SETUSER", "psuser", "on", ">pspass", "+acl", "+client", "+@pubsub",
        ],
    );
    let mut c = login(server.port, "psuser", "pspass");
    assert_noperm(&mut c, &["PUBLISH", "foo", "bar"], "channel");
    assert_noperm(&mut c, &["SPUBLISH", "foo", "bar"], "channel");
    assert_noperm(&mut c, &["SUBSCRIBE", "foo"], "channel");
    assert_noperm(&mut c, &["SSUBSCRIBE", "foo"], "channel");
    assert_noperm(&mut c, &["PSUBSCRIBE", "bar*"], "channel");
    if on_basalt() {
        assert_eq!(
            error(&mut c, &["PUBLISH", "x", "y"]),
            "NOPERM No permissions to access a channel"
        );
    }
    ok(
        &mut admin,
        &[
            "ACL",
            "SETUSER",
            "psuser",
            "resetchannels",
            "&foo:1",
            "&bar:*",
        ],
    );
    assert_eq!(c.cmd(&["PUBLISH", "foo:1", "m"]), ":0\r\n");
    assert_eq!(c.cmd(&["PUBLISH", "bar:2", "m"]), ":0\r\n");
    assert_eq!(c.cmd(&["SPUBLISH", "bar:2", "m"]), ":0\r\n");
    assert_noperm(&mut c, &["PUBLISH", "zap:3", "m"], "channel");
    // Unsubscribing is never refused.
    assert_eq!(
        c.val(&["UNSUBSCRIBE", "zap"]).arr()[0].text(),
        "unsubscribe"
    );

    let mut s = login(server.port, "psuser", "pspass");
    ok(&mut s, &["CLIENT", "SETNAME", "pardoned"]);
    assert_eq!(s.val(&["SUBSCRIBE", "foo:1"]).arr()[2].int(), 1);
    assert_eq!(s.val(&["SUBSCRIBE", "bar:2"]).arr()[2].int(), 2);
    assert_noperm(&mut s, &["SUBSCRIBE", "zap:3"], "channel");
    // A pattern subscription must be one of the user's patterns exactly.
    assert_eq!(s.val(&["PSUBSCRIBE", "bar:*"]).arr()[2].int(), 3);
    assert_noperm(&mut s, &["PSUBSCRIBE", "bar:baz"], "channel");
    let e = error(
        &mut admin,
        &["ACL", "SETUSER", "psuser", "allchannels", "&x"],
    );
    assert!(e.contains("Try 'resetchannels'"), "{e}");
    let line = admin
        .val(&["ACL", "LIST"])
        .arr()
        .iter()
        .map(R::text)
        .find(|l| l.starts_with("user psuser"))
        .unwrap();
    assert!(line.contains("resetchannels &foo:1 &bar:*"), "{line}");

    // Widening the channels keeps subscribers; taking one away drops them.
    ok(&mut admin, &["ACL", "SETUSER", "psuser", "&baz:qaz"]);
    ok(&mut admin, &["ACL", "SETUSER", "psuser", "allchannels"]);
    assert!(admin
        .val(&["CLIENT", "LIST"])
        .text()
        .contains("name=pardoned"));
    ok(
        &mut admin,
        &["ACL", "SETUSER", "psuser", "resetchannels", "&foo:1"],
    );
    assert!(!admin
        .val(&["CLIENT", "LIST"])
        .text()
        .contains("name=pardoned"));
    s.assert_closed("subscriber whose channel was revoked");
    // A subscriber of a pattern that is gone, too.
    ok(
        &mut admin,
        &["ACL", "SETUSER", "psuser", "resetchannels", "&bar:*"],
    );
    let mut p = login(server.port, "psuser", "pspass");
    p.val(&["PSUBSCRIBE", "bar:*"]);
    ok(&mut admin, &["ACL", "SETUSER", "psuser", "resetchannels"]);
    p.assert_closed("pattern subscriber whose pattern was revoked");
    // Non-subscribers of the user stay.
    assert_eq!(c.val(&["ACL", "WHOAMI"]).text(), "psuser");
}

#[test]
fn selectors() {
    let server = Server::start();
    let mut admin = Raw::connect(server.port);
    ok(
        &mut admin,
        &[
            "ACL",
            "SETUSER",
            "sel",
            "on",
            "nopass",
            "-@all",
            "+get",
            "%R~read*",
            "(+set %W~write*)",
            "(~x* +@all)",
        ],
    );
    let user = admin.val(&["ACL", "GETUSER", "sel"]);
    let selectors = user.get("selectors");
    assert_eq!(selectors.arr().len(), 2);
    assert_eq!(field(&selectors.arr()[0], "keys"), "%W~write*");
    assert_eq!(field(&selectors.arr()[1], "keys"), "~x*");
    assert_eq!(field(&selectors.arr()[1], "commands"), "+@all");
    let mut c = login(server.port, "sel", "x");
    assert_eq!(c.cmd(&["GET", "read1"]), "$-1\r\n");
    ok(&mut c, &["SET", "x1", "v"]);
    assert_eq!(c.cmd(&["LPUSH", "x2", "v"]), ":1\r\n");
    // Selectors do not add up: GET may read read*, SET may write write*,
    // but nothing lets GET read write*.
    assert_noperm(&mut c, &["GET", "write1"], "key");
    assert_noperm(&mut c, &["HSET", "h", "f", "v"], "key");
    // The log names the command when no selector allows it, else the
    // key the selector that got furthest refused.
    ok(
        &mut admin,
        &[
            "ACL",
            "SETUSER",
            "logsel",
            "on",
            "nopass",
            "+mget",
            "~key",
            "(+mget ~key ~otherkey)",
        ],
    );
    let mut l = login(server.port, "logsel", "x");
    assert_noperm(&mut l, &["GET", "key"], "command");
    assert_eq!(field(&last_log(&mut admin), "object"), "get");
    for keys in [
        &["otherkey", "someotherkey"][..],
        &["key", "otherkey", "someotherkey"],
    ] {
        let mut args = vec!["MGET"];
        args.extend_from_slice(keys);
        assert_noperm(&mut l, &args, "key");
        let entry = last_log(&mut admin);
        assert_eq!(field(&entry, "reason"), "key");
        assert_eq!(field(&entry, "object"), "someotherkey");
    }
    // Syntax.
    let e = error(&mut admin, &["ACL", "SETUSER", "bad", "(+get", "~x"]);
    assert!(
        e.starts_with("ERR Unmatched parenthesis in acl selector starting at '(+get'"),
        "{e}"
    );
    let e = error(&mut admin, &["ACL", "SETUSER", "bad", "on", "(&* &fail)"]);
    assert!(
        e.starts_with("ERR Error in ACL SETUSER modifier '(&* &fail)': Adding a pattern after the"),
        "{e}"
    );
    assert_eq!(admin.cmd(&["ACL", "GETUSER", "bad"]), "$-1\r\n");
    ok(&mut admin, &["ACL", "SETUSER", "sel", "clearselectors"]);
    assert_eq!(
        admin
            .val(&["ACL", "GETUSER", "sel"])
            .get("selectors")
            .arr()
            .len(),
        0
    );
    assert_noperm(&mut c, &["SET", "x1", "v"], "set");
}

#[test]
fn dryrun() {
    let server = Server::start();
    let mut c = Raw::connect(server.port);
    ok(
        &mut c,
        &[
            "ACL",
            "SETUSER",
            "command-test",
            "+@all",
            "%R~read*",
            "%W~write*",
            "%RW~rw*",
            "-@hash",
        ],
    );
    assert_eq!(
        c.cmd(&["ACL", "DRYRUN", "command-test", "GET", "read1"]),
        "+OK\r\n"
    );
    let e = c
        .val(&["ACL", "DRYRUN", "command-test", "GET", "write1"])
        .text();
    assert!(
        e.ends_with("has no permissions to access the 'write1' key"),
        "{e}"
    );
    let e = c
        .val(&["ACL", "DRYRUN", "command-test", "HGET", "rw", "f"])
        .text();
    assert!(
        e.ends_with("has no permissions to run the 'hget' command"),
        "{e}"
    );
    let e = c
        .val(&["ACL", "DRYRUN", "command-test", "PUBLISH", "ch", "m"])
        .text();
    assert!(
        e.ends_with("has no permissions to access the 'ch' channel"),
        "{e}"
    );
    if on_basalt() {
        assert_eq!(
            e,
            "User command-test has no permissions to access the 'ch' channel"
        );
    }
    assert_eq!(
        c.cmd(&[
            "ACL",
            "DRYRUN",
            "command-test",
            "SORT",
            "read",
            "STORE",
            "write"
        ]),
        "+OK\r\n"
    );
    // Write-only keys take the writes Redis's key specs mark write-only
    // (SET without GET, LPUSH, DEL, EXPIRE) and refuse what reads them.
    for words in [
        &["SET", "write1", "v"][..],
        &["LPUSH", "write1", "v"],
        &["DEL", "write1"],
        &["EXPIRE", "write1", "10"],
    ] {
        let mut args = vec!["ACL", "DRYRUN", "command-test"];
        args.extend_from_slice(words);
        assert_eq!(c.cmd(&args), "+OK\r\n", "{words:?}");
    }
    for words in [
        &["SET", "write1", "v", "GET"][..],
        &["INCR", "write1"],
        &["LPOP", "write1"],
    ] {
        let mut args = vec!["ACL", "DRYRUN", "command-test"];
        args.extend_from_slice(words);
        let e = c.val(&args).text();
        assert!(
            e.ends_with("has no permissions to access the 'write1' key"),
            "{words:?}: {e}"
        );
    }
    assert_eq!(
        error(&mut c, &["ACL", "DRYRUN", "nobody", "GET", "k"]),
        "ERR User 'nobody' not found"
    );
    assert_eq!(
        error(&mut c, &["ACL", "DRYRUN", "command-test", "NOSUCH", "k"]),
        "ERR Command 'NOSUCH' not found"
    );
    assert_eq!(
        error(&mut c, &["ACL", "DRYRUN", "command-test", "GET"]),
        "ERR wrong number of arguments for 'get' command"
    );
    // DRYRUN logs nothing.
    assert_eq!(c.val(&["ACL", "LOG"]).arr().len(), 0);
}

#[test]
fn acl_log() {
    let server = Server::start();
    let mut admin = Raw::connect(server.port);
    ok(
        &mut admin,
        &[
            "ACL",
            "SETUSER",
            "antirez",
            ">foo",
            "on",
            "+set",
            "~object:1234",
        ],
    );
    ok(
        &mut admin,
        &["ACL", "SETUSER", "antirez", "+eval", "+multi", "+exec"],
    );
    ok(
        &mut admin,
        &["ACL", "SETUSER", "antirez", "resetchannels", "+publish"],
    );
    let mut c = login(server.port, "antirez", "foo");
    assert_noperm(&mut c, &["GET", "foo"], "get");
    let entry = last_log(&mut admin);
    assert_eq!(field(&entry, "username"), "antirez");
    assert_eq!(field(&entry, "context"), "toplevel");
    assert_eq!(field(&entry, "reason"), "command");
    assert_eq!(field(&entry, "object"), "get");
    if on_basalt() {
        assert!(field(&entry, "client-info").contains(" cmd=get "));
    }
    // Similar events are counted in one entry.
    c.cmd(&["GET", "foo"]);
    c.cmd(&["GET", "foo"]);
    assert_eq!(last_log(&mut admin).get("count").int(), 3);
    c.cmd(&["SET", "somekeynotallowed", "1"]);
    let entry = last_log(&mut admin);
    assert_eq!(
        (field(&entry, "reason"), field(&entry, "object")),
        ("key".into(), "somekeynotallowed".into())
    );
    c.cmd(&["PUBLISH", "somechannelnotallowed", "m"]);
    let entry = last_log(&mut admin);
    assert_eq!(
        (field(&entry, "reason"), field(&entry, "object")),
        ("channel".into(), "somechannelnotallowed".into())
    );
    // Subcommands are named in full.
    ok(&mut admin, &["ACL", "SETUSER", "demo", "on", "nopass"]);
    let mut d = login(server.port, "demo", "x");
    assert_noperm(&mut d, &["SCRIPT", "HELP"], "script|help");
    assert_eq!(field(&last_log(&mut admin), "object"), "script|help");
    assert_eq!(admin.val(&["ACL", "LOG", "2"]).arr().len(), 2);
    ok(&mut admin, &["ACL", "LOG", "RESET"]);
    assert_eq!(admin.val(&["ACL", "LOG"]).arr().len(), 0);
    // acllog-max-len.
    ok(&mut admin, &["CONFIG", "SET", "acllog-max-len", "5"]);
    for j in 0..10 {
        c.cmd(&["SET", &format!("obj:{j}"), "1"]);
    }
    assert_eq!(admin.val(&["ACL", "LOG"]).arr().len(), 5);
    ok(&mut admin, &["CONFIG", "SET", "acllog-max-len", "128"]);
}

#[test]
fn multi_exec_and_acl() {
    let server = Server::start();
    let mut admin = Raw::connect(server.port);
    ok(
        &mut admin,
        &[
            "ACL",
            "SETUSER",
            "antirez",
            ">foo",
            "on",
            "+set",
            "+incr",
            "~object:*",
            "+multi",
            "+exec",
            "+discard",
        ],
    );
    let mut c = login(server.port, "antirez", "foo");
    // Refused while queuing: the transaction is doomed.
    ok(&mut c, &["MULTI"]);
    assert_eq!(c.cmd(&["SET", "object:1", "x"]), "+QUEUED\r\n");
    assert_noperm(&mut c, &["GET", "object:1"], "get");
    assert!(error(&mut c, &["EXEC"]).starts_with("EXECABORT"));
    assert_eq!(admin.cmd(&["EXISTS", "object:1"]), ":0\r\n");
    let entry = last_log(&mut admin);
    assert_eq!(
        (field(&entry, "context"), field(&entry, "object")),
        ("multi".into(), "get".into())
    );
    // Rules changed between MULTI and EXEC: checked again at EXEC.
    ok(&mut c, &["MULTI"]);
    assert_eq!(c.cmd(&["INCR", "object:2"]), "+QUEUED\r\n");
    assert_eq!(c.cmd(&["SET", "object:3", "x"]), "+QUEUED\r\n");
    ok(&mut admin, &["ACL", "SETUSER", "antirez", "-incr"]);
    let replies = c.val(&["EXEC"]);
    let replies = replies.arr();
    match &replies[0] {
        R::Err(e) => assert!(
            e.starts_with("NOPERM") && e.contains("no permission"),
            "{e}"
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(replies[1], R::Simple("OK".into()));
    let entry = last_log(&mut admin);
    assert_eq!(
        (field(&entry, "context"), field(&entry, "object")),
        ("multi".into(), "incr".into())
    );
    if on_basalt() {
        assert!(field(&entry, "client-info").contains(" cmd=exec "));
    }
}

#[test]
fn scripts_run_as_their_caller() {
    let server = Server::start();
    let mut admin = Raw::connect(server.port);
    // Redis's unit/scripting "Script ACL check".
    ok(
        &mut admin,
        &[
            "ACL",
            "SETUSER",
            "bob",
            "on",
            ">123",
            "+@scripting",
            "+set",
            "~x*",
        ],
    );
    let mut c = login(server.port, "bob", "123");
    let check = |c: &mut Raw, body: &str, keys: &[&str]| -> R {
        let n = keys.len().to_string();
        let mut args = vec!["EVAL", body, n.as_str()];
        args.extend_from_slice(keys);
        c.val(&args)
    };
    assert_eq!(
        check(&mut c, "return redis.acl_check_cmd('set','xx',1)", &["xx"]),
        R::Int(1)
    );
    assert_eq!(
        check(
            &mut c,
            "return redis.acl_check_cmd('hset','xx','f',1)",
            &["xx"]
        ),
        R::Nil
    );
    assert_eq!(
        check(&mut c, "return redis.acl_check_cmd('set','yy',1)", &[]),
        R::Nil
    );
    match check(
        &mut c,
        "return redis.acl_check_cmd('invalid-cmd','arg')",
        &[],
    ) {
        R::Err(e) => assert!(
            e.starts_with("ERR") && e.contains("Invalid command passed to redis.acl_check_cmd()"),
            "{e}"
        ),
        other => panic!("{other:?}"),
    }
    // A command the user may not run fails inside the script, and the log
    // says so.
    match check(&mut c, "return redis.call('incr','xa')", &[]) {
        R::Err(e) => {
            assert!(e.starts_with("ERR"), "{e}");
            if on_basalt() {
                assert!(
                    e.starts_with("ERR ACL failure in script: User bob has no permissions to run the 'incr' command"),
                    "{e}"
                );
            }
        }
        other => panic!("{other:?}"),
    }
    let entry = last_log(&mut admin);
    assert_eq!(
        (field(&entry, "context"), field(&entry, "object")),
        ("lua".into(), "incr".into())
    );
    // Keys the script touches are checked as the caller's, declared or not.
    assert!(matches!(
        check(&mut c, "return redis.call('set','yy','1')", &[]),
        R::Err(_)
    ));
    assert_eq!(admin.cmd(&["EXISTS", "yy"]), ":0\r\n");
    assert_eq!(
        check(&mut c, "return redis.call('set','xy','1')", &[]),
        R::Simple("OK".into())
    );
    // The script's own keys are checked before it runs.
    assert_noperm(&mut c, &["EVAL", "return 1", "1", "nope"], "key");
    // pcall sees the error as a value.
    let r = check(
        &mut c,
        "local r = redis.pcall('get','xy'); return r['err']",
        &[],
    );
    assert!(matches!(r, R::Bulk(_) | R::Simple(_)), "{r:?}");
}

#[test]
fn deleting_a_user_disconnects_its_clients() {
    let server = Server::start();
    let mut admin = Raw::connect(server.port);
    ok(&mut admin, &["ACL", "SETUSER", "not_used", "on", ">passwd"]);
    assert_eq!(
        admin.cmd(&["ACL", "DELUSER", "not_used", "nosuch"]),
        ":1\r\n"
    );
    admin.assert_alive();
    assert_eq!(
        error(&mut admin, &["ACL", "DELUSER", "default"]),
        "ERR The 'default' user cannot be removed"
    );
    ok(
        &mut admin,
        &["ACL", "SETUSER", "using", "on", "+acl", "+ping", ">passwd"],
    );
    let mut other = login(server.port, "using", "passwd");
    other.assert_alive();
    let mut me = login(server.port, "using", "passwd");
    // The reply still comes, then the connection closes.
    assert_eq!(me.cmd(&["ACL", "DELUSER", "using"]), ":1\r\n");
    me.assert_closed("client of its own deleted user");
    other.assert_closed("client of a deleted user");
    // A user of the same name created again is another user.
    ok(&mut admin, &["ACL", "SETUSER", "using", "on", ">passwd"]);
    admin.assert_alive();
}

#[test]
fn client_list_and_kill_by_user() {
    let server = Server::start();
    let mut admin = Raw::connect(server.port);
    ok(
        &mut admin,
        &["ACL", "SETUSER", "worker", "on", "nopass", "+@all", "~*"],
    );
    let mut w = login(server.port, "worker", "x");
    ok(&mut w, &["CLIENT", "SETNAME", "w1"]);
    let list = admin.val(&["CLIENT", "LIST"]).text();
    let line = list.lines().find(|l| l.contains("name=w1")).unwrap();
    assert!(line.contains(" user=worker "), "{line}");
    assert!(w.val(&["CLIENT", "INFO"]).text().contains(" user=worker "));
    assert_eq!(
        error(&mut admin, &["CLIENT", "KILL", "USER", "nobody"]),
        "ERR No such user 'nobody'"
    );
    assert_eq!(admin.cmd(&["CLIENT", "KILL", "USER", "worker"]), ":1\r\n");
    w.assert_closed("killed by user");
    admin.assert_alive();
}

#[test]
fn load_and_save_need_an_acl_file() {
    let server = Server::start();
    let mut c = Raw::connect(server.port);
    for sub in ["LOAD", "SAVE"] {
        let e = error(&mut c, &["ACL", sub]);
        assert!(
            e.starts_with("ERR This Redis instance is not configured to use an ACL file."),
            "{e}"
        );
    }
}

fn write_file(dir: &std::path::Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn the_acl_file_at_startup_and_with_save_and_load() {
    let mut path = String::new();
    let server = Server::start_common(|dir| {
        path = write_file(
            dir,
            "users.acl",
            "user alice on allcommands allkeys &* >alice\n\
             user bob on -@all +@set +acl ~set* &* >bob\n\
             user default on nopass ~* &* +@all\n",
        );
        vec!["--aclfile".into(), path.clone()]
    });
    let mut a = login(server.port, "alice", "alice");
    assert_eq!(a.val(&["ACL", "WHOAMI"]).text(), "alice");
    ok(&mut a, &["SET", "key", "value"]);
    let mut b = login(server.port, "bob", "bob");
    assert_eq!(b.cmd(&["SADD", "set", "1", "2", "3"]), ":3\r\n");
    assert_noperm(&mut b, &["SET", "key", "value"], "set");

    // SAVE writes every user; LOAD reads them back and disconnects the
    // clients of every user but default.
    ok(
        &mut a,
        &["ACL", "SETUSER", "eve", "+get", "allkeys", ">eve", "on"],
    );
    ok(&mut a, &["ACL", "SAVE"]);
    let saved = std::fs::read_to_string(&path).unwrap();
    assert!(
        saved.lines().any(|l| l.starts_with("user eve on ")),
        "{saved}"
    );
    assert!(!saved.contains(">eve"), "passwords are saved as hashes");
    let mut default = Raw::connect(server.port);
    ok(&mut a, &["ACL", "LOAD"]);
    a.assert_closed("client of a user replaced by ACL LOAD");
    b.assert_closed("client of a user replaced by ACL LOAD");
    default.assert_alive();
    let mut e = login(server.port, "eve", "eve");
    assert_eq!(e.cmd(&["GET", "key"]), "$5\r\nvalue\r\n");
    assert_noperm(&mut e, &["SET", "key", "value"], "set");

    // A file with an error changes nothing.
    std::fs::write(&path, format!("{saved}user alice on nopass ~* -@all\n")).unwrap();
    let err = error(&mut default, &["ACL", "LOAD"]);
    assert!(err.contains("Duplicate user 'alice' found"), "{err}");
    let alice = default.val(&["ACL", "GETUSER", "alice"]);
    assert_eq!(field(&alice, "commands"), "+@all");
    assert_eq!(e.cmd(&["GET", "key"]), "$5\r\nvalue\r\n");
    // The default user keeps its connections and takes the file's rules.
    std::fs::write(&path, "user default on nopass ~* &* -@all +ping +acl\n").unwrap();
    ok(&mut default, &["ACL", "LOAD"]);
    default.assert_alive();
    assert_noperm(&mut default, &["GET", "key"], "get");
    e.assert_closed("eve is gone");
    assert_eq!(default.val(&["ACL", "USERS"]).arr().len(), 1);
}

#[test]
fn a_bad_acl_file_stops_startup() {
    if against_redis() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(dir.path(), "bad.acl", "user alice on +nosuchcommand\n");
    let out = std::process::Command::new(basalt_tests::server_binary())
        .args(["--port", "65000", "--dir"])
        .arg(dir.path().join("data"))
        .args(["--aclfile", &path])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("Unknown command or category name in ACL"),
        "{stderr}"
    );
    // A missing file too.
    let out = std::process::Command::new(basalt_tests::server_binary())
        .args(["--port", "65000", "--dir"])
        .arg(dir.path().join("data"))
        .args(["--aclfile", "/nonexistent/users.acl"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("No such file or directory"));
}

#[test]
fn acl_pubsub_default() {
    let server = Server::start();
    let mut c = Raw::connect(server.port);
    assert_eq!(
        c.val(&["CONFIG", "GET", "acl-pubsub-default"])
            .get("acl-pubsub-default")
            .text(),
        "resetchannels"
    );
    ok(
        &mut c,
        &["CONFIG", "SET", "acl-pubsub-default", "allchannels"],
    );
    ok(&mut c, &["ACL", "SETUSER", "mydefault"]);
    assert_eq!(
        field(&c.val(&["ACL", "GETUSER", "mydefault"]), "channels"),
        "&*"
    );
    let e = error(&mut c, &["ACL", "SETUSER", "onechannel", "&test"]);
    assert!(e.contains("start with an empty list of channels"), "{e}");
    // Existing users keep their channels.
    ok(
        &mut c,
        &["CONFIG", "SET", "acl-pubsub-default", "resetchannels"],
    );
    assert_eq!(
        field(&c.val(&["ACL", "GETUSER", "mydefault"]), "channels"),
        "&*"
    );
    ok(&mut c, &["ACL", "SETUSER", "onechannel", "&test"]);
    assert_eq!(
        field(&c.val(&["ACL", "GETUSER", "onechannel"]), "channels"),
        "&test"
    );
    // The default user after `reset` follows the option.
    ok(
        &mut c,
        &[
            "ACL", "SETUSER", "default", "reset", "on", "nopass", "~*", "+@all",
        ],
    );
    assert_noperm(&mut c, &["PUBLISH", "hello", "world"], "channel");
    ok(&mut c, &["ACL", "SETUSER", "default", "allchannels"]);
    assert_eq!(c.cmd(&["PUBLISH", "hello", "world"]), ":0\r\n");
}

#[test]
fn pipelined_commands_after_a_user_is_deleted_are_refused() {
    // A client of a deleted user is closed; commands it already sent get
    // nothing but refusals, never the deleted user's rights.
    let server = Server::start();
    let mut admin = Raw::connect(server.port);
    ok(
        &mut admin,
        &["ACL", "SETUSER", "gone", "on", "nopass", "+@all", "~*"],
    );
    let mut c = login(server.port, "gone", "x");
    let mut pipeline = crate::protocol::encode(&["ACL", "DELUSER", "gone"]);
    pipeline.extend(crate::protocol::encode(&["SET", "after", "1"]));
    c.send(&pipeline);
    assert_eq!(c.reply(), ":1\r\n");
    let _ = c.closed_within(Duration::from_secs(5));
    assert_eq!(admin.cmd(&["EXISTS", "after"]), ":0\r\n");
}

#[test]
fn a_blocked_command_is_checked_again_when_served() {
    // Redis 7.2 checks a blocked command again when a push serves it
    // (7.0 served it regardless).
    if against_redis() {
        return;
    }
    let server = Server::start();
    let mut admin = Raw::connect(server.port);
    ok(
        &mut admin,
        &[
            "ACL", "SETUSER", "psuser", "reset", "on", "nopass", "+@all", "allkeys",
        ],
    );
    let mut c = login(server.port, "psuser", "x");
    c.send(&crate::protocol::encode(&["BLPOP", "list1", "0"]));
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    // Blocked, not just started (`cmd=blpop` shows before the handler
    // runs, and a push then would be taken at once).
    while !admin
        .val(&["INFO", "clients"])
        .text()
        .contains("blocked_clients:1")
    {
        assert!(std::time::Instant::now() < deadline, "BLPOP never blocked");
        std::thread::sleep(Duration::from_millis(10));
    }
    ok(&mut admin, &["ACL", "SETUSER", "psuser", "resetkeys"]);
    assert_eq!(admin.cmd(&["LPUSH", "list1", "foo"]), ":1\r\n");
    assert_eq!(c.reply(), "-NOPERM No permissions to access a key\r\n");
    assert_eq!(admin.cmd(&["LLEN", "list1"]), ":1\r\n");
    assert_eq!(field(&last_log(&mut admin), "object"), "list1");
    assert!(c.cmd(&["PING"]).starts_with("+PONG"));
}
