//! Connection commands: PING ECHO QUIT RESET AUTH SELECT CLIENT HELLO.

use std::time::Duration;

use basalt_tests::{against_redis, skip_on_redis, Server};

use crate::protocol::{start_opts, Raw, R};

const WRONGPASS: &str = "-WRONGPASS invalid username-password pair or user is disabled.\r\n";
const NOAUTH: &str = "-NOAUTH Authentication required.\r\n";

fn wrong_args(cmd: &str) -> String {
    format!("-ERR wrong number of arguments for '{cmd}' command\r\n")
}

#[test]
fn ping_and_echo() {
    let server = Server::start();
    let mut c = Raw::connect(server.port);
    assert_eq!(c.cmd(&["PING"]), "+PONG\r\n");
    assert_eq!(c.cmd(&["ping", "hello world"]), "$11\r\nhello world\r\n");
    assert_eq!(c.cmd(&["PING", ""]), "$0\r\n\r\n");
    assert_eq!(c.cmd(&["PING", "a", "b"]), wrong_args("ping"));
    assert_eq!(c.cmd(&["ECHO", "x y"]), "$3\r\nx y\r\n");
    assert_eq!(
        c.cmd(&[b"ECHO".as_slice(), b"\x00\r\n\xff".as_slice()]),
        "$4\r\n\0\r\n\u{fffd}\r\n"
    );
    assert_eq!(c.cmd(&["ECHO"]), wrong_args("echo"));
    assert_eq!(c.cmd(&["ECHO", "a", "b"]), wrong_args("echo"));
    // Through the client library, too.
    let mut lib = server.client();
    let pong: String = redis::cmd("PING").query(&mut lib).unwrap();
    assert_eq!(pong, "PONG");
    let echo: Vec<u8> = redis::cmd("ECHO").arg(b"\x01\x02").query(&mut lib).unwrap();
    assert_eq!(echo, b"\x01\x02");
}

#[test]
fn quit_replies_ok_and_closes() {
    let server = Server::start();
    let mut c = Raw::connect(server.port);
    // Commands pipelined after QUIT are not executed.
    c.send(b"SET before 1\r\nQUIT\r\nSET after 1\r\n");
    assert_eq!(c.reply(), "+OK\r\n");
    assert_eq!(c.reply(), "+OK\r\n");
    c.assert_closed("after QUIT");
    assert!(c.buf.is_empty(), "reply after QUIT: {:?}", c.buf);
    let mut check = Raw::connect(server.port);
    assert_eq!(check.cmd(&["EXISTS", "before", "after"]), ":1\r\n");
}

#[test]
fn reset_restores_the_connection_defaults() {
    let server = Server::start();
    let mut c = Raw::connect(server.port);
    let id = c.cmd(&["CLIENT", "ID"]);
    assert_eq!(c.cmd(&["CLIENT", "SETNAME", "before-reset"]), "+OK\r\n");
    c.val(&["HELLO", "3"]);
    assert_eq!(c.cmd(&["RESET"]), "+RESET\r\n");
    // Name cleared, protocol back to RESP2, same connection.
    assert_eq!(c.cmd(&["CLIENT", "GETNAME"]), "$-1\r\n");
    assert_eq!(c.cmd(&["GET", "missing"]), "$-1\r\n");
    assert_eq!(c.cmd(&["CLIENT", "ID"]), id);
    assert_eq!(c.cmd(&["RESET", "x"]), wrong_args("reset"));

    // With a password, RESET de-authenticates the connection.
    let server = start_opts(&[("requirepass", "secret")]);
    let mut c = Raw::connect(server.port);
    assert_eq!(c.cmd(&["AUTH", "secret"]), "+OK\r\n");
    assert_eq!(c.cmd(&["SET", "k", "v"]), "+OK\r\n");
    assert_eq!(c.cmd(&["RESET"]), "+RESET\r\n");
    assert_eq!(c.cmd(&["GET", "k"]), NOAUTH);
}

