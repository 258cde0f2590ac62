//! DUMP, RESTORE, RESTORE-ASKING and MIGRATE: values moved between servers
//! in Redis's own serialization (`basalt_types::rdb`), so keys travel
//! between Basalt and redis-server in both directions.
//!
//! RESTORE writes through `Database::restore_value` in one batch under the
//! key's lock, and is declared a write of its key, so WATCH, keyspace
//! events and served BLPOP clients see it like any other write.
//! IDLETIME and FREQ are validated as Redis does and then ignored: Basalt
//! tracks no access times or frequencies (OBJECT IDLETIME answers 0).

use super::flags::*;
use super::key_flags::*;
use super::{int, is, Command};
use crate::context::Ctx;
use crate::error::{CommandError, CommandResult};
use crate::notify::GENERIC;
use basalt_core::offload::off_worker;
use basalt_engine::version::now_ms;
use basalt_resp::Reply;
use basalt_types::rdb;
use basalt_types::value::Restored;
use bytes::Bytes;

/// Payloads at least this large are decoded and written off the async
/// worker, as long collection commands are (see `basalt_core::offload`).
const LONG_PAYLOAD: usize = 256 << 10;

pub static COMMANDS: &[Command] = &[
    Command::new("dump", 2, READONLY | SCANS, dump).syntax("key")
        .keys(1, 1, 1)
        .since("2.6.0")
        .summary("Returns a serialized representation of the value stored at a key."),
    Command::new("restore", -4, WRITE | DENYOOM, restore).syntax("key ttl:integer serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds:integer] [FREQ frequency:integer]")
        .keys(1, 1, 1)
        .key_flags(&[OW | UPDATE])
        .acl(&["dangerous"])
        .since("2.6.0")
        .summary("Creates a key from the serialized representation of a value."),
    Command::new("restore-asking", -4, WRITE | DENYOOM | ASKING, restore).syntax("key ttl:integer serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds:integer] [FREQ frequency:integer]")
        .keys(1, 1, 1)
        .key_flags(&[OW | UPDATE])
        .acl(&["keyspace", "dangerous"])
        .group("server")
        .since("3.0.0")
        .summary("An internal command for migrating keys in a cluster."),
    Command::new("migrate", -6, WRITE, super::migrate::migrate).syntax("host port:integer (key-selector: key | \"\") destination-db:integer timeout:integer [COPY] [REPLACE] [authentication: AUTH auth:string | AUTH2 username password] [KEYS keys:key [keys:key ...]]")
        .keys(3, 3, 1)
        .key_flags(&[RW | ACCESS | DELETE, RW | ACCESS | DELETE | INCOMPLETE])
        .movable(crate::key_finder::MIGRATE)
        .acl(&["dangerous"])
        .since("2.6.0")
        .summary("Atomically transfers a key from one Redis instance to another."),
];

fn dump(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    // Redis would serialize a JSON key as RedisJSON's module type, a
    // format Basalt cannot produce (docs/compatibility.md).
    if ctx.db().type_of(&args[1])? == Some(basalt_engine::RedisType::Json) {
        return Err(CommandError::Other(
            "ERR DUMP is not supported for JSON keys (RedisJSON's module payload)".into(),
        ));
    }
    Ok(match ctx.db().read_value(&args[1])? {
        Some((value, _)) => Reply::Bulk(Bytes::from(rdb::dump(&value))),
        None => Reply::Null,
    })
}

#[derive(Default)]
struct RestoreOptions {
    replace: bool,
    absttl: bool,
}

/// REPLACE, ABSTTL, and IDLETIME or FREQ (one of them: Redis takes the
/// second as a syntax error), checked in Redis's order.
fn restore_options(args: &[Bytes]) -> Result<RestoreOptions, CommandError> {
    let mut opts = RestoreOptions::default();
    let (mut idle, mut freq) = (false, false);
    let mut j = 0;
    while j < args.len() {
        let has_value = j + 1 < args.len();
        if is(&args[j], "replace") {
            opts.replace = true;
        } else if is(&args[j], "absttl") {
            opts.absttl = true;
        } else if is(&args[j], "idletime") && has_value && !freq {
            if int(&args[j + 1])? < 0 {
                return Err(CommandError::InvalidIdleTime);
            }
            idle = true;
            j += 1;
        } else if is(&args[j], "freq") && has_value && !idle {
            if !(0..=255).contains(&int(&args[j + 1])?) {
                return Err(CommandError::InvalidFreq);
            }
            freq = true;
            j += 1;
        } else {
            return Err(CommandError::Syntax);
        }
        j += 1;
    }
    Ok(opts)
}

fn restore(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let opts = restore_options(&args[4..])?;
    let key = &args[1];
    // Redis checks the key before the TTL and the payload.
    if !opts.replace && ctx.db().exists(&[key])? > 0 {
        return Err(CommandError::BusyKey);
    }
    let ttl = int(&args[2])?;
    if ttl < 0 {
        return Err(CommandError::InvalidTtl);
    }
    let expire_ms = match ttl {
        0 => 0,
        t if opts.absttl => t as u64,
        t => now_ms().saturating_add(t as u64),
    };
    let load = || -> Result<Restored, CommandError> {
        let value = rdb::restore(&args[3])?;
        Ok(ctx
            .db()
            .restore_value(key, &value, expire_ms, opts.replace)?)
    };
    let restored = if args[3].len() >= LONG_PAYLOAD {
        off_worker(load)?
    } else {
        load()?
    };
    match restored {
        Restored::Created => ctx.notify(GENERIC, "restore", key),
        // Created meanwhile by another client.
        Restored::Busy => return Err(CommandError::BusyKey),
        Restored::Expired { deleted: true } => ctx.notify(GENERIC, "del", key),
        Restored::Expired { deleted: false } => {}
    }
    Ok(Reply::ok())
}
