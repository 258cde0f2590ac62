//! EVAL and friends: conversions, errors with script lines, the sandbox,
//! Redis's Lua libraries, the script cache, read-only scripts, shebang
//! flags, BUSY and SCRIPT KILL.

use basalt_tests::client::{err, int, q};
use basalt_tests::{skip_on_redis, Server};
use redis::{Connection, Value};
use std::thread;
use std::time::{Duration, Instant};

fn words<'a>(
    cmd: &'a str,
    script: &'a str,
    n: &'a str,
    keys: &[&'a str],
    args: &[&'a str],
) -> Vec<&'a str> {
    let mut w = vec![cmd, script, n];
    w.extend_from_slice(keys);
    w.extend_from_slice(args);
    w
}

fn eval(c: &mut Connection, script: &str, keys: &[&str], args: &[&str]) -> Value {
    let n = keys.len().to_string();
    q(c, &words("EVAL", script, &n, keys, args))
}

fn eval_err(c: &mut Connection, script: &str, keys: &[&str]) -> String {
    let n = keys.len().to_string();
    err(c, &words("EVAL", script, &n, keys, &[]))
}

fn bulk(s: &str) -> Value {
    Value::BulkString(s.as_bytes().to_vec())
}

fn load_sha(c: &mut Connection, script: &str) -> String {
    q(c, &["SCRIPT", "LOAD", script])
}

#[test]
fn lua_to_redis_conversions() {
    let server = Server::start();
    let mut c = server.client();
    assert_eq!(eval(&mut c, "return 1", &[], &[]), Value::Int(1));
    assert_eq!(eval(&mut c, "return 3.99", &[], &[]), Value::Int(3));
    assert_eq!(eval(&mut c, "return -2.5", &[], &[]), Value::Int(-2));
    assert_eq!(eval(&mut c, "return 'x'", &[], &[]), bulk("x"));
    assert_eq!(eval(&mut c, "return true", &[], &[]), Value::Int(1));
    assert_eq!(eval(&mut c, "return false", &[], &[]), Value::Nil);
    assert_eq!(eval(&mut c, "return nil", &[], &[]), Value::Nil);
    assert_eq!(
        eval(&mut c, "return {1, 2, nil, 4}", &[], &[]),
        Value::Array(vec![Value::Int(1), Value::Int(2)])
    );
    assert_eq!(
        eval(&mut c, "return {1, 'two', {3.7, 'x'}}", &[], &[]),
        Value::Array(vec![
            Value::Int(1),
            bulk("two"),
            Value::Array(vec![Value::Int(3), bulk("x")])
        ])
    );
    assert_eq!(
        eval(&mut c, "return {ok='FINE'}", &[], &[]),
        Value::SimpleString("FINE".into())
    );
    assert_eq!(
        eval(&mut c, "return redis.status_reply('FINE')", &[], &[]),
        Value::SimpleString("FINE".into())
    );
    assert_eq!(
        eval_err(&mut c, "return {err='MYERR bad'}", &[]),
        "MYERR bad"
    );
    assert_eq!(
        eval_err(&mut c, "return redis.error_reply('MYERR x')", &[]),
        "MYERR x"
    );
    assert_eq!(
        eval(
            &mut c,
            "return {KEYS[1], KEYS[2], ARGV[1]}",
            &["k1", "k2"],
            &["a1"]
        ),
        Value::Array(vec![bulk("k1"), bulk("k2"), bulk("a1")])
    );
}

