//! The compaction filters reclaim exactly what is dead: expired metadata,
//! and subkeys whose key was deleted, overwritten (new version or a string)
//! or expired, while live data survives.

use basalt_engine::key::KeyPrefix;
use basalt_engine::{ColumnFamily, EngineOptions, Metadata, RedisType, Storage, WriteBatch};

fn open(dir: &std::path::Path) -> Storage {
    let mut opts = EngineOptions::new(dir);
    opts.block_cache_bytes = 8 << 20;
    Storage::open(&opts).unwrap()
}

fn hash_meta(version: u64, expire_ms: u64) -> Vec<u8> {
    Metadata {
        kind: RedisType::Hash,
        expire_ms,
        version,
        size: 1,
    }
    .encode()
}

#[test]
fn filters_drop_dead_records_and_keep_live_ones() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    let p: KeyPrefix = s.prefix().clone();
    let mut b = WriteBatch::default();
    // live hash, version 10, with a stale subkey of version 9
    s.put(
        &mut b,
        ColumnFamily::Metadata,
        &p.metadata_key(b"live"),
        &hash_meta(10, 0),
    );
    s.put(
        &mut b,
        ColumnFamily::Default,
        &p.subkey(b"live", 10, b"f"),
        b"v",
    );
    s.put(
        &mut b,
        ColumnFamily::Default,
        &p.subkey(b"live", 9, b"f"),
        b"old",
    );
    // subkey whose metadata was deleted
    s.put(
        &mut b,
        ColumnFamily::Default,
        &p.subkey(b"deleted", 5, b"f"),
        b"v",
    );
    // subkey of a key overwritten by a string
    s.put(
        &mut b,
        ColumnFamily::Metadata,
        &p.metadata_key(b"now_string"),
        &Metadata::encode_string(0, b"s"),
    );
    s.put(
        &mut b,
        ColumnFamily::Default,
        &p.subkey(b"now_string", 7, b"f"),
        b"v",
    );
    // metadata expired long ago, and its subkey
    s.put(
        &mut b,
        ColumnFamily::Metadata,
        &p.metadata_key(b"expired"),
        &hash_meta(3, 1000),
    );
    s.put(
        &mut b,
        ColumnFamily::Default,
        &p.subkey(b"expired", 3, b"f"),
        b"v",
    );
    s.put(&mut b, ColumnFamily::PubSub, b"channel", b"message");
    s.write(b).unwrap();

    // Compact the subkey families before the metadata so the filter still
    // sees "expired" and must decide from its TTL.
    s.compact_all();

    let get = |cf, k: &[u8]| s.get(cf, k).unwrap().map(|v| v.to_vec());
    assert_eq!(
        get(ColumnFamily::Default, &p.subkey(b"live", 10, b"f")),
        Some(b"v".to_vec())
    );
    assert!(get(ColumnFamily::Metadata, &p.metadata_key(b"live")).is_some());
    assert_eq!(
        get(ColumnFamily::Default, &p.subkey(b"live", 9, b"f")),
        None
    );
    assert_eq!(
        get(ColumnFamily::Default, &p.subkey(b"deleted", 5, b"f")),
        None
    );
    assert_eq!(
        get(ColumnFamily::Default, &p.subkey(b"now_string", 7, b"f")),
        None
    );
    assert!(get(ColumnFamily::Metadata, &p.metadata_key(b"now_string")).is_some());
    assert_eq!(
        get(ColumnFamily::Metadata, &p.metadata_key(b"expired")),
        None
    );
    assert_eq!(
        get(ColumnFamily::Default, &p.subkey(b"expired", 3, b"f")),
        None
    );
    assert_eq!(get(ColumnFamily::PubSub, b"channel"), None);
}

#[test]
fn second_open_of_a_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let _first = open(dir.path());
    let err = Storage::open(&EngineOptions::new(dir.path()))
        .err()
        .expect("second open must fail");
    assert!(
        err.to_string().contains("in use by another process"),
        "{err}"
    );
}

#[test]
fn writes_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let key = {
        let s = open(dir.path());
        let k = s.prefix().metadata_key(b"k");
        let mut b = WriteBatch::default();
        s.put(
            &mut b,
            ColumnFamily::Metadata,
            &k,
            &Metadata::encode_string(0, b"v"),
        );
        s.write(b).unwrap();
        s.close();
        k
    };
    let s = open(dir.path());
    assert_eq!(
        s.get(ColumnFamily::Metadata, &key)
            .unwrap()
            .unwrap()
            .to_vec(),
        Metadata::encode_string(0, b"v")
    );
}
