//! Transactions: writes stay invisible to others until commit, are visible
//! to the transaction's own reads and iterators, and commit as one batch.

use basalt_engine::{ColumnFamily, EngineOptions, Storage, WriteBatch};
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::sync::Arc;

const CF: ColumnFamily = ColumnFamily::Default;

fn open(dir: &std::path::Path) -> Arc<Storage> {
    let mut opts = EngineOptions::new(dir);
    opts.block_cache_bytes = 8 << 20;
    Arc::new(Storage::open(&opts).unwrap())
}

fn put(s: &Storage, k: &[u8], v: &[u8]) {
    let mut b = WriteBatch::default();
    s.put(&mut b, CF, k, v);
    s.write(b).unwrap();
}

fn del(s: &Storage, k: &[u8]) {
    let mut b = WriteBatch::default();
    s.delete(&mut b, CF, k);
    s.write(b).unwrap();
}

fn get(s: &Storage, k: &[u8]) -> Option<Vec<u8>> {
    s.get(CF, k).unwrap().map(|v| v.to_vec())
}

fn forward(s: &Storage) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut it = s.iter(CF, None, None);
    it.seek_to_first();
    let mut out = Vec::new();
    while it.valid() {
        out.push((it.key().unwrap().to_vec(), it.value().unwrap().to_vec()));
        it.next();
    }
    out
}

fn backward(s: &Storage) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut it = s.iter(CF, None, None);
    it.seek_to_last();
    let mut out = Vec::new();
    while it.valid() {
        out.push((it.key().unwrap().to_vec(), it.value().unwrap().to_vec()));
        it.prev();
    }
    out.reverse();
    out
}

#[test]
fn writes_are_private_until_commit() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    put(&s, b"a", b"1");
    let txn = s.begin_txn(&[b"a"]);
    put(&s, b"a", b"2");
    put(&s, b"b", b"3");
    assert!(txn.has_writes());
    assert_eq!(get(&s, b"a").as_deref(), Some(&b"2"[..]));
    let other = {
        let s = s.clone();
        std::thread::spawn(move || (get(&s, b"a"), get(&s, b"b")))
            .join()
            .unwrap()
    };
    assert_eq!(other, (Some(b"1".to_vec()), None));
    txn.commit().unwrap();
    assert_eq!(get(&s, b"a").as_deref(), Some(&b"2"[..]));
    assert_eq!(get(&s, b"b").as_deref(), Some(&b"3"[..]));
}

#[test]
fn dropping_discards_and_releases_locks() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    {
        let _txn = s.begin_txn(&[b"k"]);
        put(&s, b"k", b"v");
    }
    assert_eq!(get(&s, b"k"), None);
    // The lock was released: another thread can take it.
    let s2 = s.clone();
    std::thread::spawn(move || drop(s2.locks().lock(b"k")))
        .join()
        .unwrap();
}

#[test]
fn holds_declared_locks_and_commands_inside_do_not_deadlock() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    let txn = s.begin_txn(&[b"x", b"y"]);
    // A command inside the transaction locks its keys again.
    drop(s.locks().lock_many(&[b"y", b"x"]));
    let (tx, rx) = std::sync::mpsc::channel();
    let s2 = s.clone();
    let waiter = std::thread::spawn(move || {
        let _g = s2.locks().lock(b"x");
        tx.send(()).unwrap();
    });
    assert!(rx
        .recv_timeout(std::time::Duration::from_millis(200))
        .is_err());
    txn.commit().unwrap();
    rx.recv_timeout(std::time::Duration::from_secs(5)).unwrap();
    waiter.join().unwrap();
}

#[test]
fn nested_transactions_commit_with_the_outermost() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    let outer = s.begin_txn(&[b"a"]);
    let inner = s.begin_txn(&[b"b"]);
    put(&s, b"b", b"1");
    inner.commit().unwrap();
    let s2 = s.clone();
    assert_eq!(
        std::thread::spawn(move || get(&s2, b"b")).join().unwrap(),
        None
    );
    outer.commit().unwrap();
    assert_eq!(get(&s, b"b").as_deref(), Some(&b"1"[..]));
}