#[test]
fn redis_to_lua_conversions() {
    let server = Server::start();
    let mut c = server.client();
    q::<()>(&mut c, &["SET", "s", "v"]);
    q::<()>(&mut c, &["RPUSH", "l", "a", "b"]);
    q::<()>(&mut c, &["HSET", "h", "f", "1"]);
    assert_eq!(
        eval(&mut c, "return redis.call('get', KEYS[1])", &["s"], &[]),
        bulk("v")
    );
    assert_eq!(
        eval(&mut c, "return type(redis.call('get', 'nokey'))", &[], &[]),
        bulk("boolean")
    );
    assert_eq!(
        eval(&mut c, "return redis.call('set', 'x', 1).ok", &[], &[]),
        bulk("OK")
    );
    assert_eq!(
        eval(&mut c, "return redis.call('lrange', 'l', 0, -1)", &[], &[]),
        Value::Array(vec![bulk("a"), bulk("b")])
    );
    assert_eq!(
        eval(&mut c, "return redis.call('incrby', 'n', 5) + 1", &[], &[]),
        Value::Int(6)
    );
    assert_eq!(
        eval(&mut c, "return redis.pcall('incr', 's')['err']", &[], &[]),
        bulk("ERR value is not an integer or out of range")
    );
    // RESP3 inside the script.
    assert_eq!(
        eval(
            &mut c,
            "redis.setresp(3); return redis.call('hgetall', 'h').map.f",
            &[],
            &[]
        ),
        bulk("1")
    );
    assert_eq!(
        eval(
            &mut c,
            "redis.setresp(3); return type(redis.call('get', 'nokey'))",
            &[],
            &[]
        ),
        bulk("nil")
    );
    assert_eq!(
        eval(&mut c, "return redis.call('hgetall', 'h')", &[], &[]),
        Value::Array(vec![bulk("f"), bulk("1")])
    );
}

#[test]
fn resp3_replies_from_scripts() {
    let server = Server::start();
    let mut c = redis::Client::open(format!("{}?protocol=resp3", server.url()))
        .unwrap()
        .get_connection()
        .unwrap();
    assert_eq!(
        eval(&mut c, "return {double=3.5}", &[], &[]),
        Value::Double(3.5)
    );
    assert_eq!(
        eval(&mut c, "return {map={a=1}}", &[], &[]),
        Value::Map(vec![(bulk("a"), Value::Int(1))])
    );
    assert_eq!(
        eval(&mut c, "return {set={a=true}}", &[], &[]),
        Value::Set(vec![bulk("a")])
    );
    assert_eq!(
        eval(&mut c, "redis.setresp(3); return true", &[], &[]),
        Value::Boolean(true)
    );
    assert_eq!(eval(&mut c, "return false", &[], &[]), Value::Nil);
}

