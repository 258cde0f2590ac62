//! HyperLogLog commands. Stored as Kvrocks' own type, read and written by
//! the string commands as Redis's `HYLL` string, and PF* accept such a
//! string too; counts are Redis's (see `basalt_types::hyperloglog`).
//! PFCOUNT of one key caches the count as Redis does (RW key spec).

use super::flags::*;
use super::key_flags::*;
use super::Command;
use crate::context::Ctx;
use crate::error::CommandResult;
use crate::notify::STRING;
use basalt_resp::Reply;
use bytes::Bytes;

const fn hll_cmd(name: &'static str, arity: i32, flags: u32, handler: super::Handler) -> Command {
    Command::new(name, arity, flags, handler).group("hyperloglog")
}

pub static COMMANDS: &[Command] = &[
    hll_cmd("pfadd", -2, WRITE | DENYOOM | FAST, pfadd).syntax("key [element [element ...]]").keys(1, 1, 1).key_flags(&[RW | INSERT]).since("2.8.9").summary("Adds elements to a HyperLogLog key. Creates the key if it doesn't exist."),
    hll_cmd("pfcount", -2, READONLY | MAY_REPLICATE, pfcount).syntax("key [key ...]").keys(1, -1, 1).key_flags(&[RW | ACCESS]).since("2.8.9").summary("Returns the approximated cardinality of the set(s) observed by the HyperLogLog key(s)."),
    hll_cmd("pfmerge", -2, WRITE | DENYOOM, pfmerge).syntax("destkey [sourcekey [sourcekey ...]]").keys(1, -1, 1).key_flags(&[RW | ACCESS | INSERT, RO | ACCESS]).since("2.8.9").summary("Merges one or more HyperLogLog values into a single key."),
];

fn refs(args: &[Bytes]) -> Vec<&[u8]> {
    args.iter().map(|a| a.as_ref()).collect()
}

fn pfadd(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let changed = ctx.db().pfadd(&args[1], &refs(&args[2..]))?;
    if changed {
        // Redis announces HyperLogLog writes as string events.
        ctx.notify(STRING, "pfadd", &args[1]);
    }
    Ok(Reply::Integer(changed as i64))
}

fn pfcount(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    Ok(Reply::Integer(ctx.db().pfcount(&refs(&args[1..]))? as i64))
}

fn pfmerge(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    ctx.db().pfmerge(&args[1], &refs(&args[2..]))?;
    ctx.notify(STRING, "pfadd", &args[1]);
    Ok(Reply::ok())
}
