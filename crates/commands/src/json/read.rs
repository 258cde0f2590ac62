//! The JSON.* commands that read documents.

use super::{bulk_json, doc_arg, jerr, path_arg};
use crate::context::Ctx;
use crate::error::{CommandError, CommandResult};
use basalt_resp::{Protocol, Reply};
use basalt_types::json::edit;
use basalt_types::json::format::{self, Style};
use basalt_types::json::path::Path;
use basalt_types::json::{serde_json, JsonError, Value};
use bytes::Bytes;

/// The optional path argument at `i`; the legacy root when absent.
fn optional_path(args: &[Bytes], i: usize, name: &str) -> Result<Path, CommandError> {
    if args.len() > i + 1 {
        return Err(CommandError::WrongArity(name.into()));
    }
    match args.get(i) {
        Some(a) => path_arg(a),
        None => Ok(Path::legacy_root()),
    }
}

/// JSON.GET's FORMAT (RedisJSON 2.6+, RESP3 only): STRING is the JSON
/// text; EXPAND1 answers scalars as native RESP3 values and containers as
/// JSON text; EXPAND answers everything natively (objects as maps).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum ReplyFormat {
    String,
    Expand1,
    Expand,
}

/// A value as FORMAT EXPAND1/EXPAND answers it.
pub(super) fn expanded(v: &Value, format: ReplyFormat) -> Reply {
    match v {
        Value::Null => Reply::Null,
        Value::Bool(b) => Reply::Bool(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Reply::Integer(i),
            None => Reply::Double(n.as_f64().unwrap_or(0.0)),
        },
        Value::String(s) => Reply::Bulk(Bytes::from(s.clone())),
        _ if format == ReplyFormat::Expand1 => bulk_json(v),
        Value::Array(a) => Reply::Array(a.iter().map(|v| expanded(v, format)).collect()),
        Value::Object(o) => Reply::Map(
            o.iter()
                .map(|(k, v)| (Reply::Bulk(Bytes::from(k.clone())), expanded(v, format)))
                .collect(),
        ),
    }
}

pub(super) fn get(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let mut style = Style::default();
    let mut paths = Vec::new();
    let mut reply_format = ReplyFormat::String;
    let resp3 = ctx.client.protocol == Protocol::Resp3;
    let mut i = 2;
    while i < args.len() {
        let a = &args[i];
        if a.eq_ignore_ascii_case(b"format") {
            // RedisJSON refuses FORMAT on RESP2 only before any path.
            if !resp3 && paths.is_empty() {
                return Err(CommandError::Other(
                    "ERR FORMAT argument is not supported on RESP2".into(),
                ));
            }
            let v = args
                .get(i + 1)
                .ok_or_else(|| CommandError::WrongArity("json.get".into()))?;
            reply_format = match &v[..] {
                b"STRING" => ReplyFormat::String,
                b"EXPAND1" => ReplyFormat::Expand1,
                b"EXPAND" => ReplyFormat::Expand,
                _ => return Err(CommandError::Other("ERR wrong reply format".into())),
            };
            i += 2;
            continue;
        }
        let slot = if a.eq_ignore_ascii_case(b"indent") {
            Some(&mut style.indent)
        } else if a.eq_ignore_ascii_case(b"newline") {
            Some(&mut style.newline)
        } else if a.eq_ignore_ascii_case(b"space") {
            Some(&mut style.space)
        } else {
            None
        };
        match slot {
            Some(slot) => {
                let v = args
                    .get(i + 1)
                    .ok_or_else(|| CommandError::WrongArity("json.get".into()))?;
                *slot = Some(v.to_vec());
                i += 1;
            }
            // RedisJSON 1.0's NOESCAPE, accepted and ignored as RedisJSON does.
            None if a.eq_ignore_ascii_case(b"noescape") => {}
            None => paths.push(path_arg(a)?),
        }
        i += 1;
    }
    if paths.is_empty() {
        paths.push(Path::legacy_root());
    }
    let Some(doc) = ctx.db().json_read(&args[1])? else {
        return Ok(Reply::Null);
    };
    if resp3 && reply_format != ReplyFormat::String {
        // One array per path of its matches, legacy paths included.
        let per_path = paths.iter().map(|p| {
            Reply::Array(
                p.values(&doc)
                    .into_iter()
                    .map(|v| expanded(v, reply_format))
                    .collect(),
            )
        });
        return Ok(Reply::Array(per_path.collect()));
    }
    let text = |v: &Value| Reply::Bulk(Bytes::from(format::to_text(v, &style)));
    let all_legacy = paths.iter().all(Path::is_legacy);
    if paths.len() == 1 {
        let p = &paths[0];
        let values = p.values(&doc);
        if p.is_legacy() {
            let first = values.first().ok_or(jerr(JsonError::PathMissing))?;
            return Ok(text(first));
        }
        return Ok(text(&Value::Array(values.into_iter().cloned().collect())));
    }
    let mut out = serde_json::Map::new();
    for p in &paths {
        let values = p.values(&doc);
        let v = if all_legacy {
            (*values.first().ok_or(jerr(JsonError::PathMissing))?).clone()
        } else {
            Value::Array(values.into_iter().cloned().collect())
        };
        out.insert(p.original().to_string(), v);
    }
    Ok(text(&Value::Object(out)))
}