#[test]
fn errors_name_the_script_and_line() {
    let server = Server::start();
    let mut c = server.client();
    q::<()>(&mut c, &["SET", "s", "v"]);
    let script = "local a = 1\nerror('boom')";
    let sha = load_sha(&mut c, script);
    assert_eq!(
        eval_err(&mut c, script, &[]),
        format!("ERR user_script:2: boom script: {sha}, on @user_script:2.")
    );
    let script = "local a = 1\n\nreturn redis.call('incr', 's')";
    let sha = load_sha(&mut c, script);
    assert_eq!(
        eval_err(&mut c, script, &[]),
        format!("ERR value is not an integer or out of range script: {sha}, on @user_script:3.")
    );
    assert_eq!(
        eval_err(&mut c, "local x = ", &[]),
        "ERR Error compiling script (new function): user_script:1: unexpected symbol near '<eof>'"
    );
    assert!(eval_err(&mut c, "return redis.call('nosuch')", &[])
        .starts_with("ERR Unknown Redis command called from script script: "));
    assert!(eval_err(&mut c, "return redis.call('get')", &[])
        .starts_with("ERR Wrong number of args calling Redis command from script script: "));
    assert!(
        eval_err(&mut c, "return redis.call('eval', 'return 1', 0)", &[])
            .starts_with("ERR This Redis command is not allowed from script script: ")
    );
    assert!(eval_err(&mut c, "return redis.call('set', 'k', {})", &[])
        .starts_with("ERR Lua redis lib command arguments must be strings or integers script: "));
    // pcall catches errors from Lua and from redis.call.
    assert_eq!(
        eval(
            &mut c,
            "local ok, e = pcall(function() error('x') end); return {ok and 1 or 0, e}",
            &[],
            &[]
        ),
        Value::Array(vec![Value::Int(0), bulk("user_script:1: x")])
    );
    assert_eq!(
        eval(
            &mut c,
            "local ok, e = pcall(redis.call, 'incr', 's'); return {ok and 1 or 0, e}",
            &[],
            &[]
        ),
        Value::Array(vec![
            Value::Int(0),
            bulk("ERR value is not an integer or out of range")
        ])
    );
    // numkeys.
    assert_eq!(
        err(&mut c, &["EVAL", "return 1", "x"]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        err(&mut c, &["EVAL", "return 1", "-1"]),
        "ERR Number of keys can't be negative"
    );
    assert_eq!(
        err(&mut c, &["EVAL", "return 1", "2", "a"]),
        "ERR Number of keys can't be greater than number of args"
    );
}

#[test]
fn sandbox() {
    let server = Server::start();
    let mut c = server.client();
    assert!(eval_err(&mut c, "return a", &[]).starts_with(
        "ERR user_script:1: Script attempted to access nonexistent global variable 'a' script: "
    ));
    for script in ["a = 1", "redis = 1", "string.foo = 1", "table.insert = nil"] {
        assert!(
            eval_err(&mut c, script, &[])
                .starts_with("ERR user_script:1: Attempt to modify a readonly table script: "),
            "{script}"
        );
    }
    for name in [
        "os", "io", "loadfile", "dofile", "print", "require", "module",
    ] {
        assert!(
            eval_err(&mut c, &format!("return {name}"), &[])
                .contains(&format!("nonexistent global variable '{name}'")),
            "{name}"
        );
    }
    assert_eq!(
        eval(&mut c, "local t = {}; t.x = 5; return t.x", &[], &[]),
        Value::Int(5)
    );
    assert_eq!(
        eval(&mut c, "return ('abc'):upper()", &[], &[]),
        bulk("ABC")
    );
}

#[test]
fn lua_libraries() {
    let server = Server::start();
    let mut c = server.client();
    assert_eq!(
        eval(&mut c, "return cjson.encode({1, 2, {a = 'x'}})", &[], &[]),
        bulk("[1,2,{\"a\":\"x\"}]")
    );
    assert_eq!(
        eval(
            &mut c,
            "return cjson.decode(ARGV[1]).k[2]",
            &[],
            &["{\"k\":[1,\"two\"]}"]
        ),
        bulk("two")
    );
    assert_eq!(
        eval(&mut c, "local t = cmsgpack.unpack(cmsgpack.pack({1, 'two', {x = 3}})); return {t[1], t[2], t[3].x}", &[], &[]),
        Value::Array(vec![Value::Int(1), bulk("two"), Value::Int(3)])
    );
    assert_eq!(
        eval(&mut c, "return cmsgpack.pack({1, 2, 3})", &[], &[]),
        Value::BulkString(vec![0x93, 1, 2, 3])
    );
    assert_eq!(
        eval(
            &mut c,
            "return {struct.unpack('>I2i4', struct.pack('>I2i4', 258, -7))}",
            &[],
            &[]
        ),
        Value::Array(vec![Value::Int(258), Value::Int(-7), Value::Int(7)])
    );
    assert_eq!(
        eval(&mut c, "return struct.size('>I2i4')", &[], &[]),
        Value::Int(6)
    );
    assert_eq!(
        eval(&mut c, "return {bit.band(7, 3), bit.bor(1, 2), bit.bxor(5, 1), bit.lshift(1, 4), bit.rshift(-1, 28), bit.arshift(-256, 4), bit.tohex(255), bit.bnot(0), bit.tobit(2^32 + 5)}", &[], &[]),
        Value::Array(vec![
            Value::Int(3),
            Value::Int(3),
            Value::Int(4),
            Value::Int(16),
            Value::Int(15),
            Value::Int(-16),
            bulk("000000ff"),
            Value::Int(-1),
            Value::Int(5),
        ])
    );
    assert_eq!(
        eval(&mut c, "return redis.sha1hex('')", &[], &[]),
        bulk("da39a3ee5e6b4b0d3255bfef95601890afd80709")
    );
}

#[test]
fn script_cache() {
    let server = Server::start();
    let mut c = server.client();
    let sha = load_sha(&mut c, "return 'cached'");
    assert_eq!(sha.len(), 40);
    assert_eq!(q::<Value>(&mut c, &["EVALSHA", &sha, "0"]), bulk("cached"));
    assert_eq!(
        q::<Value>(&mut c, &["EVALSHA", &sha.to_uppercase(), "0"]),
        bulk("cached")
    );
    assert_eq!(
        err(
            &mut c,
            &["EVALSHA", "ffffffffffffffffffffffffffffffffffffffff", "0"]
        ),
        "NOSCRIPT No matching script. Please use EVAL."
    );
    // EVAL caches too.
    eval(&mut c, "return 2", &[], &[]);
    let sha2 = "7f923f79fe76194c868d7e1d0820de36700eb649";
    assert_eq!(
        q::<Vec<i64>>(&mut c, &["SCRIPT", "EXISTS", &sha, sha2, "abc"]),
        vec![1, 1, 0]
    );
    assert_eq!(q::<String>(&mut c, &["SCRIPT", "FLUSH"]), "OK");
    assert_eq!(
        q::<Vec<i64>>(&mut c, &["SCRIPT", "EXISTS", &sha, sha2]),
        vec![0, 0]
    );
    assert!(err(&mut c, &["EVALSHA", &sha, "0"]).starts_with("NOSCRIPT"));
    assert_eq!(q::<String>(&mut c, &["SCRIPT", "FLUSH", "ASYNC"]), "OK");
    assert_eq!(
        err(&mut c, &["SCRIPT", "LOAD", "return +"]),
        "ERR Error compiling script (new function): user_script:1: unexpected symbol near '+'"
    );
}

#[test]
fn read_only_scripts_and_shebang_flags() {
    let server = Server::start();
    let mut c = server.client();
    assert!(err(
        &mut c,
        &["EVAL_RO", "return redis.call('set', 'x', '1')", "0"]
    )
    .starts_with("ERR Write commands are not allowed from read-only scripts. script: "));
    q::<()>(&mut c, &["SET", "x", "v"]);
    assert_eq!(
        q::<Value>(
            &mut c,
            &["EVAL_RO", "return redis.call('get', KEYS[1])", "1", "x"]
        ),
        bulk("v")
    );
    let sha = load_sha(&mut c, "return redis.call('get', KEYS[1])");
    assert_eq!(
        q::<Value>(&mut c, &["EVALSHA_RO", &sha, "1", "x"]),
        bulk("v")
    );
    let ro = "#!lua flags=no-writes\nreturn redis.call('set', 'x', '1')";
    let sha = load_sha(&mut c, ro);
    assert_eq!(
        eval_err(&mut c, ro, &[]),
        format!("ERR Write commands are not allowed from read-only scripts. script: {sha}, on @user_script:2.")
    );
    assert_eq!(
        err(&mut c, &["EVAL_RO", "#!lua\nreturn 1", "0"]),
        "ERR Can not execute a script with write flag using *_ro command."
    );
    assert_eq!(
        eval(
            &mut c,
            "#!lua flags=no-writes,allow-stale\nreturn 1",
            &[],
            &[]
        ),
        Value::Int(1)
    );
    assert_eq!(
        eval_err(&mut c, "#!lua flags=foo\nreturn 1", &[]),
        "ERR Unexpected flag in script shebang: foo"
    );
    assert_eq!(
        eval_err(&mut c, "#!luax\nreturn 1", &[]),
        "ERR Unexpected engine in script shebang: #!luax"
    );
    assert_eq!(
        eval_err(&mut c, "#!lua name=x\nreturn 1", &[]),
        "ERR Unknown lua shebang option: name=x"
    );
}

#[test]
fn scripts_write_and_blocking_commands_do_not_block() {
    let server = Server::start();
    let mut c = server.client();
    assert_eq!(
        eval(&mut c, "redis.call('set', KEYS[1], ARGV[1]); redis.call('rpush', KEYS[2], 'a', 'b'); return redis.call('llen', KEYS[2])", &["k", "l"], &["v"]),
        Value::Int(2)
    );
    assert_eq!(q::<String>(&mut c, &["GET", "k"]), "v");
    if !basalt_tests::against_redis() {
        // Redis 7.0 refuses BLPOP in scripts (no-script); 7.2 and Basalt
        // run it without blocking.
        assert_eq!(
            eval(&mut c, "return redis.call('blpop', 'empty', 0)", &[], &[]),
            Value::Nil
        );
    }
    // A long command inside a script (one main runs off the worker) works.
    let mut push = redis::cmd("RPUSH");
    push.arg("big");
    for i in 0..20_000 {
        push.arg(i);
    }
    push.query::<i64>(&mut c).unwrap();
    assert_eq!(
        eval(
            &mut c,
            "return #redis.call('lrange', KEYS[1], 0, -1)",
            &["big"],
            &[]
        ),
        Value::Int(20_000)
    );
    // Writes before an error stay, as in Redis.
    eval_err(
        &mut c,
        "redis.call('set', KEYS[1], 'before'); error('x')",
        &["k"],
    );
    assert_eq!(q::<String>(&mut c, &["GET", "k"]), "before");
    // Inside MULTI.
    let replies: Value = redis::pipe()
        .atomic()
        .cmd("EVAL")
        .arg("return redis.call('incr', KEYS[1])")
        .arg(1)
        .arg("counter")
        .cmd("GET")
        .arg("counter")
        .query(&mut c)
        .unwrap();
    assert_eq!(replies, Value::Array(vec![Value::Int(1), bulk("1")]));
}

/// Starts `script` on its own connection; returns the thread with its reply.
fn spawn_eval(
    server: &Server,
    script: &'static str,
    keys: &'static [&'static str],
) -> thread::JoinHandle<Result<Value, String>> {
    let mut c = server.client();
    thread::spawn(move || {
        let n = keys.len().to_string();
        let mut cmd = redis::cmd("EVAL");
        cmd.arg(script).arg(&n);
        for k in keys {
            cmd.arg(*k);
        }
        cmd.query::<Value>(&mut c)
            .map_err(|e| format!("{} {}", e.code().unwrap_or(""), e.detail().unwrap_or("")))
    })
}

