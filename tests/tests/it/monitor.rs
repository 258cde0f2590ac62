//! MONITOR: every command, in Redis's line format, as the server runs it.

use basalt_tests::Server;

use crate::protocol::Raw;

/// The next line a monitor receives, without its timestamp.
fn next_line(m: &mut Raw) -> String {
    let line = m.reply();
    let line = line.trim_end_matches("\r\n");
    assert!(line.starts_with('+'), "not a monitor line: {line:?}");
    // "+1700000000.123456 [0 127.0.0.1:1234] ..." -> "[0 ...] ..."
    line.split_once(' ')
        .map(|(_, rest)| rest.to_string())
        .unwrap()
}

fn args_of(line: &str) -> &str {
    line.split_once("] ").map(|(_, a)| a).unwrap()
}

#[test]
fn monitor_shows_commands_scripts_and_transactions() {
    let server = Server::start();
    let mut m = Raw::connect(server.port);
    assert_eq!(m.cmd(&["MONITOR"]), "+OK\r\n");
    let mut c = Raw::connect(server.port);

    c.cmd(&["SET", "foo", "a \"b\"\n"]);
    let line = next_line(&mut m);
    assert!(line.starts_with("[0 127.0.0.1:"), "{line}");
    assert_eq!(args_of(&line), r#""SET" "foo" "a \"b\"\n""#);

    // A script shows itself first, then what it calls, from "lua".
    c.cmd(&["EVAL", "return redis.call('get', KEYS[1])", "1", "foo"]);
    assert_eq!(
        args_of(&next_line(&mut m)),
        r#""EVAL" "return redis.call('get', KEYS[1])" "1" "foo""#
    );
    let line = next_line(&mut m);
    assert!(line.starts_with("[0 lua] "), "{line}");
    assert_eq!(args_of(&line), r#""get" "foo""#);

    // MULTI, the queued commands when EXEC runs them, then EXEC.
    c.cmd(&["MULTI"]);
    c.cmd(&["SET", "k", "v"]);
    c.cmd(&["EXEC"]);
    assert_eq!(args_of(&next_line(&mut m)), r#""MULTI""#);
    assert_eq!(args_of(&next_line(&mut m)), r#""SET" "k" "v""#);
    assert_eq!(args_of(&next_line(&mut m)), r#""EXEC""#);

    // A transaction that aborts still closes with EXEC.
    c.cmd(&["MULTI"]);
    c.cmd(&["NOSUCHCOMMAND"]);
    c.cmd(&["EXEC"]);
    assert_eq!(args_of(&next_line(&mut m)), r#""MULTI""#);
    assert_eq!(args_of(&next_line(&mut m)), r#""EXEC""#);

    // Passwords never show.
    c.cmd(&["AUTH", "user", "secret"]);
    assert_eq!(
        args_of(&next_line(&mut m)),
        r#""AUTH" "(redacted)" "(redacted)""#
    );
    // Admin commands are not shown; the next command is.
    c.cmd(&["CONFIG", "GET", "maxclients"]);
    c.cmd(&["PING"]);
    assert_eq!(args_of(&next_line(&mut m)), r#""PING""#);

    let list = c.cmd(&["CLIENT", "LIST"]);
    assert!(list.contains("flags=O"), "{list}");
    // CLIENT LIST is an admin subcommand: not shown. CLIENT ID is.
    c.cmd(&["CLIENT", "ID"]);
    assert_eq!(args_of(&next_line(&mut m)), r#""CLIENT" "ID""#);
    // RESET ends monitoring.
    assert_eq!(m.cmd(&["RESET"]), "+RESET\r\n");
    let list = c.cmd(&["CLIENT", "LIST"]);
    assert!(!list.contains("flags=O"), "{list}");
    c.cmd(&["PING"]);
    assert_eq!(m.cmd(&["PING"]), "+PONG\r\n");
}
