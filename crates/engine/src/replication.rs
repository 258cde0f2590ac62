//! What replication needs from the engine, and nothing else: the WAL
//! batches written since a sequence (the master's feed), applying a
//! master's raw batch as it is (so a replica's sequence numbers equal the
//! master's), and the fence that keeps every other write off a replica.
//!
//! A batch in the WAL is RocksDB's `WriteBatch` representation: an 8-byte
//! little-endian sequence, a 4-byte count of the records, then the
//! records. Kvrocks ships exactly these bytes, so Basalt does too.

use crate::column_family::ColumnFamily;
use crate::error::EngineError;
use crate::storage::Storage;
use std::sync::atomic::Ordering;

/// The header of a WriteBatch: sequence (8 bytes) and count (4 bytes).
const BATCH_HEADER: usize = 12;

/// One write batch as the WAL holds it.
pub struct WalBatch {
    /// The sequence number of its first record.
    pub sequence: u64,
    /// How many sequence numbers it uses (its record count).
    pub count: u64,
    pub data: Vec<u8>,
}

impl WalBatch {
    /// The sequence that follows this batch.
    pub fn next_sequence(&self) -> u64 {
        self.sequence + self.count
    }
}

/// The WAL from a sequence on. It ends at the newest batch written when it
/// was opened (or read since); open another to see later ones.
pub struct WalBatches {
    inner: rocksdb::DBWALIterator,
}

impl Iterator for WalBatches {
    type Item = Result<WalBatch, EngineError>;

    fn next(&mut self) -> Option<Self::Item> {
        Some(match self.inner.next()? {
            Ok((sequence, batch)) => Ok(WalBatch {
                sequence,
                count: batch.len() as u64,
                data: batch.data().to_vec(),
            }),
            Err(e) => Err(e.into()),
        })
    }
}

/// A batch received from a master that is not one RocksDB would take
/// safely: RocksDB writes a batch to the WAL before it parses it into the
/// memtables, so a malformed one could poison the WAL or put the database
/// in its read-only error state. Hence the check before it is written.
#[derive(Debug, thiserror::Error)]
#[error("malformed write batch: {0}")]
pub struct MalformedBatch(pub String);

fn malformed(why: impl Into<String>) -> MalformedBatch {
    MalformedBatch(why.into())
}

/// Reads RocksDB's varint32.
pub(crate) fn varint32(data: &[u8], at: &mut usize) -> Result<u32, MalformedBatch> {
    let mut value: u32 = 0;
    for shift in (0..35).step_by(7) {
        let byte = *data.get(*at).ok_or_else(|| malformed("truncated varint"))?;
        *at += 1;
        value |= u32::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(malformed("varint too long"))
}

/// A length-prefixed slice.
pub(crate) fn length_prefixed<'a>(
    data: &'a [u8],
    at: &mut usize,
) -> Result<&'a [u8], MalformedBatch> {
    let len = varint32(data, at)? as usize;
    if data.len() - *at < len {
        return Err(malformed("truncated key or value"));
    }
    let slice = &data[*at..*at + len];
    *at += len;
    Ok(slice)
}

/// Checks a batch's records (the kinds Kvrocks and Basalt write: puts,
/// deletes, range deletes, merges, log data) and that they name only
/// column families `0..families`; returns its record count.
pub fn check_batch(data: &[u8], families: u32) -> Result<u64, MalformedBatch> {
    walk_batch(data, families, |_, _| {})
}

/// `check_batch`, calling `key` with the column family id and key of each
/// put, delete and merge (not range deletes).
fn walk_batch(
    data: &[u8],
    families: u32,
    mut key: impl FnMut(u32, &[u8]),
) -> Result<u64, MalformedBatch> {
    let header = data
        .get(..BATCH_HEADER)
        .ok_or_else(|| malformed("no header"))?;
    let count = u32::from_le_bytes([header[8], header[9], header[10], header[11]]) as u64;
    if count == 0 {
        return Err(malformed("no records"));
    }
    let mut at = BATCH_HEADER;
    let mut found = 0u64;
    while at < data.len() {
        let tag = data[at];
        at += 1;
        // (has a column family id, has a value, counts as a record)
        let (with_cf, with_value, counted) = match tag {
            0x0 | 0x7 => (false, false, true),      // delete, single delete
            0x1 | 0x2 | 0xF => (false, true, true), // put, merge, range delete
            0x4 | 0x8 => (true, false, true),       // the same in a family
            0x5 | 0x6 | 0xE => (true, true, true),
            0x3 => (false, false, false), // log data
            0xD => continue,              // no-op
            other => return Err(malformed(format!("record type {other:#x}"))),
        };
        let cf = if with_cf { varint32(data, &mut at)? } else { 0 };
        if cf >= families {
            return Err(malformed("unknown column family"));
        }
        let k = length_prefixed(data, &mut at)?;
        if with_value {
            length_prefixed(data, &mut at)?;
        }
        if counted && tag != 0xF && tag != 0xE {
            key(cf, k);
        }
        found += u64::from(counted);
    }
    if found != count {
        return Err(malformed(format!("{found} records, header says {count}")));
    }
    Ok(count)
}

