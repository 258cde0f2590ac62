//! The JSON.* commands that change documents.

use super::read::{expanded, ReplyFormat};
use super::{bulk_json, doc_arg, jerr, path_arg, Outcome, MODULE};
use crate::context::Ctx;
use crate::error::{CommandError, CommandResult};
use basalt_resp::{Protocol, Reply};
use basalt_types::json::edit::{self, NumOp};
use basalt_types::json::path::{self, AddTarget, Path};
use basalt_types::json::{serde_json, Change, JsonError, Value};
use bytes::Bytes;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Condition {
    Always,
    IfMissing,
    IfExists,
}

/// JSON.SET's edit of an existing document (also JSON.MSET's): replace
/// every selected node, or add a member through a static path. Whether
/// every target was written (`OK`) or not (nil).
fn set_in(
    doc: &mut Value,
    p: &Path,
    value: &Value,
    cond: Condition,
) -> Result<(bool, bool), JsonError> {
    if p.is_root() {
        if cond == Condition::IfMissing {
            return Ok((false, false));
        }
        *doc = value.clone();
        return Ok((true, true));
    }
    let locs = if cond == Condition::IfMissing {
        Vec::new()
    } else {
        p.locate(doc)
    };
    if !locs.is_empty() {
        for loc in &locs {
            if let Some(node) = path::get_mut(doc, loc) {
                *node = value.clone();
            }
        }
        return Ok((true, true));
    }
    if cond == Condition::IfExists {
        return Ok((false, false));
    }
    match p.add_target()? {
        AddTarget::Index => {
            if p.locate(doc).is_empty() {
                Err(JsonError::ArrayIndexOutOfRange)
            } else {
                Ok((false, false))
            }
        }
        AddTarget::Member { parent, key } => {
            let parents = AddTarget::parents(&parent, doc);
            if parents.is_empty() {
                return Ok((false, false));
            }
            let (mut any, mut all) = (false, true);
            for loc in &parents {
                match path::get_mut(doc, loc) {
                    Some(Value::Object(map)) if !map.contains_key(&key) => {
                        map.insert(key.clone(), value.clone());
                        any = true;
                    }
                    _ => all = false,
                }
            }
            Ok((any, all))
        }
    }
}

pub(super) fn set(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let p = path_arg(&args[2])?;
    let value = doc_arg(&args[3])?;
    let mut cond = Condition::Always;
    for a in &args[4..] {
        cond = match cond {
            Condition::Always if a.eq_ignore_ascii_case(b"nx") => Condition::IfMissing,
            Condition::Always if a.eq_ignore_ascii_case(b"xx") => Condition::IfExists,
            _ => return Err(CommandError::Syntax),
        };
    }
    let (changed, all) = ctx.db().json_update(&args[1], |doc| {
        let Some(mut doc) = doc else {
            return match (cond, p.is_root()) {
                (Condition::IfExists, _) => Ok(((false, false), Change::Keep)),
                (_, true) => Ok(((true, true), Change::Put(value.clone()))),
                (_, false) => Err(JsonError::NewObjectsAtRoot.into()),
            };
        };
        let (changed, all) = set_in(&mut doc, &p, &value, cond)?;
        let change = if changed {
            Change::Put(doc)
        } else {
            Change::Keep
        };
        Ok(((changed, all), change))
    })?;
    if changed {
        ctx.notify(MODULE, "json.set", &args[1]);
    }
    Ok(if all { Reply::ok() } else { Reply::Null })
}

pub(super) fn mset(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    if !(args.len() - 1).is_multiple_of(3) {
        return Err(CommandError::WrongArity("json.mset".into()));
    }
    let mut triplets = Vec::new();
    for t in args[1..].chunks(3) {
        triplets.push((&t[0], path_arg(&t[1])?, doc_arg(&t[2])?));
    }
    let keys: Vec<&[u8]> = triplets.iter().map(|t| &t.0[..]).collect();
    let mut changed = vec![false; triplets.len()];
    ctx.db().json_update_many(&keys, |i, doc| {
        let (_, p, value) = &triplets[i];
        match doc {
            None if p.is_root() => {
                changed[i] = true;
                Ok(Change::Put(value.clone()))
            }
            None => Err(JsonError::NewObjectsAtRoot.into()),
            Some(mut doc) => {
                let (any, _) = set_in(&mut doc, p, value, Condition::Always)?;
                changed[i] = any;
                Ok(if any { Change::Put(doc) } else { Change::Keep })
            }
        }
    })?;
    for (i, key) in keys.iter().enumerate() {
        if changed[i] {
            ctx.notify(MODULE, "json.mset", key);
        }
    }
    Ok(Reply::ok())
}