pub(super) fn mget(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let p = path_arg(&args[args.len() - 1])?;
    let mut out = Vec::new();
    for key in &args[1..args.len() - 1] {
        // A key of another type reads as nil, as in RedisJSON.
        let doc = match ctx.db().json_read(key) {
            Ok(doc) => doc,
            Err(basalt_types::Error::WrongType) => None,
            Err(e) => return Err(e.into()),
        };
        out.push(match doc {
            None => Reply::Null,
            Some(doc) => {
                let values = p.values(&doc);
                if p.is_legacy() {
                    values.first().map_or(Reply::Null, |v| bulk_json(v))
                } else {
                    bulk_json(&Value::Array(values.into_iter().cloned().collect()))
                }
            }
        });
    }
    Ok(Reply::Array(out))
}

/// The shape most read commands share: a legacy path answers from its
/// first node (`legacy`), a JSONPath answers each node (`each`).
fn per_node(
    p: &Path,
    doc: &Value,
    legacy: impl FnOnce(Option<&Value>) -> CommandResult,
    each: impl Fn(&Value) -> Reply,
) -> CommandResult {
    let values = p.values(doc);
    if p.is_legacy() {
        return legacy(values.first().copied());
    }
    Ok(Reply::Array(values.into_iter().map(each).collect()))
}

pub(super) fn type_cmd(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let p = optional_path(args, 2, "json.type")?;
    let reply = match ctx.db().json_read(&args[1])? {
        None => Reply::Null,
        Some(doc) => {
            let name = |v: &Value| Reply::bulk(edit::type_name(v));
            per_node(&p, &doc, |v| Ok(v.map_or(Reply::Null, name)), name)?
        }
    };
    // RedisJSON wraps the RESP2 reply in one more array on RESP3.
    Ok(if ctx.client.protocol == Protocol::Resp3 {
        Reply::Array(vec![reply])
    } else {
        reply
    })
}

pub(super) fn strlen(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let p = optional_path(args, 2, "json.strlen")?;
    let doc = ctx.db().json_read(&args[1])?;
    let Some(doc) = doc else {
        if p.is_legacy() {
            return Ok(Reply::Null);
        }
        return Err(jerr(JsonError::NoSuchKey));
    };
    per_node(
        &p,
        &doc,
        |v| match v {
            Some(Value::String(s)) => Ok(Reply::Integer(s.len() as i64)),
            Some(_) => Err(jerr(JsonError::Expected("string"))),
            None => Err(jerr(JsonError::PathMissing)),
        },
        |v| {
            v.as_str()
                .map_or(Reply::Null, |s| Reply::Integer(s.len() as i64))
        },
    )
}

pub(super) fn arrlen(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let p = optional_path(args, 2, "json.arrlen")?;
    let Some(doc) = ctx.db().json_read(&args[1])? else {
        if p.is_legacy() {
            return Ok(Reply::Null);
        }
        return Err(jerr(JsonError::NoSuchKey));
    };
    per_node(
        &p,
        &doc,
        |v| match v {
            Some(Value::Array(a)) => Ok(Reply::Integer(a.len() as i64)),
            Some(_) => Err(jerr(JsonError::PathMissingOr("not an array"))),
            None => Err(jerr(JsonError::PathMissing)),
        },
        |v| {
            v.as_array()
                .map_or(Reply::Null, |a| Reply::Integer(a.len() as i64))
        },
    )
}

pub(super) fn objlen(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let p = optional_path(args, 2, "json.objlen")?;
    let Some(doc) = ctx.db().json_read(&args[1])? else {
        if p.is_legacy() {
            return Ok(Reply::Null);
        }
        return Err(jerr(JsonError::PathMissingOr("not an object")));
    };
    per_node(
        &p,
        &doc,
        |v| match v {
            Some(Value::Object(o)) => Ok(Reply::Integer(o.len() as i64)),
            Some(_) => Err(jerr(JsonError::Expected("object"))),
            None => Ok(Reply::Null),
        },
        |v| {
            v.as_object()
                .map_or(Reply::Null, |o| Reply::Integer(o.len() as i64))
        },
    )
}

