//! Sets: one subkey per member in the default column family, empty value.
//! The metadata (type 4) counts the members, exactly as Kvrocks stores a set.
//!
//! Members are kept in RocksDB key order, so SMEMBERS and the set algebra
//! return members sorted bytewise (Redis's order is unspecified anyway).
//! Random picks (SPOP, SRANDMEMBER) are exactly uniform for sets of up to
//! [`EXACT_SAMPLE_MAX`] members; larger sets are sampled with random seeks,
//! O(log N) per pick instead of reading the whole set, at the price of a bias
//! towards members that follow large gaps in key space. SPOP of a few
//! members from a large set sweeps it from a random start in runs of 64
//! adjacent members (skipping a random number before each run) and pops each
//! run in random order over the next calls: consecutive SPOPs return members
//! that are close in byte order. Reads never walk back over earlier pops.

use crate::database::{Database, Record};
use crate::error::Result;
use basalt_engine::{ColumnFamily, EngineError, Metadata, RedisType, StorageIter, WriteBatch};
use basalt_glob::glob_match;
use rand::Rng;
use std::collections::{BTreeSet, HashSet};

/// Up to this many members a random pick reads the whole set and is exactly
/// uniform; above it, picks are random seeks.
pub const EXACT_SAMPLE_MAX: u64 = 1024;

/// SPOP counts up to this use read-ahead runs on large sets.
const SAMPLED_POP_MAX: u64 = 16;
/// Members read per seek for SPOP.
const SAMPLE_RUN: usize = 64;

type StorageKey = Vec<u8>;

/// The set algebra of SINTER/SUNION/SDIFF and their STORE forms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetOp {
    Inter,
    Union,
    Diff,
}

/// One SSCAN page.
#[derive(Debug, PartialEq, Eq)]
pub struct SetScanPage {
    /// 0 when the iteration is complete.
    pub cursor: u64,
    pub members: Vec<Vec<u8>>,
}

impl Database {
    fn read_set(&self, key: &[u8]) -> Result<Option<Record>> {
        self.read_typed(key, RedisType::Set)
    }

    fn set_has(&self, key: &[u8], version: u64, member: &[u8]) -> Result<bool> {
        Ok(self
            .storage()
            .get(ColumnFamily::Default, &self.subkey(key, version, member))?
            .is_some())
    }

    /// Visits the members of one set generation in order until `visit`
    /// returns false.
    fn each_member(
        &self,
        key: &[u8],
        version: u64,
        mut visit: impl FnMut(&[u8]) -> Result<bool>,
    ) -> Result<()> {
        let prefix_len = self.subkey_prefix(key, version).len();
        let mut it = self.iter_subkeys(ColumnFamily::Default, key, version);
        while let Some(k) = it.key() {
            if !visit(k.get(prefix_len..).unwrap_or_default())? {
                return Ok(());
            }
            it.next();
        }
        it.status().map_err(EngineError::from)?;
        Ok(())
    }

    fn all_members(&self, key: &[u8], version: u64) -> Result<Vec<Vec<u8>>> {
        let mut out = Vec::new();
        self.each_member(key, version, |m| {
            out.push(m.to_vec());
            Ok(true)
        })?;
        Ok(out)
    }

