//! `cmsgpack`: MessagePack as lua-cmsgpack (the copy Redis ships) encodes
//! and decodes it.

use mlua::{Lua, MultiValue, Table, Value};

/// lua-cmsgpack stops descending here and encodes nil instead.
const MAX_NESTING: usize = 16;
/// How deep unpack follows nested arrays and maps.
const MAX_UNPACK_DEPTH: usize = 1000;

pub fn table(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set(
        "pack",
        lua.create_function(|lua, args: MultiValue| {
            if args.is_empty() {
                return super::err("bad argument #0 to 'pack' (MessagePack pack needs input.)");
            }
            let mut out = Vec::new();
            for v in args.iter() {
                pack(v, 0, &mut out)?;
            }
            lua.create_string(out)
        })?,
    )?;
    t.set(
        "unpack",
        lua.create_function(|lua, args: MultiValue| {
            let s = input(&args, "unpack")?;
            unpack_full(lua, &s, 0, 0)
        })?,
    )?;
    t.set(
        "unpack_one",
        lua.create_function(|lua, args: MultiValue| {
            let s = input(&args, "unpack_one")?;
            let offset = opt_integer(&args, 2, "unpack_one")?;
            unpack_full(lua, &s, 1, offset)
        })?,
    )?;
    t.set(
        "unpack_limit",
        lua.create_function(|lua, args: MultiValue| {
            let s = input(&args, "unpack_limit")?;
            let Some(limit) = args.get(1).and_then(integer) else {
                let got = args.get(1).map_or("no value", |v| v.type_name());
                return super::err(format!(
                    "bad argument #2 to 'unpack_limit' (number expected, got {got})"
                ));
            };
            let offset = opt_integer(&args, 3, "unpack_limit")?;
            unpack_full(lua, &s, limit, offset)
        })?,
    )?;
    t.set("_NAME", "cmsgpack")?;
    t.set("_VERSION", "lua-cmsgpack 0.4.0")?;
    t.set("_COPYRIGHT", "Copyright (C) 2012, Salvatore Sanfilippo")?;
    t.set("_DESCRIPTION", "MessagePack C implementation for Lua")?;
    Ok(t)
}

/// The string to unpack (a number is taken as its text, as Lua does).
fn input(args: &MultiValue, function: &str) -> mlua::Result<Vec<u8>> {
    match args.front() {
        Some(Value::String(s)) => Ok(s.as_bytes().to_vec()),
        Some(Value::Integer(n)) => Ok(n.to_string().into_bytes()),
        Some(Value::Number(n)) => Ok(super::lua_number_text(*n).into_bytes()),
        other => {
            let got = other.map_or("no value", |v| v.type_name());
            super::err(format!(
                "bad argument #1 to '{function}' (string expected, got {got})"
            ))
        }
    }
}

fn integer(v: &Value) -> Option<i64> {
    match v {
        Value::Integer(n) => Some(*n),
        Value::Number(n) => Some(*n as i64),
        Value::String(s) => s
            .to_str()
            .ok()?
            .trim()
            .parse::<f64>()
            .ok()
            .map(|n| n as i64),
        _ => None,
    }
}

/// An optional integer argument (`n` counts from 1), 0 when absent.
fn opt_integer(args: &MultiValue, n: usize, function: &str) -> mlua::Result<i64> {
    match args.get(n - 1) {
        None | Some(Value::Nil) => Ok(0),
        Some(v) => match integer(v) {
            Some(i) => Ok(i),
            None => super::err(format!(
                "bad argument #{n} to '{function}' (number expected, got {})",
                v.type_name()
            )),
        },
    }
}

/// lua-cmsgpack's mp_unpack_full: up to `limit` values from `offset`.
/// With a limit or an offset the first result is where the next value
/// starts, or -1 once the input is used up. Limit 0 with offset 0 (what
/// plain `unpack` passes) means everything, without that offset.
fn unpack_full(lua: &Lua, b: &[u8], limit: i64, offset: i64) -> mlua::Result<MultiValue> {
    if offset < 0 || limit < 0 {
        // lua-cmsgpack prints the input length where it means the limit.
        return super::err(format!(
            "Invalid request to unpack with offset of {offset} and limit of {}.",
            b.len()
        ));
    }
    if offset as u64 > b.len() as u64 {
        return super::err(format!(
            "Start offset {offset} greater than input length {}.",
            b.len()
        ));
    }
    let decode_all = limit == 0 && offset == 0;
    let limit = if decode_all { i64::MAX } else { limit };
    let mut pos = offset as usize;
    let mut out = MultiValue::new();
    let mut count = 0;
    while pos < b.len() && count < limit {
        out.push_back(unpack(lua, b, &mut pos, 0)?);
        count += 1;
    }
    if !decode_all {
        let next = if pos == b.len() { -1 } else { pos as i64 };
        out.push_front(Value::Integer(next));
    }
    Ok(out)
}

