//! Key layouts shared by every column family.
//!
//! Metadata key: `u8 ns_len | ns | [u16 slot] | user_key`.
//! Subkey (Kvrocks' `InternalKey`):
//! `u8 ns_len | ns | [u16 slot] | u32 key_len | user_key | u64 version | subkey`.
//! The slot is present only in cluster mode, so a data directory is tied to
//! the mode it was written in, exactly as in Kvrocks.

use crate::encoding::{get_u16, get_u32, get_u64, get_u8, put_u16, put_u32, put_u64};

/// Kvrocks' default namespace, used for every key written without a token.
pub const DEFAULT_NAMESPACE: &[u8] = b"__namespace";

/// CRC16 (XMODEM) of the key or its `{hashtag}`, modulo 16384: the Redis
/// Cluster slot. An empty `{}` hashes the whole key.
pub fn key_slot(key: &[u8]) -> u16 {
    let hashed = hash_tag(key).unwrap_or(key);
    crc16(hashed) & 0x3fff
}

fn hash_tag(key: &[u8]) -> Option<&[u8]> {
    let open = key.iter().position(|&b| b == b'{')?;
    let close = key[open + 1..].iter().position(|&b| b == b'}')?;
    if close == 0 {
        return None;
    }
    Some(&key[open + 1..open + 1 + close])
}

fn crc16(data: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &byte in data {
        crc ^= (byte as u16) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
}

/// How keys are prefixed: the namespace and whether slots are encoded.
#[derive(Clone, Debug)]
pub struct KeyPrefix {
    namespace: Vec<u8>,
    cluster: bool,
}

impl KeyPrefix {
    pub fn new(namespace: &[u8], cluster: bool) -> Self {
        assert!(namespace.len() <= u8::MAX as usize, "namespace too long");
        KeyPrefix {
            namespace: namespace.to_vec(),
            cluster,
        }
    }

    pub fn namespace(&self) -> &[u8] {
        &self.namespace
    }

    pub fn cluster(&self) -> bool {
        self.cluster
    }

    fn put_namespace(&self, out: &mut Vec<u8>, user_key: &[u8]) {
        out.push(self.namespace.len() as u8);
        out.extend_from_slice(&self.namespace);
        if self.cluster {
            put_u16(out, key_slot(user_key));
        }
    }

    /// The key of `user_key`'s record in the metadata column family.
    pub fn metadata_key(&self, user_key: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(1 + self.namespace.len() + 2 + user_key.len());
        self.put_namespace(&mut out, user_key);
        out.extend_from_slice(user_key);
        out
    }

    /// The prefix shared by every metadata key of this namespace.
    pub fn namespace_prefix(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(1 + self.namespace.len());
        out.push(self.namespace.len() as u8);
        out.extend_from_slice(&self.namespace);
        out
    }

    /// The prefix shared by every metadata key of one hash slot, in
    /// cluster mode (where a slot's keys are one contiguous range).
    pub fn slot_prefix(&self, slot: u16) -> Option<Vec<u8>> {
        if !self.cluster {
            return None;
        }
        let mut out = self.namespace_prefix();
        put_u16(&mut out, slot);
        Some(out)
    }

    /// Splits a metadata-CF key of this namespace back into the user key.
    pub fn user_key_of<'a>(&self, metadata_key: &'a [u8]) -> Option<&'a [u8]> {
        let mut input = metadata_key;
        let ns_len = get_u8(&mut input)? as usize;
        if input.len() < ns_len || input[..ns_len] != self.namespace[..] {
            return None;
        }
        input = &input[ns_len..];
        if self.cluster {
            get_u16(&mut input)?;
        }
        Some(input)
    }

    /// The prefix shared by all subkeys of one generation of a key.
    pub fn subkey_prefix(&self, user_key: &[u8], version: u64) -> Vec<u8> {
        let mut out =
            Vec::with_capacity(1 + self.namespace.len() + 2 + 4 + user_key.len() + 8 + 16);
        self.put_namespace(&mut out, user_key);
        put_u32(&mut out, user_key.len() as u32);
        out.extend_from_slice(user_key);
        put_u64(&mut out, version);
        out
    }

    pub fn subkey(&self, user_key: &[u8], version: u64, sub_key: &[u8]) -> Vec<u8> {
        let mut out = self.subkey_prefix(user_key, version);
        out.extend_from_slice(sub_key);
        out
    }
}

/// A decoded subkey; borrowed from the raw RocksDB key.
#[derive(Debug, PartialEq, Eq)]
pub struct InternalKey<'a> {
    pub namespace: &'a [u8],
    pub slot: Option<u16>,
    pub user_key: &'a [u8],
    pub version: u64,
    pub sub_key: &'a [u8],
}