    /// Writes a new set generation holding `members` under `key`
    /// (S*STORE, RESTORE), hiding what `key` held before, which the caller
    /// reclaims; no members deletes the key.
    pub(crate) fn put_new_set<'m>(
        &self,
        batch: &mut WriteBatch,
        key: &[u8],
        members: impl ExactSizeIterator<Item = &'m [u8]>,
        expire_ms: u64,
    ) {
        let mut record = Record::new_collection(RedisType::Set, expire_ms);
        record.metadata.size = members.len() as u64;
        for m in members {
            let k = self.subkey(key, record.metadata.version, m);
            self.storage().put(batch, ColumnFamily::Default, &k, b"");
        }
        self.put_record(batch, key, &record);
    }

    pub(crate) fn set_members(&self, key: &[u8], version: u64) -> Result<Vec<Vec<u8>>> {
        self.all_members(key, version)
    }

    /// SADD: returns how many members were new.
    pub fn sadd(&self, key: &[u8], members: &[&[u8]]) -> Result<u64> {
        let _guard = self.storage().locks().lock(key);
        let mut record = self.read_or_create(key, RedisType::Set)?;
        let version = record.metadata.version;
        let mut batch = WriteBatch::default();
        let mut added = HashSet::new();
        for m in members {
            if added.contains(m) || self.set_has(key, version, m)? {
                continue;
            }
            added.insert(*m);
            self.storage().put(
                &mut batch,
                ColumnFamily::Default,
                &self.subkey(key, version, m),
                b"",
            );
        }
        if added.is_empty() {
            return Ok(0);
        }
        record.metadata.size += added.len() as u64;
        self.put_record(&mut batch, key, &record);
        self.storage().write(batch)?;
        Ok(added.len() as u64)
    }

    /// SREM: returns how many members were removed. The key is deleted when
    /// it becomes empty.
    pub fn srem(&self, key: &[u8], members: &[&[u8]]) -> Result<u64> {
        let _guard = self.storage().locks().lock(key);
        let Some(mut record) = self.read_set(key)? else {
            return Ok(0);
        };
        let version = record.metadata.version;
        let mut batch = WriteBatch::default();
        let mut removed = HashSet::new();
        for m in members {
            if removed.contains(m) || !self.set_has(key, version, m)? {
                continue;
            }
            removed.insert(*m);
            self.storage().delete(
                &mut batch,
                ColumnFamily::Default,
                &self.subkey(key, version, m),
            );
        }
        if removed.is_empty() {
            return Ok(0);
        }
        record.metadata.size = record.metadata.size.saturating_sub(removed.len() as u64);
        self.put_record(&mut batch, key, &record);
        self.storage().write(batch)?;
        Ok(removed.len() as u64)
    }

    pub fn scard(&self, key: &[u8]) -> Result<u64> {
        Ok(self.read_set(key)?.map_or(0, |r| r.metadata.size))
    }

    pub fn smembers(&self, key: &[u8]) -> Result<Vec<Vec<u8>>> {
        match self.read_set(key)? {
            Some(r) => self.all_members(key, r.metadata.version),
            None => Ok(Vec::new()),
        }
    }

    pub fn sismember(&self, key: &[u8], member: &[u8]) -> Result<bool> {
        Ok(self.smismember(key, &[member])?.first() == Some(&true))
    }

    pub fn smismember(&self, key: &[u8], members: &[&[u8]]) -> Result<Vec<bool>> {
        let Some(record) = self.read_set(key)? else {
            return Ok(vec![false; members.len()]);
        };
        members
            .iter()
            .map(|m| self.set_has(key, record.metadata.version, m))
            .collect()
    }

    /// Picks `count` random members of a live set: distinct ones when
    /// `unique` (the whole set when `count` >= its size), otherwise with
    /// repetition.
    fn random_members(
        &self,
        key: &[u8],
        meta: &Metadata,
        count: u64,
        unique: bool,
    ) -> Result<Vec<Vec<u8>>> {
        let size = meta.size;
        let mut rng = rand::rng();
        if count == 0 || size == 0 {
            return Ok(Vec::new());
        }
        if unique && count >= size {
            return self.all_members(key, meta.version);
        }
        // Probing for distinct members gets slow as `count` nears `size`
        // (coupon collector), and then the reply is O(size) anyway.
        if size <= EXACT_SAMPLE_MAX || (unique && count.saturating_mul(2) >= size) {
            let mut all = self.all_members(key, meta.version)?;
            if all.is_empty() {
                return Ok(all);
            }
            if unique {
                let amount = (count as usize).min(all.len());
                let picks = rand::seq::index::sample(&mut rng, all.len(), amount);
                let mut chosen: Vec<usize> = picks.into_vec();
                chosen.sort_unstable_by(|a, b| b.cmp(a));
                return Ok(chosen.into_iter().map(|i| all.swap_remove(i)).collect());
            }
            let mut out = Vec::new();
            for _ in 0..count {
                out.push(all[rng.random_range(0..all.len())].clone());
            }
            return Ok(out);
        }
        let mut prober = Prober::new(self, key, meta.version)?;
        let mut out = Vec::new();
        if unique {
            let mut seen = HashSet::new();
            let mut attempts = 0u64;
            while (out.len() as u64) < count {
                attempts += 1;
                if attempts > count.saturating_mul(32).saturating_add(64) {
                    // Bias can starve the probe of unseen members; finish
                    // exactly instead of looping.
                    let mut all = self.all_members(key, meta.version)?;
                    all.retain(|m| !seen.contains(m));
                    let need = (count as usize - out.len()).min(all.len());
                    for i in rand::seq::index::sample(&mut rng, all.len(), need) {
                        out.push(std::mem::take(&mut all[i]));
                    }
                    break;
                }
                let Some(m) = prober.pick(&mut rng)? else {
                    break;
                };
                if seen.insert(m.clone()) {
                    out.push(m);
                }
            }
        } else {
            for _ in 0..count {
                match prober.pick(&mut rng)? {
                    Some(m) => out.push(m),
                    None => break,
                }
            }
        }
        Ok(out)
    }

    /// SRANDMEMBER key count: a positive count gives distinct members, a
    /// negative one `-count` members that may repeat.
    pub fn srandmember(&self, key: &[u8], count: i64) -> Result<Vec<Vec<u8>>> {
        let Some(record) = self.read_set(key)? else {
            return Ok(Vec::new());
        };
        self.random_members(key, &record.metadata, count.unsigned_abs(), count >= 0)
    }

    /// SPOP: removes and returns up to `count` distinct random members.
    pub fn spop(&self, key: &[u8], count: u64) -> Result<Vec<Vec<u8>>> {
        let _guard = self.storage().locks().lock(key);
        let Some(mut record) = self.read_set(key)? else {
            return Ok(Vec::new());
        };
        let popped = if record.metadata.size > EXACT_SAMPLE_MAX && count <= SAMPLED_POP_MAX {
            self.sampled_pop(key, &record.metadata, count)?
        } else {
            self.random_members(key, &record.metadata, count, true)?
        };
        if popped.is_empty() {
            return Ok(popped);
        }
        let version = record.metadata.version;
        let mut batch = WriteBatch::default();
        for m in &popped {
            self.storage().delete(
                &mut batch,
                ColumnFamily::Default,
                &self.subkey(key, version, m),
            );
        }
        let before = record.metadata.size;
        record.metadata.size = before.saturating_sub(popped.len() as u64);
        self.put_record(&mut batch, key, &record);
        self.storage().write(batch)?;
        // Each time the set halves, compact it so random seeks stop
        // walking the pops' tombstones: at most one tombstone per live
        // member between compactions, and O(1) amortised work per pop.
        let after = record.metadata.size;
        if after > EXACT_SAMPLE_MAX && before.ilog2() != after.ilog2() {
            self.compact_generation(key, version);
        }
        Ok(popped)
    }

    /// SPOP of a few members from a large set: members come from runs of
    /// adjacent members (see `PopSamples`), so one seek, the expensive part
    /// in an LSM tree, serves many pops. Runs sweep the set from a random
    /// start, each after skipping a random number of members, which the
    /// next sweep finds.
    fn sampled_pop(&self, key: &[u8], meta: &Metadata, count: u64) -> Result<Vec<Vec<u8>>> {
        let prefix = self.subkey_prefix(key, meta.version);
        let mut out: Vec<Vec<u8>> = Vec::new();
        let mut refills = 0;
        while (out.len() as u64) < count {
            match self.pop_samples().take(&prefix) {
                Some(m) => {
                    if !out.contains(&m) && self.set_has(key, meta.version, &m)? {
                        out.push(m);
                    }
                }
                None => {
                    refills += 1;
                    let cursor = self.pop_samples().cursor(&prefix);
                    let (mut run, end) = self.member_run(key, meta.version, cursor)?;
                    if run.is_empty() || refills > 8 {
                        // Nothing found where the reads land: fall back.
                        let more = count - out.len() as u64;
                        out.extend(self.random_members(key, meta, more, true)?);
                        out.dedup();
                        break;
                    }
                    rand::seq::SliceRandom::shuffle(run.as_mut_slice(), &mut rand::rng());
                    self.pop_samples().put(&prefix, run, end);
                }
            }
        }
        Ok(out)
    }

    /// Up to `SAMPLE_RUN` adjacent members after `cursor` (a storage key;
    /// a random position when `None`), after skipping a random number of
    /// members, wrapping to the start of the set at its end. Returns the
    /// members and the storage key of the last one.
    fn member_run(
        &self,
        key: &[u8],
        version: u64,
        cursor: Option<Vec<u8>>,
    ) -> Result<(Vec<Vec<u8>>, Option<StorageKey>)> {
        let mut rng = rand::rng();
        let prefix = self.subkey_prefix(key, version);
        let mut it = match cursor {
            Some(mut c) => {
                let mut it = self.iter_subkeys_unpositioned(ColumnFamily::Default, key, version);
                c.push(0);
                it.seek(&c);
                it
            }
            None => {
                let mut prober = Prober::new(self, key, version)?;
                prober.pick(&mut rng)?;
                prober.it
            }
        };
        let mut skip = rng.random_range(0..SAMPLE_RUN);
        let mut run: Vec<Vec<u8>> = Vec::new();
        let mut last = None;
        let mut wrapped = false;
        while run.len() < SAMPLE_RUN {
            if !it.valid() {
                it.status().map_err(EngineError::from)?;
                if wrapped {
                    break;
                }
                wrapped = true;
                it.seek(&prefix);
                continue;
            }
            let Some(k) = it.key() else { break };
            if skip > 0 {
                skip -= 1;
            } else {
                let member = k.get(prefix.len()..).unwrap_or_default().to_vec();
                if run.contains(&member) {
                    break;
                }
                run.push(member);
            }
            last = Some(k.to_vec());
            it.next();
        }
        it.status().map_err(EngineError::from)?;
        Ok((run, last))
    }

    pub fn smove(&self, src: &[u8], dst: &[u8], member: &[u8]) -> Result<bool> {
        let _guard = self.storage().locks().lock_many(&[src, dst]);
        let Some(mut from) = self.read_set(src)? else {
            return Ok(false);
        };
        let to = self.read_set(dst)?;
        if src == dst {
            return self.set_has(src, from.metadata.version, member);
        }
        if !self.set_has(src, from.metadata.version, member)? {
            return Ok(false);
        }
        let mut batch = WriteBatch::default();
        self.storage().delete(
            &mut batch,
            ColumnFamily::Default,
            &self.subkey(src, from.metadata.version, member),
        );
        from.metadata.size = from.metadata.size.saturating_sub(1);
        self.put_record(&mut batch, src, &from);
        let mut to = match to {
            Some(r) => r,
            None => Record {
                metadata: Metadata::new(RedisType::Set),
                rest: Vec::new(),
            },
        };
        if !self.set_has(dst, to.metadata.version, member)? {
            self.storage().put(
                &mut batch,
                ColumnFamily::Default,
                &self.subkey(dst, to.metadata.version, member),
                b"",
            );
            to.metadata.size += 1;
            self.put_record(&mut batch, dst, &to);
        }
        self.storage().write(batch)?;
        Ok(true)
    }

    /// Reads every key of a set operation, failing with WRONGTYPE if any of
    /// them holds another type (Redis checks them all, even after a missing
    /// key has already decided the result).
    fn read_sets(&self, keys: &[&[u8]]) -> Result<Vec<Option<Record>>> {
        keys.iter().map(|k| self.read_set(k)).collect()
    }

    /// The members of the intersection, stopping after `limit` (0 = all).
    fn inter_of(
        &self,
        keys: &[&[u8]],
        sets: &[Option<Record>],
        limit: u64,
    ) -> Result<Vec<Vec<u8>>> {
        let mut present = Vec::with_capacity(keys.len());
        for (k, r) in keys.iter().zip(sets) {
            match r {
                Some(r) => present.push((*k, r.metadata.version, r.metadata.size)),
                None => return Ok(Vec::new()),
            }
        }
        // Walking the smallest set bounds the work by its size.
        present.sort_by_key(|p| p.2);
        let Some(&(first, first_version, _)) = present.first() else {
            return Ok(Vec::new());
        };
        let rest = present.get(1..).unwrap_or_default();
        let mut out = Vec::new();
        self.each_member(first, first_version, |m| {
            for (k, v, _) in rest {
                if !self.set_has(k, *v, m)? {
                    return Ok(true);
                }
            }
            out.push(m.to_vec());
            Ok(limit == 0 || (out.len() as u64) < limit)
        })?;
        Ok(out)
    }

    fn compute(&self, op: SetOp, keys: &[&[u8]], sets: &[Option<Record>]) -> Result<Vec<Vec<u8>>> {
        match op {
            SetOp::Inter => self.inter_of(keys, sets, 0),
            SetOp::Union => {
                let mut all = BTreeSet::new();
                for (k, r) in keys.iter().zip(sets) {
                    if let Some(r) = r {
                        self.each_member(k, r.metadata.version, |m| {
                            if !all.contains(m) {
                                all.insert(m.to_vec());
                            }
                            Ok(true)
                        })?;
                    }
                }
                Ok(all.into_iter().collect())
            }
            SetOp::Diff => {
                let (Some(first_key), Some(Some(first))) = (keys.first(), sets.first()) else {
                    return Ok(Vec::new());
                };
                let others: Vec<(&[u8], u64)> = keys
                    .iter()
                    .zip(sets)
                    .skip(1)
                    .filter_map(|(k, r)| r.as_ref().map(|r| (*k, r.metadata.version)))
                    .collect();
                let mut out = Vec::new();
                self.each_member(first_key, first.metadata.version, |m| {
                    for (k, v) in &others {
                        if self.set_has(k, *v, m)? {
                            return Ok(true);
                        }
                    }
                    out.push(m.to_vec());
                    Ok(true)
                })?;
                Ok(out)
            }
        }
    }

    /// SINTER, SUNION, SDIFF.
    pub fn set_op(&self, op: SetOp, keys: &[&[u8]]) -> Result<Vec<Vec<u8>>> {
        let _guard = self.storage().locks().lock_many(keys);
        let sets = self.read_sets(keys)?;
        self.compute(op, keys, &sets)
    }

    /// SINTERCARD: the intersection's size, counting at most `limit`
    /// members (0 = no limit).
    pub fn sintercard(&self, keys: &[&[u8]], limit: u64) -> Result<u64> {
        let _guard = self.storage().locks().lock_many(keys);
        let sets = self.read_sets(keys)?;
        Ok(self.inter_of(keys, &sets, limit)?.len() as u64)
    }

    /// SINTERSTORE, SUNIONSTORE, SDIFFSTORE: replaces `dst` (whatever its
    /// type) with a new set generation holding the result, or deletes it
    /// when the result is empty. Returns the result's size.
    pub fn set_op_store(&self, op: SetOp, dst: &[u8], keys: &[&[u8]]) -> Result<u64> {
        let mut all: Vec<&[u8]> = keys.to_vec();
        all.push(dst);
        let _guard = self.storage().locks().lock_many(&all);
        let sets = self.read_sets(keys)?;
        let result = self.compute(op, keys, &sets)?;
        let replaced = self.read(dst)?;
        let mut batch = WriteBatch::default();
        self.put_new_set(&mut batch, dst, result.iter().map(|m| &m[..]), 0);
        self.storage().write(batch)?;
        if let Some(old) = replaced {
            self.reclaim(dst, &old.metadata);
        }
        Ok(result.len() as u64)
    }

    /// SSCAN: examines up to `count` members after the cursor's last one.
    /// A cursor this process never handed out (or forgot) restarts the
    /// iteration, as for SCAN.
    pub fn sscan(
        &self,
        key: &[u8],
        cursor: u64,
        pattern: Option<&[u8]>,
        count: usize,
    ) -> Result<SetScanPage> {
        let done = SetScanPage {
            cursor: 0,
            members: Vec::new(),
        };
        let Some(record) = self.read_set(key)? else {
            return Ok(done);
        };
        let after = match cursor {
            0 => None,
            c => self.cursors().get(c),
        };
        let pattern = pattern.filter(|p| *p != b"*");
        let version = record.metadata.version;
        let prefix = self.subkey_prefix(key, version);
        let mut it = self.iter_subkeys(ColumnFamily::Default, key, version);
        if let Some(after) = &after {
            let from = self.subkey(key, version, after);
            it.seek(&from);
            if it.key() == Some(from.as_slice()) {
                it.next();
            }
        }
        let mut members = Vec::new();
        let mut examined = 0;
        let mut last = None;
        while let Some(k) = it.key() {
            if examined >= count.max(1) {
                let cursor = match last {
                    Some(m) => self.cursors().insert(m),
                    None => 0,
                };
                return Ok(SetScanPage { cursor, members });
            }
            examined += 1;
            let m = k.get(prefix.len()..).unwrap_or_default();
            if pattern.is_none_or(|p| glob_match(p, m, false)) {
                members.push(m.to_vec());
            }
            last = Some(m.to_vec());
            it.next();
        }
        it.status().map_err(EngineError::from)?;
        Ok(SetScanPage { cursor: 0, members })
    }
}

