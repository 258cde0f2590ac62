//! A data directory laid out by Kvrocks 2.x opens in Basalt and serves its
//! strings. The records are written with the plain RocksDB API, byte for
//! byte as Kvrocks writes them (see docs/architecture.md), including the
//! older 32-bit metadata encoding and a column family Basalt does not use.

use basalt_engine::{EngineOptions, Storage};
use basalt_types::Database;
use rocksdb::{Options, DB};
use std::sync::Arc;

const KVROCKS_FAMILIES: &[&str] = &[
    "default",
    "metadata",
    "zset_score",
    "pubsub",
    "propagate",
    "stream",
    "search",
    "index",
];

fn ns_key(key: &[u8]) -> Vec<u8> {
    let mut out = vec![11u8];
    out.extend_from_slice(b"__namespace");
    out.extend_from_slice(key);
    out
}

#[test]
fn kvrocks_strings_open_and_read() {
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("db");
    {
        let mut opts = Options::default();
        opts.create_if_missing(true);
        opts.create_missing_column_families(true);
        let db = DB::open_cf(&opts, &db_path, KVROCKS_FAMILIES).unwrap();
        let meta = db.cf_handle("metadata").unwrap();
        // New (64-bit) encoding: flags 0x81, expire u64 ms = 0, payload.
        let mut v = vec![0x81];
        v.extend_from_slice(&0u64.to_be_bytes());
        v.extend_from_slice(b"new-encoding");
        db.put_cf(meta, ns_key(b"k_new"), &v).unwrap();
        // Old (32-bit) encoding: flags 0x01, expire u32 seconds = 0.
        let mut v = vec![0x01];
        v.extend_from_slice(&0u32.to_be_bytes());
        v.extend_from_slice(b"old-encoding");
        db.put_cf(meta, ns_key(b"k_old"), &v).unwrap();
        // Expired long ago (ms since epoch = 1000): must be invisible.
        let mut v = vec![0x81];
        v.extend_from_slice(&1000u64.to_be_bytes());
        v.extend_from_slice(b"gone");
        db.put_cf(meta, ns_key(b"k_expired"), &v).unwrap();
        // A TTL far in the future.
        let mut v = vec![0x81];
        v.extend_from_slice(&(u64::MAX / 2).to_be_bytes());
        v.extend_from_slice(b"ttl");
        db.put_cf(meta, ns_key(b"k_ttl"), &v).unwrap();
        db.flush_cf(meta).unwrap();
    }
    let storage = Arc::new(Storage::open(&EngineOptions::new(dir.path())).unwrap());
    let db = Database::new(storage);
    assert_eq!(db.get(b"k_new").unwrap().unwrap(), b"new-encoding");
    assert_eq!(db.get(b"k_old").unwrap().unwrap(), b"old-encoding");
    assert_eq!(db.get(b"k_expired").unwrap(), None);
    assert_eq!(db.get(b"k_ttl").unwrap().unwrap(), b"ttl");
    let mut keys = db.keys(b"*").unwrap();
    keys.sort();
    assert_eq!(
        keys,
        vec![b"k_new".to_vec(), b"k_old".to_vec(), b"k_ttl".to_vec()]
    );
    // Writing through Basalt produces what Kvrocks would read back.
    db.set(b"k_old", b"rewritten", Default::default()).unwrap();
    let raw = db
        .storage()
        .get(basalt_engine::ColumnFamily::Metadata, &ns_key(b"k_old"))
        .unwrap()
        .unwrap()
        .to_vec();
    let mut expected = vec![0x81];
    expected.extend_from_slice(&0u64.to_be_bytes());
    expected.extend_from_slice(b"rewritten");
    assert_eq!(raw, expected);
}

/// A Kvrocks subkey: `ns_len | ns | u32 key_len | key | u64 version | sub`.
fn subkey(key: &[u8], version: u64, sub: &[u8]) -> Vec<u8> {
    let mut out = vec![11u8];
    out.extend_from_slice(b"__namespace");
    out.extend_from_slice(&(key.len() as u32).to_be_bytes());
    out.extend_from_slice(key);
    out.extend_from_slice(&version.to_be_bytes());
    out.extend_from_slice(sub);
    out
}

fn u64s(values: &[u64]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_be_bytes()).collect()
}

/// The all-ones prefix, a record kind, and length-prefixed names.
fn group_sub(kind: u8, names: &[&[u8]]) -> Vec<u8> {
    let mut out = u64::MAX.to_be_bytes().to_vec();
    out.push(kind);
    for n in names {
        out.extend_from_slice(&(n.len() as u64).to_be_bytes());
        out.extend_from_slice(n);
    }
    out
}

