//! Stream entries: XADD, XRANGE/XREVRANGE, XREAD's reads, XLEN, XDEL,
//! XTRIM, XSETID.

use super::error::StreamError;
use super::id::StreamId;
use super::layout::{decode_entry, encode_entry, StreamMeta};
use crate::database::{Database, Record};
use crate::error::{Error, Result};
use basalt_engine::metadata::CorruptMetadata;
use basalt_engine::version::now_ms;
use basalt_engine::{ColumnFamily, EngineError, RedisType, WriteBatch};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub id: StreamId,
    pub fields: Vec<Vec<u8>>,
}

/// How XADD picks the new entry's id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddId {
    /// `*`
    Auto,
    /// `ms-*`
    AutoSeq(u64),
    /// `ms-seq` or `ms`
    Explicit(StreamId),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrimRule {
    MaxLen(u64),
    MinId(StreamId),
}

/// MAXLEN/MINID with `~` and LIMIT. Redis's approximate trimming removes
/// only whole nodes of its radix tree; Basalt has no nodes, so it
/// reproduces them: entries are numbered in insertion order and every
/// `node_entries` consecutive numbers form a node (Redis also closes a node
/// at `stream-node-max-bytes`, which this does not model).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Trim {
    pub rule: TrimRule,
    pub approx: bool,
    /// 0 = no limit.
    pub limit: u64,
    pub node_entries: u64,
}

/// What XINFO STREAM (without FULL) reports.
#[derive(Clone, Debug)]
pub struct StreamInfo {
    pub length: u64,
    pub meta: StreamMeta,
    pub groups: u64,
    pub first: Option<Entry>,
    pub last: Option<Entry>,
}

/// A live stream: its record and decoded trailer.
pub(super) struct Stream {
    pub record: Record,
    pub meta: StreamMeta,
}

impl Stream {
    pub fn version(&self) -> u64 {
        self.record.metadata.version
    }

    pub fn len(&self) -> u64 {
        self.record.metadata.size
    }

    fn new() -> Stream {
        Stream {
            record: Record::new_collection(RedisType::Stream, 0),
            meta: StreamMeta::default(),
        }
    }
}

impl Database {
    pub(super) fn stream_read(&self, key: &[u8]) -> Result<Option<Stream>> {
        let Some(record) = self.read_typed(key, RedisType::Stream)? else {
            return Ok(None);
        };
        let meta = StreamMeta::decode(&record.rest).ok_or(EngineError::from(CorruptMetadata))?;
        Ok(Some(Stream { record, meta }))
    }

    pub(super) fn stream_put(&self, batch: &mut WriteBatch, key: &[u8], stream: &mut Stream) {
        stream.record.rest = stream.meta.encode();
        self.put_record(batch, key, &stream.record);
    }

    pub(super) fn stream_subkey(&self, key: &[u8], version: u64, sub: &[u8]) -> Vec<u8> {
        self.subkey(key, version, sub)
    }

    /// Entries with ids in `[start, end]`, at most `count` (0 = all),
    /// ascending or (`rev`) descending.
    pub(super) fn stream_range(
        &self,
        key: &[u8],
        version: u64,
        start: StreamId,
        end: StreamId,
        count: u64,
        rev: bool,
    ) -> Result<Vec<Entry>> {
        let mut out = Vec::new();
        if start > end {
            return Ok(out);
        }
        let prefix = self.subkey_prefix(key, version);
        let mut it = self.iter_subkeys_unpositioned(ColumnFamily::Stream, key, version);
        let mut seek = prefix.clone();
        if rev {
            seek.extend_from_slice(&end.encode());
            it.seek_for_prev(&seek);
        } else {
            seek.extend_from_slice(&start.encode());
            it.seek(&seek);
        }
        while let (Some(k), Some(v)) = (it.key(), it.value()) {
            let sub = &k[prefix.len()..];
            // Group records (longer subkeys) sort among ids whose ms is
            // u64::MAX: skip them.
            if sub.len() == 16 {
                let id = StreamId::decode(sub).ok_or(EngineError::CorruptMetadata)?;
                if (!rev && id > end) || (rev && id < start) {
                    break;
                }
                let fields = decode_entry(v).ok_or(EngineError::CorruptMetadata)?;
                out.push(Entry { id, fields });
                if count > 0 && out.len() as u64 >= count {
                    break;
                }
            }
            if rev {
                it.prev();
            } else {
                it.next();
            }
        }
        it.status().map_err(EngineError::from)?;
        Ok(out)
    }

