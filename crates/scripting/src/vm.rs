//! One sandboxed Lua state: compiled scripts, loaded function libraries,
//! and the run loop with Redis's error formatting.

use crate::convert::{error_table, lua_to_reply, reply_to_lua};
use crate::shebang::{self, ScriptFlags};
use crate::CommandCaller;
use basalt_resp::Reply;
use bytes::Bytes;
use mlua::{
    ChunkMode, Function, HookTriggers, Lua, LuaOptions, MultiValue, StdLib, Table, Value, VmState,
};
use std::collections::HashMap;

/// Instructions between two checks of the time limit / kill flag; Redis
/// uses the same count.
const HOOK_INSTRUCTIONS: u32 = 100_000;

/// What [`Vm::run`] runs.
#[derive(Clone, Copy, Debug)]
pub enum RunTarget<'a> {
    /// An EVAL script, by SHA1 (compiled before with [`Vm::compile_script`]).
    Script(&'a str),
    /// A function of a loaded library, by name.
    Function(&'a str),
}

/// A function a library registered.
#[derive(Clone, Debug, PartialEq)]
pub struct FunctionInfo {
    pub name: String,
    pub description: Option<String>,
    pub flags: ScriptFlags,
}

/// What a script or function run answers.
#[derive(Debug, PartialEq)]
pub struct RunReply {
    pub reply: Reply,
    /// The reply is the error of a command the script ran with
    /// `redis.call` / `redis.pcall`, already counted in the error
    /// statistics when that command failed.
    pub error_counted: bool,
}

/// Marks an error table that came from a command's reply; see
/// [`RunReply::error_counted`].
const COUNTED_FIELD: &str = "ignore_error_stats_update";

/// Whether `v` is an error table marked with [`COUNTED_FIELD`].
fn is_counted_error(v: &Value) -> bool {
    match v {
        Value::Table(t) => matches!(t.raw_get::<Value>(COUNTED_FIELD), Ok(Value::Boolean(true))),
        _ => false,
    }
}

/// A library that failed to load: Redis's error text.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct LibraryError(pub String);

/// What the Rust side of `redis.*` needs during one run.
struct RunState {
    caller: Option<Box<dyn CommandCaller>>,
    resp3: bool,
    /// While a library loads: the functions it registered so far.
    registering: Option<Vec<(FunctionInfo, Function)>>,
}

pub struct Vm {
    lua: Lua,
    /// The real global table behind the locked `_G` (KEYS and ARGV go here).
    env: Table,
    runner: Function,
    loader: Function,
    scripts: HashMap<String, Function>,
    scripts_generation: u64,
    functions: HashMap<String, Function>,
    functions_generation: u64,
    runs: u64,
}

/// Runs between two extra GC steps (Redis's LUA_GC_CYCLE_PERIOD).
const GC_PERIOD: u64 = 50;

impl Vm {
    pub fn new() -> mlua::Result<Vm> {
        // SAFETY: the debug library is loaded only so the prelude can keep
        // `debug.getinfo` for its error handler; the prelude removes it from
        // the globals before any script runs.
        let lua = unsafe {
            Lua::unsafe_new_with(
                StdLib::TABLE | StdLib::STRING | StdLib::MATH | StdLib::DEBUG,
                LuaOptions::new(),
            )
        };
        lua.set_app_data(RunState {
            caller: None,
            resp3: false,
            registering: None,
        });
        let globals = lua.globals();
        globals.set("redis", crate::libs::redis::table(&lua)?)?;
        globals.set("cjson", crate::libs::cjson::table(&lua)?)?;
        globals.set("cmsgpack", crate::libs::cmsgpack::table(&lua)?)?;
        globals.set("struct", crate::libs::structlib::table(&lua)?)?;
        globals.set("bit", crate::libs::bit::table(&lua)?)?;
        crate::libs::random::install(&lua)?;
        let call_raw = lua.create_function(call_raw)?;
        lua.set_named_registry_value(CALL_RAW_KEY, call_raw.clone())?;
        // SAFETY: `redis_call` only uses the Lua C API on the stack it is
        // given, as any C function may.
        let call = unsafe { lua.create_c_function(redis_call)? };
        let (env, runner, loader): (Table, Function, Function) = lua
            .load(include_str!("prelude.lua"))
            .set_name("=basalt")
            .call((call_raw, call))?;
        Ok(Vm {
            lua,
            env,
            runner,
            loader,
            scripts: HashMap::new(),
            scripts_generation: 0,
            functions: HashMap::new(),
            functions_generation: 0,
            runs: 0,
        })
    }

    /// Drops the compiled scripts when the shared generation moved on
    /// (SCRIPT FLUSH on any thread).
    pub fn sync_scripts(&mut self, generation: u64) {
        if self.scripts_generation != generation {
            self.scripts.clear();
            self.scripts_generation = generation;
        }
    }

    pub fn has_script(&self, sha: &str) -> bool {
        self.scripts.contains_key(sha)
    }

    /// Compiles an EVAL script body (shebang already checked) under `sha`.
    pub fn compile_script(&mut self, sha: &str, body: &[u8]) -> Result<(), String> {
        let (_, code) = shebang::parse_script(body)?;
        let f = self
            .lua
            .load(&code[..])
            .set_name("@user_script")
            .set_mode(ChunkMode::Text)
            .into_function()
            .map_err(|e| format!("ERR Error compiling script (new function): {}", syntax(&e)))?;
        self.scripts.insert(sha.to_string(), f);
        Ok(())
    }

    /// The generation of the function libraries this VM has loaded.
    pub fn functions_generation(&self) -> u64 {
        self.functions_generation
    }

    /// Replaces every loaded library with `libraries` (their code), as of
    /// `generation`. A library that no longer loads is skipped (it loaded
    /// when FUNCTION LOAD accepted it, so this means a bug, logged).
    pub fn reload_functions<'a>(
        &mut self,
        generation: u64,
        libraries: impl IntoIterator<Item = &'a [u8]>,
    ) {
        self.functions.clear();
        for code in libraries {
            match self.load_library(code) {
                Ok((_, functions)) => {
                    for (info, f) in functions {
                        self.functions.insert(info.name, f);
                    }
                }
                Err(e) => tracing::error!("function library failed to reload: {e}"),
            }
        }
        self.functions_generation = generation;
    }

    pub fn has_function(&self, name: &str) -> bool {
        self.functions.contains_key(name)
    }

    /// Runs a library's code and returns its name and the functions it
    /// registered (without keeping them: see [`Vm::reload_functions`]).
    /// Library loading gets half a second, like Redis.
    #[allow(clippy::type_complexity)]
    pub fn load_library(
        &mut self,
        code: &[u8],
    ) -> Result<(String, Vec<(FunctionInfo, Function)>), LibraryError> {
        let (name, body) = shebang::parse_library(code).map_err(LibraryError)?;
        let chunk = self
            .lua
            .load(&body[..])
            .set_name("@user_function")
            .set_mode(ChunkMode::Text)
            .into_function()
            .map_err(|e| LibraryError(format!("ERR Error compiling function: {}", syntax(&e))))?;
        self.state().registering = Some(Vec::new());
        let started = std::time::Instant::now();
        self.lua.set_hook(
            HookTriggers::new().every_nth_instruction(HOOK_INSTRUCTIONS),
            move |_, _| {
                if started.elapsed() > std::time::Duration::from_millis(500) {
                    Err(mlua::Error::RuntimeError(
                        "\u{1}ERR FUNCTION LOAD timeout".into(),
                    ))
                } else {
                    Ok(VmState::Continue)
                }
            },
        );
        let result: mlua::Result<(bool, Value)> = self.loader.call(chunk);
        self.lua.remove_hook();
        let registered = self.state().registering.take().unwrap_or_default();
        match result {
            Ok((true, _)) => {}
            Ok((false, e)) => {
                let text = match e {
                    Value::String(s) => s.to_string_lossy(),
                    other => format!("{other:?}"),
                };
                return Err(LibraryError(format!(
                    "ERR Error registering functions: {text}"
                )));
            }
            Err(e) => {
                return Err(LibraryError(format!(
                    "ERR Error registering functions: {e}"
                )))
            }
        }
        if registered.is_empty() {
            return Err(LibraryError("ERR No functions registered".into()));
        }
        Ok((name, registered))
    }

    /// Runs a script or function. `watchdog` is called every
    /// [`HOOK_INSTRUCTIONS`] instructions; returning true stops the script
    /// with [`crate::KILLED_MESSAGE`].
    #[allow(clippy::too_many_arguments)]
    pub fn run(
        &mut self,
        target: RunTarget<'_>,
        keys: &[Bytes],
        args: &[Bytes],
        caller: Box<dyn CommandCaller>,
        watchdog: Box<dyn Fn() -> bool>,
        client_resp3: bool,
    ) -> RunReply {
        let fail = |e: &'static str| RunReply {
            reply: Reply::error(e),
            error_counted: false,
        };
        let (f, name, is_eval) = match target {
            RunTarget::Script(sha) => match self.scripts.get(sha) {
                Some(f) => (f.clone(), sha, true),
                None => return fail("NOSCRIPT No matching script. Please use EVAL."),
            },
            RunTarget::Function(name) => match self.functions.get(name) {
                Some(f) => (f.clone(), name, false),
                None => return fail("ERR Function not found"),
            },
        };
        {
            let mut state = self.state();
            state.caller = Some(caller);
            state.resp3 = false;
        }
        self.lua.set_hook(
            HookTriggers::new().every_nth_instruction(HOOK_INSTRUCTIONS),
            move |_, _| {
                if watchdog() {
                    Err(mlua::Error::RuntimeError(format!(
                        "\u{1}{}",
                        crate::KILLED_MESSAGE
                    )))
                } else {
                    Ok(VmState::Continue)
                }
            },
        );
        let result = self.call(&f, keys, args, is_eval);
        self.lua.remove_hook();
        let resp3 = {
            let mut state = self.state();
            state.caller = None;
            state.resp3
        };
        let error_counted = matches!(&result, Ok((_, v)) if is_counted_error(v));
        let reply = match result {
            Ok((true, value)) => lua_to_reply(&value, resp3, client_resp3),
            Ok((false, Value::Table(e))) => error_reply(&e, name),
            Ok((false, other)) => Reply::error(format!("ERR {other:?}")),
            Err(e) => Reply::error(format!("ERR {e}")),
        };
        if is_eval {
            let _ = self.env.raw_set("KEYS", Value::Nil);
            let _ = self.env.raw_set("ARGV", Value::Nil);
        }
        // Like Redis: an extra incremental GC step every 50 runs keeps the
        // garbage of short scripts from piling up between collections,
        // without a full collection per call.
        self.runs += 1;
        if self.runs >= GC_PERIOD {
            self.runs = 0;
            let _ = self.lua.gc_step_kbytes(GC_PERIOD as i32);
        }
        RunReply {
            error_counted: error_counted && matches!(reply, Reply::Error(_)),
            reply,
        }
    }

    fn call(
        &self,
        f: &Function,
        keys: &[Bytes],
        args: &[Bytes],
        is_eval: bool,
    ) -> mlua::Result<(bool, Value)> {
        let keys = self.string_array(keys)?;
        let args = self.string_array(args)?;
        if is_eval {
            self.env.raw_set("KEYS", keys)?;
            self.env.raw_set("ARGV", args)?;
            self.runner.call((f.clone(), Value::Nil, Value::Nil))
        } else {
            self.runner.call((f.clone(), keys, args))
        }
    }

    fn string_array(&self, items: &[Bytes]) -> mlua::Result<Table> {
        let t = self.lua.create_table_with_capacity(items.len(), 0)?;
        for (i, item) in items.iter().enumerate() {
            t.raw_set(i + 1, self.lua.create_string(item)?)?;
        }
        Ok(t)
    }

    fn state(&self) -> mlua::AppDataRefMut<'_, RunState> {
        self.lua
            .app_data_mut::<RunState>()
            .expect("RunState is set in Vm::new")
    }

    /// Memory the VM uses, for INFO / FUNCTION STATS.
    pub fn used_memory(&self) -> usize {
        self.lua.used_memory()
    }
}

