//! Reading a key's bits and writing them back: a string as one record, a
//! bitmap as the fragments a command touched plus its metadata.

use super::{swap_bit_order, Bits, FRAGMENT};
use crate::database::{Database, Record};
use crate::error::{Error, Result};
use basalt_engine::{ColumnFamily, RedisType, WriteBatch};
use std::collections::BTreeSet;

/// The fragment start a bitmap subkey names, if it is one.
fn fragment_start(sub: &[u8]) -> Option<u64> {
    let start: u64 = std::str::from_utf8(sub).ok()?.parse().ok()?;
    start.is_multiple_of(FRAGMENT).then_some(start)
}

/// The fragments holding bytes `first..=last`.
pub(super) fn fragments_of(first: u64, last: u64) -> impl Iterator<Item = u64> {
    first / FRAGMENT..=last / FRAGMENT
}

/// What SETBIT did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetBit {
    pub old: bool,
    /// The value or its length changed (or the key was created): Redis
    /// signals and counts only such writes.
    pub changed: bool,
}

impl Database {
    /// The bits of a string, HyperLogLog or bitmap record; with `only`, just those
    /// fragments of a bitmap are read (the rest read as zeros, so only
    /// they may be changed and written back).
    pub(crate) fn load_bits(
        &self,
        key: &[u8],
        record: Record,
        only: Option<&BTreeSet<u64>>,
    ) -> Result<Bits> {
        match record.metadata.kind {
            RedisType::String => Ok(Bits::from_string(record.rest)),
            // Redis keeps a HyperLogLog as a string and runs the bit
            // commands on it: the same bytes here, and a write makes it
            // that (changed) string, as APPEND and SETRANGE do.
            RedisType::HyperLogLog => Ok(Bits::from_string(self.hll_string(key, &record)?)),
            RedisType::Bitmap => {
                let version = record.metadata.version;
                let mut bits = Bits::fragmented(record.metadata.size);
                let mut add = |start: u64, raw: &[u8]| {
                    if start < bits.len {
                        let mut bytes = raw[..raw.len().min(FRAGMENT as usize)].to_vec();
                        swap_bit_order(&mut bytes);
                        bits.chunks.insert(start, bytes);
                    }
                };
                match only {
                    Some(indexes) => {
                        let keys: Vec<Vec<u8>> = indexes
                            .iter()
                            .map(|i| {
                                self.subkey(key, version, (i * FRAGMENT).to_string().as_bytes())
                            })
                            .collect();
                        let values = self.storage().multi_get(ColumnFamily::Default, &keys);
                        for (i, value) in indexes.iter().zip(values) {
                            if let Some(v) = value? {
                                add(i * FRAGMENT, &v);
                            }
                        }
                    }
                    None => {
                        let prefix_len = self.subkey_prefix(key, version).len();
                        let mut it = self.iter_subkeys(ColumnFamily::Default, key, version);
                        while let (Some(k), Some(v)) = (it.key(), it.value()) {
                            if let Some(start) = fragment_start(&k[prefix_len..]) {
                                add(start, v);
                            }
                            it.next();
                        }
                        it.status().map_err(basalt_engine::EngineError::from)?;
                    }
                }
                Ok(bits)
            }
            _ => Err(Error::WrongType),
        }
    }

    /// The bits of `key`: `None` if it does not exist, WRONGTYPE unless it
    /// is a string (a HyperLogLog included) or a bitmap.
    pub fn read_bits(&self, key: &[u8]) -> Result<Option<Bits>> {
        match self.read(key)? {
            None => Ok(None),
            Some(record) => self.load_bits(key, record, None).map(Some),
        }
    }

    /// A bitmap's bytes as a string, for GET and the string reads Redis
    /// users expect to work on what they see as strings. `limit`: the
    /// largest bitmap materialised (`max-bitmap-to-string-mb`).
    pub(crate) fn bitmap_string(&self, key: &[u8], record: Record, limit: u64) -> Result<Vec<u8>> {
        if record.metadata.size > limit {
            return Err(Error::BitmapTooLarge(limit >> 20));
        }
        let bits = self.load_bits(key, record, None)?;
        Ok(bits.to_vec(0, bits.len()))
    }

