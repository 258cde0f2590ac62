//! The metadata value, byte-compatible with Kvrocks:
//!
//! ```text
//! u8 flags       bit7 = 64-bit ("new") encoding, bits 0-3 = RedisType
//! expire         u64 ms (new) | u32 s (old); 0 = no TTL
//! -- only for types that are not single-KV (everything but string/json):
//! u64 version
//! size           u64 (new) | u32 (old)
//! -- then a type-specific trailer (list head/tail, stream ids, ...)
//! ```
//!
//! For a string the bytes after `expire` are the value itself. We always write
//! the new encoding and read both.

use crate::encoding::{get_u32, get_u64, get_u8, put_u64, put_u8};
use crate::version::generate_version;

const ENCODING_64BIT: u8 = 0x80;
const TYPE_MASK: u8 = 0x0f;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum RedisType {
    None = 0,
    String = 1,
    Hash = 2,
    List = 3,
    Set = 4,
    ZSet = 5,
    Bitmap = 6,
    SortedInt = 7,
    Stream = 8,
    BloomFilter = 9,
    Json = 10,
    HyperLogLog = 11,
}

impl RedisType {
    pub fn from_u8(v: u8) -> Option<RedisType> {
        Some(match v {
            0 => RedisType::None,
            1 => RedisType::String,
            2 => RedisType::Hash,
            3 => RedisType::List,
            4 => RedisType::Set,
            5 => RedisType::ZSet,
            6 => RedisType::Bitmap,
            7 => RedisType::SortedInt,
            8 => RedisType::Stream,
            9 => RedisType::BloomFilter,
            10 => RedisType::Json,
            11 => RedisType::HyperLogLog,
            _ => return None,
        })
    }