/// A Lua syntax error's message (the text Lua gives, e.g.
/// `user_script:1: unexpected symbol near '<eof>'`).
fn syntax(e: &mlua::Error) -> String {
    match e {
        mlua::Error::SyntaxError { message, .. } => message.clone(),
        other => other.to_string(),
    }
}

/// A script error as Redis 7 words it: the message, then which script and
/// where ("... script: <sha or function>, on @user_script:3.").
fn error_reply(e: &Table, name: &str) -> Reply {
    let msg: String = match e.raw_get::<Value>("err") {
        Ok(Value::String(s)) => s.to_string_lossy(),
        _ => "ERR unknown error".to_string(),
    };
    let source: Option<String> = e.raw_get("source").ok();
    let line: Option<i64> = e.raw_get("line").ok();
    let msg = msg.replace(['\r', '\n'], " ");
    match (source, line) {
        (Some(source), Some(line)) => {
            Reply::error(format!("{msg} script: {name}, on {source}:{line}."))
        }
        _ => Reply::error(msg),
    }
}

/// Registry key of [`call_raw`] for [`redis_call`].
const CALL_RAW_KEY: &str = "basalt.call_raw";
const CALL_RAW_KEY_C: &std::ffi::CStr = c"basalt.call_raw";

/// `redis.call`: [`call_raw`], raising an error reply as the error value
/// `{err = ...}`. It is a C function rather than a Lua wrapper because
/// Lua 5.1 drops the caller's frame on `return f()` into a Lua function,
/// and the error would then lose the script line Redis reports; mlua's
/// Rust callbacks can only raise their own error type, not a table.
///
/// The arguments reach [`call_raw`] in a table: passed one by one, each
/// would take a slot of mlua's reference stack, which holds about 8,000,
/// and `redis.call("lpush", "l", unpack(t))` with 7,999 elements (Redis's
/// own test) ran out of them.
unsafe extern "C-unwind" fn redis_call(state: *mut mlua::ffi::lua_State) -> std::os::raw::c_int {
    use mlua::ffi;
    let nargs = ffi::lua_gettop(state);
    // No lua_checkstack here: it refuses when the arguments alone are near
    // Lua's 8,000-slot limit, and a C function always has LUA_MINSTACK (20)
    // free slots above its arguments, more than the four used below.
    ffi::lua_createtable(state, nargs, 0);
    for i in 1..=nargs {
        ffi::lua_pushvalue(state, i);
        ffi::lua_rawseti(state, -2, i as ffi::lua_Integer);
    }
    ffi::lua_getfield(state, ffi::LUA_REGISTRYINDEX, CALL_RAW_KEY_C.as_ptr());
    ffi::lua_insert(state, -2);
    ffi::lua_pushinteger(state, nargs as ffi::lua_Integer);
    ffi::lua_call(state, 2, 2);
    if ffi::lua_toboolean(state, -1) != 0 {
        ffi::lua_pop(state, 1);
        ffi::lua_error(state);
    }
    ffi::lua_pop(state, 1);
    1
}

