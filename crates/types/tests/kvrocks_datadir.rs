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
