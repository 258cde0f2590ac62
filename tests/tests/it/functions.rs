//! FUNCTION LOAD/LIST/DELETE/FLUSH/DUMP/RESTORE/STATS/KILL, FCALL and
//! FCALL_RO.

use basalt_tests::client::{err, q};
use basalt_tests::{skip_on_redis, Server};
use redis::{Connection, Value};
use std::thread;
use std::time::{Duration, Instant};

const LIB: &str = "#!lua name=mylib
local function set(keys, args)
  return redis.call('set', keys[1], args[1])
end
redis.register_function('myset', set)
redis.register_function{function_name='myget', callback=function(keys) return redis.call('get', keys[1]) end, flags={'no-writes'}, description='reads a key'}";

fn bulk(s: &str) -> Value {
    Value::BulkString(s.as_bytes().to_vec())
}

fn load(c: &mut Connection, code: &str) -> String {
    q(c, &["FUNCTION", "LOAD", code])
}

/// A map field of a RESP2 flat array or a RESP3 map.
fn field<'a>(v: &'a Value, name: &str) -> &'a Value {
    match v {
        Value::Array(items) => items
            .chunks(2)
            .find(|kv| kv[0] == bulk(name))
            .map(|kv| &kv[1])
            .unwrap_or_else(|| panic!("no {name} in {v:?}")),
        Value::Map(items) => items
            .iter()
            .find(|(k, _)| *k == bulk(name))
            .map(|(_, v)| v)
            .unwrap_or_else(|| panic!("no {name} in {v:?}")),
        other => panic!("not a map: {other:?}"),
    }
}

#[test]
fn load_and_call() {
    let server = Server::start();
    let mut c = server.client();
    assert_eq!(load(&mut c, LIB), "mylib");
    assert_eq!(
        q::<String>(&mut c, &["FCALL", "myset", "1", "k", "v"]),
        "OK"
    );
    assert_eq!(q::<Value>(&mut c, &["FCALL", "myget", "1", "k"]), bulk("v"));
    assert_eq!(
        q::<Value>(&mut c, &["FCALL_RO", "myget", "1", "k"]),
        bulk("v")
    );
    assert_eq!(
        err(&mut c, &["FCALL_RO", "myset", "1", "k", "v"]),
        "ERR Can not execute a script with write flag using *_ro command."
    );
    assert_eq!(
        err(&mut c, &["FCALL", "nosuch", "0"]),
        "ERR Function not found"
    );
    assert_eq!(
        err(&mut c, &["FCALL", "myget", "3", "a"]),
        "ERR Number of keys can't be greater than number of args"
    );
    assert_eq!(
        err(&mut c, &["FCALL", "myget", "bad_arg"]),
        "ERR Bad number of keys provided"
    );
    assert_eq!(
        err(&mut c, &["FUNCTION", "LOAD", "foo", "bar", LIB]),
        "ERR Unknown option given: foo"
    );
    assert_eq!(
        err(&mut c, &["FUNCTION", "LOAD", "REPLACE", "bar", LIB]),
        "ERR Unknown option given: bar"
    );
    assert_eq!(
        err(&mut c, &["FUNCTION", "LOAD", LIB]),
        "ERR Library 'mylib' already exists"
    );
    assert_eq!(
        q::<String>(&mut c, &["FUNCTION", "LOAD", "REPLACE", LIB]),
        "mylib"
    );
    assert_eq!(
        err(
            &mut c,
            &[
                "FUNCTION",
                "LOAD",
                "#!lua name=other\nredis.register_function('myset', function() return 1 end)"
            ]
        ),
        "ERR Function myset already exists"
    );
    // Errors inside functions name the function and line.
    load(
        &mut c,
        "#!lua name=errs\nredis.register_function('boom', function()\n  error('x')\nend)",
    );
    assert_eq!(
        err(&mut c, &["FCALL", "boom", "0"]),
        "ERR user_function:3: x script: boom, on @user_function:3."
    );
}

