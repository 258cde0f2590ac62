//! Keyspace notifications on a replica for the writes it applies.
//!
//! The stream carries batches, not commands, so a replica cannot run the
//! command's own notification code. What it has instead is the log data a
//! Basalt master puts in each command's batch: the command's name and
//! keys (`basalt_core::command_log`). This table turns them into the
//! events Redis 7.2 raises for that command, on the keys the batch really
//! changed (a multi-key command such as DEL or BLPOP touches only some).
//! Collections emptied by a removal also get their `del`, as on the
//! master. What the table cannot tell without the command's other
//! arguments is listed in docs/replication.md.

use basalt_core::command_log::CommandRecord;
use basalt_core::notify::{self, EXPIRED, GENERIC, HASH, LIST, SET, STREAM, STRING, ZSET};
use basalt_core::shared::Shared;
use basalt_types::list::End;
use std::sync::Arc;

/// Raises the events of `command`; `changed` holds the user keys the
/// batch changed.
pub(crate) fn raise(shared: &Arc<Shared>, command: &CommandRecord, changed: &[Vec<u8>]) {
    let (name, keys) = (command.name.as_str(), command.keys.as_slice());
    let touched: Vec<&[u8]> = keys
        .iter()
        .filter(|k| changed.contains(k))
        .map(Vec::as_slice)
        .collect();
    let each = |class: u32, event: &'static str| {
        for key in &touched {
            notify::emit(shared, class, event, key);
        }
    };
    let removal = |class: u32, event: &'static str| {
        for key in &touched {
            notify::emit_removal(shared, class, event, key);
        }
    };
    // A destination that holds nothing afterwards was deleted.
    let store = |class: u32, event: &'static str| {
        for key in touched.iter().take(1) {
            if exists(shared, key) {
                notify::emit(shared, class, event, key);
            } else {
                notify::emit(shared, GENERIC, "del", key);
            }
        }
    };
    match name {
        "set" | "setnx" | "setex" | "psetex" | "getset" | "mset" | "msetnx" => {
            each(STRING, "set");
            let timed = matches!(name, "setex" | "psetex")
                || (name == "set"
                    && ["ex", "px", "exat", "pxat"]
                        .iter()
                        .any(|o| command.has_option(o)));
            if timed {
                each(GENERIC, "expire");
            }
        }
        "getex" => {
            for key in &touched {
                if !exists(shared, key) {
                    notify::emit(shared, GENERIC, "del", key);
                } else if command.has_option("persist") {
                    notify::emit(shared, GENERIC, "persist", key);
                } else {
                    notify::emit(shared, GENERIC, "expire", key);
                }
            }
        }
        "lmove" | "blmove" => {
            if let ([src, dst], [from, to]) = (keys, command.options.as_slice()) {
                if changed.contains(src) {
                    notify::emit_list_move(shared, src, dst, end(from), end(to));
                }
            }
        }
        "append" => each(STRING, "append"),
        "setrange" => each(STRING, "setrange"),
        "incr" | "decr" | "incrby" | "decrby" => each(STRING, "incrby"),
        "incrbyfloat" => each(STRING, "incrbyfloat"),
        "setbit" | "bitfield" => each(STRING, "setbit"),
        "bitop" => store(STRING, "set"),
        "pfadd" | "pfmerge" => each(STRING, "pfadd"),
        "del" | "unlink" | "getdel" => each(GENERIC, "del"),
        "expire" | "pexpire" | "expireat" | "pexpireat" => {
            for key in &touched {
                if exists(shared, key) {
                    notify::emit(shared, GENERIC, "expire", key);
                } else {
                    notify::emit(shared, GENERIC, "del", key);
                }
            }
        }
        "persist" => each(GENERIC, "persist"),
        "rename" | "renamenx" => {
            if let [from, to] = keys {
                notify::emit(shared, GENERIC, "rename_from", from);
                notify::emit(shared, GENERIC, "rename_to", to);
            }
        }
        "copy" => {
            if let Some(to) = keys.get(1).filter(|k| changed.contains(k)) {
                notify::emit(shared, GENERIC, "copy_to", to);
            }
        }
        "restore" => each(GENERIC, "restore"),
        "lpush" | "lpushx" => each(LIST, "lpush"),
        "rpush" | "rpushx" => each(LIST, "rpush"),
        "lpop" | "blpop" => removal(LIST, "lpop"),
        "rpop" | "brpop" => removal(LIST, "rpop"),
        "linsert" => each(LIST, "linsert"),
        "lset" => each(LIST, "lset"),
        "ltrim" => removal(LIST, "ltrim"),
        "lrem" => removal(LIST, "lrem"),
        "rpoplpush" | "brpoplpush" => {
            if let [src, dst] = keys {
                notify::emit_list_move(shared, src, dst, End::Right, End::Left);
            }
        }
        "hset" | "hmset" | "hsetnx" => each(HASH, "hset"),
        "hdel" => removal(HASH, "hdel"),
        "hincrby" => each(HASH, "hincrby"),
        "hincrbyfloat" => each(HASH, "hincrbyfloat"),
        "sadd" => each(SET, "sadd"),
        "srem" => removal(SET, "srem"),
        "spop" => removal(SET, "spop"),
        "smove" => {
            if let [src, dst] = keys {
                notify::emit_removal(shared, SET, "srem", src);
                notify::emit(shared, SET, "sadd", dst);
            }
        }
        "sinterstore" => store(SET, "sinterstore"),
        "sunionstore" => store(SET, "sunionstore"),
        "sdiffstore" => store(SET, "sdiffstore"),
        "zadd" if command.has_option("incr") => each(ZSET, "zincr"),
        "zadd" | "geoadd" => each(ZSET, "zadd"),
        "zincrby" => each(ZSET, "zincr"),
        "zrem" => removal(ZSET, "zrem"),
        "zpopmin" | "bzpopmin" => removal(ZSET, "zpopmin"),
        "zpopmax" | "bzpopmax" => removal(ZSET, "zpopmax"),
        "zremrangebyscore" => removal(ZSET, "zremrangebyscore"),
        "zremrangebyrank" => removal(ZSET, "zremrangebyrank"),
        "zremrangebylex" => removal(ZSET, "zremrangebylex"),
        "zunionstore" => store(ZSET, "zunionstore"),
        "zinterstore" => store(ZSET, "zinterstore"),
        "zdiffstore" => store(ZSET, "zdiffstore"),
        "zrangestore" => store(ZSET, "zrangestore"),
        "xadd" => each(STREAM, "xadd"),
        "xdel" => each(STREAM, "xdel"),
        "xtrim" => each(STREAM, "xtrim"),
        "xsetid" => each(STREAM, "xsetid"),
        basalt_core::command_log::EXPIRED => {
            for key in changed {
                notify::emit(shared, EXPIRED, "expired", key);
            }
        }
        _ => {}
    }
}

fn end(word: &[u8]) -> End {
    if word.eq_ignore_ascii_case(b"left") {
        End::Left
    } else {
        End::Right
    }
}

fn exists(shared: &Shared, key: &[u8]) -> bool {
    shared.data().db.exists(&[key]).is_ok_and(|n| n > 0)
}
