//! lua-cjson's settings functions: each takes its new value(s), checks
//! them with lua-cjson's errors, and returns the current setting.

use super::{bad_argument, type_name};
use mlua::{Lua, MultiValue, Table, Value};
use std::cell::Cell;
use std::rc::Rc;

/// One module's settings, with lua-cjson's defaults as Redis builds it.
pub struct Config {
    pub sparse_convert: Cell<bool>,
    pub sparse_ratio: Cell<i64>,
    pub sparse_safe: Cell<i64>,
    pub encode_max_depth: Cell<i64>,
    pub decode_max_depth: Cell<i64>,
    /// 0: NaN/Inf are errors, 1: written as nan/inf, 2: written as null.
    pub encode_invalid_numbers: Cell<u8>,
    pub decode_invalid_numbers: Cell<bool>,
    /// Only reported back: Basalt builds each result in a fresh buffer.
    pub keep_buffer: Cell<bool>,
    pub number_precision: Cell<i64>,
    pub decode_array_mt: Cell<bool>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            sparse_convert: Cell::new(false),
            sparse_ratio: Cell::new(2),
            sparse_safe: Cell::new(10),
            encode_max_depth: Cell::new(1000),
            decode_max_depth: Cell::new(1000),
            encode_invalid_numbers: Cell::new(0),
            decode_invalid_numbers: Cell::new(true),
            keep_buffer: Cell::new(true),
            number_precision: Cell::new(14),
            decode_array_mt: Cell::new(false),
        }
    }
}

const BOOL_OPTIONS: &[&str] = &["off", "on"];
const INVALID_NUMBER_OPTIONS: &[&str] = &["off", "on", "null"];

/// The arguments of one settings call, padded with nils to `max`.
struct Args<'a> {
    name: &'static str,
    values: &'a MultiValue,
}

impl Args<'_> {
    fn new<'a>(name: &'static str, values: &'a MultiValue, max: usize) -> mlua::Result<Args<'a>> {
        if values.len() > max {
            return bad_argument(max + 1, name, "found too many arguments");
        }
        Ok(Args { name, values })
    }

    fn get(&self, i: usize) -> &Value {
        self.values.get(i - 1).unwrap_or(&Value::Nil)
    }

    /// json_integer_option: a new value in `min..=max`, or none.
    fn integer(&self, i: usize, cell: &Cell<i64>, min: i64, max: i64) -> mlua::Result<Value> {
        let v = self.get(i);
        if !v.is_nil() {
            let Some(n) = to_number(v) else {
                let why = format!("number expected, got {}", type_name(v));
                return bad_argument(i, self.name, &why);
            };
            // Lua truncates to an int.
            let n = n as i64 as i32 as i64;
            if !(min..=max).contains(&n) {
                // lua-cjson reports argument 1 whichever it was.
                return bad_argument(
                    1,
                    self.name,
                    &format!("expected integer between {min} and {max}"),
                );
            }
            cell.set(n);
        }
        Ok(Value::Integer(cell.get()))
    }

    /// json_enum_option: a boolean (true selects option 1) or an option
    /// name; the result is a boolean for off/on, else the option's name.
    fn option(
        &self,
        i: usize,
        cell: &Cell<u8>,
        options: &[&'static str],
        lua: &Lua,
    ) -> mlua::Result<Value> {
        match self.get(i) {
            Value::Nil => {}
            Value::Boolean(b) => cell.set(*b as u8),
            v => {
                let text = match v {
                    Value::String(s) => s.to_string_lossy(),
                    Value::Integer(n) => n.to_string(),
                    Value::Number(n) => crate::libs::lua_number_text(*n),
                    other => {
                        let why = format!("string expected, got {}", type_name(other));
                        return bad_argument(i, self.name, &why);
                    }
                };
                match options.iter().position(|o| *o == text) {
                    Some(p) => cell.set(p as u8),
                    None => return bad_argument(i, self.name, &format!("invalid option '{text}'")),
                }
            }
        }
        Ok(match cell.get() {
            0 => Value::Boolean(false),
            1 => Value::Boolean(true),
            n => Value::String(lua.create_string(options[n as usize])?),
        })
    }

    fn flag(&self, i: usize, cell: &Cell<bool>, lua: &Lua) -> mlua::Result<Value> {
        let c = Cell::new(cell.get() as u8);
        let v = self.option(i, &c, BOOL_OPTIONS, lua)?;
        cell.set(c.get() != 0);
        Ok(v)
    }
}

/// lua_tonumber: numbers, and strings that read as one.
fn to_number(v: &Value) -> Option<f64> {
    match v {
        Value::Integer(n) => Some(*n as f64),
        Value::Number(n) => Some(*n),
        Value::String(s) => {
            let s = s.to_str().ok()?;
            let s = s.trim();
            match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
                Some(hex) => u64::from_str_radix(hex, 16).ok().map(|n| n as f64),
                None => s.parse().ok(),
            }
        }
        _ => None,
    }
}

/// Adds the settings functions to a module table.
pub fn install(lua: &Lua, t: &Table, cfg: &Rc<Config>) -> mlua::Result<()> {
    let c = cfg.clone();
    t.set(
        "encode_sparse_array",
        lua.create_function(move |lua, v: MultiValue| {
            let a = Args::new("encode_sparse_array", &v, 3)?;
            Ok((
                a.flag(1, &c.sparse_convert, lua)?,
                a.integer(2, &c.sparse_ratio, 0, i32::MAX as i64)?,
                a.integer(3, &c.sparse_safe, 0, i32::MAX as i64)?,
            ))
        })?,
    )?;
    let c = cfg.clone();
    t.set(
        "encode_max_depth",
        lua.create_function(move |_, v: MultiValue| {
            Args::new("encode_max_depth", &v, 1)?.integer(
                1,
                &c.encode_max_depth,
                1,
                i32::MAX as i64,
            )
        })?,
    )?;
    let c = cfg.clone();
    t.set(
        "decode_max_depth",
        lua.create_function(move |_, v: MultiValue| {
            Args::new("decode_max_depth", &v, 1)?.integer(
                1,
                &c.decode_max_depth,
                1,
                i32::MAX as i64,
            )
        })?,
    )?;
    let c = cfg.clone();
    t.set(
        "encode_number_precision",
        lua.create_function(move |_, v: MultiValue| {
            Args::new("encode_number_precision", &v, 1)?.integer(1, &c.number_precision, 1, 14)
        })?,
    )?;
    let c = cfg.clone();
    t.set(
        "encode_keep_buffer",
        lua.create_function(move |lua, v: MultiValue| {
            Args::new("encode_keep_buffer", &v, 1)?.flag(1, &c.keep_buffer, lua)
        })?,
    )?;
    let c = cfg.clone();
    t.set(
        "encode_invalid_numbers",
        lua.create_function(move |lua, v: MultiValue| {
            Args::new("encode_invalid_numbers", &v, 1)?.option(
                1,
                &c.encode_invalid_numbers,
                INVALID_NUMBER_OPTIONS,
                lua,
            )
        })?,
    )?;
    let c = cfg.clone();
    t.set(
        "decode_invalid_numbers",
        lua.create_function(move |lua, v: MultiValue| {
            Args::new("decode_invalid_numbers", &v, 1)?.flag(1, &c.decode_invalid_numbers, lua)
        })?,
    )?;
    Ok(())
}