pub(super) fn del(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    if args.len() > 3 {
        return Err(CommandError::WrongArity(super::super::lower(&args[0])));
    }
    let p = match args.get(2) {
        Some(a) => path_arg(a)?,
        None => Path::legacy_root(),
    };
    let deleted = ctx.db().json_update(&args[1], |doc| {
        let Some(mut doc) = doc else {
            return Ok((0, Change::Keep));
        };
        if p.is_root() {
            return Ok((1, Change::Delete));
        }
        let locs = path::prepare_for_delete(p.locate(&doc));
        let n = locs.iter().filter(|l| path::remove(&mut doc, l)).count() as i64;
        // RedisJSON drops a key whose root the deletion left empty.
        let emptied = match &doc {
            Value::Object(m) => m.is_empty(),
            Value::Array(a) => a.is_empty(),
            _ => false,
        };
        let change = match (n, emptied) {
            (0, _) => Change::Keep,
            (_, true) => Change::Delete,
            (_, false) => Change::Put(doc),
        };
        Ok((n, change))
    })?;
    if deleted > 0 {
        ctx.notify(MODULE, "json.del", &args[1]);
    }
    Ok(Reply::Integer(deleted))
}

/// Runs `op` on each node `p` selects that `accepts`, in an order where no
/// edit moves a later node. A legacy path that selects no such node is
/// `ERR Path does not exist or <what>`.
fn edit_each<T>(
    ctx: &mut Ctx,
    key: &[u8],
    event: &'static str,
    p: &Path,
    accepts: fn(&Value) -> bool,
    what: &'static str,
    mut op: impl FnMut(&mut Value) -> Result<T, JsonError>,
) -> Result<Outcome<T>, CommandError> {
    let (outcome, changed) = ctx.db().json_update(key, |doc| {
        let Some(mut doc) = doc else {
            return Err(JsonError::NoSuchKey.into());
        };
        let locs = p.locate(&doc);
        let mut targets: Vec<(usize, path::Location)> = locs
            .iter()
            .enumerate()
            .filter(|(_, l)| path::get(&doc, l).is_some_and(accepts))
            .map(|(i, l)| (i, l.clone()))
            .collect();
        if p.is_legacy() && targets.is_empty() {
            return Err(JsonError::PathMissingOr(what).into());
        }
        path::order_indexed_for_mutation(&mut targets);
        let mut results: Vec<Option<T>> = (0..locs.len()).map(|_| None).collect();
        let mut last = None;
        for (i, loc) in &targets {
            if let Some(node) = path::get_mut(&mut doc, loc) {
                let r = op(node)?;
                if p.is_legacy() {
                    last = Some(r);
                } else {
                    results[*i] = Some(r);
                }
            }
        }
        let changed = !targets.is_empty();
        let outcome = match last {
            Some(r) => Outcome::Last(r),
            None => Outcome::Each(results),
        };
        Ok((
            (outcome, changed),
            if changed {
                Change::Put(doc)
            } else {
                Change::Keep
            },
        ))
    })?;
    if changed {
        ctx.notify(MODULE, event, key);
    }
    Ok(outcome)
}

fn num(ctx: &mut Ctx, args: &[Bytes], op: NumOp, event: &'static str) -> CommandResult {
    let p = path_arg(&args[2])?;
    let by = edit::parse_number(&args[3]).map_err(jerr)?;
    let outcome = edit_each(
        ctx,
        &args[1],
        event,
        &p,
        Value::is_number,
        "does not contains a number",
        |v| edit::num_op(v, &by, op),
    )?;
    // RESP3: an array of native numbers (nil for a non-number), whatever
    // the path, as RedisJSON answers.
    if ctx.client.protocol == Protocol::Resp3 {
        let number = |n: Option<serde_json::Number>| match n {
            None => Reply::Null,
            Some(n) => match n.as_i64() {
                Some(i) => Reply::Integer(i),
                None => Reply::Double(n.as_f64().unwrap_or(0.0)),
            },
        };
        return Ok(Reply::Array(match outcome {
            Outcome::Last(n) => vec![number(Some(n))],
            Outcome::Each(all) => all.into_iter().map(number).collect(),
        }));
    }
    // RESP2: one bulk string, the number (legacy) or a JSON array.
    Ok(match outcome {
        Outcome::Last(n) => Reply::Bulk(Bytes::from(n.to_string())),
        Outcome::Each(all) => {
            let arr = Value::Array(
                all.into_iter()
                    .map(|n| n.map_or(Value::Null, Value::Number))
                    .collect(),
            );
            bulk_json(&arr)
        }
    })
}