#[test]
fn auth_with_requirepass() {
    let server = start_opts(&[("requirepass", "secret")]);
    let mut c = Raw::connect(server.port);
    assert_eq!(c.cmd(&["GET", "k"]), NOAUTH);
    assert_eq!(c.cmd(&["SET", "k", "v"]), NOAUTH);
    assert_eq!(c.cmd(&["PING"]), NOAUTH);
    assert_eq!(c.cmd(&["AUTH", "wrong"]), WRONGPASS);
    assert_eq!(c.cmd(&["AUTH", "default", "wrong"]), WRONGPASS);
    assert_eq!(c.cmd(&["AUTH", "nobody", "secret"]), WRONGPASS);
    assert_eq!(c.cmd(&["AUTH"]), wrong_args("auth"));
    assert_eq!(c.cmd(&["AUTH", "a", "b", "c"]), "-ERR syntax error\r\n");
    assert_eq!(c.cmd(&["GET", "k"]), NOAUTH);
    assert_eq!(c.cmd(&["AUTH", "secret"]), "+OK\r\n");
    assert_eq!(c.cmd(&["SET", "k", "v"]), "+OK\r\n");
    // A failed AUTH later does not log the connection out.
    assert_eq!(c.cmd(&["AUTH", "wrong"]), WRONGPASS);
    assert_eq!(c.cmd(&["GET", "k"]), "$1\r\nv\r\n");

    let mut d = Raw::connect(server.port);
    assert_eq!(d.cmd(&["AUTH", "default", "secret"]), "+OK\r\n");
    assert_eq!(d.cmd(&["GET", "k"]), "$1\r\nv\r\n");
    // QUIT needs no authentication.
    let mut e = Raw::connect(server.port);
    assert_eq!(e.cmd(&["QUIT"]), "+OK\r\n");

    // The client library authenticates from the URL.
    let url = format!("redis://:secret@127.0.0.1:{}/", server.port);
    let mut lib = redis::Client::open(url).unwrap().get_connection().unwrap();
    let v: String = redis::cmd("GET").arg("k").query(&mut lib).unwrap();
    assert_eq!(v, "v");
}

#[test]
fn auth_without_a_configured_password() {
    let server = Server::start();
    let mut c = Raw::connect(server.port);
    assert_eq!(
        c.cmd(&["AUTH", "anything"]),
        "-ERR AUTH <password> called without any password configured for the default user. \
         Are you sure your configuration is correct?\r\n"
    );
    // The connection stays usable.
    c.assert_alive();
}

#[test]
fn select_only_db_0() {
    let server = Server::start();
    let mut c = Raw::connect(server.port);
    assert_eq!(c.cmd(&["SELECT", "0"]), "+OK\r\n");
    assert_eq!(
        c.cmd(&["SELECT", "16"]),
        "-ERR DB index is out of range\r\n"
    );
    assert_eq!(
        c.cmd(&["SELECT", "-1"]),
        "-ERR DB index is out of range\r\n"
    );
    assert_eq!(
        c.cmd(&["SELECT", "abc"]),
        "-ERR value is not an integer or out of range\r\n"
    );
    assert_eq!(c.cmd(&["SELECT"]), wrong_args("select"));
    if !against_redis() {
        // Basalt has one database, like Kvrocks' default namespace.
        assert_eq!(c.cmd(&["SELECT", "1"]), "-ERR DB index is out of range\r\n");
        assert_eq!(c.cmd(&["SET", "k", "v"]), "+OK\r\n");
        assert_eq!(c.cmd(&["SELECT", "0"]), "+OK\r\n");
        assert_eq!(c.cmd(&["GET", "k"]), "$1\r\nv\r\n");
    }
}

