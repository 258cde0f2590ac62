//! The RedisJSON API (JSON.*) over `basalt_types::json`, with RedisJSON's
//! reply shapes in RESP2: a JSONPath (`$...`) answers one entry per
//! selected node (nil where the node has the wrong type), a legacy path
//! (`.a.b`, `a`, `.`) answers a single value and errors when nothing
//! matches. Keyspace events are RedisJSON's module events (`json.set`,
//! `json.del`, ...; class `d`).

mod read;
mod write;

use super::flags::*;
use super::key_flags::*;
use super::{Command, KeyRange, SubCommand};
use crate::error::CommandError;
use basalt_resp::Reply;
use basalt_types::json::path::Path;
use basalt_types::json::{format, JsonError, Value};
use bytes::Bytes;

/// RedisJSON's events are module events (`notify-keyspace-events d`).
const MODULE: u32 = basalt_config::KeyspaceEvents::MODULE;

const fn json_cmd(name: &'static str, arity: i32, flags: u32, handler: super::Handler) -> Command {
    Command::new(name, arity, flags, handler)
        .group("json")
        .acl(&["json"])
}

pub static COMMANDS: &[Command] = &[
    json_cmd("json.set", -4, WRITE | DENYOOM, write::set).syntax("key path value [condition: NX | XX]").keys(1, 1, 1).key_flags(&[RW]).since("1.0.0").summary("Sets or updates the JSON value of one or more paths in a key."),
    json_cmd("json.get", -2, READONLY, read::get).syntax("key [INDENT indent] [NEWLINE newline] [SPACE space] [FORMAT <STRING | EXPAND1 | EXPAND>] [path [path ...]]").keys(1, 1, 1).key_flags(&[RO]).since("1.0.0").summary("Gets the value at one or more paths in JSON serialized form."),
    json_cmd("json.mget", -3, READONLY, read::mget).syntax("key [key ...] path").keys(1, -2, 1).key_flags(&[RO]).since("1.0.0").summary("Returns the values at a path from one or more keys."),
    json_cmd("json.mset", -4, WRITE | DENYOOM, write::mset).syntax("key path value [key path value ...]").keys(1, -1, 3).key_flags(&[RW]).since("2.6.0").summary("Sets or updates the JSON value of one or more keys."),
    json_cmd("json.del", -2, WRITE, write::del).syntax("key [path]").keys(1, 1, 1).key_flags(&[RW]).since("1.0.0").summary("Deletes a value."),
    json_cmd("json.forget", -2, WRITE, write::del).syntax("key [path]").keys(1, 1, 1).key_flags(&[RW]).since("1.0.0").summary("Deletes a value."),
    json_cmd("json.type", -2, READONLY, read::type_cmd).syntax("key [path]").keys(1, 1, 1).key_flags(&[RO]).since("1.0.0").summary("Returns the type of the JSON value at path."),
    json_cmd("json.numincrby", 4, WRITE, write::numincrby).syntax("key path value:double").keys(1, 1, 1).key_flags(&[RW]).since("1.0.0").summary("Increments the numeric value at path by a value."),
    json_cmd("json.nummultby", 4, WRITE, write::nummultby).syntax("key path value:double").keys(1, 1, 1).key_flags(&[RW]).since("1.0.0").summary("Multiplies the numeric value at path by a value."),
    json_cmd("json.strappend", -3, WRITE | DENYOOM, write::strappend).syntax("key [path] value").keys(1, 1, 1).key_flags(&[RW]).since("1.0.0").summary("Appends a string to a JSON string value at path."),
    json_cmd("json.strlen", -2, READONLY, read::strlen).syntax("key [path]").keys(1, 1, 1).key_flags(&[RO]).since("1.0.0").summary("Returns the length of the JSON String at path in key."),
    json_cmd("json.arrappend", -4, WRITE | DENYOOM, write::arrappend).syntax("key path value [value ...]").keys(1, 1, 1).key_flags(&[RW]).since("1.0.0").summary("Append one or more JSON values into the array at path after the last element in it."),
    json_cmd("json.arrindex", -4, READONLY, read::arrindex).syntax("key path value [range: start:integer [stop:integer]]").keys(1, 1, 1).key_flags(&[RO]).since("1.0.0").summary("Returns the index of the first occurrence of a JSON scalar value in the array at path."),
    json_cmd("json.arrinsert", -5, WRITE | DENYOOM, write::arrinsert).syntax("key path index:integer value [value ...]").keys(1, 1, 1).key_flags(&[RW]).since("1.0.0").summary("Inserts the JSON scalar(s) value at the specified index in the array at path."),
    json_cmd("json.arrlen", -2, READONLY, read::arrlen).syntax("key [path]").keys(1, 1, 1).key_flags(&[RO]).since("1.0.0").summary("Returns the length of the array at path."),
    json_cmd("json.arrpop", -2, WRITE, write::arrpop).syntax("key [FORMAT <STRINGS | EXPAND1 | EXPAND>] [path [index:integer]]").keys(1, 1, 1).key_flags(&[RW]).since("1.0.0").summary("Removes and returns the element at the specified index in the array at path."),
    json_cmd("json.arrtrim", 5, WRITE, write::arrtrim).syntax("key path start:integer stop:integer").keys(1, 1, 1).key_flags(&[RW]).since("1.0.0").summary("Trims the array at path to contain only the specified inclusive range of indices from start to stop."),
    json_cmd("json.objkeys", -2, READONLY, read::objkeys).syntax("key [path]").keys(1, 1, 1).key_flags(&[RO]).since("1.0.0").summary("Returns the JSON keys of the object at path."),
    json_cmd("json.objlen", -2, READONLY, read::objlen).syntax("key [path]").keys(1, 1, 1).key_flags(&[RO]).since("1.0.0").summary("Returns the number of keys of the object at path."),
    json_cmd("json.toggle", 3, WRITE, write::toggle).syntax("key path").keys(1, 1, 1).key_flags(&[RW]).since("2.0.0").summary("Toggles a boolean value."),
    json_cmd("json.clear", -2, WRITE, write::clear).syntax("key [path]").keys(1, 1, 1).key_flags(&[RW]).since("2.0.0").summary("Clears all values from an array or an object and sets numeric values to `0`."),
    json_cmd("json.merge", 4, WRITE | DENYOOM, write::merge).syntax("key path value").keys(1, 1, 1).key_flags(&[RW]).since("2.6.0").summary("Merges a given JSON value into matching paths. Consequently, JSON values at matching paths are updated, deleted, or expanded with new children."),
    json_cmd("json.resp", -2, READONLY, read::resp).syntax("key [path]").keys(1, 1, 1).key_flags(&[RO]).since("1.0.0").summary("Returns the JSON value at path in Redis Serialization Protocol (RESP)."),
    Command::new("json.debug", -2, 0, read::debug)
        .group("json")
        .acl(&["json"])
        .since("1.0.0")
        .summary("Debugging container command.")
        .subcommands(&[
            SubCommand::new("memory", -3, READONLY, "Reports the size in bytes of a key.")
                .syntax("key [path]")
                .keys(KeyRange::at(2))
                .key_flags(&[RO]),
            SubCommand::new("help", 2, 0, "Shows helpful information."),
        ]),
];

fn jerr(e: JsonError) -> CommandError {
    CommandError::Data(basalt_types::Error::Json(e))
}

fn path_arg(arg: &[u8]) -> Result<Path, CommandError> {
    Path::parse(arg).map_err(jerr)
}

fn doc_arg(arg: &[u8]) -> Result<Value, CommandError> {
    basalt_types::json::parse(arg).map_err(jerr)
}

/// A JSON value as compact text in a bulk string.
fn bulk_json(v: &Value) -> Reply {
    Reply::Bulk(Bytes::from(format::to_text(v, &format::Style::default())))
}

/// A legacy path answers its last edited node's result; a JSONPath one
/// result per selected node.
enum Outcome<T> {
    Each(Vec<Option<T>>),
    Last(T),
}

impl<T> Outcome<T> {
    fn reply(self, one: impl Fn(T) -> Reply) -> Reply {
        match self {
            Outcome::Last(v) => one(v),
            Outcome::Each(all) => Reply::Array(
                all.into_iter()
                    .map(|v| v.map_or(Reply::Null, &one))
                    .collect(),
            ),
        }
    }
}
