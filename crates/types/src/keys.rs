//! Type-independent key operations: existence, deletion, TTLs, renames,
//! iteration and flushing. They work on the metadata record, so they apply to
//! every type; renaming or copying a collection also copies its subkeys.

use crate::database::{Database, Record};
use crate::error::{Error, Result};
use basalt_engine::key::prefix_upper_bound;
use basalt_engine::version::{generate_version, now_ms};
use basalt_engine::{ColumnFamily, Metadata, RedisType, WriteBatch};
use basalt_glob::glob_match;

/// EXPIRE's NX/XX/GT/LT.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExpireCondition {
    Always,
    NoTtl,
    HasTtl,
    Greater,
    Less,
}

/// TTL/PTTL/EXPIRETIME answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ttl {
    Missing,
    Persistent,
    /// Absolute expiry in Unix ms.
    ExpiresAt(u64),
}

pub struct ScanPage {
    /// 0 when the iteration is complete.
    pub cursor: u64,
    pub keys: Vec<Vec<u8>>,
}

impl Database {
    pub fn exists(&self, keys: &[&[u8]]) -> Result<u64> {
        let mut n = 0;
        for k in keys {
            if self.read(k)?.is_some() {
                n += 1;
            }
        }
        Ok(n)
    }

    pub fn del(&self, keys: &[&[u8]]) -> Result<u64> {
        Ok(self.del_keys(keys)?.len() as u64)
    }