fn pack(v: &Value, depth: usize, out: &mut Vec<u8>) -> mlua::Result<()> {
    match v {
        Value::Boolean(b) => out.push(if *b { 0xc3 } else { 0xc2 }),
        Value::Integer(n) => pack_int(*n, out),
        Value::Number(n) => {
            let n = *n;
            if n.fract() == 0.0 && n.is_finite() && n.abs() < 9.2e18 {
                pack_int(n as i64, out);
            } else if (n as f32) as f64 == n {
                // NaN never equals itself, so it goes out as a double.
                out.push(0xca);
                out.extend_from_slice(&(n as f32).to_be_bytes());
            } else {
                out.push(0xcb);
                out.extend_from_slice(&n.to_be_bytes());
            }
        }
        Value::String(s) => {
            let b = s.as_bytes();
            let len = b.len();
            if len < 32 {
                out.push(0xa0 | len as u8);
            } else if len <= 0xff {
                out.extend_from_slice(&[0xd9, len as u8]);
            } else if len <= 0xffff {
                out.push(0xda);
                out.extend_from_slice(&(len as u16).to_be_bytes());
            } else {
                out.push(0xdb);
                out.extend_from_slice(&(len as u32).to_be_bytes());
            }
            out.extend_from_slice(&b);
        }
        Value::Table(t) if depth < MAX_NESTING => pack_table(t, depth + 1, out)?,
        _ => out.push(0xc0),
    }
    Ok(())
}

