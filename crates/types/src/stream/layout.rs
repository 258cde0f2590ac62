//! Kvrocks' byte layouts for streams: the metadata trailer, entry values,
//! and the group, consumer and pending-entry records that share the
//! all-ones subkey prefix.

use super::id::StreamId;
use basalt_engine::encoding::{get_u64, put_u64, put_u8};

/// The stream's own fields after the common metadata header.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StreamMeta {
    pub last_generated: StreamId,
    pub recorded_first: StreamId,
    pub max_deleted: StreamId,
    pub first: StreamId,
    pub last: StreamId,
    pub entries_added: u64,
    pub group_number: u64,
}

impl StreamMeta {
    /// Decodes the trailer; `group_number` is optional (older Kvrocks).
    pub fn decode(mut raw: &[u8]) -> Option<StreamMeta> {
        let id = |input: &mut &[u8]| -> Option<StreamId> {
            Some(StreamId::new(get_u64(input)?, get_u64(input)?))
        };
        let last_generated = id(&mut raw)?;
        let recorded_first = id(&mut raw)?;
        let max_deleted = id(&mut raw)?;
        let first = id(&mut raw)?;
        let last = id(&mut raw)?;
        let entries_added = get_u64(&mut raw)?;
        let group_number = get_u64(&mut raw).unwrap_or(0);
        Some(StreamMeta {
            last_generated,
            recorded_first,
            max_deleted,
            first,
            last,
            entries_added,
            group_number,
        })
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(96);
        for id in [
            self.last_generated,
            self.recorded_first,
            self.max_deleted,
            self.first,
            self.last,
        ] {
            put_u64(&mut out, id.ms);
            put_u64(&mut out, id.seq);
        }
        put_u64(&mut out, self.entries_added);
        put_u64(&mut out, self.group_number);
        out
    }
}

/// Field/value strings, each prefixed by its LevelDB-style varint32 length.
pub fn encode_entry(fields: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::with_capacity(fields.iter().map(|f| f.len() + 5).sum());
    for f in fields {
        let mut len = f.len() as u32;
        while len >= 0x80 {
            out.push((len as u8) | 0x80);
            len >>= 7;
        }
        out.push(len as u8);
        out.extend_from_slice(f);
    }
    out
}

pub fn decode_entry(mut raw: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    while !raw.is_empty() {
        let mut len: u32 = 0;
        let mut shift = 0;
        loop {
            let (&b, rest) = raw.split_first()?;
            raw = rest;
            if shift > 28 {
                return None;
            }
            len |= ((b & 0x7f) as u32) << shift;
            if b & 0x80 == 0 {
                break;
            }
            shift += 7;
        }
        let len = len as usize;
        if raw.len() < len {
            return None;
        }
        out.push(raw[..len].to_vec());
        raw = &raw[len..];
    }
    Some(out)
}

/// The kinds of record under the all-ones prefix.
const GROUP: u8 = 1;
const CONSUMER: u8 = 2;
const PENDING: u8 = 3;

fn meta_prefix(kind: u8) -> Vec<u8> {
    let mut out = Vec::with_capacity(32);
    put_u64(&mut out, u64::MAX);
    put_u8(&mut out, kind);
    out
}

fn put_name(out: &mut Vec<u8>, name: &[u8]) {
    put_u64(out, name.len() as u64);
    out.extend_from_slice(name);
}

/// Subkey of a group's record.
pub fn group_subkey(group: &[u8]) -> Vec<u8> {
    let mut out = meta_prefix(GROUP);
    put_name(&mut out, group);
    out
}

/// Prefix of every group record.
pub fn groups_prefix() -> Vec<u8> {
    meta_prefix(GROUP)
}

/// The group name of a group record's subkey.
pub fn group_of_subkey(sub: &[u8]) -> Option<Vec<u8>> {
    let mut input = sub.get(9..)?;
    let len = get_u64(&mut input)? as usize;
    input.get(..len).map(<[u8]>::to_vec)
}

/// Subkey of a consumer's record.
pub fn consumer_subkey(group: &[u8], consumer: &[u8]) -> Vec<u8> {
    let mut out = consumers_prefix(group);
    put_name(&mut out, consumer);
    out
}

/// Prefix of the consumer records of one group.
pub fn consumers_prefix(group: &[u8]) -> Vec<u8> {
    let mut out = meta_prefix(CONSUMER);
    put_name(&mut out, group);
    out
}

/// Subkey of a pending entry of a group.
pub fn pending_subkey(group: &[u8], id: StreamId) -> Vec<u8> {
    let mut out = pending_prefix(group);
    out.extend_from_slice(&id.encode());
    out
}

/// Prefix of the pending entries of one group.
pub fn pending_prefix(group: &[u8]) -> Vec<u8> {
    let mut out = meta_prefix(PENDING);
    put_name(&mut out, group);
    out
}

/// A consumer group's record value.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GroupRecord {
    pub consumers: u64,
    pub pending: u64,
    pub last_delivered: StreamId,
    /// -1 (stored as u64::MAX) when unknown.
    pub entries_read: i64,
    pub lag: u64,
}

