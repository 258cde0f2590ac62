//! A value from a DUMP payload, in any encoding Redis 7.0 and 7.2 write
//! (and the older ones they still load) for the five types Basalt has.
//! Checks are those of Redis's deep sanitization, always on: an empty
//! collection, a duplicate set member, hash field or zset member, or a NaN
//! score is refused, since Basalt could not store it faithfully.

use super::reader::Reader;
use super::{intset, listpack, types, ziplist, zipmap, Error};
use crate::hash::FieldValue;
use crate::value::Value;
use std::collections::HashSet;

/// quicklist node containers (RDB_TYPE_LIST_QUICKLIST_2).
const CONTAINER_PLAIN: u64 = 1;
const CONTAINER_PACKED: u64 = 2;

pub fn object(r: &mut Reader) -> Result<Value, Error> {
    let kind = r.u8()?;
    let value = match kind {
        types::STRING => Value::String(r.string()?),
        types::LIST => Value::List(strings(r)?),
        types::SET => Value::Set(strings(r)?),
        types::ZSET | types::ZSET_2 => zset(r, kind == types::ZSET_2)?,
        types::HASH => Value::Hash(paired(strings_n(r, 2)?)?),
        types::HASH_ZIPMAP => Value::Hash(zipmap::pairs(&r.string()?)?),
        types::LIST_ZIPLIST => Value::List(ziplist::entries(&r.string()?)?),
        types::SET_INTSET => Value::Set(intset::members(&r.string()?)?),
        types::SET_LISTPACK => Value::Set(listpack::entries(&r.string()?)?),
        types::ZSET_ZIPLIST => Value::ZSet(scored(ziplist::entries(&r.string()?)?)?),
        types::ZSET_LISTPACK => Value::ZSet(scored(listpack::entries(&r.string()?)?)?),
        types::HASH_ZIPLIST => Value::Hash(paired(ziplist::entries(&r.string()?)?)?),
        types::HASH_LISTPACK => Value::Hash(paired(listpack::entries(&r.string()?)?)?),
        types::HASH_METADATA | types::HASH_METADATA_PRE_GA => {
            hash_metadata(r, kind == types::HASH_METADATA)?
        }
        types::HASH_LISTPACK_EX | types::HASH_LISTPACK_EX_PRE_GA => {
            if kind == types::HASH_LISTPACK_EX {
                // The earliest time, kept by Redis only for later use.
                r.array::<8>()?;
            }
            hash_listpack_ex(&listpack::entries(&r.string()?)?)?
        }
        types::LIST_QUICKLIST => quicklist(r, false)?,
        types::LIST_QUICKLIST_2 => quicklist(r, true)?,
        types::STREAM_LISTPACKS | types::STREAM_LISTPACKS_2 | types::STREAM_LISTPACKS_3 => {
            Value::Stream(Box::new(super::stream::decode(r, kind)?))
        }
        // Modules: nothing in Basalt can hold them.
        _ => return Err(Error::BadData),
    };
    check(&value)?;
    Ok(value)
}

fn strings(r: &mut Reader) -> Result<Vec<Vec<u8>>, Error> {
    strings_n(r, 1)
}

/// A count, then `per` strings for each counted element.
fn strings_n(r: &mut Reader, per: u64) -> Result<Vec<Vec<u8>>, Error> {
    let n = r.count()?.checked_mul(per).ok_or(Error::BadData)?;
    (0..n).map(|_| r.string()).collect()
}

fn zset(r: &mut Reader, binary: bool) -> Result<Value, Error> {
    let n = r.count()?;
    let mut items = Vec::new();
    for _ in 0..n {
        let member = r.string()?;
        let score = if binary {
            r.binary_double()?
        } else {
            r.text_double()?
        };
        items.push((member, score));
    }
    Ok(Value::ZSet(items))
}

fn paired(flat: Vec<Vec<u8>>) -> Result<Vec<FieldValue>, Error> {
    if !flat.len().is_multiple_of(2) {
        return Err(Error::BadData);
    }
    let mut it = flat.into_iter();
    let mut out = Vec::new();
    while let (Some(a), Some(b)) = (it.next(), it.next()) {
        out.push((a, b));
    }
    Ok(out)
}

/// The largest field time Redis accepts (`EB_EXPIRE_TIME_MAX`).
const FIELD_TIME_MAX: u64 = (1 << 48) - 1;