/// Polls `args` on `c` until it fails with BUSY.
fn wait_busy(c: &mut Connection, args: &[&str]) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Err(e) = basalt_tests::client::cmd(args).query::<Value>(c) {
            if e.code() == Some("BUSY") {
                return format!("BUSY {}", e.detail().unwrap_or(""));
            }
        }
        assert!(Instant::now() < deadline, "{args:?} never got BUSY");
        thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn busy_script_and_script_kill() {
    let server = Server::start();
    let mut c = server.client();
    q::<()>(&mut c, &["CONFIG", "SET", "lua-time-limit", "100"]);
    assert_eq!(
        err(&mut c, &["SCRIPT", "KILL"]),
        "NOTBUSY No scripts in execution right now."
    );
    let looping = spawn_eval(&server, "while true do end", &["k"]);
    assert_eq!(
        wait_busy(&mut c, &["GET", "k"]),
        "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
    );
    if !basalt_tests::against_redis() {
        // Basalt only stops clients that touch the script's keys.
        assert_eq!(q::<String>(&mut c, &["PING"]), "PONG");
        assert_eq!(q::<Value>(&mut c, &["GET", "other"]), Value::Nil);
    }
    assert_eq!(q::<String>(&mut c, &["SCRIPT", "KILL"]), "OK");
    let reply = looping.join().unwrap().unwrap_err();
    assert!(
        reply.starts_with("ERR Script killed by user with SCRIPT KILL... script: "),
        "{reply}"
    );
    assert_eq!(q::<Value>(&mut c, &["GET", "k"]), Value::Nil);
    assert_eq!(
        err(&mut c, &["SCRIPT", "KILL"]),
        "NOTBUSY No scripts in execution right now."
    );
}