/// `redis.call` / `redis.pcall`: returns the reply and whether it is an
/// error (the Lua wrapper raises it for `redis.call`).
fn call_raw(lua: &Lua, (args, n): (Table, i64)) -> mlua::Result<(Value, bool)> {
    if n <= 0 {
        let e = "ERR Please specify at least one argument for this redis lib call";
        return Ok((error_table(lua, e)?, true));
    }
    let mut argv = Vec::with_capacity(n as usize);
    for i in 1..=n {
        match &args.raw_get::<Value>(i)? {
            Value::String(s) => argv.push(Bytes::copy_from_slice(&s.as_bytes())),
            Value::Number(n) => argv.push(Bytes::from(format_number(*n))),
            Value::Integer(n) => argv.push(Bytes::from(n.to_string())),
            _ => {
                let e = "ERR Lua redis lib command arguments must be strings or integers";
                return Ok((error_table(lua, e)?, true));
            }
        }
    }
    let (caller, resp3) = {
        let mut state = lua.app_data_mut::<RunState>().expect("RunState");
        (state.caller.take(), state.resp3)
    };
    let Some(mut caller) = caller else {
        let e = "ERR redis.call is only available while a script runs, not while a library loads";
        return Ok((error_table(lua, e)?, true));
    };
    let reply = caller.call(argv, resp3);
    lua.app_data_mut::<RunState>().expect("RunState").caller = Some(caller);
    let is_err = matches!(reply, Reply::Error(_));
    let value = reply_to_lua(lua, &reply, resp3)?;
    if let (true, Value::Table(t)) = (is_err, &value) {
        // The command's error was counted in the error statistics when the
        // command failed; if the script passes it on as its own error it
        // must not be counted again (Redis's field of the same name).
        t.raw_set(COUNTED_FIELD, true)?;
    }
    Ok((value, is_err))
}

