//! The libraries Redis gives scripts besides Lua's own: the `redis` table,
//! cjson, cmsgpack, struct, bit, and the deterministic `math.random`.

pub mod bit;
pub mod cjson;
pub mod cmsgpack;
pub mod random;
pub mod redis;
pub mod structlib;

/// An error raised by a library function, as Lua shows it (the error
/// handler prefixes the script position).
pub(crate) fn err<T>(msg: impl Into<String>) -> mlua::Result<T> {
    Err(mlua::Error::RuntimeError(msg.into()))
}

/// A Lua number as Lua 5.1 turns it into a string (`%.14g`).
pub(crate) fn lua_number_text(n: f64) -> String {
    if n.is_nan() {
        return if n.is_sign_negative() { "-nan" } else { "nan" }.into();
    }
    cjson::fmt_g(n, 14)
}
