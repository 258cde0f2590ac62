//! Consumer groups: XGROUP, XREADGROUP, XACK, XPENDING, XCLAIM,
//! XAUTOCLAIM and the group parts of XINFO.
//!
//! A group's record counts its consumers and pending entries; each
//! consumer's record counts its own. Pending entries are keyed by group and
//! id only, naming their consumer in the value (Kvrocks' layout), so one
//! consumer's entries are found by filtering the group's.

use super::entries::{Entry, Stream};
use super::error::StreamError;
use super::id::StreamId;
use super::layout::{
    consumer_subkey, consumers_prefix, group_of_subkey, group_subkey, groups_prefix, name_after,
    pending_prefix, pending_subkey, ConsumerRecord, GroupRecord, PendingRecord, StreamMeta,
};
use crate::database::{Database, Record};
use crate::error::Result;
use basalt_engine::version::now_ms;
use basalt_engine::{ColumnFamily, EngineError, RedisType, WriteBatch};
use std::collections::BTreeMap;

/// Where XGROUP CREATE/SETID puts the group: `$` or an id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupStart {
    Last,
    Id(StreamId),
}

/// XREADGROUP's id: `>` (new entries) or the consumer's history after an
/// id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadGroupStart {
    New,
    History(StreamId),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupInfo {
    pub name: Vec<u8>,
    pub consumers: u64,
    pub pending: u64,
    pub last_delivered: StreamId,
    pub entries_read: Option<u64>,
    pub lag: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsumerInfo {
    pub name: Vec<u8>,
    pub pending: u64,
    pub seen_ms: u64,
    pub active_ms: u64,
}

/// One pending entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pending {
    pub id: StreamId,
    pub consumer: Vec<u8>,
    pub delivery_ms: u64,
    pub deliveries: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingSummary {
    pub count: u64,
    pub range: Option<(StreamId, StreamId)>,
    pub consumers: Vec<(Vec<u8>, u64)>,
}

/// XCLAIM's options after the ids.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClaimOptions {
    pub min_idle_ms: u64,
    /// Absolute delivery time to record (from IDLE or TIME), else now.
    pub delivery_ms: Option<i64>,
    pub retry_count: Option<u64>,
    pub force: bool,
    pub justid: bool,
    pub last_id: Option<StreamId>,
}

/// Claimed entries: the id and, unless JUSTID, the fields.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Claimed {
    pub entries: Vec<(StreamId, Option<Vec<Vec<u8>>>)>,
    pub created_consumer: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AutoClaimed {
    pub next: StreamId,
    pub claimed: Claimed,
    pub deleted: Vec<StreamId>,
}

/// One group in XINFO STREAM FULL: the group, its pending entries, and
/// each consumer with its own.
pub type GroupFull = (GroupInfo, Vec<Pending>, Vec<(ConsumerInfo, Vec<Pending>)>);

/// XINFO STREAM FULL.
#[derive(Clone, Debug)]
pub struct StreamFull {
    pub length: u64,
    pub meta: StreamMeta,
    pub entries: Vec<Entry>,
    pub groups: Vec<GroupFull>,
}

/// The result of XREADGROUP on one stream.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GroupRead {
    /// Deleted entries still pending come with no fields.
    pub entries: Vec<(StreamId, Option<Vec<Vec<u8>>>)>,
    pub created_consumer: bool,
}

/// Redis's `streamRangeHasTombstones` from `start` to the end.
fn has_tombstones_from(meta: &StreamMeta, len: u64, start: StreamId) -> bool {
    if len == 0 || meta.max_deleted.is_zero() || meta.first > meta.max_deleted {
        return false;
    }
    start <= meta.max_deleted
}

/// Redis's `streamEstimateDistanceFromFirstEverEntry`: `id`'s read counter
/// when it can be known.
pub(super) fn estimate_distance(meta: &StreamMeta, len: u64, id: StreamId) -> Option<u64> {
    if meta.entries_added == 0 {
        return Some(0);
    }
    if len == 0 && id <= meta.last_generated {
        return Some(meta.entries_added);
    }
    if id == meta.last_generated {
        return Some(meta.entries_added);
    }
    if id > meta.last_generated {
        return None;
    }
    if meta.max_deleted.is_zero() || meta.max_deleted < meta.first {
        if id < meta.first {
            return Some(meta.entries_added.saturating_sub(len));
        }
        if id == meta.first {
            return Some(meta.entries_added.saturating_sub(len) + 1);
        }
    }
    None
}