/// A Lua number as a command argument, as Redis 7.2 writes it: integral
/// values within the 64-bit range as integers, others in the shortest form
/// that reads back the same (fpconv_dtoa's layout).
pub(crate) fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&n) {
        return (n as i64).to_string();
    }
    fpconv(n)
}

/// fpconv_dtoa: shortest round-trip digits, laid out as plain integer,
/// plain decimal or scientific by the decimal exponent.
fn fpconv(n: f64) -> String {
    if n.is_nan() {
        return "nan".into();
    }
    if n.is_infinite() {
        return if n < 0.0 { "-inf".into() } else { "inf".into() };
    }
    let neg = n < 0.0;
    let sci = format!("{:e}", n.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let decimal_exp: i32 = exp.parse().unwrap_or(0);
    let ndigits = digits.len() as i32;
    // value = digits * 10^k
    let k = decimal_exp - (ndigits - 1);
    let abs_exp = decimal_exp.abs();
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    if k >= 0 && abs_exp < ndigits + 7 {
        out.push_str(&digits);
        out.extend(std::iter::repeat_n('0', k as usize));
    } else if k < 0 && (k > -7 || abs_exp < 4) {
        let offset = ndigits + k;
        if offset <= 0 {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-offset) as usize));
            out.push_str(&digits);
        } else {
            out.push_str(&digits[..offset as usize]);
            out.push('.');
            out.push_str(&digits[offset as usize..]);
        }
    } else {
        let nd = digits.len().min(18 - neg as usize);
        out.push_str(&digits[..1]);
        if nd > 1 {
            out.push('.');
            out.push_str(&digits[1..nd]);
        }
        out.push('e');
        out.push(if decimal_exp < 0 { '-' } else { '+' });
        out.push_str(&abs_exp.to_string());
    }
    out
}

