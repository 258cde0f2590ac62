//! What replication needs from the engine, and nothing else: the WAL
//! batches written since a sequence (the master's feed), applying a
//! master's raw batch as it is (so a replica's sequence numbers equal the
//! master's), and the fence that keeps every other write off a replica.
//!
//! A batch in the WAL is RocksDB's `WriteBatch` representation: an 8-byte
//! little-endian sequence, a 4-byte count of the records, then the
//! records. Kvrocks ships exactly these bytes, so Basalt does too.
//!
//! The replication id (Kvrocks #462/#538): a master tags every batch it
//! writes with a trailing log-data record `r <16 chars of [0-9A-Z]>` (the
//! bytes Kvrocks' `ServerLogData` encodes), and keeps the id under
//! `replication_id_` in the propagate column family. A promotion (and a
//! master's start) shifts to a new random id, so two nodes whose
//! histories split carry different ids from the split on, and a replica's
//! `PSYNC <id of its last batch> <next>` can be checked against the id of
//! the master's batch at `next - 1`.

use crate::column_family::ColumnFamily;
use crate::error::EngineError;
use crate::storage::Storage;
use std::sync::atomic::Ordering;

/// Where the current id is kept (propagate column family), as Kvrocks.
pub const REPLICATION_ID_KEY: &[u8] = b"replication_id_";
/// Kvrocks' `kReplIdLength`.
pub const REPLICATION_ID_LEN: usize = 16;
/// Kvrocks' `kReplIdTag`: log data `r <id>`.
const REPLICATION_ID_TAG: u8 = b'r';

/// The log-data record carrying `id`.
pub fn replication_id_record(id: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(2 + id.len());
    out.push(REPLICATION_ID_TAG);
    out.push(b' ');
    out.extend_from_slice(id.as_bytes());
    out
}

/// The id in a log-data record, if it is one (Kvrocks' `ServerLogData::Decode`).
fn replication_id_of_record(blob: &[u8]) -> Option<String> {
    if blob.len() == 2 + REPLICATION_ID_LEN && blob[0] == REPLICATION_ID_TAG {
        return String::from_utf8(blob[2..].to_vec()).ok();
    }
    None
}

/// A new random id: 16 characters of `[0-9A-Z]`.
pub fn new_replication_id() -> String {
    const CHARSET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    (0..REPLICATION_ID_LEN)
        .map(|_| CHARSET[(rand::random::<u64>() % CHARSET.len() as u64) as usize] as char)
        .collect()
}

/// The replication id a batch carries (its last `r` log-data record).
pub fn replication_id_in_batch(data: &[u8]) -> Option<String> {
    let mut found = None;
    let _ = walk_batch(data, u32::MAX, |record| {
        if let BatchRecord::LogData(blob) = record {
            if let Some(id) = replication_id_of_record(blob) {
                found = Some(id);
            }
        }
    });
    found
}

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
    /// Yielded first: the tail of a batch cut at a writer's boundary
    /// (`Storage::wal_from`).
    head: Option<WalBatch>,
    inner: rocksdb::DBWALIterator,
}

impl Iterator for WalBatches {
    type Item = Result<WalBatch, EngineError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(head) = self.head.take() {
            return Some(Ok(head));
        }
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
    walk_batch(data, families, |_| {})
}

/// One record of a write batch, as a replica looks at what a batch did
/// beyond its data (see `basalt-replication`'s `effects`).
#[derive(Debug, PartialEq, Eq)]
pub enum BatchRecord<'a> {
    /// A put or a merge.
    Put {
        cf: ColumnFamily,
        key: &'a [u8],
        value: &'a [u8],
    },
    Delete {
        cf: ColumnFamily,
        key: &'a [u8],
    },
    DeleteRange {
        cf: ColumnFamily,
        from: &'a [u8],
        to: &'a [u8],
    },
    LogData(&'a [u8]),
}

/// The records of a well-formed batch, in order (nothing for a malformed
/// one: `apply_replicated` refuses those anyway).
pub fn batch_records(data: &[u8]) -> Vec<BatchRecord<'_>> {
    let mut out = Vec::new();
    let families = ColumnFamily::ALL.len() as u32;
    if walk_batch(data, families, |r| out.push(r)).is_err() {
        out.clear();
    }
    out
}