    /// The entry with `id`, if present.
    pub(super) fn stream_entry(
        &self,
        key: &[u8],
        version: u64,
        id: StreamId,
    ) -> Result<Option<Vec<Vec<u8>>>> {
        let sk = self.stream_subkey(key, version, &id.encode());
        match self.storage().get(ColumnFamily::Stream, &sk)? {
            Some(v) => Ok(Some(decode_entry(&v).ok_or(EngineError::CorruptMetadata)?)),
            None => Ok(None),
        }
    }

    /// XADD. `None` when NOMKSTREAM found no stream; otherwise the new id
    /// and how many entries the trim removed.
    pub fn xadd(
        &self,
        key: &[u8],
        id: AddId,
        fields: &[&[u8]],
        nomkstream: bool,
        trim: Option<&Trim>,
    ) -> Result<Option<(StreamId, u64)>> {
        if id == AddId::Explicit(StreamId::MIN) {
            return Err(StreamError::AddIdZero.into());
        }
        let _guard = self.storage().locks().lock(key);
        let mut stream = match self.stream_read(key)? {
            Some(s) => s,
            None if nomkstream => return Ok(None),
            None => Stream::new(),
        };
        let last = stream.meta.last_generated;
        if last == StreamId::MAX {
            return Err(StreamError::Exhausted.into());
        }
        let new_id = match id {
            AddId::Auto => {
                let ms = now_ms();
                if ms > last.ms {
                    StreamId::new(ms, 0)
                } else {
                    last.next().ok_or(StreamError::Exhausted)?
                }
            }
            AddId::AutoSeq(ms) if ms == last.ms => {
                if last.seq == u64::MAX {
                    return Err(StreamError::SequenceOverflow.into());
                }
                StreamId::new(ms, last.seq + 1)
            }
            AddId::AutoSeq(ms) => StreamId::new(ms, 0),
            AddId::Explicit(id) => id,
        };
        if new_id <= last {
            return Err(StreamError::AddIdTooSmall.into());
        }
        let mut batch = WriteBatch::default();
        let version = stream.version();
        let sk = self.stream_subkey(key, version, &new_id.encode());
        stream.meta.last_generated = new_id;
        stream.meta.entries_added = stream.meta.entries_added.saturating_add(1);
        stream.meta.last = new_id;
        stream.record.metadata.size += 1;
        if stream.record.metadata.size == 1 {
            stream.meta.first = new_id;
            stream.meta.recorded_first = new_id;
        }
        let mut trimmed = 0;
        let mut keep_new = true;
        if let Some(trim) = trim {
            let outcome = self.trim_head(&mut batch, key, &mut stream, trim, Some(new_id))?;
            trimmed = outcome.0;
            keep_new = !outcome.1;
        }
        if keep_new {
            self.storage()
                .put(&mut batch, ColumnFamily::Stream, &sk, &encode_entry(fields));
        }
        self.stream_put(&mut batch, key, &mut stream);
        self.storage().write(batch)?;
        Ok(Some((new_id, trimmed)))
    }