/// The arguments of a `redis.*` command helper as command arguments, or
/// Redis's error for a bad one.
fn command_args(args: &MultiValue) -> Result<Vec<Bytes>, &'static str> {
    if args.is_empty() {
        return Err("ERR Please specify at least one argument for this redis lib call");
    }
    args.iter()
        .map(|v| match v {
            Value::String(s) => Ok(Bytes::copy_from_slice(&s.as_bytes())),
            Value::Number(n) => Ok(Bytes::from(format_number(*n))),
            Value::Integer(n) => Ok(Bytes::from(n.to_string())),
            _ => Err("ERR Lua redis lib command arguments must be strings or integers"),
        })
        .collect()
}

/// `redis.acl_check_cmd(command, args...)`: whether the user running the
/// script may run that command with those arguments.
pub(crate) fn acl_check_cmd(lua: &Lua, args: MultiValue) -> mlua::Result<bool> {
    let fail = |m: String| Err(mlua::Error::RuntimeError(format!("\u{1}{m}")));
    let argv = match command_args(&args) {
        Ok(argv) => argv,
        Err(e) => return fail(e.to_string()),
    };
    let caller = lua
        .app_data_mut::<RunState>()
        .expect("RunState")
        .caller
        .take();
    let Some(mut caller) = caller else {
        return fail(
            "ERR redis.acl_check_cmd can only be called inside a script invocation".into(),
        );
    };
    let result = caller.acl_check(argv);
    lua.app_data_mut::<RunState>().expect("RunState").caller = Some(caller);
    match result {
        Ok(allowed) => Ok(allowed),
        Err(e) => fail(format!("ERR {e}")),
    }
}

