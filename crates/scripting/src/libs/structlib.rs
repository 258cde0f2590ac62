//! `struct` (Roberto Ierusalimschy's library, as Redis ships it): pack and
//! unpack binary records described by a format string.

use mlua::{Lua, MultiValue, Table, Value};

/// The largest alignment `!` selects without a number.
const MAX_ALIGN: usize = 8;

struct Format<'a> {
    fmt: &'a [u8],
    pos: usize,
    little: bool,
    align: usize,
}

enum Item {
    Int {
        size: usize,
        signed: bool,
    },
    Float,
    Double,
    Pad,
    /// `c<n>`; 0 = the whole string (pack) / the previous number (unpack).
    Chars(usize),
    /// `s`: zero-terminated string.
    ZString,
}

impl<'a> Format<'a> {
    fn new(fmt: &'a [u8]) -> Self {
        Format {
            fmt,
            pos: 0,
            little: true,
            align: 1,
        }
    }

    fn number(&mut self) -> Option<usize> {
        let start = self.pos;
        while self.pos < self.fmt.len() && self.fmt[self.pos].is_ascii_digit() {
            self.pos += 1;
        }
        std::str::from_utf8(&self.fmt[start..self.pos])
            .ok()
            .and_then(|s| s.parse().ok())
    }

    /// The next item, after applying any endianness/alignment options.
    fn next(&mut self) -> mlua::Result<Option<Item>> {
        while self.pos < self.fmt.len() {
            let c = self.fmt[self.pos];
            self.pos += 1;
            let item = match c {
                b' ' => continue,
                b'<' | b'=' => {
                    self.little = true;
                    continue;
                }
                b'>' => {
                    self.little = false;
                    continue;
                }
                b'!' => {
                    self.align = self.number().unwrap_or(MAX_ALIGN);
                    continue;
                }
                b'b' => Item::Int {
                    size: 1,
                    signed: true,
                },
                b'B' => Item::Int {
                    size: 1,
                    signed: false,
                },
                b'h' => Item::Int {
                    size: 2,
                    signed: true,
                },
                b'H' => Item::Int {
                    size: 2,
                    signed: false,
                },
                b'l' => Item::Int {
                    size: 8,
                    signed: true,
                },
                b'L' | b'T' => Item::Int {
                    size: 8,
                    signed: false,
                },
                b'i' | b'I' => {
                    let size = self.number().unwrap_or(4);
                    if size > 8 {
                        return super::err(format!(
                            "integral size {size} is larger than limit of 8"
                        ));
                    }
                    Item::Int {
                        size,
                        signed: c == b'i',
                    }
                }
                b'f' => Item::Float,
                b'd' => Item::Double,
                b'x' => Item::Pad,
                b'c' => Item::Chars(self.number().unwrap_or(1)),
                b's' => Item::ZString,
                other => return super::err(format!("invalid format option '{}'", other as char)),
            };
            return Ok(Some(item));
        }
        Ok(None)
    }

    /// Padding before an item of `size` bytes at offset `len`.
    fn padding(&self, size: usize, len: usize) -> usize {
        let mut align = size;
        if align <= 1 || self.align <= 1 {
            return 0;
        }
        if align > self.align {
            align = self.align;
        }
        if !align.is_power_of_two() {
            return 0;
        }
        (align - (len & (align - 1))) & (align - 1)
    }
}

fn item_size(item: &Item) -> usize {
    match item {
        Item::Int { size, .. } => *size,
        Item::Float => 4,
        Item::Double => 8,
        Item::Pad | Item::Chars(_) | Item::ZString => 1,
    }
}

fn num(v: Option<&Value>, i: usize) -> mlua::Result<f64> {
    match v {
        Some(Value::Number(n)) => Ok(*n),
        Some(Value::Integer(n)) => Ok(*n as f64),
        Some(Value::String(s)) => match s.to_str().ok().and_then(|s| s.trim().parse().ok()) {
            Some(n) => Ok(n),
            None => super::err(format!(
                "bad argument #{i} to 'pack' (number expected, got string)"
            )),
        },
        _ => super::err(format!("bad argument #{i} to 'pack' (number expected)")),
    }
}

