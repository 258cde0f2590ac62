//! What slot migration needs from the engine, and nothing else: the raw
//! records of a set of hash slots under one snapshot, the WAL's records
//! that fall in those slots, raw batches in RocksDB's `WriteBatch` format
//! (what Kvrocks' `APPLYBATCH` takes), and the deletion of slots' data.
//!
//! In cluster mode every key of every column family that holds user data
//! starts with `ns_len | ns | slot (u16, big endian)`, so a slot range is
//! one contiguous key range in each family, and moving those bytes moves
//! every type with its expiry (the metadata record holds it) without
//! knowing any type.

use crate::column_family::ColumnFamily;
use crate::error::EngineError;
use crate::replication::{check_batch, length_prefixed, varint32, MalformedBatch};
use crate::storage::Storage;
use rocksdb::ReadOptions;

/// The families holding user keys: metadata and the subkeys of each type.
pub const MIGRATED_FAMILIES: [ColumnFamily; 4] = [
    ColumnFamily::Metadata,
    ColumnFamily::Default,
    ColumnFamily::ZSetScore,
    ColumnFamily::Stream,
];

/// Inclusive hash slot ranges of one namespace, as key ranges.
#[derive(Clone, Debug)]
pub struct SlotKeyRanges {
    namespace_prefix: Vec<u8>,
    ranges: Vec<(u16, u16)>,
}

impl SlotKeyRanges {
    pub fn new(storage: &Storage, ranges: &[(u16, u16)]) -> SlotKeyRanges {
        SlotKeyRanges {
            namespace_prefix: storage.prefix().namespace_prefix(),
            ranges: ranges.to_vec(),
        }
    }

    /// The first key of `slot` (slots end at 16383, so 16384 bounds the
    /// last one).
    fn slot_key(&self, slot: u16) -> Vec<u8> {
        let mut k = self.namespace_prefix.clone();
        k.extend_from_slice(&slot.to_be_bytes());
        k
    }

    /// `[lower, upper)` of each range.
    pub fn bounds(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        self.ranges
            .iter()
            .map(|&(a, b)| (self.slot_key(a), self.slot_key(b.saturating_add(1))))
            .collect()
    }

    /// The slot a key of any user-data family is in, if it is of this
    /// namespace.
    fn slot_of(&self, key: &[u8]) -> Option<u16> {
        let rest = key.strip_prefix(&self.namespace_prefix[..])?;
        Some(u16::from_be_bytes([*rest.first()?, *rest.get(1)?]))
    }

    pub fn contains_slot(&self, slot: u16) -> bool {
        self.ranges.iter().any(|&(a, b)| a <= slot && slot <= b)
    }

    pub fn contains(&self, key: &[u8]) -> bool {
        self.slot_of(key).is_some_and(|s| self.contains_slot(s))
    }

    /// Whether `[from, to)` overlaps any of the ranges.
    fn overlaps(&self, from: &[u8], to: &[u8]) -> bool {
        self.bounds()
            .iter()
            .any(|(lo, hi)| from < hi.as_slice() && to > lo.as_slice())
    }

    /// Whether `[from, to)` stays inside one slot of the ranges (one key's
    /// elements, as LTRIM or the reclaimer delete them).
    fn within_one_slot(&self, from: &[u8], to: &[u8]) -> bool {
        let Some(slot) = self.slot_of(from) else {
            return false;
        };
        if !self.contains_slot(slot) {
            return false;
        }
        self.slot_of(to) == Some(slot) || to == self.slot_key(slot.saturating_add(1))
    }
}

/// A `WriteBatch` built record by record, in RocksDB's representation:
/// an 8-byte sequence (0: the writer assigns it), a 4-byte count, records.
#[derive(Default)]
pub struct RawBatch {
    records: Vec<u8>,
    count: u32,
}

fn put_varint32(out: &mut Vec<u8>, mut v: u32) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_length_prefixed(out: &mut Vec<u8>, data: &[u8]) {
    put_varint32(out, data.len() as u32);
    out.extend_from_slice(data);
}

impl RawBatch {
    /// A put in `cf` (whose id is its index, as Basalt and Kvrocks create
    /// them).
    pub fn put(&mut self, cf: ColumnFamily, key: &[u8], value: &[u8]) {
        let id = cf.index() as u32;
        if id == 0 {
            self.records.push(0x1);
        } else {
            self.records.push(0x5);
            put_varint32(&mut self.records, id);
        }
        put_length_prefixed(&mut self.records, key);
        put_length_prefixed(&mut self.records, value);
        self.count += 1;
    }