#[test]
fn client_id_setname_getname() {
    let server = Server::start();
    let mut a = Raw::connect(server.port);
    let mut b = Raw::connect(server.port);
    let ida = a.val(&["CLIENT", "ID"]).int();
    let idb = b.val(&["CLIENT", "ID"]).int();
    assert!(ida > 0 && idb > ida, "ids {ida} {idb} must grow");
    assert_eq!(a.val(&["CLIENT", "ID"]).int(), ida, "stable per connection");

    assert_eq!(a.cmd(&["CLIENT", "GETNAME"]), "$-1\r\n");
    assert_eq!(a.cmd(&["CLIENT", "SETNAME", "worker-1"]), "+OK\r\n");
    assert_eq!(a.cmd(&["CLIENT", "GETNAME"]), "$8\r\nworker-1\r\n");
    assert_eq!(b.cmd(&["CLIENT", "GETNAME"]), "$-1\r\n");
    assert_eq!(
        a.cmd(&["CLIENT", "SETNAME", "has space"]),
        "-ERR Client names cannot contain spaces, newlines or special characters.\r\n"
    );
    assert_eq!(a.cmd(&["CLIENT", "GETNAME"]), "$8\r\nworker-1\r\n");
    // An empty name removes it.
    assert_eq!(a.cmd(&["CLIENT", "SETNAME", ""]), "+OK\r\n");
    assert_eq!(a.cmd(&["CLIENT", "GETNAME"]), "$-1\r\n");
    assert_eq!(
        a.cmd(&["CLIENT", "NOSUCH"]),
        "-ERR unknown subcommand 'NOSUCH'. Try CLIENT HELP.\r\n"
    );
    assert_eq!(a.cmd(&["CLIENT", "SETNAME"]), wrong_args("client|setname"));
}