    /// Removes entries from the head as `trim` says, `appended` being an
    /// entry this same write adds at the tail (counted, not yet stored).
    /// Returns how many were removed and whether `appended` was among them.
    fn trim_head(
        &self,
        batch: &mut WriteBatch,
        key: &[u8],
        stream: &mut Stream,
        trim: &Trim,
        appended: Option<StreamId>,
    ) -> Result<(u64, bool)> {
        let version = stream.version();
        let prefix = self.subkey_prefix(key, version);
        let mut it = self.iter_subkeys(ColumnFamily::Stream, key, version);
        let mut appended_left = appended;
        // The head, one entry at a time: stored entries, then `appended`.
        let mut next_id = |it: &mut basalt_engine::StorageIter<'_>| -> Result<Option<StreamId>> {
            while let Some(k) = it.key() {
                let sub = &k[prefix.len()..];
                if sub.len() == 16 {
                    let id = StreamId::decode(sub).ok_or(EngineError::CorruptMetadata)?;
                    if appended_left.is_some_and(|a| id >= a) {
                        break;
                    }
                    it.next();
                    return Ok(Some(id));
                }
                it.next();
            }
            it.status().map_err(EngineError::from)?;
            Ok(appended_left.take())
        };
        let node = if trim.node_entries == 0 {
            u64::MAX
        } else {
            trim.node_entries
        };
        let mut length = stream.len();
        let mut ordinal = stream.meta.entries_added.saturating_sub(length);
        let mut deleted = 0u64;
        let mut removed_appended = false;
        let mut head: Option<StreamId> = None;
        let mut delete = |id: StreamId, removed_appended: &mut bool| {
            if Some(id) == appended {
                *removed_appended = true;
            } else {
                let sk = self.stream_subkey(key, version, &id.encode());
                self.storage().delete(batch, ColumnFamily::Stream, &sk);
            }
        };
        loop {
            if let TrimRule::MaxLen(max) = trim.rule {
                if length <= max {
                    break;
                }
            }
            if length == 0 {
                break;
            }
            if trim.approx {
                let in_node = (node - ordinal % node).min(length);
                if trim.limit > 0 && deleted.saturating_add(in_node) > trim.limit {
                    break;
                }
                let mut ids = Vec::with_capacity(in_node.min(1024) as usize);
                for _ in 0..in_node {
                    match next_id(&mut it)? {
                        Some(id) => ids.push(id),
                        None => break,
                    }
                }
                let remove = match trim.rule {
                    TrimRule::MaxLen(max) => length - in_node >= max,
                    TrimRule::MinId(min) => ids.last().is_some_and(|&last| last < min),
                };
                if !remove || ids.is_empty() {
                    head = ids.first().copied();
                    break;
                }
                for id in &ids {
                    delete(*id, &mut removed_appended);
                }
                let n = ids.len() as u64;
                length -= n;
                deleted += n;
                ordinal = ordinal.saturating_add(n);
            } else {
                let Some(id) = next_id(&mut it)? else { break };
                if let TrimRule::MinId(min) = trim.rule {
                    if id >= min {
                        head = Some(id);
                        break;
                    }
                }
                delete(id, &mut removed_appended);
                length -= 1;
                deleted += 1;
            }
        }
        if deleted > 0 {
            stream.record.metadata.size = length;
            if length == 0 {
                stream.meta.first = StreamId::MIN;
                stream.meta.last = StreamId::MIN;
            } else {
                let first = match head {
                    Some(id) => id,
                    None => next_id(&mut it)?.unwrap_or(StreamId::MIN),
                };
                stream.meta.first = first;
            }
            stream.meta.recorded_first = stream.meta.first;
        }
        Ok((deleted, removed_appended))
    }

    /// XTRIM: how many entries were removed.
    pub fn xtrim(&self, key: &[u8], trim: &Trim) -> Result<u64> {
        let _guard = self.storage().locks().lock(key);
        let Some(mut stream) = self.stream_read(key)? else {
            return Ok(0);
        };
        let mut batch = WriteBatch::default();
        let (deleted, _) = self.trim_head(&mut batch, key, &mut stream, trim, None)?;
        if deleted > 0 {
            self.stream_put(&mut batch, key, &mut stream);
            self.storage().write(batch)?;
        }
        Ok(deleted)
    }

    /// XRANGE / XREVRANGE over `[start, end]`.
    pub fn xrange(
        &self,
        key: &[u8],
        start: StreamId,
        end: StreamId,
        count: u64,
        rev: bool,
    ) -> Result<Vec<Entry>> {
        match self.stream_read(key)? {
            Some(s) => self.stream_range(key, s.version(), start, end, count, rev),
            None => Ok(Vec::new()),
        }
    }

    pub fn xlen(&self, key: &[u8]) -> Result<u64> {
        Ok(self.stream_read(key)?.map_or(0, |s| s.len()))
    }

    /// The last generated id of a stream (XREAD's `$`), `None` if there is
    /// no stream.
    pub fn stream_last_id(&self, key: &[u8]) -> Result<Option<StreamId>> {
        Ok(self.stream_read(key)?.map(|s| s.meta.last_generated))
    }

    /// XREAD on one stream: entries after `after`. `None` when there is
    /// no stream or nothing newer.
    pub fn xread(&self, key: &[u8], after: StreamId, count: u64) -> Result<Option<Vec<Entry>>> {
        let Some(stream) = self.stream_read(key)? else {
            return Ok(None);
        };
        if stream.len() == 0 || stream.meta.last <= after {
            return Ok(None);
        }
        let Some(start) = after.next() else {
            return Ok(None);
        };
        let entries =
            self.stream_range(key, stream.version(), start, StreamId::MAX, count, false)?;
        Ok((!entries.is_empty()).then_some(entries))
    }

    /// XDEL: how many of `ids` existed.
    pub fn xdel(&self, key: &[u8], ids: &[StreamId]) -> Result<u64> {
        let _guard = self.storage().locks().lock(key);
        let Some(mut stream) = self.stream_read(key)? else {
            return Ok(0);
        };
        let version = stream.version();
        let mut unique: Vec<StreamId> = ids.to_vec();
        unique.sort_unstable();
        unique.dedup();
        let mut batch = WriteBatch::default();
        let mut deleted = 0u64;
        let mut first_deleted = false;
        let mut last_deleted = false;
        for id in unique {
            let sk = self.stream_subkey(key, version, &id.encode());
            if self.storage().get(ColumnFamily::Stream, &sk)?.is_none() {
                continue;
            }
            self.storage().delete(&mut batch, ColumnFamily::Stream, &sk);
            deleted += 1;
            first_deleted |= id == stream.meta.first;
            last_deleted |= id == stream.meta.last;
            if id > stream.meta.max_deleted {
                stream.meta.max_deleted = id;
            }
        }
        if deleted == 0 {
            return Ok(0);
        }
        // Later deletions must not see the ones in this batch.
        stream.record.metadata.size = stream.len().saturating_sub(deleted);
        if stream.len() == 0 {
            stream.meta.first = StreamId::MIN;
            stream.meta.last = StreamId::MIN;
        } else {
            let deleted_ids: std::collections::HashSet<StreamId> = ids.iter().copied().collect();
            if first_deleted {
                stream.meta.first =
                    self.edge_skipping(key, version, stream.meta.first, false, &deleted_ids)?;
            }
            if last_deleted {
                stream.meta.last =
                    self.edge_skipping(key, version, stream.meta.last, true, &deleted_ids)?;
            }
        }
        stream.meta.recorded_first = stream.meta.first;
        self.stream_put(&mut batch, key, &mut stream);
        self.storage().write(batch)?;
        Ok(deleted)
    }

    /// The first (or, `rev`, last) entry id from `from` on that is not in
    /// `skip` (entries deleted by the batch being built).
    fn edge_skipping(
        &self,
        key: &[u8],
        version: u64,
        from: StreamId,
        rev: bool,
        skip: &std::collections::HashSet<StreamId>,
    ) -> Result<StreamId> {
        let (mut start, mut end) = if rev {
            (StreamId::MIN, from)
        } else {
            (from, StreamId::MAX)
        };
        loop {
            let page = self.stream_range(key, version, start, end, 64, rev)?;
            let Some(last) = page.last().map(|e| e.id) else {
                return Ok(StreamId::MIN);
            };
            if let Some(e) = page.iter().find(|e| !skip.contains(&e.id)) {
                return Ok(e.id);
            }
            if rev {
                match last.prev() {
                    Some(p) => end = p,
                    None => return Ok(StreamId::MIN),
                }
            } else {
                match last.next() {
                    Some(n) => start = n,
                    None => return Ok(StreamId::MIN),
                }
            }
        }
    }

    /// XSETID. The caller checked `max_deleted <= id` and the sign of
    /// `entries_added`.
    pub fn xsetid(
        &self,
        key: &[u8],
        id: StreamId,
        entries_added: Option<u64>,
        max_deleted: Option<StreamId>,
    ) -> Result<()> {
        let _guard = self.storage().locks().lock(key);
        let Some(mut stream) = self.stream_read(key)? else {
            return Err(Error::NoSuchKey);
        };
        if stream.len() > 0 {
            if id < stream.meta.last {
                return Err(StreamError::SetIdTooSmall.into());
            }
            if entries_added.is_some_and(|n| n < stream.len()) {
                return Err(StreamError::SetIdEntriesAddedTooSmall.into());
            }
        }
        stream.meta.last_generated = id;
        if let Some(n) = entries_added {
            stream.meta.entries_added = n;
        }
        if let Some(m) = max_deleted.filter(|m| !m.is_zero()) {
            stream.meta.max_deleted = m;
        }
        let mut batch = WriteBatch::default();
        self.stream_put(&mut batch, key, &mut stream);
        self.storage().write(batch)?;
        Ok(())
    }

    /// XINFO STREAM without FULL.
    pub fn xinfo_stream(&self, key: &[u8]) -> Result<Option<StreamInfo>> {
        let Some(stream) = self.stream_read(key)? else {
            return Ok(None);
        };
        let v = stream.version();
        let first = self
            .stream_range(key, v, StreamId::MIN, StreamId::MAX, 1, false)?
            .pop();
        let last = self
            .stream_range(key, v, StreamId::MIN, StreamId::MAX, 1, true)?
            .pop();
        Ok(Some(StreamInfo {
            length: stream.len(),
            meta: stream.meta,
            groups: self.group_names(key, v)?.len() as u64,
            first,
            last,
        }))
    }
}