    pub fn count(&self) -> u32 {
        self.count
    }

    /// Adds `other`'s records after these.
    pub fn append(&mut self, other: RawBatch) {
        self.records.extend_from_slice(&other.records);
        self.count += other.count;
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The size of the records.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn into_data(self) -> Vec<u8> {
        let mut data = Vec::with_capacity(12 + self.records.len());
        data.extend_from_slice(&0u64.to_le_bytes());
        data.extend_from_slice(&self.count.to_le_bytes());
        data.extend_from_slice(&self.records);
        data
    }
}

/// The records of a WAL batch that fall in some slots.
pub struct SlotRecords {
    pub batch: RawBatch,
    /// A range deletion reached past one key into the slots: FLUSHDB or
    /// FLUSHALL ran.
    pub flushed: bool,
}

/// Keeps the records of `data` (a WAL batch) that change keys of `ranges`
/// in the user-data families, verbatim.
pub fn slot_records(
    data: &[u8],
    families: u32,
    ranges: &SlotKeyRanges,
) -> Result<SlotRecords, MalformedBatch> {
    check_batch(data, families)?;
    let migrated: Vec<u32> = MIGRATED_FAMILIES
        .iter()
        .map(|cf| cf.index() as u32)
        .collect();
    let mut out = SlotRecords {
        batch: RawBatch::default(),
        flushed: false,
    };
    let mut at = 12;
    while at < data.len() {
        let start = at;
        let tag = data[at];
        at += 1;
        let (with_cf, with_value) = match tag {
            0x0 | 0x7 => (false, false),
            0x1 | 0x2 | 0xF => (false, true),
            0x4 | 0x8 => (true, false),
            0x5 | 0x6 | 0xE => (true, true),
            0x3 => (false, false),
            _ => continue, // no-op records (check_batch refused the rest)
        };
        let cf = if with_cf { varint32(data, &mut at)? } else { 0 };
        let key = length_prefixed(data, &mut at)?;
        let value = if with_value {
            Some(length_prefixed(data, &mut at)?)
        } else {
            None
        };
        if tag == 0x3 || !migrated.contains(&cf) {
            continue;
        }
        let keep = if tag == 0xF || tag == 0xE {
            let to = value.unwrap_or_default();
            if ranges.within_one_slot(key, to) {
                true
            } else {
                out.flushed |= ranges.overlaps(key, to);
                false
            }
        } else {
            ranges.contains(key)
        };
        if keep {
            out.batch.records.extend_from_slice(&data[start..at]);
            out.batch.count += 1;
        }
    }
    Ok(out)
}

/// A consistent view of the database for a migration's first copy.
pub struct SlotSnapshot<'a> {
    storage: &'a Storage,
    snapshot: rocksdb::SnapshotWithThreadMode<'a, rocksdb::DB>,
    /// Every write up to this sequence is in the snapshot (later ones
    /// may be too: replaying them again leaves the same data).
    pub sequence: u64,
}

impl Storage {
    pub fn slot_snapshot(&self) -> SlotSnapshot<'_> {
        let sequence = self.latest_sequence_number();
        SlotSnapshot {
            storage: self,
            snapshot: self.db().snapshot(),
            sequence,
        }
    }

    /// Writes a raw batch (a migration's or Kvrocks' `APPLYBATCH`), after
    /// checking it as a replicated one is checked; returns its records.
    pub fn apply_raw_batch(&self, data: &[u8]) -> Result<u64, EngineError> {
        let count = check_batch(data, self.families).map_err(|e| EngineError::Io {
            path: "raw batch".into(),
            source: std::io::Error::other(e),
        })?;
        if self.is_fenced() {
            return Err(EngineError::ReplicaReadOnly);
        }
        self.write_unfenced(rocksdb::WriteBatch::from_data(data))?;
        Ok(count)
    }

    /// Deletes every key of the slot ranges, in every user-data family.
    pub fn delete_slots(&self, ranges: &SlotKeyRanges) -> Result<(), EngineError> {
        let mut batch = rocksdb::WriteBatch::default();
        for (lower, upper) in ranges.bounds() {
            for cf in MIGRATED_FAMILIES {
                batch.delete_range_cf(self.handle(cf), &lower, &upper);
            }
        }
        if self.is_fenced() {
            return Err(EngineError::ReplicaReadOnly);
        }
        self.write_unfenced(batch)
    }

    /// The number of families (their ids are `0..families`).
    pub fn family_count(&self) -> u32 {
        self.families
    }
}