fn pack_int(n: i64, out: &mut Vec<u8>) {
    if n >= 0 {
        if n <= 127 {
            out.push(n as u8);
        } else if n <= 0xff {
            out.extend_from_slice(&[0xcc, n as u8]);
        } else if n <= 0xffff {
            out.push(0xcd);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        } else if n <= 0xffff_ffff {
            out.push(0xce);
            out.extend_from_slice(&(n as u32).to_be_bytes());
        } else {
            out.push(0xcf);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    } else if n >= -32 {
        out.push(n as i8 as u8);
    } else if n >= -128 {
        out.extend_from_slice(&[0xd0, n as i8 as u8]);
    } else if n >= -32768 {
        out.push(0xd1);
        out.extend_from_slice(&(n as i16).to_be_bytes());
    } else if n >= -(1 << 31) {
        out.push(0xd2);
        out.extend_from_slice(&(n as i32).to_be_bytes());
    } else {
        out.push(0xd3);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

/// lua-cmsgpack's array test: keys exactly 1..n (each fitting an int).
fn array_len(t: &Table) -> mlua::Result<Option<usize>> {
    let mut count = 0usize;
    let mut max = 0usize;
    for pair in t.pairs::<Value, Value>() {
        let (k, _) = pair?;
        let n = match k {
            Value::Number(n) => n,
            Value::Integer(n) => n as f64,
            _ => return Ok(None),
        };
        if !(n >= 1.0 && n.fract() == 0.0 && n <= i32::MAX as f64) {
            return Ok(None);
        }
        max = max.max(n as usize);
        count += 1;
    }
    Ok((max == count).then_some(count))
}

fn pack_table(t: &Table, depth: usize, out: &mut Vec<u8>) -> mlua::Result<()> {
    if array_len(t)?.is_some() {
        // lua-cmsgpack takes the length operator and reads with
        // metamethods.
        let n = t.len()? as usize;
        header(n, 0x90, 0xdc, out);
        for i in 1..=n {
            pack(&t.get::<Value>(i)?, depth, out)?;
        }
    } else {
        // Two passes rather than collecting the pairs: every Lua value held
        // from Rust takes a slot of mlua's reference stack (about 8,000), so
        // a map of 100,000 entries cannot be held at once.
        let mut n = 0usize;
        for pair in t.pairs::<Value, Value>() {
            pair?;
            n += 1;
        }
        header(n, 0x80, 0xde, out);
        for pair in t.pairs::<Value, Value>() {
            let (k, v) = pair?;
            pack(&k, depth, out)?;
            pack(&v, depth, out)?;
        }
    }
    Ok(())
}

/// Array (fix 0x90, 16-bit 0xdc) or map (fix 0x80, 16-bit 0xde) header.
fn header(n: usize, fix: u8, wide: u8, out: &mut Vec<u8>) {
    if n < 16 {
        out.push(fix | n as u8);
    } else if n <= 0xffff {
        out.push(wide);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        out.push(wide + 1);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    }
}

fn take<'a>(b: &'a [u8], pos: &mut usize, n: usize) -> mlua::Result<&'a [u8]> {
    if b.len() - *pos < n {
        return super::err("Missing bytes in input.");
    }
    let s = &b[*pos..*pos + n];
    *pos += n;
    Ok(s)
}

fn be(b: &[u8]) -> u64 {
    b.iter().fold(0u64, |acc, &x| (acc << 8) | x as u64)
}

fn unpack(lua: &Lua, b: &[u8], pos: &mut usize, depth: usize) -> mlua::Result<Value> {
    // Each level is a Rust call: refuse input nested deeper than the Lua
    // stack would let lua-cmsgpack go, rather than run out of stack.
    if depth > MAX_UNPACK_DEPTH {
        return super::err(
            "stack overflow (too many return values at once; use unpack_one or unpack_limit instead.)",
        );
    }
    let tag = take(b, pos, 1)?[0];
    let num = |n: f64| Ok(Value::Number(n));
    match tag {
        0x00..=0x7f => num(tag as f64),
        0xe0..=0xff => num(tag as i8 as f64),
        0x80..=0x8f => map(lua, b, pos, (tag & 0x0f) as usize, depth),
        0x90..=0x9f => array(lua, b, pos, (tag & 0x0f) as usize, depth),
        0xa0..=0xbf => string(lua, b, pos, (tag & 0x1f) as usize),
        0xc0 => Ok(Value::Nil),
        0xc2 => Ok(Value::Boolean(false)),
        0xc3 => Ok(Value::Boolean(true)),
        // The bin types (0xc4..0xc6) are newer than this lua-cmsgpack,
        // which rejects them as bad data.
        0xd9 => {
            let n = take(b, pos, 1)?[0] as usize;
            string(lua, b, pos, n)
        }
        0xda => {
            let n = be(take(b, pos, 2)?) as usize;
            string(lua, b, pos, n)
        }
        0xdb => {
            let n = be(take(b, pos, 4)?) as usize;
            string(lua, b, pos, n)
        }
        0xca => num(f32::from_bits(be(take(b, pos, 4)?) as u32) as f64),
        0xcb => num(f64::from_bits(be(take(b, pos, 8)?))),
        0xcc => num(be(take(b, pos, 1)?) as f64),
        0xcd => num(be(take(b, pos, 2)?) as f64),
        0xce => num(be(take(b, pos, 4)?) as f64),
        // Pushed as a signed Lua integer: above 2^63 it wraps negative.
        0xcf => num(be(take(b, pos, 8)?) as i64 as f64),
        0xd0 => num(be(take(b, pos, 1)?) as u8 as i8 as f64),
        0xd1 => num(be(take(b, pos, 2)?) as u16 as i16 as f64),
        0xd2 => num(be(take(b, pos, 4)?) as u32 as i32 as f64),
        0xd3 => num(be(take(b, pos, 8)?) as i64 as f64),
        0xdc => {
            let n = be(take(b, pos, 2)?) as usize;
            array(lua, b, pos, n, depth)
        }
        0xdd => {
            let n = be(take(b, pos, 4)?) as usize;
            array(lua, b, pos, n, depth)
        }
        0xde => {
            let n = be(take(b, pos, 2)?) as usize;
            map(lua, b, pos, n, depth)
        }
        0xdf => {
            let n = be(take(b, pos, 4)?) as usize;
            map(lua, b, pos, n, depth)
        }
        _ => super::err("Bad data format in input."),
    }
}

fn string(lua: &Lua, b: &[u8], pos: &mut usize, n: usize) -> mlua::Result<Value> {
    Ok(Value::String(lua.create_string(take(b, pos, n)?)?))
}

fn array(lua: &Lua, b: &[u8], pos: &mut usize, n: usize, depth: usize) -> mlua::Result<Value> {
    let t = lua.create_table_with_capacity(n.min(1024), 0)?;
    for i in 1..=n {
        t.raw_set(i, unpack(lua, b, pos, depth + 1)?)?;
    }
    Ok(Value::Table(t))
}

fn map(lua: &Lua, b: &[u8], pos: &mut usize, n: usize, depth: usize) -> mlua::Result<Value> {
    let t = lua.create_table()?;
    for _ in 0..n {
        let k = unpack(lua, b, pos, depth + 1)?;
        let v = unpack(lua, b, pos, depth + 1)?;
        match &k {
            Value::Nil => return super::err("table index is nil"),
            Value::Number(n) if n.is_nan() => return super::err("table index is NaN"),
            _ => t.raw_set(k, v)?,
        }
    }
    Ok(Value::Table(t))
}