/// `check_batch`, calling `record` with each record.
fn walk_batch<'a>(
    data: &'a [u8],
    families: u32,
    mut record: impl FnMut(BatchRecord<'a>),
) -> Result<u64, MalformedBatch> {
    walk_batch_at(data, families, |_, _, r| {
        if let Some(r) = r {
            record(r)
        }
    })
}

/// The records of a batch with the byte offset that follows each, whether
/// it takes a sequence number, and what it is (`None` for a family beyond
/// Basalt's own).
fn walk_batch_at<'a>(
    data: &'a [u8],
    families: u32,
    mut record: impl FnMut(usize, bool, Option<BatchRecord<'a>>),
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
        let v = if with_value {
            length_prefixed(data, &mut at)?
        } else {
            &[]
        };
        // Family ids past Basalt's own (a database with more families)
        // pass the check but name nothing to look at.
        let family = ColumnFamily::ALL.get(cf as usize).copied();
        let found_record = match (tag, family) {
            (0x3, _) => Some(BatchRecord::LogData(k)),
            (0xF | 0xE, Some(cf)) => Some(BatchRecord::DeleteRange { cf, from: k, to: v }),
            (0x1 | 0x2 | 0x5 | 0x6, Some(cf)) => Some(BatchRecord::Put {
                cf,
                key: k,
                value: v,
            }),
            (_, Some(cf)) if counted => Some(BatchRecord::Delete { cf, key: k }),
            _ => None,
        };
        record(at, counted, found_record);
        found += u64::from(counted);
    }
    if found != count {
        return Err(malformed(format!("{found} records, header says {count}")));
    }
    Ok(count)
}

/// The records of a batch from its `skip`-th counted record on, as a
/// batch of their own starting `skip` sequence numbers later; `None` unless
/// the cut falls between two writers' batches that RocksDB merged into one
/// WAL record. That is where a replica fed from the backlog may stop (see
/// `backlog.rs`): every batch a master writes ends with its replication id
/// record, so the cut is right after such a record that follows the
/// `skip`-th counted record (log data before it belongs to the writer
/// before the cut, as a Basalt batch's notification record does).
pub fn cut_batch(data: &[u8], skip: u64) -> Option<Vec<u8>> {
    let header = data.get(..BATCH_HEADER)?;
    let sequence = u64::from_le_bytes(header[..8].try_into().ok()?);
    let count = u32::from_le_bytes(header[8..12].try_into().ok()?) as u64;
    if skip == 0 {
        return Some(data.to_vec());
    }
    if skip >= count {
        return None;
    }
    let mut counted = 0u64;
    let mut cut = None;
    let mut done = false;
    walk_batch_at(data, u32::MAX, |end, is_counted, record| {
        if done {
            return;
        }
        if counted < skip {
            counted += u64::from(is_counted);
            return;
        }
        if is_counted {
            done = true;
        } else if let Some(BatchRecord::LogData(blob)) = record {
            if replication_id_of_record(blob).is_some() {
                cut = Some(end);
                done = true;
            }
        }
    })
    .ok()?;
    let cut = cut?;
    let mut out = Vec::with_capacity(BATCH_HEADER + data.len() - cut);
    out.extend_from_slice(&(sequence + skip).to_le_bytes());
    out.extend_from_slice(&((count - skip) as u32).to_le_bytes());
    out.extend_from_slice(&data[cut..]);
    Some(out)
}

/// Batches that follow one another, merged into one (see
/// `Storage::apply_replicated_all`).
#[derive(Default)]
struct ReplicatedRun {
    data: Vec<u8>,
    count: u64,
    /// The sequence after the last batch.
    end: u64,
}

impl ReplicatedRun {
    /// Whether a batch at `sequence` of `count` records may join.
    fn extends(&self, sequence: u64, count: u64) -> bool {
        self.data.is_empty() || (sequence == self.end && self.count + count <= u64::from(u32::MAX))
    }

    fn push(&mut self, batch: &[u8], sequence: u64, count: u64) {
        // The first batch's header heads the run (its count is set at
        // the write); the others add their records.
        let from = if self.data.is_empty() {
            0
        } else {
            BATCH_HEADER
        };
        self.data.extend_from_slice(&batch[from..]);
        self.count += count;
        self.end = sequence + count;
    }