    /// DEL, returning the keys that existed (each once), for callers that
    /// report per-key events.
    pub fn del_keys<'k>(&self, keys: &[&'k [u8]]) -> Result<Vec<&'k [u8]>> {
        let _guard = self.storage().locks().lock_many(keys);
        let mut batch = WriteBatch::default();
        let mut gone = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for k in keys {
            if !seen.insert(*k) {
                continue;
            }
            if let Some(record) = self.read(k)? {
                // Deleting only the metadata is what makes DEL O(1); the
                // elements are reclaimed in the background.
                self.storage()
                    .delete(&mut batch, ColumnFamily::Metadata, &self.metadata_key(k));
                gone.push((*k, record.metadata));
            }
        }
        if !gone.is_empty() {
            self.storage().write(batch)?;
        }
        for (k, m) in &gone {
            self.reclaim(k, m);
        }
        Ok(gone.into_iter().map(|(k, _)| k).collect())
    }

    /// EXPIRE family with an absolute time in ms. A time in the past deletes
    /// the key, as Redis does. Returns whether the TTL was set.
    pub fn expire_at(&self, key: &[u8], at_ms: i64, cond: ExpireCondition) -> Result<bool> {
        let _guard = self.storage().locks().lock(key);
        let Some(mut record) = self.read(key)? else {
            return Ok(false);
        };
        let current = record.metadata.expire_ms;
        let new = at_ms.max(0) as u64;
        let allowed = match cond {
            ExpireCondition::Always => true,
            ExpireCondition::NoTtl => current == 0,
            ExpireCondition::HasTtl => current != 0,
            // A key without TTL counts as an infinite TTL.
            ExpireCondition::Greater => current != 0 && new > current,
            ExpireCondition::Less => current == 0 || new < current,
        };
        if !allowed {
            return Ok(false);
        }
        let mut batch = WriteBatch::default();
        if at_ms <= now_ms() as i64 {
            self.storage()
                .delete(&mut batch, ColumnFamily::Metadata, &self.metadata_key(key));
            self.storage().write(batch)?;
            self.reclaim(key, &record.metadata);
        } else {
            record.metadata.expire_ms = new;
            self.put_record(&mut batch, key, &record);
            self.storage().write(batch)?;
        }
        Ok(true)
    }

    pub fn ttl(&self, key: &[u8]) -> Result<Ttl> {
        Ok(match self.read(key)? {
            None => Ttl::Missing,
            Some(r) if r.metadata.expire_ms == 0 => Ttl::Persistent,
            Some(r) => Ttl::ExpiresAt(r.metadata.expire_ms),
        })
    }

    pub fn persist(&self, key: &[u8]) -> Result<bool> {
        let _guard = self.storage().locks().lock(key);
        let Some(mut record) = self.read(key)? else {
            return Ok(false);
        };
        if record.metadata.expire_ms == 0 {
            return Ok(false);
        }
        record.metadata.expire_ms = 0;
        let mut batch = WriteBatch::default();
        self.put_record(&mut batch, key, &record);
        self.storage().write(batch)?;
        Ok(true)
    }

    /// Writes `record` (read from `src`) under `dst`. A collection gets a new
    /// version and a copy of every subkey, so `src` can be deleted or changed
    /// independently afterwards. O(number of elements).
    fn copy_record(
        &self,
        batch: &mut WriteBatch,
        src: &[u8],
        dst: &[u8],
        record: &Record,
    ) -> Result<()> {
        if record.metadata.kind.is_single_kv() {
            self.put_record(batch, dst, record);
            return Ok(());
        }
        let storage = self.storage();
        let prefix = storage.prefix();
        let new_version = generate_version();
        for cf in ColumnFamily::SUBKEY_FAMILIES {
            let from = prefix.subkey_prefix(src, record.metadata.version);
            let upper = prefix_upper_bound(&from);
            let mut it = storage.iter(cf, Some(&from), upper.as_deref());
            it.seek(&from);
            while let (Some(k), Some(v)) = (it.key(), it.value()) {
                let sub = &k[from.len()..];
                storage.put(batch, cf, &prefix.subkey(dst, new_version, sub), v);
                it.next();
            }
            it.status().map_err(basalt_engine::EngineError::from)?;
        }
        let copied = Record {
            metadata: Metadata {
                version: new_version,
                ..record.metadata.clone()
            },
            rest: record.rest.clone(),
        };
        self.put_record(batch, dst, &copied);
        Ok(())
    }

    /// RENAME (`only_if_absent` = false) and RENAMENX. Errors with NoSuchKey
    /// when `src` does not exist.
    pub fn rename(&self, src: &[u8], dst: &[u8], only_if_absent: bool) -> Result<bool> {
        let _guard = self.storage().locks().lock_many(&[src, dst]);
        let Some(record) = self.read(src)? else {
            return Err(Error::NoSuchKey);
        };
        if src == dst {
            return Ok(!only_if_absent);
        }
        if only_if_absent && self.read(dst)?.is_some() {
            return Ok(false);
        }
        let replaced = self.read(dst)?;
        let mut batch = WriteBatch::default();
        self.copy_record(&mut batch, src, dst, &record)?;
        self.storage()
            .delete(&mut batch, ColumnFamily::Metadata, &self.metadata_key(src));
        self.storage().write(batch)?;
        self.reclaim(src, &record.metadata);
        if let Some(old) = replaced {
            self.reclaim(dst, &old.metadata);
        }
        Ok(true)
    }

    pub fn copy(&self, src: &[u8], dst: &[u8], replace: bool) -> Result<bool> {
        let _guard = self.storage().locks().lock_many(&[src, dst]);
        let Some(record) = self.read(src)? else {
            return Ok(false);
        };
        let replaced = self.read(dst)?;
        if src == dst || (!replace && replaced.is_some()) {
            return Ok(false);
        }
        let mut batch = WriteBatch::default();
        self.copy_record(&mut batch, src, dst, &record)?;
        self.storage().write(batch)?;
        if let Some(old) = replaced {
            self.reclaim(dst, &old.metadata);
        }
        Ok(true)
    }

    /// Walks live keys of the namespace in key order after `after`, calling
    /// `visit` until it returns false or `limit` records were examined.
    /// Returns the last metadata key examined, or None at the end.
    fn walk(
        &self,
        start_after: Option<&[u8]>,
        literal_prefix: &[u8],
        limit: usize,
        visit: impl FnMut(&[u8], &Metadata) -> bool,
    ) -> Result<Option<Vec<u8>>> {
        let storage = self.storage();
        // In cluster mode the slot comes before the key, so keys sharing a
        // literal prefix are spread over every slot: the whole namespace.
        let lower = if storage.prefix().cluster() {
            storage.prefix().namespace_prefix()
        } else {
            self.metadata_key(literal_prefix)
        };
        let upper = prefix_upper_bound(&lower)
            .or_else(|| prefix_upper_bound(&storage.prefix().namespace_prefix()));
        self.walk_range(&lower, upper.as_deref(), start_after, limit, visit)
    }

    /// `walk` over the metadata keys in `[lower, upper)`.
    fn walk_range(
        &self,
        lower: &[u8],
        upper: Option<&[u8]>,
        start_after: Option<&[u8]>,
        limit: usize,
        mut visit: impl FnMut(&[u8], &Metadata) -> bool,
    ) -> Result<Option<Vec<u8>>> {
        let storage = self.storage();
        let mut it = storage.iter(ColumnFamily::Metadata, Some(lower), upper);
        match start_after {
            Some(after) => {
                it.seek(after);
                if it.valid() && it.key() == Some(after) {
                    it.next();
                }
            }
            None => it.seek(lower),
        }
        let now = now_ms();
        let mut examined = 0;
        let mut last = None;
        while let (Some(k), Some(v)) = (it.key(), it.value()) {
            if examined >= limit {
                return Ok(last);
            }
            examined += 1;
            last = Some(k.to_vec());
            if let (Some(user_key), Ok((m, _))) =
                (storage.prefix().user_key_of(k), Metadata::decode(v))
            {
                if !m.is_expired_at(now) && !visit(user_key, &m) {
                    return Ok(last);
                }
            }
            it.next();
        }
        it.status().map_err(basalt_engine::EngineError::from)?;
        Ok(None)
    }

    /// SCAN: examines about `count` keys per call. The cursor maps to the
    /// last key examined (see [`crate::CursorMap`]).
    pub fn scan(
        &self,
        cursor: u64,
        pattern: Option<&[u8]>,
        count: usize,
        kind: Option<&str>,
    ) -> Result<ScanPage> {
        // Redis accepts any number as a cursor. One we never handed out (or
        // have forgotten) restarts the iteration rather than failing.
        let after = match cursor {
            0 => None,
            c => self.cursors().get(c),
        };
        // Redis treats a bare `*` as "no pattern": glob `*` does not match
        // the empty key, but SCAN MATCH * must return it.
        let pattern = pattern.filter(|p| *p != b"*");
        let literal = pattern.map(basalt_glob::literal_prefix).unwrap_or_default();
        let mut keys = Vec::new();
        let last = self.walk(after.as_deref(), &literal, count.max(1), |k, m| {
            let type_ok = kind.is_none_or(|t| m.kind.name().eq_ignore_ascii_case(t));
            if type_ok && pattern.is_none_or(|p| glob_match(p, k, false)) {
                keys.push(k.to_vec());
            }
            true
        })?;
        let cursor = match last {
            Some(k) => self.cursors().insert(k),
            None => 0,
        };
        Ok(ScanPage { cursor, keys })
    }

    pub fn keys(&self, pattern: &[u8]) -> Result<Vec<Vec<u8>>> {
        let literal = basalt_glob::literal_prefix(pattern);
        let mut keys = Vec::new();
        self.walk(None, &literal, usize::MAX, |k, _| {
            if pattern == b"*" || glob_match(pattern, k, false) {
                keys.push(k.to_vec());
            }
            true
        })?;
        Ok(keys)
    }

    /// CLUSTER GETKEYSINSLOT: up to `count` live keys of one hash slot,
    /// read from the slot's contiguous range of the encoding (cluster
    /// mode only; empty otherwise).
    pub fn keys_in_slot(&self, slot: u16, count: usize) -> Result<Vec<Vec<u8>>> {
        let mut keys = Vec::new();
        if count == 0 {
            return Ok(keys);
        }
        let Some(lower) = self.storage().prefix().slot_prefix(slot) else {
            return Ok(keys);
        };
        let upper = prefix_upper_bound(&lower);
        self.walk_range(&lower, upper.as_deref(), None, usize::MAX, |k, _| {
            keys.push(k.to_vec());
            keys.len() < count
        })?;
        Ok(keys)
    }

    /// CLUSTER COUNTKEYSINSLOT: live keys of one hash slot.
    pub fn count_keys_in_slot(&self, slot: u16) -> Result<u64> {
        let Some(lower) = self.storage().prefix().slot_prefix(slot) else {
            return Ok(0);
        };
        let upper = prefix_upper_bound(&lower);
        let mut n = 0;
        self.walk_range(&lower, upper.as_deref(), None, usize::MAX, |_, _| {
            n += 1;
            true
        })?;
        Ok(n)
    }

    /// Exact count of live keys: O(keys), unlike Redis's O(1).
    pub fn dbsize(&self) -> Result<u64> {
        let mut n = 0;
        self.walk(None, b"", usize::MAX, |_, _| {
            n += 1;
            true
        })?;
        Ok(n)
    }

    /// Live keys and keys with a TTL, for INFO keyspace: O(keys).
    pub fn count_keys(&self) -> Result<crate::expire::KeyspaceCount> {
        let mut count = crate::expire::KeyspaceCount::default();
        self.walk(None, b"", usize::MAX, |_, m| {
            count.keys += 1;
            if m.expire_ms != 0 {
                count.expires += 1;
            }
            true
        })?;
        Ok(count)
    }

    /// RANDOMKEY: gathers up to 128 live keys from a random point of the
    /// keyspace (wrapping to the start) and picks one of them uniformly. A
    /// keyspace of up to 128 keys is therefore sampled exactly uniformly;
    /// a larger one approximately, at the cost of one short scan.
    pub fn random_key(&self) -> Result<Option<Vec<u8>>> {
        const SAMPLE: usize = 128;
        let Some(first) = self.first_key()? else {
            return Ok(None);
        };
        let probe = self.metadata_key(&random_probe(&first, &self.last_key()?.unwrap_or_default()));
        let mut sample = Vec::with_capacity(SAMPLE);
        let collect = |k: &[u8], _: &Metadata, sample: &mut Vec<Vec<u8>>| {
            sample.push(k.to_vec());
            sample.len() < SAMPLE
        };
        self.walk(Some(&probe), b"", 10 * SAMPLE, |k, m| {
            collect(k, m, &mut sample)
        })?;
        if sample.len() < SAMPLE {
            self.walk(None, b"", 10 * SAMPLE, |k, m| {
                if sample.first().is_some_and(|f| f.as_slice() == k) {
                    return false;
                }
                collect(k, m, &mut sample)
            })?;
        }
        if sample.is_empty() {
            return Ok(None);
        }
        Ok(Some(
            sample.swap_remove(rand::random_range(0..sample.len())),
        ))
    }

    fn first_key(&self) -> Result<Option<Vec<u8>>> {
        let mut found = None;
        self.walk(None, b"", usize::MAX, |k, _| {
            found = Some(k.to_vec());
            false
        })?;
        Ok(found)
    }

    /// The largest key of the namespace (possibly expired: it only bounds
    /// where a random probe is drawn).
    fn last_key(&self) -> Result<Option<Vec<u8>>> {
        let storage = self.storage();
        let ns = storage.prefix().namespace_prefix();
        let upper = prefix_upper_bound(&ns);
        let mut it = storage.iter(ColumnFamily::Metadata, Some(&ns), upper.as_deref());
        it.seek_to_last();
        Ok(it
            .key()
            .and_then(|k| storage.prefix().user_key_of(k))
            .map(<[u8]>::to_vec))
    }

    /// FLUSHDB/FLUSHALL: range deletes over the namespace in every family
    /// that holds its keys, so space is reclaimed without per-key work.
    pub fn flush(&self) -> Result<()> {
        let storage = self.storage();
        let ns = storage.prefix().namespace_prefix();
        let Some(upper) = prefix_upper_bound(&ns) else {
            return Ok(());
        };
        let mut batch = WriteBatch::default();
        storage.delete_range(&mut batch, ColumnFamily::Metadata, &ns, &upper);
        for cf in ColumnFamily::SUBKEY_FAMILIES {
            storage.delete_range(&mut batch, cf, &ns, &upper);
        }
        storage.write(batch)?;
        Ok(())
    }

    pub fn kind_of(&self, key: &[u8]) -> Result<RedisType> {
        Ok(self.type_of(key)?.unwrap_or(RedisType::None))
    }
}