#[test]
fn script_that_wrote_is_unkillable() {
    skip_on_redis!();
    let mut server = Server::start();
    let mut c = server.client();
    q::<()>(&mut c, &["CONFIG", "SET", "lua-time-limit", "100"]);
    // Never joined: the loop ends when the server is killed.
    let _looping = spawn_eval(
        &server,
        "redis.call('set', KEYS[1], 'v') while true do end",
        &["k"],
    );
    wait_busy(&mut c, &["GET", "k"]);
    assert_eq!(
        err(&mut c, &["SCRIPT", "KILL"]),
        "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command."
    );
    assert_eq!(
        err(&mut c, &["FUNCTION", "KILL"]),
        "NOTBUSY No scripts in execution right now."
    );
    // SHUTDOWN NOSAVE still works, and stops the script.
    let _ = redis::cmd("SHUTDOWN").arg("NOSAVE").query::<Value>(&mut c);
    assert!(
        server.wait_exit(Duration::from_secs(20)).is_some(),
        "the server did not exit"
    );
}

#[test]
fn scripts_survive_a_restart() {
    skip_on_redis!();
    let mut server = Server::start();
    let mut c = server.client();
    let sha = load_sha(&mut c, "return 'kept'");
    server.restart();
    let mut c = server.client();
    assert_eq!(q::<Vec<i64>>(&mut c, &["SCRIPT", "EXISTS", &sha]), vec![1]);
    assert_eq!(q::<Value>(&mut c, &["EVALSHA", &sha, "0"]), bulk("kept"));
    assert_eq!(int(&mut c, &["EVAL", "return 5", "0"]), 5);
    q::<()>(&mut c, &["SCRIPT", "FLUSH"]);
    server.restart();
    let mut c = server.client();
    assert_eq!(q::<Vec<i64>>(&mut c, &["SCRIPT", "EXISTS", &sha]), vec![0]);
}

