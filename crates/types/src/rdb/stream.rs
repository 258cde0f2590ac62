//! Streams in RDB: RDB_TYPE_STREAM_LISTPACKS (Redis 5/6), _2 (7.0) and _3
//! (7.2) are read; _2 is written, which Redis 7.0 and 7.2 both load.
//!
//! Entries travel as listpack nodes keyed by their master id: a master
//! entry (`count deleted n field... 0`), then per entry `flags ms-diff
//! seq-diff [n field value ... | value ...] lp-count`, ids relative to the
//! master id; deleted entries (flag 1) are skipped on load.

use super::reader::Reader;
use super::{listpack, types, writer, Error};
use crate::stream::{ConsumerInfo, Entry, GroupValue, Pending, StreamId, StreamValue};
use std::collections::{HashMap, HashSet};

const FLAG_DELETED: i64 = 1;
const FLAG_SAMEFIELDS: i64 = 2;
/// Entries per written node (Redis's stream-node-max-entries default).
const NODE_ENTRIES: usize = 100;

fn int(e: &[u8]) -> Result<i64, Error> {
    crate::number::parse_i64(e).ok_or(Error::BadData)
}

fn id(r: &mut Reader) -> Result<StreamId, Error> {
    Ok(StreamId::new(r.len()?, r.len()?))
}

fn raw_id(r: &mut Reader) -> Result<StreamId, Error> {
    StreamId::decode(&r.array::<16>()?).ok_or(Error::BadData)
}

fn millis(r: &mut Reader) -> Result<u64, Error> {
    Ok(u64::from_le_bytes(r.array::<8>()?))
}

/// The entries of one listpack node whose master id is `master`.
fn node_entries(master: StreamId, lp: &[u8], out: &mut Vec<Entry>) -> Result<(), Error> {
    let items = listpack::entries(lp)?;
    let mut it = items.iter().map(|e| &e[..]);
    let mut next = || it.next().ok_or(Error::BadData);
    let _count = int(next()?)?;
    let _deleted = int(next()?)?;
    let master_fields = int(next()?)?;
    let master_fields: Vec<Vec<u8>> = (0..master_fields)
        .map(|_| next().map(<[u8]>::to_vec))
        .collect::<Result<_, _>>()?;
    if int(next()?)? != 0 {
        return Err(Error::BadData);
    }
    loop {
        let flags = match it.next() {
            None => break,
            Some(f) => int(f)?,
        };
        let mut next = || it.next().ok_or(Error::BadData);
        let ms = master.ms.wrapping_add(int(next()?)? as u64);
        let seq = master.seq.wrapping_add(int(next()?)? as u64);
        let mut fields = Vec::new();
        if flags & FLAG_SAMEFIELDS != 0 {
            for f in &master_fields {
                fields.push(f.clone());
                fields.push(next()?.to_vec());
            }
        } else {
            let n = int(next()?)?;
            for _ in 0..n.checked_mul(2).ok_or(Error::BadData)? {
                fields.push(next()?.to_vec());
            }
        }
        let _lp_count = next()?;
        if flags & FLAG_DELETED == 0 {
            let id = StreamId::new(ms, seq);
            if out.last().is_some_and(|e: &Entry| e.id >= id) {
                return Err(Error::BadData);
            }
            out.push(Entry { id, fields });
        }
    }
    Ok(())
}