/// Redis's `streamReplyWithCGLag`.
fn group_lag(meta: &StreamMeta, len: u64, group: &GroupRecord) -> Option<u64> {
    if meta.entries_added == 0 {
        return Some(0);
    }
    if group.entries_read >= 0 && !has_tombstones_from(meta, len, group.last_delivered) {
        return Some(meta.entries_added.saturating_sub(group.entries_read as u64));
    }
    estimate_distance(meta, len, group.last_delivered)
        .map(|read| meta.entries_added.saturating_sub(read))
}

/// One group of one stream, its consumers loaded on demand and written
/// back together.
struct GroupState<'a> {
    db: &'a Database,
    key: &'a [u8],
    version: u64,
    name: Vec<u8>,
    record: GroupRecord,
    consumers: BTreeMap<Vec<u8>, Option<ConsumerRecord>>,
    dirty: Vec<Vec<u8>>,
}

impl<'a> GroupState<'a> {
    fn load(db: &'a Database, key: &'a [u8], version: u64, name: &[u8]) -> Result<Option<Self>> {
        let sk = db.subkey(key, version, &group_subkey(name));
        let Some(raw) = db.storage().get(ColumnFamily::Stream, &sk)? else {
            return Ok(None);
        };
        let record = GroupRecord::decode(&raw).ok_or(EngineError::CorruptMetadata)?;
        Ok(Some(GroupState {
            db,
            key,
            version,
            name: name.to_vec(),
            record,
            consumers: BTreeMap::new(),
            dirty: Vec::new(),
        }))
    }

    fn consumer(&mut self, name: &[u8]) -> Result<Option<ConsumerRecord>> {
        if let Some(c) = self.consumers.get(name) {
            return Ok(*c);
        }
        let sk = self
            .db
            .subkey(self.key, self.version, &consumer_subkey(&self.name, name));
        let found = match self.db.storage().get(ColumnFamily::Stream, &sk)? {
            Some(raw) => Some(ConsumerRecord::decode(&raw).ok_or(EngineError::CorruptMetadata)?),
            None => None,
        };
        self.consumers.insert(name.to_vec(), found);
        Ok(found)
    }

    fn set_consumer(&mut self, name: &[u8], record: Option<ConsumerRecord>) {
        self.consumers.insert(name.to_vec(), record);
        self.dirty.push(name.to_vec());
    }

    /// Looks the consumer up, refreshing its seen time, or creates it.
    /// Returns whether it was created.
    fn seen(&mut self, name: &[u8], now: u64) -> Result<bool> {
        match self.consumer(name)? {
            Some(mut c) => {
                c.last_attempted_ms = now;
                self.set_consumer(name, Some(c));
                Ok(false)
            }
            None => {
                self.set_consumer(
                    name,
                    Some(ConsumerRecord {
                        pending: 0,
                        last_attempted_ms: now,
                        last_successful_ms: now,
                    }),
                );
                self.record.consumers += 1;
                Ok(true)
            }
        }
    }

    fn add_pending(&mut self, consumer: &[u8], delta: i64) -> Result<()> {
        if let Some(mut c) = self.consumer(consumer)? {
            c.pending = c.pending.saturating_add_signed(delta);
            self.set_consumer(consumer, Some(c));
        }
        Ok(())
    }

    fn pending_get(&self, id: StreamId) -> Result<Option<PendingRecord>> {
        let sk = self.pending_key(id);
        match self.db.storage().get(ColumnFamily::Stream, &sk)? {
            Some(raw) => Ok(Some(
                PendingRecord::decode(&raw).ok_or(EngineError::CorruptMetadata)?,
            )),
            None => Ok(None),
        }
    }

    fn pending_key(&self, id: StreamId) -> Vec<u8> {
        self.db
            .subkey(self.key, self.version, &pending_subkey(&self.name, id))
    }

    fn pending_put(&self, batch: &mut WriteBatch, id: StreamId, p: &PendingRecord) {
        self.db.storage().put(
            batch,
            ColumnFamily::Stream,
            &self.pending_key(id),
            &p.encode(),
        );
    }

    fn pending_delete(&self, batch: &mut WriteBatch, id: StreamId) {
        self.db
            .storage()
            .delete(batch, ColumnFamily::Stream, &self.pending_key(id));
    }