#[test]
fn scripts_publish_and_notify() {
    let server = Server::start();
    let mut c = server.client();
    q::<()>(&mut c, &["CONFIG", "SET", "notify-keyspace-events", "KEA"]);
    let mut sub = server.client();
    let mut ps = sub.as_pubsub();
    ps.subscribe("ch").unwrap();
    ps.subscribe("__keyspace@0__:sk").unwrap();
    assert_eq!(
        eval(
            &mut c,
            "redis.call('set', KEYS[1], 'v'); return redis.call('publish', 'ch', 'hi')",
            &["sk"],
            &[]
        ),
        Value::Int(1)
    );
    ps.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut got = Vec::new();
    for _ in 0..2 {
        let m = ps.get_message().unwrap();
        got.push((
            m.get_channel_name().to_string(),
            m.get_payload::<String>().unwrap(),
        ));
    }
    got.sort();
    assert_eq!(
        got,
        vec![
            ("__keyspace@0__:sk".to_string(), "set".to_string()),
            ("ch".to_string(), "hi".to_string()),
        ]
    );
}

#[test]
fn a_scripts_writes_appear_when_it_ends() {
    skip_on_redis!();
    let server = Server::start();
    let mut c = server.client();
    let running = spawn_eval(
        &server,
        "redis.call('set', KEYS[1], 'new') redis.call('set', 'undeclared', 'new') \
         local i = 0 while i < 50000000 do i = i + 1 end return 1",
        &["declared"],
    );
    thread::sleep(Duration::from_millis(100));
    assert!(
        !running.is_finished(),
        "the script ended too soon for this test"
    );
    // Other clients go on meanwhile and see none of its writes.
    assert_eq!(q::<String>(&mut c, &["PING"]), "PONG");
    assert_eq!(q::<Value>(&mut c, &["GET", "undeclared"]), Value::Nil);
    assert_eq!(running.join().unwrap().unwrap(), Value::Int(1));
    assert_eq!(q::<String>(&mut c, &["GET", "undeclared"]), "new");
    assert_eq!(q::<String>(&mut c, &["GET", "declared"]), "new");
}

/// Every value a Rust callback holds takes a slot of mlua's reference
/// stack (about 8,000): arguments of `redis.call` and the entries of a
/// table given to cmsgpack used to run out of them (both are Redis's own
/// tests).
#[test]
fn thousands_of_arguments_and_table_entries() {
    let server = Server::start();
    let mut c = server.client();
    let spread = "local a = {} for i = 1, 7999 do a[i] = 1 end \
                  return redis.call('lpush', KEYS[1], unpack(a))";
    assert_eq!(eval(&mut c, spread, &["l"], &[]), Value::Int(7999));
    let spread_pcall = "local a = {} for i = 1, 7999 do a[i] = 1 end \
                        return redis.pcall('rpush', KEYS[1], unpack(a))";
    assert_eq!(eval(&mut c, spread_pcall, &["l"], &[]), Value::Int(15998));
    // A nil among the arguments still gets the argument error.
    assert!(eval_err(
        &mut c,
        "return redis.call('set', KEYS[1], nil, 'x')",
        &["k"]
    )
    .starts_with("ERR Lua redis lib command arguments must be strings or integers script: "));
    let map = "local m = {} for i = 1, 100000 do m[tostring(i)] = i end \
               local d = cmsgpack.unpack(cmsgpack.pack(m)) \
               local n = 0 for k, v in pairs(d) do \
                 if m[k] ~= v then return 'mismatch at ' .. k end n = n + 1 end \
               return n";
    assert_eq!(eval(&mut c, map, &[], &[]), Value::Int(100000));
    assert_eq!(q::<String>(&mut c, &["PING"]), "PONG");
}

