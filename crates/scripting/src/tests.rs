//! Unit tests: the VM with a fake command caller.

use crate::{sha1_hex, CommandCaller, RunTarget, Vm};
use basalt_resp::Reply;
use bytes::Bytes;
use std::sync::{Arc, Mutex};

/// Answers GET with a bulk, INCR on "s" with an error, anything else OK;
/// records the commands it saw.
struct Fake(Arc<Mutex<Vec<Vec<String>>>>);

impl CommandCaller for Fake {
    fn call(&mut self, args: Vec<Bytes>, resp3: bool) -> Reply {
        let words: Vec<String> = args
            .iter()
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        self.0.lock().unwrap().push(words.clone());
        match words[0].to_ascii_lowercase().as_str() {
            "get" if words[1] == "missing" => Reply::Null,
            "get" => Reply::bulk(Bytes::from("v")),
            "incr" => Reply::error("ERR value is not an integer or out of range"),
            "hgetall" => Reply::Map(vec![(Reply::bulk("f"), Reply::bulk("1"))]),
            "proto" => Reply::Integer(if resp3 { 3 } else { 2 }),
            "dbl" => Reply::Double(1.5),
            _ => Reply::ok(),
        }
    }
}

fn eval_with(
    vm: &mut Vm,
    script: &str,
    keys: &[&str],
    client_resp3: bool,
) -> (Reply, Vec<Vec<String>>) {
    let sha = sha1_hex(script.as_bytes());
    if let Err(e) = vm.compile_script(&sha, script.as_bytes()) {
        return (Reply::error(e), Vec::new());
    }
    let log = Arc::new(Mutex::new(Vec::new()));
    let keys: Vec<Bytes> = keys.iter().map(|k| Bytes::from(k.to_string())).collect();
    let reply = vm
        .run(
            RunTarget::Script(&sha),
            &keys,
            &[Bytes::from("a1")],
            Box::new(Fake(log.clone())),
            Box::new(|| false),
            client_resp3,
        )
        .reply;
    let calls = log.lock().unwrap().clone();
    (reply, calls)
}

fn eval(script: &str) -> Reply {
    eval_with(&mut Vm::new().unwrap(), script, &[], false).0
}

fn err(script: &str) -> String {
    match eval(script) {
        Reply::Error(e) => e.into_owned(),
        other => panic!("{script}: expected an error, got {other:?}"),
    }
}

fn sha(script: &str) -> String {
    sha1_hex(script.as_bytes())
}

fn bulk(s: &str) -> Reply {
    Reply::bulk(Bytes::from(s.to_string()))
}