    /// Pending entries with ids in `[start, end]` in id order, stopping
    /// once `visit` returns false.
    fn pending_scan(
        &self,
        start: StreamId,
        end: StreamId,
        mut visit: impl FnMut(StreamId, PendingRecord) -> Result<bool>,
    ) -> Result<()> {
        let prefix = self
            .db
            .subkey(self.key, self.version, &pending_prefix(&self.name));
        let upper = basalt_engine::key::prefix_upper_bound(&prefix);
        let mut it = self
            .db
            .storage()
            .iter(ColumnFamily::Stream, Some(&prefix), upper.as_deref());
        let mut seek = prefix.clone();
        seek.extend_from_slice(&start.encode());
        it.seek(&seek);
        while let (Some(k), Some(v)) = (it.key(), it.value()) {
            let id = StreamId::decode(&k[prefix.len()..]).ok_or(EngineError::CorruptMetadata)?;
            if id > end {
                break;
            }
            let p = PendingRecord::decode(v).ok_or(EngineError::CorruptMetadata)?;
            if !visit(id, p)? {
                break;
            }
            it.next();
        }
        it.status().map_err(EngineError::from)?;
        Ok(())
    }

    fn write(&self, batch: &mut WriteBatch) {
        let storage = self.db.storage();
        let sk = self
            .db
            .subkey(self.key, self.version, &group_subkey(&self.name));
        storage.put(batch, ColumnFamily::Stream, &sk, &self.record.encode());
        for name in &self.dirty {
            let sk = self
                .db
                .subkey(self.key, self.version, &consumer_subkey(&self.name, name));
            match self.consumers.get(name) {
                Some(Some(c)) => storage.put(batch, ColumnFamily::Stream, &sk, &c.encode()),
                _ => storage.delete(batch, ColumnFamily::Stream, &sk),
            }
        }
    }
}

impl Database {
    /// Names of a stream generation's groups, in name order.
    pub(super) fn group_names(&self, key: &[u8], version: u64) -> Result<Vec<Vec<u8>>> {
        let prefix = self.subkey(key, version, &groups_prefix());
        let upper = basalt_engine::key::prefix_upper_bound(&prefix);
        let mut it = self
            .storage()
            .iter(ColumnFamily::Stream, Some(&prefix), upper.as_deref());
        it.seek(&prefix);
        let base = self.subkey_prefix(key, version).len();
        let mut out = Vec::new();
        while let Some(k) = it.key() {
            if let Some(name) = group_of_subkey(&k[base..]) {
                out.push(name);
            }
            it.next();
        }
        it.status().map_err(EngineError::from)?;
        // Records sort by name length first (the name is length-prefixed);
        // Redis lists groups in name order.
        out.sort();
        Ok(out)
    }