/// A random key between `first` and `last`: their common prefix, then a
/// random byte between theirs at the first difference, then random bytes.
fn random_probe(first: &[u8], last: &[u8]) -> Vec<u8> {
    let common = first.iter().zip(last).take_while(|(a, b)| a == b).count();
    let mut probe = first[..common].to_vec();
    let lo = first.get(common).copied().unwrap_or(0);
    let hi = last.get(common).copied().unwrap_or(u8::MAX).max(lo);
    probe.push(rand::random_range(lo..=hi));
    probe.extend((0..4).map(|_| rand::random::<u8>()));
    probe
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::database::test_support::open;
    use crate::string::SetOptions;

    #[test]
    fn del_exists_ttl() {
        let t = open();
        let db = &t.db;
        db.set(b"a", b"1", SetOptions::default()).unwrap();
        db.set(b"b", b"2", SetOptions::default()).unwrap();
        assert_eq!(db.exists(&[b"a", b"a", b"c"]).unwrap(), 2);
        assert_eq!(db.ttl(b"a").unwrap(), Ttl::Persistent);
        let at = now_ms() as i64 + 100_000;
        assert!(db.expire_at(b"a", at, ExpireCondition::Always).unwrap());
        assert_eq!(db.ttl(b"a").unwrap(), Ttl::ExpiresAt(at as u64));
        assert!(!db.expire_at(b"a", at, ExpireCondition::NoTtl).unwrap());
        assert!(db.persist(b"a").unwrap());
        assert_eq!(db.del(&[b"a", b"b", b"c"]).unwrap(), 2);
        assert_eq!(db.dbsize().unwrap(), 0);
    }

    #[test]
    fn expired_keys_are_invisible() {
        let t = open();
        let db = &t.db;
        db.set(b"a", b"1", SetOptions::default()).unwrap();
        let past = SetOptions {
            expiry: crate::Expiry::At(now_ms() - 1),
            ..Default::default()
        };
        db.set(b"gone", b"1", past).unwrap();
        assert_eq!(db.get(b"gone").unwrap(), None);
        assert_eq!(db.keys(b"*").unwrap(), vec![b"a".to_vec()]);
        assert_eq!(db.dbsize().unwrap(), 1);
        let mut cycle = crate::expire::ExpireCycle::default();
        let deleted = cycle.step(db, 100).unwrap();
        assert_eq!(deleted, vec![b"gone".to_vec()]);
        assert_eq!(cycle.last_full_pass.unwrap().keys, 1);
    }

    #[test]
    fn scan_visits_every_key_once() {
        let t = open();
        let db = &t.db;
        for i in 0..250 {
            db.set(format!("key:{i}").as_bytes(), b"v", SetOptions::default())
                .unwrap();
        }
        let mut seen = std::collections::BTreeSet::new();
        let mut cursor = 0;
        loop {
            let page = db.scan(cursor, Some(b"key:*"), 10, None).unwrap();
            for k in page.keys {
                assert!(seen.insert(k));
            }
            if page.cursor == 0 {
                break;
            }
            cursor = page.cursor;
        }
        assert_eq!(seen.len(), 250);
        // An unknown cursor restarts the iteration, as any number is a
        // valid cursor in Redis.
        assert_eq!(
            db.scan(12345, Some(b"key:*"), 1000, None)
                .unwrap()
                .keys
                .len(),
            250
        );
    }

    #[test]
    fn random_key_covers_a_small_keyspace() {
        let t = open();
        let db = &t.db;
        assert_eq!(db.random_key().unwrap(), None);
        for i in 0..20 {
            db.set(format!("k{i}").as_bytes(), b"v", SetOptions::default())
                .unwrap();
        }
        let seen: std::collections::HashSet<_> = (0..400)
            .map(|_| db.random_key().unwrap().unwrap())
            .collect();
        assert_eq!(seen.len(), 20);
    }

    #[test]
    fn rename_and_copy_move_a_collections_elements() {
        let t = open();
        let db = &t.db;
        let mut record = db.read_or_create(b"h", RedisType::Hash).unwrap();
        record.metadata.size = 2;
        let version = record.metadata.version;
        let mut batch = WriteBatch::default();
        db.put_record(&mut batch, b"h", &record);
        for (f, v) in [(&b"f1"[..], &b"v1"[..]), (b"f2", b"v2")] {
            db.storage().put(
                &mut batch,
                ColumnFamily::Default,
                &db.subkey(b"h", version, f),
                v,
            );
        }
        db.storage().write(batch).unwrap();
        assert!(matches!(db.get(b"h"), Err(Error::WrongType)));
        assert_eq!(db.mget(&[b"h"]).unwrap(), vec![None]);

        let elements = |key: &[u8]| -> Vec<(Vec<u8>, Vec<u8>)> {
            let r = db.read_typed(key, RedisType::Hash).unwrap().unwrap();
            let prefix = db.subkey_prefix(key, r.metadata.version);
            let mut it = db.iter_subkeys(ColumnFamily::Default, key, r.metadata.version);
            let mut out = Vec::new();
            while let (Some(k), Some(v)) = (it.key(), it.value()) {
                out.push((k[prefix.len()..].to_vec(), v.to_vec()));
                it.next();
            }
            out
        };
        assert!(db.rename(b"h", b"h2", false).unwrap());
        assert_eq!(db.type_of(b"h").unwrap(), None);
        let expected = vec![
            (b"f1".to_vec(), b"v1".to_vec()),
            (b"f2".to_vec(), b"v2".to_vec()),
        ];
        assert_eq!(elements(b"h2"), expected);
        assert!(db.copy(b"h2", b"h3", false).unwrap());
        assert_eq!(elements(b"h3"), expected);
        // The copy is independent: deleting the source leaves it whole.
        assert_eq!(db.del(&[b"h2"]).unwrap(), 1);
        assert_eq!(elements(b"h3"), expected);
        assert_eq!(db.kind_of(b"h3").unwrap(), RedisType::Hash);
    }

    #[test]
    fn deleted_collections_are_reclaimed_in_the_background() {
        let t = open();
        let db = &t.db;
        let mut record = db.read_or_create(b"big", RedisType::Set).unwrap();
        record.metadata.size = 5000;
        let version = record.metadata.version;
        let mut batch = WriteBatch::default();
        db.put_record(&mut batch, b"big", &record);
        for i in 0..5000u32 {
            db.storage().put(
                &mut batch,
                ColumnFamily::Default,
                &db.subkey(b"big", version, &i.to_be_bytes()),
                b"",
            );
        }
        db.storage().write(batch).unwrap();
        let raw_elements = || {
            let mut it = db.iter_subkeys(ColumnFamily::Default, b"big", version);
            let mut n = 0;
            while it.valid() {
                n += 1;
                it.next();
            }
            n
        };
        assert_eq!(raw_elements(), 5000);
        assert_eq!(db.del(&[b"big"]).unwrap(), 1);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while raw_elements() > 0 {
            assert!(
                std::time::Instant::now() < deadline,
                "elements never reclaimed"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    #[test]
    fn rename_and_copy() {
        let t = open();
        let db = &t.db;
        db.set(b"a", b"1", SetOptions::default()).unwrap();
        assert!(matches!(
            db.rename(b"x", b"y", false),
            Err(Error::NoSuchKey)
        ));
        assert!(db.rename(b"a", b"b", false).unwrap());
        assert_eq!(db.get(b"a").unwrap(), None);
        assert!(db.copy(b"b", b"c", false).unwrap());
        assert!(!db.copy(b"b", b"c", false).unwrap());
        assert_eq!(db.get(b"c").unwrap(), Some(b"1".to_vec()));
        db.flush().unwrap();
        assert_eq!(db.dbsize().unwrap(), 0);
    }
}
