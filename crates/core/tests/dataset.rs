//! Replacing the whole dataset under the dataset lock (what a replica's
//! full sync will do), on real RocksDB directories.

use basalt_config::Config;
use basalt_core::command::CommandTable;
use basalt_core::shared::Shared;
use basalt_engine::{EngineError, EngineOptions, Storage};
use basalt_types::string::SetOptions;
use std::sync::Arc;

fn open(dir: &std::path::Path) -> Arc<Storage> {
    Arc::new(Storage::open(&EngineOptions::new(dir)).expect("open storage"))
}

fn table() -> &'static CommandTable {
    Box::leak(Box::new(CommandTable::new(&[])))
}

#[test]
fn the_dataset_is_replaced_whole_and_its_caches_reset() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    {
        let other = open(b.path());
        let db = basalt_types::Database::new(other.clone());
        db.set(b"only-in-b", b"1", SetOptions::default()).unwrap();
        db.stop_background();
        other.close();
    }
    let shared = Shared::new(Config::default(), open(a.path()), table());
    let data = shared.data();
    data.db
        .set(b"only-in-a", b"1", SetOptions::default())
        .unwrap();
    drop(data);

    let b_path = b.path().to_path_buf();
    shared
        .replace_dataset(|old| {
            old.storage.close();
            Ok(open(&b_path))
        })
        .unwrap();
    let data = shared.data();
    assert_eq!(data.db.get(b"only-in-a").unwrap(), None);
    assert_eq!(data.db.get(b"only-in-b").unwrap(), Some(b"1".to_vec()));
}

#[test]
fn a_failed_replacement_keeps_the_old_dataset() {
    let a = tempfile::tempdir().unwrap();
    let shared = Shared::new(Config::default(), open(a.path()), table());
    shared
        .data()
        .db
        .set(b"kept", b"1", SetOptions::default())
        .unwrap();
    let result = shared.replace_dataset(|_| {
        Err(EngineError::Io {
            path: "checkpoint".into(),
            source: std::io::Error::other("transfer broken"),
        })
    });
    assert!(result.is_err());
    let data = shared.data();
    assert_eq!(data.db.get(b"kept").unwrap(), Some(b"1".to_vec()));
    // Writes still work, including reclaiming a deleted collection in the
    // background (restarted on the kept storage).
    data.db.set(b"after", b"2", SetOptions::default()).unwrap();
    assert_eq!(data.db.get(b"after").unwrap(), Some(b"2".to_vec()));
}

#[test]
fn the_string_limit_survives_a_failed_replacement() {
    let a = tempfile::tempdir().unwrap();
    let mut config = Config::default();
    config.proto_max_bulk_len = 1000;
    let shared = Shared::new(config, open(a.path()), table());
    let _ = shared.replace_dataset(|_| {
        Err(EngineError::Io {
            path: "checkpoint".into(),
            source: std::io::Error::other("transfer broken"),
        })
    });
    assert_eq!(shared.data().db.max_string_len(), 1000);
}
