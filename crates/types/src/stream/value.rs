//! A whole stream as one value (entries, ids, consumer groups with their
//! pending entries and consumers), for DUMP, RESTORE and MIGRATE.

use super::entries::Entry;
use super::groups::{ConsumerInfo, Pending};
use super::id::StreamId;
use super::layout::{
    consumer_subkey, encode_entry, group_subkey, pending_subkey, ConsumerRecord, GroupRecord,
    PendingRecord, StreamMeta,
};
use crate::database::{Database, Record};
use crate::error::Result;
use basalt_engine::{ColumnFamily, RedisType, WriteBatch};

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StreamValue {
    pub entries: Vec<Entry>,
    /// The last id ever generated (XADD's floor).
    pub last_id: StreamId,
    /// Redis's `first_id`: the first entry id recorded (XINFO's
    /// recorded-first-entry-id).
    pub first_id: StreamId,
    pub max_deleted: StreamId,
    pub entries_added: u64,
    pub groups: Vec<GroupValue>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GroupValue {
    pub name: Vec<u8>,
    pub last_delivered: StreamId,
    /// `None`: unknown (Redis's SCG_INVALID_ENTRIES_READ).
    pub entries_read: Option<u64>,
    /// The group's pending entries, each with its owner.
    pub pending: Vec<Pending>,
    pub consumers: Vec<ConsumerInfo>,
}

impl StreamValue {
    /// `entries_read` as Redis estimates it for a group loaded from a
    /// payload that has none (RDB_TYPE_STREAM_LISTPACKS, before 7.0).
    pub fn estimate_entries_read(&self, id: StreamId) -> Option<u64> {
        super::groups::estimate_distance(&self.meta(), self.entries.len() as u64, id)
    }

    fn meta(&self) -> StreamMeta {
        StreamMeta {
            last_generated: self.last_id,
            recorded_first: self.first_id,
            max_deleted: self.max_deleted,
            first: self.entries.first().map_or(StreamId::MIN, |e| e.id),
            last: self.entries.last().map_or(StreamId::MIN, |e| e.id),
            entries_added: self.entries_added,
            group_number: self.groups.len() as u64,
        }
    }
}

impl Database {
    /// The whole stream at `key` (which the caller knows is a stream).
    pub(crate) fn stream_value(&self, key: &[u8]) -> Result<Option<StreamValue>> {
        let Some(full) = self.xinfo_stream_full(key, 0)? else {
            return Ok(None);
        };
        let groups = full
            .groups
            .into_iter()
            .map(|(info, pending, consumers)| GroupValue {
                name: info.name,
                last_delivered: info.last_delivered,
                entries_read: info.entries_read,
                pending,
                consumers: consumers.into_iter().map(|(c, _)| c).collect(),
            })
            .collect();
        Ok(Some(StreamValue {
            entries: full.entries,
            last_id: full.meta.last_generated,
            first_id: full.meta.recorded_first,
            max_deleted: full.meta.max_deleted,
            entries_added: full.meta.entries_added,
            groups,
        }))
    }

    /// Writes `value` into `batch` as a new stream generation of `key`.
    pub(crate) fn put_new_stream(
        &self,
        batch: &mut WriteBatch,
        key: &[u8],
        value: &StreamValue,
        expire_ms: u64,
    ) {
        let mut record = Record::new_collection(RedisType::Stream, expire_ms);
        let version = record.metadata.version;
        let storage = self.storage();
        let put = |batch: &mut WriteBatch, sub: &[u8], v: &[u8]| {
            storage.put(
                batch,
                ColumnFamily::Stream,
                &self.subkey(key, version, sub),
                v,
            );
        };
        for e in &value.entries {
            let fields: Vec<&[u8]> = e.fields.iter().map(|f| &f[..]).collect();
            put(batch, &e.id.encode(), &encode_entry(&fields));
        }
        for g in &value.groups {
            let group = GroupRecord {
                consumers: g.consumers.len() as u64,
                pending: g.pending.len() as u64,
                last_delivered: g.last_delivered,
                entries_read: g.entries_read.map_or(-1, |n| n as i64),
                lag: 0,
            };
            put(batch, &group_subkey(&g.name), &group.encode());
            for c in &g.consumers {
                let consumer = ConsumerRecord {
                    pending: g.pending.iter().filter(|p| p.consumer == c.name).count() as u64,
                    last_attempted_ms: c.seen_ms,
                    last_successful_ms: c.active_ms,
                };
                put(
                    batch,
                    &consumer_subkey(&g.name, &c.name),
                    &consumer.encode(),
                );
            }
            for p in &g.pending {
                let pending = PendingRecord {
                    delivery_ms: p.delivery_ms,
                    delivery_count: p.deliveries,
                    consumer: p.consumer.clone(),
                };
                put(batch, &pending_subkey(&g.name, p.id), &pending.encode());
            }
        }
        record.metadata.size = value.entries.len() as u64;
        record.rest = value.meta().encode();
        self.put_record(batch, key, &record);
    }
}
