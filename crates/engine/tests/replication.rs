//! The engine's replication interface on real RocksDB directories: the WAL
//! read back batch by batch, applied raw on a second database, and the
//! fence that refuses every other write.

use basalt_engine::{ColumnFamily, EngineError, EngineOptions, Storage, WriteBatch};

fn open(dir: &std::path::Path) -> Storage {
    let mut opts = EngineOptions::new(dir);
    opts.wal_ttl_seconds = 3600;
    Storage::open(&opts).expect("open storage")
}

fn put(s: &Storage, pairs: &[(&[u8], &[u8])]) -> Result<(), EngineError> {
    let mut batch = WriteBatch::default();
    for (k, v) in pairs {
        s.put(&mut batch, ColumnFamily::Metadata, k, v);
    }
    s.write(batch)
}

#[test]
fn batches_read_from_the_wal_rebuild_the_same_database() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let master = open(a.path());
    put(&master, &[(b"k1", b"v1")]).unwrap();
    put(&master, &[(b"k2", b"v2"), (b"k3", b"v3")]).unwrap();
    put(&master, &[(b"k4", b"v4")]).unwrap();
    master.flush_wal_buffer().unwrap();
    assert_eq!(master.latest_sequence_number(), 4);

    let batches: Vec<_> = master.wal_since(1).unwrap().map(|b| b.unwrap()).collect();
    let starts: Vec<u64> = batches.iter().map(|b| b.sequence).collect();
    assert_eq!(starts, vec![1, 2, 4]);
    assert_eq!(batches[1].count, 2);
    assert_eq!(batches[1].next_sequence(), 4);

    // Exactly at a batch boundary, the next sequence, or nothing.
    assert!(master.wal_starts_at(1));
    assert!(master.wal_starts_at(2));
    assert!(!master.wal_starts_at(3), "3 is inside the second batch");
    assert!(master.wal_starts_at(4));
    assert!(master.wal_starts_at(5));
    assert!(!master.wal_starts_at(6));
    assert!(!master.wal_starts_at(0));

    let replica = open(b.path());
    replica.set_fenced(true);
    assert!(matches!(
        put(&replica, &[(b"local", b"x")]),
        Err(EngineError::ReplicaReadOnly)
    ));
    for batch in &batches {
        assert_eq!(replica.apply_replicated(&batch.data).unwrap(), batch.count);
    }
    assert_eq!(replica.latest_sequence_number(), 4);
    // Metadata keys of the default namespace name their user keys.
    let mut batch = WriteBatch::default();
    let meta = master.prefix().metadata_key(b"user");
    master.put(&mut batch, ColumnFamily::Metadata, &meta, b"x");
    master.delete(&mut batch, ColumnFamily::Metadata, &meta);
    master.write(batch).unwrap();
    master.flush_wal_buffer().unwrap();
    let last = master.wal_since(5).unwrap().next().unwrap().unwrap();
    assert_eq!(replica.batch_user_keys(&last.data), vec![b"user".to_vec()]);
    for k in [b"k1", b"k2", b"k3", b"k4"] {
        assert_eq!(
            replica.get(ColumnFamily::Metadata, k).unwrap().as_deref(),
            master.get(ColumnFamily::Metadata, k).unwrap().as_deref()
        );
    }
    assert!(replica.apply_replicated(b"short").is_err());
    assert!(
        replica.apply_replicated(&[0u8; 12]).is_err(),
        "an empty batch"
    );
    replica.set_fenced(false);
    put(&replica, &[(b"local", b"x")]).unwrap();
}

#[test]
fn consecutive_batches_applied_as_one_write_keep_the_masters_sequences() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let master = open(a.path());
    put(&master, &[(b"k1", b"v1")]).unwrap();
    put(&master, &[(b"k2", b"v2"), (b"k3", b"v3")]).unwrap();
    put(&master, &[(b"k1", b"v1b")]).unwrap();
    put(&master, &[(b"k4", b"v4")]).unwrap();
    master.flush_wal_buffer().unwrap();
    let batches: Vec<_> = master.wal_since(1).unwrap().map(|b| b.unwrap()).collect();
    assert_eq!(batches.len(), 4);

    let replica = open(b.path());
    replica.set_fenced(true);
    let first: Vec<&[u8]> = batches[..3].iter().map(|b| &b.data[..]).collect();
    assert_eq!(replica.apply_replicated_all(&first).unwrap(), 4);
    // One write: RocksDB's WAL holds one record for the three batches,
    // whose records kept their sequences 1..=4 (k1 overwritten at 4).
    replica.flush_wal_buffer().unwrap();
    let written: Vec<_> = replica.wal_since(1).unwrap().map(|b| b.unwrap()).collect();
    assert_eq!(written.len(), 1);
    assert_eq!((written[0].sequence, written[0].count), (1, 4));
    assert_eq!(replica.latest_sequence_number(), 4);
    assert_eq!(
        replica
            .get(ColumnFamily::Metadata, b"k1")
            .unwrap()
            .as_deref(),
        Some(&b"v1b"[..])
    );

    // A malformed batch: what comes before it is written, then the error.
    let last: Vec<&[u8]> = vec![&batches[3].data, b"short"];
    assert!(replica.apply_replicated_all(&last).is_err());
    assert_eq!(replica.latest_sequence_number(), 5);
    for k in [b"k1", b"k2", b"k3", b"k4"] {
        assert_eq!(
            replica.get(ColumnFamily::Metadata, k).unwrap().as_deref(),
            master.get(ColumnFamily::Metadata, k).unwrap().as_deref()
        );
    }
}