#[test]
fn a_script_whose_client_disconnects_stops_unless_it_wrote() {
    skip_on_redis!();
    let server = Server::start();
    let mut c = server.client();
    q::<()>(&mut c, &["CONFIG", "SET", "lua-time-limit", "100"]);
    // A raw connection that sends an endless script and goes away.
    let mut gone = std::net::TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    std::io::Write::write_all(
        &mut gone,
        b"*3\r\n$4\r\nEVAL\r\n$17\r\nwhile true do end\r\n$1\r\n0\r\n",
    )
    .unwrap();
    thread::sleep(Duration::from_millis(300));
    drop(gone);
    // Nobody waits for its reply: the server stops it by itself.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !server.log().contains("the client disconnected") {
        assert!(Instant::now() < deadline, "the orphan script still runs");
        thread::sleep(Duration::from_millis(50));
    }
    thread::sleep(Duration::from_millis(100));
    assert_eq!(
        err(&mut c, &["SCRIPT", "KILL"]),
        "NOTBUSY No scripts in execution right now."
    );
}

/// Redis 7 makes _G, its metatable and the libraries read-only; the
/// tricks its suite tries all fail with the same error.
#[test]
fn global_protection_tricks() {
    let server = Server::start();
    let mut c = server.client();
    for script in [
        "setmetatable(_G, {})",
        "local g = getmetatable(_G); g.__index = {}",
        "local g = getmetatable(_G); rawset(g, '__index', {})",
        "setmetatable(redis, {})",
        "table.insert(redis, 1)",
        "rawset(_G, 'x', 1)",
        "cjson.encode = function() return 1 end",
        "cmsgpack.pack = function() return 1 end",
        "bit.lshift = function() return 1 end",
        "_G = {}",
    ] {
        let e = eval_err(&mut c, script, &[]);
        assert!(
            e.contains("Attempt to modify a readonly table"),
            "{script}: {e}"
        );
    }
    assert_eq!(
        eval(&mut c, "return type(getmetatable(_G).__index)", &[], &[]),
        bulk("function")
    );
    assert_eq!(
        eval(&mut c, "return getmetatable(cjson) == nil", &[], &[]),
        Value::Int(1)
    );
}

/// Precompiled chunks do not load (Redis's Lua parses text only), and the
/// redis.* helpers check their arguments.
#[test]
fn binary_chunks_and_helper_arity() {
    let server = Server::start();
    let mut c = server.client();
    let e = eval_err(
        &mut c,
        "return loadstring(string.dump(function() return 1 end))()",
        &[],
    );
    assert!(
        e.starts_with("ERR ") && e.contains("attempt to call a nil value"),
        "{e}"
    );
    assert_eq!(
        eval(&mut c, "return loadstring('return 7')()", &[], &[]),
        Value::Int(7)
    );
    let e = eval_err(&mut c, "redis.sha1hex()", &[]);
    assert!(
        e.starts_with("ERR wrong number of arguments script: "),
        "{e}"
    );
    assert_eq!(
        eval_err(&mut c, "return redis.error_reply()", &[]),
        "ERR wrong number or type of arguments"
    );
    assert_eq!(
        eval_err(&mut c, "return redis.status_reply(1)", &[]),
        "ERR wrong number or type of arguments"
    );
    let e = eval_err(&mut c, "redis.setresp()", &[]);
    assert!(
        e.starts_with("ERR redis.setresp() requires one argument. "),
        "{e}"
    );
    assert_eq!(
        eval(
            &mut c,
            "local ok, e = pcall(cjson.decode, '[1,2') return e",
            &[],
            &[]
        ),
        bulk("Expected comma or array end but found T_END at character 5")
    );
}

