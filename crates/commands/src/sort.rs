//! SORT and SORT_RO.

use super::flags::*;
use super::key_flags::*;
use super::{int, is, Command};
use crate::context::Ctx;
use crate::error::{CommandError, CommandResult};
use basalt_resp::Reply;
use basalt_types::sort::{SortOptions, Sorted};
use bytes::Bytes;

pub static COMMANDS: &[Command] = &[
    Command::new("sort", -2, WRITE | DENYOOM | SCANS, sort).syntax("key [BY by-pattern:pattern@1] [LIMIT offset:integer count:integer] [GET get-pattern:pattern@1 [GET get-pattern:pattern@1 ...]] [order: ASC | DESC] [sorting: ALPHA] [STORE destination:key@2]")
        .keys(1, 1, 1)
        .key_flags(&[RO | ACCESS, RO | ACCESS, OW | UPDATE])
        .movable(super::key_finder::SORT)
        .acl(&["set", "sortedset", "list", "dangerous"])
        .summary(
            "Sorts the elements in a list, a set, or a sorted set, optionally storing the result.",
        ),
    Command::new("sort_ro", -2, READONLY | SCANS, sort_ro).syntax("key [BY by-pattern:pattern@1] [LIMIT offset:integer count:integer] [GET get-pattern:pattern@1 [GET get-pattern:pattern@1 ...]] [order: ASC | DESC] [sorting: ALPHA]")
        .keys(1, 1, 1)
        .movable(super::key_finder::SORT_RO)
        .acl(&["set", "sortedset", "list", "dangerous"])
        .since("7.0.0")
        .summary("Returns the sorted elements of a list, a set, or a sorted set."),
];

const BAD_SCORE: &str = "ERR One or more scores can't be converted into double";

/// Parses the options after the key in Redis's order of checks: every
/// syntax or LIMIT error is reported before the key is even looked at.
fn parse(
    args: &[Bytes],
    readonly: bool,
    cluster: bool,
) -> Result<(SortOptions, Option<Bytes>), CommandError> {
    // In cluster mode the keys a pattern forms must be in the sorted
    // key's slot, as Redis checks.
    let other_slot = |pattern: &[u8]| {
        cluster
            && basalt_cluster::slots::pattern_slot(pattern)
                != Some(basalt_cluster::key_slot(&args[1]))
    };
    let mut opts = SortOptions::default();
    let mut store = None;
    let mut i = 2;
    while i < args.len() {
        let left = args.len() - i - 1;
        let a = &args[i];
        if is(a, "asc") {
            opts.desc = false;
        } else if is(a, "desc") {
            opts.desc = true;
        } else if is(a, "alpha") {
            opts.alpha = true;
        } else if is(a, "limit") && left >= 2 {
            opts.limit = Some((int(&args[i + 1])?, int(&args[i + 2])?));
            i += 2;
        } else if is(a, "store") && left >= 1 && !readonly {
            store = Some(args[i + 1].clone());
            i += 1;
        } else if is(a, "by") && left >= 1 {
            let pattern = &args[i + 1];
            // A pattern without `*` can't name per-element keys: Redis
            // takes it as "don't sort", and never undoes that.
            if pattern.contains(&b'*') {
                if other_slot(pattern) {
                    return Err(CommandError::other(
                        "ERR BY option of SORT denied in Cluster mode when keys formed by \
                         the pattern may be in different slots.",
                    ));
                }
                opts.by = Some(pattern.to_vec());
            } else {
                opts.nosort = true;
            }
            i += 1;
        } else if is(a, "get") && left >= 1 {
            if other_slot(&args[i + 1]) {
                return Err(CommandError::other(
                    "ERR GET option of SORT denied in Cluster mode when keys formed by \
                     the pattern may be in different slots.",
                ));
            }
            opts.gets.push(args[i + 1].to_vec());
            i += 1;
        } else {
            return Err(CommandError::Syntax);
        }
        i += 1;
    }
    Ok((opts, store))
}

fn run(ctx: &mut Ctx, args: &[Bytes], readonly: bool) -> CommandResult {
    let cluster = ctx.shared.config.read().cluster_enabled;
    let (opts, store) = parse(args, readonly, cluster)?;
    if let Some(dst) = store {
        let existed = crate::notify::dst_existed(ctx, &dst)?;
        return match ctx.db().sort_store(&args[1], &opts, &dst)? {
            Sorted::Done(n) => {
                crate::notify::emit_store(
                    ctx.shared,
                    crate::notify::LIST,
                    "sortstore",
                    &dst,
                    n,
                    existed,
                );
                Ok(Reply::Integer(n as i64))
            }
            Sorted::BadScore => Err(CommandError::other(BAD_SCORE)),
        };
    }
    match ctx.db().sort(&args[1], &opts)? {
        Sorted::Done(items) => Ok(Reply::Array(
            items
                .into_iter()
                .map(|v| v.map_or(Reply::Null, |v| Reply::Bulk(Bytes::from(v))))
                .collect(),
        )),
        Sorted::BadScore => Err(CommandError::other(BAD_SCORE)),
    }
}

fn sort(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    run(ctx, args, false)
}

fn sort_ro(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    run(ctx, args, true)
}