impl GroupRecord {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(48);
        put_u64(&mut out, self.consumers);
        put_u64(&mut out, self.pending);
        put_u64(&mut out, self.last_delivered.ms);
        put_u64(&mut out, self.last_delivered.seq);
        put_u64(&mut out, self.entries_read as u64);
        put_u64(&mut out, self.lag);
        out
    }

    pub fn decode(mut raw: &[u8]) -> Option<GroupRecord> {
        let consumers = get_u64(&mut raw)?;
        let pending = get_u64(&mut raw)?;
        let last_delivered = StreamId::new(get_u64(&mut raw)?, get_u64(&mut raw)?);
        let entries_read = get_u64(&mut raw)? as i64;
        let lag = get_u64(&mut raw)?;
        Some(GroupRecord {
            consumers,
            pending,
            last_delivered,
            entries_read,
            lag,
        })
    }
}

/// A consumer's record value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ConsumerRecord {
    pub pending: u64,
    /// Last time the consumer was seen (Redis's seen-time).
    pub last_attempted_ms: u64,
    /// Last time a read or claim gave it entries (Redis 7.2's active-time).
    pub last_successful_ms: u64,
}

impl ConsumerRecord {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(24);
        put_u64(&mut out, self.pending);
        put_u64(&mut out, self.last_attempted_ms);
        put_u64(&mut out, self.last_successful_ms);
        out
    }

    pub fn decode(mut raw: &[u8]) -> Option<ConsumerRecord> {
        Some(ConsumerRecord {
            pending: get_u64(&mut raw)?,
            last_attempted_ms: get_u64(&mut raw)?,
            last_successful_ms: get_u64(&mut raw)?,
        })
    }
}

/// A pending entry's record value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingRecord {
    pub delivery_ms: u64,
    pub delivery_count: u64,
    pub consumer: Vec<u8>,
}

impl PendingRecord {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(24 + self.consumer.len());
        put_u64(&mut out, self.delivery_ms);
        put_u64(&mut out, self.delivery_count);
        put_name(&mut out, &self.consumer);
        out
    }

    pub fn decode(mut raw: &[u8]) -> Option<PendingRecord> {
        let delivery_ms = get_u64(&mut raw)?;
        let delivery_count = get_u64(&mut raw)?;
        let len = get_u64(&mut raw)? as usize;
        let consumer = raw.get(..len)?.to_vec();
        Some(PendingRecord {
            delivery_ms,
            delivery_count,
            consumer,
        })
    }
}

/// The name a consumer record's subkey ends with (after its group prefix).
pub fn name_after(prefix_len: usize, sub: &[u8]) -> Option<Vec<u8>> {
    let mut input = sub.get(prefix_len..)?;
    let len = get_u64(&mut input)? as usize;
    input.get(..len).map(<[u8]>::to_vec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_values_round_trip_with_long_fields() {
        let long = vec![b'x'; 300];
        let raw = encode_entry(&[b"f", &long, b""]);
        // 300 = 0b10_0101100: varint bytes 0xac 0x02.
        assert_eq!(&raw[..3], &[1, b'f', 0xac]);
        assert_eq!(raw[3], 0x02);
        assert_eq!(
            decode_entry(&raw).unwrap(),
            vec![b"f".to_vec(), long, Vec::new()]
        );
        assert_eq!(decode_entry(&[5, b'a']), None);
    }

    #[test]
    fn meta_trailer_is_kvrocks_bytes() {
        let meta = StreamMeta {
            last_generated: StreamId::new(1, 2),
            entries_added: 7,
            group_number: 1,
            ..Default::default()
        };
        let raw = meta.encode();
        assert_eq!(raw.len(), 5 * 16 + 16);
        assert_eq!(
            &raw[..16],
            &[0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2]
        );
        assert_eq!(StreamMeta::decode(&raw), Some(meta));
        // Without group_number, as older Kvrocks wrote it.
        let short = StreamMeta::decode(&raw[..88]).unwrap();
        assert_eq!(short.group_number, 0);
        assert_eq!(StreamMeta::decode(&raw[..80]), None);
    }

    #[test]
    fn group_records_sort_after_entries_and_round_trip() {
        let g = group_subkey(b"grp");
        // After every id below ms u64::MAX (ids at u64::MAX interleave with
        // them and are told apart by length).
        assert!(StreamId::new(u64::MAX - 1, u64::MAX).encode().as_slice() < g.as_slice());
        assert_eq!(
            &g[..9],
            &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1]
        );
        assert_eq!(group_of_subkey(&g), Some(b"grp".to_vec()));
        let c = consumer_subkey(b"grp", b"alice");
        assert_eq!(c[8], 2);
        assert_eq!(
            name_after(consumers_prefix(b"grp").len(), &c),
            Some(b"alice".to_vec())
        );
        let p = pending_subkey(b"grp", StreamId::new(3, 4));
        assert_eq!(p[8], 3);
        assert_eq!(
            StreamId::decode(&p[pending_prefix(b"grp").len()..]),
            Some(StreamId::new(3, 4))
        );
        let rec = GroupRecord {
            entries_read: -1,
            ..Default::default()
        };
        assert_eq!(GroupRecord::decode(&rec.encode()), Some(rec));
        let pel = PendingRecord {
            delivery_ms: 9,
            delivery_count: 2,
            consumer: b"bob".to_vec(),
        };
        assert_eq!(PendingRecord::decode(&pel.encode()), Some(pel));
    }
}