#[test]
fn load_errors() {
    let server = Server::start();
    let mut c = server.client();
    let cases = [
        ("return 1", "ERR Missing library metadata"),
        ("#!lua\nreturn 1", "ERR Library name was not given"),
        ("#!lua name=a foo=b\nreturn 1", "ERR Invalid metadata value given: foo=b"),
        ("#!js name=a\nreturn 1", "ERR Engine 'js' not found"),
        ("#!lua name=a\nreturn 1", "ERR No functions registered"),
        ("#!lua name=a-b\nredis.register_function('f', function() return 1 end)", "ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long"),
        ("#!lua name=a\nredis.register_function('f', function() end) redis.register_function('f', function() end)", "ERR Error registering functions: ERR Function already exists in the library"),
        ("#!lua name=a\nredis.register_function{function_name='z', callback=1}", "ERR Error registering functions: ERR callback argument given to redis.register_function must be a function"),
        ("#!lua name=a\nredis.register_function{function_name='z', foo=1}", "ERR Error registering functions: ERR unknown argument given to redis.register_function"),
        ("#!lua name=a\nredis.register_function{function_name='z', callback=function() end, flags={'bad'}}", "ERR Error registering functions: ERR unknown flag given"),
        // Loading sees only the library API.
        ("#!lua name=a\nreturn math.random()", "ERR Error registering functions: ERR user_function:2: Script attempted to access nonexistent global variable 'math'"),
        ("#!lua name=a\nreturn redis.setresp(3)", "ERR Error registering functions: ERR user_function:2: Script attempted to access nonexistent global variable 'setresp'"),
    ];
    for (code, want) in cases {
        assert_eq!(err(&mut c, &["FUNCTION", "LOAD", code]), want, "{code}");
    }
    assert!(err(
        &mut c,
        &["FUNCTION", "LOAD", "#!lua name=a\nredis.call('ping')"]
    )
    .starts_with("ERR Error registering functions: "));
    assert_eq!(
        q::<Value>(&mut c, &["FUNCTION", "LIST"]),
        Value::Array(vec![])
    );
}

#[test]
fn list_delete_flush_stats() {
    let server = Server::start();
    let mut c = server.client();
    load(&mut c, LIB);
    load(
        &mut c,
        "#!lua name=second\nredis.register_function('two', function() return 2 end)",
    );
    let list: Value = q(&mut c, &["FUNCTION", "LIST"]);
    let Value::Array(libs) = &list else {
        panic!("{list:?}")
    };
    assert_eq!(libs.len(), 2);
    let mylib = libs
        .iter()
        .find(|l| *field(l, "library_name") == bulk("mylib"))
        .unwrap();
    assert_eq!(*field(mylib, "engine"), bulk("LUA"));
    let Value::Array(functions) = field(mylib, "functions") else {
        panic!()
    };
    assert_eq!(functions.len(), 2);
    let myget = functions
        .iter()
        .find(|f| *field(f, "name") == bulk("myget"))
        .unwrap();
    assert_eq!(*field(myget, "description"), bulk("reads a key"));
    assert_eq!(
        *field(myget, "flags"),
        Value::Array(vec![Value::SimpleString("no-writes".into())])
    );
    let myset = functions
        .iter()
        .find(|f| *field(f, "name") == bulk("myset"))
        .unwrap();
    assert_eq!(*field(myset, "description"), Value::Nil);

    let only: Value = q(
        &mut c,
        &["FUNCTION", "LIST", "LIBRARYNAME", "sec*", "WITHCODE"],
    );
    let Value::Array(only) = only else { panic!() };
    assert_eq!(only.len(), 1);
    assert_eq!(*field(&only[0], "library_name"), bulk("second"));
    assert!(
        matches!(field(&only[0], "library_code"), Value::BulkString(code) if code.starts_with(b"#!lua name=second"))
    );

    let stats: Value = q(&mut c, &["FUNCTION", "STATS"]);
    assert_eq!(*field(&stats, "running_script"), Value::Nil);
    let lua = field(field(&stats, "engines"), "LUA");
    assert_eq!(*field(lua, "libraries_count"), Value::Int(2));
    assert_eq!(*field(lua, "functions_count"), Value::Int(3));

    let info: String = q(&mut c, &["INFO", "memory"]);
    assert!(info.contains("number_of_functions:3\r\n"), "{info}");
    assert!(info.contains("number_of_libraries:2\r\n"), "{info}");
    assert_eq!(q::<String>(&mut c, &["FUNCTION", "DELETE", "second"]), "OK");
    assert_eq!(
        err(&mut c, &["FUNCTION", "DELETE", "second"]),
        "ERR Library not found"
    );
    assert_eq!(
        err(&mut c, &["FCALL", "two", "0"]),
        "ERR Function not found"
    );
    assert_eq!(q::<String>(&mut c, &["FUNCTION", "FLUSH"]), "OK");
    assert_eq!(
        q::<Value>(&mut c, &["FUNCTION", "LIST"]),
        Value::Array(vec![])
    );
    assert_eq!(
        err(&mut c, &["FCALL", "myget", "1", "k"]),
        "ERR Function not found"
    );
}

