//! Lua 5.1 scripting for Basalt: everything that does not need the server.
//!
//! - [`Vm`]: one sandboxed Lua state (one per worker thread), with the
//!   `redis` table, Redis's Lua libraries (cjson, cmsgpack, struct, bit), a
//!   per-VM script cache and the loaded function libraries.
//! - [`convert`]: Redis's Lua <-> RESP conversion rules.
//! - [`shebang`]: `#!lua flags=...` and `#!lua name=...` parsing.
//!
//! `redis.call` goes through a [`CommandCaller`] supplied by the server, so
//! this crate is tested without one.

pub mod convert;
mod libs;
pub mod shebang;
mod vm;

#[cfg(test)]
mod tests;

pub use shebang::{FunctionFlags, ScriptFlags};
pub use vm::{FunctionInfo, LibraryError, RunReply, RunTarget, Vm};

use basalt_resp::Reply;
use bytes::Bytes;

/// Runs the commands a script calls with `redis.call` / `redis.pcall`.
pub trait CommandCaller {
    /// Runs one command; errors come back as `Reply::Error`. `resp3` is the
    /// protocol the script asked for with `redis.setresp`.
    fn call(&mut self, args: Vec<Bytes>, resp3: bool) -> Reply;

    /// `redis.acl_check_cmd`: whether the script's user may run the
    /// command, without running it; `Err` is the message of an unknown
    /// command. A caller without users allows everything.
    fn acl_check(&mut self, args: Vec<Bytes>) -> Result<bool, String> {
        let _ = args;
        Ok(true)
    }
}

/// SHA1 of a script body as 40 lower-case hex digits (EVALSHA's key).
pub fn sha1_hex(body: &[u8]) -> String {
    use sha1::{Digest, Sha1};
    let digest = Sha1::digest(body);
    let mut s = String::with_capacity(40);
    for b in digest {
        s.push(char::from(b"0123456789abcdef"[(b >> 4) as usize]));
        s.push(char::from(b"0123456789abcdef"[(b & 15) as usize]));
    }
    s
}

/// The message a script stopped by SCRIPT KILL / FUNCTION KILL fails with.
pub const KILLED_MESSAGE: &str = "ERR Script killed by user with SCRIPT KILL...";