    /// Consumers of a group, in name order.
    fn consumer_list(&self, key: &[u8], version: u64, group: &[u8]) -> Result<Vec<ConsumerInfo>> {
        let sub_prefix = consumers_prefix(group);
        let prefix = self.subkey(key, version, &sub_prefix);
        let upper = basalt_engine::key::prefix_upper_bound(&prefix);
        let mut it = self
            .storage()
            .iter(ColumnFamily::Stream, Some(&prefix), upper.as_deref());
        it.seek(&prefix);
        let base = self.subkey_prefix(key, version).len();
        let mut out = Vec::new();
        while let (Some(k), Some(v)) = (it.key(), it.value()) {
            let name =
                name_after(sub_prefix.len(), &k[base..]).ok_or(EngineError::CorruptMetadata)?;
            let c = ConsumerRecord::decode(v).ok_or(EngineError::CorruptMetadata)?;
            out.push(ConsumerInfo {
                name,
                pending: c.pending,
                seen_ms: c.last_attempted_ms,
                active_ms: c.last_successful_ms,
            });
            it.next();
        }
        it.status().map_err(EngineError::from)?;
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    fn group_info(stream: &Stream, state: &GroupState<'_>) -> GroupInfo {
        let r = &state.record;
        GroupInfo {
            name: state.name.clone(),
            consumers: r.consumers,
            pending: r.pending,
            last_delivered: r.last_delivered,
            entries_read: (r.entries_read >= 0).then_some(r.entries_read as u64),
            lag: group_lag(&stream.meta, stream.len(), r),
        }
    }

    /// Whether `key` holds a stream with `group` (WRONGTYPE otherwise);
    /// `None` when there is no such stream.
    pub fn stream_has_group(&self, key: &[u8], group: &[u8]) -> Result<Option<bool>> {
        let Some(stream) = self.stream_read(key)? else {
            return Ok(None);
        };
        Ok(Some(
            GroupState::load(self, key, stream.version(), group)?.is_some(),
        ))
    }

    /// XGROUP CREATE. `entries_read` -1 = unknown.
    pub fn xgroup_create(
        &self,
        key: &[u8],
        group: &[u8],
        start: GroupStart,
        mkstream: bool,
        entries_read: Option<i64>,
    ) -> Result<()> {
        let _guard = self.storage().locks().lock(key);
        let mut stream = match self.stream_read(key)? {
            Some(s) => s,
            None if mkstream => Stream {
                record: Record::new_collection(RedisType::Stream, 0),
                meta: StreamMeta::default(),
            },
            None => return Err(StreamError::GroupNeedsKey.into()),
        };
        let version = stream.version();
        if GroupState::load(self, key, version, group)?.is_some() {
            return Err(StreamError::BusyGroup.into());
        }
        let last_delivered = match start {
            GroupStart::Last => stream.meta.last_generated,
            GroupStart::Id(id) => id,
        };
        let record = GroupRecord {
            consumers: 0,
            pending: 0,
            last_delivered,
            entries_read: entries_read.unwrap_or(-1),
            lag: 0,
        };
        let mut batch = WriteBatch::default();
        let sk = self.subkey(key, version, &group_subkey(group));
        self.storage()
            .put(&mut batch, ColumnFamily::Stream, &sk, &record.encode());
        stream.meta.group_number += 1;
        self.stream_put(&mut batch, key, &mut stream);
        self.storage().write(batch)?;
        Ok(())
    }

    /// Opens a group of an existing stream for XGROUP's other subcommands,
    /// with their errors.
    fn xgroup_open<'a>(&'a self, key: &'a [u8], group: &[u8]) -> Result<(Stream, GroupState<'a>)> {
        let Some(stream) = self.stream_read(key)? else {
            return Err(StreamError::GroupNeedsKey.into());
        };
        match GroupState::load(self, key, stream.version(), group)? {
            Some(g) => Ok((stream, g)),
            None => Err(StreamError::NoSuchGroup {
                key: key.to_vec(),
                group: group.to_vec(),
            }
            .into()),
        }
    }

    /// XGROUP SETID.
    pub fn xgroup_setid(
        &self,
        key: &[u8],
        group: &[u8],
        start: GroupStart,
        entries_read: Option<i64>,
    ) -> Result<()> {
        let _guard = self.storage().locks().lock(key);
        let (stream, mut g) = self.xgroup_open(key, group)?;
        g.record.last_delivered = match start {
            GroupStart::Last => stream.meta.last_generated,
            GroupStart::Id(id) => id,
        };
        g.record.entries_read = entries_read.unwrap_or(-1);
        let mut batch = WriteBatch::default();
        g.write(&mut batch);
        self.storage().write(batch)?;
        Ok(())
    }

    /// XGROUP DESTROY: whether the group existed. Its consumers and
    /// pending entries go with it.
    pub fn xgroup_destroy(&self, key: &[u8], group: &[u8]) -> Result<bool> {
        let _guard = self.storage().locks().lock(key);
        let Some(mut stream) = self.stream_read(key)? else {
            return Err(StreamError::GroupNeedsKey.into());
        };
        let version = stream.version();
        if GroupState::load(self, key, version, group)?.is_none() {
            return Ok(false);
        }
        let mut batch = WriteBatch::default();
        let storage = self.storage();
        storage.delete(
            &mut batch,
            ColumnFamily::Stream,
            &self.subkey(key, version, &group_subkey(group)),
        );
        for sub in [consumers_prefix(group), pending_prefix(group)] {
            let from = self.subkey(key, version, &sub);
            if let Some(to) = basalt_engine::key::prefix_upper_bound(&from) {
                storage.delete_range(&mut batch, ColumnFamily::Stream, &from, &to);
            }
        }
        stream.meta.group_number = stream.meta.group_number.saturating_sub(1);
        self.stream_put(&mut batch, key, &mut stream);
        storage.write(batch)?;
        Ok(true)
    }

    /// XGROUP CREATECONSUMER: whether it was created.
    pub fn xgroup_createconsumer(&self, key: &[u8], group: &[u8], consumer: &[u8]) -> Result<bool> {
        let _guard = self.storage().locks().lock(key);
        let (_, mut g) = self.xgroup_open(key, group)?;
        if g.consumer(consumer)?.is_some() {
            return Ok(false);
        }
        g.seen(consumer, now_ms())?;
        let mut batch = WriteBatch::default();
        g.write(&mut batch);
        self.storage().write(batch)?;
        Ok(true)
    }