#[test]
fn dump_and_restore() {
    let server = Server::start();
    let mut c = server.client();
    load(&mut c, LIB);
    let payload: Vec<u8> = q(&mut c, &["FUNCTION", "DUMP"]);
    assert_eq!(payload[0], 0xf5);
    let restore = |c: &mut Connection, policy: Option<&str>| -> redis::RedisResult<String> {
        let mut cmd = redis::cmd("FUNCTION");
        cmd.arg("RESTORE").arg(&payload);
        if let Some(p) = policy {
            cmd.arg(p);
        }
        cmd.query(c)
    };
    let e = restore(&mut c, None).unwrap_err();
    assert_eq!(e.detail(), Some("Library mylib already exists"));
    assert_eq!(restore(&mut c, Some("REPLACE")).unwrap(), "OK");
    q::<()>(&mut c, &["FUNCTION", "FLUSH"]);
    load(
        &mut c,
        "#!lua name=other\nredis.register_function('o', function() return 1 end)",
    );
    assert_eq!(restore(&mut c, Some("FLUSH")).unwrap(), "OK");
    assert_eq!(err(&mut c, &["FCALL", "o", "0"]), "ERR Function not found");
    q::<()>(&mut c, &["FCALL", "myset", "1", "k", "restored"]);
    assert_eq!(
        q::<String>(&mut c, &["FCALL", "myget", "1", "k"]),
        "restored"
    );
    let e = restore(&mut c, Some("BOGUS")).unwrap_err();
    assert_eq!(
        e.detail(),
        Some("Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.")
    );
    let mut bad = payload.clone();
    let n = bad.len();
    bad[n - 1] ^= 0xff;
    let e = redis::cmd("FUNCTION")
        .arg("RESTORE")
        .arg(bad)
        .query::<String>(&mut c)
        .unwrap_err();
    assert_eq!(
        e.detail(),
        Some("DUMP payload version or checksum are wrong")
    );
}

#[test]
fn restores_a_dump_from_redis_server() {
    skip_on_redis!();
    // FUNCTION DUMP of redis-server 7.0.15 after loading this library.
    let code = "#!lua name=a\nredis.register_function('f', function() return 1 end)";
    let mut payload = vec![0xf5, 0x40, 0x42];
    payload.extend_from_slice(code.as_bytes());
    payload.extend_from_slice(&[0x0a, 0x00, 0xe3, 0xd1, 0xb9, 0x83, 0x19, 0xf4, 0xe3, 0x84]);
    let server = Server::start();
    let mut c = server.client();
    let ok: String = redis::cmd("FUNCTION")
        .arg("RESTORE")
        .arg(payload)
        .query(&mut c)
        .unwrap();
    assert_eq!(ok, "OK");
    assert_eq!(q::<i64>(&mut c, &["FCALL", "f", "0"]), 1);
}