/// Random seeks into one set generation: a random byte string between the
/// first and last member, then the member at or after it (wrapping to the
/// first).
struct Prober<'a> {
    it: StorageIter<'a>,
    prefix: Vec<u8>,
    first: Vec<u8>,
    last: Vec<u8>,
}

impl<'a> Prober<'a> {
    fn new(db: &'a Database, key: &[u8], version: u64) -> Result<Prober<'a>> {
        let prefix = db.subkey_prefix(key, version);
        let mut it = db.iter_subkeys(ColumnFamily::Default, key, version);
        let first = it.key().map(<[u8]>::to_vec).unwrap_or_default();
        it.seek_to_last();
        let last = it.key().map(<[u8]>::to_vec).unwrap_or_default();
        it.status().map_err(EngineError::from)?;
        Ok(Prober {
            it,
            first: first.get(prefix.len()..).unwrap_or_default().to_vec(),
            last: last.get(prefix.len()..).unwrap_or_default().to_vec(),
            prefix,
        })
    }

    fn pick(&mut self, rng: &mut impl Rng) -> Result<Option<Vec<u8>>> {
        let common = self
            .first
            .iter()
            .zip(&self.last)
            .take_while(|(a, b)| a == b)
            .count();
        let mut target = self.prefix.clone();
        target.extend_from_slice(self.first.get(..common).unwrap_or_default());
        let lo = self.first.get(common).copied().unwrap_or(0);
        let hi = self.last.get(common).copied().unwrap_or(u8::MAX).max(lo);
        target.push(rng.random_range(lo..=hi));
        target.extend((0..8).map(|_| rng.random::<u8>()));
        self.it.seek(&target);
        if !self.it.valid() {
            self.it.seek(&self.prefix);
        }
        let picked = self
            .it
            .key()
            .map(|k| k.get(self.prefix.len()..).unwrap_or_default().to_vec());
        self.it.status().map_err(EngineError::from)?;
        Ok(picked)
    }
}

#[cfg(test)]
mod tests {
    use crate::database::test_support::open;
    use crate::set::SetOp;
    use crate::Error;

