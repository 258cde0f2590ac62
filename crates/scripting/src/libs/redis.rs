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
    t.set(
        "sha1hex",
        lua.create_function(|lua, s: mlua::String| {
            lua.create_string(crate::sha1_hex(&s.as_bytes()))
        })?,
    )?;
    t.set(
        "error_reply",
        lua.create_function(|lua, s: mlua::String| {
            let bytes = s.as_bytes();
            let text = bytes.strip_prefix(b"-").unwrap_or(&bytes);
            let e = lua.create_table()?;
            e.raw_set("err", lua.create_string(text)?)?;
            Ok(e)
        })?,
    )?;
    t.set(
        "status_reply",
        lua.create_function(|lua, s: mlua::String| {
            let e = lua.create_table()?;
            e.raw_set("ok", s)?;
            Ok(e)
        })?,
    )?;
    t.set("log", lua.create_function(log)?)?;
    t.set("setresp", lua.create_function(crate::vm::set_resp)?)?;
    t.set(
        "register_function",
        lua.create_function(crate::vm::register_function)?,
    )?;
    t.set("replicate_commands", lua.create_function(|_, ()| Ok(true))?)?;
    t.set("set_repl", lua.create_function(|_, _: MultiValue| Ok(()))?)?;
    // The script debugger (SCRIPT DEBUG) is not supported; outside of it
    // Redis makes these no-ops too.
    t.set("breakpoint", lua.create_function(|_, ()| Ok(false))?)?;
    t.set("debug", lua.create_function(|_, _: MultiValue| Ok(()))?)?;
    Ok(t)
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
