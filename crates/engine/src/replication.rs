//! What replication needs from the engine, and nothing else: the WAL
//! batches written since a sequence (the master's feed), applying a
//! master's raw batch as it is (so a replica's sequence numbers equal the
//! master's), and the fence that keeps every other write off a replica.
//!
//! A batch in the WAL is RocksDB's `WriteBatch` representation: an 8-byte
//! little-endian sequence, a 4-byte count of the records, then the
//! records. Kvrocks ships exactly these bytes, so Basalt does too.

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

/// A batch received from a master that is not one (too short for the
/// header, or empty).
#[derive(Debug, thiserror::Error)]
#[error("malformed write batch of {0} bytes")]
pub struct MalformedBatch(pub usize);

/// The record count in a batch's header, if it has one.
pub fn batch_count(data: &[u8]) -> Result<u64, MalformedBatch> {
    let count = data
        .get(8..BATCH_HEADER)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]) as u64)
        .ok_or(MalformedBatch(data.len()))?;
    if count == 0 {
        return Err(MalformedBatch(data.len()));
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
        let count = batch_count(data).map_err(|e| EngineError::Io {
            path: "replication stream".into(),
            source: std::io::Error::other(e),
        })?;
        self.write_unfenced(rocksdb::WriteBatch::from_data(data))?;
        Ok(count)
    }

    /// On a replica: refuse every write but `apply_replicated`.
    pub fn set_fenced(&self, fenced: bool) {
        self.fenced.store(fenced, Ordering::Release);
    }

    pub fn is_fenced(&self) -> bool {
        self.fenced.load(Ordering::Acquire)
    }
}