    fn v(items: &[&str]) -> Vec<Vec<u8>> {
        items.iter().map(|s| s.as_bytes().to_vec()).collect()
    }

    #[test]
    fn add_remove_members() {
        let t = open();
        let db = &t.db;
        assert_eq!(db.sadd(b"s", &[b"b", b"a", b"b"]).unwrap(), 2);
        assert_eq!(db.sadd(b"s", &[b"a", b"c"]).unwrap(), 1);
        assert_eq!(db.scard(b"s").unwrap(), 3);
        assert_eq!(db.smembers(b"s").unwrap(), v(&["a", "b", "c"]));
        assert!(db.sismember(b"s", b"a").unwrap());
        assert_eq!(
            db.smismember(b"s", &[b"a", b"x", b"c"]).unwrap(),
            vec![true, false, true]
        );
        assert_eq!(db.srem(b"s", &[b"a", b"a", b"x"]).unwrap(), 1);
        assert_eq!(db.srem(b"s", &[b"b", b"c"]).unwrap(), 2);
        assert!(db.read(b"s").unwrap().is_none(), "empty set is deleted");
        assert_eq!(db.smismember(b"nokey", &[b"a"]).unwrap(), vec![false]);
        db.set(b"str", b"x", Default::default()).unwrap();
        assert!(matches!(db.sadd(b"str", &[b"a"]), Err(Error::WrongType)));
        assert!(matches!(db.scard(b"str"), Err(Error::WrongType)));
    }