/// A hash without any field TTL left is a plain hash.
fn hash_value(fields: Vec<crate::hash_ttl::TtlFieldValue>) -> Value {
    if fields.iter().any(|f| f.2 != 0) {
        Value::HashWithTtls(fields)
    } else {
        Value::Hash(fields.into_iter().map(|(f, v, _)| (f, v)).collect())
    }
}

/// RDB_TYPE_HASH_METADATA (`relative`: the earliest time first, then each
/// field's time relative to it plus one) and its 7.4 release-candidate
/// form (absolute times); 0 is "no TTL" in both.
fn hash_metadata(r: &mut Reader, relative: bool) -> Result<Value, Error> {
    let min = if relative {
        u64::from_le_bytes(r.array::<8>()?)
    } else {
        1
    };
    let n = r.count()?;
    let mut fields = Vec::new();
    for _ in 0..n {
        let ttl = r.len()?;
        let at = match ttl {
            0 => 0,
            t => (t - 1).checked_add(min).ok_or(Error::BadData)?,
        };
        if at > FIELD_TIME_MAX {
            return Err(Error::BadData);
        }
        let field = r.string()?;
        let value = r.string()?;
        fields.push((field, value, at));
    }
    Ok(hash_value(fields))
}

/// A listpack of (field, value, time) triplets, time 0 for none
/// (RDB_TYPE_HASH_LISTPACK_EX and its release-candidate form). Redis keeps
/// them in time order, the fields without a time last, and refuses a
/// listpack that is not.
fn hash_listpack_ex(flat: &[Vec<u8>]) -> Result<Value, Error> {
    if !flat.len().is_multiple_of(3) {
        return Err(Error::BadData);
    }
    let mut fields = Vec::new();
    let mut last = 1;
    for t in flat.chunks_exact(3) {
        let at = crate::number::parse_i64(&t[2])
            .and_then(|v| u64::try_from(v).ok())
            .filter(|&at| at <= FIELD_TIME_MAX)
            .ok_or(Error::BadData)?;
        let in_order = match (last, at) {
            (0, 0) => true,
            (0, _) => false,
            (_, 0) => true,
            (last, at) => at >= last,
        };
        if !in_order {
            return Err(Error::BadData);
        }
        last = at;
        fields.push((t[0].clone(), t[1].clone(), at));
    }
    Ok(hash_value(fields))
}

/// Member/score pairs of a compact zset, the score as text or integer.
fn scored(flat: Vec<Vec<u8>>) -> Result<Vec<(Vec<u8>, f64)>, Error> {
    paired(flat)?
        .into_iter()
        .map(|(m, s)| Ok((m, crate::sort::parse_score(&s).ok_or(Error::BadData)?)))
        .collect()
}

/// RDB_TYPE_LIST_QUICKLIST (ziplist nodes) and _2 (listpack or plain
/// nodes). Empty nodes are skipped, as Redis skips them.
fn quicklist(r: &mut Reader, v2: bool) -> Result<Value, Error> {
    let nodes = r.count()?;
    let mut items = Vec::new();
    for _ in 0..nodes {
        let container = if v2 { r.len()? } else { CONTAINER_PACKED };
        let data = r.string()?;
        if data.is_empty() {
            return Err(Error::BadData);
        }
        match container {
            CONTAINER_PLAIN => items.push(data),
            CONTAINER_PACKED if v2 => items.extend(listpack::entries(&data)?),
            CONTAINER_PACKED => items.extend(ziplist::entries(&data)?),
            _ => return Err(Error::BadData),
        }
    }
    Ok(Value::List(items))
}

fn check(value: &Value) -> Result<(), Error> {
    fn distinct<'a>(mut keys: impl Iterator<Item = &'a [u8]>) -> bool {
        let mut seen = HashSet::new();
        keys.all(|k| seen.insert(k))
    }
    let ok = match value {
        Value::String(_) | Value::Stream(_) => true,
        Value::List(items) => !items.is_empty(),
        Value::Set(items) => !items.is_empty() && distinct(items.iter().map(|m| &m[..])),
        Value::Hash(pairs) => !pairs.is_empty() && distinct(pairs.iter().map(|(f, _)| &f[..])),
        Value::HashWithTtls(fields) => {
            !fields.is_empty() && distinct(fields.iter().map(|(f, _, _)| &f[..]))
        }
        Value::ZSet(items) => {
            !items.is_empty()
                && items.iter().all(|(_, s)| !s.is_nan())
                && distinct(items.iter().map(|(m, _)| &m[..]))
        }
    };
    if ok {
        Ok(())
    } else {
        Err(Error::BadData)
    }
}