    fn write(&mut self, storage: &Storage) -> Result<(), EngineError> {
        if self.data.is_empty() {
            return Ok(());
        }
        // `extends` keeps the sum within RocksDB's 32-bit count.
        self.data[8..BATCH_HEADER].copy_from_slice(&(self.count as u32).to_le_bytes());
        let result = storage.write_unfenced(rocksdb::WriteBatch::from_data(&self.data));
        self.data.clear();
        self.count = 0;
        result
    }
}

impl Storage {
    /// The batches from `sequence` on, the first one starting exactly
    /// there: when `sequence` falls inside a WAL record that merged several
    /// writers' batches, at a boundary between two of them, the record's
    /// tail comes first (see `cut_batch`). Otherwise as `wal_since`.
    pub fn wal_from(&self, sequence: u64) -> Result<WalBatches, EngineError> {
        let mut batches = self.wal_since(sequence)?;
        let first = match batches.next() {
            Some(Ok(first)) if first.sequence == sequence => Some(first),
            Some(Err(e)) => return Err(e),
            other => {
                if sequence <= self.latest_sequence_number() {
                    if let Some((holding, mut rest)) = self.wal_batch_holding(sequence) {
                        if let Some(data) = cut_batch(&holding.data, sequence - holding.sequence) {
                            rest.head = Some(WalBatch {
                                sequence,
                                count: holding.next_sequence() - sequence,
                                data,
                            });
                            return Ok(rest);
                        }
                    }
                }
                other.and_then(Result::ok)
            }
        };
        batches.head = first;
        Ok(batches)
    }

    /// The WAL batch that holds `sequence`, and the batches after it.
    fn wal_batch_holding(&self, sequence: u64) -> Option<(WalBatch, WalBatches)> {
        // `wal_since(n)` yields batches starting at `n` or later: step back
        // until the batch holding `sequence` is among them.
        let mut back = 0u64;
        loop {
            let from = sequence.saturating_sub(back).max(1);
            let mut batches = self.wal_since(from).ok()?;
            match batches.next() {
                Some(Ok(first)) if first.sequence <= sequence => {
                    let mut batch = first;
                    while batch.next_sequence() <= sequence {
                        batch = batches.next()?.ok()?;
                    }
                    if batch.sequence > sequence {
                        return None;
                    }
                    return Some((batch, batches));
                }
                _ if from == 1 => return None,
                _ => back = if back == 0 { 1 } else { back * 4 },
            }
        }
    }

    /// The batches that start at `sequence` or later, in order. A batch
    /// that starts before `sequence` and contains it is left out, so a
    /// caller that finds a first batch starting after `sequence` knows
    /// the WAL has no batch boundary there.
    pub fn wal_since(&self, sequence: u64) -> Result<WalBatches, EngineError> {
        // The rocksdb crate yields only batches starting after the number
        // it is given (RocksDB itself starts at the batch containing it).
        Ok(WalBatches {
            head: None,
            inner: self.db().get_updates_since(sequence.saturating_sub(1))?,
        })
    }

