//! Geo commands: members of a sorted set scored by their 52-bit geohash,
//! as in Redis (so ZRANGE, ZSCORE and the rest see the same set).

use super::flags::*;
use super::key_flags::*;
use super::{float, is, Command};
use crate::context::Ctx;
use crate::error::{CommandError, CommandResult};
use crate::notify::ZSET;
use basalt_resp::Reply;
use basalt_types::geohash;
use basalt_types::zset::ZAddOptions;
use bytes::Bytes;

const fn geo_cmd(name: &'static str, arity: i32, flags: u32, handler: super::Handler) -> Command {
    Command::new(name, arity, flags, handler).group("geo")
}

pub static COMMANDS: &[Command] = &[geo_cmd("geoadd", -5, WRITE | DENYOOM, geoadd).syntax("key [condition: NX | XX] [change: CH] longitude:double latitude:double member [longitude:double latitude:double member ...]")
    .keys(1, 1, 1)
    .key_flags(&[RW | UPDATE])
    .since("3.2.0")
    .summary(
        "Adds one or more members to a geospatial index. The key is created if it doesn't exist.",
    )];

fn geoadd(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let mut opts = ZAddOptions::default();
    let mut ch = false;
    let mut i = 2;
    while i < args.len() {
        let a = &args[i];
        if is(a, "nx") {
            opts.nx = true;
        } else if is(a, "xx") {
            opts.xx = true;
        } else if is(a, "ch") {
            ch = true;
        } else {
            break;
        }
        i += 1;
    }
    let rest = &args[i..];
    if !rest.len().is_multiple_of(3) || (opts.nx && opts.xx) {
        return Err(CommandError::Syntax);
    }
    let mut items = Vec::with_capacity(rest.len() / 3);
    for triple in rest.chunks_exact(3) {
        let (longitude, latitude) = (float(&triple[0])?, float(&triple[1])?);
        if !geohash::valid(longitude, latitude) {
            return Err(CommandError::other(format!(
                "ERR invalid longitude,latitude pair {longitude:.6},{latitude:.6}"
            )));
        }
        items.push((geohash::encode(longitude, latitude) as f64, &triple[2][..]));
    }
    let out = ctx.db().zadd(&args[1], opts, &items)?;
    if out.changed > 0 {
        // Redis runs GEOADD as a ZADD, and notifies it as one.
        ctx.notify(ZSET, "zadd", &args[1]);
    }
    Ok(Reply::Integer(
        if ch { out.changed } else { out.added } as i64
    ))
}