#[test]
fn after_commit_runs_after_the_write_and_not_on_abort() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    let ran = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    {
        let _txn = s.begin_txn(&[b"a"]);
        let r = ran.clone();
        s.after_commit(move || {
            r.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        });
    }
    assert_eq!(ran.load(std::sync::atomic::Ordering::SeqCst), 0);
    let txn = s.begin_txn(&[b"a"]);
    put(&s, b"a", b"1");
    let (r, s2) = (ran.clone(), s.clone());
    s.after_commit(move || {
        assert_eq!(get(&s2, b"a").as_deref(), Some(&b"1"[..]));
        r.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    });
    txn.commit().unwrap();
    assert_eq!(ran.load(std::sync::atomic::Ordering::SeqCst), 1);
    // Outside a transaction it runs at once.
    let r = ran.clone();
    s.after_commit(move || {
        r.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    });
    assert_eq!(ran.load(std::sync::atomic::Ordering::SeqCst), 2);
}

#[derive(Debug, Clone)]
enum Step {
    Put(u8, u8),
    Delete(u8),
    DeleteRange(u8, u8),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (0u8..24, any::<u8>()).prop_map(|(k, v)| Step::Put(k, v)),
        (0u8..24).prop_map(Step::Delete),
        (0u8..24, 0u8..6).prop_map(|(k, n)| Step::DeleteRange(k, k + n)),
    ]
}

fn apply(s: &Storage, model: &mut BTreeMap<Vec<u8>, Vec<u8>>, st: &Step) {
    let key = |k: u8| vec![b'k', k];
    match *st {
        Step::Put(k, v) => {
            put(s, &key(k), &[v]);
            model.insert(key(k), vec![v]);
        }
        Step::Delete(k) => {
            del(s, &key(k));
            model.remove(&key(k));
        }
        Step::DeleteRange(a, b) => {
            let mut batch = WriteBatch::default();
            s.delete_range(&mut batch, CF, &key(a), &key(b));
            s.write(batch).unwrap();
            model.retain(|k, _| {
                !(k.as_slice() >= key(a).as_slice() && k.as_slice() < key(b).as_slice())
            });
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// Whatever was written before and inside the transaction, its reads,
    /// forward and backward iteration, seeks and direction changes agree
    /// with a sorted map; after commit the database agrees too.
    #[test]
    fn merged_view_matches_a_model(before in prop::collection::vec(step(), 0..30),
                                   inside in prop::collection::vec(step(), 0..30),
                                   probe in 0u8..26) {
        let dir = tempfile::tempdir().unwrap();
        let s = open(dir.path());
        let mut model = BTreeMap::new();
        for st in &before { apply(&s, &mut model, st); }
        let txn = s.begin_txn(&[b"any"]);
        for st in &inside { apply(&s, &mut model, st); }
        let expect: Vec<_> = model.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        prop_assert_eq!(forward(&s), expect.clone());
        prop_assert_eq!(backward(&s), expect.clone());
        for k in 0u8..26 {
            prop_assert_eq!(get(&s, &[b'k', k]), model.get(&vec![b'k', k]).cloned());
        }
        // seek, then next/prev around the probe key
        let target = vec![b'k', probe];
        let mut it = s.iter(CF, None, None);
        it.seek(&target);
        let at = expect.iter().position(|(k, _)| *k >= target);
        match at {
            None => prop_assert!(!it.valid()),
            Some(i) => {
                prop_assert_eq!(it.key().unwrap(), expect[i].0.as_slice());
                it.prev();
                if i == 0 { prop_assert!(!it.valid()); } else {
                    prop_assert_eq!(it.key().unwrap(), expect[i - 1].0.as_slice());
                    it.next();
                    prop_assert_eq!(it.key().unwrap(), expect[i].0.as_slice());
                }
            }
        }
        let mut it = s.iter(CF, None, None);
        it.seek_for_prev(&target);
        match expect.iter().rposition(|(k, _)| *k <= target) {
            None => prop_assert!(!it.valid()),
            Some(i) => {
                prop_assert_eq!(it.key().unwrap(), expect[i].0.as_slice());
                it.next();
                match expect.get(i + 1) {
                    None => prop_assert!(!it.valid()),
                    Some(e) => prop_assert_eq!(it.key().unwrap(), e.0.as_slice()),
                }
            }
        }
        txn.commit().unwrap();
        prop_assert_eq!(forward(&s), expect);
    }
}