impl SlotSnapshot<'_> {
    /// Calls `f` with every record of the slot ranges in the user-data
    /// families, metadata first; stops early when `f` returns false.
    pub fn scan(
        &self,
        ranges: &SlotKeyRanges,
        mut f: impl FnMut(ColumnFamily, &[u8], &[u8]) -> bool,
    ) -> Result<(), EngineError> {
        for cf in MIGRATED_FAMILIES {
            for (lower, upper) in ranges.bounds() {
                let mut ro = ReadOptions::default();
                ro.fill_cache(false);
                ro.set_iterate_lower_bound(lower.clone());
                ro.set_iterate_upper_bound(upper);
                let mut it = self
                    .snapshot
                    .raw_iterator_cf_opt(self.storage.handle(cf), ro);
                it.seek(&lower);
                while it.valid() {
                    let (Some(k), Some(v)) = (it.key(), it.value()) else {
                        break;
                    };
                    if !f(cf, k, v) {
                        return Ok(());
                    }
                    it.next();
                }
                it.status()?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ranges() -> SlotKeyRanges {
        SlotKeyRanges {
            namespace_prefix: b"\x02ns".to_vec(),
            ranges: vec![(10, 20), (100, 100)],
        }
    }

    fn key(slot: u16, rest: &[u8]) -> Vec<u8> {
        let mut k = b"\x02ns".to_vec();
        k.extend_from_slice(&slot.to_be_bytes());
        k.extend_from_slice(rest);
        k
    }

    fn range_delete(batch: &mut RawBatch, cf: ColumnFamily, from: &[u8], to: &[u8]) {
        batch.records.push(0xE);
        put_varint32(&mut batch.records, cf.index() as u32);
        put_length_prefixed(&mut batch.records, from);
        put_length_prefixed(&mut batch.records, to);
        batch.count += 1;
    }

    #[test]
    fn keeps_the_records_of_the_slots_in_user_data_families() {
        let mut b = RawBatch::default();
        b.put(ColumnFamily::Metadata, &key(10, b"a"), b"m");
        b.put(ColumnFamily::Default, &key(9, b"b"), b"x");
        b.put(ColumnFamily::Default, &key(20, b"c"), b"y");
        b.put(ColumnFamily::Stream, &key(100, b"d"), b"z");
        b.put(ColumnFamily::Propagate, &key(10, b"e"), b"p");
        b.put(
            ColumnFamily::Metadata,
            b"\x02nx\x00\x0af",
            b"other namespace",
        );
        // One key's elements (LTRIM) stay inside slot 15.
        range_delete(
            &mut b,
            ColumnFamily::Default,
            &key(15, b"k1"),
            &key(15, b"k2"),
        );
        let out = slot_records(&b.into_data(), 7, &ranges()).unwrap();
        assert!(!out.flushed);
        assert_eq!(out.batch.count(), 4);
        let again = slot_records(&out.batch.into_data(), 7, &ranges()).unwrap();
        assert_eq!(again.batch.count(), 4);
    }

    #[test]
    fn a_range_deletion_over_the_slots_is_a_flush() {
        let mut b = RawBatch::default();
        range_delete(&mut b, ColumnFamily::Metadata, b"\x02ns", b"\x02nt");
        let out = slot_records(&b.into_data(), 7, &ranges()).unwrap();
        assert!(out.flushed);
        assert!(out.batch.is_empty());

        let mut b = RawBatch::default();
        range_delete(&mut b, ColumnFamily::Metadata, &key(30, b""), &key(40, b""));
        let out = slot_records(&b.into_data(), 7, &ranges()).unwrap();
        assert!(!out.flushed, "a range outside the slots is not ours");
    }

    #[test]
    fn bounds_cover_whole_slots() {
        let r = ranges();
        assert_eq!(r.bounds()[0], (key(10, b""), key(21, b"")));
        assert!(r.contains(&key(20, b"\xff\xff")));
        assert!(!r.contains(&key(21, b"")));
        assert!(!r.contains(b"\x02n"));
    }
}