/// Redis's JSON and MessagePack smoke tests, shortened.
#[test]
fn cjson_and_cmsgpack_smoke() {
    let server = Server::start();
    let mut c = server.client();
    let json = r#"
        local some_map = {s1="Some string", n1=100, a1={"Some","String","Array"}, b1=true, b2=false}
        cjson.encode_keep_buffer(false)
        local decoded = cjson.decode(cjson.encode({one="one", [1]="one"}))
        assert(decoded["one"] == "one" and decoded["1"] == "one")
        local invalid = {}
        invalid[false] = "false"
        assert(pcall(cjson.encode, invalid) == false)
        cjson.encode_max_depth(1)
        assert(pcall(cjson.encode, some_map) == false)
        cjson.decode_max_depth(1)
        assert(pcall(cjson.decode, '{"obj": {"array": [1,2,3,4]}}') == false)
        assert(pcall(cjson.encode, {num1=0/0}) == false)
        cjson.encode_invalid_numbers(true)
        local ok, nan = pcall(cjson.encode, {0/0})
        cjson.decode_max_depth(1000)
        cjson.encode_max_depth(1000)
        cjson.encode_invalid_numbers(false)
        cjson.encode_keep_buffer(true)
        return nan
    "#;
    assert_eq!(eval(&mut c, json, &[], &[]), bulk("[nan]"));
    let msgpack = r#"
        local packed = cmsgpack.pack("a", string.rep("x", 300), {1, 2})
        local offset, v = cmsgpack.unpack_one(packed, 0)
        assert(v == "a")
        offset, v = cmsgpack.unpack_limit(packed, 1, offset)
        assert(#v == 300)
        local t
        offset, t = cmsgpack.unpack_limit(packed, 1, offset)
        return {offset, t[2]}
    "#;
    assert_eq!(
        eval(&mut c, msgpack, &[], &[]),
        Value::Array(vec![Value::Int(-1), Value::Int(2)])
    );
}

/// `errorstat_<code>:count=<n>` from INFO errorstats.
fn errorstat(c: &mut Connection, code: &str) -> Option<String> {
    let info: String = q(c, &["INFO", "errorstats"]);
    let prefix = format!("errorstat_{code}:");
    info.lines()
        .find_map(|l| l.strip_prefix(&prefix).map(str::to_string))
}

fn info_field(c: &mut Connection, section: &str, field: &str) -> Option<String> {
    let info: String = q(c, &["INFO", section]);
    let prefix = format!("{field}:");
    info.lines()
        .find_map(|l| l.strip_prefix(&prefix).map(str::to_string))
}

/// A script's error reply counts in INFO errorstats under its own code,
/// once; an error passed on from redis.call was counted when the command
/// failed and is not counted again, but EVAL still counts as failed.
#[test]
fn script_errors_in_errorstats() {
    let server = Server::start();
    let mut c = server.client();
    let _: () = q(&mut c, &["CONFIG", "RESETSTAT"]);
    assert_eq!(
        eval_err(
            &mut c,
            "return redis.error_reply('MY_ERR_CODE custom msg')",
            &[]
        ),
        "MY_ERR_CODE custom msg"
    );
    assert_eq!(errorstat(&mut c, "MY_ERR_CODE").as_deref(), Some("count=1"));

    let _: () = q(&mut c, &["CONFIG", "RESETSTAT"]);
    // Redis words an empty error "ERR " (the client may trim the space).
    assert_eq!(
        eval_err(&mut c, "return redis.error_reply('')", &[]).trim(),
        "ERR"
    );
    assert_eq!(errorstat(&mut c, "ERR").as_deref(), Some("count=1"));

    let _: () = q(&mut c, &["CONFIG", "RESETSTAT"]);
    let _: () = q(&mut c, &["SET", "str", "x"]);
    let e = eval_err(&mut c, "return redis.call('lpush', KEYS[1], 'v')", &["str"]);
    assert!(e.starts_with("WRONGTYPE "), "{e}");
    let e = eval_err(
        &mut c,
        "return redis.pcall('lpush', KEYS[1], 'v')",
        &["str"],
    );
    assert!(e.starts_with("WRONGTYPE "), "{e}");
    assert_eq!(errorstat(&mut c, "WRONGTYPE").as_deref(), Some("count=2"));
    assert_eq!(errorstat(&mut c, "ERR"), None);
    assert_eq!(
        info_field(&mut c, "stats", "total_error_replies").as_deref(),
        Some("2")
    );
    let eval_stat = info_field(&mut c, "commandstats", "cmdstat_eval").unwrap();
    assert!(eval_stat.contains("failed_calls=2"), "{eval_stat}");

    let _: () = q(&mut c, &["CONFIG", "RESETSTAT"]);
    let e = eval_err(&mut c, "error({err='MYCODE boom'})", &[]);
    assert!(e.starts_with("MYCODE boom"), "{e}");
    let e = eval_err(&mut c, "return redis.call('nosuchcommand')", &[]);
    assert!(
        e.starts_with("ERR Unknown Redis command called from script"),
        "{e}"
    );
    assert_eq!(errorstat(&mut c, "MYCODE").as_deref(), Some("count=1"));
    assert_eq!(errorstat(&mut c, "ERR").as_deref(), Some("count=1"));
}
