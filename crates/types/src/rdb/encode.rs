//! A value as DUMP writes it. Only the plain object types are written
//! (string, list, set, hash, binary-score zset): every Redis from 2.6 to
//! 7.x loads them and converts them to its own encodings on load, so one
//! payload restores on Redis 7.0 (RDB 10) and 7.2 (RDB 11) alike. A hash
//! with field TTLs is RDB_TYPE_HASH_METADATA, which Redis 7.4 writes for
//! large hashes with field TTLs and loads in any size.

use super::{types, writer};
use crate::value::Value;

pub fn object(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::String(s) => {
            out.push(types::STRING);
            writer::string(s, out);
        }
        Value::List(items) | Value::Set(items) => {
            let kind = match value {
                Value::List(_) => types::LIST,
                _ => types::SET,
            };
            out.push(kind);
            writer::len(items.len() as u64, out);
            for item in items {
                writer::string(item, out);
            }
        }
        Value::Hash(pairs) => {
            out.push(types::HASH);
            writer::len(pairs.len() as u64, out);
            for (field, value) in pairs {
                writer::string(field, out);
                writer::string(value, out);
            }
        }
        Value::HashWithTtls(fields) => {
            out.push(types::HASH_METADATA);
            // `rdbSaveMillisecondTime` of the earliest time, then each
            // field's time relative to it, plus one (0: no TTL).
            let min = fields
                .iter()
                .map(|f| f.2)
                .filter(|&at| at != 0)
                .min()
                .unwrap_or(0);
            out.extend_from_slice(&min.to_le_bytes());
            writer::len(fields.len() as u64, out);
            for (field, value, at) in fields {
                writer::len(if *at == 0 { 0 } else { at - min + 1 }, out);
                writer::string(field, out);
                writer::string(value, out);
            }
        }
        Value::Stream(stream) => {
            out.push(types::STREAM_LISTPACKS_2);
            super::stream::encode(stream, out);
        }
        Value::ZSet(items) => {
            out.push(types::ZSET_2);
            writer::len(items.len() as u64, out);
            for (member, score) in items {
                writer::string(member, out);
                out.extend_from_slice(&score.to_le_bytes());
            }
        }
    }
}
