//! `cjson`: JSON encode/decode with lua-cjson's rules as Redis ships them
//! (numbers as %.14g, sparse-array detection, `cjson.null`).

use mlua::{LightUserData, Lua, Table, Value};
use std::cell::Cell;
use std::rc::Rc;

const MAX_DEPTH: usize = 1000;
/// lua-cjson's defaults for `encode_sparse_array`: a table whose highest
/// index exceeds both 10 and twice its element count is "excessively sparse".
const SPARSE_RATIO: usize = 2;
const SPARSE_SAFE: usize = 10;

/// C's `%.<prec>g`.
pub fn fmt_g(n: f64, prec: usize) -> String {
    if n == 0.0 {
        return if n.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    let sci = format!("{:.*e}", prec - 1, n);
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if exp < -4 || exp >= prec as i32 {
        let m = trim_zeros(mantissa);
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{m}e{sign}{:02}", exp.abs())
    } else {
        let decimals = (prec as i32 - 1 - exp).max(0) as usize;
        trim_zeros(&format!("{n:.decimals$}")).to_string()
    }
}

fn trim_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

fn null() -> Value {
    Value::LightUserData(LightUserData(std::ptr::null_mut()))
}

struct Config {
    decode_array_mt: Cell<bool>,
}

pub fn table(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    let array_mt = lua.create_table()?;
    let config = Rc::new(Config {
        decode_array_mt: Cell::new(false),
    });
    let mt = array_mt.clone();
    t.set(
        "encode",
        lua.create_function(move |lua, v: Value| {
            let mut out = Vec::new();
            encode(&v, &mt, 0, &mut out)?;
            lua.create_string(out)
        })?,
    )?;
    let mt = array_mt.clone();
    let cfg = config.clone();
    t.set(
        "decode",
        lua.create_function(move |lua, s: mlua::String| {
            let json: serde_json::Value = match serde_json::from_slice(&s.as_bytes()) {
                Ok(j) => j,
                Err(e) => return super::err(format!("Expected valid JSON: {e}")),
            };
            let mt = cfg.decode_array_mt.get().then_some(&mt);
            decode(lua, &json, mt)
        })?,
    )?;
    let cfg = config.clone();
    t.set(
        "decode_array_with_array_mt",
        lua.create_function(move |_, on: bool| {
            cfg.decode_array_mt.set(on);
            Ok(on)
        })?,
    )?;
    t.set("array_mt", array_mt)?;
    t.set("null", null())?;
    // Settings Redis scripts may call; the encoder keeps lua-cjson's
    // defaults whatever they are given.
    for name in [
        "encode_keep_buffer",
        "encode_max_depth",
        "decode_max_depth",
        "encode_number_precision",
        "encode_sparse_array",
        "encode_invalid_numbers",
        "decode_invalid_numbers",
    ] {
        t.set(name, lua.create_function(|_, v: mlua::MultiValue| Ok(v))?)?;
    }
    t.set("_NAME", "cjson")?;
    t.set("_VERSION", "2.1.0")?;
    Ok(t)
}

fn encode(v: &Value, array_mt: &Table, depth: usize, out: &mut Vec<u8>) -> mlua::Result<()> {
    match v {
        Value::Nil => out.extend_from_slice(b"null"),
        Value::LightUserData(p) if p.0.is_null() => out.extend_from_slice(b"null"),
        Value::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Integer(n) => out.extend_from_slice(n.to_string().as_bytes()),
        Value::Number(n) => {
            if !n.is_finite() {
                return super::err("Cannot serialise number: must not be NaN or Inf");
            }
            out.extend_from_slice(fmt_g(*n, 14).as_bytes());
        }
        Value::String(s) => encode_string(&s.as_bytes(), out),
        Value::Table(t) => {
            if depth + 1 > MAX_DEPTH {
                return super::err(format!(
                    "Cannot serialise, excessive nesting ({})",
                    depth + 1
                ));
            }
            encode_table(t, array_mt, depth + 1, out)?;
        }
        other => {
            return super::err(format!(
                "Cannot serialise {}: type not supported",
                other.type_name()
            ))
        }
    }
    Ok(())
}

fn encode_string(s: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    for &c in s {
        match c {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'/' => out.extend_from_slice(b"\\/"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            c if c < 0x20 || c == 0x7f => {
                out.extend_from_slice(format!("\\u{c:04x}").as_bytes());
            }
            c => out.push(c),
        }
    }
    out.push(b'"');
}

/// lua-cjson's array test: every key a positive integer; returns the
/// highest index, or None for an object.
fn array_len(t: &Table) -> mlua::Result<Option<usize>> {
    let mut max = 0usize;
    let mut items = 0usize;
    for pair in t.pairs::<Value, Value>() {
        let (k, _) = pair?;
        let idx = match k {
            Value::Number(n) if n.fract() == 0.0 && n >= 1.0 => n as usize,
            Value::Integer(n) if n >= 1 => n as usize,
            _ => return Ok(None),
        };
        max = max.max(idx);
        items += 1;
    }
    if max > SPARSE_SAFE && max > items * SPARSE_RATIO {
        return super::err("Cannot serialise table: excessively sparse array");
    }
    Ok(Some(max))
}

fn encode_table(t: &Table, array_mt: &Table, depth: usize, out: &mut Vec<u8>) -> mlua::Result<()> {
    let is_array_mt = t.metatable().is_some_and(|m| m == *array_mt);
    let len = if is_array_mt {
        Some(t.raw_len())
    } else {
        array_len(t)?
    };
    match len {
        Some(n) if n > 0 || is_array_mt => {
            out.push(b'[');
            for i in 1..=n {
                if i > 1 {
                    out.push(b',');
                }
                encode(&t.raw_get::<Value>(i)?, array_mt, depth, out)?;
            }
            out.push(b']');
        }
        _ => {
            out.push(b'{');
            let mut first = true;
            for pair in t.pairs::<Value, Value>() {
                let (k, v) = pair?;
                if !first {
                    out.push(b',');
                }
                first = false;
                match k {
                    Value::String(s) => encode_string(&s.as_bytes(), out),
                    Value::Number(n) => encode_string(fmt_g(n, 14).as_bytes(), out),
                    Value::Integer(n) => encode_string(n.to_string().as_bytes(), out),
                    _ => {
                        return super::err(
                            "Cannot serialise table: table key must be a number or string",
                        )
                    }
                }
                out.push(b':');
                encode(&v, array_mt, depth, out)?;
            }
            out.push(b'}');
        }
    }
    Ok(())
}

fn decode(lua: &Lua, j: &serde_json::Value, array_mt: Option<&Table>) -> mlua::Result<Value> {
    use serde_json::Value as J;
    Ok(match j {
        J::Null => null(),
        J::Bool(b) => Value::Boolean(*b),
        J::Number(n) => Value::Number(n.as_f64().unwrap_or(0.0)),
        J::String(s) => Value::String(lua.create_string(s)?),
        J::Array(items) => {
            let t = lua.create_table_with_capacity(items.len(), 0)?;
            for (i, item) in items.iter().enumerate() {
                t.raw_set(i + 1, decode(lua, item, array_mt)?)?;
            }
            if let Some(mt) = array_mt {
                t.set_metatable(Some(mt.clone()));
            }
            Value::Table(t)
        }
        J::Object(map) => {
            let t = lua.create_table_with_capacity(0, map.len())?;
            for (k, v) in map {
                t.raw_set(lua.create_string(k)?, decode(lua, v, array_mt)?)?;
            }
            Value::Table(t)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::fmt_g;

    #[test]
    fn percent_g_14() {
        assert_eq!(fmt_g(1.5, 14), "1.5");
        assert_eq!(fmt_g(1e100, 14), "1e+100");
        assert_eq!(fmt_g(0.1, 14), "0.1");
        assert_eq!(fmt_g(123456789012345.0, 14), "1.2345678901234e+14");
        assert_eq!(fmt_g(100.0, 14), "100");
        assert_eq!(fmt_g(0.0001, 14), "0.0001");
        assert_eq!(fmt_g(0.00001, 14), "1e-05");
        assert_eq!(fmt_g(-2.0, 14), "-2");
    }
}