    /// The name `TYPE` replies with (Kvrocks' names for its own types).
    pub fn name(self) -> &'static str {
        match self {
            RedisType::None => "none",
            RedisType::String => "string",
            RedisType::Hash => "hash",
            RedisType::List => "list",
            RedisType::Set => "set",
            RedisType::ZSet => "zset",
            // Redis users see a bitmap as the string it reads as (Kvrocks
            // answers `bitmap`).
            RedisType::Bitmap => "string",
            RedisType::SortedInt => "sortedint",
            RedisType::Stream => "stream",
            RedisType::BloomFilter => "MBbloom--",
            RedisType::Json => "ReJSON-RL",
            // Redis keeps a HyperLogLog as a string, and Basalt reads and
            // writes it as one (Kvrocks answers `hyperloglog`).
            RedisType::HyperLogLog => "string",
        }
    }

    /// Types stored in the metadata record alone, with no version or subkeys.
    pub fn is_single_kv(self) -> bool {
        matches!(self, RedisType::String | RedisType::Json)
    }

    /// Types that exist even with zero elements.
    pub fn is_emptyable(self) -> bool {
        matches!(
            self,
            RedisType::String
                | RedisType::Json
                | RedisType::Stream
                | RedisType::BloomFilter
                | RedisType::HyperLogLog
        )
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Metadata {
    pub kind: RedisType,
    /// Absolute expiry in Unix milliseconds; 0 = none.
    pub expire_ms: u64,
    /// Generation of the key's subkeys; 0 for single-KV types.
    pub version: u64,
    /// Number of elements (bitmap: logical byte length).
    pub size: u64,
}

/// Why a stored metadata record could not be read.
#[derive(Debug, PartialEq, Eq)]
pub struct CorruptMetadata;

impl Metadata {
    /// Metadata for a freshly created key, with a new version for collections.
    pub fn new(kind: RedisType) -> Metadata {
        Metadata {
            kind,
            expire_ms: 0,
            version: if kind.is_single_kv() {
                0
            } else {
                generate_version()
            },
            size: 0,
        }
    }

    /// Decodes the common fields, returning the rest of the value (the type
    /// trailer, or a string's payload).
    pub fn decode(raw: &[u8]) -> Result<(Metadata, &[u8]), CorruptMetadata> {
        let mut input = raw;
        let flags = get_u8(&mut input).ok_or(CorruptMetadata)?;
        let kind = RedisType::from_u8(flags & TYPE_MASK).ok_or(CorruptMetadata)?;
        let is_64bit = flags & ENCODING_64BIT != 0;
        let expire_ms = if is_64bit {
            get_u64(&mut input).ok_or(CorruptMetadata)?
        } else {
            get_u32(&mut input).ok_or(CorruptMetadata)? as u64 * 1000
        };
        let (version, size) = if kind.is_single_kv() {
            (0, 0)
        } else {
            let version = get_u64(&mut input).ok_or(CorruptMetadata)?;
            let size = if is_64bit {
                get_u64(&mut input).ok_or(CorruptMetadata)?
            } else {
                get_u32(&mut input).ok_or(CorruptMetadata)? as u64
            };
            (version, size)
        };
        Ok((
            Metadata {
                kind,
                expire_ms,
                version,
                size,
            },
            input,
        ))
    }

    /// Reads only the type byte, which is enough to answer "is it a string?".
    pub fn peek_type(raw: &[u8]) -> Option<RedisType> {
        raw.first()
            .and_then(|flags| RedisType::from_u8(flags & TYPE_MASK))
    }

    pub fn encode_into(&self, out: &mut Vec<u8>) {
        put_u8(out, ENCODING_64BIT | (self.kind as u8 & TYPE_MASK));
        put_u64(out, self.expire_ms);
        if !self.kind.is_single_kv() {
            put_u64(out, self.version);
            put_u64(out, self.size);
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(25);
        self.encode_into(&mut out);
        out
    }

    /// A string record: metadata header followed by the payload.
    pub fn encode_string(expire_ms: u64, payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(9 + payload.len());
        Metadata {
            kind: RedisType::String,
            expire_ms,
            version: 0,
            size: 0,
        }
        .encode_into(&mut out);
        out.extend_from_slice(payload);
        out
    }

    /// Kvrocks' `ExpireAt`: a non-emptyable type with no elements is gone,
    /// and a TTL strictly in the past has expired.
    pub fn is_expired_at(&self, now_ms: u64) -> bool {
        if !self.kind.is_emptyable() && self.size == 0 {
            return true;
        }
        self.expire_ms != 0 && self.expire_ms < now_ms
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_golden_bytes() {
        let raw = Metadata::encode_string(0x0102030405060708, b"bar");
        assert_eq!(raw, [0x81, 1, 2, 3, 4, 5, 6, 7, 8, b'b', b'a', b'r']);
        let (m, payload) = Metadata::decode(&raw).unwrap();
        assert_eq!(m.kind, RedisType::String);
        assert_eq!(m.expire_ms, 0x0102030405060708);
        assert_eq!(payload, b"bar");
    }

    #[test]
    fn collection_golden_bytes() {
        let m = Metadata {
            kind: RedisType::Hash,
            expire_ms: 0,
            version: 0x1122334455667788,
            size: 3,
        };
        assert_eq!(
            m.encode(),
            [
                0x82, 0, 0, 0, 0, 0, 0, 0, 0, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0, 0,
                0, 0, 0, 0, 0, 3
            ]
        );
        assert_eq!(Metadata::decode(&m.encode()).unwrap(), (m, &[][..]));
    }

    #[test]
    fn old_32bit_encoding_is_read() {
        // flags without bit7, expire in seconds (u32), version u64, size u32.
        let raw = [0x02, 0, 0, 0, 10, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 5, 0xaa];
        let (m, rest) = Metadata::decode(&raw).unwrap();
        assert_eq!(m.kind, RedisType::Hash);
        assert_eq!(m.expire_ms, 10_000);
        assert_eq!(m.version, 7);
        assert_eq!(m.size, 5);
        assert_eq!(rest, &[0xaa]);
        let raw_string = [0x01, 0, 0, 0, 0, b'v'];
        let (m, payload) = Metadata::decode(&raw_string).unwrap();
        assert_eq!(m.kind, RedisType::String);
        assert_eq!(payload, b"v");
    }

    #[test]
    fn expiry_rules() {
        let mut m = Metadata::new(RedisType::String);
        assert!(!m.is_expired_at(u64::MAX));
        m.expire_ms = 100;
        assert!(!m.is_expired_at(100));
        assert!(m.is_expired_at(101));
        let empty_hash = Metadata::new(RedisType::Hash);
        assert!(empty_hash.is_expired_at(0));
    }

    #[test]
    fn corrupt_records_are_errors() {
        assert_eq!(Metadata::decode(&[]), Err(CorruptMetadata));
        assert_eq!(Metadata::decode(&[0x8f, 0]), Err(CorruptMetadata));
        assert_eq!(
            Metadata::decode(&[0x82, 0, 0, 0, 0, 0, 0, 0, 0, 1]),
            Err(CorruptMetadata)
        );
    }
}
