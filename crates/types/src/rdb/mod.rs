//! Redis's serialization of one value, as DUMP, RESTORE, MIGRATE and
//! FUNCTION DUMP exchange it: `<type byte><object><u16 LE RDB version>
//! <u64 LE CRC-64/Jones of everything before it>`.
//!
//! Written with RDB version 10 (Redis 7.0) in the plain object types, so
//! both Redis 7.0 and 7.2 restore what Basalt dumps, except a hash with
//! field TTLs, which only Redis 7.4 has: RDB_TYPE_HASH_METADATA under
//! version 12. Read up to version 12 (Redis 7.4) in every encoding those
//! versions write or still load. The
//! decoders are bounds-checked throughout: a hostile payload is refused
//! with an error, never a panic or an allocation it did not pay for.

mod decode;
mod encode;
pub mod function;
mod intset;
mod listpack;
mod reader;
mod stream;
mod writer;
mod ziplist;
mod zipmap;

use crate::value::Value;
use crc::{Crc, CRC_64_REDIS};

/// The RDB version written into payloads: Redis 7.0's, the oldest that
/// Basalt's peers run, which refuses payloads of a newer version.
pub const WRITE_VERSION: u16 = 10;
/// The version of a payload holding a hash with field TTLs: Redis 7.4's,
/// the first with them.
pub const HASH_TTL_VERSION: u16 = 12;
/// The newest RDB version read: Redis 7.4's.
pub const READ_VERSION: u16 = 12;

const CRC64: Crc<u64> = Crc::<u64>::new(&CRC_64_REDIS);
const FOOTER: usize = 10;

/// Why a payload was refused; the text is Redis's (after "ERR ").
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("DUMP payload version or checksum are wrong")]
    Payload,
    #[error("Bad data format")]
    BadData,
    #[error("given type is not a function")]
    NotAFunction,
}

/// RDB object type bytes (rdb.h).
pub(crate) mod types {
    pub const STRING: u8 = 0;
    pub const LIST: u8 = 1;
    pub const SET: u8 = 2;
    pub const ZSET: u8 = 3;
    pub const HASH: u8 = 4;
    pub const ZSET_2: u8 = 5;
    pub const HASH_ZIPMAP: u8 = 9;
    pub const LIST_ZIPLIST: u8 = 10;
    pub const SET_INTSET: u8 = 11;
    pub const ZSET_ZIPLIST: u8 = 12;
    pub const HASH_ZIPLIST: u8 = 13;
    pub const LIST_QUICKLIST: u8 = 14;
    pub const HASH_LISTPACK: u8 = 16;
    pub const ZSET_LISTPACK: u8 = 17;
    pub const LIST_QUICKLIST_2: u8 = 18;
    pub const SET_LISTPACK: u8 = 20;
    pub const STREAM_LISTPACKS: u8 = 15;
    pub const STREAM_LISTPACKS_2: u8 = 19;
    pub const STREAM_LISTPACKS_3: u8 = 21;
    /// Hashes with field TTLs (Redis 7.4): the release candidates' forms
    /// with absolute times, and the final ones led by the earliest time.
    pub const HASH_METADATA_PRE_GA: u8 = 22;
    pub const HASH_LISTPACK_EX_PRE_GA: u8 = 23;
    pub const HASH_METADATA: u8 = 24;
    pub const HASH_LISTPACK_EX: u8 = 25;
}

/// A little-endian two's complement integer of 1 to 8 bytes, as listpack
/// and ziplist store them.
fn int_le(bytes: &[u8]) -> i64 {
    let mut raw = [0u8; 8];
    raw[..bytes.len()].copy_from_slice(bytes);
    let unused = 64 - 8 * bytes.len() as u32;
    ((u64::from_le_bytes(raw) << unused) as i64) >> unused
}

/// DUMP's payload for a value.
pub fn dump(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    encode::object(value, &mut out);
    let version = match value {
        Value::HashWithTtls(_) => HASH_TTL_VERSION,
        _ => WRITE_VERSION,
    };
    seal(out, version)
}

/// The value in a RESTORE payload. Bytes after the object are ignored,
/// as Redis ignores them.
pub fn restore(payload: &[u8]) -> Result<Value, Error> {
    decode::object(&mut reader::Reader::new(open(payload)?))
}

/// Appends the footer: RDB version and checksum.
fn seal(mut body: Vec<u8>, version: u16) -> Vec<u8> {
    body.extend_from_slice(&version.to_le_bytes());
    let crc = CRC64.checksum(&body);
    body.extend_from_slice(&crc.to_le_bytes());
    body
}

/// The body of a payload whose footer checks out.
fn open(payload: &[u8]) -> Result<&[u8], Error> {
    let Some(split) = payload.len().checked_sub(FOOTER) else {
        return Err(Error::Payload);
    };
    let (body, footer) = payload.split_at(split);
    let version = u16::from_le_bytes([footer[0], footer[1]]);
    let mut crc = [0u8; 8];
    crc.copy_from_slice(&footer[2..]);
    if version > READ_VERSION || CRC64.checksum(&payload[..split + 2]) != u64::from_le_bytes(crc) {
        return Err(Error::Payload);
    }
    Ok(body)
}

#[cfg(test)]
mod tests;