pub(super) fn numincrby(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    num(ctx, args, NumOp::Incr, "json.numincrby")
}

pub(super) fn nummultby(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    num(ctx, args, NumOp::Mult, "json.nummultby")
}

pub(super) fn toggle(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let p = path_arg(&args[2])?;
    let outcome = edit_each(
        ctx,
        &args[1],
        "json.toggle",
        &p,
        Value::is_boolean,
        "not a bool",
        |v| {
            let now = !v.as_bool().unwrap_or(false);
            *v = Value::Bool(now);
            Ok(now)
        },
    )?;
    Ok(match outcome {
        // RedisJSON's legacy TOGGLE answers "true"/"false" as a bulk string.
        Outcome::Last(b) => Reply::Bulk(Bytes::from(b.to_string())),
        each => each.reply(|b| Reply::Integer(b as i64)),
    })
}

pub(super) fn strappend(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    if args.len() > 4 {
        return Err(CommandError::WrongArity("json.strappend".into()));
    }
    let (p, value) = match args.len() {
        4 => (path_arg(&args[2])?, &args[3]),
        _ => (Path::legacy_root(), &args[2]),
    };
    let suffix = match doc_arg(value)? {
        Value::String(s) => s,
        _ => return Err(jerr(JsonError::Expected("string"))),
    };
    let outcome = edit_each(
        ctx,
        &args[1],
        "json.strappend",
        &p,
        Value::is_string,
        "not a string",
        |v| edit::str_append(v, &suffix),
    )?;
    Ok(outcome.reply(|n| Reply::Integer(n as i64)))
}

pub(super) fn arrappend(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let p = path_arg(&args[2])?;
    let items = args[3..]
        .iter()
        .map(|a| doc_arg(a))
        .collect::<Result<Vec<_>, _>>()?;
    let outcome = edit_each(
        ctx,
        &args[1],
        "json.arrappend",
        &p,
        Value::is_array,
        "not an array",
        |v| {
            let arr = v.as_array_mut().ok_or(JsonError::Expected("array"))?;
            arr.extend(items.iter().cloned());
            Ok(arr.len())
        },
    )?;
    Ok(outcome.reply(|n| Reply::Integer(n as i64)))
}

pub(super) fn arrinsert(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let p = path_arg(&args[2])?;
    let index = super::super::int(&args[3])?;
    let items = args[4..]
        .iter()
        .map(|a| doc_arg(a))
        .collect::<Result<Vec<_>, _>>()?;
    let outcome = edit_each(
        ctx,
        &args[1],
        "json.arrinsert",
        &p,
        Value::is_array,
        "not an array",
        |v| {
            let arr = v.as_array_mut().ok_or(JsonError::Expected("array"))?;
            edit::arr_insert(arr, index, &items)
        },
    )?;
    Ok(outcome.reply(|n| Reply::Integer(n as i64)))
}

/// JSON.ARRPOP's optional `FORMAT STRINGS|EXPAND1|EXPAND` before the path
/// (RedisJSON 8, RESP3 only): `None` for STRINGS, the default (each popped
/// value as JSON text). `FORMAT` with nothing after it is the path.
fn arrpop_format(ctx: &Ctx, args: &[Bytes]) -> Result<Option<ReplyFormat>, CommandError> {
    match args {
        [first, value, ..] if first.eq_ignore_ascii_case(b"format") => {
            let format = match &value[..] {
                b"STRINGS" => None,
                b"EXPAND1" => Some(ReplyFormat::Expand1),
                b"EXPAND" => Some(ReplyFormat::Expand),
                // STRING is JSON.GET's; ARRPOP refuses it as RedisJSON does.
                _ => return Err(CommandError::Other("ERR wrong reply format".into())),
            };
            if ctx.client.protocol != Protocol::Resp3 {
                return Err(CommandError::Other(
                    "ERR FORMAT argument is not supported on RESP2".into(),
                ));
            }
            Ok(format)
        }
        _ => Ok(None),
    }
}

