//! The `redis` table (call and pcall are added by the prelude).

use mlua::{Lua, MultiValue, Table, Value};

/// The version scripts see; Basalt answers as Redis 7.2.
pub const REDIS_VERSION: &str = "7.2.0";
pub const REDIS_VERSION_NUM: i64 = 0x00070200;

pub fn table(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set("REDIS_VERSION", REDIS_VERSION)?;
    t.set("REDIS_VERSION_NUM", REDIS_VERSION_NUM)?;
    t.set("LOG_DEBUG", 0)?;
    t.set("LOG_VERBOSE", 1)?;
    t.set("LOG_NOTICE", 2)?;
    t.set("LOG_WARNING", 3)?;
    // Effects replication is the only mode since Redis 7; these stay for
    // old scripts.
    t.set("REPL_NONE", 0)?;
    t.set("REPL_AOF", 1)?;
    t.set("REPL_SLAVE", 2)?;
    t.set("REPL_REPLICA", 2)?;
    t.set("REPL_ALL", 3)?;
    t.set("sha1hex", lua.create_function(sha1hex)?)?;
    t.set("error_reply", lua.create_function(error_reply)?)?;
    t.set("status_reply", lua.create_function(status_reply)?)?;
    t.set("log", lua.create_function(log)?)?;
    t.set("setresp", lua.create_function(crate::vm::set_resp)?)?;
    t.set(
        "acl_check_cmd",
        lua.create_function(crate::vm::acl_check_cmd)?,
    )?;
    t.set(
        "register_function",
        lua.create_function(crate::vm::register_function)?,
    )?;
    t.set(
        "replicate_commands",
        lua.create_function(|_, _: MultiValue| Ok(true))?,
    )?;
    t.set("set_repl", lua.create_function(set_repl)?)?;
    // The script debugger (SCRIPT DEBUG) is not supported; outside of it
    // Redis makes these no-ops too.
    t.set(
        "breakpoint",
        lua.create_function(|_, _: MultiValue| Ok(false))?,
    )?;
    t.set("debug", lua.create_function(|_, _: MultiValue| Ok(()))?)?;
    Ok(t)
}

/// Redis's error for a bad call of a `redis.*` helper: the text gets the
/// ERR code and is final (the handler adds only the script position).
fn helper_error<T>(msg: &str) -> mlua::Result<T> {
    super::err(format!("\u{1}ERR {msg}"))
}

/// `redis.sha1hex(x)`: exactly one argument; like Redis, anything that is
/// not a string or a number hashes as the empty string.
fn sha1hex(lua: &Lua, args: MultiValue) -> mlua::Result<mlua::String> {
    if args.len() != 1 {
        return helper_error("wrong number of arguments");
    }
    let digest = match &args[0] {
        Value::String(s) => crate::sha1_hex(&s.as_bytes()),
        Value::Integer(n) => crate::sha1_hex(n.to_string().as_bytes()),
        Value::Number(n) => crate::sha1_hex(crate::libs::lua_number_text(*n).as_bytes()),
        _ => crate::sha1_hex(b""),
    };
    lua.create_string(digest)
}

/// The one string argument of error_reply / status_reply. A bad call
/// does not raise: Redis returns this error as the helper's value.
fn single_string(lua: &Lua, args: &MultiValue) -> mlua::Result<Result<mlua::String, Value>> {
    match (args.len(), args.front()) {
        (1, Some(Value::String(s))) => Ok(Ok(s.clone())),
        _ => Ok(Err(crate::convert::error_table(
            lua,
            "ERR wrong number or type of arguments",
        )?)),
    }
}

/// `redis.error_reply(text)`: `{err = "CODE message"}`. As in Redis the
/// code is the first word of a text starting with "-", else ERR; so
/// "MY_CODE msg" keeps its code, "oops" becomes "ERR oops" and "" "ERR ".
fn error_reply(lua: &Lua, args: MultiValue) -> mlua::Result<Value> {
    let text = match single_string(lua, &args)? {
        Ok(s) => s,
        Err(e) => return Ok(e),
    };
    let bytes = text.as_bytes();
    let body = bytes.strip_prefix(b"-").unwrap_or(&bytes);
    let (code, msg): (&[u8], &[u8]) = match body.iter().position(|&c| c == b' ') {
        Some(i) => (&body[..i], &body[i + 1..]),
        None => (b"ERR", body),
    };
    let msg = trim_newlines(msg);
    let mut full = Vec::with_capacity(code.len() + 1 + msg.len());
    full.extend_from_slice(code);
    full.push(b' ');
    full.extend_from_slice(msg);
    crate::convert::error_table(lua, &String::from_utf8_lossy(&full))
}

/// Redis trims CR and LF from both ends of an error's message.
fn trim_newlines(mut s: &[u8]) -> &[u8] {
    while let [b'\r' | b'\n', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b'\r' | b'\n'] = s {
        s = rest;
    }
    s
}

/// `redis.status_reply(text)`: `{ok = text}`.
fn status_reply(lua: &Lua, args: MultiValue) -> mlua::Result<Value> {
    let text = match single_string(lua, &args)? {
        Ok(s) => s,
        Err(e) => return Ok(e),
    };
    let t = lua.create_table()?;
    t.raw_set("ok", text)?;
    Ok(Value::Table(t))
}

/// `redis.set_repl(flags)`: effects replication is the only mode since
/// Redis 7, so the flags are checked and otherwise ignored.
fn set_repl(_: &Lua, args: MultiValue) -> mlua::Result<()> {
    if args.len() != 1 {
        // Redis 7.0's wording, though it takes one argument.
        return helper_error("redis.set_repl() requires two arguments.");
    }
    let flags = match &args[0] {
        Value::Integer(n) => *n,
        Value::Number(n) => *n as i64,
        Value::String(s) => s
            .to_str()
            .ok()
            .and_then(|s| s.trim().parse::<f64>().ok())
            .map_or(0, |n| n as i64),
        _ => 0,
    };
    if flags & !3 != 0 {
        return helper_error(
            "Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.",
        );
    }
    Ok(())
}

fn log(_: &Lua, args: MultiValue) -> mlua::Result<()> {
    if args.len() < 2 {
        return super::err("\u{1}ERR redis.log() requires two arguments or more.");
    }
    let level = match &args[0] {
        Value::Number(n) => *n as i64,
        Value::Integer(n) => *n,
        _ => return super::err("\u{1}ERR First argument must be a number (log level)."),
    };
    let mut text = String::new();
    for (i, v) in args.iter().skip(1).enumerate() {
        if i > 0 {
            text.push(' ');
        }
        match v {
            Value::String(s) => text.push_str(&s.to_string_lossy()),
            Value::Number(n) => text.push_str(&crate::vm::format_number(*n)),
            Value::Integer(n) => text.push_str(&n.to_string()),
            _ => {}
        }
    }
    match level {
        0 => tracing::debug!(target: "script", "{text}"),
        1 => tracing::info!(target: "script", "{text}"),
        2 => tracing::info!(target: "script", "{text}"),
        3 => tracing::warn!(target: "script", "{text}"),
        _ => return super::err("\u{1}ERR Invalid debug level."),
    }
    Ok(())
}
