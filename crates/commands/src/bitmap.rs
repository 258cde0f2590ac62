//! Bit commands. They work on string keys in place, as Redis and Kvrocks
//! do, and on Kvrocks' sparse bitmap type, which SETBIT and BITFIELD
//! create for a missing key (see `basalt_types::bitmap`). Replies, errors
//! and keyspace events are Redis's.

use super::flags::*;
use super::key_flags::*;
use super::{int, is, Command};
use crate::context::Ctx;
use crate::error::{CommandError, CommandResult};
use crate::notify::{GENERIC, STRING};
use basalt_resp::Reply;
use basalt_types::bitmap::bitop::BitOpOutcome;
use basalt_types::bitmap::field::FieldAction;
use basalt_types::bitmap::{BitOp, BitUnit, FieldOp, FieldType, Overflow};
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
    bitmap_cmd("bitcount", -2, READONLY, bitcount).syntax("key [range: start:integer end:integer [unit: BYTE | BIT]]").keys(1, 1, 1).since("2.6.0").summary("Counts the number of set bits (population counting) in a string."),
    bitmap_cmd("bitpos", -3, READONLY, bitpos).syntax("key bit:integer [range: start:integer [end-unit-block: end:integer [unit: BYTE | BIT]]]").keys(1, 1, 1).since("2.8.7").summary("Finds the first set (1) or clear (0) bit in a string."),
    bitmap_cmd("bitop", -4, WRITE | DENYOOM, bitop).syntax("(operation: AND | OR | XOR | NOT | DIFF | DIFF1 | ANDOR | ONE) destkey key [key ...]").keys(2, -1, 1).key_flags(&[OW | UPDATE, RO | ACCESS]).since("2.6.0").summary("Performs bitwise operations on multiple strings, and stores the result."),
    bitmap_cmd("bitfield", -2, WRITE | DENYOOM, bitfield).syntax("key [operation: GET encoding offset | [OVERFLOW WRAP | SAT | FAIL] write-operation: SET encoding offset value | INCRBY encoding offset increment [operation ...]]").keys(1, 1, 1).key_flags(&[RW | ACCESS | UPDATE]).since("3.2.0").summary("Performs arbitrary bitfield integer operations on strings."),
    bitmap_cmd("bitfield_ro", -2, READONLY | FAST, bitfield_ro).syntax("key [GET encoding offset [GET encoding offset ...]]").keys(1, 1, 1).since("6.0.0").summary("Performs arbitrary read-only bitfield integer operations on strings."),
];

fn bad_offset() -> CommandError {
    CommandError::other("ERR bit offset is not an integer or out of range")
}

/// A bit offset as Redis accepts it: 0 up to the longest string allowed.
/// With `width` (BITFIELD), `#n` means the n-th field of that width.
fn bit_offset(ctx: &mut Ctx, arg: &[u8], width: Option<u32>) -> Result<u64, CommandError> {
    let (hash, digits) = match (arg.first(), width) {
        (Some(b'#'), Some(w)) => (Some(w), &arg[1..]),
        _ => (None, arg),
    };
    let mut offset = parse_i64(digits).ok_or_else(bad_offset)?;
    if let Some(w) = hash {
        offset = offset.checked_mul(w as i64).ok_or_else(bad_offset)?;
    }
    if offset < 0 || (offset as u64 >> 3) >= ctx.db().max_string_len() {
        return Err(bad_offset());
    }
    Ok(offset as u64)
}

fn setbit(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let offset = bit_offset(ctx, &args[2], None)?;
    let bad = || CommandError::other("ERR bit is not an integer or out of range");
    let on = match parse_i64(&args[3]).ok_or_else(bad)? {
        1 => true,
        0 => false,
        _ => return Err(bad()),
    };
    let outcome = ctx.db().set_bit(&args[1], offset, on)?;
    if outcome.changed {
        ctx.notify(STRING, "setbit", &args[1]);
    }
    Ok(Reply::Integer(outcome.old as i64))
}

fn getbit(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let offset = bit_offset(ctx, &args[2], None)?;
    Ok(Reply::Integer(ctx.db().get_bit(&args[1], offset)? as i64))
}

fn unit(arg: &[u8]) -> Result<BitUnit, CommandError> {
    if is(arg, "bit") {
        Ok(BitUnit::Bit)
    } else if is(arg, "byte") {
        Ok(BitUnit::Byte)
    } else {
        Err(CommandError::Syntax)
    }
}

fn bitcount(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let range = match args.len() {
        2 => None,
        4 | 5 => {
            let (start, end) = (int(&args[2])?, int(&args[3])?);
            let u = match args.get(4) {
                Some(a) => unit(a)?,
                None => BitUnit::Byte,
            };
            Some((start, end, u))
        }
        _ => return Err(CommandError::Syntax),
    };
    let count = match ctx.db().read_bits(&args[1])? {
        Some(bits) => bits.count(range),
        None => 0,
    };
    Ok(Reply::Integer(count as i64))
}