    #[test]
    fn pop_and_random() {
        let t = open();
        let db = &t.db;
        let members: Vec<String> = (0..50).map(|i| format!("m{i:02}")).collect();
        let refs: Vec<&[u8]> = members.iter().map(|m| m.as_bytes()).collect();
        db.sadd(b"s", &refs).unwrap();
        let r = db.srandmember(b"s", 10).unwrap();
        assert_eq!(r.iter().collect::<std::collections::HashSet<_>>().len(), 10);
        assert_eq!(db.srandmember(b"s", -100).unwrap().len(), 100);
        assert_eq!(db.srandmember(b"s", 100).unwrap().len(), 50);
        let popped = db.spop(b"s", 20).unwrap();
        assert_eq!(popped.len(), 20);
        assert_eq!(db.scard(b"s").unwrap(), 30);
        for p in &popped {
            assert!(!db.sismember(b"s", p).unwrap());
        }
        assert_eq!(db.spop(b"s", 100).unwrap().len(), 30);
        assert!(db.read(b"s").unwrap().is_none());
    }

    #[test]
    fn random_seeks_on_a_large_set() {
        let t = open();
        let db = &t.db;
        let members: Vec<String> = (0..3000).map(|i| format!("member:{i}")).collect();
        let refs: Vec<&[u8]> = members.iter().map(|m| m.as_bytes()).collect();
        db.sadd(b"big", &refs).unwrap();
        let picks = db.srandmember(b"big", 100).unwrap();
        let distinct: std::collections::HashSet<_> = picks.iter().collect();
        assert_eq!(distinct.len(), 100);
        for p in &picks {
            assert!(db.sismember(b"big", p).unwrap());
        }
        assert_eq!(db.srandmember(b"big", -500).unwrap().len(), 500);
        let popped = db.spop(b"big", 1000).unwrap();
        assert_eq!(popped.len(), 1000);
        assert_eq!(db.scard(b"big").unwrap(), 2000);
        assert_eq!(db.smembers(b"big").unwrap().len(), 2000);
    }