    /// Whether the WAL still holds a batch that starts exactly at
    /// `sequence` (a WAL record, or a writer's batch inside one, see
    /// `wal_from`), or `sequence` is the next one to be written: a replica
    /// asking for it can resume without a full sync.
    pub fn wal_starts_at(&self, sequence: u64) -> bool {
        let latest = self.latest_sequence_number();
        if sequence == latest + 1 {
            return true;
        }
        if sequence == 0 || sequence > latest {
            return false;
        }
        match self.wal_from(sequence).map(|mut it| it.next()) {
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

    /// Writes batches received from the master, in order, as few RocksDB
    /// writes as it can: each run of batches that follow one another
    /// without a gap (the next starts where the one before ends, as a
    /// master sends them) becomes one write, the way RocksDB itself merges
    /// concurrent writers' batches into one WAL record on the master.
    /// Every record keeps its sequence number: RocksDB numbers a batch's
    /// records one after the other from the batch's start, and a run's
    /// count is the sum of its batches'. What it saves is RocksDB's cost
    /// per write (the write queue, a WAL record and its checksum, the
    /// statistics), about as much as the memtable insert of a small batch.
    ///
    /// Returns the records written. A malformed batch is refused as
    /// `apply_replicated` does, after the batches before it are written.
    pub fn apply_replicated_all<B: AsRef<[u8]>>(&self, batches: &[B]) -> Result<u64, EngineError> {
        let mut run = ReplicatedRun::default();
        let mut total = 0;
        for batch in batches {
            let data = batch.as_ref();
            let count = match check_batch(data, self.families) {
                Ok(count) => count,
                Err(e) => {
                    run.write(self)?;
                    return Err(EngineError::Io {
                        path: "replication stream".into(),
                        source: std::io::Error::other(e),
                    });
                }
            };
            let sequence = u64::from_le_bytes(data[..8].try_into().unwrap_or_default());
            if !run.extends(sequence, count) {
                run.write(self)?;
            }
            run.push(data, sequence, count);
            total += count;
        }
        run.write(self)?;
        Ok(total)
    }

    /// The user keys a batch changes (from its metadata and subkey
    /// records), each once, for the caches built on reads: WATCH and
    /// client-side caching on a replica.
    pub fn batch_user_keys(&self, data: &[u8]) -> Vec<Vec<u8>> {
        let mut keys = Vec::new();
        let _ = walk_batch(data, self.families, |record| {
            let (cf, key) = match record {
                BatchRecord::Put { cf, key, .. } | BatchRecord::Delete { cf, key } => (cf, key),
                _ => return,
            };
            if let Some(Some(user_key)) = self.user_key_of(cf, key) {
                if !keys.contains(&user_key) {
                    keys.push(user_key);
                }
            }
        });
        keys
    }

    /// The user key a record of `cf` belongs to (none in the pubsub and
    /// propagate families).
    pub fn record_user_key(&self, cf: ColumnFamily, key: &[u8]) -> Option<Vec<u8>> {
        self.user_key_of(cf, key).flatten()
    }

    /// Appends the replication id to a batch this node writes as a master.
    pub(crate) fn tag_with_replication_id(&self, batch: &mut rocksdb::WriteBatch) {
        if let Some(id) = self.replid.read().as_deref() {
            batch.put_log_data(replication_id_record(id));
        }
    }

    /// Starts a new replication history: a new random id, stored (in a
    /// batch that carries it, so it takes a sequence number of its own:
    /// a node that was promoted and a master that wrote nothing since are
    /// then told apart) and appended to every batch written from now on.
    /// For a node that becomes a master (promotion, or a master's start).
    pub fn shift_replication_id(&self) -> Result<String, EngineError> {
        let id = new_replication_id();
        let latest = self.latest_sequence_number();
        let before = self.last_replication_id();
        let old = self.replid.write().replace(id.clone());
        if let Some(prev) = old.or(before) {
            *self.previous_replid.lock() = Some((prev, latest));
        }
        let mut batch = rocksdb::WriteBatch::default();
        batch.put_cf(
            self.handle(ColumnFamily::Propagate),
            REPLICATION_ID_KEY,
            id.as_bytes(),
        );
        self.write_raw(batch)?;
        let _ = self.flush_wal_buffer();
        Ok(id)
    }

    /// Stops tagging batches (a node that follows a master: its batches
    /// are the master's, with the master's id).
    pub fn clear_replication_id(&self) {
        *self.replid.write() = None;
    }

    /// The id this master tags its batches with.
    pub fn replication_id(&self) -> Option<String> {
        self.replid.read().clone()
    }

    /// The id before the last shift and the last sequence written under it.
    pub fn previous_replication_id(&self) -> Option<(String, u64)> {
        self.previous_replid.lock().clone()
    }

    /// The id stored in the database (`replication_id_`): the one of the
    /// newest history this data belongs to.
    pub fn stored_replication_id(&self) -> Option<String> {
        let value = self
            .db()
            .get_cf(self.handle(ColumnFamily::Propagate), REPLICATION_ID_KEY)
            .ok()??;
        (value.len() == REPLICATION_ID_LEN)
            .then(|| String::from_utf8(value).ok())
            .flatten()
    }

    /// The id of the batch holding `sequence`, if the WAL still has it and
    /// it carries one (Kvrocks' `GetReplIdFromWalBySeq`).
    pub fn replication_id_at(&self, sequence: u64) -> Option<String> {
        if sequence == 0 || sequence > self.latest_sequence_number() {
            return None;
        }
        let _ = self.flush_wal_buffer();
        let (batch, _) = self.wal_batch_holding(sequence)?;
        replication_id_in_batch(&batch.data)
    }

    /// The id of this node's newest batch, or the stored one when the WAL
    /// no longer has it (what a replica sends with PSYNC).
    pub fn last_replication_id(&self) -> Option<String> {
        self.replication_id_at(self.latest_sequence_number())
            .or_else(|| self.stored_replication_id())
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
    fn the_replication_id_is_kvrocks_trailing_log_data() {
        let id = new_replication_id();
        assert_eq!(id.len(), REPLICATION_ID_LEN);
        assert!(id
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase()));
        assert_eq!(
            replication_id_record("0123456789ABCDEF"),
            b"r 0123456789ABCDEF"
        );
        let mut b = rocksdb::WriteBatch::default();
        b.put(b"k", b"v");
        b.put_log_data(b"1 2 some command log");
        assert_eq!(replication_id_in_batch(b.data()), None);
        b.put_log_data(replication_id_record(&id));
        assert_eq!(replication_id_in_batch(b.data()), Some(id.clone()));
        assert!(b
            .data()
            .ends_with(&[&[0x03, 18][..], b"r ", id.as_bytes()].concat()));
        // Not an id: wrong length or tag.
        b.put_log_data(b"r 0123");
        assert_eq!(replication_id_in_batch(b.data()), Some(id));
    }

    /// Two writers' batches as RocksDB merges them into one WAL record.
    fn merged(parts: &[&rocksdb::WriteBatch], sequence: u64) -> Vec<u8> {
        let count: u32 = parts.iter().map(|b| b.len() as u32).sum();
        let mut out = sequence.to_le_bytes().to_vec();
        out.extend_from_slice(&count.to_le_bytes());
        for b in parts {
            out.extend_from_slice(&b.data()[BATCH_HEADER..]);
        }
        out
    }

    #[test]
    fn a_merged_record_is_cut_only_between_writers() {
        let id = replication_id_record("0123456789ABCDEF");
        // A plain batch: data, its notification record, the id.
        let mut a = rocksdb::WriteBatch::default();
        a.put(b"a", b"1");
        a.put_log_data(b"B a");
        a.put_log_data(&id);
        // A transaction's: the notification record first.
        let mut b = rocksdb::WriteBatch::default();
        b.put_log_data(b"B b");
        b.put(b"b", b"2");
        b.delete(b"c");
        b.put_log_data(&id);
        let whole = merged(&[&a, &b], 40);
        assert_eq!(cut_batch(&whole, 0).unwrap(), whole);
        let tail = cut_batch(&whole, 1).expect("between the writers");
        let mut b_alone = b.data().to_vec();
        b_alone[..8].copy_from_slice(&41u64.to_le_bytes());
        assert_eq!(tail, b_alone);
        assert_eq!(check_batch(&tail, 1).unwrap(), 2);
        // Inside the second writer's batch: no id record there.
        assert_eq!(cut_batch(&whole, 2), None);
        assert_eq!(cut_batch(&whole, 3), None);
        // A batch without ids cannot be cut.
        let mut c = rocksdb::WriteBatch::default();
        c.put(b"x", b"1");
        c.put(b"y", b"1");
        assert_eq!(cut_batch(&merged(&[&c], 7), 1), None);
    }

    #[test]
    fn real_batches_pass_and_damaged_ones_do_not() {
        let (_dir, data) = cf_batch(3);
        assert_eq!(check_batch(&data, 3).unwrap(), 5, "log data is no record");
        assert!(check_batch(&data, 1).is_err(), "family 1 unknown there");
        let records = batch_records(&data);
        assert_eq!(records.len(), 6);
        assert_eq!(
            records[0],
            BatchRecord::Put {
                cf: ColumnFamily::ALL[1],
                key: b"k",
                value: b"v"
            }
        );
        assert_eq!(records[3], BatchRecord::LogData(b"replid"));
        assert!(matches!(
            records[2],
            BatchRecord::DeleteRange { from: b"a", .. }
        ));
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
