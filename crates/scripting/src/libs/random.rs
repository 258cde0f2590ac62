//! `math.random` / `math.randomseed` as Redis defines them: rand48 from
//! its fixed initial state when the VM starts, so a script's random numbers depend only on
//! what ran before it in the same VM, never on the host.

use mlua::{Lua, Value};
use std::cell::Cell;
use std::rc::Rc;

const A: u64 = 0x5DEECE66D;
const C: u64 = 0xB;
const MASK: u64 = (1 << 48) - 1;
const LRAND48_MAX: u64 = i32::MAX as u64;

/// rand48's state before any seeding; Redis never seeds the VM's
/// generator, so scripts start from here.
const INITIAL: u64 = 0x1234_ABCD_330E;

fn seeded(seed: u32) -> u64 {
    ((seed as u64) << 16) | 0x330E
}

fn next(state: &Cell<u64>) -> u64 {
    let x = (state.get().wrapping_mul(A).wrapping_add(C)) & MASK;
    state.set(x);
    x >> 17
}

pub fn install(lua: &Lua) -> mlua::Result<()> {
    let state = Rc::new(Cell::new(INITIAL));
    let math: mlua::Table = lua.globals().get("math")?;
    let s = state.clone();
    math.set(
        "random",
        lua.create_function(move |_, args: mlua::Variadic<Value>| {
            let r = (next(&s) % LRAND48_MAX) as f64 / LRAND48_MAX as f64;
            let num = |v: &Value| match v {
                Value::Number(n) => Ok(*n),
                Value::Integer(n) => Ok(*n as f64),
                _ => super::err("bad argument to 'random' (number expected)"),
            };
            match args.len() {
                0 => Ok(r),
                1 => {
                    let u = num(&args[0])?;
                    if u < 1.0 {
                        return super::err("bad argument #1 to 'random' (interval is empty)");
                    }
                    Ok((r * u).floor() + 1.0)
                }
                2 => {
                    let l = num(&args[0])?;
                    let u = num(&args[1])?;
                    if l > u {
                        return super::err("bad argument #2 to 'random' (interval is empty)");
                    }
                    Ok((r * (u - l + 1.0)).floor() + l)
                }
                _ => super::err("wrong number of arguments"),
            }
        })?,
    )?;
    math.set(
        "randomseed",
        lua.create_function(move |_, seed: f64| {
            state.set(seeded(seed as i64 as u32));
            Ok(())
        })?,
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_redis_first_values() {
        // redis-server 7.0: EVAL "return {math.random(100), math.random(100)}"
        // on a fresh server gives 40, 85.
        let s = Cell::new(INITIAL);
        let r = |s: &Cell<u64>| (next(s) % LRAND48_MAX) as f64 / LRAND48_MAX as f64;
        assert_eq!((r(&s) * 100.0).floor() + 1.0, 40.0);
        assert_eq!((r(&s) * 100.0).floor() + 1.0, 85.0);
    }
}