    #[test]
    fn single_pops_from_a_large_set_return_every_member_once() {
        let t = open();
        let db = &t.db;
        let members: Vec<String> = (0..4000).map(|i| format!("m:{i}")).collect();
        let refs: Vec<&[u8]> = members.iter().map(|m| m.as_bytes()).collect();
        db.sadd(b"s", &refs).unwrap();
        let mut seen = std::collections::HashSet::new();
        let mut removed = std::collections::HashSet::new();
        for round in 0..4000 {
            // Members removed behind the read-ahead's back are never popped.
            if round % 100 == 0 {
                let victim = format!("m:{}", 3999 - round / 100);
                if db.srem(b"s", &[victim.as_bytes()]).unwrap() == 1 {
                    removed.insert(victim.into_bytes());
                }
            }
            let popped = db.spop(b"s", 1 + (round % 3) as u64).unwrap();
            for m in popped {
                assert!(!removed.contains(&m), "popped a removed member");
                assert!(seen.insert(m), "a member was popped twice");
            }
            if db.scard(b"s").unwrap() == 0 {
                break;
            }
        }
        assert_eq!(seen.len() + removed.len(), 4000);
        assert_eq!(db.scard(b"s").unwrap(), 0);
    }

    #[test]
    fn algebra_and_store() {
        let t = open();
        let db = &t.db;
        db.sadd(b"a", &[b"1", b"2", b"3"]).unwrap();
        db.sadd(b"b", &[b"2", b"3", b"4"]).unwrap();
        assert_eq!(
            db.set_op(SetOp::Inter, &[b"a", b"b"]).unwrap(),
            v(&["2", "3"])
        );
        assert_eq!(
            db.set_op(SetOp::Union, &[b"a", b"b", b"none"]).unwrap(),
            v(&["1", "2", "3", "4"])
        );
        assert_eq!(db.set_op(SetOp::Diff, &[b"a", b"b"]).unwrap(), v(&["1"]));
        assert!(db
            .set_op(SetOp::Inter, &[b"a", b"none"])
            .unwrap()
            .is_empty());
        assert_eq!(db.sintercard(&[b"a", b"b"], 1).unwrap(), 1);
        assert_eq!(db.sintercard(&[b"a", b"b"], 0).unwrap(), 2);
        db.set(b"str", b"x", Default::default()).unwrap();
        assert!(matches!(
            db.set_op(SetOp::Inter, &[b"none", b"str"]),
            Err(Error::WrongType)
        ));
        // The destination may be a source and may hold another type.
        assert_eq!(
            db.set_op_store(SetOp::Union, b"a", &[b"a", b"b"]).unwrap(),
            4
        );
        assert_eq!(db.smembers(b"a").unwrap(), v(&["1", "2", "3", "4"]));
        assert_eq!(
            db.set_op_store(SetOp::Diff, b"str", &[b"a", b"b"]).unwrap(),
            1
        );
        assert_eq!(db.smembers(b"str").unwrap(), v(&["1"]));
        assert_eq!(
            db.set_op_store(SetOp::Inter, b"str", &[b"a", b"none"])
                .unwrap(),
            0
        );
        assert!(db.read(b"str").unwrap().is_none());
    }