impl<'a> InternalKey<'a> {
    pub fn decode(raw: &'a [u8], cluster: bool) -> Option<Self> {
        let mut input = raw;
        let ns_len = get_u8(&mut input)? as usize;
        if input.len() < ns_len {
            return None;
        }
        let (namespace, rest) = input.split_at(ns_len);
        input = rest;
        let slot = if cluster {
            Some(get_u16(&mut input)?)
        } else {
            None
        };
        let key_len = get_u32(&mut input)? as usize;
        if input.len() < key_len {
            return None;
        }
        let (user_key, rest) = input.split_at(key_len);
        input = rest;
        let version = get_u64(&mut input)?;
        Some(InternalKey {
            namespace,
            slot,
            user_key,
            version,
            sub_key: input,
        })
    }

    /// The metadata-CF key of the user key this subkey belongs to.
    pub fn metadata_key(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(1 + self.namespace.len() + 2 + self.user_key.len());
        out.push(self.namespace.len() as u8);
        out.extend_from_slice(self.namespace);
        if let Some(slot) = self.slot {
            put_u16(&mut out, slot);
        }
        out.extend_from_slice(self.user_key);
        out
    }
}

/// The smallest key greater than every key starting with `prefix`, used as an
/// exclusive upper bound for prefix scans. `None` when no such key exists
/// (the prefix is all 0xff).
pub fn prefix_upper_bound(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut bound = prefix.to_vec();
    while let Some(last) = bound.pop() {
        if last != 0xff {
            bound.push(last + 1);
            return Some(bound);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn metadata_key_golden_bytes() {
        let prefix = KeyPrefix::new(DEFAULT_NAMESPACE, false);
        let mut expected = vec![11u8];
        expected.extend_from_slice(b"__namespace");
        expected.extend_from_slice(b"foo");
        assert_eq!(prefix.metadata_key(b"foo"), expected);
        assert_eq!(prefix.user_key_of(&expected), Some(&b"foo"[..]));
    }

    #[test]
    fn cluster_metadata_key_has_slot() {
        let prefix = KeyPrefix::new(DEFAULT_NAMESPACE, true);
        let raw = prefix.metadata_key(b"foo");
        // CLUSTER KEYSLOT foo = 12182 = 0x2f96
        assert_eq!(&raw[12..14], &[0x2f, 0x96]);
        assert_eq!(prefix.user_key_of(&raw), Some(&b"foo"[..]));
    }

    #[test]
    fn key_slots_match_redis() {
        assert_eq!(key_slot(b"foo"), 12182);
        assert_eq!(key_slot(b"bar"), 5061);
        assert_eq!(key_slot(b"{user1000}.following"), key_slot(b"user1000"));
        assert_eq!(key_slot(b"foo{}{bar}"), key_slot(b"foo{}{bar}"));
        assert_eq!(key_slot(b"123456789"), 0x31c3 & 0x3fff);
    }

    #[test]
    fn subkey_golden_bytes() {
        let prefix = KeyPrefix::new(b"ns", false);
        let raw = prefix.subkey(b"key", 0x0102030405060708, b"field");
        let expected: Vec<u8> = [
            &[2u8][..],
            b"ns",
            &[0, 0, 0, 3],
            b"key",
            &[1, 2, 3, 4, 5, 6, 7, 8],
            b"field",
        ]
        .concat();
        assert_eq!(raw, expected);
        let decoded = InternalKey::decode(&raw, false).unwrap();
        assert_eq!(decoded.user_key, b"key");
        assert_eq!(decoded.version, 0x0102030405060708);
        assert_eq!(decoded.sub_key, b"field");
        assert_eq!(decoded.metadata_key(), prefix.metadata_key(b"key"));
    }

    #[test]
    fn upper_bound() {
        assert_eq!(prefix_upper_bound(b"ab"), Some(b"ac".to_vec()));
        assert_eq!(prefix_upper_bound(&[1, 0xff]), Some(vec![2]));
        assert_eq!(prefix_upper_bound(&[0xff, 0xff]), None);
    }

    proptest! {
        #[test]
        fn subkeys_of_a_generation_sort_by_subkey(key: Vec<u8>, version: u64, a: Vec<u8>, b: Vec<u8>) {
            let prefix = KeyPrefix::new(DEFAULT_NAMESPACE, false);
            let ka = prefix.subkey(&key, version, &a);
            let kb = prefix.subkey(&key, version, &b);
            prop_assert_eq!(a.cmp(&b), ka.cmp(&kb));
        }

        #[test]
        fn internal_key_round_trips(key: Vec<u8>, version: u64, sub: Vec<u8>, cluster: bool) {
            let prefix = KeyPrefix::new(DEFAULT_NAMESPACE, cluster);
            let raw = prefix.subkey(&key, version, &sub);
            let d = InternalKey::decode(&raw, cluster).unwrap();
            prop_assert_eq!(d.user_key, &key[..]);
            prop_assert_eq!(d.version, version);
            prop_assert_eq!(d.sub_key, &sub[..]);
        }

        #[test]
        fn decoding_garbage_never_panics(raw: Vec<u8>, cluster: bool) {
            let _ = InternalKey::decode(&raw, cluster);
        }
    }
}