impl From<StreamError> for Error {
    fn from(e: StreamError) -> Self {
        Error::Stream(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::database::test_support::open;

    fn add(db: &Database, key: &[u8], id: StreamId) -> StreamId {
        db.xadd(key, AddId::Explicit(id), &[b"f", b"v"], false, None)
            .unwrap()
            .unwrap()
            .0
    }

    #[test]
    fn add_range_and_ids() {
        let t = open();
        let db = &t.db;
        add(db, b"s", StreamId::new(1, 0));
        add(db, b"s", StreamId::new(1, 5));
        let next = db
            .xadd(b"s", AddId::AutoSeq(1), &[b"a", b"b"], false, None)
            .unwrap()
            .unwrap()
            .0;
        assert_eq!(next, StreamId::new(1, 6));
        assert!(matches!(
            db.xadd(
                b"s",
                AddId::Explicit(StreamId::new(1, 6)),
                &[b"a", b"b"],
                false,
                None
            ),
            Err(Error::Stream(StreamError::AddIdTooSmall))
        ));
        assert!(matches!(
            db.xadd(
                b"s",
                AddId::Explicit(StreamId::MIN),
                &[b"a", b"b"],
                false,
                None
            ),
            Err(Error::Stream(StreamError::AddIdZero))
        ));
        let all = db
            .xrange(b"s", StreamId::MIN, StreamId::MAX, 0, false)
            .unwrap();
        assert_eq!(all.len(), 3);
        assert_eq!(all[2].fields, vec![b"a".to_vec(), b"b".to_vec()]);
        let rev = db
            .xrange(b"s", StreamId::MIN, StreamId::MAX, 2, true)
            .unwrap();
        assert_eq!(
            rev.iter().map(|e| e.id).collect::<Vec<_>>(),
            vec![StreamId::new(1, 6), StreamId::new(1, 5)]
        );
        assert_eq!(db.xlen(b"s").unwrap(), 3);
        assert_eq!(
            db.xadd(b"none", AddId::Auto, &[b"a", b"b"], true, None)
                .unwrap(),
            None
        );
        assert_eq!(db.type_of(b"none").unwrap(), None);
    }

    #[test]
    fn ids_at_the_top_are_entries_not_group_records() {
        let t = open();
        let db = &t.db;
        add(db, b"s", StreamId::new(u64::MAX, 1));
        db.xgroup_create(
            b"s",
            b"g",
            super::super::GroupStart::Id(StreamId::MIN),
            false,
            None,
        )
        .unwrap();
        add(db, b"s", StreamId::new(u64::MAX, 2 << 56));
        let all = db
            .xrange(b"s", StreamId::MIN, StreamId::MAX, 0, false)
            .unwrap();
        assert_eq!(all.len(), 2);
        assert!(matches!(
            db.xadd(
                b"s",
                AddId::Explicit(StreamId::MAX),
                &[b"a", b"b"],
                false,
                None
            ),
            Ok(Some(_))
        ));
        assert!(matches!(
            db.xadd(b"s", AddId::Auto, &[b"a", b"b"], false, None),
            Err(Error::Stream(StreamError::Exhausted))
        ));
    }

    #[test]
    fn exact_and_node_trimming() {
        let t = open();
        let db = &t.db;
        let trim = |rule, approx, limit, node| Trim {
            rule,
            approx,
            limit,
            node_entries: node,
        };
        for i in 1..=1000 {
            db.xadd(
                b"s",
                AddId::Explicit(StreamId::new(i, 0)),
                &[b"f", b"v"],
                false,
                Some(&trim(TrimRule::MaxLen(555), true, 10_000, 100)),
            )
            .unwrap();
        }
        assert_eq!(db.xlen(b"s").unwrap(), 600);
        assert_eq!(
            db.xtrim(b"s", &trim(TrimRule::MaxLen(555), false, 0, 100))
                .unwrap(),
            45
        );
        assert_eq!(
            db.xtrim(b"s", &trim(TrimRule::MaxLen(444), true, 10_000, 100))
                .unwrap(),
            55
        );
        assert_eq!(db.xlen(b"s").unwrap(), 500);
        let info = db.xinfo_stream(b"s").unwrap().unwrap();
        assert_eq!(info.meta.first, StreamId::new(501, 0));
        assert_eq!(info.first.unwrap().id, StreamId::new(501, 0));
        assert_eq!(
            db.xtrim(
                b"s",
                &trim(TrimRule::MinId(StreamId::new(900, 0)), false, 0, 100)
            )
            .unwrap(),
            399
        );
        assert_eq!(
            db.xrange(b"s", StreamId::MIN, StreamId::MAX, 1, false)
                .unwrap()[0]
                .id,
            StreamId::new(900, 0)
        );
        // MAXLEN 0 on XADD: the stream stays, empty, with the id generated.
        let (id, _) = db
            .xadd(
                b"s",
                AddId::Auto,
                &[b"f", b"v"],
                false,
                Some(&trim(TrimRule::MaxLen(0), false, 0, 100)),
            )
            .unwrap()
            .unwrap();
        assert_eq!(db.xlen(b"s").unwrap(), 0);
        assert_eq!(db.type_of(b"s").unwrap(), Some(RedisType::Stream));
        assert_eq!(db.stream_last_id(b"s").unwrap(), Some(id));
    }

    #[test]
    fn xdel_tracks_first_last_and_max_deleted() {
        let t = open();
        let db = &t.db;
        for i in 1..=5 {
            add(db, b"x", StreamId::new(i, 0));
        }
        assert_eq!(
            db.xdel(
                b"x",
                &[
                    StreamId::new(2, 0),
                    StreamId::new(2, 0),
                    StreamId::new(9, 0)
                ]
            )
            .unwrap(),
            1
        );
        assert_eq!(
            db.xdel(b"x", &[StreamId::new(1, 0), StreamId::new(5, 0)])
                .unwrap(),
            2
        );
        let info = db.xinfo_stream(b"x").unwrap().unwrap();
        assert_eq!(info.length, 2);
        assert_eq!(info.meta.first, StreamId::new(3, 0));
        assert_eq!(info.meta.last, StreamId::new(4, 0));
        assert_eq!(info.meta.max_deleted, StreamId::new(5, 0));
        assert_eq!(info.meta.last_generated, StreamId::new(5, 0));
        assert!(matches!(
            db.xsetid(b"x", StreamId::new(3, 0), None, None),
            Err(Error::Stream(StreamError::SetIdTooSmall))
        ));
        db.xsetid(b"x", StreamId::new(10, 0), Some(7), None)
            .unwrap();
        assert_eq!(db.stream_last_id(b"x").unwrap(), Some(StreamId::new(10, 0)));
        assert!(matches!(
            db.xsetid(b"nope", StreamId::new(1, 0), None, None),
            Err(Error::NoSuchKey)
        ));
    }
}