    /// XGROUP DELCONSUMER: the consumer's pending count, `None` if there
    /// was no such consumer. Its pending entries are dropped.
    pub fn xgroup_delconsumer(
        &self,
        key: &[u8],
        group: &[u8],
        consumer: &[u8],
    ) -> Result<Option<u64>> {
        let _guard = self.storage().locks().lock(key);
        let (_, mut g) = self.xgroup_open(key, group)?;
        let Some(c) = g.consumer(consumer)? else {
            return Ok(None);
        };
        let mut batch = WriteBatch::default();
        let mut dropped = 0u64;
        let mut ids = Vec::new();
        g.pending_scan(StreamId::MIN, StreamId::MAX, |id, p| {
            if p.consumer == consumer {
                ids.push(id);
            }
            Ok(true)
        })?;
        for id in ids {
            g.pending_delete(&mut batch, id);
            dropped += 1;
        }
        g.record.pending = g.record.pending.saturating_sub(dropped);
        g.record.consumers = g.record.consumers.saturating_sub(1);
        g.set_consumer(consumer, None);
        g.write(&mut batch);
        self.storage().write(batch)?;
        Ok(Some(c.pending))
    }

    /// XREADGROUP on one stream. `None`: nothing to serve (no new entries
    /// for `>`). `blocked` picks the errors of a served blocked client
    /// (the key or group went away meanwhile) over the first attempt's.
    #[allow(clippy::too_many_arguments)]
    pub fn xreadgroup(
        &self,
        key: &[u8],
        group: &[u8],
        consumer: &[u8],
        start: ReadGroupStart,
        count: u64,
        noack: bool,
        blocked: bool,
    ) -> Result<Option<GroupRead>> {
        let _guard = self.storage().locks().lock(key);
        let no_group = || -> crate::Error {
            if blocked {
                StreamError::GroupGone.into()
            } else {
                StreamError::NoKeyOrGroupRead {
                    key: key.to_vec(),
                    group: group.to_vec(),
                }
                .into()
            }
        };
        let stream = match self.stream_read(key) {
            Ok(Some(s)) => s,
            Ok(None) if blocked => return Err(StreamError::KeyGone.into()),
            Err(crate::Error::WrongType) if blocked => return Err(StreamError::KeyGone.into()),
            Ok(None) => return Err(no_group()),
            Err(e) => return Err(e),
        };
        let version = stream.version();
        let Some(mut g) = GroupState::load(self, key, version, group)? else {
            return Err(no_group());
        };
        let now = now_ms();
        let mut batch = WriteBatch::default();
        let mut out = GroupRead::default();
        match start {
            ReadGroupStart::History(after) => {
                out.created_consumer = g.seen(consumer, now)?;
                let from = after.next().unwrap_or(StreamId::MIN);
                let mut found = Vec::new();
                g.pending_scan(from, StreamId::MAX, |id, p| {
                    if p.consumer == consumer {
                        found.push((id, p));
                    }
                    Ok(count == 0 || (found.len() as u64) < count)
                })?;
                for (id, mut p) in found {
                    let fields = self.stream_entry(key, version, id)?;
                    if fields.is_some() {
                        p.delivery_ms = now;
                        p.delivery_count += 1;
                        g.pending_put(&mut batch, id, &p);
                    }
                    out.entries.push((id, fields));
                }
            }
            ReadGroupStart::New => {
                if stream.len() == 0 || stream.meta.last <= g.record.last_delivered {
                    return Ok(None);
                }
                let from = g.record.last_delivered.next().unwrap_or(StreamId::MAX);
                let entries = self.stream_range(key, version, from, StreamId::MAX, count, false)?;
                if entries.is_empty() {
                    return Ok(None);
                }
                out.created_consumer = g.seen(consumer, now)?;
                for e in entries {
                    if e.id > g.record.last_delivered {
                        let meta = &stream.meta;
                        if g.record.entries_read >= 0
                            && !has_tombstones_from(meta, stream.len(), e.id)
                        {
                            g.record.entries_read += 1;
                        } else if meta.entries_added > 0 {
                            g.record.entries_read = estimate_distance(meta, stream.len(), e.id)
                                .map_or(-1, |n| n as i64);
                        }
                        g.record.last_delivered = e.id;
                    }
                    if !noack {
                        let previous = g.pending_get(e.id)?;
                        match &previous {
                            Some(p) => g.add_pending(&p.consumer.clone(), -1)?,
                            None => g.record.pending += 1,
                        }
                        g.add_pending(consumer, 1)?;
                        g.pending_put(
                            &mut batch,
                            e.id,
                            &PendingRecord {
                                delivery_ms: now,
                                delivery_count: 1,
                                consumer: consumer.to_vec(),
                            },
                        );
                    }
                    out.entries.push((e.id, Some(e.fields)));
                }
                if let Some(Some(mut c)) = g.consumers.get(consumer).copied() {
                    c.last_successful_ms = now;
                    g.set_consumer(consumer, Some(c));
                }
            }
        }
        g.write(&mut batch);
        self.storage().write(batch)?;
        Ok(Some(out))
    }