pub(super) fn arrpop(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let format = arrpop_format(ctx, &args[2..])?;
    let rest = if args.len() > 3 && args[2].eq_ignore_ascii_case(b"format") {
        &args[4..]
    } else {
        &args[2..]
    };
    if rest.len() > 2 {
        return Err(CommandError::WrongArity("json.arrpop".into()));
    }
    let (p, index) = match rest.first() {
        Some(a) => (
            path_arg(a)?,
            match rest.get(1) {
                Some(i) => super::super::int(i)?,
                None => -1,
            },
        ),
        None => (Path::legacy_root(), -1),
    };
    if format.is_some() && p.is_legacy() {
        return Err(CommandError::Other(
            "Legacy paths are supported only with FORMAT STRINGS".into(),
        ));
    }
    let outcome = edit_each(
        ctx,
        &args[1],
        "json.arrpop",
        &p,
        Value::is_array,
        "not an array",
        |v| {
            let arr = v.as_array_mut().ok_or(JsonError::Expected("array"))?;
            Ok(edit::arr_pop(arr, index))
        },
    )?;
    let popped = |v: Option<Value>| match (v, format) {
        (None, _) => Reply::Null,
        (Some(v), None) => bulk_json(&v),
        (Some(v), Some(format)) => expanded(&v, format),
    };
    Ok(match outcome {
        Outcome::Last(v) => popped(v),
        Outcome::Each(all) => Reply::Array(all.into_iter().map(|v| popped(v.flatten())).collect()),
    })
}

pub(super) fn arrtrim(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let p = path_arg(&args[2])?;
    let start = super::super::int(&args[3])?;
    let stop = super::super::int(&args[4])?;
    let outcome = edit_each(
        ctx,
        &args[1],
        "json.arrtrim",
        &p,
        Value::is_array,
        "not an array",
        |v| {
            let arr = v.as_array_mut().ok_or(JsonError::Expected("array"))?;
            Ok(edit::arr_trim(arr, start, stop))
        },
    )?;
    Ok(outcome.reply(|n| Reply::Integer(n as i64)))
}

pub(super) fn clear(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    if args.len() > 3 {
        return Err(CommandError::WrongArity("json.clear".into()));
    }
    let p = match args.get(2) {
        Some(a) => path_arg(a)?,
        None => Path::legacy_root(),
    };
    let cleared = ctx.db().json_update(&args[1], |doc| {
        let Some(mut doc) = doc else {
            return Err(JsonError::NoSuchKey.into());
        };
        let locs: Vec<_> = p
            .locate(&doc)
            .into_iter()
            .filter(|l| path::get(&doc, l).is_some_and(edit::clearable))
            .collect();
        for loc in &locs {
            if let Some(v) = path::get_mut(&mut doc, loc) {
                edit::clear(v);
            }
        }
        let n = locs.len() as i64;
        Ok((
            n,
            if n > 0 {
                Change::Put(doc)
            } else {
                Change::Keep
            },
        ))
    })?;
    if cleared > 0 {
        ctx.notify(MODULE, "json.clear", &args[1]);
    }
    Ok(Reply::Integer(cleared))
}

pub(super) fn merge(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let p = path_arg(&args[2])?;
    let patch = doc_arg(&args[3])?;
    let merged = ctx.db().json_update(&args[1], |doc| {
        let Some(mut doc) = doc else {
            if p.is_root() {
                return Ok((true, Change::Put(patch.clone())));
            }
            return Err(JsonError::NewObjectsAtRoot.into());
        };
        if p.is_root() {
            edit::merge(&mut doc, patch.clone());
            return Ok((true, Change::Put(doc)));
        }
        let locs = p.locate(&doc);
        let mut any = false;
        if locs.is_empty() {
            // A missing member is added, as JSON.SET adds it; a null patch
            // adds nothing.
            if let (AddTarget::Member { parent, key }, false) = (p.add_target()?, patch.is_null()) {
                for loc in AddTarget::parents(&parent, &doc) {
                    if let Some(Value::Object(map)) = path::get_mut(&mut doc, &loc) {
                        let mut v = Value::Null;
                        edit::merge(&mut v, patch.clone());
                        map.insert(key.clone(), v);
                        any = true;
                    }
                }
            }
        } else if patch.is_null() {
            for loc in path::prepare_for_delete(locs) {
                any |= path::remove(&mut doc, &loc);
            }
        } else {
            for loc in &locs {
                if let Some(v) = path::get_mut(&mut doc, loc) {
                    edit::merge(v, patch.clone());
                    any = true;
                }
            }
        }
        Ok((any, if any { Change::Put(doc) } else { Change::Keep }))
    })?;
    if merged {
        ctx.notify(MODULE, "json.merge", &args[1]);
        return Ok(Reply::ok());
    }
    Ok(Reply::Null)
}