    #[test]
    fn move_and_scan() {
        let t = open();
        let db = &t.db;
        db.sadd(b"a", &[b"x", b"y"]).unwrap();
        assert!(db.smove(b"a", b"b", b"x").unwrap());
        assert!(!db.smove(b"a", b"b", b"x").unwrap());
        assert!(db.smove(b"a", b"a", b"y").unwrap());
        assert!(db.smove(b"a", b"b", b"y").unwrap());
        assert!(db.read(b"a").unwrap().is_none());
        assert_eq!(db.smembers(b"b").unwrap(), v(&["x", "y"]));
        assert_eq!(db.scard(b"b").unwrap(), 2);

        let members: Vec<String> = (0..25).map(|i| format!("k{i:02}")).collect();
        let refs: Vec<&[u8]> = members.iter().map(|m| m.as_bytes()).collect();
        db.sadd(b"s", &refs).unwrap();
        let mut seen = Vec::new();
        let mut cursor = 0;
        loop {
            let page = db.sscan(b"s", cursor, None, 10).unwrap();
            assert!(page.members.len() <= 10);
            seen.extend(page.members);
            cursor = page.cursor;
            if cursor == 0 {
                break;
            }
        }
        assert_eq!(seen.len(), 25);
        let page = db.sscan(b"s", 0, Some(b"k1*"), 100).unwrap();
        assert_eq!(page.cursor, 0);
        assert_eq!(page.members.len(), 10);
    }
}