impl Storage {
    /// The batches that start at `sequence` or later, in order. A batch
    /// that starts before `sequence` and contains it is left out, so a
    /// caller that finds a first batch starting after `sequence` knows
    /// the WAL has no batch boundary there.
    pub fn wal_since(&self, sequence: u64) -> Result<WalBatches, EngineError> {
        // The rocksdb crate yields only batches starting after the number
        // it is given (RocksDB itself starts at the batch containing it).
        Ok(WalBatches {
            inner: self.db().get_updates_since(sequence.saturating_sub(1))?,
        })
    }

    /// Whether the WAL still holds a batch that starts exactly at
    /// `sequence`, or `sequence` is the next one to be written: a replica
    /// asking for it can resume without a full sync.
    pub fn wal_starts_at(&self, sequence: u64) -> bool {
        let latest = self.latest_sequence_number();
        if sequence == latest + 1 {
            return true;
        }
        if sequence == 0 || sequence > latest {
            return false;
        }
        match self.wal_since(sequence).map(|mut it| it.next()) {
            Ok(Some(Ok(first))) => first.sequence == sequence,
            _ => false,
        }
    }

    /// Writes a batch received from the master as it is, past the fence.
    /// RocksDB gives it the next sequence numbers, which are the master's
    /// as long as the replica applies every batch in order.
    pub fn apply_replicated(&self, data: &[u8]) -> Result<u64, EngineError> {
        let count = check_batch(data, self.families).map_err(|e| EngineError::Io {
            path: "replication stream".into(),
            source: std::io::Error::other(e),
        })?;
        self.write_unfenced(rocksdb::WriteBatch::from_data(data))?;
        Ok(count)
    }

    /// The user keys a batch changes (from its metadata and subkey
    /// records), each once, for the caches built on reads: WATCH and
    /// client-side caching on a replica.
    pub fn batch_user_keys(&self, data: &[u8]) -> Vec<Vec<u8>> {
        let mut keys = Vec::new();
        let _ = walk_batch(data, self.families, |cf, key| {
            let Some(cf) = ColumnFamily::ALL.get(cf as usize) else {
                return;
            };
            if let Some(Some(user_key)) = self.user_key_of(*cf, key) {
                if !keys.contains(&user_key) {
                    keys.push(user_key);
                }
            }
        });
        keys
    }

    /// On a replica: refuse every write but `apply_replicated`.
    pub fn set_fenced(&self, fenced: bool) {
        self.fenced.store(fenced, Ordering::Release);
    }

    pub fn is_fenced(&self) -> bool {
        self.fenced.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cf_batch(families: usize) -> (tempfile::TempDir, Vec<u8>) {
        let dir = tempfile::tempdir().unwrap();
        let mut opts = rocksdb::Options::default();
        opts.create_if_missing(true);
        opts.create_missing_column_families(true);
        let names: Vec<String> = (1..families).map(|i| format!("cf{i}")).collect();
        let db = rocksdb::DB::open_cf(&opts, dir.path(), &names).unwrap();
        let cf = db.cf_handle("cf1").unwrap();
        let mut b = rocksdb::WriteBatch::default();
        b.put_cf(&cf, b"k", b"v");
        b.delete_cf(&cf, b"gone");
        b.delete_range_cf(&cf, b"a", b"b");
        b.put_log_data(b"replid");
        b.put(b"plain", b"1");
        b.merge_cf(&cf, b"m", b"1");
        let data = b.data().to_vec();
        drop(b);
        drop(db);
        (dir, data)
    }

    #[test]
    fn real_batches_pass_and_damaged_ones_do_not() {
        let (_dir, data) = cf_batch(3);
        assert_eq!(check_batch(&data, 3).unwrap(), 5, "log data is no record");
        assert!(check_batch(&data, 1).is_err(), "family 1 unknown there");
        for cut in 1..data.len() {
            assert!(check_batch(&data[..cut], 3).is_err(), "cut at {cut}");
        }
        let mut wrong_count = data.clone();
        wrong_count[8] = 9;
        assert!(check_batch(&wrong_count, 3).is_err());
        let mut bad_tag = data.clone();
        bad_tag[12] = 0x16;
        assert!(check_batch(&bad_tag, 3).is_err());
        assert!(check_batch(b"", 3).is_err());
        assert!(check_batch(&[0u8; 12], 3).is_err());
        // Arbitrary bytes never panic.
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for len in 12..400 {
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x as u8
                })
                .collect();
            let _ = check_batch(&bytes, 7);
        }
    }
}