pub fn decode(r: &mut Reader, kind: u8) -> Result<StreamValue, Error> {
    let v2 = kind >= types::STREAM_LISTPACKS_2;
    let v3 = kind >= types::STREAM_LISTPACKS_3;
    let mut value = StreamValue::default();
    for _ in 0..r.count()? {
        let master = StreamId::decode(&r.string()?).ok_or(Error::BadData)?;
        let lp = r.string()?;
        node_entries(master, &lp, &mut value.entries)?;
    }
    let length = r.len()?;
    if length != value.entries.len() as u64 {
        return Err(Error::BadData);
    }
    value.last_id = id(r)?;
    if v2 {
        value.first_id = id(r)?;
        value.max_deleted = id(r)?;
        value.entries_added = r.len()?;
    } else {
        value.first_id = value.entries.first().map_or(StreamId::MIN, |e| e.id);
        value.entries_added = length;
    }
    let mut names = HashSet::new();
    for _ in 0..r.count()? {
        let name = r.string()?;
        if !names.insert(name.clone()) {
            return Err(Error::BadData);
        }
        let last_delivered = id(r)?;
        let entries_read = if v2 {
            let n = r.len()?;
            (n != u64::MAX).then_some(n)
        } else {
            value.estimate_entries_read(last_delivered)
        };
        let mut pel: HashMap<StreamId, (u64, u64)> = HashMap::new();
        let mut order = Vec::new();
        for _ in 0..r.count()? {
            let pid = raw_id(r)?;
            let at = millis(r)?;
            let count = r.len()?;
            if pel.insert(pid, (at, count)).is_some() {
                return Err(Error::BadData);
            }
            order.push(pid);
        }
        let mut owner: HashMap<StreamId, Vec<u8>> = HashMap::new();
        let mut consumers = Vec::new();
        for _ in 0..r.count()? {
            let cname = r.string()?;
            let seen_ms = millis(r)?;
            let active_ms = if v3 { millis(r)? } else { seen_ms };
            let n = r.count()?;
            for _ in 0..n {
                let pid = raw_id(r)?;
                if !pel.contains_key(&pid) || owner.insert(pid, cname.clone()).is_some() {
                    return Err(Error::BadData);
                }
            }
            consumers.push(ConsumerInfo {
                name: cname,
                pending: n,
                seen_ms,
                active_ms,
            });
        }
        let mut pending = Vec::with_capacity(order.len());
        for pid in order {
            let (delivery_ms, deliveries) = pel[&pid];
            // Every pending entry must have an owner (Redis's deep check).
            let consumer = owner.remove(&pid).ok_or(Error::BadData)?;
            pending.push(Pending {
                id: pid,
                consumer,
                delivery_ms,
                deliveries,
            });
        }
        value.groups.push(GroupValue {
            name,
            last_delivered,
            entries_read,
            pending,
            consumers,
        });
    }
    Ok(value)
}

/// RDB_TYPE_STREAM_LISTPACKS_2, after the type byte.
pub fn encode(value: &StreamValue, out: &mut Vec<u8>) {
    let nodes: Vec<&[Entry]> = value.entries.chunks(NODE_ENTRIES).collect();
    writer::len(nodes.len() as u64, out);
    for node in nodes {
        let master = node[0].id;
        let master_fields: Vec<&[u8]> = node[0].fields.iter().step_by(2).map(|f| &f[..]).collect();
        let mut items: Vec<Vec<u8>> = Vec::new();
        let num = |n: i64| n.to_string().into_bytes();
        items.push(num(node.len() as i64));
        items.push(num(0));
        items.push(num(master_fields.len() as i64));
        items.extend(master_fields.iter().map(|f| f.to_vec()));
        items.push(num(0));
        for e in node {
            let names: Vec<&[u8]> = e.fields.iter().step_by(2).map(|f| &f[..]).collect();
            let same = names == master_fields;
            let pairs = (e.fields.len() / 2) as i64;
            items.push(num(if same { FLAG_SAMEFIELDS } else { 0 }));
            items.push(num(e.id.ms.wrapping_sub(master.ms) as i64));
            items.push(num(e.id.seq.wrapping_sub(master.seq) as i64));
            if same {
                items.extend(e.fields.iter().skip(1).step_by(2).cloned());
                items.push(num(pairs + 3));
            } else {
                items.push(num(pairs));
                items.extend(e.fields.iter().cloned());
                items.push(num(2 * pairs + 4));
            }
        }
        writer::raw_string(&master.encode(), out);
        writer::raw_string(&listpack::build(items.iter().map(|i| &i[..])), out);
    }
    writer::len(value.entries.len() as u64, out);
    for id in [value.last_id, value.first_id, value.max_deleted] {
        writer::len(id.ms, out);
        writer::len(id.seq, out);
    }
    writer::len(value.entries_added, out);
    writer::len(value.groups.len() as u64, out);
    for g in &value.groups {
        writer::raw_string(&g.name, out);
        writer::len(g.last_delivered.ms, out);
        writer::len(g.last_delivered.seq, out);
        writer::len(g.entries_read.unwrap_or(u64::MAX), out);
        writer::len(g.pending.len() as u64, out);
        for p in &g.pending {
            out.extend_from_slice(&p.id.encode());
            out.extend_from_slice(&p.delivery_ms.to_le_bytes());
            writer::len(p.deliveries, out);
        }
        writer::len(g.consumers.len() as u64, out);
        for c in &g.consumers {
            writer::raw_string(&c.name, out);
            out.extend_from_slice(&c.seen_ms.to_le_bytes());
            let mine: Vec<&Pending> = g.pending.iter().filter(|p| p.consumer == c.name).collect();
            writer::len(mine.len() as u64, out);
            for p in mine {
                out.extend_from_slice(&p.id.encode());
            }
        }
    }
}
