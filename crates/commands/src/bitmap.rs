//! Bit commands. For now they work on string values in place, as Redis
//! and Kvrocks do for strings; a missing key becomes a string. Kvrocks'
//! sparse bitmap type (fragments of 1 KiB) comes with the data types issue.

use super::flags::*;
use super::key_flags::*;
use super::Command;
use crate::context::Ctx;
use crate::error::{CommandError, CommandResult};
use crate::notify::STRING;
use basalt_resp::Reply;
use basalt_types::number::parse_i64;
use bytes::Bytes;

const fn bitmap_cmd(
    name: &'static str,
    arity: i32,
    flags: u32,
    handler: super::Handler,
) -> Command {
    Command::new(name, arity, flags, handler).group("bitmap")
}

pub static COMMANDS: &[Command] = &[
    bitmap_cmd("setbit", 4, WRITE | DENYOOM, setbit).syntax("key offset:integer value:integer").keys(1, 1, 1).key_flags(&[RW | ACCESS | UPDATE]).since("2.2.0").summary("Sets or clears the bit at offset of the string value. Creates the key if it doesn't exist."),
    bitmap_cmd("getbit", 3, READONLY | FAST, getbit).syntax("key offset:integer").keys(1, 1, 1).since("2.2.0").summary("Returns a bit value by offset."),
];

/// A bit offset as Redis accepts it: 0 up to the longest string allowed.
fn bit_offset(ctx: &mut Ctx, arg: &[u8]) -> Result<u64, CommandError> {
    let bad = || CommandError::other("ERR bit offset is not an integer or out of range");
    let offset = parse_i64(arg).ok_or_else(bad)?;
    if offset < 0 || (offset as u64 >> 3) >= ctx.db().max_string_len() {
        return Err(bad());
    }
    Ok(offset as u64)
}

fn setbit(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let offset = bit_offset(ctx, &args[2])?;
    let on = match &args[3][..] {
        b"1" => true,
        b"0" => false,
        _ => {
            return Err(CommandError::other(
                "ERR bit is not an integer or out of range",
            ))
        }
    };
    let old = ctx.db().set_bit(&args[1], offset, on)?;
    ctx.notify(STRING, "setbit", &args[1]);
    Ok(Reply::Integer(old as i64))
}

fn getbit(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let offset = bit_offset(ctx, &args[2])?;
    Ok(Reply::Integer(ctx.db().get_bit(&args[1], offset)? as i64))
}