fn bitpos(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let bit = int(&args[2])?;
    if bit != 0 && bit != 1 {
        return Err(CommandError::other("ERR The bit argument must be 1 or 0."));
    }
    if args.len() > 6 {
        return Err(CommandError::Syntax);
    }
    let start = args.get(3).map(|a| int(a)).transpose()?;
    let u = match args.get(5) {
        Some(a) => unit(a)?,
        None => BitUnit::Byte,
    };
    let end = args.get(4).map(|a| int(a)).transpose()?;
    let pos = match ctx.db().read_bits(&args[1])? {
        Some(bits) => bits.pos(bit == 1, start, end, u),
        // A missing key is an infinite run of zeros.
        None => -bit,
    };
    Ok(Reply::Integer(pos))
}

fn bitop(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let op = BitOp::parse(&args[1]).ok_or(CommandError::Syntax)?;
    let sources: Vec<&[u8]> = args[3..].iter().map(|a| a.as_ref()).collect();
    if op == BitOp::Not && sources.len() != 1 {
        return Err(CommandError::other(
            "ERR BITOP NOT must be called with a single source key.",
        ));
    }
    if matches!(op, BitOp::Diff | BitOp::Diff1 | BitOp::AndOr) && sources.len() < 2 {
        let name = String::from_utf8_lossy(&args[1]).to_uppercase();
        return Err(CommandError::other(format!(
            "ERR BITOP {name} must be called with at least two source keys."
        )));
    }
    let dest = &args[2];
    Ok(Reply::Integer(
        match ctx.db().bitop(op, dest, &sources)? {
            BitOpOutcome::Stored(len) => {
                ctx.notify(STRING, "set", dest);
                len as i64
            }
            BitOpOutcome::Empty(deleted) => {
                if deleted {
                    ctx.notify(GENERIC, "del", dest);
                }
                0
            }
        },
    ))
}

fn field_type(arg: &[u8]) -> Result<FieldType, CommandError> {
    FieldType::parse(arg).ok_or_else(|| {
        CommandError::other(
            "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.",
        )
    })
}

/// BITFIELD's operations, checked as Redis checks them, left to right.
fn field_ops(ctx: &mut Ctx, args: &[Bytes]) -> Result<Vec<FieldOp>, CommandError> {
    let mut ops = Vec::new();
    let mut overflow = Overflow::Wrap;
    let mut j = 2;
    while j < args.len() {
        let rem = args.len() - j - 1;
        let sub = &args[j];
        let action = if is(sub, "get") && rem >= 2 {
            FieldAction::Get
        } else if (is(sub, "set") || is(sub, "incrby")) && rem >= 3 {
            FieldAction::Set(0)
        } else if is(sub, "overflow") && rem >= 1 {
            let kind = &args[j + 1];
            overflow = if is(kind, "wrap") {
                Overflow::Wrap
            } else if is(kind, "sat") {
                Overflow::Sat
            } else if is(kind, "fail") {
                Overflow::Fail
            } else {
                return Err(CommandError::other("ERR Invalid OVERFLOW type specified"));
            };
            j += 2;
            continue;
        } else {
            return Err(CommandError::Syntax);
        };
        let ty = field_type(&args[j + 1])?;
        let offset = bit_offset(ctx, &args[j + 2], Some(ty.bits))?;
        let action = match action {
            FieldAction::Get => FieldAction::Get,
            _ if is(sub, "set") => FieldAction::Set(int(&args[j + 3])?),
            _ => FieldAction::IncrBy(int(&args[j + 3])?),
        };
        ops.push(FieldOp {
            action,
            ty,
            offset,
            overflow,
        });
        j += if action == FieldAction::Get { 3 } else { 4 };
    }
    Ok(ops)
}

fn field_reply(ctx: &mut Ctx, key: &[u8], ops: &[FieldOp]) -> CommandResult {
    let outcome = ctx.db().bitfield(key, ops)?;
    if outcome.changes > 0 {
        ctx.notify(STRING, "setbit", key);
    }
    Ok(Reply::Array(
        outcome
            .replies
            .into_iter()
            .map(|r| r.map_or(Reply::Null, Reply::Integer))
            .collect(),
    ))
}

fn bitfield(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let ops = field_ops(ctx, args)?;
    field_reply(ctx, &args[1], &ops)
}

fn bitfield_ro(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let ops = field_ops(ctx, args)?;
    if ops.iter().any(|o| o.action != FieldAction::Get) {
        return Err(CommandError::other(
            "ERR BITFIELD_RO only supports the GET subcommand",
        ));
    }
    field_reply(ctx, &args[1], &ops)
}
