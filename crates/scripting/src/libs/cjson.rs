//! `cjson`: lua-cjson 2.1 as Redis ships it. The settings functions, the
//! encoder's rules (numbers as %.14g, sparse-array detection, depth limit,
//! NaN/Inf policy) and the decoder's tokens and error messages are
//! lua-cjson's; `decode_array_with_array_mt` / `array_mt` are Basalt's
//! addition from later lua-cjson versions.

mod config;
mod decode;
mod encode;

use config::Config;
use mlua::{LightUserData, Lua, MultiValue, Table, Value};
use std::rc::Rc;

pub use encode::fmt_g;

/// lua-cjson's `null`: a NULL light userdata (a nil would vanish from
/// tables).
fn null() -> Value {
    Value::LightUserData(LightUserData(std::ptr::null_mut()))
}

/// Lua's `bad argument #n to 'f' (...)`.
fn bad_argument<T>(n: usize, function: &str, why: &str) -> mlua::Result<T> {
    super::err(format!("bad argument #{n} to '{function}' ({why})"))
}

/// Lua's name for a value's type, as errors print it.
fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Nil => "nil",
        Value::Boolean(_) => "boolean",
        Value::LightUserData(_) | Value::UserData(_) => "userdata",
        Value::Integer(_) | Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Table(_) => "table",
        Value::Function(_) => "function",
        Value::Thread(_) => "thread",
        _ => "userdata",
    }
}

/// A module table with its own settings: `cjson` itself, and what
/// `cjson.new()` returns.
pub fn table(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    let array_mt = lua.create_table()?;
    let cfg = Rc::new(Config::default());

    let (c, mt) = (cfg.clone(), array_mt.clone());
    t.set(
        "encode",
        lua.create_function(move |lua, args: MultiValue| {
            if args.len() != 1 {
                return bad_argument(1, "encode", "expected 1 argument");
            }
            let out = encode::encode(&c, &mt, &args[0])?;
            lua.create_string(out)
        })?,
    )?;
    let (c, mt) = (cfg.clone(), array_mt.clone());
    t.set(
        "decode",
        lua.create_function(move |lua, args: MultiValue| {
            if args.len() != 1 {
                return bad_argument(1, "decode", "expected 1 argument");
            }
            let text = match &args[0] {
                Value::String(s) => s.as_bytes().to_vec(),
                Value::Integer(n) => n.to_string().into_bytes(),
                Value::Number(n) => super::lua_number_text(*n).into_bytes(),
                other => {
                    let why = format!("string expected, got {}", type_name(other));
                    return bad_argument(1, "decode", &why);
                }
            };
            let mt = c.decode_array_mt.get().then_some(&mt);
            decode::decode(lua, &c, mt, &text)
        })?,
    )?;
    config::install(lua, &t, &cfg)?;
    let c = cfg.clone();
    t.set(
        "decode_array_with_array_mt",
        lua.create_function(move |_, on: bool| {
            c.decode_array_mt.set(on);
            Ok(on)
        })?,
    )?;
    t.set("new", lua.create_function(|lua, _: MultiValue| table(lua))?)?;
    t.set("array_mt", array_mt)?;
    t.set("null", null())?;
    t.set("_NAME", "cjson")?;
    t.set("_VERSION", "2.1.0")?;
    Ok(t)
}
