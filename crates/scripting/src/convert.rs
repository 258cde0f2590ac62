//! Redis's conversion rules between Lua values and replies
//! (script_lua.c: luaReplyToRedisReply and redisProtocolToLuaType).

use basalt_resp::Reply;
use bytes::Bytes;
use mlua::{Lua, Table, Value};

/// Deepest table nesting converted to a reply; Redis fails with the same
/// text when the Lua stack runs out on deeper (or cyclic) tables.
const MAX_DEPTH: usize = 200;

/// A script's return value as a reply. `script_resp3` is what the script
/// chose with `redis.setresp` (booleans depend on it); `client_resp3` is the
/// calling connection's protocol (big numbers depend on it).
pub fn lua_to_reply(value: &Value, script_resp3: bool, client_resp3: bool) -> Reply {
    to_reply(value, script_resp3, client_resp3, 0)
}

fn to_reply(value: &Value, resp3: bool, client_resp3: bool, depth: usize) -> Reply {
    if depth > MAX_DEPTH {
        return Reply::error("ERR reached lua stack limit");
    }
    match value {
        Value::String(s) => Reply::Bulk(Bytes::copy_from_slice(&s.as_bytes())),
        Value::Boolean(b) => {
            if resp3 {
                Reply::Bool(*b)
            } else if *b {
                Reply::Integer(1)
            } else {
                Reply::Null
            }
        }
        Value::Number(n) => Reply::Integer(to_long_long(*n)),
        Value::Integer(n) => Reply::Integer(*n),
        Value::Table(t) => table_to_reply(t, resp3, client_resp3, depth),
        _ => Reply::Null,
    }
}

/// Redis's C cast to long long: toward zero, and (as x86 does) the
/// lowest value for NaN and anything out of range, infinities included.
fn to_long_long(n: f64) -> i64 {
    if n.is_nan() || !(-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&n) {
        i64::MIN
    } else {
        n as i64
    }
}

fn field(t: &Table, name: &str) -> Value {
    t.raw_get(name).unwrap_or(Value::Nil)
}

fn table_to_reply(t: &Table, resp3: bool, client_resp3: bool, depth: usize) -> Reply {
    if let Value::String(e) = field(t, "err") {
        let text = String::from_utf8_lossy(&e.as_bytes()).into_owned();
        return Reply::Error(text.into());
    }
    if let Value::String(s) = field(t, "ok") {
        return Reply::Simple(String::from_utf8_lossy(&s.as_bytes()).into_owned().into());
    }
    match field(t, "double") {
        Value::Number(d) => return Reply::Double(d),
        Value::Integer(d) => return Reply::Double(d as f64),
        _ => {}
    }
    if let Value::String(s) = field(t, "big_number") {
        let digits: Vec<u8> = s
            .as_bytes()
            .iter()
            .map(|&c| if c == b'\r' || c == b'\n' { b' ' } else { c })
            .collect();
        return if client_resp3 {
            let mut raw = Vec::with_capacity(digits.len() + 3);
            raw.push(b'(');
            raw.extend_from_slice(&digits);
            raw.extend_from_slice(b"\r\n");
            Reply::Raw(raw.into())
        } else {
            Reply::Bulk(digits.into())
        };
    }
    if let Value::Table(m) = field(t, "map") {
        let mut out = Vec::new();
        for (k, v) in m.pairs::<Value, Value>().flatten() {
            out.push((
                to_reply(&k, resp3, client_resp3, depth + 1),
                to_reply(&v, resp3, client_resp3, depth + 1),
            ));
        }
        return Reply::Map(out);
    }
    if let Value::Table(s) = field(t, "set") {
        let mut out = Vec::new();
        for (k, _) in s.pairs::<Value, Value>().flatten() {
            out.push(to_reply(&k, resp3, client_resp3, depth + 1));
        }
        return Reply::Set(out);
    }
    if let Value::Table(v) = field(t, "verbatim_string") {
        if let (Value::String(format), Value::String(text)) =
            (field(&v, "format"), field(&v, "string"))
        {
            let format = String::from_utf8_lossy(&format.as_bytes()).into_owned();
            return Reply::Verbatim(format.into(), Bytes::copy_from_slice(&text.as_bytes()));
        }
    }
    // An array: elements 1, 2, ... up to the first nil.
    let mut out = Vec::new();
    let mut i = 1;
    loop {
        let v: Value = t.raw_get(i).unwrap_or(Value::Nil);
        if v.is_nil() {
            break;
        }
        out.push(to_reply(&v, resp3, client_resp3, depth + 1));
        i += 1;
    }
    Reply::Array(out)
}