fn keys_reply(o: &serde_json::Map<String, Value>) -> Reply {
    Reply::Array(
        o.keys()
            .map(|k| Reply::Bulk(Bytes::from(k.clone())))
            .collect(),
    )
}

pub(super) fn objkeys(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let p = optional_path(args, 2, "json.objkeys")?;
    let Some(doc) = ctx.db().json_read(&args[1])? else {
        if p.is_legacy() {
            return Ok(Reply::Null);
        }
        return Err(jerr(JsonError::NoSuchKey));
    };
    per_node(
        &p,
        &doc,
        |v| match v {
            Some(Value::Object(o)) => Ok(keys_reply(o)),
            Some(_) => Err(jerr(JsonError::PathMissingOr("not an object"))),
            None => Ok(Reply::Null),
        },
        |v| v.as_object().map_or(Reply::Null, keys_reply),
    )
}

pub(super) fn arrindex(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    if args.len() > 6 {
        return Err(CommandError::WrongArity("json.arrindex".into()));
    }
    let p = path_arg(&args[2])?;
    let needle = doc_arg(&args[3])?;
    let start = args
        .get(4)
        .map(|a| super::super::int(a))
        .transpose()?
        .unwrap_or(0);
    let stop = args
        .get(5)
        .map(|a| super::super::int(a))
        .transpose()?
        .unwrap_or(0);
    let Some(doc) = ctx.db().json_read(&args[1])? else {
        return Err(jerr(JsonError::PathMissing));
    };
    per_node(
        &p,
        &doc,
        |v| match v {
            Some(Value::Array(a)) => Ok(Reply::Integer(edit::arr_index(a, &needle, start, stop))),
            Some(_) => Err(jerr(JsonError::Expected("array"))),
            None => Err(jerr(JsonError::PathMissing)),
        },
        |v| {
            v.as_array().map_or(Reply::Null, |a| {
                Reply::Integer(edit::arr_index(a, &needle, start, stop))
            })
        },
    )
}

/// JSON.RESP's form of a value: arrays led by `[`, objects by `{` then
/// key/value pairs, `true`/`false` as status replies.
fn resp_value(v: &Value) -> Reply {
    match v {
        Value::Null => Reply::Null,
        Value::Bool(b) => Reply::Simple(if *b { "true" } else { "false" }.into()),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Reply::Integer(i),
            None => Reply::Double(n.as_f64().unwrap_or(0.0)),
        },
        Value::String(s) => Reply::Bulk(Bytes::from(s.clone())),
        Value::Array(a) => {
            let mut out = vec![Reply::Simple("[".into())];
            out.extend(a.iter().map(resp_value));
            Reply::Array(out)
        }
        Value::Object(o) => {
            let mut out = vec![Reply::Simple("{".into())];
            for (k, v) in o {
                out.push(Reply::Bulk(Bytes::from(k.clone())));
                out.push(resp_value(v));
            }
            Reply::Array(out)
        }
    }
}

pub(super) fn resp(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let p = optional_path(args, 2, "json.resp")?;
    let Some(doc) = ctx.db().json_read(&args[1])? else {
        return Ok(Reply::Null);
    };
    per_node(
        &p,
        &doc,
        |v| v.map(resp_value).ok_or(jerr(JsonError::PathMissing)),
        resp_value,
    )
}

pub(super) fn debug(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    match super::super::lower(&args[1]).as_str() {
        "memory" => {
            let p = optional_path(args, 3, "json.debug|memory")?;
            let Some(doc) = ctx.db().json_read(&args[2])? else {
                return Ok(if p.is_legacy() {
                    Reply::Integer(0)
                } else {
                    Reply::Array(Vec::new())
                });
            };
            per_node(
                &p,
                &doc,
                |v| {
                    v.map(|v| Reply::Integer(edit::memory(v) as i64))
                        .ok_or(jerr(JsonError::PathMissing))
                },
                |v| Reply::Integer(edit::memory(v) as i64),
            )
        }
        "help" => Ok(Reply::Array(vec![
            Reply::bulk("MEMORY <key> [path] - reports memory usage"),
            Reply::bulk("HELP                - this message"),
        ])),
        _ => Err(CommandError::Other(
            "ERR unknown subcommand - try `JSON.DEBUG HELP`".into(),
        )),
    }
}