#[test]
fn kvrocks_streams_open_and_read() {
    use basalt_types::stream::{ReadGroupStart, StreamId};
    let dir = tempfile::tempdir().unwrap();
    let version = 7u64;
    {
        let mut opts = Options::default();
        opts.create_if_missing(true);
        opts.create_missing_column_families(true);
        let db = DB::open_cf(&opts, dir.path().join("db"), KVROCKS_FAMILIES).unwrap();
        let meta = db.cf_handle("metadata").unwrap();
        let stream = db.cf_handle("stream").unwrap();
        // Two entries 1-1 and 2-0; 1-0 was deleted; one group "g" that
        // delivered 1-1 to consumer "c".
        let mut v = vec![0x88];
        v.extend_from_slice(&u64s(&[0, version, 2]));
        v.extend_from_slice(&u64s(&[
            2, 0, // last generated
            1, 1, // recorded first
            1, 0, // max deleted
            1, 1, // first
            2, 0, // last
            3, // entries added
            1, // groups
        ]));
        db.put_cf(meta, ns_key(b"s"), &v).unwrap();
        for (ms, seq, fields) in [(1u64, 1u64, &[&b"f"[..], b"v1"]), (2, 0, &[b"f", b"v2"])] {
            let mut value = Vec::new();
            for f in fields {
                value.push(f.len() as u8);
                value.extend_from_slice(f);
            }
            db.put_cf(stream, subkey(b"s", version, &u64s(&[ms, seq])), &value)
                .unwrap();
        }
        // Group: consumers 1, pending 1, last delivered 1-1, entries read
        // 2, lag 1.
        db.put_cf(
            stream,
            subkey(b"s", version, &group_sub(1, &[b"g"])),
            u64s(&[1, 1, 1, 1, 2, 1]),
        )
        .unwrap();
        // Consumer: pending 1, seen and active times.
        db.put_cf(
            stream,
            subkey(b"s", version, &group_sub(2, &[b"g", b"c"])),
            u64s(&[1, 1000, 1000]),
        )
        .unwrap();
        // Pending entry 1-1: delivered at 1000 ms, once, to "c".
        let mut pel_key = group_sub(3, &[b"g"]);
        pel_key.extend_from_slice(&u64s(&[1, 1]));
        let mut pel = u64s(&[1000, 1, 1]);
        pel.push(b'c');
        db.put_cf(stream, subkey(b"s", version, &pel_key), &pel)
            .unwrap();
        db.flush_cf(meta).unwrap();
        db.flush_cf(stream).unwrap();
    }
    let storage = Arc::new(Storage::open(&EngineOptions::new(dir.path())).unwrap());
    let db = Database::new(storage);
    assert_eq!(db.xlen(b"s").unwrap(), 2);
    let entries = db
        .xrange(b"s", StreamId::MIN, StreamId::MAX, 0, false)
        .unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0].id, StreamId::new(1, 1));
    assert_eq!(entries[1].fields, vec![b"f".to_vec(), b"v2".to_vec()]);
    let info = db.xinfo_stream(b"s").unwrap().unwrap();
    assert_eq!(info.meta.entries_added, 3);
    assert_eq!(info.meta.max_deleted, StreamId::new(1, 0));
    assert_eq!(info.groups, 1);
    let groups = db.xinfo_groups(b"s").unwrap().unwrap();
    assert_eq!(groups[0].name, b"g");
    assert_eq!(groups[0].last_delivered, StreamId::new(1, 1));
    assert_eq!(groups[0].entries_read, Some(2));
    let summary = db.xpending_summary(b"s", b"g").unwrap();
    assert_eq!(summary.count, 1);
    assert_eq!(summary.consumers, vec![(b"c".to_vec(), 1)]);
    // The consumer's history, then what is new for the group.
    let history = db
        .xreadgroup(
            b"s",
            b"g",
            b"c",
            ReadGroupStart::History(StreamId::MIN),
            0,
            false,
            false,
        )
        .unwrap()
        .unwrap();
    assert_eq!(history.entries.len(), 1);
    let new = db
        .xreadgroup(b"s", b"g", b"c", ReadGroupStart::New, 0, false, false)
        .unwrap()
        .unwrap();
    assert_eq!(new.entries[0].0, StreamId::new(2, 0));
    assert_eq!(
        db.xack(b"s", b"g", &[StreamId::new(1, 1), StreamId::new(2, 0)])
            .unwrap(),
        2
    );
}