/// A command's reply as the Lua value `redis.call` returns. Errors become
/// `{err = text}`; the caller decides whether to raise them.
pub fn reply_to_lua(lua: &Lua, reply: &Reply, resp3: bool) -> mlua::Result<Value> {
    Ok(match reply {
        Reply::Simple(s) => {
            let t = lua.create_table()?;
            t.raw_set("ok", lua.create_string(s.as_bytes())?)?;
            Value::Table(t)
        }
        Reply::Error(e) => error_table(lua, e)?,
        Reply::Integer(n) => Value::Number(*n as f64),
        Reply::Bulk(b) => Value::String(lua.create_string(b)?),
        Reply::Raw(b) => Value::String(lua.create_string(b)?),
        Reply::Null | Reply::NullArray => {
            if resp3 {
                Value::Nil
            } else {
                Value::Boolean(false)
            }
        }
        Reply::Array(items) | Reply::Push(items) => array(lua, items, resp3)?,
        Reply::Set(items) => {
            if resp3 {
                let set = lua.create_table()?;
                for item in items {
                    set.raw_set(reply_to_lua(lua, item, resp3)?, true)?;
                }
                wrap(lua, "set", set)?
            } else {
                array(lua, items, resp3)?
            }
        }
        Reply::Map(pairs) => {
            if resp3 {
                let map = lua.create_table()?;
                for (k, v) in pairs {
                    map.raw_set(reply_to_lua(lua, k, resp3)?, reply_to_lua(lua, v, resp3)?)?;
                }
                wrap(lua, "map", map)?
            } else {
                let t = lua.create_table()?;
                for (i, (k, v)) in pairs.iter().enumerate() {
                    t.raw_set(2 * i + 1, reply_to_lua(lua, k, resp3)?)?;
                    t.raw_set(2 * i + 2, reply_to_lua(lua, v, resp3)?)?;
                }
                Value::Table(t)
            }
        }
        Reply::Double(d) => {
            if resp3 {
                let t = lua.create_table()?;
                t.raw_set("double", *d)?;
                Value::Table(t)
            } else {
                {
                    let mut text = Vec::new();
                    basalt_resp::format_double(*d, &mut text);
                    Value::String(lua.create_string(text)?)
                }
            }
        }
        Reply::Bool(b) => {
            if resp3 {
                Value::Boolean(*b)
            } else {
                Value::Number(if *b { 1.0 } else { 0.0 })
            }
        }
        Reply::Verbatim(format, text) => {
            if resp3 {
                let v = lua.create_table()?;
                v.raw_set("format", lua.create_string(format.as_bytes())?)?;
                v.raw_set("string", lua.create_string(text)?)?;
                wrap(lua, "verbatim_string", v)?
            } else {
                Value::String(lua.create_string(text)?)
            }
        }
    })
}

/// `{err = text}`, the shape of an error reply in Lua.
pub fn error_table(lua: &Lua, text: &str) -> mlua::Result<Value> {
    let t = lua.create_table()?;
    t.raw_set("err", lua.create_string(text)?)?;
    Ok(Value::Table(t))
}

fn array(lua: &Lua, items: &[Reply], resp3: bool) -> mlua::Result<Value> {
    let t = lua.create_table_with_capacity(items.len(), 0)?;
    for (i, item) in items.iter().enumerate() {
        t.raw_set(i + 1, reply_to_lua(lua, item, resp3)?)?;
    }
    Ok(Value::Table(t))
}

fn wrap(lua: &Lua, name: &str, inner: Table) -> mlua::Result<Value> {
    let t = lua.create_table()?;
    t.raw_set(name, inner)?;
    Ok(Value::Table(t))
}