    /// Writes `bits` back as `record`'s key: a string whole, a bitmap as
    /// its `touched` fragments (all-zero ones deleted) and its metadata.
    pub(super) fn save_bits(
        &self,
        batch: &mut WriteBatch,
        key: &[u8],
        mut record: Record,
        bits: Bits,
        touched: impl IntoIterator<Item = u64>,
    ) {
        if !bits.fragmented {
            self.put_string(batch, key, record.metadata.expire_ms, &bits.into_string());
            return;
        }
        let version = record.metadata.version;
        for index in touched {
            let start = index * FRAGMENT;
            let bytes = bits.chunks.get(&start).map_or(&[][..], |c| &c[..]);
            self.put_fragment(batch, key, version, start, bytes);
        }
        record.metadata.size = bits.len;
        self.put_record(batch, key, &record);
    }

    /// One fragment in Kvrocks' layout (LSB-first bits), trimmed of its
    /// trailing zero bytes; an all-zero fragment is not stored at all.
    pub(super) fn put_fragment(
        &self,
        batch: &mut WriteBatch,
        key: &[u8],
        version: u64,
        start: u64,
        bytes: &[u8],
    ) {
        let sub = self.subkey(key, version, start.to_string().as_bytes());
        let used = bytes.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
        if used == 0 {
            self.storage().delete(batch, ColumnFamily::Default, &sub);
            return;
        }
        let mut raw = bytes[..used].to_vec();
        swap_bit_order(&mut raw);
        self.storage().put(batch, ColumnFamily::Default, &sub, &raw);
    }

    /// A key's record for a bit write: its own, or a new bitmap (Kvrocks
    /// creates a bitmap, not a string, for SETBIT and BITFIELD on a
    /// missing key). `true` when created.
    fn bits_record(&self, key: &[u8]) -> Result<(Record, bool)> {
        Ok(match self.read(key)? {
            Some(r) => (r, false),
            None => (Record::new_collection(RedisType::Bitmap, 0), true),
        })
    }

    /// GETBIT: 0 past the end or for a missing key.
    pub fn get_bit(&self, key: &[u8], offset: u64) -> Result<bool> {
        let Some(record) = self.read(key)? else {
            return Ok(false);
        };
        let byte = offset / 8;
        let only: BTreeSet<u64> = fragments_of(byte, byte).collect();
        let bits = self.load_bits(key, record, Some(&only))?;
        Ok(bits.byte(byte) & (0x80 >> (offset % 8)) != 0)
    }

    /// SETBIT, on a string in place or on a bitmap's one fragment.
    pub fn set_bit(&self, key: &[u8], offset: u64, on: bool) -> Result<SetBit> {
        let _guard = self.storage().locks().lock(key);
        let (record, created) = self.bits_record(key)?;
        let byte = offset / 8;
        let only: BTreeSet<u64> = fragments_of(byte, byte).collect();
        let mut bits = self.load_bits(key, record.clone(), Some(&only))?;
        let mask = 0x80u8 >> (offset % 8);
        let current = bits.byte(byte);
        let old = current & mask != 0;
        let grows = byte >= bits.len;
        if !bits.fragmented && grows {
            self.check_bits_len(byte + 1)?;
        }
        if !(created || grows || old != on) {
            return Ok(SetBit {
                old,
                changed: false,
            });
        }
        bits.set_byte(byte, if on { current | mask } else { current & !mask });
        let mut batch = WriteBatch::default();
        self.save_bits(&mut batch, key, record, bits, only);
        self.storage().write(batch)?;
        Ok(SetBit { old, changed: true })
    }

    pub(super) fn check_bits_len(&self, len: u64) -> Result<()> {
        if len > self.max_string_len() {
            return Err(Error::StringTooLong);
        }
        Ok(())
    }
}