    /// XACK: how many of `ids` were pending.
    pub fn xack(&self, key: &[u8], group: &[u8], ids: &[StreamId]) -> Result<u64> {
        let _guard = self.storage().locks().lock(key);
        let Some(stream) = self.stream_read(key)? else {
            return Ok(0);
        };
        let Some(mut g) = GroupState::load(self, key, stream.version(), group)? else {
            return Ok(0);
        };
        let mut unique = ids.to_vec();
        unique.sort_unstable();
        unique.dedup();
        let mut batch = WriteBatch::default();
        let mut acked = 0u64;
        for id in unique {
            if let Some(p) = g.pending_get(id)? {
                g.pending_delete(&mut batch, id);
                g.add_pending(&p.consumer, -1)?;
                acked += 1;
            }
        }
        if acked > 0 {
            g.record.pending = g.record.pending.saturating_sub(acked);
            g.write(&mut batch);
            self.storage().write(batch)?;
        }
        Ok(acked)
    }

    /// Opens a group for XPENDING/XCLAIM/XAUTOCLAIM, with their error.
    fn group_or_nogroup<'a>(
        &'a self,
        key: &'a [u8],
        group: &[u8],
    ) -> Result<(Stream, GroupState<'a>)> {
        let nogroup = || StreamError::NoKeyOrGroup {
            key: key.to_vec(),
            group: group.to_vec(),
        };
        let Some(stream) = self.stream_read(key)? else {
            return Err(nogroup().into());
        };
        match GroupState::load(self, key, stream.version(), group)? {
            Some(g) => Ok((stream, g)),
            None => Err(nogroup().into()),
        }
    }

    /// XPENDING key group.
    pub fn xpending_summary(&self, key: &[u8], group: &[u8]) -> Result<PendingSummary> {
        let (stream, g) = self.group_or_nogroup(key, group)?;
        let mut first = None;
        g.pending_scan(StreamId::MIN, StreamId::MAX, |id, _| {
            first = Some(id);
            Ok(false)
        })?;
        let Some(first) = first else {
            return Ok(PendingSummary {
                count: 0,
                range: None,
                consumers: Vec::new(),
            });
        };
        // The last pending id: scan backwards from the top.
        let prefix = self.subkey(key, stream.version(), &pending_prefix(group));
        let upper = basalt_engine::key::prefix_upper_bound(&prefix);
        let mut it = self
            .storage()
            .iter(ColumnFamily::Stream, Some(&prefix), upper.as_deref());
        let mut top = prefix.clone();
        top.extend_from_slice(&StreamId::MAX.encode());
        it.seek_for_prev(&top);
        let last = it
            .key()
            .and_then(|k| StreamId::decode(&k[prefix.len()..]))
            .unwrap_or(first);
        it.status().map_err(EngineError::from)?;
        let consumers = self
            .consumer_list(key, stream.version(), group)?
            .into_iter()
            .filter(|c| c.pending > 0)
            .map(|c| (c.name, c.pending))
            .collect();
        Ok(PendingSummary {
            count: g.record.pending,
            range: Some((first, last)),
            consumers,
        })
    }

    /// XPENDING key group [IDLE min] start end count [consumer].
    #[allow(clippy::too_many_arguments)]
    pub fn xpending(
        &self,
        key: &[u8],
        group: &[u8],
        min_idle_ms: u64,
        start: StreamId,
        end: StreamId,
        count: u64,
        consumer: Option<&[u8]>,
    ) -> Result<Vec<Pending>> {
        let (_, mut g) = self.group_or_nogroup(key, group)?;
        let mut out = Vec::new();
        if count == 0 || start > end {
            return Ok(out);
        }
        if let Some(c) = consumer {
            if g.consumer(c)?.is_none() {
                return Ok(out);
            }
        }
        let now = now_ms();
        g.pending_scan(start, end, |id, p| {
            if consumer.is_some_and(|c| c != p.consumer.as_slice()) {
                return Ok(true);
            }
            if min_idle_ms > 0 && now.saturating_sub(p.delivery_ms) < min_idle_ms {
                return Ok(true);
            }
            out.push(Pending {
                id,
                consumer: p.consumer,
                delivery_ms: p.delivery_ms,
                deliveries: p.delivery_count,
            });
            Ok((out.len() as u64) < count)
        })?;
        Ok(out)
    }

    /// XCLAIM.
    pub fn xclaim(
        &self,
        key: &[u8],
        group: &[u8],
        consumer: &[u8],
        ids: &[StreamId],
        opts: &ClaimOptions,
    ) -> Result<Claimed> {
        let _guard = self.storage().locks().lock(key);
        let (stream, mut g) = self.group_or_nogroup(key, group)?;
        let version = stream.version();
        let now = now_ms();
        if let Some(last) = opts.last_id {
            if last > g.record.last_delivered {
                g.record.last_delivered = last;
            }
        }
        let delivery_ms = match opts.delivery_ms {
            Some(t) if t >= 0 && (t as u64) <= now => t as u64,
            _ => now,
        };
        let mut batch = WriteBatch::default();
        let mut out = Claimed::default();
        let mut consumer_ready = false;
        let mut seen = std::collections::HashSet::new();
        for &id in ids {
            // The same id twice finds the first claim already made.
            let existing = if seen.insert(id) {
                g.pending_get(id)?
            } else {
                continue;
            };
            let fields = self.stream_entry(key, version, id)?;
            let Some(fields) = fields else {
                if let Some(p) = existing {
                    g.pending_delete(&mut batch, id);
                    g.add_pending(&p.consumer, -1)?;
                    g.record.pending = g.record.pending.saturating_sub(1);
                }
                continue;
            };
            let (mut p, owned) = match existing {
                Some(p) => (p, true),
                None if opts.force => (
                    PendingRecord {
                        delivery_ms: now,
                        delivery_count: 1,
                        consumer: Vec::new(),
                    },
                    false,
                ),
                None => continue,
            };
            if owned && opts.min_idle_ms > 0 && now.saturating_sub(p.delivery_ms) < opts.min_idle_ms
            {
                continue;
            }
            if !consumer_ready {
                out.created_consumer = g.seen(consumer, now)?;
                consumer_ready = true;
            }
            if !owned {
                g.record.pending += 1;
                g.add_pending(consumer, 1)?;
            } else if p.consumer != consumer {
                g.add_pending(&p.consumer.clone(), -1)?;
                g.add_pending(consumer, 1)?;
            }
            p.delivery_ms = delivery_ms;
            if let Some(n) = opts.retry_count {
                p.delivery_count = n;
            } else if !opts.justid {
                p.delivery_count += 1;
            }
            p.consumer = consumer.to_vec();
            g.pending_put(&mut batch, id, &p);
            out.entries.push((id, (!opts.justid).then_some(fields)));
        }
        if !out.entries.is_empty() {
            if let Some(Some(mut c)) = g.consumers.get(consumer).copied() {
                c.last_successful_ms = now;
                g.set_consumer(consumer, Some(c));
            }
        }
        g.write(&mut batch);
        self.storage().write(batch)?;
        Ok(out)
    }

    /// XAUTOCLAIM.
    #[allow(clippy::too_many_arguments)]
    pub fn xautoclaim(
        &self,
        key: &[u8],
        group: &[u8],
        consumer: &[u8],
        min_idle_ms: u64,
        start: StreamId,
        count: u64,
        justid: bool,
    ) -> Result<AutoClaimed> {
        let _guard = self.storage().locks().lock(key);
        let (stream, mut g) = self.group_or_nogroup(key, group)?;
        let version = stream.version();
        let now = now_ms();
        let mut attempts = count.saturating_mul(10);
        let mut left = count;
        let mut batch = WriteBatch::default();
        let mut out = AutoClaimed::default();
        // Redis examines at most `attempts` pending entries; one more tells
        // where the next call starts.
        let mut examined = Vec::new();
        g.pending_scan(start, StreamId::MAX, |id, p| {
            examined.push((id, p));
            Ok((examined.len() as u64) <= attempts)
        })?;
        let mut stop_at = None;
        let mut consumer_ready = false;
        for (id, mut p) in examined {
            if attempts == 0 || left == 0 {
                stop_at = Some(id);
                break;
            }
            attempts -= 1;
            let Some(fields) = self.stream_entry(key, version, id)? else {
                g.pending_delete(&mut batch, id);
                g.add_pending(&p.consumer, -1)?;
                g.record.pending = g.record.pending.saturating_sub(1);
                out.deleted.push(id);
                left -= 1;
                continue;
            };
            if min_idle_ms > 0 && now.saturating_sub(p.delivery_ms) < min_idle_ms {
                continue;
            }
            if !consumer_ready {
                out.claimed.created_consumer = g.seen(consumer, now)?;
                consumer_ready = true;
            }
            if p.consumer != consumer {
                g.add_pending(&p.consumer.clone(), -1)?;
                g.add_pending(consumer, 1)?;
            }
            p.delivery_ms = now;
            if !justid {
                p.delivery_count += 1;
            }
            p.consumer = consumer.to_vec();
            g.pending_put(&mut batch, id, &p);
            out.claimed.entries.push((id, (!justid).then_some(fields)));
            left -= 1;
        }
        out.next = stop_at.unwrap_or(StreamId::MIN);
        if !out.claimed.entries.is_empty() {
            if let Some(Some(mut c)) = g.consumers.get(consumer).copied() {
                c.last_successful_ms = now;
                g.set_consumer(consumer, Some(c));
            }
        }
        g.write(&mut batch);
        self.storage().write(batch)?;
        Ok(out)
    }

    /// XINFO GROUPS; `None` when there is no stream.
    pub fn xinfo_groups(&self, key: &[u8]) -> Result<Option<Vec<GroupInfo>>> {
        let Some(stream) = self.stream_read(key)? else {
            return Ok(None);
        };
        let mut out = Vec::new();
        for name in self.group_names(key, stream.version())? {
            if let Some(g) = GroupState::load(self, key, stream.version(), &name)? {
                out.push(Self::group_info(&stream, &g));
            }
        }
        Ok(Some(out))
    }

    /// XINFO CONSUMERS; `None` when there is no stream.
    pub fn xinfo_consumers(&self, key: &[u8], group: &[u8]) -> Result<Option<Vec<ConsumerInfo>>> {
        let Some(stream) = self.stream_read(key)? else {
            return Ok(None);
        };
        if GroupState::load(self, key, stream.version(), group)?.is_none() {
            return Err(StreamError::NoSuchGroup {
                key: key.to_vec(),
                group: group.to_vec(),
            }
            .into());
        }
        Ok(Some(self.consumer_list(key, stream.version(), group)?))
    }

    /// XINFO STREAM FULL with at most `count` entries and pending entries
    /// per list (0 = all).
    pub fn xinfo_stream_full(&self, key: &[u8], count: u64) -> Result<Option<StreamFull>> {
        let Some(stream) = self.stream_read(key)? else {
            return Ok(None);
        };
        let version = stream.version();
        let entries =
            self.stream_range(key, version, StreamId::MIN, StreamId::MAX, count, false)?;
        let mut groups = Vec::new();
        for name in self.group_names(key, version)? {
            let Some(g) = GroupState::load(self, key, version, &name)? else {
                continue;
            };
            let info = Self::group_info(&stream, &g);
            let mut all: Vec<Pending> = Vec::new();
            g.pending_scan(StreamId::MIN, StreamId::MAX, |id, p| {
                all.push(Pending {
                    id,
                    consumer: p.consumer,
                    delivery_ms: p.delivery_ms,
                    deliveries: p.delivery_count,
                });
                Ok(true)
            })?;
            let consumers = self
                .consumer_list(key, version, &name)?
                .into_iter()
                .map(|c| {
                    let mut mine: Vec<Pending> = all
                        .iter()
                        .filter(|p| p.consumer == c.name)
                        .cloned()
                        .collect();
                    if count > 0 {
                        mine.truncate(count as usize);
                    }
                    (c, mine)
                })
                .collect();
            if count > 0 {
                all.truncate(count as usize);
            }
            groups.push((info, all, consumers));
        }
        Ok(Some(StreamFull {
            length: stream.len(),
            meta: stream.meta,
            entries,
            groups,
        }))
    }
}