fn pack(lua: &Lua, args: MultiValue) -> mlua::Result<mlua::String> {
    let fmt = match args.front() {
        Some(Value::String(s)) => s.as_bytes().to_vec(),
        _ => return super::err("bad argument #1 to 'pack' (string expected)"),
    };
    let mut f = Format::new(&fmt);
    let mut out = Vec::new();
    let mut arg = 1;
    while let Some(item) = f.next()? {
        let pad = f.padding(item_size(&item), out.len());
        out.resize(out.len() + pad, 0);
        match item {
            Item::Int { size, .. } => {
                let n = num(args.get(arg), arg + 1)?;
                arg += 1;
                let v = if n < 0.0 { n as i64 as u64 } else { n as u64 };
                let bytes = v.to_le_bytes();
                if f.little {
                    out.extend_from_slice(&bytes[..size]);
                } else {
                    out.extend(bytes[..size].iter().rev());
                }
            }
            Item::Float => {
                let n = num(args.get(arg), arg + 1)? as f32;
                arg += 1;
                let b = if f.little {
                    n.to_le_bytes()
                } else {
                    n.to_be_bytes()
                };
                out.extend_from_slice(&b);
            }
            Item::Double => {
                let n = num(args.get(arg), arg + 1)?;
                arg += 1;
                let b = if f.little {
                    n.to_le_bytes()
                } else {
                    n.to_be_bytes()
                };
                out.extend_from_slice(&b);
            }
            Item::Pad => out.push(0),
            Item::Chars(_) | Item::ZString => {
                let Some(Value::String(s)) = args.get(arg) else {
                    return super::err(format!(
                        "bad argument #{} to 'pack' (string expected)",
                        arg + 1
                    ));
                };
                arg += 1;
                let s = s.as_bytes();
                match item {
                    Item::Chars(n) => {
                        let n = if n == 0 { s.len() } else { n };
                        if s.len() < n {
                            return super::err(format!(
                                "bad argument #{arg} to 'pack' (string too short)"
                            ));
                        }
                        out.extend_from_slice(&s[..n]);
                    }
                    _ => {
                        out.extend_from_slice(&s);
                        out.push(0);
                    }
                }
            }
        }
    }
    lua.create_string(out)
}

fn unpack(
    lua: &Lua,
    (fmt, data, init): (mlua::String, mlua::String, Option<i64>),
) -> mlua::Result<MultiValue> {
    let fmt = fmt.as_bytes().to_vec();
    let data = data.as_bytes().to_vec();
    let mut f = Format::new(&fmt);
    let mut pos = init.unwrap_or(1).max(1) as usize - 1;
    let mut out = MultiValue::new();
    let short = || super::err("bad argument #2 to 'unpack' (data string too short)");
    let mut last_number = 0f64;
    while let Some(item) = f.next()? {
        pos += f.padding(item_size(&item), pos);
        match item {
            Item::Int { size, signed } => {
                if pos + size > data.len() {
                    return short();
                }
                let bytes = &data[pos..pos + size];
                let mut v: u64 = 0;
                for i in 0..size {
                    let b = if f.little {
                        bytes[size - 1 - i]
                    } else {
                        bytes[i]
                    };
                    v = (v << 8) | b as u64;
                }
                let n = if signed && size < 8 {
                    let shift = 64 - 8 * size as u32;
                    (((v << shift) as i64) >> shift) as f64
                } else if signed {
                    v as i64 as f64
                } else {
                    v as f64
                };
                last_number = n;
                out.push_back(Value::Number(n));
                pos += size;
            }
            Item::Float | Item::Double => {
                let size = item_size(&item);
                if pos + size > data.len() {
                    return short();
                }
                let mut b = data[pos..pos + size].to_vec();
                if !f.little {
                    b.reverse();
                }
                let n = if size == 4 {
                    f32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f64
                } else {
                    f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
                };
                last_number = n;
                out.push_back(Value::Number(n));
                pos += size;
            }
            Item::Pad => pos += 1,
            Item::Chars(n) => {
                let n = if n == 0 { last_number as usize } else { n };
                if pos + n > data.len() {
                    return short();
                }
                out.push_back(Value::String(lua.create_string(&data[pos..pos + n])?));
                pos += n;
            }
            Item::ZString => {
                let Some(end) = data[pos.min(data.len())..].iter().position(|&c| c == 0) else {
                    return super::err("unfinished string in data");
                };
                out.push_back(Value::String(lua.create_string(&data[pos..pos + end])?));
                pos += end + 1;
            }
        }
    }
    out.push_back(Value::Number((pos + 1) as f64));
    Ok(out)
}

fn size(_: &Lua, fmt: mlua::String) -> mlua::Result<f64> {
    let fmt = fmt.as_bytes().to_vec();
    let mut f = Format::new(&fmt);
    let mut total = 0usize;
    while let Some(item) = f.next()? {
        total += f.padding(item_size(&item), total);
        total += match item {
            Item::Chars(0) | Item::ZString => {
                return super::err("options 'c0' - 's' have undefined sizes")
            }
            Item::Chars(n) => n,
            other => item_size(&other),
        };
    }
    Ok(total as f64)
}

pub fn table(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set("pack", lua.create_function(pack)?)?;
    t.set("unpack", lua.create_function(unpack)?)?;
    t.set("size", lua.create_function(size)?)?;
    Ok(t)
}