/// `redis.setresp(2|3)`.
pub(crate) fn set_resp(lua: &Lua, args: MultiValue) -> mlua::Result<()> {
    if args.len() != 1 {
        return Err(mlua::Error::RuntimeError(
            "\u{1}ERR redis.setresp() requires one argument.".into(),
        ));
    }
    let v = match &args[0] {
        Value::Number(n) => *n as i64,
        Value::Integer(n) => *n,
        Value::String(s) => s
            .to_str()
            .ok()
            .and_then(|s| s.trim().parse::<f64>().ok())
            .map_or(0, |n| n as i64),
        _ => 0,
    };
    if v != 2 && v != 3 {
        return Err(mlua::Error::RuntimeError(
            "\u{1}ERR RESP version must be 2 or 3.".into(),
        ));
    }
    lua.app_data_mut::<RunState>().expect("RunState").resp3 = v == 3;
    Ok(())
}

/// `redis.register_function(name, callback)` or
/// `redis.register_function{function_name=, callback=, flags=, description=}`.
pub(crate) fn register_function(lua: &Lua, args: MultiValue) -> mlua::Result<()> {
    let fail = |m: &str| Err(mlua::Error::RuntimeError(m.to_string()));
    let (name, callback, flags, description) = match args.len() {
        1 => {
            let Some(Value::Table(t)) = args.front() else {
                return fail("calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).");
            };
            let mut name = None;
            let mut callback = None;
            let mut flags = ScriptFlags::default();
            let mut description = None;
            for pair in t.pairs::<Value, Value>() {
                let (k, v) = pair?;
                let key =
                    match &k {
                        Value::String(s) => s.to_string_lossy(),
                        _ => return fail(
                            "named argument key given to redis.register_function is not a string",
                        ),
                    };
                match key.as_str() {
                    "function_name" => match v {
                        Value::String(s) => name = Some(s.to_string_lossy()),
                        _ => return fail("function_name argument given to redis.register_function must be a string"),
                    },
                    "description" => match v {
                        Value::String(s) => description = Some(s.to_string_lossy()),
                        _ => return fail("description argument given to redis.register_function must be a string"),
                    },
                    "callback" => match v {
                        Value::Function(f) => callback = Some(f),
                        _ => return fail("callback argument given to redis.register_function must be a function"),
                    },
                    "flags" => match v {
                        Value::Table(list) => {
                            for flag in list.sequence_values::<Value>() {
                                let ok = match flag? {
                                    Value::String(s) => flags.set(&s.to_string_lossy()),
                                    _ => false,
                                };
                                if !ok {
                                    return fail("unknown flag given");
                                }
                            }
                        }
                        _ => return fail("flags argument to redis.register_function must be a table representing function flags"),
                    },
                    _ => return fail("unknown argument given to redis.register_function"),
                }
            }
            let Some(name) = name else {
                return fail("redis.register_function must get a function name argument");
            };
            let Some(callback) = callback else {
                return fail("redis.register_function must get a callback argument");
            };
            (name, callback, flags, description)
        }
        2 => {
            let name = match &args[0] {
                Value::String(s) => s.to_string_lossy(),
                _ => return fail("first argument to redis.register_function must be a string"),
            };
            let Value::Function(callback) = &args[1] else {
                return fail("second argument to redis.register_function must be a function");
            };
            (name, callback.clone(), ScriptFlags::default(), None)
        }
        _ => return fail("wrong number of arguments to redis.register_function"),
    };
    if !shebang::valid_name(&name) {
        // Redis says "Library names" here too.
        return fail("Library names can only contain letters, numbers, or underscores(_) and must be at least one character long");
    }
    let mut state = lua.app_data_mut::<RunState>().expect("RunState");
    let Some(registered) = state.registering.as_mut() else {
        return fail("redis.register_function can only be called on FUNCTION LOAD command");
    };
    if registered.iter().any(|(f, _)| f.name == name) {
        return fail("Function already exists in the library");
    }
    registered.push((
        FunctionInfo {
            name,
            description,
            flags,
        },
        callback,
    ));
    Ok(())
}
