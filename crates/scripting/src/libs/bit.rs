//! LuaBitOp (`bit.*`): 32-bit operations on Lua numbers, results as signed
//! 32-bit numbers, as in Redis.

use mlua::{Lua, Table, Value, Variadic};

/// LuaBitOp's normalisation: round to the nearest integer and keep the low
/// 32 bits (the 2^52 + 2^51 addition trick).
pub fn tobit(n: f64) -> i32 {
    (n + 6_755_399_441_055_744.0).to_bits() as u32 as i32
}

fn arg(v: &Value, i: usize, name: &str) -> mlua::Result<i32> {
    match v {
        Value::Number(n) => Ok(tobit(*n)),
        Value::Integer(n) => Ok(tobit(*n as f64)),
        Value::String(s) => match s.to_str().ok().and_then(|s| s.trim().parse::<f64>().ok()) {
            Some(n) => Ok(tobit(n)),
            None => super::err(format!(
                "bad argument #{i} to '{name}' (number expected, got string)"
            )),
        },
        other => super::err(format!(
            "bad argument #{i} to '{name}' (number expected, got {})",
            other.type_name()
        )),
    }
}

fn unary(lua: &Lua, name: &'static str, f: fn(i32) -> i32) -> mlua::Result<mlua::Function> {
    lua.create_function(move |_, x: Value| Ok(f(arg(&x, 1, name)?) as f64))
}

fn shift(lua: &Lua, name: &'static str, f: fn(i32, u32) -> i32) -> mlua::Result<mlua::Function> {
    lua.create_function(move |_, (x, n): (Value, Value)| {
        Ok(f(arg(&x, 1, name)?, (arg(&n, 2, name)? & 31) as u32) as f64)
    })
}

fn fold(lua: &Lua, name: &'static str, f: fn(i32, i32) -> i32) -> mlua::Result<mlua::Function> {
    lua.create_function(move |_, args: Variadic<Value>| {
        let Some(first) = args.first() else {
            return super::err(format!(
                "bad argument #1 to '{name}' (number expected, got no value)"
            ));
        };
        let mut acc = arg(first, 1, name)?;
        for (i, v) in args.iter().enumerate().skip(1) {
            acc = f(acc, arg(v, i + 1, name)?);
        }
        Ok(acc as f64)
    })
}

pub fn table(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set("tobit", unary(lua, "tobit", |x| x)?)?;
    t.set("bnot", unary(lua, "bnot", |x| !x)?)?;
    t.set("bswap", unary(lua, "bswap", i32::swap_bytes)?)?;
    t.set("band", fold(lua, "band", |a, b| a & b)?)?;
    t.set("bor", fold(lua, "bor", |a, b| a | b)?)?;
    t.set("bxor", fold(lua, "bxor", |a, b| a ^ b)?)?;
    t.set(
        "lshift",
        shift(lua, "lshift", |x, n| ((x as u32) << n) as i32)?,
    )?;
    t.set(
        "rshift",
        shift(lua, "rshift", |x, n| ((x as u32) >> n) as i32)?,
    )?;
    t.set("arshift", shift(lua, "arshift", |x, n| x >> n)?)?;
    t.set(
        "rol",
        shift(lua, "rol", |x, n| (x as u32).rotate_left(n) as i32)?,
    )?;
    t.set(
        "ror",
        shift(lua, "ror", |x, n| (x as u32).rotate_right(n) as i32)?,
    )?;
    t.set(
        "tohex",
        lua.create_function(|lua, (x, n): (Value, Option<Value>)| {
            let b = arg(&x, 1, "tohex")? as u32;
            let mut n = match n {
                Some(v) if !v.is_nil() => arg(&v, 2, "tohex")?,
                _ => 8,
            };
            let digits: &[u8; 16] = if n < 0 {
                n = -n;
                b"0123456789ABCDEF"
            } else {
                b"0123456789abcdef"
            };
            let n = n.min(8) as usize;
            let mut out = vec![b'0'; n];
            let mut v = b;
            for i in (0..n).rev() {
                out[i] = digits[(v & 15) as usize];
                v >>= 4;
            }
            lua.create_string(out)
        })?,
    )?;
    Ok(t)
}