#[test]
fn sha1_matches_redis() {
    assert_eq!(sha1_hex(b""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    assert_eq!(
        sha1_hex(b"return 1"),
        "e0e1f9fabfc9d4800c877a703b823ac0578ff8db"
    );
}

#[test]
fn conversions_lua_to_resp2() {
    assert_eq!(eval("return 1"), Reply::Integer(1));
    assert_eq!(eval("return 3.99"), Reply::Integer(3));
    assert_eq!(eval("return -3.99"), Reply::Integer(-3));
    assert_eq!(eval("return 'x'"), bulk("x"));
    assert_eq!(eval("return true"), Reply::Integer(1));
    assert_eq!(eval("return false"), Reply::Null);
    assert_eq!(eval("return nil"), Reply::Null);
    assert_eq!(
        eval("return {1, 2, nil, 4}"),
        Reply::Array(vec![Reply::Integer(1), Reply::Integer(2)])
    );
    assert_eq!(
        eval("return {1, 'a', {2.5}}"),
        Reply::Array(vec![
            Reply::Integer(1),
            bulk("a"),
            Reply::Array(vec![Reply::Integer(2)])
        ])
    );
    assert_eq!(eval("return {ok='FINE'}"), Reply::simple("FINE"));
    assert_eq!(eval("return {err='MY ERR'}"), Reply::error("MY ERR"));
    assert_eq!(
        eval("return redis.status_reply('FINE')"),
        Reply::simple("FINE")
    );
    assert_eq!(
        eval("return redis.error_reply('-MY ERR')"),
        Reply::error("MY ERR")
    );
    assert_eq!(eval("return {err=1}"), Reply::Array(vec![]));
    assert_eq!(eval("return KEYS"), Reply::Array(vec![]));
    assert_eq!(eval("return ARGV[1]"), bulk("a1"));
}

#[test]
fn conversions_resp3() {
    assert_eq!(eval("redis.setresp(3); return true"), Reply::Bool(true));
    assert_eq!(eval("redis.setresp(3); return false"), Reply::Bool(false));
    assert_eq!(eval("return {double=3.5}"), Reply::Double(3.5));
    assert_eq!(
        eval("return {map={a=1}}"),
        Reply::Map(vec![(bulk("a"), Reply::Integer(1))])
    );
    assert_eq!(eval("return {set={a=true}}"), Reply::Set(vec![bulk("a")]));
    assert_eq!(
        eval("return {verbatim_string={format='txt', string='hi'}}"),
        Reply::Verbatim("txt".into(), Bytes::from("hi"))
    );
    assert_eq!(eval("return {big_number='123'}"), bulk("123"));
    let mut vm = Vm::new().unwrap();
    let (r, _) = eval_with(&mut vm, "return {big_number='123'}", &[], true);
    assert_eq!(r, Reply::Raw(Bytes::from("(123\r\n")));
    // Replies of called commands, per the script's protocol.
    assert_eq!(eval("return redis.call('proto')"), Reply::Integer(2));
    assert_eq!(
        eval("redis.setresp(3); return redis.call('proto')"),
        Reply::Integer(3)
    );
    assert_eq!(
        eval("return redis.call('hgetall', 'h')"),
        Reply::Array(vec![bulk("f"), bulk("1")])
    );
    assert_eq!(
        eval("redis.setresp(3); return redis.call('hgetall', 'h').map.f"),
        bulk("1")
    );
    assert_eq!(eval("return redis.call('dbl')"), bulk("1.5"));
    assert_eq!(
        eval("redis.setresp(3); return redis.call('dbl').double * 2"),
        Reply::Integer(3)
    );
    assert_eq!(
        eval("return type(redis.call('get', 'missing'))"),
        bulk("boolean")
    );
    assert_eq!(
        eval("redis.setresp(3); return type(redis.call('get', 'missing'))"),
        bulk("nil")
    );
    assert!(err("redis.setresp(4)").starts_with("ERR RESP version must be 2 or 3. script: "));
}

#[test]
fn errors_carry_script_and_line() {
    let s = "local a = 1\nerror('boom')";
    assert_eq!(
        err(s),
        format!(
            "ERR user_script:2: boom script: {}, on @user_script:2.",
            sha(s)
        )
    );
    let s = "return redis.call('incr', 's')";
    assert_eq!(
        err(s),
        format!(
            "ERR value is not an integer or out of range script: {}, on @user_script:1.",
            sha(s)
        )
    );
    let s = "error({err='MY boom'})";
    assert_eq!(
        err(s),
        format!("MY boom script: {}, on @user_script:1.", sha(s))
    );
    assert_eq!(
        err("local x = "),
        "ERR Error compiling script (new function): user_script:1: unexpected symbol near '<eof>'"
    );
    let s = "return redis.call()";
    assert!(err(s)
        .starts_with("ERR Please specify at least one argument for this redis lib call script:"));
    let s = "return redis.call('set', 'k', {})";
    assert!(err(s)
        .starts_with("ERR Lua redis lib command arguments must be strings or integers script:"));
    let s = "return cjson.encode(function() end)";
    assert_eq!(
        err(s),
        format!(
            "ERR user_script:1: Cannot serialise function: type not supported script: {}, on @user_script:1.",
            sha(s)
        )
    );
}

#[test]
fn pcall_returns_errors() {
    assert_eq!(
        eval("return redis.pcall('incr', 's')"),
        Reply::error("ERR value is not an integer or out of range")
    );
    assert_eq!(
        eval("local t = redis.pcall('incr', 's'); return t.err"),
        bulk("ERR value is not an integer or out of range")
    );
    // As in Redis 7, pcall gives error tables as their text.
    assert_eq!(
        eval("local ok, e = pcall(function() redis.call('incr', 's') end); return {ok and 1 or 0, e}"),
        Reply::Array(vec![
            Reply::Integer(0),
            bulk("ERR value is not an integer or out of range")
        ])
    );
    assert_eq!(
        eval("local ok, e = pcall(redis.call, 'incr', 's'); return type(e)"),
        bulk("string")
    );
    assert_eq!(
        eval("local ok, e = pcall(function() error({err='X'}) end); return e"),
        bulk("X")
    );
    assert_eq!(
        eval("local ok, e = pcall(function() error('x') end); return e"),
        bulk("user_script:1: x")
    );
}

#[test]
fn sandbox() {
    let s = "return a";
    assert_eq!(
        err(s),
        format!(
            "ERR user_script:1: Script attempted to access nonexistent global variable 'a' script: {}, on @user_script:1.",
            sha(s)
        )
    );
    for s in [
        "a = 1",
        "redis = 1",
        "string.foo = 1",
        "table.insert = nil",
        "redis.call = nil",
        "cjson.x = 1",
    ] {
        assert_eq!(
            err(s),
            format!("ERR user_script:1: Attempt to modify a readonly table script: {}, on @user_script:1.", sha(s)),
            "{s}"
        );
    }
    assert!(err("rawset(_G, 'x', 1)").starts_with("ERR Attempt to modify a readonly table script:"));
    assert!(
        err("getmetatable('').__index.upper = nil").contains("Attempt to modify a readonly table")
    );
    for g in [
        "os", "io", "loadfile", "dofile", "print", "require", "module", "debug", "setfenv",
        "getfenv", "newproxy", "package",
    ] {
        assert!(
            err(&format!("return {g}")).contains(&format!("nonexistent global variable '{g}'")),
            "{g}"
        );
    }
    for g in [
        "loadstring",
        "pcall",
        "xpcall",
        "unpack",
        "tonumber",
        "select",
        "rawget",
        "setmetatable",
        "gcinfo",
        "collectgarbage",
    ] {
        assert_eq!(eval(&format!("return type({g})")), bulk("function"), "{g}");
    }
    assert!(err("loadstring('x = 1')()").contains("Attempt to modify a readonly table"));
    assert_eq!(eval("local t = {}; t.x = 5; return t.x"), Reply::Integer(5));
    assert_eq!(eval("return ('abc'):upper()"), bulk("ABC"));
    assert_eq!(eval("return string.format('%d-%s', 3, 'x')"), bulk("3-x"));
    // A script stays sandboxed after another one ran.
    let mut vm = Vm::new().unwrap();
    eval_with(&mut vm, "return 1", &["k"], false);
    let (r, _) = eval_with(&mut vm, "return KEYS[1]", &[], false);
    assert_eq!(r, Reply::Null);
}

#[test]
fn redis_table() {
    assert_eq!(
        eval("return redis.sha1hex('')"),
        bulk("da39a3ee5e6b4b0d3255bfef95601890afd80709")
    );
    assert_eq!(
        eval("return {redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING}"),
        Reply::Array((0..4).map(Reply::Integer).collect())
    );
    assert_eq!(eval("return redis.REDIS_VERSION"), bulk("7.2.0"));
    assert_eq!(
        eval("return redis.REDIS_VERSION_NUM"),
        Reply::Integer(0x070200)
    );
    assert_eq!(
        eval("redis.log(redis.LOG_WARNING, 'hi'); return 1"),
        Reply::Integer(1)
    );
    assert_eq!(eval("return redis.breakpoint()"), Reply::Null);
    assert_eq!(eval("return redis.debug('x')"), Reply::Null);
    assert_eq!(eval("return redis.replicate_commands()"), Reply::Integer(1));
}

#[test]
fn call_arguments() {
    let mut vm = Vm::new().unwrap();
    let (_, calls) = eval_with(
        &mut vm,
        "redis.call('set', KEYS[1], 1.5, 10, 2^53)",
        &["k"],
        false,
    );
    assert_eq!(
        calls,
        vec![vec!["set", "k", "1.5", "10", "9007199254740992"]]
    );
}

#[test]
fn number_arguments_as_redis_7_2() {
    use crate::vm::format_number as f;
    assert_eq!(f(10.0), "10");
    assert_eq!(f(1e17), "100000000000000000");
    assert_eq!(f(1e20), "1e+20");
    assert_eq!(f(0.1), "0.1");
    assert_eq!(f(-1.5), "-1.5");
    assert_eq!(f(1.5e-10), "1.5e-10");
    assert_eq!(f(0.000123), "0.000123");
    assert_eq!(f(123.456), "123.456");
    assert_eq!(f(1.5e300), "1.5e+300");
    assert_eq!(eval("return math.huge"), Reply::Integer(i64::MIN));
    assert_eq!(eval("return 0/0"), Reply::Integer(i64::MIN));
}

#[test]
fn deterministic_random() {
    assert_eq!(
        eval("return {math.random(100), math.random(100)}"),
        Reply::Array(vec![Reply::Integer(40), Reply::Integer(85)])
    );
    assert_eq!(
        eval("math.randomseed(7); local a = math.random(1000); math.randomseed(7); return a == math.random(1000)"),
        Reply::Integer(1)
    );
    assert_eq!(
        eval("local r = math.random(); return r >= 0 and r < 1"),
        Reply::Integer(1)
    );
}

#[test]
fn cjson() {
    assert_eq!(
        eval("return cjson.encode({1,2,{a=1}})"),
        bulk("[1,2,{\"a\":1}]")
    );
    assert_eq!(eval("return cjson.encode({a={}})"), bulk("{\"a\":{}}"));
    assert_eq!(
        eval("return cjson.encode({[1]=1,[3]=3})"),
        bulk("[1,null,3]")
    );
    assert_eq!(
        eval("return cjson.encode('x\"y/\\n')"),
        bulk("\"x\\\"y\\/\\n\"")
    );
    assert_eq!(eval("return cjson.encode(1e100)"), bulk("1e+100"));
    assert_eq!(eval("return cjson.encode(cjson.null)"), bulk("null"));
    assert!(err("return cjson.encode({[1]=1,[20]=3})")
        .contains("Cannot serialise table: excessively sparse array"));
    assert_eq!(
        eval("return cjson.decode('[1,2,null,{\"a\":true}]')[4].a"),
        Reply::Integer(1)
    );
    assert_eq!(
        eval("return cjson.decode('[1,null]')[2] == cjson.null"),
        Reply::Integer(1)
    );
    assert_eq!(
        eval("return cjson.decode('{\"a\":[1,2.5,\"x\"]}').a[2]"),
        Reply::Integer(2)
    );
    assert_eq!(
        eval("return cjson.encode(cjson.decode('{\"k\":\"v\"}'))"),
        bulk("{\"k\":\"v\"}")
    );
    let e = err("return cjson.decode('{bad')");
    assert!(
        e.starts_with(
            "ERR user_script:1: Expected object key string but found invalid token at character 2 "
        ),
        "{e}"
    );
    assert_eq!(
        eval("cjson.decode_array_with_array_mt(true); local r = cjson.encode(cjson.decode('[]')); cjson.decode_array_with_array_mt(false); return r"),
        bulk("[]")
    );
    assert_eq!(eval("return cjson.encode(cjson.decode('[]'))"), bulk("{}"));
}

#[test]
fn cmsgpack() {
    assert_eq!(
        eval("return cmsgpack.pack({1,2,3})"),
        Reply::bulk(vec![0x93u8, 1, 2, 3])
    );
    assert_eq!(
        eval("return cmsgpack.pack('a')"),
        Reply::bulk(vec![0xa1u8, b'a'])
    );
    assert_eq!(
        eval("return cmsgpack.pack(-1, 300, true, nil)"),
        Reply::bulk(vec![0xffu8, 0xcd, 1, 44, 0xc3, 0xc0])
    );
    assert_eq!(
        eval("local t = cmsgpack.unpack(cmsgpack.pack({a=1, b={1,2,'x'}, c=1.5})); return {t.a, t.b[3], t.c * 2}"),
        Reply::Array(vec![Reply::Integer(1), bulk("x"), Reply::Integer(3)])
    );
    assert_eq!(
        eval("return {cmsgpack.unpack(cmsgpack.pack(1, 'two', 3))}"),
        Reply::Array(vec![Reply::Integer(1), bulk("two"), Reply::Integer(3)])
    );
    assert_eq!(
        eval("return cmsgpack.unpack(cmsgpack.pack(0.1)) == 0.1"),
        Reply::Integer(1)
    );
    assert_eq!(
        eval("return cmsgpack.unpack(cmsgpack.pack(-100000)) "),
        Reply::Integer(-100000)
    );
    assert!(err("return cmsgpack.unpack('\\146\\1')").contains("Missing bytes in input."));
}

#[test]
fn struct_lib() {
    assert_eq!(
        eval("return struct.pack('>I2', 258)"),
        Reply::bulk(vec![1u8, 2])
    );
    assert_eq!(
        eval("return struct.pack('<i4', -2)"),
        Reply::bulk(vec![0xfeu8, 0xff, 0xff, 0xff])
    );
    assert_eq!(
        eval("return {struct.unpack('>I2', struct.pack('>I2', 258))}"),
        Reply::Array(vec![Reply::Integer(258), Reply::Integer(3)])
    );
    assert_eq!(
        eval("local a, b, c, n = struct.unpack('<hsB', struct.pack('<hsB', -5, 'hey', 200)); return {a, b, c, n}"),
        Reply::Array(vec![Reply::Integer(-5), bulk("hey"), Reply::Integer(200), Reply::Integer(8)])
    );
    assert_eq!(eval("return struct.size('>iId')"), Reply::Integer(16));
    assert_eq!(eval("return struct.size('!8bd')"), Reply::Integer(16));
    assert_eq!(
        eval("return struct.unpack('d', struct.pack('d', 1.5)) * 2"),
        Reply::Integer(3)
    );
    assert_eq!(eval("return struct.unpack('c3', 'abcdef')"), bulk("abc"));
    assert!(err("return struct.pack('y', 1)").contains("invalid format option 'y'"));
    assert!(err("return struct.unpack('I4', 'ab')").contains("data string too short"));
}

#[test]
fn bit_lib() {
    assert_eq!(
        eval("return {bit.tohex(255), bit.band(7, 3), bit.lshift(1, 40), bit.tobit(2^32+5), bit.bnot(0), bit.bswap(1), bit.tohex(-1, -4), bit.arshift(-256, 4), bit.rol(1, 33), bit.bor(1, 2, 4), bit.bxor(5, 1), bit.rshift(-1, 28), bit.ror(1, 1)}"),
        Reply::Array(vec![
            bulk("000000ff"),
            Reply::Integer(3),
            Reply::Integer(256),
            Reply::Integer(5),
            Reply::Integer(-1),
            Reply::Integer(16777216),
            bulk("FFFF"),
            Reply::Integer(-16),
            Reply::Integer(2),
            Reply::Integer(7),
            Reply::Integer(4),
            Reply::Integer(15),
            Reply::Integer(i32::MIN as i64),
        ])
    );
}

#[test]
fn shebang_flags() {
    use crate::shebang::parse_script;
    let (flags, code) = parse_script(b"#!lua flags=no-writes,allow-oom\nreturn 1").unwrap();
    assert!(flags.shebang && flags.no_writes && flags.allow_oom && !flags.allow_stale);
    assert_eq!(code, b"--lua flags=no-writes,allow-oom\nreturn 1");
    let (flags, _) = parse_script(b"#!lua\nreturn 1").unwrap();
    assert!(flags.shebang && !flags.no_writes);
    assert!(!parse_script(b"return 1").unwrap().0.shebang);
    assert_eq!(
        parse_script(b"#!lua flags=foo\n").unwrap_err(),
        "ERR Unexpected flag in script shebang: foo"
    );
    assert_eq!(
        parse_script(b"#!luax\n").unwrap_err(),
        "ERR Unexpected engine in script shebang: #!luax"
    );
    assert_eq!(
        parse_script(b"#!lua name=x\n").unwrap_err(),
        "ERR Unknown lua shebang option: name=x"
    );
    // The line numbers of a script with a shebang count it.
    let s = "#!lua\nerror('x')";
    assert_eq!(
        err(s),
        format!(
            "ERR user_script:2: x script: {}, on @user_script:2.",
            sha(s)
        )
    );
}

#[test]
fn kill_hook_stops_a_loop() {
    let mut vm = Vm::new().unwrap();
    let sha = sha1_hex(b"while true do end");
    vm.compile_script(&sha, b"while true do end").unwrap();
    let ticks = Arc::new(Mutex::new(0));
    let t = ticks.clone();
    let reply = vm
        .run(
            RunTarget::Script(&sha),
            &[],
            &[],
            Box::new(Fake(Default::default())),
            Box::new(move || {
                let mut n = t.lock().unwrap();
                *n += 1;
                *n > 3
            }),
            false,
        )
        .reply;
    assert_eq!(
        reply,
        Reply::error(format!(
            "ERR Script killed by user with SCRIPT KILL... script: {sha}, on @user_script:1."
        ))
    );
    // A pcall in the script cannot swallow the kill for long.
    let s = "while true do pcall(function() while true do end end) end";
    let sha = sha1_hex(s.as_bytes());
    vm.compile_script(&sha, s.as_bytes()).unwrap();
    let reply = vm
        .run(
            RunTarget::Script(&sha),
            &[],
            &[],
            Box::new(Fake(Default::default())),
            Box::new(|| true),
            false,
        )
        .reply;
    assert!(matches!(reply, Reply::Error(e) if e.contains("Script killed by user")));
    // The VM still works afterwards.
    assert_eq!(
        eval_with(&mut vm, "return 7", &[], false).0,
        Reply::Integer(7)
    );
}

fn load(vm: &mut Vm, code: &str) -> Result<Vec<crate::FunctionInfo>, String> {
    vm.load_library(code.as_bytes())
        .map(|(_, fs)| fs.into_iter().map(|(i, _)| i).collect())
        .map_err(|e| e.0)
}

#[test]
fn function_libraries() {
    let mut vm = Vm::new().unwrap();
    let lib = "#!lua name=mylib\nredis.register_function('f', function(keys, args) return {keys[1], args[1]} end)\nredis.register_function{function_name='g', callback=function() return redis.call('get', 'x') end, flags={'no-writes'}, description='d'}";
    let fs = load(&mut vm, lib).unwrap();
    assert_eq!(fs.len(), 2);
    assert_eq!(fs[1].name, "g");
    assert!(fs[1].flags.no_writes);
    assert_eq!(fs[1].description.as_deref(), Some("d"));
    vm.reload_functions(1, [lib.as_bytes()]);
    let reply = vm
        .run(
            RunTarget::Function("f"),
            &[Bytes::from("k")],
            &[Bytes::from("a")],
            Box::new(Fake(Default::default())),
            Box::new(|| false),
            false,
        )
        .reply;
    assert_eq!(reply, Reply::Array(vec![bulk("k"), bulk("a")]));
    let reply = vm
        .run(
            RunTarget::Function("g"),
            &[],
            &[],
            Box::new(Fake(Default::default())),
            Box::new(|| false),
            false,
        )
        .reply;
    assert_eq!(reply, bulk("v"));
    let reply = vm
        .run(
            RunTarget::Function("nope"),
            &[],
            &[],
            Box::new(Fake(Default::default())),
            Box::new(|| false),
            false,
        )
        .reply;
    assert_eq!(reply, Reply::error("ERR Function not found"));

    let cases = [
        ("return 1", "ERR Missing library metadata"),
        ("#!lua\nreturn 1", "ERR Library name was not given"),
        ("#!lua name=a foo=b\n", "ERR Invalid metadata value given: foo=b"),
        ("#!js name=a\n", "ERR Engine 'js' not found"),
        ("#!lua name=a name=b\n", "ERR Invalid metadata value, name argument was given multiple times"),
        ("#!lua name=\"a b\n", "ERR Invalid library metadata"),
        ("#!lua name=a-b\n", "ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long"),
        ("#!lua name=a\nreturn 1", "ERR No functions registered"),
        ("#!lua name=a\nredis.register_function('f', function() end) redis.register_function('f', function() end)", "ERR Error registering functions: ERR Function already exists in the library"),
        ("#!lua name=a\nredis.register_function('f-x', function() end)", "ERR Error registering functions: ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long"),
        ("#!lua name=a\nredis.register_function('z')", "ERR Error registering functions: ERR calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments)."),
        ("#!lua name=a\nredis.register_function{function_name='z', callback=1}", "ERR Error registering functions: ERR callback argument given to redis.register_function must be a function"),
        ("#!lua name=a\nredis.register_function{function_name='z', foo=1}", "ERR Error registering functions: ERR unknown argument given to redis.register_function"),
        ("#!lua name=a\nredis.register_function{function_name='z', callback=function() end, flags={'bad'}}", "ERR Error registering functions: ERR unknown flag given"),
        // Loading sees only the library API, as in Redis 7.0 (checked
        // against redis-server): not even `error` or `string`.
        ("#!lua name=a\nerror('boom')", "ERR Error registering functions: ERR user_function:2: Script attempted to access nonexistent global variable 'error'"),
        ("#!lua name=a\nlocal s = string.rep('x', 2)", "ERR Error registering functions: ERR user_function:2: Script attempted to access nonexistent global variable 'string'"),
        ("#!lua name=a\nredis.call('ping')", "ERR Error registering functions: ERR user_function:2: Script attempted to access nonexistent global variable 'call'"),
        ("#!lua name=a\nlocal x = ", "ERR Error compiling function: user_function:2: unexpected symbol near '<eof>'"),
    ];
    for (code, want) in cases {
        assert_eq!(load(&mut vm, code).unwrap_err(), want, "{code}");
    }
    assert!(load(&mut vm, "#!lua name=a\nredis.call('ping')").is_err());
    assert!(load(&mut vm, "#!lua name=a\nwhile true do end")
        .unwrap_err()
        .contains("timeout"));
    // Errors inside a function name it.
    let lib2 = "#!lua name=l2\nredis.register_function('boom', function()\n  error('x')\nend)";
    vm.reload_functions(2, [lib.as_bytes(), lib2.as_bytes()]);
    let reply = vm
        .run(
            RunTarget::Function("boom"),
            &[],
            &[],
            Box::new(Fake(Default::default())),
            Box::new(|| false),
            false,
        )
        .reply;
    assert_eq!(
        reply,
        Reply::error("ERR user_function:3: x script: boom, on @user_function:3.")
    );
    // Outside of FUNCTION LOAD there is no register_function (Redis 7.0
    // says the same).
    assert!(err("redis.register_function('x', function() end)")
        .contains("attempt to call field 'register_function' (a nil value)"));
}

/// lua-cjson's settings, limits and error messages (Redis's JSON smoke
/// test and the behaviour around it).
#[test]
fn cjson_settings_and_errors() {
    let smoke = r#"
        local some_map = {s1="Some string", n1=100, a1={"Some","String","Array"}, b1=true, b2=false}
        assert(cjson.encode_keep_buffer(false) == false)
        local decoded = cjson.decode(cjson.encode(some_map))
        assert(decoded.s1 == "Some string" and decoded.a1[3] == "Array")
        decoded = cjson.decode(cjson.encode({one="one", [1]="one"}))
        assert(decoded["one"] == "one" and decoded["1"] == "one")
        local invalid = {}
        invalid[false] = "false"
        assert(pcall(cjson.encode, invalid) == false)
        assert(cjson.encode_max_depth(1) == 1)
        assert(pcall(cjson.encode, some_map) == false)
        cjson.decode_max_depth(1)
        assert(pcall(cjson.decode, '{"obj": {"array": [1,2,3,4]}}') == false)
        assert(pcall(cjson.encode, {num1=0/0}) == false)
        assert(cjson.encode_invalid_numbers(true) == true)
        assert(pcall(cjson.encode, {num1=0/0}) == true)
        return 1
    "#;
    let mut vm = Vm::new().unwrap();
    assert_eq!(eval_with(&mut vm, smoke, &[], false).0, Reply::Integer(1));
    // The settings stay with the VM, as in Redis.
    assert_eq!(
        eval_with(&mut vm, "return cjson.encode({1/0, 0/0})", &[], false).0,
        bulk("[inf,nan]")
    );
    let cases = [
        ("local ok, e = pcall(cjson.encode, {[false]=1}) return e", "Cannot serialise boolean: table key must be a number or string"),
        ("cjson.encode_max_depth(2) local ok, e = pcall(cjson.encode, {{{1}}}) return e", "Cannot serialise, excessive nesting (3)"),
        ("cjson.decode_max_depth(2) local ok, e = pcall(cjson.decode, '[[[1]]]') return e", "Found too many nested data structures (3) at character 3"),
        ("local ok, e = pcall(cjson.encode, {0/0}) return e", "Cannot serialise number: must not be NaN or Inf"),
        ("local ok, e = pcall(cjson.encode, {[1]=1, [20]=2}) return e", "Cannot serialise table: excessively sparse array"),
        ("cjson.encode_sparse_array(true) return cjson.encode({[1]=1, [20]=2})", "{\"1\":1,\"20\":2}"),
        ("cjson.encode_invalid_numbers('null') return cjson.encode({0/0, 1/0})", "[null,null]"),
        ("cjson.encode_number_precision(3) return cjson.encode(math.pi)", "3.14"),
        ("local ok, e = pcall(cjson.decode, '{\"a\":1,}') return e", "Expected object key string but found T_OBJ_END at character 8"),
        ("local ok, e = pcall(cjson.decode, '[1,2') return e", "Expected comma or array end but found T_END at character 5"),
        ("local ok, e = pcall(cjson.decode, '') return e", "Expected value but found T_END at character 1"),
        ("local ok, e = pcall(cjson.decode, '\"a\\\\qb\"') return e", "Expected value but found invalid escape code at character 3"),
        ("local ok, e = pcall(cjson.decode, '\"\\\\ud800\"') return e", "Expected value but found invalid unicode escape code at character 2"),
        ("local ok, e = pcall(cjson.decode, '  1  x') return e", "Expected the end but found invalid token at character 6"),
        ("local ok, e = pcall(cjson.encode_max_depth, 0) return e", "bad argument #1 to 'encode_max_depth' (expected integer between 1 and 2147483647)"),
        ("local ok, e = pcall(cjson.encode_keep_buffer, 'x') return e", "bad argument #1 to 'encode_keep_buffer' (invalid option 'x')"),
        ("local ok, e = pcall(cjson.encode) return e", "bad argument #1 to 'encode' (expected 1 argument)"),
        ("return cjson.decode('\"\\\\u00e9\\\\uD83D\\\\uDE00\"')", "é😀"),
        ("return cjson.encode(cjson.decode('[1.5e2, 0.0001, 0x10, 1e15]'))", "[150,0.0001,16,1e+15]"),
        ("return cjson.encode('/\\1\\127')", "\"\\/\\u0001\\u007f\""),
        ("local c = cjson.new() c.encode_max_depth(1) return tostring(pcall(c.encode, {{}})) .. cjson.encode({{}})", "false[{}]"),
    ];
    for (script, want) in cases {
        let mut vm = Vm::new().unwrap();
        assert_eq!(
            eval_with(&mut vm, script, &[], false).0,
            bulk(want),
            "{script}"
        );
    }
}

/// unpack_one / unpack_limit and lua-cmsgpack's decoding rules.
#[test]
fn cmsgpack_partial_unpack() {
    let smoke = r#"
        local packed = cmsgpack.pack("a", string.rep("x", 300), {1, 2}, "z")
        local offset, v = cmsgpack.unpack_one(packed)
        assert(v == "a" and offset == 2)
        offset, v = cmsgpack.unpack_limit(packed, 1, offset)
        assert(#v == 300)
        local t
        offset, t, v = cmsgpack.unpack_limit(packed, 2, offset)
        assert(t[2] == 2 and v == "z" and offset == -1)
        local n = select('#', cmsgpack.unpack_limit(packed, 0, 0))
        assert(n == 4)
        return 1
    "#;
    assert_eq!(eval(smoke), Reply::Integer(1));
    let cases = [
        (
            "return cmsgpack.unpack_limit('\\1\\2\\3', 2, 5)",
            "ERR user_script:1: Start offset 5 greater than input length 3.",
        ),
        (
            "return cmsgpack.unpack_limit('\\1\\2\\3', -1)",
            "ERR user_script:1: Invalid request to unpack with offset of 0 and limit of 3.",
        ),
        (
            "return cmsgpack.unpack('\\196\\1a')",
            "ERR user_script:1: Bad data format in input.",
        ),
        (
            "return cmsgpack.unpack('\\146\\1')",
            "ERR user_script:1: Missing bytes in input.",
        ),
        (
            "return cmsgpack.pack()",
            "ERR user_script:1: bad argument #0 to 'pack' (MessagePack pack needs input.)",
        ),
    ];
    for (script, want) in cases {
        assert!(err(script).starts_with(want), "{script}: {}", err(script));
    }
    // Above 2^63 a uint64 wraps, as lua-cmsgpack pushes it signed; NaN is
    // packed as a double.
    assert_eq!(
        eval("return cmsgpack.unpack('\\207\\255\\255\\255\\255\\255\\255\\255\\255')"),
        Reply::Integer(-1)
    );
    assert_eq!(
        eval("return cmsgpack.pack(0/0):byte(1)"),
        Reply::Integer(0xcb)
    );
}

/// _G, its metatable and the libraries are read-only as in Redis 7, with
/// its error; loadstring refuses precompiled chunks.
#[test]
fn protected_globals_and_binary_chunks() {
    for script in [
        "setmetatable(_G, {})",
        "local g = getmetatable(_G); g.__index = {}",
        "local g = getmetatable(_G); rawset(g, '__index', {})",
        "setmetatable(getmetatable(_G), {})",
        "setmetatable(redis, {})",
        "table.insert(redis, 1)",
        "rawset(_G, 'x', 1)",
        "redis.call = 1",
        "cjson.encode = 1",
        "string.x = 1",
        "_G = {}",
    ] {
        let e = err(script);
        assert!(
            e.contains("Attempt to modify a readonly table"),
            "{script}: {e}"
        );
    }
    assert_eq!(
        eval("return type(getmetatable(_G).__index)"),
        bulk("function")
    );
    assert_eq!(eval("return getmetatable(redis) == nil"), Reply::Integer(1));
    // Ordinary tables are not affected.
    assert_eq!(
        eval("local t = setmetatable({}, {__index = function() return 5 end}) table.insert(t, 1) return t.x + t[1]"),
        Reply::Integer(6)
    );
    assert!(
        err("return loadstring(string.dump(function() return 1 end))()")
            .contains("attempt to call a nil value")
    );
    assert_eq!(
        eval("local f, e = loadstring('\\27Lua') return e"),
        bulk("[string \"\u{1b}Lua\"]:1: unexpected symbol near 'char(27)'")
    );
    assert_eq!(eval("return loadstring('return 7')()"), Reply::Integer(7));
}

/// The redis.* helpers check their arguments as Redis does.
#[test]
fn redis_helpers_arity() {
    let e = err("return redis.sha1hex()");
    assert!(
        e.starts_with("ERR wrong number of arguments script: "),
        "{e}"
    );
    assert_eq!(
        eval("return redis.sha1hex(12)"),
        bulk("7b52009b64fd0a2a49e6d8a939753077792b0554")
    );
    for script in ["return redis.error_reply()", "return redis.status_reply(1)"] {
        assert_eq!(
            err(script),
            "ERR wrong number or type of arguments",
            "{script}"
        );
    }
    assert_eq!(
        err("return redis.error_reply('MY_CODE msg')"),
        "MY_CODE msg"
    );
    assert_eq!(err("return redis.error_reply('oops')"), "ERR oops");
    assert_eq!(err("return redis.error_reply('')"), "ERR ");
    let e = err("redis.setresp()");
    assert!(
        e.starts_with("ERR redis.setresp() requires one argument. "),
        "{e}"
    );
    let e = err("redis.set_repl(99)");
    assert!(e.starts_with("ERR Invalid replication flags."), "{e}");
    assert_eq!(
        eval("local ok, e = pcall(redis.log) return e"),
        bulk("ERR redis.log() requires two arguments or more.")
    );
}