#[test]
fn function_kill() {
    let server = Server::start();
    let mut c = server.client();
    q::<()>(&mut c, &["CONFIG", "SET", "lua-time-limit", "100"]);
    load(
        &mut c,
        "#!lua name=loops\nredis.register_function('spin', function() while true do end end)",
    );
    assert_eq!(
        err(&mut c, &["FUNCTION", "KILL"]),
        "NOTBUSY No scripts in execution right now."
    );
    let mut other = server.client();
    let spinning = thread::spawn(move || {
        redis::cmd("FCALL")
            .arg("spin")
            .arg(1)
            .arg("k")
            .query::<Value>(&mut other)
            .unwrap_err()
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    let busy = loop {
        match redis::cmd("GET").arg("k").query::<Value>(&mut c) {
            Err(e) if e.code() == Some("BUSY") => break e,
            _ => {}
        }
        assert!(Instant::now() < deadline, "never BUSY");
        thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(
        busy.detail(),
        Some("Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.")
    );
    let stats: Value = q(&mut c, &["FUNCTION", "STATS"]);
    assert_eq!(
        *field(field(&stats, "running_script"), "name"),
        bulk("spin")
    );
    assert_eq!(q::<String>(&mut c, &["FUNCTION", "KILL"]), "OK");
    let e = spinning.join().unwrap();
    assert!(
        e.detail()
            .unwrap_or("")
            .starts_with("Script killed by user with SCRIPT KILL..."),
        "{e:?}"
    );
}

#[test]
fn functions_survive_a_restart() {
    skip_on_redis!();
    let mut server = Server::start();
    let mut c = server.client();
    load(&mut c, LIB);
    server.restart();
    let mut c = server.client();
    q::<()>(&mut c, &["FCALL", "myset", "1", "k", "after"]);
    assert_eq!(q::<String>(&mut c, &["FCALL", "myget", "1", "k"]), "after");
    let list: Value = q(&mut c, &["FUNCTION", "LIST"]);
    assert!(matches!(list, Value::Array(ref l) if l.len() == 1));
    q::<()>(&mut c, &["FUNCTION", "DELETE", "mylib"]);
    server.restart();
    let mut c = server.client();
    assert_eq!(
        err(&mut c, &["FCALL", "myget", "1", "k"]),
        "ERR Function not found"
    );
}

#[test]
fn function_names_are_case_insensitive_and_headers_split_like_commands() {
    let server = Server::start();
    let mut c = server.client();
    // The header is split as an inline command is: quotes are removed.
    assert_eq!(
        load(
            &mut c,
            "#!lua name=\"quoted\"\nredis.register_function('Hello', function() return 'hi' end)"
        ),
        "quoted"
    );
    assert_eq!(q::<String>(&mut c, &["FCALL", "HELLO", "0"]), "hi");
    assert_eq!(q::<String>(&mut c, &["FCALL", "hello", "0"]), "hi");
    assert_eq!(
        err(
            &mut c,
            &[
                "FUNCTION",
                "LOAD",
                "#!lua name=a\nredis.register_function('HELLO', function() return 1 end)"
            ]
        ),
        "ERR Function HELLO already exists"
    );
    assert_eq!(
        err(
            &mut c,
            &[
                "FUNCTION",
                "LOAD",
                "#!lua name=a name=b\nredis.register_function('f', function() return 1 end)"
            ]
        ),
        "ERR Invalid metadata value, name argument was given multiple times"
    );
    assert!(err(
        &mut c,
        &[
            "FUNCTION",
            "LOAD",
            "#!lua name=a\nredis.register_function('bad-name', function() return 1 end)"
        ]
    )
    .contains("Library names can only contain letters, numbers, or underscores(_)"));
}

#[test]
fn function_subcommands_reject_extra_arguments_as_redis() {
    let server = Server::start();
    let mut c = server.client();
    assert_eq!(
        err(&mut c, &["FUNCTION", "RESTORE", "a", "b", "c"]),
        "ERR unknown subcommand or wrong number of arguments for 'RESTORE'. Try FUNCTION HELP."
    );
    assert_eq!(
        err(&mut c, &["FUNCTION", "FLUSH", "sync", "extra"]),
        "ERR unknown subcommand or wrong number of arguments for 'FLUSH'. Try FUNCTION HELP."
    );
    assert_eq!(
        err(&mut c, &["FUNCTION", "FLUSH", "bad"]),
        "ERR FUNCTION FLUSH only supports SYNC|ASYNC option"
    );
    // A repeated option is an unknown argument.
    assert_eq!(
        err(
            &mut c,
            &["FUNCTION", "LIST", "LIBRARYNAME", "a", "LIBRARYNAME", "b"]
        ),
        "ERR Unknown argument LIBRARYNAME"
    );
    assert_eq!(
        err(&mut c, &["FUNCTION", "LIST", "WITHCODE", "WITHCODE"]),
        "ERR Unknown argument WITHCODE"
    );
}