/// The `name=value` fields of one CLIENT LIST / CLIENT INFO line.
fn fields(line: &str) -> Vec<(String, String)> {
    line.split_whitespace()
        .filter_map(|f| f.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn field(line: &str, name: &str) -> String {
    fields(line)
        .into_iter()
        .find(|(k, _)| k == name)
        .unwrap_or_else(|| panic!("no {name}= in {line:?}"))
        .1
}

#[test]
fn client_list_and_info() {
    let server = Server::start();
    let mut a = Raw::connect(server.port);
    let mut b = Raw::connect(server.port);
    let ida = a.val(&["CLIENT", "ID"]).int();
    let idb = b.val(&["CLIENT", "ID"]).int();
    assert_eq!(a.cmd(&["CLIENT", "SETNAME", "alice"]), "+OK\r\n");

    let list = b.val(&["CLIENT", "LIST"]).text();
    let lines: Vec<&str> = list.lines().collect();
    assert!(list.ends_with('\n'), "{list:?}");
    let line_a = lines
        .iter()
        .find(|l| l.starts_with(&format!("id={ida} ")))
        .unwrap_or_else(|| panic!("client {ida} not listed:\n{list}"));
    let line_b = lines
        .iter()
        .find(|l| l.starts_with(&format!("id={idb} ")))
        .unwrap_or_else(|| panic!("client {idb} not listed:\n{list}"));
    assert_eq!(field(line_a, "name"), "alice");
    assert_eq!(field(line_b, "name"), "");
    assert_eq!(
        field(line_a, "addr"),
        a.stream.local_addr().unwrap().to_string()
    );
    assert_eq!(field(line_a, "db"), "0");
    assert_eq!(field(line_a, "cmd"), "client|setname");
    assert_eq!(field(line_b, "cmd"), "client|list");
    assert_eq!(field(line_b, "laddr"), format!("127.0.0.1:{}", server.port));
    for f in ["age", "idle", "flags", "fd"] {
        field(line_a, f);
    }

    let info = b.val(&["CLIENT", "INFO"]).text();
    assert_eq!(info.lines().count(), 1, "{info:?}");
    assert!(info.ends_with('\n'), "{info:?}");
    assert_eq!(field(&info, "id"), idb.to_string());
    assert_eq!(
        field(&info, "addr"),
        b.stream.local_addr().unwrap().to_string()
    );
    assert_eq!(field(&info, "cmd"), "client|info");

    // CLIENT LIST ID filters.
    let only_a = b.val(&["CLIENT", "LIST", "ID", &ida.to_string()]).text();
    assert_eq!(only_a.lines().count(), 1, "{only_a:?}");
    assert_eq!(field(&only_a, "id"), ida.to_string());

    // A closed client disappears from the list.
    drop(a);
    std::thread::sleep(Duration::from_millis(200));
    let list = b.val(&["CLIENT", "LIST"]).text();
    assert!(
        !list.lines().any(|l| l.starts_with(&format!("id={ida} "))),
        "{list}"
    );
}

#[test]
fn client_kill_by_id_and_addr() {
    let server = Server::start();
    let mut killer = Raw::connect(server.port);
    let idk = killer.val(&["CLIENT", "ID"]).int().to_string();

    // New form: CLIENT KILL ID <id> answers the number killed.
    let mut a = Raw::connect(server.port);
    let ida = a.val(&["CLIENT", "ID"]).int().to_string();
    assert_eq!(killer.cmd(&["CLIENT", "KILL", "ID", &ida]), ":1\r\n");
    a.assert_closed("killed by ID");
    assert_eq!(killer.cmd(&["CLIENT", "KILL", "ID", &ida]), ":0\r\n");

    // New form by address.
    let mut b = Raw::connect(server.port);
    b.assert_alive();
    let addr_b = b.stream.local_addr().unwrap().to_string();
    assert_eq!(killer.cmd(&["CLIENT", "KILL", "ADDR", &addr_b]), ":1\r\n");
    b.assert_closed("killed by ADDR");

    // Old form: CLIENT KILL <addr> answers +OK or an error.
    let mut c = Raw::connect(server.port);
    c.assert_alive();
    let addr_c = c.stream.local_addr().unwrap().to_string();
    assert_eq!(killer.cmd(&["CLIENT", "KILL", &addr_c]), "+OK\r\n");
    c.assert_closed("killed by old-form addr");
    assert_eq!(
        killer.cmd(&["CLIENT", "KILL", &addr_c]),
        "-ERR No such client\r\n"
    );

    // A user that does not exist is an error, not zero clients.
    assert_eq!(
        killer.cmd(&["CLIENT", "KILL", "USER", "wrong_user"]),
        "-ERR No such user 'wrong_user'\r\n"
    );

    // SKIPME defaults to yes: a client does not kill itself...
    assert_eq!(killer.cmd(&["CLIENT", "KILL", "ID", &idk]), ":0\r\n");
    killer.assert_alive();
    // ...unless told to; it still gets the reply, then is closed.
    assert_eq!(
        killer.cmd(&["CLIENT", "KILL", "ID", &idk, "SKIPME", "no"]),
        ":1\r\n"
    );
    killer.assert_closed("killed itself");
    crate::protocol::assert_server_ok(server.port);
}

#[test]
fn hello_setname_and_protocol_switch() {
    let server = Server::start();
    let mut c = Raw::connect(server.port);
    let reply = c.val(&["HELLO", "2", "SETNAME", "via-hello"]);
    assert!(matches!(reply, R::Arr(_)), "{reply:?}");
    assert_eq!(reply.get("proto"), R::Int(2));
    assert_eq!(c.cmd(&["CLIENT", "GETNAME"]), "$9\r\nvia-hello\r\n");
    // HELLO without a version reports the current protocol.
    let reply = c.val(&["HELLO"]);
    assert_eq!(reply.get("proto"), R::Int(2));
    let reply = c.val(&["HELLO", "3", "SETNAME", "renamed"]);
    assert!(matches!(reply, R::Map(_)), "{reply:?}");
    assert_eq!(c.cmd(&["CLIENT", "GETNAME"]), "$7\r\nrenamed\r\n");
    let info = c.val(&["CLIENT", "INFO"]).text();
    assert_eq!(field(&info, "name"), "renamed");
    assert_eq!(field(&info, "resp"), "3");
    assert_eq!(
        c.cmd(&["HELLO", "3", "SETNAME", "bad name"]),
        "-ERR Client names cannot contain spaces, newlines or special characters.\r\n"
    );
    assert_eq!(
        c.cmd(&["HELLO", "3", "AUTH", "default"]),
        "-ERR Syntax error in HELLO option 'AUTH'\r\n"
    );
}

/// Redis counts the running command in its client's query buffer: CLIENT
/// INFO sent alone shows its own 26 bytes.
#[test]
fn client_info_counts_the_running_command_in_qbuf() {
    let server = Server::start();
    let mut c = server.client();
    for _ in 0..2 {
        let info: String = redis::cmd("CLIENT").arg("INFO").query(&mut c).unwrap();
        assert!(info.contains(" qbuf=26 "), "{info}");
        let list: String = redis::cmd("CLIENT").arg("LIST").query(&mut c).unwrap();
        assert!(list.contains(" qbuf=26 "), "{list}");
    }
}

/// CLIENT REPLY OFF silences every reply until ON (whose OK is sent),
/// SKIP silences the next command's reply only, and subscribe
/// confirmations and messages still arrive while replies are off.
#[test]
fn client_reply_on_off_skip() {
    use crate::protocol::encode;
    let server = Server::start();
    let mut c = Raw::connect(server.port);
    for cmd in [
        &["CLIENT", "REPLY", "OFF"][..],
        &["PING", "pong"],
        &["PING", "pong2"],
        &["CLIENT", "REPLY", "ON"],
    ] {
        c.send(&encode(cmd));
    }
    assert_eq!(c.reply(), "+OK\r\n");
    assert_eq!(c.cmd(&["PING", "pong3"]), "$5\r\npong3\r\n");

    c.send(&encode(&["CLIENT", "REPLY", "SKIP"]));
    c.send(&encode(&["PING", "skipped"]));
    assert_eq!(c.cmd(&["PING", "pong4"]), "$5\r\npong4\r\n");

    c.send(&encode(&["CLIENT", "REPLY", "SKIP"]));
    assert_eq!(c.cmd(&["CLIENT", "REPLY", "ON"]), "+OK\r\n");
    assert_eq!(c.cmd(&["PING"]), "+PONG\r\n");
    assert_eq!(
        c.cmd(&["CLIENT", "REPLY", "MAYBE"]),
        "-ERR syntax error\r\n"
    );

    // Pub/sub traffic is not a reply: it still arrives.
    c.send(&encode(&["CLIENT", "REPLY", "OFF"]));
    assert_eq!(
        c.cmd(&["SUBSCRIBE", "ch"]),
        "*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n"
    );
    let mut other = Raw::connect(server.port);
    assert_eq!(other.cmd(&["PUBLISH", "ch", "hi"]), ":1\r\n");
    assert_eq!(c.reply(), "*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n");
}

#[test]
fn client_info_has_redis_fields_in_redis_order() {
    let server = Server::start();
    let mut c = Raw::connect(server.port);
    let info = c.val(&["CLIENT", "INFO"]).text();
    let names: Vec<String> = fields(&info).into_iter().map(|(k, _)| k).collect();
    let want = [
        "id",
        "addr",
        "laddr",
        "fd",
        "name",
        "age",
        "idle",
        "flags",
        "db",
        "sub",
        "psub",
        "ssub",
        "multi",
        "qbuf",
        "qbuf-free",
        "argv-mem",
        "multi-mem",
        "rbs",
        "rbp",
        "obl",
        "oll",
        "omem",
        "tot-mem",
        "events",
        "cmd",
        "user",
        "redir",
        "resp",
    ];
    // Redis 7.2 ends with lib-name and lib-ver, which 7.0 lacks.
    assert_eq!(names[..want.len()], want, "{info}");
    if !against_redis() {
        assert_eq!(names[want.len()..], ["lib-name", "lib-ver"], "{info}");
    }
    assert_eq!(field(&info, "flags"), "N");
    assert_eq!(field(&info, "redir"), "-1");
    c.cmd(&["MULTI"]);
    c.cmd(&["PING"]);
    c.cmd(&["PING"]);
    let mut other = Raw::connect(server.port);
    let id = c.val(&["CLIENT", "ID"]);
    assert_eq!(id, R::Simple("QUEUED".into()));
    let line = other.val(&["CLIENT", "LIST"]).text();
    let mine = line
        .lines()
        .find(|l| field(l, "multi") == "3")
        .unwrap_or_else(|| panic!("{line}"));
    assert_eq!(field(mine, "flags"), "x");
}

#[test]
fn client_no_evict_is_a_flag() {
    let server = Server::start();
    let mut c = Raw::connect(server.port);
    assert_eq!(c.cmd(&["CLIENT", "NO-EVICT", "on"]), "+OK\r\n");
    assert_eq!(field(&c.val(&["CLIENT", "INFO"]).text(), "flags"), "e");
    assert_eq!(c.cmd(&["CLIENT", "NO-EVICT", "off"]), "+OK\r\n");
    assert_eq!(field(&c.val(&["CLIENT", "INFO"]).text(), "flags"), "N");
    assert_eq!(
        c.cmd(&["CLIENT", "NO-EVICT", "maybe"]),
        "-ERR syntax error\r\n"
    );
}

#[test]
fn client_no_touch_is_a_flag_and_reset_drops_it() {
    // CLIENT NO-TOUCH is new in Redis 7.2.
    skip_on_redis!();
    let server = Server::start();
    let mut c = Raw::connect(server.port);
    assert_eq!(c.cmd(&["CLIENT", "NO-TOUCH", "on"]), "+OK\r\n");
    c.cmd(&["CLIENT", "NO-EVICT", "on"]);
    c.cmd(&["CLIENT", "TRACKING", "on"]);
    assert_eq!(field(&c.val(&["CLIENT", "INFO"]).text(), "flags"), "teT");
    assert_eq!(
        c.cmd(&["CLIENT", "NO-TOUCH", "maybe"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(c.cmd(&["RESET"]), "+RESET\r\n");
    assert_eq!(field(&c.val(&["CLIENT", "INFO"]).text(), "flags"), "N");
    assert_eq!(c.val(&["CLIENT", "GETREDIR"]).int(), -1);
}

#[test]
fn client_list_filters_as_redis_parses_them() {
    let server = Server::start();
    let mut c = Raw::connect(server.port);
    let mut sub = Raw::connect(server.port);
    let sub_id = sub.val(&["CLIENT", "ID"]).int();
    sub.cmd(&["SUBSCRIBE", "ch"]);
    let pubsub = c.val(&["CLIENT", "LIST", "TYPE", "pubsub"]).text();
    assert_eq!(pubsub.lines().count(), 1, "{pubsub}");
    assert_eq!(field(&pubsub, "id"), sub_id.to_string());
    assert_eq!(field(&pubsub, "flags"), "P");
    let normal = c.val(&["CLIENT", "LIST", "TYPE", "NORMAL"]).text();
    assert_eq!(normal.lines().count(), 1, "{normal}");
    assert_eq!(c.val(&["CLIENT", "LIST", "TYPE", "replica"]).text(), "");
    assert_eq!(
        c.cmd(&["CLIENT", "LIST", "TYPE", "bogus"]),
        "-ERR Unknown client type 'bogus'\r\n"
    );
    assert_eq!(
        c.cmd(&["CLIENT", "LIST", "ID", "1", "x"]),
        "-ERR Invalid client ID\r\n"
    );
    // Unknown ids are left out, and so are negative ones.
    let some = c
        .val(&["CLIENT", "LIST", "ID", &sub_id.to_string(), "999999", "-3"])
        .text();
    assert_eq!(some.lines().count(), 1, "{some}");
    assert_eq!(
        c.cmd(&["CLIENT", "LIST", "TYPE", "normal", "ID", "1"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(c.cmd(&["CLIENT", "LIST", "bogus"]), "-ERR syntax error\r\n");
}

#[test]
fn client_kill_filters_count_what_they_kill() {
    let server = Server::start();
    let mut c = Raw::connect(server.port);
    let mut sub = Raw::connect(server.port);
    sub.cmd(&["SUBSCRIBE", "ch"]);
    let mut plain = Raw::connect(server.port);
    plain.assert_alive();
    // TYPE: only the subscriber.
    assert_eq!(c.cmd(&["CLIENT", "KILL", "TYPE", "pubsub"]), ":1\r\n");
    sub.assert_closed("killed as pubsub");
    assert_eq!(
        c.cmd(&["CLIENT", "KILL", "TYPE", "bogus"]),
        "-ERR Unknown client type 'bogus'\r\n"
    );
    // LADDR and USER combine with SKIPME (yes by default).
    let laddr = format!("127.0.0.1:{}", server.port);
    assert_eq!(
        c.cmd(&["CLIENT", "KILL", "LADDR", &laddr, "USER", "default"]),
        ":1\r\n"
    );
    plain.assert_closed("killed by LADDR");
    // Those killed are gone from the count at once.
    let mut a = Raw::connect(server.port);
    let mut b = Raw::connect(server.port);
    a.assert_alive();
    b.assert_alive();
    let info = c.val(&["INFO", "clients"]).text();
    let connected: i64 = crate::protocol::info_field(&info, "connected_clients")
        .parse()
        .unwrap();
    assert_eq!(
        c.val(&["CLIENT", "KILL", "SKIPME", "yes"]).int(),
        connected - 1
    );
    let info = c.val(&["INFO", "clients"]).text();
    assert_eq!(crate::protocol::info_field(&info, "connected_clients"), "1");
    a.assert_closed("killed by SKIPME yes");
    b.assert_closed("killed by SKIPME yes");
    assert_eq!(
        c.cmd(&["CLIENT", "KILL", "ID", "0"]),
        "-ERR client-id should be greater than 0\r\n"
    );
    assert_eq!(
        c.cmd(&["CLIENT", "KILL", "ID", "1", "SKIPME"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        c.cmd(&["CLIENT", "KILL", "SKIPME", "maybe"]),
        "-ERR syntax error\r\n"
    );
    // The old form may kill the caller itself, which still gets its +OK.
    let me = c.stream.local_addr().unwrap().to_string();
    assert_eq!(c.cmd(&["CLIENT", "KILL", &me]), "+OK\r\n");
    c.assert_closed("killed itself by address");
}

#[test]
fn client_kill_maxage_spares_younger_clients() {
    // MAXAGE is newer than Redis 7.0.
    skip_on_redis!();
    let server = Server::start();
    let mut old = Raw::connect(server.port);
    old.assert_alive();
    std::thread::sleep(Duration::from_millis(2100));
    let mut c = Raw::connect(server.port);
    assert_eq!(c.cmd(&["CLIENT", "KILL", "MAXAGE", "2"]), ":1\r\n");
    old.assert_closed("older than MAXAGE");
    c.assert_alive();
    assert_eq!(
        c.cmd(&["CLIENT", "KILL", "MAXAGE", "0"]),
        "-ERR maxage should be greater than 0\r\n"
    );
    assert_eq!(
        c.cmd(&["CLIENT", "KILL", "MAXAGE", "x"]),
        "-ERR maxage is not an integer or out of range\r\n"
    );
}
